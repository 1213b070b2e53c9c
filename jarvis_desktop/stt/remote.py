"""Speech-to-text on a remote Wyoming server, placed per utterance like the chat model (docs/offload.md).

* :class:`WyomingSpeechToText` speaks Home Assistant's Wyoming protocol (the ``wyoming`` package encodes the
  events) to a server such as ``wyoming-faster-whisper``: one TCP connection per utterance, ``transcribe``,
  ``audio-start``, ``audio-chunk`` x n (16 kHz, 16-bit, mono PCM, 1 s each), ``audio-stop``, then it reads events
  until ``transcript``. Every wait is bounded: connecting by ``min(connect_timeout_s, stt_timeout_s)``, the whole
  exchange (connect, send, answer) by ``[remote] stt_timeout_s``, measured by the caller, so a server dripping
  bytes cannot stretch it. Failures are :class:`SttRemoteError` subclasses: :class:`SttUnreachable` (refused,
  no route), :class:`SttTimedOut`, :class:`SttProtocolError` (not Wyoming, closed early, oversized).
* :class:`PlacedSpeechToText` asks :func:`jarvis_desktop.monitor.policy.place` per utterance where the local
  Whisper runs (its directory size as the model size, its measured footprint once loaded, ``[remote]
  placement``, the same hysteresis as chat); a remote failure gives the local transcript with a notice
  (``[remote] fallback_local``), and for :data:`RETRY_AFTER_S` seconds after a failure the next utterances go
  straight to the local model (a voice assistant must not pay a dead server's time-out on every utterance).
  :attr:`PlacedSpeechToText.last` (:class:`SttRouteInfo`) says where the last transcript ran, why, and any notice.
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.monitor.policy import MemoryState, ModelState, Placement, PolicyConfig, place
from jarvis_desktop.monitor.registry import path_size_mib
from jarvis_desktop.monitor.resource_monitor import ResourceMonitor, shared_monitor
from jarvis_desktop.stt.transcript import Segment, SpeechRecognizer, Transcript
from jarvis_desktop.stt.whisper import SpeechToText, _as_samples, filter_hallucinations

__all__ = [
    "RETRY_AFTER_S",
    "PlacedSpeechToText",
    "SttProtocolError",
    "SttRemoteError",
    "SttRouteInfo",
    "SttTimedOut",
    "SttUnreachable",
    "WyomingSpeechToText",
    "parse_stt_url",
    "speech_to_text_from_settings",
]

log = logging.getLogger(__name__)

RETRY_AFTER_S = 30.0
"""After a remote failure, utterances in the next this many seconds are transcribed locally without trying it."""

CHUNK_SAMPLES = SAMPLE_RATE
"""Samples per ``audio-chunk`` event (1 s of 16-bit PCM: 32 000 bytes)."""

MAX_HEADER_BYTES = 64 * 1024
"""Longest event header line accepted from the server (a longer one is a protocol error)."""

MAX_BODY_BYTES = 1024 * 1024
"""Largest ``data`` or ``payload`` accepted in one server event."""


class SttRemoteError(JarvisError):
    """The remote speech-to-text server could not give a transcript (base class)."""


class SttUnreachable(SttRemoteError):
    """The server refused the connection or cannot be reached (down, wrong port, no route)."""


class SttTimedOut(SttRemoteError):
    """The server did not answer within ``[remote] stt_timeout_s`` (hung, overloaded, network stalled)."""


class SttProtocolError(SttRemoteError):
    """The server answered something that is not a Wyoming transcript (garbage, closed early, oversized)."""


def parse_stt_url(url: str) -> tuple[str, int]:
    """``"tcp://HOST:PORT"`` -> ``(host, port)``.

    Raises:
        BadInputError: another scheme, no host, or no valid port.
    """
    parts = urlsplit(url.strip())
    try:
        port = parts.port
    except ValueError:
        port = None
    if parts.scheme != "tcp" or not parts.hostname or port is None or port <= 0:
        raise BadInputError(
            f"[remote] stt_url must look like tcp://HOST:PORT, got {url!r}",
            hint="e.g. tcp://gpu-box:10300 (a wyoming-faster-whisper server)",
        )
    return parts.hostname, port


class _Deadline:
    """Seconds left until a fixed monotonic time."""

    def __init__(self, seconds: float) -> None:
        self.end = time.monotonic() + seconds

    def left(self) -> float:
        return self.end - time.monotonic()


class _Connection:
    """A socket whose every read and write is bounded by one deadline; reads Wyoming events."""

    def __init__(self, sock: socket.socket, deadline: _Deadline, where: str, timeout_s: float) -> None:
        self.sock, self.deadline, self.where, self.timeout_s = sock, deadline, where, timeout_s
        self.buf = b""

    def _arm(self) -> None:
        left = self.deadline.left()
        if left <= 0:
            raise SttTimedOut(f"speech-to-text server {self.where} did not answer within {self.timeout_s:g} s")
        self.sock.settimeout(left)

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            self._arm()
            sent = self.sock.send(view)
            view = view[sent:]

    def _fill(self) -> None:
        self._arm()
        chunk = self.sock.recv(65536)
        if not chunk:
            raise SttProtocolError(f"speech-to-text server {self.where} closed the connection before the transcript")
        self.buf += chunk

    def _read_line(self) -> bytes:
        while b"\n" not in self.buf:
            if len(self.buf) > MAX_HEADER_BYTES:
                raise SttProtocolError(f"speech-to-text server {self.where} sent a line over {MAX_HEADER_BYTES} bytes")
            self._fill()
        line, _, self.buf = self.buf.partition(b"\n")
        return line

    def _read_exact(self, n: int) -> bytes:
        if n < 0 or n > MAX_BODY_BYTES:
            raise SttProtocolError(f"speech-to-text server {self.where} announced {n} bytes (limit {MAX_BODY_BYTES})")
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_event(self) -> tuple[str, dict[str, Any]]:
        """The next event's (type, data); the payload is read and dropped."""
        line = self._read_line()
        try:
            header = json.loads(line)
            if not isinstance(header, dict) or not isinstance(header.get("type"), str):
                raise ValueError("no event type")
            data = header.get("data") or {}
            data_length = int(header.get("data_length") or 0)
            payload_length = int(header.get("payload_length") or 0)
            if data_length:
                extra = json.loads(self._read_exact(data_length))
                if not isinstance(extra, dict):
                    raise ValueError("event data is not an object")
                data = {**data, **extra}
            if payload_length:
                self._read_exact(payload_length)
            if not isinstance(data, dict):
                raise ValueError("event data is not an object")
        except (ValueError, TypeError, UnicodeDecodeError) as exc:  # JSONDecodeError is a ValueError
            raise SttProtocolError(
                f"speech-to-text server {self.where} does not speak Wyoming (bad event: {exc})",
                hint="[remote] stt_url must point at a Wyoming server such as wyoming-faster-whisper",
            ) from None
        return header["type"], data


