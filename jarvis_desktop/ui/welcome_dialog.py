"""The first-run welcome tour: microphone test, the ways to talk to Jarvis, a bigger chat model.

Shown once, after the main window first appears (``MainWindow(first_run=None)`` reads :func:`welcome_seen`), and
again from Help → Welcome tour…. Pages: welcome, microphone (a live level: :mod:`jarvis_desktop.ui.mic_level`),
talking to Jarvis (push-to-talk, the global hotkey from ``[voice] hotkey``, the "hey Jarvis" wake word and its
licence), a bigger chat model (downloaded with :class:`~jarvis_desktop.ui.model_download.DownloadRunner`, as in
Settings → Chat). "Skip" on every page closes it.

Seen or not is ``welcome_seen`` in ``<data dir>/ui_state.json``, written when the tour closes (finished or
skipped). A data dir that cannot be read or written never stops the window: the tour then shows again on the
next start and the reason is logged. ``JARVIS_DESKTOP_NO_WELCOME=1`` in the environment never shows it on its
own (tests, kiosk and scripted starts); Help still opens it.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from jarvis_desktop import catalog
from jarvis_desktop.catalog import CatalogEntry, DownloadProgress
from jarvis_desktop.config import Settings, data_dir, load_settings
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.model_licences import WAKE_WORD_LICENCE
from jarvis_desktop.safe_write import write_atomically
from jarvis_desktop.ui.mic_level import MicLevelMeter, MicLevelSource
from jarvis_desktop.ui.model_download import DownloadRunner
from jarvis_desktop.ui.settings_chat_page import describe_entry
from jarvis_desktop.ui.settings_speech_page import describe_level

log = logging.getLogger(__name__)

NO_WELCOME_ENV = "JARVIS_DESKTOP_NO_WELCOME"
STATE_FILE = "ui_state.json"
SUGGESTED_MODEL = "qwen2.5-0.5b"
"""The chat model preselected on the model page: the smallest catalogue upgrade (491 MB, 0.7 GiB of memory)."""


def state_path() -> Path:
    """``<data dir>/ui_state.json`` (BadInputError if the data dir cannot be created)."""
    return data_dir() / STATE_FILE


def welcome_seen() -> bool:
    """True once the tour was closed on this data dir, or when ``JARVIS_DESKTOP_NO_WELCOME`` is set; False on a
    first start and when the state cannot be read (logged; never raises)."""
    if os.environ.get(NO_WELCOME_ENV, "").strip() not in ("", "0"):
        return True
    try:
        data = json.loads(state_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError, JarvisError) as exc:
        log.warning("first-run state unreadable, the welcome tour shows: %s", exc)
        return False
    return isinstance(data, dict) and bool(data.get("welcome_seen"))


def mark_welcome_seen() -> str | None:
    """Record that the tour was seen; returns None, or why it could not be written (logged; never raises)."""
    try:
        path = state_path()
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {}
        if not isinstance(data, dict):
            data = {}
        data["welcome_seen"] = True
        write_atomically(path, json.dumps(data, indent=2) + "\n")
    except (OSError, JarvisError) as exc:
        message = exc.user_message() if isinstance(exc, JarvisError) else str(exc)
        log.warning("could not record that the welcome tour was seen: %s", message)
        return message
    return None


def hotkey_label(combo: str) -> str:
    """pynput's ``<ctrl>+<alt>+j`` as a user reads it: ``Ctrl+Alt+J`` ("" stays "")."""
    parts = [p.strip().strip("<>").replace("_", " ") for p in combo.split("+") if p.strip()]
    return "+".join(p.upper() if len(p) == 1 else p.title() for p in parts)


