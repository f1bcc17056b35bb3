"""_results_doc: the results document (load results.json / results.jsonl, validate, fold, merge, summary)."""
import copy
import json
import os

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _results_doc
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record
from ansible_collections.o2edge.perf.plugins.plugin_utils._results_doc import ResultsError


def rec(name, started_at="2026-11-28T14:00:00.000Z", samples=(0.1, 0.2)):
    return make_record(name, "git", "s", list(samples), context={"host": "ctl", "started_at": started_at,
                                                                 "versions": {"python": "3.11.7"}})


def counters(**kw):
    c = dict.fromkeys(_results_doc.HOST_COUNTERS, 0)
    c.update(kw)
    return c


def task(host="h1", name="T", seconds=1.0, status="ok", role=None, started_at="2026-11-28T14:00:01.000Z", play="P"):
    return {"play": play, "role": role, "task": name, "action": "x", "host": host, "status": status,
            "seconds": seconds, "started_at": started_at}


def run(run_id="r1", started="2026-11-28T14:00:00.000Z", finished="2026-11-28T14:00:10.000Z", status="ok", slice_=None):
    return {"id": run_id, "started_at": started, "finished_at": finished, "status": status, "playbooks": ["/p.yml"],
            "controller": {"host": "ctl", "python": "3.11.7", "ansible_core": "2.19.14", "collection": "0.1.0"},
            "runner": None, "slice": slice_}


def events(run_id="r1", end=True, slice_=None, status="ok"):
    r = run(run_id, finished=None, status="running", slice_=slice_)
    out = [
        {"event": "run", "schema": _results_doc.SCHEMA, "run": r},
        {"event": "play", "play": "P", "index": 0, "started_at": "2026-11-28T14:00:00.500Z"},
        dict(event="task", **task("h1", "A", 1.5, "changed", role="r", started_at="2026-11-28T14:00:01.000Z")),
        {"event": "record", "host": "h1", "play": "P", "task": "A", "record": rec("git/status")},
        {"event": "probe", "host": "h1", "play": "P", "task": "A",
         "result": {"site": "edge1", "service": "ssh", "kind": "ssh", "address": "198.18.1.10", "port": 22, "ok": True,
                    "state": "up", "latency_ms": 1.0, "connect_ms": 0.2, "detail": "", "info": {}}},
        dict(event="task", **task("h2", "A", 2.0, "failed", role="r", started_at="2026-11-28T14:00:01.000Z")),
        {"event": "missing", "what": "x", "why": "y"},
    ]
    if end:
        out += [{"event": "play_done", "play": "P", "index": 0, "seconds": 2.75},
                {"event": "end", "run": {"finished_at": "2026-11-28T14:00:10.000Z", "status": status, "playbooks": ["/p.yml"]},
                 "hosts": {"h1": counters(ok=1, changed=1), "h2": counters(failures=1)}, "wall_seconds": 10.0}]
    return out


def jsonl(evs):
    return "".join(json.dumps(e) + "\n" for e in evs)


def write(tmp_path, name, text):
    path = str(tmp_path / name)
    with open(path, "w") as handle:
        handle.write(text)
    return path


def test_fold_finished_run():
    doc = _results_doc.fold(events(status="failed"))
    assert doc["run"]["status"] == "failed" and doc["run"]["finished_at"] == "2026-11-28T14:00:10.000Z"
    assert doc["hosts"]["h2"]["failures"] == 1
    assert [t["host"] for t in doc["tasks"]] == ["h1", "h2"] and "event" not in doc["tasks"][0]
    assert doc["records"][0]["record"]["name"] == "git/status"
    assert doc["probes"][0]["result"]["state"] == "up"
    assert doc["missing"] == [{"what": "x", "why": "y"}]
    assert doc["totals"] == {"wall_seconds": 10.0, "plays": [{"play": "P", "seconds": 2.75}],
                             "roles": [{"role": "r", "seconds": 3.5}]}
    _results_doc.validate(doc)


