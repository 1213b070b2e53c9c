"""Speaking replies: :class:`Speaker` runs SentenceStream -> speakable() -> synthesizer -> audio sink.

One worker thread synthesizes one sentence at a time (hibari on one onnxruntime thread, so the voice path and
the chat model keep a core) and hands it to the sink, which plays it on its own thread; a second thread delivers
:class:`~jarvis_desktop.tts.speech_event.SpeechEvent` to the listener, so a slow listener never delays audio.
No public method waits for synthesis or the device: the GUI thread and the voice session's worker may call
them freely.

Replies are spoken in the order they were asked for: a ``say()`` (a reminder firing) while a reply is spoken
waits for it; :meth:`Speaker.stop` drops everything. The worker stays at most :data:`LOOKAHEAD_S` of audio ahead
of the device, so a 100,000-character reply neither fills memory nor takes the CPU from the chat model.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable

import numpy as np

from jarvis_desktop.config import SpeechSettings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.tts.hibari_voice import HibariSynthesizer
from jarvis_desktop.tts.output import AudioOutput
from jarvis_desktop.tts.output_device import sounddevice_module
from jarvis_desktop.tts.sentences import SentenceStream
from jarvis_desktop.tts.sink import AudioSink
from jarvis_desktop.tts.speakable import speakable
from jarvis_desktop.tts.speech_event import ERROR, FINISHED, FIRST_AUDIO, SENTENCE, STOPPED, SpeechEvent
from jarvis_desktop.tts.synthesizer import Audio, SpeechSynthesizer

__all__ = ["LOOKAHEAD_S", "Speaker", "SpeechEvent", "SpeechStream"]

log = logging.getLogger(__name__)

LOOKAHEAD_S = 4.0
"""The worker synthesizes the next sentence only while less than this many seconds of audio wait to be played:
ample against a 0.05x real-time synthesis even when chat shares the CPU (a 15 s sentence takes < 1 s)."""

Listener = Callable[[SpeechEvent], None]


class _Reply:
    """One reply: its pieces (raw sentences) waiting to be spoken. Guarded by the Speaker's condition."""

    def __init__(self, text: str | None) -> None:
        self.started = time.perf_counter()
        self.raw = text  # a whole say() text, split on the worker; None for a stream
        self.pieces: deque[str] = deque()
        self.splitter = SentenceStream()
        self.closed = text is not None
        self.cancelled = False
        self.first_audio = False  # set on the audio thread
        self.on_first_audio: Callable[[float], None] | None = None  # called on the event thread

    def ms(self, at: float | None = None) -> float:
        return ((time.perf_counter() if at is None else at) - self.started) * 1000.0


class SpeechStream:
    """Handle of one streamed answer (from :meth:`Speaker.begin_stream`): :meth:`feed` deltas, then :meth:`end`.

    Sentences are cut as they complete (:class:`~jarvis_desktop.tts.sentences.SentenceStream`) and the first is
    spoken while later text still arrives. Both methods return at once and may be called from any one thread.
    After :meth:`Speaker.stop` (or with speech muted) they do nothing.
    """

    def __init__(self, speaker: Speaker | None, reply: _Reply | None) -> None:
        self._speaker = speaker
        self._reply = reply

    @property
    def active(self) -> bool:
        """True until :meth:`end`, a stop, or when speech was muted at ``begin_stream()``."""
        reply = self._reply
        return reply is not None and not reply.closed and not reply.cancelled

    def feed(self, delta: str) -> None:
        """Add the next piece of the answer (any length, ``""`` included)."""
        if self._speaker is not None and self._reply is not None:
            self._speaker._feed(self._reply, delta, final=False)

    def end(self) -> None:
        """The answer is complete: the last sentence is spoken too."""
        if self._speaker is not None and self._reply is not None:
            self._speaker._feed(self._reply, "", final=True)


