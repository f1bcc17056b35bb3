# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_slo_select's bounds on a selection (length, bracket depth, operators, quoted text) and its
excerpts: tests written for the survivors of a mutation run (docs/mutation.md), each named for the
bug it catches. Every expression below is valid JMESPath, so a refusal can only come from the bounds."""
from __future__ import annotations

import importlib.util
import inspect
import sys

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo_select as s

DEEP = "(" * 21 + "b" + ")" * 21  # one level over the bound
REFUSED_DEEP = "not accepted: the expression nests brackets deeper than 20 levels"


def test_the_length_bound_is_exactly_1000_characters():
    """Bugs: the bound off by one, or another limit than 1000."""
    at = "a" * 1000
    assert s.check_select(at) is None
    assert s.check_select(at + "a") == "not accepted: the expression is 1001 characters long, over the limit of 1000"


def test_the_depth_bound_is_exactly_20_levels():
    """Bugs: '>' turned '>=' (20 refused), another limit than 20."""
    assert s.check_select("(" * 20 + "b" + ")" * 20) is None
    assert s.check_select(DEEP) == REFUSED_DEEP


def test_closing_brackets_end_their_level():
    """Bugs: a closing bracket not lowering the depth (many brackets one after the other are then
    refused), or lowering it too far (a deep nest after them is then let through)."""
    flat = "a" + "[0]" * 30
    assert s.check_select(flat) is None
    assert s.check_select("a" + "[0]" * 5 + " || " + DEEP) == REFUSED_DEEP
    # each closing bracket lowers the depth by one, back to 0: not reset to some level
    assert s.check_select("((a)) || " + "(" * 20 + "b" + ")" * 20) is None


def test_the_operator_bound_is_exactly_100_operator_characters():
    """Bugs: operators counted twice or not at all, the bound off by one."""
    assert s.check_select("a" + ".a" * 100) is None
    assert s.check_select("a" + ".a" * 101) == (
        "not accepted: the expression uses more than 100 operator characters (. | & ! < > =)")


def test_operators_and_brackets_inside_quoted_text_are_not_counted():
    """Bug: quotes not recognised, so a long literal full of dots or brackets is refused."""
    assert s.check_select("a == '" + "." * 150 + "((((" * 10 + "'") is None
    assert s.check_select('a == `"' + "|" * 150 + '"`') is None
    assert s.check_select('"' + "[" * 30 + '"') is None


def test_counting_resumes_after_the_closing_quote():
    """Bugs: a quote never closed (what follows it is then never counted), an escaped quote taken as
    the end, an escape that lasts past one character, or a first character inside quotes skipped."""
    assert s.check_select("a == 'x' || " + DEEP) == REFUSED_DEEP
    assert s.check_select("a == '' || " + DEEP) == REFUSED_DEEP
    # \' inside a raw string literal does not end it: the dots after it stay quoted ...
    assert s.check_select("a == 'x\\'" + "." * 150 + "'") is None
    # ... and after the real end, counting goes on
    assert s.check_select("a == 'x\\'y' || " + DEEP) == REFUSED_DEEP
    assert s.check_select("a == 'x\\\\' || " + DEEP) == REFUSED_DEEP


def test_only_brackets_operators_and_quotes_are_special():
    """Bug: another character (one a mutation adds to a table) taken as a bracket, an operator or a
    quote: a plain identifier must neither open, close, count nor quote."""
    name = "X" * 150
    assert s.check_select(name) is None
    assert s.check_select(name + " || " + DEEP) == REFUSED_DEEP
    assert s.check_select("X" * 31 + " || " + DEEP) == REFUSED_DEEP  # odd: an X taken as a quote stays open


def test_an_error_without_a_position_gives_no_column():
    """Bug: the column part filled in for an error that has no position."""
    assert s.check_select("") == "not a valid JMESPath expression (EmptyExpressionError)"
    assert s.check_select("a ==") == "not a valid JMESPath expression (IncompleteExpressionError at column 4)"


@pytest.mark.parametrize("length", [79, 80])
def test_excerpts_up_to_80_characters_are_whole(length):
    """Bug: a text at or under the bound cut or changed."""
    text = "b" * length
    assert s.excerpt(text) == text


def test_longer_excerpts_keep_77_characters_and_an_ellipsis():
    """Bugs: the cut at another place, without the ellipsis, or the bound off by one."""
    assert s.excerpt("c" * 81) == "c" * 77 + "..."
    assert s.excerpt("d" * 200) == "d" * 77 + "..."
    assert len(s.excerpt("e" * 81)) == 80


def test_a_secret_looking_excerpt_is_never_shown():
    """Bug: the secret check skipped for excerpts."""
    token = "ghp_" + "A1b2C3d4" * 5
    assert s.excerpt(token) == "(not shown: it looks like a secret)"


def test_evaluation_errors_name_their_type_and_a_bounded_text():
    """Bugs: a recursion error quoting the data, a message without its type, the text unbounded."""
    assert s.describe_error(RecursionError("x" * 500)) == "RecursionError: the data nests too deeply"
    assert s.describe_error(ValueError("bad\n  value   here")) == "ValueError: bad value here"
    assert s.describe_error(KeyError("k" * 300)) == "KeyError: '" + "k" * 76 + "..."


# --- the compiled selection (_jp_compile) against jmespath's own interpreter --------------------------------
# Values where JMESPath differs from Python: 0 and 1 against false and true, 0 is true, "" [] {} null are
# false, strings compare as strings, lists and objects do not order.
ODD = [0, 1, 2, -1, 0.0, 1.0, 0.5, True, False, "", "a", "ab", "b", "0", [], [0], [[1, 2], 3], {}, {"a": 1}, None]
COMPILED = [
    # fields, paths (all-field and mixed), pipes, literals, current node
    "v", "n.m.k", "n.m", "n | m", "[?n.m.k == `1`].v", "[*].n.m", "[*].[`1`, @.v]", "[?@ == @].v", "[?@.v == `0`].v",
    # comparisons against a string literal, a number literal, true/false and another field
    "[?v == 'a'].w", "[?v != 'a'].w", "[?v == `0`].w", "[?v != `0`].w", "[?v == `1`].w", "[?v == `false`].w",
    "[?v != `true`].w", "[?v == w].v", "[?v != w].v", "[?w == v].v", "[?v < w].v", "[?v <= w].v", "[?v > w].v",
    "[?v >= w].v", "[?v < `1`].w", "[?`1` >= v].w", "[?v > 'a'].w",
    # and / or / not: the value a chain gives, not only its truth
    "[*].[v && w]", "[*].[v && w && u]", "[*].[v || w]", "[*].[!v]", "[?v && w].v", "[?v && w && u].v",
    "[?v || w].v", "[?!v].w", "[?!(v == w)].v", "[?v && !w].v",
    # the three functions, with literal and field arguments
    "[?starts_with(v, 'a')].w", "[?ends_with(v, 'b')].w", "[?contains(v, 'a')].w", "[?contains(v, `0`)].w",
    "[?contains(l, `0`)].w", "[?starts_with(v, w)].w", "[?ends_with(v, w)].w", "[?contains(v, w)].w",
    # projections, filters on projections, flatten, multi-select lists
    "[*].v", "[*]", "[].v", "[]", "[].l", "[*].l[]", "[][]", "[].l[]", "[*].[v, w]", "[?v].[v, w]", "[*].l[].x",
    # a sub-expression whose parts are not all fields
    "@.[v]", "[v, w].[w]", "[*].[v, u].[@]",
]


def _doc(values):
    """Every pair of ``values`` as v and w, with u = v, a nested n.m.k and a list l."""
    return [{"v": x, "w": y, "u": x, "n": {"m": {"k": y}} if i % 3 else {"m": y}, "l": [x, [y], {"x": x}] if i % 2 else x}
            for i, (x, y) in enumerate((x, y) for x in values for y in values)]


# All values at once make the functions and orderings fail (jmespath's type errors); strings only and
# numbers only reach the cases where they give values.
DOCS = [_doc(ODD), _doc([v for v in ODD if isinstance(v, str)]),
        _doc([v for v in ODD if isinstance(v, (int, float)) and not isinstance(v, bool)])]


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as exc:  # pylint: disable=broad-except
        return ("error", type(exc).__name__, str(exc))


def _same(select, doc):
    """The compiled function gives what jmespath gives (value, order and type: True is not 1, and the same
    error), and gives a value by itself: it hands a case to jmespath (_NotFast) only where jmespath raises an
    error. A compiled function that handed every call back would be right and as slow as jmespath."""
    jmespath = pytest.importorskip("jmespath")
    want = _outcome(lambda: jmespath.search(select, doc))
    assert repr(_outcome(lambda: s.select_items(select, doc))) == repr(want), select
    if want[0] == "ok":
        assert repr(_outcome(lambda: s._selector(select)[0](doc))) == repr(want), select


@pytest.mark.parametrize("select", COMPILED)
def test_the_compiled_selection_gives_what_jmespath_gives_on_odd_values(select):
    """Bugs in the compiled selection: a truth table, an equality or an order that is Python's rather than
    JMESPath's (0 == false, 0 is true, "" and [] false, strings and numbers not ordered together), the and/or
    chain giving the wrong operand, a function's arguments swapped, a projection keeping nulls or a flatten
    flattening too deep, a missing field not null, a non-list not giving null."""
    assert s._selector(select)[0] is not None, "not compiled: this test would not reach the compiled code"
    for doc in DOCS:
        _same(select, doc)
    for other in ({"v": 1, "n": None}, None, "text", 3, [], [None, 1, "a"], {"v": [1]}):
        _same(select, other)


def test_a_parser_recursion_error_is_a_refusal_with_its_own_message():
    """Bug: the RecursionError branch of check_select losing or garbling its message. Within the bounds
    jmespath does not reach Python's recursion limit, so the limit is lowered here to get there."""
    select = "(" * 20 + "recursion_probe" + ")" * 20  # 20 levels: within the bounds, parsed recursively
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(len(inspect.stack()) + 25)
    try:
        problem = s.check_select(select)
    finally:
        sys.setrecursionlimit(limit)
    assert problem == "not accepted: the expression nests too deeply for the JMESPath parser"
    assert s.check_select(select) is None  # the limit, not the expression, was the cause


