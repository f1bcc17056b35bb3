#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file only documents the action plugin plugins/action/perf_rules.py, which does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: perf_rules
short_description: Prometheus rules, their promtool tests and a Grafana dashboard from the SLO objectives
version_added: 1.0.0
description:
  - Reads the same C(openslo/v1) objectives that M(o2edge.perf.perf_report) evaluates (O(slo_file) or the
    collection's defaults) and writes three files into O(dest) - Prometheus recording and alerting rules
    (O(rules_name)), C(promtool test rules) cases for them (O(tests_name)) and a Grafana dashboard JSON
    (O(dashboard_name)). See docs/monitoring.md.
  - Alerts - per objective and severity a multi-window, multi-burn-rate alert (Google SRE workbook, as Sloth
    generates them; O(windows)), C(O2edgePerfRenderSlow) (a kpt_render median over O(render_seconds)),
    C(O2edgePerfProbeDown) (a site's service down for O(probe_for)) and C(O2edgePerfMetricsStale) (no new run
    for O(stale_after)).
  - Everything is generated before anything is written; each file is replaced atomically and only when its
    content changes (C(changed) is false otherwise). Bad options fail naming the field and write nothing.
  - Runs on the controller and needs no connection to the host it runs for.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: Generates and compares everything, writes nothing; C(changed) says whether it would write.
  platform:
    description: Runs on the controller.
options:
  slo_file:
    description: The SLO file (docs/slo.md). The collection's C(playbooks/files/slos.yml) when not given.
    type: path
  dest:
    description: The directory to write the three files into (created when missing).
    type: path
    required: true
  rules_name:
    description: File name of the rules (load it with C(rule_files) in Prometheus).
    type: str
    default: o2edge_perf.rules.yml
  tests_name:
    description: File name of the C(promtool test rules) cases; they refer to O(rules_name) in the same directory.
    type: str
    default: o2edge_perf.rules.test.yml
  dashboard_name:
    description: File name of the Grafana dashboard JSON.
    type: str
    default: o2edge_perf.dashboard.json
  dashboard_title:
    description: The dashboard's title (its uid is derived from it).
    type: str
    default: o2edge.perf
  windows:
    description:
      - The burn-rate window pairs, each C({severity, long, short, factor, for}); pairs of one severity are joined
        into one alert C(O2edgePerfErrorBudgetBurn<Severity>). The first severity is the one the generated tests
        fault. Default (a 30-day budget) - page 1h/5m x14.4 for 2m and 6h/30m x6; ticket 1d/2h x3 for 1h and 3d/6h x1.
      - Durations are Prometheus durations of one unit (C(30s), C(5m), C(1h)); C(short) must be shorter than C(long).
    type: list
    elements: dict
  interval:
    description: How often Prometheus scrapes and evaluates (the rule groups' interval and the tests' step).
      C(1m) when not given.
    type: str
  render_seconds:
    description: The kpt_render median (seconds) over which C(O2edgePerfRenderSlow) fires. 5 when not given.
    type: float
  render_for:
    description: How long the render must stay slow before C(O2edgePerfRenderSlow) fires. C(15m) when not given.
    type: str
  probe_for:
    description: How long a site's service must be down before C(O2edgePerfProbeDown) fires. C(5m) when not given.
    type: str
  stale_after:
    description: The age of the last run's metrics at which C(O2edgePerfMetricsStale) fires. C(3h) when not given.
    type: str
  stale_for:
    description: How long the metrics must stay stale before the alert fires. C(5m) when not given.
    type: str
  freshness:
    description: Where a run's arrival is seen - C(textfile) (node-exporter's C(node_textfile_mtime_seconds) of
      O(textfile_name)) or C(pushgateway) (C(push_time_seconds) of O(pushgateway_job)). C(textfile) when not given.
    type: str
    choices: [textfile, pushgateway]
  textfile_name:
    description: The metrics file's name in node-exporter's textfile directory. C(o2edge_perf.prom) when not given.
    type: str
  pushgateway_job:
    description: The Pushgateway job the reports push to. C(o2edge_perf) when not given.
    type: str
  matchers:
    description: Extra label matchers on every metric the rules and the dashboard query (for example
      C(job=node)); values are escaped; a secret-looking value is refused.
    type: dict
  group:
    description: Prefix of the rule group names. C(o2edge_perf) when not given.
    type: str
extends_documentation_fragment:
  - o2edge.perf.attributes.writes
  - o2edge.perf.attributes.platform_controller
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
"""

EXAMPLES = r"""
- name: Rules, tests and dashboard from the shipped objectives
  o2edge.perf.perf_rules:
    dest: /etc/prometheus/rules.d

- name: Short windows for a lab (minutes instead of hours)
  o2edge.perf.perf_rules:
    dest: "{{ lab_dir }}/prom/mgmt/rules"
    interval: 5s
    probe_for: 20s
    stale_after: 10m
    windows:
      - {severity: page, long: 2m, short: 30s, factor: 14.4, for: 10s}
      - {severity: ticket, long: 10m, short: 1m, factor: 3, for: 30s}
"""

RETURN = r"""
files:
  description: Path of each file, by kind (rules, tests, dashboard).
  returned: success
  type: dict
changed_files:
  description: The files written (or, in check mode, that would be).
  returned: success
  type: list
  elements: str
objectives:
  description: The objectives the rules were generated from.
  returned: success
  type: list
  elements: str
alerts:
  description: The alert names in the rules file.
  returned: success
  type: list
  elements: str
"""
