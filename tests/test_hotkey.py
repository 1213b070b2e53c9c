"""The global hotkey (jarvis_desktop/voice/hotkey.py) on a real X server: Xvfb on a free display, another X client
(xmessage) holding the focus, synthetic key events from xdotool (XTEST), python-xlib's real XGrabKey. The Wayland
probe runs against a real dbus-daemon. Nothing is mocked."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.voice.hotkey import (
    FALLBACK_TEXT,
    GlobalHotkey,
    HotkeyBackend,
    HotkeyError,
    HotkeyInUseError,
    HotkeyMode,
    HotkeyStatus,
    _Gate,  # the edge gate, tested directly below
    parse_hotkey,
    probe,
)

COMBO = "<ctrl>+<alt>+j"
SETTLE_S = 0.15  # time for the X server to deliver events and for the release's auto-repeat window to pass


# ---- the setting's text (no X server) ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical", "xdotool"),
    [
        ("<ctrl>+<alt>+j", "<ctrl>+<alt>+j", "ctrl+alt+j"),
        (" <Alt> + <CONTROL> + J ", "<ctrl>+<alt>+j", "ctrl+alt+j"),
        ("<cmd>+<shift>+5", "<shift>+<super>+5", "shift+super+5"),
        ("<f9>", "<f9>", "F9"),
        ("<super>+<space>", "<super>+<space>", "super+space"),
        ("<ctrl>+<page_down>", "<ctrl>+<page_down>", "ctrl+Next"),
    ],
)
def test_parse_canonical_forms(text: str, canonical: str, xdotool: str) -> None:
    combo = parse_hotkey(text)
    assert str(combo) == canonical
    assert combo.xdotool_text() == xdotool
    assert parse_hotkey(str(combo)) == combo


def test_pynput_text_names_super_cmd() -> None:
    assert parse_hotkey("<super>+<alt>+<f2>").pynput_text() == "<alt>+<cmd>+<f2>"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "<ctrl>+<alt>",  # no key
        "<ctrl>+j+k",  # two keys
        "<ctrl>+<ctrl>+j",  # a modifier twice
        "<ctrl>++j",  # an empty part
        "<hyper>+j",  # unknown modifier
        "<ctrl>+<f99>",  # unknown named key
        "<ctrl>+ß",  # not an ASCII key
        "<ctrl>+jj",
        "ctrl+alt+j",  # modifiers without brackets
        "j",  # a letter alone would be taken from typing
        "<shift>+j",
        "<space>",
    ],
)
def test_bad_combination_is_bad_input(text: str) -> None:
    with pytest.raises(BadInputError) as info:
        parse_hotkey(text)
    assert "bad hotkey" in str(info.value)
    assert info.value.hint and "<ctrl>+<alt>+j" in info.value.hint
    with pytest.raises(BadInputError):
        GlobalHotkey(text, lambda: None, lambda: None)


# ---- the edge gate every backend feeds (pynput on Windows repeats key-downs while a key is held) -------------------


@pytest.mark.parametrize(
    ("mode", "edges", "expected"),
    [
        (HotkeyMode.PUSH_TO_TALK, "ddduduu", ["begin", "end", "begin", "end"]),
        (HotkeyMode.TOGGLE, "dddudduu", ["begin", "end"]),
        (HotkeyMode.TOGGLE, "duuddu", ["begin", "end"]),
        (HotkeyMode.PUSH_TO_TALK, "uu", []),
    ],
)
def test_gate_drops_repeated_downs_and_stray_ups(mode: HotkeyMode, edges: str, expected: list[str]) -> None:
    calls: list[str] = []
    gate = _Gate(mode, lambda: calls.append("begin"), lambda: calls.append("end"))
    for edge in edges:
        gate.down() if edge == "d" else gate.up()
    assert calls == expected


@pytest.mark.parametrize("mode", list(HotkeyMode))
def test_gate_close_ends_an_open_begin(mode: HotkeyMode) -> None:
    calls: list[str] = []
    gate = _Gate(mode, lambda: calls.append("begin"), lambda: calls.append("end"))
    gate.down()
    gate.close()
    gate.close()
    assert calls == ["begin", "end"] and not gate.active


# ---- probe() where no key can be grabbed (no X server) -------------------------------------------------------


def test_probe_wayland_without_a_session_bus_is_unknown_with_the_fallback() -> None:
    support = probe({"WAYLAND_DISPLAY": "wayland-0"}, platform="linux")
    assert support.status is HotkeyStatus.UNKNOWN
    assert not support.can_grab
    assert "Wayland" in support.reason and "DBUS_SESSION_BUS_ADDRESS" in support.reason
    assert support.fallback == FALLBACK_TEXT
    assert "jarvis-desktop listen --toggle" in support.fallback


def test_probe_xdg_session_type_wayland_wins_over_xwayland_display() -> None:
    support = probe({"XDG_SESSION_TYPE": "wayland", "DISPLAY": ":0"}, platform="linux")
    assert support.status is HotkeyStatus.UNKNOWN
    assert support.fallback == FALLBACK_TEXT


def test_probe_without_any_display_is_unsupported() -> None:
    support = probe({}, platform="linux")
    assert support.status is HotkeyStatus.UNSUPPORTED
    assert support.backend is HotkeyBackend.NONE
    assert support.fallback == FALLBACK_TEXT


def test_start_on_wayland_raises_with_the_fallback_as_hint() -> None:
    hotkey = GlobalHotkey(COMBO, lambda: None, lambda: None, env={"WAYLAND_DISPLAY": "wayland-0"})
    with pytest.raises(HotkeyError) as info:
        hotkey.start()
    assert info.value.hint == FALLBACK_TEXT
    assert not hotkey.running
    hotkey.stop()  # stop() on a hotkey that never started is a no-op


# ---- a real X server --------------------------------------------------------------------------------------------


def _start_xvfb() -> tuple[subprocess.Popen[bytes], str]:
    """Xvfb on the first free display (it picks it and writes the number to a pipe)."""
    read_fd, write_fd = os.pipe()
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-nolisten", "tcp", "-screen", "0", "320x240x24"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    # The server writes the number and then "\n" in two writes: read up to the newline before closing the pipe, or
    # its second write fails and it exits.
    text, deadline = b"", time.monotonic() + 15
    while not text.endswith(b"\n") and select.select([read_fd], [], [], max(0.0, deadline - time.monotonic()))[0]:
        chunk = os.read(read_fd, 64)
        if not chunk:
            break
        text += chunk
    os.close(read_fd)
    number = text.decode().strip() if text.endswith(b"\n") else ""
    if not number:
        server.kill()
        server.wait()
        pytest.fail("Xvfb did not report a display within 15 s")
    return server, f":{number}"


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _focus_another_client(env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str]:
    """Start xmessage (another X application) and give it the input focus. Returns (process, its window id)."""
    app = subprocess.Popen(
        ["xmessage", "-geometry", "+10+10", "another application"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    found = subprocess.run(
        ["xdotool", "search", "--sync", "--onlyvisible", "--class", "Xmessage"],
        env=env,
        capture_output=True,
        text=True,
        timeout=10,
    )
    window = found.stdout.split()[0] if found.stdout.split() else ""
    assert window, f"xmessage did not map a window on {env.get('DISPLAY')!r}: {found.stderr}"
    subprocess.run(["xdotool", "windowfocus", "--sync", window], env=env, check=True, timeout=10)
    return app, window


@pytest.fixture(scope="module")
def x_env() -> Iterator[dict[str, str]]:
    """An environment whose DISPLAY is a fresh Xvfb, with xmessage focused (no Jarvis window exists).

    Skips only when Xvfb, xdotool or xmessage is not installed (packaging/setup.sh --test installs them).
    """
    for tool, package in (("Xvfb", "xvfb"), ("xdotool", "xdotool"), ("xmessage", "x11-utils")):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed (apt install {package})")
    server, display = _start_xvfb()
    env = dict(os.environ, DISPLAY=display)
    env.pop("WAYLAND_DISPLAY", None)
    env.pop("XDG_SESSION_TYPE", None)
    app, window = _focus_another_client(env)
    env["JARVIS_TEST_FOCUS_WINDOW"] = window
    yield env
    _stop(app)
    _stop(server)


def xdotool(env: dict[str, str], *args: str) -> None:
    subprocess.run(["xdotool", *args], env=env, check=True, timeout=10)


class Recorder:
    """Collects the callbacks' calls, with the thread they came from."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.threads: set[int] = set()
        self._changed = threading.Condition()

    def callback(self, name: str) -> Callable[[], None]:
        def call() -> None:
            with self._changed:
                self.calls.append(name)
                self.threads.add(threading.get_ident())
                self._changed.notify_all()

        return call

    def wait_for(self, count: int, timeout: float = 1.0) -> list[str]:
        with self._changed:
            self._changed.wait_for(lambda: len(self.calls) >= count, timeout)
            return list(self.calls)


