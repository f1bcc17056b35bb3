# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import copy

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo, _slo_select
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record

CTX = {"host": "ctl", "started_at": "2026-01-01T00:00:00.000Z", "versions": {"python": "3.11.7"}}


def rec(name, samples, component="command", unit="s", failures=0):
    record = make_record(name, component, unit, samples, failures=failures, context=dict(CTX))
    return {"host": "localhost", "play": "p", "task": "t", "record": record}


def probe(site, service, ok):
    return {"host": "localhost", "play": "p", "task": "t",
            "result": {"site": site, "service": service, "kind": "tcp", "address": "198.18.1.10", "port": 22,
                       "ok": ok, "state": "up" if ok else "refused", "latency_ms": 1.0 if ok else None,
                       "connect_ms": None, "detail": "", "info": {}}}


def results(records=(), probes=()):
    return {"schema": "o2edge.perf/results/v1", "run": {"id": "r", "status": "ok"}, "hosts": {},
            "records": list(records), "probes": list(probes), "tasks": [], "totals": {}, "missing": []}


def slo_yaml(name="lat", select="records", statistic="median", unit="s", objectives=None, extra_spec=""):
    objectives = objectives if objectives is not None else "    - {op: lt, value: 1}\n"
    unit_line = ("            unit: %s\n" % unit) if unit else ""
    return ("apiVersion: openslo/v1\nkind: SLO\nmetadata:\n  name: %s\nspec:\n  service: svc\n"
            "  budgetingMethod: Occurrences\n%s  indicator:\n    metadata:\n      name: ind\n    spec:\n"
            "      thresholdMetric:\n        metricSource:\n          type: o2edge.perf\n          spec:\n"
            "            select: \"%s\"\n            statistic: %s\n%s  objectives:\n%s") % (
                name, extra_spec, select, statistic, unit_line, objectives)


def one(text, doc):
    objectives = _slo.load_objectives(text=text)
    assert len(objectives) == 1
    return _slo.evaluate(objectives, doc)[0]


# samples [1, 2, 3, 4, 10]: median 3, mean 4, p95 8.8, max 10; [0.5, 0.7]: median 0.6, mean 0.6, p95 0.69, max 0.7
KNOWN = results([rec("a", [1, 2, 3, 4, 10]), rec("b", [0.5, 0.7])])


@pytest.mark.parametrize("statistic,op,value,expected,status", [
    ("median", "lt", 3, 3.0, "fail"),       # worst median is 3: 3 < 3 is false
    ("median", "lte", 3, 3.0, "pass"),
    ("median", "gt", 0.6, 0.6, "fail"),     # lower bound: the worst is the smallest, 0.6
    ("median", "gte", 0.6, 0.6, "pass"),
    ("mean", "lt", 4.5, 4.0, "pass"),
    ("mean", "lt", 4, 4.0, "fail"),
    ("p95", "lte", 8.8, 8.8, "pass"),
    ("p95", "lt", 8.7, 8.8, "fail"),
    ("max", "lt", 10.5, 10.0, "pass"),
    ("max", "gte", 0.7, 0.7, "pass"),
    ("max", "gt", 0.7, 0.7, "fail"),
])
def test_known_answers_for_every_statistic_and_op(statistic, op, value, expected, status):
    out = one(slo_yaml(statistic=statistic, objectives="    - {op: %s, value: %s}\n" % (op, value)), KNOWN)
    assert out["value"] == pytest.approx(expected)
    assert out["status"] == status, out["reason"]
    assert out["selected"] == 2 and out["threshold"] == value and out["op"] == op and out["unit"] == "s"


def test_target_below_one_decides_on_the_kth_record():
    doc = results([rec("r%d" % i, [m]) for i, m in enumerate([0.2, 0.4, 0.6, 1.5])])
    half = one(slo_yaml(objectives="    - {op: lt, value: 1, target: 0.75}\n"), doc)
    assert half["status"] == "pass" and half["value"] == pytest.approx(0.6)
    assert "3 of 4 selected records" in half["reason"] and "worst r3 on localhost at 1.5 s" in half["reason"]
    strict = one(slo_yaml(objectives="    - {op: lt, value: 1, target: 0.8}\n"), doc)
    assert strict["status"] == "fail" and strict["value"] == pytest.approx(1.5)
    every = one(slo_yaml(objectives="    - {op: lt, value: 1}\n"), doc)
    assert every["status"] == "fail" and every["target"] == 1.0
    # 0.28 * 25 is 7.000000000000001 in floating point: still 7 records needed, not 8
    many = results([rec("r%d" % i, [0.5 if i < 7 else 2.0]) for i in range(25)])
    out = one(slo_yaml(objectives="    - {op: lt, value: 1, target: 0.28}\n"), many)
    assert out["status"] == "pass" and "7 needed" in out["reason"]


