# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTML report of a report model (``_report.build``): one self-contained file, inline SVG charts.

No script, no external resource (a Content-Security-Policy says so to the browser): it reads
the same from a mail attachment, a CI artifact or a file:// URL. Every value from a results
file goes through ``html.escape``; nothing is templated.

Charts: per component, one row per measurement (matched by name and host): the median before
(grey) and after (coloured by verdict) as bars with the min..max spread as a line, and on the
right the ratio after/before as a dot on a log scale with its 95% bootstrap interval as a line,
1 marked. Without a baseline only the medians. The site x service matrix is a table (colour and
the state word); the SLO table and the slowest tasks follow.
"""

from __future__ import annotations

import math
import re
from html import escape

from ansible_collections.o2edge.perf.plugins.plugin_utils._report_formats import (
    ci_percent, comparison_cells, comparison_summary, matrix_summary, number, objective_target, objective_value, percent, remembered,
    run_line, slo_summary, stat_cells, text)

MAX_ROWS = 40
ROW = 26
BAR_X = 260
BAR_W = 260
RATIO_X = 560
RATIO_W = 200
WIDTH = 960

CSS = """
body{font:14px/1.4 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:1px solid #d8dce4}
table{border-collapse:collapse;margin:6px 0}th,td{border:1px solid #d8dce4;padding:3px 7px;text-align:left;
vertical-align:top}th{background:#f1f3f7}td.num{text-align:right;font-variant-numeric:tabular-nums}
.missing{border:2px solid #b3261e;background:#fdecea;padding:8px 14px;margin:12px 0}
.missing h2{border:0;margin:0;color:#b3261e}
.pass{color:#0b6b2f;font-weight:600}.fail{color:#b3261e;font-weight:600}
.state-up{background:#c9f0d3}.state-partial{background:#fff1c2}
.state-down,.state-refused,.state-timeout,.state-unreachable,.state-dns,.state-tls,.state-auth,
.state-http_status,.state-host_key_mismatch,.state-protocol,.state-unknown{background:#f9d0cc}
.state-none{background:#f4f4f4;color:#888}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}svg .axis{fill:#5a6272}
svg .before{fill:#9aa3b2}svg .after{fill:#3f6fd8}svg .after.v-slower{fill:#c8372d}
svg .after.v-faster{fill:#1f8a4c}svg .spread{stroke:#1d2330;stroke-width:1}
svg .ref{stroke:#5a6272;stroke-dasharray:3 3}svg .ci{stroke:#3f6fd8;stroke-width:3}
svg .ci.v-slower{stroke:#c8372d}svg .ci.v-faster{stroke:#1f8a4c}svg .ratio{fill:#1d2330}
svg .task-bar{fill:#7a5cc4}figure{margin:10px 0 18px}figcaption{font-weight:600;margin-bottom:4px}
.note{color:#5a6272}svg{max-width:100%;height:auto}svg .small{font-size:11px}
tr.slo-fail td:first-child{border-left:4px solid #b3261e}tr.slo-pass td:first-child{border-left:4px solid #1f8a4c}
"""


# The characters html.escape(quote=True) replaces: a text without any is returned as it is (most names,
# hosts and reasons of a report), without html.escape's five str.replace calls.
_HTML_SPECIAL = re.compile("[&<>\"']")
_html_special = _HTML_SPECIAL.search


def e(value):
    """HTML-escaped text (numbers formatted by ``number``, ``percent``, ``ci_percent`` hold nothing to escape)."""
    value = value if value.__class__ is str else text(value)
    return value if _html_special(value) is None else escape(value, quote=True)


def _table(header, rows, cls):
    out = ['<table class="%s"><thead><tr>' % cls]
    out.extend("<th>%s</th>" % h for h in header)
    out.append("</tr></thead><tbody>")
    out.extend(rows)
    out.append("</tbody></table>")
    return "".join(out)


def _num(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _short(value, limit=38):
    s = text(value)
    return s if len(s) <= limit else s[:limit - 1] + "\u2026"


# --------------------------------------------------------------------------- component charts

def _rows_for_chart(items):
    """Up to MAX_ROWS measurements of a component: the largest changes first, then by name."""
    def weight(m):
        c = m["comparison"] or {}
        r = c.get("ratio")
        return -abs(math.log(r)) if _num(r) and r > 0 else 0.0
    ranked = sorted(items, key=lambda m: (weight(m), m["name"], m["host"]))
    return ranked[:MAX_ROWS], len(items) - min(len(items), MAX_ROWS)


def _ratio_scale(rows):
    lo, hi = 0.5, 2.0
    for m in rows:
        c = m["comparison"] or {}
        for v in [c.get("ratio")] + list(c.get("ci") or []):
            if _num(v) and v > 0:
                lo, hi = min(lo, max(v / 1.25, 1 / 16.0)), max(hi, min(v * 1.25, 16.0))
    llo, lhi = math.log(lo), math.log(hi)

    def x(v):
        v = min(max(v, lo), hi)
        return RATIO_X + (math.log(v) - llo) / (lhi - llo) * RATIO_W
    return x, lo, hi


def component_chart(component, items, with_baseline):
    rows, more = _rows_for_chart(items)
    top = 42
    height = top + ROW * len(rows) + 10
    peak = max([v for m in rows for v in (m["stats"].get("max"), m["stats"].get("median"),
                                          (m["comparison"] or {}).get("median_before")) if _num(v)] or [1.0])
    peak = peak if peak > 0 else 1.0
    unit = ", ".join(sorted(set(m["unit"] for m in rows)))

    def bx(v):
        return BAR_X + max(0.0, min(v, peak)) / peak * BAR_W

    out = ['<figure class="chart" data-component="%s"><figcaption>%s</figcaption>' % (e(component), e(component)),
           '<svg class="component-chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" '
           'viewBox="0 0 %d %d" role="img" aria-label="%s">' % (WIDTH, height, WIDTH, height,
                                                                e("medians of " + component)),
           '<text class="axis" x="%d" y="12">median (%s)</text>' % (BAR_X, e(unit)),
           '<text class="axis small" x="%d" y="26">%s</text>' % (
               BAR_X, "grey before, coloured after; line min..max" if with_baseline else "line min..max")]
    ratio_x = None
    if with_baseline:
        ratio_x, lo, hi = _ratio_scale(rows)
        one = ratio_x(1.0)
        out.append('<text class="axis" x="%d" y="12">ratio after/before, 95%% interval</text>' % RATIO_X)
        out.append('<text class="axis small" x="%.1f" y="34" text-anchor="middle">1</text>' % one)
        out.append('<text class="axis small" x="%d" y="34">%s</text>' % (RATIO_X, e(number(lo, 2))))
        out.append('<text class="axis small" x="%d" y="34" text-anchor="end">%s</text>' % (RATIO_X + RATIO_W, e(number(hi, 2))))
        out.append('<line class="ref" x1="%.1f" y1="20" x2="%.1f" y2="%d"/>' % (one, one, height - 4))
    for i, m in enumerate(rows):
        y = top + i * ROW
        c = m["comparison"] or {}
        verdict = text(c.get("verdict")).replace(" ", "-")
        out.append('<g class="row" data-name="%s" data-host="%s" data-verdict="%s">' % (e(m["name"]), e(m["host"]),
                                                                                        e(c.get("verdict"))))
        out.append('<text x="0" y="%d"><title>%s on %s</title>%s</text>' % (
            y + 15, e(m["name"]), e(m["host"]), e(_short(m["name"] + " @ " + m["host"]))))
        med_b = c.get("median_before")
        if with_baseline and _num(med_b):
            out.append('<rect class="bar before" x="%d" y="%d" width="%.1f" height="8"><title>before: median %s</title></rect>'
                       % (BAR_X, y + 3, bx(med_b) - BAR_X, e(number(med_b))))
        st = m["stats"]
        med = st.get("median")
        if _num(med):
            out.append('<rect class="bar after v-%s" x="%d" y="%d" width="%.1f" height="8"><title>%s: median %s</title></rect>'
                       % (e(verdict), BAR_X, y + 13, bx(med) - BAR_X, "after" if with_baseline else "median",
                          e(number(med))))
            if _num(st.get("min")) and _num(st.get("max")):
                out.append('<line class="spread" x1="%.1f" y1="%d" x2="%.1f" y2="%d"/>' % (
                    bx(st["min"]), y + 17, bx(st["max"]), y + 17))
        else:
            out.append('<text class="axis" x="%d" y="%d">no sample</text>' % (BAR_X, y + 21))
        if ratio_x is not None:
            ci = c.get("ci")
            if c and not c.get("comparable"):
                out.append('<text class="axis" x="%d" y="%d">%s</text>' % (RATIO_X, y + 15, e(_short(c.get("reason"), 52))))
            elif not c:
                out.append('<text class="axis" x="%d" y="%d">not in the baseline</text>' % (RATIO_X, y + 15))
            else:
                if isinstance(ci, (list, tuple)) and len(ci) == 2 and _num(ci[0]) and _num(ci[1]) and ci[0] > 0:
                    out.append('<line class="ci v-%s" x1="%.1f" y1="%d" x2="%.1f" y2="%d"><title>95%% interval %s</title></line>'
                               % (e(verdict), ratio_x(ci[0]), y + 12, ratio_x(ci[1]), y + 12, e(ci_percent(ci))))
                if _num(c.get("ratio")) and c["ratio"] > 0:
                    out.append('<circle class="ratio" cx="%.1f" cy="%d" r="4"><title>ratio %s</title></circle>'
                               % (ratio_x(c["ratio"]), y + 12, e(number(c["ratio"]))))
                out.append('<text x="%d" y="%d">%s %s</text>' % (RATIO_X + RATIO_W + 10, y + 16,
                                                                 e(percent(c.get("change_pct"))), e(c.get("verdict"))))
        out.append("</g>")
    out.append("</svg>")
    if more:
        out.append('<p class="note">%d more measurement(s) of %s in the table below.</p>' % (more, e(component)))
    out.append("</figure>")
    return "".join(out)


def _tasks_chart(tasks):
    peak = max([t["seconds"] for t in tasks] + [1e-9])
    height = 8 + ROW * len(tasks)
    out = ['<svg class="tasks-chart" xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d">'
           % (WIDTH, height, WIDTH, height)]
    for i, t in enumerate(tasks):
        y = 4 + i * ROW
        w = max(1.0, t["seconds"] / peak * (BAR_W + RATIO_W))
        out.append('<text x="0" y="%d"><title>%s</title>%s</text>' % (y + 15, e(t.get("task")), e(_short(
            "%s @ %s" % (text(t.get("task")), text(t.get("host")))))))
        out.append('<rect class="task-bar" x="%d" y="%d" width="%.1f" height="14"/>' % (BAR_X, y + 4, w))
        out.append('<text x="%.1f" y="%d">%s s</text>' % (BAR_X + w + 6, y + 15, e(number(t["seconds"]))))
    out.append("</svg>")
    return "".join(out)


# --------------------------------------------------------------------------- page

def _page(title, body):
    return ('<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<title>%s</title><style>%s</style></head><body>%s</body></html>\n' % (e(title), CSS, body))


def report_html(model):
    repeated = remembered(e)  # e() of the columns whose values recur: component, host, unit, verdict
    parts = ['<h1>%s</h1><p class="run">%s</p>' % (e(model["title"]), e(run_line(model)))]
    if model["missing"]:
        parts.append('<section class="missing" id="missing"><h2>Incomplete: %d thing(s) missing from this report</h2><ul>%s'
                     '</ul></section>' % (len(model["missing"]), "".join(
                         "<li><b>%s</b>: %s</li>" % (e(m["what"]), e(m["why"])) for m in model["missing"])))
    parts.append('<h2>Summary</h2><ul class="summary"><li>Objectives: %s</li><li>Before/after: %s</li>'
                 '<li>Sites: %s</li></ul>' % (e(slo_summary(model)), e(comparison_summary(model)),
                                              e(matrix_summary(model))))
    parts.append('<h2>Objectives</h2>')
    parts.append(_table(["objective", "target", "value", "status", "selected", "reason"], [
        '<tr class="slo-row slo-%s" data-objective="%s" data-status="%s"><td title="%s">%s</td><td>%s</td>'
        '<td class="num">%s</td><td class="%s">%s</td><td class="num">%s</td><td>%s</td></tr>' % (
            "pass" if o.get("status") == "pass" else "fail", e(o.get("name")), e(o.get("status")), e(o.get("description")),
            e(o.get("display_name") or o.get("name")), e(objective_target(o)), e(objective_value(o)),
            "pass" if o.get("status") == "pass" else "fail", e(o.get("status")), e(o.get("selected")), e(o.get("reason")))
        for o in model["slo"]], "slo") if model["slo"] else "<p>No objective.</p>")
    with_baseline = model["comparisons_summary"]["baseline"]
    parts.append('<h2>Before and after</h2>' if with_baseline else '<h2>Measurements by component</h2>')
    parts.append('<p class="note">%s</p>' % e(comparison_summary(model)))
    by_component = {}
    for m in model["measurements"]:
        by_component.setdefault(m["component"], []).append(m)
    for component in sorted(by_component):
        parts.append(component_chart(component, by_component[component], with_baseline))
    if model["comparisons"]:
        parts.append(_table(["measurement", "host", "unit", "median before", "median after", "change",
                             "95% interval", "p", "verdict", "reason"], [
            '<tr class="cmp" data-verdict="%s"><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td>'
            '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td>%s</td>'
            '<td>%s</td></tr>' % (
                (repeated(c["verdict"]), e(c["name"]), repeated(c["host"]), repeated(c["unit"])) + comparison_cells(c)
                + (repeated(c["verdict"]), e(c.get("reason")))) for c in model["comparisons"]],
            "comparisons"))
    mx = model["matrix"]
    parts.append('<h2>Sites and services</h2><p>%s</p>' % e(matrix_summary(model)))
    if mx["sites"]:
        rows = []
        for site in mx["sites"]:
            cells = ['<th>%s</th>' % e(site)]
            for svc in mx["services"]:
                res = mx["cells"][site].get(svc)
                if res is None:
                    cells.append('<td class="cell state-none" data-site="%s" data-service="%s" data-state="">-</td>'
                                 % (e(site), e(svc)))
                else:
                    cells.append('<td class="cell state-%s" data-site="%s" data-service="%s" data-state="%s" title="%s">'
                                 '%s</td>' % (e(res["state"]), e(site), e(svc), e(res["state"]), e(res.get("detail")),
                                              e(res["state"])))
            status = mx["site_status"][site]
            cells.append('<td class="site-status state-%s">%s</td>' % (e(status), e(status)))
            rows.append('<tr data-site="%s">%s</tr>' % (e(site), "".join(cells)))
        parts.append(_table(["site"] + [e(s) for s in mx["services"]] + ["site status"], rows, "matrix"))
    parts.append('<h2>Slowest tasks</h2>')
    if model["slowest_tasks"]:
        parts.append(_tasks_chart(model["slowest_tasks"]))
        parts.append(_table(["task", "play", "host", "status", "seconds"], [
            '<tr class="task"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td></tr>' % (
                e(t.get("task")), e(t.get("play")), e(t.get("host")), e(t.get("status")), e(number(t.get("seconds"))))
            for t in model["slowest_tasks"]], "tasks"))
    else:
        parts.append("<p>No task timing in these results.</p>")
    parts.append('<h2>Measurements</h2>')
    parts.append(_table(["measurement", "component", "host", "unit", "n", "failures", "median", "p95", "min", "max",
                         "stdev", "MAD"], [
        '<tr class="measurement"><td>%s</td><td>%s</td><td>%s</td><td>%s</td><td class="num">%d</td><td class="num">%s</td>'
        '<td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td><td class="num">%s</td>'
        '<td class="num">%s</td></tr>' % ((e(m["name"]), repeated(m["component"]), repeated(m["host"]), repeated(m["unit"]), m["n"],
                                           repeated(m["failures"])) + stat_cells(m))
        for m in model["measurements"]], "measurements"))
    if model["notes"]:
        parts.append('<h2>Notes</h2><ul>%s</ul>' % "".join("<li>%s</li>" % e(n) for n in model["notes"]))
    return _page(model["title"], "".join(parts))


def index_html(runs):
    rows = []
    for r in runs:
        failed = r.get("slo_failed") or []
        total = r.get("slo_total") if isinstance(r.get("slo_total"), int) else 0
        rows.append('<tr><td><a href="%s/report.html">%s</a></td><td>%s</td><td>%s</td><td>%s</td><td class="num">%s</td>'
                    '<td class="%s">%d/%d passed</td><td class="num">%s</td></tr>' % (
                        e(r["dir"]), e(r.get("run_id") or r["dir"]), e(r.get("title")), e(r.get("generated_at")),
                        e(r.get("status")), e(r.get("records")), "fail" if failed else "pass", total - len(failed), total,
                        e(r.get("missing"))))
    body = "<h1>o2edge.perf reports</h1>" + _table(
        ["run", "title", "generated", "status", "records", "objectives", "missing"], rows, "index")
    return _page("o2edge.perf reports", body)