def test_fold_running_run_derives_hosts_and_seconds():
    doc = _results_doc.fold(events(end=False))
    assert doc["run"]["status"] == "running" and doc["run"]["finished_at"] is None
    assert doc["hosts"] == {"h1": counters(ok=1, changed=1), "h2": counters(failures=1)}
    # last task ends at 14:00:03.0: the run started 14:00:00.0, the play at 14:00:00.5
    assert doc["totals"]["wall_seconds"] == 3.0
    assert doc["totals"]["plays"] == [{"play": "P", "seconds": 2.5}]


def test_fold_serial_batches_add_up():
    evs = events(end=False)[:1] + [
        {"event": "play", "play": "S", "index": 0, "started_at": "2026-11-28T14:00:00.000Z"},
        {"event": "play_done", "play": "S", "index": 0, "seconds": 1.25},
        {"event": "play", "play": "S", "index": 0, "started_at": "2026-11-28T14:00:02.000Z"},
        {"event": "play_done", "play": "S", "index": 0, "seconds": 2.5},
        {"event": "play", "play": "S", "index": 1, "started_at": "2026-11-28T14:00:05.000Z"},
        {"event": "play_done", "play": "S", "index": 1, "seconds": 1.0},
    ]
    assert _results_doc.fold(evs)["totals"]["plays"] == [{"play": "S", "seconds": 3.75}, {"play": "S", "seconds": 1.0}]


@pytest.mark.parametrize("evs, message", [
    ([], "no 'run' event"),
    ([{"event": "task"}], "event 1: 'task' before the 'run' event"),
    ([{"event": "run", "schema": "other/v9", "run": {}}], "event 1: schema is 'other/v9', expected 'o2edge.perf/results/v1'"),
    ([{"event": "run", "schema": _results_doc.SCHEMA, "run": {}}] * 2, "event 2: a second 'run' event"),
    ([{"event": "run", "schema": _results_doc.SCHEMA, "run": {}}, {"event": "weird"}], "event 2: unknown event 'weird'"),
    ([["not", "a", "mapping"]], "event 1: not an event"),
])
def test_fold_errors(evs, message):
    with pytest.raises(ResultsError) as err:
        _results_doc.fold(evs)
    assert message in str(err.value)


def test_load_json_and_jsonl_agree(tmp_path):
    doc = _results_doc.fold(events())
    p_json = write(tmp_path, "results.json", json.dumps(doc))
    p_jsonl = write(tmp_path, "results.jsonl", jsonl(events()))
    assert _results_doc.load(p_json) == _results_doc.load(p_jsonl) == doc
    assert _results_doc.load(str(tmp_path)) == doc  # a directory: results.json first
    os.unlink(p_json)
    assert _results_doc.load(str(tmp_path))["run"]["status"] == "ok"  # then results.jsonl


def test_load_directory_without_results(tmp_path):
    with pytest.raises(ResultsError) as err:
        _results_doc.load(str(tmp_path))
    assert str(err.value) == "%s: neither results.json nor results.jsonl in this directory" % tmp_path


def test_truncated_results_json_is_a_clear_error(tmp_path):
    text = json.dumps(_results_doc.fold(events()))
    # cut right after a key's colon: the value that should follow is missing
    path = write(tmp_path, "results.json", text[:text.index('"tasks": ') + len('"tasks": ')])
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    msg = str(err.value)
    assert msg.startswith(path + ": is not valid JSON: Expecting value (line 1, column ")
    assert msg.endswith("(the file ends early: truncated?)")


def test_invalid_json_in_the_middle_is_not_called_truncated(tmp_path):
    path = write(tmp_path, "results.json", '{"schema": oops, "run": {}}')
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    assert "(line 1, column 12)" in str(err.value) and "truncated" not in str(err.value)


def test_empty_unreadable_big_and_binary_files(tmp_path):
    with pytest.raises(ResultsError, match=r"results.json: file is empty$"):
        _results_doc.load(write(tmp_path, "results.json", "  \n"))
    with pytest.raises(ResultsError, match="absent.json does not exist"):
        _results_doc.load(str(tmp_path / "absent.json"))
    with pytest.raises(ResultsError, match=r"big.json is 11 bytes, over the limit of 10; not read"):
        _results_doc.load(write(tmp_path, "big.json", "x" * 11), max_bytes=10)
    path = str(tmp_path / "bin.json")
    with open(path, "wb") as handle:
        handle.write(b'{"a": "\xff"}')
    with pytest.raises(ResultsError, match=r"bin.json is not UTF-8 text \(at byte offset 7\)"):
        _results_doc.load(path)