def test_success_ratio_over_records_and_probes():
    doc = results([rec("a", [1.0] * 9, failures=1), rec("b", [1.0] * 10), rec("c", [], failures=0)],
                  [probe("edge1", "ssh", True), probe("edge2", "ssh", False), probe("edge3", "ssh", True),
                   probe("edge4", "ssh", True)])
    runs = one(slo_yaml(select="records", statistic="success_ratio", unit=None,
                        objectives="    - {target: 0.95}\n"), doc)
    assert runs["value"] == pytest.approx(19 / 20.0) and runs["status"] == "pass"
    assert runs["op"] == "gte" and runs["threshold"] == 0.95 and runs["unit"] == "ratio" and runs["selected"] == 3
    runs = one(slo_yaml(select="records", statistic="success_ratio", unit=None,
                        objectives="    - {target: 0.96}\n"), doc)
    assert runs["status"] == "fail" and "19 of 20" in runs["reason"]
    probes = one(slo_yaml(select="probes", statistic="success_ratio", unit=None,
                          objectives="    - {target: 0.75}\n"), doc)
    assert probes["value"] == 0.75 and probes["status"] == "pass"
    both = one(slo_yaml(select="[records, probes][]", statistic="success_ratio", unit=None,
                        objectives="    - {target: 0.9}\n"), doc)
    assert both["value"] == pytest.approx(22 / 24.0) and both["selected"] == 7


def test_missing_data_fails():
    nothing = one(slo_yaml(select="records[?record.component == 'kpt_render']"), KNOWN)
    assert nothing["status"] == "fail" and nothing["value"] is None and nothing["selected"] == 0
    assert nothing["reason"].startswith("no measurement matched")
    nulls = one(slo_yaml(), results([rec("good", [0.1]), rec("broken", [], failures=3)]))
    assert nulls["status"] == "fail" and nulls["value"] is None
    assert "broken on localhost has no median" in nulls["reason"]
    odd = rec("odd", [0.1])
    odd["record"]["stats"]["median"] = "0.1"
    odd_out = one(slo_yaml(), results([odd]))
    assert odd_out["status"] == "fail" and "stats.median is '0.1'" in odd_out["reason"]
    no_runs = one(slo_yaml(statistic="success_ratio", unit=None, objectives="    - {target: 0.5}\n"),
                  results([rec("empty", [])]))
    assert no_runs["status"] == "fail" and "no counted run" in no_runs["reason"]
    probes_for_latency = one(slo_yaml(select="probes"), results(probes=[probe("edge1", "ssh", True)]))
    assert probes_for_latency["status"] == "fail" and "needs records" in probes_for_latency["reason"]
    other = one(slo_yaml(select="hosts"), results([rec("a", [0.1])]))
    assert other["status"] == "fail" and "neither a record nor a probe result" in other["reason"]
    for doc in (None, [], "text"):
        assert one(slo_yaml(), doc)["status"] == "fail"
    runtime = one(slo_yaml(select="records[?ends_with(record.samples, 'x')]"), KNOWN)
    assert runtime["status"] == "fail" and "failed" in runtime["reason"]


def test_units_convert_between_time_units_and_refuse_others():
    doc = results([rec("probe/edge1/ssh", [250.0], component="probe", unit="ms")])
    assert one(slo_yaml(unit="s", objectives="    - {op: lt, value: 0.3}\n"), doc)["status"] == "pass"
    out = one(slo_yaml(unit="s", objectives="    - {op: lt, value: 0.2}\n"), doc)
    assert out["status"] == "fail" and out["value"] == pytest.approx(0.25)
    mbs = one(slo_yaml(unit="s"), results([rec("io/write", [100.0], component="file_io", unit="MB/s")]))
    assert mbs["status"] == "fail" and "is in 'MB/s', the objective in s" in mbs["reason"]


# --------------------------------------------------------------------------- validation

def test_unknown_field_names_the_document_and_path():
    text = slo_yaml(name="first") + "---\n" + slo_yaml(name="second", objectives="    - {op: lt, value: 1, opp: 2}\n")
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(text=text)
    assert "document 2 (SLO second): spec.objectives[0].opp: unknown field" in str(err.value)
    with pytest.raises(_slo.SloError, match=r"document 1 \(SLO lat\): spec.timeWindow: unknown field"):
        _slo.load_objectives(text=slo_yaml(extra_spec="  timeWindow: [{duration: 1d}]\n"))
    text = slo_yaml().replace("            statistic:", "            filter: x\n            statistic:")
    with pytest.raises(_slo.SloError, match=r"thresholdMetric.metricSource.spec.filter: unknown field"):
        _slo.load_objectives(text=text)


