# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""probe/_connect.py: tests written for the survivors of its mutation run (docs/mutation.md).

Each test is named for the bug it catches. No network: the resolver's getaddrinfo and the clock are
replaced where a test needs them, and sockets are loopback only.
"""
from __future__ import annotations

import errno
import http.client
import importlib.util
import re
import socket
import ssl
import sys
import types

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _connect as conn


class Clock(object):
    """A monotonic clock the test moves by hand."""

    def __init__(self, now=100.0):
        self.now = now

    def monotonic(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(conn, "time", types.SimpleNamespace(monotonic=fake.monotonic))
    return fake


def fake_getaddrinfo(monkeypatch, answer, calls=None):
    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):  # noqa: A002 - socket's own names
        if calls is not None:
            calls.append((host, port, family, type))
        if isinstance(answer, BaseException):
            raise answer
        return answer
    monkeypatch.setattr(conn.socket, "getaddrinfo", getaddrinfo)


# --------------------------------------------------------------------------- the errno tables

@pytest.mark.parametrize("code", [errno.EHOSTDOWN, errno.ENONET, errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL])
def test_every_unreachable_errno_is_unreachable_not_a_protocol_error(code):
    err = conn.classify_error(OSError(code, "no route"))
    assert (err.state, err.detail) == ("unreachable", "connect: no route")


def test_a_connection_aborted_is_a_reset_not_a_bare_protocol_error():
    err = conn.classify_error(OSError(errno.ECONNABORTED, "Software caused connection abort"))
    assert (err.state, err.detail) == ("protocol", "connect: connection reset by peer")


def _connect_without(monkeypatch, names):
    """A fresh copy of _connect imported on a platform whose errno lacks ``names``."""
    stub = types.ModuleType("errno")
    for key in dir(errno):
        if not key.startswith("__") and key not in names:
            setattr(stub, key, getattr(errno, key))
    monkeypatch.setitem(sys.modules, "errno", stub)
    spec = importlib.util.spec_from_file_location("o2edge_connect_without_errnos", conn.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_an_errno_name_the_platform_lacks_matches_no_real_errno(monkeypatch):
    # A placeholder that is a real errno (1 is EPERM) would class that error as unreachable or reset.
    bare = _connect_without(monkeypatch, {"EHOSTDOWN", "ENONET", "ECONNABORTED"})
    monkeypatch.setitem(sys.modules, "errno", errno)
    for code in range(0, 200):
        if code not in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.EADDRNOTAVAIL, errno.ECONNREFUSED,
                        errno.ECONNRESET, errno.EPIPE, errno.ETIMEDOUT):
            err = bare.classify_error(OSError(code, "text"))
            assert (err.state, err.detail) == ("protocol", "connect: text"), code


# --------------------------------------------------------------------------- ProbeError and Deadline

def test_an_unknown_state_is_refused_by_name():
    with pytest.raises(ValueError) as info:
        raise conn.ProbeError("nope", "detail")
    assert str(info.value) == "unknown probe state 'nope'"


def test_the_deadline_is_passed_when_exactly_nothing_is_left(clock):
    deadline = conn.Deadline(5, 1)
    clock.now += 5.0
    assert deadline.remaining() == 0.0
    with pytest.raises(conn.ProbeError) as info:
        deadline.left("reading")
    assert (info.value.state, info.value.detail) == ("timeout", "deadline of 5s passed before reading")


def test_elapsed_is_in_milliseconds_to_a_tenth(clock):
    deadline = conn.Deadline(5, 1)
    clock.now += 1.23456
    assert deadline.elapsed_ms() == 1234.6


# --------------------------------------------------------------------------- the resolver

def test_the_resolver_asks_for_any_family_of_stream_addresses(monkeypatch):
    calls = []
    fake_getaddrinfo(monkeypatch, [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("198.18.0.1", 0))], calls)
    assert conn.Resolver()("edge.example") == [(socket.AF_INET, "198.18.0.1")]
    assert calls == [("edge.example", None, 0, socket.SOCK_STREAM)]


def test_a_resolver_error_is_named_by_its_text(monkeypatch):
    fake_getaddrinfo(monkeypatch, socket.gaierror(socket.EAI_NONAME, "Name or service not known"))
    with pytest.raises(conn.ProbeError) as info:
        conn.Resolver()("edge.example")
    assert (info.value.state, info.value.detail) == ("dns", "cannot resolve edge.example: Name or service not known")


def test_a_resolver_error_without_text_is_named_by_the_exception(monkeypatch):
    fake_getaddrinfo(monkeypatch, socket.gaierror("bare"))
    with pytest.raises(conn.ProbeError) as info:
        conn.Resolver()("edge.example")
    assert info.value.detail == "cannot resolve edge.example: bare"


def test_distinct_addresses_are_all_kept_and_duplicates_dropped(monkeypatch):
    fake_getaddrinfo(monkeypatch, [
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("198.18.0.1", 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("198.18.0.2", 0)),
        (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("198.18.0.1", 0)),
        (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("2001:2::1", 0, 0, 0)),
    ])
    assert conn.Resolver()("edge.example") == [(socket.AF_INET, "198.18.0.1"), (socket.AF_INET, "198.18.0.2"),
                                               (socket.AF_INET6, "2001:2::1")]


def test_a_name_without_addresses_is_a_dns_error(monkeypatch):
    fake_getaddrinfo(monkeypatch, [])
    with pytest.raises(conn.ProbeError) as info:
        conn.Resolver()("edge.example")
    assert (info.value.state, info.value.detail) == ("dns", "cannot resolve edge.example: no address")


def test_a_resolved_name_is_cached_with_its_addresses(monkeypatch):
    calls = []
    fake_getaddrinfo(monkeypatch, [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("198.18.0.1", 0))], calls)
    resolver = conn.Resolver()
    assert resolver("edge.example") == [(socket.AF_INET, "198.18.0.1")]
    assert resolver("edge.example") == [(socket.AF_INET, "198.18.0.1")]
    assert len(calls) == 1


# --------------------------------------------------------------------------- shown_text

def test_shown_text_keeps_200_characters_by_default():
    assert conn.shown_text("a" * 300) == "a" * 200


def test_undecodable_bytes_are_shown_replaced():
    assert conn.shown_text(b"ok \xff") == "ok \ufffd"


KEY = "-----BEGIN PRIVATE KEY-----"


def test_only_the_first_1600_bytes_are_scanned_for_secrets():
    # 850 two-byte characters are 1700 bytes: a key block after them is past the 8 x 200 bytes read
    text = ("\u00e9" * 850 + KEY).encode("utf-8")
    assert conn.shown_text(text) == "\u00e9" * 200
    assert conn.shown_text(("\u00e9" * 780 + KEY).encode("utf-8")) == "(not quoted: it holds a private key block)"


def test_only_the_first_1600_characters_are_scanned_for_secrets():
    assert conn.shown_text("b" * 1650 + KEY) == "b" * 200
    assert conn.shown_text("b" * 1550 + KEY) == "(not quoted: it holds a private key block)"


def test_classify_error_names_a_connect_by_default():
    assert conn.classify_error(socket.timeout()).detail == "connect: timed out"


def test_a_resolver_error_while_connecting_keeps_what_and_the_error():
    err = conn.classify_error(socket.gaierror(socket.EAI_NONAME, "Name or service not known"), "connect to edge port 22")
    assert (err.state, err.detail) == ("dns", "connect to edge port 22: cannot resolve: [Errno %d] Name or service not known"
                                       % socket.EAI_NONAME)


def test_a_failed_verification_is_named_by_ssl_verify_message():
    exc = ssl.SSLCertVerificationError(1, "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed")
    exc.verify_message = "self-signed certificate"
    err = conn.classify_error(exc, "handshake")
    assert (err.state, err.detail) == ("tls", "handshake: certificate verification failed: self-signed certificate")


def test_a_tls_error_is_named_by_its_reason():
    exc = ssl.SSLError(1, "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    exc.reason = "WRONG_VERSION_NUMBER"
    err = conn.classify_error(exc, "handshake")
    assert (err.state, err.detail) == ("tls", "handshake: TLS error: WRONG_VERSION_NUMBER")


@pytest.mark.parametrize("exc, state, detail", [
    (OSError(errno.ECONNREFUSED, "Connection refused"), "refused", "connect: connection refused"),
    # OSError(ETIMEDOUT, ...) is made a TimeoutError; a subclass of OSError keeps the errno to look at
    (type("OtherOSError", (OSError,), {})(errno.ETIMEDOUT, "Connection timed out"), "timeout",
     "connect: timed out (Connection timed out)"),
    (OSError(errno.ECONNRESET, "Connection reset by peer"), "protocol", "connect: connection reset by peer"),
    (http.client.BadStatusLine("HTTP/9"), "protocol", "connect: malformed HTTP response: BadStatusLine"),
    (ValueError("odd"), "protocol", "connect: ValueError: odd"),
])
def test_each_error_class_has_its_state_and_whole_message(exc, state, detail):
    err = conn.classify_error(exc)
    assert (err.state, err.detail) == (state, detail)


# --------------------------------------------------------------------------- tcp_connect

def test_a_connect_after_the_deadline_names_the_address_and_port(clock):
    deadline = conn.Deadline(5, 1)
    clock.now += 6
    with pytest.raises(conn.ProbeError) as info:
        conn.tcp_connect("edge.example", 22, deadline, lambda host: [(socket.AF_INET, "127.0.0.1")])
    assert (info.value.state, info.value.detail) == ("timeout", "deadline of 5s passed before connecting to edge.example:22")


def test_the_connect_time_is_the_connect_call_in_milliseconds(monkeypatch):
    ticks = iter(100.0 + 0.25678 * n for n in range(1000))
    monkeypatch.setattr(conn, "time", types.SimpleNamespace(monotonic=lambda: next(ticks)))
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        deadline = conn.Deadline(5, 1)  # tick 0; left() reads tick 1, the connect runs from tick 2 to tick 3
        sock, connect_ms = conn.tcp_connect("127.0.0.1", server.getsockname()[1], deadline, conn.Resolver())
        sock.close()
    finally:
        server.close()
    assert connect_ms == 256.8


class FakeSocket(object):
    """socket.socket whose connect fails (or not) by host, as ``outcomes`` says; records what was done."""

    outcomes = {}
    made = []

    def __init__(self, family, kind):
        self.family, self.kind, self.timeout, self.closed = family, kind, None, False
        FakeSocket.made.append(self)

    def settimeout(self, value):
        self.timeout = value

    def connect(self, address):
        self.address = address
        outcome = FakeSocket.outcomes[address[0]]
        if outcome is not None:
            raise outcome

    def close(self):
        self.closed = True


@pytest.fixture
def fake_socket(monkeypatch):
    FakeSocket.outcomes, FakeSocket.made = {}, []
    monkeypatch.setattr(conn, "socket", types.SimpleNamespace(
        socket=FakeSocket, SOCK_STREAM=socket.SOCK_STREAM, AF_INET=socket.AF_INET, AF_INET6=socket.AF_INET6,
        timeout=socket.timeout, gaierror=socket.gaierror))
    return FakeSocket


def _resolver(*hosts):
    return lambda address: [(socket.AF_INET, host) for host in hosts]


REFUSED = OSError(errno.ECONNREFUSED, "Connection refused")
UNREACHABLE = OSError(errno.EHOSTUNREACH, "No route to host")


@pytest.mark.parametrize("outcomes, state, detail", [
    ({"198.18.0.1": socket.timeout(), "198.18.0.2": REFUSED}, "refused", "connect to 198.18.0.2 port 22: connection refused"),
    ({"198.18.0.1": REFUSED, "198.18.0.2": socket.timeout()}, "refused", "connect to 198.18.0.1 port 22: connection refused"),
    ({"198.18.0.1": UNREACHABLE, "198.18.0.2": socket.timeout()}, "unreachable", "connect to 198.18.0.1 port 22: No route to host"),
    ({"198.18.0.1": socket.timeout(), "198.18.0.2": UNREACHABLE}, "timeout", "connect to 198.18.0.1 port 22: no answer within 1s"),
    ({"198.18.0.1": REFUSED, "198.18.0.2": OSError(errno.ECONNREFUSED, "again")}, "refused",
     "connect to 198.18.0.1 port 22: connection refused"),
])
def test_the_first_failure_is_told_unless_a_later_address_refuses(fake_socket, outcomes, state, detail):
    fake_socket.outcomes = outcomes
    with pytest.raises(conn.ProbeError) as info:
        conn.tcp_connect("edge.example", 22, conn.Deadline(5, 1), _resolver("198.18.0.1", "198.18.0.2"))
    assert (info.value.state, info.value.detail) == (state, detail)
    assert [s.closed for s in fake_socket.made] == [True, True]


def test_each_connect_waits_the_connect_timeout_or_what_is_left_if_less(fake_socket):
    fake_socket.outcomes = {"198.18.0.1": socket.timeout()}
    with pytest.raises(conn.ProbeError) as info:
        conn.tcp_connect("edge.example", 22, conn.Deadline(2, 3), _resolver("198.18.0.1"))
    assert 1.9 < fake_socket.made[0].timeout <= 2.0
    assert re.fullmatch(r"connect to 198\.18\.0\.1 port 22: no answer within 1\.9\d*s|"
                        r"connect to 198\.18\.0\.1 port 22: no answer within 2s", info.value.detail), info.value.detail
    fake_socket.made = []
    with pytest.raises(conn.ProbeError):
        conn.tcp_connect("edge.example", 22, conn.Deadline(5, 0.5), _resolver("198.18.0.1"))
    assert fake_socket.made[0].timeout == 0.5
    assert (fake_socket.made[0].family, fake_socket.made[0].kind, fake_socket.made[0].address) == (
        socket.AF_INET, socket.SOCK_STREAM, ("198.18.0.1", 22))


def test_a_name_without_addresses_cannot_be_connected(fake_socket):
    with pytest.raises(conn.ProbeError) as info:
        conn.tcp_connect("edge.example", 22, conn.Deadline(5, 1), _resolver())
    assert (info.value.state, info.value.detail) == ("dns", "no address for edge.example")


def test_the_tcp_kind_connects_closes_and_reports_the_connect_time(fake_socket):
    fake_socket.outcomes = {"198.18.0.1": None}
    state, info = conn.probe_tcp({"address": "edge.example", "port": 22}, conn.Deadline(5, 1),
                                 {"resolver": _resolver("198.18.0.1")})
    assert state == "connected" and set(info) == {"connect_ms"} and isinstance(info["connect_ms"], float)
    assert fake_socket.made[0].closed and fake_socket.made[0].address == ("198.18.0.1", 22)
