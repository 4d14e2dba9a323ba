"""One window per workspace: a second ``cockpit gui`` on the same workspace raises the
window that is already open (through a local socket named after the workspace and the
user) and exits, instead of opening a second window over the same stores."""

from __future__ import annotations

import getpass
import hashlib
from collections.abc import Callable

from PySide6.QtCore import QObject
from PySide6.QtNetwork import QLocalServer, QLocalSocket

from core.workspace import Workspace

CONNECT_TIMEOUT_MS = 1000
RAISE = b"raise\n"


def server_name(workspace: Workspace) -> str:
    key = f"{getpass.getuser()}\0{workspace.root.resolve()}".encode()
    return "experiment-cockpit-" + hashlib.sha256(key).hexdigest()[:24]


def raise_running_window(workspace: Workspace) -> bool:
    """Ask a window already open on ``workspace`` to come to the front; True if one did."""
    socket = QLocalSocket()
    socket.connectToServer(server_name(workspace))
    if not socket.waitForConnected(CONNECT_TIMEOUT_MS):
        return False
    socket.write(RAISE)
    socket.waitForBytesWritten(CONNECT_TIMEOUT_MS)  # False when flushed at once: no matter
    socket.waitForReadyRead(CONNECT_TIMEOUT_MS)  # the window's acknowledgement
    socket.disconnectFromServer()
    return True  # a window listens on this workspace: it was asked, do not open another


class InstanceServer(QObject):
    """Listens for later launches on the same workspace and calls ``on_raise``."""

    def __init__(self, workspace: Workspace, on_raise: Callable[[], None]) -> None:
        super().__init__()
        self._on_raise = on_raise
        self.server = QLocalServer(self)
        self.server.setSocketOptions(QLocalServer.SocketOption.UserAccessOption)
        name = server_name(workspace)
        if not self.server.listen(name):
            # a socket file left by a window that crashed: nobody answers it (checked by
            # the caller), so it is safe to take over
            QLocalServer.removeServer(name)
            self.server.listen(name)
        self.server.newConnection.connect(self._accept)

    def _accept(self) -> None:
        while self.server.hasPendingConnections():
            connection = self.server.nextPendingConnection()
            connection.readyRead.connect(lambda c=connection: self._read(c))
            connection.disconnected.connect(connection.deleteLater)

    def _read(self, connection: QLocalSocket) -> None:
        if bytes(connection.readAll().data()).startswith(RAISE.strip()):
            self._on_raise()
            connection.write(b"ok\n")
            connection.flush()
