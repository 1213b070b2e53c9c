"""The GUI's longest stall while the Knowledge tab indexes 1,000 files in the background (issue 15).

A Knowledge tab (offscreen Qt) over a real KnowledgeService (all-MiniLM-L6-v2 embeddings, FTS5, a temporary
database) is given a folder of ``--files`` generated Markdown/text files (1-3 KB of varied English each) through
its Add folder path; the background indexer indexes them and reports progress, which the tab renders. A QTimer
fires every 10 ms on the GUI thread and records the gap between its ticks: a gap well over 10 ms is the GUI thread
being held (by rendering, or by the indexer's threads holding the GIL). Reported: the longest gap, p99, gaps over
50 / 100 ms, for an idle baseline (3 s before anything starts), while the embedding model loads (torch import) and
while the files are indexed; files/s; chunks.

    flock /tmp/jarvis-bench.lock .venv/bin/python bench/gui_stall_indexing.py [--files 1000] [--process] [--json]

``--process``: the embedding model in a child process (WorkerEmbedder), as the window runs it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QElapsedTimer, QTimer  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from jarvis_desktop.config import Settings  # noqa: E402
from jarvis_desktop.knowledge.indexer import KnowledgeService  # noqa: E402
from jarvis_desktop.knowledge.types import IndexStatus  # noqa: E402
from jarvis_desktop.store.db import Database  # noqa: E402
from jarvis_desktop.ui.knowledge_tab import KnowledgeController, KnowledgeTab  # noqa: E402

_WORD_TEXT = (
    "lease rent boiler plumber garden invoice meeting project budget deadline travel flight hotel doctor "
    "appointment recipe flour sugar insurance claim policy car service tyres brakes school holiday summer "
    "winter report review client design testing backend network router password birthday present book club "
    "museum ticket train station kitchen bathroom window paint carpet neighbour parcel delivery warranty"
)
WORDS = _WORD_TEXT.split()


def make_files(folder: Path, n: int, seed: int = 7) -> None:
    """``n`` Markdown and text files of 1-3 KB, with headings, in a few sub-folders."""
    rng = random.Random(seed)
    for i in range(n):
        sub = folder / f"part{i % 10}"
        sub.mkdir(exist_ok=True)
        lines = [f"# Document {i}: {rng.choice(WORDS)} and {rng.choice(WORDS)}", ""]
        for section in range(rng.randint(1, 3)):
            lines += [f"## Section {section + 1}", ""]
            for _ in range(rng.randint(3, 8)):
                lines.append(" ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 20))).capitalize() + ".")
            lines.append("")
        suffix = ".md" if i % 3 else ".txt"
        (sub / f"doc{i:04d}{suffix}").write_text("\n".join(lines), encoding="utf-8")


class GapMeter:
    """A 10 ms QTimer on the GUI thread; ``gaps[phase]`` collects the ms between ticks."""

    def __init__(self) -> None:
        self.phase = "idle"
        self.gaps: dict[str, list[float]] = {}
        self.clock = QElapsedTimer()
        self.clock.start()
        self.last = self.clock.nsecsElapsed()
        self.timer = QTimer()
        self.timer.setInterval(10)
        self.timer.timeout.connect(self.tick)
        self.timer.start()

    def tick(self) -> None:
        now = self.clock.nsecsElapsed()
        self.gaps.setdefault(self.phase, []).append((now - self.last) / 1e6)
        self.last = now


def summary(gaps: list[float]) -> dict[str, Any]:
    if not gaps:
        return {"ticks": 0}
    ordered = sorted(gaps)
    return {
        "ticks": len(gaps),
        "max_ms": round(ordered[-1], 1),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 1),
        "p50_ms": round(ordered[len(ordered) // 2], 1),
        "over_50ms": sum(g > 50 for g in gaps),
        "over_100ms": sum(g > 100 for g in gaps),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds to wait for the indexing")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--process", action="store_true", help="embed in a child process, as the window does")
    args = parser.parse_args()
    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "docs"
        folder.mkdir()
        make_files(folder, args.files)
        db = Database(Path(tmp) / "bench.sqlite3", backups=None)
        index = None
        if args.process:
            from jarvis_desktop.knowledge.embedder import load_embedder
            from jarvis_desktop.knowledge.index import KnowledgeIndex

            index = KnowledgeIndex(db, load_embedder(Settings().embeddings, process=True))
        service = KnowledgeService(db, Settings(), index=index)
        tab = KnowledgeTab(KnowledgeController(background=True))
        tab.resize(800, 600)
        tab.show()
        meter = GapMeter()
        marks: dict[str, float] = {}
        state: dict[str, IndexStatus | None] = {"status": None}

        def on_status(status: IndexStatus) -> None:
            state["status"] = status
            if status.files > 0 and meter.phase == "loading":
                meter.phase = "indexing"
                marks["first_file"] = time.perf_counter()

        tab.status_shown.connect(on_status)
        end = time.perf_counter() + 3.0
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.002)
        meter.phase = "loading"
        marks["start"] = time.perf_counter()
        tab.controller.set_service(service)
        tab.add_folder(str(folder))
        deadline = time.perf_counter() + args.timeout
        while time.perf_counter() < deadline:
            app.processEvents()
            time.sleep(0.002)
            status = state["status"]
            if status is not None and status.files >= args.files - len(status.problems) and status.pending == 0:
                break
        marks["done"] = time.perf_counter()
        meter.phase = "after"
        status = state["status"]
        service.stop()
        if index is not None and index.embedder is not None:
            index.embedder.close()
        tab.controller.close()
        db.close()
    index_s = marks["done"] - marks.get("first_file", marks["start"])
    out = {
        "files": args.files,
        "indexed_files": status.files if status else 0,
        "chunks": status.chunks if status else 0,
        "problems": len(status.problems) if status else 0,
        "load_s": round(marks.get("first_file", marks["done"]) - marks["start"], 1),
        "index_s": round(index_s, 1),
        "files_per_s": round((status.files if status else 0) / max(index_s, 1e-9), 1),
        "idle": summary(meter.gaps.get("idle", [])),
        "loading": summary(meter.gaps.get("loading", [])),
        "indexing": summary(meter.gaps.get("indexing", [])),
        "embedding": "child process" if args.process else "in process",
        "cpus": os.cpu_count(),
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        print(
            f"{out['indexed_files']} files, {out['chunks']} chunks; model load {out['load_s']} s; indexing "
            f"{out['index_s']} s ({out['files_per_s']} files/s)"
        )
        for phase in ("idle", "loading", "indexing"):
            print(f"  {phase:9s} {out[phase]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
