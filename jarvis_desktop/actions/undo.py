""" "Undo": reverse the most recent action that can be reversed (from the action log in the database).

Ops (written by the handlers into ``ActionResult.undo``):

* ``cancel_item`` ``ids``: a reminder/timer/alarm/event just set is cancelled;
* ``restore_items`` ``ids``: cancelled items come back (one whose time passed meanwhile fires at once,
  marked missed);
* ``delete_note`` ``ids``: a note just taken is removed (soft delete); ``restore_note`` ``ids``: a deleted
  note comes back;
* ``set_volume`` ``level`` / ``mute`` ``on``: the previous volume or mute state is put back.

Opening an app, a search or a media command cannot be undone; "undo" then reverses the latest action
before them that can, and says which.
"""

from __future__ import annotations

import re
from typing import Any

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.actions.volume import NOT_SUPPORTED, Mixer
from jarvis_desktop.errors import BadInputError

UNDO_WORDS = re.compile(
    r"^\s*(?:(?:please|jarvis|hey jarvis)[\s,]+)?(?:undo(?: (?:that|it|this|the last "
    r"(?:action|command|thing|one)))?|take (?:that|it) back|revert (?:that|it))"
    r"(?:[\s,]+please)?\s*[.!]?\s*$",
    re.I,
)


def is_undo_command(text: str) -> bool:
    """True for "undo", "undo that", "undo the last action", "take that back" (and little else)."""
    return bool(UNDO_WORDS.match(text or ""))


def _apply(op: dict[str, Any], ctx: ActionContext) -> str:
    """Apply one undo recipe; returns what was done, in words. Raises BadInputError for an unknown op."""
    kind = op.get("op")
    ids = [int(i) for i in op.get("ids", [])]
    if kind == "cancel_item":
        done = [i for i in ids if ctx.schedule.cancel(i) is not None]
        ctx.schedule_changed()
        return f"cancelled {len(done)} item{'s' if len(done) != 1 else ''}"
    if kind == "restore_items":
        done = [i for i in ids if ctx.schedule.restore(i)]
        ctx.schedule_changed()
        return f"restored {len(done)} item{'s' if len(done) != 1 else ''}"
    if kind == "delete_note":
        done = [i for i in ids if ctx.notes.delete(i)]
        return f"deleted {len(done)} note{'s' if len(done) != 1 else ''}"
    if kind == "restore_note":
        done = [i for i in ids if ctx.notes.restore(i)]
        return f"restored {len(done)} note{'s' if len(done) != 1 else ''}"
    if kind in ("set_volume", "mute"):
        mixer = Mixer.find()
        if mixer is None:
            raise BadInputError(NOT_SUPPORTED.rstrip("."))
        err = mixer.set(int(op["level"])) if kind == "set_volume" else mixer.mute(bool(op["on"]))
        if err:
            raise BadInputError(f"the volume could not be restored ({err})")
        return (
            f"volume back to {op['level']}%"
            if kind == "set_volume"
            else ("muted again" if op["on"] else "sound back on")
        )
    raise BadInputError(f"unknown undo step {kind!r}")


def undo_last(ctx: ActionContext, text: str = "undo") -> ActionResult:
    """Reverse the most recent undoable action. ``data``: ``undone`` (the log id), ``intent``, ``summary``."""
    last = ctx.action_log.last_undoable()
    if last is None:
        return refused("undo", "There is nothing to undo.", "Undo: nothing")
    if ctx.dry_run:
        return would("undo", f"undo “{last.summary}”", undone=last.id)
    what = _apply(last.undo or {}, ctx)
    ctx.action_log.mark_undone(last.id)
    return ActionResult(
        intent="undo",
        kind="done",
        text=f"Undone: {last.summary} ({what}).",
        summary=f"Undo: {last.summary}",
        data={"undone": last.id, "intent": last.intent, "summary": last.summary},
    )
