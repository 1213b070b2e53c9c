"""``jarvis-desktop say TEXT``: speak a text with the app's voice, or write it to a WAV file (docs/speech.md).

The text goes through the same :class:`~jarvis_desktop.tts.speaker.Speaker` as the app's replies (sentence
splitting, ``speakable()``, the "heart" voice). ``say`` speaks even when ``[speech] enabled`` is false: it is an
explicit request. Exit codes: 0 spoken; 2 bad input (empty or unspeakable text, ``--volume``/``--rate`` out of
range, an unknown voice, an unwritable ``--wav`` path) or no usable output device; 1 internal failure.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from jarvis_desktop.cli_common import print_json
from jarvis_desktop.config import SpeechSettings, load_settings
from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.tts.hibari_voice import MAX_SPEED, MIN_SPEED, HibariSynthesizer
from jarvis_desktop.tts.output import AudioOutput
from jarvis_desktop.tts.sink import AudioSink
from jarvis_desktop.tts.speakable import speakable
from jarvis_desktop.tts.speaker import Speaker
from jarvis_desktop.tts.speech_event import FIRST_AUDIO, SENTENCE, SpeechEvent
from jarvis_desktop.tts.wav_sink import WavSink


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register the ``say`` sub-command on the CLI's sub-parsers."""
    s = sub.add_parser("say", help="speak a text with the app's voice (or write it to a WAV file)")
    s.add_argument("text", nargs="+", metavar="TEXT", help="what to say (Markdown, times and numbers are read out)")
    s.add_argument("--device", default=None, help="output device name or index (default: [speech] device)")
    s.add_argument("--volume", type=float, default=None, help="0..1 (default: [speech] volume)")
    s.add_argument("--rate", type=float, default=None, help="speed, 0.5..2.0 (default: [speech] rate)")
    s.add_argument("--voice", default=None, help='voice name (default: [speech] voice; only "heart" is embedded)')
    s.add_argument("-o", "--wav", metavar="OUT.wav", default=None, help="write the speech to a WAV file; play nothing")
    s.add_argument("--json", action="store_true", help="one JSON object per speech event, with latencies")
    s.set_defaults(func=cmd_say)


def _speech_settings(args: argparse.Namespace) -> SpeechSettings:
    """``[speech]`` with the command-line overrides, checked.

    Raises:
        BadInputError: volume or rate out of range.
    """
    base = load_settings().speech
    overrides = {k: getattr(args, k) for k in ("device", "volume", "rate", "voice") if getattr(args, k) is not None}
    speech = dataclasses.replace(base, enabled=True, **overrides)
    if not 0.0 <= speech.volume <= 1.0:
        raise BadInputError(f"volume {speech.volume} is outside 0..1")
    if not MIN_SPEED <= speech.rate <= MAX_SPEED:
        raise BadInputError(f"rate {speech.rate} is outside {MIN_SPEED}..{MAX_SPEED} (1.0 is the voice's own pace)")
    return speech


def _text(args: argparse.Namespace) -> str:
    text = " ".join(args.text).strip()
    if not text:
        raise BadInputError("nothing to say: TEXT is empty")
    if not speakable(text):
        raise BadInputError("nothing to say: TEXT holds no words to speak (only symbols or emoji)")
    return text


def _printer(as_json: bool) -> Any:
    def show(event: SpeechEvent) -> None:
        if as_json:
            print_json(event.to_dict())
        elif event.kind == FIRST_AUDIO:
            print(f"first audio after {event.latency_ms:.0f} ms", flush=True)
        elif event.kind == SENTENCE:
            print(f"  {event.text}", flush=True)

    return show


def cmd_say(args: argparse.Namespace) -> int:
    """Speak TEXT (or write it to ``--wav``) and wait until done; see the module docstring for exit codes."""
    text = _text(args)
    speech = _speech_settings(args)
    voice = HibariSynthesizer(speech.voice, speed=speech.rate)
    sink: AudioSink
    if args.wav:
        sink = WavSink(args.wav, voice.sample_rate_hz)
    else:
        output = AudioOutput(voice.sample_rate_hz, speech.device, speech.volume)
        output.open()  # a missing device is an error now (exit 2), not an event later
        sink = output
    speaker = Speaker(speech, synthesizer=voice, output=sink, listener=_printer(args.json))
    try:
        _loaded(speaker.warm_up(), args.json)  # so first_audio measures speaking, not loading the voice
        speaker.say(text)
        speaker.wait_idle()
    except KeyboardInterrupt:
        speaker.stop()
        raise
    finally:
        speaker.close()
    return _report(speaker.last_error, sink, args)


def _loaded(seconds: float, as_json: bool) -> None:
    if as_json:
        print_json({"event": "voice_loaded", "text": "", "latency_ms": round(seconds * 1000.0, 1)})
    else:
        print(f"voice loaded in {seconds:.2f} s", flush=True)


def _report(error: JarvisError | None, sink: AudioSink, args: argparse.Namespace) -> int:
    if error is not None:
        raise error
    if isinstance(sink, WavSink):
        if args.json:
            print_json({"event": "wrote", "path": str(sink.path), "duration_s": round(sink.duration_s, 3)})
        else:
            print(f"wrote {sink.path} ({sink.duration_s:.2f} s of speech)")
    sys.stdout.flush()
    return 0
