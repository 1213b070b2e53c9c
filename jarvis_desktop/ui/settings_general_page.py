"""The Settings window's "General" page: the time zone reminders and answers use, the weather location, and (on
Linux) the desktop integration: "Show in the applications menu" and "Start at login (in the tray)"
(:mod:`jarvis_desktop.desktop_integration`; they show what is installed when the dialog opens and are applied
when it is saved).

The zone list (about 600 IANA names, read from the tz database on disk) is filled on a background thread; the
field also takes a typed name, checked when saved.
"""

from __future__ import annotations

import dataclasses
import threading
import zoneinfo

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QFormLayout, QLabel, QLineEdit, QWidget

from jarvis_desktop import desktop_integration
from jarvis_desktop.config import NluSettings, Settings, WeatherSettings
from jarvis_desktop.errors import BadInputError

SYSTEM_ZONE = "System time zone"


class _Relay(QObject):
    zones = Signal(list)


class GeneralSettingsPage(QWidget):
    """``[nlu] timezone`` and ``[weather] location``. ``zones_loaded()`` once the zone list is filled."""

    zones_loaded = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        form = QFormLayout(self)
        self.timezone = QComboBox()
        self.timezone.setObjectName("timezone")
        self.timezone.setEditable(True)
        self.timezone.addItem(SYSTEM_ZONE)
        if settings.nlu.timezone:
            self.timezone.addItem(settings.nlu.timezone)
        self.timezone.setCurrentText(settings.nlu.timezone or SYSTEM_ZONE)
        form.addRow("Time zone", self.timezone)
        note = QLabel("Reminders, alarms and “what time is it” use it. Example: Europe/Lisbon.")
        note.setWordWrap(True)
        note.setStyleSheet("color: #888")
        form.addRow("", note)
        self.location = QLineEdit(settings.weather.location)
        self.location.setObjectName("weatherLocation")
        self.location.setPlaceholderText("a city, e.g. Lisbon (empty: ask “weather in Lisbon”)")
        form.addRow("Weather location", self.location)
        self.menu_entry = QCheckBox("Show in the applications menu")
        self.menu_entry.setObjectName("desktopMenuEntry")
        self.autostart = QCheckBox("Start at login (in the tray)")
        self.autostart.setObjectName("desktopAutostart")
        status = desktop_integration.desktop_status()  # two tiny files, read once here
        self._desktop_was = (status.menu_entry, status.autostart)
        self.menu_entry.setChecked(status.menu_entry)
        self.autostart.setChecked(status.autostart)
        if desktop_integration.supported():
            form.addRow("Desktop", self.menu_entry)
            form.addRow("", self.autostart)
        self._relay = _Relay()
        self._relay.zones.connect(self._on_zones)
        threading.Thread(target=self._read_zones, name="jarvis-zones", daemon=True).start()

    def _read_zones(self) -> None:
        self._relay.zones.emit(sorted(zoneinfo.available_timezones()))

    def _on_zones(self, zones: list[str]) -> None:
        typed = self.timezone.currentText()
        self.timezone.blockSignals(True)
        self.timezone.clear()
        self.timezone.addItem(SYSTEM_ZONE)
        self.timezone.addItems(zones)
        self.timezone.setCurrentText(typed)
        self.timezone.blockSignals(False)
        self.zones_loaded.emit()

    def apply_desktop(self) -> list[str]:
        """Install or remove the menu entry / autostart entry where a box changed since the dialog opened; returns
        the files written and removed (``[]`` when nothing changed).

        Raises:
            BadInputError: a directory that cannot be written, or no ``jarvis-desktop`` launcher found.
        """
        changed: list[str] = []
        menu, auto = self.menu_entry.isChecked(), self.autostart.isChecked()
        if menu != self._desktop_was[0]:
            result = desktop_integration.set_menu_entry(menu)
            changed += result.written + result.removed
        if auto != self._desktop_was[1]:
            result = desktop_integration.set_autostart(auto)
            changed += result.written + result.removed
        self._desktop_was = (menu, auto)
        return changed

    def values(self, settings: Settings) -> tuple[NluSettings, WeatherSettings]:
        """``settings.nlu`` and ``settings.weather`` with this page's values.

        Raises:
            BadInputError: a time zone name the tz database does not know.
        """
        zone = self.timezone.currentText().strip()
        if zone == SYSTEM_ZONE:
            zone = ""
        if zone:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
                raise BadInputError(f"unknown time zone {zone!r}: pick one from the list, e.g. Europe/Lisbon") from exc
        nlu = dataclasses.replace(settings.nlu, timezone=zone)
        weather = dataclasses.replace(settings.weather, location=" ".join(self.location.text().split()))
        return nlu, weather
