# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""What the ``o2edge.perf.perf_recap`` callback does, without Ansible objects (docs/results.md).

``Recap`` receives plain events (run, play, task and per-host start/end with the task's result
as a dict), times each task on each host on a monotonic clock from its start to its end, pulls
every measurement record and probe result out of the results, and hands each resulting event to
a sink (``JsonlSink``: one JSON line per event, flushed). ``Recap.finish`` takes the run's
``set_stats`` data (``outcomes``) with Ansible's counters and folds the events into the results
document (``_results_doc.fold``), the same fold that reads a ``results.jsonl`` back.

Nothing marked ``no_log`` is written, and values that look secret (``_secrets``) are masked.
"""

from __future__ import annotations

import datetime
import json
import os
import threading
import time
from collections.abc import Mapping

from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_symlink, atomic_write
from ansible_collections.o2edge.perf.plugins.module_utils._record import utc_now, validate_record
from ansible_collections.o2edge.perf.plugins.plugin_utils._results_doc import PROBE_KEYS, SCHEMA, _iso, fold, hosts_from_tasks
from ansible_collections.o2edge.perf.plugins.plugin_utils._mask import mask_value

# Bound the walk of a task result (depth of nested values we scrub) and of loop nesting.
MAX_DEPTH = 32
CENSORED = "censored"


def new_run_id(now=None):
    """``20261128T140000Z-1a2b3c4d``: UTC start time and 8 random hex digits."""
    stamp = (now or utc_now()).replace("-", "").replace(":", "")
    return stamp.split(".")[0] + "Z-" + os.urandom(4).hex()


def scrub(value):
    """A copy of ``value`` with secret-named keys' values and secret-looking strings masked (``_mask.mask_value``)."""
    return mask_value(value, MAX_DEPTH)


