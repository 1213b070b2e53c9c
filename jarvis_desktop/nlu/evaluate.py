"""Evaluation of the NLU engine on labelled rows (the generator's validation split, or any JSONL with
``text``, ``intent``, ``date_keys`` and optionally ``payload``).

Figures: intent accuracy (overall and per intent), date-key exact-set accuracy (overall, per intent and
per key category), ``when`` accuracy (against the row's ``when`` label when it has one, else the gold keys
resolved against the row's ``now`` or one fixed ``now``), payload accuracy (normalised comparison),
invalid-key count, top confusions, fallback rate and parse latency p50/p95 in ms, overall and per
``ParseResult.source`` ("fasttext", "rules", "lora", ...). :func:`threshold_table` gives, for candidate
fast-path confidence thresholds, how many rows fall below and how accurate FastText is on each side.
"""

from __future__ import annotations

import json
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Protocol

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.models import NLU_MODEL_DIR
from jarvis_desktop.nlu import datagen, vocab
from jarvis_desktop.nlu.engine import NluEngine
from jarvis_desktop.nlu.intent_model import IntentClassifier
from jarvis_desktop.nlu.payload import normalize_payload
from jarvis_desktop.nlu.resolve import when_text
from jarvis_desktop.nlu.result import ParseResult

#: Fixed reference time for ``when`` accuracy: a Wednesday mid-morning.
EVAL_NOW = datetime(2026, 3, 11, 10, 17)

_GROUPS = {k: g for g, keys in vocab.vocabulary_json()["static_key_groups"].items() for k in keys}


def key_family(key: str) -> str:
    """The family of a key: a static group ("weekdays", "meals", ...), "clock", "in_seconds", "in_minutes" or
    "in_days"."""
    if key in ("at_noon", "at_midnight") or vocab.parse_clock_key(key):
        return "clock"
    if key.startswith("in_") and key.endswith("_seconds"):
        return "in_seconds"
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


#: ``ParseResult.source`` values that are the FastText fast path or the guard rails; any other source
#: ("lora", "fallback") counts as a fallback.
FAST_SOURCES = frozenset({"fasttext", "rules"})


