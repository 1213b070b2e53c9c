"""Hostile input never kills the CLI (issue 14): ``parse --jsonl`` answers every non-blank line with one
valid UTF-8 JSON line, in order, and exits 0; ids too large for the store are a usage error (exit 2); a
long run of "p.m." costs the date grammar linear work."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from jarvis_desktop.cli import parse_jsonl_stream
from jarvis_desktop.nlu.datekeys import extract_date_spans
from jarvis_desktop.nlu.engine import NluEngine
from tests.cli_helpers import run_cli

#: each line used to end the whole stream (TypeError, UnicodeEncodeError, RecursionError) or, for the
#: 0xff byte, to be echoed back as invalid UTF-8
HOSTILE_LINES = [
    b'{"text": "remind me tomorrow at 3 pm", "now": 123}',
    b'{"text": "remind me tomorrow at 3 pm", "now": NaN}',
    b'{"text": "remind me tomorrow at 3 pm", "now": true}',
    b'{"text": "remind me tomorrow at 3 pm", "now": []}',
    b'{"text": "remind me tomorrow at 3 pm", "now": 1e999}',
    b'{"text": "\\ud800"}',
    b'{"text": "call mom \\udfff tomorrow"}',
    b"[" * 100000 + b"]" * 100000,
    b'{"text": "caf\xff tomorrow at noon"}',
    b"\xff\xfe\xfd",
    b"not json",
    b'{"text": "x", "now": "yesterday-ish"}',
    b'["text"]',
    b'{"text": 5}',
]
GOOD_LINE = b'{"text": "set a timer for ten minutes", "now": "2026-11-22T18:05"}'


def _non_blank(lines: list[bytes]) -> list[tuple[int, bytes]]:
    """(1-based line number, line) of the lines the contract answers."""
    return [(n, line) for n, line in enumerate(lines, 1) if line.decode("utf-8", errors="replace").strip()]


def _check_contract(lines: list[bytes], out: bytes) -> list[dict]:
    """Assert the --jsonl contract for input ``lines`` and output ``out``; returns the output objects."""
    assert out == b"" or out.endswith(b"\n")
    out_lines = out.split(b"\n")[:-1] if out else []
    expected = _non_blank(lines)
    assert len(out_lines) == len(expected)
    rows = []
    for (lineno, _line), raw in zip(expected, out_lines, strict=True):
        row = json.loads(raw.decode("utf-8"))  # strict UTF-8: raises on invalid bytes
        assert isinstance(row, dict)
        if "error" in row:
            assert row["error"].startswith(f"line {lineno}: ")
        else:
            assert isinstance(row["intent"], str) and isinstance(row["date_keys"], list)
        rows.append(row)
    return rows


def _run_jsonl_bytes(data: bytes) -> subprocess.CompletedProcess[bytes]:
    """The real CLI (``python -m jarvis_desktop parse --jsonl``) with raw bytes on stdin."""
    return subprocess.run(
        [sys.executable, "-m", "jarvis_desktop", "parse", "--jsonl"],
        input=data,
        capture_output=True,
        env=dict(os.environ),
        timeout=300,
    )


def test_hostile_lines_through_the_cli_one_json_line_each_in_order_exit_0():
    lines = [GOOD_LINE]
    for hostile in HOSTILE_LINES:
        lines += [hostile, b"", b"   ", GOOD_LINE]  # blank lines get no answer; the good line after each must
    res = _run_jsonl_bytes(b"\n".join(lines) + b"\n")
    assert res.returncode == 0, res.stderr.decode("utf-8", errors="replace")
    rows = _check_contract(lines, res.stdout)
    good = [row for row in rows if "error" not in row and row["text"] == "set a timer for ten minutes"]
    assert len(good) == len(HOSTILE_LINES) + 1
    assert all(row["intent"] == "timer_set" and row["date_keys"] == ["in_10_minutes"] for row in good)
    by_text = {row["text"]: row for row in rows if "error" not in row}
    assert "\ufffd" in by_text  # the lone surrogate is read as U+FFFD, not an error
    assert by_text["caf\ufffd tomorrow at noon"]["date_keys"] == ["tomorrow", "at_noon"]
    errors = [row["error"] for row in rows if "error" in row]
    assert any("nested too deeply" in e for e in errors)
    assert sum('"now" must be an ISO date-time string' in e for e in errors) == 5
    assert any("--now" in e or "ISO" in e for e in errors if "yesterday-ish" in e)


def test_no_trailing_newline_and_crlf_lines_are_answered():
    res = _run_jsonl_bytes(b'{"text": "what time is it"}\r\n{"text": "tomorrow at 5 pm"}')
    assert res.returncode == 0
    rows = [json.loads(x) for x in res.stdout.decode("utf-8").splitlines()]
    assert [r["text"] for r in rows] == ["what time is it", "tomorrow at 5 pm"]


@pytest.fixture(scope="module")
def engine() -> NluEngine:
    """The real FastText + rules engine (no LoRA fallback: the handler, not the fallback, is under test)."""
    return NluEngine(tz=ZoneInfo("UTC")).load()


_JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(alphabet=st.characters(exclude_categories=()), max_size=30),
)
_NOW = st.one_of(
    _JSON_SCALARS,
    st.datetimes().map(lambda d: d.isoformat()),
    st.lists(_JSON_SCALARS, max_size=3),
    st.dictionaries(st.text(max_size=5), _JSON_SCALARS, max_size=3),
)
_TEXT = st.one_of(
    st.text(alphabet=st.characters(exclude_categories=()), max_size=80),  # surrogates included
    st.sampled_from(["remind me tomorrow at 3 pm", "p.m. " * 50, "set a timer for 10 minutes", "9999 years"]),
)


def _object_line(text: object, now: object, with_now: bool) -> bytes:
    obj = {"text": text, "now": now} if with_now else {"text": text}
    return json.dumps(obj, ensure_ascii=True, allow_nan=True).encode("ascii")


_LINE = st.one_of(
    st.builds(_object_line, _TEXT, _NOW, st.booleans()),
    st.builds(_object_line, _JSON_SCALARS, _NOW, st.booleans()),
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b"")),
    st.integers(1, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.sampled_from(HOSTILE_LINES + [b"", b" \t", GOOD_LINE]),
)


@settings(derandomize=True, max_examples=200, deadline=None)
@given(lines=st.lists(_LINE, max_size=6))
def test_fuzz_jsonl_handler_keeps_the_contract(engine, lines):
    out = io.BytesIO()
    assert parse_jsonl_stream(engine, [line + b"\n" for line in lines], out) == 0
    _check_contract(lines, out.getvalue())


@pytest.mark.parametrize("argv", [["schedule", "cancel"], ["notes", "delete"], ["jobs", "cancel"], ["jobs", "resume"]])
def test_too_large_id_is_a_usage_error(argv):
    res = run_cli(*argv, "99999999999999999999")
    assert res.returncode == 2, res.stderr
    assert res.stderr.startswith("error: argument ID: id out of range") and "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1


def test_not_an_id_is_a_usage_error():
    for value in ("0", "abc", "1e3"):
        res = run_cli("jobs", "show", value)
        assert res.returncode == 2 and res.stderr.startswith("error: argument ID:"), (value, res.stderr)


def test_pm_run_costs_the_date_grammar_linear_time():
    """Issue 14 measured 1.37 s for this line through ``parse``; the date grammar's share is linear (the
    time goes to the LoRA fallback reading a long prompt). Bench print plus a bound that is 100x the
    measured figure (a few ms) so that it holds on a loaded machine."""
    line = ("p.m. " * 400)[:2000]
    timings = []
    for _ in range(3):
        t0 = time.perf_counter()
        extract_date_spans(line)
        timings.append(time.perf_counter() - t0)
    print(f"bench: date grammar on a 2000-char 'p.m.' line: {min(timings) * 1000:.1f} ms (min of 3)")
    assert min(timings) < 1.0
