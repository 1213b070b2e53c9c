"""Voice interaction without Qt: :mod:`.policy` decides when a turn may start, when the microphone may open and
what happens to an utterance that arrives while Jarvis is still answering (the window only renders it)."""

from jarvis_desktop.voice.policy import (
    Indicator,
    MicDecision,
    MicFailure,
    Status,
    TurnDecision,
    TurnState,
    TurnVerdict,
    VoiceTurnPolicy,
)

__all__ = [
    "Indicator",
    "MicDecision",
    "MicFailure",
    "Status",
    "TurnDecision",
    "TurnState",
    "TurnVerdict",
    "VoiceTurnPolicy",
]
