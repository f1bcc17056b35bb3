# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_slo (reading objective files): tests written for the survivors of a whole mutation run
(docs/mutation.md), each named for the bug it catches: every refusal's whole list of problems, and
the byte bound counted in UTF-8 bytes, not characters."""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo
from tests.unit.plugins.plugin_utils.test_slo import slo_yaml


def problems(**kwargs):
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(**kwargs)
    return err.value.errors


def test_without_pyyaml_the_missing_library_is_named_in_full(monkeypatch):
    """Bug: the words of the only problem reported when PyYAML is missing changed."""
    monkeypatch.setattr(_slo, "HAS_YAML", False)
    assert problems(text=slo_yaml()) == ["PyYAML is needed to read SLO objectives (pip install PyYAML)"]


def test_utf8_bytes_are_read_as_the_same_text():
    """Bug: the text encoded only when it is already bytes (bytes then failed with an AttributeError)."""
    text = "# caf\u00e9 latency\n" + slo_yaml()
    objectives = _slo.load_objectives(text=text.encode("utf-8"))
    assert objectives == _slo.load_objectives(text=text) and [o["name"] for o in objectives] == ["lat"]


def test_the_byte_bound_counts_utf8_bytes_not_characters():
    """Bug: a text of 700,000 two-byte characters (1,400,002 bytes) read because it is under 1 MiB in characters."""
    assert problems(text="# " + "\u00e9" * 700000) == ["the YAML text is over 1048576 bytes; not read"]


def test_a_lone_surrogate_is_refused_in_full():
    """Bugs: the surrogate's message changed, or the text handed to the parser without being encoded."""
    assert problems(text="a: b\u00e9\ud800\n") == ["the YAML text is not UTF-8 text (a lone surrogate at character 5)"]


def test_a_file_problem_is_prefixed_with_the_file_and_nothing_else(tmp_path):
    """Bug: the words around a file's YAML problem changed (the reader's own refusals are not prefixed)."""
    path = tmp_path / "slos.yml"
    path.write_text("a: " + "[" * 30 + "]" * 30 + "\n")
    assert problems(path=str(path)) == ["SLO file %s: the YAML text nests deeper than 20 levels (line 1)" % path]
    path.write_bytes(b"a: \xff\n")
    assert problems(path=str(path)) == ["SLO file %s is not UTF-8 text (at byte offset 3)" % path]


def test_the_argument_refusals_in_full(tmp_path):
    """Bugs: the words of the refusals of load_objectives' own arguments changed."""
    one_of = "load_objectives needs exactly one of path, text or documents, got %s"
    assert problems() == [one_of % "none"]
    assert problems(path=str(tmp_path), text="a") == [one_of % "path, text"]
    assert problems(text=12) == ["text must be YAML text, got a number"]
    assert problems(path=["x"]) == ["path must be the path of an SLO file, got a list"]
    assert problems(path=" \t") == ["path must be the path of an SLO file, got a string"]
    assert problems(path=slo_yaml()) == ["path holds a newline: YAML text goes in text=..., not path"]
