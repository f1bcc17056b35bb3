# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""probe/_probe_http: tests written for the survivors of a mutation run (docs/mutation.md), each named
for the bug it catches. Servers are loopback only (127.0.0.1): a scripted HTTP(S) server that records
what it is sent, and the shared Kubernetes stand-in of tests/unit/probe_servers.py."""
from __future__ import annotations

import base64
import gc
import json
import os
import socket
import ssl
import struct
import threading
import warnings

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _connect as conn
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_http as ph
from tests.unit.probe_servers import TOKEN, write_kubeconfig

MIB = 1048576


def run(target, timeout=3.0, ctx=None):
    return pr.probe_one(target, connect_timeout=timeout, timeout=timeout, ctx=ctx or pr.default_context())


def answer(status, body=b"", reason="OK", headers=()):
    """The raw bytes of an HTTP/1.1 answer with a Content-Length."""
    if isinstance(body, (dict, list)):
        body = json.dumps(body).encode()
    head = ["HTTP/1.1 %d %s" % (status, reason), "Content-Length: %d" % len(body)] + list(headers)
    return ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body


NOT_FOUND = answer(404, b"not found", "Not Found")


class Scripted(object):
    """A loopback HTTP(S) server: each request's answer is ``routes[path]`` (raw bytes, see ``answer``), or
    a 404. ``requests`` records (path, {lowercased header: value}) of every request in arrival order, and
    ``reused`` whether each TLS handshake resumed a session. ``keep_alive``: answer further requests on
    a connection until one says ``Connection: close`` (as an HTTP/1.1 server does); ``hang``: paths
    never answered (the connection stays open, silent); ``reset``: paths whose answer is sent, then,
    1.5 s later (the client has read it by then, even on a loaded machine), the connection reset (RST). ``accepted`` counts the connections."""

    def __init__(self, routes, tls=None, keep_alive=False, hang=(), reset=()):
        self.routes = routes
        self.tls = tls
        self.keep_alive = keep_alive
        self.hang = hang
        self.reset = reset
        self.accepted = 0
        self.requests = []
        self.reused = []
        self.conns = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                c, _a = self.sock.accept()
            except OSError:
                return
            self.conns.append(c)
            self.accepted += 1
            threading.Thread(target=self._serve, args=(c,), daemon=True).start()

    def _serve(self, c):
        try:
            c.settimeout(5)
            if self.tls is not None:
                c = self.tls.wrap_socket(c, server_side=True)
                self.conns.append(c)
                self.reused.append(c.session_reused)
            data = b""
            while True:
                while b"\r\n\r\n" not in data and len(data) < 65536:
                    chunk = c.recv(4096)
                    if not chunk:
                        return
                    data += chunk
                head, _sep, data = data.partition(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                path = lines[0].split(" ")[1]
                headers = dict((k.strip().lower(), v.strip()) for k, _s, v in (ln.partition(":") for ln in lines[1:]))
                self.requests.append((path, headers))
                if path in self.hang:
                    threading.Event().wait(10)
                    return
                c.sendall(self.routes.get(path, NOT_FOUND))  # b"": closed without an answer
                if path in self.reset:
                    threading.Event().wait(1.5)
                    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    return
                if not self.keep_alive or headers.get("connection") == "close":
                    return
        except (OSError, ssl.SSLError, IndexError):
            pass
        finally:
            try:
                c.close()
            except OSError:
                pass

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(5)
        self.sock.close()
        for c in self.conns:
            try:
                c.close()
            except OSError:
                pass


@pytest.fixture
def scripted():
    made = []

    def make(routes, tls=None, **kw):
        s = Scripted(routes, tls, **kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()


@pytest.fixture
def tls_server_ctx(pki):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(pki, "srv.crt"), os.path.join(pki, "srv.key"))
    return ctx


def kubeconfig(tmp_path, server="https://127.0.0.1:1", user=None, ca_file="ca.crt", name="config"):
    return write_kubeconfig(tmp_path / name, server, ca_file, user or {"token": "t"})


# --------------------------------------------------------------------------- the bounds, at their edges

def test_a_kubeconfig_of_exactly_one_mib_is_read_and_one_byte_more_is_refused(tmp_path):
    """Bug: the kubeconfig bound raised (1025 * 1024): a larger file read into memory."""
    path = kubeconfig(tmp_path)
    with open(path) as f:
        text = f.read()
    pad = "#" * (MIB - len(text) - 1) + "\n"
    with open(path, "w") as f:
        f.write(text + pad)
    assert os.path.getsize(path) == MIB
    assert ph.read_kubeconfig(path)["server"] == "https://127.0.0.1:1"
    with open(path, "a") as f:
        f.write("#")
    with pytest.raises(conn.ProbeError) as err:
        ph.read_kubeconfig(path)
    assert (err.value.state, err.value.detail) == (
        "auth", "cannot read kubeconfig %s is 1048577 bytes, over the limit of 1048576; not read" % path)


def test_a_token_file_of_exactly_64_kib_is_read_and_one_byte_more_is_refused(tmp_path):
    """Bug: the token-file bound raised (65 * 1024 or 64 * 1025)."""
    path = tmp_path / "tok"
    path.write_text("a" * 65536)
    assert ph._read_secret(str(path), "token_file") == "a" * 65536
    path.write_text("a" * 65537)
    with pytest.raises(conn.ProbeError) as err:
        ph._read_secret(str(path), "token_file")
    assert (err.value.state, err.value.detail) == (
        "auth", "cannot read token_file %s is 65537 bytes, over the limit of 65536; not read" % path)


def _nested_kubeconfig(tmp_path, depth):
    """A kubeconfig (JSON, read by either loader) whose extra field nests ``depth`` levels in all."""
    doc = {"current-context": "c", "contexts": [{"name": "c", "context": {"cluster": "k"}}],
           "clusters": [{"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}]}
    deep = "[" * (depth - 1) + "]" * (depth - 1)
    text = json.dumps(doc)[:-1] + ', "x": ' + deep + "}"
    path = tmp_path / "config"
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("yaml_loader", [True, False])
def test_a_kubeconfig_nesting_16_levels_is_read_and_17_refused(tmp_path, monkeypatch, yaml_loader):
    """Bug: the nesting bound raised (17)."""
    monkeypatch.setattr(ph, "HAS_YAML", ph.HAS_YAML and yaml_loader)
    assert ph.read_kubeconfig(_nested_kubeconfig(tmp_path, 16))["server"] == "https://127.0.0.1:1"
    path = _nested_kubeconfig(tmp_path, 17)
    with pytest.raises(conn.ProbeError) as err:
        ph.read_kubeconfig(path)
    assert err.value.state == "protocol"
    assert err.value.detail.startswith("kubeconfig %s nests deeper than 16 levels" % path), err.value.detail


def test_an_error_body_is_quoted_to_200_characters():
    """Bug: the quote of a server's body cut at another length."""
    err = ph._http_state(500, "Internal Server Error", "GET /x", b"a" * 300)
    assert err.detail == "GET /x: 500 Internal Server Error: " + "a" * 200


def test_a_name_from_a_server_is_cut_to_100_characters():
    """Bug: the cut of a server's names (a version, a check, a job label) moved."""
    assert ph._name("v" * 150) == "v" * 100
    assert ph._name("v" * 100) == "v" * 100


def test_at_most_one_mib_of_a_body_is_read(scripted):
    """Bug: the body bound raised: a server's answer read past 1 MiB into memory."""
    srv = scripted({"/big": answer(200, b"x" * (MIB + 4096))})
    status, _r, _h, body, _c = ph.http_get("http", "127.0.0.1", srv.port, "/big", conn.Deadline(3, 3), conn.Resolver())
    assert (status, len(body)) == (200, MIB)


# --------------------------------------------------------------------------- tls_context: files, CA, client certificate

def _fifo(tmp_path):
    path = str(tmp_path / "pipe")
    os.mkfifo(path)
    return path


@pytest.mark.parametrize("field, what, state", [
    ("ca_file", "CA file", "tls"), ("cert_file", "client certificate", "auth"), ("key_file", "client key", "auth")])
