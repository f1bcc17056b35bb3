# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The prober at scale: 10 to 10,000 targets, an older prober (old) against the working tree's (new),
side by side in one run, each run a fresh process (peak RSS is its ru_maxrss).

"old" is the prober of commit ``--old-rev``, its ``plugins/`` taken with ``git archive`` into a
temporary directory and imported from there. The default, OLD_REV, is the last commit that built a
TLS context (a CA file load) for every target and made every HTTPS GET a full handshake; the new
prober builds each distinct context once a run and resumes a TLS session on the context, address,
port and server name that made it (``_probe_http.TlsCache``). ``--old-rev c0a564c`` is the last
with batched ssh-keyscan (``ssh-keyscan -f -`` of up to 4 addresses a process): a tree that has
``_keyscan`` is run with its batcher.

``--profile N``: the child runs every probe under cProfile (a profiler per pool thread, merged)
and prints the N functions of most internal time and the CPU seconds per kind (of probe_one's
time under the profiler, which slows it: for where the time goes, not for the figures).

Run inside the lab's controller namespace (the lab must be up; nothing else is started):

    flock /tmp/o2lab.lock sh -c '.venv/bin/python -m tests.lab up &&
        .venv/bin/python -m tests.lab exec -- nice -n 10 .venv/bin/python bench/bench_probe_scale.py \\
            [--sizes 10,100,1000,10000] [--rounds 1] [--json out.json];
        .venv/bin/python -m tests.lab down'

Targets: bench/bench_probe.py's mix of 224 (its 256 less the blackholed edge3: ssh with known_hosts
on edge1, edge2, edge4 and a stale address, kubernetes with good and wrong CA or token, prometheus,
O2IMS, node_exporter, closed ports, unrouted addresses), repeated to the size, as in the issue's
"10,000 targets at T = 2 s". Every target's expected state is first taken from the 224 probed
calmly (concurrency 4, T = 10 s); a run's false failures are its targets in another state.

With ``--sim-sites N`` (the simulated sites must be up: ``python -m tests.lab sim up N
--blackhole-every 0``): ssh targets only, one per simulated site (distinct addresses, so that no
two targets share a scan), swept over the same sizes up to N: the cost of ssh probes of a fleet;
every one is expected up.

Per run: wall time, wall / T, peak RSS, CPU (the prober's own, and its children's: the
ssh-keyscan processes), ssh-keyscan processes started, false failures (all, and ssh).
``--ssh-concurrency`` sets the new prober's ssh probes at once (0: its default); the old one
keeps its own default.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import bench_probe  # noqa: E402  pylint: disable=wrong-import-position

TIMEOUT = 2.0
EXPECT_TIMEOUT = 10.0  # the calm run that says each base target's true state
SIM_KNOWN_HOSTS = os.path.join(bench_probe.LAB, "ssh", "sim_known_hosts")
OLD_REV = "d95a859"  # the last commit whose prober built a TLS context per target (no session resumption)


def old_tree(rev):
    """A temporary directory holding ``ansible_collections/o2edge/perf/plugins`` of commit ``rev``."""
    root = tempfile.mkdtemp(prefix="o2edge-probe-old-")
    dest = os.path.join(root, "ansible_collections", "o2edge", "perf")
    os.makedirs(dest)
    archive = subprocess.run(["git", "archive", rev, "plugins"], cwd=bench_probe.REPO, check=True,
                             stdout=subprocess.PIPE).stdout
    subprocess.run(["tar", "-x", "-C", dest], input=archive, check=True)
    return root


