"""A wrong password, refused the way PostgreSQL refuses it.

The PostgreSQL server on this machine trusts loopback connections, so it never refuses a
password. This test runs a loopback server that speaks just enough of the PostgreSQL wire
protocol to ask for a password and answer with PostgreSQL's own error (SQLSTATE 28P01); the
real psycopg driver talks to it, so Keel's error translation is exercised end to end.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from keel.core.errors import StoreUnavailable
from keel.core.settings import Settings
from keel.store.database import Database

_SSL_REQUEST = 80877103
_GSS_REQUEST = 80877104


def _recv_exact(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("client went away")
        data += chunk
    return data


def _serve_one(conn: socket.socket) -> None:
    with conn:
        while True:  # SSL / GSS negotiation requests come before the startup message
            (length,) = struct.unpack("!i", _recv_exact(conn, 4))
            body = _recv_exact(conn, length - 4)
            (code,) = struct.unpack("!i", body[:4])
            if code in (_SSL_REQUEST, _GSS_REQUEST):
                conn.sendall(b"N")
                continue
            break
        conn.sendall(b"R" + struct.pack("!ii", 8, 3))  # AuthenticationCleartextPassword
        kind = _recv_exact(conn, 1)
        (length,) = struct.unpack("!i", _recv_exact(conn, 4))
        _recv_exact(conn, length - 4)
        assert kind == b"p"
        fields = b"".join(
            tag + text + b"\0"
            for tag, text in (
                (b"S", b"FATAL"),
                (b"V", b"FATAL"),
                (b"C", b"28P01"),
                (b"M", b'password authentication failed for user "keel"'),
            )
        )
        payload = fields + b"\0"
        conn.sendall(b"E" + struct.pack("!i", len(payload) + 4) + payload)


@pytest.fixture
def password_server() -> Iterator[int]:
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.settimeout(10)
    port = server.getsockname()[1]
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except (TimeoutError, OSError):
                return
            try:
                _serve_one(conn)
            except (ConnectionError, OSError, AssertionError):
                pass

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield port
    finally:
        stop.set()
        server.close()
        thread.join(timeout=5)


def test_wrong_password_is_one_line_naming_the_fix(password_server: int) -> None:
    url = f"postgresql+psycopg://keel:wrong-secret@127.0.0.1:{password_server}/keel"
    db = Database(url, Settings.resolve({}))
    with pytest.raises(StoreUnavailable) as info:
        with db.read():
            pass
    message = str(info.value)
    assert "password authentication failed" in message
    assert "check the user and password in KEEL_DB_URL" in message
    assert "wrong-secret" not in message and "keel:***@" in message
    assert "\n" not in message
    assert info.value.exit_code == 6
    db.dispose()