class Speaker:
    """Speaks replies sentence by sentence: SentenceStream -> speakable() -> synthesizer (one thread) -> AudioOutput.

    Args:
        settings: the ``[speech]`` settings; ``enabled`` is read at each :meth:`say` / :meth:`begin_stream`
            (so muting takes effect at the next reply), the rest when the Speaker is built.
        synthesizer: the voice; ``None`` = :class:`~jarvis_desktop.tts.hibari_voice.HibariSynthesizer` with
            ``settings.voice`` and ``speed=settings.rate`` (one onnxruntime thread).
        output: where audio goes (:class:`~jarvis_desktop.tts.output.AudioOutput` or any
            :class:`~jarvis_desktop.tts.sink.AudioSink`, e.g. a WAV file); ``None`` =
            ``AudioOutput(synthesizer.sample_rate_hz, settings.device, settings.volume)``. Its rate must be the
            synthesizer's.
        listener: called with every :class:`SpeechEvent`, on the Speaker's event thread (not the caller's; a Qt
            window should emit a signal from it).

    Raises:
        ModelNotFoundError: ``settings.voice`` is not an available voice (only "heart" works offline).
        BadInputError: ``settings.rate`` is outside 0.5..2.0, or the output's rate differs from the voice's.
    """

    def __init__(
        self,
        settings: SpeechSettings,
        synthesizer: SpeechSynthesizer | None = None,
        output: AudioSink | None = None,
        listener: Listener | None = None,
    ) -> None:
        self.settings = settings
        self.synthesizer: SpeechSynthesizer = synthesizer or HibariSynthesizer(settings.voice, speed=settings.rate)
        rate = self.synthesizer.sample_rate_hz
        self.output: AudioSink = output or AudioOutput(rate, settings.device, settings.volume)
        if self.output.sample_rate_hz != rate:
            raise BadInputError(f"the audio output runs at {self.output.sample_rate_hz} Hz, the voice at {rate} Hz")
        self.listener = listener
        self.last_error: JarvisError | None = None
        """The last error a reply ran into (also sent as an ``"error"`` event); ``None`` if none."""
        self._cond = threading.Condition()
        self._replies: deque[_Reply] = deque()
        self._current: _Reply | None = None
        self._closed = False
        self._events: queue.SimpleQueue[SpeechEvent | Callable[[], None] | None] = queue.SimpleQueue()
        self._worker = threading.Thread(target=self._run, name="speaker", daemon=True)
        self._dispatcher = threading.Thread(target=self._dispatch, name="speaker-events", daemon=True)
        self._worker.start()
        self._dispatcher.start()

    # -- public API -----------------------------------------------------------------------------------------
    def say(self, text: str) -> None:
        """Speak a whole reply (raw text: Markdown, times and numbers are made speakable); returns at once.

        Queued after what is being spoken. A no-op when ``settings.enabled`` is False or the text holds
        nothing speakable (only the ``"finished"`` event follows then).
        """
        if not self.settings.enabled:
            return
        self._enqueue(_Reply(text))

    def begin_stream(self, on_first_audio: Callable[[float], None] | None = None) -> SpeechStream:
        """Start a streamed reply (a chat answer as the model writes it); returns its handle at once.

        Feed the model's deltas to ``handle.feed()`` and call ``handle.end()`` when the answer is complete:
        until then, replies asked for later wait behind it. With speech muted the handle does nothing.
        ``on_first_audio(at)``: called once, on the Speaker's event thread, with the ``time.perf_counter()``
        instant the reply's first sample was handed to the device (the voice session's ``speak_start``).
        """
        if not self.settings.enabled:
            return SpeechStream(None, None)
        reply = _Reply(None)
        reply.on_first_audio = on_first_audio
        self._enqueue(reply)
        return SpeechStream(self, reply)

    def stop(self) -> float:
        """Barge-in or a new turn: silence the output, drop queued replies and any running stream.

        Returns:
            Milliseconds spent until the output was told to be silent (the sink then goes silent within one
            20 ms block plus the device latency, see :data:`~jarvis_desktop.tts.output.LATENCY_S`).
        """
        t0 = time.perf_counter()
        with self._cond:
            dropped = ([self._current] if self._current is not None else []) + list(self._replies)
            self._replies.clear()
            for reply in dropped:
                reply.cancelled = True
            self.output.stop()
            self._cond.notify_all()
        took_ms = (time.perf_counter() - t0) * 1000.0
        if dropped:
            self._emit(SpeechEvent(STOPPED, "", dropped[0].ms(t0)))
        return took_ms

    @property
    def speaking(self) -> bool:
        """True while a reply is being synthesized or played, or one waits to be."""
        with self._cond:
            busy = self._current is not None or bool(self._replies)
        return busy or self.output.playing

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every reply asked for has been spoken (or stopped); False if ``timeout`` seconds passed.

        A stream whose ``end()`` was never called keeps the Speaker busy.
        """
        deadline = None if timeout is None else time.perf_counter() + timeout
        with self._cond:
            done = self._cond.wait_for(
                lambda: self._current is None and not self._replies,
                None if deadline is None else max(0.0, deadline - time.perf_counter()),
            )
        if not done:
            return False
        return self.output.wait_idle(None if deadline is None else max(0.0, deadline - time.perf_counter()))

    def warm_up(self) -> float:
        """Load the voice now (and PortAudio, for a sound device) so the first reply starts fast; returns seconds.

        Raises:
            ModelNotFoundError: the voice model is missing or corrupt.
        """
        t0 = time.perf_counter()
        warm = getattr(self.synthesizer, "warm_up", None)
        if callable(warm):
            warm()
        else:
            self.synthesizer.synthesize("Ready.")
        if isinstance(self.output, AudioOutput):
            try:
                sounddevice_module()
            except JarvisError as exc:  # reported when a reply is spoken
                log.info("audio output not available yet: %s", exc)
        return time.perf_counter() - t0

    def close(self) -> None:
        """Stop speaking, end the threads and release the output. The Speaker is not used afterwards."""
        self.stop()
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._worker.join(timeout=10)
        self._events.put(None)
        self._dispatcher.join(timeout=10)
        self.output.close()

    # -- callers' threads ---------------------------------------------------------------------------------------
    def _enqueue(self, reply: _Reply) -> None:
        with self._cond:
            if self._closed:
                return
            self._replies.append(reply)
            self._cond.notify_all()

    def _feed(self, reply: _Reply, delta: str, *, final: bool) -> None:
        with self._cond:
            if reply.cancelled or reply.closed:
                return
            reply.pieces.extend(reply.splitter.feed(delta))
            if final:
                reply.pieces.extend(reply.splitter.flush())
                reply.closed = True
            self._cond.notify_all()

    def _emit(self, event: SpeechEvent) -> None:
        if self.listener is not None:
            self._events.put(event)

    # -- event thread ---------------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        while True:
            event = self._events.get()
            if event is None:
                return
            try:
                if not isinstance(event, SpeechEvent):
                    event()  # a reply's on_first_audio
                elif self.listener is not None:
                    self.listener(event)
            except Exception:  # the listener's bug must not stop the events
                log.exception("speech listener failed on %s", event)

    # -- worker thread --------------------------------------------------------------------------------------
    def _run(self) -> None:
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._closed or bool(self._replies))
                if self._closed:
                    return
                reply = self._current = self._replies.popleft()
            try:
                self._speak(reply)
            except Exception as exc:  # never let the worker die: report and go on with the next reply
                log.exception("speaking a reply failed")
                self._fail(reply, JarvisError(f"internal failure while speaking: {type(exc).__name__}: {exc}"))
            with self._cond:
                self._current = None
                self._cond.notify_all()

    def _speak(self, reply: _Reply) -> None:
        """Synthesize and play ``reply`` piece by piece; then wait until it has been heard."""
        while (piece := self._next_piece(reply)) is not None:
            text = speakable(piece)
            if not text or not self._room_for_more(reply):
                continue
            try:
                audio = self.synthesizer.synthesize(text)
                self._play(reply, piece, audio)
            except JarvisError as exc:
                self._fail(reply, exc)
                return
        self._finish(reply)

    def _next_piece(self, reply: _Reply) -> str | None:
        """The next raw sentence of ``reply``; waits for a stream's next one; ``None`` when done or cancelled."""
        with self._cond:
            if reply.raw is not None:
                text, reply.raw = reply.raw, None
                reply.pieces.extend(reply.splitter.feed(text) + reply.splitter.flush())
            self._cond.wait_for(lambda: reply.cancelled or self._closed or bool(reply.pieces) or reply.closed)
            if reply.cancelled or self._closed or not reply.pieces:
                return None
            return reply.pieces.popleft()

    def _room_for_more(self, reply: _Reply) -> bool:
        """Wait while more than :data:`LOOKAHEAD_S` of audio is queued; False if the reply was stopped meanwhile."""
        while self.output.queued_s > LOOKAHEAD_S and not (reply.cancelled or self._closed):
            time.sleep(0.05)
        return not (reply.cancelled or self._closed)

    def _play(self, reply: _Reply, piece: str, audio: Audio) -> None:
        if reply.cancelled:
            return

        def started(at: float) -> None:  # PortAudio thread: only queue the events
            if not reply.first_audio:
                reply.first_audio = True
                self._emit(SpeechEvent(FIRST_AUDIO, "", reply.ms(at)))
                if reply.on_first_audio is not None:
                    callback = reply.on_first_audio
                    self._events.put(lambda: callback(at))
            self._emit(SpeechEvent(SENTENCE, piece, reply.ms(at)))

        self.output.play(np.asarray(audio, dtype=np.float32), on_start=started)
        if reply.cancelled:  # stop() ran between the check above and play(): take it back
            self.output.stop()

    def _finish(self, reply: _Reply) -> None:
        while not (reply.cancelled or self._closed) and not self.output.wait_idle(0.05):
            pass
        if not (reply.cancelled or self._closed):
            self._emit(SpeechEvent(FINISHED, "", reply.ms()))

    def _fail(self, reply: _Reply, error: JarvisError) -> None:
        log.warning("could not speak: %s", error.user_message())
        self.last_error = error
        with self._cond:
            reply.cancelled = True
        self._emit(SpeechEvent(ERROR, error.user_message(), reply.ms()))
