"""MicCapture on a real capture path: PortAudio -> ALSA -> PulseAudio virtual microphone, fed by paplay."""

from __future__ import annotations

import queue
import time

import numpy as np
import pytest
from helpers_audio import espeak_wav, normalise
from helpers_pulse import play

from jarvis_desktop.audio.capture import MicCapture, list_input_devices
from jarvis_desktop.audio.wav import SAMPLE_RATE, load_audio
from jarvis_desktop.config import AudioSettings
from jarvis_desktop.errors import AudioDeviceError


@pytest.mark.mic
def test_unknown_device_is_a_clear_error(virtual_mic):
    mic = MicCapture(lambda audio: None, settings=AudioSettings(device="no-such-microphone-xyz"))
    with pytest.raises(AudioDeviceError, match="no microphone found: no input device matches 'no-such-microphone-xyz'"):
        mic.start()
    assert not mic.running


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    return espeak_wav("what time is it", tmp_path_factory.mktemp("mic") / "what_time_is_it.wav")


@pytest.mark.mic
@pytest.mark.slow
def test_virtual_mic_is_listed(virtual_mic):
    names = [d["name"] for d in list_input_devices()]
    assert any(n in ("default", "pulse") for n in names), names


@pytest.mark.mic
@pytest.mark.slow
def test_hands_free_endpoints_one_spoken_command(virtual_mic, clip, stt):
    utterances: queue.Queue = queue.Queue()
    levels: list[float] = []
    mic = MicCapture(utterances.put, on_level=levels.append)
    mic.hands_free = True
    with mic:
        assert mic.first_block.wait(15), "no audio block within 15 s of opening the stream"
        time.sleep(0.5)  # let the endpointer measure the noise floor
        play(virtual_mic, clip)
        played = time.monotonic()
        audio = utterances.get(timeout=10)
        endpoint_delay = time.monotonic() - played
        time.sleep(1.0)
    assert utterances.empty(), "one command must give one utterance"
    assert audio.dtype == np.float32 and audio.ndim == 1
    clip_s = len(load_audio(clip)) / SAMPLE_RATE
    assert clip_s - 0.2 < len(audio) / SAMPLE_RATE < clip_s + 1.0
    assert max(levels) > -40 and min(levels) < -60  # the level meter saw speech and silence
    result = stt.transcribe(audio)
    assert normalise(result.text) == "what time is it", result.text
    print(f"\nendpoint after playback: {endpoint_delay * 1000:.0f} ms; stt {result.stt_seconds * 1000:.0f} ms")


@pytest.mark.mic
@pytest.mark.slow
@pytest.mark.parametrize("device_rate", [None, 44100])
def test_push_to_talk_captures_the_clip(virtual_mic, clip, stt, device_rate):
    """Also with the device opened at 44.1 kHz, as for a microphone without 16 kHz (resampled to 16 kHz)."""
    utterances: queue.Queue = queue.Queue()
    mic = MicCapture(utterances.put, device_rate=device_rate)
    assert not mic.hands_free
    with mic:
        assert mic.first_block.wait(15)
        time.sleep(0.3)
        mic.begin_utterance()
        play(virtual_mic, clip)
        time.sleep(0.3)  # PulseAudio delivers the tail a little after paplay returns
        mic.end_utterance()
        audio = utterances.get(timeout=5)
        # Without push-to-talk and hands-free off, speech is not emitted.
        play(virtual_mic, clip)
        time.sleep(1.5)
    assert mic.device_rate == (device_rate or SAMPLE_RATE)
    assert utterances.empty()
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert len(audio) / SAMPLE_RATE > len(load_audio(clip)) / SAMPLE_RATE
    assert normalise(stt.transcribe(audio).text) == "what time is it"
