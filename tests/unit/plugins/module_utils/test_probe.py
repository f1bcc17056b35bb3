# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The prober: state logic without a network, and loopback servers (127.0.0.1) started here.

No timing is asserted anywhere; timeouts are only used to reach the ``timeout`` state.
"""
from __future__ import annotations

import base64
import errno
import hashlib
import hmac
import json
import os
import shutil
import socket
import ssl
import stat
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _probe as pr

KEY_A = "AAAAC3NzaC1lZDI1NTE5AAAAIHw/eyRlBcTW0mPB2vsXmU9x+deZSWRRgAYXvFK8dzB1"
KEY_B = "AAAAC3NzaC1lZDI1NTE5AAAAIMR7b4DQG7uGNSfUkcbcO2gnJIcHESyfmZdneiHZjnKk"
TOKEN = "s3cr3t-token-value"


# --------------------------------------------------------------------------- loopback servers

class QuietServer(ThreadingHTTPServer):
    """A loopback test server that does not print the handshakes the tests abort on purpose."""

    def handle_error(self, request, client_address):
        pass


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802
        path = self.path
        if path.startswith(("/readyz", "/livez", "/version", "/bad-readyz")):
            if self.headers.get("Authorization") != "Bearer " + TOKEN:
                return self._send(401, {"kind": "Status", "code": 401})
            if path == "/readyz?verbose":
                return self._send(200, b"[+]ping ok\n[+]etcd ok\nreadyz check passed\n", "text/plain")
            if path == "/livez":
                return self._send(200, b"ok", "text/plain")
            if path == "/version":
                return self._send(200, {"gitVersion": "v1.30.1"})
        if path == "/sub/readyz?verbose":  # a failing readyz under a prefix
            return self._send(500, b"[+]ping ok\n[-]etcd failed: reason withheld\nreadyz check failed\n", "text/plain")
        if path == "/-/ready":
            return self._send(200, b"Prometheus Server is Ready.\n", "text/plain")
        if path == "/notready/-/ready":
            return self._send(503, b"Service Unavailable", "text/plain")
        if path.startswith("/api/v1/query?"):
            assert "query=up" in path
            return self._send(200, {"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"job": "node", "instance": "a:9100"}, "value": [1, "1"]},
                {"metric": {"job": "node", "instance": "b:9100"}, "value": [1, "0"]},
                {"metric": {"job": "prometheus", "instance": "localhost:9090"}, "value": [1, "1"]}]}})
        if path.startswith("/garbage/api/v1/query?"):
            return self._send(200, b"<html>not prometheus</html>", "text/html")
        if path.startswith("/garbage/-/ready"):
            return self._send(200, b"ok", "text/plain")
        if path == "/o2ims":
            return self._send(200, {"oCloudId": "x"})
        if path == "/secret":
            return self._send(403, {"error": "forbidden"})
        return self._send(404, {"error": "not found"})


def _serve(srv):
    """Serve ``srv`` in a thread for the fixture's scope; yields its port."""
    srv.daemon_threads = True
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


@pytest.fixture(scope="module")
def http_server():
    yield from _serve(QuietServer(("127.0.0.1", 0), Handler))


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    d = str(tmp_path_factory.mktemp("pki"))
    for ca in ("ca", "wrong-ca"):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                 "-keyout", ca + ".key", "-out", ca + ".crt", "-days", "2", "-subj", "/CN=" + ca, cwd=d)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "srv.key",
             "-out", "srv.csr", "-subj", "/CN=kubernetes", cwd=d)
    with open(os.path.join(d, "ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:kubernetes\n")
    _openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
             "-out", "srv.crt", "-days", "2", "-extfile", "ext", cwd=d)
    return d


