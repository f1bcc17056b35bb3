# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The host-key fetch (``_ssh_kex``): the survivors of its mutation run (docs/mutation.md, "probe/_ssh_kex.py").

Most tests drive ``fetch_host_key`` over a scripted socket (what the server sends is written here with
tests/unit/fake_sshd.py's own packet code, apart from the probe's); a few use the fake server on loopback.
Each test names the bug it catches.
"""
from __future__ import annotations

import base64
import os
import socket
import struct

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_ssh as ps
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _ssh_kex as kx
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import Deadline, ProbeError
from tests.unit import fake_sshd as fs

W = "SSH key exchange: "
ED = base64.b64encode(fs.sshstr(b"ssh-ed25519") + fs.sshstr(b"k" * 32)).decode()


class Sock(object):
    """A scripted socket: ``recv`` serves ``data`` (at most ``chunk`` bytes a call, then b""),
    ``sendall`` records what is sent or raises the next of ``send_errors`` (None: sent)."""

    def __init__(self, data=b"", chunk=16384, send_errors=(), recv_error=None, on_send=None):
        self.data = bytearray(data)
        self.chunk = chunk
        self.send_errors = list(send_errors)
        self.recv_error = recv_error
        self.on_send = on_send
        self.sent = []
        self.timeouts = []

    def settimeout(self, t):
        self.timeouts.append(t)

    def sendall(self, b):
        if self.send_errors:
            err = self.send_errors.pop(0)
            if err is not None:
                raise err
        self.sent.append(bytes(b))
        if self.on_send:
            self.on_send(self)

    def recv(self, n):
        if self.recv_error is not None:
            raise self.recv_error
        out = bytes(self.data[:min(n, self.chunk)])
        del self.data[:len(out)]
        return out


def fetch(data, key_types=("ssh-ed25519",), pending=b"", total=2.0, **kw):
    sock = Sock(data, **kw)
    return kx.fetch_host_key(sock, Deadline(total, total), list(key_types), pending), sock


def fails(data, key_types=("ssh-ed25519",), pending=b"", total=2.0, **kw):
    with pytest.raises(ProbeError) as err:
        fetch(data, key_types, pending, total, **kw)
    return err.value


def server(kex=None, host_key_algs=None, key=ED, before=(), reply=None):
    """What a server sends after our KEXINIT: its KEXINIT, then the reply (``reply`` a raw payload)."""
    return (b"".join(fs.packet(p) for p in before) + fs.packet(fs.kexinit(kex, host_key_algs))
            + fs.packet(fs.reply(key) if reply is None else reply))


def client_kexinit(sock):
    """(name-lists, rest after them) of the KEXINIT we sent."""
    raw = sock.sent[0]
    assert raw.startswith(kx.VERSION)
    body = raw[len(kx.VERSION):]
    length, pad = struct.unpack(">IB", body[:5])
    payload = body[5:4 + length - pad]
    assert payload[0] == 20 and len(body) == 4 + length
    pos, lists = 17, []
    for _i in range(10):
        n = struct.unpack(">I", payload[pos:pos + 4])[0]
        lists.append(payload[pos + 4:pos + 4 + n].decode())
        pos += 4 + n
    return lists, payload[pos:]


def read_message(data, expect=20, what="the server's KEXINIT", pending=b""):
    reader = kx._Reader(Sock(data), Deadline(2, 2), pending)  # pylint: disable=protected-access
    return reader.message(expect, what)


def message_error(data, expect=20, what="the server's KEXINIT", pending=b""):
    with pytest.raises(ProbeError) as err:
        read_message(data, expect, what, pending)
    return err.value


# --------------------------------------------------------------------------- what we offer

def test_the_version_line_is_exactly_ours():
    """Bug caught: a version line that is not ``SSH-2.0-...`` CR LF (the server drops us)."""
    _r, sock = fetch(server())
    assert sock.sent[0].startswith(b"SSH-2.0-o2edge_probe\r\n\0")


def test_the_group14_prime_is_rfc_3526s():
    """Bug caught: ``e`` drawn modulo another number than RFC 3526's 2048-bit prime (the server refuses it)."""
    p = kx.GROUP14_P
    assert p.bit_length() == 2048 and p >> 1984 == 2 ** 64 - 1 and p % 2 ** 64 == 2 ** 64 - 1
    assert hex(p)[2:].upper().startswith("FFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD1")
    assert hex(p)[2:].upper().endswith("15728E5A8AACAA68FFFFFFFFFFFFFFFF")
    assert pow(2, p - 1, p) == 1 and pow(3, p - 1, p) == 1  # a (probable) prime


