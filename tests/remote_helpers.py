"""Real servers for the remote-backend tests: ``python -m llama_cpp.server`` on the embedded SmolLM2 GGUF
("the cloud"), and tiny http.server endpoints that fail on purpose (HTTP 500, or hang)."""

from __future__ import annotations

import json
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


def sse_chunk(text: str) -> bytes:
    """One OpenAI ``chat.completion.chunk`` server-sent event whose delta is ``text``."""
    body = {
        "id": "hostile",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "hostile",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class HostileServer:
    """An OpenAI-shaped endpoint on 127.0.0.1 that misbehaves on purpose, for every POST and GET:

    * ``"endless"``: streams ``"word "`` deltas forever, one every ``pace_s`` s;
    * ``"keepalive"``: sends the 200 headers, then only ``: ping`` SSE comments forever;
    * ``"one_then_keepalive"``: one ``"Paris"`` delta, then only keep-alives;
    * ``"empty_chunks"``: chunks whose delta content is ``""``, forever;
    * ``"slow_headers"``: the response headers one byte every ``pace_s`` s (never finishing in practice);
    * ``"huge"``: a reply of ``huge_bytes`` bytes of deltas (1000 characters each) ignoring max_tokens.

    ``sent_bytes`` counts the body bytes written; ``requests`` counts requests. Writing stops when the
    client disconnects or :meth:`stop` is called.
    """

    def __init__(self, mode: str, pace_s: float = 0.2, huge_bytes: int = 200_000_000) -> None:
        self.mode = mode
        self.pace_s = pace_s
        self.huge_bytes = huge_bytes
        self.requests = 0
        self.sent_bytes = 0
        self._stop = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                self._misbehave()

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self._misbehave()

            def _misbehave(self) -> None:
                outer.requests += 1
                try:
                    outer._serve(self)
                except OSError:  # the client left: what a hostile server sees when it is cut off
                    return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _send(self, handler: BaseHTTPRequestHandler, data: bytes) -> None:
        handler.wfile.write(data)
        handler.wfile.flush()
        self.sent_bytes += len(data)

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        if self.mode == "slow_headers":
            head = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nX-Padding: " + b"x" * 10_000
            for byte in head:
                if self._stop.wait(self.pace_s):
                    return
                handler.wfile.write(bytes([byte]))
                handler.wfile.flush()
            return
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.end_headers()
        if self.mode == "huge":
            piece = sse_chunk("x" * 1000)
            while self.sent_bytes < self.huge_bytes and not self._stop.is_set():
                self._send(handler, piece)
            self._send(handler, b"data: [DONE]\n\n")
            return
        if self.mode == "one_then_keepalive":
            self._send(handler, sse_chunk("Paris"))
        event = {"endless": sse_chunk("word "), "empty_chunks": sse_chunk("")}.get(self.mode, b": ping\n\n")
        while not self._stop.wait(self.pace_s):
            self._send(handler, event)

    def stop(self) -> None:
        self._stop.set()
        self.server.shutdown()
        self.server.server_close()
