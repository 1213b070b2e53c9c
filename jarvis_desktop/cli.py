"""``jarvis-desktop``: the command line on the same engine as the GUI.

Exit codes: 0 success; 2 bad input or usage (one line on stderr starting ``error:``); 1 internal failure.
``parse --jsonl`` reports a bad input line in-band (an ``{"error": ...}`` output line) and exits 0.
Heavy modules (faster_whisper, llama_cpp, fasttext, Qt) are imported only by the sub-command that needs them.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from jarvis_desktop import __version__
from jarvis_desktop.assistant import Assistant, TokenCallback, Turn
from jarvis_desktop.cli_actions import add_parsers as add_action_parsers
from jarvis_desktop.cli_common import parse_now, print_json
from jarvis_desktop.cli_db import add_parser as add_db_parser
from jarvis_desktop.cli_desktop import add_parser as add_desktop_parser
from jarvis_desktop.cli_knowledge import add_parsers as add_knowledge_parsers
from jarvis_desktop.cli_models import add_parser as add_models_parser
from jarvis_desktop.cli_monitor import add_parser as add_monitor_parser
from jarvis_desktop.cli_reply_voice import ReplyVoice, add_speech_flags, wants_speech
from jarvis_desktop.cli_speech import add_parser as add_say_parser
from jarvis_desktop.cli_training import add_parsers as add_training_parsers
from jarvis_desktop.cli_voice import add_parser as add_listen_parser
from jarvis_desktop.doctor import run_checks
from jarvis_desktop.errors import BadInputError, JarvisError, NoSpeechError
from jarvis_desktop.knowledge.answer import (
    CitationStream,
    check_citations,
    citation_to_dict,
    grounded_messages,
    source_lines,
)
from jarvis_desktop.llm.context import estimate_tokens
from jarvis_desktop.llm.router import RouteInfo
from jarvis_desktop.llm.types import ChatMessage
from jarvis_desktop.models import NLU_MODEL_DIR
from jarvis_desktop.nlu.engine import NluEngine
from jarvis_desktop.nlu.evaluate import run_nlu_eval
from jarvis_desktop.nlu.train import DEFAULT_N, train_nlu
from jarvis_desktop.nlu.vocab import vocabulary_json

DEBUG_HELP = "on an internal failure, show the traceback (also JARVIS_DEBUG=1)"


class _Parser(argparse.ArgumentParser):
    """argparse with the CLI's error contract: one ``error:`` line on stderr, exit code 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        sys.stderr.write(f"error: {message} (see {self.prog} --help)\n")
        raise SystemExit(2)


# ---- sub-commands ------------------------------------------------------------------------------
def cmd_transcribe(args: argparse.Namespace) -> int:
    assistant = Assistant(record_history=False)
    status = 0
    for path in args.paths:
        try:
            transcript = assistant.transcribe(path)
            row = {
                "path": path,
                "transcript": transcript.text.strip(),
                "audio_duration_s": round(transcript.duration_s, 3),
                "stt_seconds": round(transcript.stt_seconds, 3),
                "language": transcript.language,  # detected with [stt] language = "auto", else the fixed one
            }
        except NoSpeechError as exc:
            sys.stderr.write(f"error: {exc.user_message()}\n")
            status = 2
            continue
        if args.json:
            print_json(row)
        else:
            print(f"{path}\t{row['audio_duration_s']:.2f}s audio\t{row['stt_seconds']:.2f}s STT\t{row['transcript']}")
    return status


def _parse_row(engine: NluEngine, text: str, now: datetime | None) -> dict[str, object]:
    return engine.parse(text, now=now).to_dict()


#: a UTF-16 surrogate left alone in a decoded JSON string (an input "\ud800" escape): UTF-8 cannot carry it
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def _jsonl_row(engine: NluEngine, line: str, lineno: int) -> dict[str, object]:
    """The output object of one non-blank ``parse --jsonl`` input line: the parse result, or
    ``{"error": "line N: ..."}``. Never raises for any line (a failure of the engine is reported too)."""
    try:
        item = json.loads(line)
    except ValueError as exc:
        return {"error": f"line {lineno}: not valid JSON: {exc}"}
    except RecursionError:  # "[[[[...]]]]" deeper than the interpreter's recursion limit
        return {"error": f"line {lineno}: not valid JSON: nested too deeply"}
    if not isinstance(item, dict) or not isinstance(item.get("text"), str):
        return {"error": f'line {lineno}: expected an object with a "text" string'}
    now_value = item.get("now")
    if now_value is not None and not isinstance(now_value, str):
        return {"error": f'line {lineno}: "now" must be an ISO date-time string (e.g. "2026-11-22T18:05")'}
    text = _LONE_SURROGATE.sub("\ufffd", item["text"])
    try:
        return _parse_row(engine, text, parse_now(now_value))
    except JarvisError as exc:
        return {"error": f"line {lineno}: {exc.user_message()}"}
    except Exception as exc:  # one line must never end the stream: report it in-band and go on
        return {"error": f"line {lineno}: could not parse this line ({type(exc).__name__}: {exc})"}


