"""Training data for a job: the built-in generated corpus, or a user JSONL file checked line by line.

A row is a JSON object ``{"text": str, "intent": one of the 15 intents, "date_keys": [valid keys]}`` (other
fields are ignored), one per line; blank lines are skipped. :func:`validate_dataset` reads the whole file
before a job starts, so a bad line is reported at once with its number instead of after an hour of training.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.models import NLU_MODEL_DIR
from jarvis_desktop.nlu.vocab import INTENTS, is_valid_key

#: Name shown for the built-in corpus (``models/nlu/corpus.train.jsonl``).
BUILTIN_NAME = "built-in corpus"
#: Rows a training file needs at least (one batch of a tiny job).
MIN_ROWS = 1
#: Errors listed at most in one message (the first ones, by line number).
MAX_REPORTED = 5


def builtin_train_path() -> Path:
    """The shipped generated corpus' train split (models/nlu/corpus.train.jsonl)."""
    return NLU_MODEL_DIR / "corpus.train.jsonl"


def builtin_valid_path() -> Path:
    """The shipped corpus' validation split (used to score every adapter unless a job names another)."""
    return NLU_MODEL_DIR / "corpus.valid.jsonl"


@dataclass
class DatasetInfo:
    """What :func:`validate_dataset` found: ``rows`` usable rows, ``sha256`` of the file's bytes (hex),
    ``intents`` rows per intent."""

    path: Path
    rows: int
    sha256: str
    intents: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "rows": self.rows, "sha256": self.sha256, "intents": self.intents}


def check_row(obj: object) -> str | None:
    """Why ``obj`` (one parsed JSON line) is not a training row, or None when it is one."""
    if not isinstance(obj, dict):
        return "expected a JSON object"
    text = obj.get("text")
    if not isinstance(text, str) or not text.strip():
        return '"text" must be a non-empty string'
    if obj.get("intent") not in INTENTS:
        return f'"intent" must be one of: {", ".join(INTENTS)} (got {obj.get("intent")!r})'
    keys = obj.get("date_keys")
    if not isinstance(keys, list):
        return '"date_keys" must be a list (use [] when there is none)'
    bad = [k for k in keys if not isinstance(k, str) or not is_valid_key(k)]
    if bad:
        return f'"date_keys" has unknown keys {bad!r} (see: jarvis-desktop date-keys)'
    return None


def validate_dataset(path: str | Path) -> DatasetInfo:
    """Check every line of the JSONL file ``path``.

    Returns:
        :class:`DatasetInfo` (row count, SHA-256, rows per intent).

    Raises:
        BadInputError: the file is missing or unreadable, is not UTF-8, has no rows, or has bad lines; the
            message names each bad line (``data.jsonl line 3: "intent" must be one of ...``), the first
            :data:`MAX_REPORTED` of them.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise BadInputError(f"training data not found: {path}")
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except OSError as exc:
        raise BadInputError(f"cannot read {path}: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise BadInputError(f"{path.name} line {line}: not UTF-8 text") from exc
    errors: list[str] = []
    intents: dict[str, int] = {}
    rows = 0
    for lineno, content in enumerate(text.splitlines(), 1):
        if not content.strip():
            continue
        try:
            obj = json.loads(content)
        except json.JSONDecodeError as exc:
            errors.append(f"line {lineno}: not valid JSON ({exc.msg} at column {exc.colno})")
            continue
        problem = check_row(obj)
        if problem:
            errors.append(f"line {lineno}: {problem}")
            continue
        rows += 1
        intents[obj["intent"]] = intents.get(obj["intent"], 0) + 1
    if errors:
        more = f" (and {len(errors) - MAX_REPORTED} more bad lines)" if len(errors) > MAX_REPORTED else ""
        raise BadInputError(
            f"{path.name} {'; '.join(errors[:MAX_REPORTED])}{more}",
            hint='each line must be {"text": ..., "intent": ..., "date_keys": [...]}',
        )
    if rows < MIN_ROWS:
        raise BadInputError(f"{path.name}: no training rows", hint="add JSON lines with text, intent, date_keys")
    return DatasetInfo(path=path, rows=rows, sha256=hashlib.sha256(raw).hexdigest(), intents=intents)
