# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The renderer: timing, pool size, cache use, failure isolation, longest-first scheduling, records.

Most tests use a fake kpt (a shell script, tests/unit/plugins/module_utils/kpt_fixtures.py); two
use the machine's kpt (skipped without it) with an exec function written here. Nothing goes to
the network.
"""
from __future__ import annotations

import os
import time
import shutil

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _renderer as k
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kpt_sync import snapshot
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import find_packages
from tests.unit.plugins.module_utils.kpt_fixtures import (
    FakeResolver, make_fake_kpt, make_fn, make_pkg, make_plain_pkg)

KPT = shutil.which("kpt")


def render_with(kpt, packages, tmp_path, **kw):
    """Run a Renderer; returns (renderer, result, records, total, summaries, output snapshots)."""
    kw.setdefault("kpt_ver", "1.0.0-beta.56")
    kw.setdefault("resolver", FakeResolver({}))
    r = k.Renderer(kpt, packages, scratch_dir=str(tmp_path), **kw)
    result = r.run()
    try:
        records, total = r.records(result, {"kpt": "1.0.0-beta.56"})
        return r, result, records, total, k.package_summaries(r, result), [
            snapshot(o) if o else None for o in result["outputs"]]
    finally:
        shutil.rmtree(result["base"])


def test_package_labels_unique():
    pkgs = k.package_labels(["/x/a/edge1", "/y/b/edge1", "/z/edge2"])
    labels = [p.label for p in pkgs]
    assert labels[2] == "edge2" and labels[0] != labels[1]
    assert [p.label for p in k.package_labels(["/r/p/q"], root="/r")] == ["p/q"]


# --------------------------------------------------------------------- rendering with a fake kpt

def test_samples_are_the_real_render_time(tmp_path, monkeypatch):
    """A render that takes 0.2 s is reported as taking at least 0.2 s and no more than the whole call took
    around it (not a constant, not the lookup only). The upper bound is the wall time measured here, not a fixed
    figure: a loaded machine stretches both alike (a fixed 2 s bound failed under load)."""
    monkeypatch.setenv("FAKE_KPT_SLEEP", "0.2")
    packages = k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in ("a", "b")])
    started = time.monotonic()
    _r, _result, records, total, summaries, _out = render_with(
        make_fake_kpt(tmp_path), packages, tmp_path, runs=2, cold=True, max_workers=2)
    whole = time.monotonic() - started
    assert all(s["ok"] for s in summaries)
    assert [len(rec["samples"]) for rec in records] == [2, 1, 2, 1, 2, 1]  # a, a@cold, b, b@cold, totals
    for rec in records:
        assert all(0.2 <= x <= whole for x in rec["samples"]), (rec["name"], rec["samples"], whole)
    # the six renders, three at a time at most (two packages, two workers), cannot fit in less than 3 x 0.2 s
    assert whole >= 0.6


def test_total_reports_the_pool_size_used(tmp_path):
    packages = k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in ("a", "b")])
    _r, result, records, total, _s, _o = render_with(
        make_fake_kpt(tmp_path), packages, tmp_path, runs=1, cold=True, max_workers=8)
    assert result["workers"] == 2
    for rec in records[-2:]:
        assert rec["context"]["workers"] == 2 and rec["context"]["max_workers"] == 8
        assert "2 workers" in rec["context"]["command"]
    assert "workers" not in records[0]["context"]          # a package record has no pool
    _r, result, records, total, _s, _o = render_with(
        make_fake_kpt(tmp_path), packages, tmp_path, runs=1, cold=False, max_workers=1)
    assert total["context"]["workers"] == 1 and total["context"]["max_workers"] == 1


def test_cache_serves_each_package_its_own_render(tmp_path):
    """Two packages with the same Kptfile and other inputs: every hit restores that package's render."""
    kpt = make_fake_kpt(tmp_path)
    pkgs = [make_plain_pkg(tmp_path / "pkgs", n, "input of %s\n" % n) for n in ("a", "b", "c")]
    for pkg in pkgs:                                      # the same Kptfile everywhere
        (pkg / "Kptfile").write_text((pkgs[0] / "Kptfile").read_text())
    packages = k.package_labels([str(p) for p in pkgs])
    kw = dict(runs=2, cold=True, max_workers=3, allow_exec=True, cache_dir=str(tmp_path / "cache"))
    _r, _res, records, _t, summaries, outputs = render_with(kpt, packages, tmp_path, **kw)
    assert [s["cache"] for s in summaries] == ["hit"] * 3
    assert len(set(s["cache_key"] for s in summaries)) == 3
    for pkg, out in zip(pkgs, outputs):
        assert out["rendered.txt"][2].endswith(b"input of %s\n" % pkg.name.encode())
    # a second task: every render is a hit, still each with its own output
    _r, _res, records, _t, summaries, outputs2 = render_with(kpt, packages, tmp_path, **kw)
    assert [rec["context"]["cache"] for rec in records[:6]] == ["hit"] * 6
    assert outputs2 == outputs


