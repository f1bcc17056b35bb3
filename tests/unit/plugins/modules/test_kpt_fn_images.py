# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kpt_fn_images through AnsibleModule, on the corpus of tests/unit/plugins/module_utils/fixtures_kptfiles."""
from __future__ import annotations

import json
import os
import subprocess
import sys

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.modules import kpt_fn_images
from tests.unit.module_runner import run_module
from tests.unit.plugins.module_utils.fifo_guard import call_without_hanging
from tests.unit.plugins.module_utils.kpt_fixtures import make_fake_kpt

CORPUS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                      "module_utils", "fixtures_kptfiles", "tree")


def test_check_mode_returns_the_same_as_a_real_run():
    args = {"root": CORPUS, "kpt_version": "1.0.0-beta.56"}
    real = run_module(kpt_fn_images, args)
    check = run_module(kpt_fn_images, args, check_mode=True)
    assert real == check
    assert real["failed"] is False and real["changed"] is False
    assert len(real["packages"]) == 16 and len(real["problems"]) == 22
    assert real["msg"].startswith("16 Kptfile(s): 12 image(s), 3 exec function(s), 22 problem(s); first: ")
    assert real["kpt_version"] == "1.0.0-beta.56" and real["kpt_version_source"] == "option"
    assert real["short_name_prefix"] == "gcr.io/kpt-fn/"
    assert "before 1.0.0-beta.59" in real["short_name_reason"]


def test_kpt_version_option_beta59():
    res = run_module(kpt_fn_images, {"root": os.path.join(CORPUS, "edge2"), "kpt_version": "1.0.0-beta.59"})
    assert res["short_name_prefix"] == "ghcr.io/kptdev/krm-functions-catalog/"
    assert "ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1" in [i["resolved"] for i in res["images"]]
    assert "at or after 1.0.0-beta.59" in res["short_name_reason"]


def test_version_read_from_kpt(tmp_path):
    # the fake kpt answers 1.0.0-beta.56; kpt_version not given, so kpt is asked
    res = run_module(kpt_fn_images, {"root": os.path.join(CORPUS, "edge2"), "kpt_path": make_fake_kpt(tmp_path)})
    assert res["kpt_version"] == "1.0.0-beta.56" and res["kpt_version_source"] == "kpt version"
    assert res["short_name_prefix"] == "gcr.io/kpt-fn/"
    assert "gcr.io/kpt-fn/set-namespace:v0.4.1" in [i["resolved"] for i in res["images"]]


def test_unknown_version_leaves_short_names_unresolved(tmp_path, monkeypatch):
    warned = []
    monkeypatch.setattr(AnsibleModule, "warn", lambda self, text: warned.append(text))
    res = run_module(kpt_fn_images, {"root": os.path.join(CORPUS, "edge2"), "kpt_path": str(tmp_path / "no-kpt")})
    assert res["failed"] is False and res["short_name_prefix"] is None and res["kpt_version"] is None
    assert "short image names are left unresolved" in res["short_name_reason"]
    assert [i["resolved"] for i in res["images"] if i["ref"] == "set-namespace:v0.4.1"] == [None]
    assert len(warned) == 1 and "unresolved: set-namespace:v0.4.1" in warned[0]


def test_missing_root_fails_naming_root(tmp_path):
    res = run_module(kpt_fn_images, {"root": str(tmp_path / "nope"), "kpt_version": "1.0.0-beta.56"})
    assert res["failed"] is True and res["msg"].startswith("root ") and "does not exist" in res["msg"]


def test_root_without_kptfile_fails(tmp_path):
    (tmp_path / "empty").mkdir()
    res = run_module(kpt_fn_images, {"root": str(tmp_path), "kpt_version": "1.0.0-beta.56"})
    assert res["failed"] is True and "holds no Kptfile" in res["msg"]
    (tmp_path / "file").write_text("x")
    res = run_module(kpt_fn_images, {"root": str(tmp_path / "file"), "kpt_version": "1.0.0-beta.56"})
    assert res["failed"] is True and "is not a directory" in res["msg"]


def test_too_many_kptfiles_fails():
    res = run_module(kpt_fn_images, {"root": CORPUS, "kpt_version": "1.0.0-beta.56", "max_kptfiles": 5})
    assert res["failed"] is True and "more than 5 Kptfiles" in res["msg"] and "max_kptfiles" in res["msg"]


def test_bad_kpt_version_option_fails():
    res = run_module(kpt_fn_images, {"root": CORPUS, "kpt_version": "latest"})
    assert res["failed"] is True and "kpt_version 'latest'" in res["msg"]


def test_malformed_kptfiles_do_not_fail_the_module():
    res = run_module(kpt_fn_images, {"root": os.path.join(CORPUS, "wrong-types"), "kpt_version": "1.0.0-beta.56"})
    assert res["failed"] is False
    assert [p["field"] for p in res["problems"]][:2] == ["pipeline.mutators", "pipeline.validators[0]"]


# --------------------------------------------------------------------- hostile Kptfiles (issue 15)

def _run_in_subprocess(args):
    """The module run in a child Python: a crash of the interpreter (a segfault) fails the test, not pytest."""
    script = ("import json, sys\n"
              "from tests.unit.module_runner import run_module\n"
              "from ansible_collections.o2edge.perf.plugins.modules import kpt_fn_images\n"
              "print(json.dumps(run_module(kpt_fn_images, json.loads(sys.argv[1]))))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    return subprocess.run([sys.executable, "-c", script, json.dumps(args)], capture_output=True, text=True,
                          env=env, timeout=120, check=False)


def test_a_kptfile_nested_200000_deep_is_one_problem_and_the_scan_goes_on(tmp_path):
    """Issue 15 class 3: a 400 KB Kptfile nested 200,000 deep segfaulted libyaml's composer (exit 139),
    losing the whole scan. The depth is now bounded before any recursive parser sees the text."""
    deep = tmp_path / "deep"
    deep.mkdir()
    (deep / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nx: " + "[" * 200000 + "]" * 200000 + "\n")
    good = tmp_path / "good"
    good.mkdir()
    (good / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: good\n"
                                  "pipeline:\n  mutators:\n    - image: gcr.io/kpt-fn/set-labels:v0.2.0\n")
    proc = _run_in_subprocess({"root": str(tmp_path), "kpt_version": "1.0.0-beta.56"})
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert res["failed"] is False
    assert [i["resolved"] for i in res["images"]] == ["gcr.io/kpt-fn/set-labels:v0.2.0"]
    assert [(p["kptfile"], p["field"]) for p in res["problems"]] == [("deep/Kptfile", "")]
    assert "nests deeper than 32 levels" in res["problems"][0]["problem"]
    assert [p["valid"] for p in res["packages"]] == [False, True]


def test_a_fifo_kptfile_is_a_problem_of_that_file(tmp_path):
    """A named pipe called Kptfile never blocks the scan: it is listed as that file's problem."""
    (tmp_path / "a").mkdir()
    fifo = tmp_path / "a" / "Kptfile"
    os.mkfifo(str(fifo))
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\n")
    res = call_without_hanging([fifo], run_module, kpt_fn_images, {"root": str(tmp_path),
                                                                   "kpt_version": "1.0.0-beta.56"})
    assert res["failed"] is False and len(res["packages"]) == 2
    assert [(p["kptfile"], p["problem"]) for p in res["problems"]] == [
        ("a/Kptfile", "is a named pipe (FIFO), not a regular file; not read")]
