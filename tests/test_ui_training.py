"""The Training tab offscreen on a real runner: a tiny real job shows its progress, loss curve, log and
history row; Cancel stops a running job; a bad JSONL line is named before anything starts; the device is
asked from a job process. The tab inside the main window hot-swaps an adapter through the engine thread."""

from __future__ import annotations

import os

os.environ["QT_QPA_PLATFORM"] = "offscreen"  # before any QApplication exists

import sys

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from jobs_support import tiny_dataset

from jarvis_desktop.ui.training_tab import JobsController, TrainingTab

pytestmark = pytest.mark.slow


def _tiny_form(tab: TrainingTab, data, steps: int) -> None:
    tab.set_dataset(str(data))
    tab.max_steps.setValue(steps)
    tab.batch_size.setValue(1)
    tab.max_len.setValue(32)


@pytest.fixture
def tab(qtbot, home):
    # tiny jobs: LoRA on the last 2 layers, 2 validation rows, no GGUF (fields the form does not show)
    widget = TrainingTab(
        JobsController(),
        auto_activate=False,
        spec_defaults=dict(first_layer=28, eval_rows=2, gguf=False, checkpoint_every=1),
    )
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    yield widget
    widget.controller.close(timeout_s=5.0)


def test_a_tiny_job_shows_progress_loss_curve_log_and_history_then_cancel_works(qtbot, tab, tmp_path):
    torch_before = "torch" in sys.modules  # other tests of this pytest process may have imported it
    data = tiny_dataset(tmp_path / "mine.jsonl")
    _tiny_form(tab, data, steps=2)
    qtbot.waitUntil(lambda: "16 rows" in tab.data_status.text(), timeout=10_000)
    finished = []
    tab.job_finished.connect(lambda title, body: finished.append(title))
    assert tab.start()
    qtbot.waitUntil(lambda: tab.current_job_id is not None, timeout=10_000)
    job_id = tab.current_job_id
    qtbot.waitUntil(lambda: (tab.history_row(job_id) or {}).get("Status") == "succeeded", timeout=300_000)
    assert [p[0] for p in tab.plot.points] == [1, 2]
    assert tab.progress_bar.value() == tab.progress_bar.maximum() == 2
    assert "step 2/2" in tab.log_view.toPlainText()
    assert "exact" in tab.eta_label.text()
    row = tab.history_row(job_id)
    assert row["Steps"] == "2/2" and row["Loss"] != "-" and "/" in row["Exact % new / current"]
    assert finished == [f"Training job #{job_id} succeeded"]
    qtbot.waitUntil(lambda: f"job-{job_id}" in tab.adapter_names(), timeout=10_000)
    qtbot.waitUntil(lambda: tab.device_label.text().startswith("Device: CPU"), timeout=120_000)
    assert torch_before or "torch" not in sys.modules  # the job, not the GUI process, imports torch

    # a long job, cancelled from the tab while it runs
    tab.max_steps.setValue(500)
    assert tab.start()
    qtbot.waitUntil(lambda: tab.current_job_id not in (None, job_id), timeout=10_000)
    long_id = tab.current_job_id
    qtbot.waitUntil(lambda: bool(tab.plot.points), timeout=180_000)
    assert tab.cancel_button.isEnabled()
    tab.cancel_button.click()
    qtbot.waitUntil(lambda: (tab.history_row(long_id) or {}).get("Status") == "cancelled", timeout=60_000)
    assert "cancelled" in tab.log_view.toPlainText()


def test_a_bad_line_is_named_and_the_job_is_not_started(qtbot, tab, tmp_path):
    data = tiny_dataset(tmp_path / "mine.jsonl", rows=3)
    data.write_text(data.read_text() + '{"text": "play jazz", "intent": "music"}\n')
    tab.set_dataset(str(data))
    qtbot.waitUntil(lambda: "line 4" in tab.data_status.text(), timeout=10_000)
    assert "intent" in tab.data_status.text()
    assert not tab.start_button.isEnabled()
    assert not tab.start()
    assert tab.history_table.rowCount() == 0


def test_activate_in_the_window_swaps_the_adapter_into_the_running_engine(qtbot, home, tmp_path_factory):
    import shutil

    from jobs_support import shared_trained_adapter
    from PySide6.QtCore import Signal

    from jarvis_desktop.assistant import Assistant
    from jarvis_desktop.config import Settings
    from jarvis_desktop.ui.main_window import MainWindow
    from jarvis_desktop.ui.workers import Worker

    class NoPreloadAssistant(Assistant):
        def warm_up(self) -> None:
            pass

    class ParseWorker(Worker):  # runs on the window's engine thread, like every engine call
        finished = Signal(object)

        def execute(self, get) -> None:
            nlu = get().nlu
            self.finished.emit((nlu.fallback.adapter_dir, nlu.parse("water the plants when I get home").source))

    torch_before = "torch" in sys.modules  # other tests of this pytest process may have imported it
    src, _, _ = shared_trained_adapter(tmp_path_factory)
    shutil.copytree(src, home / "adapters" / "mine")
    settings = Settings()
    settings.nlu.fallback, settings.nlu.fallback_threshold = "llama", 1.01
    settings.actions.notify_command = settings.actions.sound = False
    window = MainWindow(settings, assistant_factory=lambda: NoPreloadAssistant(settings), use_tray=False)
    qtbot.addWidget(window)
    try:
        qtbot.waitUntil(lambda: "mine" in window.training_tab.adapter_names(), timeout=20_000)
        window.activate_adapter("mine")
        qtbot.waitUntil(lambda: "Adapter mine is active" in window.training_tab.log_view.toPlainText(), timeout=60_000)
        got = []
        worker = ParseWorker()
        worker.finished.connect(got.append)
        window.engine.submit(worker)
        qtbot.waitUntil(lambda: bool(got), timeout=30_000)
        assert got[0] == (home / "adapters" / "mine", "lora")
        assert torch_before or "torch" not in sys.modules  # the job, not the GUI process, imports torch
    finally:
        window.shutdown()


def test_the_gui_process_never_imports_torch(tmp_path):
    """The whole window (Training tab included) in a fresh process: torch stays out of it."""
    import subprocess

    code = (
        "import os, sys; os.environ['QT_QPA_PLATFORM'] = 'offscreen'\n"
        "from PySide6.QtWidgets import QApplication\n"
        "from jarvis_desktop.ui.main_window import MainWindow\n"
        "app = QApplication([]); w = MainWindow(use_tray=False); w.show(); app.processEvents()\n"
        "w.tabs.setCurrentWidget(w.training_tab); app.processEvents()\n"
        "print(sorted(m for m in ('torch', 'transformers', 'peft') if m in sys.modules)); os._exit(0)\n"
    )
    env = dict(os.environ, JARVIS_DESKTOP_HOME=str(tmp_path))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_job_errors_point_at_the_tabs_resume_button_not_the_command_line():
    from jarvis_desktop.ui.training_tab.tab import for_this_tab

    stored = "Jarvis was closed while the job ran; resume it with: jarvis-desktop jobs resume 12"
    shown = for_this_tab(stored)
    assert "jarvis-desktop" not in shown and "press Resume" in shown
    assert for_this_tab("the data file is empty") == "the data file is empty"
