"""Download a catalogue model from a Hugging Face-shaped hub, with progress, cancel, resume and verification.

``huggingface_hub`` (imported lazily) gives each file's URL (``hf_hub_url``), the token of ``hf auth login`` /
``HF_TOKEN`` (``get_token``) and the mapping of the hub's error answers to its exceptions (``hf_raise_for_status``).
The requests themselves (one HEAD per file for its metadata: size, commit, ETag = the SHA-256 of an LFS file or the
git blob SHA-1 of a small one, and the CDN location the hub redirects to; then a streamed GET) go through an
``httpx2.Client`` that each :func:`download` call opens and closes, not through ``huggingface_hub``'s shared session,
because:

* that session refuses every request when ``huggingface_hub.constants.HF_HUB_OFFLINE`` is true, a constant read
  once from the environment when ``huggingface_hub`` is first imported by anyone in the process; downloads here
  must depend only on the environment when they start (:func:`offline_requested`), whatever was imported before;
* ``build_hf_headers`` asks huggingface.co (``/api/agent-harnesses``, even when a mirror is configured) to fill in
  its user agent; the catalogue sends only its own user agent and the token (:func:`hub_headers`);
* nothing process-wide is patched: two downloads on two threads, and any other ``huggingface_hub`` user in the
  process, do not see each other's settings.

The transfer is a streamed GET because ``hf_hub_download`` has no cancel and writes into its own cache:

* files go to ``<models dir>/<entry id>/`` (:func:`~jarvis_desktop.catalog.installed.entry_dir`), each first as
  ``<name>.part``; an interrupted or cancelled download leaves the ``.part`` file and the next call continues it
  with an HTTP ``Range`` request (a server that ignores the range gets the file from the start, no bytes doubled);
* the cancel ``Event`` is checked between network reads (every 64 KiB at most), and a watcher shuts the socket down
  when it is set, so the transfer stops within a fraction of a second even while the server stalls; a server that
  sends nothing for ``[downloads] timeout_s`` is given up (resumable);
* each finished file is checked against the catalogue's SHA-256, else the hub's LFS SHA-256, else the hub's git
  SHA-1; a mismatch deletes the file and raises :class:`ChecksumMismatchError`;
* free disk space is checked before anything is written (:func:`check_disk_space`);
* the hub is ``[downloads] hub_url``, else ``HF_ENDPOINT``, else huggingface.co; an unreachable hub raises
  :class:`HubUnreachableError` within ``timeout_s`` (each metadata request runs under a deadline, since name
  resolution has no timeout of its own); ``HF_HUB_OFFLINE`` (or ``TRANSFORMERS_OFFLINE``) set to 1 in the
  environment raises it before any request. Jarvis's own modules never set these variables in the app's process
  (the speech models load from local paths with ``local_files_only=True``), so a set one is the user's choice.

When every file is verified the marker :data:`~jarvis_desktop.catalog.installed.MARKER` is written: only then is the
model installed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urljoin, urlsplit

from jarvis_desktop.catalog.entries import CatalogEntry
from jarvis_desktop.catalog.installed import MARKER, PART_SUFFIX, entry_dir, installed_path
from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError, Cancelled, JarvisError

if TYPE_CHECKING:
    import httpx2

log = logging.getLogger(__name__)

DEFAULT_ENDPOINT = "https://huggingface.co"
#: Kept free beyond the download itself, so a download never fills the disk to the last byte.
DISK_MARGIN_BYTES = 64 * 1024 * 1024
#: Seconds between two progress callbacks (the last one, at 100 %, is always sent).
PROGRESS_INTERVAL_S = 0.1
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX40 = re.compile(r"[0-9a-f]{40}")
T = TypeVar("T")


class DownloadError(JarvisError):
    """A download failed (the message says why; an interrupted one can be resumed by downloading again)."""


class HubUnreachableError(DownloadError):
    """The hub did not answer (no network, wrong address, timeout) or downloads are off (``HF_HUB_OFFLINE``)."""


class NotEnoughDiskError(DownloadError):
    """The disk holding the models directory has too little free space; nothing was written."""


class ChecksumMismatchError(DownloadError):
    """A downloaded file's checksum differs from the expected one; the file was deleted."""


