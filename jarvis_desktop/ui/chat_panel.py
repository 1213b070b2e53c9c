"""The conversation: message bubbles in a scroll area, with live streaming and a badge line per reply.

* ``ChatPanel.add_message(role, text, badge="")`` appends a bubble; ``role`` is ``"user"``, ``"assistant"``
  or ``"system"`` (errors and notices, shown centred in red).
* ``begin_reply()`` opens an empty assistant bubble; ``append_token(piece)`` streams into it;
  ``finish_reply(text, badge)`` sets the final text and the badge (intent · where it ran · timings).
* ``load_history(records)`` shows ``ChatMessageRecord`` objects (a conversation's messages); ``clear()`` empties it.
  A reloaded grounded answer gets its numbered sources back through ``sources_hook(bubble, record)`` (the window
  sets it: the list and its clicks belong to the Knowledge tab).
* Per message: Copy (every message), Edit (your messages: ``edit_requested(id, text)``), and on the last reply
  Regenerate (``regenerate_requested``), Continue when it was cut at the length cap (``continue_requested``), or
  Yes / "No, just answer" when it asks to confirm an unsure action (``confirm_answered(bool)``).

Assistant text is rendered as Markdown (the chat model often answers with lists); user text as plain text.
The panel keeps the newest message in view while the user has not scrolled up.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication, QTextDocument
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from jarvis_desktop.store.history import ChatMessageRecord

ROLES = ("user", "assistant", "system")


def _ms(value: Any) -> str | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return f"{v / 1000:.1f} s" if v >= 1000 else f"{v:.0f} ms"


def format_badge(
    intent: str | None = None,
    backend: str | None = None,
    timings_ms: Mapping[str, Any] | None = None,
    tokens_per_s: float | None = None,
    kind: str | None = None,
) -> str:
    """The small line under a reply: intent, where it ran, timings.

    E.g. ``general_chat · local · first token 85 ms · total 1.2 s · 92 tok/s`` for a chat reply, or
    ``datetime_query · direct answer · stt 310 ms · nlu 1 ms · total 0.3 s`` for an action's answer.
    ``backend`` is shown for chat replies (``kind`` "chat" or None) only.

    ``timings_ms`` keys used (milliseconds): ``stt``, ``nlu``, ``first_token``, ``total``; missing keys are left out.
    """
    parts: list[str] = []
    if intent:
        parts.append(intent)
    if kind in (None, "chat"):
        if backend:
            parts.append(backend)  # where the chat model ran ("local", "remote", "remote → local")
    elif kind == "direct":
        parts.append("direct answer")
    else:
        parts.append(kind)  # "understood", "refused"
    timings = timings_ms or {}
    for key, label in (("stt", "stt"), ("nlu", "nlu"), ("first_token", "first token"), ("total", "total")):
        text = _ms(timings.get(key)) if timings.get(key) is not None else None
        if text:
            parts.append(f"{label} {text}")
    if tokens_per_s:
        parts.append(f"{tokens_per_s:.0f} tok/s")
    return " · ".join(parts)


def _section(meta: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    """``meta[key]`` when it is a mapping, else an empty one."""
    value = meta.get(key)
    return value if isinstance(value, Mapping) else {}


def badge_from_meta(meta: Mapping[str, Any] | None) -> str:
    """Badge text for a history record's ``meta`` dict (keys as written by the Assistant, if present)."""
    if not meta:
        return ""
    parse = _section(meta, "parse")
    reply = _section(meta, "reply")
    intent = meta.get("intent") or parse.get("intent")
    backend = meta.get("backend") or reply.get("backend")
    if meta.get("notice") or reply.get("notice"):
        backend = "remote → local"  # the remote failed; the local model answered (see docs/offload.md)
    kind = meta.get("kind") or reply.get("kind")
    timings = meta.get("timings_ms") if isinstance(meta.get("timings_ms"), Mapping) else None
    return format_badge(intent, backend, timings, kind=kind)


