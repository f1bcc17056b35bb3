# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_fn_sandbox: tests written for the survivors of a mutation run (docs/mutation.md), each named for
the bug it catches. None of them needs bwrap: they read the command the sandbox builds."""
from __future__ import annotations

import json
import os
import re

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _fn_sandbox as s
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _unpacked_layout

DIGEST = "sha256:" + "ab" * 32


def _image(tmp_path, env=None, passwd=None, top=("bin", "etc")):
    rootfs = tmp_path / "rootfs"
    rootfs.mkdir(parents=True)
    for name in top:
        (rootfs / name).mkdir()
    if passwd is not None:
        (rootfs / "etc").mkdir(exist_ok=True)
        (rootfs / "etc" / "passwd").write_bytes(passwd)
    return {"digest": DIGEST, "dir": str(tmp_path), "rootfs": str(rootfs), "entrypoint": ["/bin/fn"], "cmd": [],
            "env": list(env or []), "workdir": "/", "user": "", "references": []}


def _setenv(argv):
    out = {}
    for i, word in enumerate(argv):
        if word == "--setenv":
            out[argv[i + 1]] = argv[i + 2]
    return out


def _binds(argv):
    return [argv[i + 2] for i, word in enumerate(argv) if word in ("--ro-bind", "--symlink")]


def test_the_sandbox_reads_the_folder_image_precache_writes_by_default():
    """Bug: the sandbox's default unpack folder differing from the layout's (every image then "not unpacked")."""
    assert s.DEFAULT_UNPACK_DIR == _unpacked_layout.DEFAULT_UNPACK_DIR == "~/.cache/o2edge-perf/fn-images"


def test_an_image_without_path_gets_the_usual_default_path(tmp_path):
    """Bug: the PATH given to a function whose image sets none changed (a function's `sh` or `cat` not found)."""
    env = _setenv(s.bwrap_argv("/usr/bin/bwrap", _image(tmp_path, env=["A=1"])))
    assert env["PATH"] == "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    assert env["A"] == "1"
    # the image's own PATH wins
    assert _setenv(s.bwrap_argv("/usr/bin/bwrap", _image(tmp_path / "x", env=["PATH=/opt/bin"])))["PATH"] == "/opt/bin"


def test_the_image_cannot_supply_its_own_proc_dev_or_tmp(tmp_path):
    """Bug: an image's /proc, /dev or /tmp bound read-only over the sandbox's own (a fresh /proc, a minimal
    /dev, a private writable /tmp)."""
    argv = s.bwrap_argv("/usr/bin/bwrap", _image(tmp_path, top=("bin", "proc", "dev", "tmp", "usr")))
    assert _binds(argv) == ["/bin", "/usr"]
    tail = argv[argv.index("--proc"):]
    assert tail[:6] == ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]


def test_home_comes_from_a_passwd_of_up_to_256_kib(tmp_path):
    """Bug: the bound on the image's /etc/passwd moved (a larger file read, or the largest allowed one refused)."""
    line = b"nobody:x:65534:65534:nobody:/home/nobody:/bin/sh\n"
    limit = 256 * 1024
    exact = line + b"#" * (limit - len(line) - 1) + b"\n"
    assert len(exact) == limit
    assert _setenv(s.bwrap_argv("bwrap", _image(tmp_path / "a", passwd=exact)))["HOME"] == "/home/nobody"
    over = exact + b"\n"
    assert _setenv(s.bwrap_argv("bwrap", _image(tmp_path / "b", passwd=over)))["HOME"] == "/"


def _kptfile(tmp_path, entry):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n"
                                 "  mutators:\n" + entry)
    return pkg


class _Ready(s.Sandbox):
    """A sandbox whose every image is unpacked (decide() without bwrap or an unpack folder)."""

    def decide(self, ref):
        return os.path.join(self.wrapper_dir, "w.sh"), ref, DIGEST, "unpacked"


@pytest.mark.parametrize("extra", ["    name: set-team\n", "    selectors:\n      - kind: ConfigMap\n",
                                   "    exclude:\n      - kind: Secret\n", "    configPath: fn-config.yaml\n",
                                   "    configMap:\n      team: a\n"])
