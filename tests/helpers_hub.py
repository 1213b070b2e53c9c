"""A Hugging Face-shaped hub on 127.0.0.1 serving real files, for the download tests.

It answers what ``huggingface_hub.get_hf_file_metadata`` and a resuming downloader ask:

* ``HEAD|GET /{owner}/{repo}/resolve/{revision}/{path}``: a small file ("stored in git") answers 200 with
  ``X-Repo-Commit``, ``ETag`` = its git blob SHA-1 and ``Content-Length``; an LFS file (``.gguf``, ``.bin``,
  ``.safetensors``) answers 302 to the "CDN" ``http://localhost:{port}/cdn/{sha256}`` (another origin, as
  huggingface.co's CDN is) with ``X-Repo-Commit``, ``ETag``/``X-Linked-Etag`` = its SHA-256 and ``X-Linked-Size``.
  Missing repos, revisions and files answer 404 with the hub's ``X-Error-Code``.
* ``HEAD|GET /cdn/{sha256}``: the bytes, with ``Range: bytes=N-`` answered 206 + ``Content-Range``.

Knobs for failure tests: ``drop_after[key] = n`` (the next GET of that file stops after n body bytes and closes the
connection), ``stall_after[key] = n`` (the next GET stops sending for ``stall_s`` seconds after n bytes: a hung
server), ``corrupt`` (serve the file with one byte flipped, same headers), ``chunk_delay_s`` (sleep after each
64 KiB), ``size_override[key]`` (announce another size). ``served[key]`` counts the body bytes sent per file,
``responses`` has one ``{"key", "range", "sent"}`` per GET body (a response still being written when the client
hangs up keeps counting into its own record, not a later one) and ``requests`` logs ``(method, path, range header)``.
A key is ``"{repo_id}/{path}"``.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote

CHUNK = 64 * 1024
COMMIT = "4f1a3c0d9b8e7f6a5b4c3d2e1f0a9b8c7d6e5f40"
LFS_SUFFIXES = (".gguf", ".bin", ".safetensors")
_RESOLVE = re.compile(r"^/(?P<repo>[^/]+/[^/]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)$")
_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@cache
def file_digests(path: Path) -> tuple[str, str]:
    """(sha256, git blob sha1) of a file, computed once per path."""
    sha256, sha1 = hashlib.sha256(), hashlib.sha1()
    sha1.update(b"blob %d\0" % path.stat().st_size)
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            sha256.update(block)
            sha1.update(block)
    return sha256.hexdigest(), sha1.hexdigest()


@dataclass(frozen=True)
class HubFile:
    key: str
    path: Path
    size: int
    sha256: str
    git_sha1: str
    lfs: bool


class FakeHub:
    """The server; use as a context manager (or ``start()`` / ``stop()``)."""

    def __init__(self) -> None:
        self.files: dict[str, HubFile] = {}
        self.repos: set[str] = set()
        self.served: Counter[str] = Counter()
        self.requests: list[tuple[str, str, str | None]] = []
        self.responses: list[dict[str, object]] = []
        self.drop_after: dict[str, int] = {}
        self.stall_after: dict[str, int] = {}
        self.stall_s = 20.0
        self.corrupt: set[str] = set()
        self.size_override: dict[str, int] = {}
        self.chunk_delay_s = 0.0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- content ---------------------------------------------------------------------------------------------------
    def add_file(self, repo_id: str, name: str, path: Path, lfs: bool | None = None) -> HubFile:
        """Serve ``path`` as ``{repo_id}/{name}`` (LFS when its suffix is one of LFS_SUFFIXES unless told)."""
        sha256, sha1 = file_digests(Path(path))
        if lfs is None:
            lfs = name.endswith(LFS_SUFFIXES)
        hub_file = HubFile(f"{repo_id}/{name}", Path(path), Path(path).stat().st_size, sha256, sha1, lfs)
        self.files[hub_file.key] = hub_file
        self.repos.add(repo_id)
        return hub_file

    def add_dir(self, repo_id: str, directory: Path) -> list[HubFile]:
        """Serve every file of ``directory`` under ``repo_id`` (relative paths kept)."""
        return [
            self.add_file(repo_id, p.relative_to(directory).as_posix(), p)
            for p in sorted(directory.rglob("*"))
            if p.is_file()
        ]

    def reset(self) -> None:
        """Forget counters, the request log and every failure knob."""
        self.served.clear()
        self.requests.clear()
        self.responses = []
        self.drop_after.clear()
        self.stall_after.clear()
        self.corrupt.clear()
        self.size_override.clear()
        self.chunk_delay_s = 0.0

    # -- server ----------------------------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The hub's base URL (``http://127.0.0.1:PORT``)."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FakeHub:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-hub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    hub: FakeHub

    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def do_HEAD(self) -> None:
        self._answer(head=True)

    def do_GET(self) -> None:
        self._answer(head=False)

    # -- routing ---------------------------------------------------------------------------------------------------
    def _answer(self, head: bool) -> None:
        self.hub.requests.append((self.command, self.path, self.headers.get("Range")))
        path = self.path.split("?", 1)[0]
        if path.startswith("/cdn/"):
            by_sha = {f.sha256: f for f in self.hub.files.values() if f.lfs}
            hub_file = by_sha.get(path[len("/cdn/") :])
            if hub_file is None:
                return self._status(404, {})
            return self._serve(hub_file, head, {"ETag": f'"{hub_file.sha256}"'})
        match = _RESOLVE.match(path)
        if match is None:
            return self._status(404, {})
        repo, rev, name = match["repo"], unquote(match["rev"]), unquote(match["path"])
        if repo not in self.hub.repos:
            return self._status(401, {"X-Error-Code": "RepoNotFound", "X-Error-Message": "Repository not found"})
        if rev not in ("main", COMMIT):
            return self._status(404, {"X-Error-Code": "RevisionNotFound", "X-Error-Message": "Invalid rev id"})
        hub_file = self.hub.files.get(f"{repo}/{name}")
        if hub_file is None:
            return self._status(
                404, {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found", "X-Repo-Commit": COMMIT}
            )
        size = self.hub.size_override.get(hub_file.key, hub_file.size)
        if hub_file.lfs:
            return self._status(
                302,
                {
                    "Location": f"http://localhost:{self.hub.port}/cdn/{hub_file.sha256}",
                    "X-Repo-Commit": COMMIT,
                    "ETag": f'"{hub_file.sha256}"',
                    "X-Linked-Etag": f'"{hub_file.sha256}"',
                    "X-Linked-Size": str(size),
                },
            )
        return self._serve(hub_file, head, {"ETag": f'"{hub_file.git_sha1}"', "X-Repo-Commit": COMMIT})

    def _status(self, code: int, headers: dict[str, str]) -> None:
        self.send_response(code)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    # -- bytes -----------------------------------------------------------------------------------------------------
    def _serve(self, hub_file: HubFile, head: bool, headers: dict[str, str]) -> None:
        size = self.hub.size_override.get(hub_file.key, hub_file.size)
        start, end, status = 0, size - 1, 200
        wanted = self.headers.get("Range")
        if wanted:
            match = _RANGE.match(wanted.strip())
            if match is None or int(match[1]) >= size:
                return self._status(416, {"Content-Range": f"bytes */{size}"})
            start, end, status = int(match[1]), int(match[2] or size - 1), 206
        self.send_response(status)
        for key, value in headers.items():
            self.send_header(key, value)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start + 1))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        if head:
            return
        self._send_body(hub_file, start, end)

    def _send_body(self, hub_file: HubFile, start: int, end: int) -> None:
        drop = self.hub.drop_after.pop(hub_file.key, None)
        stall = self.hub.stall_after.pop(hub_file.key, None)
        record: dict[str, object] = {"key": hub_file.key, "range": self.headers.get("Range"), "sent": 0}
        self.hub.responses.append(record)
        flip_at = hub_file.size // 2 if hub_file.key in self.hub.corrupt else -1
        sent = 0
        try:
            with hub_file.path.open("rb") as f:
                f.seek(start)
                offset = start
                while offset <= end:
                    block = f.read(min(CHUNK, end - offset + 1))
                    if not block:
                        break
                    if offset <= flip_at < offset + len(block):
                        data = bytearray(block)
                        data[flip_at - offset] ^= 0xFF
                        block = bytes(data)
                    if drop is not None and sent + len(block) > drop:
                        block = block[: drop - sent]
                    self.wfile.write(block)
                    sent += len(block)
                    record["sent"] = sent
                    self.hub.served[hub_file.key] += len(block)
                    offset += len(block)
                    if drop is not None and sent >= drop:
                        self.wfile.flush()
                        self.connection.shutdown(socket.SHUT_RDWR)
                        self.close_connection = True
                        return
                    if stall is not None and sent >= stall:
                        stall = None
                        time.sleep(self.hub.stall_s)
                    if self.hub.chunk_delay_s:
                        time.sleep(self.hub.chunk_delay_s)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class SilentServer:
    """A loopback socket that accepts connections (the kernel does) but never answers: a hung hub."""

    def __enter__(self) -> SilentServer:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        return self

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.sock.getsockname()[1]}"

    def __exit__(self, *exc: object) -> None:
        self.sock.close()
