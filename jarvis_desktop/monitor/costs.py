"""What the remote costs: prices, the seed's cloud rule, the monthly budget, the meter and a month simulation.

See docs/offload.md "Cost and budget". Money is in US dollars, time in seconds unless a name says minutes.

* **Uptime of a VM priced per hour** (``[remote] price_per_hour``) is estimated the way the seed's auto-shutdown
  bills it: a session starts at the first use (plus :data:`START_MINUTES` of boot, billed) and ends
  ``idle_stop_minutes`` (15) after the last use. Each use is charged the uptime it *adds*
  (:func:`uptime_added_s`): a use within the idle window of the previous one extends the session by the time
  between their ends; a use after it starts a new session and is charged boot + its own time + the whole idle
  tail at once (up front, so the budget never lags behind what the VM will bill).
* **Tokens** (``price_per_million_tokens``): (input + output) x price / 1e6.
* **Budget** (``monthly_budget_usd``, calendar month in the user's time zone): :func:`budget_status` says "ok",
  "near" (from ``budget_warn_fraction``) or "over"; over it, placement stays local (``policy.apply_budget``).
* **The seed's rule** :func:`should_use_cloud` (pure, table-tested in tests/test_costs.py).
* :func:`simulate_month`: the light/medium/heavy usage patterns (:data:`PATTERNS`, defined here) through the
  cost model (VM with idle stop vs API per token vs always-on VM).

Pure except :class:`RemoteMeter`, which records uses in SQLite (:mod:`jarvis_desktop.store.remote_usage`).
"""

from __future__ import annotations

import math
import threading
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timezone, tzinfo
from typing import Any

from jarvis_desktop.config import RemoteSettings, Settings, database_path
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.remote_usage import RemoteUsageStore, UsageRow, UsageTotals

#: The seed's VM: 32 GB of memory, spot price $0.0638 per hour, auto-shutdown after 15 idle minutes.
SEED_VM_MEMORY_GB = 32.0
SEED_PRICE_PER_HOUR = 0.0638
SEED_IDLE_STOP_MINUTES = 15.0
#: Minutes from the start command until the endpoint answers, billed by the provider (assumed: a VM boot plus
#: loading a small model; the lifecycle hook measures the real figure).
START_MINUTES = 1.0
#: Tokens per word when the server gives no usage (the remote's tokenizer is unknown).
TOKENS_PER_WORD = 1.3


def estimate_tokens(text: str) -> int:
    """~1.3 tokens per whitespace-separated word (0 for empty text)."""
    words = len(text.split())
    return round(words * TOKENS_PER_WORD) if words else 0


def _usd(x: float) -> str:
    return f"${x:.2f}" if x >= 0.995 or x == 0 else f"${x:.3f}" if x >= 0.0095 else f"${x:.4f}"


# ---- pricing and uptime ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Pricing:
    """``per_hour``: USD per VM hour (0 = not priced by time); ``per_million_tokens``: USD per million tokens
    (0 = not by tokens); ``idle_stop_minutes``: the VM stops after this long unused; ``start_minutes``: billed
    boot time of a stopped VM."""

    per_hour: float = 0.0
    per_million_tokens: float = 0.0
    idle_stop_minutes: float = SEED_IDLE_STOP_MINUTES
    start_minutes: float = START_MINUTES

    @classmethod
    def from_settings(cls, remote: RemoteSettings) -> Pricing:
        """From ``[remote] price_per_hour``, ``price_per_million_tokens``, ``idle_stop_minutes``."""
        return cls(remote.price_per_hour, remote.price_per_million_tokens, remote.idle_stop_minutes)

    @property
    def priced(self) -> bool:
        """True when any price is set."""
        return self.per_hour > 0 or self.per_million_tokens > 0


def uptime_added_s(prev_end: float | None, start: float, end: float, pricing: Pricing) -> float:
    """VM seconds one use adds to the bill (epoch seconds in, seconds out; see the module docstring).

    ``prev_end``: when the previous use ended (None = never used). Within ``idle_stop_minutes`` of it the VM is
    still up: the use adds ``end - prev_end`` (the idle tail moves with it; never negative). Otherwise a new
    session: ``start_minutes`` + (end - start) + ``idle_stop_minutes``.
    """
    idle = pricing.idle_stop_minutes * 60.0
    if prev_end is not None and start <= prev_end + idle:
        return max(0.0, end - prev_end)
    return pricing.start_minutes * 60.0 + max(0.0, end - start) + idle


def use_cost(pricing: Pricing, tokens: int, uptime_s: float) -> float:
    """USD of one use: tokens x per_million_tokens / 1e6 + uptime_s / 3600 x per_hour."""
    return tokens * pricing.per_million_tokens / 1e6 + uptime_s / 3600.0 * pricing.per_hour


