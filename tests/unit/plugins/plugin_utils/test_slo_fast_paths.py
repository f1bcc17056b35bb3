# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fast paths of ``_slo.evaluate`` against the slow ones they stand for, on hostile documents.

The selections: a filter's condition compiled as one truth function (``_slo_select._jp_condition``: the
``&&`` chain, a path against a string, ``[!]starts_with/ends_with/contains``, one first field read once
for a chain under it) must give what jmespath's own interpreter gives, value and error alike. The
verdicts: ``_slo_eval`` builds the items, counts the runs and compares the figures without a call per
record; ``reference_evaluate_one`` below is ``evaluate_one`` as it was before (commit 1ccb797) and every
outcome, reason included, must be the same. Each test names the bugs it catches.
"""
from __future__ import annotations

import collections
import random

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo_eval, _slo_select

jmespath = pytest.importorskip("jmespath")

# --------------------------------------------------------------------------- selections


class Odd:
    """A value whose == and != give a non-bool (JMESPath tests it with its own falsiness: 0 is true)."""

    def __init__(self, equal, differ):
        self.equal, self.differ = equal, differ

    def __eq__(self, other):
        return self.equal

    def __ne__(self, other):
        return self.differ

    __hash__ = object.__hash__

    def __repr__(self):
        return "Odd(%r, %r)" % (self.equal, self.differ)


class Flip(dict):
    """A dict whose get gives another value at each call: a fast path must read it as often as jmespath."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.calls = 0

    def get(self, key, default=None):
        self.calls += 1
        return dict.get(self, key, default) if self.calls % 2 else "flipped"


# Values of a field: the ones JMESPath and Python tell apart, and ones a string test meets.
VALUES = [None, True, False, 0, 1, 0.0, 2.5, "", "s", "kpt_render", "a/total", "x@cold", "probe", "file_io",
          [], ["@cold"], ["s", 1], [None], {}, {"name": "s"}, 7]
ODD_VALUES = [Odd(0, 0), Odd("", ""), Odd([], [1]), Odd(None, 1), Odd(1, None)]

SELECTIONS = [
    # path against a string, 1, 2 and 3 fields, == and !=
    "r[?unit == 's']", "r[?unit != 's']", "r[?record.unit == 's']", "r[?record.unit != 's']",
    "r[?record.context.host == 's']", "r[?record.context.host != 's']", "r[?record.unit == '']",
    # string functions, plain and negated, on 1 and 2 fields
    "r[?starts_with(name, 'x')]", "r[?!starts_with(name, 'x')]", "r[?ends_with(record.name, '/total')]",
    "r[?!ends_with(record.name, '/total')]", "r[?starts_with(record.context.host, 'x')]",
    # contains with a string, a number, a list, a null literal; plain and negated
    "r[?contains(record.name, '@cold')]", "r[?!contains(record.name, '@cold')]", "r[?contains(name, `1`)]",
    "r[?!contains(record.name, `null`)]", "r[?contains(record.name, `[\"s\", 1]`)]", "r[?!contains(name, 's')]",
    # chains under one first field (read once), under different ones, one of one field only
    "r[?record.unit == 's' && record.component != 'file_io' && record.component != 'system'"
    " && !ends_with(record.name, '/total') && !contains(record.name, '@cold')]",
    "r[?record.component == 'kpt_render' && ends_with(record.name, '/total')]",
    "r[?record.unit == 's' && name != 's']", "r[?record != 's' && record.unit == 's']",
    "r[?record.unit != 's' && other.unit != 's']", "r[?record.unit == 's' && record.name]",
    "r[?(record.unit == 's' && record.name != 'x') && record.component != 'probe']",
    "r[?record.unit != 'x' && ends_with(record.name, 's') && record.component != 'y']",
    # conditions left to the value functions: other comparisons, ||, !, fields, numbers, functions of fields
    "r[?record.unit == `1`]", "r[?record.unit != `false`]", "r[?unit == name]", "r[?record.unit || name]",
    "r[?!record.unit]", "r[?!(record.unit == 's')]", "r[?record.unit]", "r[?starts_with(name, record.unit)]",
    "r[?ends_with(name, `1`)]", "r[?record.unit > 's']", "r[?@ == 's']", "r[?'s' == record.unit]",
    # a filter that projects (not the identity), and one on the document itself
    "r[?record.unit == 's'].record.name", "r[?!contains(record.name, '@cold')].name", "[?unit == 's']",
]


