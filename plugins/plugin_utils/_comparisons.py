# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Which measurements a report compares, how, and what a change of load does to the verdicts.

Controller only (``perf_report``). Given the records of this run and of a baseline (both as
``{(name, host): item}``), ``plan`` returns one comparison entry per measurement:

* **sequential** entries (a record in the baseline and in this run, matched by name and host)
  use ``_compare.compare`` (U test, bootstrap interval of the ratio of medians, threshold);
  per-package records measured under different concurrency are "not comparable";
* **control** entries (component ``control``, or named by ``untouched``) are compared the same
  way but never get a faster or slower verdict: "control steady" or "control moved";
* **host state** (load, steal, frequency) is shown, never judged;
* **interleaved** entries come from pairs of records of this run that carry ``context.pair``
  (the same session and id, sides ``a`` and ``b``) and use ``_verdicts.paired_compare`` on
  the rounds both sides completed;
* when any control moved, every sequential verdict is held as "environment changed"
  (``_verdicts.hold``); interleaved verdicts stand, since the load hit both sides alike.

``regression_threshold`` gives a per-measurement practical threshold (fnmatch pattern ->
share) that replaces the report's threshold for the names it matches; ``regressions`` lists
the entries a regression gate fails on. ``resolve_baseline`` finds a baseline by path, run id
or ``latest`` among the reports in ``dest``.
"""

from __future__ import annotations

import fnmatch
import os

from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare, _fast_stats, _report_parallel
from ansible_collections.o2edge.perf.plugins.plugin_utils import _verdicts

ENVIRONMENT_CHANGED = _verdicts.ENVIRONMENT_CHANGED
CONTROL_STEADY = "control steady"
CONTROL_MOVED = "control moved"
HOST_STATE = "host state"
VERDICTS = ("faster", "slower", "no clear change", "not enough samples", "not comparable",
            _verdicts.ENVIRONMENT_CHANGED, CONTROL_STEADY, CONTROL_MOVED, HOST_STATE)
MAX_THRESHOLD_PATTERNS = 200


class PlanError(ValueError):
    """A bad comparison parameter (the message names it)."""


def _text(value):
    return "" if value is None else str(value)


def check_untouched(value, field="untouched"):
    """The list of component names / name patterns, checked."""
    if value is None:
        return []
    if not isinstance(value, (list, tuple)) or len(value) > MAX_THRESHOLD_PATTERNS:
        raise PlanError("%s: a list of at most %d component names or name patterns" % (field, MAX_THRESHOLD_PATTERNS))
    for i, item in enumerate(value):
        if not isinstance(item, str) or not item or len(item) > 200:
            raise PlanError("%s[%d]: a non-empty pattern of at most 200 characters" % (field, i))
    return list(value)


def check_thresholds(value, field="regression_threshold"):
    """{pattern: share} checked: each share a number in (0, 1)."""
    if value is None:
        return {}
    if not isinstance(value, dict) or len(value) > MAX_THRESHOLD_PATTERNS:
        raise PlanError("%s: a mapping of at most %d name patterns to shares (0.10 = 10%%)"
                        % (field, MAX_THRESHOLD_PATTERNS))
    out = {}
    for i, (pattern, share) in enumerate(sorted(value.items(), key=lambda kv: str(kv[0]))):
        if not isinstance(pattern, str) or not pattern or len(pattern) > 200:
            raise PlanError("%s: key %d must be a non-empty name pattern of at most 200 characters" % (field, i + 1))
        if isinstance(share, bool) or not isinstance(share, (int, float)) or not 0 < share < 1:
            raise PlanError("%s[%s]: must be a share between 0 and 1 (0.10 = 10%%)" % (field, pattern))
        out[pattern] = float(share)
    return out


def threshold_for(name, default, thresholds):
    """The practical threshold of measurement ``name``: the first matching pattern's (in sorted order), else default."""
    for pattern in sorted(thresholds):
        if fnmatch.fnmatchcase(name, pattern):
            return thresholds[pattern]
    return default


def _base_entry(item, record):
    return {"name": _text(record.get("name")), "host": _text(item.get("host")),
            "component": _text(record.get("component")), "unit": _text(record.get("unit"))}


def sequential(before_item, after_item, threshold, min_samples, role="sequential"):
    """One before/after entry for a measurement present on both sides (two passes, one after the other)."""
    return sequential_many([(before_item, after_item, threshold, role)], min_samples)[0]