@dataclass(frozen=True)
class DownloadProgress:
    """One progress report of :func:`download`.

    ``done_bytes`` of ``total_bytes`` (all files of the entry, by the hub's sizes) are on disk; ``resumed_bytes`` of
    them were already there when this call started (not fetched again). ``filename``: the file in hand; ``phase``:
    "download", "verify" (checksum of a finished file) or "done".
    """

    entry_id: str
    filename: str
    done_bytes: int
    total_bytes: int
    resumed_bytes: int
    phase: str

    @property
    def fraction(self) -> float:
        """``done_bytes / total_bytes`` in [0, 1] (1.0 for an empty total)."""
        return min(1.0, self.done_bytes / self.total_bytes) if self.total_bytes else 1.0


ProgressCallback = Callable[[DownloadProgress], None]


@dataclass(frozen=True)
class RemoteFile:
    """A file on the hub as its metadata describes it: ``url`` to GET (the CDN location for an LFS file), ``size``
    in bytes, ``sha256`` (LFS files) or ``git_sha1`` (small files stored in git), ``commit`` of the revision."""

    name: str
    url: str
    size: int
    sha256: str | None
    git_sha1: str | None
    commit: str | None


# ---- settings and environment ----------------------------------------------------------------------------------
def hub_endpoint(settings: Settings) -> str:
    """The hub's base URL: ``[downloads] hub_url``, else ``HF_ENDPOINT``, else https://huggingface.co (no slash)."""
    url = settings.downloads.hub_url or os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT
    return url.rstrip("/")


OFFLINE_VARIABLES = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
"""Environment variables that turn downloads off when true (huggingface_hub's offline switches)."""


def offline_variable() -> str | None:
    """The first of :data:`OFFLINE_VARIABLES` set to 1/true/yes/on in the environment now, else None.

    Read at each call (never ``huggingface_hub.constants.HF_HUB_OFFLINE``, which is frozen at that library's import).
    """
    for name in OFFLINE_VARIABLES:
        if os.environ.get(name, "").strip().upper() in {"1", "ON", "YES", "TRUE"}:
            return name
    return None


def offline_requested() -> bool:
    """True when downloads are off: ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is true in the environment now."""
    return offline_variable() is not None


def _offline_error(name: str = "HF_HUB_OFFLINE") -> HubUnreachableError:
    return HubUnreachableError(
        f"model downloads are off: {name} is set (offline mode)",
        hint=f"unset {name} to download models; installed and embedded models keep working",
    )


def hub_headers() -> dict[str, str]:
    """HTTP headers for the hub: Jarvis's user agent, ``Accept-Encoding: identity`` (sizes must be the files' own)
    and ``authorization: Bearer <token>`` when a token is saved (``hf auth login``) or in ``HF_TOKEN``, unless
    ``HF_HUB_DISABLE_IMPLICIT_TOKEN`` is set. Makes no request (unlike ``huggingface_hub.utils.build_hf_headers``)."""
    from huggingface_hub import __version__ as hf_version
    from huggingface_hub import constants, get_token

    from jarvis_desktop import __version__

    headers = {"user-agent": f"jarvis-desktop/{__version__}; hf_hub/{hf_version}", "Accept-Encoding": "identity"}
    token = None if constants.HF_HUB_DISABLE_IMPLICIT_TOKEN else get_token()
    if token:
        headers["authorization"] = f"Bearer {token}"
    return headers


def open_client(timeout_s: float) -> httpx2.Client:
    """A new HTTP client for one download (close it after use): ``timeout_s`` per connect/read, redirects not
    followed unless a request asks, proxies and CA settings from the environment as ``huggingface_hub``'s own.
    It has none of ``huggingface_hub``'s hooks, so its process-wide offline constant does not apply."""
    import httpx2

    return httpx2.Client(timeout=timeout_s, follow_redirects=False)


def _fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def check_disk_space(needed_bytes: int, free_bytes: int, where: Path, margin_bytes: int = DISK_MARGIN_BYTES) -> None:
    """Refuse a download of ``needed_bytes`` when ``free_bytes`` (on the disk holding ``where``) is less than that plus
    ``margin_bytes``.

    Raises:
        NotEnoughDiskError: with both figures and the directory.
    """
    if needed_bytes + margin_bytes > free_bytes:
        raise NotEnoughDiskError(
            f"not enough disk space in {where}: the download needs {_fmt_bytes(needed_bytes)} "
            f"(+ {_fmt_bytes(margin_bytes)} kept free), {_fmt_bytes(free_bytes)} is free",
            hint="free some space, or set [downloads] models_dir to a disk with more room",
        )


def free_disk_bytes(directory: Path) -> int:
    """Free bytes (for this user) on the disk that holds ``directory`` or its nearest existing parent."""
    probe = directory
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


