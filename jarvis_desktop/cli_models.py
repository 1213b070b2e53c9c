"""``jarvis-desktop models``: the model catalogue on the command line (docs/models.md).

* ``models list [--kind K] [--json]``: id, kind, size, RAM, licence, installed?, active?
* ``models download ID``: progress on stderr; Ctrl-C stops cleanly (exit 130) and the next run resumes.
* ``models use ID``: make it the chat / speech / embedding model (writes the settings file).
* ``models remove ID``: delete a downloaded model (not the one in use, not an embedded one).

Exit codes (errors.py): 0 done; 2 bad input (unknown id, not installed, in use); 1 a failed download
(hub unreachable, not enough disk, corrupt file); 130 cancelled with Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from jarvis_desktop import catalog
from jarvis_desktop.catalog.download import DownloadProgress
from jarvis_desktop.cli_common import print_json
from jarvis_desktop.config import Settings, load_settings, save_settings
from jarvis_desktop.errors import Cancelled

INTERRUPTED = 130


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``models`` (list, download, use, remove) on the CLI's sub-parsers."""
    m = sub.add_parser("models", help="the model catalogue: list, download, use, remove (docs/models.md)")
    msub = m.add_subparsers(
        dest="models_command", required=True, metavar="{list,download,use,remove}", parser_class=type(m)
    )
    s = msub.add_parser("list", help="the catalogue with sizes, RAM, licences and what is installed and in use")
    s.add_argument("--kind", choices=catalog.KINDS, help="only this kind of model")
    s.add_argument("--json", action="store_true", help="one JSON array")
    s.set_defaults(func=cmd_list)
    s = msub.add_parser("download", help="download and verify a model (Ctrl-C stops; run again to resume)")
    s.add_argument("id", metavar="ID")
    s.set_defaults(func=cmd_download)
    s = msub.add_parser("use", help="make an installed model the one Jarvis uses for its kind")
    s.add_argument("id", metavar="ID")
    s.set_defaults(func=cmd_use)
    s = msub.add_parser("remove", help="delete a downloaded model (or an unfinished download)")
    s.add_argument("id", metavar="ID")
    s.set_defaults(func=cmd_remove)


def _size(n: float) -> str:
    return f"{n / 1e9:.2f} GB" if n >= 1e9 else f"{n / 1e6:.0f} MB"


def _row(entry: catalog.CatalogEntry, settings: Settings) -> dict[str, Any]:
    st = catalog.state(entry, settings)
    return {
        "id": entry.id,
        "kind": entry.kind,
        "name": entry.name,
        "repo_id": entry.repo_id,
        "files": list(entry.all_files),
        "size_bytes": entry.size_bytes,
        "ram_mib": entry.ram_mib,
        "licence": entry.licence,
        "description": entry.description,
        "embedded": entry.embedded,
        "installed": st.installed,
        "active": catalog.is_active(entry, settings),
        "path": str(st.path) if st.path else None,
        "footprint_mib": round(st.footprint_mib, 1),
        "partial_bytes": st.partial_bytes,
    }


def cmd_list(args: argparse.Namespace) -> int:
    """``models list``: the catalogue (disk only; no network)."""
    settings = load_settings()
    rows = [_row(e, settings) for e in catalog.entries(args.kind)]
    if args.json:
        print_json(rows)
        return 0
    print(f"{'':2}{'id':18} {'kind':9} {'size':>8} {'RAM':>8}  {'installed':11} licence")
    for r in rows:
        if r["installed"]:
            where = "embedded" if r["embedded"] else "yes"
        elif r["partial_bytes"]:
            where = f"partial {100 * r['partial_bytes'] / max(1, r['size_bytes']):.0f}%"
        else:
            where = "missing" if r["embedded"] else "no"
        mark = "* " if r["active"] else "  "
        ram = f"{r['ram_mib'] / 1024:.1f} GiB" if r["ram_mib"] >= 1024 else f"{r['ram_mib']} MiB"
        # A downloaded model shows its real size on disk; the others the catalogue's approximate one.
        size = r["footprint_mib"] * 2**20 if r["installed"] and not r["embedded"] else r["size_bytes"]
        print(f"{mark}{r['id']:18} {r['kind']:9} {_size(size):>8} {ram:>8}  {where:11} {r['licence']}")
    print("(* = in use; sizes of models not downloaded are approximate)")
    return 0


class _ProgressLine:
    """Progress on stderr: one rewritten line on a terminal, else a line every 10 %."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.next_step = 0.0
        self.started = time.monotonic()

    def __call__(self, p: DownloadProgress) -> None:
        fetched = p.done_bytes - p.resumed_bytes
        rate = fetched / max(1e-3, time.monotonic() - self.started)
        text = f"{p.entry_id}: {_size(p.done_bytes)} / {_size(p.total_bytes)} ({100 * p.fraction:.0f}%)"
        text += f", {rate / 1e6:.1f} MB/s" if p.phase == "download" else f", {p.phase} {p.filename}"
        if self.tty:
            sys.stderr.write("\r" + text.ljust(78))
        elif p.fraction >= self.next_step or p.phase != "download":
            sys.stderr.write(text + "\n")
            self.next_step = p.fraction + 0.1
        sys.stderr.flush()


def cmd_download(args: argparse.Namespace) -> int:
    """``models download ID``: Ctrl-C sets the cancel event (the partial file stays for the next run)."""
    entry = catalog.get_entry(args.id)
    settings = load_settings()
    cancel = threading.Event()

    def on_sigint(signum: int, frame: FrameType | None) -> None:
        cancel.set()

    if catalog.is_installed(entry, settings) and not entry.embedded:
        sys.stderr.write(f"{entry.id} is already installed\n")
    elif catalog.state(entry, settings).partial_bytes:
        sys.stderr.write(f"{entry.id}: resuming the unfinished download\n")
    previous = signal.signal(signal.SIGINT, on_sigint)
    line = _ProgressLine()
    try:
        path = catalog.download(entry, settings, progress=line, cancel=cancel)
    except Cancelled as exc:
        stopped: Cancelled | None = exc
    else:
        stopped = None
    finally:
        signal.signal(signal.SIGINT, previous)
        if line.tty:
            sys.stderr.write("\n")
    if stopped is not None:
        sys.stderr.write(f"{stopped}\n")
        return INTERRUPTED
    print(path)
    if not catalog.is_active(entry, settings):
        sys.stderr.write(f"use it with: jarvis-desktop models use {entry.id}\n")
    return 0


def cmd_use(args: argparse.Namespace) -> int:
    """``models use ID``: write the choice to the settings file."""
    entry = catalog.get_entry(args.id)
    settings = load_settings()
    path = catalog.use(entry, settings)
    saved = save_settings(settings)
    print(f"{entry.kind} model: {entry.id} ({path}); saved in {saved}")
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    """``models remove ID``: delete its directory."""
    entry = catalog.get_entry(args.id)
    freed = catalog.remove(entry, load_settings())
    print(f"removed {entry.id} ({_size(freed)} freed)")
    return 0