def test_the_offered_key_exchanges_are_the_three_named_in_order():
    """Bug caught: a misspelt exchange name (a server having only that one is unreachable)."""
    _r, sock = fetch(server())
    lists, _rest = client_kexinit(sock)
    assert lists[0] == "curve25519-sha256,curve25519-sha256@libssh.org,diffie-hellman-group14-sha256"


@pytest.mark.parametrize("kex, kind, sizes", [
    ("curve25519-sha256", 30, (32,)),
    ("curve25519-sha256@libssh.org", 30, (32,)),
    ("diffie-hellman-group14-sha256", 30, tuple(range(200, 258))),
])
def test_a_server_with_one_exchange_of_ours_gets_it_with_its_own_init(kex, kind, sizes):
    """Bug caught: one of the three names misspelt (no exchange in common), or the libssh.org
    curve25519 name sent a DH ``e`` instead of a 32-byte Q_C (the server refuses it)."""
    (key, got, _alg), sock = fetch(server(kex=["ecdh-sha2-nistp256", kex]))
    assert key == ("ssh-ed25519", ED) and got == kex
    init = sock.sent[1]
    length, pad = struct.unpack(">IB", init[:5])
    payload = init[5:4 + length - pad]
    n = struct.unpack(">I", payload[1:5])[0]
    assert payload[0] == kind and n in sizes and len(payload) == 5 + n


def test_our_preference_wins_over_the_servers_order():
    """Bug caught: the server's first exchange or host-key algorithm taken instead of ours (ssh picks the client's)."""
    blob = fs.rsa_blob()
    (key, kex, alg), _sock = fetch(server(kex=["diffie-hellman-group14-sha256", "curve25519-sha256@libssh.org",
                                               "curve25519-sha256"], host_key_algs=["ssh-rsa", "rsa-sha2-256", "rsa-sha2-512"],
                                          key=blob), key_types=["ssh-rsa"])
    assert (key, kex, alg) == (("ssh-rsa", blob), "curve25519-sha256", "rsa-sha2-512")


HOST_KEY_TABLE = [
    ("ssh-ed25519", ["ssh-ed25519"]),
    ("ecdsa-sha2-nistp256", ["ecdsa-sha2-nistp256"]),
    ("ecdsa-sha2-nistp384", ["ecdsa-sha2-nistp384"]),
    ("ecdsa-sha2-nistp521", ["ecdsa-sha2-nistp521"]),
    ("sk-ssh-ed25519@openssh.com", ["sk-ssh-ed25519@openssh.com"]),
    ("sk-ecdsa-sha2-nistp256@openssh.com", ["sk-ecdsa-sha2-nistp256@openssh.com"]),
    ("ssh-rsa", ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]),
    ("ssh-dss", ["ssh-dss"]),
]


def test_every_known_hosts_type_is_offered_under_openssh_algorithm_names():
    """Bug caught: a key type or algorithm name misspelt (a host with such a key is never fetched)."""
    for kt, algs in HOST_KEY_TABLE:
        assert kx.host_key_algorithms([kt]) == algs, kt
    assert kx.host_key_algorithms([kt for kt, _a in reversed(HOST_KEY_TABLE)]) == [a for _k, al in HOST_KEY_TABLE for a in al]


@pytest.mark.parametrize("kt, alg", [(kt, a) for kt, algs in HOST_KEY_TABLE for a in algs])
def test_a_server_with_one_host_key_algorithm_gives_its_key_of_that_type(kt, alg):
    """Bug caught: a type or algorithm misspelt, or an algorithm mapped to another key type (the key refused)."""
    blob = base64.b64encode(fs.sshstr(kt.encode()) + fs.sshstr(os.urandom(32))).decode()
    (key, _kex, got), _sock = fetch(server(host_key_algs=[alg], key=blob), key_types=[kt])
    assert key == (kt, blob) and got == alg


def test_unknown_key_types_are_a_value_error_naming_them():
    """Bug caught: an empty host-key list sent (the server's refusal reported as its fault)."""
    with pytest.raises(ValueError) as err:
        fetch(server(), key_types=["ssh-ed448", "x"])
    assert str(err.value) == "no host key algorithm for key types ssh-ed448,x"


