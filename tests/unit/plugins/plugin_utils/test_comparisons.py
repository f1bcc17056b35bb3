"""The report's comparison plan: interleaved pairs, controls, held verdicts, like with like, the regression gate."""
from __future__ import annotations

import json
import os
import random

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report
from ansible_collections.o2edge.perf.plugins.plugin_utils import _comparisons
from tests.unit.plugins.action.test_perf_report import run_action
from tests.unit.plugins.plugin_utils.test_report import make_doc, record, write_json


def noisy(center, n=10, seed=0, spread=0.02):
    rng = random.Random(seed)
    return [center * (1 + rng.gauss(0, spread)) for _i in range(n)]


def paired(name, samples, side, label, rounds=None, session="s1", concurrency=None, component="kpt_render"):
    rec = record("%s (%s)" % (name, label), component, samples)
    rec["context"]["pair"] = {"id": name, "session": session, "side": side, "label": label,
                              "design": "interleaved", "order": "ABBA",
                              "rounds": list(rounds if rounds is not None else range(len(samples)))}
    if concurrency is not None:
        rec["context"]["concurrency"] = concurrency
    return rec


def pass_docs(hog_first_pass, lever_effect=1.0):
    """Two sequential passes; the first under a CPU hog when asked. The lever (kpt_render/total) changes by
    ``lever_effect``; git and the controls are untouched by the change."""
    load = 2.0 if hog_first_pass else 1.0
    before = make_doc([record("control/cpu_calibration@start", "control", noisy(0.07 * load, seed=1)),
                       record("git/log", "git", noisy(0.02 * load, seed=2)),
                       record("kpt_render/total", "kpt_render", noisy(4.0 * load, seed=3))], run_id="before")
    after = make_doc([record("control/cpu_calibration@start", "control", noisy(0.07, seed=4)),
                      record("git/log", "git", noisy(0.02, seed=5)),
                      record("kpt_render/total", "kpt_render", noisy(4.0 * lever_effect, seed=6))], run_id="after")
    return before, after


def by_name(model):
    return dict((c["name"], c) for c in model["comparisons"])


def test_a_hog_in_the_first_pass_holds_every_sequential_verdict():
    before, after = pass_docs(hog_first_pass=True)
    model = _report.build(after, before, objectives=[])
    got = by_name(model)
    assert got["control/cpu_calibration@start"]["verdict"] == "control moved"
    assert got["kpt_render/total"]["verdict"] == "environment changed"
    assert got["kpt_render/total"]["verdict_unheld"] == "faster"  # what the report used to say
    assert got["git/log"]["verdict"] == "environment changed"
    assert model["verdicts"]["faster"] == 0 and model["verdicts"]["environment changed"] == 2
    assert model["comparisons_summary"]["drift"]["steady"] is False
    assert "control/cpu_calibration@start" in model["comparisons_summary"]["drift"]["reason"]


def test_a_real_effect_on_a_steady_machine_is_called():
    before, after = pass_docs(hog_first_pass=False, lever_effect=0.5)
    got = by_name(_report.build(after, before, objectives=[]))
    assert got["control/cpu_calibration@start"]["verdict"] == "control steady"
    assert got["kpt_render/total"]["verdict"] == "faster"
    assert got["git/log"]["verdict"] == "no clear change"


def test_untouched_measurements_never_get_a_faster_or_slower_verdict():
    before, after = pass_docs(hog_first_pass=False)
    # git alone got faster between the passes (a warm cache): as a control it moves, it is never "faster"
    after["records"][1]["record"] = record("git/log", "git", noisy(0.01, seed=9))
    model = _report.build(after, before, objectives=[], untouched=["git"])
    got = by_name(model)
    assert got["git/log"]["verdict"] == "control moved" and got["git/log"]["role"] == "control"
    assert got["kpt_render/total"]["verdict"] == "environment changed"  # the moved control holds it
    assert "git/log" in model["comparisons_summary"]["controls"]


def test_interleaved_pairs_stand_under_a_hog_and_compare_like_with_like():
    before, after = pass_docs(hog_first_pass=True)
    rng = random.Random(11)
    load = [2.0 if i < 5 else 1.0 for i in range(10)]  # the hog hit the first half of the rounds, both sides
    a = [4.0 * lo * (1 + rng.gauss(0, 0.02)) for lo in load]
    b = [2.0 * lo * (1 + rng.gauss(0, 0.02)) for lo in load]
    after["records"] += [{"host": "ctl", "play": "p", "task": "t", "record": r} for r in (
        paired("kpt_render/total", a, "a", "before", concurrency=1),
        paired("kpt_render/total", b, "b", "after", concurrency=4),
        paired("kpt_render/edge1-config", a, "a", "before", concurrency=1),
        paired("kpt_render/edge1-config", b, "b", "after", concurrency=4))]
    model = _report.build(after, before, objectives=[])
    inter = [c for c in model["comparisons"] if c["design"] == "interleaved"]
    got = dict((c["name"], c) for c in inter)
    assert got["kpt_render/total"]["verdict"] == "faster"
    assert got["kpt_render/total"]["ratio"] == pytest.approx(0.5, rel=0.05)
    assert got["kpt_render/edge1-config"]["verdict"] == "not comparable"
    assert "1 running at once before and 4 after" in got["kpt_render/edge1-config"]["reason"]
    # the sequential total is held by the moved control; the interleaved one stands
    seq_total = [c for c in model["comparisons"] if c["design"] == "sequential" and c["name"] == "kpt_render/total"]
    assert seq_total[0]["verdict"] == "environment changed"
    assert model["comparisons_summary"]["interleaved"] == ["kpt_render/edge1-config", "kpt_render/total"]
    # pair records are not "only in this run"
    assert model["comparisons_summary"]["only_in_run"] == 0


