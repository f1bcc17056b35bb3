# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_yaml_edit: tests written for the survivors of a mutation run (docs/mutation.md), each named for
the bug it catches."""
from __future__ import annotations

import importlib.util
import re
import os
import sys

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _yaml_bounds
from ansible_collections.o2edge.perf.plugins.module_utils.edge import _yaml_edit
from ansible_collections.o2edge.perf.plugins.module_utils.edge._yaml_edit import FileChangedError, YamlEditError, commit, load, plain, read_snapshot


@pytest.fixture
def without_ruamel(monkeypatch):
    """A fresh copy of _yaml_edit loaded while ruamel.yaml cannot be imported (as on a controller
    without it); the copy has a module name of its own, so the real module is left untouched."""
    for name in ("ruamel", "ruamel.yaml", "ruamel.yaml.comments", "ruamel.yaml.error"):
        monkeypatch.setitem(sys.modules, name, None)
    spec = importlib.util.spec_from_file_location("_yaml_edit_without_ruamel", _yaml_edit.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_ruamel_the_missing_library_is_named_with_its_import_error(without_ruamel):
    """Bugs: HAS_RUAMEL left true (calling YAML, which is None), or the import error dropped from the message."""
    assert without_ruamel.HAS_RUAMEL is False
    with pytest.raises(without_ruamel.YamlEditError) as exc:
        without_ruamel._yaml()  # pylint: disable=protected-access
    head = "the Python library ruamel.yaml is missing on the controller (pip install ruamel.yaml): "
    assert str(exc.value).startswith(head)
    assert "ruamel" in str(exc.value)[len(head):]  # the ImportError's own text, not "None"


def test_without_ruamel_load_and_edit_fail_with_a_yaml_edit_error(without_ruamel):
    """Bug: YAMLError (the except clause of load) set to anything but an exception class: without ruamel,
    load and edit then ended in a TypeError from the except clause itself."""
    with pytest.raises(without_ruamel.YamlEditError):
        without_ruamel.load("a: 1\n", "config x")
    with pytest.raises(without_ruamel.YamlEditError):
        without_ruamel.edit("a: 1\n", [(("a",), "2")])


def test_without_ruamel_load_says_the_library_is_missing_not_that_the_yaml_is_invalid(without_ruamel):
    """Bug: a valid document loaded without ruamel is reported as invalid YAML."""
    with pytest.raises(without_ruamel.YamlEditError, match="ruamel.yaml is missing"):
        without_ruamel.load("a: 1\n", "config x")


def test_without_ruamel_plain_data_and_vault_checks_still_work(without_ruamel):
    """Bug: TaggedScalar set to something other than None without ruamel made plain() and is_vault_tag()
    raise TypeError on ordinary values."""
    assert without_ruamel.plain({"a": [1, "x", 2.5, True]}) == {"a": [1, "x", 2.5, True]}
    assert without_ruamel.is_vault_tag("x") is False


def _values(text):
    return _yaml_bounds.check_yaml(text, max_depth=100, max_values=10 ** 9)


def test_a_document_of_exactly_100000_values_loads_and_one_more_is_refused():
    """Bug: the value bound moved (MAX_VALUES), letting a larger alias-expanded document reach ruamel."""
    base = "a: &x [" + "1, " * 999 + "1]\nb: [" + "*x, " * 94 + "*x]\nc: ["
    fill = 100000 - _values(base + "]\n")
    exact = base + ", ".join(["2"] * fill) + "]\n"
    assert _values(exact) == 100000
    assert load(exact, "config x")["c"][0] == 2
    with pytest.raises(YamlEditError) as exc:
        load(exact.replace("c: [", "c: [3, "), "config x")
    # the message starts with the source it names (it is shown after "edge_address:")
    assert str(exc.value).startswith("config x holds more than 100000 values")


def test_a_file_of_exactly_4_mib_is_read_and_one_byte_more_is_refused(tmp_path):
    """Bug: the size bound on files read for an edit (MAX_FILE_BYTES, 4 MiB) moved."""
    path = tmp_path / "edge-sites.yml"
    path.write_bytes(b"#" * (4 << 20))
    assert len(read_snapshot(str(path), "config").data) == 4 << 20
    path.write_bytes(b"#" * ((4 << 20) + 1))
    with pytest.raises(FileChangedError) as exc:
        read_snapshot(str(path), "config")
    assert exc.value.reason == "size"


def test_without_pyyaml_32_levels_load_and_33_are_refused(monkeypatch):
    """Bug: ruamel's event walk (used without PyYAML) counting depth from 1, refusing a 32-level document."""
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    ok = "a: " + "[" * 31 + "1" + "]" * 31 + "\n"  # the mapping and 31 lists: 32 levels
    assert plain(load(ok, "config x"))["a"] is not None
    with pytest.raises(YamlEditError) as exc:
        load("a: " + "[" * 32 + "1" + "]" * 32 + "\n", "config x")
    assert str(exc.value) == "config x nests deeper than 32 levels"


