"""Grounded answers (issue 15): a question the user's notes or files answer is answered from them with numbered
citations; an unrelated question gets none; an invented citation never reaches the user. Real database, real index
(all-MiniLM-L6-v2 embeddings + FTS5), the real embedded chat model (SmolLM2-135M via llama.cpp)."""

from __future__ import annotations

import re

import pytest

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import Settings
from jarvis_desktop.knowledge.answer import (
    CitationStream,
    check_citations,
    grounded_user_message,
    select_citations,
    spoken_label,
)
from jarvis_desktop.llm.context import estimate_tokens

pytestmark = pytest.mark.slow

LEASE = """# Lease agreement

## Term
The lease starts on 1 September 2025 and ends on 31 August 2027. Either party may give notice three months
before the end.

## Rent
The monthly rent is 1,150 euros, due on the first working day of each month.
"""


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    home = tmp_path_factory.mktemp("knowledge-home")
    mp = pytest.MonkeyPatch()
    mp.setenv("JARVIS_DESKTOP_HOME", str(home))
    settings = Settings()
    settings.chat.max_tokens = 48  # short answers keep the tests quick
    settings.nlu.confirm_below = 0.0  # the note command acts at once
    a = Assistant(settings)
    docs = home / "docs"
    docs.mkdir()
    (docs / "lease.md").write_text(LEASE, encoding="utf-8")
    a.knowledge.add_folder(docs)
    turn = a.ask_text("take a note: the plumber Marco comes on Thursday at 8 am to fix the leaking kitchen tap")
    assert turn.parse.intent == "note_create" and turn.reply.kind == "done", turn.reply.text
    yield a
    a.close()
    mp.undo()


def test_a_question_answered_by_a_note_cites_the_note(assistant):
    reply = assistant.chat_reply("what did I note about the plumber?")
    assert reply.citations, reply.text
    first = reply.citations[0]
    assert first.hit.kind == "note" and "plumber" in first.hit.text
    assert first.label.startswith("your note of ")
    assert spoken_label(first).startswith("from your note of ")
    assert reply.text.endswith(".") and "From your note of" in reply.text  # the short spoken citation
    numbers = {c.number for c in reply.citations}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", reply.text)} <= numbers  # only real citations
    shown = reply.to_dict()["citations"][0]
    assert shown["number"] == 1 and shown["source_id"].startswith("note:") and shown["path"] is None


def test_a_question_answered_by_a_file_cites_the_file_and_its_place(assistant, tmp_path):
    reply = assistant.chat_reply("according to my documents, when does the lease end?")
    assert reply.citations, reply.text
    first = reply.citations[0]
    assert first.hit.source_id.endswith("lease.md")
    assert first.hit.location.line is not None and "Term" in first.hit.location.heading
    assert first.label.startswith("lease.md, line ")
    data = reply.to_dict()["citations"][0]
    assert data["path"].endswith("lease.md") and data["location"]["line"] == first.hit.location.line


def test_an_unrelated_question_gets_no_citation(assistant):
    reply = assistant.chat_reply("tell me a joke about penguins")
    assert reply.citations == []
    assert not re.search(r"\[\d+\]", reply.text)
    assert "From your" not in reply.text


def test_an_invented_citation_is_removed_and_real_ones_kept(assistant):
    question = "when is the plumber coming?"
    citations = select_citations(assistant.knowledge.search(question, k=5), question=question)
    assert [c.number for c in citations][:1] == [1]
    answer = "Marco comes on Thursday at 8 am [1][7]. He fixes the tap [7]."
    assert check_citations(answer, citations) == "Marco comes on Thursday at 8 am [1]. He fixes the tap."
    stream = CitationStream(citations)
    streamed = "".join(stream.feed(piece) for piece in ["Marco comes [", "1", "] on Thursday [", "7", "]."])
    assert streamed + stream.flush() == "Marco comes [1] on Thursday ."


def test_the_grounded_prompt_stays_within_the_token_limit(assistant):
    question = "when does the lease end and how much is the rent?"
    citations = select_citations(assistant.knowledge.search(question, k=5), question=question, threshold=-1.0)
    assert len(citations) >= 2
    message = grounded_user_message(question, citations, estimate_tokens, limit=120)
    assert estimate_tokens(message) <= 120
    assert message.startswith("Passages:\n[1] (") and message.endswith(f"Question: {question}")


def test_an_earlier_grounded_answer_is_never_cited_in_place_of_its_source(assistant):
    first = assistant.ask_text("what did I note about the plumber?").reply
    assert first.citations, first.text
    again = assistant.ask_text("what did I note about the plumber?").reply  # the first answer is now indexed too
    assert again.citations and again.citations[0].hit.kind == "note", [c.hit.source_id for c in again.citations]
    chat_ids = [int(c.hit.source_id.split(":")[1]) for c in again.citations if c.hit.kind == "chat"]
    assert assistant.history.citations(chat_ids) == {}  # no cited message is itself a grounded answer
