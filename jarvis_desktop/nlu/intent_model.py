"""FastText models: the intent classifier (``intent.ftz``) and the one-vs-all static date-key model
(``keys.ftz``).

Both see the utterance through :func:`normalize_for_model`, the same at training and at prediction time:
lowercase, punctuation stripped, numbers (digits or words) -> ``<num>``, and for the intent model the
date expressions found by :func:`jarvis_desktop.nlu.datekeys.extract_date_spans` -> ``<date>``. Replacing
the dates makes "remind me to X <date>" look the same whatever the date, so the classifier learns the
phrasing, not the dates.

``fasttext`` is imported lazily (inside the functions), so importing this module is cheap.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from jarvis_desktop.errors import BadInputError, ModelNotFoundError
from jarvis_desktop.nlu.datekeys import extract_date_spans
from jarvis_desktop.nlu.vocab import INTENTS, STATIC_KEY_SET

INTENT_FILE = "intent.ftz"
KEYS_FILE = "keys.ftz"
META_FILE = "intent_model.json"
PREPROCESS_VERSION = 2

_NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "sixty",
    "seventy",
    "eighty",
    "ninety",
    "hundred",
    "thousand",
]
_NUMBER_ALT = "|".join(_NUMBER_WORDS)
_NUM_RE = re.compile(rf"\b(?:\d+(?:[.:]\d+)?(?:st|nd|rd|th|s)?|(?:{_NUMBER_ALT})(?:-(?:{_NUMBER_ALT}))?)\b")
_PUNCT_RE = re.compile(r"[^\w\s'<>]+|(?<!\w)'|'(?!\w)")
_MULTI_NUM_RE = re.compile(r"<num>(?:\s+(?:and\s+)?<num>)+")
_MULTI_DATE_RE = re.compile(r"<date>(?:\s+<date>)+")


def _date_spans(text: str) -> list[tuple[int, int]]:
    return [(s.start, s.end) for s in extract_date_spans(text)]


def normalize_for_model(text: str, *, mask_dates: bool = True) -> str:
    """The model's view of an utterance: ``"Remind me at 3 p.m. to call Ana!"`` ->
    ``"remind me <date> to call ana"`` (adjacent dates become one ``<date>``); without ``mask_dates``:
    ``"remind me at <num> p m to call ana"``.
    """
    if mask_dates:
        spans = sorted(_date_spans(text))
        out, pos = [], 0
        for start, end in spans:
            if start < pos:
                continue
            out.append(text[pos:start])
            out.append(" <date> ")
            pos = end
        out.append(text[pos:])
        text = "".join(out)
    text = text.lower()
    text = _PUNCT_RE.sub(" ", text)
    text = _NUM_RE.sub(" <num> ", text)
    text = re.sub(r"\s+", " ", text).strip()
    text = _MULTI_NUM_RE.sub("<num>", text)
    return _MULTI_DATE_RE.sub("<date>", text)


@dataclass
class IntentTrainConfig:
    """FastText hyper-parameters (see fasttext.train_supervised). ``bucket=200000`` keeps the model small
    with ``wordNgrams=2``; ``thread=1`` with a fixed ``seed`` makes training reproducible. Character
    n-grams are off (``minn=maxn=0``): on the template-held-out validation they cost 3-5 points of intent
    accuracy (they tie unseen phrasings to look-alike words of other intents); see docs/nlu-engine.md."""

    epoch: int = 30
    lr: float = 0.5
    dim: int = 64
    wordNgrams: int = 2
    minn: int = 0
    maxn: int = 0
    bucket: int = 200000
    minCount: int = 1
    thread: int = 1
    seed: int = 7
    quantize: bool = True
    extra: dict = field(default_factory=dict)

    def fasttext_args(self) -> dict:
        args = {
            k: getattr(self, k)
            for k in ("epoch", "lr", "dim", "wordNgrams", "minn", "maxn", "bucket", "minCount", "thread", "seed")
        }
        args.update(self.extra)
        return args


def _train(lines: list[str], cfg: IntentTrainConfig, loss: str, out_path: Path):
    import fasttext

    with tempfile.TemporaryDirectory() as tmp:
        train_path = os.path.join(tmp, "train.txt")
        with open(train_path, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines) + "\n")
        lr = cfg.lr
        for _attempt in range(4):
            try:
                args = cfg.fasttext_args()
                args["lr"] = lr
                model = fasttext.train_supervised(input=train_path, loss=loss, verbose=0, **args)
                break
            except RuntimeError as exc:  # "Encountered NaN": retry with a lower learning rate
                if "NaN" not in str(exc):
                    raise
                lr /= 2
        else:
            raise RuntimeError("fastText training diverged (NaN) even at a low learning rate")
        if cfg.quantize and len(lines) >= 256:
            # no pruning (cutoff) and no retraining: the closest to the float model (about 6.5 MB at dim 64)
            model.quantize(input=train_path, retrain=False, qnorm=False, thread=cfg.thread)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    model.save_model(str(out_path))
    return model, lr


def train_intent_model(
    rows: Iterable[dict], out_dir: str | Path, config: IntentTrainConfig | None = None, *, keys_model: bool = True
) -> dict:
    """Train ``intent.ftz`` (softmax over the 15 intents) and, with ``keys_model``, ``keys.ftz``
    (one-vs-all over the static date keys; ``__label__none`` for rows without one) on ``rows``
    (corpus rows with ``text``, ``intent``, ``date_keys``), and write ``intent_model.json``.

    Returns the metadata dict written. Raises BadInputError on an empty corpus or an unknown intent.
    """
    rows = list(rows)
    if not rows:
        raise BadInputError("no training rows")
    cfg = config or IntentTrainConfig()
    out_dir = Path(out_dir)
    lines = []
    for row in rows:
        if row["intent"] not in INTENTS:
            raise BadInputError(f"unknown intent in training data: {row['intent']!r}")
        lines.append(f"__label__{row['intent']} {normalize_for_model(row['text'])}")
    _, lr_used = _train(lines, cfg, "softmax", out_dir / INTENT_FILE)
    meta = {
        "preprocess_version": PREPROCESS_VERSION,
        "mask_dates": True,
        "intent_config": cfg.fasttext_args(),
        "intent_lr_used": lr_used,
        "train_rows": len(rows),
    }
    if keys_model:
        klines = []
        for row in rows:
            static = [k for k in row["date_keys"] if k in STATIC_KEY_SET]
            labels = " ".join(f"__label__{k}" for k in dict.fromkeys(static)) or "__label__none"
            klines.append(f"{labels} {normalize_for_model(row['text'], mask_dates=False)}")
        kcfg = IntentTrainConfig(**{**cfg.__dict__, "epoch": max(cfg.epoch, 40)})
        _, klr = _train(klines, kcfg, "ova", out_dir / KEYS_FILE)
        meta["keys_config"] = {**kcfg.fasttext_args(), "loss": "ova", "lr_used": klr}
    (out_dir / META_FILE).write_text(json.dumps(meta, indent=2), encoding="utf-8")
    return meta


def _load_ft(path: Path):
    import fasttext

    if not path.is_file():
        raise ModelNotFoundError(f"NLU model not found: {path}", hint="train it with: jarvis-desktop train-nlu")
    try:
        return fasttext.load_model(str(path))
    except (ValueError, RuntimeError) as exc:
        raise ModelNotFoundError(
            f"NLU model unreadable: {path}: {exc}", hint="retrain it with: jarvis-desktop train-nlu"
        ) from exc


class IntentClassifier:
    """The FastText intent model. ``predict(text) -> (intent, confidence)``, confidence in [0, 1]."""

    def __init__(self, model, mask_dates: bool = True) -> None:
        self._model = model
        self.mask_dates = mask_dates

    @classmethod
    def load(cls, model_dir: str | Path) -> IntentClassifier:
        """Load ``intent.ftz`` from ``model_dir``. Raises ModelNotFoundError if missing or corrupt."""
        model_dir = Path(model_dir)
        meta_path = model_dir / META_FILE
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.is_file() else {}
        return cls(_load_ft(model_dir / INTENT_FILE), mask_dates=meta.get("mask_dates", True))

    def predict(self, text: str) -> tuple[str, float]:
        """The most likely intent of ``text`` and its probability."""
        labels, probs = self._model.predict(normalize_for_model(text, mask_dates=self.mask_dates), k=1)
        return labels[0][len("__label__") :], float(min(1.0, max(0.0, probs[0])))

    def predict_top(self, text: str, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most likely intents with probabilities, best first."""
        labels, probs = self._model.predict(normalize_for_model(text, mask_dates=self.mask_dates), k=k)
        return [(lab[len("__label__") :], float(p)) for lab, p in zip(labels, probs, strict=False)]


