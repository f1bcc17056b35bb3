# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An SSH server's host key, fetched on the probe's own socket (standard library only).

After the server's banner, ``fetch_host_key`` sends our version line and an SSH_MSG_KEXINIT
offering the key exchanges ``curve25519-sha256`` (and its ``@libssh.org`` name) and
``diffie-hellman-group14-sha256``, and as host-key algorithms exactly those of the key types the
caller must compare against (``rsa-sha2-512``, ``rsa-sha2-256`` and ``ssh-rsa`` for an ``ssh-rsa``
key). It reads the server's KEXINIT (skipping IGNORE and DEBUG), picks the first algorithm of ours
the server has, sends SSH_MSG_KEX_ECDH_INIT (random bytes as the client's curve25519 public value)
or SSH_MSG_KEXDH_INIT (a random ``e`` in [3, p - 3]), reads the reply and takes its host key K_S,
then stops: the caller closes the socket. The key comes back as ``(type, base64)``, exactly as
ssh-keyscan prints it (an RSA key is ``ssh-rsa`` whichever rsa-sha2 algorithm was negotiated).

The reply's signature is NOT verified, and no key is derived: like ssh-keyscan (whose host-key
callback aborts its key exchange before the signature is checked), this only reads the key the
server presents. The caller compares that key with the pin or known_hosts; a server that does not
hold the private key of a known key is not caught here (a login is). The cost is a few packets
and no public-key arithmetic on our side: the post-quantum exchange ssh-keyscan always offers
first (about 60 ms of CPU per address) is never offered.

One key is fetched per probe: the server's key of the first host-key algorithm of ours it has,
as ``ssh`` itself negotiates (ssh-keyscan asked for every known type, one connection each).

