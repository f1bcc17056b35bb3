# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The probe core: error classification, resolver, tcp, the pool, masking, matrix and summary.

Loopback servers (127.0.0.1) only; no timing is asserted, timeouts are only used to reach the
``timeout`` state. The ssh and HTTP kinds have their own test_probe_ssh.py and test_probe_http.py.
"""
from __future__ import annotations

import errno
import json
import socket
import ssl
import threading

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _connect as conn
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils._services import PROBE_KINDS
from tests.unit.probe_servers import TOKEN, closed_port


def run(target, timeout=3.0, **ctx):
    return pr.probe_one(target, connect_timeout=timeout, timeout=timeout, ctx=pr.default_context(**ctx))


# --------------------------------------------------------------------------- tcp, errors, resolver

def test_tcp_up_and_refused(line_server):
    srv = line_server(None)
    up = run({"site": "s", "kind": "tcp", "address": "127.0.0.1", "port": srv.port})
    assert (up["ok"], up["state"], up["service"]) == (True, "up", "tcp")
    assert up["latency_ms"] is not None and up["connect_ms"] is not None
    down = run({"site": "s", "kind": "tcp", "address": "127.0.0.1", "port": closed_port()})
    assert (down["ok"], down["state"]) == (False, "refused")
    assert "connection refused" in down["detail"]


@pytest.mark.parametrize("exc,state", [
    (OSError(errno.ENETUNREACH, "Network is unreachable"), "unreachable"),
    (OSError(errno.EHOSTUNREACH, "No route to host"), "unreachable"),
    (ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused"), "refused"),
    (socket.timeout("timed out"), "timeout"),
    (OSError(errno.ETIMEDOUT, "Connection timed out"), "timeout"),
    (socket.gaierror(-2, "Name or service not known"), "dns"),
    (ssl.SSLError(1, "wrong version number"), "tls"),
    (ConnectionResetError(errno.ECONNRESET, "reset"), "protocol"),
    (ValueError("odd"), "protocol"),
])
def test_classify_error(exc, state):
    assert conn.classify_error(exc).state == state


def test_unreachable_via_connect(monkeypatch):
    def connect(self, addr):
        raise OSError(errno.ENETUNREACH, "Network is unreachable")
    monkeypatch.setattr(socket.socket, "connect", connect)
    r = run({"site": "s", "kind": "tcp", "address": "127.0.0.1", "port": 1})
    assert r["state"] == "unreachable" and "Network is unreachable" in r["detail"]


def test_dns_failure(monkeypatch):
    def fail(*args, **kwargs):
        raise socket.gaierror(-2, "Name or service not known")
    monkeypatch.setattr(socket, "getaddrinfo", fail)
    r = run({"site": "s", "kind": "tcp", "address": "edge1.example.net", "port": 22})
    assert r["state"] == "dns" and "edge1.example.net" in r["detail"]


def test_resolver_caches_and_skips_dns_for_literals(monkeypatch):
    calls = []

    def fake(host, *a, **k):
        calls.append(host)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    r = conn.Resolver()
    assert r("127.0.0.1") == [(socket.AF_INET, "127.0.0.1")]
    assert r("::1") == [(socket.AF_INET6, "::1")]
    assert r("edge.example.net") == [(socket.AF_INET, "127.0.0.1")]
    r("edge.example.net")
    assert calls == ["edge.example.net"]


def test_unknown_state_is_refused():
    with pytest.raises(ValueError):
        raise conn.ProbeError("broken", "x")


# --------------------------------------------------------------------------- kinds

def test_every_probe_kind_has_a_probe():
    for kind in PROBE_KINDS:
        assert callable(pr.kind_probe(kind)), kind
    assert pr.kind_probe("ftp") is None and pr.kind_probe(None) is None


def test_unknown_kind_names_the_target_and_the_kind():
    target = {"site": "edge7", "service": "ims", "kind": "o2ims", "address": "127.0.0.1", "port": 1}
    with pytest.raises(ValueError) as one:
        pr.probe_one(target)
    assert "site edge7 service ims" in str(one.value) and "'o2ims'" in str(one.value)
    assert "tcp, ssh, http, prometheus, kubernetes" in str(one.value)
    # probe_all refuses before probing anything (no half-run pool).
    with pytest.raises(ValueError) as many:
        pr.probe_all([{"site": "ok", "kind": "tcp", "address": "127.0.0.1", "port": closed_port()}, target])
    assert "site edge7 service ims" in str(many.value)


# --------------------------------------------------------------------------- secrets never in a result

def _fake_kind(monkeypatch, fn):
    monkeypatch.setattr(pr, "kind_probe", lambda kind: fn)


@pytest.mark.parametrize("how", ["success", "probe_error", "exception"])
def test_token_is_masked_in_every_detail_and_info(monkeypatch, how):
    """Whatever path builds the detail (success, ProbeError, any other exception), the token is masked."""
    def fake(target, deadline, ctx):
        if how == "success":
            return "server said %s" % TOKEN, {"echo": TOKEN, "nested": [{"x": "a%sb" % TOKEN}]}
        if how == "probe_error":
            raise conn.ProbeError("auth", "401: token %s rejected" % TOKEN, {"echo": [TOKEN]})
        raise RuntimeError("crashed on %s" % TOKEN)
    _fake_kind(monkeypatch, fake)
    r = run({"site": "s", "kind": "kubernetes", "address": "127.0.0.1", "port": 1, "token": TOKEN})
    assert TOKEN not in json.dumps(r)
    assert "********" in r["detail"]
    if how != "exception":
        assert "********" in json.dumps(r["info"])


def test_secrets_a_kind_reads_and_secret_named_fields_are_masked(monkeypatch):
    """A token a kind reads from a file (added to ctx['secrets']) and any secret-named field are masked."""
    def fake(target, deadline, ctx):
        ctx["secrets"].add("from-a-file-123")
        raise conn.ProbeError("http_status", "500: from-a-file-123 / pw-456 / %s" % target["token_file"],
                              {"body": "from-a-file-123"})
    _fake_kind(monkeypatch, fake)
    r = run({"site": "s", "kind": "kubernetes", "address": "127.0.0.1", "port": 1, "password": "pw-456",
             "token_file": "/etc/o2edge/t"})
    assert "from-a-file-123" not in json.dumps(r) and "pw-456" not in json.dumps(r)
    assert "/etc/o2edge/t" in r["detail"]  # a path is not a secret


def test_endpoint_a_kind_reports_is_the_result_address(monkeypatch):
    def fake(target, deadline, ctx):
        ctx["endpoint"] = ("192.0.2.5", 8443)
        return "ok", {"connect_ms": 1.5}
    _fake_kind(monkeypatch, fake)
    r = run({"site": "s", "kind": "kubernetes", "kubeconfig": "/x"})
    assert (r["address"], r["port"], r["connect_ms"], r["info"]) == ("192.0.2.5", 8443, 1.5, {})


# --------------------------------------------------------------------------- the pool

def _in_flight_recorder(concurrency, wait=0.25, linger=0.05):
    """A fake probe recording the most probes in flight at once.

    Each waits (at most ``wait`` s) until ``concurrency`` probes have been in flight together (a
    correct pool gets there at once), then ``linger`` s more, so that a pool letting more in than
    it should is seen doing it.
    """
    cond = threading.Condition()
    seen = {"now": 0, "max": 0, "calls": 0}

    def probe(target, deadline, ctx):
        with cond:
            seen["now"] += 1
            seen["calls"] += 1
            seen["max"] = max(seen["max"], seen["now"])
            cond.notify_all()
            cond.wait_for(lambda: seen["max"] >= concurrency, timeout=wait)
            cond.wait_for(lambda: seen["now"] > concurrency, timeout=linger)
            seen["now"] -= 1
            cond.notify_all()
        return "fake", {}
    return probe, seen


@pytest.mark.parametrize("concurrency,n", [(4, 8), (1, 3), (16, 5)])
def test_pool_runs_exactly_concurrency_probes_at_once(monkeypatch, concurrency, n):
    probe, seen = _in_flight_recorder(min(concurrency, n))
    _fake_kind(monkeypatch, probe)
    targets = [{"site": "s%d" % i, "kind": "tcp", "address": "127.0.0.1", "port": 1} for i in range(n)]
    results = pr.probe_all(targets, concurrency=concurrency, connect_timeout=1, timeout=1)
    assert [r["site"] for r in results] == ["s%d" % i for i in range(n)]
    assert seen["calls"] == n
    assert seen["max"] == min(concurrency, n), "in flight at once: %d, concurrency %d" % (seen["max"], concurrency)


def test_probe_all_keeps_order_on_real_targets(line_server, http_server):
    srv = line_server(None)
    targets = []
    for i in range(30):
        if i % 3 == 0:
            targets.append({"site": "s%d" % (i % 5), "service": "t%d" % i, "kind": "tcp", "address": "127.0.0.1",
                            "port": srv.port})
        elif i % 3 == 1:
            targets.append({"site": "s%d" % (i % 5), "service": "t%d" % i, "kind": "tcp", "address": "127.0.0.1",
                            "port": closed_port()})
        else:
            targets.append({"site": "s%d" % (i % 5), "service": "t%d" % i, "kind": "http",
                            "url": "http://127.0.0.1:%d/o2ims" % http_server})
    results = pr.probe_all(targets, concurrency=4, connect_timeout=2, timeout=3)
    assert [r["service"] for r in results] == ["t%d" % i for i in range(30)]
    assert [r["state"] for r in results] == ["up", "refused", "up"] * 10
    assert results[2]["address"] == "127.0.0.1" and results[2]["port"] == http_server
    assert pr.probe_all([]) == []


# --------------------------------------------------------------------------- matrix, summary, table

def fake_results(spec):
    return [{"site": s, "service": v, "state": st, "ok": st == "up"} for s, v, st in spec]


def test_matrix_summary_table():
    results = fake_results([
        ("edge1", "ssh", "up"), ("edge1", "kubernetes", "up"),
        ("edge2", "ssh", "host_key_mismatch"), ("edge2", "kubernetes", "refused"),
        ("edge3", "ssh", "up"), ("edge3", "kubernetes", "tls"),
        ("edge4", "ssh", "up"),
    ])
    assert pr.matrix(results)["edge2"] == {"ssh": "host_key_mismatch", "kubernetes": "refused"}
    s = pr.summarize(results)
    assert (s["sites_total"], s["sites_up"], s["sites_partial"], s["sites_down"]) == (4, 2, 1, 1)
    assert (s["healthy_share"], s["healthy_pct"]) == (0.5, 50.0)
    assert s["states"]["up"] == 4 and s["states"]["tls"] == 1 and s["states"]["dns"] == 0
    assert set(s["states"]) == set(conn.STATES)
    assert s["site_status"] == {"edge1": "up", "edge2": "down", "edge3": "partial", "edge4": "up"}
    lines = pr.table(results)
    assert lines[0].split() == ["site", "ssh", "kubernetes", "site", "status"]
    assert lines[4].split() == ["edge3", "up", "tls", "partial"]
    assert lines[5].split() == ["edge4", "up", "-", "up"]
    assert lines[-1].startswith("2/4 sites fully up (50.0%), 1 partly up, 1 down; 4/7 services up")
    assert pr.summarize([])["healthy_share"] == 0.0


def test_an_unexpected_error_is_quoted_bounded_and_never_secret_looking():
    # Bug (issue 15 class 5): any exception's whole text (a KeyError of a server's key, a key block) went into detail.
    long_err = conn.classify_error(KeyError("k" * 5000), "GET /x")
    assert long_err.state == "protocol" and len(long_err.detail) < 260
    key = conn.classify_error(ValueError("-----BEGIN " + "PRIVATE KEY-----\nMIIE"), "probe")
    assert "MIIE" not in key.detail and "not quoted: it holds a private key block" in key.detail
    assert conn.shown_text(b"a\x1b[0m\x00b") == "a [0m b"