def test_deep_nesting_is_refused(tmp_path):
    with pytest.raises(ResultsError, match="nests deeper than 64 levels"):
        _results_doc.load(write(tmp_path, "results.json", "[" * 100000 + "]" * 100000))
    with pytest.raises(ResultsError, match="line 1: nests deeper than 64 levels"):
        _results_doc.load(write(tmp_path, "results.jsonl", "[" * 100000 + "]" * 100000 + "\n"))


def test_jsonl_partial_last_line_is_left_out_and_listed(tmp_path):
    text = jsonl(events(end=False))
    line = json.dumps(dict(event="task", **task("h3", "B", 1.0)))
    path = write(tmp_path, "results.jsonl", text + line[:20])
    doc = _results_doc.load(path)
    assert [t["host"] for t in doc["tasks"]] == ["h1", "h2"]
    assert doc["missing"][-1] == {"what": "results.jsonl line 8",
                                  "why": "partial last line left out (the run was still writing it or was cut short)"}
    assert doc["run"]["status"] == "running"
    # a whole last line without its newline is read
    doc = _results_doc.load(write(tmp_path, "whole.jsonl", text + line))
    assert [t["host"] for t in doc["tasks"]] == ["h1", "h2", "h3"] and len(doc["missing"]) == 1


def test_jsonl_bad_line_in_the_middle_names_it(tmp_path):
    lines = jsonl(events()).splitlines()
    lines[3] = lines[3][:10]
    path = write(tmp_path, "results.jsonl", "\n".join(lines) + "\n")
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    assert str(err.value).startswith("%s: line 4: is not valid JSON: " % path)


def test_jsonl_fold_error_names_file(tmp_path):
    path = write(tmp_path, "results.jsonl", '{"event": "task"}\n')
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    assert str(err.value) == "%s: event 1: 'task' before the 'run' event" % path


def _broken(mutate):
    doc = _results_doc.fold(events())
    mutate(doc)
    return doc


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("tasks"), "tasks is missing"),
    (lambda d: d.update(schema="x"), "schema is 'x', expected"),
    (lambda d: d["run"].update(status="done"), "run.status is 'done', expected one of ok, failed, interrupted, running"),
    (lambda d: d["run"].pop("finished_at"), "run.finished_at is missing"),
    (lambda d: d["run"].update(id=5), "run.id must be a string, got int"),
    (lambda d: d["run"].update(slice={"index": 3, "count": 3}), "run.slice must hold integers 0 <= index < count"),
    (lambda d: d["run"].update(runner="job"), "run.runner must be a mapping or null"),
    (lambda d: d["hosts"]["h1"].update(ok=-1), "hosts.h1.ok must be a non-negative integer"),
    (lambda d: d["hosts"]["h1"].pop("rescued"), "hosts.h1.rescued must be a non-negative integer"),
    (lambda d: d["records"][0]["record"].pop("stats"), "records[0].record missing key stats"),
    (lambda d: d["records"][0].pop("play"), "records[0].play must be a string"),
    (lambda d: d["probes"][0]["result"].pop("state"), "probes[0].result.state must be a string"),
    (lambda d: d["tasks"][1].update(seconds=-0.5), "tasks[1].seconds must be a finite number from 0 to 1e+12"),
    (lambda d: d["tasks"][1].update(seconds=True), "tasks[1].seconds must be a finite number from 0 to 1e+12"),
    (lambda d: d["tasks"][0].update(status="done"), "tasks[0].status is 'done', expected one of"),
    (lambda d: d["tasks"][0].pop("role"), "tasks[0].role is missing"),
    (lambda d: d["tasks"][0].update(items=-1), "tasks[0].items must be a non-negative integer"),
    (lambda d: d["tasks"][0].update(items=True), "tasks[0].items must be a non-negative integer"),
    (lambda d: d["totals"].update(wall_seconds="1"), "totals.wall_seconds must be a finite number from 0 to 1e+12"),
    (lambda d: d["totals"]["roles"].append({"role": "x"}), "totals.roles[1] must be {role: str, seconds: a finite number from 0 to 1e+12}"),
    (lambda d: d["missing"].append({"what": "x"}), "missing[1].why must be a string"),
])
def test_validate_names_the_field(tmp_path, mutate, message):
    path = write(tmp_path, "results.json", json.dumps(_broken(mutate)))
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    assert str(err.value).startswith(path + ": ")
    assert message in str(err.value)


