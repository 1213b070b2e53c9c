"""First-token latency of questions asked after a long paste, with and without the conversation's token budget.

Issue 13 measured 24-36 s to the first token for every question after a 5,000-character paste. This runs the same
conversation twice through the real Assistant (embedded SmolLM2 GGUF, a fresh data directory each time):

1. **limits on** (the defaults: ``[chat] context_budget_tokens`` 1,024, ``paste_limit_tokens`` 768);
2. **limits off** (both 100,000: the whole history is sent, as before the change; llama.cpp's own context-window
   trimming still applies).

and prints, per turn, the prompt tokens and the first-token time.

Run: .venv/bin/python bench/chat_context.py   (under ``flock /tmp/jarvis-bench.lock`` when others share the CPU)
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jarvis_desktop.assistant import Assistant  # noqa: E402
from jarvis_desktop.config import Settings  # noqa: E402

LINE = "Line {}: the quarterly figures for region {} rose by {} percent while costs fell by {} percent."
PASTE = " ".join(LINE.format(i, i % 7, i % 13, i % 5) for i in range(60))
TURNS = [
    f"summarise this report in two sentences: {PASTE}",
    "what does a rise in costs usually mean for a company?",
    "explain the difference between revenue and profit",
    "what is a good next step for the team?",
    "how do I present these figures to my manager?",
    "give me three questions the board might ask",
]


def run(limits: bool) -> list[tuple[str, int, float]]:
    """(reply kind, prompt tokens, first-token seconds) per turn."""
    os.environ["JARVIS_DESKTOP_HOME"] = tempfile.mkdtemp(prefix="jarvis-bench-context-")
    settings = Settings()
    settings.chat.max_tokens = 32
    if not limits:
        settings.chat.context_budget_tokens = 100_000
        settings.chat.paste_limit_tokens = 100_000
    assistant = Assistant(settings)
    assistant.chat_router.warm_up()
    rows = []
    for text in TURNS:
        turn = assistant.ask_text(text)
        stats = turn.reply.stats
        kind = f"{turn.parse.intent}/{turn.reply.kind}"
        rows.append((kind, stats.prompt_tokens if stats else 0, (stats.first_token_s if stats else 0.0)))
    assistant.close()
    return rows


def main() -> int:
    print(f"paste: {len(PASTE):,} characters; {len(TURNS)} turns; load {os.getloadavg()[0]:.2f}")
    for limits in (True, False):
        rows = run(limits)
        label = "limits on (default)" if limits else "limits off (whole history)"
        print(f"{label}:")
        for index, (kind, tokens, first) in enumerate(rows, 1):
            print(f"  turn {index} ({kind}): prompt {tokens:5d} tokens, first token {first:6.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
