# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Service level objectives (an ``openslo/v1`` ``kind: SLO`` subset) checked against a results document.

The schema, the statistics and the meaning of ``target`` are documented in docs/slo.md; in short:

* ``load_objectives(text_or_path)`` reads one or more YAML documents (or already loaded
  mappings), refuses anything outside the subset (``SloError`` naming the document, counted
  from 1, and the field path) and returns one plain dict per objective.
* ``evaluate(objectives, results_doc)`` selects, with the objective's JMESPath, records and
  probe results of an ``o2edge.perf/results/v1`` document and returns one verdict per
  objective. A selection that yields nothing, a record without figures, a unit that does not
  match: the objective FAILS with the reason; nothing passes for lack of data.
* Latency statistics (``median``, ``p95``, ``max``, ``mean``) take that figure from each
  selected record's ``stats``; each record is an occurrence, good when ``figure op value``;
  the objective passes when at least ``target`` (default 1: every one) of the records are good.
  ``value`` reported is the deciding record's figure (with target 1, the worst record: the
  largest for ``lt``/``lte``, the smallest for ``gt``/``gte``).
* ``success_ratio``: each counted run of a record (``samples`` succeeded, ``failures`` failed)
  and each probe (``ok``) is an occurrence; the value is good / all and passes when it is at
  least ``target``. ``op`` and ``value`` are not used (and refused) there.

