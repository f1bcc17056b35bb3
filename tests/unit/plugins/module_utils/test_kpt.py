# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kpt helpers: version/runtime selection, Kptfile parsing, discovery, cache key, cache, sync.

The render tests use the machine's kpt (skipped without it) with an exec function written
here; nothing goes to the network and no duration is asserted.
"""
from __future__ import annotations

import os
import shutil
import stat

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _kpt as k

KPT = shutil.which("kpt")

KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {name}
pipeline:
  mutators:
    - exec: {exec_path}
      configMap:
        team: {team}
{extra}"""

FN = """#!/bin/sh
# adds a label to every resource (reads and writes a ResourceList)
sed 's/^\\(    name: cm.*\\)$/\\1\\n    labels:\\n      rendered: "yes"/'
"""

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{n}\ndata:\n  a: b\n"


class FakeResolver(object):
    def __init__(self, known):
        self.known = known

    def identity(self, image):
        return self.known.get(image)


def make_pkg(base, name, exec_path="../fn.sh", team="a", extra="", sub=False):
    pkg = base / name
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(KPTFILE.format(name=name, exec_path=exec_path, team=team, extra=extra))
    (pkg / "cm.yaml").write_text(CM.format(n=1))
    if sub:
        (pkg / "sub").mkdir()
        (pkg / "sub" / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: sub\n")
        (pkg / "sub" / "cm.yaml").write_text(CM.format(n=2))
    return pkg


def make_fn(base):
    base.mkdir(parents=True, exist_ok=True)
    fn = base / "fn.sh"
    fn.write_text(FN)
    fn.chmod(fn.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return fn


# --------------------------------------------------------------------- version -> runtime variable

@pytest.mark.parametrize("text,expected", [
    ("1.0.0-beta.56", (1, 0, 0, 1, 56)),
    ("v1.0.0-beta.59\n", (1, 0, 0, 1, 59)),
    ("1.0.0-rc.1", (1, 0, 0, 2, 1)),
    ("1.0.0", (1, 0, 0, 3, 0)),
    ("kpt version 1.0.0-alpha.3", (1, 0, 0, 0, 3)),
    ("unknown", None),
    ("", None),
])
def test_parse_kpt_version(text, expected):
    assert k.parse_kpt_version(text) == expected


@pytest.mark.parametrize("text,var", [
    ("1.0.0-beta.49", ("KPT_FN_RUNTIME",)),
    ("1.0.0-beta.56", ("KPT_FN_RUNTIME",)),
    ("1.0.0-beta.58", ("KPT_FN_RUNTIME",)),
    ("1.0.0-beta.59", ("KRM_FN_RUNTIME",)),
    ("1.0.0-beta.61", ("KRM_FN_RUNTIME",)),
    ("1.0.0-rc.1", ("KRM_FN_RUNTIME",)),
    ("1.0.0", ("KRM_FN_RUNTIME",)),
    ("1.1.0-beta.1", ("KRM_FN_RUNTIME",)),
    ("0.39.2", ("KPT_FN_RUNTIME",)),
    ("garbage", ("KPT_FN_RUNTIME", "KRM_FN_RUNTIME")),
])
def test_runtime_variable_follows_version(text, var):
    assert k.runtime_env_vars(k.parse_kpt_version(text)) == var


# --------------------------------------------------------------------- Kptfile parsing and discovery

def test_parse_kptfile_functions():
    text = KPTFILE.format(name="p", exec_path="./fn.sh", team="a",
                          extra="  validators:\n    - image: 198.18.0.1:5000/kpt-fn/require-labels:v1\n")
    fns = k.parse_kptfile(text, "p/Kptfile")
    assert [f["stage"] for f in fns] == ["mutators", "validators"]
    assert fns[0]["fn"]["exec"] == "./fn.sh" and fns[0]["fn"]["configMap"] == {"team": "a"}
    assert fns[1]["fn"]["image"].endswith("require-labels:v1")
    assert k.parse_kptfile("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: x\n") == []


@pytest.mark.parametrize("text,needle", [
    ("metadata: [oops\n", "invalid Kptfile bad/Kptfile"),
    ("- a\n- b\n", "not a mapping"),
    ("pipeline: [1]\n", "pipeline is not a mapping"),
    ("pipeline:\n  mutators: {a: 1}\n", "pipeline.mutators is not a list"),
    ("pipeline:\n  mutators:\n  - configMap: {a: b}\n", "neither image nor exec"),
])
def test_parse_kptfile_invalid(text, needle):
    with pytest.raises(k.KptError) as err:
        k.parse_kptfile(text, "bad/Kptfile")
    assert needle in str(err.value)


def test_parse_kptfile_without_yaml(monkeypatch):
    monkeypatch.setattr(k, "HAS_YAML", False)
    text = KPTFILE.format(name="p", exec_path="/opt/fn.py", team="a", extra="    - image: 'reg/x:v1'\n")
    fns = k.parse_kptfile(text)
    assert [f["fn"] for f in fns] == [{"exec": "/opt/fn.py"}, {"image": "reg/x:v1"}]


def test_find_packages_top_level_only(tmp_path):
    make_pkg(tmp_path / "packages", "b", sub=True)
    make_pkg(tmp_path / "packages", "a")
    (tmp_path / "packages" / "notapkg").mkdir()
    (tmp_path / "packages" / ".git").mkdir()
    (tmp_path / "packages" / ".git" / "Kptfile").write_text("x")
    found = k.find_packages(str(tmp_path / "packages"))
    assert found == [str(tmp_path / "packages" / "a"), str(tmp_path / "packages" / "b")]
    # a root that is itself a package is the one package
    assert k.find_packages(str(tmp_path / "packages" / "b")) == [str(tmp_path / "packages" / "b")]
    assert k.find_packages(str(tmp_path / "packages" / "notapkg")) == []


def test_package_labels_unique():
    pkgs = k.package_labels(["/x/a/edge1", "/y/b/edge1", "/z/edge2"])
    labels = [p.label for p in pkgs]
    assert labels[2] == "edge2" and labels[0] != labels[1]
    assert [p.label for p in k.package_labels(["/r/p/q"], root="/r")] == ["p/q"]


def test_resolve_exec_relative_to_cwd(tmp_path):
    assert k.resolve_exec("../fn.sh", str(tmp_path / "pkg")) == str(tmp_path / "fn.sh")
    assert k.resolve_exec("/abs/fn --flag", "/ignored") == "/abs/fn"
    assert k.resolve_exec("sh", "/ignored") == shutil.which("sh")


# --------------------------------------------------------------------- cache key

def key_of(pkg, cwd, resolver=None, ver="1.0.0-beta.56", flags=None):
    return k.cache_key(k.fingerprint(str(pkg)), str(cwd), resolver or FakeResolver({}), ver,
                       flags or {"allow_exec": True, "image_pull_policy": None})


def test_cache_key_stable_and_content_sensitive(tmp_path):
    make_fn(tmp_path)
    pkg = make_pkg(tmp_path, "p", sub=True)
    first = key_of(pkg, pkg)
    assert first == key_of(pkg, pkg) and len(first) == 64
    (pkg / "sub" / "cm.yaml").write_text(CM.format(n=3))           # a subpackage file
    second = key_of(pkg, pkg)
    assert second != first
    (pkg / "new.yaml").write_text("")                                # a new empty file
    assert key_of(pkg, pkg) != second
    os.unlink(str(pkg / "new.yaml"))
    assert key_of(pkg, pkg) == second
    os.chmod(str(pkg / "cm.yaml"), 0o755)                            # the executable bit
    assert key_of(pkg, pkg) != second


def test_cache_key_function_identity(tmp_path):
    fn = make_fn(tmp_path)
    pkg = make_pkg(tmp_path, "p")
    base = key_of(pkg, pkg)
    fn.write_text(FN + "# changed\n")                               # exec file content
    changed_fn = key_of(pkg, pkg)
    assert changed_fn != base
    # a different function config is a different key (it is in the Kptfile too)
    other = make_pkg(tmp_path / "o", "p", team="b")
    (tmp_path / "o" / "fn.sh").write_text(fn.read_text())
    assert key_of(other, other) != changed_fn
    # other kpt version or flags
    assert key_of(pkg, pkg, ver="1.0.0-beta.59") != changed_fn
    assert key_of(pkg, pkg, flags={"allow_exec": True, "image_pull_policy": "never"}) != changed_fn
    # missing executable: no key (uncacheable)
    fn.unlink()
    assert key_of(pkg, pkg) is None


def test_cache_key_image_digest(tmp_path):
    pkg = tmp_path / "img"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: img\npipeline:\n"
                                 "  mutators:\n    - image: reg/fn:v1\n")
    one = key_of(pkg, pkg, FakeResolver({"reg/fn:v1": "sha256:aaa sha256:m1"}))
    two = key_of(pkg, pkg, FakeResolver({"reg/fn:v1": "sha256:bbb sha256:m2"}))
    assert one and two and one != two                 # same tag, other image: other key
    assert key_of(pkg, pkg, FakeResolver({})) is None  # image not present: no key


def test_cache_key_invalid_kptfile(tmp_path):
    pkg = tmp_path / "bad"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("metadata: [oops\n")
    with pytest.raises(k.KptError):
        key_of(pkg, pkg)


def test_render_cache_store_restore(tmp_path):
    src = make_pkg(tmp_path, "p", sub=True)
    os.symlink("cm.yaml", str(src / "link.yaml"))
    cache = k.RenderCache(str(tmp_path / "cache"))
    assert not cache.has("ab" * 32)
    cache.store("ab" * 32, str(src), {"package": "p"})
    assert cache.has("ab" * 32)
    dest = tmp_path / "restored"
    (dest / "stale").mkdir(parents=True)
    assert cache.restore("ab" * 32, str(dest))
    assert k.snapshot(str(dest)) == k.snapshot(str(src))
    assert os.path.islink(str(dest / "link.yaml"))
    assert not cache.restore("cd" * 32, str(dest))
    cache.store("ab" * 32, str(src))  # replacing an entry works
    assert not [n for n in os.listdir(str(tmp_path / "cache" / "ab")) if n.startswith(".tmp-")]


# --------------------------------------------------------------------- comparison and write-back

def test_semantic_changes_ignores_key_order():
    before = {"a.yaml": ("f", 0, b"x: 1\ny: 2\n"), "b.yaml": ("f", 0, b"x: 1\n"), "c.txt": ("f", 0, b"1 2")}
    after = {"a.yaml": ("f", 0, b"y: 2\nx: 1\n"), "b.yaml": ("f", 0, b"x: 2\n"), "c.txt": ("f", 0, b"2 1"),
             "d.yaml": ("f", 0, b"new: 1\n")}
    assert k.changed_paths(before, after) == ["a.yaml", "b.yaml", "c.txt", "d.yaml"]
    assert k.semantic_changes(before, after) == ["b.yaml", "c.txt", "d.yaml"]


def test_sync_tree_and_diff(tmp_path):
    src = make_pkg(tmp_path / "src", "p", sub=True)
    dst = tmp_path / "dst"
    shutil.copytree(str(src), str(dst))
    (src / "cm.yaml").write_text(CM.format(n=9))
    (src / "sub" / "new.yaml").write_text("a: 1\n")
    os.unlink(str(src / "sub" / "cm.yaml"))
    (dst / "gone").mkdir()
    (dst / "gone" / "x.yaml").write_text("x")
    before, after = k.snapshot(str(dst)), k.snapshot(str(src))
    diffs = k.diff_entries("p", before, after)
    headers = sorted((d["before_header"], d["after_header"]) for d in diffs)
    assert ("p/cm.yaml", "p/cm.yaml") in headers
    assert ("/dev/null", "p/sub/new.yaml") in headers and ("p/sub/cm.yaml", "/dev/null") in headers
    k.sync_tree(str(src), str(dst))
    assert k.snapshot(str(dst)) == k.snapshot(str(src))
    assert not [n for n in os.listdir(str(dst)) if n.endswith(".o2edge-tmp")]


# --------------------------------------------------------------------- rendering with the real kpt

@pytest.mark.skipif(KPT is None, reason="kpt not installed")
def test_renderer_failure_isolation_and_cache(tmp_path):
    make_fn(tmp_path / "pkgs")
    good = make_pkg(tmp_path / "pkgs", "good", sub=True)
    bad = tmp_path / "pkgs" / "bad"
    bad.mkdir()
    (bad / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: [oops\n")
    pristine = k.snapshot(str(good))
    packages = k.package_labels(k.find_packages(str(tmp_path / "pkgs")), root=str(tmp_path / "pkgs"))
    cache_dir = tmp_path / "cache"

    def render(**kw):
        r = k.Renderer(KPT, packages, runs=2, warmup=1, cold=True, max_workers=2, allow_exec=True,
                       cache_dir=str(cache_dir), kpt_ver="1.0.0-beta.56", resolver=FakeResolver({}),
                       scratch_dir=str(tmp_path), **kw)
        result = r.run()
        try:
            records, total = r.records(result, {"kpt": "1.0.0-beta.56"})
            return r, result, records, total, k.package_summaries(r, result), [
                k.snapshot(o) if o else None for o in result["outputs"]]
        finally:
            shutil.rmtree(result["base"])

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
    assert k.snapshot(str(good)) == pristine  # benchmark mode leaves the package untouched
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


def test_default_workers_is_one_more_than_the_cpus(monkeypatch):
    monkeypatch.setattr(k.os, "cpu_count", lambda: 2)
    assert k.default_workers() == 3
    assert k.Renderer("kpt", [], scratch_dir="/tmp").max_workers == 3
    assert k.Renderer("kpt", [], max_workers=1, scratch_dir="/tmp").max_workers == 1
    monkeypatch.setattr(k.os, "cpu_count", lambda: None)
    assert k.default_workers() == 2