class StaticKeyModel:
    """The one-vs-all FastText model over static date keys (``keys.ftz``).

    The engine takes its keys from the rules (more exact, see docs/nlu-engine.md); this model is a second
    opinion: :meth:`disagrees` says when its confident static keys differ from the rule keys, a
    low-confidence signal for routing to the fallback.
    """

    def __init__(self, model) -> None:
        self._model = model

    @classmethod
    def load(cls, model_dir: str | Path) -> StaticKeyModel:
        """Load ``keys.ftz`` from ``model_dir``. Raises ModelNotFoundError if missing or corrupt."""
        return cls(_load_ft(Path(model_dir) / KEYS_FILE))

    def predict(self, text: str, threshold: float = 0.5) -> list[tuple[str, float]]:
        """Static keys whose probability is at least ``threshold``, most likely first (``none`` excluded)."""
        labels, probs = self._model.predict(normalize_for_model(text, mask_dates=False), k=-1, threshold=threshold)
        out = [(lab[len("__label__") :], float(p)) for lab, p in zip(labels, probs, strict=False)]
        return [(k, p) for k, p in out if k in STATIC_KEY_SET]

    def predict_keys(self, text: str, threshold: float = 0.5) -> dict[str, float]:
        """``{static_key: probability}`` for keys with probability >= ``threshold`` (``none`` excluded)."""
        return dict(self.predict(text, threshold))

    def disagrees(self, text: str, rule_keys: Iterable[str], threshold: float = 0.5) -> bool:
        """True when the model's static keys (probability >= ``threshold``) are not exactly the static
        keys among ``rule_keys`` (clock, ``in_N_*`` keys are ignored: the model does not know them)."""
        rule_static = {k for k in rule_keys if k in STATIC_KEY_SET}
        return set(self.predict_keys(text, threshold)) != rule_static


#: the name the routing code uses for the static-key model
KeyClassifier = StaticKeyModel
