"""_callback_recap: timing per task and host, record/probe extraction, no_log, secrets, files."""
import datetime
import json
import os
import re
from collections.abc import Mapping

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _callback_recap, _results_doc
from ansible_collections.o2edge.perf.plugins.module_utils._record import make_record


class Clock(object):
    def __init__(self):
        self.t = 100.0

    def __call__(self):
        return self.t


def stamps():
    n = [0]

    def now():
        n[0] += 1
        return "2026-11-28T14:00:%02d.000Z" % n[0]
    return now


def rec(name="git/status", started_at="2026-11-28T14:00:00.000Z", host="ctl", **context):
    ctx = {"host": host, "started_at": started_at, "versions": {"python": "3.11.7"}}
    ctx.update(context)
    return make_record(name, "git", "s", [0.1, 0.2, 0.3], context=ctx)


def probe_item(site="edge1", service="ssh", state="up", **extra):
    item = {"site": site, "service": service, "kind": "ssh", "address": "198.18.1.10", "port": 22, "ok": state == "up",
            "state": state, "latency_ms": 3.2, "connect_ms": 0.4, "detail": "banner", "info": {"banner": "SSH-2.0"}}
    item.update(extra)
    return item


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def recap(clock):
    events = []
    r = _callback_recap.Recap({"controller": {"host": "ctl"}, "runner": None, "slice": None}, sink=events.append, clock=clock, now=stamps())
    r.sink_events = events
    return r


def kinds(recap, kind):
    return [e for e in recap.events if e["event"] == kind]


def test_seconds_per_host_from_start_to_end(recap, clock):
    recap.play("P", key="p1")
    recap.task("t1", "Sleep", "ansible.builtin.command", role="r1")
    recap.host_start("t1", "h1")
    clock.t += 0.5
    recap.host_start("t1", "h2")
    clock.t += 0.25
    recap.host_end("t1", "h1", "ok", {})
    clock.t += 1.0
    recap.host_end("t1", "h2", "changed", {"changed": True})
    tasks = kinds(recap, "task")
    assert [(t["host"], t["seconds"], t["status"]) for t in tasks] == [("h1", 0.75, "ok"), ("h2", 1.25, "changed")]
    assert tasks[0] == {"event": "task", "play": "P", "role": "r1", "task": "Sleep", "action": "ansible.builtin.command",
                        "host": "h1", "status": "ok", "seconds": 0.75, "started_at": "2026-11-28T14:00:01.000Z"}
    assert tasks[1]["started_at"] == "2026-11-28T14:00:01.500Z"  # the run's start plus 0.5 s of the monotonic clock
    clock.t += 2.0
    doc = recap.finish({"h1": dict.fromkeys(_results_doc.HOST_COUNTERS, 0), "h2": dict.fromkeys(_results_doc.HOST_COUNTERS, 0)}, "ok")
    assert doc["run"]["started_at"] == "2026-11-28T14:00:01.000Z" and doc["run"]["finished_at"] == "2026-11-28T14:00:04.750Z"
    assert doc["totals"]["roles"] == [{"role": "r1", "seconds": 2.0}]
    assert doc["totals"]["plays"] == [{"play": "P", "seconds": 3.75}]
    assert doc["totals"]["wall_seconds"] == 3.75
    assert doc["run"]["status"] == "ok" and doc["run"]["finished_at"]
    assert recap.sink_events == recap.events  # every event went to the sink, in order
    _results_doc.validate(doc)


def test_stamps_are_one_timeline_whatever_the_wall_clock_does(clock):
    """Bugs: a task's start stamp read from the wall clock after its monotonic start (a descheduled thread, a
    wall-clock step) lets the task end after its run; stamps rounded up instead of truncated to the millisecond."""
    walls = iter(["2026-11-28T14:00:00.000Z", "2026-11-28T13:00:00.000Z", "2026-11-28T15:00:00.000Z"])
    r = _callback_recap.Recap({}, clock=clock, now=lambda: next(walls))  # a wall clock stepping back and forth
    clock.t += 0.0019
    r.play("P")
    r.task("t", "T", "a")
    r.host_start("t", "h1")
    clock.t += 1.0
    r.host_end("t", "h1", "ok", {})
    clock.t += 0.0004
    r.task("u", "U", "a")
    r.host_end("u", "h1", "ok", {})  # no start seen: timed, and stamped, from the task's start
    doc = r.finish(None, "ok")
    assert kinds(r, "play")[0]["started_at"] == "2026-11-28T14:00:00.001Z"
    assert [t["started_at"] for t in doc["tasks"]] == ["2026-11-28T14:00:00.001Z", "2026-11-28T14:00:01.002Z"]
    assert doc["run"]["finished_at"] == "2026-11-28T14:00:01.002Z"
    start, end = _results_doc._iso(doc["run"]["started_at"]), _results_doc._iso(doc["run"]["finished_at"])
    for t in doc["tasks"]:
        begun = _results_doc._iso(t["started_at"])
        assert start <= begun and (begun - start).total_seconds() + t["seconds"] <= (end - start).total_seconds() + 0.001


