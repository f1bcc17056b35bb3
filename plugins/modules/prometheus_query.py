#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: prometheus_query
short_description: Time Prometheus instant and range queries and classify every outcome
version_added: 1.0.0
description:
  - Sends a PromQL query to the Prometheus HTTP API (C(/api/v1/query) or C(/api/v1/query_range)) as a
    form-encoded POST body, so C([5m]), braces and quotes reach the server intact.
  - Runs it O(warmup) times untimed, then O(runs) times timed (connect to last byte, a new connection
    per run), and returns one measurement record in the collection's single record shape.
  - Every run gets an outcome - V(success), V(server_timeout) (HTTP 503, C(errorType) timeout, the
    server-side O(timeout) expired), V(bad_query) (HTTP 400), V(unreachable) (refused, no route, DNS,
    connect timeout), V(tls_error) (handshake or certificate failed, or plain http sent to a TLS port),
    V(client_timeout) (the client O(deadline) expired),
    V(http_error) (any other HTTP status), V(not_success) (2xx but not C(status=success)).
  - Connects directly to the given URL; no proxy is used.
author:
  - o2edge.perf contributors (@o2edge)
options:
  url:
    description: Base URL of the Prometheus server, for example V(http://198.18.0.1:9090) (a path prefix is kept).
    type: str
    required: true
  query:
    description: The PromQL expression.
    type: str
    required: true
  query_type:
    description: V(instant) (C(/api/v1/query)) or V(range) (C(/api/v1/query_range)).
    type: str
    choices: [instant, range]
    default: instant
  time:
    description: Evaluation time of an instant query (RFC 3339 or Unix timestamp); default the server's now.
    type: str
  start:
    description: Start of a range query (RFC 3339 or Unix timestamp). Default O(end) minus O(lookback).
    type: str
  end:
    description: End of a range query (RFC 3339 or Unix timestamp). Default now, taken at each run.
    type: str
  step:
    description: Resolution step of a range query (a Prometheus duration such as V(15s), or seconds). Required for V(range).
    type: str
  lookback:
    description: Seconds before O(end) where a range query starts when O(start) is not given. Must be above 0.
    type: float
    default: 3600
  timeout:
    description: Server-side evaluation timeout (the API's C(timeout) parameter, a Prometheus duration such as V(5s) or V(100ms)).
    type: str
  deadline:
    description: Client deadline in seconds for one run (connect, send, whole answer).
    type: float
    default: 30
  runs:
    description: Counted, timed runs. At least 1.
    type: int
    default: 5
  warmup:
    description: Untimed runs before the counted ones.
    type: int
    default: 1
  bearer_token:
    description: Bearer token sent in the C(Authorization) header. Never shown in output.
    type: str
  username:
    description: User for HTTP basic authentication.
    type: str
  password:
    description: Password for HTTP basic authentication. Never shown in output.
    type: str
  ca_file:
    description: CA bundle used to verify an C(https) server.
    type: path
  validate_certs:
    description: Verify the server's TLS certificate and name. Leave on outside throw-away labs.
    type: bool
    default: true
  name:
    description: Stable record name. Defaults to V(prometheus_query/<query slug>).
    type: str
  return_result:
    description: Also return the C(data) of the last successful answer.
    type: bool
    default: false
  fail_on_error:
    description: Fail the task when any counted run did not succeed. The record and outcomes are returned either way.
    type: bool
    default: true
notes:
  - Statistics methods are described in the collection's docs/statistics.md.
seealso:
  - module: o2edge.perf.command_bench
extends_documentation_fragment:
  - o2edge.perf.attributes
  - o2edge.perf.attributes.platform_target
"""

EXAMPLES = r"""
- name: Time an instant query with a bracket, 10 runs
  o2edge.perf.prometheus_query:
    url: http://198.18.0.1:9090
    query: rate(prometheus_http_requests_total[5m])
    timeout: 10s
    runs: 10

- name: Range query over the last hour, behind TLS with a token
  o2edge.perf.prometheus_query:
    url: https://prometheus.example.org
    query: sum(up)
    query_type: range
    step: 60s
    lookback: 3600
    bearer_token: "{{ prometheus_token }}"
    ca_file: /etc/pki/prometheus-ca.crt

- name: Classify a failing query without failing the task
  o2edge.perf.prometheus_query:
    url: http://198.18.0.1:9090
    query: rate(up[5m
    runs: 1
    warmup: 0
    fail_on_error: false
  register: bad
"""

RETURN = r"""
record:
  description: The measurement record (samples are the seconds of successful counted runs; failed runs are in errors with their outcome).
  returned: always
  type: dict
  sample:
    name: prometheus_query/up
    component: prometheus_query
    unit: s
    samples: [0.0021, 0.0019]
    warmup: 1
    failures: 0
    errors: []
    stats: {min: 0.0019, median: 0.002, mean: 0.002, p95: 0.00209, max: 0.0021, stdev: 0.00014, mad: 0.0001,
            outliers: [], slow_first_run: false}
    context: {host: ctl, started_at: "2026-01-01T00:00:00.000Z", query: up, url: "http://198.18.0.1:9090",
              query_type: instant, versions: {prometheus: 2.42.0, python: 3.11.7}}
records:
  description: The same record in a one-element list.
  returned: always
  type: list
  elements: dict
outcome:
  description: V(success) when every counted run succeeded, else the outcome of the first failed counted run.
  returned: always
  type: str
  sample: success
outcomes:
  description: Number of counted runs per outcome.
  returned: always
  type: dict
  sample: {success: 5}
http_status:
  description: HTTP status of the last counted run (null when no answer came).
  returned: always
  type: int
  sample: 200
error_type:
  description: The API's C(errorType) of the first failed counted run (for example V(timeout), V(bad_data)), else null.
  returned: always
  type: str
error:
  description: The error text of the first failed counted run, else null.
  returned: always
  type: str
result_type:
  description: C(resultType) of the last successful answer (vector, matrix, scalar, string).
  returned: always
  type: str
  sample: vector
series_count:
  description: Number of series in the last successful answer (null for scalar and string results or no success).
  returned: always
  type: int
  sample: 4
server_warnings:
  description: Warnings returned by the server in the last counted run.
  returned: always
  type: list
  elements: str
result:
  description: The C(data) of the last successful answer.
  returned: when O(return_result=true) and a run succeeded
  type: dict
prometheus_version:
  description: The server's version from C(/api/v1/status/buildinfo), when it answered.
  returned: always
  type: str
msg:
  description: A one-line summary.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error
from ansible_collections.o2edge.perf.plugins.module_utils.measure._prometheus import (
    PromError, Target, auth_headers, build_info, query_once, range_params, safe_url)
from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record, slug, utc_now
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import measure


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            query=dict(type="str", required=True),
            query_type=dict(type="str", choices=["instant", "range"], default="instant"),
            time=dict(type="str"),
            start=dict(type="str"),
            end=dict(type="str"),
            step=dict(type="str"),
            lookback=dict(type="float", default=3600),
            timeout=dict(type="str"),
            deadline=dict(type="float", default=30),
            runs=dict(type="int", default=5),
            warmup=dict(type="int", default=1),
            bearer_token=dict(type="str", no_log=True),
            username=dict(type="str"),
            password=dict(type="str", no_log=True),
            ca_file=dict(type="path"),
            validate_certs=dict(type="bool", default=True),
            name=dict(type="str"),
            return_result=dict(type="bool", default=False),
            fail_on_error=dict(type="bool", default=True),
        ),
        mutually_exclusive=[("bearer_token", "username")],
        required_by={"password": "username"},
        supports_check_mode=True,
    )
    p = module.params
    error = range_error(p, positive=("deadline",))
    if error:
        module.fail_json(msg=error)
    if not p["query"].strip():
        module.fail_json(msg="query must not be empty")
    if p["query_type"] == "range":
        if not p["step"]:
            module.fail_json(msg="step is required for query_type=range")
        if p["time"]:
            module.fail_json(msg="time applies to instant queries; use start/end for query_type=range")
    elif p["start"] or p["end"] or p["step"]:
        module.fail_json(msg="start, end and step apply to query_type=range, not instant")
    if p["ca_file"] and not p["url"].strip().lower().startswith("https:"):
        module.fail_json(msg="ca_file is set but url %s is not https" % p["url"])
    try:
        target = Target(p["url"], auth_headers(p["bearer_token"], p["username"], p["password"]),
                        ca_file=p["ca_file"], validate_certs=p["validate_certs"])
    except PromError as exc:
        module.fail_json(msg=str(exc))
    except (OSError, ValueError) as exc:
        module.fail_json(msg="ca_file %s cannot be used: %s" % (p["ca_file"], exc))

    def params():
        if p["query_type"] == "range":
            out = range_params(p["start"], p["end"], p["step"], p["lookback"])
        else:
            out = {"time": p["time"]}
        out["timeout"] = p["timeout"]
        return out

    try:
        params()
    except PromError as exc:
        module.fail_json(msg=str(exc))

    def run():
        return query_once(target, p["query"], p["query_type"], params(), p["deadline"])

    started_at = utc_now()
    samples, failures, errors, results = measure(run, p["runs"], p["warmup"])
    for entry in errors:
        for key in ("data", "warnings", "rc", "stderr", "result_type", "series_count"):
            entry.pop(key, None)
        if entry.get("seconds") is not None:
            entry["seconds"] = round(entry["seconds"], 6)
    outcomes = {}
    for res in results:
        outcomes[res["outcome"]] = outcomes.get(res["outcome"], 0) + 1
    first_bad = next((r for r in results if not r["ok"]), None)
    last_ok = next((r for r in reversed(results) if r["ok"]), None)
    last = results[-1]
    version = build_info(target, min(5.0, p["deadline"])) if outcomes.get("unreachable", 0) < len(results) else None

    name = p["name"] or "prometheus_query/%s" % slug(p["query"])
    context = base_context(started_at=started_at, versions={"prometheus": version}, query=p["query"],
                           url=safe_url(p["url"]), query_type=p["query_type"], server_timeout=p["timeout"],
                           deadline=p["deadline"])
    if p["query_type"] == "range":
        context.update(step=p["step"], start=p["start"], end=p["end"], lookback=p["lookback"])
    record = make_record(name, "prometheus_query", "s", samples, warmup=p["warmup"], failures=failures,
                         errors=errors, context=context)
    outcome = first_bad["outcome"] if first_bad else "success"
    median = record["stats"]["median"]
    msg = "%s: %s; median %s s over %d runs (%s)" % (
        name, outcome, "n/a" if median is None else "%.6g" % median, p["runs"],
        ", ".join("%s %d" % kv for kv in sorted(outcomes.items())))
    if first_bad:
        msg += "; %s" % first_bad["error"]
    out = dict(
        changed=False, failed=bool(failures) and p["fail_on_error"], record=record, records=[record],
        outcome=outcome, outcomes=outcomes, http_status=last["http_status"],
        error_type=first_bad["error_type"] if first_bad else None,
        error=first_bad["error"] if first_bad else None,
        result_type=last_ok["result_type"] if last_ok else None,
        series_count=last_ok["series_count"] if last_ok else None,
        server_warnings=last.get("warnings") or [], prometheus_version=version, msg=msg)
    if p["return_result"] and last_ok:
        out["result"] = last_ok["data"]
    module.exit_json(**out)


if __name__ == "__main__":
    main()