# Names OpenSSH 9 knows (ssh -Q cipher / mac / compression).
OPENSSH_CIPHERS = set("3des-cbc aes128-cbc aes192-cbc aes256-cbc aes128-ctr aes192-ctr aes256-ctr aes128-gcm@openssh.com "
                      "aes256-gcm@openssh.com chacha20-poly1305@openssh.com".split())
OPENSSH_MACS = set("hmac-sha1 hmac-sha1-96 hmac-sha2-256 hmac-sha2-512 hmac-md5 hmac-md5-96 umac-64@openssh.com "
                   "umac-128@openssh.com hmac-sha1-etm@openssh.com hmac-sha1-96-etm@openssh.com hmac-sha2-256-etm@openssh.com "
                   "hmac-sha2-512-etm@openssh.com hmac-md5-etm@openssh.com hmac-md5-96-etm@openssh.com "
                   "umac-64-etm@openssh.com umac-128-etm@openssh.com".split())


def test_the_other_lists_hold_only_names_openssh_knows_and_no_language():
    """Bug caught: a misspelt cipher, MAC or compression name (a server configured with just that one has
    nothing in common with us), compression without ``none``, or a language offered."""
    _r, sock = fetch(server())
    lists, _rest = client_kexinit(sock)
    ciphers, macs, comp = lists[2].split(","), lists[4].split(","), lists[6].split(",")
    assert lists[3] == lists[2] and lists[5] == lists[4] and lists[7] == lists[6]
    assert set(ciphers) <= OPENSSH_CIPHERS and len(ciphers) == 6 and "aes128-ctr" in ciphers
    assert ciphers[0] == "chacha20-poly1305@openssh.com" and ciphers[-1] == "aes256-gcm@openssh.com"
    assert set(macs) <= OPENSSH_MACS and len(macs) == 10
    assert macs[0] == "umac-64-etm@openssh.com" and macs[-1] == "hmac-sha1"
    assert comp == ["none", "zlib@openssh.com"]
    assert lists[8:] == ["", ""]


def test_our_kexinit_ends_with_no_guess_and_a_zero_reserved_field():
    """Bug caught: first_kex_packet_follows set (the server then drops our real init as a wrong guess)
    or a non-zero reserved field."""
    _r, sock = fetch(server())
    _lists, rest = client_kexinit(sock)
    assert rest == b"\0\0\0\0\0"


# --------------------------------------------------------------------------- packets

def _ignore_packet(length, pad, payload=b"\x02"):
    return struct.pack(">IB", length, pad) + payload + b"\0" * (length - 1 - len(payload))


def test_packet_length_messages_name_the_bounds():
    """Bug caught: the bounds in the message not those applied."""
    for length in (4, 35001, 35004, 100000):
        err = message_error(struct.pack(">IB", length, 4) + b"x" * 20)
        assert (err.state, str(err)) == ("protocol", W + "the server's KEXINIT: packet_length out of range (5 to 35000)"), length
    for length in (5, 6, 11, 13, 35000):
        err = message_error(struct.pack(">IB", length, 4) + b"x" * 20)
        assert str(err) == W + "the server's KEXINIT: packet_length is not a multiple of the block size", length


def test_a_bad_header_is_named_even_when_the_server_closes_right_after_it():
    """Bug caught: more than the 5 header bytes awaited before the header is checked (reported as a close)."""
    assert str(message_error(struct.pack(">IB", 100000, 4))) == (
        W + "the server's KEXINIT: packet_length out of range (5 to 35000)")


def test_the_largest_aligned_packet_is_read():
    """Bug caught: packet_length 34996 (the largest a multiple of the block size within 35000) refused."""
    data = _ignore_packet(34996, 4, b"\x02" + fs.sshstr(b"i" * (34996 - 10))) + fs.packet(fs.kexinit())
    assert read_message(data)[0] == 20


