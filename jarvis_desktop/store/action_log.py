"""What the assistant did, for "undo" (table ``action_log``, migration 2 in :mod:`.db`).

Each carried-out action adds a row with the utterance, a summary and, when it can be reversed, an ``undo``
recipe (a JSON object such as ``{"op": "cancel_item", "ids": [7]}``; the ops are applied by
:mod:`jarvis_desktop.actions.undo`). Kept in the database, so "undo" also works from a later CLI call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from jarvis_desktop.store.db import Database
from jarvis_desktop.store.schedule import from_utc_text, to_utc_text, utc_from_text


@dataclass(frozen=True)
class LoggedAction:
    """One logged action; ``undo`` is None when it cannot be undone."""

    id: int
    intent: str
    text: str
    summary: str
    undo: dict[str, Any] | None
    created_at: datetime
    undone_at: datetime | None = None


def _logged(row: Any) -> LoggedAction:
    try:
        undo = json.loads(row["undo"]) if row["undo"] else None
    except json.JSONDecodeError:
        undo = None
    return LoggedAction(
        id=int(row["id"]),
        intent=row["intent"],
        text=row["text"],
        summary=row["summary"],
        undo=undo if isinstance(undo, dict) else None,
        created_at=utc_from_text(row["created_at"]),
        undone_at=from_utc_text(row["undone_at"]),
    )


class ActionLog:
    """The action log in a :class:`Database`. Thread-safe.

    Raises:
        JarvisError: the database cannot be written (full disk, read-only, locked).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def record(self, intent: str, text: str, summary: str, undo: dict[str, Any] | None = None) -> int:
        """Append an action; returns its id."""
        row_id = self.db.insert(
            "INSERT INTO action_log (intent, text, summary, undo, created_at) VALUES (?, ?, ?, ?, ?)",
            (intent, text, summary, json.dumps(undo) if undo else None, to_utc_text(datetime.now(timezone.utc))),
        )
        return row_id

    def last_undoable(self) -> LoggedAction | None:
        """The most recent action that can be undone and was not, or None."""
        rows = self.db.query(
            "SELECT * FROM action_log WHERE undo IS NOT NULL AND undone_at IS NULL ORDER BY id DESC LIMIT 1"
        )
        return _logged(rows[0]) if rows else None

    def mark_undone(self, action_id: int) -> None:
        """Record that the action was undone (it is not offered again)."""
        self.db.execute(
            "UPDATE action_log SET undone_at = ? WHERE id = ?", (to_utc_text(datetime.now(timezone.utc)), action_id)
        )

    def recent(self, limit: int = 20) -> list[LoggedAction]:
        """The last ``limit`` actions, newest first."""
        rows = self.db.query("SELECT * FROM action_log ORDER BY id DESC LIMIT ?", (max(0, int(limit)),))
        return [_logged(r) for r in rows]
