"""The cost model (jarvis_desktop/monitor/costs.py, docs/offload.md "Cost and budget"): the seed's
should_use_cloud rule as a table, VM uptime with the 15-minute idle stop, the budget states, the budget in
placement (policy.apply_budget), the simulated month of the light/medium/heavy patterns, and the meter's today /
this-month sums over a real SQLite file in the user's time zone (calendar months)."""

from __future__ import annotations

import zoneinfo
from datetime import datetime, timezone

import pytest

from jarvis_desktop.config import RemoteSettings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.monitor.costs import (
    PATTERNS,
    SEED_PRICE_PER_HOUR,
    BudgetStatus,
    Pricing,
    RemoteMeter,
    budget_status,
    should_use_cloud,
    simulate_month,
    uptime_added_s,
    use_cost,
)
from jarvis_desktop.monitor.policy import Placement, apply_budget
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.remote_usage import RemoteUsageStore

# (task GB, minutes, local free GB, budget left) -> (cloud?, reason starts with, billed minutes)
RULE_TABLE = [
    (20.0, 30.0, 12.0, None, True, "needs 20 GB, 12 GB free locally: remote", 46.0),  # RAM short, long
    (20.0, 2.0, 12.0, None, True, "needs 20 GB, 12 GB free locally: remote", 18.0),  # RAM short, even when short
    (4.0, 5.0, 12.0, None, False, "fits locally and short (5 min < 16 min", 21.0),  # fits, short: local
    (4.0, 16.0, 12.0, None, True, "fits locally but long (16 min >= 16 min", 32.0),  # fits, exactly the overhead
    (4.0, 15.9, 12.0, None, False, "fits locally and short", 31.9),
    (4.0, 120.0, 12.0, None, True, "fits locally but long", 136.0),
    (40.0, 30.0, 12.0, None, False, "needs 40 GB: more than the 32 GB VM", 46.0),  # the VM cannot hold it either
    (20.0, 30.0, 12.0, 0.01, False, "remote would cost", 46.0),  # over the budget left: local
    (20.0, 30.0, 12.0, 1.00, True, "needs 20 GB", 46.0),
]


@pytest.mark.parametrize(("gb", "minutes", "free", "left", "cloud", "start", "billed"), RULE_TABLE)
def test_should_use_cloud_table(gb, minutes, free, left, cloud, start, billed):
    d = should_use_cloud(gb, minutes, local_free_gb=free, budget_left_usd=left)
    assert d.use_cloud is cloud
    assert d.reason.startswith(start), d.reason
    assert d.billed_minutes == pytest.approx(billed)
    assert d.cost_usd == pytest.approx(billed / 60 * SEED_PRICE_PER_HOUR)
    if "more than the" not in d.reason:
        assert "$0.0638/h" in d.reason  # the seed's figures are in the reason


def test_should_use_cloud_shows_the_bill_and_rejects_bad_input():
    d = should_use_cloud(20, 30, local_free_gb=12)
    assert d.reason.endswith("1 + 30 + 15 idle min x $0.0638/h = $0.049")
    with pytest.raises(BadInputError):
        should_use_cloud(0, 5, local_free_gb=8)
    with pytest.raises(BadInputError):
        should_use_cloud(4, -1, local_free_gb=8)


def test_uptime_follows_the_idle_stop():
    vm = Pricing(SEED_PRICE_PER_HOUR)  # 1 min start, 15 min idle stop
    # first use: start + 10 s + the whole idle tail, charged up front
    assert uptime_added_s(None, 1000.0, 1010.0, vm) == pytest.approx(60 + 10 + 900)
    # 5 min later (VM still up): only the time between the two ends
    assert uptime_added_s(1010.0, 1310.0, 1320.0, vm) == pytest.approx(310.0)
    # exactly at the stop time: still up; one second later: a new session
    assert uptime_added_s(1010.0, 1910.0, 1915.0, vm) == pytest.approx(905.0)
    assert uptime_added_s(1010.0, 1911.0, 1915.0, vm) == pytest.approx(60 + 4 + 900)
    # an overlapping use that ends earlier adds nothing
    assert uptime_added_s(2000.0, 1500.0, 1900.0, vm) == 0.0
    assert use_cost(Pricing(0.0638, 0.2), 1_000_000, 3600.0) == pytest.approx(0.0638 + 0.2)


def test_budget_states():
    assert budget_status(5.0, 0.0).state == "ok"  # no budget
    assert budget_status(5.0, 20.0).state == "ok"
    near = budget_status(16.0, 20.0, 0.8)
    assert near.state == "near" and near.message == "remote budget nearly used: $16.00 of $20.00 this month (80%)"
    over = budget_status(20.0, 20.0)
    assert over.state == "over" and over.message == "remote budget reached: $20.00 of $20.00 this month"
    assert budget_status(25.0, 20.0).fraction == pytest.approx(1.25)


