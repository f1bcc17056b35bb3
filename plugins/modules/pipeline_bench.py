#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pipeline_bench
short_description: Time a declared deployment pipeline end to end and stage by stage
version_added: 1.0.0
description:
  - Runs the stages of a pipeline (for example intent to KRM, C(kpt fn render), git commit and
    push, a check at the edge) in order, O(warmup) untimed rounds then O(runs) counted rounds,
    each stage timed with the collection's one timer (a monotonic clock, the command run
    directly unless the stage asks for a shell).
  - A stage that fails (exit status not 0, timeout, cannot start) fails its round; the later
    stages of that round are not run and are recorded as skipped. Failed rounds are counted
    and their errors kept, naming the stage.
  - Returns one record C(pipeline/<name>) (component C(pipeline)) whose samples are the totals
    of the complete rounds (the sum of the stage times of the round), and one record
    C(pipeline/<name>/<stage>) (component C(pipeline_stage)) per stage, so that reports, service
    level objectives and before/after comparisons handle the whole and each stage alike.
  - In check mode nothing is run; the module returns what it would run.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: Nothing is run in check mode; C(plan) tells what would run.
  diff_mode:
    description: The module measures; the pipeline's own changes are not shown as a diff.
options:
  name:
    description:
      - The pipeline's name, part of every record name (C(pipeline/<name>)). 1 to 63 letters,
        digits, V(_), V(.) or V(-).
    type: str
    required: true
  stages:
    description:
      - The stages, run in this order in every round. At most 32.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The stage's name (unique; 1 to 63 letters, digits, V(_), V(.) or V(-)).
        type: str
        required: true
      command:
        description:
          - The command, a list of arguments (run without a shell) or a string (split like a
            shell would and run without one, unless O(stages[].shell=true)).
        type: raw
        required: true
      shell:
        description: Run O(stages[].command) (a string) through C(/bin/sh -c).
        type: bool
        default: false
      cwd:
        description: Working directory of the stage. Defaults to O(chdir).
        type: path
      environment:
        description: Extra environment variables of the stage, added to O(environment); a null value removes a variable.
        type: dict
      timeout:
        description: Timeout of the stage in seconds. Defaults to O(timeout).
        type: float
  runs:
    description: Number of counted rounds. At least 1.
    type: int
    default: 5
  warmup:
    description: Number of untimed warm-up rounds before the counted ones.
    type: int
    default: 1
  prepare:
    description:
      - A shell command run (untimed, through C(/bin/sh -c), in O(chdir)) before every round,
        for example to change the intent so that every round deploys a new revision.
      - If it fails, the round is counted as failed and no stage runs (all are recorded as skipped).
    type: str
  chdir:
    description: Working directory of O(prepare) and of the stages that give no O(stages[].cwd).
    type: path
  environment:
    description: Extra environment variables of every stage and of O(prepare); a null value removes a variable.
    type: dict
    default: {}
  timeout:
    description: Default timeout of a stage (and of O(prepare)) in seconds.
    type: float
    default: 600
  fail_on_error:
    description: Fail the task when any counted round failed. The records are returned either way.
    type: bool
    default: true
