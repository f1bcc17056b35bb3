# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus client: URL checks, outcome classification, and real HTTP against a loopback fake."""
from __future__ import annotations

import datetime
import ipaddress
import json
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _prometheus as pq


@pytest.mark.parametrize("url,expected", [
    ("http://198.18.0.1:9090", ("http", "198.18.0.1", 9090, "")),
    ("https://prom.example.org/prometheus/", ("https", "prom.example.org", 443, "/prometheus")),
    ("http://[::1]:9090", ("http", "::1", 9090, "")),
])
def test_parse_url(url, expected):
    assert pq.parse_url(url) == expected


@pytest.mark.parametrize("url,needle", [
    ("", "url is empty"),
    ("  ", "url is empty"),
    (None, "url is empty"),
    ("198.18.0.1:9090", "must use http or https"),
    ("ftp://x", "url 'ftp://x' must use http or https, got scheme 'ftp'"),
    ("http://", "url 'http://' has no host"),
    ("http://x:99999", "url 'http://x:99999' is not a valid URL"),
    ("http://x:abc", "url 'http://x:abc' is not a valid URL"),
    ("http://u:p@x:9090", "url 'http://***@x:9090' must not embed credentials"),
    ("http://x:9090/api/v1/query?query=up", "without query or fragment"),
    ("http://x:9090/#frag", "without query or fragment"),
    ("http://x y:9090", "white space"),
])
def test_parse_url_malformed(url, needle):
    with pytest.raises(pq.PromError) as err:
        pq.parse_url(url)
    assert needle in str(err.value)


def test_parse_url_never_shows_credentials():
    for url in ("http://user:s3cret@x:9090", "http://user:s3cret@x:9090/?q=1", "ftp://user:s3cret@x"):
        with pytest.raises(pq.PromError) as err:
            pq.parse_url(url)
        assert "s3cret" not in str(err.value)


@pytest.mark.parametrize("status,payload,outcome", [
    (200, {"status": "success", "data": {"resultType": "vector", "result": []}}, "success"),
    (503, {"status": "error", "errorType": "timeout", "error": "query timed out"}, "server_timeout"),
    (400, {"status": "error", "errorType": "bad_data", "error": "parse error"}, "bad_query"),
    (400, None, "bad_query"),
    (422, {"status": "error", "errorType": "execution", "error": "too many samples"}, "http_error"),
    (500, None, "http_error"),
    (401, None, "http_error"),
    (200, {"status": "error", "errorType": "internal"}, "not_success"),
    (200, None, "not_success"),
])
def test_classify(status, payload, outcome):
    assert pq.classify(status, payload)[0] == outcome


def test_series_info():
    assert pq.series_info({"data": {"resultType": "vector", "result": [{}, {}]}}) == ("vector", 2)
    assert pq.series_info({"data": {"resultType": "matrix", "result": []}}) == ("matrix", 0)
    assert pq.series_info({"data": {"resultType": "scalar", "result": [1, "1"]}}) == ("scalar", None)
    assert pq.series_info({}) == (None, None)


def test_auth_headers():
    assert pq.auth_headers("tok") == {"Authorization": "Bearer tok"}
    assert pq.auth_headers(username="u", password="p") == {"Authorization": "Basic dTpw"}
    assert pq.auth_headers() == {}


def test_range_params():
    p = pq.range_params(step="15s", lookback=600, now=1000.0)
    assert p == {"step": "15s", "end": "1000.000", "start": "400.000"}
    p = pq.range_params(start="2026-01-01T00:00:00Z", end="2026-01-01T01:00:00Z", step="60")
    assert p["start"] == "2026-01-01T00:00:00Z"
    with pytest.raises(pq.PromError):
        pq.range_params(end="2026-01-01T01:00:00Z", step="60")
    # no lookback given: one hour
    assert pq.range_params(step="15s", now=5000.0)["start"] == "1400.000"


@pytest.mark.parametrize("lookback", [0, 0.0, -60, float("nan")])
def test_range_params_refuses_a_lookback_that_is_not_positive(lookback):
    # 0 is not "the default": a silent 3600 would query another range than asked for
    with pytest.raises(pq.PromError) as err:
        pq.range_params(step="15s", lookback=lookback, now=1000.0)
    assert "lookback must be a positive number of seconds, got %r" % (lookback,) in str(err.value)


# --------------------------------------------------------------------- loopback fake server

