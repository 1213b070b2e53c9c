"""The window's side of the control socket (:mod:`jarvis_desktop.voice.control`): a QLocalServer that reads one
command line per connection, emits :attr:`ControlServer.command` on the GUI thread and answers ``ok`` (or
``error: ...`` for an unknown command); ``ping`` is answered here and not emitted. Everything runs in Qt's event
loop; the GUI thread never blocks on it.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from jarvis_desktop.voice.control import COMMANDS, control_socket_path

log = logging.getLogger(__name__)

MAX_LINE = 256
"""A longer first line is refused (a control command is one short word)."""


class ControlServer(QObject):
    """Listens on :func:`control_socket_path` (a stale socket left by a crashed run is replaced).
    ``command(str)``: a valid command arrived. ``error``: why listening failed (``""`` while it works)."""

    command = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.path = control_socket_path()
        self.error = ""
        self._server = QLocalServer(self)
        self._server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        self._server.newConnection.connect(self._on_connection)

    def start(self) -> bool:
        """Start listening; False (with :attr:`error` set and logged) when the socket cannot be created."""
        QLocalServer.removeServer(str(self.path))
        if self._server.listen(str(self.path)):
            return True
        self.error = f"control socket {self.path}: {self._server.errorString()}"
        log.warning("%s; 'jarvis-desktop listen --toggle' will not reach this window", self.error)
        return False

    def close(self) -> None:
        """Stop listening and remove the socket file."""
        self._server.close()

    def _on_connection(self) -> None:
        while self._server.hasPendingConnections():
            sock = self._server.nextPendingConnection()
            sock.readyRead.connect(lambda s=sock: self._on_ready(s))
            sock.disconnected.connect(sock.deleteLater)

    def _on_ready(self, sock: QLocalSocket) -> None:
        if not sock.canReadLine():
            if sock.bytesAvailable() > MAX_LINE:
                self._reply(sock, "error: line too long")
            return
        line = bytes(sock.readLine(MAX_LINE).data()).decode(errors="replace").strip()
        if line in COMMANDS:
            self._reply(sock, "ok")
            if line != "ping":
                self.command.emit(line)
        else:
            self._reply(sock, f"error: unknown command {line[:40]!r}")

    def _reply(self, sock: QLocalSocket, text: str) -> None:
        sock.write((text + "\n").encode())
        sock.flush()
        sock.disconnectFromServer()