def plain(value, max_depth=MAX_DEPTH, _depth=0):
    """``value`` as plain JSON data: mappings (string keys), lists, str, int, float, bool, None.

    What Ansible hands a callback (``set_stats`` data included) may hold its own str, list and dict
    types; anything else (a date, a set) becomes its text, and nesting deeper than ``max_depth``
    becomes ``censored`` rather than a traceback at the end of the run."""
    if _depth > max_depth:
        return CENSORED
    if value is None:
        return None
    for kind in (bool, int, float, str):  # bool first: a bool is an int too
        if isinstance(value, kind):
            return kind(value)
    if isinstance(value, Mapping):
        return dict((str(k), plain(v, max_depth, _depth + 1)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [plain(v, max_depth, _depth + 1) for v in value]
    return str(value)


def outcomes_of(custom):
    """The run's outcomes from Ansible's custom stats (``AggregateStats.custom``): the data of
    ``set_stats`` with ``per_host: false`` (key ``_run``); ``{}`` when none. ``Recap.finish`` makes
    them plain data and masks them."""
    run = custom.get("_run") if isinstance(custom, Mapping) else None
    return run if isinstance(run, Mapping) else {}


# Actions that cannot return a measurement: a no_log result of theirs withholds nothing missing.
NEVER_MEASURES = frozenset(
    pre + name for pre in ("", "ansible.builtin.", "ansible.legacy.")
    for name in ("set_fact", "include_vars", "assert", "fail", "set_stats", "add_host", "group_by"))


def is_no_log(result):
    """True when Ansible withheld this result (no_log): its values must not be written."""
    return isinstance(result, dict) and bool(result.get("_ansible_no_log") or CENSORED in result)


def _is_probe(item):
    return isinstance(item, dict) and all(isinstance(item.get(k), str) for k in ("site", "service", "state"))


def extract(result, loop=False):
    """``(records, probes, problems, items, withheld)`` from one task result.

    ``records``: every record of ``records`` (a list) and ``record`` (counted once when it is also
    in ``records``), loop item results included; ``probes``: service_probe ``results`` items (the
    keys of PROBE_KEYS); ``problems``: ``(what, why)`` for records not of the record shape;
    ``items``: number of loop items (None when not a loop); ``withheld``: results not read
    because of no_log.
    """
    records, probes, problems = [], [], []
    withheld = 0
    items = None
    if not isinstance(result, dict):
        return records, probes, problems, items, withheld
    parts = [result]
    if loop:
        loop_results = result.get("results")
        loop_results = loop_results if isinstance(loop_results, list) else []
        items = len(loop_results)
        parts.extend(r for r in loop_results if isinstance(r, dict))
    for index, part in enumerate(parts):
        where = "item %d" % (index - 1) if index else "result"
        if is_no_log(part):
            withheld += 1
            continue
        found = []
        if isinstance(part.get("records"), list):
            found.extend(part["records"])
        elif "records" in part:
            problems.append(("%s records" % where, "is %s, not a list of records" % type(part["records"]).__name__))
        if "record" in part and part["record"] not in found:
            found.append(part["record"])
        for number, record in enumerate(found):
            why = validate_record(record)
            if why:
                name = record.get("name") if isinstance(record, dict) and isinstance(record.get("name"), str) else "#%d" % number
                problems.append(("%s record %s" % (where, name[:120]), "not a measurement record: " + "; ".join(why)))
            else:
                records.append(scrub(record))
        if not (loop and index == 0) and isinstance(part.get("results"), list):
            for item in part["results"]:
                if _is_probe(item):
                    probes.append(scrub(dict((k, item.get(k)) for k in PROBE_KEYS)))
    return records, probes, problems, items, withheld


class JsonlSink(object):
    """Append events to a jsonl file, one line each, flushed at once (the crash-safe trail)."""

    def __init__(self, path):
        self.path = path
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
        self._handle = os.fdopen(fd, "a", encoding="utf-8")

    def __call__(self, event):
        self._handle.write(json.dumps(event, separators=(",", ":"), default=str, allow_nan=False) + "\n")
        self._handle.flush()

    def close(self):
        self._handle.close()


RESULTS_MODE = 0o640


def json_bytes(doc):
    """``doc`` as the bytes of a results file (JSON, indented by 1, newline-terminated)."""
    return (json.dumps(doc, indent=1, default=str, allow_nan=False) + "\n").encode("utf-8")


def atomic_write_json(path, doc, mode=RESULTS_MODE):
    """Write ``doc`` as JSON to ``path``: serialized first (a value that cannot be written fails before
    any file exists), then written atomically (``_atomic.atomic_write``)."""
    atomic_write(path, json_bytes(doc), mode)


def point_latest(results_dir, run_id):
    """Make ``<results_dir>/latest`` a symlink to ``run_id`` (replaced atomically); ``latest.json`` when
    symlinks cannot be made. Returns the pointer's path."""
    link = os.path.join(results_dir, "latest")
    try:
        atomic_symlink(link, run_id)
        return link
    except OSError:
        path = os.path.join(results_dir, "latest.json")
        atomic_write_json(path, {"id": run_id, "path": os.path.join(results_dir, run_id)})
        return path


class Recap(object):
    """Times tasks per host and collects records and probes; see the module docstring.

    ``run`` is the document's ``run`` mapping minus what Recap fills (id, started_at, status,
    finished_at, playbooks). ``clock`` is a monotonic clock in seconds, ``now`` an ISO UTC clock.

    ``now`` is read once, when the run starts: every later stamp (a play's or a task's start, the
    run's end) is that start plus the monotonic time since, so the document is one timeline. A
    task then always ends inside its run, even when the wall clock steps mid-run or the thread
    is descheduled between two clock reads (a task's start stamp read after its monotonic start
    once ended 15 ms after the run on a loaded machine).
    """

    def __init__(self, run, sink=None, clock=time.monotonic, now=utc_now):
        self._sink = sink
        self._clock = clock
        self._lock = threading.RLock()
        self.events = []
        self._t0 = clock()
        self.started_at = now()
        self._anchor = _iso(self.started_at) or datetime.datetime.now(datetime.timezone.utc)
        self.run = dict(run)
        self.run.setdefault("id", new_run_id(self.started_at))
        self.run.update(started_at=self.started_at, finished_at=None, status="running")
        self.run.setdefault("playbooks", [])
        self._tasks = {}
        self._pending = {}
        self._play = None
        self._play_t0 = None
        self._play_index = None
        self._play_keys = {}
        self.finished = False
        self._emit({"event": "run", "schema": SCHEMA, "run": dict(self.run)})

    def _now(self, at):
        """The ISO stamp (milliseconds, truncated) of the monotonic time ``at`` on the run's timeline."""
        stamp = self._anchor + datetime.timedelta(seconds=max(0.0, at - self._t0))
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (stamp.microsecond // 1000)

    def _emit(self, event):
        self.events.append(event)
        if self._sink is not None:
            self._sink(event)

    def playbook(self, path):
        with self._lock:
            if path not in self.run["playbooks"]:
                self.run["playbooks"].append(path)

    def _close_play(self):
        if self._play is not None:
            self._emit({"event": "play_done", "play": self._play, "index": self._play_index,
                        "seconds": round(self._clock() - self._play_t0, 6)})
            self._play = None

    def play(self, name, key=None):
        """A play (or, under ``serial``, the next batch of the play ``key``: its seconds add up) starts."""
        with self._lock:
            self._close_play()
            key = key if key is not None else object()
            if key not in self._play_keys:
                self._play_keys[key] = len(self._play_keys)
            self._play, self._play_index, self._play_t0 = name, self._play_keys[key], self._clock()
            self._emit({"event": "play", "play": name, "index": self._play_index, "started_at": self._now(self._play_t0)})

    def task(self, key, name, action, role=None, loop=False):
        """A task (or handler) starts: ``key`` identifies it (Ansible's task uuid)."""
        with self._lock:
            self._tasks[key] = {"play": self._play if self._play is not None else "", "role": role,
                                "task": scrub(name), "action": action, "loop": bool(loop), "t0": self._clock()}

    def host_start(self, key, host):
        with self._lock:
            t0 = self._clock()
            self._pending[(key, host)] = (t0, self._now(t0))

    def host_end(self, key, host, status, result):
        """The task ``key`` ended on ``host`` with ``status`` and ``result`` (the callback's copy)."""
        with self._lock:
            end = self._clock()
            meta = self._tasks.get(key)
            if meta is None:
                return
            t0, started_at = self._pending.pop((key, host), (meta["t0"], None))
            records, probes, problems, items, withheld = extract(result, meta["loop"])
            entry = {"play": meta["play"], "role": meta["role"], "task": meta["task"], "action": meta["action"], "host": host,
                     "status": status, "seconds": round(max(0.0, end - t0), 6), "started_at": started_at or self._now(t0)}
            if items is not None:
                entry["items"] = items
            self._emit(dict(event="task", **entry))
            where = {"host": host, "play": meta["play"], "task": meta["task"]}
            for record in records:
                self._emit(dict(event="record", record=record, **where))
            for probe in probes:
                self._emit(dict(event="probe", result=probe, **where))
            for what, why in problems:
                self._emit({"event": "missing", "what": "%s of task %r on %s" % (what, meta["task"], host), "why": why})
            if withheld and status != "skipped" and meta["action"] not in NEVER_MEASURES:
                self._emit({"event": "missing", "what": "values of task %r (play %r) on %s" % (meta["task"], meta["play"], host),
                            "why": "no_log result: nothing it returned was written"})

    def finish(self, hosts, status, outcomes=None):
        """End the run: ``hosts`` as Ansible's stats count them (None: counted from the task entries),
        ``status`` ok/failed/interrupted, ``outcomes`` the run's set_stats data (``outcomes_of``;
        None: none, as in a run cut short). Returns the document."""
        with self._lock:
            if not self.finished:
                if hosts is None:
                    hosts = hosts_from_tasks([e for e in self.events if e["event"] == "task"])
                self.finished = True
                self._close_play()
                for (key, host) in list(self._pending):
                    meta = self._tasks.get(key, {})
                    self._emit({"event": "missing", "what": "end of task %r on %s" % (meta.get("task"), host),
                                "why": "the task started but no result arrived before the run ended"})
                self._pending.clear()
                end = self._clock()
                self.run.update(finished_at=self._now(end), status=status)
                self._emit({"event": "end", "run": {"finished_at": self.run["finished_at"], "status": status,
                                                    "playbooks": list(self.run["playbooks"])},
                            "hosts": hosts, "wall_seconds": round(end - self._t0, 6),
                            "outcomes": scrub(plain(outcomes)) if isinstance(outcomes, Mapping) else {}})
            return fold(self.events)


def _fmt(value):
    if value is None:
        return "-"
    return "%.4g" % value


def recap_lines(doc, slowest=10):
    """Lines for the screen: the slowest ``slowest`` task entries, then each record's median and p95."""
    lines = ["run %s: %s, %.2f s wall, %d task results, %d records, %d probes" % (
        doc["run"]["id"], doc["run"]["status"], doc["totals"]["wall_seconds"], len(doc["tasks"]), len(doc["records"]),
        len(doc["probes"]))]
    tasks = sorted(doc["tasks"], key=lambda t: -t["seconds"])[:max(0, slowest)]
    if tasks:
        lines.append("slowest tasks:")
        for t in tasks:
            items = " (%d items)" % t["items"] if t.get("items") is not None else ""
            role = "%s : " % t["role"] if t.get("role") else ""
            lines.append("  %8.3f s  %s%s [%s] %s%s" % (t["seconds"], role, t["task"], t["host"], t["status"], items))
    if doc["records"]:
        lines.append("records (median, p95, unit, failures):")
        hosts = set(r["host"] for r in doc["records"])
        for entry in doc["records"]:
            r = entry["record"]
            where = " [%s]" % entry["host"] if len(hosts) > 1 else ""
            lines.append("  %s%s: median %s, p95 %s %s, %d failures" % (
                r["name"], where, _fmt(r["stats"].get("median")), _fmt(r["stats"].get("p95")), r["unit"], r["failures"]))
    if doc.get("outcomes"):
        lines.append("outcomes (set_stats): %s" % ", ".join(sorted(doc["outcomes"])))
    for m in doc["missing"]:
        lines.append("missing: %s: %s" % (m["what"], m["why"]))
    return lines
