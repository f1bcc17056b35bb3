# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Batched ssh-keyscan: the parsing of one process's output for many hosts, and the ssh probes of a
run sharing it with each target's key still compared on its own.

The ssh targets listen on distinct loopback addresses (127.0.0.2, .3, ...) with one port, so that
they fall in one batch; the ssh-keyscan stand-in reads its ``address name`` lines and prints, for
each, the keys a spec file gives for that address under the name ssh-keyscan would print.
"""
from __future__ import annotations

import json
import os
import socket
import stat
import sys
import threading
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _keyscan as ks
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_ssh as ps
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import Deadline, ProbeError
from tests.unit.probe_servers import KEY_A, KEY_B

ED_A, ED_B = ("ssh-ed25519", KEY_A), ("ssh-ed25519", KEY_B)
RSA = ("ssh-rsa", "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDfake")

FAKE = r'''
import json, sys
spec = json.load(open(sys.argv[1]))
argv = sys.argv[2:]
port = int(argv[argv.index("-p") + 1])
data = sys.stdin.read() if "-f" in argv else "%s %s\n" % (argv[-1], argv[-1])  # alone: "-- address"
with open(spec["record"], "a") as f:
    f.write(json.dumps({"argv": argv, "stdin": data}) + "\n")
if spec.get("sleep"):
    import time
    time.sleep(spec["sleep"])
for line in data.splitlines():
    addr, name = line.split()
    host = name if port == 22 else "[%s]:%d" % (name, port)
    sys.stderr.write("# %s:%d SSH-2.0-fake\n" % (addr, port))
    for key in spec["keys"].get(addr, []):
        print(host, key)
for line in spec.get("extra", []):
    print(line)
for line in spec.get("stderr", []):
    sys.stderr.write(line + "\n")
'''


def fake_batch_keyscan(tmp_path, keys, extra=(), stderr=(), sleep=0):
    """An ssh-keyscan stand-in: ``keys`` {address: ["type base64", ...]}; ``extra`` raw output lines."""
    spec = tmp_path / "spec.json"
    record = tmp_path / "calls.jsonl"
    spec.write_text(json.dumps({"keys": keys, "extra": list(extra), "stderr": list(stderr), "sleep": sleep,
                                "record": str(record)}))
    script = tmp_path / "fake_keyscan.py"
    script.write_text(FAKE)
    tool = tmp_path / "ssh-keyscan"
    tool.write_text("#!/bin/sh\nexec '%s' '%s' '%s' \"$@\"\n" % (sys.executable, script, spec))
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    return str(tool)


def calls(tmp_path):
    p = tmp_path / "calls.jsonl"
    return [json.loads(x) for x in p.read_text().splitlines()] if p.exists() else []


@pytest.fixture
def banners():
    """SSH banner servers on 127.0.0.2.. (one port for all); yields make(n) -> (addresses, port)."""
    socks = []
    stop = threading.Event()

    def serve(s):
        s.settimeout(0.2)
        while not stop.is_set():
            try:
                c, _a = s.accept()
            except OSError:
                continue
            c.sendall(b"SSH-2.0-OpenSSH_9.2p1 fake\r\n")
            c.close()

    def make(n):
        port = 0
        addrs = []
        for i in range(n):
            s = socket.socket()
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            addr = "127.0.0.%d" % (i + 2)
            s.bind((addr, port))
            port = s.getsockname()[1]
            s.listen(16)
            socks.append(s)
            threading.Thread(target=serve, args=(s,), daemon=True).start()
            addrs.append(addr)
        return addrs, port
    yield make
    stop.set()
    for s in socks:
        s.close()


def targets(addrs, port, **extra):
    out = []
    for i, a in enumerate(addrs):
        t = {"site": "edge%d" % i, "kind": "ssh", "address": a, "port": port, "host_key": "ssh-ed25519 " + KEY_A}
        t.update(extra)
        out.append(t)
    return out


def probe_all(ts, keyscan, timeout=3.0):
    ctx = pr.default_context(keyscan=keyscan)
    return pr.probe_all(ts, concurrency=16, connect_timeout=timeout, timeout=timeout, ctx=ctx)


# --------------------------------------------------------------------------- parsing

def test_batch_input_names_every_member_and_refuses_what_the_file_format_would_misread():
    assert ks.batch_input(["198.18.1.10", "edge2.example", "fd00::1"]) == \
        "198.18.1.10 k0\nedge2.example k1\nfd00::1 k2\n"
    for bad in ("198.18.200.0/24", "a,b", "a b", "#x", "-oProxyCommand=x", "", "a\nb"):
        assert not ks.batchable(bad), bad
        with pytest.raises(ValueError):
            ks.batch_input(["198.18.1.10", bad])


def test_argv_reads_hosts_from_stdin_only():
    assert ks.batch_argv("/usr/bin/ssh-keyscan", 2222, ["ed25519", "rsa"], 3) == [
        "/usr/bin/ssh-keyscan", "-T", "3", "-p", "2222", "-t", "ed25519,rsa", "-f", "-"]


def test_parse_batch_a_host_missing_from_the_output_gets_nothing():
    out = "k0 ssh-ed25519 %s\nk2 ssh-ed25519 %s\n" % (KEY_A, KEY_A)
    assert ks.parse_batch(out, 22, 3) == {0: [ED_A], 2: [ED_A]}


def test_parse_batch_interleaved_hosts_and_types_stay_apart():
    out = "\n".join(["[k1]:2222 ssh-rsa %s" % RSA[1], "[k0]:2222 ssh-ed25519 %s" % KEY_A,
                     "# k1 comment", "[k1]:2222 ssh-ed25519 %s" % KEY_B, "[k0]:2222 ssh-rsa %s" % RSA[1]])
    assert ks.parse_batch(out, 2222, 2) == {1: [RSA, ED_B], 0: [ED_A, RSA]}


def test_parse_batch_ignores_lines_of_hosts_not_asked():
    """Bug caught: a line taken by address, by another port's name or by a name past the batch."""
    out = "\n".join(["198.18.1.10 ssh-ed25519 %s" % KEY_A,  # an address, not a member's name
                     "k0 ssh-ed25519 %s" % KEY_A,  # port 22 form, the batch scans 2222
                     "[k3]:2222 ssh-ed25519 %s" % KEY_A,  # past the 3 members
                     "[k10]:2222 ssh-ed25519 %s" % KEY_A,  # k1 is a prefix of it
                     "[k1]:2222 ssh-ed25519 %s" % KEY_B, "[k1]:2222 bogus-type %s" % KEY_A, "[k1]:2222"])
    assert ks.parse_batch(out, 2222, 3) == {1: [ED_B]}


