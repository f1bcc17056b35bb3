# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Host facts (CPU, memory, disks, load) and CPU/memory utilization sampled over time (Linux /proc).

* CPU utilization of an interval = ``100 * (1 - d(idle + iowait) / d(total))`` from the
  aggregate ``cpu`` line of /proc/stat (all CPUs together, so 100 % = every CPU busy).
* Memory utilization = ``100 * (1 - MemAvailable / MemTotal)`` from /proc/meminfo.

Running a command while sampling is the runner's job (:func:`_cmd_timer.run_sampled`, with
:func:`utilization_sampler`), so that a command is timed the same way everywhere.
"""

from __future__ import annotations

import os
import platform
import threading
import time

PROC_STAT = "/proc/stat"
PROC_MEMINFO = "/proc/meminfo"
PROC_CPUINFO = "/proc/cpuinfo"


def parse_cpuinfo(text):
    """CPU model name from /proc/cpuinfo text (x86 'model name', arm 'Model'/'Hardware'), or None."""
    found = {}
    for line in text.splitlines():
        if ":" not in line:
            continue
        key, value = line.split(":", 1)
        key, value = key.strip().lower(), value.strip()
        if value and key not in found:
            found[key] = value
    for key in ("model name", "model", "hardware", "cpu model", "processor"):
        value = found.get(key)
        if value and not value.isdigit():
            return value
    return None


def parse_meminfo(text):
    """{field: bytes} from /proc/meminfo text (values given in kB there)."""
    out = {}
    for line in text.splitlines():
        parts = line.replace(":", " ").split()
        if len(parts) >= 2 and parts[1].isdigit():
            factor = 1024 if len(parts) > 2 and parts[2].lower() == "kb" else 1
            out[parts[0]] = int(parts[1]) * factor
    return out


def parse_cpu_times(text):
    """(busy, total) jiffies of the aggregate cpu line of /proc/stat."""
    for line in text.splitlines():
        if line.startswith("cpu "):
            values = [int(v) for v in line.split()[1:]]
            # user nice system idle iowait irq softirq steal guest guest_nice; guest is inside user
            values = values[:8]
            idle = values[3] + (values[4] if len(values) > 4 else 0)
            total = sum(values)
            return total - idle, total
    raise ValueError("no aggregate cpu line in /proc/stat")


def cpu_util(before, after):
    busy = after[0] - before[0]
    total = after[1] - before[1]
    if total <= 0:
        return None
    return 100.0 * busy / total


def mem_util(meminfo):
    total = meminfo.get("MemTotal")
    avail = meminfo.get("MemAvailable")
    if not total or avail is None:
        return None
    return 100.0 * (1.0 - float(avail) / total)


def _read(path):
    with open(path) as handle:
        return handle.read()


def read_cpu_times():
    return parse_cpu_times(_read(PROC_STAT))


def read_meminfo():
    return parse_meminfo(_read(PROC_MEMINFO))


def disk_usage(path):
    st = os.statvfs(path)
    total = st.f_blocks * st.f_frsize
    free = st.f_bfree * st.f_frsize
    avail = st.f_bavail * st.f_frsize
    used = total - free
    return {"path": path, "total_bytes": total, "used_bytes": used, "available_bytes": avail,
            "used_percent": round(100.0 * used / (used + avail), 2) if (used + avail) else None}


def host_facts(paths=()):
    """CPU model and counts, memory, disk usage for ``paths``, load averages, kernel."""
    facts = {"kernel": platform.release(), "machine": platform.machine(), "cpu_model": None,
             "cpu_count": os.cpu_count(), "cpu_usable": None, "memory": {}, "disks": [], "load": None}
    try:
        facts["cpu_model"] = parse_cpuinfo(_read(PROC_CPUINFO))
    except OSError:
        facts["cpu_model"] = platform.processor() or None
    if hasattr(os, "sched_getaffinity"):
        facts["cpu_usable"] = len(os.sched_getaffinity(0))
    try:
        info = read_meminfo()
        facts["memory"] = {"total_bytes": info.get("MemTotal"), "available_bytes": info.get("MemAvailable"),
                           "swap_total_bytes": info.get("SwapTotal"), "swap_free_bytes": info.get("SwapFree"),
                           "used_percent": None if mem_util(info) is None else round(mem_util(info), 2)}
    except OSError:
        pass
    for path in paths:
        facts["disks"].append(disk_usage(path))
    try:
        one, five, fifteen = os.getloadavg()
        facts["load"] = {"1m": one, "5m": five, "15m": fifteen}
    except OSError:
        pass
    return facts


def sample_utilization(interval, duration=None, stop=None):
    """Sample CPU and memory utilization every ``interval`` s until ``stop`` is set or ``duration`` s passed.

    ``stop`` is a ``threading.Event`` (set by :func:`_cmd_timer.run_sampled` when the command ended);
    without it, sampling lasts ``duration`` seconds. A last partial interval is kept when sampling
    ends in the middle of one. Returns dict: cpu (list of %), mem (list of %), seconds (wall time
    of the sampling).
    """
    if stop is None and duration is None:
        raise ValueError("sample_utilization needs a stop event or a duration")
    if stop is None:
        stop = threading.Event()
    cpu, mem = [], []
    start = time.monotonic()
    prev = read_cpu_times()
    while True:
        wait = interval
        if duration is not None:
            wait = max(0.0, min(interval, duration - (time.monotonic() - start)))
        done = stop.wait(wait)
        if duration is not None and time.monotonic() - start >= duration:
            done = True
        cur = read_cpu_times()
        value = cpu_util(prev, cur)
        if value is not None:
            cpu.append(value)
            mem_value = mem_util(read_meminfo())
            if mem_value is not None:
                mem.append(mem_value)
        prev = cur
        if done:
            break
    return {"cpu": cpu, "mem": mem, "seconds": time.monotonic() - start}


def utilization_sampler(interval):
    """A sampler for :func:`_cmd_timer.run_sampled`: CPU and memory utilization every ``interval`` s."""
    def sampler(stop):
        return sample_utilization(interval, stop=stop)
    return sampler