def _text(html: str) -> QLabel:
    label = QLabel(html)
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.RichText)
    label.setOpenExternalLinks(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    return label


class IntroPage(QWizardPage):
    """What Jarvis is, and what the tour does."""

    def __init__(self) -> None:
        super().__init__()
        self.setTitle("Welcome to Jarvis")
        self.setSubTitle("An assistant you talk to, running on this computer.")
        column = QVBoxLayout(self)
        column.addWidget(
            _text(
                "<p>Jarvis hears you, sets reminders, timers and alarms, takes notes, opens apps and answers "
                "questions. Speech recognition, understanding and the chat model all run here: nothing you say "
                "leaves this computer unless you set up a remote model yourself.</p>"
                "<p>This short tour tests your microphone, shows the ways to talk to Jarvis and offers a bigger "
                "chat model. <b>Skip</b> closes it at any time; <b>Help → Welcome tour…</b> brings it back.</p>"
            )
        )
        column.addStretch(1)


class MicPage(QWizardPage):
    """A live level of the microphone ``[audio] device`` picks; a plain message when there is none."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.setTitle("Your microphone")
        self.setSubTitle("Say something: the bar should follow your voice.")
        self.source = MicLevelSource(settings.audio, self)
        column = QVBoxLayout(self)
        device = settings.audio.device or "the system's default input"
        column.addWidget(_text(f"Jarvis listens on <b>{device}</b> (change it in Tools → Settings → Speech)."))
        self.meter = MicLevelMeter()
        column.addWidget(self.meter)
        self.status = QLabel("Opening the microphone…")
        self.status.setObjectName("micStatus")
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        column.addStretch(1)
        self.source.level.connect(self._on_level)
        self.source.opened.connect(lambda: self.status.setText("Listening. Speak at your normal distance."))
        self.source.failed.connect(self._on_failed)

    def start(self) -> None:
        """Open the microphone (background thread) and reset the meter."""
        self.meter.reset()
        if not self.source.running:
            self.status.setText("Opening the microphone…")
        self.source.start()

    def stop(self) -> None:
        """Close the microphone."""
        self.source.stop()

    def _on_level(self, dbfs: float) -> None:
        self.meter.set_level(dbfs)
        self.status.setText(f"Now {max(dbfs, -99):.0f} dBFS. {describe_level(self.source.peak_dbfs)}")

    def _on_failed(self, message: str) -> None:
        self.status.setText(
            f"<b>{message}</b><br>You can go on without one: type your requests, or open an audio file "
            "(File → Open audio file…). Plug a microphone in later and choose it in Tools → Settings → Speech."
        )


class TalkPage(QWizardPage):
    """Push-to-talk, the global hotkey and the wake word, with the configured hotkey and the wake word's licence."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.setTitle("Three ways to talk to Jarvis")
        self.setSubTitle("Typing works too: the box at the bottom of the window.")
        key = hotkey_label(settings.voice.hotkey)
        if key:
            hotkey = (
                f"Hold <b>{key}</b> anywhere, even while another application has focus or Jarvis sits in the "
                "tray, speak, and let go. Change it in Tools → Settings → General."
            )
        else:
            hotkey = "No global hotkey is set: choose one in Tools → Settings → General."
        wake_state = "" if settings.voice.wake_word else " (the wake word is off in your settings: turn it on there)"
        self.label = _text(
            "<p><b>Push-to-talk.</b> Hold the microphone button, speak, release: Jarvis answers. A quick click "
            "starts listening and a second click sends; <b>Ctrl+M</b> does the same from the keyboard.</p>"
            f"<p><b>Global hotkey.</b> {hotkey}</p>"
            "<p><b>Hands-free with “hey Jarvis”.</b> Turn on <b>Hands-free</b> in the toolbar, then say "
            f"“hey Jarvis” followed by your request{wake_state}. After a reply you can go on for a few seconds "
            "without the wake word.</p>"
            f"<p style='color:#888'>The “hey Jarvis” model is openWakeWord’s, licensed <b>{WAKE_WORD_LICENCE}</b>: "
            "free for personal, <b>non-commercial</b> use only, share-alike. Help → About Jarvis Desktop lists the "
            "licence of every model.</p>"
        )
        self.label.setObjectName("talkText")
        column = QVBoxLayout(self)
        column.addWidget(self.label)
        column.addStretch(1)


class ModelPage(QWizardPage):
    """Offers a bigger chat model from the catalogue; the download runs on its own thread and reports here."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings
        self.runner: DownloadRunner | None = None
        self.setTitle("A bigger chat model (optional)")
        self.setSubTitle("Better answers to open questions, for a download and more memory.")
        column = QVBoxLayout(self)
        column.addWidget(
            _text(
                "Jarvis answers chat questions with SmolLM2 135M, a small model that ships with it. Commands "
                "(reminders, timers, notes) do not need a bigger one. You can do this later in Tools → Settings → "
                "Chat."
            )
        )
        self.model = QComboBox()
        self.model.setObjectName("welcomeModel")
        for entry in catalog.entries("chat"):
            if not entry.embedded:
                self.model.addItem(entry.name, entry.id)
        self.model.setCurrentIndex(max(0, self.model.findData(SUGGESTED_MODEL)))
        column.addWidget(self.model)
        self.details = QLabel()
        self.details.setWordWrap(True)
        self.details.setStyleSheet("color: #888")
        column.addWidget(self.details)
        row = QHBoxLayout()
        self.download = QPushButton("Download")
        self.download.setObjectName("welcomeDownload")
        self.cancel = QPushButton("Cancel download")
        self.cancel.hide()
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.hide()
        for button in (self.download, self.cancel):
            button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            row.addWidget(button)
        row.addWidget(self.progress, 1)
        row.addStretch(0)
        column.addLayout(row)
        self.status = QLabel()
        self.status.setObjectName("downloadStatus")
        self.status.setWordWrap(True)
        column.addWidget(self.status)
        column.addStretch(1)
        self.model.currentIndexChanged.connect(self._show_entry)
        self.download.clicked.connect(self.start_download)
        self.cancel.clicked.connect(self.cancel_download)
        self._show_entry()

    def selected_entry(self) -> CatalogEntry:
        """The catalogue entry chosen in the list."""
        return catalog.get_entry(str(self.model.currentData()))

    def _show_entry(self) -> None:
        self.details.setText(describe_entry(self.selected_entry()))

    def start_download(self) -> None:
        """Download the chosen model (resuming a partial one); the result shows under the progress bar."""
        if self.runner is not None and self.runner.running:
            return
        entry = self.selected_entry()
        runner = DownloadRunner(entry, self.settings, self)
        runner.progress.connect(self._on_progress)
        runner.finished.connect(lambda _path: self._done(""))
        runner.failed.connect(self._done)
        runner.cancelled.connect(lambda: self._done("Download cancelled: it resumes where it stopped next time."))
        self.runner = runner
        self.download.setEnabled(False)
        self.model.setEnabled(False)
        self.cancel.show()
        self.progress.setValue(0)
        self.progress.setFormat("starting…")
        self.progress.show()
        self.status.setStyleSheet("")
        self.status.setText(f"Downloading {entry.name}…")
        runner.start()

    def cancel_download(self) -> None:
        """Stop a running download (its partial file stays for a later resume)."""
        if self.runner is not None and self.runner.running:
            self.runner.cancel()

    def _on_progress(self, report: DownloadProgress) -> None:
        self.progress.setValue(int(report.fraction * 1000))
        self.progress.setFormat(f"{report.done_bytes / 1e6:.0f} of {report.total_bytes / 1e6:.0f} MB")

    def _done(self, error: str) -> None:
        self.cancel.hide()
        self.download.setEnabled(True)
        self.model.setEnabled(True)
        if error:
            self.progress.hide()
            self.status.setStyleSheet("color: #d9534f")
            self.status.setText(f"The download failed: {error}")
        else:
            self.progress.setValue(1000)
            self.progress.setFormat("done")
            self.status.setStyleSheet("")
            self.status.setText("Downloaded and verified. To use it: Tools → Settings → Chat, choose it and Save.")


class WelcomeDialog(QWizard):
    """The tour (see the module docstring). Show it with ``open()`` or ``show()``, never ``exec()``.

    Attributes:
        flag_error: why "seen" could not be recorded when it closed (None: recorded, or not closed yet).

    Args:
        settings: the settings in use (the microphone, the hotkey, the hub); None = read ``settings.toml`` (the
            defaults if it is unreadable).
    """

    def __init__(self, settings: Settings | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if settings is None:
            try:
                settings = load_settings()
            except JarvisError:
                settings = Settings()
        self.setObjectName("welcomeDialog")
        self.setWindowTitle("Welcome to Jarvis")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnStartPage, True)
        self.setButtonText(QWizard.WizardButton.CancelButton, "Skip")
        self.setButtonText(QWizard.WizardButton.FinishButton, "Done")
        self.button(QWizard.WizardButton.CancelButton).setObjectName("welcomeSkip")
        self.setMinimumSize(600, 440)
        self.flag_error: str | None = None
        self.intro_page = IntroPage()
        self.mic_page = MicPage(settings)
        self.talk_page = TalkPage(settings)
        self.model_page = ModelPage(settings)
        self.mic_id = -1
        for page in (self.intro_page, self.mic_page, self.talk_page, self.model_page):
            page_id = self.addPage(page)
            if page is self.mic_page:
                self.mic_id = page_id
        self.currentIdChanged.connect(self._on_page)
        self.finished.connect(self._on_finished)

    def skip(self) -> None:
        """Close the tour as the Skip button does."""
        self.reject()

    def _on_page(self, page_id: int) -> None:
        if page_id == self.mic_id:
            self.mic_page.start()
        else:
            self.mic_page.stop()

    def _on_finished(self, _result: int) -> None:
        self.mic_page.stop()
        self.model_page.cancel_download()
        self.flag_error = mark_welcome_seen()
