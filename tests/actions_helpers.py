"""Shared set-up for the action tests: a fresh home (real SQLite file) and ParseResults built by hand."""

from __future__ import annotations

from datetime import datetime

import pytest

from jarvis_desktop.actions import ActionContext, run_action
from jarvis_desktop.config import Settings
from jarvis_desktop.nlu.engine import ParseResult


def parsed(text, intent, keys=(), when=None, payload=""):
    """A ParseResult as the NLU engine gives it (tests pin the parse so they test the action alone)."""
    return ParseResult(
        text=text, intent=intent, date_keys=list(keys), when=when, confidence=0.99, source="test", payload=payload
    )


def quiet_settings() -> Settings:
    s = Settings()
    s.actions.sound = False
    s.actions.notify_command = False
    return s


@pytest.fixture(name="ctx")
def ctx_fixture(tmp_path, monkeypatch):
    """An ActionContext on a new database file in a temporary JARVIS_DESKTOP_HOME."""
    monkeypatch.setenv("JARVIS_DESKTOP_HOME", str(tmp_path))
    context = ActionContext(now=datetime.now(), settings=quiet_settings())
    yield context
    context.close()


def act(ctx: ActionContext, parse, now: datetime | None = None, dry_run: bool = False):
    """Run the action for ``parse`` in ``ctx`` at ``now``."""
    ctx.dry_run = dry_run
    return run_action(parse, now or ctx.now, context=ctx)
