"""Text extraction and chunking for the knowledge index (docs/knowledge.md, "Documents and chunks").

Real files: a small tree written here (Markdown, text, reST, HTML, a multi-page PDF written with pypdf, a .docx
written with python-docx), Debian's python3-doc HTML pages (packaging/setup.sh installs python3-doc), and bad files
(binary, empty, huge, broken PDF, encrypted PDF, FIFO, directory, device, permission denied).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest

from jarvis_desktop.errors import BadInputError
from jarvis_desktop.knowledge.chunking import MAX_WORDS, OVERLAP_WORDS, chunk_text
from jarvis_desktop.knowledge.extract import MAX_FILE_BYTES, SUPPORTED_SUFFIXES, extract_document, record_document

PYDOC = Path("/usr/share/doc/python3.11/html")
needs_pydoc = pytest.mark.skipif(
    not (PYDOC / "library" / "datetime.html").is_file(), reason="apt-get install python3-doc"
)


def _write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def _bad(path: Path, **kwargs: int) -> str:
    with pytest.raises(BadInputError) as caught:
        extract_document(path, **kwargs)
    return str(caught.value)


# ---- Markdown, text, reST -------------------------------------------------------------------------------------------
MARKDOWN = """\
# Home guide

Intro paragraph about the house.

## Plumbing

