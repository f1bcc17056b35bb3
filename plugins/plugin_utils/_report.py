# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The report of a run: load the results (and a baseline), compare, evaluate the SLOs, write.

``build`` turns a results document (the callback's C2 document, see ``_results_doc``) into a report
model: one entry per measurement record, before/after comparisons matched by record name and
host (``_compare``), the SLO outcome (``_slo``), the site x service matrix of the probes, the
slowest tasks and the list of what is missing. ``generate`` renders every format of the model
and writes them with ``_report_write`` (a new run directory renamed into place, the index of
past runs, the Pushgateway). Text read from results files is data: the writers escape it for
their format and nothing here evaluates it.

Size: over 450 lines because it is the one place where a report's steps meet in their order: the parameters,
reading the inputs with their second processes (``_report_parallel``: the baseline, the document worker that
also evaluates the objectives), the model, and the files; each step's own work lives in its module.
"""

from __future__ import annotations

import contextlib
import functools
import gc
import math
import os
import re

from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_formats, _report_html, _results_doc, _slo
from ansible_collections.o2edge.perf.plugins.module_utils.probe._matrix import service_columns, site_state
from ansible_collections.o2edge.perf.plugins.plugin_utils._report_write import (
    ReportError, dumps_results, push, push_url, read_index, results_json, run_dir_name, update_index, write_run)
from ansible_collections.o2edge.perf.plugins.plugin_utils import _comparisons, _fast_stats, _report_parallel

ENV_RESULTS = "O2EDGE_PERF_RESULTS"
VERDICTS = _comparisons.VERDICTS
SLOWEST_TASKS = 15
LIST_CAP = 100


# --------------------------------------------------------------------------- inputs

def result_paths(results, environ):
    """The results files to read: ``results`` as a list of paths, or ``callback`` for the run in progress."""
    if isinstance(results, str):
        results = [results]
    if not results:
        raise ReportError("results: give at least one results file, or 'callback'")
    paths = []
    for index, item in enumerate(results):
        if not isinstance(item, str) or not item:
            raise ReportError("results[%d]: expected a path or 'callback', got %r" % (index, item))
        if item == "callback":
            path = environ.get(ENV_RESULTS, "")
            if not path:
                raise ReportError("results[%d]: 'callback' reads the run in progress from %s, which is not set: "
                                  "enable the o2edge.perf.perf_recap callback" % (index, ENV_RESULTS))
            item = path
        paths.append(item)
    return paths


def load_documents(paths, field):
    """Load and merge results documents; a ``ResultsError`` becomes a ReportError naming ``field[i]``."""
    docs = []
    for index, path in enumerate(paths):
        try:
            docs.append(_results_doc.load(path))
        except _results_doc.ResultsError as exc:
            msg = str(exc)
            raise ReportError("%s[%d]: %s" % (field, index, msg if path in msg else "%s: %s" % (path, msg)))
    if len(docs) == 1:
        return docs[0]
    try:
        return _results_doc.merge(docs)
    except _results_doc.ResultsError as exc:
        raise ReportError("%s: cannot merge %s: %s" % (field, ", ".join(paths), exc))


def comparison_baseline(doc):
    """What a report reads of its baseline (``build``, ``_comparisons``): the run and, per record, the host and the
    record's name, unit, samples and context, each as ``get`` gives it. A baseline read in a second process is sent
    back as this: about half of the document's objects, so less to send, to rebuild here and to free."""
    records = []
    for item in doc.get("records") or []:
        record = item["record"]
        records.append({"host": item.get("host"), "record": {
            "name": record.get("name"), "unit": record.get("unit"), "samples": record.get("samples"),
            "context": record.get("context")}})
    return {"run": doc.get("run"), "records": records}


def load_objectives(slo_file):
    """The objectives of ``slo_file``, or the shipped defaults; SloError becomes a ReportError naming slo_file."""
    if not slo_file:
        return _slo.default_objectives()
    if not os.path.isfile(slo_file):
        raise ReportError("slo_file: %s is not a readable file" % slo_file)
    try:
        return _slo.load_objectives(slo_file)
    except _slo.SloError as exc:
        raise ReportError("slo_file (%s): %s" % (slo_file, exc))


def filter_plays(doc, pattern):
    """A copy of ``doc`` keeping only the records, probes and tasks of plays matching ``pattern`` (a regex)."""
    if not pattern:
        return doc
    try:
        rx = re.compile(pattern)
    except re.error as exc:
        raise ReportError("play_filter: %r is not a valid regular expression: %s" % (pattern, exc))
    out = dict(doc)
    for key in ("records", "probes", "tasks"):
        out[key] = [item for item in doc.get(key) or [] if rx.search(str(item.get("play") or ""))]
    return out


# --------------------------------------------------------------------------- model

def _text(value):
    return "" if value is None else str(value)


def _key(item):
    name, host = item["record"].get("name"), item.get("host")
    return (name if name.__class__ is str else _text(name), host if host.__class__ is str else _text(host))


def _index(doc, notes, keys=None):
    """{(name, host): item}, the last record of a key winning; duplicates noted. ``keys``: the records' keys."""
    out = {}
    dups = {}
    records = doc.get("records") or []
    for item, key in zip(records, keys if keys is not None else map(_key, records)):
        if key in out:
            dups[key] = dups.get(key, 1) + 1
        out[key] = item
    for (name, host), count in sorted(dups.items()):
        notes.append("%s on %s: %d records, the last one is used for comparisons" % (name, host, count))
    return out


def compare_records(before_item, after_item, threshold, min_samples):
    """One sequential comparison entry for a measurement present on both sides (``_comparisons.sequential``)."""
    return _comparisons.sequential(before_item, after_item, threshold, min_samples)


def _probe_matrix(doc):
    """Sites, services, cells {site: {service: probe result}} (the last probe of a pair wins), site states."""
    results = []
    for item in doc.get("probes") or []:
        res = item.get("result") or {}
        results.append(dict(res, site=_text(res.get("site")), service=_text(res.get("service")),
                            state=_text(res.get("state")) or "unknown"))
    cells = {}
    for res in results:
        cells.setdefault(res["site"], {})[res["service"]] = res
    sites = sorted(cells)
    services = service_columns(results)
    status = dict((s, site_state([r["state"] for r in cells[s].values()])) for s in sites)
    targets = sum(len(v) for v in cells.values())
    up = sum(1 for v in cells.values() for r in v.values() if r["state"] == "up")
    return {"sites": sites, "services": services, "cells": cells, "site_status": status,
            "sites_up": sum(1 for s in status.values() if s == "up"), "targets": targets, "targets_up": up,
            "sites_up_pct": pct(sum(1 for s in status.values() if s == "up"), len(sites)),
            "targets_up_pct": pct(up, targets)}


def pct(part, whole):
    """Share in percent with one decimal, or None when there is nothing to divide by."""
    return round(100.0 * part / whole, 1) if whole else None


def _measurement(item, comparison):
    rec = item["record"]
    ctx = rec.get("context") or {}
    stats = rec.get("stats") or {}
    samples = rec.get("samples") or []
    return {"name": _text(rec.get("name")), "component": _text(rec.get("component")),
            "unit": _text(rec.get("unit")), "host": _text(item.get("host")), "play": _text(item.get("play")),
            "task": _text(item.get("task")), "n": len(samples), "warmup": rec.get("warmup"),
            "failures": rec.get("failures"), "stats": stats, "started_at": _text(ctx.get("started_at")),
            "comparison": comparison}


def _run_missing(doc, current, slo, in_progress):
    missing = [{"what": _text(m.get("what")), "why": _text(m.get("why"))} for m in doc.get("missing") or []]
    run = doc.get("run") or {}
    status = _text(run.get("status")) or "unknown"
    if status != "ok" and not (in_progress and status == "running"):
        why = {"running": "the run had not finished when it was read (status running)",
               "failed": "the run failed (status failed): later steps may not have run",
               "interrupted": "the run was interrupted (status interrupted): later steps did not run"}
        missing.insert(0, {"what": "run %s" % _text(run.get("id")),
                           "why": why.get(status, "the run's status is %s, not ok" % status)})
    if not current:
        missing.append({"what": "measurements", "why": "the results hold no measurement record"})
    for (name, host), item in current.items():
        rec = item["record"]
        # a failed probe is a result (the site x service matrix shows its state), not missing data
        if not rec.get("samples") and rec.get("component") != "probe":
            errors = rec.get("errors") or []
            first = _text((errors[0] or {}).get("error")) if errors and isinstance(errors[0], dict) else ""
            missing.append({"what": "measurement %s on %s" % (name, host),
                            "why": "no successful counted run (%s failures)%s" % (
                                rec.get("failures"), ": " + first if first else "")})
    for obj in slo:
        if obj.get("value") is None:
            missing.append({"what": "objective %s" % _text(obj.get("name")), "why": _text(obj.get("reason"))})
    return missing


def build(doc, baseline=None, objectives=None, title="o2edge.perf report", threshold=0.05, min_samples=6,
          generated_at="", inputs=None, in_progress=False, untouched=(), thresholds=None, slo=None):
    """The report model of ``doc`` (compared with ``baseline`` when given).

    ``in_progress``: ``doc`` is the run this report is a task of (``results: callback``), so its
    status ``running`` is expected and noted, not listed as missing. ``slo``: the objectives' outcome
    on ``doc`` when already evaluated (``_slo.evaluate``), or a function giving it (called once the comparisons
    are done: ``_report_parallel.DocumentWorker.outcome``).
    """
    notes = []
    if in_progress and (doc.get("run") or {}).get("status") == "running":
        notes.append("read from the run in progress (%s): what runs after this report is not in it" % ENV_RESULTS)
    keys = [_key(item) for item in doc.get("records") or []]
    current = _index(doc, notes, keys)
    before = _index(baseline, notes) if baseline is not None else {}
    comparisons, by_key, design, paired_keys = _comparisons.plan(current, before, threshold, min_samples,
                                                                 untouched, thresholds)
    only_before = [k for k in before if k not in current]
    only_run = [k for k in current if k not in before and k not in paired_keys] if baseline is not None else []
    verdicts = dict((v, 0) for v in VERDICTS)
    for entry in comparisons:
        verdicts[entry["verdict"]] = verdicts.get(entry["verdict"], 0) + 1
    if callable(slo):
        slo = slo()
    if slo is None:
        slo = _slo.evaluate(objectives if objectives is not None else _slo.default_objectives(), doc)
    missing = _run_missing(doc, current, slo, in_progress)
    for name, host in only_before:
        missing.append({"what": "measurement %s on %s" % (name, host),
                        "why": "in the baseline, not in this run: nothing to compare"})
    measurements = []
    for item, key in zip(doc.get("records") or [], keys):
        measurements.append(_measurement(item, by_key.get(key) if current.get(key) is item else None))
    tasks = sorted((t for t in doc.get("tasks") or [] if isinstance(t.get("seconds"), (int, float))),
                   key=lambda t: -t["seconds"])[:SLOWEST_TASKS]

    def brief(entries):
        return [{"name": e["name"], "host": e["host"], "change_pct": e.get("change_pct"),
                 "reason": e.get("reason")} for e in entries[:LIST_CAP]]

    summary = {"baseline": baseline is not None, "matched": len(comparisons),
               "compared": sum(1 for e in comparisons if e["comparable"]),
               "not_comparable": brief([e for e in comparisons if not e["comparable"]]),
               "only_in_baseline": len(only_before), "only_in_run": len(only_run),
               "slower": brief([e for e in comparisons if e["verdict"] == "slower"]),
               "faster": brief([e for e in comparisons if e["verdict"] == "faster"]),
               "held": brief([e for e in comparisons if e["verdict"] == _comparisons.ENVIRONMENT_CHANGED]),
               "regressions": brief(_comparisons.regressions(comparisons)),
               "drift": design["drift"], "interleaved": design["interleaved"][:LIST_CAP],
               "sequential": design["sequential"][:LIST_CAP], "controls": design["controls"][:LIST_CAP]}
    slo_failed = [_text(o.get("name")) for o in slo if o.get("status") != "pass"]
    run = doc.get("run") or {}
    return {"title": _text(title), "generated_at": generated_at, "run": run, "inputs": inputs or {},
            "baseline_run": (baseline.get("run") or {}) if baseline is not None else None,
            "threshold": threshold, "min_samples": min_samples, "missing": missing, "notes": notes,
            "measurements": measurements, "comparisons": comparisons, "comparisons_summary": summary,
            "verdicts": verdicts, "slo": slo, "slo_failed": slo_failed,
            "slo_passed_pct": pct(len(slo) - len(slo_failed), len(slo)),
            "matrix": _probe_matrix(doc), "slowest_tasks": tasks, "hosts": doc.get("hosts") or {},
            "totals": doc.get("totals") or {}, "doc": doc}


def report_section(model):
    """The ``report`` section added to the merged document in results.json."""
    return {"title": model["title"], "generated_at": model["generated_at"], "inputs": model["inputs"],
            "threshold": model["threshold"], "min_samples": model["min_samples"],
            "baseline_run": model["baseline_run"], "slo": model["slo"], "slo_failed": model["slo_failed"],
            "comparisons": model["comparisons"], "comparisons_summary": model["comparisons_summary"],
            "verdicts": model["verdicts"], "missing": model["missing"], "notes": model["notes"],
            "index_entry": index_entry(model, "")}


def index_entry(model, directory):
    run = model["run"]
    return {"dir": directory, "run_id": _text(run.get("id")), "title": model["title"],
            "generated_at": model["generated_at"], "status": _text(run.get("status")),
            "started_at": _text(run.get("started_at")), "finished_at": run.get("finished_at"),
            "records": len(model["measurements"]), "slo_total": len(model["slo"]),
            "slo_failed": model["slo_failed"], "verdicts": model["verdicts"], "missing": len(model["missing"])}


# --------------------------------------------------------------------------- the whole report

def render(model, results_json):
    """{file name: text or a callable giving it} for a run directory."""
    return {
        "report.md": lambda: _report_formats.markdown(model),
        "report.html": lambda: _report_html.report_html(model),
        "measurements.csv": lambda: _report_formats.measurements_csv(model),
        "results.json": lambda: results_json,
        "junit.xml": lambda: _report_formats.junit(model),
        "metrics.prom": lambda: _report_formats.prometheus(model),
    }


FORMATS = (("md", "report.md"), ("html", "report.html"), ("csv", "measurements.csv"), ("json", "results.json"),
           ("junit", "junit.xml"), ("prom", "metrics.prom"))


def check_params(params):
    """``(threshold, min_samples)`` once every parameter is checked: nothing is read or written before."""
    threshold = params.get("threshold", 0.05)
    min_samples = params.get("min_samples", 6)
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) or not 0 <= threshold < 1:
        raise ReportError("threshold: %s is not a share between 0 and 1 (0.05 = 5%%)" % _shown_param(threshold))
    if isinstance(min_samples, bool) or not isinstance(min_samples, int) or min_samples < 1:
        raise ReportError("min_samples: %s must be an integer of at least 1" % _shown_param(min_samples))
    timeout = params.get("pushgateway_timeout", 10.0)
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not (math.isfinite(timeout) and timeout > 0):
        raise ReportError("pushgateway_timeout: %s must be a number of seconds above 0" % _shown_param(timeout))
    if params.get("pushgateway_url"):
        push_url(params["pushgateway_url"], "check")  # refuses a bad URL or one with credentials, showing no secret
    filter_plays({}, params.get("play_filter"))  # a bad regular expression is refused here
    try:
        _comparisons.check_untouched(params.get("untouched"))
        _comparisons.check_thresholds(params.get("regression_threshold"))
    except _comparisons.PlanError as exc:
        raise ReportError(str(exc))
    return float(threshold), min_samples