def test_without_pyyaml_the_value_bound_counts_every_event_once(monkeypatch):
    """Bugs in ruamel's event walk (used without PyYAML): events miscounted, or the bound (twice the values, in
    events) moved. With MAX_VALUES 5 the walk allows 10 events: `a: [1]` has 10, `a: [1, 2]` 11."""
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    monkeypatch.setattr(_yaml_edit, "MAX_VALUES", 5)
    assert plain(load("a: [1]\n", "config x")) == {"a": [1]}
    with pytest.raises(YamlEditError) as exc:
        load("a: [1, 2]\n", "config x")
    assert str(exc.value) == "config x holds more than 5 values"


def test_without_pyyaml_mappings_and_sequences_both_count_for_depth(monkeypatch):
    """Bug: the walk counting only sequences (or only their ends) for depth."""
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    deep_maps = "".join("  " * i + "k%d:\n" % i for i in range(33)) + "  " * 33 + "v\n"  # 33 mappings
    with pytest.raises(YamlEditError, match="^config x nests deeper than 32 levels$"):
        load(deep_maps, "config x")
    # 40 sibling lists, each one level deep: depth goes back down after every one
    assert len(plain(load("".join("l%d: [[1]]\n" % i for i in range(40)), "config x"))) == 40


def test_invalid_yaml_messages_start_with_the_source():
    """Bugs: the wording of the invalid-YAML message, and the default source name ("the document")."""
    with pytest.raises(YamlEditError) as exc:
        load("a: [1\n")
    assert str(exc.value).startswith("the document is not valid YAML: ")
    assert "line 2" in str(exc.value)
    with pytest.raises(YamlEditError) as exc:
        load("a: [1\n", "config x")
    assert str(exc.value).startswith("config x is not valid YAML: ")


def test_without_pyyaml_invalid_yaml_is_named(monkeypatch):
    """Bug: the wording of the invalid-YAML message of ruamel's event walk."""
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    with pytest.raises(YamlEditError) as exc:
        load("a: [1\n", "config x")
    assert str(exc.value).startswith("config x is not valid YAML: ")


def _load_when_ruamel_raises(monkeypatch, error):
    """The YamlEditError of load() when ruamel's loader raises ``error`` (the bounds check passed)."""
    class Raising(object):
        def load(self, text):
            raise error
    monkeypatch.setattr(_yaml_edit, "_yaml", Raising)
    with pytest.raises(YamlEditError) as exc:
        load("a: 1\n", "config x")
    return str(exc.value)


def test_a_recursion_error_in_ruamel_is_named(monkeypatch):
    """Bug: the message when ruamel's composer recurses too deep (bounds raised past what it can take)."""
    assert _load_when_ruamel_raises(monkeypatch, RecursionError("too deep")) == "config x nests too deep to parse"


def test_vault_values_are_recognised_and_kept_tagged():
    """Bug: a `!vault` value not recognised (the fix would then edit or compare an encrypted value as text)."""
    doc = load("a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6162\nb: plain\n")
    assert _yaml_edit.is_vault_tag(doc["a"]) is True
    assert _yaml_edit.is_vault_tag(doc["b"]) is False
    assert plain(doc) == {"a": ("!vault", "$ANSIBLE_VAULT;1.1;AES256\n6162\n"), "b": "plain"}