class Handler(BaseHTTPRequestHandler):
    seen = []

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.endswith("/api/v1/status/buildinfo"):
            self._send(200, {"status": "success", "data": {"version": "9.9.9"}})
        else:
            self._send(404, b"not found", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        form = parse_qs(self.rfile.read(length).decode())
        Handler.seen.append({"path": self.path, "form": form, "ctype": self.headers.get("Content-Type"),
                             "auth": self.headers.get("Authorization")})
        query = form.get("query", [""])[0]
        if query == "slow":
            time.sleep(1.0)
        if query == "rate(prometheus_http_requests_total[5m])" or query == "up" or query == "slow":
            self._send(200, {"status": "success", "data": {"resultType": "vector", "result": [
                {"metric": {"job": "a"}, "value": [1, "1"]}, {"metric": {"job": "b"}, "value": [1, "0"]}]},
                "warnings": ["w1"] if query == "up" else []})
        elif query == "timeout":
            self._send(503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"})
        elif query == "html":
            self._send(200, b"<html>proxy</html>", "text/html")
        elif query == "boom":
            self._send(500, b"internal", "text/plain")
        else:
            self._send(400, {"status": "error", "errorType": "bad_data", "error": "parse error"})


@pytest.fixture()
def server():
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    Handler.seen = []
    yield "http://127.0.0.1:%d/prefix" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_query_is_form_encoded_post(server):
    target = pq.Target(server, pq.auth_headers("secret"))
    res = pq.query_once(target, "rate(prometheus_http_requests_total[5m])", params={"timeout": "5s", "time": None})
    assert res["ok"] and res["outcome"] == "success" and res["series_count"] == 2
    seen = Handler.seen[-1]
    assert seen["path"] == "/prefix/api/v1/query"
    assert seen["ctype"] == "application/x-www-form-urlencoded"
    assert seen["form"] == {"query": ["rate(prometheus_http_requests_total[5m])"], "timeout": ["5s"]}
    assert seen["auth"] == "Bearer secret"


def test_range_query_path(server):
    target = pq.Target(server)
    res = pq.query_once(target, "up", "range", pq.range_params(step="15s", now=1000.0))
    assert res["ok"] and res["warnings"] == ["w1"]
    assert Handler.seen[-1]["path"] == "/prefix/api/v1/query_range"
    assert Handler.seen[-1]["form"]["step"] == ["15s"]


@pytest.mark.parametrize("query,outcome,error_type", [
    ("timeout", "server_timeout", "timeout"),
    ("rate(up[5m", "bad_query", "bad_data"),
    ("html", "not_success", None),
    ("boom", "http_error", None),
])
def test_outcomes(server, query, outcome, error_type):
    res = pq.query_once(pq.Target(server), query)
    assert not res["ok"]
    assert (res["outcome"], res["error_type"]) == (outcome, error_type)
    assert res["error"]


def test_client_deadline(server):
    res = pq.query_once(pq.Target(server), "slow", deadline=0.2)
    assert res["outcome"] == "client_timeout" and not res["ok"]


def test_unreachable():
    res = pq.query_once(pq.Target("http://127.0.0.1:%d" % free_port()), "up", deadline=2)
    assert res["outcome"] == "unreachable" and "refused" in res["error"].lower()


def test_tls_error_against_plain_http(server):
    # the plain server's answer to the ClientHello is no TLS record: the handshake fails
    res = pq.query_once(pq.Target(server.replace("http://", "https://")), "up", deadline=2)
    assert res["outcome"] == "tls_error" and not res["ok"]
    assert res["http_status"] is None and res["error"].startswith("TLS failed")


# --------------------------------------------------------------------- loopback TLS server

def _self_signed(name):
    """(key PEM, certificate PEM) of a self-signed CA certificate valid for 127.0.0.1."""
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .sign(key, hashes.SHA256()))
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    base = tmp_path_factory.mktemp("tls")
    key, cert = _self_signed("o2edge test server")
    _other_key, other = _self_signed("o2edge other CA")
    (base / "key.pem").write_bytes(key)
    (base / "cert.pem").write_bytes(cert)
    (base / "other-ca.pem").write_bytes(other)
    return {"key": str(base / "key.pem"), "cert": str(base / "cert.pem"), "other_ca": str(base / "other-ca.pem")}


@pytest.fixture()
def tls_server(certs):
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs["cert"], certs["key"])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    Handler.seen = []
    yield "https://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_tls_with_the_right_ca(tls_server, certs):
    res = pq.query_once(pq.Target(tls_server, ca_file=certs["cert"]), "up", deadline=5)
    assert res["ok"] and res["outcome"] == "success"


