# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The native host-key fetch (``_ssh_kex``) through the ssh probe, against a scripted SSH server on
loopback (tests/unit/fake_sshd.py) and, when OpenSSH's sshd is installed, a real one.

Each test names the bug it catches.
"""
from __future__ import annotations

import os
import shutil
import socket
import struct
import subprocess
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_ssh as ps
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _ssh_kex as kx
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import Deadline, ProbeError
from tests.unit import fake_sshd as fs
from tests.unit.probe_servers import KEY_A, KEY_B

GARBAGE = b"GARBAGEMARKER" * 8


@pytest.fixture
def sshd():
    yield from fs.servers()


def target(srv, key="ssh-ed25519 " + KEY_A, **extra):
    t = {"site": "edge1", "kind": "ssh", "address": srv.address, "port": srv.port, "host_key": key}
    t.update(extra)
    return t


def run(t, timeout=3.0):
    return pr.probe_one(t, connect_timeout=timeout, timeout=timeout, ctx=pr.default_context())


# --------------------------------------------------------------------------- verdicts

def test_right_key_is_up_on_one_connection_offering_only_the_known_key_type(sshd):
    """Bug caught: a key never compared (up whatever), a second connection per probe, a host-key
    algorithm offered that no known key has, or a post-quantum exchange offered."""
    srv = sshd(key=KEY_A)
    r = run(target(srv))
    assert r["state"] == "up", r
    assert r["info"]["host_key"] == "ssh-ed25519 " + ps.ssh_key_fingerprint(KEY_A)
    assert r["info"]["banner"] == "SSH-2.0-OpenSSH_9.2p1 fake"
    assert srv.connections == 1
    seen = srv.seen[0]
    assert seen["version"] == kx.VERSION
    assert seen["kexinit"][0] == list(kx.KEX_ALGORITHMS) and seen["kexinit"][1] == ["ssh-ed25519"]
    assert seen["init"] == (30, 32)  # SSH_MSG_KEX_ECDH_INIT, a 32-byte curve25519 value


def test_another_key_is_host_key_mismatch_naming_both_fingerprints(sshd):
    """Bug caught: any key the server presents taken as the host's."""
    srv = sshd(key=KEY_B)
    r = run(target(srv))
    assert (r["ok"], r["state"]) == (False, "host_key_mismatch"), r
    assert ps.ssh_key_fingerprint(KEY_B) in r["detail"] and ps.ssh_key_fingerprint(KEY_A) in r["detail"]
    assert r["info"]["banner"].endswith("fake")


def test_a_key_revoked_in_known_hosts_is_mismatch(sshd, tmp_path):
    """Bug caught: @revoked lost on the native path (the server presents the revoked key)."""
    srv = sshd(key=KEY_B)
    kh = tmp_path / "known_hosts"
    kh.write_text("edge1 ssh-ed25519 %s\n@revoked edge1 ssh-ed25519 %s\n" % (KEY_A, KEY_B))
    r = run({"site": "edge1", "kind": "ssh", "address": srv.address, "port": srv.port, "known_hosts": str(kh)})
    assert r["state"] == "host_key_mismatch" and "@revoked" in r["detail"], r


def test_known_hosts_per_alias_picks_the_alias_key(sshd, tmp_path):
    """Bug caught: the comparison made against another alias's key of the same file."""
    srv = sshd(key=KEY_B)
    kh = tmp_path / "known_hosts"
    kh.write_text("edge1 ssh-ed25519 %s\nedge2 ssh-ed25519 %s\n" % (KEY_A, KEY_B))
    base = {"kind": "ssh", "address": srv.address, "port": srv.port, "known_hosts": str(kh)}
    assert run(dict(base, site="edge1"))["state"] == "host_key_mismatch"
    assert run(dict(base, site="x", alias="edge2"))["state"] == "up"


