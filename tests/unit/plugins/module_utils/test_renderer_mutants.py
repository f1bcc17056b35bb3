# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of mutation testing of kpt/_renderer.py (docs/mutation.md).

Each test is named for the bug it catches. Renders use the fake kpt of kpt_fixtures (a shell
script) or a fake render job; nothing goes to the network.
"""
from __future__ import annotations

import os
import re
import shutil
import time

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _renderer as k
from tests.unit.plugins.module_utils.kpt_fixtures import FakeResolver, make_executable, make_fake_kpt, make_plain_pkg

KPTFILE_FN = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n%s"


def pkg_with(tmp_path, name, fns):
    pkg = tmp_path / name
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(KPTFILE_FN % "".join("    - %s\n" % fn for fn in fns) if fns else
                                 "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n")
    return str(pkg)


def render(tmp_path, packages, kpt=None, **kw):
    """Run a Renderer with the fake kpt; (renderer, result). The caller's tmp_path holds the scratch."""
    kw.setdefault("kpt_ver", "1.0.0-beta.56")
    kw.setdefault("resolver", FakeResolver({}))
    r = k.Renderer(kpt or make_fake_kpt(tmp_path), packages, scratch_dir=str(tmp_path), **kw)
    return r, r.run()


# --------------------------------------------------------------------- scheduling

def test_static_cost_units_an_image_function_is_two_exec_functions_a_kptfile_a_quarter(tmp_path):
    """The documented cost model: exec function 1, image function 2 (a container start), Kptfile 0.25.
    Bug: another weight, so the longest-first order puts the wrong package first."""
    assert k.static_cost(pkg_with(tmp_path, "none", [])) == 0.25
    assert k.static_cost(pkg_with(tmp_path, "exec", ["exec: ./fn.sh"])) == 1.25
    assert k.static_cost(pkg_with(tmp_path, "image", ["image: example.invalid/fn:v1"])) == 2.25
    # one image function and two exec functions cost the same: the tie keeps the given order
    costs = [k.static_cost(pkg_with(tmp_path, "two", ["exec: ./a.sh", "exec: ./b.sh"])),
             k.static_cost(pkg_with(tmp_path, "img", ["image: example.invalid/fn:v1"]))]
    assert k.lpt_order(costs) == [0, 1] and k.lpt_order(costs[::-1]) == [0, 1]


def test_estimate_costs_scales_by_a_small_static_sum_and_survives_a_zero_one():
    """A known package of static cost 0.25 measured at 1 s makes the others' static costs 4x as many
    seconds; static costs summing to 0 leave the others unscaled (no division by zero)."""
    assert k.estimate_costs([0.25, 0.5], [1.0, None]) == [1.0, 2.0]
    assert k.estimate_costs([0.0, 1.0], [3.0, None]) == [3.0, 1.0]


# --------------------------------------------------------------------- labels and copy errors

def test_package_labels_root_itself_and_clashing_names():
    """The root as a package is labelled with the root's name; equal labels fall back to the slug of
    the whole path (a stable, readable id); distinct ones stay short."""
    assert [p.label for p in k.package_labels(["/r/top"], root="/r/top")] == ["top"]
    assert [p.label for p in k.package_labels(["/r/top/"], root="/r/top/")] == ["top"]
    pkgs = k.package_labels(["/x/a/edge1", "/y/b/edge1/", "/z/edge2"])
    assert [p.label for p in pkgs] == ["x/a/edge1", "y/b/edge1", "edge2"]
    assert [p.path for p in pkgs] == ["/x/a/edge1", "/y/b/edge1/", "/z/edge2"]
    pkgs = k.package_labels(["/r/a/p", "/r/b/p"], root="/r")
    assert [p.label for p in pkgs] == ["a/p", "b/p"]


def test_copy_error_names_the_first_file_and_its_reason_only():
    assert k._copy_error(shutil.Error([("/p/a", "/w/a", "[Errno 13] Permission denied"), ("/p/b", "/w/b", "x")])) == \
        "/p/a: [Errno 13] Permission denied"
    assert k._copy_error(shutil.Error([("/p/a", "odd")])) == "('/p/a', 'odd')"
    assert k._copy_error(shutil.Error([])) == "[]"
    assert k._copy_error(shutil.Error("plain words")) == "plain words"
    assert k._copy_error(OSError(2, "No such file or directory")) == "[Errno 2] No such file or directory"


# --------------------------------------------------------------------- the Renderer's settings

def test_renderer_refuses_an_unknown_sandbox_and_bwrap_without_its_executable():
    with pytest.raises(k.KptError) as exc:
        k.Renderer("kpt", [], function_sandbox="docker")
    assert str(exc.value) == "function_sandbox must be none or bwrap, not 'docker'"
    with pytest.raises(k.KptError) as exc:
        k.Renderer("kpt", [], function_sandbox="bwrap")
    assert str(exc.value) == "function_sandbox=bwrap needs the bwrap executable (Debian package bubblewrap)"


def test_renderer_fallbacks_for_unset_options_and_its_cache_flags():
    """kpt_render passes None for options the operator left out: the sandbox is then off, the unpack
    directory the default one; the cache key's flags hold allow_exec as a boolean."""
    r = k.Renderer("kpt", [], function_sandbox=None, sandbox_unpack_dir=None, allow_exec=1, image_pull_policy="never")
    assert r.function_sandbox == "none" and r.sandbox_unpack_dir == k.DEFAULT_UNPACK_DIR
    assert r.flags == {"allow_exec": True, "image_pull_policy": "never", "function_sandbox": "none"}
    r = k.Renderer("kpt", [], function_sandbox="bwrap", bwrap="/usr/bin/bwrap", sandbox_unpack_dir="/srv/unpacked")
    assert r.flags["function_sandbox"] == "bwrap" and r.sandbox_unpack_dir == "/srv/unpacked"


