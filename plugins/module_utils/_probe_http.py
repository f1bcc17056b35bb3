# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP probe kinds: ``http``, ``prometheus``, ``kubernetes`` (standard library; PyYAML for YAML kubeconfigs).

Each request is one GET on a fresh connection within the probe's deadline; HTTPS always
verifies the certificate and the name (``tls_context``). ``http`` checks a URL's status;
``prometheus`` calls ``/-/ready`` and an instant query (``up``) and counts scrape targets up
and down; ``kubernetes`` calls ``/readyz?verbose`` (a failing ``[-]`` check is never up, even
under a 200), ``/livez`` and ``/version`` with a bearer token or a client certificate, taken
from the target or from a kubeconfig. Every token sent is added to ``ctx["secrets"]`` so that
``probe_one`` masks it in the result.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import ssl
import tempfile
from urllib.parse import urlencode

from ansible_collections.o2edge.perf.plugins.module_utils._probe import ProbeError, classify_error, tcp_connect
from ansible_collections.o2edge.perf.plugins.module_utils._services import (
    SCHEME_PORTS, UrlError, default_port, url_endpoint)

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - only kubeconfig files in YAML need it
    yaml = None
    HAS_YAML = False

MAX_BODY = 1024 * 1024


# --------------------------------------------------------------------------- TLS and one GET

def tls_context(ca_file=None, ca_data=None, cert_file=None, key_file=None, cert_data=None, key_data=None):
    """A verifying client context (system CAs unless a CA is given), with an optional client certificate."""
    try:
        ctx = ssl.create_default_context(cafile=ca_file, cadata=ca_data)
    except (OSError, ssl.SSLError) as exc:
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
            ctx.load_cert_chain(cf, kf)
        except (OSError, ssl.SSLError) as exc:
            raise ProbeError("auth", "cannot load the kubeconfig client certificate: %s" % exc)
        finally:
            for name in os.listdir(tmp):
                os.unlink(os.path.join(tmp, name))
            os.rmdir(tmp)
    elif cert_file:
        try:
            ctx.load_cert_chain(cert_file, key_file or None)
        except (OSError, ssl.SSLError) as exc:
            raise ProbeError("auth", "cannot load client certificate %s: %s" % (cert_file, exc))
    return ctx


def http_get(scheme, address, port, path, deadline, resolver, tls=None, server_name=None, headers=None):
    """One GET on a fresh connection; return (status, reason, headers dict, body bytes, connect_ms)."""
    sock, connect_ms = tcp_connect(address, port, deadline, resolver)
    try:
        if scheme == "https":
            sock.settimeout(deadline.left("the TLS handshake"))
            try:
                sock = tls.wrap_socket(sock, server_hostname=server_name or address)
            except Exception as exc:  # noqa: BLE001
                err = classify_error(exc, "TLS handshake with %s:%s" % (address, port))
                if err.state == "protocol":
                    err = ProbeError("tls", err.detail)
                raise err
        conn = http.client.HTTPConnection(address, port)
        conn.sock = sock
        try:
            sock.settimeout(deadline.left("sending GET %s" % path))
            conn.putrequest("GET", path, skip_accept_encoding=True)
            for k, v in (headers or {}).items():
                conn.putheader(k, v)
            conn.putheader("Connection", "close")
            conn.endheaders()
            sock.settimeout(deadline.left("the response to GET %s" % path))
            resp = conn.getresponse()
            sock.settimeout(deadline.left("reading the body of GET %s" % path))
            body = resp.read(MAX_BODY)
            return resp.status, resp.reason, dict((k.lower(), v) for k, v in resp.getheaders()), body, connect_ms
        except Exception as exc:  # noqa: BLE001 - ProbeErrors pass through classify_error unchanged
            raise classify_error(exc, "GET %s" % path)
        finally:
            conn.close()
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _http_state(status, reason, what, body=b"", info=None):
    """The ProbeError of an unexpected status: auth for 401/403, else http_status with the body's start."""
    if status in (401, 403):
        return ProbeError("auth", "%s: %d %s (credentials rejected or missing)" % (what, status, reason), info)
    text = body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
    return ProbeError("http_status", "%s: %d %s%s" % (what, status, reason, (": " + text) if text else ""), info)


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
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeError("auth", "cannot read kubeconfig %s: %s" % (path, exc))
    try:
        doc = json.loads(text)
    except ValueError:
        if not HAS_YAML:
            raise ProbeError("protocol", "kubeconfig %s is YAML and PyYAML is not installed" % path)
        try:
            doc = yaml.safe_load(text)
        except Exception as exc:  # noqa: BLE001
            # Only the problem and its place: PyYAML's full message quotes the document (and its tokens).
            mark = getattr(exc, "problem_mark", None)
            where = " at line %d, column %d" % (mark.line + 1, mark.column + 1) if mark is not None else ""
            raise ProbeError("protocol", "kubeconfig %s is not valid YAML%s: %s"
                             % (path, where, getattr(exc, "problem", None) or exc.__class__.__name__))
    if not isinstance(doc, dict):
        raise ProbeError("protocol", "kubeconfig %s is not a mapping" % path)

    def named(section, name):
        for item in doc.get(section) or []:
            if isinstance(item, dict) and item.get("name") == name:
                return item.get(section[:-1]) or {}
        raise ProbeError("protocol", "kubeconfig %s has no %s named %r" % (path, section[:-1], name))

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
        return p if os.path.isabs(p) else os.path.join(base, p)

    out = {"server": cluster["server"]}
    if cluster.get("certificate-authority-data"):
        out["ca_data"] = base64.b64decode(cluster["certificate-authority-data"]).decode("ascii")
    elif cluster.get("certificate-authority"):
        out["ca_file"] = rel(cluster["certificate-authority"])
    if cluster.get("tls-server-name"):
        out["tls_server_name"] = cluster["tls-server-name"]
    if user.get("token"):
        out["token"] = user["token"]
    elif user.get("tokenFile"):
        out["token_file"] = rel(user["tokenFile"])
    if user.get("client-certificate-data"):
        out["cert_data"] = base64.b64decode(user["client-certificate-data"])
        out["key_data"] = base64.b64decode(user.get("client-key-data") or b"")
    elif user.get("client-certificate"):
        out["cert_file"] = rel(user["client-certificate"])
        out["key_file"] = rel(user.get("client-key") or "")
    return out


