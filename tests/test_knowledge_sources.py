"""The knowledge index's sources (issue 15): the app's records kept in sync, folders indexed incrementally, the
background indexer (watchdog, pause/resume, the voice path's busy hook) and the ``index`` / ``search`` CLI.

Real SQLite files, real files in tmp, the real all-MiniLM-L6-v2 (one embedder for the module), the real Assistant
for a note made by command, the real CLI in subprocesses.
"""

from __future__ import annotations

import json
import os
import pty
import select
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cli_helpers import run_cli

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import EmbeddingSettings, Settings
from jarvis_desktop.knowledge.embedder import Embedder, load_embedder
from jarvis_desktop.knowledge.extract import MAX_FILE_BYTES
from jarvis_desktop.knowledge.index import KnowledgeIndex
from jarvis_desktop.knowledge.indexer import KnowledgeService
from jarvis_desktop.knowledge.types import IndexStatus
from jarvis_desktop.store.db import Database
from jarvis_desktop.store.notes import NoteStore
from jarvis_desktop.store.schedule import ScheduleStore

pytestmark = pytest.mark.slow

PLUMBER = "The plumber Marco comes on Thursday at 8 to replace the leaking boiler valve; he charges 90 euros."
LEASE = """# Flat lease

## Term

The lease of the flat on Rua Augusta ends on 31 March 2027. Notice must be given two months before.

## Rent

The monthly rent is 850 euros, paid on the first working day of each month.
"""
BREAD = "Sourdough bread: mix 500 g flour, 350 g water, 100 g starter and 10 g salt; proof overnight in the fridge."
GARDEN = "<html><body><h1>Garden</h1><p>Water the tomato plants every evening in July and August.</p></body></html>"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    emb = load_embedder(EmbeddingSettings())
    emb.load()
    return emb


@pytest.fixture()
def service(tmp_path: Path, embedder: Embedder) -> Iterator[KnowledgeService]:
    db = Database(tmp_path / "jarvis.sqlite3", backups=None)
    svc = KnowledgeService(db, Settings(), index=KnowledgeIndex(db, embedder))
    yield svc
    svc.stop()
    db.close()


def _tree(root: Path) -> Path:
    docs = root / "docs"
    (docs / "home").mkdir(parents=True)
    (docs / "home" / "lease.md").write_text(LEASE, encoding="utf-8")
    (docs / "bread.txt").write_text(BREAD, encoding="utf-8")
    (docs / "garden.html").write_text(GARDEN, encoding="utf-8")
    (docs / ".hidden").mkdir()
    (docs / ".hidden" / "secret.md").write_text("The hidden password is swordfish.", encoding="utf-8")
    (docs / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(200))
    return docs


def _paths(hits: list) -> list[str]:
    return [h.source_id for h in hits]


