"""Turn a file (or one of the app's records) into a :class:`Document` of chunks with citation positions.

Formats (docs/knowledge.md, "Documents and chunks"): Markdown (ATX and setext headings, fenced code kept whole),
plain text and reStructuredText (underlined titles are headings), HTML (lxml's HTML parser; navigation, scripts,
styles, forms and asides dropped; ``<main>``/``role=main`` preferred; h1-h6 are headings; ``<title>`` is the
title), PDF through pypdf (one section per page, headings from the PDF's outline), and Word .docx through
python-docx (its "Heading n" styles are headings).

Every way a file can be unusable raises :class:`BadInputError` whose message is the reason (shown per file in the
index status): missing or unreadable, not a regular file (a FIFO, a device or a directory: files are opened with
O_NONBLOCK and checked with fstat before any read, so a FIFO never blocks), too large (checked on the size before
reading), empty, binary (NUL bytes, or no text encoding fits), malformed (a broken PDF or .docx), an encrypted PDF,
an unsupported type, or no text at all.
"""

from __future__ import annotations

import codecs
import io
import logging
import os
import re
import stat
import zipfile
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.knowledge.chunking import Paragraph, Section, chunk_sections, chunk_text
from jarvis_desktop.knowledge.types import KINDS, Document

#: the file suffixes (lower case, with the dot) that :func:`extract_document` reads
SUPPORTED_SUFFIXES: frozenset[str] = frozenset(
    {".md", ".markdown", ".txt", ".text", ".rst", ".html", ".htm", ".xhtml", ".pdf", ".docx"}
)
#: files larger than this (bytes) are skipped as "too large", measured before reading
MAX_FILE_BYTES = 20 * 1024 * 1024
#: a .docx whose parts unpack to more than this many bytes is refused (a zip bomb)
MAX_UNPACKED_BYTES = 200 * 1024 * 1024

_Extractor = Callable[[bytes], tuple[str, list[Section]]]


# ---- reading ----------------------------------------------------------------------------------------------------
def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


