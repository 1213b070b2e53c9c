"""The SQLite store on real files: migrations, chat history across restarts, threads, bad files, write errors."""

from __future__ import annotations

import os
import subprocess
import threading
from datetime import datetime, timezone

import pytest

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.store import MIGRATIONS, ChatHistory, Database


def _tables(db: Database) -> set[str]:
    return {row[0] for row in db.query("SELECT name FROM sqlite_master WHERE type = 'table'")}


def test_app_schema_is_created_in_wal_mode_with_foreign_keys(tmp_path):
    with Database(tmp_path / "jarvis.sqlite3") as db:
        assert db.user_version == len(MIGRATIONS)
        assert "chat_messages" in _tables(db)
        assert db.query("PRAGMA journal_mode")[0][0] == "wal"
        assert db.query("PRAGMA foreign_keys")[0][0] == 1


def test_migrations_apply_once_and_appended_ones_apply_on_reopen(tmp_path):
    path = tmp_path / "m.sqlite3"
    # Each script logs itself, so a script that runs twice shows up twice.
    first = [
        "CREATE TABLE log (step INTEGER); INSERT INTO log VALUES (1);",
        "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT); INSERT INTO log VALUES (2);",
    ]
    with Database(path, migrations=first) as db:
        assert db.user_version == 2
        db.execute("INSERT INTO notes (text) VALUES (?)", ("buy milk",))
    with Database(path, migrations=first) as db:  # same list again: nothing re-runs
        assert [r[0] for r in db.query("SELECT step FROM log ORDER BY rowid")] == [1, 2]
    later = first + ["ALTER TABLE notes ADD COLUMN done INTEGER NOT NULL DEFAULT 0; INSERT INTO log VALUES (3);"]
    with Database(path, migrations=later) as db:
        assert db.user_version == 3
        assert [r[0] for r in db.query("SELECT step FROM log ORDER BY rowid")] == [1, 2, 3]
        assert [tuple(r) for r in db.query("SELECT text, done FROM notes")] == [("buy milk", 0)]


def test_a_failing_migration_leaves_the_previous_schema_intact(tmp_path):
    path = tmp_path / "m.sqlite3"
    good = ["CREATE TABLE a (x INTEGER);"]
    Database(path, migrations=good).close()
    broken = good + ["CREATE TABLE b (y INTEGER); THIS IS NOT SQL;"]
    with pytest.raises(JarvisError):
        Database(path, migrations=broken)
    with Database(path, migrations=good) as db:
        assert db.user_version == 1
        assert "b" not in _tables(db)  # the half of script 2 that ran was rolled back


def test_a_database_from_a_newer_version_is_refused_not_modified(tmp_path):
    path = tmp_path / "new.sqlite3"
    Database(path, migrations=["CREATE TABLE a (x);", "CREATE TABLE b (y);"]).close()
    with pytest.raises(BadInputError, match="newer"):
        Database(path, migrations=["CREATE TABLE a (x);"])


def test_history_survives_close_and_reopen_in_order(tmp_path):
    path = tmp_path / "jarvis.sqlite3"
    db = Database(path)
    history = ChatHistory(db)
    before = datetime.now(timezone.utc)
    history.add("user", "what time is it", {"intent": "datetime_query", "date_keys": []})
    history.add("assistant", "It is 10:04.", {"source": "action"})
    reply_id = history.add("assistant", "")  # a streamed reply, written at the end
    history.update(reply_id, "Paris is the capital of France.", {"timings": {"tokens_per_s": 120.5}})
    db.close()

    db = Database(path)
    records = ChatHistory(db).recent()
    db.close()
    assert [(r.role, r.content) for r in records] == [
        ("user", "what time is it"),
        ("assistant", "It is 10:04."),
        ("assistant", "Paris is the capital of France."),
    ]
    assert records[0].meta == {"intent": "datetime_query", "date_keys": []}
    assert records[2].meta == {"timings": {"tokens_per_s": 120.5}}
    assert all(r.created_at >= before.replace(microsecond=0) for r in records)
    assert records[0].created_at.tzinfo is not None
    assert [r.id for r in records] == sorted(r.id for r in records)


def test_recent_limit_clear_and_bad_input(tmp_path):
    with Database(tmp_path / "h.sqlite3") as db:
        history = ChatHistory(db)
        for i in range(10):
            history.add("user", f"message {i}")
        assert [r.content for r in history.recent(limit=3)] == ["message 7", "message 8", "message 9"]
        with pytest.raises(BadInputError, match="role"):
            history.add("robot", "hi")
        with pytest.raises(BadInputError, match="meta"):
            history.add("user", "hi", meta=["not", "a", "dict"])
        with pytest.raises(BadInputError, match="no chat message"):
            history.update(999_999, "text")
        assert history.clear() == 10
        assert history.recent() == []


