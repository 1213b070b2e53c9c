"""Streaming Silero VAD (v6) on onnxruntime: one speech probability per 32 ms frame.

The model is ``silero_vad_v6.onnx``, the copy faster-whisper ships in ``faster_whisper/assets/`` (no download).
It runs with onnxruntime directly on one intra-op and one inter-op thread (it is tiny: ~0.1 ms per frame).

Audio contract: float32 mono at :data:`SAMPLE_RATE` = 16 kHz, samples in [-1, 1], cut into frames of
:data:`FRAME_SAMPLES` = 512 samples (:data:`FRAME_MS` = 32 ms), the only frame size the 16 kHz model takes.

How the v6 model is fed (as faster-whisper's ``vad.SileroVADModel`` does, one frame at a time here): the input
is ``(1, 576)`` float32 = the last :data:`CONTEXT_SAMPLES` (64) samples of the previous frame followed by the
512 new samples; the LSTM state ``h`` and ``c`` (each ``(1, 1, 128)`` float32) returned by one call is passed to
the next. Both context and state start at zeros and are kept between :meth:`SileroVad.process` calls, so a
stream can be fed in chunks of any length (the samples left over after the last whole frame wait for the
next chunk). Feeding the same audio in different chunk sizes gives the same probabilities.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import numpy as np

from jarvis_desktop.audio.wav import SAMPLE_RATE
from jarvis_desktop.errors import ModelNotFoundError

__all__ = ["CONTEXT_SAMPLES", "FRAME_MS", "FRAME_SAMPLES", "SAMPLE_RATE", "SileroVad", "silero_model_path"]

FRAME_SAMPLES = 512
"""Samples per VAD frame at 16 kHz (the v6 model's fixed window)."""

FRAME_MS = FRAME_SAMPLES * 1000.0 / SAMPLE_RATE
"""Frame length in milliseconds (32.0)."""

CONTEXT_SAMPLES = 64
"""Samples of the previous frame prepended to each frame (the model's input is 64 + 512 = 576 samples)."""

MODEL_FILE = "silero_vad_v6.onnx"
_STATE_SHAPE = (1, 1, 128)
_HINT = "install it with: pip install faster-whisper (it ships silero_vad_v6.onnx in faster_whisper/assets/)"


def silero_model_path() -> Path:
    """Path of ``silero_vad_v6.onnx`` inside the installed faster-whisper package (found without importing it).

    Raises:
        ModelNotFoundError: faster-whisper is not installed or its assets lack the model file.
    """
    spec = importlib.util.find_spec("faster_whisper")
    locations = list(spec.submodule_search_locations or []) if spec else []
    path = Path(locations[0]) / "assets" / MODEL_FILE if locations else None
    if path is None or not path.is_file():
        raise ModelNotFoundError(
            "the Silero VAD model (silero_vad_v6.onnx from faster-whisper) is not installed", _HINT
        )
    return path


class SileroVad:
    """Streaming Silero VAD: feed float32 16 kHz chunks, get one speech probability per 512-sample frame.

    Not thread-safe (it keeps the recurrent state of the stream): feed one instance from one thread.

    Args:
        model_path: the ``.onnx`` file; ``None`` = :func:`silero_model_path`.
        threads: onnxruntime intra-op threads (1 is fastest for this model).

    Raises:
        ModelNotFoundError: the file is missing, or onnxruntime cannot load it (corrupt, not an ONNX model,
            or onnxruntime is not installed).
    """

    def __init__(self, model_path: Path | str | None = None, threads: int = 1) -> None:
        self.model_path = Path(model_path).expanduser() if model_path is not None else silero_model_path()
        if not self.model_path.is_file():
            raise ModelNotFoundError(f"Silero VAD model not found: {self.model_path}", _HINT)
        self._session = _load_session(self.model_path, threads)
        self.reset()

    def reset(self) -> None:
        """Forget the stream: recurrent state, context and any buffered partial frame."""
        self._h = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._c = np.zeros(_STATE_SHAPE, dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)
        self.frames_done = 0

    def frame_probability(self, frame: np.ndarray) -> float:
        """Speech probability in [0, 1] of one frame of exactly :data:`FRAME_SAMPLES` float32 samples.

        Advances the stream state (context and LSTM state). Use either this or :meth:`process` on one stream.

        Raises:
            ValueError: the frame does not hold 512 samples.
        """
        x = np.asarray(frame, dtype=np.float32).reshape(-1)
        if x.shape[0] != FRAME_SAMPLES:
            raise ValueError(f"a Silero frame holds {FRAME_SAMPLES} samples, got {x.shape[0]}")
        model_input = np.concatenate([self._context, x])[np.newaxis, :]
        prob, self._h, self._c = self._session.run(None, {"input": model_input, "h": self._h, "c": self._c})
        self._context = x[-CONTEXT_SAMPLES:].copy()
        self.frames_done += 1
        return float(np.asarray(prob).reshape(-1)[0])

    def process(self, chunk: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Feed a chunk of any length; returns ``(frames, probabilities)`` for the frames it completed.

        Args:
            chunk: float32 (or anything castable) mono 16 kHz samples in [-1, 1], shape ``(n,)``.

        Returns:
            ``frames``: float32 ``(k, 512)``, the completed frames in stream order; ``probabilities``: float32
            ``(k,)``, their speech probabilities. ``k`` may be 0; leftover samples wait for the next chunk.
            The first frame of the stream starts at sample 0; frame ``i`` (counting from the last
            :meth:`reset`) covers samples ``[512 * i, 512 * (i + 1))``.
        """
        x = np.asarray(chunk, dtype=np.float32).reshape(-1)
        data = np.concatenate([self._pending, x]) if self._pending.size else x
        count = data.shape[0] // FRAME_SAMPLES
        frames = data[: count * FRAME_SAMPLES].reshape(count, FRAME_SAMPLES).copy()
        self._pending = data[count * FRAME_SAMPLES :].copy()
        probs = np.array([self.frame_probability(f) for f in frames], dtype=np.float32)
        return frames, probs


def _load_session(path: Path, threads: int) -> Any:  # onnxruntime.InferenceSession (untyped library)
    try:
        import onnxruntime  # type: ignore[import-untyped]  # no py.typed / stubs
    except ImportError as exc:
        raise ModelNotFoundError("onnxruntime is not installed (the Silero VAD needs it)", _HINT) from exc
    opts = onnxruntime.SessionOptions()
    opts.intra_op_num_threads = max(1, int(threads))
    opts.inter_op_num_threads = 1
    opts.enable_cpu_mem_arena = False
    opts.log_severity_level = 4
    try:
        return onnxruntime.InferenceSession(str(path), sess_options=opts, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime's Fail / InvalidProtobuf / InvalidGraph
        raise ModelNotFoundError(
            f"cannot load the Silero VAD model {path}: corrupt or not an ONNX model", _HINT
        ) from exc
