"""A damaged database, automatic backups, restore, salvage and a full disk (issue 14, Survive 6 and 9).

Real SQLite files with thousands of rows; the damage is 8 KB of random bytes written over the middle of the file
(a seeded generator: the same pages every run). A full disk is a small tmpfs (we run as root), else a loop-mounted
ext4 file, else the test is skipped with the reason.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from cli_helpers import run_cli

from jarvis_desktop.cli import main as cli_main
from jarvis_desktop.config import database_path
from jarvis_desktop.errors import CorruptDatabaseError, JarvisError
from jarvis_desktop.store.backup import backup_dir, file_problem, list_backups
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.notes import NoteStore

N_NOTES = 4000
N_MESSAGES = 4000
T0 = "2026-01-01T00:00:00+00:00"


def make_realistic_db(path: Path, notes: int = N_NOTES, messages: int = N_MESSAGES) -> None:
    """Notes and chat messages interleaved, as months of use would leave them (about 2.5 MB)."""
    db = Database(path, backups=None)
    with db.transaction() as conn:
        conn.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('chat', ?, ?)", (T0, T0))
        for i in range(max(notes, messages)):
            if i < notes:
                conn.execute("INSERT INTO notes (text, created_at) VALUES (?, ?)", (f"note {i} " + "words " * 12, T0))
            if i < messages:
                role = "user" if i % 2 == 0 else "assistant"
                content = f"message {i} " + "the quick brown fox jumps over the lazy dog " * 6
                conn.execute(
                    "INSERT INTO chat_messages (role, content, created_at, conversation_id) VALUES (?, ?, ?, 1)",
                    (role, content, T0),
                )
    db.close()


def damage(path: Path) -> None:
    """Overwrite 8 KB in the middle of the file (page-aligned) with seeded random bytes."""
    size = path.stat().st_size
    middle = (size // 2) // 4096 * 4096
    with path.open("r+b") as fh:
        fh.seek(middle)
        fh.write(random.Random(14).randbytes(8192))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])
    finally:
        conn.close()


@pytest.fixture
def app_home(tmp_path, monkeypatch):
    """A fresh JARVIS_DESKTOP_HOME holding the app database; backups on every open, 3 kept."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(home))
    monkeypatch.setenv("JARVIS_BACKUP_EVERY_HOURS", "0")
    monkeypatch.delenv("JARVIS_BACKUP_KEEP", raising=False)
    return home


# ---- a damaged file: read-only, refused writes, untouched bytes ------------------------------------------------
def test_a_damaged_database_refuses_writes_and_is_left_untouched(tmp_path):
    path = tmp_path / "jarvis.sqlite3"
    make_realistic_db(path)
    damage(path)
    before = sha(path)
    db = Database(path)
    assert db.corrupt  # the quick check on open found it
    with pytest.raises(CorruptDatabaseError) as info:
        NoteStore(db).add("buy milk")
    message = info.value.user_message()
    assert str(path) in message and "untouched" in message
    assert "jarvis-desktop db restore" in message and "jarvis-desktop db salvage" in message
    assert info.value.exit_code == 2
    with pytest.raises(CorruptDatabaseError):  # every later write too
        db.execute("INSERT INTO notes (text, created_at) VALUES ('x', ?)", (T0,))
    db.close()
    assert sha(path) == before
    assert not list_backups(backup_dir(path))  # a damaged file is never backed up


def test_damage_found_during_use_switches_to_read_only(tmp_path):
    path = tmp_path / "jarvis.sqlite3"
    make_realistic_db(path)
    db = Database(path)
    assert db.corrupt is None
    NoteStore(db).add("committed to the WAL before the damage")
    damage(path)  # under the open database (a failing disk)
    db.query("PRAGMA shrink_memory")  # drop the page cache: the next read goes to the file
    before = sha(path)
    with pytest.raises(CorruptDatabaseError, match="damaged"):
        for table in ("chat_messages", "notes"):
            db.query(f"SELECT * FROM {table}")
    assert db.corrupt
    with pytest.raises(CorruptDatabaseError):
        NoteStore(db).add("after the damage")
    assert NoteStore(db).get(N_NOTES + 1).text == "committed to the WAL before the damage"  # still readable
    db.close()
    assert sha(path) == before  # closing did not checkpoint the WAL into the damaged file
    assert (tmp_path / "jarvis.sqlite3-wal").stat().st_size > 0


