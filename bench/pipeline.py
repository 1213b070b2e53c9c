"""Benchmark of the voice pipeline on the embedded default models.

Speaks a set of commands with espeak-ng (16 kHz mono WAV via sox), then measures:
STT latency and real-time factor (STT seconds / audio seconds), NLU latency p50/p95 over the
transcripts (each parsed 200 times), chat time-to-first-token and tokens/s on three prompts,
and the process's peak RSS.

Run: .venv/bin/python bench/pipeline.py   (needs espeak-ng and sox)
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

COMMANDS = [
    "remind me to call mom tomorrow at three pm",
    "set a timer for ten minutes",
    "what time is it",
    "wake me up at seven tomorrow morning",
    "how much memory am I using",
    "schedule a meeting with Ana next Tuesday at two pm",
    "pause the music",
    "what is a transformer",
]
CHAT_PROMPTS = [
    "What is a transformer in machine learning?",
    "Give me a tip for staying focused.",
    "Explain what a CPU does in one sentence.",
]


def speak(text: str, out: Path) -> Path:
    """espeak-ng -> 16 kHz mono 16-bit WAV."""
    raw = out.with_suffix(".raw.wav")
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
    subprocess.run(["sox", str(raw), "-r", "16000", "-c", "1", "-b", "16", str(out)], check=True)
    raw.unlink()
    return out


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def main() -> int:
    os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-bench-"))
    from jarvis_desktop.assistant import Assistant

    proc = psutil.Process()
    rss0 = proc.memory_info().rss
    assistant = Assistant(record_history=False)
    t = time.perf_counter()
    assistant.warm_up()
    load_s = time.perf_counter() - t
    tmp = Path(tempfile.mkdtemp(prefix="jarvis-bench-wav-"))
    wavs = [speak(text, tmp / f"cmd{i}.wav") for i, text in enumerate(COMMANDS)]

    stt_ms, rtf, transcripts, durations = [], [], [], []
    for wav in wavs:
        tr = assistant.stt.transcribe(wav)
        durations.append(tr.duration_s)
        stt_ms.append(tr.stt_seconds * 1000)
        rtf.append(tr.stt_seconds / tr.duration_s)
        transcripts.append(tr.text.strip())

    nlu_ms = []
    for text in transcripts:
        for _ in range(200):
            t = time.perf_counter()
            assistant.nlu.parse(text)
            nlu_ms.append((time.perf_counter() - t) * 1000)

    ttft, tps = [], []
    for prompt in CHAT_PROMPTS:
        for _ in assistant.chat.stream([{"role": "user", "content": prompt}], max_tokens=96):
            pass
        s = assistant.chat.last_stats
        ttft.append(s.first_token_s * 1000)
        tps.append(s.tokens_per_s)

    print(f"models warm-up: {load_s:.2f} s")
    print(f"STT (Whisper tiny.en int8, {len(wavs)} espeak commands, mean audio {statistics.mean(durations):.2f} s):")
    print(
        f"  latency p50 {pct(stt_ms, 0.5):.0f} ms, p95 {pct(stt_ms, 0.95):.0f} ms; "
        f"real-time factor mean {statistics.mean(rtf):.3f}"
    )
    print(f"NLU parse ({len(nlu_ms)} calls): p50 {pct(nlu_ms, 0.5):.3f} ms, p95 {pct(nlu_ms, 0.95):.3f} ms")
    print(
        f"chat (SmolLM2-135M Q4_1, llama.cpp): time-to-first-token mean {statistics.mean(ttft):.0f} ms, "
        f"{statistics.mean(tps):.0f} tokens/s"
    )
    peak = max(proc.memory_info().rss, rss0) / 2**20
    print(f"process RSS: {peak:.0f} MiB (at start {rss0 / 2**20:.0f} MiB)")
    for text, got in zip(COMMANDS, transcripts, strict=True):
        print(f"  said: {text!r:58} heard: {got!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
