"""Metering and the budget end to end: a real llama_cpp.server on 127.0.0.1 as the priced remote, the embedded
SmolLM2 as the local model, the meter on a real SQLite file; `monitor --json`'s "cost" object; the Monitor tab's
cost line (offscreen). See docs/offload.md "Cost and budget"."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from jarvis_desktop.config import ChatSettings, MonitorSettings, RemoteSettings, Settings
from jarvis_desktop.llm.chat import LocalChatModel
from jarvis_desktop.llm.remote import RemoteChatModel
from jarvis_desktop.llm.router import ChatRouter
from jarvis_desktop.models import embedded_chat_gguf
from jarvis_desktop.monitor import ResourceMonitor
from jarvis_desktop.monitor.costs import RemoteMeter
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.remote_usage import RemoteUsageStore
from tests.remote_helpers import API_KEY, LlamaServer, free_port

pytestmark = pytest.mark.slow

QUESTION = [{"role": "user", "content": "What is the capital of France? Answer in one word."}]
SHORT = MonitorSettings(buffer_gib=100_000.0)  # local memory always counts as short: auto goes remote
PRICED = {"price_per_hour": 0.0638, "price_per_million_tokens": 0.2, "monthly_budget_usd": 20.0}
BUDGET_REASON = "remote budget reached: $20.00 of $20.00 this month; answering locally"


@pytest.fixture(scope="module")
def cloud():
    server = LlamaServer(embedded_chat_gguf())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def local():
    chat = LocalChatModel(embedded_chat_gguf(), ChatSettings(n_threads=1))
    chat.warm_up()
    return chat


@pytest.fixture()
def meter(tmp_path):
    return RemoteMeter(RemoteUsageStore(Database(tmp_path / "usage.sqlite3", backups=None)))


def make_router(base_url: str, local, meter: RemoteMeter, **fields) -> ChatRouter:
    remote = RemoteSettings(base_url=base_url, model="smollm2", **(PRICED | fields))
    settings = Settings(chat=ChatSettings(n_threads=1), remote=remote, monitor=SHORT)
    backend = RemoteChatModel(remote, settings.chat, api_key=API_KEY)
    router = ChatRouter(settings, monitor=ResourceMonitor(), local=local, remote=backend)
    router.meter = meter
    return router


def month_rows(meter: RemoteMeter):
    return meter.store.rows(datetime(2000, 1, 1, tzinfo=timezone.utc))


def test_a_remote_request_is_metered_with_its_estimated_cost(cloud, local, meter):
    router = make_router(cloud.base_url, local, meter)
    answer = "".join(router.stream(QUESTION, max_tokens=8, temperature=0.0))
    assert answer and router.last.backend == "remote" and router.last.notice == ""
    assert "VM $0.0638/h, stops after 15 idle min" in router.last.reason
    assert "this month $0.00 of $20.00" in router.last.reason
    [row] = month_rows(meter)
    assert (row.kind, row.model, row.ok, row.tokens_estimated, row.requests) == ("chat", "smollm2", True, True, 1)
    assert row.input_tokens > 0 and row.output_tokens > 0 and 0 < row.seconds < 60
    assert row.uptime_s == pytest.approx(60 + row.seconds + 900, abs=1.0)  # a new VM session: start + idle tail
    tokens = row.input_tokens + row.output_tokens
    assert row.cost_usd == pytest.approx(row.uptime_s / 3600 * 0.0638 + tokens * 0.2 / 1e6)
    # a second request inside the idle window only extends the session
    "".join(router.stream(QUESTION, max_tokens=8, temperature=0.0))
    first, second = month_rows(meter)
    assert second.uptime_s < 60 and second.cost_usd < first.cost_usd / 10
    summary = router.cost_summary()
    assert summary is not None and summary.month.requests == 2
    assert summary.today.cost_usd == pytest.approx(first.cost_usd + second.cost_usd)


def test_budget_reached_keeps_auto_and_forced_remote_local_with_the_budget_reason(cloud, local, meter):
    meter.store.add("chat", model="smollm2", cost_usd=20.0)  # this month's spend so far
    router = make_router(cloud.base_url, local, meter)
    notices: list[str] = []
    answer = "".join(router.stream(QUESTION, max_tokens=8, temperature=0.0, on_notice=notices.append))
    info = router.last
    assert answer and info.backend == "local" and not info.fallback
    assert info.reason == info.notice == BUDGET_REASON and notices == [BUDGET_REASON]
    assert len(month_rows(meter)) == 1  # the remote was not used
    "".join(router.stream(QUESTION, placement="remote", max_tokens=4))
    assert router.last.backend == "local" and router.last.reason.startswith(BUDGET_REASON)
    assert "does not override the budget" in router.last.reason
    assert len(month_rows(meter)) == 1


def test_near_the_budget_the_reply_carries_a_warning(cloud, local, meter):
    meter.store.add("chat", model="smollm2", cost_usd=17.0)
    router = make_router(cloud.base_url, local, meter)
    notices: list[str] = []
    "".join(router.stream(QUESTION, max_tokens=4, on_notice=notices.append))
    assert router.last.backend == "remote"
    assert notices == ["remote budget nearly used: $17.00 of $20.00 this month (85%)"] == [router.last.notice]


def test_a_refused_remote_is_a_failed_use_without_uptime(local, meter):
    router = make_router(f"http://127.0.0.1:{free_port()}/v1", local, meter, retries=0, connect_timeout_s=1.0)
    answer = "".join(router.stream(QUESTION, max_tokens=4))
    assert answer and router.last.backend == "local" and router.last.fallback
    [row] = month_rows(meter)
    assert not row.ok and row.uptime_s == 0 and row.cost_usd == 0 and row.output_tokens == 0


def test_monitor_json_reports_the_cost(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.toml").write_text("[remote]\nprice_per_hour = 0.0638\nmonthly_budget_usd = 20.0\n")
    env = os.environ | {"JARVIS_DESKTOP_HOME": str(home)}
    setup = (
        "from jarvis_desktop.monitor.costs import RemoteMeter;"
        "RemoteMeter.open_default().store.add('chat', model='m', cost_usd=18.5)"
    )
    subprocess.run([sys.executable, "-c", setup], env=env, check=True, timeout=60)
    out = subprocess.run(
        [sys.executable, "-m", "jarvis_desktop", "monitor", "--once", "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    cost = json.loads(out.stdout.splitlines()[-1])["cost"]
    assert (cost["today_usd"], cost["month_usd"], cost["budget_usd"], cost["state"]) == (18.5, 18.5, 20.0, "near")
    assert cost["budget_used_fraction"] == pytest.approx(0.925)
    assert cost["message"] == "remote budget nearly used: $18.50 of $20.00 this month (92%)"


def test_the_monitor_tab_shows_the_cost_and_the_warning(qtbot, meter):
    pytest.importorskip("PySide6")
    from jarvis_desktop.ui.monitor_panel import MonitorPanel

    remote = RemoteSettings(price_per_hour=0.0638, monthly_budget_usd=20.0)
    meter.store.add("chat", model="m", cost_usd=1.25)
    panel = MonitorPanel(ResourceMonitor(interval_s=10), interval_ms=10_000, cost_source=lambda: meter.summary(remote))
    qtbot.addWidget(panel)
    panel.refresh_cost()
    assert panel.cost_label.text() == "Remote cost: today $1.25 · this month $1.25 of $20.00 budget (6%)"
    assert panel.cost_label.styleSheet() == ""
    meter.store.add("chat", model="m", cost_usd=18.75)
    panel.refresh_cost()
    text = panel.cost_label.text()
    assert "remote budget reached: $20.00 of $20.00 this month: chat stays local" in text
    assert "#c9302c" in panel.cost_label.styleSheet() and "1 requests" not in panel.cost_label.toolTip()
    panel.stop()
