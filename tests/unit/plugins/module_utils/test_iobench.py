# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import re
import types

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _iobench as io


class Clock(object):
    """A fake monotonic clock that moves only when the fake OS says so."""

    def __init__(self):
        self.now = 1000.0


class RecordingOS(object):
    """The real ``os`` for _iobench, except that every write and read advances ``clock`` by a fixed
    cost, and writes, reads, random draws and clock reads are logged in order.

    ``max_write`` caps what one ``write`` call accepts (a short write, as a pipe or a full
    device may do); ``eof_after`` makes ``readv`` report EOF once that many bytes were read.
    The random pools drawn, the paths opened and the ``posix_fadvise`` calls are kept too."""

    def __init__(self, clock, write_cost=0.5, read_cost=0.125):
        self.clock = clock
        self.write_cost = write_cost
        self.read_cost = read_cost
        self.writes = []
        self.events = []
        self.pools = []
        self.opened = []
        self.fadvise = []
        self.max_write = None
        self.eof_after = None
        self.read_total = 0

    def __getattr__(self, name):
        return getattr(os, name)

    def write(self, fd, data):
        self.clock.now += self.write_cost
        if self.max_write is not None:
            data = data[:self.max_write]
        n = os.write(fd, data)
        self.writes.append(bytes(data[:n]))
        self.events.append("write")
        return n

    def readv(self, fd, buffers):
        self.clock.now += self.read_cost
        self.events.append("read")
        if self.eof_after is not None and self.read_total >= self.eof_after:
            return 0
        n = os.readv(fd, buffers)
        self.read_total += n
        return n

    def urandom(self, n):
        self.events.append("urandom")
        pool = os.urandom(n)
        self.pools.append(pool)
        return pool

    def open(self, path, flags, *args):
        self.opened.append(path)
        return os.open(path, flags, *args)

    def posix_fadvise(self, fd, offset, length, advice):
        self.fadvise.append((offset, length, advice))
        return os.posix_fadvise(fd, offset, length, advice)


@pytest.fixture()
def fake(monkeypatch):
    clock = Clock()
    fake_os = RecordingOS(clock)

    def monotonic():
        fake_os.events.append("clock")
        return clock.now

    monkeypatch.setattr(io, "os", fake_os)
    monkeypatch.setattr(io, "time", types.SimpleNamespace(monotonic=monotonic))
    return fake_os


def leftovers(path):
    return [n for n in os.listdir(str(path)) if n.startswith(io.PREFIX)]


def test_io_run_writes_reads_and_cleans(tmp_path):
    res = io.io_run(str(tmp_path), 3 * 1000 * 1000 + 17, block_size=64 * 1024)
    assert res["ok"], res
    assert res["bytes"] == 3000017 and res["write_seconds"] > 0 and res["read_seconds"] > 0
    assert res["cache_dropped"] is True
    assert leftovers(tmp_path) == []


def test_io_run_without_fsync_does_not_claim_cache_drop(tmp_path):
    res = io.io_run(str(tmp_path), 100000, block_size=4096, fsync=False)
    assert res["ok"] and res["cache_dropped"] is False


def test_temp_file_removed_on_failure(tmp_path, monkeypatch):
    def broken_fsync(fd):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(io.os, "fsync", broken_fsync)
    res = io.io_run(str(tmp_path), 100000, block_size=4096)
    assert not res["ok"] and "Input/output error" in res["error"]
    assert leftovers(tmp_path) == []


def test_missing_directory(tmp_path):
    res = io.io_run(str(tmp_path / "nope"), 1000)
    assert not res["ok"] and "No such file" in res["error"]


def test_throughput():
    assert io.throughput(10 * io.MB, 2.0) == 5.0
    assert io.throughput(10, 0) is None


def test_write_and_read_seconds_are_the_measured_time(tmp_path, fake):
    # every write costs 0.5 s and every read 0.125 s on the fake clock: the figures must be those
    size = 3 * 4096 + 100
    res = io.io_run(str(tmp_path), size, block_size=4096)
    assert res["ok"], res
    assert len(fake.writes) == 4 and sum(len(w) for w in fake.writes) == size
    assert res["write_seconds"] == pytest.approx(0.5 * len(fake.writes))
    reads = fake.events.count("read")  # 4 blocks and the read that sees EOF
    assert reads == 5 and res["read_seconds"] == pytest.approx(0.125 * reads)
    assert res["seconds"] == pytest.approx(res["write_seconds"] + res["read_seconds"])
    assert io.throughput(size, res["write_seconds"]) == pytest.approx(size / 1e6 / 2.0)


