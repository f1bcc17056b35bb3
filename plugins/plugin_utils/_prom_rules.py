# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Prometheus recording and alerting rules generated from the SLO objectives (controller only).

The objectives are the dicts ``_slo.load_objectives`` returns (the same ones perf_report evaluates).
The metrics are those ``_report_formats.prometheus`` writes into each report's ``metrics.prom``
(docs/monitoring.md lists them). What is generated:

* ``objective:o2edge_perf_slo_error:ratio``: the error ratio of the last run, per objective: for a
  ``success_ratio`` objective ``1 - o2edge_perf_slo_value`` (bad occurrences of the run, e.g. the share
  of probes down), falling back to ``1 - o2edge_perf_slo_pass`` when the run had no figure; for a latency
  objective ``1 - o2edge_perf_slo_pass`` (the run is one occurrence, good or bad);
* ``objective:o2edge_perf_slo_error:ratio_avg<W>``: its average over every window W the alerts use;
* ``objective:o2edge_perf_slo_error_budget:ratio``: ``1 - target`` per objective (for burn-rate panels);
* multi-window, multi-burn-rate alerts (the Google SRE workbook, chapter 5, as Sloth and Pyrra
  generate them): one ``O2edgePerfErrorBudgetBurn`` alert per objective and window pair, firing when
  both the long and the short window burn the budget ``factor`` times faster than allowed:
  ``avg_long > factor * (1 - target) and avg_short > factor * (1 - target)``. Default pairs (for a
  30-day budget): 1h/5m x14.4 and 6h/30m x6 (page), 1d/2h x3 and 3d/6h x1 (ticket);
* plain threshold alerts: ``O2edgePerfRenderSlow`` (a kpt_render median over ``render_seconds``),
  ``O2edgePerfProbeDown`` (per site and service) and ``O2edgePerfMetricsStale`` (no new run for
  ``stale_after``: the textfile's mtime from node-exporter, or the Pushgateway's push time).

``promtool_tests`` writes ``promtool test rules`` cases for the same rules: per objective a fault
fires the first window pair's alert within the expected time and recovery resolves it; a quiet
period fires nothing; a probe down fires and resolves; stale metrics fire.

Every label value and string put into PromQL is escaped (``promql_string``); free text from the SLO
file (display names) reaches annotations only with Go template delimiters neutralised and never when
it looks secret; nothing from the file reaches a label but the objective's name (a checked identifier).

