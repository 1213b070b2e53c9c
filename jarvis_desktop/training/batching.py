"""Token ids for training and scoring the LoRA fallback, and packing a batch into one padding-free sequence.

A batch of 8 commands padded to its longest one is a quarter padding (measured on the first 400 batches of
the shipped corpus: 118,283 real tokens of 157,800). :func:`pack` instead lays the examples end to end in
one row with ``position_ids`` restarting at 0 for each; transformers (>= 4.54, ``masking_utils.
find_packed_sequence_indices``) then builds a block-diagonal causal mask from them, so no example attends to
another and the loss is the padded batch's (equal to 1e-6 on those batches) for three quarters of the work.
"""

from __future__ import annotations

from jarvis_desktop.nlu.hf_base import prompt_ids

#: Label of a position that is not trained on (the prompt): PyTorch's ``cross_entropy`` ``ignore_index``.
IGNORE = -100


def encode(tok, prompt: str, completion: str | None, max_len: int) -> tuple[list[int], list[int]]:
    """Token ids and labels (:data:`IGNORE` on the prompt) for ``prompt`` + ``completion`` + EOS. The prompt
    is tokenized alone, as at inference; the sequence is cut at ``max_len`` tokens (the prompt is kept whole).
    """
    p_ids = prompt_ids(tok, prompt)
    if completion is None:
        return p_ids, [IGNORE] * len(p_ids)
    c_ids = tok(completion, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    ids = (p_ids + c_ids)[: max(max_len, len(p_ids) + 1)]
    labels = ([IGNORE] * len(p_ids) + c_ids)[: len(ids)]
    return ids, labels


def pack(batch: list[tuple[list[int], list[int]]]):
    """``(input_ids, labels, position_ids)``, each a ``(1, total tokens)`` int64 tensor: the examples of
    ``batch`` (``(ids, labels)`` pairs from :func:`encode`) end to end. Pass ``position_ids`` and no
    ``attention_mask`` to the model. Position ``p`` predicts token ``p + 1``; the first token of every
    example is a prompt token (label :data:`IGNORE`), so no loss crosses from one example into the next.

    Raises ValueError for an empty batch or an example whose first label is not :data:`IGNORE`.
    """
    import torch

    if not batch:
        raise ValueError("pack: empty batch")
    ids: list[int] = []
    labels: list[int] = []
    positions: list[int] = []
    for example_ids, example_labels in batch:
        if not example_ids or example_labels[0] != IGNORE:
            raise ValueError("pack: every example must start with a prompt token")
        ids += example_ids
        labels += example_labels
        positions += range(len(example_ids))
    return (
        torch.tensor([ids], dtype=torch.long),
        torch.tensor([labels], dtype=torch.long),
        torch.tensor([positions], dtype=torch.long),
    )


def completion_hidden(model, input_ids, labels, position_ids):
    """``(hidden, targets)``: the last hidden states ``(n, d)`` float32 at the positions that predict a
    completion token, and those tokens ``(n,)``, for a :func:`pack` ed batch. ``model`` is a PEFT model
    over a Llama-style causal LM; the LM head (49,152 x 576 for SmolLM2) is then applied to these ``n``
    positions only, not to every prompt position."""
    causal = model.base_model.model  # the LlamaForCausalLM under PEFT's LoraModel
    hidden = causal.model(input_ids=input_ids, position_ids=position_ids, use_cache=False).last_hidden_state
    target = labels[:, 1:]
    sel = target != IGNORE
    return hidden[:, :-1][sel], target[sel]