def _wait_for(check: Callable[[], bool], timeout: float = 10.0) -> float:
    """Seconds until ``check()`` held (polled every 0.1 s); fails the test after ``timeout``."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if check():
            return time.monotonic() - t0
        time.sleep(0.1)
    raise AssertionError(f"not within {timeout} s")


def test_note_made_by_command_is_found_by_meaning_and_leaves_when_deleted(tmp_path, monkeypatch, embedder):
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path / "home"))
    settings = Settings()
    settings.nlu.confirm_below = 0.0
    assistant = Assistant(settings, record_history=True)
    try:
        db = assistant.database()
        service = KnowledgeService(db, settings, index=KnowledgeIndex(db, embedder))
        service.sync_records()  # warm: nothing to index yet
        turn = assistant.ask_text("take a note the plumber comes on thursday to fix the boiler")
        assert turn.parse.intent == "note_create", turn.parse
        note = NoteStore(db).list()[0]
        t0 = time.perf_counter()
        report = service.sync_records()
        hits = service.search("when is the heating repair man visiting", k=3, kinds=["note"])
        seconds = time.perf_counter() - t0
        assert report.added >= 1
        assert _paths(hits)[0] == f"note:{note.id}"
        assert "plumber" in hits[0].text.lower()
        assert hits[0].created is not None
        assert seconds < 5.0, f"sync + search took {seconds:.2f} s"
        # the chat history of that turn (the command and Jarvis's reply) is searchable too
        assert service.search("plumber boiler", k=5, kinds=["chat"])
        # a second sync with nothing changed does nothing
        assert not service.sync_records().changed
        assistant.delete_note(note.id)
        assert service.sync_records().removed == 1
        assert f"note:{note.id}" not in _paths(service.search("plumber boiler thursday", k=10))
        # a cancelled schedule item leaves the index too
        item = ScheduleStore(db).add("reminder", "renew the passport", due_at=assistant.now())
        service.sync_records()
        assert f"schedule:{item.id}" in _paths(service.search("passport renewal", k=3, kinds=["schedule"]))
        ScheduleStore(db).cancel(item.id)
        service.sync_records()
        assert f"schedule:{item.id}" not in _paths(service.search("passport renewal", k=3))
    finally:
        assistant.close()


def test_folder_indexed_then_modified_and_deleted_files_follow(service: KnowledgeService, tmp_path):
    docs = _tree(tmp_path)
    seen: list[tuple[int, int]] = []
    status = service.add_folder(docs, progress=lambda done, total, path: seen.append((done, total)))
    assert status.folders == [str(docs.resolve())]
    assert status.files == 3  # lease.md, bread.txt, garden.html; not the hidden dir, not the .png
    assert seen and seen[-1] == (3, 3)
    lease = str((docs / "home" / "lease.md").resolve())
    hits = service.search("when does my rental agreement finish", k=3)
    assert hits[0].source_id == lease
    assert hits[0].location.heading.endswith("Term")
    assert not any("secret" in h.source_id for h in service.search("hidden password swordfish", k=5))
    # unchanged files are not indexed again
    assert service.index_folder(str(docs.resolve())) == 0
    # modified: the new text is found, the old is not
    bread = docs / "bread.txt"
    bread.write_text("Pizza dough: 1 kg flour, 650 g water, 2 g yeast, rest 48 hours.", encoding="utf-8")
    os.utime(bread, (time.time() + 5, time.time() + 5))
    assert service.index_folder(str(docs.resolve())) == 1
    top = service.search("pizza dough yeast", k=1)[0]
    assert top.source_id == str(bread.resolve()) and "Pizza" in top.text
    assert not any("Sourdough" in h.text for h in service.search("sourdough starter", k=5))
    # deleted: gone from results
    (docs / "garden.html").unlink()
    service.index_folder(str(docs.resolve()))
    assert str((docs / "garden.html").resolve()) not in _paths(service.search("watering tomato plants", k=5))
    assert service.status().files == 2
    # removing the folder empties it from the index
    assert service.remove_folder(docs) == 2
    assert service.status().files == 0 and service.status().folders == []


def test_binary_huge_and_malformed_files_are_skipped_with_reasons(service: KnowledgeService, tmp_path):
    docs = _tree(tmp_path)
    (docs / "binary.txt").write_bytes(os.urandom(4096) + b"\x00" * 64)
    with open(docs / "huge.md", "wb") as f:  # sparse: no 20 MB written
        f.truncate(MAX_FILE_BYTES + 1)
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\n this is not really a pdf \x00\x01")
    status = service.add_folder(docs)
    reasons = {Path(p.path).name: p.reason for p in status.problems}
    assert set(reasons) >= {"binary.txt", "huge.md", "broken.pdf"}, reasons
    assert "large" in reasons["huge.md"]
    assert "binary" in reasons["binary.txt"].lower()
    assert status.files == 3  # the good ones are all there
    # kept across processes (the CLI's status reads them), and not retried while unchanged
    again = KnowledgeService(service.db, Settings(), index=service.index)
    assert {Path(p.path).name for p in again.status().problems} >= {"binary.txt", "huge.md", "broken.pdf"}
    # a skipped file fixed by the user is indexed at the next pass and leaves the problem list
    (docs / "binary.txt").write_text("Binary no more: the boiler pressure should be 1.5 bar.", encoding="utf-8")
    service.index_folder(str(docs.resolve()))
    assert "binary.txt" not in {Path(p.path).name for p in service.status().problems}
    assert service.search("boiler pressure bar", k=1)[0].source_id.endswith("binary.txt")


def test_background_indexer_watches_pauses_and_yields(service: KnowledgeService, tmp_path):
    docs = _tree(tmp_path)
    service.index.add_folder(str(docs.resolve()))  # known but not yet indexed: the start-up scan does it
    statuses: list[IndexStatus] = []
    busy = {"on": False}
    service.busy = lambda: busy["on"]
    service.start_background(statuses.append)
    _wait_for(lambda: service.status().files == 3 and service.status().pending == 0, 30)
    assert statuses and statuses[-1].files == 3
    # a new file is picked up by watchdog within a few seconds
    new = docs / "home" / "insurance.md"
    new.write_text("# Insurance\n\nThe home insurance policy number is HX-4471, renewal in May.", encoding="utf-8")
    seconds = _wait_for(lambda: str(new.resolve()) in _paths(service.search("insurance policy renewal", k=3)), 10)
    assert seconds < 5
    # a deleted file leaves the index
    (docs / "bread.txt").unlink()
    _wait_for(lambda: str((docs / "bread.txt").resolve()) not in service.index.known("file"), 10)
    # paused: changes wait; resumed: indexed
    service.pause()
    assert service.status().paused
    late = docs / "late.txt"
    late.write_text("The car's next service is due at 60,000 km.", encoding="utf-8")
    time.sleep(2.0)
    assert str(late.resolve()) not in service.index.known("file")
    assert service.status().pending == 1
    service.resume()
    _wait_for(lambda: str(late.resolve()) in service.index.known("file"), 10)
    # the voice path is busy: nothing new starts until it is done
    busy["on"] = True
    during = docs / "during.txt"
    during.write_text("The dentist appointment moved to the 14th.", encoding="utf-8")
    time.sleep(2.0)
    assert str(during.resolve()) not in service.index.known("file")
    busy["on"] = False
    _wait_for(lambda: str(during.resolve()) in service.index.known("file"), 10)
    # request_sync: a record added while running is indexed by the background thread
    note = NoteStore(service.db).add("Grandma's birthday present: a blue wool scarf.")
    service.request_sync()
    _wait_for(lambda: f"note:{note.id}" in service.index.known("note"), 10)
    service.stop()
    assert not service.running


def _cli(home: Path, *args: str):
    return run_cli(*args, env={"JARVIS_DESKTOP_HOME": str(home)}, timeout=300)


def test_cli_index_and_search(tmp_path):
    home = tmp_path / "home"
    docs = _tree(tmp_path)
    (docs / "binary.txt").write_bytes(b"\x00\x01\x02" * 500)

    missing = _cli(home, "index", "add", str(tmp_path / "nope"))
    assert missing.returncode == 2 and missing.stderr.startswith("error:") and "no such folder" in missing.stderr
    assert _cli(home, "index", "add", str(docs / "bread.txt")).returncode == 2  # a file, not a folder

    added = _cli(home, "index", "add", str(docs))
    assert added.returncode == 0, added.stderr
    assert "binary.txt" in added.stdout  # skipped, with its reason
    assert "\r" not in added.stderr  # no progress bar when stderr is not a terminal

    status = _cli(home, "index", "status", "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["folders"] == [str(docs.resolve())] and data["files"] == 3 and data["chunks"] >= 3
    assert data["vectors"] is True
    assert any(p["path"].endswith("binary.txt") and p["reason"] for p in data["problems"])

    found = _cli(home, "search", "when does my rental agreement finish", "--k", "2", "--json")
    assert found.returncode == 0, found.stderr
    rows = json.loads(found.stdout)
    assert len(rows) == 2
    assert {"path", "score", "snippet", "location"} <= set(rows[0])
    assert rows[0]["path"] == str((docs / "home" / "lease.md").resolve())
    assert set(rows[0]["location"]) == {"page", "heading", "line"}
    assert isinstance(rows[0]["score"], float) and rows[0]["snippet"]

    text = _cli(home, "search", "sourdough", "starter")
    assert text.returncode == 0 and "bread.txt" in text.stdout

    assert _cli(home, "search", " ").returncode == 2
    assert _cli(home, "search", "bread", "--k", "0").returncode == 2
    assert _cli(home, "index", "remove", str(tmp_path / "elsewhere")).returncode == 2

    rebuilt = _cli(home, "index", "rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert json.loads(_cli(home, "index", "status", "--json").stdout)["files"] == 3

    removed = _cli(home, "index", "remove", str(docs))
    assert removed.returncode == 0, removed.stderr
    after = json.loads(_cli(home, "search", "rental agreement", "--json").stdout)
    assert not [r for r in after if r["path"].startswith(str(tmp_path))]


def test_damaged_index_is_rebuilt_from_the_sources(tmp_path, embedder):
    docs = _tree(tmp_path)
    path = tmp_path / "jarvis.sqlite3"
    db = Database(path, backups=None)
    service = KnowledgeService(db, Settings(), index=KnowledgeIndex(db, embedder))
    service.add_folder(docs)
    note = NoteStore(db).add("The spare key is under the blue flower pot.")
    service.sync_records()
    db.close()
    raw = sqlite3.connect(path)  # damage: the chunks table is gone
    raw.execute("DROP TABLE knowledge_chunks")
    raw.commit()
    raw.close()
    db = Database(path, backups=None)
    try:
        service = KnowledgeService(db, Settings(), index=KnowledgeIndex(db, embedder))
        assert service.index.rebuilt  # found damaged and emptied at open
        hits = service.search("where is the spare key hidden", k=3)  # re-read from the folders and records first
        assert _paths(hits)[0] == f"note:{note.id}"
        assert service.search("rental agreement end", k=1)[0].source_id.endswith("lease.md")
        assert service.status().files == 3
    finally:
        db.close()


def test_cli_index_add_shows_a_progress_bar_on_a_terminal(tmp_path):
    docs = _tree(tmp_path)
    leader, follower = pty.openpty()
    env = dict(os.environ, JARVIS_DESKTOP_HOME=str(tmp_path / "home"))
    proc = subprocess.run(
        [sys.executable, "-m", "jarvis_desktop", "index", "add", str(docs)],
        stdout=subprocess.PIPE,
        stderr=follower,
        env=env,
        timeout=300,
    )
    os.close(follower)
    shown = b""
    while select.select([leader], [], [], 0.5)[0]:
        try:
            data = os.read(leader, 65536)
        except OSError:
            break
        if not data:
            break
        shown += data
    os.close(leader)
    assert proc.returncode == 0
    assert b"indexing" in shown and b"3/3" in shown, shown[-500:]
    assert b"indexed" in proc.stdout
