# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ssh probe judged end to end on scripted answers: the survivors of _probe_ssh.py's first mutation run.

Each test hands the probe a target, a known_hosts file (in tmp_path) and what a server says (a
scripted socket in place of the TCP connection, a stand-in for the host-key fetch, an ssh stand-in
script for the login) and checks the exact state and detail. No packet is sent to any address:
``tcp_connect`` and ``fetch_host_key`` are replaced; 198.18.0.10 is only data.
"""
from __future__ import annotations

import base64
import errno
import hashlib
import os
import socket
import tempfile
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_ssh as ps
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import Deadline, ProbeError
from tests.unit.probe_servers import KEY_A, KEY_B, recorded_argv, tool

ADDRESS = "198.18.0.10"
WHERE = ADDRESS + ":22"
KEY_R = base64.b64encode(b"\0\0\0\x07ssh-rsa" + b"r" * 40).decode("ascii")


def fp(blob_b64):
    """OpenSSH's SHA256 fingerprint, spelled out here rather than taken from the code under test."""
    return "SHA256:" + base64.b64encode(hashlib.sha256(base64.b64decode(blob_b64)).digest()).decode().rstrip("=")


class Sock(object):
    """A connected socket's scripted reads: each item is one recv's answer (cut to recv's size) or an
    exception it raises; b"" (end of file) once the script is done."""

    def __init__(self, chunks):
        self.chunks = list(chunks)
        self.closed = False
        self.reads = 0

    def settimeout(self, _t):
        pass

    def recv(self, n):
        self.reads += 1
        if not self.chunks:
            return b""
        chunk = self.chunks.pop(0)
        if isinstance(chunk, BaseException):
            raise chunk
        if len(chunk) > n:
            self.chunks.insert(0, chunk[n:])
            chunk = chunk[:n]
        return chunk

    def close(self):
        self.closed = True


class Wire(object):
    """What the server says: ``chunks`` before the key exchange, then ``key`` (type, base64) offered."""

    def __init__(self, monkeypatch):
        self.chunks = [b"SSH-2.0-OpenSSH_9.2p1 x\r\n"]
        self.key = ("ssh-ed25519", KEY_A)
        self.connect_delay = 0.0
        self.on_fetch = None
        self.fetched = []
        self.sock = None
        monkeypatch.setattr(ps, "tcp_connect", self.tcp_connect)
        monkeypatch.setattr(ps, "fetch_host_key", self.fetch_host_key)

    def tcp_connect(self, address, port, deadline, resolver):
        assert (address, port) == (ADDRESS, 22)
        if self.connect_delay:
            time.sleep(self.connect_delay)
        self.sock = Sock(self.chunks)
        return self.sock, 1.5

    def fetch_host_key(self, sock, deadline, key_types, rest):
        assert sock is self.sock
        self.fetched.append((list(key_types), rest))
        if self.on_fetch:
            self.on_fetch()
        return self.key, "curve25519-sha256", self.key[0]


@pytest.fixture
def wire(monkeypatch):
    return Wire(monkeypatch)


def _no_resolver(host):
    raise AssertionError("no name is resolved: tcp_connect is replaced")


def run(target, timeout=3.0, connect_timeout=3.0, ssh="ssh"):
    return pr.probe_one(target, connect_timeout=connect_timeout, timeout=timeout,
                        ctx=pr.default_context(ssh=ssh, resolver=_no_resolver))


def target(**extra):
    t = {"site": "edge1", "kind": "ssh", "address": ADDRESS, "port": 22}
    t.update(extra)
    return t


def pinned(**extra):
    return target(host_key="ssh-ed25519 " + KEY_A, **extra)


def known_hosts(tmp_path, text):
    p = tmp_path / "known_hosts"
    p.write_text(text)
    return str(p)


def judged(r):
    return r["state"], r["detail"]


# --------------------------------------------------------------------------- known_hosts: what vouches for a host

