# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The render cache: tree digest, cache key (what must and must not change it), store/restore."""
from __future__ import annotations

import hashlib
import os
import shutil

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _render_cache as rc
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kpt_sync import snapshot
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import KptError
from tests.unit.plugins.module_utils.fifo_guard import call_without_hanging
from tests.unit.plugins.module_utils.kpt_fixtures import CM, FN, FakeResolver, make_fn, make_pkg

FLAGS = {"allow_exec": True, "image_pull_policy": None}


def key_of(pkg, cwd, resolver=None, ver="1.0.0-beta.56", flags=None):
    return rc.cache_key(rc.render_input(str(pkg)), str(cwd), resolver or FakeResolver({}), ver, flags or FLAGS)


# --------------------------------------------------------------------- tree digest

def test_tree_digest_same_tree_same_digest_anywhere(tmp_path):
    pkg = make_pkg(tmp_path, "p", sub=True)
    copy = tmp_path / "elsewhere" / "q"
    shutil.copytree(str(pkg), str(copy))
    # the digest is of relative paths: a scratch copy of the package has the package's digest
    assert rc.tree_digest(str(pkg)) == rc.tree_digest(str(pkg)) == rc.tree_digest(str(copy))


@pytest.mark.parametrize("one,other", [
    ({"ab": "c"}, {"a": "bc"}),           # path/content boundary
    ({"a": "b", "c": ""}, {"a": "bc"}),   # entry boundary: two files against one
    ({"a": "", "b": ""}, {"a": "bf0"}),   # entry boundary: "a"+"f"+"0" + "b"+"f"+"0" concatenated
    ({"x": ""}, {"y": ""}),               # same (empty) content, other name
], ids=["path-content", "entry-boundary", "fields-concatenated", "name-only"])
def test_tree_digest_encoding_is_unambiguous(tmp_path, one, other):
    digests = []
    for label, files in (("one", one), ("other", other)):
        root = tmp_path / label
        root.mkdir()
        for name, text in files.items():
            (root / name).write_text(text)
        digests.append(rc.tree_digest(str(root)))
    assert digests[0] != digests[1]


def test_tree_digest_kind_and_executable_bit(tmp_path):
    root = tmp_path / "t"
    root.mkdir()
    (root / "x").write_text("")
    as_file = rc.tree_digest(str(root))
    os.chmod(str(root / "x"), 0o755)
    assert rc.tree_digest(str(root)) != as_file
    os.unlink(str(root / "x"))
    (root / "x").mkdir()                                   # same name, a directory
    assert rc.tree_digest(str(root)) != as_file
    os.rmdir(str(root / "x"))
    os.symlink("target", str(root / "x"))                  # same name, a symlink
    assert rc.tree_digest(str(root)) != as_file


# --------------------------------------------------------------------- cache key

def test_cache_key_unchanged_tree_same_key(tmp_path):
    make_fn(tmp_path)
    pkg = make_pkg(tmp_path, "p", sub=True)
    first = key_of(pkg, pkg)
    assert len(first) == 64 and first == key_of(pkg, pkg)
    # a scratch copy rendered with the package's cwd (as the Renderer does) has the same key
    copy = tmp_path / "scratch" / "p"
    shutil.copytree(str(pkg), str(copy))
    assert key_of(copy, pkg) == first


def test_cache_key_changes_with_one_file_content(tmp_path):
    make_fn(tmp_path)
    pkg = make_pkg(tmp_path, "p", sub=True)
    first = key_of(pkg, pkg)
    (pkg / "sub" / "cm.yaml").write_text(CM.format(n=3))           # one subpackage file
    second = key_of(pkg, pkg)
    assert second != first
    (pkg / "sub" / "cm.yaml").write_text(CM.format(n=2))           # back as it was
    assert key_of(pkg, pkg) == first
    (pkg / "new.yaml").write_text("")                                # a new empty file
    assert key_of(pkg, pkg) != first
    os.unlink(str(pkg / "new.yaml"))
    os.chmod(str(pkg / "cm.yaml"), 0o755)                            # the executable bit
    assert key_of(pkg, pkg) != first