def baseline_paths(params):
    """The baseline results files: each item a path, a run id or ``latest`` among the reports in ``dest``."""
    items = params.get("baseline") or []
    if isinstance(items, str):
        items = [items]
    try:
        return [_comparisons.resolve_baseline(item, params.get("dest"), read_index, i) for i, item in enumerate(items)]
    except _comparisons.PlanError as exc:
        raise ReportError(str(exc))


def _shown_param(value):
    return repr(value) if isinstance(value, (int, float)) else "a %s" % type(value).__name__


@contextlib.contextmanager
def _no_cycle_collection():
    """Python's cyclic garbage collector paused (as it was before, after): a report allocates millions of
    objects and makes no reference cycles of its own, so each full collection of the collector (several per
    10,000-record report) walks every object of the documents to free nothing. Reference counting still frees
    everything; cycles made meanwhile are collected once the collector runs again.

    When it runs again, the objects alive then (the report's, kept in ``_KEPT``) are first frozen (``gc.freeze``:
    left out of every later collection), else the first allocation after the report would start a full
    collection walking all of them (about 0.07 s for 10,000 records). Only when nothing else froze objects
    before (``gc.get_freeze_count()`` is 0); the next report unfreezes them once its predecessor's objects are
    freed (``_thaw``)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            if not gc.get_freeze_count():
                gc.freeze()
                _FROZEN.append(True)
            gc.enable()


def _thaw():
    """Free the last report's objects (``_KEPT``) and unfreeze what its end froze (``_no_cycle_collection``)."""
    del _KEPT[:]
    if _FROZEN:
        del _FROZEN[:]
        gc.unfreeze()


