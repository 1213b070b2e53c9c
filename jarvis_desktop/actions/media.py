"""``media_control``: play / pause / next / previous / stop on the running media player.

Linux: MPRIS through ``playerctl`` (the most recently active player). Without it: "Media control is not
supported here: install playerctl". "Play some jazz" (a payload) cannot search a library: the answer says
so instead of pretending; "play"/"resume" alone resumes the player.
"""

from __future__ import annotations

import re
from typing import Any

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.actions.tools import available, run_tool
from jarvis_desktop.nlu.result import ParseResult

NOT_SUPPORTED = "Media control is not supported here: install playerctl."
#: command -> (playerctl verb, reply)
COMMANDS = {
    "pause": ("pause", "Paused."),
    "play": ("play", "Playing."),
    "toggle": ("play-pause", "Toggled play/pause."),
    "next": ("next", "Next track."),
    "previous": ("previous", "Previous track."),
    "stop": ("stop", "Stopped."),
}


def parse_command(text: str) -> str:
    """ "pause", "play", "next", "previous", "stop" or "toggle" from the sentence."""
    t = text.lower()
    if re.search(r"\b(?:next|skip|forward)\b", t):
        return "next"
    if re.search(r"\b(?:previous|last|back|rewind|go back)\b", t):
        return "previous"
    if re.search(r"\b(?:pause|hold|freeze)\b", t):
        return "pause"
    if re.search(r"\bstop\b", t):
        return "stop"
    if re.search(r"\b(?:play|resume|continue|unpause|start)\b", t):
        return "play"
    return "toggle"


def control_media(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Send the command to the player. ``data``: ``command``, ``player`` (when known)."""
    command = parse_command(parse.text or "")
    payload = (parse.payload or "").strip()
    data: dict[str, Any] = {"command": command}
    if payload and command == "play":
        return refused(
            parse.intent,
            f"I can't search for “{payload}” yet: start it in your player, then I can pause, resume and skip.",
            f"Media: play {payload}",
            command=command,
            payload=payload,
        )
    if not available("playerctl"):
        return refused(parse.intent, NOT_SUPPORTED, "Media: not supported here", **data)
    verb, reply = COMMANDS[command]
    if ctx.dry_run:
        return would(parse.intent, f"send “{verb}” to the media player", **data)
    run = run_tool("playerctl", verb)
    if not run.ok:
        if "no players" in (run.err + run.out).lower():
            return refused(parse.intent, "No media player is running.", "Media: no player", **data)
        return ActionResult(
            intent=parse.intent,
            kind="failed",
            text=f"The player did not respond ({run.err}).",
            summary="Media: failed",
            data=data,
        )
    player = run_tool("playerctl", "metadata", "--format", "{{playerName}}")
    if player.ok and player.out:
        data["player"] = player.out
    return ActionResult(intent=parse.intent, kind="done", text=reply, summary=f"Media: {command}", data=data)
