#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Size: over 450 lines, about half or more of them the module's documentation (DOCUMENTATION, EXAMPLES, RETURN).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: edge_address
short_description: Find an edge site's real address by its SSH host key and fix a stale one in the edge-sites config
version_added: 1.0.0
description:
  - Checks every site of an edge-sites config (docs/edge-sites.md) by identity - the SSH host key offered at
    the configured address (fetched on one SSH connection, as the o2edge.perf.service_probe module does) must be
    the site's pinned C(ssh.host_key) or one of the C(known_hosts) entries of the site's name (looked up as
    C(HostKeyAlias), so the address written in known_hosts plays no part). A site whose key matches is V(ok); nothing is done.
  - For a site whose key does not match, searches the site's O(candidates) - explicit addresses, CIDR ranges
    (expanded with netaddr) and DNS names (resolved) - concurrently, with short timeouts, and accepts only an
    address whose host key matches. Exactly one such address fixes the site (V(fixed), old -> new with the
    fingerprint that proved it); two or more distinct ones are refused as V(ambiguous) (the module fails and
    writes nothing); none leaves the site as it is (V(no_match)).
  - Every address that answers SSH with another key (an impostor, such as another machine at the stale
    address) is reported with its key's C(SHA256:) fingerprint and never accepted.
  - A fix rewrites the site's C(address) in the config (and, with O(update_urls), the host of the site's service
    URLs that named the old address) and the C(site,address) host pattern of the site's known_hosts lines.
    Only the changed values' text changes - the YAML is parsed with ruamel.yaml's round-trip loader and each
    value is replaced where it stands, so comments, key order, quoting and formatting are kept; the result is
    loaded again and must differ from the original in exactly those values.
  - Each file is replaced atomically (a temporary file in the same folder, fsync, a rename over the original) with its
    original mode, after a backup C(<file>.<UTC time>.bak) when O(backup=true). A read-only file, or a file whose
    content changed on disk since it was read (its sha256 is compared right before the replace), is refused with
    the file left untouched. A symlinked config or known_hosts is written at the link's final target (the link
    stays), with the backup next to the target. If a replaced file cannot be put back after a later failure, the
    message says which file changed on disk and where its backup is.
  - Files are read only when they are regular files (a named pipe, a device or a directory is refused without
    blocking) and within bounds (4 MiB; 32 levels of YAML nesting, 100000 values); error messages name a file's
    path and a line, never its content.
  - Invalid input fails the module before any packet is sent, naming the field - an unknown site, an invalid
    candidate address, range or DNS name, or CIDR ranges that expand to more than O(max_candidates) addresses.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: Scans as in a normal run (reading host keys changes nothing) and reports what would change,
      with the diff, without writing any file. A read-only file that would change fails in check mode too.
  diff_mode:
    description: Returns the before and after text of the config file and of each known_hosts file that changes.
  platform:
    support: full
    platforms: posix
    description: Runs where the edge-sites config lives and the sites are reachable (normally the controller,
      with C(delegate_to) or on localhost); Python 3.9 or later with ruamel.yaml and netaddr.
requirements:
  - ruamel.yaml
  - netaddr
options:
  config:
    description: The edge-sites config file (plugin o2edge.perf.edge_sites, schema version 1).
    type: path
    required: true
  sites:
    description: Only check these sites (by name). All sites of the config when empty.
    type: list
    elements: str
    default: []
  candidates:
    description:
      - Where to look for a site whose configured address does not offer its host key, per site.
      - Sites without an entry are checked but not searched.
    type: list
    elements: dict
    default: []
    suboptions:
      site:
        description: Name of the site (as in the config).
        type: str
        required: true
      addresses:
        description: IPv4 or IPv6 addresses.
        type: list
        elements: str
        default: []
      cidrs:
        description: CIDR ranges (C(ADDRESS/PREFIX)); IPv4 ranges are scanned without their network and broadcast
          addresses.
        type: list
        elements: str
        default: []
      dns:
        description: DNS names, resolved on the controller; every address they resolve to is a candidate.
        type: list
        elements: str
        default: []
  max_candidates:
    description:
      - Most candidate addresses scanned in one run, all sites together - explicit addresses, ranges (counted before
        they are expanded) and DNS names (each counted as one address before it is resolved, then as what it
        resolves to). More is refused, naming the field, before any packet is sent.
    type: int
    default: 1024
  known_hosts:
    description:
      - known_hosts file to check the sites' keys against and to update, instead of each site's C(ssh.known_hosts).
      - Entries are keyed by site name and address (C(edge1,198.18.1.10 ssh-ed25519 AAAA...)).
    type: path
  update_known_hosts:
    description: Rewrite the C(site,address) host pattern of a fixed site's known_hosts lines.
    type: bool
    default: true
  update_urls:
    description: Also rewrite the host of a fixed site's service URLs (C(services.*.url)) that named the old address.
    type: bool
    default: true
  concurrency:
    description:
      - Most addresses scanned at once (one connection each).
      - An sshd drops new unauthenticated connections at random past its C(MaxStartups) (10 by default); keep this
        at 10 or less when one host answers on many candidate addresses.
    type: int
    default: 64
  connect_timeout:
    description: Seconds to wait for the TCP connection to each address.
    type: float
    default: 2.0
  timeout:
    description: Total seconds per address (connection and host-key fetch).
    type: float
    default: 5.0
  backup:
    description: Keep a copy C(<file>.<UTC YYYYmmddTHHMMSSZ>.bak) of each file before it is replaced.
    type: bool
    default: true
