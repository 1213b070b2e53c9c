"""``system_status``: CPU, memory, battery, disk and loaded models, measured with psutil."""

from __future__ import annotations

import re
from pathlib import Path

import psutil

from jarvis_desktop.actions.result import ActionResult

GIB = 1024**3


def _topics(text: str) -> set[str]:
    t = text.lower()
    topics = set()
    if re.search(r"\b(cpu|processor|load|busy)\b", t):
        topics.add("cpu")
    if re.search(r"\b(memory|ram|mem)\b", t):
        topics.add("memory")
    if re.search(r"\b(battery|charge|charging|power)\b", t):
        topics.add("battery")
    if re.search(r"\b(disk|storage|space|drive)\b", t):
        topics.add("disk")
    if re.search(r"\b(models?|loaded)\b", t):
        topics.add("models")
    return topics or {"cpu", "memory", "disk"}


def answer_system_status(text: str, loaded_models: list[str]) -> ActionResult:
    """Answer "how much memory am I using", "what's my battery", "which models are loaded".

    Figures: CPU % over a 0.2 s psutil sample; memory used/total in GiB (``psutil.virtual_memory``,
    used = total - available); battery % and plugged state when the platform reports a battery;
    disk used/total for the home directory's filesystem.
    """
    parts: list[str] = []
    data: dict = {}
    topics = _topics(text)
    if "cpu" in topics:
        cpu = psutil.cpu_percent(interval=0.2)
        data["cpu_percent"] = cpu
        parts.append(f"CPU is at {cpu:.0f}% across {psutil.cpu_count()} cores")
    if "memory" in topics:
        vm = psutil.virtual_memory()
        used = (vm.total - vm.available) / GIB
        data.update(
            memory_used_gib=round(used, 2), memory_total_gib=round(vm.total / GIB, 2), memory_percent=vm.percent
        )
        parts.append(f"memory {used:.1f} of {vm.total / GIB:.1f} GiB in use ({vm.percent:.0f}%)")
    if "battery" in topics:
        battery = psutil.sensors_battery() if hasattr(psutil, "sensors_battery") else None
        if battery is None:
            parts.append("no battery reported on this machine")
        else:
            data.update(battery_percent=battery.percent, plugged_in=battery.power_plugged)
            state = "charging" if battery.power_plugged else "on battery"
            parts.append(f"battery at {battery.percent:.0f}% ({state})")
    if "disk" in topics:
        du = psutil.disk_usage(str(Path.home()))
        data.update(disk_used_gib=round(du.used / GIB, 1), disk_total_gib=round(du.total / GIB, 1))
        parts.append(f"disk {du.used / GIB:.0f} of {du.total / GIB:.0f} GiB used")
    if "models" in topics:
        data["loaded_models"] = list(loaded_models)
        parts.append("loaded models: " + (", ".join(loaded_models) if loaded_models else "none yet"))
    sentence = "; ".join(parts)
    sentence = sentence[0].upper() + sentence[1:] + "."
    return ActionResult(intent="system_status", kind="answer", text=sentence, summary=sentence.rstrip("."), data=data)
