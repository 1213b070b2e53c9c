"""The assistant: one object that ties speech-to-text, understanding, actions and chat together.

Used by the CLI (``ask``, ``chat``) and by the GUI's workers, so both run the same engine. Models
load lazily on first use (or all at once with :meth:`Assistant.warm_up`) and stay warm. Every
method may be called from a worker thread; the chat model and STT serialise their own calls.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any, Callable

import numpy as np

from jarvis_desktop.actions import ActionResult, run_action
from jarvis_desktop.config import Settings, database_path, load_settings
from jarvis_desktop.errors import BadInputError, NoSpeechError

TokenCallback = Callable[[str], None]


@dataclass
class Reply:
    """The assistant's answer to one utterance.

    ``kind``: "direct" (answered by an action), "chat" (streamed from the chat model),
    "understood" (v0: the command was understood and described back), "refused".
    ``backend``: where a chat reply ran ("local"). ``stats``: chat model figures, or None.
    ``cancelled``: the user stopped the stream; ``text`` holds what had arrived.
    """

    text: str
    kind: str
    action: dict[str, Any] = field(default_factory=dict)
    backend: str = "local"
    stats: Any = None
    cancelled: bool = False

    def to_dict(self) -> dict[str, Any]:
        stats = None
        if self.stats is not None:
            stats = {k: getattr(self.stats, k) for k in
                     ("prompt_tokens", "completion_tokens", "first_token_s", "total_s", "tokens_per_s")
                     if hasattr(self.stats, k)}
        return {"text": self.text, "kind": self.kind, "action": self.action, "backend": self.backend,
                "stats": stats, "cancelled": self.cancelled}


@dataclass
class Turn:
    """One exchange: optional transcript, the parse, the reply, and per-stage timings in ms
    (``stt``, ``nlu``, ``first_token`` (chat only), ``total``)."""

    transcript: Any
    parse: Any
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
        self._stt = None
        self._nlu = None
        self._chat = None
        self._history = None
        self._db = None

    # ---- lazily built components -------------------------------------------------------------
    @property
    def stt(self):
        """The :class:`~jarvis_desktop.stt.whisper.SpeechToText` (built on first use)."""
        with self._lock:
            if self._stt is None:
                from jarvis_desktop.stt.whisper import SpeechToText

                self._stt = SpeechToText.from_settings(self.settings)
            return self._stt

    @property
    def nlu(self):
        """The :class:`~jarvis_desktop.nlu.engine.NluEngine` (built on first use)."""
        with self._lock:
            if self._nlu is None:
                from jarvis_desktop.nlu.engine import NluEngine

                self._nlu = NluEngine.from_settings(self.settings)
            return self._nlu

    @property
    def chat(self):
        """The :class:`~jarvis_desktop.llm.chat.LocalChatModel` (built on first use)."""
        with self._lock:
            if self._chat is None:
                from jarvis_desktop.llm.chat import LocalChatModel

                self._chat = LocalChatModel.from_settings(self.settings)
            return self._chat

    @property
    def history(self):
        """The :class:`~jarvis_desktop.store.history.ChatHistory` in the app's database."""
        with self._lock:
            if self._history is None:
                from jarvis_desktop.store.db import Database
                from jarvis_desktop.store.history import ChatHistory

                self._db = Database(database_path())
                self._history = ChatHistory(self._db)
            return self._history

    def timezone(self) -> tzinfo | None:
        """The configured IANA zone (``[nlu] timezone``), or None for the system's local zone."""
        if not self.settings.nlu.timezone:
            return None
        from zoneinfo import ZoneInfo

        return ZoneInfo(self.settings.nlu.timezone)

    def now(self) -> datetime:
        """Current time in the user's zone (aware when a zone is configured, else naive local)."""
        tz = self.timezone()
        return datetime.now(tz) if tz else datetime.now().replace(second=0, microsecond=0)

    def loaded_models(self) -> list[str]:
        """Names of the models currently in memory."""
        names = []
        if self._stt is not None and getattr(self._stt, "loaded", True):
            names.append("speech-to-text (Whisper)")
        if self._nlu is not None:
            names.append("intent model (FastText)")
        if self._chat is not None and getattr(self._chat, "loaded", True):
            names.append("chat (llama.cpp)")
        return names

    def warm_up(self) -> None:
        """Load every model now (the GUI calls this in a worker at start-up)."""
        self.nlu.parse("hello")
        for component in (self.stt, self.chat):
            warm = getattr(component, "warm_up", None)
            if warm:
                warm()

    # ---- the pipeline ------------------------------------------------------------------------
    def transcribe(self, audio: np.ndarray | str | Path):
        """Speech-to-text on a file path or a float32 16 kHz mono array.

        Raises:
            BadInputError: unreadable audio. NoSpeechError: the audio holds no speech.
        """
        transcript = self.stt.transcribe(audio)
        if not transcript.text.strip():
            where = f" in {audio}" if isinstance(audio, (str, Path)) else ""
            raise NoSpeechError(f"no speech detected{where}")
        return transcript

    def understand(self, text: str, now: datetime | None = None):
        """Intent, date keys, ``when`` and payload of ``text`` (a :class:`ParseResult`)."""
        return self.nlu.parse(text, now=now or self.now())

    def chat_messages(self, text: str) -> list[dict[str, str]]:
        """The messages sent to the chat model: recent history (if recorded) plus ``text``."""
        messages: list[dict[str, str]] = []
        if self.record_history:
            messages.extend(self.history.conversation(self.settings.chat.history_turns))
        messages.append({"role": "user", "content": text})
        return messages

    def respond(self, parse, now: datetime | None = None, on_token: TokenCallback | None = None,
                cancel: threading.Event | None = None, timings: dict[str, float] | None = None) -> Reply:
        """Carry out the action for ``parse``, or stream a chat reply for ``general_chat``.

        ``on_token`` receives each streamed text delta (also called once with the whole text of a
        direct answer). ``timings`` (if given) gets ``first_token`` in ms for chat replies.
        """
        now = now or self.now()
        result: ActionResult | None = run_action(parse, now, self.loaded_models())
        if result is not None:
            if on_token:
                on_token(result.text)
            kind = "direct" if result.kind == "answer" else result.kind
            return Reply(text=result.text, kind=kind, action=result.to_dict())
        start = time.perf_counter()
        chunks: list[str] = []
        for delta in self.chat.stream(self.chat_messages(parse.text), cancel=cancel):
            if not chunks and timings is not None:
                timings["first_token"] = (time.perf_counter() - start) * 1000
            chunks.append(delta)
            if on_token:
                on_token(delta)
        cancelled = bool(cancel and cancel.is_set())
        return Reply(text="".join(chunks).strip(), kind="chat", backend="local",
                     stats=self.chat.last_stats, cancelled=cancelled)

    def ask_text(self, text: str, now: datetime | None = None, on_token: TokenCallback | None = None,
                 cancel: threading.Event | None = None, _transcript=None,
                 _timings: dict[str, float] | None = None) -> Turn:
        """Understand typed (or transcribed) text and answer it; records both sides in the history.

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
        if self.record_history:
            meta = {"input": "voice" if _transcript is not None else "text"}
            self.history.add("user", text, meta)
        reply = self.respond(parse, now, on_token=on_token, cancel=cancel, timings=timings)
        timings["total"] = (time.perf_counter() - t0) * 1000 + timings.get("stt", 0.0)
        if self.record_history:
            meta = {"intent": parse.intent, "date_keys": list(parse.date_keys), "when": parse.when,
                    "source": parse.source, "kind": reply.kind, "backend": reply.backend,
                    "cancelled": reply.cancelled, "timings_ms": {k: round(v, 1) for k, v in timings.items()}}
            self.history.add("assistant", reply.text, meta)
        return Turn(transcript=_transcript, parse=parse, reply=reply, timings_ms=timings)

    def ask_audio(self, audio: np.ndarray | str | Path, now: datetime | None = None,
                  on_token: TokenCallback | None = None, cancel: threading.Event | None = None) -> Turn:
        """The whole voice pipeline on a recording: STT, then :meth:`ask_text` on the transcript.

        Raises:
            BadInputError: unreadable audio. NoSpeechError: no speech in it.
        """
        t0 = time.perf_counter()
        transcript = self.transcribe(audio)
        stt_ms = (time.perf_counter() - t0) * 1000
        return self.ask_text(transcript.text.strip(), now, on_token, cancel,
                             _transcript=transcript, _timings={"stt": stt_ms})

    def close(self) -> None:
        """Release the database connection (models are freed with the object)."""
        with self._lock:
            if self._db is not None:
                self._db.close()
                self._db = None
                self._history = None