def test_write_seconds_follow_a_slower_device(tmp_path, fake):
    fake.write_cost = 0.5
    fast = io.io_run(str(tmp_path), 8 * 4096, block_size=4096)
    fake.write_cost = 2.0
    slow = io.io_run(str(tmp_path), 8 * 4096, block_size=4096)
    assert fast["write_seconds"] == pytest.approx(4.0) and slow["write_seconds"] == pytest.approx(16.0)


def test_no_two_blocks_or_sectors_written_are_equal(tmp_path, fake):
    # more than 512 blocks: the random pool is redrawn once on the way
    blocks = 600
    size = blocks * 4096 + 1000
    res = io.io_run(str(tmp_path), size, block_size=4096)
    assert res["ok"], res
    assert len(fake.writes) == blocks + 1
    assert len(set(fake.writes)) == len(fake.writes), "two blocks written are equal"
    data = b"".join(fake.writes)
    sectors = [data[i:i + io.SECTOR] for i in range(0, len(data) - io.SECTOR + 1, io.SECTOR)]
    assert len(set(sectors)) == len(sectors), "two 512-byte sectors written are equal"


def test_data_generation_is_outside_the_clock(tmp_path, fake):
    blocks = 1100
    io.io_run(str(tmp_path), blocks * 1024, block_size=1024)
    events = fake.events
    start = events.index("clock")
    stop = events.index("clock", start + 1)
    # the first pool is drawn before the write clock starts; inside it, one draw per 512 blocks
    assert "urandom" in events[:start]
    assert events[start:stop].count("urandom") == (blocks - 1) // 512
    assert events[start:stop].count("write") == blocks


def test_block_source():
    source = io.BlockSource(4096)
    blocks = [bytes(source.block(i)) for i in range(3 * io.SECTOR)]
    assert all(len(b) == 4096 for b in blocks) and len(set(blocks)) == len(blocks)
    with pytest.raises(ValueError):
        io.BlockSource(0)


def expected_data(pools, block_size, size):
    """What io_run must write: block ``i`` is ``pool[i % 512 : i % 512 + block_size]`` of pool ``i // 512``."""
    out = b""
    index = 0
    while len(out) < size:
        generation, offset = divmod(index, io.SECTOR)
        out += pools[generation][offset:offset + block_size][:size - len(out)]
        index += 1
    return out


def test_block_source_accepts_a_one_byte_block():
    source = io.BlockSource(1)
    assert [len(source.block(i)) for i in range(3)] == [1, 1, 1]


def test_io_run_with_one_byte_blocks(tmp_path):
    res = io.io_run(str(tmp_path), 1000, block_size=1)
    assert res["ok"] and res["bytes"] == 1000, res
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("block_size", [0, -4096])
def test_block_size_below_one_is_refused_with_the_value(block_size):
    with pytest.raises(ValueError) as info:
        io.BlockSource(block_size)
    assert str(info.value) == "block_size must be at least 1, got %r" % (block_size,)


def test_temp_file_is_hidden_and_named_for_the_bench(tmp_path, fake):
    # an operator who finds a leftover (e.g. after a power cut) must recognise it: .o2edge-io-bench-*
    res = io.io_run(str(tmp_path), 5000, block_size=4096)
    assert res["ok"], res
    assert len(fake.opened) == 1
    directory, name = os.path.split(fake.opened[0])
    assert directory == str(tmp_path) and name.startswith(".o2edge-io-bench-"), fake.opened
    assert os.listdir(str(tmp_path)) == []


def test_first_block_is_the_start_of_the_first_pool(tmp_path, fake):
    size = 3 * 4096 + 100
    res = io.io_run(str(tmp_path), size, block_size=4096)
    assert res["ok"], res
    assert len(fake.pools) == 1
    assert fake.writes[0] == fake.pools[0][:4096]
    assert b"".join(fake.writes) == expected_data(fake.pools, 4096, size)


@pytest.mark.parametrize("blocks,redraws", [(512, 0), (513, 1), (1024, 1), (1025, 2)])
def test_pool_is_redrawn_every_512_blocks_exactly(tmp_path, fake, blocks, redraws):
    res = io.io_run(str(tmp_path), blocks * 1024, block_size=1024)
    assert res["ok"], res
    start = fake.events.index("clock")
    stop = fake.events.index("clock", start + 1)
    assert fake.events[start:stop].count("urandom") == redraws
    assert fake.events[start:stop].count("write") == blocks
    assert b"".join(fake.writes) == expected_data(fake.pools, 1024, blocks * 1024)