def test_validate_accepts_null_role_and_slice():
    doc = _results_doc.fold(events())
    doc["run"]["slice"] = {"index": 0, "count": 1}
    assert _results_doc.validate(doc) is doc


def slice_doc(index, count, run_id, controller_started="2026-11-28T14:00:00.000Z", status="ok",
              started="2026-11-28T14:00:00.000Z", finished="2026-11-28T14:00:10.000Z"):
    doc = _results_doc.fold(events(run_id=run_id, slice_={"index": index, "count": count}, status=status))
    doc["run"].update(started_at=started, finished_at=finished)
    doc["records"] = [{"host": "localhost", "play": "P", "task": "A", "record": rec("ctl/baseline", controller_started)},
                      {"host": "edge%d" % index, "play": "P", "task": "A", "record": rec("edge/x")}]
    doc["probes"][0]["result"]["site"] = "edge%d" % index
    return doc


def test_merge_slices():
    a = slice_doc(0, 3, "ra", started="2026-11-28T14:00:00.000Z", finished="2026-11-28T14:00:10.000Z")
    b = slice_doc(2, 3, "rb", status="failed", started="2026-11-28T14:00:02.000Z", finished="2026-11-28T14:00:20.500Z")
    before = copy.deepcopy([a, b])
    m = _results_doc.merge([a, b])
    assert [a, b] == before  # inputs untouched
    assert m["run"]["id"] == "ra+rb" and m["run"]["status"] == "failed" and m["run"]["slice"] is None
    assert m["run"]["started_at"] == "2026-11-28T14:00:00.000Z" and m["run"]["finished_at"] == "2026-11-28T14:00:20.500Z"
    assert m["hosts"]["h1"] == counters(ok=2, changed=2) and m["hosts"]["h2"]["failures"] == 2
    # the controller-side record (same host, name, started_at) once; each edge's record kept
    assert sorted((r["host"], r["record"]["name"]) for r in m["records"]) == [
        ("edge0", "edge/x"), ("edge2", "edge/x"), ("localhost", "ctl/baseline")]
    assert sorted(p["result"]["site"] for p in m["probes"]) == ["edge0", "edge2"]
    assert len(m["tasks"]) == 2  # identical task entries counted once
    assert {"what": "slice 1 of 3", "why": "no results document was given for this slice"} in m["missing"]
    assert [x for x in m["missing"] if x["what"].startswith("slice")] == [
        {"what": "slice 1 of 3", "why": "no results document was given for this slice"}]
    assert m["totals"]["wall_seconds"] == 20.5
    assert m["totals"]["roles"] == [{"role": "r", "seconds": 3.5}]
    _results_doc.validate(m)


def test_merge_keeps_controller_records_measured_at_different_times():
    a = slice_doc(0, 2, "ra")
    b = slice_doc(1, 2, "rb", controller_started="2026-11-28T14:05:00.000Z")
    m = _results_doc.merge([a, b])
    assert sum(1 for r in m["records"] if r["record"]["name"] == "ctl/baseline") == 2
    assert not [x for x in m["missing"] if x["what"].startswith("slice")]


def test_merge_status_and_running_wall():
    a = slice_doc(0, 2, "ra")
    b = slice_doc(1, 2, "rb", status="interrupted")
    assert _results_doc.merge([a, b])["run"]["status"] == "interrupted"
    c = _results_doc.fold(events(run_id="rc", end=False))
    m = _results_doc.merge([a, c])
    assert m["run"]["status"] == "running" and m["run"]["finished_at"] is None
    assert m["totals"]["wall_seconds"] == max(a["totals"]["wall_seconds"], c["totals"]["wall_seconds"])
    assert _results_doc.merge([a, copy.deepcopy(a)])["run"]["status"] == "ok"


