"""Engine-thread job of the Training tab: the hot swap of the NLU fallback's adapter.

Runs on the window's engine thread (where the Assistant and its NLU engine live), so the swap never races an
utterance being parsed: it happens between two engine jobs.
"""

from __future__ import annotations

from PySide6.QtCore import Signal

from jarvis_desktop.ui.workers import AssistantGetter, Worker


class ActivateAdapterWorker(Worker):
    """``Assistant.activate_adapter(name)`` (the engine's one activation,
    :func:`jarvis_desktop.jobs.adapters.activate_adapter`): ``finished(Activation)``, or ``failed(str)`` (the
    current adapter stays)."""

    finished = Signal(object)

    def __init__(self, name: str) -> None:
        super().__init__()
        self.name = name

    def execute(self, get: AssistantGetter) -> None:
        self.finished.emit(get().activate_adapter(self.name))