def test_kpt_command_line():
    r = k.Renderer("/bin/kpt", [], allow_exec=False, image_pull_policy=None)
    assert r.argv("/w/p") == ["/bin/kpt", "fn", "render", "/w/p"]
    assert r.argv("/w/p", sandboxed=True) == ["/bin/kpt", "fn", "render", "/w/p", "--allow-exec"]
    r = k.Renderer("/bin/kpt", [], allow_exec=True, image_pull_policy="ifNotPresent")
    assert r.argv("/w/p") == ["/bin/kpt", "fn", "render", "/w/p", "--allow-exec", "--image-pull-policy", "ifNotPresent"]


def test_resolve_ref_applies_kpts_short_name_prefix_and_refuses_a_bad_reference():
    r = k.Renderer("kpt", [], kpt_ver="1.0.0-beta.56")
    assert r.resolve_ref("set-labels:v0.2") == "gcr.io/kpt-fn/set-labels:v0.2"
    with pytest.raises(ValueError) as exc:
        r.resolve_ref("UPPER/Case:v1")
    assert not isinstance(exc.value, k.RefError) and str(exc.value)


def test_sandbox_context_off_and_on():
    off = k.Renderer("kpt", [], function_sandbox="none")
    assert off.sandbox_context({"function_paths": [{"path": "sandbox"}]}) == {"function_sandbox": "none"}
    on = k.Renderer("kpt", [], allow_exec=False, function_sandbox="bwrap", bwrap="/usr/bin/bwrap", sandbox_unpack_dir="/u")
    assert on.sandbox_context({}) == {"function_sandbox": "bwrap", "sandbox_unpack_dir": "/u", "function_paths": [],
                                      "allow_exec_added": False}
    paths = [{"path": "container"}, {"path": "sandbox"}]
    assert on.sandbox_context({"function_paths": paths, "sandbox_error": "bad Kptfile"}) == {
        "function_sandbox": "bwrap", "sandbox_unpack_dir": "/u", "function_paths": paths, "allow_exec_added": True,
        "sandbox_error": "bad Kptfile"}
    on.allow_exec = True
    assert on.sandbox_context({"function_paths": paths})["allow_exec_added"] is False


# --------------------------------------------------------------------- a failed render's message

SILENT_FAIL = "#!/bin/sh\nexit 3\n"
LOUD_FAIL = "#!/bin/sh\nprintf 'x%.0s' $(seq 1 1500) >&2\necho \" in $3\" >&2\nexit 1\n"


def test_a_failed_render_names_the_package_the_status_and_kpts_words(tmp_path):
    pkg = make_plain_pkg(tmp_path / "pkgs", "bad", "x")
    (pkg / "FAIL").write_text("")
    r, result = render(tmp_path, k.package_labels([str(pkg)]), runs=1, cold=False)
    err = result["per_pkg"][0]["errors"][0]
    assert err["error"] == "kpt fn render %s failed (exit status 1): render of %s failed on purpose" % (pkg, pkg)
    assert err["stderr"] == "render of %s failed on purpose" % pkg     # the scratch copy's path replaced
    assert (err["phase"], err["run"], err["path"], err["rc"]) == ("run", 0, str(pkg), 1)


def test_a_silent_failed_render_says_no_message_and_a_long_one_keeps_its_end(tmp_path):
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")
    kpt = str(make_executable(tmp_path / "silent-kpt", SILENT_FAIL))
    _r, result = render(tmp_path, k.package_labels([str(pkg)]), kpt=kpt, runs=1, cold=False)
    assert result["per_pkg"][0]["errors"][0]["error"] == "kpt fn render %s failed (exit status 3): no message" % pkg
    kpt = str(make_executable(tmp_path / "loud-kpt", LOUD_FAIL))
    _r, result = render(tmp_path, k.package_labels([str(pkg)]), kpt=kpt, runs=1, cold=False)
    error = result["per_pkg"][0]["errors"][0]["error"]
    tail = ("x" * 1500 + " in %s" % pkg)[-1000:]
    assert re.fullmatch(re.escape("kpt fn render %s failed (exit status 1): ...%s" % (pkg, tail)), error)


# --------------------------------------------------------------------- the render cache inside the timed job

def cached_render(tmp_path, pkg, **kw):
    """One counted render of ``pkg`` with the cache at tmp_path/cache; (result, summaries)."""
    kw.setdefault("cold", False)
    r, result = render(tmp_path, k.package_labels([str(pkg)]), runs=1, cache_dir=str(tmp_path / "cache"), **kw)
    return result, k.package_summaries(r, result)


def test_verify_tells_match_reordered_and_mismatch_and_replaces_only_a_mismatching_entry(tmp_path):
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")
    (pkg / "cm.yaml").write_text("a: 1\nb: 2\n")
    _res, (first,) = cached_render(tmp_path, pkg, verify=True)    # nothing to verify against: a miss, stored
    assert (first["cache"], first["verify"]) == ("miss", None) and "verify_mismatch" not in first
    entry = k.RenderCache(str(tmp_path / "cache")).tree(first["cache_key"])
    fresh = (tmp_path / "cache").joinpath(entry).joinpath("rendered.txt").read_text()
    res, (s,) = cached_render(tmp_path, pkg, verify=True)
    assert (s["cache"], s["verify"], s["cache_key"]) == ("hit", "match", first["cache_key"])
    assert "verify_mismatch" not in s and res["per_pkg"][0]["verify"] == ["match"]
    # only the key order differs: reordered, the entry is kept as it is
    with open(entry + "/cm.yaml", "w") as f:
        f.write("b: 2\na: 1\n")
    res, (s,) = cached_render(tmp_path, pkg, verify=True)
    assert (s["verify"], s["verify_mismatch"]) == ("reordered", ["cm.yaml"])
    assert open(entry + "/cm.yaml").read() == "b: 2\na: 1\n"
    # a real difference: mismatch, and the fresh render replaces the entry (write_cache off: kept)
    with open(entry + "/rendered.txt", "w") as f:
        f.write("stale\n")
    _res, (s,) = cached_render(tmp_path, pkg, verify=True, write_cache=False)
    assert (s["verify"], s["verify_mismatch"]) == ("mismatch", ["rendered.txt"])
    assert open(entry + "/rendered.txt").read() == "stale\n"
    res, (s,) = cached_render(tmp_path, pkg, verify=True)
    assert (s["verify"], s["verify_mismatch"], s["ok"]) == ("mismatch", ["rendered.txt"], True)
    assert open(entry + "/rendered.txt").read() == fresh and open(entry + "/cm.yaml").read() == "a: 1\nb: 2\n"
    with open(os.path.join(os.path.dirname(entry), "meta.json")) as f:     # the replaced entry's own record
        assert f.read() == '{"kpt": "1.0.0-beta.56", "package": "%s"}' % pkg
    _res, (s,) = cached_render(tmp_path, pkg, verify=True)
    assert s["verify"] == "match"


