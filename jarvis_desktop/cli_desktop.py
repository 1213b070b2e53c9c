"""``jarvis-desktop desktop install|remove|status``: the applications-menu entry and "start at login" for a venv
install (:mod:`jarvis_desktop.desktop_integration`; docs/install.md, "Desktop integration").

* ``install``: the menu entry (Exec = this install's launcher, absolute) and its icon; ``--autostart`` also starts
  Jarvis at login, hidden in the tray (``--minimized``);
* ``remove``: the entry, the icon and start at login; ``--autostart`` removes only start at login;
* ``status``: what is installed and which launcher the entry runs.

Exit codes: 0 done; 2 bad input (a directory that cannot be created or written, no launcher found, a ``--launcher``
that is not executable); 1 internal failure. ``--json`` prints one object (the status, and for install/remove the
files written and removed and the desktop tools' notes).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from jarvis_desktop.cli_common import print_json
from jarvis_desktop.desktop_integration import (
    DesktopStatus,
    IntegrationResult,
    desktop_status,
    install,
    remove,
)


def add_parser(sub: argparse._SubParsersAction[Any]) -> None:
    """Register ``desktop`` and its sub-commands on the CLI's sub-parsers."""
    s = sub.add_parser("desktop", help="the applications-menu entry and start at login (docs/install.md)")
    actions = s.add_subparsers(dest="desktop_command", metavar="{install,remove,status}", parser_class=type(s))
    actions.required = True

    a = actions.add_parser("install", help="add Jarvis to the applications menu (--autostart: also start at login)")
    a.add_argument("--autostart", action="store_true", help="also start Jarvis at login, in the tray")
    a.add_argument("--launcher", metavar="PATH", default=None, help="the jarvis-desktop to run (default: this one)")
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_install)

    r = actions.add_parser("remove", help="remove the menu entry, icon and start at login (--autostart: only that)")
    r.add_argument("--autostart", action="store_true", help="only stop starting Jarvis at login")
    r.add_argument("--json", action="store_true")
    r.set_defaults(func=cmd_remove)

    t = actions.add_parser("status", help="is the menu entry installed, does Jarvis start at login")
    t.add_argument("--autostart", action="store_true", help="print only whether Jarvis starts at login")
    t.add_argument("--json", action="store_true")
    t.set_defaults(func=cmd_status)


def _print_status(status: DesktopStatus, autostart_only: bool = False) -> None:
    if not autostart_only:
        if status.menu_entry:
            runs = " ".join(status.command) or "?"
            stale = "" if status.launcher_ok else "  (this program is missing: run 'jarvis-desktop desktop install')"
            print(f"menu entry:     installed ({status.menu_entry_path})")
            print(f"runs:           {runs}{stale}")
        else:
            print(f"menu entry:     not installed ({status.menu_entry_path})")
    state = "on" if status.autostart else "off"
    print(f"start at login: {state} ({status.autostart_path})")


def _report(result: IntegrationResult, as_json: bool) -> int:
    for note in result.notes:
        sys.stderr.write(f"note: {note}\n")
    if as_json:
        print_json(result.to_dict())
        return 0
    for path in result.written:
        print(f"wrote:          {path}")
    for path in result.removed:
        print(f"removed:        {path}")
    if not result.written and not result.removed:
        print("nothing to change")
    _print_status(result.status)
    return 0


def cmd_install(args: argparse.Namespace) -> int:
    """``desktop install [--autostart] [--launcher PATH] [--json]``."""
    return _report(install(autostart=args.autostart, launcher=args.launcher), args.json)


def cmd_remove(args: argparse.Namespace) -> int:
    """``desktop remove [--autostart] [--json]``."""
    return _report(remove(autostart_only=args.autostart), args.json)


def cmd_status(args: argparse.Namespace) -> int:
    """``desktop status [--autostart] [--json]``."""
    status = desktop_status()
    if args.json:
        print_json(status.to_dict())
    else:
        _print_status(status, autostart_only=args.autostart)
    return 0
