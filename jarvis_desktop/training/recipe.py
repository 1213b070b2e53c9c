"""The LoRA training recipe: every training option declared once (name, type, default, unit, help).

:class:`TrainRecipe` is the one source of the options a person sets. The flags of ``jarvis-desktop
train-adapter`` and ``jarvis-desktop jobs start``, the Training tab's form, :class:`~jarvis_desktop.jobs.spec.
JobSpec` (a recipe plus the job's own options) and the job process's argv are derived from it with
:mod:`.options`. :class:`LoraTrainConfig` is the trainer's full configuration: the recipe plus the
settings that are fixed by the method (target modules, hint simulation, warm-up, paths).

Defaults are the shipped ``adapters/date-intent`` recipe (its ``training_metadata.json``): 400 steps of 8
rows, AdamW at 1e-3, LoRA r=8 alpha=16 on decoder layers 14-29, no dropout, sequences cut at 96 tokens.
No torch here: importing this module is cheap.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from jarvis_desktop.models import NLU_MODEL_DIR
from jarvis_desktop.training.options import option, option_values

R = TypeVar("R", bound="TrainRecipe")


@dataclass
class TrainRecipe:
    """The training options (see each field's ``help``; :func:`.options.options` lists them)."""

    epochs: float = option(
        1.0,
        "passes over the training data, used when max_steps is 0",
        unit="epochs",
        label="Epochs",
        minimum=0.01,
        maximum=100.0,
        step=0.5,
        decimals=2,
    )
    max_steps: int = option(
        400,
        "optimiser steps (0: from epochs); 400 steps of 8 rows is 0.22 epoch of the built-in corpus",
        unit="steps",
        label="Max steps",
        minimum=0,
        maximum=1_000_000,
        special="by epochs",
    )
    batch_size: int = option(8, "rows per optimiser step", unit="rows", label="Batch size", minimum=1, maximum=256)
    lr: float = option(
        1e-3,
        "peak learning rate of AdamW (linear warm-up, then cosine decay to 0)",
        label="Learning rate",
        minimum=1e-6,
        maximum=0.1,
        step=1e-4,
        decimals=6,
    )
    rank: int = option(8, "LoRA rank r", label="LoRA r", minimum=1, maximum=256)
    alpha: int = option(16, "LoRA scale alpha", label="LoRA alpha", minimum=1, maximum=512)
    # 0: a default run sees each example at most once (0.22 epoch), so dropout has nothing to regularise, and
    # on this CPU its mask sampling cost ~0.35 s of a 2.45 s step. Same scores as the shipped adapter's 0.05
    # (600 validation rows: exact 80.17 vs 80.0 %, intent 88.33 vs 88.5 %; docs/training.md).
    dropout: float = option(
        0.0, "LoRA dropout probability", label="LoRA dropout", minimum=0.0, maximum=0.95, step=0.05, decimals=2
    )
    max_len: int = option(
        96,
        "tokens per example (longer ones are cut)",
        unit="tokens",
        label="Max length (tokens)",
        minimum=16,
        maximum=1024,
    )
    first_layer: int = option(
        14,
        "LoRA on decoder layers from this one up (0 = all; SmolLM2-135M has 30); the backward pass stops there",
        label="First LoRA layer",
        minimum=0,
        maximum=29,
    )
    seed: int = option(1234, "seed of the hint simulation, batch order, LoRA initialisation and dropout")
    threads: int = option(0, "CPU threads (0 = all cores)", unit="threads")
    eval_rows: int = option(200, "validation rows scored at the end (-1 all, 0 none)", unit="rows")
    checkpoint_every: int = option(50, "steps between checkpoints (0 = none)", unit="steps")
    keep_checkpoints: int = option(2, "checkpoints kept (the newest)", minimum=1)

    def steps_for(self, rows: int) -> int:
        """Optimiser steps for ``rows`` training rows: ``max_steps`` if > 0, else ceil(epochs x rows / batch),
        at least 1. The one place epochs become steps."""
        if self.max_steps > 0:
            return self.max_steps
        return max(1, math.ceil(self.epochs * rows / max(1, self.batch_size)))

    def cpu_threads(self) -> int:
        """``threads``, or every core when it is 0."""
        return self.threads if self.threads > 0 else (os.cpu_count() or 1)

    def updated(self: R, given: Mapping[str, object]) -> R:
        """A copy with the options in ``given`` (e.g. :func:`.options.given_values` of a command line).
        ``epochs`` given without ``max_steps`` means whole passes over the data: ``max_steps`` becomes 0."""
        changes: dict[str, Any] = dict(given)  # values of the declared option types (from given_values)
        if "epochs" in changes and "max_steps" not in changes:
            changes["max_steps"] = 0
        return replace(self, **changes)

    def recipe_of(self: R, source: TrainRecipe) -> R:
        """A copy of this object with every recipe option taken from ``source``."""
        values: dict[str, Any] = dict(option_values(source, TrainRecipe))
        return replace(self, **values)


def shipped_path(name: str) -> str:
    """``models/nlu/<name>``: the built-in corpus files (``corpus.train.jsonl``, ``corpus.valid.jsonl``)."""
    return str(NLU_MODEL_DIR / name)


@dataclass
class LoraTrainConfig(TrainRecipe):
    """Everything one training run needs: the :class:`TrainRecipe` options plus the method's fixed settings.

    ``train_path`` / ``valid_path`` corpus files (default: the shipped splits); AdamW ``weight_decay`` and
    ``warmup_steps`` of linear warm-up; LoRA on ``target_modules`` of the decoder layers from ``first_layer``
    up; ``hint_share`` / ``hint_wrong`` see :func:`.data.make_examples`; a progress event every ``log_every``
    steps.
    """

    train_path: str = field(default_factory=lambda: shipped_path("corpus.train.jsonl"))
    valid_path: str = field(default_factory=lambda: shipped_path("corpus.valid.jsonl"))
    warmup_steps: int = 40
    weight_decay: float = 0.0
    target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
    hint_share: float = 0.5
    hint_wrong: float = 0.3
    log_every: int = 10
