# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the playbooks fix_edge_connectivity, optimize and site conclude (controller side).

Before, these were Jinja loops in the playbooks. Here they are plain functions over the roles'
DECLARED outputs only:

- o2edge.perf.connectivity_check: ``connectivity_check_result`` (``matrix``, ``summary``, ``table``);
- o2edge.perf.edge_ip_fix: ``edge_ip_fix_result`` (``sites``, ``fixed``, ``impostors``, ``summary``,
  ``changes``, ``backup_files``);
- o2edge.perf.ssh_tuning, controller entry point: ``ssh_tuning_client_config_abs``,
  ``ssh_tuning_control_dir_abs``, ``ssh_tuning_client_blocks``, ``ssh_tuning_ansible_cfg_file``;
  edge entry point: ``ssh_tuning_sshd``, ``ssh_tuning_sshd_settings``, ``ssh_tuning_kept``,
  ``ssh_tuning_outcome`` (roles/ssh_tuning/README.md, "Outputs").

Every function raises EdgeFixError (naming the argument and the field) on input of the wrong shape;
nothing here reads a file or the network.
"""
from __future__ import annotations

import json
from collections.abc import Mapping

MISSING = "-"
# Bounds: an inventory of many thousand sites is fine; a runaway value is refused, not iterated.
MAX_SITES = 100000
MAX_SERVICES = 1000


class EdgeFixError(ValueError):
    """Input of the wrong shape; the message names the argument and the field."""


def _mapping(value, what):
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise EdgeFixError("%s must be a mapping, not %s" % (what, type(value).__name__))
    return value


def _seq(value, what, limit=MAX_SITES):
    if value is None:
        return []
    if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
        raise EdgeFixError("%s must be a list, not %s" % (what, type(value).__name__))
    out = list(value)
    if len(out) > limit:
        raise EdgeFixError("%s has %d entries, more than %d" % (what, len(out), limit))
    return out


def _union(first, second):
    """Keys of ``first`` then the new ones of ``second``, each once, in order."""
    seen = {}
    for key in list(first) + list(second):
        seen.setdefault(key, None)
    return list(seen)


def _probe(probe, what):
    probe = _mapping(probe, what)
    matrix = _mapping(probe.get("matrix"), what + ".matrix")
    if len(matrix) > MAX_SITES:
        raise EdgeFixError("%s.matrix has more than %d sites" % (what, MAX_SITES))
    for site, services in matrix.items():
        services = _mapping(services, "%s.matrix[%s]" % (what, site))
        if len(services) > MAX_SERVICES:
            raise EdgeFixError("%s.matrix[%s] has more than %d services" % (what, site, MAX_SERVICES))
    summary = _mapping(probe.get("summary"), what + ".summary")
    site_status = _mapping(summary.get("site_status"), what + ".summary.site_status")
    table = [str(line) for line in _seq(probe.get("table"), what + ".table")]
    return matrix, summary, site_status, table


def compare_sites(before, after, fix=None):
    """One entry per site of either probe: its state before and after, the services that moved, and
    the address check of edge_ip_fix as the reason (``not checked`` for a site it did not check)."""
    b_matrix, _b_summary, b_status, _b_table = _probe(before, "before")
    a_matrix, _a_summary, a_status, _a_table = _probe(after, "after")
    fixes = {}
    for index, entry in enumerate(_seq(_mapping(fix, "fix").get("sites"), "fix.sites")):
        entry = _mapping(entry, "fix.sites[%d]" % index)
        if "site" not in entry:
            raise EdgeFixError("fix.sites[%d] has no site" % index)
        fixes[entry["site"]] = entry
    out = []
    for site in _union(b_matrix, a_matrix):
        b = _mapping(b_matrix.get(site), "before.matrix[%s]" % site)
        a = _mapping(a_matrix.get(site), "after.matrix[%s]" % site)
        moved = []
        for service in _union(b, a):
            was, now = b.get(service, MISSING), a.get(service, MISSING)
            if was != now:
                moved.append({"service": service, "before": was, "after": now})
        entry = fixes.get(site, {})
        out.append({
            "site": site,
            "before": b_status.get(site, MISSING),
            "after": a_status.get(site, MISSING),
            "changed": moved,
            "address_check": entry.get("status", "not checked"),
            "old_address": entry.get("old_address"),
            "new_address": entry.get("new_address"),
            "fingerprint": entry.get("fingerprint"),
            "address_msg": entry.get("msg", ""),
        })
    return out


def change_lines(sites, after):
    """Words for the comparison: each site whose services moved, with the reason (the fix that
    proved the new address by its host key, or "no change made by this run"), then each site not
    fully up afterwards with its services that are not up; ``["no site changed state"]`` otherwise."""
    a_matrix = _probe(after, "after")[0]
    sites = [_mapping(s, "sites[%d]" % i) for i, s in enumerate(_seq(sites, "sites"))]
    out = []
    for s in sites:
        if not s.get("changed"):
            continue
        moves = ", ".join("%s %s -> %s" % (m["service"], m["before"], m["after"]) for m in s["changed"])
        if s.get("address_check") == "fixed":
            reason = "address %s -> %s, proven by %s" % (s.get("old_address"), s.get("new_address"), s.get("fingerprint"))
        else:
            reason = ("no change made by this run (address check: %s); the site changed between the two probes"
                      % s.get("address_check"))
        out.append("%s: %s -> %s (%s): %s" % (s["site"], s.get("before"), s.get("after"), moves, reason))
    for s in sites:
        if s.get("after") == "up":
            continue
        services = _mapping(a_matrix.get(s["site"]), "after.matrix[%s]" % s["site"])
        down = ", ".join("%s %s" % (service, state) for service, state in services.items() if state != "up")
        out.append("%s: still %s (%s); address check: %s" % (
            s["site"], s.get("after"), down, s.get("address_msg") or s.get("address_check")))
    return out or ["no site changed state"]


def side_by_side(before_table, after_table, left="before the fix", right="after the fix"):
    """Two probe tables next to each other, the left one padded to its widest line."""
    before_table = [str(x) for x in _seq(before_table, "before.table")]
    after_table = [str(x) for x in _seq(after_table, "after.table")]
    width = max(len(line) for line in before_table + [left])
    out = [left.ljust(width) + " | " + right]
    for index in range(max(len(before_table), len(after_table))):
        b = before_table[index] if index < len(before_table) else ""
        a = after_table[index] if index < len(after_table) else ""
        out.append(b.ljust(width) + " | " + a)
    return out


def sites_up_summary(before, after):
    """``"3/4 -> 4/4 sites fully up"`` from the two probes' summaries."""
    b = _probe(before, "before")[1]
    a = _probe(after, "after")[1]
    for what, summary in (("before", b), ("after", a)):
        for key in ("sites_up", "sites_total"):
            if key not in summary:
                raise EdgeFixError("%s.summary has no %s" % (what, key))
    return "%s/%s -> %s/%s sites fully up" % (b["sites_up"], b["sites_total"], a["sites_up"], a["sites_total"])


