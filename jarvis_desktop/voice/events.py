"""Typed events of a :class:`~jarvis_desktop.voice.session.VoiceSession` and its listening states.

Every event is a frozen dataclass with two stamps:

* ``audio_s``: the *audio time* it refers to, in seconds of the session's stream (16 kHz samples fed since it
  started, / 16000). For speech events that is a position in the audio (the first voiced frame, the end of
  speech); for ``state`` and ``error`` the position the session had reached.
* ``latency_ms``: *wall-clock* milliseconds from the moment that audio reached the session (at real-time pace:
  the moment it was spoken) to the moment the event was produced. For ``transcript``, ``parse``, ``action`` and
  ``reply`` the reference is the end of speech (the end of the last voiced 32 ms frame), so ``parse.latency_ms``
  is "end of speech -> parse result". Fed faster than real time (``--fast``) the reference is the moment the
  chunk holding it was fed, so the figure is processing time only.

``to_dict()`` gives the JSON shape of ``jarvis-desktop listen --json`` (``{"event": <kind>, ...}``, times rounded).
"""

from __future__ import annotations

import enum
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from jarvis_desktop.knowledge.answer import citation_to_dict
from jarvis_desktop.knowledge.types import Citation

__all__ = [
    "ActionEvent",
    "BargeInEvent",
    "SpeakStartEvent",
    "EndpointEvent",
    "ErrorEvent",
    "ListeningState",
    "ParseEvent",
    "PartialEvent",
    "ReplyEvent",
    "SpeechStartEvent",
    "StateEvent",
    "TranscriptEvent",
    "VoiceEvent",
    "WakeEvent",
]


class ListeningState(enum.Enum):
    """Where the session is (docs/voice.md draws the machine).

    ``WAITING_FOR_WAKE``: idle with the wake word on; speech is ignored unless "hey Jarvis" is in it.
    ``WAITING_FOR_SPEECH``: idle with the wake word off; any utterance is a command.
    ``HEARING``: addressed: a command is being spoken or awaited (after a bare "hey Jarvis").
    ``TRANSCRIBING``: speech-to-text on the command. ``RESPONDING``: understanding it and acting / answering.
    ``FOLLOW_UP``: after a reply, speech is taken without the wake word for ``follow_up_s`` seconds of audio.
    """

    WAITING_FOR_WAKE = "waiting_for_wake"
    WAITING_FOR_SPEECH = "waiting_for_speech"
    HEARING = "hearing"
    TRANSCRIBING = "transcribing"
    RESPONDING = "responding"
    FOLLOW_UP = "follow_up"


def _rounded(value: object) -> object:
    if isinstance(value, float):
        return round(value, 3)
    if isinstance(value, ListeningState):
        return value.value
    return value


@dataclass(frozen=True)
class _Event:
    kind: ClassVar[str] = ""
    audio_s: float
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        """``{"event": kind, field: value, ...}``: floats rounded to 3 decimals, states by their value."""
        out: dict[str, Any] = {"event": self.kind}
        out.update({k: _rounded(v) for k, v in asdict(self).items()})
        out["latency_ms"] = round(self.latency_ms, 1)
        return out


@dataclass(frozen=True)
class StateEvent(_Event):
    """The listening state changed from ``previous`` to ``state``."""

    kind: ClassVar[str] = "state"
    state: ListeningState = ListeningState.WAITING_FOR_WAKE
    previous: ListeningState = ListeningState.WAITING_FOR_WAKE


@dataclass(frozen=True)
class WakeEvent(_Event):
    """A wake-word activation was checked by the verifier. ``audio_s``: the 80 ms chunk where the first stage
    crossed the threshold (just after the phrase); ``score`` its first-stage score; ``accepted``/``heard``: the
    verifier's verdict and transcript; ``verify_ms``: the verifier's own time. Only accepted ones wake the
    session; rejected ones are reported so near misses can be seen."""

    kind: ClassVar[str] = "wake"
    score: float = 0.0
    accepted: bool = False
    heard: str = ""
    verify_ms: float = 0.0


@dataclass(frozen=True)
class SpeechStartEvent(_Event):
    """The endpointer heard speech start (``audio_s``: the first voiced frame). Emitted in every state."""

    kind: ClassVar[str] = "speech_start"


@dataclass(frozen=True)
class PartialEvent(_Event):
    """A partial transcript while the command is spoken (``partials`` setting): the utterance so far re-decoded.
    ``text_stable``: words the last two decodes agreed on (LocalAgreement-2, :mod:`~jarvis_desktop.stt.partials`;
    never taken back within the utterance); ``text_unstable``: the rest of the newest decode (may change);
    ``audio_s``: the end of the decoded audio; ``latency_ms``: from that audio reaching the session to this event;
    ``decode_ms``: the decode itself. The wake phrase is cut as in ``transcript``. The final ``transcript`` follows
    and is what is acted on."""

    kind: ClassVar[str] = "partial"
    text_stable: str = ""
    text_unstable: str = ""
    decode_ms: float = 0.0

    @property
    def text(self) -> str:
        """``text_stable`` and ``text_unstable`` joined by one space."""
        return f"{self.text_stable} {self.text_unstable}".strip()


