# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one rule for what is a secret: by key name, by value shape, and masking."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _secrets as s

PEM_RSA = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7s3cr3t\n-----END RSA PRIVATE KEY-----\n"
PEM_OPENSSH = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEs3cr3t\n-----END OPENSSH PRIVATE KEY-----"
PEM_PKCS8 = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANs3cr3t\n-----END PRIVATE KEY-----"
PEM_ENCRYPTED = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJs3cr3t\n-----END ENCRYPTED PRIVATE KEY-----"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzM2NyM3QifQ.c2lnbmF0dXJlczNjcjN0"


class TestIsSecretKey(object):
    """Catches: a secret key name missed (case, camelCase, separators, pairs) or a path key taken for a secret."""

    @pytest.mark.parametrize("name", [
        "password", "Password", "PASSWORD", "passwd", "passphrase", "pwd", "token", "API_Token", "api_token",
        "apiToken", "X-Auth-Token", "secret", "client_secret", "clientSecret", "bearer", "Bearer", "credential",
        "credentials", "apikey", "ApiKey", "api_key", "api.key", "authorization", "Authorization", "cookie",
        "private_key", "privateKey", "PRIVATE-KEY", "access_key", "AccessKey", "secret_key", "awsSecretAccessKey",
        "ssh_pass", "become_pass", "ansible_password", "ansible_ssh_pass", "ansible_become_pass",
        "ansible_become_password", "bmc password", "db.pass",
    ])
    def test_secret(self, name):
        assert s.is_secret_key(name) is True

    @pytest.mark.parametrize("name", [
        "token_file", "key_file", "ca_file", "private_key_file", "password_file", "tokenPath", "secrets_dir",
        "ansible_ssh_private_key_file", "name", "address", "host_key", "key", "kubeconfig", "passport", "bypass",
        "tokenizer", "known_hosts", "tls_server_name", "", None, 42, ("password",),
    ])
    def test_not_secret(self, name):
        assert s.is_secret_key(name) is False

    def test_words(self):
        assert s.key_words("clientSecret_ID") == ["client", "secret", "id"]
        assert s.key_words("HTTPHeader-value.x y") == ["http", "header", "value", "x", "y"]


class TestSecretValueReason(object):
    """Catches: secret material under an innocent key (a key pasted as key_file, a token in a URL) going
    unnoticed, an innocent value flagged, or the value itself leaking into the reason."""

    @pytest.mark.parametrize("value,word", [
        (PEM_RSA, "private key"), (PEM_OPENSSH, "private key"), (PEM_PKCS8, "private key"),
        (PEM_ENCRYPTED, "private key"), ("prefix " + PEM_OPENSSH, "private key"),
        ("https://ops:s3cr3t@192.0.2.10/x", "password"),
        ("http://192.0.2.10:8080/x?token=s3cr3t", "query"),
        ("http://192.0.2.10/x?a=1&access_token=s3cr3t", "query"),
        ("https://h.example.net/x?Access_Token=s3cr3t", "query"),
        ("https://h.example.net/x?password=s3cr3t", "query"),
        ("https://h.example.net/x?apiKey=s3cr3t", "query"),
        ("https://h.example.net/x#access_token=s3cr3t", "query"),
        ("see https://h.example.net/x?token=s3cr3t for it", "query"),
        (JWT, "JWT"),
    ])
    def test_secret_material(self, value, word):
        reason = s.secret_value_reason(value)
        assert reason and word in reason
        assert "s3cr3t" not in reason and "MII" not in reason and "eyJ" not in reason

    @pytest.mark.parametrize("value", [
        "/etc/o2edge/ssh/id_ed25519", "~/.ssh/id_ed25519", "http://192.0.2.10:8080/o2ims/v1",
        "https://ops@192.0.2.10/x", "https://h.example.net/x?query=up&step=15", "edge1",
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHw/eyRlBcTW0mPB2vsXmU9x+deZSWRRgAYXvFK8dzB1",
        "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----", "-----BEGIN PUBLIC KEY-----",
        "eyJ", "", None, 5, b"-----BEGIN RSA PRIVATE KEY-----", ["-----BEGIN RSA PRIVATE KEY-----"],
    ])
    def test_not_secret(self, value):
        assert s.secret_value_reason(value) is None


class TestRedact(object):
    """Catches: a token left in probe details, a shorter secret masking part of a longer one first."""

    def test_masks_every_occurrence(self):
        assert s.redact("Bearer abc123 and abc123", ["abc123"]) == "Bearer ******** and ********"

    def test_longest_first(self):
        assert s.redact("tok=abcdef", ["abc", "abcdef"]) == "tok=********"

    def test_ignores_empty_and_non_strings(self):
        assert s.redact("a b", ["", None, 5]) == "a b"
        assert s.redact(None, ["x"]) is None
        assert s.redact("x", None) == "x"


