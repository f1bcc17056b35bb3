# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Interleaved kpt render comparisons (issue 16 item 1): two configurations measured in one window.

Before, ``before_after`` compared a pass before optimize with a pass after it, minutes apart, and
per-package renders of a sequential pass with those of a parallel one: a load change between the
passes was credited to the optimization, and per-package latencies at different concurrency were
compared as one quantity. These tests pin the interleaved design: the sides alternate ABBA, the
round of each sample is kept (a failure leaves a gap, never a shift), the records are labelled and
paired, and a per-package record says how many renders ran at once.
"""
from __future__ import annotations

import shutil
import threading

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _renderer as k
from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from tests.unit.plugins.module_utils.kpt_fixtures import FakeResolver, make_fake_kpt, make_plain_pkg


class Calls(object):
    """A fake render job that records which side rendered which package, and fails on demand."""

    def __init__(self, fail=()):
        self.calls = []
        self.counts = {}
        self.fail = set(fail)           # (side, package label, n-th call of that side for that package)
        self.lock = threading.Lock()

    def job(self, renderer, pkg, work):
        with self.lock:
            key = (renderer.tag, pkg.label)
            n = self.counts.get(key, 0)
            self.counts[key] = n + 1
            self.calls.append(renderer.tag)
        if (renderer.tag, pkg.label, n) in self.fail:
            return {"ok": False, "seconds": 0.01, "rc": 1, "error": "failed on purpose", "stderr": "", "cache": "off"}
        return {"ok": True, "seconds": 0.1 if renderer.tag == "a" else 0.05, "rc": 0, "error": "", "stderr": "",
                "cache": "off"}


def pair(tmp_path, monkeypatch, calls, labels=("a", "b"), workers=(1, 1), runs=3, warmup=1, cold=True):
    monkeypatch.setattr(k.Renderer, "_job", lambda self, pkg, work: calls.job(self, pkg, work))  # pylint: disable=unnecessary-lambda
    packages = k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in labels])
    sides = []
    for tag, mw in zip("ab", workers):
        r = k.Renderer(make_fake_kpt(tmp_path), packages, runs=runs, warmup=warmup, cold=cold, max_workers=mw,
                       scratch_dir=str(tmp_path), kpt_ver="1.0.0-beta.56", resolver=FakeResolver({}))
        r.tag = tag
        sides.append(r)
    res_a, res_b, schedule = k.run_pair(*sides)
    for res in (res_a, res_b):
        shutil.rmtree(res["base"])
    return sides, res_a, res_b, schedule


def test_sides_alternate_abba_in_one_window(tmp_path, monkeypatch):
    """Bug: the two configurations ran as two passes (all A, then all B), so a load change between
    them looked like an effect. Each iteration must go to one side, alternating a-b, b-a, a-b."""
    calls = Calls()
    _sides, _a, _b, schedule = pair(tmp_path, monkeypatch, calls, runs=3, warmup=1)
    per_iteration = [calls.calls[i] for i in range(0, len(calls.calls), 2)]      # 2 packages, 1 worker
    assert all(calls.calls[i] == calls.calls[i + 1] for i in range(0, len(calls.calls), 2))
    # cold a, cold b; warm-up a, b; round 0 a, b; round 1 b, a; round 2 a, b
    assert "".join(per_iteration) == "ab" + "ab" + "ab" + "ba" + "ab"
    assert [s for p, _i, s in schedule if p == "run"] == list("abbaab")
    # the timeline is what ran, by start time: the same alternation, one iteration after the other
    line = k.pair_timeline(_a, _b)
    assert "".join(e["side"] for e in line) == "ab" "ab" "ab" "ba" "ab"
    assert [(e["phase"], e["run"]) for e in line][:4] == [("cold", 0), ("cold", 0), ("warmup", 0), ("warmup", 0)]
    assert all(x["end"] <= y["start"] for x, y in zip(line, line[1:]))


def test_pair_schedule_rotates_warmups_and_rounds():
    from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import pair_schedule
    assert pair_schedule(4, 2) == [("warmup", 0, "a"), ("warmup", 0, "b"), ("warmup", 1, "b"), ("warmup", 1, "a"),
                                   ("run", 0, "a"), ("run", 0, "b"), ("run", 1, "b"), ("run", 1, "a"),
                                   ("run", 2, "a"), ("run", 2, "b"), ("run", 3, "b"), ("run", 3, "a")]
    with pytest.raises(ValueError):
        pair_schedule(0)


def test_failed_run_leaves_a_gap_not_a_shift(tmp_path, monkeypatch):
    """Bug this guards: pairing by position. Side a's package x fails in round 1 (its 4th call: cold,
    warm-up, round 0, round 1); its samples must keep rounds [0, 2], b's [0, 1, 2], so round 2 of a
    pairs with round 2 of b, not with b's round 1."""
    calls = Calls(fail={("a", "x", 3)})
    sides, res_a, res_b, _s = pair(tmp_path, monkeypatch, calls, labels=("x", "y"))
    recs_a, total_a = sides[0].records(res_a, {}, pair={"label": "before", "side": "a", "session": "s1"})
    recs_b, total_b = sides[1].records(res_b, {}, pair={"label": "after", "side": "b", "session": "s1"})
    by_name = dict((r["name"], r) for r in recs_a + recs_b)
    xa, xb = by_name["kpt_render/x (before)"], by_name["kpt_render/x (after)"]
    assert xa["context"]["pair"]["rounds"] == [0, 2] and len(xa["samples"]) == 2 and xa["failures"] == 1
    assert [e["round"] for e in xa["errors"]] == [1]
    assert xb["context"]["pair"]["rounds"] == [0, 1, 2] and len(xb["samples"]) == 3
    assert by_name["kpt_render/y (before)"]["context"]["pair"]["rounds"] == [0, 1, 2]
    # the total of a failed iteration is not a sample either
    assert total_a["context"]["pair"]["rounds"] == [0, 2] and len(total_a["samples"]) == 2
    assert total_b["context"]["pair"]["rounds"] == [0, 1, 2]


