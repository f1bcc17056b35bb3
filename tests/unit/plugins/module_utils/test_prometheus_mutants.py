# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""measure/_prometheus: tests written for the survivors of a mutation run (docs/mutation.md), each named
for the bug it catches."""
from __future__ import annotations

import base64
import json
import os
import re
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _prometheus as pq
from ansible_collections.o2edge.perf.plugins.modules import prometheus_query

DOC_OUTCOME = re.compile(r"V\(([a-z_]+)\)")


def test_the_outcomes_are_the_ones_the_module_documents():
    """Bug: an outcome renamed, dropped or added in the table without the documentation (or the
    other way round); the module's description names each outcome once, in this order."""
    text = " ".join(prometheus_query.DOCUMENTATION.split())
    start = text.index("Every run gets an outcome")
    documented = DOC_OUTCOME.findall(text[start:text.index("Connects directly", start)])
    assert tuple(documented) == pq.OUTCOMES


def test_every_classified_outcome_is_in_the_table():
    """Bug: classify returning an outcome the table (and so the documentation) does not know."""
    cases = [(200, {"status": "success"}), (503, {"errorType": "timeout"}), (400, None), (500, None), (200, None)]
    assert {pq.classify(status, payload)[0] for status, payload in cases} <= set(pq.OUTCOMES)


def test_the_answer_bound_is_256_mib():
    """Bug: the answer bound changed (a smaller one refuses real answers, a larger one lets a server
    exhaust the controller's memory)."""
    assert pq.MAX_BODY == 268435456


def test_the_user_agent_names_the_collection_and_the_module():
    """Bug: the User-Agent (what a server's access log shows) losing its name or version."""
    assert pq.USER_AGENT == "o2edge.perf-prometheus_query/1"


def test_credentials_hidden_in_a_url_with_a_path():
    """Bugs: the host part cut at another character than '/', so credentials before a path are shown,
    or the path lost from the message."""
    assert pq._shown("http://u:pw@h:9090/prom/x") == "http://***@h:9090/prom/x"
    assert pq._shown(" http://h:9090/a ") == "http://h:9090/a"
    assert pq._shown("h:9090/a") == "h:9090/a"
    assert pq._shown("http://h:9090/user@x") == "http://h:9090/user@x"  # an '@' in the path hides nothing


def test_malformed_url_messages_in_full():
    """Bugs: the messages' wording changed so an operator can no longer tell what to fix."""
    with pytest.raises(pq.PromError) as err:
        pq.parse_url("")
    assert str(err.value) == "url is empty"
    with pytest.raises(pq.PromError) as err:
        pq.parse_url("http://u:pw@x:9090/?q=1")
    assert str(err.value).startswith("url 'http://***@x:9090/?q=1' ")
    with pytest.raises(pq.PromError) as err:
        pq.parse_url("http://x:9090/p?q=1")
    assert str(err.value) == ("url 'http://x:9090/p?q=1' is malformed: give the server's base URL without query"
                              " or fragment")


def test_base_path_loses_only_its_trailing_slashes():
    """Bug: other characters stripped from the base path, or the slashes kept (the API path is
    appended to it: //api/v1/query)."""
    assert pq.parse_url("http://x:9090/prom//") == ("http", "x", 9090, "/prom")
    assert pq.parse_url("http://x:9090/XX/") == ("http", "x", 9090, "/XX")


def test_safe_url_strips_white_space_and_trailing_slashes_only():
    """Bug: the URL in records keeping its padding or trailing slash, or losing other characters."""
    assert pq.safe_url("  http://x:9090/XX/  ") == "http://x:9090/XX"


def test_basic_auth_without_a_password_sends_an_empty_one():
    """Bug: a missing password sent as some other text."""
    header = pq.auth_headers(username="alice")["Authorization"]
    assert base64.b64decode(header.split(" ", 1)[1]) == b"alice:"


def test_certificates_are_verified_unless_told_not_to():
    """Bugs: the default turned to no verification, or verification off leaving the host name check on
    (ssl refuses CERT_NONE then) or the other way round."""
    ctx = pq.ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname is True
    off = pq.ssl_context(validate_certs=False)
    assert off.verify_mode == ssl.CERT_NONE and off.check_hostname is False