def test_merge_errors_and_single():
    with pytest.raises(ResultsError, match="merge: no results documents given"):
        _results_doc.merge([])
    bad = _results_doc.fold(events())
    bad["tasks"][0]["seconds"] = -1
    with pytest.raises(ResultsError, match=r"merge: document 1: tasks\[0\].seconds"):
        _results_doc.merge([_results_doc.fold(events()), bad])
    one = _results_doc.fold(events())
    assert _results_doc.merge([one]) == one


def test_summary():
    doc = _results_doc.fold(events(status="failed"))
    doc["records"].append({"host": "h2", "play": "P", "task": "A",
                           "record": make_record("x", "git", "s", [], failures=2, context={"host": "h", "started_at": "t", "versions": {}})})
    s = _results_doc.summary(doc)
    assert s == {"run_id": "r1", "status": "failed", "hosts": 2, "failed_hosts": ["h2"], "tasks": 2, "records": 2,
                 "records_with_failures": 1, "probes": 1, "probes_up": 1, "missing": 1, "wall_seconds": 10.0,
                 "slowest": [{"task": "A", "host": "h2", "seconds": 2.0}, {"task": "A", "host": "h1", "seconds": 1.5}]}


@pytest.mark.parametrize("status", ["ok", "changed", "failed", "skipped", "unreachable"])
def test_every_task_status_ansible_reports_is_valid(status):
    doc = _results_doc.fold(events())
    doc["tasks"][0]["status"] = status
    _results_doc.validate(doc)
    doc["tasks"][0]["status"] = "skip"
    with pytest.raises(ResultsError, match="status"):
        _results_doc.validate(doc)


def test_timestamps_with_z_offset_or_none_are_the_same_utc_instant():
    z = _results_doc._iso("2026-11-28T14:00:00.500Z")
    assert z == _results_doc._iso("2026-11-28T14:00:00.500+00:00") == _results_doc._iso("2026-11-28T14:00:00.500")
    assert z.utcoffset().total_seconds() == 0 and z.microsecond == 500000
    assert _results_doc._iso("2026-11-28T15:00:00.500+01:00") == z
    assert _results_doc._iso("not a time") is None and _results_doc._iso(None) is None
    assert _results_doc._span("2026-11-28T14:00:00.000Z", "2026-11-28T14:00:02.250Z") == 2.25
    assert _results_doc._span("2026-11-28T14:00:02.000Z", "2026-11-28T14:00:00.000Z") == 0.0
    assert _results_doc._span("2026-11-28T14:00:00.000Z", "bad") is None


def test_role_totals_sum_host_seconds_and_treat_missing_seconds_as_zero():
    tasks = [task(role="r1", seconds=0.1234567), task(host="h2", role="r1", seconds=0.2),
             task(role="r2", seconds=None), task(role=None, seconds=5.0)]
    assert _results_doc.role_totals(tasks) == [{"role": "r1", "seconds": 0.323457}, {"role": "r2", "seconds": 0.0}]


def test_empty_document_has_every_list_empty_and_zero_wall_time():
    doc = _results_doc.empty_document({"id": "r"})
    assert doc == {"schema": "o2edge.perf/results/v1", "run": {"id": "r"}, "hosts": {}, "records": [], "probes": [],
                   "tasks": [], "totals": {"wall_seconds": 0.0, "plays": [], "roles": []}, "missing": [],
                   "outcomes": {}}


def test_host_counters_from_tasks_count_each_status_once():
    tasks = [task(status=s) for s in ("ok", "changed", "failed", "skipped", "unreachable")]
    assert _results_doc.hosts_from_tasks(tasks) == {"h1": {"ok": 2, "changed": 1, "failures": 1, "unreachable": 1, "skipped": 1,
                                                           "rescued": 0, "ignored": 0}}


# --------------------------------------------------------------------------- issue 15: hostile input

@pytest.fixture
def no_hang():
    """Fail (instead of hanging the suite) when the code under test blocks, e.g. on a FIFO."""
    import signal

    def expired(signum, frame):
        raise AssertionError("blocked for 20 s (a FIFO read without O_NONBLOCK?)")
    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(20)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def shared_slice(index, count, run_id, controller):
    """A slice of a sliced run whose ``hosts`` lists localhost (the controller every slice shares)."""
    doc = _results_doc.fold(events(run_id=run_id, slice_={"index": index, "count": count}))
    doc["hosts"]["localhost"] = counters(ok=1)
    doc["hosts"]["edge%d" % index] = counters(ok=1)
    doc["records"] = [{"host": "localhost", "play": "P", "task": "A", "record": rec(name, started)}
                      for name, started in controller]
    doc["records"].append({"host": "edge%d" % index, "play": "P", "task": "A", "record": rec("edge/x")})
    return doc