def _read_secret(path, what):
    try:
        with open(path, "rb") as f:
            value = f.read().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeError("auth", "cannot read %s %s: %s" % (what, path, exc.__class__.__name__))
    if not value:
        raise ProbeError("auth", "%s %s is empty" % (what, path))
    return value


# --------------------------------------------------------------------------- kinds

def probe_http(target, deadline, ctx):
    scheme, address, port, path, query = _endpoint(target, ctx)
    tls = tls_context(target.get("ca_file")) if scheme == "https" else None
    full = path + ("?" + query if query else "")
    status, reason, headers, body, connect_ms = http_get(
        scheme, address, port, full, deadline, ctx["resolver"], tls, target.get("tls_server_name"),
        headers={"Accept": "application/json, */*"})
    expect = target.get("expect_status") or [200]
    info = {"connect_ms": connect_ms, "status": status, "content_type": headers.get("content-type"),
            "bytes": len(body)}
    if status not in expect:
        raise _http_state(status, reason, "GET %s (expected %s)" % (full, ", ".join(str(c) for c in expect)), body,
                          info)
    return "GET %s: %d %s" % (full, status, reason), info


def probe_prometheus(target, deadline, ctx):
    scheme, address, port, prefix, _q = _endpoint(target, ctx)
    tls = tls_context(target.get("ca_file")) if scheme == "https" else None
    sn = target.get("tls_server_name")
    status, reason, _h, body, connect_ms = http_get(scheme, address, port, _join(prefix, "/-/ready"),
                                                    deadline, ctx["resolver"], tls, sn)
    info = {"connect_ms": connect_ms}
    if status != 200:
        raise _http_state(status, reason, "GET /-/ready", body, info)
    query = target.get("query") or "up"
    qpath = _join(prefix, "/api/v1/query") + "?" + urlencode({"query": query})
    status, reason, _h, body, _c = http_get(scheme, address, port, qpath, deadline, ctx["resolver"], tls, sn,
                                            headers={"Accept": "application/json"})
    if status != 200:
        raise _http_state(status, reason, "instant query %s" % query, body, info)
    try:
        doc = json.loads(body.decode("utf-8"))
        if doc.get("status") != "success":
            raise ValueError("status %r" % doc.get("status"))
        result = doc["data"]["result"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProbeError("protocol", "instant query %s: not a Prometheus answer (%s)" % (query, exc), info)
    up = []
    down = []
    for series in result:
        metric = series.get("metric") or {}
        label = "%s/%s" % (metric.get("job", "?"), metric.get("instance", "?"))
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
    tls = tls_context(ca_file, kc.get("ca_data"), kc.get("cert_file"), kc.get("key_file"), kc.get("cert_data"),
                      kc.get("key_data"))
    server_name = kc.get("tls_server_name") or target.get("tls_server_name")
    return scheme, address, port, prefix, tls, server_name, token


def probe_kubernetes(target, deadline, ctx):
    scheme, address, port, prefix, tls, sn, token = _kubernetes_access(target, ctx)
    headers = {"Accept": "application/json, */*"}
    if token:
        headers["Authorization"] = "Bearer " + token

    def get(path):
        return http_get(scheme, address, port, _join(prefix, path), deadline, ctx["resolver"], tls, sn, headers)

    status, reason, _h, body, connect_ms = get("/readyz?verbose")
    info = {"connect_ms": connect_ms}
    if status in (401, 403):
        raise _http_state(status, reason, "GET /readyz", info=info)
    lines = body.decode("utf-8", "replace").splitlines()
    ok_checks = [ln[3:].rsplit(" ", 1)[0] for ln in lines if ln.startswith("[+]")]
    failing = [ln[3:].split(" ", 1)[0] for ln in lines if ln.startswith("[-]")]
    info.update(checks_ok=len(ok_checks), failing_checks=failing)
    if status != 200 or failing:  # a [-] check is a failure even when the server answers 200
        raise ProbeError("http_status", "GET /readyz: %d %s; failing checks: %s"
                         % (status, reason, ", ".join(failing) or "none listed"), info)
    status, reason, _h, body, _c = get("/livez")
    info["livez"] = status
    if status != 200:
        raise _http_state(status, reason, "GET /livez", body, info)
    status, reason, _h, body, _c = get("/version")
    if status != 200:
        raise _http_state(status, reason, "GET /version", body, info)
    try:
        version = json.loads(body.decode("utf-8"))["gitVersion"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProbeError("protocol", "GET /version: no gitVersion in the answer (%s)" % exc, info)
    info["version"] = version
    return "ready (%d checks ok), live, version %s" % (len(ok_checks), version), info
