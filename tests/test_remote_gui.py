"""The GUI with offload: a typed question runs on the remote (llama_cpp.server) when memory counts as short,
the answer's badge says "remote" with the policy's reason as tooltip, the Monitor tab lists the chat model,
and closing the window stops the monitor thread."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import ChatSettings, MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.models import embedded_chat_gguf
from tests.remote_helpers import API_KEY, LlamaServer

pytestmark = pytest.mark.slow


class ChatOnlyAssistant(Assistant):
    """The real Assistant; start-up preloads only the chat side (no Whisper), as the router decides."""

    def warm_up(self) -> None:
        self.nlu.parse("hello")
        self.chat_router.warm_up()


@pytest.fixture(scope="module")
def cloud():
    server = LlamaServer(embedded_chat_gguf())
    yield server
    server.stop()


def test_a_chat_answer_from_the_remote_is_badged_and_the_monitor_shows_it(qtbot, cloud, tmp_path, monkeypatch):
    from jarvis_desktop.ui.main_window import MainWindow

    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path))
    monkeypatch.setenv("JARVIS_REMOTE_API_KEY", API_KEY)
    settings = Settings(
        chat=ChatSettings(n_threads=1, max_tokens=24),
        remote=RemoteSettings(base_url=cloud.base_url, model="smollm2"),
        monitor=MonitorSettings(buffer_gib=100_000.0, interval_s=0.2),
    )
    settings.actions.sound = False
    settings.actions.notify_command = False
    window = MainWindow(settings=settings, assistant_factory=lambda: ChatOnlyAssistant(settings), use_tray=False)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.engine_ready or window.last_error is not None, timeout=90_000)
    assert window.last_error is None, window.last_error
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    assert "Monitor" in tabs and window.settings_action is not None
    monitor = window.monitor_panel.monitor
    assert monitor.running

    with qtbot.waitSignal(window.turn_finished, timeout=90_000) as blocker:
        assert window.submit_text("What is the capital of France?")
    turn = blocker.args[0]
    assert turn.reply.kind == "chat" and turn.reply.backend == "remote", turn.reply
    bubble = window.chat.bubbles[-1]
    assert " · remote · " in f" {bubble.badge_text()} "
    assert bubble.badge.toolTip().startswith("ran remote: ")
    assert turn.reply.text

    window.monitor_panel.refresh()
    table = window.monitor_panel.table
    names = [table.item(r, 0).text() for r in range(table.rowCount())]
    row = next(r for r, name in enumerate(names) if name.startswith("chat: SmolLM2"))
    assert table.item(row, 1).text() == "remote"
    assert "remote" in table.item(row, 6).text()  # last used ... (remote)

    window.shutdown()
    assert not monitor.running
