"""Whether a Wayland desktop offers the xdg-desktop-portal GlobalShortcuts interface, asked over D-Bus.

Wayland lets no client grab keys for itself; a desktop that wants to allow global shortcuts offers
``org.freedesktop.portal.GlobalShortcuts`` on ``org.freedesktop.portal.Desktop`` (``/org/freedesktop/portal/desktop``)
on the session bus. This module only asks (``org.freedesktop.DBus.Introspectable.Introspect``); it binds nothing.
It uses jeepney (pure-Python D-Bus, MIT), which keyring already installs on Linux; without it the answer is UNKNOWN.
"""

from __future__ import annotations

import enum
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass

try:
    # jeepney has inline hints but no py.typed marker.
    from jeepney import DBusAddress, new_method_call  # type: ignore[import-untyped]
    from jeepney.io.blocking import open_dbus_connection  # type: ignore[import-untyped]
    from jeepney.wrappers import DBusErrorResponse  # type: ignore[import-untyped]

    JEEPNEY_MISSING = ""
except ImportError as exc:  # keyring pulls jeepney in on Linux only
    JEEPNEY_MISSING = str(exc)

PORTAL_BUS_NAME = "org.freedesktop.portal.Desktop"
PORTAL_PATH = "/org/freedesktop/portal/desktop"
GLOBAL_SHORTCUTS = "org.freedesktop.portal.GlobalShortcuts"


class PortalAvailability(enum.Enum):
    OFFERED = "offered"  # the portal runs and lists GlobalShortcuts
    ABSENT = "absent"  # the session bus answered: no portal, or a portal without GlobalShortcuts
    UNKNOWN = "unknown"  # no session bus, no D-Bus library, or no answer


@dataclass(frozen=True)
class PortalProbe:
    """``availability`` and ``detail``: one sentence on what was found (for the Settings dialog's reason)."""

    availability: PortalAvailability
    detail: str


def _introspect(bus_address: str, timeout: float) -> str:
    """The portal object's introspection XML. Raises OSError, DBusErrorResponse, TimeoutError, ValueError."""
    address = DBusAddress(PORTAL_PATH, bus_name=PORTAL_BUS_NAME, interface="org.freedesktop.DBus.Introspectable")
    with open_dbus_connection(bus=bus_address, auth_timeout=timeout) as connection:
        reply = connection.send_and_get_reply(new_method_call(address, "Introspect"), timeout=timeout)
    if reply.header.message_type.name == "error":
        raise DBusErrorResponse(reply)
    return str(reply.body[0])


def _offers_global_shortcuts(introspection_xml: str) -> bool:
    root = ET.fromstring(introspection_xml)
    return any(node.get("name") == GLOBAL_SHORTCUTS for node in root.iter("interface"))


def probe_global_shortcuts(env: Mapping[str, str], timeout: float = 2.0) -> PortalProbe:
    """Ask the session bus named by ``env["DBUS_SESSION_BUS_ADDRESS"]`` whether GlobalShortcuts is offered.

    Never raises: every failure becomes UNKNOWN (or ABSENT when the bus says the portal is not there). Takes at most
    about ``timeout`` seconds (the portal may be started by D-Bus activation on the first call).
    """
    if JEEPNEY_MISSING:
        return PortalProbe(PortalAvailability.UNKNOWN, f"no D-Bus library to ask the desktop ({JEEPNEY_MISSING})")
    bus_address = env.get("DBUS_SESSION_BUS_ADDRESS", "")
    if not bus_address:
        return PortalProbe(PortalAvailability.UNKNOWN, "no session bus (DBUS_SESSION_BUS_ADDRESS is not set)")
    try:
        introspection = _introspect(bus_address, timeout)
    except DBusErrorResponse as exc:
        if exc.name in ("org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"):
            return PortalProbe(PortalAvailability.ABSENT, "xdg-desktop-portal is not running on the session bus")
        return PortalProbe(PortalAvailability.UNKNOWN, f"the portal did not answer: {exc}")
    except (OSError, TimeoutError, ValueError, KeyError) as exc:
        return PortalProbe(PortalAvailability.UNKNOWN, f"cannot reach the session bus: {exc}")
    try:
        offered = _offers_global_shortcuts(introspection)
    except ET.ParseError as exc:
        return PortalProbe(PortalAvailability.UNKNOWN, f"the portal's introspection is not XML: {exc}")
    if offered:
        return PortalProbe(PortalAvailability.OFFERED, "the desktop's xdg-desktop-portal offers GlobalShortcuts")
    return PortalProbe(PortalAvailability.ABSENT, "the desktop's xdg-desktop-portal has no GlobalShortcuts interface")