def base_targets(sim_sites):
    if sim_sites:
        out = []
        for i in range(sim_sites):
            name, ip = "sim%04d" % i, "198.19.%d.%d" % (i // 250, i % 250 + 1)
            out.append({"site": name, "service": "ssh", "kind": "ssh", "address": ip, "port": 22, "alias": name,
                        "known_hosts": SIM_KNOWN_HOSTS})
        return out
    return [t for t in bench_probe.many_targets() if t["site"] != bench_probe.BLACKHOLED]


def sized(base, n):
    """``n`` targets: the base list repeated (each copy its own service name), cut at ``n``."""
    return [dict(base[i % len(base)], service="%s#%d" % (base[i % len(base)]["service"], i // len(base)))
            for i in range(n)]


def base_key(t):
    return "%s|%s" % (t["site"], t["service"].split("#")[0])


def child(n, variant, concurrency, sim_sites, part=0, parts=1, ssh_concurrency=None, old_root=None, profile=0):
    """In a fresh process: probe ``n`` targets (slice ``part`` of ``parts``: every parts-th from
    ``part``, as AWX slices) with ``variant`` (old: the prober of ``old_root``)."""
    batcher = None
    if variant == "old":
        sys.path.insert(0, old_root)
        from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as probe
        assert probe.__file__.startswith(old_root), probe.__file__
        ctx = probe.default_context()
        if os.path.exists(os.path.join(os.path.dirname(probe.__file__), "_keyscan.py")):
            from ansible_collections.o2edge.perf.plugins.module_utils.probe import _keyscan  # pylint: disable=no-name-in-module
            batcher = ctx["keyscan_batch"] = _keyscan.KeyscanBatcher(ctx["keyscan"])
        ssh_concurrency = None  # its own default
    else:
        probe = bench_probe._import_probe()  # pylint: disable=protected-access
        ctx = probe.default_context()
    if n == 0:  # the calm run: every base target's state (concurrency 4, T = EXPECT_TIMEOUT)
        base = base_targets(sim_sites)
        res = probe.probe_all(base, concurrency=4, connect_timeout=EXPECT_TIMEOUT, timeout=EXPECT_TIMEOUT, ctx=ctx)
        print(json.dumps({"states": dict((base_key(t), r["state"]) for t, r in zip(base, res))}))
        return
    targets = sized(base_targets(sim_sites), n)[part::parts]
    profiles = _profile(probe) if profile else None
    r0, c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    results = probe.probe_all(targets, concurrency=concurrency, connect_timeout=TIMEOUT, timeout=TIMEOUT, ctx=ctx,
                              ssh_concurrency=ssh_concurrency)
    wall = time.monotonic() - t0
    r1, c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    if profiles is not None:
        _profile_report(profiles, profile)
    ssh = [r for r in results if r["kind"] == "ssh"]
    print(json.dumps({
        "n": n, "variant": variant, "wall_s": round(wall, 3), "maxrss_kib": r1.ru_maxrss,
        "cpu_self_s": round(r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime, 2),
        "cpu_children_s": round(c1.ru_utime + c1.ru_stime - c0.ru_utime - c0.ru_stime, 2),
        "ssh_targets": len(ssh),
        "keyscan_processes": (len(batcher.batches) + batcher.alone) if batcher else 0,
        "batches": len(batcher.batches) if batcher else 0,
        "ssh_concurrency": ssh_concurrency or probe.ssh_concurrency_default(),
        "max_latency_ms": max(r["latency_ms"] for r in results),
        "ssh_not_up": details(r for r in ssh if r["state"] != "up"),
        "states": dict((base_key(t) + "#" + str(i), r["state"]) for i, (t, r) in enumerate(zip(targets, results))),
    }))


def _profile(probe):
    """Wrap ``probe.probe_one`` (probe_all looks it up at each call) in a cProfile.Profile per pool thread;
    also count per kind the CPU time (thread CPU clock) of its probes. Returns the list it fills."""
    import cProfile
    import threading
    local = threading.local()
    profiles = {"profiles": [], "cpu": {}, "lock": threading.Lock()}
    real = probe.probe_one

    def probe_one(target, *args, **kwargs):
        prof = getattr(local, "prof", None)
        if prof is None:
            prof = local.prof = cProfile.Profile()
            with profiles["lock"]:
                profiles["profiles"].append(prof)
        c0 = time.thread_time()
        prof.enable()
        try:
            return real(target, *args, **kwargs)
        finally:
            prof.disable()
            with profiles["lock"]:
                kind = target.get("kind")
                profiles["cpu"][kind] = profiles["cpu"].get(kind, 0.0) + time.thread_time() - c0

    probe.probe_one = probe_one
    return profiles


def _profile_report(profiles, top):
    import io
    import pstats
    out = io.StringIO()
    stats = pstats.Stats(*profiles["profiles"], stream=out)
    stats.sort_stats("tottime").print_stats(top)
    sys.stderr.write("CPU per kind under the profiler (thread CPU time): %s\n"
                     % json.dumps(dict((k, round(v, 2)) for k, v in sorted(profiles["cpu"].items()))))
    sys.stderr.write(out.getvalue())


def details(results):
    """{"state: detail (digits masked)": count} of results, the 12 most frequent."""
    out = {}
    for r in results:
        key = "%s: %s" % (r["state"], "".join("#" if c.isdigit() else c for c in r["detail"][:100]))
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: -kv[1])[:12])


def run_child(n, variant, concurrency, sim_sites, slices=1, ssh_concurrency=0, old_root="", profile=0):
    """Run the child (``slices`` of them at once, each its slice); their figures merged: wall from the
    first start to the last end, peak RSS the largest, CPU and processes summed."""
    t0 = time.monotonic()
    procs = [subprocess.Popen([sys.executable, os.path.abspath(__file__), "--child",
                               "%d,%s,%d,%d" % (n, variant, i, slices), "--concurrency", str(concurrency),
                               "--sim-sites", str(sim_sites), "--ssh-concurrency", str(ssh_concurrency),
                               "--old-root", old_root, "--profile", str(profile)],
                              stdout=subprocess.PIPE, universal_newlines=True) for i in range(slices)]
    outs = [json.loads(p.communicate()[0].strip().splitlines()[-1]) for p in procs]
    wall = time.monotonic() - t0
    if any(p.returncode for p in procs):
        raise SystemExit("a child failed")
    out = dict(outs[0], n=n, wall_s=round(wall if slices > 1 else outs[0]["wall_s"], 3), slices=slices,
               maxrss_kib=max(o["maxrss_kib"] for o in outs), max_latency_ms=max(o["max_latency_ms"] for o in outs),
               states={})
    for k in ("cpu_self_s", "cpu_children_s", "ssh_targets", "keyscan_processes", "batches"):
        out[k] = None if outs[0][k] is None else round(sum(o[k] for o in outs), 2)
    for o in outs:
        out["states"].update(o["states"])
    return out


def expected_states(sim_sites, variant="new", old_root=""):
    """Each base target's state, probed calmly by ``variant`` in a fresh process."""
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", "0,%s,0,1" % variant,
                          "--sim-sites", str(sim_sites), "--old-root", old_root], check=True,
                         stdout=subprocess.PIPE, universal_newlines=True).stdout
    return json.loads(out.strip().splitlines()[-1])["states"]


