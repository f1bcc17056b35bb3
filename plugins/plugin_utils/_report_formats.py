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


def stat_cells(m):
    """The measurement's STAT_COLUMNS figures as text (computed once, shared by the Markdown and HTML tables)."""
    cells = m.get("_cells")
    if cells is None:
        st = m["stats"]
        cells = m["_cells"] = [number(st.get(k)) for k in STAT_COLUMNS]
    return cells


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


# str.translate with a mapping looks every character up in Python: one regular expression finds the
# few characters to replace (same result, several times faster on the comparisons' reasons).
_MD_CHARS = dict((chr(code), repl) for code, repl in _MD_ESCAPES.items())
_MD_RE = re.compile("[%s]" % re.escape("".join(_MD_CHARS)))


def _md_char(match):
    return _MD_CHARS[match.group()]


def md(value):
    """Markdown-safe text for a table cell or a line: HTML entities, escaped punctuation, one line."""
    value = value if value.__class__ is str else text(value)
    return _MD_RE.sub(_md_char, value) if _MD_RE.search(value) else value


def _md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out.extend("| " + " | ".join(row) + " |" for row in rows)
    return out


def markdown(model):
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
        # numbers and percentages hold nothing Markdown escapes (only the interval's brackets): used as they are
        out.extend(["| %s | %s | %s | %s | %s | %s | %s | %s | %s | **%s** | %s |" % (
            md(c["name"]), md(c.get("design") or "sequential"), md(c["host"]), md(c["unit"]),
            number(c.get("median_before")), number(c.get("median_after")),
            percent(c.get("change_pct")), md(ci_percent(c.get("ci"))), number(c.get("p_value"), 3), md(c["verdict"]),
            md(c.get("reason"))) for c in model["comparisons"]])
    else:
        out.append(md(comparison_summary(model)))
    out += ["", "## Measurements", ""]
    out += _md_table(["measurement", "component", "host", "unit", "n", "failures", "median", "p95", "min", "max",
                      "stdev", "MAD"], ())
    out.extend(["| %s | %s | %s | %s | %d | %s | %s | %s | %s | %s | %s | %s |" % (
        (md(m["name"]), md(m["component"]), md(m["host"]), md(m["unit"]), m["n"], md(m["failures"])) + tuple(stat_cells(m)))
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


def measurements_csv(model):
    """One row per record (CSV_COLUMNS); figures as Python writes them, an empty cell for a missing one.

    Each row is one join of its fields; a text field is ``_csv_field(_cell(value))``, remembered per
    string (hosts, plays, units, verdicts and reasons repeat), a number is its text as it is.
    """
    memo = {}

    def cell(value):
        if value.__class__ is not str:
            return _csv_field(_cell(value))
        found = memo.get(value)
        if found is None:
            found = memo[value] = _csv_field(_cell(value))
        return found

    run_id = cell(model["run"].get("id"))
    num = _csv_number
    lines = [",".join(map(_csv_field, CSV_COLUMNS))]
    append = lines.append
    for m in model["measurements"]:
        st = m["stats"]
        c = m["comparison"]
        if c:
            ci = c.get("ci") or (None, None)
            compared = ",".join((num(c.get("median_before")), num(c.get("change_pct")), num(c.get("ratio")),
                                 num(ci[0]), num(ci[1]), num(c.get("p_value")), cell(c.get("verdict")),
                                 cell(c.get("reason"))))
        else:
            compared = _CSV_NO_COMPARISON
        append(",".join((run_id, cell(m["host"]), cell(m["play"]), cell(m["task"]), cell(m["name"]),
                         cell(m["component"]), cell(m["unit"]), _csv_field(m["n"]), num(m["warmup"]),
                         num(m["failures"]), ",".join(map(num, map(st.get, _STAT_COLUMNS))),
                         str(len(st.get("outliers") or ())), "true" if st.get("slow_first_run") else "false",
                         cell(m["started_at"]), compared)))
    # Not the csv module: it leaves a bare CR unquoted when the line terminator is LF.
    lines.append("")
    return "\n".join(lines)


# --------------------------------------------------------------------------- JUnit

_XML_BAD = re.compile(u"[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value):
    return _XML_BAD.sub(u"\ufffd", text(value))


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
    for c in comparisons:
        said = xml_text("%s: %s" % (c["verdict"], c.get("reason")))
        if c.get("comparable") and c["verdict"] == "slower":
            inner = _xml_element("failure", (("message", xml_text(c.get("reason"))), ("type", "regression")), said)
        elif c["verdict"] not in ("faster", "slower", "no clear change"):
            inner = _xml_element("skipped", (("message", said),))
        else:
            inner = _xml_element("system-out", (), said)
        out.append(_xml_open("testcase", (("classname", "o2edge.perf.comparison.%s" % xml_text(
            c.get("design") or "sequential")), ("name", xml_text("%s on %s" % (c["name"], c["host"]))),
            ("time", "0"))) + inner + "</testcase>")
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
            out.extend("%s{%s} %r" % (name, key, value) for key, value in series.items())
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
    for m in model["measurements"]:
        lab = 'name="%s",component="%s",host="%s"' % (label_value(m["name"]), label_value(m["component"]),
                                                      label_value(m["host"]))  # labels() of the three, inline
        scale = _TO_SECONDS.get(m["unit"])
        st = m["stats"]
        if scale is not None:
            if _finite(st.get("median")):
                add("o2edge_perf_median_seconds", lab, st["median"] * scale)
            if _finite(st.get("p95")):
                add("o2edge_perf_p95_seconds", lab, st["p95"] * scale)
        else:
            add("o2edge_perf_median", lab + ',unit="%s"' % label_value(m["unit"]), st.get("median"))
        add("o2edge_perf_samples", lab, m["n"])
        add("o2edge_perf_failures", lab, m["failures"])
        c = m["comparison"]
        if c and c.get("comparable"):
            add("o2edge_perf_change_ratio", lab, c.get("ratio"))
            add("o2edge_perf_regression", lab, 1 if c.get("verdict") == "slower" else 0)
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