Bounded everywhere: every packet is checked (``packet_length`` 5 to 35000 and a multiple of the
block size with its length field, padding at least 4 bytes, a payload left), at most 256 KiB are
read in all, and every send and receive waits at most until the caller's deadline, which started
when the probe did. Anything malformed is a ``protocol`` ProbeError naming the message and field;
the server's bytes are never quoted (a DISCONNECT's reason code is named, its text is shown only as
a short printable excerpt).
"""

from __future__ import annotations

import base64
import os
import socket
import struct

from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import ProbeError, classify_error, shown_text

VERSION = b"SSH-2.0-o2edge_probe\r\n"
# Key exchanges offered, preferred first: none of them costs us arithmetic (the reply's K_S is all we read).
KEX_ALGORITHMS = ("curve25519-sha256", "curve25519-sha256@libssh.org", "diffie-hellman-group14-sha256")
_ECDH = ("curve25519-sha256", "curve25519-sha256@libssh.org")
# RFC 3526 group 14 (2048-bit MODP) prime.
GROUP14_P = int(
    "FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD"
    "EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED"
    "EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F"
    "83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B"
    "E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510"
    "15728E5A8AACAA68FFFFFFFFFFFFFFFF", 16)
# Host-key algorithms for each key type of known_hosts, in the order they are offered.
HOST_KEY_ALGORITHMS = (
    ("ssh-ed25519", ("ssh-ed25519",)),
    ("ecdsa-sha2-nistp256", ("ecdsa-sha2-nistp256",)),
    ("ecdsa-sha2-nistp384", ("ecdsa-sha2-nistp384",)),
    ("ecdsa-sha2-nistp521", ("ecdsa-sha2-nistp521",)),
    ("sk-ssh-ed25519@openssh.com", ("sk-ssh-ed25519@openssh.com",)),
    ("sk-ecdsa-sha2-nistp256@openssh.com", ("sk-ecdsa-sha2-nistp256@openssh.com",)),
    ("ssh-rsa", ("rsa-sha2-512", "rsa-sha2-256", "ssh-rsa")),
    ("ssh-dss", ("ssh-dss",)),
)
KEY_TYPE_OF = dict((alg, kt) for kt, algs in HOST_KEY_ALGORITHMS for alg in algs)
# Offered so that the server finds one in common; never used (the exchange stops before keys are derived).
CIPHERS = ("chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes256-ctr,aes128-gcm@openssh.com,"
           "aes256-gcm@openssh.com")
MACS = ("umac-64-etm@openssh.com,umac-128-etm@openssh.com,hmac-sha2-256-etm@openssh.com,"
        "hmac-sha2-512-etm@openssh.com,hmac-sha1-etm@openssh.com,umac-64@openssh.com,umac-128@openssh.com,"
        "hmac-sha2-256,hmac-sha2-512,hmac-sha1")
COMPRESSION = "none,zlib@openssh.com"

MSG_DISCONNECT, MSG_IGNORE, MSG_DEBUG, MSG_KEXINIT, MSG_KEX_INIT, MSG_KEX_REPLY = 1, 2, 4, 20, 30, 31
MIN_PACKET, MAX_PACKET = 5, 35000
MAX_READ = 256 << 10
BLOCK = 8
DISCONNECT_REASONS = {
    1: "HOST_NOT_ALLOWED_TO_CONNECT", 2: "PROTOCOL_ERROR", 3: "KEY_EXCHANGE_FAILED", 4: "RESERVED",
    5: "MAC_ERROR", 6: "COMPRESSION_ERROR", 7: "SERVICE_NOT_AVAILABLE", 8: "PROTOCOL_VERSION_NOT_SUPPORTED",
    9: "HOST_KEY_NOT_VERIFIABLE", 10: "CONNECTION_LOST", 11: "BY_APPLICATION", 12: "TOO_MANY_CONNECTIONS",
    13: "AUTH_CANCELLED_BY_USER", 14: "NO_MORE_AUTH_METHODS_AVAILABLE", 15: "ILLEGAL_USER_NAME",
}
_WHAT = "SSH key exchange"


def _error(detail):
    return ProbeError("protocol", "%s: %s" % (_WHAT, detail))


def host_key_algorithms(key_types):
    """The host-key algorithms to offer for ``key_types`` (known_hosts key types), preferred first;
    types this fetch does not know are left out."""
    wanted = set(key_types)
    return [alg for kt, algs in HOST_KEY_ALGORITHMS if kt in wanted for alg in algs]


# --------------------------------------------------------------------------- encoding

def _string(data):
    return struct.pack(">I", len(data)) + data


def _mpint(value):
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return _string(b"\0" + raw if raw and raw[0] & 0x80 else raw)  # positive: no top bit set


def _packet(payload):
    """One binary packet without encryption or MAC: length, padding length, payload, random padding."""
    pad = BLOCK - (5 + len(payload)) % BLOCK
    if pad < 4:
        pad += BLOCK
    return struct.pack(">IB", 1 + len(payload) + pad, pad) + payload + os.urandom(pad)


def kexinit_payload(host_key_algs):
    lists = [",".join(KEX_ALGORITHMS), ",".join(host_key_algs), CIPHERS, CIPHERS, MACS, MACS,
             COMPRESSION, COMPRESSION, "", ""]
    return (bytes([MSG_KEXINIT]) + os.urandom(16) + b"".join(_string(x.encode("ascii")) for x in lists)
            + b"\0" + struct.pack(">I", 0))


def kex_init_payload(kex):
    """SSH_MSG_KEX_ECDH_INIT (random Q_C) or SSH_MSG_KEXDH_INIT (random e) for ``kex``."""
    if kex in _ECDH:
        return bytes([MSG_KEX_INIT]) + _string(os.urandom(32))
    e = int.from_bytes(os.urandom(264), "big") % (GROUP14_P - 5) + 3  # in [3, p - 3]
    return bytes([MSG_KEX_INIT]) + _mpint(e)


# --------------------------------------------------------------------------- decoding

class _Fields(object):
    """Reads the fields of one message's payload; a field that overruns it is a protocol error naming it."""

    def __init__(self, payload, what):
        self.data = payload
        self.pos = 1  # after the message type
        self.what = what

    def _take(self, n, field):
        if n < 0 or self.pos + n > len(self.data):
            raise _error("%s is malformed (%s overruns the message)" % (self.what, field))
        out = self.data[self.pos:self.pos + n]
        self.pos += n
        return out

    def uint32(self, field):
        return struct.unpack(">I", self._take(4, field))[0]

    def string(self, field):
        return self._take(self.uint32(field), field)

    def name_list(self, field):
        raw = self.string(field)
        if any(b < 0x21 or b > 0x7e for b in raw):
            raise _error("%s is malformed (%s is not a list of algorithm names)" % (self.what, field))
        return [n for n in raw.decode("ascii").split(",") if n]


class _Reader(object):
    """Binary packets from the socket, each within the deadline and all within MAX_READ bytes."""

    def __init__(self, sock, deadline, pending=b""):
        self.sock = sock
        self.deadline = deadline
        self.buf = bytearray(pending)
        self.total = len(pending)

    def _fill(self, n, what):
        while len(self.buf) < n:
            self.sock.settimeout(self.deadline.left("%s (%s)" % (what, _WHAT)))
            try:
                chunk = self.sock.recv(16384)
            except (socket.timeout, TimeoutError):
                raise ProbeError("timeout", "%s: %s did not come within the deadline (%gs)" % (_WHAT, what, self.deadline.total))
            except OSError as exc:
                raise classify_error(exc, "%s (waiting for %s)" % (_WHAT, what))
            if not chunk:
                raise _error("the server closed the connection before %s was complete" % what)
            self.total += len(chunk)
            if self.total > MAX_READ:
                raise _error("the server sent more than %d KiB before %s" % (MAX_READ >> 10, what))
            self.buf += chunk

    def packet(self, what):
        self._fill(5, what)
        length, pad = struct.unpack(">IB", bytes(self.buf[:5]))
        if length < MIN_PACKET or length > MAX_PACKET:
            raise _error("%s: packet_length out of range (%d to %d)" % (what, MIN_PACKET, MAX_PACKET))
        if (4 + length) % BLOCK:
            raise _error("%s: packet_length is not a multiple of the block size" % what)
        if pad < 4 or pad > length - 2:
            raise _error("%s: padding_length is not between 4 and packet_length - 2" % what)
        self._fill(4 + length, what)
        payload = bytes(self.buf[5:4 + length - pad])
        del self.buf[:4 + length]
        return payload

    def message(self, expect, what):
        """The payload of the next message but IGNORE and DEBUG; it must be of type ``expect``."""
        while True:
            payload = self.packet(what)
            kind = payload[0]
            if kind in (MSG_IGNORE, MSG_DEBUG):
                continue
            if kind == MSG_DISCONNECT:
                raise _disconnect(payload, what)
            if kind != expect:
                raise _error("expected %s (message %d), got message %d" % (what, expect, kind))
            return payload


