"""Training jobs that need PyTorch (the ``[train]`` extra): the LoRA adapter of the NLU fallback.

* :mod:`.recipe`: the training options, each declared once (:class:`~.recipe.TrainRecipe`), and the trainer's
  configuration; :mod:`.options`: dataclass options -> argparse flags -> argv.
* The base model (the embedded SmolLM2 GGUF converted once to safetensors) lives in
  :mod:`jarvis_desktop.nlu.hf_base`: inference needs it too, and inference never imports training.
* :mod:`.data`: corpus rows -> (prompt, completion) examples, seeded.
* :mod:`.batching`: token ids and labels, and batches packed end to end without padding.
* :mod:`.packed_dropout`: LoRA dropout on packed batches drawing the padded batch's masks (reproducible runs).
* :mod:`.lora`: the training loop (progress callback, JSON-lines CLI), checkpoints.
* :mod:`.scoring`: teacher-forced validation scores (greedy accuracy without generating).
* :mod:`.gguf_export`: PEFT adapter -> GGUF LoRA with llama.cpp's ``convert_lora_to_gguf.py``.

Importing this package is cheap; torch/transformers/peft are imported inside the functions.
"""
