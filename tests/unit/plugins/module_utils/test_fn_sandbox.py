# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The bwrap function sandbox: the unpacked layout read, the confinement proven with the real bwrap
over a small rootfs (static busybox) built here, the Kptfile rewrite and its undo, and renders with
the machine's kpt. The tests that need bwrap, a static busybox or kpt are skipped without them.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _fn_sandbox as s
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _renderer as k
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kpt_sync import semantic_changes, snapshot
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import KptError
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._render_cache import cache_key, render_input
from tests.unit.plugins.module_utils.fifo_guard import call_without_hanging
from tests.unit.plugins.module_utils.kpt_fixtures import FakeResolver

BWRAP = shutil.which("bwrap")
KPT = shutil.which("kpt")


def _static_busybox():
    path = shutil.which("busybox")
    if not path:
        return None
    path = os.path.realpath(path)
    out = subprocess.run(["file", "-L", path], check=False, capture_output=True, text=True).stdout \
        if shutil.which("file") else ""
    return path if "statically linked" in out else None


BUSYBOX = _static_busybox()
needs_bwrap = pytest.mark.skipif(not (BWRAP and BUSYBOX), reason="needs bwrap and a static busybox")
needs_kpt = pytest.mark.skipif(not (BWRAP and BUSYBOX and KPT), reason="needs bwrap, a static busybox and kpt")

REF = "198.18.0.1:5000/kpt-fn/team:v1"
ABSENT = "198.18.0.1:5000/kpt-fn/absent:v1"

# a busybox-sh kpt function: renames ConfigMap cm1 to cm1-<team>, <team> read from the functionConfig
TEAM_FN = r"""input=$(/bin/busybox cat)
team=$(printf '%s\n' "$input" | /bin/busybox sed -n 's/.*team: \([a-z0-9]*\).*/\1/p' | /bin/busybox tail -n 1)
printf '%s\n' "$input" | /bin/busybox sed "s/^    name: cm1\$/    name: cm1-$team/"
"""