Size: over 450 lines: the rules, alerts and promtool test cases are generated from one objective
model and must agree with each other; the dashboard is in _dashboard.
"""

from __future__ import annotations

import math
import re

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key, secret_value_reason

PAGE_WINDOWS = (
    {"severity": "page", "long": "1h", "short": "5m", "factor": 14.4, "for": "2m"},
    {"severity": "page", "long": "6h", "short": "30m", "factor": 6.0, "for": "15m"},
)
TICKET_WINDOWS = (
    {"severity": "ticket", "long": "1d", "short": "2h", "factor": 3.0, "for": "1h"},
    {"severity": "ticket", "long": "3d", "short": "6h", "factor": 1.0, "for": "3h"},
)
DEFAULT_WINDOWS = PAGE_WINDOWS + TICKET_WINDOWS

DEFAULTS = {
    "windows": DEFAULT_WINDOWS,
    "interval": "1m",           # how often Prometheus scrapes / evaluates (for the generated tests)
    "render_seconds": 5.0,      # O2edgePerfRenderSlow threshold on a kpt_render median
    "render_for": "15m",
    "probe_for": "5m",          # O2edgePerfProbeDown: a service down for this long
    "stale_after": "3h",        # O2edgePerfMetricsStale: no new run for this long
    "stale_for": "5m",
    "freshness": "textfile",    # textfile (node_textfile_mtime_seconds) | pushgateway (push_time_seconds)
    "textfile_name": "o2edge_perf.prom",
    "pushgateway_job": "o2edge_perf",
    "matchers": {},             # extra label matchers on every o2edge_perf_* metric, e.g. {"job": "node"}
    "group": "o2edge_perf",
}

ALERT_BURN = "O2edgePerfErrorBudgetBurn"
ALERT_RENDER = "O2edgePerfRenderSlow"
ALERT_PROBE = "O2edgePerfProbeDown"
ALERT_STALE = "O2edgePerfMetricsStale"
ERROR_RATIO = "objective:o2edge_perf_slo_error:ratio"
BUDGET = "objective:o2edge_perf_slo_error_budget:ratio"

MAX_WINDOWS = 8
MAX_OBJECTIVES = 200
MAX_MATCHERS = 8
_DURATION_RE = re.compile(r"^([0-9]{1,6})(ms|s|m|h|d|w|y)$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
_LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,62}$")
_OBJECTIVE_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}(#[0-9]{1,4})?$")
_TEXTFILE_RE = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,100}\.prom$")
_SEVERITY_RE = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
MAX_TEXT = 200


class RulesError(Exception):
    """Bad options or objectives; the message names the field, never a secret-looking value."""


# --------------------------------------------------------------------------- escaping

def promql_string(value):
    """``value`` as a double-quoted PromQL string literal (also a valid YAML-free label matcher value).

    Backslash, double quote and newlines are escaped, so a value holding ``"`` or a newline cannot end
    the string or the matcher early.
    """
    text = str(value)
    return '"%s"' % (text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
                     .replace("\r", "\\r").replace("\t", "\\t"))


def regex_literal(text):
    """An RE2 pattern matching ``text`` literally."""
    return re.sub(r"([\\.^$|?*+()\[\]{}])", r"\\\1", text)


_TEMPLATE_RE = re.compile(r"\{\{|\}\}")


def template_safe(text):
    """Free text for an annotation: Go template delimiters printed literally, never executed."""
    return _TEMPLATE_RE.sub(lambda m: '{{ "%s" }}' % m.group(0), text)


def shown_text(value, what):
    """Free text from the SLO file for an annotation: one line, bounded, dropped when secret-looking."""
    if not isinstance(value, str) or not value.strip():
        return None
    if secret_value_reason(value) or _token_like(value):
        return "(%s not shown: it looks like a secret)" % what
    text = " ".join(value.split())
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT - 3] + "..."
    return template_safe(text)


def _token_like(text):
    return any(len(w) >= 24 and sum(c.isdigit() for c in w) >= 4 and any(c.isalpha() for c in w) for w in text.split())


def selector(metric, pairs):
    """``metric{k="v",...}`` with every value escaped."""
    if not pairs:
        return metric
    return "%s{%s}" % (metric, ",".join("%s%s%s" % (k, op, promql_string(v)) for k, op, v in pairs))


# --------------------------------------------------------------------------- options

def seconds(text, field):
    """A Prometheus duration (one unit, e.g. ``5m``) in seconds; RulesError naming ``field`` otherwise."""
    match = _DURATION_RE.match(text) if isinstance(text, str) else None
    if not match or int(match.group(1)) == 0:
        raise RulesError("%s: must be a Prometheus duration such as 30s, 5m, 1h or 3d (one unit, more than 0), got %s"
                         % (field, _kind(text)))
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def _kind(value):
    if isinstance(value, str):
        if re.match(r"^[A-Za-z0-9_.#-]{1,20}$", value) and not is_secret_key(value) and not secret_value_reason(value):
            return repr(value)
        return "a string of %d characters" % len(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, (int, float)):
        return "%g" % value
    return type(value).__name__


def _number(value, field, low, high, low_open=False):
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value > high or value < low or (low_open and value == low):
        raise RulesError("%s: must be a number %s %g and at most %g, got %s"
                         % (field, "over" if low_open else "from", low, high, _kind(value)))
    return float(value)


def check_options(options):
    """The options merged over DEFAULTS and checked; RulesError names the first bad field."""
    options = dict(options or {})
    unknown = sorted(k for k in options if k not in DEFAULTS)
    if unknown:
        raise RulesError("unknown option%s: %s (known: %s)" % ("s" if len(unknown) > 1 else "",
                                                               ", ".join(_kind(k) for k in unknown), ", ".join(DEFAULTS)))
    opts = dict(DEFAULTS)
    opts.update({k: v for k, v in options.items() if v is not None})
    for field in ("interval", "render_for", "probe_for", "stale_after", "stale_for"):
        seconds(opts[field], field)
    opts["render_seconds"] = _number(opts["render_seconds"], "render_seconds", 0, 86400, low_open=True)
    if opts["freshness"] not in ("textfile", "pushgateway"):
        raise RulesError("freshness: must be textfile or pushgateway, got %s" % _kind(opts["freshness"]))
    if not isinstance(opts["textfile_name"], str) or not _TEXTFILE_RE.match(opts["textfile_name"]):
        raise RulesError("textfile_name: must be a file name ending in .prom (letters, digits, _ . -), got %s"
                         % _kind(opts["textfile_name"]))
    if not isinstance(opts["group"], str) or not _LABEL_NAME_RE.match(opts["group"]):
        raise RulesError("group: must be a name of letters, digits and _, got %s" % _kind(opts["group"]))
    job = opts["pushgateway_job"]
    if not isinstance(job, str) or not job or len(job) > 100 or secret_value_reason(job):
        raise RulesError("pushgateway_job: must be a job name of at most 100 characters, got %s" % _kind(job))
    opts["matchers"] = _matchers(opts["matchers"])
    opts["windows"] = _windows(opts["windows"], seconds(opts["interval"], "interval"))
    return opts


def _matchers(value):
    if not isinstance(value, dict):
        raise RulesError("matchers: must be a mapping of label name to value, got %s" % _kind(value))
    if len(value) > MAX_MATCHERS:
        raise RulesError("matchers: at most %d labels, got %d" % (MAX_MATCHERS, len(value)))
    pairs = []
    for i, (key, val) in enumerate(sorted(value.items(), key=lambda kv: str(kv[0]))):
        if not isinstance(key, str) or not _LABEL_NAME_RE.match(key) or key.startswith("__"):
            raise RulesError("matchers: key %d is not a label name (letters, digits, _; not __...)" % (i + 1))
        if not isinstance(val, str) or len(val) > 200:
            raise RulesError("matchers.%s: must be a string of at most 200 characters, got %s" % (key, _kind(val)))
        if is_secret_key(key) or secret_value_reason(val) or _token_like(val):
            raise RulesError("matchers.%s: looks like a secret; a secret never goes into a rule's label" % key)
        pairs.append((key, "=", val))
    return pairs


def _windows(value, interval):
    if not isinstance(value, (list, tuple)) or not value:
        raise RulesError("windows: must be a non-empty list of {severity, long, short, factor, for}, got %s"
                         % _kind(value))
    if len(value) > MAX_WINDOWS:
        raise RulesError("windows: at most %d window pairs, got %d" % (MAX_WINDOWS, len(value)))
    result, seen = [], set()
    for i, win in enumerate(value):
        field = "windows[%d]" % i
        if not isinstance(win, dict):
            raise RulesError("%s: must be a mapping, got %s" % (field, _kind(win)))
        extra = sorted(set(win) - {"severity", "long", "short", "factor", "for"})
        if extra:
            raise RulesError("%s: unknown field %s" % (field, ", ".join(_kind(k) for k in extra)))
        missing = [k for k in ("severity", "long", "short", "factor") if k not in win]
        if missing:
            raise RulesError("%s: missing %s" % (field, ", ".join(missing)))
        sev = win["severity"]
        if not isinstance(sev, str) or not _SEVERITY_RE.match(sev):
            raise RulesError("%s.severity: must be a lower-case word such as page or ticket, got %s" % (field, _kind(sev)))
        long_s = seconds(win["long"], field + ".long")
        short_s = seconds(win["short"], field + ".short")
        if short_s >= long_s:
            raise RulesError("%s: short (%s) must be shorter than long (%s)" % (field, win["short"], win["long"]))
        if short_s < 2 * interval:
            raise RulesError("%s.short: %s holds fewer than two evaluations of interval %gs"
                             % (field, win["short"], interval))
        factor = _number(win["factor"], field + ".factor", 0, 1000, low_open=True)
        hold = win.get("for", "0s")
        if hold != "0s":
            seconds(hold, field + ".for")
        if (win["long"], win["short"]) in seen:
            raise RulesError("%s: the window pair %s/%s is given twice" % (field, win["long"], win["short"]))
        seen.add((win["long"], win["short"]))
        result.append({"severity": sev, "long": win["long"], "short": win["short"], "factor": factor, "for": hold})
    return result


def check_objectives(objectives):
    if not isinstance(objectives, list) or not objectives:
        raise RulesError("objectives: must be a non-empty list of objectives (from load_objectives)")
    if len(objectives) > MAX_OBJECTIVES:
        raise RulesError("objectives: at most %d, got %d" % (MAX_OBJECTIVES, len(objectives)))
    for i, obj in enumerate(objectives):
        name = obj.get("name") if isinstance(obj, dict) else None
        if not isinstance(name, str) or not _OBJECTIVE_RE.match(name):
            raise RulesError("objectives[%d].name: must be an SLO name (as load_objectives gives), got %s"
                             % (i, _kind(name)))
        target = obj.get("target")
        _number(target, "objectives[%d] (%s).target" % (i, name), 0, 1, low_open=True)
    return objectives


# --------------------------------------------------------------------------- rules

def _num(value):
    """A float as PromQL prints it: no exponent surprises, 10 significant digits."""
    text = "%.10g" % value
    return text


def window_names(windows):
    return sorted({w for win in windows for w in (win["long"], win["short"])}, key=lambda w: seconds(w, "window"))


def budget(objective):
    return max(0.0, 1.0 - float(objective["target"]))


def burn_threshold(objective, window):
    return window["factor"] * budget(objective)


def _error_ratio_rule(matchers):
    value = selector("o2edge_perf_slo_value", matchers + [("unit", "=", "ratio")])
    passed = selector("o2edge_perf_slo_pass", matchers)
    return ("max by (objective) (1 - %s)\nor\nmax by (objective) (1 - %s)" % (value, passed))


def _annotation_objective(obj):
    shown = shown_text(obj.get("display_name"), "display name") or obj["name"]
    detail = shown_text(obj.get("objective"), "objective")
    return shown + (" (%s)" % detail if detail else "")


def severities(windows):
    """The window pairs grouped by severity, in first-seen order: [(severity, [window, ...]), ...]."""
    order = []
    for win in windows:
        for sev, group in order:
            if sev == win["severity"]:
                group.append(win)
                break
        else:
            order.append((win["severity"], [win]))
    return order


def alert_name(severity):
    return ALERT_BURN + "".join(part.capitalize() for part in re.split(r"[_-]", severity))


def burn_alert(obj, severity, windows):
    """The alerting rule of one objective and one severity: its window pairs joined by ``or`` (as Sloth does).

    Each pair ``(long, short, factor)`` holds when ``error ratio over long > factor x budget`` and the
    same over ``short``; the ``for:`` is the first pair's.
    """
    name = obj["name"]
    sel = [("objective", "=", name)]
    parts = []
    for win in windows:
        threshold = _num(burn_threshold(obj, win))
        parts.append("(\n  %s > %s\n  and\n  %s > %s\n)" % (
            selector(ERROR_RATIO + "_avg" + win["long"], sel), threshold,
            selector(ERROR_RATIO + "_avg" + win["short"], sel), threshold))
    pairs = ", ".join("%s/%s x%g" % (w["long"], w["short"], w["factor"]) for w in windows)
    rule = {
        "alert": alert_name(severity),
        "expr": "\nor\n".join(parts),
        "labels": {"severity": severity, "objective": name},
        "annotations": {
            "summary": "SLO %s burns its error budget too fast (%s)" % (template_safe(name), pairs),
            "description": "%s: target %s, error budget %s; window pairs (long/short x burn-rate factor): %s."
                           % (_annotation_objective(obj), _num(obj["target"]), _num(budget(obj)), pairs),
        },
    }
    if windows[0]["for"] != "0s":
        rule["for"] = windows[0]["for"]
    return rule


def freshness_selector(opts):
    """The series that advances with every run: node-exporter's mtime of the textfile, or the push time."""
    if opts["freshness"] == "textfile":
        return selector("node_textfile_mtime_seconds",
                        opts["matchers"] + [("file", "=~", "(.*/)?" + regex_literal(opts["textfile_name"]))])
    return selector("push_time_seconds", opts["matchers"] + [("job", "=", opts["pushgateway_job"])])


