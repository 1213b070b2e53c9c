"""The assistant: one object that ties speech-to-text, understanding, actions and chat together.

Used by the CLI (``ask``, ``chat``) and by the GUI's workers, so both run the same engine. Models
load lazily on first use (or all at once with :meth:`Assistant.warm_up`) and stay warm. Every
method may be called from a worker thread; the chat model and STT serialise their own calls.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from jarvis_desktop.actions import ActionContext, ActionResult, notify, run_action
from jarvis_desktop.actions.notes import delete_note, export_notes
from jarvis_desktop.actions.schedule import cancel_by_id
from jarvis_desktop.actions.scheduler import Firing, Scheduler
from jarvis_desktop.actions.undo import undo_last
from jarvis_desktop.config import Settings, database_path, load_settings
from jarvis_desktop.errors import BadInputError, Cancelled, NoSpeechError
from jarvis_desktop.jobs.adapters import Activation, activate_adapter
from jarvis_desktop.llm.backends import LocalChatBackend, make_local_backend
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.llm.types import ChatMessage, ChatStats
from jarvis_desktop.nlu.engine import NluEngine, ParseResult
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.history import ChatHistory
from jarvis_desktop.store.schedule import ScheduleStore
from jarvis_desktop.stt.transcript import SpeechRecognizer, Transcript
from jarvis_desktop.stt.whisper import SpeechToText

TokenCallback = Callable[[str], None]


@dataclass
class Reply:
    """The assistant's answer to one utterance.

    ``kind``: "direct" (answered by an action), "chat" (streamed from the chat model), or the action's
    own kind: "done" (carried out), "refused" (not possible as said; nothing changed), "failed" (tried,
    the system said no), "dry_run" (described only); see :class:`~jarvis_desktop.actions.ActionResult`.
    ``backend``: where a chat reply ran ("local" or "remote"; see :class:`~jarvis_desktop.llm.router.ChatRouter`),
    ``runtime``: what ran it ("llama.cpp", "mlx" or "remote"; "" for an action),
    ``reason``: why (the placement policy's words), ``notice``: a fallback the user is told about ("" if none).
    ``stats``: chat model figures, or None.
    ``cancelled``: the user stopped the stream; ``text`` holds what had arrived.
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
        }


