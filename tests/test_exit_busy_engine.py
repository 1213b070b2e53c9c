"""Quitting while the engine thread is still inside a call that cannot be interrupted (a model loading): the GUI's
exit path (``run_gui`` -> ``exit_code_safely``) ends the process at once with its exit code and a log line, rather
than leaving a running QThread to be destroyed at interpreter exit (Qt aborts the process when one is:
"QThread: Destroyed while thread is still running", seen once while closing a window whose engine waited on the
embedding child). With no busy thread the exit code is simply returned."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("PySide6")

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import sys, time
    from PySide6.QtWidgets import QApplication
    from jarvis_desktop.ui.workers import EngineThread, Worker, exit_code_safely, threads_still_running

    class Load(Worker):
        def execute(self, get):
            get()  # builds the Assistant: here 30 s of "loading"

    app = QApplication([])
    quick = EngineThread(lambda: None)
    quick.shutdown(5000)
    print("busy after a quick engine:", threads_still_running(), flush=True)
    print("code:", exit_code_safely(7), flush=True)  # nothing busy: returned
    engine = EngineThread(lambda: time.sleep(30))  # the Assistant "loads" for 30 s
    engine.submit(Load())
    time.sleep(0.5)
    engine.shutdown(500)  # the window closes: the busy thread is left to finish
    print("busy after a loading engine:", threads_still_running(), flush=True)
    exit_code_safely(3)
    print("returned", flush=True)
    sys.exit(5)
    """
)


def test_quitting_with_a_busy_engine_thread_ends_at_once_with_the_exit_code():
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert "busy after a quick engine: 0" in proc.stdout and "code: 7" in proc.stdout
    assert "busy after a loading engine: 1" in proc.stdout
    assert proc.returncode == 3 and "returned" not in proc.stdout, (proc.returncode, proc.stdout, proc.stderr[-800:])
    assert "still busy at exit" in proc.stderr and "Destroyed while thread" not in proc.stderr