def test_up_details_name_where_the_key_came_from(wire, tmp_path):
    """Bug caught: the up detail or the source of the key (pin or known_hosts) worded otherwise."""
    r = run(pinned())
    assert judged(r) == ("up", "SSH-2.0-OpenSSH_9.2p1 x; host key matches the pinned host_key for edge1")
    assert r["info"] == {"banner": "SSH-2.0-OpenSSH_9.2p1 x", "host_key": "ssh-ed25519 " + fp(KEY_A)}
    assert r["connect_ms"] == 1.5 and wire.sock.closed
    kh = known_hosts(tmp_path, "edge1 ssh-ed25519 %s\n" % KEY_A)
    assert judged(run(target(known_hosts=kh))) == (
        "up", "SSH-2.0-OpenSSH_9.2p1 x; host key matches known_hosts for edge1")


def test_known_hosts_of_exactly_4_mib_is_read_one_byte_more_is_refused(wire, tmp_path):
    """Bug caught: the 4 MiB bound of known_hosts moved (a bigger file read), or its refusal not naming the file."""
    head = "edge1 ssh-ed25519 %s\n#" % KEY_A
    data = head + "x" * ((4 << 20) - len(head) - 1) + "\n"
    kh = known_hosts(tmp_path, data)
    assert os.path.getsize(kh) == 4 << 20
    assert run(target(known_hosts=kh))["state"] == "up"
    with open(kh, "a") as f:
        f.write("#")
    assert judged(run(target(known_hosts=kh))) == (
        "host_key_mismatch", "cannot read known_hosts %s is 4194305 bytes, over the limit of 4194304; not read" % kh)


def test_a_missing_known_hosts_is_an_unknown_host(wire, tmp_path):
    """Bug caught: a missing known_hosts reported as unreadable, or worded otherwise."""
    kh = str(tmp_path / "absent")
    assert judged(run(target(known_hosts=kh))) == (
        "host_key_mismatch", "known_hosts %s does not exist: the host is unknown, never trusted" % kh)


def test_no_pin_and_no_known_hosts_is_refused_before_any_key_is_fetched(wire):
    r = run(target())
    assert judged(r) == ("host_key_mismatch", "no host_key pin and no known_hosts for edge1: host keys are always verified")
    assert wire.fetched == [] and r["info"] == {"banner": "SSH-2.0-OpenSSH_9.2p1 x"}


def test_known_hosts_without_the_alias_names_the_file_and_alias(wire, tmp_path):
    kh = known_hosts(tmp_path, "edge2 ssh-ed25519 %s\n" % KEY_A)
    assert judged(run(target(known_hosts=kh))) == (
        "host_key_mismatch", "%s has no host key for edge1 (entries are keyed by site name and address); the host is "
        "unknown, never trusted" % kh)


def test_a_commented_out_entry_and_blank_lines_vouch_for_nothing(wire, tmp_path):
    """Bug caught: a line commented out with ``#`` still read (its second name matching the alias), or a
    blank line between entries breaking the parse; the mismatch message in full."""
    kh = known_hosts(tmp_path, "#edge1-old,edge1 ssh-ed25519 %s\n\n   \nedge1 ssh-ed25519 %s\n" % (KEY_A, KEY_B))
    assert judged(run(target(known_hosts=kh))) == (
        "host_key_mismatch", "%s offers ssh-ed25519 %s; the key known for edge1 is ssh-ed25519 %s: not the host "
        "expected (stale address or impostor), never trusted" % (WHERE, fp(KEY_A), fp(KEY_B)))


def test_the_mismatch_lists_every_known_key(wire, tmp_path):
    kh = known_hosts(tmp_path, "edge1 ssh-ed25519 %s\nedge1 ssh-rsa %s\n" % (KEY_B, KEY_R))
    r = run(target(known_hosts=kh))
    assert judged(r) == (
        "host_key_mismatch", "%s offers ssh-ed25519 %s; the key known for edge1 is ssh-ed25519 %s, ssh-rsa %s: not "
        "the host expected (stale address or impostor), never trusted" % (WHERE, fp(KEY_A), fp(KEY_B), fp(KEY_R)))
    assert wire.fetched[0][0] == ["ssh-ed25519", "ssh-rsa"]


