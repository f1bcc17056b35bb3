# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runner behaviour: outcomes, bookkeeping, and the timing path (lower bounds and ordering only;
no tight upper bound on a duration, machines are noisy)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import types

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


def _gone(pid):
    """True when ``pid`` no longer runs (no /proc entry, or a zombie waiting to be reaped)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            state = handle.read().rpartition(")")[2].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def _wait_gone(pids, grace=3.0):
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and not all(_gone(p) for p in pids):
        time.sleep(0.02)
    return [p for p in pids if not _gone(p)]


def test_run_once_timeout_kills_every_process_of_the_group(tmp_path):
    # the leader execs a sleep after starting another one in the background: killing only the
    # leader would leave the background sleep running for 30 s
    pidfile = tmp_path / "pids"
    script = "sleep 30 & echo $! > {f}; echo $$ >> {f}; exec sleep 30".format(f=pidfile)
    res = rn.run_once(["/bin/sh", "-c", script], timeout=0.3)
    pids = [int(line) for line in pidfile.read_text().split()]
    try:
        assert len(pids) == 2, "the command did not write both PIDs: %r" % pids
        assert not res["ok"] and "timed out" in res["error"]
        assert _wait_gone(pids) == [], "still running after the timeout: %r" % pids
    finally:
        for pid in pids:  # never leave a sleep behind when the test fails
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_run_once_measures_the_real_time():
    res = rn.run_once(["sleep", "0.2"])
    assert res["ok"]
    assert 0.2 <= res["seconds"] < 1.0


def test_run_once_times_are_ordered():
    short = rn.run_once(["sleep", "0.05"])
    long_ = rn.run_once(["sleep", "0.3"])
    assert short["ok"] and long_["ok"]
    assert short["seconds"] >= 0.05 and long_["seconds"] >= 0.3
    assert long_["seconds"] > short["seconds"]


def _instrument(monkeypatch, events):
    """Log the runner's clock reads, spawns and reaps, in order, into ``events``."""
    real_popen = subprocess.Popen

    class LoggedPopen(real_popen):
        def __init__(self, *args, **kwargs):
            events.append("spawn")
            super(LoggedPopen, self).__init__(*args, **kwargs)

        def wait(self, timeout=None):
            rc = super(LoggedPopen, self).wait(timeout)
            events.append("reaped")
            return rc

    def monotonic():
        events.append("clock")
        return time.monotonic()

    monkeypatch.setattr(rn, "time", types.SimpleNamespace(monotonic=monotonic))
    monkeypatch.setattr(rn, "subprocess", types.SimpleNamespace(Popen=LoggedPopen, DEVNULL=subprocess.DEVNULL))


@pytest.mark.parametrize("timeout", [None, 30])
def test_clock_starts_before_spawn_and_stops_after_reap(monkeypatch, timeout):
    events = []
    _instrument(monkeypatch, events)
    res = rn.run_once(["sleep", "0.1"], timeout=timeout)
    assert res["ok"] and res["seconds"] >= 0.1
    assert events[:4] == ["clock", "spawn", "reaped", "clock"]


def test_run_sampled_uses_the_same_timing_path(monkeypatch):
    events = []
    _instrument(monkeypatch, events)

    def sampler(stop):
        events.append("sampler started")
        stop.wait()
        return {"stopped": True}

    res = rn.run_sampled(["sleep", "0.1"], sampler)
    assert res["ok"] and res["seconds"] >= 0.1 and res["sampled"] == {"stopped": True}
    # the sampler thread is started before the clock (its start is not measured)
    assert events.index("clock") < events.index("spawn") < events.index("reaped")
    assert events[events.index("spawn"):events.index("spawn") + 3] == ["spawn", "reaped", "clock"]


def test_run_sampled_stops_the_sampler_when_the_command_ends():
    seen = {}

    def sampler(stop):
        start = time.monotonic()
        seen["set_at_start"] = stop.is_set()
        stop.wait()
        return {"waited": time.monotonic() - start, "thread": threading.current_thread().name}

    res = rn.run_sampled([sys.executable, "-c", "import time; time.sleep(0.2)"], sampler)
    assert res["ok"] and res["rc"] == 0 and seen["set_at_start"] is False
    assert res["sampled"]["waited"] >= 0.2 and res["sampled"]["thread"] != threading.current_thread().name


def test_run_sampled_failure_timeout_and_missing_program():
    def sampler(stop):
        stop.wait()
        return {"cpu": []}

    bad = rn.run_sampled([sys.executable, "-c", "import sys; sys.stderr.write('no'); sys.exit(3)"], sampler)
    assert not bad["ok"] and bad["rc"] == 3 and "exit status 3" in bad["error"] and bad["stderr"] == "no"
    assert bad["sampled"] == {"cpu": []}
    slow = rn.run_sampled(["sleep", "30"], sampler, timeout=0.2)
    assert not slow["ok"] and "timed out" in slow["error"] and slow["sampled"] == {"cpu": []}
    missing = rn.run_sampled(["/nonexistent/x"], sampler)
    assert not missing["ok"] and "cannot start" in missing["error"] and missing["sampled"] == {"cpu": []}


def test_run_sampled_raises_the_samplers_error_after_reaping():
    def sampler(stop):
        raise RuntimeError("no /proc")

    with pytest.raises(RuntimeError, match="no /proc"):
        rn.run_sampled(["true"], sampler)


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


@pytest.mark.parametrize("params,expected", [
    ({"argv": ["git", "status"]}, (["git", "status"], "git status")),
    ({"argv": ["echo", "a b"]}, (["echo", "a b"], "echo 'a b'")),
    ({"cmd": "echo 'a b' c"}, (["echo", "a b", "c"], "echo 'a b' c")),
    ({"cmd": "echo $HOME | wc", "shell": True}, (["/bin/sh", "-c", "echo $HOME | wc"], "echo $HOME | wc")),
    ({"shell": False}, (None, None)),
    ({"argv": ["true"], "chdir": "/"}, (["true"], "true")),
])
def test_command_from_params(params, expected):
    assert rn.command_from_params(params) == expected


@pytest.mark.parametrize("params,message", [
    ({"argv": []}, "argv must not be empty"),
    ({"cmd": "  "}, "cmd must not be empty"),
    ({"shell": True}, "shell=true needs cmd (a string)"),
    ({"argv": ["true"], "shell": True}, "shell=true needs cmd (a string), not argv"),
    ({"cmd": "echo 'unterminated"}, "cmd \"echo 'unterminated\" cannot be split into arguments"),
    ({"argv": ["true"], "cmd": "true"}, "argv and cmd are mutually exclusive"),
    ({"argv": ["true"], "chdir": "/nonexistent/dir"}, "chdir /nonexistent/dir is not a directory"),
])
def test_command_from_params_refuses(params, message):
    with pytest.raises(rn.CommandError) as err:
        rn.command_from_params(params)
    assert message in str(err.value)


def test_bench_command_with_prepare(tmp_path):
    marker = tmp_path / "count"
    samples, failures, errors, argv = rn.bench_command(
        ["/bin/sh", "-c", "test -f %s" % marker], runs=3, warmup=1, prepare="touch %s" % marker)
    assert failures == 0 and len(samples) == 3 and errors == []
