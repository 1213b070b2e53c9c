"""The Knowledge tab and the sources under a grounded reply (issue 15), offscreen Qt (pytest-qt), a real index on a
real database (FTS5 keyword search: the tab's own behaviour does not depend on vectors, and loading torch here would
cost seconds), real files; the window test runs the real models (all-MiniLM-L6-v2 included)."""

from __future__ import annotations

import re

import pytest
from helpers_window import make_home, shown_window

from jarvis_desktop.config import Settings
from jarvis_desktop.knowledge.index import KnowledgeIndex
from jarvis_desktop.knowledge.indexer import KnowledgeService
from jarvis_desktop.store.db import Database
from jarvis_desktop.ui.knowledge_tab import KnowledgeController, KnowledgeTab, SourcesList

pytestmark = pytest.mark.slow

WAIT_MS = 120_000


@pytest.fixture
def service(tmp_path):
    db = Database(tmp_path / "knowledge.sqlite3", backups=None)
    svc = KnowledgeService(db, Settings(), index=KnowledgeIndex(db, None))
    yield svc
    svc.stop()
    db.close()


@pytest.fixture
def folder(tmp_path):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "lease.md").write_text(
        "# Lease\n\n## Term\nThe lease ends on 31 August 2027; notice is three months.\n", encoding="utf-8"
    )
    (docs / "boiler.txt").write_text("The boiler is serviced every October by Northwind Heating.\n", encoding="utf-8")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf\n")
    return docs


def test_the_tab_lists_a_folder_its_status_and_skipped_files(qtbot, service, folder, tmp_path):
    tab = KnowledgeTab(KnowledgeController(background=True))
    qtbot.addWidget(tab)
    tab.controller.set_service(service)
    tab.add_folder(str(folder))
    qtbot.waitUntil(
        lambda: tab.last_status is not None and tab.last_status.files == 2 and tab.last_status.pending == 0,
        timeout=WAIT_MS,
    )
    assert tab.folders() == [str(folder)] and tab.folders_hint.isHidden()
    figures = {name: figure.value.text() for name, figure in tab.figures.items()}
    assert figures["files"] == "2" and int(figures["chunks"]) >= 2 and figures["updated"].startswith("today ")
    assert figures["search"] == "words only" and "Up to date" in tab.status_text()
    assert tab.problem_texts() == [f"broken.pdf — {service.status().problems[0].reason} · {folder}"]
    assert tab.problems_label.text().startswith("Skipped files (1)") and not tab.problem_list.isHidden()

    tab.pause_button.click()
    qtbot.waitUntil(lambda: tab.last_status is not None and tab.last_status.paused, timeout=WAIT_MS)
    assert "Paused: new and changed files wait" in tab.status_text() and tab.pause_button.text() == "Resume indexing"

    # a folder added while the indexer runs (paused): queued for the same indexer, which stays paused
    indexer = service._thread
    more = tmp_path / "more"
    more.mkdir()
    for n in range(3):
        (more / f"recipe{n}.md").write_text(f"# Recipe {n}\n\nKnead the dough {n} times.\n", encoding="utf-8")
    tab.add_folder(str(more))
    qtbot.waitUntil(lambda: tab.last_status is not None and len(tab.last_status.folders) == 2, timeout=WAIT_MS)
    assert tab.last_status.pending == 3 and tab.last_status.paused and tab.last_status.files == 2
    assert tab.status_text().endswith("Paused: 3 files waiting (0 of 3 files done)") and not tab.progress.isHidden()
    assert tab.pause_button.text() == "Resume indexing"
    assert service._thread is indexer and indexer.is_alive()  # not restarted

    tab.pause_button.click()
    qtbot.waitUntil(lambda: tab.last_status is not None and tab.last_status.files == 5, timeout=WAIT_MS)
    qtbot.waitUntil(lambda: tab.last_status is not None and tab.last_status.pending == 0, timeout=WAIT_MS)
    assert not tab.last_status.paused and service._thread is indexer

    tab.remove_folder(str(folder))
    qtbot.waitUntil(lambda: tab.last_status is not None and tab.last_status.files == 3, timeout=WAIT_MS)
    assert tab.folders() == [str(more)] and tab.problem_texts() == [] and service._thread is indexer
    assert tab.problems_label.text() == "Skipped files: none" and tab.progress.isHidden()
    tab.controller.close()


def test_search_shows_snippets_and_a_bad_folder_says_why(qtbot, service, folder):
    tab = KnowledgeTab(KnowledgeController(background=False))
    qtbot.addWidget(tab)
    assert tab.result_texts() == [] and "press Enter" in tab.result_view.toPlainText()  # what to do, before a search
    tab.controller.set_service(service)
    with qtbot.waitSignal(tab.status_shown, timeout=WAIT_MS):
        tab.controller.refresh()
    assert not tab.folders_hint.isHidden() and "No folders yet" in tab.folders_hint.text()
    assert tab.figures["updated"].value.text() == "—" and "Nothing indexed yet" in tab.status_text()
    with qtbot.waitSignal(tab.status_shown, timeout=WAIT_MS, check_params_cb=lambda s: s.files == 2):
        tab.add_folder(str(folder))
    with qtbot.waitSignal(tab.results_shown, timeout=WAIT_MS):
        tab.search("who services the boiler?")
    first = tab.result_texts()[0]
    assert first.startswith("boiler.txt · line 1\n") and "Northwind Heating" in first.split("\n", 1)[1]
    assert tab.last_results[0].source_id == str(folder / "boiler.txt")
    assert re.search(r'font-weight:\s*[6-9]00;">boiler</span>', tab.result_view.toHtml())  # the query's word, bold
    with qtbot.waitSignal(tab.results_shown, timeout=WAIT_MS):
        tab.search("zebra quokka")
    assert tab.result_texts() == ["Nothing found for “zebra quokka”."]

    tab.add_folder(str(folder / "missing"))
    qtbot.waitUntil(lambda: "no such folder" in tab.error_label.text(), timeout=WAIT_MS)
    assert not tab.error_label.isHidden()
    tab.controller.close()


def test_a_grounded_reply_shows_its_numbered_sources(qtbot, tmp_path, monkeypatch):
    make_home(tmp_path, monkeypatch, "[chat]\nmax_tokens = 32\n[nlu]\nconfirm_below = 0.0\n")
    window = shown_window(qtbot)
    try:
        with qtbot.waitSignal(window.turn_finished, timeout=WAIT_MS):
            assert window.submit_text("take a note: the plumber Marco comes on Thursday at 8 am to fix the kitchen tap")
        qtbot.waitUntil(lambda: not window.busy, timeout=WAIT_MS)
        with qtbot.waitSignal(window.turn_finished, timeout=WAIT_MS) as blocker:
            assert window.submit_text("what did I note about the plumber?")
        turn = blocker.args[0]
        assert turn.parse.intent == "general_chat" and turn.reply.citations, turn.reply.text
        bubble = window.chat.bubbles[-1]
        shown = bubble.findChildren(SourcesList)
        assert len(shown) == 1 and shown[0].labels()[0].startswith("[1] your note of ")
        sources = shown[0]
        qtbot.waitUntil(lambda: not window.busy, timeout=WAIT_MS)
        sources.buttons[0].click()  # a note source switches to the Notes tab with the note selected
        assert window.tabs.currentWidget() is window.notes_view
        qtbot.waitUntil(lambda: window.notes_view.list.currentItem() is not None, timeout=WAIT_MS)
        assert "plumber" in window.notes_view.list.currentItem().text()
    finally:
        window.shutdown()
