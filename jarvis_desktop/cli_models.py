"""``jarvis-desktop models``: the model catalogue on the command line (see docs/models.md)."""
