#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: io_bench
short_description: Measure sequential file write and read throughput with fsync
version_added: 1.0.0
description:
  - Writes O(size_mb) MB (10^6 bytes) of random data to a temporary file in O(path), fsyncs it, drops it
    from the page cache, reads it back, and reports MB/s and seconds for both, over O(runs) counted runs
    after O(warmup) untimed ones.
  - No two 512-byte sectors of the data written are equal, so storage that compresses or deduplicates
    cannot inflate the write figure.
  - The temporary file is removed after every run, also when the run fails.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: The only file written is a temporary one, always removed; the module runs in check mode too.
  diff_mode:
    description: Nothing is left changed, so there is no diff.
options:
  path:
    description: Directory on the file system to measure (the temporary file is created there).
    type: path
    required: true
  size_mb:
    description: Amount written and read per run, in MB (10^6 bytes).
    type: int
    default: 64
  block_kb:
    description: Size of each write and read call, in KiB.
    type: int
    default: 1024
  fsync:
    description: Call fsync before stopping the write clock (without it, the write figure is the page cache's).
    type: bool
    default: true
  drop_cache:
    description: Drop the file from the page cache (C(posix_fadvise) DONTNEED) before reading; needs O(fsync=true).
    type: bool
    default: true
  runs:
    description: Counted runs. At least 1.
    type: int
    default: 3
  warmup:
    description: Untimed runs before the counted ones.
    type: int
    default: 0
  name:
    description: Prefix of the record names. Defaults to V(file_io/<path slug>).
    type: str
  fail_on_error:
    description: Fail the task when any counted run failed. Records are returned either way.
    type: bool
    default: true
notes:
  - Statistics methods are described in the collection's docs/statistics.md.
extends_documentation_fragment:
  - o2edge.perf.attributes
  - o2edge.perf.attributes.platform_target
"""

EXAMPLES = r"""
- name: Measure the disk holding the pipeline repository
  o2edge.perf.io_bench:
    path: /srv/pipeline
    size_mb: 256
    runs: 3
  register: io
"""

RETURN = r"""
records:
  description:
    - Four records in the collection's single record shape, named C(<name>/write) and C(<name>/read)
      (unit V(MB/s)), and C(<name>/write_seconds) and C(<name>/read_seconds) (unit V(s)).
  returned: always
  type: list
  elements: dict
  sample:
    - name: file_io/srv-pipeline/write
      component: file_io
      unit: MB/s
      samples: [412.3, 405.9, 410.0]
      warmup: 0
      failures: 0
      errors: []
      stats: {min: 405.9, median: 410.0, mean: 409.4, p95: 412.07, max: 412.3, stdev: 3.24, mad: 2.3,
              outliers: [], slow_first_run: false}
      context: {host: ctl, started_at: "2026-01-01T00:00:00.000Z", path: /srv/pipeline, size_mb: 64,
                fsync: true, cache_dropped: true, versions: {python: 3.11.7}}
write_mb_s:
  description: Median write throughput in MB/s (null when no run succeeded).
  returned: always
  type: float
read_mb_s:
  description: Median read throughput in MB/s (null when no run succeeded).
  returned: always
  type: float
msg:
  description: A one-line summary.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils.measure._iobench import MB, free_bytes, io_run, throughput
from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error
from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record, slug, utc_now
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import measure


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type="path", required=True),
            size_mb=dict(type="int", default=64),
            block_kb=dict(type="int", default=1024),
            fsync=dict(type="bool", default=True),
            drop_cache=dict(type="bool", default=True),
            runs=dict(type="int", default=3),
            warmup=dict(type="int", default=0),
            name=dict(type="str"),
            fail_on_error=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    error = range_error(p, minimums=(("runs", 1), ("warmup", 0), ("size_mb", 1), ("block_kb", 1)))
    if error:
        module.fail_json(msg=error)
    if not os.path.isdir(p["path"]):
        module.fail_json(msg="path %s is not a directory" % p["path"])
    if not os.access(p["path"], os.W_OK | os.X_OK):
        module.fail_json(msg="path %s is not writable" % p["path"])
    size = p["size_mb"] * MB
    free = free_bytes(p["path"])
    if free < size * 1.05:
        module.fail_json(msg="path %s has %d MB free, not enough for size_mb=%d" % (p["path"], free // MB, p["size_mb"]))

    started_at = utc_now()
    samples, failures, errors, results = measure(
        lambda: io_run(p["path"], size, p["block_kb"] * 1024, p["fsync"], p["drop_cache"]),
        p["runs"], p["warmup"])
    for entry in errors:
        entry.pop("rc", None)
        entry.pop("stderr", None)
    ok = [r for r in results if r["ok"]]
    name = p["name"] or "file_io/%s" % slug(p["path"], "root")
    context = base_context(started_at=started_at, path=p["path"], size_mb=p["size_mb"], block_kb=p["block_kb"],
                           fsync=p["fsync"], cache_dropped=bool(ok) and all(r["cache_dropped"] for r in ok))
    records = []
    for op in ("write", "read"):
        secs = [r["%s_seconds" % op] for r in ok]
        records.append(make_record("%s/%s" % (name, op), "file_io", "MB/s", [throughput(size, s) for s in secs],
                                   warmup=p["warmup"], failures=failures, errors=errors, context=dict(context, op=op)))
        records.append(make_record("%s/%s_seconds" % (name, op), "file_io", "s", secs, warmup=p["warmup"],
                                   failures=failures, errors=errors, context=dict(context, op=op)))
    write_mb_s = records[0]["stats"]["median"]
    read_mb_s = records[2]["stats"]["median"]
    msg = "%s: write %s MB/s, read %s MB/s (median of %d runs, %d MB each), %d failures" % (
        name, "n/a" if write_mb_s is None else "%.1f" % write_mb_s, "n/a" if read_mb_s is None else "%.1f" % read_mb_s,
        p["runs"], p["size_mb"], failures)
    if errors:
        msg += "; last error: %s" % errors[-1].get("error")
    module.exit_json(changed=False, failed=bool(failures) and p["fail_on_error"], records=records,
                     write_mb_s=write_mb_s, read_mb_s=read_mb_s, msg=msg)


if __name__ == "__main__":
    main()