def read_regular_file(path: Path, max_bytes: int = MAX_FILE_BYTES) -> tuple[bytes, os.stat_result]:
    """The bytes and stat of a regular file of at most ``max_bytes`` bytes.

    The file is opened with O_NONBLOCK (a FIFO or a device never blocks) and checked with fstat before anything is
    read. Raises BadInputError: "unreadable: ..." (missing, permission denied, I/O error), "not a regular file
    (a FIFO)" and the like, "too large: 25.3 MB (limit 20.0 MB)".
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise BadInputError("unreadable: no such file") from None
    except PermissionError:
        raise BadInputError("unreadable: permission denied") from None
    except IsADirectoryError:
        raise BadInputError("not a regular file (a directory)") from None
    except OSError as exc:
        raise BadInputError(f"unreadable: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInputError(f"not a regular file ({_file_type(info.st_mode)})")
        if info.st_size > max_bytes:
            raise BadInputError(f"too large: {_megabytes(info.st_size)} (limit {_megabytes(max_bytes)})")
        with os.fdopen(os.dup(fd), "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise BadInputError(f"unreadable: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(data) > max_bytes:  # it grew after the check
        raise BadInputError(f"too large: more than {_megabytes(max_bytes)}")
    return data, info


# ---- text encodings ---------------------------------------------------------------------------------------------
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def decode_text(data: bytes, declared: str | None = None) -> str:
    """Text of a file's bytes, newlines made "\\n".

    Order: a byte-order mark (UTF-8/16/32); bytes with NUL are binary; UTF-8; the ``declared`` encoding (an HTML
    meta charset); else charset-normalizer's best guess. Raises BadInputError "binary file (NUL bytes)" or
    "binary file (no text encoding fits)".
    """
    text: str | None = None
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                raise BadInputError(f"binary file (not valid {encoding} despite its byte-order mark)") from None
            break
    if text is None:
        if b"\x00" in data:
            raise BadInputError("binary file (NUL bytes)")
        text = _decode_8bit(data, declared)
    if "\x00" in text:
        raise BadInputError("binary file (NUL characters)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


_CP1252_MARGIN = 0.1  # chaos (charset-normalizer's mess ratio, 0..1) that Windows-1252 may have above the best


def _decode_8bit(data: bytes, declared: str | None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if declared:
        try:
            return data.decode(codecs.lookup(declared).name, errors="replace")
        except LookupError:
            pass
    from charset_normalizer import from_bytes

    matches = from_bytes(data)
    best = matches.best()
    if best is None:
        raise BadInputError("binary file (no text encoding fits)")
    # Western European text is often guessed as a Baltic or Central European code page that decodes it about as
    # cleanly; Windows-1252, by far the most common legacy encoding, wins when it is nearly as clean.
    for match in matches:
        if "cp1252" in match.could_be_from_charset and match.chaos <= best.chaos + _CP1252_MARGIN:
            return data.decode("cp1252")
    return str(best)


# ---- Markdown, plain text, reStructuredText ---------------------------------------------------------------------
_ATX = re.compile(r"^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+:._<>])\1{2,}[ \t]*$")
_MD_UNDERLINE = re.compile(r"^ {0,3}(=+|-+)[ \t]*$")
_RULE = re.compile(r"^ {0,3}([=\-~^\"'`#*+:._<>])([ \t]*\1){2,}[ \t]*$")  # a ruler (Markdown thematic break)
# Inline markup: each match attempt is bounded (link text 300, target 1,000, emphasis 300 characters, emphasis
# without its own delimiter inside), so a long line of brackets or asterisks costs linear time; unbounded, a 20 kB
# line of "[" took 4 s (the GIL held).
_MD_IMAGE_OR_LINK = re.compile(r"!?\[([^\[\]\n]{0,300})\]\((?:[^()\n]|\([^()\n]{0,200}\)){0,1000}\)")
_MD_EMPHASIS = re.compile(r"\*\*(?=[^\s*])([^*\n]{1,300}?)(?<=[^\s*])\*\*|__(?=[^\s_])([^_\n]{1,300}?)(?<=[^\s_])__")
_FRONT_TITLE = re.compile(r"^title:\s*[\"']?(.*?)[\"']?\s*$", re.IGNORECASE)


def _md_inline(text: str) -> str:
    """Markdown inline markup to plain words: links and images keep their text, ** and __ go."""
    return _MD_EMPHASIS.sub(lambda m: m.group(1) or m.group(2), _MD_IMAGE_OR_LINK.sub(r"\1", text))


class _MarkupReader:
    """One pass over the lines of a Markdown, plain-text or reST file: sections with lines, and the title."""

    def __init__(self, lines: list[str], markdown: bool) -> None:
        self.lines = lines
        self.markdown = markdown
        self.sections: list[Section] = [Section()]
        self.stack: list[tuple[int, str]] = []
        self.title = ""
        self.para: list[str] = []
        self.para_line = 0
        self.rst_levels: dict[tuple[str, bool], int] = {}

    def flush(self) -> None:
        if self.para:
            text = "\n".join(self.para)
            if self.markdown:
                text = _md_inline(text)
            self.sections[-1].paragraphs.append(Paragraph(text, self.para_line))
            self.para = []

    def heading(self, level: int, text: str) -> None:
        self.flush()
        text = " ".join(text.split())
        if not text:
            return
        if not self.title:
            self.title = text
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        self.sections.append(Section(headings=tuple(t for _, t in self.stack)))

    def add_line(self, number: int, line: str) -> None:
        if not self.para:
            self.para_line = number
        self.para.append(line.rstrip())

    def underline_level(self, index: int) -> tuple[int, int] | None:
        """(level, lines used) when the line at ``index`` is a heading's text with its underline (reST: and an
        overline) below it; None otherwise. Only a one-line paragraph can be a heading."""
        lines, line = self.lines, self.lines[index]
        if self.para or index + 1 >= len(lines) or not line.strip():
            return None
        below = lines[index + 1]
        if self.markdown:
            match = _MD_UNDERLINE.match(below)
            if match is None or line[:1] in ("-", "*", "+", ">") or len(line) - len(line.lstrip()) > 3:
                return None
            return (1 if match.group(1)[0] == "=" else 2), 2
        if line[:1].isspace() or _UNDERLINE.match(line) or len(line.strip()) > 150:
            return None
        match = _UNDERLINE.match(below)
        if match is None or len(below.rstrip()) < len(line.rstrip()):
            return None
        above = lines[index - 1] if index else ""
        over = above.rstrip() == below.rstrip()
        key = (match.group(1), over)
        level = self.rst_levels.setdefault(key, len(self.rst_levels) + 1)
        return level, 2

    def read(self) -> tuple[str, list[Section]]:
        lines = self.lines
        index = self._front_matter() if self.markdown else 0
        fence = ""
        while index < len(lines):
            line = lines[index]
            if fence:
                if line.strip().startswith(fence):
                    fence = ""
                    self.flush()
                else:
                    self.add_line(index + 1, line)
                index += 1
                continue
            if self.markdown:
                fence_match = _FENCE.match(line)
                if fence_match:
                    self.flush()
                    fence = fence_match.group(1)
                    index += 1
                    continue
                atx = _ATX.match(line)
                if atx:
                    self.heading(len(atx.group(1)), _md_inline(atx.group(2) or "").replace("`", ""))
                    index += 1
                    continue
            underline = self.underline_level(index)
            if underline:
                level, used = underline
                text = _md_inline(line).replace("`", "") if self.markdown else line
                self.heading(level, text)
                index += used
                continue
            if not line.strip() or _RULE.match(line):  # a blank line, a reST overline, a ruler: paragraph break
                self.flush()
            else:
                self.add_line(index + 1, line)
            index += 1
        self.flush()
        return self.title, self.sections

    def _front_matter(self) -> int:
        """Skip YAML front matter (``---`` ... ``---``) at the top; its ``title:`` becomes the title."""
        if not self.lines or self.lines[0].strip() != "---":
            return 0
        for index in range(1, min(len(self.lines), 200)):
            line = self.lines[index]
            if line.strip() in ("---", "..."):
                return index + 1
            match = _FRONT_TITLE.match(line)
            if match and not self.title:
                self.title = match.group(1).strip()
        return 0


def _markup(data: bytes, markdown: bool) -> tuple[str, list[Section]]:
    return _MarkupReader(decode_text(data).split("\n"), markdown).read()


def _markdown(data: bytes) -> tuple[str, list[Section]]:
    return _markup(data, markdown=True)


def _plain(data: bytes) -> tuple[str, list[Section]]:
    return _markup(data, markdown=False)


# ---- HTML -------------------------------------------------------------------------------------------------------
# dropped with everything inside them (their tail text stays): code, styling, navigation, forms, page furniture
_HTML_DROP = frozenset(
    {"script", "style", "noscript", "template", "nav", "svg", "iframe", "object", "form", "button", "select", "aside"}
    | {"footer", "head", "title", "math"}
)
_HTML_DROP_ROLES = frozenset({"navigation", "search"})
_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
_BLOCKS = frozenset(
    {
        "address", "article", "blockquote", "body", "caption", "center", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "header", "hgroup", "hr", "html", "legend", "li", "main", "ol",
        "p", "pre", "section", "summary", "table", "tbody", "tfoot", "thead", "tr", "ul",
    }
)  # fmt: skip
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_\-:.]+)""", re.IGNORECASE)
_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_SPACES = re.compile(r"\s+")


