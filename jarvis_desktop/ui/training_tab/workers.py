"""Engine-thread job of the Training tab: the hot swap of the NLU fallback's adapter.

Runs on the window's engine thread (where the Assistant and its NLU engine live), so the swap never races an
utterance being parsed: it happens between two engine jobs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Signal

from jarvis_desktop.ui.workers import Worker


class ActivateAdapterWorker(Worker):
    """``Assistant.activate_adapter(name)``: ``finished(dict)`` with ``{"name", "path", "swap_s"}``, or
    ``failed(str)`` (the current adapter stays)."""

    finished = Signal(dict)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def execute(self, get: Callable[[], Any]) -> None:
        self.finished.emit(get().activate_adapter(self.name))
