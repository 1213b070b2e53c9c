"""The templates and slot fillers of the NLU training-corpus generator (:mod:`.datagen`), loaded from the
data file ``jarvis_desktop/data/nlu_templates.json`` (shipped as package data).

The file holds, per intent, the phrasings as templates with ``{slot}`` holes, each with an explicit,
stable id (``"reminder_set/07"``): a row of the corpus names its template by that id and the
train/validation split is by template, so an id is never reused or renumbered; a new template takes the
next free number of its intent. ``keys`` lists the date keys a template's own words hold ("what's the
date today" -> ``["today"]``). Date slots (``{date}``, ``{when}``, ``{day}``, ...) are filled by
:mod:`.datagen` with labelled date phrases; the other slots with the filler lists of the file.

Never copy sentences of ``tests/data/unseen_utterances.jsonl`` (or near-copies) into the file: that file
measures how the models do on phrasings nobody wrote into the generator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path

#: the shipped data file, inside the package
DATA_FILE = "data/nlu_templates.json"


@dataclass(frozen=True)
class Template:
    """One phrasing of an intent: ``id`` ("intent/NN", stable), ``text`` with ``{slot}`` holes and the date
    ``keys`` its own words hold (empty for most)."""

    id: str
    intent: str
    text: str
    keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class TemplateBook:
    """Everything the generator draws from.

    ``templates``: intent -> its templates in file order (the generator draws by position, so the order
    is part of the corpus); ``slot_fillers``: slot name -> filler list (``event`` and ``n`` are built by
    the generator from ``contacts``, ``event_patterns`` and ``events``); ``payload_slot``: intent -> the
    slot whose filler is the row's payload; ``filler_pre``/``polite_pre``/``filler_post``: words put
    before or after an utterance; ``imperative``: first words after which a polite prefix fits.
    """

    templates: dict[str, list[Template]]
    slot_fillers: dict[str, list[str]]
    payload_slot: dict[str, str]
    contacts: list[str]
    event_patterns: list[str]
    events: list[str]
    filler_pre: list[str]
    polite_pre: list[str]
    filler_post: list[str]
    imperative: frozenset[str]


def _templates(raw: dict[str, list[dict]]) -> dict[str, list[Template]]:
    out: dict[str, list[Template]] = {}
    seen: set[str] = set()
    for intent, rows in raw.items():
        out[intent] = []
        for row in rows:
            tid = str(row["id"])
            if not tid.startswith(intent + "/") or tid in seen:
                raise ValueError(f"template id {tid!r} is not unique or not of intent {intent!r}")
            seen.add(tid)
            out[intent].append(Template(tid, intent, str(row["text"]), tuple(row.get("keys", ()))))
    return out


def parse_book(data: dict) -> TemplateBook:
    """A :class:`TemplateBook` from the decoded JSON of a templates file. Raises ValueError on a duplicate
    or misplaced template id, KeyError on a missing section or filler list."""
    lists: dict[str, list[str]] = {name: list(values) for name, values in data["lists"].items()}
    return TemplateBook(
        templates=_templates(data["templates"]),
        slot_fillers={slot: lists[name] for slot, name in data["slot_fillers"].items()},
        payload_slot=dict(data["payload_slot"]),
        contacts=lists["contacts"],
        event_patterns=lists["event_patterns"],
        events=lists["events"],
        filler_pre=list(data["filler_pre"]),
        polite_pre=list(data["polite_pre"]),
        filler_post=list(data["filler_post"]),
        imperative=frozenset(data["imperative"]),
    )


def load_book(path: str | Path) -> TemplateBook:
    """The templates file at ``path`` (UTF-8 JSON). Raises OSError / ValueError / KeyError on a bad file."""
    return parse_book(json.loads(Path(path).read_text(encoding="utf-8")))


@cache
def shipped_book() -> TemplateBook:
    """The shipped templates (read once per process)."""
    text = resources.files("jarvis_desktop").joinpath(DATA_FILE).read_text(encoding="utf-8")
    return parse_book(json.loads(text))
