"""Verdicts that survive a change of load: the paired test, the drift hold, roles, like with like."""
import json
import math
import os
import random

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _verdicts as v

HERE = os.path.dirname(os.path.abspath(__file__))


def _fixtures():
    with open(os.path.join(HERE, "wilcoxon_fixtures.json")) as f:
        return json.load(f)


@pytest.mark.parametrize("case", _fixtures(), ids=lambda c: "n%d-%s" % (len(c["d"]), c["method"]))
def test_signed_rank_p_matches_scipy(case):
    # Fixtures made with scipy.stats.wilcoxon(d, zero_method='wilcox', method='auto', correction=False), SciPy 1.17.1:
    # exact, permutation (ties or zeros, n <= 13) and asymptotic cases.
    got = v.signed_rank_test(case["d"])
    assert got["method"] == case["method"]
    assert got["p_value"] == pytest.approx(case["p"], rel=1e-9)


def test_all_three_methods_are_covered_by_the_fixtures():
    assert {c["method"] for c in _fixtures()} == {"exact", "permutation", "approx"}


def _load_drift_rounds(n, effect, seed=3):
    """A and B interleaved; the machine gets 2x slower from the middle on, hitting both sides of a round."""
    rng = random.Random(seed)
    a, b = [], []
    for i in range(n):
        load = 1.0 if i < n // 2 else 2.0
        base = 1.0 * load
        a.append(base * (1 + rng.gauss(0, 0.01)))
        b.append(base * effect * (1 + rng.gauss(0, 0.01)))
    return a, b


def test_a_load_change_that_hits_both_sides_is_no_verdict():
    a, b = _load_drift_rounds(12, effect=1.0)
    got = v.paired_compare(a, list(range(12)), b, list(range(12)))
    assert got["verdict"] == "no clear change", got["reason"]
    assert got["design"] == "interleaved" and got["n_pairs"] == 12


def test_a_real_effect_is_called_under_the_same_load_change():
    a, b = _load_drift_rounds(12, effect=0.6)
    got = v.paired_compare(a, list(range(12)), b, list(range(12)))
    assert got["verdict"] == "faster", got["reason"]
    assert got["ratio"] == pytest.approx(0.6, rel=0.03)
    assert got["ci"][0] < 0.6 < got["ci"][1] or abs(got["ci"][1] - 0.6) < 0.02
    assert got["p_value"] < 0.05 and got["method"] == "exact"


def test_a_slowdown_is_slower_and_higher_is_better_flips_it():
    a, b = _load_drift_rounds(10, effect=1.5)
    assert v.paired_compare(a, list(range(10)), b, list(range(10)))["verdict"] == "slower"
    assert v.paired_compare(a, list(range(10)), b, list(range(10)), higher_is_better=True)["verdict"] == "faster"


def test_synthetic_drift_fools_the_sequential_test_and_the_control_holds_it():
    # Sequential passes: the first under load (2x), the second quiet; the lever changed nothing.
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare
    rng = random.Random(5)
    lever_before = [2.0 * (1 + rng.gauss(0, 0.02)) for _i in range(8)]
    lever_after = [1.0 * (1 + rng.gauss(0, 0.02)) for _i in range(8)]
    control_before = [0.2 * (1 + rng.gauss(0, 0.02)) for _i in range(8)]
    control_after = [0.1 * (1 + rng.gauss(0, 0.02)) for _i in range(8)]
    fooled = _compare.compare(lever_before, lever_after)
    assert fooled["verdict"] == "faster"  # what the report said before this design
    control = dict(_compare.compare(control_before, control_after), name="control/cpu_calibration")
    drift = v.drift_state([control])
    held = v.hold(dict(fooled, name="kpt_render/total"), drift)
    assert held["verdict"] == v.ENVIRONMENT_CHANGED


def test_a_real_effect_with_steady_controls_is_called():
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _compare
    rng = random.Random(6)
    lever_before = [2.0 * (1 + rng.gauss(0, 0.02)) for _i in range(8)]
    lever_after = [1.0 * (1 + rng.gauss(0, 0.02)) for _i in range(8)]
    control_before = [0.1 * (1 + rng.gauss(0, 0.02)) for _i in range(8)]
    control_after = [0.1 * (1 + rng.gauss(0, 0.02)) for _i in range(8)]
    control = dict(_compare.compare(control_before, control_after), name="control/cpu_calibration")
    drift = v.drift_state([control])
    assert drift["steady"] is True
    called = v.hold(dict(_compare.compare(lever_before, lever_after), name="kpt_render/total"), drift)
    assert called["verdict"] == "faster"


def test_rounds_pair_by_index_not_by_position():
    # Round 2 of A failed: its samples list is shorter; pairing by position would shift every later pair.
    a = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    a_rounds = [0, 1, 3, 4, 5, 6, 7]
    b = [0.5, 0.5, 9.0, 0.5, 0.5, 0.5, 0.5, 0.5]
    b_rounds = [0, 1, 2, 3, 4, 5, 6, 7]
    pairs = v.pair_up(a, a_rounds, b, b_rounds)
    assert [r for r, _x, _y in pairs] == [0, 1, 3, 4, 5, 6, 7]
    assert all(y == 0.5 for _r, _x, y in pairs)
    got = v.paired_compare(a, a_rounds, b, b_rounds)
    assert got["ratio"] == 0.5 and got["n_pairs"] == 7


def test_too_few_pairs_is_not_enough_samples():
    got = v.paired_compare([1.0] * 5, list(range(5)), [0.5] * 5, list(range(5)))
    assert got["verdict"] == "not enough samples" and "5 paired rounds (6 needed" in got["reason"]