def test_stderr_for_names_the_address_not_a_longer_one():
    text = "read (198.18.1.100): Connection reset by peer\nconnect (`198.18.1.10'): No route to host\n" \
           "# 198.18.1.10:22 SSH-2.0-x\n"
    assert ks.stderr_for(text, "198.18.1.10") == "connect (`198.18.1.10'): No route to host"
    assert ks.stderr_for(text, "198.18.1.1") == ""
    assert ks.stderr_for(text, "198.18.1.100") == "read (198.18.1.100): Connection reset by peer"


# --------------------------------------------------------------------------- one process, many targets

def test_batch_one_process_for_all_and_each_target_compared_on_its_own(banners, tmp_path):
    """Bug caught: a wrong key for one host among many taken as up, or spread to its neighbours."""
    addrs, port = banners(5)
    keys = dict((a, ["ssh-ed25519 " + KEY_A]) for a in addrs)
    keys[addrs[2]] = ["ssh-ed25519 " + KEY_B]  # an impostor among many
    res = probe_all(targets(addrs, port), fake_batch_keyscan(tmp_path, keys))
    assert [r["state"] for r in res] == ["up", "up", "host_key_mismatch", "up", "up"], res
    assert ps.ssh_key_fingerprint(KEY_B) in res[2]["detail"] and ps.ssh_key_fingerprint(KEY_A) in res[2]["detail"]
    got = calls(tmp_path)
    batched = [c for c in got if "-f" in c["argv"]]
    assert batched and sum(len(c["stdin"].splitlines()) for c in batched) + (len(got) - len(batched)) == 5
    assert len(got) < 5, "one ssh-keyscan per target: nothing was batched"
    for c in batched:
        assert c["argv"][-2:] == ["-f", "-"] and "--" not in c["argv"]


