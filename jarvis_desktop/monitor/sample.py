"""One resource sample: system CPU %, RAM, swap, this process's RSS, and GPU memory where reported.

Units: memory in MiB (2^20 bytes), CPU in percent of all cores (0-100, psutil's system-wide figure).
GPU memory is read only if ``torch`` is **already imported** by something else (the LoRA fallback, training):
this module never imports torch, which would cost seconds and hundreds of MiB just to look.
"""

from __future__ import annotations

import sys
import time
from dataclasses import asdict, dataclass
from typing import Any

import psutil

MIB = 1024 * 1024


@dataclass(frozen=True)
class Sample:
    """One reading.

    ``t``: ``time.time()`` (s since the epoch); ``cpu_percent``: system CPU use since the previous sample
    (%, all cores); ``ram_total_mib`` / ``ram_available_mib`` (psutil ``available``: what can be given to new
    allocations without swapping) / ``ram_used_percent`` (%); ``swap_total_mib`` / ``swap_used_mib``;
    ``process_rss_mib``: this process's resident set; ``gpu_name`` / ``gpu_used_mib`` / ``gpu_total_mib``:
    None when no GPU is reported (torch not loaded, or CPU only).
    """

    t: float
    cpu_percent: float
    ram_total_mib: float
    ram_available_mib: float
    ram_used_percent: float
    swap_total_mib: float
    swap_used_mib: float
    process_rss_mib: float
    gpu_name: str | None = None
    gpu_used_mib: float | None = None
    gpu_total_mib: float | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain dict, MiB and % rounded to 0.1."""
        return {k: (round(v, 1) if isinstance(v, float) and k != "t" else v) for k, v in asdict(self).items()}


def gpu_memory() -> tuple[str, float, float] | None:
    """(name, used MiB, total MiB) of GPU 0 via torch CUDA or MPS, or None.

    Only looks when ``torch`` is already in ``sys.modules``; any torch error gives None.
    CUDA: used = total - free from ``torch.cuda.mem_get_info`` (all processes); MPS: this process's
    ``torch.mps.current_allocated_memory()`` against ``recommended_max_memory()``.
    """
    torch = sys.modules.get("torch")
    if torch is None:
        return None
    try:
        if torch.cuda.is_available():
            free, total = torch.cuda.mem_get_info(0)
            return torch.cuda.get_device_name(0), (total - free) / MIB, total / MIB
        mps = getattr(torch, "mps", None)
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available() and mps:
            used = mps.current_allocated_memory() / MIB
            total = mps.recommended_max_memory() / MIB if hasattr(mps, "recommended_max_memory") else 0.0
            return "Apple MPS", used, total
    except Exception:
        return None
    return None


def take_sample(process: psutil.Process | None = None) -> Sample:
    """Read the system now (about 0.1-0.3 ms of CPU on Linux).

    ``cpu_percent`` is psutil's non-blocking figure: the system CPU use since the previous call in this
    process (0.0 on the very first call).
    """
    process = process or psutil.Process()
    vm = psutil.virtual_memory()
    sw = psutil.swap_memory()
    gpu = gpu_memory()
    return Sample(
        t=time.time(),
        cpu_percent=float(psutil.cpu_percent(interval=None)),
        ram_total_mib=vm.total / MIB,
        ram_available_mib=vm.available / MIB,
        ram_used_percent=float(vm.percent),
        swap_total_mib=sw.total / MIB,
        swap_used_mib=sw.used / MIB,
        process_rss_mib=process.memory_info().rss / MIB,
        gpu_name=gpu[0] if gpu else None,
        gpu_used_mib=gpu[1] if gpu else None,
        gpu_total_mib=gpu[2] if gpu else None,
    )


def process_rss_mib() -> float:
    """This process's resident set size now, MiB (used to measure a model's footprint as an RSS delta)."""
    return psutil.Process().memory_info().rss / MIB
