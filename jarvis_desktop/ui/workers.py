"""Workers that run every engine call off the GUI thread.

All engine work happens on **one** engine ``QThread`` (``EngineThread``): the :class:`Assistant` is created
there, so its SQLite connection and its models are only ever used from that thread, and jobs run one at a
time in the order they were submitted (a question asked while the models load waits for them).

Each job is a small ``QObject`` (``WarmUpWorker``, ``AskWorker``, ``TranscribeWorker``, ``HistoryWorker``,
``CloseWorker``) moved to the engine thread; it reports back with Qt signals, which Qt queues to the GUI
thread. Errors never escape a worker: a :class:`~jarvis_desktop.errors.JarvisError` becomes its
``user_message()``, anything else "internal error: ...", emitted on ``failed(str)``.

Cancelling: ``AskWorker.cancel`` is a ``threading.Event`` handed to the engine; ``stop()`` sets it from the
GUI thread and the engine stops streaming at the next token.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QCoreApplication, QObject, QThread, Signal, Slot

from jarvis_desktop.assistant import Assistant, Turn
from jarvis_desktop.audio.capture import MicCapture
from jarvis_desktop.config import AudioSettings, load_settings
from jarvis_desktop.errors import Cancelled, JarvisError
from jarvis_desktop.nlu.result import ParseResult

AssistantFactory = Callable[[], Assistant]  # builds the engine thread's Assistant (called on that thread)
AssistantGetter = Callable[[], Assistant]  # a job's access to it (creates it on first use)


def describe_error(exc: BaseException) -> str:
    """One line for the user: ``JarvisError.user_message()``, else ``internal error: <type>: <msg>``."""
    if isinstance(exc, JarvisError):
        return exc.user_message()
    return f"internal error: {type(exc).__name__}: {exc}"


class _Holder:
    """The engine thread's single :class:`Assistant`, created lazily by the first job that needs it."""

    def __init__(self, factory: AssistantFactory) -> None:
        self._factory = factory
        self.assistant: Assistant | None = None

    def get(self) -> Assistant:
        if self.assistant is None:
            self.assistant = self._factory()
        return self.assistant


class Worker(QObject):
    """Base job: ``run()`` executes on the engine thread; ``done`` is emitted last, whatever happened."""

    failed = Signal(str)
    done = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.holder: _Holder | None = None

    def execute(self, assistant_getter: AssistantGetter) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    @Slot()
    def run(self) -> None:
        """Run the job (engine thread); converts exceptions to ``failed`` and always emits ``done``."""
        try:
            assert self.holder is not None, "submit the worker through EngineThread.submit()"
            self.execute(self.holder.get)
        except Exception as exc:
            if isinstance(exc, Cancelled):  # the user pressed Stop between STT and the reply
                return
            if not isinstance(exc, JarvisError):  # expected errors are shown to the user, not logged
                traceback.print_exc()
            self.failed.emit(describe_error(exc))
        finally:
            self.done.emit()


class WarmUpWorker(Worker):
    """Creates the Assistant, reads the chat history, then preloads STT, NLU and the chat model.

    Signals: ``history(list)`` with ``ChatMessageRecord`` objects (oldest first) as soon as the database is
    open; ``ready()`` when every model is loaded; ``failed(str)`` otherwise.
    """

    history = Signal(list)
    ready = Signal()

    def __init__(self, history_limit: int = 100) -> None:
        super().__init__()
        self.history_limit = history_limit

    def execute(self, get: AssistantGetter) -> None:
        assistant = get()
        self.history.emit(list(assistant.conversation_messages(self.history_limit)))
        assistant.warm_up()
        self.ready.emit()


