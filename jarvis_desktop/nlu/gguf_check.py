"""A pure-Python sanity check of a GGUF LoRA file before llama.cpp opens it.

llama.cpp (llama-cpp-python 0.3.36) crashes the whole process with a segmentation fault on some corrupt
LoRA files (measured: a file holding "GGUF" and 64 zero bytes), so :func:`check_lora_gguf` reads the
header, the key/value metadata and the tensor table (GGUF v2/v3 layout, see the ggml ``gguf.h`` spec) and
checks that the file says it is a LoRA adapter and that every tensor's data lies inside the file.
"""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

from jarvis_desktop.errors import ModelNotFoundError

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
#: Bytes per element (block types: bytes per block / elements per block) of the tensor types a LoRA uses.
_TYPE_SIZE = {0: (4, 1), 1: (2, 1), 8: (34, 32), 30: (2, 1)}  # f32, f16, q8_0, bf16
_MAX_COUNT = 1 << 20


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, fmt: str) -> Any:
        size = struct.calcsize(fmt)
        if self.pos + size > len(self.data):
            raise ValueError("file ends inside the header")
        (value,) = struct.unpack_from(fmt, self.data, self.pos)
        self.pos += size
        return value

    def string(self) -> str:
        n = self.take("<Q")
        if n > _MAX_COUNT or self.pos + n > len(self.data):
            raise ValueError("bad string length")
        raw = self.data[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8")

    def value(self, vtype: int) -> object:
        if vtype in _SCALARS:
            return self.take(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype, n = self.take("<I"), self.take("<Q")
            if n > _MAX_COUNT:
                raise ValueError("bad array length")
            return [self.value(etype) for _ in range(n)]
        raise ValueError(f"unknown value type {vtype}")


#: One tensor-table row: name, dimensions, ggml type id, data offset (bytes from the data section's start).
_Tensor = tuple[str, list[int], int, int]


def _read_metadata(r: _Reader) -> tuple[int, dict[str, object]]:
    """Header and key/value metadata; returns (tensor count, metadata). Raises ValueError."""
    if r.take("<4s") != b"GGUF":
        raise ValueError("not a GGUF file")
    if r.take("<I") not in (2, 3):
        raise ValueError("unsupported GGUF version")
    n_tensors, n_kv = r.take("<Q"), r.take("<Q")
    if n_tensors > _MAX_COUNT or n_kv > _MAX_COUNT:
        raise ValueError("bad tensor or key count")
    meta: dict[str, object] = {}
    for _ in range(n_kv):
        key = r.string()
        meta[key] = r.value(r.take("<I"))
    if meta.get("general.type") != "adapter" or meta.get("adapter.type") != "lora":
        raise ValueError("not a LoRA adapter (general.type / adapter.type)")
    return int(n_tensors), meta


def _read_tensors(r: _Reader, n_tensors: int) -> list[_Tensor]:
    """The tensor table (at least one row). Raises ValueError."""
    tensors: list[_Tensor] = []
    for _ in range(n_tensors):
        name = r.string()
        n_dims = r.take("<I")
        if not 1 <= n_dims <= 4:
            raise ValueError(f"tensor {name}: bad rank {n_dims}")
        dims = [int(r.take("<Q")) for _ in range(n_dims)]
        tensors.append((name, dims, int(r.take("<I")), int(r.take("<Q"))))
    if not tensors:
        raise ValueError("no tensors")
    return tensors


def _check_extents(tensors: list[_Tensor], start: int, size: int) -> None:
    """Every tensor's data lies inside the file (``start``: first data byte, ``size``: file bytes)."""
    for name, dims, ttype, offset in tensors:
        count = 1
        for d in dims:
            count *= d
        nbytes, per = _TYPE_SIZE.get(ttype, (0, 1))
        if start + offset + count * nbytes // per > size:
            raise ValueError(f"tensor {name} lies outside the file (truncated?)")


def check_lora_gguf(path: Path) -> dict[str, object]:
    """Validate ``path`` as a GGUF LoRA adapter; returns its metadata (key -> value).

    Raises:
        ModelNotFoundError: unreadable, not GGUF v2/v3, not ``general.type = adapter`` /
            ``adapter.type = lora``, no tensors, or a tensor whose data lies outside the file.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
        r = _Reader(data)
        n_tensors, meta = _read_metadata(r)
        tensors = _read_tensors(r, n_tensors)
        alignment = meta.get("general.alignment", 32)
        align = int(alignment) if isinstance(alignment, int) else 32
        _check_extents(tensors, (r.pos + align - 1) // align * align, len(data))
    except (OSError, ValueError, UnicodeDecodeError, struct.error) as exc:
        raise ModelNotFoundError(
            f"cannot load the LoRA adapter {path}: {exc}", hint="retrain or reconvert it (see adapters/README.md)"
        ) from exc
    return meta