def _stale_expr(opts):
    sel = freshness_selector(opts)
    return "time() - max(%s) > %d\nor\nabsent(%s)" % (sel, seconds(opts["stale_after"], "stale_after"), sel)


def generate(objectives, options=None):
    """The rules document (a dict ready for YAML) for ``objectives`` and ``options`` (see DEFAULTS)."""
    objectives = check_objectives(objectives)
    opts = check_options(options)
    m = opts["matchers"]
    windows = opts["windows"]
    recording = [{"record": ERROR_RATIO, "expr": _error_ratio_rule(m)}]
    for w in window_names(windows):
        recording.append({"record": ERROR_RATIO + "_avg" + w,
                          "expr": "avg_over_time(%s[%s])" % (ERROR_RATIO, w)})
    for obj in objectives:
        recording.append({"record": BUDGET, "expr": _num(budget(obj)), "labels": {"objective": obj["name"]}})
    alerts = [burn_alert(obj, sev, group) for obj in objectives for sev, group in severities(windows)]
    alerts.append({
        "alert": ALERT_RENDER,
        "expr": "max by (name, host) (%s) > %s" % (
            selector("o2edge_perf_median_seconds", m + [("component", "=", "kpt_render")]), _num(opts["render_seconds"])),
        "for": opts["render_for"],
        "labels": {"severity": "ticket"},
        "annotations": {"summary": "kpt render of {{ $labels.name }} on {{ $labels.host }} takes over %ss at the median"
                                   % _num(opts["render_seconds"])},
    })
    alerts.append({
        "alert": ALERT_PROBE,
        "expr": "max by (site, service) (%s) == 0" % selector("o2edge_perf_probe_up", m),
        "for": opts["probe_for"],
        "labels": {"severity": "page"},
        "annotations": {"summary": "{{ $labels.service }} of edge site {{ $labels.site }} has been down in every run "
                                   "for %s" % opts["probe_for"]},
    })
    alerts.append({
        "alert": ALERT_STALE,
        "expr": _stale_expr(opts),
        "for": opts["stale_for"],
        "labels": {"severity": "ticket"},
        "annotations": {"summary": "no o2edge.perf run has arrived for over %s (the timer or the run is broken)"
                                   % opts["stale_after"]},
    })
    return {"groups": [
        {"name": opts["group"] + "_slo_recording", "interval": opts["interval"], "rules": recording},
        {"name": opts["group"] + "_alerts", "interval": opts["interval"], "rules": alerts},
    ]}


