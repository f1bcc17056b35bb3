#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Size: over 450 lines, about half or more of them the module's documentation (DOCUMENTATION, EXAMPLES, RETURN).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: service_probe
short_description: Probe every edge site's services at once and say exactly what is wrong where
version_added: 1.0.0
description:
  - Probes a list of targets (site, service kind, address, port, options) concurrently, at most
    O(concurrency) at a time, each with its own connect timeout and total deadline.
  - Every result has a state from a fixed vocabulary - V(up), V(refused), V(timeout),
    V(unreachable), V(dns), V(tls), V(auth), V(http_status), V(host_key_mismatch), V(protocol) -
    plus the latency in milliseconds and a human detail.
  - Kinds - V(tcp) connects; V(ssh) reads the banner, fetches the host key on the same connection
    (the first steps of the SSH key exchange, no program run) and compares it with the pin or the C(known_hosts) entry of the site's name (never trusting an
    unknown or different key), and optionally logs in with C(BatchMode=yes) and strict host-key
    checking to run C(true); V(kubernetes) calls C(/readyz?verbose), C(/livez) and C(/version) over
    verified TLS with a bearer token and reports the version and failing checks; V(prometheus) calls
    C(/-/ready) and the instant query C(up) and reports targets up and down; V(http) checks a URL's
    status (for O2IMS and the like). A probe's later GETs reuse its first GET's connection (and TLS
    handshake) while the server keeps it open (HTTP/1.1 keep-alive), so a V(kubernetes) probe costs
    an API server one TLS handshake, not three; a server that closes it gets a new connection for each.
  - Targets can be given directly (O(targets)) or built from edge sites as the
    M(o2edge.perf.edge_sites) inventory plugin sets them in the C(edge_site) host variable (O(sites)).
  - Tokens are never returned; give them through O(tokens) or a target's O(targets[].token) (both no_log),
    or as files. Every token a probe sends (given, or read from a token file or a kubeconfig) is masked
    out of the details and info, also when a server echoes it back.
  - The module fails (C(failed=true)) only for invalid arguments, naming the field. A service that is down is
    a result with its state, not a failure (C(failed=false)).
  - The module only reads; it probes in check mode too.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  platform:
    description: Runs where the probes start (normally the controller); Python 3.9 or later, standard library
      only, plus C(ssh) for O(ssh_login) on V(ssh) targets.
