# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Known-answer tests of each report format: CSV, JUnit, Prometheus text (own parser and promtool), Markdown, HTML."""
from __future__ import annotations

import csv
import io
import re
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report, _report_formats as f, _report_html
from tests.unit.plugins.plugin_utils.test_report import (
    AFTER, BEFORE, PROBES, T0, build_standard, make_doc, objectives, record)

NASTY = 'a"b\\c\nd <script>alert(1)</script> {{ 7*6 }} | *x* [l](javascript:x)'


def nasty_model():
    """A run whose text fields try every escape; a missing git/status fails its objective."""
    base = make_doc([record(NASTY, "kpt_render", BEFORE)])
    doc = make_doc([record(NASTY, "kpt_render", AFTER), record("=HYPERLINK(1)", "git", [0.2] * 3)],
                   probes=[("edge<1>", "ssh", "up")], tasks=[(NASTY, 2.0)])
    return _report.build(doc, base, objectives(), title=NASTY, generated_at=T0)


def parse_prometheus(content):
    """A strict parser of the text exposition format: {(name, labels): value}.

    Raises ValueError naming the line for a sample without a TYPE line before it, a malformed
    line, a bad escape in a label value or a duplicate series.
    """
    series = {}
    typed = set()
    sample_rx = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
    label_rx = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(?:,|$)')
    for lineno, line in enumerate(content.split("\n"), 1):
        if not line:
            continue
        if line.startswith("# TYPE "):
            parts = line.split(" ")
            if len(parts) != 4 or parts[3] != "gauge":
                raise ValueError("line %d: bad TYPE line" % lineno)
            typed.add(parts[2])
            continue
        if line.startswith("# HELP "):
            continue
        match = sample_rx.match(line)
        if not match:
            raise ValueError("line %d: not a sample: %r" % (lineno, line))
        name, raw, value = match.groups()
        if name not in typed:
            raise ValueError("line %d: %s has no TYPE line before it" % (lineno, name))
        labels, pos, raw = [], 0, raw or ""
        while pos < len(raw):
            lm = label_rx.match(raw, pos)
            if not lm:
                raise ValueError("line %d: bad labels at %r" % (lineno, raw[pos:]))
            labels.append((lm.group(1), re.sub(r'\\(.)', lambda m: "\n" if m.group(1) == "n" else m.group(1), lm.group(2))))
            pos = lm.end()
        key = (name, tuple(labels))
        if key in series:
            raise ValueError("line %d: duplicate series %s" % (lineno, name))
        series[key] = float(value)
    return series


def promtool_check(content):
    promtool = shutil.which("promtool")
    assert promtool, "promtool (Debian package prometheus) is needed: tests/tools/apt-packages.txt"
    proc = subprocess.run([promtool, "check", "metrics"], input=content, capture_output=True, text=True,
                          timeout=30, check=False)
    return proc.returncode, proc.stdout + proc.stderr


# --------------------------------------------------------------------------- CSV

def test_csv_one_row_per_record_with_stats_and_comparison_columns():
    model = build_standard()
    rows = list(csv.DictReader(io.StringIO(f.measurements_csv(model))))
    assert list(rows[0].keys()) == list(f.CSV_COLUMNS)
    assert [r["name"] for r in rows] == ["kpt_render/edge1", "git/status", "kpt_render/edge2", "file_io/write"]
    kpt = rows[0]
    assert (kpt["run_id"], kpt["host"], kpt["unit"], kpt["samples"], kpt["warmup"]) == (
        "20261128T140000Z-1a2b3c4d", "ctl", "s", "10", "1")
    assert float(kpt["median"]) == 0.5 and float(kpt["min"]) == 0.48 and float(kpt["max"]) == 0.52
    assert float(kpt["median_before"]) == 1.0 and float(kpt["change_pct"]) == pytest.approx(-50.0)
    assert kpt["verdict"] == "faster" and float(kpt["ci_low"]) < 0.5 < float(kpt["ci_high"]) < 1
    assert rows[2]["verdict"] == "not comparable" and rows[2]["change_pct"] == ""
    assert rows[3]["median"] == "405.0" and rows[3]["verdict"] == "" and rows[3]["unit"] == "MB/s"


def test_csv_text_cells_cannot_be_formulas_and_round_trip():
    rows = list(csv.DictReader(io.StringIO(f.measurements_csv(nasty_model()))))
    assert rows[0]["name"] == NASTY  # quotes, backslashes and the newline survive the csv module
    assert rows[1]["name"] == "'=HYPERLINK(1)"


# --------------------------------------------------------------------------- JUnit

def test_junit_one_case_per_objective_failure_carries_the_reason():
    model = nasty_model()
    root = ET.fromstring(f.junit(model))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = dict((c.get("name"), c) for c in suite.findall("testcase"))
    assert sorted(cases) == ["git-status-median", "kpt-render-p95"]
    failure = cases["git-status-median"].find("failure")
    reason = [o for o in model["slo"] if o["name"] == "git-status-median"][0]["reason"]
    assert failure.get("message") == reason and "no measurement matched" in reason
    assert cases["kpt-render-p95"].find("failure") is None
    assert suite.find("properties/property[@name='run_id']").get("value") == "20261128T140000Z-1a2b3c4d"


