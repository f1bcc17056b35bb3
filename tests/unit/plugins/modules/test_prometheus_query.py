# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from unittest import mock

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import prometheus_query
from tests.unit.module_runner import run_module

TOKEN = "s3cr3t-t0ken-4b7e"
NO_LOG_MASK = "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"


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
        auth = self.headers.get("Authorization")
        if auth is not None and auth != "Bearer " + TOKEN:
            self._send(401, {"status": "error", "errorType": "unauthorized", "error": "bad credentials"})
        elif "timeout=0.000001" in body:
            self._send(503, {"status": "error", "errorType": "timeout", "error": "query timed out in query queue"})
        elif "query=up" in body:
            self._send(200, {"status": "success", "data": {"resultType": "vector", "result": [{"value": [1, "1"]}]}})
        else:
            self._send(400, {"status": "error", "errorType": "bad_data", "error": "parse error"})


@pytest.fixture()
def url():
    srv = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
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
    res = run_module(prometheus_query, {"url": url, "query": "up", "runs": 1, "bearer_token": TOKEN})
    assert res["outcome"] == "success" and TOKEN not in json.dumps(res)


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
    ({"url": "localhost:9090"}, "must use http or https"),
    ({"url": "http://x:70000"}, "url 'http://x:70000' is not a valid URL"),
    ({"url": "http://u:p@x"}, "must not embed credentials"),
    ({"url": "http://x?query=up"}, "without query or fragment"),
    ({"url": "http://x", "query_type": "range", "step": "15s", "lookback": 0},
     "lookback must be a positive number of seconds, got 0.0"),
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


# --------------------------------------------------------------------- no_log, the way Ansible runs a module

def test_secrets_are_no_log_in_the_argument_spec():
    seen = {}
    real = prometheus_query.AnsibleModule

    def recording(*args, **kwargs):
        seen.update(kwargs["argument_spec"])
        return real(*args, **kwargs)

    with mock.patch.object(prometheus_query, "AnsibleModule", recording):
        run_module(prometheus_query, {"url": "http://x", "query": "up", "runs": 0})
    assert seen["bearer_token"].get("no_log") is True
    assert seen["password"].get("no_log") is True


def _collections_path():
    """The directory holding ``ansible_collections`` that this test imported the module from
    (the .build/unit tree tests/unit/conftest.py made, or ansible-test's)."""
    path = os.path.abspath(prometheus_query.__file__)
    for _level in range(5):  # prometheus_query.py, modules, plugins, perf, o2edge
        path = os.path.dirname(path)
    assert os.path.basename(path) == "ansible_collections"
    return os.path.dirname(path)


def _run_as_ansible_does(tmp_path, args):
    """Run the module in its own Python process from an args file, with Ansible's real
    exit_json/fail_json (and so its no_log masking); return (result, stdout + stderr)."""
    args_file = tmp_path / "args.json"
    args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
    env = dict(os.environ, PYTHONPATH=_collections_path())
    proc = subprocess.run(
        [sys.executable, "-m", "ansible_collections.o2edge.perf.plugins.modules.prometheus_query", str(args_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=str(tmp_path), timeout=120, check=False)
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    try:
        result = json.loads(out)
    except ValueError:
        raise AssertionError("the module printed no JSON (rc %s):\n%s\n%s" % (proc.returncode, out, err))
    return result, out + err


@pytest.mark.parametrize("auth,accepted", [
    ({"bearer_token": TOKEN}, True),
    ({"username": "perf", "password": TOKEN}, False),  # basic auth is refused: 401
])
def test_secrets_never_appear_in_the_module_output(tmp_path, url, auth, accepted):
    args = dict({"url": url, "query": "up", "runs": 1, "warmup": 0, "fail_on_error": True}, **auth)
    result, output = _run_as_ansible_does(tmp_path, args)
    assert result["failed"] is (not accepted)
    assert result["outcome"] == ("success" if accepted else "http_error")
    # AnsibleModule echoes the arguments in invocation.module_args: no_log masks the secret there
    module_args = result["invocation"]["module_args"]
    secret_key = "bearer_token" if "bearer_token" in auth else "password"
    assert module_args[secret_key] == NO_LOG_MASK
    assert TOKEN not in output
    assert base64.b64encode(("perf:%s" % TOKEN).encode()).decode() not in output
