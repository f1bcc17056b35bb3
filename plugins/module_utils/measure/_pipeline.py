# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A user-declared pipeline (stages run in order) timed end to end and stage by stage.

One *round* runs every stage once, in order, each through the collection's one timer
(:func:`_cmd_timer.run_once`). A stage that fails fails the round: the later stages of that round
are not run and are recorded as skipped. Rounds are driven by :func:`_cmd_timer.measure` like
every measurement (warm-up rounds, N counted rounds, ``prepare`` untimed before each round,
failures counted and kept).

The result is a list of records of the one record shape (docs/statistics.md):

* ``pipeline/<name>`` (component ``pipeline``): one sample per *complete* counted round, the
  sum of that round's stage times (the time the stages took; the harness's own work between
  two stages is not part of the pipeline). ``context`` carries ``stages`` (names in order),
  ``stage_share`` (per stage, the median over complete rounds of its share of the round) and
  ``critical_stage`` (the stage with the largest median time).
* ``pipeline/<name>/<stage>`` (component ``pipeline_stage``): one sample per counted round in
  which the stage succeeded; ``failures`` the counted rounds in which it failed;
  ``context.skipped_rounds`` the counted rounds in which it was not run.

The extra figures live in ``context`` because :func:`_record.validate_record` refuses keys
outside the record shape (the results callback would drop such a record).
"""

from __future__ import annotations

import math
import os
import re

from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import (
    CommandError, build_argv, child_env, command_from_params, measure, run_once)
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key, secret_value_reason
from ansible_collections.o2edge.perf.plugins.module_utils._stats import median

MAX_STAGES = 32
MAX_ENV = 64
NAME_RE = re.compile(r"[A-Za-z0-9_.-]{1,63}\Z")
STAGE_KEYS = ("name", "command", "shell", "cwd", "environment", "timeout")
SHARE_DIGITS = 4


class PipelineError(ValueError):
    """A pipeline definition that cannot be run; the message names the field."""


def _shown_key(key):
    """A key of the user's input as it may appear in a message (never a secret-looking one)."""
    if isinstance(key, str) and NAME_RE.match(key) and not is_secret_key(key) and not secret_value_reason(key):
        return key
    return "(a key not shown)"


def check_name(value, field):
    """``value`` when it is a short identifier (letters, digits, ``_.-``, 1 to 63), else PipelineError."""
    if not isinstance(value, str) or not NAME_RE.match(value):
        raise PipelineError("%s must be 1 to 63 letters, digits, '_', '.' or '-'" % field)
    return value


def _timeout(value, field, default):
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0 or math.isnan(value):
        raise PipelineError("%s must be a positive number of seconds" % field)
    return float(value)


def _environment(value, field):
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise PipelineError("%s must be a mapping of variable names to values" % field)
    if len(value) > MAX_ENV:
        raise PipelineError("%s has %d variables, at most %d" % (field, len(value), MAX_ENV))
    out = {}
    for key, item in value.items():
        if not isinstance(key, str) or not key or "=" in key or "\0" in key:
            raise PipelineError("%s has a variable name that is not a valid name" % field)
        if item is not None and not isinstance(item, (str, int, float, bool)):
            raise PipelineError("%s.%s must be a string, a number or null" % (field, _shown_key(key)))
        out[key] = item
    return out


