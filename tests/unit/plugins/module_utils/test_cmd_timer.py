# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Runner behaviour: outcomes, bookkeeping, and the timing path (lower bounds and ordering only;
no tight upper bound on a duration, machines are noisy)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import types

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _cmd_timer as rn


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


# --- tightened after mutation testing (see .build/mutation/triage-runner.md) ---------------------

def _refuses(params):
    with pytest.raises(rn.CommandError) as err:
        rn.command_from_params(params)
    return str(err.value)


def test_command_argument_spec_is_the_shared_one():
    # every module that runs a command gets these options, with these types and defaults
    assert rn.command_argument_spec() == dict(
        argv=dict(type="list", elements="str"),
        cmd=dict(type="str"),
        shell=dict(type="bool", default=False),
        chdir=dict(type="path"),
        environment=dict(type="dict", default={}),
        timeout=dict(type="float", default=600),
    )


def test_build_argv_joins_a_list_with_spaces_for_the_shell():
    assert rn.build_argv(["echo", "a", "b"], shell=True) == ["/bin/sh", "-c", "echo a b"]
    assert rn.build_argv(("echo", "a"), shell=True) == ["/bin/sh", "-c", "echo a"]
    assert rn.build_argv(["echo", 3]) == ["echo", "3"]


def test_build_argv_refuses_a_string_without_shell_with_a_whole_message():
    with pytest.raises(TypeError) as err:
        rn.build_argv("git status")
    assert re.fullmatch(r"command must be a list of arguments when shell is false", str(err.value))


@pytest.mark.parametrize("params,message", [
    ({"argv": []}, r"argv must not be empty"),
    ({"cmd": "  "}, r"cmd must not be empty"),
    ({"shell": True}, r"shell=true needs cmd \(a string\)"),
    ({"cmd": None, "shell": True}, r"shell=true needs cmd \(a string\)"),
    ({"argv": ["true"], "shell": True}, r"shell=true needs cmd \(a string\), not argv"),
    ({"cmd": "echo 'unterminated"},
     r"cmd \"echo 'unterminated\" cannot be split into arguments: No closing quotation"),
    ({"argv": ["true"], "cmd": "true"}, r"argv and cmd are mutually exclusive"),
    ({"argv": ["true"], "chdir": "/nonexistent/dir"}, r"chdir /nonexistent/dir is not a directory"),
])
def test_command_from_params_refuses_with_the_whole_message(params, message):
    assert re.fullmatch(message, _refuses(params)), _refuses(params)


def test_run_once_success_result_is_complete_and_stdout_not_captured_by_default():
    res = rn.run_once([sys.executable, "-c", "print('x')"])
    seconds = res.pop("seconds")
    assert seconds >= 0
    assert res == {"ok": True, "rc": 0, "error": "", "stderr": "", "stdout": ""}


def test_run_once_captured_stdout_replaces_bad_utf8():
    res = rn.run_once([sys.executable, "-c", "import sys; sys.stdout.buffer.write(b'a\\xffb')"],
                      capture_stdout=True)
    assert res["ok"] and res["stdout"] == u"a\ufffdb"


def test_run_sampled_does_not_capture_stdout():
    res = rn.run_sampled([sys.executable, "-c", "print('noise')"], lambda stop: stop.wait() and None)
    assert res["ok"] and res["stdout"] == "" and res["sampled"] is None


def test_run_once_missing_program_result_is_complete_with_a_whole_message():
    res = rn.run_once(["/nonexistent/program"])
    assert res == {"ok": False, "seconds": None, "rc": None, "stderr": "", "stdout": "",
                   "error": "cannot start /nonexistent/program: No such file or directory"}


def test_run_once_does_not_leak_inheritable_descriptors():
    read_fd, write_fd = os.pipe()
    try:
        os.set_inheritable(write_fd, True)
        code = "import os, sys\ntry:\n    os.fstat(%d)\nexcept OSError:\n    sys.exit(7)\n" % write_fd
        res = rn.run_once([sys.executable, "-c", code], expect_rc=(7,))
        assert res["ok"], "the child saw the parent's descriptor %d: %r" % (write_fd, res)
    finally:
        os.close(read_fd)
        os.close(write_fd)


def test_run_once_timeout_message_names_the_timeout():
    res = rn.run_once(["sleep", "30"], timeout=0.2)
    assert re.fullmatch(r"timed out after 0\.2s \(process group killed\)", res["error"])
    assert res["rc"] is None and res["seconds"] >= 0.2


def test_run_once_rc_zero_not_expected_is_an_exit_status_error():
    res = rn.run_once(["true"], expect_rc=(1,))
    assert not res["ok"] and res["rc"] == 0
    assert re.fullmatch(r"exit status 0 \(expected 1\)", res["error"])


def test_run_once_exit_status_message_lists_every_expected_code():
    res = rn.run_once([sys.executable, "-c", "import sys; sys.exit(4)"], expect_rc=(0, 3))
    assert not res["ok"] and res["rc"] == 4
    assert re.fullmatch(r"exit status 4 \(expected 0, 3\)", res["error"])


def test_run_once_killed_by_a_signal_names_the_signal():
    res = rn.run_once(["/bin/sh", "-c", "kill -TERM $$"])
    assert not res["ok"] and res["rc"] == -signal.SIGTERM
    assert re.fullmatch(r"killed by signal 15", res["error"])


