"""Choosing the local chat backend, and the interface every chat backend offers.

Backends: ``llama.cpp`` (:class:`~.chat.LocalChatModel`, the default), ``mlx``
(:class:`~.mlx_chat.MlxChatModel`, automatic on macOS arm64 when ``[chat] mlx_model_path`` is set and mlx-lm
is installed) and ``remote`` (:class:`~.remote.RemoteChatModel`). :class:`~.router.ChatRouter` picks local or
remote per request.
"""

from __future__ import annotations

import importlib.util
import platform
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any, Protocol

from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError

LOCAL_KINDS = ("auto", "llama.cpp", "mlx")


class ChatBackend(Protocol):
    """What the router needs from a backend. ``kind``: "llama.cpp", "mlx" or "remote"."""

    kind: str
    last_stats: Any

    @property
    def name(self) -> str: ...

    @property
    def loaded(self) -> bool: ...

    def unload(self) -> None: ...

    def stream(
        self,
        messages: Sequence[dict],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        assistant_prefix: str = "",
    ) -> Iterator[str]: ...


def is_apple_silicon() -> bool:
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


def make_local_backend(settings: Settings) -> Any:
    """The local chat model for ``settings`` (not loaded yet)."""
    if local_backend_kind(settings) == "mlx":
        from jarvis_desktop.llm.mlx_chat import MlxChatModel

        return MlxChatModel(settings.chat.mlx_model_path, settings.chat)
    from jarvis_desktop.llm.chat import LocalChatModel

    return LocalChatModel.from_settings(settings)
