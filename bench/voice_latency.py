"""End of speech -> parse and -> action through the VoiceSession, at real-time pace (issue 11, goal p50 <= 500 ms).

31 varied commands (13 intents), espeak-ng in 5 voices, pink noise at 15 dB SNR, each clip 0.6 s of silence +
the command + 2 s of silence, played one after the other into ONE warm session by the file source at real-time
pace (the stream never stops, as a microphone's would). Wake word off (the wake word is verified while the command
is spoken, so it does not sit between the end of speech and the action); ``--wake`` prefixes "hey jarvis," instead.
Actions run as dry runs with a fixed clock. By default the run is done three times: partial transcripts on, partials
off (both with speculative STT), then speculative STT off (partials off); ``--no-compare`` only the first,
``--no-spec-off`` the first two.
``--commands N`` plays the first N commands only (a reduced run). ``--speak`` speaks every reply through the app's
Speaker into a PulseAudio null sink (bench/tts.py's set-up), adds 5 chat questions, runs one pass and reports end of
speech -> first reply audio (the session's ``speak_start`` event) for actions and chat answers.

Per command, from the session's own events (all stamped from the end of speech = the end of the last voiced
32 ms frame, as it was played): endpoint (the end-silence wait), transcript, parse, action. Prints p50/p95 of
each and each stage's share of the median action latency: endpoint wait, STT left after the endpoint, NLU,
action. Also the intent accuracy (a wrong transcript still counts for latency), and with partials on: partials
per command, their decode time and the first partial's delay after speech start.

Run: .venv/bin/python bench/voice_latency.py [--wake] [--no-compare | --no-spec-off] [--commands N]
(about 2 min per pass of 31 commands; quiet machine)
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-voice-bench-home-"))

from speech_noise import mix, silence, spoken  # noqa: E402
from tts import SINK, start_sink, stop_sink  # noqa: E402  (bench/tts.py: the null sink set-up)

from jarvis_desktop.assistant import Assistant  # noqa: E402
from jarvis_desktop.config import Settings, SpeechSettings, VoiceSettings  # noqa: E402
from jarvis_desktop.tts.speaker import Speaker  # noqa: E402
from jarvis_desktop.voice.events import (  # noqa: E402
    ActionEvent,
    EndpointEvent,
    ParseEvent,
    PartialEvent,
    SpeakStartEvent,
    SpeechStartEvent,
    TranscriptEvent,
    VoiceEvent,
)
from jarvis_desktop.voice.session import VoiceSession  # noqa: E402
from jarvis_desktop.voice.sources import FileSource  # noqa: E402

CACHE = Path("/tmp/jarvis-voice-bench")
SR = 16000
VOICES = ["en-us", "en-gb+f2", "en+m3", "en-gb-scotland", "en-us+f3"]
NOW = datetime.fromisoformat("2026-12-07T10:00")
COMMANDS = [
    ("set a timer for ten minutes", "timer_set"),
    ("start a five minute timer", "timer_set"),
    ("set a timer for two hours", "timer_set"),
    ("remind me to call mom tomorrow at nine", "reminder_set"),
    ("remind me to take the bins out tonight", "reminder_set"),
    ("remind me in twenty minutes to check the oven", "reminder_set"),
    ("remind me next tuesday to pay the rent", "reminder_set"),
    ("wake me up at seven thirty", "alarm_set"),
    ("set an alarm for six tomorrow morning", "alarm_set"),
    ("what is on my calendar tomorrow", "schedule_query"),
    ("do I have anything on friday", "schedule_query"),
    ("add a meeting with Sarah on Monday at ten", "calendar_set"),
    ("schedule lunch with Tom on Thursday at noon", "calendar_set"),
    ("what time is it", "datetime_query"),
    ("what is the date today", "datetime_query"),
    ("what day is it tomorrow", "datetime_query"),
    ("open the calculator", "app_open"),
    ("launch firefox", "app_open"),
    ("how much memory is free", "system_status"),
    ("what is the battery level", "system_status"),
    ("turn the volume down", "volume_set"),
    ("set the volume to fifty percent", "volume_set"),
    ("pause the music", "media_control"),
    ("skip to the next song", "media_control"),
    ("take a note buy milk and eggs", "note_create"),
    ("make a note that the meeting moved to three", "note_create"),
    ("search the web for pasta recipes", "web_search"),
    ("look up the population of Portugal", "web_search"),
    ("cancel my alarm", "schedule_remove"),
    ("delete the reminder about the dentist", "schedule_remove"),
    ("set a timer for thirty seconds", "timer_set"),
]


CHAT_COMMANDS = [
    ("tell me a fun fact about octopuses", "general_chat"),
    ("why is the sky blue", "general_chat"),
    ("what is the capital of france", "general_chat"),
    ("give me a tip for sleeping better", "general_chat"),
    ("how do bees make honey", "general_chat"),
]
"""Chat questions added with ``--speak`` (end of speech -> first audio of a chat answer)."""


def make_clips(wake: bool, count: int, chat: bool = False) -> list[tuple[Path, str, str]]:
    """One WAV per command (voice cycled), the first ``count`` (+ :data:`CHAT_COMMANDS` with ``chat``): returns
    (path, text, expected intent)."""
    out = []
    for i, (text, intent) in enumerate(COMMANDS[:count] + (CHAT_COMMANDS if chat else [])):
        voice = VOICES[i % len(VOICES)]
        parts = [silence(0.6)]
        if wake:
            parts += [spoken("hey jarvis", CACHE, voice), silence(0.4)]
        parts.append(spoken(text, CACHE, voice))
        audio = mix(np.concatenate(parts), 15.0, "pink", seed=i)
        path = CACHE / f"cmd{i:02d}_{'wake' if wake else 'plain'}.wav"
        sf.write(path, audio, SR, subtype="PCM_16")
        out.append((path, text, intent))
    return out


def collect(events: list[VoiceEvent]) -> tuple[dict[float, dict], list[PartialEvent], list[float]]:
    """Rows keyed by end of speech (each stage's latency), the partials, and the speech starts (audio s)."""
    rows: dict[float, dict] = {}
    partials: list[PartialEvent] = []
    starts: list[float] = []
    for e in events:
        if isinstance(e, PartialEvent):
            partials.append(e)
        elif isinstance(e, SpeechStartEvent):
            starts.append(e.audio_s)
        elif isinstance(e, EndpointEvent) and e.addressed:
            rows.setdefault(e.audio_s, {})["endpoint"] = e.latency_ms
        elif isinstance(e, TranscriptEvent):
            rows.setdefault(e.audio_s, {}).update(transcript=e.latency_ms, stt_ms=e.stt_ms, spec=e.speculative)
        elif isinstance(e, ParseEvent):
            rows.setdefault(e.audio_s, {}).update(parse=e.latency_ms, intent=e.intent)
        elif isinstance(e, ActionEvent):
            rows.setdefault(e.audio_s, {})["action"] = e.latency_ms
        elif isinstance(e, SpeakStartEvent):
            rows.setdefault(e.audio_s, {})["speak"] = e.latency_ms
    return rows, partials, starts


def run_pass(
    assistant: Assistant, clips: list[tuple[Path, str, str]], voice: VoiceSettings, speaker: Speaker | None = None
) -> list[dict]:
    """Play every clip into one warm session at real-time pace; returns one row per addressed utterance. With a
    ``speaker`` the replies are spoken and the next clip waits until the reply has been said."""
    events: list[VoiceEvent] = []
    session = VoiceSession(assistant, voice, listener=events.append, now=NOW, dry_run=True, speaker=speaker)
    session.start()
    expected: list[tuple[float, float, str]] = []
    for path, _text, intent in clips:
        start = session.position_s
        source = FileSource(path, realtime=True, tail_s=2.0)
        source.run(session)
        expected.append((start, start + len(source.audio) / SR, intent))
        if speaker is not None:
            session.wait_idle(60)
            speaker.wait_idle(60)
    session.finish(timeout=60)
    rows, partials, starts = collect(events)
    for audio_s, row in rows.items():
        row["expected"] = next((i for a, b, i in expected if a <= audio_s < b), "")
        start = max((s for s in starts if s < audio_s), default=0.0)
        mine = [p for p in partials if start <= p.audio_s <= audio_s + 0.5]
        row["partials"] = len(mine)
        row["partial_ms"] = [p.decode_ms for p in mine]
        if mine:  # the first partial's delay after speech start (audio) + its latency (wall)
            row["first_partial"] = (mine[0].audio_s - start) * 1000.0 + mine[0].latency_ms
    return [r for r in rows.values() if "parse" in r]


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q)) if values else float("nan")