# --------------------------------------------------------------------------- promtool tests

_RENDER_RE = re.compile(r'\{\{ (?:\$labels\.([a-zA-Z_][a-zA-Z0-9_]*)|"([^"]*)") \}\}')


def render_annotation(text, labels):
    """What Prometheus makes of an annotation using only ``{{ $labels.x }}`` and ``{{ "literal" }}``."""
    return _RENDER_RE.sub(lambda mt: labels.get(mt.group(1), "") if mt.group(1) else mt.group(2), text)


def _expected(rule, labels):
    return {"exp_labels": dict(labels, **rule["labels"]),
            "exp_annotations": {k: render_annotation(v, dict(labels, **rule["labels"]))
                                for k, v in rule.get("annotations", {}).items()}}


def _series(pieces):
    """promtool's expanding notation: [(value, count), ...] -> 'a+0x(n-1) ...' with exactly ``count`` samples each."""
    out = []
    for value, count in pieces:
        out.append("%sx%d" % (_num(value), count - 1) if count > 1 else _num(value))
    return " ".join(out)


def _fmt_duration(secs):
    secs = int(math.ceil(secs))
    return "%ds" % secs


def _slo_inputs(obj, matchers, error_pieces):
    """Input series for one objective whose run error ratio follows ``error_pieces`` [(ratio, samples)]."""
    labels = dict((k, v) for k, _op, v in matchers)
    pass_pieces = [(0 if err > 0 else 1, n) for err, n in error_pieces]
    series = [{"series": selector("o2edge_perf_slo_pass", [(k, "=", v) for k, v in labels.items()]
                                  + [("objective", "=", obj["name"])]),
               "values": _series(pass_pieces)}]
    if obj.get("statistic") == "success_ratio":
        series.append({"series": selector("o2edge_perf_slo_value", [(k, "=", v) for k, v in labels.items()]
                                          + [("objective", "=", obj["name"]), ("unit", "=", "ratio")]),
                       "values": _series([(1 - err, n) for err, n in error_pieces])})
    return series


