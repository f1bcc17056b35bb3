# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The CPU time of every process of the machine while a command runs, summed by command line (bench only).

    .venv/bin/python bench/proc_cpu.py -- CMD [ARG ...]

Reads /proc/<pid>/stat of every process before and after CMD: each process's own user + system time and
that of its reaped children (so the short-lived per-connection children of an sshd count in the sshd's
line, and processes reaped by init count in init's). Prints the 15 largest differences (over 0.05 s).
Used to tell how much of a probe sweep's CPU is the prober's and how much the lab's servers'.
"""
from __future__ import annotations

import collections
import os
import subprocess
import sys

TICK = os.sysconf("SC_CLK_TCK")


def snapshot():
    """{pid: (command line, own CPU s, reaped children's CPU s)} of every process now."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % pid) as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                cmd = handle.read().replace(b"\0", b" ").decode("utf-8", "replace")[:80]
        except OSError:
            continue
        out[pid] = (cmd, (int(fields[11]) + int(fields[12])) / TICK, (int(fields[13]) + int(fields[14])) / TICK)
    return out


def differences(before, after):
    """[(seconds, label)], largest first: each command line's own and children's CPU added meanwhile."""
    total = collections.Counter()
    for pid, (cmd, own, kids) in after.items():
        own0, kids0 = before[pid][1:] if pid in before and before[pid][0] == cmd else (0.0, 0.0)
        words = cmd.split(" ")
        label = " ".join([words[0].split("/")[-1]] + words[1:3])
        total[label + " [own]"] += own - own0
        total[label + " [children]"] += kids - kids0
    return [(seconds, label) for label, seconds in total.most_common() if seconds > 0.05]


def main(argv):
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        sys.exit("usage: proc_cpu.py -- CMD [ARG ...]")
    before = snapshot()
    rc = subprocess.call(argv)
    for seconds, label in differences(before, snapshot())[:15]:
        print("%7.2f s  %s" % (seconds, label))
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
