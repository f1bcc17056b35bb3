# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What is a secret, in one place.

The rule (docs/edge-sites.md, "Secrets"):

* A **key** is secret when, split into words (on ``_``, ``-``, ``.``, white space and
  camelCase, case-insensitively), one word is one of ``SECRET_WORDS`` (password, passwd,
  passphrase, pass, pwd, token, secret, bearer, credential(s), apikey, authorization, cookie)
  or two adjacent words form one of ``SECRET_PAIRS`` (private key, access key, api key; secret
  key, client secret, ssh pass and become pass are secret by their single words) -- unless the
  last word is file, path or dir:
  ``token_file``, ``key_file``, ``ca_file`` hold a path, not the secret itself.
  So ``api_token``, ``API_Token``, ``clientSecret``, ``ansible_password``, ``ansible_ssh_pass``
  and ``ansible_become_pass`` are secret; ``token_file``, ``passport``, ``tokens_dir`` are not.
* A string **value** is secret material whatever its key (``secret_value_reason``) when it
  holds a PEM or OpenSSH private key block, is a URL with a password in its userinfo or a
  secret-named query parameter (``token=``, ``access_token=``, ``password=`` ...), or is
  shaped like a JWT (``eyJ...``.``...``.``...``) or like an issuer's token (``AKIA...``, ``ghp_...``,
  ``glpat-...``, ``xoxb-...``).
* ``showable_name`` says whether a name read from a file may be quoted in a message at all.

