"""The short-context decode's guards (stt/short_context.py), without a model."""

from __future__ import annotations

import numpy as np

from jarvis_desktop.stt.short_context import fits_short_context, repeats_itself


def test_a_decoding_loop_is_caught_and_normal_speech_is_not():
    assert repeats_itself("Set the volume to 30. Set the volume to 30.")
    assert repeats_itself("wake me up at 730 wake me up at 730 wake me up at 730")
    assert not repeats_itself("no, no, I said ten minutes")  # two words repeated: people do that
    assert not repeats_itself("remind me to call my mother tomorrow at noon")
    assert not repeats_itself("")


def test_only_what_fits_in_one_window_with_its_padding_takes_the_short_context():
    assert fits_short_context(np.zeros(16000 * 3, np.float32), pad_s=8.0)
    assert not fits_short_context(np.zeros(16000 * 25, np.float32), pad_s=8.0)
    assert not fits_short_context(np.zeros(16000 * 3, np.float32), pad_s=0.0)  # 0 = always the full window
