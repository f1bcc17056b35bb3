# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

from ansible_collections.o2edge.perf.plugins.module_utils import _iobench as io


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