def _changed(result):
    return isinstance(result, Mapping) and bool(result.get("changed", False))


def controller_tuning(host_vars):
    """What the controller entry point of ssh_tuning wrote, from its declared outputs in ``host_vars``
    (the controller's variables); None when it did not run there."""
    host_vars = _mapping(host_vars, "controller variables")
    blocks = host_vars.get("ssh_tuning_client_blocks")
    if blocks is None or host_vars.get("ssh_tuning_client_config_abs") is None:
        return None
    blocks = _mapping(blocks, "ssh_tuning_client_blocks")
    cfg = host_vars.get("ssh_tuning_ansible_cfg_file")
    cfg = _mapping(cfg, "ssh_tuning_ansible_cfg_file") if cfg is not None else {}
    return {
        "client_config": host_vars.get("ssh_tuning_client_config_abs"),
        "control_dir": host_vars.get("ssh_tuning_control_dir_abs"),
        "groups": [_mapping(r, "ssh_tuning_client_blocks.results[%d]" % i).get("item")
                   for i, r in enumerate(_seq(blocks.get("results"), "ssh_tuning_client_blocks.results"))],
        "changed": _changed(blocks),
        "ansible_cfg": cfg.get("dest"),
        "ansible_cfg_changed": _changed(cfg),
    }


