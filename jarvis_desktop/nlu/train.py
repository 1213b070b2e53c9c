"""Train the shipped NLU models: generate the corpus, train ``intent.ftz`` + ``keys.ftz`` on the train
split, evaluate on the template-held-out validation split, write ``training_metadata.json``.

    python -m jarvis_desktop.nlu.train [--out models/nlu] [--n 18000] [--seed 13]
    (or: jarvis-desktop train-nlu)
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import time
from importlib.metadata import version
from pathlib import Path

from jarvis_desktop.models import NLU_MODEL_DIR
from jarvis_desktop.nlu import datagen
from jarvis_desktop.nlu.datekeys import extract_date_keys
from jarvis_desktop.nlu.engine import NluEngine
from jarvis_desktop.nlu.evaluate import evaluate
from jarvis_desktop.nlu.intent_model import IntentTrainConfig, StaticKeyModel, train_intent_model
from jarvis_desktop.nlu.vocab import STATIC_KEY_SET

#: size and seed of the shipped corpus (defined with the generator)
DEFAULT_N = datagen.DEFAULT_N
DEFAULT_SEED = datagen.DEFAULT_SEED
#: keys.ftz may add a static key only when the rules found none and its probability is at least this.
KEYS_MODEL_ADD_THRESHOLD = 0.95
MAX_CORPUS_BYTES = 4_000_000


def compare_key_strategies(model_dir: Path, rows: list[dict]) -> dict:
    """Date-key exact-set accuracy (%) on ``rows`` for: rules alone; rules + keys.ftz adding a key only
    when the rules found none (p >= KEYS_MODEL_ADD_THRESHOLD); rules united with every keys.ftz key
    (p >= 0.5); keys.ftz alone on the rows whose gold keys are all static; plus how often keys.ftz
    disagrees with the rules (``StaticKeyModel.disagrees``) and how exact the rules are on those rows."""
    model = StaticKeyModel.load(model_dir)
    n = len(rows)
    ok = {"rules_only": 0, "rules_plus_model_when_empty": 0, "rules_union_model": 0}
    static_rows = static_ok = disagree = disagree_rules_ok = 0
    for row in rows:
        gold = set(row["date_keys"])
        rules = extract_date_keys(row["text"], row["intent"])
        ok["rules_only"] += set(rules) == gold
        if model.disagrees(row["text"], rules):
            disagree += 1
            disagree_rules_ok += set(rules) == gold
        high = [k for k, p in model.predict(row["text"], KEYS_MODEL_ADD_THRESHOLD)]
        ok["rules_plus_model_when_empty"] += (set(rules) if rules else set(high)) == gold
        ok["rules_union_model"] += set(rules) | {k for k, _ in model.predict(row["text"], 0.5)} == gold
        if gold <= STATIC_KEY_SET:
            static_rows += 1
            static_ok += {k for k, _ in model.predict(row["text"], 0.5)} == gold
    out: dict[str, float | int | None] = {k: round(100.0 * v / n, 2) for k, v in ok.items()}
    out["model_only_on_static_rows"] = round(100.0 * static_ok / static_rows, 2) if static_rows else 0.0
    out["model_disagrees_with_rules_pct"] = round(100.0 * disagree / n, 2) if n else 0.0
    out["rules_exact_when_model_disagrees"] = round(100.0 * disagree_rules_ok / disagree, 2) if disagree else None
    out["n"] = n
    return out


def train_nlu(
    out_dir: str | Path,
    n: int = DEFAULT_N,
    seed: int = DEFAULT_SEED,
    config: IntentTrainConfig | None = None,
    write_corpus: bool = True,
) -> dict:
    """Generate ``n`` rows with ``seed``, train on the train split, evaluate on validation, and write
    ``intent.ftz``, ``keys.ftz``, ``intent_model.json``, ``training_metadata.json`` (and the corpus as
    ``corpus.train.jsonl`` / ``corpus.valid.jsonl`` when under 4 MB) into ``out_dir``.

    Returns the metadata dict (also written to ``training_metadata.json``).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rows = datagen.generate(n, seed)
    blob = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
    data_hash = hashlib.sha256(blob).hexdigest()
    train = [r for r in rows if r["split"] == "train"]
    valid = [r for r in rows if r["split"] == "valid"]
    cfg = config or IntentTrainConfig()
    model_meta = train_intent_model(train, out_dir, cfg)
    train_s = time.perf_counter() - t0
    engine = NluEngine(model_dir=out_dir)
    report = evaluate(engine, valid)
    strategies = compare_key_strategies(out_dir, valid)
    if write_corpus and len(blob) < MAX_CORPUS_BYTES:
        for name, part in (("corpus.train.jsonl", train), ("corpus.valid.jsonl", valid)):
            (out_dir / name).write_text(
                "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in part), encoding="utf-8"
            )
    import fasttext  # noqa: F401  (heavy, lazy: the version below is the record)

    meta = {
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "corpus": {
            "n": len(rows),
            "train": len(train),
            "valid": len(valid),
            "seed": seed,
            "sha256": data_hash,
            "templates": len(datagen.template_ids()),
            "split": "by template, ~20% of each intent's templates held out",
        },
        "model": model_meta,
        "fasttext_version": version("fasttext-numpy2"),
        "python": platform.python_version(),
        "train_seconds": round(train_s, 1),
        "validation": {k: v for k, v in report.items() if not k.endswith("_errors")},
        "key_strategies": strategies,
        "keys_model_use": "not used by the engine (rules only): see docs/nlu-engine.md",
        "files": {p.name: p.stat().st_size for p in sorted(out_dir.glob("*.ftz"))},
    }
    (out_dir / "training_metadata.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta


def main(argv: list[str] | None = None) -> int:
    """CLI entry: train and print the validation report."""
    ap = argparse.ArgumentParser(description="Train the FastText NLU models on a generated corpus.")
    ap.add_argument("--out", default=str(NLU_MODEL_DIR))
    ap.add_argument("--n", type=int, default=DEFAULT_N)
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = ap.parse_args(argv)
    meta = train_nlu(args.out, args.n, args.seed)
    print(
        json.dumps(
            {"validation": meta["validation"], "key_strategies": meta["key_strategies"], "files": meta["files"]},
            indent=2,
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
