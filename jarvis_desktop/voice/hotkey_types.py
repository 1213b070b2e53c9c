"""The global hotkey's shared types, with no platform library: the key combination (parsed and checked from the
setting's text), the support status :func:`jarvis_desktop.voice.hotkey.probe` returns, and the errors.

The setting's format is pynput's: modifiers in angle brackets, then one key, joined with ``+``, for example
``<ctrl>+<alt>+j``, ``<super>+<space>`` or ``<f9>`` (see docs/hotkey.md).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from jarvis_desktop.errors import BadInputError, JarvisError

MODIFIERS: tuple[str, ...] = ("ctrl", "alt", "shift", "super")
"""The modifiers a combination may hold, in the order the canonical text writes them."""

_MODIFIER_ALIASES: dict[str, str] = {
    "ctrl": "ctrl",
    "control": "ctrl",
    "alt": "alt",
    "shift": "shift",
    "super": "super",
    "cmd": "super",
    "win": "super",
}

NAMED_KEYS: dict[str, str] = {
    **{f"f{n}": f"F{n}" for n in range(1, 21)},
    "space": "space",
    "pause": "Pause",
    "scroll_lock": "Scroll_Lock",
    "print_screen": "Print",
    "insert": "Insert",
    "menu": "Menu",
    "home": "Home",
    "end": "End",
    "page_up": "Prior",
    "page_down": "Next",
    "esc": "Escape",
    "tab": "Tab",
    "enter": "Return",
}
"""Keys written in angle brackets (``<f9>``), by their name in the setting -> their X11 keysym name. The names are
pynput's ``Key`` member names, so the same text works with its Windows and macOS backends."""

_STANDALONE_KEYS = frozenset(name for name in NAMED_KEYS if name.startswith("f")) | {
    "pause",
    "scroll_lock",
    "print_screen",
    "insert",
    "menu",
}
"""Keys that may be bound without a modifier: binding them alone does not take a key away from typing."""

_FORMAT_HINT = (
    "write it like <ctrl>+<alt>+j: modifiers <ctrl> <alt> <shift> <super>, then one key: a letter, a digit, "
    "or <f1>..<f20>, <space>, <pause>, <scroll_lock>, <print_screen>, <insert>, <menu>, <home>, <end>, "
    "<page_up>, <page_down>, <esc>, <tab>, <enter>"
)

FALLBACK_TEXT = (
    "Bind a shortcut in your desktop's keyboard settings to the command `jarvis-desktop listen --toggle`: "
    "each press starts or stops listening."
)
"""What the Settings dialog shows where Jarvis cannot grab a global hotkey itself."""


class HotkeyError(JarvisError):
    """The hotkey cannot be grabbed here: no display, a Wayland session, a missing library, an X server that does
    not answer. ``hint`` says what to do instead (for example :data:`FALLBACK_TEXT`)."""

    exit_code = 2


class HotkeyInUseError(HotkeyError):
    """Another program already holds the key combination (X11 ``BadAccess`` on the grab)."""


@dataclass(frozen=True)
class HotkeyCombo:
    """One key combination.

    ``modifiers``: a subset of :data:`MODIFIERS`; ``key``: one lowercase letter, one digit, or a :data:`NAMED_KEYS`
    name. ``str(combo)`` is the canonical setting text (``<ctrl>+<alt>+j``).
    """

    modifiers: frozenset[str]
    key: str

    def __str__(self) -> str:
        return "+".join([f"<{m}>" for m in MODIFIERS if m in self.modifiers] + [self._key_text()])

    def _key_text(self) -> str:
        return f"<{self.key}>" if self.key in NAMED_KEYS else self.key

    @property
    def x11_keysym(self) -> str:
        """The X11 keysym name of the key (``j``, ``F9``, ``space``)."""
        return NAMED_KEYS.get(self.key, self.key)

    def pynput_text(self) -> str:
        """The combination in pynput's ``HotKey.parse`` format (``<super>`` is pynput's ``<cmd>``)."""
        names = ["cmd" if m == "super" else m for m in MODIFIERS if m in self.modifiers]
        return "+".join([f"<{n}>" for n in names] + [self._key_text()])

    def xdotool_text(self) -> str:
        """The combination as ``xdotool key`` writes it (``ctrl+alt+j``): for tests and docs."""
        return "+".join([m for m in MODIFIERS if m in self.modifiers] + [self.x11_keysym])