def test_padding_bounds_are_4_and_packet_length_minus_2():
    """Bug caught: padding of 4 refused, a one-byte payload (padding packet_length - 2) refused, or an
    empty payload (padding packet_length - 1) read."""
    assert read_message(_ignore_packet(12, 4, b"\x02" + fs.sshstr(b"abc")) + fs.packet(fs.kexinit()))[0] == 20
    assert read_message(_ignore_packet(12, 10) + fs.packet(fs.kexinit()))[0] == 20
    for pad in (3, 11, 12, 255):
        assert str(message_error(_ignore_packet(12, pad) + fs.packet(fs.kexinit()))) == (
            W + "the server's KEXINIT: padding_length is not between 4 and packet_length - 2"), pad


def test_the_payload_is_exactly_between_the_padding_length_and_the_padding():
    """Bug caught: a byte of the header or padding read as payload."""
    payload = fs.kexinit()
    assert read_message(fs.packet(payload, pad=9)) == payload
    assert read_message(fs.packet(payload, pad=4)) == payload


def test_what_was_read_past_the_banner_counts_and_is_read_first():
    """Bug caught: the bytes after the banner dropped, or not counted toward the read bound."""
    data = fs.packet(fs.kexinit())
    assert read_message(data[7:], pending=data[:7]) == data[5:len(data) - data[4]]
    pending = fs.packet(fs.ignore(b"p" * 25000)) * 8  # about 200 KiB
    after = fs.packet(fs.ignore(b"i" * 25000)) * 3 + data  # about 73 KiB
    assert read_message(after) == data[5:len(data) - data[4]]
    assert str(message_error(after, pending=pending)) == W + "the server sent more than 256 KiB before the server's KEXINIT"


def _exactly(size):
    """IGNORE packets then a KEXINIT, ``size`` bytes in all."""
    kexinit = fs.packet(fs.kexinit())
    filler = size - len(kexinit)
    ignores = b""
    while filler - len(ignores) > 30000:
        ignores += fs.packet(fs.ignore(b"i" * 29000))
    length = filler - len(ignores) - 4
    last = struct.pack(">IB", length, 4) + b"\x02" + fs.sshstr(b"j" * (length - 10)) + b"\0" * 4
    data = ignores + last + kexinit
    assert len(data) == size
    return data


def test_exactly_256_kib_are_read_and_8_bytes_more_are_refused():
    """Bug caught: the read bound off by one (or more), whatever size the reads come in."""
    for chunk in (16384, 1000, 7):
        assert read_message(_exactly(256 * 1024))[0] == 20
        reader = kx._Reader(Sock(_exactly(256 * 1024 + 8), chunk=chunk), Deadline(5, 5))  # pylint: disable=protected-access
        with pytest.raises(ProbeError) as err:
            reader.message(20, "the server's KEXINIT")
        assert str(err.value) == W + "the server sent more than 256 KiB before the server's KEXINIT"
    reader = kx._Reader(Sock(_exactly(256 * 1024), chunk=7), Deadline(5, 5))  # pylint: disable=protected-access
    assert reader.message(20, "the server's KEXINIT")[0] == 20


# --------------------------------------------------------------------------- messages

def test_ignore_and_debug_are_skipped_and_nothing_else():
    """Bug caught: another message type skipped as if it were IGNORE or DEBUG (the server's answer lost)."""
    assert read_message(fs.packet(fs.ignore()) + fs.packet(fs.debug()) + fs.packet(fs.kexinit()))[0] == 20
    for kind in (3, 5, 21, 31):
        assert str(message_error(fs.packet(bytes([kind]) + b"abc") + fs.packet(fs.kexinit()))) == (
            W + "expected the server's KEXINIT (message 20), got message %d" % kind), kind


RFC4253_REASONS = ["HOST_NOT_ALLOWED_TO_CONNECT", "PROTOCOL_ERROR", "KEY_EXCHANGE_FAILED", "RESERVED", "MAC_ERROR",
                   "COMPRESSION_ERROR", "SERVICE_NOT_AVAILABLE", "PROTOCOL_VERSION_NOT_SUPPORTED",
                   "HOST_KEY_NOT_VERIFIABLE", "CONNECTION_LOST", "BY_APPLICATION", "TOO_MANY_CONNECTIONS",
                   "AUTH_CANCELLED_BY_USER", "NO_MORE_AUTH_METHODS_AVAILABLE", "ILLEGAL_USER_NAME"]


