# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_slo_eval and _slo_select: tests written for the survivors of a mutation run (docs/mutation.md), each
named for the bug it catches."""
from __future__ import annotations

import re

from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo
from tests.unit.plugins.plugin_utils.test_slo import one, probe, rec, results, slo_yaml


def _worst(entry):
    """The label the verdict's reason gives the only selected record."""
    reason = one(slo_yaml(), results([entry]))["reason"]
    return reason.split("; worst ", 1)[1].rsplit(" at ", 1)[0]


def test_a_record_is_labelled_with_the_host_of_its_context_when_the_entry_names_none():
    """Bug: the host fallback (entry host, else the record's context host) reading another key or no context."""
    entry = rec("git/clone", [0.1])
    del entry["host"]
    entry["record"]["context"]["host"] = "edge7"
    assert _worst(entry) == "git/clone on edge7"
    entry["host"] = "edge8"  # the entry's own host comes first
    assert _worst(entry) == "git/clone on edge8"


def test_a_record_without_name_or_host_is_labelled_unnamed_and_nothing_more():
    """Bugs: a nameless record labelled with anything but "unnamed"; a record with no host at all given a
    suffix anyway."""
    entry = rec("x", [0.1])
    del entry["host"]
    del entry["record"]["name"]
    entry["record"]["context"].pop("host")
    assert _worst(entry) == "unnamed"


def test_a_probe_is_labelled_by_site_service_and_the_host_that_ran_it():
    """Bugs: a probe's label losing its site, service, the "from <host>" suffix, or gaining one without a host."""
    doc = results(probes=[probe("edge1", "ssh", True)])
    out = one(slo_yaml(select="probes"), doc)
    assert out["reason"] == "probe edge1/ssh from localhost is a probe result; statistic median needs records"
    del doc["probes"][0]["host"]
    out = one(slo_yaml(select="probes"), doc)
    assert out["reason"] == "probe edge1/ssh is a probe result; statistic median needs records"


def test_bare_records_and_probe_results_are_recognised():
    """Bug: a record selected without its wrapper (records[].record) not recognised as a record (it has
    samples and stats), so every such SLO failed as "neither a record nor a probe result"."""
    doc = results([rec("a", [0.1])], [probe("edge1", "ssh", True)])
    out = one(slo_yaml(select="records[].record"), doc)
    assert out["status"] == "pass" and out["reason"].endswith("; worst a on ctl at 0.1 s")
    out = one(slo_yaml(select="probes[].result"), doc)
    assert out["reason"] == "probe edge1/ssh is a probe result; statistic median needs records"


def test_a_bare_record_without_name_or_host_and_a_stats_only_item():
    """Bugs: a nameless bare record not labelled "unnamed", a host suffix without a host; and an item with
    stats but no samples taken for a record (both keys make a record)."""
    doc = results([rec("a", [0.1])])
    del doc["records"][0]["record"]["name"]
    out = one(slo_yaml(select="records[].record"), doc)
    assert out["reason"].endswith("; worst unnamed on ctl at 0.1 s")
    doc["records"][0]["record"]["context"].pop("host")
    assert one(slo_yaml(select="records[].record"), doc)["reason"].endswith("; worst unnamed at 0.1 s")
    out = one(slo_yaml(select="records[].record.{name: 'x', stats: stats}"), doc)
    assert out["status"] == "fail" and out["value"] is None
    assert out["reason"] == "selected item 0 is a mapping, neither a record nor a probe result", out["reason"]


def test_an_item_with_a_service_but_no_ok_is_not_a_probe():
    """Bug: either key (ok or service) taken for a probe result: both make one."""
    doc = results(probes=[probe("edge1", "ssh", True)])
    out = one(slo_yaml(select="probes[].result.{service: service}", statistic="success_ratio", unit=None,
                       objectives="    - {target: 0.5}\n"), doc)
    assert out["reason"] == "selected item 0 is a mapping, neither a record nor a probe result"


