"""write_atomically: atomic writes that never follow a planted symlink, never block on a FIFO, refuse bad names;
and the notes / calendar exports through the real CLI."""

from __future__ import annotations

import os
import stat
import threading

import pytest
from cli_helpers import run_cli

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.safe_write import write_atomically


def _no_temp_left(directory) -> None:
    assert [p.name for p in directory.iterdir() if p.name.endswith(".tmp")] == []


def test_writes_atomically_and_keeps_an_existing_files_mode(tmp_path):
    target = tmp_path / "out.md"
    write_atomically(target, "first\n")
    assert target.read_text() == "first\n"
    target.chmod(0o640)
    write_atomically(target, b"second\n")
    assert target.read_bytes() == b"second\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    _no_temp_left(tmp_path)


def test_a_symlink_planted_on_the_old_temp_name_leaves_the_victim_intact(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious\n")
    for name in ("out.md.tmp", ".out.md.tmp"):
        (tmp_path / name).symlink_to(victim)
    write_atomically(tmp_path / "out.md", "exported\n")
    assert victim.read_text() == "precious\n"
    assert (tmp_path / "out.md").read_text() == "exported\n"
    assert (tmp_path / "out.md.tmp").is_symlink()


def test_an_existing_symlink_target_is_refused_and_left_alone_unless_followed(tmp_path):
    real = tmp_path / "real.toml"
    real.write_text("old\n")
    link = tmp_path / "link.toml"
    link.symlink_to(real)
    with pytest.raises(BadInputError, match="symbolic link"):
        write_atomically(link, "new\n")
    assert link.is_symlink() and real.read_text() == "old\n"
    write_atomically(link, "new\n", follow_symlink=True)  # the settings file: written through, the link kept
    assert link.is_symlink() and real.read_text() == "new\n"
    _no_temp_left(tmp_path)


def _in_thread(fn, timeout: float = 5.0):
    """Run ``fn`` in a thread; fail (instead of hanging) if it blocks past ``timeout`` seconds."""
    box: dict = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed back to the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(timeout)
    assert not thread.is_alive(), "the write blocked"
    if "error" in box:
        raise box["error"]
    return box.get("value")


def test_fifo_device_and_directory_targets_are_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.md"
    os.mkfifo(fifo)
    with pytest.raises(BadInputError, match="FIFO"):
        _in_thread(lambda: write_atomically(fifo, "x"))
    with pytest.raises(BadInputError, match="device"):
        _in_thread(lambda: write_atomically("/dev/null", "x"))
    with pytest.raises(BadInputError, match="directory"):
        write_atomically(tmp_path, "x")
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)


@pytest.mark.parametrize("name", ["", ".", "/", "..", "x" * 300, "no-such-dir/out.md"])
def test_bad_names_are_bad_input(tmp_path, name):
    with pytest.raises(BadInputError):
        write_atomically(name if name in ("", "/") else tmp_path / name, "x")


def test_cli_exports_never_follow_symlinks_and_bad_names_exit_2(tmp_path):
    env = {"JARVIS_DESKTOP_HOME": str(tmp_path / "home")}
    victim = tmp_path / "v"
    victim.write_text("precious\n")
    for command, name in (("notes", "out.md"), ("calendar", "out.ics")):
        (tmp_path / f"{name}.tmp").symlink_to(victim)
        done = run_cli(command, "export", str(tmp_path / name), env=env)
        assert done.returncode == 0, done.stderr
        assert victim.read_text() == "precious\n"
        assert (tmp_path / name).is_file() and not (tmp_path / name).is_symlink()
        link = tmp_path / f"link-{name}"
        link.symlink_to(victim)
        done = run_cli(command, "export", str(link), env=env)
        assert done.returncode == 2 and "symbolic link" in done.stderr
        assert link.is_symlink() and victim.read_text() == "precious\n"
        for bad in ("", ".", "/", str(tmp_path / ("x" * 300))):
            done = run_cli(command, "export", bad, env=env, timeout=60)
            assert done.returncode == 2, (command, bad, done.stderr)
    os.mkfifo(tmp_path / "pipe.md")
    done = run_cli("notes", "export", str(tmp_path / "pipe.md"), env=env, timeout=60)
    assert done.returncode == 2 and "FIFO" in done.stderr


def test_save_settings_writes_through_a_symlinked_settings_file(tmp_path):
    from jarvis_desktop.config import Settings, load_settings, save_settings

    real = tmp_path / "dotfiles" / "settings.toml"
    real.parent.mkdir()
    real.write_text("")
    link = tmp_path / "settings.toml"
    link.symlink_to(real)
    settings = Settings()
    settings.speech.volume = 0.25
    save_settings(settings, link)
    assert link.is_symlink() and load_settings(real).speech.volume == 0.25
    _no_temp_left(tmp_path)
    _no_temp_left(real.parent)
