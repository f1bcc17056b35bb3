# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_prometheus.request's client deadline, each of its two guards on its own (survivors of the recount after the
trickle fix; docs/mutation.md): the socket's timeouts (the time left, before the request and before each read)
and the timer that shuts the socket down at the deadline. Each test is named for the bug it catches."""
from __future__ import annotations

import socket
import threading
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _prometheus as pq

DEADLINE = 0.2
LATE = 0.9  # a client still waiting this long after a deadline of 0.2 s is held past it (margin for a busy machine)


def _serve(kind, stop):
    """A loopback server of one connection that reads the request, then ``silent``: sends nothing for 2 s;
    ``headers``: starts a status line and a header and trickles the header a byte every 20 ms for 2 s;
    ``body``: sends the headers of a 100-byte body and trickles the body a byte every 20 ms; ``late headers``:
    trickles the header for 0.5 s, then ends the headers and sends a whole body at once."""
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)

    def run():
        conn, dummy = srv.accept()
        try:
            conn.settimeout(2.0)
            conn.recv(65536)
            if kind in ("headers", "body", "late headers"):
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" if kind == "body" else b"HTTP/1.1 200 OK\r\nX-Pad: ")
                ends = time.monotonic() + (0.5 if kind == "late headers" else 2.0)
                while time.monotonic() < ends and not stop.is_set():
                    conn.sendall(b"a")
                    time.sleep(0.02)
                if kind == "late headers":
                    conn.sendall(b"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")
                    stop.wait(2.0)
            else:
                stop.wait(2.0)
        except OSError:
            pass  # the client gave up and closed
        finally:
            conn.close()
            srv.close()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return pq.Target("http://127.0.0.1:%d" % srv.getsockname()[1]), thread


@pytest.fixture()
def server():
    stop = threading.Event()
    threads = []

    def start(kind):
        target, thread = _serve(kind, stop)
        threads.append(thread)
        return target
    yield start
    stop.set()
    for thread in threads:
        thread.join(3.0)


class _HeldTimer(object):
    """A deadline timer whose thread has not run (a starved thread): only the socket's timeouts remain."""

    def __init__(self, interval, function, args=None):
        self.daemon = False

    def start(self):
        pass

    def cancel(self):
        pass


def _timed_out_in_time(res):
    assert (res["outcome"], res["error"]) == ("client_timeout", "no complete answer within the client deadline of %ss" % DEADLINE)
    assert res["seconds"] < LATE


def test_headers_trickling_past_the_deadline_are_cut_at_the_deadline_by_the_timer(server):
    """Bugs: the timer's list not a list (the timer fails before it shuts the socket down), its delay the clock
    added to the deadline, or at least a second: headers sent a byte at a time hold the client (each read comes
    within the socket's timeout, so only the timer ends the wait)."""
    _timed_out_in_time(pq.request(server("headers"), "POST", "/api/v1/query", {"query": "up"}, DEADLINE))


def test_the_socket_timeout_alone_ends_a_silent_server_at_the_deadline(server, monkeypatch):
    """Bugs: the socket's timeout before the request the clock added to the deadline, or at least a second, which
    the timer alone hides: with its thread not run, a server that never answers holds the client."""
    monkeypatch.setattr(pq.threading, "Timer", _HeldTimer)
    _timed_out_in_time(pq.request(server("silent"), "POST", "/api/v1/query", {"query": "up"}, DEADLINE))


def test_the_time_left_alone_ends_a_trickling_body_at_the_deadline(server, monkeypatch):
    """Bugs: the time left before each read the clock added (never <= 0), or checked only once the timer has
    fired (a time left below 0 then given to the socket: a ValueError), which the timer alone hides."""
    monkeypatch.setattr(pq.threading, "Timer", _HeldTimer)
    _timed_out_in_time(pq.request(server("body"), "POST", "/api/v1/query", {"query": "up"}, DEADLINE))


def test_headers_ending_after_the_deadline_are_a_client_timeout_without_the_timer(server, monkeypatch):
    """Bugs: the time left checked only once the timer has fired (its thread not run: a time left below 0 given
    to the socket, a ValueError out of request), or the clock added to it (the late answer read as a success)."""
    monkeypatch.setattr(pq.threading, "Timer", _HeldTimer)
    res = pq.request(server("late headers"), "POST", "/api/v1/query", {"query": "up"}, DEADLINE)
    assert (res["outcome"], res["error"]) == ("client_timeout", "no complete answer within the client deadline of %ss" % DEADLINE)
    assert res["seconds"] > 0.4 and res["http_status"] is None and res["body"] is None  # cut after the headers came
