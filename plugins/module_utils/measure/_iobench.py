# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Sequential file write and read throughput with fsync.

* MB means 10^6 bytes (as dd prints it); MB/s = bytes / 10^6 / seconds.
* Write: random (incompressible) data in which no two 512-byte sectors are equal, so that
  neither compression nor deduplication (at any granularity of 512 bytes or a multiple of it)
  can shrink what reaches the device and inflate the MB/s. It is written with ``os.write`` to
  a new temporary file in the given directory; the clock stops after ``os.fsync`` returned
  (when ``fsync`` is on), so the figure is data on the device, not in the page cache.
* How the data is made cheaply (see :class:`BlockSource`): a random pool of ``block_size +
  512`` bytes comes from ``os.urandom`` before the clock starts; block ``i`` is the zero-copy
  window ``pool[i % 512 : i % 512 + block_size]``. Sector ``j`` of block ``i`` is then pool
  bytes ``i % 512 + 512 * j``: a different start for every sector of 512 consecutive blocks.
  After 512 blocks a fresh pool is drawn (one ``os.urandom`` call per 512 blocks, inside the
  clock: for 1 MiB blocks about 2 ms per 512 MiB written, under 1 % even at 2 GB/s); between
  pools, making a block is a slice, no copy.
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


SECTOR = 512


class BlockSource(object):
    """Distinct blocks of random data, each a zero-copy window of a random pool (see above).

    The first pool is drawn when the source is made (before any clock starts); ``block(i)``
    must be asked for in order ``0, 1, 2 ...``. Sectors are distinct when ``block_size`` is a
    multiple of 512 (io_bench's ``block_kb`` always is), so that every block starts on a sector.
    """

    def __init__(self, block_size):
        if block_size < 1:
            raise ValueError("block_size must be at least 1, got %r" % (block_size,))
        self.block_size = block_size
        self._generation = 0
        self._view = memoryview(os.urandom(block_size + SECTOR))

    def block(self, index):
        generation, offset = divmod(index, SECTOR)
        if generation != self._generation:
            self._generation = generation
            self._view = memoryview(os.urandom(self.block_size + SECTOR))
        return self._view[offset:offset + self.block_size]


def _write_all(fd, source, size):
    written = 0
    index = 0
    while written < size:
        chunk = source.block(index)[:min(source.block_size, size - written)]
        index += 1
        while chunk:
            n = os.write(fd, chunk)
            chunk = chunk[n:]
            written += n
    return written


def io_run(directory, size_bytes, block_size=1 << 20, fsync=True, drop_cache=True):
    """One write+read cycle; returns dict ok, write_seconds, read_seconds, bytes, error, cache_dropped."""
    res = {"ok": False, "seconds": None, "write_seconds": None, "read_seconds": None, "bytes": size_bytes,
           "error": None, "cache_dropped": False}
    source = BlockSource(block_size)  # the first pool is drawn before the clock starts
    path = None
    try:
        fd, path = tempfile.mkstemp(prefix=PREFIX, dir=directory)
        try:
            start = time.monotonic()
            _write_all(fd, source, size_bytes)
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