def edge_tuning(sites_vars):
    """One entry per edge site where the edge entry point of ssh_tuning ran (``ssh_tuning_sshd``
    declared), from its declared outputs; the site's outcome in words (the role's own words after
    a reload, else unchanged / would change in check mode)."""
    out = []
    for index, h in enumerate(_seq(sites_vars, "edge sites' variables")):
        h = _mapping(h, "edge sites' variables[%d]" % index)
        sshd = h.get("ssh_tuning_sshd")
        if sshd is None:
            continue
        sshd = _mapping(sshd, "ssh_tuning_sshd of site %d" % index)
        site = h.get("inventory_hostname")
        outcome = h.get("ssh_tuning_outcome")
        if outcome is None:
            outcome = "%s: %s %s" % (site, sshd.get("dest") or "sshd config",
                                     "would change (check mode, nothing written)" if _changed(sshd)
                                     else "unchanged (already tuned)")
        out.append({
            "site": site,
            "kind": sshd.get("kind"),
            "dest": sshd.get("dest"),
            "settings": h.get("ssh_tuning_sshd_settings") or {},
            "effective": sshd.get("effective") or {},
            "overridden": sshd.get("overridden") or [],
            "changed": _changed(sshd),
            "kept": h.get("ssh_tuning_kept") if h.get("ssh_tuning_outcome") is not None else None,
            "outcome": str(outcome).strip(),
        })
    return out


def _strip_dot(text):
    return text[:-1] if text.endswith(".") else text


def tuning_words(controller, edges, controller_switch, edges_switch):
    """``(controller line, edges line)``: what the SSH tuning did, or that it was skipped and which
    variable turns it on."""
    if controller is None:
        c = "skipped (set %s)" % controller_switch
    else:
        controller = _mapping(controller, "controller")
        c = "client config %s (%s)" % (controller.get("client_config"),
                                       "changed" if controller.get("changed") else "unchanged")
    if edges is None:
        e = "skipped (set %s=true)" % edges_switch
    else:
        e = "; ".join(_strip_dot(_mapping(x, "edges[%d]" % i).get("outcome", "")) for i, x in enumerate(_seq(edges, "edges"))) or "none"
    return c, e


def fix_report(before, after, fix, controller=None, edges=None, config=None, known_hosts=None,
               controller_switch="o2edge_ssh_client_config", edges_switch="o2edge_tune_edges"):
    """The whole outcome of fix_edge_connectivity: the per-site comparison, its words, the two
    probes side by side, the fix, the tuning, and ``message`` (what the playbook shows)."""
    fix = _mapping(fix, "fix")
    sites = compare_sites(before, after, fix)
    lines = change_lines(sites, after)
    b_matrix, b_summary, _b_status, b_table = _probe(before, "before")
    a_matrix, a_summary, _a_status, a_table = _probe(after, "after")
    summary = sites_up_summary(before, after)
    backups = _mapping(fix.get("backup_files"), "fix.backup_files")
    c_words, e_words = tuning_words(controller, edges, controller_switch, edges_switch)
    config_words = "config: %s %s" % (config, ("fixed, backup %s" % backups[config]) if config in backups else "unchanged")
    message = (side_by_side(b_table, a_table) + [""] + lines
               + ["ssh tuning, controller: " + c_words, "ssh tuning, edges: " + e_words, config_words, summary])
    return {
        "config": config,
        "known_hosts": known_hosts,
        "summary": summary,
        "lines": lines,
        "sites": sites,
        "address_fix": dict((k, fix.get(k)) for k in ("summary", "fixed", "impostors", "changes", "backup_files")),
        "ssh_tuning": {"controller": controller if controller is not None else "skipped (set %s)" % controller_switch,
                       "edges": edges if edges is not None else "skipped (set %s=true)" % edges_switch},
        "before": {"summary": b_summary, "matrix": b_matrix, "table": b_table, "results": _mapping(before, "before").get("results")},
        "after": {"summary": a_summary, "matrix": a_matrix, "table": a_table, "results": _mapping(after, "after").get("results")},
        "message": message,
    }