def _encode_row(row: dict[str, object]) -> bytes:
    """One output line as UTF-8 bytes; text that UTF-8 cannot carry is written as JSON ``\\u`` escapes."""
    try:
        return (json.dumps(row, ensure_ascii=False, default=str) + "\n").encode("utf-8")
    except UnicodeEncodeError:
        return (json.dumps(row, ensure_ascii=True, default=str) + "\n").encode("ascii")


def parse_jsonl_stream(engine: NluEngine, lines: Iterable[bytes], out: BinaryIO) -> int:
    """``parse --jsonl`` over raw input lines: for each non-blank line, in order, exactly one line of
    valid UTF-8 JSON on ``out``: the parse result or ``{"error": "line N: ..."}`` (N counts every input
    line, 1-based). Bytes that are not UTF-8 are read as U+FFFD. A bad line never affects later lines.

    Returns:
        0: bad lines are reported in-band, never by the exit code.
    """
    for lineno, raw in enumerate(lines, 1):
        line = raw.decode("utf-8", errors="replace")
        if not line.strip():
            continue
        try:
            data = _encode_row(_jsonl_row(engine, line, lineno))
        except Exception as exc:  # e.g. a result JSON cannot write; still one line for this input line
            data = _encode_row({"error": f"line {lineno}: could not write the result ({type(exc).__name__})"})
        out.write(data)
        out.flush()
    return 0


def _parse_jsonl(engine: NluEngine) -> int:
    """``parse --jsonl``: stdin read as bytes, see :func:`parse_jsonl_stream` (exit code 0)."""
    sys.stdout.flush()
    return parse_jsonl_stream(engine, sys.stdin.buffer, sys.stdout.buffer)


def cmd_parse(args: argparse.Namespace) -> int:
    now = parse_now(args.now)
    if not args.jsonl and args.text is None:
        raise BadInputError("parse needs TEXT or --jsonl")
    engine = Assistant(record_history=False).nlu
    if args.jsonl:
        return _parse_jsonl(engine)
    result = engine.parse(args.text, now=now)
    if args.json:
        print_json(result.to_dict())
    else:
        print(f"intent:    {result.intent} ({result.confidence:.2f}, {result.source})")
        print(f"date keys: {', '.join(result.date_keys) or '-'}")
        print(f"when:      {result.when or '-'}")
        if result.payload:
            print(f"payload:   {result.payload}")
    return 0


def _print_turn(turn: Turn, streamed: bool) -> None:
    t = turn.timings_ms
    if turn.transcript is not None:
        print(f"transcript: {turn.transcript.text.strip()}")
    p = turn.parse
    print(f"intent:     {p.intent} ({p.confidence:.2f}, {p.source})")
    print(f"date keys:  {', '.join(p.date_keys) or '-'}")
    print(f"when:       {p.when or '-'}")
    if not streamed:
        print(f"reply:      {turn.reply.text}")
    for line in source_lines(turn.reply.citations):  # a grounded answer's numbered sources
        print(line)
    timing = ", ".join(f"{k} {v:.0f} ms" for k, v in t.items())
    print(f"timings:    {timing}")


#: How ``ask`` / ``do`` run one turn: ``(assistant, now, on_token) -> Turn``.
TurnRunner = Callable[[Assistant, datetime | None, TokenCallback | None], Turn]


def _ask(args: argparse.Namespace, run: TurnRunner) -> int:
    assistant = Assistant(record_history=False)
    # A one-shot command cannot take the follow-up "yes" an unsure action would wait for: it acts (see --dry-run).
    assistant.settings.nlu.confirm_below = 0.0
    now = parse_now(args.now)
    streamed = not args.json
    printed: list[str] = []
    voice = ReplyVoice(assistant.settings) if wants_speech(args, assistant.settings) else None

    def on_token(delta: str) -> None:
        if voice is not None:
            voice.feed(delta)
        if not streamed:
            return
        if not printed:
            sys.stdout.write("reply:      ")
        printed.append(delta)
        sys.stdout.write(delta)
        sys.stdout.flush()

    turn = run(assistant, now, on_token if streamed or voice is not None else None)
    if voice is not None:
        voice.finish()
    if args.json:
        print_json({**turn.to_dict(), **({"speak_start": voice.to_json()} if voice is not None else {})})
    else:
        sys.stdout.write("\n")
        _print_turn(turn, streamed=True)
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    path = Path(args.path)
    return _ask(args, lambda a, now, cb: a.ask_audio(path, now=now, on_token=cb))