def test_cache_renamed_file_is_rendered_again(tmp_path):
    kpt = make_fake_kpt(tmp_path)
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "same bytes\n")
    packages = k.package_labels([str(pkg)])
    kw = dict(runs=1, cold=True, cache_dir=str(tmp_path / "cache"))
    _r, _res, _rec, _t, summaries, outputs = render_with(kpt, packages, tmp_path, **kw)
    assert b"input.data" in outputs[0]["rendered.txt"][2]
    os.rename(str(pkg / "input.data"), str(pkg / "renamed.data"))
    _r, _res, records, _t, summaries2, outputs2 = render_with(kpt, packages, tmp_path, **kw)
    assert records[1]["context"]["cache"] == "miss"        # the cold render after the rename
    assert summaries2[0]["cache_key"] != summaries[0]["cache_key"]
    rendered = outputs2[0]["rendered.txt"][2]
    assert b"renamed.data" in rendered and b"input.data" not in rendered
    assert "input.data" not in outputs2[0]


def test_cache_store_failure_is_reported(tmp_path):
    kpt = make_fake_kpt(tmp_path)
    packages = k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", "p", "x"))])
    (tmp_path / "cache").write_text("a file where the cache directory should be")
    _r, _res, _rec, _t, summaries, _o = render_with(
        kpt, packages, tmp_path, runs=1, cold=False, cache_dir=str(tmp_path / "cache"))
    assert summaries[0]["ok"] is True and summaries[0]["cache"] == "miss"
    assert summaries[0]["cache_error"].startswith("store failed")


def test_failed_package_does_not_stop_the_others(tmp_path):
    kpt = make_fake_kpt(tmp_path)
    good = make_plain_pkg(tmp_path / "pkgs", "good", "x")
    bad = make_plain_pkg(tmp_path / "pkgs", "bad", "x")
    (bad / "FAIL").write_text("")
    packages = k.package_labels([str(good), str(bad)])
    _r, _res, records, total, summaries, outputs = render_with(kpt, packages, tmp_path, runs=2, cold=True,
                                                               max_workers=2)
    assert [s["ok"] for s in summaries] == [True, False] and outputs[1] is None
    assert records[0]["failures"] == 0 and len(records[0]["samples"]) == 2
    assert records[2]["failures"] == 2 and records[2]["samples"] == [] and records[3]["failures"] == 1
    assert "failed on purpose" in summaries[1]["error"] and str(bad) in summaries[1]["error"]
    assert total["failures"] == 2 and total["samples"] == []  # a total with a failed package is not a figure


def test_a_fifo_in_one_package_fails_that_package_only_and_never_blocks(tmp_path):
    kpt = make_fake_kpt(tmp_path)
    good = make_plain_pkg(tmp_path / "pkgs", "good", "x")
    bad = make_plain_pkg(tmp_path / "pkgs", "bad", "x")
    os.mkfifo(str(bad / "pipe.yaml"))
    packages = k.package_labels([str(good), str(bad)])
    _r, _res, records, _total, summaries, _outputs = render_with(kpt, packages, tmp_path, runs=2, max_workers=2)
    assert [s["ok"] for s in summaries] == [True, False]
    assert "cannot copy the package for rendering" in summaries[1]["error"]
    assert "pipe.yaml" in summaries[1]["error"]
    assert records[0]["failures"] == 0 and len(records[0]["samples"]) == 2


# --------------------------------------------------------------------- rendering with the real kpt