class AskWorker(Worker):
    """One turn: a typed ``text`` or an ``audio`` clip (float32 mono 16 kHz array, or a file path).

    Signals: ``token(str)`` for each streamed piece of the reply; ``finished(object)`` with the engine's
    ``Turn``; ``failed(str)``. For audio, ``transcribed(object)`` is emitted with the ``Transcript`` first,
    so the GUI can show what was heard before the reply streams.
    """

    token = Signal(str)
    transcribed = Signal(object)
    parsed = Signal(str)  # the intent, before the reply starts (the window's spoken reply needs it)
    stage = Signal(str)  # what the engine does now, for the status line ("Loading the chat model…")
    finished = Signal(object)

    def __init__(self, text: str | None = None, audio: np.ndarray | str | Path | None = None) -> None:
        super().__init__()
        if (text is None) == (audio is None):
            raise ValueError("give exactly one of text or audio")
        self.text = text
        self.audio = audio
        self.cancel = threading.Event()

    def stop(self) -> None:
        """Ask the engine to stop streaming (safe from any thread)."""
        self.cancel.set()

    def execute(self, get: AssistantGetter) -> None:
        assistant = get()
        if self.cancel.is_set():
            return
        if self.audio is not None:
            turn = self._ask_audio(assistant, self.audio)
        else:
            assert self.text is not None  # __init__ takes exactly one of text and audio
            turn = assistant.ask_text(
                self.text, on_token=self.token.emit, cancel=self.cancel, on_parse=self._emit_parsed
            )
        self.finished.emit(turn)

    def _ask_audio(self, assistant: Assistant, audio: np.ndarray | str | Path) -> Turn:
        """STT first (the transcript is shown before the reply streams), then the text pipeline."""
        return assistant.ask_audio(
            audio,
            on_token=self.token.emit,
            cancel=self.cancel,
            on_transcript=self.transcribed.emit,
            on_parse=self._emit_parsed,
        )

    def _emit_parsed(self, parse: ParseResult) -> None:
        self.parsed.emit(parse.intent)
        self._emit_chat_stage(parse.intent)

    def _emit_chat_stage(self, intent: str) -> None:
        """Say on ``stage`` whether the chat model must load first (engine thread; nothing is loaded here)."""
        if intent != "general_chat" or self.holder is None or self.holder.assistant is None:
            return
        loaded = self.holder.assistant.loaded_models()
        self.stage.emit("Thinking…" if any(name.startswith("chat") for name in loaded) else "Loading the chat model…")


class FollowUpWorker(AskWorker):
    """A turn on the current conversation that takes no new utterance.

    ``kind``: "regenerate" (answer the last question again), "continue" (go on with a cut-off answer), "edit"
    (replace user message ``message_id`` with ``text`` and ask it), "confirm" (answer the pending question:
    ``yes``). Same signals as :class:`AskWorker`.
    """

    KINDS = ("regenerate", "continue", "edit", "confirm")

    def __init__(self, kind: str, message_id: int | None = None, text: str = "", yes: bool = False) -> None:
        if kind not in self.KINDS:
            raise ValueError(f"kind must be one of {self.KINDS}, got {kind!r}")
        if kind == "edit" and (message_id is None or not text.strip()):
            raise ValueError("edit needs the message id and the new text")
        super().__init__(text=text or kind)
        self.kind = kind
        self.message_id = message_id
        self.yes = yes

    def execute(self, get: AssistantGetter) -> None:
        assistant = get()
        if self.cancel.is_set():
            return
        if self.kind != "edit":
            self._emit_chat_stage("general_chat")
        if self.kind == "regenerate":
            turn = assistant.regenerate(on_token=self.token.emit, cancel=self.cancel)
        elif self.kind == "continue":
            turn = assistant.continue_reply(on_token=self.token.emit, cancel=self.cancel)
        elif self.kind == "edit":
            assert self.message_id is not None
            turn = assistant.edit_and_resend(self.message_id, self.text or "", self.token.emit, self.cancel)
        else:
            turn = assistant.confirm_pending(self.yes, on_token=self.token.emit, cancel=self.cancel)
        self.finished.emit(turn)