@pytest.mark.parametrize("ca", ["other_ca", None])
def test_tls_certificate_not_trusted_is_a_tls_error(tls_server, certs, ca):
    # a CA that did not sign the server's certificate (or the system CAs): verification fails
    # in the handshake, before any HTTP: never an HTTP error
    res = pq.query_once(pq.Target(tls_server, ca_file=certs[ca] if ca else None), "up", deadline=5)
    assert res["outcome"] == "tls_error" and not res["ok"]
    assert res["http_status"] is None and "certificate verify failed" in res["error"]
    assert Handler.seen == []


def test_tls_without_validation(tls_server):
    res = pq.query_once(pq.Target(tls_server, validate_certs=False), "up", deadline=5)
    assert res["ok"] and res["outcome"] == "success"


def test_https_to_a_plain_tcp_server_is_a_tls_error():
    # a server that answers anything but TLS to the ClientHello
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve():
        conn, _addr = listener.accept()
        with conn:
            try:
                conn.recv(4096)
                conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n" * 4)
                conn.recv(4096)  # until the client gives up
            except OSError:
                pass

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        res = pq.query_once(pq.Target("https://127.0.0.1:%d" % listener.getsockname()[1]), "up", deadline=5)
    finally:
        thread.join(5)
        listener.close()
    assert res["outcome"] == "tls_error" and res["error"].startswith("TLS failed")


@pytest.mark.parametrize("answer", [
    b"Client sent an HTTP request to an HTTPS server.\n",  # Go's net/http (Prometheus)
    b"<html><center>The plain HTTP request was sent to HTTPS port</center></html>",  # nginx
])
def test_plain_http_to_a_tls_port_is_a_tls_error(answer):
    class TlsPort(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_POST(self):
            self.send_response(400)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

    srv = HTTPServer(("127.0.0.1", 0), TlsPort)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    try:
        res = pq.query_once(pq.Target("http://127.0.0.1:%d" % srv.server_address[1]), "up", deadline=5)
    finally:
        srv.shutdown()
        srv.server_close()
    assert res["outcome"] == "tls_error" and "https://" in res["error"]
    assert res["http_status"] == 400


def test_build_info(server):
    assert pq.build_info(pq.Target(server)) == "9.9.9"
    assert pq.build_info(pq.Target("http://127.0.0.1:%d" % free_port())) is None


def test_a_fifo_ca_file_is_refused_by_name_without_blocking(tmp_path):
    # Bug (issue 15 class 7): ssl.create_default_context(cafile=FIFO) waited for a writer forever.
    fifo = tmp_path / "ca.pem"
    import os
    os.mkfifo(str(fifo))
    with pytest.raises(pq.PromError, match=r"ca_file .*ca\.pem is a named pipe \(FIFO\), not a regular file"):
        pq.Target("https://127.0.0.1:9090", ca_file=str(fifo))
    with pytest.raises(pq.PromError, match=r"ca_file /dev/null is a character device"):
        pq.Target("https://127.0.0.1:9090", ca_file="/dev/null")


def test_a_ca_file_that_is_no_pem_is_a_named_error(tmp_path):
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(pq.PromError, match=r"ca_file .*ca\.pem cannot be loaded"):
        pq.Target("https://127.0.0.1:9090", ca_file=str(bad))


@pytest.mark.parametrize("payload, hidden, most", [
    ({"status": "error", "errorType": "execution", "error": "e" * 100000}, "e" * 501, 500),
    ({"status": "error", "errorType": "x" * 1000, "error": "boom"}, "x" * 64, 63),
    ({"status": "error", "error": "-----BEGIN " + "PRIVATE KEY-----\nMIIE"}, "MIIE", 200),
    ({"status": "error", "error": "bad\x1b[2J\x00"}, "\x1b", 500),
])
def test_server_error_text_is_bounded_printable_and_never_secret_looking(payload, hidden, most):
    # Bug (issue 15 class 5): the server's error text went into the result whole, control characters and all.
    outcome, error_type, error = pq.classify(422, payload)
    assert outcome == "http_error"
    assert hidden not in (error or "") and hidden not in (error_type or "")
    assert len(error) <= most and (error_type is None or len(error_type) <= 63)


def test_a_long_status_is_not_quoted_whole():
    outcome, _t, error = pq.classify(200, {"status": "s" * 10000})
    assert outcome == "not_success" and error.startswith("status 's") and len(error) < 80