class WyomingSpeechToText:
    """A :class:`~jarvis_desktop.stt.transcript.SpeechRecognizer` on a remote Wyoming server.

    Args:
        url: ``tcp://HOST:PORT``. timeout_s: the longest one transcript may take, connecting included (s).
        connect_timeout_s: the longest wait for the TCP connection (s; capped at ``timeout_s``).
        language: the Whisper language code sent with each request (``None`` = the server's default).

    Raises:
        BadInputError: a malformed ``url``.
    """

    def __init__(
        self, url: str, timeout_s: float = 15.0, connect_timeout_s: float = 3.0, language: str | None = "en"
    ) -> None:
        self.url = url.strip()
        self.host, self.port = parse_stt_url(self.url)
        self.timeout_s = float(timeout_s)
        self.connect_timeout_s = min(float(connect_timeout_s), self.timeout_s)
        self.language = language

    @classmethod
    def from_settings(cls, settings: Settings) -> WyomingSpeechToText:
        """From ``[remote] stt_url`` / ``stt_timeout_s`` / ``connect_timeout_s`` and ``[stt] language``."""
        lang = settings.stt.language.strip().lower()
        remote = settings.remote
        return cls(
            remote.stt_url, remote.stt_timeout_s, remote.connect_timeout_s, None if lang in ("", "auto") else lang
        )

    @property
    def loaded(self) -> bool:
        """Always True: nothing is held locally."""
        return True

    def warm_up(self) -> float:
        """Nothing to load locally; returns 0.0."""
        return 0.0

    def transcribe(
        self,
        audio: np.ndarray | str | os.PathLike[str],
        *,
        prompt: str = "",
        beam_size: int | None = None,
        vad_filter: bool | None = None,
        short_context: bool = False,
    ) -> Transcript:
        """Transcribe float32 ``(n,)`` mono 16 kHz audio in [-1, 1] (or an audio file) on the server.

        ``prompt``, ``beam_size``, ``vad_filter`` and ``short_context`` are the server's business (Wyoming's
        ``transcribe`` event carries none of them; start the server with ``--beam-size`` / ``--vad-filter``).
        The text goes through the same silence-phrase filter as the local model's (a quiet "Thank you." is
        dropped). The transcript has one segment spanning the clip (no timings or probabilities come back).

        Raises:
            BadInputError: unusable audio. SttUnreachable / SttTimedOut / SttProtocolError: see the module docstring.
        """
        samples = _as_samples(audio)
        t0 = time.perf_counter()
        text, language = self._exchange(samples)
        seconds = time.perf_counter() - t0
        duration = len(samples) / SAMPLE_RATE
        segments = [Segment(0.0, duration, text, 0.0, 0.0)] if text else []
        kept = filter_hallucinations(segments, samples)
        text = " ".join(s.text for s in kept).strip()
        if not text:
            return Transcript("", duration, seconds)
        return Transcript(
            text, duration, seconds, kept, language or self.language, 1.0 if language or self.language else None
        )

    def _exchange(self, samples: np.ndarray) -> tuple[str, str | None]:
        from wyoming.asr import Transcribe
        from wyoming.asr import Transcript as WyomingTranscript
        from wyoming.audio import AudioChunk, AudioStart, AudioStop
        from wyoming.event import Event, write_event

        where = f"{self.host}:{self.port}"
        deadline = _Deadline(self.timeout_s)
        pcm = (np.clip(samples, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
        out = io.BytesIO()
        events: list[Event] = [Transcribe(language=self.language).event()]
        events.append(AudioStart(rate=SAMPLE_RATE, width=2, channels=1).event())
        step = CHUNK_SAMPLES * 2
        for i in range(0, len(pcm), step):
            events.append(AudioChunk(rate=SAMPLE_RATE, width=2, channels=1, audio=pcm[i : i + step]).event())
        events.append(AudioStop().event())
        for event in events:
            write_event(event, out)
        try:
            sock = socket.create_connection((self.host, self.port), timeout=self.connect_timeout_s)
        except TimeoutError:
            raise SttTimedOut(
                f"speech-to-text server {where} did not accept a connection within {self.connect_timeout_s:g} s"
            ) from None
        except OSError as exc:
            raise SttUnreachable(f"speech-to-text server {where} cannot be reached ({exc.strerror or exc})") from None
        try:
            conn = _Connection(sock, deadline, where, self.timeout_s)
            conn.send(out.getvalue())
            while True:
                kind, data = conn.read_event()
                if WyomingTranscript.is_type(kind):
                    text = data.get("text")
                    if not isinstance(text, str):
                        raise SttProtocolError(f"speech-to-text server {where} sent a transcript without text")
                    lang = data.get("language")
                    return text.strip(), lang if isinstance(lang, str) and lang else None
                if kind == "error":
                    raise SttProtocolError(f"speech-to-text server {where} reported an error: {data.get('text', '')}")
                # transcript-start / transcript-chunk / transcript-stop (streaming servers): wait for the whole one
        except TimeoutError:
            raise SttTimedOut(f"speech-to-text server {where} did not answer within {self.timeout_s:g} s") from None
        except SttRemoteError:
            raise
        except OSError as exc:
            raise SttUnreachable(
                f"speech-to-text server {where} dropped the connection ({exc.strerror or exc})"
            ) from None
        finally:
            sock.close()


@dataclass
class SttRouteInfo:
    """Where the last transcript ran. ``backend``: "local"/"remote" (where the text came from); ``reason``: the
    policy's reason; ``notice``: what the user is told about a fallback ("" if none); ``fallback``: the remote
    failed and the local model transcribed; ``remote_s``: seconds spent on the remote before the fallback (or for
    the transcript)."""

    backend: str
    reason: str
    notice: str = ""
    fallback: bool = False
    remote_s: float = 0.0

    def to_dict(self) -> dict[str, str | bool | float]:
        """``{"backend", "reason", "notice", "fallback", "remote_s"}`` (JSON-ready)."""
        return {
            "backend": self.backend,
            "reason": self.reason,
            "notice": self.notice,
            "fallback": self.fallback,
            "remote_s": round(self.remote_s, 3),
        }


SettingsSource = Callable[[], Settings]


class PlacedSpeechToText:
    """The app's speech-to-text: local Whisper or a Wyoming server per utterance (see the module docstring).

    Args:
        settings: the settings, or a zero-argument callable returning the current ones (the Assistant's, so the
            Settings dialog's ``[remote]`` changes apply at the next utterance).
        local: the local recogniser; None = ``SpeechToText.from_settings`` on first local use.
        monitor: the memory source and model registry; None = the shared monitor.
    """

    def __init__(
        self,
        settings: Settings | SettingsSource,
        local: SpeechRecognizer | None = None,
        monitor: ResourceMonitor | None = None,
    ) -> None:
        self._settings: SettingsSource = settings if callable(settings) else (lambda: settings)
        self._local = local
        self.monitor = monitor or shared_monitor(self._settings())
        self.registry = self.monitor.registry
        self._placement = "local"
        self._failed_at = 0.0
        self._failure = ""
        self._lock = threading.Lock()
        #: Where the last transcript ran (None before the first).
        self.last: SttRouteInfo | None = None
        #: Called with a fallback notice (also in ``last.notice``); the voice UI may set it.
        self.on_notice: Callable[[str], None] | None = None
        self.registry.register(self.model_name, "faster-whisper", self._model_dir())

    @property
    def settings(self) -> Settings:
        """The current settings."""
        return self._settings()

    @property
    def local(self) -> SpeechRecognizer:
        """The local recogniser (built on first use; not loaded)."""
        with self._lock:
            if self._local is None:
                self._local = SpeechToText.from_settings(self.settings)
            return self._local

    @property
    def model_name(self) -> str:
        """The registry row: "speech-to-text"."""
        return "speech-to-text"

    def _model_dir(self) -> Path | None:
        path = getattr(self._local, "model_path", None)
        if path is not None:
            return Path(path)
        try:
            from jarvis_desktop.models import whisper_model_path

            return Path(whisper_model_path(self.settings))
        except JarvisError:
            return None

    @property
    def loaded(self) -> bool:
        """The local model is in memory."""
        return self._local is not None and self._local.loaded

    def warm_up(self) -> float:
        """Load the local model if the policy keeps speech-to-text local; returns the seconds spent."""
        if self.decide().where == "remote":
            return 0.0
        return self._load_local()

    def _load_local(self) -> float:
        local = self.local
        if local.loaded:
            return 0.0
        with self.registry.measure_load(self.model_name):
            return local.warm_up()

    def decide(self, placement: str | None = None, memory: MemoryState | None = None) -> Placement:
        """Run the policy for the local Whisper (no side effects; no memory sample without an ``stt_url``)."""
        settings = self.settings
        if not settings.remote.stt_url.strip():
            return Placement(self.model_name, "local", "no remote speech-to-text server configured")
        record = self.registry.get(self.model_name)
        loaded = self.loaded
        state = ModelState(
            self.model_name,
            record.size_mib if record else path_size_mib(self._model_dir()),
            loaded=loaded,
            footprint_mib=record.footprint_mib if record and loaded else None,
            last_used=(record.last_used or 0.0) if record else 0.0,
            placement=self._placement,
        )
        if memory is None:
            sample = self.monitor.latest(max_age_s=2 * self.monitor.interval_s)
            memory = MemoryState(sample.ram_available_mib, sample.ram_total_mib)
        config = PolicyConfig.from_settings(settings, mode=placement)
        return place([state], memory, config)[self.model_name]

    def transcribe(
        self,
        audio: np.ndarray | str | os.PathLike[str],
        *,
        prompt: str = "",
        beam_size: int | None = None,
        vad_filter: bool | None = None,
        short_context: bool = False,
    ) -> Transcript:
        """Transcribe one utterance where the policy says (arguments and result as
        :meth:`SpeechToText.transcribe`); ``last`` says where it ran.

        Raises:
            BadInputError: unusable audio. ModelNotFoundError: the local model cannot load.
            SttRemoteError: the server failed and ``[remote] fallback_local`` is false.
        """
        kwargs: dict[str, Any] = {
            "prompt": prompt,
            "beam_size": beam_size,
            "vad_filter": vad_filter,
            "short_context": short_context,
        }
        settings = self.settings
        placement = settings.remote.placement
        decision = self.decide()
        if placement == "auto":
            self._placement = decision.where
        if decision.unload and self._local is not None:  # RAM pressure: drop the local model, go remote
            with self._lock:
                self._local = None
            self.registry.unloaded(self.model_name)
        self.registry.update(self.model_name, placement=decision.where, reason=decision.reason)
        info = SttRouteInfo(decision.where, decision.reason)
        self.last = info
        since = time.monotonic() - self._failed_at
        cooling = settings.remote.fallback_local and self._failed_at and since < RETRY_AFTER_S
        if decision.where == "remote" and cooling:
            info.backend = "local"
            info.reason = f"{self._failure} {since:.0f} s ago; retrying it after {RETRY_AFTER_S:g} s"
        elif decision.where == "remote":
            samples = _as_samples(audio)  # bad input is the caller's error, not a reason to fall back
            t0 = time.perf_counter()
            try:
                result = WyomingSpeechToText.from_settings(settings).transcribe(samples, **kwargs)
            except SttRemoteError as exc:
                info.remote_s = time.perf_counter() - t0
                self._failed_at, self._failure = time.monotonic(), f"the remote speech-to-text failed ({exc})"
                if not settings.remote.fallback_local:
                    raise
                info.notice, info.fallback, info.backend = f"{exc.user_message()} — transcribed locally", True, "local"
                log.warning("%s", info.notice)
                if self.on_notice is not None:
                    self.on_notice(info.notice)
                audio = samples
            else:
                info.remote_s = time.perf_counter() - t0
                self._failed_at = 0.0
                self.registry.used(self.model_name, "remote")
                return result
        self._load_local()
        self.registry.used(self.model_name, "local")
        return self.local.transcribe(audio, **kwargs)


def speech_to_text_from_settings(settings: Settings | SettingsSource) -> SpeechRecognizer:
    """The app's speech-to-text: :class:`PlacedSpeechToText` when ``[remote] stt_url`` is set, else the local
    :class:`SpeechToText` (``settings``: the settings or a callable returning the current ones).

    Raises:
        ModelNotFoundError / BadInputError: as :meth:`SpeechToText.from_settings` (local only).
    """
    current = settings() if callable(settings) else settings
    if current.remote.stt_url.strip():
        return PlacedSpeechToText(settings)
    return SpeechToText.from_settings(current)