@pytest.mark.parametrize("build", ["tls_context", "cache"])
def test_a_tls_file_that_is_not_regular_is_refused_by_name_and_state(tmp_path, pki, field, what, state, build):
    """Bugs: a FIFO given as CA, client certificate or key handed to ssl (which blocks on it), or refused under
    another state or name; tls_context (used without a run's cache) checks each file itself."""
    fifo = _fifo(tmp_path)
    kw = {"ca_file": os.path.join(pki, "ca.crt"), "cert_file": os.path.join(pki, "srv.crt"),
          "key_file": os.path.join(pki, "srv.key")}
    kw[field] = fifo
    with pytest.raises(conn.ProbeError) as err:
        (ph.tls_context if build == "tls_context" else ph.TlsCache().context)(**kw)
    assert (err.value.state, err.value.detail) == (
        state, "cannot use %s %s is a named pipe (FIFO), not a regular file; not read" % (what, fifo))


def test_a_ca_file_that_is_not_a_certificate_is_a_tls_error_naming_the_file(tmp_path):
    """Bugs: a CA that does not load reported under another state, without the file, or without ssl's reason."""
    junk = tmp_path / "ca.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(conn.ProbeError) as err:
        ph.tls_context(ca_file=str(junk))
    assert err.value.state == "tls"
    assert err.value.detail.startswith("cannot load CA %s: [X509" % junk), err.value.detail


def test_ca_data_that_is_not_a_certificate_is_a_tls_error_naming_the_data():
    """Bug: CA data (from a kubeconfig) that does not load named as a file ("None") or not at all."""
    with pytest.raises(conn.ProbeError) as err:
        ph.tls_context(ca_data="not a certificate")
    assert err.value.state == "tls"
    assert err.value.detail.startswith("cannot load CA data: ") and "certificate" in err.value.detail[20:], \
        err.value.detail


def test_client_certificate_data_that_does_not_load_is_an_auth_error(monkeypatch, tmp_path):
    """Bugs: a kubeconfig's broken client certificate data reported under another state or wording, or its
    temporary files left behind."""
    monkeypatch.setattr(ph.tempfile, "tempdir", str(tmp_path))
    with pytest.raises(conn.ProbeError) as err:
        ph.tls_context(cert_data=b"not a certificate", key_data=b"not a key")
    assert os.listdir(str(tmp_path)) == []
    assert err.value.state == "auth"
    assert err.value.detail.startswith("cannot load the kubeconfig client certificate: "), err.value.detail
    assert len(err.value.detail) > len("cannot load the kubeconfig client certificate: ")


def test_a_client_certificate_file_that_does_not_load_is_an_auth_error_naming_it(tmp_path, pki):
    """Bugs: a client certificate file that does not load reported under another state, or without its path."""
    junk = tmp_path / "client.pem"
    junk.write_text("not a certificate\n")
    with pytest.raises(conn.ProbeError) as err:
        ph.tls_context(cert_file=str(junk), key_file=os.path.join(pki, "srv.key"))
    assert err.value.state == "auth"
    assert err.value.detail.startswith("cannot load client certificate %s: " % junk), err.value.detail


@pytest.fixture
def client_auth_ctx(pki):
    """A TLS server context that requires a client certificate signed by the pki's CA."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(pki, "srv.crt"), os.path.join(pki, "srv.key"))
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(os.path.join(pki, "ca.crt"))
    return ctx


def _get_over(ctx, srv, path="/v"):
    return ph.http_get("https", "127.0.0.1", srv.port, path, conn.Deadline(3, 3), conn.Resolver(), tls=ctx)


def _read(pki, name):
    with open(os.path.join(pki, name), "rb") as f:
        return f.read()


@pytest.mark.parametrize("how", ["separate files", "one file", "data"])
def test_the_client_certificate_is_presented_to_the_server(scripted, client_auth_ctx, pki, tmp_path, how):
    """Bugs: the key file dropped when the certificate and key are separate files (``key_file and None``), or the
    certificate not loaded at all: a server that requires it refuses the handshake."""
    srv = scripted({"/v": answer(200, b"ok")}, tls=client_auth_ctx)
    ca = os.path.join(pki, "ca.crt")
    if how == "separate files":
        ctx = ph.tls_context(ca, cert_file=os.path.join(pki, "srv.crt"), key_file=os.path.join(pki, "srv.key"))
    elif how == "one file":
        both = tmp_path / "both.pem"
        both.write_bytes(_read(pki, "srv.crt") + _read(pki, "srv.key"))
        ctx = ph.tls_context(ca, cert_file=str(both))
    else:
        ctx = ph.tls_context(ca, cert_data=_read(pki, "srv.crt"), key_data=_read(pki, "srv.key"))
    assert _get_over(ctx, srv)[:2] == (200, "OK")


def test_client_certificate_data_is_written_private_and_removed(monkeypatch, pki, tmp_path):
    """Bugs: the kubeconfig's client key written readable by others while ssl loads it, in a folder not named
    for the collection, or left behind."""
    seen = []
    real = ssl.create_default_context

    class Recording(ssl.SSLContext):
        def load_cert_chain(self, certfile, keyfile=None, password=None):
            for p in (certfile, keyfile):
                with open(p, "rb") as f:
                    seen.append((os.path.dirname(p), os.stat(p).st_mode & 0o777, f.read()))
            seen.append(("folder", os.stat(os.path.dirname(certfile)).st_mode & 0o777, None))
            return super(Recording, self).load_cert_chain(certfile, keyfile, password)

    def create(cafile=None, cadata=None):
        base = real(cafile=cafile, cadata=cadata)
        ctx = Recording(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=cafile, cadata=cadata)
        assert base.verify_mode == ssl.CERT_REQUIRED
        return ctx

    monkeypatch.setattr(ssl, "create_default_context", create)
    monkeypatch.setattr(ph.tempfile, "tempdir", str(tmp_path))
    crt, key = _read(pki, "srv.crt"), _read(pki, "srv.key")
    ph.tls_context(os.path.join(pki, "ca.crt"), cert_data=crt, key_data=key)
    (cdir, cmode, cdata), (kdir, kmode, kdata), (_f, fmode, _n) = seen
    assert (cdata, kdata) == (crt, key) and cdir == kdir
    assert os.path.dirname(cdir) == str(tmp_path) and os.path.basename(cdir).startswith("o2edge-probe-")
    assert (cmode, kmode, fmode) == (0o600, 0o600, 0o700)
    assert os.listdir(str(tmp_path)) == []  # removed after loading


# --------------------------------------------------------------------------- TlsCache

def test_a_run_keeps_at_most_4096_tls_sessions():
    """Bugs: the session bound raised (4097) or met one past it (``<=``): a run's memory grows with its targets."""
    cache = ph.TlsCache()
    for n in range(4100):
        cache.keep("ctx", "127.0.0.1", n, "name", "session-%d" % n)
    assert cache.session("ctx", "127.0.0.1", 4095, "name") == "session-4095"
    assert [cache.session("ctx", "127.0.0.1", n, "name") for n in (4096, 4097, 4099)] == [None] * 3


# --------------------------------------------------------------------------- http_get: deadlines, errors, what is sent

class Expiring(conn.Deadline):
    """A 3 s deadline that has passed from its ``n``-th question on."""

    def __init__(self, n):
        super(Expiring, self).__init__(3, 3)
        self.n = n
        self.asked = 0

    def remaining(self):
        self.asked += 1
        return -1.0 if self.asked >= self.n else super(Expiring, self).remaining()


@pytest.mark.parametrize("n, step", [(2, "the TLS handshake"), (3, "sending GET /p?q=1"),
                                     (4, "the response to GET /p?q=1"), (5, "reading the body of GET /p?q=1")])
def test_a_deadline_passing_at_each_step_of_a_get_names_the_step(scripted, tls_server_ctx, pki, n, step):
    """Bugs: a deadline that passed named the wrong step (or none), or a step taken without asking the deadline."""
    srv = scripted({"/p?q=1": answer(200, b"ok")}, tls=tls_server_ctx)
    tls = ph.tls_context(os.path.join(pki, "ca.crt"))
    with pytest.raises(conn.ProbeError) as err:
        ph.http_get("https", "127.0.0.1", srv.port, "/p?q=1", Expiring(n), conn.Resolver(), tls=tls)
    assert (err.value.state, err.value.detail) == ("timeout", "deadline of 3s passed before " + step)
    assert ph.http_get("https", "127.0.0.1", srv.port, "/p?q=1", Expiring(6), conn.Resolver(), tls=tls)[0] == 200


