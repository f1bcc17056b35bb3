# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_callback_recap: tests written for the survivors of a mutation run (docs/mutation.md), each named for the
bug it catches: the depth bound of plain data, the actions whose no_log results withhold nothing, the
bookkeeping of extract, the results.jsonl trail (its fields, mode, JSON only), times to the microsecond,
and the screen recap's lines."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _callback_recap as cr
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record

from tests.unit.plugins.plugin_utils.test_callback_recap import Clock, stamps


def rec(name="git/status", host="ctl"):
    ctx = {"host": host, "started_at": "2026-11-28T14:00:00.000Z", "versions": {"python": "3.11.7"}}
    return make_record(name, "git", "s", [0.1, 0.2, 0.3], context=ctx)


def probe_item(site="edge1"):
    return {"site": site, "service": "ssh", "kind": "ssh", "address": "198.18.1.10", "port": 22, "ok": True,
            "state": "up", "latency_ms": 3.2, "connect_ms": 0.4, "detail": "banner", "info": {}}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def recap(clock):
    return cr.Recap({"controller": {"host": "ctl"}, "runner": None, "slice": None}, clock=clock, now=stamps())


def kinds(recap, kind):
    return [e for e in recap.events if e["event"] == kind]


def nested(depth, leaf, kind):
    value = leaf
    for _level in range(depth):
        value = [value] if kind == "list" else {"k": value}
    return value


@pytest.mark.parametrize("kind", ["list", "dict"])
def test_plain_data_keeps_32_levels_and_censors_the_33rd(kind):
    """Bugs: the depth bound off by one (33 levels, levels counted from 1, '>=' for '>'), or a level of a list
    or a mapping counted twice or backwards (never censored)."""
    assert cr.plain(nested(32, "leaf", kind)) == nested(32, "leaf", kind)
    # the value 33 levels down is censored, whatever it is
    assert cr.plain(nested(33, "leaf", kind)) == nested(33, "censored", kind)
    assert cr.plain(nested(40, "leaf", kind)) == nested(33, "censored", kind)


@pytest.mark.parametrize("prefix", ["", "ansible.builtin.", "ansible.legacy."])
@pytest.mark.parametrize("action", ["set_fact", "include_vars", "assert", "fail", "set_stats", "add_host", "group_by"])
def test_a_no_log_result_of_an_action_that_cannot_measure_is_not_missing(recap, prefix, action):
    """Bug: one of the actions that never return a measurement (under any of its names) dropped from the list,
    so each of its no_log results is reported as withheld measurements."""
    recap.task("t", "T", prefix + action)
    recap.host_end("t", "h1", "ok", {"censored": "hidden"})
    assert kinds(recap, "missing") == []


def test_a_no_log_result_of_another_action_is_missing(recap):
    """Guards the test above: the same result of an action that can measure is reported."""
    recap.task("t", "T", "other.collection.set_fact")
    recap.host_end("t", "h1", "ok", {"censored": "hidden"})
    assert [m["what"] for m in kinds(recap, "missing")] == ["values of task 'T' (play '') on h1"]


def test_extract_reads_a_result_as_no_loop_by_default():
    """Bug: extract's default taking every result for a loop: its probes read as loop items (lost), an item count."""
    records, probes, problems, items, withheld = cr.extract({"results": [probe_item()], "record": rec("a")})
    assert items is None
    assert [p["site"] for p in probes] == ["edge1"]
    assert [r["name"] for r in records] == ["a"] and problems == [] and withheld == 0


def test_extract_counts_every_withheld_result():
    """Bug: the count of no_log results set rather than added up, or counted by twos or backwards."""
    loop = {"results": [{"censored": "x"}, {"_ansible_no_log": True}, {"record": rec("a")}, {"censored": "y"}]}
    assert cr.extract(loop, loop=True)[4] == 3
    assert cr.extract({"censored": "x"})[4] == 1


def test_a_bad_record_in_a_loop_item_names_the_item_counted_from_zero(recap):
    """Bugs: loop items numbered from 1 or 2, or the item's label garbled, in the missing entry."""
    recap.task("t", "T", "x", loop=True)
    recap.host_end("t", "h1", "ok", {"results": [{"records": 5}, {"record": rec("a")}, {"records": "nope"}]})
    assert [m["what"] for m in kinds(recap, "missing")] == ["item 0 records of task 'T' on h1",
                                                            "item 2 records of task 'T' on h1"]


def test_a_bad_records_name_is_cut_at_120_characters(recap):
    """Bug: the name of a record that is not of the shape cut at another length in the missing entry."""
    recap.task("t", "T", "x")
    recap.host_end("t", "h1", "ok", {"records": [{"name": "n" * 200, "unit": "s"}]})
    assert kinds(recap, "missing")[0]["what"] == "result record %s of task 'T' on h1" % ("n" * 120)


