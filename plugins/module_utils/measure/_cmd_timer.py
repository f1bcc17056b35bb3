# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one home for running a measured command: W warm-up and N counted runs, timed with a
monotonic clock.

* argv is executed directly (no shell) unless ``shell=True`` is asked for, then
  ``/bin/sh -c STRING``. :func:`command_from_params` turns the shared module options
  (:func:`command_argument_spec`) into that argv, for every module that runs a command.
* stdout goes to /dev/null (as hyperfine's default ``--output=null``) unless captured;
  stderr goes to an unnamed temporary file, so that no pipe has to be drained while the
  clock runs, and its tail is kept for the error entry of a failed run.
* The clock is ``time.monotonic()`` (CLOCK_MONOTONIC on Linux, nanosecond resolution),
  started right before the process is spawned and stopped when it has been reaped; the
  wait blocks in waitpid, so the end of the command is seen at once (``Popen.wait(timeout)``
  polls with sleeps growing to 50 ms).
* A per-run timeout kills the whole process group (the command runs in its own session),
  so that children the command started do not outlive it.
* :func:`run_sampled` runs a command the same way while a sampler (for example CPU and
  memory utilization) runs in a thread; the sampler is started before the clock.
* ``prepare`` runs before every run (warm-up and counted), untimed, like hyperfine's
  ``--prepare``; if it fails, that run is counted as failed and the command is not run.
* Failed runs are counted and their errors kept (never dropped).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import tempfile
import threading
import time

from ansible_collections.o2edge.perf.plugins.module_utils._record import tail

SHELL = "/bin/sh"


class CommandError(ValueError):
    """A command given by module options that cannot be run; the message names the option."""


def command_argument_spec():
    """The argument spec of a command to run (argv or cmd, shell, chdir, environment, timeout),
    shared by the modules that run one; each module documents it in its own words."""
    return dict(
        argv=dict(type="list", elements="str"),
        cmd=dict(type="str"),
        shell=dict(type="bool", default=False),
        chdir=dict(type="path"),
        environment=dict(type="dict", default={}),
        timeout=dict(type="float", default=600),
    )


def build_argv(command, shell=False):
    """argv for ``command`` (a list, or a string when ``shell`` is true)."""
    if shell:
        if isinstance(command, (list, tuple)):
            command = " ".join(command)
        return [SHELL, "-c", command]
    if isinstance(command, str):
        raise TypeError("command must be a list of arguments when shell is false")
    return [str(a) for a in command]


def command_from_params(params):
    """``(argv, shown)`` of the command given by the options of :func:`command_argument_spec`.

    ``argv`` is what is executed: the ``argv`` list as given, ``cmd`` split like a shell would
    (``shlex``), or ``/bin/sh -c cmd`` with ``shell``; ``shown`` is the command as a person
    reads it (``cmd`` as given, or ``argv`` shell-quoted). Returns ``(None, None)`` when neither
    ``argv`` nor ``cmd`` is given. Raises :class:`CommandError` for an empty ``argv`` or
    ``cmd``, ``shell`` without ``cmd``, a ``cmd`` that cannot be split, or a ``chdir`` that
    is not a directory.
    """
    argv, cmd, shell, chdir = params.get("argv"), params.get("cmd"), params.get("shell"), params.get("chdir")
    if shell and cmd is None:
        raise CommandError("shell=true needs cmd (a string)%s" % (", not argv" if argv is not None else ""))
    if argv is not None and cmd is not None:
        raise CommandError("argv and cmd are mutually exclusive")
    if chdir is not None and not os.path.isdir(chdir):
        raise CommandError("chdir %s is not a directory" % chdir)
    if argv is not None:
        if not argv:
            raise CommandError("argv must not be empty")
        return build_argv(argv), " ".join(shlex.quote(str(a)) for a in argv)
    if cmd is None:
        return None, None
    if not cmd.strip():
        raise CommandError("cmd must not be empty")
    if shell:
        return build_argv(cmd, True), cmd
    try:
        return shlex.split(cmd), cmd
    except ValueError as exc:
        raise CommandError("cmd %r cannot be split into arguments: %s" % (cmd, exc))


def child_env(environment=None, base=None):
    env = dict(os.environ if base is None else base)
    for key, value in (environment or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[str(key)] = str(value)
    return env


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        try:
            proc.kill()
        except OSError:
            pass


class _Sampler(object):
    """Runs ``sampler(stop)`` in a daemon thread; ``stop`` is set when the command ended."""

    def __init__(self, sampler):
        self.stop = threading.Event()
        self.result = None
        self.exc = None
        self._fn = sampler
        self._thread = threading.Thread(target=self._run, name="o2edge-sampler")
        self._thread.daemon = True

    def _run(self):
        try:
            self.result = self._fn(self.stop)
        except Exception as exc:  # re-raised in the caller's thread by finish()
            self.exc = exc

    def start(self):
        self._thread.start()

    def finish(self):
        self.stop.set()
        self._thread.join()
        if self.exc is not None:
            raise self.exc
        return self.result


def _run(argv, cwd=None, env=None, timeout=None, expect_rc=(0,), capture_stdout=False, sampler=None):
    """The one timing path of :func:`run_once` and :func:`run_sampled`."""
    result = {"ok": False, "seconds": None, "rc": None, "error": "", "stderr": "", "stdout": ""}
    expired = threading.Event()
    watcher = _Sampler(sampler) if sampler is not None else None
    with tempfile.TemporaryFile() as err_file:
        out_file = tempfile.TemporaryFile() if capture_stdout else None
        try:
            if watcher is not None:
                watcher.start()  # before the clock: the thread start is not measured
            try:
                start = time.monotonic()
                try:
                    proc = subprocess.Popen(
                        argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                        stdout=out_file if out_file is not None else subprocess.DEVNULL,
                        stderr=err_file, start_new_session=True, close_fds=True)
                except OSError as exc:  # an empty argv never gets here: Popen raises IndexError
                    result["error"] = "cannot start %s: %s" % (argv[0], exc.strerror or exc)
                    return result

                def _expire():
                    if proc.returncode is None:
                        expired.set()
                        _kill_group(proc)

                timer = None
                if timeout:
                    timer = threading.Timer(timeout, _expire)
                    timer.daemon = True
                    timer.start()
                try:
                    rc = proc.wait()
                    seconds = time.monotonic() - start
                finally:
                    if timer is not None:
                        timer.cancel()
                    # never leave a child behind, even on KeyboardInterrupt
                    if proc.poll() is None:
                        _kill_group(proc)
                        proc.wait()
            finally:
                if watcher is not None:
                    result["sampled"] = watcher.finish()
            result["seconds"] = seconds
            err_file.seek(0)
            result["stderr"] = tail(err_file.read())
            if expired.is_set():
                result["error"] = "timed out after %ss (process group killed)" % (timeout,)
                return result
            result["rc"] = rc
            if out_file is not None:
                out_file.seek(0)
                result["stdout"] = out_file.read().decode("utf-8", "replace")
            if rc in expect_rc:
                result["ok"] = True
            elif rc < 0:
                result["error"] = "killed by signal %d" % -rc
            else:
                result["error"] = "exit status %d (expected %s)" % (rc, ", ".join(str(c) for c in expect_rc))
            return result
        finally:
            if out_file is not None:
                out_file.close()


def run_once(argv, cwd=None, env=None, timeout=None, expect_rc=(0,), capture_stdout=False):
    """Run ``argv`` once; return a dict with ok, seconds, rc, error, stderr (tail), stdout.

    ``env`` is the complete environment of the child (see :func:`child_env`). ``seconds`` is
    the wall time from right before the spawn to the reaping of the process, also for a failed
    or timed-out run (None when the command could not be started). A timer thread kills the
    process group when ``timeout`` expires.
    """
    return _run(argv, cwd=cwd, env=env, timeout=timeout, expect_rc=expect_rc, capture_stdout=capture_stdout)


def run_sampled(argv, sampler, cwd=None, env=None, timeout=None, expect_rc=(0,)):
    """Run ``argv`` once, timed exactly as :func:`run_once`, while ``sampler`` runs.

    ``sampler(stop)`` is called in a thread started before the clock; ``stop`` is a
    ``threading.Event`` set as soon as the command has ended (after the clock stopped), and the
    sampler is expected to return soon after it. Its return value is the result's ``sampled``
    (it is also returned for a failed run; a sampler's exception is raised here once the
    command has been reaped).
    """
    return _run(argv, cwd=cwd, env=env, timeout=timeout, expect_rc=expect_rc, sampler=sampler)


def measure(run, runs, warmup=0, prepare=None):
    """Drive ``warmup`` + ``runs`` calls of ``run()``.

    ``run()`` returns a dict with at least ``ok`` and ``seconds``; ``prepare()`` (optional)
    returns None on success or an error dict (with ``error``). Returns
    ``(samples, failures, errors, results)`` where ``results`` holds every counted run's dict.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1, got %r" % (runs,))
    if warmup < 0:
        raise ValueError("warmup must be 0 or more, got %r" % (warmup,))
    side = Series()
    for i in range(warmup + runs):
        counted = i >= warmup
        side.step(run, prepare, "run" if counted else "warmup", i - warmup if counted else i)
    return side.samples, side.failures, side.errors, side.results


class Series(object):
    """The samples, failures, errors and counted results of one measured thing, run by run."""

    def __init__(self):
        self.samples, self.rounds, self.errors, self.results = [], [], [], []
        self.failures = 0

    def step(self, run, prepare, phase, index, round_index=None):
        """One run (``phase`` warmup or run, ``index`` within the phase); ``round_index`` (paired
        designs) is kept with the sample in ``rounds`` and in the error entry of a failed run."""
        counted = phase == "run"
        where = {"phase": phase, "run": index}
        if round_index is not None:
            where["round"] = round_index
        if prepare is not None:
            problem = prepare()
            if problem:
                entry = dict(where, rc=problem.get("rc"), seconds=None,
                             error="prepare failed: %s" % problem.get("error", "unknown error"),
                             stderr=problem.get("stderr", ""))
                self.errors.append(entry)
                if counted:
                    self.failures += 1
                    self.results.append(dict(entry, ok=False))
                return
        res = run()
        if counted:
            self.results.append(res)
        if res.get("ok"):
            if counted:
                self.samples.append(res["seconds"])
                self.rounds.append(index if round_index is None else round_index)
            return
        entry = dict(where)
        for key in ("rc", "seconds", "error", "stderr"):
            entry[key] = res.get(key)
        if entry["seconds"] is not None:
            entry["seconds"] = round(entry["seconds"], 6)
        for key, value in res.items():
            if key not in entry and key not in ("ok", "stdout"):
                entry[key] = value
        self.errors.append(entry)
        if counted:
            self.failures += 1


PAIR_ORDER = "ABBA"


def pair_schedule(runs, warmup=0):
    """The interleaved order of a paired measurement of two configurations ``a`` and ``b``.

    A list of ``(phase, index, side)``: ``warmup`` warm-up runs of each side, then ``runs`` counted
    rounds, each round one run of each side. The order within a pair alternates (ABBA...: round 0 is
    a then b, round 1 b then a, ...), warm-ups included, so that a load change or an order effect
    (the first of two runs warming a cache for the second) falls on both sides alike. Both sides run
    in the same time window: what changed on the machine between rounds changes both.
    """
    if runs < 1:
        raise ValueError("runs must be at least 1, got %r" % (runs,))
    if warmup < 0:
        raise ValueError("warmup must be 0 or more, got %r" % (warmup,))
    out = []
    for phase, count in (("warmup", warmup), ("run", runs)):
        for index in range(count):
            first, second = ("a", "b") if index % 2 == 0 else ("b", "a")
            out.append((phase, index, first))
            out.append((phase, index, second))
    return out


def measure_pair(run_a, run_b, runs, warmup=0, prepare=None):
    """Measure ``run_a`` and ``run_b`` interleaved (:func:`pair_schedule`), as :func:`measure` does one.

    Returns ``{"a": side, "b": side, "schedule": [...]}``; each side is a dict with samples,
    rounds (the round index of each sample, aligned with samples: a failed run leaves its round
    out, so the samples after it keep their round and pair by round index, not by position),
    failures, errors (with ``round``) and results (the counted runs' dicts).
    """
    schedule = pair_schedule(runs, warmup)
    sides = {"a": Series(), "b": Series()}
    runners = {"a": run_a, "b": run_b}
    for phase, index, side in schedule:
        sides[side].step(runners[side], prepare, phase, index, index if phase == "run" else None)
    out = {"schedule": schedule}
    for key, side in sides.items():
        out[key] = {"samples": side.samples, "rounds": side.rounds, "failures": side.failures,
                    "errors": side.errors, "results": side.results}
    return out


def _prepare_and_env(prepare, prepare_shell, cwd, environment, timeout):
    env = child_env(environment)
    prepare_fn = None
    if prepare:
        prepare_argv = build_argv(prepare, prepare_shell or isinstance(prepare, str))

        def _prepare():
            res = run_once(prepare_argv, cwd=cwd, env=env, timeout=timeout)
            return None if res["ok"] else res

        prepare_fn = _prepare
    return env, prepare_fn


def bench_command(command, runs, warmup=0, shell=False, cwd=None, environment=None, timeout=None,
                  prepare=None, prepare_shell=False, expect_rc=(0,)):
    """Benchmark one command; returns ``(samples, failures, errors, argv)``."""
    argv = build_argv(command, shell)
    env, prepare_fn = _prepare_and_env(prepare, prepare_shell, cwd, environment, timeout)

    def run():
        return run_once(argv, cwd=cwd, env=env, timeout=timeout, expect_rc=tuple(expect_rc))

    samples, failures, errors, _results = measure(run, runs, warmup, prepare_fn)
    return samples, failures, errors, argv


def bench_pair(argv_a, argv_b, runs, warmup=0, cwd=None, environment=None, timeout=None,
               prepare=None, prepare_shell=False, expect_rc=(0,)):
    """Benchmark two commands interleaved (:func:`measure_pair`), same cwd, environment, timeout,
    prepare (run before every run of either side) and expected exit statuses."""
    env, prepare_fn = _prepare_and_env(prepare, prepare_shell, cwd, environment, timeout)

    def runner(argv):
        return lambda: run_once(argv, cwd=cwd, env=env, timeout=timeout, expect_rc=tuple(expect_rc))

    return measure_pair(runner(list(argv_a)), runner(list(argv_b)), runs, warmup, prepare_fn)
