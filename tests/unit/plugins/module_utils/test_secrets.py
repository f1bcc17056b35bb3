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