@pytest.mark.parametrize("old,new", [
    ("cm.yaml", "cm2.yaml"),            # a file
    ("sub/cm.yaml", "cm-moved.yaml"),   # a file moved to another directory
    ("sub", "sub2"),                    # a (sub)package directory
])
def test_renamed_file_changes_key_and_misses_the_cache(tmp_path, old, new):
    """A rename keeps every byte but must not be served the render of the old names."""
    make_fn(tmp_path)
    pkg = make_pkg(tmp_path, "p", sub=True)
    cache = rc.RenderCache(str(tmp_path / "cache"))
    before = key_of(pkg, pkg)
    cache.store(before, str(pkg))
    assert cache.has(key_of(pkg, pkg))                   # unchanged: a hit
    os.rename(str(pkg / old), str(pkg / new))
    after = key_of(pkg, pkg)
    assert after is not None and after != before
    assert not cache.has(after)                          # the lookup after the rename misses
    os.rename(str(pkg / new), str(pkg / old))
    assert key_of(pkg, pkg) == before                    # renamed back: the same key again


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
    with pytest.raises(KptError):
        key_of(pkg, pkg)


def test_image_resolver_memoizes_found_images_only(tmp_path):
    log = tmp_path / "calls"
    runtime = tmp_path / "podman"
    runtime.write_text("#!/bin/sh\necho \"$5\" >> %s\n[ \"$5\" = reg/fn:v1 ] && echo 'sha256:aaa sha256:m1'\n"
                       "exit 0\n" % log)
    runtime.chmod(0o755)
    resolver = rc.ImageResolver(str(runtime))
    assert resolver.identity("reg/fn:v1") == "sha256:aaa sha256:m1"
    assert resolver.identity("reg/fn:v1") == "sha256:aaa sha256:m1"
    assert resolver.identity("reg/absent:v1") is None
    assert resolver.identity("reg/absent:v1") is None
    assert log.read_text().split() == ["reg/fn:v1", "reg/absent:v1", "reg/absent:v1"]
    assert rc.ImageResolver(None).identity("reg/fn:v1") is None


# --------------------------------------------------------------------- store / restore

def test_render_cache_store_restore(tmp_path):
    src = make_pkg(tmp_path, "p", sub=True)
    os.symlink("cm.yaml", str(src / "link.yaml"))
    cache = rc.RenderCache(str(tmp_path / "cache"))
    assert not cache.has("ab" * 32)
    cache.store("ab" * 32, str(src), {"package": "p"})
    assert cache.has("ab" * 32)
    dest = tmp_path / "restored"
    (dest / "stale").mkdir(parents=True)
    assert cache.restore("ab" * 32, str(dest))
    assert snapshot(str(dest)) == snapshot(str(src))   # the stale directory is gone
    assert os.path.islink(str(dest / "link.yaml"))
    assert not cache.restore("cd" * 32, str(dest))
    cache.store("ab" * 32, str(src))  # replacing an entry works
    assert not [n for n in os.listdir(str(tmp_path / "cache" / "ab")) if n.startswith(".tmp-")]


def test_render_cache_restores_the_entry_of_its_key(tmp_path):
    """Entries sharing a prefix directory, stored in either order: each key gives back its own tree."""
    trees = {}
    for name, n in (("a", 1), ("b", 2), ("c", 3)):
        trees[name] = make_pkg(tmp_path / "src", name)
        (trees[name] / "cm.yaml").write_text(CM.format(n=n))
    keys = {"a": "ab" + "1" * 62, "b": "ab" + "2" * 62, "c": "cd" + "3" * 62}
    cache = rc.RenderCache(str(tmp_path / "cache"))
    for name in ("b", "a", "c"):
        cache.store(keys[name], str(trees[name]))
    for name in ("a", "c", "b"):
        dest = tmp_path / "out" / name
        assert cache.restore(keys[name], str(dest))
        assert snapshot(str(dest)) == snapshot(str(trees[name]))


# --------------------------------------------------------------------- the key's encoding, pinned

def field(data):
    """The documented field encoding: ``<len>:<bytes>``."""
    if not isinstance(data, bytes):
        data = str(data).encode("utf-8", "surrogateescape")
    return b"%d:%s" % (len(data), data)


IMAGE_KPTFILE = ("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: pinned\npipeline:\n"
                 "  mutators:\n    - image: reg/fn:v1\n      configMap:\n        team: a\n")


