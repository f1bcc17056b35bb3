# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concurrent service probes with exact failure states: the core (standard library only).

Every target is probed in a thread of a bounded pool; each has its own connect timeout and
total deadline. A result says which of a fixed vocabulary of states the target is in:

    up, refused, timeout, unreachable, dns, tls, auth, http_status, host_key_mismatch, protocol

What every kind shares (the states, ``ProbeError``, ``Deadline``, the ``Resolver``, socket error
classes, the TCP connect and the ``tcp`` kind) is in ``_connect``. This module holds the pool
(``probe_one``, ``probe_all``), the dispatch to the kinds and the site x service matrix, summary
and table. The kinds: ``_probe_ssh`` (``ssh``: banner and host key on one connection -- the key
exchange's first steps, ``_ssh_kex`` -- the key compared with the pin or the known_hosts entry of the
site's alias, optional BatchMode login) and ``_probe_http`` (``http``, ``prometheus``,
``kubernetes``: verified TLS, one GET per request, kubeconfig).

A kind is ``probe(target, deadline, ctx) -> (detail, info)`` raising ``ProbeError``. ``ctx``
is the probe's own copy of the run context: ``ssh`` (the program, for a login), ``resolver``
(shared by the run), ``tls`` (the run's ``_probe_http.TlsCache``: each distinct TLS context built
once, sessions resumed only on the context that made them), ``secrets`` (a set: a kind adds every
credential it sends, so that it is masked out of the result) and ``endpoint`` (a kind that reads
its address elsewhere than the target's ``address``/``port`` -- a URL, a kubeconfig -- sets it to
``(address, port)``).
Secrets never reach a result: the detail and info are masked in ``probe_one``.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe_http, _probe_ssh
from ansible_collections.o2edge.perf.plugins.module_utils.probe._matrix import service_columns, site_state
from ansible_collections.o2edge.perf.plugins.module_utils.probe._connect import (
    STATES, Deadline, ProbeError, Resolver, classify_error, probe_tcp)
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key, redact
from ansible_collections.o2edge.perf.plugins.module_utils._services import PROBE_KINDS


# ssh probes at once per CPU (probe_all's default ssh_concurrency). A host-key fetch costs the
# controller under 1 ms of CPU now (it was ~60 ms with ssh-keyscan); the limit stays for the
# servers: an sshd answers at most MaxStartups (default 10) unauthenticated connections at once
# and drops the rest ("Exceeded MaxStartups"), and targets often share an sshd. Measured on the
# lab (bench/bench_probe_scale.py, 2 CPUs): 64 at once instead of 16 made 200 of 10,000 targets
# false failures on 4 shared sshds and saved 11 % on 1,000 distinct ones.
SSH_PER_CPU = 8


def kind_probe(kind):
    """The probe function of ``kind`` (one of PROBE_KINDS), or None for any other value."""
    if kind == "tcp":
        return probe_tcp
    if kind == "ssh":
        return _probe_ssh.probe_ssh
    if kind in ("http", "prometheus", "kubernetes"):
        return getattr(_probe_http, "probe_" + kind)
    return None


def target_name(target):
    """``site S service V`` of a target, for messages."""
    return "site %s service %s" % (target.get("site"), target.get("service") or target.get("kind"))


def _probe_of(target):
    probe = kind_probe(target.get("kind"))
    if probe is None:
        raise ValueError("target %s: unknown probe kind %r; the kinds are %s"
                         % (target_name(target), target.get("kind"), ", ".join(PROBE_KINDS)))
    return probe