# ---- metadata ----------------------------------------------------------------------------------------------------
def _with_deadline(fn: Callable[[], T], seconds: float, cancel: threading.Event | None, what: str) -> T:
    """Run ``fn`` on a daemon thread and wait at most ``seconds`` (checking ``cancel``): a hung name lookup or
    connection can never hang the caller."""
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread
            box["error"] = exc

    worker = threading.Thread(target=run, name="jarvis-hub-metadata", daemon=True)
    worker.start()
    deadline = time.monotonic() + seconds
    while worker.is_alive():
        if cancel is not None and cancel.is_set():
            raise Cancelled("download cancelled")
        if time.monotonic() >= deadline:
            raise HubUnreachableError(
                f"{what} did not answer within {seconds:g} s",
                hint="check the network, or set [downloads] hub_url / HF_ENDPOINT to a reachable mirror",
            )
        worker.join(0.05)
    if "error" in box:
        raise box["error"]
    return box["value"]  # type: ignore[no-any-return]  # set by run() when it returned


def _strip_etag(value: str | None) -> str | None:
    if value is None:
        return None
    value = value.strip()
    value = value.removeprefix("W/")
    return value.strip('"').lower()


def _translate_hub_error(exc: Exception, entry: CatalogEntry, name: str, endpoint: str, timeout_s: float) -> Exception:
    """A huggingface_hub / httpx2 exception as one of ours (same exception back when it is none of those)."""
    import httpx2
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    where = f"{entry.repo_id}/{name} ({entry.revision})"
    net_hint = "check the network, or set [downloads] hub_url / HF_ENDPOINT to a reachable mirror"
    if isinstance(exc, httpx2.TimeoutException):
        return HubUnreachableError(f"the model hub at {endpoint} did not answer within {timeout_s:g} s", hint=net_hint)
    if isinstance(exc, httpx2.TransportError):
        return HubUnreachableError(f"cannot reach the model hub at {endpoint}: {exc or type(exc).__name__}", net_hint)
    if isinstance(exc, GatedRepoError):
        return DownloadError(
            f"{entry.repo_id} is gated on {endpoint}: its licence must be accepted first",
            hint="accept it on the model's page, then log in with: hf auth login",
        )
    if isinstance(exc, (RepositoryNotFoundError, RevisionNotFoundError, RemoteEntryNotFoundError)):
        return DownloadError(f"{where} was not found on {endpoint}")
    if isinstance(exc, HfHubHTTPError):
        status = exc.response.status_code if exc.response is not None else "?"
        return DownloadError(f"the model hub at {endpoint} answered HTTP {status} for {where}")
    return exc


_MAX_REDIRECTS = 10


def _head_file(client: httpx2.Client, url: str, headers: dict[str, str], timeout_s: float) -> httpx2.Response:
    """HEAD ``url``, following redirects that stay on the hub's origin (a renamed repo); a redirect elsewhere (the
    CDN of an LFS file) is not followed: the file's metadata is on that answer, and the token stays on the hub.

    Raises:
        huggingface_hub.errors.HfHubHTTPError (and subclasses): the hub answered with an error status.
        httpx2.TransportError: no connection, or no answer within ``timeout_s``.
    """
    from huggingface_hub.utils import hf_raise_for_status

    for _ in range(_MAX_REDIRECTS):
        response = client.head(url, headers=headers, timeout=timeout_s)
        hf_raise_for_status(response)
        if not response.has_redirect_location:
            return response
        target = urljoin(url, response.headers["Location"])
        if not _same_origin(url, target):
            return response
        url = target
    raise DownloadError(f"the model hub sent more than {_MAX_REDIRECTS} redirects for {url}")


def _remote_file(name: str, response: httpx2.Response) -> RemoteFile:
    """What a HEAD answer says about a file (the headers ``huggingface_hub.get_hf_file_metadata`` reads)."""
    etag = _strip_etag(response.headers.get("X-Linked-Etag") or response.headers.get("ETag"))
    size = response.headers.get("X-Linked-Size") or (
        None if response.has_redirect_location else response.headers.get("Content-Length")
    )
    location = response.headers.get("Location")
    return RemoteFile(
        name=name,
        url=urljoin(str(response.request.url), location) if location else str(response.request.url),
        size=int(size) if size is not None and size.isdigit() else -1,
        sha256=etag if etag and _HEX64.fullmatch(etag) else None,
        git_sha1=etag if etag and _HEX40.fullmatch(etag) else None,
        commit=response.headers.get("X-Repo-Commit"),
    )