def make_pinned_tree(base):
    """A tree with every kind of entry: directories, files (one executable), symlinks to a directory
    and to a file, and a file listed after a symlink in its directory."""
    root = base / "pinned"
    (root / "a").mkdir(parents=True)
    (root / "Kptfile").write_text(IMAGE_KPTFILE)
    (root / "a" / "c.yaml").write_text(CM.format(n=3))
    (root / "b.yaml").write_text(CM.format(n=2))
    (root / "run.sh").write_text("#!/bin/sh\n")
    for name in ("Kptfile", "a/c.yaml", "b.yaml"):
        os.chmod(str(root / name), 0o644)
    os.chmod(str(root / "run.sh"), 0o755)
    os.symlink("a", str(root / "link-dir"))
    os.symlink("b.yaml", str(root / "link-file"))
    return root


def test_tree_entries_lists_every_kind_sorted_by_path(tmp_path):
    root = make_pinned_tree(tmp_path)
    assert rc.tree_entries(str(root)) == [
        ("Kptfile", "f", 0, IMAGE_KPTFILE.encode()),
        ("a", "d", 0, b""),
        ("a/c.yaml", "f", 0, CM.format(n=3).encode()),
        ("b.yaml", "f", 0, CM.format(n=2).encode()),
        ("link-dir", "l", 0, b"a"),              # a symlink to a directory is not followed
        ("link-file", "l", 0, b"b.yaml"),
        ("run.sh", "f", 0o111, b"#!/bin/sh\n"),  # listed although it comes after a symlink
    ]


def test_file_after_a_symlink_is_still_digested(tmp_path):
    root = make_pinned_tree(tmp_path)
    before = rc.tree_digest(str(root))
    (root / "run.sh").write_text("#!/bin/sh\nexit 1\n")
    assert rc.tree_digest(str(root)) != before


def test_only_the_executable_bits_count(tmp_path):
    root = make_pinned_tree(tmp_path)
    before = rc.tree_digest(str(root))
    os.chmod(str(root / "b.yaml"), 0o666)                   # write bits: not what a render changes
    assert rc.tree_digest(str(root)) == before
    for mode, bits in ((0o645, 0o001), (0o654, 0o010), (0o744, 0o100), (0o751, 0o111)):
        os.chmod(str(root / "b.yaml"), mode)
        assert dict((e[0], e[2]) for e in rc.tree_entries(str(root)))["b.yaml"] == bits
        assert rc.tree_digest(str(root)) != before, oct(mode)


def test_tree_digest_is_the_documented_encoding(tmp_path):
    root = make_pinned_tree(tmp_path)
    digest = hashlib.sha256()
    for rel, kind, mode, payload in rc.tree_entries(str(root)):
        digest.update(field(rel) + field(kind) + field("%o" % mode) + field(payload))
    assert rc.tree_digest(str(root)) == digest.hexdigest()


def test_cache_key_is_pinned(tmp_path):
    """Cache entries outlive a release: a change of the key's encoding (format string, field
    encoding, identity strings, canonical JSON, entry order) must bump CACHE_FORMAT and this value."""
    root = make_pinned_tree(tmp_path)
    resolver = FakeResolver({"reg/fn:v1": "sha256:aaa sha256:m1"})
    flags = {"image_pull_policy": None, "allow_exec": True}       # not in key order on purpose
    key = rc.cache_key(rc.render_input(str(root)), str(root), resolver, "1.0.0-beta.56", flags)
    assert rc.CACHE_FORMAT == "o2edge-kpt-render-cache/2"
    assert key == "cd9d5ca45bb9f845aa10e9847d7006b47a678353af4978aa97b74bb0d76d178a"


def test_cache_key_is_the_documented_encoding(tmp_path):
    root = make_pinned_tree(tmp_path)
    resolver = FakeResolver({"reg/fn:v1": "sha256:aaa sha256:m1"})
    flags = {"image_pull_policy": None, "allow_exec": True}
    digest = hashlib.sha256()
    digest.update(field("o2edge-kpt-render-cache/2") + field("1.0.0-beta.56")
                  + field('{"allow_exec": true, "image_pull_policy": null}'))
    digest.update(field(rc.tree_digest(str(root))))
    digest.update(field("Kptfile") + field("mutators")
                  + field('image|reg/fn:v1|sha256:aaa sha256:m1|{"configMap": {"team": "a"}, "image": "reg/fn:v1"}'))
    key = rc.cache_key(rc.render_input(str(root)), str(root), resolver, "1.0.0-beta.56", flags)
    assert key == digest.hexdigest()


