# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of mutation testing of kpt/_kpt_sync.py (docs/mutation.md).

Each test is named for the bug it catches: the bounds of the YAML comparison met exactly, which
files are compared as data, the diff text of binary, large and boundary-sized files, and the
temporary file's documented name.
"""
from __future__ import annotations

import os
import shutil

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kpt_sync as ks
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._renderer import package_labels
from tests.unit.plugins.module_utils.kpt_fixtures import CM, make_pkg


def reordered(rel, first, second):
    """Snapshots of one file whose two parts swap places (the data is the same, the bytes are not)."""
    return {rel: ("f", 0, (first + second).encode())}, {rel: ("f", 0, (second + first).encode())}


def nested(levels):
    """A mapping ``z: 1`` beside a key whose value nests ``levels`` collections in all (the root counted)."""
    return "z: 1\n", "x: %s%s\n" % ("[" * (levels - 1), "]" * (levels - 1))


def values(total):
    """A mapping of exactly ``total`` values once its aliases are expanded (as the bound counts them),
    built cheaply: anchors of 100, 1001, 10011 and 100111 values used over and over."""
    sizes = [100, 1001, 10011, 100111]
    anchors = ["  - &l0 [%s]" % ", ".join(["0"] * 99)] + [
        "  - &l%d [%s]" % (i, ", ".join(["*l%d" % (i - 1)] * 10)) for i in range(1, 4)]
    left = total - 3 - 2 - sum(sizes) - 2   # root mapping and z: 1, key x and its list, key pad and its list
    items = []
    for i in (3, 2, 1, 0):
        while left >= sizes[i]:
            items.append("*l%d" % i)
            left -= sizes[i]
    items += ["1"] * left
    return "z: 1\n", "x:\n%s\npad: [%s]\n" % ("\n".join(anchors), ", ".join(items))


# --------------------------------------------------------------------- the comparison's bounds, met exactly

def test_a_document_100_levels_deep_is_compared_as_data_and_101_levels_as_bytes():
    """MAX_COMPARE_DEPTH is 100: a reordering 100 levels deep is no change; at 101 the bytes count."""
    assert ks.semantic_changes(*reordered("f.yaml", *nested(100))) == []
    assert ks.semantic_changes(*reordered("f.yaml", *nested(101))) == ["f.yaml"]


def test_a_document_of_a_million_values_is_compared_as_data_and_one_more_as_bytes():
    """MAX_COMPARE_VALUES is 1,000,000 values once aliases are expanded (a reordering within: no change)."""
    assert ks.semantic_changes(*reordered("f.yaml", *values(1000000))) == []
    assert ks.semantic_changes(*reordered("f.yaml", *values(1000001))) == ["f.yaml"]


def test_a_file_of_10000_documents_is_compared_as_data_and_10001_as_bytes():
    """MAX_COMPARE_DOCUMENTS is 10,000: the last document's keys reordered is no change within it."""
    for count, expected in ((10000, []), (10001, ["f.yaml"])):
        head = "".join("--- %d\n" % i for i in range(count - 1)) + "---\n"
        before, after = reordered("f.yaml", "a: 1\n", "b: 2\n")
        before = {"f.yaml": ("f", 0, head.encode() + before["f.yaml"][2])}
        after = {"f.yaml": ("f", 0, head.encode() + after["f.yaml"][2])}
        assert ks.semantic_changes(before, after) == expected, count


def test_every_document_of_a_file_is_compared_not_only_the_first():
    """Bug: only the first document loaded (or a multi-document file refused and compared as bytes)."""
    first = "a: 1\nb: 2\n---\n"
    same = ks.semantic_changes({"f.yaml": ("f", 0, (first + "c: 1\nd: 2\n").encode())},
                               {"f.yaml": ("f", 0, (first + "d: 2\nc: 1\n").encode())})
    assert same == []
    differs = ks.semantic_changes({"f.yaml": ("f", 0, (first + "c: 1\n").encode())},
                                  {"f.yaml": ("f", 0, (first + "c: 2\n").encode())})
    assert differs == ["f.yaml"]


