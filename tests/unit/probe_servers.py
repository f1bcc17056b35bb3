# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Loopback servers (127.0.0.1 only) and stand-in programs for the prober and service_probe tests.

The fixtures are registered for every unit test by tests/unit/conftest.py (``pytest_plugins``).

The HTTP(S) handler plays a Kubernetes API (bearer ``TOKEN``), a Prometheus and an O2IMS, plus
misbehaving variants: ``/sub`` (readyz 500 with a failing check), ``/fail200`` (readyz 200 that
still lists a failing check) and ``/echo-<where>`` (accepts any bearer token and echoes it back at
``<where>``: ``readyz`` as a failing check name, ``livez`` in a 503 body, ``version`` as the
gitVersion of a 200, ``version500`` in a 500 body).
"""
from __future__ import annotations

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

from tests.unit.fake_sshd import close_listener

KEY_A = "AAAAC3NzaC1lZDI1NTE5AAAAIHw/eyRlBcTW0mPB2vsXmU9x+deZSWRRgAYXvFK8dzB1"
KEY_B = "AAAAC3NzaC1lZDI1NTE5AAAAIMR7b4DQG7uGNSfUkcbcO2gnJIcHESyfmZdneiHZjnKk"
TOKEN = "s3cr3t-token-value"


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

    def _echo(self, path):
        """/echo-<where>/<api path>: any bearer token is accepted and echoed back at <where>."""
        auth = self.headers.get("Authorization") or ""
        sent = auth[len("Bearer "):] if auth.startswith("Bearer ") else "(none)"
        where, _sep, rest = path[len("/echo-"):].partition("/")
        rest = "/" + rest
        if rest == "/readyz?verbose":
            if where == "readyz":
                return self._send(200, ("[+]ping ok\n[-]%s failed\n" % sent).encode(), "text/plain")
            return self._send(200, b"[+]ping ok\nreadyz check passed\n", "text/plain")
        if rest == "/livez":
            if where == "livez":
                return self._send(503, ("livez failed for bearer %s" % sent).encode(), "text/plain")
            return self._send(200, b"ok", "text/plain")
        if rest == "/version":
            if where == "version":
                return self._send(200, {"gitVersion": sent})
            if where == "version500":
                return self._send(500, {"message": "token %s is not allowed to read /version" % sent})
            return self._send(200, {"gitVersion": "v1.30.1"})
        return self._send(404, {"error": "not found"})

    def do_GET(self):  # noqa: N802
        path = self.path
        if path.startswith("/echo-"):
            return self._echo(path)
        if path.startswith(("/readyz", "/livez", "/version")):
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
        if path == "/fail200/readyz?verbose":  # a 200 that still lists a failing check
            return self._send(200, b"[+]ping ok\n[-]etcd failed: reason withheld\n[+]log ok\n", "text/plain")
        if path.startswith("/fail200/"):
            return self._send(200, {"gitVersion": "v1.30.1"} if path.endswith("/version") else b"ok")
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
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
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
    """ca.crt signs srv.crt (CN kubernetes, SAN IP:127.0.0.1 and DNS:kubernetes); wrong-ca.crt signs nothing."""
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


def write_kubeconfig(path, server, ca_file, user):
    """A YAML kubeconfig (what kubectl writes) with one cluster, one user and current-context ``ctx``."""
    lines = [
        "apiVersion: v1",
        "kind: Config",
        "current-context: ctx",
        "clusters:",
        "- name: c",
        "  cluster:",
        "    server: %s" % server,
        "    certificate-authority: %s" % ca_file,
        "contexts:",
        "- name: ctx",
        "  context: {cluster: c, user: u}",
        "users:",
        "- name: u",
        "  user:",
    ] + ["    %s: %s" % (k, v) for k, v in user.items()]
    with open(str(path), "w") as f:
        f.write("\n".join(lines) + "\n")
    return str(path)


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
        # Wake the accept() first and wait for the thread: closing a socket another thread is about
        # to accept() on frees its descriptor for the next test's socket, which that thread would
        # then serve with this server's greeting.
        self.stop = True
        close_listener(self.sock, self.thread, self.conns)


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


def tool(directory, name, body):
    """An executable shell script ``directory/name`` running ``body``; returns its path."""
    p = os.path.join(str(directory), name)
    with open(p, "w") as f:
        f.write("#!/bin/sh\n" + body)
    os.chmod(p, os.stat(p).st_mode | stat.S_IEXEC)
    return p


def fake_keyscan(directory, key_b64):
    """An ssh-keyscan stand-in printing one ed25519 key (the real one needs a real sshd) and
    recording its arguments, one a line, in ``directory/ssh-keyscan.argv``."""
    return tool(directory, "ssh-keyscan", "printf '%%s\\n' \"$@\" > '%s/ssh-keyscan.argv'\n"
                "echo '# fake banner'\necho \"127.0.0.1 ssh-ed25519 %s\"\n" % (directory, key_b64))


def recorded_argv(directory, name):
    with open(os.path.join(str(directory), name + ".argv")) as f:
        return f.read().splitlines()