def test_exec_function_identity_names_path_digest_and_config(tmp_path):
    fn = make_fn(tmp_path)
    pkg = make_pkg(tmp_path, "p")
    [(rel, function)] = rc.render_input(str(pkg))[1]
    assert rel == "Kptfile" and function["stage"] == "mutators"
    expected = "exec|%s|%s|%s" % (str(fn), hashlib.sha256(fn.read_bytes()).hexdigest(),
                                  '{"configMap": {"team": "a"}, "exec": "../fn.sh"}')
    assert rc.function_identity(function, str(pkg), None) == expected


def test_function_identity_is_canonical_and_includes_the_config(tmp_path):
    make_fn(tmp_path)
    cwd = str(tmp_path / "p")
    one = {"stage": "mutators", "fn": {"exec": "../fn.sh", "configMap": {"team": "a", "tier": "x"}}}
    same = {"stage": "mutators", "fn": {"configMap": {"tier": "x", "team": "a"}, "exec": "../fn.sh"}}
    other = {"stage": "mutators", "fn": {"exec": "../fn.sh", "configMap": {"team": "b", "tier": "x"}}}
    assert rc.function_identity(one, cwd, None) == rc.function_identity(same, cwd, None)
    assert rc.function_identity(one, cwd, None) != rc.function_identity(other, cwd, None)


def test_cache_key_ignores_the_order_of_the_flags(tmp_path):
    make_fn(tmp_path)
    pkg = make_pkg(tmp_path, "p")
    assert key_of(pkg, pkg, flags={"allow_exec": True, "image_pull_policy": "never"}) == \
        key_of(pkg, pkg, flags={"image_pull_policy": "never", "allow_exec": True})


@pytest.mark.parametrize("change", ["digest", "rel", "stage", "ident", "ver", "flags", "function-added"])
def test_every_key_field_counts(change):
    resolver = FakeResolver({"reg/fn:v1": "sha256:aaa", "reg/fn:v2": "sha256:bbb"})
    fn = {"stage": "mutators", "fn": {"image": "reg/fn:v1"}}
    args = {"rinput": ("d" * 64, [("Kptfile", fn)]), "ver": "1.0.0-beta.56", "flags": {"allow_exec": False}}
    base = rc.cache_key(args["rinput"], "/", resolver, args["ver"], args["flags"])
    if change == "digest":
        args["rinput"] = ("e" * 64, [("Kptfile", fn)])
    elif change == "rel":
        args["rinput"] = ("d" * 64, [("sub/Kptfile", fn)])
    elif change == "stage":
        args["rinput"] = ("d" * 64, [("Kptfile", dict(fn, stage="validators"))])
    elif change == "ident":
        args["rinput"] = ("d" * 64, [("Kptfile", {"stage": "mutators", "fn": {"image": "reg/fn:v2"}})])
    elif change == "ver":
        args["ver"] = "1.0.0-beta.57"
    elif change == "flags":
        args["flags"] = {"allow_exec": True}
    else:
        args["rinput"] = ("d" * 64, [("Kptfile", fn), ("Kptfile", fn)])
    assert rc.cache_key(args["rinput"], "/", resolver, args["ver"], args["flags"]) != base


def test_non_utf8_names_and_link_targets_are_digested(tmp_path):
    """Names are bytes on Linux: a name or link target that is not UTF-8 must neither crash nor be
    confused with another one."""
    digests = []
    for label, byte in (("one", b"\xff"), ("other", b"\xfe")):
        root = tmp_path / label
        root.mkdir()
        broot = os.fsencode(str(root))
        os.mkdir(broot + b"/dir" + byte)
        with open(broot + b"/file" + byte, "wb") as handle:
            handle.write(b"x")
        os.symlink(b"dir" + byte, broot + b"/link-dir" + byte)          # to a directory
        os.symlink(b"gone" + byte, broot + b"/link-file" + byte)        # dangling, listed as a file
        entries = rc.tree_entries(str(root))
        assert [(os.fsencode(e[0]), e[1], e[3]) for e in entries] == [
            (b"dir" + byte, "d", b""), (b"file" + byte, "f", b"x"),
            (b"link-dir" + byte, "l", b"dir" + byte), (b"link-file" + byte, "l", b"gone" + byte)]
        digests.append(rc.tree_digest(str(root)))
    assert digests[0] != digests[1]


