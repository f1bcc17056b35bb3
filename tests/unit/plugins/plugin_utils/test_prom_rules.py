# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rules from the SLO objectives (issue 18): burn-rate windows and factors, escaping, no secret in a label,
and promtool's own check and unit tests of what is generated."""
from __future__ import annotations

import shutil
import subprocess

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.plugin_utils._report_formats import prometheus
from ansible_collections.o2edge.perf.plugins.plugin_utils._slo import default_objectives, load_objectives
from ansible_collections.o2edge.perf.plugins.plugin_utils import _prom_rules as R

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(PROMTOOL is None, reason="promtool is missing (make deps installs Debian's "
                                    "prometheus package, which ships it)")
LAB = {"interval": "5s", "probe_for": "20s", "stale_after": "2m", "stale_for": "10s", "render_for": "10s",
       "windows": [{"severity": "page", "long": "2m", "short": "30s", "factor": 14.4, "for": "10s"},
                   {"severity": "page", "long": "6m", "short": "1m", "factor": 6, "for": "20s"},
                   {"severity": "ticket", "long": "20m", "short": "2m", "factor": 3, "for": "1m"}]}


def alerts(doc):
    return {(r["alert"], r["labels"].get("objective")): r for g in doc["groups"] for r in g["rules"] if "alert" in r}


def records(doc):
    return {r["record"]: r for g in doc["groups"] for r in g["rules"] if "record" in r}


def test_default_page_alert_has_the_workbook_windows_and_factors():
    """Bug caught: a wrong window (1h/5m, 6h/30m) or burn-rate factor (14.4, 6) times the budget in the page alert."""
    rule = alerts(R.generate(default_objectives()))[("O2edgePerfErrorBudgetBurnPage", "edge-connectivity")]
    expr = rule["expr"]
    # budget 1 - 0.99 = 0.01: 14.4 x 0.01 = 0.144 over 1h and 5m; 6 x 0.01 = 0.06 over 6h and 30m
    assert ('objective:o2edge_perf_slo_error:ratio_avg1h{objective="edge-connectivity"} > 0.144\n  and\n'
            '  objective:o2edge_perf_slo_error:ratio_avg5m{objective="edge-connectivity"} > 0.144') in expr
    assert ('objective:o2edge_perf_slo_error:ratio_avg6h{objective="edge-connectivity"} > 0.06\n  and\n'
            '  objective:o2edge_perf_slo_error:ratio_avg30m{objective="edge-connectivity"} > 0.06') in expr
    assert expr.count(" > ") == 4 and rule["for"] == "2m" and rule["labels"] == {"severity": "page",
                                                                                 "objective": "edge-connectivity"}
    ticket = alerts(R.generate(default_objectives()))[("O2edgePerfErrorBudgetBurnTicket", "success-rate")]["expr"]
    assert "ratio_avg1d{objective=\"success-rate\"} > 0.015" in ticket and "ratio_avg2h{objective=\"success-rate\"} > 0.015" in ticket
    assert "ratio_avg3d{objective=\"success-rate\"} > 0.005" in ticket and "ratio_avg6h{objective=\"success-rate\"} > 0.005" in ticket
    recs = records(R.generate(default_objectives()))
    for w in ("5m", "30m", "1h", "2h", "6h", "1d", "3d"):
        assert recs["objective:o2edge_perf_slo_error:ratio_avg" + w]["expr"] == \
            "avg_over_time(objective:o2edge_perf_slo_error:ratio[%s])" % w


def test_error_ratio_uses_the_run_figure_then_pass():
    """Bug caught: a success_ratio objective alerting on pass/fail only (one probe down of 100 = a whole bad run)."""
    expr = records(R.generate(default_objectives()))["objective:o2edge_perf_slo_error:ratio"]["expr"]
    assert expr == ('max by (objective) (1 - o2edge_perf_slo_value{unit="ratio"})\nor\n'
                    'max by (objective) (1 - o2edge_perf_slo_pass)')


def test_label_values_are_escaped_in_matchers():
    """Bug caught: a matcher value with a double quote or a newline ends the PromQL string early."""
    doc = R.generate(default_objectives(), {"matchers": {"job": 'o2"edge\nx\\'}})
    expr = records(doc)["objective:o2edge_perf_slo_error:ratio"]["expr"]
    assert 'job="o2\\"edge\\nx\\\\"' in expr and "\n" not in expr.split("\nor\n")[0]
    assert R.promql_string('a"b\nc') == '"a\\"b\\nc"'


def test_secret_looking_matcher_is_refused_without_echo():
    """Bug caught: a secret-looking value (a URL with a password, a token) put into a rule's label matcher."""
    for value in ("https://user:hunter2secret@gw.example:9091", "ghp_abcdefghijklmnop1234567890ABCDEF"):
        with pytest.raises(R.RulesError) as err:
            R.generate(default_objectives(), {"matchers": {"job": value}})
        assert "matchers.job" in str(err.value) and value not in str(err.value)


