# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A Grafana dashboard (JSON model, schemaVersion 39) generated from the o2edge.perf metrics (controller only).

Panels: the objectives (pass per run, error budget burn per window), render time per package, the
probe matrix (site x service, up or down per run), the before/after change ratio and regressions,
and the age of the last run. Queries use the recording rules of ``_prom_rules`` and the metrics of
``_report_formats.prometheus``; the datasource is a dashboard variable, so the JSON imports into any
Grafana with a Prometheus datasource. Nothing from the SLO file reaches the dashboard but the objective
names (checked identifiers). The JSON round-trips through Grafana's own typed model
(grafana-foundation-sdk) in the unit tests.
"""

from __future__ import annotations

import hashlib

from ansible_collections.o2edge.perf.plugins.plugin_utils._prom_rules import (
    BUDGET, ERROR_RATIO, RulesError, check_objectives, check_options, freshness_selector, regex_literal, seconds, selector,
    window_names)

SCHEMA_VERSION = 39
DS = {"type": "prometheus", "uid": "${datasource}"}
WIDTH = 24


def _uid(title):
    return "o2edge-" + hashlib.sha256(title.encode("utf-8")).hexdigest()[:12]


def _target(expr, legend, ref="A", instant=False):
    target = {"datasource": DS, "expr": expr, "legendFormat": legend, "refId": ref}
    if instant:
        target.update(instant=True, range=False, format="table")
    return target


class _Layout(object):
    """Panels placed left to right, wrapping at the grid's 24 columns; ids from 1."""

    def __init__(self):
        self.panels = []
        self.x = 0
        self.y = 0
        self.row_h = 0

    def row(self, title):
        self.newline()
        self.panels.append({"type": "row", "title": title, "id": len(self.panels) + 1, "collapsed": False,
                            "gridPos": {"h": 1, "w": WIDTH, "x": 0, "y": self.y}, "panels": []})
        self.y += 1

    def newline(self):
        if self.x:
            self.y += self.row_h
            self.x, self.row_h = 0, 0

    def add(self, panel, w, h):
        if self.x + w > WIDTH:
            self.newline()
        panel["id"] = len(self.panels) + 1
        panel["gridPos"] = {"h": h, "w": w, "x": self.x, "y": self.y}
        panel["datasource"] = DS
        self.panels.append(panel)
        self.x += w
        self.row_h = max(self.row_h, h)


def _timeseries(title, targets, unit, description, thresholds=None):
    steps = [{"color": "green", "value": None}] + [{"color": "red", "value": t} for t in (thresholds or [])]
    return {"type": "timeseries", "title": title, "description": description, "targets": targets,
            "fieldConfig": {"defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
                            "overrides": []},
            "options": {"legend": {"displayMode": "table", "placement": "bottom", "showLegend": True},
                        "tooltip": {"mode": "multi", "sort": "desc"}}}


def _up_mappings():
    return [{"type": "value", "options": {"0": {"text": "down", "color": "red", "index": 0},
                                          "1": {"text": "up", "color": "green", "index": 1}}}]