def test_a_rendered_file_with_a_repeated_key_is_still_compared_as_data():
    """The comparison does not refuse repeated keys (kpt's output is compared as kpt's YAML reads it: the
    last one wins). Bug: unique keys demanded, so a reordered file with a repeated key counted as changed."""
    assert ks.semantic_changes(*reordered("f.yaml", "a: 1\na: 2\n", "b: 3\n")) == []
    assert ks.semantic_changes({"f.yaml": ("f", 0, b"a: 1\na: 2\n")}, {"f.yaml": ("f", 0, b"a: 2\na: 1\n")}) == ["f.yaml"]


# --------------------------------------------------------------------- which files are compared as data

def test_kptfile_and_yml_files_are_compared_as_data_other_files_as_bytes():
    """Bug: the Kptfile, or *.yml, compared byte for byte (a reordering reported as a change), or a file
    of another name (here cm.txt, YAML inside) compared as data."""
    for rel in ("Kptfile", "sub/Kptfile", "a.yml", "a.yaml"):
        assert ks.semantic_changes(*reordered(rel, "a: 1\n", "b: 2\n")) == [], rel
    for rel in ("cm.txt", "Kptfile.bak", "a.yaml.orig", "notes"):
        assert ks.semantic_changes(*reordered(rel, "a: 1\n", "b: 2\n")) == [rel], rel


# --------------------------------------------------------------------- diff text

def diff_of(old, new):
    before = {} if old is None else {"f": ("f", 0, old)}
    after = {} if new is None else {"f": ("f", 0, new)}
    (entry,) = ks.diff_entries("p", before, after)
    return entry


def test_diff_shows_the_text_of_both_sides():
    """Bug: the text of a file replaced by an empty string (``payload is None`` inverted)."""
    entry = diff_of(b"a: 1\n", "b: \u00e9\n".encode())
    assert entry == {"before_header": "p/f", "after_header": "p/f", "before": "a: 1\n", "after": "b: \u00e9\n"}
    entry = diff_of(None, b"new\n")
    assert entry == {"before_header": "/dev/null", "after_header": "p/f", "before": "", "after": "new\n"}
    entry = diff_of(b"gone\n", None)
    assert entry == {"before_header": "p/f", "after_header": "/dev/null", "before": "gone\n", "after": ""}


def test_diff_of_text_that_is_not_utf8_replaces_the_bad_bytes():
    """Bug: strict decoding (or an unknown error handler) raising on a rendered file in Latin-1."""
    assert diff_of(b"caf\xe9\n", b"cafe\n")["before"] == "caf\ufffd\n"


def test_diff_leaves_out_directories_added_removed_or_replaced():
    """A directory has no text: an added or removed one, a file that became a directory and a directory
    that became a file give no diff entry; the files beside them still do."""
    d, f = ("d", 0, b""), ("f", 0, b"x\n")
    before = {"added_file": None, "gone_dir": d, "to_dir": f, "to_file": d, "kept": f}
    after = {"added_dir": d, "added_file": f, "to_dir": d, "to_file": f, "kept": ("f", 0, b"y\n")}
    before = dict((k, v) for k, v in before.items() if v)
    entries = ks.diff_entries("p", before, after)
    assert [(e["before_header"], e["after_header"]) for e in entries] == [
        ("/dev/null", "p/added_file"), ("p/kept", "p/kept")]


def test_diff_names_a_binary_file_by_its_size_instead_of_showing_it():
    """A NUL byte in the first 8192 bytes makes a file binary: its diff says so with the exact size."""
    entry = diff_of(b"x\0y", b"text\n")
    assert entry["before"] == "(binary file, 3 bytes)\n" and entry["after"] == "text\n"
    last_checked = b"a" * 8191 + b"\0"
    assert diff_of(b"", last_checked)["after"] == "(binary file, 8192 bytes)\n"
    # a NUL past the first 8192 bytes is not looked for
    past = b"a" * 8192 + b"\0"
    assert diff_of(b"", past)["after"] == past.decode()


