"""VoiceSession: hands-free listening without Qt: wake word, endpointing, speech-to-text, understanding, action.

Audio in: float32 ``(n,)`` mono 16 kHz chunks through :meth:`VoiceSession.feed` (from a
:mod:`~jarvis_desktop.voice.sources` source or any caller). Out: typed events (:mod:`~jarvis_desktop.voice.events`)
to a listener callback and/or the :meth:`VoiceSession.events` iterator. docs/voice.md draws the state machine.

Threads. ``feed`` only queues the chunk (it is safe from a PortAudio callback). The *audio thread* runs the cheap
per-frame work: Silero VAD + :class:`~jarvis_desktop.audio.endpoint.Endpointer` (~0.1 ms per 32 ms frame) and the
wake word's first stage (~9 % of a core). Everything heavy runs on the *worker thread*, one job at a time in
submission order: the wake verifier (Whisper, 0.3-1 s), speech-to-text, the NLU, the action or chat reply. The
audio thread never waits for the worker, so speech keeps being endpointed while a command is transcribed.

Wake word ("hey Jarvis", :mod:`.wake`). The first stage runs with no verifier on the audio thread; each activation
is queued for the verifier on the worker at once, so verification overlaps the rest of the sentence. An utterance
is a command when (a) the wake word is off, (b) the session is HEARING (after a verified wake) or in its FOLLOW_UP
window, (c) an activation lies inside it (the wake phrase and the command in one breath: the wake words are cut
from its transcript), or (d) it follows an activation still being verified (it is dropped if the verifier rejects
it). An utterance that could still hold an activation (the first stage peaks up to ~0.4 s after the phrase, plus
its 0.24 s tail) is held until the wake detector has heard :data:`WAKE_HORIZON_S` past its end, then dropped.

Speculative transcription: inside an addressed utterance, after ``speculative_silence_ms`` (192 ms) of silence the
audio so far goes to speech-to-text while the endpointer waits out its ``end_silence_ms`` (400 ms). When the
endpoint comes with the same end of speech, that transcript is used; if speech resumed it is dropped.

Partial transcripts (``partials``): while an addressed utterance is being spoken, every ``partial_interval_ms`` of
new audio (and at least twice the last partial's decode time) the *partial thread* re-decodes it (its last
:data:`PARTIAL_MAX_S` seconds) with the same warm speech-to-text and emits a
:class:`~jarvis_desktop.voice.events.PartialEvent` (LocalAgreement-2 stable prefix, :mod:`.stt.partials`).
So that partials never delay the final more than the rest of one decode, at most one is in flight (none is queued
behind it), none starts once silence has begun (from the first unvoiced frame: speculative STT and the endpoint come
next), a job not started when the speculative STT or the endpoint arrives is skipped, and one that finishes after
the endpoint is dropped.
"""

from __future__ import annotations

import logging
import queue
import re
import threading
import time
from bisect import bisect_left
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.audio.endpoint import Endpoint, Endpointer, EndpointSettings, SpeechStart
from jarvis_desktop.audio.silero import FRAME_SAMPLES, SileroVad
from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.config import VoiceSettings
from jarvis_desktop.errors import JarvisError
from jarvis_desktop.nlu.engine import ParseResult
from jarvis_desktop.stt.partials import LocalAgreement
from jarvis_desktop.stt.transcript import Transcript
from jarvis_desktop.tts.speaker import Speaker, SpeechStream
from jarvis_desktop.voice.events import (
    ActionEvent,
    BargeInEvent,
    EndpointEvent,
    ErrorEvent,
    ListeningState,
    ParseEvent,
    PartialEvent,
    ReplyEvent,
    SpeakStartEvent,
    SpeechStartEvent,
    StateEvent,
    TranscriptEvent,
    VoiceEvent,
    WakeEvent,
)
from jarvis_desktop.voice.wake import WakeDetection, WakeWordDetector
from jarvis_desktop.voice.wake_verify import DEFAULT_PROMPT as WAKE_PROMPT
from jarvis_desktop.voice.wake_verify import WAKE_SPELLINGS, Verdict, WakeVerifier, WhisperWakeVerifier

__all__ = ["VoiceSession", "strip_wake_phrase"]

log = logging.getLogger(__name__)

WAKE_HORIZON_S = 0.85
"""Seconds of audio after an utterance's end of speech within which a wake activation still counts as inside it
(first-stage peak delay <= 0.4 s, verifier tail 0.24 s, one 80 ms step, margin)."""

WAKE_MATCH_AFTER_S = 0.5
"""An activation at most this long after an utterance's end of speech belongs to that utterance."""

_INTERJECTIONS = frozenset({"hey", "hi", "hay", "ok", "okay", "a"})
_WORD = re.compile(r"[A-Za-z']+")
_STOP = object()
_FLUSH = object()
_LISTEN_NOW = object()