def dashboard(objectives, options=None, title="o2edge.perf"):
    """The dashboard dict for ``objectives`` (as load_objectives returns) and the rules' ``options``."""
    objectives = check_objectives(objectives)
    opts = check_options(options)
    if not isinstance(title, str) or not title.strip() or len(title) > 100:
        raise RulesError("title: must be a non-empty string of at most 100 characters")
    m = opts["matchers"]
    windows = window_names(opts["windows"])
    lay = _Layout()
    lay.row("Objectives")
    lay.add({"type": "stat", "title": "Objective passed (last run)",
             "description": "o2edge_perf_slo_pass: 1 when the objective passed in the last run.",
             "targets": [_target("max by (objective) (%s)" % selector("o2edge_perf_slo_pass", m), "{{objective}}")],
             "fieldConfig": {"defaults": {"mappings": [{"type": "value", "options": {
                 "0": {"text": "fail", "color": "red", "index": 0}, "1": {"text": "pass", "color": "green", "index": 1}}}],
                 "thresholds": {"mode": "absolute", "steps": [{"color": "red", "value": None},
                                                              {"color": "green", "value": 1}]}}, "overrides": []},
             "options": {"colorMode": "background", "graphMode": "none", "textMode": "value_and_name",
                         "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}}, 12, 6)
    lay.add({"type": "stat", "title": "Age of the last run",
             "description": "Seconds since the last run's metrics arrived (textfile mtime or push time).",
             "targets": [_target("time() - max(%s)" % freshness_selector(opts), "age")],
             "fieldConfig": {"defaults": {"unit": "s", "thresholds": {"mode": "absolute", "steps": [
                 {"color": "green", "value": None}, {"color": "red", "value": seconds(opts["stale_after"], "stale_after")}]}}, "overrides": []},
             "options": {"colorMode": "background", "graphMode": "area", "textMode": "value",
                         "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False}}}, 12, 6)
    names = "|".join(regex_literal(o["name"]) for o in objectives)
    burn_targets = []
    for i, w in enumerate(windows):
        burn_targets.append(_target(
            "%s\n/ on (objective)\n%s" % (selector(ERROR_RATIO + "_avg" + w, [("objective", "=~", names)]),
                                          selector(BUDGET, [("objective", "=~", names)])),
            "{{objective}} %s" % w, ref=_ref(i)))
    factors = sorted({w["factor"] for w in opts["windows"]})
    lay.add(_timeseries("SLO burn rate (error ratio / error budget) per window", burn_targets, "x",
                        "How many times faster than allowed each objective spends its error budget, per window. "
                        "An alert pair fires when both of its windows are over its factor (%s). An objective with "
                        "target 1 has no budget: any error shows as +Inf."
                        % ", ".join("x%g" % f for f in factors), thresholds=[factors[0]]), 24, 8)
    lay.row("Render time")
    lay.add(_timeseries("kpt render time per package (median)",
                        [_target("max by (name, host) (%s)" % selector("o2edge_perf_median_seconds",
                                                                       m + [("component", "=", "kpt_render")]),
                                 "{{name}} on {{host}}")], "s",
                        "o2edge_perf_median_seconds of every kpt_render record, per package and host.",
                        thresholds=[opts["render_seconds"]]), 12, 8)
    lay.add(_timeseries("Every component (median)",
                        [_target("max by (component, name) (%s)" % selector("o2edge_perf_median_seconds", m),
                                 "{{component}} {{name}}")], "s",
                        "o2edge_perf_median_seconds of every measurement in seconds."), 12, 8)
    lay.row("Edge sites")
    lay.add({"type": "status-history", "title": "Probe matrix (site / service, up or down per run)",
             "description": "o2edge_perf_probe_up per site and service.",
             "targets": [_target("max by (site, service) (%s)" % selector("o2edge_perf_probe_up", m),
                                 "{{site}} / {{service}}")],
             "fieldConfig": {"defaults": {"mappings": _up_mappings(), "thresholds": {"mode": "absolute", "steps": [
                 {"color": "red", "value": None}, {"color": "green", "value": 1}]}}, "overrides": []},
             "options": {"showValue": "never", "rowHeight": 0.9, "legend": {"showLegend": False, "displayMode": "list",
                                                                            "placement": "bottom"},
                         "tooltip": {"mode": "single", "sort": "none"}}}, 16, 10)
    lay.add({"type": "table", "title": "Services down now",
             "description": "Site and service pairs down in the last run.",
             "targets": [_target("max by (site, service) (%s) == 0" % selector("o2edge_perf_probe_up", m),
                                 "", instant=True)],
             "fieldConfig": {"defaults": {}, "overrides": []}, "options": {"showHeader": True}}, 8, 10)
    lay.add(_timeseries("Probe latency", [_target("max by (site, service) (%s)" % selector(
        "o2edge_perf_probe_latency_seconds", m), "{{site}} / {{service}}")], "s",
        "o2edge_perf_probe_latency_seconds per site and service."), 24, 8)
    lay.row("Before / after")
    lay.add(_timeseries("Change ratio (median after / median before)",
                        [_target("max by (name, host) (%s)" % selector("o2edge_perf_change_ratio", m),
                                 "{{name}} on {{host}}")], "x",
                        "o2edge_perf_change_ratio of every measurement compared with its baseline: under 1 is faster."),
            12, 8)
    lay.add({"type": "table", "title": "Regressions (slower than the baseline)",
             "description": "Measurements whose comparison verdict is slower in the last run.",
             "targets": [_target("max by (name, host) (%s) == 1" % selector("o2edge_perf_regression", m), "",
                                 instant=True)],
             "fieldConfig": {"defaults": {}, "overrides": []}, "options": {"showHeader": True}}, 12, 8)
    return {
        "uid": _uid(title),
        "title": title,
        "description": "o2edge.perf: objectives, render time, probe matrix, before/after (generated by "
                       "o2edge.perf.perf_rules; edit the generator, not this file)",
        "tags": ["o2edge", "performance", "slo"],
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "refresh": "1m",
        "time": {"from": "now-24h", "to": "now"},
        "templating": {"list": [{"type": "datasource", "name": "datasource", "label": "Prometheus",
                                 "query": "prometheus", "hide": 0, "skipUrlSync": False, "multi": False,
                                 "includeAll": False}]},
        "annotations": {"list": []},
        "links": [],
        "panels": lay.panels,
    }


def _ref(i):
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return letters[i] if i < len(letters) else "R%d" % i
