# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controls and host state: what no optimization touches, measured next to what it does.

A before/after comparison credits the optimization with whatever changed between the passes. A
control that nothing optimizes (a fixed CPU loop, a page-cache read, a git status) moves only when
the machine changed; host state (load, CPU steal, CPU frequency) says how. Both are records of the
one shape (component ``control`` and ``host_state``), so the report can put them beside the
verdicts.

* ``control/cpu_calibration``: a deterministic pure-Python loop of fixed work (a linear
  congruential generator, ``iterations`` steps; tens of milliseconds), timed with the monotonic clock.
* ``control/file_read``: a file of fixed size created (atomically) in a scratch directory under the
  given one, read whole from the page cache (the warm-up and every earlier run put it there).
* ``control/git_status``: ``git status --porcelain`` in a given repository (optional).
* ``host/load1`` (unit ``load``): the 1-minute load average at the start of each run.
* ``host/cpu_steal`` (unit ``%``): the share of CPU time stolen by the hypervisor during each run,
  from the deltas of the aggregate ``cpu`` line of /proc/stat (steal / (user + nice + system + idle
  + iowait + irq + softirq + steal); guest time is already counted in user and nice).
* ``host/cpu_mhz`` (unit ``MHz``): the mean current frequency of the CPUs at the end of each run
  (cpufreq ``scaling_cur_freq``, else ``cpu MHz`` of /proc/cpuinfo); when neither is readable the
  record has no samples and ``context.missing`` says why. Nothing is made up.

Each run measures the controls one after the other, so host state and controls share the window.
Linux, standard library only.
"""

from __future__ import annotations

import glob
import os
import shutil
import tempfile
import time

from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write
from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import Series, child_env, run_once
from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, read_text

CONTROLS = ("cpu_calibration", "file_read", "git_status")
CALIBRATION_ITERATIONS = 100000
FILE_SIZE_KB = 4096
PROC_STAT = "/proc/stat"
CPUINFO = "/proc/cpuinfo"
CPU_SYS = "/sys/devices/system/cpu"
# user nice system idle iowait irq softirq steal: guest and guest_nice are part of user and nice
STAT_FIELDS = 8
STEAL = 7
PROC_MAX = 1 << 20


class ControlError(ValueError):
    """A control that cannot be set up; the message names the option."""


def calibration_loop(iterations):
    """Fixed work: ``iterations`` steps of a linear congruential generator; returns the checksum
    (the same for the same ``iterations``, so a changed loop is seen)."""
    x, acc = 12345, 0
    for _step in range(iterations):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        acc ^= x
    return acc


def timed(fn, clock=time.monotonic):
    """Run ``fn()`` once; a result dict of the runner's shape (ok, seconds, value)."""
    start = clock()
    value = fn()
    return {"ok": True, "seconds": clock() - start, "value": value}


def read_whole(path, chunk=1 << 20):
    """Read ``path`` to the end; returns the byte count."""
    total = 0
    with open(path, "rb", buffering=0) as handle:
        buf = bytearray(chunk)
        view = memoryview(buf)
        while True:
            got = handle.readinto(view)
            if not got:
                return total
            total += got


def parse_proc_stat(text):
    """The aggregate ``cpu`` line of /proc/stat as a list of ints; None when there is none."""
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] == "cpu":
            try:
                return [int(v) for v in parts[1:]]
            except ValueError:
                return None
    return None


def steal_percent(before, after):
    """CPU steal in percent of the CPU time between two /proc/stat ``cpu`` lines; None when not known
    (no steal column, a counter going back, no time elapsed)."""
    if before is None or after is None or len(before) < STAT_FIELDS or len(after) < STAT_FIELDS:
        return None
    deltas = [a - b for a, b in zip(after[:STAT_FIELDS], before[:STAT_FIELDS])]
    total = sum(deltas)
    if total <= 0 or any(d < 0 for d in deltas):
        return None
    return 100.0 * deltas[STEAL] / total


def read_proc_stat(path=PROC_STAT):
    """``(cpu fields, None)`` or ``(None, reason)``."""
    try:
        fields = parse_proc_stat(read_text(path, PROC_MAX, what="kernel CPU statistics"))
    except FileReadError as exc:
        return None, str(exc)
    if fields is None:
        return None, "%s has no aggregate cpu line" % path
    if len(fields) < STAT_FIELDS:
        return None, "%s has no steal column (kernel older than 2.6.11)" % path
    return fields, None


def cpu_mhz(sys_dir=CPU_SYS, cpuinfo=CPUINFO):
    """``(mean MHz over the CPUs, source)`` or ``(None, reason)``: cpufreq first, then /proc/cpuinfo."""
    values = []
    for path in sorted(glob.glob(os.path.join(sys_dir, "cpu[0-9]*", "cpufreq", "scaling_cur_freq"))):
        try:
            values.append(int(read_text(path, 64, what="CPU frequency").strip()) / 1000.0)
        except (FileReadError, ValueError):
            continue
    if values:
        return sum(values) / len(values), "cpufreq scaling_cur_freq"
    try:
        text = read_text(cpuinfo, PROC_MAX, what="CPU information")
    except FileReadError as exc:
        return None, "no readable %s/cpu*/cpufreq/scaling_cur_freq and %s" % (sys_dir, exc)
    for line in text.splitlines():
        key, _sep, value = line.partition(":")
        if key.strip() == "cpu MHz":
            try:
                values.append(float(value))
            except ValueError:
                continue
    if values:
        return sum(values) / len(values), "%s cpu MHz" % cpuinfo
    return None, "no readable %s/cpu*/cpufreq/scaling_cur_freq and no cpu MHz in %s" % (sys_dir, cpuinfo)


