"""The Settings window's "Chat" page: which chat model (from the catalogue, downloaded here with progress and
Cancel), the system prompt, the temperature and the answer length.

What is installed is read on a background thread (it reads the disk) and fills the list when it comes; a
download runs on its own thread (:class:`~jarvis_desktop.ui.model_download.DownloadRunner`). The page only
edits ``[chat]`` values; the dialog saves them and the window hands them to the engine, which swaps the model
without a restart.
"""

from __future__ import annotations

import dataclasses
import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop import catalog
from jarvis_desktop.catalog import CatalogEntry, DownloadProgress, InstalledState
from jarvis_desktop.config import ChatSettings, Settings
from jarvis_desktop.ui.model_download import DownloadRunner


def _size(n_bytes: float) -> str:
    return f"{n_bytes / 1e9:.1f} GB" if n_bytes >= 1e9 else f"{n_bytes / 1e6:.0f} MB"


def describe_entry(entry: CatalogEntry) -> str:
    """One line for the model list's details: description, size, RAM needed and licence."""
    return (
        f"{entry.description} Download {_size(entry.size_bytes)}, needs about {entry.ram_mib / 1024:.1f} GiB of "
        f"memory. Licence: {entry.licence}."
    )


class _StatesRelay(QObject):
    """Carries the installed states from the reading thread to the GUI thread."""

    done = Signal(list)