def test_diff_shows_a_file_of_64_kib_and_names_a_larger_one_by_its_size():
    """MAX_DIFF_BYTES is 65536: a file of exactly that size is shown, one byte more is not."""
    assert diff_of(b"", b"a" * 65536)["after"] == "a" * 65536
    assert diff_of(b"", b"a" * 65537)["after"] == "(65537 bytes, too large to show)\n"


# --------------------------------------------------------------------- the temporary file's name

def test_the_temporary_file_is_named_dot_name_dot_o2edge_tmp_and_a_leftover_is_replaced(tmp_path):
    """The module documents ``.NAME.o2edge-tmp`` beside the file: a leftover of that exact name (an
    interrupted run) is removed by the next write. Bug: another name, and the leftover stays for good."""
    src = make_pkg(tmp_path / "src", "p")
    dst = tmp_path / "dst"
    shutil.copytree(str(src), str(dst))
    (src / "cm.yaml").write_text(CM.format(n=9))
    (dst / ".cm.yaml.o2edge-tmp").write_text("half written")
    ks.sync_tree(str(src), str(dst), ["cm.yaml"])   # the changed files only, as apply_outputs passes them
    assert (dst / "cm.yaml").read_text() == CM.format(n=9)
    assert sorted(os.listdir(str(dst))) == ["Kptfile", "cm.yaml"]


# --------------------------------------------------------------------- write-back of odd entries

def test_a_symlink_whose_target_is_not_utf8_is_written_back_byte_for_byte(tmp_path):
    """Bug: the link target decoded strictly (or with an unknown error handler): the write-back fails."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    src.mkdir()
    dst.mkdir()
    os.symlink(b"caf\xe9.yaml", os.path.join(bytes(src), b"link.yaml"))
    ks.sync_tree(str(src), str(dst))
    assert os.readlink(os.path.join(bytes(dst), b"link.yaml")) == b"caf\xe9.yaml"


def test_a_directory_that_became_a_file_is_replaced_by_the_file(tmp_path):
    """The render turned the directory ``x`` (with files inside) into a file: the write-back removes the
    directory and puts the file in its place. A symlink to a directory is replaced, its target untouched."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    (dst / "x").mkdir(parents=True)
    (dst / "x" / "old.yaml").write_text("a: 1\n")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "keep.yaml").write_text("k: 1\n")
    os.symlink(str(tmp_path / "elsewhere"), str(dst / "l"))
    src.mkdir()
    (src / "x").write_text("now a file\n")
    (src / "l").write_text("now a file too\n")
    ks.sync_tree(str(src), str(dst), ["l", "x", "x/old.yaml"])
    assert (dst / "x").read_text() == "now a file\n" and not os.path.islink(str(dst / "l"))
    assert (dst / "l").read_text() == "now a file too\n"
    assert (tmp_path / "elsewhere" / "keep.yaml").read_text() == "k: 1\n"
    assert ks.snapshot(str(dst)) == ks.snapshot(str(src))


def test_a_symlink_to_a_directory_that_became_a_directory_is_replaced_not_written_through(tmp_path):
    """The package has ``l`` -> a directory outside it; the render has a real directory ``l`` with a file.
    The write-back must replace the link by the directory; it must never write into the link's target."""
    src, dst, outside = tmp_path / "src", tmp_path / "dst", tmp_path / "outside"
    (src / "l").mkdir(parents=True)
    (src / "l" / "f.yaml").write_text("a: 1\n")
    outside.mkdir()
    dst.mkdir()
    os.symlink(str(outside), str(dst / "l"))
    ks.sync_tree(str(src), str(dst))
    assert os.listdir(str(outside)) == []
    assert not os.path.islink(str(dst / "l")) and ks.snapshot(str(dst)) == ks.snapshot(str(src))