@pytest.mark.slow
def test_do_take_a_note_on_a_damaged_database_fails_clearly_and_changes_nothing(app_home):
    path = app_home / "jarvis.sqlite3"
    make_realistic_db(path)
    damage(path)
    before = sha(path)
    res = run_cli("do", "take a note buy milk", env={"JARVIS_DESKTOP_HOME": str(app_home)})
    assert res.returncode == 2, res.stdout + res.stderr
    assert "Noted" not in res.stdout
    assert res.stderr.startswith("error: the database ")
    assert str(path) in res.stderr and "damaged" in res.stderr and "untouched" in res.stderr
    assert "jarvis-desktop db restore" in res.stderr
    assert sha(path) == before


@pytest.mark.slow
def test_notes_still_readable_on_a_damaged_database_are_listed_with_a_warning(app_home):
    path = app_home / "jarvis.sqlite3"
    make_realistic_db(path, notes=5, messages=8000)  # the damage lands in chat history, the notes' page is whole
    damage(path)
    before = sha(path)
    listed = run_cli("notes", "--json", env={"JARVIS_DESKTOP_HOME": str(app_home)})
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)) == 5  # stdout stays the listing: valid JSON
    assert listed.stderr.startswith("warning: the database ") and "jarvis-desktop db restore" in listed.stderr
    assert sha(path) == before


@pytest.mark.slow
def test_doctor_reports_the_damaged_database_with_the_fix_and_the_latest_backup(app_home):
    path = app_home / "jarvis.sqlite3"
    make_realistic_db(path)
    Database(path).close()  # the app's open: quick check passes, a backup is taken
    latest = list_backups(backup_dir(path))[0]
    damage(path)
    res = run_cli("doctor", env={"JARVIS_DESKTOP_HOME": str(app_home)})
    assert res.returncode == 1
    line = next(ln for ln in res.stdout.splitlines() if "] database:" in ln)
    assert line.startswith("[MISS]") and str(path) in line and latest.path.name in line
    assert "jarvis-desktop db restore" in res.stdout


def test_a_big_file_is_checked_when_its_daily_backup_is_due(app_home, monkeypatch):
    """Files over CHECK_EVERY_OPEN_BYTES (64 MB) are not checked at every open, only with the daily backup."""
    from jarvis_desktop.store import db as db_module

    path = database_path()
    make_realistic_db(path, notes=500, messages=500)
    monkeypatch.setattr(db_module, "CHECK_EVERY_OPEN_BYTES", 1024)  # this file counts as big
    monkeypatch.setenv("JARVIS_BACKUP_EVERY_HOURS", "24")
    db = Database(path)
    assert db.last_backup is not None  # none yet: due, checked, backed up
    db.close()
    damage(path)
    db = Database(path)  # backed up today: no check at this open
    assert db.corrupt is None
    db.close()
    for info in list_backups(backup_dir(path)):
        info.path.unlink()
    db = Database(path)  # a backup is due: checked first, found damaged, not backed up
    assert db.corrupt and db.last_backup is None
    db.close()
    assert not list_backups(backup_dir(path))


# ---- backups ----------------------------------------------------------------------------------------------------
def test_backups_are_made_on_open_of_the_app_database_and_rotated(app_home, monkeypatch):
    path = database_path()
    make_realistic_db(path, notes=300, messages=300)
    monkeypatch.setenv("JARVIS_BACKUP_KEEP", "2")
    taken = []
    for _ in range(4):
        db = Database(path)
        assert db.last_backup is not None
        taken.append(db.last_backup.path)
        db.close()
    backups = list_backups(backup_dir(path))
    assert [b.path for b in backups] == taken[:-3:-1]  # the newest two, newest first
    for info in backups:
        assert re.fullmatch(r"jarvis-\d{8}-\d{6}(-\d+)?\.sqlite3", info.path.name)
        assert file_problem(info.path) == ""
        assert count(info.path, "notes") == 300
    monkeypatch.setenv("JARVIS_BACKUP_EVERY_HOURS", "24")  # the default: at most one a day
    db = Database(path)
    assert db.last_backup is None
    db.close()
    assert len(list_backups(backup_dir(path))) == 2


def test_other_database_files_get_no_automatic_backup(tmp_path, app_home):
    path = tmp_path / "elsewhere.sqlite3"
    make_realistic_db(path, notes=10, messages=10)
    Database(path).close()
    assert not (tmp_path / "backups").exists()


