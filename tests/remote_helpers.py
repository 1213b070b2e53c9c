"""Real servers for the remote-backend tests: ``python -m llama_cpp.server`` on the embedded SmolLM2 GGUF
("the cloud"), and tiny http.server endpoints that fail on purpose (HTTP 500, or hang)."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

API_KEY = "test-key-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LlamaServer:
    """``python -m llama_cpp.server`` on 127.0.0.1:<free port>; ``base_url`` ends in /v1."""

    def __init__(self, gguf, api_key: str | None = API_KEY) -> None:
        self.port = free_port()
        self.api_key = api_key
        cmd = [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(gguf),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--n_threads",
            "1",
            "--n_ctx",
            "2048",
        ]
        if api_key:
            cmd += ["--api_key", api_key]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._wait_ready()

    def _wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"llama_cpp.server exited with {self.proc.returncode}")
            req = urllib.request.Request(
                f"{self.base_url}/models", headers={"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
            )
            try:
                with urllib.request.urlopen(req, timeout=1) as resp:
                    if resp.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("llama_cpp.server did not answer within 60 s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)


class FailingServer:
    """An OpenAI-shaped endpoint that answers every POST with HTTP 500 (``mode="500"``) or accepts the
    request and never answers (``mode="hang"``). ``requests`` counts the POSTs."""

    def __init__(self, mode: str) -> None:
        self.mode = mode
        self.requests = 0
        self._release = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # keep test output clean
                pass

            def do_POST(self) -> None:
                outer.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                if outer.mode == "hang":
                    outer._release.wait(30)
                    return
                body = b'{"error": {"message": "boom", "type": "server_error"}}'
                self.send_response(500)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()


class MemoryKeyring:
    """A keyring backend kept in memory, installed with ``keyring.set_keyring`` for one test.

    The OS keyrings (Secret Service over D-Bus, macOS Keychain, Windows Credential Locker) do not run on a
    headless CI box, and a file keyring would write into the user's home; this backend implements the same
    ``keyring.backend.KeyringBackend`` API, so everything above it (keyring's module functions,
    :mod:`jarvis_desktop.llm.keys`) runs for real.
    """

    @staticmethod
    def install():
        import keyring
        from keyring.backend import KeyringBackend
        from keyring.errors import PasswordDeleteError

        class _Memory(KeyringBackend):
            priority = 1

            def __init__(self) -> None:
                super().__init__()
                self.store: dict[tuple[str, str], str] = {}

            def get_password(self, service, username):
                return self.store.get((service, username))

            def set_password(self, service, username, password):
                self.store[(service, username)] = password

            def delete_password(self, service, username):
                if self.store.pop((service, username), None) is None:
                    raise PasswordDeleteError("not found")

        old = keyring.get_keyring()
        backend = _Memory()
        keyring.set_keyring(backend)
        return backend, lambda: keyring.set_keyring(old)
