# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kpt_render's ``compare`` option (issue 16 item 1): A and B measured interleaved, records paired."""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import kpt_render
from tests.unit.module_runner import run_module
from tests.unit.plugins.module_utils.kpt_fixtures import make_fake_kpt, make_plain_pkg


def tree(tmp_path):
    for n in ("a", "b", "c"):
        make_plain_pkg(tmp_path / "pkgs", n, n)
    return str(tmp_path / "pkgs")


def test_compare_returns_both_sides_paired(tmp_path):
    """Bug: before/after compared two passes minutes apart; one task now measures both sides."""
    res = run_module(kpt_render, {
        "root": tree(tmp_path), "kpt_path": make_fake_kpt(tmp_path), "runs": 3, "warmup": 1, "max_workers": 1,
        "scratch_dir": str(tmp_path),
        "compare": {"label_a": "before", "label_b": "after", "b": {"max_workers": 3, "cache": True,
                                                                   "cache_dir": str(tmp_path / "cache")}}})
    assert res["failed"] is False, res["msg"]
    names = [r["name"] for r in res["records"]]
    assert names[:2] == ["kpt_render/a (before)", "kpt_render/a@cold (before)"]
    assert "kpt_render/total (after)" in names and len(names) == 2 * (2 * 3 + 2)
    for rec in res["records"]:
        assert validate_record(rec) == []
        assert rec["context"]["pair"]["session"] == res["compare"]["session"]
        assert len(rec["context"]["pair"]["rounds"]) == len(rec["samples"])
    by = dict((r["name"], r) for r in res["records"])
    assert by["kpt_render/a (before)"]["context"]["concurrency"] == 1
    assert by["kpt_render/a (after)"]["context"]["concurrency"] == 3
    assert by["kpt_render/a (after)"]["context"]["cache"] == "hit"          # B's own option
    assert by["kpt_render/a (before)"]["context"]["cache"] == "off"
    assert by["kpt_render/total (before)"]["context"]["pair"]["rounds"] == [0, 1, 2]
    assert res["compare"]["concurrency_a"] == 1 and res["compare"]["concurrency_b"] == 3
    line = res["compare"]["timeline"]
    assert [e["side"] for e in line if e["phase"] == "run"] == ["a", "b", "b", "a", "a", "b"]
    assert "interleaved (ABBA)" in res["msg"] and "before" in res["msg"] and "after" in res["msg"]
    assert [n for n in (tmp_path).iterdir() if n.name.startswith("o2edge-kpt-render-")] == []


@pytest.mark.parametrize("compare,extra,needle", [
    ({"label_a": "x", "label_b": "x", "b": {"max_workers": 2}}, {}, "must differ"),
    ({"b": {}}, {}, "compare.b must override at least one option"),
    ({"label_a": "has space", "b": {"max_workers": 2}}, {}, "compare.label_a must be"),
    ({"b": {"max_workers": 0}}, {}, "compare.b.max_workers must be at least 1"),
    ({"b": {"max_workers": 2}}, {"mode": "apply"}, "compare needs mode=benchmark"),
    ({"b": {"cache_dir": "/tmp"}}, {}, "compare.b.cache_dir needs the cache on"),
])
def test_compare_bad_input(tmp_path, compare, extra, needle):
    args = {"root": tree(tmp_path), "kpt_path": make_fake_kpt(tmp_path), "compare": compare}
    args.update(extra)
    res = run_module(kpt_render, args)
    assert res["failed"] is True and needle in res["msg"], res["msg"]
