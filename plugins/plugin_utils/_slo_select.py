# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""An SLO's ``select``: a JMESPath expression, bounded, checked and evaluated fast.

* ``check_select(select)``: None, or why the expression is refused. Before jmespath parses it
  (its parser and interpreter recurse: 3,000 parentheses end in a RecursionError), one linear pass
  bounds its length (MAX_SELECT_CHARS), its bracket nesting (MAX_SELECT_DEPTH) and its operators
  (MAX_SELECT_OPERATORS: each ``.``, ``|``, ``&``, ``!``, comparison may add a level), outside
  quoted names and literals. A parse error is described by its type and column, never by the
  expression's text.
* ``select_items(select, doc)``: ``jmespath.search(select, doc)``, through a Python function
  compiled once per expression when the expression uses only what selections use (fields,
  filters, projections, flatten, comparisons, and/or/not, literals, starts_with / ends_with /
  contains); jmespath's own interpreter otherwise. bench/bench_slo.py measures why: over a
  10,000-record results document, jmespath's interpreter is most of ``evaluate()``. A filter's
  condition is compiled as a truth (``_jp_condition``): the ``&&`` chain of tests of field paths
  against literals the shipped objectives use is one function per record, not a tree of them, and
  their first field is read once (tests/unit/plugins/plugin_utils/test_slo_fast_paths.py holds them
  to jmespath's interpreter on hostile documents).
* ``describe_error(exc)``: an evaluation error as its type and a bounded description, never the
  data it was given (jmespath's type errors quote the whole value).

Size: over 450 lines because the compiled selection and its checks stay together: the bounds, the
compiler and the conditions reproduce one interpreter's rules, and a rule read in one place is kept
the same in the others.
"""

from __future__ import annotations

import functools
import numbers

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import secret_value_reason

try:
    import jmespath
    from jmespath.exceptions import JMESPathError, JMESPathTypeError
    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - reported when used
    jmespath = None
    JMESPathError = JMESPathTypeError = ValueError
    HAS_JMESPATH = False

MAX_SELECT_CHARS = 1000
MAX_SELECT_DEPTH = 20
MAX_SELECT_OPERATORS = 100
_OPENING = "([{"
_CLOSING = ")]}"
_OPERATORS = ".|&!<>="
_QUOTES = "'\"`"
_EXCERPT = 80


def _bounds_problem(select):
    """Why ``select`` is too large or too nested for jmespath's recursive parser, or None. Linear."""
    if len(select) > MAX_SELECT_CHARS:
        return "is %d characters long, over the limit of %d" % (len(select), MAX_SELECT_CHARS)
    depth = operators = 0
    quote = None
    escaped = False
    for char in select:
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in _QUOTES:
            quote = char
        elif char in _OPENING:
            depth += 1
            if depth > MAX_SELECT_DEPTH:
                return "nests brackets deeper than %d levels" % MAX_SELECT_DEPTH
        elif char in _CLOSING:
            depth -= 1
        elif char in _OPERATORS:
            operators += 1
            if operators > MAX_SELECT_OPERATORS:
                return "uses more than %d operator characters (%s)" % (MAX_SELECT_OPERATORS, " ".join(_OPERATORS))
    return None


class SelectRefused(ValueError):
    """A selection refused before jmespath parses it (too long, too nested, not a string)."""


def check_select(select):
    """None when ``select`` is a JMESPath expression within the bounds, else why not (no text of it)."""
    try:
        _selector(select)
    except SelectRefused as exc:
        return "not accepted: the expression %s" % exc
    except JMESPathError as exc:
        position = getattr(exc, "lex_position", None)
        return "not a valid JMESPath expression (%s%s)" % (
            type(exc).__name__, " at column %d" % position if isinstance(position, int) else "")
    except RecursionError:
        return "not accepted: the expression nests too deeply for the JMESPath parser"
    return None


def excerpt(text):
    """``text`` for a message: at most _EXCERPT characters, or nothing when it looks like a secret."""
    text = str(text)
    if secret_value_reason(text):
        return "(not shown: it looks like a secret)"
    return text if len(text) <= _EXCERPT else text[:_EXCERPT - 3] + "..."


def describe_error(exc):
    """An evaluation error as its type and a bounded description that never holds the data."""
    if isinstance(exc, JMESPathTypeError):
        return "%s: in function %s(), got %s, expected %s" % (
            type(exc).__name__, excerpt(exc.function_name), excerpt(exc.actual_type),
            excerpt(", ".join(str(t) for t in exc.expected_types)))
    if isinstance(exc, RecursionError):
        return "RecursionError: the data nests too deeply"
    return "%s: %s" % (type(exc).__name__, excerpt(" ".join(str(exc).split())))


class _NotFast(Exception):
    """The compiled selection meets a case it does not reproduce: jmespath's own interpreter decides."""


def _jp_false(value):
    # JMESPath falsiness, as jmespath's TreeInterpreter._is_false states it (0 is true)
    return value == '' or value == [] or value == {} or value is None or value is False


def _jp_number(value):
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


def _jp_equals(x, y):
    # jmespath's _equals: 0 and 1 never equal False and True
    if _jp_number(x) and x in (0, 1) and isinstance(y, bool):
        return False
    if _jp_number(y) and y in (0, 1) and isinstance(x, bool):
        return False
    return x == y


def _jp_string_function(method):
    def call(args):
        subject, search = args
        if type(subject) is not str or type(search) is not str:  # pylint: disable=unidiomatic-typecheck
            raise _NotFast()  # jmespath raises its type error with its own message
        return getattr(subject, method)(search)
    return call


def _jp_contains(args):
    subject, search = args
    if type(subject) not in (list, str):  # jmespath checks the type name: list or str
        raise _NotFast()
    return search in subject


_JP_STRING_METHODS = {"starts_with": str.startswith, "ends_with": str.endswith}
_JP_FUNCTIONS = {"starts_with": _jp_string_function("startswith"), "ends_with": _jp_string_function("endswith"),
                 "contains": _jp_contains}
_JP_NODES = frozenset(("field", "subexpression", "pipe", "literal", "current", "identity", "comparator", "and_expression",
                       "or_expression", "not_expression", "function_expression", "filter_projection", "projection",
                       "flatten", "multi_select_list"))
_JP_ORDER = {"lt": lambda x, y: x < y, "lte": lambda x, y: x <= y, "gt": lambda x, y: x > y, "gte": lambda x, y: x >= y}


def _jp_compile(node):
    """A Python function of the parsed JMESPath ``node`` giving what jmespath's TreeInterpreter gives.

    Covers what selections use (fields, sub-expressions, filters, projections, flatten,
    comparisons, and/or/not, literals, starts_with/ends_with/contains); anything else raises
    _NotFast at compile time, a function given another type raises it at run time, and the
    caller then evaluates with jmespath itself. Compiled once per expression: a filter over
    10,000 records does not walk the syntax tree 10,000 times.
    """
    kind = node["type"]
    if kind not in _JP_NODES:
        raise _NotFast()
    children = [_jp_compile(child) for child in node.get("children", ())] if kind != "literal" else []
    if kind == "field":
        name = node["value"]

        def field(value):
            try:
                return value.get(name)
            except AttributeError:
                return None
        return field
    if kind == "subexpression" and all(child["type"] == "field" for child in node["children"]):
        names = [child["value"] for child in node["children"]]

        def path(value):
            for name in names:
                try:
                    value = value.get(name)
                except AttributeError:
                    return None
            return value
        return path
    if kind in ("subexpression", "pipe"):
        def chain(value):
            for child in children:
                value = child(value)
            return value
        return chain
    if kind == "literal":
        constant = node["value"]
        return lambda value: constant
    if kind in ("current", "identity"):
        return lambda value: value
    if kind == "comparator":
        left, right = children
        op = node["value"]
        literal = node["children"][1]
        if op in ("eq", "ne") and literal["type"] == "literal" and isinstance(literal["value"], str):
            # a string never is a number nor a bool: jmespath's equality is Python's here
            constant = literal["value"]
            if op == "eq":
                return lambda value: left(value) == constant
            return lambda value: not left(value) == constant  # jmespath's ne is not ==, whatever != gives
        if op == "eq":
            return lambda value: _jp_equals(left(value), right(value))
        if op == "ne":
            return lambda value: not _jp_equals(left(value), right(value))
        order = _JP_ORDER[op]

        def compare(value):
            x, y = left(value), right(value)
            if not ((_jp_number(x) or isinstance(x, str)) and (_jp_number(y) or isinstance(y, str))):
                return None
            return order(x, y)
        return compare
    if kind == "and_expression":
        # a && b && c parses as nested pairs: evaluated as one chain, the first false operand is the result
        operands = []
        pending = [node]
        while pending:
            current = pending.pop()
            if current["type"] == "and_expression":
                pending.extend(reversed(current["children"]))
            else:
                operands.append(_jp_compile(current))
        init, last = operands[:-1], operands[-1]

        def every(value):
            for operand in init:
                matched = operand(value)
                if _jp_false(matched):
                    return matched
            return last(value)
        return every
    if kind == "or_expression":
        first, second = children

        def either(value):
            matched = first(value)
            return second(value) if _jp_false(matched) else matched
        return either
    if kind == "not_expression":
        child = children[0]

        def negate(value):
            result = child(value)
            return False if _jp_number(result) and result == 0 else not result
        return negate
    if kind == "function_expression":
        function = _JP_FUNCTIONS.get(node["value"])
        if function is None or len(children) != 2:
            raise _NotFast()
        literal = node["children"][1]
        if node["value"] != "contains" and literal["type"] == "literal" and type(literal["value"]) is str:  # pylint: disable=unidiomatic-typecheck
            subject, method, constant = children[0], _JP_STRING_METHODS[node["value"]], literal["value"]

            def string_test(value):
                found = subject(value)
                if type(found) is not str:  # pylint: disable=unidiomatic-typecheck
                    raise _NotFast()
                return method(found, constant)
            return string_test
        first, second = children
        return lambda value: function([first(value), second(value)])
    if kind == "filter_projection":
        return _jp_filter(node, children)
    if kind == "projection":
        base, project = children[0], children[1]
        keep = None

        def projection(value):
            items = base(value)
            if not isinstance(items, list):
                return None
            out = []
            for element in items:
                if keep is None or not _jp_false(keep(element)):
                    current = project(element)
                    if current is not None:
                        out.append(current)
            return out
        return projection
    if kind == "flatten":
        child = children[0]

        def flatten(value):
            items = child(value)
            if not isinstance(items, list):
                return None
            out = []
            for element in items:
                if isinstance(element, list):
                    out.extend(element)
                else:
                    out.append(element)
            return out
        return flatten
    if kind == "multi_select_list":
        return lambda value: None if value is None else [child(value) for child in children]
    raise _NotFast()


def _jp_filter(node, children):
    """``base[?condition].project``: the condition tested as a truth (``_jp_condition``), an identity projection
    (``records[?...]``, what selections are) kept as one list comprehension."""
    base, project, keep = children[0], children[1], _jp_condition(node["children"][2])
    if node["children"][1]["type"] in ("current", "identity"):
        def filtered(value):
            items = base(value)
            if not isinstance(items, list):
                return None
            # keep() first, as jmespath tests every element (a null one too) before dropping nulls
            return [element for element in items if keep(element) and element is not None]
        return filtered

    def projection(value):
        items = base(value)
        if not isinstance(items, list):
            return None
        out = []
        for element in items:
            if keep(element):
                current = project(element)
                if current is not None:
                    out.append(current)
        return out
    return projection


def _jp_field_names(node):
    """The names of ``node`` when it is a field or a sub-expression of fields only (``record.name``), else None."""
    if node["type"] == "field":
        return (node["value"],)
    if node["type"] == "subexpression" and all(child["type"] == "field" for child in node["children"]):
        return tuple(child["value"] for child in node["children"])
    return None


def _jp_condition(node):
    """A function of an element that is true exactly when ``_jp_compile(node)`` gives a JMESPath-true value.

    A filter only asks whether its condition is true, so the usual conditions are one function each,
    not a tree of functions whose values are then tested (the ``records[?...]`` of the shipped objectives
    run once per record): an ``&&`` chain, and the tests of a field path against a literal that
    ``_jp_path_test`` knows. Each evaluates what the value function evaluates, in the same order, stops
    where it stops, and raises _NotFast where it raises it; anything else is the value function's result
    tested with ``_jp_false``.
    """
    if node["type"] != "and_expression":
        test = _jp_path_test(node)
        return test[1](test[0]) if test is not None else _jp_truth(_jp_compile(node))
    nodes = []
    pending = [node]
    while pending:  # a && b && c parses as nested pairs: one chain, as _jp_compile's every() takes it
        current = pending.pop()
        if current["type"] == "and_expression":
            pending.extend(reversed(current["children"]))
        else:
            nodes.append(current)
    operands = [_jp_condition(current) for current in nodes]

    def every_true(value):
        for operand in operands:
            if not operand(value):
                return False
        return True
    tests = [_jp_path_test(current) for current in nodes]
    if any(test is None or test[0][0] != tests[0][0][0] for test in tests):
        return every_true
    # every operand tests a path under the same first field (record.unit, record.name, ...): of a dict,
    # that field is read once (dict.get gives the same value every time), the tests walk the rest
    head, tails = tests[0][0][0], [make(names[1:]) for names, make in tests]

    def every_true_under(value):
        if type(value) is not dict:  # pylint: disable=unidiomatic-typecheck
            return every_true(value)
        value = value.get(head)
        for operand in tails:
            if not operand(value):
                return False
        return True
    return every_true_under


def _jp_path_test(node):
    """``(names, make)`` when ``node`` tests the field path ``names`` against a literal in a way kept as one
    function (``make(names)`` gives it, true when jmespath's value is true), else None: ``path == 'text'``,
    ``path != 'text'``, ``[!]starts_with(path, 'text')``, ``[!]ends_with(path, 'text')``,
    ``[!]contains(path, literal)``."""
    negated = node["type"] == "not_expression" and node["children"][0]["type"] == "function_expression"
    test = node["children"][0] if negated else node
    if test["type"] not in ("comparator", "function_expression") or len(test["children"]) != 2:
        return None
    names, literal = _jp_field_names(test["children"][0]), test["children"][1]
    if names is None or literal["type"] != "literal":
        return None
    constant = literal["value"]
    if test["type"] == "comparator" and test["value"] in ("eq", "ne") and isinstance(constant, str):
        # a string never is a number nor a bool: jmespath's equality is Python's here (as in _jp_compile)
        check = functools.partial(_jp_equals_test if test["value"] == "eq" else _jp_differs_test, constant)
    elif test["type"] == "function_expression" and test["value"] in _JP_STRING_METHODS and type(constant) is str:  # pylint: disable=unidiomatic-typecheck
        check = functools.partial(_jp_string_test, _JP_STRING_METHODS[test["value"]], constant, negated)
    elif test["type"] == "function_expression" and test["value"] == "contains":
        check = functools.partial(_jp_contains_test, constant, negated)
    else:
        return None
    return names, functools.partial(_jp_on_path, check)


# The tests of _jp_path_test, each of the value found at the field path (``_jp_on_path``).
def _jp_on_path(test, names):
    """A function of an element: ``test`` of the value at the field path ``names``, the path walked here as
    path() walks it (one walk for the four kinds of test, then one call of ``test``)."""
    def on_path(value):
        for name in names:
            try:
                value = value.get(name)
            except AttributeError:
                value = None
                break
        return test(value)
    return on_path


def _jp_equals_test(constant, value):
    found = value == constant
    return found is True or (found is not False and not _jp_false(found))  # a bool for JSON values


def _jp_differs_test(constant, value):
    return not value == constant  # jmespath's ne: not _equals (Python's not, whatever == gives)


def _jp_string_test(method, constant, negated, value):
    if type(value) is not str:  # pylint: disable=unidiomatic-typecheck
        raise _NotFast()  # jmespath raises its type error with its own message
    return method(value, constant) is not negated  # a bool, so ``!`` is its negation


def _jp_contains_test(constant, negated, value):
    if type(value) not in (list, str):  # jmespath checks the type name: list or str
        raise _NotFast()
    return (constant in value) is not negated  # ``in`` gives a bool (or raises as _jp_contains raises)


def _jp_truth(function):
    return lambda value: not _jp_false(function(value))


_SELECT_CACHE = {}
_SELECT_CACHE_MAX = 256


def _selector(select):
    """``(fast function or None, jmespath's compiled expression)`` for ``select``, kept per expression."""
    found = _SELECT_CACHE.get(select) if isinstance(select, str) else None
    if found is None:
        if not isinstance(select, str):
            raise SelectRefused("is not a string")
        problem = _bounds_problem(select)
        if problem:
            raise SelectRefused(problem)
        parsed = jmespath.compile(select)
        try:
            fast = _jp_compile(parsed.parsed)
        except _NotFast:
            fast = None
        if len(_SELECT_CACHE) >= _SELECT_CACHE_MAX:
            _SELECT_CACHE.pop(next(iter(_SELECT_CACHE)))
        found = _SELECT_CACHE[select] = (fast, parsed)
    return found


def select_items(select, results_doc, compiled=True):
    """``jmespath.search(select, results_doc)``, through the compiled function when it covers the expression.

    ``compiled=False`` always uses jmespath's interpreter (bench/bench_slo.py compares the two).
    SelectRefused when ``select`` is over the bounds; jmespath's errors as jmespath raises them.
    """
    fast, parsed = _selector(select)
    if fast is not None and compiled:
        try:
            return fast(results_doc)
        except _NotFast:
            pass
    return parsed.search(results_doc)
