"""Qt side of :class:`~jarvis_desktop.voice.session.VoiceSession`: builds a session on the engine thread's Assistant,
plays a source into it on its own ``QThread`` and re-emits the session's events as Qt signals.

Threads (the GUI thread never waits):

* ``start()`` (GUI thread) submits a :class:`_BuildSessionJob` to the :class:`~jarvis_desktop.ui.workers.EngineThread`:
  the session is built on the engine's Assistant and started there (Silero VAD, wake word, STT and NLU warm-up);
* when it is built, a ``QThread`` (``jarvis-voice-source``) runs the source (:class:`FileSource` or
  :class:`MicSource`) into it until the file ends or ``stop()``; then the session is finished (file) or closed;
* the session's own threads call the listener, which only emits ``voice_event`` / ``state`` (queued to the GUI
  thread, in the order the session produced them).

The session's worker thread uses the Assistant's models and database while the engine thread may run a typed
turn: the database connection is shared under a lock (``store/db.py``).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, QThread, Signal, Slot

from jarvis_desktop.config import VoiceSettings
from jarvis_desktop.errors import AudioDeviceError
from jarvis_desktop.tts.speaker import Speaker
from jarvis_desktop.ui.workers import AssistantGetter, EngineThread, Worker, describe_error
from jarvis_desktop.voice.events import ListeningState, StateEvent, VoiceEvent
from jarvis_desktop.voice.policy import Indicator, Status
from jarvis_desktop.voice.session import VoiceSession
from jarvis_desktop.voice.sources import FileSource, MicSource

__all__ = ["FINISH_TIMEOUT_S", "STATE_STATUS", "VoiceSource", "VoiceWorker", "state_status"]

VoiceSource = FileSource | MicSource
"""Where the session's audio comes from: a recording or the microphone."""

FINISH_TIMEOUT_S = 30.0
"""At the end of a file: how long the source thread lets the session's last jobs run before closing it."""


STATE_STATUS: dict[ListeningState, Status] = {
    ListeningState.WAITING_FOR_WAKE: Status(Indicator.READY, 'Hands-free: waiting for "hey Jarvis"'),
    ListeningState.WAITING_FOR_SPEECH: Status(Indicator.READY, "Hands-free: listening (no wake word)"),
    ListeningState.HEARING: Status(Indicator.BUSY, "Hearing you…"),
    ListeningState.TRANSCRIBING: Status(Indicator.BUSY, "Thinking… (transcribing)"),
    ListeningState.RESPONDING: Status(Indicator.BUSY, "Thinking…"),
    ListeningState.FOLLOW_UP: Status(Indicator.READY, "Hands-free: listening for a follow-up"),
}
"""The status-bar line for each listening state (waiting for the wake word / hearing / thinking)."""


def state_status(value: str) -> Status | None:
    """The status line for a ``state(str)`` signal's value; None for an unknown value."""
    try:
        return STATE_STATUS[ListeningState(value)]
    except ValueError:
        return None


@dataclass(frozen=True)
class _Built:
    """A started session and the source chosen for it (the microphone's ``[audio]`` device is read there)."""

    session: VoiceSession
    source: VoiceSource


class _BuildSessionJob(Worker):
    """Engine-thread job: build and start the session on the Assistant; ``built(object)`` carries a ``_Built``."""

    built = Signal(object)

    def __init__(self, make: _SessionMaker) -> None:
        super().__init__()
        self.make = make

    def execute(self, get: AssistantGetter) -> None:
        built = self.make.build(get)
        built.session.start()
        self.built.emit(built)


class _SessionMaker:
    """What the job needs to build the session (plain data; the listener is the VoiceWorker's emitter)."""

    def __init__(
        self,
        worker: VoiceWorker,
        source: VoiceSource | None,
        settings: VoiceSettings | None,
        wake_word: bool | None,
        now: datetime | None,
        dry_run: bool,
        speaker: Speaker | None = None,
    ) -> None:
        self.speaker = speaker
        self.worker = worker
        self.source = source
        self.settings = settings
        self.wake_word = wake_word
        self.now = now
        self.dry_run = dry_run

    def build(self, get: AssistantGetter) -> _Built:
        """The session on the engine's Assistant, and its source (``None`` -> the microphone of the Assistant's
        ``[audio]`` settings). Raises ModelNotFoundError (Silero, wake word, Whisper missing)."""
        assistant = get()
        settings = self.settings or assistant.settings.voice
        if self.wake_word is not None:
            settings = dataclasses.replace(settings, wake_word=self.wake_word)
        source = self.source if self.source is not None else MicSource(assistant.settings.audio)
        session = VoiceSession(
            assistant, settings, listener=self.worker.relay, now=self.now, dry_run=self.dry_run, speaker=self.speaker
        )
        return _Built(session, source)


