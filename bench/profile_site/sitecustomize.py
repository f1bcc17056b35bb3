# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cProfile of every ansible-playbook process started with this folder on PYTHONPATH (bench only).

    env PYTHONPATH=bench/profile_site O2_PROFILE_DIR=/tmp/prof .venv/bin/python bench/bench_slices.py --sites 1000 \
        --variants one --rounds 1

Each ansible-playbook process (not its forked workers: they leave without running atexit) writes
``<O2_PROFILE_DIR>/playbook-<pid>.prof`` when it ends; read it with ``pstats``. Other processes are untouched.
"""
import os
import sys

_DIR = os.environ.get("O2_PROFILE_DIR")
if _DIR and "ansible-playbook" in (sys.argv[0] if sys.argv else ""):
    import atexit
    import cProfile

    _PROFILE = cProfile.Profile()
    _PROFILE.enable()
    _PID = os.getpid()

    def _dump():
        if os.getpid() == _PID:  # not in a forked worker that happens to run atexit
            _PROFILE.disable()
            _PROFILE.dump_stats(os.path.join(_DIR, "playbook-%d.prof" % _PID))

    atexit.register(_dump)
