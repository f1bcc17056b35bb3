# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What an edge service is, in one place: the probe kinds, the well-known service names, the
fields each kind takes, the URL schemes it may use, their default ports, and how a service URL
becomes scheme, host, port and path.

Everything that needs one of these rules (the edge-sites schema, service_probe, the prober,
prometheus_query) imports it from here, so that they cannot drift apart.
"""

from __future__ import annotations

from urllib.parse import urlsplit

# Every kind of probe; ``ssh`` is a site's own service, the others are listed under ``services``.
PROBE_KINDS = ("tcp", "ssh", "http", "prometheus", "kubernetes")
SERVICE_KINDS = tuple(k for k in PROBE_KINDS if k != "ssh")
# Service names that imply their kind; any other service name needs ``kind:``.
WELL_KNOWN = {"kubernetes": "kubernetes", "prometheus": "prometheus", "o2ims": "http"}
DEFAULT_PORTS = {"ssh": 22, "kubernetes": 6443, "prometheus": 9090}
SCHEME_PORTS = {"http": 80, "https": 443}
# The fields each service kind takes besides ``kind`` (the edge-sites schema and service_probe's
# targets both check against this).
KIND_FIELDS = {
    "tcp": ("port",),
    "http": ("url", "expect_status", "ca_file", "tls_server_name"),
    "prometheus": ("port", "url", "ca_file", "tls_server_name", "query"),
    "kubernetes": ("port", "url", "ca_file", "tls_server_name", "token", "token_file", "kubeconfig", "context"),
}
URL_KINDS = tuple(k for k in SERVICE_KINDS if "url" in KIND_FIELDS[k])


def url_schemes(kind):
    """The URL schemes a service of ``kind`` may use: the Kubernetes API only over TLS (a token is sent)."""
    return ("https",) if kind == "kubernetes" else ("http", "https")


def takes(kind, field):
    """True when a service of ``kind`` takes ``field``."""
    return field in KIND_FIELDS.get(kind, ())


class UrlError(ValueError):
    """A URL that cannot name a service endpoint; the message says why (never the URL's secrets)."""


def url_endpoint(url, schemes=("http", "https")):
    """``(scheme, host, port, path, query)`` of an http(s) service URL.

    The port defaults by scheme; the path is ``/`` when empty. Raises ``UrlError`` for a value
    that is not a string, holds white space or NUL, has another scheme, no host, a bad port,
    or embedded credentials (``user:pass@``), which must come from a file or a vaulted variable.
    """
    if not isinstance(url, str) or not url.strip():
        raise UrlError("must be a non-empty URL string")
    if any(c.isspace() or c == "\0" for c in url.strip()):
        raise UrlError("must not contain white space or NUL characters")
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise UrlError("is not a valid URL: %s" % exc)
    if parts.scheme not in schemes:
        raise UrlError("must use %s, got scheme %r" % (" or ".join(schemes), parts.scheme[:20]))
    if not parts.hostname:
        raise UrlError("has no host")
    if parts.username is not None or parts.password is not None:
        raise UrlError("must not embed credentials (user:password@); use a token file or a vaulted variable")
    if port is None:
        port = SCHEME_PORTS[parts.scheme]
    return parts.scheme, parts.hostname, port, parts.path or "/", parts.query


def default_port(kind):
    """The default port of a probe kind, or None when the kind has none (tcp, http)."""
    return DEFAULT_PORTS.get(kind)