The plumber is [Mario](https://example.org/mario), a **reliable** man.
Call him on 555-0101 before noon.

### Boiler

The boiler was serviced in March.

```sh
# not a heading: a comment in a code block
make service
```

Setext Title
------------

Under the setext heading.
"""


def test_markdown_headings_lines_and_title(tmp_path: Path) -> None:
    doc = extract_document(_write(tmp_path / "guide.md", MARKDOWN))
    assert doc.kind == "file" and doc.source_id == str(tmp_path / "guide.md") and doc.title == "Home guide"
    got = [(c.location.heading, c.location.line, c.location.page, c.text.split("\n")[0]) for c in doc.chunks]
    assert got == [
        ("Home guide", 3, None, "Intro paragraph about the house."),
        ("Home guide > Plumbing", 7, None, "The plumber is Mario, a reliable man."),
        ("Home guide > Plumbing > Boiler", 12, None, "The boiler was serviced in March."),
        ("Home guide > Setext Title", 22, None, "Under the setext heading."),
    ]
    assert "# not a heading: a comment in a code block\nmake service" in doc.chunks[2].text
    assert [c.ordinal for c in doc.chunks] == [0, 1, 2, 3]
    assert doc.size == len(MARKDOWN.encode()) and doc.mtime == (tmp_path / "guide.md").stat().st_mtime


def test_markdown_front_matter_title(tmp_path: Path) -> None:
    text = '---\ntitle: "Lease notes"\ntags: [home]\n---\nThe lease ends in May.\n'
    doc = extract_document(_write(tmp_path / "lease.markdown", text))
    assert doc.title == "Lease notes"
    assert [(c.text, c.location.line) for c in doc.chunks] == [("The lease ends in May.", 5)]


def test_long_section_is_cut_with_overlap_lines_and_no_heading_crossing(tmp_path: Path) -> None:
    body = "\n".join(f"Sentence number {n} talks about the garden shed." for n in range(1, 121))
    text = f"# Garden\n\n{body}\n\n## Next\n\nShort section.\n"
    doc = extract_document(_write(tmp_path / "garden.md", text))
    garden = [c for c in doc.chunks if c.location.heading == "Garden"]
    assert len(garden) >= 4  # 960 words
    for chunk in garden:
        words = chunk.text.split()
        assert len(words) <= MAX_WORDS
        first = int(words[2])  # "Sentence number N ..."
        assert chunk.location.line == 2 + first  # sentence N is on line N + 2
        assert "Short section" not in chunk.text
    for before, after in zip(garden, garden[1:], strict=False):
        last = "Sentence" + before.text.rsplit("Sentence", 1)[1]
        assert last in after.text  # the next chunk repeats the last sentence(s)
        assert len(after.text.split()) > OVERLAP_WORDS
    assert doc.chunks[-1].location.heading == "Garden > Next" and doc.chunks[-1].text == "Short section."
    numbers = {int(n) for c in garden for n in re.findall(r"Sentence number (\d+)", c.text)}
    assert numbers == set(range(1, 121))  # nothing lost


def test_plain_text_and_rst(tmp_path: Path) -> None:
    doc = extract_document(_write(tmp_path / "todo.txt", "Buy paint.\n\n\nCall the bank about the loan.\n"))
    assert doc.title == "todo.txt"
    assert [(c.location.heading, c.location.line) for c in doc.chunks] == [("", 1)]
    assert doc.chunks[0].text == "Buy paint.\n\nCall the bank about the loan."

    rst = (
        "=======\nManual\n=======\n\nIntro text.\n\n"
        "Install\n-------\n\nRun the installer.\n\nOn Linux\n~~~~~~~~\n\nUse apt.\n"
    )
    doc = extract_document(_write(tmp_path / "manual.rst", rst))
    assert doc.title == "Manual"
    got = [(c.location.heading, c.location.line, c.text) for c in doc.chunks]
    assert got == [
        ("Manual", 5, "Intro text."),
        ("Manual > Install", 10, "Run the installer."),
        ("Manual > Install > On Linux", 15, "Use apt."),
    ]


def test_encodings(tmp_path: Path) -> None:
    text = "Le café de la gare ouvre à sept heures. Crème brûlée, pâté, garçon: déjà vu, façade, naïve.\n" * 3
    doc = extract_document(_write(tmp_path / "latin.txt", text, "cp1252"))
    assert "Le café de la gare ouvre à sept heures." in doc.chunks[0].text
    doc = extract_document(
        _write(tmp_path / "russian.txt", "Привет, как дела? Это проверка кодировки для текста.", "cp1251")
    )
    assert doc.chunks[0].text == "Привет, как дела? Это проверка кодировки для текста."
    doc = extract_document(_write(tmp_path / "wide.txt", "\ufeffHello wide world\r\nsecond line\r\n", "utf-16-le"))
    assert doc.chunks[0].text == "Hello wide world\nsecond line"
    doc = extract_document(_write(tmp_path / "bom.md", "\ufeff# Title\n\nBody.\n"))
    assert doc.title == "Title"


# ---- HTML -------------------------------------------------------------------------------------------------------
HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Boiler manual</title>
<style>body { color: red }</style><script>var secret = "do not index";</script></head>
<body>
<nav><a href="/">Home</a> <a href="/menu">Site menu link</a></nav>
<h1>Boiler <a class="headerlink" href="#b">¶</a></h1>
<p>Service the boiler   once
a year.</p>
<h2>Pressure</h2>
<p>Keep the pressure between <b>1 and 1.5 bar</b>.</p>
<ul><li>Check the gauge.</li><li>Bleed the radiators.</li></ul>
<pre>line one
  line two</pre>
<h2>Contact</h2>
<table><tr><th>Name</th><th>Phone</th></tr><tr><td>Mario</td><td>555-0101</td></tr></table>
<div role="navigation">Previous page</div>
<footer>Copyright footer</footer>
</body></html>
"""


def test_html_drops_navigation_and_keeps_headings(tmp_path: Path) -> None:
    doc = extract_document(_write(tmp_path / "boiler.html", HTML))
    assert doc.title == "Boiler manual"
    text = "\n".join(c.text for c in doc.chunks)
    for dropped in ("do not index", "color: red", "Site menu link", "Previous page", "Copyright footer", "¶"):
        assert dropped not in text
    got = [(c.location.heading, c.location.line, c.text) for c in doc.chunks]
    assert got == [
        ("Boiler", 2, "Service the boiler once a year."),
        (
            "Boiler > Pressure",
            4,
            "Keep the pressure between 1 and 1.5 bar.\n\nCheck the gauge.\n\nBleed the radiators.\n\n"
            "line one\n  line two",
        ),
        ("Boiler > Contact", 10, "Name Phone\n\nMario 555-0101"),
    ]


def test_html_latin1_meta_charset_and_no_title(tmp_path: Path) -> None:
    page = '<html><head><meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"></head>'
    page += "<body><main><h1>Caf\xe9</h1><p>Cr\xe8me br\xfbl\xe9e.</p></main><p>outside main</p></body></html>"
    doc = extract_document(_write(tmp_path / "cafe.htm", page, "latin-1"))
    assert doc.title == "Café"
    assert [(c.location.heading, c.text) for c in doc.chunks] == [("Café", "Crème brûlée.")]


@needs_pydoc
def test_python_docs_pages() -> None:
    doc = extract_document(PYDOC / "library" / "datetime.html")
    assert doc.title == "datetime — Basic date and time types — Python 3.11.2 documentation"
    hits = [c for c in doc.chunks if c.location.heading == "datetime — Basic date and time types > timedelta Objects"]
    assert hits and hits[0].text.startswith("A timedelta object represents a duration")
    assert all("Previous topic" not in c.text and "This Page" not in c.text for c in doc.chunks)
    assert all(c.location.line and c.location.page is None for c in doc.chunks)
    lines = [c.location.line for c in doc.chunks]
    assert lines == sorted(lines)

    doc = extract_document(PYDOC / "tutorial" / "introduction.html")
    assert doc.title.startswith("3. An Informal Introduction to Python")
    headings = {c.location.heading for c in doc.chunks}
    assert "3. An Informal Introduction to Python > 3.1. Using Python as a Calculator > 3.1.2. Strings" in headings


@needs_pydoc
def test_whole_python_docs_tree_extracts() -> None:
    """Every page of a real documentation tree no one here wrote gives chunks within the size limits."""
    pages = sorted(PYDOC.rglob("*.html"))
    assert len(pages) > 400
    total = 0
    for page in pages:
        doc = extract_document(page)
        assert doc.chunks and doc.title, page
        assert max(len(c.text.split()) for c in doc.chunks) <= MAX_WORDS, page
        total += len(doc.chunks)
    assert total > 5000


# ---- PDF and .docx ----------------------------------------------------------------------------------------------
def _write_pdf(path: Path, pages: list[list[str]], outline: list[tuple[str, int]], password: str = "") -> Path:
    """A real PDF with one text line per entry (Helvetica), an outline and a title, written with pypdf."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    for lines in pages:
        page = writer.add_blank_page(612, 792)
        font = DictionaryObject(
            {
                NameObject("/Type"): NameObject("/Font"),
                NameObject("/Subtype"): NameObject("/Type1"),
                NameObject("/BaseFont"): NameObject("/Helvetica"),
            }
        )
        page[NameObject("/Resources")] = DictionaryObject(
            {NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})}
        )
        shown = " ".join("({}) Tj T*".format(line.replace("(", "\\(").replace(")", "\\)")) for line in lines)
        stream = DecodedStreamObject()
        stream.set_data(f"BT /F1 11 Tf 72 740 Td 14 TL {shown} ET".encode("latin-1"))
        page.replace_contents(stream)
    for title, number in outline:
        writer.add_outline_item(title=title, page_number=number)
    writer.add_metadata({"/Title": "Flat lease"})
    if password:
        writer.encrypt(password, algorithm="RC4-128")
    with path.open("wb") as handle:
        writer.write(handle)
    return path


PDF_PAGES = [
    ["Parties", "The tenant is Ada Lovelace.", "The landlord is Charles Babbage."],
    ["Rent", "The rent is 900 pounds a month."],
    ["The deposit is held by the agency.", "Term", "The lease ends on 31 May 2027."],
]


def test_pdf_pages_outline_headings_and_title(tmp_path: Path) -> None:
    pdf = _write_pdf(tmp_path / "lease.pdf", PDF_PAGES, [("Parties", 0), ("Rent", 1), ("Term", 2)])
    doc = extract_document(pdf)
    assert doc.title == "Flat lease"
    got = [(c.location.page, c.location.heading, c.location.line, " ".join(c.text.split())) for c in doc.chunks]
    assert got == [
        (1, "Parties", None, "The tenant is Ada Lovelace. The landlord is Charles Babbage."),
        (2, "Rent", None, "The rent is 900 pounds a month."),
        (3, "Rent", None, "The deposit is held by the agency."),
        (3, "Term", None, "The lease ends on 31 May 2027."),
    ]


def test_pdf_without_outline_and_real_pdf(tmp_path: Path) -> None:
    doc = extract_document(_write_pdf(tmp_path / "plain.pdf", PDF_PAGES, []))
    assert [c.location.page for c in doc.chunks] == [1, 2, 3] and {c.location.heading for c in doc.chunks} == {""}
    real = Path("/usr/share/doc/shared-mime-info/shared-mime-info-spec.pdf")
    if not real.is_file():
        pytest.skip("shared-mime-info's PDF is not installed")
    doc = extract_document(real)
    assert doc.title == real.name  # no /Title in its metadata
    pages = [c.location.page or 0 for c in doc.chunks]
    assert pages == sorted(pages) and pages[0] == 1 and pages[-1] >= 10
    assert any(c.location.heading.startswith("1. Introduction >") for c in doc.chunks)


def test_pdf_words_hyphenated_across_lines_are_joined(tmp_path: Path) -> None:
    """Typeset PDFs break words at line ends ("pat-" / "tern"; fontconfig's user guide has 44): the index and the
    snippets get the whole word; a dash before a capital or a number is kept."""
    lines = ["The heating engineer checks the boiler pres-", "sure every winter.", "Call the Smith-", "Jones office."]
    doc = extract_document(_write_pdf(tmp_path / "hyphen.pdf", [lines], []))
    text = " ".join(c.text for c in doc.chunks)
    assert "boiler pressure every winter" in text
    assert "Smith- Jones" in text or "Smith-\nJones" in text


def test_docx_headings_and_tables(tmp_path: Path) -> None:
    import docx

    word = docx.Document()
    word.add_heading("House file", level=1)
    word.add_paragraph("Everything about the house.")
    word.add_heading("Insurance", level=2)
    word.add_paragraph("The policy renews in June.")
    table = word.add_table(rows=2, cols=2)
    for r, row in enumerate([("Insurer", "Phone"), ("Acme", "555-0199")]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    word.save(str(tmp_path / "house.docx"))
    doc = extract_document(tmp_path / "house.docx")
    assert doc.title == "House file"
    got = [(c.location.heading, c.text) for c in doc.chunks]
    assert got == [
        ("House file", "Everything about the house."),
        ("House file > Insurance", "The policy renews in June.\n\nInsurer | Phone\nAcme | 555-0199"),
    ]


# ---- bad input --------------------------------------------------------------------------------------------------
def test_bad_files_give_reasons(tmp_path: Path) -> None:
    assert _bad(_write(tmp_path / "nul.txt", "text\x00more")) == "binary file (NUL bytes)"
    (tmp_path / "random.md").write_bytes(os.urandom(4096))
    assert _bad(tmp_path / "random.md").startswith("binary file")
    assert _bad(_write(tmp_path / "empty.md", "")) == "empty file"
    assert _bad(_write(tmp_path / "blank.txt", "  \n\n\t\n")) == "empty file"
    assert _bad(_write(tmp_path / "tags.html", "<html><body><script>x()</script></body></html>")) == "no text to index"
    assert _bad(_write(tmp_path / "small.txt", "word " * 400), max_bytes=1000).startswith("too large: 0.0 MB")
    huge = tmp_path / "huge.txt"
    with huge.open("wb") as handle:  # sparse: 21 MB on paper, nothing read
        handle.truncate(MAX_FILE_BYTES + 1024 * 1024)
    assert _bad(huge) == "too large: 21.0 MB (limit 20.0 MB)"
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >>\nendobj\ngarbage")
    assert _bad(tmp_path / "broken.pdf").startswith("malformed PDF: ")
    good = _write_pdf(tmp_path / "good.pdf", PDF_PAGES, [])
    (tmp_path / "cut.pdf").write_bytes(good.read_bytes()[:300])
    assert _bad(tmp_path / "cut.pdf").startswith("malformed PDF: ")
    assert _bad(_write_pdf(tmp_path / "locked.pdf", PDF_PAGES, [], password="s3cret")).startswith("encrypted PDF")
    (tmp_path / "broken.docx").write_bytes(b"PK\x03\x04 not really a zip")
    assert _bad(tmp_path / "broken.docx").startswith("malformed .docx")
    assert _bad(tmp_path / "missing.md") == "unreadable: no such file"
    assert _bad(_write(tmp_path / "picture.png", "x")) == "unsupported file type .png"
    assert _bad(_write(tmp_path / "Makefile", "x")) == "unsupported file type (no suffix)"
    (tmp_path / "folder.md").mkdir()
    assert _bad(tmp_path / "folder.md") == "not a regular file (a directory)"
    (tmp_path / "zero.txt").symlink_to("/dev/zero")
    assert _bad(tmp_path / "zero.txt") == "not a regular file (a device)"


@pytest.mark.timeout(20)
def test_fifo_never_blocks(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    reasons: list[str] = []

    def read() -> None:
        try:
            extract_document(fifo)
        except BadInputError as exc:
            reasons.append(str(exc))

    worker = threading.Thread(target=read, daemon=True)
    worker.start()
    worker.join(timeout=5)
    assert not worker.is_alive(), "extracting a FIFO blocked"
    assert reasons == ["not a regular file (a FIFO)"]


def test_long_lines_of_markdown_markup_extract_in_linear_time(tmp_path: Path) -> None:
    """A line of a megabyte of ``[``, ``**a `` or ``[a](`` once took quadratic time in the inline-markup regexes
    (4 s for 20 kB of ``[``, with the GIL held: the whole app froze while indexing it). Run in a child process so
    a regression fails here instead of hanging the suite; linear extraction of the 3 MB takes about a second."""
    page = tmp_path / "markup.md"
    page.write_text("# Markup\n\n" + "[" * 1_000_000 + "\n\n" + "**a " * 250_000 + "\n\n" + "[a](" * 250_000 + "\n")
    code = (
        "import sys; from pathlib import Path\n"
        "from jarvis_desktop.knowledge.extract import extract_document\n"
        "doc = extract_document(Path(sys.argv[1]))\n"
        "print(len(doc.chunks), sum(len(c.text) for c in doc.chunks))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code, str(page)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    chunks, chars = map(int, proc.stdout.split())
    assert chunks > 0 and chars > 1_000_000  # the text is kept (markup not matched stays as text)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_permission_denied(tmp_path: Path) -> None:
    locked = _write(tmp_path / "secret.md", "# Secret\n\nText.\n")
    locked.chmod(0)
    try:
        assert _bad(locked) == "unreadable: permission denied"
    finally:
        locked.chmod(0o600)


def test_supported_suffixes() -> None:
    assert {".md", ".txt", ".rst", ".html", ".htm", ".pdf", ".docx"} <= SUPPORTED_SUFFIXES
    assert all(s.startswith(".") and s == s.lower() for s in SUPPORTED_SUFFIXES)


# ---- the app's records ------------------------------------------------------------------------------------------
def test_record_documents() -> None:
    when = datetime(2026, 3, 3, 9, 30, tzinfo=timezone.utc)
    doc = record_document("note", 7, "Plumber Mario said the boiler valve needs replacing soon", "", when, 1.5)
    assert (doc.source_id, doc.kind, doc.size, doc.mtime, doc.created) == ("note:7", "note", 0, 1.5, when)
    assert doc.title == "Plumber Mario said the boiler valve needs replacing…"
    assert [(c.ordinal, c.text, c.location.line, c.location.heading) for c in doc.chunks] == [
        (0, "Plumber Mario said the boiler valve needs replacing soon", None, "")
    ]
    assert record_document("schedule", 3, "Dentist", "Dentist at 10", None, 2.0).title == "Dentist at 10"
    long_text = "\n\n".join(f"Paragraph {n}: we talked about the lease and the rent again today." for n in range(80))
    doc = record_document("chat", 12, long_text, "", None, 3.0)
    assert len(doc.chunks) > 3 and all(len(c.text.split()) <= MAX_WORDS for c in doc.chunks)
    assert record_document("note", 8, "   ", "", None, 0.0).chunks == []
    with pytest.raises(BadInputError, match="unknown record kind"):
        record_document("file", 1, "x", "", None, 0.0)


def test_chunk_text_lines() -> None:
    chunks = chunk_text("first para\nstill first\n\n\nsecond para\n", first_line=1)
    assert [(c.text, c.location.line) for c in chunks] == [("first para\nstill first\n\nsecond para", 1)]
    words = " ".join(f"w{n}" for n in range(1000))  # one sentence with no punctuation: cut by words
    chunks = chunk_text(words)
    assert all(len(c.text.split()) <= MAX_WORDS for c in chunks)
    assert chunks[0].text.startswith("w0 ") and chunks[-1].text.endswith("w999")


def test_pdf_locked_only_against_editing_is_read(tmp_path: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter(clone_from=str(_write_pdf(tmp_path / "open.pdf", PDF_PAGES, [])))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-256")
    with (tmp_path / "owner.pdf").open("wb") as handle:
        writer.write(handle)
    doc = extract_document(tmp_path / "owner.pdf")
    assert [c.location.page for c in doc.chunks] == [1, 2, 3]
