# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Side-by-side figures for image_precache (one run, one machine, medians and ratios).

1. Builds N (default 20) distinct small images (a shared static busybox layer plus a layer of
   its own random bytes, default 256 KiB) with umoci and pushes them with skopeo to the lab
   registry as ``198.18.0.1:5000/bench/img-NN:v1`` (new content each run, so nothing is cached
   from an earlier run of the bench).
2. Each round precaches all of them into a fresh, empty OCI layout at concurrency 1 and at
   concurrency 4 (order alternating from round to round); each is timed as one whole process,
   the module run as Ansible runs it (a child Python with an args file).
3. Each round then runs the module again on the concurrency-4 layout: it must pull nothing
   (every image present, same digest as the registry, every blob's sha256 checked); target < 1 s.

Run it in the lab's controller namespace, with the lab up:

    flock /tmp/o2lab.lock sh -c '.venv/bin/python -m tests.lab up && \\
      .venv/bin/python -m tests.lab exec -- .venv/bin/python bench/bench_image_precache.py --rounds 7; \\
      .venv/bin/python -m tests.lab down'

Prints a markdown report; numbers are never edited by hand.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

# The collection import tree, the module runner (a child Python with an args file, as Ansible runs
# modules) and the machine facts come from the measurement engine's bench.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_kpt_render as engine  # noqa: E402

from ansible_collections.o2edge.perf.plugins.module_utils._stats import median  # noqa: E402

REGISTRY = "198.18.0.1:5000"


def run_module(name, args):
    """(wall seconds of the whole module process, its JSON)."""
    start = time.monotonic()
    out = engine.run_module(name, args)
    return time.monotonic() - start, out


def tool_version(argv):
    try:
        return subprocess.run(argv, check=False, stdout=subprocess.PIPE, text=True).stdout.strip().splitlines()[0]
    except (OSError, IndexError):
        return None


def machine():
    info = engine.machine()
    info["kernel"] = platform.release()
    info["skopeo"] = tool_version(["skopeo", "--version"])
    info["umoci"] = tool_version(["umoci", "--version"])
    return info


def sh(argv):
    res = subprocess.run(argv, check=False, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if res.returncode != 0:
        raise SystemExit("%s failed (%d): %s" % (" ".join(argv), res.returncode, res.stderr.strip()[-500:]))
    return res.stdout


def build_and_push(work, count, size_kib, tag):
    """``count`` images with a shared busybox layer and a random layer each; returns their references."""
    base = os.path.join(work, "base")
    files = os.path.join(work, "files")
    os.makedirs(files)
    busybox = os.path.realpath(shutil.which("busybox"))
    sh(["umoci", "init", "--layout", base])
    sh(["umoci", "new", "--image", base + ":base"])
    sh(["umoci", "insert", "--image", base + ":base", busybox, "/bin/busybox"])
    refs = []
    for n in range(count):
        payload = os.path.join(files, "payload-%02d" % n)
        with open(payload, "wb") as handle:
            handle.write(os.urandom(size_kib * 1024))
        sh(["umoci", "tag", "--image", base + ":base", "img-%02d" % n])
        sh(["umoci", "insert", "--image", base + ":img-%02d" % n, payload, "/payload"])
        sh(["umoci", "config", "--image", base + ":img-%02d" % n, "--config.user", "65534:65534",
            "--config.entrypoint", "/bin/busybox", "--config.cmd", "true"])
        ref = "%s/bench/img-%02d:%s" % (REGISTRY, n, tag)
        sh(["skopeo", "copy", "-q", "--dest-tls-verify=false", "oci:%s:img-%02d" % (base, n), "docker://" + ref])
        refs.append(ref)
    return refs


def precache(refs, oci_dir, concurrency):
    seconds, res = run_module("image_precache", {
        "images": refs, "store": "oci", "oci_dir": oci_dir, "concurrency": concurrency,
        "insecure_registries": [REGISTRY], "retries": 0})
    if res.get("failed"):
        raise SystemExit("image_precache failed: %s" % res.get("msg"))
    return seconds, res


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--images", type=int, default=20)
    ap.add_argument("--size-kib", type=int, default=256, help="random bytes of each image's own layer")
    ap.add_argument("--json", help="also write the figures as JSON to this file")
    a = ap.parse_args()
    missing = [t for t in ("skopeo", "umoci", "busybox") if not shutil.which(t)]
    if missing:
        print("missing tools: %s (Debian packages skopeo, umoci, busybox-static)" % ", ".join(missing))
        return 2
    load_before = os.getloadavg()
    work = tempfile.mkdtemp(prefix="bench-image-precache-")
    try:
        t0 = time.monotonic()
        refs = build_and_push(os.path.join(work, "build"), a.images, a.size_kib, "v1")
        build_s = time.monotonic() - t0
        times = {"c1": [], "c4": [], "second": [], "module_c1": [], "module_c4": [], "module_second": []}
        for r in range(a.rounds):
            order = ["c1", "c4"] if r % 2 == 0 else ["c4", "c1"]
            for variant in order:
                oci = os.path.join(work, "round-%d-%s" % (r, variant))
                seconds, res = precache(refs, oci, 1 if variant == "c1" else 4)
                if len(res["pulled"]) != len(refs):
                    raise SystemExit("cold run %s pulled %d of %d images" % (variant, len(res["pulled"]), len(refs)))
                times[variant].append(round(seconds, 4))
                times["module_" + variant].append(res["records"][0]["samples"][0])
            seconds, res = precache(refs, os.path.join(work, "round-%d-c4" % r), 4)
            if res["pulled"] or res["changed"] or len(res["present"]) != len(refs):
                raise SystemExit("second run pulled %s" % res["pulled"])
            times["second"].append(round(seconds, 4))
            times["module_second"].append(res["records"][0]["samples"][0])
            for variant in ("c1", "c4"):
                shutil.rmtree(os.path.join(work, "round-%d-%s" % (r, variant)))
    finally:
        shutil.rmtree(work, ignore_errors=True)

    load_after = os.getloadavg()
    med = dict((k, median(v)) for k, v in times.items())
    paired = sorted(c4 / c1 for c1, c4 in zip(times["c1"], times["c4"]))
    out = {"machine": machine(), "rounds": a.rounds, "images": a.images, "size_kib": a.size_kib,
           "build_and_push_s": round(build_s, 2), "samples": times, "medians": med,
           "ratio_c4_c1": med["c4"] / med["c1"], "paired_ratios": paired,
           "loadavg_1min": [load_before[0], load_after[0]]}
    if a.json:
        with open(a.json, "w") as handle:
            json.dump(out, handle, indent=2)
    m = out["machine"]
    print("Machine: %s, %d CPUs (%s), kernel %s, Python %s, %s, %s; %d images (busybox layer + %d KiB of "
          "their own), %d rounds; building and pushing them took %.1f s; 1-minute load average %.1f before, "
          "%.1f after (the machine is shared).\n"
          % (m["host"], m["cpus"], m.get("cpu", "?"), m["kernel"], m["python"], m["skopeo"], m["umoci"],
             a.images, a.size_kib, a.rounds, build_s, load_before[0], load_after[0]))
    print("| variant | median whole process (s) | median in-module record (s) | ratio to concurrency 1 | target |")
    print("|---|---|---|---|---|")
    print("| cold, empty OCI layout, concurrency 1 | %.3f | %.3f | 1.00 | |" % (med["c1"], med["module_c1"]))
    print("| cold, empty OCI layout, concurrency 4 | %.3f | %.3f | %.2f | < 1 |"
          % (med["c4"], med["module_c4"], med["c4"] / med["c1"]))
    print("| second run (nothing to pull; digests asked, every blob hashed) | %.3f | %.3f | %.2f | < 1 s: %s |"
          % (med["second"], med["module_second"], med["second"] / med["c1"], "yes" if med["second"] < 1 else "NO"))
    print("\nPaired per-round ratios concurrency 4 / concurrency 1 (sorted): %s"
          % ", ".join("%.2f" % p for p in paired))
    print("\nSamples (s, whole process): %s" % "; ".join("%s %s" % (k, times[k]) for k in ("c1", "c4", "second")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
