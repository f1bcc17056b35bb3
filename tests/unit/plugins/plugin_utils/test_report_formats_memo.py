# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The fast paths of the report formats (one format for many finite floats, a search before escaping,
results remembered per string) against straightforward references, on random and hostile values."""
from __future__ import annotations

import html
import math
import random

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_formats as f, _report_html


class Text(str):
    pass


class Real(float):
    pass


HOSTILE = ["", "plain", "kpt_render/m00000", "a\\b", "`x`", "*b*", "_u_", "[l](j:x)", "a|b", "#h", "!i", "~s",
           "a & b", "<t>", "x>y", "l\nb", "c\rr", "t\tb", "&amp;", "\\&<", 'q"o', "it's", "a,b", "=SUM(1)", "+1",
           "-x", "@y", "\tz", "ok\n=evil", "\r\n-2", "caf\u00e9", "\x00\x1b", "\ud800", "\U0001f600", "]]>",
           'No clear change (p = 0.5, needs < 0.05); interval [0.9, 1.1] & "so" on']
VALUES = HOSTILE + [Text("a_b"), Text("<x>"), None, 0, 1, True, False, 1.0, 2.5, float("nan"), [1, 2], ("t",)]
FIGURES = [0.0, -0.0, 1.5, -2.25, 1e-7, 0.049724, 1e300, 1.7e308, -1.7e308, 12345678.9, 7, 0, -3, True, False,
           None, "1.0", float("nan"), float("inf"), float("-inf"), Real(2.0), [1], 10 ** 20]


def _random_text(rng):
    """A string of 0..12 characters drawn from Markdown, HTML, CSV, XML specials and plain letters."""
    alphabet = "ab \\`*_[]|#!~&<>\n\r\t\"',=+-@;\x00\u00e9"
    return "".join(rng.choice(alphabet) for dummy in range(rng.randint(0, 12)))


def _texts():
    rng = random.Random(11)
    return VALUES + [_random_text(rng) for dummy in range(3000)]


def _md_reference(value):
    """md() as one str.translate over the characters (what the table _MD_ESCAPES means)."""
    return f.text(value).translate(f._MD_ESCAPES)


def test_md_equals_the_translate_reference():
    for value in _texts():
        assert f.md(value) == _md_reference(value), repr(value)


def test_md_of_a_clean_string_is_that_string():
    for value in ("", "plain text 1.5 s", "edge1", "caf\u00e9 (ok) {x} 'q' \"d\" -+=/%"):
        assert f.md(value) == value


def test_remembered_gives_what_the_function_gives_every_time():
    calls = []

    def func(value):
        calls.append(value)
        return "<%s:%s>" % (type(value).__name__, value)
    cached = f.remembered(func)
    values = _texts()
    for dummy in range(2):
        for value in values:
            assert cached(value) == func(value)
    # 1, True and 1.0 are equal dict keys: only exact strings are remembered, so each keeps its own text
    assert [cached(v) for v in (1, True, 1.0, "1")] == ["<int:1>", "<bool:True>", "<float:1.0>", "<str:1>"]
    assert cached(Text("x")) == "<Text:x>"


def test_remembered_calls_once_per_string():
    calls = []
    cached = f.remembered(lambda value: calls.append(value) or value.upper())
    assert [cached(v) for v in ("a", "b", "a", "a", "b")] == ["A", "B", "A", "A", "B"]
    assert calls == ["a", "b"]


def _stat_reference(m):
    st = m["stats"]
    return tuple(f.number(st.get(k)) for k in f.STAT_COLUMNS)


def test_stat_cells_equal_number_of_each_column():
    rng = random.Random(5)
    for i in range(4000):
        if i % 3 == 0:  # finite floats, the fast path
            stats = dict((k, rng.uniform(-1e6, 1e6) * rng.choice([1, 1e-9, 1e200])) for k in f.STAT_COLUMNS)
        else:
            stats = dict((k, rng.choice(FIGURES)) for k in f.STAT_COLUMNS if rng.random() < 0.95)
        m = {"stats": stats}
        assert f.stat_cells(m) == _stat_reference(m), stats
        assert m["_cells"] == _stat_reference(m)
        assert f.stat_cells(m) is m["_cells"]


def test_stat_cells_fast_path_leaves_out_what_number_leaves_out():
    base = dict((k, 1.5) for k in f.STAT_COLUMNS)
    assert f.stat_cells({"stats": dict(base)}) == ("1.5",) * 6
    for odd, shown in ((float("nan"), "-"), (float("inf"), "-"), (True, "-"), (None, "-"), (Real(2.0), "-"),
                       (3, "3"), (1.7e308, "1.7e+308")):
        stats = dict(base, p95=odd, max=1.7e308)  # 1.7e308 twice: a sum that overflows
        assert f.stat_cells({"stats": stats}) == ("1.5", shown, "1.5", "1.7e+308", "1.5", "1.5")


def _comparison_reference(c):
    return (f.number(c.get("median_before")), f.number(c.get("median_after")), f.percent(c.get("change_pct")),
            f.ci_percent(c.get("ci")), f.number(c.get("p_value"), 3))


def _random_comparison(rng, fast):
    keys = ("median_before", "median_after", "change_pct", "p_value")
    if fast:
        c = dict((k, rng.uniform(-1e3, 1e3) * rng.choice([1, 1e-8, 1e100])) for k in keys)
        c["ci"] = rng.choice([list, tuple])(rng.uniform(0, 3) * rng.choice([1, 1e-8, 1e306]) for dummy in range(2))
        return c
    c = dict((k, rng.choice(FIGURES)) for k in keys if rng.random() < 0.9)
    c["ci"] = rng.choice([None, [], [1.1], (rng.choice(FIGURES), rng.choice(FIGURES)), [0.9, 1.1], (1, 2),
                          [0.9, 1.1, 1.2], "ab", [Real(0.5), 1.5], [1.7e308, 1.0], [0.5, 1e307]])
    return c


def test_comparison_cells_equal_the_separate_formatters():
    rng = random.Random(9)
    for i in range(6000):
        c = _random_comparison(rng, i % 2 == 0)
        assert f.comparison_cells(c) == _comparison_reference(c), c


def test_comparison_cells_known_values():
    c = {"median_before": 0.0513825, "median_after": 0.0497245, "change_pct": -3.2267795455651282,
         "ci": [0.895675425764276, 1.060565709830569], "p_value": 0.4273553138978076}
    assert f.comparison_cells(c) == ("0.05138", "0.04972", "-3.2%", "[-10.4%, +6.1%]", "0.427")
    # a bound whose change overflows is "-" inside the interval, as ci_percent writes it
    assert f.comparison_cells(dict(c, ci=[1e307, 1.0]))[3] == "[-, +0.0%]"
    assert f.comparison_cells(dict(c, change_pct=float("nan")))[2] == "-"


def test_html_e_equals_html_escape():
    for value in _texts():
        assert _report_html.e(value) == _html_reference(value), repr(value)


def test_csv_text_equals_cell_then_field():
    for value in _texts():
        assert f._csv_text(value) == f._csv_field(f._cell(value)), repr(value)


def _old_prometheus_measurements(model):
    """The measurements' series as prometheus() added them, one add() per sample (the reference)."""
    fam = f._Families()
    for name in ("o2edge_perf_median_seconds", "o2edge_perf_p95_seconds", "o2edge_perf_median", "o2edge_perf_samples",
                 "o2edge_perf_failures", "o2edge_perf_change_ratio", "o2edge_perf_regression"):
        fam.family(name, name)
    for m in model["measurements"]:
        lab = f.labels((("name", m["name"]), ("component", m["component"]), ("host", m["host"])))
        scale = f._TO_SECONDS.get(m["unit"])
        st = m["stats"]
        if scale is not None:
            if f._finite(st.get("median")):
                fam.add("o2edge_perf_median_seconds", lab, st["median"] * scale)
            if f._finite(st.get("p95")):
                fam.add("o2edge_perf_p95_seconds", lab, st["p95"] * scale)
        else:
            fam.add("o2edge_perf_median", lab + ',unit="%s"' % f.label_value(m["unit"]), st.get("median"))
        fam.add("o2edge_perf_samples", lab, m["n"])
        fam.add("o2edge_perf_failures", lab, m["failures"])
        c = m["comparison"]
        if c and c.get("comparable"):
            fam.add("o2edge_perf_change_ratio", lab, c.get("ratio"))
            fam.add("o2edge_perf_regression", lab, 1 if c.get("verdict") == "slower" else 0)
    return fam.samples