# The documents and the model of the last report, kept until the next report starts (``generate``), and
# whether its end froze the objects alive then (``_no_cycle_collection``).
_KEPT = []
_FROZEN = []


def generate(params, environ, generated_at, check_mode=False):
    """Everything ``perf_report`` does; returns its result dict (``failed`` set) or raises ReportError.

    Every parameter is checked before any file is read or written. The cyclic garbage collector is
    paused meanwhile (``_no_cycle_collection``). The report's documents and model are not freed on
    return but kept (``_KEPT``) until the next report of this process starts: freeing a 10,000-record
    report's million objects one by one takes about 0.05 s, and the process that runs a playbook's
    task (an Ansible worker) ends with ``os._exit`` once the result is sent, which gives the memory
    back at once. A process that makes many reports holds at most one report's objects this way.
    """
    _thaw()
    with _no_cycle_collection():
        return _generate(params, environ, generated_at, check_mode)


def _load_inputs(params, paths, workers):
    """``(results, baseline files, baseline or None, early, document worker or None)``: ``_report_parallel.read_both``,
    errors in the order of one process (the results, the baseline's files, the baseline, the objectives); ``early``:
    (objectives, outcome or None) or None. Once the results are read, their ``_report_parallel.document_worker`` is
    started and entered in ``workers`` (an ExitStack; None in check mode: no worker); it evaluates the objectives
    (its ``outcome()``), so ``early``'s outcome is then None."""
    try:
        baseline_files, unresolved = baseline_paths(params), None
    except ReportError as exc:  # named after the results' own errors, as ever
        baseline_files, unresolved = None, exc
    started, loaded, refused = [], [], []

    def results():
        doc = filter_plays(load_documents(paths, "results"), params.get("play_filter"))
        if unresolved is not None:
            raise unresolved
        if workers is not None and doc and "report" not in doc:
            evaluate = None
            try:
                loaded.append(load_objectives(params.get("slo_file")))
                evaluate = functools.partial(_slo.evaluate, loaded[0], doc)
            except ReportError as exc:  # raised in its turn, after the baseline's errors
                refused.append(exc)
            worker = _report_parallel.document_worker(doc, dumps_results, evaluate)
            if worker is not None:
                started.append(workers.enter_context(worker))
        return doc

    def meanwhile(doc):
        records = doc.get("records") if isinstance(doc, dict) else None
        if isinstance(records, list) and len(records) >= _fast_stats.MIN_TOTAL:
            # a baseline large enough for a second process, results this large: the comparisons will use NumPy
            # (_fast_stats.available); imported here while the baseline is read, not after it
            _fast_stats.numpy_module()
        return objectives(doc)

    def objectives(doc):
        if refused:
            raise refused[0]
        found = loaded[0] if loaded else load_objectives(params.get("slo_file"))
        return found, None if started else _slo.evaluate(found, doc)
    doc, baseline, early = _report_parallel.read_both(results, baseline_files, load_documents, meanwhile,
                                                      sent_back=comparison_baseline)
    if early is None and (loaded or refused):  # no second process for the baseline: in turn, after it
        try:
            early = objectives(doc)
        except ReportError as exc:
            early = exc
    return doc, baseline_files, baseline, early, (started or [None])[0]


