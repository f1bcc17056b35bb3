# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""measurements.csv built a row at a time with remembered text cells: the bytes of one field at a time."""
from __future__ import annotations

import random

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_formats as f


def _reference_csv(model):
    """measurements_csv as it was: a tuple per row, then _csv_field of every field."""
    def num(value):
        return value if value.__class__ in (float, int) else ""
    run_id = f._cell(model["run"].get("id"))
    rows = []
    for m in model["measurements"]:
        st = m["stats"]
        c = m["comparison"] or {}
        ci = c.get("ci") or (None, None)
        rows.append((run_id, f._cell(m["host"]), f._cell(m["play"]), f._cell(m["task"]), f._cell(m["name"]),
                     f._cell(m["component"]), f._cell(m["unit"]), m["n"], num(m["warmup"]), num(m["failures"]))
                    + tuple(num(st.get(k)) for k in ("min", "median", "mean", "p95", "max", "stdev", "mad"))
                    + (len(st.get("outliers") or ()), "true" if st.get("slow_first_run") else "false",
                       f._cell(m["started_at"]))
                    + ((num(c.get("median_before")), num(c.get("change_pct")), num(c.get("ratio")), num(ci[0]),
                        num(ci[1]), num(c.get("p_value")), f._cell(c.get("verdict")), f._cell(c.get("reason")))
                       if c else ("",) * 8))
    return "".join(",".join(map(f._csv_field, row)) + "\n" for row in [f.CSV_COLUMNS] + rows)


class Text(str):
    pass


TEXTS = ["edge1", "", "a,b", 'say "hi"', "line\nbreak", "cr\ronly", "=SUM(A1)", "+1", "-x", "@y", "\tz",
         "ok\n=evil", "\r\n-2", "caf\u00e9", Text("sub,class"), None, 3, 2.5, True]
FIGURES = [1.5, 0, 7, -2.25, 1e-7, 1e300, None, True, "1.0", float("nan"), float("inf"), [1]]


def _model(rng, n):
    ms = []
    for i in range(n):
        comparison = None
        if rng.random() < 0.7:
            comparison = dict((k, rng.choice(FIGURES)) for k in ("median_before", "change_pct", "ratio", "p_value"))
            comparison.update(ci=rng.choice([None, (rng.choice(FIGURES), rng.choice(FIGURES)), []]),
                              verdict=rng.choice(TEXTS), reason=rng.choice(TEXTS))
            if rng.random() < 0.05:
                comparison = {}
        stats = dict((k, rng.choice(FIGURES)) for k in ("min", "median", "mean", "p95", "max", "stdev", "mad")
                     if rng.random() < 0.9)
        stats.update(outliers=rng.choice([None, [], [1, 2]]), slow_first_run=rng.choice([True, False, None]))
        ms.append({"host": rng.choice(TEXTS), "play": rng.choice(TEXTS), "task": rng.choice(TEXTS),
                   "name": rng.choice(TEXTS), "component": rng.choice(TEXTS), "unit": rng.choice(TEXTS),
                   "n": rng.randint(0, 12), "warmup": rng.choice(FIGURES), "failures": rng.choice(FIGURES),
                   "stats": stats, "started_at": rng.choice(TEXTS), "comparison": comparison})
    return {"run": {"id": rng.choice(TEXTS)}, "measurements": ms}


def test_csv_bytes_equal_the_field_at_a_time_writer():
    rng = random.Random(7)
    for n in (0, 1, 5, 300):
        model = _model(rng, n)
        assert f.measurements_csv(model) == _reference_csv(model)


def _reference_junit_comparisons(suites, model):
    """The comparisons' suite as it was built: ElementTree elements."""
    ET = f.ET
    comparisons = [c for c in model["comparisons"] if c.get("role") in (None, "sequential", "paired")]
    if not comparisons:
        return
    slower = sum(1 for c in comparisons if c.get("comparable") and c["verdict"] == "slower")
    skipped = sum(1 for c in comparisons if c["verdict"] not in ("faster", "slower", "no clear change"))
    suite = ET.SubElement(suites, "testsuite", name=f.xml_text("o2edge.perf comparisons: %s" % model["title"]),
                          tests=str(len(comparisons)), failures=str(slower), errors="0", skipped=str(skipped),
                          timestamp=f.xml_text(model["generated_at"]))
    for c in comparisons:
        case = ET.SubElement(suite, "testcase", classname="o2edge.perf.comparison.%s" % f.xml_text(
            c.get("design") or "sequential"), name=f.xml_text("%s on %s" % (c["name"], c["host"])), time="0")
        if c.get("comparable") and c["verdict"] == "slower":
            ET.SubElement(case, "failure", message=f.xml_text(c.get("reason")), type="regression").text = f.xml_text(
                "%s: %s" % (c["verdict"], c.get("reason")))
        elif c["verdict"] not in ("faster", "slower", "no clear change"):
            ET.SubElement(case, "skipped", message=f.xml_text("%s: %s" % (c["verdict"], c.get("reason"))))
        else:
            ET.SubElement(case, "system-out").text = f.xml_text("%s: %s" % (c["verdict"], c.get("reason")))
    suites.set("tests", str(int(suites.get("tests")) + len(comparisons)))
    suites.set("failures", str(int(suites.get("failures")) + slower))


XML_TEXTS = ["", "plain", "a & b", "<tag>", 'q"uote', "it's", "cr\rlf\n tab\t", "\x00\x1b bad", "\ud800 lone",
             "\U0001f600", "]]>", "&amp;", None]


def test_junit_bytes_equal_the_element_tree_writer(monkeypatch):
    rng = random.Random(3)
    verdicts = ["faster", "slower", "no clear change", "not comparable", "not enough samples", "held", ""]
    for n in (0, 1, 4, 200):
        comparisons = [{"name": rng.choice(XML_TEXTS), "host": rng.choice(XML_TEXTS), "verdict": rng.choice(verdicts),
                        "reason": rng.choice(XML_TEXTS), "comparable": rng.choice([True, False, None]),
                        "design": rng.choice([None, "sequential", "interleaved", "<x&y>"]),
                        "role": rng.choice([None, "sequential", "paired", "control", "host_state"])}
                       for dummy in range(n)]
        model = {"title": rng.choice(XML_TEXTS[:-1]), "generated_at": "2026-11-28T15:00:00.000Z",
                 "slo": [], "slo_failed": [], "missing": [], "run": {"id": "r&1", "status": "ok"},
                 "comparisons": comparisons}
        got = f.junit(model)
        with monkeypatch.context() as m:
            m.setattr(f, "_junit_comparisons", _reference_junit_comparisons)
            assert got == f.junit(model)
