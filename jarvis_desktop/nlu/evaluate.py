"""Evaluation of the NLU engine on labelled rows (the generator's validation split, or any JSONL with
``text``, ``intent``, ``date_keys`` and optionally ``payload``).

Figures: intent accuracy (overall and per intent), date-key exact-set accuracy (overall and per key
family), ``when`` accuracy (gold keys and predicted keys both resolved against one fixed ``now``),
payload accuracy (normalised comparison), invalid-key count, top confusions, parse latency p50/p95 in ms.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from datetime import datetime
from typing import Iterable

from jarvis_desktop.nlu import vocab

#: Fixed reference time for ``when`` accuracy: a Wednesday mid-morning.
EVAL_NOW = datetime(2026, 3, 11, 10, 17)

_GROUPS = {k: g for g, keys in vocab.vocabulary_json()["static_key_groups"].items() for k in keys}


def key_family(key: str) -> str:
    """The family of a key: a static group ("weekdays", "meals", ...), "clock", "in_minutes" or "in_days"."""
    if key in ("at_noon", "at_midnight") or vocab.parse_clock_key(key):
        return "clock"
    if key.startswith("in_") and key.endswith("_minutes"):
        return "in_minutes"
    if key.startswith("in_") and key.endswith("_days"):
        return "in_days"
    return _GROUPS.get(key, "invalid")


def row_category(keys: list[str]) -> str:
    """Category of a gold key list for the per-category breakdown: "none", a family, or "composite"."""
    if not keys:
        return "none"
    fams = {key_family(k) for k in keys}
    return fams.pop() if len(fams) == 1 and len(keys) == 1 else "composite"


def _pct(num: int, den: int) -> float:
    return round(100.0 * num / den, 2) if den else 0.0


def evaluate(engine, rows: Iterable[dict], now: datetime = EVAL_NOW, max_examples: int = 40) -> dict:
    """Run ``engine.parse`` on every row and compare with the labels.

    Returns a dict: ``n``, ``intent_accuracy`` (%), ``per_intent`` {intent: {"n", "accuracy"}},
    ``date_keys_accuracy`` (%), ``per_key_category`` {category: {"n", "accuracy"}}, ``when_accuracy`` (%),
    ``payload_accuracy`` (%, rows with a ``payload`` label), ``invalid_keys`` (count), ``confusions``
    [[gold, predicted, count]], ``latency_ms`` {"p50", "p95", "mean"}, ``key_errors`` / ``intent_errors``
    (examples), ``payload_errors`` (examples).
    """
    from jarvis_desktop.nlu.payload import normalize_payload
    from jarvis_desktop.nlu.resolve import format_when, resolve_when

    rows = list(rows)
    intent_ok = keys_ok = when_ok = pay_ok = pay_n = invalid = 0
    per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter = Counter()
    lat: list[float] = []
    key_errors, intent_errors, payload_errors = [], [], []
    for row in rows:
        t0 = time.perf_counter()
        res = engine.parse(row["text"], now=now)
        lat.append((time.perf_counter() - t0) * 1000.0)
        gold_i = row["intent"]
        per_intent[gold_i][1] += 1
        if res.intent == gold_i:
            intent_ok += 1
            per_intent[gold_i][0] += 1
        else:
            confusions[(gold_i, res.intent)] += 1
            if len(intent_errors) < max_examples:
                intent_errors.append({"text": row["text"], "gold": gold_i, "predicted": res.intent,
                                      "confidence": res.confidence})
        invalid += sum(1 for k in res.date_keys if not vocab.is_valid_key(k))
        gold_k = list(row["date_keys"])
        cat = row_category(gold_k)
        per_cat[cat][1] += 1
        if res.date_keys == gold_k:
            keys_ok += 1
            per_cat[cat][0] += 1
        elif len(key_errors) < max_examples:
            key_errors.append({"text": row["text"], "intent": gold_i, "gold": gold_k, "predicted": res.date_keys})
        gold_when = format_when(resolve_when(gold_k, now)) if gold_k else None
        when_ok += int(res.when == gold_when)
        if "payload" in row:
            pay_n += 1
            if normalize_payload(res.payload) == normalize_payload(row["payload"]):
                pay_ok += 1
            elif len(payload_errors) < max_examples:
                payload_errors.append({"text": row["text"], "intent": gold_i, "gold": row["payload"],
                                       "predicted": res.payload})
    n = len(rows)
    lat.sort()

    def q(p: float) -> float:
        return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else 0.0

    return {
        "n": n,
        "intent_accuracy": _pct(intent_ok, n),
        "per_intent": {k: {"n": v[1], "accuracy": _pct(v[0], v[1])} for k, v in sorted(per_intent.items())},
        "date_keys_accuracy": _pct(keys_ok, n),
        "per_key_category": {k: {"n": v[1], "accuracy": _pct(v[0], v[1])} for k, v in sorted(per_cat.items())},
        "when_accuracy": _pct(when_ok, n),
        "payload_accuracy": _pct(pay_ok, pay_n),
        "invalid_keys": invalid,
        "confusions": [[g, p, c] for (g, p), c in confusions.most_common(10)],
        "latency_ms": {"p50": q(0.5), "p95": q(0.95), "mean": round(sum(lat) / len(lat), 3) if lat else 0.0},
        "intent_errors": intent_errors,
        "key_errors": key_errors,
        "payload_errors": payload_errors,
    }


def format_report(report: dict, examples: int = 10) -> str:
    """A plain-text report of :func:`evaluate`'s dict, for the terminal."""
    lines = [
        f"utterances:          {report['n']}",
        f"intent accuracy:     {report['intent_accuracy']:.2f} %",
        f"date-key exact set:  {report['date_keys_accuracy']:.2f} %",
        f"when accuracy:       {report['when_accuracy']:.2f} %",
        f"payload accuracy:    {report['payload_accuracy']:.2f} %",
        f"invalid keys:        {report['invalid_keys']}",
        f"parse latency:       p50 {report['latency_ms']['p50']:.3f} ms, p95 {report['latency_ms']['p95']:.3f} ms",
        "",
        "per intent:",
    ]
    lines += [f"  {k:<16} {v['accuracy']:6.2f} %  (n={v['n']})" for k, v in report["per_intent"].items()]
    lines.append("date keys per category:")
    lines += [f"  {k:<16} {v['accuracy']:6.2f} %  (n={v['n']})" for k, v in report["per_key_category"].items()]
    if report["confusions"]:
        lines.append("top confusions (gold -> predicted):")
        lines += [f"  {g} -> {p}: {c}" for g, p, c in report["confusions"]]
    for name, label in (("intent_errors", "intent errors"), ("key_errors", "date-key errors"),
                        ("payload_errors", "payload errors")):
        errs = report.get(name) or []
        if errs and examples:
            lines.append(f"{label} (first {min(examples, len(errs))}):")
            for e in errs[:examples]:
                lines.append(f"  {e['text']!r}: gold {e['gold']!r}, got {e['predicted']!r}")
    return "\n".join(lines)