class _HtmlWalker:
    """Paragraphs and headings of an HTML tree, in reading order; a line = one line of the extracted text."""

    def __init__(self) -> None:
        self.sections: list[Section] = [Section()]
        self.stack: list[tuple[int, str]] = []
        self.buf: list[str] = []
        self.heading_buf: list[str] | None = None
        self.pre = 0
        self.line = 0
        self.first_heading = ""

    def text(self, value: str | None) -> None:
        if value:
            target = self.heading_buf if self.heading_buf is not None else self.buf
            target.append(value if self.pre else _SPACES.sub(" ", value))

    def flush(self) -> None:
        if not self.buf:
            return
        raw = "".join(self.buf)
        self.buf = []
        if self.pre:
            lines = [line.rstrip() for line in raw.strip("\n").split("\n")]
        else:
            lines = [" ".join(part.split()) for part in raw.split("\n")]
            lines = [line for line in lines if line]
        while lines and not lines[-1].strip():
            lines.pop()
        if not lines or not any(line.strip() for line in lines):
            return
        self.sections[-1].paragraphs.append(Paragraph("\n".join(lines), self.line + 1))
        self.line += len(lines)

    def heading(self, level: int, parts: list[str]) -> None:
        text = " ".join("".join(parts).replace("\u00b6", " ").split())
        if not text:
            return
        self.first_heading = self.first_heading or text
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        self.stack.append((level, text))
        self.sections.append(Section(headings=tuple(t for _, t in self.stack)))
        self.line += 1

    def walk(self, root: Any) -> None:
        from lxml import etree  # type: ignore[import-untyped]

        events = etree.iterwalk(root, events=("start", "end"))
        skipped = False  # the last start was dropped with its subtree: the next event is its end
        for event, element in events:
            tag = element.tag
            if skipped or not isinstance(tag, str):  # dropped, a comment, a processing instruction: only the tail
                skipped = False
                if event == "end":
                    self.text(element.tail)
                continue
            if event == "start":
                if tag in _HTML_DROP or _dropped(element):
                    events.skip_subtree()
                    skipped = True
                    continue
                self.start(tag, element.text)
            else:
                self.end(tag, element.tail)
        self.flush()

    def start(self, tag: str, text: str | None) -> None:
        if tag in _HEADINGS and self.heading_buf is None:
            self.flush()
            self.heading_buf = []
        elif tag in _BLOCKS:
            self.flush()
        if tag == "pre":
            self.pre += 1
        elif tag == "br":
            (self.heading_buf if self.heading_buf is not None else self.buf).append("\n")
        elif tag in ("td", "th"):
            self.text(" ")
        self.text(text)

    def end(self, tag: str, tail: str | None) -> None:
        if tag in _HEADINGS and self.heading_buf is not None:
            parts, self.heading_buf = self.heading_buf, None
            self.heading(_HEADINGS[tag], parts)
        elif tag in _BLOCKS:
            self.flush()
            if tag == "pre":
                self.pre -= 1
        self.text(tail)


