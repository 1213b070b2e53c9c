"""The main window: conversation, understanding strip, input row, status bar.

Every engine call runs on the engine thread (:mod:`jarvis_desktop.ui.workers`); this module only reacts
to signals. Inputs: typed text (Enter or Send), the mic button (hold to talk / click to toggle), an audio
file (toolbar "Open audio file…", or drag-and-drop onto the window). Errors become a red system message in
the conversation and a status-bar note; the window never shows a blocking dialog except the file picker
the user asked for.

Tabs: Chat (conversation + understanding strip), Schedule (:mod:`.schedule_view`), Notes
(:mod:`.notes_view`) and Training (:mod:`.training_tab`: background LoRA jobs; a finished adapter is swapped
into the engine by :meth:`MainWindow.activate_adapter`); the input row stays below them. The engine's scheduler starts with the window; each
fired reminder/timer/alarm/event arrives through :class:`~jarvis_desktop.ui.action_workers.SchedulerBridge`
and is shown in the chat and as a tray notification. The Undo button (or "undo" typed or said) reverses
the last action.

Test hooks (no Qt event needed): ``submit_text(text)``, ``open_audio_file(path)``, ``stop()``,
``undo_last()``, ``refresh_schedule()``, ``refresh_notes()``, ``cancel_item(id)``, ``delete_note(id)``,
``export_notes(path)``, attributes ``engine_ready``, ``busy``, ``last_turn``, ``last_error``, ``last_fired``,
``chat``, ``strip``, ``schedule_view``, ``notes_view``, ``tabs``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QIcon, QKeySequence, QPixmap
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

# Engine packages that the engine thread and the Training tab's thread both import, imported once here on
# the GUI thread before either starts: two threads importing one package at the same time can get it
# half-initialised (Python's import locks hand out the partial module to avoid a deadlock). ~0.1 s, no models.
import jarvis_desktop.actions  # noqa: E402,F401  isort: skip
import jarvis_desktop.actions.scheduler  # noqa: E402,F401  isort: skip
import jarvis_desktop.jobs.runner  # noqa: E402,F401  isort: skip
import jarvis_desktop.store  # noqa: E402,F401  isort: skip
from jarvis_desktop.ui.action_workers import (
    CancelItemWorker,
    NoteDeleteWorker,
    NotesExportWorker,
    NotesListWorker,
    ScheduleListWorker,
    SchedulerBridge,
    StartSchedulerWorker,
    UndoWorker,
)
from jarvis_desktop.ui.chat_panel import ChatPanel, format_badge
from jarvis_desktop.ui.mic_button import LevelMeter, MicButton
from jarvis_desktop.ui.notes_view import NotesView
from jarvis_desktop.ui.schedule_view import ScheduleView
from jarvis_desktop.ui.training_tab import TrainingTab
from jarvis_desktop.ui.understanding_strip import UnderstandingStrip
from jarvis_desktop.ui.workers import AskWorker, EngineThread, MicController, WarmUpWorker

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3 *.m4a);;All files (*)"


def _default_assistant(settings: Any = None) -> Any:
    from jarvis_desktop.assistant import Assistant

    return Assistant(settings)


class MainWindow(QMainWindow):
    """Jarvis's main window.

    Args:
        settings: passed to ``Assistant(settings)``; None reads ``settings.toml`` (on the engine thread).
        assistant_factory: builds the Assistant on the engine thread (default ``Assistant(settings)``).
        icon: window icon.
        use_tray: create a system-tray icon when the desktop has a tray.
    """

    turn_finished = Signal(object)  # the engine's Turn
    item_fired = Signal(object)  # a scheduler Firing, after it was shown
    action_done = Signal(object)  # the ActionResult of a cancel / undo / note delete from the views
    token_received = Signal(str)  # each streamed piece of a reply, as shown
    error_shown = Signal(str)

    def __init__(
        self,
        settings: Any = None,
        assistant_factory: Callable[[], Any] | None = None,
        icon: QIcon | None = None,
        use_tray: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Jarvis")
        self.setObjectName("mainWindow")
        self.resize(880, 700)
        self.setMinimumSize(QSize(520, 460))
        self.setAcceptDrops(True)
        if icon is not None:
            self.setWindowIcon(icon)

        self.engine_ready = False
        self.busy = False
        self.last_turn: Any = None
        self.last_error: str | None = None
        self.last_fired: Any = None
        self._tz: Any = None
        self._ask: AskWorker | None = None
        self._pending_user_bubble = None
        self._quitting = False
        self._told_about_tray = False
        self._closed = False

        self._build_ui()
        self._build_actions()

        self.engine = EngineThread(assistant_factory or partial(_default_assistant, settings), self)
        self.mic = MicController(getattr(settings, "audio", None), self)
        self.mic.utterance.connect(self._on_utterance)
        self.mic.level.connect(self.level_meter.set_level)
        self.mic.failed.connect(self._on_mic_failed)
        self.mic.opened.connect(self._on_mic_opened)

        from jarvis_desktop.ui.tray import create_tray

        self.tray = create_tray(self, icon or self.windowIcon()) if use_tray else None

        # the scheduler first: reminders missed while Jarvis was closed fire before the models load
        self.scheduler_bridge = SchedulerBridge(self)
        self.scheduler_bridge.fired.connect(self._on_fired)
        self.engine.submit(StartSchedulerWorker(self.scheduler_bridge, desktop_notify=self.tray is None))
        self.refresh_schedule()
        self.refresh_notes()
        from jarvis_desktop.ui.monitor_panel import install_monitor

        self.monitor_panel = install_monitor(self, settings)  # Monitor tab + Settings… (docs/offload.md)

        self._set_status("loading", "Loading models…")
        warm = WarmUpWorker()
        warm.history.connect(self._on_history)
        warm.ready.connect(self._on_ready)
        warm.failed.connect(self._on_warm_failed)
        self.engine.submit(warm)

    # ---- layout ----------------------------------------------------------------------------------
    def _build_ui(self) -> None:
        central = QWidget()
        central.setObjectName("central")
        outer = QVBoxLayout(central)
        outer.setContentsMargins(14, 10, 14, 10)
        outer.setSpacing(10)

        self.tabs = QTabWidget()
        self.tabs.setObjectName("tabs")
        self.tabs.setDocumentMode(True)
        chat_page = QWidget()
        chat_layout = QVBoxLayout(chat_page)
        chat_layout.setContentsMargins(0, 6, 0, 0)
        chat_layout.setSpacing(10)
        self.chat = ChatPanel()
        chat_layout.addWidget(self.chat, 1)
        self.strip = UnderstandingStrip()
        chat_layout.addWidget(self.strip)
        self.tabs.addTab(chat_page, "Chat")
        self.schedule_view = ScheduleView()
        self.schedule_view.cancel_requested.connect(self.cancel_item)
        self.schedule_view.refresh_requested.connect(self.refresh_schedule)
        self.tabs.addTab(self.schedule_view, "Schedule")
        self.notes_view = NotesView()
        self.notes_view.delete_requested.connect(self.delete_note)
        self.notes_view.export_requested.connect(self.export_notes)
        self.notes_view.refresh_requested.connect(self.refresh_notes)
        self.tabs.addTab(self.notes_view, "Notes")
        self.training_tab = TrainingTab()  # background LoRA jobs; adapters swapped in on the engine thread
        self.training_tab.activate_requested.connect(self.activate_adapter)
        self.training_tab.job_finished.connect(self._on_training_finished)
        self.tabs.addTab(self.training_tab, "Training")
        outer.addWidget(self.tabs, 1)

        row = QHBoxLayout()
        row.setSpacing(8)
        self.mic_button = MicButton()
        self.mic_button.recording_started.connect(self._on_mic_start)
        self.mic_button.recording_stopped.connect(self._on_mic_stop)
        row.addWidget(self.mic_button)
        self.level_meter = LevelMeter()
        self.level_meter.setFixedWidth(54)
        row.addWidget(self.level_meter)
        self.prompt = QLineEdit()
        self.prompt.setObjectName("prompt")
        self.prompt.setPlaceholderText("Ask Jarvis… (Enter to send)")
        self.prompt.setClearButtonEnabled(True)
        self.prompt.returnPressed.connect(self._on_send_clicked)
        row.addWidget(self.prompt, 1)
        self.send_button = QPushButton("Send")
        self.send_button.setObjectName("send")
        self.send_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.send_button.clicked.connect(self._on_send_clicked)
        row.addWidget(self.send_button)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setObjectName("stop")
        self.stop_button.setToolTip("Stop the reply (Esc)")
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        row.addWidget(self.stop_button)
        self.undo_button = QPushButton("Undo")
        self.undo_button.setObjectName("undo")
        self.undo_button.setToolTip("Undo the last action (a reminder set, an item cancelled, a note…)")
        self.undo_button.clicked.connect(self.undo_last)
        row.addWidget(self.undo_button)
        outer.addLayout(row)
        self.setCentralWidget(central)

        self.status_dot = QLabel("●")
        self.status_dot.setObjectName("statusDot")
        self.status_text = QLabel()
        status = QWidget()
        status_row = QHBoxLayout(status)
        status_row.setContentsMargins(0, 0, 0, 0)
        status_row.setSpacing(6)
        status_row.addWidget(self.status_dot)
        status_row.addWidget(self.status_text, 1)
        self.statusBar().addWidget(status, 1)
        self.statusBar().setSizeGripEnabled(False)

    def _build_actions(self) -> None:
        self.open_action = QAction("Open audio file…", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setToolTip("Transcribe and answer a recording (WAV, FLAC, OGG…)")
        self.open_action.triggered.connect(self._choose_audio_file)
        self.stop_action = QAction("Stop reply", self)
        self.stop_action.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        self.stop_action.triggered.connect(self.stop)
        self.listen_action = QAction("Start/stop listening", self)
        self.listen_action.setShortcut(QKeySequence("Ctrl+M"))
        self.listen_action.triggered.connect(self.mic_button.toggle_recording)
        self.hands_free_action = QAction("Hands-free", self)
        self.hands_free_action.setCheckable(True)
        self.hands_free_action.setToolTip(
            "Listen continuously; each pause ends an utterance (voice activity detection)"
        )
        self.hands_free_action.toggled.connect(self._on_hands_free)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quit_app)
        for action in (self.stop_action, self.listen_action, self.quit_action):
            self.addAction(action)

        menu = self.menuBar().addMenu("&File")
        menu.addAction(self.open_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        conv = self.menuBar().addMenu("&Conversation")
        conv.addAction(self.listen_action)
        conv.addAction(self.hands_free_action)
        conv.addAction(self.stop_action)

        toolbar = QToolBar("Main")
        toolbar.setMovable(False)
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        logo = QLabel()
        logo.setPixmap(self.windowIcon().pixmap(26, 26) if not self.windowIcon().isNull() else QPixmap())
        logo.setContentsMargins(2, 0, 6, 0)
        title = QLabel("Jarvis")
        title.setObjectName("appTitle")
        subtitle = QLabel("  offline voice assistant")
        subtitle.setObjectName("appSubtitle")
        toolbar.addWidget(logo)
        toolbar.addWidget(title)
        toolbar.addWidget(subtitle)
        spacer = QWidget()
        spacer.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        toolbar.addWidget(spacer)
        toolbar.addAction(self.open_action)
        toolbar.addAction(self.hands_free_action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    # ---- public actions --------------------------------------------------------------------------
    def submit_text(self, text: str) -> bool:
        """Ask a typed question; returns False (and says why) if it cannot be sent now."""
        text = (text or "").strip()
        if not text:
            self._set_status(None, "Type a question first.")
            return False
        if not self._can_start():
            return False
        self.chat.add_message("user", text)
        self._start_ask(AskWorker(text=text), "Thinking…")
        return True

    def open_audio_file(self, path: str | Path) -> bool:
        """Run a recording through the voice pipeline (STT, understanding, reply)."""
        path = Path(path)
        if not self._can_start():
            return False
        self._pending_user_bubble = self.chat.add_message("user", "Transcribing…", f"voice · {path.name}")
        self._start_ask(AskWorker(audio=path), f"Transcribing {path.name}…")
        return True

    def ask_audio(self, audio: np.ndarray) -> bool:
        """Run a microphone utterance (float32 mono 16 kHz) through the voice pipeline."""
        if not self._can_start():
            return False
        self._pending_user_bubble = self.chat.add_message("user", "Transcribing…", "voice · microphone")
        self._start_ask(AskWorker(audio=audio), "Transcribing…")
        return True

    def stop(self) -> None:
        """Stop the streaming reply (the engine stops at the next token)."""
        if self._ask is not None:
            self._ask.stop()
            self._set_status("busy", "Stopping…")

    def quit_app(self) -> None:
        """Really quit (the tray's Quit, Ctrl+Q)."""
        self._quitting = True
        self.close()
        app = QApplication.instance()
        if app is not None:
            app.quit()

    # ---- turn lifecycle --------------------------------------------------------------------------
    def _can_start(self) -> bool:
        if self._closed:
            return False
        if self.busy:
            self._set_status("busy", "Still answering — press Stop to interrupt.")
            return False
        return True

    def _start_ask(self, worker: AskWorker, status: str) -> None:
        self.busy = True
        self._ask = worker
        self.last_error = None
        worker.transcribed.connect(self._on_transcribed)
        worker.token.connect(self._on_token)
        worker.finished.connect(self._on_turn)
        worker.failed.connect(self._on_ask_failed)
        worker.done.connect(self._on_ask_done)
        self._update_controls()
        if not self.engine_ready:
            status = "Loading models… your request will run when they are ready."
        self._set_status("busy", status)
        self.engine.submit(worker)

    def _on_transcribed(self, transcript: Any) -> None:
        text = getattr(transcript, "text", str(transcript)).strip()
        if self._pending_user_bubble is not None:
            self._pending_user_bubble.set_text(text)
            self._pending_user_bubble = None
        self.strip.show_transcript(text)
        self._set_status("busy", "Thinking…")

    def _on_token(self, piece: str) -> None:
        if not self.chat.streaming:
            self.chat.begin_reply()
            self._set_status("busy", "Answering…")
        self.chat.append_token(piece)
        self.token_received.emit(piece)

    def _on_turn(self, turn: Any) -> None:
        self.last_turn = turn
        transcript = getattr(turn.transcript, "text", None) if turn.transcript is not None else None
        if transcript is not None:
            self._on_transcribed(turn.transcript)
        self.strip.show_parse(
            turn.parse, transcript=transcript.strip() if transcript else None, typed=transcript is None
        )
        reply = turn.reply
        stats = getattr(reply, "stats", None)
        backend = "remote → local" if getattr(reply, "notice", "") else getattr(reply, "backend", None)
        badge = format_badge(
            getattr(turn.parse, "intent", None),
            backend,
            turn.timings_ms,
            tokens_per_s=getattr(stats, "tokens_per_s", None) if reply.kind == "chat" else None,
            kind=reply.kind,
        )
        if getattr(reply, "cancelled", False):
            badge = (badge + " · stopped") if badge else "stopped"
        text = reply.text if reply.text else ("(stopped)" if getattr(reply, "cancelled", False) else "(no reply)")
        bubble = self.chat.finish_reply(text, badge)
        if bubble is not None and getattr(reply, "reason", ""):
            bubble.badge.setToolTip(f"ran {reply.backend}: {reply.reason}")
        if getattr(reply, "notice", ""):
            self.chat.add_system(reply.notice)
        total = turn.timings_ms.get("total")
        self._set_status("ready", f"Ready · last turn {total / 1000:.2f} s" if total else "Ready")
        if reply.kind == "done":  # a reminder set, an item cancelled, a note taken, an undo ...
            self.refresh_schedule()
            self.refresh_notes()
        self.turn_finished.emit(turn)

    def _on_ask_failed(self, message: str) -> None:
        self.chat.abandon_reply()
        if self._pending_user_bubble is not None:
            self._pending_user_bubble.set_text("(could not transcribe)")
            self._pending_user_bubble = None
        self.show_error(message)

    def _on_ask_done(self) -> None:
        if self.chat.streaming:  # stopped before the turn finished
            self.chat.finish_reply(None, "stopped")
        if self._pending_user_bubble is not None:
            self._pending_user_bubble.set_text("(stopped)")
            self._pending_user_bubble = None
        self._ask = None
        self.busy = False
        self._update_controls()
        if self.last_error is None and self.status_dot.property("state") == "busy":
            self._set_status(
                "ready" if self.engine_ready else "loading", "Ready" if self.engine_ready else "Loading models…"
            )

    def show_error(self, message: str) -> None:
        """Show an error in the conversation and the status bar (never a dialog)."""
        self.last_error = message
        self.chat.add_system(message)
        self._set_status("error", message)
        self.error_shown.emit(message)

    # ---- schedule, notes, undo (engine jobs; the views only show) ---------------------------------
    def _submit(self, worker: Any) -> bool:
        if self._closed:
            return False
        worker.failed.connect(self.show_error)
        self.engine.submit(worker)
        return True

    def refresh_schedule(self) -> None:
        """Re-read the upcoming items into the Schedule tab."""
        worker = ScheduleListWorker()
        worker.finished.connect(self._on_schedule_list)
        self._submit(worker)

    def _on_schedule_list(self, items: list, tz: Any) -> None:
        self._tz = tz
        self.schedule_view.set_items(items, tz)
        self.tabs.setTabText(1, f"Schedule ({len(items)})" if items else "Schedule")

    def refresh_notes(self) -> None:
        """Re-read the notes into the Notes tab."""
        worker = NotesListWorker()
        worker.finished.connect(self._on_notes_list)
        self._submit(worker)

    def _on_notes_list(self, notes: list, tz: Any) -> None:
        self.notes_view.set_notes(notes, tz)

    def cancel_item(self, item_id: int) -> None:
        """Cancel one scheduled item (the Schedule tab's Cancel button)."""
        worker = CancelItemWorker(item_id)
        worker.finished.connect(self._on_action_result)
        self._submit(worker)

    def delete_note(self, note_id: int) -> None:
        """Delete one note (undo brings it back)."""
        worker = NoteDeleteWorker(note_id)
        worker.finished.connect(lambda _id: self.refresh_notes())
        self._submit(worker)

    def export_notes(self, path: str) -> None:
        """Write all notes to ``path`` as Markdown."""
        worker = NotesExportWorker(path)
        worker.finished.connect(
            lambda count, where: self._set_status(
                "ready", f"Exported {count} note{'s' if count != 1 else ''} to {where}"
            )
        )
        self._submit(worker)

    def undo_last(self) -> None:
        """Reverse the last undoable action; the answer appears in the chat."""
        worker = UndoWorker()
        worker.finished.connect(self._on_action_result)
        self._submit(worker)

    def _on_action_result(self, result: Any) -> None:
        self.chat.add_message("assistant", result.text, result.intent.replace("_", " ") + " · " + result.kind)
        self._set_status("ready", result.summary or result.text)
        self.refresh_schedule()
        self.refresh_notes()
        self.action_done.emit(result)

    def _on_fired(self, firing: Any) -> None:
        """A reminder, timer, alarm or event fired (delivered on the GUI thread)."""
        self.last_fired = firing
        badge = f"{firing.item.kind} · {'missed' if firing.missed else 'now'}"
        self.chat.add_message("assistant", firing.message(self._tz), badge)
        if self.tray is not None:  # without a tray the engine used notify-send (see StartSchedulerWorker)
            self.tray.notify(firing.title(), firing.body(self._tz), urgent=firing.urgent)
        self.refresh_schedule()
        self.item_fired.emit(firing)

    def activate_adapter(self, name: str) -> None:
        """Swap the LoRA adapter ``name`` into the running NLU engine (Training tab: Activate, or a new adapter
        that validated at least as well as the current one)."""
        from jarvis_desktop.ui.training_tab.workers import ActivateAdapterWorker

        if self._closed:
            return
        worker = ActivateAdapterWorker(name)
        worker.finished.connect(self.training_tab.on_activated)
        worker.failed.connect(self.training_tab.on_activate_failed)
        self.engine.submit(worker)

    def _on_training_finished(self, title: str, body: str) -> None:
        if self.tray is not None:
            self.tray.notify(title, body)
        self._set_status(None, f"{title}: {body}")

    # ---- engine start-up -------------------------------------------------------------------------
    def _on_history(self, records: list) -> None:
        self.chat.load_history(records)

    def _on_ready(self) -> None:
        self.engine_ready = True
        if not self.busy:
            self._set_status("ready", "Ready")

    def _on_warm_failed(self, message: str) -> None:
        self.show_error(f"Could not load the models: {message}")

    # ---- microphone ------------------------------------------------------------------------------
    def _on_mic_start(self) -> None:
        if self.busy:
            self.mic_button.stop()
            self._set_status("busy", "Still answering — press Stop to interrupt.")
            return
        self.mic.begin()
        self._set_status(
            "busy", "Listening… release (or click) to send" if self.mic.is_open else "Opening the microphone…"
        )

    def _on_mic_stop(self) -> None:
        self.mic.end()
        self.level_meter.set_level(0.0)
        if not self.busy:
            self._set_status(
                "ready" if self.engine_ready else "loading", "Ready" if self.engine_ready else "Loading models…"
            )

    def _on_mic_opened(self) -> None:
        if self.mic_button.recording:
            self._set_status("busy", "Listening… release (or click) to send")

    def _on_hands_free(self, on: bool) -> None:
        self.mic.set_hands_free(on)
        self._set_status(
            "busy" if on else ("ready" if self.engine_ready else "loading"),
            "Hands-free: listening — just speak" if on else ("Ready" if self.engine_ready else "Loading models…"),
        )

    def _on_mic_failed(self, message: str) -> None:
        self.mic_button.stop()
        if self.hands_free_action.isChecked():
            self.hands_free_action.blockSignals(True)
            self.hands_free_action.setChecked(False)
            self.hands_free_action.blockSignals(False)
        self.show_error(f"Microphone: {message}")

    def _on_utterance(self, audio: Any) -> None:
        if audio is None or len(audio) == 0:
            return
        self.ask_audio(np.asarray(audio, dtype=np.float32))

    # ---- files: dialog and drag-and-drop ---------------------------------------------------------
    def _choose_audio_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open audio file", "", AUDIO_FILTER)
        if path:
            self.open_audio_file(path)

    @staticmethod
    def _local_file(event: Any) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 - Qt override
        if self._local_file(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.dragEnterEvent(event)

    def dropEvent(self, event) -> None:  # noqa: N802 - Qt override
        path = self._local_file(event)
        if path:
            event.acceptProposedAction()
            self.open_audio_file(path)
        else:
            event.ignore()

    # ---- small helpers ---------------------------------------------------------------------------
    def _on_send_clicked(self) -> None:
        if self.submit_text(self.prompt.text()):
            self.prompt.clear()

    def _update_controls(self) -> None:
        self.stop_button.setEnabled(self.busy)
        self.send_button.setEnabled(not self.busy)
        self.open_action.setEnabled(not self.busy)

    def _set_status(self, state: str | None, text: str) -> None:
        if state is not None:
            self.status_dot.setProperty("state", state)
            self.status_dot.style().unpolish(self.status_dot)
            self.status_dot.style().polish(self.status_dot)
        self.status_text.setText(text)

    def status_message(self) -> str:
        return self.status_text.text()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 - Qt override
        if self.tray is not None and not self._quitting:
            event.ignore()
            self.hide()
            if not self._told_about_tray:
                self._told_about_tray = True
                self.tray.showMessage("Jarvis", "Still running in the tray.", self.windowIcon(), 2000)
            return
        self.shutdown()
        event.accept()

    def shutdown(self) -> None:
        """Stop the engine thread and the microphone (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self.mic.close()
        self.training_tab.controller.close()  # running jobs checkpoint and show as interrupted (resumable)
        self.monitor_panel.stop()
        self.engine.shutdown()
        if self.tray is not None:
            self.tray.hide()
