"""The remote endpoint's API key: in the OS keyring (``keyring``), or ``JARVIS_REMOTE_API_KEY`` for
headless use. Never in the settings file, never logged (nothing here prints or returns it in a message).
"""

from __future__ import annotations

import contextlib
import os

from jarvis_desktop.errors import JarvisError

SERVICE = "jarvis-desktop"
USERNAME = "remote-api-key"
ENV_KEY = "JARVIS_REMOTE_API_KEY"


def get_api_key() -> str | None:
    """``JARVIS_REMOTE_API_KEY`` if set, else the keyring's entry, else None (also when no keyring works)."""
    env = os.environ.get(ENV_KEY)
    if env:
        return env
    try:
        import keyring

        return keyring.get_password(SERVICE, USERNAME) or None
    except Exception:
        return None


def set_api_key(key: str | None) -> None:
    """Store ``key`` in the OS keyring (empty/None deletes it).

    Raises:
        JarvisError: no usable keyring on this system (the hint names the env variable instead).
    """
    try:
        import keyring
        from keyring.errors import PasswordDeleteError

        if key:
            keyring.set_password(SERVICE, USERNAME, key)
        else:
            with contextlib.suppress(PasswordDeleteError):  # nothing stored: nothing to delete
                keyring.delete_password(SERVICE, USERNAME)
    except JarvisError:
        raise
    except Exception as exc:
        raise JarvisError(
            f"cannot store the API key in the OS keyring: {type(exc).__name__}",
            hint=f"install/unlock a keyring, or set {ENV_KEY} in the environment",
        ) from exc


def key_source() -> str:
    """Where the key comes from, for doctor/settings: "env", "keyring" or "none" (never the key itself)."""
    if os.environ.get(ENV_KEY):
        return "env"
    return "keyring" if get_api_key() else "none"
