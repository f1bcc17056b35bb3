# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
name: perf_recap
type: aggregate
short_description: Time every task per host, collect measurement records and probes into a results document
description:
  - An aggregate callback (enable it with C(callbacks_enabled) or E(ANSIBLE_CALLBACKS_ENABLED)); it is not a stdout
    callback, so it runs beside the default one, AWX's and ansible-runner's.
  - Times each task on each host on a monotonic clock, from the moment its worker starts to its ok, changed, failed,
    skipped or unreachable result; a loop is one entry per host with its item count. Totals per play (wall time) and
    per role (the sum of its task entries).
  - Collects every measurement record a task returns (C(records), C(record), loop results included; records not of
    the record shape are listed under C(missing) with the reason) and every C(service_probe) result.
  - While the run goes on, appends events to C(<results_dir>/<run id>/results.jsonl) (flushed line by line, so a run
    cut short leaves its data) and exports E(O2EDGE_PERF_RESULTS) (the path of that file) to the environment of
    every task. At the end writes C(results.json) atomically there, points C(<results_dir>/latest) at the run, and,
    under ansible-runner or AWX (E(AWX_ISOLATED_DATA_DIR) set), writes C(results.json) into the job's artifact
    directory too.
  - At the end of the run, what the plays handed to C(ansible.builtin.set_stats) for the whole run (C(per_host=false))
    goes into the document's C(outcomes), by name, masked like the rest (C(per_host=true) data is not carried).
  - Values of C(no_log) results are never written, and values that look secret are masked.
  - The results document is described in the collection's docs/results.md.
version_added: 1.0.0
author: o2edge.perf contributors (@o2edge)
requirements:
  - enable in configuration (C(callbacks_enabled))
