# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Verdicts that survive a change of load: paired (interleaved) comparisons and drift controls.

Controller only (the report). docs/statistics.md, "Verdicts on a noisy machine", explains the
design; in short:

* **Paired comparison** (``paired_compare``): when configuration A and configuration B were
  measured interleaved in one window (rounds ABBA...), round ``i`` gives the ratio
  ``r_i = b_i / a_i``. A load change hits both sides of a round alike and cancels in the ratio.
  The test is the **Wilcoxon signed-rank test** on ``log r_i`` (two-sided; zero differences
  dropped, as SciPy's ``zero_method='wilcox'``): the exact null distribution when at most
  ``EXACT_MAX_PAIRS`` pairs remain, none was zero and no two ``|log r_i|`` tie; with ties or zeros and at most 13 differences, every
  sign assignment of the ranks (SciPy's permutation test); else the normal approximation with the
  tie correction (no continuity correction): ``scipy.stats.wilcoxon(method='auto')`` of SciPy 1.17.1.
  The interval is a seeded bootstrap percentile interval of the **median paired ratio**
  (rounds resampled with replacement). The verdict is faster or slower only when the test
  (p < 1 - confidence), the interval (excludes 1) and the practical threshold agree, with at
  least ``min_pairs`` pairs.
* **Drift** (``drift_state``): a sequential before/after (two passes one after the other) is
  valid only if the machine did not change between the passes. Each pass measures controls that
  the change under test cannot touch (a CPU calibration loop, a file read, a git operation, ...).
  When any control's own before/after comparison says faster or slower (the same three
  criteria), every *sequential* verdict of that comparison is held as ``environment changed``,
  naming the control and its figure; interleaved verdicts stand (the load hit both sides).
* **Roles** (``role_of``): a measurement is a *control* (component ``control``, or named in the
  operator's ``untouched`` list: things the change cannot touch never get a faster/slower
  verdict, they are reported as steady or moved), *host state* (load, steal, frequency:
  reported, never a verdict), *paired* (``context.pair``), or *sequential*.
* **Like with like** (``concurrency_problem``): a per-package latency measured with 1 render at
  a time and with 4 at once is not the same quantity; such a pair is "not comparable".

Standard library only, but for NumPy when it is installed (``_fast_stats``: the bootstrap of the
paired ratios as arrays, the same floats).
"""

from __future__ import annotations

import fnmatch
import math
import random

from ansible_collections.o2edge.perf.plugins.plugin_utils import _fast_stats

EXACT_MAX_PAIRS = 50
# With ties or zeros and at most this many differences: an exact permutation test over every sign assignment.
PERMUTATION_MAX = 13
ENVIRONMENT_CHANGED = "environment changed"
CONTROL_COMPONENTS = ("control",)
HOST_STATE_COMPONENTS = ("host_state",)
THRESHOLD_EPSILON = 1e-12
_MAX_PAIRS = 100000


class VerdictError(ValueError):
    """Bad input to a paired comparison (the message names the side, index or parameter)."""


def _num(value):
    return "%.4g" % value


def _finite_positive(values, side):
    out = []
    for i, v in enumerate(values):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v):
            raise VerdictError("%s[%d] is not a finite number" % (side, i))
        out.append(float(v))
    return out


def pair_up(a_samples, a_rounds, b_samples, b_rounds):
    """[(round, a, b)] for every round present on both sides, in round order.

    ``*_rounds`` give the round index of each sample (aligned with the samples); a round that
    failed on one side is left out of both. VerdictError when the lists do not align.
    """
    a = _finite_positive(a_samples, "a samples")
    b = _finite_positive(b_samples, "b samples")
    for name, samples, rounds in (("a", a, a_rounds), ("b", b, b_rounds)):
        if not isinstance(rounds, (list, tuple)) or len(rounds) != len(samples):
            raise VerdictError("%s rounds must be a list as long as its samples (%d)" % (name, len(samples)))
        if len(rounds) > _MAX_PAIRS:
            raise VerdictError("%s has more than %d rounds" % (name, _MAX_PAIRS))
        for i, r in enumerate(rounds):
            if isinstance(r, bool) or not isinstance(r, int) or r < 0:
                raise VerdictError("%s rounds[%d] must be a non-negative integer" % (name, i))
        if len(set(rounds)) != len(rounds):
            raise VerdictError("%s rounds repeat a round index" % name)
    b_of = dict(zip(b_rounds, b))
    return [(r, x, b_of[r]) for r, x in sorted(zip(a_rounds, a)) if r in b_of]


def _normal_sf(z):
    return 0.5 * math.erfc(z / math.sqrt(2.0))


def _signed_rank_counts(n):
    """counts[w] = number of subsets of {1..n} whose sum is w (the exact null of W+)."""
    top = n * (n + 1) // 2
    counts = [1] + [0] * top
    for k in range(1, n + 1):
        for w in range(k * (k + 1) // 2, k - 1, -1):
            counts[w] += counts[w - k]
    return counts


def _ranks(values):
    """Average ranks (1-based) of ``values`` and the tie group sizes."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + j) / 2.0 + 1.0
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        if j > i:
            ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def signed_rank_test(differences):
    """Two-sided Wilcoxon signed-rank test: dict(n, w_plus, p_value, method). Zeros are dropped."""
    d = [x for x in differences if x != 0.0]
    zeros = len(differences) - len(d)
    n = len(d)
    if n == 0:
        return {"n": 0, "w_plus": 0.0, "p_value": 1.0, "method": "none"}
    ranks, ties = _ranks([abs(x) for x in d])
    w_plus = sum(r for r, x in zip(ranks, d) if x > 0)
    if n <= EXACT_MAX_PAIRS and not ties and not zeros:
        counts = _signed_rank_counts(n)
        total = float(2 ** n)
        w = int(round(w_plus))
        low = sum(counts[:w + 1]) / total
        high = sum(counts[w:]) / total
        return {"n": n, "w_plus": w_plus, "p_value": min(1.0, 2.0 * min(low, high)), "method": "exact"}
    if len(differences) <= PERMUTATION_MAX:
        # Ties or zeros with few pairs: every sign assignment of the ranks, as SciPy's permutation test.
        less = greater = 0
        tol = 1e-9 * max(1.0, abs(w_plus))
        for mask in range(2 ** n):
            t = sum(r for k, r in enumerate(ranks) if mask >> k & 1)
            less += t <= w_plus + tol
            greater += t >= w_plus - tol
        total = float(2 ** n)
        return {"n": n, "w_plus": w_plus, "p_value": min(1.0, 2.0 * min(less, greater) / total),
                "method": "permutation"}
    mean = n * (n + 1) / 4.0
    var = n * (n + 1) * (2 * n + 1) / 24.0 - sum(t ** 3 - t for t in ties) / 48.0
    if var <= 0:
        return {"n": n, "w_plus": w_plus, "p_value": 1.0, "method": "approx"}
    z = (w_plus - mean) / math.sqrt(var)
    return {"n": n, "w_plus": w_plus, "p_value": min(1.0, 2.0 * _normal_sf(abs(z))), "method": "approx"}


def _median(values):
    s = sorted(values)
    n = len(s)
    mid = n // 2
    return s[mid] if n % 2 else (s[mid - 1] + s[mid]) / 2.0


def _percentile(sorted_values, q):
    n = len(sorted_values)
    if n == 1:
        return sorted_values[0]
    h = (n - 1) * q
    lo = int(math.floor(h))
    hi = min(lo + 1, n - 1)
    return sorted_values[lo] + (h - lo) * (sorted_values[hi] - sorted_values[lo])


def bootstrap_median_ratio(ratios, confidence=0.95, resamples=2000, seed=0):
    """Percentile interval [lo, hi] of the median of ``ratios``, rounds resampled with replacement.

    With NumPy the same draws (``random.Random(seed)``'s Mersenne Twister state handed to NumPy,
    which makes the same doubles) and the same medians are computed as arrays
    (``_fast_stats.median_resamples``); without it, one by one.
    """
    rng = random.Random(seed)
    n = len(ratios)
    meds = _fast_stats.median_resamples(rng, ratios, resamples) if n else None
    if meds is None:
        meds = sorted(_median([ratios[int(rng.random() * n)] for _i in range(n)]) for _j in range(resamples))
    return [_percentile(meds, (1.0 - confidence) / 2.0), _percentile(meds, (1.0 + confidence) / 2.0)]


def _check_params(threshold, min_pairs, confidence, resamples):
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold < 1:
        raise VerdictError("threshold must be a number in [0, 1), got %r" % (threshold,))
    if isinstance(min_pairs, bool) or not isinstance(min_pairs, int) or min_pairs < 2:
        raise VerdictError("min_pairs must be an integer >= 2, got %r" % (min_pairs,))
    if isinstance(confidence, bool) or not isinstance(confidence, (int, float)) or not 0.5 <= confidence < 1:
        raise VerdictError("confidence must be a number in [0.5, 1), got %r" % (confidence,))
    if isinstance(resamples, bool) or not isinstance(resamples, int) or not 100 <= resamples <= 1000000:
        raise VerdictError("resamples must be an integer between 100 and 1000000, got %r" % (resamples,))


def paired_compare(a_samples, a_rounds, b_samples, b_rounds, higher_is_better=False, threshold=0.05,
                   min_pairs=6, confidence=0.95, resamples=2000, seed=0):
    """Compare configuration B with configuration A measured interleaved, round by round.

    Returns dict(design='interleaved', n_pairs, median_a, median_b, ratio (median of b_i / a_i),
    ci, change_pct, w_plus, p_value, method, verdict, reason), verdict one of faster, slower,
    no clear change, not enough samples. Rounds missing on either side are left out of both.
    """
    _check_params(threshold, min_pairs, confidence, resamples)
    pairs = pair_up(a_samples, a_rounds, b_samples, b_rounds)
    usable = [(r, x, y) for r, x, y in pairs if x > 0 and y > 0]
    result = {
        "design": "interleaved", "n_pairs": len(usable),
        "median_a": _median([x for _r, x, _y in usable]) if usable else None,
        "median_b": _median([y for _r, _x, y in usable]) if usable else None,
        "ratio": None, "ci": None, "change_pct": None, "w_plus": None, "p_value": None, "method": None,
        "verdict": "not enough samples", "reason": "",
    }
    dropped = len(pairs) - len(usable)
    if len(usable) < min_pairs:
        result["reason"] = ("%d paired round%s (%d needed to call a change)%s." % (
            len(usable), "" if len(usable) == 1 else "s", min_pairs,
            "; %d round%s with a non-positive figure left out" % (dropped, "" if dropped == 1 else "s")
            if dropped else ""))
        return result
    ratios = [y / x for _r, x, y in usable]
    logs = [math.log(q) for q in ratios]
    test = signed_rank_test(logs)
    ratio = _median(ratios)
    lo, hi = bootstrap_median_ratio(ratios, confidence, resamples, seed)
    result.update(ratio=ratio, ci=[lo, hi], change_pct=(ratio - 1.0) * 100.0, w_plus=test["w_plus"],
                  p_value=test["p_value"], method=test["method"], verdict="no clear change")
    alpha = round(1.0 - confidence, 12)
    up = ratio > 1.0
    better = up if higher_is_better else not up
    failed = []
    if not test["p_value"] < alpha:
        failed.append("the signed-rank test is not significant (p = %s, needs < %s)" % (_num(test["p_value"]),
                                                                                        _num(alpha)))
    if not ((lo > 1.0) if up else (hi < 1.0)):
        failed.append("the %s%% interval of the paired ratio [%s, %s] does not exclude 1 on the side of the "
                      "change" % (_num(confidence * 100), _num(lo), _num(hi)))
    if not abs(ratio - 1.0) >= threshold - THRESHOLD_EPSILON:
        failed.append("the change of %+.2f%% is below the %s%% threshold" % ((ratio - 1.0) * 100.0,
                                                                             _num(threshold * 100)))
    if ratio == 1.0:
        failed = failed or ["the median paired ratio is 1"]
    if failed:
        result["reason"] = "No clear change (interleaved, %d pairs): %s." % (len(usable), "; ".join(failed))
        return result
    direction = "faster" if better else "slower"
    result["verdict"] = direction
    result["reason"] = ("%s (interleaved, %d pairs): median paired ratio %s (%+.2f%%), %s%% interval [%s, %s], "
                        "signed-rank p = %s." % (direction.capitalize(), len(usable), _num(ratio),
                                                 (ratio - 1.0) * 100.0, _num(confidence * 100), _num(lo), _num(hi),
                                                 _num(test["p_value"])))
    return result


# --------------------------------------------------------------------------- roles and drift

def _matches(record, patterns):
    name = record.get("name")
    component = record.get("component")
    for pattern in patterns or ():
        if component == pattern or (isinstance(name, str) and fnmatch.fnmatchcase(name, pattern)):
            return True
    return False


def role_of(record, untouched=()):
    """'control', 'host_state', 'paired' or 'sequential' for one record.

    ``untouched``: components or name patterns (fnmatch) of measurements the change under test
    cannot touch; they are controls.
    """
    component = record.get("component")
    if component in HOST_STATE_COMPONENTS:
        return "host_state"
    if component in CONTROL_COMPONENTS or _matches(record, untouched):
        return "control"
    ctx = record.get("context")
    if isinstance(ctx, dict) and isinstance(ctx.get("pair"), dict):
        return "paired"
    return "sequential"


def concurrency_problem(before_ctx, after_ctx):
    """A reason when the two sides were measured under different concurrency, else None."""
    cb = before_ctx.get("concurrency") if isinstance(before_ctx, dict) else None
    ca = after_ctx.get("concurrency") if isinstance(after_ctx, dict) else None
    if cb is None and ca is None:
        return None
    if cb != ca:
        return ("measured with %s running at once before and %s after: a latency under different concurrency is "
                "not the same quantity (compare the total instead)" % (cb if cb is not None else "unknown",
                                                                       ca if ca is not None else "unknown"))
    return None


def drift_state(control_comparisons):
    """dict(steady, moved, reason) from the before/after comparisons of the controls.

    ``control_comparisons``: [{name, verdict, change_pct, ci, ...}] as the sequential compare
    returns them. A control moved when its verdict is faster or slower (test, interval and
    threshold agree). With no control compared, the state is unknown (``steady`` None).
    """
    compared = [c for c in control_comparisons if c.get("verdict") in ("faster", "slower", "no clear change")]
    moved = [c for c in compared if c.get("verdict") in ("faster", "slower")]
    if not compared:
        return {"steady": None, "moved": [], "checked": [],
                "reason": "no control was measured on both sides: the machine's steadiness is unknown"}
    checked = sorted(c["name"] for c in compared)
    if moved:
        parts = []
        for c in sorted(moved, key=lambda c: c["name"]):
            ci = c.get("ci")
            parts.append("%s %+.1f%%%s" % (c["name"], c.get("change_pct") or 0.0,
                                           " [%s, %s]" % (_num(ci[0]), _num(ci[1])) if ci else ""))
        return {"steady": False, "moved": [c["name"] for c in moved], "checked": checked,
                "reason": "the machine changed between the passes, %s moved: %s" % (
                    "a control" if len(moved) == 1 else "%d controls" % len(moved), ", ".join(parts))}
    return {"steady": True, "moved": [], "checked": checked,
            "reason": "the machine was steady: %d control%s showed no clear change (%s)" % (
                len(checked), "" if len(checked) == 1 else "s", ", ".join(checked))}


def hold(comparison, drift):
    """The sequential ``comparison`` held when ``drift`` says the machine changed; else unchanged."""
    if drift.get("steady") is not False or comparison.get("verdict") not in ("faster", "slower", "no clear change"):
        return comparison
    held = dict(comparison)
    held["verdict_unheld"] = comparison.get("verdict")
    held["verdict"] = ENVIRONMENT_CHANGED
    held["reason"] = "Held: %s; a sequential before/after cannot tell that from the change (it said: %s)" % (
        drift["reason"], comparison.get("verdict"))
    return held