def test_display_name_never_runs_as_a_template_nor_leaks_a_secret():
    """Bug caught: SLO display text reaching an annotation as a Go template ({{ query ... }}) or quoting a token."""
    text = ('apiVersion: openslo/v1\nkind: SLO\nmetadata: {name: x-y, displayName: "{{ query \\"up\\" }}"}\n'
            'spec: {service: s, budgetingMethod: Occurrences, indicator: {metadata: {name: i}, spec: {thresholdMetric: '
            '{metricSource: {type: o2edge.perf, spec: {select: probes, statistic: success_ratio}}}}}, objectives: '
            '[{displayName: "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk", target: 0.9}]}\n')
    rule = alerts(R.generate(load_objectives(text=text)))[("O2edgePerfErrorBudgetBurnPage", "x-y")]
    desc = rule["annotations"]["description"]
    assert '{{ "{{" }} query "up" {{ "}}" }}' in desc and "eyJhbGci" not in desc and "not shown" in desc


@pytest.mark.parametrize("options, field", [
    ({"windows": [{"severity": "page", "long": "5m", "short": "1h", "factor": 14.4}]}, "windows[0]"),
    ({"windows": [{"severity": "page", "long": "1h", "short": "5m", "factor": 0}]}, "windows[0].factor"),
    ({"windows": [{"severity": "page", "long": "1 h", "short": "5m", "factor": 2}]}, "windows[0].long"),
    ({"interval": "5m", "windows": [{"severity": "page", "long": "1h", "short": "5m", "factor": 2}]}, "windows[0].short"),
    ({"textfile_name": "../x.prom"}, "textfile_name"),
    ({"bogus": 1}, "unknown option"),
])
def test_bad_options_name_the_field(options, field):
    """Bug caught: nonsense windows or names accepted silently (alerts that can never fire, a path in a regex)."""
    with pytest.raises(R.RulesError) as err:
        R.generate(default_objectives(), options)
    assert field in str(err.value)


def test_metrics_file_escapes_hostile_site_names_and_stays_parseable(tmp_path):
    """Bug caught (issue 18 item 5): a site name with a quote or newline breaking metrics.prom; checked by promtool."""
    model = {"run": {"id": "r1", "status": "ok"}, "title": "t", "missing": [], "measurements": [], "slo": [],
             "comparisons_summary": {},
             "matrix": {"sites": ['ed"ge\n1'], "cells": {'ed"ge\n1': {"ssh": {"state": "up", "kind": "ssh",
                                                                              "latency_ms": 3}}}}}
    text = prometheus(model)
    assert 'site="ed\\"ge\\n1"' in text
    if PROMTOOL:
        res = subprocess.run([PROMTOOL, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
        assert "error" not in (res.stdout + res.stderr).lower(), res.stdout + res.stderr


def write_pair(tmp_path, options):
    objectives = default_objectives()
    (tmp_path / "o2edge_perf.rules.yml").write_text(yaml.safe_dump(R.generate(objectives, options), sort_keys=False))
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(R.promtool_tests(objectives, options), sort_keys=False))
    return tmp_path


def promtool(*args, cwd):
    return subprocess.run([PROMTOOL] + list(args), cwd=str(cwd), capture_output=True, text=True, check=False,
                          timeout=600)


@needs_promtool
def test_promtool_checks_and_unit_tests_pass_with_lab_windows(tmp_path):
    """Bug caught: rules promtool refuses, or alerts that do not fire in time, do not resolve, or fire when quiet."""
    write_pair(tmp_path, LAB)
    res = promtool("check", "rules", "o2edge_perf.rules.yml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    res = promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    names = [t["name"] for t in yaml.safe_load((tmp_path / "tests.yml").read_text())["tests"]]
    assert any("quiet period" in n for n in names) and any("O2edgePerfProbeDown" in n for n in names)
    assert sum("fires O2edgePerfErrorBudgetBurnPage" in n for n in names) == 4


@needs_promtool
def test_promtool_unit_tests_pass_with_default_windows(tmp_path):
    """Bug caught: the shipped (1h/5m ... 3d/6h) rules not firing, resolving or staying quiet as their tests say."""
    write_pair(tmp_path, {})
    res = promtool("test", "rules", "tests.yml", cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr


@needs_promtool
@pytest.mark.parametrize("mutation", ["factor", "window"])
def test_promtool_tests_catch_a_wrong_factor_or_window(tmp_path, mutation):
    """Bug caught: the generated promtool tests passing whatever the rules say (a test that cannot fail)."""
    tests_doc = R.promtool_tests(default_objectives(), LAB)
    if mutation == "factor":   # burn factor 1.44 instead of 14.4: the quiet period's single failed run pages
        bad = dict(LAB, windows=[dict(LAB["windows"][0], factor=1.44)] + LAB["windows"][1:])
    else:                      # windows of 15s/10s instead of 2m/30s: the one failed run fills them and pages
        bad = dict(LAB, windows=[dict(LAB["windows"][0], long="15s", short="10s")] + LAB["windows"][1:])
    (tmp_path / "o2edge_perf.rules.yml").write_text(yaml.safe_dump(R.generate(default_objectives(), bad)))
    (tmp_path / "tests.yml").write_text(yaml.safe_dump(tests_doc, sort_keys=False))
    res = promtool("test", "rules", "tests.yml", cwd=tmp_path)
    # an alert fired where the tests expect none (not merely an annotation that names the windows)
    out = res.stdout + res.stderr
    assert res.returncode != 0 and "exp:[]" in out, out


def test_one_edge_down_of_four_burns_the_page_budget():
    """Bug caught: the page factor x budget above what one blackholed edge of four causes (the lab proof never fires)."""
    objective = [o for o in default_objectives() if o["name"] == "edge-connectivity"][0]
    assert R.burn_threshold(objective, R.check_options(LAB)["windows"][0]) < 0.25
