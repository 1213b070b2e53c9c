"""``jarvis-desktop listen``: hands-free on the microphone, or a recording played through the same
:class:`~jarvis_desktop.voice.session.VoiceSession` (docs/voice.md).

Output: one line per event (``--json``: one JSON object per line, :meth:`to_dict` of each
:mod:`~jarvis_desktop.voice.events` event). Exit codes: 0 done (Ctrl-C on the microphone included); 2 bad input
(missing/corrupt/non-audio file, bad ``--now``), no microphone, or a missing model or wake-word package (the message
names the package); 1 internal failure.
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from typing import Any

from jarvis_desktop.assistant import Assistant
from jarvis_desktop.cli_common import parse_now
from jarvis_desktop.config import Settings, VoiceSettings, load_settings
from jarvis_desktop.errors import AudioDeviceError, BadInputError
from jarvis_desktop.tts.speaker import Speaker
from jarvis_desktop.voice.control import send_control
from jarvis_desktop.voice.events import (
    ActionEvent,
    EndpointEvent,
    ErrorEvent,
    ParseEvent,
    ReplyEvent,
    StateEvent,
    TranscriptEvent,
    VoiceEvent,
    WakeEvent,
)
from jarvis_desktop.voice.session import VoiceSession
from jarvis_desktop.voice.sources import FileSource, MicSource


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register the ``listen`` sub-command on the CLI's sub-parsers."""
    s = sub.add_parser("listen", help="hands-free: wake word, endpointing, speech-to-text and the action")
    s.add_argument("--input", metavar="WAV", help="play a recording through the session instead of the microphone")
    s.add_argument("--fast", action="store_true", help="with --input: feed it as fast as the pipeline takes it")
    s.add_argument("--json", action="store_true", help="one JSON object per event")
    s.add_argument("--now", help="reference time, ISO 8601 (default: now)")
    s.add_argument("--dry-run", action="store_true", help="say what each action would do; change nothing")
    s.add_argument("--no-wake", action="store_true", help="every utterance is a command (no wake word)")
    s.add_argument("--duration", type=float, default=None, help="microphone: stop after S seconds")
    speech = s.add_mutually_exclusive_group()
    speech.add_argument("--mute", action="store_true", help="do not speak the replies (default on the microphone)")
    speech.add_argument("--speak", action="store_true", help="with --input: speak the replies too ([speech] output)")
    s.add_argument(
        "--toggle",
        action="store_true",
        help="tell the running Jarvis window to start or stop listening (bind this to a desktop shortcut)",
    )
    s.set_defaults(func=cmd_listen)


def format_event(event: VoiceEvent) -> str:
    """One human line for an event: ``[audio time] kind  details (+latency)``."""
    stamp = f"[{event.audio_s:7.2f}s]"
    if isinstance(event, StateEvent):
        return f"{stamp} state      {event.state.value}"
    if isinstance(event, WakeEvent):
        verdict = "accepted" if event.accepted else "rejected"
        return (
            f'{stamp} wake       {verdict} "{event.heard}" (score {event.score:.2f}, verify {event.verify_ms:.0f} ms)'
        )
    if isinstance(event, TranscriptEvent):
        spec = ", speculative" if event.speculative else ""
        return f'{stamp} transcript "{event.text}" (stt {event.stt_ms:.0f} ms{spec}, +{event.latency_ms:.0f} ms)'
    if isinstance(event, ParseEvent):
        keys = ", ".join(event.date_keys) or "-"
        return f"{stamp} parse      {event.intent} [{keys}] when {event.when or '-'} (+{event.latency_ms:.0f} ms)"
    if isinstance(event, ActionEvent):
        return f"{stamp} action     {event.intent}: {event.result} (+{event.latency_ms:.0f} ms)"
    if isinstance(event, ReplyEvent):
        return f"{stamp} reply      {event.text} ({event.reply_kind}, +{event.latency_ms:.0f} ms)"
    if isinstance(event, EndpointEvent):
        what = "command" if event.addressed else "ignored (no wake word)"
        return f"{stamp} endpoint   {event.start_s:.2f}-{event.end_s:.2f}s {what} (+{event.latency_ms:.0f} ms)"
    if isinstance(event, ErrorEvent):
        return f"{stamp} error      {event.stage}: {event.message}"
    return f"{stamp} {event.kind:<10} {_short(event)}"


def _short(event: VoiceEvent) -> str:
    data = event.to_dict()
    for key in ("event", "audio_s"):
        data.pop(key, None)
    return " ".join(f"{k}={v}" for k, v in data.items())


class _Printer:
    """The session's listener: prints each event at once (flushed), from the session's threads."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json

    def __call__(self, event: VoiceEvent) -> None:
        if self.as_json:
            line: str | None = json.dumps(event.to_dict(), ensure_ascii=False)
        else:
            line = format_event(event)
        if line is not None:
            sys.stdout.write(line + "\n")
            sys.stdout.flush()


def cmd_listen(args: argparse.Namespace) -> int:
    """Run a voice session on ``--input`` or the microphone until the recording ends (or Ctrl-C / ``--duration``).

    ``--toggle`` instead sends ``listen-toggle`` to the running window's control socket
    (:mod:`jarvis_desktop.voice.control`), prints its reply (``ok``) and returns at once.

    Raises:
        BadInputError: bad file or ``--now``; ``--fast`` without ``--input``. ModelNotFoundError: a missing model
        or wake-word package. AudioDeviceError: no microphone. AppNotRunningError: ``--toggle`` with no window.
    """
    if args.toggle:
        if args.input or args.fast or args.duration is not None:
            raise BadInputError("--toggle talks to the running window; it takes no --input, --fast or --duration")
        print(send_control("listen-toggle"))
        return 0
    now = parse_now(args.now)
    if args.fast and not args.input:
        raise BadInputError("--fast needs --input WAV (the microphone runs in real time)")
    source = FileSource(args.input, realtime=not args.fast) if args.input else None  # bad file: exit 2 here
    settings = load_settings()
    voice = VoiceSettings(**{**vars(settings.voice), "wake_word": settings.voice.wake_word and not args.no_wake})
    assistant = Assistant(settings, record_history=False)
    speak = settings.speech.enabled and not args.mute and (source is None or args.speak)
    speaker = Speaker(settings.speech) if speak else None
    session = VoiceSession(
        assistant, voice, listener=_Printer(args.json), now=now, dry_run=args.dry_run, speaker=speaker
    )
    session.start()
    stop = threading.Event()
    try:
        if source is not None:
            source.run(session, stop)
        else:
            _listen_on_mic(session, settings, stop, args.duration)
    except KeyboardInterrupt:
        stop.set()
    finally:
        session.finish(timeout=30)
        if speaker is not None:
            speaker.wait_idle(timeout=30)  # the last reply is heard to its end
            speaker.close()
        assistant.close()
    return 0


def _listen_on_mic(session: VoiceSession, settings: Settings, stop: threading.Event, duration: float | None) -> None:
    errors: list[AudioDeviceError] = []

    def failed(error: AudioDeviceError) -> None:
        errors.append(error)
        stop.set()

    MicSource(settings.audio).run(session, stop, duration, on_error=failed)
    if errors:
        raise errors[0]