def test_disconnect_reasons_are_named_as_in_rfc_4253():
    """Bug caught: a reason code named wrongly (the operator looks for the wrong cause)."""
    for code, name in enumerate(RFC4253_REASONS, 1):
        assert str(message_error(fs.packet(fs.disconnect(code, b"bye")))) == (
            W + "the server disconnected before the server's KEXINIT: reason %d (%s): bye" % (code, name))
    for code in (0, 16, 2 ** 32 - 1):
        assert str(message_error(fs.packet(fs.disconnect(code, b"")))) == (
            W + "the server disconnected before the server's KEXINIT: reason %d (unknown)" % code)


def test_a_disconnect_without_reason_code_or_description_is_still_a_disconnect():
    """Bug caught: a short DISCONNECT reported as malformed (or a traceback) rather than as the server leaving."""
    assert str(message_error(fs.packet(b"\x01\0\0"))) == (
        W + "the server disconnected before the server's KEXINIT (no reason code)")
    assert str(message_error(fs.packet(b"\x01\0\0\0\x0b\0\0\0\x09ab"))) == (
        W + "the server disconnected before the server's KEXINIT: reason 11 (BY_APPLICATION)")


def test_a_description_that_is_not_utf8_is_shown_with_replacement_characters():
    """Bug caught: a server's invalid UTF-8 raising (a traceback) instead of being shown as far as it reads."""
    assert str(message_error(fs.packet(fs.disconnect(2, b"\xff\xfebad")))).endswith(": \ufffd\ufffdbad")


def test_a_disconnects_description_is_shown_to_80_characters():
    """Bug caught: the excerpt cut elsewhere than at 80 characters."""
    err = message_error(fs.packet(fs.disconnect(2, b"A" * 100)))
    assert str(err).endswith("reason 2 (PROTOCOL_ERROR): " + "A" * 80)


# --------------------------------------------------------------------------- the server's KEXINIT

def test_kexinit_names_are_printable_ascii_from_bang_to_tilde():
    """Bug caught: ``!`` or ``~`` (printable, allowed) refused, or a space or DEL (not allowed) read."""
    payload = fs.kexinit(kex=["a!", "~b", "curve25519-sha256"], host_key_algs=["ssh-ed25519"])
    assert kx.parse_kexinit(payload) == {"kex": ["a!", "~b", "curve25519-sha256"], "host_key": ["ssh-ed25519"]}
    for bad in (" ", "\x7f", "\x20a"):
        with pytest.raises(ProbeError) as err:
            kx.parse_kexinit(fs.kexinit(kex=["a" + bad]))
        assert str(err.value) == W + "the server's KEXINIT is malformed (kex_algorithms is not a list of algorithm names)"


def test_empty_names_in_a_list_are_dropped():
    """Bug caught: ``a,,b`` or a trailing comma read as an empty algorithm name."""
    assert kx.parse_kexinit(fs.kexinit(kex=["a", "", "b", ""]))["kex"] == ["a", "b"]


FIELDS = ["kex_algorithms", "server_host_key_algorithms", "encryption_algorithms_client_to_server",
          "encryption_algorithms_server_to_client", "mac_algorithms_client_to_server", "mac_algorithms_server_to_client",
          "compression_algorithms_client_to_server", "compression_algorithms_server_to_client",
          "languages_client_to_server", "languages_server_to_client"]


def test_a_truncated_kexinit_names_the_field_it_stops_in():
    """Bug caught: the wrong field named (or none), or a KEXINIT without its last fields accepted."""
    payload = fs.kexinit()
    cut = [1 + 15]
    pos = 17
    for _f in FIELDS:
        cut.append(pos + 3)  # inside the length
        pos += 4 + struct.unpack(">I", payload[pos:pos + 4])[0]
    cut += [pos, pos + 4]
    names = ["cookie"] + FIELDS + ["first_kex_packet_follows", "reserved"]
    for at, name in zip(cut, names):
        with pytest.raises(ProbeError) as err:
            kx.parse_kexinit(payload[:at])
        assert str(err.value) == W + "the server's KEXINIT is malformed (%s overruns the message)" % name, name
    assert kx.parse_kexinit(payload)["kex"] == fs.KEX


def test_a_name_list_of_zero_length_is_read():
    """Bug caught: an empty string (the languages, always empty) taken as an overrun."""
    assert kx.parse_kexinit(fs.kexinit(kex=[]))["kex"] == []


# --------------------------------------------------------------------------- choosing, the reply