def test_a_verdict_carries_the_objective_it_judges():
    """Bugs: a verdict's name, display_name, objective, description or statistic under another key or read
    from another key of the objective (the report and the gate look them up by these names)."""
    objective = _slo.load_objectives(text=slo_yaml(name="lat-slo", extra_spec="  description: fast enough\n",
                                                   objectives="    - {displayName: quick, op: lt, value: 1}\n"))[0]
    out = _slo.evaluate([objective], results([rec("a", [0.1])]))[0]
    for key in ("name", "display_name", "objective", "description", "statistic", "op", "target", "unit"):
        assert out[key] == objective[key], key
    assert out["name"] and out["description"] == "fast enough" and out["statistic"] == "median"
    assert out["objective"] == "quick"
    assert out["threshold"] == objective["value"] == 1
    bare = dict(objective)
    del bare["description"]
    assert _slo.evaluate([bare], results([rec("a", [0.1])]))[0]["description"] == ""


def test_success_ratio_counts_bare_probe_results_as_probes():
    """Bug: a probe result selected without its wrapper (probes[].result) not counted as a probe, so its ok
    was ignored and the SLO failed for want of run counts."""
    doc = results(probes=[probe("edge1", "ssh", True), probe("edge2", "ssh", False)])
    out = one(slo_yaml(select="probes[].result", statistic="success_ratio", unit=None,
                       objectives="    - {target: 0.5}\n"), doc)
    assert (out["status"], out["value"]) == ("pass", 0.5)
    assert out["reason"] == "1 of 2 runs and probes succeeded (50%, target at least 50%)"


def test_the_latency_reason_in_full():
    """Bugs: the reason's wording, the target shown as a percentage, and the deciding record named only when
    it is not the worst (a target below 1)."""
    doc = results([rec("r%d" % i, [m]) for i, m in enumerate([0.2, 0.4, 0.6, 1.5])])
    out = one(slo_yaml(objectives="    - {op: lt, value: 1, target: 0.75}\n"), doc)
    assert out["reason"] == ("3 of 4 selected records have median < 1 s (3 needed, target 75%); worst r3 on "
                             "localhost at 1.5 s; deciding record r2 on localhost at 0.6 s")
    out = one(slo_yaml(objectives="    - {op: lt, value: 1}\n"), doc)
    assert out["reason"] == ("3 of 4 selected records have median < 1 s (4 needed, target 100%); worst r3 on "
                             "localhost at 1.5 s")


def test_seconds_convert_to_milliseconds():
    """Bug: converting a record's unit into the objective's multiplied by both factors (right only into s)."""
    doc = results([rec("a", [0.25])])
    out = one(slo_yaml(unit="ms", objectives="    - {op: lt, value: 300}\n"), doc)
    assert out["status"] == "pass" and out["value"] == 250.0


def test_reasons_for_missing_figures_and_other_units_in_full():
    """Bug: the wording of the reasons a record cannot be judged."""
    out = one(slo_yaml(), results([rec("broken", [], failures=3)]))
    assert out["reason"] == "broken on localhost has no median (stats.median is None: no successful run to measure)"
    out = one(slo_yaml(), results([rec("bytes", [10.0], unit="B")]))
    assert out["reason"] == "bytes on localhost is in 'B', the objective in s"


def test_probes_without_a_boolean_ok_are_counted_and_said_so():
    """Bugs: probes whose ok is False counted among those "without a boolean ok", or the count going down."""
    doc = results(probes=[probe("edge1", "ssh", True), probe("edge2", "ssh", False), probe("edge3", "ssh", None),
                          probe("edge4", "ssh", True)])
    del doc["probes"][3]["result"]["ok"]
    doc["probes"][3]["result"]["ok_"] = True
    out = one(slo_yaml(select="probes", statistic="success_ratio", unit=None, objectives="    - {target: 0.5}\n"),
              doc)
    # edge4 keeps "service" but lost "ok": still a wrapped probe result (the wrapper decides), counted as unknown
    assert out["reason"] == ("1 of 4 runs and probes succeeded (25%, target at least 50%); 2 probes without a "
                             "boolean ok counted as failed")


def test_a_record_without_run_counts_is_named_for_success_ratio():
    """Bug: the wording of the reason a record cannot be counted."""
    bad = rec("a", [0.1])
    bad["record"]["samples"] = ["0.1"]
    out = one(slo_yaml(statistic="success_ratio", unit=None, objectives="    - {target: 0.5}\n"), results([bad]))
    assert out["reason"] == "a on localhost has no samples list of numbers and failures count"


