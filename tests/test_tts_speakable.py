"""speakable(): replies made for the ear, never a symbol read aloud (pure text, fast)."""

from __future__ import annotations

import re
import time

import pytest

from jarvis_desktop.tts.speakable import KEPT_PUNCTUATION, speakable
from jarvis_desktop.tts.speakable_markdown import CODE_PHRASE

# Reply texts the actions produce, written out from their f-strings (tts may not import actions):
# clock.py, reminders.py + timefmt.py (describe_moment, format_duration), schedule.py, calendar.py, weather.py,
# system_status.py, volume.py, notes.py, undo.py, media.py, result.py (dry run), search.py, apps.py.
ACTION_REPLIES = [
    "It's 15:30.",
    "It's 09:05 on Tuesday, 8 December 2026.",
    "Today is Tuesday, 8 December 2026.",
    "Tomorrow is Wednesday, 9 December 2026.",
    "That was Friday, 27 November 2026.",
    "Timer set: 10 minutes — ends today 18:15.",
    "Timer set: 1 hour 30 minutes — ends tomorrow 00:05.",
    "Reminder set: call mom — tomorrow 15:00.",
    "Reminder set for Fri 11 Dec 09:00.",
    "Reminder set: renew passport — Mon 04 Jan 2027 10:30.",
    "Reminder: call mom — yesterday 15:00: that time has already passed.",
    "Alarm set for tomorrow 06:30.",
    "Alarm for today 07:00: that time has already passed.",
    "When should I remind you to call mom? Say a time, e.g. “tomorrow at 3 pm”.",
    "For how long? Say e.g. “a timer for 10 minutes”.",
    "What time should the alarm ring? Say e.g. “wake me up at 7 tomorrow”.",
    "A timer can run for at most a week; use a reminder for later times.",
    "You have 3 items: reminder “call mom” tomorrow 15:00; alarm Saturday 07:00; timer 10 minutes (ends today 18:15).",
    "Cancelled the alarm tomorrow 07:00.",
    "There is no timer to cancel.",
    "Event added: Dentist — Thursday 14:00.",
    "When is “Dentist”? Say a day and time, e.g. “next tuesday at 2 pm”.",
    "Imported 3 events (1 already there; 2 recurring, first occurrence only).",
    "Now in Berlin: 4 °C, light rain, wind 12 km/h; 40% chance of rain today.",
    "Berlin, today: overcast, -2 to 5 °C, 80% chance of rain; Thursday: sunny, 1 to 9 °C.",
    "I can't reach the weather service api.open-meteo.com (offline?).",
    "CPU is at 12% across 2 cores; memory 3.2 of 7.7 GiB in use (41%); battery at 87% (charging); "
    "disk 20 of 50 GiB used.",
    "The volume is at 40%.",
    "Volume set to 55%.",
    "Sound on, at 30%.",
    "Noted: buy milk.",
    "Deleted note #3.",
    "Undone: Timer: 10 minutes — today 18:15 (cancelled the timer).",
    "Toggled play/pause.",
    "Would send “play-pause” to the media player (dry run: nothing was changed).",
    "Searching the web for “weather in Paris”.",
    "I couldn't find an application called “spotify”.",
    "Media control is not supported here: install playerctl.",
]

CHAT_REPLIES = [
    "## Steps\n1. Open **Settings** > *Display*\n2. Set `scale_factor` to 1.5\n\n| key | value |\n|---|---|\n| a | 2 |",
    "Here is the code:\n```python\nprint('a*b' + \"#x\")\n```\nRun it with `python main.py` ~ easy!",
    "See [the docs](https://docs.python.org/3/library/re.html) or https://www.example.com/a_b?x=1&y=2 :)",
    "Great job!!! 🎉🎉 You're 100% done 👍 — ***well*** done & see you at 3:05 pm.",
    "Price: $4.50, €10, £1.01; approx. 5 km / 20°C; 3.11.2 > 3.10 = true \\ {ok} [x] <br> @user ^2 | ~",
]

FORBIDDEN_WORDS = re.compile(
    r"\b(asterisk|hash|hashtag|underscore|backtick|pipe|slash|backslash|tilde|caret|http|https|www|colon)\b", re.I
)


def assert_for_the_ear(spoken: str) -> None:
    assert not re.search(r"\d", spoken), f"digits left: {spoken!r}"
    odd = {ch for ch in spoken if not (ch.isalpha() or ch == " " or ch in KEPT_PUNCTUATION)}
    assert not odd, f"symbols left {odd} in {spoken!r}"
    assert not FORBIDDEN_WORDS.search(spoken), spoken
    assert "  " not in spoken and not re.search(r"[,;:]\s*[,;:.]|\s[.,;:!?]", spoken), f"messy pauses: {spoken!r}"


