"""What an action handler gets besides the parse: the time, the settings, the stores, dry-run.

Handlers are plain functions ``handler(parse, ctx) -> ActionResult``; they never import Qt. Stores open
lazily on first use (a time question never touches the database).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from typing import TypeVar

from jarvis_desktop.config import Settings, database_path
from jarvis_desktop.nlu.resolve import parse_when
from jarvis_desktop.nlu.result import ParseResult
from jarvis_desktop.store.action_log import ActionLog
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.notes import NoteStore
from jarvis_desktop.store.schedule import ScheduleStore

_Store = TypeVar("_Store", ScheduleStore, NoteStore, ActionLog)


@dataclass
class ActionContext:
    """Everything a handler may use.

    ``now``: the user's current time (aware in the configured zone, or naive local), used to resolve and
    word times; CLI ``--now`` sets it. ``tz``: the configured zone (None = system local).
    ``database``: a callable returning the open :class:`~jarvis_desktop.store.db.Database`.
    ``wake_scheduler``: called after an item is added or cancelled, so a running scheduler re-reads the
    table at once (None when no scheduler runs in this process). ``dry_run``: describe, change nothing.
    ``loaded_models``: names for "which models are loaded".
    """

    now: datetime
    settings: Settings = field(default_factory=Settings)
    database: Callable[[], Database] | None = None
    tz: tzinfo | None = None
    wake_scheduler: Callable[[], None] | None = None
    dry_run: bool = False
    loaded_models: list[str] = field(default_factory=list)
    _stores: dict[str, ScheduleStore | NoteStore | ActionLog] = field(default_factory=dict, repr=False)
    _owned_db: Database | None = field(default=None, repr=False)

    # ---- stores ----------------------------------------------------------------------------------
    def db(self) -> Database:
        """The open database (the default app database when no ``database`` callable was given)."""
        if self.database is None:
            opened = Database(database_path())
            self._owned_db = opened
            self.database = lambda: opened
        return self.database()

    def close(self) -> None:
        """Close the database if this context opened it itself (not one handed in)."""
        owned, self._owned_db = self._owned_db, None
        self._stores.clear()
        if owned is not None:
            owned.close()
            self.database = None

    def _store(self, kind: type[_Store]) -> _Store:
        """The one store of ``kind`` on this context's database, opened on first use."""
        store = self._stores.get(kind.__name__)
        if not isinstance(store, kind):
            store = kind(self.db())
            self._stores[kind.__name__] = store
        return store

    @property
    def schedule(self) -> ScheduleStore:
        """The :class:`~jarvis_desktop.store.schedule.ScheduleStore`."""
        return self._store(ScheduleStore)

    @property
    def notes(self) -> NoteStore:
        """The :class:`~jarvis_desktop.store.notes.NoteStore`."""
        return self._store(NoteStore)

    @property
    def action_log(self) -> ActionLog:
        """The :class:`~jarvis_desktop.store.action_log.ActionLog`."""
        return self._store(ActionLog)

    def schedule_changed(self) -> None:
        """Tell a running scheduler to re-read the table."""
        if self.wake_scheduler is not None:
            self.wake_scheduler()

    # ---- time ------------------------------------------------------------------------------------
    def aware_now(self) -> datetime:
        """``now`` as an aware datetime (a naive one is system local time)."""
        return self.now if self.now.tzinfo else self.now.astimezone()

    def local(self, moment: datetime) -> datetime:
        """An aware ``moment`` in the user's zone, in the same form as ``now`` (naive if ``now`` is naive)."""
        local = moment.astimezone(self.tz) if self.tz else moment.astimezone()
        return local if self.now.tzinfo else local.replace(tzinfo=None)

    def when(self, parse: ParseResult) -> datetime | None:
        """The parse's ``when`` ("YYYY-MM-DDTHH:MM", or "YYYY-MM-DDTHH:MM:SS" with an ``in_N_seconds`` key;
        local) as a datetime in the form of ``now``, or None.

        Raises:
            BadInputError: ``when`` is in neither form.
        """
        if not parse.when:
            return None
        moment = parse_when(parse.when)
        return moment.replace(tzinfo=self.now.tzinfo) if self.now.tzinfo else moment

    def clock_base(self) -> datetime:
        """Start of a countdown: the real clock when ``now`` is within a minute of it (seconds count for a
        timer), else ``now`` (a simulated time given with ``--now``). Same form as ``now``."""
        real = datetime.now(self.now.tzinfo) if self.now.tzinfo else datetime.now()
        return real if abs(real - self.now) < timedelta(seconds=90) else self.now