def test_sequential_per_package_records_under_different_concurrency_are_not_compared():
    b = record("kpt_render/smo-gateway", "kpt_render", noisy(1.0))
    b["context"]["concurrency"] = 1
    a = record("kpt_render/smo-gateway", "kpt_render", noisy(1.6, seed=3))
    a["context"]["concurrency"] = 4
    got = by_name(_report.build(make_doc([a]), make_doc([b]), objectives=[]))
    assert got["kpt_render/smo-gateway"]["verdict"] == "not comparable"
    assert "compare the total" in got["kpt_render/smo-gateway"]["reason"]


def test_a_failed_round_pairs_by_index():
    a = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0]
    b = [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 9.0]
    doc = make_doc([paired("x/total", a, "a", "A", rounds=[0, 1, 2, 3, 4, 5, 7]),
                    paired("x/total", b, "b", "B", rounds=[0, 1, 2, 3, 4, 5, 7, 6])])
    got = by_name(_report.build(doc, None, objectives=[]))
    assert got["x/total"]["ratio"] == 0.5 and got["x/total"]["n_pairs"] == 7


def test_per_measurement_threshold_replaces_the_report_threshold():
    before = make_doc([record("git/log", "git", noisy(1.0, seed=1, spread=0.005))])
    after = make_doc([record("git/log", "git", noisy(1.08, seed=2, spread=0.005))])
    assert by_name(_report.build(after, before, objectives=[]))["git/log"]["verdict"] == "slower"
    loose = _report.build(after, before, objectives=[], thresholds={"git/*": 0.10})
    assert by_name(loose)["git/log"]["verdict"] == "no clear change"


@pytest.mark.parametrize("bad, field", [
    ({"regression_threshold": {"x": 1.5}}, "regression_threshold[x]"),
    ({"regression_threshold": {"x": True}}, "regression_threshold[x]"),
    ({"untouched": [""]}, "untouched[0]"),
])
def test_bad_gate_parameters_are_refused_before_anything_is_written(tmp_path, bad, field):
    doc = write_json(tmp_path / "r.json", make_doc([record("a", "git", [1.0] * 6)]))
    result = run_action(dict({"results": [doc], "dest": str(tmp_path / "out")}, **bad))
    assert result["failed"] is True and result["msg"].startswith(field)
    assert not os.path.exists(str(tmp_path / "out"))


def _gate(tmp_path, base_samples, head_samples, name):
    base = write_json(tmp_path / ("base-%s.json" % name), make_doc([record("kpt_render/total", "kpt_render",
                                                                           base_samples)], run_id="b" + name))
    head = write_json(tmp_path / ("head-%s.json" % name), make_doc([record("kpt_render/total", "kpt_render",
                                                                           head_samples)], run_id="h" + name))
    return run_action({"results": [head], "baseline": [base], "dest": str(tmp_path / "reports"),
                       "fail_on_regression": True})


def test_the_regression_gate_fails_on_a_planted_slowdown_and_passes_a_repeat(tmp_path):
    slow = _gate(tmp_path, noisy(1.0, seed=1), noisy(1.3, seed=2), "slow")
    assert slow["failed"] is True and slow["msg"].startswith("1 regression against the baseline: kpt_render/total")
    repeat = _gate(tmp_path, noisy(1.0, seed=1), noisy(1.0, seed=3), "same")
    assert repeat["failed"] is False, repeat.get("msg")
    faster = _gate(tmp_path, noisy(1.0, seed=1), noisy(0.7, seed=3), "fast")
    assert faster["failed"] is False


def test_the_gate_without_a_baseline_fails_rather_than_passing_silently(tmp_path):
    head = write_json(tmp_path / "h.json", make_doc([record("kpt_render/total", "kpt_render", [1.0] * 6)]))
    result = run_action({"results": [head], "dest": str(tmp_path / "reports"), "fail_on_regression": True})
    assert result["failed"] is True and "no baseline was given" in result["msg"]