options:
  targets:
    description: Targets to probe, in addition to those built from O(sites).
    type: list
    elements: dict
    default: []
    suboptions:
      site:
        description: Site the target belongs to (a row of the matrix).
        type: str
        required: true
      service:
        description: Service name (a column of the matrix). Defaults to O(targets[].kind).
        type: str
      kind:
        description:
          - What to probe, one of V(tcp), V(ssh), V(http), V(prometheus), V(kubernetes).
          - Any other value fails the module with a message naming the target and the kind.
        type: str
        required: true
      address:
        description:
          - One IPv4 or IPv6 address or DNS name (no white space or commas).
          - Required unless O(targets[].url) or (for V(kubernetes)) O(targets[].kubeconfig) is given.
        type: str
      port:
        description:
          - TCP port. Defaults to 22 (ssh), 6443 (kubernetes), 9090 (prometheus); required for V(tcp).
          - Taken from O(targets[].url) when that is given.
        type: int
      url:
        description:
          - Base URL (V(http), V(prometheus), V(kubernetes) only); for V(http) the URL fetched, and required.
          - Sets the address and port probed; must not embed credentials.
        type: str
      expect_status:
        description: HTTP statuses that count as up (V(http)).
        type: list
        elements: int
        default: [200]
      ca_file:
        description: CA bundle that verifies the server's certificate (HTTPS). The system CAs otherwise.
        type: path
      tls_server_name:
        description: Name to verify the server certificate against (and send as SNI) instead of the address.
        type: str
      token:
        description: Bearer token for V(kubernetes). Never returned.
        type: str
      token_file:
        description: File holding the bearer token for V(kubernetes).
        type: path
      kubeconfig:
        description:
          - A kubeconfig giving the V(kubernetes) server, CA and credentials (token, tokenFile or client certificate);
            V(kubernetes) only.
          - Its server, CA and TLS server name are used instead of O(targets[].address), O(targets[].url),
            O(targets[].ca_file) and O(targets[].tls_server_name); its credentials unless O(targets[].token)
            is given, and O(targets[].token_file) only when it has none. exec and auth-provider credentials are
            not supported.
        type: path
      context:
        description: Context of O(targets[].kubeconfig) to use instead of its current-context.
        type: str
      query:
        description: PromQL instant query for V(prometheus); each series is a scrape target, 1 up, anything else down.
        type: str
        default: up
      alias:
        description: Name the SSH host key is looked up under in known_hosts (as C(HostKeyAlias)). Defaults to O(targets[].site).
        type: str
      known_hosts:
        description: known_hosts file for V(ssh) (entries keyed by site name and address).
        type: path
      host_key:
        description: Pinned host key C(TYPE BASE64) for V(ssh); checked instead of O(targets[].known_hosts).
        type: str
      user:
        description: SSH user for the login (V(ssh) with O(targets[].login)).
        type: str
      key_file:
        description: SSH private key for the login.
        type: path
      login:
        description:
          - Also log in (BatchMode, strict host-key checking against the pin or O(targets[].known_hosts) only,
            under the alias) and run C(true). Defaults to O(ssh_login).
        type: bool
      connect_timeout:
        description: Seconds to wait for the TCP connection. Defaults to O(connect_timeout).
        type: float
      timeout:
        description: Total seconds for this target. Defaults to O(timeout).
        type: float
  sites:
    description:
      - Edge sites, each as the C(edge_site) host variable of the M(o2edge.perf.edge_sites) inventory plugin
        (name, address, ssh, services). Every site gets an V(ssh) target and one per service.
      - Must not contain secrets - a value under a secret-named key (C(token), C(password), C(api_key) and the
        like) or secret material (a private key, a JWT, a URL with a password or a token parameter); the module
        fails naming the first one. Give tokens through O(tokens).
    type: list
    elements: dict
    default: []
  services:
    description: Only probe these services of O(sites) (for example V(ssh), V(kubernetes)). All when empty.
    type: list
    elements: str
    default: []
  tokens:
    description: Kubernetes API bearer tokens by site name for the targets built from O(sites). Never returned.
    type: dict
    default: {}
  ssh_login:
    description: Log in over SSH (BatchMode, strict host-key checking, runs C(true)) on V(ssh) targets.
    type: bool
    default: false
  concurrency:
    description: Most targets probed at once.
    type: int
    default: 64
  ssh_concurrency:
    description:
      - Most V(ssh) targets probed at once (within O(concurrency)); unset, 8 per CPU of the controller.
      - A host-key fetch costs the controller under 1 ms of CPU (an O(ssh_login) runs C(ssh), a full key
        exchange and login). The limit spares the servers - an sshd drops unauthenticated connections
        beyond its C(MaxStartups), default 10 - when many targets share one; jobs (slices) probing the same
        servers at once should give each slice its share.
    type: int
  connect_timeout:
    description: Default seconds to wait for a TCP connection.
    type: float
    default: 2.0
  timeout:
    description: Default total seconds per target (connect, TLS, requests, host-key fetch, login).
    type: float
    default: 5.0
notes:
  - Host keys are always verified, TLS certificates always checked; there is no option to turn either off.
  - Within one run each distinct TLS setting (CA file or data, client certificate and key) is loaded once (a file
    changed meanwhile is loaded again), and an HTTPS request resumes the TLS session of an earlier one only when
    both have the same setting, address, port and server name; a target with another CA or server name is
    verified in full.
  - A V(host_key_mismatch) is reported when the server's key differs from the pin or known_hosts entry, and also
    when no key is known for the site at all.
  - Probes go to the addresses given, nowhere else; DNS names are resolved once per run.
  - C(ssh) gets the address after C(--), so an address is never read as an option.
  - The host key of a V(ssh) target is fetched on the connection that read the banner - one connection per
    target - by the first steps of the key exchange (curve25519-sha256, else diffie-hellman-group14-sha256),
    offering as host-key algorithms only those of the keys known for the site; the exchange stops at the
    server's reply, whose signature is not checked (as with C(ssh-keyscan)); O(ssh_login) proves the key.
    One key is compared per target, the one the server picks among the known types (as C(ssh) does); a server
    with none of those key exchanges is V(protocol), naming the algorithms.
  - At most O(ssh_concurrency) V(ssh) probes run at once, and at most half of O(concurrency) when other kinds are
    probed too (the rest is theirs); a target waiting for its turn has not started, its O(timeout) counts from
    when its probe starts.