def test_junit_drops_characters_xml_cannot_hold():
    model = nasty_model()
    model["title"] = "bad \x01\x1b char"
    assert ET.fromstring(f.junit(model)).find("testsuite").get("name").endswith("bad \ufffd\ufffd char")


# --------------------------------------------------------------------------- Prometheus

def test_prometheus_known_values_and_promtool_accepts_it():
    text = f.prometheus(build_standard())
    series = parse_prometheus(text)
    lab = (("name", "kpt_render/edge1"), ("component", "kpt_render"), ("host", "ctl"))
    assert series[("o2edge_perf_median_seconds", lab)] == 0.5
    assert series[("o2edge_perf_p95_seconds", lab)] == pytest.approx(0.5155)
    assert series[("o2edge_perf_change_ratio", lab)] == pytest.approx(0.5)
    assert series[("o2edge_perf_samples", lab)] == 10
    io_labels = (("name", "file_io/write"), ("component", "file_io"), ("host", "ctl"), ("unit", "MB/s"))
    assert series[("o2edge_perf_median", io_labels)] == 405.0
    assert ("o2edge_perf_median_seconds", io_labels[:3]) not in series  # MB/s is not a duration
    assert series[("o2edge_perf_slo_pass", (("objective", "kpt-render-p95"),))] == 1
    assert series[("o2edge_perf_probe_up", (("site", "edge2"), ("service", "ssh"), ("kind", "ssh")))] == 0
    assert series[("o2edge_perf_probe_up", (("site", "edge1"), ("service", "ssh"), ("kind", "ssh")))] == 1
    assert series[("o2edge_perf_probe_state", (("site", "edge2"), ("service", "ssh"), ("state", "host_key_mismatch")))] == 1
    assert series[("o2edge_perf_probe_latency_seconds", (("site", "edge1"), ("service", "ssh"), ("kind", "ssh")))] == 0.0125
    assert sum(1 for k in series if k[0] == "o2edge_perf_probe_up") == len(PROBES)
    for name in set(k[0] for k in series):
        assert "# HELP %s " % name in text and "# TYPE %s gauge" % name in text
    rc, out = promtool_check(text)
    assert rc == 0 and out.strip() == "", out


def test_prometheus_escapes_labels_fails_missing_objective_and_never_duplicates():
    model = nasty_model()
    model["measurements"].append(dict(model["measurements"][1]))  # the same series twice
    text = f.prometheus(model)
    series = parse_prometheus(text)  # raises on a duplicate series or a bad escape
    lab = (("name", NASTY), ("component", "kpt_render"), ("host", "ctl"))
    assert series[("o2edge_perf_median_seconds", lab)] == 0.5
    assert series[("o2edge_perf_slo_pass", (("objective", "git-status-median"),))] == 0
    assert not [k for k in series if k[0] == "o2edge_perf_slo_value" and k[1][0][1] == "git-status-median"]
    assert ('title="%s"' % f.label_value(NASTY)) in text and '\\"b\\\\c\\nd' in text
    rc, out = promtool_check(text)
    assert rc == 0 and out.strip() == "", out


def test_own_parser_rejects_what_promtool_rejects():
    bad = '# TYPE m gauge\nm{a="x"} 1\nm{a="x"} 2\n'
    with pytest.raises(ValueError, match="duplicate"):
        parse_prometheus(bad)
    assert promtool_check(bad)[0] != 0
    with pytest.raises(ValueError, match="bad labels"):
        parse_prometheus('# TYPE m gauge\nm{a="x\\qy"} 1\n')  # \q is no escape
    with pytest.raises(ValueError, match="no TYPE"):
        parse_prometheus('m 1\n')


def test_milliseconds_are_exported_in_seconds():
    doc = make_doc([record("x", "git", [250.0] * 3, unit="ms")])
    series = parse_prometheus(f.prometheus(_report.build(doc, None, objectives(), generated_at=T0)))
    assert series[("o2edge_perf_median_seconds", (("name", "x"), ("component", "git"), ("host", "ctl")))] == 0.25


# --------------------------------------------------------------------------- Markdown