def test_a_missing_place_is_named_exactly():
    """Bug: the wording of "no such place" (and the path shown in it)."""
    for path in (("sites", 7, "address"), ("nope", "x"), ("sites", 0, "x", "y")):
        with pytest.raises(YamlEditError) as exc:
            _yaml_edit.edit("sites:\n- {address: 1.2.3.4}\n", [(path, "z")])
        assert str(exc.value) == "%s: no such place in the document" % _yaml_edit._show_path(path)  # pylint: disable=protected-access
    assert _yaml_edit._show_path(("sites", 7, "address")) == "sites[7].address"  # pylint: disable=protected-access


def test_a_list_item_itself_can_be_edited():
    """Bug: the position of a list item (not a mapping value) lost."""
    assert _yaml_edit.edit("hosts:\n- a\n- b\n", [(("hosts", 1), "c")]) == "hosts:\n- a\n- c\n"


def test_quoted_values_with_quotes_and_backslashes_are_edited_in_place():
    """Bugs: a single-quoted value's doubled quote ('') not matched, or a backslash in a single-quoted value
    refused as if it were double-quoted."""
    out = _yaml_edit.edit("a: 'it''s'\nb: 'c:\\x'\n", [(("a",), "new'one"), (("b",), "d:\\y")])
    assert out == "a: 'new''one'\nb: 'd:\\y'\n"


def test_values_that_cannot_be_edited_in_place_are_named_exactly():
    """Bug: the wording of the refusals (and which one is given) for block and escaped double-quoted values."""
    with pytest.raises(YamlEditError) as exc:
        _yaml_edit.edit("a: |\n  1.2.3.4\n", [(("a",), "z")])
    assert str(exc.value) == "the document: a: only a one-line string value can be edited in place"
    with pytest.raises(YamlEditError) as exc:
        _yaml_edit.edit('a: "x\\"y"\n', [(("a",), "z")])
    assert str(exc.value) == "the document: a: a double-quoted value with escapes cannot be edited in place"


def test_without_pyyaml_depth_goes_back_down_after_every_mapping_and_sequence(monkeypatch):
    """Bugs: mapping ends not counted, or an end resetting the depth instead of going one level up."""
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    assert len(plain(load("".join("m%d: {a: {b: 1}}\n" % i for i in range(40)), "config x"))) == 40
    # root, a, then c's 31 lists: 33 levels, after b's list closed at level 3
    with pytest.raises(YamlEditError, match="^config x nests deeper than 32 levels$"):
        load("a:\n  b: [1]\n  c: " + "[" * 31 + "1" + "]" * 31 + "\n", "config x")


def test_ruamel_refusing_what_pyyaml_accepted_is_named(monkeypatch):
    """Bug: the wording of load's own invalid-YAML message (ruamel refusing a text the bounds check read)."""
    from ruamel.yaml.error import YAMLError
    assert _load_when_ruamel_raises(monkeypatch, YAMLError("boom")).startswith("config x is not valid YAML: ")


def test_a_missing_last_key_or_item_is_named_exactly():
    """Bug: the wording of "no such place" when only the last step of the path is missing."""
    for path in (("sites", 0, "port"), ("sites", 5)):
        with pytest.raises(YamlEditError) as exc:
            _yaml_edit.edit("sites:\n- {address: 1.2.3.4}\n", [(path, "z")])
        assert str(exc.value) == "%s: no such place in the document" % _yaml_edit._show_path(path)  # pylint: disable=protected-access


def test_a_plain_double_quoted_value_is_edited_in_place():
    """Bug: a double-quoted value without escapes refused as if it had some."""
    assert _yaml_edit.edit('a: "aXb"\n', [(("a",), "c")]) == 'a: "c"\n'


def _refusal(text, changes):
    with pytest.raises(YamlEditError) as exc:
        _yaml_edit.edit(text, changes)
    return str(exc.value)


def test_edit_refusals_in_full():
    """Bugs: the wording of edit's refusals, the default source, the path shown, and which refusal is given."""
    assert _refusal("a: b\n", [(("a",), "")]) == "the document: a: the new value must be a one-line string, got ''"
    assert _refusal("a: b\n", [(("a",), "x"), (("a",), "y")]) == "the document: two changes overlap (a and a)"
    assert _refusal("a: &x foo\nb: *x\n", [(("b",), "bar")]) == (
        "the document: b: the value on disk is not written as a plain one-line scalar (an alias, a tag, a block "
        "scalar?); not edited")
    assert _refusal('a: "b"\n', [(("a",), 'say "hi"')]) == (
        "the new value 'say \"hi\"' cannot be written double-quoted without escapes")
    assert _refusal('a: "b"\n', [(("a",), "tab\there")]) == (
        "the new value 'tab\\there' cannot be written double-quoted without escapes")