def test_rsa_key_is_read_as_ssh_rsa_whatever_rsa_sha2_algorithm(sshd):
    """Bug caught: the negotiated algorithm (rsa-sha2-512) taken as the key type, so a known ssh-rsa
    key never matches; or ssh-rsa keys fetched with a list that lacks the rsa-sha2 algorithms."""
    blob = fs.rsa_blob()
    srv = sshd(key=blob)
    r = run(target(srv, key="ssh-rsa " + blob))
    assert r["state"] == "up", r
    assert r["info"]["host_key"].startswith("ssh-rsa SHA256:")
    assert srv.seen[0]["kexinit"][1] == ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]


def test_several_known_types_are_offered_in_one_list_and_the_servers_choice_compared(sshd, tmp_path):
    """Bug caught: only the first known type offered (a host with the other type's key is protocol)."""
    blob = fs.rsa_blob()
    srv = sshd(key=blob, host_key_algs=["rsa-sha2-256"])
    kh = tmp_path / "known_hosts"
    kh.write_text("edge1 ssh-ed25519 %s\nedge1 ssh-rsa %s\n" % (KEY_A, blob))
    r = run({"site": "edge1", "kind": "ssh", "address": srv.address, "port": srv.port, "known_hosts": str(kh)})
    assert r["state"] == "up", r
    assert srv.seen[0]["kexinit"][1] == ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]


def test_group14_when_the_server_has_no_curve25519(sshd):
    """Bug caught: a server without curve25519 (FIPS mode) unreachable, or an e the server rejects."""
    srv = sshd(key=KEY_A, kex=["ecdh-sha2-nistp256", "diffie-hellman-group14-sha256"])
    assert run(target(srv))["state"] == "up"
    kind, length = srv.seen[0]["init"]
    assert kind == 30 and 200 <= length <= 257  # an mpint of at most 2048 bits (plus a sign byte)


def test_group14_e_is_within_the_servers_range():
    """Bug caught: e of 0, 1, p - 1 or more (OpenSSH drops the connection: invalid public DH value)."""
    for _i in range(200):
        payload = kx.kex_init_payload("diffie-hellman-group14-sha256")
        n = struct.unpack(">I", payload[1:5])[0]
        raw = payload[5:5 + n]
        assert len(raw) == n and not (raw[0] & 0x80)  # a positive mpint
        e = int.from_bytes(raw, "big")
        assert 2 < e < kx.GROUP14_P - 2
        assert raw[0] != 0 or raw[1] & 0x80  # minimal encoding


def test_probe_all_many_servers_each_compared_on_its_own(sshd):
    """Bug caught: one target given another's key (a shared buffer or result between threads)."""
    servers = [sshd(key=KEY_B if i == 3 else KEY_A, address="127.0.0.%d" % (i + 2)) for i in range(6)]
    ts = [dict(target(s), site="edge%d" % i) for i, s in enumerate(servers)]
    res = pr.probe_all(ts, concurrency=6, connect_timeout=3, timeout=3, ctx=pr.default_context())
    assert [r["state"] for r in res] == ["up"] * 3 + ["host_key_mismatch"] + ["up"] * 2, res


# --------------------------------------------------------------------------- the wire, misbehaving servers

def test_ignore_and_debug_before_kexinit_are_skipped(sshd):
    """Bug caught: an IGNORE or DEBUG message (allowed at any time) taken for the KEXINIT."""
    srv = sshd(key=KEY_A, before=[fs.ignore(), fs.debug(), fs.ignore(b"y" * 300)])
    assert run(target(srv))["state"] == "up"


def test_kexinit_in_the_same_segment_as_the_banner(sshd):
    """Bug caught: the bytes read past the banner line dropped (a server that sends its KEXINIT
    at once, like Dropbear, then times out)."""
    srv = sshd(key=KEY_A, kexinit_with_banner=True)
    r = run(target(srv), timeout=2)
    assert r["state"] == "up", r