STRINGS = [v for v in VALUES if isinstance(v, str)]


def _entries(rng, count, values=None):
    """``count`` elements of a filtered list: records, flat ones, junk, and every field value at every level
    (or, with ``values``, records whose fields all hold one of them: where the string functions give values)."""
    def pick():
        return rng.choice(values or VALUES)
    out = []
    for dummy in range(count):
        shape = rng.randrange(3, 8) if values else rng.randrange(8)
        if shape == 0:
            out.append(pick())
        elif shape == 1:
            out.append({"unit": pick(), "name": pick()})
        elif shape == 2:
            out.append({"record": pick(), "other": {"unit": pick()}})
        else:
            record = {"unit": rng.choice(VALUES[:12]), "name": rng.choice(VALUES[7:14] + VALUES[14:16]),
                      "component": rng.choice(["kpt_render", "file_io", "system", "probe", "git", None, 3]),
                      "context": rng.choice([{"host": pick()}, pick()])}
            if values:
                record = {"unit": pick(), "name": pick(), "component": pick(), "context": {"host": pick()}}
            for key in list(record):
                if rng.random() < 0.1 and not values:
                    del record[key]
            out.append({"record": record, "name": pick()})
    return out


def _documents():
    """Documents with one kind of trouble each (they decide alone) and mixed ones."""
    rng = random.Random(20261208)
    docs = [{"r": _entries(rng, 60)} for dummy in range(40)]
    docs += [{"r": _entries(rng, 20, STRINGS)} for dummy in range(30)]
    docs += [{"r": [{"record": {"unit": v, "name": v, "component": v, "context": {"host": v}}, "name": v, "unit": v}
                    for v in VALUES]}]
    docs += [{"r": [{"record": {"unit": "s", "name": v, "component": "kpt_render"}, "name": v}]} for v in VALUES]
    docs += [{"r": [{"record": {"unit": odd, "name": "n", "component": odd}, "unit": odd, "name": "n"}]}
             for odd in ODD_VALUES]
    docs += [{"r": [None, {"record": {"unit": "s", "name": "a/total", "component": "kpt_render"}}]},
             {"r": [{"record": {"unit": "s", "name": "a/total", "component": "kpt_render"}}, None]},
             {"r": []}, {"r": None}, {"r": "s"}, {"r": {"record": {"unit": "s"}}}, {}, [], None, "s",
             [{"unit": "s"}, {"unit": "t"}, None]]
    return docs


def _outcome(call):
    try:
        return ("ok", call())
    except Exception as exc:  # pylint: disable=broad-except
        return ("error", type(exc).__name__, str(exc))


@pytest.mark.parametrize("select", SELECTIONS)
def test_filter_conditions_give_what_jmespath_gives_on_hostile_documents(select):
    """Bugs: a condition returning a constant, == and != or a negation swapped, a path walked one field short or
    with the wrong first field (a chain read under another field's head), a non-bool equality tested with
    Python's truth rather than JMESPath's (0 is true, "" is not), a null element skipped before its condition
    is tested (jmespath raises its type error on it), a type check skipped (a value where jmespath raises) or
    made stricter (a case handed back to jmespath, caught by the direct call below)."""
    fast = _slo_select._selector(select)[0]
    assert fast is not None, "not compiled: this test would not reach the fast path"
    errors = values = 0
    for doc in _documents():
        want = _outcome(lambda: jmespath.search(select, doc))  # pylint: disable=cell-var-from-loop
        assert repr(_outcome(lambda: _slo_select.select_items(select, doc))) == repr(want), (select, doc)  # pylint: disable=cell-var-from-loop
        if want[0] == "ok":
            values += 1
            # the compiled function gives the value by itself: it hands a case to jmespath only where jmespath raises
            assert repr(_outcome(lambda: fast(doc))) == repr(want), (select, doc)  # pylint: disable=cell-var-from-loop
        else:
            errors += 1
    if "`1`" not in select:  # ends_with(name, `1`) is a type error whatever the document
        assert values > 10  # the documents reach the values, not only the errors


