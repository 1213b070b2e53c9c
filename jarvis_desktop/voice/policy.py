"""The hands-free / busy policy of the main window, as a small state machine without Qt.

One turn runs at a time (typed, an audio file, a push-to-talk or a hands-free utterance). While it runs,
Jarvis is *answering*: a new turn is refused with "Still answering — press Stop to interrupt.", the
microphone button does not start a recording, and an utterance the hands-free endpointer delivers meanwhile
is dropped (with the same status), never queued. The window calls one method per event and renders the
typed decision it gets back (status bar, enabling the mic, unchecking Hands-free); it keeps no flags of its
own.

States (:class:`TurnState`): ``IDLE`` -> ``ANSWERING`` (a turn was allowed to start) -> ``IDLE`` (the turn's
worker is done) ... -> ``CLOSED`` (the window shut down; nothing starts any more). Next to the state the
policy tracks three facts: the models are loaded (``engine_ready``), a push-to-talk recording is on
(``recording``) and Hands-free is on (``hands_free``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

STILL_ANSWERING = "Still answering — press Stop to interrupt."
READY = "Ready"
LOADING = "Loading models…"
QUEUED_UNTIL_LOADED = "Loading models… your request will run when they are ready."
LISTENING = "Listening… release (or click) to send"
OPENING_MIC = "Opening the microphone…"
HANDS_FREE_LISTENING = "Hands-free: listening — just speak"
TRANSCRIBING = "Transcribing…"


class TurnState(Enum):
    """Where the turn lifecycle is."""

    IDLE = "idle"  # no turn runs: a new one may start
    ANSWERING = "answering"  # a turn runs (transcribing, thinking or streaming its reply)
    CLOSED = "closed"  # the window shut down


class Indicator(Enum):
    """The status dot's state (the window's stylesheet colours each value)."""

    READY = "ready"
    LOADING = "loading"
    BUSY = "busy"
    ERROR = "error"


@dataclass(frozen=True)
class Status:
    """A status-bar line: ``indicator`` for the dot (None keeps the dot as it is) and the ``text``."""

    indicator: Indicator | None
    text: str


class TurnVerdict(Enum):
    """What happens to a request for a new turn."""

    START = "start"  # run it (the policy is now ANSWERING)
    BUSY = "busy"  # refused: a turn is running (the status says so)
    CLOSED = "closed"  # refused silently: the window is shutting down
    EMPTY = "empty"  # an utterance without samples: ignored silently


@dataclass(frozen=True)
class TurnDecision:
    """The verdict on a new turn and the status to show now (None: leave the status bar as it is)."""

    verdict: TurnVerdict
    status: Status | None

    @property
    def start(self) -> bool:
        """True when the turn should run."""
        return self.verdict is TurnVerdict.START


@dataclass(frozen=True)
class MicDecision:
    """The mic button was pressed: ``open_mic`` begins an utterance; otherwise the window releases the button.
    ``status`` is what to show (None: leave it)."""

    open_mic: bool
    status: Status | None


@dataclass(frozen=True)
class MicFailure:
    """The microphone failed: the window releases the mic button and, if ``uncheck_hands_free``, unchecks
    Hands-free without re-announcing it (the error message is the news)."""

    uncheck_hands_free: bool


class VoiceTurnPolicy:
    """Decides, for each input event of the window, whether a turn starts and what the status bar says.

    Not thread-safe: call it from one thread (the GUI thread). Pure bookkeeping, no I/O, never blocks.
    """

    def __init__(self) -> None:
        self._state = TurnState.IDLE
        self._engine_ready = False
        self._recording = False
        self._hands_free = False

    # ---- facts ------------------------------------------------------------------------------------
    @property
    def state(self) -> TurnState:
        """The current :class:`TurnState`."""
        return self._state

    @property
    def answering(self) -> bool:
        """True while a turn runs (the window's ``busy``)."""
        return self._state is TurnState.ANSWERING

    @property
    def closed(self) -> bool:
        """True once :meth:`close` was called."""
        return self._state is TurnState.CLOSED

    @property
    def engine_ready(self) -> bool:
        """True once the models are loaded (:meth:`models_ready`)."""
        return self._engine_ready

    @property
    def recording(self) -> bool:
        """True while a push-to-talk recording is on."""
        return self._recording

    @property
    def hands_free(self) -> bool:
        """True while Hands-free listening is on."""
        return self._hands_free

    def idle_status(self) -> Status:
        """ "Ready" once the models are loaded, else "Loading models…"."""
        return Status(Indicator.READY, READY) if self._engine_ready else Status(Indicator.LOADING, LOADING)

    # ---- turns ------------------------------------------------------------------------------------
    def request_turn(self, working: str) -> TurnDecision:
        """A typed question, an audio file or an utterance wants to run; ``working`` is the busy text to show
        ("Thinking…", "Transcribing…"), replaced by a "runs when loaded" note while the models load.

        START moves the policy to ANSWERING; BUSY and CLOSED change nothing.
        """
        if self._state is TurnState.CLOSED:
            return TurnDecision(TurnVerdict.CLOSED, None)
        if self._state is TurnState.ANSWERING:
            return TurnDecision(TurnVerdict.BUSY, Status(Indicator.BUSY, STILL_ANSWERING))
        self._state = TurnState.ANSWERING
        return TurnDecision(
            TurnVerdict.START, Status(Indicator.BUSY, working if self._engine_ready else QUEUED_UNTIL_LOADED)
        )

    def utterance_arrived(self, samples: int) -> TurnDecision:
        """The microphone delivered an utterance of ``samples`` samples (push-to-talk release or a hands-free
        pause). Empty ones are ignored; while answering one is dropped (BUSY), never queued."""
        if samples <= 0:
            return TurnDecision(TurnVerdict.EMPTY, None)
        return self.request_turn(TRANSCRIBING)

    def turn_done(self, error_shown: bool, showing: Indicator | None) -> Status | None:
        """The running turn's worker finished (answered, stopped or failed): back to IDLE.

        Args:
            error_shown: an error of this turn is on the status bar (it stays).
            showing: the dot's current indicator; only a BUSY one is replaced by the idle status.
        Returns:
            The status to show, or None to leave it.
        """
        if self._state is TurnState.ANSWERING:
            self._state = TurnState.IDLE
        if error_shown or showing is not Indicator.BUSY:
            return None
        return self.idle_status()

    def models_ready(self) -> Status | None:
        """The models finished loading: "Ready" unless a turn is running (its status stays)."""
        self._engine_ready = True
        return None if self.answering else Status(Indicator.READY, READY)

    def close(self) -> bool:
        """The window shuts down; returns False if it already was closed (shutdown is idempotent)."""
        if self._state is TurnState.CLOSED:
            return False
        self._state = TurnState.CLOSED
        self._recording = False
        return True

    # ---- microphone -------------------------------------------------------------------------------
    def mic_pressed(self, mic_open: bool) -> MicDecision:
        """The mic button started a recording; ``mic_open``: the input stream already delivers audio.

        While answering (or closed) the recording is refused: the window releases the button.
        """
        if self._state is TurnState.ANSWERING:
            return MicDecision(False, Status(Indicator.BUSY, STILL_ANSWERING))
        if self._state is TurnState.CLOSED:
            return MicDecision(False, None)
        self._recording = True
        return MicDecision(True, Status(Indicator.BUSY, LISTENING if mic_open else OPENING_MIC))

    def mic_released(self) -> Status | None:
        """The mic button stopped recording (the utterance is handed over); the idle status unless answering."""
        self._recording = False
        return None if self.answering else self.idle_status()

    def mic_opened(self) -> Status | None:
        """The input stream delivered its first block: "Listening…" if a recording waits for it."""
        return Status(Indicator.BUSY, LISTENING) if self._recording else None

    def hands_free_toggled(self, on: bool) -> Status:
        """Hands-free was switched on or off (the window tells the microphone)."""
        self._hands_free = on
        return Status(Indicator.BUSY, HANDS_FREE_LISTENING) if on else self.idle_status()

    def mic_failed(self) -> MicFailure:
        """The microphone could not open or failed: recording and Hands-free are off."""
        was_hands_free = self._hands_free
        self._recording = False
        self._hands_free = False
        return MicFailure(uncheck_hands_free=was_hands_free)