def test_a_ca_file_that_is_not_a_certificate_is_named_with_the_reason(tmp_path):
    """Bugs: the message without the file or without why it failed."""
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(pq.PromError) as err:
        pq.ssl_context(ca_file=str(bad))
    message = str(err.value)
    assert message.startswith("ca_file %s cannot be loaded: " % bad)
    reason = message[len("ca_file %s cannot be loaded: " % bad):]
    # ssl's reason (NO_CERTIFICATE_OR_CRL_FOUND with OpenSSL 3), not just the error's class name (SSLError)
    assert re.fullmatch(r"[A-Z0-9_]{6,}", reason), reason


def test_a_missing_ca_file_is_refused_by_name(tmp_path):
    """Bug: a missing CA file passed to ssl (its error then names no field)."""
    with pytest.raises(pq.PromError) as err:
        pq.ssl_context(ca_file=os.path.join(str(tmp_path), "none.pem"))
    assert "ca_file" in str(err.value)


def test_the_server_error_text_is_kept_and_only_for_a_mapping():
    """Bugs: the error text read from another key, or read from a payload that is not a mapping."""
    assert pq.classify(500, {"status": "error", "error": "disk full"}) == ("http_error", None, "disk full")
    assert pq.classify(500, ["error"]) == ("http_error", None, "HTTP 500")
    assert pq.classify(400, {"errorType": "bad_data"}) == ("bad_query", "bad_data", "HTTP 400")


def test_a_server_timeout_keeps_the_servers_words_else_says_server_side_timeout():
    """Bugs: the default text of a server-side timeout garbled, or the server's own text replaced by it."""
    assert pq.classify(503, {"status": "error", "errorType": "timeout"}) == ("server_timeout", "timeout", "server-side timeout")
    assert pq.classify(503, {"status": "error", "errorType": "timeout", "error": "query timed out in expression evaluation"}) == (
        "server_timeout", "timeout", "query timed out in expression evaluation")


def test_bad_data_is_a_bad_query_whatever_the_http_status():
    """Bug: errorType bad_data not recognised, so a parse error answered with another status (422) is an http_error."""
    assert pq.classify(422, {"status": "error", "errorType": "bad_data", "error": "parse error"}) == (
        "bad_query", "bad_data", "parse error")


def test_http_300_is_not_a_success():
    """Bug: the 2xx range taken to include 300."""
    assert pq.classify(300, {"status": "success", "data": {}}) == ("http_error", None, "HTTP 300")
    assert pq.classify(299, {"status": "success", "data": {}}) == ("success", None, None)


def test_an_answer_that_is_not_json_is_named_so():
    """Bug: the message for a 2xx answer that is not the API's JSON garbled."""
    assert pq.classify(200, None) == ("not_success", None, "the answer is not the Prometheus API's JSON")


def test_an_unexpected_status_is_quoted_up_to_63_characters():
    """Bug: the status text quoted at another length."""
    assert pq.classify(200, {"status": "sx" * 50}) == ("not_success", None, "status '" + "sx" * 31)


