"""The Settings window's "Speech" page: the speech-to-text model and language, and the microphone with a
level test.

The device list comes from PortAudio on a background thread (enumerating can take a second); the level test
opens the chosen microphone for :data:`TEST_SECONDS` on a background thread
(:class:`~jarvis_desktop.audio.capture.MicCapture`) and shows the level of each block as it arrives.
"""

from __future__ import annotations

import dataclasses
import threading

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QWidget,
)

from jarvis_desktop.audio.capture import MicCapture, list_input_devices
from jarvis_desktop.config import AudioSettings, Settings, SttSettings
from jarvis_desktop.errors import JarvisError

#: (``[stt] model``, label).
STT_MODELS = (
    ("tiny.en", "Fast, English only (Whisper tiny.en)"),
    ("base", "Accurate / other languages (Whisper base)"),
)
#: (Whisper language code, label); "auto" detects the language of each utterance.
LANGUAGES = (
    ("auto", "Detect automatically"),
    ("en", "English"),
    ("fr", "French"),
    ("de", "German"),
    ("es", "Spanish"),
    ("it", "Italian"),
    ("pt", "Portuguese"),
    ("nl", "Dutch"),
    ("pl", "Polish"),
    ("ru", "Russian"),
    ("uk", "Ukrainian"),
    ("tr", "Turkish"),
    ("ja", "Japanese"),
    ("zh", "Chinese"),
    ("hi", "Hindi"),
    ("ar", "Arabic"),
)
TEST_SECONDS = 3.0
#: dBFS the level bar spans (silence at the bottom, clipping at the top).
FLOOR_DB = -70.0


def describe_level(peak_db: float) -> str:
    """What a test's loudest block means for speech recognition (thresholds: speech at arm's length reads about
    -35 to -15 dBFS on a laptop microphone; the VAD needs the voice well above the room's noise)."""
    if peak_db < -55:
        return f"Loudest {peak_db:.0f} dBFS: nothing heard. Check the device and that it is not muted."
    if peak_db < -40:
        return f"Loudest {peak_db:.0f} dBFS: very quiet. Speak closer or raise the input volume."
    if peak_db > -3:
        return f"Loudest {peak_db:.0f} dBFS: clipping. Lower the input volume."
    return f"Loudest {peak_db:.0f} dBFS: good."


class _Relay(QObject):
    devices = Signal(list)
    level = Signal(float)
    test_done = Signal(str)


class SpeechSettingsPage(QWidget):
    """``[stt]`` model and language, ``[audio]`` device, and a microphone level test.

    Signals: ``devices_loaded()`` once the microphone list is filled; ``test_finished(str)`` with the verdict.
    """

    devices_loaded = Signal()
    test_finished = Signal(str)

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        form = QFormLayout(self)
        self.stt_model = QComboBox()
        self.stt_model.setObjectName("sttModel")
        for value, label in STT_MODELS:
            self.stt_model.addItem(label, value)
        self.stt_model.setCurrentIndex(max(0, self.stt_model.findData(settings.stt.model)))
        form.addRow("Speech recognition", self.stt_model)
        self.language = QComboBox()
        self.language.setObjectName("sttLanguage")
        for value, label in LANGUAGES:
            self.language.addItem(label, value)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.stt.language)))
        form.addRow("Language", self.language)
        self.language_note = QLabel("The fast model understands English only: choose the accurate one for others.")
        self.language_note.setWordWrap(True)
        self.language_note.setStyleSheet("color: #888")
        form.addRow("", self.language_note)

        self.microphone = QComboBox()
        self.microphone.setObjectName("microphone")
        self.microphone.addItem("System default", "")
        if settings.audio.device:
            self.microphone.addItem(settings.audio.device, settings.audio.device)
            self.microphone.setCurrentIndex(1)
        form.addRow("Microphone", self.microphone)
        row = QHBoxLayout()
        self.test_button = QPushButton("Test microphone")
        self.test_button.setObjectName("testMicrophone")
        self.level = QProgressBar()
        self.level.setObjectName("micLevel")
        self.level.setRange(0, 100)
        self.level.setTextVisible(False)
        row.addWidget(self.test_button)
        row.addWidget(self.level, 1)
        form.addRow("", row)
        self.verdict = QLabel("Speak for three seconds after pressing Test.")
        self.verdict.setObjectName("micVerdict")
        self.verdict.setWordWrap(True)
        form.addRow("", self.verdict)

        self.peak_db = FLOOR_DB
        self._relay = _Relay()
        self._relay.devices.connect(self._on_devices)
        self._relay.level.connect(self._on_level)
        self._relay.test_done.connect(self._on_test_done)
        self.stt_model.currentIndexChanged.connect(self._check_language)
        self.language.currentIndexChanged.connect(self._check_language)
        self.test_button.clicked.connect(self.start_test)
        self._check_language()
        threading.Thread(target=self._list_devices, name="jarvis-list-mics", daemon=True).start()

    # ---- devices -----------------------------------------------------------------------------------
    def _list_devices(self) -> None:
        try:
            names = [str(d["name"]) for d in list_input_devices()]
        except JarvisError:
            names = []
        self._relay.devices.emit(names)

    def _on_devices(self, names: list[str]) -> None:
        for name in names:
            if self.microphone.findData(name) < 0:
                self.microphone.addItem(name, name)
        self.devices_loaded.emit()

    def _check_language(self) -> None:
        english_only = self.stt_model.currentData() == "tiny.en"
        self.language_note.setVisible(english_only and self.language.currentData() != "en")

    # ---- level test --------------------------------------------------------------------------------
    def start_test(self) -> None:
        """Open the chosen microphone for three seconds and show its level (background thread)."""
        self.test_button.setEnabled(False)
        self.peak_db = FLOOR_DB
        self.verdict.setText("Listening… say something.")
        device = str(self.microphone.currentData() or "")
        threading.Thread(target=self._run_test, args=(device,), name="jarvis-mic-test", daemon=True).start()

    def _run_test(self, device: str) -> None:
        audio = dataclasses.replace(self._settings.audio, device=device)
        capture = MicCapture(lambda _audio: None, on_level=self._relay.level.emit, settings=audio)
        try:
            capture.start()
            threading.Event().wait(TEST_SECONDS)
        except JarvisError as exc:
            self._relay.test_done.emit(exc.user_message())
            return
        finally:
            capture.stop()
        self._relay.test_done.emit("")

    def _on_level(self, db: float) -> None:
        self.peak_db = max(self.peak_db, db)
        self.level.setValue(int(max(0.0, min(1.0, (db - FLOOR_DB) / -FLOOR_DB)) * 100))

    def _on_test_done(self, error: str) -> None:
        self.test_button.setEnabled(True)
        self.level.setValue(0)
        text = error or describe_level(self.peak_db)
        self.verdict.setText(text)
        self.test_finished.emit(text)

    # ---- values ------------------------------------------------------------------------------------
    def values(self, settings: Settings) -> tuple[SttSettings, AudioSettings]:
        """``settings.stt`` and ``settings.audio`` with this page's values. Choosing a model clears a hand-set
        ``[stt] model_path`` (the choice would not apply otherwise)."""
        model = str(self.stt_model.currentData())
        stt = dataclasses.replace(settings.stt, model=model, language=str(self.language.currentData()))
        if model != settings.stt.model:
            stt.model_path = ""
        if model == "tiny.en":
            stt.language = "en"  # the English-only model cannot take another language
        audio = dataclasses.replace(settings.audio, device=str(self.microphone.currentData() or ""))
        return stt, audio
