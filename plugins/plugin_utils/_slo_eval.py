# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Objectives (from ``_slo_schema``) checked against an ``o2edge.perf/results/v1`` document.

``evaluate(objectives, results_doc)`` gives one verdict per objective; missing data fails, never
passes: a selection that yields nothing, a record without figures or counts, a probe without a
boolean ``ok`` (a bad occurrence), a unit that does not match. Reasons name records and probes
by a bounded label and an evaluation error by its type (``_slo_select.describe_error``), never
by the data selected.
"""

from __future__ import annotations

import math
import operator

from ansible_collections.o2edge.perf.plugins.plugin_utils._slo_schema import (
    LATENCY_STATISTICS, OPS, TIME_UNITS, _kind, _number, _short)
from ansible_collections.o2edge.perf.plugins.plugin_utils._slo_select import (
    HAS_JMESPATH, JMESPathError, describe_error, excerpt, select_items)

# A deciding occurrence count of ceil(target * n) tolerates float noise (0.995 * 200 = 199.00000000000003).
_COUNT_EPSILON = 1e-9
_FLOATS = frozenset((float,))
_ORDERS = {"lt": operator.lt, "lte": operator.le, "gt": operator.gt, "gte": operator.ge}


def _label(*parts):
    return excerpt("".join(str(part) for part in parts))


def _item(entry):
    """``("record"|"probe", payload, entry)`` for one selected item, or ``(None, None, why)``. The item's label
    for a message (``_label_of(entry)``) is made only when a message names it."""
    if isinstance(entry, dict):
        if isinstance(entry.get("record"), dict):
            return "record", entry["record"], entry
        if isinstance(entry.get("result"), dict):
            return "probe", entry["result"], entry
        if "samples" in entry and "stats" in entry:
            return "record", entry, entry
        if "ok" in entry and "service" in entry:
            return "probe", entry, entry
    return None, None, "%s, neither a record nor a probe result" % _kind(entry)


def _items(found):
    """``[_item(entry) for entry in found]`` and the index of the first item that is neither (or None); a record
    of the usual ``{"record": {...}}`` form without a call per record."""
    items = []
    append = items.append
    bad = None
    for entry in found:
        if type(entry) is dict:  # pylint: disable=unidiomatic-typecheck
            payload = entry.get("record")
            if type(payload) is dict:  # pylint: disable=unidiomatic-typecheck
                append(("record", payload, entry))
                continue
        item = _item(entry)
        if item[0] is None and bad is None:
            bad = len(items)
        append(item)
    return items, bad


def _label_of(entry):
    """How a message names the selected ``entry`` (one ``_item`` took as a record or a probe result)."""
    if isinstance(entry.get("record"), dict):
        rec = entry["record"]
        ctx = rec.get("context") if isinstance(rec.get("context"), dict) else {}
        host = entry.get("host") or ctx.get("host")
        return _label(rec.get("name", "unnamed"), " on %s" % host if host else "")
    if isinstance(entry.get("result"), dict):
        res = entry["result"]
        host = entry.get("host")
        return _label("probe %s/%s" % (res.get("site"), res.get("service")), " from %s" % host if host else "")
    if "samples" in entry and "stats" in entry:
        ctx = entry.get("context") if isinstance(entry.get("context"), dict) else {}
        return _label(entry.get("name", "unnamed"), " on %s" % ctx["host"] if ctx.get("host") else "")
    return _label("probe %s/%s" % (entry.get("site"), entry.get("service")))


def _fmt(value):
    return "%.6g" % value


def _compares(figure, op, value):
    return {"lt": figure < value, "lte": figure <= value, "gt": figure > value, "gte": figure >= value}[op]


def _outcome(objective, value, status, reason, selected):
    return {
        "name": objective.get("name"), "display_name": objective.get("display_name"),
        "objective": objective.get("objective"),
        "description": objective.get("description", ""), "statistic": objective.get("statistic"),
        "op": objective.get("op"),
        "threshold": objective.get("target") if objective.get("statistic") == "success_ratio" else objective.get("value"),
        "target": objective.get("target"), "unit": objective.get("unit"),
        "value": value, "status": status, "reason": reason, "selected": selected,
    }


def _latency(objective, items):
    statistic, op, unit, threshold = objective["statistic"], objective["op"], objective["unit"], objective["value"]
    figures = []
    for kind, payload, entry in items:
        if kind != "record":
            return None, "%s is a probe result; statistic %s needs records" % (_label_of(entry), statistic)
        stats = payload.get("stats")
        figure = stats.get(statistic) if isinstance(stats, dict) else None
        if not (type(figure) is float and math.isfinite(figure)) and not _number(figure):  # pylint: disable=unidiomatic-typecheck
            return None, "%s has no %s (stats.%s is %s: no successful run to measure)" % (
                _label_of(entry), statistic, statistic, _short(figure))
        rec_unit = payload.get("unit")
        if rec_unit != unit:
            if rec_unit in TIME_UNITS and unit in TIME_UNITS:
                figure = figure * TIME_UNITS[rec_unit] / TIME_UNITS[unit]
            else:
                return None, "%s is in %s, the objective in %s" % (_label_of(entry), _short(rec_unit), unit)
        figures.append((figure, entry))
    # best first: ascending for an upper bound (lt, lte), descending for a lower bound (gt, gte)
    figures.sort(key=operator.itemgetter(0), reverse=op in ("gt", "gte"))
    needed = max(1, int(math.ceil(objective["target"] * len(figures) - _COUNT_EPSILON)))
    # a number against a number never raises: one comparison each, not _compares' four
    order = _ORDERS.get(op) if type(op) is str and type(threshold) in (int, float) else None  # pylint: disable=unidiomatic-typecheck
    if order is None:
        good = sum(1 for figure, dummy in figures if _compares(figure, op, threshold))
    else:
        good = sum(1 for figure, dummy in figures if order(figure, threshold))
    figure, deciding = figures[needed - 1]
    worst_figure, worst = figures[-1]
    status = "pass" if _compares(figure, op, threshold) else "fail"
    reason = "%d of %d selected records have %s %s %s %s (%d needed, target %s%%); worst %s at %s %s" % (
        good, len(figures), statistic, OPS[op], _fmt(threshold), unit, needed, _fmt(objective["target"] * 100),
        _label_of(worst), _fmt(worst_figure), unit)
    if needed < len(figures):
        reason += "; deciding record %s at %s %s" % (_label_of(deciding), _fmt(figure), unit)
    return (figure, status), reason


def _counts(payload):
    """``(good, all)`` runs of a record, or None when its samples or failures are missing or not numbers."""
    samples, failures = payload.get("samples"), payload.get("failures")
    if not isinstance(samples, list):
        return None
    if not (_FLOATS.issuperset(map(type, samples)) and all(map(math.isfinite, samples))) \
            and not all(_number(sample) for sample in samples):  # the usual list (finite floats) checked at once
        return None
    if isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
        return None
    return len(samples), len(samples) + failures


def _success(objective, items):
    good = total = unknown = 0
    for kind, payload, entry in items:
        if kind == "probe":
            total += 1
            if payload.get("ok") is True:
                good += 1
            elif payload.get("ok") is not False:
                unknown += 1  # no boolean ok: a bad occurrence, never a good one
            continue
        samples, failures = payload.get("samples"), payload.get("failures")
        # the usual record (floats only, a finite sum: then every sample is finite, an inf or a nan makes the
        # sum one) counted as _counts counts it, without the call; any other is _counts' to judge
        if type(samples) is list and type(failures) is int and failures >= 0 \
                and _FLOATS.issuperset(map(type, samples)) and math.isfinite(sum(samples)):  # pylint: disable=unidiomatic-typecheck
            good += len(samples)
            total += len(samples) + failures
            continue
        counts = _counts(payload)
        if counts is None:
            return None, "%s has no samples list of numbers and failures count" % _label_of(entry)
        good += counts[0]
        total += counts[1]
    if total == 0:
        return None, "the %d selected item%s hold no counted run or probe" % (len(items), "" if len(items) == 1 else "s")
    ratio = good / float(total)
    status = "pass" if ratio >= objective["target"] else "fail"
    reason = "%d of %d runs and probes succeeded (%s%%, target at least %s%%)" % (
        good, total, _fmt(ratio * 100), _fmt(objective["target"] * 100))
    if unknown:
        reason += "; %d probe%s without a boolean ok counted as failed" % (unknown, "" if unknown == 1 else "s")
    return (ratio, status), reason


def evaluate_one(objective, results_doc, compiled=True):
    """The outcome of one objective (see ``evaluate``)."""
    if not isinstance(results_doc, dict):
        return _outcome(objective, None, "fail", "the results document is %s, not a mapping" % _kind(results_doc), 0)
    select = objective.get("select")
    if not HAS_JMESPATH:
        return _outcome(objective, None, "fail", "jmespath is not installed (pip install jmespath)", 0)
    try:
        found = select_items(select, results_doc, compiled)
    except (JMESPathError, TypeError, ValueError, RecursionError) as exc:
        return _outcome(objective, None, "fail", "selection %s failed: %s" % (excerpt(select), describe_error(exc)), 0)
    if found is None or found == []:
        return _outcome(objective, None, "fail", "no measurement matched the selection %s" % excerpt(select), 0)
    if not isinstance(found, list):
        found = [found]
    items, bad = _items(found)
    if bad is not None:
        return _outcome(objective, None, "fail", "selected item %d is %s" % (bad, items[bad][2]), len(items))
    if objective.get("statistic") == "success_ratio":
        outcome, reason = _success(objective, items)
    elif objective.get("statistic") in LATENCY_STATISTICS:
        outcome, reason = _latency(objective, items)
    else:
        outcome, reason = None, "unknown statistic %s" % _short(objective.get("statistic"))
    if outcome is None:
        return _outcome(objective, None, "fail", reason, len(items))
    return _outcome(objective, outcome[0], outcome[1], reason, len(items))


def evaluate(objectives, results_doc, compiled=True):
    """Check every objective against an ``o2edge.perf/results/v1`` document.

    Returns a list of dicts: name, display_name, description, statistic, op, threshold (the
    objective's value; for success_ratio its target), target, unit, value (None when nothing
    could be measured), status (``pass`` or ``fail``), reason and selected (records and probe
    results the selection yielded). Missing data fails, never passes. ``compiled=False`` selects
    with jmespath's interpreter only (for bench/bench_slo.py).
    """
    return [evaluate_one(objective, results_doc, compiled) for objective in objectives]
