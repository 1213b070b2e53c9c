"""Conversations: named threads of chat messages (table ``conversations``, migration 4 in :mod:`.db`).

A conversation has an id, a title (the start of its first message until the user renames it), and UTC
``created_at`` / ``updated_at`` (moved by every message added). Its messages are rows of ``chat_messages``
(:mod:`.history`) with its ``conversation_id``; deleting a conversation deletes them (``ON DELETE CASCADE``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database

#: Characters of the first message kept as an automatic title.
TITLE_CHARS = 48


@dataclass(frozen=True)
class ConversationRecord:
    """One conversation as listed: ``created_at`` / ``updated_at`` timezone-aware UTC; ``message_count`` counts
    every stored message (user, assistant and system rows)."""

    id: int
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int = 0


def title_from_text(text: str) -> str:
    """An automatic title: the first line of ``text`` cut to :data:`TITLE_CHARS` characters at a word boundary
    (with "..." when cut); "New chat" for blank text."""
    line = " ".join(text.strip().split("\n", 1)[0].split())
    if not line:
        return "New chat"
    if len(line) <= TITLE_CHARS:
        return line
    cut = line[:TITLE_CHARS].rsplit(" ", 1)[0] or line[:TITLE_CHARS]
    return cut.rstrip(" ,.;:") + "..."


def _record(row: Any) -> ConversationRecord:
    return ConversationRecord(
        id=int(row["id"]),
        title=row["title"],
        created_at=datetime.fromisoformat(row["created_at"]),
        updated_at=datetime.fromisoformat(row["updated_at"]),
        message_count=int(row["message_count"]),
    )


_SELECT = (
    "SELECT c.id, c.title, c.created_at, c.updated_at, "
    "(SELECT COUNT(*) FROM chat_messages m WHERE m.conversation_id = c.id) AS message_count FROM conversations c"
)


class Conversations:
    """The conversations in a :class:`Database`. Thread-safe (the database serialises access).

    Raises:
        BadInputError: an unknown conversation id, or a blank title.
        JarvisError: the database cannot be written (full disk, read-only).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def create(self, title: str = "") -> int:
        """A new, empty conversation; returns its id. A blank ``title`` is filled from the first user message."""
        now = datetime.now(timezone.utc).isoformat()
        return self.db.insert(
            "INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)", (title.strip(), now, now)
        )

    def get(self, conversation_id: int) -> ConversationRecord | None:
        """The conversation with that id, or None."""
        rows = self.db.query(f"{_SELECT} WHERE c.id = ?", (conversation_id,))
        return _record(rows[0]) if rows else None

    def require(self, conversation_id: int) -> ConversationRecord:
        """The conversation with that id.

        Raises:
            BadInputError: no such conversation.
        """
        record = self.get(conversation_id)
        if record is None:
            raise BadInputError(f"no conversation with id {conversation_id}")
        return record

    def list(self, search: str = "", limit: int = 200) -> list[ConversationRecord]:
        """Conversations, most recently used first. ``search`` (case-insensitive) keeps those whose title or any
        message contains it."""
        query = search.strip()
        if not query:
            rows = self.db.query(f"{_SELECT} ORDER BY c.updated_at DESC, c.id DESC LIMIT ?", (max(0, limit),))
        else:
            pattern = "%" + query.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            rows = self.db.query(
                f"{_SELECT} WHERE c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM chat_messages m "
                "WHERE m.conversation_id = c.id AND m.content LIKE ? ESCAPE '\\') "
                "ORDER BY c.updated_at DESC, c.id DESC LIMIT ?",
                (pattern, pattern, max(0, limit)),
            )
        return [_record(row) for row in rows]

    def latest(self) -> ConversationRecord | None:
        """The most recently used conversation, or None when there is none."""
        found = self.list(limit=1)
        return found[0] if found else None

    def rename(self, conversation_id: int, title: str) -> None:
        """Give a conversation a new title.

        Raises:
            BadInputError: a blank title, or no such conversation.
        """
        title = " ".join(title.split())
        if not title:
            raise BadInputError("a conversation title cannot be empty")
        if not self.db.execute("UPDATE conversations SET title = ? WHERE id = ?", (title, conversation_id)).rowcount:
            raise BadInputError(f"no conversation with id {conversation_id}")

    def title_if_blank(self, conversation_id: int, text: str) -> None:
        """Set the automatic title from ``text`` when the conversation has none yet (its first user message)."""
        self.db.execute(
            "UPDATE conversations SET title = ? WHERE id = ? AND title = ''", (title_from_text(text), conversation_id)
        )

    def delete(self, conversation_id: int) -> int:
        """Delete a conversation and its messages; returns how many messages went with it.

        Raises:
            BadInputError: no such conversation.
        """
        with self.db.transaction() as conn:
            count = conn.execute(
                "SELECT COUNT(*) FROM chat_messages WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()[0]
            conn.execute("DELETE FROM chat_messages WHERE conversation_id = ?", (conversation_id,))
            if not conn.execute("DELETE FROM conversations WHERE id = ?", (conversation_id,)).rowcount:
                raise BadInputError(f"no conversation with id {conversation_id}")
        return int(count)

    def clear(self, conversation_id: int) -> int:
        """Delete a conversation's messages and keep it (its title too); returns how many were deleted.

        Raises:
            BadInputError: no such conversation.
        """
        self.require(conversation_id)
        return int(self.db.execute("DELETE FROM chat_messages WHERE conversation_id = ?", (conversation_id,)).rowcount)
