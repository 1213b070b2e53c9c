"""Remote chat backend: any OpenAI-compatible endpoint (vLLM, llama.cpp server, Ollama ``/v1``, a cloud VM)
through the ``openai`` client, streaming.

* Deadlines (s), all measured by the caller, so no server behaviour can stretch them: connect
  ``connect_timeout_s`` (3); first text ``first_token_timeout_s`` (10, per attempt; SSE ``: ping``
  keep-alives, empty and whitespace-only deltas do not count, and a server dripping its headers byte by byte
  is cut here too); next text mid-answer ``chunk_timeout_s`` (10; keep-alives and empty deltas do not count)
  -> :class:`RemoteInterrupted`; the whole reply, retries included, ``total_timeout_s`` (120) ->
  :class:`RemoteTruncated`. The HTTP client has explicit ``httpx.Timeout`` connect/read/write/pool values
  as a second line of defence (an httpx read timeout restarts with every byte, so it alone bounds nothing).
* Size: at most ``max_reply_chars`` (200 000) characters and at most ``32 x max_tokens`` (~4 x max_tokens
  tokens of ~8 characters) are kept; past that the stream stops reading and raises
  :class:`RemoteTruncated` with the text kept. Chunks cross a bounded queue, so a server faster than the
  reader cannot fill memory either.
* Retries: before the first token, on connection errors, timeouts, HTTP 429 and 5xx: up to ``retries`` more
  attempts, waiting ``backoff_s`` x 2^n s between them. A 401/403 (bad key), 404 (unknown model) or 400 is
  not retried. After the first token nothing is retried: :class:`RemoteInterrupted` carries the text so far,
  so the router can let the local model continue it.
* Stop (``cancel``): the HTTP request runs on a helper thread (:class:`_Pump`) that hands its chunks over a
  queue, so the caller stops waiting within ``POLL_S`` of ``cancel.set()`` whatever the network is doing
  (waiting for the first token, a silent server, a retry's back-off); the stream's socket is shut down at
  once, so the server sees the client leave (a request still waiting for its response headers is closed as
  soon as they arrive). A cancelled stream ends quietly (``last_stats.cancelled``), never as an error.
* The key comes from :mod:`jarvis_desktop.llm.keys`; it is never part of a message or ``repr``.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any, cast

from jarvis_desktop.config import ChatSettings, RemoteSettings, Settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.llm.keys import get_api_key
from jarvis_desktop.llm.types import ChatMessage, ChatStats, validate_messages
from jarvis_desktop.monitor.idle import record_remote_activity

if TYPE_CHECKING:
    from openai import OpenAI, Stream
    from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

ENV_BASE_URL = "JARVIS_REMOTE_BASE_URL"
ENV_MODEL = "JARVIS_REMOTE_MODEL"
#: How often (s) a caller waiting for the network looks at its cancel event.
POLL_S = 0.02
#: Extra seconds the caller waits past the client's own read timeout before giving up itself.
TIMEOUT_GRACE_S = 0.5
#: Characters kept per requested token at most (a reply ignoring ``max_tokens`` is cut at 32 x max_tokens).
CHARS_PER_TOKEN_CAP = 32
#: Chunks the helper thread may read ahead of the caller.
QUEUE_CHUNKS = 256


class RemoteError(JarvisError):
    """The remote endpoint could not answer (after retries); nothing was streamed.

    ``retryable``: True when another attempt may succeed (connection error, timeout, HTTP 429/5xx, no first
    token); False for a bad key, an unknown model or a malformed request.
    """

    def __init__(self, message: str, hint: str | None = None, *, retryable: bool = False) -> None:
        super().__init__(message, hint)
        self.retryable = retryable


class RemoteAuthError(RemoteError):
    """The endpoint rejected the API key (HTTP 401/403)."""

    exit_code = 2


class RemoteInterrupted(RemoteError):
    """The remote failed mid-answer; ``partial`` holds the text already streamed."""

    def __init__(self, message: str, partial: str) -> None:
        super().__init__(message)
        self.partial = partial


class RemoteTruncated(RemoteInterrupted):
    """The reply hit the size cap or the total deadline: ``partial`` (all of it already streamed) is kept as
    the answer, and the router tells the user it was cut instead of continuing it locally."""


def remote_settings(settings: Settings) -> RemoteSettings:
    """``settings.remote`` with ``JARVIS_REMOTE_BASE_URL`` / ``JARVIS_REMOTE_MODEL`` applied."""
    return replace(
        settings.remote,
        base_url=os.environ.get(ENV_BASE_URL) or settings.remote.base_url,
        model=os.environ.get(ENV_MODEL) or settings.remote.model,
    )


class RemoteChatModel:
    """Chat completions from an OpenAI-compatible ``base_url`` (e.g. ``http://host:8000/v1``).

    Args:
        remote: endpoint, model, timeouts, retries (see :class:`~jarvis_desktop.config.RemoteSettings`).
        chat: system prompt, max_tokens, temperature (the same as the local model's).
        api_key: None = :func:`jarvis_desktop.llm.keys.get_api_key`; endpoints without auth accept any key.

    Raises:
        BadInputError: no base URL configured.
    """

    kind = "remote"
    loaded = True

    def __init__(self, remote: RemoteSettings, chat: ChatSettings | None = None, api_key: str | None = None) -> None:
        if not remote.base_url:
            raise BadInputError(
                "no remote endpoint configured", hint=f"set [remote] base_url in the settings or {ENV_BASE_URL}"
            )
        self.remote = remote
        self.options = chat or ChatSettings()
        if api_key is None:
            api_key = get_api_key()
        self._api_key = api_key or "no-key"  # the openai client insists on one; servers without auth ignore it
        self._client: OpenAI | None = None
        self.last_stats: ChatStats | None = None
        self.attempts = 0  # attempts made by the last stream() call

    @classmethod
    def from_settings(cls, settings: Settings) -> RemoteChatModel | None:
        """The configured endpoint, or None when no base URL is set."""
        remote = remote_settings(settings)
        return cls(remote, settings.chat) if remote.base_url else None

    def __repr__(self) -> str:  # the key stays out of logs and tracebacks
        return f"RemoteChatModel(base_url={self.remote.shown_url!r}, model={self.remote.model!r})"

    @property
    def name(self) -> str:
        """Display name: the served model's id, or "remote"."""
        return self.remote.model or "remote"

    @property
    def client(self) -> OpenAI:
        """The ``openai.OpenAI`` client (created on first use, no client-side retries: ours are explicit)."""
        if self._client is None:
            import openai

            connect = self.remote.connect_timeout_s
            read = max(self.remote.first_token_timeout_s, self.remote.chunk_timeout_s)
            # openai.Timeout is its HTTP client's (httpx2) Timeout: explicit values for every phase
            timeout = openai.Timeout(connect=connect, read=read, write=connect, pool=connect)
            self._client = openai.OpenAI(
                base_url=self.remote.base_url, api_key=self._api_key, timeout=timeout, max_retries=0
            )
        return self._client

    def unload(self) -> None:
        """Nothing is held locally (kept for the backend interface)."""

    def models(self, timeout_s: float | None = None) -> list[str]:
        """Model ids the endpoint serves (``GET /models``, one attempt, run on a helper thread and abandoned
        after ``timeout_s`` s; None = ``first_token_timeout_s``), so a server that drips or never ends its
        answer cannot hold the caller.

        Raises:
            RemoteAuthError: bad key. RemoteError: unreachable, an HTTP error or no answer within ``timeout_s``.
        """
        limit = self.remote.first_token_timeout_s if timeout_s is None else timeout_s
        result: list[object] = []

        def run() -> None:
            try:
                result.append([m.id for m in self.client.models.list()])
            except Exception as exc:  # handed to the caller below
                result.append(exc)

        worker = threading.Thread(target=run, name="jarvis-remote-models", daemon=True)
        worker.start()
        worker.join(limit + TIMEOUT_GRACE_S)
        if not result:
            raise RemoteError(
                f"remote endpoint {self.remote.shown_url} timed out: no model list within {limit:g} s", retryable=True
            )
        value = result[0]
        if isinstance(value, BaseException):
            raise self._describe(value) from value
        return cast("list[str]", value)

    # ---- streaming -------------------------------------------------------------------------------
    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        assistant_prefix: str = "",
    ) -> Iterator[str]:
        """Connect, wait for the first token (retrying as described in the module docstring), and return an
        iterator of text deltas. ``assistant_prefix`` is not supported remotely and must be empty.

        Raises:
            BadInputError: malformed messages. RemoteAuthError: bad key. RemoteError: the endpoint failed
            every attempt (raised here, before anything streamed). The returned iterator raises
            :class:`RemoteInterrupted` if the endpoint fails mid-answer.
        """
        if assistant_prefix:
            raise BadInputError("the remote backend cannot continue a partial reply")
        clean = validate_messages(messages)
        if clean[0]["role"] != "system" and self.options.system_prompt.strip():
            clean = [{"role": "system", "content": self.options.system_prompt.strip()}] + clean
        budget = self.options.max_tokens if max_tokens is None else max_tokens
        if budget <= 0:
            raise BadInputError(f"max_tokens must be positive, got {budget}")
        temp = self.options.temperature if temperature is None else float(temperature)
        start = time.perf_counter()
        last: RemoteError | None = None
        self.attempts = 0
        self.last_stats = None
        for attempt in range(self.remote.retries + 1):
            if attempt and time.perf_counter() - start > self.remote.total_timeout_s:
                break  # no time left for another attempt
            if attempt and cancel is not None:
                cancel.wait(self.remote.backoff_s * (2 ** (attempt - 1)))
            elif attempt:
                time.sleep(self.remote.backoff_s * (2 ** (attempt - 1)))
            if cancel is not None and cancel.is_set():
                return self._cancelled_before_text(start)
            self.attempts = attempt + 1
            try:
                opened = self._open(clean, budget, temp, cancel, start)
                if opened is None:
                    return self._cancelled_before_text(start)
                pump, first = opened
                return self._rest(pump, first, start, cancel, budget)
            except RemoteError as exc:
                last = exc
                if not exc.retryable:
                    raise
        assert last is not None
        raise RemoteError(
            f"{last} (gave up after {self.attempts} attempts)", hint="check the server, or set placement to local"
        )

    def _cancelled_before_text(self, start: float) -> Iterator[str]:
        """Stop pressed before any text arrived: an empty stream, with cancelled stats."""
        elapsed = time.perf_counter() - start
        self.last_stats = ChatStats(0, 0, elapsed, elapsed, 0.0, cancelled=True)
        return iter(())

    def _open(
        self,
        messages: list[ChatMessage],
        max_tokens: int,
        temperature: float,
        cancel: threading.Event | None,
        start: float,
    ) -> tuple[_Pump, str] | None:
        """Start a request and wait for its first text delta; returns (running pump, first text), or None
        when ``cancel`` was set meanwhile (the request is then abandoned).

        Raises:
            RemoteError: the request failed, or no text came within ``first_token_timeout_s`` (or before the
            total deadline counted from ``start``, a ``perf_counter`` time).
        """
        attempt_start = time.perf_counter()
        limit = max(0.0, min(self.remote.first_token_timeout_s, self.remote.total_timeout_s - (attempt_start - start)))

        def request() -> Stream[ChatCompletionChunk]:
            return self.client.chat.completions.create(
                model=self.remote.model or "default",
                # validated {"role", "content"} dicts: exactly the shape of openai's message TypedDicts
                messages=cast("list[ChatCompletionMessageParam]", messages),
                stream=True,
                max_tokens=max_tokens,
                temperature=temperature,
            )

        pump = _Pump(request)
        try:
            while True:
                kind, value = pump.get(limit - (time.perf_counter() - attempt_start), cancel)
                if kind == "cancelled":
                    pump.stop()
                    return None
                if kind == "error":
                    raise self._describe(value if isinstance(value, BaseException) else RuntimeError(str(value)))
                if kind == "text" and isinstance(value, str) and value.strip():
                    return pump, value.lstrip()
                if kind == "end":
                    raise RemoteError("the endpoint closed the stream without any text", retryable=True)
                if kind == "timeout" or time.perf_counter() - attempt_start > limit:
                    raise RemoteError(
                        f"remote endpoint {self.remote.shown_url} timed out: no first token within {limit:g} s",
                        retryable=True,
                    )
        except BaseException:
            pump.stop()
            raise

    def _rest(
        self, pump: _Pump, first: str, start: float, cancel: threading.Event | None, max_tokens: int
    ) -> Iterator[str]:
        """The rest of the reply after ``first``, within the chunk/total deadlines and the size cap (see the
        module docstring); raises :class:`RemoteInterrupted` or :class:`RemoteTruncated` with the text so far."""
        url = self.remote.shown_url
        cap = max(1, min(self.remote.max_reply_chars, CHARS_PER_TOKEN_CAP * max_tokens))
        first = first[:cap]
        pieces = [first]
        size = len(first)
        first_s = time.perf_counter() - start
        cancelled = False
        gap = self.remote.chunk_timeout_s
        total = self.remote.total_timeout_s
        last_text = time.perf_counter()
        try:
            yield first
            while True:
                now = time.perf_counter()
                if size >= cap:
                    raise RemoteTruncated(f"the remote reply was cut at {cap} characters (size cap)", "".join(pieces))
                if now - start >= total:
                    raise RemoteTruncated(
                        f"the remote reply was cut after {total:g} s (total deadline)", "".join(pieces)
                    )
                wait = min(gap - (now - last_text), total - (now - start))
                kind, value = pump.get(wait, cancel)
                if kind == "cancelled":
                    cancelled = True
                    break
                if kind == "end":
                    break
                if kind == "text" and isinstance(value, str):
                    if value:  # an empty delta (or a keep-alive, which yields nothing) does not restart the clock
                        value = value[: cap - size]
                        pieces.append(value)
                        size += len(value)
                        last_text = time.perf_counter()
                        yield value
                    continue
                if kind == "timeout" and time.perf_counter() - start >= total:
                    continue  # reported as the total deadline at the top of the loop
                if not isinstance(value, BaseException):
                    raise RemoteInterrupted(
                        f"remote endpoint {url} sent no text for {gap:g} s mid-answer", "".join(pieces)
                    )
                raise RemoteInterrupted(
                    f"remote endpoint {url} failed mid-answer: {self._describe(value)}", "".join(pieces)
                ) from value
        finally:
            pump.stop()  # shuts the socket down: the server sees the client leave
            elapsed = time.perf_counter() - start
            words = len("".join(pieces).split())  # the remote's tokenizer is unknown: ~1.3 tokens per word
            tokens = max(1, round(words * 1.3))
            rate = (tokens - 1) / (elapsed - first_s) if tokens >= 2 and elapsed > first_s else 0.0
            self.last_stats = ChatStats(0, tokens, first_s, elapsed, rate, cancelled)
            if self.remote.track_idle:
                record_remote_activity(self.remote.shown_url, self.remote.model)

    def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        """The whole reply as one string (``stream`` joined and stripped); same arguments and errors."""
        return "".join(self.stream(messages, **kwargs)).strip()

    def _describe(self, exc: BaseException) -> RemoteError:
        """A clear :class:`RemoteError` for an openai/httpx exception (``retryable`` set as documented)."""
        import openai

        url = self.remote.shown_url
        status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
        if isinstance(exc, (openai.AuthenticationError, openai.PermissionDeniedError)):
            return RemoteAuthError(
                f"the remote endpoint {url} rejected the API key (HTTP {status})",
                hint="set the key in Settings (kept in the OS keyring) or JARVIS_REMOTE_API_KEY",
            )
        if isinstance(exc, openai.NotFoundError):
            return RemoteError(
                f"the remote endpoint {url} has no model {self.remote.model!r} (HTTP 404)",
                hint="check [remote] model (jarvis-desktop doctor lists the served models)",
            )
        if isinstance(exc, openai.APITimeoutError):
            return RemoteError(f"remote endpoint {url} timed out", retryable=True)
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc
            return RemoteError(f"remote endpoint {url} unreachable ({type(cause).__name__})", retryable=True)
        if isinstance(exc, openai.APIStatusError):
            retry = exc.status_code >= 500 or exc.status_code == 429
            return RemoteError(f"remote endpoint {url} answered HTTP {status}", retryable=retry)
        name = type(exc).__name__
        if "Timeout" in name:
            return RemoteError(f"remote endpoint {url} timed out ({name})", retryable=True)
        detail = str(exc).replace(self.remote.base_url, url) if self.remote.base_url else str(exc)
        return RemoteError(f"remote endpoint {url} failed: {name}: {detail}", retryable=True)


def _delta(chunk: ChatCompletionChunk) -> str:
    """The text a streamed chunk adds ("" for a chunk without choices or content)."""
    if not chunk.choices:
        return ""
    return chunk.choices[0].delta.content or ""


class _Pump:
    """One streaming request run on a daemon thread, its chunks handed over a queue as ``("text", str)``,
    then ``("end", None)`` or ``("error", exception)``.

    A socket read blocked in the network cannot be interrupted from another thread, so the caller waits on
    the queue instead (looking at its cancel event every ``POLL_S``) and can leave at once; :meth:`stop`
    then shuts the response's socket down (waking the blocked read) and the thread closes the stream.
    """

    def __init__(self, request: Callable[[], Stream[ChatCompletionChunk]]) -> None:
        self._items: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self._stream: Stream[ChatCompletionChunk] | None = None
        threading.Thread(target=self._run, args=(request,), name="jarvis-remote-stream", daemon=True).start()

    def _run(self, request: Callable[[], Stream[ChatCompletionChunk]]) -> None:
        stream: Stream[ChatCompletionChunk] | None = None
        try:
            stream = request()
            with self._lock:
                self._stream = stream
            if self._stopped.is_set():
                return
            for chunk in stream:
                if self._stopped.is_set():
                    return
                self._put(("text", _delta(chunk)))
            self._put(("end", None))
        except Exception as exc:  # handed to the caller, who turns it into a RemoteError
            self._put(("error", exc))
        finally:
            if stream is not None:
                with contextlib.suppress(Exception):  # a broken connection may fail to close: it is gone anyway
                    stream.close()

    def _put(self, item: tuple[str, object]) -> None:
        """Queue ``item``, waiting while the queue is full (the caller is slower than the server) unless
        stopped, so read-ahead memory stays bounded and a stopped pump never blocks."""
        while not self._stopped.is_set():
            try:
                self._items.put(item, timeout=POLL_S)
                return
            except queue.Full:
                continue

    def get(self, timeout_s: float, cancel: threading.Event | None) -> tuple[str, object]:
        """The next item; ``("cancelled", None)`` as soon as ``cancel`` is set, ``("timeout", None)`` after
        ``timeout_s`` seconds without one."""
        deadline = time.monotonic() + max(0.0, timeout_s)
        while True:
            if cancel is not None and cancel.is_set():
                return "cancelled", None
            left = deadline - time.monotonic()
            if left <= 0:
                return "timeout", None
            try:
                return self._items.get(timeout=min(POLL_S, left) if cancel is not None else left)
            except queue.Empty:
                continue

    def stop(self) -> None:
        """Abandon the request: the thread stops at its next chunk, and an open response's socket is shut
        down now (so a read blocked on it returns and the server sees the disconnect)."""
        self._stopped.set()
        with self._lock:
            stream = self._stream
        if stream is not None:
            _shutdown_socket(stream)


def _shutdown_socket(stream: Stream[ChatCompletionChunk]) -> None:
    """Shut down the TCP socket under an open openai/httpx stream (best effort; a no-op when the transport
    does not expose it)."""
    with contextlib.suppress(Exception):
        network = stream.response.extensions.get("network_stream")
        sock = network.get_extra_info("socket") if network is not None else None
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
