"""``jarvis-desktop`` and ``python -m jarvis_desktop``: the GUI when no sub-command is given, else the CLI.

The one module above both layers: :mod:`jarvis_desktop.cli` never imports Qt, and Qt (:mod:`jarvis_desktop.ui`)
is imported here only on the GUI path.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from jarvis_desktop import cli
from jarvis_desktop.voice.control import hand_over_to_running_window


def main(argv: Sequence[str] | None = None) -> int:
    """Parse ``argv`` (``sys.argv[1:]`` when None); no sub-command starts the GUI, otherwise the sub-command
    runs (:func:`jarvis_desktop.cli.run`). Returns the exit code (bad usage: 2, via argparse's SystemExit)."""
    args = cli.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        if hand_over_to_running_window(args.minimized):  # one GUI per data directory; checked before Qt loads
            return 0
        from jarvis_desktop.ui.app import run_gui  # PySide6: only when the GUI starts

        return run_gui(sys.argv[:1], minimized=args.minimized)
    return cli.run(args)


if __name__ == "__main__":
    raise SystemExit(main())