def test_end_without_start_times_from_task_start(recap, clock):
    recap.play("P")
    recap.task("t1", "T", "a")
    clock.t += 0.4
    recap.host_end("t1", "h1", "skipped", {"skipped": True})
    assert kinds(recap, "task")[0]["seconds"] == 0.4


def test_unknown_task_is_ignored(recap):
    recap.host_end("nope", "h1", "ok", {"records": [rec()]})
    assert kinds(recap, "task") == [] and kinds(recap, "record") == []


def test_serial_batches_add_up_and_distinct_plays_stay_apart(recap, clock):
    recap.play("S", key="s")
    clock.t += 1
    recap.play("S", key="s")
    clock.t += 2
    recap.play("S", key="other")
    clock.t += 4
    doc = recap.finish({}, "ok")
    assert doc["totals"]["plays"] == [{"play": "S", "seconds": 3.0}, {"play": "S", "seconds": 4.0}]


def test_loop_items_counted_and_records_from_items(recap):
    recap.play("P")
    recap.task("t", "Bench", "o2edge.perf.command_bench", loop=True)
    a, b = rec("a"), rec("b")
    result = {"results": [{"record": a, "records": [a], "ansible_loop_var": "item"},
                          {"record": b, "records": [b], "ansible_loop_var": "item"}, "odd"]}
    recap.host_end("t", "h1", "ok", result)
    assert kinds(recap, "task")[0]["items"] == 3
    assert [r["record"]["name"] for r in kinds(recap, "record")] == ["a", "b"]


def test_not_a_loop_has_no_items_and_record_counted_once(recap):
    recap.task("t", "Bench", "x")
    r = rec("one")
    recap.host_end("t", "h1", "ok", {"record": r, "records": [r]})
    assert "items" not in kinds(recap, "task")[0]
    assert len(kinds(recap, "record")) == 1
    assert kinds(recap, "record")[0]["record"] == r


def test_record_alone_and_records_plus_distinct_record(recap):
    recap.task("t", "T", "x")
    recap.host_end("t", "h1", "ok", {"record": rec("solo")})
    recap.host_end("t", "h2", "ok", {"records": [rec("a")], "record": rec("b")})
    assert [(r["host"], r["record"]["name"]) for r in kinds(recap, "record")] == [("h1", "solo"), ("h2", "a"), ("h2", "b")]


def test_invalid_records_are_listed_missing_with_why(recap):
    recap.play("P")
    recap.task("t", "T", "x")
    recap.host_end("t", "h1", "ok", {"records": [{"name": "bad", "unit": "s"}, 42, rec("good")]})
    recap.host_end("t", "h2", "ok", {"records": "nope"})
    missing = kinds(recap, "missing")
    assert [r["record"]["name"] for r in kinds(recap, "record")] == ["good"]
    assert missing[0]["what"] == "result record bad of task 'T' on h1"
    assert missing[0]["why"].startswith("not a measurement record: missing key component; missing key samples")
    assert missing[1]["what"] == "result record #1 of task 'T' on h1" and "record is not a mapping" in missing[1]["why"]
    assert missing[2] == {"event": "missing", "what": "result records of task 'T' on h2", "why": "is str, not a list of records"}


def test_probes_from_results_only_with_probe_shape(recap):
    recap.task("t", "Probe", "o2edge.perf.service_probe")
    recap.host_end("t", "ctl", "ok", {"results": [probe_item(), probe_item("edge2", state="refused", extra_key=1),
                                                  {"site": "x", "service": "y"}, "text"]})
    probes = kinds(recap, "probe")
    assert [(p["result"]["site"], p["result"]["state"]) for p in probes] == [("edge1", "up"), ("edge2", "refused")]
    assert sorted(probes[1]["result"]) == sorted(_results_doc.PROBE_KEYS)  # extra keys dropped
    assert probes[0]["host"] == "ctl" and probes[0]["task"] == "Probe"


