# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_fast_stats.numpy_module: NumPy loaded with one OpenBLAS thread, the environment left as it was.

Each case imports NumPy in a fresh process (an import happens once per process) and counts the process's
threads right after: OpenBLAS starts its threads when NumPy loads it."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _fast_stats

pytest.importorskip("numpy")

# the folder holding ansible_collections/ (this tree's import path, unresolved: perf may be a link)
IMPORT_ROOT = os.path.abspath(os.path.join(os.path.dirname(_fast_stats.__file__), *[os.pardir] * 5))
PROBE = """
import json, os, sys
sys.path.insert(0, sys.argv[1])
from ansible_collections.o2edge.perf.plugins.plugin_utils import _fast_stats
np = _fast_stats.numpy_module()
print(json.dumps({"numpy": np is not None, "threads": len(os.listdir("/proc/self/task")),
                  "env": os.environ.get("OPENBLAS_NUM_THREADS")}))
"""


def _after_import(**env):
    clean = dict((k, v) for k, v in os.environ.items() if k not in ("OPENBLAS_NUM_THREADS", _fast_stats.ENV_STATS))
    clean.update(env)
    out = subprocess.run([sys.executable, "-c", PROBE, IMPORT_ROOT], env=clean, stdout=subprocess.PIPE,
                         universal_newlines=True, check=True, timeout=120)
    return json.loads(out.stdout)


def test_numpy_is_loaded_with_one_blas_thread_and_the_environment_is_put_back():
    """Bugs: OpenBLAS left to start a thread per CPU (they spin on the CPU the report's second process needs);
    the variable left set for every process this one starts later."""
    got = _after_import()
    assert got == {"numpy": True, "threads": 1, "env": None}


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="OpenBLAS starts no second thread on one CPU")
def test_an_operators_own_thread_count_is_kept():
    """Bug: the operator's OPENBLAS_NUM_THREADS overwritten or removed. Also the control of the case above: with
    two threads asked for, the count of threads does show OpenBLAS's own."""
    got = _after_import(OPENBLAS_NUM_THREADS="2")
    assert got["numpy"] and got["env"] == "2" and got["threads"] >= 2
