"""The scheduler: one thread that sleeps until the next due item in the database and fires it.

Design (see docs/actions.md, "Scheduling"): the items live in the app's SQLite table ``scheduled_items``
(:mod:`jarvis_desktop.store.schedule`), so they survive restarts with the rest of the user's data. One
daemon thread loops: fire every pending item whose ``due_at`` has come, then sleep until the next
``due_at``, at most ``watch_s`` seconds (1 s: items added by another process, such as the CLI while the GUI
runs, and clock jumps after a suspend are noticed within that time; each look is one indexed query).
:meth:`Scheduler.wake` cuts the sleep short when this process adds or cancels an item. Due times are
stored rounded up to the second, so an item never fires early and fires well within a second of its time.

Delivery is at-least-once (docs/reliability.md, "Scheduler and kills"). For each due item the scheduler
1. *claims* it (:meth:`ScheduleStore.claim`, with this scheduler's owner token: ``pid:start-time:random``);
2. *delivers* it: ``on_fire`` returns (the CLI has printed it, the notifier has shown it, the GUI's slot has
   run);
3. *acknowledges* it: marks it fired together with its chat-history row in one transaction.
A kill between 1 and 3 leaves a claim whose owner process is gone (or older than ``claim_timeout_s``); the
next scheduler takes it over and delivers it again, labelled missed. So a kill means "shown again", never
"never shown"; a live owner's claim keeps a second scheduler on the same database from showing it twice. An
item is *missed* when it came due before the scheduler started (Jarvis was closed: it fires at once on the
first pass), when it fires more than ``grace_s`` after its time (the machine slept), or when it is delivered
again after a kill; its message then says "missed at HH:MM".
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, tzinfo

import psutil

from jarvis_desktop.errors import JarvisError
from jarvis_desktop.store.schedule import Claim, FiredNote, ScheduledItem, ScheduleStore, utc_now

TITLES = {"reminder": "Reminder", "timer": "Timer finished", "alarm": "Alarm", "event": "Event starting"}


@dataclass(frozen=True)
class Firing:
    """One item that has just fired: ``item`` as it will be stored once delivered (status "fired", its
    ``fired_at`` and ``missed`` set), ``fired_at`` aware UTC, ``missed`` True when it came due while Jarvis was
    closed (or fired more than the grace time late, or is delivered again after a kill)."""

    item: ScheduledItem
    fired_at: datetime
    missed: bool
    #: True when an earlier scheduler claimed it and died before marking it fired: it may have been shown once
    again: bool = False

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
        """Notification text: "call mom", "10 minutes", "Alarm 07:00", plus " (missed at 15:00)" when missed
        (" (missed at Mon 07 Dec 15:00)" when it was due on another day)."""
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


def owner_token() -> str:
    """A token naming this scheduler: ``pid:process-start-time:random`` (the start time guards against a
    reused pid, the random part tells two schedulers of one process apart)."""
    return f"{os.getpid()}:{_start_time(os.getpid())}:{uuid.uuid4().hex[:8]}"


def _start_time(pid: int) -> str:
    """The process's start time (epoch seconds, 2 decimals) or "" when it cannot be read."""
    try:
        return f"{psutil.Process(pid).create_time():.2f}"
    except (psutil.Error, OSError):
        return ""


