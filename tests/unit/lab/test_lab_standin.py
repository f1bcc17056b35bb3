"""The lab's stand-ins accept connections as the Go servers they stand in for: a deep listen backlog and
Nagle's algorithm off on every connection (tests/lab/standin.py)."""
import socket

from tests.lab import standin


def _accepted(server):
    with socket.create_connection(server.server_address, timeout=5):
        conn, _addr = server.get_request()
    return conn


def test_every_accepted_connection_has_nagle_off_and_the_listener_a_deep_backlog():
    server = standin.ThreadingHTTPServer(("127.0.0.1", 0), standin.O2imsHandler)
    try:
        assert server.request_queue_size >= 4096
        conn = _accepted(server)
        try:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
        finally:
            conn.close()
    finally:
        server.server_close()


def test_the_plain_socketserver_leaves_nagle_on():
    """The check above means something: a connection socketserver accepts by itself keeps Nagle on."""
    server = standin._ThreadingHTTPServer(("127.0.0.1", 0), standin.O2imsHandler)  # pylint: disable=protected-access
    try:
        conn = _accepted(server)
        try:
            assert conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 0
        finally:
            conn.close()
    finally:
        server.server_close()
