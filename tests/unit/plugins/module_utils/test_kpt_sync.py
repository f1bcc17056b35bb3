# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendered output against the package: semantic changes, diffs, write-back and its failures."""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kpt_sync as ks
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._renderer import package_labels
from tests.unit.plugins.module_utils.kpt_fixtures import CM, make_pkg


def tmp_leftovers(root):
    return [os.path.join(d, n) for d, _dirs, files in os.walk(str(root)) for n in files
            if n.endswith(ks.TMP_SUFFIX)]


def test_semantic_changes_ignores_key_order():
    before = {"a.yaml": ("f", 0, b"x: 1\ny: 2\n"), "b.yaml": ("f", 0, b"x: 1\n"), "c.txt": ("f", 0, b"1 2")}
    after = {"a.yaml": ("f", 0, b"y: 2\nx: 1\n"), "b.yaml": ("f", 0, b"x: 2\n"), "c.txt": ("f", 0, b"2 1"),
             "d.yaml": ("f", 0, b"new: 1\n")}
    assert ks.changed_paths(before, after) == ["a.yaml", "b.yaml", "c.txt", "d.yaml"]
    assert ks.semantic_changes(before, after) == ["b.yaml", "c.txt", "d.yaml"]


def test_sync_tree_and_diff(tmp_path):
    src = make_pkg(tmp_path / "src", "p", sub=True)
    dst = tmp_path / "dst"
    shutil.copytree(str(src), str(dst))
    (src / "cm.yaml").write_text(CM.format(n=9))
    (src / "sub" / "new.yaml").write_text("a: 1\n")
    os.unlink(str(src / "sub" / "cm.yaml"))
    os.symlink("cm.yaml", str(src / "link.yaml"))
    (dst / "gone").mkdir()
    (dst / "gone" / "x.yaml").write_text("x")
    before, after = ks.snapshot(str(dst)), ks.snapshot(str(src))
    diffs = ks.diff_entries("p", before, after)
    headers = sorted((d["before_header"], d["after_header"]) for d in diffs)
    assert ("p/cm.yaml", "p/cm.yaml") in headers
    assert ("/dev/null", "p/sub/new.yaml") in headers and ("p/sub/cm.yaml", "/dev/null") in headers
    ks.sync_tree(str(src), str(dst))
    assert ks.snapshot(str(dst)) == ks.snapshot(str(src))
    assert os.path.islink(str(dst / "link.yaml"))
    assert tmp_leftovers(dst) == []


def test_sync_tree_failed_replace_leaves_no_temp_file(tmp_path, monkeypatch):
    src = make_pkg(tmp_path / "src", "p")
    dst = tmp_path / "dst"
    shutil.copytree(str(src), str(dst))
    original = (dst / "cm.yaml").read_bytes()
    (src / "cm.yaml").write_text(CM.format(n=9))

    def failing_replace(a, b):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(ks.os, "replace", failing_replace)
    with pytest.raises(OSError):
        ks.sync_tree(str(src), str(dst))
    assert tmp_leftovers(dst) == []
    assert (dst / "cm.yaml").read_bytes() == original


def test_sync_tree_replaces_a_leftover_temp_file(tmp_path):
    """A temp file from an interrupted run (even a symlink) neither blocks nor survives the next write."""
    src = make_pkg(tmp_path / "src", "p")
    dst = tmp_path / "dst"
    shutil.copytree(str(src), str(dst))
    os.symlink("cm.yaml", str(src / "link.yaml"))
    (src / "cm.yaml").write_text(CM.format(n=9))
    (dst / (".cm.yaml" + ks.TMP_SUFFIX)).write_text("half written")
    os.symlink("elsewhere", str(dst / (".link.yaml" + ks.TMP_SUFFIX)))
    ks.sync_tree(str(src), str(dst), ["cm.yaml", "link.yaml"])
    assert (dst / "cm.yaml").read_text() == CM.format(n=9) and os.readlink(str(dst / "link.yaml")) == "cm.yaml"
    assert tmp_leftovers(dst) == [] and not os.path.lexists(str(dst / (".link.yaml" + ks.TMP_SUFFIX)))


def test_apply_outputs_failed_write_back_marks_the_package_only(tmp_path, monkeypatch):
    pkgs = [make_pkg(tmp_path / "pkgs", name) for name in ("a", "b")]
    outputs = []
    for pkg in pkgs:
        out = tmp_path / "out" / pkg.name
        shutil.copytree(str(pkg), str(out))
        (out / "cm.yaml").write_text(CM.format(n=9))
        outputs.append(str(out))
    packages = package_labels([str(p) for p in pkgs])
    summaries = [{"ok": True}, {"ok": True}]
    real_replace = os.replace

    def replace(a, b):
        if b.startswith(str(pkgs[0]) + os.sep):
            raise OSError(13, "Permission denied")
        return real_replace(a, b)

    monkeypatch.setattr(ks.os, "replace", replace)
    changed, diffs = ks.apply_outputs(packages, summaries, outputs, write=True, diff=True)
    assert changed is True and len(diffs) == 2
    assert summaries[0]["ok"] is False and str(pkgs[0]) in summaries[0]["error"]
    assert "Permission denied" in summaries[0]["error"]
    assert (pkgs[0] / "cm.yaml").read_text() == CM.format(n=1) and tmp_leftovers(pkgs[0]) == []
    assert summaries[1]["ok"] is True and summaries[1]["changed_files"] == ["cm.yaml"]
    assert (pkgs[1] / "cm.yaml").read_text() == CM.format(n=9)


def test_apply_outputs_check_mode_and_failed_renders(tmp_path):
    pkgs = [make_pkg(tmp_path / "pkgs", name) for name in ("a", "b", "c")]
    out = tmp_path / "out" / "a"
    shutil.copytree(str(pkgs[0]), str(out))
    (out / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: b\nmetadata:\n  name: cm1\n")
    summaries = [{"ok": True}, {"ok": False}, {"ok": True}]
    # a: only key order differs (no change); b: failed render; c: no output
    changed, diffs = ks.apply_outputs(package_labels([str(p) for p in pkgs]), summaries,
                                      [str(out), str(out), None], write=False, diff=True)
    assert changed is False and diffs == []
    assert [s["changed"] for s in summaries] == [False, False, False]


def test_semantic_changes_on_hostile_yaml_count_as_changes_without_crashing():
    """Issue 15 class 3: the rendered-YAML comparison used an unbounded yaml.safe_load_all: a file nested
    200,000 deep ended in a RecursionError that escaped (a traceback), an alias bomb never ended. Past
    the bounds the files are compared byte for byte."""
    deep = b"x: " + b"[" * 200000 + b"]" * 200000 + b"\n"
    bomb = ("a: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        "%s: &%s [%s]\n" % (n, n, ", ".join(["*" + p] * 10)) for p, n in zip("abcdefg", "bcdefgh"))).encode()
    for payload in (deep, bomb):
        before = {"f.yaml": ("f", 0, payload)}
        after = {"f.yaml": ("f", 0, payload + b"# reordered? no: bytes differ\n")}
        assert ks.semantic_changes(before, after) == ["f.yaml"]
    # within the bounds a reordering is still no change
    assert ks.semantic_changes({"a.yaml": ("f", 0, b"a: 1\nb: 2\n")}, {"a.yaml": ("f", 0, b"b: 2\na: 1\n")}) == []