def _chat_json(prompt: str, reply: str, route: RouteInfo, first_ms: float | None, t0: float) -> dict[str, object]:
    """``chat --json``'s object."""
    stats = route.stats
    return {
        "prompt": prompt,
        "reply": reply,
        "backend": route.backend,
        "reason": route.reason,
        "notice": route.notice,
        "fallback": route.fallback,
        "timings_ms": {
            "first_token": round(first_ms or 0.0, 1),
            "total": round((time.perf_counter() - t0) * 1000, 1),
            "switch": round(route.switch_s * 1000, 1),
        },
        "tokens_per_s": round(stats.tokens_per_s, 1) if stats else None,
        "completion_tokens": stats.completion_tokens if stats else None,
    }


def _notice_to_stderr(text: str) -> None:
    sys.stderr.write(f"\nnote: {text}\n")


def cmd_chat(args: argparse.Namespace) -> int:
    prompt = " ".join(args.prompt).strip()
    if not prompt:
        raise BadInputError("empty prompt")
    assistant = Assistant(record_history=False)
    t0 = time.perf_counter()
    chunks: list[str] = []
    first_ms = None
    router = assistant.chat_router  # local or remote per the placement policy (docs/offload.md)
    notice = _notice_to_stderr if not args.json else None
    citations = assistant.knowledge_citations(prompt)  # answered from the user's notes when relevant
    messages: list[ChatMessage] = [{"role": "user", "content": prompt}]
    if citations:
        messages = grounded_messages(prompt, citations, estimate_tokens, assistant.settings.chat.paste_limit_tokens)
    shown = CitationStream(citations)
    for delta in router.stream(messages, placement=args.placement, on_notice=notice):
        first_ms = first_ms if first_ms is not None else (time.perf_counter() - t0) * 1000
        chunks.append(delta)
        if not args.json:
            sys.stdout.write(shown.feed(delta))  # an invented "[n]" never reaches the terminal
            sys.stdout.flush()
    route = router.last
    assert route is not None  # set by stream()
    reply = check_citations("".join(chunks).strip(), citations)
    if args.json:
        print_json(
            {**_chat_json(prompt, reply, route, first_ms, t0), "citations": [citation_to_dict(c) for c in citations]}
        )
    else:
        sys.stdout.write(shown.flush() + "\n")
        for line in source_lines(citations):
            print(line)
        sys.stderr.write(f"[{route.backend}: {route.reason}]\n")
    return 0


def cmd_date_keys(args: argparse.Namespace) -> int:
    print(json.dumps(vocabulary_json(), indent=2))
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    checks = run_checks()
    if args.json:
        print_json([c.to_dict() for c in checks])
    else:
        for c in checks:
            mark = {"ok": "ok  ", "warn": "warn", "missing": "MISS"}[c.status]
            line = f"[{mark}] {c.name}: {c.detail}"
            if c.fix and c.status != "ok":
                line += f"\n        fix: {c.fix}"
            print(line)
    return 0 if all(c.status != "missing" for c in checks) else 1


def cmd_train_nlu(args: argparse.Namespace) -> int:
    out = Path(args.output) if args.output else NLU_MODEL_DIR
    report = train_nlu(out, n=args.size or DEFAULT_N, seed=args.seed)
    print(json.dumps(report, indent=2) if isinstance(report, dict) else report)
    return 0


