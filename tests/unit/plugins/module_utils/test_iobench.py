# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import types

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _iobench as io


class Clock(object):
    """A fake monotonic clock that moves only when the fake OS says so."""

    def __init__(self):
        self.now = 1000.0


class RecordingOS(object):
    """The real ``os`` for _iobench, except that every write and read advances ``clock`` by a fixed
    cost, and writes, reads, random draws and clock reads are logged in order."""

    def __init__(self, clock, write_cost=0.5, read_cost=0.125):
        self.clock = clock
        self.write_cost = write_cost
        self.read_cost = read_cost
        self.writes = []
        self.events = []

    def __getattr__(self, name):
        return getattr(os, name)

    def write(self, fd, data):
        self.clock.now += self.write_cost
        n = os.write(fd, data)
        self.writes.append(bytes(data[:n]))
        self.events.append("write")
        return n

    def readv(self, fd, buffers):
        self.clock.now += self.read_cost
        self.events.append("read")
        return os.readv(fd, buffers)

    def urandom(self, n):
        self.events.append("urandom")
        return os.urandom(n)


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
