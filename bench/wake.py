"""Benchmark of the "hey Jarvis" wake word (first stage pyopen-wakeword, second stage Whisper verifier).

Prints:
* misses over >= 60 "hey jarvis" clips (5 espeak-ng voices, 2 speeds, 3 phrasings, clean / pink 15 dB /
  pink 10 dB / brown 10 dB noise), first stage alone and with the verifier (goal <= 5 %);
* false accepts per hour over >= 60 min of espeak-ng speech without the wake phrase (sentences taken from the
  Python standard library's docstrings, with near misses such as "hey Travis", "hey Jervis", "a service",
  "hey jar" every few sentences, 0.4-1.2 s pauses, pink noise at 20 dB), first stage alone and verified
  (goal <= 0.5 per hour);
* CPU while waiting (first-stage process time / audio time, % of one core) and peak RSS.

The hour of negative audio is generated once into /tmp/jarvis-wake-bench (about 2-4 min) and reused.
Run: .venv/bin/python bench/wake.py   (needs espeak-ng and sox; heavy: minutes of CPU)
"""

from __future__ import annotations

import importlib
import random
import re
import sys
import time
from pathlib import Path

import numpy as np
import psutil
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from speech_noise import mix, silence, spoken  # noqa: E402

from jarvis_desktop.stt.whisper import SpeechToText  # noqa: E402
from jarvis_desktop.voice.wake import WakeWordDetector  # noqa: E402
from jarvis_desktop.voice.wake_verify import Verdict, WhisperWakeVerifier  # noqa: E402

CACHE = Path("/tmp/jarvis-wake-bench")
SR = 16000
VOICES = ["en-us", "en-gb+f2", "en+m3", "en-gb-scotland", "en-us+f3"]
POSITIVE_TEXTS = ["hey jarvis", "hey jarvis, what time is it", "hey jarvis set a timer for ten minutes"]
NOISES = [None, ("pink", 15), ("pink", 10), ("brown", 10)]
NEAR_MISSES = [
    "hey Travis",
    "hey Jervis",
    "a service",
    "hey jar",
    "hey jars",
    "hey John",
    "hey Charlie",
    "hey Davis",
    "the jar is on the shelf",
    "hey, what is this",
    "I will serve it",
    "Harvest time is near",
]
NEGATIVE_MINUTES = 60.0
MODULES = [
    "json",
    "os",
    "pathlib",
    "collections",
    "re",
    "argparse",
    "logging",
    "subprocess",
    "threading",
    "asyncio",
    "email",
    "http.client",
    "urllib.request",
    "datetime",
    "decimal",
    "fractions",
    "random",
    "statistics",
    "string",
    "textwrap",
    "csv",
    "sqlite3",
    "zipfile",
    "tarfile",
    "shutil",
    "tempfile",
    "unittest",
    "functools",
    "itertools",
    "inspect",
    "typing",
    "dataclasses",
    "enum",
    "heapq",
    "bisect",
    "calendar",
]


class CountingVerifier:
    """Wraps the Whisper verifier, counting calls and their time."""

    def __init__(self, inner: WhisperWakeVerifier) -> None:
        self.inner = inner
        self.calls = 0
        self.seconds = 0.0

    def verify(self, segment: np.ndarray) -> Verdict:
        t0 = time.process_time()
        self.calls += 1
        try:
            return self.inner.verify(segment)
        finally:
            self.seconds += time.process_time() - t0


def sentences(count: int, seed: int = 0) -> list[str]:
    """Plain English sentences of 4-20 words from stdlib docstrings (no "jarvis" in them)."""
    out: list[str] = []
    for name in MODULES:
        try:
            mod = importlib.import_module(name)
        except ImportError:
            continue
        docs = [mod.__doc__] + [getattr(getattr(mod, a), "__doc__", None) for a in dir(mod)[:80]]
        for doc in (d for d in docs if isinstance(d, str)):
            for s in re.split(r"(?<=[.!?])\s+", " ".join(doc.split())):
                words = re.sub(r"[^A-Za-z ,']+", " ", s).split()
                if 4 <= len(words) <= 20 and "jarvis" not in s.lower():
                    out.append(" ".join(words))
    rng = random.Random(seed)
    out = sorted(set(out))
    rng.shuffle(out)
    return out[:count]


