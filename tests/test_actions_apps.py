"""app_open: desktop entries written by the test into a temporary XDG_DATA_HOME, launched for real."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from actions_helpers import act, ctx_fixture, parsed  # noqa: F401 - ctx_fixture provides "ctx"

from jarvis_desktop.actions.apps import find_app
from jarvis_desktop.actions.desktop_entries import AppEntry, exec_argv, installed_apps
from jarvis_desktop.errors import BadInputError


@pytest.fixture()
def apps_home(tmp_path, monkeypatch):
    """An XDG_DATA_HOME with an applications folder; system dirs point at an empty folder."""
    data = tmp_path / "xdg"
    (data / "applications").mkdir(parents=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(data))
    monkeypatch.setenv("XDG_DATA_DIRS", str(empty))
    return data / "applications"


def write_entry(folder: Path, file: str, body: str) -> Path:
    path = folder / file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("[Desktop Entry]\nType=Application\n" + body, encoding="utf-8")
    return path


def wait_for(path: Path, seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if path.exists():
            return True
        time.sleep(0.05)
    return path.exists()


def test_app_open_finds_the_entry_by_fuzzy_name_and_launches_its_command(ctx, apps_home, tmp_path):
    marker = tmp_path / "x" / "marker"
    marker.parent.mkdir()
    write_entry(
        apps_home,
        "org.example.MarkerMaker.desktop",
        f"Name=Marker Maker\nGenericName=Marker Tool\nExec=touch {marker} %U\n",
    )
    r = act(ctx, parsed("open marker maker", "app_open", payload="marker maker"))
    assert r.kind == "done" and r.text == "Opening Marker Maker."
    assert r.data["desktop_id"] == "org.example.MarkerMaker.desktop" and r.data["pid"] > 0
    assert wait_for(marker)
    marker.unlink()
    r = act(ctx, parsed("launch marker maka", "app_open", payload="marker maka"))  # a near miss still matches
    assert r.kind == "done" and wait_for(marker)


@pytest.mark.slow
def test_a_name_with_shell_metacharacters_launches_nothing(ctx, apps_home, tmp_path):
    marker = tmp_path / "x" / "marker"
    marker.parent.mkdir()
    write_entry(apps_home, "marker.desktop", f"Name=Marker\nExec=touch {marker}\n")
    pwned = tmp_path / "pwned"
    for name in (f"marker; touch {pwned}", f"marker && touch {pwned}", f"$(touch {pwned})", "marker | cat"):
        r = act(ctx, parsed(f"open {name}", "app_open", payload=name))
        assert r.kind == "refused" and "nothing was started" in r.text, name
    # the payload extractor drops ";": the sentence itself is checked too
    r = act(ctx, parsed(f"open marker; touch {pwned}", "app_open", payload="marker"))
    assert r.kind == "refused" and "nothing was started" in r.text
    time.sleep(0.5)
    assert not marker.exists() and not pwned.exists()


def test_unknown_app_and_hidden_entries_are_not_launched(ctx, apps_home, tmp_path):
    marker = tmp_path / "hidden-ran"
    write_entry(apps_home, "secret.desktop", f"Name=Secret Tool\nNoDisplay=true\nExec=touch {marker}\n")
    write_entry(apps_home, "gone.desktop", "Name=Gone App\nTryExec=/nonexistent/gone\nExec=/nonexistent/gone\n")
    assert [a.id for a in installed_apps()] == []
    r = act(ctx, parsed("open secret tool", "app_open", payload="secret tool"))
    assert r.kind == "refused" and "couldn't find an application" in r.text
    assert not marker.exists()


@pytest.mark.slow
def test_dry_run_names_the_app_without_starting_it(ctx, apps_home, tmp_path):
    marker = tmp_path / "dry"
    write_entry(apps_home, "dry.desktop", f"Name=Dry Runner\nExec=touch {marker}\n")
    r = act(ctx, parsed("open dry runner", "app_open", payload="dry runner"), dry_run=True)
    assert r.kind == "dry_run" and r.text.startswith("Would open Dry Runner")
    time.sleep(0.4)
    assert not marker.exists()


def test_user_entry_overrides_the_system_one_with_the_same_id(apps_home, tmp_path, monkeypatch):
    system = tmp_path / "system"
    write_entry(system / "applications", "editor.desktop", "Name=System Editor\nExec=true\n")
    monkeypatch.setenv("XDG_DATA_DIRS", str(system))
    write_entry(apps_home, "editor.desktop", "Name=My Editor\nExec=true\n")
    assert [a.name for a in installed_apps()] == ["My Editor"]


def test_category_words_find_the_terminal(apps_home):
    write_entry(apps_home, "xterm.desktop", "Name=XTerm\nCategories=System;TerminalEmulator;\nExec=xterm\n")
    write_entry(apps_home, "calc.desktop", "Name=Calculator\nCategories=Utility;Calculator;\nExec=true\n")
    entry, score = find_app("the terminal")
    assert entry is not None and entry.name == "XTerm" and score >= 0.9


@pytest.mark.parametrize(
    "exec_line, argv",
    [
        ("foo %U", ["foo"]),
        ('foo --name="a b" %f', ["foo", "--name=a b"]),
        (r'"/opt/My App/run" "quoted \"arg\"" 100%%', ["/opt/My App/run", 'quoted "arg"', "100%"]),
        ("foo %i %c", ["foo", "--icon", "foo-icon", "Foo App"]),
        (r'foo "a\\\\b" \sx', ["foo", "a\\b", "x"]),  # string escapes first, then Exec quoting
    ],
)
def test_exec_is_split_per_the_desktop_entry_spec(exec_line, argv):
    entry = AppEntry(id="foo.desktop", name="Foo App", path=Path("/x/foo.desktop"), exec=exec_line, icon="foo-icon")
    assert exec_argv(entry) == argv


def test_broken_exec_is_a_clear_error():
    entry = AppEntry(id="b.desktop", name="B", path=Path("/x/b.desktop"), exec='foo "unterminated')
    with pytest.raises(BadInputError, match="unterminated quote"):
        exec_argv(entry)