def _dropped(element: Any) -> bool:
    """Navigation, hidden parts and Sphinx/MkDocs header links ("¶"), by their attributes."""
    if element.get("role") in _HTML_DROP_ROLES or element.get("hidden") is not None:
        return True
    if element.get("aria-hidden") == "true":
        return True
    return element.tag == "a" and "headerlink" in (element.get("class") or "").split()


def _html(data: bytes) -> tuple[str, list[Section]]:
    from lxml import etree

    head = data[:4096]
    match = _META_CHARSET.search(head)
    text = _XML_DECLARATION.sub("", decode_text(data, match.group(1).decode("ascii") if match else None), count=1)
    if not text.strip():
        raise BadInputError("empty file")
    try:
        root = etree.fromstring(text, etree.HTMLParser(remove_comments=True, remove_pis=True))
    except (etree.ParserError, etree.XMLSyntaxError, ValueError) as exc:
        raise BadInputError(f"malformed HTML: {exc}") from None
    if root is None:
        raise BadInputError("no text to index")
    title_element = root.find(".//title")
    title = " ".join("".join(title_element.itertext()).split()) if title_element is not None else ""
    mains = root.xpath("//main|//*[@role='main']")
    body = root.find("body")
    walker = _HtmlWalker()
    walker.walk(mains[0] if mains else body if body is not None else root)
    return title or walker.first_heading, walker.sections