def report(name: str, rows: list[dict]) -> None:
    acted = [r for r in rows if "action" in r and "endpoint" in r]
    correct = sum(r["intent"] == r["expected"] for r in rows)
    print(f"\n== {name}: {len(rows)} commands parsed ({correct} with the expected intent), {len(acted)} acted")
    print(f"{'end of speech ->':<22}{'p50 ms':>9}{'p95 ms':>9}{'mean ms':>9}")
    for key in ("endpoint", "transcript", "parse", "action"):
        vals = [r[key] for r in rows if key in r]
        print(f"{key:<22}{pct(vals, 50):9.0f}{pct(vals, 95):9.0f}{statistics.fmean(vals) if vals else 0:9.0f}")
    if any(r.get("partials") for r in rows):
        decodes = [ms for r in rows for ms in r["partial_ms"]]
        first = [r["first_partial"] for r in rows if "first_partial" in r]
        per = statistics.fmean(r["partials"] for r in rows)
        print(
            f"partials: {per:.1f} per command, decode p50 {pct(decodes, 50):.0f} ms / p95 {pct(decodes, 95):.0f} ms,"
            f" first partial after speech start p50 {pct(first, 50):.0f} ms"
        )
    for label, chat in (("an action", False), ("a chat answer", True)):
        spoken = [r["speak"] for r in rows if "speak" in r and (r["intent"] == "general_chat") == chat]
        if spoken:
            print(
                f"end of speech -> first reply audio, {label}: p50 {pct(spoken, 50):.0f} ms, p95 {pct(spoken, 95):.0f}"
                f" ms (n={len(spoken)})"
            )
    stt = [r["stt_ms"] for r in rows if r.get("stt_ms")]
    spec = sum(bool(r.get("spec")) for r in rows)
    print(f"STT call p50 {pct(stt, 50):.0f} ms, p95 {pct(stt, 95):.0f} ms; speculative transcripts {spec}/{len(rows)}")
    if not acted:
        return
    stages = {
        "endpoint wait (end silence)": [r["endpoint"] for r in acted],
        "STT left after the endpoint": [max(0.0, r["transcript"] - r["endpoint"]) for r in acted],
        "NLU": [r["parse"] - r["transcript"] for r in acted],
        "action (dry run)": [r["action"] - r["parse"] for r in acted],
    }
    total = pct([r["action"] for r in acted], 50)
    print(f"stage shares of the median end-of-speech -> action ({total:.0f} ms), medians of each stage:")
    for stage, vals in stages.items():
        med = pct(vals, 50)
        print(f"  {stage:<30}{med:8.0f} ms  {100 * med / total:5.1f} %")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wake", action="store_true", help='prefix each command with "hey jarvis," (wake word on)')
    parser.add_argument("--no-compare", action="store_true", help="only the first pass (partials on)")
    parser.add_argument("--no-spec-off", action="store_true", help="skip the speculative-STT-off pass")
    parser.add_argument("--commands", type=int, default=len(COMMANDS), help="play only the first N commands")
    parser.add_argument(
        "--speak", action="store_true", help="speak the replies (PulseAudio null sink) and report end of speech ->"
        " first reply audio; one pass (partials on)"
    )  # fmt: skip
    args = parser.parse_args()
    CACHE.mkdir(parents=True, exist_ok=True)
    clips = make_clips(args.wake, args.commands, chat=args.speak)
    load = os.getloadavg()[0]
    print(f"{len(clips)} commands, {len(VOICES)} voices, pink 15 dB, real-time pace; load average {load:.2f}")
    assistant = Assistant(Settings(), record_history=False)
    base = VoiceSettings(wake_word=args.wake, follow_up_s=0.0)
    passes = [("partials on, speculative STT on", replace(base, partials=True, speculative_stt=True))]
    if not args.no_compare:
        passes.append(("partials off, speculative STT on", replace(base, partials=False, speculative_stt=True)))
        if not args.no_spec_off:
            passes.append(("partials off, speculative STT off", replace(base, partials=False, speculative_stt=False)))
    speaker, sink = None, (None, None)
    if args.speak:
        sink = start_sink()
        print(f"speaking to {'the PulseAudio null sink ' + SINK if sink[0] else 'the default output'}")
        speaker = Speaker(SpeechSettings())
        speaker.warm_up()
        passes = passes[:1]
    for name, voice in passes:
        t0 = time.perf_counter()
        rows = run_pass(assistant, clips, voice, speaker)
        print(f"({name}: {time.perf_counter() - t0:.0f} s wall)", end="")
        report(name, rows)
    if speaker is not None:
        speaker.close()
        stop_sink(*sink)
    assistant.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