def test_a_certificate_failure_names_the_tls_handshake_and_the_endpoint(scripted, tls_server_ctx, pki):
    """Bug: a TLS failure not said to be the handshake with address:port."""
    srv = scripted({}, tls=tls_server_ctx)
    tls = ph.tls_context(os.path.join(pki, "wrong-ca.crt"))
    with pytest.raises(conn.ProbeError) as err:
        ph.http_get("https", "127.0.0.1", srv.port, "/", conn.Deadline(3, 3), conn.Resolver(), tls=tls)
    assert err.value.state == "tls"
    assert err.value.detail.startswith("TLS handshake with 127.0.0.1:%d: certificate verification failed: "
                                       % srv.port), err.value.detail


class Resetting(object):
    """Accepts each connection and resets it (RST) at once: the TLS handshake meets ECONNRESET."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while True:
            try:
                c, _a = self.sock.accept()
            except OSError:
                return
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
            c.recv(1)
            c.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.thread.join(5)
        self.sock.close()


def test_a_connection_reset_during_the_tls_handshake_is_a_tls_failure(pki):
    """Bugs: a handshake broken by the server (reset) reported as a protocol error instead of a TLS failure,
    or the conversion losing the detail."""
    srv = Resetting()
    try:
        tls = ph.tls_context(os.path.join(pki, "ca.crt"))
        with pytest.raises(conn.ProbeError) as err:
            ph.http_get("https", "127.0.0.1", srv.port, "/", conn.Deadline(3, 3), conn.Resolver(), tls=tls)
    finally:
        srv.close()
    assert (err.value.state, err.value.detail) == (
        "tls", "TLS handshake with 127.0.0.1:%d: connection reset by peer" % srv.port)


def test_a_get_sends_only_host_the_given_headers_and_connection_close(scripted):
    """Bugs: an Accept-Encoding the probe cannot decode asked for, or the connection not closed by the request
    (a server keeping it open holds the probe until its deadline)."""
    srv = scripted({"/x": answer(200, b"ok")})
    ph.http_get("http", "127.0.0.1", srv.port, "/x", conn.Deadline(3, 3), conn.Resolver(), headers={"Accept": "a/b"})
    assert srv.requests == [("/x", {"host": "127.0.0.1:%d" % srv.port, "accept": "a/b", "connection": "close"})]


def test_a_server_closing_without_an_answer_is_a_protocol_error_naming_the_get(scripted):
    """Bug: a broken answer reported without the GET it answered."""
    srv = scripted({"/x": b""})
    with pytest.raises(conn.ProbeError) as err:
        ph.http_get("http", "127.0.0.1", srv.port, "/x", conn.Deadline(3, 3), conn.Resolver())
    assert (err.value.state, err.value.detail) == ("protocol", "GET /x: Remote end closed connection without response")


# --------------------------------------------------------------------------- what of an answer reaches a message

KEY_BLOCK = "-----BEGIN " + "PRIVATE KEY-----\nMIIE\n"


@pytest.mark.parametrize("body, detail", [
    (b"", "GET /x: 500 E"),
    (b"  \n ", "GET /x: 500 E"),
    (b"oops", "GET /x: 500 E: oops"),
    (("error\n" + KEY_BLOCK).encode(), "GET /x: 500 E (the body is not quoted: it holds a private key block)"),
])
def test_an_unexpected_status_message_in_full(body, detail):
    """Bugs: text added for an empty body, or the wording around a body that is not quoted."""
    err = ph._http_state(500, "E", "GET /x", body)
    assert (err.state, err.detail) == ("http_status", detail)


@pytest.mark.parametrize("status, reason", [(401, "Unauthorized"), (403, "Forbidden")])
def test_rejected_credentials_are_auth_with_status_and_reason_and_no_body(status, reason):
    """Bugs: 401/403 reported under another state or wording, or the server's body quoted with them."""
    err = ph._http_state(status, reason, "GET /x", b"token abc rejected", {"k": 1})
    assert (err.state, err.detail, err.info) == (
        "auth", "GET /x: %d %s (credentials rejected or missing)" % (status, reason), {"k": 1})


# --------------------------------------------------------------------------- where a target is reached

def test_a_target_without_url_or_address_is_a_protocol_error_naming_its_site():
    """Bugs: the missing endpoint reported under another state, wording or site."""
    r = run({"site": "edge9", "kind": "http"})
    assert (r["state"], r["detail"]) == ("protocol", "target edge9 has no url and no address")


def test_a_kubernetes_target_without_url_or_ca_file_is_reached_over_https(https_server):
    """Bug: a kubernetes address without a CA file reached over plain http (refused as such) instead of https
    with the system CAs (which do not know the test CA: a TLS failure)."""
    r = run({"site": "e", "kind": "kubernetes", "address": "127.0.0.1", "port": https_server, "token": TOKEN})
    assert r["state"] == "tls" and "certificate verification failed" in r["detail"], r


def test_an_http_target_with_a_ca_file_and_no_url_is_reached_over_https(scripted, tls_server_ctx, pki):
    """Bug: an address given a CA file probed over plain http."""
    srv = scripted({"/": answer(200, b"ok")}, tls=tls_server_ctx)
    r = run({"site": "e", "kind": "http", "address": "127.0.0.1", "port": srv.port,
             "ca_file": os.path.join(pki, "ca.crt")})
    assert (r["state"], r["detail"]) == ("up", "GET /: 200 OK"), r


def test_an_address_target_gets_exactly_slash(scripted):
    """Bug: a query string added to the path of a target given by address."""
    srv = scripted({"/": answer(200, b"ok")})
    r = run({"site": "e", "kind": "http", "address": "127.0.0.1", "port": srv.port})
    assert (r["state"], [p for p, _h in srv.requests]) == ("up", ["/"]), r


@pytest.mark.parametrize("target, port", [
    ({"kind": "http"}, 80), ({"kind": "http", "ca_file": "ca"}, 443), ({"kind": "prometheus"}, 9090),
    ({"kind": "kubernetes"}, 6443), ({"kind": "prometheus", "port": 19090}, 19090)])
def test_the_default_port_of_an_address_target(target, port):
    """Bugs: the port of a target given without one not its kind's (prometheus 9090, kubernetes 6443), or not
    its scheme's (80, 443) for a kind without one."""
    ctx = {}
    assert ph._endpoint(dict(target, address="127.0.0.1"), ctx)[1:3] == ("127.0.0.1", port)
    assert ctx["endpoint"] == ("127.0.0.1", port)


def test_only_trailing_slashes_of_a_url_prefix_are_dropped(scripted):
    """Bug: other characters stripped from the end of a url's path prefix."""
    srv = scripted({"/BOX/-/ready": answer(503, b"", "Service Unavailable")})
    r = run({"site": "e", "kind": "prometheus", "url": "http://127.0.0.1:%d/BOX//" % srv.port})
    assert [p for p, _h in srv.requests] == ["/BOX/-/ready"] and r["state"] == "http_status", r


# --------------------------------------------------------------------------- read_kubeconfig

def _with_extra(tmp_path, extra):
    """A YAML kubeconfig (token user, server https://127.0.0.1:1) with ``extra`` lines at its end."""
    path = kubeconfig(tmp_path)
    with open(path, "a") as f:
        f.write(extra)
    return path


def _with_values(tmp_path, n):
    """A YAML kubeconfig holding exactly ``n`` values once its 90 aliases are expanded."""
    from ansible_collections.o2edge.perf.plugins.module_utils import _yaml_bounds
    extra = "pad: &p [%s]\nbomb: [%s]\nfill: [" % (",".join(["0"] * 999), ",".join(["*p"] * 90))
    with open(_with_extra(tmp_path, extra + "]\n")) as f:
        have = _yaml_bounds.check_yaml(f.read(), max_values=10 ** 9)
    return _with_extra(tmp_path, extra + ",".join(["0"] * (n - have)) + "]\n")


@pytest.mark.parametrize("text", ["[]", "", "just text"])
def test_a_kubeconfig_that_is_not_a_mapping_is_refused_as_such(tmp_path, text):
    """Bugs: a list, an empty file or a plain text accepted as a kubeconfig, or refused under another wording."""
    path = tmp_path / "config"
    path.write_text(text)
    with pytest.raises(conn.ProbeError) as err:
        ph.read_kubeconfig(str(path))
    assert (err.value.state, err.value.detail) == ("protocol", "kubeconfig %s is not a mapping" % path)


