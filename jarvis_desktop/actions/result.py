"""The result an action hands back to the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: ``ActionResult.kind`` values.
KINDS = ("answer", "done", "refused", "failed", "dry_run", "understood")


@dataclass
class ActionResult:
    """What an action did, in one short sentence plus machine-readable details.

    ``kind``: "answer" (a direct answer: time, status, weather, schedule list), "done" (the command was
    carried out: reminder stored, app launched ...), "refused" (it cannot be carried out as said: a past
    time, no time given, a tool not installed; nothing was changed), "failed" (it was tried and the system
    said no: the tool exited with an error), "dry_run" (``--dry-run``: what would be done, nothing changed),
    "understood" (described back only; no intent uses it any more).
    ``summary``: short label for chips and logs, e.g. "Reminder: call mom — tomorrow 15:00".
    ``data``: JSON-serialisable details (ids, resolved time, figures).
    ``undo``: how to reverse it (``{"op": ..., ...}``, see :mod:`jarvis_desktop.actions.undo`), or None.
    """

    intent: str
    kind: str
    text: str
    summary: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    undo: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``--json`` output."""
        return {
            "intent": self.intent,
            "kind": self.kind,
            "text": self.text,
            "summary": self.summary,
            "data": self.data,
            "undoable": self.undo is not None,
        }


def refused(intent: str, text: str, summary: str = "", **data: Any) -> ActionResult:
    """A "refused" result: ``text`` says why and what to say instead."""
    return ActionResult(intent=intent, kind="refused", text=text, summary=summary or text.rstrip("."), data=data)


def would(intent: str, summary: str, **data: Any) -> ActionResult:
    """A "dry_run" result: "Would <summary>." with nothing changed."""
    return ActionResult(
        intent=intent,
        kind="dry_run",
        text=f"Would {summary} (dry run: nothing was changed).",
        summary=summary,
        data={**data, "dry_run": True},
    )