def owner_alive(token: str) -> bool:
    """True while the process named in an :func:`owner_token` runs (a zombie, a reused pid or a token that
    does not parse counts as dead)."""
    pid_text, _, rest = token.partition(":")
    started = rest.partition(":")[0]
    try:
        process = psutil.Process(int(pid_text))
        return process.status() != psutil.STATUS_ZOMBIE and f"{process.create_time():.2f}" == started
    except (ValueError, psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except (psutil.Error, OSError):
        return True  # cannot tell (access denied): the claim times out instead


class Scheduler:
    """Fires due items of a :class:`ScheduleStore` on a background thread.

    Args:
        store: the items.
        on_fire: delivers each :class:`Firing`, on the scheduler thread; the item is marked fired only after
            it returns (a kill before that delivers it again at the next start). An exception in it is printed
            to stderr and counts as delivered (retrying would repeat a failing callback forever).
        poll_s: how long to wait before retrying after a database error, in seconds; also a cap on the
            sleep between two looks at the table.
        grace_s: an item that fires more than this many seconds after its time counts as missed (items that
            came due before :meth:`start` always do).
        on_error: called with a :class:`JarvisError` when the database cannot be read or written (locked,
            full disk); the scheduler retries after ``poll_s``. Default: print to stderr.
        watch_s: longest sleep in seconds between two looks at the table (items added by another process,
            clock jumps after a suspend); one indexed query each.
        history: builds the chat-history row of a delivered firing (None: none), written in the same
            transaction as its "fired" mark, so each fired item is in the history exactly once.
        claim_timeout_s: a claim older than this is taken over even when its owner seems alive (a hung
            scheduler, a process whose liveness cannot be read); seconds.
    """

    def __init__(
        self,
        store: ScheduleStore,
        on_fire: Callable[[Firing], None],
        *,
        poll_s: float = 30.0,
        grace_s: float = 60.0,
        on_error: Callable[[JarvisError], None] | None = None,
        watch_s: float = 1.0,
        history: Callable[[Firing], FiredNote | None] | None = None,
        claim_timeout_s: float = 300.0,
    ) -> None:
        self.store = store
        self.history = history
        self.claim_timeout_s = claim_timeout_s
        #: this scheduler's claims carry it (:func:`owner_token`)
        self.owner = owner_token()
        self._unacked: list[tuple[Claim, Firing]] = []  # delivered, "fired" mark not yet written (write failed)
        self.on_fire = on_fire
        self.poll_s = poll_s
        self.grace_s = grace_s
        self.watch_s = watch_s
        #: when :meth:`start` was called (aware UTC); items due before it were missed
        self.started_at: datetime | None = None
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
        """Start the thread; its first pass fires at once everything already due, marked missed (it came due
        while Jarvis was closed)."""
        if self.running:
            return
        self.started_at = utc_now()
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
        """Deliver every pending item due at ``now`` (default: the clock) on the calling thread; returns them.

        Each is claimed, handed to ``on_fire``, then marked fired with its history row. An item is missed when
        it came due before :meth:`start` (or, without a started thread, before this call: ``schedule run
        --once``), fires more than ``grace_s`` late, or is delivered again after its first scheduler died.

        Raises:
            JarvisError: the database cannot be written; items already delivered are marked fired at the next
                call (not delivered twice by this scheduler).
        """
        self._acknowledge_delivered()
        fired: list[Firing] = []
        since = self.started_at or utc_now()
        for item in self.store.due(now or utc_now()):
            at = utc_now()
            claim = self.store.claim(item.id, self.owner, at, self._stale)
            if claim is None:
                continue  # another live scheduler is delivering it, it fired, or it was cancelled meanwhile
            again = claim.taken_over is not None
            missed = again or item.due_at < since or (at - item.due_at).total_seconds() > self.grace_s
            done = replace(item, status="fired", fired_at=at.replace(microsecond=0), missed=missed)
            firing = Firing(item=done, fired_at=at, missed=missed, again=again)
            try:
                self.on_fire(firing)
            except Exception:
                traceback.print_exc()
            fired.append(firing)
            self._unacked.append((claim, firing))
            self._acknowledge_delivered()
        return fired

    def _stale(self, owner: str, claimed_at: datetime) -> bool:
        """True when another scheduler's claim is abandoned: its process is gone, or the claim is too old."""
        return not owner_alive(owner) or (utc_now() - claimed_at).total_seconds() > self.claim_timeout_s

    def _acknowledge_delivered(self) -> None:
        """Mark the delivered firings fired (with their history rows), oldest first.

        Raises:
            JarvisError: a write failed; that firing and the later ones stay queued for the next call.
        """
        while self._unacked:
            claim, firing = self._unacked[0]
            note = None
            if self.history is not None:
                try:
                    note = self.history(firing)
                except JarvisError:
                    raise
                except Exception:
                    traceback.print_exc()  # a broken history builder must not block the mark
            self.store.acknowledge(claim, firing.fired_at, firing.missed, note)
            self._unacked.pop(0)

    def seconds_until_next(self) -> float:
        """Seconds to sleep now: until the next due item, capped at ``watch_s`` and ``poll_s`` (0 when one
        is due)."""
        cap = min(self.poll_s, self.watch_s)
        nxt = self.store.next_due()
        if nxt is None:
            return cap
        return max(0.0, min(cap, (nxt - utc_now()).total_seconds()))

    def _loop(self) -> None:
        reported = ""  # the error last reported: a damaged or full database is said once, not at every poll
        while not self._stopping:
            try:
                self.fire_due()
                delay = self.seconds_until_next()
                reported = ""
            except JarvisError as exc:  # locked / full / closed / damaged database: say so, retry later
                if self._stopping:
                    break
                if exc.user_message() != reported:
                    reported = exc.user_message()
                    self.on_error(exc)
                delay = self.poll_s
            with self._cond:
                if not self._woken and not self._stopping:
                    self._cond.wait(delay)
                self._woken = False
