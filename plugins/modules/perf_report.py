#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

# This file only documents the action plugin plugins/action/perf_report.py, which does the work on the controller.

from __future__ import annotations

DOCUMENTATION = r"""
---
module: perf_report
short_description: Write a run's report - SLOs, before/after comparison, HTML, Markdown, CSV, JSON, JUnit, Prometheus
version_added: 1.0.0
description:
  - Reads one or more results documents (C(results.json), or a C(results.jsonl) cut short) written by the
    C(o2edge.perf.perf_recap) callback - or, with O(results=callback), the run in progress - and writes a
    report into a new run directory C(<dest>/<run id>/) - C(report.md), C(report.html) (self-contained,
    inline SVG, no script), C(measurements.csv), C(results.json) (the merged results plus a C(report)
    section), C(junit.xml) (a test case per objective) and C(metrics.prom) (Prometheus text format for
    node-exporter's textfile collector). Then updates the index of past runs C(<dest>/index.md),
    C(index.html) and C(index.json).
  - The run directory is filled beside its final place and renamed into place, so a report that fails
    half-way leaves no partial directory; the index files are each replaced atomically. A second report of the
    same run gets a new directory (C(<run id>-2) ...).
  - With O(baseline), every measurement is compared with the baseline's measurement of the same record name
    and host - when the two are comparable (same host, same tool versions, same unit; otherwise the report
    says C(not comparable) and why) - by the ratio of medians with its bootstrap interval and a Mann-Whitney U
    test. A change is called faster or slower only when the test, the interval and O(threshold) agree.
  - Objectives (SLOs) come from O(slo_file) or the collection's defaults; a measurement an objective needs
    that is missing fails the objective, with the reason.
  - A run that broke half-way (truncated C(results.jsonl), status running, failed or interrupted) still gets a
    report; it says at the top what is missing.
  - Text read from results files is data - escaped for each format, never evaluated as a template.
  - Runs on the controller and needs no connection to the host it runs for.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: Reads and computes everything (bad input fails the same way) but writes nothing and pushes nothing;
      returns the paths it would write.
  diff_mode:
    description: The report is a new directory; there is nothing to diff.
options:
  results:
    description:
      - Results files to report (C(results.json), C(results.jsonl), or a directory holding one); several are merged
        (slices of one run, or several runs).
      - V(callback) reads the run in progress - the C(results.jsonl) whose path the C(o2edge.perf.perf_recap) callback
        exports in C(O2EDGE_PERF_RESULTS) on the controller.
    type: list
    elements: str
    required: true
  baseline:
    description:
      - Results files of the run to compare with (several are merged); a C(results.json) of an earlier report works.
      - Each item may also be the run id of an earlier report in O(dest), or V(latest) for the newest report in
        O(dest) (found through its C(index.json)); an item that is neither a file nor a known run fails the task
        before anything is written.
      - Without it, nothing is compared.
    type: list
    elements: str
    default: []
  slo_file:
    description:
      - YAML file of objectives (OpenSLO subset, see docs/slo.md). Unknown fields, bad JMESPath expressions and wrong types
        fail the task with a message naming the objective and the field.
      - The collection's default objectives when not given.
    type: path
  dest:
    description: Reports directory; created when missing. Each report is a new directory in it.
    type: path
    required: true
  title:
    description: Title of the report.
    type: str
    default: o2edge.perf report
  threshold:
    description: Smallest relative change of the median that counts (V(0.05) is 5%). A share in [0, 1).
    type: float
    default: 0.05
  min_samples:
    description: Samples needed on each side before a change can be called.
    type: int
    default: 6
  play_filter:
    description:
      - Regular expression (Python C(re.search)); only the records, probes and tasks of plays whose name matches
        are reported. All of them when not given.
    type: str
  pushgateway_url:
    description:
      - Prometheus Pushgateway base URL; C(metrics.prom) is sent with HTTP PUT to
        C(<url>/metrics/job/o2edge_perf/instance/<controller host>).
      - The push path goes after the URL's path, before its query string (kept as given).
      - Must not embed credentials (C(user:password@)); such a URL is refused before anything is read or
        written. The URL is shown only as C(scheme://host:port/path), never its userinfo or query.
      - A failed push is a warning and is named in RV(pushgateway), unless O(pushgateway_required).
    type: str
  pushgateway_timeout:
    description: Seconds to wait for the Pushgateway (a number above 0).
    type: float
    default: 10
  pushgateway_required:
    description: Fail the task (after writing the report) when the push fails.
    type: bool
    default: false
  fail_on_slo:
    description: Fail the task, after writing everything, when an objective fails (the message lists them with
      their reasons), or when the results are those of a sliced run with a slice missing.
    type: bool
    default: false
  fail_on_regression:
    description:
      - A regression gate for CI. Fail the task, after writing everything, when any comparable measurement is
        called slower than the baseline (the U test or, for interleaved pairs, the signed-rank test, the interval
        and the threshold all agree), or when no baseline was given.
      - A verdict held as C(environment changed) (a control moved between the passes) does not fail the gate; the
        report says it is held and why.
    type: bool
    default: false
  regression_threshold:
    description:
      - Per-measurement practical thresholds, a mapping of record name patterns (shell-style, C(fnmatch)) to shares
        (V(0.10) is 10%), replacing O(threshold) for the measurements they match (the first matching pattern in
        sorted order).
    type: dict
  untouched:
    description:
      - Components or record name patterns of measurements that the change under test cannot touch (for example
        V(git), V(prometheus_query), V(file_io)). They are compared as controls, like the C(control) records of
        M(o2edge.perf.control_bench) - never called faster or slower, shown as C(control steady) or
        C(control moved) - and when any control moved, every sequential verdict is held as C(environment changed).
      - Records that carry C(context.pair) (measured interleaved, see M(o2edge.perf.kpt_render) O(o2edge.perf.kpt_render#module:compare)) are
        compared round by round within this run and are never held.
    type: list
    elements: str
    default: []
extends_documentation_fragment:
  - o2edge.perf.attributes
  - o2edge.perf.attributes.platform_controller
  - ansible.builtin.action_common_attributes
  - ansible.builtin.action_common_attributes.flow
"""

