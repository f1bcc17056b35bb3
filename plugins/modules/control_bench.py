#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: control_bench
short_description: Measure controls no optimization touches, and the host's state, as records
version_added: 1.0.0
description:
  - A before/after comparison credits the optimization with whatever changed on the machine between the
    passes. This module measures controls that no optimization touches, so a change of the machine shows
    as a change of a control, and the host's state that explains it.
  - Controls (component C(control), unit C(s)) - C(control/cpu_calibration), a deterministic pure-Python loop
    of fixed work (O(calibration_iterations) steps of a linear congruential generator, tens of milliseconds);
    C(control/file_read), a file of O(file_size_kb) KiB created in a scratch directory under O(scratch_dir)
    and read whole from the page cache; C(control/git_status), C(git status --porcelain) in O(git_repo).
  - Host state (component C(host_state)) - C(host/load1) (unit C(load)), the 1-minute load average at the start
    of each run; C(host/cpu_steal) (unit C(%)), the CPU time stolen by the hypervisor during each run, from
    /proc/stat deltas (C(context.window_pct) over all counted runs); C(host/cpu_mhz) (unit C(MHz)), the mean
    current CPU frequency (cpufreq C(scaling_cur_freq), else C(cpu MHz) of /proc/cpuinfo). A figure that
    cannot be read has no samples and C(context.missing) says why; nothing is made up.
  - Every run measures each control once, one after the other, with the host state read around them, after
    O(warmup) untimed runs.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description:
      - The module measures in check mode too, like every measuring module - it only reads; its one write is
        the scratch file of C(file_read), created under O(scratch_dir) and removed at the end.
  platform:
    description: Linux (/proc, /sys); Python 3.9 or later, standard library only.