def test_batch_host_missing_from_output_is_protocol_and_not_up(banners, tmp_path):
    """Bug caught: a host absent from the batch's output given another line's key (an address-named
    line, a name not asked) or counted as up."""
    addrs, port = banners(4)
    keys = dict((a, ["ssh-ed25519 " + KEY_A]) for a in addrs if a != addrs[1])
    extra = ["%s ssh-ed25519 %s" % (addrs[1], KEY_A), "[%s]:%d ssh-ed25519 %s" % (addrs[1], port, KEY_A),
             "[k9]:%d ssh-ed25519 %s" % (port, KEY_A)]
    reset = "read (%s): Connection reset by peer" % addrs[1]
    res = probe_all(targets(addrs, port), fake_batch_keyscan(tmp_path, keys, extra=extra, stderr=[reset]))
    assert [r["state"] for r in res] == ["up", "protocol", "up", "up"], res
    assert "no host key of type ed25519" in res[1]["detail"]
    if any(len(c["stdin"].splitlines()) == 4 for c in calls(tmp_path)):  # all four in one batch
        assert res[1]["detail"].endswith("read (%s): Connection reset by peer" % addrs[1])


def test_batch_revoked_key_for_one_alias_is_mismatch(banners, tmp_path):
    """Bug caught: the @revoked check lost in the batch path, or one alias's revocation applied to
    (or missed for) another member of the batch."""
    addrs, port = banners(3)
    kh = tmp_path / "known_hosts"
    kh.write_text("edge0,edge1,edge2 ssh-ed25519 %s\nedge0,edge1,edge2 ssh-ed25519 %s\n@revoked edge1 ssh-ed25519 %s\n"
                  % (KEY_A, KEY_B, KEY_B))
    keys = {addrs[0]: ["ssh-ed25519 " + KEY_A], addrs[1]: ["ssh-ed25519 " + KEY_B], addrs[2]: ["ssh-ed25519 " + KEY_B]}
    ts = targets(addrs, port, known_hosts=str(kh))
    for t in ts:
        del t["host_key"]
    res = probe_all(ts, fake_batch_keyscan(tmp_path, keys))
    assert [r["state"] for r in res] == ["up", "host_key_mismatch", "up"], res
    assert "@revoked" in res[1]["detail"]
    assert any("-f" in c["argv"] for c in calls(tmp_path))


def test_two_targets_on_one_address_share_one_scan_and_keep_their_own_verdict(banners, tmp_path):
    """Bug caught: a second target on the same address lost (left to time out), scanned twice, or
    compared with the keys of another address of the batch."""
    addrs, port = banners(2)
    ts = targets([addrs[0], addrs[0], addrs[1]], port)
    ts[1]["host_key"] = "ssh-ed25519 " + KEY_B  # same address, another pin: its own verdict
    res = probe_all(ts, fake_batch_keyscan(tmp_path, {addrs[0]: ["ssh-ed25519 " + KEY_A],
                                                      addrs[1]: ["ssh-ed25519 " + KEY_B]}))
    assert [r["state"] for r in res] == ["up", "host_key_mismatch", "host_key_mismatch"], res
    for c in calls(tmp_path):
        lines = c["stdin"].split()
        assert len(set(lines[0::2])) == len(lines[0::2]), c  # every address once per batch


def test_a_batch_holds_at_most_max_connections(banners, tmp_path):
    """Bug caught: batches growing without bound (one process's key exchanges outlasting the deadline)."""
    addrs, port = banners(6)
    ctx = pr.default_context(keyscan=fake_batch_keyscan(tmp_path, dict((a, ["ssh-ed25519 " + KEY_A]) for a in addrs)))
    ctx["keyscan_batch"] = ks.KeyscanBatcher(ctx["keyscan"], gather=0.2, max_connections=2)
    res = pr.probe_all(targets(addrs, port), concurrency=16, connect_timeout=3, timeout=3, ctx=ctx)
    assert [r["state"] for r in res] == ["up"] * 6, res
    assert ctx["keyscan_batch"].batches and max(ctx["keyscan_batch"].batches) <= 2
    assert all(len(c["stdin"].splitlines()) <= 2 for c in calls(tmp_path))


