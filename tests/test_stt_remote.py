"""Speech-to-text offloaded to a real wyoming-faster-whisper server on 127.0.0.1 (the embedded tiny.en), placed
per utterance, with a local fallback and a notice when the server is down, hung or not speaking Wyoming."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator

import numpy as np
import pytest
from helpers_audio import espeak_audio, normalise, pad

from jarvis_desktop.config import Settings
from jarvis_desktop.models import embedded_whisper_path
from jarvis_desktop.monitor.resource_monitor import ResourceMonitor
from jarvis_desktop.stt.remote import PlacedSpeechToText

pytestmark = pytest.mark.slow

FAULT_TIMEOUT_S = 2.0
"""``[remote] stt_timeout_s`` in the fault tests: the hung server is given up after this."""

FALLBACK_BOUND_S = FAULT_TIMEOUT_S + 0.5
"""The longest the remote attempt may take before the local transcript starts (the time-out + slack)."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def wyoming_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real wyoming-faster-whisper server on the embedded tiny.en (no model hub), as the app's local settings."""
    port = _free_port()
    data = tmp_path_factory.mktemp("wyoming")
    cmd = [sys.executable, "-m", "wyoming_faster_whisper", "--uri", f"tcp://127.0.0.1:{port}"]
    cmd += ["--model", str(embedded_whisper_path()), "--data-dir", str(data), "--local-files-only"]
    cmd += ["--compute-type", "int8", "--cpu-threads", "2", "--language", "en", "--beam-size", "5", "--vad-filter"]
    log = (data / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert proc.poll() is None, (data / "server.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail("wyoming-faster-whisper did not listen within 60 s")
        yield f"tcp://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()


class FakeServer:
    """A real TCP server on 127.0.0.1 that accepts and then stays silent (``reply`` None: hung) or sends
    ``reply`` and keeps the connection open; ``accepted`` counts connections."""

    def __init__(self, reply: bytes | None) -> None:
        self.reply = reply
        self.accepted = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.sock.settimeout(0.2)
        self.port = int(self.sock.getsockname()[1])
        self.conns: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self.accepted += 1
            self.conns.append(conn)
            if self.reply is not None:
                conn.sendall(self.reply)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(2)
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.fixture(scope="module")
def command(tmp_path_factory: pytest.TempPathFactory) -> np.ndarray:
    return pad(espeak_audio("what time is it", tmp_path_factory.mktemp("espeak")), 0.3, 0.3)


def _placed(url: str, stt, placement: str = "auto", timeout_s: float = 15.0) -> PlacedSpeechToText:
    settings = Settings()
    settings.remote.stt_url = url
    settings.remote.stt_timeout_s = timeout_s
    settings.remote.placement = placement
    return PlacedSpeechToText(settings, local=stt, monitor=ResourceMonitor.from_settings(settings))


def test_remote_transcript_matches_the_local_one(wyoming_url, stt, command):
    local = stt.transcribe(command)
    placed = _placed(wyoming_url, stt, placement="remote")
    remote = placed.transcribe(command)
    assert placed.last is not None and placed.last.backend == "remote" and not placed.last.fallback
    assert placed.last.reason == "always remote (setting)" and placed.last.notice == ""
    assert normalise(remote.text) == normalise(local.text) == "what time is it"
    assert remote.language == "en" and remote.duration_s == pytest.approx(len(command) / 16000)


def test_placement_local_never_contacts_the_server(stt, command):
    server = FakeServer(reply=None)
    try:
        placed = _placed(f"tcp://127.0.0.1:{server.port}", stt, placement="local")
        text = placed.transcribe(command).text
        time.sleep(0.3)  # an accept would have been counted by now
        assert server.accepted == 0
        assert placed.last is not None and placed.last.backend == "local"
        assert placed.last.reason == "always local (setting)"
        assert normalise(text) == "what time is it"
    finally:
        server.close()


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        ("down", "cannot be reached"),
        ("hung", f"did not answer within {FAULT_TIMEOUT_S:g} s"),
        ("garbage", "does not speak Wyoming"),
    ],
)
def test_a_failing_server_gives_the_local_transcript_with_a_notice(fault, message, stt, command):
    server = None
    if fault == "down":
        port = _free_port()  # bound, then closed: nothing listens there
    else:
        server = FakeServer(reply=None if fault == "hung" else b"HTTP/1.1 500 Internal Server Error\r\n\r\n")
        port = server.port
    try:
        placed = _placed(f"tcp://127.0.0.1:{port}", stt, placement="remote", timeout_s=FAULT_TIMEOUT_S)
        notices: list[str] = []
        placed.on_notice = notices.append
        t0 = time.perf_counter()
        text = placed.transcribe(command).text
        total = time.perf_counter() - t0
        info = placed.last
        assert info is not None and info.backend == "local" and info.fallback
        assert message in info.notice and info.notice.endswith("transcribed locally") and notices == [info.notice]
        assert info.remote_s < FALLBACK_BOUND_S, info
        assert normalise(text) == "what time is it"
        assert total < FALLBACK_BOUND_S + 5.0  # the local transcript follows at once
        # the next utterance does not pay the failure again: local at once, and the reason says why
        accepted = server.accepted if server else 0
        again = placed.transcribe(command)
        assert normalise(again.text) == "what time is it"
        assert placed.last is not None and placed.last.backend == "local" and "retrying it after" in placed.last.reason
        assert placed.last.remote_s == 0.0 and (server.accepted if server else 0) == accepted
    finally:
        if server is not None:
            server.close()
