"""Training jobs that need PyTorch (the ``[train]`` extra): the LoRA adapter of the NLU fallback.

* :mod:`.base_model`: the embedded SmolLM2 GGUF converted once to Hugging Face safetensors (cached).
* :mod:`.data`: corpus rows -> (prompt, completion) examples, seeded.
* :mod:`.lora`: the training loop (progress callback, JSON-lines CLI) and its validation.
* :mod:`.gguf_export`: PEFT adapter -> GGUF LoRA with llama.cpp's ``convert_lora_to_gguf.py``.

Importing this package is cheap; torch/transformers/peft are imported inside the functions.
"""
