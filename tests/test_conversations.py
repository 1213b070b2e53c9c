"""Conversations: kept in SQLite, switched, searched, exported; what reaches the chat model; regenerate, edit,
continue; a long paste. Real database files and the real embedded chat model (SmolLM2-135M via llama.cpp)."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

import pytest

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.config import Settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.llm.context import cut_middle, estimate_tokens, fit_context
from jarvis_desktop.store.conversations import Conversations, title_from_text
from jarvis_desktop.store.db import MIGRATIONS, Database
from jarvis_desktop.store.history import ChatHistory

NOW = datetime(2026, 12, 7, 10, 0)


@pytest.fixture
def assistant(tmp_path, monkeypatch):
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path))
    settings = Settings()
    settings.chat.max_tokens = 24  # short answers keep the tests fast
    a = Assistant(settings)
    yield a
    a.close()


def test_messages_written_before_conversations_existed_become_one_earlier_chat(tmp_path):
    path = tmp_path / "old.sqlite3"
    with Database(path, migrations=MIGRATIONS[:3]) as old:
        old.insert(
            "INSERT INTO chat_messages (role, content, created_at) VALUES ('user', 'hi', '2026-11-01T10:00:00+00:00')"
        )
        old.insert(
            "INSERT INTO chat_messages (role, content, created_at) VALUES ('assistant', 'hello', "
            "'2026-11-01T10:00:01+00:00')"
        )
    with Database(path) as db:
        [earlier] = Conversations(db).list()
        assert earlier.title == "Earlier chat" and earlier.message_count == 2
        assert [r.content for r in ChatHistory(db).recent(conversation_id=earlier.id)] == ["hi", "hello"]
    with Database(tmp_path / "fresh.sqlite3") as db:
        assert Conversations(db).list() == []  # no old messages: no empty "Earlier chat"


def test_conversations_are_listed_searched_renamed_and_deleted_with_their_messages(tmp_path):
    with Database(tmp_path / "c.sqlite3") as db:
        conversations, history = Conversations(db), ChatHistory(db)
        trip = conversations.create()
        history.add("user", "Plan a weekend in Lisbon with a 100% budget_cap", conversation_id=trip)
        conversations.title_if_blank(trip, "Plan a weekend in Lisbon with a 100% budget_cap")
        code = conversations.create("Python help")
        history.add("user", "how do decorators work", conversation_id=code)
        assert [c.id for c in conversations.list()] == [code, trip]  # most recently used first
        assert [c.id for c in conversations.list("LISBON")] == [trip]  # title, any case
        assert [c.id for c in conversations.list("decorators")] == [code]  # message text
        assert [c.id for c in conversations.list("100%")] == [trip]  # LIKE wildcards are literal
        assert conversations.list("_cap") and not conversations.list("x_y")
        conversations.rename(code, "  Decorators  ")
        assert conversations.require(code).title == "Decorators"
        with pytest.raises(BadInputError, match="empty"):
            conversations.rename(code, "   ")
        assert conversations.delete(trip) == 1
        assert history.recent(conversation_id=trip) == [] and conversations.get(trip) is None
        with pytest.raises(BadInputError, match="no conversation"):
            conversations.delete(trip)
        with pytest.raises(BadInputError, match="no conversation"):
            history.add("user", "lost?", conversation_id=trip)


def test_automatic_titles_are_short_and_end_on_a_word():
    assert title_from_text("  what is a transformer\nand more") == "what is a transformer"
    long = title_from_text("write an email to my landlord about the broken heater in the flat upstairs")
    assert long.endswith("...") and len(long) <= 51 and " broken" in long
    assert title_from_text("   ") == "New chat"


def test_commands_and_their_replies_never_reach_the_chat_model(assistant):
    assistant.ask_text("take a note: buy milk", now=NOW)
    assistant.ask_text("what's the capital of france", now=NOW)
    assistant.ask_text("set a timer for ten minutes", now=NOW)
    messages = assistant.chat_messages("translate good morning into french")
    contents = " ".join(m["content"] for m in messages)
    assert "capital of france" in contents
    assert "milk" not in contents and "Noted" not in contents and "timer" not in contents.lower()
    assert [m["role"] for m in messages] == ["user", "assistant", "user"]


def test_a_new_chat_starts_without_the_old_context_and_switching_back_restores_it(assistant):
    first_turn = assistant.ask_text("my cat Miso is shy, how can I help her relax", now=NOW)
    first = assistant.current_conversation()
    second = assistant.new_conversation()
    assert second != first
    assert assistant.new_conversation() == second  # an empty chat is reused, not piled up
    assert assistant.chat_messages("what is my cat called") == [{"role": "user", "content": "what is my cat called"}]
    restored = assistant.switch_conversation(first)
    assert [r.content for r in restored] == ["my cat Miso is shy, how can I help her relax", first_turn.reply.text]
    assert "Miso" in assistant.chat_messages("what is my cat called")[0]["content"]
    titles = {c.id: c.title for c in assistant.list_conversations()}
    assert titles[first] == "my cat Miso is shy, how can I help her relax"
    assert assistant.delete_conversation(first) == 2
    assert assistant.current_conversation() == second


def test_export_writes_markdown_and_json_and_refuses_other_files(assistant, tmp_path):
    assistant.ask_text("what is a haiku", now=NOW)
    assistant.ask_text("take a note: haiku about rain", now=NOW)
    conversation = assistant.current_conversation()
    md = assistant.export_conversation(conversation, tmp_path / "chat.md").read_text(encoding="utf-8")
    assert md.startswith("# what is a haiku") and "**You**" in md and "**Jarvis** [note_create]" in md
    data = json.loads(assistant.export_conversation(conversation, tmp_path / "chat.json").read_text("utf-8"))
    assert [m["role"] for m in data["messages"]] == ["user", "assistant", "user", "assistant"]
    assert data["messages"][3]["intent"] == "note_create" and data["title"] == "what is a haiku"
    with pytest.raises(BadInputError, match=r"\.md or \.json"):
        assistant.export_conversation(conversation, tmp_path / "chat.pdf")
    with pytest.raises(JarvisError, match="cannot write"):
        assistant.export_conversation(conversation, tmp_path / "missing-dir" / "chat.md")


def test_regenerate_replaces_the_last_answer(assistant):
    first = assistant.ask_text("tell me a fun fact about owls", now=NOW)
    again = assistant.regenerate()
    messages = assistant.conversation_messages()
    assert len(messages) == 2 and messages[1].id == again.reply.message_id != first.reply.message_id
    assert messages[1].content == again.reply.text and again.reply.text
    assistant.ask_text("take a note: owls", now=NOW)
    with pytest.raises(BadInputError, match="action"):
        assistant.regenerate()


def test_edit_and_resend_replaces_the_question_and_what_followed(assistant):
    asked = assistant.ask_text("what is the tallest mountain", now=NOW)
    assistant.ask_text("and the second tallest", now=NOW)
    user_id = asked.reply.message_id - 1
    turn = assistant.edit_and_resend(user_id, "what is the longest river")
    contents = [r.content for r in assistant.conversation_messages()]
    assert contents == ["what is the longest river", turn.reply.text]
    with pytest.raises(BadInputError, match="no message of yours"):
        assistant.edit_and_resend(turn.reply.message_id, "not a user message")


def test_an_answer_cut_at_the_length_cap_is_marked_and_can_be_continued(assistant):
    assistant.settings.chat.max_tokens = 8
    turn = assistant.ask_text("explain in detail how a bicycle gear system works", now=NOW)
    assert turn.reply.cut_off and turn.reply.stats.completion_tokens >= 8
    stored = assistant.conversation_messages()[-1]
    assert stored.meta["cut_off"] is True
    more = assistant.continue_reply()
    assert more.reply.message_id == stored.id and more.reply.text.startswith(turn.reply.text)
    assert len(more.reply.text) > len(turn.reply.text)
    assert assistant.conversation_messages()[-1].content == more.reply.text


def test_a_long_paste_is_cut_with_a_notice_and_later_questions_stay_short(assistant):
    line = "Line {}: the quarterly figures for region {} rose by {} percent."
    paste = " ".join(line.format(i, i % 7, i % 13) for i in range(120))
    assert len(paste) > 5000
    turn = assistant.ask_text(f"summarise this report: {paste}", now=NOW)
    assert "left out" in turn.reply.notice
    later = assistant.chat_context("thanks, and what is a good title for it")
    assert later.prompt_tokens <= assistant.settings.chat.paste_limit_tokens + 200
    assert any("left out" in m["content"] for m in later.messages)  # the paste is cut in the history too


def test_fit_context_keeps_the_newest_exchanges_within_the_budget():
    history = []
    for i in range(6):
        history += [{"role": "user", "content": f"question {i} " * 20}, {"role": "assistant", "content": "ok " * 20}]
    fit = fit_context(history, "newest", estimate_tokens, budget=200, paste_limit=1000)
    kept = [m["content"].split()[1] for m in fit.messages[:-1:2]]
    assert kept == ["4", "5"] and fit.dropped_turns == 4 and fit.messages[-1]["content"] == "newest"
    text, removed = cut_middle("a" * 10_000, 100, estimate_tokens)
    assert removed > 9000 and text.startswith("aaa") and text.endswith("aaa") and "left out" in text


def test_an_unsure_action_is_asked_about_and_nothing_is_stored_until_yes(assistant):
    assistant.settings.nlu.confirm_below = 1.01  # every action counts as unsure here
    asked = assistant.ask_text("remind me to water the plants tomorrow at 9 am", now=NOW)
    assert asked.reply.kind == "confirm" and asked.reply.text.startswith("Set a reminder")
    assert asked.reply.text.endswith("Yes / No, just answer")
    store = assistant.action_context(NOW).schedule
    assert store.pending() == []
    done = assistant.ask_text("yes", now=NOW)
    assert done.reply.kind == "done" and done.parse.intent == "reminder_set"
    assert [i.title for i in store.pending()] == ["water the plants"]

    note = assistant.ask_text("take a note: write an email to my landlord", now=NOW)
    assert note.reply.kind == "confirm"
    answered = assistant.ask_text("no, just answer", now=NOW)
    assert answered.reply.kind == "chat" and answered.parse.intent == "general_chat"
    assert assistant.action_context(NOW).notes.list() == []
    context = assistant.chat_messages("and a subject line?")  # the request, not "no, just answer", is context
    assert context[-3] == {"role": "user", "content": "take a note: write an email to my landlord"}
    assert context[-2]["content"] == answered.reply.text

    assistant.ask_text("set a timer for five minutes", now=NOW)
    other = assistant.ask_text("what is the capital of italy", now=NOW)  # a new request drops the question
    assert other.reply.kind != "confirm" and assistant.pending is None
    assert [i.kind for i in store.pending()] == ["reminder"]
    with pytest.raises(BadInputError, match="no question"):
        assistant.confirm_pending(True)


def test_confirmation_is_off_by_the_setting_and_for_chat(assistant):
    assistant.settings.nlu.confirm_below = 0.0
    assert assistant.ask_text("take a note: buy milk", now=NOW).reply.kind == "done"
    assistant.settings.nlu.confirm_below = 1.01
    assert assistant.ask_text("what is a transformer", now=NOW).reply.kind == "chat"


def test_database_written_by_a_newer_version_is_refused_not_touched(tmp_path):
    path = tmp_path / "future.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()
    with pytest.raises(BadInputError):
        Database(path)
