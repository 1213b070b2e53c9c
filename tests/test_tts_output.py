"""AudioOutput on a real PulseAudio null sink, recorded from its monitor (tests/helpers_speaker.py)."""

from __future__ import annotations

import time

import numpy as np
import pytest
from helpers_pulse import _run
from helpers_speaker import SINK, rms

from jarvis_desktop.errors import AudioDeviceError
from jarvis_desktop.tts.output import IDLE_CLOSE_S, AudioOutput

RATE = 24000
pytestmark = pytest.mark.slow  # every test here opens an audio device


def tone(seconds: float, hz: float = 440.0, level: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return (level * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def loud_span_s(samples: np.ndarray, threshold: float = 0.02) -> float:
    """Seconds between the first and last 10 ms frame louder than ``threshold`` (16 kHz recording)."""
    frames = samples[: len(samples) // 160 * 160].reshape(-1, 160)
    loud = np.flatnonzero(np.sqrt(np.mean(frames**2, axis=1)) > threshold)
    return 0.0 if loud.size == 0 else (loud[-1] - loud[0] + 1) * 0.01


def sink_inputs_on_speaker() -> int:
    sinks = _run("pactl", "list", "short", "sinks").stdout.splitlines()
    index = next(line.split("\t")[0] for line in sinks if line.split("\t")[1] == SINK)
    inputs = _run("pactl", "list", "short", "sink-inputs").stdout.splitlines()
    return sum(1 for line in inputs if line.split("\t")[1] == index)


@pytest.fixture
def output(speaker_sink):
    out = AudioOutput(RATE, speaker_sink.device)
    yield out
    out.close()


def test_a_tone_reaches_the_speaker_whole_and_play_never_waits_for_it(output, speaker_sink):
    with speaker_sink.record() as rec:
        t0 = time.perf_counter()
        output.play(tone(1.0))
        returned_ms = (time.perf_counter() - t0) * 1000
        assert output.playing
        assert output.wait_idle(5)
        waited_s = time.perf_counter() - t0
    recording = rec.recording
    assert returned_ms < 300, "play() opens the stream, then only queues"
    assert 0.95 <= waited_s <= 1.5
    assert not output.playing
    assert loud_span_s(recording.samples) == pytest.approx(1.0, abs=0.06)
    spectrum = np.abs(np.fft.rfft(recording.samples))
    assert np.argmax(spectrum) * 16000 / len(recording.samples) == pytest.approx(440, abs=5)


def test_chunks_play_back_to_back_in_order(output, speaker_sink):
    starts: list[float] = []
    with speaker_sink.record() as rec:
        output.play(tone(0.4, 440), starts.append)
        output.play(tone(0.4, 880), starts.append)
        output.wait_idle(5)
    samples = rec.recording.samples
    loud = np.flatnonzero(np.abs(samples) > 0.05)
    audio = samples[loud[0] : loud[-1]]
    first, second = np.abs(np.fft.rfft(audio[:4800])), np.abs(np.fft.rfft(audio[-4800:]))
    assert np.argmax(first) * 16000 / 4800 == pytest.approx(440, abs=10)
    assert np.argmax(second) * 16000 / 4800 == pytest.approx(880, abs=10)
    assert len(starts) == 2 and starts[0] < starts[1], "each chunk reports when it was handed to the device"
    assert loud_span_s(samples) == pytest.approx(0.8, abs=0.06), "no gap between the chunks"


def test_stop_silences_the_speaker_within_150_ms(output, speaker_sink):
    """Measured two ways: at the sink's monitor (clock alignment in helpers_speaker.py: a bound from above),
    and as the stream sees it (first silent callback after stop() plus the stream's reported latency)."""
    with speaker_sink.record() as rec:
        output.play(tone(3.0))
        time.sleep(0.8)
        t_stop = time.perf_counter()
        output.stop()
        stop_call_ms = (time.perf_counter() - t_stop) * 1000
        assert not output.playing
        time.sleep(0.5)
    recording = rec.recording
    before = recording.between(t_stop - 0.3, t_stop - 0.05)
    after = recording.between(t_stop + 0.150, t_stop + 0.5)
    loud = np.flatnonzero(np.abs(recording.between(t_stop, t_stop + 0.5)) > 0.01)
    heard_ms = (loud[-1] + 1) / 16 if loud.size else 0.0
    timing = output.last_stop
    assert timing is not None
    callback_ms = (timing.silent_block_at - timing.requested_at) * 1000
    print(
        f"\nstop(): call {stop_call_ms:.2f} ms; silent at the sink {heard_ms:.0f} ms after stop() (recorded); "
        f"stream's view {timing.silent_within_ms:.0f} ms = first silent callback {callback_ms:.0f} ms "
        f"+ latency {timing.output_latency_s * 1000:.0f} ms"
    )
    assert rms(before) > 0.15, "the tone was playing before the stop"
    assert after.size > 4000 and float(np.max(np.abs(after))) < 0.01, "silent from 150 ms after stop()"
    assert heard_ms <= 150
    assert timing.silent_within_ms <= 150
    assert stop_call_ms < 5, "stop() returns at once"


def test_volume_scales_what_is_heard(output, speaker_sink):
    levels = []
    for volume in (1.0, 0.25):
        output.volume = volume
        with speaker_sink.record() as rec:
            starts: list[float] = []
            output.play(tone(0.5), starts.append)
            output.wait_idle(5)
        levels.append(rms(rec.recording.between(starts[0] + 0.1, starts[0] + 0.4)))
    assert levels[0] > 0.15
    assert levels[1] / levels[0] == pytest.approx(0.25, abs=0.03)


def test_the_device_is_released_when_idle_and_reopened_for_the_next_reply(output, speaker_sink):
    held_before = sink_inputs_on_speaker()
    output.play(tone(0.2))
    assert output.is_open and sink_inputs_on_speaker() == held_before + 1
    output.wait_idle(5)
    time.sleep(IDLE_CLOSE_S + 0.6)
    assert not output.is_open
    assert sink_inputs_on_speaker() == held_before, "the stream is closed, not only paused"
    with speaker_sink.record() as rec:
        output.play(tone(0.3))
        output.wait_idle(5)
    assert loud_span_s(rec.recording.samples) == pytest.approx(0.3, abs=0.05)


def test_an_unknown_device_is_an_audio_device_error_naming_it(speaker_sink):
    out = AudioOutput(RATE, "no-such-speaker")
    with pytest.raises(AudioDeviceError, match="no-such-speaker") as err:
        out.play(tone(0.2))
    assert err.value.exit_code == 2
    assert "pulse" in str(err.value), "the message lists the devices there are"
    t0 = time.perf_counter()
    with pytest.raises(AudioDeviceError, match="no-such-speaker"):
        out.play(tone(0.2))  # within RETRY_S: the same error at once, the device is not tried again
    assert time.perf_counter() - t0 < 0.05
    assert not out.playing and out.last_error is not None
    out.close()
