# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import types

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _iobench
from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import io_bench
from tests.unit.module_runner import run_module


def test_records(tmp_path):
    res = run_module(io_bench, {"path": str(tmp_path), "size_mb": 2, "runs": 2, "block_kb": 256}, check_mode=True)
    assert res["failed"] is False and res["changed"] is False
    names = [r["name"] for r in res["records"]]
    base = names[0].rsplit("/", 1)[0]
    assert names == [base + "/write", base + "/write_seconds", base + "/read", base + "/read_seconds"]
    assert [r["unit"] for r in res["records"]] == ["MB/s", "s", "MB/s", "s"]
    for rec in res["records"]:
        assert validate_record(rec) == [] and len(rec["samples"]) == 2
    assert res["write_mb_s"] > 0 and res["read_mb_s"] > 0
    assert os.listdir(str(tmp_path)) == []


def test_figures_are_the_measured_time(tmp_path, monkeypatch):
    # a fake clock that moves 0.5 s per write call and 0.1 s per read call
    clock = {"now": 50.0}

    class SlowOS(object):
        def __getattr__(self, name):
            return getattr(os, name)

        def write(self, fd, data):
            clock["now"] += 0.5
            return os.write(fd, data)

        def readv(self, fd, buffers):
            clock["now"] += 0.1
            return os.readv(fd, buffers)

    monkeypatch.setattr(_iobench, "os", SlowOS())
    monkeypatch.setattr(_iobench, "time", types.SimpleNamespace(monotonic=lambda: clock["now"]))
    # 1 MB in 256 KiB blocks: 4 writes (2.0 s), 4 reads and one at EOF (0.5 s)
    res = run_module(io_bench, {"path": str(tmp_path), "size_mb": 1, "runs": 2, "block_kb": 256})
    assert res["failed"] is False
    by_name = dict((r["name"].rsplit("/", 1)[1], r["samples"]) for r in res["records"])
    assert by_name["write_seconds"] == [pytest.approx(2.0)] * 2
    assert by_name["read_seconds"] == [pytest.approx(0.5)] * 2
    # throughput = size / seconds
    assert by_name["write"] == [pytest.approx(0.5)] * 2 and by_name["read"] == [pytest.approx(2.0)] * 2
    assert res["write_mb_s"] == pytest.approx(0.5) and res["read_mb_s"] == pytest.approx(2.0)


@pytest.mark.parametrize("args,needle", [
    ({"path": "/nonexistent/dir"}, "path /nonexistent/dir is not a directory"),
    ({"path": "/", "runs": 0}, "runs must be at least 1"),
    ({"path": "/", "size_mb": 0}, "size_mb must be at least 1"),
    ({"path": "/", "block_kb": 0}, "block_kb must be at least 1"),
    ({"path": "/", "size_mb": 10 ** 12}, "not enough for size_mb"),
])
def test_bad_input(args, needle):
    res = run_module(io_bench, args)
    assert res["failed"] is True and needle in res["msg"]


@pytest.mark.parametrize("free,ok", [(1050000, True), (1049999, False)])
def test_free_space_check_wants_five_percent_headroom(tmp_path, monkeypatch, free, ok):
    monkeypatch.setattr(io_bench, "free_bytes", lambda path: free)
    res = run_module(io_bench, {"path": str(tmp_path), "size_mb": 1, "runs": 1, "block_kb": 256})
    if ok:
        assert res["failed"] is False and len(res["records"]) == 4
    else:
        assert res["failed"] is True
        assert res["msg"] == "path %s has 1 MB free, not enough for size_mb=1" % tmp_path


@pytest.mark.parametrize("fsync,drop_cache,dropped", [(True, True, True), (True, False, False), (False, True, False)])
def test_fsync_and_drop_cache_reach_the_run_and_the_context(tmp_path, fsync, drop_cache, dropped):
    res = run_module(io_bench, {"path": str(tmp_path), "size_mb": 1, "runs": 1, "block_kb": 64,
                                "fsync": fsync, "drop_cache": drop_cache})
    assert res["failed"] is False
    for rec in res["records"]:
        assert rec["context"]["fsync"] is fsync and rec["context"]["cache_dropped"] is dropped
        assert rec["context"]["block_kb"] == 64 and rec["context"]["size_mb"] == 1


def test_block_size_not_dividing_the_size(tmp_path, monkeypatch):
    # 1 MB (10^6 bytes) in 768 KiB blocks: one full block and a 213568-byte tail, all of it read back
    sizes = []
    real_write = os.write

    class CountingOS(object):
        def __getattr__(self, name):
            return getattr(os, name)

        def write(self, fd, data):
            n = real_write(fd, data)
            sizes.append(n)
            return n

    monkeypatch.setattr(_iobench, "os", CountingOS())
    res = run_module(io_bench, {"path": str(tmp_path), "size_mb": 1, "runs": 1, "block_kb": 768})
    assert res["failed"] is False and res["write_mb_s"] > 0
    assert sizes == [768 * 1024, 1000000 - 768 * 1024]
    assert os.listdir(str(tmp_path)) == []