def test_the_documents_keep_some_elements_and_drop_others():
    """Bug in the test itself: documents every condition keeps whole or drops whole would not tell a condition
    from a constant one."""
    for select in SELECTIONS[:26]:
        if "`" in select:  # contains of a literal that is not a string: a type error on every string
            continue
        sizes = set()
        for doc in _documents()[:70]:
            found = _outcome(lambda: jmespath.search(select, doc))  # pylint: disable=cell-var-from-loop
            if found[0] == "ok" and isinstance(found[1], list):
                sizes.add(len(found[1]) < len(doc["r"]) and len(found[1]) > 0)
        assert True in sizes, select


@pytest.mark.parametrize("select", [
    "r[?record.unit == 's' && record.name != 'x']", "r[?record.unit != 'x' && record.name == 'flipped']",
    "r[?record.unit == 'flipped' && record.name == 'flipped']"])
def test_a_chain_reads_the_first_field_once_only_of_a_plain_dict(select):
    """Bug: the first field of a chain read once of any mapping (isinstance rather than type is dict): a dict
    subclass whose get changes its answer must be read as often as jmespath reads it."""
    def doc():
        return {"r": [Flip(record={"unit": "s", "name": "n"}), Flip(record={"unit": "flipped", "name": "flipped"}),
                      {"record": Flip(unit="s", name="n")}]}
    want, reference = doc(), doc()
    assert repr(_slo_select.select_items(select, want)) == repr(jmespath.search(select, reference))
    assert [e.calls for e in want["r"][:2]] == [e.calls for e in reference["r"][:2]]
    assert want["r"][2]["record"].calls == reference["r"][2]["record"].calls


def test_the_shipped_kind_of_chain_is_one_function_under_its_first_field():
    """Bug: the chain under one first field never taken (the speed lost, nothing else would show it)."""
    fast = _slo_select._selector("records[?record.unit == 's' && !ends_with(record.name, '/total')]")[0]
    assert fast.__closure__ is not None
    keep = [cell.cell_contents for cell in fast.__closure__ if callable(cell.cell_contents)
            and getattr(cell.cell_contents, "__name__", "") == "every_true_under"]
    assert keep, "the filter does not test its condition with every_true_under"


# --------------------------------------------------------------------------- verdicts

def reference_evaluate_one(objective, results_doc):
    """``_slo_eval.evaluate_one`` as it was before its fast paths (commit 1ccb797), jmespath's interpreter
    selecting: what the fast code must give, reasons and errors included."""
    ev = _slo_eval
    if not isinstance(results_doc, dict):
        return ev._outcome(objective, None, "fail", "the results document is %s, not a mapping" % ev._kind(results_doc), 0)
    select = objective.get("select")
    try:
        found = _slo_select.select_items(select, results_doc, False)
    except (ev.JMESPathError, TypeError, ValueError, RecursionError) as exc:
        return ev._outcome(objective, None, "fail", "selection %s failed: %s" % (ev.excerpt(select), ev.describe_error(exc)), 0)
    if found is None or found == []:
        return ev._outcome(objective, None, "fail", "no measurement matched the selection %s" % ev.excerpt(select), 0)
    if not isinstance(found, list):
        found = [found]
    items = [ev._item(entry) for entry in found]
    for index, (kind, dummy, label) in enumerate(items):
        if kind is None:
            return ev._outcome(objective, None, "fail", "selected item %d is %s" % (index, label), len(items))
    if objective.get("statistic") == "success_ratio":
        outcome, reason = _reference_success(objective, items)
    elif objective.get("statistic") in ev.LATENCY_STATISTICS:
        outcome, reason = _reference_latency(objective, items)
    else:
        outcome, reason = None, "unknown statistic %s" % ev._short(objective.get("statistic"))
    if outcome is None:
        return ev._outcome(objective, None, "fail", reason, len(items))
    return ev._outcome(objective, outcome[0], outcome[1], reason, len(items))


def _reference_counts(payload):
    samples, failures = payload.get("samples"), payload.get("failures")
    if not isinstance(samples, list) or not all(_slo_eval._number(sample) for sample in samples):
        return None
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
        return None
    return len(samples), len(samples) + failures


