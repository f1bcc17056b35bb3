# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controls and host state (issue 16 item 2): what no optimization touches, and the machine's state.

Before, nothing told a machine that changed between the two passes from an optimization that
worked: git and Prometheus were "Faster" at p <= 0.005 only because two busy loops ran during the
first pass. A control must measure real work (not a constant), and the steal share must be the
delta of the right /proc/stat columns.
"""
from __future__ import annotations
import inspect
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _controls as c
from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record

# user nice system idle iowait irq softirq steal guest guest_nice
STAT_1 = "cpu  1000 0 500 8000 100 0 0 400 300 0\ncpu0 500 0 250 4000 50 0 0 200 150 0\nintr 1 2 3\n"
STAT_2 = "cpu  1300 0 600 8500 100 0 0 500 700 0\ncpu0 650 0 300 4250 50 0 0 250 350 0\nintr 1 2 3\n"


def test_steal_is_the_delta_share_of_the_eight_time_columns():
    """Deltas: user 300, system 100, idle 500, steal 100 -> 100 / 1000 = 10 %. Guest (+400) is already
    in user and must not be counted again (that would give 100 / 1400); totals instead of deltas
    would give 400 / 10000 = 4 %."""
    before, after = c.parse_proc_stat(STAT_1), c.parse_proc_stat(STAT_2)
    assert before[:8] == [1000, 0, 500, 8000, 100, 0, 0, 400]
    assert c.steal_percent(before, after) == pytest.approx(10.0)


@pytest.mark.parametrize("before,after", [
    ("cpu  1 2 3 4 5 6 7\n", "cpu  2 3 4 5 6 7 8\n"),            # no steal column
    (STAT_1, STAT_1),                                             # no time elapsed
    (STAT_2, STAT_1),                                             # counters went back
    ("intr 1\n", STAT_1),                                         # no cpu line
])
def test_steal_unknown_is_none_not_zero(before, after):
    assert c.steal_percent(c.parse_proc_stat(before), c.parse_proc_stat(after)) is None


def test_steal_record_comes_from_proc_stat(tmp_path, monkeypatch):
    """Each run's steal sample is computed from the /proc/stat read before and after that run."""
    reads = iter([STAT_1, STAT_2, STAT_2, "cpu  1300 0 600 9400 100 0 0 600 700 0\n"])
    real = c.read_text
    monkeypatch.setattr(c, "read_text", lambda path, max_bytes, what="": (
        next(reads) if path == "/x/stat" else real(path, max_bytes, what)))
    recs = c.Controls(["cpu_calibration"], calibration_iterations=10, proc_stat="/x/stat",
                      sys_dir=str(tmp_path), cpuinfo=str(tmp_path / "none")).measure(2, 0)
    steal = dict((r["name"], r) for r in recs)["host/cpu_steal"]
    assert steal["samples"] == [pytest.approx(10.0), pytest.approx(10.0)]    # 100/1000, then 100/1000
    assert steal["context"]["window_pct"] == pytest.approx(200.0 / 2000 * 100)
    assert steal["unit"] == "%" and steal["component"] == "host_state"


def test_calibration_time_is_the_work_not_a_constant(monkeypatch):
    """Bug this guards: a timer around nothing (or a cached value) gives the same figure whatever the
    work; 8 times the loop must take clearly longer."""
    # The control times the wall clock on purpose (a loaded machine must show in it). This test asks a
    # different question, whether the timer wraps the loop, so it reads the process's CPU clock through
    # the same ``timed``: CPU time does not grow while the process waits for a core, which made wall-clock
    # bounds fail on a loaded CI machine (fastest of 3 big loops only 2.8 times the fastest small one).
    real_timed, calls = c.timed, []

    def cpu_timed(fn, **kwargs):
        calls.append(kwargs)
        return real_timed(fn, clock=time.process_time)

    monkeypatch.setattr(c, "timed", cpu_timed)
    small = c.Controls(["cpu_calibration"], calibration_iterations=20000, host_state=False).measure(5, 1)[0]
    big = c.Controls(["cpu_calibration"], calibration_iterations=160000, host_state=False).measure(3, 1)[0]
    assert len(small["samples"]) == 5 and len(big["samples"]) == 3
    assert calls == [{}] * 10                  # each run (warm-up included) went through timed, default clock
    assert min(big["samples"]) > 3 * min(small["samples"]) > 0
    assert small["context"]["checksum"] == c.calibration_loop(20000) != c.calibration_loop(20001)