def test_restore_brings_back_the_backups_notes_and_keeps_the_damaged_file(app_home, capsys):
    path = database_path()
    make_realistic_db(path, notes=2000, messages=2000)
    db = Database(path)  # the backup on open holds the 2000 notes
    assert db.last_backup is not None
    NoteStore(db).add("written after the backup")
    db.close()
    damage(path)
    damaged = sha(path)
    assert cli_main(["db", "restore"]) == 0
    out = capsys.readouterr().out
    assert "restored" in out
    aside = [p for p in app_home.iterdir() if re.fullmatch(r"jarvis\.sqlite3\.corrupt-\d{8}-\d{6}", p.name)]
    assert len(aside) == 1 and str(aside[0]) in out
    assert sha(aside[0]) == damaged
    assert count(path, "notes") == 2000
    assert file_problem(path) == ""
    db = Database(path)
    assert db.corrupt is None
    NoteStore(db).add("after the restore")  # writable again
    db.close()


def test_restore_without_a_backup_says_so(app_home, capsys):
    make_realistic_db(database_path(), notes=10, messages=10)
    assert cli_main(["db", "restore"]) == 2
    assert "no backup" in capsys.readouterr().err


def test_salvage_recovers_most_rows_and_keeps_the_damaged_file(app_home, capsys):
    path = database_path()
    make_realistic_db(path)
    damage(path)
    damaged = sha(path)
    assert cli_main(["db", "check"]) == 2
    assert "damaged" in capsys.readouterr().err
    assert cli_main(["db", "salvage"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"notes: \d+ rows recovered", out) and re.search(r"chat_messages: \d+ rows recovered", out)
    aside = next(p for p in app_home.iterdir() if re.fullmatch(r"jarvis\.sqlite3\.corrupt-\d{8}-\d{6}", p.name))
    assert sha(aside) == damaged
    assert file_problem(path) == ""
    recovered = count(path, "notes") + count(path, "chat_messages")
    assert recovered >= 0.98 * (N_NOTES + N_MESSAGES), recovered
    db = Database(path)
    assert db.corrupt is None and db.user_version == len(db._migrations)
    NoteStore(db).add("after the salvage")
    db.close()
    assert cli_main(["db", "check"]) == 0


# ---- a full disk ------------------------------------------------------------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    """A 3 MB file system: tmpfs, else a loop-mounted ext4 file; skipped when neither can be mounted."""
    mount = tmp_path / "disk"
    mount.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True, text=True)
    if res.returncode != 0:
        image = tmp_path / "disk.img"
        with image.open("wb") as fh:
            fh.truncate(3 * 1024 * 1024)
        made = shutil.which("mkfs.ext4") and subprocess.run(["mkfs.ext4", "-q", str(image)], capture_output=True)
        res = subprocess.run(["mount", "-o", "loop", str(image), str(mount)], capture_output=True, text=True)
        if not made or res.returncode != 0:
            pytest.skip(f"cannot mount a small file system here (tmpfs or loop ext4): {res.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=False)  # still busy: detach it


def fill(directory: Path) -> Path:
    filler = directory / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    os.close(fd)
    return filler


def test_a_full_disk_says_disk_is_full_also_after_reopening_and_loses_no_saved_note(small_disk):
    path = small_disk / "jarvis.sqlite3"
    db = Database(path)
    notes = NoteStore(db)
    saved = [notes.add(f"note {i}").text for i in range(50)]
    db.close()  # a clean close: the next open must create its -wal and -shm files
    filler = fill(small_disk)
    with pytest.raises(JarvisError, match=r"disk is full \(\d+\.\d MB free\)") as info:
        Database(path)  # was: "disk I/O error" (SQLITE_IOERR_SHMSIZE)
    assert str(path) in info.value.user_message()
    filler.unlink()
    db = Database(path)  # the -wal/-shm exist now: open works, writes hit the full disk
    filler = fill(small_disk)
    acked = list(saved)
    with pytest.raises(JarvisError, match=r"disk is full"):
        for i in range(2000):
            acked.append(NoteStore(db).add(f"more {i} " + "x" * 500).text)
    db.close()
    with pytest.raises(JarvisError, match=r"disk is full"):
        reopened = Database(path)  # either the open or the write meets the full disk
        try:
            NoteStore(reopened).add("one more")
        finally:
            reopened.close()
    filler.unlink()
    db = Database(path)
    assert [n.text for n in reversed(NoteStore(db).list())] == acked
    db.close()


def test_no_automatic_backup_that_would_nearly_fill_the_disk(small_disk, monkeypatch):
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(small_disk))
    monkeypatch.setenv("JARVIS_BACKUP_EVERY_HOURS", "0")
    path = database_path()
    make_realistic_db(path, notes=50, messages=50)
    db = Database(path)  # 3 MB disk: a backup would leave under 64 MB free
    assert db.last_backup is None and db.corrupt is None
    NoteStore(db).add("still writable")
    db.close()
    assert not list_backups(backup_dir(path))