Bounds on YAML (untrusted input): safe loader, at most MAX_BYTES bytes, MAX_DOCUMENTS documents,
MAX_DEPTH levels of nesting, MAX_ALIASES alias uses and MAX_NODES nodes counting what aliases
repeat; checked on the event stream before anything is built.
"""

from __future__ import annotations

import math
import numbers
import os
import re
import stat

from ansible_collections.o2edge.perf.plugins.module_utils._edge_sites import shape_error

try:
    import yaml
    HAS_YAML = True
    _Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover - reported when used
    yaml = None
    HAS_YAML = False

try:
    import jmespath
    from jmespath.exceptions import JMESPathError
    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - reported when used
    jmespath = None
    JMESPathError = ValueError
    HAS_JMESPATH = False

API_VERSION = "openslo/v1"
SOURCE_TYPE = "o2edge.perf"
STATISTICS = ("median", "p95", "max", "mean", "success_ratio")
LATENCY_STATISTICS = ("median", "p95", "max", "mean")
OPS = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}
RATIO_UNIT = "ratio"
# Time units a latency objective and a record may be stated in; figures are converted.
TIME_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
DEFAULT_FILE = os.path.join("playbooks", "files", "slos.yml")
# Bounds on the YAML read (untrusted input).
MAX_BYTES = 1024 * 1024
MAX_DOCUMENTS = 200
MAX_DEPTH = 20
MAX_ALIASES = 20
MAX_NODES = 50000
# A deciding occurrence count of ceil(target * n) tolerates float noise (0.995 * 200 = 199.00000000000003).
_COUNT_EPSILON = 1e-9

_NAME_RE = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")

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


# --------------------------------------------------------------------------- bounded YAML

def _check_events(text):
    """Walk the YAML event stream; raise SloError when it exceeds a bound. Nothing is built."""
    loader = _Loader(text)
    try:
        documents = depth = nodes = aliases = 0
        sizes = {}
        open_nodes = []
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                sizes = {}
                if documents > MAX_DOCUMENTS:
                    raise SloError(["more than %d YAML documents; not read" % MAX_DOCUMENTS])
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                nodes += 1
                depth += 1
                if depth > MAX_DEPTH:
                    raise SloError(["document %d: nests deeper than %d levels; not read" % (documents, MAX_DEPTH)])
                open_nodes.append((event.anchor, nodes - 1))
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                depth -= 1
                anchor, start = open_nodes.pop()
                if anchor:
                    sizes[anchor] = nodes - start
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if aliases > MAX_ALIASES:
                    raise SloError(["document %d: more than %d YAML aliases; not read" % (documents, MAX_ALIASES)])
                if event.anchor not in sizes:
                    raise SloError(["document %d: alias *%s is used inside its own anchor or before it; not read"
                                    % (documents, event.anchor)])
                nodes += sizes[event.anchor]
            if nodes > MAX_NODES:
                raise SloError(["document %d: more than %d YAML nodes (aliases counted each time used); not read"
                                % (documents, MAX_NODES)])
    except yaml.YAMLError as exc:
        raise SloError(["not valid YAML: %s" % str(exc).replace("\n", " ")])
    finally:
        loader.dispose()


def parse_yaml(text):
    """The YAML documents of ``text`` as a list (empty documents kept as None), bounded."""
    if not HAS_YAML:
        raise SloError(["PyYAML is needed to read SLO objectives (pip install PyYAML)"])
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise SloError(["not UTF-8 text (at byte offset %d)" % exc.start])
    if len(text.encode("utf-8")) > MAX_BYTES:
        raise SloError(["the YAML text is over %d bytes; not read" % MAX_BYTES])
    _check_events(text)
    try:
        return list(yaml.load_all(text, Loader=_Loader))
    except yaml.YAMLError as exc:
        raise SloError(["not valid YAML: %s" % str(exc).replace("\n", " ")])


def read_file(path):
    """The documents of the YAML file at ``path`` (regular file, at most MAX_BYTES bytes)."""
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise SloError(["%s: not a regular file" % path])
        if info.st_size > MAX_BYTES:
            raise SloError(["%s: %d bytes, over the limit of %d; not read" % (path, info.st_size, MAX_BYTES)])
        with open(path, "rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SloError(["%s: cannot be read: %s" % (path, exc.strerror)])
    if len(data) > MAX_BYTES:
        raise SloError(["%s: over the limit of %d bytes; not read" % (path, MAX_BYTES)])
    try:
        return parse_yaml(data)
    except SloError as exc:
        raise SloError(["%s: %s" % (path, e) for e in exc.errors])


# --------------------------------------------------------------------------- validation

def _kind(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    return {dict: "a mapping", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def _short(value):
    text = repr(value) if isinstance(value, (str, int, float, bool)) or value is None else _kind(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _number(value):
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)


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
        self.errors.append("%s: %s: %s" % (where, path, message))

    def mapping(self, value, path, allowed, required=()):
        if not isinstance(value, dict):
            self.err(path, "must be a mapping, got %s" % _kind(value))
            return None
        for key in value:
            if key not in allowed:
                self.err("%s.%s" % (path, key) if path else str(key),
                         "unknown field (allowed: %s)" % ", ".join(allowed))
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
    source = {}
    indicator_name = None
    if "indicator" in spec:
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
                try:
                    jmespath.compile(source["select"])
                except JMESPathError as exc:
                    check.err(spath + ".select", "not a valid JMESPath expression (%s)" % " ".join(str(exc).split()))
        if "statistic" in source:
            check.choice(source["statistic"], spath + ".statistic", STATISTICS)
        if "unit" in source:
            check.string(source["unit"], spath + ".unit")
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
    problem = shape_error(docs, max_depth=MAX_DEPTH + 1, max_values=MAX_NODES)
    if problem:
        raise SloError([problem])
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


def load_objectives(text_or_path):
    """Objectives from YAML text (holding a newline), a file path, or loaded documents (list/dict).

    Raises SloError naming the document (counted from 1) and the field of every problem.
    """
    if isinstance(text_or_path, (list, dict)):
        return validate_documents(text_or_path)
    if isinstance(text_or_path, bytes):
        return validate_documents(parse_yaml(text_or_path))
    if not isinstance(text_or_path, str) or not text_or_path.strip():
        raise SloError(["objectives must be YAML text, a file path or a list of SLO documents, got %s"
                        % _short(text_or_path)])
    if "\n" in text_or_path:
        return validate_documents(parse_yaml(text_or_path))
    return validate_documents(read_file(text_or_path))


def default_objectives():
    """The shipped objectives, ``<collection root>/playbooks/files/slos.yml``."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return load_objectives(os.path.join(root, DEFAULT_FILE))


# --------------------------------------------------------------------------- evaluation

class _NotFast(Exception):
    """The compiled selection meets a case it does not reproduce: jmespath's own interpreter decides."""


def _jp_false(value):
    # JMESPath falsiness, as jmespath's TreeInterpreter._is_false states it (0 is true)
    return value == '' or value == [] or value == {} or value is None or value is False


def _jp_number(value):
    return not isinstance(value, bool) and isinstance(value, numbers.Number)


def _jp_equals(x, y):
    # jmespath's _equals: 0 and 1 never equal False and True
    if _jp_number(x) and x in (0, 1) and isinstance(y, bool):
        return False
    if _jp_number(y) and y in (0, 1) and isinstance(x, bool):
        return False
    return x == y