@pytest.fixture(scope="module")
def https_server(pki):
    srv = QuietServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(pki, "srv.crt"), os.path.join(pki, "srv.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    yield from _serve(srv)


class LineServer(object):
    """Accepts connections and writes ``greeting`` (or nothing) to each."""

    def __init__(self, greeting):
        self.greeting = greeting
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                conn, _a = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            if self.greeting:
                try:
                    conn.sendall(self.greeting)
                except OSError:
                    pass

    def close(self):
        self.stop = True
        self.sock.close()
        for c in self.conns:
            c.close()


@pytest.fixture
def line_server():
    servers = []

    def make(greeting):
        s = LineServer(greeting)
        servers.append(s)
        return s
    yield make
    for s in servers:
        s.close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def fake_keyscan(tmp_path, key_b64):
    """An ssh-keyscan stand-in printing one ed25519 key (the real one needs a real sshd)."""
    p = tmp_path / "ssh-keyscan"
    p.write_text("#!/bin/sh\necho '# fake banner'\necho \"127.0.0.1 ssh-ed25519 %s\"\n" % key_b64)
    p.chmod(p.stat().st_mode | stat.S_IEXEC)
    return str(p)


def run(target, timeout=3.0, **ctx):
    return pr.probe_one(target, connect_timeout=timeout, timeout=timeout, ctx=pr.default_context(**ctx))


# --------------------------------------------------------------------------- tcp

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
    assert pr.classify_error(exc).state == state


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
    r = pr.Resolver()
    assert r("127.0.0.1") == [(socket.AF_INET, "127.0.0.1")]
    assert r("::1") == [(socket.AF_INET6, "::1")]
    assert r("edge.example.net") == [(socket.AF_INET, "127.0.0.1")]
    r("edge.example.net")
    assert calls == ["edge.example.net"]


def test_timeout_state_on_silent_server(line_server, tmp_path):
    srv = line_server(None)  # accepts, never sends a banner
    r = run({"site": "s", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "host_key": "ssh-ed25519 " + KEY_A},
            timeout=0.3, keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "timeout"


# --------------------------------------------------------------------------- ssh

def test_ssh_up_with_pin(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-OpenSSH_9.2p1 fake\r\n")
    r = run({"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": srv.port,
             "host_key": "ssh-ed25519 " + KEY_A}, keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "up", r
    assert r["info"]["banner"] == "SSH-2.0-OpenSSH_9.2p1 fake"
    assert r["info"]["host_key"] == "ssh-ed25519 " + pr.fingerprint(KEY_A)


def test_ssh_impostor_is_host_key_mismatch_never_up(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-OpenSSH_9.2p1 impostor\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("edge2,198.18.2.10 ssh-ed25519 %s\n" % KEY_A)
    r = run({"site": "edge2", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)},
            keyscan=fake_keyscan(tmp_path, KEY_B))
    assert (r["ok"], r["state"]) == (False, "host_key_mismatch")
    assert pr.fingerprint(KEY_B) in r["detail"] and pr.fingerprint(KEY_A) in r["detail"]


def test_ssh_unknown_alias_is_host_key_mismatch(line_server, tmp_path):
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("edge1,198.18.1.10 ssh-ed25519 %s\n" % KEY_A)
    r = run({"site": "edge9", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)},
            keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "host_key_mismatch" and "has no host key for edge9" in r["detail"]


def test_ssh_alias_is_the_site_name_not_the_address(line_server, tmp_path):
    """A key listed for the address only does not vouch for the site (HostKeyAlias semantics)."""
    srv = line_server(b"SSH-2.0-x\r\n")
    kh = tmp_path / "known_hosts"
    kh.write_text("127.0.0.1 ssh-ed25519 %s\nedge1 ssh-ed25519 %s\n" % (KEY_B, KEY_A))
    r = run({"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "known_hosts": str(kh)},
            keyscan=fake_keyscan(tmp_path, KEY_B))
    assert r["state"] == "host_key_mismatch"


def test_ssh_not_ssh_is_protocol(line_server, tmp_path):
    srv = line_server(b"HTTP/1.1 400 Bad Request\r\n\r\n")
    r = run({"site": "s", "kind": "ssh", "address": "127.0.0.1", "port": srv.port, "host_key": "ssh-ed25519 " + KEY_A},
            keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "protocol" and "no SSH banner" in r["detail"]


def test_ssh_refused(tmp_path):
    r = run({"site": "s", "kind": "ssh", "address": "127.0.0.1", "port": closed_port(),
             "host_key": "ssh-ed25519 " + KEY_A}, keyscan=fake_keyscan(tmp_path, KEY_A))
    assert r["state"] == "refused"


def test_known_hosts_parsing():
    salt = os.urandom(20)
    digest = hmac.new(salt, b"edge3", hashlib.sha1).digest()
    hashed = "|1|%s|%s" % (base64.b64encode(salt).decode(), base64.b64encode(digest).decode())
    text = "\n".join([
        "# comment",
        "edge1,198.18.1.10 ssh-ed25519 %s" % KEY_A,
        "edge* ssh-rsa AAAArsa",
        "!edge2,edge? ssh-ed25519 NEG",
        "%s ssh-ed25519 %s" % (hashed, KEY_B),
        "@revoked edge1 ssh-ed25519 %s" % KEY_B,
        "@cert-authority *.example.net ssh-ed25519 CA",
        "",
    ])
    keys, revoked = pr.known_host_keys(text, "edge1")
    assert keys == [("ssh-ed25519", KEY_A), ("ssh-rsa", "AAAArsa"), ("ssh-ed25519", "NEG")]
    assert revoked == [("ssh-ed25519", KEY_B)]
    assert pr.known_host_keys(text, "edge2")[0] == [("ssh-rsa", "AAAArsa")]
    assert ("ssh-ed25519", KEY_B) in pr.known_host_keys(text, "edge3")[0]
    assert pr.known_host_keys(text, "other") == ([], [])


def test_compare_host_keys():
    a, b = ("ssh-ed25519", KEY_A), ("ssh-ed25519", KEY_B)
    assert pr.compare_host_keys([a], [a], [], "e", "x") is None
    assert pr.compare_host_keys([b], [a], [], "e", "x").state == "host_key_mismatch"
    assert "@revoked" in pr.compare_host_keys([a], [a], [a], "e", "x").detail
    assert pr.parse_keyscan("# x\n1.2.3.4 ssh-ed25519 %s\nbad line\n" % KEY_A) == [a]


@pytest.mark.parametrize("stderr,state", [
    ("Host key verification failed.", "host_key_mismatch"),
    ("root@x: Permission denied (publickey).", "auth"),
    ("ssh: connect to host x port 22: Connection refused", "refused"),
    ("ssh: connect to host x port 22: Connection timed out", "timeout"),
    ("ssh: connect to host x port 22: Network is unreachable", "unreachable"),
    ("ssh: Could not resolve hostname x: Name or service not known", "dns"),
    ("kex_exchange_identification: read: Connection reset by peer", "protocol"),
])
def test_ssh_login_errors(stderr, state):
    assert pr._ssh_error(stderr, 255).state == state


# --------------------------------------------------------------------------- http / prometheus

def test_http_expected_status(http_server):
    base = "http://127.0.0.1:%d" % http_server
    ok = run({"site": "s", "service": "o2ims", "kind": "http", "url": base + "/o2ims"})
    assert (ok["state"], ok["service"], ok["info"]["status"]) == ("up", "o2ims", 200)
    missing = run({"site": "s", "kind": "http", "url": base + "/nothing"})
    assert missing["state"] == "http_status" and "404" in missing["detail"]
    expected_404 = run({"site": "s", "kind": "http", "url": base + "/nothing", "expect_status": [404]})
    assert expected_404["state"] == "up"
    forbidden = run({"site": "s", "kind": "http", "url": base + "/secret"})
    assert forbidden["state"] == "auth"


def test_http_refused():
    r = run({"site": "s", "kind": "http", "url": "http://127.0.0.1:%d/x" % closed_port()})
    assert r["state"] == "refused"


def test_http_garbage_is_protocol(line_server):
    srv = line_server(b"SSH-2.0-not-http\r\n")
    r = run({"site": "s", "kind": "http", "url": "http://127.0.0.1:%d/" % srv.port}, timeout=1.0)
    assert r["state"] == "protocol"


def test_prometheus_targets(http_server):
    r = run({"site": "s", "kind": "prometheus", "address": "127.0.0.1", "port": http_server})
    assert r["state"] == "up", r
    assert (r["info"]["targets_up"], r["info"]["targets_down"], r["info"]["down"]) == (2, 1, ["node/b:9100"])
    notready = run({"site": "s", "kind": "prometheus", "url": "http://127.0.0.1:%d/notready" % http_server})
    assert notready["state"] == "http_status" and "503" in notready["detail"]
    garbage = run({"site": "s", "kind": "prometheus", "url": "http://127.0.0.1:%d/garbage" % http_server})
    assert garbage["state"] == "protocol"


# --------------------------------------------------------------------------- kubernetes (TLS)

def kube(port, pki, **extra):
    t = {"site": "edge1", "kind": "kubernetes", "address": "127.0.0.1", "port": port,
         "ca_file": os.path.join(pki, "ca.crt"), "token": TOKEN}
    t.update(extra)
    return t


def test_kubernetes_up(https_server, pki):
    r = run(kube(https_server, pki))
    assert r["state"] == "up", r
    assert r["info"]["version"] == "v1.30.1" and r["info"]["checks_ok"] == 2 and r["info"]["failing_checks"] == []


def test_kubernetes_token_file(https_server, pki, tmp_path):
    tf = tmp_path / "token"
    tf.write_text(TOKEN + "\n")
    assert run(kube(https_server, pki, token=None, token_file=str(tf)))["state"] == "up"


def test_kubernetes_wrong_ca_is_tls(https_server, pki):
    r = run(kube(https_server, pki, ca_file=os.path.join(pki, "wrong-ca.crt")))
    assert r["state"] == "tls" and "certificate verification failed" in r["detail"]


def test_kubernetes_wrong_name_is_tls(https_server, pki):
    r = run(kube(https_server, pki, tls_server_name="api.example.net"))
    assert r["state"] == "tls"


def test_kubernetes_wrong_token_is_auth_and_never_shown(https_server, pki):
    r = run(kube(https_server, pki, token="wrong-token-xyz"))
    assert r["state"] == "auth" and "401" in r["detail"]
    assert "wrong-token-xyz" not in json.dumps(r)
    ok = run(kube(https_server, pki))
    assert TOKEN not in json.dumps(ok)


def test_kubernetes_failing_checks(https_server, pki):
    r = run(kube(https_server, pki, url="https://127.0.0.1:%d/sub" % https_server))
    assert r["state"] == "http_status"
    assert r["info"]["failing_checks"] == ["etcd"] and "etcd" in r["detail"]


def test_kubernetes_plain_http_port_is_tls(http_server, pki):
    r = run(kube(http_server, pki))
    assert r["state"] == "tls"


def test_kubernetes_kubeconfig(https_server, pki, tmp_path):
    with open(os.path.join(pki, "ca.crt"), "rb") as f:
        ca_data = base64.b64encode(f.read()).decode()
    kc = {"apiVersion": "v1", "kind": "Config", "current-context": "other",
          "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:%d" % https_server,
                                                 "certificate-authority-data": ca_data}}],
          "users": [{"name": "u", "user": {"token": TOKEN}}, {"name": "bad", "user": {"token": "nope"}}],
          "contexts": [{"name": "ro", "context": {"cluster": "c", "user": "u"}},
                       {"name": "other", "context": {"cluster": "c", "user": "bad"}}]}
    path = tmp_path / "kubeconfig.json"
    path.write_text(json.dumps(kc))
    t = {"site": "e", "kind": "kubernetes", "address": "192.0.2.1", "port": 6443, "kubeconfig": str(path)}
    assert run(dict(t, context="ro"))["state"] == "up"
    assert run(t)["state"] == "auth"
    assert run(dict(t, context="missing"))["state"] == "protocol"


# --------------------------------------------------------------------------- many at once, matrix, summary

def test_probe_all_keeps_order_and_bounds_workers(line_server, http_server):
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
    assert pr.probe_all([]) == []


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
    assert set(s["states"]) == set(pr.STATES)
    assert s["site_status"] == {"edge1": "up", "edge2": "down", "edge3": "partial", "edge4": "up"}
    lines = pr.table(results)
    assert lines[0].split() == ["site", "ssh", "kubernetes", "site", "status"]
    assert lines[4].split() == ["edge3", "up", "tls", "partial"]
    assert lines[5].split() == ["edge4", "up", "-", "up"]
    assert lines[-1].startswith("2/4 sites fully up (50.0%), 1 partly up, 1 down; 4/7 services up")
    assert pr.summarize([])["healthy_share"] == 0.0


def test_unknown_state_is_refused():
    with pytest.raises(ValueError):
        raise pr.ProbeError("broken", "x")
