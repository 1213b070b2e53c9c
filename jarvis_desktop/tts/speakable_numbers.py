"""Numbers for the ear with num2words: money, percentages, temperatures, units, ordinals, years, decimals.

Every function maps text to text and leaves what it does not recognise unchanged. Number words come from
num2words (LGPL-2.1) with its commas removed ("one thousand two hundred and fifty") so no pause is made
inside a number.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

from num2words import num2words

from jarvis_desktop.tts.speakable_words import CURRENCIES, UNITS

NUM = r"[-−]?\d{1,3}(?:,\d{3})+(?:\.\d+)?|[-−]?\d+(?:\.\d+)?"
"""A written number: optional minus, thousands commas, decimals ("-4", "1,250", "3.5")."""
_LEFT = r"(?<![\w.,/-])"
_SCALE = r"(?:\s?(thousand|million|billion|k|K|m|M|bn)\b)?"
_MONEY_BEFORE = re.compile(rf"(?<![\w])(\$|€|£|¥|USD|EUR|GBP)\s?({NUM}){_SCALE}")
_MONEY_AFTER = re.compile(rf"{_LEFT}({NUM})\s?(€|EUR|USD|GBP)(?![\w])")
_PERCENT = re.compile(rf"{_LEFT}({NUM})\s?%")
_DEGREES = re.compile(rf"{_LEFT}({NUM})\s?°\s?([CF])?(?![\w])")
_LONG_UNITS = "|".join(re.escape(u) for u in sorted((u for u in UNITS if len(u) > 1), key=len, reverse=True))
_SHORT_UNITS = "|".join(re.escape(u) for u in UNITS if len(u) == 1)
_UNIT = re.compile(rf"{_LEFT}({NUM})(?:\s?({_LONG_UNITS})|\s({_SHORT_UNITS}))(?![\w/])")
_ORDINAL = re.compile(r"(?<![\w.])(\d+)(?:st|nd|rd|th)\b")
_VERSION = re.compile(r"(?<![\w.])\d+(?:\.\d+){2,}(?![\w])")
_RANGE = re.compile(r"(?<![\w.,-])(\d+)\s?[-–]\s?(\d+)(?![\w.%])")
_NUMBER = re.compile(rf"{_LEFT}({NUM})(?![\w])")
_SCALES = {"k": "thousand", "K": "thousand", "m": "million", "M": "million", "bn": "billion"}


def _decimal(text: str) -> Decimal | None:
    try:
        return Decimal(text.replace(",", "").replace("−", "-"))
    except InvalidOperation:
        return None


def number_words(text: str) -> str:
    """``"1,250"`` -> ``"one thousand two hundred and fifty"``, ``"-4"`` -> ``"minus four"``,
    ``"3.5"`` -> ``"three point five"``; a 4-digit whole number from 1100 to 2099 reads as a year
    (``"2026"`` -> ``"twenty twenty-six"``). Text that is not a number comes back unchanged."""
    value = _decimal(text)
    if value is None:
        return text
    plain = text.lstrip("-−")
    if len(plain) == 4 and plain.isdigit() and 1100 <= value <= 2099:
        words: str = num2words(int(value), to="year")
    else:
        words = num2words(value)
    return words.replace(",", "")


def _is_one(text: str) -> bool:
    value = _decimal(text)
    return value is not None and abs(value) == 1


def _money(amount: str, code: str, scale: str | None) -> str:
    unit, units, cent, cents = CURRENCIES[code]
    if scale:
        return f"{number_words(amount)} {_SCALES.get(scale, scale)} {units}"
    value = _decimal(amount)
    if value is None:
        return amount
    whole, hundredths = divmod(abs(value) * 100, 100)
    sign = "minus " if value < 0 else ""
    spoken = f"{sign}{num2words(int(whole))} {unit if whole == 1 else units}".replace(",", "")
    if hundredths:
        spoken += f" and {num2words(int(hundredths))} {cent if hundredths == 1 else cents}"
    return spoken


def speak_money(text: str) -> str:
    """``"$4.50"`` -> ``"four dollars and fifty cents"``, ``"€10"`` / ``"10 EUR"`` -> ``"ten euros"``,
    ``"$1.5m"`` -> ``"one point five million dollars"``; $, €, £, ¥ and USD/EUR/GBP."""
    text = _MONEY_BEFORE.sub(lambda m: _money(m.group(2), m.group(1), m.group(3)), text)
    return _MONEY_AFTER.sub(lambda m: _money(m.group(1), m.group(2), None), text)


def speak_measures(text: str) -> str:
    """Percentages, temperatures and units after a number: ``"40%"`` -> ``"forty percent"``,
    ``"20°C"`` -> ``"twenty degrees Celsius"``, ``"5 km"`` -> ``"five kilometers"``, ``"1 min"`` ->
    ``"one minute"``. One-letter units (s, h, m, g, l, W) need a space before them ("40 s")."""
    text = _PERCENT.sub(lambda m: f"{number_words(m.group(1))} percent", text)
    text = _DEGREES.sub(_degrees, text)
    return _UNIT.sub(_unit, text)


def _degrees(m: re.Match[str]) -> str:
    scale = {"C": " Celsius", "F": " Fahrenheit"}.get(m.group(2) or "", "")
    return f"{number_words(m.group(1))} {'degree' if _is_one(m.group(1)) else 'degrees'}{scale}"


def _unit(m: re.Match[str]) -> str:
    singular, plural = UNITS[m.group(2) or m.group(3)]
    return f"{number_words(m.group(1))} {singular if _is_one(m.group(1)) else plural}"


def speak_numbers(text: str) -> str:
    """Ordinals (``"21st"`` -> ``"twenty-first"``), versions (``"3.11.2"`` -> ``"three point eleven point
    two"``), ranges (``"3-5"`` -> ``"three to five"``) and the remaining numbers (see :func:`number_words`).
    Digits glued to letters ("mp3", "4K") are left alone."""
    text = _ORDINAL.sub(lambda m: str(num2words(int(m.group(1)), to="ordinal")).replace(",", ""), text)
    text = _VERSION.sub(lambda m: " point ".join(number_words(p) for p in m.group(0).split(".")), text)
    text = _RANGE.sub(lambda m: f"{number_words(m.group(1))} to {number_words(m.group(2))}", text)
    return _NUMBER.sub(lambda m: number_words(m.group(1)), text)
