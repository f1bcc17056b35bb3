# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of a mutation run of _services.py (see docs/mutation.md).

The fields each service kind takes and the URL schemes it may use are spelled out here, not read
from ``KIND_FIELDS``: a field dropped or misspelled there must fail a test, since the edge-sites
schema and service_probe's targets refuse whatever ``takes`` says no to.
"""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _services as s

FIELDS = {
    "tcp": {"port"},
    "http": {"url", "expect_status", "ca_file", "tls_server_name"},
    "prometheus": {"port", "url", "ca_file", "tls_server_name", "query"},
    "kubernetes": {"port", "url", "ca_file", "tls_server_name", "token", "token_file", "kubeconfig", "context"},
}
EVERY_FIELD = sorted(set().union(*FIELDS.values()) | {"kind", "address", "timeout", "name", ""})


class TestKindFields:
    @pytest.mark.parametrize("kind", sorted(FIELDS))
    def test_each_kind_takes_its_documented_fields_and_no_other(self, kind):
        assert {f for f in EVERY_FIELD if s.takes(kind, f)} == FIELDS[kind]
        assert set(s.KIND_FIELDS[kind]) == FIELDS[kind]

    def test_unknown_kinds_take_nothing(self):
        assert not any(s.takes(kind, "port") for kind in ("ssh", "udp", "", None))

    def test_the_url_kinds_are_those_that_take_a_url(self):
        # service_probe: "url is only for kinds http, prometheus, kubernetes" (in this order)
        assert s.URL_KINDS == ("http", "prometheus", "kubernetes")


class TestUrlSchemes:
    def test_the_kubernetes_api_is_reached_over_tls_only(self):
        # a bearer token is sent to it: plain http must be refused
        assert s.url_schemes("kubernetes") == ("https",)
        assert s.url_endpoint("https://198.18.0.5:6443/readyz", s.url_schemes("kubernetes"))[:3] == ("https", "198.18.0.5", 6443)
        with pytest.raises(s.UrlError, match="^must use https, got scheme 'http'$"):
            s.url_endpoint("http://198.18.0.5:6443/readyz", s.url_schemes("kubernetes"))

    @pytest.mark.parametrize("kind", ["http", "prometheus", "tcp"])
    def test_the_other_kinds_take_http_and_https(self, kind):
        assert s.url_schemes(kind) == ("http", "https")
        assert s.url_endpoint("http://198.18.0.5/", s.url_schemes(kind))[2] == 80
        assert s.url_endpoint("https://198.18.0.5/", s.url_schemes(kind))[2] == 443