# --------------------------------------------------------------------- image resolver: what it runs

def fake_runtime(tmp_path, name):
    """A runtime that logs its arguments one per line and prints $FAKE_IMAGE_ID (when set)."""
    log = tmp_path / ("%s.args" % name)
    runtime = tmp_path / "bin" / name
    runtime.parent.mkdir(exist_ok=True)
    runtime.write_text("#!/bin/sh\nfor a in \"$@\"; do echo \"$a\" >> %s; done\n"
                       "echo \"${FAKE_IMAGE_ID:-sha256:default}\"\n" % log)
    runtime.chmod(0o755)
    return str(runtime), log


def test_image_resolver_asks_podman_for_id_and_digest(tmp_path):
    runtime, log = fake_runtime(tmp_path, "podman")
    assert rc.ImageResolver(runtime).identity("reg/fn:v1") == "sha256:default"
    assert log.read_text().splitlines() == ["image", "inspect", "--format", "{{.Id}} {{.Digest}}", "reg/fn:v1"]


def test_image_resolver_asks_docker_for_the_id(tmp_path):
    runtime, log = fake_runtime(tmp_path, "docker")
    assert rc.ImageResolver(runtime).identity("reg/fn:v1") == "sha256:default"
    assert log.read_text().splitlines() == ["image", "inspect", "--format", "{{.Id}}", "reg/fn:v1"]


def test_image_resolver_runs_the_runtime_in_the_given_env(tmp_path):
    runtime, log = fake_runtime(tmp_path, "podman")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "FAKE_IMAGE_ID": "sha256:from-env sha256:m9"}
    assert rc.ImageResolver(runtime, env=env).identity("reg/fn:v1") == "sha256:from-env sha256:m9"


def test_image_inspect_is_bounded_by_a_timeout(monkeypatch):
    calls = []

    def fake_run_once(argv, **kwargs):
        calls.append((argv, kwargs))
        return {"ok": True, "stdout": "sha256:abc\n"}
    monkeypatch.setattr(rc, "run_once", fake_run_once)
    env = {"PATH": "/usr/bin"}
    assert rc.ImageResolver("/usr/bin/docker", env=env).identity("reg/fn:v1") == "sha256:abc"
    assert calls == [(["/usr/bin/docker", "image", "inspect", "--format", "{{.Id}}", "reg/fn:v1"],
                      {"env": env, "timeout": 60, "capture_stdout": True})]


# --------------------------------------------------------------------- store: layout, meta, failures

def test_store_keeps_entries_in_a_private_prefix_directory(tmp_path):
    src = make_pkg(tmp_path, "p")
    cache = rc.RenderCache(str(tmp_path / "cache"))
    key = "ab" + "1" * 62
    cache.store(key, str(src))
    prefix = tmp_path / "cache" / "ab"
    assert os.stat(str(prefix)).st_mode & 0o777 == 0o700
    assert os.listdir(str(prefix)) == [key]
    assert sorted(os.listdir(str(prefix / key))) == ["meta.json", "tree"]


def test_store_stages_in_a_hidden_tmp_directory_beside_the_entry(tmp_path, monkeypatch):
    staged = []
    real_copy_tree = rc.copy_tree

    def spy(src, dst):
        staged.append(dst)
        real_copy_tree(src, dst)
    monkeypatch.setattr(rc, "copy_tree", spy)
    src = make_pkg(tmp_path, "p")
    cache = rc.RenderCache(str(tmp_path / "cache"))
    cache.store("ab" + "1" * 62, str(src))
    [dst] = staged
    tmp_dir, leaf = os.path.split(dst)
    assert leaf == "tree" and os.path.dirname(tmp_dir) == str(tmp_path / "cache" / "ab")
    assert os.path.basename(tmp_dir).startswith(".tmp-")


