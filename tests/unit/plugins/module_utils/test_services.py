"""The one home of service kinds, default ports and URL -> endpoint parsing."""
from __future__ import annotations

import re

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _services as s


def test_kinds_and_ports_are_the_documented_ones():
    assert s.PROBE_KINDS == ("tcp", "ssh", "http", "prometheus", "kubernetes")
    assert "ssh" not in s.SERVICE_KINDS and set(s.SERVICE_KINDS) == set(s.PROBE_KINDS) - {"ssh"}
    assert s.default_port("ssh") == 22
    assert s.default_port("kubernetes") == 6443
    assert s.default_port("prometheus") == 9090
    assert s.default_port("tcp") is None and s.default_port("http") is None
    assert s.WELL_KNOWN == {"kubernetes": "kubernetes", "prometheus": "prometheus", "o2ims": "http"}


@pytest.mark.parametrize("url, want", [
    ("http://198.18.1.10:8080/o2ims/v1", ("http", "198.18.1.10", 8080, "/o2ims/v1", "")),
    ("https://edge1.example.net/readyz?verbose", ("https", "edge1.example.net", 443, "/readyz", "verbose")),
    ("http://edge1.example.net", ("http", "edge1.example.net", 80, "/", "")),
    ("https://[2001:db8::1]:6443/", ("https", "2001:db8::1", 6443, "/", "")),
    ("  http://198.18.1.10:9090  ", ("http", "198.18.1.10", 9090, "/", "")),
])
def test_url_endpoint_splits_scheme_host_port_path_query(url, want):
    assert s.url_endpoint(url) == want


@pytest.mark.parametrize("url, message", [
    ("", r"must be a non-empty URL string"),
    (None, r"must be a non-empty URL string"),
    (42, r"must be a non-empty URL string"),
    ("ftp://host/x", r"must use http or https, got scheme 'ftp'"),
    ("x" * 30 + "://host/", r"must use http or https, got scheme '%s'" % ("x" * 20)),
    ("http:///nohost", r"has no host"),
    ("http://host:99999/", r"is not a valid URL: .*"),
    ("http://host:port/", r"is not a valid URL: .*"),
    ("http://user:hunter2@host/", r"must not embed credentials \(user:password@\); use a token file or a "
                                  r"vaulted variable"),
    ("http://user@host/", r"must not embed credentials .*"),
    ("http://host/a b", r"must not contain white space or NUL characters"),
    ("http://host/\0", r"must not contain white space or NUL characters"),
])
def test_url_endpoint_refuses_with_a_reason(url, message):
    with pytest.raises(s.UrlError) as err:
        s.url_endpoint(url)
    assert re.fullmatch(message, str(err.value)), str(err.value)
    assert "hunter2" not in str(err.value)


def test_url_endpoint_honours_the_allowed_schemes():
    with pytest.raises(s.UrlError, match="^must use https, got scheme 'http'$"):
        s.url_endpoint("http://host/", schemes=("https",))
    assert s.url_endpoint("https://host/", schemes=("https",))[2] == 443
    with pytest.raises(s.UrlError, match="^must use http or https or ftp, got scheme 'gopher'$"):
        s.url_endpoint("gopher://host/", schemes=("http", "https", "ftp"))
