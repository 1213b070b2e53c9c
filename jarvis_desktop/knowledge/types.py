"""The typed records that cross the knowledge package's module borders (and reach the CLI and the window).

A *document* is one thing the user can cite: a file in an indexed folder, a note, a conversation's message, a
schedule item. It is cut into *chunks* (a few hundred words each, never across a heading), each with the
*location* a citation needs. A search returns *hits*, best first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

#: the kinds of document (``Document.kind``): a file from an indexed folder or one of the app's own records
KINDS = ("file", "note", "chat", "schedule")


@dataclass(frozen=True)
class Location:
    """Where a chunk sits in its document, for the citation and for opening it there.

    ``page``: 1-based PDF page (None for other formats). ``heading``: the heading path above the chunk,
    outermost first, joined with " > " ("" when none). ``line``: the 1-based line of the chunk's first line in
    the file's text (Markdown, text; for HTML the line in the extracted text; None for PDF and app records).
    """

    page: int | None = None
    heading: str = ""
    line: int | None = None


@dataclass(frozen=True)
class Chunk:
    """One indexed piece of a document: ``ordinal`` = its 0-based position in the document; ``text`` = the chunk
    as indexed and shown to the chat model (the heading path is part of what is embedded, not of ``text``)."""

    ordinal: int
    text: str
    location: Location


@dataclass(frozen=True)
class Document:
    """A document ready to index.

    ``source_id``: its key in the index: the absolute path of a file, or ``note:<id>``, ``chat:<message id>``,
    ``schedule:<id>`` for the app's records. ``kind``: one of :data:`KINDS`. ``title``: what a citation names
    (a file's name or first heading, a note's first words). ``mtime``: the file's modification time (POSIX
    seconds) or the record's last change; ``size``: bytes of the source (0 for records). ``created``: when a note
    or message was written (None for files), so a spoken citation can say "from your note of March 3".
    """

    source_id: str
    kind: str
    title: str
    mtime: float
    size: int
    chunks: list[Chunk]
    created: datetime | None = None


@dataclass(frozen=True)
class SearchHit:
    """One search result, best first.

    ``score``: the fused score (hybrid: in [0, 1], retrieve.py; higher is better; comparable only within one search).
    ``bm25_rank`` / ``vector_rank``: 1-based rank in each retriever (None: not in that retriever's top list).
    ``similarity``: cosine similarity of query and chunk embeddings in [-1, 1] (None without vectors); the
    relevance threshold for grounded answers is set on it. ``snippet``: a short extract around the query words.
    """

    chunk_id: int
    source_id: str
    kind: str
    title: str
    text: str
    snippet: str
    location: Location
    score: float
    bm25_rank: int | None = None
    vector_rank: int | None = None
    similarity: float | None = None
    created: datetime | None = None


@dataclass(frozen=True)
class FileProblem:
    """A file that was skipped, with why (unreadable, binary, too large, malformed); it never stops the index."""

    path: str
    reason: str


@dataclass
class IndexStatus:
    """What the Knowledge tab and ``index status`` show.

    ``folders``: the indexed folders (absolute). ``files`` / ``records`` / ``chunks``: counts in the index.
    ``last_update``: when the index last changed (aware UTC; None when empty). ``pending``: files waiting to be
    (re)indexed. ``paused``: the background indexer is paused. ``vectors``: embeddings are available (False:
    BM25 only, e.g. sentence-transformers not installed, with ``vectors_note`` saying why). ``problems``: skipped
    files and their reasons.
    """

    folders: list[str] = field(default_factory=list)
    files: int = 0
    records: int = 0
    chunks: int = 0
    last_update: datetime | None = None
    pending: int = 0
    paused: bool = False
    vectors: bool = False
    vectors_note: str = ""
    problems: list[FileProblem] = field(default_factory=list)


@dataclass(frozen=True)
class Citation:
    """A source a grounded answer cites: ``number`` as written in the answer ("[1]"), and the hit it stands for.
    ``label``: the short form shown and spoken ("lease.pdf, page 3", "your note of 3 March")."""

    number: int
    hit: SearchHit
    label: str