@pytest.mark.slow
def test_do_take_a_note_on_a_full_disk_says_disk_is_full(small_disk):
    path = small_disk / "jarvis.sqlite3"
    make_realistic_db(path, notes=20, messages=20)
    filler = fill(small_disk)
    res = run_cli("do", "take a note buy milk", env={"JARVIS_DESKTOP_HOME": str(small_disk)})
    assert res.returncode == 1, res.stdout + res.stderr
    assert "disk is full" in res.stderr and "Noted" not in res.stdout
    filler.unlink()
    assert count(path, "notes") == 20


# ---- the window ---------------------------------------------------------------------------------------------------
@pytest.mark.slow
def test_the_window_shows_the_damaged_database_message_in_the_chat(qtbot, app_home):
    pytest.importorskip("PySide6")
    from jarvis_desktop.ui.main_window import MainWindow

    (app_home / "settings.toml").write_text("[chat]\nmax_tokens = 32\n", encoding="utf-8")
    path = app_home / "jarvis.sqlite3"
    make_realistic_db(path)
    damage(path)
    before = sha(path)
    window = MainWindow(use_tray=False, first_run=False)
    qtbot.addWidget(window)
    window.show()
    try:
        qtbot.waitUntil(lambda: window.engine_ready or window.last_error is not None, timeout=90_000)
        assert window.submit_text("take a note buy milk")
        qtbot.waitUntil(lambda: not window.busy, timeout=90_000)
        system = [text for role, text in window.chat.messages() if role == "system"]
        assert system and "damaged" in system[-1] and str(path) in system[-1], system
        assert "jarvis-desktop db restore" in system[-1]
        assert window.isVisible() and window.send_button.isEnabled()
    finally:
        window.shutdown()
    assert sha(path) == before


# ---- cost on a realistic database (figures in docs/reliability.md) -----------------------------------------------
@pytest.mark.slow
def test_open_check_backup_and_salvage_cost_on_a_realistic_database(tmp_path, app_home, monkeypatch):
    """10k notes + 10k chat messages (about 6 MB). Prints the figures; bounds are loose (2 shared cores)."""
    import statistics
    import time

    from jarvis_desktop.store.backup import take_backup
    from jarvis_desktop.store.salvage import salvage_database

    path = database_path()
    make_realistic_db(path, notes=10_000, messages=10_000)
    monkeypatch.setenv("JARVIS_BACKUP_EVERY_HOURS", "24")

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    conn = sqlite3.connect(path)
    check = statistics.median(timed(lambda: conn.execute("PRAGMA quick_check").fetchall()) for _ in range(5))
    backup = statistics.median(timed(lambda: take_backup(conn, tmp_path / "bk", keep=1)) for _ in range(5))
    conn.close()
    Database(path).close()  # the first open of the day takes its backup
    opened = statistics.median(timed(lambda: Database(path).close()) for _ in range(5))
    damage(path)
    salvage = timed(lambda: salvage_database(path, tmp_path / "salvaged.sqlite3"))
    rows = count(tmp_path / "salvaged.sqlite3", "notes") + count(tmp_path / "salvaged.sqlite3", "chat_messages")
    size_mb = path.stat().st_size / 1e6
    print(
        f"\n{size_mb:.1f} MB: quick_check {check * 1000:.0f} ms, open (with the check) {opened * 1000:.0f} ms, "
        f"backup {backup * 1000:.0f} ms, salvage {salvage * 1000:.0f} ms ({rows} of 20000 rows)"
    )
    assert check < 1.0 and opened < 1.5 and backup < 3.0
    assert rows >= 19_000