def _jp_string_function(method):
    def call(args):
        subject, search = args
        if type(subject) is not str or type(search) is not str:  # pylint: disable=unidiomatic-typecheck
            raise _NotFast()  # jmespath raises its type error with its own message
        return getattr(subject, method)(search)
    return call


def _jp_contains(args):
    subject, search = args
    if type(subject) not in (list, str):  # jmespath checks the type name: list or str
        raise _NotFast()
    return search in subject


_JP_STRING_METHODS = {"starts_with": str.startswith, "ends_with": str.endswith}
_JP_FUNCTIONS = {"starts_with": _jp_string_function("startswith"), "ends_with": _jp_string_function("endswith"),
                 "contains": _jp_contains}
_JP_NODES = frozenset(("field", "subexpression", "pipe", "literal", "current", "identity", "comparator", "and_expression",
                       "or_expression", "not_expression", "function_expression", "filter_projection", "projection",
                       "flatten", "multi_select_list"))
_JP_ORDER = {"lt": lambda x, y: x < y, "lte": lambda x, y: x <= y, "gt": lambda x, y: x > y, "gte": lambda x, y: x >= y}


def _jp_compile(node):
    """A Python function of the parsed JMESPath ``node`` giving what jmespath's TreeInterpreter gives.

    Covers what selections use (fields, sub-expressions, filters, projections, flatten,
    comparisons, and/or/not, literals, starts_with/ends_with/contains); anything else raises
    _NotFast at compile time, a function given another type raises it at run time, and the
    caller then evaluates with jmespath itself. Compiled once per expression: a filter over
    10,000 records does not walk the syntax tree 10,000 times.
    """
    kind = node["type"]
    if kind not in _JP_NODES:
        raise _NotFast()
    children = [_jp_compile(child) for child in node.get("children", ())] if kind != "literal" else []
    if kind == "field":
        name = node["value"]

        def field(value):
            try:
                return value.get(name)
            except AttributeError:
                return None
        return field
    if kind == "subexpression" and all(child["type"] == "field" for child in node["children"]):
        names = [child["value"] for child in node["children"]]

        def path(value):
            for name in names:
                try:
                    value = value.get(name)
                except AttributeError:
                    return None
            return value
        return path
    if kind in ("subexpression", "pipe"):
        def chain(value):
            for child in children:
                value = child(value)
            return value
        return chain
    if kind == "literal":
        constant = node["value"]
        return lambda value: constant
    if kind in ("current", "identity"):
        return lambda value: value
    if kind == "comparator":
        left, right = children
        op = node["value"]
        literal = node["children"][1]
        if op in ("eq", "ne") and literal["type"] == "literal" and isinstance(literal["value"], str):
            # a string never is a number nor a bool: jmespath's equality is Python's here
            constant = literal["value"]
            if op == "eq":
                return lambda value: left(value) == constant
            return lambda value: left(value) != constant
        if op == "eq":
            return lambda value: _jp_equals(left(value), right(value))
        if op == "ne":
            return lambda value: not _jp_equals(left(value), right(value))
        order = _JP_ORDER[op]

        def compare(value):
            x, y = left(value), right(value)
            if not ((_jp_number(x) or isinstance(x, str)) and (_jp_number(y) or isinstance(y, str))):
                return None
            return order(x, y)
        return compare
    if kind == "and_expression":
        # a && b && c parses as nested pairs: evaluated as one chain, the first false operand is the result
        operands = []
        pending = [node]
        while pending:
            current = pending.pop()
            if current["type"] == "and_expression":
                pending.extend(reversed(current["children"]))
            else:
                operands.append(_jp_compile(current))
        init, last = operands[:-1], operands[-1]

        def every(value):
            for operand in init:
                matched = operand(value)
                if _jp_false(matched):
                    return matched
            return last(value)
        return every
    if kind == "or_expression":
        first, second = children

        def either(value):
            matched = first(value)
            return second(value) if _jp_false(matched) else matched
        return either
    if kind == "not_expression":
        child = children[0]

        def negate(value):
            result = child(value)
            return False if _jp_number(result) and result == 0 else not result
        return negate
    if kind == "function_expression":
        function = _JP_FUNCTIONS.get(node["value"])
        if function is None or len(children) != 2:
            raise _NotFast()
        literal = node["children"][1]
        if node["value"] != "contains" and literal["type"] == "literal" and type(literal["value"]) is str:  # pylint: disable=unidiomatic-typecheck
            subject, method, constant = children[0], _JP_STRING_METHODS[node["value"]], literal["value"]

            def string_test(value):
                found = subject(value)
                if type(found) is not str:  # pylint: disable=unidiomatic-typecheck
                    raise _NotFast()
                return method(found, constant)
            return string_test
        first, second = children
        return lambda value: function([first(value), second(value)])
    if kind in ("filter_projection", "projection"):
        base, project = children[0], children[1]
        keep = children[2] if kind == "filter_projection" else None

        def projection(value):
            items = base(value)
            if not isinstance(items, list):
                return None
            out = []
            for element in items:
                if keep is None or not _jp_false(keep(element)):
                    current = project(element)
                    if current is not None:
                        out.append(current)
            return out
        return projection
    if kind == "flatten":
        child = children[0]

        def flatten(value):
            items = child(value)
            if not isinstance(items, list):
                return None
            out = []
            for element in items:
                if isinstance(element, list):
                    out.extend(element)
                else:
                    out.append(element)
            return out
        return flatten
    if kind == "multi_select_list":
        return lambda value: None if value is None else [child(value) for child in children]
    raise _NotFast()