def _quantile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank quantile ``p`` in [0, 1] of an ascending list (0.0 for an empty list)."""
    if not sorted_values:
        return 0.0
    return round(sorted_values[min(len(sorted_values) - 1, int(p * len(sorted_values)))], 3)


def _latency(values: list[float]) -> dict:
    values = sorted(values)
    return {
        "n": len(values),
        "p50": _quantile(values, 0.5),
        "p95": _quantile(values, 0.95),
        "mean": round(sum(values) / len(values), 3) if values else 0.0,
    }


class UtteranceParser(Protocol):
    """What :func:`evaluate` needs of an engine: :meth:`~jarvis_desktop.nlu.engine.NluEngine.parse`."""

    def parse(self, text: str, now: datetime | None = None) -> ParseResult: ...


def row_record(index: int, row: dict, now: datetime, result: ParseResult) -> dict:
    """One line of ``nlu-eval --rows-out``: ``{"i", "text", "now" (ISO), "intent", "confidence",
    "date_keys", "when", "payload", "source"}`` for row ``index`` parsed at ``now`` into ``result``
    (a :class:`~jarvis_desktop.nlu.engine.ParseResult`)."""
    return {
        "i": index,
        "text": row["text"],
        "now": now.isoformat(),
        "intent": result.intent,
        "confidence": result.confidence,
        "date_keys": list(result.date_keys),
        "when": result.when,
        "payload": result.payload,
        "source": result.source,
    }


def evaluate(
    engine: UtteranceParser,
    rows: Iterable[dict],
    now: datetime = EVAL_NOW,
    max_examples: int = 40,
    on_row: Callable[[dict], object] | None = None,
) -> dict:
    """Run ``engine.parse`` on every row and compare with the labels.

    A row is ``{"text", "intent", "date_keys"}`` plus optional ``payload``, ``now`` (ISO local time that
    anchors ``when`` for this row, default ``now``) and ``when`` (the expected ``YYYY-MM-DDTHH:MM`` or null;
    without it the gold keys are resolved).

    Returns a dict: ``n``, ``intent_accuracy`` (%), ``per_intent`` {intent: {"n", "accuracy",
    "keys_accuracy"}} (keys = exact key list), ``date_keys_accuracy`` (%), ``per_key_category``
    {category: {"n", "accuracy"}}, ``when_accuracy`` (%), ``payload_accuracy`` (%, rows with a ``payload``
    label; None when no row has one), ``invalid_keys`` (count), ``confusions`` [[gold, predicted, count]] (top 10),
    ``sources`` {source: row count}, ``fallback_rate`` (% of rows answered by a source other than
    "fasttext"/"rules"), ``latency_ms`` {"n", "p50", "p95", "mean"} over all rows, ``latency_by_source``
    {source: {"n", "p50", "p95", "mean"}}, and examples ``intent_errors``, ``key_errors``,
    ``payload_errors``. Latencies are wall-clock milliseconds of ``engine.parse``. ``on_row``, if given,
    is called with :func:`row_record` of every row, in order.
    """
    rows = list(rows)
    intent_ok = keys_ok = when_ok = pay_ok = pay_n = invalid = 0
    per_intent: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    by_source: dict[str, list[float]] = defaultdict(list)
    per_cat: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    confusions: Counter = Counter()
    lat: list[float] = []
    key_errors: list[dict] = []
    intent_errors: list[dict] = []
    payload_errors: list[dict] = []
    for index, row in enumerate(rows):
        row_now = datetime.fromisoformat(row["now"]) if row.get("now") else now
        t0 = time.perf_counter()
        res = engine.parse(row["text"], now=row_now)
        ms = (time.perf_counter() - t0) * 1000.0
        if on_row is not None:
            on_row(row_record(index, row, row_now, res))
        lat.append(ms)
        by_source[res.source].append(ms)
        gold_i = row["intent"]
        per_intent[gold_i][1] += 1
        if res.intent == gold_i:
            intent_ok += 1
            per_intent[gold_i][0] += 1
        else:
            confusions[(gold_i, res.intent)] += 1
            if len(intent_errors) < max_examples:
                intent_errors.append(
                    {"text": row["text"], "gold": gold_i, "predicted": res.intent, "confidence": res.confidence}
                )
        invalid += sum(1 for k in res.date_keys if not vocab.is_valid_key(k))
        gold_k = list(row["date_keys"])
        cat = row_category(gold_k)
        per_cat[cat][1] += 1
        if res.date_keys == gold_k:
            keys_ok += 1
            per_cat[cat][0] += 1
            per_intent[gold_i][2] += 1
        elif len(key_errors) < max_examples:
            key_errors.append({"text": row["text"], "intent": gold_i, "gold": gold_k, "predicted": res.date_keys})
        resolved = when_text(gold_k, row_now) if gold_k else None
        gold_when = row.get("when", resolved)
        when_ok += int(res.when == gold_when)
        if "payload" in row:
            pay_n += 1
            if normalize_payload(res.payload) == normalize_payload(row["payload"]):
                pay_ok += 1
            elif len(payload_errors) < max_examples:
                payload_errors.append(
                    {"text": row["text"], "intent": gold_i, "gold": row["payload"], "predicted": res.payload}
                )
    n = len(rows)
    fallback = sum(len(v) for k, v in by_source.items() if k not in FAST_SOURCES)
    return {
        "n": n,
        "intent_accuracy": _pct(intent_ok, n),
        "per_intent": {
            k: {"n": v[1], "accuracy": _pct(v[0], v[1]), "keys_accuracy": _pct(v[2], v[1])}
            for k, v in sorted(per_intent.items())
        },
        "date_keys_accuracy": _pct(keys_ok, n),
        "per_key_category": {k: {"n": v[1], "accuracy": _pct(v[0], v[1])} for k, v in sorted(per_cat.items())},
        "when_accuracy": _pct(when_ok, n),
        "payload_accuracy": _pct(pay_ok, pay_n) if pay_n else None,
        "invalid_keys": invalid,
        "confusions": [[g, p, c] for (g, p), c in confusions.most_common(10)],
        "sources": {k: len(v) for k, v in sorted(by_source.items())},
        "fallback_rate": _pct(fallback, n),
        "latency_ms": _latency(lat),
        "latency_by_source": {k: _latency(v) for k, v in sorted(by_source.items())},
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
        "payload accuracy:    "
        + ("-  (no payload labels)" if report["payload_accuracy"] is None else f"{report['payload_accuracy']:.2f} %"),
        f"invalid keys:        {report['invalid_keys']}",
        f"fallback rate:       {report.get('fallback_rate', 0.0):.2f} %  "
        f"(sources: {', '.join(f'{k} {v}' for k, v in report.get('sources', {}).items())})",
        f"parse latency:       p50 {report['latency_ms']['p50']:.3f} ms, p95 {report['latency_ms']['p95']:.3f} ms",
    ]
    for src, v in report.get("latency_by_source", {}).items():
        lines.append(f"  {src:<16} p50 {v['p50']:.3f} ms, p95 {v['p95']:.3f} ms  (n={v['n']})")
    lines += ["", "per intent:          intent     keys"]
    lines += [
        f"  {k:<16} {v['accuracy']:6.2f} %  {v.get('keys_accuracy', 0.0):6.2f} %  (n={v['n']})"
        for k, v in report["per_intent"].items()
    ]
    lines.append("date keys per category:")
    lines += [f"  {k:<16} {v['accuracy']:6.2f} %  (n={v['n']})" for k, v in report["per_key_category"].items()]
    if report["confusions"]:
        lines.append("top confusions (gold -> predicted):")
        lines += [f"  {g} -> {p}: {c}" for g, p, c in report["confusions"]]
    for name, label in (
        ("intent_errors", "intent errors"),
        ("key_errors", "date-key errors"),
        ("payload_errors", "payload errors"),
    ):
        errs = report.get(name) or []
        if errs and examples:
            lines.append(f"{label} (first {min(examples, len(errs))}):")
            for e in errs[:examples]:
                lines.append(f"  {e['text']!r}: gold {e['gold']!r}, got {e['predicted']!r}")
    return "\n".join(lines)


def load_rows(path: str | Path | None = None) -> list[dict]:
    """Labelled rows for :func:`evaluate`: a JSONL file (``text``, ``intent``, ``date_keys``, optional
    ``payload``), or with ``path`` None the template-held-out validation split of the shipped corpus
    (``models/nlu/corpus.valid.jsonl``, else regenerated from ``training_metadata.json``'s size and seed).

    Raises BadInputError for a missing or malformed file.
    """
    if path is None:
        shipped = NLU_MODEL_DIR / "corpus.valid.jsonl"
        if shipped.is_file():
            path = shipped
        else:
            meta_path = NLU_MODEL_DIR / "training_metadata.json"
            corpus = json.loads(meta_path.read_text())["corpus"] if meta_path.is_file() else {}
            rows = datagen.generate(corpus.get("n", datagen.DEFAULT_N), corpus.get("seed", datagen.DEFAULT_SEED))
            return [r for r in rows if r["split"] == "valid"]
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
        rows = [json.loads(line) for line in lines if line.strip()]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadInputError(f"cannot read evaluation data {path}: {exc}") from exc
    for i, row in enumerate(rows, 1):
        if (
            not isinstance(row, dict)
            or not isinstance(row.get("text"), str)
            or "intent" not in row
            or not isinstance(row.get("date_keys"), list)
        ):
            raise BadInputError(f"{path}:{i}: each line needs text, intent and date_keys")
    return rows


#: candidate fast-path confidence thresholds for :func:`threshold_table`
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)


def threshold_table(rows: Iterable[dict], classifier=None, thresholds: Iterable[float] = THRESHOLDS) -> list[dict]:
    """How a fast-path confidence threshold would split ``rows`` (labelled rows with ``text`` and ``intent``).

    ``classifier``: an object with ``predict(text) -> (intent, probability)``; None loads the shipped
    FastText :class:`~jarvis_desktop.nlu.intent_model.IntentClassifier`. For each threshold ``t`` returns
    ``{"threshold": t, "below_pct": % of rows with probability < t, "acc_above": FastText intent
    accuracy (%) on rows with probability >= t, "acc_below": accuracy (%) on rows below t (None when no
    row is below), "n_below": count}``. Rows below the threshold are the ones a fallback would see.
    Raises ModelNotFoundError if the shipped model is missing.
    """
    if classifier is None:
        classifier = IntentClassifier.load(NLU_MODEL_DIR)
    scored = []
    for row in rows:
        intent, prob = classifier.predict(row["text"])
        scored.append((prob, intent == row["intent"]))
    out = []
    n = len(scored)
    for t in thresholds:
        below = [ok for p, ok in scored if p < t]
        above = [ok for p, ok in scored if p >= t]
        out.append(
            {
                "threshold": t,
                "below_pct": _pct(len(below), n),
                "n_below": len(below),
                "acc_above": _pct(sum(above), len(above)) if above else None,
                "acc_below": _pct(sum(below), len(below)) if below else None,
            }
        )
    return out


def format_threshold_table(table: list[dict]) -> str:
    """Plain-text rendering of :func:`threshold_table`."""
    lines = ["threshold  below   FastText acc. above   below"]
    for r in table:
        above = "-" if r["acc_above"] is None else f"{r['acc_above']:6.2f} %"
        below = "-" if r["acc_below"] is None else f"{r['acc_below']:6.2f} %"
        lines.append(f"  {r['threshold']:<7.2f} {r['below_pct']:6.2f} %   {above:>10}   {below:>10}")
    return "\n".join(lines)


def run_nlu_eval(
    engine: NluEngine,
    data: str | Path | None = None,
    as_json: bool = False,
    thresholds: bool = False,
    rows_out: str | Path | None = None,
) -> str:
    """What ``jarvis-desktop nlu-eval [--data FILE] [--json] [--thresholds] [--rows-out FILE]`` prints: the
    report of :func:`evaluate` on :func:`load_rows` ``(data)``, plus with ``thresholds`` the
    :func:`threshold_table`. ``rows_out``: a path that receives one JSON line per row (:func:`row_record`).
    Raises BadInputError for a bad data file."""
    rows = load_rows(data)
    if rows_out is not None:
        with open(rows_out, "w", encoding="utf-8") as fh:
            report = evaluate(engine, rows, on_row=lambda rec: fh.write(json.dumps(rec, ensure_ascii=False) + "\n"))
    else:
        report = evaluate(engine, rows)
    table = threshold_table(rows, engine.classifier) if thresholds else None
    if as_json:
        if table is not None:
            report["thresholds"] = table
        return json.dumps(report, indent=2)
    text = format_report(report)
    if table is not None:
        text += "\n\nfast-path confidence thresholds (FastText alone):\n" + format_threshold_table(table)
    return text
