# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus client: URL checks, outcome classification, and real HTTP against a loopback fake."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _prometheus as pq


@pytest.mark.parametrize("url,expected", [
    ("http://198.18.0.1:9090", ("http", "198.18.0.1", 9090, "")),
    ("https://prom.example.org/prometheus/", ("https", "prom.example.org", 443, "/prometheus")),
    ("http://[::1]:9090", ("http", "::1", 9090, "")),
])
def test_parse_url(url, expected):
    assert pq.parse_url(url) == expected


@pytest.mark.parametrize("url,needle", [
    ("", "url is empty"),
    ("198.18.0.1:9090", "scheme must be http or https"),
    ("ftp://x", "scheme must be http or https"),
    ("http://", "no host"),
    ("http://x:99999", "malformed"),
    ("http://x:abc", "malformed"),
    ("http://u:p@x:9090", "must not embed credentials"),
    ("http://x:9090/api/v1/query?query=up", "without query or fragment"),
    ("http://x y:9090", "white space"),
])
def test_parse_url_malformed(url, needle):
    with pytest.raises(pq.PromError) as err:
        pq.parse_url(url)
    assert needle in str(err.value)


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
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
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
    res = pq.query_once(pq.Target(server.replace("http://", "https://")), "up", deadline=2)
    assert res["outcome"] in ("tls_error", "http_error", "unreachable")
    assert not res["ok"]


def test_build_info(server):
    assert pq.build_info(pq.Target(server)) == "9.9.9"
    assert pq.build_info(pq.Target("http://127.0.0.1:%d" % free_port())) is None