def test_the_worst_verdict_of_the_runs_is_the_packages(tmp_path, monkeypatch):
    r = k.Renderer("kpt", k.package_labels(["/p"]))
    result = {"per_pkg": [{"errors": [], "last": {}, "verify": ["match", "reordered", "match"]}], "outputs": [None]}
    assert k.package_summaries(r, result)[0]["verify"] == "reordered"
    result["per_pkg"][0]["verify"] = ["reordered", "mismatch", "match"]
    assert k.package_summaries(r, result)[0]["verify"] == "mismatch"
    result["per_pkg"][0]["verify"] = ["error"]
    assert k.package_summaries(r, result)[0]["verify"] is None


def test_a_cache_entry_that_cannot_be_read_is_a_verify_error_not_a_failed_render(tmp_path):
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")
    _res, (first,) = cached_render(tmp_path, pkg)
    entry = k.RenderCache(str(tmp_path / "cache")).tree(first["cache_key"])
    os.mkfifo(entry + "/pipe")
    res, (s,) = cached_render(tmp_path, pkg, verify=True)
    last = res["per_pkg"][0]["last"]
    assert s["ok"] is True and s["verify"] is None and last["verify"] == "error"
    assert "pipe" in last["verify_error"] and "verify_mismatch" not in last


def test_a_cache_lookup_error_is_reported_and_the_package_still_renders(tmp_path, monkeypatch):
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")

    def broken(work):
        raise k.KptError("Kptfile of the copy cannot be read")

    monkeypatch.setattr(k, "render_input", broken)
    res, (s,) = cached_render(tmp_path, pkg)
    assert (s["ok"], s["cache"], s["cache_key"], s["cache_error"]) == (True, "error", None, "Kptfile of the copy cannot be read")
    assert s["rendered"] is True and not (tmp_path / "cache").exists()


def test_a_failed_restore_is_reported_and_the_package_is_rendered_instead(tmp_path, monkeypatch):
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")
    cached_render(tmp_path, pkg)

    def failing_restore(self, key, dest):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(k.RenderCache, "restore", failing_restore)
    res, (s,) = cached_render(tmp_path, pkg)
    assert (s["ok"], s["cache"], s["cache_error"]) == (True, "error", "restore failed: [Errno 5] Input/output error")
    assert b"input.data" in open(res["outputs"][0] + "/rendered.txt", "rb").read()   # rendered by kpt


def test_a_failed_store_after_a_mismatch_is_reported_by_its_reason(tmp_path, monkeypatch):
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")
    _res, (first,) = cached_render(tmp_path, pkg)
    entry = k.RenderCache(str(tmp_path / "cache")).tree(first["cache_key"])
    with open(entry + "/rendered.txt", "w") as f:
        f.write("stale\n")

    def failing_store(self, key, src, meta=None):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(k.RenderCache, "store", failing_store)
    _res, (s,) = cached_render(tmp_path, pkg, verify=True)
    assert (s["verify"], s["cache_error"]) == ("mismatch", "store failed: [Errno 28] No space left on device")
    (tmp_path / "other").mkdir()
    _res, (s,) = cached_render(tmp_path / "other", pkg)   # an empty cache: a miss whose store fails
    assert (s["cache"], s["cache_key"], s["cache_error"]) == ("miss", first["cache_key"], "store failed: [Errno 28] No space left on device")


class LateResolver(object):
    """An image unknown before the first render (kpt pulls it) and known after."""

    def __init__(self):
        self.calls = 0

    def identity(self, image):
        self.calls += 1
        return None if self.calls == 1 else "sha256:" + "1" * 64


def test_an_image_found_only_after_the_render_still_gets_the_entry_stored(tmp_path):
    pkg = tmp_path / "pkgs" / "p"
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(KPTFILE_FN % "    - image: example.invalid/fn:v1\n")
    res, (s,) = cached_render(tmp_path, pkg, resolver=FakeResolver({}))
    assert (s["cache"], s["cache_key"]) == ("miss", None) and not (tmp_path / "cache").exists()
    res, (s,) = cached_render(tmp_path, pkg, resolver=LateResolver())
    assert s["cache"] == "miss" and re.fullmatch("[0-9a-f]{64}", s["cache_key"])
    assert k.RenderCache(str(tmp_path / "cache")).has(s["cache_key"])


# --------------------------------------------------------------------- what kpt runs with

ENV_KPT = "#!/bin/sh\nprintf '%s|%s|%s' \"$RENDER_MARK\" \"$OUTER_MARK\" \"$(pwd)\" > \"$3/env.txt\"\n"