def test_apply_budget_keeps_auto_and_forced_remote_local_past_the_budget():
    remote = Placement("chat", "remote", "not enough RAM: ...", unload=True)
    vm = Pricing(SEED_PRICE_PER_HOUR)
    over = budget_status(20.0, 20.0)
    d = apply_budget(remote, over, vm, "auto")
    assert (d.where, d.unload) == ("local", False)
    assert d.reason == d.notice == "remote budget reached: $20.00 of $20.00 this month; answering locally"
    forced = apply_budget(Placement("chat", "remote", "always remote (setting)"), over, vm, "remote")
    assert forced.where == "local" and "does not override the budget" in forced.reason
    near = apply_budget(remote, budget_status(17.0, 20.0), vm, "auto")
    assert near.where == "remote" and near.unload and near.notice.startswith("remote budget nearly used: $17.00")
    assert near.reason.startswith("not enough RAM") and "VM $0.0638/h, stops after 15 idle min" in near.reason
    assert "this month $17.00 of $20.00" in near.reason
    ok = apply_budget(remote, BudgetStatus("ok", 0.0, 0.0, 0.0), Pricing(), "auto")
    assert ok == remote  # not priced, no budget: unchanged
    local = Placement("chat", "local", "fits: ...")
    assert apply_budget(local, over, vm) == local


def test_simulated_month_orders_the_patterns_and_the_options():
    months = {p.name: simulate_month(p) for p in PATTERNS}
    light, medium, heavy = months["light"], months["medium"], months["heavy"]
    assert light.vm_idle_stop_usd < medium.vm_idle_stop_usd < heavy.vm_idle_stop_usd
    assert light.api_usd < medium.api_usd < heavy.api_usd
    for m in months.values():
        assert m.always_on_usd == pytest.approx(30 * 24 * SEED_PRICE_PER_HOUR)  # $45.94
        assert m.vm_idle_stop_usd < m.always_on_usd
    # light: 10 requests in one burst a day for 20 days: one session a day, ~26 min of uptime each
    assert (light.requests, light.sessions) == (200, 20)
    assert light.uptime_h == pytest.approx(20 * (1 + (10 * 8 + 9 * 60) / 60 + 15) / 60)
    assert heavy.sessions == 30 * 9  # 8 chat bursts + 1 long job a day


def test_meter_sums_today_and_the_calendar_month_in_the_users_zone(tmp_path):
    tz = zoneinfo.ZoneInfo("America/New_York")
    store = RemoteUsageStore(Database(tmp_path / "m.sqlite3", backups=None))
    meter = RemoteMeter(store)
    remote = RemoteSettings(price_per_hour=0.0, price_per_million_tokens=1.0, monthly_budget_usd=1.0)

    def at(y, mo, d, h, mi=0):
        return datetime(y, mo, d, h, mi, tzinfo=tz).timestamp()

    # 1M tokens = $1 each; New York local times
    meter.record(remote, "chat", started=at(2026, 11, 30, 23, 30), seconds=1, input_tokens=500_000, output_tokens=0)
    meter.record(remote, "nlu", started=at(2026, 12, 1, 0, 30), seconds=1, input_tokens=100_000, output_tokens=0)
    meter.record(remote, "stt", started=at(2026, 12, 2, 9), seconds=1, input_tokens=0, output_tokens=200_000)
    now = datetime(2026, 12, 2, 18, 0, tzinfo=tz).astimezone(timezone.utc)
    s = meter.summary(remote, now=now, tz=tz)
    assert s.today.cost_usd == pytest.approx(0.2) and s.today.requests == 1
    assert s.month.cost_usd == pytest.approx(0.3) and s.month.requests == 2  # Nov 30 23:30 is last month there
    d = s.to_dict()
    assert (d["today_usd"], d["month_usd"], d["budget_usd"], d["state"]) == (0.2, 0.3, 1.0, "ok")
    assert d["budget_used_fraction"] == pytest.approx(0.3)
    # in UTC the first use (04:30 UTC on Dec 1) belongs to December
    assert meter.summary(remote, now=now, tz=timezone.utc).month.requests == 3
    rows = store.rows(datetime(2026, 1, 1, tzinfo=timezone.utc))
    assert [r.kind for r in rows] == ["chat", "nlu", "stt"] and all(r.tokens_estimated for r in rows)
    with pytest.raises(BadInputError):
        meter.record(remote, "video", started=at(2026, 12, 2, 10), seconds=1, input_tokens=1, output_tokens=1)


def test_meter_charges_vm_uptime_per_session_and_uses_the_measured_start(tmp_path):
    meter = RemoteMeter(RemoteUsageStore(Database(tmp_path / "m.sqlite3", backups=None)))
    remote = RemoteSettings(price_per_hour=3.6)  # $0.001 per second: cost = uptime seconds / 1000
    t = 1_800_000_000.0
    first = meter.record(remote, "chat", started=t, seconds=10, input_tokens=10, output_tokens=10)
    assert first.uptime_s == pytest.approx(60 + 10 + 900) and first.cost_usd == pytest.approx(0.97)
    second = meter.record(remote, "chat", started=t + 100, seconds=5, input_tokens=10, output_tokens=10)
    assert second.uptime_s == pytest.approx(95)
    refused = meter.record(remote, "chat", started=t + 5000, seconds=2, input_tokens=0, output_tokens=0, ok=False)
    assert refused.uptime_s == 0 and refused.cost_usd == 0 and not refused.ok
    # the lifecycle's start hook ran 40 s before this use began: billed from then, plus the idle tail
    booted = meter.record(
        remote, "chat", started=t + 6000, seconds=3, input_tokens=1, output_tokens=1, machine_started_at=t + 5960
    )
    assert booted.uptime_s == pytest.approx(43 + 900)