def parse_stages(stages, chdir=None, environment=None, timeout=600.0):
    """The stages, checked and ready to run: a list of dicts with name, argv, shown, cwd, env, timeout.

    ``chdir``, ``environment`` and ``timeout`` are the defaults of every stage (a stage's own
    ``environment`` is added to the default one). Raises PipelineError naming ``stages[i]``
    and the field.
    """
    if not isinstance(stages, list) or not stages:
        raise PipelineError("stages must be a non-empty list of stages (name, command)")
    if len(stages) > MAX_STAGES:
        raise PipelineError("stages has %d stages, at most %d" % (len(stages), MAX_STAGES))
    base_env = _environment(environment, "environment")
    out, seen = [], set()
    for index, stage in enumerate(stages):
        where = "stages[%d]" % index
        if not isinstance(stage, dict):
            raise PipelineError("%s must be a mapping (name, command, ...), got %s" % (where, type(stage).__name__))
        unknown = sorted(set(_shown_key(k) for k in stage if k not in STAGE_KEYS))
        if unknown:
            raise PipelineError("%s has unknown keys %s (known: %s)" % (where, ", ".join(unknown), ", ".join(STAGE_KEYS)))
        name = check_name(stage.get("name"), where + ".name")
        if name in seen:
            raise PipelineError("%s.name %s is used by an earlier stage; stage names must be unique" % (where, name))
        seen.add(name)
        where = "%s (%s)" % (where, name)
        shell = stage.get("shell")
        if shell is None:
            shell = False
        if not isinstance(shell, bool):
            raise PipelineError("%s.shell must be true or false" % where)
        command = stage.get("command")
        if isinstance(command, str):
            params = {"cmd": command, "shell": shell}
        elif isinstance(command, list):
            if shell:
                raise PipelineError("%s.shell=true needs command as a string, not a list" % where)
            if not all(isinstance(a, (str, int, float)) and not isinstance(a, bool) for a in command):
                raise PipelineError("%s.command must be a list of strings" % where)
            params = {"argv": [str(a) for a in command]}
        else:
            raise PipelineError("%s.command must be a list of arguments or a string" % where)
        cwd = stage.get("cwd")
        if cwd is None:
            cwd = chdir
        elif not isinstance(cwd, str):
            raise PipelineError("%s.cwd must be a path" % where)
        if cwd is not None and not os.path.isdir(cwd):
            raise PipelineError("%s.cwd %s is not a directory" % (where, cwd))
        try:
            argv, shown = command_from_params(params)
        except CommandError as exc:
            raise PipelineError("%s.command: %s" % (where, exc))
        env = dict(base_env)
        env.update(_environment(stage.get("environment"), where + ".environment"))
        out.append({"name": name, "argv": argv, "shown": shown, "cwd": cwd, "shell": shell,
                    "env": child_env(env), "timeout": _timeout(stage.get("timeout"), where + ".timeout", timeout)})
    return out


def plan(stages, prepare=None):
    """What a run would execute (check mode): the stages in order and the prepare command."""
    return {"stages": [{"name": s["name"], "command": s["shown"], "argv": s["argv"], "cwd": s["cwd"],
                        "shell": s["shell"], "timeout": s["timeout"]} for s in stages],
            "prepare": prepare}


def run_round(stages, run=run_once):
    """Run every stage once, in order; stop at the first failure (later stages: skipped).

    Returns a dict for :func:`_cmd_timer.measure`: ``ok``, ``seconds`` (the sum of the stage times
    that ran), ``stages`` (one ``{stage, status, seconds}`` per stage: ok, failed or skipped) and,
    for a failed round, ``stage`` (the failed stage), ``error``, ``rc`` and ``stderr``.
    """
    result = {"ok": True, "seconds": 0.0, "stages": []}
    for stage in stages:
        if not result["ok"]:
            result["stages"].append({"stage": stage["name"], "status": "skipped", "seconds": None})
            continue
        res = run(stage["argv"], cwd=stage["cwd"], env=stage["env"], timeout=stage["timeout"])
        seconds = res.get("seconds")
        if seconds is not None:
            result["seconds"] += seconds
        if res.get("ok"):
            result["stages"].append({"stage": stage["name"], "status": "ok", "seconds": seconds})
            continue
        result["stages"].append({"stage": stage["name"], "status": "failed", "seconds": seconds})
        result.update(ok=False, stage=stage["name"], rc=res.get("rc"), stderr=res.get("stderr", ""),
                      error="stage %s failed: %s" % (stage["name"], res.get("error") or "unknown error"))
    return result


def _round_time(value):
    return None if value is None else round(value, 6)


def _stage_error(entry, stage_result):
    """The error entry of a stage record, from the error entry of the round it failed."""
    return {"phase": entry["phase"], "run": entry["run"], "rc": entry.get("rc"),
            "seconds": _round_time(stage_result.get("seconds")), "error": entry.get("error"),
            "stderr": entry.get("stderr", "")}