# ---- PDF --------------------------------------------------------------------------------------------------------
def _pdf_outline(reader: Any) -> dict[int, list[tuple[int, str]]]:
    """0-based page -> the outline entries (depth, title) that start on it, in order; {} when the outline is broken."""
    starts: dict[int, list[tuple[int, str]]] = {}

    def visit(items: list[Any], depth: int) -> None:
        for item in items:
            if isinstance(item, list):
                visit(item, depth + 1)
                continue
            page = reader.get_destination_page_number(item)
            title = " ".join(str(getattr(item, "title", "") or "").split())
            if page is not None and page >= 0 and title:
                starts.setdefault(page, []).append((depth, title))

    try:
        visit(reader.outline, 1)
    except Exception:  # a broken outline costs the headings, never the text
        return {}
    return starts


def _page_sections(text: str, page: int, entries: list[tuple[int, str]], stack: list[tuple[int, str]]) -> list[Section]:
    """One page's text as sections: the page is split where an outline title that starts on it appears."""
    pieces: list[tuple[tuple[str, ...], str]] = []
    headings = tuple(t for _, t in stack)
    rest = text
    for depth, title in entries:
        at = rest.find(title)
        while stack and stack[-1][0] >= depth:
            stack.pop()
        stack.append((depth, title))
        if at >= 0:
            pieces.append((headings, rest[:at]))
            rest = rest[at + len(title) :]
        headings = tuple(t for _, t in stack)
    pieces.append((headings, rest))
    sections = []
    for path, body in pieces:
        paragraphs = [Paragraph(block) for block in re.split(r"\n[ \t]*\n", body) if block.strip()]
        if paragraphs:
            sections.append(Section(headings=path, page=page + 1, paragraphs=paragraphs))
    return sections


#: a word hyphenated across a line end ("pat-" / "tern"; also a soft hyphen): joined again ("pattern"); only before a
#: lower-case letter, so a line ending in a dash before a capital or a number is left alone
_PDF_LINE_HYPHEN = re.compile(r"(\w)[-\u00ad][ \t]*\n[ \t]*([a-z])")


def _pdf(data: bytes) -> tuple[str, list[Section]]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged file is reported once, as a reason
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except (DependencyError, NotImplementedError) as exc:
                raise BadInputError(f"encrypted PDF: cannot decrypt it ({exc})") from None
            if not opened:
                raise BadInputError("encrypted PDF: it needs a password")
        starts = _pdf_outline(reader)
        meta = reader.metadata
        title = " ".join(str(meta.title or "").split()) if meta is not None else ""
        sections: list[Section] = []
        stack: list[tuple[int, str]] = []
        for number, page in enumerate(reader.pages):
            text = _PDF_LINE_HYPHEN.sub(r"\1\2", (page.extract_text() or "").replace("\x00", ""))
            sections.extend(_page_sections(text, number, starts.get(number, []), stack))
    except BadInputError:
        raise
    except FileNotDecryptedError:
        raise BadInputError("encrypted PDF: it needs a password") from None
    except Exception as exc:  # pypdf raises many types on damaged files; each is "malformed"
        reason = str(exc).strip() or type(exc).__name__
        raise BadInputError(f"malformed PDF: {reason}") from None
    if not sections:
        raise BadInputError("no text in this PDF (a scan without a text layer?)")
    return title, sections  # no metadata title: the file name (a first outline entry is rarely a title)


# ---- Word .docx -------------------------------------------------------------------------------------------------
_DOCX_HEADING = re.compile(r"^heading\s*(\d)$", re.IGNORECASE)


