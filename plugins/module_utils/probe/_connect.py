# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What every probe kind shares (standard library only): the fixed vocabulary of states,
``ProbeError``, the ``Deadline``, the ``Resolver``, how socket errors are classified, the TCP
connect and the ``tcp`` kind. The kinds (``_probe_ssh``, ``_probe_http``) build on it and the
pool (``_probe``) dispatches to them.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
import threading
import time

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import secret_value_reason

STATES = ("up", "refused", "timeout", "unreachable", "dns", "tls", "auth", "http_status",
          "host_key_mismatch", "protocol")
_UNREACHABLE = (errno.ENETUNREACH, errno.EHOSTUNREACH, getattr(errno, "EHOSTDOWN", -1),
                getattr(errno, "ENONET", -1), errno.EADDRNOTAVAIL)
_REFUSED = (errno.ECONNREFUSED,)
_RESET = (errno.ECONNRESET, errno.EPIPE, getattr(errno, "ECONNABORTED", -1))


class ProbeError(Exception):
    """A probe ended in ``state`` (one of STATES) with a human ``detail``; ``info`` is what was seen before."""

    def __init__(self, state, detail, info=None):
        if state not in STATES:
            raise ValueError("unknown probe state %r" % (state,))
        super(ProbeError, self).__init__(detail)
        self.state = state
        self.detail = detail
        self.info = info or {}


class Deadline(object):
    def __init__(self, total, connect):
        self.start = time.monotonic()
        self.total = float(total)
        self.connect = float(connect)

    def remaining(self):
        return self.total - (time.monotonic() - self.start)

    def left(self, what):
        """Seconds left, or a timeout ProbeError naming what was being done."""
        rem = self.remaining()
        if rem <= 0:
            raise ProbeError("timeout", "deadline of %gs passed before %s" % (self.total, what))
        return rem

    def elapsed_ms(self):
        return round((time.monotonic() - self.start) * 1000.0, 1)


# --------------------------------------------------------------------------- name resolution

class Resolver(object):
    """getaddrinfo with a per-run cache; IP literals never touch DNS."""

    def __init__(self):
        self._cache = {}
        self._lock = threading.Lock()

    def __call__(self, host):
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                socket.inet_pton(family, host)
                return [(family, host)]
            except (OSError, ValueError):
                pass
        with self._lock:
            if host in self._cache:
                return self._cache[host]
        try:
            infos = socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ProbeError("dns", "cannot resolve %s: %s" % (host, exc.strerror or exc))
        out = []
        for family, _t, _p, _c, sockaddr in infos:
            if (family, sockaddr[0]) not in out:
                out.append((family, sockaddr[0]))
        if not out:
            raise ProbeError("dns", "cannot resolve %s: no address" % host)
        with self._lock:
            self._cache[host] = out
        return out


# --------------------------------------------------------------------------- errors and TCP

def shown_text(text, limit=200):
    """Text that came from elsewhere (a server's answer, an exception's message) as it may appear in a
    message: printable characters only, at most ``limit`` of them, and none at all when the text looks
    like secret material (a key block, a token, a URL with a password): then the reason, in brackets."""
    if isinstance(text, bytes):
        text = text[:limit * 8].decode("utf-8", "replace")
    text = str(text)[:limit * 8]
    reason = secret_value_reason(text)
    if reason:
        return "(not quoted: it %s)" % reason
    return "".join(c if c.isprintable() else " " for c in text[:limit]).strip()


def classify_error(exc, what="connect"):
    """Map a socket-level exception to a ProbeError."""
    if isinstance(exc, ProbeError):
        return exc
    if isinstance(exc, socket.gaierror):
        return ProbeError("dns", "%s: cannot resolve: %s" % (what, exc))
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ProbeError("timeout", "%s: timed out" % what)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ProbeError("tls", "%s: certificate verification failed: %s" % (what, exc.verify_message or exc))
    if isinstance(exc, ssl.SSLError):
        return ProbeError("tls", "%s: TLS error: %s" % (what, getattr(exc, "reason", None) or exc))
    if isinstance(exc, OSError):
        code = exc.errno
        text = exc.strerror or str(exc)
        if code in _REFUSED:
            return ProbeError("refused", "%s: connection refused" % what)
        if code in _UNREACHABLE:
            return ProbeError("unreachable", "%s: %s" % (what, text))
        if code == errno.ETIMEDOUT:
            return ProbeError("timeout", "%s: timed out (%s)" % (what, text))
        if code in _RESET:
            return ProbeError("protocol", "%s: connection reset by peer" % what)
        return ProbeError("protocol", "%s: %s" % (what, text))
    if isinstance(exc, http.client.HTTPException):
        return ProbeError("protocol", "%s: malformed HTTP response: %s" % (what, exc.__class__.__name__))
    return ProbeError("protocol", "%s: %s: %s" % (what, exc.__class__.__name__, shown_text(exc)))


def tcp_connect(address, port, deadline, resolver):
    """Connect to address:port (trying each resolved address); return (socket, connect_ms)."""
    first = None
    for family, host in resolver(address):
        rem = deadline.left("connecting to %s:%s" % (address, port))
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(min(deadline.connect, rem))
        t0 = time.monotonic()
        try:
            sock.connect((host, port))
            return sock, round((time.monotonic() - t0) * 1000.0, 1)
        except Exception as exc:  # noqa: BLE001 - classified below
            sock.close()
            err = classify_error(exc, "connect to %s port %s" % (host, port))
            if err.state == "timeout":
                err = ProbeError("timeout", "connect to %s port %s: no answer within %gs"
                                 % (host, port, min(deadline.connect, rem)))
            if first is None or (first.state != "refused" and err.state == "refused"):
                first = err
    raise first or ProbeError("dns", "no address for %s" % address)


def probe_tcp(target, deadline, ctx):
    sock, connect_ms = tcp_connect(target["address"], target["port"], deadline, ctx["resolver"])
    sock.close()
    return "connected", {"connect_ms": connect_ms}


# --------------------------------------------------------------------------- kinds
