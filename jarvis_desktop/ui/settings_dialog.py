"""Settings dialog, one tab per area, so a user never edits a file:

* General: time zone, weather location, the applications-menu entry and start at login
  (``settings_general_page.py``);
* Chat: the model from the catalogue, downloaded here with progress and Cancel, the system prompt, temperature and
  answer length (``settings_chat_page.py``);
* Speech: speech-to-text model and language, the microphone with a level test (``settings_speech_page.py``);
* Remote: endpoint URL, model name, API key (stored in the OS keyring, never in ``settings.toml``), placement
  (auto / always local / always remote), timeouts; Memory: the placement policy's thresholds;
* Listening: the "hey Jarvis" wake word on/off, its sensitivity, the follow-up window, the global hotkey with what
  :func:`jarvis_desktop.voice.hotkey.probe` says about it, and the wake-word models' licence;
* Spoken replies: on/off, volume, speed, barge-in, the output device, the voice's licence.

``probe()`` may connect to the X server or wait up to ~2 s on D-Bus (Wayland), and PortAudio may take a second to
list devices, so both run on short background threads and fill their fields when they answer. Save writes every
section into ``settings.toml``, stores the key on a short background thread (a keyring may wait on D-Bus; the GUI
does not), then emits ``saved(Settings)``; :meth:`jarvis_desktop.ui.main_window.MainWindow.apply_settings` hands
them to the engine thread with :class:`ApplySettingsWorker` (no restart). Errors show in the dialog, in red.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.config import Settings, load_settings, save_settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.llm.keys import set_api_key
from jarvis_desktop.tts.hibari_voice import LICENCE as VOICE_LICENCE
from jarvis_desktop.tts.output_device import list_output_devices
from jarvis_desktop.ui.settings_chat_page import ChatSettingsPage
from jarvis_desktop.ui.settings_general_page import GeneralSettingsPage
from jarvis_desktop.ui.settings_speech_page import SpeechSettingsPage
from jarvis_desktop.ui.workers import AssistantGetter, Worker
from jarvis_desktop.voice.hotkey import probe
from jarvis_desktop.voice.hotkey_types import HotkeySupport, parse_hotkey
from jarvis_desktop.voice.wake import LICENCE

PLACEMENTS = (("auto", "Auto (memory policy decides)"), ("local", "Always local"), ("remote", "Always remote"))


def _spin(value: float, low: float, high: float, step: float, suffix: str, decimals: int = 1) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSuffix(suffix)
    box.setValue(value)
    return box


def describe_hotkey_support(support: HotkeySupport) -> str:
    """One or two lines for the dialog: the probe's reason, then its fallback where the hotkey cannot be grabbed."""
    if support.can_grab:
        return f"Global hotkey available. {support.reason}"
    return f"Global hotkey not available: {support.reason}\n{support.fallback}"


class _ProbeRelay(QObject):
    """Carries the probe's answer from its thread to the GUI thread. It has no parent and the thread holds a
    reference, so it outlives a dialog closed before the probe returned (Qt then drops the queued call)."""

    done = Signal(object)


class _OutputsRelay(QObject):
    """Carries the output device names from PortAudio's thread to the GUI thread."""

    done = Signal(list)