def test_every_key_the_sandbox_honours_keeps_the_function_in_the_sandbox(tmp_path, extra):
    """Bug: a key of KNOWN_KEYS (name, selectors, exclude, configPath, configMap) forgotten, so an ordinary
    function silently ran in a container instead."""
    pkg = _kptfile(tmp_path, "  - image: example.org/fn:v1\n" + extra)
    plan = _Ready("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(tmp_path / "w")).prepare(str(pkg), "p")
    assert [(p["path"], p["reason"]) for p in plan.paths] == [("sandbox", "unpacked")]


def test_an_entry_with_both_image_and_exec_is_named_so(tmp_path):
    """Bug: `exec` missing from KNOWN_KEYS: an entry with both was reported as declaring a key the sandbox
    does not give, not as holding both."""
    pkg = _kptfile(tmp_path, "  - image: example.org/fn:v1\n    exec: ./fn.sh\n")
    plan = _Ready("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(tmp_path / "w")).prepare(str(pkg), "p")
    assert [(p["path"], p["reason"]) for p in plan.paths] == [("container", "both image and exec")]


def test_bwrap_version_is_the_last_word_of_its_version_line(tmp_path):
    """Bugs: `bwrap --version` not run as such, its output not captured, or the result thrown away."""
    fake = tmp_path / "bwrap"
    fake.write_text('#!/bin/sh\n[ "$1" = --version ] && echo "bubblewrap 0.8.0" && exit 0\nexit 3\n')
    fake.chmod(0o755)
    assert s.bwrap_version(str(fake)) == "0.8.0"
    assert s.bwrap_version(str(tmp_path / "absent")) is None
    # the last word, not the second: a build that prints more words before its version
    fake.write_text('#!/bin/sh\necho "bubblewrap version 0.9.0"\n')
    assert s.bwrap_version(str(fake)) == "0.9.0"
    # a bwrap that prints nothing has no version
    fake.write_text("#!/bin/sh\nexit 0\n")
    assert s.bwrap_version(str(fake)) is None


def test_refs_json_is_read_once(tmp_path):
    """refs.json is read once per lookup object (it is replaced atomically, never edited)."""
    (tmp_path / "refs.json").write_text(json.dumps({"a": DIGEST}))
    images = s.UnpackedImages(str(tmp_path))
    assert images.refs() == {"a": DIGEST}
    (tmp_path / "refs.json").write_text(json.dumps({"b": DIGEST}))
    assert images.refs() == {"a": DIGEST}


# --- third round: load_image's reasons (why a function falls back to its container) ------------------------

def _unpacked(tmp_path, doc=None, rootfs="dir", raw=None):
    """An unpack folder holding DIGEST: its image.json (``doc``, or ``raw`` text) and its rootfs (a directory,
    a symlink to one, or none)."""
    base = tmp_path / ("sha256-" + "ab" * 32)
    base.mkdir(parents=True)
    if rootfs == "dir":
        (base / "rootfs").mkdir()
    elif rootfs == "link":
        (tmp_path / "elsewhere").mkdir()
        os.symlink(str(tmp_path / "elsewhere"), str(base / "rootfs"))
    if doc is not None or raw is not None:
        full = {"schema": 1, "digest": DIGEST, "entrypoint": ["/bin/fn"], "cmd": [], "env": [], "workdir": "/"}
        full.update(doc or {})
        (base / "image.json").write_text(raw if raw is not None else json.dumps(full))
    return str(tmp_path), str(base)


def test_an_image_not_unpacked_names_the_missing_image_json(tmp_path):
    """Bug: the reason for an image that is not unpacked garbled."""
    unpack_dir, base = _unpacked(tmp_path)
    assert s.load_image(unpack_dir, DIGEST) == (None, "not unpacked (no %s/image.json)" % base)


@pytest.mark.parametrize("rootfs", ["link", None])
def test_a_rootfs_that_is_a_symlink_or_missing_is_refused_by_name(tmp_path, rootfs):
    """Bugs: a rootfs that is a symlink (to a directory elsewhere) accepted, or the reason garbled."""
    unpack_dir, base = _unpacked(tmp_path, doc={}, rootfs=rootfs)
    assert s.load_image(unpack_dir, DIGEST) == (None, "unpacked image %s has no rootfs directory" % base)


def test_an_image_json_that_is_not_an_object_is_named_so(tmp_path):
    """Bug: the reason for an image.json that is a list garbled."""
    unpack_dir, base = _unpacked(tmp_path, raw="[1, 2]")
    assert s.load_image(unpack_dir, DIGEST) == (None, "unusable unpacked image: %s/image.json is not a JSON object" % base)


def test_a_field_that_is_not_a_list_of_strings_is_named(tmp_path):
    """Bug: the reason for a cmd that is not a list of strings garbled."""
    unpack_dir, base = _unpacked(tmp_path, doc={"cmd": "run"})
    assert s.load_image(unpack_dir, DIGEST) == (
        None, "unusable unpacked image: %s/image.json: cmd is not a list of strings" % base)


@pytest.mark.parametrize("doc,why", [
    ({"schema": 2}, "schema 2, not 1"),
    ({"digest": "sha256:" + "cd" * 32}, "digest 'sha256:%s', not %s" % ("cd" * 32, DIGEST)),
    ({"env": ["NOEQUALS"]}, "env entry 'NOEQUALS' is not K=V"),
    ({"env": ["=value"]}, "env entry '=value' is not K=V"),
    ({"workdir": "relative/dir"}, "workdir 'relative/dir' is not an absolute path"),
    ({"workdir": 5}, "workdir 5 is not an absolute path"),
])
def test_an_image_json_that_does_not_describe_this_image_is_refused_with_the_field(tmp_path, doc, why):
    """Bugs: another schema or digest accepted, an env entry without a name or '=' accepted, a relative
    workdir accepted, or the reasons garbled."""
    unpack_dir, base = _unpacked(tmp_path, doc=doc)
    assert s.load_image(unpack_dir, DIGEST) == (None, "unusable unpacked image: %s/image.json: %s" % (base, why))


def test_an_image_json_without_workdir_or_user_gets_the_defaults(tmp_path):
    """Bugs: a missing or empty workdir not '/', a missing user not '' (podman's defaults)."""
    unpack_dir, base = _unpacked(tmp_path, doc={"workdir": "", "env": ["A=1=2"], "references": ["r:1"]})
    image, why = s.load_image(unpack_dir, DIGEST)
    assert why is None
    assert image == {"digest": DIGEST, "dir": base, "rootfs": base + "/rootfs", "entrypoint": ["/bin/fn"], "cmd": [],
                     "env": ["A=1=2"], "workdir": "/", "user": "", "references": ["r:1"]}


REF = "198.18.0.1:5000/kpt-fn/set-labels:v1"


@pytest.mark.parametrize("refs", [{"a": 1}, ["a"], {"a": DIGEST, "b": None}])
def test_a_refs_json_that_is_not_reference_to_digest_is_a_reason_in_full(tmp_path, refs):
    """Bugs: refs.json with a non-string digest or not a mapping accepted, or the reason garbled or lost."""
    (tmp_path / "refs.json").write_text(json.dumps(refs))
    images = s.UnpackedImages(str(tmp_path))
    assert images.lookup(REF) == (None, "not unpacked (%s not in %s/refs.json); refs.json unusable: %s/refs.json is not an object "
                                  "of reference -> digest" % (REF, tmp_path, tmp_path))
    assert images.refs() == {}


def test_a_missing_refs_json_is_no_error(tmp_path):
    """Bug: a missing refs.json (nothing unpacked yet) reported as unusable."""
    assert s.UnpackedImages(str(tmp_path)).lookup(REF) == (None, "not unpacked (%s not in %s/refs.json)" % (REF, tmp_path))


def test_the_sandbox_command_is_exactly_the_documented_one(tmp_path):
    """Bugs: any isolation flag of bwrap dropped or changed (user, pid, ipc, uts, net, cgroup namespaces, uid and
    gid 65534, no further user namespaces, hostname, new session, death with kpt, no capabilities, a cleared
    environment), a top-level entry bound read-write or not at all, a symlink not re-created, the sandbox's own
    /proc, /dev, /tmp or read-only root missing, or the workdir, entrypoint and cmd out of place."""
    image = _image(tmp_path, env=["B=2", "A=1", "C=x=y"], top=("bin", "etc", "proc"))
    rootfs = image["rootfs"]
    (tmp_path / "rootfs" / "data.txt").write_text("x")
    os.symlink("usr/lib", os.path.join(rootfs, "lib"))
    os.mkfifo(os.path.join(rootfs, "pipe"))  # neither file, directory nor link: not bound
    image.update(workdir="/etc", cmd=["--flag"])
    argv = s.bwrap_argv("/usr/bin/bwrap", image)
    assert argv == [
        "/usr/bin/bwrap", "--unshare-user", "--uid", "65534", "--gid", "65534", "--disable-userns", "--unshare-pid",
        "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try", "--hostname", "kpt-fn",
        "--new-session", "--die-with-parent", "--cap-drop", "ALL", "--clearenv",
        "--setenv", "A", "1", "--setenv", "B", "2", "--setenv", "C", "x=y", "--setenv", "HOME", "/",
        "--setenv", "PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "--ro-bind", rootfs + "/bin", "/bin", "--ro-bind", rootfs + "/data.txt", "/data.txt",
        "--ro-bind", rootfs + "/etc", "/etc", "--symlink", "usr/lib", "/lib",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--remount-ro", "/", "--chdir", "/etc", "--",
        "/bin/fn", "--flag"]


def test_the_wrapper_script_execs_the_command_quoted_and_names_the_image():
    """Bugs: the wrapper's shebang, comment or exec line changed; a word not quoted; a line break in the
    reference breaking the script."""
    image = {"digest": DIGEST}
    text = s.wrapper_text(["/usr/bin/bwrap", "--setenv", "A", "x y", "--", "/bin/fn"], image, "reg/fn:v1\nrm -rf /")
    assert text == ("#!/bin/sh\n# o2edge.perf kpt_render: reg/fn:v1 rm -rf / (%s) in a bubblewrap sandbox, no container\n"
                    "exec /usr/bin/bwrap --setenv A 'x y' -- /bin/fn\n" % DIGEST)


@pytest.mark.parametrize("workdir,inside", [
    ("/", True), ("/etc", True), ("/etc/.", True), ("/missing", False), ("/../etc", False), ("/etc/../etc", False),
    ("/data.txt", False), ("/abs-in", True), ("/rel-in", True), ("/abs-out", False), ("/rel-out", False),
    ("/sibling", False), ("/abs-x", True),
])
def test_a_workdir_is_inside_the_image_only_as_a_directory_reached_without_leaving_it(tmp_path, workdir, inside):
    """Bugs: '..' or a symlink leading out of the root filesystem accepted, a missing path or a file taken for a
    directory, a symlink's target resolved from the wrong place."""
    rootfs = tmp_path / "rootfs"
    (rootfs / "etc").mkdir(parents=True)
    (rootfs / "data.txt").write_text("x")
    (tmp_path / "outside").mkdir()
    os.symlink("/etc", str(rootfs / "abs-in"))  # absolute: read inside the image
    os.symlink("etc", str(rootfs / "rel-in"))
    os.symlink("/../../outside", str(rootfs / "abs-out"))
    os.symlink("../outside", str(rootfs / "rel-out"))
    (tmp_path / "rootfs2").mkdir()  # a sibling whose name starts with the root's
    os.symlink("../rootfs2", str(rootfs / "sibling"))
    (rootfs / "Xdir").mkdir()
    os.symlink("/Xdir", str(rootfs / "abs-x"))  # only the leading '/' is taken off an absolute target
    assert s._inside(str(rootfs), workdir) is inside


def _sandbox(tmp_path, doc=None, resolve=None, wrapper_dir=None):
    unpack_dir, base = _unpacked(tmp_path / "unpack", doc=doc or {})
    (tmp_path / "unpack" / "refs.json").write_text(json.dumps({REF: DIGEST}))
    box = s.Sandbox("/usr/bin/bwrap", unpack_dir, resolve or (lambda ref: ref), wrapper_dir or str(tmp_path / "wrappers"))
    return box, base


def _unresolvable(ref):
    raise ValueError("no tag in %s" % ref)


def test_each_reason_to_stay_in_a_container_is_given_in_full(tmp_path):
    """Bugs: an image without entrypoint or cmd, or whose workdir is not in it, sandboxed anyway; a reference
    kpt cannot resolve not reported; any of these reasons garbled."""
    box, _base = _sandbox(tmp_path / "a", doc={"entrypoint": [], "cmd": []})
    assert box.decide(REF) == (None, REF, DIGEST, "the image has no entrypoint or cmd")
    box, _base = _sandbox(tmp_path / "b", doc={"workdir": "/srv"})
    assert box.decide(REF) == (None, REF, DIGEST, "workdir /srv is not a directory of the image")
    box, _base = _sandbox(tmp_path / "c", resolve=_unresolvable)
    assert box.decide(REF) == (None, None, None, "reference not resolved: no tag in %s" % REF)
    box, _base = _sandbox(tmp_path / "d", resolve=lambda ref: "")
    assert box.decide(REF) == (None, None, None, "reference not resolved (kpt version unknown)")
    assert box.identity(REF) is None


def test_an_image_with_only_a_cmd_is_sandboxed_and_the_reason_says_where_and_as_whom(tmp_path):
    """Bugs: an image with a cmd but no entrypoint refused; the wrapper not named by the digest; the reason
    garbled or claiming 65534 outside without setpriv."""
    box, base = _sandbox(tmp_path, doc={"entrypoint": [], "cmd": ["/bin/fn"]})
    wrapper = str(tmp_path / "wrappers" / ("sha256-" + "ab" * 32 + ".sh"))
    assert box.decide(REF) == (wrapper, REF, DIGEST, "unpacked in %s (uid 65534 inside, the caller's uid outside)" % base)
    assert box.identity(REF) == DIGEST
    assert os.stat(wrapper).st_mode & 0o777 == 0o700
    assert os.stat(str(tmp_path / "wrappers")).st_mode & 0o777 == 0o700  # the folder, made here, is private too


def test_a_scratch_path_with_white_space_keeps_the_function_in_its_container(tmp_path):
    """Bug: a wrapper path with white space used (kpt splits exec on white space: the function would not run)."""
    box, _base = _sandbox(tmp_path, wrapper_dir=str(tmp_path / "scratch dir"))
    assert box.decide(REF) == (None, REF, DIGEST, "the scratch path %s holds white space, which kpt's exec splits on"
                               % (tmp_path / "scratch dir"))


@pytest.mark.parametrize("passwd,home", [
    (b"nobody:x:65534:100:nobody:/home/nobody:/bin/sh\n", "/home/nobody"),  # the uid field, not the gid
    (b"root:x:0:0::/root:/bin/sh\nx:x:100:65534::/wrong:/bin/sh\n", "/"),
    (b"nobody:x:65534:65534::relative:/bin/sh\n", "/"),  # a home that is not absolute
    (b"\xff\xfe junk line\nnobody:x:65534:65534::/home/n\xc3\xa9:/bin/sh\n", "/home/n\u00e9"),
])
def test_home_is_the_absolute_home_of_uid_65534_in_the_images_passwd(tmp_path, passwd, home):
    """Bugs: the home read from the line whose gid (rather than uid) is 65534, a relative home taken because
    another field is absolute, a passwd with bytes that are not UTF-8 failing instead of being read."""
    assert _setenv(s.bwrap_argv("bwrap", _image(tmp_path, passwd=passwd)))["HOME"] == home


def test_a_passwd_that_is_a_symlink_is_not_followed_out_of_the_image(tmp_path):
    """Bug: the image's /etc/passwd followed as a symlink (to the controller's own files)."""
    outside = tmp_path / "host-passwd"
    outside.write_bytes(b"nobody:x:65534:65534::/from-the-host:/bin/sh\n")
    image = _image(tmp_path / "img")
    os.symlink(str(outside), os.path.join(image["rootfs"], "etc", "passwd"))
    assert _setenv(s.bwrap_argv("bwrap", image))["HOME"] == "/"


def test_an_env_entry_with_an_empty_value_is_kept(tmp_path):
    """Bug: 'NAME=' (an empty value) refused as not K=V."""
    unpack_dir, _base = _unpacked(tmp_path, doc={"env": ["EMPTY=", "A=1"], "user": "1000"})
    image, why = s.load_image(unpack_dir, DIGEST)
    assert why is None and image["env"] == ["EMPTY=", "A=1"] and image["user"] == "1000"


def test_only_a_path_every_user_can_search_is_reachable_by_others(tmp_path):
    """Bugs: a folder without o+x on the way (or a missing path) taken as reachable, so bwrap is made 65534
    outside although 65534 cannot reach the image."""
    assert s.reachable_by_others("/usr/bin")
    locked = tmp_path / "locked"
    (locked / "inner").mkdir(parents=True)
    os.chmod(str(locked), 0o700)
    os.chmod(str(locked / "inner"), 0o755)
    assert not s.reachable_by_others(str(locked / "inner"))
    assert not s.reachable_by_others(str(tmp_path / "missing"))


def _pipeline(tmp_path, text):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n" + text)
    os.chmod(str(pkg / "Kptfile"), 0o640)
    return pkg


class _Named(s.Sandbox):
    """Every image unpacked, each with a wrapper of its own (a.sh for example.org/a:v1)."""

    def decide(self, ref):
        return os.path.join(self.wrapper_dir, ref.split("/")[1].split(":")[0] + ".sh"), ref, DIGEST, "unpacked"


ORIGINAL = ("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\npipeline:\n"
            "  mutators:\n  - image: example.org/a:v1\n  - exec: ./fn.sh\n"
            "  - image: example.org/b:v1\n    network: true\n    storageMounts: []\n"
            "  validators:\n  - image: \"example.org/c:v1\"\n")


def test_prepare_records_every_function_with_its_place_path_and_reason(tmp_path):
    """Bugs: a function's record (package, Kptfile, field, stage, index, image, resolved, digest, path, reason)
    wrong or missing for a sandboxed entry, an exec entry, an entry declaring keys the sandbox does not give,
    or a validator; a rewrite not spliced in place (or in the wrong order); the Kptfile's mode not kept."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text(ORIGINAL)
    os.chmod(str(pkg / "Kptfile"), 0o640)
    wdir = tmp_path / "w"
    plan = _Named("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(wdir)).prepare(str(pkg), "label")
    base = {"package": "label", "kptfile": "Kptfile", "digest": DIGEST}
    assert plan.paths == [
        dict(base, field="pipeline.mutators[0]", stage="mutator", index=0, image="example.org/a:v1",
             resolved="example.org/a:v1", path="sandbox", reason="unpacked"),
        dict(base, field="pipeline.mutators[1]", stage="mutator", index=1, image=None, resolved=None, digest=None,
             path="exec", reason="exec function ./fn.sh, run as written"),
        dict(base, field="pipeline.mutators[2]", stage="mutator", index=2, image="example.org/b:v1",
             resolved="example.org/b:v1", path="container",
             reason="declares network, storageMounts, which the sandbox does not give"),
        dict(base, field="pipeline.validators[0]", stage="validator", index=0, image="example.org/c:v1",
             resolved="example.org/c:v1", path="sandbox", reason="unpacked"),
    ]
    assert plan.sandboxed == 2
    a, c = str(wdir / "a.sh"), str(wdir / "c.sh")
    assert plan.wrappers == {a: "example.org/a:v1", c: "example.org/c:v1"}
    assert plan.rewrites == {"Kptfile": {a: "image: example.org/a:v1", c: 'image: "example.org/c:v1"'}}
    assert (pkg / "Kptfile").read_text() == ORIGINAL.replace("image: example.org/a:v1", "exec: " + a).replace(
        'image: "example.org/c:v1"', "exec: " + c)
    assert os.stat(str(pkg / "Kptfile")).st_mode & 0o777 == 0o640
    # restore puts back the original text, text for text, and keeps the mode
    s.Sandbox("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(wdir)).restore(str(pkg), plan)
    assert (pkg / "Kptfile").read_text() == ORIGINAL
    assert os.stat(str(pkg / "Kptfile")).st_mode & 0o777 == 0o640


def test_restore_refuses_output_without_a_rewritten_kptfile_by_name(tmp_path):
    """Bug: the refusal when the rendered output lost a rewritten Kptfile garbled (or no refusal)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\npipeline:\n  mutators:\n  - image: example.org/a:v1\n")
    box = _Named("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(tmp_path / "w"))
    plan = box.prepare(str(pkg), "label")
    assert plan.sandboxed == 1
    os.unlink(str(pkg / "Kptfile"))
    with pytest.raises(s.SandboxError) as err:
        box.restore(str(pkg), plan)
    assert str(err.value) == "the rendered output has no Kptfile; output not used"


def test_a_kptfile_that_is_not_yaml_is_refused_by_name(tmp_path):
    """Bug: the refusal of a Kptfile that does not parse garbled (it must name the package's Kptfile)."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\npipeline: *undefined\n")  # parses, does not compose
    with pytest.raises(s.KptError) as err:
        _Named("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(tmp_path / "w")).prepare(str(pkg), "label")
    assert str(err.value).startswith("invalid Kptfile label/Kptfile: ")


def test_a_wrapper_that_cannot_be_written_keeps_the_function_in_its_container(tmp_path):
    """Bugs: the reason for a wrapper folder that cannot be made garbled, or the image's digest lost."""
    (tmp_path / "afile").write_text("x")
    box, _base = _sandbox(tmp_path, wrapper_dir=str(tmp_path / "afile" / "w"))
    wrapper, resolved, digest, why = box.decide(REF)
    assert (wrapper, resolved, digest) == (None, REF, DIGEST)
    assert why.startswith("cannot prepare the sandbox: [Errno 20] Not a directory")


def test_an_image_entry_that_is_not_a_scalar_is_left_as_written(tmp_path):
    """Bugs: an ``image:`` that is a list or mapping sent to the sandbox (its value is no reference), or the
    reason for it garbled."""
    pkg = _pipeline(tmp_path, "  mutators:\n  - image: [a, b]\n")
    plan = _Named("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(tmp_path / "w")).prepare(str(pkg), "p")
    assert [(p["path"], p["image"], p["reason"]) for p in plan.paths] == [("exec", None, "exec function ?, run as written")]


def test_a_kptfile_that_is_not_utf8_is_refused_by_name_before_and_after_the_render(tmp_path):
    """Bugs: the refusal of an unreadable Kptfile garbled, in prepare and in restore."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_bytes(b"apiVersion: kpt.dev/v1\n# \xff\n")
    box = _Named("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(tmp_path / "w"))
    with pytest.raises(s.KptError) as err:
        box.prepare(str(pkg), "label")
    assert re.fullmatch(r"invalid Kptfile label/Kptfile: is not UTF-8 text \(.*\)", str(err.value)), str(err.value)
    with pytest.raises(s.SandboxError) as err:
        box.restore(str(pkg), s.Plan())
    assert re.fullmatch(r"the rendered Kptfile is not UTF-8 text \(.*\); output not used", str(err.value)), str(err.value)


def test_restore_refuses_output_that_still_names_a_wrapper_in_full(tmp_path):
    """Bug: the refusal of rendered output still naming a wrapper garbled."""
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\npipeline:\n  mutators:\n  - image: example.org/a:v1\n")
    box = _Named("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(tmp_path / "w"))
    plan = box.prepare(str(pkg), "label")
    wrapper = str(tmp_path / "w" / "a.sh")
    with open(str(pkg / "Kptfile"), "a", encoding="utf-8") as handle:
        handle.write("# ran %s\n" % wrapper)
    with pytest.raises(s.SandboxError) as err:
        box.restore(str(pkg), plan)
    assert str(err.value) == "the rendered Kptfile still names the sandbox wrapper %s; output not used" % wrapper


def test_a_failed_rewrite_puts_back_the_kptfiles_already_rewritten(tmp_path, monkeypatch):
    """Bug: when a later Kptfile cannot be written, the ones already rewritten not put back as they were (text
    and mode), so the scratch copy names wrappers."""
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    text = "apiVersion: kpt.dev/v1\nkind: Kptfile\npipeline:\n  mutators:\n  - image: example.org/a:v1\n"
    for path in (pkg / "Kptfile", pkg / "sub" / "Kptfile"):
        path.write_text(text)
        os.chmod(str(path), 0o640)
    real, calls = s._write_atomic, []

    def second_fails(path, new, mode):
        calls.append(path)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        real(path, new, mode)
    monkeypatch.setattr(s, "_write_atomic", second_fails)
    with pytest.raises(OSError):
        _Named("bwrap", str(tmp_path / "unpack"), lambda ref: ref, str(tmp_path / "w")).prepare(str(pkg), "p")
    for path in (pkg / "Kptfile", pkg / "sub" / "Kptfile"):
        assert path.read_text() == text
        assert os.stat(str(path)).st_mode & 0o777 == 0o640
