"""tests/tools/py39_check.py: modules and module_utils must run on target Python 3.9 (issue 15).

Bug it catches: `make sanity` compiled and imported the modules on the controller's Python (3.11)
only, so 3.10+ syntax, a runtime `X | Y` annotation or a 3.10+ standard library call in a module
passed sanity and failed on a 3.9 target.
"""
import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools", "py39_check.py")
_SPEC = importlib.util.spec_from_file_location("o2edge_py39_check", _PATH)
py39 = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(py39)


@pytest.mark.parametrize("source, message", [
    ("match x:\n    case 1:\n        pass\n", "syntax newer"),
    ("def f(x: int | None) -> None:\n    pass\n", "annotation `X | Y`"),
    ("LIMIT: int | None = None\n", "annotation `X | Y`"),
])
def test_newer_syntax_and_runtime_union_annotations_are_refused(source, message):
    found = py39.problems_in("m.py", source)
    assert found and message in found[0], found


def test_postponed_annotations_may_use_union():
    assert py39.problems_in("m.py", "from __future__ import annotations\ndef f(x: int | None) -> str | None:\n"
                                    "    return None\n") == []


def test_flags_or_is_not_a_union_annotation():
    assert py39.problems_in("m.py", "import os\nFLAGS = os.O_WRONLY | os.O_CREAT\n") == []


@pytest.mark.parametrize("source", ["n = (5).bit_count()\n", "pairs = list(zip([1], [2], strict=True))\n",
                                    "from itertools import pairwise\n"])
def test_newer_stdlib_api_is_refused_by_vermin(tmp_path, source):
    path = tmp_path / "m.py"
    path.write_text(source)
    found = py39.vermin_problems([str(path)])
    assert found and "3.10" in found[0], found


def test_39_stdlib_api_passes_vermin(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("import math\nprint(math.lcm(2, 3), 'ab'.removeprefix('a'))\n")
    assert py39.vermin_problems([str(path)]) == []