def load_rows(path=None) -> list[dict]:
    """Labelled rows for :func:`evaluate`: a JSONL file (``text``, ``intent``, ``date_keys``, optional
    ``payload``), or with ``path`` None the template-held-out validation split of the shipped corpus
    (``models/nlu/corpus.valid.jsonl``, else regenerated from ``training_metadata.json``'s size and seed).

    Raises BadInputError for a missing or malformed file.
    """
    import json
    from pathlib import Path

    from jarvis_desktop.errors import BadInputError

    if path is None:
        from jarvis_desktop.models import NLU_MODEL_DIR
        from jarvis_desktop.nlu import datagen

        shipped = NLU_MODEL_DIR / "corpus.valid.jsonl"
        if shipped.is_file():
            path = shipped
        else:
            meta_path = NLU_MODEL_DIR / "training_metadata.json"
            corpus = json.loads(meta_path.read_text())["corpus"] if meta_path.is_file() else {}
            rows = datagen.generate(corpus.get("n", 14000), corpus.get("seed", 13))
            return [r for r in rows if r["split"] == "valid"]
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"cannot read evaluation data {path}: {exc}") from exc
    for i, row in enumerate(rows, 1):
        if not isinstance(row, dict) or not isinstance(row.get("text"), str) or "intent" not in row \
                or not isinstance(row.get("date_keys"), list):
            raise BadInputError(f"{path}:{i}: each line needs text, intent and date_keys")
    return rows
