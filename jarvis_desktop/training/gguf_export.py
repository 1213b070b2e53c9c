"""PEFT LoRA adapter -> GGUF LoRA (``adapter.gguf``) for llama.cpp, with llama.cpp's own converter.

``convert_lora_to_gguf.py`` is not in the PyPI ``gguf`` package; it ships in the llama-cpp-python sdist
(``vendor/llama.cpp/``, beside its ``conversion/`` package and the ``gguf-py/`` it needs). The sdist of
the llama-cpp-python version the app runs is fetched once with pip (not committed) into
``<data dir>/cache``; the converter runs in a subprocess with ``--base`` pointing at the base model's
``config.json`` (:func:`jarvis_desktop.nlu.hf_base.hf_base_dir`), so it never reaches for the model hub.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tarfile
from pathlib import Path

from jarvis_desktop.errors import JarvisError, ModelNotFoundError
from jarvis_desktop.nlu.hf_base import default_cache_dir, hf_base_dir

LLAMA_CPP_PYTHON_VERSION = "0.3.36"
CONVERTER = "convert_lora_to_gguf.py"


def llama_cpp_source(version: str = LLAMA_CPP_PYTHON_VERSION, cache_dir: Path | None = None) -> Path:
    """The ``vendor/llama.cpp`` directory of the llama-cpp-python ``version`` sdist, downloaded with
    ``pip download --no-deps --no-binary :all:`` and unpacked on first use.

    Raises:
        JarvisError: pip could not fetch the sdist, or it holds no converter.
    """
    cache = Path(cache_dir) if cache_dir else default_cache_dir()
    root = cache / f"llama-cpp-python-{version}"
    src = root / f"llama_cpp_python-{version}" / "vendor" / "llama.cpp"
    if (src / CONVERTER).is_file():
        return src
    root.mkdir(parents=True, exist_ok=True)
    tarballs = sorted(root.glob("llama_cpp_python-*.tar.gz"))
    if not tarballs:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                f"llama-cpp-python=={version}",
                "-d",
                str(root),
            ],
            capture_output=True,
            text=True,
        )
        tarballs = sorted(root.glob("llama_cpp_python-*.tar.gz"))
        if proc.returncode != 0 or not tarballs:
            raise JarvisError(f"could not download the llama-cpp-python {version} sdist: {proc.stderr.strip()[-300:]}")
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(root, filter="data")
    found = sorted(root.glob(f"*/vendor/llama.cpp/{CONVERTER}"))
    if not found:
        raise JarvisError(f"{tarballs[0].name} has no vendor/llama.cpp/{CONVERTER}")
    return found[0].parent


def export_gguf(adapter_dir: Path, out_path: Path | None = None, outtype: str = "f16") -> Path:
    """Write ``adapter_dir/adapter.gguf`` (or ``out_path``) from the PEFT adapter in ``adapter_dir``.

    ``outtype``: tensor type of the GGUF LoRA ("f16" halves the size of "f32"; the base is Q4_1 anyway).
    Returns the written path.

    Raises:
        ModelNotFoundError: ``adapter_dir`` has no ``adapter_config.json`` / ``adapter_model.safetensors``.
        JarvisError: the converter failed (its last stderr lines are in the message).
    """
    adapter_dir = Path(adapter_dir)
    for name in ("adapter_config.json", "adapter_model.safetensors"):
        if not (adapter_dir / name).is_file():
            raise ModelNotFoundError(f"not a PEFT adapter directory: {adapter_dir} has no {name}")
    out_path = Path(out_path) if out_path else adapter_dir / "adapter.gguf"
    src = llama_cpp_source()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    env["PYTHONPATH"] = os.pathsep.join(
        [str(src / "gguf-py"), str(src)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
    )
    cmd = [
        sys.executable,
        str(src / CONVERTER),
        str(adapter_dir),
        "--base",
        str(hf_base_dir()),
        "--outfile",
        str(out_path),
        "--outtype",
        outtype,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0 or not out_path.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise JarvisError(f"GGUF LoRA conversion failed (exit {proc.returncode}): {tail}")
    return out_path


def main(argv: list[str] | None = None) -> int:
    """``python -m jarvis_desktop.training.gguf_export ADAPTER_DIR [--outtype f16]``: prints the path."""
    p = argparse.ArgumentParser(prog="python -m jarvis_desktop.training.gguf_export")
    p.add_argument("adapter_dir")
    p.add_argument("--outtype", default="f16", choices=["f16", "f32", "bf16", "q8_0"])
    args = p.parse_args(argv)
    try:
        print(export_gguf(Path(args.adapter_dir), outtype=args.outtype))
    except JarvisError as exc:
        sys.stderr.write(f"error: {exc.user_message()}\n")
        return exc.exit_code
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
