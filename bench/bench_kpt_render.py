# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Side-by-side figures for the measurement engine (one run, one machine, medians and ratios).

1. Parallel render of the lab's packages (kpt_render with max_workers = N) against a sequential
   shell loop of ``kpt fn render`` and ``xargs -P N`` over the same packages. Every variant is
   timed as one whole process that copies the packages to scratch, renders and cleans up (the
   module as Ansible runs it: Python start-up, ``kpt version``, discovery included). Every
   round runs every variant, in an order rotated from round to round; per-round paired ratios
   with a bootstrap interval tell whether two variants really differ.
2. Cached re-render of unchanged packages against the cold render that filled the cache; the
   cached outputs are compared with a fresh render made without the cache in the same round,
   both byte for byte and as YAML data (kpt beta.56 renders are not byte-stable).
3. The module's own overhead: command_bench's median for a command against hyperfine's median
   (``hyperfine -N``, same warm-up and prepare) for the same command, from many short blocks
   (default 10 blocks of 3 runs per side) alternating the two and which goes first.

Run it inside the lab's controller namespace (podman and the registry are configured there):

    python -m tests.lab exec -- .venv/bin/python bench/bench_kpt_render.py [--rounds 5] [--workers 2,3,4,cpu] [--json out.json]

Prints a markdown report; numbers are never edited by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TREE = os.path.join(ROOT, ".build", "bench", "ansible_collections", "o2edge")
if not os.path.islink(os.path.join(TREE, "perf")):
    os.makedirs(TREE, exist_ok=True)
    os.symlink(ROOT, os.path.join(TREE, "perf"))
sys.path.insert(0, os.path.dirname(os.path.dirname(TREE)))

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _renderer as kpt  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kpt_sync as kpt_sync  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kptfile as kptfile  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _render_cache as render_cache  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils._stats import median  # noqa: E402


def lab_dir():
    return os.environ.get("O2LAB_DIR", os.path.join(ROOT, ".lab"))