def test_kpt_runs_with_the_given_environment_and_the_packages_directory(tmp_path, monkeypatch):
    """Bug: the given environment replaced by the default child environment (or the process's own), or
    kpt run from another directory than the package's (``exec:`` paths resolve against it)."""
    monkeypatch.setenv("OUTER_MARK", "outer")
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")
    kpt = str(make_executable(tmp_path / "env-kpt", ENV_KPT))
    env = {"PATH": "/usr/bin:/bin", "RENDER_MARK": "given"}
    _r, result = render(tmp_path, k.package_labels([str(pkg)]), kpt=kpt, runs=1, cold=False, env=env)
    assert open(result["outputs"][0] + "/env.txt").read() == "given||%s" % pkg
    _r, result = render(tmp_path, k.package_labels([str(pkg)]), kpt=kpt, runs=1, cold=False, env=None, chdir=str(tmp_path))
    assert open(result["outputs"][0] + "/env.txt").read() == "|outer|%s" % tmp_path


# --------------------------------------------------------------------- function_sandbox=bwrap, with a stand-in sandbox

WRAPPER = "/nonexistent/fn-sandbox/w1"
ARGV_KPT = """#!/bin/sh
echo "$@" > "$3/argv.txt"
if [ -e "$3/FAIL" ]; then echo "exec %s: exit status 1 in $3/Kptfile" >&2; exit 1; fi
""" % WRAPPER


class StandInSandbox(object):
    """Records how the renderer made it and what it asked; rewrites one function per package unless
    the package has NOSANDBOX (a container function, nothing rewritten), BADKPTFILE (prepare fails) or
    BADRESTORE (the put-back fails)."""
    made = []

    def __init__(self, bwrap, unpack_dir, resolve, wrapper_dir, setpriv=None):
        StandInSandbox.made.append((bwrap, unpack_dir, resolve, wrapper_dir, setpriv))
        self.restored = []

    def prepare(self, work, label):
        if os.path.exists(os.path.join(work, "BADKPTFILE")):
            raise k.KptError("Kptfile of %s cannot be read" % label)
        plan = k_plan()
        if os.path.exists(os.path.join(work, "NOSANDBOX")):
            plan.paths = [{"path": "container", "image": "registry.example/fn:v1"}]
            return plan
        plan.paths = [{"path": "sandbox", "image": "registry.example/fn:v1"}, {"path": "exec", "exec": "./x.sh"}]
        plan.rewrites = {"Kptfile": {WRAPPER: "image: registry.example/fn:v1"}}
        plan.wrappers = {WRAPPER: "registry.example/fn:v1"}
        return plan

    def restore(self, work, plan):
        if os.path.exists(os.path.join(work, "BADRESTORE")):
            raise k.SandboxError("the rendered Kptfile lost its pipeline")
        self.restored.append(work)

    def identity(self, image):
        return "sha256:" + "2" * 64 if image == "registry.example/fn:v1" else None


def k_plan():
    from ansible_collections.o2edge.perf.plugins.module_utils.kpt._fn_sandbox import Plan
    return Plan()


def sandboxed_render(tmp_path, monkeypatch, marks, allow_exec=False, resolver=None):
    StandInSandbox.made = []
    monkeypatch.setattr(k, "Sandbox", StandInSandbox)
    pkgs = []
    for name, mark in marks:
        pkg = make_plain_pkg(tmp_path / "pkgs", name, "x")
        if mark:
            (pkg / mark).write_text("")
        pkgs.append(str(pkg))
    kpt = str(make_executable(tmp_path / "argv-kpt", ARGV_KPT))
    r, result = render(tmp_path, k.package_labels(pkgs), kpt=kpt, runs=1, cold=False, allow_exec=allow_exec,
                       function_sandbox="bwrap", bwrap="/usr/bin/bwrap", sandbox_unpack_dir="/srv/unpacked",
                       resolver=resolver, max_workers=1)
    return r, result, pkgs


def test_the_sandbox_is_made_in_the_scratch_directory_and_wraps_the_cache_identity(tmp_path, monkeypatch):
    inner = FakeResolver({"registry.example/other:v1": "sha256:" + "3" * 64})
    r, result, _pkgs = sandboxed_render(tmp_path, monkeypatch, [("p", "")], resolver=inner)
    ((bwrap, unpack_dir, resolve, wrapper_dir, setpriv),) = StandInSandbox.made
    assert (bwrap, unpack_dir, resolve, wrapper_dir) == ("/usr/bin/bwrap", "/srv/unpacked", r.resolve_ref,
                                                         os.path.join(result["base"], "fn-sandbox"))
    assert setpriv == shutil.which("setpriv")   # util-linux's setpriv, when installed, drops the capabilities
    assert isinstance(r.resolver, k.SandboxIdentity) and r.resolver.inner is inner and r.resolver.sandbox is r.sandbox
    assert r.resolver.identity("registry.example/fn:v1") == "unpacked sha256:" + "2" * 64
    assert r.resolver.identity("registry.example/other:v1") == "sha256:" + "3" * 64
    r, _result, _pkgs = sandboxed_render(tmp_path / "again", monkeypatch, [("p", "")], resolver=None)
    assert r.resolver is None
    off = k.Renderer("kpt", [], function_sandbox="none")
    assert off.start_sandbox(str(tmp_path)) is None and off.sandbox is None


