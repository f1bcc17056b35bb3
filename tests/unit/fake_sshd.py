# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A scripted SSH server on a loopback port (127.0.0.x only) for the ssh probe's tests.

It speaks the binary packet format of RFC 4253 up to the key exchange reply, written here apart
from the probe's own code (so that one misreading is not shared by both): banner, the client's
version line and KEXINIT, the server's KEXINIT, the client's key exchange init, the reply with a
host key blob. ``handler`` replaces the whole dialogue for the misbehaving servers of the tests.
What the client sent is recorded in ``seen`` (the version line, the client's KEXINIT name-lists,
the key exchange init's message type and the length of its value).
"""
from __future__ import annotations

import base64
import os
import socket
import struct
import threading

BANNER = b"SSH-2.0-OpenSSH_9.2p1 fake\r\n"
KEX = ["sntrup761x25519-sha512@openssh.com", "curve25519-sha256", "curve25519-sha256@libssh.org",
       "diffie-hellman-group14-sha256"]
HOST_KEY_ALGS = ["rsa-sha2-512", "rsa-sha2-256", "ecdsa-sha2-nistp256", "ssh-ed25519"]


def sshstr(data):
    return struct.pack(">I", len(data)) + data


def packet(payload, pad=4, length=None):
    """A binary packet; ``pad`` random padding bytes (grown to align on 8), ``length`` a forced packet_length."""
    while (5 + len(payload) + pad) % 8:
        pad += 1
    real = 1 + len(payload) + pad
    return struct.pack(">IB", real if length is None else length, pad) + payload + os.urandom(pad)


def kexinit(kex=None, host_key_algs=None):
    lists = [",".join(KEX if kex is None else kex), ",".join(HOST_KEY_ALGS if host_key_algs is None else host_key_algs),
             "aes128-ctr", "aes128-ctr", "hmac-sha2-256", "hmac-sha2-256", "none", "none", "", ""]
    return b"\x14" + os.urandom(16) + b"".join(sshstr(x.encode()) for x in lists) + b"\0" + b"\0\0\0\0"


def rsa_blob():
    """A well-formed ssh-rsa public key blob (e = 65537, a random 2048-bit n): its base64 as known_hosts has it."""
    n = b"\0" + b"\xc1" + os.urandom(255)
    return base64.b64encode(sshstr(b"ssh-rsa") + sshstr(b"\x01\x00\x01") + sshstr(n)).decode()


def reply(blob_b64):
    signature = sshstr(b"ssh-ed25519") + sshstr(os.urandom(64))
    return b"\x1f" + sshstr(base64.b64decode(blob_b64)) + sshstr(os.urandom(32)) + sshstr(signature)


def ignore(text=b"x"):
    return b"\x02" + sshstr(text)


def debug(text=b"x"):
    return b"\x04\x01" + sshstr(text) + sshstr(b"")


def disconnect(code, text):
    return b"\x01" + struct.pack(">I", code) + sshstr(text) + sshstr(b"")


def recv_exact(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_line(conn):
    data = b""
    while not data.endswith(b"\n"):
        data += recv_exact(conn, 1)
    return data


def read_packet(conn):
    length, pad = struct.unpack(">IB", recv_exact(conn, 5))
    body = recv_exact(conn, length - 1)
    return body[:len(body) - pad]


def name_lists(payload, count=10):
    pos, out = 17, []
    for _i in range(count):
        n = struct.unpack(">I", payload[pos:pos + 4])[0]
        out.append(payload[pos + 4:pos + 4 + n].decode().split(","))
        pos += 4 + n
    return out


class FakeSshd(object):
    """Serves every connection with ``handler(server, conn)`` (default: the normal dialogue)."""

    def __init__(self, key=None, address="127.0.0.1", kex=None, host_key_algs=None, before=(), banner=BANNER,
                 kexinit_with_banner=False, handler=None):
        self.key, self.kex, self.host_key_algs, self.before = key, kex, host_key_algs, list(before)
        self.banner, self.kexinit_with_banner = banner, kexinit_with_banner
        self.handler = handler or FakeSshd.normal
        self.seen = []
        self.connections = 0
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((address, 0))
        self.sock.listen(64)
        self.address, self.port = self.sock.getsockname()
        self.stop = threading.Event()
        self.conns = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while not self.stop.is_set():
            try:
                conn, _a = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            self.conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        conn.settimeout(10)
        try:
            self.handler(self, conn)
        except (OSError, EOFError, struct.error):
            pass

    def normal(self, conn):
        first = self.banner + (packet(kexinit(self.kex, self.host_key_algs)) if self.kexinit_with_banner else b"")
        conn.sendall(first)
        seen = {"version": read_line(conn)}
        client = read_packet(conn)
        seen["kexinit"] = name_lists(client)
        self.seen.append(seen)
        for p in self.before:
            conn.sendall(packet(p))
        if not self.kexinit_with_banner:
            conn.sendall(packet(kexinit(self.kex, self.host_key_algs)))
        init = read_packet(conn)
        seen["init"] = (init[0], struct.unpack(">I", init[1:5])[0])
        conn.sendall(packet(reply(self.key)))
        conn.recv(1)  # until the client closes

    def close(self):
        self.stop.set()
        close_listener(self.sock, self.thread, self.conns)


def close_listener(sock, thread, conns):
    """Wake the accept() first and wait for the thread, then close the socket and the connections."""
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
    thread.join(5)
    sock.close()
    for c in conns:
        c.close()


def servers():
    """For a test module's fixture (``yield from servers()``): make(**kw) -> a FakeSshd, closed after the test."""
    made = []

    def make(**kw):
        s = FakeSshd(**kw)
        made.append(s)
        return s
    yield make
    for s in made:
        s.close()
