"""The result an action hands back to the CLI and the GUI."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ActionResult:
    """What an action did, in one short sentence plus machine-readable details.

    ``kind``: "answer" (a direct answer), "understood" (v0: the command was understood but
    its handler is not built yet), "refused" (the command cannot be carried out as said).
    ``summary``: short label for chips and logs, e.g. "Reminder: call mom — tomorrow 15:00".
    ``data``: JSON-serialisable details (figures, resolved time).
    """

    intent: str
    kind: str
    text: str
    summary: str = ""
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain dict for ``--json`` output."""
        return {"intent": self.intent, "kind": self.kind, "text": self.text,
                "summary": self.summary, "data": self.data}
