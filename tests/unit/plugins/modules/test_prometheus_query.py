# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import prometheus_query
from tests.unit.module_runner import run_module


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _send(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._send(200, {"status": "success", "data": {"version": "2.42.0"}})

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        if "timeout=0.000001" in body:
            self._send(503, {"status": "error", "errorType": "timeout", "error": "query timed out in query queue"})
        elif "query=up" in body:
            self._send(200, {"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "1"]}]}})
        else:
            self._send(400, {"status": "error", "errorType": "bad_data", "error": "parse error"})


@pytest.fixture()
def url():
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_success(url):
    res = run_module(prometheus_query, {"url": url, "query": "up", "runs": 3, "return_result": True})
    assert res["failed"] is False and res["outcome"] == "success" and res["outcomes"] == {"success": 3}
    assert res["series_count"] == 1 and res["result_type"] == "vector" and res["result"]["resultType"] == "vector"
    assert res["prometheus_version"] == "2.42.0"
    rec = res["record"]
    assert validate_record(rec) == [] and len(rec["samples"]) == 3
    assert rec["name"] == "prometheus_query/up" and rec["context"]["url"] == url


def test_token_not_returned(url):
    res = run_module(prometheus_query, {"url": url, "query": "up", "runs": 1, "bearer_token": "s3cr3t-token"})
    assert "s3cr3t-token" not in json.dumps(res)


def test_bad_query_and_server_timeout(url):
    res = run_module(prometheus_query, {"url": url, "query": "rate(up[5m", "runs": 2, "fail_on_error": False})
    assert res["failed"] is False and res["outcome"] == "bad_query" and res["error_type"] == "bad_data"
    assert res["record"]["failures"] == 2 and res["record"]["errors"][0]["outcome"] == "bad_query"
    res = run_module(prometheus_query, {"url": url, "query": "up", "timeout": "0.000001", "runs": 1})
    assert res["failed"] is True and res["outcome"] == "server_timeout" and res["error_type"] == "timeout"


def test_unreachable():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    res = run_module(prometheus_query, {"url": "http://127.0.0.1:%d" % port, "query": "up", "runs": 2,
                                        "fail_on_error": False})
    assert res["outcome"] == "unreachable" and res["outcomes"] == {"unreachable": 2}
    assert res["record"]["samples"] == [] and res["prometheus_version"] is None


@pytest.mark.parametrize("args,needle", [
    ({"url": "localhost:9090"}, "scheme must be http or https"),
    ({"url": "http://x:70000"}, "malformed"),
    ({"url": "http://x", "runs": 0}, "runs must be at least 1"),
    ({"url": "http://x", "deadline": 0}, "deadline must be a positive"),
    ({"url": "http://x", "query_type": "range"}, "step is required"),
    ({"url": "http://x", "step": "15s"}, "apply to query_type=range"),
    ({"url": "http://x", "ca_file": "/etc/hosts"}, "is not https"),
    ({"url": "http://x", "query": " "}, "query must not be empty"),
    ({"url": "http://x", "password": "p"}, "missing parameter(s) required by 'password'"),
])
def test_bad_input(args, needle):
    args.setdefault("query", "up")
    res = run_module(prometheus_query, args)
    assert res["failed"] is True and needle in res["msg"]
    assert "Traceback" not in res["msg"]
