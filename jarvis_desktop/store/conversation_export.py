"""Exporting one conversation to Markdown or JSON (the format follows the file's suffix).

Markdown: a ``#`` title, then each message as a ``**You**`` / ``**Jarvis**`` heading with its local time and its
text (action replies keep their intent in brackets; notices are quoted) and, under a grounded answer, its numbered
sources ("Sources:", "[1] lease.pdf, page 3 — /home/me/lease.pdf"). JSON: ``{"id", "title", "created_at",
"updated_at", "messages": [{"role", "content", "created_at", "intent", "kind", "citations"}]}`` with UTC ISO 8601
times; ``citations`` as in ``ask --json`` (``{number, label, kind, source_id, path, location: {page, heading,
line}}``, ``path`` null for notes, messages and schedule items), empty for other messages.
"""

from __future__ import annotations

import json
from datetime import tzinfo
from pathlib import Path
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.safe_write import write_atomically
from jarvis_desktop.store.conversations import ConversationRecord
from jarvis_desktop.store.history import ChatMessageRecord, CitationRecord

FORMATS = {".md": "markdown", ".markdown": "markdown", ".json": "json"}
SPEAKERS = {"user": "You", "assistant": "Jarvis", "system": "Jarvis (notice)"}


def to_markdown(conversation: ConversationRecord, messages: list[ChatMessageRecord], tz: tzinfo | None) -> str:
    """The conversation as Markdown; times shown in ``tz`` (None: the system's local zone)."""
    lines = [f"# {conversation.title or 'Chat'}", ""]
    started = conversation.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
    lines += [f"_Started {started}, {len(messages)} messages._", ""]
    for message in messages:
        when = message.created_at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        speaker = SPEAKERS.get(message.role, message.role)
        intent = message.meta.get("intent")
        tag = f" [{intent}]" if message.role == "assistant" and intent and intent != "general_chat" else ""
        lines.append(f"**{speaker}**{tag} · {when}")
        lines.append("")
        body = message.content if message.content else "_(no text)_"
        if message.role == "system":
            body = "\n".join("> " + line for line in body.splitlines())
        lines += [body, ""]
        if message.citations:
            lines.append("Sources:")
            lines += [f"- [{c.number}] {c.label} — {c.source_id}" for c in message.citations]
            lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def citation_json(citation: CitationRecord) -> dict[str, Any]:
    """A stored citation in ``ask --json``'s shape: ``number``, ``label``, ``kind``, ``source_id``, ``path`` (files
    only, else None), ``location`` {``page``, ``heading``, ``line``}."""
    return {
        "number": citation.number,
        "label": citation.label,
        "kind": citation.kind,
        "source_id": citation.source_id,
        "path": citation.source_id if citation.kind == "file" else None,
        "location": {"page": citation.page, "heading": citation.heading, "line": citation.line},
    }


def to_json(conversation: ConversationRecord, messages: list[ChatMessageRecord]) -> str:
    """The conversation as pretty-printed JSON (UTF-8 text, UTC times)."""
    data: dict[str, Any] = {
        "id": conversation.id,
        "title": conversation.title,
        "created_at": conversation.created_at.isoformat(),
        "updated_at": conversation.updated_at.isoformat(),
        "messages": [
            {
                "role": m.role,
                "content": m.content,
                "created_at": m.created_at.isoformat(),
                "intent": m.meta.get("intent"),
                "kind": m.meta.get("kind"),
                "citations": [citation_json(c) for c in m.citations],
            }
            for m in messages
        ],
    }
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def export_conversation(
    conversation: ConversationRecord, messages: list[ChatMessageRecord], path: str | Path, tz: tzinfo | None = None
) -> Path:
    """Write the conversation to ``path`` (``.md``/``.markdown`` or ``.json``) atomically
    (:func:`~jarvis_desktop.safe_write.write_atomically`: unpredictable temp file + rename, never through a
    symlink), so a full disk never leaves half a file over an older export. Returns the path written.

    Raises:
        BadInputError: another suffix, or a bad target (existing symlink, directory, FIFO, device, missing
            directory, name too long). JarvisError: the file cannot be written (the message says why).
    """
    target = Path(path).expanduser()
    kind = FORMATS.get(target.suffix.lower())
    if kind is None:
        raise BadInputError(f"cannot export to {target.name}: use a .md or .json file name")
    text = to_markdown(conversation, messages, tz) if kind == "markdown" else to_json(conversation, messages)
    return write_atomically(target, text)
