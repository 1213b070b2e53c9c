"""The Assistant's small contracts: the clock it hands to actions, and model labels that name the backend that
really runs (mlx is not "llama.cpp")."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from datetime import datetime, tzinfo
from pathlib import Path

import pytest

from jarvis_desktop import assistant as assistant_module
from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import MonitorSettings, Settings
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.llm.types import ChatMessage, ChatStats
from jarvis_desktop.monitor import ResourceMonitor
from jarvis_desktop.nlu.result import ParseResult

FIXED = datetime(2030, 3, 4, 18, 5, 42, 123456)


class _FrozenClock(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        return FIXED.replace(tzinfo=tz) if tz is not None else FIXED


@pytest.mark.parametrize("zone", ["", "Europe/Lisbon"])
def test_now_keeps_seconds_with_and_without_a_zone(monkeypatch, zone):
    """Both branches now agree: the naive one used to drop the seconds, the aware one kept them."""
    monkeypatch.setattr(assistant_module, "datetime", _FrozenClock)
    settings = Settings()
    settings.nlu.timezone = zone
    now = Assistant(settings, record_history=False).now()
    assert (now.hour, now.minute, now.second) == (18, 5, 42)
    assert (now.tzinfo is not None) == bool(zone)


class FakeMlx:
    """A local backend that says it is mlx (no weights)."""

    kind = "mlx"

    def __init__(self, path: Path) -> None:
        self.model_path = path
        self.load_seconds: float | None = None
        self.last_stats: ChatStats | None = None
        self._loaded = False

    @property
    def name(self) -> str:
        return "fake-mlx"

    @property
    def loaded(self) -> bool:
        return self._loaded

    def load(self) -> object:
        self._loaded = True
        return self

    def unload(self) -> None:
        self._loaded = False

    def warm_up(self) -> None:
        self.load()

    def stream(
        self,
        messages: Sequence[ChatMessage],
        *,
        max_tokens: int | None = None,
        temperature: float | None = None,
        cancel: threading.Event | None = None,
        assistant_prefix: str = "",
    ) -> Iterator[str]:
        self.last_stats = ChatStats(3, 2, 0.01, 0.02, 100.0)
        return iter(["Hello", " there"])


def test_chat_model_is_labelled_by_the_backend_that_runs(tmp_path):
    weights = tmp_path / "model"
    weights.mkdir()
    fake = FakeMlx(weights)
    engine = Assistant(Settings(), record_history=False)
    engine._chat = fake
    assert engine.loaded_models() == []  # not loaded yet
    fake.load()
    assert engine.loaded_models() == ["chat (mlx)"]

    plenty = Settings(monitor=MonitorSettings(buffer_gib=0.0, buffer_fraction=0.0))
    router = ChatRouter(plenty, monitor=ResourceMonitor(), local=fake, remote=None)
    assert "".join(router.stream([{"role": "user", "content": "hi"}])) == "Hello there"
    assert router.last is not None and router.last.runtime == "mlx" and router.last.backend == "local"
    assert router.registry.get(router.model_name).kind == "mlx"
    engine._router = router
    reply = engine.respond(ParseResult(text="hi", intent="general_chat"))
    assert reply.kind == "chat" and reply.text == "Hello there"
    assert reply.runtime == "mlx" and reply.to_dict()["runtime"] == "mlx"
    assert reply.to_dict()["stats"] == {
        "prompt_tokens": 3,
        "completion_tokens": 2,
        "first_token_s": 0.01,
        "total_s": 0.02,
        "tokens_per_s": 100.0,
    }
