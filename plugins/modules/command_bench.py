#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: command_bench
short_description: Benchmark a command with warm-up, counted runs and robust statistics
version_added: 1.0.0
description:
  - Runs a command O(warmup) times untimed, then O(runs) times timed with a monotonic clock,
    and returns one measurement record (the collection's single record shape).
  - The command is executed directly from its argument list; a shell is used only when
    O(shell=true).
  - Standard output is discarded (as hyperfine does by default); the tail of standard error
    is kept for every failed run.
  - Failed runs (unexpected exit status, timeout, failed O(prepare)) are counted in
    C(failures) and listed in C(errors), never dropped.
  - The command is run for real even in check mode; only use it for read-only commands.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: The module only measures; it runs the command in check mode too, so give it read-only commands.
options:
  chdir:
    description: Working directory of the command (and of O(prepare)).
  environment:
    description: Extra environment variables for the command (and O(prepare)); a null value removes a variable.
  runs:
    description: Number of counted, timed runs. At least 1.
    type: int
    default: 10
  warmup:
    description: Number of untimed warm-up runs before the counted ones.
    type: int
    default: 1
  prepare:
    description:
      - A shell command run (untimed, through C(/bin/sh -c)) before every run, like hyperfine's C(--prepare),
        for example to drop a cache or reset a file.
      - If it fails, that run is counted as failed and the command is not run.
    type: str
  expect_rc:
    description: Exit statuses that count as success.
    type: list
    elements: int
    default: [0]
  name:
    description: Stable record name (used to match before/after). Defaults to V(<component>/<command slug>).
    type: str
  component:
    description: The record's component, for example V(git).
    type: str
    default: command
  fail_on_error:
    description: Fail the task when any counted run failed. The record is returned either way.
    type: bool
    default: true
  compare:
    description:
      - Measure a second command, B, interleaved with the first, A, in the same time window - for example
        C(ssh -F <config A> site true) against C(ssh -F <config B> site true). Both run with the same
        O(chdir), O(environment), O(shell), O(timeout), O(prepare) and O(expect_rc).
      - O(warmup) warm-ups per side, then O(runs) rounds, each one run of A and one of B in alternating
        order (round 0 A then B, round 1 B then A, ... - ABBA), so a change of the machine's load or an order
        effect falls on both sides alike.
      - Returns two records, C(<name> (<label_a>)) and C(<name> (<label_b>)), paired by C(context.pair)
        (see RV(record.context)).
    type: dict
    suboptions:
      label_a:
        description: Label of command A (1 to 40 letters, digits, C(.), C(_), C(+), C(:), C(-)).
        type: str
        default: A
      label_b:
        description: Label of command B; must differ from O(compare.label_a).
        type: str
        default: B
      argv:
        description: Command B as a list of arguments. Exactly one of O(compare.argv) and O(compare.cmd).
        type: list
        elements: str
      cmd:
        description: Command B as a string, split or run through the shell as O(cmd) is.
        type: str
notes:
  - Statistics methods (p95 by linear interpolation, Hyndman-Fan type 7; outliers by modified z-score
    on the MAD) are described in the collection's docs/statistics.md.
seealso:
  - module: o2edge.perf.kpt_render
  - module: o2edge.perf.system_baseline
extends_documentation_fragment:
  - o2edge.perf.attributes
  - o2edge.perf.attributes.platform_target
  - o2edge.perf.command
"""

EXAMPLES = r"""
- name: Time git status on the pipeline repository
  o2edge.perf.command_bench:
    argv: [git, status, --porcelain]
    chdir: /srv/pipeline
    component: git
    name: git/status
    runs: 10
    warmup: 2
  register: git_status

- name: Time a shell pipeline, clearing a cache before every run
  o2edge.perf.command_bench:
    cmd: "git log --oneline -10 | wc -l"
    shell: true
    chdir: /srv/pipeline
    prepare: "rm -rf /tmp/scratch-cache"
    runs: 5

- name: Time an SSH login with the old and the tuned client config, interleaved
  o2edge.perf.command_bench:
    argv: [ssh, -F, /etc/o2edge/ssh_config.before, edge1, "true"]
    name: ssh/login
    component: ssh
    runs: 10
    compare:
      label_a: before
      label_b: after
      argv: [ssh, -F, /home/ops/.ssh/config, edge1, "true"]
"""

RETURN = r"""
record:
  description: The measurement record.
  returned: always
  type: dict
  contains:
    name:
      description: Stable record id.
      type: str
      sample: git/status
    component:
      description: What was measured.
      type: str
      sample: git
    unit:
      description: Unit of the samples.
      type: str
      sample: s
    samples:
      description: Seconds of every successful counted run, in order.
      type: list
      elements: float
      sample: [0.0121, 0.0118]
    warmup:
      description: Warm-up runs done.
      type: int
      sample: 1
    failures:
      description: Counted runs that failed.
      type: int
      sample: 0
    errors:
      description: One entry per failed run (phase V(warmup) or V(run), run index, rc, seconds, error, stderr tail).
      type: list
      elements: dict
      sample: []
    stats:
      description: min, median, mean, p95, max, stdev, mad (None when not measurable), outliers (sample indices), slow_first_run.
      type: dict
      sample: {min: 0.011, median: 0.012, mean: 0.012, p95: 0.013, max: 0.013, stdev: 0.0004, mad: 0.0002,
               outliers: [], slow_first_run: false}
    context:
      description:
        - host, started_at, command, cwd, versions.
        - With O(compare), pair - id (O(name), equal on both sides), session (a random id shared by the two
          records), side (V(a) or V(b)), label, design (V(interleaved)), order (V(ABBA)) and rounds (the round
          index of each sample, aligned with C(samples); a failed run leaves its round out, so the two sides
          pair by round index, never by position).
      type: dict
      sample: {host: ctl, started_at: "2026-01-01T00:00:00.000Z", command: "git status --porcelain",
               versions: {python: 3.11.7}}
records:
  description:
    - The same record in a one-element list (every measuring module returns C(records)).
    - With O(compare), A's record then B's (RV(record) is A's).
  returned: always
  type: list
  elements: dict
msg:
  description: A one-line summary.
  returned: always
  type: str
  sample: "git/status: median 0.012 s over 10 runs, 0 failures"
"""

import re
import uuid

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record, slug
from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import (
    PAIR_ORDER, CommandError, bench_command, bench_pair, command_argument_spec, command_from_params)

LABEL = re.compile(r"^[A-Za-z0-9._+:-]{1,40}$")


def compare_command(p):
    """``(argv, shown)`` of command B; raises CommandError naming the compare field."""
    compare = p["compare"]
    for field in ("label_a", "label_b"):
        if not LABEL.match(compare[field] or ""):
            raise CommandError("compare.%s must be 1 to 40 characters of letters, digits, '.', '_', '+', ':' or '-'"
                               % field)
    if compare["label_a"] == compare["label_b"]:
        raise CommandError("compare.label_a and compare.label_b must differ")
    if (compare["argv"] is None) == (compare["cmd"] is None):
        raise CommandError("compare needs exactly one of compare.argv and compare.cmd (command B)")
    try:
        return command_from_params(dict(p, argv=compare["argv"], cmd=compare["cmd"]))
    except CommandError as exc:
        raise CommandError("compare: %s" % exc)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command_argument_spec(),
            runs=dict(type="int", default=10),
            warmup=dict(type="int", default=1),
            prepare=dict(type="str"),
            expect_rc=dict(type="list", elements="int", default=[0]),
            name=dict(type="str"),
            component=dict(type="str", default="command"),
            fail_on_error=dict(type="bool", default=True),
            compare=dict(type="dict", options=dict(
                label_a=dict(type="str", default="A"),
                label_b=dict(type="str", default="B"),
                argv=dict(type="list", elements="str"),
                cmd=dict(type="str"),
            )),
        ),
        mutually_exclusive=[("argv", "cmd")],
        required_one_of=[("argv", "cmd")],
        supports_check_mode=True,
    )
    p = module.params
    error = range_error(p, positive=("timeout",))
    if error:
        module.fail_json(msg=error)
    try:
        argv, shown = command_from_params(p)
        argv_b, shown_b = compare_command(p) if p["compare"] is not None else (None, None)
    except CommandError as exc:
        module.fail_json(msg=str(exc))

    name = p["name"] or "%s/%s" % (p["component"], slug(shown))
    context = base_context(command=shown, cwd=p["chdir"], shell=p["shell"])
    if p["prepare"]:
        context["prepare"] = p["prepare"]
    if argv_b is None:
        samples, failures, errors, _argv = bench_command(
            argv, p["runs"], p["warmup"], cwd=p["chdir"],
            environment=p["environment"], timeout=p["timeout"], prepare=p["prepare"],
            prepare_shell=True, expect_rc=p["expect_rc"])
        record = make_record(name, p["component"], "s", samples, warmup=p["warmup"],
                             failures=failures, errors=errors, context=context)
        records = [record]
    else:
        measured = bench_pair(argv, argv_b, p["runs"], p["warmup"], cwd=p["chdir"], environment=p["environment"],
                              timeout=p["timeout"], prepare=p["prepare"], prepare_shell=True,
                              expect_rc=p["expect_rc"])
        session = uuid.uuid4().hex[:12]
        records = []
        for side, command in (("a", shown), ("b", shown_b)):
            label = p["compare"]["label_" + side]
            got = measured[side]
            pair = {"id": name, "session": session, "side": side, "label": label, "design": "interleaved",
                    "order": PAIR_ORDER, "rounds": got["rounds"]}
            records.append(make_record("%s (%s)" % (name, label), p["component"], "s", got["samples"],
                                       warmup=p["warmup"], failures=got["failures"], errors=got["errors"],
                                       context=dict(context, command=command, pair=pair)))
        record = records[0]
    failures = sum(r["failures"] for r in records)
    msg = "; ".join("%s: median %s s over %d runs, %d failures" % (
        r["name"], "n/a" if r["stats"]["median"] is None else "%.6g" % r["stats"]["median"], p["runs"],
        r["failures"]) for r in records)
    if argv_b is not None:
        msg = "interleaved (%s) %s" % (PAIR_ORDER, msg)
    failed = bool(failures) and p["fail_on_error"]
    if failed:
        errors = [e for r in records for e in r["errors"]]
        first = errors[-1] if errors else {}
        msg += "; last error: %s" % (first.get("error") or "unknown")
    module.exit_json(changed=False, failed=failed, record=record, records=records, msg=msg)


if __name__ == "__main__":
    main()
