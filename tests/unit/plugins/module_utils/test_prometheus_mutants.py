# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""measure/_prometheus: tests written for the survivors of a mutation run (docs/mutation.md), each named
for the bug it catches."""
from __future__ import annotations

import base64
import os
import re
import ssl

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _prometheus as pq
from ansible_collections.o2edge.perf.plugins.modules import prometheus_query

DOC_OUTCOME = re.compile(r"V\(([a-z_]+)\)")


def test_the_outcomes_are_the_ones_the_module_documents():
    """Bug: an outcome renamed, dropped or added in the table without the documentation (or the
    other way round); the module's description names each outcome once, in this order."""
    text = " ".join(prometheus_query.DOCUMENTATION.split())
    start = text.index("Every run gets an outcome")
    documented = DOC_OUTCOME.findall(text[start:text.index("Connects directly", start)])
    assert tuple(documented) == pq.OUTCOMES


def test_every_classified_outcome_is_in_the_table():
    """Bug: classify returning an outcome the table (and so the documentation) does not know."""
    cases = [(200, {"status": "success"}), (503, {"errorType": "timeout"}), (400, None), (500, None), (200, None)]
    assert {pq.classify(status, payload)[0] for status, payload in cases} <= set(pq.OUTCOMES)


def test_the_answer_bound_is_256_mib():
    """Bug: the answer bound changed (a smaller one refuses real answers, a larger one lets a server
    exhaust the controller's memory)."""
    assert pq.MAX_BODY == 268435456


def test_the_user_agent_names_the_collection_and_the_module():
    """Bug: the User-Agent (what a server's access log shows) losing its name or version."""
    assert pq.USER_AGENT == "o2edge.perf-prometheus_query/1"


def test_credentials_hidden_in_a_url_with_a_path():
    """Bugs: the host part cut at another character than '/', so credentials before a path are shown,
    or the path lost from the message."""
    assert pq._shown("http://u:pw@h:9090/prom/x") == "http://***@h:9090/prom/x"
    assert pq._shown(" http://h:9090/a ") == "http://h:9090/a"
    assert pq._shown("h:9090/a") == "h:9090/a"
    assert pq._shown("http://h:9090/user@x") == "http://h:9090/user@x"  # an '@' in the path hides nothing


def test_malformed_url_messages_in_full():
    """Bugs: the messages' wording changed so an operator can no longer tell what to fix."""
    with pytest.raises(pq.PromError) as err:
        pq.parse_url("")
    assert str(err.value) == "url is empty"
    with pytest.raises(pq.PromError) as err:
        pq.parse_url("http://u:pw@x:9090/?q=1")
    assert str(err.value).startswith("url 'http://***@x:9090/?q=1' ")
    with pytest.raises(pq.PromError) as err:
        pq.parse_url("http://x:9090/p?q=1")
    assert str(err.value) == ("url 'http://x:9090/p?q=1' is malformed: give the server's base URL without query"
                              " or fragment")


def test_base_path_loses_only_its_trailing_slashes():
    """Bug: other characters stripped from the base path, or the slashes kept (the API path is
    appended to it: //api/v1/query)."""
    assert pq.parse_url("http://x:9090/prom//") == ("http", "x", 9090, "/prom")
    assert pq.parse_url("http://x:9090/XX/") == ("http", "x", 9090, "/XX")


def test_safe_url_strips_white_space_and_trailing_slashes_only():
    """Bug: the URL in records keeping its padding or trailing slash, or losing other characters."""
    assert pq.safe_url("  http://x:9090/XX/  ") == "http://x:9090/XX"


def test_basic_auth_without_a_password_sends_an_empty_one():
    """Bug: a missing password sent as some other text."""
    header = pq.auth_headers(username="alice")["Authorization"]
    assert base64.b64decode(header.split(" ", 1)[1]) == b"alice:"


def test_certificates_are_verified_unless_told_not_to():
    """Bugs: the default turned to no verification, or verification off leaving the host name check on
    (ssl refuses CERT_NONE then) or the other way round."""
    ctx = pq.ssl_context()
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname is True
    off = pq.ssl_context(validate_certs=False)
    assert off.verify_mode == ssl.CERT_NONE and off.check_hostname is False


def test_a_ca_file_that_is_not_a_certificate_is_named_with_the_reason(tmp_path):
    """Bugs: the message without the file or without why it failed."""
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    with pytest.raises(pq.PromError) as err:
        pq.ssl_context(ca_file=str(bad))
    message = str(err.value)
    assert message.startswith("ca_file %s cannot be loaded: " % bad)
    reason = message[len("ca_file %s cannot be loaded: " % bad):]
    # ssl's reason (NO_CERTIFICATE_OR_CRL_FOUND with OpenSSL 3), not just the error's class name (SSLError)
    assert re.fullmatch(r"[A-Z0-9_]{6,}", reason), reason


def test_a_missing_ca_file_is_refused_by_name(tmp_path):
    """Bug: a missing CA file passed to ssl (its error then names no field)."""
    with pytest.raises(pq.PromError) as err:
        pq.ssl_context(ca_file=os.path.join(str(tmp_path), "none.pem"))
    assert "ca_file" in str(err.value)


def test_the_server_error_text_is_kept_and_only_for_a_mapping():
    """Bugs: the error text read from another key, or read from a payload that is not a mapping."""
    assert pq.classify(500, {"status": "error", "error": "disk full"}) == ("http_error", None, "disk full")
    assert pq.classify(500, ["error"]) == ("http_error", None, "HTTP 500")
    assert pq.classify(400, {"errorType": "bad_data"}) == ("bad_query", "bad_data", "HTTP 400")
