"""A catalogue download run off the GUI thread, reported with Qt signals.

:func:`jarvis_desktop.catalog.download` blocks (network, disk, checksum) and takes a progress callback and a
cancel event; :class:`DownloadRunner` runs it on a daemon thread and turns its callbacks into signals that Qt
queues to the GUI thread:

* ``progress(object)``: a :class:`~jarvis_desktop.catalog.DownloadProgress` (bytes done / total);
* ``finished(str)``: the installed path;
* ``failed(str)``: the error's ``user_message()`` ("Cancelled" never arrives here: ``cancelled()`` does).
"""

from __future__ import annotations

import threading

from PySide6.QtCore import QObject, Signal

from jarvis_desktop import catalog
from jarvis_desktop.catalog import CatalogEntry
from jarvis_desktop.config import Settings
from jarvis_desktop.errors import Cancelled, JarvisError


class DownloadRunner(QObject):
    """One download of ``entry`` with ``settings``' hub and models directory (see the module docstring)."""

    progress = Signal(object)
    finished = Signal(str)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, entry: CatalogEntry, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.entry = entry
        self.settings = settings
        self.cancel_event = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        """True while the download thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        """Start downloading (returns at once)."""
        self._thread = threading.Thread(target=self._run, name=f"jarvis-download-{self.entry.id}", daemon=True)
        self._thread.start()

    def cancel(self) -> None:
        """Stop the transfer (within about half a second); the partial file stays for a later resume."""
        self.cancel_event.set()

    def _run(self) -> None:
        try:
            path = catalog.download(self.entry, self.settings, progress=self.progress.emit, cancel=self.cancel_event)
        except Cancelled:
            self.cancelled.emit()
        except JarvisError as exc:
            self.failed.emit(exc.user_message())
        except Exception as exc:  # never let a thread die silently: the dialog shows it
            self.failed.emit(f"internal error: {type(exc).__name__}: {exc}")
        else:
            self.finished.emit(str(path))