def test_short_writes_are_resumed_not_dropped(tmp_path, fake):
    # os.write may accept less than asked: the rest of the block must follow, nothing skipped
    fake.max_write = 1000
    size = 3 * 4096 + 100
    res = io.io_run(str(tmp_path), size, block_size=4096)
    assert res["ok"], res
    assert [len(w) for w in fake.writes] == [1000, 1000, 1000, 1000, 96] * 3 + [100]
    assert b"".join(fake.writes) == expected_data(fake.pools, 4096, size)


def test_default_block_size_is_one_mib(tmp_path, fake):
    size = (1 << 20) + 5
    res = io.io_run(str(tmp_path), size)
    assert res["ok"], res
    assert [len(w) for w in fake.writes] == [1 << 20, 5]


def test_failed_run_reports_every_key(tmp_path):
    missing = str(tmp_path / "nope")
    res = io.io_run(missing, 1000)
    error = res.pop("error")
    assert re.fullmatch(re.escape(missing + "/.o2edge-io-bench-") + r"\w+: No such file or directory", error), error
    assert res == {"ok": False, "seconds": None, "write_seconds": None, "read_seconds": None, "bytes": 1000,
                   "cache_dropped": False}


@pytest.mark.parametrize("fsync,drop_cache,dropped", [(True, True, True), (True, False, False),
                                                      (False, True, False), (False, False, False)])
def test_cache_drop_covers_the_whole_file_and_only_after_fsync(tmp_path, fake, fsync, drop_cache, dropped):
    res = io.io_run(str(tmp_path), 3 * 4096 + 100, block_size=4096, fsync=fsync, drop_cache=drop_cache)
    assert res["ok"], res
    assert res["cache_dropped"] is dropped
    # offset 0 and length 0 mean the whole file
    assert fake.fadvise == ([(0, 0, os.POSIX_FADV_DONTNEED)] if dropped else [])


def test_short_read_is_an_error_naming_both_counts(tmp_path, fake):
    fake.eof_after = 4096
    size = 3 * 4096 + 100
    res = io.io_run(str(tmp_path), size, block_size=4096)
    assert res["ok"] is False and res["seconds"] is None
    assert res["error"] == "read 4096 bytes back, wrote %d" % size
    assert res["write_seconds"] == pytest.approx(2.0) and res["read_seconds"] == pytest.approx(0.25)
    assert leftovers(tmp_path) == []


def temp_file_error(directory, reason):
    return re.escape(directory + "/.o2edge-io-bench-") + r"\w+: " + re.escape(reason)


def test_os_error_names_the_temp_file_and_the_reason(tmp_path, monkeypatch):
    def broken_fsync(fd):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(io.os, "fsync", broken_fsync)
    res = io.io_run(str(tmp_path), 100000, block_size=4096)
    assert res["ok"] is False
    assert re.fullmatch(temp_file_error(str(tmp_path), "Input/output error"), res["error"]), res["error"]
    assert leftovers(tmp_path) == []


def test_os_error_names_the_file_it_carries(tmp_path, fake):
    def broken_readv(fd, buffers):
        raise OSError(5, "Input/output error", "/dev/sdz")
    fake.readv = broken_readv
    res = io.io_run(str(tmp_path), 100000, block_size=4096)
    assert res["ok"] is False and res["error"] == "/dev/sdz: Input/output error"
    assert leftovers(tmp_path) == []


def test_os_error_without_strerror_shows_its_text(tmp_path, fake):
    def broken_readv(fd, buffers):
        raise OSError("device went away")
    fake.readv = broken_readv
    res = io.io_run(str(tmp_path), 100000, block_size=4096)
    assert res["ok"] is False
    assert re.fullmatch(temp_file_error(str(tmp_path), "device went away"), res["error"]), res["error"]


@pytest.mark.parametrize("seconds", [None, 0, 0.0, -1.0, -0.001])
def test_throughput_is_none_without_a_positive_time(seconds):
    assert io.throughput(10 * io.MB, seconds) is None


def test_throughput_of_a_tiny_positive_time():
    assert io.throughput(io.MB, 0.001) == pytest.approx(1000.0)