class TestFindSecrets(object):
    """Catches: a secret below any depth or in a list missed, a vaulted secret accepted where not allowed,
    or the walk reporting a secret key's value instead of stopping at the key."""

    def test_paths_and_reasons(self):
        doc = {"a": [{"api_token": "x"}], "b": {"c": PEM_RSA}, "password": None, "key_file": "/k",
               "bmc": {"password": {"nested": "x"}}}
        found = dict(s.find_secrets(doc))
        assert found == {("a", 0, "api_token"): "plaintext", ("b", "c"): "holds a private key block",
                         ("bmc", "password"): "plaintext"}

    def test_vaulted_only_where_allowed(self):
        def is_vault(v):
            return v == "VAULT"

        doc = {"ssh": {"password": "VAULT"}, "metadata": {"password": "VAULT"}}
        found = s.find_secrets(doc, is_vault, allow=lambda keys: keys == ("ssh", "password"))
        assert found == [(("metadata", "password"), "vaulted")]

    def test_secret_shaped_key(self):
        assert s.find_secrets({PEM_RSA: 1}) == [((PEM_RSA,), "a key that holds a private key block")]


def test_import_safe_without_ansible():
    """Catches: an import of ansible (or anything outside the standard library) in a module used on targets."""
    path = os.path.abspath(s.__file__)
    code = ("import runpy, sys; ns = runpy.run_path(%r); "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('ansible', 'ansible_collections')]; "
            "assert ns['is_secret_key']('Password')" % path)
    subprocess.run([sys.executable, "-I", "-S", "-c", code], check=True, timeout=60)


# --- mutation-testing kills (docs/mutation.md) -------------------------------------------


@pytest.mark.parametrize("name", ["token_dir", "password_dir", "sshKeyDir", "api_key_dir", "secret_path"])
def test_dir_or_path_as_last_word_names_a_place_not_a_secret(name):
    # Catches: "dir" dropped from the path words, so token_dir (a folder) is taken for a token.
    assert s.is_secret_key(name) is False


def test_key_words_looks_at_the_first_256_characters_only():
    # Catches: a longer cut of the key name (bounded work on hostile input).
    assert s.key_words("a" * 256 + "Token") == ["a" * 256]
    assert s.key_words("a" * 250 + "_token") == ["a" * 250, "token"]


@pytest.mark.parametrize("value, reason", [
    ("https://ops:s3cr3t@192.0.2.10/x", "is a URL with a password in it"),
    ("https://h.example.net/x?a=1&token=s3cr3t", "is a URL with a secret in its query string (parameter 'token')"),
    (JWT, "holds a JWT-shaped token"),
    (PEM_RSA, "holds a private key block"),
])
def test_reason_is_exact(value, reason):
    # Catches: the reason an operator reads changed or garbled.
    assert s.secret_value_reason(value) == reason


@pytest.mark.parametrize("param", ["key", "sig", "signature", "Signature", "KEY"])
def test_signed_url_parameters_are_secrets(param):
    # Catches: a presigned URL (?key=, ?sig=, ?signature=) not flagged; these bare words are secret
    # in a query string although "key" alone is not a secret key name.
    assert s.secret_value_reason("https://h.example.net/x?a=1&%s=s3cr3t" % param) == \
        "is a URL with a secret in its query string (parameter %r)" % param


def test_blank_secret_query_parameter_is_flagged():
    # Catches: blank values dropped by parse_qsl, so "?token=" (the secret placed in the URL, even
    # if empty here) or a bare "?token" goes unnoticed.
    assert s.secret_value_reason("https://h.example.net/x?token=") == \
        "is a URL with a secret in its query string (parameter 'token')"
    assert s.secret_value_reason("https://h.example.net/x?access_token") == \
        "is a URL with a secret in its query string (parameter 'access_token')"


def test_query_parameter_name_in_reason_is_cut_at_40_characters():
    name = "a" * 45 + "_token"
    assert s.secret_value_reason("https://h.example.net/x?%s=s3cr3t" % name) == \
        "is a URL with a secret in its query string (parameter %r)" % ("a" * 40)


def test_words_private_key_without_a_pem_block_are_not_a_key():
    # Catches: the cheap "PRIVATE KEY" pre-check taken for the match itself.
    assert s.secret_value_reason("rotate the PRIVATE KEY of edge1 yearly") is None
    assert s.secret_value_reason("-----BEGIN PRIVATE KEY") is None


def test_scan_stops_after_one_mebibyte():
    # Catches: an unbounded (or larger) scan; only the first 1 MiB of a value is looked at.
    limit = 1 << 20
    assert s.secret_value_reason("x" * (limit - len(PEM_RSA)) + PEM_RSA) == "holds a private key block"
    assert s.secret_value_reason("x" * limit + PEM_RSA) is None


@pytest.mark.parametrize("token", ["AKIAIOSFODNN7EXAMPLE", "ghp_" + "a1B2c3D4e5" * 4, "github_pat_" + "A1b2" * 10,
                                   "glpat-" + "x" * 20, "xoxb-1234567890-abcdef"])
def test_issuer_shaped_tokens_are_secret_values(token):
    assert "token shaped like an issuer" in s.secret_value_reason("value " + token + " end")


@pytest.mark.parametrize("name, shown", [("python_interpreter", True), ("ssh", True), ("a" * 32, True),
                                         ("a" * 33, False), ("AKIAIOSFODNN7EXAMPLE", False),
                                         ("root:$6$hash", False), ("api_token", True), ("x12345", False),
                                         ("QmFzZTY0U3RyaW5nSGVyZQ", False), ("", False), (7, False)])
def test_showable_name(name, shown):
    from ansible_collections.o2edge.perf.plugins.module_utils._secrets import showable_name
    assert showable_name(name) is shown
