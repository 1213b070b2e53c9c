"""``volume_set``: output volume up / down / to N % / mute / unmute, on the default output device.

Backends, first found wins: ``pactl`` (PulseAudio, and PipeWire through pipewire-pulse), ``wpctl``
(PipeWire/WirePlumber), ``osascript`` (macOS). None of them: "Volume control is not supported here:
install pactl (pulseaudio-utils) or wpctl (wireplumber)". Volumes are whole percent 0..100; "up"/"down"
move by :data:`STEP` points. The previous level is kept so "undo" puts it back.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.actions.tools import available, run_tool
from jarvis_desktop.nlu.numbers import normalize_numbers
from jarvis_desktop.nlu.result import ParseResult

STEP = 10
NOT_SUPPORTED = "Volume control is not supported here: install pactl (pulseaudio-utils) or wpctl (wireplumber)."


@dataclass(frozen=True)
class VolumeRequest:
    """``op``: "set" (``level`` %), "up"/"down" (``level`` points), "mute", "unmute" or "get"."""

    op: str
    level: int = 0


def parse_request(text: str) -> VolumeRequest:
    """What the sentence asks: "mute", "turn it up", "set the volume to forty percent", "volume 30"."""
    t = normalize_numbers(text.lower())
    if re.search(r"\bun-?mute\b|\bsound (?:back )?on\b|\bturn (?:the )?sound (?:back )?on\b", t):
        return VolumeRequest("unmute")
    if re.search(r"\bmute\b|\bsilence\b|\bsound off\b|\bturn (?:the )?sound off\b", t):
        return VolumeRequest("mute")
    if re.search(r"\b(?:max(?:imum)?|full(?: volume)?|all the way up)\b", t):
        return VolumeRequest("set", 100)
    number = re.search(r"\b(\d{1,3})\s*(?:%|percent|per cent)?", t)
    if number and re.search(r"\b(?:to|at|volume|set|make it)\b", t):
        return VolumeRequest("set", max(0, min(100, int(number.group(1)))))
    if re.search(r"\bhalf\b", t):
        return VolumeRequest("set", 50)
    step = STEP * 2 if re.search(r"\b(?:a lot|way|much)\b", t) else STEP
    if re.search(r"\b(?:up|louder|raise|increase|higher|boost|pump)\b", t):
        return VolumeRequest("up", step)
    if re.search(r"\b(?:down|quieter|lower|decrease|softer|reduce|turn it down)\b", t):
        return VolumeRequest("down", step)
    return VolumeRequest("get")


class Mixer:
    """The default output of one backend: ``get() -> (percent, muted)``, ``set(percent)``, ``mute(bool)``.

    Methods return an error text ("" on success) instead of raising.
    """

    def __init__(self, backend: str) -> None:
        self.backend = backend

    @staticmethod
    def find() -> Mixer | None:
        """The first available backend on this machine, or None."""
        if sys.platform == "darwin" and available("osascript"):
            return Mixer("osascript")
        for name in ("pactl", "wpctl"):
            if available(name):
                return Mixer(name)
        return None

    def get(self) -> tuple[int | None, bool | None, str]:
        if self.backend == "pactl":
            vol, mute = (
                run_tool("pactl", "get-sink-volume", "@DEFAULT_SINK@"),
                run_tool("pactl", "get-sink-mute", "@DEFAULT_SINK@"),
            )
            if not vol.ok:
                return None, None, vol.err or "pactl failed"
            m = re.search(r"(\d+)%", vol.out)
            return (int(m.group(1)) if m else None), ("yes" in mute.out.lower() if mute.ok else None), ""
        if self.backend == "wpctl":
            run = run_tool("wpctl", "get-volume", "@DEFAULT_AUDIO_SINK@")
            if not run.ok:
                return None, None, run.err or "wpctl failed"
            m = re.search(r"Volume:\s*([\d.]+)", run.out)
            return (round(float(m.group(1)) * 100) if m else None), "MUTED" in run.out, ""
        run = run_tool("osascript", "-e", "get volume settings")
        m = re.search(r"output volume:(\d+).*output muted:(true|false)", run.out)
        return (int(m.group(1)) if m else None), (m.group(2) == "true" if m else None), ("" if run.ok else run.err)

    def set(self, percent: int) -> str:
        percent = max(0, min(100, int(percent)))
        if self.backend == "pactl":
            run = run_tool("pactl", "set-sink-volume", "@DEFAULT_SINK@", f"{percent}%")
        elif self.backend == "wpctl":
            run = run_tool("wpctl", "set-volume", "@DEFAULT_AUDIO_SINK@", f"{percent / 100:.2f}")
        else:
            run = run_tool("osascript", "-e", f"set volume output volume {percent}")
        return "" if run.ok else (run.err or f"{self.backend} failed")

    def mute(self, on: bool) -> str:
        if self.backend == "pactl":
            run = run_tool("pactl", "set-sink-mute", "@DEFAULT_SINK@", "1" if on else "0")
        elif self.backend == "wpctl":
            run = run_tool("wpctl", "set-mute", "@DEFAULT_AUDIO_SINK@", "1" if on else "0")
        else:
            run = run_tool("osascript", "-e", f"set volume output muted {'true' if on else 'false'}")
        return "" if run.ok else (run.err or f"{self.backend} failed")


def set_volume(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Carry out a volume command. ``data``: ``backend``, ``op``, ``before``/``volume`` (%), ``muted``."""
    request = parse_request(parse.text or "")
    mixer = Mixer.find()
    if mixer is None:
        return refused(parse.intent, NOT_SUPPORTED, "Volume: not supported here", op=request.op)
    before, muted, err = mixer.get()
    if err:
        return ActionResult(
            intent=parse.intent,
            kind="failed",
            summary="Volume: sound server unreachable",
            text=f"I couldn't reach the sound system ({err}).",
            data={"backend": mixer.backend},
        )
    data: dict[str, Any] = {"backend": mixer.backend, "op": request.op, "before": before, "muted": muted}
    if request.op == "get":
        state = " (muted)" if muted else ""
        text = f"The volume is at {before}%{state}." if before is not None else "I couldn't read the volume."
        return ActionResult(intent=parse.intent, kind="answer", text=text, summary=text.rstrip("."), data=data)
    if request.op in ("mute", "unmute"):
        on = request.op == "mute"
        summary = "mute the sound" if on else "unmute the sound"
        if ctx.dry_run:
            return would(parse.intent, summary, **data)
        err = mixer.mute(on)
        text = "Muted." if on else f"Sound on, at {before}%."
        undo = {"op": "mute", "on": bool(muted)} if muted is not None else None
        data["muted"] = on
    else:
        base = before if before is not None else 50
        target = (
            request.level if request.op == "set" else base + (request.level if request.op == "up" else -request.level)
        )
        target = max(0, min(100, target))
        if ctx.dry_run:
            return would(parse.intent, f"set the volume to {target}%", **data, volume=target)
        err = mixer.set(target)
        if not err and muted and target > 0:
            err = mixer.mute(False)
        text = f"Volume set to {target}%."
        undo = {"op": "set_volume", "level": before} if before is not None else None
        data["volume"] = target
    if err:
        return ActionResult(
            intent=parse.intent,
            kind="failed",
            text=f"The volume could not be changed ({err}).",
            summary="Volume: failed",
            data=data,
        )
    return ActionResult(
        intent=parse.intent, kind="done", text=text, summary=f"Volume: {text.rstrip('.')}", data=data, undo=undo
    )