def test_compare_host_keys_lists_every_offered_key():
    """edge_address hands several offered keys (one per address): each is named, comma-separated."""
    err = ps.compare_host_keys([("ssh-rsa", KEY_R), ("ssh-ed25519", KEY_B)], [("ssh-ed25519", KEY_A)], [], "edge1", "edge1")
    assert (err.state, err.detail) == (
        "host_key_mismatch", "edge1 offers ssh-rsa %s, ssh-ed25519 %s; the key known for edge1 is ssh-ed25519 %s: not "
        "the host expected (stale address or impostor), never trusted" % (fp(KEY_R), fp(KEY_B), fp(KEY_A)))


def test_a_malformed_hashed_entry_names_no_host(wire, tmp_path):
    """Bug caught: a ``|1|`` entry that cannot be parsed taken as matching every alias."""
    text = "|1|c2FsdA== ssh-ed25519 %s\n" % KEY_A
    assert ps.known_host_keys(text, "edge1") == ([], [])
    kh = known_hosts(tmp_path, text)
    assert run(target(known_hosts=kh))["state"] == "host_key_mismatch"
    assert "has no host key for edge1" in run(target(known_hosts=kh))["detail"]


def test_an_offered_key_revoked_in_known_hosts_is_named(wire, tmp_path):
    """Bug caught: the revoked key's type or address missing from the refusal (the blob shown instead of the type)."""
    wire.key = ("ssh-ed25519", KEY_B)
    kh = known_hosts(tmp_path, "edge1 ssh-ed25519 %s\n@revoked edge1 ssh-ed25519 %s\n" % (KEY_A, KEY_B))
    assert judged(run(target(known_hosts=kh))) == (
        "host_key_mismatch", "%s offers host key ssh-ed25519 %s, which is @revoked for edge1" % (WHERE, fp(KEY_B)))


def test_a_pin_revoked_in_known_hosts_names_the_file(wire, tmp_path):
    kh = known_hosts(tmp_path, "@revoked edge1 ssh-ed25519 %s\n" % KEY_A)
    assert judged(run(pinned(known_hosts=kh))) == (
        "host_key_mismatch", "the pinned host_key of edge1 is @revoked in known_hosts %s: never trusted" % kh)
    assert wire.fetched == []


def test_no_key_type_the_probe_can_fetch(wire, tmp_path):
    """Bug caught: keys of types the fetch does not know reported as something else than a mismatch."""
    kh = known_hosts(tmp_path, "edge1 ssh-xmss@openssh.com %s\n" % KEY_A)
    assert judged(run(target(known_hosts=kh))) == (
        "host_key_mismatch", "known_hosts for edge1 has no key type the probe can fetch")
    assert judged(run(target(host_key="ssh-xmss@openssh.com " + KEY_A))) == (
        "host_key_mismatch", "the pinned host_key for edge1 has no key type the probe can fetch")
    assert wire.fetched == []


# --------------------------------------------------------------------------- the banner

@pytest.mark.parametrize("chunks,banner", [
    ([b"SSH-2.0-Open", b"SSH_9.2p1\r\n"], "SSH-2.0-OpenSSH_9.2p1"),  # one line over two reads
    ([b"SSH-2.0-X\r\n"], "SSH-2.0-X"),  # only the \r is cut
    ([b"SSH-2.0-caf\xc3\xa9\r\n"], "SSH-2.0-caf\ufffd\ufffd"),  # not ASCII: replaced, not refused
    ([b"x\n"] * 19 + [b"SSH-2.0-late\r\n"], "SSH-2.0-late"),  # the 20th read
    ([(b"x" * 63 + b"\n") * 128 + b"SSH-2.0-OpenSSH_9.2p1 deep\r\n"], "SSH-2.0-OpenSSH_9.2p1 deep"),  # 8192 bytes before
])
def test_banners_that_are_read(wire, chunks, banner):
    """Bugs caught: a banner split over reads lost, trailing characters cut, non-ASCII refused, fewer reads
    than 20 or fewer than 8192 bytes of lines before the banner allowed."""
    wire.chunks = chunks
    r = run(pinned())
    assert (r["state"], r["info"]["banner"]) == ("up", banner), r


def test_the_bytes_behind_the_banner_go_to_the_key_exchange(wire):
    wire.chunks = [b"hi\nSSH-2.0-x\r\n\0\0\x01\x0c\x0a\x14"]
    assert run(pinned())["state"] == "up"
    assert wire.fetched == [(["ssh-ed25519"], b"\0\0\x01\x0c\x0a\x14")]