def test_each_criterion_alone_blocks_a_verdict():
    # Below the threshold: a consistent 2% change is significant but not practical.
    a = [1.0 + 0.001 * i for i in range(10)]
    b = [x * 0.98 for x in a]
    got = v.paired_compare(a, list(range(10)), b, list(range(10)))
    assert got["verdict"] == "no clear change" and "below the 5% threshold" in got["reason"]
    assert got["p_value"] < 0.05
    # Not significant: ratios straddle 1.
    b2 = [x * (0.7 if i % 2 else 1.3) for i, x in enumerate(a)]
    got2 = v.paired_compare(a, list(range(10)), b2, list(range(10)))
    assert got2["verdict"] == "no clear change" and "not significant" in got2["reason"]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), "1", True, None])
def test_non_numbers_are_refused_naming_the_index(bad):
    with pytest.raises(v.VerdictError, match=r"b samples\[1\]"):
        v.paired_compare([1.0] * 3, [0, 1, 2], [1.0, bad, 1.0], [0, 1, 2])


def test_rounds_must_align_and_not_repeat():
    with pytest.raises(v.VerdictError, match="as long as its samples"):
        v.pair_up([1.0, 2.0], [0], [1.0], [0])
    with pytest.raises(v.VerdictError, match="repeat"):
        v.pair_up([1.0, 2.0], [0, 0], [1.0], [0])


def test_bootstrap_is_seeded_and_brackets_the_median():
    ratios = [0.5, 0.6, 0.55, 0.58, 0.52, 0.61, 0.57]
    one = v.bootstrap_median_ratio(ratios, seed=4)
    assert one == v.bootstrap_median_ratio(ratios, seed=4)
    assert one[0] <= 0.57 <= one[1] and one[0] >= 0.5 and one[1] <= 0.61


# --------------------------------------------------------------------------- roles, drift, hold

def test_roles():
    assert v.role_of({"component": "control", "name": "control/cpu_calibration"}) == "control"
    assert v.role_of({"component": "host_state", "name": "host/load1"}) == "host_state"
    assert v.role_of({"component": "git", "name": "git/log"}) == "sequential"
    assert v.role_of({"component": "git", "name": "git/log"}, untouched=["git"]) == "control"
    assert v.role_of({"component": "prometheus_query", "name": "prometheus_query/up"},
                     untouched=["prometheus_query/*"]) == "control"
    assert v.role_of({"component": "kpt_render", "name": "kpt_render/total (b)",
                      "context": {"pair": {"id": "kpt_render/total"}}}) == "paired"
    assert v.role_of({"component": "kpt_render", "name": "kpt_render/total", "context": {}}) == "sequential"


def test_concurrency_must_match_for_a_per_package_comparison():
    assert v.concurrency_problem({"concurrency": 1}, {"concurrency": 4}).startswith("measured with 1 running at once")
    assert v.concurrency_problem({"concurrency": 4}, {"concurrency": 4}) is None
    assert v.concurrency_problem({}, {}) is None
    assert "unknown" in v.concurrency_problem({}, {"concurrency": 2})


def _cmp(name, verdict, change=0.0):
    return {"name": name, "verdict": verdict, "change_pct": change, "ci": [0.5, 0.7] if verdict != "no clear change"
            else [0.9, 1.1], "reason": "r"}


def test_a_moved_control_holds_every_sequential_verdict():
    drift = v.drift_state([_cmp("control/cpu_calibration", "faster", -40.0), _cmp("control/file_read",
                                                                                  "no clear change")])
    assert drift["steady"] is False and drift["moved"] == ["control/cpu_calibration"]
    assert "control/cpu_calibration -40.0%" in drift["reason"]
    for verdict in ("faster", "slower", "no clear change"):
        held = v.hold(_cmp("git/log", verdict, -30.0), drift)
        assert held["verdict"] == v.ENVIRONMENT_CHANGED and held["verdict_unheld"] == verdict
        assert "control/cpu_calibration" in held["reason"]


def test_steady_controls_leave_verdicts_alone():
    drift = v.drift_state([_cmp("control/cpu_calibration", "no clear change")])
    assert drift["steady"] is True and "steady" in drift["reason"]
    original = _cmp("kpt_render/total", "faster", -40.0)
    assert v.hold(original, drift) is original


def test_no_controls_is_unknown_not_steady():
    drift = v.drift_state([_cmp("control/cpu_calibration", "not enough samples")])
    assert drift["steady"] is None and "unknown" in drift["reason"]
    original = _cmp("kpt_render/total", "faster", -40.0)
    assert v.hold(original, drift)["verdict"] == "faster"


def test_not_enough_samples_is_never_turned_into_a_held_verdict():
    drift = v.drift_state([_cmp("control/cpu_calibration", "slower", 50.0)])
    got = v.hold(_cmp("git/log", "not enough samples"), drift)
    assert got["verdict"] == "not enough samples"


def test_exact_null_distribution_counts_subsets():
    # n = 4: subsets of {1,2,3,4} by sum: 0:1 1:1 2:1 3:2 4:2 5:2 6:2 7:2 8:1 9:1 10:1
    assert v._signed_rank_counts(4) == [1, 1, 1, 2, 2, 2, 2, 2, 1, 1, 1]
    assert sum(v._signed_rank_counts(10)) == 2 ** 10
    assert math.isclose(v.signed_rank_test([1, 2, 3, 4, 5, 6])["p_value"], 2 / 64)
