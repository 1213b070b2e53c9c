"""Speech output figures (issue 12): first audio, sentence gaps while the chat model writes, chat tokens/s with
speech on and off, barge-in stop latency, synthesis real-time factor and CPU. Prints figures; asserts nothing.

Audio goes to a PulseAudio null sink ``jarvis_bench_speaker`` (started and removed here, with a silent 20 ms
keep-alive stream so the null sink runs at a sound card's pace, see tests/helpers_speaker.py), played through
the app's AudioOutput on device "pulse" with ``PULSE_SINK``. Without PulseAudio the run uses the WAV sink (no
device: first audio is then "handed to the file", and no stop latency is measured) and says so.

(a) one-sentence confirmations: ``Speaker.say()`` -> ``first_audio`` (the first sample handed to the device),
    p50/p95 over 20 replies; then barge-in: ``stop()`` 0.6 s into 10 replies -> the stream's own view of silence
    (first silent callback + reported output latency).
(b) chat: the embedded SmolLM2 (llm/chat.py LocalChatModel, temperature 0) streams 6 answers; each delta goes to
    a ``begin_stream()`` handle as it is decoded. First token -> first audio; dead air between sentences (the next
    sentence's first sample handed over later than the previous one's last: the voice's own pauses not
    counted); tokens/s of the same prompts with speech off and on.
(c) real-time factor of synthesis on a quiet machine and during the chat runs, and CPU of this process while a
    long reply is spoken (no chat).

Run: .venv/bin/python bench/tts.py   (about 2 minutes)
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-tts-bench-home-"))

from jarvis_desktop.config import ChatSettings, SpeechSettings  # noqa: E402
from jarvis_desktop.llm.chat import LocalChatModel  # noqa: E402
from jarvis_desktop.tts.hibari_voice import HibariSynthesizer  # noqa: E402
from jarvis_desktop.tts.output import AudioOutput  # noqa: E402
from jarvis_desktop.tts.sink import AudioSink, StartCallback  # noqa: E402
from jarvis_desktop.tts.speakable import speakable  # noqa: E402
from jarvis_desktop.tts.speaker import Speaker  # noqa: E402
from jarvis_desktop.tts.speech_event import SpeechEvent  # noqa: E402
from jarvis_desktop.tts.synthesizer import Audio, VoiceInfo  # noqa: E402
from jarvis_desktop.tts.wav_sink import WavSink  # noqa: E402

SINK = "jarvis_bench_speaker"
CONFIRMATIONS = [
    "Timer set for 10 minutes.",
    "Alarm set for tomorrow 06:30.",
    "Reminder set for Fri 11 Dec 09:00.",
    "It's 15:30.",
    "Volume set to 40%.",
    "Note saved.",
    "Deleted note #3.",
    "Today is Tuesday, 8 December 2026.",
    "Playing music.",
    "Opening Firefox.",
]
PROMPTS = [
    "What is the capital of France?",
    "Give me three tips for sleeping better.",
    "Explain what a black hole is.",
    "How do I make a cup of tea?",
    "Why is the sky blue?",
    "Tell me about the history of the bicycle.",
]
LONG_REPLY = " ".join(
    [
        "Here is the plan for tomorrow.",
        "At nine you meet the design team in the small room, and at eleven there is a call with the suppliers.",
        "After lunch there is the budget review, which usually runs long.",
        "At four you pick up the children from school.",
        "In the evening nothing is planned, so you can rest.",
    ]
)


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def summary(values: list[float], unit: str = "ms") -> str:
    if not values:
        return "n/a"
    p50, p95, top = pct(values, 50), pct(values, 95), max(values)
    return f"p50 {p50:.0f} {unit}, p95 {p95:.0f} {unit}, max {top:.0f} {unit} (n={len(values)})"


# ---- the null sink -------------------------------------------------------------------------------------------
def start_sink() -> tuple[str | None, subprocess.Popen[bytes] | None]:
    """Load the null sink and its keep-alive; returns (module id, keep-alive) or (None, None) without PulseAudio."""
    if not (shutil.which("pulseaudio") and shutil.which("pactl") and shutil.which("pacat")):
        return None, None
    if subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
        subprocess.run(["pulseaudio", "--start", "--exit-idle-time=-1"], capture_output=True)
        time.sleep(1.0)
    done = subprocess.run(
        ["pactl", "load-module", "module-null-sink", f"sink_name={SINK}"], capture_output=True, text=True
    )
    if done.returncode != 0:
        return None, None
    if subprocess.run(["pactl", "get-default-sink"], capture_output=True, text=True).stdout.strip() == SINK:
        # loading it removed PulseAudio's placeholder sink: give the default to another null sink, so other
        # programs' sound stays out of the bench sink (unloaded with it)
        extra = subprocess.run(
            ["pactl", "load-module", "module-null-sink", "sink_name=jarvis_default"], capture_output=True, text=True
        ).stdout.strip()
        subprocess.run(["pactl", "set-default-sink", "jarvis_default"], capture_output=True)
        done = subprocess.CompletedProcess(done.args, 0, f"{done.stdout.strip()} {extra}")
    keep_alive = subprocess.Popen(
        ["pacat", "--playback", "--latency-msec=20", f"--device={SINK}", "--format=s16le", "--rate=16000",
         "--channels=1", "/dev/zero"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.environ["PULSE_SINK"] = SINK
    time.sleep(0.3)
    return done.stdout.strip(), keep_alive


def stop_sink(module: str | None, keep_alive: subprocess.Popen[bytes] | None) -> None:
    if keep_alive is not None:
        keep_alive.terminate()
        keep_alive.wait(timeout=5)
    for one in (module or "").split()[::-1]:
        subprocess.run(["pactl", "unload-module", one], capture_output=True)


# ---- measuring wrappers (real work, recorded) ----------------------------------------------------------------
class TimedVoice:
    """The real voice, recording (seconds of synthesis, seconds of audio) per call."""

    def __init__(self, voice: HibariSynthesizer) -> None:
        self.inner = voice
        self.calls: list[tuple[float, float]] = []

    @property
    def voice(self) -> VoiceInfo:
        return self.inner.voice

    @property
    def sample_rate_hz(self) -> int:
        return self.inner.sample_rate_hz

    def synthesize(self, text: str) -> Audio:
        t0 = time.perf_counter()
        audio = self.inner.synthesize(text)
        self.calls.append((time.perf_counter() - t0, len(audio) / self.inner.sample_rate_hz))
        return audio


class TimedOutput(AudioOutput):
    """The real AudioOutput, recording when each chunk's first sample went out and how long the chunk is."""

    def __init__(self, rate: int, device: str) -> None:
        super().__init__(rate, device)
        self.chunks: list[list[float]] = []  # [handed_at or nan, seconds]

    def play(self, audio: Audio, on_start: StartCallback | None = None) -> None:
        entry = [float("nan"), len(audio) / self.sample_rate_hz]
        self.chunks.append(entry)

        def started(at: float) -> None:
            entry[0] = at
            if on_start is not None:
                on_start(at)

        super().play(audio, started)