def cmd_nlu_eval(args) -> int:
    engine = Assistant(record_history=False).nlu
    data = Path(args.data) if args.data else None
    rows_out = Path(args.rows_out) if args.rows_out else None
    print(run_nlu_eval(engine, data, as_json=args.json, thresholds=args.thresholds, rows_out=rows_out))
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for docs and tests)."""
    p = _Parser(
        prog="jarvis-desktop",
        description="Offline desktop voice assistant. Without a sub-command the GUI starts.",
    )
    p.add_argument("--debug", action="store_true", help=DEBUG_HELP)
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    p.add_argument(
        "--minimized",
        action="store_true",
        help="start the GUI hidden in the system tray (shown if the desktop has no tray); login autostart uses it",
    )
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    s = sub.add_parser("transcribe", help="speech-to-text on audio files")
    s.add_argument("paths", nargs="+", metavar="PATH")
    s.add_argument("--json", action="store_true", help="one JSON object per file")
    s.set_defaults(func=cmd_transcribe)

    s = sub.add_parser("parse", help="intent, date keys and time of a text command")
    s.add_argument("text", nargs="?", metavar="TEXT")
    s.add_argument("--now", help="reference time, ISO 8601 (default: now)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--jsonl", action="store_true", help='read {"text", "now"} JSON lines on stdin')
    s.set_defaults(func=cmd_parse)

    s = sub.add_parser("ask", help="the whole voice pipeline on a recording")
    s.add_argument("path", metavar="PATH.wav")
    s.add_argument("--now", help="reference time, ISO 8601 (default: now)")
    s.add_argument("--json", action="store_true")
    add_speech_flags(s)
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("do", help="understand and answer a typed command (as ask does on a recording)")
    s.add_argument("text", metavar="TEXT")
    s.add_argument("--now", help="reference time, ISO 8601 (default: now)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--dry-run", action="store_true", help="say what the action would do; change nothing")
    add_speech_flags(s)
    s.set_defaults(
        func=lambda a: _ask(a, lambda asst, now, cb: asst.ask_text(a.text, now=now, on_token=cb, dry_run=a.dry_run))
    )

    add_action_parsers(sub)  # schedule, notes, calendar, undo

    s = sub.add_parser("chat", help="stream the chat model's reply (local or remote, see docs/offload.md)")
    s.add_argument("prompt", nargs="+", metavar="PROMPT")
    s.add_argument("--json", action="store_true")
    s.add_argument(
        "--placement",
        choices=("auto", "local", "remote"),
        default=None,
        help="where to run it (default: [remote] placement, auto)",
    )
    s.set_defaults(func=cmd_chat)

    add_monitor_parser(sub)  # monitor

    add_training_parsers(sub)  # train-adapter, jobs, adapters

    add_listen_parser(sub)  # listen (docs/voice.md)

    add_say_parser(sub)  # say (docs/speech.md)

    add_models_parser(sub)  # models list/download/use/remove (docs/models.md)

    add_db_parser(sub)  # db check/backup/restore/salvage (docs/reliability.md)

    add_desktop_parser(sub)  # desktop install/remove/status (docs/install.md)

    add_knowledge_parsers(sub)  # index add/remove/status/rebuild, search (docs/knowledge.md)

    s = sub.add_parser("date-keys", help="print the date-key vocabulary as JSON")
    s.set_defaults(func=cmd_date_keys)

    s = sub.add_parser("doctor", help="check models, audio devices, Qt and CPU features")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_doctor)

    s = sub.add_parser("train-nlu", help="generate the corpus and train the FastText models")
    s.add_argument("--output", help="output directory (default: models/nlu)")
    s.add_argument("--size", type=int, default=None, help="corpus size in utterances (default: the shipped model's)")
    s.add_argument("--seed", type=int, default=13)
    s.set_defaults(func=cmd_train_nlu)

    s = sub.add_parser("nlu-eval", help="accuracy and latency of the NLU engine on validation data")
    s.add_argument("--data", help="JSONL with text, intent, date_keys (default: the generated validation split)")
    s.add_argument("--json", action="store_true")
    s.add_argument("--thresholds", action="store_true", help="also print the fast-path confidence threshold table")
    s.add_argument(
        "--rows-out",
        metavar="FILE",
        help="also write one JSON line per row (text, intent, keys, when, payload, source)",
    )
    s.set_defaults(func=cmd_nlu_eval)
    return p


def _accept_debug_everywhere(parser: argparse.ArgumentParser) -> None:
    """Let ``--debug`` also follow a sub-command (``jarvis-desktop parse x --debug``), at every depth.
    ``default=SUPPRESS``: a sub-parser that did not see the flag leaves the top-level value alone."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for child in action.choices.values():
                if "--debug" not in child._option_string_actions:
                    child.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help=DEBUG_HELP)
                _accept_debug_everywhere(child)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse the command line (``sys.argv[1:]`` when None). ``command`` is None when no sub-command was given
    (:mod:`jarvis_desktop.entry` then starts the GUI). Bad usage exits 2 with one ``error:`` line."""
    parser = build_parser()
    _accept_debug_everywhere(parser)
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> int:
    """Run the parsed sub-command; returns the exit code (the CLI contract: 0 ok, 2 bad input, 1 internal).

    An internal failure prints one ``error: internal failure: ...`` line; with ``--debug`` (or
    ``JARVIS_DEBUG=1``) its traceback is raised instead.
    """
    func: Callable[[argparse.Namespace], int | None] | None = getattr(args, "func", None)
    if func is None:
        sys.stderr.write("error: no sub-command given (see jarvis-desktop --help; without one the GUI starts)\n")
        return 2
    try:
        return int(func(args) or 0)
    except JarvisError as exc:
        sys.stderr.write(f"error: {exc.user_message()}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("error: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # internal failure: say what, not a traceback wall
        sys.stderr.write(f"error: internal failure: {type(exc).__name__}: {exc}\n")
        if args.debug or os.environ.get("JARVIS_DEBUG"):
            raise
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """The command line without the GUI: parse ``argv`` and run the sub-command; returns the exit code.
    ``jarvis-desktop`` itself is :func:`jarvis_desktop.entry.main` (the GUI when no sub-command is given)."""
    return run(parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