def fire_delay(obj, window, interval, fault_error=1.0):
    """Seconds after the first bad run until the pair's condition surely holds (both windows full before),
    or None when the fault can never burn fast enough (factor x budget >= the fault's error ratio)."""
    threshold = burn_threshold(obj, window)
    if threshold >= fault_error:
        return None
    worst = 0
    for w in (window["long"], window["short"]):
        samples = int(seconds(w, "window") // interval) + 1  # a closed range: one more sample than w / interval
        bad = int(math.floor(threshold * samples / fault_error)) + 1
        worst = max(worst, (bad - 1) * interval)
    return worst


def promtool_tests(objectives, options=None, rule_file="o2edge_perf.rules.yml"):
    """A ``promtool test rules`` document for the rules ``generate(objectives, options)`` makes."""
    objectives = check_objectives(objectives)
    opts = check_options(options)
    rules = generate(objectives, opts_for_generate(opts))
    by_key = {}
    for group in rules["groups"]:
        for rule in group["rules"]:
            if "alert" in rule:
                by_key[(rule["alert"], rule["labels"].get("objective"))] = rule
    interval = seconds(opts["interval"], "interval")
    m = opts["matchers"]
    tests = []
    fresh = _fresh_series(opts, 0)  # keeps the stale alert quiet in the other tests
    sev_groups = severities(opts["windows"])
    burn_names = [alert_name(sev) for sev, _group in sev_groups]
    sev, group = sev_groups[0]  # the fastest severity (page by default): a fault must reach it
    first = group[0]
    long_s = max(seconds(w["long"], "long") for w in group)
    short_s = max(seconds(w["short"], "short") for w in group)
    hold = seconds(first["for"], "for") if first["for"] != "0s" else 0
    for obj in objectives:
        delay = fire_delay(obj, first, interval)
        if delay is None:
            continue
        rule = by_key[(alert_name(sev), obj["name"])]
        healthy = int(long_s // interval) + 2          # every long window full of good runs first
        fault_at = healthy * interval
        fire_at = fault_at + delay + hold + 2 * interval
        bad = int((delay + hold) // interval) + 4
        restore_at = fault_at + bad * interval
        resolved_at = restore_at + short_s + 3 * interval  # every short window of the severity clean again
        after = int((resolved_at - restore_at) // interval) + 2
        total = healthy + bad + after
        inputs = _slo_inputs(obj, m, [(0.0, healthy), (1.0, bad), (0.0, after)])
        tests.append({
            "name": "%s: a failing objective fires %s (%s/%s x%g) within %ds and resolves after recovery"
                    % (obj["name"], rule["alert"], first["long"], first["short"], first["factor"],
                       delay + hold + 2 * interval),
            "interval": opts["interval"],
            "input_series": inputs + fresh(total),
            "alert_rule_test": [
                {"eval_time": _fmt_duration(fault_at - interval), "alertname": rule["alert"], "exp_alerts": []},
                # pending, not yet firing: the for: clause has not elapsed since the first bad run
                {"eval_time": _fmt_duration(fault_at + max(hold - interval, 0)), "alertname": rule["alert"],
                 "exp_alerts": []},
                {"eval_time": _fmt_duration(fire_at), "alertname": rule["alert"],
                 "exp_alerts": [_expected(rule, {"objective": obj["name"]})]},
                {"eval_time": _fmt_duration(resolved_at), "alertname": rule["alert"], "exp_alerts": []},
                    ],
        })
    # a quiet period over the first severity's longest window (longer periods only cost promtool time: the
    # windows hold nothing else): every run good, but for one failed run where the budget allows it (the
    # short window spikes, the long one does not: the point of two windows), nothing fires
    quiet = int(long_s // interval) + 3
    blip_at = quiet // 2
    quiet_inputs, blips = [], []
    for obj in objectives:
        allows = all(1.0 / min(int(seconds(w["long"], "long") // interval) + 1, blip_at + 1) <= burn_threshold(obj, w)
                     for w in opts["windows"])
        if allows:
            blips.append(obj["name"])
            pieces = [(0.0, blip_at), (1.0, 1), (0.0, quiet - blip_at - 1)]
        else:
            pieces = [(0.0, quiet)]
        quiet_inputs += _slo_inputs(obj, m, pieces)
    quiet_inputs.append({"series": selector("o2edge_perf_probe_up", _labels(m, site="edge1", service="ssh",
                                                                            kind="ssh")),
                         "values": _series([(1, quiet)])})
    checks = []
    # every step while the failed run is in a short window (where a wrong window or factor would fire)
    spike = {blip_at * interval + k * interval for k in range(int(short_s // interval) + 2)}
    for at in sorted(spike | {short_s, long_s, (quiet - 1) * interval}):
        for alert in burn_names + [ALERT_PROBE, ALERT_STALE, ALERT_RENDER]:
            checks.append({"eval_time": _fmt_duration(at), "alertname": alert, "exp_alerts": []})
    tests.append({"name": "quiet period: every run good for %s (one failed run of %s), no alert fires"
                          % (_fmt_duration(long_s), ", ".join(blips) or "none"),
                  "interval": opts["interval"], "input_series": quiet_inputs + fresh(quiet),
                  "alert_rule_test": checks})
    # a probe down: fires after probe_for, resolves when the service answers again
    probe_for = seconds(opts["probe_for"], "probe_for")
    down = int(probe_for // interval) + 4
    up_before, up_after = 3, 3
    probe_rule = by_key[(ALERT_PROBE, None)]
    site_labels = {"site": 'edge"1\nx', "service": "ssh"}  # a hostile site name: escaped, still one series
    tests.append({
        "name": "a service of a site down in every run fires %s after %s and resolves" % (ALERT_PROBE, opts["probe_for"]),
        "interval": opts["interval"],
        "input_series": [{"series": selector("o2edge_perf_probe_up", _labels(m, kind="ssh", **site_labels)),
                          "values": _series([(1, up_before), (0, down), (1, up_after)])}]
        + fresh(up_before + down + up_after),
        "alert_rule_test": [
            {"eval_time": _fmt_duration(up_before * interval + probe_for - interval), "alertname": ALERT_PROBE,
             "exp_alerts": []},
            {"eval_time": _fmt_duration(up_before * interval + probe_for + 2 * interval), "alertname": ALERT_PROBE,
             "exp_alerts": [_expected(probe_rule, site_labels)]},
            {"eval_time": _fmt_duration((up_before + down + 1) * interval), "alertname": ALERT_PROBE,
             "exp_alerts": []},
        ],
    })
    # stale: runs stop arriving
    stale = seconds(opts["stale_after"], "stale_after")
    stale_for = seconds(opts["stale_for"], "stale_for")
    runs = 3
    stop_at = (runs - 1) * interval
    span = int((stale + stale_for) // interval) + runs + 4
    stale_rule = by_key[(ALERT_STALE, None)]
    freshness = _fresh_series(opts, 0, stop_after=runs)(span)
    stale_labels = {}
    tests.append({
        "name": "runs stop arriving: %s fires after %s" % (ALERT_STALE, opts["stale_after"]),
        "interval": opts["interval"],
        "input_series": freshness,
        "alert_rule_test": [
            {"eval_time": _fmt_duration(stop_at + stale), "alertname": ALERT_STALE, "exp_alerts": []},
            {"eval_time": _fmt_duration(stop_at + stale + stale_for + 3 * interval), "alertname": ALERT_STALE,
             "exp_alerts": [_expected(stale_rule, stale_labels)]},
        ],
    })
    return {"rule_files": [rule_file], "evaluation_interval": opts["interval"], "tests": tests}


def opts_for_generate(opts):
    """Checked options back in the shape ``generate`` takes."""
    out = dict(opts)
    out["matchers"] = {k: v for k, _op, v in opts["matchers"]}
    out["windows"] = [dict(w) for w in opts["windows"]]
    return out


def _labels(matchers, **labels):
    return [(k, "=", v) for k, _op, v in matchers] + [(k, "=", v) for k, v in sorted(labels.items())]


def _fresh_series(opts, start, stop_after=None):
    """A freshness series (textfile mtime or push time) advancing with every run; ``stop_after`` runs then frozen."""
    interval = seconds(opts["interval"], "interval")
    if opts["freshness"] == "textfile":
        sel = selector("node_textfile_mtime_seconds", _labels(opts["matchers"], file=opts["textfile_name"]))
    else:
        sel = selector("push_time_seconds", _labels(opts["matchers"], job=opts["pushgateway_job"]))

    def make(count):
        if stop_after is None:
            return [{"series": sel, "values": "%d+%gx%d" % (start, interval, count - 1)}]
        last = start + (stop_after - 1) * interval
        return [{"series": sel, "values": "%d+%gx%d %sx%d" % (start, interval, stop_after - 1, _num(last),
                                                              count - stop_after)}]
    return make
