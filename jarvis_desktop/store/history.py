"""Chat history kept across restarts (table ``chat_messages``, migration 1 in :mod:`.db`).

A message is one row: ``role`` ("user", "assistant", "system"), ``content`` text, ``created_at`` (UTC), a
JSON ``meta`` object (intent, date_keys, timings, source ...) and the conversation it belongs to
(``conversation_id``, migration 4; see :mod:`.conversations`). A streamed reply is added once (possibly
empty) and updated when it ends, so a crash mid-stream still leaves the user's question in the log.

What goes back to the chat model (:meth:`ChatHistory.conversation`) is only chat: a command and the action's
reply ("Noted: ...", "Timer set ...") are shown in the conversation but never fed to the model as if it had
said them, so it does not imitate them.

The sources of a grounded answer (:class:`CitationRecord`, table ``message_citations``, migration 7) are stored
with the assistant message (:meth:`ChatHistory.add`'s ``citations``) and loaded with it
(:attr:`ChatMessageRecord.citations`), so a reloaded conversation lists them again; they are deleted with their
message.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database

ROLES = ("user", "assistant", "system")
_ID_BATCH = 500  # message ids per "IN (...)" when loading citations (SQLite caps a statement's parameters)


@dataclass(frozen=True)
class CitationRecord:
    """One stored source of a grounded answer (the store's form of
    :class:`~jarvis_desktop.knowledge.types.Citation`).

    ``number``: as written in the answer ("[1]"), from 1. ``label``: the short form shown ("lease.pdf, page 3").
    ``kind``: "file", "note", "chat" or "schedule". ``source_id``: a file's absolute path or ``note:<id>``,
    ``chat:<id>``, ``schedule:<id>``. ``title``: the document's title. ``text``: the passage the chat model was
    given. ``page`` (1-based PDF page), ``heading`` (" > "-joined path, "" when none), ``line`` (1-based): where it
    sits. ``created``: when the cited note or message was written (None for files).
    """

    number: int
    label: str
    kind: str
    source_id: str
    title: str = ""
    text: str = ""
    page: int | None = None
    heading: str = ""
    line: int | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class ChatMessageRecord:
    """One stored chat message. ``created_at`` is timezone-aware UTC; ``meta`` a JSON-able dict;
    ``conversation_id``: the conversation it belongs to (None only for rows of a database without any);
    ``citations``: the sources of a grounded answer, by number (empty for other messages)."""

    id: int
    role: str
    content: str
    created_at: datetime
    meta: dict[str, Any] = field(default_factory=dict)
    conversation_id: int | None = None
    citations: tuple[CitationRecord, ...] = ()

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


def _record(row: Any, citations: dict[int, list[CitationRecord]] | None = None) -> ChatMessageRecord:
    return ChatMessageRecord(
        id=int(row["id"]),
        role=row["role"],
        content=row["content"],
        created_at=datetime.fromisoformat(row["created_at"]),
        meta=_load_meta(row["meta"]),
        conversation_id=row["conversation_id"],
        citations=tuple((citations or {}).get(int(row["id"]), ())),
    )


def _citation(row: Any) -> CitationRecord:
    created = row["source_created_at"]
    return CitationRecord(
        number=int(row["number"]),
        label=row["label"],
        kind=row["kind"],
        source_id=row["source_id"],
        title=row["title"],
        text=row["text"],
        page=row["page"],
        heading=row["heading"],
        line=row["line"],
        created=datetime.fromisoformat(created) if created else None,
    )


def _check_citations(citations: Sequence[CitationRecord]) -> None:
    numbers = [c.number for c in citations]
    if any(not isinstance(c, CitationRecord) for c in citations):
        raise BadInputError("citations must be CitationRecord objects")
    if len(set(numbers)) != len(numbers) or any(n < 1 for n in numbers):
        raise BadInputError(f"citation numbers must be distinct and from 1, got {numbers}")


def is_chat_exchange(user_meta: dict[str, Any], reply_meta: dict[str, Any]) -> bool:
    """True when a user message and its reply were a chat exchange (fed back to the model), False for a command
    and its action's reply. Rows written before intents were stored count as chat unless the reply says
    otherwise."""
    intent = user_meta.get("intent", reply_meta.get("intent"))
    if intent is not None and intent != "general_chat":
        return False
    return bool(reply_meta.get("kind", "chat") == "chat")


class ChatHistory:
    """The conversation log in a :class:`Database`. Thread-safe (the database serialises access).

    Raises:
        BadInputError: unknown role, non-str content, non-dict meta, unknown message id.
        JarvisError: the database cannot be written (full disk, read-only).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    def add(
        self,
        role: str,
        content: str,
        meta: dict[str, Any] | None = None,
        conversation_id: int | None = None,
        citations: Sequence[CitationRecord] = (),
    ) -> int:
        """Append a message to conversation ``conversation_id`` (None: none, for callers without conversations);
        returns its id (ids increase in insertion order). The conversation's ``updated_at`` moves to now.
        ``citations``: a grounded answer's sources, written in the same transaction.

        Raises:
            BadInputError: unknown role, non-text content, non-dict meta, no conversation with that id, or
                citations with repeated or non-positive numbers.
        """
        if role not in ROLES:
            raise BadInputError(f"unknown chat role {role!r}; expected one of {', '.join(ROLES)}")
        if not isinstance(content, str):
            raise BadInputError(f"chat message content must be text, got {type(content).__name__}")
        _check_citations(citations)
        now = datetime.now(timezone.utc).isoformat()
        with self.db.transaction() as conn:
            if conversation_id is not None:
                touched = conn.execute(
                    "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation_id)
                ).rowcount
                if not touched:
                    raise BadInputError(f"no conversation with id {conversation_id}")
            cursor = conn.execute(
                "INSERT INTO chat_messages (role, content, created_at, meta, conversation_id) VALUES (?, ?, ?, ?, ?)",
                (role, content, now, _meta_json(meta), conversation_id),
            )
            message_id = int(cursor.lastrowid or 0)
            self._write_citations(conn, message_id, citations)
            return message_id

    @staticmethod
    def _write_citations(conn: Any, message_id: int, citations: Sequence[CitationRecord]) -> None:
        conn.executemany(
            "INSERT INTO message_citations (message_id, number, label, kind, source_id, title, text, page, heading,"
            " line, source_created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    message_id,
                    c.number,
                    c.label,
                    c.kind,
                    c.source_id,
                    c.title,
                    c.text,
                    c.page,
                    c.heading,
                    c.line,
                    c.created.isoformat() if c.created is not None else None,
                )
                for c in citations
            ],
        )

    def set_citations(self, message_id: int, citations: Sequence[CitationRecord]) -> None:
        """Replace the stored sources of message ``message_id`` (an empty list removes them).

        Raises:
            BadInputError: no message with that id, or repeated / non-positive numbers.
        """
        _check_citations(citations)
        with self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM chat_messages WHERE id = ?", (message_id,)).fetchone() is None:
                raise BadInputError(f"no chat message with id {message_id}")
            conn.execute("DELETE FROM message_citations WHERE message_id = ?", (message_id,))
            self._write_citations(conn, message_id, citations)

    def citations(self, message_ids: Sequence[int]) -> dict[int, list[CitationRecord]]:
        """The stored sources of the given messages: ``{message id: [CitationRecord, ...] by number}`` (messages
        without any are left out)."""
        found: dict[int, list[CitationRecord]] = {}
        ids = sorted({int(i) for i in message_ids})
        for start in range(0, len(ids), _ID_BATCH):
            batch = ids[start : start + _ID_BATCH]
            rows = self.db.query(
                f"SELECT * FROM message_citations WHERE message_id IN ({', '.join('?' * len(batch))})"
                " ORDER BY message_id, number",
                batch,
            )
            for row in rows:
                found.setdefault(int(row["message_id"]), []).append(_citation(row))
        return found

    def _records(self, rows: Sequence[Any]) -> list[ChatMessageRecord]:
        """Rows of ``chat_messages`` as records, each assistant message with its stored sources."""
        cited = self.citations([int(r["id"]) for r in rows if r["role"] == "assistant"])
        return [_record(row, cited) for row in rows]

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
        return self._records(rows)[0] if rows else None

    def recent(self, limit: int = 100, conversation_id: int | None = None) -> list[ChatMessageRecord]:
        """The last ``limit`` messages, oldest first: of one conversation, or of all when ``conversation_id``
        is None."""
        if conversation_id is None:
            rows = self.db.query("SELECT * FROM chat_messages ORDER BY id DESC LIMIT ?", (max(0, int(limit)),))
        else:
            rows = self.db.query(
                "SELECT * FROM chat_messages WHERE conversation_id = ? ORDER BY id DESC LIMIT ?",
                (conversation_id, max(0, int(limit))),
            )
        return self._records(list(reversed(rows)))

    def delete_from(self, message_id: int) -> int:
        """Delete message ``message_id`` and every later message of its conversation (regenerate, edit and
        resend); returns how many were deleted.

        Raises:
            BadInputError: no message with that id.
        """
        with self.db.transaction() as conn:
            row = conn.execute("SELECT conversation_id FROM chat_messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise BadInputError(f"no chat message with id {message_id}")
            return int(
                conn.execute(
                    "DELETE FROM chat_messages WHERE id >= ? AND conversation_id IS ?",
                    (message_id, row["conversation_id"]),
                ).rowcount
            )

    def count(self) -> int:
        """Number of stored messages."""
        return int(self.db.query("SELECT COUNT(*) FROM chat_messages")[0][0])

    def clear(self) -> int:
        """Delete every message; returns how many were deleted."""
        return int(self.db.execute("DELETE FROM chat_messages").rowcount)

    def conversation(self, limit_turns: int = 6, conversation_id: int | None = None) -> list[dict[str, str]]:
        """The last ``limit_turns`` chat exchanges of a conversation (all messages when ``conversation_id`` is
        None) as ``[{"role", "content"}, ...]``, oldest first, for the chat prompt.

        An exchange is a user message and the chat model's reply to it. Commands and their actions' replies,
        system rows (notices, fired reminders), a question without a reply and empty replies (a stream
        stopped before its first token) are left out; the list starts with a user message and alternates.
        The caller trims further to a token budget (:func:`jarvis_desktop.llm.context.fit_context`).
        """
        if limit_turns <= 0:
            return []
        where = "role IN ('user', 'assistant')"
        params: list[Any] = []
        if conversation_id is not None:
            where += " AND conversation_id = ?"
            params.append(conversation_id)
        rows = self.db.query(
            f"SELECT role, content, meta FROM chat_messages WHERE {where} ORDER BY id DESC LIMIT ?",
            (*params, limit_turns * 8),  # room for commands between the exchanges
        )
        exchanges: list[tuple[str, str]] = []
        reply: Any = None
        for row in rows:  # newest first: a reply is seen before its question
            if row["role"] == "assistant":
                reply = row
                continue
            chat = reply is not None and reply["content"].strip()
            user_meta = _load_meta(row["meta"])
            if chat and is_chat_exchange(user_meta, _load_meta(reply["meta"])):
                # "no, just answer" to a confirmation question stands for the request it answered
                exchanges.append((str(user_meta.get("question") or row["content"]), reply["content"]))
                if len(exchanges) == limit_turns:
                    break
            reply = None
        picked: list[dict[str, str]] = []
        for question, answer in reversed(exchanges):
            picked.append({"role": "user", "content": question})
            picked.append({"role": "assistant", "content": answer})
        return picked
