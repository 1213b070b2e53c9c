"""The LoRA fallback's text format: the prompt it reads and the JSON answer it writes.

Shared by training (``training/lora.py``) and inference (:mod:`.lora_fallback`) so both see
exactly the same strings. No heavy imports.

Prompt (short on purpose: training cost and latency grow with the sequence length)::

    Command: remind me to call mom tomorrow at 3 pm
    Guess: reminder_set                      <- optional line: the FastText intent as a hint
    JSON: {"intent":"

The model continues the prompt with the rest of a compact JSON object, e.g.
``reminder_set","date_keys":["tomorrow","at_3pm"]}``; the prompt's ``{"intent":"`` is pre-filled so
the first generated tokens are the intent name. :func:`parse_answer` turns prompt tail + completion
back into a validated :class:`LoraAnswer` (spec rule 7: invalid keys are dropped).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from jarvis_desktop.nlu.vocab import INTENTS, is_valid_key

#: The pre-filled start of the JSON answer; the prompt ends with it.
ANSWER_PREFIX = '{"intent":"'
#: Generation stops at this string (the JSON object has no nested braces).
ANSWER_STOP = "}"
#: Generation for the intent alone stops at the closing quote of the intent name.
INTENT_STOP = '"'
#: Utterances are cut to this many characters in the prompt (the corpus' longest row is 113).
MAX_PROMPT_CHARS = 200


@dataclass
class LoraAnswer:
    """The fallback model's validated answer.

    ``intent``: one of :data:`~jarvis_desktop.nlu.vocab.INTENTS`, or None when the model named no known
    intent; ``date_keys``: valid keys in the model's order (invalid ones dropped), or None when the
    answer was cut before the key list (intent-only generation); ``raw``: the generated text as is.
    """

    intent: str | None
    date_keys: list[str] | None = field(default=None)
    raw: str = ""


def build_prompt(text: str, hint: str | None = None) -> str:
    """The prompt for ``text`` (whitespace collapsed, cut to :data:`MAX_PROMPT_CHARS`), with the FastText
    intent ``hint`` as a ``Guess:`` line when it is a known intent. Ends with :data:`ANSWER_PREFIX`."""
    clean = " ".join(str(text).split())[:MAX_PROMPT_CHARS]
    guess = f"Guess: {hint}\n" if hint in INTENTS else ""
    return f"Command: {clean}\n{guess}JSON: {ANSWER_PREFIX}"


def build_completion(intent: str, date_keys: list[str]) -> str:
    """The training target after the prompt: ``'alarm_set","date_keys":["at_7am"]}'`` (compact JSON, the
    pre-filled :data:`ANSWER_PREFIX` removed)."""
    full = json.dumps({"intent": intent, "date_keys": list(date_keys)}, separators=(",", ":"))
    assert full.startswith(ANSWER_PREFIX)
    return full[len(ANSWER_PREFIX) :]


def parse_answer(completion: str) -> LoraAnswer | None:
    """Validate what the model generated after the prompt.

    ``completion`` is the text after :data:`ANSWER_PREFIX`, either a full answer
    (``'timer_set","date_keys":["in_10_minutes"]}'``) or an intent-only one cut at the closing quote
    (``'timer_set'`` or ``'timer_set"'``). Returns None when nothing usable can be read (not JSON, not
    an object, keys not a list of strings, or garbage); otherwise a :class:`LoraAnswer` whose intent is
    None if unknown and whose keys keep only :func:`~jarvis_desktop.nlu.vocab.is_valid_key` ones.
    """
    if not isinstance(completion, str):
        return None
    raw = completion
    body = completion.strip()
    if body and '"' not in body.rstrip('"') and ANSWER_STOP not in body:
        # intent-only generation: 'timer_set' or 'timer_set"'
        name = body.rstrip('"')
        return LoraAnswer(intent=name, date_keys=None, raw=raw) if name in INTENTS else None
    if not body.endswith(ANSWER_STOP):
        body += ANSWER_STOP  # generation stopped on the stop string, which llama.cpp does not return
    try:
        obj = json.loads(ANSWER_PREFIX + body)
    except (ValueError, RecursionError):
        return None
    if not isinstance(obj, dict) or not isinstance(obj.get("intent"), str):
        return None
    keys = obj.get("date_keys", [])
    if not isinstance(keys, list):
        return None
    intent = obj["intent"] if obj["intent"] in INTENTS else None
    valid = [k for k in keys if isinstance(k, str) and is_valid_key(k)]
    return LoraAnswer(intent=intent, date_keys=list(dict.fromkeys(valid)), raw=raw)
