"""Confirm first: an action understood with low confidence is asked about before it is carried out.

A wrong action is worse than a chat answer: the user must undo something never asked for. So when the intent
model's confidence is below ``[nlu] confirm_below`` (the value and how it was chosen: docs/nlu-engine.md,
"Confirming unsure commands"), the assistant describes the action (its dry run) and asks:
"Set a reminder: write an email to my landlord — tomorrow 09:00? Yes / No, just answer". Nothing is stored
until the user says yes; "no" answers the request as chat. By voice the question is spoken and the follow-up
window hears the answer; typed or said, :func:`answer_to_question` reads it.

A dry run that would refuse ("I couldn't find an application called ...") is not asked about: at low
confidence such a request was most likely a question, so it is answered as chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from jarvis_desktop.actions.result import ActionResult
from jarvis_desktop.nlu.result import ParseResult

#: What a query intent would do, for the question ("Look up the weather?").
QUERY_QUESTIONS = {
    "weather_query": "Look up the weather",
    "datetime_query": "Tell you the time or date",
    "schedule_query": "Check your schedule",
    "system_status": "Check the system's status",
}
#: Shown (and spoken) after the question.
CHOICES = "Yes / No, just answer"

_YES = re.compile(
    r"^(yes|yeah|yep|yup|sure|ok|okay|correct|right|confirm|affirmative|do it|go ahead|please do|"
    r"yes please|sure thing|that's right|that is right)\b[\s,.!]*(please|do it|go ahead|thanks)?[\s.!]*$",
    re.IGNORECASE,
)
_NO = re.compile(
    r"^(no|nope|nah|don't|do not|cancel|never mind|nevermind|no thanks|no thank you|just answer|"
    r"no,? just answer|answer|answer it|answer the question|just answer the question)\b[\s,.!]*"
    r"(just answer|thanks|thank you|please|just answer the question)?[\s.!]*$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class PendingAction:
    """An action waiting for the user's yes: the parse to carry out and the question asked."""

    parse: ParseResult
    question: str


def needs_confirmation(parse: ParseResult, confirm_below: float) -> bool:
    """True when ``parse`` is an action (not ``general_chat``) whose confidence is below ``confirm_below``
    (0 or less: never). Rule-based parses (``source == "rules"``: guard rails such as "undo") are never asked."""
    return (
        confirm_below > 0
        and parse.intent != "general_chat"
        and parse.source != "rules"
        and parse.confidence < confirm_below
    )


def question_for(parse: ParseResult, dry_run: ActionResult | None) -> str | None:
    """The question to ask before carrying out ``parse``, from its dry run; None when it should be answered as
    chat instead (the dry run would refuse or fail)."""
    if parse.intent in QUERY_QUESTIONS:
        return f"{QUERY_QUESTIONS[parse.intent]}? {CHOICES}"
    if dry_run is None or dry_run.kind != "dry_run" or not dry_run.summary:
        return None
    summary = dry_run.summary.rstrip(".")
    return f"{summary[0].upper()}{summary[1:]}? {CHOICES}"


def answer_to_question(text: str) -> bool | None:
    """True for a yes ("yes", "yeah, do it", "go ahead"), False for a no ("no", "no, just answer", "cancel"),
    None for anything else (a new request: the question is dropped)."""
    cleaned = " ".join(text.strip().replace("’", "'").split())
    if _YES.match(cleaned):
        return True
    if _NO.match(cleaned):
        return False
    return None
