"""Sliced runs, one report: checks of slicing an inventory the way AWX does, running the slices
as concurrent ansible-runner jobs and merging their results with o2edge.perf.perf_report.

    .venv/bin/python tests/slices/run.py                 # slicer checks only (no lab), ~10 s
    flock /tmp/o2lab.lock .venv/bin/python -m tests.lab exec -- .venv/bin/python tests/slices/run.py --lab
                                                         # + 4 slices on the lab's 4 edges and on
                                                         #   40 simulated sites, one slice broken
    ... run.py --lab edges                               # only checks whose name holds "edges"
    ... run.py --collection DIR                          # test another copy of the collection

The lab checks run inside the lab's controller namespace (tests.lab exec); they bring the
simulated sites up (40) when fewer are up, and down again when they brought them. Prints one line
per check and `N passed, N failed`; exits non-zero when any check fails.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checks  # noqa: E402  pylint: disable=wrong-import-position
import slicer  # noqa: E402  pylint: disable=wrong-import-position
import sliced  # noqa: E402  pylint: disable=wrong-import-position

HERE = sliced.HERE
REPO = sliced.REPO
SLO = os.path.join(HERE, "slo.yml")
SIM_SITES = 40


class Ctx:
    def __init__(self, tmp, collections):
        self.tmp = tmp
        self.collections = collections
        self.lab = os.environ.get("O2LAB_DIR") or os.path.join(REPO, ".lab")
        self.sim_started = False  # set when a check brought the simulated sites up (taken down at the end)

    def new_dir(self, name):
        path = os.path.join(self.tmp, name)
        os.makedirs(path)
        return path


# --- slicer (no lab) ----------------------------------------------------------------------------

def check_assign_awx_rule(ctx):
    names = ["sim%04d" % i for i in (7, 3, 11, 0, 5, 9, 1, 10, 2, 8, 6, 4)]
    parts = slicer.assign(names, 4)
    ordered = sorted(names)
    for k in range(4):
        assert parts[k] == [n for i, n in enumerate(ordered) if i % 4 == k], "slice %d: %s" % (k, parts[k])
    flat = [n for p in parts for n in p]
    assert sorted(flat) == ordered and len(flat) == len(set(flat)), "slices overlap or lose hosts: %s" % parts
    assert slicer.assign(names, 4, order="inventory")[1] == [names[1], names[5], names[9]]
    assert slicer.assign(["a", "b"], 4) == [["a"], ["b"], [], []]
    for bad in (0, -1, "4"):
        try:
            slicer.assign(names, bad)
        except slicer.SliceError:
            continue
        raise AssertionError("slice count %r accepted" % (bad,))


def _fixture_edge_sites(directory, count):
    """An edge-sites config with relative key and known_hosts paths (files exist beside it)."""
    os.makedirs(os.path.join(directory, "ssh"))
    for name in ("id_ed25519", "known_hosts"):
        slicer.write_atomic(os.path.join(directory, "ssh", name), "")
    sites = "".join("  - {name: site%02d, address: 198.18.9.%d, labels: {tier: t%d}}\n" % (i, i + 1, i % 3)
                    for i in range(count))
    path = os.path.join(directory, "edge-sites.yml")
    slicer.write_atomic(path, "plugin: o2edge.perf.edge_sites\nversion: 1\ndefaults:\n  ssh: {user: root, "
                        "key_file: ssh/id_ed25519, known_hosts: ssh/known_hosts}\nsites:\n" + sites)
    return path


def _listed_hosts(inventory, ctx):
    listing = slicer.inventory_list(inventory, env=sliced.job_env(ctx.collections))
    return listing, set((listing.get("_meta") or {}).get("hostvars") or {})


def check_edge_sites_slices_parse(ctx):
    base = ctx.new_dir("fixture-edge-sites")
    path = _fixture_edge_sites(base, 10)
    parts = slicer.slice_edge_sites(path, 3)
    assert [len(names) for names, _unused in parts] == [4, 3, 3], [names for names, _unused in parts]
    for index, (names, config) in enumerate(parts):
        assert os.path.isabs(config["defaults"]["ssh"]["key_file"]), config["defaults"]["ssh"]
        dest = os.path.join(ctx.new_dir("fixture-slice-%d" % index), "edge-sites.yml")
        slicer.dump_edge_sites(config, dest, "slice %d" % index)
        listing, hosts = _listed_hosts(dest, ctx)
        assert hosts == set(names), "slice %d lists %s, assigned %s" % (index, sorted(hosts), names)
        assert sorted(listing["edge_sites"]["hosts"]) == sorted(names), listing.get("edge_sites")
        hv = listing["_meta"]["hostvars"][names[0]]
        assert hv["ansible_host"] == "198.18.9.%d" % (int(names[0][4:]) + 1), hv.get("ansible_host")


def check_any_inventory_slices(ctx):
    base = ctx.new_dir("fixture-inventory")
    src = os.path.join(base, "hosts.yml")
    slicer.write_atomic(src, "all:\n  vars: {shared: 1}\n  children:\n    east:\n      vars: {region: east}\n"
                        "      hosts: {h3: {ansible_host: 198.18.8.3}, h1: {ansible_host: 198.18.8.1}}\n"
                        "    west:\n      hosts: {h2: {ansible_host: 198.18.8.2, note: 'x'}, h4: {}}\n"
                        "      children:\n        deep: {hosts: {h5: {}}}\n")
    listing, _unused = _listed_hosts(src, ctx)
    assert slicer.inventory_order(listing) == ["h3", "h1", "h2", "h4", "h5"], slicer.inventory_order(listing)
    parts = slicer.slice_listing(listing, 2)
    assert [names for names, _unused in parts] == [["h1", "h3", "h5"], ["h2", "h4"]], [n for n, _unused in parts]
    for index, (names, inv) in enumerate(parts):
        dest = os.path.join(base, "slice-%d.yml" % index)
        slicer.write_atomic(dest, json.dumps(inv))
        sub, hosts = _listed_hosts(dest, ctx)
        assert hosts == set(names), "slice %d lists %s" % (index, sorted(hosts))
        for host in names:
            want, got = listing["_meta"]["hostvars"][host], sub["_meta"]["hostvars"][host]
            assert want == got, "%s: vars %s, source %s" % (host, got, want)
            for group in ("east", "west", "deep"):
                assert (host in (listing.get(group) or {}).get("hosts", [])) == (host in (sub.get(group) or {}).get("hosts", [])), \
                    "%s: membership of %s differs" % (host, group)


# --- lab --------------------------------------------------------------------------------------

def _sites_of(config):
    return [s["name"] for s in slicer.read_edge_sites(config)["sites"]]


def _sim_config(ctx):
    """An edge-sites config of the first SIM_SITES simulated sites (bringing the simulation up if needed)."""
    path = os.path.join(ctx.lab, "sim-sites.yml")
    if not (os.path.exists("/run/netns/o2lab-sim") and os.path.isfile(path) and len(_sites_of(path)) >= SIM_SITES):
        subprocess.run([sys.executable, "-m", "tests.lab", "sim", "up", str(SIM_SITES)], cwd=REPO, check=True,
                       capture_output=True, timeout=300)
        ctx.sim_started = True
    doc = slicer.read_edge_sites(path)
    doc["sites"] = doc["sites"][:SIM_SITES]
    dest = os.path.join(ctx.tmp, "sim-%d.yml" % SIM_SITES)
    slicer.dump_edge_sites(doc, dest, "first %d simulated sites" % SIM_SITES)
    return dest


def _extravars(ctx):
    # 4 slices share the controller: each its share of service_probe's 8 SSH probes per CPU.
    return {"slices_prometheus_url": "http://198.18.0.1:9090", "slices_pipeline_repo": os.path.join(ctx.lab, "repo"),
            "connectivity_check_ssh_concurrency": max(1, 8 * (os.cpu_count() or 1) // 4)}


def _load(path):
    with open(path, encoding="utf-8") as handle:
        if path.endswith(".jsonl"):
            return None
        return json.load(handle)


def _healthy_run(ctx, name, config):
    run = sliced.SlicedRun(ctx.new_dir(name), ctx.collections, 4)
    run.prepare(config, extravars=_extravars(ctx))
    run.run()
    bad = ["slice %d: %s rc %s %s" % (s["index"], (s["job"] or {}).get("status"), (s["job"] or {}).get("rc"), s["stderr"][-300:])
           for s in run.slices if not s["job"] or s["job"]["status"] != "successful"]
    assert not bad, "; ".join(bad)
    docs = [_load(s["results"]) for s in run.slices]
    assert all(d is not None for d in docs), "a slice left no results.json: %s" % [s["results"] for s in run.slices]
    assert [d["run"]["slice"] for d in docs] == [{"index": i, "count": 4} for i in range(4)], [d["run"]["slice"] for d in docs]
    for s, d in zip(run.slices, docs):
        assert d["run"]["runner"] and d["run"]["runner"]["ident"] == s["ident"], d["run"]["runner"]
    result, merged, _unused = run.merge(slo_file=SLO)
    return run, docs, result, merged


def _check_merged(run, docs, result, merged):
    expected = [n for s in run.slices for n in s["names"]]
    checks.matrix_complete(merged, expected)
    checks.slo_on_merged(result, merged, docs)
    assert not [m for m in result["missing"] if "slice" in m["what"]], result["missing"]
    checks.controller_records_once(merged)


def check_lab_edges_4_slices(ctx):
    config = os.path.join(ctx.lab, "edge-sites.yml")
    run, docs, result, merged = _healthy_run(ctx, "edges", config)
    assert [s["names"] for s in run.slices] == [["edge1"], ["edge2"], ["edge3"], ["edge4"]], [s["names"] for s in run.slices]
    states = dict(((p["result"]["site"], p["result"]["service"]), p["result"]["state"]) for p in merged["probes"])
    assert states[("edge1", "o2ims")] == "up" and states[("edge3", "ssh")] == "up", states
    assert states[("edge2", "ssh")] == "host_key_mismatch", "edge2 (stale address) ssh: %s" % states.get(("edge2", "ssh"))
    _check_merged(run, docs, result, merged)


def _failed_probes(docs):
    """Per slice, the probes that did not succeed: site, service, state and the start of the detail."""
    out = []
    for index, doc in enumerate(docs):
        for probe in doc.get("probes", []):
            res = probe.get("result", probe)
            if not res.get("ok"):
                detail = str(res.get("detail", ""))[:80]
                out.append("slice %d %s/%s %s (%s)" % (index, res.get("site"), res.get("service"), res.get("state"), detail))
    return out


def check_lab_sim40_4_slices(ctx):
    config = _sim_config(ctx)
    run, docs, result, merged = _healthy_run(ctx, "sim40", config)
    ratios = [checks.success_ratio(d)[0] for d in docs]
    merged_ratio = checks.success_ratio(merged)[0]
    # The blackholed sites (every 10th) fall in slices 1 and 3: no single slice has the merged ratio.
    assert all(abs(r - merged_ratio) > 1e-9 for r in ratios), "slice ratios %s, merged %s; failed probes: %s" % (
        ratios, merged_ratio, _failed_probes(docs))
    _check_merged(run, docs, result, merged)


def check_lab_sim40_broken_and_killed_slice(ctx):
    config = _sim_config(ctx)
    run = sliced.SlicedRun(ctx.new_dir("sim40-broken"), ctx.collections, 4)
    run.prepare(config, extravars=_extravars(ctx), broken=(1,))
    run.run(kill=(3,))
    by = dict((s["index"], s) for s in run.slices)
    assert by[1]["job"] and by[1]["job"]["status"] == "failed" and by[1]["results"] is None, \
        "slice 1 (inventory that does not parse): %s, results %s" % (by[1]["job"], by[1]["results"])
    assert by[3].get("killed") and by[3]["job"] is None, "slice 3 was not killed: %s" % by[3]["job"]
    assert by[3]["results"] and by[3]["results"].endswith(".jsonl"), "slice 3 left %s" % by[3]["results"]
    for i in (0, 2):
        assert by[i]["job"]["status"] == "successful", by[i]["job"]
    result, merged, _unused = run.merge(slo_file=SLO)
    killed = json.loads(open(by[3]["results"], encoding="utf-8").readline())["run"]
    assert killed["slice"] == {"index": 3, "count": 4}, killed
    got_from_3 = set(p["result"]["site"] for p in merged["probes"]) & set(by[3]["names"])
    checks.matrix_complete(merged, by[0]["names"] + by[2]["names"] + sorted(got_from_3))
    assert merged["run"]["status"] != "ok", merged["run"]["status"]
    checks.names_slice(result["missing"], 1, 4)
    checks.names_slice(result["missing"], 3, 4)
    # The objectives see only what the given slices measured (and say how much they selected):
    # whether a run with missing slices may pass them is for fail_on_slo's caller to decide (see
    # the report's missing list above).
    obj = checks.objective(result, "slices-edge-connectivity")
    assert obj["selected"] == len(merged["probes"]) == sum(checks.success_ratio(_load(by[i]["results"]))[1] for i in (0, 2)) \
        + sum(1 for p in merged["probes"] if p["result"]["site"] in got_from_3), (obj["selected"], len(merged["probes"]))


CHECKS = [
    ("slicer: host i of the name order goes to slice i mod N (AWX)", check_assign_awx_rule, False),
    ("slicer: edge-sites slices parse with the plugin, hosts as assigned", check_edge_sites_slices_parse, False),
    ("slicer: any inventory via ansible-inventory --list, vars and groups kept", check_any_inventory_slices, False),
    ("lab edges: 4 slices of the 4 edges, one merged report", check_lab_edges_4_slices, True),
    ("lab sim40: 4 slices of 40 simulated sites, one merged report", check_lab_sim40_4_slices, True),
    ("lab sim40: slice 1 broken, slice 3 killed, both reported missing", check_lab_sim40_broken_and_killed_slice, True),
]


def _run_check(name, fn, ctx):
    """Run one check, print its PASS/FAIL line (with the reason), return whether it passed."""
    began = time.monotonic()
    reason = None
    try:
        fn(ctx)
    except AssertionError as exc:
        reason = str(exc) or _where(exc)
    except Exception as exc:  # pylint: disable=broad-except  # a broken check must not stop the others
        reason = "%s: %s" % (type(exc).__name__, str(exc) or _where(exc))
    line = "%s %-68s %5.1fs" % ("PASS" if reason is None else "FAIL", name, time.monotonic() - began)
    print(line if reason is None else line + "  " + reason[:1500], flush=True)
    return reason is None


def _where(exc):
    frame = traceback.extract_tb(exc.__traceback__)[-1]
    return "%s:%d: %s" % (os.path.basename(frame.filename), frame.lineno, frame.line)


def _in_controller_namespace():
    try:
        return os.stat("/proc/self/ns/net").st_ino == os.stat("/run/netns/o2lab-ctl").st_ino
    except OSError:
        return False


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("select", nargs="*", help="run only checks whose name contains one of these words")
    parser.add_argument("--lab", action="store_true", help="also run the lab checks (inside tests.lab exec, under flock)")
    parser.add_argument("--collection", default=sliced.REPO, help="the collection's root to test (default: this tree)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    args = parser.parse_args(argv)
    chosen = [c for c in CHECKS if args.lab or not c[2]]
    if args.select:
        chosen = [c for c in chosen if any(word in c[0] for word in args.select)]
    if args.lab and not _in_controller_namespace():
        print("--lab runs inside the lab's controller namespace: flock /tmp/o2lab.lock .venv/bin/python -m tests.lab "
              "exec -- .venv/bin/python tests/slices/run.py --lab", file=sys.stderr)
        return 2
    tmp = tempfile.mkdtemp(prefix="o2edge-slices-")
    ctx = Ctx(tmp, sliced.collections_dir(tmp, os.path.abspath(args.collection)))
    outcomes = []
    start = time.monotonic()
    try:
        for name, fn, _unused in chosen:
            outcomes.append(_run_check(name, fn, ctx))
    finally:
        if ctx.sim_started:
            subprocess.run([sys.executable, "-m", "tests.lab", "sim", "down"], cwd=REPO, check=False, capture_output=True)
        if args.keep:
            print("kept %s" % tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    passed = outcomes.count(True)
    print("took %.1fs" % (time.monotonic() - start))
    print("%d passed, %d failed" % (passed, len(outcomes) - passed))
    return 0 if outcomes and all(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