class TranscribeWorker(Worker):
    """Speech-to-text only: ``finished(object)`` with the ``Transcript`` of ``audio``."""

    finished = Signal(object)

    def __init__(self, audio: np.ndarray | str | Path) -> None:
        super().__init__()
        self.audio = audio

    def execute(self, get: AssistantGetter) -> None:
        self.finished.emit(get().transcribe(self.audio))


class HistoryWorker(Worker):
    """Reads the last ``limit`` chat messages: ``finished(list)`` of ``ChatMessageRecord``."""

    finished = Signal(list)

    def __init__(self, limit: int = 100) -> None:
        super().__init__()
        self.limit = limit

    def execute(self, get: AssistantGetter) -> None:
        self.finished.emit(list(get().conversation_messages(self.limit)))


class CloseWorker(Worker):
    """Closes the Assistant (models, database) if one was created."""

    def execute(self, get: AssistantGetter) -> None:
        assert self.holder is not None
        if self.holder.assistant is not None:
            self.holder.assistant.close()
            self.holder.assistant = None


class _Runner(QObject):
    """Lives on the engine thread and runs the jobs it is handed, in order."""

    @Slot(object)
    def run_job(self, worker: Worker) -> None:
        worker.run()


log = logging.getLogger(__name__)

_LINGERING: list[QThread] = []
"""Engine threads still running when their window shut down (a model load cannot be interrupted): kept referenced
so that no running QThread is ever destroyed (Qt aborts the whole process when one is)."""


def threads_still_running() -> int:
    """How many engine threads left to finish at a window's shutdown still run (see :func:`exit_code_safely`)."""
    return sum(1 for thread in _LINGERING if thread.isRunning())