def test_given_paths_get_their_missing_parent_directories(tmp_path):
    """sync_tree with explicit paths creates the parents they need that the package lacks (new in the
    render), and only those. Bug: the parents not added, the copy into a missing directory fails."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "new" / "deeper").mkdir(parents=True)
    (src / "new" / "deeper" / "f.yaml").write_text("a: 1\n")
    (src / "old").mkdir()
    (src / "old" / "g.yaml").write_text("b: 2\n")
    (src / "other").mkdir()
    (dst / "old").mkdir(parents=True)
    done = ks.sync_tree(str(src), str(dst), ["new/deeper/f.yaml", "old/g.yaml"])
    assert done == ["new", "new/deeper", "new/deeper/f.yaml", "old/g.yaml"]
    assert (dst / "new" / "deeper" / "f.yaml").read_text() == "a: 1\n"
    assert (dst / "old" / "g.yaml").read_text() == "b: 2\n" and not (dst / "other").exists()


def test_a_file_that_became_a_directory_and_a_new_empty_directory_are_made(tmp_path):
    """Bug: directories made only as the parents of files, so an empty directory of the render is lost."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    (src / "y").mkdir(parents=True)
    (src / "y" / "in.yaml").write_text("a: 1\n")
    (src / "empty").mkdir()
    dst.mkdir()
    (dst / "y").write_text("a file before\n")
    ks.sync_tree(str(src), str(dst))
    assert (dst / "empty").is_dir() and (dst / "y" / "in.yaml").read_text() == "a: 1\n"
    assert ks.snapshot(str(dst)) == ks.snapshot(str(src))


def test_syncing_a_directory_that_is_already_there_is_no_error(tmp_path):
    """sync_tree with explicit paths naming an existing, unchanged directory leaves it (idempotent)."""
    src = make_pkg(tmp_path / "src", "p", sub=True)
    dst = tmp_path / "dst"
    shutil.copytree(str(src), str(dst))
    (src / "sub" / "cm.yaml").write_text(CM.format(n=9))
    assert ks.sync_tree(str(src), str(dst), ["sub", "sub/cm.yaml"]) == ["sub", "sub/cm.yaml"]
    assert ks.snapshot(str(dst)) == ks.snapshot(str(src))


# --------------------------------------------------------------------- apply_outputs' summaries

def test_apply_outputs_sets_every_summary_field_and_names_a_failed_write_back(tmp_path, monkeypatch):
    """Each summary gets ``changed`` and ``changed_files``, the skipped ones too (False, []); a changed
    package True and its files; a failed write-back the whole documented message."""
    pkgs = [make_pkg(tmp_path / "pkgs", name) for name in ("a", "b", "c", "d")]
    outputs = []
    for pkg in pkgs:
        out = tmp_path / "out" / pkg.name
        shutil.copytree(str(pkg), str(out))
        (out / "cm.yaml").write_text(CM.format(n=9))
        outputs.append(str(out))
    outputs[2] = None
    summaries = [{"ok": True}, {"ok": False}, {"ok": True}, {"ok": True}]
    real_replace = os.replace

    def replace(a, b):
        if b.startswith(str(pkgs[3]) + os.sep):
            raise OSError(13, "Permission denied")
        return real_replace(a, b)

    monkeypatch.setattr(ks.os, "replace", replace)
    changed, diffs = ks.apply_outputs(package_labels([str(p) for p in pkgs]), summaries, outputs, write=True, diff=False)
    assert changed is True and diffs == []
    assert summaries[0] == {"ok": True, "changed": True, "changed_files": ["cm.yaml"]}
    assert summaries[1] == {"ok": False, "changed": False, "changed_files": []}
    assert summaries[2] == {"ok": True, "changed": False, "changed_files": []}
    assert summaries[3] == {"ok": False, "changed": True, "changed_files": ["cm.yaml"],
                            "error": "writing the rendered output back to %s failed: [Errno 13] Permission denied" % pkgs[3]}