def negative_audio() -> tuple[np.ndarray, int]:
    """>= NEGATIVE_MINUTES of speech without the wake phrase (cached WAV); returns (audio, near-miss count)."""
    path = CACHE / "negatives.wav"
    rng = random.Random(1)
    texts = sentences(2000)
    if path.exists():
        audio, _ = sf.read(path, dtype="float32")
        return audio, int((CACHE / "near_misses.txt").read_text())
    parts: list[np.ndarray] = []
    total = 0
    near = 0
    i = 0
    while total < NEGATIVE_MINUTES * 60 * SR:
        if i % 6 == 5:
            text = NEAR_MISSES[near % len(NEAR_MISSES)]
            near += 1
        else:
            text = texts[i % len(texts)]
        clip = spoken(text, CACHE / "clips", VOICES[i % len(VOICES)], rng.choice([130, 150, 170]))
        parts += [clip, silence(rng.uniform(0.4, 1.2))]
        total += len(parts[-1]) + len(clip)
        i += 1
    speech = np.concatenate(parts)
    block = 30 * SR  # mix the noise in 30 s blocks: one FFT over an hour of samples needs gigabytes
    audio = np.concatenate([mix(speech[i : i + block], 20.0, "pink", seed=7 + i) for i in range(0, len(speech), block)])
    sf.write(path, audio, SR, subtype="PCM_16")
    (CACHE / "near_misses.txt").write_text(str(near))
    return audio, near


def positives() -> list[tuple[str, np.ndarray]]:
    """60 "hey jarvis" clips: 3 texts x 5 voices x 2 speeds x 2 noise conditions (rotating over NOISES)."""
    clips = []
    k = 0
    for text in POSITIVE_TEXTS:
        for voice in VOICES:
            for wpm in (130, 165):
                speech = np.concatenate([silence(0.8), spoken(text, CACHE / "clips", voice, wpm), silence(1.5)])
                for _ in range(2):
                    cond = NOISES[k % len(NOISES)]
                    k += 1
                    audio = speech if cond is None else mix(speech, cond[1], cond[0], seed=k)
                    clips.append((f"{text} | {voice} {wpm} wpm | {cond or 'clean'}", audio))
    return clips


def feed(
    detector: WakeWordDetector, audio: np.ndarray, chunk: int = 1600, heard: list[str] | None = None
) -> tuple[int, int]:
    """Feed in 100 ms chunks (as a microphone would); returns (first-stage activations, accepted detections).
    The verifier transcripts of accepted detections are appended to ``heard``."""
    detector.reset()
    before = detector.activations
    found = 0
    for i in range(0, len(audio), chunk):
        accepted = detector.process(audio[i : i + chunk])
        found += len(accepted)
        if heard is not None:
            heard += [f"{d.time_s:.1f}s: {d.verdict.text}" for d in accepted]
    return detector.activations - before, found


def main() -> None:
    proc = psutil.Process()
    verifier = CountingVerifier(WhisperWakeVerifier(stt=SpeechToText()))  # as the app: its own Whisper, shared
    detector = WakeWordDetector(verifier=verifier)
    rss_waiting = proc.memory_info().rss / 2**20

    clips = positives()
    results = [(name, *feed(detector, a)) for name, a in clips]
    rss_verifier = proc.memory_info().rss / 2**20
    miss_first = sum(1 for _, act, _ in results if act == 0)
    missed = [name for name, _, acc in results if acc == 0]
    n = len(clips)
    print(f"positives: {n} clips")
    rate = 100 * miss_first / n
    print(f"  misses, first stage only (threshold {detector.threshold}): {miss_first}/{n} = {rate:.1f} %")
    print(f"  misses, with verifier: {len(missed)}/{n} = {100 * len(missed) / n:.1f} %")
    for name in missed:
        print(f"    missed: {name}")

    t0 = time.perf_counter()
    neg, near = negative_audio()
    hours = len(neg) / SR / 3600
    print(f"negatives: {len(neg) / SR / 60:.1f} min of speech ({near} near-miss phrases), made/loaded in"
          f" {time.perf_counter() - t0:.0f} s")  # fmt: skip
    cpu0, vsec0, calls0 = time.process_time(), verifier.seconds, verifier.calls
    heard: list[str] = []
    activations, fa = feed(detector, neg, heard=heard)
    cpu_first = time.process_time() - cpu0 - (verifier.seconds - vsec0)
    texts = [d.verdict.text for d in detector.rejections]
    print(f"  first-stage activations (= false accepts without verifier): {activations}"
          f" -> {activations / hours:.1f} per hour")  # fmt: skip
    print(f"  false accepts with verifier: {fa} -> {fa / hours:.2f} per hour"
          f" (verifier ran {verifier.calls - calls0} times, {verifier.seconds - vsec0:.0f} s CPU)")  # fmt: skip
    print(f"  last rejected transcripts: {texts[-8:]}")
    print(f"  accepted (false) transcripts: {heard}")
    audio_s = len(neg) / SR
    print(f"CPU while waiting (first stage, verifier time excluded): {100 * cpu_first / audio_s:.1f} % of one core"
          f" ({cpu_first:.0f} s CPU for {audio_s:.0f} s of audio)")  # fmt: skip
    print(
        f"RSS: {rss_waiting:.0f} MB with the first stage loaded (waiting), {rss_verifier:.0f} MB once the Whisper"
        f" verifier has run, {proc.memory_info().rss / 2**20:.0f} MB at the end (the hour of audio in memory)"
    )


if __name__ == "__main__":
    main()