def _disconnect(payload, what):
    f = _Fields(payload, "the server's DISCONNECT")
    try:
        code = f.uint32("reason code")
    except ProbeError:
        return _error("the server disconnected before %s (no reason code)" % what)
    try:
        text = shown_text(f.string("description").decode("utf-8", "replace"), 80)
    except ProbeError:
        text = ""
    return _error("the server disconnected before %s: reason %d (%s)%s"
                  % (what, code, DISCONNECT_REASONS.get(code, "unknown"), (": " + text) if text else ""))


def _offered(names):
    text = ",".join(names)
    return text if len(text) <= 160 else text[:157] + "..."


def parse_kexinit(payload):
    """{"kex": [...], "host_key": [...]} of a KEXINIT payload (the other lists are read, not kept)."""
    f = _Fields(payload, "the server's KEXINIT")
    f._take(16, "cookie")  # pylint: disable=protected-access
    out = {"kex": f.name_list("kex_algorithms"), "host_key": f.name_list("server_host_key_algorithms")}
    for field in ("encryption_algorithms_client_to_server", "encryption_algorithms_server_to_client",
                  "mac_algorithms_client_to_server", "mac_algorithms_server_to_client",
                  "compression_algorithms_client_to_server", "compression_algorithms_server_to_client",
                  "languages_client_to_server", "languages_server_to_client"):
        f.name_list(field)
    f._take(1, "first_kex_packet_follows")  # pylint: disable=protected-access
    f.uint32("reserved")
    return out


def blob_type(blob):
    """The key type a host key blob names (its first string), or a protocol error."""
    f = _Fields(b"\0" + blob, "the server's host key")
    name = f.string("key type")
    if not name or len(name) > 64 or any(b < 0x21 or b > 0x7e for b in name):
        raise _error("the server's host key is malformed (its key type is not a name)")
    return name.decode("ascii")


def fetch_host_key(sock, deadline, key_types, pending=b""):
    """``((type, base64), kex, host_key_algorithm)``: the host key ``sock``'s server presents for the
    first of ``key_types``' algorithms it has. ``sock`` is connected and its banner read; ``pending``
    is what was read past the banner line. Raises ProbeError (timeout, protocol, refused...)."""
    algs = host_key_algorithms(key_types)
    if not algs:
        raise ValueError("no host key algorithm for key types %s" % ",".join(key_types))
    try:
        sock.settimeout(deadline.left("sending the KEXINIT (%s)" % _WHAT))
        sock.sendall(VERSION + _packet(kexinit_payload(algs)))
    except (socket.timeout, TimeoutError):
        raise ProbeError("timeout", "%s: could not send the KEXINIT within the deadline (%gs)" % (_WHAT, deadline.total))
    except OSError as exc:
        raise classify_error(exc, "%s (sending the KEXINIT)" % _WHAT)
    reader = _Reader(sock, deadline, pending)
    server = parse_kexinit(reader.message(MSG_KEXINIT, "the server's KEXINIT"))
    kex = next((k for k in KEX_ALGORITHMS if k in server["kex"]), None)
    if kex is None:
        raise _error("no key exchange algorithm in common: the probe offers %s; the server offers %s"
                     % (",".join(KEX_ALGORITHMS), shown_text(_offered(server["kex"]), 200)))
    alg = next((a for a in algs if a in server["host_key"]), None)
    if alg is None:
        raise _error("no host key algorithm in common: the probe offers %s (the types of the keys known for the "
                     "site); the server offers %s" % (_offered(algs), shown_text(_offered(server["host_key"]), 200)))
    try:
        sock.settimeout(deadline.left("sending the key exchange init (%s)" % _WHAT))
        sock.sendall(_packet(kex_init_payload(kex)))
    except (socket.timeout, TimeoutError):
        raise ProbeError("timeout", "%s: could not send the key exchange init within the deadline (%gs)"
                         % (_WHAT, deadline.total))
    except OSError as exc:
        raise classify_error(exc, "%s (sending the key exchange init)" % _WHAT)
    f = _Fields(reader.message(MSG_KEX_REPLY, "the server's key exchange reply"), "the server's key exchange reply")
    blob = f.string("K_S (host key)")
    f.string("Q_S" if kex in _ECDH else "f")
    f.string("signature")
    kind = blob_type(blob)
    if kind != KEY_TYPE_OF[alg]:
        raise _error("the server's host key is not of type %s (negotiated %s)" % (KEY_TYPE_OF[alg], alg))
    return (kind, base64.b64encode(blob).decode("ascii")), kex, alg