def test_a_kubeconfig_of_100000_values_is_read_and_one_more_refused(tmp_path):
    """Bug: the kubeconfig's value bound (an alias bomb) raised."""
    if not ph.HAS_YAML:
        pytest.skip("PyYAML is not installed")
    assert ph.read_kubeconfig(_with_values(tmp_path, 100000))["server"] == "https://127.0.0.1:1"
    path = _with_values(tmp_path, 100001)
    with pytest.raises(conn.ProbeError) as err:
        ph.read_kubeconfig(path)
    assert err.value.state == "protocol"
    assert err.value.detail.startswith("kubeconfig %s holds more than 100000 values once YAML aliases are expanded"
                                       % path), err.value.detail


def test_a_kubeconfig_of_100_aliases_is_read_and_101_refused(tmp_path):
    """Bug: the kubeconfig's alias bound raised."""
    if not ph.HAS_YAML:
        pytest.skip("PyYAML is not installed")
    assert ph.read_kubeconfig(_with_extra(tmp_path, "a: &a 1\nb: [%s]\n" % ",".join(["*a"] * 100)))
    path = _with_extra(tmp_path, "a: &a 1\nb: [%s]\n" % ",".join(["*a"] * 101))
    with pytest.raises(conn.ProbeError) as err:
        ph.read_kubeconfig(path)
    assert err.value.state == "protocol"
    assert err.value.detail.startswith("kubeconfig %s uses more than 100 YAML aliases" % path), err.value.detail


def test_without_pyyaml_a_yaml_kubeconfig_says_pyyaml_is_missing(tmp_path, monkeypatch):
    """Bugs: without PyYAML, a YAML kubeconfig called invalid JSON (or anything else) instead of naming the
    missing library."""
    monkeypatch.setattr(ph, "HAS_YAML", False)
    path = kubeconfig(tmp_path)
    with pytest.raises(conn.ProbeError) as err:
        ph.read_kubeconfig(path)
    assert (err.value.state, err.value.detail) == ("protocol", "kubeconfig %s is YAML and PyYAML is not installed" % path)


def _doc(**over):
    """A kubeconfig document (JSON) with several entries, junk among them, before the ones it selects."""
    doc = {"current-context": "c",
           "contexts": ["junk", {"context": {"cluster": "other"}}, {"name": "other", "context": {"cluster": "other"}},
                        {"name": "c", "context": {"cluster": "k", "user": "u"}}],
           "clusters": [{"name": "other", "cluster": {"server": "https://other:1"}},
                        {"name": "k", "cluster": {"server": "https://127.0.0.1:1"}}],
           "users": [{"name": "nobody", "user": {"token": "other-token"}}, {"name": "u", "user": {"token": "t"}}]}
    doc.update(over)
    return doc


def _read_doc(tmp_path, doc, context=None):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    return ph.read_kubeconfig(str(path), context), str(path)


def _kc_error(tmp_path, doc, context=None):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(conn.ProbeError) as err:
        ph.read_kubeconfig(str(path), context)
    return err.value.state, err.value.detail.replace(str(path), "P")


def test_the_kubeconfig_entries_are_found_by_name(tmp_path):
    """Bugs: an entry matched by something else than its name, the first entry taken, the entry's body read from
    another key, or the current context not the one used."""
    assert _read_doc(tmp_path, _doc())[0] == {"server": "https://127.0.0.1:1", "token": "t"}
    assert _read_doc(tmp_path, _doc(), context="other")[0] == {"server": "https://other:1"}


def test_a_context_entry_without_a_body_names_no_cluster(tmp_path):
    """Bug: an entry found by name whose body is missing read as something other than empty."""
    doc = _doc(contexts=[{"name": "c"}])
    assert _kc_error(tmp_path, doc) == ("protocol", "kubeconfig P has no cluster named so")


@pytest.mark.parametrize("over, context, detail", [
    ({"current-context": None}, None, "kubeconfig P has no current-context; set context"),
    ({"current-context": "edge-1"}, None, "kubeconfig P has no context named edge-1"),
    ({}, "a_Z.9@b:c/d-e", "kubeconfig P has no context named a_Z.9@b:c/d-e"),
    ({}, "x" * 63, "kubeconfig P has no context named " + "x" * 63),
    ({}, "x" * 64, "kubeconfig P has no context named so"),
    ({}, "two words", "kubeconfig P has no context named so"),
    ({"current-context": 5}, None, "kubeconfig P has no context named so"),
    ({"contexts": [{"name": "c", "context": {"cluster": "k2", "user": "u"}}]}, None,
     "kubeconfig P has no cluster named k2"),
    ({"contexts": [{"name": "c", "context": {"cluster": "k", "user": "u2"}}]}, None,
     "kubeconfig P has no user named u2"),
    ({"clusters": [{"name": "k", "cluster": {"insecure": True}}]}, None, "kubeconfig P: cluster has no server"),
    ({"clusters": [{"name": "k", "cluster": {"server": ["https://x"]}}]}, None,
     "kubeconfig P: the cluster's server is not a URL"),
])
def test_each_kubeconfig_refusal_in_full(tmp_path, over, context, detail):
    """Bugs: a refusal under another state or wording, a name from the file quoted although it is not a short
    name (up to 63 of ``A-Za-z0-9_.@:/-``), or a short name withheld."""
    assert _kc_error(tmp_path, _doc(**over), context) == ("protocol", detail)


def test_a_context_without_a_user_gives_no_credentials(tmp_path):
    """Bug: a context naming no user read as naming one (and refused, or given another's token)."""
    doc = _doc(contexts=[{"name": "c", "context": {"cluster": "k"}}])
    assert _read_doc(tmp_path, doc)[0] == {"server": "https://127.0.0.1:1"}


@pytest.mark.parametrize("user", [{"exec": {"command": "x"}}, {"auth-provider": {"name": "x"}},
                                  {"exec": {"command": "x"}, "token": "t"}])
def test_exec_or_auth_provider_credentials_are_refused_as_auth(tmp_path, user):
    """Bugs: exec or auth-provider alone (or with a token) not refused, or refused under another wording."""
    doc = _doc(users=[{"name": "u", "user": user}])
    assert _kc_error(tmp_path, doc) == ("auth", "kubeconfig P: exec and auth-provider credentials are not supported; "
                                                "use a token or a client certificate")


def test_every_kubeconfig_field_read(tmp_path):
    """Bugs: a field read from or written to another key, a relative path not taken from the kubeconfig's folder,
    base64 with line breaks refused, or a missing key's data made up."""
    cluster = {"server": "https://api:6443", "certificate-authority-data": "LS0t\n  Q0E=\n", "tls-server-name": "kube"}
    user = {"token": "tok", "client-certificate-data": "Y2VydA==", "client-key-data": "a2V5"}
    out, path = _read_doc(tmp_path, _doc(clusters=[{"name": "k", "cluster": cluster}], users=[{"name": "u", "user": user}]))
    assert out == {"server": "https://api:6443", "ca_data": "---CA", "tls_server_name": "kube", "token": "tok",
                   "cert_data": b"cert", "key_data": b"key"}
    base = str(tmp_path)
    cluster = {"server": "https://api:6443", "certificate-authority": "pki/ca.crt"}
    user = {"tokenFile": "/abs/tok", "client-certificate": "c.crt", "client-key": "/abs/c.key"}
    out, path = _read_doc(tmp_path, _doc(clusters=[{"name": "k", "cluster": cluster}], users=[{"name": "u", "user": user}]))
    assert out == {"server": "https://api:6443", "ca_file": os.path.join(base, "pki/ca.crt"), "token_file": "/abs/tok",
                   "cert_file": os.path.join(base, "c.crt"), "key_file": "/abs/c.key"}


