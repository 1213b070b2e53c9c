"""The strip above the input: what was heard, and what it was understood as.

Shows the last transcript (for spoken input) and the NLU result as chips: the intent, the payload
("call mom"), each date key (``tomorrow``, ``at_3pm``) and the resolved time ("Mon 23 Nov, 15:00").
``show_parse(parse, transcript=None)`` takes a ``ParseResult`` (``.intent``, ``.date_keys``, ``.when``,
``.payload``, ``.confidence``) or its ``to_dict()``. While a hands-free command is spoken, ``show_partial(stable,
unstable)`` shows the partial transcript on the HEARD line, the part that may still change greyed; the final
transcript (``show_transcript``) replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from typing import Any

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QLayout, QSizePolicy, QVBoxLayout, QWidget

from jarvis_desktop.nlu.result import ParseResult


class FlowLayout(QLayout):
    """Lays widgets out left to right and wraps to a new line when the width runs out (chips)."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int):
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int):
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _arrange(self, rect: QRect, apply: bool) -> int:
        x, y, line_height = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() + 1 and line_height > 0:
                x, y = rect.x(), y + line_height + self._spacing
                line_height = 0
            if apply:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._spacing
            line_height = max(line_height, hint.height())
        return y + line_height - rect.y()


@dataclass(frozen=True)
class _Shown:
    """The parts of a parse the strip shows."""

    intent: str | None
    date_keys: list[str]
    when: object
    payload: str
    confidence: float | None


def _shown(parse: ParseResult | Mapping[str, Any]) -> _Shown:
    """A :class:`ParseResult`, or its ``to_dict()`` (history records), as the strip's fields."""
    if isinstance(parse, ParseResult):
        return _Shown(parse.intent or None, list(parse.date_keys), parse.when, parse.payload, parse.confidence)
    confidence = parse.get("confidence")
    return _Shown(
        parse.get("intent") or None,
        [str(k) for k in parse.get("date_keys") or []],
        parse.get("when"),
        str(parse.get("payload") or ""),
        float(confidence) if isinstance(confidence, (int, float)) else None,
    )


def format_when(when: Any) -> str | None:
    """``datetime`` or ``"YYYY-MM-DDTHH:MM"`` -> ``"Mon 23 Nov 2026, 15:00"``; None/empty -> None."""
    if not when:
        return None
    if isinstance(when, str):
        try:
            when = datetime.fromisoformat(when)
        except ValueError:
            return when
    if isinstance(when, datetime):
        return when.strftime("%a %d %b %Y, %H:%M")
    return str(when)


UNSTABLE_COLOR = "#8a8f98"
"""The grey of a partial transcript's words that may still change (readable on the light and the dark theme)."""


class UnderstandingStrip(QFrame):
    """Transcript line plus intent / payload / date-key / time chips (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("strip")
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(14, 8, 14, 9)
        outer.setSpacing(5)

        heard_row = QHBoxLayout()
        heard_row.setSpacing(8)
        title = QLabel("HEARD")
        title.setObjectName("stripTitle")
        title.setFixedWidth(92)
        self.transcript_label = QLabel("—")
        self.transcript_label.setObjectName("transcript")
        self.transcript_label.setWordWrap(True)
        heard_row.addWidget(title)
        heard_row.addWidget(self.transcript_label, 1)
        outer.addLayout(heard_row)

        chips_row = QHBoxLayout()
        chips_row.setSpacing(8)
        title2 = QLabel("UNDERSTOOD")
        title2.setObjectName("stripTitle")
        title2.setFixedWidth(92)
        title2.setContentsMargins(0, 3, 0, 0)  # line up with the chips' text
        chips_row.addWidget(title2, 0, Qt.AlignmentFlag.AlignTop)
        chips_host = QWidget()
        sp = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        chips_host.setSizePolicy(sp)
        self.chips_box = FlowLayout(chips_host, spacing=6)
        chips_row.addWidget(chips_host, 1)
        outer.addLayout(chips_row)

        self.intent: str | None = None
        self.date_keys: list[str] = []
        self.when_text: str | None = None
        self.transcript: str | None = None
        self.partial: tuple[str, str] | None = None  # (stable, unstable) while a partial is shown
        self._set_chips([("chipMuted", None, "nothing yet")])

    # ---- public ----------------------------------------------------------------------------------
    def clear(self, waiting: str = "nothing yet") -> None:
        """Forget the previous parse (a new request started, or it failed): no transcript, one muted chip."""
        self.intent, self.date_keys, self.when_text = None, [], None
        self.transcript, self.partial = None, None
        self.transcript_label.setTextFormat(Qt.TextFormat.PlainText)
        self.transcript_label.setText("")
        self._set_chips([("chipMuted", None, waiting)])

    def show_transcript(self, text: str | None) -> None:
        """Show what was heard (None or "" -> a dash, e.g. for typed input)."""
        self.transcript = text or None
        self.partial = None
        self.transcript_label.setTextFormat(Qt.TextFormat.PlainText)
        self.transcript_label.setText(f"“{text}”" if text else "— typed —")

    def show_partial(self, stable: str, unstable: str) -> None:
        """Show a partial transcript while the user speaks: ``stable`` (agreed on, kept) in the normal colour,
        ``unstable`` (may still change) greyed. ``transcript`` is left as it was until the final one arrives."""
        self.partial = (stable.strip(), unstable.strip())
        shown = escape(self.partial[0])
        if self.partial[1]:
            grey = f'<span style="color:{UNSTABLE_COLOR}">{escape(self.partial[1])}</span>'
            shown = f"{shown} {grey}" if shown else grey
        self.transcript_label.setTextFormat(Qt.TextFormat.RichText)
        self.transcript_label.setText(f"“{shown}…”")

    def show_parse(
        self, parse: ParseResult | Mapping[str, Any], transcript: str | None = None, typed: bool = False
    ) -> None:
        """Show a ``ParseResult`` (or its ``to_dict()``); ``transcript`` is the spoken text, if any."""
        if transcript is not None or typed:
            self.show_transcript(transcript)
        shown = _shown(parse)
        self.intent = shown.intent
        self.date_keys = shown.date_keys
        self.when_text = format_when(shown.when)
        chips: list[tuple[str, str | None, str]] = []
        if self.intent:
            label = self.intent
            if shown.confidence is not None:
                label += f"  {shown.confidence:.0%}"
            chips.append(("chip", "intent", label))
        if shown.payload:
            chips.append(("chip", None, f"“{shown.payload}”"))
        for key in self.date_keys:
            chips.append(("chip", "key", key))
        if self.when_text:
            chips.append(("chip", "when", f"→ {self.when_text}"))
        if not self.date_keys and self.intent:
            chips.append(("chipMuted", None, "no date keys"))
        self._set_chips(chips)

    def chip_texts(self) -> list[str]:
        """The texts of the chips currently shown (for tests and accessibility)."""
        out = []
        for i in range(self.chips_box.count()):
            widget = self.chips_box.itemAt(i).widget()
            if isinstance(widget, QLabel):
                out.append(widget.text())
        return out

    # ---- internals -------------------------------------------------------------------------------
    def _set_chips(self, chips: list[tuple[str, str | None, str]]) -> None:
        while self.chips_box.count():
            item = self.chips_box.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        for object_name, kind, text in chips:
            chip = QLabel(text)
            chip.setObjectName(object_name)
            if kind:
                chip.setProperty("kind", kind)
            chip.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
            self.chips_box.addWidget(chip)
            chip.show()
        self.chips_box.invalidate()
        self.updateGeometry()