class Controls(object):
    """Set up, run and record the controls; :meth:`close` removes the scratch file."""

    def __init__(self, controls=("cpu_calibration", "file_read"), scratch_dir=None, file_size_kb=FILE_SIZE_KB,
                 git_repo=None, calibration_iterations=CALIBRATION_ITERATIONS, host_state=True, timeout=60.0,
                 proc_stat=PROC_STAT, sys_dir=CPU_SYS, cpuinfo=CPUINFO):
        unknown = [c for c in controls if c not in CONTROLS]
        if unknown:
            raise ControlError("controls: unknown %s (choose from %s)" % (", ".join(unknown), ", ".join(CONTROLS)))
        if "git_status" in controls and not git_repo:
            raise ControlError("controls: git_status needs git_repo")
        if git_repo and not os.path.isdir(git_repo):
            raise ControlError("git_repo %s is not a directory" % git_repo)
        if scratch_dir and not os.path.isdir(scratch_dir):
            raise ControlError("scratch_dir %s is not a directory" % scratch_dir)
        if calibration_iterations < 1 or file_size_kb < 1:
            raise ControlError("calibration_iterations and file_size_kb must be at least 1")
        self.controls = list(controls)
        self.scratch_dir = scratch_dir
        self.file_size = file_size_kb * 1024
        self.git_repo = git_repo
        self.iterations = calibration_iterations
        self.host_state = host_state
        self.timeout = timeout
        self.proc_stat, self.sys_dir, self.cpuinfo = proc_stat, sys_dir, cpuinfo
        self.workdir = None
        self.file = None

    def setup(self):
        if "file_read" in self.controls:
            self.workdir = tempfile.mkdtemp(prefix="o2edge-control-", dir=self.scratch_dir)
            self.file = os.path.join(self.workdir, "control.bin")
            # fixed content, not zeros (a file system may store zeros sparse)
            block = bytes(range(256)) * 4096
            data = (block * (self.file_size // len(block) + 1))[:self.file_size]
            atomic_write(self.file, data, mode=0o600)

    def close(self):
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
            self.workdir = None

    def runner(self, control):
        if control == "cpu_calibration":
            return lambda: timed(lambda: calibration_loop(self.iterations))
        if control == "file_read":
            return lambda: timed(lambda: read_whole(self.file))
        env = child_env()
        return lambda: run_once(["git", "status", "--porcelain"], cwd=self.git_repo, env=env, timeout=self.timeout)

    def measure(self, runs, warmup=0):
        """Every run: host state before, each control once, host state after. Returns the records."""
        if runs < 1 or warmup < 0:
            raise ControlError("runs must be at least 1 and warmup 0 or more")
        started_at = None
        series = dict((c, Series()) for c in self.controls)
        runners = dict((c, self.runner(c)) for c in self.controls)
        load, steal, mhz = [], [], []
        missing = {}
        first_stat = last_stat = None
        mhz_source = None
        self.setup()
        try:
            started_at = base_context()["started_at"]
            for i in range(warmup + runs):
                counted = i >= warmup
                index = i - warmup if counted else i
                before = None
                if counted and self.host_state:
                    load.append(os.getloadavg()[0])
                    before, reason = read_proc_stat(self.proc_stat)
                    if reason:
                        missing["host/cpu_steal"] = reason
                    if first_stat is None:
                        first_stat = before
                for control in self.controls:
                    series[control].step(runners[control], None, "run" if counted else "warmup", index)
                if counted and self.host_state:
                    after, reason = read_proc_stat(self.proc_stat)
                    if after is not None:
                        last_stat = after
                    pct = steal_percent(before, after)
                    if pct is not None:
                        steal.append(pct)
                    elif before is not None and after is not None:
                        missing.setdefault("host/cpu_steal", "no CPU time elapsed in the run (or a counter went back)")
                    value, source = cpu_mhz(self.sys_dir, self.cpuinfo)
                    if value is None:
                        missing["host/cpu_mhz"] = source
                    else:
                        mhz.append(value)
                        mhz_source = source
        finally:
            self.close()
        records = []
        for control in self.controls:
            side = series[control]
            ctx = base_context(started_at=started_at, control=control)
            if control == "cpu_calibration":
                ctx.update(command="calibration loop (%d steps)" % self.iterations, iterations=self.iterations,
                           checksum=next((r["value"] for r in side.results if r.get("ok")), None))
            elif control == "file_read":
                ctx.update(command="read a %d-byte file from the page cache" % self.file_size,
                           size_bytes=self.file_size, dir=self.scratch_dir or tempfile.gettempdir())
            else:
                ctx.update(command="git status --porcelain", cwd=self.git_repo)
            records.append(make_record("control/%s" % control, "control", "s", side.samples, warmup=warmup,
                                       failures=side.failures, errors=side.errors, context=ctx))
        if self.host_state:
            window = steal_percent(first_stat, last_stat)
            host = [("host/load1", "load", load, {"source": "getloadavg, at the start of each run"}),
                    ("host/cpu_steal", "%", steal, {"source": self.proc_stat, "window_pct": window,
                                                    "per": "run (the controls of one run)"}),
                    ("host/cpu_mhz", "MHz", mhz, {"source": mhz_source})]
            for name, unit, samples, extra in host:
                ctx = base_context(started_at=started_at, **extra)
                if name in missing and not samples:
                    ctx["missing"] = missing[name]
                elif name in missing:
                    ctx["partly_missing"] = missing[name]
                records.append(make_record(name, "host_state", unit, samples, warmup=warmup, context=ctx))
        return records
