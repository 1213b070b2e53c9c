"""Spoken replies in the window: one :class:`~jarvis_desktop.tts.speaker.Speaker` shared by typed turns,
push-to-talk, the hands-free session and fired reminders, with the "Speak replies" switch (the tray's check).

Every call returns at once (the Speaker synthesizes and plays on its own threads), so the window calls these from
the GUI thread. A new turn, push-to-talk or the hotkey interrupts what is being said (:meth:`interrupt`); a
reminder that fires while a reply is spoken is queued after it.
"""

from __future__ import annotations

import dataclasses
import logging
import threading

from jarvis_desktop.config import SpeechSettings
from jarvis_desktop.tts.speaker import Speaker, SpeechStream

log = logging.getLogger(__name__)


class ReplyVoice:
    """The window's spoken replies. ``speaker``: the Speaker, or ``None`` (a window built without settings, as in
    most tests: nothing is ever spoken). ``enabled``: ``[speech] enabled``, switched by :meth:`set_enabled`."""

    def __init__(self, settings: SpeechSettings | None) -> None:
        # the Speaker always speaks when asked; muting is this object's switch (the tray flips it at run time)
        self.speaker = Speaker(dataclasses.replace(settings, enabled=True)) if settings is not None else None
        self.enabled = settings is not None and settings.enabled
        self._stream: SpeechStream | None = None

    @property
    def active(self) -> bool:
        """True when replies are spoken (a speaker exists and the switch is on)."""
        return self.speaker is not None and self.enabled

    def set_enabled(self, on: bool) -> None:
        """The "Speak replies" switch; off also silences what is being said."""
        self.enabled = on
        if not on:
            self.interrupt()

    def begin_turn(self) -> None:
        """A typed or push-to-talk turn starts: stop what is being said; its reply will be spoken as it streams."""
        self.interrupt()
        if self.active and self.speaker is not None:
            self._stream = self.speaker.begin_stream()

    def token(self, piece: str) -> None:
        """A streamed piece of the reply (an action's sentence comes as one piece)."""
        if self._stream is not None:
            self._stream.feed(piece)

    def chat_started(self) -> None:
        """The reply turned out to be a chat answer: with ``[speech] speak_chat`` off it is not read out."""
        if self._stream is not None and self.speaker is not None and not self.speaker.settings.speak_chat:
            self._stream.end()
            self._stream = None

    def end_turn(self) -> None:
        """The turn ended (answered, failed or stopped): the last sentence is spoken."""
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.end()

    def failed(self, message: str) -> None:
        """A turn failed: say so plainly, in one short sentence (the window shows the whole message)."""
        self._stream = None
        first = message.split(" (")[0].split(": ")[0].strip().rstrip(".")
        self.say(f"Sorry, that did not work: {first}." if first else "Sorry, that did not work.")

    def say(self, text: str) -> None:
        """Speak ``text`` after whatever is being said (a fired reminder, timer or alarm)."""
        if self.active and self.speaker is not None and text.strip():
            self.speaker.say(text)

    def replay(self, text: str) -> None:
        """ "Say again" on a chat message: stop what is being said and speak ``text`` (even when muted: the user
        asked for it)."""
        self.interrupt()
        if self.speaker is not None and text.strip():
            self.speaker.say(text)

    def interrupt(self) -> None:
        """Stop speaking now (barge-in from the window: a new turn, push-to-talk, the hotkey, the switch)."""
        self._stream = None
        if self.speaker is not None and self.speaker.speaking:
            self.speaker.stop()

    def apply(self, settings: SpeechSettings) -> None:
        """New ``[speech]`` settings from the Settings dialog: a new Speaker with them (the old one is stopped and
        closed on a short thread, so the GUI thread never waits for its device). No-op in a window without one."""
        if self.speaker is None:
            return
        old = self.speaker
        self._stream = None
        self.speaker = Speaker(dataclasses.replace(settings, enabled=True))
        self.enabled = settings.enabled
        threading.Thread(target=_close, args=(old,), name="jarvis-close-speaker", daemon=True).start()

    def close(self) -> None:
        """Stop and release the output device (window shutdown)."""
        if self.speaker is not None:
            self.speaker.stop()
            self.speaker.close()


def _close(speaker: Speaker) -> None:
    speaker.stop()
    speaker.close()