def false_failures(run, expected):
    """{kind: count} of targets in another state than expected, and {"kind: expected -> got": count}."""
    bad, how = {}, {}
    for key, state in run["states"].items():
        base = key.rsplit("#", 1)[0]
        if state != expected[base]:
            kind = "ssh" if "|ssh" in base else base.split("|")[1].rsplit("_", 1)[0]
            bad[kind] = bad.get(kind, 0) + 1
            what = "%s: %s -> %s" % (kind, expected[base], state)
            how[what] = how.get(what, 0) + 1
    return bad, how


def _counts(values):
    out = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return out


def probe_default_ssh():
    return bench_probe._import_probe().ssh_concurrency_default()  # pylint: disable=protected-access


def loadavg():
    with open("/proc/loadavg") as f:
        return " ".join(f.read().split()[:3])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="10,100,1000,10000")
    ap.add_argument("--rounds", type=int, default=1)
    ap.add_argument("--concurrency", type=int, default=64)
    ap.add_argument("--sim-sites", type=int, default=0)
    ap.add_argument("--variants", default="old,new")
    ap.add_argument("--slices", type=int, default=1, help="that many probing processes at once, each a slice")
    ap.add_argument("--ssh-concurrency", type=int, default=0, help="new: ssh probes at once (0: the prober's default)")
    ap.add_argument("--old-rev", default=OLD_REV, help="the commit whose prober is 'old'")
    ap.add_argument("--old-root", help=argparse.SUPPRESS)
    ap.add_argument("--json")
    ap.add_argument("--profile", type=int, default=0, help="profile each run; print its N costliest functions (stderr)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child:
        n, variant, part, parts = a.child.split(",")
        child(int(n), variant, a.concurrency, a.sim_sites, int(part), int(parts), a.ssh_concurrency or None, a.old_root,
              a.profile)
        return 0
    old_root = old_tree(a.old_rev) if "old" in a.variants.split(",") else ""
    try:
        return run(a, old_root)
    finally:
        if old_root:
            shutil.rmtree(old_root, ignore_errors=True)


def run(a, old_root):
    sizes = [int(x) for x in a.sizes.split(",")]
    variants = a.variants.split(",")
    if a.sim_sites:  # sim up --blackhole-every 0: every simulated site answers, with the known key
        expected = dict((base_key(t), "up") for t in base_targets(a.sim_sites))
    else:
        expected = expected_states(a.sim_sites)
        if "old" in variants:  # the same states, target by target, from both probers (calm)
            old = expected_states(a.sim_sites, "old", old_root)
            diff = sorted(k for k in expected if old.get(k) != expected[k])
            print("calm states, old vs new: %s" % ("identical, %d targets (%s)" % (len(expected), json.dumps(
                _counts(expected.values()), sort_keys=True)) if not diff else "%d differ: %s" % (
                len(diff), ", ".join("%s %s -> %s" % (k, old.get(k), expected[k]) for k in diff[:20]))))
    runs = []
    print("machine: %(cpu)s, %(cores)s cores, Linux %(kernel)s, Python %(python)s" % bench_probe.machine())
    print("targets: %s; T = %g s; concurrency %d%s; new: ssh probes at once %s; old: %s; load before: %s"
          % ("ssh on %d simulated sites" % a.sim_sites if a.sim_sites else "bench_probe mix of 224",
             TIMEOUT, a.concurrency, " in each of %d slices at once" % a.slices if a.slices > 1 else "",
             a.ssh_concurrency or "%d (default)" % probe_default_ssh(), a.old_rev, loadavg()))
    print("")
    print("| targets | variant | wall | wall / T | peak RSS | CPU prober + ssh-keyscan | keyscan processes "
          "| false failures (ssh) | load 1-min |")
    print("|---|---|---|---|---|---|---|---|---|")
    for rnd in range(a.rounds):
        for n in sizes:
            order = variants if (rnd + sizes.index(n)) % 2 == 0 else list(reversed(variants))
            for v in order:
                r = run_child(n, v, a.concurrency, a.sim_sites, a.slices, a.ssh_concurrency, old_root, a.profile)
                ff, how = false_failures(r, expected)
                r.update(false_failures=ff, false_failure_states=how, load=loadavg(), round=rnd)
                del r["states"]
                runs.append(r)
                print("| %d | %s | %.2f s | %.2f | %.1f MiB | %.1f + %.1f s | %s | %d (%d) %s | %s |" % (
                    n, v, r["wall_s"], r["wall_s"] / TIMEOUT, r["maxrss_kib"] / 1024.0, r["cpu_self_s"],
                    r["cpu_children_s"], r["keyscan_processes"],
                    sum(ff.values()), ff.get("ssh", 0), json.dumps(ff, sort_keys=True) if ff else "",
                    r["load"].split()[0]))
                sys.stdout.flush()
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"expected": expected, "runs": runs, "timeout_s": TIMEOUT, "concurrency": a.concurrency,
                       "sim_sites": a.sim_sites, "machine": bench_probe.machine()}, f, indent=2, sort_keys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
