"""The scheduler: one thread that sleeps until the next due item in the database and fires it.

Design (see docs/actions.md, "Scheduling"): the items live in the app's SQLite table ``scheduled_items``
(:mod:`jarvis_desktop.store.schedule`), so they survive restarts with the rest of the user's data. One
daemon thread loops: fire every pending item whose ``due_at`` has come, then sleep until the next
``due_at``, at most ``poll_s`` seconds (so items added by another process, such as the CLI while the GUI
runs, and clock jumps after a suspend are noticed within that time). :meth:`Scheduler.wake` cuts the
sleep short when this process adds or cancels an item.

Firing claims the row first (``pending`` -> ``fired`` in one conditional UPDATE), so each item fires
exactly once even with two schedulers on one database. An item fired more than ``grace_s`` after its time
(Jarvis was closed, or the machine slept) is marked *missed* and its message says "missed at HH:MM".
"""

from __future__ import annotations

import sys
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo

from jarvis_desktop.errors import JarvisError
from jarvis_desktop.store.schedule import ScheduledItem, ScheduleStore, utc_now

TITLES = {"reminder": "Reminder", "timer": "Timer finished", "alarm": "Alarm", "event": "Event starting"}


@dataclass(frozen=True)
class Firing:
    """One item that has just fired. ``fired_at``: aware UTC; ``missed``: fired late (app closed)."""

    item: ScheduledItem
    fired_at: datetime
    missed: bool

    @property
    def rings(self) -> bool:
        """True for reminders, timers and alarms, which play a sound (events only notify)."""
        return self.item.kind in ("reminder", "timer", "alarm")

    @property
    def urgent(self) -> bool:
        """True for alarms and timers: their notification stays until dismissed."""
        return self.item.kind in ("alarm", "timer")

    def title(self) -> str:
        """Notification title: "Reminder", "Timer finished", "Alarm", "Event starting"."""
        return TITLES.get(self.item.kind, self.item.kind.capitalize())

    def body(self, tz: tzinfo | None = None) -> str:
        """Notification text: "call mom", "10 minutes", "Alarm 07:00", plus " (missed at 15:00)" when late."""
        due = self.item.local_due(tz)
        text = self.item.title or f"{self.title()} {due.strftime('%H:%M')}"
        if self.item.kind == "event" and self.item.location:
            text += f" — {self.item.location}"
        if self.missed:
            day = "" if due.date() == self.fired_at.astimezone(due.tzinfo).date() else f"{due.strftime('%a %d %b')} "
            text += f" (missed at {day}{due.strftime('%H:%M')})"
        return text

    def message(self, tz: tzinfo | None = None) -> str:
        """One line for the chat and the CLI: "Reminder: call mom (missed at 15:00)"."""
        return f"{self.title()}: {self.body(tz)}"


class Scheduler:
    """Fires due items of a :class:`ScheduleStore` on a background thread.

    Args:
        store: the items.
        on_fire: called on the scheduler thread with each :class:`Firing` (after the row is marked fired);
            an exception in it is printed to stderr and the loop goes on.
        poll_s: longest sleep in seconds between two looks at the table.
        grace_s: an item fired more than this many seconds after its time counts as missed.
        on_error: called with a :class:`JarvisError` when the database cannot be read or written (locked,
            full disk); the scheduler retries after ``poll_s``. Default: print to stderr.
    """

    def __init__(
        self,
        store: ScheduleStore,
        on_fire: Callable[[Firing], None],
        *,
        poll_s: float = 30.0,
        grace_s: float = 60.0,
        on_error: Callable[[JarvisError], None] | None = None,
    ) -> None:
        self.store = store
        self.on_fire = on_fire
        self.poll_s = poll_s
        self.grace_s = grace_s
        self.on_error = on_error or (lambda exc: sys.stderr.write(f"scheduler: {exc.user_message()}\n"))
        self._cond = threading.Condition()
        self._woken = False
        self._stopping = False
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start the thread; its first pass fires everything already due (missed while closed)."""
        if self.running:
            return
        self._stopping = False
        self._thread = threading.Thread(target=self._loop, name="jarvis-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it (at most ``timeout`` seconds); safe to call twice."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def wake(self) -> None:
        """Re-read the table now (call after adding or cancelling an item); safe from any thread."""
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def fire_due(self, now: datetime | None = None) -> list[Firing]:
        """Fire every pending item due at ``now`` (default: the clock) on the calling thread; returns them."""
        fired: list[Firing] = []
        for item in self.store.due(now or utc_now()):
            at = utc_now()
            missed = (at - item.due_at).total_seconds() > self.grace_s
            if not self.store.claim(item.id, at, missed):
                continue  # another scheduler fired it, or it was cancelled meanwhile
            firing = Firing(item=item, fired_at=at, missed=missed)
            fired.append(firing)
            try:
                self.on_fire(firing)
            except Exception:
                traceback.print_exc()
        return fired

    def seconds_until_next(self) -> float:
        """Seconds to sleep now: until the next due item, capped at ``poll_s`` (0 when one is due)."""
        nxt = self.store.next_due()
        if nxt is None:
            return self.poll_s
        return max(0.0, min(self.poll_s, (nxt - utc_now()).total_seconds()))

    def _loop(self) -> None:
        while not self._stopping:
            try:
                self.fire_due()
                delay = self.seconds_until_next()
            except JarvisError as exc:  # locked / full / closed database: say so, retry later
                if self._stopping:
                    break
                self.on_error(exc)
                delay = self.poll_s
            with self._cond:
                if not self._woken and not self._stopping:
                    self._cond.wait(delay)
                self._woken = False
