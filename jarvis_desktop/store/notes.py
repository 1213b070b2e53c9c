"""Notes the user dictated (table ``notes``, migration 2 in :mod:`.db`).

A note is one row: ``text`` and ``created_at`` (UTC). Deleting sets ``deleted_at`` (so undo can bring it
back); deleted notes are hidden from :meth:`NoteStore.list`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.schedule import from_utc_text, to_utc_text, utc_from_text

MAX_NOTE_CHARS = 20_000


@dataclass(frozen=True)
class Note:
    """One note; ``created_at`` aware UTC, ``deleted_at`` None unless deleted."""

    id: int
    text: str
    created_at: datetime
    deleted_at: datetime | None = None

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        """JSON shape (``jarvis-desktop notes --json``); ``created_at`` local ISO 8601 with offset."""
        local = self.created_at.astimezone(tz) if tz else self.created_at.astimezone()
        return {"id": self.id, "text": self.text, "created_at": local.isoformat(timespec="seconds")}


def _note(row: Any) -> Note:
    return Note(
        id=int(row["id"]),
        text=row["text"],
        created_at=utc_from_text(row["created_at"]),
        deleted_at=from_utc_text(row["deleted_at"]),
    )


class NoteStore:
    """Notes in a :class:`Database`. Thread-safe.

    Raises:
        BadInputError: empty or over-long text (over :data:`MAX_NOTE_CHARS` characters).
        JarvisError: the database cannot be written (full disk, read-only, locked).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, text: str, created_at: datetime | None = None) -> Note:
        """Save a note; returns it with its id."""
        text = (text or "").strip()
        if not text:
            raise BadInputError("a note needs some text")
        if len(text) > MAX_NOTE_CHARS:
            raise BadInputError(f"a note is limited to {MAX_NOTE_CHARS} characters, got {len(text)}")
        stamp = to_utc_text(created_at or datetime.now(timezone.utc))
        row_id = self.db.insert("INSERT INTO notes (text, created_at) VALUES (?, ?)", (text, stamp))
        note = self.get(row_id)
        assert note is not None
        return note

    def get(self, note_id: int) -> Note | None:
        """The note with that id (deleted or not), or None."""
        rows = self.db.query("SELECT * FROM notes WHERE id = ?", (note_id,))
        return _note(rows[0]) if rows else None

    def list(self, limit: int | None = None) -> list[Note]:
        """Notes not deleted, newest first (at most ``limit``)."""
        sql = "SELECT * FROM notes WHERE deleted_at IS NULL ORDER BY created_at DESC, id DESC"
        rows = self.db.query(sql + " LIMIT ?", (int(limit),)) if limit is not None else self.db.query(sql)
        return [_note(r) for r in rows]

    def delete(self, note_id: int) -> bool:
        """Hide a note (soft delete); True if it was there."""
        cursor = self.db.execute(
            "UPDATE notes SET deleted_at = ? WHERE id = ? AND deleted_at IS NULL",
            (to_utc_text(datetime.now(timezone.utc)), note_id),
        )
        return cursor.rowcount == 1

    def restore(self, note_id: int) -> bool:
        """Bring a deleted note back; True if it was deleted."""
        cursor = self.db.execute(
            "UPDATE notes SET deleted_at = NULL WHERE id = ? AND deleted_at IS NOT NULL", (note_id,)
        )
        return cursor.rowcount == 1
