"""Benchmark: our `when` against general-purpose date parsers on the same utterances.

Measures, on the TIMED rows of a labelled set (rows whose gold ``when`` is not null), the ``when``
accuracy and the per-utterance latency (mean / p50 / p95, ms) of

* ours: ``NluEngine.parse(text, now).when`` (intent + keys + resolution + payload: it does more work);
* dateparser ``parse`` (whole text) and dateparser ``search_dates`` (finds dates inside a sentence);
* parsedatetime ``Calendar.parseDT``; ctparse ``ctparse``;
* Microsoft Recognizers-Text (``recognizers-text-suite``) if it is installed (it is skipped otherwise).

Every system gets the same text, as we get it (fillers, ASR slips, punctuation: no clean-up), and the
same ``now``: the row's ``now`` if it has one (tests/data/unseen_utterances.jsonl), else the fixed
``EVAL_NOW`` of ``jarvis_desktop.nlu.evaluate`` (the shipped validation corpus has no ``now``). The gold
``when`` is the row's ``when``, else the spec resolution of its gold ``date_keys`` against that ``now``.

Fairness settings: English only (no language detection), "prefer future" everywhere (dateparser
``PREFER_DATES_FROM=future``, parsedatetime ``CurrentDOWParseStyle`` so "friday" on a Friday is today
as in the spec, ctparse ``latent_time``, Recognizers: the future value of an ambiguous pair); dateparser
``PREFER_DAY_OF_MONTH=first`` ("next month" is the 1st, as in the spec). Parts of day get the spec's
times where a peer lets us set them (dateparser ``PARTS_OF_DAY``, parsedatetime ``re_sources``: morning
09:00, afternoon 15:00, evening 19:00, night 21:00, lunch 12:30...); ctparse's part of day ("X/evening")
is read with the same table.

Normalisation (only the timed parser call is measured; this runs after it):

* Date-only answers. A peer that gives a day without a time of day (dateparser period day/week/month/
  year, parsedatetime ``hasTime`` false, ctparse Time without hour, Recognizers ``date``) cannot know the
  spec's default time. Such an answer counts as right when its date is the gold date and the gold keys
  name no time of day (no clock, part-of-day, meal or ``in_N_minutes`` key): that is the spec's section 3
  default (09:00 for a day, ``now``'s clock time for ``in_N_days``) applied to the peer's day. When the
  gold names a time, a date-only answer is wrong.
* Split answers. ``search_dates`` and Recognizers return several fragments ("tomorrow", "at 3 pm"): the
  day of the first day fragment is joined with the clock time of the first time fragment.
* A bare time with no day (Recognizers ``time``, parsedatetime ``hasDate`` false) takes its next
  occurrence after ``now`` (the spec rule; these two peers give a time without a day, or today's).
* A duration (ctparse ``Duration``, Recognizers ``duration``: "timer for ten minutes") is read as
  ``now + duration`` (our timer rule), when nothing better was found.
* Time ranges and intervals take their start, except a Recognizers part-of-day range (timex ``TMO``,
  ``TAF``, ``TEV``, ``TNI``: "monday morning" 08:00-12:00), which takes the spec's time of that part.

Columns: ``when %`` exact minute (after the normalisation above); ``day %`` right date whatever the time
(lenient: ignores the time-of-day conventions); ``none %`` rows where the peer found nothing.

Run (install the peers with ``.venv/bin/pip install -e '.[bench]'``; Recognizers-Text is optional and
not in the extra: ``pip install recognizers-text-suite 'emoji<1.0'``, its last Python release (1.0.2a2)
imports ``emoji.UNICODE_EMOJI``, which newer emoji releases removed):

    nice .venv/bin/python bench/date_peers.py                 # validation corpus + unseen set
    nice .venv/bin/python bench/date_peers.py --limit 300 --json
    nice .venv/bin/python bench/date_peers.py --data my.jsonl  # any JSONL with text, date_keys[, now, when]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import sys
import time
from datetime import datetime, timedelta
from datetime import time as dtime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from jarvis_desktop.nlu import vocab  # noqa: E402
from jarvis_desktop.nlu.evaluate import EVAL_NOW, load_rows  # noqa: E402
from jarvis_desktop.nlu.resolve import PART_TIMES, format_when, resolve_when  # noqa: E402

UNSEEN = ROOT / "tests" / "data" / "unseen_utterances.jsonl"
#: keys that fix a time of day (with clock keys and in_N_minutes)
_TIMED_KEYS = frozenset(vocab.COMBINED_KEYS + vocab.TIME_OF_DAY_KEYS + vocab.MEAL_KEYS)
_IN_MINUTES = re.compile(r"^in_\d+_(?:seconds|minutes)$")
_PARTS = ("morning", "afternoon", "evening", "night")


def gold_names_time(keys: list[str]) -> bool:
    """True when the gold keys fix a time of day (clock, part of day, meal, in_N_minutes)."""
    return any(vocab.parse_clock_key(k) or k in _TIMED_KEYS or _IN_MINUTES.match(k) for k in keys)


def timed_rows(rows: list[dict]) -> list[dict]:
    """Rows with ``now`` (datetime) and gold ``when`` filled in; only those whose gold ``when`` is not null."""
    out = []
    for r in rows:
        now = datetime.fromisoformat(r["now"]) if r.get("now") else EVAL_NOW
        gold = r["when"] if "when" in r else format_when(resolve_when(r["date_keys"], now)) if r["date_keys"] else None
        if gold:
            out.append({**r, "now_dt": now, "gold": gold})
    return out


_REC_PARTS = {"TMO": "morning", "TAF": "afternoon", "TEV": "evening", "TNI": "night"}


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "?"


# ---- peers: call(text, now) -> raw (timed); norm(raw, now) -> (datetime | None, has_time) ---------------
def _join(day_dt, time_dt):
    """First day fragment + first time fragment -> (datetime, has_time)."""
    if time_dt is not None and day_dt is not None:
        return datetime.combine(day_dt.date(), time_dt.time()), True
    if time_dt is not None:
        return time_dt, True
    return (day_dt, False) if day_dt is not None else (None, False)


def make_dateparser():
    import dateparser
    from dateparser.date import DateDataParser
    from dateparser.search import search_dates

    extra = {}
    if hasattr(dateparser, "PartsOfDay"):  # dateparser >= 1.5: part-of-day times are a setting
        extra["PARTS_OF_DAY"] = dateparser.PartsOfDay(**{p: dtime(*PART_TIMES[p]) for p in _PARTS})

    def settings(now):
        return {
            "RELATIVE_BASE": now,
            "PREFER_DATES_FROM": "future",
            "PREFER_DAY_OF_MONTH": "first",
            "RETURN_TIME_AS_PERIOD": True,
            **extra,
        }

    def call_parse(text, now):
        return DateDataParser(languages=["en"], settings=settings(now)).get_date_data(text)

    def norm_parse(dd, now):
        if dd is None or dd.date_obj is None:
            return None, False
        return dd.date_obj.replace(tzinfo=None), dd.period in ("time", "part_of_day")

    def call_search(text, now):
        return search_dates(text, languages=["en"], settings=settings(now))

    def norm_search(found, now):
        day_dt = time_dt = None
        for frag, dt in found or []:
            dd = DateDataParser(languages=["en"], settings=settings(now)).get_date_data(frag)
            timed = dd.period in ("time", "part_of_day") if dd and dd.date_obj else dt.time() != now.time()
            dt = dt.replace(tzinfo=None)
            if timed and time_dt is None:
                time_dt = dt
            elif not timed and day_dt is None:
                day_dt = dt
        return _join(day_dt, time_dt)

    v = _version("dateparser")
    return [
        (f"dateparser {v} parse", call_parse, norm_parse),
        (f"dateparser {v} search_dates", call_search, norm_search),
    ]


def make_parsedatetime():
    import parsedatetime as pdt

    c = pdt.Constants("en_US")
    c.CurrentDOWParseStyle = True  # "friday" said on a Friday is today (spec: this_<day>)
    for word, key in (
        ("morning", "morning"),
        ("afternoon", "afternoon"),
        ("evening", "evening"),
        ("night", "night"),
        ("tonight", "night"),
        ("noon", "noon"),
        ("breakfast", "at_breakfast"),
        ("lunch", "during_lunch"),
        ("dinner", "at_dinner"),
    ):  # the spec's part-of-day times
        h, m = PART_TIMES[key]
        c.re_sources[word] = {"hr": h, "mn": m, "sec": 0}
    cal = pdt.Calendar(c, version=pdt.VERSION_CONTEXT_STYLE)

    def call(text, now):
        return cal.parseDT(text, sourceTime=now)

    def norm(raw, now):
        dt, ctx = raw
        if not ctx.hasDateOrTime:
            return None, False
        dt = dt.replace(tzinfo=None)
        if ctx.hasTime and not ctx.hasDate and dt <= now:  # a bare time already past today: tomorrow
            dt += timedelta(days=1)
        return dt, bool(ctx.hasTime)

    return [(f"parsedatetime {_version('parsedatetime')}", call, norm)]


def make_ctparse():
    logging.getLogger("ctparse").setLevel(logging.ERROR)  # it logs every utterance it cannot parse
    from ctparse import ctparse
    from ctparse.types import Duration, Interval, Time

    def call(text, now):
        return ctparse(text, ts=now, latent_time=True)

    def norm(raw, now):
        res = getattr(raw, "resolution", None)
        if isinstance(res, Interval):
            res = res.t_from or res.t_to
        if isinstance(res, Duration):
            unit = {
                "minute": 1,
                "minutes": 1,
                "hour": 60,
                "hours": 60,
                "day": 1440,
                "days": 1440,
                "week": 10080,
                "weeks": 10080,
            }.get(str(getattr(res.unit, "value", res.unit)))
            return (now + timedelta(minutes=res.value * unit), True) if unit else (None, False)
        if not isinstance(res, Time) or res.year is None or res.month is None or res.day is None:
            return None, False
        if res.hour is None and res.POD in PART_TIMES:  # "tomorrow evening": the spec's time of the part
            return datetime(res.year, res.month, res.day, *PART_TIMES[res.POD]), True
        has_time = res.hour is not None
        return datetime(res.year, res.month, res.day, res.hour or 0, res.minute or 0), has_time

    return [(f"ctparse {_version('ctparse')}", call, norm)]


def _rec_value(v: dict, now: datetime) -> tuple[datetime, str] | None:
    """(datetime, kind) of one Recognizers-Text resolution value, or None when it cannot be read."""
    kind = v.get("type", "")
    s = v.get("value") or v.get("start")
    if s is None:
        return None
    part = _REC_PARTS.get(v.get("timex", "")[-3:])
    try:
        if part and "range" in kind:  # "monday morning" (timex ...TMO): the spec's time of the part
            dt = datetime.combine(datetime.fromisoformat(s).date(), dtime(*PART_TIMES[part]))
            kind = "datetime" if kind == "datetimerange" else "time"
        elif kind == "duration":
            dt = now + timedelta(seconds=float(s))
        elif kind.startswith("time"):
            hh, mm, *_ = (int(x) for x in s.split(":"))
            dt = datetime.combine(now.date(), datetime.min.time()).replace(hour=hh, minute=mm)
            dt = dt if dt > now else dt + timedelta(days=1)
        else:
            dt = datetime.fromisoformat(s)
    except (ValueError, TypeError):
        return None
    return dt, kind


def _rec_pick(values: list, now: datetime) -> tuple[datetime, str] | None:
    """(datetime, kind) of the future value of an ambiguous pair (else the last one)."""
    best = None
    for v in values:
        got = _rec_value(v, now)
        if got is None:
            continue
        best = got
        if got[0] >= now:
            break
    return best


def _rec_norm(results, now: datetime):
    """Recognizers-Text results -> (datetime, has_time) as the other peers' normalisation gives it."""
    day_dt = time_dt = dur_dt = None
    for r in results or []:
        got = _rec_pick((r.resolution or {}).get("values", []), now)
        if got is None:
            continue
        dt, kind = got
        if kind == "duration":
            dur_dt = dur_dt or dt
        elif kind in ("date", "daterange"):
            day_dt = day_dt or dt
        elif kind in ("time", "timerange"):
            time_dt = time_dt or dt
        else:  # datetime, datetimerange: both parts at once
            return dt, True
    if day_dt is None and time_dt is None and dur_dt is not None:
        return dur_dt, True
    return _join(day_dt, time_dt)


