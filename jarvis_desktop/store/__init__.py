"""Persistent storage (no Qt): the SQLite database and what lives in it.

* :class:`Database` (``db.py``): the file, WAL, migrations by ``PRAGMA user_version``, thread-safe access.
* :class:`ChatHistory` (``history.py``): chat messages kept across restarts.
* :class:`ScheduleStore` (``schedule.py``): reminders, timers, alarms and calendar events.
* :class:`NoteStore` (``notes.py``): the user's notes.
* :class:`ActionLog` (``action_log.py``): what the assistant did, for "undo".
"""

from jarvis_desktop.store.action_log import ActionLog, LoggedAction
from jarvis_desktop.store.db import MIGRATIONS, Database
from jarvis_desktop.store.history import ChatHistory, ChatMessageRecord
from jarvis_desktop.store.notes import Note, NoteStore
from jarvis_desktop.store.schedule import ScheduledItem, ScheduleStore

__all__ = [
    "MIGRATIONS",
    "ActionLog",
    "ChatHistory",
    "ChatMessageRecord",
    "Database",
    "LoggedAction",
    "Note",
    "NoteStore",
    "ScheduleStore",
    "ScheduledItem",
]