EXAMPLES = r"""
- name: Report the run in progress, compared with last week's run
  o2edge.perf.perf_report:
    results: callback
    baseline: results/reports/20261121T140000Z-1a2b3c4d/results.json
    dest: results/reports
    title: Pipeline after SSH tuning
  register: report

- name: Gate a CI run on the objectives (the report is written first)
  o2edge.perf.perf_report:
    results:
      - slices/0/results.json
      - slices/1/results.json
    slo_file: slo.yml
    dest: reports
    fail_on_slo: true
    pushgateway_url: http://pushgateway.example.net:9091
"""

RETURN = r"""
report_dir:
  description: The new run directory (in check mode, where it would be).
  returned: success
  type: str
  sample: results/reports/20261128T140000Z-1a2b3c4d
results_file:
  description: Path of C(results.json) in RV(report_dir), usable as O(baseline) of a later report.
  returned: success
  type: str
files:
  description: Path of each file written, by format.
  returned: success
  type: dict
  sample: {md: .../report.md, html: .../report.html, csv: .../measurements.csv, json: .../results.json,
           junit: .../junit.xml, prom: .../metrics.prom}
index:
  description: Paths of the index of past runs (md, html, json).
  returned: success
  type: dict
slo:
  description: Every objective with its outcome.
  returned: success
  type: list
  elements: dict
  sample:
    - {name: kpt_render_p95, display_name: kpt fn render p95, statistic: p95, op: "<=", threshold: 2.0, unit: s,
       value: 0.31, status: pass, reason: "p95 0.31 s <= 2 s", selected: 10}
slo_failed:
  description: Names of the failed objectives.
  returned: success
  type: list
  elements: str
comparisons:
  description:
    - Summary of the before/after comparison - C(baseline) (bool), C(matched), C(compared), C(only_in_baseline),
      C(only_in_run), and lists (at most 100 each) C(slower), C(faster), C(not_comparable), C(held),
      C(regressions) of C(name), C(host), C(change_pct), C(reason).
    - C(drift) - whether the machine was steady between the passes (C(steady) true, false or null when no control
      was compared, C(moved), C(checked), C(reason)); C(interleaved), C(sequential) and C(controls) - the names
      compared each way.
  returned: success
  type: dict
verdicts:
  description: How many measurements got each verdict.
  returned: success
  type: dict
  sample: {faster: 3, slower: 0, no clear change: 12, not enough samples: 1, not comparable: 1,
           environment changed: 0, control steady: 3, control moved: 0, host state: 3}
missing:
  description: What the report says is missing (C(what), C(why)), also shown at the top of the report.
  returned: success
  type: list
  elements: dict
pushgateway:
  description: Outcome of the push - C(url), C(ok), C(status), C(error).
  returned: when O(pushgateway_url) is given and not in check mode
  type: dict
msg:
  description: Where the report is, or why the task failed.
  returned: always
  type: str
"""
