# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_yaml_edit: tests written for the survivors of a mutation run (docs/mutation.md), each named for
the bug it catches."""
from __future__ import annotations

import importlib.util
import sys

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _yaml_edit
from ansible_collections.o2edge.perf.plugins.module_utils.edge._yaml_edit import FileChangedError, YamlEditError, load, plain, read_snapshot


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


@pytest.mark.xfail(strict=True, reason="_yaml_edit.load catches its own 'ruamel.yaml is missing' YamlEditError in "
                                       "'except YAMLError' (YAMLError is Exception without ruamel) and reports "
                                       "'config x is not valid YAML: YamlEditError'")
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
    from ansible_collections.o2edge.perf.plugins.module_utils import _yaml_bounds
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
    from ansible_collections.o2edge.perf.plugins.module_utils import _yaml_bounds
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    ok = "a: " + "[" * 31 + "1" + "]" * 31 + "\n"  # the mapping and 31 lists: 32 levels
    assert plain(load(ok, "config x"))["a"] is not None
    with pytest.raises(YamlEditError) as exc:
        load("a: " + "[" * 32 + "1" + "]" * 32 + "\n", "config x")
    assert str(exc.value) == "config x nests deeper than 32 levels"
