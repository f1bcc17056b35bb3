# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_results_doc: tests for the survivors of its whole mutation run (docs/mutation.md).

Each test loads, folds or merges a results document (JSON or JSONL, written to tmp_path) and checks
what comes out, or the whole refusal message, and is named for the bug it catches."""
from __future__ import annotations

import json
import re

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _results_doc as rd
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record
from ansible_collections.o2edge.perf.plugins.plugin_utils._results_doc import ResultsError

T0 = "2026-11-28T14:00:00.000Z"
SECONDS_RANGE = "a finite number from 0 to 1e+12"


def record(name="git/status", started_at=T0, samples=(0.1, 0.2)):
    return make_record(name, "git", "s", list(samples), context={"host": "ctl", "started_at": started_at,
                                                                 "versions": {"python": "3.11.7"}})


def counters(**kw):
    c = dict.fromkeys(rd.HOST_COUNTERS, 0)
    c.update(kw)
    return c


def task(host="h1", name="T", seconds=1.0, status="ok", started_at="2026-11-28T14:00:01.000Z", play="P"):
    return {"play": play, "role": None, "task": name, "action": "x", "host": host, "status": status,
            "seconds": seconds, "started_at": started_at}


def run(run_id="r1", started=T0, finished="2026-11-28T14:00:10.000Z", status="ok", slice_=None,
        playbooks=("/p.yml",), controller=None, runner=None):
    return {"id": run_id, "started_at": started, "finished_at": finished, "status": status, "playbooks": list(playbooks),
            "controller": controller or {"host": "ctl"}, "runner": runner, "slice": slice_}


def document(run_=None, hosts=None, records=(), tasks=(), wall=10.0):
    doc = rd.empty_document(run_ or run())
    doc["hosts"] = hosts if hosts is not None else {"h1": counters(ok=1)}
    doc["records"] = list(records)
    doc["tasks"] = list(tasks)
    doc["totals"]["wall_seconds"] = wall
    return doc


def rec_entry(host="h1", **record_kw):
    return {"host": host, "play": "P", "task": "T", "record": record(**record_kw)}


def write(tmp_path, name, text):
    path = str(tmp_path / name)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def write_jsonl(tmp_path, events, name="results.jsonl"):
    return write(tmp_path, name, "".join(json.dumps(e) + "\n" for e in events))


def run_event(**run_kw):
    r = run(finished=None, status="running")
    r.update(run_kw)
    return {"event": "run", "schema": rd.SCHEMA, "run": r}


def end_event(**kw):
    end = {"event": "end", "run": {"finished_at": "2026-11-28T14:00:10.000Z", "status": "ok"},
           "hosts": {"h1": counters(ok=1)}, "wall_seconds": 10.0}
    end.update(kw)
    return end


def refusal(path):
    with pytest.raises(ResultsError) as err:
        rd.load(path)
    return str(err.value)


def assert_refused(path, message):
    text = refusal(path)
    assert re.fullmatch(re.escape("%s: %s" % (path, message)), text), text


# --- reading ------------------------------------------------------------------------------------

def test_a_results_file_over_256_mib_is_refused_unread(tmp_path):
    path = str(tmp_path / "results.json")
    with open(path, "wb") as handle:  # sparse: nothing is written but the size
        handle.truncate(256 * 1024 * 1024 + 1)
    text = refusal(path)
    assert text == "results file %s is 268435457 bytes, over the limit of 268435456; not read" % path


def test_a_directory_with_both_files_is_read_through_results_json(tmp_path):
    write(tmp_path, "results.json", json.dumps(document(run(status="failed"))))
    write_jsonl(tmp_path, [run_event()])
    assert rd.load(str(tmp_path))["run"]["status"] == "failed"


@pytest.mark.parametrize("text, message", [
    # cut short without a newline after it: the hint says so
    ('{"schema": "o2edge.perf/results/v1", "run": {',
     "is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 46) (the file ends early: truncated?)"),
    # broken in the middle: no hint
    ('{"a": 1,, "b": 2}', "is not valid JSON: Expecting property name enclosed in double quotes (line 1, column 9)"),
    # whole JSON refused for what it holds: no hint, even when the standard parser gives up on the depth
    ("[" * 65 + "]" * 65, "nests deeper than 64 levels"),
    ("[" * 100000 + "]" * 100000, "nests deeper than 64 levels"),
    ('{"a": NaN}', "holds NaN, which is not a JSON number"),
])
def test_the_truncated_hint_is_given_only_for_a_file_that_ends_early(tmp_path, text, message):
    assert_refused(write(tmp_path, "results.json", text), message)


# --- jsonl --------------------------------------------------------------------------------------

def test_a_blank_line_in_a_jsonl_is_skipped_not_the_end_of_the_file(tmp_path):
    text = json.dumps(run_event()) + "\n\n   \n" + json.dumps(dict(event="task", **task())) + "\n"
    doc = rd.load(write(tmp_path, "results.jsonl", text))
    assert [t["task"] for t in doc["tasks"]] == ["T"]
    assert doc["hosts"] == {"h1": counters(ok=1)}


@pytest.mark.parametrize("last, message", [
    ("[" * 100000 + "]" * 100000, "line 2: nests deeper than 64 levels"),
    ('{"event": "missing", "what": "x", "why": NaN}', "line 2: holds NaN, which is not a JSON number"),
])
def test_a_whole_last_jsonl_line_refused_for_what_it_holds_is_an_error_not_a_partial_line(tmp_path, last, message):
    path = write(tmp_path, "results.jsonl", json.dumps(run_event()) + "\n" + last)  # no newline after the last line
    assert_refused(path, message)


def test_load_jsonl_text_names_results_jsonl_by_default():
    with pytest.raises(ResultsError) as err:
        rd.load_jsonl_text('{"event": "task"}\n')
    assert str(err.value) == "results.jsonl: event 1: 'task' before the 'run' event"
    doc = rd.load_jsonl_text(json.dumps(run_event()) + '\n{"event": "ta')
    assert doc["missing"] == [{"what": "results.jsonl line 2",
                               "why": "partial last line left out (the run was still writing it or was cut short)"}]


@pytest.mark.parametrize("events, message", [
    ([["not", "an", "event"]], "event 1: not an event (a mapping with an 'event' name)"),
    ([run_event(), run_event()], "event 2: a second 'run' event"),
    ([dict(run_event(), schema="other/v9")], "event 1: schema is 'other/v9', expected 'o2edge.perf/results/v1'"),
    ([dict(run_event(), run=[1])], "event 1: 'run' must be a mapping"),
    ([dict(run_event(), run="abc")], "event 1: 'run' must be a mapping"),
    ([run_event(), end_event(run=[1])], "event 2: 'run', 'hosts' and 'outcomes' of the 'end' event must be mappings"),
    ([run_event(), end_event(hosts=[1])], "event 2: 'run', 'hosts' and 'outcomes' of the 'end' event must be mappings"),
    ([run_event(), end_event(outcomes=[1])], "event 2: 'run', 'hosts' and 'outcomes' of the 'end' event must be mappings"),
    ([run_event(), {"event": "weird"}], "event 2: unknown event 'weird'"),
    ([], "no 'run' event"),
])
def test_every_event_refusal_has_its_whole_message(tmp_path, events, message):
    path = write_jsonl(tmp_path, events) if events else write(tmp_path, "results.jsonl", "\n")
    assert_refused(path, message)


# --- fold: plays, wall time, a run cut short ----------------------------------------------------

def test_a_play_with_seconds_out_of_range_is_refused_naming_its_totals_entry(tmp_path):
    path = write_jsonl(tmp_path, [run_event(),
                                  {"event": "play_done", "play": "P", "index": 0, "seconds": -1},
                                  {"event": "play_done", "play": "Q", "index": 1, "seconds": 1.0},
                                  end_event()])
    assert_refused(path, "totals.plays[0] must be {play: str, seconds: %s}" % SECONDS_RANGE)


def test_serial_batches_of_one_play_add_up_rounded_to_the_microsecond(tmp_path):
    path = write_jsonl(tmp_path, [run_event(),
                                  {"event": "play_done", "play": "S", "index": 0, "seconds": 0.25},
                                  {"event": "play_done", "play": "S", "index": 0, "seconds": 0.5000004},
                                  end_event()])
    assert rd.load(path)["totals"]["plays"] == [{"play": "S", "seconds": 0.75}]


def test_a_serial_play_still_running_adds_to_its_earlier_batches(tmp_path):
    path = write_jsonl(tmp_path, [run_event(),
                                  {"event": "play", "play": "S", "index": 0, "started_at": T0},
                                  {"event": "play_done", "play": "S", "index": 0, "seconds": 1.0},
                                  {"event": "play", "play": "S", "index": 0, "started_at": "2026-11-28T14:00:02.000Z"},
                                  dict(event="task", **task(seconds=0.5, started_at="2026-11-28T14:00:02.000Z"))])
    assert rd.load(path)["totals"]["plays"] == [{"play": "S", "seconds": 1.5}]


def test_a_running_run_between_plays_runs_to_the_end_of_its_last_task(tmp_path):
    path = write_jsonl(tmp_path, [run_event(),
                                  {"event": "play", "play": "P", "index": 0, "started_at": T0},
                                  dict(event="task", **task(seconds=2.0, started_at="2026-11-28T14:00:01.000Z")),
                                  {"event": "play_done", "play": "P", "index": 0, "seconds": 3.0}])
    doc = rd.load(path)
    assert doc["totals"]["wall_seconds"] == 3.0
    assert doc["totals"]["plays"] == [{"play": "P", "seconds": 3.0}]


def test_an_end_event_with_a_play_left_open_gives_the_play_its_seconds_to_the_last_task(tmp_path):
    path = write_jsonl(tmp_path, [run_event(),
                                  {"event": "play", "play": "P", "index": 0, "started_at": "2026-11-28T14:00:00.500Z"},
                                  dict(event="task", **task(seconds=1.5, started_at="2026-11-28T14:00:01.000Z")),
                                  end_event()])
    doc = rd.load(path)
    assert doc["totals"]["plays"] == [{"play": "P", "seconds": 2.0}]
    assert doc["totals"]["wall_seconds"] == 10.0


def test_a_running_run_without_tasks_has_zero_play_and_wall_seconds(tmp_path):
    path = write_jsonl(tmp_path, [run_event(), {"event": "play", "play": "P", "index": 0, "started_at": T0}])
    assert rd.load(path)["totals"] == {"wall_seconds": 0.0, "plays": [{"play": "P", "seconds": 0.0}], "roles": []}


def test_a_run_without_end_event_is_running_and_unfinished_whatever_its_first_line_says(tmp_path):
    path = write_jsonl(tmp_path, [run_event(status="ok", finished_at="2026-11-28T14:00:10.000Z"),
                                  dict(event="task", **task())])
    assert rd.load(path)["run"] == run(finished=None, status="running")


def test_a_date_only_z_timestamp_reads_as_midnight_utc(tmp_path):
    path = write_jsonl(tmp_path, [run_event(started_at="2026-11-28Z"),
                                  dict(event="task", **task(seconds=1.0, started_at="2026-11-28T00:00:01.000Z"))])
    assert rd.load(path)["totals"]["wall_seconds"] == 2.0


def test_host_counters_from_tasks_skip_a_malformed_entry_and_count_the_rest():
    # the callback derives a running run's counters from its task events with this function
    tasks = [{"host": 5, "status": "ok"}, "not a task", task("h1", status="changed"), task("h2", status="failed")]
    assert rd.hosts_from_tasks(tasks) == {"h1": counters(ok=1, changed=1), "h2": counters(failures=1)}


# --- validate: records entries (the fast path must accept nothing the full checks refuse) -------

def _record_with(**changes):
    entry = rec_entry()
    entry["record"].update(changes)
    return entry


@pytest.mark.parametrize("bad, message", [
    ("x", "records[1] must be a mapping"),
    ([1], "records[1] must be a mapping"),
    (dict(rec_entry(), host=5), "records[1].host must be a string, got int"),
    (dict(rec_entry(), task=5), "records[1].task must be a string, got int"),
    (dict(rec_entry(), record=[1]), "records[1].record record is not a mapping"),
    (_record_with(samples={}), "records[1].record samples must be a list of numbers"),
    (_record_with(samples=5), "records[1].record samples must be a list of numbers"),
    (_record_with(stats=[]), "records[1].record stats must be a mapping"),
    (_record_with(warmup=1.5), "records[1].record warmup must be a non-negative integer"),
    (_record_with(failures=1.5), "records[1].record failures must be a non-negative integer"),
    (_record_with(warmup=-1, failures=-1),
     "records[1].record warmup must be a non-negative integer; failures must be a non-negative integer"),
    (_record_with(errors={}), "records[1].record errors must be a list"),
    (_record_with(context=[]), "records[1].record context must be a mapping"),
])
def test_a_bad_records_entry_after_a_good_one_is_refused_naming_it(tmp_path, bad, message):
    doc = document(records=[rec_entry(), bad])
    assert_refused(write(tmp_path, "results.json", json.dumps(doc)), message)


def _huge_sample_file(tmp_path):
    doc = document(records=[rec_entry(samples=(0.5,))])
    return write(tmp_path, "results.json", json.dumps(doc).replace("[0.5]", "[1%s]" % ("0" * 400)))


def test_a_record_with_an_integer_beyond_the_float_range_is_not_accepted(tmp_path):
    with pytest.raises(ResultsError):
        rd.load(_huge_sample_file(tmp_path))


def test_a_record_with_an_integer_beyond_the_float_range_is_refused_naming_the_sample(tmp_path):
    path = _huge_sample_file(tmp_path)
    assert_refused(path, "records[0].record samples[0] is not a finite number")


# --- validate: the other fields' whole messages ------------------------------------------------

def _set(path, value):
    def mutate(doc):
        *parents, last = path
        target = doc
        for key in parents:
            target = target[key]
        target[last] = value
        return doc
    return mutate


@pytest.mark.parametrize("mutate, message", [
    (lambda doc: [], "document must be a mapping"),
    (_set(["run"], []), "run must be a mapping"),
    (_set(["run", "started_at"], 5), "run.started_at must be a string, got int"),
    (_set(["run", "playbooks"], {}), "run.playbooks must be a list"),
    (_set(["run", "controller"], []), "run.controller must be a mapping"),
    (_set(["hosts"], []), "hosts must be a mapping"),
    (_set(["hosts", "password"], []), "hosts (entry 1) must be a mapping"),
    (_set(["hosts"], {"a b": []}), "hosts (entry 0) must be a mapping"),
    (_set(["records"], {}), "records must be a list"),
    (_set(["probes"], {}), "probes must be a list"),
    (_set(["records"], [5]), "records[0] must be a mapping"),
    (_set(["probes"], [5]), "probes[0] must be a mapping"),
    (_set(["probes"], [{"host": "h1", "play": "P", "task": "T", "result": []}]), "probes[0].result must be a mapping"),
    (_set(["tasks"], [5]), "tasks[0] must be a mapping"),
    (_set(["tasks"], [task(status="weird")]), "tasks[0].status is 'weird', expected one of ok, changed, failed, skipped, unreachable"),
    (_set(["totals"], []), "totals must be a mapping"),
    (_set(["totals", "plays"], {}), "totals.plays must be a list"),
    (_set(["missing"], [5]), "missing[0] must be a mapping"),
])
def test_every_validation_refusal_has_its_whole_message(tmp_path, mutate, message):
    doc = mutate(document())
    assert_refused(write(tmp_path, "results.json", json.dumps(doc)), message)


@pytest.mark.parametrize("mutate", [
    _set(["tasks"], [task(seconds=1e12)]),
    _set(["tasks"], [dict(task(), items=0)]),
    _set(["run", "slice"], {"index": 1023, "count": 1024}),
    _set(["outcomes"], dict(("name%d" % i, i) for i in range(1024))),
], ids=["task-seconds-1e12", "items-0", "slice-count-1024", "outcomes-1024"])
def test_a_figure_exactly_at_its_bound_is_accepted(tmp_path, mutate):
    doc = mutate(document())
    assert rd.load(write(tmp_path, "results.json", json.dumps(doc))) == doc


# --- merge --------------------------------------------------------------------------------------

def test_merge_of_nothing_is_refused_with_its_message():
    with pytest.raises(ResultsError) as err:
        rd.merge([])
    assert str(err.value) == "merge: no results documents given"


def test_merge_run_takes_earliest_start_union_of_playbooks_first_controller_and_first_runner():
    a = document(run("r1", started="2026-11-28T14:00:05.000Z", playbooks=["/a.yml"], controller={"host": "ctl1"}))
    b = document(run("r2", started=T0, playbooks=["/a.yml", "/b.yml"], controller={"host": "ctl2"},
                     runner={"image": "ee"}))
    merged = rd.merge([a, b])["run"]
    assert merged == {"id": "r1+r2", "started_at": T0, "finished_at": "2026-11-28T14:00:10.000Z", "status": "ok",
                      "playbooks": ["/a.yml", "/b.yml"], "controller": {"host": "ctl1"}, "runner": {"image": "ee"},
                      "slice": None}


def test_merge_counts_an_entry_once_whatever_the_order_of_its_keys():
    t = task()
    reordered = dict(reversed(list(t.items())))
    merged = rd.merge([document(run("r1"), tasks=[t]), document(run("r2"), tasks=[reordered])])
    assert merged["tasks"] == [t]


def test_merge_keeps_the_records_of_unsliced_runs():
    a = document(run("r1"), records=[rec_entry(name="git/a")])
    b = document(run("r2"), records=[rec_entry(name="git/b")])
    assert [e["record"]["name"] for e in rd.merge([a, b])["records"]] == ["git/a", "git/b"]


def test_merge_keeps_every_record_of_a_host_listed_by_one_slice_only():
    # only a host listed in the hosts of several slices is shared (measured again by each)
    a = document(run("r1", slice_={"index": 0, "count": 2}), hosts={"h1": counters(), "ctl": counters()},
                 records=[rec_entry("ctl", started_at=T0)])
    b = document(run("r2", slice_={"index": 1, "count": 2}), hosts={"h2": counters()},
                 records=[rec_entry("ctl", started_at="2026-11-28T14:00:05.000Z")])
    starts = [e["record"]["context"]["started_at"] for e in rd.merge([a, b])["records"]]
    assert starts == [T0, "2026-11-28T14:00:05.000Z"]


@pytest.mark.parametrize("status", ["running", "interrupted"])
def test_merge_lists_a_slice_whose_run_did_not_finish(status):
    a = document(run("r1", slice_={"index": 0, "count": 2}))
    b = document(run("r2", slice_={"index": 1, "count": 2}, status=status, finished=None))
    assert rd.merge([a, b])["missing"] == [{"what": "slice 1 of 2 (run r2)",
                                            "why": "the slice's run is %s: what it had not finished is not here" % status}]


# --- summary ------------------------------------------------------------------------------------

def test_summary_lists_exactly_the_five_slowest_task_entries():
    tasks = [task(name="T%d" % i, seconds=float(i)) for i in range(6)]
    slowest = rd.summary(document(tasks=tasks))["slowest"]
    assert slowest == [{"task": "T%d" % i, "host": "h1", "seconds": float(i)} for i in (5, 4, 3, 2, 1)]