@pytest.mark.parametrize("user, detail", [
    ({"client-certificate-data": "Y2VydA=="}, "kubeconfig P: client-certificate-data without client-key-data"),
    ({"client-certificate-data": "Y2VydA==", "client-key-data": ""}, "kubeconfig P: client-certificate-data without client-key-data"),
    ({"client-certificate-data": "Y2VydA==", "client-key": "c.key"}, "kubeconfig P: client-certificate-data without client-key-data"),
    ({"client-certificate": "c.crt"}, "kubeconfig P: client-certificate without client-key"),
    ({"client-certificate": "c.crt", "client-key": ""}, "kubeconfig P: client-certificate without client-key"),
    ({"client-certificate": "c.crt", "client-key-data": "a2V5"}, "kubeconfig P: client-certificate without client-key"),
])
def test_a_client_certificate_without_its_key_is_refused_naming_the_missing_field(tmp_path, user, detail):
    """Bugs: a certificate without its key read with a made-up key (empty data, or the kubeconfig's folder as the key
    file, refused later as "is a directory"), or the key taken from the other form (kubectl refuses all of these)."""
    assert _kc_error(tmp_path, _doc(users=[{"name": "u", "user": user}])) == ("auth", detail)


def test_ca_data_that_is_not_ascii_is_read_with_replacement_characters(tmp_path):
    """Bug: CA data holding non-ASCII bytes (a DER certificate) making the reader fail with a traceback."""
    cluster = {"server": "https://api:6443", "certificate-authority-data": "/wBB"}  # ff 00 41
    out = _read_doc(tmp_path, _doc(clusters=[{"name": "k", "cluster": cluster}]))[0]
    assert out["ca_data"] == "\ufffd\x00A"


@pytest.mark.parametrize("user, detail", [
    ({"token": 5}, "kubeconfig P: the user's token is not a string"),
    ({"tokenFile": 5}, "kubeconfig P: a file path is not a string"),
    ({"client-certificate": ["c"], "client-key": "k"}, "kubeconfig P: a file path is not a string"),
    ({"client-certificate-data": "Y2Vy*dA==", "client-key-data": "a2V5"}, "kubeconfig P: client-certificate-data is not base64"),
    ({"client-certificate-data": "Y2VydA==", "client-key-data": "a2V5*"}, "kubeconfig P: client-key-data is not base64"),
])
def test_each_credential_refusal_in_full(tmp_path, user, detail):
    """Bugs: a credential that is not a string or not base64 accepted (a character outside base64 skipped), or
    refused under another state or wording."""
    state = "auth" if "token is" in detail else "protocol"
    assert _kc_error(tmp_path, _doc(users=[{"name": "u", "user": user}])) == (state, detail)


@pytest.mark.parametrize("cluster, detail", [
    ({"certificate-authority": 7}, "kubeconfig P: a file path is not a string"),
    ({"certificate-authority-data": "LS0t*"}, "kubeconfig P: certificate-authority-data is not base64")])
def test_each_ca_refusal_in_full(tmp_path, cluster, detail):
    """Bugs: a CA path that is not a string or CA data that is not base64 accepted, or refused naming another
    field."""
    cluster = dict(cluster, server="https://api:6443")
    assert _kc_error(tmp_path, _doc(clusters=[{"name": "k", "cluster": cluster}])) == ("protocol", detail)


@pytest.mark.parametrize("text", ["", " \n\t\n"])
def test_an_empty_token_file_is_refused_as_auth_naming_it(tmp_path, text):
    """Bugs: an empty (or blank) token file sent as an empty token, or refused under another wording."""
    path = tmp_path / "tok"
    path.write_text(text)
    with pytest.raises(conn.ProbeError) as err:
        ph._read_secret(str(path), "kubeconfig tokenFile")
    assert (err.value.state, err.value.detail) == ("auth", "kubeconfig tokenFile %s is empty" % path)


def test_a_token_file_is_read_without_its_surrounding_white_space(tmp_path):
    """Bug: a token file's final line break sent as part of the token."""
    path = tmp_path / "tok"
    path.write_text("\n  abc  \n")
    assert ph._read_secret(str(path), "token_file") == "abc"


# --------------------------------------------------------------------------- the http kind

TEXT = ["Content-Type: text/plain"]


def test_an_http_probe_in_full(scripted):
    """Bugs: the url's query dropped or joined with another separator, another Accept header, a field of the
    info missing or renamed, or the success detail reworded."""
    srv = scripted({"/p?a=1&b=2": answer(200, b"ok", headers=TEXT), "/p": answer(200, b"plain", headers=TEXT)})
    r = run({"site": "e", "kind": "http", "url": "http://127.0.0.1:%d/p?a=1&b=2" % srv.port})
    assert (r["state"], r["detail"], r["info"]) == ("up", "GET /p?a=1&b=2: 200 OK",
                                                    {"status": 200, "content_type": "text/plain", "bytes": 2}), r
    assert r["connect_ms"] is not None
    r = run({"site": "e", "kind": "http", "url": "http://127.0.0.1:%d/p" % srv.port})
    assert (r["state"], r["detail"]) == ("up", "GET /p: 200 OK"), r
    host = "127.0.0.1:%d" % srv.port
    assert srv.requests == [("/p?a=1&b=2", {"host": host, "accept": "application/json, */*", "connection": "close"}),
                            ("/p", {"host": host, "accept": "application/json, */*", "connection": "close"})]


def test_an_unexpected_status_names_the_expected_ones(scripted):
    """Bugs: the expected statuses listed with another separator, or the message reworded."""
    srv = scripted({"/p": answer(404, b"nope", "Not Found", TEXT)})
    r = run({"site": "e", "kind": "http", "url": "http://127.0.0.1:%d/p" % srv.port, "expect_status": [200, 204]})
    assert (r["state"], r["detail"]) == ("http_status", "GET /p (expected 200, 204): 404 Not Found: nope"), r
    assert r["info"] == {"status": 404, "content_type": "text/plain", "bytes": 4}
    r = run({"site": "e", "kind": "http", "url": "http://127.0.0.1:%d/p" % srv.port})
    assert r["detail"] == "GET /p (expected 200): 404 Not Found: nope"


def test_an_https_http_target_uses_its_ca_file_and_server_name(scripted, tls_server_ctx, pki):
    """Bugs: the target's CA file not used (the system CAs do not know the test CA), or its tls_server_name not
    checked (the certificate names 127.0.0.1 and kubernetes, not api.example.net)."""
    srv = scripted({"/": answer(200, b"ok")}, tls=tls_server_ctx)
    target = {"site": "e", "kind": "http", "url": "https://127.0.0.1:%d/" % srv.port,
              "ca_file": os.path.join(pki, "ca.crt")}
    assert run(target)["state"] == "up"
    assert run(dict(target, tls_server_name="kubernetes"))["state"] == "up"
    r = run(dict(target, tls_server_name="api.example.net"))
    assert r["state"] == "tls" and "certificate verification failed" in r["detail"], r


def test_http_probes_of_one_run_resume_the_tls_session(scripted, tls_server_ctx, pki):
    """Bug: the run's TLS sessions not handed to the GET, so every probe pays a full handshake."""
    srv = scripted({"/": answer(200, b"ok")}, tls=tls_server_ctx)
    target = {"site": "e", "kind": "http", "url": "https://127.0.0.1:%d/" % srv.port,
              "ca_file": os.path.join(pki, "ca.crt")}
    ctx = pr.default_context()
    assert [run(target, ctx=ctx)["state"] for _n in range(3)] == ["up"] * 3
    assert srv.reused == [False, True, True]


# --------------------------------------------------------------------------- the prometheus kind

SERIES = [{"metric": {"job": "node", "instance": "a:9100"}, "value": [1, "1"]},
          {"metric": {"job": "node", "instance": "b:9100"}, "value": [1, "0"]},
          {"metric": {"job": "prometheus", "instance": "localhost:9090"}, "value": [1, "1"]}]


def _prom(result=None, ready=None, query="up", doc=None):
    q = "/api/v1/query?query=" + query
    return {"/-/ready": ready or answer(200, b"Prometheus Server is Ready.\n", headers=TEXT),
            q: answer(200, doc if doc is not None else {"status": "success", "data": {
                "resultType": "vector", "result": SERIES if result is None else result}})}


