# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""load's plain path (one json.loads, the depth and finiteness checked in the masking walk): it accepts
only what the bounded path accepts, gives the same document, and leaves every refusal to the bounded path."""
from __future__ import annotations

import json

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _results_doc as rd
from ansible_collections.o2edge.perf.plugins.plugin_utils import _mask
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record

PLACEHOLDER = "@@VALUE@@"


def _doc():
    ctx = {"host": "edge1", "started_at": "2026-11-28T14:00:00.000Z", "versions": {"kpt": "1"},
           "extra": {"nested": [1, 2.5, "x"]}}
    records = [{"host": "edge1", "play": "p", "task": "t%d" % i,
                "record": make_record("git/m%d" % i, "git", "s", [0.1, 0.2 + i, 0.3, 0.25], warmup=1, context=ctx)}
               for i in range(3)]
    probes = [{"host": "localhost", "play": "p", "task": "probe",
               "result": {"site": "edge1", "service": "ssh", "state": "up", "latency_ms": 3.5,
                          "detail": "see https://user:hunter2@example.invalid/x?token=abc", "info": {}}}]
    tasks = [{"play": "p", "role": None, "task": "t", "action": "a", "host": "edge1", "status": "ok",
              "seconds": 1.5, "started_at": "2026-11-28T14:00:00.000Z"}]
    return {"schema": rd.SCHEMA,
            "run": {"id": "r1", "started_at": "2026-11-28T14:00:00.000Z", "finished_at": None, "status": "ok",
                    "playbooks": ["b.yml"], "runner": None, "slice": None, "controller": {"host": "ctl"}},
            "hosts": {"edge1": dict((k, 0) for k in rd.HOST_COUNTERS)},
            "records": records, "probes": probes, "tasks": tasks,
            "totals": {"wall_seconds": 3.0, "plays": [], "roles": []}, "missing": [],
            "outcomes": {"api_token": "s3cret", "password": {"deep": [1.0]}, "kept": [0.5, 1]}}


def _bounded(path):
    """What the bounded path alone gives (the plain path switched off): the document, or the error text."""
    try:
        text = rd._read(path, rd.MAX_BYTES)
        return rd._mask_parsed(rd.with_outcomes(rd.validate(rd._parse_json(text, path), path)))
    except rd.ResultsError as exc:
        return "error: %s" % exc


def _load(path):
    try:
        return rd.load(path)
    except rd.ResultsError as exc:
        return "error: %s" % exc


def _write(tmp_path, text):
    path = tmp_path / "results.json"
    path.write_text(text)
    return str(path)


def test_the_usual_document_takes_the_plain_path_and_is_the_same(tmp_path, monkeypatch):
    path = _write(tmp_path, json.dumps(_doc()))
    expected = _bounded(path)
    assert isinstance(expected, dict) and expected["outcomes"]["api_token"] == _mask.MASK
    assert "hunter2" not in json.dumps(expected)

    def no_bounded(*args):
        raise AssertionError("the bounded path was taken")
    monkeypatch.setattr(rd, "_parse_json", no_bounded)
    got = rd.load(path)
    assert json.dumps(got) == json.dumps(expected)  # same values, same key order


# Where a value goes: a float of a list of floats, a stat, a nested context value, a probe figure, a task's
# seconds, the value of a key the mask drops, of a secret-named key, an outcome, a list of mixed values.
PLACES = [
    lambda d: d["records"][1]["record"]["samples"].__setitem__(2, PLACEHOLDER),
    lambda d: d["records"][0]["record"]["stats"].__setitem__("median", PLACEHOLDER),
    lambda d: d["records"][2]["record"]["context"]["extra"]["nested"].append(PLACEHOLDER),
    lambda d: d["probes"][0]["result"].__setitem__("latency_ms", PLACEHOLDER),
    lambda d: d["tasks"][0].__setitem__("seconds", PLACEHOLDER),
    lambda d: d["outcomes"].__setitem__("kept", [0.5, "x", PLACEHOLDER]),
    lambda d: d["outcomes"].__setitem__("password", PLACEHOLDER),
    lambda d: d["outcomes"]["password"].__setitem__("deep", [PLACEHOLDER]),
    lambda d: d["records"][0]["record"]["context"].__setitem__("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
                                                               PLACEHOLDER),
]
LITERALS = ["NaN", "Infinity", "-Infinity", "1e999", "-1E+999", "1" * 400 + ".5", "0.5e400"]


@pytest.mark.parametrize("literal", LITERALS)
@pytest.mark.parametrize("place", range(len(PLACES)))
def test_a_value_that_is_not_a_finite_number_is_refused_as_the_bounded_path_refuses_it(tmp_path, place, literal):
    doc = _doc()
    PLACES[place](doc)
    path = _write(tmp_path, json.dumps(doc).replace('"%s"' % PLACEHOLDER, literal))
    expected = _bounded(path)
    assert isinstance(expected, str) and expected.startswith("error: ")
    assert _load(path) == expected


def _nested(levels):
    """``levels`` containers nested in one another (the outermost counts as one)."""
    value = [1.5]
    for i in range(levels - 1):
        value = {"k": value} if i % 2 else [value]
    return value


@pytest.mark.parametrize("where", ["context", "password", "dropped", "outcome"])
@pytest.mark.parametrize("total", [rd.MAX_DEPTH, rd.MAX_DEPTH + 1, rd.MAX_DEPTH + 40])
def test_depth_is_refused_beyond_the_limit_only_as_the_bounded_path_refuses_it(tmp_path, where, total):
    doc = _doc()
    if where == "context":  # document, records, entry, record, context, extra: 6 levels down to the value
        doc["records"][0]["record"]["context"]["extra"] = _nested(total - 5)
    elif where == "password":  # document, outcomes, value
        doc["outcomes"]["password"] = _nested(total - 2)
    elif where == "dropped":  # a key that itself looks secret is left out by the mask
        doc["records"][0]["record"]["context"]["eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"] = _nested(total - 5)
    else:
        doc["outcomes"]["kept"] = _nested(total - 2)
    path = _write(tmp_path, json.dumps(doc))
    expected = _bounded(path)
    assert _load(path) == expected if isinstance(expected, str) else json.dumps(_load(path)) == json.dumps(expected)
    assert isinstance(expected, str) == (total > rd.MAX_DEPTH)
    if total > rd.MAX_DEPTH:
        assert "nests deeper than %d levels" % rd.MAX_DEPTH in expected


@pytest.mark.parametrize("text", ["[1.0]", "5", "\"x\"", "{\"schema\": 1}", "{not json", "{\"a\": 1} x"])
def test_what_is_not_a_results_document_gets_the_bounded_path_s_message(tmp_path, text):
    path = _write(tmp_path, text)
    expected = _bounded(path)
    assert isinstance(expected, str) and _load(path) == expected


def test_the_checked_walk_refuses_without_the_depth_or_a_finite_float():
    assert _mask.mask_in_place_checked(_nested(64), 64) is not None
    assert _mask.mask_in_place_checked(_nested(65), 64) is None
    assert _mask.mask_in_place_checked([1.0, float("inf")], 64) is None
    assert _mask.mask_in_place_checked({"password": float("nan")}, 64) is None
    assert _mask.mask_in_place_checked({"password": 1.0, "a": [2.0]}, 64) == {"password": _mask.MASK, "a": [2.0]}
    assert _mask.mask_in_place_checked(1.0, 64) is None
