"""What a :class:`~jarvis_desktop.tts.speaker.Speaker` reports while it speaks: :class:`SpeechEvent`."""

from __future__ import annotations

from dataclasses import dataclass

FIRST_AUDIO = "first_audio"
SENTENCE = "sentence"
FINISHED = "finished"
STOPPED = "stopped"
ERROR = "error"
KINDS = (FIRST_AUDIO, SENTENCE, FINISHED, STOPPED, ERROR)


@dataclass(frozen=True)
class SpeechEvent:
    """One event of a spoken reply, delivered to the Speaker's listener on the Speaker's event thread.

    Attributes:
        kind: ``"first_audio"`` (the reply's first sample was handed to the device), ``"sentence"`` (a sentence
            starts sounding), ``"finished"`` (the reply's last sample has been played), ``"stopped"``
            (:meth:`~jarvis_desktop.tts.speaker.Speaker.stop` cut it), ``"error"`` (the reply could not be
            spoken; the rest of it is dropped).
        text: the sentence as written in the reply (``"sentence"``), the error message (``"error"``), else ``""``.
        latency_ms: milliseconds from ``say()`` / ``begin_stream()`` to the event; for ``"first_audio"`` and
            ``"sentence"`` to the instant the first sample was handed to the device (a reply queued behind
            another counts its wait too).
    """

    kind: str
    text: str
    latency_ms: float

    def to_dict(self) -> dict[str, str | float]:
        """``{"event": kind, "text": text, "latency_ms": rounded to 0.1 ms}`` for JSON lines."""
        return {"event": self.kind, "text": self.text, "latency_ms": round(self.latency_ms, 1)}