@pytest.mark.skipif(KPT is None, reason="kpt not installed")
def test_renderer_failure_isolation_and_cache(tmp_path):
    make_fn(tmp_path / "pkgs")
    good = make_pkg(tmp_path / "pkgs", "good", sub=True)
    bad = tmp_path / "pkgs" / "bad"
    bad.mkdir()
    (bad / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: [oops\n")
    pristine = snapshot(str(good))
    packages = k.package_labels(find_packages(str(tmp_path / "pkgs")), root=str(tmp_path / "pkgs"))

    def render(**kw):
        return render_with(KPT, packages, tmp_path, runs=2, warmup=1, cold=True, max_workers=2, allow_exec=True,
                           cache_dir=str(tmp_path / "cache"), **kw)

    r, result, records, total, summaries, outputs = render()
    names = [rec["name"] for rec in records]
    assert names == ["kpt_render/bad", "kpt_render/bad@cold", "kpt_render/good", "kpt_render/good@cold",
                     "kpt_render/total", "kpt_render/total@cold"]
    bad_rec, good_rec = records[0], records[2]
    assert bad_rec["failures"] == 2 and bad_rec["samples"] == []
    assert str(bad) in bad_rec["errors"][0]["error"] and "can't be read" in bad_rec["errors"][0]["error"]
    assert str(bad) in bad_rec["errors"][0]["stderr"]  # the scratch path is replaced by the package path
    assert good_rec["failures"] == 0 and len(good_rec["samples"]) == 2
    assert good_rec["warmup"] == 1 and len(records[3]["samples"]) == 1
    assert total["failures"] == 2 and total["samples"] == []  # a total with a failed package is not a figure
    assert summaries[0]["ok"] is False and summaries[1]["ok"] is True
    assert b'rendered: "yes"' in outputs[1]["cm.yaml"][2]
    assert snapshot(str(good)) == pristine  # benchmark mode leaves the package untouched
    # cold render missed and stored, later ones hit
    assert summaries[1]["cache"] == "hit" and summaries[1]["cache_key"]
    assert records[3]["context"]["cache"] == "miss" and records[2]["context"]["cache"] == "hit"

    r, result, records, total, summaries, outputs2 = render(verify=True)
    assert summaries[1]["verify"] == "match"
    assert outputs2[1] == outputs[1]  # cached output byte-identical to the render that filled it


@pytest.mark.skipif(KPT is None, reason="kpt not installed")
def test_renderer_exec_path_resolves_against_package_dir(tmp_path):
    make_fn(tmp_path)
    pkg = make_pkg(tmp_path, "p")  # exec: ../fn.sh, relative to the package directory
    r = k.Renderer(KPT, k.package_labels([str(pkg)]), runs=1, cold=False, allow_exec=True, scratch_dir=str(tmp_path))
    result = r.run()
    try:
        assert result["per_pkg"][0]["errors"] == []
    finally:
        shutil.rmtree(result["base"])
    # the same package rendered from another directory cannot find its function
    r = k.Renderer(KPT, k.package_labels([str(pkg)]), runs=1, cold=False, allow_exec=True, chdir="/",
                   scratch_dir=str(tmp_path))
    result = r.run()
    try:
        err = result["per_pkg"][0]["errors"][0]["error"]
        assert "fn.sh" in err
    finally:
        shutil.rmtree(result["base"])


# --------------------------------------------------------------------- scheduling (longest first)

IMG_KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {name}
pipeline:
  mutators:
{fns}"""


def make_sched_pkg(base, name, images=0, execs=0, sub_execs=None):
    pkg = base / name
    pkg.mkdir(parents=True)
    fns = "".join(["    - image: registry.example/fn/img%d:v1\n" % i for i in range(images)] +
                  ["    - exec: ./fn%d.py\n" % i for i in range(execs)])
    (pkg / "Kptfile").write_text(IMG_KPTFILE.format(name=name, fns=fns or "    []\n"))
    if sub_execs is not None:
        (pkg / "sub").mkdir()
        sub = "".join("    - exec: ./s%d.py\n" % i for i in range(sub_execs))
        (pkg / "sub" / "Kptfile").write_text(IMG_KPTFILE.format(name="sub", fns=sub or "    []\n"))
    return pkg


def test_static_cost_weights_images_and_counts_subpackages(tmp_path):
    two_exec = k.static_cost(str(make_sched_pkg(tmp_path, "e2", execs=2)))
    two_img = k.static_cost(str(make_sched_pkg(tmp_path, "i2", images=2)))
    mixed = k.static_cost(str(make_sched_pkg(tmp_path, "m", images=2, execs=2)))
    with_sub = k.static_cost(str(make_sched_pkg(tmp_path, "s", execs=2, sub_execs=2)))
    assert two_exec == k.KPTFILE_COST + 2 * k.EXEC_FN_COST
    assert two_img == k.KPTFILE_COST + 2 * k.IMAGE_FN_COST
    assert two_exec < two_img < mixed
    assert with_sub == 2 * k.KPTFILE_COST + 4 * k.EXEC_FN_COST  # the subpackage's functions count
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "Kptfile").write_text("metadata: [oops\n")
    assert k.static_cost(str(bad)) == k.KPTFILE_COST


def test_lpt_order_longest_first_ties_stable():
    assert k.lpt_order([1.0, 3.0, 2.0, 3.0]) == [1, 3, 2, 0]
    assert k.lpt_order([]) == []
    assert k.lpt_order([0.5]) == [0]


def test_estimate_costs_prefers_measured_and_scales_static():
    static = [2.0, 4.0, 1.0]
    assert k.estimate_costs(static, [None, None, None]) == static
    assert k.estimate_costs(static, [0.3, 0.1, 0.2]) == [0.3, 0.1, 0.2]
    # package 0 measured at 1.0 s for a static 2.0: the others' estimates become seconds (x 0.5)
    assert k.estimate_costs(static, [1.0, None, None]) == [1.0, 2.0, 0.5]
    assert k.lpt_order(k.estimate_costs(static, [1.0, None, None])) == [1, 0, 2]


def test_renderer_hands_packages_out_longest_first(tmp_path, monkeypatch):
    """Static order for the first render, then the previous render's measured durations."""
    pkgs = [make_sched_pkg(tmp_path, "a-small", execs=1), make_sched_pkg(tmp_path, "b-images", images=2),
            make_sched_pkg(tmp_path, "c-mixed", images=2, execs=2), make_sched_pkg(tmp_path, "d-sub", execs=1,
                                                                                   sub_execs=2)]
    packages = k.package_labels([str(p) for p in pkgs])
    fake_seconds = {"a-small": 9.0, "b-images": 1.0, "c-mixed": 2.0, "d-sub": 3.0}
    calls = []

    def fake_job(self, pkg, work):
        calls.append(pkg.label)
        return {"ok": True, "seconds": fake_seconds[pkg.label], "rc": 0, "error": "", "stderr": "", "cache": "off"}

    monkeypatch.setattr(k.Renderer, "_job", fake_job)
    # one worker: the order jobs are started is exactly the order they were handed out
    r = k.Renderer("kpt", packages, runs=2, cold=True, max_workers=1, scratch_dir=str(tmp_path))
    result = r.run()
    try:
        static_first = ["c-mixed", "b-images", "d-sub", "a-small"]
        measured_first = ["a-small", "d-sub", "c-mixed", "b-images"]
        assert calls == static_first + measured_first + measured_first
        orders = [[packages[i].label for i in o] for o in result["orders"]]
        assert orders == [static_first, measured_first, measured_first]
        records, total = r.records(result, {"kpt": "x"})
        assert total["context"]["schedule"] == "longest-first"
        assert total["context"]["order"] == measured_first
        # results stay in package order whatever the schedule
        assert [rec["samples"][0] for rec in records if rec["name"].endswith(("-small", "-images"))] == [9.0, 1.0]
    finally:
        shutil.rmtree(result["base"])


def test_default_workers_is_twice_the_cpus(monkeypatch):
    monkeypatch.setattr(k.os, "cpu_count", lambda: 2)
    assert k.default_workers() == 4
    assert k.Renderer("kpt", [], scratch_dir="/tmp").max_workers == 4
    assert k.Renderer("kpt", [], max_workers=1, scratch_dir="/tmp").max_workers == 1
    monkeypatch.setattr(k.os, "cpu_count", lambda: 3)
    assert k.default_workers() == 6
    monkeypatch.setattr(k.os, "cpu_count", lambda: None)
    assert k.default_workers() == 2
