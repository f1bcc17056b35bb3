# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os
import shutil
import stat

import pytest
from ansible.module_utils import basic

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import kpt_render
from tests.unit.module_runner import run_module
from tests.unit.plugins.module_utils.kpt_fixtures import make_fake_kpt, make_plain_pkg


KPT = shutil.which("kpt")
needs_kpt = pytest.mark.skipif(KPT is None, reason="kpt not installed")


FN = """#!/bin/sh
sed 's/^\\(    name: cm.*\\)$/\\1\\n    labels:\\n      rendered: "yes"/'
"""


def make_tree(tmp_path):
    fn = tmp_path / "fn.sh"
    fn.write_text(FN)
    fn.chmod(fn.stat().st_mode | stat.S_IXUSR)
    root = tmp_path / "packages"
    for name in ("a", "b"):
        pkg = root / name
        pkg.mkdir(parents=True)
        (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: %s\npipeline:\n"
                                     "  mutators:\n    - exec: %s\n" % (name, fn))
        (pkg / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-%s\ndata:\n  a: b\n" % name)
    return root


@needs_kpt
def test_benchmark_mode(tmp_path):
    root = make_tree(tmp_path)
    before = (root / "a" / "cm.yaml").read_text()
    res = run_module(kpt_render, {"root": str(root), "allow_exec": True, "runs": 2, "max_workers": 2,
                                  "runtime": "podman", "scratch_dir": str(tmp_path)})
    assert res["failed"] is False and res["changed"] is False
    assert [r["name"] for r in res["records"]] == [
        "kpt_render/a", "kpt_render/a@cold", "kpt_render/b", "kpt_render/b@cold", "kpt_render/total", "kpt_render/total@cold"]
    for rec in res["records"]:
        assert validate_record(rec) == []
    assert res["total"]["name"] == "kpt_render/total" and len(res["total"]["samples"]) == 2
    assert res["total"]["context"]["workers"] == 2 and res["total"]["context"]["max_workers"] == 2
    assert res["runtime_env"] == {"KPT_FN_RUNTIME": "podman"}  # 1.0.0-beta.56 here
    assert (root / "a" / "cm.yaml").read_text() == before
    assert [n for n in os.listdir(str(tmp_path)) if n.startswith("o2edge-kpt-render-")] == []


@needs_kpt
def test_apply_mode_ladder(tmp_path):
    root = make_tree(tmp_path)
    args = {"root": str(root), "allow_exec": True, "runs": 1, "cold": False, "mode": "apply"}
    res = run_module(kpt_render, args, check_mode=True, diff=True)
    assert res["changed"] is True and "rendered" not in (root / "a" / "cm.yaml").read_text()
    assert any(d["after_header"].endswith("a/cm.yaml") and 'rendered: "yes"' in d["after"] for d in res["diff"])
    res = run_module(kpt_render, args)
    assert res["changed"] is True and 'rendered: "yes"' in (root / "a" / "cm.yaml").read_text()
    assert res["packages"][0]["changed_files"] == ["cm.yaml"]
    res = run_module(kpt_render, args, check_mode=True)
    assert res["changed"] is False
    res = run_module(kpt_render, args)
    assert res["changed"] is False


@needs_kpt
def test_failing_package_does_not_stop_others(tmp_path):
    root = make_tree(tmp_path)
    (root / "b" / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata: [oops\n")
    res = run_module(kpt_render, {"root": str(root), "allow_exec": True, "runs": 1})
    assert res["failed"] is True
    assert str(root / "b") in res["msg"] and "can't be read" in res["msg"]
    ok = [p for p in res["packages"] if p["ok"]]
    assert [p["name"] for p in ok] == ["a"]
    assert res["records"][0]["samples"]  # a still measured
    res = run_module(kpt_render, {"root": str(root), "allow_exec": True, "runs": 1, "fail_on_error": False})
    assert res["failed"] is False


@needs_kpt
def test_cache_hit_restores(tmp_path):
    root = make_tree(tmp_path)
    args = {"paths": [str(root / "a")], "allow_exec": True, "runs": 1, "cache": True,
            "cache_dir": str(tmp_path / "cache")}
    first = run_module(kpt_render, args)
    assert first["packages"][0]["cache"] == "hit"  # cold render missed and stored; the counted run hit
    assert first["records"][1]["context"]["cache"] == "miss"  # the cold record
    assert first["records"][0]["context"]["cache"] == "hit"
    second = run_module(kpt_render, dict(args, verify=True))
    assert second["packages"][0]["verify"] == "match"
    check = run_module(kpt_render, dict(args, cache_dir=str(tmp_path / "other")), check_mode=True)
    assert check["packages"][0]["cache"] == "miss"  # check mode does not write the cache
    assert not os.path.exists(str(tmp_path / "other"))


def test_total_reports_workers_used_and_requested(tmp_path):
    pkgs = [make_plain_pkg(tmp_path / "pkgs", n, n) for n in ("a", "b")]
    res = run_module(kpt_render, {"paths": [str(p) for p in pkgs], "kpt_path": make_fake_kpt(tmp_path),
                                  "runs": 1, "max_workers": 8})
    assert res["failed"] is False
    for rec in res["records"][-2:]:
        assert validate_record(rec) == []
        assert rec["context"]["workers"] == 2 and rec["context"]["max_workers"] == 8


def test_apply_write_back_failure_leaves_the_package_as_it_was(tmp_path, monkeypatch):
    pkgs = [make_plain_pkg(tmp_path / "pkgs", n, n) for n in ("a", "b")]
    for pkg in pkgs:
        (pkg / "rendered.txt").write_text("old\n")
    real_replace = os.replace

    def replace(src, dst):
        if dst.startswith(str(pkgs[0]) + os.sep):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    res = run_module(kpt_render, {"paths": [str(p) for p in pkgs], "kpt_path": make_fake_kpt(tmp_path),
                                  "mode": "apply", "runs": 1, "cold": False})
    assert res["failed"] is True and res["changed"] is True
    assert str(pkgs[0]) in res["msg"] and "No space left on device" in res["msg"]
    assert [p["ok"] for p in res["packages"]] == [False, True]
    assert (pkgs[0] / "rendered.txt").read_text() == "old\n"
    assert sorted(os.listdir(str(pkgs[0]))) == ["Kptfile", "input.data", "rendered.txt"]  # no temp file
    assert "input.data" in (pkgs[1] / "rendered.txt").read_text()  # the other package was written


@pytest.mark.parametrize("make_args,needle", [
    (lambda t: {"paths": [str(t)]}, "has no Kptfile, so it is not a kpt package"),
    (lambda t: {"paths": [str(t / "missing")]}, "is not a directory"),
    (lambda t: {"root": str(t)}, "contains no kpt package"),
    (lambda t: {"root": str(t), "runs": 0}, "runs must be at least 1, got 0"),
    (lambda t: {"root": str(t), "max_workers": 0}, "max_workers must be at least 1"),
    (lambda t: {"root": str(t), "verify": True}, "verify=true needs cache=true"),
    (lambda t: {"root": str(t), "kpt_path": str(t / "nokpt")}, "kpt.dev/installation"),
    (lambda t: {"root": str(t), "runtime": "parallel"}, "value of runtime must be one of"),
])
def test_bad_input(tmp_path, make_args, needle):
    res = run_module(kpt_render, make_args(tmp_path))
    assert res["failed"] is True and needle in res["msg"]


def test_kpt_not_on_path(tmp_path, monkeypatch):
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "Kptfile").write_text("x")
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", lambda self, *a, **k: None)
    res = run_module(kpt_render, {"paths": [str(tmp_path / "p")]})
    assert res["failed"] is True and "kpt was not found on PATH" in res["msg"] and "install" in res["msg"]


# --------------------------------------------------------------------- function_sandbox=bwrap

def _sandbox_tree(tmp_path):
    from tests.unit.plugins.module_utils.test_fn_sandbox import REF, TEAM_FN, make_image
    unpack = tmp_path / "unpacked"
    make_image(unpack, TEAM_FN)
    pkg = tmp_path / "packages" / "p"
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n"
                                 "  mutators:\n  - image: %s\n    configMap:\n      team: red\n" % REF)
    (pkg / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\ndata:\n  a: b\n")
    return unpack, pkg


@pytest.mark.skipif(not (KPT and shutil.which("bwrap")), reason="needs kpt and bwrap")
def test_apply_with_the_sandbox_writes_resources_not_the_rewritten_kptfile(tmp_path):
    unpack, pkg = _sandbox_tree(tmp_path)
    args = {"paths": [str(pkg)], "mode": "apply", "runs": 1, "cold": False, "function_sandbox": "bwrap",
            "sandbox_unpack_dir": str(unpack), "scratch_dir": str(tmp_path)}
    res = run_module(kpt_render, args)
    assert res["failed"] is False and res["changed"] is True, res["msg"]
    assert "name: cm1-red" in (pkg / "cm.yaml").read_text()
    assert "image: 198.18.0.1:5000/kpt-fn/team:v1" in (pkg / "Kptfile").read_text()
    assert "fn-sandbox" not in (pkg / "Kptfile").read_text() and "exec:" not in (pkg / "Kptfile").read_text()
    assert res["packages"][0]["function_paths"][0]["path"] == "sandbox"
    assert res["records"][0]["context"]["versions"]["bwrap"]
    assert res["packages"][0]["changed_files"] == ["cm.yaml"]  # the Kptfile is not written back
    again = run_module(kpt_render, args)
    assert again["changed"] is False


def test_sandbox_without_bwrap_fails_by_name(tmp_path, monkeypatch):
    unpack, pkg = _sandbox_tree(tmp_path)
    real = basic.AnsibleModule.get_bin_path

    def no_bwrap(self, arg, *a, **kw):
        return None if arg == "bwrap" else real(self, arg, *a, **kw)

    monkeypatch.setattr(basic.AnsibleModule, "get_bin_path", no_bwrap)
    res = run_module(kpt_render, {"paths": [str(pkg)], "function_sandbox": "bwrap", "kpt_path": make_fake_kpt(tmp_path),
                                  "sandbox_unpack_dir": str(unpack)})
    assert res["failed"] is True and "bwrap" in res["msg"] and "bubblewrap" in res["msg"]