@pytest.mark.parametrize("chunks,got", [
    ([], None),
    ([b"y" * 100 + b"\n"], "y" * 80),  # the first 80 bytes shown
    ([b"caf\xc3\xa9\n"], "caf\ufffd\ufffd"),
    ([b"x\n"] * 20 + [b"SSH-2.0-late\r\n"], "\n".join(["x"] * 20)),  # 20 reads, then given up
    ([b"x" * 63 + b"\n"] * 128 + [b"S", b"SH-2.0-x\r\n"], "x" * 63 + "\n" + "x" * 16),  # over 8192 bytes
    ([b"hello\n", socket.timeout("timed out"), b"SSH-2.0-x\r\n"], "hello"),  # silence after lines: no more reads
])
def test_no_banner_is_protocol_showing_what_came(wire, chunks, got):
    """Bugs caught: more than 20 reads or 8192 bytes waited for, reading on after a silence, the
    greeting shown longer or refused for non-ASCII bytes, the messages worded otherwise."""
    wire.chunks = chunks
    r = run(pinned())
    assert judged(r) == ("protocol", "no SSH banner (got %r)" % got if got else "connection closed without an SSH banner")
    assert wire.fetched == []


def test_a_banner_behind_8193_bytes_of_lines_is_not_waited_for(wire):
    """Bugs caught: the 8192-byte bound on the lines before the banner moved up (8193 bytes allowed), or
    reading going on past it until the 20th read; the server's lines stop being read right there."""
    wire.chunks = [(b"x" * 63 + b"\n") * 128, b"\n", b"SSH-2.0-OpenSSH_9.2p1 late\r\n"]
    r = run(pinned())
    assert judged(r) == ("protocol", "no SSH banner (got %r)" % ("x" * 63 + "\n" + "x" * 16))
    assert wire.fetched == [] and wire.sock.reads == 17  # 16 reads of 512 bytes, then the 8193rd byte


def test_the_end_of_the_connection_ends_the_reading(wire):
    """Bug caught: reading on after the server closed the connection (a closed socket answers b"" to
    every read at once: the probe would go round its read loop to its bound instead of stopping)."""
    wire.chunks = [b"hello\n"]
    r = run(pinned())
    assert judged(r) == ("protocol", "no SSH banner (got 'hello')")
    assert wire.sock.reads == 2