def test_lines_before_the_banner_are_skipped_and_the_rest_kept():
    class Sock(object):
        def __init__(self, data):
            self.data = [data]

        def settimeout(self, t):
            pass

        def recv(self, n):
            return self.data.pop(0) if self.data else b""

    banner, rest = ps._read_banner(Sock(b"hello\r\nSSH-2.0-x\r\n\0\0\0\x0c"), Deadline(1, 1))
    assert (banner, rest) == ("SSH-2.0-x", b"\0\0\0\x0c")


def test_no_common_key_exchange_is_protocol_naming_ours(sshd):
    """Bug caught: a server with none of our exchanges waited on until the deadline (timeout), or
    the message not saying what was offered."""
    srv = sshd(key=KEY_A, kex=["sntrup761x25519-sha512@openssh.com", "ecdh-sha2-nistp256"])
    t0 = time.monotonic()
    r = run(target(srv))
    assert r["state"] == "protocol", r
    assert "no key exchange algorithm in common" in r["detail"] and "curve25519-sha256" in r["detail"]
    assert "ecdh-sha2-nistp256" in r["detail"] and time.monotonic() - t0 < 2


def test_no_common_host_key_algorithm_is_protocol(sshd):
    srv = sshd(key=KEY_A, host_key_algs=["ecdsa-sha2-nistp256"])
    r = run(target(srv))
    assert r["state"] == "protocol" and "no host key algorithm in common" in r["detail"], r
    assert "ssh-ed25519" in r["detail"]


def test_key_of_another_type_than_negotiated_is_protocol(sshd):
    """Bug caught: an RSA blob accepted after ed25519 was negotiated (ssh refuses it)."""
    blob = fs.rsa_blob()
    srv = sshd(key=blob)
    r = run(target(srv))
    assert r["state"] == "protocol" and "not of type ssh-ed25519" in r["detail"], r


def _raw_after_kexinit(data, close=True):
    """A server that answers the client's KEXINIT with ``data`` (raw bytes), then closes (or not)."""
    def handler(srv, conn):
        conn.sendall(fs.BANNER)
        fs.read_line(conn)
        fs.read_packet(conn)
        conn.sendall(data)
        if close:
            conn.close()
    return handler


def _assert_not_quoted(r):
    assert "GARBAGE" not in r["detail"] and "\\x" not in r["detail"], r["detail"]


@pytest.mark.parametrize("data, fragment", [
    (struct.pack(">IB", 100000, 4) + GARBAGE, "packet_length out of range"),
    (struct.pack(">IB", 3, 4) + GARBAGE, "packet_length out of range"),
    (struct.pack(">IB", 13, 4) + GARBAGE, "not a multiple of the block size"),
    (struct.pack(">IB", 12, 2) + GARBAGE, "padding_length"),
    (struct.pack(">IB", 12, 11) + GARBAGE, "padding_length"),
    (b"HTTP/1.1 400 Bad Request\r\n\r\n" + GARBAGE, "packet_length out of range"),
    (fs.packet(b"\x14" + GARBAGE[:20]), "KEXINIT is malformed (kex_algorithms overruns the message)"),
    (fs.packet(b"\x14" + os.urandom(16) + fs.sshstr(b"curve25519-sha256\x01" + GARBAGE)),
     "kex_algorithms is not a list of algorithm names"),
    (fs.packet(b"\x05" + GARBAGE), "expected the server's KEXINIT (message 20), got message 5"),
])
def test_malformed_packets_are_protocol_naming_the_field_never_quoting(sshd, data, fragment):
    """Bug caught: a traceback, an unbounded read, or the server's bytes echoed in the detail."""
    srv = sshd(handler=_raw_after_kexinit(data))
    r = run(target(srv), timeout=2)
    assert r["state"] == "protocol" and fragment in r["detail"], r
    _assert_not_quoted(r)


def test_truncated_packet_is_protocol(sshd):
    srv = sshd(handler=_raw_after_kexinit(fs.packet(fs.kexinit())[:40]))
    r = run(target(srv), timeout=2)
    assert r["state"] == "protocol" and "closed the connection before the server's KEXINIT" in r["detail"], r


