"""Persistent storage (no Qt): the SQLite database and what lives in it.

* :class:`Database` (``db.py``): the file, WAL, migrations by ``PRAGMA user_version``, thread-safe access.
* :class:`ChatHistory` (``history.py``): chat messages kept across restarts.
"""

from jarvis_desktop.store.db import MIGRATIONS, Database
from jarvis_desktop.store.history import ChatHistory, ChatMessageRecord

__all__ = ["MIGRATIONS", "ChatHistory", "ChatMessageRecord", "Database"]