seealso:
  - plugin: o2edge.perf.edge_sites
    plugin_type: inventory
extends_documentation_fragment:
  - o2edge.perf.attributes
"""

EXAMPLES = r"""
- name: Probe every edge site of the inventory (edge_sites plugin)
  o2edge.perf.service_probe:
    sites: "{{ groups['edge_sites'] | map('extract', hostvars, 'edge_site') | list }}"
    timeout: 3
  register: probe

- name: Probe two targets directly
  o2edge.perf.service_probe:
    targets:
      - site: edge1
        kind: kubernetes
        address: 192.0.2.10
        ca_file: /etc/o2edge/edge1-ca.crt
        token_file: /etc/o2edge/edge1.token
      - site: edge1
        service: o2ims
        kind: http
        url: http://192.0.2.10:8080/o2ims-infrastructureInventory/v1
  register: probe

- name: Show the matrix
  ansible.builtin.debug:
    msg: "{{ probe.table }}"
"""

RETURN = r"""
results:
  description: One result per target, in the order given (targets built from O(sites) first).
  returned: always
  type: list
  elements: dict
  contains:
    site:
      description: Site name.
      type: str
      sample: edge1
    service:
      description: Service name.
      type: str
      sample: kubernetes
    kind:
      description: Probe kind.
      type: str
      sample: kubernetes
    address:
      description: Address probed (the host of the url or of the kubeconfig's server when one is given);
        null when it could not be known (an unreadable kubeconfig).
      type: str
      sample: 192.0.2.10
    port:
      description: Port probed (from the url or the kubeconfig's server when one is given); null when not known.
      type: int
      sample: 6443
    ok:
      description: True when the state is V(up).
      type: bool
      sample: true
    state:
      description: One of up, refused, timeout, unreachable, dns, tls, auth, http_status, host_key_mismatch, protocol.
      type: str
      sample: up
    latency_ms:
      description: Milliseconds the whole probe of this target took (connect, TLS, requests, host-key fetch).
      type: float
      sample: 12.4
    connect_ms:
      description: Milliseconds of the (first) TCP connection; null when none was made.
      type: float
      sample: 0.3
    detail:
      description: What was seen, in words; tokens are masked as C(********).
      type: str
      sample: "ready (5 checks ok), live, version v1.30.0"
    info:
      description: Kind-specific facts - version, checks_ok, failing_checks, livez (kubernetes); targets_up,
        targets_down, down, query (prometheus); status, content_type, bytes (http); banner, host_key, login (ssh).
      type: dict
      sample: {version: v1.30.0, checks_ok: 5, failing_checks: []}
matrix:
  description: "State of every service of every site, C({site: {service: state}})."
  returned: always
  type: dict
  sample: {edge1: {ssh: up, kubernetes: up}, edge3: {ssh: timeout}}
summary:
  description: Sites fully up, partly up and down, the healthy share, and counts per state.
  returned: always
  type: dict
  contains:
    sites_total:
      description: Sites probed.
      type: int
    sites_up:
      description: Sites whose every probed service is up.
      type: int
    sites_partial:
      description: Sites with some, not all, services up.
      type: int
    sites_down:
      description: Sites with no service up.
      type: int
    healthy_share:
      description: sites_up / sites_total (0 to 1).
      type: float
    healthy_pct:
      description: The same in percent.
      type: float
    targets_total:
      description: Targets probed.
      type: int
    targets_up:
      description: Targets up.
      type: int
    states:
      description: Number of targets in each state (every state listed).
      type: dict
    site_status:
      description: C(up), C(partial) or C(down) per site.
      type: dict
  sample: {sites_total: 4, sites_up: 3, sites_partial: 0, sites_down: 1, healthy_share: 0.75, healthy_pct: 75.0,
           targets_total: 10, targets_up: 9, states: {up: 9, timeout: 1}, site_status: {edge3: down}}
table:
  description: The matrix as aligned text lines, with a summary line.
  returned: always
  type: list
  elements: str
  sample: ["site   ssh      kubernetes  site status", "edge1  up       up          up"]
records:
  description: One measurement record per target (the collection's record shape), component C(probe), unit C(ms),
    name C(probe/<site>/<service>); the sample is the latency when up, a failure otherwise.
  returned: always
  type: list
  elements: dict
msg:
  description: One-line summary.
  returned: always
  type: str
  sample: "3/4 sites fully up (75.0%), 0 partly up, 1 down; 9/10 services up"
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils.edge._edge_sites import site_targets
from ansible_collections.o2edge.perf.plugins.module_utils.probe._probe import (
    default_context, probe_all, matrix, summarize, table)
from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key, secret_value_reason
from ansible_collections.o2edge.perf.plugins.module_utils._services import (
    DEFAULT_PORTS, PROBE_KINDS, URL_KINDS, UrlError, takes, url_endpoint, url_schemes)
from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error

TARGET_SPEC = dict(
    site=dict(type="str", required=True),
    service=dict(type="str"),
    kind=dict(type="str", required=True),
    address=dict(type="str"),
    port=dict(type="int"),
    url=dict(type="str"),
    expect_status=dict(type="list", elements="int", default=[200]),
    ca_file=dict(type="path"),
    tls_server_name=dict(type="str"),
    token=dict(type="str", no_log=True),
    token_file=dict(type="path", no_log=False),
    kubeconfig=dict(type="path"),
    context=dict(type="str"),
    query=dict(type="str", default="up"),
    alias=dict(type="str"),
    known_hosts=dict(type="path"),
    host_key=dict(type="str", no_log=False),
    user=dict(type="str"),
    key_file=dict(type="path", no_log=False),
    login=dict(type="bool"),
    connect_timeout=dict(type="float"),
    timeout=dict(type="float"),
)
ARGUMENT_SPEC = dict(
    targets=dict(type="list", elements="dict", default=[], options=TARGET_SPEC),
    sites=dict(type="list", elements="dict", default=[]),
    services=dict(type="list", elements="str", default=[]),
    tokens=dict(type="dict", default={}, no_log=True),
    ssh_login=dict(type="bool", default=False),
    concurrency=dict(type="int", default=64),
    ssh_concurrency=dict(type="int"),
    connect_timeout=dict(type="float", default=2.0),
    timeout=dict(type="float", default=5.0),
)
FILE_FIELDS = ("ca_file", "token_file", "kubeconfig", "known_hosts", "key_file")


def _find_secret(value, path):
    """The path of the first secret in ``value``: a secret-named key with a value, or secret material."""
    if isinstance(value, dict):
        for k, v in value.items():
            sub = "%s.%s" % (path, k)
            if v and is_secret_key(str(k)):
                return sub
            found = _find_secret(v, sub)
            if found:
                return found
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found = _find_secret(v, "%s[%d]" % (path, i))
            if found:
                return found
    elif secret_value_reason(value):
        return path
    return None


def _address_error(address):
    if not isinstance(address, str) or not address.strip():
        return "address must be a host name or an IP address"
    if any(c.isspace() or c in ",\0" for c in address):
        return "address must be one host name or IP address (no white space, commas or NUL)"
    return None


def check_target(t, where, ssh_login):
    """Complete one target in place; return an error message naming ``where`` and the field, or None."""
    kind = t.get("kind")
    if kind not in PROBE_KINDS:
        if kind is None:
            return "%s: kind is missing (the service name is not a well-known one); give kind, one of %s" % (
                where, ", ".join(PROBE_KINDS))
        return "%s: kind %r is not a probe kind; the kinds are %s" % (where, kind, ", ".join(PROBE_KINDS))
    t["service"] = t.get("service") or kind
    if t.get("url"):
        if kind not in URL_KINDS:
            return "%s: url is only for kinds %s, not %s" % (where, ", ".join(URL_KINDS), kind)
        try:
            _scheme, t["address"], t["port"], _path, _query = url_endpoint(t["url"], url_schemes(kind))
        except UrlError as exc:
            return "%s: url %s" % (where, exc)
    elif kind == "http":
        return "%s: url is required for kind http" % where
    if t.get("kubeconfig") and not takes(kind, "kubeconfig"):
        return "%s: kubeconfig is only for kind kubernetes, not %s" % (where, kind)
    if t.get("address") is not None:
        error = _address_error(t["address"])
        if error:
            return "%s: %s" % (where, error)
        if t.get("port") is None:
            t["port"] = DEFAULT_PORTS.get(kind)
    elif not t.get("kubeconfig"):
        return "%s: address is required (or %s)" % (where, "url or kubeconfig" if kind == "kubernetes" else "url")
    if kind == "tcp" and t.get("port") is None:
        return "%s: port is required for kind tcp" % where
    if t.get("port") is not None and not 1 <= t["port"] <= 65535:
        return "%s: port must be 1-65535, got %s" % (where, t["port"])
    error = range_error(t, minimums=(), positive=("connect_timeout", "timeout"), where=where + ": ")
    if error:
        return error
    if kind == "ssh":
        if t.get("login") is None:
            t["login"] = ssh_login
        if not t.get("host_key") and not t.get("known_hosts"):
            return "%s: ssh needs known_hosts or host_key (host keys are always verified)" % where
        if t.get("host_key") and len(t["host_key"].split()) < 2:
            return "%s: host_key must be 'TYPE BASE64', got %r" % (where, t["host_key"])
        if t["login"] and not t.get("user"):
            return "%s: login needs user" % where
    for key in FILE_FIELDS:
        if t.get(key) and not os.access(t[key], os.R_OK):
            return "%s: %s %s does not exist or is not readable" % (where, key, t[key])
    return None


def _targets(module):
    """[(where, target)] from sites then targets; fails the module on the first invalid one."""
    p = module.params
    out = []
    for i, site in enumerate(p["sites"]):
        secret = _find_secret(site, "sites[%d]" % i)
        if secret:
            module.fail_json(msg="%s: sites must not carry tokens, passwords or keys (they would be logged); "
                                 "give Kubernetes tokens through tokens (no_log)" % secret)
        try:
            token = (p["tokens"] or {}).get(site.get("name"))
            built = site_targets(site, p["services"], p["ssh_login"], token=token)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            module.fail_json(msg="sites[%d]: not an edge_site (name, address, ssh, services): %s" % (i, exc))
        out.extend(("sites[%d] (%s) service %s" % (i, t["site"], t["service"]), t) for t in built)
    for i, given in enumerate(p["targets"]):
        t = dict((k, v) for k, v in given.items() if v is not None)
        for key, value in t.items():
            if key != "token" and secret_value_reason(value):
                module.fail_json(msg="targets[%d].%s %s: secrets go in token or token_file (no_log), "
                                     "never in other fields" % (i, key, secret_value_reason(value)))
        out.append(("targets[%d] (site %s, service %s)" % (i, t.get("site"), t.get("service") or t.get("kind")), t))
    for where, t in out:
        error = check_target(t, where, p["ssh_login"])
        if error:
            module.fail_json(msg=error)
    return [t for _where, t in out]


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    error = range_error(p, minimums=(("concurrency", 1), ("ssh_concurrency", 1)),
                        positive=("connect_timeout", "timeout"))
    if error:
        module.fail_json(msg=error)
    if not p["targets"] and not p["sites"]:
        module.fail_json(msg="nothing to probe: give targets or sites")
    for token in (p["tokens"] or {}).values():
        if token:
            module.no_log_values.add(str(token))
    targets = _targets(module)

    ctx = default_context()
    if any(t.get("login") for t in targets if t["kind"] == "ssh"):
        ctx["ssh"] = module.get_bin_path("ssh", required=True)
    results = probe_all(targets, p["concurrency"], p["connect_timeout"], p["timeout"], ctx,
                        ssh_concurrency=p["ssh_concurrency"])

    records = []
    for r in results:
        context = base_context(target="%s:%s" % (r["address"], r["port"]), kind=r["kind"], state=r["state"])
        records.append(make_record(
            "probe/%s/%s" % (r["site"], r["service"]), "probe", "ms",
            [r["latency_ms"]] if r["ok"] else [], warmup=0, failures=0 if r["ok"] else 1,
            errors=[] if r["ok"] else [{"state": r["state"], "error": r["detail"]}], context=context))
    lines = table(results)
    module.exit_json(changed=False, failed=False, results=results, matrix=matrix(results),
                     summary=summarize(results), table=lines, records=records, msg=lines[-1])


if __name__ == "__main__":
    main()
