"""Voice-command understanding: intent and date keys from a transcript (spec: docs/nlu.md).

No Qt, no torch at import time.
"""
