# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ``ssh`` probe kind: banner, host key, optional login (standard library plus OpenSSH's ``ssh``).

One TCP connection per probe: the banner is read on it, then the host key is fetched on the same
socket by ``_ssh_kex.fetch_host_key`` (our version line, KEXINIT, a curve25519 or group14 key
exchange init, the server's reply's K_S; the exchange stops there, its signature unchecked, like
ssh-keyscan's). The key is compared with the target's pinned ``host_key`` or with the
``known_hosts`` entries of the site's alias (the name the key is known under, as ``HostKeyAlias``);
an unknown, different or ``@revoked`` key is a ``host_key_mismatch``, never trusted. The optional
login runs ``ssh`` in BatchMode with strict host-key checking against the same key and runs ``true``.

ssh-keyscan is not used by the probe any more (one path per thing): it cost a second connection
and a process per target, and OpenSSH 9.2's always offers its post-quantum key exchange first
(about 60 ms of controller CPU per address); the native fetch costs under 1 ms. A server that has
none of the key exchanges offered (curve25519-sha256, diffie-hellman-group14-sha256: OpenSSH since
6.5 and 7.3, Dropbear, FIPS-mode servers) is a ``protocol`` result naming the algorithms.
edge_address fetches the key the same way (``read_host_key``) and compares it by the same rule
(``acceptable_keys``, ``compare_host_keys``).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import hmac
import math
import os
import socket
import subprocess
import tempfile

from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import ProbeError, classify_error, tcp_connect
from ansible_collections.o2edge.perf.plugins.module_utils.probe._ssh_kex import fetch_host_key, host_key_algorithms
from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, check_regular, read_text

# A known_hosts file bigger than this is refused unread.
KNOWN_HOSTS_MAX_BYTES = 4 << 20


# --------------------------------------------------------------------------- host keys

def ssh_key_fingerprint(blob_b64):
    """OpenSSH SHA256 fingerprint (``SHA256:...``) of a base64 SSH public key blob."""
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


def compare_host_keys(offered, known, revoked, alias, where):
    """None when an offered key is known (and not revoked), else a host_key_mismatch ProbeError."""
    for k in offered:
        if k in revoked:
            return ProbeError("host_key_mismatch", "%s offers host key %s %s, which is @revoked for %s"
                              % (where, k[0], ssh_key_fingerprint(k[1]), alias))
    for k in offered:
        if k in known:
            return None
    got = ", ".join("%s %s" % (t, ssh_key_fingerprint(b)) for t, b in offered)
    want = ", ".join("%s %s" % (t, ssh_key_fingerprint(b)) for t, b in known)
    return ProbeError("host_key_mismatch", "%s offers %s; the key known for %s is %s: not the host expected "
                      "(stale address or impostor), never trusted" % (where, got, alias, want))


def acceptable_keys(alias, host_key=None, known_hosts_text=None):
    """``(keys, revoked)``: the keys that prove ``alias`` and the keys known_hosts marks ``@revoked`` for it.

    The one rule of the ssh probe and of edge_address: the keys are the pin (``host_key``) when
    there is one, else the known_hosts entries of ``alias``; ``@revoked`` always wins -- a revoked
    key is never among the keys, pinned or not (``known_hosts_text`` None: no known_hosts to read).
    """
    keys, revoked = [], []
    if known_hosts_text is not None:
        keys, revoked = known_host_keys(known_hosts_text, alias)
    if host_key:
        parts = host_key.split()
        keys = [(parts[0], parts[1])]
    return [k for k in keys if k not in revoked], revoked


def read_known_hosts(path, what="known_hosts"):
    """The text of the known_hosts file ``path``, None when it does not exist; FileReadError when it is
    not a regular UTF-8 file within KNOWN_HOSTS_MAX_BYTES (a FIFO is refused without blocking)."""
    try:
        return read_text(path, KNOWN_HOSTS_MAX_BYTES, what=what)
    except FileReadError as exc:
        if exc.reason == "missing":
            return None
        raise


def _known_keys(target, alias):
    """(known, revoked, source) for the target: ``acceptable_keys`` of its pin and known_hosts."""
    path = target.get("known_hosts")
    if not target.get("host_key") and not path:
        raise ProbeError("host_key_mismatch", "no host_key pin and no known_hosts for %s: host keys are "
                         "always verified" % alias)
    text = None
    if path:
        try:
            text = read_known_hosts(path)
        except FileReadError as exc:
            raise ProbeError("host_key_mismatch", "cannot read %s" % exc)
    known, revoked = acceptable_keys(alias, target.get("host_key"), text)
    if target.get("host_key"):
        if not known:
            raise ProbeError("host_key_mismatch", "the pinned host_key of %s is @revoked in known_hosts %s: "
                             "never trusted" % (alias, path))
        return known, revoked, "the pinned host_key"
    if text is None:
        raise ProbeError("host_key_mismatch", "known_hosts %s does not exist: the host is unknown, never "
                         "trusted" % path)
    if not known:
        raise ProbeError("host_key_mismatch", "%s has no host key for %s (entries are keyed by site name "
                         "and address); the host is unknown, never trusted" % (path, alias))
    return known, revoked, "known_hosts"


# --------------------------------------------------------------------------- banner, programs

def _read_banner(sock, deadline):
    """``(banner, rest)``: the server's ``SSH-`` line (lines before it are skipped, as RFC 4253 allows)
    and the bytes read past it (a server may send its KEXINIT right behind its banner)."""
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
        start = 0
        while b"\n" in data[start:]:
            end = data.index(b"\n", start)
            if data.startswith(b"SSH-", start):
                return data[start:end].rstrip(b"\r").decode("ascii", "replace"), data[end + 1:]
            start = end + 1
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


def login_argv(ssh, target, alias, known_hosts, connect_timeout):
    """ssh's command line for the login: BatchMode, strict host-key checking against ``known_hosts``
    only (under ``alias``), no agent keys beyond ``key_file``, no connection sharing, runs ``true``."""
    argv = [ssh, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes",
            "-o", "UserKnownHostsFile=%s" % known_hosts, "-o", "GlobalKnownHostsFile=none",
            "-o", "HostKeyAlias=%s" % alias, "-o", "IdentitiesOnly=yes", "-o", "ConnectTimeout=%d" % connect_timeout,
            "-o", "ControlMaster=no", "-o", "ControlPath=none", "-o", "LogLevel=ERROR",
            "-p", str(target["port"]), "-l", target["user"]]
    if target.get("key_file"):
        argv += ["-i", target["key_file"]]
    return argv + ["--", target["address"], "true"]


# --------------------------------------------------------------------------- the kind

def read_host_key(address, port, key_types, deadline, resolver):
    """``(banner, (type, base64))``: on ONE connection to ``address:port``, the SSH banner, then the host
    key the server presents for the first of ``key_types``' algorithms it has (``_ssh_kex``), as the
    ``ssh`` kind fetches it. Raises ProbeError (refused, timeout, unreachable, protocol...)."""
    sock, _ms = tcp_connect(address, port, deadline, resolver)
    try:
        try:
            banner, rest = _read_banner(sock, deadline)
        except Exception as exc:  # noqa: BLE001 - ProbeErrors pass through classify_error unchanged
            raise classify_error(exc, "reading the SSH banner")
        offered, _kex, _alg = fetch_host_key(sock, deadline, list(key_types), rest)
    finally:
        sock.close()
    return banner, offered


def probe_ssh(target, deadline, ctx):
    address, port = target["address"], target["port"]
    alias = target.get("alias") or target.get("site") or address
    sock, connect_ms = tcp_connect(address, port, deadline, ctx["resolver"])
    info = {"connect_ms": connect_ms}
    try:
        try:
            banner, rest = _read_banner(sock, deadline)
        except Exception as exc:  # noqa: BLE001 - ProbeErrors pass through classify_error unchanged
            raise classify_error(exc, "reading the SSH banner")
        info["banner"] = banner
        known, revoked, source = _known_keys(target, alias)
        types = [t for t, _b in known]
        if not host_key_algorithms(types):
            raise ProbeError("host_key_mismatch", "%s for %s has no key type the probe can fetch" % (source, alias))
        offered, _kex, _alg = fetch_host_key(sock, deadline, types, rest)
    except ProbeError as exc:
        exc.info = info
        raise
    finally:
        sock.close()
    mismatch = compare_host_keys([offered], known, revoked, alias, "%s:%s" % (address, port))
    if mismatch is not None:
        mismatch.info = info
        raise mismatch
    info["host_key"] = "%s %s" % (offered[0], ssh_key_fingerprint(offered[1]))
    detail = "%s; host key matches %s for %s" % (banner, source, alias)
    if target.get("login"):
        try:
            detail += "; " + _ssh_login(target, alias, deadline, ctx)
        except ProbeError as exc:
            exc.info = info
            raise
        info["login"] = True
    return detail, info


def _ssh_login(target, alias, deadline, ctx):
    if not target.get("user"):
        raise ProbeError("auth", "ssh login requested but no user is set for %s" % alias)
    tmp = None
    known_hosts = target.get("known_hosts")
    try:
        for key, what in (("key_file", "ssh key_file"), ("known_hosts", "known_hosts")):
            if target.get(key) and not (key == "known_hosts" and target.get("host_key")):
                try:  # handed to ssh: a FIFO there would block it until the deadline
                    check_regular(target[key], what)
                except FileReadError as exc:
                    if exc.reason == "missing":
                        continue  # ssh says so itself (a missing key_file is only a warning)
                    raise ProbeError("auth" if key == "key_file" else "host_key_mismatch", "ssh login: %s" % exc)
        if target.get("host_key"):
            fd, tmp = tempfile.mkstemp(prefix="o2edge-kh-")
            with os.fdopen(fd, "w") as f:
                f.write("%s %s\n" % (alias, " ".join(target["host_key"].split()[:2])))
            known_hosts = tmp
        connect = max(1, int(math.ceil(min(deadline.connect, deadline.left("the ssh login")))))
        rc, _out, err = _run(login_argv(ctx["ssh"], target, alias, known_hosts, connect), deadline, "ssh login")
    finally:
        if tmp:
            os.unlink(tmp)
    if rc != 0:
        raise _ssh_error(err, rc)
    return "login as %s ran true" % target["user"]
