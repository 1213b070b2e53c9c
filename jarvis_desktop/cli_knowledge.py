"""``jarvis-desktop index add|remove|status|rebuild`` and ``jarvis-desktop search``: the knowledge index on the
command line (docs/knowledge.md, "CLI").

* ``index add PATH``: adds a folder and indexes it before returning (a progress line on a terminal's stderr, none
  when stderr is not a terminal); prints files indexed, skipped (with each reason) and the totals. A path that
  does not exist or is not a directory: exit 2.
* ``index remove PATH``: forgets a folder; its files leave the index. Not an indexed folder: exit 2.
* ``index status [--json]``: folders, files, records, chunks, last update, vectors, skipped files and why.
* ``index rebuild``: clears the index and indexes every folder and record again.
* ``search QUERY [--k N] [--json]``: the best passages (notes, chat, schedule and files), records synced first.
  ``--json`` prints one array of ``{"path", "score", "snippet", "location", "title", "kind", "similarity",
  "created"}``; ``path`` is the file's path or ``note:<id>`` / ``chat:<id>`` / ``schedule:<id>``, ``location``
  ``{"page", "heading", "line"}``.

Exit codes as everywhere: 0 ok, 2 bad input, 1 internal failure.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from jarvis_desktop.cli_common import print_json
from jarvis_desktop.config import database_path, load_settings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.knowledge.indexer import KnowledgeService
from jarvis_desktop.knowledge.types import IndexStatus, SearchHit
from jarvis_desktop.store.db import Database


def add_parsers(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``index`` (add, remove, status, rebuild) and ``search`` on the CLI's sub-parsers."""
    s = sub.add_parser("index", help="the knowledge index: folders of documents to search and cite")
    isub = s.add_subparsers(dest="index_command", parser_class=type(s), required=True, metavar="COMMAND")
    a = isub.add_parser("add", help="add a folder and index it now (Markdown, text, HTML, PDF ...)")
    a.add_argument("path", metavar="PATH")
    a.add_argument("--json", action="store_true", help="print the index status as JSON when done")
    a.set_defaults(func=cmd_add)
    r = isub.add_parser("remove", help="forget a folder; its files leave the index")
    r.add_argument("path", metavar="PATH")
    r.set_defaults(func=cmd_remove)
    t = isub.add_parser("status", help="folders, counts, last update and the files skipped with why")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_status)
    b = isub.add_parser("rebuild", help="clear the index and index every folder and record again")
    b.set_defaults(func=cmd_rebuild)
    q = sub.add_parser("search", help="search your notes, chats, schedule and indexed folders by meaning and words")
    q.add_argument("query", nargs="+", metavar="QUERY")
    q.add_argument("--k", type=int, default=5, help="results to show (default 5)")
    q.add_argument("--json", action="store_true", help="one JSON array of {path, score, snippet, location, ...}")
    q.set_defaults(func=cmd_search)


def _service() -> KnowledgeService:
    return KnowledgeService(Database(database_path()), load_settings())


class _Bar:
    """Progress on stderr when it is a terminal: one line rewritten with ``\\r`` ("indexing: 12/40 files (30 %)
    docs/lease.md"), at most 10 times a second; nothing when stderr is not a terminal (a pipe, a log file).

    (tqdm is installed with sentence-transformers, but the release here drew nothing on a pseudo-terminal, so the
    line is written directly: it needs nothing and behaves the same everywhere.)
    """

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self._last = 0.0
        self._width = 0

    def __call__(self, done: int, total: int, path: str) -> None:
        if not self.tty:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done != total:
            return
        self._last = now
        columns = shutil.get_terminal_size().columns
        line = f"{self.label}: {done}/{total} files ({100 * done // max(total, 1)} %) {Path(path).name}"
        line = line[: max(columns - 1, 20)]
        sys.stderr.write("\r" + line + " " * max(self._width - len(line), 0))
        sys.stderr.flush()
        self._width = len(line)

    def close(self) -> None:
        if self.tty and self._width:
            sys.stderr.write("\n")
            sys.stderr.flush()