@pytest.mark.parametrize("reply", ACTION_REPLIES + CHAT_REPLIES)
def test_every_reply_comes_out_as_words_only(reply):
    spoken = speakable(reply)
    assert spoken.strip()
    assert_for_the_ear(spoken)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("It's 15:30.", "three thirty p m"),
        ("Alarm at 09:00", "nine a m"),
        ("Lunch at 12:00", "twelve noon"),
        ("At 00:00 exactly", "twelve midnight"),
        ("Wake at 07:05", "seven oh five a m"),
        ("Call at 3:05 pm", "three oh five p m"),
        ("Call at 11 a.m. today", "eleven a m today"),
        ("Alarm set for tomorrow 06:30.", "tomorrow at six thirty a m."),
        ("Reminder set for Fri 11 Dec 09:00.", "Friday the eleventh of December at nine a m."),
        ("Timer shows 00:10:00 left", "ten minutes left"),
    ],
)
def test_times_are_said_on_the_twelve_hour_clock(written, said):
    assert said in speakable(written)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Due 2026-12-08.", "the eighth of December, twenty twenty-six"),
        ("Today is Tuesday, 8 December 2026.", "Tuesday the eighth of December, twenty twenty-six"),
        ("Tuesday 8 December", "Tuesday the eighth of December"),
        ("on December 8th, 2026", "December eighth, twenty twenty-six"),
        ("the 21st", "twenty-first"),
    ],
)
def test_dates_and_ordinals(written, said):
    assert said in speakable(written)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("3 items", "three items"),
        ("1,250 people", "one thousand two hundred and fifty people"),
        ("3.5 stars", "three point five stars"),
        ("It is -4 outside", "minus four"),
        ("40% chance", "forty percent chance"),
        ("costs $4.50", "four dollars and fifty cents"),
        ("costs €10", "ten euros"),
        ("costs $1", "one dollar"),
        ("5 km away", "five kilometers away"),
        ("1 km away", "one kilometer away"),
        ("20°C today", "twenty degrees Celsius"),
        ("-2 °C", "minus two degrees Celsius"),
        ("in 10 min", "ten minutes"),
        ("in 40 s", "forty seconds"),
        ("wind 12 km/h", "twelve kilometers per hour"),
        ("Python 3.11.2", "three point eleven point two"),
        ("3-5 days", "three to five days"),
        ("No. 5 wins", "Number five"),
    ],
)
def test_numbers_money_and_units(written, said):
    assert said in speakable(written)


@pytest.mark.parametrize(
    ("written", "said"),
    [
        ("Fruit, e.g. apples.", "for example apples"),
        ("Use it, i.e. daily.", "that is daily"),
        ("Apples, pears etc. Then more.", "et cetera. Then more"),
        ("Dr. Smith is in.", "Doctor Smith"),
        ("approx. 5 km", "approximately five kilometers"),
        ("Tom & Jerry", "Tom and Jerry"),
    ],
)
def test_abbreviations_and_symbols_become_words(written, said):
    assert said in speakable(written)


def test_code_blocks_are_not_read():
    spoken = speakable("Try this:\n```python\nfor i in range(3):\n    print(i)\n```\nIt prints three lines.")
    assert CODE_PHRASE in spoken
    assert "range" not in spoken and "for i" not in spoken
    assert spoken.endswith("It prints three lines.")


def test_unclosed_code_block_is_not_read():
    assert speakable("Start:\n```js\nlet x = 1;") == f"Start: {CODE_PHRASE}"


def test_urls_become_their_site_and_links_their_text():
    spoken = speakable("Read https://www.example.com/docs/page_1?x=2. Or [the guide](https://a.org/g).")
    assert "a link to example dot com." in spoken
    assert "the guide" in spoken and "a dot org" not in spoken
    assert "docs" not in spoken and "page" not in spoken


def test_markdown_keeps_the_words_and_pauses_between_items():
    spoken = speakable("# Groceries\n- **milk**\n- eggs\n\n> quoted _text_")
    assert spoken == "Groceries. milk. eggs. quoted text."


@pytest.mark.parametrize("nothing", ["", "   ", "🎉🎉👍", "***", "---", "| |"])
def test_nothing_speakable_gives_an_empty_string(nothing):
    assert speakable(nothing) == ""


def test_emoji_are_dropped_and_words_kept():
    assert speakable("Done 👍 see you 🎉 soon!") == "Done see you soon!"


@pytest.mark.slow
def test_huge_reply_stays_fast_and_clean():
    text = "Item **3** costs $4.50 at 15:30 on 2026-12-08, see https://x.com/a. " * 1500
    t0 = time.perf_counter()
    spoken = speakable(text)
    assert time.perf_counter() - t0 < 2.0, "100,000 characters (no quadratic step) in well under 2 s"
    assert_for_the_ear(spoken)
