"""Streaming energy VAD + endpointing on synthetic signals and espeak-ng speech."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from helpers_audio import espeak_audio

from jarvis_desktop.audio.vad import Endpointer, Utterance, frame_levels_dbfs, rms_dbfs
from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.config import AudioSettings

SR = SAMPLE_RATE
RNG = np.random.default_rng(7)


def noise(seconds: float, amp: float = 0.003) -> np.ndarray:
    return (RNG.standard_normal(int(seconds * SR)) * amp).astype(np.float32)


def syllables(seconds: float, amp: float = 0.3, on_s: float = 0.2, off_s: float = 0.1) -> np.ndarray:
    """Speech-like bursts: a 220 Hz tone switched on/off at a syllable rate."""
    t = np.arange(int(seconds * SR)) / SR
    gate = (t % (on_s + off_s)) < on_s
    return (amp * np.sin(2 * np.pi * 220 * t) * gate).astype(np.float32)


def with_room_noise(*parts: np.ndarray, amp: float = 0.003) -> np.ndarray:
    """Concatenate ``parts`` and add steady background noise, as a real microphone has everywhere."""
    signal = np.concatenate(parts)
    return (signal + noise(len(signal) / SR, amp)).astype(np.float32)


def run(signal: np.ndarray, endpointer: Endpointer | None = None, chunk: int = 480) -> list[Utterance]:
    """Feed ``signal`` in mic-sized chunks, then flush."""
    ep = endpointer or Endpointer()
    out: list[Utterance] = []
    for i in range(0, len(signal), chunk):
        out += ep.process(signal[i : i + chunk])
    last = ep.flush()
    return out + ([last] if last else [])


def test_rms_dbfs_levels():
    t = np.arange(SR) / SR
    assert rms_dbfs(np.sin(2 * np.pi * 1000 * t)) == pytest.approx(-3.01, abs=0.02)
    assert rms_dbfs(np.full(480, 0.1)) == pytest.approx(-20.0, abs=0.01)
    assert rms_dbfs(np.zeros(480)) == -100.0
    assert rms_dbfs(np.zeros(0)) == -100.0
    levels = frame_levels_dbfs(np.concatenate([np.zeros(480), np.full(480, 0.1), np.zeros(100)]))
    assert levels.tolist() == pytest.approx([-100.0, -20.0])


def test_silence_tone_silence_gives_one_utterance_with_its_bounds():
    signal = with_room_noise(np.zeros(SR), syllables(1.0, off_s=0.05), np.zeros(int(1.5 * SR)))
    (utt,) = run(signal)
    assert utt.speech_start_s == pytest.approx(1.0, abs=0.07)
    assert utt.speech_end_s == pytest.approx(1.95, abs=0.07)  # the last burst ends at 1.95 s
    assert utt.start_s == pytest.approx(utt.speech_start_s - 0.3, abs=0.04)  # 300 ms pre-roll
    assert not utt.truncated
    assert len(utt.audio) == pytest.approx((utt.end_s - utt.start_s) * SR, abs=1)
    # The emitted audio is the stream's own samples at the reported position.
    i = int(round(utt.start_s * SR))
    np.testing.assert_array_equal(utt.audio, signal[i : i + len(utt.audio)])


def test_endpoint_waits_for_the_configured_silence():
    gap_short = with_room_noise(noise(1.0), syllables(0.6), noise(0.5), syllables(0.6), noise(1.5))
    assert len(run(gap_short, Endpointer(AudioSettings(endpoint_silence_ms=800)))) == 1
    assert len(run(gap_short, Endpointer(AudioSettings(endpoint_silence_ms=300)))) == 2


@pytest.fixture(scope="module")
def command(tmp_path_factory) -> np.ndarray:
    return espeak_audio("set a timer for ten minutes", tmp_path_factory.mktemp("vad"))


@pytest.mark.slow
def test_espeak_command_with_silence_and_low_noise_is_one_utterance(command):
    lead, tail = 1.2, 1.5
    signal = np.concatenate([np.zeros(int(lead * SR), np.float32), command, np.zeros(int(tail * SR), np.float32)])
    signal = signal + noise(len(signal) / SR, 0.002)
    voiced = np.nonzero(np.abs(command) > 0.02)[0]
    speech_from, speech_to = lead + voiced[0] / SR, lead + voiced[-1] / SR
    (utt,) = run(signal)
    assert utt.start_s <= speech_from and utt.end_s >= speech_to  # nothing of the command is cut
    assert utt.speech_start_s == pytest.approx(speech_from, abs=0.1)
    assert utt.speech_end_s == pytest.approx(speech_to, abs=0.15)
    assert utt.duration_s < (speech_to - speech_from) + 0.7  # and little silence is kept


def test_two_commands_with_a_pause_give_two_utterances(command):
    signal = with_room_noise(noise(1.0), command, noise(1.5), command, noise(1.5))
    utts = run(signal)
    assert len(utts) == 2
    assert utts[1].start_s - utts[0].end_s > 0.5


def test_chunk_size_does_not_change_the_result(command):
    signal = with_room_noise(noise(1.0), command, noise(1.5))
    a, b = run(signal, chunk=480), run(signal, chunk=1367)
    assert [(u.start_s, u.end_s) for u in a] == [(u.start_s, u.end_s) for u in b]


def test_max_utterance_length_cuts_without_losing_audio():
    talk = syllables(9.0)
    signal = with_room_noise(noise(1.0), talk, noise(1.5))
    utts = run(signal, Endpointer(AudioSettings(max_utterance_s=4.0)))
    assert len(utts) == 3
    assert [u.truncated for u in utts] == [True, True, False]
    assert all(u.duration_s <= 4.0 + 1e-6 for u in utts)
    for prev, nxt in itertools.pairwise(utts):
        assert nxt.start_s == pytest.approx(prev.end_s)  # contiguous: no sample lost at a cut
    assert utts[-1].speech_end_s == pytest.approx(10.0, abs=0.1)


@pytest.mark.parametrize("amp", [0.001, 0.02, 0.2])
def test_steady_noise_gives_no_utterance(amp):
    assert run(noise(10.0, amp)) == []


def test_clicks_are_not_speech():
    signal = noise(6.0)
    signal[SR::SR] = 0.9  # one-sample clicks every second
    signal[3 * SR : 3 * SR + 480] += 0.5  # one 30 ms knock
    assert run(signal) == []


def test_noise_floor_follows_a_fan_switched_on():
    """A sudden steady noise may open one utterance, but the floor adapts and endpointing recovers."""
    signal = np.concatenate([noise(2.0, 0.002), noise(10.0, 0.05)])
    ep = Endpointer()
    utts = run(signal, ep)
    assert len(utts) <= 1
    assert all(u.end_s < 2.0 + 3.0 + 1.0 for u in utts)
    assert ep.noise_floor_dbfs == pytest.approx(rms_dbfs(noise(1.0, 0.05)), abs=2.0)
    # ... and speech over the fan is still detected.
    ep.process(noise(0.5, 0.05))
    later = run(with_room_noise(syllables(1.5, amp=0.6), np.zeros(int(1.5 * SR)), amp=0.05), ep)
    assert len(later) == 1
