"""Running the small system tools actions rely on (``pactl``, ``wpctl``, ``playerctl`` ...).

Always an argument list, never a shell; a short timeout; the outcome as a :class:`ToolRun` rather than an
exception, so a handler can word the answer ("not supported here: install X", "no player is running").
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass


@dataclass(frozen=True)
class ToolRun:
    """``ok``: exit status 0. ``out``: stripped stdout; ``err``: the first non-empty line of stderr.
    ``missing``: the program is not installed."""

    ok: bool
    out: str = ""
    err: str = ""
    missing: bool = False
    code: int | None = None


def available(program: str) -> bool:
    """True when ``program`` is on PATH."""
    return shutil.which(program) is not None


def run_tool(*argv: str, timeout_s: float = 5.0) -> ToolRun:
    """Run ``argv`` (no shell) and capture its output; never raises."""
    path = shutil.which(argv[0])
    if path is None:
        return ToolRun(ok=False, missing=True, err=f"{argv[0]} is not installed")
    try:
        done = subprocess.run(
            [path, *argv[1:]], capture_output=True, text=True, timeout=timeout_s, stdin=subprocess.DEVNULL, check=False
        )
    except subprocess.TimeoutExpired:
        return ToolRun(ok=False, err=f"{argv[0]} did not answer within {timeout_s:g} s")
    except OSError as exc:
        return ToolRun(ok=False, err=f"{argv[0]}: {exc.strerror or exc}")
    err = next((line.strip() for line in done.stderr.splitlines() if line.strip()), "")  # first line only
    return ToolRun(ok=done.returncode == 0, out=done.stdout.strip(), err=err, code=done.returncode)