_ACTIVE_STATES = frozenset({ListeningState.HEARING, ListeningState.TRANSCRIBING, ListeningState.RESPONDING})
"""States in which the session is :attr:`VoiceSession.active` (the knowledge indexer yields)."""

PARTIAL_MAX_S = 10.0
"""A partial decodes at most the last this many seconds of the utterance (beyond it every word is unstable)."""

Listener = Callable[[VoiceEvent], None]


def strip_wake_phrase(text: str) -> str:
    """``text`` without leading wake phrases: everything up to a "Jarvis" among the first three words, or else a
    leading "hey/hi/okay <word>" (Whisper may spell the name otherwise once the verifier has accepted it). Repeated
    until none is left, because a decoder primed with "Hey Jarvis." sometimes writes the phrase twice.

    >>> strip_wake_phrase("Hey, Jarvis, set a timer for 10 minutes.")
    'set a timer for 10 minutes.'
    >>> strip_wake_phrase("Hey Jarvis. Hey, hey Jarvis.")
    ''
    """
    rest = _strip_one_wake_phrase(text)
    while rest and rest != text and _has_name(rest):
        text, rest = rest, _strip_one_wake_phrase(rest)
    return rest


def _has_name(text: str) -> bool:
    return any(m.group().lower().replace("'", "") in WAKE_SPELLINGS for m in list(_WORD.finditer(text))[:3])


def _strip_one_wake_phrase(text: str) -> str:
    words = list(_WORD.finditer(text))
    for match in words[:3]:
        if match.group().lower().replace("'", "") in WAKE_SPELLINGS:
            return _rest(text, match.end())
    if len(words) >= 2 and words[0].group().lower() in _INTERJECTIONS and words[0].group().lower() != "a":
        return _rest(text, words[1].end())
    return text.strip()


def _rest(text: str, end: int) -> str:
    return re.sub(r"^[\s,.!?;:]+", "", text[end:]).strip()


@dataclass
class _Activation:
    """A first-stage wake activation; ``verdict`` is filled in by the worker (None while pending)."""

    detection: WakeDetection
    verdict: Verdict | None = None
    used: bool = False

    @property
    def sample(self) -> int:
        return self.detection.sample


@dataclass
class _Speculation:
    """Speech-to-text started before the endpoint; valid for one (speech start, end of speech) pair."""

    speech_sample: int
    last_voiced_sample: int
    audio: np.ndarray
    gate: _Activation | None
    prompt: str = ""
    stale: threading.Event = field(default_factory=threading.Event)
    transcript: Transcript | None = None
    stt_ms: float = 0.0


@dataclass
class _Partial:
    """A partial decode of the open utterance. ``skip``: do not start it (silence began, the speculative STT or
    the endpoint came); ``ended``: the utterance's endpoint came, drop its result."""

    speech_sample: int
    end_sample: int
    audio: np.ndarray
    capped: bool
    strip_wake: bool
    skip: threading.Event = field(default_factory=threading.Event)
    ended: threading.Event = field(default_factory=threading.Event)
    done: threading.Event = field(default_factory=threading.Event)


@dataclass
class _Utterance:
    """An endpoint handed to the worker. ``gate``: an activation whose verdict decides whether it is a command;
    ``inside``: the activation inside it (its wake phrase is cut from the transcript)."""

    endpoint: Endpoint
    gate: _Activation | None
    inside: _Activation | None
    speculation: _Speculation | None = None


