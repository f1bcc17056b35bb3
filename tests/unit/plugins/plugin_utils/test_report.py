# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report model (_report): inputs, matching, comparisons, SLOs, what is missing, the run directory.

The fixture builders here (``make_doc``, ``SLO_YAML``) are also used by the format, browser and
action plugin tests.
"""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report, _report_write
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record

T0 = "2026-11-28T14:00:00.000Z"
BEFORE = [1.00, 1.02, 0.98, 1.01, 0.99, 1.03, 0.97, 1.00, 1.01, 0.99]
AFTER = [0.50, 0.51, 0.49, 0.50, 0.52, 0.48, 0.50, 0.51, 0.49, 0.50]  # twice as fast: -50%
SLO_TEMPLATE = """
apiVersion: openslo/v1
kind: SLO
metadata: {name: %(name)s%(display)s}
spec:
  service: pipeline
  budgetingMethod: Occurrences
  indicator:
    metadata: {name: %(name)s-sli}
    spec:
      thresholdMetric:
        metricSource:
          type: o2edge.perf
          spec: {select: "%(select)s", statistic: %(statistic)s, unit: s}
  objectives:
    - {op: lte, value: %(value)s}
"""


def slo_yaml(name, select, statistic, value, display=None):
    """One SLO document: ``statistic`` of the selected records <= ``value`` seconds."""
    return SLO_TEMPLATE % {"name": name, "select": select, "statistic": statistic, "value": value,
                           "display": ", displayName: %s" % display if display else ""}


# kpt render p95 <= 0.8 s and git/status median <= 0.5 s
SLO_YAML = (slo_yaml("kpt-render-p95", "records[?record.component=='kpt_render']", "p95", 0.8, "kpt render p95")
            + "---" + slo_yaml("git-status-median", "records[?record.name=='git/status']", "median", 0.5))


def record(name, component, samples, host="ctl", unit="s", versions=None, failures=0, errors=None):
    ctx = {"host": host, "started_at": T0, "versions": dict({"python": "3.11.7"}, **(versions or {}))}
    return make_record(name, component, unit, samples, warmup=1, failures=failures, errors=errors, context=ctx)


def make_doc(records=(), probes=(), tasks=(), status="ok", run_id="20261128T140000Z-1a2b3c4d", missing=()):
    """A C2 results document; ``records`` items are (host, record) or records (host ``ctl``)."""
    recs = []
    for item in records:
        host, rec = item if isinstance(item, tuple) else ("ctl", item)
        recs.append({"host": host, "play": "Measure the pipeline", "task": "measure " + rec["name"], "record": rec})
    return {
        "schema": "o2edge.perf/results/v1",
        "run": {"id": run_id, "started_at": T0, "finished_at": None if status == "running" else "2026-11-28T14:05:00Z",
                "status": status, "playbooks": ["playbooks/benchmark.yml"],
                "controller": {"host": "ctl", "python": "3.11.7", "ansible_core": "2.19.14", "collection": "0.2.0"},
                "runner": None, "slice": None},
        "hosts": {"ctl": {"ok": 5, "changed": 1, "failures": 0, "unreachable": 0, "skipped": 0, "rescued": 0,
                          "ignored": 0}},
        "records": recs,
        "probes": [{"host": "localhost", "play": "Probe the edge sites", "task": "probe",
                    "result": dict({"kind": p[1], "address": "198.18.1.10", "port": 22, "ok": p[2] == "up",
                                    "latency_ms": 12.5, "connect_ms": 1.5, "detail": "d", "info": {}},
                                   site=p[0], service=p[1], state=p[2])} for p in probes],
        "tasks": [{"play": "Measure the pipeline", "role": None, "task": t[0], "action": "o2edge.perf.command_bench",
                   "host": "ctl", "status": "ok", "seconds": t[1], "started_at": T0} for t in tasks],
        "totals": {"wall_seconds": 300.0, "plays": [], "roles": []},
        "missing": [{"what": m[0], "why": m[1]} for m in missing],
    }


def write_json(path, doc):
    path.write_text(json.dumps(doc))
    return str(path)


PROBES = [("edge1", "ssh", "up"), ("edge1", "kubernetes", "up"), ("edge2", "ssh", "host_key_mismatch"),
          ("edge2", "kubernetes", "refused"), ("edge3", "ssh", "up")]


def standard_pair():
    """(baseline, current): kpt render twice as fast, git status unchanged, io on another kpt version."""
    baseline = make_doc([record("kpt_render/edge1", "kpt_render", BEFORE),
                         record("git/status", "git", [0.1] * 10),
                         record("kpt_render/edge2", "kpt_render", BEFORE, versions={"kpt": "1.0.0-beta.55"})],
                        run_id="base-run")
    current = make_doc([record("kpt_render/edge1", "kpt_render", AFTER),
                        record("git/status", "git", [0.1] * 10),
                        record("kpt_render/edge2", "kpt_render", AFTER, versions={"kpt": "1.0.0-beta.56"}),
                        record("file_io/write", "file_io", [400.0, 410.0, 405.0], unit="MB/s")],
                       probes=PROBES, tasks=[("render", 12.5), ("git", 0.4), ("probe", 3.25)])
    return baseline, current


def objectives():
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo
    return _slo.load_objectives(text=SLO_YAML)


def build_standard():
    baseline, current = standard_pair()
    return _report.build(current, baseline, objectives(), title="T", generated_at=T0)


# --------------------------------------------------------------------------- model

def test_comparison_matches_by_name_and_host_and_calls_the_halving_faster():
    model = build_standard()
    by_name = dict((c["name"], c) for c in model["comparisons"])
    kpt = by_name["kpt_render/edge1"]
    assert kpt["verdict"] == "faster"
    assert kpt["change_pct"] == pytest.approx(-50.0, abs=0.6)
    assert kpt["median_before"] == pytest.approx(1.0) and kpt["median_after"] == pytest.approx(0.5)
    assert by_name["git/status"]["verdict"] == "no clear change"
    # only measurements present on both sides are compared; file_io is only in this run
    assert "file_io/write" not in by_name
    assert model["comparisons_summary"]["only_in_run"] == 1
    assert model["verdicts"] == {"faster": 1, "slower": 0, "no clear change": 1, "not enough samples": 0,
                                 "not comparable": 1, "environment changed": 0, "control steady": 0,
                                 "control moved": 0, "host state": 0}


def test_baseline_with_another_tool_version_is_not_comparable_with_the_reason():
    model = build_standard()
    entry = [c for c in model["comparisons"] if c["name"] == "kpt_render/edge2"][0]
    assert entry["comparable"] is False and entry["verdict"] == "not comparable"
    assert entry["reason"].startswith("not comparable: ")
    assert "1.0.0-beta.55 -> 1.0.0-beta.56" in entry["reason"]
    assert "ratio" not in entry  # never compared
    assert model["comparisons_summary"]["not_comparable"][0]["name"] == "kpt_render/edge2"


def test_same_name_on_another_host_is_a_different_measurement():
    baseline = make_doc([("edge1", record("git/status", "git", BEFORE, host="edge1"))])
    current = make_doc([("edge2", record("git/status", "git", AFTER, host="edge2"))])
    model = _report.build(current, baseline, objectives(), generated_at=T0)
    assert model["comparisons"] == []
    assert model["comparisons_summary"]["only_in_baseline"] == 1
    assert {"what": "measurement git/status on edge1",
            "why": "in the baseline, not in this run: nothing to compare"} in model["missing"]


def test_unit_change_is_not_comparable():
    baseline = make_doc([record("io/x", "file_io", BEFORE, unit="s")])
    current = make_doc([record("io/x", "file_io", AFTER, unit="ms")])
    entry = _report.build(current, baseline, objectives(), generated_at=T0)["comparisons"][0]
    assert entry["verdict"] == "not comparable" and "unit s before, ms after" in entry["reason"]


def test_throughput_higher_is_faster():
    baseline = make_doc([record("io/w", "file_io", [100.0 + i for i in range(10)], unit="MB/s")])
    current = make_doc([record("io/w", "file_io", [200.0 + i for i in range(10)], unit="MB/s")])
    entry = _report.build(current, baseline, objectives(), generated_at=T0)["comparisons"][0]
    assert entry["verdict"] == "faster" and entry["change_pct"] > 90


def test_missing_measurement_fails_its_objective_and_the_report_says_why():
    current = make_doc([record("kpt_render/edge1", "kpt_render", AFTER)])  # no git/status at all
    model = _report.build(current, None, objectives(), generated_at=T0)
    slo = dict((o["name"], o) for o in model["slo"])
    assert slo["kpt-render-p95"]["status"] == "pass"
    assert slo["git-status-median"]["status"] == "fail" and slo["git-status-median"]["value"] is None
    assert model["slo_failed"] == ["git-status-median"]
    assert {"what": "objective git-status-median", "why": slo["git-status-median"]["reason"]} in model["missing"]
    assert "no measurement matched" in slo["git-status-median"]["reason"]
    assert model["slo_passed_pct"] == 50.0


def test_broken_run_lists_what_is_missing_first():
    failed = record("kpt_render/edge1", "kpt_render", [], failures=3,
                    errors=[{"phase": "run", "run": 0, "rc": 1, "error": "kpt: image pull failed"}])
    doc = make_doc([failed], status="running", missing=[("results.jsonl line 9", "partial last line left out")])
    model = _report.build(doc, None, objectives(), generated_at=T0)
    whats = [m["what"] for m in model["missing"]]
    assert whats[0] == "run 20261128T140000Z-1a2b3c4d" and "had not finished" in model["missing"][0]["why"]
    assert "results.jsonl line 9" in whats
    rec = [m for m in model["missing"] if m["what"] == "measurement kpt_render/edge1 on ctl"][0]
    assert "3 failures" in rec["why"] and "kpt: image pull failed" in rec["why"]


def test_a_failed_probe_is_a_result_not_missing_data():
    probe = record("probe/edge2/ssh", "probe", [], unit="ms", failures=1,
                   errors=[{"phase": "run", "run": 0, "rc": None, "error": "connection refused"}])
    failed = record("prometheus_query/up", "prometheus_query", [], failures=2,
                    errors=[{"phase": "run", "run": 0, "rc": None, "error": "connection refused"}])
    model = _report.build(make_doc([probe, failed]), None, objectives(), generated_at=T0)
    whats = [m["what"] for m in model["missing"]]
    assert "measurement prometheus_query/up on ctl" in whats
    assert not [w for w in whats if "probe/edge2/ssh" in w]


def test_duplicate_records_use_the_last_and_say_so():
    doc = make_doc([record("git/status", "git", [0.3] * 6), record("git/status", "git", AFTER)])
    base = make_doc([record("git/status", "git", BEFORE)])
    model = _report.build(doc, base, objectives(), generated_at=T0)
    assert len(model["measurements"]) == 2
    assert [m["comparison"] is not None for m in model["measurements"]] == [False, True]
    assert model["comparisons"][0]["median_after"] == pytest.approx(0.5)
    assert model["notes"] == ["git/status on ctl: 2 records, the last one is used for comparisons"]


def test_matrix_from_probes_with_site_status():
    model = build_standard()
    mx = model["matrix"]
    assert mx["sites"] == ["edge1", "edge2", "edge3"] and mx["services"] == ["ssh", "kubernetes"]
    assert mx["cells"]["edge2"]["ssh"]["state"] == "host_key_mismatch"
    assert mx["site_status"] == {"edge1": "up", "edge2": "down", "edge3": "up"}
    assert (mx["sites_up"], mx["targets_up"], mx["targets"]) == (2, 3, 5)
    assert mx["sites_up_pct"] == 66.7 and mx["targets_up_pct"] == 60.0


def test_slowest_tasks_sorted():
    assert [t["task"] for t in build_standard()["slowest_tasks"]] == ["render", "probe", "git"]


def test_play_filter_keeps_matching_plays_and_refuses_a_bad_regex():
    doc = make_doc([record("a", "git", AFTER)], probes=PROBES, tasks=[("t", 1.0)])
    kept = _report.filter_plays(doc, "Probe")
    assert kept["records"] == [] and len(kept["probes"]) == 5 and kept["tasks"] == []
    assert len(doc["records"]) == 1  # the input is not changed
    with pytest.raises(_report.ReportError, match=r"^play_filter: '\(' is not a valid regular expression"):
        _report.filter_plays(doc, "(")


# --------------------------------------------------------------------------- inputs

def test_callback_reads_the_path_from_the_environment():
    assert _report.result_paths("callback", {"O2EDGE_PERF_RESULTS": "/r/results.jsonl"}) == ["/r/results.jsonl"]
    assert _report.result_paths(["a.json", "callback"], {"O2EDGE_PERF_RESULTS": "/r/x.jsonl"}) == ["a.json", "/r/x.jsonl"]
    with pytest.raises(_report.ReportError, match=r"^results\[0\]: 'callback' .*O2EDGE_PERF_RESULTS, which is not set"):
        _report.result_paths(["callback"], {})
    with pytest.raises(_report.ReportError, match=r"^results: give at least one"):
        _report.result_paths([], {})


def test_truncated_jsonl_is_read_and_the_partial_line_listed(tmp_path):
    path = tmp_path / "results.jsonl"
    run = make_doc()["run"]
    run["status"], run["finished_at"] = "running", None
    rec = {"event": "record", "host": "ctl", "play": "p", "task": "t", "record": record("git/status", "git", AFTER)}
    path.write_text(json.dumps({"event": "run", "schema": "o2edge.perf/results/v1", "run": run}) + "\n"
                    + json.dumps(rec) + "\n" + json.dumps(rec)[:40])
    doc = _report.load_documents([str(path)], "results")
    model = _report.build(doc, None, objectives(), generated_at=T0)
    whats = [m["what"] for m in model["missing"]]
    assert whats[0].startswith("run ") and "results.jsonl line 3" in whats
    assert len(model["measurements"]) == 1


def test_bad_results_file_names_the_field_and_file(tmp_path):
    doc = make_doc([record("a", "git", AFTER)])
    doc["records"][0]["record"]["samples"] = "fast"
    path = write_json(tmp_path / "results.json", doc)
    with pytest.raises(_report.ReportError) as err:
        _report.load_documents([path], "baseline")
    assert str(err.value).startswith("baseline[0]: %s: " % path) and "records[0].record" in str(err.value)


def test_slo_file_with_unknown_field_names_it(tmp_path):
    path = tmp_path / "slo.yml"
    path.write_text(SLO_YAML.replace("statistic: p95,", "statistic: p95, percentile: 95,"))
    with pytest.raises(_report.ReportError) as err:
        _report.load_objectives(str(path))
    msg = str(err.value)
    assert msg.startswith("slo_file (%s): " % path) and "percentile" in msg and "metricSource.spec" in msg


def test_slo_file_with_bad_jmespath_names_the_select_field(tmp_path):
    path = tmp_path / "slo.yml"
    path.write_text(SLO_YAML.replace("records[?record.name=='git/status']", "records[?record.name=="))
    with pytest.raises(_report.ReportError) as err:
        _report.load_objectives(str(path))
    assert "select" in str(err.value) and "JMESPath" in str(err.value)


def test_default_objectives_when_no_slo_file():
    objs = _report.load_objectives(None)
    assert objs and all(o["name"] for o in objs)


# --------------------------------------------------------------------------- run directory and index

def test_run_dir_name_cannot_escape_dest():
    assert _report.run_dir_name("../../etc/passwd") == "_.._etc_passwd"
    assert _report.run_dir_name("..") == "run" and _report.run_dir_name(None) == "run"
    assert _report.run_dir_name("20261128T140000Z-1a2b3c4d") == "20261128T140000Z-1a2b3c4d"


def test_failing_writer_leaves_no_partial_run_dir(tmp_path):
    def boom():
        raise RuntimeError("writer broke")
    with pytest.raises(RuntimeError):
        _report.write_run(str(tmp_path), "run1", {"a.md": "x", "b.html": boom, "c.csv": "never"})
    assert os.listdir(str(tmp_path)) == []


def test_second_report_of_a_run_gets_a_new_directory(tmp_path):
    first = _report.write_run(str(tmp_path), "run1", {"a": "1"})
    second = _report.write_run(str(tmp_path), "run1", {"a": "2"})
    assert os.path.basename(first) == "run1" and os.path.basename(second) == "run1-2"
    assert open(os.path.join(first, "a")).read() == "1"
    assert sorted(os.listdir(str(tmp_path))) == ["run1", "run1-2"]


def test_index_is_rebuilt_from_run_dirs_when_index_json_is_broken(tmp_path):
    model = build_standard()
    for name in ("r1", "r2", "r3"):
        os.mkdir(str(tmp_path / name))
    for name in ("r1", "r2"):
        entry = dict(_report.index_entry(model, ""), generated_at="2026-11-2%sT00:00:00Z" % name[1])
        (tmp_path / name / "results.json").write_text(json.dumps({"report": {"index_entry": entry}}))
    (tmp_path / "index.json").write_text("{not json")
    new = dict(_report.index_entry(model, "r3"), generated_at="2026-11-28T00:00:00Z")
    _report.update_index(str(tmp_path), new)
    data = json.loads((tmp_path / "index.json").read_text())
    assert [r["dir"] for r in data["runs"]] == ["r3", "r2", "r1"]  # newest first
    os.rmdir(str(tmp_path / "r3"))
    _report.update_index(str(tmp_path), dict(new, dir="r2"))  # r3 gone: dropped; r2 replaced, not doubled
    data = json.loads((tmp_path / "index.json").read_text())
    assert [r["dir"] for r in data["runs"]] == ["r2", "r1"]
    assert 'href="r1/report.html"' in (tmp_path / "index.html").read_text()
    assert "(r2/report.md)" in (tmp_path / "index.md").read_text()
    assert [n for n in os.listdir(str(tmp_path)) if ".tmp-" in n] == []


def test_disk_error_while_writing_names_dest_and_leaves_no_run_dir_nor_index(tmp_path, monkeypatch):
    baseline, current = standard_pair()
    path = write_json(tmp_path / "r.json", current)
    real_write = _report_write._write
    calls = []

    def failing_write(target, content):
        calls.append(target)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real_write(target, content)
    monkeypatch.setattr(_report_write, "_write", failing_write)
    dest = tmp_path / "reports"
    with pytest.raises(_report.ReportError, match=r"^dest: cannot write the report in .*: No space left on device$"):
        _report.generate({"results": [path], "dest": str(dest)}, {}, T0)
    assert len(calls) == 3 and os.listdir(str(dest)) == []


@pytest.mark.parametrize("status, why", [
    ("failed", "the run failed (status failed): later steps may not have run"),
    ("interrupted", "the run was interrupted (status interrupted): later steps did not run"),
    ("ok", None)])
def test_run_status_other_than_ok_is_the_first_thing_missing(status, why):
    model = _report.build(make_doc([record("git/status", "git", AFTER)], status=status), None, objectives(),
                          generated_at=T0)
    first = model["missing"][0] if model["missing"] else None
    if why is None:
        assert not [m for m in model["missing"] if m["what"].startswith("run ")]
    else:
        assert first == {"what": "run 20261128T140000Z-1a2b3c4d", "why": why}
