"""Markdown, code, links and URLs for the ear: keep the words, drop the markup, never read a symbol.

* A fenced code block (```` ``` ```` or ``~~~``, closed or not) becomes :data:`CODE_PHRASE`.
* ``[text](url)`` becomes "text"; an image becomes its alt text; inline code keeps its content.
* A bare URL becomes "a link to example dot com" (its host, without "www."); an e-mail address
  "name at example dot com".
* Headings, list items, block quotes and table rows keep their words; a line that ends without punctuation
  gets a period so the voice pauses; rules and table separators disappear; ``**bold**`` and friends lose their
  markers; HTML tags disappear.
"""

from __future__ import annotations

import re

CODE_PHRASE = "I've put the code on screen."
"""What is said instead of a code block."""

_FENCE = re.compile(r"(?ms)^[ \t]*(```|~~~)[^\n]*\n?.*?(?:^[ \t]*\1[ \t]*$|\Z)")
_INLINE_FENCE = re.compile(r"```.*?(?:```|\Z)", re.S)
_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_AUTOLINK = re.compile(r"<((?:https?|ftp)://[^>\s]+)>")
_URL = re.compile(r"\b(?:(?:https?|ftp)://|www\.)[^\s<>()\[\]\"“”]+", re.I)
_EMAIL = re.compile(r"\b([\w.+-]+)@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)\b")
_DOMAIN = re.compile(r"(?<![\w.@/-])((?:[a-z0-9-]+\.)+(?:com|org|net|io|dev|ai|app|edu|gov|co|uk|de|fr|eu))\b")
_INLINE_CODE = re.compile(r"`+([^`]*)`+")
_HTML_TAG = re.compile(r"</?[A-Za-z][^>]*>")
_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_STRIKE = re.compile(r"~~(.+?)~~")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_QUOTE = re.compile(r"^\s*(?:>\s?)+")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d{1,3}[.)])\s+")
_RULE = re.compile(r"^\s*(?:[-*_=]\s*){3,}$")
_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(?:\|\s*:?-{2,}:?\s*)*\|?\s*$")
_END_PUNCT = ".!?:;…"


def _host_words(url: str) -> str:
    host = re.sub(r"^(?:[a-z]+://)?(?:www\.)?", "", url, flags=re.I).split("/")[0].split("?")[0].split(":")[0]
    return host.lower().rstrip(".").replace(".", " dot ")


def _url(m: re.Match[str]) -> str:
    url = m.group(0)
    trail = ""
    while url and url[-1] in ".,;:!?'’":
        url, trail = url[:-1], url[-1] + trail
    return f"a link to {_host_words(url)}{trail}"


def speak_links(text: str) -> str:
    """URLs, e-mail addresses and bare domains as words (see the module docstring)."""
    text = _AUTOLINK.sub(lambda m: m.group(1), text)
    text = _URL.sub(_url, text)
    text = _EMAIL.sub(lambda m: f"{m.group(1).replace('.', ' dot ')} at {_host_words(m.group(2))}", text)
    return _DOMAIN.sub(lambda m: _host_words(m.group(1)), text)


def _inline(text: str) -> str:
    text = _IMAGE.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = _INLINE_CODE.sub(lambda m: m.group(1).replace("_", " "), text)
    text = _HTML_TAG.sub(" ", text)
    text = _STRIKE.sub(r"\1", text)
    text = _STRONG.sub(r"\2", text)
    return _EMPHASIS.sub(r"\2", text)


def _with_stop(line: str) -> str:
    line = line.rstrip()
    return line if not line or line[-1] in _END_PUNCT else line + "."


def _line(line: str) -> str:
    """One Markdown line as plain words (a block element ends with a period so the voice pauses)."""
    if _RULE.match(line) or _TABLE_SEPARATOR.match(line):
        return ""
    heading = _HEADING.match(line)
    if heading:
        return _with_stop(heading.group(1))
    block = _QUOTE.sub("", line)
    item = _LIST_ITEM.sub("", block)
    if "|" in item and item.strip().startswith("|"):
        cells = [c.strip() for c in item.strip().strip("|").split("|") if c.strip()]
        return _with_stop(", ".join(cells))
    return _with_stop(item) if item != line else item


def strip_markdown(text: str) -> str:
    """Plain words of a Markdown reply: code blocks replaced by :data:`CODE_PHRASE`, links by their text,
    markup dropped; lines joined with spaces, a paragraph break ending its sentence."""
    text = _FENCE.sub(f"\n{CODE_PHRASE}\n", text)
    text = _INLINE_FENCE.sub(f" {CODE_PHRASE} ", text)
    lines: list[str] = []
    for raw in text.splitlines():
        if not raw.strip():
            if lines:
                lines[-1] = _with_stop(lines[-1])
            continue
        line = _line(_inline(raw))
        if line.strip():
            lines.append(line.strip())
    return " ".join(lines)
