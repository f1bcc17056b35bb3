# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Kptfiles and packages: version -> runtime variable, pipeline parsing, discovery, exec paths."""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kptfile as kf
from tests.unit.plugins.module_utils.fifo_guard import call_without_hanging
from tests.unit.plugins.module_utils.kpt_fixtures import KPTFILE, PLAIN_KPTFILE, make_fake_kpt, make_pkg


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
    assert kf.parse_kpt_version(text) == expected


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
    assert kf.runtime_env_vars(kf.parse_kpt_version(text)) == var


def test_function_runtime_choice():
    assert kf.function_runtime("podman", {"KRM_FN_RUNTIME": "nerdctl"}) == "podman"
    assert kf.function_runtime(None, {"KRM_FN_RUNTIME": "nerdctl", "KPT_FN_RUNTIME": "podman"}) == "nerdctl"
    assert kf.function_runtime(None, {"KPT_FN_RUNTIME": "podman"}) == "podman"
    assert kf.function_runtime(None, {}) == "docker"


def test_kpt_version(tmp_path):
    assert kf.kpt_version(make_fake_kpt(tmp_path)) == ("1.0.0-beta.56", None)
    text, error = kf.kpt_version(str(tmp_path / "missing-kpt"))
    assert text is None and error


# --------------------------------------------------------------------- Kptfile parsing

def test_parse_kptfile_functions():
    text = KPTFILE.format(name="p", exec_path="./fn.sh", team="a",
                          extra="  validators:\n    - image: 198.18.0.1:5000/kpt-fn/require-labels:v1\n")
    fns = kf.parse_kptfile(text, "p/Kptfile")
    assert [f["stage"] for f in fns] == ["mutators", "validators"]
    assert fns[0]["fn"]["exec"] == "./fn.sh" and fns[0]["fn"]["configMap"] == {"team": "a"}
    assert fns[1]["fn"]["image"].endswith("require-labels:v1")
    assert kf.parse_kptfile(PLAIN_KPTFILE.format(name="x")) == []


@pytest.mark.parametrize("text,needle", [
    ("metadata: [oops\n", "invalid Kptfile bad/Kptfile"),
    ("- a\n- b\n", "not a mapping"),
    ("pipeline: [1]\n", "pipeline is not a mapping"),
    ("pipeline:\n  mutators: {a: 1}\n", "pipeline.mutators is not a list"),
    ("pipeline:\n  mutators:\n  - configMap: {a: b}\n", "neither image nor exec"),
])
def test_parse_kptfile_invalid(text, needle):
    with pytest.raises(kf.KptError) as err:
        kf.parse_kptfile(text, "bad/Kptfile")
    assert needle in str(err.value)


def test_parse_kptfile_without_yaml(monkeypatch):
    monkeypatch.setattr(kf, "HAS_YAML", False)
    text = KPTFILE.format(name="p", exec_path="/opt/fn.py", team="a", extra="    - image: 'reg/x:v1'\n")
    fns = kf.parse_kptfile(text)
    assert [f["fn"] for f in fns] == [{"exec": "/opt/fn.py"}, {"image": "reg/x:v1"}]


def test_package_functions_cover_subpackages(tmp_path):
    pkg = make_pkg(tmp_path, "p", sub=True)
    (pkg / "sub" / "Kptfile").write_text(KPTFILE.format(name="sub", exec_path="./s.sh", team="b", extra=""))
    assert kf.kptfiles(str(pkg)) == [str(pkg / "Kptfile"), str(pkg / "sub" / "Kptfile")]
    fns = kf.package_functions(str(pkg))
    assert [(rel, fn["fn"]["exec"]) for rel, fn in fns] == [("Kptfile", "../fn.sh"), ("sub/Kptfile", "./s.sh")]


# --------------------------------------------------------------------- discovery and exec paths

def test_find_packages_top_level_only(tmp_path):
    make_pkg(tmp_path / "packages", "b", sub=True)
    make_pkg(tmp_path / "packages", "a")
    (tmp_path / "packages" / "notapkg").mkdir()
    (tmp_path / "packages" / ".git").mkdir()
    (tmp_path / "packages" / ".git" / "Kptfile").write_text("x")
    found = kf.find_packages(str(tmp_path / "packages"))
    assert found == [str(tmp_path / "packages" / "a"), str(tmp_path / "packages" / "b")]
    # a root that is itself a package is the one package
    assert kf.find_packages(str(tmp_path / "packages" / "b")) == [str(tmp_path / "packages" / "b")]
    assert kf.find_packages(str(tmp_path / "packages" / "notapkg")) == []


def test_resolve_exec_relative_to_cwd(tmp_path):
    assert kf.resolve_exec("../fn.sh", str(tmp_path / "pkg")) == str(tmp_path / "fn.sh")
    assert kf.resolve_exec("/abs/fn --flag", "/ignored") == "/abs/fn"
    assert kf.resolve_exec("sh", "/ignored") == shutil.which("sh")


# --------------------------------------------------------------------- hostile Kptfiles (issue 15)

def test_parse_kptfile_bounds_depth_before_parsing():
    """A deeply nested Kptfile ended in a bare RecursionError (yaml.safe_load recurses); it is now a
    KptError naming the file, raised before any recursive parser sees the text."""
    text = "apiVersion: kpt.dev/v1\nx: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(kf.KptError, match=r"invalid Kptfile deep/Kptfile: nests deeper than 32 levels"):
        kf.parse_kptfile(text, "deep/Kptfile")


def test_parse_kptfile_error_does_not_quote_the_file():
    """PyYAML's messages quote the source line; a Kptfile's content is never echoed."""
    with pytest.raises(kf.KptError) as err:
        kf.parse_kptfile("metadata:\n  x: [hunter2-secret-value\n", "bad/Kptfile")
    assert "hunter2" not in str(err.value) and "bad/Kptfile" in str(err.value)


def test_package_functions_refuse_a_fifo_kptfile_without_blocking(tmp_path):
    """package_functions (the render cache's input) opened a FIFO named Kptfile and hung the render."""
    pkg = make_pkg(tmp_path, "p", sub=True)
    fifo = pkg / "sub" / "Kptfile"
    fifo.unlink()
    os.mkfifo(str(fifo))
    with pytest.raises(kf.KptError, match="named pipe"):
        call_without_hanging([fifo], kf.package_functions, str(pkg))


def test_package_functions_refuse_an_oversized_kptfile(tmp_path):
    pkg = make_pkg(tmp_path, "p")
    (pkg / "Kptfile").write_text("# " + "x" * kf.MAX_KPTFILE_BYTES + "\n")
    with pytest.raises(kf.KptError, match="over the limit"):
        kf.package_functions(str(pkg))


def test_parse_kptfile_empty_is_no_function():
    """An empty Kptfile (YAML null) has no pipeline: no function, not "not a mapping" (mutation survivor)."""
    assert kf.parse_kptfile("", "e/Kptfile") == [] and kf.parse_kptfile("# only a comment\n") == []
