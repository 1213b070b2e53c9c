"""Reminders, timers, alarms and calendar events (table ``scheduled_items``, migration 2 in :mod:`.db`).

One row per item. ``kind`` is "reminder", "timer", "alarm" or "event"; ``due_at`` is when it fires (an
event's start), stored as UTC ISO 8601 to the second so that text order is time order; ``status`` moves
``pending`` -> ``fired`` (or ``cancelled``; undo moves a cancelled item back to ``pending``).

Firing is at-least-once (docs/reliability.md, "Scheduler and kills"): a due item is first *claimed*
(``claimed_by`` = the scheduler's owner token, ``claimed_at``; migration 5), then delivered, and only then
*acknowledged*: ``status`` becomes ``fired`` in one transaction with its chat-history row (:class:`FiredNote`).
A claim held by a live scheduler keeps a second one (the GUI and ``jarvis-desktop schedule run`` on one
database) from delivering it too; a claim whose owner died (kill -9 between showing and marking) is taken
over, so the item is shown again rather than never.

Errors: writes raise :class:`~jarvis_desktop.errors.JarvisError` with the cause (full disk, read-only,
locked: see :func:`jarvis_desktop.store.db.map_sqlite_error`); nothing is dropped silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone, tzinfo
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database

KINDS = ("reminder", "timer", "alarm", "event")
STATUSES = ("pending", "fired", "cancelled")


def to_utc_text(moment: datetime) -> str:
    """``moment`` as stored: UTC ISO 8601 to the second. A naive ``moment`` is taken as system local time."""
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat()


def due_utc_text(moment: datetime) -> str:
    """A due time as stored: like :func:`to_utc_text` but rounded UP to the whole second, so that an item
    never fires before its time (a 30 s timer set at 10:00:00.4 is due 10:00:31, not 10:00:30)."""
    if moment.microsecond:
        moment = moment.replace(microsecond=0) + timedelta(seconds=1)
    return to_utc_text(moment)


def from_utc_text(text: str | None) -> datetime | None:
    """A stored time back as an aware UTC datetime (None stays None)."""
    return datetime.fromisoformat(text).astimezone(timezone.utc) if text else None


def utc_from_text(text: str) -> datetime:
    """A stored time of a NOT NULL column back as an aware UTC datetime."""
    return datetime.fromisoformat(text).astimezone(timezone.utc)


def utc_now() -> datetime:
    """The current time, aware, UTC."""
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class ScheduledItem:
    """One reminder, timer, alarm or event. Times are aware UTC datetimes (``end_at``, ``fired_at``,
    ``cancelled_at`` may be None); ``missed`` is True when it fired late because Jarvis was not running."""

    id: int
    kind: str
    title: str
    due_at: datetime
    status: str
    created_at: datetime
    end_at: datetime | None = None
    all_day: bool = False
    fired_at: datetime | None = None
    missed: bool = False
    cancelled_at: datetime | None = None
    source_text: str = ""
    uid: str | None = None
    location: str = ""
    description: str = ""

    def local_due(self, tz: tzinfo | None = None) -> datetime:
        """``due_at`` in ``tz`` (None: the system's local zone), aware."""
        return self.due_at.astimezone(tz) if tz else self.due_at.astimezone()

    def label(self) -> str:
        """Short human label: "Reminder: call mom", "Timer: 10 minutes", "Alarm"."""
        head = self.kind.capitalize()
        return f"{head}: {self.title}" if self.title else head

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        """JSON shape (``jarvis-desktop schedule --json``): times as local ISO 8601 with offset."""

        def iso(moment: datetime | None) -> str | None:
            if moment is None:
                return None
            return (moment.astimezone(tz) if tz else moment.astimezone()).isoformat(timespec="seconds")

        return {
            "id": self.id,
            "kind": self.kind,
            "title": self.title,
            "due_at": iso(self.due_at),
            "end_at": iso(self.end_at),
            "all_day": self.all_day,
            "status": self.status,
            "missed": self.missed,
            "fired_at": iso(self.fired_at),
            "location": self.location,
            "description": self.description,
            "uid": self.uid,
            "source_text": self.source_text,
        }


@dataclass(frozen=True)
class Claim:
    """A scheduler's hold on one due item while it delivers it (:meth:`ScheduleStore.claim`). ``at`` aware UTC;
    ``taken_over``: the earlier owner whose claim was stale (it died after claiming, perhaps after showing the
    item), else None."""

    item_id: int
    owner: str
    at: datetime
    taken_over: str | None = None


@dataclass(frozen=True)
class FiredNote:
    """The chat-history row (role "system") written in the same transaction as an item's "fired" mark:
    ``content`` the text, ``meta`` a JSON-able dict, ``conversation_id`` the conversation (None: none)."""

    content: str
    meta: dict[str, Any] = field(default_factory=dict)
    conversation_id: int | None = None


def _item(row: Any) -> ScheduledItem:
    return ScheduledItem(
        id=int(row["id"]),
        kind=row["kind"],
        title=row["title"],
        due_at=utc_from_text(row["due_at"]),
        status=row["status"],
        created_at=utc_from_text(row["created_at"]),
        end_at=from_utc_text(row["end_at"]),
        all_day=bool(row["all_day"]),
        fired_at=from_utc_text(row["fired_at"]),
        missed=bool(row["missed"]),
        cancelled_at=from_utc_text(row["cancelled_at"]),
        source_text=row["source_text"],
        uid=row["uid"],
        location=row["location"],
        description=row["description"],
    )


def _kinds_clause(kinds: Iterable[str] | None) -> tuple[str, list[str]]:
    if not kinds:
        return "", []
    kinds = list(kinds)
    bad = [k for k in kinds if k not in KINDS]
    if bad:
        raise BadInputError(f"unknown scheduled-item kind {bad[0]!r}; expected one of {', '.join(KINDS)}")
    return f" AND kind IN ({', '.join('?' * len(kinds))})", kinds


class ScheduleStore:
    """The scheduled items in a :class:`Database`. Thread-safe (the database serialises access).

    Raises:
        BadInputError: unknown kind, empty due time, an end before the start.
        JarvisError: the database cannot be written (full disk, read-only, locked).
    """

    def __init__(self, db: Database) -> None:
        self.db = db

    # ---- writing ---------------------------------------------------------------------------------
    def add(
        self,
        kind: str,
        title: str,
        due_at: datetime,
        *,
        end_at: datetime | None = None,
        all_day: bool = False,
        source_text: str = "",
        uid: str | None = None,
        location: str = "",
        description: str = "",
        status: str = "pending",
    ) -> ScheduledItem:
        """Store a new item and return it (with its id). ``due_at``/``end_at``: aware, or naive local time;
        ``due_at`` is stored rounded up to the whole second (:func:`due_utc_text`)."""
        if kind not in KINDS:
            raise BadInputError(f"unknown scheduled-item kind {kind!r}; expected one of {', '.join(KINDS)}")
        if status not in ("pending", "fired"):
            raise BadInputError(f"a new item is 'pending' or 'fired', not {status!r}")
        if not isinstance(due_at, datetime):
            raise BadInputError("a scheduled item needs a due time")
        if end_at is not None and end_at < due_at:
            raise BadInputError("an event cannot end before it starts")
        now = to_utc_text(utc_now())
        row_id = self.db.insert(
            "INSERT INTO scheduled_items (kind, title, due_at, end_at, all_day, status, created_at, fired_at, "
            "source_text, uid, location, description) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                kind,
                title.strip(),
                due_utc_text(due_at),
                to_utc_text(end_at) if end_at else None,
                int(all_day),
                status,
                now,
                now if status == "fired" else None,
                source_text,
                uid,
                location,
                description,
            ),
        )
        item = self.get(row_id)
        assert item is not None
        return item

    def claim(
        self, item_id: int, owner: str, at: datetime, is_stale: Callable[[str, datetime], bool] | None = None
    ) -> Claim | None:
        """Claim a pending item for delivery by ``owner`` (a scheduler's token), at ``at``.

        Returns the :class:`Claim`, or None when the item is no longer pending (fired, cancelled) or another
        owner holds it and ``is_stale(that_owner, its_claimed_at)`` is not True (its owner is alive). A stale
        claim is taken over (``Claim.taken_over`` names the dead owner: the item may have been shown once).
        """
        with self.db.transaction() as conn:
            row = conn.execute(
                "SELECT status, claimed_by, claimed_at FROM scheduled_items WHERE id = ?", (item_id,)
            ).fetchone()
            if row is None or row["status"] != "pending":
                return None
            previous = row["claimed_by"]
            if previous is not None and previous != owner:
                since = from_utc_text(row["claimed_at"]) or at
                if is_stale is None or not is_stale(previous, since):
                    return None
            conn.execute(
                "UPDATE scheduled_items SET claimed_by = ?, claimed_at = ? WHERE id = ?",
                (owner, to_utc_text(at), item_id),
            )
        return Claim(item_id, owner, at, previous if previous != owner else None)

    def acknowledge(self, claim: Claim, fired_at: datetime, missed: bool, note: FiredNote | None = None) -> bool:
        """The claimed item was delivered: mark it fired (``fired_at``, ``missed``) and add ``note`` to the chat
        history, both in one transaction. True if this call did it; False when the claim was lost meanwhile
        (the item was cancelled, or another scheduler took the claim over and acknowledges it itself).

        A ``note`` naming a conversation that no longer exists is written without one (never refused: a
        refused acknowledgement would deliver the item again and again).
        """
        with self.db.transaction() as conn:
            done = conn.execute(
                "UPDATE scheduled_items SET status = 'fired', fired_at = ?, missed = ?, claimed_by = NULL, "
                "claimed_at = NULL WHERE id = ? AND status = 'pending' AND claimed_by = ?",
                (to_utc_text(fired_at), int(missed), claim.item_id, claim.owner),
            ).rowcount
            if done == 1 and note is not None:
                now = utc_now().isoformat()
                conversation = note.conversation_id
                if (
                    conversation is not None
                    and not conn.execute(
                        "UPDATE conversations SET updated_at = ? WHERE id = ?", (now, conversation)
                    ).rowcount
                ):
                    conversation = None
                conn.execute(
                    "INSERT INTO chat_messages (role, content, created_at, meta, conversation_id) "
                    "VALUES ('system', ?, ?, ?, ?)",
                    (note.content, now, json.dumps(note.meta, ensure_ascii=False, default=str), conversation),
                )
        return done == 1

    def cancel(self, item_id: int) -> ScheduledItem | None:
        """Cancel a pending item (or remove an event from the calendar, fired or not).

        Returns the item as it was before, or None when there is no such item still active.
        """
        item = self.get(item_id)
        if item is None or item.status == "cancelled" or (item.status == "fired" and item.kind != "event"):
            return None
        cursor = self.db.execute(
            "UPDATE scheduled_items SET status = 'cancelled', cancelled_at = ?, claimed_by = NULL, claimed_at = NULL "
            "WHERE id = ? AND status = ?",
            (to_utc_text(utc_now()), item_id, item.status),
        )
        return item if cursor.rowcount == 1 else None

    def restore(self, item_id: int, status: str = "pending") -> bool:
        """Undo a cancel: a cancelled item goes back to ``status`` ("pending", or "fired" for a past event)."""
        cursor = self.db.execute(
            "UPDATE scheduled_items SET status = ?, cancelled_at = NULL WHERE id = ? AND status = 'cancelled'",
            (status, item_id),
        )
        return cursor.rowcount == 1

    # ---- reading ---------------------------------------------------------------------------------
    def get(self, item_id: int) -> ScheduledItem | None:
        """The item with that id (any status), or None."""
        rows = self.db.query("SELECT * FROM scheduled_items WHERE id = ?", (item_id,))
        return _item(rows[0]) if rows else None

    def pending(self, kinds: Iterable[str] | None = None) -> list[ScheduledItem]:
        """Items still to fire, soonest first, optionally only of ``kinds``."""
        clause, params = _kinds_clause(kinds)
        rows = self.db.query(
            f"SELECT * FROM scheduled_items WHERE status = 'pending'{clause} ORDER BY due_at, id", params
        )
        return [_item(r) for r in rows]

    def due(self, now: datetime) -> list[ScheduledItem]:
        """Pending items whose time has come (``due_at <= now``), oldest first."""
        rows = self.db.query(
            "SELECT * FROM scheduled_items WHERE status = 'pending' AND due_at <= ? ORDER BY due_at, id",
            (to_utc_text(now),),
        )
        return [_item(r) for r in rows]

    def next_due(self) -> datetime | None:
        """When the next pending item fires (aware UTC), or None when nothing is pending."""
        rows = self.db.query("SELECT MIN(due_at) FROM scheduled_items WHERE status = 'pending'")
        return from_utc_text(rows[0][0]) if rows and rows[0][0] else None

    def events(self) -> list[ScheduledItem]:
        """Every calendar event not cancelled (past ones too), by start time."""
        rows = self.db.query(
            "SELECT * FROM scheduled_items WHERE kind = 'event' AND status != 'cancelled' ORDER BY due_at, id"
        )
        return [_item(r) for r in rows]

    def upcoming(
        self, kinds: Iterable[str] | None = None, start: datetime | None = None, end: datetime | None = None
    ) -> list[ScheduledItem]:
        """Active items (pending, and events not yet over) starting in ``[start, end)``, soonest first;
        ``start``/``end`` None: no limit on that side. A pending item being delivered (claimed) is left out:
        for the user it has fired (the window refreshes its list while the item is shown)."""
        clause, params = _kinds_clause(kinds)
        sql = (
            "SELECT * FROM scheduled_items WHERE ((status = 'pending' AND claimed_by IS NULL) OR (kind = 'event' "
            "AND status IN ('pending', 'fired') AND COALESCE(end_at, due_at) > ?))"
        )
        args: list[Any] = [to_utc_text(utc_now())]
        if start is not None:
            sql += " AND due_at >= ?"
            args.append(to_utc_text(start))
        if end is not None:
            sql += " AND due_at < ?"
            args.append(to_utc_text(end))
        rows = self.db.query(sql + clause + " ORDER BY due_at, id", args + params)
        return [_item(r) for r in rows]

    def find_uid(self, uid: str) -> ScheduledItem | None:
        """The item with that iCalendar UID, or None."""
        rows = self.db.query("SELECT * FROM scheduled_items WHERE uid = ?", (uid,))
        return _item(rows[0]) if rows else None

    def recent_fired(self, limit: int = 20) -> list[ScheduledItem]:
        """The last ``limit`` items that fired, newest first."""
        rows = self.db.query(
            "SELECT * FROM scheduled_items WHERE status = 'fired' AND fired_at IS NOT NULL "
            "ORDER BY fired_at DESC, id DESC LIMIT ?",
            (max(0, int(limit)),),
        )
        return [_item(r) for r in rows]
