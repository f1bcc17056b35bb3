# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What a page fault costs on this machine: a first touch of new memory, and a copy-on-write after a fork.

    .venv/bin/python bench/page_faults.py [--pages N]

A report allocates hundreds of MiB of Python objects and forks its second processes (``_report_parallel``),
so its system time is mostly page faults: this prints the cost of each kind, per fault, from N pages
(100,000 by default) of an anonymous mapping touched one byte a page, first in this process, then in a
forked child (each write copies a page this process shares with it), then again here (no fault: the
control, the loop's own cost).
"""
from __future__ import annotations

import argparse
import mmap
import os
import resource
import sys
import time

PAGE = mmap.PAGESIZE


def touch(area, pages, value):
    """(seconds, minor faults) of writing one byte in each of ``pages`` pages of ``area``."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    t0 = time.perf_counter()
    for offset in range(0, pages * PAGE, PAGE):
        area[offset] = value
    return time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n", maxsplit=1)[0])
    parser.add_argument("--pages", type=int, default=100000)
    pages = parser.parse_args().pages
    area = mmap.mmap(-1, pages * PAGE)
    seconds, faults = touch(area, pages, 1)
    sys.stdout.write("first touch:     %7d faults, %.3f s, %.2f us a page\n" % (faults, seconds, seconds / pages * 1e6))
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover  (the child)
        os.close(read)
        seconds, faults = touch(area, pages, 2)
        os.write(write, ("copy on write:   %7d faults, %.3f s, %.2f us a page\n"
                         % (faults, seconds, seconds / pages * 1e6)).encode())
        os._exit(0)  # pylint: disable=protected-access
    os.close(write)
    with os.fdopen(read) as handle:
        sys.stdout.write(handle.read())
    os.waitpid(pid, 0)
    seconds, faults = touch(area, pages, 3)
    sys.stdout.write("no fault (loop): %7d faults, %.3f s, %.2f us a page\n" % (faults, seconds, seconds / pages * 1e6))


if __name__ == "__main__":
    main()