def _prometheus_model(rng, n):
    names = ["m1", "m2", 'q"x', "b\\s", "n\nl", None, 3]
    measurements = []
    for i in range(n):
        fast = i % 2 == 0
        figure = (lambda: rng.uniform(0, 10)) if fast else (lambda: rng.choice(FIGURES))
        comparison = rng.choice([None, {}, {"comparable": rng.choice([True, False, None]), "ratio": figure(),
                                            "verdict": rng.choice(["slower", "faster", None])}])
        measurements.append({"name": rng.choice(names), "component": rng.choice(names), "host": rng.choice(names),
                             "unit": rng.choice(["s", "ms", "us", "ns", "MB", None, 'u"']),
                             "stats": {"median": figure(), "p95": figure()},
                             "n": rng.randint(0, 9) if fast else rng.choice(FIGURES),
                             "failures": rng.randint(0, 2) if fast else rng.choice(FIGURES),
                             "comparison": comparison})
    return {"title": "t", "run": {"id": "r", "status": "ok"}, "missing": [], "slo": [],
            "matrix": {"sites": [], "cells": {}}, "generated_at": "2026-11-28T15:00:00.000Z",
            "comparisons_summary": {}, "measurements": measurements}


def test_prometheus_measurement_series_equal_one_add_per_sample():
    rng = random.Random(13)
    for n in (0, 1, 10, 400):
        model = _prometheus_model(rng, n)
        fam = f._Families()
        original = f._Families
        f._Families = lambda: fam  # capture the families prometheus() fills
        try:
            f.prometheus(model)
        finally:
            f._Families = original
        expected = _old_prometheus_measurements(model)
        for name, series in expected.items():
            got = fam.samples[name]
            assert list(got.items()) == list(series.items()), name  # same order, same values
            for value in got.values():
                assert not isinstance(value, bool) and math.isfinite(value)


