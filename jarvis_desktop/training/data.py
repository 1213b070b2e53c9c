"""Training examples for the LoRA fallback: corpus rows -> (prompt, completion) pairs.

Rows are the NLU corpus' JSONL lines (``{"text", "intent", "date_keys", ...}``, the shipped
``models/nlu/corpus.train.jsonl`` / ``corpus.valid.jsonl``). The intent hint (the FastText guess at
inference) is simulated, seeded: a share of the examples has no hint, the others have the gold intent
or, for ``hint_wrong`` of them, another intent. Trained like this the model cannot just copy the hint,
and one adapter serves prompts with or without a hint.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass
from pathlib import Path

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu.lora_format import build_completion, build_prompt
from jarvis_desktop.nlu.vocab import INTENTS


@dataclass(frozen=True)
class Example:
    """One supervised pair: the model reads ``prompt`` and is trained on ``completion`` only."""

    prompt: str
    completion: str
    intent: str
    date_keys: tuple[str, ...]


def load_rows(path: Path) -> list[dict]:
    """Corpus rows of a JSONL file. Raises BadInputError for a missing file or a row without
    ``text`` (str), ``intent`` (one of the 15) or ``date_keys`` (list)."""
    path = Path(path)
    if not path.is_file():
        raise BadInputError(f"training data not found: {path}")
    rows = []
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        row = json.loads(line)
        if (
            not isinstance(row.get("text"), str)
            or row.get("intent") not in INTENTS
            or not isinstance(row.get("date_keys"), list)
        ):
            raise BadInputError(f"{path}:{lineno}: expected text, intent (one of the 15), date_keys")
        rows.append(row)
    if not rows:
        raise BadInputError(f"{path}: no rows")
    return rows


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def make_examples(rows: list[dict], seed: int, *, hint_share: float = 0.5, hint_wrong: float = 0.3) -> list[Example]:
    """One :class:`Example` per row, in row order. With probability ``hint_share`` a row gets a
    ``Guess:`` line: the gold intent, or with probability ``hint_wrong`` a uniformly drawn other
    intent. Deterministic for a given ``seed``."""
    rng = random.Random(seed)
    out = []
    for row in rows:
        hint = None
        if rng.random() < hint_share:
            hint = row["intent"]
            if rng.random() < hint_wrong:
                hint = rng.choice([i for i in INTENTS if i != row["intent"]])
        out.append(
            Example(
                prompt=build_prompt(row["text"], hint),
                completion=build_completion(row["intent"], row["date_keys"]),
                intent=row["intent"],
                date_keys=tuple(row["date_keys"]),
            )
        )
    return out