@dataclass
class Turn:
    """One exchange: optional transcript, the parse, the reply, and per-stage timings in ms
    (``stt``, ``nlu``, ``first_token`` (chat only), ``total``)."""

    transcript: Transcript | None
    parse: ParseResult
    reply: Reply
    timings_ms: dict[str, float]

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

    # ---- lazily built components -------------------------------------------------------------
    @property
    def stt(self) -> SpeechRecognizer:
        """The speech-to-text model (:class:`~jarvis_desktop.stt.whisper.SpeechToText`, built on first use)."""
        with self._lock:
            if self._stt is None:
                self._stt = SpeechToText.from_settings(self.settings)
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

        Each :class:`~jarvis_desktop.actions.scheduler.Firing` is logged in the chat history as a system
        message, shown with the platform notifier when ``desktop_notify`` (and ``[actions] notify_command``),
        rings for reminders, timers and alarms (``[actions] sound``), then handed to ``on_fire`` on the scheduler thread
        (the GUI passes a Qt signal's ``emit``). Returns the running
        :class:`~jarvis_desktop.actions.scheduler.Scheduler`; calling it again returns the same one.
        """
        if self._scheduler is not None:
            return self._scheduler
        tz = self.timezone()

        def fired(firing: Firing) -> None:
            if self.record_history:
                self.history.add(
                    "system",
                    firing.message(tz),
                    {
                        "kind": "fired",
                        "item_id": firing.item.id,
                        "item_kind": firing.item.kind,
                        "missed": firing.missed,
                    },
                )
            if desktop_notify and self.settings.actions.notify_command:
                notify.desktop_notify(firing.title(), firing.body(tz), urgent=firing.urgent)
            if firing.rings and self.settings.actions.sound:
                notify.play_sound(notify.sound_file(self.settings.actions.sound_file))
            if on_fire is not None:
                on_fire(firing)

        scheduler = Scheduler(ScheduleStore(self.database()), fired, poll_s=poll_s)
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
        return undo_last(self.action_context(now))

    def delete_note(self, note_id: int) -> ActionResult:
        """Delete one note (soft delete) and record its undo in the action log ("done" result; ``data``:
        ``deleted``, ``text``). See :func:`~jarvis_desktop.actions.notes.delete_note`.

        Raises:
            BadInputError: no note with that id.
        """
        return delete_note(note_id, self.action_context())

    def cancel_schedule_item(self, item_id: int) -> ActionResult:
        """Cancel one reminder, timer, alarm or event by id and record its undo ("done" result; ``data``:
        ``cancelled``). See :func:`~jarvis_desktop.actions.schedule.cancel_by_id`.

        Raises:
            BadInputError: no active item with that id.
        """
        return cancel_by_id(item_id, self.action_context())

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

    def chat_messages(self, text: str) -> list[ChatMessage]:
        """The messages sent to the chat model: recent history (if recorded) plus ``text``."""
        messages: list[ChatMessage] = []
        if self.record_history:
            messages.extend(self.history.conversation(self.settings.chat.history_turns))
        messages.append({"role": "user", "content": text})
        return messages

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
        start = time.perf_counter()
        chunks: list[str] = []
        router = self.chat_router
        for delta in router.stream(self.chat_messages(parse.text), cancel=cancel):
            if not chunks and timings is not None:
                timings["first_token"] = (time.perf_counter() - start) * 1000
            chunks.append(delta)
            if on_token:
                on_token(delta)
        cancelled = bool(cancel and cancel.is_set())
        route = router.last
        assert route is not None  # set by router.stream()
        return Reply(
            text="".join(chunks).strip(),
            kind="chat",
            backend=route.backend,
            stats=route.stats,
            cancelled=cancelled,
            reason=route.reason,
            notice=route.notice,
            runtime=route.runtime,
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
        """Understand typed (or transcribed) text and answer it; records both sides in the history (with
        ``record_history``; a dry run records nothing). ``dry_run``: the action is described, not carried out
        (see :meth:`respond`). ``on_parse`` (if given) gets the parse before the action or reply starts.
        ``_transcript``: the text was heard (the user message's meta says ``"input": "voice"``).

        Raises:
            BadInputError: empty text.
        """
        if not text or not text.strip():
            raise BadInputError("empty text: say or type a command")
        timings = dict(_timings or {})
        t0 = time.perf_counter()
        now = now or self.now()
        parse = self.understand(text, now)
        timings["nlu"] = (time.perf_counter() - t0) * 1000
        if on_parse:
            on_parse(parse)
        record = self.record_history and not dry_run
        if record:
            self.history.add("user", text, {"input": "voice" if _transcript is not None else "text"})
        reply = self.respond(parse, now, on_token=on_token, cancel=cancel, timings=timings, dry_run=dry_run)
        timings["total"] = (time.perf_counter() - t0) * 1000 + timings.get("stt", 0.0)
        if record:
            self.history.add("assistant", reply.text, _reply_meta(parse, reply, timings))
        return Turn(transcript=_transcript, parse=parse, reply=reply, timings_ms=timings)

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
        """Stop the scheduler and release the database connection (models are freed with the object)."""
        self.stop_scheduler()
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
                self._history = None


def _reply_meta(parse: ParseResult, reply: Reply, timings: dict[str, float]) -> dict[str, Any]:
    """The chat-history ``meta`` of an assistant message (what the GUI's badge is rebuilt from)."""
    return {
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
        "timings_ms": {k: round(v, 1) for k, v in timings.items()},
    }
