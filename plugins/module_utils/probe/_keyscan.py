# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Batched ``ssh-keyscan`` (standard library only): one process fetches the host keys of many ssh targets.

``ssh-keyscan -f -`` reads ``address name`` lines and scans every host concurrently in one
process (non-blocking sockets, its own per-connection ``-T`` timeout, at most 246 connections at
once: 256 descriptors less 10). The ssh probes of a run that reach the host-key step within
``GATHER_S`` of each other and share a port and key types join one batch (at most
``MAX_CONNECTIONS`` connections). Targets of one batch on the same address share its one scan
(the keys an address offers do not depend on the alias they are compared for). Each address is
given a name of its own (``k<i>``) that ssh-keyscan copies to its output (``k3 ssh-ed25519 ...``,
``[k3]:2222 ...`` off port 22), so lines of a host that was not asked are never taken for
another's. The comparison with the pin or known_hosts stays
in ``_probe_ssh``, per target.

Deadlines stay each target's own: a target waits for its keys at most until its own deadline
(which started when its probe started), then is a ``timeout`` whatever the batch does; the batch's
``-T`` is the largest remaining time of its members and the process is killed after it. A batch of
one member is handed back to the caller (``fetch`` returns None), which runs the single-host
command line (``-- address``) as before. Addresses that ssh-keyscan's file format would read as
something else (a comma: an address list; a slash: a CIDR range; spaces, ``#``) are never batched.
"""

from __future__ import annotations

import math
import re
import subprocess
import tempfile
import threading

from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import ProbeError

# Keyscan option names of the SSH key types ssh-keyscan prints (the first field after the host).
KEYSCAN_TYPES = {
    "ssh-ed25519": "ed25519", "ssh-rsa": "rsa", "ssh-dss": "dsa",
    "ecdsa-sha2-nistp256": "ecdsa", "ecdsa-sha2-nistp384": "ecdsa", "ecdsa-sha2-nistp521": "ecdsa",
    "sk-ssh-ed25519@openssh.com": "ed25519-sk", "sk-ecdsa-sha2-nistp256@openssh.com": "ecdsa-sk",
}
# ssh-keyscan opens one connection per host and key type, at most 256 - 10 at once; but its key
# exchanges share one CPU, and OpenSSH 9.2's (sntrup761x25519, which ssh-keyscan has no option to
# change) costs about 60 ms of CPU per connection on a 2-core machine: one process's batch is done
# one key exchange after the other. Small batches, several at once, keep every CPU busy and each
# batch short; the process start they save is small beside the key exchange.
MAX_CONNECTIONS = 4
# How long the first probe of a batch waits for others to join it.
GATHER_S = 0.01
# Extra time the batch process gets past its -T before it is killed.
GRACE_S = 0.5
_BATCHABLE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.:-]*$")


def batchable(address):
    """True when ``address`` reads as one host in ssh-keyscan's ``-f`` format (no list, range or comment)."""
    return isinstance(address, str) and bool(_BATCHABLE.match(address)) and len(address) <= 255


def host_name(name, port):
    """The host field of ssh-keyscan's output for the output ``name`` scanned on ``port``."""
    return name.lower() if int(port) == 22 else "[%s]:%d" % (name.lower(), int(port))


def batch_argv(keyscan, port, types, timeout):
    """ssh-keyscan's command line for a batch: hosts come on standard input (``-f -``), never as options."""
    return [keyscan, "-T", str(int(timeout)), "-p", str(int(port)), "-t", ",".join(types), "-f", "-"]


def batch_input(addresses):
    """The ``-f -`` input: ``address k<i>`` a line, ``k<i>`` the name ssh-keyscan prints for member i."""
    for a in addresses:
        if not batchable(a):
            raise ValueError("address %r cannot be batched" % (a,))
    return "".join("%s k%d\n" % (a, i) for i, a in enumerate(addresses))


def key_line(line):
    """``(host, (type, base64))`` of an ssh-keyscan output line, None for a comment or any other line."""
    parts = line.split()
    if len(parts) < 3 or line.startswith("#") or parts[1] not in KEYSCAN_TYPES:
        return None
    return parts[0], (parts[1], parts[2])


def parse_batch(text, port, count):
    """{member index: [(type, base64), ...]} from a batch's standard output; lines of hosts not asked
    (another name, another port, an index out of range), comments and malformed lines are ignored."""
    names = dict((host_name("k%d" % i, port), i) for i in range(count))
    out = {}
    for line in text.splitlines():
        got = key_line(line)
        i = names.get(got[0]) if got else None
        if i is not None and got[1] not in out.get(i, []):
            out.setdefault(i, []).append(got[1])
    return out


def stderr_for(text, address):
    """The last line of ssh-keyscan's standard error that names ``address`` (its errors name the
    address scanned, not the output name), or ''."""
    pat = re.compile(r"(^|[^A-Za-z0-9_.:-])%s([^A-Za-z0-9_.-]|:\d|$)" % re.escape(address), re.IGNORECASE)
    found = ""
    for line in text.splitlines():
        if pat.search(line) and not line.startswith("#"):
            found = line.strip()
    return found


class _Request(object):
    def __init__(self, address, deadline):
        self.address = address
        self.deadline = deadline
        self.done = threading.Event()
        self.offered = []
        self.stderr = ""
        self.error = None
        self.alone = False


class _Batch(object):
    def __init__(self, port, types, cap):
        self.port = port
        self.types = types
        self.cap = cap
        self.requests = []
        self.addresses = set()
        self.full = threading.Event()


class KeyscanBatcher(object):
    """Shared by the ssh probes of one run (``ctx["keyscan_batch"]``); thread-safe."""

    def __init__(self, keyscan, gather=GATHER_S, max_connections=MAX_CONNECTIONS):
        self.keyscan = keyscan
        self.gather = gather
        self.max_connections = max_connections
        self._lock = threading.Lock()
        self._open = {}
        self.batches = []  # addresses scanned by each batch process (for benchmarks)
        self.alone = 0  # targets handed back to run ssh-keyscan alone

    def fetch(self, address, port, types, deadline):
        """``(offered, stderr_line)`` for ``address``, or None when the caller should run ssh-keyscan
        for this host alone. Raises a timeout ProbeError when the target's own deadline passes first."""
        if not batchable(address):
            with self._lock:
                self.alone += 1
            return None
        req = _Request(address, deadline)
        key = (int(port), tuple(types))
        with self._lock:
            batch = self._open.get(key)
            if batch is None:
                cap = max(1, self.max_connections // max(1, len(types)))
                batch = self._open[key] = _Batch(int(port), list(types), cap)
                t = threading.Thread(target=self._launch, args=(key, batch), name="keyscan-batch")
                t.daemon = True
                t.start()
            batch.requests.append(req)
            batch.addresses.add(address.lower())
            if len(batch.addresses) >= batch.cap:
                del self._open[key]
                batch.full.set()
        if not req.done.wait(max(0.0, deadline.remaining())):
            raise ProbeError("timeout", "ssh-keyscan: no answer within the deadline (%gs)" % deadline.total)
        if req.alone:
            return None
        if req.error is not None:
            raise req.error
        return req.offered, req.stderr

    def _launch(self, key, batch):
        batch.full.wait(self.gather)
        with self._lock:
            if self._open.get(key) is batch:
                del self._open[key]
        live = [r for r in batch.requests if r.deadline.remaining() > 0]
        try:
            if len(live) == 1:
                live[0].alone = True
                with self._lock:
                    self.alone += 1
            elif live:
                self._run(batch, live)
        except Exception as exc:  # noqa: BLE001 - every member must get an answer, never wait in vain
            for r in live:
                r.error = ProbeError("protocol", "ssh-keyscan batch: %s: %s" % (exc.__class__.__name__, exc))
        finally:
            for r in batch.requests:
                r.done.set()

    def _run(self, batch, reqs):
        left = max(r.deadline.remaining() for r in reqs)
        groups = {}  # one scan per address, shared by its targets
        for r in reqs:
            groups.setdefault(r.address.lower(), []).append(r)
        addresses = list(groups)
        with self._lock:
            self.batches.append(len(addresses))
        argv = batch_argv(self.keyscan, batch.port, batch.types, max(1, int(math.ceil(left))))
        wanted = set(batch.types)
        names = dict((host_name("k%d" % i, batch.port), groups[a]) for i, a in enumerate(addresses))
        try:
            with tempfile.TemporaryFile() as err:
                proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
                timer = threading.Timer(left + GRACE_S, proc.kill)
                timer.daemon = True
                timer.start()
                try:
                    try:
                        proc.stdin.write(batch_input(addresses).encode("ascii"))
                        proc.stdin.close()
                    except OSError:
                        pass  # it ended early: what it printed (or not) says why
                    for raw in proc.stdout:
                        self._line(raw.decode("utf-8", "replace"), names, wanted)
                    proc.wait()
                finally:
                    timer.cancel()
                    proc.stdout.close()
                err.seek(0)
                text = err.read(1 << 20).decode("utf-8", "replace")
        except OSError as exc:
            for r in reqs:
                r.error = ProbeError("protocol", "ssh-keyscan: cannot run %s: %s" % (argv[0], exc))
            return
        for r in reqs:
            if not r.done.is_set():
                r.stderr = stderr_for(text, r.address)

    @staticmethod
    def _line(line, names, wanted):
        got = key_line(line)
        for r in (names.get(got[0], ()) if got else ()):
            if r.done.is_set():
                continue
            if got[1] not in r.offered:
                r.offered.append(got[1])
            if wanted <= set(KEYSCAN_TYPES[t] for t, _b in r.offered):
                r.done.set()  # every type asked for has come: this target need not wait for the others
