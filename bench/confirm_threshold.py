"""Choose and check ``[nlu] confirm_below``: below it, an action is asked about before it is carried out.

1. **Choose** on the calibration set ``bench/data/confirm_dev.tsv`` (chat-like requests and commands written for
   this): for each threshold, how many chat-like requests would still act silently and how many commands would be
   asked about. The chosen value is the highest whose commands-asked share stays at or under ``--max-asked``
   (default 10 %): asking costs one word ("yes"), acting wrongly costs an undo.
2. **Check** on the held-out sets, never used to choose: ``tests/data/chat_like_heldout.txt`` (chat requests
   with command words: share acted on silently) and ``tests/data/unseen_utterances.jsonl`` (commands: share that
   would be asked about).

Run: .venv/bin/python bench/confirm_threshold.py [--threshold T] [--max-asked 0.10]
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jarvis_desktop.actions.confirm import needs_confirmation  # noqa: E402
from jarvis_desktop.config import Settings  # noqa: E402
from jarvis_desktop.nlu.engine import NluEngine  # noqa: E402
from jarvis_desktop.nlu.result import ParseResult  # noqa: E402

NOW = datetime.fromisoformat("2026-12-07T10:00")
GRID = [round(0.05 * i, 2) for i in range(0, 20)]


def _load_dev() -> list[tuple[str, str]]:
    rows = []
    for line in (ROOT / "bench" / "data" / "confirm_dev.tsv").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            label, text = line.split("\t", 1)
            rows.append((label, text))
    return rows


def _rates(parses: list[tuple[str, ParseResult]], threshold: float) -> tuple[float, float, int, int]:
    """(share of chat acted on silently, share of commands asked about, their counts)."""
    chat = [p for label, p in parses if label == "chat"]
    commands = [p for label, p in parses if label == "command"]
    silent = sum(1 for p in chat if p.intent != "general_chat" and not needs_confirmation(p, threshold))
    asked = sum(1 for p in commands if needs_confirmation(p, threshold))
    return silent / max(1, len(chat)), asked / max(1, len(commands)), silent, asked


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threshold", type=float, default=None, help="check this value instead of choosing one")
    parser.add_argument("--max-asked", type=float, default=0.10, help="most commands that may be asked about")
    args = parser.parse_args()
    engine = NluEngine.from_settings(Settings()).load()

    dev = [(label, engine.parse(text, NOW)) for label, text in _load_dev()]
    print(
        f"calibration set: {sum(1 for lb, _ in dev if lb == 'chat')} chat-like, "
        f"{sum(1 for lb, _ in dev if lb == 'command')} commands"
    )
    print("threshold  chat acted silently  commands asked")
    chosen = 0.0
    for threshold in GRID:
        silent, asked, n_silent, n_asked = _rates(dev, threshold)
        print(f"  {threshold:4.2f}     {silent:6.1%} ({n_silent})       {asked:6.1%} ({n_asked})")
        if asked <= args.max_asked:
            chosen = threshold
    threshold = args.threshold if args.threshold is not None else chosen
    print(f"chosen: confirm_below = {threshold:.2f}" + (" (given)" if args.threshold is not None else ""))

    heldout_chat = [
        ln.strip()
        for ln in (ROOT / "tests" / "data" / "chat_like_heldout.txt").read_text(encoding="utf-8").splitlines()
        if ln.strip() and not ln.startswith("#")
    ]
    chat_parses = [("chat", engine.parse(text, NOW)) for text in heldout_chat]
    unseen = [json.loads(ln) for ln in (ROOT / "tests" / "data" / "unseen_utterances.jsonl").read_text().splitlines()]
    command_parses = [
        ("command", engine.parse(row["text"], datetime.fromisoformat(row["now"])))
        for row in unseen
        if row["intent"] != "general_chat"
    ]
    silent, _, n_silent, _ = _rates(chat_parses, threshold)
    _, asked, _, n_asked = _rates(command_parses, threshold)
    routed = sum(1 for _, p in chat_parses if p.intent == "general_chat")
    print(
        f"held-out chat-like ({len(chat_parses)}): {routed} to chat, {n_silent} acted silently ({silent:.1%}), "
        f"{len(chat_parses) - routed - n_silent} asked first"
    )
    print(f"held-out commands ({len(command_parses)}): {n_asked} asked first ({asked:.1%})")
    for _, p in chat_parses:
        if p.intent != "general_chat" and not needs_confirmation(p, threshold):
            print(f"  acts silently: {p.text!r} -> {p.intent} {p.confidence:.2f} ({p.source})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
