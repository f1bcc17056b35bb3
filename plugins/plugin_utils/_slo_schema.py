# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SLO documents (the ``openslo/v1`` ``kind: SLO`` subset of docs/slo.md) checked field by field.

``validate_documents(docs)`` turns loaded documents into one plain dict per objective, or raises
``SloError`` listing every problem as ``document N (SLO name): field.path: message``.

Messages never quote the file: a key outside the subset is named by its position (``spec.(key 3)``)
unless it is a short identifier that does not look like a secret; a value is described by its
kind (``a string of 52 characters``) unless it is a short identifier (``_short``). A file that is
not an SLO file at all (``/etc/shadow`` through a symlink) thus yields field paths and kinds only.
"""

from __future__ import annotations

import math
import re

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key, secret_value_reason
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import shape_problem
from ansible_collections.o2edge.perf.plugins.plugin_utils._slo_select import HAS_JMESPATH, check_select

API_VERSION = "openslo/v1"
SOURCE_TYPE = "o2edge.perf"
STATISTICS = ("median", "p95", "max", "mean", "success_ratio")
LATENCY_STATISTICS = ("median", "p95", "max", "mean")
OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
RATIO_UNIT = "ratio"
# Time units a latency objective and a record may be stated in; figures are converted.
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
# Bounds on the loaded documents (the YAML read uses the same ones).
MAX_DOCUMENTS = 200
MAX_DEPTH = 20
MAX_NODES = 50000

_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
# What may be quoted from the file: a key of this shape, a value of the shorter one (and neither secret-looking).
_SHOWN_KEY_RE = re.compile(r"[A-Za-z0-9_.-]{1,63}")
_SHOWN_VALUE_RE = re.compile(r"[A-Za-z0-9_./-]{1,24}")
# A unit is quoted in every verdict's reason: a short symbol only.
_UNIT_RE = re.compile(r"[A-Za-z0-9_./%-]{1,24}")

TOP_KEYS = ("apiVersion", "kind", "metadata", "spec")
METADATA_KEYS = ("name", "displayName")
SPEC_KEYS = ("description", "service", "budgetingMethod", "indicator", "objectives")
INDICATOR_KEYS = ("metadata", "spec")
INDICATOR_METADATA_KEYS = ("name", "displayName")
INDICATOR_SPEC_KEYS = ("thresholdMetric",)
THRESHOLD_METRIC_KEYS = ("metricSource",)
METRIC_SOURCE_KEYS = ("type", "spec")
SOURCE_SPEC_KEYS = ("select", "statistic", "unit")
OBJECTIVE_KEYS = ("displayName", "op", "value", "target")


class SloError(ValueError):
    """Invalid objectives; ``errors`` lists every problem (``document N: path: message``)."""

    def __init__(self, errors):
        self.errors = list(errors)
        shown = self.errors[:20]
        text = "invalid SLO objectives: %s" % "; ".join(shown)
        if len(self.errors) > len(shown):
            text += "; and %d more" % (len(self.errors) - len(shown))
        super(SloError, self).__init__(text)


# --------------------------------------------------------------------------- what a message may show

def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def _token_like(text):
    # a long run of letters and digits is how API keys look; _secrets cannot tell them by shape alone
    return len(text) >= 20 and sum(c.isdigit() for c in text) >= 4 and any(c.isalpha() for c in text)


def _shown(text, pattern):
    return (pattern.fullmatch(text) is not None and not is_secret_key(text) and not secret_value_reason(text)
            and not _token_like(text))


def _short(value):
    """A value for a message: numbers, booleans and null as they are, a short identifier quoted, else its kind."""
    if isinstance(value, str):
        if _shown(value, _SHOWN_VALUE_RE):
            return repr(value)
        return "a string of %d characters (not shown)" % len(value)
    if value is None or isinstance(value, bool) or (isinstance(value, int) and -10 ** 15 < value < 10 ** 15):
        return repr(value)
    if isinstance(value, float):
        return "%.6g" % value
    return _kind(value)


def _key(path, key, position):
    """The field path of ``key``, the ``position``-th key (from 1) of the mapping at ``path``."""
    name = key if isinstance(key, str) and _shown(key, _SHOWN_KEY_RE) else "(key %d)" % position
    return "%s.%s" % (path, name) if path else name


def _number(value):
    # a finite float, or an int a float holds exactly (float() of an int over 1e308 raises OverflowError)
    if isinstance(value, bool):
        return False
    return (isinstance(value, int) and -2 ** 53 <= value <= 2 ** 53) or (isinstance(value, float) and math.isfinite(value))


# --------------------------------------------------------------------------- validation

class _Doc(object):
    """Collects the problems of one document, each prefixed with its index and field path."""

    def __init__(self, index, errors):
        self.index = index
        self.errors = errors
        self.slo = None

    def err(self, path, message):
        where = "document %d" % self.index
        if self.slo:
            where += " (SLO %s)" % self.slo
        self.errors.append("%s: %s: %s" % (where, path or "(the document)", message))

    def mapping(self, value, path, allowed, required=()):
        if not isinstance(value, dict):
            self.err(path, "must be a mapping, got %s" % _kind(value))
            return None
        for position, key in enumerate(value, 1):
            if key not in allowed:
                self.err(_key(path, key, position), "unknown field (allowed: %s)" % ", ".join(allowed))
        for key in required:
            if key not in value:
                self.err("%s.%s" % (path, key) if path else key, "is required")
        return value

    def string(self, value, path, pattern=None, what="a string"):
        if not isinstance(value, str) or not value.strip():
            self.err(path, "must be a non-empty string, got %s" % _short(value))
            return None
        if pattern is not None and not pattern.fullmatch(value):
            self.err(path, "must be %s, got %s" % (what, _short(value)))
            return None
        return value

    def choice(self, value, path, choices):
        if value not in choices or not isinstance(value, str):
            self.err(path, "must be one of %s, got %s" % (", ".join(choices), _short(value)))
            return None
        return value


def _indicator(check, spec):
    """``(metric source spec, indicator name)`` of ``spec.indicator``, problems reported to ``check``."""
    source = {}
    indicator_name = None
    indicator = check.mapping(spec["indicator"], "spec.indicator", INDICATOR_KEYS, INDICATOR_KEYS) or {}
    imeta = check.mapping(indicator.get("metadata"), "spec.indicator.metadata", INDICATOR_METADATA_KEYS,
                          ("name",)) if "metadata" in indicator else None
    if imeta and "name" in imeta:
        indicator_name = check.string(imeta["name"], "spec.indicator.metadata.name", _NAME_RE,
                                      "lower-case letters, digits and '-', at most 63")
    if imeta and imeta.get("displayName") is not None:
        check.string(imeta["displayName"], "spec.indicator.metadata.displayName")
    ispec = check.mapping(indicator.get("spec"), "spec.indicator.spec", INDICATOR_SPEC_KEYS,
                          INDICATOR_SPEC_KEYS) if "spec" in indicator else None
    base = "spec.indicator.spec.thresholdMetric"
    metric = check.mapping(ispec["thresholdMetric"], base, THRESHOLD_METRIC_KEYS,
                           THRESHOLD_METRIC_KEYS) if ispec and "thresholdMetric" in ispec else None
    msrc = check.mapping(metric["metricSource"], base + ".metricSource", METRIC_SOURCE_KEYS,
                         METRIC_SOURCE_KEYS) if metric and "metricSource" in metric else None
    if msrc and "type" in msrc:
        check.choice(msrc["type"], base + ".metricSource.type", (SOURCE_TYPE,))
    if msrc and "spec" in msrc:
        source = check.mapping(msrc["spec"], base + ".metricSource.spec", SOURCE_SPEC_KEYS,
                               ("select", "statistic")) or {}
    spath = base + ".metricSource.spec"
    if "select" in source and check.string(source["select"], spath + ".select") is not None:
        if not HAS_JMESPATH:
            check.err(spath + ".select", "jmespath is needed to check the selection (pip install jmespath)")
        else:
            problem = check_select(source["select"])
            if problem:
                check.err(spath + ".select", problem)
    if "statistic" in source:
        check.choice(source["statistic"], spath + ".statistic", STATISTICS)
    if "unit" in source:
        check.string(source["unit"], spath + ".unit", _UNIT_RE, "a unit symbol (letters, digits, _ . / % -, at most 24)")
    return source, indicator_name


def _objective(check, obj, path, statistic):
    """The target of one entry of spec.objectives (problems reported to ``check``)."""
    if obj.get("displayName") is not None:
        check.string(obj["displayName"], path + ".displayName")
    target = obj.get("target", 1.0 if statistic != "success_ratio" else None)
    if target is None:
        check.err(path + ".target", "is required with statistic success_ratio (the least share of successes)")
    elif not _number(target) or not 0 < target <= 1:
        check.err(path + ".target", "must be a number in (0, 1], got %s" % _short(target))
    if statistic == "success_ratio":
        for key in ("op", "value"):
            if key in obj:
                check.err("%s.%s" % (path, key), "is not used with statistic success_ratio (target is the least "
                          "share of successful runs and probes); remove it")
    elif statistic in LATENCY_STATISTICS:
        for key in ("op", "value"):
            if key not in obj:
                check.err("%s.%s" % (path, key), "is required with statistic %s" % statistic)
        if "op" in obj:
            check.choice(obj["op"], path + ".op", tuple(OPS))
        if "value" in obj and not _number(obj["value"]):
            check.err(path + ".value", "must be a finite number, got %s" % _short(obj["value"]))
    return target


def _validate(doc, index, errors):
    """One objective dict per objective of the SLO document ``doc`` (problems appended to ``errors``)."""
    check = _Doc(index, errors)
    if check.mapping(doc, "", TOP_KEYS, TOP_KEYS) is None:
        return []
    if doc.get("apiVersion") != API_VERSION:
        check.err("apiVersion", "must be %s, got %s" % (API_VERSION, _short(doc.get("apiVersion"))))
    if doc.get("kind") != "SLO":
        check.err("kind", "must be SLO (only SLO documents are supported), got %s" % _short(doc.get("kind")))
    meta = check.mapping(doc.get("metadata"), "metadata", METADATA_KEYS, ("name",)) or {}
    name = None
    if "name" in meta:
        name = check.string(meta["name"], "metadata.name", _NAME_RE,
                            "lower-case letters, digits and '-', at most 63, starting and ending alphanumeric")
        check.slo = name
    display = meta.get("displayName")
    if display is not None:
        check.string(display, "metadata.displayName")
    spec = check.mapping(doc.get("spec"), "spec", SPEC_KEYS, ("service", "budgetingMethod", "indicator", "objectives")) or {}
    if spec.get("description") is not None:
        check.string(spec["description"], "spec.description")
    if "service" in spec:
        check.string(spec["service"], "spec.service")
    if "budgetingMethod" in spec:
        check.choice(spec["budgetingMethod"], "spec.budgetingMethod", ("Occurrences",))
    source, indicator_name = _indicator(check, spec) if "indicator" in spec else ({}, None)
    statistic = source.get("statistic")
    unit = source.get("unit")
    if statistic in LATENCY_STATISTICS and "unit" not in source:
        check.err("spec.indicator.spec.thresholdMetric.metricSource.spec.unit",
                  "is required with statistic %s (the unit of value)" % statistic)
    if statistic == "success_ratio" and unit not in (None, RATIO_UNIT):
        check.err("spec.indicator.spec.thresholdMetric.metricSource.spec.unit",
                  "must be %s (or absent) with statistic success_ratio, got %s" % (RATIO_UNIT, _short(unit)))
    objectives = spec.get("objectives")
    if "objectives" in spec and (not isinstance(objectives, list) or not objectives):
        check.err("spec.objectives", "must be a non-empty list, got %s" % _short(objectives))
        objectives = []
    result = []
    for i, obj in enumerate(objectives or []):
        path = "spec.objectives[%d]" % i
        if check.mapping(obj, path, OBJECTIVE_KEYS) is None:
            continue
        target = _objective(check, obj, path, statistic)
        result.append({
            "name": name if len(objectives) == 1 else "%s#%d" % (name, i),
            "slo": name,
            "display_name": display or name,
            "objective": obj.get("displayName"),
            "description": spec.get("description") or "",
            "service": spec.get("service"),
            "indicator": indicator_name,
            "select": source.get("select"),
            "statistic": statistic,
            "unit": RATIO_UNIT if statistic == "success_ratio" else unit,
            "op": "gte" if statistic == "success_ratio" else obj.get("op"),
            "value": obj.get("value"),
            "target": float(target) if _number(target) else target,
            "document": index,
        })
    return result


def validate_documents(docs):
    """Objectives from loaded SLO documents (list of mappings; None entries are empty documents)."""
    if isinstance(docs, dict):
        docs = [docs]
    if not isinstance(docs, list):
        raise SloError(["the objectives must be a list of SLO documents, got %s" % _kind(docs)])
    if shape_problem(docs, max_depth=MAX_DEPTH + 1, max_values=MAX_NODES):
        # said without the path, which may name a key of the data
        raise SloError(["the documents nest deeper than %d levels, refer to themselves or hold more than %d values"
                        % (MAX_DEPTH, MAX_NODES)])
    errors = []
    objectives = []
    names = {}
    for index, doc in enumerate(docs, 1):
        if doc is None:
            continue
        found = _validate(doc, index, errors)
        for objective in found:
            slo = objective["slo"]
            if slo is not None and slo in names and names[slo] != index:
                errors.append("document %d: metadata.name: SLO %s is already defined by document %d"
                              % (index, slo, names[slo]))
            elif slo is not None:
                names[slo] = index
        objectives.extend(found)
    if not objectives and not errors:
        errors.append("no SLO document found")
    if errors:
        raise SloError(errors)
    return objectives
