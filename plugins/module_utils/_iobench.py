# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sequential file write and read throughput with fsync.

* MB means 10^6 bytes (as dd prints it); MB/s = bytes / 10^6 / seconds.
* Write: random (incompressible) blocks, generated before the clock starts, written with
  ``os.write`` to a new temporary file in the given directory; the clock stops after
  ``os.fsync`` returned (when ``fsync`` is on), so the figure is data on the device, not in
  the page cache.
* Read: before reading, the file's pages are dropped from the page cache with
  ``posix_fadvise(POSIX_FADV_DONTNEED)`` (no root needed; only effective after fsync), so the
  read comes from the device; the clock covers open to EOF.
* The temporary file is removed in a ``finally`` block: on success, failure or interruption.
"""

from __future__ import annotations

import os
import tempfile
import time

MB = 1000 * 1000
PREFIX = ".o2edge-io-bench-"


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def _write_all(fd, block, size):
    written = 0
    view = memoryview(block)
    while written < size:
        chunk = view[:min(len(block), size - written)]
        while chunk:
            n = os.write(fd, chunk)
            chunk = chunk[n:]
            written += n
    return written


def io_run(directory, size_bytes, block_size=1 << 20, fsync=True, drop_cache=True, block=None):
    """One write+read cycle; returns dict ok, write_seconds, read_seconds, bytes, error, cache_dropped."""
    res = {"ok": False, "seconds": None, "write_seconds": None, "read_seconds": None, "bytes": size_bytes,
           "error": None, "cache_dropped": False}
    if block is None:
        block = os.urandom(block_size)
    path = None
    try:
        fd, path = tempfile.mkstemp(prefix=PREFIX, dir=directory)
        try:
            start = time.monotonic()
            _write_all(fd, block, size_bytes)
            if fsync:
                os.fsync(fd)
            res["write_seconds"] = time.monotonic() - start
            if drop_cache and fsync and hasattr(os, "posix_fadvise"):
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
                res["cache_dropped"] = True
        finally:
            os.close(fd)
        buf = bytearray(block_size)
        view = memoryview(buf)
        total = 0
        start = time.monotonic()
        rfd = os.open(path, os.O_RDONLY)
        try:
            while True:
                n = os.readv(rfd, [view])
                if not n:
                    break
                total += n
        finally:
            os.close(rfd)
        res["read_seconds"] = time.monotonic() - start
        if total != size_bytes:
            res["error"] = "read %d bytes back, wrote %d" % (total, size_bytes)
            return res
        res["seconds"] = res["write_seconds"] + res["read_seconds"]
        res["ok"] = True
        return res
    except OSError as exc:
        res["error"] = "%s: %s" % (exc.filename or path or directory, exc.strerror or exc)
        return res
    finally:
        if path is not None:
            try:
                os.unlink(path)
            except OSError:
                pass


def throughput(size_bytes, seconds):
    if not seconds or seconds <= 0:
        return None
    return size_bytes / float(MB) / seconds