def make_image(unpack_dir, script, ref=REF, env=None, workdir="/", entrypoint=None, cmd=None, refs=True,
               extra_files=None):
    """An unpacked image following the layout: rootfs with a static busybox, image.json, refs.json."""
    digest = "sha256:" + hashlib.sha256((script + ref + json.dumps(env)).encode()).hexdigest()
    base = os.path.join(str(unpack_dir), s.digest_dirname(digest))
    rootfs = os.path.join(base, "rootfs")
    os.makedirs(os.path.join(rootfs, "bin"))
    os.makedirs(os.path.join(rootfs, "etc"))
    os.makedirs(os.path.join(rootfs, "work"))
    shutil.copy(BUSYBOX or "/bin/true", os.path.join(rootfs, "bin", "busybox"))
    os.symlink("busybox", os.path.join(rootfs, "bin", "sh"))
    with open(os.path.join(rootfs, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n")
    with open(os.path.join(rootfs, "fn.sh"), "w") as f:
        f.write(script)
    for rel, text in (extra_files or {}).items():
        with open(os.path.join(rootfs, rel), "w") as f:
            f.write(text)
    meta = {"schema": 1, "digest": digest, "config_digest": "sha256:" + "0" * 64, "references": [ref],
            "entrypoint": ["/bin/busybox", "sh", "/fn.sh"] if entrypoint is None else entrypoint,
            "cmd": cmd or [], "env": env if env is not None else ["PATH=/bin", "FN_KIND=test"],
            "workdir": workdir, "user": "nobody", "unpacked_at": "2026-11-28T00:00:00Z"}
    with open(os.path.join(base, "image.json"), "w") as f:
        json.dump(meta, f)
    if refs:
        path = os.path.join(str(unpack_dir), "refs.json")
        known = json.load(open(path)) if os.path.exists(path) else {}
        known[ref] = digest
        with open(path, "w") as f:
            json.dump(known, f)
    return digest


def run_in(unpack_dir, tmp_path, script, stdin="", setpriv=None, **kw):
    """Run ``script`` (busybox sh) in the sandbox through its generated wrapper; CompletedProcess."""
    digest = make_image(unpack_dir, script, **kw)
    image, why = s.load_image(str(unpack_dir), digest)
    assert image is not None, why
    wrapper = tmp_path / "wrapper.sh"
    wrapper.write_text(s.wrapper_text(s.bwrap_argv(BWRAP, image, setpriv), image, REF))
    wrapper.chmod(0o700)
    env = dict(os.environ, O2EDGE_CONTROLLER_SECRET="do-not-leak")
    return subprocess.run([str(wrapper)], input=stdin, capture_output=True, text=True, env=env, timeout=60,
                          check=False)


# --------------------------------------------------------------------- the layout

def test_digest_dirname():
    assert s.digest_dirname("sha256:ab12") == "sha256-ab12"
    for bad in ("sha256", "sha256:", "sha256:../x", "sha/256:ab", "sha256:AB", None):
        with pytest.raises(s.SandboxError):
            s.digest_dirname(bad)


def test_load_image_needs_a_complete_valid_unpack(tmp_path):
    digest = make_image(tmp_path, "true")
    image, why = s.load_image(str(tmp_path), digest)
    assert why is None and image["rootfs"].endswith("/rootfs") and image["env"] == ["PATH=/bin", "FN_KIND=test"]
    meta = os.path.join(str(tmp_path), s.digest_dirname(digest), "image.json")
    doc = json.load(open(meta))
    for field, value, words in (("schema", 2, "schema"), ("digest", "sha256:" + "1" * 64, "digest"),
                                ("env", ["NOEQUALS"], "K=V"), ("workdir", "rel", "absolute"),
                                ("cmd", "sh", "list of strings")):
        json.dump(dict(doc, **{field: value}), open(meta, "w"))
        image, why = s.load_image(str(tmp_path), digest)
        assert image is None and words in why, (field, why)
    os.unlink(meta)  # image.json is written last: without it the unpack is incomplete
    image, why = s.load_image(str(tmp_path), digest)
    assert image is None and "not unpacked" in why


def test_lookup_by_reference_and_by_digest(tmp_path):
    digest = make_image(tmp_path, "true")
    images = s.UnpackedImages(str(tmp_path))
    assert images.lookup(REF)[0]["digest"] == digest
    image, why = images.lookup(ABSENT)
    assert image is None and ABSENT in why
    by_digest = s.UnpackedImages(str(tmp_path)).lookup("198.18.0.1:5000/other@" + digest)
    assert by_digest[0]["digest"] == digest  # a digest reference needs no refs.json entry


def test_broken_refs_json_is_a_reason_not_a_crash(tmp_path):
    (tmp_path / "refs.json").write_text("{not json")
    image, why = s.UnpackedImages(str(tmp_path)).lookup(REF)
    assert image is None and "refs.json unusable" in why


# --------------------------------------------------------------------- confinement, real bwrap

@needs_bwrap
def test_runs_as_65534_without_capabilities(tmp_path):
    res = run_in(tmp_path / "u", tmp_path, "id -u; id -g; /bin/busybox grep -E '^(CapEff|CapBnd|NoNewPrivs)' "
                 "/proc/self/status; /bin/busybox hostname; /bin/busybox ls /proc | /bin/busybox grep -c '^[0-9]'")
    assert res.returncode == 0, res.stderr
    lines = res.stdout.split("\n")
    assert lines[0:2] == ["65534", "65534"]
    assert "CapEff:\t0000000000000000" in res.stdout and "CapBnd:\t0000000000000000" in res.stdout
    assert "NoNewPrivs:\t1" in res.stdout
    assert lines[5] == "kpt-fn"
    assert int(lines[6]) <= 5  # its own PID namespace: bwrap, sh, ls and grep (the host runs many more)


@needs_bwrap
def test_no_user_namespace_can_be_made_inside(tmp_path):
    """Issue 15 class 7: dropping ``--disable-userns`` passed every test. A function that makes a user
    namespace of its own (where it is root again, with every capability) must fail to."""
    res = run_in(tmp_path / "u", tmp_path, "/bin/busybox unshare -U /bin/busybox true; echo plain=$?; "
                 "/bin/busybox unshare -Ur /bin/busybox id -u; echo root=$?")
    assert res.returncode == 0, res.stderr
    assert "plain=1" in res.stdout and "root=1" in res.stdout, (res.stdout, res.stderr)
    assert "unshare(0x10000000)" in res.stderr  # CLONE_NEWUSER refused, not a missing applet


@needs_bwrap
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and setpriv")
def test_as_root_the_sandbox_is_65534_outside_too_when_the_image_is_reachable(tmp_path):
    """kpt as root: bwrap itself runs as 65534 (setpriv) when 65534 can reach the rootfs, so a root-only
    file of the image is as unreadable as in a container; else the user namespace maps 65534 to root."""
    probe = "/bin/busybox cat /root-only.txt >/dev/null 2>&1 && echo READ || echo DENIED; id -u"

    shared = tempfile.mkdtemp(prefix="o2edge-sandbox-test-", dir="/tmp")
    umask = os.umask(0o022)  # the unpacked folders must be searchable by 65534
    try:
        os.chmod(shared, 0o755)
        assert s.reachable_by_others(shared)
        for unpack, expected, outside in ((os.path.join(shared, "u"), "DENIED", "65534 outside"),
                                          (str(tmp_path / "u"), "READ", "the caller's uid outside")):
            make_image(unpack, probe, extra_files={"root-only.txt": "x"})
            for root, _dirs, files in os.walk(unpack):
                for name in files:
                    if name == "root-only.txt":
                        os.chmod(os.path.join(root, name), 0o600)
            box = s.Sandbox(BWRAP, unpack, lambda ref: ref, str(tmp_path / "w"), setpriv=shutil.which("setpriv"))
            wrapper, _resolved, _digest, why = box.decide(REF)
            assert why.endswith("(uid 65534 inside, %s)" % outside)
            res = subprocess.run([wrapper], input="", capture_output=True, text=True, check=False, timeout=60)
            assert res.stdout.split() == [expected, "65534"], (unpack, res.stdout, res.stderr)
    finally:
        os.umask(umask)
        shutil.rmtree(shared)
    assert not s.reachable_by_others(str(tmp_path))  # pytest's folder is private: the second case above


@needs_bwrap
def test_functions_see_the_resource_list_and_pass_it_on(tmp_path):
    rl = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
    res = run_in(tmp_path / "u", tmp_path, "exec /bin/busybox cat", stdin=rl)
    assert res.returncode == 0 and res.stdout == rl


@needs_bwrap
def test_no_network(tmp_path):
    """A listener on the host's loopback is reachable outside the sandbox and not inside."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    port = server.getsockname()[1]
    accepted = []

    def serve():
        try:
            while True:
                conn, _addr = server.accept()
                accepted.append(1)
                conn.sendall(b"ok")
                conn.close()
        except OSError:
            return

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        probe = "/bin/busybox nc -w 3 127.0.0.1 %d </dev/null" % port
        outside = subprocess.run([BUSYBOX, "sh", "-c", probe], capture_output=True, text=True, check=False)
        assert outside.returncode == 0 and outside.stdout == "ok"  # the probe itself works
        res = run_in(tmp_path / "u", tmp_path, probe + "; echo rc=$?; /bin/busybox ip -o link")
        assert "rc=0" not in res.stdout and "rc=" in res.stdout
        assert accepted == [1]  # only the outside probe got through
        links = [line for line in res.stdout.splitlines() if ": " in line and not line.startswith("rc=")]
        assert len(links) == 1 and ": lo:" in links[0]
    finally:
        server.close()


@needs_bwrap
def test_writes_only_to_a_private_tmp(tmp_path):
    res = run_in(tmp_path / "u", tmp_path,
                 "for f in /etc/x /x /bin/y /work/z; do echo data > $f && echo wrote $f; done; "
                 "echo data > /tmp/t && echo wrote /tmp/t; /bin/busybox ls /tmp")
    assert res.stdout.split("\n")[:2] == ["wrote /tmp/t", "t"], res.stdout + res.stderr
    assert "Read-only file system" in res.stderr
    rootfs = [os.path.join(r, "rootfs") for r in (tmp_path / "u").iterdir() if r.is_dir()][0]
    assert not os.path.exists(os.path.join(rootfs, "x")) and not os.path.exists(os.path.join(rootfs, "tmp"))


@needs_bwrap
def test_controller_files_and_environment_are_invisible(tmp_path):
    secret_dir = tmp_path / "controller"
    secret_dir.mkdir()
    (secret_dir / "secret.txt").write_text("s3cret")
    res = run_in(tmp_path / "u", tmp_path,
                 "for f in /etc/shadow %s/secret.txt /root; do [ -e $f ] && echo SEEN $f; done; "
                 "/bin/busybox env | /bin/busybox sort; /bin/busybox ls /; pwd" % secret_dir,
                 workdir="/work")
    assert "SEEN" not in res.stdout, res.stdout
    assert "do-not-leak" not in res.stdout and "O2EDGE_CONTROLLER_SECRET" not in res.stdout
    assert "FN_KIND=test" in res.stdout and "HOME=/nonexistent" in res.stdout
    top = set(res.stdout.split())
    assert {"bin", "etc", "fn.sh", "work", "proc", "dev", "tmp"} <= top and "usr" not in top
    assert res.stdout.rstrip().endswith("/work")


@needs_bwrap
def test_failing_function_fails(tmp_path):
    res = run_in(tmp_path / "u", tmp_path, "echo 'validation failed' >&2; exit 3")
    assert res.returncode == 3 and "validation failed" in res.stderr


# --------------------------------------------------------------------- Kptfile rewrite and undo

KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {name}  # a comment kept
pipeline:
  mutators:
  - image: "{ref}"   # quoted, with a comment
    configMap:
      team: red
  - exec: ./local-fn.sh
  validators:
  - image: {absent}
{extra}"""


def make_pkg(base, name="p", ref=REF, extra="", sub=False):
    pkg = base / name
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(KPTFILE.format(name=name, ref=ref, absent=ABSENT, extra=extra))
    (pkg / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\ndata:\n  a: b\n")
    if sub:
        (pkg / "sub").mkdir()
        (pkg / "sub" / "Kptfile").write_text(
            "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: sub\npipeline:\n  mutators:\n"
            "  - image: %s\n    configPath: fn-config.yaml\n" % ref)
        (pkg / "sub" / "fn-config.yaml").write_text(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fn-config\n  annotations:\n"
            "    config.kubernetes.io/local-config: \"true\"\ndata:\n  team: blue\n")
        (pkg / "sub" / "cm.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm1\n")
    return pkg


def sandbox(tmp_path, unpack):
    return s.Sandbox(BWRAP or "/usr/bin/bwrap", str(unpack), lambda ref: ref, str(tmp_path / "scratch" / "fn-sandbox"))


def test_prepare_rewrites_unpacked_images_only_and_restore_undoes_it(tmp_path):
    unpack = tmp_path / "u"
    make_image(unpack, TEAM_FN)
    pkg = make_pkg(tmp_path / "pkgs", sub=True)
    original = {p: (pkg / p).read_text() for p in ("Kptfile", "sub/Kptfile")}
    box = sandbox(tmp_path, unpack)
    plan = box.prepare(str(pkg), "p")
    paths = [(p["kptfile"], p["field"], p["path"]) for p in plan.paths]
    assert paths == [("Kptfile", "pipeline.mutators[0]", "sandbox"), ("Kptfile", "pipeline.mutators[1]", "exec"),
                     ("Kptfile", "pipeline.validators[0]", "container"),
                     ("sub/Kptfile", "pipeline.mutators[0]", "sandbox")]
    assert "not unpacked" in plan.paths[2]["reason"] and plan.paths[2]["image"] == ABSENT
    assert plan.sandboxed == 2 and plan.paths[0]["digest"].startswith("sha256:")
    wrapper = list(plan.wrappers)[0]
    text = (pkg / "Kptfile").read_text()
    assert "  - exec: %s   # quoted, with a comment\n    configMap:" % wrapper in text
    assert "image: %s" % ABSENT in text and "# a comment kept" in text
    assert os.access(wrapper, os.X_OK) and "--unshare-net" in open(wrapper).read()
    box.restore(str(pkg), plan)
    assert {p: (pkg / p).read_text() for p in original} == original


def test_entries_the_sandbox_cannot_serve_stay_in_containers(tmp_path):
    unpack = tmp_path / "u"
    make_image(unpack, TEAM_FN)
    make_image(unpack, "true", ref="198.18.0.1:5000/kpt-fn/noentry:v1", entrypoint=[], cmd=[])
    make_image(unpack, "true", ref="198.18.0.1:5000/kpt-fn/nowd:v1", workdir="/missing")
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "Kptfile").write_text(
        "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n  mutators:\n"
        "  - image: %s\n    network: true\n  - image: %s\n    storageMounts: []\n"
        "  - image: 198.18.0.1:5000/kpt-fn/noentry:v1\n  - image: 198.18.0.1:5000/kpt-fn/nowd:v1\n" % (REF, REF))
    before = (pkg / "Kptfile").read_text()
    plan = sandbox(tmp_path, unpack).prepare(str(pkg), "p")
    assert [p["path"] for p in plan.paths] == ["container"] * 4
    reasons = [p["reason"] for p in plan.paths]
    assert "network" in reasons[0] and "storageMounts" in reasons[1]
    assert "no entrypoint" in reasons[2] and "workdir /missing" in reasons[3]
    assert (pkg / "Kptfile").read_text() == before and not plan.rewrites


def test_restore_refuses_output_that_still_names_a_wrapper(tmp_path):
    unpack = tmp_path / "u"
    make_image(unpack, TEAM_FN)
    pkg = make_pkg(tmp_path / "pkgs")
    box = sandbox(tmp_path, unpack)
    plan = box.prepare(str(pkg), "p")
    wrapper = list(plan.wrappers)[0]
    with open(str(pkg / "Kptfile"), "a") as f:  # a function copied the wrapper path elsewhere
        f.write("info:\n  description: %s\n" % wrapper)
    with pytest.raises(s.SandboxError, match="still names the sandbox wrapper"):
        box.restore(str(pkg), plan)


def test_broken_kptfile_is_refused_by_name(tmp_path):
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nmetadata: [oops\n")
    with pytest.raises(KptError, match="p/Kptfile"):
        sandbox(tmp_path, tmp_path / "u").prepare(str(pkg), "p")


# --------------------------------------------------------------------- renders with kpt

def render(tmp_path, pkgs, **kw):
    kw.setdefault("kpt_ver", "1.0.0-beta.56")
    r = k.Renderer(KPT, k.package_labels([str(p) for p in pkgs]), runs=1, cold=False, scratch_dir=str(tmp_path),
                   **kw)
    result = r.run()
    try:
        records, _total = r.records(result, {"kpt": "1.0.0-beta.56"})
        return r, result, records, k.package_summaries(r, result), [
            snapshot(o) if o else None for o in result["outputs"]]
    finally:
        shutil.rmtree(result["base"])


@needs_kpt
def test_render_in_the_sandbox_with_config_map_and_config_path(tmp_path):
    unpack = tmp_path / "u"
    make_image(unpack, TEAM_FN)
    pkg = tmp_path / "pkgs" / "p"
    make_pkg(tmp_path / "pkgs", sub=True)
    kptfile = (pkg / "Kptfile").read_text()
    (pkg / "Kptfile").write_text(kptfile.split("  - exec:")[0])  # only the sandboxed function
    before = snapshot(str(pkg))
    _r, _result, records, summaries, outs = render(tmp_path, [pkg], function_sandbox="bwrap", bwrap=BWRAP,
                                                   sandbox_unpack_dir=str(unpack))
    assert summaries[0]["ok"], summaries[0]
    out = outs[0]
    assert b"name: cm1-red" in out["cm.yaml"][2]  # configMap reached the function
    assert b"name: cm1-blue" in out["sub/cm.yaml"][2]  # configPath too
    assert semantic_changes(before, out, ["Kptfile", "sub/Kptfile"]) == []  # the image entries are back
    assert b"fn-sandbox" not in out["Kptfile"][2]
    rec = records[0]
    assert rec["context"]["function_sandbox"] == "bwrap" and rec["context"]["allow_exec_added"] is True
    assert "--allow-exec" in rec["context"]["command"]
    assert [p["path"] for p in rec["context"]["function_paths"]] == ["sandbox", "sandbox"]
    assert summaries[0]["function_paths"] == rec["context"]["function_paths"]
    assert records[-1]["context"]["function_path_counts"] == {"sandbox": 2, "container": 0, "exec": 0}
    assert snapshot(str(pkg)) == before  # benchmark mode never touches the package


@needs_kpt
def test_sandboxed_failure_names_the_image_not_the_wrapper(tmp_path):
    unpack = tmp_path / "u"
    make_image(unpack, "/bin/busybox cat >/dev/null; echo 'policy violated' >&2; exit 1")
    pkg = tmp_path / "pkgs" / "p"
    make_pkg(tmp_path / "pkgs")
    (pkg / "Kptfile").write_text((pkg / "Kptfile").read_text().split("  - exec:")[0])
    _r, _res, records, summaries, _outs = render(tmp_path, [pkg], function_sandbox="bwrap", bwrap=BWRAP,
                                                 sandbox_unpack_dir=str(unpack))
    assert not summaries[0]["ok"]
    assert "policy violated" in summaries[0]["stderr"]
    assert REF + " (bwrap sandbox)" in summaries[0]["stderr"] and "fn-sandbox" not in summaries[0]["stderr"]
    assert records[0]["failures"] == 1


@needs_kpt
def test_sandbox_flag_is_part_of_the_cache_key(tmp_path):
    unpack = tmp_path / "u"
    make_image(unpack, TEAM_FN)
    pkg = tmp_path / "pkgs" / "p"
    make_pkg(tmp_path / "pkgs")
    (pkg / "Kptfile").write_text((pkg / "Kptfile").read_text().split("  - exec:")[0])

    class NoRuntime(object):
        def identity(self, image):
            return None  # the container runtime knows no image: only the sandbox can key it

    cache = str(tmp_path / "cache")
    kw = dict(cache_dir=cache, resolver=NoRuntime())
    _r, _res, _rec, first, _o = render(tmp_path, [pkg], function_sandbox="bwrap", bwrap=BWRAP,
                                       sandbox_unpack_dir=str(unpack), **kw)
    _r, _res, _rec, second, outs = render(tmp_path, [pkg], function_sandbox="bwrap", bwrap=BWRAP,
                                          sandbox_unpack_dir=str(unpack), **kw)
    assert first[0]["cache"] == "miss" and second[0]["cache"] == "hit"
    assert b"cm1-red" in outs[0]["cm.yaml"][2] and b"fn-sandbox" not in outs[0]["Kptfile"][2]
    # The flag itself is in the key: the same package, the same function identity, only the flag differs.
    # (The old ending compared two flag dicts built with different values: true by construction.)
    same_identity = FakeResolver({REF: "sha256:" + "a" * 64})
    rinput = render_input(str(pkg))

    def key(function_sandbox):
        r = k.Renderer(KPT, k.package_labels([str(pkg)]), kpt_ver="1.0.0-beta.56", cache_dir=cache,
                       function_sandbox=function_sandbox, bwrap=BWRAP)
        return cache_key(rinput, str(pkg), same_identity, "1.0.0-beta.56", r.flags)

    assert key("none") is not None and key("none") != key("bwrap")
    assert key("bwrap") == key("bwrap") and key("none") == key("none")


def test_bad_sandbox_settings_are_refused():
    with pytest.raises(KptError, match="function_sandbox"):
        k.Renderer("kpt", [], function_sandbox="gvisor")
    with pytest.raises(KptError, match="bubblewrap"):
        k.Renderer("kpt", [], function_sandbox="bwrap", bwrap=None)


# --------------------------------------------------------------------- hostile input (issue 15)

DEEP_PREPARE = """import sys
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _fn_sandbox as s
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import KptError
box = s.Sandbox("/usr/bin/bwrap", sys.argv[2], lambda ref: ref, sys.argv[3])
try:
    box.prepare(sys.argv[1], "p")
except KptError as exc:
    print("KptError: %s" % exc)
"""


def test_deeply_nested_kptfile_is_refused_by_prepare_not_a_crash(tmp_path):
    """yaml.compose of a Kptfile nested 200,000 deep crashed the process (libyaml's composer recurses):
    prepare checks the bounds on the event stream first. Run in a child so a crash fails the test only."""
    pkg = tmp_path / "p"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nx: " + "[" * 200000 + "]" * 200000 + "\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    proc = subprocess.run([sys.executable, "-c", DEEP_PREPARE, str(pkg), str(tmp_path / "u"), str(tmp_path / "w")],
                          capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    assert proc.stdout.strip() == "KptError: invalid Kptfile p/Kptfile: nests deeper than 32 levels (line 3)"


def test_fifo_kptfile_is_refused_by_prepare_without_blocking(tmp_path):
    pkg = tmp_path / "p"
    pkg.mkdir()
    os.mkfifo(str(pkg / "Kptfile"))
    with pytest.raises(KptError, match=r"invalid Kptfile p/Kptfile: is a named pipe \(FIFO\)"):
        call_without_hanging([pkg / "Kptfile"], sandbox(tmp_path, tmp_path / "u").prepare, str(pkg), "p")


def test_fifo_image_json_and_refs_json_are_reasons_not_a_hang(tmp_path):
    """image.json and refs.json are read through _safe_read: a FIFO is a reason to use a container."""
    digest = make_image(tmp_path, "true")
    meta = tmp_path / s.digest_dirname(digest) / "image.json"
    meta.unlink()
    os.mkfifo(str(meta))
    image, why = call_without_hanging([meta], s.load_image, str(tmp_path), digest)
    assert image is None and "named pipe" in why
    refs = tmp_path / "refs.json"
    refs.unlink()
    os.mkfifo(str(refs))
    image, why = call_without_hanging([refs], s.UnpackedImages(str(tmp_path)).lookup, REF)
    assert image is None and "refs.json unusable" in why and "named pipe" in why


def test_missing_refs_json_is_not_an_error(tmp_path):
    image, why = s.UnpackedImages(str(tmp_path)).lookup(REF)
    assert image is None and why == "not unpacked (%s not in %s/refs.json)" % (REF, tmp_path)


def test_deep_image_json_is_a_reason(tmp_path):
    """json.loads recursed on a deep image.json (RecursionError escaped load_image's except)."""
    digest = make_image(tmp_path, "true")
    meta = tmp_path / s.digest_dirname(digest) / "image.json"
    meta.write_text("[" * 100000 + "]" * 100000)
    image, why = s.load_image(str(tmp_path), digest)
    assert image is None and "nests deeper than 32 levels" in why


def test_restore_refuses_a_wrapper_left_in_another_kptfile(tmp_path):
    """restore checked each rewritten Kptfile only for its own wrappers: the wrapper of sub/Kptfile's
    image copied into the root Kptfile (or into a Kptfile that was not rewritten) went unseen."""
    unpack = tmp_path / "u"
    make_image(unpack, TEAM_FN)
    other = "198.18.0.1:5000/kpt-fn/other:v1"
    make_image(unpack, "true", ref=other)
    pkg = make_pkg(tmp_path / "pkgs", sub=True)
    (pkg / "sub" / "Kptfile").write_text((pkg / "sub" / "Kptfile").read_text().replace(REF, other))
    (pkg / "plain").mkdir()
    (pkg / "plain" / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: plain\n")
    box = sandbox(tmp_path, unpack)
    plan = box.prepare(str(pkg), "p")
    sub_wrapper = [w for w, ref in plan.wrappers.items() if ref == other][0]
    for target in ("Kptfile", "plain/Kptfile"):
        path = pkg / target
        before = path.read_text()
        path.write_text(before + "info:\n  description: %s\n" % sub_wrapper)
        rewritten = (pkg / "Kptfile").read_text()
        with pytest.raises(s.SandboxError, match="still names the sandbox wrapper"):
            box.restore(str(pkg), plan)
        assert (pkg / "Kptfile").read_text() == rewritten  # nothing written before the refusal
        path.write_text(before)
    box.restore(str(pkg), plan)
    assert "fn-sandbox" not in (pkg / "Kptfile").read_text() + (pkg / "sub" / "Kptfile").read_text()
