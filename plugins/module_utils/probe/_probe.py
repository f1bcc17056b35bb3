# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent service probes with exact failure states: the core (standard library only).

Every target is probed in a thread of a bounded pool; each has its own connect timeout and
total deadline. A result says which of a fixed vocabulary of states the target is in:

    up, refused, timeout, unreachable, dns, tls, auth, http_status, host_key_mismatch, protocol

This module holds what every kind shares: the states and ``ProbeError``, ``Deadline``, the
``Resolver``, how socket errors are classified, the TCP connect (and the ``tcp`` kind), the
pool (``probe_one``, ``probe_all``) and the site x service matrix, summary and table.

The other kinds live next to it and are imported on first use (they import this module):
``_probe_ssh`` (``ssh``: banner, host key fetched with ssh-keyscan and compared with the pin
or the known_hosts entry of the site's alias, optional BatchMode login) and ``_probe_http``
(``http``, ``prometheus``, ``kubernetes``: verified TLS, one GET per request, kubeconfig).

A kind is ``probe(target, deadline, ctx) -> (detail, info)`` raising ``ProbeError``. ``ctx``
is the probe's own copy of the run context: ``keyscan``, ``ssh`` (programs), ``resolver``
(shared by the run), ``secrets`` (a set: a kind adds every credential it sends, so that it is
masked out of the result) and ``endpoint`` (a kind that reads its address elsewhere than the
target's ``address``/``port`` -- a URL, a kubeconfig -- sets it to ``(address, port)``).
Secrets never reach a result: the detail and info are masked in ``probe_one``.
"""

from __future__ import annotations

import errno
import http.client
import socket
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key, redact, secret_value_reason
from ansible_collections.o2edge.perf.plugins.module_utils._services import PROBE_KINDS

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

def kind_probe(kind):
    """The probe function of ``kind`` (one of PROBE_KINDS), or None for any other value.

    The ssh and HTTP kinds are imported here, on first use, because they import this module.
    """
    if kind == "tcp":
        return probe_tcp
    if kind == "ssh":
        from ansible_collections.o2edge.perf.plugins.module_utils.probe._probe_ssh import probe_ssh
        return probe_ssh
    if kind in ("http", "prometheus", "kubernetes"):
        from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_http
        return getattr(_probe_http, "probe_" + kind)
    return None


def target_name(target):
    """``site S service V`` of a target, for messages."""
    return "site %s service %s" % (target.get("site"), target.get("service") or target.get("kind"))


def _probe_of(target):
    probe = kind_probe(target.get("kind"))
    if probe is None:
        raise ValueError("target %s: unknown probe kind %r; the kinds are %s"
                         % (target_name(target), target.get("kind"), ", ".join(PROBE_KINDS)))
    return probe


def _masked(value, secrets):
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return dict((k, _masked(v, secrets)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_masked(v, secrets) for v in value]
    return value


# --------------------------------------------------------------------------- running

def probe_one(target, connect_timeout=2.0, timeout=5.0, ctx=None):
    """Probe one target; always returns a result dict, whatever the network does.

    Raises ValueError when the target's kind is not one of PROBE_KINDS (a caller's mistake,
    not a state of the target).
    """
    probe = _probe_of(target)
    ctx = dict(ctx or default_context())
    # Every credential of the target (by the collection's secret-key rule) and every one a kind
    # reads from a file or kubeconfig and sends is masked out of the detail and info.
    ctx["secrets"] = set(v for k, v in target.items() if isinstance(v, str) and v and is_secret_key(k))
    ctx["endpoint"] = None
    deadline = Deadline(target.get("timeout") or timeout, target.get("connect_timeout") or connect_timeout)
    result = {
        "site": target.get("site"), "service": target.get("service") or target.get("kind"),
        "kind": target.get("kind"), "address": target.get("address"), "port": target.get("port"),
        "ok": False, "state": "protocol", "latency_ms": None, "connect_ms": None, "detail": "", "info": {},
    }
    try:
        detail, info = probe(target, deadline, ctx)
        result.update(ok=True, state="up", detail=detail, info=info)
    except ProbeError as exc:
        result.update(state=exc.state, detail=exc.detail, info=exc.info)
    except Exception as exc:  # noqa: BLE001 - a probe must always produce a result
        err = classify_error(exc, "probe")
        result.update(state=err.state, detail=err.detail)
    result["latency_ms"] = deadline.elapsed_ms()
    info = dict(result["info"])
    result["connect_ms"] = info.pop("connect_ms", None)
    if ctx["endpoint"]:
        result["address"], result["port"] = ctx["endpoint"]
    result["detail"] = _masked(result["detail"], ctx["secrets"])
    result["info"] = _masked(info, ctx["secrets"])
    return result


def default_context(keyscan="ssh-keyscan", ssh="ssh", resolver=None):
    return {"keyscan": keyscan, "ssh": ssh, "resolver": resolver or Resolver()}


def probe_all(targets, concurrency=64, connect_timeout=2.0, timeout=5.0, ctx=None):
    """Probe every target concurrently (at most ``concurrency`` at once); results in target order.

    Raises ValueError, before probing anything, when a target's kind is unknown.
    """
    if not targets:
        return []
    for t in targets:
        _probe_of(t)
    ctx = ctx or default_context()
    workers = max(1, min(int(concurrency), len(targets)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(probe_one, t, connect_timeout, timeout, ctx) for t in targets]
        return [f.result() for f in futures]


# --------------------------------------------------------------------------- matrix, summary, table

def site_state(states):
    ups = sum(1 for s in states if s == "up")
    if states and ups == len(states):
        return "up"
    return "partial" if ups else "down"


def matrix(results):
    """{site: {service: state}}."""
    out = {}
    for r in results:
        out.setdefault(r["site"], {})[r["service"]] = r["state"]
    return out


def summarize(results):
    """Sites fully up, partly up, down; healthy share; counts per state."""
    m = matrix(results)
    per_site = dict((site, site_state(list(svcs.values()))) for site, svcs in m.items())
    total = len(per_site)
    up = sum(1 for s in per_site.values() if s == "up")
    states = dict((s, 0) for s in STATES)
    for r in results:
        states[r["state"]] += 1
    share = (float(up) / total) if total else 0.0
    return {
        "sites_total": total, "sites_up": up,
        "sites_partial": sum(1 for s in per_site.values() if s == "partial"),
        "sites_down": sum(1 for s in per_site.values() if s == "down"),
        "healthy_share": round(share, 4), "healthy_pct": round(100.0 * share, 1),
        "targets_total": len(results), "targets_up": states["up"], "states": states,
        "site_status": per_site,
    }


def service_columns(results):
    names = []
    for r in results:
        if r["service"] not in names:
            names.append(r["service"])
    return sorted(names, key=lambda n: (n != "ssh", n))


def table(results):
    """The site x service matrix as aligned text lines (for ansible.builtin.debug)."""
    m = matrix(results)
    cols = service_columns(results)
    summ = summarize(results)
    header = ["site"] + cols + ["site status"]
    rows = [[site] + [m[site].get(c, "-") for c in cols] + [summ["site_status"][site]] for site in m]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def fmt(row):
        return "  ".join(str(v).ljust(widths[i]) for i, v in enumerate(row)).rstrip()

    lines = [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    lines.append("%d/%d sites fully up (%.1f%%), %d partly up, %d down; %d/%d services up" % (
        summ["sites_up"], summ["sites_total"], summ["healthy_pct"], summ["sites_partial"], summ["sites_down"],
        summ["targets_up"], summ["targets_total"]))
    return lines
