"""A training job's parameters (:class:`JobSpec`) and the ``train-adapter`` command line they make.

Defaults are the UI's "sane defaults": 400 steps (the shipped adapter's recipe) at batch 8, AdamW at 1e-3, LoRA r=8,
alpha=16, sequences cut at 96 tokens, a checkpoint every 50 steps (the last 2 kept). ``max_steps`` > 0
overrides ``epochs``.
"""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, fields

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.training.lora import LoraTrainConfig

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


#: The training recipe's defaults live in one place, :class:`~jarvis_desktop.training.lora.LoraTrainConfig`
#: (a light module: torch loads only when training starts); a job's defaults are read from it.
_RECIPE = LoraTrainConfig()
#: Default optimiser steps of a job: the recipe of the shipped ``adapters/date-intent`` (its
#: training_metadata.json), so a default job reaches its scores in ~17 minutes (docs/training.md) rather than hours.
DEFAULT_STEPS = _RECIPE.max_steps


@dataclass
class JobSpec:
    """Parameters of one training job.

    ``data``: training JSONL ("" = the built-in corpus); ``valid``: validation JSONL ("" = the built-in
    validation split); ``name``: adapter name to write under ``<data dir>/adapters/`` ("" = ``job-<id>``);
    ``epochs`` passes over the data, or ``max_steps`` optimiser steps when > 0 (default :data:`DEFAULT_STEPS`:
    the shipped adapter's 400 steps of 8 rows, ~0.22 epoch of the built-in corpus, ~17 min on 2 cores);
    ``batch_size`` rows per step; ``lr`` peak learning rate; ``rank`` / ``alpha`` LoRA rank and scale;
    ``dropout`` LoRA dropout probability; ``max_len`` tokens per row;
    ``first_layer`` LoRA on decoder layers from this one up (SmolLM2-135M has 30); ``eval_rows``
    validation rows scored (-1 all); ``checkpoint_every`` steps between checkpoints (0 = none);
    ``threads`` CPU threads (0 = the job process decides: all cores); ``gguf`` also write the llama.cpp
    LoRA; ``zip`` also write ``adapter.zip``.
    """

    data: str = ""
    valid: str = ""
    name: str = ""
    epochs: float = 1.0
    max_steps: int = DEFAULT_STEPS
    batch_size: int = _RECIPE.batch_size
    lr: float = _RECIPE.lr
    rank: int = _RECIPE.r
    alpha: int = _RECIPE.alpha
    dropout: float = _RECIPE.dropout
    max_len: int = _RECIPE.max_len
    first_layer: int = _RECIPE.first_layer
    seed: int = _RECIPE.seed
    eval_rows: int = 200
    checkpoint_every: int = 50
    keep_checkpoints: int = 2
    threads: int = 0
    gguf: bool = True
    zip: bool = False

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

    def steps_for(self, rows: int) -> int:
        """Optimiser steps for ``rows`` training rows: ``max_steps`` if set, else ceil(epochs x rows / batch)."""
        if self.max_steps > 0:
            return self.max_steps
        return max(1, math.ceil(self.epochs * rows / self.batch_size))

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> JobSpec:
        """The spec stored with a job (unknown keys ignored, so older rows still load)."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def train_args(self, output: str, steps: int, baseline: str | None = None) -> list[str]:
        """Arguments of ``jarvis-desktop train-adapter`` for this spec writing to ``output`` (``steps`` from
        :meth:`steps_for`); ``baseline`` is the adapter the new one is compared with."""
        args = [
            "--output",
            output,
            "--max-steps",
            str(steps),
            "--batch-size",
            str(self.batch_size),
            "--lr",
            repr(self.lr),
            "--rank",
            str(self.rank),
            "--alpha",
            str(self.alpha),
            "--dropout",
            repr(self.dropout),
            "--max-len",
            str(self.max_len),
            "--first-layer",
            str(self.first_layer),
            "--seed",
            str(self.seed),
            "--eval-rows",
            str(self.eval_rows),
            "--checkpoint-every",
            str(self.checkpoint_every),
            "--keep-checkpoints",
            str(self.keep_checkpoints),
        ]
        if self.data:
            args += ["--data", self.data]
        if self.valid:
            args += ["--valid", self.valid]
        if self.threads:
            args += ["--threads", str(self.threads)]
        if not self.gguf:
            args.append("--no-gguf")
        if self.zip:
            args.append("--zip")
        if baseline:
            args += ["--baseline", baseline]
        return args
