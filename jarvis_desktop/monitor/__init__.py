"""Resource monitor (no Qt): system/process memory sampling, each model's footprint, and the pure
local/remote placement policy. See docs/offload.md.

* :mod:`.sample`   one psutil sample (CPU %, RAM, swap, process RSS, GPU memory if torch is already loaded)
* :mod:`.registry` the models Jarvis has, their estimated and measured footprints, where they run
* :mod:`.resource_monitor` the sampling thread with a rolling history and a thread-safe snapshot
* :mod:`.policy`   ``place(models, memory, config)``: local or remote per model, with a reason
* :mod:`.idle`     last remote activity, in a file a VM auto-shutdown script can read
"""

from jarvis_desktop.monitor.policy import MemoryState, ModelState, Placement, PolicyConfig, place
from jarvis_desktop.monitor.registry import ModelRecord, ModelRegistry, estimate_footprint
from jarvis_desktop.monitor.resource_monitor import ResourceMonitor, shared_monitor
from jarvis_desktop.monitor.sample import Sample, take_sample

__all__ = [
    "MemoryState",
    "ModelRecord",
    "ModelRegistry",
    "ModelState",
    "Placement",
    "PolicyConfig",
    "ResourceMonitor",
    "Sample",
    "estimate_footprint",
    "place",
    "shared_monitor",
    "take_sample",
]
