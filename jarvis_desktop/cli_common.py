"""Helpers every CLI sub-command module shares: the ``--now`` option's parsing, id arguments and JSON output."""

from __future__ import annotations

import argparse
import json
import re
from datetime import datetime

from jarvis_desktop.errors import BadInputError


def parse_now(value: str | None) -> datetime | None:
    """The ``--now`` option: an ISO 8601 date-time (naive = the user's local time), or None when not given.

    Raises:
        BadInputError: a value that is not ISO 8601 (exit code 2).
    """
    if value is None:
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadInputError(f"--now: not an ISO date-time: {value!r} (e.g. 2026-11-22T18:05)") from exc


#: the largest id a store row can have (SQLite's INTEGER is a signed 64-bit integer)
MAX_ID = 2**63 - 1
_ID_RE = re.compile(r"[+-]?[0-9]+")


def positive_id(value: str) -> int:
    """argparse ``type=`` for a row id (``schedule cancel ID``, ``notes delete ID``, ``jobs cancel ID``...).

    Returns:
        The id, an int in 1 .. :data:`MAX_ID`.

    Raises:
        argparse.ArgumentTypeError: not a whole number, or out of that range (the CLI's usage error: one
            ``error:`` line on stderr, exit code 2).
    """
    text = value.strip()
    if _ID_RE.fullmatch(text) is None:
        raise argparse.ArgumentTypeError(f"not an id: {value!r} (a whole number, e.g. 3)")
    digits = text.lstrip("+-").lstrip("0")
    number = int(text) if len(digits) <= 20 else None  # int() of thousands of digits would itself fail
    if number is None or not 1 <= number <= MAX_ID:
        raise argparse.ArgumentTypeError(f"id out of range: {value!r} (ids are 1 to {MAX_ID})")
    return number


def print_json(obj: object) -> None:
    """Print ``obj`` as one line of JSON (UTF-8 as is; values JSON does not know, such as paths, as strings)."""
    print(json.dumps(obj, ensure_ascii=False, default=str))