def test_prometheus_render_writes_name_labels_and_repr():
    fam = f._Families()
    fam.family("o2edge_perf_x", "help")
    fam.add("o2edge_perf_x", 'a="1"', 0.1)
    fam.add("o2edge_perf_x", "", 3)
    assert fam.render() == '# HELP o2edge_perf_x help\n# TYPE o2edge_perf_x gauge\no2edge_perf_x{a="1"} 0.1\no2edge_perf_x{} 3\n'


def test_csv_rows_of_numbers_equal_the_field_at_a_time_writer():
    from tests.unit.plugins.plugin_utils.test_report_formats_fast import _model, _reference_csv
    rng = random.Random(17)
    model = _model(rng, 400)

    def number():
        return rng.choice([0, 7, 1.5, 1e-7, 1e300, float("nan"), float("inf"), 10 ** 20])
    for i, m in enumerate(model["measurements"]):
        if i % 2:  # every figure a number: the one-format path (ints, floats, NaN, infinities, large)
            m.update(n=rng.choice([3, 2.5]), warmup=number(), failures=number())
            m["stats"].update((k, number()) for k in ("min", "median", "mean", "p95", "max", "stdev", "mad"))
            if m["comparison"]:
                m["comparison"].update((k, number()) for k in ("median_before", "change_pct", "ratio", "p_value"))
                m["comparison"]["ci"] = (number(), number())
    assert f.measurements_csv(model) == _reference_csv(model)