def test_no_exchange_in_common_names_ours_and_the_servers_cut_at_160():
    """Bug caught: the lists not named in full, or the server's list not cut (a server sending kilobytes)."""
    err = fails(server(kex=["ecdh-sha2-nistp256"]))
    assert str(err) == (W + "no key exchange algorithm in common: the probe offers curve25519-sha256,"
                        "curve25519-sha256@libssh.org,diffie-hellman-group14-sha256; the server offers ecdh-sha2-nistp256")
    names = ["k%03d" % i for i in range(40)]  # 40 * 5 - 1 = 199 characters
    err = fails(server(kex=names))
    assert str(err).endswith("; the server offers " + ",".join(names)[:157] + "...")
    exact = ["x" * 80, "y" * 79]  # 160 characters: shown whole
    assert str(fails(server(kex=exact))).endswith("; the server offers " + ",".join(exact))
    over = ["x" * 80, "y" * 80]  # 161 characters: cut
    assert str(fails(server(kex=over))).endswith("; the server offers " + "x" * 80 + "," + "y" * 76 + "...")


def test_no_host_key_algorithm_in_common_names_both_lists():
    err = fails(server(host_key_algs=["ecdsa-sha2-nistp256"]), key_types=["ssh-rsa"])
    assert str(err) == (W + "no host key algorithm in common: the probe offers rsa-sha2-512,rsa-sha2-256,ssh-rsa "
                        "(the types of the keys known for the site); the server offers ecdsa-sha2-nistp256")


@pytest.mark.parametrize("kex, field", [("curve25519-sha256", "Q_S"), ("diffie-hellman-group14-sha256", "f")])
def test_a_truncated_reply_names_the_field_of_the_exchange(kex, field):
    """Bug caught: the reply's second field named for the other exchange."""
    reply = b"\x1f" + fs.sshstr(base64.b64decode(ED)) + b"\0\0\0\x20ab"
    assert str(fails(server(kex=[kex], reply=reply))) == (
        W + "the server's key exchange reply is malformed (%s overruns the message)" % field)
    reply = b"\x1f" + fs.sshstr(base64.b64decode(ED)) + fs.sshstr(b"q" * 32) + b"\0\0\0\x09abc"
    assert str(fails(server(kex=[kex], reply=reply))) == (
        W + "the server's key exchange reply is malformed (signature overruns the message)")
    assert str(fails(server(kex=[kex], reply=b"\x1f\0\0\0\x09abc"))) == (
        W + "the server's key exchange reply is malformed (K_S (host key) overruns the message)")


def test_a_reply_of_another_message_type_is_refused():
    """Bug caught: any message after our init read as the reply."""
    assert str(fails(server(reply=b"\x15" + fs.reply(ED)[1:]))) == (
        W + "expected the server's key exchange reply (message 31), got message 21")


def test_key_type_names_are_1_to_64_printable_characters():
    """Bug caught: a 64-character type refused, a longer or empty one read, ``!``/``~`` refused, a space read."""
    for name in (b"a" * 64, b"!", b"~", b"a!~z"):
        assert kx.blob_type(fs.sshstr(name) + b"rest") == name.decode()
    for name in (b"a" * 65, b"", b"a b", b"a\x7f", b"\x20"):
        with pytest.raises(ProbeError) as err:
            kx.blob_type(fs.sshstr(name))
        assert str(err.value) == W + "the server's host key is malformed (its key type is not a name)", name
    with pytest.raises(ProbeError) as err:
        kx.blob_type(b"\0\0\0\x05ab")
    assert str(err.value) == W + "the server's host key is malformed (key type overruns the message)"


def test_a_key_of_another_type_names_the_type_and_the_algorithm():
    blob = fs.rsa_blob()
    assert str(fails(server(key=blob))) == W + "the server's host key is not of type ssh-ed25519 (negotiated ssh-ed25519)"
    ed = base64.b64encode(fs.sshstr(b"ssh-ed25519") + fs.sshstr(b"k")).decode()
    assert str(fails(server(key=ed, host_key_algs=["rsa-sha2-256"]), key_types=["ssh-rsa"])) == (
        W + "the server's host key is not of type ssh-rsa (negotiated rsa-sha2-256)")


# --------------------------------------------------------------------------- deadlines and socket errors