def fetch_metadata(
    entry: CatalogEntry,
    settings: Settings,
    cancel: threading.Event | None = None,
    client: httpx2.Client | None = None,
) -> list[RemoteFile]:
    """Ask the hub about each of ``entry``'s files (one HEAD request each, under ``[downloads] timeout_s``).

    ``client``: the HTTP client to use (:func:`open_client`); None = a new one, closed before returning.

    Raises:
        HubUnreachableError: offline mode (``HF_HUB_OFFLINE``), no network, or no answer in time.
        DownloadError: the repo, revision or file is missing, gated, or the hub's metadata is unusable.
        Cancelled: ``cancel`` was set.
    """
    variable = offline_variable()
    if variable is not None:
        raise _offline_error(variable)
    from huggingface_hub import hf_hub_url

    endpoint = hub_endpoint(settings)
    timeout_s = float(settings.downloads.timeout_s)
    headers = hub_headers()
    own = client is None
    http = client if client is not None else open_client(timeout_s)
    files: list[RemoteFile] = []
    try:
        for name in entry.all_files:
            url = hf_hub_url(entry.repo_id, name, revision=entry.revision, endpoint=endpoint)

            def head(url: str = url) -> httpx2.Response:
                return _head_file(http, url, headers, timeout_s)

            try:
                response = _with_deadline(head, timeout_s + 1.0, cancel, f"the model hub at {endpoint}")
            except (Cancelled, HubUnreachableError, DownloadError):
                raise
            except Exception as exc:
                raise _translate_hub_error(exc, entry, name, endpoint, timeout_s) from exc
            remote = _remote_file(name, response)
            if remote.size < 0:
                raise DownloadError(f"the model hub at {endpoint} gave no size for {entry.repo_id}/{name}")
            files.append(remote)
    finally:
        if own:
            http.close()
    if entry.sha256 is not None and files[0].sha256 not in (None, entry.sha256):
        raise DownloadError(
            f"the hub's {entry.repo_id}/{entry.filename} is not the catalogue's file "
            f"(sha256 {files[0].sha256}, expected {entry.sha256})",
            hint="the repository changed; update the catalogue entry",
        )
    return files


# ---- transfer ----------------------------------------------------------------------------------------------------
class _Reporter:
    """Throttled progress callbacks over the whole entry."""

    def __init__(self, entry: CatalogEntry, total: int, resumed: int, callback: ProgressCallback | None) -> None:
        self.entry, self.total, self.resumed, self.callback = entry, total, resumed, callback
        self.done_other = 0  # bytes of the files before the current one
        self._last = 0.0

    def __call__(self, filename: str, file_done: int, phase: str = "download", force: bool = False) -> None:
        if self.callback is None:
            return
        now = time.monotonic()
        if not force and now - self._last < PROGRESS_INTERVAL_S:
            return
        self._last = now
        done = self.done_other + file_done
        self.callback(DownloadProgress(self.entry.id, filename, done, self.total, self.resumed, phase))


def _same_origin(a: str, b: str) -> bool:
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.hostname, pa.port) == (pb.scheme, pb.hostname, pb.port)


def _open_range(session: httpx2.Client, rf: RemoteFile, have: int, headers: dict[str, str], timeout_s: float) -> Any:
    request_headers = dict(headers)
    if have:
        request_headers["Range"] = f"bytes={have}-"
    return session.stream("GET", rf.url, headers=request_headers, timeout=timeout_s, follow_redirects=True)


def _check_range_reply(response: httpx2.Response, rf: RemoteFile, have: int) -> int:
    """Validate the GET's answer; returns the offset its body starts at (0 when the server ignored the range)."""
    from huggingface_hub.utils import hf_raise_for_status

    if response.status_code >= 400:
        response.read()
        hf_raise_for_status(response)
    if have and response.status_code == 206:
        match = re.match(r"bytes (\d+)-(\d+)/(\d+|\*)", response.headers.get("Content-Range", ""))
        if match is None or int(match.group(1)) != have:
            raise DownloadError(f"the server answered a resume of {rf.name} at byte {have} with a different range")
        return have
    return 0


