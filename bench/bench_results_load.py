# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CPU of loading one results file, stage by stage, best of 5 rounds in this process (bench only).

    .venv/bin/python bench/bench_results_load.py [--collection PATH] FILE

Stages: ``json.loads`` of the text, ``_results_doc.validate``, the checked masking walk
(``_mask.mask_in_place_checked``, each round on a fresh parse), and the whole ``_results_doc.load``.
``--collection`` times another checkout's code (``git archive REV | tar -x -C PATH``) for a side-by-side
figure; FILE is a results file such as ``check_report_bytes.py write``'s ``inputs/current-10000.json``.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time

ROUNDS = 5


def _import(collection):
    tree = tempfile.mkdtemp(prefix="bench-results-load-")
    os.makedirs(os.path.join(tree, "ansible_collections", "o2edge"))
    os.symlink(os.path.abspath(collection), os.path.join(tree, "ansible_collections", "o2edge", "perf"))
    sys.path.insert(0, tree)
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _mask, _results_doc  # pylint: disable=import-outside-toplevel,import-error
    return _mask, _results_doc


def best(func, prepare=lambda: None):
    """The least CPU time of ROUNDS calls of ``func(prepare())`` (``prepare`` untimed)."""
    out = None
    for dummy in range(ROUNDS):
        arg = prepare()
        start = time.process_time()
        func(arg)
        spent = time.process_time() - start
        out = spent if out is None else min(out, spent)
    return out


def main(argv):
    collection = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if argv[:1] == ["--collection"]:
        collection, argv = argv[1], argv[2:]
    if len(argv) != 1:
        sys.exit("usage: bench_results_load.py [--collection PATH] FILE")
    mask, results_doc = _import(collection)
    path = argv[0]
    with open(path) as handle:
        text = handle.read()
    figures = {
        "json.loads": best(lambda _a: json.loads(text)),
        "validate": best(lambda doc: results_doc.validate(doc, path), lambda: json.loads(text)),
        "masking walk": best(lambda doc: mask.mask_in_place_checked(doc, results_doc.MAX_DEPTH), lambda: json.loads(text)),
        "load (whole)": best(lambda _a: results_doc.load(path)),
    }
    for name, seconds in figures.items():
        print("%-14s %.3f s" % (name, seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