class _Capture(BaseHTTPRequestHandler):
    headers_seen = []

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Capture.headers_seen.append(dict(self.headers.items()))
        data = json.dumps({"status": "success", "data": {"resultType": "vector", "result": []}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def test_a_query_asks_for_json_and_names_its_client():
    """Bugs: the Accept or User-Agent header dropped or garbled (a proxy then answers HTML; the server's access
    log cannot tell the collection's queries from others)."""
    srv = HTTPServer(("127.0.0.1", 0), _Capture)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        _Capture.headers_seen = []
        res = pq.query_once(pq.Target("http://127.0.0.1:%d" % srv.server_address[1]), "up", deadline=10)
    finally:
        srv.shutdown()
        srv.server_close()
    assert res["outcome"] == "success"
    seen = _Capture.headers_seen[0]
    assert seen["Accept"] == "application/json"
    assert seen["User-Agent"] == "o2edge.perf-prometheus_query/1"


def _failing_connect(exc):
    def connect(self):
        raise exc
    return connect


def test_a_connect_timeout_is_unreachable_and_says_after_how_long(monkeypatch):
    """Bugs: a connect that timed out not reported as unreachable, or its message garbled or lost."""
    monkeypatch.setattr(pq.HTTPConnection, "connect", _failing_connect(socket.timeout("timed out")))
    res = pq.query_once(pq.Target("http://198.18.0.10:9090"), "up", deadline=2.5)
    assert (res["ok"], res["outcome"], res["error"]) == (False, "unreachable", "connect timed out after 2.5s")


def test_a_name_that_does_not_resolve_is_unreachable_and_named(monkeypatch):
    """Bugs: a DNS failure not reported as unreachable, or its message garbled or lost."""
    monkeypatch.setattr(pq.HTTPConnection, "connect", _failing_connect(socket.gaierror(-2, "Name or service not known")))
    res = pq.query_once(pq.Target("http://prometheus.lab.invalid:9090"), "up", deadline=2)
    assert (res["ok"], res["outcome"], res["error"]) == (
        False, "unreachable", "cannot resolve prometheus.lab.invalid: [Errno -2] Name or service not known")


def test_a_failed_exchange_has_no_body(monkeypatch):
    """Bug: request's result without its documented body key (None) when the exchange failed."""
    monkeypatch.setattr(pq.HTTPConnection, "connect", _failing_connect(socket.timeout("timed out")))
    raw = pq.request(pq.Target("http://198.18.0.10:9090"), "GET", "/api/v1/status/buildinfo", None, 1)
    assert raw == {"seconds": None, "http_status": None, "body": None, "outcome": "unreachable",
                   "error": "connect timed out after 1s"}


def test_a_refused_connection_is_unreachable_and_names_the_address_and_reason(monkeypatch):
    """Bugs: the connect failure's message garbled, or the reason (strerror, else the error itself) lost."""
    target = pq.Target("http://198.18.0.10:9090")
    monkeypatch.setattr(pq.HTTPConnection, "connect", _failing_connect(ConnectionRefusedError(111, "Connection refused")))
    res = pq.query_once(target, "up", deadline=2)
    assert (res["ok"], res["outcome"], res["error"]) == (False, "unreachable", "cannot connect to 198.18.0.10:9090: Connection refused")
    monkeypatch.setattr(pq.HTTPConnection, "connect", _failing_connect(OSError("no route")))
    res = pq.query_once(target, "up", deadline=2)
    assert (res["outcome"], res["error"]) == ("unreachable", "cannot connect to 198.18.0.10:9090: no route")


class _Shaped(BaseHTTPRequestHandler):
    """Answers shaped by the query: ``size:N`` a body of exactly N bytes (from 70 on: a string result of N - 67 x),
    ``late:S`` the headers after S seconds, ``trickle:S`` a body sent a byte at a time over S seconds."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        form = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        kind, _sep, arg = form.partition("=")[2].partition("%3A")
        if kind == "late":
            time.sleep(float(arg))
        if kind == "text400":  # a plain-text 400 whose marker text ends at byte int(arg) (0: no marker)
            marker = b"Client sent an HTTP request to an HTTPS server" if int(arg) else b""
            data = b"x" * (int(arg) - len(marker)) + marker + b"\n"
            self.send_response(400)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if kind == "size":
            head, tail = '{"status":"success","data":{"resultType":"string","result":[0,"', '"]}}'
            data = (head + "x" * (int(arg) - len(head) - len(tail)) + tail).encode()
        else:
            data = json.dumps({"status": "success", "data": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if kind == "trickle":
            for byte in data:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(float(arg) / len(data))
        else:
            self.wfile.write(data)


def _do_get(self):
    """buildinfo's answer, with the status the path asks for (/<status>/api/v1/status/buildinfo)."""
    data = json.dumps({"status": "success", "data": {"version": "9.9.9"}}).encode()
    self.send_response(int(self.path.split("/")[1]))
    self.send_header("Content-Type", "application/json")
    self.send_header("Content-Length", str(len(data)))
    self.end_headers()
    self.wfile.write(data)


_Shaped.do_GET = _do_get


@pytest.fixture()
def shaped():
    srv = HTTPServer(("127.0.0.1", 0), _Shaped)
    srv.daemon_threads = True
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield pq.Target("http://127.0.0.1:%d" % srv.server_address[1])
    srv.shutdown()
    srv.server_close()


def test_the_answer_bound_counts_every_chunk_and_allows_exactly_the_bound(shaped, monkeypatch):
    """Bugs: the answer's size counted from 1, per chunk rather than in total, or backwards; an answer of exactly
    the bound refused; the refusal's message garbled (the bound lowered here: 256 MiB answers are not sent)."""
    bound = 65536 + 1000  # more than one 64 KiB read
    monkeypatch.setattr(pq, "MAX_BODY", bound)
    assert pq.query_once(shaped, "size:%d" % bound, deadline=20)["outcome"] == "success"
    res = pq.query_once(shaped, "size:%d" % (bound + 1), deadline=20)
    assert (res["outcome"], res["error"]) == ("http_error", "HTTP exchange failed: answer larger than %d bytes" % bound)
    monkeypatch.setattr(pq, "MAX_BODY", 100)
    assert pq.query_once(shaped, "size:100", deadline=20)["data"]["result"] == [0, "x" * 33]


def test_an_answer_of_several_chunks_is_joined_as_it_came(shaped):
    """Bug: the chunks of an answer larger than one read joined with something between them (broken JSON)."""
    res = pq.query_once(shaped, "size:200000", deadline=20)
    assert res["outcome"] == "success" and res["data"]["result"] == [0, "x" * (200000 - 67)]


def test_seconds_are_the_time_the_exchange_took(shaped):
    """Bug: seconds computed from the clock plus the start (a huge number)."""
    start = time.monotonic()
    res = pq.query_once(shaped, "size:100", deadline=20)
    assert 0 < res["seconds"] <= time.monotonic() - start


def test_a_server_that_answers_too_late_is_a_client_timeout_at_the_deadline(shaped):
    """Bugs: the socket's timeout before the request not the time left (the clock added, or a floor of a
    second), so a late server holds the client past its deadline; the time of a timed-out query lost."""
    res = pq.query_once(shaped, "late:1.3", deadline=0.3)
    assert res["outcome"] == "client_timeout"
    assert 0.2 < res["seconds"] < 1.0
    assert res["error"] == "no complete answer within the client deadline of 0.3s"


def test_an_answer_trickling_past_the_deadline_is_a_client_timeout(shaped):
    """Bug: the time left computed with the clock added, so a body sent slowly past the deadline is a success."""
    res = pq.query_once(shaped, "trickle:1.5", deadline=0.3)
    assert (res["ok"], res["outcome"]) == (False, "client_timeout")


def test_a_trickling_answer_does_not_hold_the_client_past_its_deadline(shaped):
    """Bug: the client deadline checked only between reads of 64 KiB, each of which a slow server can stretch
    (one byte per socket timeout) far past the deadline."""
    res = pq.query_once(shaped, "trickle:1.5", deadline=0.3)
    assert res["outcome"] == "client_timeout" and res["seconds"] < 1.0


def test_a_prompt_answer_within_the_deadline_is_a_success(shaped):
    """Bug: the deadline checked against a second instead of zero, so any query with less than a second left
    times out."""
    res = pq.query_once(shaped, "size:100", deadline=0.8)
    assert res["outcome"] == "success"


def _failing_response(exc):
    def getresponse(self):
        raise exc
    return getresponse


def test_a_tls_failure_after_connecting_is_a_tls_error_with_its_reason(shaped, monkeypatch):
    """Bugs: a TLS error during the exchange (after the handshake) not reported as tls_error, or its message lost."""
    monkeypatch.setattr(pq.HTTPConnection, "getresponse", _failing_response(ssl.SSLError(1, "decryption failed or bad record mac")))
    res = pq.query_once(shaped, "size:100", deadline=10)
    assert (res["ok"], res["outcome"], res["error"]) == (False, "tls_error", "TLS failed: decryption failed or bad record mac")


def test_a_broken_exchange_is_an_http_error_with_its_reason_and_time(shaped, monkeypatch):
    """Bugs: a connection dropped mid-exchange not reported as http_error, its message lost, or its time lost or
    computed with the clock added."""
    monkeypatch.setattr(pq.HTTPConnection, "getresponse",
                        _failing_response(pq.HTTPException("Remote end closed connection without response")))
    start = time.monotonic()
    res = pq.query_once(shaped, "size:100", deadline=10)
    assert (res["ok"], res["outcome"], res["error"]) == (
        False, "http_error", "HTTP exchange failed: Remote end closed connection without response")
    assert 0 <= res["seconds"] <= time.monotonic() - start


def test_a_broken_exchange_without_a_message_is_named_by_its_type(shaped, monkeypatch):
    """Bug: an exception without text giving an empty reason rather than its type's name."""
    monkeypatch.setattr(pq.HTTPConnection, "getresponse", _failing_response(pq.HTTPException()))
    res = pq.query_once(shaped, "size:100", deadline=10)
    assert (res["outcome"], res["error"]) == ("http_error", "HTTP exchange failed: HTTPException")


def test_a_failed_query_has_every_documented_field(monkeypatch):
    """Bug: a field of query_once's result missing when the query failed before an answer (the module reads
    them all)."""
    monkeypatch.setattr(pq.HTTPConnection, "connect", _failing_connect(socket.timeout("timed out")))
    res = pq.query_once(pq.Target("http://198.18.0.10:9090"), "up", deadline=1)
    assert res == {"ok": False, "seconds": None, "outcome": "unreachable", "http_status": None, "error_type": None,
                   "error": "connect timed out after 1s", "result_type": None, "series_count": None, "warnings": [],
                   "data": None}


def test_only_the_tls_servers_words_make_a_plain_400_a_tls_error(shaped):
    """Bugs: any plain-text 400 taken for plain HTTP sent to a TLS port; the marker looked for in another
    length of the answer than its first 4096 bytes; the advice garbled."""
    res = pq.query_once(shaped, "text400:0", deadline=10)
    assert res["outcome"] == "bad_query"
    res = pq.query_once(shaped, "text400:4096", deadline=10)
    assert (res["outcome"], res["error"]) == ("tls_error", "the server speaks TLS on this port: use an https:// url")
    assert pq.query_once(shaped, "text400:4097", deadline=10)["outcome"] == "bad_query"


def test_build_info_takes_the_version_from_a_200_answer_only(shaped):
    """Bug: the version read from an answer with an error status."""
    base = "http://%s:%d" % (shaped.host, shaped.port)
    assert pq.build_info(pq.Target(base + "/200")) == "9.9.9"
    assert pq.build_info(pq.Target(base + "/503")) is None


def test_a_lookback_under_a_second_is_accepted():
    """Bug: the lookback required to be over 1 second rather than over 0."""
    assert pq.range_params(end="1000", lookback=0.5, step="1s") == {"step": "1s", "end": "1000", "start": "999.500"}


@pytest.mark.parametrize("lookback", [True, "60", 0, -1.0])
def test_a_lookback_that_is_not_a_positive_number_is_refused_by_name(lookback):
    """Bugs: a boolean or a string taken for a number of seconds (or a TypeError instead of the refusal); the
    message garbled."""
    with pytest.raises(pq.PromError) as err:
        pq.range_params(end="1000", lookback=lookback)
    assert str(err.value) == "lookback must be a positive number of seconds, got %r" % (lookback,)


def test_a_given_end_is_sent_as_given_and_start_computed_from_it():
    """Bugs: a given end dropped or renamed, or not read as a timestamp (start then refused)."""
    assert pq.range_params(end="1000", lookback=60, step="15s") == {"step": "15s", "end": "1000", "start": "940.000"}


def test_an_end_that_is_no_timestamp_needs_a_start():
    """Bug: the refusal's message garbled."""
    with pytest.raises(pq.PromError) as err:
        pq.range_params(end="now-1h")
    assert str(err.value) == "start is required when end ('now-1h') is not a Unix timestamp"
    assert pq.range_params(start="now-2h", end="now-1h") == {"step": None, "end": "now-1h", "start": "now-2h"}