@dataclass(frozen=True)
class EndpointEvent(_Event):
    """An utterance ended. ``audio_s``: end of speech (last voiced frame); ``start_s``/``end_s``: the utterance
    audio (pre- and post-roll included); ``addressed``: it is taken as a command (or a wake utterance) rather than
    ignored; ``truncated``: cut at the length cap. ``latency_ms`` here is the end-silence wait."""

    kind: ClassVar[str] = "endpoint"
    start_s: float = 0.0
    end_s: float = 0.0
    addressed: bool = False
    truncated: bool = False


@dataclass(frozen=True)
class TranscriptEvent(_Event):
    """Speech-to-text of a command. ``text``: what is understood (the wake phrase removed); ``heard``: the raw
    transcript; ``stt_ms``: the STT call; ``speculative``: the transcript was started before the endpoint (after
    ``speculative_silence_ms`` of silence) and kept because speech did not resume."""

    kind: ClassVar[str] = "transcript"
    text: str = ""
    heard: str = ""
    stt_ms: float = 0.0
    speculative: bool = False


@dataclass(frozen=True)
class ParseEvent(_Event):
    """What the command means (:class:`~jarvis_desktop.nlu.result.ParseResult`'s fields); ``nlu_ms``: the parse."""

    kind: ClassVar[str] = "parse"
    text: str = ""
    intent: str = ""
    date_keys: tuple[str, ...] = ()
    when: str | None = None
    confidence: float = 0.0
    source: str = ""
    payload: str = ""
    nlu_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`_Event.to_dict`, ``date_keys`` as a list."""
        out = super().to_dict()
        out["date_keys"] = list(self.date_keys)
        return out


@dataclass(frozen=True)
class ActionEvent(_Event):
    """An action handler ran (anything but a chat reply). ``result``: ``"done"``, ``"refused"``, ``"failed"``,
    ``"dry_run"`` or ``"direct"`` (an answer); ``action``: the handler's result
    (:meth:`~jarvis_desktop.actions.ActionResult.to_dict`); ``action_ms``: the handler's own time;
    ``latency_ms``: end of speech -> action done."""

    kind: ClassVar[str] = "action"
    intent: str = ""
    result: str = ""
    action: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False
    action_ms: float = 0.0


@dataclass(frozen=True)
class ReplyEvent(_Event):
    """The assistant's answer (an action's sentence or a chat reply). ``reply_kind``: the
    :class:`~jarvis_desktop.assistant.Reply` kind ("chat", "done", ...). ``citations``: a grounded chat answer's
    sources, numbered as in its text (the window lists them under the reply, as for a typed one); ``message_id``:
    the stored assistant message (None when not recorded)."""

    kind: ClassVar[str] = "reply"
    text: str = ""
    reply_kind: str = ""
    citations: tuple[Citation, ...] = ()
    message_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """As :meth:`_Event.to_dict`, ``citations`` in ``ask --json``'s shape
        (:func:`~jarvis_desktop.knowledge.answer.citation_to_dict`)."""
        out: dict[str, Any] = {"event": self.kind, "audio_s": round(self.audio_s, 3)}
        out.update(text=self.text, reply_kind=self.reply_kind, message_id=self.message_id)
        out["citations"] = [citation_to_dict(c) for c in self.citations]
        out["latency_ms"] = round(self.latency_ms, 1)
        return out


@dataclass(frozen=True)
class SpeakStartEvent(_Event):
    """The spoken reply's first sample went to the output device. ``audio_s``: the end of the user's speech (as for
    ``parse``); ``latency_ms``: end of speech -> first reply audio (the issue's "first audio" figure)."""

    kind: ClassVar[str] = "speak_start"


@dataclass(frozen=True)
class BargeInEvent(_Event):
    """The user interrupted a spoken reply ("hey Jarvis" heard by the first stage, or ``listen_now()`` from the
    hotkey or the tray): playback was told to stop and a chat answer still being written was cancelled.
    ``audio_s``: the activation's audio time (the end of the 80 ms chunk; for ``listen_now`` the session's
    position); ``stop_ms``: the speaker's own time to silence its output (:meth:`Speaker.stop`); ``trigger``:
    "wake" or "listen_now"."""

    kind: ClassVar[str] = "barge_in"
    stop_ms: float = 0.0
    trigger: str = ""


@dataclass(frozen=True)
class ErrorEvent(_Event):
    """A stage failed; the session keeps listening. ``stage``: "wake", "stt", "nlu", "action" or "audio";
    ``message``: one line for the user."""

    kind: ClassVar[str] = "error"
    stage: str = ""
    message: str = ""


VoiceEvent = (
    StateEvent
    | WakeEvent
    | SpeechStartEvent
    | PartialEvent
    | EndpointEvent
    | TranscriptEvent
    | ParseEvent
    | ActionEvent
    | ReplyEvent
    | SpeakStartEvent
    | BargeInEvent
    | ErrorEvent
)
"""Any event a session emits."""