def test_items_without_runs_are_counted_in_the_reason_singular_and_plural():
    """Bug: the wording (and the plural) of "nothing to count"."""
    objectives = "    - {target: 0.5}\n"
    out = one(slo_yaml(statistic="success_ratio", unit=None, objectives=objectives), results([rec("e", [])]))
    assert re.fullmatch("the 1 selected item holds? no counted run or probe", out["reason"])  # "hold" today
    out = one(slo_yaml(statistic="success_ratio", unit=None, objectives=objectives),
              results([rec("e", []), rec("f", [])]))
    assert out["reason"] == "the 2 selected items hold no counted run or probe"


def test_one_probe_without_a_boolean_ok_is_singular():
    """Bug: the singular of "probes without a boolean ok"."""
    doc = results(probes=[probe("edge1", "ssh", True), probe("edge2", "ssh", None)])
    out = one(slo_yaml(select="probes", statistic="success_ratio", unit=None, objectives="    - {target: 0.5}\n"),
              doc)
    assert out["reason"] == ("1 of 2 runs and probes succeeded (50%, target at least 50%); 1 probe without a "
                             "boolean ok counted as failed")


def _judged(objective, doc):
    return _slo.evaluate([objective], doc)[0]


def test_verdicts_that_could_not_select_anything_say_why_and_count_nothing(monkeypatch):
    """Bugs: the wording, the status or the selected count (0) of the early failures: a results document
    that is not a mapping, jmespath missing, a selection that fails at evaluation."""
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo_eval
    objective = _slo.load_objectives(text=slo_yaml())[0]
    out = _judged(objective, ["not", "a", "mapping"])
    assert (out["status"], out["selected"], out["value"]) == ("fail", 0, None)
    assert out["reason"] == "the results document is a list, not a mapping"
    failing = _slo.load_objectives(text=slo_yaml(select="records[?ends_with(record.samples, 'x')]"))[0]
    out = _judged(failing, results([rec("a", [0.1])]))
    assert (out["status"], out["selected"]) == ("fail", 0)
    assert out["reason"].startswith("selection records[?ends_with(record.samples, 'x')] failed: JMESPathTypeError")
    monkeypatch.setattr(_slo_eval, "HAS_JMESPATH", False)
    out = _judged(objective, results([rec("a", [0.1])]))
    assert (out["status"], out["selected"], out["reason"]) == (
        "fail", 0, "jmespath is not installed (pip install jmespath)")


def test_an_unknown_statistic_is_named():
    """Bug: the wording (or the statistic shown) when an objective's statistic is none the evaluator knows."""
    objective = dict(_slo.load_objectives(text=slo_yaml())[0], statistic="p50")
    out = _judged(objective, results([rec("a", [0.1])]))
    assert (out["status"], out["selected"], out["reason"]) == ("fail", 1, "unknown statistic 'p50'")


def test_a_bare_probe_result_carrying_samples_or_stats_is_still_named_as_a_probe():
    """Bug: the label of a bare item taken for a record when it has samples OR stats (a probe result carrying
    one of the two keys is a probe: only both make a record), so the message named "unnamed" instead of it."""
    for extra in ({"samples": [0.1]}, {"stats": {"median": 0.1}}):
        doc = results(probes=[probe("edge1", "ssh", True)])
        doc["probes"][0]["result"].update(extra)
        out = one(slo_yaml(select="probes[].result"), doc)
        assert out["reason"] == "probe edge1/ssh is a probe result; statistic median needs records", extra


def test_a_success_ratio_counts_integer_samples_as_successful_runs():
    """Bug: only lists of floats counted as samples (integers, which a results file may hold: 1 rather than 1.0,
    failing the quick check for floats), so a record of whole seconds was "no samples list of numbers"."""
    entry = rec("whole", [1.0, 2.0, 3.0], failures=1)
    entry["record"]["samples"] = [1, 2, 3]
    out = one(slo_yaml(select="records", statistic="success_ratio", unit=None,
                       objectives="    - {target: 0.5}\n"), results([entry]))
    assert (out["status"], out["value"]) == ("pass", 0.75), out["reason"]
    entry["record"]["samples"] = [1, 2.0, True]  # a bool is no number
    out = one(slo_yaml(select="records", statistic="success_ratio", unit=None,
                       objectives="    - {target: 0.5}\n"), results([entry]))
    assert out["value"] is None and "has no samples list of numbers" in out["reason"]