def test_baseline_by_latest_and_by_run_id(tmp_path):
    dest = str(tmp_path / "reports")
    first = write_json(tmp_path / "1.json", make_doc([record("git/log", "git", noisy(1.0))], run_id="run-one"))
    second = write_json(tmp_path / "2.json", make_doc([record("git/log", "git", noisy(1.0, seed=5))],
                                                      run_id="run-two"))
    assert run_action({"results": [first], "dest": dest})["failed"] is False
    by_latest = run_action({"results": [second], "dest": dest, "baseline": ["latest"]})
    assert by_latest["failed"] is False and by_latest["comparisons"]["matched"] == 1
    merged = json.load(open(by_latest["results_file"]))
    assert merged["report"]["baseline_run"]["id"] == "run-one"
    by_id = run_action({"results": [second], "dest": dest, "baseline": ["run-one"]})
    assert json.load(open(by_id["results_file"]))["report"]["baseline_run"]["id"] == "run-one"
    missing = run_action({"results": [second], "dest": dest, "baseline": ["run-zzz"]})
    assert missing["failed"] is True and missing["msg"].startswith("baseline[0]: run-zzz is no file")


def test_latest_with_no_earlier_report_is_an_error(tmp_path):
    head = write_json(tmp_path / "h.json", make_doc([record("git/log", "git", [1.0] * 6)]))
    result = run_action({"results": [head], "dest": str(tmp_path / "empty"), "baseline": ["latest"]})
    assert result["failed"] is True and "no earlier report" in result["msg"]


def test_threshold_for_picks_the_first_sorted_match():
    th = {"kpt_render/*": 0.2, "kpt_render/total": 0.1}
    assert _comparisons.threshold_for("kpt_render/total", 0.05, th) == 0.2
    assert _comparisons.threshold_for("git/log", 0.05, th) == 0.05


# --------------------------------------------------------------------------- what the formats show

def test_markdown_says_how_each_comparison_was_made_and_whether_the_machine_was_steady():
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_formats as f
    before, after = pass_docs(hog_first_pass=True)
    text = f.markdown(_report.build(after, before, objectives=[]))
    assert "Machine: the machine changed between the passes, a control moved: control/cpu\\_calibration@start -" in text
    row = [line for line in text.splitlines() if line.startswith("| git/log | sequential |")][0]
    assert "**environment changed**" in row
    assert "2 sequential verdicts held as environment changed" in text


def test_junit_has_one_case_per_comparison_and_a_slowdown_is_a_failure():
    import xml.etree.ElementTree as ET
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_formats as f
    before = make_doc([record("kpt_render/total", "kpt_render", noisy(1.0, seed=1)),
                       record("git/log", "git", noisy(1.0, seed=2)),
                       record("git/status", "git", [1.0, 1.0])])
    after = make_doc([record("kpt_render/total", "kpt_render", noisy(1.4, seed=3)),
                      record("git/log", "git", noisy(1.0, seed=4)),
                      record("git/status", "git", [1.0, 1.0])])
    root = ET.fromstring(f.junit(_report.build(after, before, objectives=[])).split("\n", 1)[1])
    suite = [s for s in root.findall("testsuite") if s.get("name").startswith("o2edge.perf comparisons")][0]
    cases = dict((c.get("name"), c) for c in suite.findall("testcase"))
    assert sorted(cases) == ["git/log on ctl", "git/status on ctl", "kpt_render/total on ctl"]
    assert cases["kpt_render/total on ctl"].find("failure") is not None
    assert cases["git/log on ctl"].find("failure") is None and cases["git/log on ctl"].find("skipped") is None
    assert cases["git/status on ctl"].find("skipped") is not None  # not enough samples: skipped, not passed
    assert suite.get("failures") == "1" and suite.get("skipped") == "1" and root.get("failures") == "1"


def test_pipeline_stage_shares_and_the_critical_stage_are_reported():
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_formats as f
    rec = record("pipeline/intent-to-edge", "pipeline", [10.0, 11.0, 9.0])
    rec["context"].update(stages=["translate", "render", "publish"], critical_stage="render",
                          stage_share={"translate": 0.1, "render": 0.7, "publish": 0.2})
    text = f.markdown(_report.build(make_doc([rec]), None, objectives=[]))
    assert "critical stage: **render**" in text
    assert "| render | 70.0% |" in text and "| translate | 10.0% |" in text


def test_metrics_carry_the_run_time_and_the_machines_steadiness():
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_formats as f
    before, after = pass_docs(hog_first_pass=True)
    text = f.prometheus(_report.build(after, before, objectives=[], generated_at="2026-12-06T21:00:00.000Z"))
    assert "o2edge_perf_run_timestamp_seconds{} 1796590800.0" in text.splitlines()
    assert "o2edge_perf_environment_steady{} 0" in text.splitlines()
    quiet_before, quiet_after = pass_docs(hog_first_pass=False)
    quiet = f.prometheus(_report.build(quiet_after, quiet_before, objectives=[]))
    assert "o2edge_perf_environment_steady{} 1" in quiet.splitlines()
    assert "o2edge_perf_run_timestamp_seconds" not in quiet  # no generated_at: no made-up time