def test_sandboxed_packages_get_allow_exec_their_kptfiles_restored_and_their_paths_recorded(tmp_path, monkeypatch):
    marks = [("a", ""), ("b", "NOSANDBOX"), ("c", "BADKPTFILE"), ("d", "BADRESTORE"), ("e", "FAIL")]
    r, result, pkgs = sandboxed_render(tmp_path, monkeypatch, marks)
    argv = [open(o + "/argv.txt").read().split() if o else None for o in result["outputs"]]
    assert argv[0][-1] == "--allow-exec" and argv[1][-1] != "--allow-exec" and argv[2][-1] != "--allow-exec"
    assert r.sandbox.restored == [os.path.join(result["base"], "iter-0", "0", "a")]
    slots = result["per_pkg"]
    assert slots[0]["function_paths"][0]["path"] == "sandbox" and "sandbox_error" not in slots[0]
    assert slots[1]["function_paths"] == [{"path": "container", "image": "registry.example/fn:v1"}]
    assert slots[2]["sandbox_error"] == "Kptfile of c cannot be read" and "function_paths" not in slots[2]
    assert slots[3]["errors"][0]["error"] == "kpt fn render %s: the rendered Kptfile lost its pipeline" % pkgs[3]
    # kpt's words name the operator's package and image, not the scratch copy and the wrapper
    assert slots[4]["errors"][0]["error"] == (
        "kpt fn render %s failed (exit status 1): exec registry.example/fn:v1 (bwrap sandbox): exit status 1 in "
        "%s/Kptfile" % (pkgs[4], pkgs[4]))
    summaries = k.package_summaries(r, result)
    assert [s["ok"] for s in summaries] == [True, True, True, False, False]
    assert summaries[2]["sandbox_error"] == "Kptfile of c cannot be read" and summaries[2]["function_paths"] == []
    assert summaries[0]["function_paths"] == slots[0]["function_paths"] and "sandbox_error" not in summaries[0]
    records, total = r.records(result, {})
    by = dict((rec["name"], rec) for rec in records)
    assert by["kpt_render/a"]["context"]["allow_exec_added"] is True
    assert by["kpt_render/a"]["context"]["command"].endswith(" --allow-exec")
    assert by["kpt_render/b"]["context"]["allow_exec_added"] is False
    assert by["kpt_render/c"]["context"]["sandbox_error"] == "Kptfile of c cannot be read"
    assert total["context"]["function_sandbox"] == "bwrap"
    assert total["context"]["function_path_counts"] == {"sandbox": 3, "container": 1, "exec": 3}


def test_without_the_sandbox_the_total_has_no_function_path_counts(tmp_path):
    r, result = render(tmp_path, k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", "p", "x"))]),
                       runs=1, cold=False, function_sandbox="none")
    _records, total = r.records(result, {})
    assert total["context"]["function_sandbox"] == "none" and "function_path_counts" not in total["context"]
    assert "function_paths" not in k.package_summaries(r, result)[0]