def _generate(params, environ, generated_at, check_mode):
    threshold, min_samples = check_params(params)
    paths = result_paths(params.get("results"), environ)
    with contextlib.ExitStack() as workers:  # each second process closed (killed unless its result was taken) on leaving
        doc, baseline_files, baseline, early, doc_worker = _load_inputs(params, paths, None if check_mode else workers)
        if isinstance(early, Exception):
            raise early
        objectives, slo = early or (load_objectives(params.get("slo_file")), None)
        results = params.get("results")
        in_progress = "callback" in ([results] if isinstance(results, str) else (results or []))
        model = build(doc, baseline, objectives, title=params.get("title") or "o2edge.perf report",
                      threshold=threshold, min_samples=min_samples, generated_at=generated_at, in_progress=in_progress,
                      inputs={"results": paths, "baseline": baseline_files, "slo_file": params.get("slo_file"),
                              "play_filter": params.get("play_filter")},
                      untouched=_comparisons.check_untouched(params.get("untouched")),
                      thresholds=_comparisons.check_thresholds(params.get("regression_threshold")),
                      slo=doc_worker.outcome if slo is None and doc_worker is not None else slo)
        dest = params["dest"]
        name = run_dir_name((doc.get("run") or {}).get("id"))
        section = report_section(model)
        worker = None if check_mode else workers.enter_context(
            _report_parallel.render_worker(model, render) or contextlib.nullcontext())
        files = render(model, results_json(doc, section, doc_worker))
        if worker is None:  # else rendered by the worker, taken with its other files
            files["metrics.prom"] = files["metrics.prom"]()
        report_dir = os.path.join(dest, name)
        if not check_mode:
            try:
                report_dir = write_run(dest, name, _report_parallel.rendered(files, worker))
                update_index(dest, index_entry(model, os.path.basename(report_dir)))
            except OSError as exc:
                raise ReportError("dest: cannot write the report in %s: %s" % (dest, exc.strerror or exc))
    result = {"changed": True, "failed": False, "slo": model["slo"], "slo_failed": model["slo_failed"],
              "comparisons": model["comparisons_summary"], "verdicts": model["verdicts"],
              "missing": model["missing"]}
    metrics = files["metrics.prom"]
    result.update(report_dir=report_dir, results_file=os.path.join(report_dir, "results.json"),
                  files=dict((fmt, os.path.join(report_dir, fname)) for fmt, fname in FORMATS),
                  index=dict((fmt, os.path.join(dest, "index." + fmt)) for fmt in ("md", "html", "json")))
    if params.get("pushgateway_url") and not check_mode:
        instance = ((doc.get("run") or {}).get("controller") or {}).get("host") or params.get("instance")
        pushed = push(params["pushgateway_url"], instance, metrics, params.get("pushgateway_timeout", 10.0))
        result["pushgateway"] = pushed
        if not pushed["ok"]:
            result.setdefault("warnings", []).append("pushgateway: PUT %s failed: %s" % (pushed["url"], pushed["error"]))
            if params.get("pushgateway_required"):
                result.update(failed=True, msg="pushgateway: PUT %s failed: %s (the report was written to %s)"
                              % (pushed["url"], pushed["error"], report_dir))
    if params.get("fail_on_slo") and model["slo_failed"] and not result["failed"]:
        reasons = ["%s (%s)" % (o.get("name"), o.get("reason")) for o in model["slo"] if o.get("status") != "pass"]
        result.update(failed=True, msg="%d of %d objectives failed: %s (report: %s)" % (
            len(reasons), len(model["slo"]), "; ".join(reasons), report_dir))
    slower = _comparisons.regressions(model["comparisons"])
    if params.get("fail_on_regression") and not result["failed"]:
        if baseline is None:
            result.update(failed=True, msg="fail_on_regression: no baseline was given, so nothing was compared "
                                           "(report: %s)" % report_dir)
        elif slower:
            result.update(failed=True, msg="%d regression%s against the baseline: %s (report: %s)" % (
                len(slower), "" if len(slower) == 1 else "s",
                "; ".join("%s on %s: %s" % (e["name"], e["host"], e["reason"]) for e in slower[:20]), report_dir))
    lost = [m["what"] for m in model["missing"] if m["what"].startswith("slice ")]
    if params.get("fail_on_slo") and lost and not result["failed"]:
        # objectives evaluated without a whole slice of the inventory prove nothing about it
        result.update(failed=True, msg="%d slice(s) missing, the objectives cover only part of the inventory: %s (report: %s)"
                      % (len(lost), "; ".join(lost), report_dir))
    if not result["failed"]:
        result["msg"] = "report written to %s" % report_dir if not check_mode else \
            "report would be written to %s" % report_dir
    _KEPT.extend((doc, baseline, model, files))
    return result