def test_records_are_labelled_and_paired(tmp_path, monkeypatch):
    calls = Calls()
    sides, res_a, res_b, _s = pair(tmp_path, monkeypatch, calls, runs=2, warmup=0)
    recs_a, _ta = sides[0].records(res_a, {}, pair={"label": "before", "side": "a", "session": "s1"})
    recs_b, _tb = sides[1].records(res_b, {}, pair={"label": "after", "side": "b", "session": "s1"})
    assert [r["name"] for r in recs_a] == [
        "kpt_render/a (before)", "kpt_render/a@cold (before)", "kpt_render/b (before)", "kpt_render/b@cold (before)",
        "kpt_render/total (before)", "kpt_render/total@cold (before)"]
    assert [r["name"] for r in recs_b][-2:] == ["kpt_render/total (after)", "kpt_render/total@cold (after)"]
    for ra, rb in zip(recs_a, recs_b):
        assert validate_record(ra) == [] and validate_record(rb) == []
        pa, pb = ra["context"]["pair"], rb["context"]["pair"]
        assert pa["id"] == pb["id"] == ra["name"].rsplit(" (", 1)[0]
        assert (pa["side"], pa["label"], pb["side"], pb["label"]) == ("a", "before", "b", "after")
        assert pa["session"] == pb["session"] == "s1"
        assert pa["design"] == "interleaved" and pa["order"] == "ABBA"
        assert len(pa["rounds"]) == len(ra["samples"]) and len(pb["rounds"]) == len(rb["samples"])
    # the samples are each side's own (a's fake render takes 0.1 s, b's 0.05 s)
    assert set(recs_a[0]["samples"]) == {0.1} and set(recs_b[0]["samples"]) == {0.05}


@pytest.mark.parametrize("max_workers,expected", [(1, 1), (4, 4), (8, 5)])
def test_package_record_concurrency(tmp_path, monkeypatch, max_workers, expected):
    """Bug: per-package renders of a sequential pass and a parallel pass were compared (smo-gateway
    +61% "Slower" only because it shared the CPUs). A package record must say how many renders ran
    at once: the pool size actually used (5 packages: 1 worker -> 1, 4 workers -> 4, 8 -> 5)."""
    calls = Calls()
    sides, res_a, res_b, _s = pair(tmp_path, monkeypatch, calls, labels=("p1", "p2", "p3", "p4", "p5"),
                                   workers=(max_workers, 2), runs=1, warmup=0, cold=False)
    recs_a, _t = sides[0].records(res_a, {})
    recs_b, _t = sides[1].records(res_b, {})
    assert [r["context"]["concurrency"] for r in recs_a if r["name"] != "kpt_render/total"] == [expected] * 5
    assert [r["context"]["concurrency"] for r in recs_b if r["name"] != "kpt_render/total"] == [2] * 5


def test_pair_refuses_sides_of_different_shape(tmp_path):
    packages = k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in ("a",)])
    a = k.Renderer("kpt", packages, runs=3, scratch_dir=str(tmp_path))
    b = k.Renderer("kpt", packages, runs=2, scratch_dir=str(tmp_path))
    with pytest.raises(k.KptError, match="same packages with the same runs"):
        k.run_pair(a, b)
