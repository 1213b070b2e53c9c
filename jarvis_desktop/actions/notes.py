"""``note_create``: save what the user dictated; export all notes as Markdown."""

from __future__ import annotations

from datetime import tzinfo
from pathlib import Path

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu.result import ParseResult
from jarvis_desktop.safe_write import write_atomically
from jarvis_desktop.store.notes import Note, NoteStore


def create_note(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Save ``parse.payload`` ("buy milk") as a note.

    Reply: "Noted: buy milk." ``data``: ``id``, ``text``. Refused when there is nothing to write down.
    """
    text = (parse.payload or "").strip()
    if not text:
        return refused(parse.intent, "What should the note say? Say e.g. “take a note: buy milk”.", "Note — empty")
    if ctx.dry_run:
        return would(parse.intent, f"save the note “{text}”", text=text)
    note = ctx.notes.add(text)
    return ActionResult(
        intent=parse.intent,
        kind="done",
        text=f"Noted: {text}.",
        summary=f"Note: {text}",
        data={"id": note.id, "text": text},
        undo={"op": "delete_note", "ids": [note.id]},
    )


def delete_note(note_id: int, ctx: ActionContext) -> ActionResult:
    """Delete note ``note_id`` (soft delete) and record its undo (``restore_note``) in the action log.

    The one path for the CLI's ``notes delete ID`` and the Notes view's delete button.
    Reply: "Deleted note #3."; ``summary`` "Deleted note: <first 40 characters>"; ``data``: ``deleted``
    (``[note_id]``), ``text`` (the note's text).

    Raises:
        BadInputError: no note with that id (or it is already deleted).
        JarvisError: the database cannot be written.
    """
    note = ctx.notes.get(note_id)
    if note is None or not ctx.notes.delete(note_id):
        raise BadInputError(f"no note with id {note_id}", hint="see: jarvis-desktop notes")
    undo = {"op": "restore_note", "ids": [note_id]}
    summary = f"Deleted note: {note.text[:40]}"
    ctx.action_log.record("note_delete", f"delete note #{note_id}", summary, undo)
    return ActionResult(
        intent="note_delete",
        kind="done",
        text=f"Deleted note #{note_id}.",
        summary=summary,
        data={"deleted": [note_id], "text": note.text},
        undo=undo,
    )


def notes_markdown(notes: list[Note], tz: tzinfo | None = None) -> str:
    """Notes as Markdown: a title, then one ``- text`` bullet per note under a date heading, oldest first."""
    lines = ["# Notes", ""]
    day = None
    for note in sorted(notes, key=lambda n: (n.created_at, n.id)):
        local = note.created_at.astimezone(tz) if tz else note.created_at.astimezone()
        if local.date() != day:
            day = local.date()
            lines += ([""] if len(lines) > 2 else []) + [f"## {local.strftime('%A %d %B %Y')}", ""]
        body = note.text.replace("\n", "\n  ")
        lines.append(f"- {local.strftime('%H:%M')} {body}")
    return "\n".join(lines).rstrip() + "\n"


def export_notes(store: NoteStore, path: Path | str, tz: tzinfo | None = None) -> int:
    """Write every note to ``path`` as Markdown atomically (:func:`~jarvis_desktop.safe_write.write_atomically`:
    an unpredictable temp file, then rename; never through a symlink); returns how many.

    Raises:
        BadInputError: a bad target: an empty name, ``.``, ``/``, a name too long, a missing directory, an existing
            symlink, a directory, FIFO or device (CLI exit 2).
        JarvisError: the file cannot be written (no permission, full disk).
    """
    notes = store.list()
    write_atomically(path, notes_markdown(notes, tz))
    return len(notes)
