"""``weather_query``: current weather or the forecast for a day, from a pluggable provider.

Providers (``[weather] provider``): "open-meteo" (HTTP JSON, no API key; ``forecast_url`` and
``geocoding_url`` may point at a self-hosted instance) and "none". The place is ``[weather] location``
("Lisbon" or "38.72,-9.14"), or a capitalised place named in the question ("weather in Paris"). Every
request has a ``timeout_s`` timeout; no network gives "I can't reach the weather service (offline?)", never
a hang. A provider is a callable ``(place, days) -> Forecast`` registered in :data:`PROVIDERS`.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.result import ActionResult, refused
from jarvis_desktop.actions.schedule import day_range
from jarvis_desktop.config import WeatherSettings
from jarvis_desktop.nlu.result import ParseResult

WMO_CODES: dict[object, str] = {  # keyed by the JSON value as it comes (int, or None when absent)
    0: "clear sky",
    1: "mainly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "freezing fog",
    51: "light drizzle",
    53: "drizzle",
    55: "heavy drizzle",
    56: "freezing drizzle",
    57: "freezing drizzle",
    61: "light rain",
    63: "rain",
    65: "heavy rain",
    66: "freezing rain",
    67: "freezing rain",
    71: "light snow",
    73: "snow",
    75: "heavy snow",
    77: "snow grains",
    80: "rain showers",
    81: "rain showers",
    82: "violent rain showers",
    85: "snow showers",
    86: "heavy snow showers",
    95: "thunderstorms",
    96: "thunderstorms with hail",
    99: "thunderstorms with hail",
}
_COORDS = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")
_PLACE = re.compile(r"\b(?:in|for|at|near)\s+([A-Z][\w'\-]*(?:\s+[A-Z][\w'\-]*)*)")


class WeatherUnavailable(Exception):
    """The provider could not be reached or answered nonsense; ``str()`` is the user-facing reason."""


@dataclass
class DayForecast:
    """One day: ``low``/``high`` in °C, ``rain_chance`` in % (None if unknown), ``condition`` in words."""

    day: date
    condition: str
    low: float
    high: float
    rain_chance: float | None = None


@dataclass
class Forecast:
    """``place`` as resolved; ``current``: {"temperature" °C, "condition", "wind_kmh"} or {}; ``days``."""

    place: str
    current: dict[str, Any] = field(default_factory=dict)
    days: list[DayForecast] = field(default_factory=list)


def _get_json(url: str, params: dict[str, Any], timeout_s: float) -> dict[str, Any]:
    full = f"{url}?{urllib.parse.urlencode(params)}"
    host = urllib.parse.urlparse(url).hostname or url
    try:
        req = urllib.request.Request(full, headers={"User-Agent": "jarvis-desktop"})
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            return json.loads(resp.read().decode("utf-8"))
    except urllib.error.HTTPError as exc:
        raise WeatherUnavailable(f"the weather service {host} answered HTTP {exc.code}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise WeatherUnavailable(f"I can't reach the weather service {host} (offline?)") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise WeatherUnavailable(f"the weather service {host} sent an unreadable answer") from exc


def open_meteo(place: str, settings: WeatherSettings) -> Forecast:
    """Current weather and a 16-day daily forecast from Open-Meteo for ``place`` (name or "lat,lon")."""
    m = _COORDS.match(place)
    if m:
        lat, lon, name = float(m.group(1)), float(m.group(2)), place.strip()
    else:
        found = (
            _get_json(
                settings.geocoding_url,
                {"name": place, "count": 1, "language": "en", "format": "json"},
                settings.timeout_s,
            ).get("results")
            or []
        )
        if not found:
            raise WeatherUnavailable(f"I don't know a place called “{place}”")
        lat, lon = float(found[0]["latitude"]), float(found[0]["longitude"])
        name = found[0].get("name", place)
    data = _get_json(
        settings.forecast_url,
        {
            "latitude": lat,
            "longitude": lon,
            "timezone": "auto",
            "forecast_days": 16,
            "current": "temperature_2m,weather_code,wind_speed_10m",
            "daily": "weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max",
        },
        settings.timeout_s,
    )
    try:
        cur = data.get("current") or {}
        current = (
            {
                "temperature": cur["temperature_2m"],
                "condition": WMO_CODES.get(cur.get("weather_code"), "unknown"),
                "wind_kmh": cur.get("wind_speed_10m"),
            }
            if cur
            else {}
        )
        daily = data.get("daily") or {}
        rain = daily.get("precipitation_probability_max") or [None] * len(daily.get("time", []))
        days = [
            DayForecast(date.fromisoformat(t), WMO_CODES.get(code, "unknown"), lo, hi, r)
            for t, code, hi, lo, r in zip(
                daily.get("time", []),
                daily.get("weather_code", []),
                daily.get("temperature_2m_max", []),
                daily.get("temperature_2m_min", []),
                rain,
                strict=False,  # a short series (the service's choice) shortens the forecast
            )
        ]
    except (KeyError, TypeError, ValueError) as exc:
        raise WeatherUnavailable("the weather service sent an answer I can't read") from exc
    return Forecast(place=name, current=current, days=days)


#: provider name -> callable(place, weather settings) -> Forecast
PROVIDERS: dict[str, Callable[[str, WeatherSettings], Forecast]] = {"open-meteo": open_meteo}


def _day_text(d: DayForecast, today: date) -> str:
    name = {0: "today", 1: "tomorrow"}.get((d.day - today).days, d.day.strftime("%A"))
    rain = f", {d.rain_chance:.0f}% chance of rain" if d.rain_chance is not None else ""
    return f"{name}: {d.condition}, {d.low:.0f} to {d.high:.0f} °C{rain}"


def answer_weather(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Answer "what's the weather", "will it rain this weekend", "weather in Paris tomorrow".

    ``data``: ``place``, ``current`` and/or ``days`` (list of {date, condition, low, high, rain_chance}).
    """
    cfg = ctx.settings.weather
    named = _PLACE.search(parse.text or "")
    place = named.group(1) if named else cfg.location.strip()
    provider = PROVIDERS.get(cfg.provider)
    if provider is None:
        return refused(
            parse.intent,
            'Weather is not set up: set [weather] provider = "open-meteo" in the settings.',
            "Weather: no provider",
        )
    if not place:
        return refused(
            parse.intent,
            'Where? Set the weather location in Settings (General tab, e.g. "Lisbon"), or ask “weather in Lisbon”.',
            "Weather: no location",
        )
    days = day_range(parse, ctx)
    today = ctx.now.date()
    if days is not None and days[1] <= today:
        return refused(parse.intent, "I only have forecasts, not past weather.", "Weather: past day")
    try:
        forecast = provider(place, cfg)
    except WeatherUnavailable as exc:
        return ActionResult(
            intent=parse.intent,
            kind="failed",
            text=f"{str(exc)[0].upper()}{str(exc)[1:]}.",
            summary="Weather: unavailable",
            data={"place": place},
        )
    data: dict[str, Any] = {"place": forecast.place, "current": forecast.current}
    if days is None:
        cur = forecast.current
        if not cur:
            return ActionResult(
                intent=parse.intent,
                kind="failed",
                text="The weather service gave no current conditions.",
                summary="Weather: unavailable",
                data=data,
            )
        wind = f", wind {cur['wind_kmh']:.0f} km/h" if cur.get("wind_kmh") is not None else ""
        text = f"Now in {forecast.place}: {cur['temperature']:.0f} °C, {cur['condition']}{wind}."
        todays = [d for d in forecast.days if d.day == today]
        if todays and todays[0].rain_chance is not None:
            text = text[:-1] + f"; {todays[0].rain_chance:.0f}% chance of rain today."
    else:
        start = max(days[0], today)
        picked = [d for d in forecast.days if start <= d.day < min(days[1], start + timedelta(days=7))]
        if not picked:
            return refused(
                parse.intent,
                f"The forecast for {forecast.place} doesn't reach that far yet.",
                "Weather: too far ahead",
                place=forecast.place,
            )
        data["days"] = [
            {
                "date": d.day.isoformat(),
                "condition": d.condition,
                "low": d.low,
                "high": d.high,
                "rain_chance": d.rain_chance,
            }
            for d in picked
        ]
        text = f"{forecast.place}, " + "; ".join(_day_text(d, today) for d in picked) + "."
    return ActionResult(intent=parse.intent, kind="answer", text=text, summary=f"Weather: {forecast.place}", data=data)