def test_sending_the_kexinit_timing_out_or_failing_is_named():
    """Bug caught: a send that times out reported as another failure, or a reset as a timeout."""
    err = fails(server(), send_errors=[socket.timeout("t")])
    assert (err.state, str(err)) == ("timeout", W + "could not send the KEXINIT within the deadline (2s)")
    err = fails(server(), send_errors=[ConnectionResetError(104, "reset")])
    assert (err.state, str(err)) == ("protocol", "SSH key exchange (sending the KEXINIT): connection reset by peer")


def test_sending_the_init_timing_out_or_failing_is_named():
    err = fails(server(), send_errors=[None, socket.timeout("t")])
    assert (err.state, str(err)) == ("timeout", W + "could not send the key exchange init within the deadline (2s)")
    err = fails(server(), send_errors=[None, ConnectionResetError(104, "reset")])
    assert (err.state, str(err)) == ("protocol", "SSH key exchange (sending the key exchange init): connection reset by peer")


def test_a_receive_timing_out_or_failing_is_named():
    err = fails(b"", recv_error=socket.timeout("t"))
    assert (err.state, str(err)) == ("timeout", W + "the server's KEXINIT did not come within the deadline (2s)")
    err = fails(b"", recv_error=ConnectionResetError(104, "reset"))
    assert (err.state, str(err)) == ("protocol", "SSH key exchange (waiting for the server's KEXINIT): connection reset by peer")


def test_each_step_is_given_only_what_is_left_of_the_deadline():
    """Bug caught: a step started after the deadline passed, or named wrongly when it is refused."""
    d = Deadline(1, 1)
    sock = Sock(server())
    d.start -= 5
    with pytest.raises(ProbeError) as err:
        kx.fetch_host_key(sock, d, ["ssh-ed25519"])
    assert str(err.value) == "deadline of 1s passed before sending the KEXINIT (SSH key exchange)"

    def expire(s):
        d2.start -= 5
    d2 = Deadline(1, 1)
    with pytest.raises(ProbeError) as err:
        kx.fetch_host_key(Sock(server(), on_send=expire), d2, ["ssh-ed25519"])
    assert str(err.value) == "deadline of 1s passed before the server's KEXINIT (SSH key exchange)"

    class Late(Sock):
        def recv(self, n):
            out = Sock.recv(self, n)
            if not self.data:
                d3.start -= 5
            return out
    d3 = Deadline(1, 1)
    with pytest.raises(ProbeError) as err:
        kx.fetch_host_key(Late(fs.packet(fs.kexinit())), d3, ["ssh-ed25519"])
    assert str(err.value) == "deadline of 1s passed before sending the key exchange init (SSH key exchange)"
    sock = Sock(server())
    kx.fetch_host_key(sock, Deadline(2, 2), ["ssh-ed25519"])
    assert sock.timeouts and all(0 < t <= 2 for t in sock.timeouts)


def test_a_reply_split_over_many_reads_is_joined():
    """Bug caught: a packet read in one recv only (a slow link splits it)."""
    (key, _kex, _alg), _sock = fetch(server(before=[fs.ignore()]), chunk=3)
    assert key == ("ssh-ed25519", ED)


def test_a_connection_closed_mid_packet_names_what_was_awaited():
    assert str(fails(fs.packet(fs.kexinit())[:30])) == (
        W + "the server closed the connection before the server's KEXINIT was complete")
    assert str(fails(fs.packet(fs.kexinit()))) == (
        W + "the server closed the connection before the server's key exchange reply was complete")


# --------------------------------------------------------------------------- against the fake server on loopback

def test_the_fetch_over_a_real_socket_after_the_banner():
    """Bug caught: the fetch working on the scripted socket only (a real socket's timeouts or partial reads)."""
    srv = fs.FakeSshd(key=ED, kex=["curve25519-sha256@libssh.org"])
    try:
        sock = socket.create_connection((srv.address, srv.port), 2)
        try:
            d = Deadline(2, 2)
            banner, rest = ps._read_banner(sock, d)  # pylint: disable=protected-access
            assert banner == "SSH-2.0-OpenSSH_9.2p1 fake"
            assert kx.fetch_host_key(sock, d, ["ssh-ed25519"], rest) == (
                ("ssh-ed25519", ED), "curve25519-sha256@libssh.org", "ssh-ed25519")
        finally:
            sock.close()
        assert srv.seen[0]["init"] == (30, 32)
    finally:
        srv.close()