options:
  results_dir:
    description:
      - Directory under which each run gets its folder C(<run id>/).
      - From variables, only a value given as an extra variable or a play variable of the first play, and not a
        template, is used.
    type: path
    default: ~/.local/share/o2edge-perf/results
    env:
      - name: O2EDGE_PERF_RESULTS_DIR
    ini:
      - section: o2edge_perf_recap
        key: results_dir
    vars:
      - name: o2edge_perf_results_dir
  slowest:
    description: Number of slowest task entries shown in the recap on screen.
    type: int
    default: 10
    env:
      - name: O2EDGE_PERF_RECAP_SLOWEST
    ini:
      - section: o2edge_perf_recap
        key: slowest
    vars:
      - name: o2edge_perf_recap_slowest
  show:
    description: Show the recap (slowest tasks, records' medians) on screen at the end of the run.
    type: bool
    default: true
    env:
      - name: O2EDGE_PERF_RECAP_SHOW
    ini:
      - section: o2edge_perf_recap
        key: show
    vars:
      - name: o2edge_perf_recap_show
  slice:
    description:
      - This run's slice of a sliced job, as C(index/count) (index from 0), recorded in the document so that
        merging the slices' documents can tell which slice is missing.
    type: str
    env:
      - name: O2EDGE_PERF_SLICE
    ini:
      - section: o2edge_perf_recap
        key: slice
"""

import atexit
import json
import os
import platform
import socket

from ansible import __version__ as ansible_version
from ansible.plugins.callback import CallbackBase

from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write
from ansible_collections.o2edge.perf.plugins.plugin_utils._callback_recap import (
    RESULTS_MODE, JsonlSink, Recap, json_bytes, new_run_id, outcomes_of, point_latest, recap_lines)

ENV_RESULTS = "O2EDGE_PERF_RESULTS"
ENV_ARTIFACTS = "AWX_ISOLATED_DATA_DIR"
_VAR_OPTIONS = ("o2edge_perf_results_dir", "o2edge_perf_recap_slowest", "o2edge_perf_recap_show")


def _collection_version():
    """The collection's version: MANIFEST.json of an installed collection, else galaxy.yml of a checkout."""
    here = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    try:
        with open(os.path.join(here, "MANIFEST.json"), encoding="utf-8") as handle:
            return str(json.load(handle)["collection_info"]["version"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    try:
        with open(os.path.join(here, "galaxy.yml"), encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("version:"):
                    return line.split(":", 1)[1].strip().strip("'\"")
    except OSError:
        pass
    return "unknown"


def _parse_slice(text):
    if not text:
        return None
    try:
        index, count = (int(x) for x in str(text).split("/"))
    except ValueError:
        raise ValueError("slice %r is not index/count" % (text,))
    if not 0 <= index < count:
        raise ValueError("slice %r: index must be 0 <= index < count" % (text,))
    return {"index": index, "count": count}


class CallbackModule(CallbackBase):
    """Times tasks per host and writes the results document (see DOCUMENTATION)."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "o2edge.perf.perf_recap"
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self.recap = None
        self.run_dir = None
        self._sink = None
        self._playbooks = []
        self._pid = os.getpid()

    # --- start -----------------------------------------------------------------------------

    def _start(self):
        """Create the run's folder and trail; False (and the callback disabled) when it cannot be written."""
        if self.recap is not None:
            return True
        results_dir = os.path.abspath(os.path.expanduser(self.get_option("results_dir")))
        artifact_dir = os.environ.get(ENV_ARTIFACTS) or None
        try:
            run_slice = _parse_slice(self.get_option("slice"))
        except ValueError as exc:
            self._display.warning("o2edge.perf.perf_recap: %s; the slice is not recorded" % exc)
            run_slice = None
        run = {
            "id": new_run_id(),
            "controller": {"host": socket.gethostname(), "python": platform.python_version(),
                           "ansible_core": ansible_version, "collection": _collection_version()},
            "runner": {"ident": os.path.basename(artifact_dir.rstrip("/")), "artifact_dir": artifact_dir} if artifact_dir else None,
            "slice": run_slice,
            "playbooks": list(self._playbooks),
        }
        self.run_dir = os.path.join(results_dir, run["id"])
        try:
            os.makedirs(self.run_dir, mode=0o750)
            self._sink = JsonlSink(os.path.join(self.run_dir, "results.jsonl"))
        except OSError as exc:
            # One warning, then out of the way: the run goes on without a results document.
            self._display.warning("o2edge.perf.perf_recap: cannot write results under %s (%s); this run is not recorded"
                                  % (results_dir, exc.strerror or exc))
            self.disabled = True
            return False
        self.recap = Recap(run, sink=self._sink)
        # Forked workers and the modules they run inherit it: perf_report reads the run in progress.
        os.environ[ENV_RESULTS] = self._sink.path
        point_latest(results_dir, run["id"])
        atexit.register(self._at_exit)
        return True

    def _var_options(self, play):
        """Our variables given as extra vars or play vars, when they are not templates (values are data)."""
        found = {}
        try:
            sources = [getattr(play, "vars", None) or {}, play.get_variable_manager().extra_vars or {}]
        except AttributeError:
            return found
        for source in sources:
            for name in _VAR_OPTIONS:
                value = source.get(name)
                if value is None:
                    continue
                if isinstance(value, str) and ("{{" in value or "{%" in value):
                    self._display.warning("o2edge.perf.perf_recap: %s is a template; only a plain value is used here" % name)
                    continue
                found[name] = value
        return found

    # --- events ----------------------------------------------------------------------------

    def _start_with(self, play):
        """Start the run with the options, our variables of ``play`` (the first one) included."""
        variables = self._var_options(play) if play is not None else {}
        if variables:
            self.set_options(var_options=variables)
        return self._start()

    def v2_playbook_on_start(self, playbook):
        path = os.path.abspath(getattr(playbook, "_file_name", "") or "")
        self._playbooks.append(path)
        if self.recap is not None:
            self.recap.playbook(path)
            return
        try:
            plays = playbook.get_plays()
        except AttributeError:
            plays = []
        if plays:
            self._start_with(plays[0])

    def v2_playbook_on_play_start(self, play):
        if self.recap is None and not self._start_with(play):
            return
        self.recap.play(play.get_name().strip(), key=play._uuid)

    def _task(self, task):
        if self.recap is None and not self._start():
            return
        role = task._role.get_name() if task._role else None
        self.recap.task(task._uuid, task.name or task.action, task.action, role=role,
                        loop=task.loop is not None or bool(task.loop_with))

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._task(task)

    def v2_playbook_on_handler_task_start(self, task):
        self._task(task)

    def v2_runner_on_start(self, host, task):
        if self.recap is not None:
            self.recap.host_start(task._uuid, host.get_name())

    def _end(self, result, status):
        if self.recap is not None:
            self.recap.host_end(result.task._uuid, result.host.get_name(), status, result.result)

    def v2_runner_on_ok(self, result):
        self._end(result, "changed" if result.result.get("changed") else "ok")

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._end(result, "failed")

    def v2_runner_on_skipped(self, result):
        self._end(result, "skipped")

    def v2_runner_on_unreachable(self, result):
        self._end(result, "unreachable")

    # --- end -------------------------------------------------------------------------------

    def _finish(self, hosts, status, outcomes=None):
        doc = self.recap.finish(hosts, status, outcomes)
        data = json_bytes(doc)  # serialized once, written to both places
        atomic_write(os.path.join(self.run_dir, "results.json"), data, RESULTS_MODE)
        artifact_dir = (doc["run"].get("runner") or {}).get("artifact_dir")
        if artifact_dir and os.path.isdir(artifact_dir):
            atomic_write(os.path.join(artifact_dir, "results.json"), data, RESULTS_MODE)
        self._sink.close()
        return doc

    def v2_playbook_on_stats(self, stats):
        if self.recap is None or self.recap.finished:
            return
        hosts = {}
        for host in sorted(stats.processed):
            counts = stats.summarize(host)
            hosts[host] = dict((k, int(counts.get(k, 0))) for k in ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored"))
        failed = any(c["failures"] or c["unreachable"] for c in hosts.values())
        doc = self._finish(hosts, "failed" if failed else "ok", outcomes_of(getattr(stats, "custom", None)))
        if self.get_option("show"):
            self._display.banner("PERF RECAP")
            # One display call for the whole recap: under ansible-runner and AWX each call is an event
            # of its own (a file in job_events), and a run of 1,000 sites has 3,000 record lines.
            lines = recap_lines(doc, self.get_option("slowest"))
            lines.append("results: %s" % os.path.join(self.run_dir, "results.json"))
            self._display.display("\n".join(lines))

    def _at_exit(self):
        # A run that ended without its statistics (interrupted, or an error that stopped the playbook).
        if os.getpid() != self._pid or self.recap is None or self.recap.finished:
            return
        try:
            self._finish(None, "interrupted")
        except Exception as exc:  # pylint: disable=broad-except
            self._display.warning("o2edge.perf.perf_recap: could not write results.json: %s" % exc)