def test_run_once_kills_the_group_when_interrupted(monkeypatch):
    started = []
    real_popen = subprocess.Popen

    class InterruptedPopen(real_popen):
        calls = 0

        def __init__(self, *args, **kwargs):
            super(InterruptedPopen, self).__init__(*args, **kwargs)
            started.append(self.pid)

        def wait(self, timeout=None):
            InterruptedPopen.calls += 1
            if InterruptedPopen.calls == 1:
                raise KeyboardInterrupt()
            return super(InterruptedPopen, self).wait(timeout)

    monkeypatch.setattr(rn, "subprocess", types.SimpleNamespace(Popen=InterruptedPopen, DEVNULL=subprocess.DEVNULL))
    try:
        with pytest.raises(KeyboardInterrupt):
            rn.run_once(["sleep", "30"])
        assert len(started) == 1
        assert _wait_gone(started) == [], "the command outlived the interrupt"
    finally:
        for pid in started:
            if not _gone(pid):
                os.kill(pid, signal.SIGKILL)


def test_measure_default_is_no_warmup():
    calls = []
    samples, failures, errors, results = rn.measure(lambda: calls.append(1) or {"ok": True, "seconds": 0.5}, runs=1)
    assert calls == [1] and samples == [0.5] and failures == 0 and errors == []
    assert results == [{"ok": True, "seconds": 0.5}]


def test_measure_rejects_bad_counts_with_whole_messages():
    with pytest.raises(ValueError) as err:
        rn.measure(lambda: {"ok": True, "seconds": 0}, runs=0)
    assert re.fullmatch(r"runs must be at least 1, got 0", str(err.value))
    with pytest.raises(ValueError) as err:
        rn.measure(lambda: {"ok": True, "seconds": 0}, runs=1, warmup=-1)
    assert re.fullmatch(r"warmup must be 0 or more, got -1", str(err.value))


def test_measure_prepare_failure_entry_is_complete():
    problems = iter([{"error": "no", "rc": 2, "stderr": "why"}, {"rc": 1}, None])
    samples, failures, errors, results = rn.measure(
        lambda: {"ok": True, "seconds": 0.25}, runs=2, warmup=1, prepare=lambda: next(problems))
    assert errors == [
        {"phase": "warmup", "run": 0, "rc": 2, "seconds": None, "error": "prepare failed: no", "stderr": "why"},
        {"phase": "run", "run": 0, "rc": 1, "seconds": None, "error": "prepare failed: unknown error",
         "stderr": ""},
    ]
    assert failures == 1 and samples == [0.25]
    assert results == [dict(errors[1], ok=False), {"ok": True, "seconds": 0.25}]


def test_measure_failed_run_entry_keeps_extra_keys_and_rounds_seconds():
    outcomes = iter([
        {"ok": False, "seconds": 1.23456789, "rc": 3, "error": "boom", "stderr": "e", "stdout": "out",
         "sampled": {"cpu": [1.0]}},
        {"ok": False, "seconds": None, "rc": None, "error": "cannot start x", "stderr": "", "stdout": ""},
    ])
    samples, failures, errors, results = rn.measure(lambda: next(outcomes), runs=2)
    assert errors == [
        {"phase": "run", "run": 0, "rc": 3, "seconds": 1.234568, "error": "boom", "stderr": "e",
         "sampled": {"cpu": [1.0]}},
        {"phase": "run", "run": 1, "rc": None, "seconds": None, "error": "cannot start x", "stderr": ""},
    ]
    assert failures == 2 and samples == [] and results[0]["seconds"] == 1.23456789


def test_bench_command_default_is_no_warmup(tmp_path):
    log = tmp_path / "log"
    samples, failures, errors, argv = rn.bench_command("echo x >> %s" % log, runs=1, shell=True)
    assert log.read_text() == "x\n" and len(samples) == 1 and failures == 0
    assert argv == ["/bin/sh", "-c", "echo x >> %s" % log]


def test_bench_command_list_prepare_runs_without_a_shell(tmp_path):
    # joined for a shell, this prepare would be a syntax error: a list is an argv
    marker = tmp_path / "a b"
    samples, failures, errors, _argv = rn.bench_command(
        ["test", "-f", str(marker)], runs=1, prepare=[sys.executable, "-c", "open(%r, 'w').close()" % str(marker)])
    assert failures == 0 and errors == [] and len(samples) == 1


def test_bench_command_merges_the_environment(monkeypatch):
    monkeypatch.setenv("O2_RUNNER_KEEP", "kept")
    monkeypatch.setenv("O2_RUNNER_DROP", "present")
    cmd = 'test "$O2_RUNNER_SET" = 5 && test "$O2_RUNNER_KEEP" = kept && test -z "${O2_RUNNER_DROP+x}"'
    samples, failures, errors, _argv = rn.bench_command(
        cmd, runs=1, shell=True, environment={"O2_RUNNER_SET": 5, "O2_RUNNER_DROP": None})
    assert failures == 0 and errors == [], errors


def test_run_sampled_runs_the_sampler_in_a_named_daemon_thread():
    # a daemon thread: a sampler that ignores ``stop`` cannot keep the module's process alive
    # after an interrupt; the name tells it apart in a thread dump
    seen = {}

    def sampler(stop):
        thread = threading.current_thread()
        seen.update(name=thread.name, daemon=thread.daemon)
        stop.wait()

    assert rn.run_sampled(["true"], sampler)["ok"]
    assert seen == {"name": "o2edge-sampler", "daemon": True}


def test_run_once_empty_argv_is_refused_by_popen():
    # build_argv/command_from_params never give an empty argv; Popen refuses one before any OSError
    with pytest.raises(IndexError):
        rn.run_once([])
