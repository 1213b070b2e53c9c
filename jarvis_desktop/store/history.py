"""Chat history kept across restarts (table ``chat_messages``, migration 1 in :mod:`.db`).

A message is one row: ``role`` ("user", "assistant", "system"), ``content`` text, ``created_at`` (UTC) and a
JSON ``meta`` object (intent, date_keys, timings, source ...). A streamed reply is added once (possibly
empty) and updated when it ends, so a crash mid-stream still leaves the user's question in the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database

ROLES = ("user", "assistant", "system")


@dataclass(frozen=True)
class ChatMessageRecord:
    """One stored chat message. ``created_at`` is timezone-aware UTC; ``meta`` a JSON-able dict."""

    id: int
    role: str
    content: str
    created_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)

    def to_message(self) -> dict[str, str]:
        """``{"role", "content"}`` as the chat model takes it."""
        return {"role": self.role, "content": self.content}


def _meta_json(meta: dict[str, Any] | None) -> str:
    if meta is None:
        return "{}"
    if not isinstance(meta, dict):
        raise BadInputError(f"chat message meta must be a dict, got {type(meta).__name__}")
    # default=str keeps datetimes and paths readable instead of failing the whole write
    return json.dumps(meta, ensure_ascii=False, default=str)


def _load_meta(text: str | None) -> dict[str, Any]:
    """The stored meta JSON as a dict; an unreadable value (edited by hand) reads as {}."""
    try:
        meta = json.loads(text) if text else {}
    except json.JSONDecodeError:
        return {}
    return meta if isinstance(meta, dict) else {}


def _record(row: Any) -> ChatMessageRecord:
    return ChatMessageRecord(
        id=int(row["id"]),
        role=row["role"],
        content=row["content"],
        created_at=datetime.fromisoformat(row["created_at"]),
        meta=_load_meta(row["meta"]),
    )


class ChatHistory:
    """The conversation log in a :class:`Database`. Thread-safe (the database serialises access).

    Raises:
        BadInputError: unknown role, non-str content, non-dict meta, unknown message id.
        JarvisError: the database cannot be written (full disk, read-only).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(self, role: str, content: str, meta: dict[str, Any] | None = None) -> int:
        """Append a message; returns its id (ids increase in insertion order)."""
        if role not in ROLES:
            raise BadInputError(f"unknown chat role {role!r}; expected one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise BadInputError(f"chat message content must be text, got {type(content).__name__}")
        row_id = self.db.insert(
            "INSERT INTO chat_messages (role, content, created_at, meta) VALUES (?, ?, ?, ?)",
            (role, content, datetime.now(timezone.utc).isoformat(), _meta_json(meta)),
        )
        return row_id

    def update(self, message_id: int, content: str, meta: dict[str, Any] | None = None) -> None:
        """Replace a message's content (e.g. the full streamed reply); ``meta`` if given is merged into
        the stored meta (new keys win), if None the stored meta is kept."""
        if not isinstance(content, str):
            raise BadInputError(f"chat message content must be text, got {type(content).__name__}")
        with self.db.transaction() as conn:
            row = conn.execute("SELECT meta FROM chat_messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise BadInputError(f"no chat message with id {message_id}")
            merged = _load_meta(row["meta"])
            if meta is not None:
                _meta_json(meta)  # validates the type
                merged.update(meta)
            conn.execute(
                "UPDATE chat_messages SET content = ?, meta = ? WHERE id = ?",
                (content, _meta_json(merged), message_id),
            )

    def get(self, message_id: int) -> ChatMessageRecord | None:
        """The message with that id, or None."""
        rows = self.db.query("SELECT * FROM chat_messages WHERE id = ?", (message_id,))
        return _record(rows[0]) if rows else None

    def recent(self, limit: int = 100) -> list[ChatMessageRecord]:
        """The last ``limit`` messages, oldest first."""
        rows = self.db.query("SELECT * FROM chat_messages ORDER BY id DESC LIMIT ?", (max(0, int(limit)),))
        return [_record(row) for row in reversed(rows)]

    def count(self) -> int:
        """Number of stored messages."""
        return int(self.db.query("SELECT COUNT(*) FROM chat_messages")[0][0])

    def clear(self) -> int:
        """Delete every message; returns how many were deleted."""
        return int(self.db.execute("DELETE FROM chat_messages").rowcount)

    def conversation(self, limit_turns: int = 6) -> list[dict[str, str]]:
        """The last ``limit_turns`` turns as ``[{"role", "content"}, ...]``, oldest first, for the chat prompt.

        A turn is a user message and the replies to it. System rows (notices, action logs) and empty
        replies (a cancelled stream) are left out; the list starts with a user message. The chat model adds
        its own system prompt, and trims further to fit its context window.
        """
        if limit_turns <= 0:
            return []
        rows = self.db.query(
            "SELECT role, content FROM chat_messages WHERE role IN ('user', 'assistant') AND content != '' "
            "ORDER BY id DESC LIMIT ?",
            (limit_turns * 4,),  # room for several replies per user message
        )
        picked: list[dict[str, str]] = []
        users = 0
        for row in rows:  # newest first
            if row["role"] == "user":
                if users == limit_turns:
                    break
                users += 1
            picked.append({"role": row["role"], "content": row["content"]})
        picked.reverse()
        while picked and picked[0]["role"] != "user":
            picked.pop(0)
        return picked