class ChatSettingsPage(QWidget):
    """``[chat]`` settings with the model catalogue. ``values(settings) -> ChatSettings``.

    Signals: ``states_loaded()`` once the list shows what is installed; ``download_finished(str)`` (the entry id)
    and ``download_failed(str)`` (the message) after a download.
    """

    states_loaded = Signal()
    download_finished = Signal(str)
    download_failed = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self.states: dict[str, InstalledState] = {}
        self.runner: DownloadRunner | None = None
        column = QVBoxLayout(self)
        form = QFormLayout()
        column.addLayout(form)
        self.model = QComboBox()
        self.model.setObjectName("chatModel")
        for entry in catalog.entries("chat"):
            self.model.addItem(entry.name, entry.id)
        current = settings.chat.model_id or ("smollm2-135m" if not settings.chat.model_path else "")
        if not current:
            self.model.addItem(f"Your file: {settings.chat.model_path}", "")
        self.model.setCurrentIndex(max(0, self.model.findData(current)))
        form.addRow("Chat model", self.model)
        self.details = QLabel()
        self.details.setObjectName("chatModelDetails")
        self.details.setWordWrap(True)
        self.details.setStyleSheet("color: #888")
        form.addRow("", self.details)
        row = QHBoxLayout()
        self.download = QPushButton("Download")
        self.download.setObjectName("downloadModel")
        self.cancel = QPushButton("Cancel download")
        self.cancel.setObjectName("cancelDownload")
        self.cancel.hide()
        self.progress = QProgressBar()
        self.progress.setObjectName("downloadProgress")
        self.progress.setRange(0, 1000)
        self.progress.hide()
        row.addWidget(self.download)
        row.addWidget(self.cancel)
        row.addWidget(self.progress, 1)
        form.addRow("", row)
        self.system_prompt = QPlainTextEdit(settings.chat.system_prompt)
        self.system_prompt.setObjectName("systemPrompt")
        self.system_prompt.setFixedHeight(64)
        form.addRow("System prompt", self.system_prompt)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(settings.chat.temperature)
        self.temperature.setToolTip("Lower = more focused and repeatable; higher = more varied")
        form.addRow("Temperature", self.temperature)
        self.answer_length = QSpinBox()
        self.answer_length.setRange(16, 4096)
        self.answer_length.setSingleStep(64)
        self.answer_length.setSuffix(" tokens")
        self.answer_length.setValue(settings.chat.max_tokens)
        self.answer_length.setToolTip("The longest answer (about 0.75 words per token); a cut answer can be continued")
        form.addRow("Answer length", self.answer_length)

        self.model.currentIndexChanged.connect(self._show_entry)
        self.download.clicked.connect(self.start_download)
        self.cancel.clicked.connect(self.cancel_download)
        self._show_entry()
        relay = _StatesRelay()
        relay.done.connect(self._on_states)
        self._relay = relay
        threading.Thread(target=self._read_states, args=(relay,), name="jarvis-model-states", daemon=True).start()

    # ---- state -------------------------------------------------------------------------------------
    def _read_states(self, relay: _StatesRelay) -> None:
        relay.done.emit([catalog.state(entry, self._settings) for entry in catalog.entries("chat")])

    def _on_states(self, states: list[InstalledState]) -> None:
        self.states = {s.entry.id: s for s in states}
        for index in range(self.model.count()):
            entry_id = self.model.itemData(index)
            found = self.states.get(entry_id)
            if found is not None:
                mark = "" if found.installed else f" (download {_size(found.entry.size_bytes)})"
                self.model.setItemText(index, found.entry.name + mark)
        self._show_entry()
        self.states_loaded.emit()

    def selected_entry(self) -> CatalogEntry | None:
        """The catalogue entry chosen in the list (None for a file the user set by hand)."""
        entry_id = self.model.currentData()
        return catalog.get_entry(entry_id) if entry_id else None

    def _show_entry(self) -> None:
        entry = self.selected_entry()
        if entry is None:
            self.details.setText("A GGUF file set by hand in settings.toml.")
            self.download.hide()
            return
        found = self.states.get(entry.id)
        installed = found is not None and found.installed
        text = describe_entry(entry)
        if found is not None and found.partial_bytes and not installed:
            text += f" {_size(found.partial_bytes)} already downloaded: the download resumes."
        self.details.setText(text)
        downloading = self.runner is not None and self.runner.running
        self.download.setVisible(found is not None and not installed and not downloading)

    # ---- downloads -----------------------------------------------------------------------------------
    def start_download(self) -> None:
        """Download the selected model (resuming a partial download); progress shows under the list."""
        entry = self.selected_entry()
        if entry is None or (self.runner is not None and self.runner.running):
            return
        runner = DownloadRunner(entry, self._settings, self)
        runner.progress.connect(self._on_progress)
        runner.finished.connect(lambda _path: self._on_download_done(entry.id, ""))
        runner.failed.connect(lambda message: self._on_download_done(entry.id, message))
        runner.cancelled.connect(lambda: self._on_download_done(entry.id, "Download cancelled: it resumes next time."))
        self.runner = runner
        self.download.hide()
        self.cancel.show()
        self.progress.setValue(0)
        self.progress.setFormat(f"{entry.name}: starting…")
        self.progress.show()
        self.model.setEnabled(False)
        runner.start()

    def cancel_download(self) -> None:
        """Stop the running download (the partial file is kept)."""
        if self.runner is not None:
            self.runner.cancel()

    def _on_progress(self, report: DownloadProgress) -> None:
        self.progress.setValue(int(report.fraction * 1000))
        verb = "checking" if report.phase == "verify" else "downloading"
        self.progress.setFormat(f"{verb} {_size(report.done_bytes)} of {_size(report.total_bytes)}")

    def _on_download_done(self, entry_id: str, error: str) -> None:
        self.cancel.hide()
        self.model.setEnabled(True)
        if error:
            self.progress.setFormat(error)
            self.download_failed.emit(error)
        else:
            self.progress.setValue(1000)
            self.progress.setFormat("Downloaded and verified: Save to use it.")
        threading.Thread(target=self._read_states, args=(self._relay,), daemon=True).start()
        if not error:
            self.download_finished.emit(entry_id)

    # ---- values --------------------------------------------------------------------------------------
    def values(self, settings: Settings) -> ChatSettings:
        """``settings.chat`` with this page's values. A catalogue model that is not installed yet keeps the
        current model (the dialog says so)."""
        chat = dataclasses.replace(
            settings.chat,
            system_prompt=self.system_prompt.toPlainText().strip(),
            temperature=round(self.temperature.value(), 2),
            max_tokens=self.answer_length.value(),
        )
        entry = self.selected_entry()
        found = self.states.get(entry.id) if entry is not None else None
        if entry is not None and found is not None and found.installed and found.path is not None:
            chat.model_id = entry.id
            chat.model_path = "" if entry.embedded else str(found.path)
        return chat

    def pending_choice(self) -> str | None:
        """The name of a chosen model that is not installed (so it cannot be used yet), else None."""
        entry = self.selected_entry()
        found = self.states.get(entry.id) if entry is not None else None
        return entry.name if entry is not None and found is not None and not found.installed else None