def test_batch_member_times_out_at_its_own_deadline(tmp_path):
    """Bug caught: a target waiting for the whole batch (or the batch's -T) past its own deadline."""
    keyscan = fake_batch_keyscan(tmp_path, {"127.0.0.2": ["ssh-ed25519 " + KEY_A]}, sleep=3)
    b = ks.KeyscanBatcher(keyscan, gather=0.05)
    out = {}

    def one(addr, total):
        d = Deadline(total, total)
        try:
            out[addr] = b.fetch(addr, 22, ["ed25519"], d)
        except ProbeError as exc:
            out[addr] = exc.state
        out[addr + "/s"] = time.monotonic() - d.start

    th = [threading.Thread(target=one, args=("127.0.0.%d" % (i + 2), 0.4 + i)) for i in range(2)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    assert out["127.0.0.2"] == "timeout" and out["127.0.0.3"] == "timeout"
    assert out["127.0.0.2/s"] < 0.9, out  # its own 0.4 s, not the other's 1.4 s nor the batch's 3 s
    assert 1.3 < out["127.0.0.3/s"] < 1.9, out
    assert b.batches == [2]


def test_a_batch_of_one_and_an_unbatchable_address_run_alone(tmp_path):
    b = ks.KeyscanBatcher(fake_batch_keyscan(tmp_path, {}), gather=0.01)
    assert b.fetch("127.0.0.2", 22, ["ed25519"], Deadline(2, 2)) is None
    assert b.fetch("198.18.200.0/24", 22, ["ed25519"], Deadline(2, 2)) is None
    assert calls(tmp_path) == [] and b.batches == [] and b.alone == 2


def test_probe_all_without_batching_runs_one_keyscan_per_target(banners, tmp_path):
    addrs, port = banners(3)
    ctx = pr.default_context(keyscan=fake_batch_keyscan(tmp_path, {}))
    ctx["keyscan_batch"] = None
    pr.probe_all(targets(addrs, port), concurrency=8, connect_timeout=2, timeout=2, ctx=ctx)
    got = calls(tmp_path)
    assert len(got) == 3 and all(c["argv"][-2] == "--" for c in got)


def test_cannot_run_keyscan_is_protocol_for_every_member(tmp_path):
    b = ks.KeyscanBatcher(os.path.join(str(tmp_path), "missing-keyscan"), gather=0.05)
    out = []

    def one(addr):
        try:
            b.fetch(addr, 22, ["ed25519"], Deadline(2, 2))
        except ProbeError as exc:
            out.append((exc.state, "cannot run" in exc.detail))

    th = [threading.Thread(target=one, args=(a,)) for a in ("127.0.0.2", "127.0.0.3")]
    for t in th:
        t.start()
    for t in th:
        t.join()
    assert out == [("protocol", True), ("protocol", True)]


def test_batch_waits_for_every_type_asked_before_comparing(banners, tmp_path):
    """Bug caught: a target handed its keys at the first line, so a revoked key of a second type
    that comes later is never seen."""
    addrs, port = banners(2)
    rsa_revoked = "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDrevoked"
    kh = tmp_path / "known_hosts"
    kh.write_text("edge0,edge1 ssh-ed25519 %s\nedge0,edge1 ssh-rsa %s\n@revoked edge0,edge1 ssh-rsa %s\n"
                  % (KEY_A, RSA[1], rsa_revoked))
    keys = {addrs[0]: ["ssh-ed25519 " + KEY_A, "ssh-rsa " + rsa_revoked], addrs[1]: ["ssh-ed25519 " + KEY_A]}
    ts = targets(addrs, port, known_hosts=str(kh))
    for t in ts:
        del t["host_key"]
    res = probe_all(ts, fake_batch_keyscan(tmp_path, keys))
    assert [r["state"] for r in res] == ["host_key_mismatch", "up"], res
    assert "@revoked" in res[0]["detail"]


# --------------------------------------------------------------------------- how many ssh probes at once

def _tracking(monkeypatch, hold=0.15):
    """Replace the ssh and tcp kinds by stand-ins that hold ``hold`` s and count how many run at once."""
    lock = threading.Lock()
    now = {"ssh": 0, "tcp": 0, "all": 0}
    peak = dict(now)

    def kind(name):
        def probe(target, deadline, ctx):
            with lock:
                for k in (name, "all"):
                    now[k] += 1
                    peak[k] = max(peak[k], now[k])
            time.sleep(hold)
            left = deadline.remaining()
            with lock:
                for k in (name, "all"):
                    now[k] -= 1
            if left <= 0:
                raise ProbeError("timeout", "deadline passed")
            return "ok", {}
        return probe

    monkeypatch.setattr(ps, "probe_ssh", kind("ssh"))
    monkeypatch.setattr(pr, "probe_tcp", kind("tcp"))
    return peak


def test_at_most_ssh_concurrency_ssh_probes_at_once_and_the_rest_keep_going(monkeypatch):
    """Bug caught: every worker of the pool in a key exchange at once (the prober's own CPU load
    timing its ssh probes out), or the other kinds starved while ssh probes wait for their turn."""
    peak = _tracking(monkeypatch)
    ts = [{"site": "s%d" % i, "kind": "ssh" if i % 2 else "tcp", "address": "127.0.0.1", "port": 22}
          for i in range(24)]
    res = pr.probe_all(ts, concurrency=8, timeout=5, ctx=pr.default_context(), ssh_concurrency=3)
    assert [r["site"] for r in res] == ["s%d" % i for i in range(24)] and all(r["state"] == "up" for r in res)
    assert peak["ssh"] == 3 and peak["all"] <= 8 and peak["tcp"] >= 2, peak


def test_a_queued_ssh_probe_starts_its_deadline_when_it_starts(monkeypatch):
    """Bug caught: a target's deadline started when it was queued, so waiting for an ssh turn
    (one at a time here, 0.15 s each) times out the later ones."""
    _tracking(monkeypatch)
    ts = [{"site": "s%d" % i, "kind": "ssh", "address": "127.0.0.1", "port": 22} for i in range(5)]
    t0 = time.monotonic()
    res = pr.probe_all(ts, concurrency=8, connect_timeout=0.4, timeout=0.4, ctx=pr.default_context(),
                       ssh_concurrency=1)
    assert time.monotonic() - t0 >= 0.7  # they did wait for each other
    assert [r["state"] for r in res] == ["up"] * 5, res
    assert all(r["latency_ms"] < 350 for r in res), [r["latency_ms"] for r in res]


def test_ssh_concurrency_default_scales_with_the_cpus(monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    assert pr.ssh_concurrency_default() == 2 * pr.SSH_PER_CPU
    monkeypatch.setattr(os, "cpu_count", lambda: None)
    assert pr.ssh_concurrency_default() == max(4, pr.SSH_PER_CPU)


def test_one_worker_means_one_probe_at_a_time_with_both_kinds(monkeypatch):
    """Bug caught: an ssh pool and a pool for the rest each given a worker when concurrency is 1."""
    peak = _tracking(monkeypatch, hold=0.05)
    ts = [{"site": "s%d" % i, "kind": "ssh" if i % 2 else "tcp", "address": "127.0.0.1", "port": 22} for i in range(6)]
    res = pr.probe_all(ts, concurrency=1, timeout=5, ctx=pr.default_context())
    assert all(r["state"] == "up" for r in res) and peak["all"] == 1, peak


def test_a_batch_that_breaks_answers_every_member_at_once(monkeypatch, tmp_path):
    """Bug caught: an exception in the batch thread leaving its members to wait out their deadlines."""
    def broken(self, batch, reqs):
        raise RuntimeError("broken on purpose")
    monkeypatch.setattr(ks.KeyscanBatcher, "_run", broken)
    b = ks.KeyscanBatcher(fake_batch_keyscan(tmp_path, {}), gather=0.05)
    out = []

    def one(addr):
        d = Deadline(5, 5)
        try:
            b.fetch(addr, 22, ["ed25519"], d)
        except ProbeError as exc:
            out.append((exc.state, "broken on purpose" in exc.detail, time.monotonic() - d.start < 2))

    th = [threading.Thread(target=one, args=(a,)) for a in ("127.0.0.2", "127.0.0.3")]
    for t in th:
        t.start()
    for t in th:
        t.join()
    assert out == [("protocol", True, True)] * 2
