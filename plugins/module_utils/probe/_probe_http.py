# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP probe kinds: ``http``, ``prometheus``, ``kubernetes`` (standard library; PyYAML for YAML kubeconfigs).

Each request is a GET within the probe's deadline; a probe's later GETs reuse its first one's
connection while the server keeps it open (``KeptConnection``, HTTP/1.1 keep-alive), else each
has a fresh connection. HTTPS always verifies the certificate and the name (``tls_context``). ``http`` checks a URL's status;
``prometheus`` calls ``/-/ready`` and an instant query (``up``) and counts scrape targets up
and down; ``kubernetes`` calls ``/readyz?verbose`` (a failing ``[-]`` check is never up, even
under a 200), ``/livez`` and ``/version`` with a bearer token or a client certificate, taken
from the target or from a kubeconfig. Every token sent is added to ``ctx["secrets"]`` so that
``probe_one`` masks it in the result.

Size: over 450 lines because it is one job, HTTP(S) as the probes speak it: the three kinds share
the request, the TLS context and its per-run cache (``TlsCache``: contexts built once, sessions
resumed only on the context, address, port and server name that made them), the kubeconfig reader
and the masking of what they send; split, each part would import the others.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import os
import re
import ssl
import tempfile
import threading
from urllib.parse import urlencode

from ansible_collections.o2edge.perf.plugins.module_utils import _safe_read, _yaml_bounds
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import (
    ProbeError, classify_error, shown_text, tcp_connect)
from ansible_collections.o2edge.perf.plugins.module_utils._services import (
    SCHEME_PORTS, UrlError, default_port, url_endpoint)

HAS_YAML = _yaml_bounds.HAS_YAML
# A kubeconfig or a token file bigger than this is refused, not read (real ones are a few kB).
MAX_KUBECONFIG = 1024 * 1024
MAX_TOKEN_FILE = 64 * 1024
MAX_KUBECONFIG_DEPTH = 16
# What of a server's answer may reach a message or the info: a few short names, never a long text.
MAX_BODY_QUOTE = 200
MAX_NAMES = 50
MAX_NAME = 100
_NAME_RE = re.compile(r"^[A-Za-z0-9_.@:/-]{1,63}$")

MAX_BODY = 1024 * 1024


# --------------------------------------------------------------------------- TLS and one GET

def tls_context(ca_file=None, ca_data=None, cert_file=None, key_file=None, cert_data=None, key_data=None):
    """A verifying client context (system CAs unless a CA is given), with an optional client certificate.

    The CA, certificate and key files are checked to be regular files first: ssl would block on a FIFO
    or read /dev/zero forever. An encrypted key is refused, never prompted for."""
    _regular(ca_file, "CA file", "tls")
    _regular(cert_file, "client certificate", "auth")
    _regular(key_file, "client key", "auth")
    try:
        ctx = ssl.create_default_context(cafile=ca_file, cadata=ca_data)
    except (OSError, ssl.SSLError, TypeError, ValueError) as exc:  # TypeError: CA data that is not ASCII text
        raise ProbeError("tls", "cannot load CA %s: %s" % (ca_file or "data", exc))
    ctx.check_hostname = True
    ctx.verify_mode = ssl.CERT_REQUIRED
    if cert_data:
        tmp = tempfile.mkdtemp(prefix="o2edge-probe-")
        try:
            cf = os.path.join(tmp, "c.pem")
            kf = os.path.join(tmp, "k.pem")
            for p, data in ((cf, cert_data), (kf, key_data)):
                fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "wb") as f:
                    f.write(data)
            ctx.load_cert_chain(cf, kf, password=_no_password)
        except (OSError, ssl.SSLError) as exc:
            raise ProbeError("auth", "cannot load the kubeconfig client certificate: %s" % exc)
        finally:
            for name in os.listdir(tmp):
                os.unlink(os.path.join(tmp, name))
            os.rmdir(tmp)
    elif cert_file:
        try:
            ctx.load_cert_chain(cert_file, key_file or None, password=_no_password)
        except (OSError, ssl.SSLError) as exc:
            raise ProbeError("auth", "cannot load client certificate %s: %s" % (cert_file, exc))
    return ctx