def test_double_quoted_values_take_spaces_and_plain_letters():
    """Bug: the new value's check for double quotes refusing a space or an ordinary letter."""
    assert _yaml_edit.edit('a: "b"\n', [(("a",), "two Xwords")]) == 'a: "two Xwords"\n'


def test_a_value_on_the_last_line_without_a_newline_is_edited():
    """Bug: reading one character past the end of a text that does not end with a newline."""
    assert _yaml_edit.edit("a: b", [(("a",), "c")]) == "a: c"


def test_the_verification_messages_in_full(monkeypatch):
    """Bug: the wording of the two verification refusals."""
    monkeypatch.setattr(_yaml_edit, "_render", lambda new, quote: new + "\nextra: 1")
    assert _refusal("a: b\n", [(("a",), "c")]) == (
        "the document: the edited document would differ from the intended change; not edited")
    monkeypatch.setattr(_yaml_edit, "_render", lambda new, quote: new + ": [")
    assert _refusal("a: b\n", [(("a",), "c")]).startswith(
        "the edited text would not load (the document is not valid YAML: ")
    assert _refusal("a: b\n", [(("a",), "c")]).endswith("); not edited")


def test_file_messages_in_full(tmp_path, monkeypatch):
    """Bugs: the wording of read_snapshot's and writable_error's messages, their default field name ("file"),
    the reason of a non-UTF-8 file, and the read-only test by mode bits (root ignores them)."""
    bad = tmp_path / "bin.yml"
    bad.write_bytes(b"ok\xff")
    with pytest.raises(FileChangedError) as exc:
        read_snapshot(str(bad))
    assert str(exc.value) == "file %s is not UTF-8 text (at byte offset 2)" % bad and exc.value.reason == "encoding"
    path = tmp_path / "c.yml"
    path.write_text("a: 1\n")
    snap = read_snapshot(str(path))
    os.chmod(str(path), 0o444)
    assert _yaml_edit.writable_error(snap) == (
        "file %s is read-only (mode 0444); make it writable to let the fix write it" % path)
    os.chmod(str(path), 0o020)  # writable by its group only: still writable
    if os.geteuid() == 0:
        assert _yaml_edit.writable_error(snap) is None
    os.chmod(str(path), 0o644)
    monkeypatch.setattr(_yaml_edit.os, "geteuid", lambda: 1000)  # not root: os.access decides
    assert _yaml_edit.writable_error(snap) is None
    monkeypatch.undo()
    os.unlink(str(path))
    assert _yaml_edit.writable_error(snap) == "file %s is gone: No such file or directory" % path


def test_an_alias_as_long_as_its_value_and_a_folded_quoted_value_are_refused():
    """Bugs: a value on disk that differs from the loaded one let through when it is followed by a plain end
    (an alias `*xy` where `foo` was loaded), and the wording of the quoted-value refusal."""
    assert _refusal("a: &xy foo\nb: *xy\n", [(("b",), "bar")]) == (
        "the document: b: the value on disk is not written as a plain one-line scalar (an alias, a tag, a block "
        "scalar?); not edited")
    assert _refusal("a: 'foo\n  bar'\n", [(("a",), "baz")]) == (
        "the document: a: the value on disk is not the one loaded (an alias or a multi-line scalar?); not edited")


def test_backup_names_count_up_from_1(tmp_path):
    """Bugs: the collision counter starting elsewhere than 1, stepping by other than 1, or not moving."""
    base = str(tmp_path / "c.yml")
    names = []
    for _round in range(3):
        names.append(_yaml_edit.backup_name(base, now=0))
        open(names[-1], "w").close()
    stamp = base + ".19700101T000000Z"
    assert names == [stamp + ".bak", stamp + ".1.bak", stamp + ".2.bak"]


def _snap(tmp_path, name="c.yml"):
    path = tmp_path / name
    path.write_text("a: 1\n")
    return path, read_snapshot(str(path))


