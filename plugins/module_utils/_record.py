# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The one measurement record shape shared by every measuring module (docs/statistics.md).

::

    name: kpt_render/edge1-config      # stable id, used to match before/after
    component: kpt_render              # kpt_render | git | command | prometheus_query | file_io | system
    unit: s                            # s, MB/s, % ...
    samples: [0.212, 0.208]            # every successful counted run, in order
    warmup: 1                          # warm-up runs done before the counted ones
    failures: 0                        # counted runs that failed
    errors: []                         # one entry per failed run (counted or warm-up)
    stats: {min, median, mean, p95, max, stdev, mad, outliers, slow_first_run}
    context: {host, started_at, command or query, versions, ...}

``failures`` counts failed *counted* runs only; ``errors`` also keeps failed warm-up runs
(marked ``phase: warmup``) so that nothing is dropped silently. Figures that could not be
measured are ``None`` in ``stats``, never invented. A sample that is not a finite number
(None, NaN, a bool, a string) is refused with an error naming the record and the index.
"""

from __future__ import annotations

import datetime
import math
import platform
import re
import socket
import sys

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key
from ansible_collections.o2edge.perf.plugins.module_utils._stats import STAT_KEYS, summarize

# An unexpected key read from a file is named only when it has this shape (and is not secret-named).
_KEY_SHOWN_RE = re.compile(r"[A-Za-z0-9_.-]{1,63}\Z")
RECORD_KEYS = ("name", "component", "unit", "samples", "warmup", "failures", "errors", "stats", "context")
ERROR_TAIL = 2000


def utc_now():
    """ISO 8601 UTC timestamp with a ``Z`` suffix, second precision plus milliseconds."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (now.microsecond // 1000)


def slug(text, default="unnamed"):
    """A stable, readable id fragment: ``git status --short`` -> ``git-status--short``."""
    text = re.sub(r"[^A-Za-z0-9._/@:-]+", "-", str(text).strip())
    text = re.sub(r"-{2,}", "-", text).strip("-/")
    return text[:120] or default


def tail(text, limit=ERROR_TAIL):
    """The last ``limit`` characters of a (possibly bytes) message, decoded and stripped."""
    if text is None:
        return ""
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    text = text.strip()
    if len(text) > limit:
        return "..." + text[-limit:]
    return text


def base_context(started_at=None, versions=None, **extra):
    """``context`` with host, started_at and versions (python always included)."""
    context = {
        "host": socket.gethostname(),
        "started_at": started_at or utc_now(),
        "versions": {"python": platform.python_version()},
    }
    if versions:
        context["versions"].update(dict((k, v) for k, v in versions.items() if v is not None))
    context.update(extra)
    return context


def _sample(name, index, value, digits):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError("record %s: samples[%d] is %r, not a number" % (name, index, value))
    if math.isnan(value) or math.isinf(value):
        raise ValueError("record %s: samples[%d] is %r, not a finite number" % (name, index, value))
    return round(float(value), digits)


def make_record(name, component, unit, samples, warmup=0, failures=0, errors=None, context=None, digits=6):
    """Build a record; ``stats`` is computed from ``samples``.

    Raises ValueError for an empty name, TypeError when ``samples`` is not a list of numbers
    (the message names the index: ``samples[2] is None, not a number``), ValueError for a NaN
    or infinite sample.
    """
    if not name or not isinstance(name, str):
        raise ValueError("record name must be a non-empty string, got %r" % (name,))
    if not isinstance(samples, (list, tuple)):
        raise TypeError("record %s: samples must be a list of numbers, got %r" % (name, samples))
    samples = [_sample(name, i, s, digits) for i, s in enumerate(samples)]
    return {
        "name": name,
        "component": component,
        "unit": unit,
        "samples": samples,
        "warmup": int(warmup),
        "failures": int(failures),
        "errors": list(errors or []),
        "stats": summarize(samples, digits=digits),
        "context": context if context is not None else base_context(),
    }


_FLOAT_MAX = sys.float_info.max


def _finite(value):
    """A number a float holds: an int beyond the float range is not (math.isfinite would raise OverflowError)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if isinstance(value, int):
        return -_FLOAT_MAX <= value <= _FLOAT_MAX  # int and float compare exactly, without converting
    return math.isfinite(value)


def validate_record(record):
    """Return a list of problems with ``record`` (empty when it has the one shape)."""
    problems = []
    if not isinstance(record, dict):
        return ["record is not a mapping"]
    for key in RECORD_KEYS:
        if key not in record:
            problems.append("missing key %s" % key)
    extra = sorted(set(record) - set(RECORD_KEYS), key=str)
    if extra:
        named = [k for k in extra if isinstance(k, str) and _KEY_SHOWN_RE.match(k) and not is_secret_key(k)]
        problems.append("unexpected keys %s" % ", ".join(named + (["%d more not shown" % (len(extra) - len(named))]
                                                                  if len(extra) > len(named) else [])))
    if problems:
        return problems
    if not isinstance(record["name"], str) or not record["name"]:
        problems.append("name must be a non-empty string")
    if not isinstance(record["samples"], list):
        problems.append("samples must be a list of numbers")
    else:
        for index, value in enumerate(record["samples"]):
            if not _finite(value):
                problems.append("samples[%d] is not a finite number" % index)
                break
    for key in ("warmup", "failures"):
        if not isinstance(record[key], int) or isinstance(record[key], bool) or record[key] < 0:
            problems.append("%s must be a non-negative integer" % key)
    if not isinstance(record["errors"], list):
        problems.append("errors must be a list")
    stats = record["stats"]
    if not isinstance(stats, dict):
        problems.append("stats must be a mapping")
    else:
        for key in STAT_KEYS:
            if key not in stats:
                problems.append("stats lacks %s" % key)
            elif stats[key] is not None and not _finite(stats[key]):
                problems.append("stats.%s must be a finite number or None" % key)
    context = record["context"]
    if not isinstance(context, dict):
        problems.append("context must be a mapping")
    else:
        for key in ("host", "started_at", "versions"):
            if key not in context:
                problems.append("context lacks %s" % key)
    return problems