def test_bad_jmespath_names_the_slo():
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(text=slo_yaml(name="broken-select", select="records[?"))
    assert "SLO broken-select" in str(err.value) and "metricSource.spec.select: not a valid JMESPath" in str(err.value)


@pytest.mark.parametrize("change,message", [
    (("apiVersion: openslo/v1", "apiVersion: openslo/v2"), "apiVersion: must be openslo/v1"),
    (("kind: SLO", "kind: SLI"), "kind: must be SLO"),
    (("budgetingMethod: Occurrences", "budgetingMethod: Timeslices"), "spec.budgetingMethod: must be one of Occurrences"),
    (("type: o2edge.perf", "type: prometheus"), "metricSource.type: must be one of o2edge.perf"),
    (("statistic: median", "statistic: p99"), "statistic: must be one of median, p95"),
    (("name: lat", "name: Lat_1"), "metadata.name: must be lower-case"),
    (("    - {op: lt, value: 1}", "    - {op: le, value: 1}"), "spec.objectives[0].op: must be one of lt, lte, gt, gte"),
    (("    - {op: lt, value: 1}", "    - {op: lt, value: fast}"), "spec.objectives[0].value: must be a finite number"),
    (("    - {op: lt, value: 1}", "    - {op: lt}"), "spec.objectives[0].value: is required"),
    (("    - {op: lt, value: 1}", "    - {op: lt, value: 1, target: 1.5}"), "spec.objectives[0].target: must be a number in (0, 1]"),
    (("    - {op: lt, value: 1}", "    []"), "spec.objectives: must be a non-empty list"),
    (("            unit: s\n", ""), "metricSource.spec.unit: is required with statistic median"),
    (("  service: svc\n", ""), "spec.service: is required"),
])
def test_schema_errors(change, message):
    text = slo_yaml()
    assert change[0] in text
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(text=text.replace(change[0], change[1]))
    assert message in str(err.value)
    assert "document 1" in str(err.value)


def test_success_ratio_rules():
    with pytest.raises(_slo.SloError, match=r"objectives\[0\].op: is not used with statistic success_ratio"):
        _slo.load_objectives(text=slo_yaml(statistic="success_ratio", unit=None, objectives="    - {op: gte, value: 1, target: 0.9}\n"))
    with pytest.raises(_slo.SloError, match=r"objectives\[0\].target: is required with statistic success_ratio"):
        _slo.load_objectives(text=slo_yaml(statistic="success_ratio", unit=None, objectives="    - {displayName: x}\n"))
    with pytest.raises(_slo.SloError, match="must be ratio"):
        _slo.load_objectives(text=slo_yaml(statistic="success_ratio", unit="s", objectives="    - {target: 0.9}\n"))


def test_duplicate_names_and_several_objectives():
    with pytest.raises(_slo.SloError, match="SLO lat is already defined by document 1"):
        _slo.load_objectives(text=slo_yaml() + "---\n" + slo_yaml())
    objectives = _slo.load_objectives(text=slo_yaml(objectives="    - {displayName: fast, op: lt, value: 1}\n"
                                                    "    - {displayName: ok, op: lt, value: 2}\n"))
    assert [o["name"] for o in objectives] == ["lat#0", "lat#1"]
    assert [o["objective"] for o in objectives] == ["fast", "ok"]
    out = _slo.evaluate(objectives, results([rec("a", [1.5])]))
    assert [o["status"] for o in out] == ["fail", "pass"]


def test_load_from_path_list_and_refusals(tmp_path):
    path = tmp_path / "slos.yml"
    path.write_text(slo_yaml())
    assert _slo.load_objectives(str(path))[0]["select"] == "records"
    import yaml
    assert _slo.load_objectives(documents=yaml.safe_load(slo_yaml()))[0]["name"] == "lat"
    with pytest.raises(_slo.SloError, match="missing.yml does not exist"):
        _slo.load_objectives(str(tmp_path / "missing.yml"))
    with pytest.raises(_slo.SloError, match="no SLO document"):
        _slo.load_objectives(text="---\n---\n")
    with pytest.raises(_slo.SloError, match="not valid YAML"):
        _slo.load_objectives(text="a: [\nb")


# --------------------------------------------------------------------------- bounded YAML