notes:
  - Host keys are always verified; there is no option to accept an unknown key. A key listed as C(@revoked) for the
    site is never a match.
  - Packets go only to the configured addresses and the candidates given (and DNS queries for the candidate names).
  - The host-key check reads the key an address offers natively, as the o2edge.perf.service_probe module does (the
    banner, then the key exchange up to the server's host key, offering only the key types known for the site; no
    C(ssh-keyscan) process; the server's signature is not checked, as with C(ssh-keyscan)); a login with strict
    host-key checking (the o2edge.perf.connectivity_check role with login) proves that the host also holds the
    private key.
seealso:
  - module: o2edge.perf.service_probe
  - plugin: o2edge.perf.edge_sites
    plugin_type: inventory
extends_documentation_fragment:
  - o2edge.perf.attributes.writes
"""

EXAMPLES = r"""
- name: Check every site by host key; look for edge2 in its new subnet and under its DNS name
  o2edge.perf.edge_address:
    config: /srv/o2edge/edge-sites.yml
    candidates:
      - site: edge2
        addresses: [192.0.2.20]
        cidrs: [198.51.100.0/28]
        dns: [edge2.example.net]
  delegate_to: localhost
  run_once: true
  register: fix

- name: Show what was found
  ansible.builtin.debug:
    msg: "{{ fix.sites | map(attribute='msg') | list }}"

- name: Only report (check mode) with the diff of the config file
  o2edge.perf.edge_address:
    config: /srv/o2edge/edge-sites.yml
    known_hosts: /srv/o2edge/known_hosts
    candidates:
      - site: edge2
        cidrs: [198.51.100.0/28]
  check_mode: true
  diff: true
"""

RETURN = r"""
sites:
  description: One outcome per site checked, in config order.
  returned: always
  type: list
  elements: dict
  contains:
    site:
      description: Site name.
      type: str
      sample: edge2
    status:
      description: V(ok), V(fixed), V(ambiguous) or V(no_match).
      type: str
      sample: fixed
    old_address:
      description: The address in the config when the run started.
      type: str
      sample: 198.18.102.10
    new_address:
      description: The address whose host key matched (V(fixed) only), else null.
      type: str
      sample: 198.18.2.10
    address:
      description: The site's address after the run (the new one when fixed).
      type: str
    fingerprint:
      description: The matching host key, C(TYPE SHA256:...) (V(ok) and V(fixed)).
      type: str
      sample: ssh-ed25519 SHA256:3ftM2Gm3pK9o4w8Dk3m0y0Ckzw0Xv7mJ1JfYpKc3a7Q
    source:
      description: What the key was checked against (the pinned host_key, or known_hosts and its path).
      type: str
    configured:
      description: What the configured address showed (address, state, keys, detail).
      type: dict
    matches:
      description: Every distinct candidate address whose key matched, with its fingerprint and where it came from.
      type: list
      elements: dict
    impostors:
      description: Addresses (the configured one included) that answered SSH with another host key - address,
        keys (C(TYPE SHA256:...)), origin (which candidate field), detail.
      type: list
      elements: dict
    candidates_scanned:
      description: Candidate addresses scanned for this site.
      type: int
    not_answering:
      description: Candidate addresses that gave no host key, counted by state (refused, timeout, unreachable, ...).
      type: dict
    dns_errors:
      description: Candidate DNS names that did not resolve.
      type: list
      elements: str
    msg:
      description: The outcome in one line (old -> new with the fingerprint for a fix).
      type: str
      sample: "edge2: 198.18.102.10 -> 198.18.2.10 (host key ssh-ed25519 SHA256:... matches known_hosts ... for edge2)"
fixed:
  description: "One line per fixed site, C(site: old -> new (fingerprint))."
  returned: always
  type: list
  elements: str
  sample: ["edge2: 198.18.102.10 -> 198.18.2.10 (ssh-ed25519 SHA256:...)"]
impostors:
  description: Every impostor seen, all sites together (site, address, keys, origin, detail).
  returned: always
  type: list
  elements: dict
summary:
  description: Number of sites per status.
  returned: always
  type: dict
  sample: {ok: 3, fixed: 1, ambiguous: 0, no_match: 0}
changes:
  description: Every value changed (or, in check mode, to be changed) - file, field, old, new.
  returned: always
  type: list
  elements: dict
backup_files:
  description: Backup of each file replaced, by file path (empty in check mode or when nothing changed).
  returned: always
  type: dict
msg:
  description: One-line summary.
  returned: always
  type: str
"""

import os
import traceback

try:
    from urllib.parse import urlsplit, urlunsplit
except ImportError:  # pragma: no cover
    urlsplit = urlunsplit = None

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _yaml_edit
from ansible_collections.o2edge.perf.plugins.module_utils.edge._edge_address import (
    HAS_NETADDR, CandidateError, IdentityError, Resolver, context, decide, host_keys, known_hosts_edit,
    normalize_ip, observe, parse_candidates, resolve_dns, scan, site_identity)
from ansible_collections.o2edge.perf.plugins.module_utils.edge._edge_sites import EdgeSitesError, is_vaulted, validate_config
from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error

CANDIDATE_SPEC = dict(
    site=dict(type="str", required=True),
    addresses=dict(type="list", elements="str", default=[]),
    cidrs=dict(type="list", elements="str", default=[]),
    dns=dict(type="list", elements="str", default=[]),
)
ARGUMENT_SPEC = dict(
    config=dict(type="path", required=True),
    sites=dict(type="list", elements="str", default=[]),
    candidates=dict(type="list", elements="dict", default=[], options=CANDIDATE_SPEC),
    max_candidates=dict(type="int", default=1024),
    known_hosts=dict(type="path"),
    update_known_hosts=dict(type="bool", default=True),
    update_urls=dict(type="bool", default=True),
    concurrency=dict(type="int", default=64),
    connect_timeout=dict(type="float", default=2.0),
    timeout=dict(type="float", default=5.0),
    backup=dict(type="bool", default=True),
)


def _is_vault(value):
    return _yaml_edit.is_vault_tag(value) or is_vaulted(value)


def _url_with_host(url, old, new):
    """``url`` with its host ``old`` replaced by ``new``, or None when its host is not ``old``."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except (ValueError, TypeError, AttributeError):
        return None
    if not host or (normalize_ip(host) or host.lower()) != (normalize_ip(old) or old.lower()):
        return None
    if parts.username is not None or parts.password is not None:
        return None
    netloc = ("[%s]" % new) if ":" in new else new
    if port is not None:
        netloc += ":%d" % port
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _summary(outcomes):
    out = dict((k, 0) for k in ("ok", "fixed", "ambiguous", "no_match"))
    for o in outcomes:
        out[o["status"]] += 1
    return out


def main():
    module = AnsibleModule(argument_spec=ARGUMENT_SPEC, supports_check_mode=True)
    p = module.params
    if not _yaml_edit.HAS_RUAMEL:
        module.fail_json(msg=missing_required_lib("ruamel.yaml"), exception=str(_yaml_edit.RUAMEL_IMPORT_ERROR))
    if not HAS_NETADDR:
        module.fail_json(msg=missing_required_lib("netaddr"))
    error = range_error(p, minimums=(("concurrency", 1), ("max_candidates", 1)), positive=("connect_timeout", "timeout"))
    if error:
        module.fail_json(msg=error)

    config = os.path.abspath(p["config"])
    try:
        snap = _yaml_edit.read_snapshot(config, "config")
        doc = _yaml_edit.load(snap.text, "config %s" % config)
        norm = validate_config(doc, base_dir=os.path.dirname(config), source=config, is_vault=_is_vault)
    except (_yaml_edit.FileChangedError, _yaml_edit.YamlEditError, EdgeSitesError) as exc:
        module.fail_json(msg=str(exc))
    names = [s["name"] for s in norm["sites"]]
    for i, name in enumerate(p["sites"]):
        if name not in names:
            module.fail_json(msg="sites[%d]: no site named %r in config %s (sites: %s)" % (i, name, config, ", ".join(names)))
    selected = [(i, s) for i, s in enumerate(norm["sites"]) if not p["sites"] or s["name"] in p["sites"]]

    # Every input is checked before any packet is sent.
    entries = [dict((k, v) for k, v in c.items() if v not in (None, [])) for c in p["candidates"]]
    try:
        plan = parse_candidates(entries, [s["name"] for _i, s in selected], p["max_candidates"])
    except CandidateError as exc:
        module.fail_json(msg="invalid candidates, nothing scanned: %s" % exc)

    kh_snaps = {}
    idents = {}
    for i, site in selected:
        path = p["known_hosts"] or site["ssh"].get("known_hosts")
        text = None
        if path:
            path = os.path.abspath(path)
            if path not in kh_snaps:
                try:
                    kh_snaps[path] = _yaml_edit.read_snapshot(path, "known_hosts")
                except _yaml_edit.FileChangedError as exc:
                    # A pinned site without a known_hosts file has nothing revoked; any other unreadable
                    # known_hosts (a FIFO, too big, not text) could hide an @revoked line: refused.
                    if not site["ssh"].get("host_key") or exc.reason != "missing":
                        module.fail_json(msg="sites[%d] (%s): %s" % (i, site["name"], exc))
                    kh_snaps[path] = None
            text = kh_snaps[path].text if kh_snaps[path] is not None else None
        try:
            idents[site["name"]] = (site_identity(site, text, path), path if text is not None else None)
        except IdentityError as exc:
            module.fail_json(msg="sites[%d] (%s): %s" % (i, site["name"], exc))

    ctx = context(Resolver())
    try:
        dns_notes = resolve_dns(plan, ctx["resolver"], p["max_candidates"])
    except CandidateError as exc:
        module.fail_json(msg="invalid candidates, nothing scanned: %s" % exc)

    def port_of(site):
        return site["ssh"].get("port") or 22

    # 1. The configured addresses, all at once.
    first = scan([(s["address"], port_of(s), idents[s["name"]][0]["types"]) for _i, s in selected], host_keys,
                 p["concurrency"], p["connect_timeout"], p["timeout"], ctx)
    configured_obs = {}
    for _i, s in selected:
        ident = idents[s["name"]][0]
        job = (s["address"], port_of(s), ident["types"])
        configured_obs[s["name"]] = observe(s["address"], "address", first[job], ident, port_of(s))
    # 2. The candidates of the sites that did not match, all at once.
    jobs = []
    for _i, s in selected:
        if configured_obs[s["name"]]["state"] != "match":
            for addr, _origin in plan.get(s["name"], {}).get("addresses", []):
                if addr != s["address"]:
                    jobs.append((addr, port_of(s), idents[s["name"]][0]["types"]))
    second = scan(jobs, host_keys, p["concurrency"], p["connect_timeout"], p["timeout"], ctx)

    outcomes = []
    for _i, s in selected:
        ident = idents[s["name"]][0]
        cands = []
        if configured_obs[s["name"]]["state"] != "match":
            for addr, origin in plan.get(s["name"], {}).get("addresses", []):
                if addr != s["address"]:
                    cands.append(observe(addr, origin, second[(addr, port_of(s), ident["types"])], ident, port_of(s)))
        outcomes.append(decide(s["name"], s["address"], configured_obs[s["name"]], cands, ident,
                               dns_notes.get(s["name"]), searched=bool(plan.get(s["name"]))))

    impostors = [dict(o, site=r["site"]) for r in outcomes for o in r["impostors"]]
    fixed = ["%s: %s -> %s (%s)" % (r["site"], r["old_address"], r["new_address"], r["fingerprint"])
             for r in outcomes if r["status"] == "fixed"]
    result = dict(changed=False, sites=outcomes, fixed=fixed, impostors=impostors, summary=_summary(outcomes),
                  changes=[], backup_files={}, config=config)

    ambiguous = [r for r in outcomes if r["status"] == "ambiguous"]
    if ambiguous:
        result["msg"] = "refused, nothing written: %s" % "; ".join(r["msg"] for r in ambiguous)
        module.fail_json(**result)

    # The edits: config values in place, known_hosts host patterns.
    config_changes = []
    kh_texts = dict((path, s.text) for path, s in kh_snaps.items() if s is not None)
    for (i, s), r in zip(selected, outcomes):
        if r["status"] != "fixed":
            continue
        old, new = r["old_address"], r["new_address"]
        config_changes.append((("sites", i, "address"), new))
        result["changes"].append({"file": config, "field": "sites[%d] (%s).address" % (i, s["name"]),
                                  "old": old, "new": new})
        raw_services = doc["sites"][i].get("services") or {}
        if p["update_urls"] and isinstance(raw_services, dict):
            for sname, svc in raw_services.items():
                if isinstance(svc, dict) and isinstance(svc.get("url"), str):
                    url = _url_with_host(svc["url"], old, new)
                    if url:
                        config_changes.append((("sites", i, "services", sname, "url"), url))
                        result["changes"].append({"file": config, "old": svc["url"], "new": url,
                                                  "field": "sites[%d] (%s).services.%s.url" % (i, s["name"], sname)})
        kh_path = idents[s["name"]][1]
        if p["update_known_hosts"] and kh_path:
            new_text, count = known_hosts_edit(kh_texts[kh_path], s["name"], old, new, port_of(s))
            if count:
                kh_texts[kh_path] = new_text
                result["changes"].append({"file": kh_path, "field": "known_hosts lines of %s" % s["name"],
                                          "old": "%s,%s" % (s["name"], old), "new": "%s,%s" % (s["name"], new)})
    try:
        new_config = _yaml_edit.edit(snap.text, config_changes, "config %s" % config)
    except _yaml_edit.YamlEditError as exc:
        result["msg"] = "config %s cannot be edited in place, nothing written: %s" % (config, exc)
        module.fail_json(**result)
    if config_changes:
        try:  # the fixed config must still be a valid one (e.g. no two sites at one address and port)
            validate_config(_yaml_edit.load(new_config, "config %s" % config), base_dir=os.path.dirname(config),
                            source=config, is_vault=_is_vault)
        except (_yaml_edit.YamlEditError, EdgeSitesError) as exc:
            result["msg"] = "the fixed config would be invalid, nothing written: %s" % exc
            module.fail_json(**result)

    writes = [(snap, new_config)] + [(kh_snaps[path], text) for path, text in sorted(kh_texts.items())]
    writes = [(s, t) for s, t in writes if t != s.text]
    result["changed"] = bool(writes)
    if module._diff and writes:
        result["diff"] = [{"before_header": s.path, "after_header": s.path, "before": s.text, "after": t}
                          for s, t in writes]
    fields = dict((path, "known_hosts") for path in kh_snaps)
    fields[config] = "config"
    for s, _t in writes:
        error = _yaml_edit.writable_error(s, fields[s.path])
        if error:
            result.update(changed=False, msg="refused, nothing written: %s" % error)
            module.fail_json(**result)
    if writes and not module.check_mode:
        try:
            result["backup_files"] = dict((k, v) for k, v in _yaml_edit.commit(writes, p["backup"], fields).items() if v)
        except _yaml_edit.FileChangedError as exc:
            if exc.changed:  # a replace went through and could not be put back: say what is on disk
                result.update(changed=True, msg="writing failed, files changed on disk: %s" % exc)
            else:
                result.update(changed=False, msg="refused, nothing written: %s" % exc)
            module.fail_json(**result)
        except Exception as exc:  # noqa: BLE001 - report any write failure with the files left as they were
            result.update(changed=False, msg="writing failed, nothing written: %s" % exc,
                          exception=traceback.format_exc())
            module.fail_json(**result)

    summ = result["summary"]
    parts = ["%d ok" % summ["ok"], "%d fixed" % summ["fixed"], "%d no match" % summ["no_match"]]
    msg = "%d sites checked: %s" % (len(outcomes), ", ".join(parts))
    if fixed:
        msg += "; %s%s" % ("would fix (check mode) " if module.check_mode else "", "; ".join(fixed))
    if impostors:
        msg += "; %d impostor address(es) seen" % len(set(o["address"] for o in impostors))
    result["msg"] = msg
    module.exit_json(failed=False, **result)


if __name__ == "__main__":
    main()
