"""Choosing the local chat backend, and the interface every chat backend offers.

Backends: ``llama.cpp`` (:class:`~.chat.LocalChatModel`, the default), ``mlx``
(:class:`~.mlx_chat.MlxChatModel`, automatic on macOS arm64 when ``[chat] mlx_model_path`` is set and mlx-lm
is installed) and ``remote`` (:class:`~.remote.RemoteChatModel`). :class:`~.router.ChatRouter` picks local or
remote per request. All three satisfy :class:`ChatBackend`; the two local ones also :class:`LocalChatBackend`.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Protocol

from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.mlx_chat import MlxChatModel
from jarvis_desktop.llm.types import ChatMessage, ChatStats

LOCAL_KINDS = ("auto", "llama.cpp", "mlx")


class ChatBackend(Protocol):
    """What the router needs from any backend.

    ``kind``: "llama.cpp", "mlx" or "remote" (the label shown for the model); ``last_stats``: the figures of
    the last finished stream (None before the first); ``name``: display name of the model; ``loaded``: the
    weights are in memory (always True for remote).
    """

    kind: str
    last_stats: ChatStats | None

    @property
    def name(self) -> str: ...

    @property
    def loaded(self) -> bool: ...

    def unload(self) -> None:
        """Free the weights (nothing for remote)."""

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        assistant_prefix: str = "",
    ) -> Iterator[str]:
        """Start a reply and return its text deltas (see :meth:`.chat.LocalChatModel.stream`)."""
        ...


class LocalChatBackend(ChatBackend, Protocol):
    """A backend whose weights live in this process: ``model_path`` (file or directory), ``load_seconds``
    (seconds the last load took, None before), :meth:`load` and :meth:`warm_up`."""

    model_path: Path
    load_seconds: float | None

    def load(self) -> object:
        """Load the weights once (thread-safe); returns the framework's model object."""
        ...

    def warm_up(self) -> None:
        """Load and run one tiny generation, so the first real reply starts fast."""
        ...


def is_apple_silicon() -> bool:
    """True on macOS arm64 (where mlx runs on the GPU)."""
    return sys.platform == "darwin" and platform.machine() == "arm64"


def local_backend_kind(settings: Settings) -> str:
    """ "llama.cpp" or "mlx" for ``[chat] backend`` ("auto": mlx on macOS arm64 with an mlx model set and
    mlx-lm installed, else llama.cpp).

    Raises:
        BadInputError: an unknown backend name, or "mlx" without ``mlx_model_path``.
    """
    wanted = settings.chat.backend
    if wanted not in LOCAL_KINDS:
        raise BadInputError(f"[chat] backend must be one of {', '.join(LOCAL_KINDS)}, got {wanted!r}")
    if wanted == "mlx" and not settings.chat.mlx_model_path:
        raise BadInputError(
            "[chat] backend is mlx but [chat] mlx_model_path is empty",
            hint='set it to an HF-format model directory, or use backend = "llama.cpp"',
        )
    if wanted == "auto":
        usable = settings.chat.mlx_model_path and importlib.util.find_spec("mlx_lm") is not None
        return "mlx" if is_apple_silicon() and usable else "llama.cpp"
    return wanted


def make_local_backend(settings: Settings) -> LocalChatBackend:
    """The local chat model for ``settings`` (not loaded yet).

    Raises:
        BadInputError: a bad ``[chat] backend``. ModelNotFoundError: the model file/directory is missing.
    """
    if local_backend_kind(settings) == "mlx":
        return MlxChatModel(settings.chat.mlx_model_path, settings.chat)
    return LocalChatModel.from_settings(settings)