class SettingsDialog(QDialog):
    """Edit every setting a user needs (see the module docstring). ``saved(object)`` carries the new
    :class:`Settings`.

    Args:
        settings: the values to show (default: read ``settings.toml``).
        save: where to write (default :func:`jarvis_desktop.config.save_settings`).
        probe_hotkey: what says whether a global hotkey can be grabbed here (default
            :func:`jarvis_desktop.voice.hotkey.probe`); called once, on a background thread.
    """

    saved = Signal(object)
    probed = Signal(object)  # the HotkeySupport, once the background probe returned
    _key_done = Signal(str)  # "" on success, else the error message

    def __init__(
        self,
        parent: QWidget | None = None,
        settings: Settings | None = None,
        save: Callable[[Settings], object] | None = None,
        probe_hotkey: Callable[[], HotkeySupport] = probe,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Jarvis settings")
        self._save = save or save_settings
        self._settings = settings or load_settings()
        r, m = self._settings.remote, self._settings.monitor
        layout = QVBoxLayout(self)

        remote = QGroupBox("Remote endpoint (OpenAI-compatible: vLLM, llama.cpp server, Ollama, cloud VM)")
        form = QFormLayout(remote)
        self.base_url = QLineEdit(r.base_url)
        self.base_url.setPlaceholderText("http://gpu-box:8000/v1  (empty = no remote)")
        form.addRow("Base URL", self.base_url)
        self.model = QLineEdit(r.model)
        self.model.setPlaceholderText("model name the endpoint serves")
        form.addRow("Model", self.model)
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("stored in the OS keyring; leave empty to keep the current key")
        form.addRow("API key", self.api_key)
        self.clear_key = QCheckBox("Remove the stored key")
        form.addRow("", self.clear_key)
        self.placement = QComboBox()
        for value, label in PLACEMENTS:
            self.placement.addItem(label, value)
        self.placement.setCurrentIndex(max(0, self.placement.findData(r.placement)))
        form.addRow("Where chat runs", self.placement)
        self.connect_timeout = _spin(r.connect_timeout_s, 0.5, 60, 0.5, " s")
        self.first_token_timeout = _spin(r.first_token_timeout_s, 1, 300, 1, " s")
        self.retries = QSpinBox()
        self.retries.setRange(0, 10)
        self.retries.setValue(r.retries)
        form.addRow("Connect timeout", self.connect_timeout)
        form.addRow("First-token timeout", self.first_token_timeout)
        form.addRow("Retries", self.retries)
        self.fallback = QCheckBox("Answer locally when the remote fails")
        self.fallback.setChecked(r.fallback_local)
        form.addRow("", self.fallback)
        self.tabs = QTabWidget()  # one page per area: the dialog must fit a 768-pixel-high screen
        layout.addWidget(self.tabs)
        self.general_page = GeneralSettingsPage(self._settings)
        self.chat_page = ChatSettingsPage(self._settings)
        self.speech_page = SpeechSettingsPage(self._settings)
        self.tabs.addTab(self.general_page, "General")
        self.tabs.addTab(self.chat_page, "Chat")
        self.tabs.addTab(self.speech_page, "Speech")
        self.tabs.addTab(remote, "Remote")

        policy = QGroupBox("Memory policy (a model needs N x its size free, plus the buffer)")
        pform = QFormLayout(policy)
        self.buffer_gib = _spin(m.buffer_gib, 0, 1024, 0.5, " GiB")
        self.buffer_pct = _spin(m.buffer_fraction * 100, 0, 90, 5, " % of RAM", 0)
        self.need_factor = _spin(m.need_factor, 1, 10, 0.1, " x size")
        self.hysteresis = _spin(m.hysteresis_gib, 0, 64, 0.25, " GiB", 2)
        self.interval = _spin(m.interval_s, 0.1, 60, 0.5, " s")
        pform.addRow("Keep free (at least)", self.buffer_gib)
        pform.addRow("…or (the larger)", self.buffer_pct)
        pform.addRow("Model needs", self.need_factor)
        pform.addRow("Hysteresis", self.hysteresis)
        pform.addRow("Monitor interval", self.interval)
        self.tabs.addTab(policy, "Memory")
        self.tabs.addTab(self._voice_group(), "Listening")
        self.tabs.addTab(self._speech_group(), "Spoken replies")

        self.error = QLabel()
        self.error.setObjectName("settingsError")
        self.error.setStyleSheet("color: #d9534f")
        self.error.setWordWrap(True)
        self.error.hide()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.save)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self._key_done.connect(self._on_key_done)
        self.probed.connect(self._on_probed)
        self._pending: Settings | None = None
        self.hotkey_support: HotkeySupport | None = None
        relay = _ProbeRelay()
        relay.done.connect(self.probed)
        threading.Thread(target=_run_probe, args=(probe_hotkey, relay), name="jarvis-hotkey-probe", daemon=True).start()

    def _voice_group(self) -> QGroupBox:
        """The "Voice" group: wake word, sensitivity, follow-up, hotkey (+ probe line), the wake models' licence."""
        v = self._settings.voice
        group = QGroupBox("Voice (hands-free listening)")
        column = QVBoxLayout(group)
        form = QFormLayout()
        column.addLayout(form)
        self.wake_word = QCheckBox('Wait for "hey Jarvis" before acting on speech')
        self.wake_word.setChecked(v.wake_word)
        form.addRow("Wake word", self.wake_word)
        self.sensitivity = _spin(v.sensitivity, 0.05, 0.95, 0.05, "", 2)
        self.sensitivity.setToolTip("First-stage threshold: lower fires more often (each activation is verified)")
        form.addRow("Wake threshold", self.sensitivity)
        self.follow_up = _spin(v.follow_up_s, 0, 60, 1, " s")
        self.follow_up.setToolTip("After a reply, listen this long without the wake word (0 = off)")
        form.addRow("Follow-up window", self.follow_up)
        self.hotkey = QLineEdit(v.hotkey)
        self.hotkey.setPlaceholderText("<ctrl>+<alt>+j")
        form.addRow("Global hotkey", self.hotkey)
        self.hotkey_status = QLabel("Checking whether a global hotkey can be grabbed here…")
        self.hotkey_status.setObjectName("hotkeyStatus")
        self.hotkey_status.setWordWrap(True)
        self.hotkey_status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.hotkey_status)  # full width: wrapped text gets its height (a form row does not)
        self.licence = QLabel(LICENCE)
        self.licence.setObjectName("wakeLicence")
        self.licence.setWordWrap(True)
        self.licence.setStyleSheet("color: #888")
        column.addWidget(self.licence)
        return group

    def _speech_group(self) -> QGroupBox:
        """The "Spoken replies" group: on/off, volume, speed, barge-in, output device, and the voice's licence."""
        sp = self._settings.speech
        group = QGroupBox("Spoken replies")
        column = QVBoxLayout(group)
        form = QFormLayout()
        column.addLayout(form)
        self.speak = QCheckBox("Speak replies, reminders and alarms")
        self.speak.setChecked(sp.enabled)
        form.addRow("Voice output", self.speak)
        self.volume = _spin(sp.volume * 100, 0, 100, 5, " %", 0)
        form.addRow("Volume", self.volume)
        self.rate = _spin(sp.rate, 0.5, 2.0, 0.1, " x", 1)
        self.rate.setToolTip("Speaking speed (1.0 = the voice's own)")
        form.addRow("Speed", self.rate)
        self.speak_chat = QCheckBox("Read chat answers aloud too (off: only confirmations, reminders, alarms)")
        self.speak_chat.setChecked(sp.speak_chat)
        form.addRow("Chat answers", self.speak_chat)
        self.barge_in = QCheckBox('"Hey Jarvis" or the hotkey stops Jarvis talking and listens')
        self.barge_in.setChecked(sp.barge_in)
        form.addRow("Interrupt", self.barge_in)
        self.output_device = QComboBox()
        self.output_device.setObjectName("outputDevice")
        self.output_device.setEditable(True)
        self.output_device.addItem("")
        self.output_device.setCurrentText(sp.device)
        self.output_device.setPlaceholderText("system default")
        form.addRow("Output device", self.output_device)
        outputs = _OutputsRelay()  # no parent: it outlives a dialog closed before PortAudio answered
        outputs.done.connect(self._on_outputs)
        threading.Thread(target=_list_outputs, args=(outputs,), name="jarvis-list-outputs", daemon=True).start()
        voice = QLabel(f'Voice: hibari "heart" (English, 24 kHz), licence {VOICE_LICENCE}, derived from Kokoro.')
        voice.setObjectName("voiceLicence")
        voice.setWordWrap(True)
        voice.setStyleSheet("color: #888")
        column.addWidget(voice)
        return group

    def _on_outputs(self, names: list[str]) -> None:
        current = self.output_device.currentText()
        for name in names:
            if self.output_device.findText(name) < 0:
                self.output_device.addItem(name)
        self.output_device.setCurrentText(current)

    def _on_probed(self, support: HotkeySupport) -> None:
        self.hotkey_support = support
        self.hotkey_status.setText(describe_hotkey_support(support))
        self.adjustSize()  # the probe's answer can take more lines than the placeholder

    def values(self) -> Settings:
        """A copy of the settings with every tab's values.

        Raises:
            BadInputError: a base URL that is not http(s)://, a hotkey :func:`parse_hotkey` refuses, an unknown
                time zone, or a chat model chosen but not downloaded yet.
        """
        waiting = self.chat_page.pending_choice()
        if waiting is not None:
            raise BadInputError(f"{waiting} is not downloaded yet: press Download first, or choose an installed model")
        nlu, weather = self.general_page.values(self._settings)
        stt, audio = self.speech_page.values(self._settings)
        chat = self.chat_page.values(self._settings)
        url = self.base_url.text().strip()
        if url and not url.startswith(("http://", "https://")):
            raise BadInputError(f"the base URL must start with http:// or https://, got {url!r}")
        remote = dataclasses.replace(
            self._settings.remote,
            base_url=url,
            model=self.model.text().strip(),
            placement=self.placement.currentData(),
            connect_timeout_s=self.connect_timeout.value(),
            first_token_timeout_s=self.first_token_timeout.value(),
            retries=self.retries.value(),
            fallback_local=self.fallback.isChecked(),
        )
        monitor = dataclasses.replace(
            self._settings.monitor,
            buffer_gib=self.buffer_gib.value(),
            buffer_fraction=self.buffer_pct.value() / 100,
            need_factor=self.need_factor.value(),
            hysteresis_gib=self.hysteresis.value(),
            interval_s=self.interval.value(),
        )
        voice = dataclasses.replace(
            self._settings.voice,
            wake_word=self.wake_word.isChecked(),
            sensitivity=self.sensitivity.value(),
            follow_up_s=self.follow_up.value(),
            hotkey=str(parse_hotkey(self.hotkey.text())),
        )
        speech = dataclasses.replace(
            self._settings.speech,
            enabled=self.speak.isChecked(),
            volume=self.volume.value() / 100,
            rate=self.rate.value(),
            barge_in=self.barge_in.isChecked(),
            speak_chat=self.speak_chat.isChecked(),
            device=self.output_device.currentText().strip(),
        )
        return dataclasses.replace(
            self._settings,
            remote=remote,
            monitor=monitor,
            voice=voice,
            speech=speech,
            nlu=nlu,
            weather=weather,
            stt=stt,
            audio=audio,
            chat=chat,
        )

    def save(self) -> None:
        """Validate, write the file, store/remove the key on a thread; ``saved`` is emitted when all is done."""
        try:
            new = self.values()
            self._save(new)
            self.general_page.apply_desktop()  # the menu entry / start at login boxes (desktop_integration.py)
        except (JarvisError, OSError) as exc:
            self._show_error(exc.user_message() if isinstance(exc, JarvisError) else f"cannot save: {exc}")
            return
        key, clear = self.api_key.text(), self.clear_key.isChecked()
        self._pending = new
        if not key and not clear:
            self._on_key_done("")
            return
        self.buttons.setEnabled(False)

        def store() -> None:
            try:
                set_api_key(None if clear else key)
                self._key_done.emit("")
            except JarvisError as exc:
                self._key_done.emit(exc.user_message())

        threading.Thread(target=store, name="jarvis-keyring", daemon=True).start()

    def _on_key_done(self, error: str) -> None:
        self.buttons.setEnabled(True)
        self.api_key.clear()
        if error:
            self._show_error(f"Settings saved, but the key was not: {error}")
            return
        self.saved.emit(self._pending)
        self.accept()

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()


def _list_outputs(relay: _OutputsRelay) -> None:
    """Background thread: the output device names (none when PortAudio cannot list them)."""
    try:
        names = list_output_devices()
    except JarvisError:
        names = []
    relay.done.emit(names)


def _run_probe(probe_hotkey: Callable[[], HotkeySupport], relay: _ProbeRelay) -> None:
    """Background thread: run the probe (it never raises) and hand its answer to the GUI thread."""
    relay.done.emit(probe_hotkey())


class ApplySettingsWorker(Worker):
    """Engine-thread job: hand the Assistant the saved settings (:meth:`~jarvis_desktop.assistant.Assistant.
    apply_settings`: a new chat model is swapped in and loaded, a new speech model at its next use);
    ``applied(list)`` names what was swapped."""

    applied = Signal(list)

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self.settings = settings

    def execute(self, get: AssistantGetter) -> None:
        self.applied.emit(get().apply_settings(self.settings))
