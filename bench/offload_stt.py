"""Benchmark of speech-to-text offload (issue 16 item 4), on real processes:

* "the remote": ``python -m wyoming_faster_whisper`` on the embedded Whisper tiny.en (127.0.0.1, int8,
  ``--cpu-threads 2``, beam 5, its Silero VAD on), spoken to by :class:`jarvis_desktop.stt.remote.WyomingSpeechToText`;
* the local model: the same directory in-process (:class:`jarvis_desktop.stt.whisper.SpeechToText`, int8, 2
  threads, beam 5, VAD on: the app's defaults).

Measures:
1. local vs remote transcription latency on the same clips (espeak-ng commands and the pocketsphinx test
   recordings), p50 and p90 over all clips x ``--runs``, and whether both gave the same words;
2. failover per fault (a closed port, a TCP server that accepts and never answers, one answering an HTTP 500
   line): seconds until the local fallback starts (``last.remote_s``) and until the local transcript is back,
   median over ``--runs``; ``[remote] stt_timeout_s`` = ``--timeout``.

Both sides run on the same CPU here, so the remote figure is the local compute plus the protocol's cost (one TCP
connection, 16-bit PCM in 1 s chunks, the server writing a WAV): it measures the overhead, not a GPU's gain.

Run: flock /tmp/jarvis-bench.lock .venv/bin/python bench/offload_stt.py [--runs 3] [--timeout 2] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))
os.environ.setdefault("JARVIS_DESKTOP_HOME", tempfile.mkdtemp(prefix="jarvis-bench-"))

import numpy as np  # noqa: E402
from helpers_audio import normalise, pad  # noqa: E402
from speech import speak  # noqa: E402

from jarvis_desktop.audio.wav import SAMPLE_RATE, load_audio  # noqa: E402
from jarvis_desktop.config import Settings  # noqa: E402
from jarvis_desktop.models import embedded_whisper_path  # noqa: E402
from jarvis_desktop.monitor.resource_monitor import ResourceMonitor  # noqa: E402
from jarvis_desktop.stt.remote import PlacedSpeechToText, WyomingSpeechToText  # noqa: E402
from jarvis_desktop.stt.whisper import SpeechToText  # noqa: E402

COMMANDS = [
    "what time is it",
    "set a timer for ten minutes",
    "remind me to call mom tomorrow at five pm",
    "what is the weather like today",
    "add milk to my shopping list",
    "turn the volume down",
]
POCKETSPHINX = Path("/usr/share/pocketsphinx/test/data")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(port: int, data: Path) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}"]
    cmd += ["--model", str(embedded_whisper_path()), "--data-dir", str(data), "--local-files-only"]
    cmd += ["--compute-type", "int8", "--cpu-threads", "2", "--language", "en", "--beam-size", "5", "--vad-filter"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("wyoming-faster-whisper did not listen within 60 s")


class FakeServer:
    """Accepts connections; ``reply`` None = never answers (hung), else sends ``reply`` and stays open."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply, self.conns = reply, []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(conn)
            if self.reply is not None:
                conn.sendall(self.reply)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for c in self.conns:
            c.close()
        self.sock.close()


def clips(tmp: Path) -> list[tuple[str, np.ndarray]]:
    out = [(text, pad(load_audio(speak(text, tmp / f"{i}.wav")), 0.3, 0.3)) for i, text in enumerate(COMMANDS)]
    for wav in sorted(POCKETSPHINX.glob("*.wav"))[:4]:
        out.append((wav.name, load_audio(wav)))
    return out


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=2.0, help="[remote] stt_timeout_s for the fault runs (s)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="jarvis-bench-stt-"))
    data = clips(tmp)
    audio_s = sum(len(a) for _, a in data) / SAMPLE_RATE
    port = free_port()
    server = start_server(port, tmp / "server")
    try:
        local = SpeechToText()
        local.warm_up()
        remote = WyomingSpeechToText(f"tcp://127.0.0.1:{port}", timeout_s=30.0)
        remote.transcribe(data[0][1])  # the server loads its model on the first request
        lat: dict[str, list[float]] = {"local": [], "remote": []}
        same = 0
        for _ in range(args.runs):
            for _name, audio in data:
                t0 = time.perf_counter()
                a = local.transcribe(audio).text
                lat["local"].append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                b = remote.transcribe(audio).text
                lat["remote"].append(time.perf_counter() - t0)
                same += normalise(a) == normalise(b)
        latency = {
            k: {"p50_ms": round(pct(v, 50) * 1000, 1), "p90_ms": round(pct(v, 90) * 1000, 1)} for k, v in lat.items()
        }
        latency["same_words"] = f"{same}/{len(data) * args.runs}"  # type: ignore[assignment]

        failover: dict[str, dict[str, float]] = {}
        command = data[0][1]
        for fault in ("down", "hung", "garbage"):
            remote_s, total_s = [], []
            for _ in range(args.runs):
                fake = None
                if fault == "down":
                    fport = free_port()
                else:
                    fake = FakeServer(None if fault == "hung" else b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
                    fport = fake.port
                settings = Settings()
                settings.remote.stt_url = f"tcp://127.0.0.1:{fport}"
                settings.remote.stt_timeout_s = args.timeout
                settings.remote.placement = "remote"
                placed = PlacedSpeechToText(settings, local=local, monitor=ResourceMonitor.from_settings(settings))
                t0 = time.perf_counter()
                text = placed.transcribe(command).text
                total_s.append(time.perf_counter() - t0)
                assert placed.last is not None and placed.last.fallback and normalise(text) == "what time is it"
                remote_s.append(placed.last.remote_s)
                if fake is not None:
                    fake.close()
            failover[fault] = {
                "to_fallback_s": round(statistics.median(remote_s), 3),
                "to_transcript_s": round(statistics.median(total_s), 3),
            }
    finally:
        server.terminate()
        server.wait(10)

    result = {
        "clips": len(data),
        "audio_s": round(audio_s, 1),
        "runs": args.runs,
        "timeout_s": args.timeout,
        "latency": latency,
        "failover": failover,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return
    print(f"{len(data)} clips ({audio_s:.1f} s of audio) x {args.runs} runs; tiny.en int8, 2 threads, beam 5")
    for k in ("local", "remote"):
        print(f"  {k:6s} p50 {latency[k]['p50_ms']:7.1f} ms   p90 {latency[k]['p90_ms']:7.1f} ms")  # type: ignore[index]
    print(f"  same words: {latency['same_words']}")
    print(f"failover (stt_timeout_s = {args.timeout:g} s), median of {args.runs}:")
    for fault, f in failover.items():
        starts, done = f["to_fallback_s"], f["to_transcript_s"]
        print(f"  {fault:8s} fallback starts after {starts:.3f} s, transcript after {done:.3f} s")


if __name__ == "__main__":
    main()
