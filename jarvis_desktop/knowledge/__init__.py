"""Ask your own notes and documents (docs/knowledge.md): text extraction and chunking with citation positions
(:mod:`.extract`, :mod:`.chunking`), sentence embeddings (:mod:`.embedder`), the index in the app's SQLite
database with hybrid BM25 + vector retrieval (:mod:`.index`, :mod:`.retrieve`), the sources kept in sync
(:mod:`.sources`, :mod:`.indexer`) and grounded answers with citations (:mod:`.answer`).

No Qt here; heavy libraries (torch, sentence-transformers, pypdf) are imported inside functions. The types that
cross module borders are in :mod:`.types`.
"""