class MessageBubble(QFrame):
    """One message: its text and an optional badge line. ``role`` in ``ROLES``."""

    def __init__(self, role: str, text: str = "", badge: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        if role not in ROLES:
            raise ValueError(f"role must be one of {ROLES}, got {role!r}")
        self.role = role
        self._text = text
        self.setObjectName({"user": "bubbleUser", "assistant": "bubbleAssistant", "system": "bubbleSystem"}[role])
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 9, 14, 8)
        self._h_margins = 28
        self._max_width = 560
        layout.setSpacing(3)
        self.body = QLabel()
        self.body.setObjectName("body")
        self.body.setWordWrap(True)
        self.body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.setTextFormat(Qt.TextFormat.MarkdownText if role == "assistant" else Qt.TextFormat.PlainText)
        layout.addWidget(self.body)
        self.badge = QLabel()
        self.badge.setObjectName("badge")
        self.badge.setWordWrap(True)
        layout.addWidget(self.badge)
        self.badge.setText(badge)
        self.badge.setVisible(bool(badge))
        self.replay = QToolButton()
        self.replay.setObjectName("replay")
        self.replay.setText("Say again")
        self.replay.setToolTip("Speak this reply again")
        self.replay.setAutoRaise(True)
        self.replay.hide()  # shown on assistant messages when the window speaks replies (ChatPanel.replay_enabled)
        #: the stored message's id (None until the engine stored it), the reply's kind, cut at the length cap
        self.message_id: int | None = None
        self.kind = "chat" if role == "assistant" else ""
        self.cut_off = False
        #: a grounded answer's closing sentence naming its sources ("From lease.pdf, page 3."; "" when none):
        #: Continue takes it off while the answer goes on, and the engine puts it back at the new end
        self.sources_sentence = ""
        actions = QHBoxLayout()
        actions.setContentsMargins(0, 0, 0, 0)
        actions.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for name, label, tip in (
            ("copy", "Copy", "Copy this message"),
            ("edit", "Edit", "Edit this message and send it again (the answers after it are replaced)"),
            ("regenerate", "Regenerate", "Answer the question again"),
            ("continue", "Continue", "The answer was cut at the length limit: go on"),
            ("yes", "Yes", "Do it"),
            ("no", "No, just answer", "Do not do it; answer as a question"),
        ):
            button = QToolButton()
            button.setObjectName(f"msg_{name}")
            button.setText(label)
            button.setToolTip(tip)
            button.setAutoRaise(True)
            button.hide()
            actions.addWidget(button)
            self.buttons[name] = button
        actions.addWidget(self.replay)
        actions.addStretch(1)
        layout.addLayout(actions)
        self.buttons["copy"].clicked.connect(self.copy_to_clipboard)
        self._render()

    def copy_to_clipboard(self) -> None:
        """Put the message's text (Markdown source for replies) on the clipboard."""
        QGuiApplication.clipboard().setText(self._text)

    def text(self) -> str:
        """The message text as given (Markdown source for assistant replies)."""
        return self._text

    def set_text(self, text: str) -> None:
        self._text = text
        self._render()

    def append_text(self, piece: str) -> None:
        self._text += piece
        self._render()

    def set_badge(self, badge: str) -> None:
        self.badge.setText(badge)
        self.badge.setVisible(bool(badge))
        self.fit()

    def badge_text(self) -> str:
        return self.badge.text()

    def _render(self) -> None:
        shown = self._text if self._text else "…"
        if self.cut_off:
            shown += " …"
        self.body.setText(shown)
        self.fit()

    def set_record(self, message_id: int | None, kind: str = "chat", cut_off: bool = False) -> None:
        """What the engine stored: the message id, the reply's kind ("chat", "confirm", "done" ...) and whether the
        answer was cut at the length cap (marked with "…" and a Continue button)."""
        self.message_id = message_id
        self.kind = kind
        self.cut_off = cut_off
        self._render()

    def fit(self, max_width: int | None = None) -> None:
        """Size the bubble to its text: as wide as the text needs, at most ``max_width`` pixels."""
        if max_width is not None:
            self._max_width = max_width
        self.ensurePolished()
        inner_max = self._max_width - self._h_margins
        doc = QTextDocument()
        doc.setDefaultFont(self.body.font())
        doc.setDocumentMargin(0)
        if self.body.textFormat() == Qt.TextFormat.MarkdownText:
            doc.setMarkdown(self.body.text())
        else:
            doc.setPlainText(self.body.text())
        doc.setTextWidth(inner_max)
        ideal = int(doc.idealWidth()) + 4
        badge_w = self.badge.fontMetrics().horizontalAdvance(self.badge.text()) + 4 if self.badge.text() else 0
        width = min(inner_max, max(ideal, badge_w, 24))
        self.body.setFixedWidth(width)
        self.badge.setFixedWidth(width)