def _straightforward(monkeypatch):
    """The formats' helpers replaced by their references: no fast path, nothing remembered."""
    monkeypatch.setattr(f, "md", _md_reference)
    monkeypatch.setattr(f, "remembered", lambda func: func)
    monkeypatch.setattr(_report_html, "remembered", lambda func: func)
    monkeypatch.setattr(_report_html, "e", _html_reference)
    monkeypatch.setattr(f, "stat_cells", _stat_reference)
    monkeypatch.setattr(_report_html, "stat_cells", _stat_reference)
    monkeypatch.setattr(f, "comparison_cells", _comparison_reference)
    monkeypatch.setattr(_report_html, "comparison_cells", _comparison_reference)


def test_markdown_and_html_equal_the_straightforward_helpers(monkeypatch):
    from tests.unit.plugins.plugin_utils.test_report import build_standard
    from tests.unit.plugins.plugin_utils.test_report_formats import nasty_model
    for model in (build_standard(), nasty_model()):
        got = (f.markdown(model), _report_html.report_html(model))
        assert "| --- |" not in got[0] and got[0].count("\n| ") > 4
        with monkeypatch.context() as patched:
            _straightforward(patched)
            for m in model["measurements"]:
                m.pop("_cells", None)
            assert got == (f.markdown(model), _report_html.report_html(model))


def _html_reference(value):
    return html.escape(f.text(value), quote=True)


def _old_rows(model):
    """The comparison and measurement rows of report.md and report.html as the formats wrote them before the
    fast paths (every cell through md / html.escape and the separate formatters)."""
    md, e = _md_reference, _html_reference
    rows = []
    for c in model["comparisons"]:
        rows.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | **%s** | %s |" % (
            md(c["name"]), md(c.get("design") or "sequential"), md(c["host"]), md(c["unit"]),
            f.number(c.get("median_before")), f.number(c.get("median_after")), f.percent(c.get("change_pct")),
            md(f.ci_percent(c.get("ci"))), f.number(c.get("p_value"), 3), md(c["verdict"]), md(c.get("reason"))))
        rows.append(
            '<tr class="cmp" data-verdict="%s"><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td>'
            '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td>%s</td>'
            '<td>%s</td></tr>' % (
                e(c["verdict"]), e(c["name"]), e(c["host"]), e(c["unit"]), f.number(c.get("median_before")),
                f.number(c.get("median_after")), f.percent(c.get("change_pct")), f.ci_percent(c.get("ci")),
                f.number(c.get("p_value"), 3), e(c["verdict"]), e(c.get("reason"))))
    for m in model["measurements"]:
        cells = _stat_reference(m)
        rows.append("| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
            (md(m["name"]), md(m["component"]), md(m["host"]), md(m["unit"]), m["n"], md(m["failures"])) + cells))
        rows.append(
            '<tr class="measurement"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="num">%d</td><td class="num">%s</td>'
            '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>'
            '<td class="num">%s</td></tr>' % ((e(m["name"]), e(m["component"]), e(m["host"]), e(m["unit"]), m["n"],
                                               e(m["failures"])) + cells))
    return rows


def test_markdown_and_html_rows_equal_the_old_rows():
    from tests.unit.plugins.plugin_utils.test_report import build_standard
    from tests.unit.plugins.plugin_utils.test_report_formats import nasty_model
    for model in (build_standard(), nasty_model()):
        assert model["comparisons"] and any(isinstance(c.get("ci"), list) for c in model["comparisons"])
        page = f.markdown(model) + "\n" + _report_html.report_html(model)
        for row in _old_rows(model):
            assert row in page, row
    assert "\\[" in f.markdown(build_standard())