def test_truncated_reply_is_protocol_naming_the_field(sshd):
    def handler(srv, conn):
        conn.sendall(fs.BANNER)
        fs.read_line(conn)
        fs.read_packet(conn)
        conn.sendall(fs.packet(fs.kexinit()))
        fs.read_packet(conn)
        conn.sendall(fs.packet(b"\x1f" + fs.sshstr(b"\0\0\0\x0bssh-ed25519" + GARBAGE) + b"\0\0\0\x20abc"))
        conn.recv(1)
    r = run(target(sshd(handler=handler)), timeout=2)
    assert r["state"] == "protocol" and "reply is malformed (Q_S overruns the message)" in r["detail"], r
    _assert_not_quoted(r)


def test_disconnect_names_the_reason_and_shows_only_a_short_printable_excerpt(sshd):
    """Bug caught: the server's free text quoted whole (control characters, any length)."""
    text = b"no matching cipher\n\x1b[31m" + b"A" * 500
    srv = sshd(handler=_raw_after_kexinit(fs.packet(fs.disconnect(3, text))))
    r = run(target(srv), timeout=2)
    assert r["state"] == "protocol", r
    assert "reason 3 (KEY_EXCHANGE_FAILED)" in r["detail"] and "no matching cipher" in r["detail"]
    assert "\x1b" not in r["detail"] and "\n" not in r["detail"] and "A" * 81 not in r["detail"]


def test_endless_ignore_messages_are_cut_at_the_read_bound(sshd):
    """Bug caught: a server feeding IGNORE messages holding the probe (and memory) until the deadline."""
    def handler(srv, conn):
        conn.sendall(fs.BANNER)
        fs.read_line(conn)
        fs.read_packet(conn)
        one = fs.packet(fs.ignore(b"z" * 30000))
        while True:
            conn.sendall(one)
    t0 = time.monotonic()
    r = run(target(sshd(handler=handler)), timeout=5)
    assert r["state"] == "protocol" and "more than 256 KiB" in r["detail"], r
    assert time.monotonic() - t0 < 4


@pytest.mark.parametrize("stall_at", ["kexinit", "reply"])
def test_a_stalling_server_is_timeout_at_the_targets_deadline(sshd, stall_at):
    """Bug caught: a receive without the deadline (the probe hangs) or given the whole timeout anew
    (the server answers slowly at first: 0.35 s of the 0.6 s are gone when it stalls)."""
    def handler(srv, conn):
        conn.sendall(fs.BANNER)
        fs.read_line(conn)
        fs.read_packet(conn)
        time.sleep(0.35)
        if stall_at == "reply":
            conn.sendall(fs.packet(fs.kexinit()))
            fs.read_packet(conn)
            conn.sendall(fs.packet(fs.ignore()))  # something, then nothing
        time.sleep(3)
    t0 = time.monotonic()
    r = run(target(sshd(handler=handler)), timeout=0.6)
    took = time.monotonic() - t0
    assert r["state"] == "timeout", r
    assert "within the deadline (0.6s)" in r["detail"] or "deadline of 0.6s passed" in r["detail"], r
    assert 0.55 <= took < 0.85, took


def test_fetch_never_starts_past_the_deadline():
    """Bug caught: a fetch given time the target no longer has (the deadline started at the probe)."""
    a, b = socket.socketpair()
    try:
        d = Deadline(0.05, 0.05)
        time.sleep(0.06)
        with pytest.raises(ProbeError) as err:
            kx.fetch_host_key(a, d, ["ssh-ed25519"])
        assert err.value.state == "timeout"
    finally:
        a.close()
        b.close()


