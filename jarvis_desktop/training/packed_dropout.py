"""LoRA dropout for packed batches that draws the same random mask as the padded batch would have.

Packing (:mod:`.batching`) changes the shape of what LoRA dropout sees, from ``(batch, longest, d)`` to
``(1, total tokens, d)``, and with it which random numbers land on which token. To keep a seeded run
reproducing the adapters trained with padded batches (``adapters/date-intent`` among them), this dropout draws
its Bernoulli mask on the padded shape, exactly as PyTorch's CPU ``dropout`` does (``empty_like(x).
bernoulli_(1 - p).div_(1 - p)``, ATen ``_dropout_impl``), and keeps the rows of the real tokens. The cost is a
quarter more random numbers than tokens, next to nothing beside the matmuls.

Imports torch at module level: import it only where torch is already needed (the training loop).
"""

from __future__ import annotations

import torch


class BatchLayout:
    """The padded layout of the batch being trained on: ``set(lengths)`` before each forward pass.

    ``lengths`` are the examples' token counts in :func:`.batching.pack` order; ``index`` is then the
    ``(total tokens,)`` int64 positions of the real tokens in the flattened ``(batch, longest)`` grid.
    """

    def __init__(self) -> None:
        self.shape: tuple[int, int] | None = None
        self.index: torch.Tensor | None = None

    def set(self, lengths: list[int]) -> None:
        width = max(lengths)
        self.shape = (len(lengths), width)
        self.index = torch.cat([torch.arange(n) + i * width for i, n in enumerate(lengths)])

    def clear(self) -> None:
        self.shape = self.index = None


class PackedDropout(torch.nn.Module):
    """Dropout with probability ``p`` whose mask is drawn on ``layout``'s padded shape. Falls back to plain
    dropout when no layout is set or ``x`` (``(1, tokens, d)`` float) does not match it; identity in eval."""

    def __init__(self, p: float, layout: BatchLayout) -> None:
        super().__init__()
        self.p = float(p)
        self.layout = layout

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        lay = self.layout
        if lay.shape is None or lay.index is None or x.dim() != 3 or x.shape[0] != 1 or x.shape[1] != lay.index.numel():
            return torch.nn.functional.dropout(x, self.p, True)
        keep = 1.0 - self.p
        noise = x.new_empty((*lay.shape, x.shape[-1])).bernoulli_(keep).div_(keep)
        return x * noise.view(-1, x.shape[-1])[lay.index].unsqueeze(0)


def install(model, layout: BatchLayout) -> int:
    """Replace every LoRA ``nn.Dropout`` in the PEFT ``model`` by a :class:`PackedDropout` on ``layout``;
    returns how many were replaced (0 when ``lora_dropout`` is 0: PEFT then uses ``nn.Identity``)."""
    count = 0
    for module in model.modules():
        dropouts = getattr(module, "lora_dropout", None)
        if not isinstance(dropouts, torch.nn.ModuleDict):
            continue
        for name, layer in list(dropouts.items()):
            if isinstance(layer, torch.nn.Dropout):
                dropouts[name] = PackedDropout(layer.p, layout)
                count += 1
    return count