notes:
  - The total of a round is the sum of its stage times; the few milliseconds the module spends
    between two stages are not part of the pipeline.
  - The task reports C(changed=false) like every measuring module, even though the stages may
    change things (commit, push); give it a pipeline meant to be run repeatedly.
  - The pipeline record's context holds C(stages), C(stage_share) and C(critical_stage)
    (see the collection's docs/pipeline.md).
seealso:
  - module: o2edge.perf.command_bench
  - module: o2edge.perf.kpt_render
extends_documentation_fragment:
  - o2edge.perf.attributes
  - o2edge.perf.attributes.platform_target
"""

EXAMPLES = r"""
- name: Time the deployment pipeline, a new intent every round
  o2edge.perf.pipeline_bench:
    name: edge1-slice
    chdir: /srv/pipeline
    prepare: ./bin/bump-intent intent.yml
    runs: 5
    stages:
      - name: translate
        command: [./bin/intent-to-krm, intent.yml, work/packages/slice]
      - name: render
        command: [kpt, fn, render, work/packages/slice]
      - name: publish
        command: git add -A && git commit -q -m pipeline && git push -q origin HEAD:main
        shell: true
        cwd: /srv/pipeline/work
      - name: edge
        command: [./bin/check-edge, --url, "http://edge1:8080/revision", --repo, work]
        timeout: 30
  register: pipeline

- name: The stage that takes the most time
  ansible.builtin.debug:
    msg: "{{ pipeline.records[0].context.critical_stage }}"
"""

RETURN = r"""
records:
  description:
    - The pipeline's record first (C(pipeline/<name>), component C(pipeline)), then one record
      per stage (C(pipeline/<name>/<stage>), component C(pipeline_stage)), in stage order. Empty
      in check mode.
    - Every record has the collection's one shape (name, component, unit, samples, warmup,
      failures, errors, stats, context).
    - The pipeline record's C(samples) are the totals of the complete counted rounds; its
      C(errors) name the failed C(stage) and list the C(skipped) ones; its C(context) holds
      C(stages) (names in order), C(stage_share) (per stage, the median of its share of a
      complete round, 0 to 1) and C(critical_stage) (the stage with the largest median).
    - A stage record's C(samples) are its times in the counted rounds where it succeeded,
      C(failures) the rounds where it failed, C(context.skipped_rounds) the counted rounds where
      it was not run.
  returned: always
  type: list
  elements: dict
  sample:
    - name: pipeline/lab
      component: pipeline
      unit: s
      samples: [0.812, 0.797]
      warmup: 1
      failures: 0
      errors: []
      stats: {min: 0.797, median: 0.8045, mean: 0.8045, p95: 0.811, max: 0.812, stdev: 0.0106, mad: 0.0075,
              outliers: [], slow_first_run: false}
      context: {host: mgmt, started_at: "2026-01-01T00:00:00.000Z", pipeline: lab,
                stages: [translate, render, publish, edge], critical_stage: render,
                stage_share: {translate: 0.08, render: 0.61, publish: 0.22, edge: 0.09},
                versions: {python: 3.11.7}}
record:
  description: The pipeline's record (the first of RV(records)); absent in check mode.
  returned: success
  type: dict
plan:
  description: What is run (in check mode, what would be run), the stages in order and the prepare command.
  returned: always
  type: dict
  sample: {stages: [{name: render, command: "kpt fn render work/packages/slice", argv: [kpt, fn, render, work/packages/slice],
                     cwd: /srv/pipeline, shell: false, timeout: 600.0}], prepare: null}
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: "pipeline/lab: median 0.8045 s over 2 complete rounds, 0 failed; critical stage render (61%)"
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error
from ansible_collections.o2edge.perf.plugins.module_utils.measure._pipeline import (
    PipelineError, bench_pipeline, check_name, parse_stages, plan, summary)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            name=dict(type="str", required=True),
            stages=dict(type="list", elements="dict", required=True, options=dict(
                name=dict(type="str", required=True),
                command=dict(type="raw", required=True),
                shell=dict(type="bool", default=False),
                cwd=dict(type="path"),
                environment=dict(type="dict"),
                timeout=dict(type="float"),
            )),
            runs=dict(type="int", default=5),
            warmup=dict(type="int", default=1),
            prepare=dict(type="str"),
            chdir=dict(type="path"),
            environment=dict(type="dict", default={}),
            timeout=dict(type="float", default=600),
            fail_on_error=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    error = range_error(p, positive=("timeout",))
    if error:
        module.fail_json(msg=error)
    try:
        check_name(p["name"], "name")
        if p["chdir"] is not None and not os.path.isdir(p["chdir"]):
            raise PipelineError("chdir %s is not a directory" % p["chdir"])
        stages = parse_stages(p["stages"], chdir=p["chdir"], environment=p["environment"], timeout=p["timeout"])
    except PipelineError as exc:
        module.fail_json(msg=str(exc))
    if p["prepare"] is not None and not p["prepare"].strip():
        module.fail_json(msg="prepare must not be empty")
    what = plan(stages, p["prepare"])
    if module.check_mode:
        module.exit_json(changed=False, records=[], plan=what,
                         msg="check mode: would run %d rounds (+%d warm-up) of %d stages: %s" % (
                             p["runs"], p["warmup"], len(stages), ", ".join(s["name"] for s in stages)))
    records = bench_pipeline(p["name"], stages, p["runs"], p["warmup"], prepare=p["prepare"],
                             prepare_cwd=p["chdir"], prepare_env=p["environment"], prepare_timeout=p["timeout"])
    total = records[0]
    msg = summary(records)
    failed = bool(total["failures"]) and p["fail_on_error"]
    if total["errors"]:
        msg += "; last error: %s" % (total["errors"][-1].get("error") or "unknown")
    module.exit_json(changed=False, failed=failed, records=records, record=total, plan=what, msg=msg)


if __name__ == "__main__":
    main()