def test_host_key_algorithms_follow_the_known_types_only():
    assert kx.host_key_algorithms(["ssh-rsa", "ssh-ed25519"]) == ["ssh-ed25519", "rsa-sha2-512", "rsa-sha2-256",
                                                                  "ssh-rsa"]
    assert kx.host_key_algorithms(["ecdsa-sha2-nistp384"]) == ["ecdsa-sha2-nistp384"]
    assert kx.host_key_algorithms(["ssh-ed448", "x"]) == []
    assert kx.blob_type(fs.sshstr(b"ssh-ed25519") + b"k") == "ssh-ed25519"
    with pytest.raises(ProbeError):
        kx.blob_type(b"\0\0\0\x05ab")


def test_packets_we_send_are_aligned_and_padded():
    """Bug caught: a packet OpenSSH rejects (bad padding or block alignment)."""
    for n in range(1, 40):
        p = kx._packet(b"x" * n)  # pylint: disable=protected-access
        length, pad = struct.unpack(">IB", p[:5])
        assert len(p) == 4 + length and (4 + length) % 8 == 0 and pad >= 4 and length - pad - 1 == n


# --------------------------------------------------------------------------- a real OpenSSH sshd

SSHD = "/usr/sbin/sshd"


@pytest.fixture(scope="module")
def real_sshd(tmp_path_factory):
    """OpenSSH's sshd on 127.0.0.1 with temporary ed25519 and RSA host keys; make(kex) -> port.

    As root without /run/sshd (its privilege separation directory), sshd runs in a mount namespace of
    its own with a private /run (unshare -m): nothing of the machine's /run is touched."""
    if not os.path.exists(SSHD) or not shutil.which("ssh-keygen"):
        pytest.skip("OpenSSH's sshd is not installed")
    d = tmp_path_factory.mktemp("sshd")
    keys = {}
    for kind in ("ed25519", "rsa"):
        subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", "", "-f", str(d / kind)], check=True)
        keys[kind] = (d / (kind + ".pub")).read_text().split()[:2]
    procs = []

    def make(kex=None):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        cfg = d / ("sshd_%d.conf" % port)
        cfg.write_text("ListenAddress 127.0.0.1\nHostKey %s\nHostKey %s\nPidFile none\nUsePAM no\nStrictModes no\n%s"
                       % (d / "ed25519", d / "rsa", "KexAlgorithms %s\n" % kex if kex else ""))
        argv = [SSHD, "-D", "-e", "-f", str(cfg), "-p", str(port)]
        if os.geteuid() == 0 and not os.path.isdir("/run/sshd"):
            if not shutil.which("unshare"):
                pytest.skip("sshd needs /run/sshd and unshare is not installed")
            argv = ["unshare", "-m", "sh", "-c", 'mount -t tmpfs tmpfs /run && mkdir /run/sshd && exec "$@"', "sshd"] + argv
        p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(p)
        for _i in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return port
            except OSError:
                if p.poll() is not None:
                    pytest.skip("sshd did not start here (exit %s)" % p.returncode)
                time.sleep(0.05)
        pytest.skip("sshd did not listen within 5 s")
    yield make, keys
    for p in procs:
        p.kill()
        p.wait()


@pytest.mark.parametrize("kex", [None, "diffie-hellman-group14-sha256"])
def test_real_sshd_keys_fetched_and_compared(real_sshd, kex):
    """Bug caught: a packet a real OpenSSH rejects (padding, e, Q_C, name-lists), a reply misread,
    or RSA taken by its signature algorithm; against sshd 9.2 as installed."""
    make, keys = real_sshd
    port = make(kex)
    base = {"site": "edge1", "kind": "ssh", "address": "127.0.0.1", "port": port}
    r = run(dict(base, host_key=" ".join(keys["ed25519"])))
    assert r["state"] == "up", r
    r = run(dict(base, host_key=" ".join(keys["rsa"])))
    assert r["state"] == "up" and r["info"]["host_key"].startswith("ssh-rsa "), r
    r = run(dict(base, host_key="ssh-ed25519 " + KEY_A))
    assert r["state"] == "host_key_mismatch", r
    r = run(dict(base, host_key="ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTY="))
    assert r["state"] == "protocol" and "no host key algorithm in common" in r["detail"], r