def optimize_lines(applied):
    """What optimize shows: one line for the controller's SSH client, one for the edges' sshd, one
    for the kpt levers (or why each was skipped)."""
    applied = _mapping(applied, "applied")
    c = applied.get("ssh_controller")
    if c is None:
        c_words = "skipped"
    else:
        c = _mapping(c, "applied.ssh_controller")
        c_words = "%s (groups %s; %s)%s" % (
            c.get("client_config"), ", ".join(str(g) for g in c.get("groups") or []),
            "changed" if c.get("changed") else "unchanged",
            (", ansible.cfg %s" % c["ansible_cfg"]) if c.get("ansible_cfg") else "")
    edges = applied.get("ssh_edges")
    if isinstance(edges, str):
        e_words = edges
    else:
        e_words = "; ".join(_strip_dot(str(_mapping(x, "applied.ssh_edges[%d]" % i).get("outcome", "")))
                            for i, x in enumerate(_seq(edges, "applied.ssh_edges"))) or "none"
    kpt = applied.get("kpt")
    if isinstance(kpt, str) or kpt is None:
        k_words = str(kpt)
    else:
        kpt = _mapping(kpt, "applied.kpt")
        images = _mapping(kpt.get("images"), "applied.kpt.images")
        paths = kpt.get("function_path_counts")
        k_words = ("%d function image(s) in %s (%d pulled, %d failed); render of %s package(s) with "
                   "--image-pull-policy %s, cache %s, sandbox %s%s, total %s s (first render %s s)") % (
            len(_seq(images.get("images"), "applied.kpt.images.images")), images.get("store"),
            len(_seq(images.get("pulled"), "applied.kpt.images.pulled")),
            len(_seq(images.get("failed"), "applied.kpt.images.failed")),
            kpt.get("packages"), kpt.get("image_pull_policy"), "on" if kpt.get("render_cache") else "off",
            kpt.get("function_sandbox"), (" " + json.dumps(paths)) if paths else "",
            kpt.get("total_median_s"), kpt.get("cold_total_s"))
    return ["ssh, controller: " + c_words, "ssh, edges: " + e_words, "kpt: " + k_words]


def facts_per_site(hosts_vars, fact):
    """``[dict(<fact>, site=<host>)]`` for each host that has the mapping ``fact``, in order."""
    out = []
    for index, h in enumerate(_seq(hosts_vars, "hosts' variables")):
        h = _mapping(h, "hosts' variables[%d]" % index)
        value = h.get(fact)
        if value is None:
            continue
        out.append(dict(_mapping(value, "%s of %s" % (fact, h.get("inventory_hostname"))), site=h.get("inventory_hostname")))
    return out


def ansible_ssh_states(hosts_vars, result_name):
    """``{host: {address, ansible_ssh}}`` from each host's registered ping result ``result_name``:
    up, host_key_mismatch (ssh said "Host key verification failed") or unreachable."""
    out = {}
    for index, h in enumerate(_seq(hosts_vars, "hosts' variables")):
        h = _mapping(h, "hosts' variables[%d]" % index)
        name = h.get("inventory_hostname")
        ping = h.get(result_name)
        ping = _mapping(ping, "%s of %s" % (result_name, name)) if ping is not None else {}
        if not ping.get("unreachable", False):
            state = "up"
        elif "Host key verification failed" in str(ping.get("msg") or ""):
            state = "host_key_mismatch"
        else:
            state = "unreachable"
        out[name] = {"address": h.get("ansible_host", name), "ansible_ssh": state}
    return out