def test_commit_messages_in_full(tmp_path, monkeypatch):
    """Bugs: the wording of commit's refusals and failures, and the default field name ("file")."""
    path, snap = _snap(tmp_path)
    path.write_text("a: 2\n")
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")])
    assert str(exc.value) == ("file %s changed on disk since it was read (sha256 %s..., now %s...); not written, "
                              "run again" % (path, snap.sha256[:12], _yaml_edit.sha256_of(str(path))[:12]))
    path, snap = _snap(tmp_path, "d.yml")
    real_replace = os.replace

    def failing_replace(src, dst):
        if dst == str(path):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)
    monkeypatch.setattr(_yaml_edit.os, "replace", failing_replace)
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")], backup=False)
    assert str(exc.value) == "file %s cannot be replaced: No space left on device" % path


def test_a_failed_backup_is_named_and_leaves_no_temp_file(tmp_path, monkeypatch):
    """Bugs: the temp file of a backup that could not be moved in place left behind; the message's wording."""
    path, snap = _snap(tmp_path)
    real_replace = os.replace

    def failing_replace(src, dst):
        if dst.endswith(".bak"):
            raise OSError(13, "Permission denied")
        return real_replace(src, dst)
    monkeypatch.setattr(_yaml_edit.os, "replace", failing_replace)
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")], field_of={str(path): "config"})
    assert re.fullmatch(r"config %s: cannot write the backup %s\.\d{8}T\d{6}Z\.bak: Permission denied"
                        % (re.escape(str(path)), re.escape(str(path))), str(exc.value))
    assert sorted(os.listdir(str(tmp_path))) == ["c.yml"] and path.read_text() == "a: 1\n"


def test_a_new_content_that_cannot_be_written_is_named(tmp_path, monkeypatch):
    """Bug: the wording of the failure to write the new content next to the file."""
    path, snap = _snap(tmp_path)

    def full(_snap, _data):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_yaml_edit, "_write_temp", full)
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")])
    assert str(exc.value) == "file %s: cannot write the new content next to it: No space left on device" % path


# --- survivors of the whole run of this session (docs/mutation.md) ----------------------------------------

def test_without_ruamel_or_pyyaml_load_and_edit_fail_with_a_yaml_edit_error(without_ruamel, monkeypatch):
    """Bug: YAMLError (caught by the event walk used without PyYAML) set to something that is no exception
    class: without either library, load and edit then ended in a TypeError from the except clause itself."""
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    with pytest.raises(without_ruamel.YamlEditError):
        without_ruamel.load("a: 1\n", "config x")
    with pytest.raises(without_ruamel.YamlEditError):
        without_ruamel.edit("a: 1\n", [(("a",), "2")], "config x")


def test_without_ruamel_or_pyyaml_load_says_the_library_is_missing_not_that_the_yaml_is_invalid(without_ruamel, monkeypatch):
    """Bug (fixed): a valid document, read where neither ruamel.yaml nor PyYAML is installed, was reported as invalid
    YAML: _check_bounds called _yaml() inside its `try ... except YAMLError`, which is Exception without ruamel."""
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    with pytest.raises(without_ruamel.YamlEditError, match="ruamel.yaml is missing"):
        without_ruamel.load("a: 1\n", "config x")


def test_a_null_value_on_a_line_past_the_last_is_refused_with_its_position():
    """Bugs: the position check's bound moved (the value then handed to the scalar check, which gives another
    refusal) or its message changed. ruamel places an empty value at the end of a text on the line after the
    last one, so the check is reached, not only defensive."""
    assert _refusal("a: b\nc:\n", [(("c",), "d")]) == "the document: c: position 3:1 is outside the text"
    assert _refusal("a:\n", [(("a",), "d")]) == "the document: a: position 2:1 is outside the text"


def test_a_quoted_value_folded_over_two_lines_in_a_flow_sequence_is_refused():
    """Bug: the quoted value accepted when only its closing quote is where the loaded value ends: 'foo' and
    'bar' on two lines load as 'foo bar', as long as the text between the quotes, and the edit then replaced
    two lines of the file with one."""
    assert _refusal("['foo\nbar']\n", [((0,), "baz")]) == (
        "the document: [0]: the value on disk is not the one loaded (an alias or a multi-line scalar?); not edited")


