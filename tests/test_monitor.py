"""The resource monitor: real psutil samples, rolling history, clean stop, model footprints, idle file,
and the ``monitor`` CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

import pytest

from jarvis_desktop.monitor import ModelRegistry, ResourceMonitor, estimate_footprint, take_sample
from jarvis_desktop.monitor.idle import activity_path, record_remote_activity, remote_idle_minutes
from jarvis_desktop.monitor.registry import FOOTPRINT_FACTORS


def test_a_sample_reports_plausible_figures():
    s = take_sample()
    assert 0 < s.ram_available_mib <= s.ram_total_mib
    assert 0.0 <= s.ram_used_percent <= 100.0
    assert 0.0 <= s.cpu_percent <= 100.0
    assert s.swap_used_mib <= max(s.swap_total_mib, s.swap_used_mib)
    assert 5 < s.process_rss_mib < s.ram_total_mib
    assert set(s.to_dict()) >= {"cpu_percent", "ram_available_mib", "swap_used_mib", "process_rss_mib", "gpu_used_mib"}


@pytest.mark.slow
def test_the_thread_samples_keeps_a_rolling_history_and_stops_cleanly():
    seen = []
    monitor = ResourceMonitor(interval_s=0.05, history_len=5, on_sample=seen.append)
    before = {t.name for t in threading.enumerate()}
    monitor.start()
    monitor.start()  # idempotent: still one thread
    assert [t.name for t in threading.enumerate()].count("jarvis-monitor") == 1
    time.sleep(0.6)
    t0 = time.perf_counter()
    assert monitor.stop()
    assert time.perf_counter() - t0 < 0.5  # waits on an Event, not a sleep
    assert not monitor.running
    assert {t.name for t in threading.enumerate()} == before
    snap = monitor.snapshot()
    assert len(snap.history) == 5  # rolling: only the newest 5 kept
    assert len(seen) >= 6
    times = [s.t for s in snap.history]
    assert times == sorted(times)
    assert snap.latest is snap.history[-1]
    assert 0.0 <= monitor.overhead_percent() < 50.0
    n = len(seen)
    time.sleep(0.2)
    assert len(seen) == n  # nothing after stop
    assert monitor.stop()  # stopping twice is fine


def test_a_broken_listener_does_not_stop_sampling():
    monitor = ResourceMonitor(interval_s=0.02)
    monitor.add_listener(lambda s: 1 / 0)
    monitor.start()
    time.sleep(0.2)
    monitor.stop()
    assert len(monitor.snapshot().history) >= 3


def test_bad_intervals_are_refused():
    with pytest.raises(ValueError, match="interval"):
        ResourceMonitor(interval_s=0)
    with pytest.raises(ValueError, match="history_len"):
        ResourceMonitor(history_len=0)


def test_latest_resamples_when_stale():
    monitor = ResourceMonitor(interval_s=1.0)
    first = monitor.latest()
    assert monitor.latest(max_age_s=10) is first
    time.sleep(0.05)
    assert monitor.latest(max_age_s=0.01).t > first.t


def test_sampling_never_imports_torch():
    code = (
        "import sys; from jarvis_desktop.monitor import ResourceMonitor; m = ResourceMonitor(0.01).start(); "
        "import time; time.sleep(0.1); m.stop(); print('torch' in sys.modules, m.snapshot().latest.gpu_used_mib)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "None"]


@pytest.mark.slow
def test_registry_estimates_and_measures_a_real_load(tmp_path):
    from jarvis_desktop.models import embedded_chat_gguf

    gguf = embedded_chat_gguf()
    size_mib = gguf.stat().st_size / 2**20
    assert estimate_footprint(gguf, "llama.cpp") == pytest.approx(size_mib * FOOTPRINT_FACTORS["llama.cpp"])
    with pytest.raises(ValueError, match="unknown backend"):
        estimate_footprint(gguf, "tensorflow")
    registry = ModelRegistry()
    rec = registry.register("chat", "llama.cpp", gguf)
    assert rec.state == "unloaded" and rec.footprint_mib is None and rec.size_mib == pytest.approx(size_mib)

    from jarvis_desktop.llm.chat import LocalChatModel

    chat = LocalChatModel(gguf)
    with registry.measure_load("chat"):
        chat.load()
    rec = registry.get("chat")
    assert rec.state == "loaded"
    assert rec.footprint_mib > 0.3 * size_mib  # mmapped weights touched + KV cache
    registry.used("chat", "local")
    assert registry.get("chat").last_backend == "local" and registry.get("chat").last_used > 0
    chat.unload()
    registry.unloaded("chat")
    assert registry.get("chat").state == "unloaded" and not chat.loaded

    with pytest.raises(RuntimeError), registry.measure_load("chat"):
        raise RuntimeError("load failed")
    assert registry.get("chat").state == "unloaded"


def test_idle_file_records_the_last_remote_activity():
    assert activity_path().parent == __import__("jarvis_desktop.config", fromlist=["x"]).data_dir()
    record_remote_activity("http://gpu-box:8000/v1", "llama", when=time.time() - 600)
    data = json.loads(activity_path().read_text())
    assert set(data) == {"last_activity", "last_activity_iso", "base_url", "model"}
    assert "key" not in activity_path().read_text().lower()
    assert remote_idle_minutes() == pytest.approx(10.0, abs=0.1)
    record_remote_activity("http://gpu-box:8000/v1", "llama")
    assert remote_idle_minutes() < 0.1


@pytest.mark.slow
def test_monitor_cli_once_json_and_text():
    env = dict(os.environ)
    env.pop("JARVIS_REMOTE_BASE_URL", None)
    cmd = [sys.executable, "-m", "jarvis_desktop", "monitor", "--once", "--json"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    row = json.loads(out.stdout)
    assert row["sample"]["ram_total_mib"] > 0
    assert row["models"][0]["name"].startswith("chat: SmolLM2")
    assert row["models"][0]["state"] == "unloaded"
    assert row["models"][0]["reason"] == "no remote endpoint configured"
    out = subprocess.run(
        [sys.executable, "-m", "jarvis_desktop", "monitor", "--count", "2", "--interval", "0.1"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("cpu")]
    assert len(lines) == 2 and "GiB free" in lines[0]
    out = subprocess.run(
        [sys.executable, "-m", "jarvis_desktop", "monitor", "--interval", "0"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 2 and out.stderr.startswith("error:")