def run_module(name, args):
    """Run a module the way Ansible does (a child python with an args file); return its JSON."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"ANSIBLE_MODULE_ARGS": args}, handle)
        path = handle.name
    try:
        env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(TREE)))
        out = subprocess.run([sys.executable, "-m", "ansible_collections.o2edge.perf.plugins.modules." + name, path],
                             env=env, check=False, stdout=subprocess.PIPE, text=True).stdout
        return json.loads(out)
    finally:
        os.unlink(path)


def machine():
    info = {"host": platform.node(), "cpus": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    info["kpt"] = kptfile.kpt_version(shutil.which("kpt"))[0]
    info["runtime"] = os.environ.get("KRM_FN_RUNTIME") or os.environ.get("KPT_FN_RUNTIME")
    return info


def _copies(packages, dest_dir):
    copies = []
    for i, pkg in enumerate(packages):
        dest = os.path.join(dest_dir, str(i), os.path.basename(pkg))
        shutil.copytree(pkg, dest, symlinks=True)
        copies.append(dest)
    return copies


def _timed_shell(script):
    """(wall seconds, user+sys CPU seconds of the reaped descendants) of ``sh -c script``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    rc = subprocess.run(["/bin/sh", "-c", script], check=False).returncode
    wall = time.monotonic() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if rc != 0:
        raise SystemExit("shell baseline failed (rc %d): %s" % (rc, script[:200]))
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def parallel_vs_sequential(packages, rounds, work, workers, modules_only=False):
    """Per round, in a rotating order: the sequential loop, ``xargs -P N`` and kpt_render(max_workers=N).

    Every variant is timed the same way: one whole process from spawn to exit, which copies the
    packages to a scratch folder, renders them and removes the copies. For kpt_render that is
    the module run as Ansible runs it (Python start-up, ``kpt version``, discovery, the scratch
    copies, the render and clean-up); for the shell variants a ``sh -c`` doing the same copy,
    render and clean-up. Returns {variant: [seconds per round]} and the loop's CPU seconds.
    """
    kpt_bin = shutil.which("kpt")
    render = "%s fn render --allow-exec --image-pull-policy ifNotPresent . >/dev/null 2>&1" % kpt_bin
    # one package: copy it to a scratch folder, render there, remove the copy ($1 package, $2 scratch)
    one = 'set -e; d="$2/$(basename "$1")"; cp -r "$1" "$d"; cd "$d"; %s; cd /; rm -rf "$d"' % render
    variants = ["seq"] + ["xargs-P%d" % n for n in workers] + ["module-%d" % n for n in workers]
    if modules_only:
        variants = ["module-%d" % n for n in workers]
    times = dict((v, []) for v in variants)
    seq_cpu = []
    listing = os.path.join(work, "packages.list")
    with open(listing, "w") as f:
        f.write("\0".join(packages) + "\0")
    for r in range(rounds):
        shift = r % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            vdir = os.path.join(work, "%s-%d" % (variant, r))
            os.makedirs(vdir)
            if variant.startswith("module-"):
                start = time.monotonic()
                res = run_module("kpt_render", {"paths": packages, "allow_exec": True,
                                                "image_pull_policy": "ifNotPresent", "runs": 1, "warmup": 0,
                                                "cold": False, "scratch_dir": vdir,
                                                "max_workers": int(variant.split("-")[1])})
                wall = time.monotonic() - start
                if res.get("failed"):
                    raise SystemExit("kpt_render failed: %s" % res.get("msg"))
            elif variant == "seq":
                # the sequential shell loop the old scripts used
                script = "for p in %s; do sh -c '%s' _ \"$p\" \"%s\" || exit 1; done\n" % (
                    " ".join('"%s"' % p for p in packages), one.replace("'", "'\\''"), vdir)
                wall, cpu = _timed_shell(script)
                seq_cpu.append(cpu)
            else:
                script = "xargs -0 -P %s -I{} sh -c '%s' _ {} \"%s\" < \"%s\"" % (
                    variant.split("P")[1], one.replace("'", "'\\''"), vdir, listing)
                wall, _cpu = _timed_shell(script)
            times[variant].append(wall)
            shutil.rmtree(vdir)
    return times, seq_cpu


def _same_data(a, b):
    """Do two output snapshots hold the same YAML data (bytes may differ in key order)?"""
    return not kpt_sync.semantic_changes(a, b)


def cached_vs_fresh(packages, rounds, work):
    """Per round: a cold render fills an empty cache, a second render is served from it, and a
    third, fresh render runs without the cache. The cached outputs are compared with the FRESH
    render's (not with what the cache stored), both byte for byte and as YAML data."""
    cold, hit, fresh = [], [], []
    byte_same, data_same = [], []
    labels = kpt.package_labels(packages)
    kpt_bin = shutil.which("kpt")
    ver = kptfile.kpt_version(kpt_bin)[0]
    runtime = os.environ.get("KRM_FN_RUNTIME") or os.environ.get("KPT_FN_RUNTIME") or "docker"
    for r in range(rounds):
        cache_dir = os.path.join(work, "cache-%d" % r)
        outputs = {}
        for phase in ("cold", "hit", "fresh"):
            renderer = kpt.Renderer(kpt_bin, labels, runs=1, cold=False, allow_exec=True,
                                    image_pull_policy="ifNotPresent",
                                    cache_dir=None if phase == "fresh" else cache_dir, kpt_ver=ver,
                                    resolver=render_cache.ImageResolver(shutil.which(runtime)), scratch_dir=work)
            result = renderer.run()
            try:
                if phase != "fresh":
                    states = [s["last"]["cache"] for s in result["per_pkg"]]
                    expected = "miss" if phase == "cold" else "hit"
                    if states != [expected] * len(packages):
                        raise SystemExit("expected every package to %s the cache, got %s" % (expected, states))
                {"cold": cold, "hit": hit, "fresh": fresh}[phase].append(result["total"]["run"][0])
                outputs[phase] = [kpt_sync.snapshot(o) for o in result["outputs"]]
            finally:
                shutil.rmtree(result["base"])
        byte_same.append(sum(1 for a, b in zip(outputs["hit"], outputs["fresh"]) if a == b))
        data_same.append(sum(1 for a, b in zip(outputs["hit"], outputs["fresh"]) if _same_data(a, b)))
        shutil.rmtree(cache_dir)
    return {"cold": cold, "hit": hit, "fresh": fresh, "byte_identical": byte_same, "data_identical": data_same}