def _reference_success(objective, items):
    ev = _slo_eval
    good = total = unknown = 0
    for kind, payload, entry in items:
        if kind == "probe":
            total += 1
            if payload.get("ok") is True:
                good += 1
            elif payload.get("ok") is not False:
                unknown += 1
            continue
        counts = _reference_counts(payload)
        if counts is None:
            return None, "%s has no samples list of numbers and failures count" % ev._label_of(entry)
        good += counts[0]
        total += counts[1]
    if total == 0:
        return None, "the %d selected item%s hold no counted run or probe" % (len(items), "" if len(items) == 1 else "s")
    ratio = good / float(total)
    status = "pass" if ratio >= objective["target"] else "fail"
    reason = "%d of %d runs and probes succeeded (%s%%, target at least %s%%)" % (
        good, total, ev._fmt(ratio * 100), ev._fmt(objective["target"] * 100))
    if unknown:
        reason += "; %d probe%s without a boolean ok counted as failed" % (unknown, "" if unknown == 1 else "s")
    return (ratio, status), reason


def _reference_compares(figure, op, value):
    return {"lt": figure < value, "lte": figure <= value, "gt": figure > value, "gte": figure >= value}[op]


def _reference_latency(objective, items):
    ev = _slo_eval
    statistic, op, unit, threshold = objective["statistic"], objective["op"], objective["unit"], objective["value"]
    figures = []
    for kind, payload, entry in items:
        if kind != "record":
            return None, "%s is a probe result; statistic %s needs records" % (ev._label_of(entry), statistic)
        stats = payload.get("stats")
        figure = stats.get(statistic) if isinstance(stats, dict) else None
        if not ev._number(figure):
            return None, "%s has no %s (stats.%s is %s: no successful run to measure)" % (
                ev._label_of(entry), statistic, statistic, ev._short(figure))
        rec_unit = payload.get("unit")
        if rec_unit != unit:
            if rec_unit in ev.TIME_UNITS and unit in ev.TIME_UNITS:
                figure = figure * ev.TIME_UNITS[rec_unit] / ev.TIME_UNITS[unit]
            else:
                return None, "%s is in %s, the objective in %s" % (ev._label_of(entry), ev._short(rec_unit), unit)
        figures.append((figure, entry))
    figures.sort(key=lambda pair: pair[0], reverse=op in ("gt", "gte"))
    needed = max(1, int(ev.math.ceil(objective["target"] * len(figures) - ev._COUNT_EPSILON)))
    good = sum(1 for figure, dummy in figures if _reference_compares(figure, op, threshold))
    figure, deciding = figures[needed - 1]
    worst_figure, worst = figures[-1]
    status = "pass" if _reference_compares(figure, op, threshold) else "fail"
    reason = "%d of %d selected records have %s %s %s %s (%d needed, target %s%%); worst %s at %s %s" % (
        good, len(figures), statistic, ev.OPS[op], ev._fmt(threshold), unit, needed, ev._fmt(objective["target"] * 100),
        ev._label_of(worst), ev._fmt(worst_figure), unit)
    if needed < len(figures):
        reason += "; deciding record %s at %s %s" % (ev._label_of(deciding), ev._fmt(figure), unit)
    return (figure, status), reason


# Sample lists: the usual floats, and each way a list stops being one (an inf or a nan, finite floats whose sum
# overflows, ints, bools, a huge int, a float subclass, a string, a null, a nested list, an empty list).
class Half(float):
    """A float subclass (not the usual list, still a number)."""


SAMPLES = [[0.5, 0.25], [0.05] * 10, [1.0], [], [float("inf"), 0.1], [0.1, float("-inf")], [float("nan")],
           [float("inf"), float("-inf")], [1e308, 1e308], [-1e308, -1e308, 1e308], [1, 2], [0.5, 2], [True, 0.5],
           [False], [2 ** 60, 0.5], [2 ** 53], [Half(0.5)], [Half("inf")], ["0.5"], [None], [[0.5]], [0.5, {}],
           None, "0.5", 3, {"0": 0.5}]
FAILURES = [0, 2, -1, True, False, 1.0, None, "1", 2 ** 70, collections.Counter]
FIGURES = [0.05, 0.5, 1.0, 1, 2, 0, -0.0, 5, 0.7, float("inf"), float("nan"), True, None, "0.5", 2 ** 60, Half(0.5)]
UNITS = ["s", "ms", "us", "ns", "h", None, 1]


