"""Atomic, safe file writes for exports and settings: :func:`write_atomically`.

The data goes to a temp file created with :func:`tempfile.mkstemp` (``O_EXCL``, an unpredictable name such as
``.notes.md.k3j9x2ab.tmp``) in the target's own directory, is fsynced, then renamed over the target with
:func:`os.replace`. So a full disk or a crash never leaves half a file, and a symlink planted on a predictable temp
name cannot redirect the write.

Symlink policy (the target itself; a symlinked *directory* on the way is fine):

* ``follow_symlink=False`` (the default, used by every export): an existing symlink at the target is **refused**
  with :class:`BadInputError` naming its target. It is neither replaced by a file nor written through, since an
  export path may sit in a shared directory where someone else planted the link.
* ``follow_symlink=True`` (used for the settings file, which users may keep in a dotfiles repository): the link is
  resolved and its final target is replaced atomically (temp file in the *target's* directory); the link stays.

Refused with :class:`BadInputError` (CLI exit 2): an empty name, ``.``, ``/``, ``..``, a name longer than
:data:`MAX_NAME_BYTES` bytes, a missing parent directory, and a target that exists but is not a regular file
(a directory, a FIFO, a device such as ``/dev/null``, a socket). Nothing ever opens the target itself, so a FIFO
cannot block the write.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path

from jarvis_desktop.errors import BadInputError, JarvisError

MAX_NAME_BYTES = 240
"""Longest file name accepted (UTF-8 bytes): the 255-byte limit of common file systems minus the temp affixes."""


def file_kind(mode: int) -> str:
    """What a ``st_mode`` names, for messages: "a directory", "a FIFO (named pipe)", "a device", "a socket"."""
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _umask() -> int:
    """The process umask, read without changing it (os.umask would race other threads); 0o022 if unknown."""
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        return 0o022
    return 0o022


def check_target(path: Path | str, follow_symlink: bool = False) -> Path:
    """Validate a write target and return the path that will be replaced (the resolved one when following a link).

    Raises:
        BadInputError: see the module docstring (bad name, missing directory, symlink refused, not a regular file).
    """
    raw = str(path)
    target = Path(raw).expanduser()
    name = target.name
    if not raw.strip() or not name or name in (".", "..") or raw.endswith(os.sep):
        raise BadInputError(f"{raw!r} is not a file name to write to", hint="give a file name, e.g. notes.md")
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        raise BadInputError(f"the file name is too long ({len(os.fsencode(name))} bytes, at most {MAX_NAME_BYTES})")
    try:
        info: os.stat_result | None = os.lstat(target)
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise BadInputError(f"cannot write {target}: {exc.strerror or exc}") from exc
    if info is not None and stat.S_ISLNK(info.st_mode):
        link = os.path.realpath(target)
        if not follow_symlink:
            raise BadInputError(
                f"{target} is a symbolic link (to {link}); refusing to replace or write through it",
                hint=f"export to {link} directly, or choose another name",
            )
        return check_target(link, follow_symlink=False)
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise BadInputError(f"cannot write {target}: it is {file_kind(info.st_mode)}, not a regular file")
    if not target.parent.is_dir():
        raise BadInputError(f"cannot write {target}: the directory {target.parent} does not exist")
    return target


def write_atomically(path: Path | str, data: bytes | str, *, follow_symlink: bool = False) -> Path:
    """Write ``data`` (``str`` is encoded as UTF-8) to ``path`` atomically; returns the path written.

    An existing file keeps its permission bits; a new one gets the usual ``0o666`` minus the umask.

    Raises:
        BadInputError: a bad target (see the module docstring), or a name the file system rejects as too long.
        JarvisError: the write failed (no permission, full disk); the target is unchanged and no temp file is left.
    """
    target = check_target(path, follow_symlink)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        mode = stat.S_IMODE(os.stat(target).st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix="." + target.name + ".", suffix=".tmp")
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise BadInputError(f"cannot write {target}: the file name is too long") from exc
        raise JarvisError(f"cannot write {target}: {exc.strerror or exc}") from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise JarvisError(f"cannot write {target}: {exc.strerror or exc}") from exc
    return target