def test_markdown_has_the_computed_percentages():
    model = build_standard()
    text = f.markdown(model)
    kpt = [c for c in model["comparisons"] if c["name"] == "kpt_render/edge1"][0]
    lo, hi = kpt["ci"]
    row = [line for line in text.splitlines() if line.startswith("| kpt\\_render/edge1 | sequential | ctl | s | 1 |")][0]
    assert "| -50.0% |" in row and "| %s |" % f.md(f.ci_percent(kpt["ci"])) in row and "**faster**" in row
    assert f.ci_percent(kpt["ci"]) == "[%+.1f%%, %+.1f%%]" % ((lo - 1) * 100, (hi - 1) * 100)
    assert "2/3 sites fully up (66.7%), 3/5 services up (60.0%)" in text
    assert "2/2 passed (100.0%)" in text
    assert "| not comparable: versions differ: kpt 1.0.0-beta.55 -&gt; 1.0.0-beta.56 |" in text
    assert "| edge2 | host\\_key\\_mismatch | refused | down |" in text
    assert "Incomplete" not in text


def test_markdown_missing_block_comes_first_and_text_is_escaped():
    model = nasty_model()
    text = f.markdown(model)
    lines = text.splitlines()
    assert lines[2].startswith("> **Incomplete: ") and "objective git-status-median" in lines[4]
    assert "<script>" not in text and "&lt;script&gt;" in text and "{{ 7\\*6 }}" in text and "42" not in text
    assert "\\[l\\](javascript:x)" in text and "a\"b\\\\c d" in text
    measurement_rows = [line for line in lines if line.startswith("| a\"b") and "| kpt\\_render | ctl |" in line]
    assert len(measurement_rows) == 1
    assert len(re.findall(r"(?<!\\)\|", measurement_rows[0])) == 13  # 12 cells: the name's | is escaped


# --------------------------------------------------------------------------- HTML (source; the browser test renders it)

def test_html_is_escaped_self_contained_and_scriptless():
    html = _report_html.report_html(nasty_model())
    assert "<script" not in html and "&lt;script&gt;" in html and "{{ 7*6 }}" in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert re.findall(r'(?:src|href)="', html) == []
    assert set(re.findall(r'https?://[^"\s<]+', html)) == {"http://www.w3.org/2000/svg"}


def test_html_chart_rows_are_capped_with_a_note():
    doc = make_doc([record("m%03d" % i, "git", [0.1 + i / 1000.0] * 3) for i in range(45)])
    html = _report_html.report_html(_report.build(doc, None, objectives(), generated_at=T0))
    assert html.count('<g class="row"') == _report_html.MAX_ROWS
    assert "5 more measurement(s) of git in the table below." in html
    assert html.count('<tr class="measurement">') == 45


# --------------------------------------------------------------------------- issue 15: hostile text in every format

def test_csv_bare_cr_is_quoted_and_every_line_of_a_cell_is_formula_guarded():
    # Bug (issue 15, 5): a bare CR in a name was written unquoted (the csv module quotes only the line
    # terminator's characters), so a spreadsheet started a new row whose first cell was a live formula;
    # the line after a line break inside a quoted cell was not guarded either.
    doc = make_doc([record("x\r=cmd|' /C calc'!A0", "git", [0.2] * 3), record("ok\n+SUM(A1)\r\n@x", "git", [0.2] * 3)])
    text = f.measurements_csv(_report.build(doc, None, objectives(), generated_at=T0))
    assert "\"x\r'=cmd|' /C calc'!A0\"" in text
    assert "\"ok\n'+SUM(A1)\r\n'@x\"" in text
    # A spreadsheet that splits on any CR or LF never sees a cell starting with a formula character.
    for line in re.split(r"\r\n|\r|\n", text):
        for cell in line.split(","):
            assert not cell.lstrip('"')[:1] in ("=", "+", "@"), line
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert [r["name"] for r in rows] == ["x\r'=cmd|' /C calc'!A0", "ok\n'+SUM(A1)\r\n'@x"]


def test_html_matrix_escapes_site_and_service_names_exactly():
    # Bug (issue 15, 7): removing the escaping of a site name in the matrix (or of a service in its
    # header) failed no test: the test only looked for "<script".
    doc = make_doc(probes=[('a"b<i>', 'svc"<b>', "up")])
    html = _report_html.report_html(_report.build(doc, None, objectives(), generated_at=T0))
    assert "<th>a&quot;b&lt;i&gt;</th>" in html and '<tr data-site="a&quot;b&lt;i&gt;">' in html
    assert "<th>svc&quot;&lt;b&gt;</th>" in html


def test_prometheus_host_label_is_escaped_exactly_and_parses():
    # Bug (issue 15, 7): the escaping of the host label in metrics.prom could be removed without a
    # failing test. A host with a quote, a backslash and a newline must come out escaped, once.
    host = 'h"1\\x\nh'
    doc = make_doc([(host, record("m", "git", [0.2] * 3))])
    text = f.prometheus(_report.build(doc, None, objectives(), generated_at=T0))
    assert 'o2edge_perf_median_seconds{name="m",component="git",host="h\\"1\\\\x\\nh"} 0.2\n' in text
    series = parse_prometheus(text)
    assert series[("o2edge_perf_samples", (("name", "m"), ("component", "git"), ("host", host)))] == 3
    rc, out = promtool_check(text)
    assert rc == 0 and out.strip() == "", out