def paired(a, b, seed=7, resamples=2000):
    """Per-round ratios a/b (rounds are paired: both ran in the same round): the median ratio, a
    bootstrap 95 % interval of that median, and how many rounds a was faster."""
    import random
    ratios = [x / y for x, y in zip(a, b)]
    rng = random.Random(seed)
    meds = sorted(median([rng.choice(ratios) for _r in ratios]) for _b in range(resamples))
    return {"median_ratio": median(ratios), "ci95": (meds[int(0.025 * resamples)], meds[int(0.975 * resamples) - 1]),
            "a_faster": sum(1 for x in ratios if x < 1), "rounds": len(ratios)}


def overhead(commands, work, blocks=10, per_block=3, warmup=1):
    """Interleave ``blocks`` short blocks of command_bench and ``hyperfine -N`` (``per_block`` counted
    runs each, same warm-up and prepare), alternating which goes first; pool each side's samples."""
    rows = []
    for label, argv, cwd, prepare in commands:
        mod_samples, hf_samples, failures = [], [], 0
        for block in range(blocks):
            sides = ("module", "hyperfine") if block % 2 == 0 else ("hyperfine", "module")
            for side in sides:
                if side == "module":
                    res = run_module("command_bench", {"argv": argv, "chdir": cwd, "runs": per_block,
                                                       "warmup": warmup, "prepare": prepare, "name": label})
                    mod_samples += res["record"]["samples"]
                    failures += res["record"]["failures"]
                    continue
                export = os.path.join(work, "hyperfine.json")
                cmd = ["hyperfine", "-N", "--style", "none", "--warmup", str(warmup), "--runs", str(per_block),
                       "--export-json", export]
                if prepare:
                    cmd += ["--prepare", prepare]
                cmd.append(" ".join(argv))
                subprocess.run(cmd, cwd=cwd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                with open(export) as f:
                    hf_samples += json.load(f)["results"][0]["times"]
        rows.append((label, median(mod_samples), median(hf_samples), failures, len(mod_samples), len(hf_samples)))
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=20, help="alternating blocks for the overhead comparison")
    parser.add_argument("--per-block", type=int, default=5, help="counted runs per overhead block and side")
    parser.add_argument("--workers", default="2,3,4,cpu",
                        help="max_workers / xargs -P values to compare (cpu = the CPU count, all = one per package)")
    parser.add_argument("--json", help="also write the raw figures here")
    parser.add_argument("--workers-only", action="store_true",
                        help="only kpt_render at each --workers value, paired per round (to choose the default)")
    opts = parser.parse_args()

    repo = os.path.join(lab_dir(), "repo")
    if not os.path.isdir(os.path.join(repo, ".git")):
        raise SystemExit("no lab repository at %s (is the lab up?)" % repo)
    work = tempfile.mkdtemp(prefix="bench-kpt-render-")
    try:
        # a private copy of the lab's committed packages (git HEAD): the figures do not depend
        # on what other users of the lab do to its working tree meanwhile
        archive = subprocess.run(["git", "-C", repo, "archive", "--format=tar", "HEAD", "packages"],
                                 check=True, stdout=subprocess.PIPE).stdout
        subprocess.run(["tar", "-x", "-C", work], input=archive, check=True)
        # the render comparisons on 1 to max_workers CPUs are the same code path; record both
        packages = kptfile.find_packages(os.path.join(work, "packages"))
        info = machine()
        # one untimed render so that images are present locally (pulls are not what is compared)
        run_module("kpt_render", {"paths": packages, "allow_exec": True, "image_pull_policy": "ifNotPresent",
                                  "runs": 1, "cold": False, "scratch_dir": work})
        workers = []
        for item in opts.workers.split(","):
            n = os.cpu_count() if item == "cpu" else len(packages) if item == "all" else int(item)
            if n not in workers:
                workers.append(n)
        times, seq_cpu = parallel_vs_sequential(packages, opts.rounds, work, workers, opts.workers_only)
        if opts.workers_only:
            print("Machine: %s, %s CPUs, kpt %s; %d lab packages; %d rounds; kpt_render only (whole module process)."
                  % (info["host"], info["cpus"], info["kpt"], len(packages), opts.rounds))
            print("")
            print("| a / b | median a (s) | median b (s) | median ratio | 95 % interval | rounds a faster |")
            print("|---|---|---|---|---|---|")
            for i, n in enumerate(workers):
                for m in workers[i + 1:]:
                    a, b = times["module-%d" % n], times["module-%d" % m]
                    p = paired(a, b)
                    print("| max_workers=%d / max_workers=%d | %.3f | %.3f | %.3f | %.3f - %.3f | %d of %d |" % (
                        n, m, median(a), median(b), p["median_ratio"], p["ci95"][0], p["ci95"][1],
                        p["a_faster"], p["rounds"]))
            print("")
            print("Samples (s): %s" % "; ".join("%s %s" % (v, [round(x, 3) for x in times[v]]) for v in times))
            return
        cache = cached_vs_fresh(packages, opts.rounds, work)
        one = [p for p in packages if p.endswith("edge3-config")] or packages[:1]
        scratch = os.path.join(work, "one")
        # hyperfine -N runs --prepare without a shell too: keep the prepare step a script file
        prepare = os.path.join(work, "prepare.sh")
        with open(prepare, "w") as f:
            f.write('rm -rf "%s" && cp -r "%s" "%s"\n' % (scratch, one[0], scratch))
        commands = [
            ("git status --porcelain", ["git", "status", "--porcelain"], os.path.join(lab_dir(), "repo"), None),
            ("git log --oneline -10", ["git", "log", "--oneline", "-10"], os.path.join(lab_dir(), "repo"), None),
            ("kpt fn render (exec package)", ["kpt", "fn", "render", "--allow-exec", scratch], one[0],
             "/bin/sh " + prepare),
        ]
        rows = overhead(commands, work, blocks=opts.blocks, per_block=opts.per_block)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    seq = times["seq"]
    cold, hit, fresh = cache["cold"], cache["hit"], cache["fresh"]
    pairs = {}
    for n in workers:
        pairs["module-%d/seq" % n] = paired(times["module-%d" % n], seq)
        pairs["module-%d/xargs-P%d" % (n, n)] = paired(times["module-%d" % n], times["xargs-P%d" % n])
    for i, n in enumerate(workers):
        for m in workers[i + 1:]:
            pairs["module-%d/module-%d" % (n, m)] = paired(times["module-%d" % n], times["module-%d" % m])
    figures = {"machine": info, "packages": len(packages), "rounds": opts.rounds, "render_s": times,
               "sequential_loop_cpu_s": seq_cpu, "cache": cache, "paired": pairs, "overhead": rows}
    cpus = os.cpu_count()
    out = []
    out.append("Machine: %s, %s CPUs (%s), Python %s, kpt %s, runtime %s; %d lab packages; %d rounds." % (
        info["host"], info["cpus"], info.get("cpu", "?"), info["python"], info["kpt"], info["runtime"],
        len(packages), opts.rounds))
    out.append("")
    out.append("Parallel render, every variant in every round (rotating order); every variant timed as one whole "
               "process that copies the packages to scratch, renders them and removes the copies:")
    out.append("")
    out.append("| variant | median (s) | ratio to sequential loop | target <= 0.6 |")
    out.append("|---|---|---|---|")
    out.append("| sequential shell loop of `kpt fn render` | %.3f | 1.00 | |" % median(seq))
    for n in workers:
        for variant, text in (("xargs-P%d" % n, "`xargs -P %d` of `kpt fn render`" % n),
                              ("module-%d" % n, "kpt_render max_workers=%d%s (whole module process)" % (
                                  n, " (default)" if n == kpt.default_workers() else ""))):
            ratio = median(times[variant]) / median(seq)
            met = "yes" if ratio <= 0.6 else "NO"
            out.append("| %s | %.3f | %.2f | %s |" % (text, median(times[variant]), ratio, met))
    ceiling = median(seq_cpu) / cpus
    out.append("")
    out.append("Sequential loop CPU (user+sys of reaped descendants; container processes under conmon not "
               "counted): median %.3f s; CPU-bound floor on %d CPUs = %.3f s = %.2f x the loop's median." % (
                   median(seq_cpu), cpus, ceiling, ceiling / median(seq)))
    out.append("")
    out.append("Paired per-round ratios (both variants ran in the same round), median and bootstrap 95 % interval:")
    out.append("")
    out.append("| a / b | median ratio | 95 % interval | rounds a faster | clear difference |")
    out.append("|---|---|---|---|---|")
    for name, p in pairs.items():
        clear = "yes" if p["ci95"][1] < 1 or p["ci95"][0] > 1 else "no"
        out.append("| %s | %.3f | %.3f - %.3f | %d of %d | %s |" % (
            name, p["median_ratio"], p["ci95"][0], p["ci95"][1], p["a_faster"], p["rounds"], clear))
    out.append("")
    out.append("| comparison | baseline median (s) | o2edge.perf median (s) | ratio | target | met |")
    out.append("|---|---|---|---|---|---|")
    ratio = median(hit) / median(cold)
    n_pkg = len(packages)
    out.append("| cached re-render vs cold render | %.3f | %.4f | %.3f | <= 0.1 | %s |" % (
        median(cold), median(hit), ratio, "yes" if ratio <= 0.1 else "NO"))
    for label, mod, hf, failures, n_mod, n_hf in rows:
        diff = mod - hf
        ok = abs(diff) <= max(0.05 * hf, 0.002) and failures == 0
        out.append("| command_bench vs `hyperfine -N`: %s (%d + %d runs, %d alternating blocks) | %.4f | %.4f | %.3f "
                   "(%+.1f ms) | within 5%% or 2 ms | %s |" % (
                       label, n_mod, n_hf, opts.blocks, hf, mod, mod / hf, diff * 1000, "yes" if ok else "NO"))
    out.append("")
    out.append("Cached outputs against a fresh render (no cache) in the same round, per round, out of %d packages: "
               "byte-identical %s; same YAML data %s." % (n_pkg, cache["byte_identical"], cache["data_identical"]))
    out.append("")
    out.append("Samples (s): %s; sequential loop CPU %s; cold %s; cached %s; fresh %s." % (
        "; ".join("%s %s" % (v, [round(x, 3) for x in times[v]]) for v in times),
        [round(x, 3) for x in seq_cpu], [round(x, 3) for x in cold], [round(x, 4) for x in hit],
        [round(x, 3) for x in fresh]))
    print("\n".join(out))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(figures, f, indent=2)
    if any(d != n_pkg for d in cache["data_identical"]):
        raise SystemExit("the cached render differs in data from a fresh render: the cache is wrong")


if __name__ == "__main__":
    main()
