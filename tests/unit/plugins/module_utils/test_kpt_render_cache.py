# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The render cache: tree digest, cache key (what must and must not change it), store/restore."""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _render_cache as rc
from ansible_collections.o2edge.perf.plugins.module_utils._kpt_sync import snapshot
from ansible_collections.o2edge.perf.plugins.module_utils._kptfile import KptError
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
