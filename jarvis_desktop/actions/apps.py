"""``app_open``: launch an installed application by (fuzzy) name, or open a web address.

* "youtube.com", "https://example.org/x" -> the default browser (``webbrowser``).
* Otherwise the name is matched against the registry (:mod:`.desktop_entries`): Name, GenericName,
  keywords, ID and program name, exact words first, then ``difflib`` similarity (>= :data:`MIN_SCORE`);
  "browser", "terminal", "file manager" ... also match the freedesktop categories.
* The user's words are never run: a name holding anything but letters, digits, spaces and ``. + - ' _``,
  or a sentence holding a shell metacharacter (``; | & $ ` < >`` or a backslash), is refused; the launched
  command comes only from the entry's ``Exec=``, as an argument list, with ``start_new_session=True`` (it
  outlives Jarvis and gets no terminal signals from it).
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import webbrowser
from pathlib import Path

from jarvis_desktop.actions.context import ActionContext
from jarvis_desktop.actions.desktop_entries import AppEntry, exec_argv, installed_apps
from jarvis_desktop.actions.result import ActionResult, refused, would
from jarvis_desktop.errors import BadInputError
from jarvis_desktop.nlu.result import ParseResult

MIN_SCORE = 0.75
_SAFE_NAME = re.compile(r"^[\w .+'\-]+$")
#: shell metacharacters: a sentence holding any is refused even when the payload extractor dropped them
_SHELL_CHARS = re.compile(r"[;|&$`<>\\]|\$\(")
_URL = re.compile(r"^(?:https?://\S+|(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}(?:[/?#]\S*)?)$", re.I)
_CATEGORY_WORDS = {
    "browser": "WebBrowser",
    "web browser": "WebBrowser",
    "internet": "WebBrowser",
    "terminal": "TerminalEmulator",
    "console": "TerminalEmulator",
    "shell": "TerminalEmulator",
    "file manager": "FileManager",
    "files": "FileManager",
    "file browser": "FileManager",
    "text editor": "TextEditor",
    "editor": "TextEditor",
    "calculator": "Calculator",
    "email": "Email",
    "mail": "Email",
    "music player": "Player",
    "video player": "Player",
    "settings": "Settings",
    "calendar": "Calendar",
    "image viewer": "Viewer",
}
_NOISE = re.compile(r"^(?:the|a|an|my)\s+|\s+(?:app|application|program|window)$", re.I)


def _norm(name: str) -> str:
    name = re.sub(r"\s+", " ", name.lower()).strip()
    for _ in range(2):
        name = _NOISE.sub("", name).strip()
    return name


def score(query: str, entry: AppEntry) -> float:
    """How well ``query`` names ``entry`` in [0, 1]: 1 exact name, 0.95 category word, 0.9 whole-word
    containment, else the best ``difflib`` ratio over its names."""
    q = _norm(query)
    best = 0.0
    category = _CATEGORY_WORDS.get(q)
    if category and category in entry.categories:
        best = 0.95
    for name in entry.names():
        n = _norm(name)
        if not n:
            continue
        if n == q:
            return 1.0
        if re.search(rf"\b{re.escape(q)}\b", n) or re.search(rf"\b{re.escape(n)}\b", q):
            best = max(best, 0.9 if len(q) >= 3 and len(n) >= 3 else 0.0)
        best = max(best, difflib.SequenceMatcher(None, q, n).ratio())
    return best


def find_app(query: str, apps: list[AppEntry] | None = None) -> tuple[AppEntry | None, float]:
    """The best-matching installed application and its score (None, 0.0 below :data:`MIN_SCORE`)."""
    apps = installed_apps() if apps is None else apps
    scored = sorted(((score(query, a), a.name.lower(), a) for a in apps), key=lambda t: (-t[0], t[1]))
    if not scored or scored[0][0] < MIN_SCORE:
        return None, scored[0][0] if scored else 0.0
    return scored[0][2], scored[0][0]


def launch_argv(entry: AppEntry) -> list[str]:
    """The argument list that starts ``entry`` on this platform.

    Raises:
        BadInputError: a broken Exec, its program not installed, or a terminal app with no terminal.
    """
    if sys.platform == "darwin":
        return ["open", "-a", str(entry.path)]
    argv = exec_argv(entry)
    if shutil.which(argv[0]) is None and not os.access(argv[0], os.X_OK):
        raise BadInputError(f"{entry.name} is listed, but its program {argv[0]!r} is not installed")
    if entry.terminal:
        terminal = shutil.which("x-terminal-emulator") or shutil.which("xterm")
        if terminal is None:
            raise BadInputError(
                f"{entry.name} runs in a terminal and no terminal is installed",
                hint="install xterm or a terminal emulator",
            )
        argv = [terminal, "-e", *argv]
    return argv


def start(entry: AppEntry) -> int | None:
    """Start ``entry`` detached; returns the process id (None on Windows, where the shell starts it).

    Raises:
        BadInputError: see :func:`launch_argv`; or the program exited at once with an error.
    """
    if sys.platform.startswith("win"):
        os.startfile(str(entry.path))  # type: ignore[attr-defined]  # the shortcut, not user text
        return None
    argv = launch_argv(entry)
    cwd = entry.working_dir if entry.working_dir and Path(entry.working_dir).is_dir() else str(Path.home())
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            close_fds=True,
        )
    except OSError as exc:
        raise BadInputError(f"could not start {entry.name}: {exc.strerror or exc}") from exc
    try:
        code = proc.wait(timeout=0.3)  # catches a program that fails at once; a GUI app keeps running
    except subprocess.TimeoutExpired:
        return proc.pid
    if code != 0:
        raise BadInputError(f"{entry.name} exited at once with status {code}")
    return proc.pid


def open_url(url: str) -> bool:
    """Open ``url`` in the default browser; False when no browser could be started."""
    return webbrowser.open(url if "://" in url else f"https://{url}")


def open_app(parse: ParseResult, ctx: ActionContext) -> ActionResult:
    """Open what ``parse.payload`` names ("firefox", "the terminal", "youtube.com").

    ``data``: ``app`` (name), ``desktop_id``, ``pid``, ``score``; or ``url``.
    """
    name = (parse.payload or "").strip().strip(".")
    if not name:
        return refused(parse.intent, "Which application should I open?", "Open — no name")
    if _URL.match(name):
        if ctx.dry_run:
            return would(parse.intent, f"open {name} in the browser", url=name)
        if not open_url(name):
            return refused(parse.intent, f"No web browser found to open {name}.", f"Open: {name}", url=name)
        return ActionResult(
            intent=parse.intent,
            kind="done",
            text=f"Opening {name} in your browser.",
            summary=f"Open: {name}",
            data={"url": name},
        )
    if _SHELL_CHARS.search(parse.text or ""):
        return refused(
            parse.intent,
            "That request holds shell characters (; | & $ ` < >); nothing was started.",
            "Open: refused",
            name=name,
        )
    if not _SAFE_NAME.match(name):
        return refused(
            parse.intent,
            f"“{name}” does not look like an application name; nothing was started.",
            "Open: refused name",
            name=name,
        )
    entry, how_close = find_app(name)
    if entry is None:
        return refused(
            parse.intent,
            f"I couldn't find an application called “{name}”.",
            f"Open: {name} not found",
            name=name,
            score=round(how_close, 2),
        )
    data = {"app": entry.name, "desktop_id": entry.id, "score": round(how_close, 2)}
    if ctx.dry_run:
        return would(parse.intent, f"open {entry.name}", **data)
    try:
        data["pid"] = start(entry)
    except BadInputError as exc:
        return ActionResult(
            intent=parse.intent,
            kind="failed",
            text=f"Could not open {entry.name}: {exc.user_message()}.",
            summary=f"Open: {entry.name} failed",
            data=data,
        )
    return ActionResult(
        intent=parse.intent, kind="done", text=f"Opening {entry.name}.", summary=f"Open: {entry.name}", data=data
    )