def _record(rng):
    figure = rng.choice(FIGURES)
    rec = {"name": rng.choice(["m1", "kpt_render/total", "n@cold"]), "unit": rng.choice(UNITS + ["s"] * 6),
           "samples": rng.choice(SAMPLES[:4] * 6 + SAMPLES), "failures": rng.choice(FAILURES[:2] * 6 + FAILURES),
           "stats": rng.choice([{"median": figure, "p95": rng.choice(FIGURES[:9]), "mean": 0.5, "max": figure}] * 6
                               + [{"median": figure}, None, [], "x", {}]),
           "component": rng.choice(["git", "probe", "kpt_render"]), "context": {"host": rng.choice(["edge1", ""])}}
    return rec


def _entry(rng):
    shape = rng.randrange(20)
    if shape < 12:
        return {"host": "h", "record": _record(rng)}
    if shape == 12:
        return _record(rng)  # a record as it is (samples and stats at the top)
    if shape == 13:
        return {"host": "h", "result": {"site": "e", "service": "ssh", "ok": rng.choice([True, False, None, 1, "yes"])}}
    if shape == 14:
        return {"ok": rng.choice([True, False, 0]), "service": "ssh", "site": "e"}
    if shape == 15:
        return collections.OrderedDict(host="h", record=_record(rng))
    if shape == 16:
        return {"host": "h", "record": collections.OrderedDict(_record(rng))}
    if shape == 17:
        return {"record": rng.choice([None, [], "x", 3])}
    return rng.choice([None, 3, "x", [], {}, [{"record": {}}]])


def _verdict_documents():
    rng = random.Random(4242)
    docs = []
    for index in range(160):
        size = rng.choice([1, 2, 3, 5, 8, 30])
        clean = index % 2 == 0  # half of them usual records only, where the fast paths decide alone
        records = [{"host": "h", "record": _record(rng)} if clean else _entry(rng) for dummy in range(size)]
        if clean:
            for entry in records:
                entry["record"].update(samples=rng.choice(SAMPLES[:4] + SAMPLES[:16]), unit="s",
                                       failures=rng.choice([0, 0, 1, 3]),
                                       stats={s: rng.choice(FIGURES[:9]) for s in ("median", "p95", "mean", "max")})
        docs.append({"records": records, "probes": [_entry(rng) for dummy in range(rng.choice([0, 1, 4]))]})
    docs += [{"records": [{"record": {"samples": s, "failures": f, "unit": "s", "stats": {"median": 0.5}, "name": "m"}}]}
             for s in SAMPLES for f in FAILURES]
    return docs


def _objective(select, statistic, op="lt", value=0.5, target=1.0, unit="s"):
    return {"name": "o", "display_name": "O", "objective": "obj", "description": "", "select": select,
            "statistic": statistic, "op": op, "value": value, "target": target, "unit": unit}


OBJECTIVES = [_objective(select, "success_ratio", target=target)
              for select in ("records", "records[?record.component != 'probe']", "probes", "records[*]")
              for target in (0.995, 1.0, 0.5)]
OBJECTIVES += [_objective(select, statistic, op, value, target, unit)
               for select in ("records", "records[?record.unit == 's' && !contains(record.name, '@cold')]")
               for statistic in ("median", "p95")
               for op in ("lt", "lte", "gt", "gte")
               for value in (0.5, 1, 0.05)  # thresholds that figures meet exactly: lt against lte tells
               for target in (1.0, 0.5)
               for unit in ("s", "ms")]
# objectives no file would give (load_objectives refuses them): a comparison of a number with a string raises
# its TypeError, an unknown op its KeyError, a boolean threshold compares as 1, an unknown statistic fails
ODD_OBJECTIVES = [_objective("records", "median", "gt", "0.5"), _objective("records", "median", "lte", None),
                  _objective("records", "median", "le", 0.5), _objective("records", "median", ["lt"], 0.5),
                  _objective("records", "median", "gte", True), _objective("records", "median", "lt", 2 ** 60),
                  _objective("records", "median", "lt", Half(0.5)), _objective("records", "mode", "lt", 0.5),
                  _objective("records", "success_ratio", target="1")]


def _verdict(func, objective, doc):
    return repr(_outcome(lambda: func(objective, doc)))


