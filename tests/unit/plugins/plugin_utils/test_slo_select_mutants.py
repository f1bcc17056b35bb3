# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_slo_select's bounds on a selection (length, bracket depth, operators, quoted text) and its
excerpts: tests written for the survivors of a mutation run (docs/mutation.md), each named for the
bug it catches. Every expression below is valid JMESPath, so a refusal can only come from the bounds."""
from __future__ import annotations

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