@pytest.mark.parametrize("meta,text", [({"package": "p", "kpt": "1.0.0-beta.56"},
                                        '{"kpt": "1.0.0-beta.56", "package": "p"}'),
                                       (None, "{}"), ({}, "{}")])
def test_store_writes_meta_json(tmp_path, meta, text):
    src = make_pkg(tmp_path, "p")
    cache = rc.RenderCache(str(tmp_path / "cache"))
    key = "cd" + "2" * 62
    cache.store(key, str(src), meta)
    with open(os.path.join(cache.path(key), "meta.json")) as handle:
        assert handle.read() == text


def test_failed_store_leaves_no_temp_directory(tmp_path):
    cache = rc.RenderCache(str(tmp_path / "cache"))
    key = "ef" + "3" * 62
    with pytest.raises(OSError):
        cache.store(key, str(tmp_path / "missing-src"))
    assert os.listdir(str(tmp_path / "cache" / "ef")) == []
    assert not cache.has(key)


def test_failed_store_keeps_the_previous_entry(tmp_path):
    src = make_pkg(tmp_path, "p")
    cache = rc.RenderCache(str(tmp_path / "cache"))
    key = "ef" + "4" * 62
    cache.store(key, str(src), {"n": 1})
    with pytest.raises(OSError):
        cache.store(key, str(tmp_path / "missing-src"))
    dest = tmp_path / "out"
    assert cache.restore(key, str(dest)) and snapshot(str(dest)) == snapshot(str(src))
    assert os.listdir(str(tmp_path / "cache" / "ef")) == [key]


def test_cleanup_trouble_does_not_mask_the_store_failure(tmp_path, monkeypatch):
    """The temp directory may already be gone (a concurrent prune of the cache): the caller must
    still see why the store failed, not a FileNotFoundError from the cleanup."""
    def copy_then_fail(src, dst):
        shutil.rmtree(os.path.dirname(dst))
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(rc, "copy_tree", copy_then_fail)
    src = make_pkg(tmp_path, "p")
    cache = rc.RenderCache(str(tmp_path / "cache"))
    with pytest.raises(OSError) as info:
        cache.store("ab" + "5" * 62, str(src))
    assert info.value.errno == 28 and info.value.strerror == "No space left on device"


# --------------------------------------------------------------------- hostile trees (issue 15)

def test_fifo_in_the_package_is_refused_by_name_without_blocking(tmp_path):
    """tree_entries opened every file of the package: a FIFO hung the render's cache lookup forever."""
    pkg = make_pkg(tmp_path, "p")
    fifo = pkg / "pipe.yaml"
    os.mkfifo(str(fifo))
    with pytest.raises(KptError, match=r"package file .*pipe.yaml is a named pipe \(FIFO\)"):
        call_without_hanging([fifo], rc.render_input, str(pkg))
    with pytest.raises(KptError, match="named pipe"):
        call_without_hanging([fifo], snapshot, str(pkg))


def test_fifo_in_a_cache_entry_fails_the_restore_without_blocking(tmp_path):
    """A cache entry is read only through regular files: a FIFO planted in it is an error, not a hang."""
    src = make_pkg(tmp_path, "p")
    cache = rc.RenderCache(str(tmp_path / "cache"))
    cache.store("ab" * 32, str(src))
    fifo = tmp_path / "cache" / "ab" / ("ab" * 32) / "tree" / "pipe.yaml"
    os.mkfifo(str(fifo))
    with pytest.raises(OSError, match="named pipe"):
        call_without_hanging([fifo], cache.restore, "ab" * 32, str(tmp_path / "dest"))
    with pytest.raises(KptError, match="named pipe"):
        call_without_hanging([fifo], snapshot, cache.tree("ab" * 32))  # the verify mode's read


def test_oversized_package_file_is_refused(tmp_path, monkeypatch):
    pkg = make_pkg(tmp_path, "p")
    monkeypatch.setattr(rc, "MAX_TREE_FILE_BYTES", 10)
    with pytest.raises(KptError, match="over the limit of 10"):
        rc.tree_digest(str(pkg))