def exit_code_safely(code: int) -> int:
    """Return ``code`` for the process to exit with; if an engine thread is still busy (inside a call that cannot
    be interrupted, such as a model loading), end the process here with ``code`` instead: destroying that running
    QThread at interpreter exit would abort the process ("QThread: Destroyed while thread is still running",
    SIGABRT). The database is in WAL mode and each write is one transaction, so nothing acknowledged is lost."""
    busy = threads_still_running()
    if not busy:
        return code
    log.warning("%d engine thread(s) still busy at exit; the process ends without waiting for them", busy)
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class EngineThread(QObject):
    """Owns the engine ``QThread`` and the Assistant living on it.

    ``submit(worker)`` moves the worker to the engine thread and queues it; the call returns at once.
    ``shutdown(timeout_ms)`` cancels the running ask, closes the Assistant on its own thread and stops
    the thread (the only place the GUI thread waits, when the app is closing).
    """

    _dispatch = Signal(object)

    def __init__(self, factory: AssistantFactory, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._holder = _Holder(factory)
        self._thread = QThread()
        self._thread.setObjectName("jarvis-engine")
        self._runner = _Runner()
        self._runner.moveToThread(self._thread)
        self._dispatch.connect(self._runner.run_job)
        self._jobs: set[Worker] = set()
        self._closed = False
        self._thread.start()

    @property
    def busy(self) -> bool:
        """True while a job is queued or running."""
        return bool(self._jobs)

    def submit(self, worker: Worker) -> Worker:
        """Queue ``worker`` on the engine thread; returns it (connect its signals before or after)."""
        if self._closed:
            raise RuntimeError("the engine thread is shut down")
        worker.holder = self._holder
        worker.moveToThread(self._thread)
        self._jobs.add(worker)
        worker.done.connect(self._job_done)
        self._dispatch.emit(worker)
        return worker

    @Slot()
    def _job_done(self) -> None:
        self._jobs.discard(self.sender())

    def shutdown(self, timeout_ms: int = 20_000) -> None:
        """Cancel asks, close the Assistant and stop the thread, waiting at most ``timeout_ms``.

        The wait runs in 50 ms slices that deliver pending events, so a thread blocked handing the window a
        reminder (the scheduler's blocking signal) can finish instead of dead-locking the close. A job that cannot
        be interrupted (models still loading) may outlast the wait: the thread is then kept referenced until it
        ends, never destroyed while it runs."""
        if self._closed:
            return
        for job in list(self._jobs):
            if isinstance(job, AskWorker):
                job.stop()
        self.submit(CloseWorker())
        self._closed = True
        self._thread.quit()
        deadline = time.monotonic() + timeout_ms / 1000
        while not self._thread.wait(50):
            if time.monotonic() >= deadline:
                log.warning("the engine thread is still busy after %d ms; it is left to finish", timeout_ms)
                _LINGERING.append(self._thread)
                break
            QCoreApplication.processEvents()


class MicController(QObject):
    """Qt side of :class:`jarvis_desktop.audio.capture.MicCapture` (which knows nothing of Qt), for push-to-talk
    (hands-free listening is a :class:`~jarvis_desktop.ui.voice_worker.VoiceWorker` on its own microphone source).

    The input stream is opened on a background thread the first time ``begin()`` is called (opening can
    take a second or two) and then kept open, so later utterances start instantly. The capture's
    callbacks run on its own thread; they only emit signals, which Qt queues to the GUI thread:
    ``utterance(object)`` (float32 mono 16 kHz array), ``level(float)``, ``failed(str)``,
    ``opened()`` once the first audio block arrived.
    """

    utterance = Signal(object)
    level = Signal(float)
    failed = Signal(str)
    opened = Signal()
    _opened_internal = Signal(object)

    def __init__(self, settings: AudioSettings | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings  # None: read settings.toml's [audio] on the opening thread
        self._capture: MicCapture | None = None
        self._opening = False
        self._want_utterance = False
        self._opened_internal.connect(self._on_opened)

    @property
    def is_open(self) -> bool:
        return self._capture is not None

    def begin(self) -> None:
        """Start an utterance (opens the microphone first if needed)."""
        self._want_utterance = True
        if self._capture is not None:
            self._safe(self._capture.begin_utterance)
        elif not self._opening:
            self._opening = True
            threading.Thread(target=self._open, name="jarvis-mic-open", daemon=True).start()

    def end(self) -> None:
        """End the utterance: the capture hands the recorded audio to ``utterance``."""
        was_wanted, self._want_utterance = self._want_utterance, False
        if self._capture is not None and was_wanted:
            self._safe(self._capture.end_utterance)

    def reconfigure(self, settings: AudioSettings) -> None:
        """Use ``settings`` (a new device): the open stream closes and the next ``begin()`` opens the new one."""
        self._settings = settings
        if self._capture is not None and not self._want_utterance:
            self.close()

    def close(self) -> None:
        """Close the input stream (on a background thread; returns at once)."""
        capture, self._capture = self._capture, None
        if capture is not None:
            threading.Thread(target=self._safe, args=(capture.stop,), daemon=True).start()

    # ---- internals (the _open thread, then the GUI thread) ------------------------------------------
    def _open(self) -> None:
        try:
            settings = self._settings if self._settings is not None else load_settings().audio
            capture = MicCapture(
                self.utterance.emit, on_level=self.level.emit, settings=settings, on_error=self._on_capture_error
            )
            capture.start()
            if not capture.first_block.wait(5.0):
                capture.stop()
                raise RuntimeError("the microphone delivered no audio within 5 s")
        except Exception as exc:
            self._opening = False
            self.failed.emit(describe_error(exc))
            return
        self._opened_internal.emit(capture)

    def _on_capture_error(self, error: Exception) -> None:
        self.failed.emit(describe_error(error))

    @Slot(object)
    def _on_opened(self, capture: MicCapture) -> None:
        self._opening = False
        self._capture = capture
        self.opened.emit()
        if self._want_utterance:
            self._safe(capture.begin_utterance)

    def _safe(self, fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception as exc:
            self.failed.emit(describe_error(exc))
