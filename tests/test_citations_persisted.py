"""The sources of a grounded answer are kept with it (issue 15): stored in SQLite with the message (migration 7),
loaded with the history after a restart, exported, answered again from the same passages by Regenerate and
Continue (same numbers, never an invented one), and a short follow-up ("and when is it due?") of a grounded answer
is grounded on the same source. Real SQLite file, real index (all-MiniLM-L6-v2 + FTS5), the real embedded chat
model (SmolLM2-135M via llama.cpp); one Assistant for the module (a restart is a second one on the same file)."""

from __future__ import annotations

import json
import re

import pytest

from jarvis_desktop.assistant import Assistant, citation_from_record, citation_record, is_follow_up
from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.knowledge.answer import spoken_sources
from jarvis_desktop.store.db import MIGRATIONS, Database
from jarvis_desktop.store.history import ChatHistory, CitationRecord
from jarvis_desktop.voice.events import ReplyEvent

LEASE = """# Lease agreement

## Term
The lease starts on 1 September 2025 and ends on 31 August 2027. Either party may give notice three months
before the end.

## Rent
The monthly rent is 1,150 euros, due on the first working day of each month. The deposit is two months' rent.
"""

LEASE_QUESTION = "according to my documents, when does the lease end?"


def _settings() -> Settings:
    settings = Settings()
    settings.chat.max_tokens = 48  # short answers keep the tests quick
    settings.nlu.confirm_below = 0.0  # the note command acts at once
    return settings


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    home = tmp_path_factory.mktemp("citations-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("JARVIS_DESKTOP_HOME", str(home))
    a = Assistant(_settings())
    docs = home / "docs"
    docs.mkdir()
    (docs / "lease.md").write_text(LEASE, encoding="utf-8")
    a.knowledge.add_folder(docs)
    turn = a.ask_text("take a note: the plumber Marco comes on Thursday at 8 am to fix the leaking kitchen tap")
    assert turn.parse.intent == "note_create" and turn.reply.kind == "done", turn.reply.text
    yield a
    a.close()
    mp.undo()


def _numbers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


@pytest.mark.slow
def test_a_grounded_answer_keeps_its_sources_after_a_restart_and_in_the_export(assistant, tmp_path):
    assistant.new_conversation()
    turn = assistant.ask_text(LEASE_QUESTION)
    reply = turn.reply
    assert reply.citations and reply.message_id is not None, reply.text
    first = reply.citations[0]
    assert first.hit.source_id.endswith("lease.md") and first.hit.location.line is not None

    restarted = Assistant(_settings())  # a second process on the same file: only the database is opened
    try:
        records = restarted.switch_conversation(assistant.current_conversation())
        answer = records[-1]
        assert answer.id == reply.message_id and answer.role == "assistant"
        assert [c.number for c in answer.citations] == [c.number for c in reply.citations]
        back = [citation_from_record(c) for c in answer.citations]
        assert [c.label for c in back] == [c.label for c in reply.citations]
        assert back[0].hit.source_id == first.hit.source_id and back[0].hit.location == first.hit.location
        assert back[0].hit.text == first.hit.text  # the passage as the model was given it
        assert answer.meta["sources_sentence"] == spoken_sources(reply.citations)
        assert reply.text.endswith(answer.meta["sources_sentence"])
        assert records[-2].citations == ()  # the question has none

        path = restarted.export_conversation(assistant.current_conversation(), tmp_path / "lease.json")
        data = json.loads(path.read_text(encoding="utf-8"))
        exported = data["messages"][-1]["citations"]
        assert exported[0]["number"] == 1 and exported[0]["path"].endswith("lease.md")
        assert exported[0]["location"]["line"] == first.hit.location.line
        md = restarted.export_conversation(assistant.current_conversation(), tmp_path / "lease.md").read_text()
        assert f"[1] {first.label}" in md
    finally:
        restarted.close()


@pytest.mark.slow
def test_regenerate_answers_again_from_the_same_numbered_sources(assistant):
    assistant.new_conversation()
    before = assistant.ask_text(LEASE_QUESTION).reply
    assert before.citations, before.text
    turn = assistant.regenerate()
    after = turn.reply
    assert [(c.number, c.label, c.hit.source_id) for c in after.citations] == [
        (c.number, c.label, c.hit.source_id) for c in before.citations
    ]
    assert _numbers(after.text) <= {c.number for c in after.citations}
    db = assistant.database()
    assert not db.query("SELECT 1 FROM message_citations WHERE message_id = ?", (before.message_id,))  # deleted
    stored = assistant.history.get(after.message_id)
    assert stored is not None and [c.number for c in stored.citations] == [c.number for c in after.citations]


@pytest.mark.slow
def test_continue_goes_on_from_the_same_passages_and_keeps_the_numbering(assistant):
    assistant.new_conversation()
    cap = assistant.settings.chat.max_tokens
    assistant.settings.chat.max_tokens = 6  # cut at once
    try:
        cut = assistant.ask_text(LEASE_QUESTION).reply
    finally:
        assistant.settings.chat.max_tokens = cap
    assert cut.citations and cut.cut_off, (cut.text, cut.citations)
    sentence = spoken_sources(cut.citations)
    assert cut.text.endswith(sentence)
    pieces: list[str] = []
    turn = assistant.continue_reply(on_token=pieces.append)
    done = turn.reply
    assert [(c.number, c.label) for c in done.citations] == [(c.number, c.label) for c in cut.citations]
    assert done.text.endswith(sentence) and done.text.count(sentence) == 1  # the sources sentence moved to the end
    assert done.text.startswith(cut.text.removesuffix(sentence).rstrip())
    assert _numbers(done.text) <= {c.number for c in cut.citations}  # never an invented citation
    assert _numbers("".join(pieces)) <= {c.number for c in cut.citations}
    assert "".join(pieces).endswith(sentence)
    stored = assistant.history.get(done.message_id)
    assert stored is not None and stored.content == done.text and len(stored.citations) == len(cut.citations)


@pytest.mark.slow
def test_a_follow_up_of_a_grounded_answer_is_grounded_on_the_same_source(assistant):
    assistant.new_conversation()
    follow_up = "what about the deposit?"
    assert assistant.knowledge_citations(follow_up) == []  # alone it finds nothing: the case this is for
    first = assistant.ask_text("what is the rent?").reply
    assert first.citations and first.citations[0].hit.source_id.endswith("lease.md"), first.text
    reply = assistant.ask_text(follow_up).reply
    assert reply.citations and reply.citations[0].hit.source_id.endswith("lease.md"), reply.text
    assert reply.grounded_question == f"what is the rent? {follow_up}"
    stored = assistant.history.get(reply.message_id)
    assert stored is not None and stored.meta["grounded_question"] == reply.grounded_question
    unrelated = assistant.ask_text("how do I make pancakes?").reply  # no back reference: searched alone
    assert unrelated.citations == [] and unrelated.grounded_question == ""


def test_is_follow_up():
    assert is_follow_up("and when does it end?") and is_follow_up("what about the rent?")
    assert is_follow_up("where is that?")
    assert not is_follow_up("how do I make pancakes?")
    assert not is_follow_up("and can you tell me everything there is to know about the history of Rome?")


def test_the_citations_table_is_written_read_and_deleted_with_its_message(tmp_path):
    db = Database(tmp_path / "jarvis.sqlite3", backups=None)
    try:
        assert db.user_version == len(MIGRATIONS)
        history = ChatHistory(db)
        db.execute("INSERT INTO conversations (title, created_at, updated_at) VALUES ('t', '2026-01-01', '2026-01-01')")
        cited = [
            CitationRecord(1, "lease.pdf, page 3", "file", "/docs/lease.pdf", "Lease", "The lease ends ...", page=3),
            CitationRecord(2, "your note of March 3", "note", "note:7", "plumber", "Marco comes ..."),
        ]
        question = history.add("user", "when does the lease end?", conversation_id=1)
        answer = history.add("assistant", "In 2027 [1].", conversation_id=1, citations=cited)
        assert history.get(answer) is not None and history.get(answer).citations == tuple(cited)
        assert history.recent(10, 1)[0].citations == ()
        back = citation_from_record(cited[0])
        assert back.hit.location.page == 3 and citation_record(back) == cited[0]
        with pytest.raises(BadInputError):
            history.add("assistant", "x", conversation_id=1, citations=[cited[0], cited[0]])
        history.set_citations(answer, cited[:1])
        assert len(history.get(answer).citations) == 1
        history.delete_from(question)
        assert db.query("SELECT COUNT(*) FROM message_citations")[0][0] == 0
    finally:
        db.close()


def test_a_reply_event_carries_the_citations_as_json():
    record = CitationRecord(1, "notes.md, line 12", "file", "/docs/notes.md", "Notes", "text", line=12)
    event = ReplyEvent(1.5, 200.0, text="Yes [1].", reply_kind="chat", citations=(citation_from_record(record),))
    data = json.loads(json.dumps(event.to_dict()))
    assert data["event"] == "reply" and data["citations"][0]["location"]["line"] == 12
    assert data["citations"][0]["path"] == "/docs/notes.md"
