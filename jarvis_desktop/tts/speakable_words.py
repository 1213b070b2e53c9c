"""Word tables for text-for-the-ear: abbreviations, units, currencies, weekday and month names (no logic)."""

from __future__ import annotations

ABBREVIATIONS: dict[str, str] = {
    "e.g.": "for example",
    "i.e.": "that is",
    "etc.": "et cetera",
    "approx.": "approximately",
    "vs.": "versus",
    "cf.": "compare",
    "a.k.a.": "also known as",
    "incl.": "including",
    "excl.": "excluding",
    "Dr.": "Doctor",
    "Mr.": "Mister",
    "Mrs.": "Missus",
    "Ms.": "Miz",
    "Prof.": "Professor",
    "Jr.": "Junior",
    "Sr.": "Senior",
    "U.S.": "U S",
    "U.K.": "U K",
    "E.U.": "E U",
    "w/o": "without",
    "w/": "with",
}
"""Written abbreviation -> spoken words (matched case-sensitively, as whole tokens)."""

SENTENCE_FINAL_ABBREVIATIONS = frozenset({"etc.", "U.S.", "U.K.", "E.U."})
"""Abbreviations whose period also ends the sentence when a capital or the end of the text follows."""

NON_FINAL_ABBREVIATIONS = frozenset(set(ABBREVIATIONS) - SENTENCE_FINAL_ABBREVIATIONS) | {"No.", "Nr.", "St.", "ca."}
"""Abbreviations after which a period never ends a sentence ("Dr. Smith", "e.g. Paris", "No. 5")."""

# singular, plural; keys are matched after a number ("5 km", "20 min")
UNITS: dict[str, tuple[str, str]] = {
    "km/h": ("kilometer per hour", "kilometers per hour"),
    "m/s": ("meter per second", "meters per second"),
    "mph": ("mile per hour", "miles per hour"),
    "km": ("kilometer", "kilometers"),
    "cm": ("centimeter", "centimeters"),
    "mm": ("millimeter", "millimeters"),
    "kg": ("kilogram", "kilograms"),
    "mg": ("milligram", "milligrams"),
    "ml": ("milliliter", "milliliters"),
    "mi": ("mile", "miles"),
    "ft": ("foot", "feet"),
    "lb": ("pound", "pounds"),
    "lbs": ("pound", "pounds"),
    "oz": ("ounce", "ounces"),
    "min": ("minute", "minutes"),
    "mins": ("minute", "minutes"),
    "hr": ("hour", "hours"),
    "hrs": ("hour", "hours"),
    "sec": ("second", "seconds"),
    "secs": ("second", "seconds"),
    "ms": ("millisecond", "milliseconds"),
    "KB": ("kilobyte", "kilobytes"),
    "kB": ("kilobyte", "kilobytes"),
    "MB": ("megabyte", "megabytes"),
    "GB": ("gigabyte", "gigabytes"),
    "TB": ("terabyte", "terabytes"),
    # binary units are said as their everyday names: the difference does not matter to a listener
    "KiB": ("kilobyte", "kilobytes"),
    "MiB": ("megabyte", "megabytes"),
    "GiB": ("gigabyte", "gigabytes"),
    "TiB": ("terabyte", "terabytes"),
    "kWh": ("kilowatt hour", "kilowatt hours"),
    "kW": ("kilowatt", "kilowatts"),
    "Hz": ("hertz", "hertz"),
    "kHz": ("kilohertz", "kilohertz"),
    "MHz": ("megahertz", "megahertz"),
    "GHz": ("gigahertz", "gigahertz"),
    # one letter: only after a space ("40 s"), so "1990s" and "4K" stay as they are
    "h": ("hour", "hours"),
    "s": ("second", "seconds"),
    "m": ("meter", "meters"),
    "g": ("gram", "grams"),
    "l": ("liter", "liters"),
    "L": ("liter", "liters"),
    "W": ("watt", "watts"),
}
"""Unit symbol -> (singular, plural) words; the singular is used for exactly 1."""

CURRENCIES: dict[str, tuple[str, str, str, str]] = {
    "$": ("dollar", "dollars", "cent", "cents"),
    "€": ("euro", "euros", "cent", "cents"),
    "£": ("pound", "pounds", "penny", "pence"),
    "¥": ("yen", "yen", "sen", "sen"),
    "USD": ("dollar", "dollars", "cent", "cents"),
    "EUR": ("euro", "euros", "cent", "cents"),
    "GBP": ("pound", "pounds", "penny", "pence"),
}
"""Currency symbol or ISO code -> (unit, units, hundredth, hundredths)."""

WEEKDAYS: dict[str, str] = {
    name[:3]: name for name in ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
}
"""Three-letter weekday abbreviation (``%a``) -> full name."""

MONTHS: dict[str, str] = {
    name[:3]: name
    for name in (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    )
}
"""Three-letter month abbreviation (``%b``) -> full name."""