# ---- budget ----------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BudgetStatus:
    """``state``: "ok" | "near" | "over" ("ok" also when there is no budget); ``fraction``: month / budget
    (0 without a budget); ``message``: what the user is told ("" when ok)."""

    state: str
    month_usd: float
    budget_usd: float
    fraction: float
    message: str = ""


def budget_status(month_usd: float, budget_usd: float, warn_fraction: float = 0.8) -> BudgetStatus:
    """Where this month's remote cost stands against ``budget_usd`` (0 = no budget: always "ok").

    "over" from the budget itself (reaching it is enough: the next use would exceed it), "near" from
    ``warn_fraction`` x budget."""
    if budget_usd <= 0:
        return BudgetStatus("ok", month_usd, 0.0, 0.0)
    fraction = month_usd / budget_usd
    figures = f"{_usd(month_usd)} of {_usd(budget_usd)} this month"
    if month_usd >= budget_usd:
        return BudgetStatus("over", month_usd, budget_usd, fraction, f"remote budget reached: {figures}")
    if fraction >= warn_fraction:
        return BudgetStatus(
            "near", month_usd, budget_usd, fraction, f"remote budget nearly used: {figures} ({fraction:.0%})"
        )
    return BudgetStatus("ok", month_usd, budget_usd, fraction)


# ---- the seed's rule -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CloudDecision:
    """:func:`should_use_cloud`'s answer: ``use_cloud``, ``reason`` (with the figures), the VM minutes a remote
    run would bill and their cost (USD)."""

    use_cloud: bool
    reason: str
    billed_minutes: float
    cost_usd: float


def should_use_cloud(
    task_memory_gb: float,
    task_duration_minutes: float,
    *,
    local_free_gb: float,
    vm_memory_gb: float = SEED_VM_MEMORY_GB,
    price_per_hour: float = SEED_PRICE_PER_HOUR,
    idle_stop_minutes: float = SEED_IDLE_STOP_MINUTES,
    start_minutes: float = START_MINUTES,
    budget_left_usd: float | None = None,
) -> CloudDecision:
    """The seed's ``should_use_cloud(task_memory_gb, task_duration_minutes)``, defined here (pure).

    A remote run from a stopped VM bills ``start + duration + idle tail`` minutes (1 + d + 15 with the seed's
    numbers) at ``price_per_hour``. In order:

    1. the task needs more than the VM has (``vm_memory_gb``): local (the remote cannot hold it either);
    2. it would cost more than ``budget_left_usd`` (None = no budget): local;
    3. local memory cannot hold it (``task_memory_gb > local_free_gb``, the free RAM above the policy's
       buffer): remote, whatever it costs (within the budget);
    4. it fits locally: remote only when it is long, ``duration >= start + idle tail`` (16 min): then at least
       half of the billed time is work, and the desktop stays free for that long; shorter work stays local
       (the VM would bill mostly boot and idle time).

    Args:
        task_memory_gb: memory the task needs (GB, > 0); task_duration_minutes: its expected run time (>= 0);
        local_free_gb: RAM the desktop can give it; the rest: the VM and its price.

    Raises:
        BadInputError: a negative figure or a task needing no memory.
    """
    if task_memory_gb <= 0 or task_duration_minutes < 0 or local_free_gb < 0 or price_per_hour < 0:
        raise BadInputError(
            f"should_use_cloud needs memory > 0 GB and non-negative minutes, free RAM and price; got "
            f"{task_memory_gb} GB, {task_duration_minutes} min, {local_free_gb} GB free, ${price_per_hour}/h"
        )
    overhead = start_minutes + idle_stop_minutes
    billed = overhead + task_duration_minutes
    cost = billed / 60.0 * price_per_hour
    bill = f"{start_minutes:g} + {task_duration_minutes:g} + {idle_stop_minutes:g} idle min x ${price_per_hour:g}/h"
    bill += f" = {_usd(cost)}"
    if task_memory_gb > vm_memory_gb:
        return CloudDecision(False, f"needs {task_memory_gb:g} GB: more than the {vm_memory_gb:g} GB VM", billed, cost)
    if budget_left_usd is not None and cost > budget_left_usd:
        why = f"remote would cost {bill}, more than the {_usd(max(0.0, budget_left_usd))} budget left"
        return CloudDecision(False, why, billed, cost)
    if task_memory_gb > local_free_gb:
        why = f"needs {task_memory_gb:g} GB, {local_free_gb:g} GB free locally: remote, {bill}"
        return CloudDecision(True, why, billed, cost)
    if task_duration_minutes >= overhead:
        why = f"fits locally but long ({task_duration_minutes:g} min >= {overhead:g} min start + idle): remote, {bill}"
        return CloudDecision(True, why, billed, cost)
    why = f"fits locally and short ({task_duration_minutes:g} min < {overhead:g} min start + idle); remote: {bill}"
    return CloudDecision(False, why, billed, cost)