def _hotkey(env: dict[str, str], rec: Recorder, mode: HotkeyMode = HotkeyMode.PUSH_TO_TALK) -> GlobalHotkey:
    return GlobalHotkey(COMBO, rec.callback("press"), rec.callback("release"), mode=mode, env=env)


@pytest.mark.slow
def test_probe_on_x11_is_supported_and_grabs_nothing(x_env: dict[str, str]) -> None:
    support = probe(x_env, platform="linux")
    assert support.status is HotkeyStatus.SUPPORTED and support.can_grab
    assert support.backend is HotkeyBackend.X11
    assert support.fallback == ""
    with _hotkey(x_env, Recorder()) as hotkey:  # probe() left the combination free
        assert hotkey.running


@pytest.mark.slow
def test_push_to_talk_fires_once_each_while_another_app_has_focus(x_env: dict[str, str]) -> None:
    rec = Recorder()
    with _hotkey(x_env, rec) as hotkey:
        focused = subprocess.run(["xdotool", "getwindowfocus"], env=x_env, capture_output=True, text=True)
        assert focused.stdout.strip() == x_env["JARVIS_TEST_FOCUS_WINDOW"]  # xmessage has the focus, not Jarvis
        xdotool(x_env, "keydown", "ctrl+alt+j")
        assert rec.wait_for(1) == ["press"]
        assert hotkey.active
        xdotool(x_env, "keyup", "ctrl+alt+j")
        assert rec.wait_for(2) == ["press", "release"]
        assert not hotkey.active
        time.sleep(SETTLE_S)
    assert rec.calls == ["press", "release"]
    assert len(rec.threads) == 1 and threading.get_ident() not in rec.threads  # from the hotkey's own thread