def test_without_jmespath_the_module_says_it_is_missing(monkeypatch):
    """Bug: HAS_JMESPATH true when jmespath cannot be imported: the SLO checks (which read it first) then call
    the missing library and fail with an AttributeError instead of saying that jmespath is needed."""
    for name in [n for n in sys.modules if n == "jmespath" or n.startswith("jmespath.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "jmespath", None)  # import jmespath now raises ImportError
    spec = importlib.util.spec_from_file_location("_slo_select_without_jmespath", s.__file__)
    bare = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bare)
    assert not bare.HAS_JMESPATH
    assert bare.check_select(DEEP) == REFUSED_DEEP  # the bounds need no jmespath


@pytest.mark.parametrize("select", ["[?starts_with(v)].w", "[?starts_with(v, 'a', 'b')].w", "[?ends_with(v, w, u)].w",
                                    "[?contains(v)].w", "[?length(v, w)].w"])
def test_a_function_with_the_wrong_number_of_arguments_fails_as_in_jmespath(select):
    """Bug: the compiled selection taking a function with one or three arguments (or one it does not know)
    as if it had two: an IndexError, or a value where jmespath raises its arity error."""
    for doc in DOCS:
        _same(select, doc)


def test_a_selection_that_is_not_a_string_is_refused_as_such():
    """Bug: the refusal of a non-string selection not saying why."""
    assert s.check_select(5) == "not accepted: the expression is not a string"
    assert s.check_select(["records"]) == "not accepted: the expression is not a string"
