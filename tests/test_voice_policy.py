"""The hands-free / busy policy on its own (no Qt): when a turn may start, when the microphone may open, what
happens to an utterance that arrives while Jarvis is still answering, and which status each event shows."""

from __future__ import annotations

import subprocess
import sys

import pytest

from jarvis_desktop.voice.policy import (
    HANDS_FREE_LISTENING,
    LISTENING,
    OPENING_MIC,
    QUEUED_UNTIL_LOADED,
    STILL_ANSWERING,
    Indicator,
    Status,
    TurnState,
    TurnVerdict,
    VoiceTurnPolicy,
)

READY = Status(Indicator.READY, "Ready")
LOADING = Status(Indicator.LOADING, "Loading models…")
BUSY = Status(Indicator.BUSY, STILL_ANSWERING)


@pytest.fixture
def ready() -> VoiceTurnPolicy:
    policy = VoiceTurnPolicy()
    assert policy.models_ready() == READY
    return policy


def test_a_turn_starts_when_idle_and_a_second_one_is_refused_until_it_is_done(ready):
    first = ready.request_turn("Thinking…")
    assert first.start and first.status == Status(Indicator.BUSY, "Thinking…")
    assert ready.state is TurnState.ANSWERING and ready.answering

    second = ready.request_turn("Transcribing…")
    assert not second.start and second.verdict is TurnVerdict.BUSY and second.status == BUSY
    assert ready.state is TurnState.ANSWERING  # the refusal changed nothing

    assert ready.turn_done(error_shown=False, showing=Indicator.BUSY) == READY
    assert ready.state is TurnState.IDLE
    assert ready.request_turn("Thinking…").start


def test_while_the_models_load_a_turn_starts_and_says_it_waits_for_them():
    policy = VoiceTurnPolicy()
    assert policy.idle_status() == LOADING
    decision = policy.request_turn("Thinking…")
    assert decision.start and decision.status == Status(Indicator.BUSY, QUEUED_UNTIL_LOADED)
    assert policy.models_ready() is None  # the turn's status stays while it runs
    assert policy.engine_ready
    assert policy.turn_done(error_shown=False, showing=Indicator.BUSY) == READY


def test_turn_done_keeps_an_error_and_any_status_that_is_not_busy(ready):
    ready.request_turn("Thinking…")
    assert ready.turn_done(error_shown=True, showing=Indicator.ERROR) is None
    assert not ready.answering
    ready.request_turn("Thinking…")
    assert ready.turn_done(error_shown=False, showing=Indicator.READY) is None  # the turn already said "Ready · …"
    ready.request_turn("Thinking…")
    assert ready.turn_done(error_shown=True, showing=Indicator.BUSY) is None


def test_an_utterance_while_answering_is_dropped_not_queued(ready):
    assert ready.utterance_arrived(16_000).start  # the first one runs
    dropped = ready.utterance_arrived(8_000)
    assert dropped.verdict is TurnVerdict.BUSY and dropped.status == BUSY
    ready.turn_done(error_shown=False, showing=Indicator.BUSY)
    # nothing was kept for later: the next event decides afresh, and the policy is idle
    assert ready.state is TurnState.IDLE
    assert ready.utterance_arrived(4_000).start


def test_an_empty_utterance_is_ignored_silently_even_while_answering(ready):
    empty = ready.utterance_arrived(0)
    assert empty.verdict is TurnVerdict.EMPTY and empty.status is None and not ready.answering
    ready.request_turn("Thinking…")
    assert ready.utterance_arrived(0).verdict is TurnVerdict.EMPTY


def test_the_mic_opens_only_when_idle(ready):
    pressed = ready.mic_pressed(mic_open=False)
    assert pressed.open_mic and pressed.status == Status(Indicator.BUSY, OPENING_MIC)
    assert ready.recording
    assert ready.mic_opened() == Status(Indicator.BUSY, LISTENING)  # the first block arrived while recording
    assert ready.mic_released() == READY and not ready.recording
    assert ready.mic_opened() is None  # no recording waits for the stream

    assert ready.mic_pressed(mic_open=True).status == Status(Indicator.BUSY, LISTENING)
    ready.mic_released()

    ready.request_turn("Thinking…")
    refused = ready.mic_pressed(mic_open=True)
    assert not refused.open_mic and refused.status == BUSY and not ready.recording
    assert ready.mic_released() is None  # the button's release while answering leaves the turn's status


def test_a_typed_question_during_a_recording_then_the_recording_is_dropped(ready):
    """Push-to-talk started, then a typed question ran: the utterance released meanwhile is dropped."""
    assert ready.mic_pressed(mic_open=True).open_mic
    assert ready.request_turn("Thinking…").start
    assert ready.mic_released() is None
    assert ready.utterance_arrived(16_000).verdict is TurnVerdict.BUSY


def test_hands_free_on_and_off_and_a_mic_failure_turns_it_off(ready):
    assert ready.hands_free_toggled(True) == Status(Indicator.BUSY, HANDS_FREE_LISTENING) and ready.hands_free
    assert ready.hands_free_toggled(False) == READY and not ready.hands_free
    ready.hands_free_toggled(True)
    ready.mic_pressed(mic_open=False)
    failure = ready.mic_failed()
    assert failure.uncheck_hands_free and not ready.hands_free and not ready.recording
    assert not ready.mic_failed().uncheck_hands_free  # already off: nothing to uncheck


def test_hands_free_off_while_loading_says_loading():
    policy = VoiceTurnPolicy()
    policy.hands_free_toggled(True)
    assert policy.hands_free_toggled(False) == LOADING


def test_closed_refuses_everything_silently_and_close_is_idempotent(ready):
    ready.request_turn("Thinking…")
    assert ready.close() and ready.closed and ready.state is TurnState.CLOSED
    assert not ready.close()
    decision = ready.request_turn("Thinking…")
    assert decision.verdict is TurnVerdict.CLOSED and decision.status is None
    assert ready.utterance_arrived(100).verdict is TurnVerdict.CLOSED
    mic = ready.mic_pressed(mic_open=True)
    assert not mic.open_mic and mic.status is None
    ready.turn_done(error_shown=False, showing=Indicator.BUSY)  # the last worker's done arrives late
    assert ready.state is TurnState.CLOSED


def test_the_policy_needs_no_qt():
    code = (
        "import sys; import jarvis_desktop.voice.policy\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('PySide6', 'shiboken6')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