class VoiceSession:
    """The listening loop on one audio stream (no Qt). See the module docstring for threads and wake rules.

    Args:
        assistant: STT, NLU and actions (its models are warmed by :meth:`start`).
        settings: ``[voice]`` settings; ``None`` = ``assistant.settings.voice``.
        listener: called with every event, on the session's threads, one call at a time.
        now: a fixed clock for the NLU and actions (``--now``); ``None`` = the assistant's clock.
        dry_run: actions say what they would do and change nothing (no chat history either). Otherwise each
            answered command is written to the chat history as typed turns are (if ``assistant.record_history``).
        wake_detector / verifier: injected first and second stage (``None`` = built from ``settings`` when the
            wake word is on: :class:`WakeWordDetector` without verifier + :class:`WhisperWakeVerifier`).
        speaker: speaks each reply as it is written (:class:`~jarvis_desktop.tts.speaker.Speaker`); ``None`` =
            silent. While it speaks, an utterance without a wake activation in it is taken for the speaker's own
            voice (echo) and ignored, and the follow-up window starts only when it has finished. With
            ``[speech] barge_in``, a first-stage "hey Jarvis" or :meth:`listen_now` stops it (barge-in).

    Raises:
        ModelNotFoundError: the Silero VAD, the wake-word package (``pyopen-wakeword``) or the verifier's Whisper
            model is missing (raised here, before any audio).
    """

    def __init__(
        self,
        assistant: Assistant,
        settings: VoiceSettings | None = None,
        listener: Listener | None = None,
        now: datetime | None = None,
        dry_run: bool = False,
        wake_detector: WakeWordDetector | None = None,
        verifier: WakeVerifier | None = None,
        speaker: Speaker | None = None,
    ) -> None:
        self.assistant = assistant
        self.speaker = speaker
        self.barge_in = assistant.settings.speech.barge_in
        self._turn_cancel = threading.Event()  # set by a barge-in: the chat answer being written stops
        self._spoke_at = -1  # the stream position (samples) at which the speaker was last heard speaking
        self.settings = settings or assistant.settings.voice
        self.listener = listener
        self.now = now
        self.dry_run = dry_run
        self.wake_on = self.settings.wake_word
        ep = EndpointSettings(end_silence_ms=self.settings.end_silence_ms)
        self._vad = SileroVad()
        self._endpointer = Endpointer(ep)
        self._wake: WakeWordDetector | None = None
        self._verifier: WakeVerifier | None = None
        if self.wake_on:
            self._wake = wake_detector or WakeWordDetector(threshold=self.settings.sensitivity, verifier=None)
            self._verifier = verifier or WhisperWakeVerifier(stt=assistant.stt)
            self._wake.on_crossing = lambda sample: self._barge_in("wake", sample)  # before the 0.24 s tail
        self._pre_roll = self._endpointer.pre_roll_frames * FRAME_SAMPLES
        self._post_roll = self._endpointer.post_roll_frames * FRAME_SAMPLES
        self._spec_frames = max(1, int(np.ceil(self.settings.speculative_silence_ms * SAMPLE_RATE / 1000 / 512)))
        ring_frames = int((ep.max_utterance_s + 2.0) * SAMPLE_RATE / FRAME_SAMPLES)
        self._ring: deque[np.ndarray] = deque(maxlen=ring_frames)
        self._audio_q: queue.Queue[object] = queue.Queue()
        self._work_q: queue.Queue[object] = queue.Queue()
        self._partial_q: queue.Queue[object] = queue.Queue()
        self._partial_frames = max(1, int(np.ceil(self.settings.partial_interval_ms * SAMPLE_RATE / 1000 / 512)))
        self._agreement = LocalAgreement()
        self._agreement_for = -1  # the speech_sample of the utterance the agreement holds
        self._partial_cost_frames = 0  # twice the last partial decode, in 32 ms frames (set by the partial thread)
        self._emit_lock = threading.Lock()
        self._arrival_lock = threading.Lock()
        self._state_lock = threading.Lock()
        self._subscribers: list[queue.Queue[VoiceEvent | None]] = []
        self._threads: list[threading.Thread] = []
        self._state = self._idle_state()
        self._deadline: int | None = None
        self._busy = 0
        self._t0 = time.perf_counter()
        self._unhook: Callable[[], None] | None = None  # removes the knowledge indexer's busy check (start/close)
        self._reset_stream()

    # ---- public API ---------------------------------------------------------------------------------
    @property
    def state(self) -> ListeningState:
        """The current :class:`ListeningState`."""
        return self._state

    @property
    def active(self) -> bool:
        """True while the session hears a command, transcribes or answers it (``HEARING``, ``TRANSCRIBING``,
        ``RESPONDING``) or a worker job (wake verification, speculative STT, an utterance) is queued or running.
        From :meth:`start` to :meth:`close` the assistant's knowledge indexer yields while it is True."""
        return self._busy > 0 or self._state in _ACTIVE_STATES

    @property
    def position_s(self) -> float:
        """Seconds of audio the audio thread has processed."""
        return self._position / SAMPLE_RATE

    def start(self) -> None:
        """Load the models (STT, NLU, wake verifier) and start the audio and worker threads.

        Raises:
            ModelNotFoundError: a model cannot be loaded.
        """
        self.assistant.stt.warm_up()
        self.assistant.nlu.parse("hello")
        if self._verifier is not None:
            self._verifier.verify(np.zeros(SAMPLE_RATE // 2, dtype=np.float32))
        self._t0 = time.perf_counter()
        if self._unhook is None:
            self._unhook = self.assistant.add_busy_check(lambda: self.active)
        loops = [("voice-audio", self._audio_loop), ("voice-worker", self._work_loop)]
        if self.settings.partials:
            loops.append(("voice-partials", self._partial_loop))
        for name, target in loops:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        self._emit(StateEvent(0.0, 0.0, state=self._state, previous=self._state))

    def feed(self, chunk: np.ndarray) -> None:
        """Queue float32 ``(n,)`` mono 16 kHz samples in [-1, 1] (any length, any thread); returns at once."""
        self._audio_q.put((np.asarray(chunk, dtype=np.float32).reshape(-1), time.perf_counter()))

    def listen_now(self) -> None:
        """Start listening for a command as if "hey Jarvis" had just been accepted (the tray's "Listen now", the
        hotkey). From ``WAITING_FOR_WAKE``, ``WAITING_FOR_SPEECH`` or ``FOLLOW_UP`` the session goes to
        ``HEARING`` and waits ``wake_timeout_s`` seconds of audio for the command (an utterance already under way
        is taken too); in any other state (already hearing, transcribing, responding) it does nothing.

        Safe from any thread; returns at once. The switch is made by the audio thread in stream order, after the
        chunks fed before the call (the ``state`` event comes from there)."""
        self._audio_q.put(_LISTEN_NOW)

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Block until every fed chunk is processed and every job it caused is done; False on timeout."""
        deadline = None if timeout is None else time.monotonic() + timeout
        return all(_join(q, deadline) for q in (self._audio_q, self._work_q, self._partial_q))

    def finish(self, timeout: float | None = None) -> None:
        """End of stream: close an utterance in progress, let every job finish, stop the threads."""
        self._audio_q.put(_FLUSH)
        self.wait_idle(timeout)
        self.close()

    def close(self) -> None:
        """Stop the threads (after the jobs already queued) and end :meth:`events` iterators."""
        for q in (self._audio_q, self._work_q):
            q.put(_STOP)
        if self.settings.partials:
            self._partial_q.put(_STOP)
        for thread in self._threads:
            thread.join(timeout=10)
        self._threads = []
        unhook, self._unhook = self._unhook, None
        if unhook is not None:
            unhook()
        with self._emit_lock:
            for sub in self._subscribers:
                sub.put(None)

    def events(self) -> Iterator[VoiceEvent]:
        """Iterate over the events from now until :meth:`close` (call before feeding to miss none)."""
        sub: queue.Queue[VoiceEvent | None] = queue.Queue()
        with self._emit_lock:
            self._subscribers.append(sub)
        while (event := sub.get()) is not None:
            yield event

    # ---- shared helpers ---------------------------------------------------------------------------
    def _reset_stream(self) -> None:
        self._position = 0
        self._frames = 0
        self._arrivals: list[tuple[int, float]] = []  # (end sample of a fed chunk, wall time it arrived)
        self._activations: deque[_Activation] = deque(maxlen=8)
        self._pending: list[Endpoint] = []
        self._last_emitted = 0
        self._speech_sample = 0
        self._last_voiced = 0
        self._silence = 0
        self._spec: _Speculation | None = None
        self._partial: _Partial | None = None
        self._partial_mark = 0  # the frame count when the last partial was queued (or speech started)

    def _idle_state(self) -> ListeningState:
        return ListeningState.WAITING_FOR_WAKE if self.wake_on else ListeningState.WAITING_FOR_SPEECH

    def _emit(self, event: VoiceEvent) -> None:
        with self._emit_lock:
            if self.listener is not None:
                try:
                    self.listener(event)
                except Exception:  # a listener bug must not stop listening
                    log.exception("voice session listener failed on %s", event.kind)
            for sub in self._subscribers:
                sub.put(event)

    def _set_state(self, state: ListeningState, deadline_s: float | None = None) -> None:
        with self._state_lock:
            previous, self._state = self._state, state
            self._deadline = None if deadline_s is None else self._position + int(deadline_s * SAMPLE_RATE)
        if previous != state:
            self._emit(StateEvent(self.position_s, 0.0, state=state, previous=previous))

    def _wall_of(self, sample: int) -> float:
        """Wall time (perf_counter) when ``sample`` reached the session: interpolated inside the chunk that held
        it at real-time pace, never before the previous chunk arrived."""
        with self._arrival_lock:
            i = bisect_left(self._arrivals, (sample, -1.0))
            if i >= len(self._arrivals):
                return time.perf_counter()
            end, wall = self._arrivals[i]
            floor = self._arrivals[i - 1][1] if i > 0 else wall - end / SAMPLE_RATE
        return max(floor, wall - (end - sample) / SAMPLE_RATE)

    def _latency_ms(self, sample: int) -> float:
        return (time.perf_counter() - self._wall_of(sample)) * 1000.0

    def _error(self, stage: str, exc: BaseException) -> None:
        message = exc.user_message() if isinstance(exc, JarvisError) else f"{type(exc).__name__}: {exc}"
        self._emit(ErrorEvent(self.position_s, 0.0, stage=stage, message=message))

    def _submit(self, job: object) -> None:
        with self._state_lock:
            self._busy += 1
        self._work_q.put(job)

    # ---- audio thread ---------------------------------------------------------------------------------
    def _audio_loop(self) -> None:
        while True:
            item = self._audio_q.get()
            try:
                if item is _STOP:
                    return
                if item is _FLUSH:
                    self._on_flush()
                elif item is _LISTEN_NOW:
                    self._on_listen_now()
                elif isinstance(item, tuple):
                    self._on_chunk(item[0], item[1])
            except Exception as exc:  # keep listening whatever one chunk did
                log.exception("voice session: audio processing failed")
                self._error("audio", exc)
            finally:
                self._audio_q.task_done()

    def _on_chunk(self, chunk: np.ndarray, arrived: float) -> None:
        self._position += len(chunk)
        if self.speaker is not None and self.speaker.speaking:
            self._spoke_at = self._position
        with self._arrival_lock:
            self._arrivals.append((self._position, arrived))
            if len(self._arrivals) > 4096:
                del self._arrivals[:2048]
        frames, probs = self._vad.process(chunk)
        for frame, p in zip(frames, probs, strict=True):
            self._on_frame(frame, float(p))
        if self._wake is not None:
            for detection in self._wake.process(chunk):
                self._on_activation(detection)
            self._resolve_pending()
        self._check_deadline()

    def _on_frame(self, frame: np.ndarray, p: float) -> None:
        self._ring.append(frame)
        index = self._frames
        self._frames += 1
        for event in self._endpointer.push(frame, p):
            if isinstance(event, SpeechStart):
                self._on_speech_start(event, index)
            else:
                self._on_endpoint(event)
        if self._endpointer.in_speech and index > self._speech_sample // FRAME_SAMPLES:
            self._track_silence(index, p)
            self._maybe_partial()

    def _on_speech_start(self, event: SpeechStart, index: int) -> None:
        self._speech_sample = event.speech_sample
        self._last_voiced = (index + 1) * FRAME_SAMPLES
        self._silence = 0
        self._partial_mark = self._frames
        self._emit(SpeechStartEvent(event.time_s, self._latency_ms(event.speech_sample)))
        if self._state in (ListeningState.FOLLOW_UP, ListeningState.WAITING_FOR_SPEECH, ListeningState.HEARING):
            self._set_state(ListeningState.HEARING)

    def _track_silence(self, index: int, p: float) -> None:
        s = self._endpointer.settings
        if p >= s.threshold:
            self._last_voiced = (index + 1) * FRAME_SAMPLES
        if p >= s.neg_threshold:
            self._silence = 0
            if self._spec is not None:  # speech resumed: the speculative transcript is stale
                self._spec.stale.set()
                self._spec = None
            return
        self._silence += 1
        if self._partial is not None:  # silence began: the speculative STT and the endpoint must not wait
            self._partial.skip.set()
        if self._silence == self._spec_frames and self.settings.speculative_stt:
            self._speculate()

    def _speculate(self) -> None:
        gate = None if self._addressed_now() else self._gate_for_open_utterance()
        if gate is None and not self._addressed_now():
            return
        start = max(self._speech_sample - self._pre_roll, self._last_emitted)
        end = min(self._frames * FRAME_SAMPLES, self._last_voiced + self._post_roll)
        audio = self._ring_slice(start, end)
        if audio.size == 0:
            return
        if self._partial is not None:
            self._partial.skip.set()
        prompt = WAKE_PROMPT if self._wake_inside_open_utterance() else ""
        self._spec = _Speculation(self._speech_sample, self._last_voiced, audio, gate, prompt)
        self._submit(self._spec)

    def _maybe_partial(self) -> None:
        """Queue a partial decode of the utterance so far when partials are on, it is addressed and still voiced,
        none is in flight, and since the last one was queued came ``partial_interval_ms`` of audio and twice its
        decode time (so partials take at most about half of the speech-to-text's time on a slow or busy machine)."""
        if not self.settings.partials or self._silence > 0 or self._spec is not None or not self._addressed_now():
            return
        if self._frames - self._partial_mark < max(self._partial_frames, self._partial_cost_frames):
            return
        if self._partial is not None and not self._partial.done.is_set():
            return
        end = self._frames * FRAME_SAMPLES
        start = max(self._speech_sample - self._pre_roll, self._last_emitted)
        capped = end - start > int(PARTIAL_MAX_S * SAMPLE_RATE)
        start = max(start, end - int(PARTIAL_MAX_S * SAMPLE_RATE))
        strip = self._wake_inside_open_utterance()
        self._partial = _Partial(self._speech_sample, end, self._ring_slice(start, end), capped, strip)
        self._partial_mark = self._frames
        self._partial_q.put(self._partial)

    def _end_partials(self) -> None:
        partial, self._partial = self._partial, None
        if partial is not None:
            partial.skip.set()
            partial.ended.set()

    def _on_listen_now(self) -> None:
        self._barge_in("listen_now", self._position)
        if self._state in (
            ListeningState.WAITING_FOR_WAKE,
            ListeningState.WAITING_FOR_SPEECH,
            ListeningState.FOLLOW_UP,
        ):
            self._set_state(ListeningState.HEARING, self.settings.wake_timeout_s)

    def _ring_slice(self, start: int, end: int) -> np.ndarray:
        first = self._frames - len(self._ring)
        lo = max(0, start // FRAME_SAMPLES - first)
        hi = max(lo, (end + FRAME_SAMPLES - 1) // FRAME_SAMPLES - first)
        frames = list(self._ring)[lo:hi]
        if not frames:
            return np.zeros(0, dtype=np.float32)
        audio = np.concatenate(frames)
        offset = start - (first + lo) * FRAME_SAMPLES
        return audio[max(0, offset) : max(0, offset) + (end - start)]

    def _wake_inside_open_utterance(self) -> bool:
        return any(a.sample >= self._speech_sample for a in self._activations)

    def _gate_for_open_utterance(self) -> _Activation | None:
        """An activation inside the utterance in progress, else one still being verified."""
        for act in reversed(self._activations):
            if act.sample >= self._speech_sample or act.verdict is None:
                return act
        return None

    def _addressed_now(self) -> bool:
        return (not self.wake_on) or self._state in (ListeningState.HEARING, ListeningState.FOLLOW_UP)

    def _on_endpoint(self, endpoint: Endpoint) -> None:
        self._last_emitted = endpoint.emitted_sample
        self._end_partials()
        spec, self._spec = self._spec, None
        if spec is not None and (
            spec.last_voiced_sample != endpoint.last_voiced_sample or spec.speech_sample != endpoint.speech_sample
        ):
            spec.stale.set()
            spec = None
        inside = self._activation_in(endpoint) if self.wake_on else None
        echo = self._spoke_at >= endpoint.speech_sample  # Jarvis was speaking while this was said
        if echo and inside is None and not self.wake_on:
            self._emit_endpoint(endpoint, False)  # no wake word can claim it: the speaker's own voice
        elif self._addressed_now() and not echo:
            self._route(endpoint, None, inside, spec)
        elif inside is not None:
            self._route(endpoint, inside, inside, spec)
        elif (gate := self._unverified()) is not None:
            self._route(endpoint, gate, None, spec)
        else:
            self._pending.append(endpoint)  # the wake word may still be detected in it

    def _route(
        self, endpoint: Endpoint, gate: _Activation | None, inside: _Activation | None, spec: _Speculation | None
    ) -> None:
        """Hand ``endpoint`` to the worker: a command if ``gate`` is None or accepted; ``inside`` (the activation
        in it) has its wake phrase cut from the transcript."""
        if inside is not None:
            inside.used = True
        self._emit_endpoint(endpoint, True)
        self._submit(_Utterance(endpoint, gate, inside, spec))

    def _emit_endpoint(self, endpoint: Endpoint, addressed: bool) -> None:
        s = endpoint.last_voiced_sample / SAMPLE_RATE
        self._emit(
            EndpointEvent(
                s,
                self._latency_ms(endpoint.last_voiced_sample),
                start_s=endpoint.start_sample / SAMPLE_RATE,
                end_s=endpoint.end_sample / SAMPLE_RATE,
                addressed=addressed,
                truncated=endpoint.truncated,
            )
        )

    def _activation_in(self, endpoint: Endpoint) -> _Activation | None:
        after = int(WAKE_MATCH_AFTER_S * SAMPLE_RATE)
        for act in self._activations:
            if not act.used and endpoint.speech_sample <= act.sample <= endpoint.last_voiced_sample + after:
                return act
        return None

    def _unverified(self) -> _Activation | None:
        return next((a for a in self._activations if a.verdict is None), None)

    def _barge_in(self, trigger: str, sample: int) -> None:
        """Stop a spoken reply (and the chat answer still being written) when the user addresses Jarvis."""
        if self.speaker is None or not self.barge_in or not self.speaker.speaking:
            return
        self._turn_cancel.set()
        stop_ms = self.speaker.stop()
        self._emit(BargeInEvent(sample / SAMPLE_RATE, self._latency_ms(sample), stop_ms=stop_ms, trigger=trigger))

    def _on_activation(self, detection: WakeDetection) -> None:
        act = _Activation(detection)
        self._activations.append(act)
        self._submit(act)

    def _resolve_pending(self) -> None:
        horizon = int(WAKE_HORIZON_S * SAMPLE_RATE)
        keep: list[Endpoint] = []
        for endpoint in self._pending:
            act = self._activation_in(endpoint)
            if act is not None:
                self._route(endpoint, act, act, None)
            elif self._position >= endpoint.last_voiced_sample + horizon:
                self._emit_endpoint(endpoint, False)
            else:
                keep.append(endpoint)
        self._pending = keep

    def _on_flush(self) -> None:
        for event in self._endpointer.flush():
            if isinstance(event, Endpoint):
                self._on_endpoint(event)
        for endpoint in self._pending:
            act = self._activation_in(endpoint)
            if act is not None:
                self._route(endpoint, act, act, None)
            else:
                self._emit_endpoint(endpoint, False)
        self._pending = []

    def _check_deadline(self) -> None:
        with self._state_lock:
            if self._spoke_at == self._position and self._deadline is not None:  # speaking: the window waits
                self._deadline = max(self._deadline, self._position + int(self.settings.follow_up_s * SAMPLE_RATE))
            expired = (
                self._deadline is not None
                and self._position >= self._deadline
                and self._busy == 0
                and not self._endpointer.in_speech
            )
        if expired:
            self._set_state(self._idle_state())

    # ---- worker thread --------------------------------------------------------------------------------
    def _work_loop(self) -> None:
        while True:
            job = self._work_q.get()
            try:
                if job is _STOP:
                    return
                if isinstance(job, _Activation):
                    self._verify(job)
                elif isinstance(job, _Speculation):
                    self._run_speculation(job)
                elif isinstance(job, _Utterance):
                    self._run_utterance(job)
            except Exception as exc:  # report and keep listening
                log.exception("voice session: worker job failed")
                self._error("worker", exc)
                self._set_state(self._idle_state())
            finally:
                with self._state_lock:
                    self._busy = max(0, self._busy - 1) if job is not _STOP else self._busy
                self._work_q.task_done()

    def _verify(self, act: _Activation) -> None:
        assert self._verifier is not None
        t0 = time.perf_counter()
        try:
            verdict = self._verifier.verify(act.detection.segment)
        except JarvisError as exc:
            verdict = Verdict(False, "", f"verifier failed: {exc}")
            self._error("wake", exc)
        act.verdict = verdict
        verify_ms = (time.perf_counter() - t0) * 1000.0
        self._emit(
            WakeEvent(
                act.detection.time_s,
                self._latency_ms(act.sample),
                score=act.detection.score,
                accepted=verdict.accepted,
                heard=verdict.text,
                verify_ms=verify_ms,
            )
        )
        if verdict.accepted and self._state in (ListeningState.WAITING_FOR_WAKE, ListeningState.FOLLOW_UP):
            self._set_state(ListeningState.HEARING, self.settings.wake_timeout_s)

    def _run_speculation(self, spec: _Speculation) -> None:
        if spec.stale.is_set() or (spec.gate is not None and not _accepted(spec.gate)):
            return
        t0 = time.perf_counter()
        spec.transcript = self.assistant.stt.transcribe(
            spec.audio, prompt=spec.prompt, vad_filter=False, short_context=True
        )
        spec.stt_ms = (time.perf_counter() - t0) * 1000.0

    # ---- partial thread -------------------------------------------------------------------------------
    def _partial_loop(self) -> None:
        while True:
            job = self._partial_q.get()
            try:
                if job is _STOP:
                    return
                if isinstance(job, _Partial):
                    self._run_partial(job)
            except Exception as exc:  # a failed partial costs nothing: the final transcript follows
                log.exception("voice session: partial transcript failed")
                self._error("stt", exc)
            finally:
                if isinstance(job, _Partial):
                    job.done.set()
                self._partial_q.task_done()

    def _run_partial(self, job: _Partial) -> None:
        if job.skip.is_set() or job.audio.size == 0:
            return
        t0 = time.perf_counter()
        prompt = WAKE_PROMPT if job.strip_wake else ""
        heard = self.assistant.stt.transcribe(
            job.audio, prompt=prompt, vad_filter=False, short_context=True
        ).text.strip()
        decode_ms = (time.perf_counter() - t0) * 1000.0
        self._partial_cost_frames = int(2 * decode_ms * SAMPLE_RATE / 1000 / FRAME_SAMPLES)
        if job.ended.is_set():
            return
        if job.capped or job.speech_sample != self._agreement_for:
            self._agreement.reset()
            self._agreement_for = job.speech_sample
        part = self._agreement.update(strip_wake_phrase(heard) if job.strip_wake else heard)
        if not part.text:
            return
        self._emit(
            PartialEvent(
                job.end_sample / SAMPLE_RATE,
                self._latency_ms(job.end_sample),
                text_stable=part.stable,
                text_unstable=part.unstable,
                decode_ms=decode_ms,
            )
        )

    def _run_utterance(self, job: _Utterance) -> None:
        if job.gate is not None and not _accepted(job.gate):
            return
        endpoint = job.endpoint
        self._set_state(ListeningState.TRANSCRIBING)
        heard, stt_ms, speculative = self._transcribe(job)
        text = strip_wake_phrase(heard) if job.inside is not None else heard.strip()
        ref = endpoint.last_voiced_sample
        self._emit(
            TranscriptEvent(
                ref / SAMPLE_RATE,
                self._latency_ms(ref),
                text=text,
                heard=heard,
                stt_ms=stt_ms,
                speculative=speculative,
            )
        )
        if not _has_words(text):
            if job.inside is not None and _accepted(job.inside):  # "hey Jarvis" alone: wait for the command
                self._set_state(ListeningState.HEARING, self.settings.wake_timeout_s)
            else:
                self._done()
            return
        duration_s = (endpoint.end_sample - endpoint.start_sample) / SAMPLE_RATE
        self._respond(Transcript(text, duration_s, stt_ms / 1000.0), ref)

    def _transcribe(self, job: _Utterance) -> tuple[str, float, bool]:
        """(raw transcript, STT ms, speculative?): the speculative transcript when still valid, the verifier's own
        transcript when the utterance lies inside its wake segment, else speech-to-text now."""
        spec = job.speculation
        if spec is not None and spec.transcript is not None and not spec.stale.is_set():
            return spec.transcript.text.strip(), spec.stt_ms, True
        gate, endpoint = job.inside, job.endpoint
        if gate is not None and gate.verdict is not None:
            seg_start = gate.sample + _tail(self._wake) - len(gate.detection.segment)
            if endpoint.start_sample >= seg_start and endpoint.end_sample <= gate.sample + _tail(self._wake):
                return gate.verdict.text, 0.0, False
        t0 = time.perf_counter()
        prompt = WAKE_PROMPT if gate is not None else ""
        transcript = self.assistant.stt.transcribe(endpoint.audio, prompt=prompt, vad_filter=False, short_context=True)
        return transcript.text.strip(), (time.perf_counter() - t0) * 1000.0, False

    def _respond(self, transcript: Transcript, ref: int) -> None:
        """Understand and answer ``transcript`` through :meth:`Assistant.ask_text` (the typed and push-to-talk
        path: it records both sides in the chat history, the user's as voice input, unless ``record_history`` is
        off or this is a dry run); emits ``parse`` before the action or reply starts, then ``action`` and ``reply``."""
        now = self.now or self.assistant.now()
        t0 = time.perf_counter()
        t1 = t0
        self._turn_cancel = threading.Event()
        spoken = self._speech_for(ref)

        def token(delta: str) -> None:
            if spoken is not None:
                spoken.feed(delta)

        def parsed(parse: ParseResult) -> None:
            nonlocal t1, spoken
            t1 = time.perf_counter()
            if spoken is not None and parse.intent == "general_chat" and not self.assistant.settings.speech.speak_chat:
                spoken.end()
                spoken = None  # chat answers are shown, not read out
            self._emit(
                ParseEvent(
                    ref / SAMPLE_RATE,
                    self._latency_ms(ref),
                    text=parse.text,
                    intent=parse.intent,
                    date_keys=tuple(parse.date_keys),
                    when=parse.when,
                    confidence=parse.confidence,
                    source=parse.source,
                    payload=parse.payload,
                    nlu_ms=(t1 - t0) * 1000.0,
                )
            )
            self._set_state(ListeningState.RESPONDING)

        try:
            turn = self.assistant.ask_text(
                transcript.text,
                now,
                on_token=token,
                cancel=self._turn_cancel,
                _transcript=transcript,
                _timings={"stt": transcript.stt_seconds * 1000.0},
                dry_run=self.dry_run,
                on_parse=parsed,
            )
        finally:
            if spoken is not None:
                spoken.end()
        action_ms = (time.perf_counter() - t1) * 1000.0
        reply = turn.reply
        if reply.kind != "chat":
            self._emit(
                ActionEvent(
                    ref / SAMPLE_RATE,
                    self._latency_ms(ref),
                    intent=turn.parse.intent,
                    result=reply.kind,
                    action=reply.action,
                    dry_run=self.dry_run,
                    action_ms=action_ms,
                )
            )
        self._emit(
            ReplyEvent(
                ref / SAMPLE_RATE,
                self._latency_ms(ref),
                text=reply.text,
                reply_kind=reply.kind,
                citations=tuple(reply.citations),
                message_id=reply.message_id,
            )
        )
        self._done(replied=True)

    def _speech_for(self, ref: int) -> SpeechStream | None:
        """A speech stream for the reply to the utterance ending at sample ``ref`` (``None`` without a speaker);
        its first audio is reported as a :class:`SpeakStartEvent` with the latency from the end of speech."""
        if self.speaker is None:
            return None
        ref_wall = self._wall_of(ref)

        def first_audio(at: float) -> None:
            self._emit(SpeakStartEvent(ref / SAMPLE_RATE, (at - ref_wall) * 1000.0))

        return self.speaker.begin_stream(on_first_audio=first_audio)

    def _done(self, replied: bool = False) -> None:
        if replied and self.wake_on and self.settings.follow_up_s > 0:
            self._set_state(ListeningState.FOLLOW_UP, self.settings.follow_up_s)
        else:
            self._set_state(self._idle_state())


def _accepted(act: _Activation) -> bool:
    return act.verdict is not None and act.verdict.accepted


def _has_words(text: str) -> bool:
    return _WORD.search(text) is not None


def _tail(detector: WakeWordDetector | None) -> int:
    return detector.tail_samples if detector is not None else 0


def _join(q: queue.Queue[object], deadline: float | None) -> bool:
    """``q.join()`` with an optional monotonic deadline (Queue.join has no timeout)."""
    with q.all_tasks_done:
        while q.unfinished_tasks:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return False
            q.all_tasks_done.wait(remaining)
    return True
