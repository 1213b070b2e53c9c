"""The half-initialised-import race, checked in a fresh process.

Two threads importing the same not-yet-imported package at once can get it half-initialised: Python's
per-module import locks hand one thread the partial module instead of deadlocking. It happened at start-up
(commit a12c3fd): the engine thread (building the Assistant, starting the scheduler) and the Training tab's
"jarvis-jobs-ui" thread (building the job runner) both imported ``jarvis_desktop.store`` for the first time,
and failed with ``ImportError: cannot import name 'from_utc_text' from partially initialized module
'jarvis_desktop.store.schedule'`` and ``KeyError: 'jarvis_desktop.store'`` (about one fresh start in three).
The old fix imported those packages by hand in ``ui/main_window.py``; now every module of the app is imported
at module top, so importing ``MainWindow`` (on the GUI thread, before any worker thread starts) imports all
of them. This test pins that down deterministically instead of hoping to lose the race: after the window
starts (scheduler, history, models warm, Training tab refreshed), no ``jarvis_desktop`` module was imported
for the first time after ``MainWindow``'s module (by a worker thread or lazily on the GUI thread), and the
remaining lazy imports (the model libraries) all ran on one thread, so no two threads ever import the same
module concurrently.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys

import pytest

pytest.importorskip("PySide6")

pytestmark = pytest.mark.slow

CHILD = r"""
import os, sys, threading, time
os.environ["QT_QPA_PLATFORM"] = "offscreen"
first = []


class FirstImports:
    # find_spec is only asked for modules that are not in sys.modules yet: one call per first import
    def find_spec(self, name, path=None, target=None):
        first.append((name, threading.current_thread().name))
        return None


sys.meta_path.insert(0, FirstImports())
from PySide6.QtWidgets import QApplication
from jarvis_desktop.ui.main_window import MainWindow

app = QApplication([])
before = len(first)
window = MainWindow(use_tray=False)
errors = []
window.error_shown.connect(errors.append)
window.training_tab.controller.failed.connect(errors.append)
window.show()
window.tabs.setCurrentWidget(window.training_tab)
deadline = time.time() + 120
while time.time() < deadline and not errors and not window.engine_ready:
    app.processEvents()
    time.sleep(0.01)
settle = time.time() + 2  # late answers of the jobs thread and the scheduler
while time.time() < settle:
    app.processEvents()
    time.sleep(0.01)
print(repr({"ready": window.engine_ready, "errors": errors, "later": first[before:]}), flush=True)
os._exit(0)
"""


def test_worker_threads_never_import_app_modules_for_the_first_time(tmp_path):
    env = dict(os.environ, JARVIS_DESKTOP_HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen")
    out = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "Traceback" not in out.stderr, out.stderr  # worker threads print unexpected errors
    report = ast.literal_eval(out.stdout.strip().splitlines()[-1])
    assert report["ready"] and report["errors"] == [], report["errors"]
    late = report["later"]
    ours = sorted({(name, thread) for name, thread in late if name.split(".")[0] == "jarvis_desktop"})
    # (a lazy import on the GUI thread after the workers started races them just the same)
    assert ours == [], f"app modules imported lazily after start-up (import them at module top): {ours}"
    threads = sorted({thread for _name, thread in late})
    assert len(threads) <= 1, f"more than one worker thread imports modules for the first time: {threads}"