@contextmanager
def _abort_on_cancel(response: httpx2.Response, cancel: threading.Event) -> Iterator[None]:
    """While the body streams, a watcher shuts the connection's socket down as soon as ``cancel`` is set, so a read
    blocked on a stalled server returns at once (closing the socket from another thread would not wake it)."""
    finished = threading.Event()

    def watch() -> None:
        while not finished.is_set():
            if cancel.wait(0.05):
                try:
                    sock = response.extensions["network_stream"].get_extra_info("socket")
                    sock.shutdown(socket.SHUT_RDWR)
                except (KeyError, AttributeError, OSError):  # no socket to reach: the next read sees the event
                    pass
                return

    watcher = threading.Thread(target=watch, name="jarvis-download-cancel", daemon=True)
    watcher.start()
    try:
        yield
    finally:
        finished.set()


def _transfer(
    session: httpx2.Client,
    rf: RemoteFile,
    part: Path,
    headers: dict[str, str],
    timeout_s: float,
    cancel: threading.Event,
    report: _Reporter,
) -> None:
    """Bring ``part`` to ``rf.size`` bytes, continuing what it holds.

    Raises:
        Cancelled: ``cancel`` was set (``part`` keeps what arrived).
        DownloadError: the connection broke or the server sent more or fewer bytes than announced.
    """
    import httpx2

    have = part.stat().st_size if part.exists() else 0
    if have > rf.size:  # longer than the file: not ours to continue
        part.unlink()
        have = 0
    if have == rf.size:
        return

    def cancelled() -> Cancelled:
        return Cancelled(
            f"download cancelled: {_fmt_bytes(report.done_other + have)} of {_fmt_bytes(report.total)} kept; "
            "download again to resume"
        )

    try:
        with _open_range(session, rf, have, headers, timeout_s) as response, _abort_on_cancel(response, cancel):
            start = _check_range_reply(response, rf, have)
            have = start
            with part.open("r+b" if start else "wb") as out:
                out.seek(start)
                out.truncate()
                for chunk in response.iter_bytes():
                    if cancel.is_set():
                        raise cancelled()
                    out.write(chunk)
                    have += len(chunk)
                    if have > rf.size:
                        raise DownloadError(f"the server sent more than the announced {rf.size} bytes of {rf.name}")
                    report(rf.name, have)
    except httpx2.TransportError as exc:
        if cancel.is_set():  # the watcher cut the connection
            raise cancelled() from None
        if isinstance(exc, httpx2.TimeoutException):
            raise DownloadError(
                f"the download of {rf.name} stalled ({timeout_s:g} s without data) after {_fmt_bytes(have)} of "
                f"{_fmt_bytes(rf.size)}; download again to resume"
            ) from exc
        raise DownloadError(
            f"the download of {rf.name} was interrupted after {_fmt_bytes(have)} of {_fmt_bytes(rf.size)} "
            f"({exc}); download again to resume"
        ) from exc
    if cancel.is_set() and have != rf.size:
        raise cancelled()
    if have != rf.size:
        raise DownloadError(
            f"the download of {rf.name} ended after {have} of {rf.size} bytes; download again to resume"
        )


def _digest(path: Path, algorithm: str, prefix: bytes = b"") -> str:
    h = hashlib.new(algorithm)
    h.update(prefix)
    with path.open("rb") as f:
        while block := f.read(1024 * 1024):
            h.update(block)
    return h.hexdigest()


def _verify(entry: CatalogEntry, rf: RemoteFile, part: Path) -> dict[str, Any]:
    """Check ``part`` (complete) against the catalogue's or the hub's checksum; returns the marker's file record.

    Raises:
        ChecksumMismatchError: after deleting ``part``.
    """
    record: dict[str, Any] = {"name": rf.name, "size": rf.size}
    expected = entry.sha256 if entry.single_file and entry.sha256 else rf.sha256
    if expected is not None:
        algorithm, actual = "sha256", _digest(part, "sha256")
    elif rf.git_sha1 is not None:  # a small file stored in git: its ETag is the git blob id
        expected, algorithm = rf.git_sha1, "git-sha1"
        actual = _digest(part, "sha1", b"blob %d\0" % rf.size)
    else:
        log.warning("%s/%s: the hub gave no checksum; only its size (%d bytes) was checked", entry.id, rf.name, rf.size)
        return record
    if actual != expected:
        part.unlink()
        raise ChecksumMismatchError(
            f"{entry.id}: {rf.name} is corrupt ({algorithm} {actual}, expected {expected}); the file was deleted",
            hint="download it again; if this repeats, the hub or a proxy alters the file",
        )
    record[algorithm] = actual
    return record


