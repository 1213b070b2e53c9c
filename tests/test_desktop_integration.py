"""Desktop integration (jarvis_desktop/desktop_integration.py, ``jarvis-desktop desktop``): real files in temporary
XDG directories, the real desktop-file-validate when installed, the installed Exec run for real."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_helpers import run_cli

from jarvis_desktop import desktop_integration as di
from jarvis_desktop.errors import BadInputError

REPO = Path(__file__).resolve().parents[1]
LAUNCHER = Path(sys.executable).parent / "jarvis-desktop"


@pytest.fixture
def xdg(tmp_path, monkeypatch) -> dict[str, str]:
    """Fresh XDG data/config dirs (the real ~/.local/share is never touched); returned as env for subprocesses."""
    env = {"XDG_DATA_HOME": str(tmp_path / "data"), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return env


def validate(path: str) -> None:
    tool = shutil.which("desktop-file-validate")
    if tool is None:
        return
    res = subprocess.run([tool, path], capture_output=True, text=True, timeout=30)
    assert res.returncode == 0 and not res.stdout.strip(), res.stdout + res.stderr


def test_install_status_remove_round_trip(xdg):
    assert LAUNCHER.is_file(), "the package must be pip-installed into the venv"
    before = di.desktop_status()
    assert not before.menu_entry and not before.autostart and before.menu_entry_path.startswith(xdg["XDG_DATA_HOME"])

    result = di.install(autostart=True)
    status = result.status
    assert status.menu_entry and status.autostart and status.icon and status.launcher_ok
    assert result.notes == []  # desktop-file-validate (when installed) found nothing
    paths = di.desktop_paths()
    assert paths.menu_entry == Path(xdg["XDG_DATA_HOME"], "applications", "jarvis-desktop.desktop")
    assert paths.autostart == Path(xdg["XDG_CONFIG_HOME"], "autostart", "jarvis-desktop.desktop")
    assert paths.icon.read_bytes() == (REPO / "resources" / "icons" / "jarvis.svg").read_bytes()
    assert status.command == [str(LAUNCHER.resolve())] and Path(status.command[0]).is_absolute()
    assert status.autostart_command == [str(LAUNCHER.resolve()), "--minimized"]
    entry = paths.menu_entry.read_text()
    assert f"Icon={paths.icon}\n" in entry and "Name=Jarvis Desktop\n" in entry
    validate(str(paths.menu_entry))
    validate(str(paths.autostart))

    # the installed command really starts this install's jarvis-desktop
    res = subprocess.run([*status.command, "--help"], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0 and "--minimized" in res.stdout, res.stderr

    again = di.install()  # idempotent
    assert again.status.menu_entry and again.status.autostart

    off = di.remove(autostart_only=True)
    assert off.removed == [str(paths.autostart)] and off.status.menu_entry and not off.status.autostart
    gone = di.remove()
    assert not gone.status.menu_entry and not gone.status.icon and not paths.menu_entry.exists()
    assert di.remove().removed == []  # nothing left to remove is not an error


def test_icon_stays_while_autostart_needs_it(xdg):
    di.set_autostart(True)
    di.set_menu_entry(True)
    di.set_menu_entry(False)
    assert di.desktop_status().icon and di.desktop_status().autostart
    di.set_autostart(False)
    assert not di.desktop_paths().icon.exists()


@pytest.mark.parametrize(
    "path",
    ["/opt/my apps/jarvis-desktop", '/tmp/we"ird/$HOME/`x`/back\\slash/50%/jarvis-desktop', "/plain/jarvis-desktop"],
)
def test_exec_quoting_round_trips(path):
    value = di.exec_command([path, "--minimized"])
    assert di.exec_argv(value) == [path, "--minimized"]
    if " " in path:
        assert value.startswith('"/opt/my apps/')
    if "\\" in path:
        assert "\\\\\\\\" in value  # a literal backslash in a quoted argument is four in the file (spec)


def test_odd_launcher_path_is_a_valid_entry_that_runs(xdg, tmp_path):
    odd = tmp_path / "my apps $x 50%"
    odd.mkdir()
    launcher = odd / "jarvis-desktop"
    launcher.symlink_to(LAUNCHER)
    result = di.install(launcher=launcher)
    assert result.status.command == [str(LAUNCHER.resolve())]  # resolved, so the venv script itself
    plain = tmp_path / "copy dir"
    plain.mkdir()
    shutil.copy(LAUNCHER, plain / "jarvis-desktop")
    result = di.install(launcher=plain / "jarvis-desktop")
    assert result.status.command == [str(plain / "jarvis-desktop")] and result.status.launcher_ok
    validate(result.status.menu_entry_path)


def test_bad_inputs_are_clear_errors(xdg, tmp_path, monkeypatch):
    with pytest.raises(BadInputError, match="not an executable file"):
        di.install(launcher=tmp_path / "missing")
    with pytest.raises(BadInputError, match="control character"):
        di.exec_command(["/a\nb"])
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv("XDG_DATA_HOME", str(blocker / "share"))
    with pytest.raises(BadInputError, match="cannot create the directory"):
        di.install()


def test_relative_xdg_variables_are_ignored(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/share")
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    paths = di.desktop_paths()
    assert paths.menu_entry == tmp_path / ".local/share/applications/jarvis-desktop.desktop"
    assert paths.autostart == tmp_path / ".config/autostart/jarvis-desktop.desktop"


def test_template_keys_match_the_packaged_entry():
    packaged = di._read_entry(REPO / "packaging" / "jarvis-desktop.desktop")
    for key, value in di.TEMPLATE_KEYS:
        assert packaged[key] == value, key


@pytest.mark.slow
def test_cli_install_status_remove_and_exit_codes(xdg, tmp_path):
    res = run_cli("desktop", "install", "--autostart", "--json", env=xdg, timeout=120)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["status"]["menu_entry"] and out["status"]["autostart"] and len(out["written"]) == 3
    assert Path(out["status"]["command"][0]).is_absolute() and os.access(out["status"]["command"][0], os.X_OK)

    res = run_cli("desktop", "status", env=xdg, timeout=120)
    assert res.returncode == 0 and "menu entry:     installed" in res.stdout and "start at login: on" in res.stdout

    res = run_cli("desktop", "remove", "--autostart", env=xdg, timeout=120)
    assert res.returncode == 0 and "start at login: off" in res.stdout and "menu entry:     installed" in res.stdout
    res = run_cli("desktop", "remove", env=xdg, timeout=120)
    assert res.returncode == 0 and "menu entry:     not installed" in res.stdout

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    res = run_cli("desktop", "install", env={**xdg, "XDG_DATA_HOME": str(blocker)}, timeout=120)
    assert res.returncode == 2 and res.stderr.startswith("error: cannot create the directory"), res.stderr
    res = run_cli("desktop", "install", "--launcher", str(blocker), env=xdg, timeout=120)
    assert res.returncode == 2 and "not an executable file" in res.stderr
    res = run_cli("desktop", env=xdg, timeout=120)
    assert res.returncode == 2 and res.stderr.startswith("error:")


def test_settings_general_page_boxes_show_and_apply_the_integration(qtbot, xdg, tmp_path, monkeypatch):
    pytest.importorskip("pytestqt")
    from jarvis_desktop.config import Settings, load_settings
    from jarvis_desktop.ui.settings_dialog import SettingsDialog
    from jarvis_desktop.voice.hotkey_types import HotkeyBackend, HotkeyStatus, HotkeySupport

    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path / "home"))
    di.set_autostart(True)  # installed from the CLI before: the box shows it

    def open_dialog() -> SettingsDialog:
        dialog = SettingsDialog(
            settings=Settings(),
            probe_hotkey=lambda: HotkeySupport(HotkeyStatus.UNSUPPORTED, HotkeyBackend.NONE, "test", ""),
        )
        qtbot.addWidget(dialog)
        return dialog

    dialog = open_dialog()
    page = dialog.general_page
    assert page.menu_entry.text() == "Show in the applications menu" and not page.menu_entry.isChecked()
    assert page.autostart.text() == "Start at login (in the tray)" and page.autostart.isChecked()
    assert page.menu_entry.isVisibleTo(dialog)
    page.menu_entry.setChecked(True)
    page.autostart.setChecked(False)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.buttons.button(dialog.buttons.StandardButton.Save).click()
    status = di.desktop_status()
    assert status.menu_entry and not status.autostart and status.launcher_ok
    assert load_settings() is not None  # the settings file was written as usual

    again = open_dialog()
    assert again.general_page.menu_entry.isChecked() and not again.general_page.autostart.isChecked()

    monkeypatch.setenv("XDG_CONFIG_HOME", str(di.desktop_paths().menu_entry))  # a file: cannot hold autostart/
    again.general_page.autostart.setChecked(True)
    again.buttons.button(again.buttons.StandardButton.Save).click()
    assert again.error.isVisibleTo(again) and "cannot create the directory" in again.error.text()
