"""Placement policy: a pure function deciding, per model, "local" or "remote", with a reason string.

Rule (memory in MiB, shown to the user in GiB):

* **buffer** = max(``buffer_gib`` x 1024, ``buffer_fraction`` x total RAM): RAM always kept free for the OS,
  the GUI and other apps (defaults 4 GiB and 25 %). The *larger* of the two is used: on small machines the
  fixed 4 GiB protects the desktop, on large ones a quarter of RAM does.
* A model not loaded **needs** ``need_factor`` x its file size (default 2x: weights + KV cache, compute
  buffers and the transient copies made while loading; a rule of thumb from llama.cpp/vLLM sizing guides).
  It loads locally when ``available - need >= buffer``; otherwise its requests go remote.
* The seed's example: 10.5 GiB available, a 1.6 GiB model, 32 GiB of RAM: need 3.2 GiB, buffer
  max(4, 0.25 x 32 = 8) = 8 GiB; 10.5 - 3.2 = 7.3 < 8 -> **remote**. On a 16 GiB machine the buffer is 4 GiB
  and the same model stays local (7.3 >= 4). So the example holds for total RAM > 29.2 GiB (7.3 / 0.25).
* **Pressure**: when ``available < buffer`` the least recently used loaded model (at least ``heavy_min_mib``)
  is unloaded and its requests go remote; its footprint counts as freed and the next LRU model is considered
  until the buffer is met.
* **Hysteresis**: a model that is remote now comes back only when ``available - need >= buffer +
  hysteresis_gib``; since unloading frees about ``need``, a model unloaded under pressure does not reload
  until the pressure has eased by more than the hysteresis band, so decisions do not flap.
* ``mode`` "local"/"remote" forces the placement; a model without a remote endpoint is always local.
* **Budget** (:func:`apply_budget`, after :func:`place`): with ``[remote] monthly_budget_usd`` reached, a model
  placed remote stays local, also when ``placement = "remote"`` forces it (a budget is never exceeded
  silently; raise the budget to go on); near it (``budget_warn_fraction``) it goes remote with a notice. When
  the remote is priced, its reason ends with the price figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from jarvis_desktop.monitor.costs import BudgetStatus, Pricing

MODES = ("auto", "local", "remote")


def _gib(mib: float) -> str:
    return f"{mib / 1024:.1f} GiB"


@dataclass(frozen=True)
class PolicyConfig:
    """Policy knobs (see the module docstring). ``mode``: "auto", "local" or "remote"."""

    need_factor: float = 2.0
    buffer_gib: float = 4.0
    buffer_fraction: float = 0.25
    hysteresis_gib: float = 1.0
    heavy_min_mib: float = 0.0
    mode: str = "auto"

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"placement must be one of {', '.join(MODES)}, got {self.mode!r}")

    @classmethod
    def from_settings(cls, settings: Any, mode: str | None = None) -> PolicyConfig:
        """From ``settings.monitor`` and ``settings.remote.placement`` (``mode`` overrides the latter)."""
        m = settings.monitor
        return cls(
            m.need_factor,
            m.buffer_gib,
            m.buffer_fraction,
            m.hysteresis_gib,
            m.heavy_min_mib,
            mode or settings.remote.placement,
        )

    def buffer_mib(self, total_mib: float) -> float:
        """RAM to keep free, MiB: max(buffer_gib x 1024, buffer_fraction x total_mib)."""
        return max(self.buffer_gib * 1024.0, self.buffer_fraction * total_mib)


@dataclass(frozen=True)
class MemoryState:
    """``available_mib``: RAM available for new allocations (psutil ``available``); ``total_mib``: all RAM."""

    available_mib: float
    total_mib: float


@dataclass(frozen=True)
class ModelState:
    """A model as the policy sees it.

    ``size_mib``: file size; ``loaded``: in local memory now; ``footprint_mib``: measured RSS of the loaded
    model (None = use need_factor x size); ``last_used``: epoch s (0 = never); ``placement``: the previous
    decision ("local"/"remote", for hysteresis); ``remote_ok``: a remote endpoint serves it.
    """

    name: str
    size_mib: float
    loaded: bool = False
    footprint_mib: float | None = None
    last_used: float = 0.0
    placement: str = "local"
    remote_ok: bool = True


@dataclass(frozen=True)
class Placement:
    """The decision for one model: ``where`` "local"/"remote", why, whether to ``unload`` it now, and a
    ``notice`` for the user ("" if none: the budget's warning, see :func:`apply_budget`)."""

    name: str
    where: str
    reason: str
    unload: bool = False
    notice: str = ""


def place(
    models: Sequence[ModelState], memory: MemoryState, config: PolicyConfig = PolicyConfig()
) -> dict[str, Placement]:
    """Decide where each model runs (pure: same inputs, same answer). Returns {name: Placement}."""
    buffer = config.buffer_mib(memory.total_mib)
    free = memory.available_mib
    out: dict[str, Placement] = {}
    auto: list[ModelState] = []
    for m in models:
        if not m.remote_ok:
            out[m.name] = Placement(m.name, "local", "no remote endpoint configured")
        elif config.mode == "local":
            out[m.name] = Placement(m.name, "local", "always local (setting)")
        elif config.mode == "remote":
            out[m.name] = Placement(m.name, "remote", "always remote (setting)", unload=m.loaded)
        elif m.size_mib < config.heavy_min_mib:
            out[m.name] = Placement(m.name, "local", f"small model (< {config.heavy_min_mib:.0f} MiB) stays local")
        else:
            auto.append(m)

    # 1. pressure: unload loaded models, least recently used first, until the buffer is free again
    for m in sorted((m for m in auto if m.loaded), key=lambda m: m.last_used):
        if free < buffer:
            freed = m.footprint_mib if m.footprint_mib is not None else config.need_factor * m.size_mib
            out[m.name] = Placement(
                m.name,
                "remote",
                f"RAM pressure: {_gib(free)} free < {_gib(buffer)} buffer; "
                f"unloaded (least recently used), requests go remote",
                unload=True,
            )
            free += freed
        else:
            out[m.name] = Placement(m.name, "local", f"loaded; {_gib(free)} free >= {_gib(buffer)} buffer")

    # 2. models not loaded, most recently used first: each local one reserves its need
    for m in sorted((m for m in auto if not m.loaded), key=lambda m: -m.last_used):
        need = config.need_factor * m.size_mib
        band = config.hysteresis_gib * 1024.0 if m.placement == "remote" else 0.0
        math = f"{_gib(free)} free - {_gib(need)} needed ({config.need_factor:g} x {_gib(m.size_mib)})"
        wanted = f"{_gib(buffer)} buffer" + (f" + {_gib(band)} hysteresis" if band else "")
        if free - need >= buffer + band:
            out[m.name] = Placement(m.name, "local", f"fits: {math} >= {wanted}")
            free -= need
        else:
            out[m.name] = Placement(m.name, "remote", f"not enough RAM: {math} < {wanted}")
    return out


def cost_phrase(pricing: Pricing, budget: BudgetStatus) -> str:
    """The price figures a remote placement's reason ends with ("" when the remote is not priced and has no
    budget), e.g. "VM $0.0638/h, stops after 15 idle min (a start bills 1 + 15 min = $0.017 beyond the work);
    this month $0.40 of $20.00"."""
    parts = []
    if pricing.per_hour > 0:
        overhead = pricing.start_minutes + pricing.idle_stop_minutes
        parts.append(
            f"VM ${pricing.per_hour:g}/h, stops after {pricing.idle_stop_minutes:g} idle min (a start bills "
            f"{pricing.start_minutes:g} + {pricing.idle_stop_minutes:g} min = ${overhead / 60 * pricing.per_hour:.3f}"
            " beyond the work)"
        )
    if pricing.per_million_tokens > 0:
        parts.append(f"${pricing.per_million_tokens:g} per million tokens")
    if budget.budget_usd > 0:
        parts.append(f"this month ${budget.month_usd:.2f} of ${budget.budget_usd:.2f}")
    elif pricing.priced:
        parts.append(f"this month ${budget.month_usd:.2f}")
    return "; ".join(parts)


def apply_budget(decision: Placement, budget: BudgetStatus, pricing: Pricing, mode: str = "auto") -> Placement:
    """The decision after the monthly budget (pure). ``mode``: the placement asked ("auto"/"remote"/"local").

    * budget "over" and the decision is remote: local, reason and notice "remote budget reached: $20.00 of $20.00
      this month; answering locally" (+ that forcing "remote" does not override it, when it was forced);
    * budget "near" and remote: remote, with the warning as its ``notice``;
    * otherwise unchanged; a remote decision's reason gets :func:`cost_phrase` appended when priced.
    """
    if decision.where != "remote":
        return decision
    if budget.state == "over":
        text = f"{budget.message}; answering locally"
        if mode == "remote":
            text += " (placement 'remote' does not override the budget: raise [remote] monthly_budget_usd)"
        return Placement(decision.name, "local", text, unload=False, notice=text)
    figures = cost_phrase(pricing, budget)
    reason = f"{decision.reason}; {figures}" if figures else decision.reason
    notice = budget.message if budget.state == "near" else decision.notice
    return Placement(decision.name, "remote", reason, unload=decision.unload, notice=notice)