def test_calibration_is_timed_by_the_wall_clock():
    """Bug this guards: a CPU clock (or a clock that can step) in the control would hide exactly the load
    change the control is there to show."""
    assert inspect.signature(c.timed).parameters["clock"].default is time.monotonic
    ticks = iter([10.0, 12.5])
    assert c.timed(lambda: 7, clock=lambda: next(ticks)) == {"ok": True, "seconds": 2.5, "value": 7}


def test_file_read_reads_the_whole_file_and_cleans_up(tmp_path):
    ctl = c.Controls(["file_read"], scratch_dir=str(tmp_path), file_size_kb=64, host_state=False)
    ctl.setup()
    try:
        assert c.read_whole(ctl.file) == 64 * 1024
    finally:
        ctl.close()
    recs = c.Controls(["file_read"], scratch_dir=str(tmp_path), file_size_kb=64, host_state=False).measure(2, 1)
    assert recs[0]["name"] == "control/file_read" and len(recs[0]["samples"]) == 2
    assert recs[0]["context"]["size_bytes"] == 65536
    assert list(tmp_path.iterdir()) == []


def test_cpu_mhz_sources_and_missing_reason(tmp_path):
    sysdir = tmp_path / "cpu"
    for n, khz in (("cpu0", "2000000\n"), ("cpu1", "3000000\n")):
        (sysdir / n / "cpufreq").mkdir(parents=True)
        (sysdir / n / "cpufreq" / "scaling_cur_freq").write_text(khz)
    assert c.cpu_mhz(str(sysdir), str(tmp_path / "none")) == (2500.0, "cpufreq scaling_cur_freq")
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\ncpu MHz\t\t: 1000.5\n\nprocessor\t: 1\ncpu MHz\t\t: 1200.5\n")
    assert c.cpu_mhz(str(tmp_path / "nosys"), str(info))[0] == pytest.approx(1100.5)
    value, reason = c.cpu_mhz(str(tmp_path / "nosys"), str(tmp_path / "none"))
    assert value is None and "scaling_cur_freq" in reason and "none" in reason


def test_host_records_missing_with_reason_never_made_up(tmp_path):
    recs = c.Controls(["cpu_calibration"], calibration_iterations=10, proc_stat=str(tmp_path / "stat"),
                      sys_dir=str(tmp_path), cpuinfo=str(tmp_path / "cpuinfo")).measure(2, 0)
    by = dict((r["name"], r) for r in recs)
    assert [r["name"] for r in recs] == ["control/cpu_calibration", "host/load1", "host/cpu_steal", "host/cpu_mhz"]
    for name in ("host/cpu_steal", "host/cpu_mhz"):
        assert by[name]["samples"] == [] and by[name]["stats"]["median"] is None
        assert str(tmp_path) in by[name]["context"]["missing"]
    assert len(by["host/load1"]["samples"]) == 2 and by["host/load1"]["unit"] == "load"
    for rec in recs:
        assert validate_record(rec) == []


@pytest.mark.parametrize("kw,needle", [
    ({"controls": ["bogus"]}, "controls: unknown bogus"),
    ({"controls": ["git_status"]}, "git_status needs git_repo"),
    ({"controls": ["git_status"], "git_repo": "/nonexistent/repo"}, "git_repo /nonexistent/repo is not a directory"),
    ({"scratch_dir": "/nonexistent/dir"}, "scratch_dir /nonexistent/dir is not a directory"),
])
def test_bad_setup_names_the_option(kw, needle):
    with pytest.raises(c.ControlError, match=needle):
        c.Controls(**kw)