def _parse_token(token: str, text: str) -> tuple[str, str]:
    """One ``+``-separated part -> ("modifier" | "key", canonical name). Raises BadInputError."""
    if token.startswith("<") and token.endswith(">") and len(token) > 2:
        name = token[1:-1].lower()
        if name in _MODIFIER_ALIASES:
            return "modifier", _MODIFIER_ALIASES[name]
        if name in NAMED_KEYS:
            return "key", name
        raise BadInputError(f"bad hotkey {text!r}: unknown key <{name}>", hint=_FORMAT_HINT)
    if len(token) == 1 and token.isascii() and token.isalnum():
        return "key", token.lower()
    raise BadInputError(f"bad hotkey {text!r}: {token!r} is not a key", hint=_FORMAT_HINT)


def parse_hotkey(text: str) -> HotkeyCombo:
    """Parse and check the setting's text, for example ``"<ctrl>+<alt>+j"`` (case and spaces around ``+`` do not
    matter; ``<control>``, ``<cmd>``, ``<win>`` are accepted aliases).

    Raises BadInputError (exit code 2) when the text is empty, has an unknown or repeated part, has no key or more
    than one, or binds a letter, a digit or a typing key (<space>, <tab>, <enter>, <esc>, <home> ...) with no
    modifier other than <shift> (that would take the key away from typing everywhere).
    """
    parts = [part.strip() for part in text.split("+")] if text.strip() else []
    if not parts or any(not part for part in parts):
        raise BadInputError(f"bad hotkey {text!r}: empty part", hint=_FORMAT_HINT)
    modifiers: set[str] = set()
    keys: list[str] = []
    for part in parts:
        kind, name = _parse_token(part, text)
        if kind == "key":
            keys.append(name)
        elif name in modifiers:
            raise BadInputError(f"bad hotkey {text!r}: <{name}> twice", hint=_FORMAT_HINT)
        else:
            modifiers.add(name)
    if len(keys) != 1:
        raise BadInputError(f"bad hotkey {text!r}: it needs exactly one key besides the modifiers", hint=_FORMAT_HINT)
    key = keys[0]
    if key not in _STANDALONE_KEYS and not modifiers & {"ctrl", "alt", "super"}:
        raise BadInputError(
            f"bad hotkey {text!r}: {key!r} needs <ctrl>, <alt> or <super>, or it is taken away from typing",
            hint=_FORMAT_HINT,
        )
    return HotkeyCombo(frozenset(modifiers), key)


class HotkeyMode(enum.Enum):
    """PUSH_TO_TALK: press begins, release ends. TOGGLE: each press flips between begin and end; releases do
    nothing."""

    PUSH_TO_TALK = "push_to_talk"
    TOGGLE = "toggle"


class HotkeyStatus(enum.Enum):
    """Whether :class:`~jarvis_desktop.voice.hotkey.GlobalHotkey` can grab a key in this session."""

    SUPPORTED = "supported"  # X11 (python-xlib), Windows or macOS (pynput)
    PORTAL_OFFERED = "portal_offered"  # Wayland, the desktop offers GlobalShortcuts; Jarvis does not bind it yet
    UNSUPPORTED = "unsupported"  # Wayland without the portal, no graphical session, the library is missing
    UNKNOWN = "unknown"  # Wayland, and D-Bus could not be asked whether the portal is offered


class HotkeyBackend(enum.Enum):
    """Which mechanism serves (or would serve) the hotkey."""

    X11 = "x11"  # XGrabKey on the root window through python-xlib
    PYNPUT = "pynput"  # pynput's Windows (win32 hooks) or macOS (Quartz event tap) listener
    WAYLAND_PORTAL = "wayland_portal"  # org.freedesktop.portal.GlobalShortcuts
    NONE = "none"


@dataclass(frozen=True)
class HotkeySupport:
    """What :func:`~jarvis_desktop.voice.hotkey.probe` found.

    ``reason``: one sentence for the Settings dialog; ``fallback``: "" when ``can_grab``, else :data:`FALLBACK_TEXT`.
    """

    status: HotkeyStatus
    backend: HotkeyBackend
    reason: str
    fallback: str

    @property
    def can_grab(self) -> bool:
        """True when GlobalHotkey.start() can grab a key here."""
        return self.status is HotkeyStatus.SUPPORTED