def status_json(status: IndexStatus) -> dict[str, Any]:
    """``index status --json``'s object."""
    return {
        "folders": status.folders,
        "files": status.files,
        "records": status.records,
        "chunks": status.chunks,
        "last_update": status.last_update.isoformat() if status.last_update else None,
        "pending": status.pending,
        "paused": status.paused,
        "vectors": status.vectors,
        "vectors_note": status.vectors_note,
        "problems": [{"path": p.path, "reason": p.reason} for p in status.problems],
    }


def _print_status(status: IndexStatus) -> None:
    print(f"folders:     {', '.join(status.folders) or '-'}")
    print(f"files:       {status.files}")
    print(f"records:     {status.records} (notes, chat messages, schedule items)")
    print(f"chunks:      {status.chunks}")
    when = status.last_update.astimezone().strftime("%Y-%m-%d %H:%M:%S") if status.last_update else "-"
    print(f"last update: {when}")
    print(f"search:      {'words and meaning' if status.vectors else 'words only'}")
    if status.vectors_note:
        print(f"             {status.vectors_note}")
    if status.problems:
        print(f"skipped ({len(status.problems)}):")
        for p in status.problems:
            print(f"  {p.path}: {p.reason}")


def cmd_add(args: argparse.Namespace) -> int:
    """``index add PATH``: exit 2 when PATH is missing or not a directory."""
    service = _service()
    bar = _Bar("indexing")
    t0 = time.perf_counter()
    before = {p.path for p in service.status().problems}
    try:
        status = service.add_folder(args.path, progress=bar)
    finally:
        bar.close()
    seconds = time.perf_counter() - t0
    if args.json:
        print_json(status_json(status))
        return 0
    new = [p for p in status.problems if p.path not in before]
    print(f"indexed {args.path} in {seconds:.1f} s: {status.files} files, {status.chunks} chunks in the index")
    for p in new:
        print(f"skipped {p.path}: {p.reason}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """``index remove PATH``: exit 2 when PATH is not an indexed folder."""
    removed = _service().remove_folder(args.path)
    print(f"removed {args.path}: {removed} files left the index")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    """``index status [--json]``."""
    status = _service().status()
    if args.json:
        print_json(status_json(status))
    else:
        _print_status(status)
    return 0


def cmd_rebuild(args: argparse.Namespace) -> int:
    """``index rebuild``."""
    service = _service()
    bar = _Bar("rebuilding")
    t0 = time.perf_counter()
    try:
        status = service.rebuild(progress=bar)
    finally:
        bar.close()
    print(
        f"rebuilt in {time.perf_counter() - t0:.1f} s: {status.files} files, {status.records} records,"
        f" {status.chunks} chunks; {len(status.problems)} skipped"
    )
    return 0


def hit_json(hit: SearchHit) -> dict[str, Any]:
    """One ``search --json`` result."""
    loc = hit.location
    return {
        "path": hit.source_id,
        "score": round(hit.score, 6),
        "snippet": hit.snippet,
        "location": {"page": loc.page, "heading": loc.heading, "line": loc.line},
        "title": hit.title,
        "kind": hit.kind,
        "similarity": None if hit.similarity is None else round(hit.similarity, 4),
        "created": hit.created.isoformat() if hit.created else None,
    }


def _where(hit: SearchHit) -> str:
    loc = hit.location
    parts = [hit.source_id]
    if loc.page is not None:
        parts.append(f"page {loc.page}")
    if loc.line is not None:
        parts.append(f"line {loc.line}")
    if loc.heading:
        parts.append(loc.heading)
    return ", ".join(parts)


def cmd_search(args: argparse.Namespace) -> int:
    """``search QUERY [--k N] [--json]``: exit 2 for an empty query or N < 1."""
    query = " ".join(args.query).strip()
    if not query:
        raise BadInputError("empty search: give some words to look for")
    if args.k < 1:
        raise BadInputError(f"--k must be at least 1, not {args.k}")
    service = _service()
    service.sync_records()
    hits = service.search(query, k=args.k)
    if args.json:
        print_json([hit_json(h) for h in hits])
        return 0
    if not hits:
        print("nothing found")
    for n, hit in enumerate(hits, 1):
        print(f"{n}. {hit.title}  ({_where(hit)}; score {hit.score:.4f})")
        print(f"   {' '.join(hit.snippet.split())}")
    return 0
