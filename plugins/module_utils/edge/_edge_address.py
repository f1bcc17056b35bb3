# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Stale edge addresses: check a site's address by identity, search candidates, and say what to change.

A site's identity is its SSH host key: the pin (``ssh.host_key``) or the known_hosts entries of
the site's name (looked up as ``HostKeyAlias``, so the address in the file plays no part). An
address is the site's only when the key it offers (fetched natively on one connection, as the
``ssh`` probe does: ``_probe_ssh.read_host_key``) is one of those keys and not ``@revoked`` there.

``parse_candidates`` validates the candidates of every site (explicit addresses, CIDR ranges,
DNS names) and refuses, naming the field, an invalid one or a set of CIDR ranges whose expansion
is larger than the bound -- before any packet is sent. ``scan`` fetches the host keys of many
addresses at once (a bounded thread pool, a ``Deadline`` per address started when its probe
starts; one connection per address: the banner and the key exchange up to the server's host key).
``decide`` turns the observations of one site into an outcome:

    ok          the configured address offers the site's key; nothing to do
    fixed       exactly one candidate address offers it: old -> new, with the fingerprint
    ambiguous   two or more distinct addresses offer it; refused, the addresses listed
    no_match    no candidate offers it (or none was given); nothing changes

Every address that answers SSH with another key is reported as an impostor with its key's
``SHA256:`` fingerprint; it is never accepted. ``known_hosts_edit`` rewrites the ``site,address``
host pattern of a site's known_hosts lines.

Standard library, plus netaddr for addresses and ranges (imported defensively). Python 3.9+.

Size: over 450 lines as one job, the address check and candidate search of one site (parse, expand,
probe, decide); the probes themselves are in probe/.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import Deadline, ProbeError, Resolver
# netaddr is imported defensively once, by _edge_sites
from ansible_collections.o2edge.perf.plugins.module_utils.edge._edge_sites import HAS_NETADDR, NETADDR_IMPORT_ERROR, netaddr
from ansible_collections.o2edge.perf.plugins.module_utils.probe._probe_ssh import (
    acceptable_keys, compare_host_keys, read_host_key, ssh_key_fingerprint)
from ansible_collections.o2edge.perf.plugins.module_utils.probe._ssh_kex import host_key_algorithms


DEFAULT_MAX_CANDIDATES = 1024
CANDIDATE_KINDS = ("addresses", "cidrs", "dns")
OUTCOMES = ("ok", "fixed", "ambiguous", "no_match")
_DNS_LABEL_RE = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


class CandidateError(ValueError):
    """Invalid candidates; ``errors`` lists every problem as ``<field>: <what is wrong>``."""

    def __init__(self, errors):
        self.errors = list(errors)
        super(CandidateError, self).__init__("; ".join(self.errors))


class IdentityError(ValueError):
    """A site whose identity cannot be checked (no pin, no known_hosts entry for its name)."""


def _show(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


# --------------------------------------------------------------------------- addresses

def normalize_ip(value):
    """The canonical text of an IPv4 (strict dotted quad) or IPv6 address, or None when it is neither."""
    if not isinstance(value, str) or not value or value != value.strip():
        return None
    if netaddr.valid_ipv4(value, flags=netaddr.INET_PTON):
        return str(netaddr.IPAddress(value))
    if ":" in value and "%" not in value and not value.startswith("[") and netaddr.valid_ipv6(value):
        return str(netaddr.IPAddress(value))
    return None


def valid_dns_name(value):
    if not isinstance(value, str) or not value or value != value.strip() or len(value) > 253:
        return False
    name = value[:-1] if value.endswith(".") else value
    labels = name.split(".")
    return all(_DNS_LABEL_RE.match(lbl) for lbl in labels) and not labels[-1].isdigit()


def cidr_hosts(network):
    """Number of host addresses of a netaddr IPNetwork (IPv4: without network and broadcast below /31)."""
    if network.version == 4 and network.prefixlen < 31:
        return network.size - 2
    return network.size


def _expand(network):
    if network.version == 4 and network.prefixlen < 31:
        first, last = network.first + 1, network.last - 1
    else:
        first, last = network.first, network.last
    return [str(netaddr.IPAddress(i, network.version)) for i in range(first, last + 1)]


def _count_one(errors, vfield, what, total, max_candidates):
    """``total`` + 1, with an error at the first address or name over ``max_candidates``."""
    total += 1
    if total == max_candidates + 1:
        errors.append("%s: one %s more than max_candidates (%d in total, all sites, addresses, "
                      "ranges and DNS names together); give fewer or raise max_candidates"
                      % (vfield, what, max_candidates))
    return total


def parse_candidates(entries, site_names, max_candidates=DEFAULT_MAX_CANDIDATES, field="candidates"):
    """Validate and expand the candidates; no packet is sent.

    ``entries`` is a list of ``{site, addresses, cidrs, dns}``. Returns ``{site: {"addresses":
    [(address, origin)], "dns": [(name, origin)]}}`` (addresses deduplicated, in the order
    given). Raises ``CandidateError`` naming each bad field: an unknown site, an invalid address,
    range or name, or a total over ``max_candidates`` of explicit addresses, range sizes (counted
    before any range is expanded) and DNS names (each counted as one address until it is resolved;
    ``resolve_dns`` counts what they resolve to), all sites together.
    """
    if not HAS_NETADDR:
        raise CandidateError(["%s: cannot be checked: the Python library netaddr is missing on the controller "
                              "(pip install netaddr): %s" % (field, NETADDR_IMPORT_ERROR)])
    errors = []
    if not isinstance(max_candidates, int) or isinstance(max_candidates, bool) or max_candidates < 1:
        raise CandidateError(["max_candidates: must be a positive integer, got %s" % _show(max_candidates)])
    total = 0
    parsed = []
    for i, entry in enumerate(entries or []):
        where = "%s[%d]" % (field, i)
        if not isinstance(entry, dict):
            errors.append("%s: must be a mapping with site and addresses, cidrs or dns" % where)
            continue
        site = entry.get("site")
        if isinstance(site, str) and site:
            where = "%s[%d] (%s)" % (field, i, site)
        if site not in site_names:
            errors.append("%s.site: no site named %s in the edge-sites config (sites: %s)"
                          % (where, _show(site), ", ".join(site_names)))
            continue
        for key in entry:
            if key not in ("site",) + CANDIDATE_KINDS:
                errors.append("%s.%s: unknown field (allowed: site, %s)" % (where, key, ", ".join(CANDIDATE_KINDS)))
        item = {"site": site, "addresses": [], "networks": [], "dns": []}
        for kind in CANDIDATE_KINDS:
            values = entry.get(kind)
            if values is None:
                continue
            if not isinstance(values, list):
                errors.append("%s.%s: must be a list, got %s" % (where, kind, _show(values)))
                continue
            for j, value in enumerate(values):
                vfield = "%s.%s[%d]" % (where, kind, j)
                if kind == "addresses":
                    ip = normalize_ip(value)
                    if ip is None:
                        errors.append("%s: %s is not a valid IPv4 or IPv6 address" % (vfield, _show(value)))
                        continue
                    total = _count_one(errors, vfield, "address", total, max_candidates)
                    item["addresses"].append((ip, vfield))
                elif kind == "cidrs":
                    if not isinstance(value, str) or "/" not in value or value != value.strip():
                        errors.append("%s: %s is not a CIDR range (ADDRESS/PREFIX, e.g. 198.18.104.8/29)"
                                      % (vfield, _show(value)))
                        continue
                    try:
                        net = netaddr.IPNetwork(value)
                    except (netaddr.AddrFormatError, ValueError, TypeError):
                        net = None
                    if net is None or normalize_ip(value.split("/", 1)[0]) is None:
                        errors.append("%s: %s is not a valid CIDR range (ADDRESS/PREFIX, e.g. 198.18.104.8/29)"
                                      % (vfield, _show(value)))
                        continue
                    size = cidr_hosts(net)
                    if total <= max_candidates < total + size:
                        before = (", which with the %d before it is" % total) if total else ","
                        errors.append("%s: %s expands to %d addresses%s over max_candidates (%d in total); give a "
                                      "smaller range or raise max_candidates" % (vfield, value, size, before, max_candidates))
                        total += size
                        continue
                    total += size
                    item["networks"].append((net.cidr, vfield))
                else:
                    if not valid_dns_name(value):
                        errors.append("%s: %s is not a valid DNS name" % (vfield, _show(value)))
                        continue
                    total = _count_one(errors, vfield, "name", total, max_candidates)
                    item["dns"].append((value, vfield))
        parsed.append(item)
    if errors:
        raise CandidateError(errors)
    out = {}
    for item in parsed:
        site = out.setdefault(item["site"], {"addresses": [], "dns": []})
        seen = set(a for a, _o in site["addresses"])
        for ip, origin in item["addresses"]:
            if ip not in seen:
                seen.add(ip)
                site["addresses"].append((ip, origin))
        for net, origin in item["networks"]:
            for ip in _expand(net):
                if ip not in seen:
                    seen.add(ip)
                    site["addresses"].append((ip, "%s %s" % (origin, net)))
        site["dns"].extend(item["dns"])
    return out


def resolve_dns(plan, resolver, max_candidates=DEFAULT_MAX_CANDIDATES):
    """Add the addresses of every DNS candidate to ``plan`` (in place); return ``{site: [dns errors]}``.

    A name that does not resolve is reported, not fatal. Raises ``CandidateError`` when the
    resolved addresses take the total over ``max_candidates``.
    """
    notes = {}
    total = sum(len(p["addresses"]) for p in plan.values())
    for site, p in plan.items():
        seen = set(a for a, _o in p["addresses"])
        for name, origin in p["dns"]:
            try:
                found = resolver(name)
            except ProbeError as exc:
                notes.setdefault(site, []).append("%s: %s" % (origin, exc.detail))
                continue
            for _family, host in found:
                ip = normalize_ip(host) or host
                if ip in seen:
                    continue
                total += 1
                if total > max_candidates:
                    raise CandidateError(["%s: %s resolves to more addresses than max_candidates (%d in total) allows"
                                          % (origin, name, max_candidates)])
                seen.add(ip)
                p["addresses"].append((ip, "%s %s" % (origin, name)))
    return notes


# --------------------------------------------------------------------------- identity

def site_identity(site, known_hosts_text=None, known_hosts_path=None):
    """What proves a site: ``{alias, known, revoked, source, types}``.

    ``_probe_ssh.acceptable_keys``, the one rule the ssh probe uses too: the pin (``ssh.host_key``),
    otherwise the known_hosts entries of the site's name (``known_hosts_text``, read by the caller),
    and ``@revoked`` always wins. Raises ``IdentityError`` when no key is left.
    """
    alias = site["name"]
    ssh = site.get("ssh") or {}
    known, revoked = acceptable_keys(alias, ssh.get("host_key"), known_hosts_text)
    if ssh.get("host_key"):
        source = "the pinned host_key"
        if not known:
            raise IdentityError("site %s: its pinned host_key is @revoked in %s: never accepted"
                                % (alias, known_hosts_path or "known_hosts"))
    else:
        if known_hosts_text is None:
            raise IdentityError("site %s has no ssh.host_key and no known_hosts: its identity cannot be checked "
                                "(host keys are always verified)" % alias)
        source = "known_hosts %s" % known_hosts_path if known_hosts_path else "known_hosts"
        if not known:
            raise IdentityError("site %s: %s has no host key for %s (entries are keyed by site name and address): "
                                "its identity cannot be checked" % (alias, known_hosts_path or "known_hosts", alias))
    types = tuple(sorted(set(t for t, _b in known if host_key_algorithms([t]))))
    if not types:
        raise IdentityError("site %s: %s has no key type the host-key fetch can read (%s)"
                            % (alias, source, ", ".join(sorted(set(t for t, _b in known)))))
    return {"alias": alias, "known": known, "revoked": revoked, "source": source, "types": types}


def key_text(key):
    """``TYPE SHA256:...`` of a (type, base64) key."""
    return "%s %s" % (key[0], ssh_key_fingerprint(key[1]))


# --------------------------------------------------------------------------- scanning

def host_keys(address, port, types, deadline, ctx):
    """The host key ``address:port`` offers, as a list of one (type, base64) pair; raises ProbeError.

    ONE connection per address, the ``ssh`` probe's own fetch (``_probe_ssh.read_host_key``): the
    banner, then the key exchange up to the server's reply, offering as host-key algorithms only
    those of ``types`` (the key types known for the site), of which the server picks one as ``ssh``
    would. No other connection is made: a bare TCP connect besides the fetch doubled the
    unauthenticated connections an sshd sees; one sshd answering on many addresses (the lab's decoy
    range) then went past its ``MaxStartups`` (10 by default) and dropped a fetch at random, and an
    impostor address went unreported.
    """
    try:
        _banner, offered = read_host_key(address, port, types, deadline, ctx["resolver"])
    except ProbeError as exc:
        low = exc.detail.lower()
        if exc.state == "protocol" and ("closed" in low or "reset" in low):
            exc.detail += " (an sshd past its MaxStartups drops new connections; scan fewer addresses at once)"
        raise
    return [offered]


def context(resolver=None):
    return {"resolver": resolver or Resolver()}


def scan(jobs, scan_fn=None, concurrency=64, connect_timeout=2.0, timeout=5.0, ctx=None):
    """Fetch the host keys of every ``(address, port, types)`` job at once (at most ``concurrency``).

    Returns ``{job: offered keys (list) or ProbeError}``; never raises for what the network does.
    """
    scan_fn = scan_fn or host_keys
    ctx = ctx or context()
    jobs = list(dict.fromkeys(jobs))
    if not jobs:
        return {}

    def one(job):
        address, port, types = job
        deadline = Deadline(timeout, connect_timeout)
        try:
            return scan_fn(address, port, types, deadline, ctx)
        except ProbeError as exc:
            return exc
        except Exception as exc:  # noqa: BLE001 - one address must not end the search
            return ProbeError("protocol", "%s: %s" % (type(exc).__name__, exc))

    with ThreadPoolExecutor(max_workers=max(1, min(int(concurrency), len(jobs)))) as pool:
        results = list(pool.map(one, jobs))
    return dict(zip(jobs, results))


def observe(address, origin, outcome, ident, port):
    """What one address says about a site: ``{address, origin, state, keys, detail}``.

    ``state`` is ``match``, ``mismatch`` (an impostor: it answers SSH with another key, or a
    revoked one) or the probe state of an address that gave no key (refused, timeout, ...).
    """
    obs = {"address": address, "origin": origin, "state": None, "keys": [], "detail": ""}
    if isinstance(outcome, ProbeError):
        obs.update(state=outcome.state, detail=outcome.detail)
        return obs
    obs["keys"] = [key_text(k) for k in outcome]
    where = "%s port %s" % (address, port)
    mismatch = compare_host_keys(outcome, ident["known"], ident["revoked"], ident["alias"], where)
    if mismatch is None:
        proof = [k for k in outcome if k in ident["known"]][0]
        obs.update(state="match", fingerprint=key_text(proof),
                   detail="%s offers %s, matching %s for %s" % (where, key_text(proof), ident["source"], ident["alias"]))
    else:
        obs.update(state="mismatch", detail=mismatch.detail)
    return obs


def decide(site_name, configured, configured_obs, candidate_obs, ident, dns_notes=None, searched=True):
    """The outcome of one site (see the module docstring) as a dict for the result."""
    impostors = [dict(o, site=site_name) for o in [configured_obs] + list(candidate_obs) if o["state"] == "mismatch"]
    silent = {}
    for o in candidate_obs:
        if o["state"] not in ("match", "mismatch"):
            silent[o["state"]] = silent.get(o["state"], 0) + 1
    res = {
        "site": site_name, "status": None, "address": configured, "old_address": configured, "new_address": None,
        "fingerprint": None, "source": ident["source"], "configured": configured_obs,
        "candidates_scanned": len(candidate_obs), "matches": [], "impostors": impostors,
        "not_answering": silent, "dns_errors": list(dns_notes or []), "msg": "",
    }
    if configured_obs["state"] == "match":
        res.update(status="ok", fingerprint=configured_obs["fingerprint"],
                   msg="%s: ok, %s" % (site_name, configured_obs["detail"]))
        return res
    why = ("an impostor offers %s there" % ", ".join(configured_obs["keys"])
           if configured_obs["state"] == "mismatch" else "%s: %s" % (configured_obs["state"], configured_obs["detail"]))
    matches = []
    for o in candidate_obs:
        if o["state"] == "match" and o["address"] not in [m["address"] for m in matches]:
            matches.append(o)
    res["matches"] = [{"address": m["address"], "fingerprint": m["fingerprint"], "origin": m["origin"]} for m in matches]
    if len(matches) == 1:
        m = matches[0]
        res.update(status="fixed", address=m["address"], new_address=m["address"], fingerprint=m["fingerprint"],
                   msg="%s: %s -> %s (host key %s matches %s for %s; at %s %s)"
                   % (site_name, configured, m["address"], m["fingerprint"], ident["source"], site_name, configured, why))
    elif len(matches) > 1:
        res.update(status="ambiguous",
                   msg="%s: ambiguous, refused: %d addresses offer the site's host key (%s): %s; narrow the candidates"
                   % (site_name, len(matches), ident["source"],
                      ", ".join("%s (%s)" % (m["address"], m["fingerprint"]) for m in matches)))
    else:
        searched_text = ("none of %d candidate addresses offers its host key" % len(candidate_obs)
                         if searched else "no candidates given")
        res.update(status="no_match", msg="%s: no match, nothing changed: %s is not the site (%s); %s"
                   % (site_name, configured, why, searched_text))
    if impostors:
        res["msg"] += "; impostors (never accepted): %s" % impostor_text(impostors)
    return res


def impostor_text(impostors):
    """Impostors grouped by key: ``ssh-ed25519 SHA256:... at A, B; ...``."""
    by_key = {}
    for o in impostors:
        by_key.setdefault(", ".join(o["keys"]), []).append(o["address"])
    return "; ".join("%s at %s" % (k, ", ".join(dict.fromkeys(v))) for k, v in by_key.items())


# --------------------------------------------------------------------------- known_hosts

_KH_LINE_RE = re.compile(r"^(\s*)(\S+)(\s+\S.*)$")


def host_pattern(address, port=22):
    """How known_hosts writes an address: plain for port 22, ``[address]:port`` otherwise."""
    return address if int(port or 22) == 22 else "[%s]:%d" % (address, int(port))


def known_hosts_edit(text, alias, old, new, port=22):
    """``(new_text, lines_changed)``: in every plain line whose host field names ``alias``, the pattern
    of ``old`` becomes ``new`` (added when the line has no ``old``). Other lines are kept byte for byte;
    hashed host fields and ``@cert-authority``/``@revoked`` lines are never touched."""
    old_p, new_p = host_pattern(old, port), host_pattern(new, port)
    out = []
    changed = 0
    for line in text.splitlines(True):
        body = line.rstrip("\r\n")
        eol = line[len(body):]
        m = _KH_LINE_RE.match(body)
        if not m or m.group(2).startswith(("#", "@", "|")):
            out.append(line)
            continue
        patterns = m.group(2).split(",")
        if alias.lower() not in [p.lower() for p in patterns]:
            out.append(line)
            continue
        new_patterns = []
        for p in patterns:
            p = new_p if p.lower() == old_p.lower() else p
            if p not in new_patterns:
                new_patterns.append(p)
        if new_p not in new_patterns:
            new_patterns.append(new_p)
        if new_patterns != patterns:
            changed += 1
            out.append(m.group(1) + ",".join(new_patterns) + m.group(3) + eol)
        else:
            out.append(line)
    return "".join(out), changed
