# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runner behaviour (outcomes and bookkeeping only; nothing here asserts on durations)."""
from __future__ import annotations

import sys

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _runner as rn


def test_measure_counts_warmup_runs_and_failures():
    outcomes = iter([True, False, True, False, True])
    calls = []

    def run():
        ok = next(outcomes)
        calls.append(ok)
        return {"ok": ok, "seconds": 1.0, "rc": 0 if ok else 1, "error": "" if ok else "boom", "stderr": "e"}

    samples, failures, errors, results = rn.measure(run, runs=3, warmup=2)
    assert len(calls) == 5
    assert samples == [1.0, 1.0]
    assert failures == 1  # only the counted failure
    assert [(e["phase"], e["run"]) for e in errors] == [("warmup", 1), ("run", 1)]
    assert len(results) == 3


def test_measure_prepare_failure_is_a_failed_run():
    ran = []
    samples, failures, errors, _seconds = rn.measure(lambda: ran.append(1) or {"ok": True, "seconds": 0.1},
                                                     runs=2, warmup=0, prepare=lambda: {"error": "no", "rc": 2})
    assert ran == [] and samples == [] and failures == 2
    assert errors[0]["error"] == "prepare failed: no" and errors[0]["rc"] == 2


def test_measure_rejects_bad_counts():
    with pytest.raises(ValueError):
        rn.measure(lambda: {"ok": True, "seconds": 0}, runs=0)
    with pytest.raises(ValueError):
        rn.measure(lambda: {"ok": True, "seconds": 0}, runs=1, warmup=-1)


def test_run_once_success_failure_and_stderr_tail():
    ok = rn.run_once([sys.executable, "-c", "print('x')"], capture_stdout=True)
    assert ok["ok"] and ok["rc"] == 0 and ok["stdout"].strip() == "x" and ok["seconds"] >= 0
    bad = rn.run_once([sys.executable, "-c", "import sys; sys.stderr.write('broken'); sys.exit(4)"])
    assert not bad["ok"] and bad["rc"] == 4 and bad["stderr"] == "broken"
    assert "exit status 4" in bad["error"]
    expected = rn.run_once([sys.executable, "-c", "import sys; sys.exit(4)"], expect_rc=(0, 4))
    assert expected["ok"]


def test_run_once_timeout_kills_group():
    res = rn.run_once(["/bin/sh", "-c", "sleep 30 & sleep 30"], timeout=0.2)
    assert not res["ok"] and res["rc"] is None
    assert "timed out" in res["error"]


def test_run_once_missing_program():
    res = rn.run_once(["/nonexistent/program"])
    assert not res["ok"] and "cannot start" in res["error"]


def test_build_argv_and_env():
    assert rn.build_argv(["git", "status"]) == ["git", "status"]
    assert rn.build_argv("echo $HOME | wc", shell=True) == ["/bin/sh", "-c", "echo $HOME | wc"]
    with pytest.raises(TypeError):
        rn.build_argv("git status")
    env = rn.child_env({"A": 1, "B": None}, base={"B": "x", "C": "y"})
    assert env == {"A": "1", "C": "y"}


def test_bench_command_with_prepare(tmp_path):
    marker = tmp_path / "count"
    samples, failures, errors, argv = rn.bench_command(
        ["/bin/sh", "-c", "test -f %s" % marker], runs=3, warmup=1, prepare="touch %s" % marker)
    assert failures == 0 and len(samples) == 3 and errors == []
