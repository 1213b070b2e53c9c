"""Run the real ``jarvis-desktop`` CLI in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys


def run_cli(*args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 180):
    """Run ``python -m jarvis_desktop ARGS``; returns the CompletedProcess (text mode)."""
    full_env = dict(os.environ)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "jarvis_desktop", *args],
        input=stdin,
        text=True,
        capture_output=True,
        env=full_env,
        timeout=timeout,
    )