def test_a_symlinked_file_whose_target_is_too_big_names_the_link_and_the_target(tmp_path):
    """Bug: the words naming the link in front of the target's read refusal changed."""
    target = tmp_path / "real.yml"
    target.write_text("a: 1\n")
    link = tmp_path / "link.yml"
    link.symlink_to(target)
    with pytest.raises(FileChangedError) as exc:
        read_snapshot(str(link), "config", max_bytes=4)
    assert str(exc.value) == "config %s, a link to %s is 5 bytes, over the limit of 4; not read" % (link, target)
    assert exc.value.reason == "size"


def test_a_file_removed_right_after_it_was_read_is_named(tmp_path, monkeypatch):
    """Bugs: the message of a file that cannot be looked at once read (another process removed it between the
    read and the stat) changed, or showed the whole OSError instead of its reason."""
    path = tmp_path / "c.yml"
    path.write_text("a: 1\n")
    real_read = _yaml_edit.read_bytes

    def read_then_removed(*args, **kwargs):
        data = real_read(*args, **kwargs)
        os.unlink(str(path))
        return data
    monkeypatch.setattr(_yaml_edit, "read_bytes", read_then_removed)
    with pytest.raises(FileChangedError) as exc:
        read_snapshot(str(path), "config")
    assert str(exc.value) == "config %s cannot be read: No such file or directory" % path and exc.value.reason is None


def _as_nobody(func):
    """func() run as uid/gid 65534 (a forked child drops root), its result or its exception's text."""
    if os.geteuid() != 0:
        return func()
    reader, writer = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.setgid(65534)
            os.setuid(65534)
            result = repr(func())
        except BaseException as exc:  # pylint: disable=broad-except
            result = "raised %r" % (exc,)
        os.write(writer, result.encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as handle:
        text = handle.read().decode()
    os.waitpid(pid, 0)
    return None if text == "None" else text.strip("'\"")


@pytest.fixture
def shared_folder():
    """A folder others can enter but not write to (tmp_path's folders are private to root)."""
    import shutil
    import tempfile
    folder = tempfile.mkdtemp(prefix="yaml-edit-")
    os.chmod(folder, 0o755)
    yield folder
    shutil.rmtree(folder)


def test_not_as_root_a_file_the_user_cannot_write_is_read_only(shared_folder):
    """Bug: outside root, os.access's answer dropped, so a file the user cannot write was taken as writable
    (and the refusal named its folder instead)."""
    path = os.path.join(shared_folder, "c.yml")
    with open(path, "w") as handle:
        handle.write("a: 1\n")
    os.chmod(path, 0o644)
    snap = read_snapshot(path)
    assert _as_nobody(lambda: _yaml_edit.writable_error(snap)) == (
        "file %s is read-only (mode 0644); make it writable to let the fix write it" % path)


def test_not_as_root_a_writable_file_in_a_folder_the_user_cannot_write_is_refused(shared_folder):
    """Bugs: the folder checked for existence only (W_OK & X_OK is 0), so the new file could not be written
    next to it; or the refusal's words changed."""
    path = os.path.join(shared_folder, "c.yml")
    with open(path, "w") as handle:
        handle.write("a: 1\n")
    os.chmod(path, 0o666)
    snap = read_snapshot(path)
    assert _as_nobody(lambda: _yaml_edit.writable_error(snap, "config")) == (
        "config %s: its folder %s is not writable (the new file is written next to it, then moved in place)"
        % (path, shared_folder))
    os.chmod(shared_folder, 0o777)
    assert _as_nobody(lambda: _yaml_edit.writable_error(snap, "config")) is None


def test_changed_error_names_a_file_by_default(tmp_path):
    """Bug: changed_error's default field name (its callers outside commit rely on it)."""
    path, snap = _snap(tmp_path)
    path.write_text("a: 2\n")
    assert _yaml_edit.changed_error(snap) == (
        "file %s changed on disk since it was read (sha256 %s..., now %s...); not written, run again"
        % (path, snap.sha256[:12], _yaml_edit.sha256_of(str(path))[:12]))


def test_commit_refusals_name_a_file_by_default(tmp_path):
    """Bugs: commit's default field name in the read-only refusal and in the re-read that fails (a folder now
    stands where the file was), or the re-read's message changed or showed the whole OSError."""
    path, snap = _snap(tmp_path)
    os.chmod(str(path), 0o444)
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")])
    assert str(exc.value) == "file %s is read-only (mode 0444); make it writable to let the fix write it" % path
    path, snap = _snap(tmp_path, "d.yml")
    path.unlink()
    path.mkdir()
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")])
    assert str(exc.value) == "file %s cannot be read again: Is a directory" % path


def test_the_last_check_before_the_replace_names_a_file_by_default(tmp_path):
    """Bug: the default field name of the sha256 re-check made right before the replace."""
    path, snap = _snap(tmp_path)
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")], before_replace=lambda: path.write_text("a: 9\n"))
    # the report then adds what is on disk: the file's content is not the one read (another writer changed it)
    assert str(exc.value) == ("file %s changed on disk since it was read (sha256 %s..., now %s...); not written, "
                              "run again; file %s changed on disk; no backup kept"
                              % (path, snap.sha256[:12], _yaml_edit.sha256_of(str(path))[:12], path))
    assert sorted(os.listdir(str(tmp_path))) == ["c.yml"] and path.read_text() == "a: 9\n"


def test_a_backup_that_cannot_be_written_is_named_with_the_default_field(tmp_path, monkeypatch):
    """Bugs: the backup's temp file failing (a full disk) reported with other words, the whole OSError, or a
    default field name other than "file"; the new content's temp file left behind."""
    path, snap = _snap(tmp_path)

    def full_for_the_backup(snap_, path_, data):
        assert data == snap_.data  # only the backup (and a put-back original) is written whole
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_yaml_edit, "_write_whole", full_for_the_backup)
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")])
    assert re.fullmatch(r"file %s: cannot write the backup %s\.\d{8}T\d{6}Z\.bak: No space left on device"
                        % (re.escape(str(path)), re.escape(str(path))), str(exc.value))
    assert sorted(os.listdir(str(tmp_path))) == ["c.yml"] and path.read_text() == "a: 1\n"


