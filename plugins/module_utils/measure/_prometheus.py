# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus HTTP API queries, timed, with every outcome told apart.

The query is sent form-encoded in a POST body (``application/x-www-form-urlencoded``), so
brackets, braces, quotes and spaces reach the server intact. Each run opens its own
connection (as a fresh client would) and is timed from connect to the last byte of the body.

Outcomes (``OUTCOMES``):

* ``success``        HTTP 2xx and ``status: success``
* ``server_timeout`` ``errorType: timeout`` (HTTP 503): the server-side ``timeout`` expired
* ``bad_query``      HTTP 400 / ``errorType: bad_data`` (parse error, bad parameter)
* ``unreachable``    no connection (refused, no route, DNS failure, connect timed out)
* ``tls_error``      TLS handshake or certificate verification failed, or plain http was sent to
                     a TLS port (the server's HTTP 400 saying so)
* ``client_timeout`` connected, but the client deadline expired before the whole answer came
* ``http_error``     any other HTTP status (401, 403, 404, 422, 5xx ...) or errorType
* ``not_success``    HTTP 2xx but not ``status: success`` (or not the API's JSON)
"""

from __future__ import annotations

import base64
import json
import socket
import ssl
import threading
import time
from http.client import HTTPConnection, HTTPException, HTTPSConnection
from urllib.parse import urlencode, urlsplit

from ansible_collections.o2edge.perf.plugins.module_utils import _safe_read
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import shown_text
from ansible_collections.o2edge.perf.plugins.module_utils._services import UrlError, url_endpoint

# What of a server's error text reaches the result: printable, bounded, never secret-looking.
MAX_ERROR_TEXT = 500

OUTCOMES = ("success", "server_timeout", "bad_query", "unreachable", "tls_error", "client_timeout",
            "http_error", "not_success")
MAX_BODY = 256 * 1024 * 1024
USER_AGENT = "o2edge.perf-prometheus_query/1"
DEFAULT_LOOKBACK = 3600.0
# What servers answer, with HTTP 400, to plain HTTP on a TLS port: Go's net/http (Prometheus and
# most exporters), nginx.
PLAIN_HTTP_TO_TLS = (b"Client sent an HTTP request to an HTTPS server", b"The plain HTTP request was sent to HTTPS port")


class PromError(Exception):
    """Bad input: the message names the field and value."""


def _shown(url):
    """``url`` as it may appear in a message: any ``user:password@`` is replaced by ``***@``."""
    scheme, sep, rest = url.strip().partition("://")
    if not sep:
        return url.strip()
    netloc, slash, path = rest.partition("/")
    if "@" in netloc:
        netloc = "***@" + netloc.rpartition("@")[2]
    return scheme + sep + netloc + slash + path


def parse_url(url):
    """(scheme, host, port, base_path) of a Prometheus base URL; PromError when malformed.

    The checks every service URL shares (scheme, host, port, white space, no embedded
    credentials) are ``_services.url_endpoint``'s; a Prometheus base URL also has no query or
    fragment (the API paths are appended to it).
    """
    try:
        scheme, host, port, path, query = url_endpoint(url)
    except UrlError as exc:
        if not isinstance(url, str) or not url.strip():
            raise PromError("url is empty")
        raise PromError("url %r %s" % (_shown(url), exc))
    if query or urlsplit(url.strip()).fragment:
        raise PromError("url %r is malformed: give the server's base URL without query or fragment" % _shown(url))
    return scheme, host, port, path.rstrip("/")


def safe_url(url):
    """The URL as shown in records (credentials refused earlier, so it is the URL itself)."""
    return url.strip().rstrip("/")


def auth_headers(bearer_token=None, username=None, password=None):
    headers = {}
    if bearer_token:
        headers["Authorization"] = "Bearer %s" % bearer_token
    elif username is not None:
        raw = ("%s:%s" % (username, password or "")).encode("utf-8")
        headers["Authorization"] = "Basic %s" % base64.b64encode(raw).decode("ascii")
    return headers


def ssl_context(ca_file=None, validate_certs=True):
    """A client context; ``ca_file`` must be a regular file (ssl would block on a FIFO or read /dev/zero)."""
    if ca_file:
        try:
            _safe_read.check_regular(ca_file, "ca_file")
            ctx = ssl.create_default_context(cafile=ca_file)
        except _safe_read.FileReadError as exc:
            raise PromError(str(exc))
        except (OSError, ssl.SSLError) as exc:
            raise PromError("ca_file %s cannot be loaded: %s" % (ca_file, getattr(exc, "reason", None)
                                                                 or exc.__class__.__name__))
    else:
        ctx = ssl.create_default_context()
    if not validate_certs:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def classify(http_status, payload):
    """Outcome, errorType and error text for an HTTP status and the decoded JSON (or None)."""
    error_type = payload.get("errorType") if isinstance(payload, dict) else None
    error = payload.get("error") if isinstance(payload, dict) else None
    status = payload.get("status") if isinstance(payload, dict) else None
    # The server's words: bounded, printable, and not quoted when they look like a secret.
    error_type = shown_text(error_type, 63) if error_type is not None else None
    error = shown_text(error, MAX_ERROR_TEXT) if error is not None else None
    if error_type == "timeout":
        return "server_timeout", error_type, error or "server-side timeout"
    if http_status == 400 or error_type == "bad_data":
        return "bad_query", error_type, error or "HTTP 400"
    if not 200 <= http_status < 300:
        return "http_error", error_type, error or "HTTP %d" % http_status
    if payload is None:
        return "not_success", None, "the answer is not the Prometheus API's JSON"
    if status != "success":
        return "not_success", error_type, error or "status %s" % shown_text(repr(status), 63)
    return "success", None, None


def series_info(payload):
    """(result_type, series_count) of a successful answer; count is None for scalar/string."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, dict):
        return None, None
    rtype = data.get("resultType")
    result = data.get("result")
    if rtype in ("vector", "matrix") and isinstance(result, list):
        return rtype, len(result)
    return rtype, None


class Target(object):
    def __init__(self, url, headers=None, ca_file=None, validate_certs=True):
        self.url = url
        self.scheme, self.host, self.port, self.base = parse_url(url)
        self.headers = dict(headers or {})
        self.ctx = ssl_context(ca_file, validate_certs) if self.scheme == "https" else None


def request(target, method, path, form=None, deadline=30.0):
    """One HTTP exchange within ``deadline`` seconds.

    Returns dict: phase_ok, seconds, http_status, body (bytes), outcome (set only on transport
    failure), error.
    """
    out = {"seconds": None, "http_status": None, "body": None, "outcome": None, "error": None}
    body = urlencode(form or {}).encode("ascii") if form is not None else None
    headers = {"Accept": "application/json", "User-Agent": USER_AGENT}
    headers.update(target.headers)
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    start = time.monotonic()
    end = start + deadline
    if target.scheme == "https":
        conn = HTTPSConnection(target.host, target.port, timeout=deadline, context=target.ctx)
    else:
        conn = HTTPConnection(target.host, target.port, timeout=deadline)
    try:
        try:
            conn.connect()
        except ssl.SSLError as exc:
            out["outcome"], out["error"] = "tls_error", "TLS failed: %s" % exc
            return out
        except socket.timeout:
            out["outcome"], out["error"] = "unreachable", "connect timed out after %ss" % deadline
            return out
        except socket.gaierror as exc:
            out["outcome"], out["error"] = "unreachable", "cannot resolve %s: %s" % (target.host, exc)
            return out
        except OSError as exc:
            out["outcome"], out["error"] = "unreachable", "cannot connect to %s:%s: %s" % (
                target.host, target.port, exc.strerror or exc)
            return out
        # Every socket read waits at most what is left, but a server trickling its answer (a byte
        # per read) would restart that wait on each read: at the deadline the socket is shut down,
        # which ends any read at once, and the exchange is a client_timeout whatever it returned.
        expired = []
        timer = threading.Timer(max(end - time.monotonic(), 0.0), _expire, (conn.sock, expired))
        timer.daemon = True
        timer.start()
        try:
            conn.sock.settimeout(max(end - time.monotonic(), 0.001))
            conn.request(method, target.base + path, body=body, headers=headers)
            resp = conn.getresponse()
            chunks = []
            size = 0
            while True:
                remaining = end - time.monotonic()
                if remaining <= 0 or expired:
                    raise socket.timeout("deadline")
                if conn.sock is not None:
                    conn.sock.settimeout(remaining)
                chunk = resp.read1(65536)  # what one read brings, not a loop until 64 KiB
                if not chunk:
                    break
                size += len(chunk)
                if size > MAX_BODY:
                    raise HTTPException("answer larger than %d bytes" % MAX_BODY)
                chunks.append(chunk)
            if expired:
                raise socket.timeout("deadline")
            out["seconds"] = time.monotonic() - start
            out["http_status"] = resp.status
            out["body"] = b"".join(chunks)
        except socket.timeout:
            _client_timeout(out, start, deadline)
        except ssl.SSLError as exc:
            if expired:
                _client_timeout(out, start, deadline)
            else:
                out["outcome"], out["error"] = "tls_error", "TLS failed: %s" % exc
        except (HTTPException, OSError) as exc:
            if expired:
                _client_timeout(out, start, deadline)
            else:
                out["seconds"] = time.monotonic() - start
                out["outcome"] = "http_error"
                out["error"] = "HTTP exchange failed: %s" % (shown_text(exc) or type(exc).__name__)
        finally:
            timer.cancel()
        return out
    finally:
        conn.close()


def _expire(sock, expired):
    """The deadline timer: mark the exchange expired and end any read in progress."""
    expired.append(True)
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _client_timeout(out, start, deadline):
    out["seconds"] = time.monotonic() - start
    out["outcome"] = "client_timeout"
    out["error"] = "no complete answer within the client deadline of %ss" % deadline


def query_once(target, query, query_type="instant", params=None, deadline=30.0):
    """One timed query; returns ok, seconds, outcome, http_status, error_type, error, result info."""
    form = {"query": query}
    for key, value in (params or {}).items():
        if value is not None:
            form[key] = value
    path = "/api/v1/query_range" if query_type == "range" else "/api/v1/query"
    raw = request(target, "POST", path, form, deadline)
    res = {"ok": False, "seconds": raw["seconds"], "outcome": raw["outcome"], "http_status": raw["http_status"],
           "error_type": None, "error": raw["error"], "result_type": None, "series_count": None,
           "warnings": [], "data": None}
    if raw["outcome"]:
        return res
    payload = None
    try:
        payload = json.loads(raw["body"].decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        payload = None
    outcome, error_type, error = classify(raw["http_status"], payload)
    if raw["http_status"] == 400 and payload is None and any(m in raw["body"][:4096] for m in PLAIN_HTTP_TO_TLS):
        outcome, error = "tls_error", "the server speaks TLS on this port: use an https:// url"
    res.update(outcome=outcome, error_type=error_type, error=error)
    if isinstance(payload, dict):
        res["warnings"] = payload.get("warnings") or []
    if outcome == "success":
        res["ok"] = True
        res["result_type"], res["series_count"] = series_info(payload)
        res["data"] = payload.get("data")
    return res


def build_info(target, deadline=5.0):
    """Prometheus version from /api/v1/status/buildinfo, or None."""
    raw = request(target, "GET", "/api/v1/status/buildinfo", None, deadline)
    if raw["outcome"] or raw["http_status"] != 200:
        return None
    try:
        payload = json.loads(raw["body"].decode("utf-8"))
        return payload["data"]["version"]
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None


def range_params(start=None, end=None, step=None, lookback=None, now=None):
    """Form parameters of a range query; ``lookback`` seconds before ``end`` (default now).

    ``lookback`` None means ``DEFAULT_LOOKBACK`` (one hour); zero, a negative number or NaN is
    refused (PromError): a range query that starts where it ends is no lookback at all.
    """
    if lookback is None:
        lookback = DEFAULT_LOOKBACK
    elif isinstance(lookback, bool) or not isinstance(lookback, (int, float)) or not lookback > 0:
        raise PromError("lookback must be a positive number of seconds, got %r" % (lookback,))
    now = time.time() if now is None else now
    params = {"step": step}
    if end is None:
        end_value = now
        params["end"] = "%.3f" % now
    else:
        params["end"] = end
        try:
            end_value = float(end)
        except ValueError:
            end_value = None
    if start is not None:
        params["start"] = start
    else:
        if end_value is None:
            raise PromError("start is required when end (%r) is not a Unix timestamp" % (end,))
        params["start"] = "%.3f" % (end_value - lookback)
    return params