def test_probes_inside_loop_items_and_loop_results_not_probes(recap):
    recap.task("t", "Probe", "o2edge.perf.service_probe", loop=True)
    # a loop whose items look like probes at top level are loop results, not probes
    recap.host_end("t", "ctl", "ok", {"results": [{"results": [probe_item()], "ansible_loop_var": "item"},
                                                  {"site": "a", "service": "b", "state": "up"}]})
    assert [p["result"]["site"] for p in kinds(recap, "probe")] == ["edge1"]


def test_no_log_results_are_withheld_and_listed(recap):
    recap.play("P")
    recap.task("t", "Secret", "x")
    recap.host_end("t", "h1", "ok", {"censored": "hidden", "records": [rec("leak")]})
    recap.host_end("t", "h2", "ok", {"_ansible_no_log": True, "record": rec("leak2")})
    assert kinds(recap, "record") == []
    missing = kinds(recap, "missing")
    assert [m["what"] for m in missing] == ["values of task 'Secret' (play 'P') on h1", "values of task 'Secret' (play 'P') on h2"]
    assert missing[0]["why"] == "no_log result: nothing it returned was written"


def test_no_log_withheld_is_missing_only_when_it_could_have_held_a_measurement(recap):
    recap.task("s", "Tokens", "ansible.builtin.set_fact")
    recap.host_end("s", "h1", "ok", {"censored": "hidden"})
    recap.task("k", "Skipped secret", "o2edge.perf.prometheus_query")
    recap.host_end("k", "h1", "skipped", {"censored": "hidden"})
    assert kinds(recap, "missing") == []
    recap.task("q", "Query", "o2edge.perf.prometheus_query")
    recap.host_end("q", "h1", "ok", {"censored": "hidden"})
    assert [m["what"] for m in kinds(recap, "missing")] == ["values of task 'Query' (play '') on h1"]


def test_no_log_loop_item_withheld_others_kept(recap):
    recap.task("t", "L", "x", loop=True)
    recap.host_end("t", "h1", "ok", {"results": [{"censored": "x", "record": rec("hidden")}, {"record": rec("shown")}]})
    assert [r["record"]["name"] for r in kinds(recap, "record")] == ["shown"]
    assert len(kinds(recap, "missing")) == 1


def test_secrets_masked_in_records_probes_and_names(recap):
    recap.task("t", "get https://u:pw@example.invalid/", "x")
    r = rec("s", url="https://user:hunter2@example.invalid/x", api_token="tok123", token_file="/etc/t", note="fine")
    r["errors"] = [{"error": "Authorization: eyJhbGciOi.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"}]
    recap.host_end("t", "h1", "ok", {"records": [r], "results": [probe_item(detail="-----BEGIN OPENSSH PRIVATE KEY-----")]})
    out = json.dumps(recap.events)
    assert "hunter2" not in out and "tok123" not in out and "eyJhbGci" not in out and "BEGIN OPENSSH" not in out
    assert "u:pw@" not in out
    ctx = kinds(recap, "record")[0]["record"]["context"]
    assert ctx["url"] == "https://********@example.invalid/x" and ctx["api_token"] == "********"
    assert ctx["token_file"] == "/etc/t" and ctx["note"] == "fine"
    assert kinds(recap, "task")[0]["task"] == "get https://********@example.invalid/"


def test_scrub_bounds_depth_and_drops_secret_keys():
    deep = current = {}
    for _level in range(60):
        current["x"] = {}
        current = current["x"]
    out = _callback_recap.scrub(deep)
    depth = 0
    while isinstance(out, dict):
        out = out["x"]
        depth += 1
    assert out == "********" and depth == _callback_recap.MAX_DEPTH + 1
    assert _callback_recap.scrub({"https://a:b@h/": 1, "password": None, "secret": True, "n": [1, "x"]}) == \
        {"password": None, "secret": True, "n": [1, "x"]}


def test_finish_lists_tasks_without_result_and_is_idempotent(recap, clock):
    recap.play("P")
    recap.task("t", "Long", "x")
    recap.host_start("t", "h1")
    clock.t += 1
    doc = recap.finish(None, "interrupted")
    assert doc["missing"] == [{"what": "end of task 'Long' on h1", "why": "the task started but no result arrived before the run ended"}]
    assert doc["run"]["status"] == "interrupted" and doc["hosts"] == {}
    n = len(recap.events)
    assert recap.finish({}, "ok")["run"]["status"] == "interrupted"
    assert len(recap.events) == n


def test_finish_counts_hosts_from_tasks_when_stats_missing(recap):
    recap.task("t", "T", "x")
    recap.host_end("t", "h1", "changed", {})
    recap.host_end("t", "h1", "failed", {})
    doc = recap.finish(None, "interrupted")
    assert doc["hosts"]["h1"] == {"ok": 1, "changed": 1, "failures": 1, "unreachable": 0, "skipped": 0, "rescued": 0, "ignored": 0}


