"""Installed applications from the platform's registry, and how to start them without a shell.

* Linux/BSD: freedesktop desktop entries (``*.desktop``, Desktop Entry Specification 1.5) in
  ``$XDG_DATA_HOME/applications`` (default ``~/.local/share/applications``) then each
  ``$XDG_DATA_DIRS/applications`` (default ``/usr/local/share:/usr/share``). An entry's desktop-file ID is its
  path below ``applications/`` with "/" turned into "-"; the first directory holding an ID wins. Entries
  with ``Hidden=true``, ``NoDisplay=true``, a ``Type`` other than Application, or a ``TryExec`` program that
  is not installed are left out.
* macOS: ``*.app`` bundles in ``/Applications``, ``/System/Applications`` and ``~/Applications``.
* Windows: Start-menu shortcuts (``*.lnk``) of the user and of all users.

:func:`exec_argv` turns an ``Exec=`` value into an argument list per the spec's quoting rules, with the
field codes (``%f %F %u %U %d %D %n %N %v %m``) dropped, ``%i`` -> ``--icon ICON``, ``%c`` -> the name,
``%k`` -> the file's path, ``%%`` -> ``%``. The list goes to ``subprocess`` as is: no shell ever sees it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path

from jarvis_desktop.errors import BadInputError

_ESCAPES = {"s": " ", "n": "\n", "t": "\t", "r": "\r", "\\": "\\", ";": ";"}
_DROPPED_CODES = set("fFuUdDnNvm")


@dataclass
class AppEntry:
    """One launchable application.

    ``id``: desktop-file ID ("org.gnome.Terminal.desktop"), bundle or shortcut name. ``exec``: the raw
    ``Exec=`` value (desktop entries only). ``path``: the entry file, bundle or shortcut.
    """

    id: str
    name: str
    path: Path
    exec: str = ""
    generic_name: str = ""
    keywords: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    terminal: bool = False
    working_dir: str = ""
    icon: str = ""

    def names(self) -> list[str]:
        """Every name the user may call it by: Name, GenericName, keywords, ID stem, program name."""
        stem = self.id.removesuffix(".desktop").removesuffix(".app").removesuffix(".lnk")
        out = [self.name, self.generic_name, stem, stem.rsplit(".", 1)[-1], *self.keywords]
        if self.exec:
            with contextlib.suppress(BadInputError, IndexError):  # an unparsable Exec just adds no name
                out.append(Path(exec_argv(self)[0]).name)
        return [n for n in out if n]


def _unescape(value: str) -> str:
    """The spec's string escapes: ``\\s \\n \\t \\r \\\\`` (and ``\\;`` in lists)."""
    out, i = [], 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value) and value[i + 1] in _ESCAPES:
            out.append(_ESCAPES[value[i + 1]])
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def read_desktop_entry(path: Path) -> dict[str, str]:
    """The ``[Desktop Entry]`` group of a desktop file as raw key -> value (locale keys kept as "Name[de]").

    Unreadable or non-UTF-8 files give {} (a broken entry must not hide the others).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    group: str | None = None
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            group = line[1:-1]
            continue
        if group == "Desktop Entry" and "=" in line:
            key, value = line.split("=", 1)
            values.setdefault(key.strip(), value.strip())
    return values


def _list(value: str) -> list[str]:
    parts = value.replace("\\;", "\0").split(";")  # an escaped "\;" stays inside its item
    return [_unescape(v.replace("\0", "\\;")) for v in parts if v]


def _field_code(entry: AppEntry, code: str, args: list[str], current: list[str]) -> bool:
    """Expand the Exec field code ``%<code>`` into ``current`` (the argument being built) or ``args`` (``%i``
    adds two); returns True when it put text into ``current``. Codes for files and URLs are dropped.

    Raises:
        BadInputError: an unknown field code.
    """
    if code == "i":
        if entry.icon:
            args.extend(["--icon", entry.icon])
        return False
    text = {"%": "%", "c": entry.name, "k": str(entry.path)}.get(code)
    if text is not None:
        current.append(text)
        return True
    if code not in _DROPPED_CODES:
        raise BadInputError(f"{entry.path}: unknown field code %{code} in Exec")
    return False


def exec_argv(entry: AppEntry) -> list[str]:
    """The ``Exec=`` value of ``entry`` as an argv list (see the module doc).

    Raises:
        BadInputError: empty Exec, an unterminated quote, or a reserved character unquoted.
    """
    value = _unescape(entry.exec)
    args: list[str] = []
    current: list[str] = []
    has_arg = False
    i, quoted = 0, False
    while i < len(value):
        ch = value[i]
        if quoted:
            if ch == "\\" and i + 1 < len(value) and value[i + 1] in '"`$\\':
                current.append(value[i + 1])
                i += 2
                continue
            if ch == '"':
                quoted = False
            else:
                current.append(ch)
            i += 1
            continue
        if ch == '"':
            quoted, has_arg = True, True
        elif ch in " \t\n":
            if has_arg:
                args.append("".join(current))
            current, has_arg = [], False
        elif ch == "%" and i + 1 < len(value):
            has_arg = _field_code(entry, value[i + 1], args, current) or has_arg
            i += 2
            continue
        else:
            current.append(ch)
            has_arg = True
        i += 1
    if quoted:
        raise BadInputError(f"{entry.path}: unterminated quote in Exec")
    if has_arg:
        args.append("".join(current))
    if not args:
        raise BadInputError(f"{entry.path}: empty Exec")
    return args


def _which(program: str) -> bool:
    return bool(shutil.which(program)) if "/" not in program else os.access(program, os.X_OK)


def application_dirs() -> list[Path]:
    """The ``applications`` directories in precedence order (XDG_DATA_HOME first)."""
    home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    dirs = os.environ.get("XDG_DATA_DIRS") or "/usr/local/share:/usr/share"
    seen, out = set(), []
    for base in [home, *dirs.split(":")]:
        if base and base not in seen:
            seen.add(base)
            out.append(Path(base) / "applications")
    return out


def _freedesktop_apps() -> list[AppEntry]:
    apps: dict[str, AppEntry | None] = {}
    for base in application_dirs():
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.desktop")):
            desktop_id = str(path.relative_to(base)).replace(os.sep, "-")
            if desktop_id in apps:
                continue  # an earlier directory's entry of the same ID wins (and may hide it)
            v = read_desktop_entry(path)
            if (
                not v
                or v.get("Type", "Application") != "Application"
                or v.get("Hidden") == "true"
                or v.get("NoDisplay") == "true"
                or not v.get("Exec")
                or (v.get("TryExec") and not _which(_unescape(v["TryExec"])))
            ):
                apps[desktop_id] = None
                continue
            apps[desktop_id] = AppEntry(
                id=desktop_id,
                name=_unescape(v.get("Name", desktop_id)),
                path=path,
                exec=v["Exec"],
                generic_name=_unescape(v.get("GenericName", "")),
                keywords=_list(v.get("Keywords", "")),
                categories=_list(v.get("Categories", "")),
                terminal=v.get("Terminal") == "true",
                working_dir=_unescape(v.get("Path", "")),
                icon=_unescape(v.get("Icon", "")),
            )
    return [a for a in apps.values() if a is not None]


def _macos_apps() -> list[AppEntry]:
    out = []
    for base in (Path("/Applications"), Path("/System/Applications"), Path.home() / "Applications"):
        if base.is_dir():
            out += [AppEntry(id=p.name, name=p.stem, path=p) for p in sorted(base.glob("*.app"))]
    return out


def _windows_apps() -> list[AppEntry]:
    out = []
    for env in ("APPDATA", "PROGRAMDATA"):
        base = Path(os.environ.get(env, "")) / "Microsoft" / "Windows" / "Start Menu" / "Programs"
        if os.environ.get(env) and base.is_dir():
            out += [AppEntry(id=p.name, name=p.stem, path=p) for p in sorted(base.rglob("*.lnk"))]
    return out


def installed_apps() -> list[AppEntry]:
    """The applications of this platform's registry (see the module doc)."""
    if sys.platform == "darwin":
        return _macos_apps()
    if sys.platform.startswith("win"):
        return _windows_apps()
    return _freedesktop_apps()