def test_a_render_past_the_timeout_is_ended_and_the_scratch_is_in_the_given_directory(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_KPT_SLEEP", "2")
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")
    (tmp_path / "scratch").mkdir()
    r = k.Renderer(make_fake_kpt(tmp_path), k.package_labels([str(pkg)]), runs=1, cold=False, timeout=0.1,
                   scratch_dir=str(tmp_path / "scratch"))
    result = r.run()
    assert os.path.dirname(result["base"]) == str(tmp_path / "scratch")
    assert os.path.basename(result["base"]).startswith("o2edge-kpt-render-")
    assert result["per_pkg"][0]["errors"][0]["error"] == (
        "kpt fn render %s failed (timed out after 0.1s (process group killed)): no message" % pkg)


def test_a_cache_hit_is_timed_stored_entries_say_what_they_hold_and_check_mode_stores_nothing(tmp_path):
    pkg = make_plain_pkg(tmp_path / "pkgs", "p", "x")
    r, result = render(tmp_path, k.package_labels([str(pkg)]), runs=1, cold=False)
    assert k.package_summaries(r, result)[0]["cache"] == "off" and result["per_pkg"][0]["cache_states"] == {"run": ["off"]}
    _res, (s,) = cached_render(tmp_path, pkg, write_cache=False)
    assert s["cache"] == "miss" and not (tmp_path / "cache").exists()
    _res, (s,) = cached_render(tmp_path, pkg)
    meta = k.RenderCache(str(tmp_path / "cache")).path(s["cache_key"]) + "/meta.json"
    assert open(meta).read() == '{"kpt": "1.0.0-beta.56", "package": "%s"}' % pkg
    # a hit restores the stored output without running kpt (this kpt would fail every render)
    failing = str(make_executable(tmp_path / "failing-kpt", SILENT_FAIL))
    r, result = render(tmp_path, k.package_labels([str(pkg)]), kpt=failing, runs=2, cold=False,
                       cache_dir=str(tmp_path / "cache"))
    records, _total = r.records(result, {})
    assert records[0]["context"]["cache"] == "hit" and len(records[0]["samples"]) == 2 and records[0]["failures"] == 0
    assert all(0 < x < 5 for x in records[0]["samples"]), records[0]["samples"]


# --------------------------------------------------------------------- iterations: copies, failures, scratch clean-up

def test_a_package_that_cannot_be_copied_fails_by_name_and_the_others_render(tmp_path):
    good = make_plain_pkg(tmp_path / "pkgs", "good", "x")
    bad = make_plain_pkg(tmp_path / "pkgs", "bad", "x")
    last = make_plain_pkg(tmp_path / "pkgs", "last", "x")
    os.mkfifo(str(bad / "pipe.yaml"))
    r, result = render(tmp_path, k.package_labels([str(good), str(bad), str(last)]), runs=1, cold=False)
    (entry,) = result["per_pkg"][1]["errors"]
    assert re.fullmatch(re.escape("cannot copy the package for rendering: %s/pipe.yaml: package file %s/pipe.yaml " % (bad, bad))
                        + r"is a named pipe \(FIFO\), not a regular file; not read", entry["error"])
    assert (entry["rc"], entry["seconds"], entry["stderr"], entry["path"]) == (None, None, "", str(bad))
    assert [len(slot["run"]) for slot in result["per_pkg"]] == [1, 0, 1]
    assert result["outputs"] == [os.path.join(result["base"], "iter-0", "0", "good"), None,
                                 os.path.join(result["base"], "iter-0", "2", "last")]


def test_an_exception_in_one_render_job_is_that_packages_internal_error(tmp_path, monkeypatch):
    real_job = k.Renderer._job

    def job(self, pkg, work):
        if pkg.label == "b":
            raise RuntimeError("boom")
        return real_job(self, pkg, work)

    monkeypatch.setattr(k.Renderer, "_job", job)
    pkgs = [str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in ("a", "b")]
    r, result = render(tmp_path, k.package_labels(pkgs), runs=1, cold=False)
    (entry,) = result["per_pkg"][1]["errors"]
    assert (entry["error"], entry["rc"], entry["seconds"], entry["stderr"]) == ("internal error: boom", None, None, "")
    assert result["per_pkg"][0]["run"] and result["per_pkg"][0]["errors"] == []


def test_the_scratch_directory_is_removed_when_the_start_or_a_render_iteration_fails(tmp_path, monkeypatch):
    (tmp_path / "scratch").mkdir()
    pkgs = k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", "p", "x"))])

    def no_sandbox(*args, **kw):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(k, "Sandbox", no_sandbox)
    r = k.Renderer(make_fake_kpt(tmp_path), pkgs, runs=1, function_sandbox="bwrap", bwrap="/usr/bin/bwrap",
                   scratch_dir=str(tmp_path / "scratch"))
    with pytest.raises(OSError):
        r.run()
    assert os.listdir(str(tmp_path / "scratch")) == []

    def broken_iteration(self, base, index, pool, order):
        raise KeyboardInterrupt()

    monkeypatch.setattr(k.Renderer, "_iteration", broken_iteration)
    r = k.Renderer(make_fake_kpt(tmp_path), pkgs, runs=1, scratch_dir=str(tmp_path / "scratch"))
    with pytest.raises(KeyboardInterrupt):
        r.run()
    assert os.listdir(str(tmp_path / "scratch")) == []


def test_only_the_newest_successful_output_of_each_package_is_kept(tmp_path, monkeypatch):
    """Older iterations are removed as the renders go; an iteration still holding a package's newest
    successful output (the package failed since) is kept."""
    a = make_plain_pkg(tmp_path / "pkgs", "a", "x")
    b = make_plain_pkg(tmp_path / "pkgs", "b", "x")
    calls = {"n": 0}
    real_job = k.Renderer._job

    def job(self, pkg, work):
        if pkg.label == "b":
            calls["n"] += 1
            if calls["n"] > 1:
                open(os.path.join(work, "FAIL"), "w").close()
        return real_job(self, pkg, work)

    monkeypatch.setattr(k.Renderer, "_job", job)
    _r, result = render(tmp_path, k.package_labels([str(a), str(b)]), runs=3, cold=True)
    assert sorted(os.listdir(result["base"])) == ["iter-0", "iter-3"]
    assert result["outputs"] == [os.path.join(result["base"], "iter-3", "0", "a"),
                                 os.path.join(result["base"], "iter-0", "1", "b")]


class SlowResolver(object):
    """An image whose identity takes 0.15 s to look up (a runtime's inspect)."""

    def identity(self, image):
        time.sleep(0.15)
        return "sha256:" + "4" * 64


def test_a_render_is_timed_as_a_whole_with_its_cache_lookup(tmp_path):
    """The documented measure: a job's seconds include the cache lookup, not only kpt's own run."""
    pkg = tmp_path / "pkgs" / "p"
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(KPTFILE_FN % "    - image: example.invalid/fn:v1\n")
    r, result = render(tmp_path, k.package_labels([str(pkg)]), runs=1, cold=False, resolver=SlowResolver(),
                       cache_dir=str(tmp_path / "cache"))
    (seconds,) = result["per_pkg"][0]["run"]
    assert 0.15 <= seconds < 5


# --------------------------------------------------------------------- an iteration's bookkeeping

class Clock(object):
    """A monotonic clock for _renderer only: each reading is 0.12345678 s after the one before."""

    def __init__(self):
        self.now = 100.0

    def monotonic(self):
        self.now += 0.12345678
        return self.now


def fake_jobs(monkeypatch, outcomes):
    """Replace the render job: ``outcomes[label]`` is a list of (ok, seconds), one per call."""
    calls = []

    def job(self, pkg, work):
        ok, seconds = outcomes[pkg.label].pop(0)
        calls.append(pkg.label)
        return {"ok": ok, "seconds": seconds, "rc": 0 if ok else 2, "error": "" if ok else "failed on purpose",
                "stderr": "" if ok else "why", "cache": "off"}

    monkeypatch.setattr(k.Renderer, "_job", job)
    return calls


def test_a_failed_renders_entry_and_the_totals_entry_keep_their_seconds_to_the_microsecond(tmp_path, monkeypatch):
    fake_jobs(monkeypatch, {"a": [(True, 0.5)], "b": [(False, 0.12345678)]})
    monkeypatch.setattr(k, "time", Clock())
    pkgs = [str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in ("a", "b")]
    r, result = render(tmp_path, k.package_labels(pkgs), runs=1, cold=False, max_workers=1)
    assert result["per_pkg"][1]["errors"] == [{"phase": "run", "run": 0, "path": pkgs[1], "rc": 2, "seconds": 0.123457,
                                               "error": "failed on purpose", "stderr": "why"}]
    assert result["total"]["errors"] == [{"phase": "run", "run": 0, "seconds": 0.123457, "error": "failed packages: b"}]
    assert (result["total"]["failures"], result["total"]["cold_failures"], result["total"]["run"]) == (1, 0, [])


def test_a_failed_render_does_not_count_as_a_measured_duration_for_the_schedule(tmp_path, monkeypatch):
    """Bug: a failed render's (short) seconds taken as the package's cost, so the slow package that
    failed once is handed out last."""
    calls = fake_jobs(monkeypatch, {"heavy": [(False, 0.01), (True, 1.0)], "light": [(True, 1.0), (True, 1.0)]})
    heavy = pkg_with(tmp_path, "heavy", ["image: example.invalid/a:v1", "image: example.invalid/b:v1"])
    light = pkg_with(tmp_path, "light", [])
    _r, result = render(tmp_path, k.package_labels([light, heavy]), runs=2, cold=False, max_workers=1)
    assert calls == ["heavy", "light", "heavy", "light"]
    assert result["orders"] == [[1, 0], [1, 0]]


def test_a_plain_run_keeps_the_round_of_each_sample_and_its_start_time(tmp_path, monkeypatch):
    fake_jobs(monkeypatch, {"a": [(True, 0.1), (True, 0.2), (True, 0.3)]})
    pkgs = [str(make_plain_pkg(tmp_path / "pkgs", "a", "a"))]
    r, result = render(tmp_path, k.package_labels(pkgs), runs=2, cold=True)
    slot, total = result["per_pkg"][0], result["total"]
    assert (slot["cold"], slot["run"], slot["rounds"]) == ([0.1], [0.2, 0.3], [0, 1])
    assert total["rounds"] == [0, 1] and (total["failures"], total["cold_failures"]) == (0, 0)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", result["started_at"]), result["started_at"]
    records, _total = r.records(result, {})
    assert set(rec["context"]["started_at"] for rec in records) == {result["started_at"]}
    assert [rec["failures"] for rec in records] == [0, 0, 0, 0]


def test_a_package_that_could_not_be_copied_has_the_cache_state_off(tmp_path):
    good = make_plain_pkg(tmp_path / "pkgs", "good", "x")
    bad = make_plain_pkg(tmp_path / "pkgs", "bad", "x")
    os.mkfifo(str(bad / "pipe.yaml"))
    r, result = render(tmp_path, k.package_labels([str(good), str(bad)]), runs=1, cold=False)
    assert result["per_pkg"][1]["cache_states"] == {"run": ["off"]}
    records, _total = r.records(result, {})
    assert records[1]["context"]["cache"] == "off"


# --------------------------------------------------------------------- records, pairs and summaries (lines 409-611)

def test_each_record_has_its_phase_component_unit_warmup_and_only_its_phases_errors(tmp_path, monkeypatch):
    """One render with a failure in each phase. Bugs caught: the phases' run indices wrong (cold from 1,
    warm-up from 1, a run index that stops counting), the failed labels joined wrongly, a record's
    component, unit, phase or warm-up wrong, a cold error in a warm record or the reverse."""
    fake_jobs(monkeypatch, {"a": [(False, 0.1), (False, 0.1), (True, 0.1), (True, 0.1), (False, 0.1), (True, 0.1)],
                            "b": [(True, 0.2), (False, 0.2), (True, 0.2), (True, 0.2), (True, 0.2), (True, 0.2)]})
    pkgs = [str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in ("a", "b")]
    r, result = render(tmp_path, k.package_labels(pkgs), runs=3, warmup=2, cold=True, max_workers=1, name="t")
    assert [(e["phase"], e["run"]) for e in result["timeline"]] == [
        ("cold", 0), ("warmup", 0), ("warmup", 1), ("run", 0), ("run", 1), ("run", 2)]
    assert [(e["phase"], e["run"], e["error"]) for e in result["total"]["errors"]] == [
        ("cold", 0, "failed packages: a"), ("warmup", 0, "failed packages: a, b"), ("run", 1, "failed packages: a")]
    records, warm_total = r.records(result, {})
    assert [rec["name"] for rec in records] == ["t/a", "t/a@cold", "t/b", "t/b@cold", "t/total", "t/total@cold"]
    assert warm_total is records[4]
    assert set((rec["component"], rec["unit"]) for rec in records) == {("kpt_render", "s")}
    assert [rec["context"]["phase"] for rec in records] == ["warm", "cold", "warm", "cold", "warm", "cold"]
    assert [rec["warmup"] for rec in records] == [2, 0, 2, 0, 2, 0]
    assert [[(e["phase"], e["run"]) for e in rec["errors"]] for rec in records] == [
        [("warmup", 0), ("run", 1)], [("cold", 0)], [("warmup", 0)], [], [("warmup", 0), ("run", 1)], [("cold", 0)]]
    assert [(rec["failures"], len(rec["samples"])) for rec in records] == [(1, 2), (1, 0), (0, 3), (0, 1), (1, 2), (1, 0)]
    assert records[4]["context"]["command"] == "kpt fn render (2 packages, 1 workers)"


def test_a_package_summary_names_the_last_error_and_its_stderr(tmp_path, monkeypatch):
    fake_jobs(monkeypatch, {"a": [(True, 0.1), (False, 0.1)], "b": [(True, 0.1), (True, 0.1)]})
    pkgs = [str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in ("a", "b")]
    r, result = render(tmp_path, k.package_labels(pkgs), runs=2, cold=False, max_workers=1)
    summaries = k.package_summaries(r, result)
    assert summaries[0] == {"name": "a", "path": pkgs[0], "ok": False, "cache": "off", "cache_key": None, "verify": None,
                            "rendered": True, "error": "failed on purpose", "stderr": "why"}
    assert summaries[1] == {"name": "b", "path": pkgs[1], "ok": True, "cache": "off", "cache_key": None, "verify": None,
                            "rendered": True}


def test_a_package_whose_job_raised_has_the_cache_state_off_in_its_summary(tmp_path, monkeypatch):
    """The internal-error result has no cache field: the summary says off, not a made-up state."""
    def job(self, pkg, work):
        raise RuntimeError("boom")

    monkeypatch.setattr(k.Renderer, "_job", job)
    r, result = render(tmp_path, k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", "a", "a"))]), runs=1, cold=False)
    (summary,) = k.package_summaries(r, result)
    assert (summary["cache"], summary["error"], summary["rendered"]) == ("off", "internal error: boom", False)


def test_a_phases_cache_state_is_the_common_one_off_when_none_and_mixed_otherwise():
    assert k._cache_state(None) == "off" and k._cache_state([]) == "off"
    assert k._cache_state(["hit", "hit"]) == "hit"
    assert k._cache_state(["hit", "miss", "hit"]) == "mixed"


def test_a_pairs_cold_records_have_round_zero_and_the_timeline_starts_at_zero(tmp_path, monkeypatch):
    fake_jobs(monkeypatch, {"a": [(True, 0.1)] * 6})
    pkgs = k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", "a", "a"))])
    a = k.Renderer(make_fake_kpt(tmp_path), pkgs, runs=2, cold=True, scratch_dir=str(tmp_path), name="x")
    b = k.Renderer(make_fake_kpt(tmp_path), pkgs, runs=2, cold=True, scratch_dir=str(tmp_path), name="x")
    result_a, result_b, schedule = k.run_pair(a, b)
    records, _total = a.records(result_a, {}, pair={"label": "A", "side": "a", "session": "s1"})
    assert [(rec["name"], rec["context"]["pair"]["rounds"]) for rec in records] == [
        ("x/a (A)", [0, 1]), ("x/a@cold (A)", [0]), ("x/total (A)", [0, 1]), ("x/total@cold (A)", [0])]
    timeline = k.pair_timeline(result_a, result_b)
    assert [(e["side"], e["phase"], e["run"]) for e in timeline] == [(s, p, i) for p, i, s in schedule]
    assert timeline[0]["start"] == 0.0
    assert all(0 <= e["start"] <= e["end"] < 60 for e in timeline)


def test_pair_timeline_times_are_from_the_first_start_to_the_microsecond():
    early = {"timeline": [{"phase": "run", "run": 0, "start": 100.0, "end": 100.12345678}]}
    late = {"timeline": [{"phase": "run", "run": 0, "start": 100.2345678, "end": 100.3}]}
    assert k.pair_timeline(early, late) == [
        {"phase": "run", "run": 0, "start": 0.0, "end": 0.123457, "side": "a"},
        {"phase": "run", "run": 0, "start": 0.234568, "end": 0.3, "side": "b"}]
    assert k.pair_timeline(late, early)[0] == {"phase": "run", "run": 0, "start": 0.0, "end": 0.123457, "side": "b"}
    assert k.pair_timeline({"timeline": []}, {"timeline": []}) == []


def test_a_pair_of_different_settings_is_refused_with_the_whole_message():
    a = k.Renderer("kpt", [], runs=2)
    b = k.Renderer("kpt", [], runs=3)
    with pytest.raises(k.KptError) as exc:
        k.run_pair(a, b)
    assert str(exc.value) == ("the two sides of a comparison must render the same packages with the same runs, "
                              "warmup and cold settings")


def test_a_failed_pair_removes_both_scratch_directories(tmp_path, monkeypatch):
    (tmp_path / "scratch").mkdir()
    pkgs = k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", "p", "x"))])

    def broken_iteration(self, base, index, pool, order):
        raise KeyboardInterrupt()

    monkeypatch.setattr(k.Renderer, "_iteration", broken_iteration)
    a, b = (k.Renderer(make_fake_kpt(tmp_path), pkgs, runs=1, scratch_dir=str(tmp_path / "scratch")) for _side in "ab")
    with pytest.raises(KeyboardInterrupt):
        k.run_pair(a, b)
    assert os.listdir(str(tmp_path / "scratch")) == []


def test_an_interrupted_render_waits_for_the_running_jobs_before_removing_the_scratch(tmp_path, monkeypatch):
    """Bug: the pool not waited for, so a job still running writes into a scratch being removed."""
    events = []

    def job(self, pkg, work):
        if pkg.label == "a":
            raise KeyboardInterrupt()
        time.sleep(0.2)
        events.append("b done")
        return {"ok": True, "seconds": 0.2, "rc": 0, "error": "", "stderr": "", "cache": "off"}

    monkeypatch.setattr(k.Renderer, "_job", job)
    pkgs = [str(make_plain_pkg(tmp_path / "pkgs", n, n)) for n in ("a", "b")]
    with pytest.raises(KeyboardInterrupt):
        render(tmp_path, k.package_labels(pkgs), runs=1, cold=False, max_workers=2)
    assert events == ["b done"]


def failing_rmdir(monkeypatch, prefix):
    """os.rmdir refuses directories whose name starts with ``prefix`` (a busy mount, a vanished permission)."""
    real = os.rmdir

    def rmdir(path, *args, **kw):
        if os.path.basename(os.fspath(path)).startswith(prefix):
            raise OSError(16, "Device or resource busy")
        return real(path, *args, **kw)

    monkeypatch.setattr(os, "rmdir", rmdir)


def test_an_old_iteration_that_cannot_be_removed_does_not_fail_the_render(tmp_path, monkeypatch):
    failing_rmdir(monkeypatch, "iter-")
    pkgs = [str(make_plain_pkg(tmp_path / "pkgs", "a", "a"))]
    _r, result = render(tmp_path, k.package_labels(pkgs), runs=2, cold=False)
    assert len(result["per_pkg"][0]["run"]) == 2 and result["per_pkg"][0]["errors"] == []


def test_a_scratch_that_cannot_be_removed_after_a_failure_keeps_the_original_error(tmp_path, monkeypatch):
    failing_rmdir(monkeypatch, "o2edge-kpt-render-")

    def broken_iteration(self, base, index, pool, order):
        raise KeyboardInterrupt()

    monkeypatch.setattr(k.Renderer, "_iteration", broken_iteration)
    with pytest.raises(KeyboardInterrupt):
        render(tmp_path, k.package_labels([str(make_plain_pkg(tmp_path / "pkgs", "a", "a"))]), runs=1)
