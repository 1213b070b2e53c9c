"""Entry script of the PyInstaller build (``packaging/jarvis-desktop.spec``): ``jarvis_desktop.entry:main``.

The frozen binary is also its own ``sys.executable``, and the app starts a few child processes as
``sys.executable -c CODE`` (doctor's Qt import probe) or ``sys.executable -m MODULE ...`` (background training jobs):
those two forms are served here the way a Python interpreter would, so they work in the bundle too.
"""

from __future__ import annotations

import runpy
import sys


def _main() -> int:
    argv = sys.argv[1:]
    if len(argv) >= 2 and argv[0] == "-c":
        sys.argv = ["-c", *argv[2:]]
        exec(compile(argv[1], "<string>", "exec"), {"__name__": "__main__"})
        return 0
    if len(argv) >= 2 and argv[0] == "-m":
        sys.argv = [argv[1], *argv[2:]]
        runpy.run_module(argv[1], run_name="__main__", alter_sys=True)
        return 0
    from jarvis_desktop.entry import main

    return main(argv)


if __name__ == "__main__":
    raise SystemExit(_main())