@pytest.mark.slow
def test_auto_repeat_and_repeated_keydowns_are_filtered(x_env: dict[str, str]) -> None:
    rec = Recorder()
    with _hotkey(x_env, rec):
        xdotool(x_env, "keydown", "ctrl+alt+j")
        # Repeated key-downs of the held key (what an XTEST client sends) ...
        xdotool(x_env, "keydown", "j", "keydown", "j", "keydown", "j")
        # ... and the server's own auto-repeat: Xvfb starts it 660 ms into a hold (release + press pairs, 40 ms apart).
        time.sleep(0.9)
        assert rec.calls == ["press"]
        xdotool(x_env, "keyup", "ctrl+alt+j")
        assert rec.wait_for(2) == ["press", "release"]
        time.sleep(SETTLE_S)
    assert rec.calls == ["press", "release"]


@pytest.mark.slow
def test_other_keys_are_ignored(x_env: dict[str, str]) -> None:
    rec = Recorder()
    with _hotkey(x_env, rec):
        for keys in ("ctrl+alt+k", "j", "ctrl+j", "alt+j", "ctrl+alt+shift+j", "super+j"):
            xdotool(x_env, "key", keys)
        time.sleep(SETTLE_S)
        assert rec.calls == []
        xdotool(x_env, "key", "ctrl+alt+j")  # the hotkey itself still works after them
        assert rec.wait_for(2) == ["press", "release"]


@pytest.mark.slow
def test_caps_lock_on_does_not_stop_the_hotkey(x_env: dict[str, str]) -> None:
    rec = Recorder()
    with _hotkey(x_env, rec):
        xdotool(x_env, "key", "Caps_Lock")
        try:
            xdotool(x_env, "key", "ctrl+alt+j")
            assert rec.wait_for(2) == ["press", "release"]
        finally:
            xdotool(x_env, "key", "Caps_Lock")


@pytest.mark.slow
def test_toggle_mode_toggles_on_presses(x_env: dict[str, str]) -> None:
    rec = Recorder()
    with _hotkey(x_env, rec, HotkeyMode.TOGGLE) as hotkey:
        xdotool(x_env, "key", "ctrl+alt+j")
        assert rec.wait_for(1) == ["press"]
        time.sleep(SETTLE_S)
        assert rec.calls == ["press"] and hotkey.active  # the release does not end it
        xdotool(x_env, "key", "ctrl+alt+j")
        assert rec.wait_for(2) == ["press", "release"]
        assert not hotkey.active
        # a held key with repeated key-downs is one press: it turns listening on once, not on-off-on-off
        xdotool(x_env, "keydown", "ctrl+alt+j", "keydown", "j", "keydown", "j", "keyup", "ctrl+alt+j")
        assert rec.wait_for(3) == ["press", "release", "press"]
        time.sleep(SETTLE_S)
        assert rec.calls == ["press", "release", "press"]
    # stop() ends the open toggle so that every press has its release
    assert rec.calls == ["press", "release", "press", "release"]


@pytest.mark.slow
def test_stop_releases_the_grab_and_is_idempotent(x_env: dict[str, str]) -> None:
    first_rec, second_rec = Recorder(), Recorder()
    first = _hotkey(x_env, first_rec)
    first.start()
    first.start()  # idempotent
    second = _hotkey(x_env, second_rec)
    with pytest.raises(HotkeyInUseError) as info:
        second.start()
    assert "already holds" in str(info.value) and str(parse_hotkey(COMBO)) in str(info.value)
    assert not second.running
    started = time.monotonic()
    first.stop()
    assert time.monotonic() - started < 1.0
    first.stop()  # idempotent
    assert not first.running
    second.start()
    try:
        xdotool(x_env, "key", "ctrl+alt+j")
        assert second_rec.wait_for(2) == ["press", "release"]
        assert first_rec.calls == []
    finally:
        second.stop()