class ChatPanel(QWidget):
    """Scrollable list of :class:`MessageBubble` rows (see the module docstring)."""

    MAX_WIDTH_RATIO = 0.78

    replay_requested = Signal(str)  # "Say again" on an assistant message: its text
    edit_requested = Signal(int, str)  # Edit on one of your messages: its id and text
    regenerate_requested = Signal()
    continue_requested = Signal()
    confirm_answered = Signal(bool)  # Yes (True) / No, just answer (False)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.replay_enabled = False  # the window sets it when replies can be spoken
        #: called with (bubble, record) for each reloaded assistant message that has stored sources
        self.sources_hook: Callable[[MessageBubble, ChatMessageRecord], object] | None = None
        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("chatScroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.body = QWidget()
        self.body.setObjectName("chatBody")
        self.rows = QVBoxLayout(self.body)
        self.rows.setContentsMargins(14, 14, 14, 14)
        self.rows.setSpacing(10)
        self.empty_hint = QLabel("Ask something: type below, hold the mic button and speak, or drop a WAV file here.")
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setWordWrap(True)
        self.rows.addStretch(1)
        self.rows.addWidget(self.empty_hint)
        self.rows.addStretch(1)
        self.scroll_area.setWidget(self.body)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.scroll_area)

        self.bubbles: list[MessageBubble] = []
        self._streaming: MessageBubble | None = None
        self._follow = True
        bar = self.scroll_area.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range_changed)

    # ---- adding messages -------------------------------------------------------------------------
    def add_message(self, role: str, text: str, badge: str = "") -> MessageBubble:
        """Append a bubble and return it."""
        bubble = MessageBubble(role, text, badge)
        if role == "assistant" and self.replay_enabled:
            bubble.replay.show()
            bubble.replay.clicked.connect(lambda: self.replay_requested.emit(bubble.text()))
        if role != "system":
            bubble.buttons["copy"].show()
        bubble.buttons["edit"].clicked.connect(lambda: self.edit_requested.emit(bubble.message_id or 0, bubble.text()))
        bubble.buttons["regenerate"].clicked.connect(self.regenerate_requested.emit)
        bubble.buttons["continue"].clicked.connect(self.continue_requested.emit)
        bubble.buttons["yes"].clicked.connect(lambda: self.confirm_answered.emit(True))
        bubble.buttons["no"].clicked.connect(lambda: self.confirm_answered.emit(False))
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        if role == "user":
            row.addStretch(1)
            row.addWidget(bubble)
        elif role == "assistant":
            row.addWidget(bubble)
            row.addStretch(1)
        else:
            row.addStretch(1)
            row.addWidget(bubble)
            row.addStretch(1)
        if not self.bubbles:
            self.empty_hint.hide()
            self.rows.setStretch(self.rows.count() - 1, 0)  # messages sit at the bottom, like a chat
        self.rows.insertLayout(self.rows.count() - 1, row)
        self.bubbles.append(bubble)
        self._fit(bubble)
        self._follow = True
        self.refresh_actions()
        return bubble

    def refresh_actions(self, busy: bool = False) -> None:
        """Show each message's buttons for where it stands: Edit on your stored messages; on the last reply
        Regenerate (a chat answer), Continue (cut off) or Yes / No (a question). ``busy``: a turn runs, so only
        Copy is offered."""
        last = self.bubbles[-1] if self.bubbles else None
        for bubble in self.bubbles:
            is_last = bubble is last and not busy and bubble.message_id is not None
            stored_user = bubble.role == "user" and bubble.message_id is not None and not busy
            bubble.buttons["edit"].setVisible(stored_user)
            chat = bubble.role == "assistant" and bubble.kind == "chat"
            bubble.buttons["regenerate"].setVisible(is_last and chat)
            bubble.buttons["continue"].setVisible(is_last and chat and bubble.cut_off)
            asks = is_last and bubble.kind == "confirm"
            bubble.buttons["yes"].setVisible(asks)
            bubble.buttons["no"].setVisible(asks)

    def _remove(self, bubble: MessageBubble) -> None:
        if bubble is self._streaming:
            self._streaming = None
        self.bubbles.remove(bubble)
        for index in range(self.rows.count()):
            item = self.rows.itemAt(index)
            layout = item.layout() if item is not None else None
            if layout is not None and layout.indexOf(bubble) >= 0:
                self.rows.takeAt(index)
                break
        bubble.hide()
        bubble.deleteLater()

    def remove_from(self, message_id: int) -> None:
        """Remove the message stored as ``message_id`` and every message after it (an edited message is sent
        again)."""
        start = next((i for i, b in enumerate(self.bubbles) if b.message_id == message_id), None)
        if start is not None:
            for bubble in list(self.bubbles[start:]):
                self._remove(bubble)
        self.refresh_actions()

    def remove_last_reply(self) -> None:
        """Remove the last message when it is a reply (it is about to be regenerated)."""
        if self.bubbles and self.bubbles[-1].role == "assistant":
            self._remove(self.bubbles[-1])

    def resume_reply(self) -> MessageBubble | None:
        """Stream into the last reply again (Continue): ``append_token`` adds to its text. A grounded answer's
        closing sources sentence is taken off first (the continuation ends with it again)."""
        if self.bubbles and self.bubbles[-1].role == "assistant":
            bubble = self._streaming = self.bubbles[-1]
            bubble.cut_off = False
            sentence = bubble.sources_sentence
            if sentence and bubble.text().endswith(sentence):
                bubble.set_text(bubble.text().removesuffix(sentence).rstrip())
            else:
                bubble.set_text(bubble.text())
        return self._streaming

    def clear(self) -> None:
        """Remove every message (another conversation is about to be shown)."""
        self._streaming = None
        while self.rows.count() > 3:  # stretch, hint, message rows..., stretch
            item = self.rows.takeAt(2)
            layout = item.layout() if item is not None else None
            if layout is None:
                continue
            while layout.count():
                child = layout.takeAt(0)
                widget = child.widget() if child is not None else None
                if widget is not None:
                    widget.deleteLater()
        self.bubbles.clear()
        self.empty_hint.show()
        self.rows.setStretch(self.rows.count() - 1, 1)

    def add_system(self, text: str) -> MessageBubble:
        """An error or notice, shown centred."""
        return self.add_message("system", text)

    def begin_reply(self) -> MessageBubble:
        """Open the assistant bubble that ``append_token`` streams into."""
        self._streaming = self.add_message("assistant", "")
        return self._streaming

    def append_token(self, piece: str) -> None:
        """Append a streamed piece to the open reply (opens one if needed)."""
        if self._streaming is None:
            self.begin_reply()
        assert self._streaming is not None
        self._streaming.append_text(piece)

    def finish_reply(self, text: str | None = None, badge: str = "") -> MessageBubble | None:
        """Close the streaming reply: set its final ``text`` (if given) and its ``badge``."""
        bubble = self._streaming
        if bubble is None and text is not None:
            bubble = self.add_message("assistant", text)
        if bubble is None:
            return None
        if text is not None and text != bubble.text():
            bubble.set_text(text)
        bubble.set_badge(badge)
        self._streaming = None
        return bubble

    def abandon_reply(self) -> None:
        """Drop the open reply bubble if nothing was streamed into it (after an error)."""
        bubble = self._streaming
        self._streaming = None
        if bubble is not None and not bubble.text():
            self.bubbles.remove(bubble)
            bubble.hide()
            bubble.deleteLater()

    @property
    def streaming(self) -> bool:
        return self._streaming is not None

    def load_history(self, records: Iterable[ChatMessageRecord]) -> int:
        """Show chat history records (``.role``, ``.content``, ``.meta``), oldest first; returns the count shown."""
        shown = 0
        for record in records:
            role = record.role
            if role not in ("user", "assistant"):
                continue
            badge = badge_from_meta(record.meta) if role == "assistant" else ""
            bubble = self.add_message(role, record.content, badge)
            kind = str(record.meta.get("kind", "chat")) if role == "assistant" else ""
            bubble.set_record(getattr(record, "id", None), kind, bool(record.meta.get("cut_off", False)))
            cited = getattr(record, "citations", None)
            if role == "assistant" and cited:
                bubble.sources_sentence = str(record.meta.get("sources_sentence") or "")
                if self.sources_hook is not None:
                    self.sources_hook(bubble, record)
            shown += 1
        self.refresh_actions()
        return shown

    def messages(self) -> list[tuple[str, str]]:
        """(role, text) of every bubble, oldest first."""
        return [(b.role, b.text()) for b in self.bubbles]

    # ---- layout ----------------------------------------------------------------------------------
    def _fit(self, bubble: MessageBubble) -> None:
        width = max(240, int(self.scroll_area.viewport().width() * self.MAX_WIDTH_RATIO))
        bubble.fit(width)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        for bubble in self.bubbles:
            self._fit(bubble)

    def _on_scrolled(self, value: int) -> None:
        bar = self.scroll_area.verticalScrollBar()
        self._follow = value >= bar.maximum() - 24

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        if self._follow:
            QTimer.singleShot(0, self.scroll_to_bottom)

    def scroll_to_bottom(self) -> None:
        bar = self.scroll_area.verticalScrollBar()
        bar.setValue(bar.maximum())