def test_run_id_format_and_run_event():
    assert re.match(r"^20261128T140000Z-[0-9a-f]{8}$", _callback_recap.new_run_id("2026-11-28T14:00:00.123Z"))
    assert _callback_recap.new_run_id("2026-11-28T14:00:00.123Z") != _callback_recap.new_run_id("2026-11-28T14:00:00.123Z")
    r = _callback_recap.Recap({"id": "fixed", "playbooks": ["/p.yml"]}, now=stamps())
    assert r.events[0] == {"event": "run", "schema": _results_doc.SCHEMA, "run": {
        "id": "fixed", "playbooks": ["/p.yml"], "started_at": "2026-11-28T14:00:01.000Z", "finished_at": None, "status": "running"}}
    r.playbook("/q.yml")
    r.playbook("/q.yml")
    assert r.finish({}, "ok")["run"]["playbooks"] == ["/p.yml", "/q.yml"]


def test_jsonl_sink_flushes_each_line(tmp_path):
    path = str(tmp_path / "results.jsonl")
    sink = _callback_recap.JsonlSink(path)
    sink({"event": "a", "v": 1})
    with open(path) as handle:  # readable before close: flushed
        assert handle.read() == '{"event":"a","v":1}\n'
    sink({"event": "b"})
    sink.close()
    with open(path) as handle:
        assert handle.read().splitlines() == ['{"event":"a","v":1}', '{"event":"b"}']


def test_atomic_write_json_replaces_and_cleans_up(tmp_path, monkeypatch):
    path = str(tmp_path / "results.json")
    _callback_recap.atomic_write_json(path, {"a": 1})
    with open(path) as handle:
        assert json.load(handle) == {"a": 1}

    class Bad(object):
        def __str__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        _callback_recap.atomic_write_json(path, {"a": Bad()})
    with open(path) as handle:
        assert json.load(handle) == {"a": 1}  # the old file stays whole
    assert os.listdir(str(tmp_path)) == ["results.json"]  # no temporary left
    assert oct(os.stat(path).st_mode & 0o777) == oct(0o640)

    def fail_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail_replace)
    with pytest.raises(OSError):
        _callback_recap.atomic_write_json(path, {"a": 2})
    monkeypatch.undo()
    with open(path) as handle:
        assert json.load(handle) == {"a": 1}
    assert os.listdir(str(tmp_path)) == ["results.json"]


def test_point_latest_symlink_and_fallback(tmp_path, monkeypatch):
    d = str(tmp_path)
    os.mkdir(os.path.join(d, "run1"))
    os.mkdir(os.path.join(d, "run2"))
    assert _callback_recap.point_latest(d, "run1") == os.path.join(d, "latest")
    assert os.readlink(os.path.join(d, "latest")) == "run1"
    _callback_recap.point_latest(d, "run2")
    assert os.readlink(os.path.join(d, "latest")) == "run2"

    def no_symlink(*args):
        raise OSError("not supported")

    monkeypatch.setattr(os, "symlink", no_symlink)
    assert _callback_recap.point_latest(d, "run3") == os.path.join(d, "latest.json")
    with open(os.path.join(d, "latest.json")) as handle:
        assert json.load(handle) == {"id": "run3", "path": os.path.join(d, "run3")}


def test_recap_lines(recap, clock):
    recap.play("P")
    for i, (name, secs) in enumerate([("fast", 0.1), ("slow", 2.0), ("mid", 1.0)]):
        recap.task(str(i), name, "x", role="r" if name == "mid" else None, loop=name == "slow")
        recap.host_start(str(i), "h1")
        clock.t += secs
        recap.host_end(str(i), "h1", "ok", {"results": [{}, {}]} if name == "slow" else {"records": [rec("m")]})
    doc = recap.finish({}, "ok")
    lines = _callback_recap.recap_lines(doc, slowest=2)
    assert lines[0].startswith("run %s: ok, 3.10 s wall, 3 task results, 2 records, 0 probes" % doc["run"]["id"])
    assert lines[1] == "slowest tasks:"
    assert lines[2] == "     2.000 s  slow [h1] ok (2 items)"
    assert lines[3] == "     1.000 s  r : mid [h1] ok"
    assert lines[4] == "records (median, p95, unit, failures):"
    assert lines[5] == "  m: median 0.2, p95 0.29 s, 0 failures"
    assert len(lines) == 7
    assert _callback_recap.recap_lines(doc, slowest=0)[1] == "records (median, p95, unit, failures):"