def test_yaml_bomb_is_refused():
    bomb = "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    for level in "bcdefghi":
        prev = chr(ord(level) - 1)
        bomb += "%s: &%s [%s]\n" % (level, level, ", ".join(["*%s" % prev] * 10))
    with pytest.raises(_slo.SloError, match="uses more than 20 YAML aliases"):
        _slo.load_objectives(text=bomb)
    # few aliases, but they repeat a large node many times
    big = "a: &a [%s]\n" % ", ".join(["x"] * 4000) + "b: [%s]\n" % ", ".join(["*a"] * 15)
    with pytest.raises(_slo.SloError, match="holds more than 50000 values once YAML aliases are expanded"):
        _slo.load_objectives(text=big)
    with pytest.raises(_slo.SloError, match="nests deeper than 20 levels"):
        _slo.load_objectives(text="a: " + "[" * 30 + "]" * 30 + "\n")
    with pytest.raises(_slo.SloError, match="over 1048576 bytes"):
        _slo.load_objectives(text="a: b\n" + "#" * (1024 * 1024))
    with pytest.raises(_slo.SloError, match="refers to a node that contains it"):
        _slo.load_objectives(text="a: &a [*a]\n")
    with pytest.raises(_slo.SloError, match="not valid YAML"):
        _slo.load_objectives(text="a: !!python/object/apply:os.getcwd []\n")
    # a harmless alias is fine
    text = slo_yaml().replace("    - {op: lt, value: 1}", "    - &o {op: lt, value: 1}")
    assert _slo.load_objectives(text=text)[0]["value"] == 1


# --------------------------------------------------------------------------- shipped defaults

DEFAULTS = dict((o["name"], o) for o in _slo.default_objectives())


def _eval(name, doc):
    return _slo.evaluate([DEFAULTS[name]], doc)[0]


def pipeline_records(render_median=0.4, total_median=3.0):
    return [
        rec("git/status", [0.01, 0.012, 0.011], component="git"),
        rec("kpt_render/edge1-config", [render_median] * 3, component="kpt_render"),
        rec("kpt_render/edge1-config@cold", [4.0], component="kpt_render"),
        rec("kpt_render/total", [total_median] * 3, component="kpt_render"),
        rec("kpt_render/total@cold", [9.0], component="kpt_render"),
        rec("prometheus_query/up", [0.02] * 5, component="prometheus_query"),
        rec("file_io/results/write_seconds", [3.0], component="file_io"),
        rec("file_io/results/write", [21.0], component="file_io", unit="MB/s"),
        rec("system/command", [2.0], component="system"),
        rec("probe/edge2/ssh", [], component="probe", unit="ms", failures=1),
    ]


def test_defaults_are_the_four_documented_objectives():
    assert sorted(DEFAULTS) == ["component-latency", "edge-connectivity", "pipeline-dry-run", "success-rate"]
    assert DEFAULTS["component-latency"]["value"] == 1 and DEFAULTS["pipeline-dry-run"]["value"] == 5
    assert DEFAULTS["edge-connectivity"]["target"] == 0.99 and DEFAULTS["success-rate"]["target"] == 0.995


def test_default_component_latency():
    out = _eval("component-latency", results(pipeline_records()))
    assert out["status"] == "pass" and out["selected"] == 3  # git, the package render, the query
    assert out["value"] == pytest.approx(0.4)
    out = _eval("component-latency", results(pipeline_records(render_median=1.2)))
    assert out["status"] == "fail" and "kpt_render/edge1-config" in out["reason"]
    assert _eval("component-latency", results())["status"] == "fail"


def test_default_pipeline_dry_run():
    out = _eval("pipeline-dry-run", results(pipeline_records()))
    assert out["status"] == "pass" and out["selected"] == 1 and out["value"] == 3.0
    assert _eval("pipeline-dry-run", results(pipeline_records(total_median=5.0)))["status"] == "fail"
    assert _eval("pipeline-dry-run", results([rec("git/status", [0.1], component="git")]))["status"] == "fail"


def test_default_edge_connectivity():
    up = [probe("edge%d" % (i % 4), "svc%d" % i, True) for i in range(100)]
    assert _eval("edge-connectivity", results(probes=up))["status"] == "pass"
    one_down = up[:99] + [probe("edge2", "ssh", False)]
    out = _eval("edge-connectivity", results(probes=one_down))
    assert out["status"] == "pass" and out["value"] == 0.99
    two_down = one_down[:98] + [probe("edge2", "o2ims", False), probe("edge2", "ssh", False)]
    assert _eval("edge-connectivity", results(probes=two_down))["status"] == "fail"
    out = _eval("edge-connectivity", results(pipeline_records()))
    assert out["status"] == "fail" and out["reason"].startswith("no measurement matched")


