#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: system_baseline
short_description: Record the host's CPU, memory, disks and load, and its utilization while a command runs
version_added: 1.0.0
description:
  - Reports the CPU model and count, memory, disk usage of given paths, load averages and kernel.
  - With O(argv) or O(cmd), runs that command once and samples CPU and memory utilization of the whole host
    every O(interval) seconds while it runs; with O(duration) instead, samples for that long (an idle baseline).
  - Utilization samples and the command's duration are returned as records in the collection's single record shape.
  - Linux only (reads /proc).
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: The module only reads host state; a given command is run in check mode too, so give it a read-only one.
  platform:
    description: Linux targets (/proc); Python 3.9 or later, standard library only.
options:
  paths:
    description: Paths whose file system usage is reported.
    type: list
    elements: path
    default: [/]
  argv:
    description: Command (argument list, no shell) to run while sampling. Mutually exclusive with O(cmd) and O(duration).
  cmd:
    description: Command string, split like a shell would, or passed to C(/bin/sh -c) with O(shell=true).
  timeout:
    description: Seconds after which the command's process group is killed (counted as a failure).
  duration:
    description: Without a command, sample for this many seconds (0 takes no samples).
    type: float
    default: 0
  interval:
    description: Seconds between utilization samples.
    type: float
    default: 0.25
  name:
    description: Prefix of the record names.
    type: str
    default: system
  fail_on_error:
    description: Fail the task when the command failed. Facts and records are returned either way.
    type: bool
    default: true
notes:
  - CPU utilization is for all CPUs together (100 means every CPU busy), from /proc/stat deltas counting
    idle and iowait as idle; memory utilization is 1 - MemAvailable/MemTotal.
extends_documentation_fragment:
  - o2edge.perf.attributes
  - o2edge.perf.command
"""

EXAMPLES = r"""
- name: Host facts and an idle baseline of 5 seconds
  o2edge.perf.system_baseline:
    paths: [/, /var/lib/containers]
    duration: 5

- name: Utilization while rendering all packages once
  o2edge.perf.system_baseline:
    argv: [kpt, fn, render, --allow-exec, .]
    chdir: /srv/pipeline/packages/edge1-config
    interval: 0.1
"""

RETURN = r"""
system:
  description: Host facts.
  returned: always
  type: dict
  contains:
    cpu_model:
      description: CPU model name (null when the kernel does not say).
      type: str
      sample: Intel(R) Xeon(R) CPU
    cpu_count:
      description: Logical CPUs of the host.
      type: int
      sample: 2
    cpu_usable:
      description: CPUs this process may run on (affinity).
      type: int
      sample: 2
    memory:
      description: total_bytes, available_bytes, swap_total_bytes, swap_free_bytes, used_percent.
      type: dict
    disks:
      description: One entry per path, with path, total_bytes, used_bytes, available_bytes, used_percent.
      type: list
      elements: dict
    load:
      description: Load averages over 1, 5 and 15 minutes (keys 1m, 5m, 15m).
      type: dict
    kernel:
      description: Kernel release.
      type: str
    machine:
      description: Machine architecture.
      type: str
records:
  description:
    - Records in the collection's single record shape, when sampling happened, C(<name>/cpu_util) and
      C(<name>/mem_util) (unit V(%), one sample per interval) and, with a command, C(<name>/command)
      (unit V(s), one sample).
  returned: always
  type: list
  elements: dict
msg:
  description: A one-line summary.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error
from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record, utc_now
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import (
    CommandError, child_env, command_argument_spec, command_from_params, run_sampled)
from ansible_collections.o2edge.perf.plugins.module_utils.measure._sysinfo import (
    host_facts, sample_utilization, utilization_sampler)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            command_argument_spec(),
            paths=dict(type="list", elements="path", default=["/"]),
            duration=dict(type="float", default=0),
            interval=dict(type="float", default=0.25),
            name=dict(type="str", default="system"),
            fail_on_error=dict(type="bool", default=True),
        ),
        mutually_exclusive=[("argv", "cmd")],
        supports_check_mode=True,
    )
    p = module.params
    error = range_error(p, minimums=(("duration", 0),), positive=("interval", "timeout"))
    if error:
        module.fail_json(msg=error)
    has_cmd = p["argv"] is not None or p["cmd"] is not None
    if has_cmd and p["duration"]:
        module.fail_json(msg="duration applies without a command; with argv/cmd, sampling lasts as long as the command")
    try:
        argv, shown = command_from_params(p)
    except CommandError as exc:
        module.fail_json(msg=str(exc))
    for path in p["paths"]:
        if not os.path.exists(path):
            module.fail_json(msg="paths: %s does not exist" % path)
    if not os.path.exists("/proc/stat"):
        module.fail_json(msg="system_baseline needs Linux /proc (no /proc/stat on this host)")

    facts = host_facts(p["paths"])
    started_at = utc_now()
    records = []
    failed = False
    mem_mb = (facts["memory"].get("total_bytes") or 0) // 1000000
    msg = "%s CPUs (%s), %s MB memory" % (facts["cpu_count"], facts["cpu_model"] or "model unknown", mem_mb)
    if argv is not None:
        run = run_sampled(argv, utilization_sampler(p["interval"]), cwd=p["chdir"],
                          env=child_env(p["environment"]), timeout=p["timeout"])
        res = run["sampled"]
        seconds = None if run["seconds"] is None else round(run["seconds"], 6)
        errors = [] if run["ok"] else [{"phase": "run", "run": 0, "rc": run["rc"], "seconds": seconds,
                                        "error": run["error"], "stderr": run["stderr"]}]
        context = base_context(started_at=started_at, command=shown, cwd=p["chdir"], interval=p["interval"])
        records.append(make_record("%s/command" % p["name"], "system", "s",
                                   [run["seconds"]] if run["ok"] else [], warmup=0,
                                   failures=0 if run["ok"] else 1, errors=errors, context=context))
        failed = not run["ok"] and p["fail_on_error"]
        msg += "; command %s in %.3f s" % ("ran" if run["ok"] else "FAILED (%s)" % run["error"], run["seconds"] or 0)
    elif p["duration"] > 0:
        res = sample_utilization(p["interval"], duration=p["duration"])
        context = base_context(started_at=started_at, duration=p["duration"], interval=p["interval"])
    else:
        res = None
    if res is not None:
        for key, unit_name in (("cpu", "cpu_util"), ("mem", "mem_util")):
            records.append(make_record("%s/%s" % (p["name"], unit_name), "system", "%", res[key], warmup=0,
                                       failures=0, errors=[], context=context))
        cpu_median = records[-2]["stats"]["median"]
        msg += "; CPU median %s%% over %d samples" % (
            "n/a" if cpu_median is None else "%.1f" % cpu_median, len(res["cpu"]))
    module.exit_json(changed=False, failed=failed, system=facts, records=records, msg=msg)


if __name__ == "__main__":
    main()