def test_a_prometheus_probe_in_full(scripted):
    """Bugs: another readiness or query path, the query sent under another name, the Accept header, the counts,
    the info's fields or the detail's wording."""
    srv = scripted(_prom())
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert (r["state"], r["detail"]) == ("up", "ready; up: 2 targets up, 1 down (node/b:9100)"), r
    assert r["info"] == {"query": "up", "targets_up": 2, "targets_down": 1, "down": ["node/b:9100"]}
    assert r["connect_ms"] is not None
    host = "127.0.0.1:%d" % srv.port
    # the first GET keeps its connection for the second (which says close); this server closes each after
    # one answer, so the second, finding it closed, is sent again on a new connection
    assert srv.requests == [("/-/ready", {"host": host}),
                            ("/api/v1/query?query=up", {"host": host, "accept": "application/json",
                                                        "connection": "close"})]


def test_a_prometheus_query_of_the_target_is_sent_url_encoded(scripted):
    """Bugs: the target's query replaced by ``up``, or sent without URL encoding."""
    srv = scripted(_prom(query="sum%28up%29+by+%28job%29", result=[]))
    r = run({"site": "e", "kind": "prometheus", "url": "http://127.0.0.1:%d" % srv.port, "query": "sum(up) by (job)"})
    assert (r["state"], r["detail"]) == ("up", "ready; sum(up) by (job): 0 targets up, 0 down"), r


def test_each_series_counted_up_only_at_exactly_one(scripted):
    """Bugs: a series without a value, or with another value than 1, counted up; labels taken from other
    fields or given another placeholder than ``?``."""
    result = [{"metric": {"job": "j", "instance": "up1"}, "value": [1, "1"]},
              {"metric": {"job": "j", "instance": "up2"}, "value": [1, 1]},
              {"metric": {"job": "j", "instance": "two"}, "value": [1, "2"]},
              {"metric": {"job": "j", "instance": "zero"}, "value": [1, "0"]},
              {"metric": {"job": "j", "instance": "short"}, "value": [1]},
              {"metric": {"job": "j", "instance": "none"}},
              {"metric": {"job": "j", "instance": "text"}, "value": [1, "x"]},
              {"metric": {"instance": "nojob"}, "value": [1, "0"]},
              {"metric": {"job": "noinst"}, "value": [1, "0"]},
              {"metric": "not a mapping", "value": [1, "0"]},
              {"value": [1, "0"]},
              "not a series"]
    srv = scripted(_prom(result=result))
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert (r["info"]["targets_up"], r["info"]["targets_down"]) == (2, 10), r
    assert r["info"]["down"] == ["?/?", "?/?", "?/?", "?/nojob", "j/none", "j/short", "j/text", "j/two", "j/zero",
                                 "noinst/?"]
    assert r["detail"] == "ready; up: 2 targets up, 10 down (?/?, ?/?, ?/?, ?/nojob, j/none)"


def test_at_most_50_down_targets_are_listed(scripted):
    """Bug: the list of down targets cut at another length."""
    srv = scripted(_prom(result=[{"metric": {"job": "j", "instance": "%03d" % n}, "value": [1, "0"]}
                                 for n in range(60)]))
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert r["info"]["down"] == ["j/%03d" % n for n in range(50)] and r["info"]["targets_down"] == 60


@pytest.mark.parametrize("doc, problem", [
    ({"status": "error", "error": "x"}, "status error"),
    ({"status": "success"}, "no data"),
    ({"status": "success", "data": {}}, "no result"),
    ({"status": "success", "data": {"result": {}}}, "data.result is not a list"),
])
def test_each_answer_that_is_not_prometheus_s_in_full(scripted, doc, problem):
    """Bugs: a failed query, a missing field or a result that is not a list accepted, or named otherwise."""
    srv = scripted(_prom(doc=doc))
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert (r["state"], r["detail"]) == ("protocol", "instant query up: not a Prometheus answer (%s)" % problem), r
    assert r["connect_ms"] is not None


def test_prometheus_failures_in_full(scripted):
    """Bugs: a readiness or query failure reported with another wording."""
    srv = scripted(_prom(ready=answer(503, b"not ready", "Service Unavailable")))
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert (r["state"], r["detail"]) == ("http_status", "GET /-/ready: 503 Service Unavailable: not ready"), r
    routes = _prom()
    routes["/api/v1/query?query=up"] = answer(500, b"boom", "Internal Server Error")
    srv = scripted(routes)
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert (r["state"], r["detail"]) == ("http_status", "instant query up: 500 Internal Server Error: boom"), r
    routes["/-/ready"] = answer(200, b"ok")
    routes["/api/v1/query?query=up"] = answer(200, b"<html>")
    srv = scripted(routes)
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert (r["state"], r["detail"]) == (
        "protocol", "instant query up: not a Prometheus answer (is not valid JSON: Expecting value (line 1, column 1))")


def test_an_https_prometheus_uses_its_ca_file_server_name_and_sessions(scripted, tls_server_ctx, pki):
    """Bugs: the target's CA file or tls_server_name not used, or the query not resuming the readiness check's
    TLS session."""
    srv = scripted(_prom(), tls=tls_server_ctx)
    target = {"site": "e", "kind": "prometheus", "url": "https://127.0.0.1:%d" % srv.port,
              "ca_file": os.path.join(pki, "ca.crt")}
    assert run(target)["state"] == "up"
    assert srv.reused == [False, True]
    r = run(dict(target, tls_server_name="api.example.net"))
    assert r["state"] == "tls" and "certificate verification failed" in r["detail"], r


# --------------------------------------------------------------------------- the kubernetes kind

READYZ = b"[+]ping ok\n[+]etcd ok\nreadyz check passed\n"


def _kube(readyz=None, livez=None, version=None):
    return {"/readyz?verbose": readyz or answer(200, READYZ, headers=TEXT),
            "/livez": livez or answer(200, b"ok", headers=TEXT),
            "/version": version or answer(200, {"gitVersion": "v1.30.1"})}


@pytest.fixture
def kube_srv(scripted, tls_server_ctx):
    def make(**kw):
        return scripted(_kube(**kw), tls=tls_server_ctx)
    return make


def _kt(srv, pki, **extra):
    t = {"site": "e", "kind": "kubernetes", "url": "https://127.0.0.1:%d" % srv.port,
         "ca_file": os.path.join(pki, "ca.crt"), "token": "tok"}
    t.update(extra)
    return dict((k, v) for k, v in t.items() if v is not None)


def test_a_kubernetes_probe_in_full(kube_srv, pki):
    """Bugs: another path, header or token form sent, the sessions not resumed, a field of the info or the
    detail's wording changed."""
    srv = kube_srv()
    r = run(_kt(srv, pki))
    assert (r["state"], r["detail"]) == ("up", "ready (2 checks ok), live, version v1.30.1"), r
    assert r["info"] == {"checks_ok": 2, "failing_checks": [], "livez": 200, "version": "v1.30.1"}
    assert r["connect_ms"] is not None
    headers = {"host": "127.0.0.1:%d" % srv.port, "accept": "application/json, */*", "authorization": "Bearer tok"}
    closing = dict(headers, connection="close")
    # this server closes each connection after one answer: each GET after the first finds the kept one closed
    # and is sent again on a new connection, which resumes the first one's TLS session
    assert srv.requests == [("/readyz?verbose", headers), ("/livez", headers), ("/version", closing)]
    assert srv.reused == [False, True, True] and srv.accepted == 3


def test_a_kubernetes_probe_makes_its_three_gets_on_one_connection(scripted, tls_server_ctx, pki):
    """Bugs: each GET on a connection of its own (three TLS handshakes where one does), the connection kept
    after the last GET, or the last GET not saying close."""
    srv = scripted(_kube(), tls=tls_server_ctx, keep_alive=True)
    r = run(_kt(srv, pki))
    assert (r["state"], r["detail"]) == ("up", "ready (2 checks ok), live, version v1.30.1"), r
    assert r["connect_ms"] is not None
    assert srv.accepted == 1 and srv.reused == [False]
    assert [(p, h.get("connection")) for p, h in srv.requests] == [
        ("/readyz?verbose", None), ("/livez", None), ("/version", "close")]


def test_a_prometheus_probe_makes_both_gets_on_one_connection_when_the_server_keeps_it(scripted):
    """Bug: the query sent on a second connection although the server kept the first one open."""
    srv = scripted(_prom(), keep_alive=True)
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert r["state"] == "up", r
    assert srv.accepted == 1
    assert [(p, h.get("connection")) for p, h in srv.requests] == [
        ("/-/ready", None), ("/api/v1/query?query=up", "close")]