# ---- usage patterns and a simulated month ----------------------------------------------------------------------
@dataclass(frozen=True)
class UsagePattern:
    """A way of using the remote, per active day: ``requests_per_day`` chat requests in ``sessions_per_day``
    bursts (evenly spread 09:00-21:00, ``gap_s`` between requests of a burst), each ``input_tokens`` +
    ``output_tokens`` and ``request_s`` seconds on the remote; ``long_jobs_per_day`` jobs of ``long_job_minutes``
    (a batch transcription, a LoRA training) and ``active_days`` of 30."""

    name: str
    requests_per_day: int
    sessions_per_day: int
    input_tokens: int
    output_tokens: int
    request_s: float
    gap_s: float = 60.0
    long_jobs_per_day: int = 0
    long_job_minutes: float = 0.0
    long_job_tokens: int = 0
    active_days: int = 30


#: The light/medium/heavy patterns (the seed names them; its own table is not available, so they are defined here).
PATTERNS: tuple[UsagePattern, ...] = (
    UsagePattern("light", 10, 1, 600, 250, 8.0, active_days=20),
    UsagePattern("medium", 50, 3, 1200, 400, 12.0, active_days=22),
    UsagePattern("heavy", 200, 8, 2500, 600, 20.0, long_jobs_per_day=1, long_job_minutes=60.0,
                 long_job_tokens=200_000, active_days=30),
)  # fmt: skip


@dataclass(frozen=True)
class MonthCost:
    """One pattern through the cost model: requests and tokens in the month, VM sessions and uptime hours
    with idle stop, and USD for a VM with idle stop, an API per token and an always-on VM."""

    pattern: str
    requests: int
    tokens: int
    sessions: int
    uptime_h: float
    vm_idle_stop_usd: float
    api_usd: float
    always_on_usd: float


def simulate_month(
    pattern: UsagePattern,
    vm: Pricing = Pricing(SEED_PRICE_PER_HOUR),
    api_per_million_tokens: float = 0.20,
    days: int = 30,
) -> MonthCost:
    """Run ``pattern`` for a ``days``-day month through :func:`uptime_added_s` (pure, deterministic)."""
    uses: list[tuple[float, float, int]] = []  # (start, seconds, tokens), epoch-like seconds from the month start
    for day in range(min(pattern.active_days, days)):
        base = day * 86400.0 + 9 * 3600.0
        per_session = math.ceil(pattern.requests_per_day / max(1, pattern.sessions_per_day))
        left = pattern.requests_per_day
        for s in range(pattern.sessions_per_day):
            t = base + s * (12 * 3600.0 / pattern.sessions_per_day)
            for _ in range(min(per_session, left)):
                uses.append((t, pattern.request_s, pattern.input_tokens + pattern.output_tokens))
                t += pattern.request_s + pattern.gap_s
            left -= min(per_session, left)
        for j in range(pattern.long_jobs_per_day):
            uses.append((base + 13.5 * 3600.0 + j * 7200.0, pattern.long_job_minutes * 60.0, pattern.long_job_tokens))
    uses.sort()
    prev_end: float | None = None
    uptime = 0.0
    sessions = 0
    tokens = 0
    for start, seconds, n in uses:
        added = uptime_added_s(prev_end, start, start + seconds, vm)
        if prev_end is None or start > prev_end + vm.idle_stop_minutes * 60.0:
            sessions += 1
        uptime += added
        tokens += n
        prev_end = start + seconds if prev_end is None else max(prev_end, start + seconds)
    return MonthCost(
        pattern.name,
        len(uses),
        tokens,
        sessions,
        uptime / 3600.0,
        uptime / 3600.0 * vm.per_hour,
        tokens * api_per_million_tokens / 1e6,
        days * 24 * vm.per_hour,
    )


# ---- the meter -------------------------------------------------------------------------------------------------
def user_tz(settings: Settings | None = None) -> tzinfo:
    """The user's time zone: ``[nlu] timezone`` when set, else the system's local zone."""
    name = settings.nlu.timezone.strip() if settings is not None else ""
    if name:
        try:
            return zoneinfo.ZoneInfo(name)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    local = datetime.now().astimezone().tzinfo
    return local if local is not None else timezone.utc


def day_and_month_start(now: datetime, tz: tzinfo) -> tuple[datetime, datetime]:
    """Aware starts of ``now``'s local day and calendar month in ``tz`` (for the today / this month sums)."""
    local = now.astimezone(tz)
    day = datetime(local.year, local.month, local.day, tzinfo=tz)
    return day, datetime(local.year, local.month, 1, tzinfo=tz)


