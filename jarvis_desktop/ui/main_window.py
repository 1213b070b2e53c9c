"""The main window: conversation, understanding strip, input row, status bar.

Every engine call runs on the engine thread (:mod:`jarvis_desktop.ui.workers`); this module only reacts
to signals. Inputs: typed text (Enter or Send), the mic button (hold to talk / click to toggle), an audio
file (toolbar "Open audio file…", or drag-and-drop onto the window). Errors become a red system message in
the conversation and a status-bar note; the window never shows a blocking dialog except the file picker
the user asked for.

Tabs: Chat (conversation + understanding strip), Schedule (:mod:`.schedule_view`), Notes
(:mod:`.notes_view`), Training (:mod:`.training_tab`: background LoRA jobs; a finished adapter is swapped
into the engine by :meth:`MainWindow.activate_adapter`), Knowledge (:mod:`.knowledge_tab`: indexed folders, status,
search; the numbered sources under a grounded reply) and Monitor (:mod:`.monitor_panel`); the input row
stays below them. The engine's scheduler starts with the window; each fired reminder/timer/alarm/event
arrives through :class:`~jarvis_desktop.ui.action_workers.SchedulerBridge` and is shown in the chat and as a
tray notification. The Undo button (or "undo" typed or said) reverses the last action.

Test hooks (no Qt event needed): ``submit_text(text)``, ``open_audio_file(path)``, ``stop()``,
``undo_last()``, ``refresh_schedule()``, ``refresh_notes()``, ``cancel_item(id)``, ``delete_note(id)``,
``export_notes(path)``, ``apply_settings(settings)``, attributes ``engine_ready``, ``busy``, ``closed``,
``last_turn``, ``last_error``, ``last_fired``, ``chat``, ``strip``, ``schedule_view``, ``notes_view``,
``monitor_panel``, ``settings_action``, ``tabs``, ``hotkey_bridge``, ``hotkey_error``.

The global hotkey (``[voice] hotkey``, docs/hotkey.md) is push-to-talk through :mod:`.hotkey_bridge`: its press
does what pressing the mic button does (or, while a hands-free session runs, makes it listen now), its release what
releasing the button does. It is grabbed only when settings are passed in (the app does); a grab that fails shows
one status line.

When a turn may start, when the microphone may open and what happens to an utterance while Jarvis is still
answering is decided by :class:`~jarvis_desktop.voice.policy.VoiceTurnPolicy` (no Qt, unit-tested on its own);
this window only renders its decisions. The Monitor tab (:mod:`.monitor_panel`) and the Tools → Settings…
action (:mod:`.settings_dialog`) are built here too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from functools import partial
from pathlib import Path

import numpy as np
from PySide6.QtCore import QElapsedTimer, QSize, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QIcon,
    QKeySequence,
    QPixmap,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.actions.result import ActionResult
from jarvis_desktop.actions.scheduler import Firing
from jarvis_desktop.assistant import Assistant, Reply, Turn, citation_from_record
from jarvis_desktop.config import Settings, VoiceSettings
from jarvis_desktop.knowledge.answer import spoken_sources
from jarvis_desktop.knowledge.types import Citation
from jarvis_desktop.monitor.resource_monitor import shared_monitor
from jarvis_desktop.store.history import ChatMessageRecord
from jarvis_desktop.store.notes import Note
from jarvis_desktop.store.schedule import ScheduledItem
from jarvis_desktop.stt.transcript import Transcript
from jarvis_desktop.ui.about_dialog import AboutDialog
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
from jarvis_desktop.ui.chat_panel import ChatPanel, MessageBubble, format_badge
from jarvis_desktop.ui.control_server import ControlServer
from jarvis_desktop.ui.conversation_controller import ConversationController
from jarvis_desktop.ui.conversation_sidebar import ConversationSidebar
from jarvis_desktop.ui.hotkey_bridge import HotkeyBridge
from jarvis_desktop.ui.knowledge_tab import KnowledgeTab
from jarvis_desktop.ui.mic_button import LevelMeter, MicButton
from jarvis_desktop.ui.monitor_panel import MonitorPanel
from jarvis_desktop.ui.notes_view import NotesView
from jarvis_desktop.ui.reply_voice import ReplyVoice
from jarvis_desktop.ui.schedule_view import ScheduleView
from jarvis_desktop.ui.settings_dialog import ApplySettingsWorker, SettingsDialog
from jarvis_desktop.ui.training_tab import TrainingTab
from jarvis_desktop.ui.training_tab.workers import ActivateAdapterWorker
from jarvis_desktop.ui.tray import create_tray
from jarvis_desktop.ui.understanding_strip import UnderstandingStrip
from jarvis_desktop.ui.voice_worker import VoiceSource, VoiceWorker, state_status
from jarvis_desktop.ui.welcome_dialog import WelcomeDialog, welcome_seen
from jarvis_desktop.ui.workers import AskWorker, EngineThread, FollowUpWorker, MicController, WarmUpWorker, Worker
from jarvis_desktop.voice.events import (
    ActionEvent,
    ErrorEvent,
    ParseEvent,
    PartialEvent,
    ReplyEvent,
    TranscriptEvent,
)
from jarvis_desktop.voice.policy import TRANSCRIBING, Indicator, Status, TurnDecision, TurnVerdict, VoiceTurnPolicy
from jarvis_desktop.voice.sources import MicSource

VOICE_BADGE = "voice · hands-free"
"""The badge of a user bubble holding a hands-free command's transcript."""

AUDIO_FILTER = "Audio files (*.wav *.flac *.ogg *.mp3 *.m4a);;All files (*)"

