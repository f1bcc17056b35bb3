# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The edge-sites config: schema validation, host variables and probe targets.

The documented schema is docs/edge-sites.md. ``validate_config`` takes the loaded YAML
document and returns it normalized (defaults merged under every site, paths made absolute,
services given their kind) or raises ``EdgeSitesError`` naming every bad site and field.

Error messages never show a whole mapping or list (only its type and size), show a scalar
truncated, and never show a value that is a secret by its key or its shape (``_secrets``).
What is a secret is decided in ``_secrets``; service kinds, default ports and URL parsing
come from ``_services``.

Pure Python; netaddr validates addresses and is imported defensively: ``validate_config``
raises a clear ``EdgeSitesError`` when it is missing. ``site_targets`` (used by the
service_probe module on the controller) needs nothing but the standard library.

Size: over 450 lines because it is the one schema of the edge-sites config (every field checked,
every problem reported at once) with the host variables and probe targets derived from it; the per-
kind service rules are _services'.
"""

from __future__ import annotations

import base64
import ipaddress
import os
import re
import shlex
import socket
import struct

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import (
    find_secrets, is_secret_key, key_words, secret_value_reason, showable_name)
from ansible_collections.o2edge.perf.plugins.module_utils._services import (
    DEFAULT_PORTS, KIND_FIELDS, SERVICE_KINDS, WELL_KNOWN, UrlError, takes, url_endpoint, url_schemes)
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import shape_problem

try:
    import netaddr
    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without netaddr
    netaddr = None
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = exc

PLUGIN_NAMES = ("o2edge.perf.edge_sites",)
SCHEMA_VERSIONS = (1,)
TOP_KEYS = ("plugin", "version", "defaults", "sites", "known_hosts_dir")
DEFAULT_KEYS = ("ssh", "python_interpreter", "labels")
SITE_KEYS = ("name", "address", "labels", "ssh", "services", "metadata", "python_interpreter")
SSH_KEYS = ("port", "user", "key_file", "known_hosts", "host_key", "password")
KINDS = SERVICE_KINDS
SERVICE_KEYS = {kind: ("kind",) + KIND_FIELDS[kind] for kind in SERVICE_KINDS}
HOST_KEY_TYPES = (
    "ssh-ed25519", "ssh-rsa", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
    "sk-ssh-ed25519@openssh.com", "sk-ecdsa-sha2-nistp256@openssh.com", "ssh-dss",
)
# The host variable that carries a (vaulted) Kubernetes API token, never part of edge_site.
TOKEN_VAR = "edge_kubernetes_token"
# Host variables that may hold a secret, and only a vaulted one.
SECRET_VARS = ("ansible_password", TOKEN_VAR)
ALL_GROUP = "edge_sites"
# Groups every inventory has, plus ours; no site may be named like a group.
BUILTIN_GROUPS = ("all", "ungrouped", ALL_GROUP)
# Bounds on the loaded document: nesting depth and values (YAML aliases counted each time used).
MAX_DEPTH = 32
MAX_VALUES = 100000

# All matched with fullmatch: ``$`` would let a trailing newline through.
_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_LABEL_KEY_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_LABEL_VALUE_RE = re.compile(r"[A-Za-z0-9_.-]{1,63}")
_DNS_LABEL_RE = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")
_NUMERIC_LABEL_RE = re.compile(r"[0-9]+|0[xX][0-9A-Fa-f]*")
_DOTTED_RE = re.compile(r"[0-9.]+")
_USER_RE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}")
# ansible_python_interpreter is run by a shell on the target: a strict class, no white space, no metacharacters.
_INTERPRETER_RE = re.compile(r"/[A-Za-z0-9_.+/-]{0,254}")
# White space and control characters (NUL, newline, ...): never part of an address, name or path.
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")
_SPACE_OR_CONTROL_RE = re.compile(r"[\s\x00-\x1f\x7f]")


class EdgeSitesError(ValueError):
    """An invalid edge-sites config; ``errors`` lists every problem found (path: message)."""

    def __init__(self, errors, source=None):
        self.errors = list(errors)
        self.source = source
        where = (" (%s)" % source) if source else ""
        shown = self.errors[:20]
        more = len(self.errors) - len(shown)
        text = "edge-sites config%s is invalid: %s" % (where, "; ".join(shown))
        if more > 0:
            text += "; and %d more" % more
        super(EdgeSitesError, self).__init__(text)


def is_vaulted(value):
    """True for an Ansible vault-encrypted value (``!vault``), whatever the ansible-core version."""
    name = type(value).__name__
    return name in ("EncryptedString", "AnsibleVaultEncryptedUnicode") or hasattr(value, "_ciphertext")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value, limit=60, key=None):
    """A value for an error message: never a whole mapping or list, never a secret, at most ``limit`` characters."""
    if is_vaulted(value):
        return "a vaulted value"
    if isinstance(value, dict):
        return "a mapping (%d entries)" % len(value)
    if isinstance(value, (list, tuple, set)):
        return "a list (%d items)" % len(value)
    if isinstance(value, (str, bytes)):
        if (key is not None and is_secret_key(key)) or secret_value_reason(value):
            return "a hidden value of %d characters" % len(value)
        text = repr(value[:limit])
        return text if len(value) <= limit else "%s... (%d characters)" % (text, len(value))
    if value is None or isinstance(value, (bool, float)):
        return repr(value)
    if isinstance(value, int):
        return repr(int(value)) if value.bit_length() <= 64 else "an integer of %d bits" % value.bit_length()
    return "a value of type %s" % type(value).__name__


def _plain_key(key):
    """True for a key that may be shown (``_secrets.showable_name``)."""
    return showable_name(key)


def _seg(key, position=None):
    """One path segment for a key read from the file, never its text unless that is harmless.

    The key itself only when it is a short identifier (``[A-Za-z0-9_-]{1,63}``) that does not look
    like a secret; otherwise its position in its mapping (``<key 3>``) or, without one, its length.
    A file that is not what it claims (a symlink to /etc/shadow given as the config) would else
    have each of its lines echoed as an "unknown field".
    """
    if isinstance(key, str):
        if _plain_key(key):
            return key
        if position is not None:
            return "<key %d>" % (position + 1)
        return "<a key of %d characters>" % len(key)
    if key is None or isinstance(key, (bool, int, float)):
        return "[%s]" % _show(key)
    if position is not None:
        return "<key %d>" % (position + 1)
    return "<a key of type %s>" % type(key).__name__


def label_group(key, value):
    """Group name for one label: ``<key>_<value>``, with ``.`` and ``-`` turned into ``_``."""
    return re.sub(r"[^A-Za-z0-9_]", "_", "%s_%s" % (key, value))


def shape_error(data, max_depth=MAX_DEPTH, max_values=MAX_VALUES):
    """A message when ``data`` nests deeper than ``max_depth`` (or refers to itself) or holds more than
    ``max_values`` values counting shared ones each time; else None. Bounded work, no recursion."""
    problem = shape_problem(data, max_depth, max_values)
    if problem is None:
        return None
    if problem[0] == "values":
        return "the document holds more than %d values (YAML aliases count each time they are used)" % max_values
    shown = "".join("[%d]" % key if isinstance(key, int) else "." + _seg(key) for key in problem[1]).lstrip(".")
    return "%s: nests deeper than %d levels (or refers to itself)" % (shown, max_depth)


def check_address(address):
    """Return (kind, error): kind is ipv4, ipv6 or dns; error a message or None."""
    if not isinstance(address, str) or not address:
        return None, "must be a non-empty string (IPv4, IPv6 or DNS name), got %s" % _show(address)
    if _SPACE_OR_CONTROL_RE.search(address):
        return None, "must not contain white space or control characters (NUL, newline), got %s" % _show(address)
    if not HAS_NETADDR:
        return None, ("cannot be validated: the Python library netaddr is missing on the controller "
                      "(pip install netaddr): %s" % NETADDR_IMPORT_ERROR)
    if address.startswith("[") or "%" in address:
        return None, "must be a plain address without brackets or zone index, got %s" % _show(address)
    if netaddr.valid_ipv4(address, flags=netaddr.INET_PTON):
        return "ipv4", None
    if ":" in address:
        if netaddr.valid_ipv6(address):
            return "ipv6", None
        return None, "is not a valid IPv6 address: %s" % _show(address)
    if _DOTTED_RE.fullmatch(address):
        return None, "is not a valid IPv4 address: %s" % _show(address)
    try:
        socket.inet_aton(address)
        legacy = True
    except (OSError, ValueError):
        legacy = False
    name = address[:-1] if address.endswith(".") else address
    labels = name.split(".")
    if legacy or _NUMERIC_LABEL_RE.fullmatch(labels[-1]):
        return None, ("is an IPv4 address in a legacy numeric form (hex, octal or short) or a DNS name with a "
                      "numeric last label; write IPv4 as a dotted quad of decimals: %s" % _show(address))
    if len(name) > 253 or not all(_DNS_LABEL_RE.fullmatch(lbl) for lbl in labels):
        return None, "is neither an IP address nor a valid DNS name: %s" % _show(address)
    return "dns", None


def normalize_address(address, kind):
    """The canonical form of a checked address: IPs compressed and lower case, DNS names lower case without
    the trailing dot. Two sites with the same canonical address and port are the same endpoint."""
    if kind in ("ipv4", "ipv6"):
        try:
            return str(ipaddress.ip_address(address))
        except ValueError:  # pragma: no cover - netaddr and ipaddress agree on what they accept
            return address.lower()
    return address.lower().rstrip(".")


def check_host_key(value):
    """Return (normalized 'type base64', error) for an SSH public host key pin."""
    if not isinstance(value, str):
        return None, "must be a string 'TYPE BASE64' (as in known_hosts), got %s" % _show(value)
    parts = value.split()
    if len(parts) < 2:
        return None, "must be 'TYPE BASE64' (as in known_hosts), got %s" % _show(value)
    ktype, blob = parts[0], parts[1]
    if ktype not in HOST_KEY_TYPES:
        return None, "has unknown key type %s (one of %s)" % (_show(ktype), ", ".join(HOST_KEY_TYPES))
    try:
        raw = base64.b64decode(blob.encode("ascii"), validate=True)
        (length,) = struct.unpack(">I", raw[:4])
        inner = raw[4:4 + length].decode("ascii")
    except Exception:
        return None, "has a key that is not valid base64 SSH key data"
    if inner != ktype:
        return None, "says %s but the key data is of type %s" % (ktype, _show(inner, limit=40))
    return "%s %s" % (ktype, blob), None


def _secret_message(key, reason):
    if reason == "vaulted":
        return ("a vaulted secret is only taken as ssh.password or services.kubernetes.token; keep others in "
                "vaulted host_vars, never in edge_site")
    if reason != "plaintext":
        return "%s, refused: give a path, a token_file or a vaulted variable instead" % reason
    words = key_words(key)
    if "token" in words or "bearer" in words:
        return "a plaintext token is refused; use token_file or a vaulted variable (token: !vault | ..., or %s " \
               "in host_vars)" % TOKEN_VAR
    if any(w.startswith("pass") or w == "pwd" for w in words):
        return "a plaintext password is refused; use an SSH key (ssh.key_file) or a vaulted variable (!vault)"
    return "a plaintext secret is refused (its key names a secret); keep it in a file or a vaulted variable"


def _vault_allowed(keys):
    """Where the schema takes a vaulted secret: ssh.password and services.<name>.token."""
    return keys == ("ssh", "password") or (len(keys) == 3 and keys[0] == "services" and keys[2] == "token")


def secret_errors(value, path, is_vault, allow=_vault_allowed):
    """Every secret in ``value`` (by key name or by the value's shape) as 'path: message'; never a value."""
    errors = []
    for keys, reason in find_secrets(value, is_vault, allow):
        where = "".join("[%d]" % k if isinstance(k, int) and not isinstance(k, bool) else "." + _seg(k)
                        for k in keys)
        errors.append("%s%s: %s" % (path, where, _secret_message(keys[-1] if keys else None, reason)))
    return errors


class _Checker(object):
    def __init__(self, base_dir, is_vault):
        self.errors = []
        self.base_dir = base_dir
        self.is_vault = is_vault

    def err(self, path, msg):
        self.errors.append("%s: %s" % (path, msg))

    def mapping(self, value, path):
        if value is None:
            return {}
        if not isinstance(value, dict):
            self.err(path, "must be a mapping, got %s" % _show(value))
            return None
        return value

    def unknown(self, value, allowed, path):
        for position, key in enumerate(value):
            if key not in allowed:
                self.err("%s.%s" % (path, _seg(key, position)) if path else _seg(key, position),
                         "unknown field (allowed: %s)" % ", ".join(allowed))

    def path(self, value, path):
        if not isinstance(value, str) or not value.strip() or _CONTROL_RE.search(value):
            self.err(path, "must be a file path (a string without control characters), got %s" % _show(value))
            return None
        value = os.path.expanduser(value)
        if not os.path.isabs(value):
            if not self.base_dir:
                self.err(path, "must be an absolute path, got %s" % _show(value))
                return None
            value = os.path.join(self.base_dir, value)
        return os.path.normpath(value)

    def interpreter(self, value, path):
        """A Python interpreter path on the target: absolute, and only characters no shell reads specially."""
        if not isinstance(value, str) or not _INTERPRETER_RE.fullmatch(value):
            self.err(path, "must be an absolute path of letters, digits and _ . + - / only (no white space, no "
                           "shell characters; e.g. /usr/bin/python3), got %s" % _show(value))
            return None
        return os.path.normpath(value)

    def port(self, value, path):
        if not _is_int(value) or not 1 <= value <= 65535:
            self.err(path, "must be an integer port 1-65535, got %s" % _show(value))
            return None
        return int(value)

    def string(self, value, path, regex=None, what="a string", control_ok=""):
        if (not isinstance(value, str) or not value or (regex is not None and not regex.fullmatch(value))
                or any(c not in control_ok for c in _CONTROL_RE.findall(value))):
            self.err(path, "must be %s, got %s" % (what, _show(value)))
            return None
        return str(value)

    def url(self, value, path, schemes=("http", "https")):
        try:
            host, port = url_endpoint(value, schemes)[1:3]
        except UrlError as exc:
            self.err(path, str(exc))
            return None
        kind, error = check_address(host)
        if error:
            self.err(path, "host %s" % error)
            return None
        if port == 0:
            self.err(path, "has port 0")
            return None
        return str(value)

    def labels(self, value, path):
        value = self.mapping(value, path)
        if value is None:
            return {}
        out = {}
        for position, (k, v) in enumerate(value.items()):
            if not isinstance(k, str) or not _LABEL_KEY_RE.fullmatch(k):
                self.err("%s.%s" % (path, _seg(k, position)), "label key must match [A-Za-z_][A-Za-z0-9_]*")
                continue
            if isinstance(v, bool):
                v = "true" if v else "false"
            elif _is_int(v):
                v = str(v)
            if not isinstance(v, str) or not _LABEL_VALUE_RE.fullmatch(v):
                self.err("%s.%s" % (path, k), "label value must be a word of [A-Za-z0-9_.-] (it becomes "
                         "group %s_<value>), got %s" % (k, _show(v, key=k)))
                continue
            out[str(k)] = str(v)
        return out

    def ssh(self, value, path):
        value = self.mapping(value, path)
        if value is None:
            return {}
        self.unknown(value, SSH_KEYS, path)
        out = {}
        if "port" in value:
            out["port"] = self.port(value["port"], path + ".port")
        if value.get("user") is not None:
            out["user"] = self.string(value["user"], path + ".user", _USER_RE, "a user name")
        for key in ("key_file", "known_hosts"):
            if value.get(key) is not None:
                out[key] = self.path(value[key], "%s.%s" % (path, key))
        if value.get("host_key") is not None:
            key, error = check_host_key(value["host_key"])
            if error:
                self.err(path + ".host_key", error)
            out["host_key"] = key
        if value.get("password") is not None and self.is_vault(value["password"]):
            out["password"] = value["password"]
        return out

    def service(self, name, value, path, address):
        value = self.mapping(value, path)
        if value is None:
            return None, None
        kind = value.get("kind", WELL_KNOWN.get(name))
        if kind is None:
            self.err(path + ".kind", "is required for a service not named %s (one of %s)"
                     % (", ".join(sorted(WELL_KNOWN)), ", ".join(KINDS)))
            return None, None
        if not isinstance(kind, str) or kind not in KINDS:
            self.err(path + ".kind", "must be one of %s, got %s" % (", ".join(KINDS), _show(kind)))
            return None, None
        self.unknown(value, SERVICE_KEYS[kind], path)
        out = {"kind": kind}
        secret = None
        if takes(kind, "port") and "port" in value:
            out["port"] = self.port(value["port"], path + ".port")
        if "url" in value:
            out["url"] = self.url(value["url"], path + ".url", url_schemes(kind))
            if "port" in value and out.get("url"):
                self.err(path, "give either port or url, not both")
        if kind == "tcp" and "port" not in value:
            self.err(path + ".port", "is required for kind tcp")
        if kind == "http" and "url" not in value:
            self.err(path + ".url", "is required for kind http (e.g. http://%s:8080/...)"
                     % (address if check_address(address)[1] is None else "ADDRESS"))
        if kind in DEFAULT_PORTS and "port" not in value and "url" not in value:
            out["port"] = DEFAULT_PORTS[kind]
        for key in ("ca_file", "token_file", "kubeconfig"):
            if value.get(key) is not None:
                out[key] = self.path(value[key], "%s.%s" % (path, key))
        for key in ("tls_server_name", "context", "query"):
            if value.get(key) is not None:
                out[key] = self.string(value[key], "%s.%s" % (path, key), control_ok="\t\n" if key == "query" else "")
        if "expect_status" in value:
            st = value["expect_status"]
            codes = st if isinstance(st, list) else [st]
            if not codes or not all(_is_int(c) and 100 <= c <= 599 for c in codes):
                self.err(path + ".expect_status", "must be an HTTP status 100-599 or a list of them, got %s"
                         % _show(st))
            else:
                out["expect_status"] = [int(c) for c in codes]
        elif kind == "http":
            out["expect_status"] = [200]
        if kind == "kubernetes":
            given = [k for k in ("token", "token_file", "kubeconfig") if value.get(k) is not None]
            if len(given) > 1:
                self.err(path, "give only one of token (vaulted), token_file, kubeconfig; got %s" % ", ".join(given))
            if value.get("token") is not None and self.is_vault(value["token"]):
                secret = value["token"]
            if value.get("context") is not None and value.get("kubeconfig") is None:
                self.err(path + ".context", "needs kubeconfig")
        return out, secret


def validate_config(data, base_dir=None, source=None, is_vault=None, plugin_names=PLUGIN_NAMES):
    """Validate and normalize a loaded edge-sites document; raise EdgeSitesError."""
    is_vault = is_vault or is_vaulted
    c = _Checker(base_dir, is_vault)
    if not isinstance(data, dict):
        # The whole file as one value: its type and size only, never an excerpt (it may be any file).
        got = ("a string of %d characters" % len(data) if isinstance(data, str) and not is_vaulted(data)
               else _show(data) if not isinstance(data, (str, bytes)) else "a hidden value")
        raise EdgeSitesError(["the document must be a mapping with plugin, version and sites, got %s" % got], source)
    error = shape_error(data)
    if error:
        raise EdgeSitesError([error], source)
    c.unknown(data, TOP_KEYS, "")
    if data.get("plugin") not in plugin_names:
        c.err("plugin", "must be %s, got %s" % (plugin_names[0], _show(data.get("plugin"))))
    version = data.get("version")
    if not _is_int(version) or version not in SCHEMA_VERSIONS:
        c.err("version", "must be %s (the schema version), got %s"
              % (" or ".join(str(v) for v in SCHEMA_VERSIONS), _show(version)))
    c.errors.extend(secret_errors(data.get("defaults"), "defaults", is_vault))
    defaults = c.mapping(data.get("defaults"), "defaults") or {}
    c.unknown(defaults, DEFAULT_KEYS, "defaults")
    d_ssh = c.ssh(defaults.get("ssh"), "defaults.ssh")
    d_labels = c.labels(defaults.get("labels"), "defaults.labels")
    d_python = None
    if defaults.get("python_interpreter") is not None:
        d_python = c.interpreter(defaults["python_interpreter"], "defaults.python_interpreter")
    known_hosts_dir = None
    if data.get("known_hosts_dir") is not None:
        known_hosts_dir = c.path(data["known_hosts_dir"], "known_hosts_dir")

    sites_in = data.get("sites")
    sites = []
    if not isinstance(sites_in, list) or not sites_in:
        c.err("sites", "must be a non-empty list of sites, got %s" % _show(sites_in))
        sites_in = []
    names = {}
    endpoints = {}
    for i, raw in enumerate(sites_in):
        label = "sites[%d]" % i
        if not isinstance(raw, dict):
            c.err(label, "must be a mapping with name and address, got %s" % _show(raw))
            continue
        name = raw.get("name")
        if isinstance(name, str) and _NAME_RE.fullmatch(name):
            label = "sites[%d] (%s)" % (i, name)
        name = c.string(name, label + ".name", _NAME_RE,
                        "a site name of [A-Za-z0-9_.-] starting with a letter or digit, at most 63 characters")
        if name is not None:
            if name in names:
                c.err(label + ".name", "duplicate site name (also sites[%d])" % names[name])
            else:
                names[name] = i
        c.unknown(raw, SITE_KEYS, label)
        c.errors.extend(secret_errors(raw, label, is_vault))
        address = raw.get("address")
        addr_kind, error = check_address(address)
        if error:
            c.err(label + ".address", error)
        ssh = dict(port=22, user=None, key_file=None, known_hosts=None, host_key=None)
        ssh.update(dict((k, v) for k, v in d_ssh.items() if v is not None))
        ssh.update(dict((k, v) for k, v in c.ssh(raw.get("ssh"), label + ".ssh").items() if v is not None))
        secrets = {}
        if ssh.get("password") is not None:
            secrets["ansible_password"] = ssh.pop("password")
        else:
            ssh.pop("password", None)
        if not ssh.get("known_hosts") and not ssh.get("host_key"):
            c.err(label + ".ssh", "needs known_hosts or host_key (host keys are always verified); "
                  "set it here or in defaults.ssh")
        if name is not None and addr_kind is not None and ssh.get("port"):
            ep = (normalize_address(address, addr_kind), ssh["port"])
            if ep in endpoints:
                c.err(label + ".address", "%s port %d is already site %s (%s)"
                      % (address, ssh["port"], endpoints[ep][0], endpoints[ep][1]))
            else:
                endpoints[ep] = (name, address)
        labels = dict(d_labels)
        labels.update(c.labels(raw.get("labels"), label + ".labels"))
        python = d_python
        if raw.get("python_interpreter") is not None:
            python = c.interpreter(raw["python_interpreter"], label + ".python_interpreter")
        services = {}
        svc_in = c.mapping(raw.get("services"), label + ".services") or {}
        for position, (sname, sval) in enumerate(svc_in.items()):
            spath = "%s.services.%s" % (label, _seg(sname, position))
            if not isinstance(sname, str) or not _LABEL_KEY_RE.fullmatch(sname):
                c.err(spath, "service name must match [A-Za-z_][A-Za-z0-9_]*")
                continue
            if sname == "ssh":
                c.err(spath, "ssh is not a service entry: configure it under the site's ssh:")
                continue
            svc, secret = c.service(sname, sval, spath, address)
            if svc is not None:
                services[sname] = svc
            if secret is not None:
                secrets[TOKEN_VAR] = secret
        metadata = c.mapping(raw.get("metadata"), label + ".metadata")
        sites.append({
            "name": name, "address": address, "address_kind": addr_kind, "labels": labels,
            "ssh": ssh, "python_interpreter": python, "services": services, "metadata": metadata or {},
            "secrets": secrets, "_label": label,
        })
    groups = set(BUILTIN_GROUPS)
    for s in sites:
        groups.update(site_groups(s))
    for s in sites:
        if s["name"] in groups:
            c.err(s["_label"] + ".name", "is also the name of a group (all, ungrouped, %s or a label group "
                  "<key>_<value>); a host must not share a group's name" % ALL_GROUP)
    for s in sites:
        del s["_label"]
    if c.errors:
        raise EdgeSitesError(c.errors, source)
    return {"version": version, "sites": sites, "known_hosts_dir": known_hosts_dir}


def _refuse_published_secrets(name, hostvars, is_vault=is_vaulted):
    """Raise EdgeSitesError when a host variable would carry a secret (only vaulted SECRET_VARS may)."""
    errors = []
    for key, value in hostvars.items():
        if not (key in SECRET_VARS and is_vault(value)):
            errors.extend(secret_errors({key: value}, "", is_vault, allow=None))
    if errors:
        raise EdgeSitesError(["site %s: refusing to publish a secret as a host variable: %s"
                              % (_seg(name), e.lstrip(".")) for e in errors])


def ssh_common_args(site, known_hosts=None):
    """The ssh options every connection to ``site`` uses: host keys checked under the site's name."""
    ssh = site["ssh"]
    known_hosts = known_hosts or ssh.get("known_hosts")
    args = ["-o", "HostKeyAlias=%s" % site["name"], "-o", "StrictHostKeyChecking=yes"]
    if known_hosts:
        args += ["-o", "UserKnownHostsFile=%s" % known_hosts]
    args += ["-o", "IdentitiesOnly=yes"]
    return " ".join(shlex.quote(a) for a in args)


def pinned_known_hosts_line(site):
    """known_hosts line for a site's pinned host key, keyed by site name and address."""
    return "%s,%s %s\n" % (site["name"], site["address"], site["ssh"]["host_key"])


def public_site(site, _check=True):
    """The site as a host variable (``edge_site``): everything but secrets; raises if a secret slipped in."""
    out = dict((k, v) for k, v in site.items() if k != "secrets")
    if _check:
        _refuse_published_secrets(site.get("name"), {"edge_site": out})
    return out


def site_hostvars(site, known_hosts=None, is_vault=is_vaulted):
    """Ansible host variables for one normalized site (see docs/edge-sites.md); never a plaintext secret."""
    ssh = site["ssh"]
    hv = {
        "ansible_host": site["address"],
        "ansible_port": ssh["port"],
        "ansible_ssh_common_args": ssh_common_args(site, known_hosts),
        "edge_site": public_site(site, _check=False),  # checked below with the rest
        "edge_services": site["services"],
        "edge_labels": site["labels"],
        "edge_metadata": site["metadata"],
    }
    if ssh.get("user"):
        hv["ansible_user"] = ssh["user"]
    if ssh.get("key_file"):
        hv["ansible_ssh_private_key_file"] = ssh["key_file"]
    if site.get("python_interpreter"):
        hv["ansible_python_interpreter"] = site["python_interpreter"]
    hv.update(site.get("secrets") or {})
    _refuse_published_secrets(site.get("name"), hv, is_vault)
    return hv


def site_groups(site):
    """Groups of a site: edge_sites, and <key>_<value> for every label."""
    return [ALL_GROUP] + [label_group(k, v) for k, v in sorted(site["labels"].items())]


def site_targets(site, services=None, ssh_login=False, token=None):
    """Probe targets (dicts for service_probe) for one site as found in the ``edge_site`` host variable.

    ``services`` limits the services probed (``ssh`` included by name); ``token`` is the site's
    Kubernetes API token (from a vaulted variable), never stored in ``edge_site``. Raises
    ValueError (never TypeError) for a site of another shape.
    """
    if not isinstance(site, dict) or not site.get("name") or not site.get("address"):
        raise ValueError("a site needs at least name and address, got %s" % _show(site))
    name = site["name"]
    address = site["address"]
    ssh = site.get("ssh") or {}
    svcs = site.get("services") or {}
    if not isinstance(ssh, dict) or not isinstance(svcs, dict):
        raise ValueError("site %s: ssh and services must be mappings" % _show(name))
    out = []
    want = None if not services else set(services)
    if want is None or "ssh" in want:
        out.append({
            "site": name, "service": "ssh", "kind": "ssh", "address": address,
            "port": ssh.get("port") or DEFAULT_PORTS["ssh"], "alias": name, "known_hosts": ssh.get("known_hosts"),
            "host_key": ssh.get("host_key"), "user": ssh.get("user"), "key_file": ssh.get("key_file"),
            "login": bool(ssh_login),
        })
    for sname in sorted(svcs, key=str):
        if want is not None and sname not in want:
            continue
        if not isinstance(svcs[sname], dict):
            raise ValueError("site %s: service %s must be a mapping, got %s"
                             % (_show(name), _seg(sname), _show(svcs[sname])))
        svc = dict(svcs[sname])
        kind = svc.pop("kind", WELL_KNOWN.get(sname))
        target = {"site": name, "service": sname, "kind": kind}
        if svc.get("url"):
            try:
                host, port = url_endpoint(svc["url"])[1:3]
            except UrlError as exc:
                raise ValueError("site %s: service %s url %s" % (_show(name), _seg(sname), exc))
            target.update(address=host, port=port)
        else:
            target.update(address=address, port=svc.get("port") or DEFAULT_PORTS.get(kind))
        for key, val in svc.items():
            if key != "port" and val is not None:
                target[key] = val
        if kind == "kubernetes" and token is not None:
            target["token"] = token
        out.append(target)
    return out
