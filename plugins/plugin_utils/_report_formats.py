# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The text formats of a report model (``_report.build``): Markdown, CSV, JUnit XML, Prometheus text.

Every value that comes from a results file is escaped for its format here (Markdown: HTML
entities and Markdown punctuation; CSV: a cell with a comma, a quote, CR or LF is quoted, and a
quote goes before a text cell -- and before every line of it -- that a spreadsheet would read as a
formula; JUnit: ElementTree, minus characters XML 1.0
forbids; Prometheus: label value escaping). Nothing is evaluated.

Size: over 450 lines: four output formats of one report model, each a few small functions sharing
the model's helpers (cells, escaping).
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET

from ansible_collections.o2edge.perf.plugins.plugin_utils._slo import OPS

# --------------------------------------------------------------------------- number formatting


def text(value):
    return "" if value is None else str(value)


def number(value, digits=4):
    """A figure with ``digits`` significant digits; ``-`` when it is missing."""
    cls = value.__class__
    if cls is int or (cls is float and math.isfinite(value)):
        return "%.*g" % (digits, value)
    return "-"


def percent(value):
    """A change in percent, signed (``+12.3%``); ``-`` when missing."""
    cls = value.__class__
    if cls is float or cls is int or (isinstance(value, (int, float)) and not isinstance(value, bool)):
        return "%+.1f%%" % value if math.isfinite(value) else "-"
    return "-"


def share(value):
    return "-" if value is None else "%.1f%%" % value