def dead_air_ms(chunks: list[list[float]]) -> list[float]:
    """Between consecutive sentences: how much later the next one was handed over than the previous one ended."""
    gaps = []
    for (start, dur), (nxt, _) in zip(chunks, chunks[1:], strict=False):
        if not (np.isnan(start) or np.isnan(nxt)):
            gaps.append(max(0.0, (nxt - (start + dur)) * 1000.0))
    return gaps


# ---- (a) confirmations -------------------------------------------------------------------------------------
def bench_confirmations(voice: TimedVoice, make_sink) -> None:
    events: list[SpeechEvent] = []
    speaker = Speaker(SpeechSettings(), synthesizer=voice, output=make_sink(), listener=events.append)
    firsts = []
    for text in CONFIRMATIONS * 2:
        events.clear()
        speaker.say(text)
        speaker.wait_idle(30)
        time.sleep(0.05)
        firsts += [e.latency_ms for e in events if e.kind == "first_audio"]
    print(f"(a) confirmation say() -> first audio: {summary(firsts)}")
    output = speaker.output
    if isinstance(output, AudioOutput):
        stops, calls = [], []
        for text in CONFIRMATIONS[:10]:
            events.clear()
            speaker.say(f"{text} {LONG_REPLY}")
            deadline = time.perf_counter() + 10
            while not any(e.kind == "first_audio" for e in events) and time.perf_counter() < deadline:
                time.sleep(0.01)
            time.sleep(0.6)
            calls.append(speaker.stop())
            time.sleep(0.3)
            if output.last_stop is not None:
                stops.append(output.last_stop.silent_within_ms)
        print(f"    barge-in stop(): call {summary(calls)}; silent at the device (callback + latency) {summary(stops)}")
        print(f"    stream output latency {output.output_latency_s * 1000:.0f} ms; underflows {output.underflows}")
    speaker.close()


