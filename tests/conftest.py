"""Shared test set-up: an isolated JARVIS_DESKTOP_HOME per test session, Qt offscreen, no hub access."""

from __future__ import annotations

import faulthandler
import os

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["JARVIS_DESKTOP_NO_WELCOME"] = "1"  # no first-run tour over GUI tests (tests/test_welcome.py unsets it)

# Fixture modules shared by several test files: ``home`` (a fresh JARVIS_DESKTOP_HOME for the jobs tests),
# ``shared_trained_adapter``, ``virtual_mic`` (PulseAudio null sink + remapped source), ``speaker_sink`` (a null
# sink for speech output, recorded from its monitor).
pytest_plugins = ["jobs_support", "helpers_pulse", "helpers_speaker"]


HANG_TIMEOUT_S = float(os.environ.get("JARVIS_TEST_HANG_S", "420"))
"""A test still running after this long (setup, call and teardown) is taken as hung: every thread's stack is written
to the terminal and the run stops (exit code 1), rather than CI waiting out its 90 minutes with nothing to show.
Longer than pytest-timeout's 300 s (pyproject.toml), which fails a test stuck in Python code and lets the run go
on; this catches a test stuck in C code (a Qt or PortAudio call, a nested event loop) where that cannot.
``JARVIS_TEST_HANG_S`` overrides it."""

_terminal_fd: int | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Keep a descriptor of the real stderr (during a test, fd 2 is pytest's capture file)."""
    global _terminal_fd
    _terminal_fd = os.dup(2)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Arm the hang watchdog (:data:`HANG_TIMEOUT_S`) around one test's setup, call and teardown."""
    if _terminal_fd is not None:
        faulthandler.dump_traceback_later(HANG_TIMEOUT_S, exit=True, file=_terminal_fd)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory):
    """Every test runs with its own data/config dir, never the user's."""
    home = tmp_path_factory.mktemp("jarvis-home")
    old = os.environ.get("JARVIS_DESKTOP_HOME")
    os.environ["JARVIS_DESKTOP_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("JARVIS_DESKTOP_HOME", None)
    else:
        os.environ["JARVIS_DESKTOP_HOME"] = old


@pytest.fixture(scope="session")
def stt():
    """The embedded Whisper tiny.en (faster-whisper, int8 CPU), loaded once for the whole session."""
    from jarvis_desktop.stt.whisper import SpeechToText

    model = SpeechToText()
    model.warm_up()
    return model
