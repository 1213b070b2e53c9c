"""How many chat requests that contain command words are routed to chat (issue 13, goal >= 97 %).

Reads tests/data/chat_like_heldout.txt (written for evaluation, never trained on: see its header), parses each
line with the app's NluEngine (FastText, then the LoRA fallback below the routing threshold) at a fixed clock, and
prints the share routed to ``general_chat`` and every line that would have acted, with its intent, confidence and
source.

Run: .venv/bin/python bench/chat_routing.py [MODEL_DIR]
"""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jarvis_desktop.config import Settings  # noqa: E402
from jarvis_desktop.nlu.engine import NluEngine  # noqa: E402

HELDOUT = ROOT / "tests" / "data" / "chat_like_heldout.txt"
NOW = datetime.fromisoformat("2026-12-07T10:00")


def main() -> int:
    lines = [ln.strip() for ln in HELDOUT.read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    settings = Settings()
    if len(sys.argv) > 1:  # another FastText model directory, e.g. a fresh `train-nlu --output DIR`
        settings.nlu.model_dir = sys.argv[1]
    engine = NluEngine.from_settings(settings).load()
    wrong = []
    for text in lines:
        parse = engine.parse(text, NOW)
        if parse.intent != "general_chat":
            wrong.append((text, parse.intent, parse.confidence, parse.source))
    share = 100 * (len(lines) - len(wrong)) / len(lines)
    print(f"{len(lines)} chat-like requests: {len(lines) - len(wrong)} to chat = {share:.1f} % (goal >= 97 %)")
    print("would act as:", dict(Counter(w[1] for w in wrong)))
    for text, intent, confidence, source in wrong:
        print(f"  {intent:<15} {confidence:.2f} {source:<8} {text}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
