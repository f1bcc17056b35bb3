# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Errors of the image store: the error class and what a CLI's message says went wrong
(the cause in words, worth retrying or not)."""

from __future__ import annotations

import re


class StoreError(ValueError):
    """Bad input or a store that cannot be used; the message names the field or the path."""


_CAUSES = (
    # (pattern in the CLI's message, the cause in words, worth retrying)
    ("connection refused", "connection refused (the registry is down or not listening)", True),
    ("manifest unknown", "manifest unknown (the tag or digest does not exist in the registry)", False),
    ("name unknown", "name unknown (the repository does not exist in the registry)", False),
    ("not found: manifest", "manifest unknown (the tag or digest does not exist in the registry)", False),
    ("unauthorized", "unauthorized (the registry refused the credentials, or needs some)", False),
    ("authentication required", "unauthorized (the registry refused the credentials, or needs some)", False),
    ("denied", "access denied by the registry", False),
    ("http response to https client", "the registry speaks plain HTTP; list it in insecure_registries to allow that", False),
    ("x509", "TLS certificate not trusted", False),
    ("certificate", "TLS certificate problem", False),
    ("no such host", "the registry's host name does not resolve", False),
    ("network is unreachable", "network unreachable", True),
    ("no route to host", "no route to host", True),
    ("i/o timeout", "timed out", True),
    ("timed out", "timed out", True),
    ("timeout", "timed out", True),
    ("connection reset", "connection reset", True),
    ("toomanyrequests", "too many requests (rate limited)", True),
    ("too many requests", "too many requests (rate limited)", True),
    ("unexpected eof", "connection closed mid-transfer", True),
    ("digest did not match", "corrupted: a downloaded blob's digest did not match", True),
    ("does not match", "corrupted: a digest does not match", True),
    ("corrupt", "corrupted local data", True),
    ("500 internal server error", "the registry answered 500", True),
    ("502 bad gateway", "the registry answered 502", True),
    ("503 service unavailable", "the registry answered 503", True),
)


def classify(text):
    """(cause in words, retryable) for a CLI's error output."""
    low = (text or "").lower()
    for pattern, cause, retry in _CAUSES:
        if pattern in low:
            return cause, retry
    return "failed", True


def _last_line(text):
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    match = re.search(r'msg="(.*)"\s*$', line)
    if match:
        line = match.group(1).replace('\\"', '"')
    return line[-600:]


def error_text(res):
    return res.get("stderr") or res.get("error") or ""