def test_merge_counts_shared_controller_records_once_but_keeps_distinct_ones_of_one_slice():
    # Bug (issue 15, 6): on a host shared by slices (localhost listed in every slice's hosts) merge kept
    # one record per name, dropping a second measurement taken two minutes later in the same slice;
    # the old fixture left localhost out of hosts and never exercised the rule.
    first = [("ctl/baseline", "2026-11-28T14:00:00.000Z"), ("ctl/baseline", "2026-11-28T14:02:00.000Z")]
    again = [("ctl/baseline", "2026-11-28T14:05:00.000Z"), ("ctl/other", "2026-11-28T14:06:00.000Z")]
    a, b = shared_slice(0, 2, "ra", first), shared_slice(1, 2, "rb", again)
    m = _results_doc.merge([b, a])
    ctl = [(r["record"]["name"], r["record"]["context"]["started_at"]) for r in m["records"] if r["host"] == "localhost"]
    # slice 0's two measurements kept; slice 1's repeat of ctl/baseline counted once (dropped); ctl/other kept
    assert ctl == first + [("ctl/other", "2026-11-28T14:06:00.000Z")]
    assert sorted(r["host"] for r in m["records"] if r["host"] != "localhost") == ["edge0", "edge1"]
    assert m["hosts"]["localhost"] == counters(ok=2)


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
def test_non_finite_numbers_in_a_results_file_are_refused_naming_the_line(tmp_path, literal):
    # Bug (issue 15, 3): NaN, Infinity and 1e999 were read as floats and written out again as NaN/Infinity.
    text = json.dumps(_results_doc.fold(events())).replace('"wall_seconds": 10.0', '"wall_seconds": %s' % literal)
    path = write(tmp_path, "results.json", text)
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    assert str(err.value).startswith(path + ": holds ")
    lines = jsonl(events()).replace('"seconds": 2.75', '"seconds": %s' % literal)
    path = write(tmp_path, "results.jsonl", lines)
    with pytest.raises(ResultsError, match=r"results.jsonl: line 8: holds "):
        _results_doc.load(path)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["records"][0]["record"]["samples"].__setitem__(1, float("nan")), "records[0].record samples[1] is not a finite number"),
    (lambda d: d["records"][0]["record"]["stats"].update(mean=float("inf")), "records[0].record stats.mean must be a finite number or None"),
    (lambda d: d["records"][0]["record"].update(name=7), "records[0].record name must be a non-empty string"),
    (lambda d: d["records"][0]["record"].update(name=""), "records[0].record name must be a non-empty string"),
    (lambda d: d["tasks"][0].update(seconds=float("nan")), "tasks[0].seconds must be a finite number from 0 to 1e+12"),
    (lambda d: d["tasks"][0].update(seconds=1e308), "tasks[0].seconds must be a finite number from 0 to 1e+12"),
    (lambda d: d["totals"].update(wall_seconds=float("inf")), "totals.wall_seconds must be a finite number"),
    (lambda d: d["run"].update(slice={"index": 0, "count": 1025}), "run.slice.count is 1025, more than the 1024 slices allowed"),
])
def test_documents_with_non_finite_figures_bad_names_or_huge_slice_counts_are_refused(mutate, message):
    # Bug (issue 15, 3): a NaN sample, an infinite stat, an int or empty record name and NaN task seconds
    # were accepted (docs/statistics.md says a NaN sample is refused naming the record and index); a
    # slice count of 1e8 made merge build one missing entry per absent slice until memory ran out
    # (1025 here: just over the bound, so that a regression fails without exhausting memory).
    doc = _results_doc.fold(events())
    mutate(doc)
    with pytest.raises(ResultsError) as err:
        _results_doc.merge([doc, _results_doc.fold(events(run_id="r2"))])
    assert message in str(err.value)


