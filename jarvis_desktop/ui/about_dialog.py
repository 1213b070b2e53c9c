"""Help → About Jarvis Desktop: the version, the libraries' versions, every model's licence, where data lives.

Library versions come from the installed packages' metadata (:mod:`importlib.metadata`): nothing heavy
(llama_cpp, faster_whisper, ctranslate2, onnxruntime) is imported on the GUI thread to ask. The model table is
:func:`jarvis_desktop.model_licences.models_in_use`. Each data location has a button opening its folder in the
desktop's file manager; a data dir that cannot be created shows why instead of a path.
"""

from __future__ import annotations

import importlib.metadata
import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import PySide6
from PySide6.QtCore import Qt, QUrl, qVersion
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

import jarvis_desktop
from jarvis_desktop import catalog
from jarvis_desktop.config import Settings, data_dir, database_path, load_settings, settings_path
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.jobs.runner import jobs_root
from jarvis_desktop.model_licences import ModelLicence, models_in_use

#: (label, distribution name) of the libraries the About box reports, after Python, Qt and PySide6.
LIBRARIES = (
    ("llama-cpp-python", "llama-cpp-python"),
    ("faster-whisper", "faster-whisper"),
    ("CTranslate2", "ctranslate2"),
    ("ONNX Runtime", "onnxruntime"),
)


def _dist_version(name: str) -> str:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def library_versions() -> list[tuple[str, str]]:
    """``[(name, version), ...]``: Jarvis Desktop, Python, Qt, PySide6 and :data:`LIBRARIES` ("not installed" when
    a package is missing). Reads package metadata only."""
    rows = [
        ("Jarvis Desktop", jarvis_desktop.__version__),
        ("Python", platform.python_version()),
        ("Qt", qVersion()),
        ("PySide6", PySide6.__version__),
    ]
    rows += [(label, _dist_version(dist)) for label, dist in LIBRARIES]
    return rows


@dataclass(frozen=True)
class DataLocation:
    """One place Jarvis keeps files: ``label``, ``path`` (None when it cannot be known) and ``error`` (why not)."""

    label: str
    path: Path | None
    error: str = ""

    def folder(self) -> Path | None:
        """The folder to open: ``path`` if it is a directory, else its nearest existing parent (None if none)."""
        if self.path is None:
            return None
        candidate = self.path if self.path.is_dir() else self.path.parent
        while not candidate.exists() and candidate != candidate.parent:
            candidate = candidate.parent
        return candidate if candidate.exists() else None


def _location(label: str, where: Callable[[], Path]) -> DataLocation:
    try:
        return DataLocation(label, where())
    except JarvisError as exc:
        return DataLocation(label, None, exc.user_message())
    except OSError as exc:
        return DataLocation(label, None, str(exc))


def data_locations(settings: Settings) -> list[DataLocation]:
    """Settings file, database, downloaded models, trained adapters, training jobs (with their logs); never
    raises (a data dir that cannot be created gives ``path=None`` and the reason)."""
    return [
        _location("Settings file", settings_path),
        _location("Database (chats, notes, reminders)", database_path),
        _location("Downloaded models", lambda: catalog.models_root(settings)),
        _location("Trained adapters", lambda: data_dir() / "adapters"),
        _location("Training jobs and their logs", jobs_root),
    ]


def open_folder(path: Path) -> bool:
    """Open ``path`` in the desktop's file manager; False when the desktop refused."""
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))


def _table(headers: list[str], rows: list[list[str]], tips: list[str] | None = None) -> QTableWidget:
    table = QTableWidget(len(rows), len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.setWordWrap(True)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            if tips and tips[r]:
                item.setToolTip(tips[r])
            table.setItem(r, c, item)
    header = table.horizontalHeader()
    for c in range(len(headers)):
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(len(headers) - 1, QHeaderView.ResizeMode.Stretch)
    header.sectionResized.connect(lambda *_: table.resizeRowsToContents())  # wrapped text gets its height
    table.resizeRowsToContents()
    return table


class AboutDialog(QDialog):
    """The About box (see the module docstring). ``models``, ``versions`` and ``locations`` hold what it shows.

    Args:
        settings: the settings in use; None = read ``settings.toml`` (the defaults if it is unreadable).
    """

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if settings is None:
            try:
                settings = load_settings()
            except JarvisError:
                settings = Settings()
        self.setObjectName("aboutDialog")
        self.setWindowTitle("About Jarvis Desktop")
        self.resize(960, 540)
        self.models: list[ModelLicence] = models_in_use(settings)
        self.versions = library_versions()
        self.locations = data_locations(settings)

        column = QVBoxLayout(self)
        head = QHBoxLayout()
        icon = QLabel()
        app_icon = self.windowIcon()
        if not app_icon.isNull():
            icon.setPixmap(app_icon.pixmap(48, 48))
        head.addWidget(icon)
        title = QLabel(
            f"<b style='font-size:15pt'>Jarvis Desktop {jarvis_desktop.__version__}</b><br>"
            "An offline-first voice assistant. Code: MIT licence. The models below keep their own licences."
        )
        title.setWordWrap(True)
        head.addWidget(title, 1)
        column.addLayout(head)

        self.tabs = QTabWidget()
        self.models_table = _table(
            ["Role", "Model", "From", "Licence"],
            [[m.role, m.model, m.source, m.licence + (f" ({m.note})" if m.note else "")] for m in self.models],
            [m.details for m in self.models],
        )
        self.models_table.setObjectName("modelLicences")
        self.tabs.addTab(self.models_table, "Models and licences")
        self.versions_table = _table(["Component", "Version"], [list(v) for v in self.versions])
        self.versions_table.setObjectName("versions")
        self.tabs.addTab(self.versions_table, "Versions")
        self.tabs.addTab(self._locations_page(), "Where your data lives")
        column.addWidget(self.tabs, 1)

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        column.addWidget(buttons)

    def _locations_page(self) -> QWidget:
        page = QWidget()
        grid = QGridLayout(page)
        self.open_buttons: dict[str, QPushButton] = {}
        for row, place in enumerate(self.locations):
            grid.addWidget(QLabel(f"<b>{place.label}</b>"), row, 0)
            shown = QLabel(str(place.path) if place.path is not None else f"unavailable: {place.error}")
            shown.setWordWrap(True)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            grid.addWidget(shown, row, 1)
            button = QPushButton("Open folder")
            folder = place.folder()
            button.setEnabled(folder is not None)
            if folder is not None:
                button.setToolTip(str(folder))
                button.clicked.connect(lambda _checked=False, f=folder: open_folder(f))
            self.open_buttons[place.label] = button
            grid.addWidget(button, row, 2)
        note = QLabel(
            "The app logs to the terminal it was started from; each training job writes job.log in its folder."
        )
        note.setWordWrap(True)
        note.setStyleSheet("color: #888")
        grid.addWidget(note, len(self.locations), 0, 1, 3)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(len(self.locations) + 1, 1)
        return page