KNOWLEDGE_START_DELAY_MS = 20_000
"""How long after the window opens the knowledge service starts (its indexer, and the embedding model loading in a
child process) unless the Knowledge tab is opened first; the voice path's models load before it (docs/knowledge.md)."""


def _window_assistant(factory: Callable[[], Assistant]) -> Assistant:
    """The Assistant ``factory`` builds (on the engine thread: its database and models live there), with its
    embedding model in a child process, so torch never enters the GUI process and loading the model never holds
    the engine thread (whatever the factory, so tests run the window as users do)."""
    assistant = factory()
    assistant.embed_in_child = True
    return assistant


class MainWindow(QMainWindow):
    """Jarvis's main window.

    Args:
        settings: passed to ``Assistant(settings)``; None reads ``settings.toml`` (on the engine thread).
        assistant_factory: builds the Assistant on the engine thread (default ``Assistant(settings)``).
        icon: window icon.
        use_tray: create a system-tray icon when the desktop has a tray.
        first_run: show the welcome tour (:mod:`.welcome_dialog`) when the window is first shown: None = if it
            was never closed on this data dir, False = never (tests, tray starts), True = always.
    """

    turn_finished = Signal(object)  # the engine's Turn
    item_fired = Signal(object)  # a scheduler Firing, after it was shown
    action_done = Signal(object)  # the ActionResult of a cancel / undo / note delete from the views
    token_received = Signal(str)  # each streamed piece of a reply, as shown
    voice_reply = Signal(object)  # a hands-free command's ReplyEvent, after it was shown
    error_shown = Signal(str)

    def __init__(
        self,
        settings: Settings | None = None,
        assistant_factory: Callable[[], Assistant] | None = None,
        icon: QIcon | None = None,
        use_tray: bool = True,
        first_run: bool | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("Jarvis")
        self.setObjectName("mainWindow")
        self.resize(880, 700)
        self.setMinimumSize(QSize(520, 460))
        self.setAcceptDrops(True)
        if icon is not None:
            self.setWindowIcon(icon)

        self.voice = VoiceTurnPolicy()  # busy / hands-free decisions; this window renders them
        self.last_turn: Turn | None = None
        self.last_error: str | None = None
        self.last_fired: Firing | None = None
        self._tz: tzinfo | None = None
        self._ask: AskWorker | None = None
        self._pending_user_bubble: MessageBubble | None = None
        self._turn_user_bubble: MessageBubble | None = None  # the bubble of the message being answered
        self._editing: int | None = None  # the id of your message being edited (Edit), until sent or Esc
        self._stage = ""  # what the engine does now ("Thinking…"), shown with the seconds it has taken
        self._turn_clock = QElapsedTimer()
        self._stage_timer = QTimer(self)
        self._stage_timer.setInterval(1000)
        self._stage_timer.timeout.connect(self._tick_stage)
        self._quitting = False
        self._told_about_tray = False
        self._welcome_pending = (not welcome_seen()) if first_run is None else first_run
        self.welcome: WelcomeDialog | None = None  # the tour, once opened (Help → Welcome tour…)

        self._build_ui()
        self._build_actions()

        self.engine = EngineThread(partial(_window_assistant, assistant_factory or partial(Assistant, settings)), self)
        self.conversations = ConversationController(self.sidebar, self.chat, self.engine.submit, self.show_error, self)
        self.conversations.exported.connect(lambda path: self._set_status(None, f"Chat exported to {path}"))
        self.conversations.switched.connect(self._on_conversation_switched)
        self.chat.edit_requested.connect(self._on_edit_requested)
        self.chat.regenerate_requested.connect(self.regenerate)
        self.chat.continue_requested.connect(self.continue_reply)
        self.chat.sources_hook = self._show_stored_sources  # a reloaded grounded answer lists its sources again
        self.chat.confirm_answered.connect(self.answer_confirmation)
        self.mic = MicController(settings.audio if settings is not None else None, self)
        self.mic.utterance.connect(self._on_utterance)
        self.mic.level.connect(self.level_meter.set_level)
        self.mic.failed.connect(self._on_mic_failed)
        self.mic.opened.connect(self._on_mic_opened)

        self.reply_voice = ReplyVoice(settings.speech if settings is not None else None)  # ui/reply_voice.py
        self.chat.replay_enabled = self.reply_voice.speaker is not None
        self.chat.replay_requested.connect(self.reply_voice.replay)
        self.tray = create_tray(self, icon or self.windowIcon()) if use_tray else None
        self.voice_worker: VoiceWorker | None = None  # the hands-free VoiceSession, while one runs
        self.last_voice_parse: ParseEvent | None = None  # the last hands-free command's meaning
        self.last_voice_reply: ReplyEvent | None = None
        self._settings = settings
        self._wake_word: bool | None = None  # the tray's choice, once made (None: [voice] wake_word)
        self._voice_error = False  # the running session showed an error: its status line stays
        if self.tray is not None:
            self.tray.wake_word_changed.connect(self._on_wake_word_changed)
            self.tray.wake_word_failed.connect(self.show_error)
        self.hotkey_bridge: HotkeyBridge | None = None  # the global push-to-talk hotkey, when one is set up
        self.hotkey_error: str | None = None  # its status line when the grab failed
        self._hotkey_ptt = False  # the held hotkey started push-to-talk (not the hands-free session's listen_now)
        self._start_hotkey(settings.voice.hotkey if settings is not None else "")
        self.control = ControlServer(self)  # `jarvis-desktop listen --toggle` (voice/control.py)
        self.control.command.connect(self._on_control)
        self.control.start()

        # the scheduler first: reminders missed while Jarvis was closed fire before the models load
        self.scheduler_bridge = SchedulerBridge(self)
        # blocking: the scheduler marks an item fired only once _on_fired has shown it (at-least-once, issue 14)
        self.scheduler_bridge.fired.connect(self._on_fired, Qt.ConnectionType.BlockingQueuedConnection)
        scheduler = StartSchedulerWorker(self.scheduler_bridge, desktop_notify=self.tray is None)
        scheduler.failed.connect(self._on_scheduler_failed)
        self.engine.submit(scheduler)
        self.refresh_schedule()
        self.refresh_notes()
        self.monitor_panel = self._build_monitor_tab(settings)  # docs/offload.md

        self._show(self.voice.idle_status())
        self.conversations.refresh()  # the sidebar fills before the models load
        warm = WarmUpWorker()
        warm.history.connect(self._on_history)
        warm.ready.connect(self._on_ready)
        warm.failed.connect(self._on_warm_failed)
        self.engine.submit(warm)
        # the knowledge service (background indexer, embedding model in its child process) starts a while after
        # the voice path's models, or at once when the Knowledge tab is opened: on 2 cores loading torch beside
        # Whisper and the chat model would slow the first command by seconds
        self.knowledge_tab.attach(self, start=False)  # a cited source opens in the window at once
        self._knowledge_attached = False
        self._knowledge_timer = QTimer(self)
        self._knowledge_timer.setSingleShot(True)
        self._knowledge_timer.timeout.connect(self._attach_knowledge)
        self._knowledge_timer.start(KNOWLEDGE_START_DELAY_MS)
        self.tabs.currentChanged.connect(self._on_tab_changed)

    def _attach_knowledge(self) -> None:
        """Start the knowledge service once (the timer, or the Knowledge tab opened first); not after shutdown."""
        if self._knowledge_attached or self.voice.closed:
            return
        self._knowledge_attached = True
        self.knowledge_tab.start_service()

    def _on_tab_changed(self, index: int) -> None:
        if self.tabs.widget(index) is self.knowledge_tab:
            self._attach_knowledge()

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
        self.sidebar = ConversationSidebar()
        self.chat_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.chat_splitter.setObjectName("chatSplitter")
        self.chat_splitter.addWidget(self.sidebar)
        self.chat_splitter.addWidget(chat_page)
        self.chat_splitter.setStretchFactor(1, 1)
        self.chat_splitter.setSizes([190, 690])
        self.tabs.addTab(self.chat_splitter, "Chat")
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
        self.knowledge_tab = KnowledgeTab()  # folders, index status, search (ui/knowledge_tab; docs/knowledge.md)
        self.tabs.addTab(self.knowledge_tab, "Knowledge")
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
            'Listen on the microphone: say "hey Jarvis" and a command (or just the command with the wake word off)'
        )
        self.hands_free_action.toggled.connect(self._on_hands_free)
        self.settings_action = QAction("Settings…", self)
        self.settings_action.setToolTip("Remote endpoint, API key, placement and memory thresholds")
        self.settings_action.triggered.connect(self._open_settings)
        self.new_chat_action = QAction("New chat", self)
        self.new_chat_action.setShortcut(QKeySequence.StandardKey.New)
        self.new_chat_action.triggered.connect(self.new_chat)
        self.quit_action = QAction("Quit", self)
        self.quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        self.quit_action.triggered.connect(self.quit_app)
        for action in (self.stop_action, self.listen_action, self.quit_action, self.new_chat_action):
            self.addAction(action)

        menu = self.menuBar().addMenu("&File")
        menu.addAction(self.open_action)
        menu.addSeparator()
        menu.addAction(self.quit_action)
        conv = self.menuBar().addMenu("&Conversation")
        conv.addAction(self.new_chat_action)
        conv.addAction(self.listen_action)
        conv.addAction(self.hands_free_action)
        conv.addAction(self.stop_action)
        self.menuBar().addMenu("&Tools").addAction(self.settings_action)
        help_menu = self.menuBar().addMenu("&Help")
        self.welcome_action = help_menu.addAction("Welcome tour…", self.open_welcome)
        self.about_action = help_menu.addAction("About Jarvis Desktop", self.open_about)

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
        toolbar.addAction(self.settings_action)
        self.addToolBar(toolbar)
        self.toolbar = toolbar

    def _build_monitor_tab(self, settings: Settings | None) -> MonitorPanel:
        """The Monitor tab over the process-wide resource monitor, which starts sampling (its own thread)."""
        monitor = shared_monitor(settings)
        panel = MonitorPanel(monitor, int(monitor.interval_s * 1000))
        self.tabs.addTab(panel, "Monitor")
        monitor.start()
        return panel

    # ---- public actions --------------------------------------------------------------------------
    def submit_text(self, text: str) -> bool:
        """Ask a typed question; returns False (and says why) if it cannot be sent now."""
        text = (text or "").strip()
        if not text:
            self._set_status(None, "Type a question first.")
            return False
        if not self._allowed(self.voice.request_turn("Thinking…")):
            return False
        editing, self._editing = self._editing, None
        if editing is not None:
            self.chat.remove_from(editing)
            self._turn_user_bubble = self.chat.add_message("user", text)
            self._start_ask(FollowUpWorker("edit", message_id=editing, text=text))
            return True
        self._turn_user_bubble = self.chat.add_message("user", text)
        self._start_ask(AskWorker(text=text))
        return True

    def new_chat(self) -> None:
        """Start a new conversation (Ctrl+N, the sidebar's New chat); refused while a reply streams."""
        if self.busy:
            self._set_status(None, "Wait for the reply (or press Stop) before starting a new chat.")
            return
        self.conversations.new_conversation()

    def regenerate(self) -> bool:
        """Answer the last question again (the last answer's Regenerate button)."""
        if not self._allowed(self.voice.request_turn("Thinking…")):
            return False
        self.chat.remove_last_reply()
        self._start_ask(FollowUpWorker("regenerate"))
        return True

    def continue_reply(self) -> bool:
        """Go on with an answer cut at the length cap (its Continue button); the text streams into it."""
        if not self._allowed(self.voice.request_turn("Thinking…")):
            return False
        self.chat.resume_reply()
        self._start_ask(FollowUpWorker("continue"))
        return True

    def answer_confirmation(self, yes: bool) -> bool:
        """Answer "Set a reminder ...? Yes / No, just answer" (its buttons): yes carries the action out, no
        answers the request as chat."""
        if not self._allowed(self.voice.request_turn("Thinking…")):
            return False
        self._turn_user_bubble = self.chat.add_message("user", "Yes" if yes else "No, just answer")
        self._start_ask(FollowUpWorker("confirm", yes=yes))
        return True

    def _on_edit_requested(self, message_id: int, text: str) -> None:
        """Edit on one of your messages: its text goes to the input; sending it replaces it and what followed."""
        self._editing = message_id
        self.prompt.setText(text)
        self.prompt.setFocus()
        self._set_status(None, "Editing your message: Enter sends it again (the answers after it are replaced).")

    def _on_conversation_switched(self) -> None:
        self._editing = None
        self.strip.clear()

    def open_audio_file(self, path: str | Path) -> bool:
        """Run a recording through the voice pipeline (STT, understanding, reply)."""
        path = Path(path)
        if not self._allowed(self.voice.request_turn(f"Transcribing {path.name}…")):
            return False
        self._pending_user_bubble = self.chat.add_message("user", "Transcribing…", f"voice · {path.name}")
        self._turn_user_bubble = self._pending_user_bubble
        self._start_ask(AskWorker(audio=path))
        return True

    def ask_audio(self, audio: np.ndarray) -> bool:
        """Run a microphone utterance (float32 mono 16 kHz) through the voice pipeline."""
        return self._ask_utterance(audio, self.voice.request_turn(TRANSCRIBING))

    def _ask_utterance(self, audio: np.ndarray, decision: TurnDecision) -> bool:
        if not self._allowed(decision):
            return False
        self._pending_user_bubble = self.chat.add_message("user", "Transcribing…", "voice · microphone")
        self._turn_user_bubble = self._pending_user_bubble
        self._start_ask(AskWorker(audio=audio))
        return True

    def stop(self) -> None:
        """Stop the streaming reply (the engine stops at the next token); Esc also cancels an edit."""
        if self._editing is not None and self._ask is None:
            self._editing = None
            self.prompt.clear()
            self._set_status(None, "Edit cancelled.")
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

    @property
    def busy(self) -> bool:
        """True while a turn runs (typed, file or microphone)."""
        return self.voice.answering

    @property
    def engine_ready(self) -> bool:
        """True once the models are loaded."""
        return self.voice.engine_ready

    @property
    def closed(self) -> bool:
        """True once :meth:`shutdown` ran."""
        return self.voice.closed

    # ---- turn lifecycle --------------------------------------------------------------------------
    def _allowed(self, decision: TurnDecision) -> bool:
        """Show the policy's status for a turn request; True if the turn starts."""
        self._show(decision.status)
        return decision.start

    def _start_ask(self, worker: AskWorker) -> None:
        """Run an allowed turn (the policy is already ANSWERING and its status shown)."""
        self._ask = worker
        self.last_error = None
        self.strip.clear("understanding…")
        self.chat.refresh_actions(busy=True)
        self._stage = self.status_message() or "Thinking…"
        self._turn_clock.start()
        self._stage_timer.start()
        worker.transcribed.connect(self._on_transcribed)
        worker.token.connect(self._on_token)
        worker.parsed.connect(self._on_parsed)
        worker.stage.connect(self._on_stage)
        worker.finished.connect(self._on_turn)
        worker.failed.connect(self._on_ask_failed)
        worker.done.connect(self._on_ask_done)
        self._update_controls()
        self.reply_voice.begin_turn()
        self.engine.submit(worker)

    def _on_transcribed(self, transcript: Transcript) -> None:
        text = transcript.text.strip()
        if self._pending_user_bubble is not None:
            self._pending_user_bubble.set_text(text)
            self._pending_user_bubble = None
        self.strip.show_transcript(text)
        self._set_status("busy", "Thinking…")

    def _on_parsed(self, intent: str) -> None:
        if intent == "general_chat":
            self.reply_voice.chat_started()

    def _on_stage(self, text: str) -> None:
        self._stage = text
        self._set_status("busy", text)

    def _tick_stage(self) -> None:
        """Once a second while a turn waits for its first token: the stage and the seconds it has taken."""
        seconds = self._turn_clock.elapsed() // 1000
        if self._ask is None or self.chat.streaming:
            self._stage_timer.stop()
        elif seconds >= 2:
            self._set_status("busy", f"{self._stage} {seconds} s")

    def _on_token(self, piece: str) -> None:
        if not self.chat.streaming:
            self.chat.begin_reply()
            self._stage_timer.stop()
            self._set_status("busy", "Answering…")
        self.chat.append_token(piece)
        self.reply_voice.token(piece)
        self.token_received.emit(piece)

    def _on_turn(self, turn: Turn) -> None:
        self.last_turn = turn
        transcript = turn.transcript.text if turn.transcript is not None else None
        if turn.transcript is not None:
            self._on_transcribed(turn.transcript)
        self.strip.show_parse(
            turn.parse, transcript=transcript.strip() if transcript else None, typed=transcript is None
        )
        reply = turn.reply
        bubble = self.chat.finish_reply(self._reply_text(reply), self._reply_badge(turn))
        if bubble is not None:
            bubble.set_record(reply.message_id, reply.kind, reply.cut_off)
            self.show_sources(bubble, reply.citations)  # a grounded answer's numbered sources
        if self._turn_user_bubble is not None and turn.message_id is not None:
            self._turn_user_bubble.set_record(turn.message_id, "")
        if bubble is not None and reply.reason:
            bubble.badge.setToolTip(f"ran {reply.backend}: {reply.reason}")
        if reply.notice:
            self.chat.add_system(reply.notice)
        total = turn.timings_ms.get("total")
        self._set_status("ready", f"Ready · last turn {total / 1000:.2f} s" if total else "Ready")
        if reply.kind == "done":  # a reminder set, an item cancelled, a note taken, an undo ...
            self.refresh_schedule()
            self.refresh_notes()
        self.turn_finished.emit(turn)

    def show_sources(self, bubble: MessageBubble, citations: Sequence[Citation]) -> QWidget | None:
        """List a grounded reply's numbered sources under its bubble (the Knowledge tab's list: a click opens the
        source), replacing a list it had (a continued answer); returns the list, None without citations."""
        for old in bubble.findChildren(QWidget, "replySources", Qt.FindChildOption.FindDirectChildrenOnly):
            old.hide()
            old.setParent(None)
            old.deleteLater()
        sentence = spoken_sources(citations)
        bubble.sources_sentence = sentence if sentence and bubble.text().endswith(sentence) else ""
        return self.knowledge_tab.show_sources(bubble, citations)

    def _show_stored_sources(self, bubble: MessageBubble, record: ChatMessageRecord) -> None:
        """The stored sources of a reloaded answer (after a restart or a switch of conversation), listed again."""
        sentence = bubble.sources_sentence  # as stored: the labels of a reloaded citation may read differently
        self.show_sources(bubble, [citation_from_record(c) for c in record.citations])
        bubble.sources_sentence = sentence or bubble.sources_sentence

    @staticmethod
    def _reply_text(reply: Reply) -> str:
        """The reply bubble's text ("(stopped)" / "(no reply)" when nothing arrived)."""
        if reply.text:
            return reply.text
        return "(stopped)" if reply.cancelled else "(no reply)"

    @staticmethod
    def _reply_badge(turn: Turn) -> str:
        """The reply bubble's badge: intent, where it ran, timings, speed; "stopped" when cancelled."""
        reply = turn.reply
        stats = reply.stats if reply.kind == "chat" else None
        badge = format_badge(
            turn.parse.intent,
            "remote → local" if reply.notice else reply.backend,
            turn.timings_ms,
            tokens_per_s=stats.tokens_per_s if stats is not None else None,
            kind=reply.kind,
        )
        if reply.cancelled:
            badge = (badge + " · stopped") if badge else "stopped"
        if reply.cut_off:
            badge += " · cut off at the length limit"
        return badge

    def _on_ask_failed(self, message: str) -> None:
        self.reply_voice.failed(message)
        self.strip.clear()
        self.chat.abandon_reply()
        if self._pending_user_bubble is not None:
            self._pending_user_bubble.set_text("(could not transcribe)")
            self._pending_user_bubble = None
        self.show_error(message)

    def _on_ask_done(self) -> None:
        self.reply_voice.end_turn()
        if self.chat.streaming:  # stopped before the turn finished
            self.chat.finish_reply(None, "stopped")
        if self._pending_user_bubble is not None:
            self._pending_user_bubble.set_text("(stopped)")
            self._pending_user_bubble = None
        self._ask = None
        self._turn_user_bubble = None
        self._stage_timer.stop()
        self._show(self.voice.turn_done(self.last_error is not None, self._indicator()))
        self._update_controls()
        self.chat.refresh_actions()
        self.conversations.refresh()  # a first message names its chat; the chat moves to the top

    def _on_scheduler_failed(self, message: str) -> None:
        """The scheduler did not start: say that reminders, timers and alarms will not fire, and why."""
        self.show_error(f"Reminders, timers and alarms will not fire: {message}")

    def show_error(self, message: str) -> None:
        """Show an error in the conversation and the status bar (never a dialog)."""
        self.last_error = message
        self.chat.add_system(message)
        self._set_status("error", message)
        self.error_shown.emit(message)

    # ---- schedule, notes, undo (engine jobs; the views only show) ---------------------------------
    def _submit(self, worker: Worker) -> bool:
        if self.closed:
            return False
        worker.failed.connect(self.show_error)
        self.engine.submit(worker)
        return True

    def refresh_schedule(self) -> None:
        """Re-read the upcoming items into the Schedule tab."""
        worker = ScheduleListWorker()
        worker.finished.connect(self._on_schedule_list)
        self._submit(worker)

    def _on_schedule_list(self, items: list[ScheduledItem], tz: tzinfo | None) -> None:
        self._tz = tz
        self.schedule_view.set_items(items, tz)
        self.tabs.setTabText(1, f"Schedule ({len(items)})" if items else "Schedule")

    def refresh_notes(self) -> None:
        """Re-read the notes into the Notes tab."""
        worker = NotesListWorker()
        worker.finished.connect(self._on_notes_list)
        self._submit(worker)

    def _on_notes_list(self, notes: list[Note], tz: tzinfo | None) -> None:
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

    def _on_action_result(self, result: ActionResult) -> None:
        self.chat.add_message("assistant", result.text, result.intent.replace("_", " ") + " · " + result.kind)
        self._set_status("ready", result.summary or result.text)
        self.refresh_schedule()
        self.refresh_notes()
        self.action_done.emit(result)

    def _on_fired(self, firing: Firing) -> None:
        """A reminder, timer, alarm or event fired (delivered on the GUI thread)."""
        self.last_fired = firing
        badge = f"{firing.item.kind} · {'missed' if firing.missed else 'now'}"
        self.chat.add_message("assistant", firing.message(self._tz), badge)
        self.reply_voice.say(firing.message(self._tz))
        if self.tray is not None:  # without a tray the engine used notify-send (see StartSchedulerWorker)
            self.tray.notify(firing.title(), firing.body(self._tz), urgent=firing.urgent)
        self.refresh_schedule()
        self.item_fired.emit(firing)

    def activate_adapter(self, name: str) -> None:
        """Swap the LoRA adapter ``name`` into the running NLU engine (Training tab: Activate, or a new adapter
        that validated at least as well as the current one)."""
        if self.closed:
            return
        worker = ActivateAdapterWorker(name)
        worker.finished.connect(self.training_tab.on_activated)
        worker.failed.connect(self.training_tab.on_activate_failed)
        self.engine.submit(worker)

    def apply_settings(self, settings: Settings) -> None:
        """Apply saved settings without a restart: the engine thread takes them (a new chat model is swapped in
        and loaded, a new speech model at its next use: :meth:`Assistant.apply_settings`); a new microphone opens
        at the next push-to-talk; a new hotkey is grabbed; new [speech] settings replace the reply voice. A running
        hands-free session keeps its microphone and wake settings until it is turned off and on again."""
        if not self.closed:
            old = self._settings
            self._settings = settings
            worker = ApplySettingsWorker(settings)
            worker.applied.connect(self._on_settings_applied)
            worker.failed.connect(self.show_error)
            if "chat model" in self._swaps(old, settings):
                self._set_status("busy", "Loading the new chat model…")
            self.engine.submit(worker)
            self.mic.reconfigure(settings.audio)
            if old is None or old.voice.hotkey != settings.voice.hotkey:
                if self.hotkey_bridge is not None:
                    self.hotkey_bridge.stop()
                    self.hotkey_bridge = None
                self._start_hotkey(settings.voice.hotkey)
            self.reply_voice.apply(settings.speech)
            if self.tray is not None:
                self.tray.speak_action.blockSignals(True)
                self.tray.speak_action.setChecked(self.reply_voice.enabled)
                self.tray.speak_action.blockSignals(False)

    @staticmethod
    def _swaps(old: Settings | None, new: Settings) -> list[str]:
        """What the engine will reload for ``new`` (for the status line while it does)."""
        if old is None:
            return []
        changed = (old.chat.model_path, old.chat.model_id) != (new.chat.model_path, new.chat.model_id)
        return ["chat model"] if changed else []

    def _on_settings_applied(self, swapped: list[str]) -> None:
        text = "Settings applied" + (f": {' and '.join(swapped)} switched" if swapped else "")
        self._set_status("ready" if not self.busy else None, text + ".")

    def _open_settings(self) -> None:
        dialog = SettingsDialog(self)
        dialog.saved.connect(self.apply_settings)
        dialog.open()

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if self._welcome_pending:  # the first time the window appears (never for a start hidden in the tray)
            self._welcome_pending = False
            QTimer.singleShot(0, self.open_welcome)

    def open_welcome(self) -> WelcomeDialog:
        """Show the welcome tour, non-modal (the window stays usable); an open one is raised."""
        if self.welcome is None or not self.welcome.isVisible():
            self.welcome = WelcomeDialog(self._settings, self)
            self.welcome.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            self.welcome.destroyed.connect(lambda: setattr(self, "welcome", None))
            self.welcome.show()
        self.welcome.raise_()
        self.welcome.activateWindow()
        return self.welcome

    def open_about(self) -> AboutDialog:
        """Show Help → About (versions, model licences, data folders)."""
        dialog = AboutDialog(self._settings, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()
        return dialog

    def _on_training_finished(self, title: str, body: str) -> None:
        if self.tray is not None:
            self.tray.notify(title, body)
        self._set_status(None, f"{title}: {body}")

    # ---- engine start-up -------------------------------------------------------------------------
    def _on_history(self, records: list) -> None:
        self.chat.load_history(records)

    def _on_ready(self) -> None:
        self._show(self.voice.models_ready())
        if self.hotkey_error is not None and not self.busy:  # "Ready" must not hide why the hotkey is missing
            self._set_status(None, self.hotkey_error)

    def _on_warm_failed(self, message: str) -> None:
        self.show_error(f"Could not load the models: {message}")

    # ---- microphone ------------------------------------------------------------------------------
    def _on_mic_start(self) -> None:
        self.reply_voice.interrupt()  # push-to-talk (button or hotkey) cuts a spoken reply short
        decision = self.voice.mic_pressed(self.mic.is_open)
        if decision.open_mic:
            self.mic.begin()
        else:
            self.mic_button.stop()
        self._show(decision.status)

    def _on_mic_stop(self) -> None:
        self.mic.end()
        self.level_meter.set_level(0.0)
        self._show(self.voice.mic_released())

    def _on_mic_opened(self) -> None:
        self._show(self.voice.mic_opened())

    def _on_hands_free(self, on: bool) -> None:
        """The Hands-free toggle: a VoiceSession on the microphone (``[audio]`` device, ``[voice]`` settings, the
        tray's wake-word choice), or stop it. Returns at once; the models load on the engine thread."""
        if self.closed:
            return
        if on:
            self._start_hands_free()
        elif self.voice_worker is not None:
            self.stop_voice_session()
            self._set_status(None, "Hands-free: stopping…")

    def _start_hands_free(self) -> None:
        source = MicSource(self._settings.audio) if self._settings is not None else None
        voice = self._settings.voice if self._settings is not None else None
        self.start_voice_session(source, voice, wake_word=self._wake_word)
        self._set_status("busy", "Hands-free: loading the listening models…")

    # ---- the voice session (ui/voice_worker.py) ------------------------------------------------------
    def start_voice_session(
        self,
        source: VoiceSource | None,
        settings: VoiceSettings | None = None,
        now: datetime | None = None,
        dry_run: bool = False,
        wake_word: bool | None = None,
    ) -> VoiceWorker:
        """Run a VoiceSession on the engine's Assistant fed by ``source`` (``None``: the microphone of the
        Assistant's ``[audio]`` settings); the status bar shows its state, its transcript / parse / reply events
        render like a turn (user bubble marked "voice", the strip's chips, the reply bubble). ``wake_word``
        overrides ``settings.wake_word`` when not None. A session already running is stopped first. Returns the
        worker (its signals carry the events)."""
        self.stop_voice_session()
        speaker = self.reply_voice.speaker if self.reply_voice.active else None
        worker = VoiceWorker(
            self.engine, source, settings, now=now, dry_run=dry_run, parent=self, wake_word=wake_word, speaker=speaker
        )
        worker.state.connect(self._on_voice_state)
        worker.voice_event.connect(self._on_voice_event)
        worker.failed.connect(self._on_voice_failed)
        worker.stopped.connect(self._on_voice_stopped)
        self.voice_worker = worker
        self._voice_error = False
        self._set_hands_free_checked(True)
        worker.start()
        return worker

    def set_speak_replies(self, on: bool) -> None:
        """Mute or unmute spoken replies now: typed turns, reminders and a running hands-free session alike."""
        self.reply_voice.set_enabled(on)
        session = self.voice_worker.session if self.voice_worker is not None else None
        if session is not None:
            session.speaker = self.reply_voice.speaker if self.reply_voice.active else None

    def listen_now(self) -> bool:
        """The tray's "Listen now" while a hands-free session runs: the session hears a command without the wake
        word. False (nothing done) when no session is listening; the caller then uses push-to-talk."""
        return self.voice_worker is not None and self.voice_worker.listen_now()

    def stop_voice_session(self) -> None:
        """Ask the running session to stop (returns at once; the status bar says so when it has)."""
        if self.voice_worker is not None:
            self.voice_worker.stop()

    def _on_voice_state(self, value: str) -> None:
        if self.sender() is self.voice_worker:
            self._show(state_status(value))
            if self.tray is not None:
                self.tray.show_state(value)

    def _on_voice_event(self, event: object) -> None:
        """Render a session event like a turn: transcript -> user bubble + HEARD, parse -> chips, reply -> bubble."""
        if self.sender() is not self.voice_worker:
            return
        if isinstance(event, PartialEvent):
            self.strip.show_partial(event.text_stable, event.text_unstable)
        elif isinstance(event, TranscriptEvent):
            self._on_voice_transcript(event)
        elif isinstance(event, ParseEvent):
            self.last_voice_parse = event
            self.strip.show_parse(
                {
                    "intent": event.intent,
                    "date_keys": list(event.date_keys),
                    "when": event.when,
                    "payload": event.payload,
                    "confidence": event.confidence,
                }
            )
        elif isinstance(event, ActionEvent):
            if event.result == "done":  # a reminder set, a note taken ...
                self.refresh_schedule()
                self.refresh_notes()
        elif isinstance(event, ReplyEvent):
            self._on_voice_reply(event)
        elif isinstance(event, ErrorEvent):  # the session keeps listening
            self.show_error(f"Hands-free ({event.stage}): {event.message}")

    def _on_voice_transcript(self, event: TranscriptEvent) -> None:
        text = event.text.strip()
        if text:
            self.chat.add_message("user", text, VOICE_BADGE)
            self.strip.show_transcript(text)

    def _on_voice_reply(self, event: ReplyEvent) -> None:
        parse = self.last_voice_parse
        timings = {"nlu": parse.nlu_ms, "total": event.latency_ms} if parse is not None else {}
        badge = format_badge(parse.intent if parse is not None else None, None, timings, kind=event.reply_kind)
        badge = f"{badge} · voice" if badge else "voice"
        bubble = self.chat.add_message("assistant", event.text or "(no reply)", badge)
        self.show_sources(bubble, event.citations)  # a spoken grounded answer lists its sources like a typed one
        self.last_voice_reply = event
        self.voice_reply.emit(event)

    def _on_voice_failed(self, message: str) -> None:
        """The session could not start (no microphone, a missing wake-word package) or its source failed: one
        error line, and the toggle goes off."""
        if self.sender() is not self.voice_worker:
            return
        self._voice_error = True
        self.stop_voice_session()
        self._set_hands_free_checked(False)
        self.show_error(f"Hands-free: {message}")

    def _on_voice_stopped(self) -> None:
        if self.sender() is self.voice_worker:
            self.voice_worker = None
            self._set_hands_free_checked(False)
            if self.tray is not None:
                self.tray.show_state("")
            if not self._voice_error:
                self._set_status(None, "Hands-free session ended")

    def _set_hands_free_checked(self, on: bool) -> None:
        """Show the toggle's state without starting or stopping anything."""
        self.hands_free_action.blockSignals(True)
        self.hands_free_action.setChecked(on)
        self.hands_free_action.blockSignals(False)

    # ---- the global hotkey (ui/hotkey_bridge.py) -----------------------------------------------------
    def _start_hotkey(self, combo: str) -> None:
        """Grab ``combo`` (``[voice] hotkey``; "" = none) in the background; press/release arrive queued."""
        if not combo.strip():
            return
        bridge = HotkeyBridge(combo.strip(), parent=self)
        bridge.pressed.connect(self._on_hotkey_pressed, Qt.ConnectionType.QueuedConnection)
        bridge.released.connect(self._on_hotkey_released, Qt.ConnectionType.QueuedConnection)
        bridge.unavailable.connect(self._on_hotkey_unavailable, Qt.ConnectionType.QueuedConnection)
        self.hotkey_bridge = bridge
        bridge.start()

    def _on_hotkey_pressed(self) -> None:
        """The hotkey went down: a running hands-free session listens now, else the mic button's press."""
        if self.closed or self.listen_now():
            return
        self._hotkey_ptt = True
        self.mic_button.start()

    def _on_hotkey_released(self) -> None:
        """The hotkey went up: the mic button's release ends the push-to-talk utterance it began."""
        started, self._hotkey_ptt = self._hotkey_ptt, False
        if started and not self.closed:
            self.mic_button.stop()

    def _on_control(self, command: str) -> None:
        """A command from the control socket (``jarvis-desktop listen --toggle`` bound to a desktop shortcut)."""
        if self.closed:
            return
        if command == "show":
            self.raise_window()
        elif self.listen_now():  # a hands-free session hears a command now
            return
        elif command == "listen-toggle":
            self.mic_button.toggle_recording()
        elif command == "listen-now" and not self.mic_button.recording:
            self.mic_button.start()

    def raise_window(self) -> None:
        """Bring the window to the front: shown if hidden in the tray, un-minimized (a maximized window stays
        maximized), raised and activated (a second ``jarvis-desktop`` launch sends ``show``)."""
        if self.isMinimized():
            self.setWindowState(self.windowState() & ~Qt.WindowState.WindowMinimized)
        self.show()
        self.raise_()
        self.activateWindow()

    def _on_hotkey_unavailable(self, message: str) -> None:
        self.hotkey_error = message
        if not self.closed:
            self._set_status(None, message)

    def _on_wake_word_changed(self, on: bool) -> None:
        self._wake_word = on
        state = "on" if on else "off"
        if self.voice_worker is not None and self.hands_free_action.isChecked() and not self.closed:
            self._start_hands_free()  # a running hands-free session restarts with the new choice
            self._set_status("busy", f"Wake word {state}: restarting hands-free…")
        else:
            self._set_status(None, f"Wake word {state}")

    def _on_mic_failed(self, message: str) -> None:
        self.voice.mic_failed()  # push-to-talk only: hands-free has its own microphone (VoiceWorker)
        self.mic_button.stop()
        self.show_error(f"Microphone: {message}")

    def _on_utterance(self, audio: np.ndarray | None) -> None:
        """A push-to-talk utterance from the microphone (the mic button released): asked, or dropped while
        answering (never queued), as the policy decides."""
        samples = np.asarray(audio if audio is not None else (), dtype=np.float32)
        decision = self.voice.utterance_arrived(len(samples))
        if decision.verdict is not TurnVerdict.EMPTY:
            self._ask_utterance(samples, decision)

    # ---- files: dialog and drag-and-drop ---------------------------------------------------------
    def _choose_audio_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open audio file", "", AUDIO_FILTER)
        if path:
            self.open_audio_file(path)

    @staticmethod
    def _local_file(event: QDropEvent) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        self._accept_audio_drag(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        self._accept_audio_drag(event)

    def _accept_audio_drag(self, event: QDragMoveEvent) -> None:
        """Accept a drag that carries a local file (QDragEnterEvent is a QDragMoveEvent)."""
        if self._local_file(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
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
        self.conversations.set_enabled(not self.busy)
        self.new_chat_action.setEnabled(not self.busy)

    def _show(self, status: Status | None) -> None:
        """Render a policy status (None: leave the status bar as it is)."""
        if status is not None:
            self._set_status(status.indicator.value if status.indicator is not None else None, status.text)

    def _indicator(self) -> Indicator | None:
        """The status dot's current state as an :class:`Indicator` (None before the first status)."""
        state = self.status_dot.property("state")
        return Indicator(state) if state in {i.value for i in Indicator} else None

    def _set_status(self, state: str | None, text: str) -> None:
        if state is not None:
            self.status_dot.setProperty("state", state)
            self.status_dot.style().unpolish(self.status_dot)
            self.status_dot.style().polish(self.status_dot)
        self.status_text.setText(text)

    def status_message(self) -> str:
        return self.status_text.text()

    def closeEvent(self, event: QCloseEvent) -> None:
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
        if not self.voice.close():
            return
        self.mic.close()
        self.control.close()
        self.reply_voice.close()
        if self.hotkey_bridge is not None:
            self.hotkey_bridge.stop()
        if self.voice_worker is not None:
            self.voice_worker.stop()
            self.voice_worker.wait(2000)
        self.knowledge_tab.controller.close()
        self.training_tab.controller.close()  # running jobs checkpoint and show as interrupted (resumable)
        self.monitor_panel.stop()
        self.engine.shutdown()
        if self.tray is not None:
            self.tray.hide()