# ---- (b) chat ----------------------------------------------------------------------------------------------
def chat_once(model: LocalChatModel, prompt: str, speaker: Speaker | None) -> tuple[float, float, str]:
    """One answer; returns (tokens/s, perf time of the first token, answer)."""
    messages = [{"role": "user", "content": prompt}]
    handle = speaker.begin_stream() if speaker is not None else None
    first = float("nan")
    parts = []
    for delta in model.stream(messages, temperature=0.0, max_tokens=160):
        if np.isnan(first):
            first = time.perf_counter()
        parts.append(delta)
        if handle is not None:
            handle.feed(delta)
    if handle is not None:
        handle.end()
    stats = model.last_stats
    return (stats.tokens_per_s if stats else float("nan")), first, "".join(parts)


def bench_chat(voice: TimedVoice, make_sink) -> None:
    model = LocalChatModel(options=ChatSettings())
    model.warm_up()
    off = [chat_once(model, p, None)[0] for p in PROMPTS]
    events: list[tuple[float, SpeechEvent]] = []
    sink = make_sink()
    speaker = Speaker(SpeechSettings(), synthesizer=voice, output=sink, listener=lambda e: events.append((0.0, e)))
    on, to_audio, gaps, sentences = [], [], [], 0
    voice.calls.clear()
    for prompt in PROMPTS:
        events.clear()
        if isinstance(sink, TimedOutput):
            sink.chunks.clear()
        rate, first_token, answer = chat_once(model, prompt, speaker)
        t_end = time.perf_counter()
        on.append(rate)
        speaker.wait_idle(120)
        time.sleep(0.05)
        start = next((e for _, e in events if e.kind == "first_audio"), None)
        if start is not None and isinstance(sink, TimedOutput) and sink.chunks:
            to_audio.append((sink.chunks[0][0] - first_token) * 1000.0)
            gaps += dead_air_ms(sink.chunks)
            sentences += len(sink.chunks)
        print(
            f"    {prompt!r}: {len(answer)} chars, {rate:.0f} tok/s, "
            f"answer done {t_end - first_token:.1f} s after its first token"
        )
    chat_rtf = [s / a for s, a in voice.calls if a > 0]
    print(f"(b) chat first token -> first audio: {summary(to_audio)}")
    print(
        f"    dead air between sentences ({sentences} sentences): {summary(gaps)}; "
        f"over 300 ms: {sum(g > 300 for g in gaps)}"
    )
    print(f"    chat tokens/s speech off: mean {statistics.mean(off):.1f} ({', '.join(f'{r:.0f}' for r in off)})")
    print(f"    chat tokens/s speech on:  mean {statistics.mean(on):.1f} ({', '.join(f'{r:.0f}' for r in on)})")
    print(f"    synthesis RTF while chat runs: {summary([r * 1000 for r in chat_rtf], unit='/1000')}")
    speaker.close()


# ---- (c) real-time factor and CPU --------------------------------------------------------------------------------
def bench_rtf(voice: TimedVoice, make_sink) -> None:
    voice.calls.clear()
    for text in CONFIRMATIONS + LONG_REPLY.split(". "):
        voice.synthesize(speakable(text))
    rtf = [s / a for s, a in voice.calls if a > 0]
    print(f"(c) synthesis RTF, quiet: {summary([r * 1000 for r in rtf], unit='/1000')}")
    speaker = Speaker(SpeechSettings(), synthesizer=voice, output=make_sink())
    proc = psutil.Process()
    cpu0, t0 = sum(proc.cpu_times()[:2]), time.perf_counter()
    speaker.say(LONG_REPLY)
    speaker.wait_idle(120)
    wall = time.perf_counter() - t0
    cpu = sum(proc.cpu_times()[:2]) - cpu0
    print(f"    CPU while speaking a {wall:.1f} s reply: {100 * cpu / wall:.1f} % of one core (synthesis + output)")
    speaker.close()


def main() -> None:
    module, keep_alive = start_sink()
    try:
        if module:
            print(f"output: AudioOutput on device 'pulse' -> PulseAudio null sink {SINK} (PULSE_SINK)")

            def make_sink() -> AudioSink:
                return TimedOutput(24000, "pulse")
        else:
            print("output: no PulseAudio: WAV sink (no device; latencies are to the file, no stop latency)")
            scratch = Path(tempfile.mkdtemp(prefix="jarvis-tts-bench-"))

            def make_sink() -> AudioSink:
                return WavSink(scratch / f"{time.perf_counter_ns()}.wav", 24000)

        voice = TimedVoice(HibariSynthesizer())
        print(f"voice warm-up {voice.inner.warm_up():.2f} s; {os.cpu_count()} cores")
        bench_confirmations(voice, make_sink)
        bench_chat(voice, make_sink)
        bench_rtf(voice, make_sink)
    finally:
        stop_sink(module, keep_alive)


if __name__ == "__main__":
    main()