def test_the_trail_file_is_created_readable_by_owner_and_group_only(tmp_path):
    """Bug: results.jsonl created with another mode (o+x or world-readable)."""
    path = str(tmp_path / "results.jsonl")
    old = os.umask(0o022)
    try:
        cr.JsonlSink(path).close()
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_the_trail_never_writes_what_is_not_json(tmp_path):
    """Bug: a NaN or an infinity written to results.jsonl as NaN/Infinity, which JSON readers refuse."""
    path = str(tmp_path / "results.jsonl")
    sink = cr.JsonlSink(path)
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            sink({"event": "x", "value": bad})
    sink({"event": "x", "value": 1.5})
    sink.close()
    with open(path, encoding="utf-8") as handle:
        assert handle.read() == '{"event":"x","value":1.5}\n'


def test_results_json_is_indented_by_one_and_ends_with_a_newline():
    """Bug: the results file's layout changed (the documented indent of 1)."""
    assert cr.json_bytes({"a": [1]}) == b'{\n "a": [\n  1\n ]\n}\n'


def test_times_are_rounded_to_the_microsecond(recap, clock):
    """Bugs: a task's, a play's or the run's seconds rounded to another precision."""
    recap.play("P")
    recap.task("t", "T", "x")
    recap.host_start("t", "h1")
    clock.t += 1.23456789
    recap.host_end("t", "h1", "ok", {})
    recap.finish({}, "ok")
    assert kinds(recap, "task")[0]["seconds"] == 1.234568
    assert kinds(recap, "play_done")[0]["seconds"] == 1.234568
    assert kinds(recap, "end")[0]["wall_seconds"] == 1.234568


def test_the_trail_events_carry_their_documented_fields(recap, clock):
    """Bugs: a field of the play, record, probe or end event lost or renamed (docs/results.md, results.jsonl
    events); the record and probe entries of the document keep the play they came from."""
    recap.playbook("site.yml")
    clock.t += 1.25
    recap.play("P")
    recap.task("t", "T", "x")
    recap.host_end("t", "h1", "ok", {"records": [rec("a")], "results": [probe_item()]})
    doc = recap.finish({}, "ok")
    assert kinds(recap, "play") == [{"event": "play", "play": "P", "index": 0, "started_at": "2026-11-28T14:00:02.250Z"}]
    assert [sorted(r) for r in doc["records"]] == [["host", "play", "record", "task"]]
    assert (doc["records"][0]["play"], doc["probes"][0]["play"]) == ("P", "P")
    end = kinds(recap, "end")[0]["run"]
    assert end["playbooks"] == ["site.yml"] and end["status"] == "ok"


def _doc(tasks=(), records=(), missing=()):
    return {"run": {"id": "r1", "status": "ok"}, "totals": {"wall_seconds": 1.0}, "tasks": list(tasks),
            "records": list(records), "probes": [], "missing": list(missing)}


def _task(index):
    return {"play": "P", "role": None, "task": "t%02d" % index, "action": "x", "host": "h1", "status": "ok",
            "seconds": float(index), "started_at": "2026-11-28T14:00:00.000Z"}


def _entry(host, median=0.2):
    stats = {} if median is None else {"median": median, "p95": 0.3}
    return {"host": host, "play": "P", "task": "T", "record": {"name": "m", "stats": stats, "unit": "s", "failures": 0}}


def test_the_recap_shows_the_ten_slowest_tasks_by_default():
    """Bug: another default number of slowest tasks."""
    lines = cr.recap_lines(_doc(tasks=[_task(i) for i in range(12)]))
    assert lines[1] == "slowest tasks:"
    assert [line.split()[2] for line in lines[2:]] == ["t%02d" % i for i in range(11, 1, -1)]


def test_a_statistic_without_a_value_is_shown_as_a_dash():
    """Bug: a missing median or p95 shown as some other text."""
    assert cr.recap_lines(_doc(records=[_entry("h1", None)]))[-1] == "  m: median -, p95 - s, 0 failures"


def test_records_name_their_host_only_when_there_are_several():
    """Bugs: the host label garbled or read from another key, or shown only from three hosts on."""
    assert cr.recap_lines(_doc(records=[_entry("h1"), _entry("h2")]))[-2:] == [
        "  m [h1]: median 0.2, p95 0.3 s, 0 failures", "  m [h2]: median 0.2, p95 0.3 s, 0 failures"]
    assert cr.recap_lines(_doc(records=[_entry("h1"), _entry("h1")]))[-1] == "  m: median 0.2, p95 0.3 s, 0 failures"


def test_every_missing_entry_is_shown_with_what_and_why():
    """Bug: the missing lines garbled or reading other keys."""
    lines = cr.recap_lines(_doc(missing=[{"what": "end of task 'T' on h1", "why": "no result"}]))
    assert lines[-1] == "missing: end of task 'T' on h1: no result"
