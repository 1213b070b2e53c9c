"""Desktop integration for a venv (or pipx) install: the applications-menu entry, its icon and "start at login".

Files (per the XDG Base Directory and Desktop Entry specifications; the variables are read at each call):

* the menu entry ``$XDG_DATA_HOME/applications/jarvis-desktop.desktop`` (default ``~/.local/share``), whose
  ``Exec`` is the absolute path of the ``jarvis-desktop`` launcher of this install (:func:`find_launcher`);
* its icon ``$XDG_DATA_HOME/icons/hicolor/scalable/apps/jarvis-desktop.svg`` (a copy of
  ``resources/icons/jarvis.svg``), named by absolute path in ``Icon=`` so no icon cache needs refreshing;
* start at login ``$XDG_CONFIG_HOME/autostart/jarvis-desktop.desktop`` (default ``~/.config``), the same entry
  with ``Exec=... --minimized`` (the window starts hidden in the tray).

Every write is atomic (:func:`jarvis_desktop.safe_write.write_atomically`; a symlink at a target is refused).
``update-desktop-database`` and ``desktop-file-validate`` run when they are installed; their absence or failure is
never an error (what they said comes back in :attr:`IntegrationResult.notes`). No Qt here: the CLI
(``jarvis-desktop desktop``, :mod:`jarvis_desktop.cli_desktop`) and the Settings window both call this module.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from jarvis_desktop.errors import BadInputError, JarvisError
from jarvis_desktop.safe_write import write_atomically

__all__ = [
    "APP_ID",
    "DesktopPaths",
    "DesktopStatus",
    "IntegrationResult",
    "desktop_entry_text",
    "desktop_paths",
    "desktop_status",
    "exec_argv",
    "exec_command",
    "find_launcher",
    "install",
    "remove",
    "set_autostart",
    "set_menu_entry",
    "supported",
]

APP_ID = "jarvis-desktop"
"""The desktop file id (``jarvis-desktop.desktop``) and icon name; Qt's ``setDesktopFileName`` uses it too."""

ICON_SOURCE = Path(__file__).resolve().parents[1] / "resources" / "icons" / "jarvis.svg"
"""The app icon in a source checkout or an editable install; :data:`FALLBACK_ICON_SVG` when absent (a wheel)."""

FALLBACK_ICON_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 256 256">
  <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
    <stop offset="0" stop-color="#4f7cff"/><stop offset="1" stop-color="#7a4dff"/></linearGradient></defs>
  <rect x="8" y="8" width="240" height="240" rx="56" fill="url(#g)"/>
  <g fill="#fff"><rect x="52" y="108" width="20" height="40" rx="10"/>
  <rect x="84" y="84" width="20" height="88" rx="10"/><rect x="116" y="60" width="24" height="136" rx="12"/>
  <rect x="152" y="84" width="20" height="88" rx="10"/>
  <rect x="184" y="108" width="20" height="40" rx="10"/></g>
</svg>
"""
"""The icon drawn as in :func:`jarvis_desktop.ui.app.app_icon`'s fallback, for installs without ``resources/``."""

#: the entry's fixed keys, as in packaging/jarvis-desktop.desktop (the .deb's copy); Exec and Icon are added
TEMPLATE_KEYS: tuple[tuple[str, str], ...] = (
    ("Type", "Application"),
    ("Name", "Jarvis Desktop"),
    ("Comment", "Offline desktop voice assistant"),
    ("Terminal", "false"),
    ("Categories", "Utility;Accessibility;"),
    ("Keywords", "voice;assistant;speech;"),
)

#: characters that make an Exec argument need double quotes (Desktop Entry spec, "The Exec key")
_RESERVED = frozenset(" \t\n\"'\\><~|&;$*?#()`")
_TOOL_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class DesktopPaths:
    """Where the integration's files go (absolute paths, computed from the environment at call time)."""

    menu_entry: Path
    icon: Path
    autostart: Path


