"""Per-row comparison of ``jarvis-desktop nlu-eval`` between two code trees (or two row dumps).

A row dump is JSON lines, one per evaluated utterance, in evaluation order: ``{"i", "text", "now",
"intent", "confidence", "date_keys", "when", "payload", "source"}`` (what ``nlu-eval --rows-out FILE``
writes). Two dumps are compared row by row on every field; the script prints ``N rows changed`` and each
changed row (field: before -> after).

Modes:

    # dump one tree's rows (any tree, also one without --rows-out: the engine is driven by a small
    # snippet run with PYTHONPATH=TREE, exactly as nlu-eval drives it)
    .venv/bin/python bench/nlu_rows_diff.py dump --tree /work/base --out before.valid.jsonl
    .venv/bin/python bench/nlu_rows_diff.py dump --tree /work/base --data tests/data/unseen_utterances.jsonl \
        --out before.unseen.jsonl

    # compare two dumps
    .venv/bin/python bench/nlu_rows_diff.py diff before.valid.jsonl after.valid.jsonl

    # both sets, both trees, dumps into DIR (the AFTER tree through its real ``nlu-eval --rows-out``)
    .venv/bin/python bench/nlu_rows_diff.py run --before /work/base --after . --dir /tmp/rows

Both trees run with the same scratch ``JARVIS_DESKTOP_HOME`` (default settings, so the same LoRA
fallback and routing threshold), the same interpreter and the same models.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: fields compared between the two dumps
FIELDS = ("text", "now", "intent", "confidence", "date_keys", "when", "payload", "source")
#: what ``nlu-eval`` does per row, for a tree that has no ``--rows-out`` (keep in step with
#: ``jarvis_desktop.nlu.evaluate.row_record`` and ``evaluate``'s choice of ``now``)
_SNIPPET = r"""
import json, sys
from datetime import datetime
import jarvis_desktop
from jarvis_desktop.assistant import Assistant
from jarvis_desktop.nlu.evaluate import EVAL_NOW, load_rows
sys.stderr.write("code tree: " + jarvis_desktop.__file__ + "\n")
data, out = sys.argv[1] or None, sys.argv[2]
engine = Assistant(record_history=False).nlu
with open(out, "w", encoding="utf-8") as fh:
    for i, row in enumerate(load_rows(data)):
        now = datetime.fromisoformat(row["now"]) if row.get("now") else EVAL_NOW
        res = engine.parse(row["text"], now=now)
        rec = {"i": i, "text": row["text"], "now": now.isoformat(), "intent": res.intent,
               "confidence": res.confidence, "date_keys": list(res.date_keys), "when": res.when,
               "payload": res.payload, "source": res.source}
        fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
"""


def _env(tree: Path, home: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(tree)
    env["JARVIS_DESKTOP_HOME"] = home
    return env


def dump_tree(tree: Path, data: str | None, out: Path, home: str, use_cli: bool = False) -> None:
    """Write the row dump of ``tree`` on ``data`` (None = the built-in validation rows) to ``out``.

    ``use_cli``: run the tree's own ``nlu-eval --rows-out`` (the tree must have the flag); else the snippet.
    Raises subprocess.CalledProcessError when the tree's run fails.
    """
    tree = tree.resolve()
    data_arg = str(Path(data).resolve()) if data else ""
    if use_cli:
        cmd = [sys.executable, "-m", "jarvis_desktop.cli", "nlu-eval", "--rows-out", str(out.resolve())]
        if data_arg:
            cmd += ["--data", data_arg]
        subprocess.run(cmd, cwd=tree, env=_env(tree, home), check=True, stdout=subprocess.DEVNULL)
    else:
        cmd = [sys.executable, "-c", _SNIPPET, data_arg, str(out.resolve())]
        subprocess.run(cmd, cwd=tree, env=_env(tree, home), check=True)


def read_dump(path: Path) -> list[dict]:
    """The rows of a dump file (list of dicts, in file order)."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def diff_dumps(before: list[dict], after: list[dict]) -> list[str]:
    """One line per changed row (``#i text: field before -> after; ...``); a row count mismatch is a change."""
    changes: list[str] = []
    for i in range(max(len(before), len(after))):
        a = before[i] if i < len(before) else None
        b = after[i] if i < len(after) else None
        if a is None or b is None:
            changes.append(f"#{i}: only in {'after' if a is None else 'before'}: {json.dumps(a or b)}")
            continue
        fields = [f"{f}: {a.get(f)!r} -> {b.get(f)!r}" for f in FIELDS if a.get(f) != b.get(f)]
        if fields:
            changes.append(f"#{i} {a.get('text')!r}: " + "; ".join(fields))
    return changes


def report(name: str, before: Path, after: Path) -> int:
    """Print ``N rows changed`` (and each change) for two dump files; returns N."""
    changes = diff_dumps(read_dump(before), read_dump(after))
    print(f"{name}: {len(changes)} rows changed ({len(read_dump(before))} rows)")
    for line in changes:
        print("  " + line)
    return len(changes)


def main(argv: list[str] | None = None) -> int:
    """CLI entry; exit code 1 when any row changed (``diff``/``run``)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="mode", required=True)
    d = sub.add_parser("dump", help="write one tree's row dump")
    d.add_argument("--tree", default=str(ROOT))
    d.add_argument("--data", default=None, help="JSONL rows (default: the built-in validation rows)")
    d.add_argument("--out", required=True)
    d.add_argument("--cli", action="store_true", help="use the tree's own nlu-eval --rows-out")
    c = sub.add_parser("diff", help="compare two dumps")
    c.add_argument("before")
    c.add_argument("after")
    r = sub.add_parser("run", help="dump both sets for both trees and compare")
    r.add_argument("--before", required=True, help="code tree before (driven by the snippet)")
    r.add_argument("--after", default=str(ROOT), help="code tree after (driven by its nlu-eval --rows-out)")
    r.add_argument("--dir", default=None, help="where the dumps go (default: a temporary directory)")
    r.add_argument("--unseen", default=str(ROOT / "tests" / "data" / "unseen_utterances.jsonl"))
    args = ap.parse_args(argv)
    home = tempfile.mkdtemp(prefix="jarvis-rows-")
    if args.mode == "dump":
        dump_tree(Path(args.tree), args.data, Path(args.out), home, use_cli=args.cli)
        return 0
    if args.mode == "diff":
        return int(report("rows", Path(args.before), Path(args.after)) > 0)
    out_dir = Path(args.dir or tempfile.mkdtemp(prefix="jarvis-rows-out-"))
    out_dir.mkdir(parents=True, exist_ok=True)
    changed = 0
    for name, data in (("validation", None), ("unseen", args.unseen)):
        before, after = out_dir / f"before.{name}.jsonl", out_dir / f"after.{name}.jsonl"
        dump_tree(Path(args.before), data, before, home)
        dump_tree(Path(args.after), data, after, home, use_cli=True)
        changed += report(name, before, after)
    return int(changed > 0)


if __name__ == "__main__":
    raise SystemExit(main())
