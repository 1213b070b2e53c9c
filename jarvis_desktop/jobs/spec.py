"""A training job's parameters (:class:`JobSpec`) and the ``train-adapter`` command line they make.

A job spec is the training recipe (:class:`~jarvis_desktop.training.recipe.TrainRecipe`: every training option
with its default, unit and help, declared once) plus the job's own options (data files, adapter name,
baseline, artifacts). The flags of ``train-adapter`` and ``jobs start``, the Training tab's form and the
job process's argv (:meth:`JobSpec.train_args`) are all derived from these fields
(:mod:`jarvis_desktop.training.options`).

Defaults: the shipped adapter's recipe, 400 steps of 8 rows, AdamW at 1e-3, LoRA r=8 alpha=16, 96 tokens; a
checkpoint every 50 steps (the last 2 kept); 200 validation rows. ``max_steps`` > 0 overrides ``epochs``.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.training.options import option, to_argv
from jarvis_desktop.training.recipe import TrainRecipe

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
#: Default optimiser steps of a job: the recipe of the shipped ``adapters/date-intent`` (its
#: training_metadata.json), so a default job reaches its scores in ~17 minutes (docs/training.md) rather than hours.
DEFAULT_STEPS = TrainRecipe.max_steps
#: Options of a job that the job process does not take (``train-adapter`` gets ``--output`` instead).
JOB_ONLY = ("name",)


@dataclass
class JobSpec(TrainRecipe):
    """Parameters of one training job: the :class:`~jarvis_desktop.training.recipe.TrainRecipe` options, then
    ``data`` / ``valid`` files, adapter ``name``, ``baseline`` adapter, ``gguf`` / ``zip`` artifacts (see each
    field's help)."""

    data: str = option("", "training JSONL (default: the built-in generated corpus)", unit="file")
    valid: str = option("", "validation JSONL (default: the built-in validation split)", unit="file")
    name: str = option("", "adapter name under <data dir>/adapters/ (default: job-<id>)")
    baseline: str = option("", "adapter directory to compare with, or 'none' (default: the active adapter)", unit="dir")
    gguf: bool = option(True, "skip the llama.cpp GGUF LoRA (adapter.gguf)")
    zip: bool = option(False, "also write adapter.zip (PEFT files + GGUF)")

    def check(self) -> JobSpec:
        """Raise BadInputError for values that cannot train; returns self."""
        if self.name and not _NAME.match(self.name):
            raise BadInputError(f"adapter name {self.name!r}: use letters, digits, '.', '_' or '-' (max 64)")
        if self.max_steps < 0 or (self.max_steps == 0 and self.epochs <= 0):
            raise BadInputError("give epochs > 0 or max_steps >= 1")
        if self.batch_size < 1 or self.rank < 1 or self.alpha < 1 or self.max_len < 16:
            raise BadInputError("batch size, LoRA r and alpha must be >= 1 and max length >= 16")
        if not 0 < self.lr < 1:
            raise BadInputError(f"learning rate must be in (0, 1), got {self.lr}")
        if not 0 <= self.dropout < 1:
            raise BadInputError(f"LoRA dropout must be in [0, 1), got {self.dropout}")
        if not 0 <= self.first_layer < 30:
            raise BadInputError("first layer must be in 0..29 (SmolLM2-135M has 30 decoder layers)")
        if self.keep_checkpoints < 1 or self.checkpoint_every < 0:
            raise BadInputError("keep at least 1 checkpoint; checkpoint_every must be >= 0")
        return self

    def to_dict(self) -> dict[str, Any]:
        """The spec as stored with a job (JSON)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        """The spec stored with a job (unknown keys ignored, so older rows still load)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def train_args(self, output: str, steps: int) -> list[str]:
        """Arguments of ``jarvis-desktop train-adapter`` for this spec writing to ``output``, training ``steps``
        optimiser steps (from :meth:`~jarvis_desktop.training.recipe.TrainRecipe.steps_for`)."""
        return [*to_argv(replace(self, max_steps=steps), exclude=JOB_ONLY), "--output", output]