def sequential_many(jobs, min_samples):
    """``sequential`` of each job ``(before_item, after_item, threshold, role)``, in order.

    The comparisons go to ``_compare.compare_many`` together (the bootstrap intervals of records of
    the same sizes are computed at once: the same figures as one by one). Records share their contexts
    (one host, the same versions): ``_compare.comparable`` is asked once per distinct pair of contexts
    (``_compare.context_key``).
    """
    # pylint: disable=unidiomatic-typecheck
    entries, pending, work = [], [], []
    contexts = {}
    for before_item, after_item, threshold, role in jobs:
        before, after = before_item["record"], after_item["record"]
        name, host, component, unit = after.get("name"), after_item.get("host"), after.get("component"), after.get("unit")
        unit = unit if type(unit) is str else _text(unit)  # (_text of each, without a call for the usual strings)
        entry = {"name": name if type(name) is str else _text(name), "host": host if type(host) is str else _text(host),
                 "component": component if type(component) is str else _text(component), "unit": unit,
                 "design": "sequential", "role": role, "comparable": True}
        entries.append(entry)
        before_ctx, after_ctx = before.get("context"), after.get("context")
        key = _compare.context_key(before_ctx, after_ctx)
        if key is None:
            ok, reason = _compare.comparable(before_ctx, after_ctx)
        else:
            found = contexts.get(key)
            if found is None:
                found = contexts[key] = _compare.comparable(before_ctx, after_ctx)
            ok, reason = found
        if ok:
            before_unit = before.get("unit")
            if (before_unit if type(before_unit) is str else _text(before_unit)) != unit:
                ok, reason = False, "unit %s before, %s after" % (_text(before_unit), unit)
        # (two contexts that are dicts without a concurrency have no concurrency problem: no call for them)
        if ok and role == "sequential" and not (type(before_ctx) is dict and type(after_ctx) is dict and
                                                before_ctx.get("concurrency") is None and
                                                after_ctx.get("concurrency") is None):
            problem = _verdicts.concurrency_problem(before_ctx, after_ctx)
            if problem:
                ok, reason = False, problem
        if not ok:
            entry.update(comparable=False, verdict="not comparable", reason="not comparable: %s" % _text(reason))
            continue
        pending.append(entry)
        work.append((before.get("samples") or [], after.get("samples") or [], _compare.higher_is_better(unit),
                     threshold))
    results = _compare.compare_many(work, min_samples=min_samples)
    for entry, result in zip(pending, results):
        if isinstance(result, _compare.CompareError):
            entry.update(comparable=False, verdict="not comparable", reason="not comparable: %s" % result)
            continue
        entry.update(result)
        role = entry["role"]
        if role == "control":
            entry["control_verdict"] = result["verdict"]
            if result["verdict"] in ("faster", "slower"):
                entry.update(verdict=CONTROL_MOVED, reason="Control moved (nothing under test touches it): %s"
                             % result["reason"])
            elif result["verdict"] == "no clear change":
                entry.update(verdict=CONTROL_STEADY, reason="Control steady: %s" % result["reason"])
        elif role == "host_state":
            entry.update(verdict=HOST_STATE, reason="Host state, shown, never judged: median %s before, %s after." % (
                _num(result.get("median_before")), _num(result.get("median_after"))))
    return entries


def sequential_split(jobs, min_samples):
    """``sequential_many(jobs, min_samples)``, its second half computed in a second process for a large report
    (``_report_parallel``; each entry depends on its own job only, and each half is as large as takes NumPy's
    path when the whole would: the same entries). NumPy, when used, is imported before the fork, once."""
    if not _report_parallel.worth_splitting(len(jobs), _fast_stats.MIN_TOTAL):
        return sequential_many(jobs, min_samples)
    half = len(jobs) // 2
    _fast_stats.numpy_module()
    _compare.prepare_plans(_common_sizes(jobs))
    worker = _report_parallel.start(lambda: sequential_many(jobs[half:], min_samples), "comparisons")
    if worker is None:
        return sequential_many(jobs, min_samples)
    with worker:
        first = sequential_many(jobs[:half], min_samples)
        return first + worker.result()


def _common_sizes(jobs):
    """The ``(n after, n before)`` sample counts of at least ``2 * MIN_GROUP`` jobs (enough for a NumPy group in
    each half of a split): the resample plans worth building before the fork."""
    # pylint: disable=unidiomatic-typecheck
    counts = {}
    for before_item, after_item, dummy, dummy in jobs:
        after, before = after_item["record"].get("samples"), before_item["record"].get("samples")
        if type(after) is list and type(before) is list:  # (anything else is refused by the comparison)
            sizes = (len(after), len(before))
            counts[sizes] = counts.get(sizes, 0) + 1
    return [sizes for sizes, count in counts.items() if count >= 2 * _fast_stats.MIN_GROUP and min(sizes) > 0]


def _num(value):
    return "unknown" if value is None else "%.4g" % value


def _pair_of(item):
    ctx = item["record"].get("context")
    pair = ctx.get("pair") if isinstance(ctx, dict) else None
    if not isinstance(pair, dict) or pair.get("side") not in ("a", "b") or not isinstance(pair.get("id"), str):
        return None
    return pair