options:
  controls:
    description: The controls to measure. V(git_status) needs O(git_repo).
    type: list
    elements: str
    choices: [cpu_calibration, file_read, git_status]
    default: [cpu_calibration, file_read]
  git_repo:
    description: A git repository for V(git_status); given, V(git_status) is added to O(controls).
    type: path
  scratch_dir:
    description: Where the file of V(file_read) is created (in a new directory, removed at the end). Defaults to the system temporary directory.
    type: path
  file_size_kb:
    description: Size of the file of V(file_read) in KiB.
    type: int
    default: 4096
  calibration_iterations:
    description:
      - Steps of the calibration loop. Keep the default so that records of different runs compare (the
        records carry it, with the loop's checksum).
    type: int
    default: 100000
  host_state:
    description: Also record C(host/load1), C(host/cpu_steal) and C(host/cpu_mhz).
    type: bool
    default: true
  runs:
    description: Counted runs. At least 1.
    type: int
    default: 5
  warmup:
    description: Untimed runs before the counted ones (the first puts the file in the page cache).
    type: int
    default: 1
  timeout:
    description: Timeout of one C(git status) in seconds.
    type: float
    default: 60
  tag:
    description:
      - Where in a run these controls were taken, for example V(start) or V(end) of a benchmark pass; appended
        to every record name as C(@<tag>) (C(control/cpu_calibration@start)) and kept in C(context.tag), so the
        two measurements of one pass stay apart and each matches its own in another pass.
      - 1 to 40 letters, digits, C(.), C(_), C(-).
    type: str
  fail_on_error:
    description: Fail the task when a counted run of a control failed. The records are returned either way.
    type: bool
    default: true
notes:
  - Compare a control's records before and after; when a control moved, the machine changed and a
    verdict on the measurements of the same window is not the optimization's alone.
seealso:
  - module: o2edge.perf.command_bench
  - module: o2edge.perf.system_baseline
extends_documentation_fragment:
  - o2edge.perf.attributes
  - o2edge.perf.attributes.platform_target
"""

EXAMPLES = r"""
- name: Controls and host state at the start of a pass
  o2edge.perf.control_bench:
    tag: start
    scratch_dir: /var/tmp
    git_repo: /srv/pipeline
    runs: 5

- name: Only the CPU calibration loop and the host state
  o2edge.perf.control_bench:
    controls: [cpu_calibration]
    runs: 3
    warmup: 0
"""

RETURN = r"""
records:
  description:
    - One record per control (C(control/<control>), C(@<tag>) appended with O(tag), component C(control), unit C(s)), then, with
      O(host_state=true), C(host/load1), C(host/cpu_steal), C(host/cpu_mhz) (component C(host_state)), in the
      collection's single record shape.
    - Control records' C(context) holds control, command and - cpu_calibration - iterations and checksum;
      file_read - size_bytes and dir; git_status - cwd.
    - Host records' C(context) holds source, C(missing) (the reason, when the figure could not be read at all)
      or C(partly_missing); C(host/cpu_steal) also window_pct (steal over all counted runs).
  returned: always
  type: list
  elements: dict
  sample:
    - name: control/cpu_calibration
      component: control
      unit: s
      samples: [0.041, 0.04, 0.042]
      warmup: 1
      failures: 0
      errors: []
      stats: {min: 0.04, median: 0.041, mean: 0.041, p95: 0.0419, max: 0.042, stdev: 0.001, mad: 0.001,
              outliers: [], slow_first_run: false}
      context: {host: ctl, started_at: "2026-01-01T00:00:00.000Z", control: cpu_calibration,
                command: calibration loop (100000 steps), iterations: 100000, checksum: 1843016544,
                versions: {python: 3.11.7}}
msg:
  description: A one-line summary (medians, and what is missing).
  returned: always
  type: str
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils.measure._controls import CONTROLS, ControlError, Controls
from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error

TAG = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


def main():
    module = AnsibleModule(
        argument_spec=dict(
            controls=dict(type="list", elements="str", choices=list(CONTROLS),
                          default=["cpu_calibration", "file_read"]),
            git_repo=dict(type="path"),
            scratch_dir=dict(type="path"),
            file_size_kb=dict(type="int", default=4096),
            calibration_iterations=dict(type="int", default=100000),
            host_state=dict(type="bool", default=True),
            runs=dict(type="int", default=5),
            warmup=dict(type="int", default=1),
            timeout=dict(type="float", default=60),
            tag=dict(type="str"),
            fail_on_error=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    error = range_error(p, minimums=(("runs", 1), ("warmup", 0), ("file_size_kb", 1), ("calibration_iterations", 1)),
                        positive=("timeout",))
    if error:
        module.fail_json(msg=error)
    if p["tag"] is not None and not TAG.match(p["tag"]):
        module.fail_json(msg="tag must be 1 to 40 characters of letters, digits, '.', '_' or '-'")
    controls = list(p["controls"])
    if p["git_repo"] and "git_status" not in controls:
        controls.append("git_status")
    try:
        records = Controls(controls, scratch_dir=p["scratch_dir"], file_size_kb=p["file_size_kb"],
                           git_repo=p["git_repo"], calibration_iterations=p["calibration_iterations"],
                           host_state=p["host_state"], timeout=p["timeout"]).measure(p["runs"], p["warmup"])
    except (ControlError, OSError) as exc:
        module.fail_json(msg="control_bench: %s" % exc)
    if p["tag"]:
        for rec in records:
            rec["name"] = "%s@%s" % (rec["name"], p["tag"])
            rec["context"]["tag"] = p["tag"]
    parts = []
    for rec in records:
        median = rec["stats"]["median"]
        parts.append("%s %s" % (rec["name"], ("missing (%s)" % rec["context"]["missing"]) if "missing" in rec["context"]
                                else "n/a" if median is None else "%.4g %s" % (median, rec["unit"])))
    failures = sum(r["failures"] for r in records)
    msg = "medians over %d run(s): %s" % (p["runs"], ", ".join(parts))
    failed = bool(failures) and p["fail_on_error"]
    if failed:
        last = [e for r in records for e in r["errors"]][-1]
        msg += "; %d failed run(s), last error: %s" % (failures, last.get("error") or "unknown")
    module.exit_json(changed=False, failed=failed, records=records, msg=msg)


if __name__ == "__main__":
    main()