def make_recognizers():
    from recognizers_date_time import recognize_datetime
    from recognizers_text import Culture

    def call(text, now):
        return recognize_datetime(text, Culture.English, reference=now)

    return [(f"Recognizers-Text {_version('recognizers-text-date-time')}", call, _rec_norm)]


def load_peers() -> list:
    peers = []
    for name, make in (
        ("dateparser", make_dateparser),
        ("parsedatetime", make_parsedatetime),
        ("ctparse", make_ctparse),
        ("recognizers-text-suite", make_recognizers),
    ):
        try:
            peers += make()
        except ImportError as exc:
            print(f"note: {name} not installed, skipped ({exc})", file=sys.stderr)
    return peers


# ---- scoring ---------------------------------------------------------------------------------------
def _q(lat: list[float], p: float) -> float:
    return round(lat[min(len(lat) - 1, int(p * len(lat)))], 3) if lat else 0.0


def score(name, call, norm, rows) -> dict:
    """Accuracy and latency of one system over timed rows."""
    call(rows[0]["text"], rows[0]["now_dt"])  # warm-up (lazy loading is not counted)
    ok = day_ok = none = 0
    lat = []
    for r in rows:
        now = r["now_dt"]
        t0 = time.perf_counter()
        try:
            raw = call(r["text"], now)
        except Exception:  # a peer crashing on odd text counts as no answer
            raw = None
        lat.append((time.perf_counter() - t0) * 1000.0)
        try:
            dt, has_time = norm(raw, now) if raw is not None else (None, False)
        except Exception:
            dt, has_time = None, False
        gold = datetime.fromisoformat(r["gold"])
        if dt is None:
            none += 1
            continue
        same_day = dt.date() == gold.date()
        day_ok += same_day
        if has_time:
            ok += format_when(dt) == r["gold"]
        else:
            ok += same_day and not gold_names_time(r["date_keys"])
    n = len(rows)
    lat.sort()
    pct = lambda x: round(100.0 * x / n, 2) if n else 0.0  # noqa: E731
    return {
        "system": name,
        "n": n,
        "when_accuracy": pct(ok),
        "day_accuracy": pct(day_ok),
        "none": pct(none),
        "latency_ms": {"mean": round(sum(lat) / n, 3) if n else 0.0, "p50": _q(lat, 0.5), "p95": _q(lat, 0.95)},
    }


