# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Write the perf_report output trees of the benchmark's inputs, or compare two such trees byte for byte.

    # the trees of a collection checkout (this one by default), for 100, 1,000 and 10,000 records,
    # each without and with a baseline: every file of the run directory and the index
    .venv/bin/python bench/check_report_bytes.py write OUT [--collection PATH] [--records 100,1000,10000]
    # every file of A and B identical, byte for byte (exit 1 and the differing files otherwise)
    .venv/bin/python bench/check_report_bytes.py compare A B

``--collection`` points at another checkout of the collection (an older commit unpacked with
``git archive``), so the old and the new code write their trees from the same inputs
(``bench_perf_report.make_doc``, written to ``--inputs``: give both runs the same directory,
since the report quotes the input paths). ``O2EDGE_PERF_STATS=pure`` in the environment makes the report
take the pure-Python path of the statistics even when NumPy is installed, and
``O2EDGE_PERF_REPORT_PROCESSES=1`` keeps a large report in one process (``_report_parallel``): compare
the trees of both ways with the older checkout's.
"""
from __future__ import annotations

import argparse
import filecmp
import json
import os
import sys
import tempfile


def _import_collection(collection):
    """Make ``ansible_collections.o2edge.perf`` the checkout at ``collection`` (a symlink in a temporary tree)."""
    tree = tempfile.mkdtemp(prefix="check-report-bytes-")
    os.makedirs(os.path.join(tree, "ansible_collections", "o2edge"))
    os.symlink(os.path.abspath(collection), os.path.join(tree, "ansible_collections", "o2edge", "perf"))
    sys.path.insert(0, tree)
    sys.path.insert(0, os.path.join(os.path.abspath(collection), "bench"))


def write(out, collection, sizes, inputs=None):
    _import_collection(collection)
    from bench_perf_report import make_doc  # pylint: disable=import-outside-toplevel,import-error
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _report  # pylint: disable=import-outside-toplevel,import-error
    inputs = inputs or os.path.join(out, "inputs")
    if not os.path.isdir(inputs):
        os.makedirs(inputs)
    for n in sizes:
        current = os.path.join(inputs, "current-%d.json" % n)
        baseline = os.path.join(inputs, "baseline-%d.json" % n)
        for path, seed, run_id in ((current, 1, "current"), (baseline, 2, "baseline")):
            with open(path, "w") as handle:
                json.dump(make_doc(n, seed, run_id), handle)
        for label, extra in (("none", {}), ("baseline", {"baseline": [baseline]})):
            dest = os.path.join(out, "%d-%s" % (n, label))
            _report.generate(dict(extra, results=[current], dest=dest, title="bench"), {}, "2026-11-28T15:00:00.000Z")
            sys.stdout.write("wrote %s\n" % dest)


def compare(first, second):
    """The relative paths that differ or exist on one side only (empty when the trees are identical)."""
    def files(root):
        found = set()
        for base, dummy, names in os.walk(root):
            for name in names:
                found.add(os.path.relpath(os.path.join(base, name), root))
        return found
    a, b = files(first), files(second)
    differ = sorted(a ^ b)
    for rel in sorted(a & b):
        if not filecmp.cmp(os.path.join(first, rel), os.path.join(second, rel), shallow=False):
            differ.append(rel)
    return differ, len(a | b)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    sub = parser.add_subparsers(dest="command", required=True)
    w = sub.add_parser("write")
    w.add_argument("out")
    w.add_argument("--collection", default=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    w.add_argument("--records", default="100,1000,10000")
    w.add_argument("--inputs", help="where the input documents are written (the same for both trees: the report "
                   "quotes their paths); default OUT/inputs")
    c = sub.add_parser("compare")
    c.add_argument("first")
    c.add_argument("second")
    args = parser.parse_args()
    if args.command == "write":
        if os.path.exists(args.out):
            parser.error("%s exists: give a new directory" % args.out)
        write(args.out, args.collection, [int(n) for n in args.records.split(",")], args.inputs)
        return 0
    differ, total = compare(args.first, args.second)
    for rel in differ:
        sys.stdout.write("differs: %s\n" % rel)
    sys.stdout.write("%d files compared, %d differ\n" % (total, len(differ)))
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
