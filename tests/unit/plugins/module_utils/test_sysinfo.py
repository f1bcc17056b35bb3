# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import sys
import threading
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _sysinfo as si
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import run_sampled

CPUINFO_X86 = "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel\t\t: 85\nmodel name\t: Intel(R) Xeon(R) Gold 6248\n"
CPUINFO_ARM = "processor\t: 0\nBogoMIPS\t: 48.00\n\nHardware\t: BCM2835\nModel\t\t: Raspberry Pi 4 Model B\n"
MEMINFO = "MemTotal:       16000000 kB\nMemFree:         1000000 kB\nMemAvailable:    4000000 kB\nHugePages_Total:       0\n"
STAT = "cpu  100 0 50 800 50 0 0 0 0 0\ncpu0 50 0 25 400 25 0 0 0 0 0\nintr 1\n"


def test_parse_cpuinfo():
    assert si.parse_cpuinfo(CPUINFO_X86) == "Intel(R) Xeon(R) Gold 6248"
    assert si.parse_cpuinfo(CPUINFO_ARM) == "Raspberry Pi 4 Model B"
    assert si.parse_cpuinfo("processor : 0\n") is None


def test_parse_meminfo_and_util():
    info = si.parse_meminfo(MEMINFO)
    assert info["MemTotal"] == 16000000 * 1024 and info["HugePages_Total"] == 0
    assert si.mem_util(info) == pytest.approx(75.0)
    assert si.mem_util({}) is None


def test_cpu_times_and_util():
    busy, total = si.parse_cpu_times(STAT)
    assert (busy, total) == (150, 1000)
    assert si.cpu_util((150, 1000), (250, 1200)) == pytest.approx(50.0)
    assert si.cpu_util((1, 1), (1, 1)) is None
    with pytest.raises(ValueError):
        si.parse_cpu_times("intr 1\n")


def test_host_facts(tmp_path):
    facts = si.host_facts([str(tmp_path)])
    assert facts["cpu_count"] >= 1
    assert facts["disks"][0]["path"] == str(tmp_path) and facts["disks"][0]["total_bytes"] > 0
    assert set(facts["load"]) == {"1m", "5m", "15m"}


def test_sample_utilization_until_stopped(monkeypatch):
    """Bugs: sampling that ends before the stop event, seconds that are not the sampling's wall time.

    The bounds come from clock reads around the sampler's own CPU reads, not from the timer's 0.3 s:
    the timer starts before the sampler's clock does, so on a loaded machine the sampling itself can
    last less than 0.3 s (0.289 s once)."""
    reads = []
    real = si.read_cpu_times

    def read_cpu_times():
        reads.append(time.monotonic())
        return real()
    monkeypatch.setattr(si, "read_cpu_times", read_cpu_times)
    stop = threading.Event()
    set_at = []
    threading.Timer(0.3, lambda: (set_at.append(time.monotonic()), stop.set())).start()
    before = time.monotonic()
    res = si.sample_utilization(0.05, stop=stop)
    after = time.monotonic()
    assert res["cpu"] and len(res["cpu"]) == len(res["mem"])
    assert all(0.0 <= v <= 100.0 for v in res["cpu"] + res["mem"])
    assert reads[-1] >= set_at[0]  # the last sample was read after the stop was set
    assert reads[-1] - reads[0] <= res["seconds"] <= after - before


def test_sample_utilization_for_a_duration():
    res = si.sample_utilization(0.05, duration=0.2)
    assert res["cpu"] and res["seconds"] >= 0.2
    with pytest.raises(ValueError):
        si.sample_utilization(0.05)


def test_utilization_sampler_with_the_runner():
    res = run_sampled([sys.executable, "-c", "import time; time.sleep(0.3)"], si.utilization_sampler(0.05))
    assert res["ok"] and res["rc"] == 0
    sampled = res["sampled"]
    assert sampled["cpu"] and len(sampled["cpu"]) == len(sampled["mem"])
    assert all(0.0 <= v <= 100.0 for v in sampled["cpu"])
