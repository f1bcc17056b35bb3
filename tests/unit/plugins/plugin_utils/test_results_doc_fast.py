# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""validate's fast check of a records entry: it passes an entry only when the full checks find nothing."""
from __future__ import annotations

import copy
import random
import re

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _results_doc as rd
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record, validate_record


class Text(str):
    pass


def _entry(i=0):
    rec = make_record("kpt_render/m%d" % i, "kpt_render", "s", [0.1 + i / 100.0, 0.2, 0.3, 0.25], warmup=1,
                      context={"host": "edge1", "started_at": "2026-11-28T14:00:00.000Z", "versions": {"kpt": "1"}})
    return {"host": "edge1", "play": "p", "task": "t", "record": rec}


def _full_checks_pass(entry):
    """What validate's slow path says about one entry (True: nothing wrong)."""
    if not isinstance(entry, dict) or not all(isinstance(entry.get(k), str) for k in ("host", "play", "task")):
        return False
    return not validate_record(entry.get("record"))


BAD_VALUES = [None, True, False, -1, 2 ** 70, 10 ** 400, float("nan"), float("inf"), -float("inf"), "", "x", Text("x"),
              [], [1.0, float("nan")], [True], ["1"], {}, {"a": 1}, (1.0,), 1.5, 0]


def _mutations(rng, entry):
    """Entries one hostile change away from ``entry``: every key, a value at each level, replaced or removed."""
    out = []
    for dummy in range(40):
        e = copy.deepcopy(entry)
        where = rng.choice(["entry", "record", "stats", "context", "samples"])
        target = {"entry": e, "record": e["record"], "stats": e["record"]["stats"],
                  "context": e["record"]["context"], "samples": e["record"]["samples"]}[where]
        if where == "samples":
            target[rng.randrange(len(target))] = rng.choice(BAD_VALUES)
        elif rng.random() < 0.2:
            target.pop(rng.choice(list(target)))
        elif rng.random() < 0.1:
            target[rng.choice(["extra", "password", "x" * 70])] = 1
        else:
            target[rng.choice(list(target))] = rng.choice(BAD_VALUES)
        out.append(e)
    return out


def test_the_fast_check_never_passes_an_entry_the_full_checks_refuse():
    rng = random.Random(19)
    refused = 0
    for i in range(200):
        for e in _mutations(rng, _entry(i)):
            try:
                full = _full_checks_pass(e)
            except OverflowError:
                full = False  # an integer beyond the float range: the full checks raise, the fast one must not pass it
            if rd._record_entry_ok(e):
                assert full, e
            refused += not full
    assert refused > 1000  # the mutations are hostile


def test_the_usual_entry_takes_the_fast_check():
    assert rd._record_entry_ok(_entry())
    e = _entry()
    e["record"]["stats"]["stdev"] = None
    assert rd._record_entry_ok(e)


@pytest.mark.parametrize("mutate,message", [
    (lambda r: r["samples"].__setitem__(1, float("inf")), "samples[1] is not a finite number"),
    (lambda r: r["stats"].__setitem__("p95", float("nan")), "stats.p95 must be a finite number or None"),
    (lambda r: r.__setitem__("failures", True), "failures must be a non-negative integer"),
    (lambda r: r["context"].pop("versions"), "context lacks versions"),
    (lambda r: r.__setitem__("extra", 1), "unexpected keys extra"),
])
def test_validate_still_names_the_problem_of_an_entry_among_good_ones(mutate, message):
    doc = rd.empty_document({"id": "r", "started_at": "2026-11-28T14:00:00Z", "finished_at": None, "status": "ok",
                             "playbooks": [], "controller": {}, "runner": None, "slice": None})
    doc["records"] = [_entry(i) for i in range(5)]
    mutate(doc["records"][3]["record"])
    with pytest.raises(rd.ResultsError, match=r"records\[3\]\.record.*" + re.escape(message)):
        rd.validate(doc, "f")