def test_a_reset_while_reading_the_banner_says_so(wire):
    wire.chunks = [ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")]
    assert judged(run(pinned())) == ("protocol", "reading the SSH banner: connection reset by peer")


def test_a_deadline_passed_before_the_banner_names_it(wire):
    wire.connect_delay = 0.06
    assert judged(run(pinned(), timeout=0.05)) == ("timeout", "deadline of 0.05s passed before the SSH banner")


def test_read_host_key_is_banner_and_key_on_one_connection(wire):
    """edge_address's fetch: the banner and the key of one connection, the socket closed."""
    wire.chunks = [b"SSH-2.0-y\r\nKEX"]
    wire.key = ("ssh-rsa", KEY_R)
    assert ps.read_host_key(ADDRESS, 22, ("ssh-rsa",), Deadline(1, 1), _no_resolver) == ("SSH-2.0-y", ("ssh-rsa", KEY_R))
    assert wire.fetched == [(["ssh-rsa"], b"KEX")] and wire.sock.closed
    wire.chunks = [ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")]
    with pytest.raises(ProbeError) as err:
        ps.read_host_key(ADDRESS, 22, ("ssh-rsa",), Deadline(1, 1), _no_resolver)
    assert (err.value.state, err.value.detail) == ("protocol", "reading the SSH banner: connection reset by peer")
    assert wire.sock.closed


# --------------------------------------------------------------------------- the login

def fake_ssh(directory, rc=0, stderr="", stdout=""):
    """An ssh stand-in recording its arguments and its UserKnownHostsFile (path and text); ``stdout`` and
    ``stderr`` are printf formats (octal escapes for bytes that are not UTF-8)."""
    return tool(directory, "ssh", "printf '%%s\\n' \"$@\" > '%s/ssh.argv'\n"
                "for a in \"$@\"; do case \"$a\" in UserKnownHostsFile=*) f=\"${a#UserKnownHostsFile=}\"; "
                "echo \"$f\" > '%s/ssh.kh_path'; cat \"$f\" > '%s/ssh.known_hosts';; esac; done\n"
                "printf '%s'\nprintf '%s' >&2\nexit %d\n" % (directory, directory, directory, stdout, stderr, rc))


def test_a_login_adds_its_line_to_the_detail(wire, tmp_path):
    r = run(pinned(login=True, user="ops"), ssh=fake_ssh(tmp_path))
    assert judged(r) == ("up", "SSH-2.0-OpenSSH_9.2p1 x; host key matches the pinned host_key for edge1; login as ops ran true")
    assert r["info"]["login"] is True


def test_a_login_without_a_user_is_auth(wire, tmp_path):
    assert judged(run(pinned(login=True), ssh=fake_ssh(tmp_path))) == (
        "auth", "ssh login requested but no user is set for edge1")
    assert not os.path.exists(str(tmp_path / "ssh.argv"))


@pytest.mark.parametrize("stderr,state,last", [
    ("@@@\\nWARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!\\nOffending key in k:1\\n", "host_key_mismatch",
     "Offending key in k:1"),
    ("Host key verification failed.\\n", "host_key_mismatch", "Host key verification failed."),
    ("Received disconnect: Too many authentication failures\\n", "auth", "Received disconnect: Too many authentication failures"),
    ("ops@x: Permission denied (publickey).\\n", "auth", "ops@x: Permission denied (publickey)."),
    ("ssh: connect to host x port 22: Connection refused\\n", "refused", "ssh: connect to host x port 22: Connection refused"),
    ("ssh: connect to host x port 22: Connection timed out\\n", "timeout", "ssh: connect to host x port 22: Connection timed out"),
    ("ssh: connect to host x port 22: No route to host\\n", "unreachable", "ssh: connect to host x port 22: No route to host"),
    ("ssh: connect to host x port 22: Network is unreachable\\n", "unreachable",
     "ssh: connect to host x port 22: Network is unreachable"),
    ("ssh: Could not resolve hostname x: Name or service not known\\n", "dns",
     "ssh: Could not resolve hostname x: Name or service not known"),
    ("kex_exchange_identification: Connection closed by remote host\\n", "protocol",
     "kex_exchange_identification: Connection closed by remote host"),
    ("", "protocol", "ssh exited 255"),
    ("ops@x: Permission denied \\377\\n", "auth", "ops@x: Permission denied \ufffd"),
])
def test_a_failed_login_is_classified_by_what_ssh_says(wire, tmp_path, stderr, state, last):
    """Bugs caught: a class of ssh's errors (a changed host key, too many authentication failures, no
    route) judged as another, the detail not ssh's last line, ssh's non-UTF-8 output refused."""
    r = run(pinned(login=True, user="ops"), ssh=fake_ssh(tmp_path, rc=255, stderr=stderr))
    assert judged(r) == (state, "ssh login: " + last)
    assert r["info"] == {"banner": "SSH-2.0-OpenSSH_9.2p1 x", "host_key": "ssh-ed25519 " + fp(KEY_A)}


def test_what_ssh_prints_on_stdout_does_not_matter(wire, tmp_path):
    """Bug caught: a login refused because the remote side printed text (a motd, bytes that are not UTF-8)."""
    r = run(pinned(login=True, user="ops"), ssh=fake_ssh(tmp_path, stdout="Welcome \\377\\n"))
    assert r["state"] == "up" and r["info"]["login"] is True, r


def test_an_ssh_that_hangs_is_a_timeout_at_the_deadline(wire, tmp_path):
    ssh = tool(tmp_path, "ssh", "exec sleep 5\n")
    t0 = time.monotonic()
    r = run(pinned(login=True, user="ops"), timeout=0.25, ssh=ssh)
    assert judged(r) == ("timeout", "ssh login: no answer within the deadline (0.25s)")
    assert time.monotonic() - t0 < 2


def test_an_ssh_that_cannot_run_is_protocol_naming_it(wire, tmp_path):
    ssh = str(tmp_path / "no-ssh")
    assert judged(run(pinned(login=True, user="ops"), ssh=ssh)) == (
        "protocol", "ssh login: cannot run %s: [Errno 2] No such file or directory: '%s'" % (ssh, ssh))


def test_connect_timeout_is_the_connect_deadline_rounded_up(wire, tmp_path):
    """Bug caught: ssh's ConnectTimeout raised to 2 s when the probe's connect deadline is under a second."""
    def connect_timeout(**kw):
        run(pinned(login=True, user="ops"), ssh=fake_ssh(tmp_path), **kw)
        return [a for a in recorded_argv(tmp_path, "ssh") if a.startswith("ConnectTimeout=")]
    assert connect_timeout(connect_timeout=0.5) == ["ConnectTimeout=1"]
    assert connect_timeout(connect_timeout=2.5, timeout=5) == ["ConnectTimeout=3"]


def test_a_deadline_passed_before_the_login_names_it(wire, tmp_path):
    wire.on_fetch = lambda: time.sleep(0.06)
    assert judged(run(pinned(login=True, user="ops"), timeout=0.05, ssh=fake_ssh(tmp_path))) == (
        "timeout", "deadline of 0.05s passed before the ssh login")


def test_the_pinned_login_known_hosts_holds_type_and_key_only(wire, tmp_path):
    """Bug caught: the pin's comment written into the login's known_hosts; the file is a temporary
    ``o2edge-kh-*`` one, gone afterwards."""
    r = run(target(host_key="ssh-ed25519 %s ops@edge1 2026" % KEY_A, login=True, user="ops"), ssh=fake_ssh(tmp_path))
    assert r["state"] == "up", r
    assert (tmp_path / "ssh.known_hosts").read_text() == "edge1 ssh-ed25519 %s\n" % KEY_A
    path = (tmp_path / "ssh.kh_path").read_text().strip()
    assert os.path.dirname(path) == tempfile.gettempdir() and os.path.basename(path).startswith("o2edge-kh-")
    assert not os.path.exists(path)


def test_a_fifo_key_file_is_auth_naming_the_key_file(wire, tmp_path):
    key = str(tmp_path / "id_ed25519")
    os.mkfifo(key)
    assert judged(run(pinned(login=True, user="ops", key_file=key), ssh=fake_ssh(tmp_path))) == (
        "auth", "ssh login: ssh key_file %s is a named pipe (FIFO), not a regular file; not read" % key)


def _swap_for_fifo(path):
    def swap():
        os.unlink(path)
        os.mkfifo(path)
    return swap


@pytest.mark.parametrize("key_file", [None, "missing"])
def test_known_hosts_turned_into_a_fifo_before_the_login_is_not_handed_to_ssh(wire, tmp_path, key_file):
    """Bug caught: known_hosts checked only when read, not again before ssh gets it (replaced by a FIFO
    meanwhile, ssh would block until the deadline), or a missing key_file ending the checks."""
    kh = known_hosts(tmp_path, "edge1 ssh-ed25519 %s\n" % KEY_A)
    wire.on_fetch = _swap_for_fifo(kh)
    extra = {"key_file": str(tmp_path / "absent-key")} if key_file else {}
    r = run(target(known_hosts=kh, login=True, user="ops", **extra), ssh=fake_ssh(tmp_path))
    assert judged(r) == (
        "host_key_mismatch", "ssh login: known_hosts %s is a named pipe (FIFO), not a regular file; not read" % kh)
    assert not os.path.exists(str(tmp_path / "ssh.argv"))


def test_with_a_pin_the_login_does_not_use_known_hosts(wire, tmp_path):
    """Bug caught: a pinned login checking (and refusing) the known_hosts file it does not hand to ssh."""
    kh = known_hosts(tmp_path, "edge1 ssh-ed25519 %s\n" % KEY_A)
    wire.on_fetch = _swap_for_fifo(kh)
    r = run(pinned(known_hosts=kh, login=True, user="ops"), ssh=fake_ssh(tmp_path))
    assert r["state"] == "up", r
    assert (tmp_path / "ssh.known_hosts").read_text() == "edge1 ssh-ed25519 %s\n" % KEY_A