@dataclass(frozen=True)
class CostSummary:
    """Today and this month (local time zone, calendar month) with the budget status and the prices."""

    today: UsageTotals
    month: UsageTotals
    budget: BudgetStatus
    pricing: Pricing

    def to_dict(self) -> dict[str, Any]:
        """The ``"cost"`` object of ``monitor --json``: ``today_usd``, ``month_usd``, ``budget_usd``,
        ``budget_used_fraction``, ``state`` ("ok"|"near"|"over"), ``message``, the prices, ``today``/``month``."""
        return {
            "today_usd": round(self.today.cost_usd, 4),
            "month_usd": round(self.month.cost_usd, 4),
            "budget_usd": self.budget.budget_usd,
            "budget_used_fraction": round(self.budget.fraction, 4),
            "state": self.budget.state,
            "message": self.budget.message,
            "price_per_hour": self.pricing.per_hour,
            "price_per_million_tokens": self.pricing.per_million_tokens,
            "today": self.today.to_dict(),
            "month": self.month.to_dict(),
        }

    def line(self) -> str:
        """One human line: "remote cost today $0.02, this month $1.40 of $20.00 (7 %)"."""
        text = f"remote cost today {_usd(self.today.cost_usd)}, this month {_usd(self.month.cost_usd)}"
        if self.budget.budget_usd > 0:
            text += f" of {_usd(self.budget.budget_usd)} ({self.budget.fraction:.0%})"
        text += f" ({self.month.requests} requests)"
        return text + (f" — {self.budget.message}" if self.budget.state != "ok" else "")


class RemoteMeter:
    """Records remote uses with their estimated cost and sums them (thread-safe).

    Args:
        store: the ``remote_usage`` rows (the app database: :meth:`open_default`).
    """

    def __init__(self, store: RemoteUsageStore) -> None:
        self.store = store
        self._lock = threading.Lock()

    @classmethod
    def open_default(cls) -> RemoteMeter:
        """A meter on the app's database (``config.database_path()``).

        Raises:
            JarvisError: the database cannot be opened (damaged, no space, locked)."""
        return cls(RemoteUsageStore(Database(database_path())))

    def record(
        self,
        remote: RemoteSettings,
        kind: str,
        *,
        started: float,
        seconds: float,
        input_tokens: int,
        output_tokens: int,
        tokens_estimated: bool = True,
        ok: bool = True,
        model: str | None = None,
        machine_started_at: float | None = None,
    ) -> UsageRow:
        """Store one use that began at epoch ``started`` and took ``seconds``, priced per ``remote``'s settings
        (uptime added per :func:`uptime_added_s` from the previous billed use's end).

        ``machine_started_at``: epoch when the lifecycle's start command ran for this use (the machine was
        down): a new session billed from then (the measured boot instead of :data:`START_MINUTES`) plus the
        idle tail. ``ok=False`` with no answer (refused, timed out before any text) adds no uptime: the machine
        was not answering.

        Raises:
            BadInputError: an unknown kind or negative figures. JarvisError: the database cannot be written.
        """
        pricing = Pricing.from_settings(remote)
        end = started + seconds
        with self._lock:
            if machine_started_at is not None:
                uptime = (end - min(machine_started_at, started)) + pricing.idle_stop_minutes * 60.0
            elif not ok and output_tokens == 0:
                uptime = 0.0
            else:
                prev = self.store.last(billed=True)
                uptime = uptime_added_s(prev.end if prev else None, started, end, pricing)
            uptime = uptime if pricing.per_hour > 0 else 0.0
            return self.store.add(
                kind,
                model=remote.model if model is None else model,
                endpoint=remote.shown_url,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
                tokens_estimated=tokens_estimated,
                seconds=seconds,
                uptime_s=uptime,
                cost_usd=use_cost(pricing, input_tokens + output_tokens, uptime),
                ok=ok,
                at=datetime.fromtimestamp(started, timezone.utc),
            )

    def summary(self, remote: RemoteSettings, now: datetime | None = None, tz: tzinfo | None = None) -> CostSummary:
        """Today and this calendar month in ``tz`` (default: the system's zone) against ``[remote]``'s budget."""
        now = now or datetime.now(timezone.utc)
        day, month = day_and_month_start(now, tz or user_tz())
        month_totals = self.store.totals(month)
        today = self.store.totals(day)
        status = budget_status(month_totals.cost_usd, remote.monthly_budget_usd, remote.budget_warn_fraction)
        return CostSummary(today, month_totals, status, Pricing.from_settings(remote))