@pytest.mark.parametrize("index", range(len(OBJECTIVES)))
def test_verdicts_are_the_reference_verdicts_on_hostile_documents(index):
    """Bugs in the fast verdicts: a record counted that _counts refuses (an inf, a nan, a bool, a huge int, a
    negative or boolean failures count) or refused that it counts (an overflowing sum of finite floats, ints, a
    float subclass), runs counted twice or not at all, lt taken for lte (thresholds met exactly), the best-first
    order or the deciding record changed, the first item that is neither a record nor a probe not the one
    named (or one of the others), a probe taken for a record."""
    objective = OBJECTIVES[index]
    passed = failed = 0
    for doc in _verdict_documents():
        got = _verdict(_slo_eval.evaluate_one, objective, doc)
        assert got == _verdict(reference_evaluate_one, objective, doc), (objective, doc)
        passed += "'pass'" in got
        failed += "'fail'" in got
    assert passed and failed, "the documents must reach both verdicts: a constant one would pass otherwise"


@pytest.mark.parametrize("objective", ODD_OBJECTIVES, ids=repr)
def test_odd_objectives_fail_or_raise_as_before(objective):
    """Bug: the one-comparison count taking a threshold it cannot compare (a string: the TypeError must be the
    one _compares raises first, of <, whatever the op), an unknown op failing elsewhere or earlier, a
    boolean or huge or float-subclass threshold counted differently."""
    raised = 0
    for doc in _verdict_documents()[::3]:
        got = _verdict(_slo_eval.evaluate_one, objective, doc)
        assert got == _verdict(reference_evaluate_one, objective, doc), (objective, doc)
        raised += got.startswith("('error'")
    if objective["op"] in ("le", ["lt"]) or objective["value"] in ("0.5", None):
        assert raised, "these objectives must reach their error"


def test_items_are_the_items_of_item_and_the_first_bad_one_is_named():
    """Bug: ``_items`` giving a record where ``_item`` gives a probe or nothing (a dict subclass, a record that
    is not a mapping, a flat record), or naming another bad item than the first."""
    rng = random.Random(7)
    for dummy in range(400):
        found = [_entry(rng) for dummy in range(rng.choice([1, 3, 10]))]
        items, bad = _slo_eval._items(found)
        want = [_slo_eval._item(entry) for entry in found]
        assert items == want
        assert all(a[1] is b[1] for a, b in zip(items, want))  # the same payload, not an equal copy
        firsts = [index for index, item in enumerate(want) if item[0] is None]
        assert bad == (firsts[0] if firsts else None)


@pytest.mark.parametrize("op", ["lt", "lte", "gt", "gte"])
def test_the_usual_records_take_the_fast_paths(monkeypatch, op):
    """Bugs that no verdict shows, only the cost of 10,000 records: the usual record sent through ``_item`` one
    call each, its runs through ``_counts``, its figures through ``_compares`` (a renamed op in ``_ORDERS``, a
    condition of a fast path inverted or dropped). The reference functions are counted; the verdicts must still
    be the reference verdicts."""
    rng = random.Random("usual-%s" % op)
    doc = {"records": [{"host": "h", "record": {
        "name": "m%d" % i, "unit": "s", "component": "git", "samples": [rng.uniform(0.1, 0.9) for dummy in range(5)],
        "failures": rng.choice([0, 0, 2]), "stats": {"median": rng.uniform(0.1, 0.9), "p95": rng.uniform(0.1, 0.9)},
        "context": {"host": "h"}}} for i in range(50)], "probes": []}
    objectives = [_objective("records", "success_ratio", target=0.5), _objective("records", "median", op, 0.5, 0.5)]
    expected = [_verdict(reference_evaluate_one, objective, doc) for objective in objectives]
    calls = collections.Counter()
    for name in ("_item", "_counts", "_compares"):
        original = getattr(_slo_eval, name)

        def counted(*args, _name=name, _original=original):
            calls[_name] += 1
            return _original(*args)
        monkeypatch.setattr(_slo_eval, name, counted)
    assert [_verdict(_slo_eval.evaluate_one, objective, doc) for objective in objectives] == expected
    assert calls["_item"] == 0 and calls["_counts"] == 0
    assert calls["_compares"] <= 2  # the deciding figure's status, not one call per record
