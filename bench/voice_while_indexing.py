"""Voice latency while the knowledge background indexer works through 1,000 files (issue 15).

One warm :class:`~jarvis_desktop.assistant.Assistant` as the window runs it (the embedding model in its child
process, ``embed_in_child``; ``--in-process`` loads it in this process instead) and one
:class:`~jarvis_desktop.voice.session.VoiceSession` on it: bench/voice_latency.py's spoken commands (espeak-ng in
5 voices, pink noise at 15 dB SNR, fed by the FileSource at real-time pace, partials and speculative STT on, wake
word off, dry-run actions) are played twice, after 3 warm-up commands that are not counted:

1. idle: no knowledge service;
2. indexing: ``assistant.knowledge``'s background indexer (wired to the voice path as in the window: its busy hook
   is the Assistant's) is given a folder of ``--files`` files and has indexed ``--warm`` of them (the model is
   loaded) before the first command is played.

Corpus (``--corpus``): ``python-docs`` (default when Debian's ``python3-doc`` is installed): the first N of its
HTML pages then ``_sources/*.rst.txt``, copied to a temporary folder (long pages: hundreds of chunks each);
``generated``: N Markdown/text files of varied English, 2-40 KB each.

Printed: end of speech -> action and -> transcript p50 / p95 (the session's own events), the STT call p50 / p95, for
both passes; files and chunks indexed during the indexing pass; the share of that pass the busy hook said "busy".

    flock /tmp/jarvis-bench.lock .venv/bin/python bench/voice_while_indexing.py [--files 1000] [--commands 31]
        [--repeat R] [--corpus python-docs|generated] [--in-process] [--skip-idle] [--json]

About 6 minutes for the default (two passes of 31 commands, 150 s each, plus loading). No PulseAudio is used.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ["JARVIS_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="jarvis-voice-index-bench-home-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import voice_latency  # noqa: E402  (bench/voice_latency.py: the clips, one pass, percentiles)

from jarvis_desktop.assistant import Assistant  # noqa: E402
from jarvis_desktop.config import Settings, VoiceSettings  # noqa: E402

PYTHON_DOCS = Path("/usr/share/doc/python3.11/html")
_WORD_TEXT = (
    "the voice assistant keeps notes schedules reminders and documents on this machine while the indexer reads "
    "folders in the background splitting every page into chunks of text that are embedded into vectors and stored "
    "with their headings so that a question can be answered from the passages that match it best a timer rings "
    "after ten minutes the meeting moved to Thursday afternoon the report covers budget travel hardware and the "
    "release plan for spring with open questions about testing packaging translations and accessibility"
)
_WORDS = _WORD_TEXT.split()


def python_docs(n: int) -> list[Path]:
    """The first ``n`` pages of Debian's python3-doc (HTML, then ``_sources`` text), or [] when absent."""
    if not PYTHON_DOCS.is_dir():
        return []
    found = sorted(PYTHON_DOCS.glob("*.html")) + sorted(PYTHON_DOCS.glob("*/*.html"))
    found += sorted((PYTHON_DOCS / "_sources").rglob("*.txt"))
    return found[:n]


def make_corpus(folder: Path, n: int, kind: str) -> tuple[int, int]:
    """Fill ``folder`` with ``n`` files (``kind``: python-docs or generated), 100 per sub-folder; returns
    (files, bytes)."""
    total = 0
    if kind == "python-docs":
        pages = python_docs(n)
        if len(pages) < n:
            raise SystemExit(f"python3-doc gives {len(pages)} pages, not {n}: use --corpus generated")
        for i, page in enumerate(pages):
            dest = folder / f"{i // 100:02d}" / f"{i:04d}_{page.name}"
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(page, dest)
            total += dest.stat().st_size
        return n, total
    rng = random.Random(15)
    for i in range(n):
        target = int(2000 * 20 ** rng.random())  # 2-40 KB, log-uniform
        lines = [f"# Document {i}: {rng.choice(_WORDS)} and {rng.choice(_WORDS)}", ""]
        size = 0
        while size < target:
            if rng.random() < 0.15:
                lines += [f"## {rng.choice(_WORDS).capitalize()} {rng.choice(_WORDS)}", ""]
            sentence = " ".join(rng.choice(_WORDS) for _ in range(rng.randint(8, 24))).capitalize() + "."
            lines.append(sentence)
            size += len(sentence) + 1
            if rng.random() < 0.2:
                lines.append("")
        suffix = ".md" if i % 2 == 0 else ".txt"
        dest = folder / f"{i // 100:02d}" / f"doc{i:04d}{suffix}"
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text("\n".join(lines) + "\n", encoding="utf-8")
        total += dest.stat().st_size
    return n, total


def summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """p50 / p95 (ms) of end of speech -> action / transcript and of the STT call, and the command counts."""
    pct = voice_latency.pct
    out: dict[str, Any] = {"commands": len(rows), "correct": sum(r["intent"] == r["expected"] for r in rows)}
    for key in ("transcript", "action", "stt_ms"):
        vals = [float(r[key]) for r in rows if r.get(key)]
        out[key] = {"p50": round(pct(vals, 50)), "p95": round(pct(vals, 95)), "n": len(vals)}
    out["slowest_actions_ms"] = sorted((round(float(r["action"])) for r in rows if r.get("action")), reverse=True)[:4]
    return out


class BusySampler:
    """Samples the knowledge service's busy hook every 20 ms on a thread; ``share`` is the fraction found busy."""

    def __init__(self, hook: Any) -> None:
        self.hook = hook
        self.samples = 0
        self.busy = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="busy-sampler", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.samples += 1
            self.busy += bool(self.hook())

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.busy / max(1, self.samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000, help="files in the indexed folder (default 1000)")
    parser.add_argument("--commands", type=int, default=len(voice_latency.COMMANDS), help="spoken commands per pass")
    parser.add_argument("--corpus", choices=("python-docs", "generated"), default=None)
    parser.add_argument("--repeat", type=int, default=1, help="play the commands this many times per pass")
    parser.add_argument("--warm", type=int, default=10, help="files indexed before the indexing pass starts")
    parser.add_argument("--in-process", action="store_true", help="the embedding model in this process (the CLI's)")
    parser.add_argument("--skip-idle", action="store_true", help="only the pass while indexing")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON at the end")
    args = parser.parse_args()
    kind = args.corpus or ("python-docs" if len(python_docs(args.files)) >= args.files else "generated")

    voice_latency.CACHE.mkdir(parents=True, exist_ok=True)
    clips = voice_latency.make_clips(False, args.commands)
    warm_up = clips[:3]
    clips = clips * max(1, args.repeat)
    corpus = Path(os.environ["JARVIS_DESKTOP_HOME"]) / "corpus"
    n, size = make_corpus(corpus, args.files, kind)
    print(
        f"{len(clips)} commands at real-time pace; corpus {kind}: {n} files, {size / 1e6:.1f} MB;"
        f" embedding {'in process' if args.in_process else 'in the child process'};"
        f" load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    assistant = Assistant(Settings(), record_history=False)
    assistant.embed_in_child = not args.in_process
    voice = VoiceSettings(wake_word=False, follow_up_s=0.0, partials=True, speculative_stt=True)
    result: dict[str, Any] = {"corpus": kind, "files": n, "bytes": size, "in_process": args.in_process}
    voice_latency.run_pass(assistant, warm_up, voice)  # warm-up, not counted: the first actions load their modules

    if not args.skip_idle:
        t0 = time.perf_counter()
        result["idle"] = summary(voice_latency.run_pass(assistant, clips, voice))
        result["idle"]["wall_s"] = round(time.perf_counter() - t0)
        print(f"idle pass: {result['idle']}", flush=True)

    service = assistant.knowledge
    service.index.add_folder(str(corpus))
    service.start_background()
    t0 = time.monotonic()
    while service.status().files < args.warm and time.monotonic() - t0 < 300:
        time.sleep(0.5)
    before = service.status()
    print(f"indexer warm after {time.monotonic() - t0:.1f} s: {before.files} files", flush=True)
    sampler = BusySampler(service.busy)
    t0 = time.perf_counter()
    rows = voice_latency.run_pass(assistant, clips, replace(voice))
    wall = time.perf_counter() - t0
    busy_share = sampler.stop()
    after = service.status()
    indexing = summary(rows)
    indexing.update(
        wall_s=round(wall),
        files_indexed=after.files - before.files,
        chunks_indexed=after.chunks - before.chunks,
        files_per_s=round((after.files - before.files) / wall, 2),
        busy_share=round(busy_share, 3),
        pending_after=after.pending,
    )
    result["indexing"] = indexing
    print(f"indexing pass: {indexing}", flush=True)
    assistant.close()

    print(f"\n{'end of speech ->':<28}{'idle':>14}{'while indexing':>18}")
    for key, label in (("action", "action p50 / p95 ms"), ("transcript", "transcript p50 / p95 ms")):
        cells = [
            f"{result[p][key]['p50']} / {result[p][key]['p95']}" if p in result else "-" for p in ("idle", "indexing")
        ]
        print(f"{label:<28}{cells[0]:>14}{cells[1]:>18}")
    stt = [
        f"{result[p]['stt_ms']['p50']} / {result[p]['stt_ms']['p95']}" if p in result else "-"
        for p in ("idle", "indexing")
    ]
    print(f"{'STT call p50 / p95 ms':<28}{stt[0]:>14}{stt[1]:>18}")
    print(
        f"files indexed during the pass: {indexing['files_indexed']} in {indexing['wall_s']} s"
        f" ({indexing['files_per_s']} files/s, {indexing['chunks_indexed']} chunks); busy hook on"
        f" {100 * busy_share:.0f} % of the pass; load average {os.getloadavg()[0]:.2f}"
    )
    if args.json:
        print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
