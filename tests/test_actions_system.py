"""Volume, media, web search and weather against the real tools, a real browser command and a local HTTP server."""

from __future__ import annotations

import json
import shutil
import stat
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from actions_helpers import act, ctx_fixture, parsed  # noqa: F401 - ctx_fixture provides "ctx"
from cli_helpers import run_cli

from jarvis_desktop.actions.volume import NOT_SUPPORTED, parse_request


def path_without(tmp_path: Path, *programs: str) -> str:
    """A PATH of symlinks to python and the basic tools, without ``programs``."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    for tool in ("python3", "touch", "true", "sh"):
        real = shutil.which(tool)
        if real and tool not in programs and not (bin_dir / tool).exists():
            (bin_dir / tool).symlink_to(real)
    return str(bin_dir)


@pytest.mark.parametrize(
    "text, op, level",
    [
        ("mute", "mute", 0),
        ("unmute the sound", "unmute", 0),
        ("turn the volume down", "down", 10),
        ("turn it up a lot", "up", 20),
        ("set the volume to forty percent", "set", 40),
        ("volume 75", "set", 75),
        ("max volume", "set", 100),
        ("what's the volume", "get", 0),
    ],
)
def test_volume_sentences(text, op, level):
    assert parse_request(text) == type(parse_request("mute"))(op, level)


def test_volume_without_pactl_or_wpctl_says_what_to_install(ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without(tmp_path, "pactl", "wpctl"))
    r = act(ctx, parsed("turn the volume down", "volume_set"))
    assert r.kind == "refused" and r.text == NOT_SUPPORTED
    assert "install pactl" in r.text


def test_media_without_playerctl_says_what_to_install(ctx, tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", path_without(tmp_path, "playerctl"))
    r = act(ctx, parsed("pause the music", "media_control"))
    assert r.kind == "refused" and r.text == "Media control is not supported here: install playerctl."


def test_volume_on_a_real_pulseaudio_sink_and_undo(ctx, virtual_mic):
    before = act(ctx, parsed("what's the volume", "volume_set"))
    assert before.kind == "answer" and before.data["backend"] in ("pactl", "wpctl")
    r = act(ctx, parsed("set the volume to 40 percent", "volume_set"))
    assert r.kind == "done" and r.text == "Volume set to 40%."
    assert act(ctx, parsed("what's the volume", "volume_set")).data["before"] == 40
    undo = act(ctx, parsed("undo", "general_chat"))
    assert undo.kind == "done"
    assert act(ctx, parsed("what's the volume", "volume_set")).data["before"] == before.data["before"]


def fake_browser(tmp_path: Path) -> tuple[str, Path]:
    """A BROWSER command that records the URL it is asked to open."""
    log = tmp_path / "opened.txt"
    script = tmp_path / "browser.sh"
    script.write_text(f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{log}"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return f"{script} %s", log


@pytest.mark.slow
def test_web_search_opens_the_configured_search_url(tmp_path):
    browser, log = fake_browser(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    (home / "settings.toml").write_text('[actions]\nsearch_url = "https://search.example/?q={query}"\n')
    env = {"BROWSER": browser, "JARVIS_DESKTOP_HOME": str(home)}
    res = run_cli("do", "search the web for python decorators", "--json", env=env)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["intent"] == "web_search" and out["reply"]["kind"] == "done"
    assert log.read_text().split() == ["https://search.example/?q=python+decorators"]
    dry = run_cli("do", "search the web for rust lifetimes", "--dry-run", "--json", env=env)
    assert json.loads(dry.stdout)["reply"]["kind"] == "dry_run"
    assert "rust" not in log.read_text()


class _OpenMeteo(BaseHTTPRequestHandler):
    """Answers like Open-Meteo's /v1/forecast and /v1/search."""

    def do_GET(self):
        if self.path.startswith("/v1/search"):
            body = {"results": [{"name": "Lisbon", "latitude": 38.72, "longitude": -9.14}]}
        else:
            body = {
                "current": {"temperature_2m": 17.4, "weather_code": 2, "wind_speed_10m": 11.0},
                "daily": {
                    "time": ["2030-03-04", "2030-03-05", "2030-03-06"],
                    "weather_code": [2, 63, 0],
                    "temperature_2m_max": [19.0, 15.2, 21.0],
                    "temperature_2m_min": [11.0, 9.6, 12.0],
                    "precipitation_probability_max": [10, 85, 0],
                },
            }
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture()
def weather_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OpenMeteo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.slow
def test_weather_now_and_tomorrow_from_an_open_meteo_server(ctx, weather_server):
    from datetime import datetime

    w = ctx.settings.weather
    w.location = "Lisbon"
    w.forecast_url, w.geocoding_url = f"{weather_server}/v1/forecast", f"{weather_server}/v1/search"
    now = datetime(2030, 3, 4, 18, 5)
    r = act(ctx, parsed("what's the weather", "weather_query"), now)
    assert r.kind == "answer" and r.text == (
        "Now in Lisbon: 17 °C, partly cloudy, wind 11 km/h; 10% chance of rain today."
    )
    r = act(ctx, parsed("will it rain tomorrow", "weather_query", ["tomorrow"], "2030-03-05T09:00"), now)
    assert r.text == "Lisbon, tomorrow: rain, 10 to 15 °C, 85% chance of rain."


def test_weather_offline_says_so_quickly(ctx):
    import socket
    import time

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    w = ctx.settings.weather
    w.location, w.forecast_url, w.timeout_s = "38.72,-9.14", f"http://127.0.0.1:{port}/v1/forecast", 2.0
    t0 = time.monotonic()
    r = act(ctx, parsed("what's the weather", "weather_query"))
    assert r.kind == "failed" and "can't reach the weather service" in r.text and "offline" in r.text
    assert time.monotonic() - t0 < 3


def test_weather_without_a_location_asks_for_one(ctx):
    r = act(ctx, parsed("what's the weather", "weather_query"))
    assert r.kind == "refused" and "weather location in Settings" in r.text
