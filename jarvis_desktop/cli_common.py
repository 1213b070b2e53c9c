"""Helpers every CLI sub-command module shares: the ``--now`` option's parsing and JSON output."""

from __future__ import annotations

import json
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


def print_json(obj: object) -> None:
    """Print ``obj`` as one line of JSON (UTF-8 as is; values JSON does not know, such as paths, as strings)."""
    print(json.dumps(obj, ensure_ascii=False, default=str))