class _SourceThread(QThread):
    """Plays the source into the session until it ends or ``stop`` is set, then finishes or closes the session."""

    failed = Signal(str)

    def __init__(self, session: VoiceSession, source: VoiceSource, stop: threading.Event) -> None:
        super().__init__()
        self.setObjectName("jarvis-voice-source")
        self.session = session
        self.source = source
        self.stop_event = stop

    def run(self) -> None:
        try:
            if isinstance(self.source, MicSource):
                self.source.run(self.session, self.stop_event, on_error=self._device_failed)
            else:
                self.source.run(self.session, self.stop_event)
        except Exception as exc:
            self.failed.emit(describe_error(exc))
        finally:
            if self.stop_event.is_set() or isinstance(self.source, MicSource):
                self.session.close()
            else:
                self.session.finish(timeout=FINISH_TIMEOUT_S)

    def _device_failed(self, error: AudioDeviceError) -> None:
        self.failed.emit(describe_error(error))
        self.stop_event.set()


class VoiceWorker(QObject):
    """Hands-free listening for the window: a VoiceSession on the engine's Assistant, its events as signals.

    Args:
        engine: the window's engine thread (the session is built there, on its Assistant).
        source: a :class:`FileSource` (played once, then the session finishes) or a :class:`MicSource` (until
            :meth:`stop`); ``None``: the microphone of the Assistant's ``[audio]`` settings (read on the engine
            thread).
        settings: ``[voice]`` settings (``None``: the Assistant's).
        wake_word: overrides ``settings.wake_word`` when not None (the tray's toggle, saved after start-up).
        now: a fixed clock for the NLU and actions (tests); dry_run: actions change nothing.

    Signals (all on the GUI thread, in the session's order): ``voice_event(object)``: every
    :mod:`~jarvis_desktop.voice.events` event (not named ``event``: that is QObject's event handler);
    ``state(str)``: the :class:`ListeningState` value on each state change; ``listening()``: the models are loaded
    and audio flows; ``failed(str)``: the session could not be built or the source failed (one line);
    ``stopped()``: the source thread ended and the session is closed.
    """

    voice_event = Signal(object)
    state = Signal(str)
    listening = Signal()
    failed = Signal(str)
    stopped = Signal()

    def __init__(
        self,
        engine: EngineThread,
        source: VoiceSource | None,
        settings: VoiceSettings | None = None,
        now: datetime | None = None,
        dry_run: bool = False,
        parent: QObject | None = None,
        wake_word: bool | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        super().__init__(parent)
        self.engine = engine
        self.source = source
        self._maker = _SessionMaker(self, source, settings, wake_word, now, dry_run, speaker)
        self._stop = threading.Event()
        self._job: _BuildSessionJob | None = None
        self._thread: _SourceThread | None = None
        self.session: VoiceSession | None = None
        self.running = False

    def start(self) -> None:
        """Build the session on the engine thread, then play the source into it (returns at once; once only)."""
        if self.running or self._job is not None:
            raise RuntimeError("a VoiceWorker starts once")
        self.running = True
        job = _BuildSessionJob(self._maker)
        job.built.connect(self._on_built)
        job.failed.connect(self._on_build_failed)
        self._job = job
        self.engine.submit(job)

    def stop(self) -> None:
        """Ask the source to stop and the session to close; returns at once, ``stopped`` follows."""
        self._stop.set()

    def listen_now(self) -> bool:
        """Ask the running session to hear a command now, as after an accepted "hey Jarvis" (returns at once).
        False when no session runs yet (still loading) or it is stopping."""
        if self.session is None or not self.running or self._stop.is_set():
            return False
        self.session.listen_now()
        return True

    def wait(self, timeout_ms: int = 2000) -> bool:
        """Block until the source thread ended (app shutdown only); True when it did."""
        return self._thread is None or self._thread.wait(timeout_ms)

    def relay(self, event: VoiceEvent) -> None:
        """The session's listener (its threads): ``voice_event(event)``, then ``state`` for a state change."""
        self.voice_event.emit(event)
        if isinstance(event, StateEvent):
            self.state.emit(event.state.value)

    @Slot(object)
    def _on_built(self, built: _Built) -> None:
        self.session = built.session
        self.source = built.source
        thread = _SourceThread(built.session, built.source, self._stop)
        thread.failed.connect(self.failed)
        thread.finished.connect(self._on_thread_finished)
        self._thread = thread
        thread.start()
        if not self._stop.is_set():
            self.listening.emit()

    @Slot(str)
    def _on_build_failed(self, message: str) -> None:
        self.running = False
        self.failed.emit(message)
        self.stopped.emit()

    @Slot()
    def _on_thread_finished(self) -> None:
        self.running = False
        self.stopped.emit()