@pytest.mark.slow
def test_stop_while_held_ends_the_hold(x_env: dict[str, str]) -> None:
    rec = Recorder()
    hotkey = _hotkey(x_env, rec)
    hotkey.start()
    try:
        xdotool(x_env, "keydown", "ctrl+alt+j")
        assert rec.wait_for(1) == ["press"]
        hotkey.stop()
        assert rec.calls == ["press", "release"]
    finally:
        xdotool(x_env, "keyup", "ctrl+alt+j")
        hotkey.stop()
    time.sleep(SETTLE_S)
    assert rec.calls == ["press", "release"]


@pytest.mark.slow
def test_a_display_that_does_not_answer_is_a_hotkey_error(x_env: dict[str, str]) -> None:
    env = dict(x_env, DISPLAY=":4999")
    assert probe(env, platform="linux").status is HotkeyStatus.UNSUPPORTED
    with pytest.raises(HotkeyError) as info:
        GlobalHotkey(COMBO, lambda: None, lambda: None, env=env).start()
    assert info.value.hint == FALLBACK_TEXT


# ---- Wayland: the portal question over a real session bus ---------------------------------------------------------


@pytest.fixture
def session_bus() -> Iterator[str]:
    """A private dbus-daemon session bus; yields its address. Skips when dbus-daemon is not installed."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt install dbus-daemon)")
    daemon = subprocess.Popen(
        ["dbus-daemon", "--session", "--nofork", "--print-address"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert daemon.stdout is not None
    address = daemon.stdout.readline().strip()
    assert address.startswith("unix:"), address
    yield address
    _stop_text(daemon)


def _stop_text(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.wait(5)


@pytest.mark.slow
def test_probe_wayland_without_a_portal_is_unsupported(session_bus: str) -> None:
    env = {"WAYLAND_DISPLAY": "wayland-0", "DBUS_SESSION_BUS_ADDRESS": session_bus}
    support = probe(env, platform="linux")
    assert support.status is HotkeyStatus.UNSUPPORTED
    assert "xdg-desktop-portal is not running" in support.reason
    assert support.fallback == FALLBACK_TEXT


def _serve_portal(address: str, interfaces: list[str], stop: threading.Event, ready: threading.Event) -> None:
    """Own org.freedesktop.portal.Desktop on the bus and answer Introspect with ``interfaces`` (what a desktop's
    xdg-desktop-portal answers; the real one needs a Wayland compositor)."""
    from jeepney import HeaderFields, MessageType, new_method_return
    from jeepney.bus_messages import message_bus
    from jeepney.io.blocking import open_dbus_connection

    body = "".join(f'<interface name="{name}"></interface>' for name in interfaces)
    xml = f"<node>{body}</node>"
    with open_dbus_connection(bus=address) as connection:
        connection.send_and_get_reply(message_bus.RequestName("org.freedesktop.portal.Desktop"), timeout=5)
        ready.set()
        while not stop.is_set():
            try:
                message = connection.receive(timeout=0.05)
            except TimeoutError:
                continue
            member = message.header.fields.get(HeaderFields.member)
            if message.header.message_type is MessageType.method_call and member == "Introspect":
                connection.send(new_method_return(message, "s", (xml,)))


@pytest.mark.slow
@pytest.mark.parametrize(
    ("interfaces", "status"),
    [
        (["org.freedesktop.portal.Settings", "org.freedesktop.portal.GlobalShortcuts"], HotkeyStatus.PORTAL_OFFERED),
        (["org.freedesktop.portal.Settings"], HotkeyStatus.UNSUPPORTED),
    ],
)
def test_probe_wayland_reads_the_portal_interfaces(
    session_bus: str, interfaces: list[str], status: HotkeyStatus
) -> None:
    stop, ready = threading.Event(), threading.Event()
    server = threading.Thread(target=_serve_portal, args=(session_bus, interfaces, stop, ready), daemon=True)
    server.start()
    try:
        assert ready.wait(5)
        support = probe({"WAYLAND_DISPLAY": "wayland-0", "DBUS_SESSION_BUS_ADDRESS": session_bus}, platform="linux")
    finally:
        stop.set()
        server.join(2)
    assert support.status is status
    assert not support.can_grab and support.fallback == FALLBACK_TEXT
    assert "GlobalShortcuts" in support.reason