def ours():
    from jarvis_desktop.nlu.engine import NluEngine

    engine = NluEngine().load()
    return (
        "ours (NluEngine.parse)",
        lambda text, now: engine.parse(text, now=now).when,
        lambda when, now: (datetime.fromisoformat(when), True) if when else (None, False),
    )


def run_set(label: str, rows: list[dict], systems: list) -> dict:
    rows = timed_rows(rows)
    print(f"[{label}] {len(rows)} timed rows", file=sys.stderr)
    return {"set": label, "n": len(rows), "results": [score(n, c, f, rows) for n, c, f in systems]}


def print_table(report: dict) -> None:
    print(f"\n{report['set']}: {report['n']} timed utterances")
    print(f"{'system':<34} {'when %':>7} {'day %':>7} {'none %':>7} {'mean ms':>9} {'p50 ms':>8} {'p95 ms':>8}")
    for r in report["results"]:
        la = r["latency_ms"]
        print(
            f"{r['system']:<34} {r['when_accuracy']:7.2f} {r['day_accuracy']:7.2f} {r['none']:7.2f} "
            f"{la['mean']:9.3f} {la['p50']:8.3f} {la['p95']:8.3f}"
        )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", help="JSONL with text, date_keys[, now, when] (default: the validation corpus)")
    ap.add_argument("--limit", type=int, default=0, help="first N rows of each set (0 = all)")
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of tables")
    args = ap.parse_args(argv)
    systems = [ours()] + load_peers()
    sets = [(args.data or "validation (models/nlu/corpus.valid.jsonl)", load_rows(args.data))]
    if not args.data and UNSEEN.is_file():
        sets.append(("unseen (tests/data/unseen_utterances.jsonl)", load_rows(UNSEEN)))
    reports = [run_set(label, rows[: args.limit] if args.limit else rows, systems) for label, rows in sets]
    if args.json:
        print(json.dumps({"eval_now": EVAL_NOW.isoformat(), "sets": reports}, indent=1))
    else:
        for rep in reports:
            print_table(rep)
        print(
            f"\nnow: the row's own, else {EVAL_NOW:%Y-%m-%d %H:%M} (a Wednesday); see the docstring for normalisation."
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