def bench_pipeline(name, stages, runs, warmup=0, prepare=None, prepare_cwd=None, prepare_env=None,
                   prepare_timeout=600.0, context=None, run=run_once):
    """Time the pipeline; returns the records (the pipeline's first, then one per stage).

    ``stages`` as returned by :func:`parse_stages`; ``prepare`` a shell command run untimed
    before every round (a failed prepare fails the round: no stage runs). ``context``: extra
    fields for every record's context.
    """
    check_name(name, "name")
    prepare_fn = None
    if prepare:
        prepare_argv = build_argv(prepare, True)
        env = child_env(prepare_env)

        def prepare_fn():
            res = run(prepare_argv, cwd=prepare_cwd, env=env, timeout=prepare_timeout)
            return None if res.get("ok") else res

    started = base_context()["started_at"]
    samples, failures, errors, results = measure(lambda: run_round(stages, run), runs, warmup, prepare_fn)

    names = [s["name"] for s in stages]
    per = dict((n, {"samples": [], "failures": 0, "errors": [], "skipped": []}) for n in names)
    complete = []
    for index, res in enumerate(results):
        outcome = res.get("stages")
        if outcome is None:  # prepare failed: no stage ran in this round
            for n in names:
                per[n]["skipped"].append(index)
            continue
        for item in outcome:
            if item["status"] == "ok":
                per[item["stage"]]["samples"].append(item["seconds"])
            elif item["status"] == "skipped":
                per[item["stage"]]["skipped"].append(index)
        if res.get("ok"):
            complete.append(dict((item["stage"], item["seconds"]) for item in outcome))
    round_errors = []
    for entry in errors:
        outcome = entry.pop("stages", None)
        if outcome is not None:
            failed = [item for item in outcome if item["status"] == "failed"][0]
            target = per[failed["stage"]]
            target["errors"].append(_stage_error(entry, failed))
            if entry["phase"] == "run":
                target["failures"] += 1
            entry["skipped"] = [item["stage"] for item in outcome if item["status"] == "skipped"]
        round_errors.append(entry)

    extra = dict(context or {})
    stage_records = []
    for position, stage in enumerate(stages):
        info = per[stage["name"]]
        ctx = base_context(started_at=started, pipeline=name, stage=stage["name"], position=position,
                           command=stage["shown"], cwd=stage["cwd"], shell=stage["shell"],
                           skipped_rounds=info["skipped"], **extra)
        stage_records.append(make_record("pipeline/%s/%s" % (name, stage["name"]), "pipeline_stage", "s",
                                         info["samples"], warmup=warmup, failures=info["failures"],
                                         errors=info["errors"], context=ctx))
    share = {}
    for stage_name in names:
        shares = [r[stage_name] / sum(r.values()) for r in complete if sum(r.values()) > 0]
        value = median(shares)
        share[stage_name] = None if value is None else round(value, SHARE_DIGITS)
    medians = [(r["stats"]["median"], r["context"]["stage"]) for r in stage_records if r["stats"]["median"] is not None]
    critical = max(medians, key=lambda m: m[0])[1] if medians else None
    ctx = base_context(started_at=started, pipeline=name, stages=names, stage_share=share, critical_stage=critical,
                       commands=dict((s["name"], s["shown"]) for s in stages), prepare=prepare or None,
                       complete_rounds=len(complete), **extra)
    total = make_record("pipeline/%s" % name, "pipeline", "s", samples, warmup=warmup, failures=failures,
                        errors=round_errors, context=ctx)
    return [total] + stage_records


def summary(records):
    """A one-line summary of the pipeline's records."""
    total = records[0]
    ctx = total["context"]
    median_s = total["stats"]["median"]
    parts = ["%s: median %s s over %d complete rounds, %d failed" % (
        total["name"], "n/a" if median_s is None else "%.6g" % median_s, len(total["samples"]), total["failures"])]
    if ctx.get("critical_stage"):
        share = ctx["stage_share"].get(ctx["critical_stage"])
        parts.append("critical stage %s%s" % (ctx["critical_stage"], "" if share is None else " (%.0f%%)" % (100 * share)))
    return "; ".join(parts)