def test_a_get_that_times_out_on_a_kept_connection_is_a_timeout_not_sent_again(scripted, tls_server_ctx, pki):
    """Bug: a silent server's timeout on a kept connection taken for a closed connection and the GET sent
    once more (twice the work, and a deadline overrun hidden)."""
    srv = scripted(_kube(), tls=tls_server_ctx, keep_alive=True, hang=("/livez",))
    r = run(_kt(srv, pki), timeout=1.0)
    assert r["state"] == "timeout", r
    assert "/livez" in r["detail"]
    assert srv.accepted == 1 and [p for p, _h in srv.requests] == ["/readyz?verbose", "/livez"]


def test_a_reset_in_the_body_on_a_kept_connection_is_reported_not_sent_again(scripted):
    """Bug: a connection reset after the server answered (in the body) taken for a kept connection found closed,
    and the GET sent once more on a new connection (a failure hidden, the server asked twice)."""
    partial = b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b'{"status": "succ'
    srv = scripted(dict(_prom(), **{"/api/v1/query?query=up": partial}), keep_alive=True,
                   reset=("/api/v1/query?query=up",))
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port}, timeout=6.0)
    assert r["state"] == "protocol" and "reset" in r["detail"], r
    assert srv.accepted == 1 and [p for p, _h in srv.requests] == ["/-/ready", "/api/v1/query?query=up"]


def test_every_socket_of_a_probe_is_closed_by_it_not_left_to_the_garbage_collector(scripted, tls_server_ctx, pki):
    """Bug: a socket neither kept nor closed (its connection open until the garbage collector finds it: on a
    probe of thousands of targets, thousands of open connections to the servers)."""
    for srv, target in ((scripted(_prom(), keep_alive=True), None), (scripted(_prom()), None),
                        (scripted(_kube(), tls=tls_server_ctx, keep_alive=True), "kube")):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ResourceWarning)
            if target == "kube":
                r = run(_kt(srv, pki))
            else:
                r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
            gc.collect()
        assert r["state"] == "up", r
        assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []


def test_an_answer_not_read_to_its_end_leaves_no_connection_kept(scripted):
    """Bug: a connection kept after an answer larger than the body bound (its rest still unread), so the next
    GET read the rest of the first answer as its own."""
    big = answer(200, b"x" * (ph.MAX_BODY + 10), headers=TEXT)
    srv = scripted(dict(_prom(), **{"/-/ready": big}), keep_alive=True)
    r = run({"site": "e", "kind": "prometheus", "address": "127.0.0.1", "port": srv.port})
    assert r["state"] == "up", r
    assert srv.accepted == 2


def test_a_kept_connection_is_taken_only_for_what_it_was_opened_for():
    """Bugs: a socket of another address, port, TLS context or server name reused (a session verified for
    one name or CA would carry a GET meant for another), or a kept socket left open when another is kept."""
    class Sock(object):
        closed = False

        def close(self):
            self.closed = True
    keep = ph.KeptConnection()
    first, second = Sock(), Sock()
    keep.put(("https", "a", 1, "ctx", "n"), first)
    assert keep.take(("https", "a", 1, "ctx", "other")) is None and first.closed
    assert keep.take(("https", "a", 1, "ctx", "n")) is None
    keep.put(("https", "a", 1, "ctx", "n"), first)
    keep.put(("https", "a", 1, "ctx", "n"), second)
    assert keep.take(("https", "a", 1, "ctx", "n")) is second and not second.closed
    assert keep.take(("https", "a", 1, "ctx", "n")) is None
    keep.put(("http", "a", 1, None, "a"), second)
    keep.close()
    assert second.closed and keep.take(("http", "a", 1, None, "a")) is None


def test_a_kubernetes_probe_without_a_token_sends_no_authorization(kube_srv, pki):
    """Bug: an Authorization header sent without a token."""
    srv = kube_srv()
    assert run(_kt(srv, pki, token=None))["state"] == "up"
    assert [sorted(h) for _p, h in srv.requests] == [["accept", "host"]] * 2 + [["accept", "connection", "host"]]


@pytest.mark.parametrize("status, reason", [(401, "Unauthorized"), (403, "Forbidden")])
def test_rejected_credentials_at_readyz_are_auth(kube_srv, pki, status, reason):
    """Bugs: 401 or 403 at /readyz not read as rejected credentials, or reported with another wording."""
    srv = kube_srv(readyz=answer(status, b"[-]nope failed", reason))
    r = run(_kt(srv, pki))
    assert (r["state"], r["detail"]) == ("auth", "GET /readyz: %d %s (credentials rejected or missing)"
                                         % (status, reason)), r
    assert r["connect_ms"] is not None


@pytest.mark.parametrize("status, reason, body, detail, failing", [
    (404, "Not Found", b"", "GET /readyz: 404 Not Found; failing checks: none listed", []),
    (500, "Internal Server Error", b"[+]ping ok\n[-]etcd failed: reason withheld\n[-]db failed\n",
     "GET /readyz: 500 Internal Server Error; failing checks: etcd, db", ["etcd", "db"]),
    (200, "OK", "[+]a ok\n[-]\u00e9tcd failed\n\xff\n".encode("utf-8").replace(b"\xc3\xbf", b"\xff"),
     "GET /readyz: 200 OK; failing checks: \u00e9tcd", ["\u00e9tcd"]),
])
def test_readyz_failures_in_full(kube_srv, pki, status, reason, body, detail, failing):
    """Bugs: a readyz failure reworded, a check's name cut elsewhere (its first word, after ``[-]``), UTF-8 names
    misread or invalid bytes failing the probe."""
    srv = kube_srv(readyz=answer(status, body, reason))
    r = run(_kt(srv, pki))
    assert (r["state"], r["detail"], r["info"]["failing_checks"]) == ("http_status", detail, failing), r


@pytest.mark.parametrize("n, listed", [(50, ["c%02d" % i for i in range(50)]),
                                       (51, ["c%02d" % i for i in range(50)] + ["(1 more)"])])
def test_up_to_50_failing_checks_are_listed_then_a_count(kube_srv, pki, n, listed):
    """Bugs: a count added at exactly 50 failing checks, the count reworded or computed otherwise."""
    srv = kube_srv(readyz=answer(500, "".join("[-]c%02d failed\n" % i for i in range(n)).encode(), "E"))
    assert run(_kt(srv, pki))["info"]["failing_checks"] == listed


def test_livez_and_version_failures_in_full(kube_srv, pki):
    """Bugs: another path asked, a failure reworded, or livez's status left out of the info."""
    srv = kube_srv(livez=answer(503, b"down", "Service Unavailable"))
    r = run(_kt(srv, pki))
    assert (r["state"], r["detail"]) == ("http_status", "GET /livez: 503 Service Unavailable: down"), r
    assert r["info"] == {"checks_ok": 2, "failing_checks": [], "livez": 503}
    srv = kube_srv(version=answer(500, b"boom", "Internal Server Error"))
    r = run(_kt(srv, pki))
    assert (r["state"], r["detail"]) == ("http_status", "GET /version: 500 Internal Server Error: boom"), r


@pytest.mark.parametrize("body, problem", [
    (b"{}", "no gitVersion"), (b'{"gitVersion": 5}', "gitVersion is not a string"),
    (b"<html>", "is not valid JSON: Expecting value (line 1, column 1)")])
def test_a_version_answer_without_a_git_version_in_full(kube_srv, pki, body, problem):
    """Bugs: a version that is missing or not a string accepted, or the problem named otherwise."""
    srv = kube_srv(version=answer(200, body))
    r = run(_kt(srv, pki))
    assert (r["state"], r["detail"]) == ("protocol", "GET /version: no gitVersion in the answer (%s)" % problem), r
    assert r["info"]["livez"] == 200 and r["connect_ms"] is not None


def test_a_kubernetes_url_over_http_is_refused_in_full():
    """Bugs: a plain-http Kubernetes url (a token would cross in clear) accepted, or refused with another wording."""
    r = run({"site": "e", "kind": "kubernetes", "url": "http://127.0.0.1:1"})
    assert (r["state"], r["detail"]) == ("protocol", "the Kubernetes API must be reached over https, got http")


