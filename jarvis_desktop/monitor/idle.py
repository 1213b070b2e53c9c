"""Remote idle tracking: the time of the last remote request, in ``<data dir>/remote_activity.json``.

A VM auto-shutdown script reads that file (see docs/offload.md): ``{"last_activity": <epoch s>,
"last_activity_iso": "...Z", "base_url": ..., "model": ...}``. Written atomically (temp file + rename);
the API key is never written.
"""

from __future__ import annotations

import json
import os
import time
from datetime import datetime, timezone
from pathlib import Path

from jarvis_desktop.config import data_dir

FILE_NAME = "remote_activity.json"


def activity_path() -> Path:
    """``<data dir>/remote_activity.json``."""
    return data_dir() / FILE_NAME


def record_remote_activity(base_url: str, model: str, when: float | None = None) -> Path:
    """Write the activity file now (or at epoch ``when``); returns its path. Errors (full disk) are ignored:
    idle tracking must never fail a chat request."""
    path = activity_path()
    when = time.time() if when is None else when
    data = {
        "last_activity": round(when, 3),
        "last_activity_iso": datetime.fromtimestamp(when, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "base_url": base_url,
        "model": model,
    }
    try:
        tmp = path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        pass
    return path


def remote_idle_minutes(now: float | None = None) -> float | None:
    """Minutes since the last remote request, or None if the remote was never used (or the file is unreadable)."""
    try:
        data = json.loads(activity_path().read_text(encoding="utf-8"))
        last = float(data["last_activity"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return max(0.0, ((time.time() if now is None else now) - last) / 60.0)
