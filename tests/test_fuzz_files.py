"""Fuzzing the files a user hands the app (the hypothesis library, a fixed seed, a budget that keeps CI fast):

* ``settings.toml``: any text, any section, key and value type gives Settings or one BadInputError naming the
  problem, never another exception (the CLI turns BadInputError into exit 2, the GUI into a warning);
* ``.ics`` import: a real calendar file with random damage is imported whole or refused with BadInputError,
  and a refused import leaves the calendar as it was (all or nothing).
"""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jarvis_desktop.actions.calendar import import_ics
from jarvis_desktop.config import Settings, load_settings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.schedule import ScheduleStore

FUZZ = settings(
    derandomize=True, max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

SECTIONS = sorted(Settings().__dict__)
KEYS = sorted({key for section in Settings().__dict__.values() for key in vars(section)})


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


_SCALAR = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(
        lambda f: {"nan": "nan", "inf": "inf", "-inf": "-inf"}.get(repr(f), repr(f))
    ),
    st.booleans().map(lambda b: "true" if b else "false"),
    st.text(max_size=30).map(_toml_string),
    st.sampled_from(["1979-05-27T07:32:00Z", "07:32:00", "1979-05-27", '"Europe/Lisbon"', '"Mars/Olympus"']),
)
_VALUE = st.recursive(
    _SCALAR,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3).map(lambda xs: "[" + ", ".join(xs) + "]"),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=2).map(
            lambda d: "{" + ", ".join(f"{k} = {v}" for k, v in d.items()) + "}"
        ),
    ),
    max_leaves=6,
)
_NAME = st.one_of(st.sampled_from(SECTIONS), st.text(string.ascii_letters + "_.", min_size=1, max_size=12))
_KEY = st.one_of(st.sampled_from(KEYS), st.text(string.ascii_letters + "_", min_size=1, max_size=12))
_DOCUMENT = st.one_of(
    st.lists(
        st.tuples(_NAME, st.lists(st.tuples(_KEY, _VALUE), max_size=4)),
        max_size=4,
    ).map(lambda secs: "".join(f"[{n}]\n" + "".join(f"{k} = {v}\n" for k, v in kv) for n, kv in secs)),
    st.text(max_size=200),  # anything at all
)


@FUZZ
@given(text=_DOCUMENT)
def test_any_settings_file_loads_or_is_one_clear_error(tmp_path, text):
    path = tmp_path / "settings.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    try:
        loaded = load_settings(path)
    except BadInputError as exc:
        assert str(path) in exc.user_message() or "settings" in exc.user_message().lower()
    else:
        assert isinstance(loaded, Settings)


BASE_ICS = [
    "BEGIN:VCALENDAR",
    "VERSION:2.0",
    "PRODID:-//fuzz//fuzz//EN",
    "BEGIN:VEVENT",
    "UID:one@fuzz",
    "DTSTAMP:20300101T000000Z",
    "DTSTART:20300105T100000Z",
    "DTEND:20300105T110000Z",
    "SUMMARY:Dentist",
    "LOCATION:Rua Augusta 12",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:two@fuzz",
    "DTSTAMP:20300101T000000Z",
    "DTSTART;VALUE=DATE:20300110",
    "SUMMARY:Holiday",
    "END:VEVENT",
    "BEGIN:VEVENT",
    "UID:three@fuzz",
    "DTSTAMP:20300101T000000Z",
    "DTSTART;TZID=Europe/Lisbon:20300112T090000",
    "DURATION:PT45M",
    "SUMMARY:Standup",
    "RRULE:FREQ=WEEKLY",
    "END:VEVENT",
    "END:VCALENDAR",
]
_JUNK = st.one_of(
    st.text(max_size=25),
    st.sampled_from(["DTSTART:99999999T999999Z", "DTEND:2030", "DURATION:P", "DTSTART;VALUE=DATE:0000", "BEGIN:"]),
)
_EDIT = st.tuples(st.sampled_from(["replace", "insert", "delete", "value"]), st.integers(0, len(BASE_ICS) - 1), _JUNK)


def _damage(edits: list[tuple[str, int, str]]) -> str:
    lines = list(BASE_ICS)
    for op, at, junk in edits:
        at = min(at, len(lines) - 1) if lines else 0
        if op == "replace" and lines:
            lines[at] = junk
        elif op == "insert":
            lines.insert(at, junk)
        elif op == "delete" and lines:
            del lines[at]
        elif op == "value" and lines and ":" in lines[at]:
            lines[at] = lines[at].split(":", 1)[0] + ":" + junk
    return "\r\n".join(lines) + "\r\n"


def _count(db: Database) -> int:
    return int(db.query("SELECT COUNT(*) AS n FROM scheduled_items")[0]["n"])


@pytest.fixture
def calendar(tmp_path):
    with Database(tmp_path / "jarvis.sqlite3") as db:
        yield db, ScheduleStore(db)


@FUZZ
@given(edits=st.lists(_EDIT, min_size=1, max_size=4))
def test_a_damaged_calendar_file_imports_whole_or_not_at_all(calendar, tmp_path, edits):
    db, store = calendar
    path = tmp_path / "damaged.ics"
    path.write_text(_damage(edits), encoding="utf-8", errors="surrogatepass")
    before = _count(db)
    try:
        report = import_ics(store, path)
    except BadInputError as exc:
        assert _count(db) == before, "a refused import wrote events"
        assert "damaged.ics" in exc.user_message()
    else:
        assert _count(db) == before + len(report.added)
