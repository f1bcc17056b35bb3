"""Benchmark the lab's bring-up and tear-down with hyperfine; print a Markdown table row set.

    .venv/bin/python bench/bench_lab.py [--runs 5]

Measures, side by side in one run: `up` from nothing (after `down`), `up` on a healthy lab
(the idempotent no-op), and `down`. Leaves the lab down. Figures go to docs/benchmarks.md.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = "%s -m tests.lab" % os.path.join(ROOT, ".venv", "bin", "python")


def hyperfine(name, cmd, prepare, runs):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    subprocess.run(["hyperfine", "--runs", str(runs), "--prepare", prepare, "--export-json", out,
                    "--command-name", name, cmd], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    with open(out) as f:
        r = json.load(f)["results"][0]
    os.unlink(out)
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=5)
    a = ap.parse_args()
    rows = [
        hyperfine("lab up (from nothing)", LAB + " up", LAB + " down", a.runs),
        hyperfine("lab up (already up: no-op)", LAB + " up", LAB + " up", a.runs),
        hyperfine("lab down", LAB + " down", LAB + " up", a.runs),
    ]
    subprocess.run((LAB + " down").split(), cwd=ROOT, check=True)
    print("machine: %s, %d cores, Python %s" % (platform.platform(), os.cpu_count(), platform.python_version()))
    print("| what | command | runs | median (s) | min (s) | max (s) |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print("| %s | `%s` | %d | %.2f | %.2f | %.2f |" % (
            r["command"], r["command"].split(" (")[0].replace("lab ", "python -m tests.lab "),
            len(r["times"]), r["median"], r["min"], r["max"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
