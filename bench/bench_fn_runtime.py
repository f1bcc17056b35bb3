# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Side-by-side figures for kpt function runtimes (one run, one machine, medians and ratios).

1. Rendering every lab package, each variant one whole process from spawn to exit, in an order
   rotated every round: a sequential shell loop of ``kpt fn render`` (podman), the kpt_render
   module with the container runtime (podman), and kpt_render with ``function_sandbox: bwrap``
   (images unpacked beforehand). Images are in podman's store for all three (pull policy
   ifNotPresent); the unpack is not timed (it is the pre-cache step's work, see 3).
2. Per-function start-up cost of each path: one ``passthrough`` function (busybox sh + cat) run
   the way kpt runs it - ``podman run --rm -i --network none --user nobody`` (container), its
   generated bwrap wrapper (sandbox), and the same script run directly (no isolation) - with a
   one-item ResourceList, alternated, many times.
3. Cold render with the images absent (kpt_render pulls them, ifNotPresent) against the
   pre-cache step (image_precache into podman's store) followed by a render with ``never``.
4. Verification, before anything is timed: every package is rendered once through podman and
   once in the sandbox and the outputs compared as YAML data (the comparison of the render
   cache's verify); any difference stops the benchmark.

Run it inside the lab's controller namespace (podman and the registry are configured there):

    flock /tmp/o2lab.lock python -m tests.lab exec -- .venv/bin/python bench/bench_fn_runtime.py [--rounds 5] [--json out.json]

Prints a markdown report; numbers are never edited by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_kpt_render as base  # noqa: E402  (makes the collection importable, as ansible_collections.o2edge.perf)

sys.path.insert(0, base.ROOT)
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _fn_sandbox as sandbox  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _renderer as kpt  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kpt_sync as kpt_sync  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kptfile as kptfile  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import child_env  # noqa: E402
from ansible_collections.o2edge.perf.plugins.module_utils._stats import median  # noqa: E402
from tests.lab import images as lab_images  # noqa: E402

RL = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
      "  metadata:\n    name: x\n")


def run_module(name, args):
    """Run a module the way Ansible does (bench_kpt_render.run_module); (its JSON, wall seconds)."""
    start = time.monotonic()
    res = base.run_module(name, args)
    wall = time.monotonic() - start
    if res.get("failed"):
        raise SystemExit("%s failed: %s" % (name, res.get("msg")))
    return res, wall


def machine():
    info = base.machine()
    info["bwrap"] = sandbox.bwrap_version(shutil.which("bwrap"))
    info["podman"] = subprocess.run(["podman", "--version"], check=False, capture_output=True, text=True).stdout.strip()
    try:
        with open("/proc/loadavg") as f:
            info["loadavg"] = f.read().split()[:3]
    except OSError:
        pass
    return info


def podman(*args, check=True):
    res = subprocess.run(["podman"] + list(args), check=False, capture_output=True, text=True)
    if check and res.returncode != 0:
        raise SystemExit("podman %s failed: %s" % (" ".join(args), res.stderr.strip()[-400:]))
    return res


def image_refs():
    return [lab_images.fn_ref(name) for name in lab_images.FUNCTIONS]


def verify(packages, unpack):
    """Render every package through podman and in the sandbox; the packages whose outputs differ as data."""
    labels = kpt.package_labels(packages)
    outputs = {}
    paths = {}
    for mode in ("none", "bwrap"):
        renderer = kpt.Renderer(shutil.which("kpt"), labels, runs=1, cold=False, allow_exec=True,
                                image_pull_policy="ifNotPresent", env=child_env({"KPT_FN_RUNTIME": "podman"}),
                                kpt_ver=kptfile.kpt_version(shutil.which("kpt"))[0], function_sandbox=mode,
                                bwrap=shutil.which("bwrap"), sandbox_unpack_dir=unpack)
        result = renderer.run()
        try:
            summaries = kpt.package_summaries(renderer, result)
            failed = [s["name"] for s in summaries if not s["ok"]]
            if failed:
                raise SystemExit("verification render (%s) failed for %s: %s" % (
                    mode, failed, [s.get("error") for s in summaries if not s["ok"]]))
            outputs[mode] = [kpt_sync.snapshot(o) for o in result["outputs"]]
            if mode == "bwrap":
                for s in summaries:
                    for p in s["function_paths"]:
                        paths[p["path"]] = paths.get(p["path"], 0) + 1
        finally:
            shutil.rmtree(result["base"], ignore_errors=True)
    differing = {}
    byte_differing = 0
    for label, a, b in zip(labels, outputs["none"], outputs["bwrap"]):
        changed = kpt_sync.changed_paths(a, b)
        byte_differing += bool(changed)
        real = kpt_sync.semantic_changes(a, b, changed)
        if real:
            differing[label.label] = real
    return differing, byte_differing, paths


def _copies_script(packages, vdir, render):
    one = 'set -e; d="$2/$(basename "$1")"; cp -r "$1" "$d"; cd "$d"; %s; cd /; rm -rf "$d"' % render
    return "for p in %s; do sh -c '%s' _ \"$p\" \"%s\" || exit 1; done\n" % (
        " ".join('"%s"' % p for p in packages), one.replace("'", "'\\''"), vdir)


def renders(packages, unpack, rounds, work):
    """{variant: [wall seconds per round]} for the sequential loop and the two module variants."""
    kpt_bin = shutil.which("kpt")
    render = "%s fn render --allow-exec --image-pull-policy ifNotPresent . >/dev/null 2>&1" % kpt_bin
    variants = ["seq-container", "module-container", "module-bwrap"]
    times = dict((v, []) for v in variants)
    counts = {}
    for r in range(rounds):
        shift = r % len(variants)
        for variant in variants[shift:] + variants[:shift]:
            vdir = os.path.join(work, "%s-%d" % (variant, r))
            os.makedirs(vdir)
            if variant == "seq-container":
                start = time.monotonic()
                rc = subprocess.run(["/bin/sh", "-c", _copies_script(packages, vdir, render)], check=False).returncode
                wall = time.monotonic() - start
                if rc != 0:
                    raise SystemExit("the sequential loop failed (rc %d)" % rc)
            else:
                args = {"paths": packages, "allow_exec": True, "runtime": "podman", "image_pull_policy": "ifNotPresent",
                        "runs": 1, "warmup": 0, "cold": False, "scratch_dir": vdir}
                if variant == "module-bwrap":
                    args.update(function_sandbox="bwrap", sandbox_unpack_dir=unpack)
                res, wall = run_module("kpt_render", args)
                if variant == "module-bwrap":
                    counts = res["total"]["context"]["function_path_counts"]
            times[variant].append(wall)
            shutil.rmtree(vdir)
    return times, counts


def startup(unpack, runs, work):
    """Median seconds of one passthrough function run per path (alternated), and the raw samples."""
    ref = lab_images.fn_ref("passthrough")
    images = sandbox.UnpackedImages(unpack)
    image, why = images.lookup(ref)
    if image is None:
        raise SystemExit("passthrough is not unpacked: %s" % why)
    wrapper = os.path.join(work, "passthrough-wrapper.sh")
    with open(wrapper, "w") as f:
        f.write(sandbox.wrapper_text(sandbox.bwrap_argv(shutil.which("bwrap"), image), image, ref))
    os.chmod(wrapper, 0o700)
    script = os.path.join(image["rootfs"], "function.sh")
    commands = {
        "container (podman run, as kpt runs it)": ["podman", "run", "--rm", "-i", "--pull", "never", "--network", "none",
                                                   "--user", "nobody", "--security-opt=no-new-privileges", ref],
        "sandbox (bwrap wrapper)": [wrapper],
        "exec, no isolation (busybox sh)": [os.path.realpath(shutil.which("busybox")), "sh", script],
    }
    samples = dict((k, []) for k in commands)
    for name, argv in commands.items():  # one untimed warm-up each
        subprocess.run(argv, input=RL, capture_output=True, text=True, check=False)
    for i in range(runs):
        order = list(commands)
        order = order[i % len(order):] + order[:i % len(order)]
        for name in order:
            start = time.monotonic()
            res = subprocess.run(commands[name], input=RL, capture_output=True, text=True, check=False)
            took = time.monotonic() - start
            if res.returncode != 0 or res.stdout != RL:
                raise SystemExit("%s failed (rc %d): %s" % (name, res.returncode, res.stderr.strip()[-300:]))
            samples[name].append(took)
    return samples


def cold_vs_precached(packages, rounds, work):
    """Per round: images absent -> render (pulls); images absent -> image_precache -> render with never."""
    out = {"cold render (images absent, pulled by the render)": [], "pre-cache (image_precache, podman)": [],
           "render after pre-cache (--image-pull-policy never)": []}
    refs = image_refs()
    for r in range(rounds):
        for first in (("cold", "pre") if r % 2 == 0 else ("pre", "cold")):
            podman("rmi", "--ignore", "-f", *refs)
            vdir = os.path.join(work, "cold-%s-%d" % (first, r))
            os.makedirs(vdir)
            args = {"paths": packages, "allow_exec": True, "runtime": "podman", "runs": 1, "warmup": 0,
                    "cold": False, "scratch_dir": vdir}
            if first == "cold":
                _res, wall = run_module("kpt_render", dict(args, image_pull_policy="ifNotPresent"))
                out["cold render (images absent, pulled by the render)"].append(wall)
            else:
                res, wall = run_module("image_precache", {"images": refs, "store": "podman",
                                                          "insecure_registries": [lab_images.REGISTRY]})
                if sorted(res["pulled"]) != sorted(refs):
                    raise SystemExit("image_precache pulled %s, not every image" % res["pulled"])
                out["pre-cache (image_precache, podman)"].append(wall)
                _res, wall = run_module("kpt_render", dict(args, image_pull_policy="never"))
                out["render after pre-cache (--image-pull-policy never)"].append(wall)
            shutil.rmtree(vdir)
    return out


def fmt(xs):
    return ", ".join("%.2f" % x for x in xs)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--startup-runs", type=int, default=20)
    parser.add_argument("--cold-rounds", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    packages = kptfile.find_packages(os.path.join(base.lab_dir(), "repo", "packages"))
    if not packages:
        raise SystemExit("no lab packages; run `python -m tests.lab up`")
    work = tempfile.mkdtemp(prefix="bench-fn-runtime-")
    refs = image_refs()
    try:
        unpack = os.path.join(work, "unpacked")
        t0 = time.monotonic()
        lab_images.unpack_fn_images(unpack)
        unpack_seconds = time.monotonic() - t0
        for ref in refs:
            podman("pull", "-q", "--tls-verify=false", ref)
        differing, byte_differing, paths = verify(packages, unpack)
        if differing:
            raise SystemExit("sandboxed renders differ from container renders as data: %s" % differing)
        times, counts = renders(packages, unpack, args.rounds, work)
        starts = startup(unpack, args.startup_runs, work)
        cold = cold_vs_precached(packages, args.cold_rounds, work)
    finally:
        podman("rmi", "--ignore", "-f", *refs, check=False)
        shutil.rmtree(work, ignore_errors=True)

    info = machine()
    n_image = counts.get("sandbox", 0) + counts.get("container", 0)
    seq = median(times["seq-container"])
    print("## Function runtime: %d lab packages (%d image functions, %d exec functions)\n" % (
        len(packages), n_image, counts.get("exec", 0)))
    print("Machine: %s, %s CPUs (%s), load average %s; kpt %s, %s, bubblewrap %s, Python %s.\n" % (
        info["host"], info["cpus"], info.get("cpu", "?"), " ".join(info.get("loadavg", [])), info["kpt"],
        info["podman"], info["bwrap"], info["python"]))
    print("Verification: every package rendered through podman and in the sandbox gives the same YAML data "
          "(%d of %d packages differ in bytes only, key order); function paths in the sandbox run: %s.\n" % (
              byte_differing, len(packages), json.dumps(paths, sort_keys=True)))
    print("| variant (whole process, %d rounds) | median (s) | ratio to the sequential loop | runs (s) |" % args.rounds)
    print("|---|---|---|---|")
    labels = {"seq-container": "sequential `kpt fn render` loop, podman",
              "module-container": "kpt_render (parallel), podman",
              "module-bwrap": "kpt_render (parallel), `function_sandbox: bwrap`"}
    for variant in ("seq-container", "module-container", "module-bwrap"):
        print("| %s | %.2f | %.2f | %s |" % (labels[variant], median(times[variant]), median(times[variant]) / seq,
                                             fmt(times[variant])))
    ratio = median(times["module-bwrap"]) / seq
    print("\nTarget: sandboxed parallel render at most 0.3x the sequential container loop: %s (%.2fx).\n" % (
        "**met**" if ratio <= 0.3 else "**not met**", ratio))
    print("| one passthrough function (%d runs, alternated) | median (ms) | min (ms) |" % args.startup_runs)
    print("|---|---|---|")
    for name, xs in starts.items():
        print("| %s | %.1f | %.1f |" % (name, 1000 * median(xs), 1000 * min(xs)))
    print("\n| cold start (%d rounds, order alternated) | median (s) | runs (s) |" % args.cold_rounds)
    print("|---|---|---|")
    for name, xs in cold.items():
        print("| %s | %.2f | %s |" % (name, median(xs), fmt(xs)))
    print("\nUnpacking the %d images for the sandbox (skopeo copy + umoci raw unpack, once): %.2f s." % (
        len(refs), unpack_seconds))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": info, "renders": times, "function_paths": counts, "startup": starts, "cold": cold,
                       "verify": {"differing": differing, "byte_differing": byte_differing, "paths": paths},
                       "unpack_seconds": unpack_seconds}, f, indent=1)


if __name__ == "__main__":
    main()