@dataclass(frozen=True)
class DesktopStatus:
    """What is installed now.

    ``menu_entry`` / ``autostart``: the entry file exists (autostart also: not disabled with ``Hidden=true`` or
    ``X-GNOME-Autostart-enabled=false``). ``command``: the installed menu entry's Exec as an argv (``[]`` when
    none); ``launcher_ok``: its program exists and is executable (False after the venv moved: install again).
    """

    menu_entry: bool
    autostart: bool
    icon: bool
    menu_entry_path: str
    autostart_path: str
    icon_path: str
    command: list[str] = field(default_factory=list)
    autostart_command: list[str] = field(default_factory=list)
    launcher_ok: bool = False

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict (the ``--json`` output of ``jarvis-desktop desktop status``)."""
        return asdict(self)


@dataclass(frozen=True)
class IntegrationResult:
    """What an install/remove did: files ``written`` and ``removed`` (absolute paths), ``notes`` from the desktop
    tools (validator warnings, a failed database update), and the ``status`` afterwards."""

    status: DesktopStatus
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dict."""
        return asdict(self)


def supported() -> bool:
    """True where XDG desktop entries apply (Linux and the BSDs); the Settings window hides its boxes elsewhere."""
    return sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd", "dragonfly"))


def _xdg_dir(variable: str, default: str) -> Path:
    """``$variable`` when set to an absolute path (the XDG spec ignores relative ones), else ``~/default``."""
    value = os.environ.get(variable, "")
    if value and os.path.isabs(value):
        return Path(value)
    return Path.home() / default


def desktop_paths() -> DesktopPaths:
    """The integration's files for the current ``XDG_DATA_HOME`` / ``XDG_CONFIG_HOME`` / ``HOME``."""
    data = _xdg_dir("XDG_DATA_HOME", ".local/share")
    config = _xdg_dir("XDG_CONFIG_HOME", ".config")
    return DesktopPaths(
        menu_entry=data / "applications" / f"{APP_ID}.desktop",
        icon=data / "icons" / "hicolor" / "scalable" / "apps" / f"{APP_ID}.svg",
        autostart=config / "autostart" / f"{APP_ID}.desktop",
    )