def test_a_probe_keeps_every_field_service_probe_returns(recap):
    recap.task("t", "Probe", "o2edge.perf.service_probe")
    item = probe_item("edge1", state="up")
    recap.host_end("t", "ctl", "ok", {"results": [item]})
    kept = kinds(recap, "probe")[0]["result"]
    # the fields service_probe documents for each result, spelled out (not read from PROBE_KEYS)
    assert sorted(kept) == ["address", "connect_ms", "detail", "info", "kind", "latency_ms", "ok", "port", "service",
                            "site", "state"]
    assert kept == item


def test_non_finite_numbers_in_a_result_become_null_and_nan_records_are_refused(recap, tmp_path):
    # Bug (issue 15, 3): a probe latency of NaN (or inf in a record's context) was written to
    # results.jsonl/results.json as NaN/Infinity, which is not JSON; a record with a NaN sample was kept.
    recap.task("t", "probe", "x")
    bad = rec("nan-sample")
    bad["samples"][1] = float("nan")
    recap.host_end("t", "h1", "ok", {"records": [rec("ok", load=float("inf")), bad],
                                     "results": [probe_item(latency_ms=float("nan"))]})
    json.dumps(recap.events, allow_nan=False)  # raises ValueError on NaN/Infinity
    assert kinds(recap, "probe")[0]["result"]["latency_ms"] is None
    assert kinds(recap, "record")[0]["record"]["context"]["load"] is None
    assert [r["record"]["name"] for r in kinds(recap, "record")] == ["ok"]
    assert any("samples[1] is not a finite number" in m["why"] for m in kinds(recap, "missing"))
    with pytest.raises(ValueError):
        _callback_recap.atomic_write_json(str(tmp_path / "results.json"), {"x": float("nan")})
    assert os.listdir(str(tmp_path)) == []


# --- outcomes: the run's set_stats data -----------------------------------------------------------

class TaggedStr(str):
    """Stands for Ansible's own str type (a tagged or unsafe string)."""


class ReadOnlyMapping(Mapping):
    """A Mapping that is not a dict (as a lazy template container may be)."""

    def __init__(self, data):
        self._data = data

    def __getitem__(self, key):
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)


def test_outcomes_of_takes_the_run_wide_set_stats_data_only():
    custom = {"_run": {"o2edge_fix_edge_connectivity": {"summary": "3/4 -> 4/4"}}, "h1": {"per_host": 1}}
    assert _callback_recap.outcomes_of(custom) == {"o2edge_fix_edge_connectivity": {"summary": "3/4 -> 4/4"}}
    assert _callback_recap.outcomes_of({}) == {}
    assert _callback_recap.outcomes_of(None) == {}
    assert _callback_recap.outcomes_of({"_run": "not a mapping"}) == {}


def test_finish_writes_outcomes_plain_and_masked(recap):
    recap.play("P")
    outcomes = {"o2edge_site_ssh": ReadOnlyMapping({TaggedStr("edge1"): (TaggedStr("up"), 3, 1.5, None, True)}),
                "when": datetime.date(2026, 12, 6),
                "api_token": "tok-sentinel", "url": "https://u:hunter2-sentinel@example.invalid/x"}
    doc = recap.finish({}, "ok", outcomes)
    end = kinds(recap, "end")[0]
    assert end["outcomes"] == doc["outcomes"]
    assert doc["outcomes"]["o2edge_site_ssh"] == {"edge1": ["up", 3, 1.5, None, True]}
    # a bool stays a bool (not 1), as JSON shows it
    assert json.dumps(doc["outcomes"]["o2edge_site_ssh"]) == '{"edge1": ["up", 3, 1.5, null, true]}'
    assert type(list(doc["outcomes"]["o2edge_site_ssh"])[0]) is str  # pylint: disable=unidiomatic-typecheck
    assert doc["outcomes"]["when"] == "2026-12-06"
    assert doc["outcomes"]["api_token"] == "********"
    assert "sentinel" not in json.dumps(doc)
    _results_doc.validate(doc)
    assert "outcomes (set_stats): api_token, o2edge_site_ssh, url, when" in _callback_recap.recap_lines(doc)


def test_a_run_cut_short_has_no_outcomes_and_deep_data_is_cut(recap):
    assert recap.finish(None, "interrupted")["outcomes"] == {}
    deep = current = {}
    for _level in range(_callback_recap.MAX_DEPTH + 5):
        current["x"] = {}
        current = current["x"]
    text = json.dumps(_callback_recap.plain(deep))
    assert '"censored"' in text and text.count("{") <= _callback_recap.MAX_DEPTH + 2