def _fail_after_replacing(monkeypatch, paths, calls):
    """fsync_dir fails (an I/O error) on its ``calls``-th call, after a folder was put where each of ``paths``
    was: the put-back cannot replace them and they cannot be read."""
    seen = []

    def failing_fsync_dir(_folder):
        seen.append(1)
        if len(seen) == calls:
            for path in paths:
                path.unlink()
                path.mkdir()
            raise OSError(5, "Input/output error")
    monkeypatch.setattr(_yaml_edit, "fsync_dir", failing_fsync_dir)


def test_a_double_failure_reports_every_file_changed_with_its_backup(tmp_path, monkeypatch):
    """Bugs: a file that cannot be read after a failed put-back taken as unchanged (the bare I/O error raised
    instead), and the report's words, its default field name or its separator changed."""
    a, snap_a = _snap(tmp_path, "a.yml")
    b, snap_b = _snap(tmp_path, "b.yml")
    _fail_after_replacing(monkeypatch, [a, b], 2)
    with pytest.raises(FileChangedError) as exc:
        commit([(snap_a, "a: 3\n"), (snap_b, "a: 4\n")])
    stamp = r"\.\d{8}T\d{6}Z\.bak"
    assert re.fullmatch(r"\[Errno 5\] Input/output error; file {a} changed on disk; backup at {a}{s}; "
                        r"file {b} changed on disk; backup at {b}{s}".format(a=re.escape(str(a)), b=re.escape(str(b)), s=stamp),
                        str(exc.value))
    assert exc.value.changed == [str(a), str(b)]


def test_a_double_failure_without_backups_says_none_was_kept(tmp_path, monkeypatch):
    """Bugs: a backup looked up for a file that has none (a KeyError instead of the report), or the words
    for no backup changed."""
    path, snap = _snap(tmp_path)
    _fail_after_replacing(monkeypatch, [path], 1)
    with pytest.raises(FileChangedError) as exc:
        commit([(snap, "a: 3\n")], backup=False, field_of={str(path): "config"})
    assert str(exc.value) == "[Errno 5] Input/output error; config %s changed on disk; no backup kept" % path
    assert exc.value.changed == [str(path)]