def test_a_fifo_results_file_is_refused_without_blocking(tmp_path, no_hang):
    # Bug (issue 15, 4): a named pipe as the results file blocked open() forever.
    path = str(tmp_path / "results.json")
    os.mkfifo(path)
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    assert str(err.value) == "results file %s is a named pipe (FIFO), not a regular file; not read" % path


@pytest.mark.parametrize("field, value", [
    ("schema", "x-%s-{{ secret }}" % "A" * 80), ("status", "hunter2 is the password"), ("event", "<b>payload</b>")])
def test_messages_name_the_position_never_the_content(tmp_path, field, value):
    # Bug (issue 15, 8): a bad schema, status or event name was quoted back in the error message.
    evs = events()
    if field == "schema":
        evs[0]["schema"] = value
    elif field == "status":
        evs[-1]["run"]["status"] = value
    else:
        evs[2]["event"] = value
    path = write(tmp_path, "results.jsonl", jsonl(evs))
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    assert value not in str(err.value) and "hunter2" not in str(err.value) and "(not shown)" in str(err.value)
    assert str(err.value).startswith(path + ": ")


def test_secret_looking_values_are_masked_when_a_foreign_file_is_loaded(tmp_path):
    # Bug (issue 15, 2): the secret rule held only for what the callback writes; a results file written by
    # anything else kept URLs with passwords, secret query parameters and JWTs as they were.
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlX3NlY3JldA"
    doc = _results_doc.fold(events())
    doc["records"][0]["record"]["errors"] = [{"error": "GET https://u:pw123@h.invalid/x?token=tk987 failed: " + jwt}]
    doc["records"][0]["record"]["context"]["api_token"] = "tk987"
    doc["probes"][0]["result"]["detail"] = "Bearer " + jwt
    path = write(tmp_path, "results.json", json.dumps(doc))
    loaded = _results_doc.load(path)
    text = json.dumps(loaded)
    assert "pw123" not in text and "tk987" not in text and jwt not in text
    assert loaded["records"][0]["record"]["errors"][0]["error"] == \
        "GET https://********@h.invalid/x?******** failed: ********"
    assert loaded["probes"][0]["result"]["detail"] == "Bearer ********"
    merged = json.dumps(_results_doc.merge([doc, _results_doc.fold(events(run_id="r2"))]))
    assert "pw123" not in merged and "tk987" not in merged and jwt not in merged


def test_shown_quotes_only_short_identifiers_and_plain_scalars():
    # Mutation survivors (issue 15, 8): which values a message may quote.
    assert _results_doc.shown("ok-1.2/x") == "'ok-1.2/x'" and _results_doc.shown(None) == "None"
    assert _results_doc.shown(5) == "5" and _results_doc.shown(True) == "True"
    assert _results_doc.shown(1.5) == "a float (not shown)" and _results_doc.shown(["x"]) == "a list (not shown)"
    assert _results_doc.shown("api_token") == "a str (not shown)" and _results_doc.shown("x" * 64) == "a str (not shown)"


def test_iso_reads_z_timestamps_without_fraction():
    # Mutation survivor of _iso (value[:-2] for value[:-1]): a Z timestamp without a fraction lost a digit.
    assert _results_doc._iso("2026-11-28T14:00:05Z") == _results_doc._iso("2026-11-28T14:00:05.000+00:00")
    assert _results_doc._iso("2026-11-28T14:00:05Z").second == 5


@pytest.mark.parametrize("bad, message", [
    ({"host": ["h"]}, "tasks[0].host must be a string"),
    ({"role": ["r"]}, "tasks[0].role must be a string"),
    ({"seconds": "x"}, "tasks[0].seconds must be a finite number"),
    ({"seconds": None}, "tasks[0].seconds must be a finite number"),
])
def test_a_running_jsonl_with_malformed_task_entries_is_a_named_error_not_a_traceback(tmp_path, bad, message):
    # Bug (issue 15, 8): fold() of a run still in progress derived host counters, role totals and the
    # end of the last task before validating, so an unhashable host or role or a string for seconds
    # raised TypeError/ValueError (a traceback) instead of naming the entry.
    evs = events(end=False)
    evs[2].update(bad)
    path = write(tmp_path, "results.jsonl", jsonl(evs))
    with pytest.raises(ResultsError) as err:
        _results_doc.load(path)
    assert message in str(err.value)