def _docx(data: bytes) -> tuple[str, list[Section]]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise BadInputError(f"malformed .docx: {exc}") from None
    if unpacked > MAX_UNPACKED_BYTES:
        raise BadInputError(f"too large: unpacks to {_megabytes(unpacked)} (limit {_megabytes(MAX_UNPACKED_BYTES)})")
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        title = " ".join((document.core_properties.title or "").split())
        sections = [Section()]
        stack: list[tuple[int, str]] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in block.rows]
                if any(row.strip(" |") for row in rows):
                    sections[-1].paragraphs.append(Paragraph("\n".join(rows)))
                continue
            text = block.text.strip()
            if not text:
                continue
            style = block.style.name if block.style is not None else ""
            match = _DOCX_HEADING.match(style or "")
            if match or style == "Title":
                level = int(match.group(1)) if match else 0
                title = title or text
                while stack and stack[-1][0] >= level:
                    stack.pop()
                stack.append((level, text))
                sections.append(Section(headings=tuple(t for _, t in stack)))
            else:
                sections[-1].paragraphs.append(Paragraph(text))
    except Exception as exc:  # python-docx/lxml raise many types on damaged files
        raise BadInputError(f"malformed .docx: {str(exc).strip() or type(exc).__name__}") from None
    return title, sections


# ---- the public entry points ------------------------------------------------------------------------------------
_EXTRACTORS: dict[str, _Extractor] = {
    ".md": _markdown,
    ".markdown": _markdown,
    ".txt": _plain,
    ".text": _plain,
    ".rst": _plain,
    ".html": _html,
    ".htm": _html,
    ".xhtml": _html,
    ".pdf": _pdf,
    ".docx": _docx,
}


def extract_document(path: Path, max_bytes: int = MAX_FILE_BYTES) -> Document:
    """Read a file of a supported type into a Document (kind "file") ready to index.

    ``source_id`` is the absolute path; ``title`` the document's own title (Markdown front matter or first
    heading, reST title, HTML ``<title>``, PDF/.docx metadata or first heading), else the file name; chunks carry
    their Location (page for PDF, heading path, 1-based line for Markdown/text/HTML). Raises BadInputError whose
    message is the reason: "unsupported file type .xyz", "unreadable: permission denied", "not a regular file
    (a FIFO)", "too large: ...", "empty file", "binary file (NUL bytes)", "malformed PDF: ...", "encrypted PDF:
    it needs a password", "no text to index".
    """
    path = Path(path)
    suffix = path.suffix.lower()
    extractor = _EXTRACTORS.get(suffix)
    if extractor is None:
        raise BadInputError(f"unsupported file type {suffix or '(no suffix)'}")
    data, info = read_regular_file(path, max_bytes)
    if not data.strip():
        raise BadInputError("empty file")
    title, sections = extractor(data)
    chunks = chunk_sections(sections)
    if not chunks:
        raise BadInputError("no text to index")
    return Document(
        source_id=os.path.abspath(path),
        kind="file",
        title=title[:200] or path.name,
        mtime=info.st_mtime,
        size=info.st_size,
        chunks=chunks,
    )


def _first_words(text: str, count: int = 8) -> str:
    words = text.split()
    return " ".join(words[:count]) + ("…" if len(words) > count else "")


def record_document(
    kind: str, record_id: int, text: str, title: str, created: datetime | None, mtime: float
) -> Document:
    """A note, a chat message or a schedule item as a Document (``source_id`` f"{kind}:{record_id}", size 0).

    One chunk normally; a long text is chunked like a file (at blank lines and sentences, with overlap), its chunks
    without heading or line. ``title`` "" becomes the text's first words; an empty text gives no chunks (nothing to
    find). Raises BadInputError for a kind that is not "note", "chat" or "schedule".
    """
    if kind not in KINDS or kind == "file":
        raise BadInputError(f"unknown record kind {kind!r} (one of {', '.join(k for k in KINDS if k != 'file')})")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Document(
        source_id=f"{kind}:{record_id}",
        kind=kind,
        title=" ".join(title.split()) or _first_words(text),
        mtime=mtime,
        size=0,
        chunks=chunk_text(text),
        created=created,
    )