_SELECT_CACHE = {}
_SELECT_CACHE_MAX = 256


def _selector(select):
    """``(fast function or None, jmespath's compiled expression)`` for ``select``, kept per expression."""
    found = _SELECT_CACHE.get(select)
    if found is None:
        parsed = jmespath.compile(select)
        try:
            fast = _jp_compile(parsed.parsed)
        except _NotFast:
            fast = None
        if len(_SELECT_CACHE) >= _SELECT_CACHE_MAX:
            _SELECT_CACHE.pop(next(iter(_SELECT_CACHE)))
        found = _SELECT_CACHE[select] = (fast, parsed)
    return found


def select_items(select, results_doc):
    """``jmespath.search(select, results_doc)``, through the compiled function when it covers the expression."""
    fast, parsed = _selector(select)
    if fast is not None:
        try:
            return fast(results_doc)
        except _NotFast:
            pass
    return parsed.search(results_doc)


def _item(entry):
    """``("record"|"probe", payload, label)`` for one selected item, or ``(None, None, why)``."""
    if isinstance(entry, dict):
        if isinstance(entry.get("record"), dict):
            rec = entry["record"]
            ctx = rec.get("context") if isinstance(rec.get("context"), dict) else {}
            host = entry.get("host") or ctx.get("host")
            return "record", rec, "%s%s" % (rec.get("name", "unnamed"), " on %s" % host if host else "")
        if isinstance(entry.get("result"), dict):
            res = entry["result"]
            host = entry.get("host")
            return "probe", res, "probe %s/%s%s" % (res.get("site"), res.get("service"), " from %s" % host if host else "")
        if "samples" in entry and "stats" in entry:
            ctx = entry.get("context") if isinstance(entry.get("context"), dict) else {}
            return "record", entry, "%s%s" % (entry.get("name", "unnamed"), " on %s" % ctx["host"] if ctx.get("host") else "")
        if "ok" in entry and "service" in entry:
            return "probe", entry, "probe %s/%s" % (entry.get("site"), entry.get("service"))
    return None, None, "%s, neither a record nor a probe result" % _kind(entry)


def _fmt(value):
    return "%.6g" % value


def _compares(figure, op, value):
    return {"lt": figure < value, "lte": figure <= value, "gt": figure > value, "gte": figure >= value}[op]


def _outcome(objective, value, status, reason, selected):
    return {
        "name": objective.get("name"), "display_name": objective.get("display_name"),
        "objective": objective.get("objective"),
        "description": objective.get("description", ""), "statistic": objective.get("statistic"),
        "op": objective.get("op"),
        "threshold": objective.get("target") if objective.get("statistic") == "success_ratio" else objective.get("value"),
        "target": objective.get("target"), "unit": objective.get("unit"),
        "value": value, "status": status, "reason": reason, "selected": selected,
    }