def interleaved(a_item, b_item, threshold, min_samples):
    """One entry comparing side b with side a of an interleaved pair, round by round."""
    a, b = a_item["record"], b_item["record"]
    pa, pb = _pair_of(a_item), _pair_of(b_item)
    entry = dict(_base_entry(b_item, b), name=_text(pa["id"]), design="interleaved", role="paired", comparable=True,
                 label_a=_text(pa.get("label")), label_b=_text(pb.get("label")),
                 records=[_text(a.get("name")), _text(b.get("name"))])
    reason = None
    if _text(a.get("unit")) != entry["unit"]:
        reason = "unit %s on side a, %s on side b" % (_text(a.get("unit")), entry["unit"])
    elif not entry["name"].endswith("/total") and not entry["name"].endswith("/total@cold"):
        reason = _verdicts.concurrency_problem(a.get("context"), b.get("context"))
    if reason is None:
        try:
            result = _verdicts.paired_compare(
                a.get("samples") or [], pa.get("rounds") or [], b.get("samples") or [], pb.get("rounds") or [],
                higher_is_better=_compare.higher_is_better(entry["unit"]), threshold=threshold,
                min_pairs=max(2, min_samples))
        except _verdicts.VerdictError as exc:
            reason = str(exc)
    if reason is not None:
        entry.update(comparable=False, verdict="not comparable", reason="not comparable: %s" % reason)
        return entry
    entry.update(result)
    # the report's columns: before = side a, after = side b
    entry.update(median_before=result["median_a"], median_after=result["median_b"],
                 n_before=result["n_pairs"], n_after=result["n_pairs"])
    return entry


def pairs(current):
    """{(session, id, host): {'a': item, 'b': item}} of the paired records of this run."""
    groups = {}
    for (_name, host), item in current.items():
        pair = _pair_of(item)
        if pair is None:
            continue
        key = (_text(pair.get("session")), pair["id"], host)
        groups.setdefault(key, {})[pair["side"]] = item
    return groups


def plan(current, before, threshold=0.05, min_samples=6, untouched=(), thresholds=None):
    """(entries, by_key, summary) for this run's records ``current`` and the baseline's ``before``.

    ``by_key`` maps a record key of this run to its entry (the b side of a pair carries the pair's).
    """
    thresholds = thresholds or {}
    entries, by_key = [], {}
    paired_keys = set()
    for (session, pid, host), sides in sorted(pairs(current).items()):
        if "a" not in sides or "b" not in sides:
            continue
        b_key = (_text(sides["b"]["record"].get("name")), host)
        paired_keys.update([(_text(sides["a"]["record"].get("name")), host), b_key])
        entry = interleaved(sides["a"], sides["b"], threshold_for(pid, threshold, thresholds), min_samples)
        entries.append(entry)
        by_key[b_key] = entry
    jobs, keys = [], []
    for key, item in current.items():
        if key in paired_keys or key not in before:
            continue
        role = _verdicts.role_of(item["record"], untouched)
        if role == "paired":
            role = "sequential"  # a paired record also in the baseline: two passes of the same side
        jobs.append((before[key], item, threshold_for(key[0], threshold, thresholds), role))
        keys.append(key)
    seq = sequential_split(jobs, min_samples)
    by_key.update(zip(keys, seq))
    controls = [dict(e, verdict=e["control_verdict"]) for e in seq if "control_verdict" in e]
    drift = _verdicts.drift_state(controls)
    for i, entry in enumerate(seq):
        if entry["role"] == "sequential" and entry["comparable"]:
            held = _verdicts.hold(entry, drift)
            if held is not entry:
                seq[i] = held
                by_key[(entry["name"], entry["host"])] = held
    entries.extend(seq)
    summary = {
        "drift": drift,
        "interleaved": sorted(e["name"] for e in entries if e["design"] == "interleaved"),
        "sequential": sorted(e["name"] for e in entries if e["design"] == "sequential" and e["role"] == "sequential"),
        "controls": sorted(e["name"] for e in entries if e["role"] == "control"),
        "held": sorted(e["name"] for e in entries if e["verdict"] == _verdicts.ENVIRONMENT_CHANGED),
    }
    return entries, by_key, summary, paired_keys


def regressions(entries):
    """The entries a regression gate fails on: comparable, not held, called slower."""
    return [e for e in entries if e.get("comparable") and e.get("verdict") == "slower"]


def resolve_baseline(item, dest, index_reader, index=0):
    """The results file of baseline ``item``: a path, a run id or ``latest`` (the newest report in ``dest``)."""
    if not isinstance(item, str) or not item:
        raise PlanError("baseline[%d]: expected a path, a run id or 'latest'" % index)
    if item != "latest" and (os.path.sep in item or os.path.exists(item)):
        return item
    runs = index_reader(dest) if dest and os.path.isdir(dest) else []
    if item == "latest":
        chosen = sorted(runs, key=lambda r: (_text(r.get("generated_at")), _text(r.get("dir"))))[-1:] if runs else []
    else:
        chosen = [r for r in runs if item in (_text(r.get("run_id")), _text(r.get("dir")))][-1:]
    if not chosen:
        what = "no earlier report" if item == "latest" else "no file and no report with that run id"
        raise PlanError("baseline[%d]: %s in %s" % (index, what, dest) if item == "latest" else
                        "baseline[%d]: %s is %s in %s" % (index, item if len(item) <= 80 else item[:80] + "...",
                                                          what, dest))
    return os.path.join(dest, chosen[0]["dir"], "results.json")