def test_a_kubeconfig_server_that_is_not_a_service_url_names_the_kubeconfig(tmp_path):
    """Bug: a kubeconfig's bad server reported without the kubeconfig it came from."""
    path = kubeconfig(tmp_path, server="ftp://127.0.0.1:1")
    r = run({"site": "e", "kind": "kubernetes", "kubeconfig": path})
    assert (r["state"], r["detail"]) == (
        "protocol", "kubeconfig %s: server must use http or https, got scheme 'ftp'" % path), r


def _kc_target(srv, pki, tmp_path, user, cluster_extra="", **target):
    path = write_kubeconfig(tmp_path / "config", "https://127.0.0.1:%d" % srv.port, os.path.join(pki, "ca.crt"), user)
    if cluster_extra:
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("    certificate-authority: ", cluster_extra + "    certificate-authority: "))
    t = {"site": "e", "kind": "kubernetes", "kubeconfig": path}
    t.update(target)
    return t


def _sent_token(srv):
    return srv.requests[0][1].get("authorization")


@pytest.mark.parametrize("user, target, sent", [
    ({"token": "kc-tok", "tokenFile": "kc.tok"}, {"token": "target-tok", "token_file": "t.tok"}, "target-tok"),
    ({"token": "kc-tok", "tokenFile": "kc.tok"}, {"token_file": "t.tok"}, "kc-tok"),
    ({"tokenFile": "kc.tok"}, {"token_file": "t.tok"}, "kc-file-tok"),
    ({"tokenFile": "kc.tok"}, {"token": "target-tok"}, "target-tok"),
    ({"client-key": "none"}, {"token_file": "t.tok"}, "t-file-tok"),
    ({"client-key": "none"}, {}, None),
])
def test_which_token_is_sent(kube_srv, pki, tmp_path, user, target, sent):
    """Bugs: the token order changed (the target's token, the kubeconfig's, the kubeconfig's tokenFile, the
    target's token_file), a token file read although a token is there, or no token sent."""
    (tmp_path / "kc.tok").write_text("kc-file-tok\n")
    (tmp_path / "t.tok").write_text("t-file-tok\n")
    if "token_file" in target:
        target = dict(target, token_file=str(tmp_path / target["token_file"]))
    srv = kube_srv()
    r = run(_kc_target(srv, pki, tmp_path, user, **target))
    assert r["state"] == "up", r
    assert _sent_token(srv) == (sent and "Bearer " + sent)
    if sent:
        assert sent not in json.dumps(r)


@pytest.mark.parametrize("where, detail", [
    ("kubeconfig", "kubeconfig tokenFile %s is empty"), ("target", "token_file %s is empty")])
def test_an_empty_token_file_names_where_it_came_from(kube_srv, pki, tmp_path, where, detail):
    """Bug: an empty token file not said to be the kubeconfig's tokenFile or the target's token_file."""
    (tmp_path / "empty").write_text("\n")
    srv = kube_srv()
    if where == "kubeconfig":
        target = _kc_target(srv, pki, tmp_path, {"tokenFile": "empty"})
    else:
        target = _kt(srv, pki, token=None, token_file=str(tmp_path / "empty"))
    r = run(target)
    assert (r["state"], r["detail"]) == ("auth", detail % (tmp_path / "empty")), r


def test_the_kubeconfig_ca_wins_over_the_target_s(kube_srv, pki, tmp_path):
    """Bugs: the target's CA file used although the kubeconfig names a CA (file or data), or not used when the
    kubeconfig names none."""
    junk = tmp_path / "junk.crt"
    junk.write_text("not a certificate\n")
    srv = kube_srv()
    assert run(_kc_target(srv, pki, tmp_path, {"token": "t"}, ca_file=str(junk)))["state"] == "up"
    with open(os.path.join(pki, "ca.crt"), "rb") as f:
        ca_data = base64.b64encode(f.read()).decode()
    path = write_kubeconfig(tmp_path / "data", "https://127.0.0.1:%d" % srv.port, os.path.join(pki, "ca.crt"),
                            {"token": "t"})
    with open(path) as f:
        text = f.read().replace("certificate-authority: %s" % os.path.join(pki, "ca.crt"),
                                "certificate-authority-data: %s" % ca_data)
    with open(path, "w") as f:
        f.write(text)
    assert run({"site": "e", "kind": "kubernetes", "kubeconfig": path, "ca_file": str(junk)})["state"] == "up"
    path = write_kubeconfig(tmp_path / "noca", "https://127.0.0.1:%d" % srv.port, "x", {"token": "t"})
    with open(path) as f:
        text = f.read().replace("    certificate-authority: x\n", "")
    with open(path, "w") as f:
        f.write(text)
    assert run({"site": "e", "kind": "kubernetes", "kubeconfig": path,
                "ca_file": os.path.join(pki, "ca.crt")})["state"] == "up"
    r = run({"site": "e", "kind": "kubernetes", "kubeconfig": path, "ca_file": os.path.join(pki, "wrong-ca.crt")})
    assert r["state"] == "tls", r


@pytest.mark.parametrize("kc_name, target_name, state", [
    ("kubernetes", "api.example.net", "up"), ("api.example.net", None, "tls"), (None, "api.example.net", "tls")])
def test_the_kubeconfig_server_name_wins_over_the_target_s(kube_srv, pki, tmp_path, kc_name, target_name, state):
    """Bugs: the kubeconfig's tls-server-name ignored, or the target's not used when the kubeconfig has none."""
    srv = kube_srv()
    extra = "    tls-server-name: %s\n" % kc_name if kc_name else ""
    target = _kc_target(srv, pki, tmp_path, {"token": "t"}, extra)
    if target_name:
        target["tls_server_name"] = target_name
    assert run(target)["state"] == state


@pytest.mark.parametrize("how", ["files", "data"])
def test_the_kubeconfig_client_certificate_is_presented(scripted, client_auth_ctx, pki, tmp_path, how):
    """Bugs: the kubeconfig's client certificate or key (files or data) not handed to the TLS context: a server
    that requires one refuses the handshake."""
    srv = scripted(_kube(), tls=client_auth_ctx)
    if how == "files":
        user = {"client-certificate": os.path.join(pki, "srv.crt"), "client-key": os.path.join(pki, "srv.key")}
    else:
        user = {"client-certificate-data": base64.b64encode(_read(pki, "srv.crt")).decode(),
                "client-key-data": base64.b64encode(_read(pki, "srv.key")).decode()}
    r = run(_kc_target(srv, pki, tmp_path, user))
    assert (r["state"], r["info"].get("version")) == ("up", "v1.30.1"), r


# --------------------------------------------------------------------------- real bugs found by the run (fixed)

LONG_REASON = "Because " + "x\x1b" * 3000


@pytest.mark.parametrize("where", ["auth", "success", "readyz"])
def test_a_server_s_reason_phrase_reaches_a_detail_cut_and_printable(scripted, kube_srv, pki, where):
    """The module's rule: what of a server's answer reaches a message is a short printable name (MAX_NAME)."""
    if where == "readyz":
        srv = kube_srv(readyz=answer(500, b"[-]etcd failed\n", LONG_REASON))
        r = run(_kt(srv, pki))
    else:
        srv = scripted({"/p": answer(403 if where == "auth" else 200, b"", LONG_REASON)})
        r = run({"site": "e", "kind": "http", "url": "http://127.0.0.1:%d/p" % srv.port})
    assert r["state"] == {"auth": "auth", "success": "up", "readyz": "http_status"}[where]
    assert "\x1b" not in r["detail"] and len(r["detail"]) < 300, (len(r["detail"]), r["detail"][:80])


def test_binary_ca_data_in_a_kubeconfig_is_a_tls_error_naming_the_ca_data(tmp_path):
    """CA data that does not load is a TLS error naming the CA data (as text that is not a certificate is)."""
    cluster = {"server": "https://127.0.0.1:1", "certificate-authority-data": "MIIB/w=="}
    doc = _doc(clusters=[{"name": "k", "cluster": cluster}],
               users=[{"name": "u", "user": {"token": "a-token-of-some-length"}}])  # masked wherever it appears
    path = tmp_path / "config.json"
    path.write_text(json.dumps(doc))
    r = run({"site": "e", "kind": "kubernetes", "kubeconfig": str(path)})
    assert r["state"] == "tls" and r["detail"].startswith("cannot load CA data: "), r
