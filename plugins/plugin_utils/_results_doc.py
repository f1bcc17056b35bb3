# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The results document of a playbook run (docs/results.md): load, validate, merge, summarize.

The ``o2edge.perf.perf_recap`` callback appends one JSON event per line to ``results.jsonl``
while a run goes on and writes ``results.json`` at its end. Both fold into the same document
through ``fold(events)``: the callback builds ``results.json`` with it, and ``load`` rebuilds the
document of a run still in progress (or cut short) from its ``results.jsonl``. Events:

* ``{"event": "run", "schema": SCHEMA, "run": {...}}`` -- first line, status ``running``;
* ``{"event": "play", "play": name, "started_at": iso}`` and ``{"event": "play_done", "play":
  name, "seconds": s}``;
* ``{"event": "task" | "record" | "probe" | "missing", ...one entry of that list...}``;
* ``{"event": "end", "run": {"finished_at", "status"}, "hosts": {...}, "wall_seconds": s,
  "outcomes": {...}}`` -- ``outcomes``: what the plays handed to ``set_stats`` for the whole run
  (``per_host: false``), by name.

Standard library only, Python 3.9+ (modules run it on the controller's Python).

Size: over 450 lines because it is the one schema of the results document (docs/results.md): every
field's validation and the merge live together so that they cannot drift apart.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import re

from ansible_collections.o2edge.perf.plugins.module_utils import _safe_read, _yaml_bounds
from ansible_collections.o2edge.perf.plugins.plugin_utils._mask import mask_in_place, mask_in_place_checked, mask_value
from ansible_collections.o2edge.perf.plugins.module_utils._record import RECORD_KEYS, validate_record
from ansible_collections.o2edge.perf.plugins.module_utils._stats import STAT_KEYS
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key

SCHEMA = "o2edge.perf/results/v1"
RUN_STATUSES = ("ok", "failed", "interrupted", "running")
TASK_STATUSES = ("ok", "changed", "failed", "skipped", "unreachable")
HOST_COUNTERS = ("ok", "changed", "failures", "unreachable", "skipped", "rescued", "ignored")
PROBE_KEYS = ("site", "service", "kind", "address", "port", "ok", "state", "latency_ms", "connect_ms", "detail", "info")
# A results file larger than this is refused rather than read into memory.
MAX_BYTES = 256 * 1024 * 1024
# Deepest bracket nesting accepted in a results file (a record's context nests a few levels).
MAX_DEPTH = 64
# Most slices a sliced run may declare (run.slice.count): merge lists every absent one.
MAX_SLICES = 1024
# Largest task, play or run duration accepted, in seconds (about 31,700 years): sums stay finite.
MAX_SECONDS = 1e12
# Most names in ``outcomes`` (set_stats data of a run) accepted in a document.
MAX_OUTCOMES = 1024
# Worst status first: the merged status of several runs is the worst of theirs.
_STATUS_ORDER = ("failed", "interrupted", "running", "ok")


class ResultsError(ValueError):
    """A results file or document that is not a valid results document (the message names the file and field)."""


_SHOWN_RE = re.compile(r"[A-Za-z0-9_./-]{1,63}\Z")


def shown(value):
    """A value read from a file, fit for a message: quoted when it is a short identifier that does not
    look secret, else only its type (a file's content is never quoted in a message)."""
    if isinstance(value, str) and _SHOWN_RE.match(value) and not is_secret_key(value):
        return repr(value)
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    return "a %s (not shown)" % type(value).__name__


def _iso(value):
    """Parse our ISO 8601 UTC timestamps (``2026-11-28T14:00:00.123Z``); None when not one."""
    if not isinstance(value, str):
        return None
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    return parsed


def _span(start, end):
    a, b = _iso(start), _iso(end)
    if a is None or b is None:
        return None
    return max(0.0, (b - a).total_seconds())


def _end_of(task):
    start = _iso(task.get("started_at")) if isinstance(task, dict) else None
    if start is None or not _is_seconds(task.get("seconds")):
        return None
    try:
        return start + datetime.timedelta(seconds=task["seconds"])
    except OverflowError:  # past year 9999
        return None


def empty_document(run):
    """A document with ``run``, every list empty and no outcomes."""
    return {"schema": SCHEMA, "run": run, "hosts": {}, "records": [], "probes": [], "tasks": [],
            "totals": {"wall_seconds": 0.0, "plays": [], "roles": []}, "missing": [], "outcomes": {}}


def with_outcomes(doc):
    """``doc`` with ``outcomes`` (``{}`` for a document written before the field existed: 1.0.0)."""
    if isinstance(doc, dict) and "outcomes" not in doc:
        doc = dict(doc, outcomes={})
    return doc


def role_totals(tasks):
    """Seconds per role: the sum of its task entries (host-seconds), in order of first appearance."""
    totals = {}
    for task in tasks:
        role = task.get("role") if isinstance(task, dict) else None
        if role and isinstance(role, str):
            seconds = task.get("seconds")
            totals[role] = totals.get(role, 0.0) + (float(seconds) if _is_seconds(seconds) else 0.0)
    return [{"role": role, "seconds": round(seconds, 6)} for role, seconds in totals.items()]


def hosts_from_tasks(tasks):
    """Host counters as Ansible counts them, derived from task entries (rescued/ignored unknown: 0)."""
    hosts = {}
    for task in tasks:
        if not isinstance(task, dict) or not isinstance(task.get("host"), str):
            continue  # validate() names the entry
        counts = hosts.setdefault(task["host"], dict((k, 0) for k in HOST_COUNTERS))
        status = task.get("status")
        if status in ("ok", "changed"):
            counts["ok"] += 1
        if status == "changed":
            counts["changed"] += 1
        elif status == "failed":
            counts["failures"] += 1
        elif status in ("skipped", "unreachable"):
            counts[status] += 1
    return hosts


def _add_play(plays, index, name, seconds):
    """Add a play's seconds; the batches of one play under ``serial`` (same index) add up.

    Seconds that are not a finite number from 0 to MAX_SECONDS are left for ``validate`` to refuse."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        seconds = 0.0
    if not _is_seconds(seconds):
        plays.append({"index": index, "play": name, "seconds": seconds})
        return
    for play in plays:
        if index is not None and play["index"] == index:
            play["seconds"] = round(play["seconds"] + seconds, 6)
            return
    plays.append({"index": index, "play": name, "seconds": seconds})


def fold(events):
    """The results document that a sequence of events (parsed jsonl lines) describes.

    Without an ``end`` event the run is still ``running`` (or was cut short): host counters are
    derived from the task entries and the open play's and the run's seconds run to the end of
    the last task seen.
    """
    doc = None
    plays = []
    open_play = None
    ended = None
    for number, event in enumerate(events, 1):
        if not isinstance(event, dict) or not isinstance(event.get("event"), str):
            raise ResultsError("event %d: not an event (a mapping with an 'event' name)" % number)
        kind = event["event"]
        if kind == "run":
            if doc is not None:
                raise ResultsError("event %d: a second 'run' event" % number)
            if event.get("schema") != SCHEMA:
                raise ResultsError("event %d: schema is %s, expected %r" % (number, shown(event.get("schema")), SCHEMA))
            if not isinstance(event.get("run") or {}, dict):
                raise ResultsError("event %d: 'run' must be a mapping" % number)
            doc = empty_document(dict(event.get("run") or {}))
            continue
        if doc is None:
            raise ResultsError("event %d: %s before the 'run' event" % (number, shown(kind)))
        body = dict((k, v) for k, v in event.items() if k != "event")
        if kind in ("task", "record", "probe", "missing"):
            doc[kind + "s" if kind != "missing" else "missing"].append(body)
        elif kind == "play":
            open_play = {"play": body.get("play"), "index": body.get("index"), "started_at": body.get("started_at")}
        elif kind == "play_done":
            _add_play(plays, body.get("index"), body.get("play"), body.get("seconds"))
            open_play = None
        elif kind == "end":
            if not all(isinstance(body.get(k) or {}, dict) for k in ("run", "hosts", "outcomes")):
                raise ResultsError("event %d: 'run', 'hosts' and 'outcomes' of the 'end' event must be mappings" % number)
            ended = body
        else:
            raise ResultsError("event %d: unknown event %s" % (number, shown(kind)))
    if doc is None:
        raise ResultsError("no 'run' event")
    last_iso = None
    if ended is None or open_play is not None:
        last_end = max((e for e in (_end_of(t) for t in doc["tasks"]) if e is not None), default=None)
        last_iso = last_end.strftime("%Y-%m-%dT%H:%M:%S.%fZ") if last_end else None
    if open_play is not None:
        _add_play(plays, open_play["index"], open_play["play"], round(_span(open_play["started_at"], last_iso) or 0.0, 6))
    if ended is not None:
        doc["run"].update(ended.get("run") or {})
        doc["hosts"] = ended.get("hosts") or {}
        doc["outcomes"] = ended.get("outcomes") or {}
        wall = ended.get("wall_seconds")
    else:
        doc["run"]["status"] = "running"
        doc["run"]["finished_at"] = None
        doc["hosts"] = hosts_from_tasks(doc["tasks"])
        wall = round(_span(doc["run"].get("started_at"), last_iso) or 0.0, 6)
    doc["totals"] = {"wall_seconds": wall, "plays": [{"play": p["play"], "seconds": p["seconds"]} for p in plays],
                     "roles": role_totals(doc["tasks"])}
    return doc


# --- validation -------------------------------------------------------------------------------

def _need(cond, source, field, problem):
    if not cond:
        raise ResultsError("%s: %s %s" % (source, field, problem))


def _is_num(value):
    """A finite int or float (not a bool): NaN and the infinities are not numbers here."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_seconds(value):
    return _is_num(value) and 0 <= value <= MAX_SECONDS


def _check_str(obj, key, source, field, nullable=False):
    value = obj.get(key) if isinstance(obj, dict) else None
    if nullable and value is None:
        _need(key in obj, source, "%s.%s" % (field, key), "is missing")
        return
    _need(isinstance(value, str), source, "%s.%s" % (field, key), "must be a string, got %s" % type(value).__name__)


_RECORD_KEYSET = frozenset(RECORD_KEYS)
_STAT_KEYSET = frozenset(STAT_KEYS)
_CONTEXT_KEYS = frozenset(("host", "started_at", "versions"))
_NUMBER_TYPES = frozenset((int, float))


def _record_entry_ok(entry):
    """True only when ``validate`` finds nothing wrong with the records entry ``entry`` (exact types, every
    key, finite numbers, checked a list at a time); False sends it through the checks that name the problem."""
    if entry.__class__ is not dict:
        return False
    rec = entry.get("record")
    if not (entry.get("host").__class__ is str and entry.get("play").__class__ is str
            and entry.get("task").__class__ is str and rec.__class__ is dict and rec.keys() == _RECORD_KEYSET):
        return False
    name, samples, stats, warmup, failures = rec["name"], rec["samples"], rec["stats"], rec["warmup"], rec["failures"]
    if not (name.__class__ is str and name and samples.__class__ is list and stats.__class__ is dict
            and warmup.__class__ is int and warmup >= 0 and failures.__class__ is int and failures >= 0
            and rec["errors"].__class__ is list and rec["context"].__class__ is dict
            and rec["context"].keys() >= _CONTEXT_KEYS and stats.keys() >= _STAT_KEYSET):
        return False
    figures = [value for value in map(stats.__getitem__, STAT_KEYS) if value is not None]
    figures.extend(samples)
    try:
        return _NUMBER_TYPES.issuperset(map(type, figures)) and all(map(math.isfinite, figures))
    except OverflowError:  # an integer beyond the float range: the checks below decide
        return False


def validate(doc, source="results"):
    """Check ``doc`` has the results document's shape; raise ResultsError naming ``source`` and the field."""
    _need(isinstance(doc, dict), source, "document", "must be a mapping")
    _need(doc.get("schema") == SCHEMA, source, "schema", "is %s, expected %r" % (shown(doc.get("schema")), SCHEMA))
    for key in ("run", "hosts", "records", "probes", "tasks", "totals", "missing"):
        _need(key in doc, source, key, "is missing")
    run = doc["run"]
    _need(isinstance(run, dict), source, "run", "must be a mapping")
    _check_str(run, "id", source, "run")
    _check_str(run, "started_at", source, "run")
    _check_str(run, "finished_at", source, "run", nullable=True)
    _need(run.get("status") in RUN_STATUSES, source, "run.status", "is %s, expected one of %s" % (shown(run.get("status")), ", ".join(RUN_STATUSES)))
    _need(isinstance(run.get("playbooks"), list), source, "run.playbooks", "must be a list")
    _need(isinstance(run.get("controller"), dict), source, "run.controller", "must be a mapping")
    for key in ("runner", "slice"):
        _need(key in run and (run[key] is None or isinstance(run[key], dict)), source, "run.%s" % key, "must be a mapping or null")
    if run["slice"] is not None:
        index, count = run["slice"].get("index"), run["slice"].get("count")
        _need(_is_int(count) and _is_int(index) and 0 <= index < count, source, "run.slice",
              "must hold integers 0 <= index < count")
        _need(count <= MAX_SLICES, source, "run.slice.count", "is %d, more than the %d slices allowed" % (count, MAX_SLICES))
    _need(isinstance(doc["hosts"], dict), source, "hosts", "must be a mapping")
    for number, (host, counts) in enumerate(doc["hosts"].items()):
        field = "hosts.%s" % host if isinstance(host, str) and _SHOWN_RE.match(host) and not is_secret_key(host) else "hosts (entry %d)" % number
        _need(isinstance(counts, dict), source, field, "must be a mapping")
        for key in HOST_COUNTERS:
            _need(_is_int(counts.get(key)) and counts[key] >= 0, source, "%s.%s" % (field, key),
                  "must be a non-negative integer")
    for key in ("records", "probes", "tasks", "missing"):
        _need(isinstance(doc[key], list), source, key, "must be a list")
    for i, entry in enumerate(doc["records"]):
        if _record_entry_ok(entry):
            continue  # the usual entry: every check below passes (checked at once)
        field = "records[%d]" % i
        _need(isinstance(entry, dict), source, field, "must be a mapping")
        for key in ("host", "play", "task"):
            _check_str(entry, key, source, field)
        problems = validate_record(entry.get("record"))
        _need(not problems, source, field + ".record", "; ".join(problems))
    for i, entry in enumerate(doc["probes"]):
        field = "probes[%d]" % i
        _need(isinstance(entry, dict), source, field, "must be a mapping")
        for key in ("host", "play", "task"):
            _check_str(entry, key, source, field)
        result = entry.get("result")
        _need(isinstance(result, dict), source, field + ".result", "must be a mapping")
        for key in ("site", "service", "state"):
            _check_str(result, key, source, field + ".result")
    for i, entry in enumerate(doc["tasks"]):
        field = "tasks[%d]" % i
        _need(isinstance(entry, dict), source, field, "must be a mapping")
        for key in ("play", "task", "action", "host", "started_at"):
            _check_str(entry, key, source, field)
        _check_str(entry, "role", source, field, nullable=True)
        _need(entry.get("status") in TASK_STATUSES, source, field + ".status",
              "is %s, expected one of %s" % (shown(entry.get("status")), ", ".join(TASK_STATUSES)))
        _need(_is_seconds(entry.get("seconds")), source, field + ".seconds",
              "must be a finite number from 0 to %g" % MAX_SECONDS)
        if "items" in entry:
            _need(_is_int(entry["items"]) and entry["items"] >= 0,
                  source, field + ".items", "must be a non-negative integer")
    totals = doc["totals"]
    _need(isinstance(totals, dict), source, "totals", "must be a mapping")
    _need(_is_seconds(totals.get("wall_seconds")), source, "totals.wall_seconds",
          "must be a finite number from 0 to %g" % MAX_SECONDS)
    for key, name in (("plays", "play"), ("roles", "role")):
        _need(isinstance(totals.get(key), list), source, "totals.%s" % key, "must be a list")
        for i, entry in enumerate(totals[key]):
            field = "totals.%s[%d]" % (key, i)
            _need(isinstance(entry, dict) and isinstance(entry.get(name), str) and _is_seconds(entry.get("seconds")),
                  source, field, "must be {%s: str, seconds: a finite number from 0 to %g}" % (name, MAX_SECONDS))
    for i, entry in enumerate(doc["missing"]):
        field = "missing[%d]" % i
        _need(isinstance(entry, dict), source, field, "must be a mapping")
        _check_str(entry, "what", source, field)
        _check_str(entry, "why", source, field)
    # Optional: documents of 1.0.0 have no outcomes (load and merge give them an empty mapping).
    if "outcomes" in doc:
        outcomes = doc["outcomes"]
        _need(isinstance(outcomes, dict), source, "outcomes", "must be a mapping of names to values")
        _need(len(outcomes) <= MAX_OUTCOMES, source, "outcomes",
              "has %d names, more than the %d allowed" % (len(outcomes), MAX_OUTCOMES))
        for number, name in enumerate(outcomes):
            _need(isinstance(name, str) and name.strip(), source, "outcomes (name %d)" % number,
                  "must be a non-empty string")
    return doc


# --- loading ----------------------------------------------------------------------------------

def _read(path, max_bytes):
    """The text of a results file: a regular file only (a FIFO or a device is refused, never waited on)."""
    try:
        return _safe_read.read_text(path, max_bytes, what="results file")
    except _safe_read.FileReadError as exc:
        raise ResultsError(str(exc))


def _parse_json(text, source):
    """JSON text with bounded nesting and finite numbers only; errors name line and column, never content."""
    try:
        return _yaml_bounds.load_json(text, MAX_DEPTH)
    except _yaml_bounds.YamlBoundsError as exc:
        hint = " (the file ends early: truncated?)" if _truncated(text) else ""
        raise ResultsError("%s: %s%s" % (source, exc, hint))


def _truncated(text):
    """True when ``text`` is not JSON because it stops early (not because of what it holds)."""
    try:
        json.loads(text, parse_constant=float)
    except ValueError as exc:
        return getattr(exc, "pos", -1) >= len(text.rstrip())
    except RecursionError:
        return False
    return False


def _complete(text):
    """True when ``text`` is whole JSON (refused for what it holds: NaN, depth), False when it is cut short or broken."""
    try:
        json.loads(text, parse_constant=float)
    except RecursionError:
        return True
    except ValueError:
        return False
    return True


def mask_secrets(doc):
    """``doc`` with every secret-looking string masked (``_mask.mask_value``): a results file the
    callback did not write may hold a URL with a password or a token in an error or a probe detail."""
    return mask_value(doc)


def _mask_parsed(doc):
    """``mask_secrets`` of a document just parsed from a file (nobody else holds it): masked in place."""
    return mask_in_place(doc)


def load_jsonl_text(text, source="results.jsonl"):
    """The document folded from jsonl text; a partial last line is left out and listed in ``missing``.

    Every line is parsed with bounded nesting and finite numbers only; secret-looking values are masked.
    """
    lines = text.split("\n")
    events = []
    partial = None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        last = number == len(lines)  # no newline after it: the writer may have been cut short
        try:
            events.append(_yaml_bounds.load_json(line, MAX_DEPTH))
        except _yaml_bounds.YamlBoundsError as exc:
            if last and not _complete(line):
                partial = number
                continue
            raise ResultsError("%s: line %d: %s" % (source, number, exc))
    try:
        doc = fold(events)
    except ResultsError as exc:
        raise ResultsError("%s: %s" % (source, exc))
    if partial is not None:
        doc["missing"].append({"what": "%s line %d" % (os.path.basename(source), partial),
                               "why": "partial last line left out (the run was still writing it or was cut short)"})
    return _mask_parsed(with_outcomes(validate(doc, source)))


def load(path, max_bytes=MAX_BYTES):
    """Read ``results.json``, a ``results.jsonl`` or a run directory into a validated document.

    A directory is read through its ``results.json`` when present, else its ``results.jsonl``.
    Raises ResultsError naming the file and the field.
    """
    path = os.path.expanduser(str(path))
    if os.path.isdir(path):
        for name in ("results.json", "results.jsonl"):
            if os.path.isfile(os.path.join(path, name)):
                path = os.path.join(path, name)
                break
        else:
            raise ResultsError("%s: neither results.json nor results.jsonl in this directory" % path)
    text = _read(path, max_bytes)
    if path.endswith(".jsonl"):
        return load_jsonl_text(text, path)
    _need(text.strip(), path, "file", "is empty")
    doc = _load_plain(text, path)
    if doc is not None:
        return doc
    return _mask_parsed(with_outcomes(validate(_parse_json(text, path), path)))


def _refuse_constant(name):
    raise ValueError(name)


def _load_plain(text, path):
    """The document ``load`` gives for JSON ``text`` that passes every check, in one pass less; None when
    any check fails (``load`` then takes the bounded path, which refuses it and names why).

    The bounded path (``_parse_json``) measures the bracket depth of the whole text first and parses
    every float through a check of its own. Here ``json.loads`` parses with its default float
    parsing (the same doubles) and refuses NaN and Infinity; the document is validated; the
    masking walk (``mask_in_place_checked``) then checks the depth of the containers and that every
    float is finite (an overflowing literal such as 1e999 is the only way to get a float that is
    not). Only a document the bounded path accepts gets through, and it is the same document.
    """
    if not isinstance(text, str):
        return None
    try:
        doc = json.loads(text, parse_constant=_refuse_constant)
        doc = with_outcomes(validate(doc, path))
    except Exception:  # pylint: disable=broad-except  # the bounded path raises what it raises, naming the field
        return None
    return mask_in_place_checked(doc, MAX_DEPTH)


# --- merging ----------------------------------------------------------------------------------

def _key(entry):
    return json.dumps(entry, sort_keys=True, default=str)


def merge(docs):
    """One document from several runs or slices of one run.

    Hosts are unioned (counters of a host seen in several documents add up), probes and tasks
    unioned (identical entries once), records concatenated with a record seen twice (same
    host, name and ``context.started_at``) counted once. Slices of one job share the hosts no
    slice owns (the controller, an implicit localhost: a host listed in the ``hosts`` of several
    slices): the measurements of such a host that every slice took again are counted once, those
    of the first slice (lowest index) that has a record of that name; the distinct measurements
    of that name in that one slice (another ``started_at``) are all kept. When documents are slices ``{index, count}``, every slice not given is listed in
    ``missing``. ``run``: ids joined with ``+``, earliest start, latest finish (null while one
    runs), the worst status (failed, interrupted, running, ok). ``totals.wall_seconds`` is the span
    from the earliest start to the latest finish, or the largest wall time when one has not
    finished.
    """
    docs = list(docs)
    if not docs:
        raise ResultsError("merge: no results documents given")
    for i, doc in enumerate(docs):
        validate(doc, "merge: document %d" % i)
    docs = [with_outcomes(d) for d in docs]
    if len(docs) == 1:
        return mask_secrets(docs[0])
    runs = [d["run"] for d in docs]
    ids = []
    playbooks = []
    for run in runs:
        if run["id"] not in ids:
            ids.append(run["id"])
        playbooks.extend(p for p in run["playbooks"] if p not in playbooks)
    finished = [r["finished_at"] for r in runs]
    run = {
        "id": "+".join(ids),
        "started_at": min(runs, key=lambda r: _iso(r["started_at"]) or datetime.datetime.max.replace(tzinfo=datetime.timezone.utc))["started_at"],
        "finished_at": None if None in finished else max(finished, key=lambda f: _iso(f) or datetime.datetime.min.replace(tzinfo=datetime.timezone.utc)),
        "status": min((r["status"] for r in runs), key=_STATUS_ORDER.index),
        "playbooks": playbooks,
        "controller": runs[0]["controller"],
        "runner": next((r["runner"] for r in runs if r["runner"]), None),
        "slice": None,
    }
    out = empty_document(run)
    for doc in docs:
        for host, counts in doc["hosts"].items():
            mine = out["hosts"].setdefault(host, dict((k, 0) for k in HOST_COUNTERS))
            for key in HOST_COUNTERS:
                mine[key] += counts[key]
    # Slices of one job: a host in several slices is one no slice owns (the controller, implicit
    # localhost), so its records are measurements every slice took again: the first slice's are kept.
    slice_docs = sorted((d for d in docs if d["run"]["slice"]), key=lambda d: d["run"]["slice"]["index"])
    shared = set()
    if len(slice_docs) > 1:
        counts = {}
        for doc in slice_docs:
            for host in doc["hosts"]:
                counts[host] = counts.get(host, 0) + 1
        shared = set(h for h, n in counts.items() if n > 1)
    seen = set()
    owner = {}  # (shared host, record name) -> the index of the slice whose records of it are kept
    for doc in slice_docs + [d for d in docs if not d["run"]["slice"]]:
        this_slice = doc["run"]["slice"]["index"] if doc["run"]["slice"] else None
        for entry in doc["records"]:
            name = (entry["host"], entry["record"]["name"])
            if this_slice is not None and entry["host"] in shared:
                if owner.setdefault(name, this_slice) != this_slice:
                    continue  # taken again by a later slice: counted once, from the first slice
            key = name + (_key(entry["record"]["context"].get("started_at")),)
            if key not in seen:
                seen.add(key)
                out["records"].append(entry)
    for kind in ("probes", "tasks", "missing"):
        seen = set()
        for doc in docs:
            for entry in doc[kind]:
                key = _key(entry)
                if key not in seen:
                    seen.add(key)
                    out[kind].append(entry)
    # Outcomes: a name set by several documents keeps the first one's value (slices by index first);
    # a different value elsewhere is listed under missing, never silently dropped.
    for doc in slice_docs + [d for d in docs if not d["run"]["slice"]]:
        for name, value in doc["outcomes"].items():
            if name not in out["outcomes"]:
                out["outcomes"][name] = value
            elif _key(out["outcomes"][name]) != _key(value):
                out["missing"].append({"what": "outcome %s of run %s" % (shown(name), doc["run"]["id"]),
                                       "why": "another document set it to a different value; the first one is kept"})
    slices = [r["slice"] for r in runs if r["slice"]]
    if slices:
        count = max(s["count"] for s in slices)
        present = set(s["index"] for s in slices)
        for index in range(count):
            if index not in present:
                out["missing"].append({"what": "slice %d of %d" % (index, count),
                                       "why": "no results document was given for this slice"})
        for doc in slice_docs:
            if doc["run"]["status"] in ("running", "interrupted"):
                out["missing"].append({"what": "slice %d of %d (run %s)" % (doc["run"]["slice"]["index"], count, doc["run"]["id"]),
                                       "why": "the slice's run is %s: what it had not finished is not here" % doc["run"]["status"]})
    span = _span(run["started_at"], run["finished_at"]) if run["finished_at"] else None
    out["totals"] = {
        "wall_seconds": round(span, 6) if span is not None else max(d["totals"]["wall_seconds"] for d in docs),
        "plays": [p for d in docs for p in d["totals"]["plays"]],
        "roles": role_totals(out["tasks"]),
    }
    return mask_secrets(out)


def summary(doc):
    """Key figures of a document: run id and status, counts, failed hosts, the five slowest task entries."""
    probes_up = sum(1 for p in doc["probes"] if p["result"].get("state") == "up")
    failed_hosts = sorted(h for h, c in doc["hosts"].items() if c["failures"] or c["unreachable"])
    slowest = sorted(doc["tasks"], key=lambda t: -t["seconds"])[:5]
    return {
        "run_id": doc["run"]["id"],
        "status": doc["run"]["status"],
        "hosts": len(doc["hosts"]),
        "failed_hosts": failed_hosts,
        "tasks": len(doc["tasks"]),
        "records": len(doc["records"]),
        "records_with_failures": sum(1 for r in doc["records"] if r["record"]["failures"]),
        "probes": len(doc["probes"]),
        "probes_up": probes_up,
        "missing": len(doc["missing"]),
        "wall_seconds": doc["totals"]["wall_seconds"],
        "slowest": [{"task": t["task"], "host": t["host"], "seconds": t["seconds"]} for t in slowest],
    }