``redact`` masks known secret strings in text. No function here ever puts a value in the
reason or message it returns. Standard library only, Python 3.9+: modules use it on targets.
"""

from __future__ import annotations

import functools
import re

MASK = "********"

SECRET_WORDS = frozenset((
    "password", "passwd", "passphrase", "pass", "pwd", "token", "secret", "bearer",
    "credential", "credentials", "apikey", "authorization", "cookie",
))
# Pairs of words that make a secret although neither word does on its own ("secret key",
# "client secret", "ssh pass", "become pass" are secret already by their single words).
SECRET_PAIRS = frozenset((
    ("private", "key"), ("access", "key"), ("api", "key"),
))
# A last word that makes the key name a place (a path) rather than the secret itself.
PATH_WORDS = frozenset(("file", "path", "dir"))

# camelCase boundaries: "apiToken" -> "api Token", "HTTPHeader" -> "HTTP Header".
_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SPLIT_RE = re.compile(r"[\s_.\-]+")

_PRIVATE_KEY_RE = re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")
_JWT_RE = re.compile(r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+")
_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^\s]+")
# Tokens recognisable by their issuer's prefix: AWS access key ids, GitHub, GitLab and Slack tokens.
_TOKEN_PREFIX_RE = re.compile(r"(?:\bAKIA[0-9A-Z]{16}\b|\b(?:ghp|gho|ghs|ghu|ghr)_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}"
                              r"|\bglpat-[A-Za-z0-9_-]{20,}|\bxox[abprs]-[A-Za-z0-9-]{10,})")
# What a message may quote of a name read from a file: a short identifier.
_SHOWABLE_RE = re.compile(r"[A-Za-z0-9_-]+")
# Most of a value we look at: enough for any key block or URL we care about, bounded work.
_SCAN_LIMIT = 1 << 20


def key_words(name):
    """The lower-case words of a key name (``"clientSecret_ID"`` -> ``["client", "secret", "id"]``)."""
    if not isinstance(name, str):
        return []
    text = _CAMEL_RE.sub(" ", name[:256])
    return [w.lower() for w in _SPLIT_RE.split(text) if w]


def is_secret_key(name):
    """True when a key's value is a secret by the key's name (see the module docstring)."""
    return isinstance(name, str) and _is_secret_word_list(name[:256])


@functools.lru_cache(maxsize=4096)
def _is_secret_word_list(name):
    words = key_words(name)
    if not words or words[-1] in PATH_WORDS:
        return False
    if any(w in SECRET_WORDS for w in words):
        return True
    return any(pair in SECRET_PAIRS for pair in zip(words, words[1:]))


def _url_reason(url):
    # Local import keeps this module cheap to import; urllib is standard library.
    from urllib.parse import parse_qsl, urlsplit

    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return None
    if password:
        return "is a URL with a password in it"
    for query in (parts.query, parts.fragment):
        if not query:
            continue
        # Without strict_parsing or max_num_fields, parse_qsl never raises ValueError.
        for key, _value in parse_qsl(query, keep_blank_values=True):
            if is_secret_key(key) or key_words(key) in (["key"], ["sig"], ["signature"]):
                return "is a URL with a secret in its query string (parameter %r)" % key[:40]
    return None


def secret_value_reason(value):
    """Why a string value looks like secret material whatever its key, or None.

    The reason never includes the value.
    """
    if not isinstance(value, str) or not value:
        return None
    text = value[:_SCAN_LIMIT]
    if "PRIVATE KEY" in text and _PRIVATE_KEY_RE.search(text):
        return "holds a private key block"
    if "eyJ" in text and _JWT_RE.search(text):
        return "holds a JWT-shaped token"
    if _TOKEN_PREFIX_RE.search(text):
        return "holds a token shaped like an issuer's (AWS, GitHub, GitLab, Slack)"
    if "://" in text:
        for match in _URL_RE.finditer(text):
            reason = _url_reason(match.group(0))
            if reason:
                return reason
    return None


def showable_name(name, limit=32):
    """True for a name read from a file that a message may quote: a short identifier that does not look
    like a token or a secret.

    At most ``limit`` characters of ``[A-Za-z0-9_-]``, at most 4 digits, and from 16 characters on either
    all lower case or split into words by ``_``/``-`` (``AKIA...``, ``ghp_...`` and base64 are not).
    Anything else is named by its position or its length instead (a file that is not what it claims,
    a symlink to /etc/shadow, would otherwise have each of its lines quoted).
    """
    if not isinstance(name, str) or not name or len(name) > limit or not _SHOWABLE_RE.fullmatch(name):
        return False
    if sum(c.isdigit() for c in name) > 4:
        return False
    if len(name) >= 16 and not (name.islower() or re.fullmatch(r"[A-Za-z][a-z]*(?:[_-][A-Za-z0-9][a-z0-9]*)+", name)):
        return False
    return not secret_value_reason(name)


def redact(text, secrets):
    """``text`` with each non-empty secret string in ``secrets`` replaced by ``********``.

    Longer secrets are replaced first, so a secret that contains another is masked whole.
    """
    if not isinstance(text, str):
        return text
    for secret in sorted({s for s in secrets or () if isinstance(s, str) and s}, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def find_secrets(value, is_vault=None, allow=None, _keys=()):
    """Every secret in a loaded document, as ``(keys, reason)``; never the value itself.

    ``keys`` is the tuple of keys and list indexes from the top to the secret. Found are:

    * a key that ``is_secret_key`` names, holding anything but None: reason ``"plaintext"``, or
      ``"vaulted"`` when ``is_vault(value)`` is true but ``allow(keys)`` is not (nothing when both
      are). The walk does not descend below such a key.
    * a key or a string value that ``secret_value_reason`` flags: ``"a key that <reason>"`` or the
      reason.

    The caller bounds the depth of ``value`` (this recurses once per level).
    """
    is_vault = is_vault or (lambda v: False)
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            keys = _keys + (k,)
            if isinstance(k, str) and secret_value_reason(k):
                found.append((keys, "a key that " + secret_value_reason(k)))
            elif is_secret_key(k) and v is not None:
                if not is_vault(v):
                    found.append((keys, "plaintext"))
                elif not (allow and allow(keys)):
                    found.append((keys, "vaulted"))
            else:
                found.extend(find_secrets(v, is_vault, allow, keys))
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            found.extend(find_secrets(v, is_vault, allow, _keys + (i,)))
    elif isinstance(value, str) and not is_vault(value) and secret_value_reason(value):
        found.append((_keys, secret_value_reason(value)))
    return found