def _write_marker(directory: Path, entry: CatalogEntry, files: list[RemoteFile], records: list[dict[str, Any]]) -> None:
    data = {
        "id": entry.id,
        "repo_id": entry.repo_id,
        "revision": entry.revision,
        "commit": files[0].commit if files else None,
        "files": records,
        "downloaded_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    tmp = directory / (MARKER + ".tmp")
    tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
    os.replace(tmp, directory / MARKER)


_ACTIVE: set[str] = set()
_ACTIVE_LOCK = threading.Lock()


def download(
    entry: CatalogEntry,
    settings: Settings,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
) -> Path:
    """Download, verify and install ``entry``; returns what to load (the GGUF file, or the model directory).

    An installed entry returns at once without asking the hub. ``progress`` is called from this thread at most
    every 0.1 s and at each file's end; set ``cancel`` (from any thread) to stop within about 0.1 s; the partial
    file is kept and the next call resumes it.

    Raises:
        BadInputError: ``entry`` is embedded (nothing to download), or is being downloaded already in this process.
        HubUnreachableError: offline mode, no network or no answer within ``[downloads] timeout_s``.
        NotEnoughDiskError: too little free space (nothing written).
        ChecksumMismatchError: a file did not match its checksum (it was deleted).
        DownloadError: missing repo/file, gated repo, an interrupted transfer (resumable).
        Cancelled: ``cancel`` was set.
    """
    if entry.embedded:
        raise BadInputError(f"{entry.id} ships with Jarvis: there is nothing to download")
    done = installed_path(entry, settings)
    if done is not None:
        return done
    with _ACTIVE_LOCK:
        if entry.id in _ACTIVE:
            raise BadInputError(f"{entry.id} is already being downloaded")
        _ACTIVE.add(entry.id)
    try:
        return _download(entry, settings, progress, cancel or threading.Event())
    finally:
        with _ACTIVE_LOCK:
            _ACTIVE.discard(entry.id)


def _on_disk(directory: Path, rf: RemoteFile) -> int:
    """Bytes of ``rf`` already in ``directory`` (the finished file if its size is right, else the ``.part``)."""
    final = directory / rf.name
    if final.is_file() and final.stat().st_size == rf.size:
        return rf.size
    part = directory / (rf.name + PART_SUFFIX)
    return min(part.stat().st_size, rf.size) if part.is_file() else 0


def _download(
    entry: CatalogEntry, settings: Settings, progress: ProgressCallback | None, cancel: threading.Event
) -> Path:
    timeout_s = float(settings.downloads.timeout_s)
    with open_client(timeout_s) as session:
        files = fetch_metadata(entry, settings, cancel, client=session)
        directory = entry_dir(entry, settings)
        have = {rf.name: _on_disk(directory, rf) for rf in files}
        total = sum(rf.size for rf in files)
        resumed = sum(have.values())
        check_disk_space(total - resumed, free_disk_bytes(directory), directory)
        directory.mkdir(parents=True, exist_ok=True)

        endpoint = hub_endpoint(settings)
        headers_for_hub = hub_headers()
        report = _Reporter(entry, total, resumed, progress)
        records: list[dict[str, Any]] = []
        for rf in files:
            final = directory / rf.name
            part = directory / (rf.name + PART_SUFFIX)
            if have[rf.name] == rf.size and final.is_file():  # verified by an earlier run
                records.append({"name": rf.name, "size": rf.size})
            else:
                final.unlink(missing_ok=True)
                part.parent.mkdir(parents=True, exist_ok=True)
                headers = dict(headers_for_hub)
                if not _same_origin(rf.url, endpoint):  # a CDN: the hub's credentials stay with the hub
                    headers.pop("authorization", None)
                try:
                    _transfer(session, rf, part, headers, timeout_s, cancel, report)
                except (DownloadError, Cancelled):
                    raise
                except Exception as exc:
                    raise _translate_hub_error(exc, entry, rf.name, endpoint, timeout_s) from exc
                report(rf.name, rf.size, "verify", force=True)
                records.append(_verify(entry, rf, part))
                os.replace(part, final)
            report.done_other += rf.size
    _write_marker(directory, entry, files, records)
    report(files[-1].name, 0, "done", force=True)
    path = installed_path(entry, settings)
    if path is None:  # pragma: no cover - the marker was just written
        raise DownloadError(f"{entry.id}: downloaded but not found complete in {directory}")
    log.info("downloaded %s (%d bytes, %d resumed) into %s", entry.id, total, resumed, directory)
    return path
