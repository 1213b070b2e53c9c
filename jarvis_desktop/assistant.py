"""The assistant: one object that ties speech-to-text, understanding, actions and chat together.

Used by the CLI (``ask``, ``chat``) and by the GUI's workers, so both run the same engine. Models
load lazily on first use (or all at once with :meth:`Assistant.warm_up`) and stay warm. Every
method may be called from a worker thread; the chat model and STT serialise their own calls.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from jarvis_desktop.actions import ActionContext, ActionResult, notify, run_action
from jarvis_desktop.actions.confirm import PendingAction, answer_to_question, needs_confirmation, question_for
from jarvis_desktop.actions.notes import delete_note, export_notes
from jarvis_desktop.actions.schedule import cancel_by_id
from jarvis_desktop.actions.scheduler import Firing, Scheduler
from jarvis_desktop.actions.undo import is_undo_command, undo_last
from jarvis_desktop.config import Settings, database_path, load_settings
from jarvis_desktop.errors import BadInputError, Cancelled, JarvisError, NoSpeechError
from jarvis_desktop.jobs.adapters import Activation, activate_adapter
from jarvis_desktop.knowledge.answer import (
    CitationStream,
    check_citations,
    citation_to_dict,
    grounded_messages,
    select_citations,
    spoken_sources,
)
from jarvis_desktop.knowledge.embedder import load_embedder
from jarvis_desktop.knowledge.index import KnowledgeIndex
from jarvis_desktop.knowledge.indexer import KnowledgeService
from jarvis_desktop.knowledge.types import Citation, Location, SearchHit
from jarvis_desktop.llm.backends import LocalChatBackend, make_local_backend
from jarvis_desktop.llm.context import ContextFit, estimate_tokens, fit_context, token_counter
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.llm.types import ChatMessage, ChatStats
from jarvis_desktop.nlu.engine import NluEngine, ParseResult
from jarvis_desktop.store.conversation_export import export_conversation
from jarvis_desktop.store.conversations import ConversationRecord, Conversations
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.history import ChatHistory, ChatMessageRecord, CitationRecord
from jarvis_desktop.store.schedule import FiredNote, ScheduleStore
from jarvis_desktop.stt.remote import speech_to_text_from_settings
from jarvis_desktop.stt.transcript import SpeechRecognizer, Transcript

TokenCallback = Callable[[str], None]
log = logging.getLogger(__name__)


@dataclass
class Reply:
    """The assistant's answer to one utterance.

    ``kind``: "direct" (answered by an action), "chat" (streamed from the chat model), "confirm" (an unsure
    action asked about first: ``text`` is the question; nothing was done), or the action's
    own kind: "done" (carried out), "refused" (not possible as said; nothing changed), "failed" (tried,
    the system said no), "dry_run" (described only); see :class:`~jarvis_desktop.actions.ActionResult`.
    ``backend``: where a chat reply ran ("local" or "remote"; see :class:`~jarvis_desktop.llm.router.ChatRouter`),
    ``runtime``: what ran it ("llama.cpp", "mlx" or "remote"; "" for an action),
    ``reason``: why (the placement policy's words), ``notice``: a fallback the user is told about ("" if none).
    ``stats``: chat model figures, or None.
    ``cancelled``: the user stopped the stream; ``text`` holds what had arrived.
    ``cut_off``: a chat answer ended at the length cap (``[chat] max_tokens``) mid-thought: it can be continued
    (:meth:`Assistant.continue_reply`). ``message_id``: the stored assistant message (None when not recorded).
    ``citations``: the passages of the user's notes and documents a grounded chat answer was given from, numbered
    as its "[n]" (empty for an ordinary answer; :mod:`jarvis_desktop.knowledge.answer`); stored with the message.
    ``grounded_question``: the question put under the passages when it is not the message itself (a follow-up
    searched with the previous question before it, :meth:`Assistant.grounding`), else "".
    """

    text: str
    kind: str
    action: dict[str, Any] = field(default_factory=dict)
    backend: str = "local"
    stats: ChatStats | None = None
    cancelled: bool = False
    reason: str = ""
    notice: str = ""
    runtime: str = ""
    cut_off: bool = False
    message_id: int | None = None
    citations: list[Citation] = field(default_factory=list)
    grounded_question: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of a reply (``ask --json``'s ``reply``); ``stats`` unrounded figures or None."""
        stats = self.stats.figures() if self.stats is not None else None
        return {
            "text": self.text,
            "kind": self.kind,
            "action": self.action,
            "backend": self.backend,
            "stats": stats,
            "cancelled": self.cancelled,
            "reason": self.reason,
            "notice": self.notice,
            "runtime": self.runtime,
            "cut_off": self.cut_off,
            "citations": [citation_to_dict(c) for c in self.citations],
        }


@dataclass
class Turn:
    """One exchange: optional transcript, the parse, the reply, and per-stage timings in ms
    (``stt``, ``nlu``, ``first_token`` (chat only), ``total``). ``message_id``: the stored user message (None
    when not recorded, and for regenerate / continue, which add none)."""

    transcript: Transcript | None
    parse: ParseResult
    reply: Reply
    timings_ms: dict[str, float]
    message_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON shape of ``jarvis-desktop ask --json``."""
        out: dict[str, Any] = {}
        if self.transcript is not None:
            out["transcript"] = self.transcript.text
            out["audio_duration_s"] = round(self.transcript.duration_s, 3)
        out.update(self.parse.to_dict())
        out["reply"] = self.reply.to_dict()
        out["timings_ms"] = {k: round(v, 1) for k, v in self.timings_ms.items()}
        return out


class Assistant:
    """STT -> NLU -> action or chat, with the chat history kept in SQLite.

    Args:
        settings: user settings; None reads ``settings.toml`` (see :mod:`jarvis_desktop.config`).
        record_history: False keeps turns out of the chat history (benchmarks, one-off CLI calls).
    """

    def __init__(self, settings: Settings | None = None, record_history: bool = True) -> None:
        self.settings = settings or load_settings()
        self.record_history = record_history
        self._lock = threading.Lock()
        self._stt: SpeechRecognizer | None = None
        self._nlu: NluEngine | None = None
        self._chat: LocalChatBackend | None = None
        self._router: ChatRouter | None = None
        self._history: ChatHistory | None = None
        self._db: Database | None = None
        self._scheduler: Scheduler | None = None
        self._conversations: Conversations | None = None
        self._knowledge: KnowledgeService | None = None
        #: embed in a child process (the window sets it: torch never enters the GUI process); False: here (CLI)
        self.embed_in_child = False
        self._turns = 0  # turns running now (the knowledge indexer yields while > 0)
        self._busy_checks: list[Callable[[], bool]] = []  # voice sessions (add_busy_check): the indexer yields too
        #: The conversation new messages go to (None: the latest, or a new one, at the next message).
        self.conversation_id: int | None = None
        #: An unsure action waiting for the user's yes (see :mod:`jarvis_desktop.actions.confirm`).
        self.pending: PendingAction | None = None

    # ---- lazily built components -------------------------------------------------------------
    @property
    def stt(self) -> SpeechRecognizer:
        """The speech-to-text model (:class:`~jarvis_desktop.stt.whisper.SpeechToText`, built on first use; with
        ``[remote] stt_url``, a :class:`~jarvis_desktop.stt.remote.PlacedSpeechToText`: local or remote per
        utterance)."""
        with self._lock:
            if self._stt is None:
                self._stt = speech_to_text_from_settings(lambda: self.settings)
            return self._stt

    @property
    def nlu(self) -> NluEngine:
        """The :class:`~jarvis_desktop.nlu.engine.NluEngine` (built on first use)."""
        with self._lock:
            if self._nlu is None:
                self._nlu = NluEngine.from_settings(self.settings)
            return self._nlu

    @property
    def chat(self) -> LocalChatBackend:
        """The local chat model (llama.cpp :class:`~jarvis_desktop.llm.chat.LocalChatModel`, or mlx per
        ``[chat] backend``; built on first use)."""
        with self._lock:
            if self._chat is None:
                self._chat = make_local_backend(self.settings)
            return self._chat

    @property
    def chat_router(self) -> ChatRouter:
        """The :class:`~jarvis_desktop.llm.router.ChatRouter`: local or remote per the placement policy."""
        with self._lock:
            if self._router is None:
                self._router = ChatRouter(self.settings, local_factory=lambda: self.chat)
            return self._router

    def database(self) -> Database:
        """The app's open :class:`~jarvis_desktop.store.db.Database` (opened on first use; thread-safe)."""
        with self._lock:
            if self._db is None:
                self._db = Database(database_path())
            return self._db

    @property
    def knowledge(self) -> KnowledgeService:
        """The :class:`~jarvis_desktop.knowledge.indexer.KnowledgeService` on the app's database (built on first
        use; cheap: its index and embedder load when first searched). Its background indexer, when started (the
        window), yields while a turn runs."""
        db = self.database()
        with self._lock:
            if self._knowledge is None:
                index = _child_process_index(db, self.settings) if self.embed_in_child else None
                self._knowledge = KnowledgeService(db, self.settings, index=index, busy=self.voice_path_busy)
            return self._knowledge

    def voice_path_busy(self) -> bool:
        """The knowledge indexer's busy hook: True while a turn runs or a check added by :meth:`add_busy_check`
        (a voice session hearing, transcribing or answering) returns True."""
        return self._turns > 0 or any(check() for check in tuple(self._busy_checks))

    def add_busy_check(self, check: Callable[[], bool]) -> Callable[[], None]:
        """Make the knowledge indexer yield while ``check()`` returns True (called from the indexer's thread, every
        50 ms while it yields); returns the function that removes the check again."""
        self._busy_checks.append(check)

        def remove() -> None:
            if check in self._busy_checks:
                self._busy_checks.remove(check)

        return remove

    def knowledge_citations(self, text: str) -> list[Citation]:
        """The passages of the user's notes, conversations, schedule and folders that ``text`` can be answered
        from (:func:`~jarvis_desktop.knowledge.answer.select_citations` on a search of :data:`SEARCH_K` hits);
        empty when the index holds nothing or nothing is relevant enough, and for a long paste (over ``[chat]
        paste_limit_tokens``: the user gave the material). The app's records are synced first (new notes count).
        The message being answered, earlier messages that only repeat it, and earlier grounded answers (their own
        sources are cited instead) are never cited.

        Raises:
            JarvisError: the index cannot be read or written.
        """
        if estimate_tokens(text) > self.settings.chat.paste_limit_tokens:
            return []
        service = self.knowledge
        service.sync_records()
        if service.index.counts()[2] == 0:
            return []
        asked = " ".join(text.lower().split())
        found = service.search(text, k=SEARCH_K)
        hits = [h for h in found if h.kind != "chat" or " ".join(h.text.lower().split()) not in asked]
        # an earlier grounded answer is not a source: its own sources are (it would be cited in their place)
        message_ids = {h.chunk_id: _chat_message_id(h.source_id) for h in hits if h.kind == "chat"}
        grounded = self.history.citations([i for i in message_ids.values() if i is not None])
        hits = [h for h in hits if message_ids.get(h.chunk_id) not in grounded]
        return select_citations(hits, question=text)

    def grounding(self, text: str) -> tuple[list[Citation], str]:
        """The citations a chat answer to ``text`` is grounded on, and the question put under them.

        ``text`` is searched as is (:meth:`knowledge_citations`). When that finds nothing and ``text`` reads as a
        short follow-up (:func:`is_follow_up`: "and when does it end?") of a grounded answer in the current
        conversation, it is searched again with that answer's question before it; what that finds is kept when its
        first passage comes from a source the previous answer cited (else nothing: a follow-up is about the same
        thing), and the question becomes "<previous question> <text>". Returns ``([], text)`` when nothing is
        relevant. (``bench/followup_grounding.py`` measured the rule; docs/knowledge.md.)

        Raises:
            JarvisError: the index cannot be read or written.
        """
        citations = self.knowledge_citations(text)
        if citations or not is_follow_up(text):
            return citations, text
        previous = self._previous_grounded_question(text)
        if previous is None:
            return [], text
        question, sources = previous
        joined = f"{question.rstrip()} {text.strip()}"
        citations = self.knowledge_citations(joined)
        if not citations or citations[0].hit.source_id not in sources:
            return [], text
        return citations, joined

    def _previous_grounded_question(self, text: str) -> tuple[str, set[str]] | None:
        """The question of the current conversation's last chat answer before ``text`` (the message being
        answered, already stored) and the sources that answer cited, when it was grounded; else None."""
        if not self.record_history:
            return None
        records = [r for r in self.conversation_messages(12) if r.role != "system"]
        if records and records[-1].role == "user" and records[-1].content.strip() == text.strip():
            records = records[:-1]  # the follow-up itself
        if len(records) < 2 or records[-1].role != "assistant" or records[-2].role != "user":
            return None
        answer, question = records[-1], records[-2]
        if not answer.citations or answer.meta.get("kind", "chat") != "chat":
            return None
        asked = str(answer.meta.get("grounded_question") or question.meta.get("question") or question.content)
        return asked, {c.source_id for c in answer.citations}

    def _sync_knowledge(self) -> None:
        """After a turn or an action: ask the background indexer (when it runs) to bring the index's records up to
        date; it returns at once (an embedding model still loading never delays the user's next command). A
        failure is logged, never raised into the turn."""
        service = self._knowledge
        if service is None or not service.running:
            return  # the next search syncs first, and the background indexer syncs when it starts: never wait here
        try:
            service.request_sync()
        except Exception:  # the answer is given; the index catches up at the next search
            log.warning("knowledge sync failed", exc_info=True)

    @property
    def history(self) -> ChatHistory:
        """The :class:`~jarvis_desktop.store.history.ChatHistory` in the app's database."""
        db = self.database()
        with self._lock:
            if self._history is None:
                self._history = ChatHistory(db)
            return self._history

    def action_context(self, now: datetime | None = None, dry_run: bool = False) -> ActionContext:
        """What action handlers get: time, settings, the database, the scheduler's wake-up, dry-run."""
        scheduler = self._scheduler
        return ActionContext(
            now=now or self.now(),
            settings=self.settings,
            database=self.database,
            tz=self.timezone(),
            wake_scheduler=scheduler.wake if scheduler else None,
            dry_run=dry_run,
            loaded_models=self.loaded_models(),
        )

    # ---- scheduler ---------------------------------------------------------------------------------
    def start_scheduler(
        self, on_fire: Callable[[Firing], None] | None = None, desktop_notify: bool = True, poll_s: float = 30.0
    ) -> Scheduler:
        """Start firing reminders, timers, alarms and events (missed ones fire at once, marked missed).

        Each :class:`~jarvis_desktop.actions.scheduler.Firing` is shown with the platform notifier when
        ``desktop_notify`` (and ``[actions] notify_command``), rings for reminders, timers and alarms (``[actions]
        sound``), is handed to ``on_fire`` on the scheduler thread (the GUI's slot runs before it returns), and
        only then logged in the chat history as a system message, in one transaction with its "fired" mark
        (at-least-once: a kill before that shows it again at the next start). Returns the running
        :class:`~jarvis_desktop.actions.scheduler.Scheduler`; calling it again returns the same one.
        """
        if self._scheduler is not None:
            return self._scheduler
        tz = self.timezone()

        def note(firing: Firing) -> FiredNote | None:  # written with the "fired" mark, after delivery
            if not self.record_history:
                return None
            meta = {"kind": "fired", "item_id": firing.item.id, "item_kind": firing.item.kind, "missed": firing.missed}
            return FiredNote(firing.message(tz), meta, self.current_conversation())

        def fired(firing: Firing) -> None:
            if desktop_notify and self.settings.actions.notify_command:
                notify.desktop_notify(firing.title(), firing.body(tz), urgent=firing.urgent)
            if firing.rings and self.settings.actions.sound:
                notify.play_sound(notify.sound_file(self.settings.actions.sound_file))
            if on_fire is not None:
                on_fire(firing)

        scheduler = Scheduler(ScheduleStore(self.database()), fired, poll_s=poll_s, history=note)
        self._scheduler = scheduler
        scheduler.start()
        return scheduler

    def stop_scheduler(self) -> None:
        """Stop the scheduler thread (items stay stored and fire at the next start)."""
        scheduler, self._scheduler = self._scheduler, None
        if scheduler is not None:
            scheduler.stop()

    # ---- operations the CLI and the GUI share ---------------------------------------------------
    def undo(self, now: datetime | None = None) -> ActionResult:
        """Reverse the last undoable action: the one undo path (the GUI's Undo button, ``jarvis-desktop undo``;
        "undo" typed or said goes through :func:`~jarvis_desktop.actions.run_action` to the same function).

        Returns a "done" result, or "refused" when there is nothing to undo.

        Raises:
            BadInputError: the recorded step cannot be applied (e.g. no mixer to restore the volume).
        """
        result = undo_last(self.action_context(now))
        self._sync_knowledge()
        return result

    def delete_note(self, note_id: int) -> ActionResult:
        """Delete one note (soft delete) and record its undo in the action log ("done" result; ``data``:
        ``deleted``, ``text``). See :func:`~jarvis_desktop.actions.notes.delete_note`.

        Raises:
            BadInputError: no note with that id.
        """
        result = delete_note(note_id, self.action_context())
        self._sync_knowledge()
        return result

    def cancel_schedule_item(self, item_id: int) -> ActionResult:
        """Cancel one reminder, timer, alarm or event by id and record its undo ("done" result; ``data``:
        ``cancelled``). See :func:`~jarvis_desktop.actions.schedule.cancel_by_id`.

        Raises:
            BadInputError: no active item with that id.
        """
        result = cancel_by_id(item_id, self.action_context())
        self._sync_knowledge()
        return result

    def export_notes(self, path: str | Path) -> int:
        """Write every note to ``path`` as Markdown (in the user's zone); returns how many.

        Raises:
            JarvisError: the file cannot be written.
        """
        ctx = self.action_context()
        return export_notes(ctx.notes, path, ctx.tz)

    def activate_adapter(self, name: str) -> Activation:
        """Make the LoRA adapter ``name`` the NLU fallback's: swapped into the running engine (no restart),
        then persisted for the next start (:func:`~jarvis_desktop.jobs.adapters.activate_adapter`).

        Raises:
            BadInputError: unknown adapter. ModelNotFoundError: it cannot be loaded (the current one stays).
        """
        return activate_adapter(name, engine=self.nlu, settings=self.settings)

    def apply_settings(self, new: Settings) -> list[str]:
        """Take new settings without a restart (the Settings window; call on the engine thread, between turns).

        A changed chat model (``[chat] model_path``, ``model_id``, ``backend``, ``n_ctx``, ``mlx_model_path``) is
        unloaded and the new one loaded at once (so the next answer does not wait); a changed speech model or
        language rebuilds speech-to-text at its next use; ``[remote]`` / ``[monitor]`` go to the router; every
        other setting (time zone, weather location, system prompt, temperature, answer length ...) is read
        where it is used. Returns what was swapped ("chat model", "speech-to-text").

        Raises:
            ModelNotFoundError: the new chat model cannot be loaded (the settings are kept: the next request says
                the same).
        """
        old, swapped = self.settings, []
        chat_keys = ("model_path", "model_id", "backend", "n_ctx", "mlx_model_path")
        chat_changed = any(getattr(old.chat, k) != getattr(new.chat, k) for k in chat_keys)
        stt_keys = ("model", "model_path", "language", "compute_type")
        stt_changed = any(getattr(old.stt, k) != getattr(new.stt, k) for k in stt_keys)
        self.settings = new
        nlu_keys = ("model_dir", "fallback", "adapter_dir", "fallback_threshold")
        with self._lock:
            router = self._router
            if any(getattr(old.nlu, k) != getattr(new.nlu, k) for k in nlu_keys):
                self._nlu = None  # rebuilt at the next utterance
            if self._chat is not None and hasattr(self._chat, "options"):
                self._chat.options = new.chat  # system prompt, temperature, answer length: the next reply
            if stt_changed:
                self._stt = None
                swapped.append("speech-to-text")
            if chat_changed:
                self._chat = None
        if router is not None:
            router.settings = new
            router.reconfigure(new.remote, new.monitor)
            if chat_changed:
                router.swap_local()
        if chat_changed:
            swapped.append("chat model")
            self.chat_router.load_local()
        return swapped

    def timezone(self) -> tzinfo | None:
        """The configured IANA zone (``[nlu] timezone``), or None for the system's local zone."""
        if not self.settings.nlu.timezone:
            return None
        return ZoneInfo(self.settings.nlu.timezone)

    def now(self) -> datetime:
        """Current time in the user's zone, seconds included (aware when a zone is configured, else naive
        local). Actions compare stored minutes against it themselves (a time earlier this minute is not past)."""
        return datetime.now(self.timezone())

    def loaded_models(self) -> list[str]:
        """Names of the models currently in memory; the chat model is labelled by the runtime that holds it
        ("chat (llama.cpp)", "chat (mlx)")."""
        names = []
        if self._stt is not None and self._stt.loaded:
            names.append("speech-to-text (Whisper)")
        if self._nlu is not None:
            names.append("intent model (FastText)")
        if self._chat is not None and self._chat.loaded:
            names.append(f"chat ({self._chat.kind})")
        return names

    def warm_up(self) -> None:
        """Load every model now (the GUI calls this in a worker at start-up)."""
        self.nlu.parse("hello")
        self.stt.warm_up()
        self.chat_router.warm_up()

    # ---- the pipeline ------------------------------------------------------------------------
    def transcribe(self, audio: np.ndarray | str | Path) -> Transcript:
        """Speech-to-text on a file path or a float32 16 kHz mono array.

        Raises:
            BadInputError: unreadable audio. NoSpeechError: the audio holds no speech.
        """
        transcript = self.stt.transcribe(audio)
        if not transcript.text.strip():
            where = f" in {audio}" if isinstance(audio, (str, Path)) else ""
            raise NoSpeechError(f"no speech detected{where}")
        return transcript

    def understand(self, text: str, now: datetime | None = None) -> ParseResult:
        """Intent, date keys, ``when`` and payload of ``text`` (a :class:`ParseResult`)."""
        return self.nlu.parse(text, now=now or self.now())

    def chat_context(self, text: str) -> ContextFit:
        """The messages sent to the chat model for ``text``: the current conversation's earlier chat exchanges
        (commands and their actions' replies are left out) within ``[chat] context_budget_tokens``, then
        ``text``, cut in the middle when over ``[chat] paste_limit_tokens`` (see :mod:`jarvis_desktop.llm.context`)."""
        history: list[ChatMessage] = []
        if self.record_history:
            history = self.history.conversation(self.settings.chat.history_turns, self.current_conversation())
        count = token_counter(self._chat) if self._chat is not None else estimate_tokens
        chat = self.settings.chat
        return fit_context(history, text, count, chat.context_budget_tokens, chat.paste_limit_tokens)

    def chat_messages(self, text: str) -> list[ChatMessage]:
        """The messages sent to the chat model for ``text`` (:meth:`chat_context`'s ``messages``)."""
        return self.chat_context(text).messages

    def respond(
        self,
        parse: ParseResult,
        now: datetime | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        timings: dict[str, float] | None = None,
        dry_run: bool = False,
    ) -> Reply:
        """Carry out the action for ``parse``, or stream a chat reply for ``general_chat``.

        ``on_token`` receives each streamed text delta (also called once with the whole text of a
        direct answer). ``timings`` (if given) gets ``first_token`` in ms for chat replies.
        ``dry_run``: say what the action would do and change nothing (chat is answered as usual).

        Raises:
            JarvisError: what was asked could not be saved (full disk, locked database).
        """
        now = now or self.now()
        context = self.action_context(now, dry_run=dry_run)
        result: ActionResult | None = run_action(parse, now, self.loaded_models(), context=context)
        if result is not None:
            if on_token:
                on_token(result.text)
            kind = "direct" if result.kind == "answer" else result.kind
            return Reply(text=result.text, kind=kind, action=result.to_dict())
        return self.chat_reply(parse.text, on_token, cancel, timings)

    def chat_reply(
        self,
        text: str,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        timings: dict[str, float] | None = None,
        notice: str = "",
        citations: Sequence[Citation] | None = None,
        grounded_question: str = "",
    ) -> Reply:
        """Stream the chat model's answer to ``text`` in the current conversation (see :meth:`respond`);
        ``notice`` is put before any notice of the route. A long ``text`` is cut and the reply's notice says so.

        When the user's notes and documents hold relevant passages (:meth:`grounding`), the model answers
        from them (:func:`~jarvis_desktop.knowledge.answer.grounded_messages`, earlier exchanges left out), any
        "[n]" it invents is removed, a short line names the sources ("From your note of March 3.") and the reply's
        ``citations`` lists them. ``citations`` (given: no search; Regenerate passes the replaced answer's) and
        ``grounded_question`` (the question put under the passages; default ``text``) fix the grounding."""
        notices = [notice] if notice else []
        if citations is None:
            try:
                citations, grounded_question = self.grounding(text)
            except JarvisError as exc:  # answer without the notes rather than not at all
                citations = []
                notices.append(f"Your notes and documents could not be searched: {exc.user_message()}")
        citations = list(citations)
        grounded_question = grounded_question or text
        if citations:
            count = token_counter(self._chat) if self._chat is not None else estimate_tokens
            messages = grounded_messages(grounded_question, citations, count, self.settings.chat.paste_limit_tokens)
        else:
            fit = self.chat_context(text)
            messages = fit.messages
            if fit.cut_chars:
                notices.append(
                    f"Your message was long: the middle {fit.cut_chars:,} characters were left out so the answer "
                    "starts fast."
                )
        start = time.perf_counter()
        chunks: list[str] = []
        router = self.chat_router
        shown = CitationStream(citations)
        for delta in router.stream(messages, cancel=cancel):
            if not chunks and timings is not None:
                timings["first_token"] = (time.perf_counter() - start) * 1000
            chunks.append(delta)
            piece = shown.feed(delta)
            if on_token and piece:
                on_token(piece)
        cancelled = bool(cancel and cancel.is_set())
        answer = check_citations("".join(chunks).strip(), citations)
        rest = shown.flush()
        if citations and not cancelled:
            rest += f"\n\n{spoken_sources(citations)}"
            answer = f"{answer}\n\n{spoken_sources(citations)}".strip()
        if on_token and rest:
            on_token(rest)
        route = router.last
        assert route is not None  # set by router.stream()
        if route.notice:
            notices.append(route.notice)
        return Reply(
            text=answer,
            kind="chat",
            backend=route.backend,
            stats=route.stats,
            cancelled=cancelled,
            reason=route.reason,
            notice=" ".join(notices),
            runtime=route.runtime,
            cut_off=not cancelled and _hit_length_cap(route.stats, self.settings.chat.max_tokens),
            citations=citations,
            grounded_question=grounded_question if citations and grounded_question != text else "",
        )

    def ask_text(
        self,
        text: str,
        now: datetime | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        _transcript: Transcript | None = None,
        _timings: dict[str, float] | None = None,
        dry_run: bool = False,
        on_parse: Callable[[ParseResult], None] | None = None,
    ) -> Turn:
        """Understand typed (or transcribed) text and answer it; records both sides in the current conversation
        (with ``record_history``; a dry run records nothing). ``dry_run``: the action is described, not carried
        out (see :meth:`respond`). ``on_parse`` (if given) gets the parse before the action or reply starts.
        ``_transcript``: the text was heard (the user message's meta says ``"input": "voice"``).

        An unsure action (confidence below ``[nlu] confirm_below``) is not carried out: the reply (kind
        "confirm") asks about it, and the next message answers: "yes" carries it out, "no" answers it as chat
        (:mod:`jarvis_desktop.actions.confirm`); any other message drops the question.

        Raises:
            BadInputError: empty text.
        """
        if not text or not text.strip():
            raise BadInputError("empty text: say or type a command")
        self._turns += 1  # the knowledge indexer yields while a turn runs
        try:
            return self._ask_text(text, now, on_token, cancel, _transcript, _timings, dry_run, on_parse)
        finally:
            self._turns -= 1
            if self.record_history and not dry_run:
                self._sync_knowledge()

    def _ask_text(
        self,
        text: str,
        now: datetime | None,
        on_token: TokenCallback | None,
        cancel: threading.Event | None,
        _transcript: Transcript | None,
        _timings: dict[str, float] | None,
        dry_run: bool,
        on_parse: Callable[[ParseResult], None] | None,
    ) -> Turn:
        """:meth:`ask_text` after its checks (the turn counted as running)."""
        timings = dict(_timings or {})
        t0 = time.perf_counter()
        now = now or self.now()
        pending, self.pending = self.pending, None
        answer = answer_to_question(text) if pending is not None and not dry_run else None
        parse = pending.parse if pending is not None and answer is not None else self.understand(text, now)
        if answer is False:  # "no, just answer": the pending request is answered as chat
            parse = dataclasses.replace(parse, intent="general_chat")
        if parse.intent == "general_chat" and len(parse.text) < len(text.strip()):
            parse = dataclasses.replace(parse, text=text.strip())  # the NLU reads a capped prefix; chat gets it all
        timings["nlu"] = (time.perf_counter() - t0) * 1000
        if on_parse:
            on_parse(parse)
        record = self.record_history and not dry_run
        user_id: int | None = None
        if record:
            meta = {"input": "voice" if _transcript is not None else "text", "intent": parse.intent}
            if answer is not None:
                meta["answers"] = "confirmation"
            if answer is False:
                meta["question"] = parse.text  # what the chat model is told this message asked
            conversation = self.current_conversation()
            user_id = self.history.add("user", text, meta, conversation_id=conversation)
            self.conversations.title_if_blank(conversation, parse.text)
        if answer is True:
            reply = self.respond(parse, now, on_token=on_token, cancel=cancel, timings=timings)
        elif answer is False:
            reply = self.chat_reply(parse.text, on_token, cancel, timings)
        else:
            reply = self._respond_or_ask(parse, now, on_token, cancel, timings, dry_run)
        timings["total"] = (time.perf_counter() - t0) * 1000 + timings.get("stt", 0.0)
        if record:
            reply.message_id = self._store_reply(parse, reply, timings)
        return Turn(transcript=_transcript, parse=parse, reply=reply, timings_ms=timings, message_id=user_id)

    def _store_reply(self, parse: ParseResult, reply: Reply, timings: dict[str, float]) -> int:
        """Add ``reply`` to the current conversation, with its sources; returns the message id."""
        return self.history.add(
            "assistant",
            reply.text,
            _reply_meta(parse, reply, timings),
            conversation_id=self.current_conversation(),
            citations=[citation_record(c) for c in reply.citations],
        )

    def _respond_or_ask(
        self,
        parse: ParseResult,
        now: datetime,
        on_token: TokenCallback | None,
        cancel: threading.Event | None,
        timings: dict[str, float],
        dry_run: bool,
    ) -> Reply:
        """:meth:`respond`, unless ``parse`` is an unsure action: then the confirmation question (or, when its
        dry run would refuse, a chat answer)."""
        threshold = self.settings.nlu.confirm_below
        if dry_run or is_undo_command(parse.text) or not needs_confirmation(parse, threshold):
            return self.respond(parse, now, on_token=on_token, cancel=cancel, timings=timings, dry_run=dry_run)
        preview = run_action(parse, now, self.loaded_models(), context=self.action_context(now, dry_run=True))
        question = question_for(parse, preview)
        if question is None:  # the action would refuse: at this confidence it was most likely a question
            return self.chat_reply(parse.text, on_token, cancel, timings)
        self.pending = PendingAction(parse, question)
        if on_token:
            on_token(question)
        return Reply(
            text=question,
            kind="confirm",
            action={"intent": parse.intent, "question": question, "confidence": parse.confidence},
        )

    def confirm_pending(
        self, yes: bool, on_token: TokenCallback | None = None, cancel: threading.Event | None = None
    ) -> Turn:
        """Answer the pending question (the GUI's Yes / "No, just answer" buttons): the same as typing "yes" or
        "no, just answer".

        Raises:
            BadInputError: no question is pending.
        """
        if self.pending is None:
            raise BadInputError("there is no question to answer")
        return self.ask_text("yes" if yes else "no, just answer", on_token=on_token, cancel=cancel)

    # ---- conversations -------------------------------------------------------------------------
    @property
    def conversations(self) -> Conversations:
        """The :class:`~jarvis_desktop.store.conversations.Conversations` in the app's database."""
        db = self.database()
        with self._lock:
            if self._conversations is None:
                self._conversations = Conversations(db)
            return self._conversations

    def current_conversation(self) -> int:
        """The id of the conversation new messages go to: the chosen one, else the latest, else a new one."""
        if self.conversation_id is not None and self.conversations.get(self.conversation_id) is not None:
            return self.conversation_id
        latest = self.conversations.latest()
        self.conversation_id = latest.id if latest is not None else self.conversations.create()
        return self.conversation_id

    def new_conversation(self) -> int:
        """Start a new conversation (the current one is reused when it has no message yet); returns its id. A
        pending confirmation question is dropped."""
        self.pending = None
        current = self.conversations.get(self.current_conversation())
        if current is not None and current.message_count == 0:
            return current.id
        self.conversation_id = self.conversations.create()
        return self.conversation_id

    def switch_conversation(self, conversation_id: int) -> list[ChatMessageRecord]:
        """Make ``conversation_id`` the current conversation; returns its messages (oldest first, up to 500).

        Raises:
            BadInputError: no such conversation.
        """
        self.conversations.require(conversation_id)
        self.pending = None
        self.conversation_id = conversation_id
        return self.history.recent(500, conversation_id)

    def conversation_messages(self, limit: int = 500) -> list[ChatMessageRecord]:
        """The current conversation's last ``limit`` messages, oldest first."""
        return self.history.recent(limit, self.current_conversation())

    def list_conversations(self, search: str = "") -> list[ConversationRecord]:
        """Conversations, most recently used first; ``search`` keeps those whose title or messages contain it."""
        return self.conversations.list(search)

    def delete_conversation(self, conversation_id: int) -> int:
        """Delete a conversation and its messages (returns how many); deleting the current one makes the latest
        remaining one current.

        Raises:
            BadInputError: no such conversation.
        """
        removed = self.conversations.delete(conversation_id)
        if self.conversation_id == conversation_id:
            self.conversation_id = None
            self.pending = None
        return removed

    def export_conversation(self, conversation_id: int, path: str | Path) -> Path:
        """Write a conversation to ``path``: Markdown (``.md``) or JSON (``.json``), times in the user's zone.

        Raises:
            BadInputError: no such conversation, or another file type. JarvisError: the file cannot be written.
        """
        record = self.conversations.require(conversation_id)
        messages = self.history.recent(1_000_000, conversation_id)
        return export_conversation(record, messages, path, self.timezone())

    def _last_exchange(self) -> tuple[ChatMessageRecord, ChatMessageRecord]:
        """The current conversation's last user message and the chat reply after it.

        Raises:
            BadInputError: the conversation does not end with a chat answer.
        """
        records = [r for r in self.conversation_messages(50) if r.role != "system"]
        if len(records) < 2 or records[-1].role != "assistant" or records[-2].role != "user":
            raise BadInputError("there is no answer to regenerate or continue in this conversation")
        if records[-1].meta.get("kind", "chat") != "chat":
            raise BadInputError("the last reply was an action, not a chat answer")
        return records[-2], records[-1]

    def regenerate(self, on_token: TokenCallback | None = None, cancel: threading.Event | None = None) -> Turn:
        """Answer the current conversation's last question again: the old answer is deleted and a new one
        streamed and stored in its place. A grounded answer is answered again from the same passages, numbered
        the same (its stored sources; no new search); an ordinary one searches the notes and documents anew.

        Raises:
            BadInputError: the conversation does not end with a chat answer.
        """
        question, answer = self._last_exchange()
        self.history.delete_from(answer.id)
        asked = str(question.meta.get("question") or question.content)
        parse = ParseResult(asked, "general_chat", source=str(answer.meta.get("source", "fasttext")))
        stored = [citation_from_record(r) for r in answer.citations]
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        reply = self.chat_reply(
            asked,
            on_token,
            cancel,
            timings,
            citations=stored or None,
            grounded_question=str(answer.meta.get("grounded_question") or ""),
        )
        timings["total"] = (time.perf_counter() - t0) * 1000
        reply.message_id = self._store_reply(parse, reply, timings)
        return Turn(transcript=None, parse=parse, reply=reply, timings_ms=timings)

    def edit_and_resend(
        self, message_id: int, text: str, on_token: TokenCallback | None = None, cancel: threading.Event | None = None
    ) -> Turn:
        """Replace the user message ``message_id`` with ``text``: it and everything after it in its
        conversation are deleted, then ``text`` is asked as a new message (:meth:`ask_text`).

        Raises:
            BadInputError: no such user message, or empty text.
        """
        record = self.history.get(message_id)
        if record is None or record.role != "user":
            raise BadInputError(f"no message of yours with id {message_id}")
        if not text.strip():
            raise BadInputError("empty text: type the new message")
        if record.conversation_id is not None:
            self.switch_conversation(record.conversation_id)
        self.history.delete_from(message_id)
        return self.ask_text(text, on_token=on_token, cancel=cancel)

    def continue_reply(self, on_token: TokenCallback | None = None, cancel: threading.Event | None = None) -> Turn:
        """Continue the current conversation's last chat answer where the length cap cut it: the local model
        goes on from its text, and the stored message grows. ``on_token`` gets only the continuation.

        A grounded answer goes on from the same passages, numbered the same (its stored sources, no new search):
        the prompt is the one it was answered with, the sentence naming the sources moves to the end, and an
        "[n]" that is not one of them is removed from the continuation as it streams.

        Raises:
            BadInputError: the conversation does not end with a chat answer.
        """
        question, answer = self._last_exchange()
        asked = str(question.meta.get("question") or question.content)
        citations = [citation_from_record(r) for r in answer.citations]
        sentence = str(answer.meta.get("sources_sentence") or "")
        prefix = answer.content.removesuffix(sentence).rstrip() if sentence else answer.content
        if citations:
            count = token_counter(self._chat) if self._chat is not None else estimate_tokens
            grounded = str(answer.meta.get("grounded_question") or asked)
            messages = grounded_messages(grounded, citations, count, self.settings.chat.paste_limit_tokens)
        else:
            messages = self.chat_context(asked).messages
            if len(messages) >= 3 and messages[-2]["content"] == answer.content:
                messages = messages[:-3] + messages[-1:]  # the answer being continued is not earlier context
        timings: dict[str, float] = {}
        t0 = time.perf_counter()
        chunks: list[str] = []
        chat = self.chat
        shown = CitationStream(citations) if citations else None
        for delta in chat.stream(messages, cancel=cancel, assistant_prefix=prefix):
            if not chunks:
                timings["first_token"] = (time.perf_counter() - t0) * 1000
            chunks.append(delta)
            piece = shown.feed(delta) if shown is not None else delta
            if on_token and piece:
                on_token(piece)
        timings["total"] = (time.perf_counter() - t0) * 1000
        stats = chat.last_stats
        cancelled = bool(cancel and cancel.is_set())
        text = (prefix + "".join(chunks)).rstrip()
        rest = shown.flush() if shown is not None else ""
        if citations:
            text = check_citations(text, citations)
            if sentence:
                text = f"{text}\n\n{sentence}"
                rest += f"\n\n{sentence}"
        if on_token and rest:
            on_token(rest)
        parse = ParseResult(asked, "general_chat", source=str(answer.meta.get("source", "fasttext")))
        reply = Reply(
            text=text,
            kind="chat",
            stats=stats,
            cancelled=cancelled,
            runtime=chat.kind,
            cut_off=not cancelled and _hit_length_cap(stats, self.settings.chat.max_tokens),
            message_id=answer.id,
            citations=citations,
            grounded_question=str(answer.meta.get("grounded_question") or ""),
        )
        self.history.update(answer.id, reply.text, {"cut_off": reply.cut_off, "continued": True})
        return Turn(transcript=None, parse=parse, reply=reply, timings_ms=timings)

    def ask_audio(
        self,
        audio: np.ndarray | str | Path,
        now: datetime | None = None,
        on_token: TokenCallback | None = None,
        cancel: threading.Event | None = None,
        on_transcript: Callable[[Transcript], None] | None = None,
        on_parse: Callable[[ParseResult], None] | None = None,
    ) -> Turn:
        """The whole voice pipeline on a recording: STT, then :meth:`ask_text` on the transcript (``on_parse`` is
        passed on to it).

        ``audio``: a WAV/FLAC/... path or a float32 16 kHz mono array. ``on_transcript`` (if given) gets the
        :class:`~jarvis_desktop.stt.whisper.Transcript` as soon as STT ends, before the reply starts.
        If ``cancel`` is set by then, :class:`Cancelled` is raised and nothing is answered.

        Raises:
            BadInputError: unreadable audio. NoSpeechError: no speech in it. Cancelled: stopped after STT.
        """
        t0 = time.perf_counter()
        transcript = self.transcribe(audio)
        stt_ms = (time.perf_counter() - t0) * 1000
        if on_transcript:
            on_transcript(transcript)
        if cancel is not None and cancel.is_set():
            raise Cancelled("stopped after speech-to-text")
        return self.ask_text(
            transcript.text.strip(),
            now,
            on_token,
            cancel,
            _transcript=transcript,
            _timings={"stt": stt_ms},
            on_parse=on_parse,
        )

    def close(self) -> None:
        """Stop the scheduler and the knowledge indexer, release the database connection (models are freed with
        the object)."""
        self.stop_scheduler()
        if self._router is not None:
            self._router.close()  # the remote lifecycle's idle timer thread
        knowledge, self._knowledge = self._knowledge, None
        if knowledge is not None:
            knowledge.stop()
            close = getattr(knowledge.index.embedder, "close", None)
            if close is not None:  # the embedding child process
                close()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
                self._history = None


def _child_process_index(db: Database, settings: Settings) -> KnowledgeIndex:
    """A knowledge index whose embedding model runs in a child process
    (:class:`~jarvis_desktop.knowledge.embedder.WorkerEmbedder`); BM25 only when sentence-transformers or the
    model is missing (logged)."""
    try:
        embedder = load_embedder(settings.embeddings, process=True)
    except JarvisError as exc:
        log.warning("knowledge index without vectors: %s", exc.user_message())
        return KnowledgeIndex(db, None)
    return KnowledgeIndex(db, embedder)


def _hit_length_cap(stats: ChatStats | None, max_tokens: int) -> bool:
    """True when a reply's token count reached the cap (the model was stopped, not finished)."""
    return stats is not None and max_tokens > 0 and stats.completion_tokens >= max_tokens


def _reply_meta(parse: ParseResult, reply: Reply, timings: dict[str, float]) -> dict[str, Any]:
    """The chat-history ``meta`` of an assistant message (what the GUI's badge is rebuilt from); a grounded
    answer's adds ``sources_sentence`` (the sentence naming its sources at its end, which Continue moves to the
    new end) and ``grounded_question`` (when it is not the message itself)."""
    meta: dict[str, Any] = {}
    sentence = spoken_sources(reply.citations)
    if sentence and reply.text.endswith(sentence):
        meta["sources_sentence"] = sentence
    if reply.grounded_question:
        meta["grounded_question"] = reply.grounded_question
    return meta | {
        "intent": parse.intent,
        "date_keys": list(parse.date_keys),
        "when": parse.when,
        "source": parse.source,
        "kind": reply.kind,
        "backend": reply.backend,
        "runtime": reply.runtime,
        "reason": reply.reason,
        "notice": reply.notice,
        "cancelled": reply.cancelled,
        "cut_off": reply.cut_off,
        "timings_ms": {k: round(v, 1) for k, v in timings.items()},
    }


#: words that make a short message read as depending on the one before ("and when does it end?")
_FOLLOW_UP_OPENERS = ("and ", "but ", "also ", "what about ", "how about ", "so ", "then ")
_BACK_REFERENCES = frozenset(
    ["it", "its", "it's", "that", "this", "those", "these", "they", "them", "their", "there", "he", "she", "him", "her"]
)
#: a follow-up longer than this many words is taken as a question of its own
FOLLOW_UP_MAX_WORDS = 8


def is_follow_up(text: str) -> bool:
    """True when ``text`` is short (at most :data:`FOLLOW_UP_MAX_WORDS` words) and opens like a follow-up ("and
    ...", "what about ...") or refers back ("it", "that", "they", "there" ...): "and when does it end?", "what
    about the rent?"; False for "how do I make pancakes?"."""
    words = [w.strip("?!.,;:\"'") for w in text.lower().split()]
    if not words or len(words) > FOLLOW_UP_MAX_WORDS:
        return False
    lowered = " ".join(words) + " "
    return lowered.startswith(_FOLLOW_UP_OPENERS) or any(w in _BACK_REFERENCES for w in words)


def citation_record(citation: Citation) -> CitationRecord:
    """The stored form of a citation (:class:`~jarvis_desktop.store.history.CitationRecord`)."""
    hit = citation.hit
    return CitationRecord(
        number=citation.number,
        label=citation.label,
        kind=hit.kind,
        source_id=hit.source_id,
        title=hit.title,
        text=hit.text,
        page=hit.location.page,
        heading=hit.location.heading,
        line=hit.location.line,
        created=hit.created,
    )


def citation_from_record(record: CitationRecord) -> Citation:
    """A stored citation as a :class:`~jarvis_desktop.knowledge.types.Citation` (number, label, passage, place),
    for the source list under a reloaded answer and for answering again from it. Its hit has ``chunk_id`` 0 and
    ``score`` 0.0 (it was not searched again); ``snippet`` is the passage's head."""
    text = " ".join(record.text.split())
    hit = SearchHit(
        chunk_id=0,
        source_id=record.source_id,
        kind=record.kind,
        title=record.title,
        text=record.text,
        snippet=text if len(text) <= 160 else text[:159].rstrip() + "…",
        location=Location(page=record.page, heading=record.heading, line=record.line),
        score=0.0,
        created=record.created,
    )
    return Citation(number=record.number, hit=hit, label=record.label)


SEARCH_K = 10
"""Hits searched for a grounded answer (at most 3 are cited, knowledge/answer.py): room for the note or file itself
when the conversation already holds the question, the command that saved the note and earlier answers, which are
filtered out before the cut (k=5 left a note sixth behind four chat messages)."""


def _chat_message_id(source_id: str) -> int | None:
    """The message id of a chat source (``chat:<id>``, knowledge/sources.py); None for another kind of source."""
    kind, _, number = source_id.partition(":")
    return int(number) if kind == "chat" and number.isdigit() else None
