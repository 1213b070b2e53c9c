"""Speech-to-text models side by side: Whisper tiny.en (embedded, English only) against Whisper base
(multilingual, "Accurate / other languages"), on the same recordings. Prints figures; asserts nothing.

Per model configuration (each in its own process, so load time and RSS are its own):

* load: seconds for ``SpeechToText.warm_up()`` (model load + one decode of 1 s of silence); RSS after the runs;
  for base also the one-off join of its two PyPI halves into the data dir (timed in a fresh data dir).
* sets, each with word error rate (jiwer, after ``tests/helpers_audio.normalise``: case, punctuation, numbers),
  p50/p95 decode latency per utterance and real-time factor (decode seconds / audio seconds):
  - ``librivox``: Debian pocketsphinx-testdata, 5 read sentences by a human (25 s);
  - ``cards``: the same package, 5 short spoken commands by a human (10 s);
  - ``commands``: 8 assistant commands, espeak-ng (en-us) in pink noise at 15 dB and hibari-tts at 10 dB
    (16 clips), full 30 s window (files, push-to-talk);
  - ``commands-short``: the same clips on the short context (``short_context=True``, the hands-free path);
  - ``wake+command``: hibari "Hey Jarvis, <command>" in pink noise at 15 dB, short context, decoder primed
    with "Hey Jarvis." as the voice loop does; scored on what the loop acts on: the command after
    ``voice.session.strip_wake_phrase`` against the command.
* ``foreign`` (multilingual configurations only): 4 sentences each in French, German and Spanish (espeak-ng
  voices fr+m3 / de+m3 / es+m3 at 140 words a minute: base hears espeak-ng's default French voice as Thai on 4 of
  6 sentences), with the configured language ("auto": detected per utterance) and with the language fixed; the
  detected languages and WER per language (unicode normalisation: case and punctuation only; no digits).

Configurations: ``tiny.en:en`` (the default), ``base:en``, ``base:auto``.

Run: flock /tmp/jarvis-bench.lock .venv/bin/python bench/stt_models.py   (about 5 minutes on 2 cores)
     ... --configs base:auto  (one configuration); --json (machine-readable lines)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("JARVIS_DESKTOP_HOME", str(Path(tempfile.gettempdir()) / "jarvis-stt-bench-home"))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from helpers_audio import POCKETSPHINX_DATA, corpus_wer  # noqa: E402
from speech_noise import mix, silence, spoken  # noqa: E402

from jarvis_desktop.audio.wav import SAMPLE_RATE, load_audio  # noqa: E402
from jarvis_desktop.config import SttSettings  # noqa: E402
from jarvis_desktop.stt.whisper import SpeechToText  # noqa: E402
from jarvis_desktop.voice.session import strip_wake_phrase  # noqa: E402
from jarvis_desktop.voice.wake_verify import DEFAULT_PROMPT as WAKE_PROMPT  # noqa: E402

CACHE = Path(tempfile.gettempdir()) / "jarvis-stt-bench-cache"
CONFIGS = ["tiny.en:en", "base:en", "base:auto"]

COMMANDS = [
    "set a timer for ten minutes",
    "what time is it",
    "remind me to call my mother tomorrow at noon",
    "turn the volume up",
    "wake me up at seven thirty",
    "add milk to my shopping list",
    "what is on my calendar today",
    "open the web browser",
]

FOREIGN = {
    "fr": [
        "Le petit chat dort sur le canapé depuis ce matin.",
        "Nous allons au marché acheter du pain et des fromages.",
        "Il fait très beau aujourd'hui, nous irons à la plage cet après-midi.",
        "Bonjour, quel temps fera-t-il demain à Paris ?",
    ],
    "de": [
        "Der kleine Hund spielt jeden Morgen im Garten.",
        "Wir fahren am Wochenende mit dem Zug nach München.",
        "Das Wetter ist heute sehr schön und warm.",
        "Wie spät ist es jetzt in Berlin?",
    ],
    "es": [
        "El perro pequeño juega en el parque todas las mañanas.",
        "Mañana vamos a visitar a mis abuelos en Madrid.",
        "Hoy hace mucho calor en la ciudad.",
        "Pon una alarma para las siete de la mañana.",
    ],
}


# ---- the recordings ------------------------------------------------------------------------------------------------
def _sphinx(name: str, transcription: str) -> list[tuple[np.ndarray, str]]:
    folder = POCKETSPHINX_DATA / name
    refs = {}
    for line in (folder / transcription).read_text().splitlines():
        m = re.match(r"\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^)]+)\)\s*$", line)
        if m:
            refs[m.group(2).strip()] = " ".join(m.group(1).split())
    return [(load_audio(p), refs[p.stem]) for p in sorted(folder.glob("*.wav")) if p.stem in refs]


def _cached(name: str, make: Any) -> np.ndarray:
    """A clip made once by ``make()`` and kept as a 16 kHz float WAV under :data:`CACHE`."""
    path = CACHE / f"{name}.wav"
    if not path.exists():
        CACHE.mkdir(parents=True, exist_ok=True)
        sf.write(path, make(), SAMPLE_RATE, subtype="FLOAT")
    return load_audio(path)


def _hibari(text: str) -> np.ndarray:
    from speech_neural import neural_spoken

    return neural_spoken(text, CACHE)


def _framed(audio: np.ndarray) -> np.ndarray:
    return np.concatenate([silence(0.5), audio, silence(0.5)])


def commands() -> list[tuple[np.ndarray, str]]:
    """espeak-ng en-us in pink noise at 15 dB and hibari-tts at 10 dB, 0.5 s of silence around each."""
    out = []
    for i, text in enumerate(COMMANDS):
        esp = _cached(f"espeak15_{i}", lambda t=text, k=i: mix(_framed(spoken(t, CACHE)), 15.0, "pink", seed=k))
        hib = _cached(f"hibari10_{i}", lambda t=text, k=i: mix(_framed(_hibari(t)), 10.0, "pink", seed=100 + k))
        out += [(esp, text), (hib, text)]
    return out


def wake_commands() -> list[tuple[np.ndarray, str]]:
    """hibari "Hey Jarvis, <command>" in pink noise at 15 dB (the reference keeps the wake phrase)."""
    out = []
    for i, text in enumerate(COMMANDS):
        said = f"Hey Jarvis, {text}."
        audio = _cached(f"wake15_{i}", lambda s=said, k=i: mix(_framed(_hibari(s)), 15.0, "pink", seed=200 + k))
        out.append((audio, text))
    return out


def foreign(lang: str) -> list[tuple[np.ndarray, str]]:
    return [(_framed(spoken(text, CACHE, voice=f"{lang}+m3", wpm=140)), text) for text in FOREIGN[lang]]


# ---- measuring -----------------------------------------------------------------------------------------------------
def unicode_words(text: str) -> str:
    """Case and punctuation out, accents kept: the comparison form of the foreign sentences."""
    text = unicodedata.normalize("NFC", text).lower().replace("'", " ").replace("\u2019", " ")
    return " ".join(re.sub(r"[^\w\s]", " ", text).split())


def run_set(stt: SpeechToText, clips: list[tuple[np.ndarray, str]], wake: bool = False, **kw: Any) -> dict[str, Any]:
    refs, hyps, lat, langs = [], [], [], []
    audio_s = 0.0
    for audio, ref in clips:
        result = stt.transcribe(audio, **kw)
        refs.append(ref)
        hyps.append(strip_wake_phrase(result.text) if wake else result.text)
        lat.append(result.stt_seconds * 1000.0)
        langs.append(f"{result.language}:{result.language_probability or 0:.2f}")
        audio_s += result.duration_s
    return {
        "n": len(clips),
        "refs": refs,
        "hyps": hyps,
        "languages": langs,
        "p50_ms": statistics.median(lat),
        "p95_ms": float(np.percentile(lat, 95)),
        "rtf": sum(lat) / 1000.0 / audio_s,
    }


def one(config: str) -> dict[str, Any]:
    """Measure one ``model:language`` configuration in this process."""
    model, language = config.split(":")
    out: dict[str, Any] = {"config": config}
    if model == "base":
        from jarvis_desktop.models import whisper_base_path

        with tempfile.TemporaryDirectory() as fresh:
            saved = os.environ["JARVIS_DESKTOP_HOME"]
            os.environ["JARVIS_DESKTOP_HOME"] = fresh
            t0 = time.perf_counter()
            whisper_base_path()
            out["join_s"] = time.perf_counter() - t0
            os.environ["JARVIS_DESKTOP_HOME"] = saved
    stt = SpeechToText(options=SttSettings(model=model, language=language))
    out["load_s"] = stt.warm_up()
    out["rss_loaded_mb"] = psutil.Process().memory_info().rss / 1e6
    sets: dict[str, Any] = {}
    sets["librivox"] = run_set(stt, _sphinx("librivox", "transcription"))
    sets["cards"] = run_set(stt, _sphinx("cards", "cards.transcription"))
    cmd = commands()
    sets["commands"] = run_set(stt, cmd)
    sets["commands-short"] = run_set(stt, cmd, short_context=True)
    sets["wake+command"] = run_set(
        stt, wake_commands(), wake=True, prompt=WAKE_PROMPT, vad_filter=False, short_context=True
    )
    for name, s in sets.items():
        s["wer"] = corpus_wer(s["refs"], s["hyps"])
        s["set"] = name
    out["rss_mb"] = psutil.Process().memory_info().rss / 1e6  # before the foreign sets load more copies
    if model != "tiny.en":
        for lang in FOREIGN:
            clips = foreign(lang)
            for mode in dict.fromkeys([language, lang]):  # as configured ("auto"), then fixed
                other = stt if mode == language else SpeechToText(options=SttSettings(model=model, language=mode))
                s = run_set(other, clips)
                s["wer"] = _wer_unicode(s["refs"], s["hyps"])
                s["set"] = f"{lang} (language {mode})"
                sets[s["set"]] = s
    out["sets"] = list(sets.values())
    return out


def _wer_unicode(refs: list[str], hyps: list[str]) -> float:
    import jiwer

    return float(jiwer.wer([unicode_words(r) for r in refs], [unicode_words(h) for h in hyps]))


def _print(result: dict[str, Any], verbose: bool) -> None:
    join = f", join of the halves {result['join_s']:.2f} s (first use only)" if "join_s" in result else ""
    print(
        f"\n== {result['config']}: load {result['load_s']:.2f} s, RSS {result['rss_loaded_mb']:.0f} MB loaded, "
        f"{result['rss_mb']:.0f} MB after the English sets{join}"
    )
    print(f"   {'set':<24} {'n':>3} {'WER':>7} {'p50 ms':>8} {'p95 ms':>8} {'RTF':>6}  languages")
    for s in result["sets"]:
        langs = sorted(set(s["languages"]))
        shown = " ".join(langs) if s["set"][:2] in FOREIGN else ""
        print(
            f"   {s['set']:<24} {s['n']:>3} {s['wer']:>6.1%} {s['p50_ms']:>8.0f} {s['p95_ms']:>8.0f} {s['rtf']:>6.3f}"
            f"  {shown}"
        )
        if verbose:
            for ref, hyp, lang in zip(s["refs"], s["hyps"], s["languages"], strict=True):
                print(f"      [{lang}] {ref!r} -> {hyp!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=CONFIGS, help="model:language, e.g. base:auto")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # child process: one configuration, JSON out
    parser.add_argument("--json", action="store_true", help="print one JSON line per configuration")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every reference and hypothesis")
    args = parser.parse_args()
    if args.one:
        print(json.dumps(one(args.one)))
        return
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    commands(), wake_commands(), [foreign(lang) for lang in FOREIGN]  # clips made here, not in the measured processes
    for config in args.configs:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", config], capture_output=True, text=True, check=False, cwd=ROOT
        )
        if proc.returncode != 0:
            print(f"\n== {config}: failed\n{proc.stderr[-2000:]}")
            continue
        result = json.loads(proc.stdout.strip().splitlines()[-1])
        if args.json:
            print(json.dumps(result))
        else:
            _print(result, args.verbose)


if __name__ == "__main__":
    main()