def test_default_success_rate():
    records = pipeline_records()
    out = _eval("success-rate", results(records))
    assert out["status"] == "pass" and out["value"] == 1.0  # the failed probe record is not counted
    many = [rec("git/log", [0.01] * 199, component="git", failures=1)]
    assert _eval("success-rate", results(many))["status"] == "pass"  # 199/200 = 99.5%
    worse = [rec("git/log", [0.01] * 198, component="git", failures=2)]
    out = _eval("success-rate", results(worse))
    assert out["status"] == "fail" and out["value"] == pytest.approx(0.99)
    assert _eval("success-rate", results())["status"] == "fail"


def test_evaluate_does_not_change_its_inputs():
    doc = results(pipeline_records())
    snapshot = copy.deepcopy(doc)
    objectives = list(DEFAULTS.values())
    before = copy.deepcopy(objectives)
    _slo.evaluate(objectives, doc)
    assert doc == snapshot and objectives == before


# --------------------------------------------------------------------------- compiled selections

WEIRD = [0, 1, True, False, "", [], {}, None, 0.0, "1", [1, 2], {"a": 1}, 2.5, "@cold"]


def _selection_doc():
    records = []
    for index, weird in enumerate(WEIRD * 2):
        item = rec("%s/m%02d%s" % (("git", "kpt_render", "file_io")[index % 3], index, "/total" if index % 4 == 0 else ""),
                   [0.1 * (index % 5 + 1), 0.2], component=("git", "kpt_render", "file_io")[index % 3],
                   failures=index % 2)
        item["record"]["context"]["weird"] = weird
        item["host"] = "edge%d" % (index % 3)
        records.append(item)
    return results(records, [probe("edge1", "ssh", True), probe("edge2", "o2ims", False)])


SELECTIONS = [
    "records", "probes", "[records, probes][]", "records[?record.component == 'git']", "records[?record.component != 'git']",
    "records[?starts_with(record.name, 'kpt_render/m0')]", "probes[?result.site == 'edge1']",
    "records[?record.unit == 's' && record.component != 'file_io' && !ends_with(record.name, '/total')"
    " && !contains(record.name, '@cold')]",
    "records[?record.context.weird]", "records[?!record.context.weird]", "records[?record.context.weird == `0`]",
    "records[?record.context.weird == `false`]", "records[?record.context.weird != `1`]",
    "records[?record.context.weird == `true`]", "records[?record.context.weird == record.failures]",
    "records[?record.context.weird || record.failures]", "records[*].record.stats.median", "records[].record",
    "records[?record.failures > `0`].host", "records | [?host == 'edge1']", "records[?@.host == 'edge2']",
    "records[?contains(record.name, '/m1')]", "missing", "run.id", "records[?record.stats.median <= `0.2`]",
    # run-time errors: the message must be jmespath's own
    "records[?record.context.weird < `1`]", "records[?contains(record.context.weird, `1`)]",
    "records[?starts_with(record.context.weird, 'x')]", "records[?ends_with(record.name, `5`)]",
    # not compiled: jmespath evaluates them
    "records[0]", "records[:2]", "length(records)", "*",
]


@pytest.mark.parametrize("select", SELECTIONS)
def test_compiled_selection_gives_what_jmespath_gives(select):
    jmespath = pytest.importorskip("jmespath")
    doc = _selection_doc()
    try:
        want = ("ok", jmespath.search(select, doc))
    except Exception as exc:  # pylint: disable=broad-except
        want = ("error", type(exc).__name__, str(exc))
    try:
        got = ("ok", _slo.select_items(select, doc))
    except Exception as exc:  # pylint: disable=broad-except
        got = ("error", type(exc).__name__, str(exc))
    assert got == want


def test_usual_selections_are_compiled_once():
    for select in SELECTIONS[:25]:
        assert _slo_select._selector(select)[0] is not None, select
        assert _slo_select._selector(select) is _slo_select._selector(select)
    for select in SELECTIONS[-4:]:
        assert _slo_select._selector(select)[0] is None, select
    # the compiled filter is the one evaluate uses: a filter selecting only kpt_render records sees only those
    doc = _selection_doc()
    out = _slo.evaluate(_slo.load_objectives(text=slo_yaml(select="records[?record.component == 'kpt_render']")), doc)
    assert out[0]["selected"] == sum(1 for r in doc["records"] if r["record"]["component"] == "kpt_render")