def test_conversation_gives_the_last_turns_for_the_prompt(tmp_path):
    with Database(tmp_path / "c.sqlite3") as db:
        history = ChatHistory(db)
        for i in range(5):
            history.add("user", f"question {i}")
            history.add("system", f"reminder saved {i}")  # app notices never reach the chat prompt
            history.add("assistant", f"answer {i}")
        history.add("user", "question 5")
        history.add("assistant", "")  # cancelled before the first token
        conversation = history.conversation(limit_turns=2)
        assert conversation == [  # a question whose answer was stopped before any text is left out
            {"role": "user", "content": "question 3"},
            {"role": "assistant", "content": "answer 3"},
            {"role": "user", "content": "question 4"},
            {"role": "assistant", "content": "answer 4"},
        ]
        assert history.conversation(limit_turns=0) == []


def test_concurrent_adds_from_four_threads_all_land(tmp_path):
    db = Database(tmp_path / "t.sqlite3")
    history = ChatHistory(db)
    errors: list[BaseException] = []
    per_thread = 50

    def worker(name: str) -> None:
        try:
            for i in range(per_thread):
                history.add("user", f"{name}:{i}", {"thread": name})
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"t{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors
    db.close()
    with Database(tmp_path / "t.sqlite3") as db:
        records = ChatHistory(db).recent(limit=1000)
    assert len(records) == 4 * per_thread
    for n in range(4):  # each thread's messages are all there, in the order it wrote them
        mine = [r.content for r in records if r.meta["thread"] == f"t{n}"]
        assert mine == [f"t{n}:{i}" for i in range(per_thread)]


def test_a_garbage_file_is_reported_and_left_untouched(tmp_path):
    path = tmp_path / "jarvis.sqlite3"
    garbage = b"this is a text file, not SQLite\n" * 200
    path.write_bytes(garbage)
    with pytest.raises(BadInputError) as info:
        Database(path)
    message = info.value.user_message()
    assert str(path) in message
    assert "move" in message
    assert path.read_bytes() == garbage
    assert sorted(p.name for p in tmp_path.iterdir()) == ["jarvis.sqlite3"]  # no -wal/-shm left behind


def test_a_directory_path_is_bad_input(tmp_path):
    with pytest.raises(BadInputError, match="directory"):
        Database(tmp_path)


@pytest.fixture
def readonly_dir(tmp_path):
    """A directory nobody can write to: chmod for a normal user; a read-only tmpfs when running as root
    (root ignores permission bits)."""
    path = tmp_path / "readonly"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(path)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip("running as root without permission to mount a read-only filesystem")
    try:
        yield path
    finally:
        subprocess.run(["umount", str(path)], check=False)


def test_a_read_only_directory_gives_a_clear_error(readonly_dir):
    path = readonly_dir / "jarvis.sqlite3"
    with pytest.raises(JarvisError) as info:
        Database(path)
    assert not isinstance(info.value, BadInputError)
    message = info.value.user_message()
    assert str(path) in message
    assert "writable" in message


def test_a_full_disk_gives_a_clear_error_and_keeps_earlier_messages(tmp_path):
    with Database(tmp_path / "full.sqlite3") as db:
        history = ChatHistory(db)
        history.add("user", "kept")
        pages = db.query("PRAGMA page_count")[0][0]
        db.query(f"PRAGMA max_page_count = {pages + 2}")  # SQLite reports SQLITE_FULL past this size
        with pytest.raises(JarvisError, match="disk is full"):
            history.add("assistant", "x" * 200_000)
        assert [r.content for r in history.recent()] == ["kept"]
        history.add("user", "small enough")  # the connection is still usable
        assert history.count() == 2


def test_closed_database_raises_jarvis_error(tmp_path):
    db = Database(tmp_path / "x.sqlite3")
    db.close()
    db.close()  # twice is fine
    with pytest.raises(JarvisError, match="closed"):
        ChatHistory(db).recent()


def test_several_connections_opening_a_new_database_at_once_all_succeed(tmp_path):
    """The window's engine, its scheduler and the Training tab open the app database at start-up together; on a
    new file, switching to WAL or migrating can be refused at once as "locked" (2 of 40 rounds here before the
    retry): every open must succeed."""
    import threading

    for round_ in range(20):
        path = tmp_path / f"round{round_}" / "jarvis.sqlite3"
        errors: list[str] = []

        def open_close(path=path, errors=errors) -> None:
            try:
                Database(path, backups=None).close()
            except Exception as exc:  # the assertion below shows it
                errors.append(str(exc))

        threads = [threading.Thread(target=open_close) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == [], errors