def ci_percent(ci):
    """The ratio's interval as changes in percent: ``[-15.2%, -8.1%]``; ``-`` when missing."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2 or any(
            isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) for v in ci):
        return "-"
    return "[%s, %s]" % (percent((ci[0] - 1.0) * 100.0), percent((ci[1] - 1.0) * 100.0))


def objective_target(obj):
    """``p95 <= 2 s``, ``success_ratio >= 99%``, with ``for 90% of the records`` when the target is below 1."""
    statistic = text(obj.get("statistic"))
    target = obj.get("target")
    if statistic == "success_ratio":
        return "success_ratio >= %s" % (share(100.0 * target) if isinstance(target, (int, float)) else "?")
    out = "%s %s %s %s" % (statistic, OPS.get(obj.get("op"), text(obj.get("op"))), number(obj.get("threshold")),
                           text(obj.get("unit")))
    if isinstance(target, (int, float)) and target < 1:
        out += " for %s of the records" % share(100.0 * target)
    return out


STAT_COLUMNS = ("median", "p95", "min", "max", "stdev", "mad")


_FLOATS = {float}


def _finite_floats(values):
    """True when every value is a float (not a subclass) and all are finite: ``"%.4g" % v`` is then ``number(v)``.

    The sum of floats is finite only if each of them is (a NaN or an infinity stays in the sum); a sum that
    overflows is not finite either, which only sends its values the slow way."""
    return set(map(type, values)) == _FLOATS and math.isfinite(sum(values))


def stat_cells(m):
    """The measurement's STAT_COLUMNS figures as text, a tuple (computed once, shared by the Markdown and HTML
    tables). Six finite floats, the usual case, are written by one format instead of six ``number`` calls."""
    cells = m.get("_cells")
    if cells is None:
        values = tuple(map(m["stats"].get, STAT_COLUMNS))
        if _finite_floats(values):
            cells = tuple(("%.4g\0%.4g\0%.4g\0%.4g\0%.4g\0%.4g" % values).split("\0"))
        else:
            cells = tuple(map(number, values))
        m["_cells"] = cells
    return cells


def comparison_cells(c):
    """A comparison's figures as text: ``number`` of the medians before and after, ``percent`` of the change,
    ``ci_percent`` of the interval and ``number(p, 3)``, shared by the Markdown and HTML tables. Finite floats,
    the usual case, are written by one format (the interval's bounds as ``ci_percent`` computes them)."""
    figures = (c.get("median_before"), c.get("median_after"), c.get("change_pct"), c.get("p_value"))
    ci = c.get("ci")
    if ci.__class__ in (list, tuple) and len(ci) == 2 and set(map(type, ci)) == _FLOATS:
        low, high = (ci[0] - 1.0) * 100.0, (ci[1] - 1.0) * 100.0
        if _finite_floats(figures + (low, high)):
            return tuple(("%.4g\0%.4g\0%+.1f%%\0[%+.1f%%, %+.1f%%]\0%.3g" % (
                figures[0], figures[1], figures[2], low, high, figures[3])).split("\0"))
    return (number(figures[0]), number(figures[1]), percent(figures[2]), ci_percent(ci), number(figures[3], 3))


def objective_value(obj):
    """The figure an objective was decided on, with its unit; ``missing`` when there was none."""
    value = obj.get("value")
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "missing"
    if obj.get("statistic") == "success_ratio":
        return "%.2f%%" % (100.0 * value)
    return "%s %s" % (number(value), text(obj.get("unit")))


def slo_summary(model):
    slo = model["slo"]
    failed = model["slo_failed"]
    return "%d/%d passed (%s)%s" % (
        len(slo) - len(failed), len(slo), share(model["slo_passed_pct"]),
        ("; failed: " + ", ".join(failed)) if failed else "")


def comparison_summary(model):
    cs = model["comparisons_summary"]
    if not cs["baseline"]:
        return "no baseline given: nothing compared"
    base = model.get("baseline_run") or {}
    v = model["verdicts"]
    line = ("compared with baseline run %s: %d measurements matched by name and host, %d comparable; "
            "%d faster, %d slower, %d no clear change, %d not enough samples, %d not comparable; "
            "%d only in the baseline, %d only in this run" % (
                text(base.get("id")) or "?", cs["matched"], cs["compared"], v["faster"], v["slower"],
                v["no clear change"], v["not enough samples"], v["not comparable"], cs["only_in_baseline"],
                cs["only_in_run"]))
    return line + design_summary(model)


def design_summary(model):
    """How the comparisons were made: interleaved pairs, sequential passes, controls and what is held."""
    cs = model["comparisons_summary"]
    v = model["verdicts"]
    parts = []
    if cs.get("interleaved"):
        parts.append("%d interleaved (A and B alternated in one window, immune to a change of load)"
                     % len(cs["interleaved"]))
    if cs.get("sequential"):
        parts.append("%d sequential (two passes, minutes apart)" % len(cs["sequential"]))
    if cs.get("controls"):
        parts.append("%d control%s (%d steady, %d moved)" % (len(cs["controls"]), "" if len(cs["controls"]) == 1
                                                             else "s", v.get("control steady", 0),
                                                             v.get("control moved", 0)))
    drift = cs.get("drift") or {}
    if drift.get("reason") and (cs.get("sequential") or cs.get("controls")):
        parts.append(text(drift["reason"]))
    if v.get("environment changed"):
        parts.append("%d sequential verdict%s held as environment changed" % (
            v["environment changed"], "" if v["environment changed"] == 1 else "s"))
    return ("; " + "; ".join(parts)) if parts else ""


def matrix_summary(model):
    m = model["matrix"]
    if not m["sites"]:
        return "no probe in these results"
    return "%d/%d sites fully up (%s), %d/%d services up (%s)" % (
        m["sites_up"], len(m["sites"]), share(m["sites_up_pct"]), m["targets_up"], m["targets"],
        share(m["targets_up_pct"]))


def run_line(model):
    run = model["run"]
    finished = ("finished " + text(run.get("finished_at"))) if run.get("finished_at") else "not finished"
    return "run %s, status %s, started %s, %s; %d measurement records, %d probes, %d tasks; generated %s" % (
        text(run.get("id")) or "?", text(run.get("status")) or "?", text(run.get("started_at")) or "-",
        finished, len(model["measurements"]),
        len(model["doc"].get("probes") or []), len(model["doc"].get("tasks") or []), model["generated_at"])


# --------------------------------------------------------------------------- Markdown

_MD_ESCAPES = dict((ord(c), "\\" + c) for c in "\\`*_[]|#!~")
_MD_ESCAPES.update({ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;", ord("\n"): " ", ord("\r"): " ", ord("\t"): " "})


# str.translate with a mapping looks every character up in Python: one regular expression tells whether
# there is anything to replace, then one str.replace per character present does it (same result, several
# times faster on the comparisons' reasons). The order makes the replacements independent of each other:
# the backslash first (the other escapes add backslashes), then "&" (the entities of < and > add "&"), as
# _MD_ESCAPES lists them; no replacement adds a character that a later one replaces.
_MD_CHARS = dict((chr(code), repl) for code, repl in _MD_ESCAPES.items())
_MD_REPLACE = tuple(_MD_CHARS.items())
_MD_RE = re.compile("[%s]" % re.escape("".join(_MD_CHARS)))
_md_search = _MD_RE.search


def md(value):
    """Markdown-safe text for a table cell or a line: HTML entities, escaped punctuation, one line."""
    value = value if value.__class__ is str else text(value)
    if _md_search(value) is None:
        return value
    for char, repl in _MD_REPLACE:
        if char in value:
            value = value.replace(char, repl)
    return value


def remembered(func):
    """``func`` of one argument remembering its result per str (a report repeats its hosts, components, units,
    designs and verdicts on every row); other values are passed through each time."""
    memo = {}

    def cached(value):
        if value.__class__ is not str:
            return func(value)
        found = memo.get(value)
        if found is None:
            found = memo[value] = func(value)
        return found
    return cached


def _md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return out


def markdown(model):
    repeated = remembered(md)  # md() of the columns whose values recur: component, host, unit, design, verdict
    out = ["# " + md(model["title"]), ""]
    if model["missing"]:
        out.append("> **Incomplete: %d thing(s) missing from this report**" % len(model["missing"]))
        out.append(">")
        out.extend("> - %s: %s" % (md(m["what"]), md(m["why"])) for m in model["missing"])
        out.append("")
    out += [md(run_line(model)), "", "## Summary", "",
            "- Objectives: " + md(slo_summary(model)),
            "- Before/after: " + md(comparison_summary(model)),
            "- Sites: " + md(matrix_summary(model)), "", "## Objectives", ""]
    if model["slo"]:
        out += _md_table(["objective", "target", "value", "status", "selected", "reason"], [
            [md(o.get("display_name") or o.get("name")), md(objective_target(o)), md(objective_value(o)),
             "**%s**" % md(o.get("status")), md(o.get("selected")), md(o.get("reason"))] for o in model["slo"]])
    else:
        out.append("No objective.")
    out += ["", "## Before and after", ""]
    if model["comparisons"]:
        out.append("Threshold %s, at least %d samples per side; change = median after / median before - 1; "
                   "interval = 95%% bootstrap interval of that ratio." % (
                       share(100.0 * model["threshold"]), model["min_samples"]))
        out.append("")
        drift = (model["comparisons_summary"].get("drift") or {}).get("reason")
        if drift and model["comparisons_summary"].get("baseline"):
            out += ["Machine: " + md(drift) + ".", ""]
        out += _md_table(["measurement", "design", "host", "unit", "median before", "median after", "change",
                          "interval", "p", "verdict", "reason"], ())
        # numbers and percentages hold nothing Markdown escapes: of comparison_cells, only the interval's
        # brackets are escaped (what md() does to them)
        out.extend(["| %s | %s | %s | %s | %s | %s | %s | %s | %s | **%s** | %s |" % (
            md(c["name"]), repeated(c.get("design") or "sequential"), repeated(c["host"]), repeated(c["unit"]),
            before, after, change, interval.replace("[", "\\[").replace("]", "\\]"), p_value, repeated(c["verdict"]),
            md(c.get("reason"))) for c in model["comparisons"]
            for before, after, change, interval, p_value in (comparison_cells(c),)])
    else:
        out.append(md(comparison_summary(model)))
    out += ["", "## Measurements", ""]
    out += _md_table(["measurement", "component", "host", "unit", "n", "failures", "median", "p95", "min", "max",
                      "stdev", "MAD"], ())
    out.extend(["| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
        (md(m["name"]), repeated(m["component"]), repeated(m["host"]), repeated(m["unit"]), m["n"],
         repeated(m["failures"])) + stat_cells(m))
        for m in model["measurements"]])
    out += pipeline_markdown(model)
    out += ["", "## Sites and services", ""]
    mx = model["matrix"]
    if mx["sites"]:
        out += _md_table(["site"] + [md(s) for s in mx["services"]] + ["site status"], [
            [md(site)] + [md((mx["cells"][site].get(svc) or {}).get("state") or "-") for svc in mx["services"]]
            + [md(mx["site_status"][site])] for site in mx["sites"]])
        out.append("")
    out.append(md(matrix_summary(model)))
    out += ["", "## Slowest tasks", ""]
    if model["slowest_tasks"]:
        out += _md_table(["task", "play", "host", "status", "seconds"], [
            [md(t.get("task")), md(t.get("play")), md(t.get("host")), md(t.get("status")), md(number(t.get("seconds")))]
            for t in model["slowest_tasks"]])
    else:
        out.append("No task timing in these results.")
    if model["notes"]:
        out += ["", "## Notes", ""] + ["- " + md(n) for n in model["notes"]]
    return "\n".join(out) + "\n"


def pipelines(model):
    """[(name, host, critical stage, [(stage, median share)])] of the pipeline records (component pipeline)."""
    out = []
    for m in model["measurements"]:
        if m["component"] != "pipeline":
            continue
        rec = next((item["record"] for item in model["doc"].get("records") or []
                    if text(item["record"].get("name")) == m["name"] and text(item.get("host")) == m["host"]), {})
        ctx = rec.get("context") if isinstance(rec.get("context"), dict) else {}
        shares = ctx.get("stage_share") if isinstance(ctx.get("stage_share"), dict) else {}
        stages = [s for s in (ctx.get("stages") or []) if isinstance(s, str)][:64]
        out.append((m["name"], m["host"], text(ctx.get("critical_stage")),
                    [(s, shares.get(s)) for s in stages], m["stats"].get("median")))
    return out


def pipeline_markdown(model):
    found = pipelines(model)
    if not found:
        return []
    out = ["", "## Pipeline stages", ""]
    for name, host, critical, stages, median in found:
        out.append("%s on %s: median %s s end to end; critical stage: **%s**" % (
            md(name), md(host), number(median), md(critical or "unknown")))
        out.append("")
        out += _md_table(["stage", "median share"], [
            [md(stage), share(100.0 * sh) if isinstance(sh, (int, float)) and not isinstance(sh, bool)
             and math.isfinite(sh) else "-"] for stage, sh in stages])
        out.append("")
    return out


def index_markdown(runs):
    out = ["# o2edge.perf reports", ""]
    out += _md_table(["run", "title", "generated", "status", "records", "objectives", "missing", "report"], [
        [md(r.get("run_id")), md(r.get("title")), md(r.get("generated_at")), md(r.get("status")), md(r.get("records")),
         md("%s/%s passed" % (text(_int(r.get("slo_total")) - len(r.get("slo_failed") or [])), text(r.get("slo_total")))),
         md(r.get("missing")), "[report](%s/report.md)" % md(r["dir"])] for r in runs])
    return "\n".join(out) + "\n"


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


# --------------------------------------------------------------------------- CSV

CSV_COLUMNS = ("run_id", "host", "play", "task", "name", "component", "unit", "samples", "warmup", "failures",
               "min", "median", "mean", "p95", "max", "stdev", "mad", "outliers", "slow_first_run", "started_at",
               "median_before", "change_pct", "ratio", "ci_low", "ci_high", "p_value", "verdict", "reason")


_FORMULA_START = frozenset("=+-@\t\r")
_LINE_BREAK = re.compile(r"(\r\n|\r|\n)")
_CSV_SPECIAL = re.compile(r'[,"\r\n]')


def _cell(value):
    """A text cell a spreadsheet cannot take for a formula: leading = + - @ tab CR get a quote, at the
    start of the cell and at the start of every line in it (a spreadsheet that splits the cell at a line
    break would read the next line as a new cell)."""
    s = "" if value is None else str(value)
    if "\r" in s or "\n" in s:
        return "".join("'" + part if i % 2 == 0 and part and part[0] in _FORMULA_START else part
                       for i, part in enumerate(_LINE_BREAK.split(s)))
    return "'" + s if s and s[0] in _FORMULA_START else s


def _csv_field(value):
    """One CSV field: quoted (quotes doubled) when it holds the delimiter, a quote, CR or LF."""
    s = value if value.__class__ is str else str(value)
    return '"%s"' % s.replace('"', '""') if _CSV_SPECIAL.search(s) else s


_STAT_COLUMNS = ("min", "median", "mean", "p95", "max", "stdev", "mad")
_CSV_NO_COMPARISON = ",,,,,,,"


def _csv_number(value):
    """A figure as Python writes it (empty when missing or not a number): a number's text never holds a delimiter, a quote or a line break."""
    cls = value.__class__
    return str(value) if cls is float or cls is int else ""


_NUMBER_TYPES = frozenset((int, float))
# The row's ten figures (samples, warmup, failures, STAT_COLUMNS) and the comparison's six, each as
# ``_csv_number`` writes an int or a float (``str``, which is ``repr`` for both), in one format.
_CSV_FIGURES = ",".join(["%r"] * 10)
_CSV_COMPARED = ",".join(["%r"] * 6) + ",%s,%s"


def measurements_csv(model):
    """One row per record (CSV_COLUMNS); figures as Python writes them, an empty cell for a missing one.

    Each row is one format of its fields; a text field is ``_csv_field(_cell(value))``, remembered per
    string (hosts, plays, units, verdicts and reasons repeat), a number is its text as it is. When every
    figure of a row (or of its comparison) is an int or a float (not a bool or a subclass), the usual case,
    they are written by one ``%r`` format; otherwise each goes through ``_csv_number`` (``_csv_field`` for
    the samples count).
    """
    text_cell = _csv_text
    cell = remembered(text_cell)
    run_id = cell(model["run"].get("id"))
    num = _csv_number
    numbers = _NUMBER_TYPES
    lines = [",".join(map(_csv_field, CSV_COLUMNS))]
    append = lines.append
    for m in model["measurements"]:
        st = m["stats"]
        figures = (m["n"], m["warmup"], m["failures"]) + tuple(map(st.get, _STAT_COLUMNS))
        if set(map(type, figures)) <= numbers:
            figures = _CSV_FIGURES % figures
        else:
            figures = "%s,%s" % (_csv_field(figures[0]), ",".join(map(num, figures[1:])))
        c = m["comparison"]
        if c:
            ci = c.get("ci") or (None, None)
            compared = (c.get("median_before"), c.get("change_pct"), c.get("ratio"), ci[0], ci[1], c.get("p_value"),
                        cell(c.get("verdict")), text_cell(c.get("reason")))
            if set(map(type, compared[:6])) <= numbers:
                compared = _CSV_COMPARED % compared
            else:
                compared = ",".join(tuple(map(num, compared[:6])) + compared[6:])
        else:
            compared = _CSV_NO_COMPARISON
        append("%s,%s,%s,%s,%s,%s,%s,%s,%d,%s,%s,%s" % (  # task and name are unique: not remembered
            run_id, cell(m["host"]), cell(m["play"]), text_cell(m["task"]), text_cell(m["name"]), cell(m["component"]),
            cell(m["unit"]), figures, len(st.get("outliers") or ()), "true" if st.get("slow_first_run") else "false",
            cell(m["started_at"]), compared))
    # Not the csv module: it leaves a bare CR unquoted when the line terminator is LF.
    lines.append("")
    return "\n".join(lines)


# A text that _cell and _csv_field leave as it is: empty, or no formula start and nothing to quote.
_CSV_CLEAN = re.compile(r'(?:[^=+\-@\t\r,"\n][^,"\r\n]*)?').fullmatch


def _csv_text(value):
    """A text field of measurements.csv: ``_cell`` (no formula), then ``_csv_field`` (quoted when needed)."""
    if value.__class__ is str and _CSV_CLEAN(value) is not None:
        return value
    return _csv_field(_cell(value))


# --------------------------------------------------------------------------- JUnit

_XML_BAD = re.compile(u"[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


_xml_bad_sub = _XML_BAD.sub


def xml_text(value):
    return _xml_bad_sub(u"\ufffd", value if value.__class__ is str else text(value))


def junit(model):
    """One test case per objective; a failed objective is a <failure> whose message is the reason."""
    failed = len(model["slo_failed"])
    suites = ET.Element("testsuites", name="o2edge.perf", tests=str(len(model["slo"])), failures=str(failed),
                        errors="0")
    suite = ET.SubElement(suites, "testsuite", name=xml_text("o2edge.perf objectives: %s" % model["title"]),
                          tests=str(len(model["slo"])), failures=str(failed), errors="0", skipped="0",
                          timestamp=xml_text(model["generated_at"]))
    props = ET.SubElement(suite, "properties")
    for key, value in (("run_id", model["run"].get("id")), ("run_status", model["run"].get("status")),
                       ("missing", len(model["missing"]))):
        ET.SubElement(props, "property", name=key, value=xml_text(value))
    for obj in model["slo"]:
        case = ET.SubElement(suite, "testcase", classname="o2edge.perf.slo", name=xml_text(obj.get("name")), time="0")
        detail = "%s: %s; value %s; %s record(s)/probe(s) selected" % (
            text(obj.get("display_name") or obj.get("name")), objective_target(obj), objective_value(obj),
            text(obj.get("selected")))
        if obj.get("status") != "pass":
            failure = ET.SubElement(case, "failure", message=xml_text(obj.get("reason")), type="slo")
            failure.text = xml_text(detail)
        else:
            ET.SubElement(case, "system-out").text = xml_text(detail + "; " + text(obj.get("reason")))
    compared = _junit_comparisons(suites, model)
    body = ET.tostring(suites, encoding="unicode")
    if compared:  # the comparisons' suite, the last child of <testsuites> (which holds the objectives' suite)
        body = body[:-len("</testsuites>")] + compared + "</testsuites>"
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + body + "\n"


def _junit_comparisons(suites, model):
    """A second suite with one test case per compared measurement: slower is a failure, a comparison that
    could not be made (not comparable, not enough samples, held) is skipped with its reason.

    Returns the suite's XML text ('' when nothing was compared) and adds its counts to ``suites``. The
    text is what ``ET.tostring`` writes for these elements (ElementTree's own escaping, attributes in
    order, ``<tag ... />`` when empty), built as strings: thousands of cases are written several times
    faster than through the element tree."""
    comparisons = [c for c in model["comparisons"] if c.get("role") in (None, "sequential", "paired")]
    if not comparisons:
        return ""
    slower = sum(1 for c in comparisons if c.get("comparable") and c["verdict"] == "slower")
    skipped = sum(1 for c in comparisons if c["verdict"] not in ("faster", "slower", "no clear change"))
    out = [_xml_open("testsuite", (("name", xml_text("o2edge.perf comparisons: %s" % model["title"])),
                                   ("tests", str(len(comparisons))), ("failures", str(slower)), ("errors", "0"),
                                   ("skipped", str(skipped)), ("timestamp", xml_text(model["generated_at"]))))]
    # The elements of one case written out as _xml_open/_xml_element write them (``said`` is never empty, so
    # the failure and the system-out always have a text); the classname is remembered per design.
    classname = remembered(lambda design: _escape_attrib("o2edge.perf.comparison.%s" % xml_text(design)))
    decided = ("faster", "slower", "no clear change")
    append = out.append
    for c in comparisons:
        verdict = c["verdict"]
        reason = c.get("reason")
        said = xml_text("%s: %s" % (verdict, reason))
        if c.get("comparable") and verdict == "slower":
            inner = '<failure message="%s" type="regression">%s</failure>' % (_escape_attrib(xml_text(reason)),
                                                                              _escape_cdata(said))
        elif verdict not in decided:
            inner = '<skipped message="%s" />' % _escape_attrib(said)
        else:
            inner = "<system-out>%s</system-out>" % _escape_cdata(said)
        append('<testcase classname="%s" name="%s" time="0">%s</testcase>' % (
            classname(c.get("design") or "sequential"), _escape_attrib(xml_text("%s on %s" % (c["name"], c["host"]))),
            inner))
    out.append("</testsuite>")
    total = int(suites.get("tests")) + len(comparisons)
    suites.set("tests", str(total))
    suites.set("failures", str(int(suites.get("failures")) + slower))
    return "".join(out)


# ElementTree's escaping of attribute values and of text, as ET.tostring applies it.
_escape_attrib = ET._escape_attrib  # pylint: disable=protected-access
_escape_cdata = ET._escape_cdata  # pylint: disable=protected-access


def _xml_attrs(attrs):
    return "".join(' %s="%s"' % (key, _escape_attrib(value)) for key, value in attrs)


def _xml_open(tag, attrs):
    return "<%s%s>" % (tag, _xml_attrs(attrs))


def _xml_element(tag, attrs, body=None):
    """One element without children as ``ET.tostring`` writes it: ``<tag a="v">text</tag>``, or ``<tag a="v" />``."""
    if body:
        return "<%s%s>%s</%s>" % (tag, _xml_attrs(attrs), _escape_cdata(body), tag)
    return "<%s%s />" % (tag, _xml_attrs(attrs))


# --------------------------------------------------------------------------- Prometheus text exposition

def label_value(value):
    value = value if value.__class__ is str else text(value)
    if "\\" in value or "\n" in value or '"' in value:
        return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')
    return value


def _help(value):
    return text(value).replace("\\", "\\\\").replace("\n", "\\n")


def labels(pairs):
    """``k="v",...`` with the values escaped (backslash, double quote, newline)."""
    return ",".join('%s="%s"' % (k, label_value(v)) for k, v in pairs)


def _epoch(value):
    """Seconds since the epoch of a UTC ISO 8601 time (``...Z``), or None."""
    import datetime
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith("Z") else value)
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return round(when.timestamp(), 3)


def _finite(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class _Families(object):
    """Metric families in order; a second sample with the same labels replaces the first (no duplicate series)."""

    def __init__(self):
        self.families = []
        self.samples = {}

    def family(self, name, help_text):
        self.families.append((name, help_text))
        self.samples[name] = {}

    def add(self, name, rendered_labels, value):
        """Add a sample; ``rendered_labels`` from ``labels()``; a missing or non-finite value is left out."""
        cls = value.__class__
        if (cls is float and math.isfinite(value)) or cls is int or (cls is not bool and _finite(value)):
            self.samples[name][rendered_labels] = value

    def render(self):
        out = []
        for name, help_text in self.families:
            series = self.samples[name]
            if not series:
                continue
            out.append("# HELP %s %s" % (name, _help(help_text)))
            out.append("# TYPE %s gauge" % name)
            # "name{labels} value" of every (labels, value) item, one C-level format each
            out.extend(map((name.replace("%", "%%") + "{%s} %r").__mod__, series.items()))
        return "\n".join(out) + "\n"


_TO_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}


def prometheus(model):
    """Gauges for node-exporter's textfile collector (no timestamps, one series per label set)."""
    fam = _Families()
    fam.family("o2edge_perf_run_info", "The reported run (value 1); labels: run id, status, title.")
    fam.family("o2edge_perf_median_seconds", "Median of a measurement's counted samples, in seconds.")
    fam.family("o2edge_perf_p95_seconds", "95th percentile (type 7) of a measurement's counted samples, in seconds.")
    fam.family("o2edge_perf_median", "Median of a measurement's counted samples, in its own unit (not a duration).")
    fam.family("o2edge_perf_samples", "Successful counted runs of a measurement.")
    fam.family("o2edge_perf_failures", "Failed counted runs of a measurement.")
    fam.family("o2edge_perf_change_ratio", "Median after / median before of a measurement compared with the baseline.")
    fam.family("o2edge_perf_regression", "1 when the comparison's verdict is slower, else 0.")
    fam.family("o2edge_perf_slo_pass", "1 when the objective passed, 0 when it failed (a missing figure fails).")
    fam.family("o2edge_perf_slo_value", "The figure an objective was evaluated on, in the objective's unit.")
    fam.family("o2edge_perf_slo_threshold", "The objective's threshold, in the objective's unit.")
    fam.family("o2edge_perf_probe_up", "1 when the service answered as expected (state up), else 0.")
    fam.family("o2edge_perf_probe_state", "1 for the probe's state (up, refused, timeout ...) of a site's service.")
    fam.family("o2edge_perf_probe_latency_seconds", "Time the probe of a site's service took, in seconds.")
    fam.family("o2edge_perf_run_missing", "Things the report says are missing from the run.")
    fam.family("o2edge_perf_run_timestamp_seconds", "When the report was generated, in seconds since the epoch "
                                                    "(staleness: time() - this).")
    fam.family("o2edge_perf_environment_steady", "1 when every control was steady between the compared passes, 0 when "
                                                 "one moved (sequential verdicts held); absent when unknown.")
    run = model["run"]
    stamp = _epoch(model.get("generated_at"))
    if stamp is not None:
        fam.add("o2edge_perf_run_timestamp_seconds", "", stamp)
    steady = ((model.get("comparisons_summary") or {}).get("drift") or {}).get("steady")
    if steady is not None:
        fam.add("o2edge_perf_environment_steady", "", 1 if steady else 0)
    fam.add("o2edge_perf_run_info", labels((("run_id", run.get("id")), ("status", run.get("status")),
                                            ("title", model["title"]))), 1)
    fam.add("o2edge_perf_run_missing", labels((("run_id", run.get("id")),)), len(model["missing"]))
    add = fam.add
    samples = fam.samples
    # The series of the measurements, the bulk of the file, straight into their families: a figure that is a
    # finite float or an int (not a bool), the usual case, is set as add() would set it; any other goes
    # through add() (and _finite), which leaves out what is missing or not finite.
    median_seconds, p95_seconds = samples["o2edge_perf_median_seconds"], samples["o2edge_perf_p95_seconds"]
    counts, failures = samples["o2edge_perf_samples"], samples["o2edge_perf_failures"]
    ratios, regressions = samples["o2edge_perf_change_ratio"], samples["o2edge_perf_regression"]
    label = remembered(label_value)  # components and hosts repeat
    for m in model["measurements"]:
        lab = 'name="%s",component="%s",host="%s"' % (label_value(m["name"]), label(m["component"]),
                                                      label(m["host"]))  # labels() of the three, inline
        scale = _TO_SECONDS.get(m["unit"])
        st = m["stats"]
        if scale is not None:
            median, p95 = st.get("median"), st.get("p95")
            if median.__class__ is float and p95.__class__ is float and math.isfinite(median + p95):
                median_seconds[lab] = median * scale
                p95_seconds[lab] = p95 * scale
            else:
                if _finite(median):
                    add("o2edge_perf_median_seconds", lab, median * scale)
                if _finite(p95):
                    add("o2edge_perf_p95_seconds", lab, p95 * scale)
        else:
            add("o2edge_perf_median", lab + ',unit="%s"' % label(m["unit"]), st.get("median"))
        n, failed = m["n"], m["failures"]
        if n.__class__ is int and failed.__class__ is int:
            counts[lab] = n
            failures[lab] = failed
        else:
            add("o2edge_perf_samples", lab, n)
            add("o2edge_perf_failures", lab, failed)
        c = m["comparison"]
        if c and c.get("comparable"):
            ratio = c.get("ratio")
            if ratio.__class__ is float and math.isfinite(ratio):
                ratios[lab] = ratio
            else:
                add("o2edge_perf_change_ratio", lab, ratio)
            regressions[lab] = 1 if c.get("verdict") == "slower" else 0
    for obj in model["slo"]:
        lab = labels((("objective", obj.get("name")),))
        unit = lab + ',unit="%s"' % label_value(obj.get("unit"))
        add("o2edge_perf_slo_pass", lab, 1 if obj.get("status") == "pass" else 0)
        add("o2edge_perf_slo_value", unit, obj.get("value"))
        add("o2edge_perf_slo_threshold", unit, obj.get("threshold"))
    mx = model["matrix"]
    for site in mx["sites"]:
        for service, res in mx["cells"][site].items():
            lab = labels((("site", site), ("service", service), ("kind", res.get("kind"))))
            add("o2edge_perf_probe_up", lab, 1 if res["state"] == "up" else 0)
            add("o2edge_perf_probe_state", labels((("site", site), ("service", service), ("state", res["state"]))), 1)
            latency = res.get("latency_ms")
            if _finite(latency):
                add("o2edge_perf_probe_latency_seconds", lab, latency / 1000.0)
    return fam.render()