def _latency(objective, items):
    statistic, op, unit, threshold = objective["statistic"], objective["op"], objective["unit"], objective["value"]
    figures = []
    for kind, payload, label in items:
        if kind != "record":
            return None, "%s is a probe result; statistic %s needs records" % (label, statistic)
        stats = payload.get("stats")
        figure = stats.get(statistic) if isinstance(stats, dict) else None
        if not _number(figure):
            return None, "%s has no %s (stats.%s is %s: no successful run to measure)" % (
                label, statistic, statistic, _short(figure))
        rec_unit = payload.get("unit")
        if rec_unit != unit:
            if rec_unit in TIME_UNITS and unit in TIME_UNITS:
                figure = figure * TIME_UNITS[rec_unit] / TIME_UNITS[unit]
            else:
                return None, "%s is in %s, the objective in %s" % (label, _short(rec_unit), unit)
        figures.append((figure, label))
    # best first: ascending for an upper bound (lt, lte), descending for a lower bound (gt, gte)
    figures.sort(key=lambda pair: pair[0], reverse=op in ("gt", "gte"))
    needed = max(1, int(math.ceil(objective["target"] * len(figures) - _COUNT_EPSILON)))
    good = sum(1 for figure, dummy in figures if _compares(figure, op, threshold))
    figure, label = figures[needed - 1]
    worst_figure, worst_label = figures[-1]
    status = "pass" if _compares(figure, op, threshold) else "fail"
    reason = "%d of %d selected records have %s %s %s %s (%d needed, target %s%%); worst %s at %s %s" % (
        good, len(figures), statistic, OPS[op], _fmt(threshold), unit, needed, _fmt(objective["target"] * 100),
        worst_label, _fmt(worst_figure), unit)
    if needed < len(figures):
        reason += "; deciding record %s at %s %s" % (label, _fmt(figure), unit)
    return (figure, status), reason


def _success(objective, items):
    good = total = 0
    for kind, payload, label in items:
        if kind == "probe":
            total += 1
            good += 1 if payload.get("ok") is True else 0
            continue
        samples, failures = payload.get("samples"), payload.get("failures")
        if not isinstance(samples, list) or isinstance(failures, bool) or not isinstance(failures, int) or failures < 0:
            return None, "%s has no samples list and failures count" % label
        good += len(samples)
        total += len(samples) + failures
    if total == 0:
        return None, "the %d selected item%s hold no counted run or probe" % (len(items), "" if len(items) == 1 else "s")
    ratio = good / float(total)
    status = "pass" if ratio >= objective["target"] else "fail"
    return (ratio, status), "%d of %d runs and probes succeeded (%s%%, target at least %s%%)" % (
        good, total, _fmt(ratio * 100), _fmt(objective["target"] * 100))


def evaluate_one(objective, results_doc):
    """The outcome of one objective (see ``evaluate``)."""
    if not isinstance(results_doc, dict):
        return _outcome(objective, None, "fail", "the results document is %s, not a mapping" % _kind(results_doc), 0)
    select = objective.get("select")
    if not HAS_JMESPATH:
        return _outcome(objective, None, "fail", "jmespath is not installed (pip install jmespath)", 0)
    try:
        found = select_items(select, results_doc)
    except (JMESPathError, TypeError, ValueError) as exc:
        return _outcome(objective, None, "fail", "selection %s failed: %s" % (select, " ".join(str(exc).split())), 0)
    if found is None or found == []:
        return _outcome(objective, None, "fail", "no measurement matched the selection %s" % select, 0)
    if not isinstance(found, list):
        found = [found]
    items = [_item(entry) for entry in found]
    for index, (kind, dummy, label) in enumerate(items):
        if kind is None:
            return _outcome(objective, None, "fail", "selected item %d is %s" % (index, label), len(items))
    if objective.get("statistic") == "success_ratio":
        outcome, reason = _success(objective, items)
    elif objective.get("statistic") in LATENCY_STATISTICS:
        outcome, reason = _latency(objective, items)
    else:
        outcome, reason = None, "unknown statistic %s" % _short(objective.get("statistic"))
    if outcome is None:
        return _outcome(objective, None, "fail", reason, len(items))
    return _outcome(objective, outcome[0], outcome[1], reason, len(items))


def evaluate(objectives, results_doc):
    """Check every objective against an ``o2edge.perf/results/v1`` document.

    Returns a list of dicts: name, display_name, description, statistic, op, threshold (the
    objective's value; for success_ratio its target), target, unit, value (None when nothing
    could be measured), status (``pass`` or ``fail``), reason and selected (records and probe
    results the selection yielded). Missing data fails, never passes.
    """
    return [evaluate_one(objective, results_doc) for objective in objectives]
