# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_slo_schema: tests written for the survivors of its mutation run (docs/mutation.md), each named for the
bug it catches. An SLO document the validator must refuse is checked against the whole list of problems
(``SloError.errors``: every message in full, the field named), one it must accept against the objective it
yields."""
from __future__ import annotations

import copy

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo, _slo_schema
from tests.unit.plugins.plugin_utils.test_slo import one, rec, results, slo_yaml

DOC = yaml.safe_load(slo_yaml())  # name lat, service svc, indicator ind, select records, median in s, {op: lt, value: 1}
SLO = "document 1 (SLO lat): "
SOURCE = "spec.indicator.spec.thresholdMetric.metricSource"
DROP = object()


def changed(**fields):
    """DOC with each ``path=value`` applied (path: the field path with "__" for "."; value DROP: delete it)."""
    doc = copy.deepcopy(DOC)
    for path, value in fields.items():
        keys = path.split("__")
        node = doc
        for key in keys[:-1]:
            node = node[key]
        if value is DROP:
            del node[keys[-1]]
        else:
            node[keys[-1]] = value
    return doc


def problems(*docs):
    """The problems the validator reports for ``docs`` (it must refuse them)."""
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(documents=list(docs))
    return err.value.errors


def only(*docs):
    """The one objective the validator yields for ``docs`` (it must accept them)."""
    objectives = _slo.load_objectives(documents=list(docs))
    assert len(objectives) == 1
    return objectives[0]


# --------------------------------------------------------------------------- each field named in its refusal

@pytest.mark.parametrize("fields,expected", [
    ({"spec__description": 5}, SLO + "spec.description: must be a non-empty string, got 5"),
    ({"spec__service": 5}, SLO + "spec.service: must be a non-empty string, got 5"),
    ({"metadata__displayName": 5}, SLO + "metadata.displayName: must be a non-empty string, got 5"),
    ({"spec__indicator__metadata__displayName": 5},
     SLO + "spec.indicator.metadata.displayName: must be a non-empty string, got 5"),
    ({"spec__objectives": [{"displayName": 5, "op": "lt", "value": 1}]},
     SLO + "spec.objectives[0].displayName: must be a non-empty string, got 5"),
    ({"spec__indicator": 5}, SLO + "spec.indicator: must be a mapping, got a number"),
    ({"spec__indicator__metadata": 5}, SLO + "spec.indicator.metadata: must be a mapping, got a number"),
    ({"spec__indicator__spec": 5}, SLO + "spec.indicator.spec: must be a mapping, got a number"),
    ({"spec__indicator__spec__thresholdMetric__metricSource": 5}, SLO + SOURCE + ": must be a mapping, got a number"),
    ({"spec__indicator__spec__thresholdMetric__metricSource__spec__select": 5},
     SLO + SOURCE + ".spec.select: must be a non-empty string, got 5"),
    ({"spec__indicator__metadata__name": "Ind_1"},
     SLO + "spec.indicator.metadata.name: must be lower-case letters, digits and '-', at most 63, got 'Ind_1'"),
    ({"metadata": 5}, "document 1: metadata: must be a mapping, got a number"),
    ({"spec__indicator__spec__thresholdMetric__metricSource__spec__statistic": "success_ratio",
      "spec__objectives": [{"target": 0.9}]},
     SLO + SOURCE + ".spec.unit: must be ratio (or absent) with statistic success_ratio, got 's'"),
], ids=["description", "service", "displayName", "indicator-displayName", "objective-displayName", "indicator",
        "indicator-metadata", "indicator-spec", "metricSource", "select", "indicator-name", "metadata", "ratio-unit"])
def test_a_wrong_field_is_refused_naming_that_field(fields, expected):
    """Bugs: an optional field (description, service, the displayNames) no longer checked when given, or read
    under another key; a refusal naming another path than the field's (spec.indicator and each level below
    it, metadata, the select, the success_ratio unit)."""
    assert problems(changed(**fields)) == [expected]


@pytest.mark.parametrize("path,expected", [
    ("spec__indicator__metadata", "spec.indicator.metadata: is required"),
    ("spec__indicator__metadata__name", "spec.indicator.metadata.name: is required"),
    ("spec__indicator__spec", "spec.indicator.spec: is required"),
    ("spec__indicator__spec__thresholdMetric", "spec.indicator.spec.thresholdMetric: is required"),
    ("spec__indicator__spec__thresholdMetric__metricSource", SOURCE + ": is required"),
    ("spec__indicator__spec__thresholdMetric__metricSource__spec", SOURCE + ".spec: is required"),
    ("spec__indicator__spec__thresholdMetric__metricSource__spec__select", SOURCE + ".spec.select: is required"),
], ids=["indicator.metadata", "indicator.metadata.name", "indicator.spec", "thresholdMetric", "metricSource",
        "metricSource.spec", "select"])
def test_a_missing_level_of_the_indicator_is_reported_not_a_crash(path, expected):
    """Bugs: a level of spec.indicator that is absent read anyway (``x or "key" in x`` for ``and``, a None
    source, the select read when absent): a TypeError or KeyError instead of "is required"."""
    doc = changed(**{path: DROP})
    if path.endswith("__name"):
        doc["spec"]["indicator"]["metadata"]["displayName"] = "the indicator"  # a mapping still, without name
    assert problems(doc) == [SLO + expected]


def test_without_jmespath_the_select_is_refused_naming_the_missing_library(monkeypatch):
    """Bug: the path or the wording of the refusal when jmespath is not installed (or an error building it)."""
    monkeypatch.setattr(_slo_schema, "HAS_JMESPATH", False)
    assert problems(DOC) == [SLO + SOURCE + ".spec.select: jmespath is needed to check the selection "
                             "(pip install jmespath)"]


# --------------------------------------------------------------------------- the wording of each refusal

@pytest.mark.parametrize("fields,expected", [
    ({"metadata": None}, "document 1: metadata: must be a mapping, got null"),
    ({"spec": True}, SLO + "spec: must be a mapping, got a boolean"),
    ({"kind": "x" * 30},
     "document 1: kind: must be SLO (only SLO documents are supported), got a string of 30 characters (not shown)"),
    ({"spec__service": "  "}, SLO + "spec.service: must be a non-empty string, got a string of 2 characters (not shown)"),
    ({"spec__objectives": [{"op": "lt", "value": 1, "target": 1.5}]},
     SLO + "spec.objectives[0].target: must be a number in (0, 1], got 1.5"),
    ({"spec__objectives": [{"op": "lt", "value": 1, "target": 0}]},
     SLO + "spec.objectives[0].target: must be a number in (0, 1], got 0"),
    ({"foo": 1}, "document 1: foo: unknown field (allowed: apiVersion, kind, metadata, spec)"),
    ({"spec__indicator__spec__thresholdMetric__metricSource__spec__statistic": "success_ratio",
      "spec__indicator__spec__thresholdMetric__metricSource__spec__unit": DROP,
      "spec__objectives": [{"target": 0.9, "value": 1}]},
     SLO + "spec.objectives[0].value: is not used with statistic success_ratio (target is the least share of "
     "successful runs and probes); remove it"),
], ids=["null", "boolean", "long-string", "blank-string", "float", "target-0", "unknown-field", "ratio-value"])
def test_each_refusal_in_full(fields, expected):
    """Bugs: the wording of a refusal (the kind of a null or boolean, a hidden string's length, a float, the
    allowed fields), a blank string accepted (``or`` -> ``and``: also a crash on a number), a target of 0
    accepted (``0 < target`` -> ``<=``), value accepted with success_ratio."""
    assert problems(changed(**fields)) == [expected]


def test_a_document_that_is_not_a_mapping_is_named_as_the_document():
    """Bug: the top-level path of a document (the empty path) given a name, so the message or an unknown
    top-level key read "XX: ..." instead of "(the document)" or the bare key."""
    assert problems("text") == ["document 1: (the document): must be a mapping, got a string"]
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(text="just text\n")
    assert err.value.errors == ["document 1: (the document): must be a mapping, got a string"]


def test_documents_that_are_not_a_list_are_refused_in_full():
    """Bug: the wording (or a TypeError building it) when the documents are neither a list nor a mapping."""
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(documents="text")
    assert err.value.errors == ["the objectives must be a list of SLO documents, got a string"]


def test_the_error_text_is_one_prefix_then_every_problem():
    """Bug: the text of SloError (its prefix or the separator between problems)."""
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(documents=[changed(spec__description=5, spec__service=5)])
    assert str(err.value) == ("invalid SLO objectives: " + SLO + "spec.description: must be a non-empty string, got 5; "
                              + SLO + "spec.service: must be a non-empty string, got 5")


def test_exactly_twenty_problems_are_all_listed_with_no_count():
    """Bug: "; and 0 more" appended when exactly 20 problems are listed (``>`` -> ``>=``)."""
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(documents=[changed(spec__objectives=[5] * 20)])
    assert len(err.value.errors) == 20
    assert str(err.value).endswith(SLO + "spec.objectives[19]: must be a mapping, got a number")
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(documents=[changed(spec__objectives=[5] * 21)])
    assert str(err.value).endswith(SLO + "spec.objectives[19]: must be a mapping, got a number; and 1 more")


def test_a_bad_objective_does_not_hide_the_next_one():
    """Bug: validation stopping at the first objective that is not a mapping (``continue`` -> ``break``)."""
    assert problems(changed(spec__objectives=[5, {"op": "lt", "value": "x"}])) == [
        SLO + "spec.objectives[0]: must be a mapping, got a number",
        SLO + "spec.objectives[1].value: must be a finite number, got 'x'"]


def test_two_documents_without_a_name_are_not_duplicates_of_each_other():
    """Bug: a missing metadata.name taken as the name "" (not None), so a second nameless document was also
    "already defined" by the first."""
    assert problems(changed(metadata__name=DROP), changed(metadata__name=DROP)) == [
        "document 1: metadata.name: is required", "document 2: metadata.name: is required"]


def test_a_duplicate_name_and_an_empty_stream_in_full():
    """Bugs: the wording of a duplicate SLO name and of "no SLO document"."""
    assert problems(DOC, DOC) == ["document 2: metadata.name: SLO lat is already defined by document 1"]
    assert problems(None) == ["no SLO document found"]


# --------------------------------------------------------------------------- number bounds

@pytest.mark.parametrize("target,shown", [
    (-10 ** 15, "a number"), (-10 ** 15 + 1, "-999999999999999"), (2, "2"),
    (10 ** 15 - 1, "999999999999999"), (10 ** 15, "a number"),
])
def test_an_integer_is_quoted_only_under_sixteen_digits(target, shown):
    """Bugs: the bounds of the integers a message quotes (-10**15 < n < 10**15, both open): each bound moved,
    made closed, or the whole range emptied (``-10 ** 15`` -> ``+10 ** 15``)."""
    assert problems(changed(spec__objectives=[{"op": "lt", "value": 1, "target": target}])) == [
        SLO + "spec.objectives[0].target: must be a number in (0, 1], got %s" % shown]


@pytest.mark.parametrize("value", [-2 ** 53, -107, 2 ** 53])
def test_an_integer_a_float_holds_exactly_is_a_value(value):
    """Bugs: the bounds of an exact integer (-2**53 <= n <= 2**53) made open or moved inward."""
    assert only(changed(spec__objectives=[{"op": "lt", "value": value}]))["value"] == value


@pytest.mark.parametrize("value", [-2 ** 53 - 1, 2 ** 53 + 1])
def test_an_integer_a_float_cannot_hold_is_refused(value):
    """Bugs: the bounds of an exact integer moved outward (-3**53, -2**54, 3**53, 2**54)."""
    assert problems(changed(spec__objectives=[{"op": "lt", "value": value}])) == [
        SLO + "spec.objectives[0].value: must be a finite number, got a number"]


# --------------------------------------------------------------------------- bounds on the documents

def test_at_most_200_documents_are_read():
    """Bug: MAX_DOCUMENTS off by one (201 documents read)."""
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(text="---\n" * 200)
    assert err.value.errors == ["no SLO document found"]
    with pytest.raises(_slo.SloError) as err:
        _slo.load_objectives(text="---\n" * 201)
    assert err.value.errors == ["the YAML text holds more than 200 YAML documents (line 201)"]


def _nested(levels):
    """A document whose deepest container is at level ``levels`` (the document itself is level 1)."""
    inner = []
    for dummy in range(levels - 2):
        inner = [inner]
    return {"x": inner}


def test_loaded_documents_nest_as_deep_as_yaml_text_and_no_deeper():
    """Bugs: the depth bound on loaded documents (``MAX_DEPTH + 1``, the list of documents being one more
    level) moved by one either way, so they nest one level less or more than YAML text may; and the
    wording of the refusal."""
    assert _slo.parse_yaml("x: [%s]\n" % ("[" * 18 + "]" * 18))[0]["x"]  # the deepest list at level 20: read
    with pytest.raises(_slo.SloError, match="nests deeper than 20 levels"):
        _slo.parse_yaml("x: [%s]\n" % ("[" * 19 + "]" * 19))  # level 21
    assert problems(_nested(20))[0] == "document 1: x: unknown field (allowed: apiVersion, kind, metadata, spec)"
    assert problems(_nested(21)) == ["the documents nest deeper than 20 levels, refer to themselves or hold more "
                                     "than 50000 values"]


# --------------------------------------------------------------------------- what an accepted document yields

def test_an_accepted_document_yields_every_field_of_its_objective():
    """Bugs: a field of the objective under another key (service, indicator, document) or read from another
    key; the indicator's name not read (its metadata or name looked up under another key, or ``in`` ->
    ``not in``); display_name not the displayName (``or`` -> ``and``, read from another key); the default
    description not ""; an empty document before it ending the loop (``continue`` -> ``break``)."""
    plain = {"name": "lat", "slo": "lat", "display_name": "lat", "objective": None, "description": "",
             "service": "svc", "indicator": "ind", "select": "records", "statistic": "median", "unit": "s",
             "op": "lt", "value": 1, "target": 1.0, "document": 2}
    assert _slo.load_objectives(text="---\n---\n" + slo_yaml()) == [plain]
    named = only(changed(metadata__displayName="Clone latency", spec__description="fast enough",
                         spec__indicator__metadata__displayName="median of clones"))
    assert named == dict(plain, display_name="Clone latency", description="fast enough", document=1)


# --------------------------------------------------------------------------- what the evaluator reads from here

@pytest.mark.parametrize("op,value,symbol", [("lt", 1, "<"), ("lte", 1, "<="), ("gt", 0.1, ">"), ("gte", 0.1, ">=")])
def test_each_op_is_shown_as_its_symbol_in_the_reason(op, value, symbol):
    """Bug: the symbol of an op (OPS) in a verdict's reason."""
    out = one(slo_yaml(objectives="    - {op: %s, value: %s}\n" % (op, value)), results([rec("a", [0.5])]))
    assert out["reason"] == ("1 of 1 selected records have median %s %s s (1 needed, target 100%%); worst a on "
                             "localhost at 0.5 s" % (symbol, value))


@pytest.mark.parametrize("unit,sample", [("us", 250000.0), ("ns", 250000000.0)])
def test_microseconds_and_nanoseconds_convert(unit, sample):
    """Bugs: the name or factor of us and ns in TIME_UNITS (a record in us refused as another unit, or its
    figure doubled)."""
    out = one(slo_yaml(unit="ms", objectives="    - {op: lt, value: 300}\n"), results([rec("a", [sample], unit=unit)]))
    assert out["status"] == "pass" and out["value"] == pytest.approx(250.0)