def _no_password():
    """An encrypted client key fails to load instead of OpenSSL prompting on a terminal (a hang)."""
    return b""


class TlsCache(object):
    """The verifying contexts of one run, each built once, and the TLS sessions they made.

    Loading a CA file costs about 1 ms of CPU a target (the system store ~80 ms), and a full
    handshake verifies the chain again: resuming the session of an earlier request cut a
    kubernetes target's prober CPU by a quarter to a third (300 targets on loopback against one
    TLS server). A session can only be resumed on the context that made it. A context is keyed by
    everything that defines it: each file's identity (path, device, inode, size, modification and
    change times), the CA data and the client certificate and key data (their SHA-256). A file
    changed while it was being loaded is not cached. A session is reused only on the context that made it (its verified
    chain belongs to that CA and client certificate), for the same address, port and server
    name: a target with another CA gets another context, never a session it did not verify.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._contexts = {}
        self._sessions = {}

    def context(self, ca_file=None, ca_data=None, cert_file=None, key_file=None, cert_data=None, key_data=None):
        """``tls_context(...)``, built once per distinct key; raises ProbeError as it does."""
        _regular(ca_file, "CA file", "tls")
        _regular(cert_file, "client certificate", "auth")
        _regular(key_file, "client key", "auth")
        key = self._key(ca_file, ca_data, cert_file, key_file, cert_data, key_data)
        with self._lock:
            found = self._contexts.get(key)
        if found is not None:
            return found
        ctx = tls_context(ca_file, ca_data, cert_file, key_file, cert_data, key_data)
        if key == self._key(ca_file, ca_data, cert_file, key_file, cert_data, key_data):
            with self._lock:
                ctx = self._contexts.setdefault(key, ctx)
        return ctx

    @staticmethod
    def _key(ca_file, ca_data, cert_file, key_file, cert_data, key_data):
        return (_file_id(ca_file), ca_data, _file_id(cert_file), _file_id(key_file), _digest(cert_data),
                _digest(key_data))

    def session(self, tls, address, port, server_name):
        with self._lock:
            return self._sessions.get((tls, address, port, server_name))

    def keep(self, tls, address, port, server_name, session):
        with self._lock:
            if len(self._sessions) < MAX_SESSIONS:
                self._sessions[(tls, address, port, server_name)] = session


# TLS sessions kept by one run (one per context, address, port and server name).
MAX_SESSIONS = 4096


def _file_id(path):
    if not path:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return (path, None)
    return (os.path.abspath(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def _digest(data):
    if not data:
        return None
    return hashlib.sha256(data if isinstance(data, bytes) else data.encode("utf-8")).hexdigest()


def _tls(ctx, ca_file=None, **kw):
    """The run's context for these settings (``ctx["tls"]``, a TlsCache, when the run has one)."""
    cache = ctx.get("tls")
    if cache is None:
        return tls_context(ca_file, **kw)
    return cache.context(ca_file, **kw)


def _regular(path, what, state):
    if not path:
        return
    try:
        _safe_read.check_regular(path, what)
    except _safe_read.FileReadError as exc:
        raise ProbeError(state, "cannot use %s" % exc)


