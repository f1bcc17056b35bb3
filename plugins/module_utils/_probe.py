# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent service probes with exact failure states (standard library only).

Every target is probed in a thread of a bounded pool; each has its own connect timeout and
total deadline. A result says which of a fixed vocabulary of states the target is in:

    up, refused, timeout, unreachable, dns, tls, auth, http_status, host_key_mismatch, protocol

Kinds: ``tcp`` (connect), ``ssh`` (banner, host key fetched with ssh-keyscan and compared
with the pin or the known_hosts entry of the site's alias, optional BatchMode login),
``http`` (expected status), ``prometheus`` (``/-/ready`` and the instant query ``up``),
``kubernetes`` (``/readyz?verbose``, ``/livez``, ``/version`` with CA verification and a
bearer token). Tokens are never put into a result.
"""

from __future__ import annotations

import base64
import errno
import fnmatch
import hashlib
import hmac
import http.client
import json
import math
import os
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - only kubeconfig files in YAML need it
    yaml = None
    HAS_YAML = False

STATES = ("up", "refused", "timeout", "unreachable", "dns", "tls", "auth", "http_status",
          "host_key_mismatch", "protocol")
KINDS = ("tcp", "ssh", "http", "prometheus", "kubernetes")
MAX_BODY = 1024 * 1024
KEYSCAN_TYPES = {
    "ssh-ed25519": "ed25519", "ssh-rsa": "rsa", "ssh-dss": "dsa",
    "ecdsa-sha2-nistp256": "ecdsa", "ecdsa-sha2-nistp384": "ecdsa", "ecdsa-sha2-nistp521": "ecdsa",
    "sk-ssh-ed25519@openssh.com": "ed25519-sk", "sk-ecdsa-sha2-nistp256@openssh.com": "ecdsa-sk",
}
_UNREACHABLE = (errno.ENETUNREACH, errno.EHOSTUNREACH, getattr(errno, "EHOSTDOWN", -1),
                getattr(errno, "ENONET", -1), errno.EADDRNOTAVAIL)
_REFUSED = (errno.ECONNREFUSED,)
_RESET = (errno.ECONNRESET, errno.EPIPE, getattr(errno, "ECONNABORTED", -1))


class ProbeError(Exception):
    """A probe ended in ``state`` (one of STATES) with a human ``detail``."""

    def __init__(self, state, detail):
        if state not in STATES:
            raise ValueError("unknown probe state %r" % (state,))
        super(ProbeError, self).__init__(detail)
        self.state = state
        self.detail = detail


class Deadline(object):
    def __init__(self, total, connect):
        self.start = time.monotonic()
        self.total = float(total)
        self.connect = float(connect)

    def remaining(self):
        return self.total - (time.monotonic() - self.start)

    def left(self, what):
        """Seconds left, or a timeout ProbeError naming what was being done."""
        rem = self.remaining()
        if rem <= 0:
            raise ProbeError("timeout", "deadline of %gs passed before %s" % (self.total, what))
        return rem

    def elapsed_ms(self):
        return round((time.monotonic() - self.start) * 1000.0, 1)


# --------------------------------------------------------------------------- name resolution

class Resolver(object):
    """getaddrinfo with a per-run cache; IP literals never touch DNS."""

    def __init__(self):
        self._cache = {}
        self._lock = threading.Lock()

    def __call__(self, host):
        for family in (socket.AF_INET, socket.AF_INET6):
            try:
                socket.inet_pton(family, host)
                return [(family, host)]
            except (OSError, ValueError):
                pass
        with self._lock:
            if host in self._cache:
                return self._cache[host]
        try:
            infos = socket.getaddrinfo(host, None, 0, socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise ProbeError("dns", "cannot resolve %s: %s" % (host, exc.strerror or exc))
        out = []
        for family, _t, _p, _c, sockaddr in infos:
            if (family, sockaddr[0]) not in out:
                out.append((family, sockaddr[0]))
        if not out:
            raise ProbeError("dns", "cannot resolve %s: no address" % host)
        with self._lock:
            self._cache[host] = out
        return out


def classify_error(exc, what="connect"):
    """Map a socket-level exception to a ProbeError."""
    if isinstance(exc, ProbeError):
        return exc
    if isinstance(exc, socket.gaierror):
        return ProbeError("dns", "%s: cannot resolve: %s" % (what, exc))
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return ProbeError("timeout", "%s: timed out" % what)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ProbeError("tls", "%s: certificate verification failed: %s" % (what, exc.verify_message or exc))
    if isinstance(exc, ssl.SSLError):
        return ProbeError("tls", "%s: TLS error: %s" % (what, getattr(exc, "reason", None) or exc))
    if isinstance(exc, OSError):
        code = exc.errno
        text = exc.strerror or str(exc)
        if code in _REFUSED:
            return ProbeError("refused", "%s: connection refused" % what)
        if code in _UNREACHABLE:
            return ProbeError("unreachable", "%s: %s" % (what, text))
        if code == errno.ETIMEDOUT:
            return ProbeError("timeout", "%s: timed out (%s)" % (what, text))
        if code in _RESET:
            return ProbeError("protocol", "%s: connection reset by peer" % what)
        return ProbeError("protocol", "%s: %s" % (what, text))
    if isinstance(exc, http.client.HTTPException):
        return ProbeError("protocol", "%s: malformed HTTP response: %s" % (what, exc.__class__.__name__))
    return ProbeError("protocol", "%s: %s: %s" % (what, exc.__class__.__name__, exc))


def tcp_connect(address, port, deadline, resolver):
    """Connect to address:port (trying each resolved address); return (socket, connect_ms)."""
    addrs = resolver(address)
    first = None
    for family, host in addrs:
        rem = deadline.left("connecting to %s:%s" % (address, port))
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(min(deadline.connect, rem))
        t0 = time.monotonic()
        try:
            sock.connect((host, port))
            return sock, round((time.monotonic() - t0) * 1000.0, 1)
        except Exception as exc:  # noqa: BLE001 - classified below
            sock.close()
            err = classify_error(exc, "connect to %s port %s" % (host, port))
            if err.state == "timeout":
                err = ProbeError("timeout", "connect to %s port %s: no answer within %gs"
                                 % (host, port, min(deadline.connect, rem)))
            if first is None or (first.state != "refused" and err.state == "refused"):
                first = err
    raise first or ProbeError("dns", "no address for %s" % address)


# --------------------------------------------------------------------------- TLS and HTTP

def _kubeconfig(path, context_name=None):
    """Return dict(server, ca_file or ca_data, token, cert_data/cert_file, key_...) from a kubeconfig."""
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
            raise ProbeError("protocol", "kubeconfig %s is not valid YAML: %s" % (path, exc))
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
    base = os.path.dirname(os.path.abspath(path))

    def rel(p):
        return p if os.path.isabs(p) else os.path.join(base, p)

    out = {"server": cluster.get("server")}
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
    if user.get("exec") or user.get("auth-provider"):
        raise ProbeError("auth", "kubeconfig %s: exec and auth-provider credentials are not supported; "
                                 "use a token or a client certificate" % path)
    if not out["server"]:
        raise ProbeError("protocol", "kubeconfig %s: cluster has no server" % path)
    return out


def tls_context(ca_file=None, ca_data=None, cert_file=None, key_file=None, cert_data=None, key_data=None):
    """A verifying client context (system CAs unless a CA is given)."""
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


def http_get(scheme, address, port, path, deadline, resolver, tls=None, server_name=None, headers=None,
             host_header=None):
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
        conn = http.client.HTTPConnection(host_header or address, port)
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
        except ProbeError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise classify_error(exc, "GET %s" % path)
        finally:
            conn.close()
    finally:
        try:
            sock.close()
        except OSError:
            pass


def _read_secret(path, what):
    try:
        with open(path, "rb") as f:
            value = f.read().decode("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise ProbeError("auth", "cannot read %s %s: %s" % (what, path, exc.__class__.__name__))
    if not value:
        raise ProbeError("auth", "%s %s is empty" % (what, path))
    return value


def _base(target):
    """(scheme, address, port, path prefix, query) of an HTTP(S) target."""
    url = target.get("url")
    if url:
        parts = urlsplit(url)
        scheme = parts.scheme
        port = parts.port or (443 if scheme == "https" else 80)
        return scheme, parts.hostname, port, parts.path or "/", parts.query
    scheme = "https" if target["kind"] == "kubernetes" else ("https" if target.get("ca_file") else "http")
    return scheme, target["address"], target["port"], "/", ""


def _join(prefix, path):
    return prefix.rstrip("/") + path


def _http_state(status, reason, what, body=b""):
    if status in (401, 403):
        return ProbeError("auth", "%s: %d %s (credentials rejected or missing)" % (what, status, reason))
    text = body[:200].decode("utf-8", "replace").strip().replace("\n", " ")
    return ProbeError("http_status", "%s: %d %s%s" % (what, status, reason, (": " + text) if text else ""))


# --------------------------------------------------------------------------- kinds

def probe_tcp(target, deadline, ctx):
    sock, connect_ms = tcp_connect(target["address"], target["port"], deadline, ctx["resolver"])
    sock.close()
    return "connected", {"connect_ms": connect_ms}


def probe_http(target, deadline, ctx):
    scheme, address, port, path, query = _base(target)
    tls = None
    if scheme == "https":
        tls = tls_context(target.get("ca_file"))
    full = path + ("?" + query if query else "")
    status, reason, headers, body, connect_ms = http_get(
        scheme, address, port, full, deadline, ctx["resolver"], tls, target.get("tls_server_name"),
        headers={"Accept": "application/json, */*"})
    expect = target.get("expect_status") or [200]
    info = {"connect_ms": connect_ms, "status": status, "content_type": headers.get("content-type"),
            "bytes": len(body)}
    if status not in expect:
        err = _http_state(status, reason, "GET %s (expected %s)" % (full, ", ".join(str(c) for c in expect)), body)
        err.info = info
        raise err
    return "GET %s: %d %s" % (full, status, reason), info


def probe_prometheus(target, deadline, ctx):
    scheme, address, port, prefix, _q = _base(target)
    tls = tls_context(target.get("ca_file")) if scheme == "https" else None
    sn = target.get("tls_server_name")
    info = {}
    status, reason, _h, body, connect_ms = http_get(scheme, address, port, _join(prefix, "/-/ready"),
                                                    deadline, ctx["resolver"], tls, sn)
    info["connect_ms"] = connect_ms
    if status != 200:
        raise _http_state(status, reason, "GET /-/ready", body)
    query = target.get("query") or "up"
    qpath = _join(prefix, "/api/v1/query") + "?" + urlencode({"query": query})
    status, reason, _h, body, _c = http_get(scheme, address, port, qpath, deadline, ctx["resolver"], tls, sn,
                                            headers={"Accept": "application/json"})
    if status != 200:
        raise _http_state(status, reason, "instant query %s" % query, body)
    try:
        doc = json.loads(body.decode("utf-8"))
        if doc.get("status") != "success":
            raise ValueError("status %r" % doc.get("status"))
        result = doc["data"]["result"]
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise ProbeError("protocol", "instant query %s: not a Prometheus answer (%s)" % (query, exc))
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


def probe_kubernetes(target, deadline, ctx):
    scheme, address, port, prefix, _q = _base(target)
    settings = {"ca_file": target.get("ca_file"), "tls_server_name": target.get("tls_server_name")}
    token = target.get("token")
    if target.get("kubeconfig"):
        kc = _kubeconfig(target["kubeconfig"], target.get("context"))
        parts = urlsplit(kc["server"])
        scheme, address = parts.scheme, parts.hostname
        port = parts.port or (443 if scheme == "https" else 80)
        prefix = parts.path or "/"
        settings.update((k, v) for k, v in kc.items() if k in ("ca_file", "ca_data", "tls_server_name"))
        token = token or kc.get("token")
        if not token and kc.get("token_file"):
            token = _read_secret(kc["token_file"], "kubeconfig tokenFile")
    else:
        kc = {}
    if scheme != "https":
        raise ProbeError("protocol", "the Kubernetes API must be reached over https, got %s" % scheme)
    if not token and target.get("token_file"):
        token = _read_secret(target["token_file"], "token_file")
    tls = tls_context(settings.get("ca_file"), settings.get("ca_data"), kc.get("cert_file"), kc.get("key_file"),
                      kc.get("cert_data"), kc.get("key_data"))
    headers = {"Accept": "application/json, */*"}
    if token:
        headers["Authorization"] = "Bearer " + token
    sn = settings.get("tls_server_name")
    info = {}
    status, reason, _h, body, connect_ms = http_get(scheme, address, port, _join(prefix, "/readyz?verbose"),
                                                    deadline, ctx["resolver"], tls, sn, headers)
    info["connect_ms"] = connect_ms
    text = body.decode("utf-8", "replace")
    ok_checks = [ln[3:].rsplit(" ", 1)[0] for ln in text.splitlines() if ln.startswith("[+]")]
    failing = [ln[3:].split(" ", 1)[0] for ln in text.splitlines() if ln.startswith("[-]")]
    info.update(checks_ok=len(ok_checks), failing_checks=failing)
    if status in (401, 403):
        raise _http_state(status, reason, "GET /readyz")
    if status != 200 or failing:
        err = ProbeError("http_status", "GET /readyz: %d %s; failing checks: %s"
                         % (status, reason, ", ".join(failing) or "none listed"))
        err.info = info
        raise err
    status, reason, _h, body, _c = http_get(scheme, address, port, _join(prefix, "/livez"), deadline,
                                            ctx["resolver"], tls, sn, headers)
    info["livez"] = status
    if status != 200:
        err = _http_state(status, reason, "GET /livez", body)
        err.info = info
        raise err
    status, reason, _h, body, _c = http_get(scheme, address, port, _join(prefix, "/version"), deadline,
                                            ctx["resolver"], tls, sn, headers)
    if status != 200:
        err = _http_state(status, reason, "GET /version", body)
        err.info = info
        raise err
    try:
        version = json.loads(body.decode("utf-8"))["gitVersion"]
    except (ValueError, KeyError, TypeError) as exc:
        raise ProbeError("protocol", "GET /version: no gitVersion in the answer (%s)" % exc)
    info["version"] = version
    return "ready (%d checks ok), live, version %s" % (len(ok_checks), version), info


# --------------------------------------------------------------------------- ssh

def fingerprint(blob_b64):
    """OpenSSH SHA256 fingerprint of a base64 public key blob."""
    try:
        raw = base64.b64decode(blob_b64)
    except (ValueError, TypeError):
        return "SHA256:?"
    return "SHA256:" + base64.b64encode(hashlib.sha256(raw).digest()).decode("ascii").rstrip("=")


def _host_matches(field, alias):
    """True when a known_hosts host field (patterns, hashed names, negations) names ``alias``."""
    if field.startswith("|1|"):
        try:
            _x, _one, salt, digest = field.split("|")
            mac = hmac.new(base64.b64decode(salt), alias.encode("utf-8"), hashlib.sha1).digest()
            return hmac.compare_digest(base64.b64encode(mac).decode("ascii"), digest)
        except (ValueError, TypeError):
            return False
    matched = False
    for pattern in field.split(","):
        negate = pattern.startswith("!")
        pattern = pattern[1:] if negate else pattern
        if fnmatch.fnmatchcase(alias.lower(), pattern.lower()):
            if negate:
                return False
            matched = True
    return matched


def known_host_keys(text, alias):
    """(keys, revoked) for ``alias`` from known_hosts text: lists of (type, base64)."""
    keys = []
    revoked = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        parts = line.split()
        marker = None
        if parts[0].startswith("@"):
            marker = parts.pop(0)
        if len(parts) < 3 or not _host_matches(parts[0], alias):
            continue
        if marker == "@revoked":
            revoked.append((parts[1], parts[2]))
        elif marker is None:
            keys.append((parts[1], parts[2]))
    return keys, revoked


def parse_keyscan(text):
    """(type, base64) pairs from ssh-keyscan output."""
    out = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) >= 3 and not line.startswith("#") and parts[1] in KEYSCAN_TYPES:
            out.append((parts[1], parts[2]))
    return out


def compare_host_keys(offered, known, revoked, alias, where):
    """None when a offered key is known (and not revoked), else a host_key_mismatch ProbeError."""
    for k in offered:
        if k in revoked:
            return ProbeError("host_key_mismatch", "%s offers host key %s %s, which is @revoked for %s"
                              % (where, k[0], fingerprint(k[1]), alias))
    for k in offered:
        if k in known:
            return None
    got = ", ".join("%s %s" % (t, fingerprint(b)) for t, b in offered)
    want = ", ".join("%s %s" % (t, fingerprint(b)) for t, b in known)
    return ProbeError("host_key_mismatch", "%s offers %s; the key known for %s is %s: not the host expected "
                      "(stale address or impostor), never trusted" % (where, got, alias, want))


def _read_banner(sock, deadline):
    data = b""
    for _i in range(20):
        try:
            sock.settimeout(deadline.left("the SSH banner"))
            chunk = sock.recv(512)
        except (socket.timeout, ProbeError):
            if b"\n" in data:  # lines came, none of them an SSH banner
                break
            raise
        if not chunk:
            break
        data += chunk
        for line in data.split(b"\n")[:-1]:
            if line.startswith(b"SSH-"):
                return line.rstrip(b"\r").decode("ascii", "replace")
        if len(data) > 8192:
            break
    text = data[:80].decode("ascii", "replace").strip()
    raise ProbeError("protocol", "no SSH banner (got %r)" % text if text else "connection closed without an SSH banner")


def _run(argv, deadline, what):
    rem = deadline.left(what)
    try:
        proc = subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=rem, check=False)
    except subprocess.TimeoutExpired:
        raise ProbeError("timeout", "%s: no answer within the deadline (%gs)" % (what, deadline.total))
    except OSError as exc:
        raise ProbeError("protocol", "%s: cannot run %s: %s" % (what, argv[0], exc))
    return proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")


def _ssh_error(stderr, rc):
    text = stderr.strip()
    low = text.lower()
    last = text.splitlines()[-1] if text else "ssh exited %d" % rc
    if "host key verification failed" in low or "remote host identification has changed" in low:
        return ProbeError("host_key_mismatch", "ssh login: %s" % last)
    if "permission denied" in low or "too many authentication failures" in low:
        return ProbeError("auth", "ssh login: %s" % last)
    if "connection refused" in low:
        return ProbeError("refused", "ssh login: %s" % last)
    if "timed out" in low:
        return ProbeError("timeout", "ssh login: %s" % last)
    if "network is unreachable" in low or "no route to host" in low:
        return ProbeError("unreachable", "ssh login: %s" % last)
    if "could not resolve hostname" in low:
        return ProbeError("dns", "ssh login: %s" % last)
    return ProbeError("protocol", "ssh login: %s" % last)


def probe_ssh(target, deadline, ctx):
    address, port = target["address"], target["port"]
    alias = target.get("alias") or target.get("site") or address
    sock, connect_ms = tcp_connect(address, port, deadline, ctx["resolver"])
    try:
        banner = _read_banner(sock, deadline)
        try:
            sock.sendall(b"SSH-2.0-o2edge_probe\r\n")
        except OSError:
            pass
    except ProbeError:
        raise
    except Exception as exc:  # noqa: BLE001
        raise classify_error(exc, "reading the SSH banner")
    finally:
        sock.close()
    info = {"connect_ms": connect_ms, "banner": banner}
    if target.get("host_key"):
        parts = target["host_key"].split()
        known, revoked, source = [(parts[0], parts[1])], [], "the pinned host_key"
    else:
        path = target.get("known_hosts")
        if not path:
            raise ProbeError("host_key_mismatch", "no host_key pin and no known_hosts for %s: host keys are "
                             "always verified" % alias)
        try:
            with open(path, "r") as f:
                known, revoked = known_host_keys(f.read(), alias)
        except (OSError, UnicodeDecodeError) as exc:
            raise ProbeError("host_key_mismatch", "cannot read known_hosts %s: %s" % (path, exc))
        source = "known_hosts"
        if not known:
            raise ProbeError("host_key_mismatch", "%s has no host key for %s (entries are keyed by site name "
                             "and address); the host is unknown, never trusted" % (path, alias))
    types = sorted(set(KEYSCAN_TYPES.get(t, "") for t, _b in known) - set([""]))
    if not types:
        raise ProbeError("host_key_mismatch", "%s for %s has no key type ssh-keyscan can fetch" % (source, alias))
    timeout = max(1, int(math.ceil(deadline.left("fetching the host key"))))
    rc, out, err = _run([ctx["keyscan"], "-T", str(timeout), "-p", str(port), "-t", ",".join(types), address],
                        deadline, "ssh-keyscan")
    offered = parse_keyscan(out)
    if not offered:
        low = err.lower()
        if "timeout" in low or "timed out" in low or deadline.remaining() <= 0:
            raise ProbeError("timeout", "ssh-keyscan: no host key within the deadline")
        raise ProbeError("protocol", "ssh-keyscan got no host key of type %s from %s:%s%s"
                         % (",".join(types), address, port, (": " + err.strip().splitlines()[-1]) if err.strip() else ""))
    mismatch = compare_host_keys(offered, known, revoked, alias, "%s:%s" % (address, port))
    if mismatch is not None:
        mismatch.info = info
        raise mismatch
    info["host_key"] = "%s %s" % (offered[0][0], fingerprint(offered[0][1]))
    detail = "%s; host key matches %s for %s" % (banner, source, alias)
    if target.get("login"):
        detail += "; " + _ssh_login(target, alias, deadline, ctx)
        info["login"] = True
    return detail, info


def _ssh_login(target, alias, deadline, ctx):
    if not target.get("user"):
        raise ProbeError("auth", "ssh login requested but no user is set for %s" % alias)
    tmp = None
    known_hosts = target.get("known_hosts")
    try:
        if target.get("host_key"):
            fd, tmp = tempfile.mkstemp(prefix="o2edge-kh-")
            with os.fdopen(fd, "w") as f:
                f.write("%s %s\n" % (alias, " ".join(target["host_key"].split()[:2])))
            known_hosts = tmp
        connect = max(1, int(math.ceil(min(deadline.connect, deadline.left("the ssh login")))))
        argv = [ctx["ssh"], "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
                "-o", "UserKnownHostsFile=%s" % known_hosts, "-o", "HostKeyAlias=%s" % alias,
                "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=%d" % connect,
                "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "LogLevel=ERROR",
                "-p", str(target["port"]), "-l", target["user"]]
        if target.get("key_file"):
            argv += ["-i", target["key_file"]]
        argv += ["--", target["address"], "true"]
        rc, _out, err = _run(argv, deadline, "ssh login")
    finally:
        if tmp:
            os.unlink(tmp)
    if rc != 0:
        raise _ssh_error(err, rc)
    return "login as %s ran true" % target["user"]


PROBES = {"tcp": probe_tcp, "ssh": probe_ssh, "http": probe_http, "prometheus": probe_prometheus,
          "kubernetes": probe_kubernetes}


# --------------------------------------------------------------------------- running

def probe_one(target, connect_timeout=2.0, timeout=5.0, ctx=None):
    """Probe one target; always returns a result dict (never raises for network trouble)."""
    ctx = ctx or default_context()
    deadline = Deadline(target.get("timeout") or timeout, target.get("connect_timeout") or connect_timeout)
    result = {
        "site": target.get("site"), "service": target.get("service") or target.get("kind"),
        "kind": target.get("kind"), "address": target.get("address"), "port": target.get("port"),
        "ok": False, "state": "protocol", "latency_ms": None, "connect_ms": None, "detail": "", "info": {},
    }
    try:
        detail, info = PROBES[target["kind"]](target, deadline, ctx)
        result.update(ok=True, state="up", detail=detail, info=info)
    except ProbeError as exc:
        result.update(state=exc.state, detail=exc.detail, info=getattr(exc, "info", {}) or {})
    except Exception as exc:  # noqa: BLE001 - a probe must always produce a result
        err = classify_error(exc, "probe")
        result.update(state=err.state, detail=err.detail)
    result["latency_ms"] = deadline.elapsed_ms()
    result["connect_ms"] = result["info"].pop("connect_ms", None)
    token = target.get("token")
    if token and token in result["detail"]:
        result["detail"] = result["detail"].replace(token, "********")
    return result


def default_context(keyscan="ssh-keyscan", ssh="ssh", resolver=None):
    return {"keyscan": keyscan, "ssh": ssh, "resolver": resolver or Resolver()}


def probe_all(targets, concurrency=64, connect_timeout=2.0, timeout=5.0, ctx=None):
    """Probe every target concurrently (at most ``concurrency`` at once); results in target order."""
    if not targets:
        return []
    ctx = ctx or default_context()
    workers = max(1, min(int(concurrency), len(targets)))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(probe_one, t, connect_timeout, timeout, ctx) for t in targets]
        return [f.result() for f in futures]


def site_state(states):
    ups = sum(1 for s in states if s == "up")
    if states and ups == len(states):
        return "up"
    return "partial" if ups else "down"


def matrix(results):
    """{site: {service: state}}."""
    out = {}
    for r in results:
        out.setdefault(r["site"], {})[r["service"]] = r["state"]
    return out


def summarize(results):
    """Sites fully up, partly up, down; healthy share; counts per state."""
    m = matrix(results)
    per_site = dict((site, site_state(list(svcs.values()))) for site, svcs in m.items())
    total = len(per_site)
    up = sum(1 for s in per_site.values() if s == "up")
    states = dict((s, 0) for s in STATES)
    for r in results:
        states[r["state"]] += 1
    share = (float(up) / total) if total else 0.0
    return {
        "sites_total": total, "sites_up": up,
        "sites_partial": sum(1 for s in per_site.values() if s == "partial"),
        "sites_down": sum(1 for s in per_site.values() if s == "down"),
        "healthy_share": round(share, 4), "healthy_pct": round(100.0 * share, 1),
        "targets_total": len(results), "targets_up": states["up"], "states": states,
        "site_status": per_site,
    }


def service_columns(results):
    names = []
    for r in results:
        if r["service"] not in names:
            names.append(r["service"])
    return sorted(names, key=lambda n: (n != "ssh", n))


def table(results):
    """The site x service matrix as aligned text lines (for ansible.builtin.debug)."""
    m = matrix(results)
    cols = service_columns(results)
    summ = summarize(results)
    header = ["site"] + cols + ["site status"]
    rows = [[site] + [m[site].get(c, "-") for c in cols] + [summ["site_status"][site]] for site in m]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def fmt(row):
        return "  ".join(str(v).ljust(widths[i]) for i, v in enumerate(row)).rstrip()

    lines = [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    lines.append("%d/%d sites fully up (%.1f%%), %d partly up, %d down; %d/%d services up" % (
        summ["sites_up"], summ["sites_total"], summ["healthy_pct"], summ["sites_partial"], summ["sites_down"],
        summ["targets_up"], summ["targets_total"]))
    return lines