def test_host_counters_add_up_and_play_seconds_default_to_zero():
    tasks = [task(status=s) for s in ("changed", "changed", "failed", "failed", "skipped", "skipped", "unreachable")]
    tasks.append({"host": ["not a host"], "status": "ok"})  # left for validate() to name
    assert _results_doc.hosts_from_tasks(tasks) == {"h1": counters(ok=2, changed=2, failures=2, skipped=2, unreachable=1)}
    for seconds in (None, True, "x"):
        evs = events()
        evs[-2]["seconds"] = seconds
        assert _results_doc.fold(evs)["totals"]["plays"] == [{"play": "P", "seconds": 0.0}]


# --- outcomes: the run's set_stats data ---------------------------------------------------------

def test_outcomes_of_the_end_event_reach_the_document_and_jsonl_agrees(tmp_path):
    evs = events()
    evs[-1]["outcomes"] = {"o2edge_fix_edge_connectivity": {"summary": "3/4 -> 4/4 sites fully up"}}
    doc = _results_doc.fold(evs)
    assert doc["outcomes"] == {"o2edge_fix_edge_connectivity": {"summary": "3/4 -> 4/4 sites fully up"}}
    from_json = _results_doc.load(write(tmp_path, "results.json", json.dumps(doc)))
    from_jsonl = _results_doc.load(write(tmp_path, "results.jsonl", jsonl(evs)))
    assert from_json["outcomes"] == from_jsonl["outcomes"] == doc["outcomes"]


def test_a_running_or_old_document_has_empty_outcomes(tmp_path):
    assert _results_doc.fold(events(end=False))["outcomes"] == {}
    old = _results_doc.fold(events())
    del old["outcomes"]  # written by 1.0.0, before the field existed
    assert _results_doc.load(write(tmp_path, "results.json", json.dumps(old)))["outcomes"] == {}
    assert _results_doc.merge([old])["outcomes"] == {}


@pytest.mark.parametrize("outcomes, message", [
    ([1, 2], "results: outcomes must be a mapping of names to values"),
    ({"": 1}, "results: outcomes (name 0) must be a non-empty string"),
    (dict(("k%d" % i, i) for i in range(_results_doc.MAX_OUTCOMES + 1)), "results: outcomes has 1025 names"),
])
def test_outcomes_of_the_wrong_shape_are_refused_naming_the_field(outcomes, message):
    doc = _results_doc.fold(events())
    doc["outcomes"] = outcomes
    with pytest.raises(ResultsError) as err:
        _results_doc.validate(doc)
    assert str(err.value).startswith(message)


def test_an_end_event_with_outcomes_not_a_mapping_is_a_named_error():
    evs = events()
    evs[-1]["outcomes"] = ["not", "a", "mapping"]
    with pytest.raises(ResultsError, match="event 9: 'run', 'hosts' and 'outcomes' of the 'end' event must be mappings"):
        _results_doc.fold(evs)


def test_secret_looking_outcomes_are_masked_when_loaded(tmp_path):
    doc = _results_doc.fold(events())
    doc["outcomes"] = {"site": {"url": "https://u:hunter2-sentinel@example.invalid/x", "api_token": "tok-sentinel"}}
    loaded = _results_doc.load(write(tmp_path, "results.json", json.dumps(doc)))
    assert "sentinel" not in json.dumps(loaded)
    assert loaded["outcomes"]["site"]["api_token"] == "********"


def test_merge_keeps_the_first_outcome_and_lists_a_different_one():
    a, b = _results_doc.fold(events("a")), _results_doc.fold(events("b"))
    a["outcomes"] = {"same": 1, "differ": "first", "only_a": True}
    b["outcomes"] = {"same": 1, "differ": "second", "only_b": [1]}
    merged = _results_doc.merge([a, b])
    assert merged["outcomes"] == {"same": 1, "differ": "first", "only_a": True, "only_b": [1]}
    assert [m for m in merged["missing"] if m["what"].startswith("outcome")] == [
        {"what": "outcome 'differ' of run b",
         "why": "another document set it to a different value; the first one is kept"}]