class KeptConnection(object):
    """The connection the GETs of one probe share (HTTP/1.1 keep-alive).

    A kubernetes probe's three GETs and a prometheus probe's two go to the same server: the later
    ones reuse the first one's connection, and so its TCP and TLS handshakes, while the server keeps
    it open. A server that closes it (HTTP/1.0, ``Connection: close``, an answer not read to its
    end, a connection that ended while idle) makes the next GET open its own connection, as each did
    before. A socket is only reused for the same scheme, address, port, TLS context and server
    name it was opened for. ``close()`` ends a kept connection (the probe calls it when done).
    """

    def __init__(self):
        self._sock = None
        self._key = None

    def take(self, key):
        """The kept socket when it was opened for ``key`` (it is then no longer kept), else None."""
        sock, self._sock = self._sock, None
        if sock is not None and self._key != key:
            _close_quietly(sock)
            return None
        return sock

    def put(self, key, sock):
        """Keep ``sock`` (opened for ``key``) for the next GET; a socket kept before is closed."""
        self.close()
        self._sock, self._key = sock, key

    def close(self):
        sock, self._sock = self._sock, None
        if sock is not None:
            _close_quietly(sock)


def _close_quietly(sock):
    try:
        sock.close()
    except OSError:
        pass


class _Stale(Exception):
    """A kept connection ended before the server answered the GET sent on it: the GET is sent once
    more on a new connection (a GET changes nothing on the server)."""


# What a kept connection the server has closed meanwhile gives before any answer (http.client's
# RemoteDisconnected is a ConnectionResetError: the connection ended before the status line).
_STALE_ERRORS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, ssl.SSLEOFError,
                 ssl.SSLZeroReturnError)


def http_get(scheme, address, port, path, deadline, resolver, tls=None, server_name=None, headers=None, sessions=None,
             keep=None, last=True):
    """One GET; return (status, reason, headers dict, body bytes, connect_ms).

    Without ``keep`` the GET has a connection of its own and says ``Connection: close``. With
    ``keep`` (a ``KeptConnection``) it uses the connection kept there by an earlier GET of the same
    probe when there is one (``connect_ms`` is then None: nothing was connected), and, unless
    ``last``, leaves its own connection kept there when the server lets it be reused; the ``last``
    GET says ``Connection: close``. A kept connection the server closed before answering is not a
    failure: the GET is sent once more on a new connection, within the same deadline.
    With ``sessions`` (a TlsCache), the TLS session of an earlier GET on the same context, address,
    port and server name is offered for resumption, and this one's is kept."""
    name = server_name or address
    key = (scheme, address, port, tls, name)
    sock = keep.take(key) if keep is not None else None
    if sock is not None:
        try:
            return _exchange(sock, None, key, path, deadline, headers, sessions, keep, last)
        except _Stale:
            pass
    sock, connect_ms = tcp_connect(address, port, deadline, resolver)
    if scheme == "https":
        try:
            sock.settimeout(deadline.left("the TLS handshake"))
            session = sessions.session(tls, address, port, name) if sessions is not None else None
            sock = tls.wrap_socket(sock, server_hostname=name, session=session)
        except Exception as exc:  # noqa: BLE001
            _close_quietly(sock)
            err = classify_error(exc, "TLS handshake with %s:%s" % (address, port))
            if err.state == "protocol":
                err = ProbeError("tls", err.detail)
            raise err
    return _exchange(sock, connect_ms, key, path, deadline, headers, sessions, keep, last)


