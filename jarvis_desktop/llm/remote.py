"""Remote chat backend: any OpenAI-compatible endpoint (vLLM, llama.cpp server, Ollama ``/v1``, a cloud VM)
through the ``openai`` client, streaming.

* Timeouts (s): connect ``connect_timeout_s`` (3), first token ``first_token_timeout_s`` (10; also the
  longest silence allowed between chunks mid-stream).
* Retries: before the first token, on connection errors, timeouts, HTTP 429 and 5xx: up to ``retries`` more
  attempts, waiting ``backoff_s`` x 2^n s between them. A 401/403 (bad key), 404 (unknown model) or 400 is
  not retried. After the first token nothing is retried: :class:`RemoteInterrupted` carries the text so far,
  so the router can let the local model continue it.
* The key comes from :mod:`jarvis_desktop.llm.keys`; it is never part of a message or ``repr``.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator, Sequence
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
        return f"RemoteChatModel(base_url={self.remote.base_url!r}, model={self.remote.model!r})"

    @property
    def name(self) -> str:
        """Display name: the served model's id, or "remote"."""
        return self.remote.model or "remote"

    @property
    def client(self) -> OpenAI:
        """The ``openai.OpenAI`` client (created on first use, no client-side retries: ours are explicit)."""
        if self._client is None:
            import openai

            timeout = openai.Timeout(self.remote.first_token_timeout_s, connect=self.remote.connect_timeout_s)
            self._client = openai.OpenAI(
                base_url=self.remote.base_url, api_key=self._api_key, timeout=timeout, max_retries=0
            )
        return self._client

    def unload(self) -> None:
        """Nothing is held locally (kept for the backend interface)."""

    def models(self) -> list[str]:
        """Model ids the endpoint serves (``GET /models``, one attempt, the connect/first-token timeouts).

        Raises:
            RemoteAuthError: bad key. RemoteError: unreachable or an HTTP error.
        """
        try:
            return [m.id for m in self.client.models.list()]
        except Exception as exc:
            raise self._describe(exc) from exc

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
        for attempt in range(self.remote.retries + 1):
            if cancel is not None and cancel.is_set():
                return iter(())
            if attempt:
                time.sleep(self.remote.backoff_s * (2 ** (attempt - 1)))
            self.attempts = attempt + 1
            try:
                chunks, first = self._open(clean, budget, temp, start)
                return self._rest(chunks, first, start, cancel)
            except RemoteError as exc:
                last = exc
                if not exc.retryable:
                    raise
        assert last is not None
        raise RemoteError(
            f"{last} (gave up after {self.attempts} attempts)", hint="check the server, or set placement to local"
        )

    def _open(
        self, messages: list[ChatMessage], max_tokens: int, temperature: float, start: float
    ) -> tuple[Stream[ChatCompletionChunk], str]:
        """Start a request and read up to its first text delta; returns (open stream, first text)."""
        attempt_start = time.perf_counter()
        try:
            chunks = self.client.chat.completions.create(
                model=self.remote.model or "default",
                # validated {"role", "content"} dicts: exactly the shape of openai's message TypedDicts
                messages=cast("list[ChatCompletionMessageParam]", messages),
                stream=True,
                max_tokens=max_tokens,
                temperature=temperature,
            )
            for chunk in chunks:
                text = _delta(chunk)
                if text.strip():
                    return chunks, text.lstrip()
                if time.perf_counter() - attempt_start > self.remote.first_token_timeout_s:
                    chunks.close()
                    raise RemoteError(f"no first token within {self.remote.first_token_timeout_s:g} s", retryable=True)
            chunks.close()
            raise RemoteError("the endpoint closed the stream without any text", retryable=True)
        except RemoteError:
            raise
        except Exception as exc:
            raise self._describe(exc) from exc

    def _rest(
        self, chunks: Stream[ChatCompletionChunk], first: str, start: float, cancel: threading.Event | None
    ) -> Iterator[str]:
        pieces = [first]
        first_s = time.perf_counter() - start
        cancelled = False
        try:
            yield first
            try:
                for chunk in chunks:
                    if cancel is not None and cancel.is_set():
                        cancelled = True
                        break
                    text = _delta(chunk)
                    if text:
                        pieces.append(text)
                        yield text
            except GeneratorExit:
                raise
            except Exception as exc:
                raise RemoteInterrupted(
                    f"remote endpoint {self.remote.base_url} failed mid-answer: {self._describe(exc)}", "".join(pieces)
                ) from exc
        finally:
            with contextlib.suppress(Exception):  # closing a broken connection may fail too: it is gone either way
                chunks.close()
            total = time.perf_counter() - start
            words = len("".join(pieces).split())  # the remote's tokenizer is unknown: ~1.3 tokens per word
            tokens = max(1, round(words * 1.3))
            rate = (tokens - 1) / (total - first_s) if tokens >= 2 and total > first_s else 0.0
            self.last_stats = ChatStats(0, tokens, first_s, total, rate, cancelled)
            if self.remote.track_idle:
                record_remote_activity(self.remote.base_url, self.remote.model)

    def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        """The whole reply as one string (``stream`` joined and stripped); same arguments and errors."""
        return "".join(self.stream(messages, **kwargs)).strip()

    def _describe(self, exc: BaseException) -> RemoteError:
        """A clear :class:`RemoteError` for an openai/httpx exception (``retryable`` set as documented)."""
        import openai

        url = self.remote.base_url
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
        return RemoteError(f"remote endpoint {url} failed: {name}: {exc}", retryable=True)


def _delta(chunk: ChatCompletionChunk) -> str:
    """The text a streamed chunk adds ("" for a chunk without choices or content)."""
    if not chunk.choices:
        return ""
    return chunk.choices[0].delta.content or ""