def _masked(value, secrets):
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return dict((k, _masked(v, secrets)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_masked(v, secrets) for v in value]
    return value


# --------------------------------------------------------------------------- running

def probe_one(target, connect_timeout=2.0, timeout=5.0, ctx=None):
    """Probe one target; always returns a result dict, whatever the network does.

    Raises ValueError when the target's kind is not one of PROBE_KINDS (a caller's mistake,
    not a state of the target).
    """
    probe = _probe_of(target)
    ctx = dict(ctx or default_context())
    # Every credential of the target (by the collection's secret-key rule) and every one a kind
    # reads from a file or kubeconfig and sends is masked out of the detail and info.
    ctx["secrets"] = set(v for k, v in target.items() if isinstance(v, str) and v and is_secret_key(k))
    ctx["endpoint"] = None
    deadline = Deadline(target.get("timeout") or timeout, target.get("connect_timeout") or connect_timeout)
    result = {
        "site": target.get("site"), "service": target.get("service") or target.get("kind"),
        "kind": target.get("kind"), "address": target.get("address"), "port": target.get("port"),
        "ok": False, "state": "protocol", "latency_ms": None, "connect_ms": None, "detail": "", "info": {},
    }
    try:
        detail, info = probe(target, deadline, ctx)
        result.update(ok=True, state="up", detail=detail, info=info)
    except ProbeError as exc:
        result.update(state=exc.state, detail=exc.detail, info=exc.info)
    except Exception as exc:  # noqa: BLE001 - a probe must always produce a result
        err = classify_error(exc, "probe")
        result.update(state=err.state, detail=err.detail)
    result["latency_ms"] = deadline.elapsed_ms()
    info = dict(result["info"])
    result["connect_ms"] = info.pop("connect_ms", None)
    if ctx["endpoint"]:
        result["address"], result["port"] = ctx["endpoint"]
    result["detail"] = _masked(result["detail"], ctx["secrets"])
    result["info"] = _masked(info, ctx["secrets"])
    return result


def default_context(ssh="ssh", resolver=None):
    return {"ssh": ssh, "resolver": resolver or Resolver(), "tls": _probe_http.TlsCache()}


def ssh_concurrency_default():
    """How many ssh probes run at once by default: SSH_PER_CPU per CPU of the controller."""
    return max(4, SSH_PER_CPU * (os.cpu_count() or 1))


def probe_all(targets, concurrency=64, connect_timeout=2.0, timeout=5.0, ctx=None, ssh_concurrency=None):
    """Probe every target concurrently (at most ``concurrency`` at once, of them at most
    ``ssh_concurrency`` ssh probes: default ``ssh_concurrency_default()``, and never more than half of
    ``concurrency`` when other kinds are probed too); results in target order.

    An ssh probe holds one unauthenticated connection to its sshd until the server's key exchange
    reply (and a login, a full ssh session): more of them at once than an sshd's MaxStartups are
    dropped by the server (see SSH_PER_CPU). A target waiting for its turn has not started: its
    deadline starts when its probe does. Raises ValueError, before probing anything, when a target's kind is
    unknown.
    """
    if not targets:
        return []
    for t in targets:
        _probe_of(t)
    ctx = dict(ctx or default_context())
    if "tls" not in ctx:  # a caller's own context: the run still builds each TLS context once
        ctx["tls"] = _probe_http.TlsCache()
    ssh = [i for i, t in enumerate(targets) if t.get("kind") == "ssh"]
    concurrency = max(1, int(concurrency))
    limit = ssh_concurrency_default() if ssh_concurrency is None else max(1, int(ssh_concurrency))
    others = len(targets) - len(ssh)
    if ssh and others and concurrency > 1:  # two pools, together at most `concurrency` workers
        # ssh takes at most half of them: with concurrency 16 and the default ssh limit (16 on 2 CPUs),
        # ssh took 15 and left one worker to 500 HTTP targets, 50 of them unanswered (2 s each): 213 s.
        n_ssh = min(len(ssh), limit, max(1, concurrency // 2))
        ssh_pool = ThreadPoolExecutor(max_workers=n_ssh)
        other_pool = ThreadPoolExecutor(max_workers=min(others, concurrency - n_ssh))
    else:  # one kind only, or one worker for all
        cap = concurrency if others else min(concurrency, limit)
        ssh_pool = other_pool = ThreadPoolExecutor(max_workers=min(len(targets), cap))
    pools = {"ssh": ssh_pool, "other": other_pool}
    try:
        futures = [pools["ssh" if t.get("kind") == "ssh" else "other"].submit(
            probe_one, t, connect_timeout, timeout, ctx) for t in targets]
        return [f.result() for f in futures]
    finally:
        for pool in set(pools.values()):
            pool.shutdown(wait=True)


# --------------------------------------------------------------------------- matrix, summary, table

def matrix(results):
    """{site: {service: state}}."""
    out = {}
    for r in results:
        out.setdefault(r["site"], {})[r["service"]] = r["state"]
    return out


def summarize(results):
    """Sites fully up, partly up, down; healthy share; counts per state."""
    m = matrix(results)
    per_site = dict((site, site_state(list(svcs.values()))) for site, svcs in m.items())
    total = len(per_site)
    up = sum(1 for s in per_site.values() if s == "up")
    states = dict((s, 0) for s in STATES)
    for r in results:
        states[r["state"]] += 1
    share = (float(up) / total) if total else 0.0
    return {
        "sites_total": total, "sites_up": up,
        "sites_partial": sum(1 for s in per_site.values() if s == "partial"),
        "sites_down": sum(1 for s in per_site.values() if s == "down"),
        "healthy_share": round(share, 4), "healthy_pct": round(100.0 * share, 1),
        "targets_total": len(results), "targets_up": states["up"], "states": states,
        "site_status": per_site,
    }


def table(results):
    """The site x service matrix as aligned text lines (for ansible.builtin.debug)."""
    m = matrix(results)
    cols = service_columns(results)
    summ = summarize(results)
    header = ["site"] + cols + ["site status"]
    rows = [[site] + [m[site].get(c, "-") for c in cols] + [summ["site_status"][site]] for site in m]
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def fmt(row):
        return "  ".join(str(v).ljust(widths[i]) for i, v in enumerate(row)).rstrip()

    lines = [fmt(header), fmt(["-" * w for w in widths])] + [fmt(r) for r in rows]
    lines.append("%d/%d sites fully up (%.1f%%), %d partly up, %d down; %d/%d services up" % (
        summ["sites_up"], summ["sites_total"], summ["healthy_pct"], summ["sites_partial"], summ["sites_down"],
        summ["targets_up"], summ["targets_total"]))
    return lines