def _exchange(sock, connect_ms, key, path, deadline, headers, sessions, keep, last):
    """The GET of ``http_get`` on the connected ``sock`` (``connect_ms`` None: a kept connection, on which
    an end before the answer raises ``_Stale``); ``sock`` is closed or kept in ``keep`` when it returns."""
    scheme, address, port, tls, name = key
    reused = connect_ms is None
    kept = False
    conn = http.client.HTTPConnection(address, port)
    conn.auto_open = 0  # never a connection of http.client's own (no TLS, no deadline): only ``sock``
    conn.sock = sock
    try:
        answered = False
        try:
            sock.settimeout(deadline.left("sending GET %s" % path))
            conn.putrequest("GET", path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            if keep is None or last:
                conn.putheader("Connection", "close")
            conn.endheaders()
            sock.settimeout(deadline.left("the response to GET %s" % path))
            resp = conn.getresponse()
            answered = True
            if sessions is not None and scheme == "https" and not reused and not sock.session_reused:
                # Here, not after the body: TLS 1.3's ticket comes after the handshake (read by now), and
                # reading a "Connection: close" body to its end closes the TLS socket.
                session = sock.session
                if session is not None:
                    sessions.keep(tls, address, port, name, session)
            sock.settimeout(deadline.left("reading the body of GET %s" % path))
            body = resp.read(MAX_BODY)
            if keep is not None and not last and resp.isclosed() and not resp.will_close:
                keep.put(key, sock)
                kept = True
            return resp.status, resp.reason, dict((k.lower(), v) for k, v in resp.getheaders()), body, connect_ms
        except Exception as exc:  # noqa: BLE001 - ProbeErrors pass through classify_error unchanged
            if reused and not answered and isinstance(exc, _STALE_ERRORS):
                raise _Stale()
            raise classify_error(exc, "GET %s" % path)
        finally:
            if kept:
                conn.sock = None  # kept open for the next GET, not closed with this request
            conn.close()
    finally:
        if not kept:
            _close_quietly(sock)


def _http_state(status, reason, what, body=b"", info=None):
    """The ProbeError of an unexpected status: auth for 401/403, else http_status with the body's start."""
    if status in (401, 403):
        return ProbeError("auth", "%s: %d %s (credentials rejected or missing)" % (what, status, _name(reason)), info)
    return ProbeError("http_status", "%s: %d %s%s" % (what, status, _name(reason),
                                                      body_quote(body)), info)


def body_quote(body):
    """``": <the start of the body>"`` for a message (see ``shown_text``), or nothing for an empty body."""
    text = shown_text(body, MAX_BODY_QUOTE)
    if text.startswith("(not quoted"):
        return " (the body is %s" % text[1:]
    return ": " + text if text else ""


def _name(value):
    """A short name from a server's answer, cut to MAX_NAME printable characters."""
    return shown_text(value, MAX_NAME)


# --------------------------------------------------------------------------- where to connect

def _url(url, what):
    try:
        return url_endpoint(url)
    except UrlError as exc:
        raise ProbeError("protocol", "%s %s" % (what, exc))


def _endpoint(target, ctx):
    """(scheme, address, port, path prefix, query) of an HTTP(S) target: its url, else its address and port.

    Without a url the scheme is https for kubernetes (and whenever a ca_file is given), http otherwise.
    """
    if target.get("url"):
        scheme, address, port, path, query = _url(target["url"], "url")
    else:
        if not target.get("address"):
            raise ProbeError("protocol", "target %s has no url and no address" % target.get("site"))
        scheme = "https" if target["kind"] == "kubernetes" or target.get("ca_file") else "http"
        address, path, query = target["address"], "/", ""
        port = target.get("port") or default_port(target["kind"]) or SCHEME_PORTS[scheme]
    ctx["endpoint"] = (address, port)
    return scheme, address, port, path, query


def _join(prefix, path):
    return prefix.rstrip("/") + path


# --------------------------------------------------------------------------- kubeconfig

def read_kubeconfig(path, context_name=None):
    """dict(server, ca_file or ca_data, tls_server_name, token or token_file, cert_data/key_data or
    cert_file/key_file) of a kubeconfig's context (its current-context unless ``context_name``)."""
    try:
        text = _safe_read.read_text(path, MAX_KUBECONFIG, what="kubeconfig")
    except _safe_read.FileReadError as exc:
        raise ProbeError("auth", "cannot read %s" % exc)
    try:
        if HAS_YAML:  # YAML holds JSON: one bounded loader for both
            doc = _yaml_bounds.load_yaml(text, max_depth=MAX_KUBECONFIG_DEPTH, max_values=100000, max_aliases=100)
        else:
            try:
                doc = _yaml_bounds.load_json(text, max_depth=MAX_KUBECONFIG_DEPTH)
            except _yaml_bounds.YamlBoundsError as exc:
                if str(exc).startswith("is not valid JSON"):
                    raise ProbeError("protocol", "kubeconfig %s is YAML and PyYAML is not installed" % path)
                raise
    except _yaml_bounds.YamlBoundsError as exc:
        # Only the problem and its place, never the document's text.
        raise ProbeError("protocol", "kubeconfig %s %s" % (path, exc))
    if not isinstance(doc, dict):
        raise ProbeError("protocol", "kubeconfig %s is not a mapping" % path)

    def named(section, name):
        for item in doc.get(section) or []:
            if isinstance(item, dict) and item.get("name") == name:
                return item.get(section[:-1]) or {}
        shown = " %s" % name if isinstance(name, str) and _NAME_RE.match(name) else ""
        raise ProbeError("protocol", "kubeconfig %s has no %s named%s" % (path, section[:-1], shown or " so"))

    ctx_name = context_name or doc.get("current-context")
    if not ctx_name:
        raise ProbeError("protocol", "kubeconfig %s has no current-context; set context" % path)
    ctx = named("contexts", ctx_name)
    cluster = named("clusters", ctx.get("cluster"))
    user = named("users", ctx.get("user")) if ctx.get("user") else {}
    if user.get("exec") or user.get("auth-provider"):
        raise ProbeError("auth", "kubeconfig %s: exec and auth-provider credentials are not supported; "
                                 "use a token or a client certificate" % path)
    if not cluster.get("server"):
        raise ProbeError("protocol", "kubeconfig %s: cluster has no server" % path)
    base = os.path.dirname(os.path.abspath(path))

    def rel(p):
        if not isinstance(p, str):
            raise ProbeError("protocol", "kubeconfig %s: a file path is not a string" % path)
        return p if os.path.isabs(p) else os.path.join(base, p)

    out = {"server": cluster["server"]}
    if not isinstance(out["server"], str):
        raise ProbeError("protocol", "kubeconfig %s: the cluster's server is not a URL" % path)
    if cluster.get("certificate-authority-data"):
        out["ca_data"] = _b64(cluster["certificate-authority-data"], path, "certificate-authority-data").decode(
            "ascii", "replace")
    elif cluster.get("certificate-authority"):
        out["ca_file"] = rel(cluster["certificate-authority"])
    if cluster.get("tls-server-name"):
        out["tls_server_name"] = cluster["tls-server-name"]
    if user.get("token"):
        if not isinstance(user["token"], str):
            raise ProbeError("auth", "kubeconfig %s: the user's token is not a string" % path)
        out["token"] = user["token"]
    elif user.get("tokenFile"):
        out["token_file"] = rel(user["tokenFile"])
    if user.get("client-certificate-data"):  # kubectl too refuses a certificate without its key
        if not user.get("client-key-data"):
            raise ProbeError("auth", "kubeconfig %s: client-certificate-data without client-key-data" % path)
        out["cert_data"] = _b64(user["client-certificate-data"], path, "client-certificate-data")
        out["key_data"] = _b64(user["client-key-data"], path, "client-key-data")
    elif user.get("client-certificate"):
        if not user.get("client-key"):
            raise ProbeError("auth", "kubeconfig %s: client-certificate without client-key" % path)
        out["cert_file"] = rel(user["client-certificate"])
        out["key_file"] = rel(user["client-key"])
    return out


def _b64(value, path, field):
    """base64 of a kubeconfig field; a broken one is a clear error, not a traceback (content never quoted)."""
    if isinstance(value, str):
        try:
            return base64.b64decode(re.sub(r"\s+", "", value), validate=True)
        except ValueError:
            pass
    raise ProbeError("protocol", "kubeconfig %s: %s is not base64" % (path, field))


def _read_secret(path, what):
    try:
        value = _safe_read.read_text(path, MAX_TOKEN_FILE, what=what).strip()
    except _safe_read.FileReadError as exc:
        raise ProbeError("auth", "cannot read %s" % exc)
    if not value:
        raise ProbeError("auth", "%s %s is empty" % (what, path))
    return value


# --------------------------------------------------------------------------- kinds

def probe_http(target, deadline, ctx):
    scheme, address, port, path, query = _endpoint(target, ctx)
    tls = _tls(ctx, target.get("ca_file")) if scheme == "https" else None
    full = path + ("?" + query if query else "")
    status, reason, headers, body, connect_ms = http_get(
        scheme, address, port, full, deadline, ctx["resolver"], tls, target.get("tls_server_name"),
        headers={"Accept": "application/json, */*"}, sessions=ctx.get("tls"))
    expect = target.get("expect_status") or [200]
    info = {"connect_ms": connect_ms, "status": status, "content_type": headers.get("content-type"),
            "bytes": len(body)}
    if status not in expect:
        raise _http_state(status, reason, "GET %s (expected %s)" % (full, ", ".join(str(c) for c in expect)), body,
                          info)
    return "GET %s: %d %s" % (full, status, _name(reason)), info


def probe_prometheus(target, deadline, ctx):
    scheme, address, port, prefix, _q = _endpoint(target, ctx)
    tls = _tls(ctx, target.get("ca_file")) if scheme == "https" else None
    sn = target.get("tls_server_name")
    keep = KeptConnection()

    def get(path, headers=None, last=False):
        return http_get(scheme, address, port, path, deadline, ctx["resolver"], tls, sn, headers=headers,
                        sessions=ctx.get("tls"), keep=keep, last=last)
    try:
        return _prometheus(get, prefix, target.get("query") or "up")
    finally:
        keep.close()


def _prometheus(get, prefix, query):
    """``probe_prometheus`` once its endpoint is known: ``get(path, headers, last)`` makes each GET (on one kept
    connection)."""
    status, reason, _h, body, connect_ms = get(_join(prefix, "/-/ready"))
    info = {"connect_ms": connect_ms}
    if status != 200:
        raise _http_state(status, reason, "GET /-/ready", body, info)
    qpath = _join(prefix, "/api/v1/query") + "?" + urlencode({"query": query})
    status, reason, _h, body, _c = get(qpath, {"Accept": "application/json"}, last=True)
    if status != 200:
        raise _http_state(status, reason, "instant query %s" % query, body, info)
    try:
        doc = _yaml_bounds.load_json(body, max_depth=MAX_KUBECONFIG_DEPTH)
        if doc.get("status") != "success":
            raise ValueError("status %s" % _name(doc.get("status")))
        result = doc["data"]["result"]
        if not isinstance(result, list):
            raise TypeError("data.result is not a list")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        problem = str(exc) if isinstance(exc, (ValueError, TypeError)) else "no %s" % _name(exc.args[0])
        raise ProbeError("protocol", "instant query %s: not a Prometheus answer (%s)" % (query, shown_text(problem)),
                         info)
    up = []
    down = []
    for series in result:
        metric = (series.get("metric") if isinstance(series, dict) else None) or {}
        if not isinstance(metric, dict):
            metric = {}
        label = "%s/%s" % (_name(metric.get("job", "?")), _name(metric.get("instance", "?")))
        try:
            value = float(series["value"][1])
        except (KeyError, IndexError, TypeError, ValueError):
            value = 0.0
        (up if value == 1.0 else down).append(label)
    info.update(query=query, targets_up=len(up), targets_down=len(down), down=sorted(down)[:50])
    detail = "ready; %s: %d targets up, %d down" % (query, len(up), len(down))
    if down:
        detail += " (%s)" % ", ".join(sorted(down)[:5])
    return detail, info


def _kubernetes_access(target, ctx):
    """(scheme, address, port, prefix, tls context, server name, token) of a kubernetes target.

    A kubeconfig, when given, is read first: its server, CA and credentials win over the
    target's address, url and CA; the target's token (or token_file) is used when the
    kubeconfig has none.
    """
    kc = {}
    if target.get("kubeconfig"):
        kc = read_kubeconfig(target["kubeconfig"], target.get("context"))
        scheme, address, port, prefix, _q = _url(kc["server"], "kubeconfig %s: server" % target["kubeconfig"])
        ctx["endpoint"] = (address, port)
    else:
        scheme, address, port, prefix, _q = _endpoint(target, ctx)
    if scheme != "https":
        raise ProbeError("protocol", "the Kubernetes API must be reached over https, got %s" % scheme)
    token = target.get("token") or kc.get("token")
    if not token and kc.get("token_file"):
        token = _read_secret(kc["token_file"], "kubeconfig tokenFile")
    if not token and target.get("token_file"):
        token = _read_secret(target["token_file"], "token_file")
    if token:
        ctx["secrets"].add(token)
    ca_file = kc.get("ca_file") or (None if kc.get("ca_data") else target.get("ca_file"))
    tls = _tls(ctx, ca_file, ca_data=kc.get("ca_data"), cert_file=kc.get("cert_file"), key_file=kc.get("key_file"),
               cert_data=kc.get("cert_data"), key_data=kc.get("key_data"))
    server_name = kc.get("tls_server_name") or target.get("tls_server_name")
    return scheme, address, port, prefix, tls, server_name, token


def probe_kubernetes(target, deadline, ctx):
    scheme, address, port, prefix, tls, sn, token = _kubernetes_access(target, ctx)
    headers = {"Accept": "application/json, */*"}
    if token:
        headers["Authorization"] = "Bearer " + token

    keep = KeptConnection()

    def get(path, last=False):
        return http_get(scheme, address, port, _join(prefix, path), deadline, ctx["resolver"], tls, sn, headers,
                        sessions=ctx.get("tls"), keep=keep, last=last)
    try:
        return _kubernetes(get)
    finally:
        keep.close()


def _kubernetes(get):
    """``probe_kubernetes`` once its access is known: ``get(path, last)`` makes each GET (on one kept connection)."""
    status, reason, _h, body, connect_ms = get("/readyz?verbose")
    info = {"connect_ms": connect_ms}
    if status in (401, 403):
        raise _http_state(status, reason, "GET /readyz", info=info)
    lines = body.decode("utf-8", "replace").splitlines()
    ok_checks = [ln for ln in lines if ln.startswith("[+]")]
    failing = [_name(ln[3:].split(" ", 1)[0]) for ln in lines if ln.startswith("[-]")]
    if len(failing) > MAX_NAMES:
        failing = failing[:MAX_NAMES] + ["(%d more)" % (len(failing) - MAX_NAMES)]
    info.update(checks_ok=len(ok_checks), failing_checks=failing)
    if status != 200 or failing:  # a [-] check is a failure even when the server answers 200
        raise ProbeError("http_status", "GET /readyz: %d %s; failing checks: %s"
                         % (status, _name(reason), ", ".join(failing) or "none listed"), info)
    status, reason, _h, body, _c = get("/livez")
    info["livez"] = status
    if status != 200:
        raise _http_state(status, reason, "GET /livez", body, info)
    status, reason, _h, body, _c = get("/version", last=True)
    if status != 200:
        raise _http_state(status, reason, "GET /version", body, info)
    try:
        version = _yaml_bounds.load_json(body, max_depth=MAX_KUBECONFIG_DEPTH)["gitVersion"]
        if not isinstance(version, str):
            raise TypeError("gitVersion is not a string")
        version = _name(version)
    except (ValueError, KeyError, TypeError) as exc:
        problem = "no gitVersion" if isinstance(exc, KeyError) else str(exc)
        raise ProbeError("protocol", "GET /version: no gitVersion in the answer (%s)" % shown_text(problem), info)
    info["version"] = version
    return "ready (%d checks ok), live, version %s" % (len(ok_checks), version), info