def _is_launcher(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_launcher(explicit: str | Path | None = None) -> Path:
    """The absolute path of this install's ``jarvis-desktop`` launcher.

    Tried in order: ``explicit``; ``sys.argv[0]`` when it is an executable named ``jarvis-desktop`` (resolved);
    ``jarvis-desktop`` next to ``sys.executable`` (the venv's ``bin/``; the interpreter's symlink is not followed);
    ``jarvis-desktop`` on ``PATH``.

    Raises:
        BadInputError: ``explicit`` is not an executable file, or no launcher was found (run from a source tree
            without ``pip install``).
    """
    if explicit is not None:
        path = Path(explicit).expanduser()
        if not _is_launcher(path):
            raise BadInputError(f"the launcher {path} is not an executable file")
        return path.resolve()
    candidates: list[Path] = []
    if sys.argv and sys.argv[0] and Path(sys.argv[0]).name == APP_ID:
        candidates.append(Path(sys.argv[0]).resolve())
    candidates.append(Path(os.path.abspath(sys.executable)).parent / APP_ID)
    on_path = shutil.which(APP_ID)
    if on_path:
        candidates.append(Path(on_path).resolve())
    for path in candidates:
        if _is_launcher(path):
            return path
    raise BadInputError(
        "cannot find the jarvis-desktop launcher of this install",
        hint="install the package into a venv with pip, or give --launcher PATH",
    )


def _quote_arg(arg: str) -> str:
    """One Exec argument, quoted per the Desktop Entry spec (before the string-value escaping of ``\\``)."""
    if arg and not any(c in _RESERVED for c in arg):
        quoted = arg
    else:
        escaped = "".join("\\" + c if c in '"`$\\' else c for c in arg)
        quoted = f'"{escaped}"'
    return quoted.replace("%", "%%")


def exec_command(argv: list[str]) -> str:
    """The ``Exec=`` value for ``argv``: arguments quoted when they hold reserved characters, ``%`` doubled, then
    ``\\`` escaped as the string-value rule requires (a literal backslash inside quotes becomes four).

    Raises:
        BadInputError: an argument holds a control character (a newline, ...) or is not valid UTF-8.
    """
    for arg in argv:
        if any(ord(c) < 32 or ord(c) == 127 for c in arg):
            raise BadInputError(f"cannot write {arg!r} in a desktop entry: it holds a control character")
        try:
            arg.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise BadInputError(f"cannot write {arg!r} in a desktop entry: it is not valid UTF-8") from exc
    return " ".join(_quote_arg(a) for a in argv).replace("\\", "\\\\")


def _unescape_value(value: str) -> str:
    """Undo the string-value escapes (``\\s \\n \\t \\r \\\\``) of a desktop entry value."""
    out: list[str] = []
    i = 0
    while i < len(value):
        c = value[i]
        if c == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out.append({"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\"}.get(nxt, "\\" + nxt))
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def exec_argv(value: str) -> list[str]:
    """The argv an ``Exec=`` value runs (the inverse of :func:`exec_command`; field codes such as ``%U`` are
    dropped, ``%%`` becomes ``%``). Unbalanced quotes end the last argument at the end of the value."""
    text = _unescape_value(value)
    args: list[str] = []
    current: list[str] = []
    in_arg = in_quotes = False
    i = 0
    while i < len(text):
        c = text[i]
        if in_quotes:
            if c == "\\" and i + 1 < len(text) and text[i + 1] in '"`$\\':
                current.append(text[i + 1])
                i += 1
            elif c == '"':
                in_quotes = False
            else:
                current.append(c)
        elif c == '"':
            in_quotes = in_arg = True
        elif c in " \t":
            if in_arg:
                args.append("".join(current))
                current, in_arg = [], False
        else:
            current.append(c)
            in_arg = True
        i += 1
    if in_arg:
        args.append("".join(current))
    result: list[str] = []
    for arg in args:
        if len(arg) == 2 and arg[0] == "%" and arg[1] != "%":
            continue  # a field code (%f, %U, ...): nothing to pass here
        result.append(arg.replace("%%", "%"))
    return result


def desktop_entry_text(launcher: Path, icon: Path, *, autostart: bool = False) -> str:
    """The text of the menu entry (or of the autostart entry: ``--minimized`` added, enabled for GNOME).

    Raises:
        BadInputError: a path that a desktop entry cannot hold (see :func:`exec_command`).
    """
    argv = [str(launcher), "--minimized"] if autostart else [str(launcher)]
    lines = ["[Desktop Entry]"]
    lines += [f"{key}={value}" for key, value in TEMPLATE_KEYS]
    lines.append(f"Exec={exec_command(argv)}")
    lines.append(f"TryExec={_string_value(str(launcher))}")
    lines.append(f"Icon={_string_value(str(icon))}")
    lines.append(f"StartupWMClass={APP_ID}")
    if autostart:
        lines.append("X-GNOME-Autostart-enabled=true")
    return "\n".join(lines) + "\n"


def _string_value(text: str) -> str:
    """``text`` as a desktop-entry string value (backslash escaped; control characters refused)."""
    exec_command([text])  # the same checks
    return text.replace("\\", "\\\\")


def _read_entry(path: Path) -> dict[str, str]:
    """The ``[Desktop Entry]`` group's keys of ``path`` (raw values); ``{}`` when it is missing or unreadable."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return {}
    keys: dict[str, str] = {}
    group = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
        elif group == "Desktop Entry" and "=" in line and not line.startswith("#"):
            key, _, value = line.partition("=")
            keys.setdefault(key.strip(), value.strip())
    return keys


def desktop_status() -> DesktopStatus:
    """What is installed for the current XDG directories (reads two small files; never raises)."""
    paths = desktop_paths()
    menu = _read_entry(paths.menu_entry)
    auto = _read_entry(paths.autostart)
    command = exec_argv(menu.get("Exec", "")) if menu else []
    auto_on = (
        bool(auto)
        and auto.get("Hidden", "false").lower() != "true"
        and auto.get("X-GNOME-Autostart-enabled", "true").lower() != "false"
    )
    return DesktopStatus(
        menu_entry=paths.menu_entry.is_file(),
        autostart=paths.autostart.is_file() and auto_on,
        icon=paths.icon.is_file(),
        menu_entry_path=str(paths.menu_entry),
        autostart_path=str(paths.autostart),
        icon_path=str(paths.icon),
        command=command,
        autostart_command=exec_argv(auto.get("Exec", "")) if auto else [],
        launcher_ok=bool(command) and _is_launcher(Path(command[0])),
    )


def _make_dir(directory: Path) -> None:
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BadInputError(
            f"cannot create the directory {directory}: {exc.strerror or exc}",
            hint="check XDG_DATA_HOME / XDG_CONFIG_HOME and the permissions of your home directory",
        ) from exc
    if not os.access(directory, os.W_OK):
        raise BadInputError(f"cannot write in {directory}: permission denied")


def _write(path: Path, data: str | bytes) -> None:
    """Write one integration file atomically; any failure is bad input (exit 2) naming the file."""
    _make_dir(path.parent)
    try:
        write_atomically(path, data)
    except BadInputError:
        raise
    except JarvisError as exc:  # no permission, full disk: the user's directory, not a bug here
        raise BadInputError(str(exc), hint=exc.hint) from exc


def _unlink(path: Path) -> bool:
    """Remove one file (a symlink is removed, not followed); False when it was not there."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise BadInputError(f"cannot remove {path}: {exc.strerror or exc}") from exc
    return True


def _run_tool(argv: list[str]) -> str:
    """Run a desktop tool when installed; returns what it printed when it complained (``""`` otherwise)."""
    if shutil.which(argv[0]) is None:
        return ""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=_TOOL_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"{argv[0]} did not run: {exc}"
    said = (proc.stdout + proc.stderr).strip()
    if proc.returncode != 0 or said:
        return f"{argv[0]}: {said or f'exit code {proc.returncode}'}"
    return ""


def _icon_bytes() -> bytes:
    with contextlib.suppress(OSError):
        return ICON_SOURCE.read_bytes()
    return FALLBACK_ICON_SVG.encode()


def _write_entry(path: Path, text: str, notes: list[str]) -> None:
    _write(path, text)
    note = _run_tool(["desktop-file-validate", str(path)])
    if note:
        notes.append(note)


def set_menu_entry(on: bool, launcher: str | Path | None = None) -> IntegrationResult:
    """Install (``on``) or remove the applications-menu entry and its icon (the icon stays while autostart is on).

    ``launcher``: the ``jarvis-desktop`` to run (default: :func:`find_launcher`). Idempotent.

    Raises:
        BadInputError: no launcher found, or a directory/file that cannot be created, written or removed.
    """
    paths = desktop_paths()
    written: list[str] = []
    removed: list[str] = []
    notes: list[str] = []
    if on:
        exe = find_launcher(launcher)
        _write(paths.icon, _icon_bytes())
        written.append(str(paths.icon))
        _write_entry(paths.menu_entry, desktop_entry_text(exe, paths.icon), notes)
        written.append(str(paths.menu_entry))
    else:
        if _unlink(paths.menu_entry):
            removed.append(str(paths.menu_entry))
        if not paths.autostart.exists() and _unlink(paths.icon):
            removed.append(str(paths.icon))
    if written or removed:
        note = _run_tool(["update-desktop-database", str(paths.menu_entry.parent)])
        if note:
            notes.append(note)
    return IntegrationResult(desktop_status(), written, removed, notes)


def set_autostart(on: bool, launcher: str | Path | None = None) -> IntegrationResult:
    """Turn "start at login" on (write the autostart entry, ``--minimized``, and the icon) or off. Idempotent.

    Raises:
        BadInputError: as :func:`set_menu_entry`.
    """
    paths = desktop_paths()
    written: list[str] = []
    removed: list[str] = []
    notes: list[str] = []
    if on:
        exe = find_launcher(launcher)
        _write(paths.icon, _icon_bytes())
        written.append(str(paths.icon))
        _write_entry(paths.autostart, desktop_entry_text(exe, paths.icon, autostart=True), notes)
        written.append(str(paths.autostart))
    else:
        if _unlink(paths.autostart):
            removed.append(str(paths.autostart))
        if not paths.menu_entry.exists() and _unlink(paths.icon):
            removed.append(str(paths.icon))
    return IntegrationResult(desktop_status(), written, removed, notes)


def _merge(first: IntegrationResult, second: IntegrationResult) -> IntegrationResult:
    written = list(dict.fromkeys(first.written + second.written))
    removed = list(dict.fromkeys(first.removed + second.removed))
    return IntegrationResult(second.status, written, removed, first.notes + second.notes)


def install(*, autostart: bool = False, launcher: str | Path | None = None) -> IntegrationResult:
    """``jarvis-desktop desktop install [--autostart]``: the menu entry and icon, and start at login if asked.

    Raises:
        BadInputError: as :func:`set_menu_entry`.
    """
    result = set_menu_entry(True, launcher)
    if autostart:
        result = _merge(result, set_autostart(True, launcher))
    return result


def remove(*, autostart_only: bool = False) -> IntegrationResult:
    """``jarvis-desktop desktop remove [--autostart]``: everything (entry, icon, autostart), or only autostart.

    Raises:
        BadInputError: a file that cannot be removed.
    """
    result = set_autostart(False)
    if not autostart_only:
        result = _merge(result, set_menu_entry(False))
    return result
