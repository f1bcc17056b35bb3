# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A report's second process (_report_parallel): the same files and the same errors as one process, a failed
child fails the report before anything is written, and no child outlives the report."""
from __future__ import annotations

import filecmp
import os
import signal
import time

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _fast_stats, _report, _report_formats, _report_parallel, _results_doc
from ansible_collections.o2edge.perf.plugins.plugin_utils._report_write import ReportError

from tests.unit.plugins.plugin_utils.test_report import T0, standard_pair, write_json


def _tree(root):
    out = set()
    for base, dummy, names in os.walk(root):
        out.update(os.path.relpath(os.path.join(base, n), root) for n in names)
    return out


@pytest.fixture
def forking(monkeypatch):
    """Every report, however small, uses its second process."""
    monkeypatch.delenv(_report_parallel.ENV_PROCESSES, raising=False)
    monkeypatch.setattr(_report_parallel, "MIN_BYTES", 0)
    monkeypatch.setattr(_report_parallel, "MIN_RECORDS", 0)
    monkeypatch.setattr(_report_parallel, "worth_splitting", lambda jobs, half: _report_parallel.enabled() and jobs >= 2)
    forks = []
    real = _report_parallel.Worker.__init__

    def counted(self, func, field):
        forks.append(field)
        real(self, func, field)
    monkeypatch.setattr(_report_parallel.Worker, "__init__", counted)
    return forks


def _children():
    """Our own child processes still there (zombies included): /proc/<pid>/stat's ppid field."""
    mine = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == os.getpid():
                mine.append(int(name))
    return mine


def test_the_worker_gives_the_value_or_what_the_child_raised():
    with _report_parallel.Worker(lambda: {"a": [1.5, "x", None, True]}, "f") as worker:
        assert worker.result() == {"a": [1.5, "x", None, True]}

    def report_error():
        raise ReportError("baseline[0]: /x: run.status is 'nope'")

    def os_error():
        raise OSError(28, "No space left on device")

    def other():
        raise RuntimeError("text that might quote a file")
    with pytest.raises(ReportError, match=r"^baseline\[0\]: /x: run.status is 'nope'$"):
        _report_parallel.Worker(report_error, "f").result()
    with pytest.raises(OSError) as caught:
        _report_parallel.Worker(os_error, "f").result()
    assert (caught.value.errno, caught.value.strerror) == (28, "No space left on device")
    with pytest.raises(ReportError, match=r"^f: the worker process of the report failed \(RuntimeError\)$"):
        _report_parallel.Worker(other, "f").result()
    assert _children() == []


def test_a_child_that_dies_fails_the_report_naming_the_field():
    def die():
        os.kill(os.getpid(), signal.SIGKILL)
    with pytest.raises(ReportError, match=r"^baseline: the worker process of the report failed \(killed by signal 9\)$"):
        _report_parallel.Worker(die, "baseline").result()

    def leave():
        os._exit(3)
    with pytest.raises(ReportError, match=r"^dest: the worker process of the report failed \(exit status 3\)$"):
        _report_parallel.Worker(leave, "dest").result()
    with pytest.raises(ReportError, match=r"^dest: the worker process of the report failed \(ValueError\)$"):
        _report_parallel.Worker(object, "dest").result()  # not a value marshal can send
    assert _children() == []


def test_a_stuck_child_is_killed_and_its_part_done_here():
    """Bug: the report waits forever on a second process that never ends (a lock held by another thread
    at the fork leaves the child stuck): the wait is bounded and the part is done in this process."""
    parent = os.getpid()

    def part():
        if os.getpid() != parent:
            time.sleep(60)  # the child: stuck
        return {"done in": "parent"}
    started = time.monotonic()
    worker = _report_parallel.Worker(part, "comparisons")
    pid = worker.pid
    assert worker.result(wait_s=0.5) == {"done in": "parent"}
    assert 0.5 <= time.monotonic() - started < 20
    assert worker.pid is None and worker.fd is None and pid not in _children()


def test_a_child_ending_in_time_is_not_redone_here():
    """Bug: the bounded wait gives up on a child that ends in time (and the parent does its part again)."""
    parent = os.getpid()
    worker = _report_parallel.Worker(lambda: "child" if os.getpid() != parent else "parent", "comparisons")
    assert worker.result(wait_s=30) == "child"


@pytest.mark.parametrize("pidfd", ["pidfd", "no pidfd_open", "pidfd_open failing"])
def test_the_wait_ends_with_the_child_or_at_its_bound_and_leaves_no_descriptor(monkeypatch, pidfd):
    """Bugs: the wait woken by the child's pidfd returning before the child ended (its part then done twice) or
    never giving up on a stuck child; the pidfd left open; no wait at all where pidfd_open is missing or refused
    (an older kernel, a seccomp filter)."""
    if pidfd == "no pidfd_open":
        monkeypatch.delattr(os, "pidfd_open", raising=False)
    elif pidfd == "pidfd_open failing":
        def refused(pid, flags=0):
            raise OSError(38, "Function not implemented")
        monkeypatch.setattr(os, "pidfd_open", refused)
    parent = os.getpid()
    before = sorted(os.listdir("/proc/self/fd"))

    def slow_part():
        if os.getpid() != parent:
            time.sleep(0.3)  # the child ends, later than the first wake-up of a polling loop
            return "child"
        return "parent"
    assert _report_parallel.Worker(slow_part, "comparisons").result(wait_s=30) == "child"

    def stuck_part():
        if os.getpid() != parent:
            time.sleep(60)
        return "parent"
    worker = _report_parallel.Worker(stuck_part, "comparisons")
    pid = worker.pid
    assert worker.result(wait_s=0.3) == "parent"
    assert pid not in _children()
    assert sorted(os.listdir("/proc/self/fd")) == before


def test_close_kills_and_reaps_a_child_whose_result_is_not_taken():
    started = time.monotonic()
    worker = _report_parallel.Worker(lambda: time.sleep(60), "baseline")
    pid = worker.pid
    worker.close()
    assert time.monotonic() - started < 30 and worker.pid is None and worker.fd is None
    assert pid not in _children()
    worker.close()  # twice: nothing left to do


def test_one_process_when_switched_off_or_small(monkeypatch, tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * _report_parallel.MIN_BYTES)
    monkeypatch.delenv(_report_parallel.ENV_PROCESSES, raising=False)
    assert _report_parallel.worth_reading([str(big)]) and not _report_parallel.worth_reading([str(big)[:-1]])
    assert not _report_parallel.worth_reading([str(write_json(tmp_path / "s.json", {}))])
    assert _report_parallel.worth_rendering(_report_parallel.MIN_RECORDS)
    assert not _report_parallel.worth_rendering(_report_parallel.MIN_RECORDS - 1)
    monkeypatch.setenv(_report_parallel.ENV_PROCESSES, "1")
    assert not _report_parallel.worth_reading([str(big)]) and not _report_parallel.worth_rendering(10 ** 6)


def test_the_files_are_those_of_one_process(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()
    params = {"results": [write_json(tmp_path / "r.json", current)], "baseline": [write_json(tmp_path / "b.json", baseline)],
              "title": "t"}
    two = _report.generate(dict(params, dest=str(tmp_path / "two")), {}, T0)
    assert forking == ["baseline", "results", "comparisons", "dest"]
    monkeypatch.setenv(_report_parallel.ENV_PROCESSES, "1")
    one = _report.generate(dict(params, dest=str(tmp_path / "one")), {}, T0)
    assert forking == ["baseline", "results", "comparisons", "dest"]  # no fork with the switch
    assert two["verdicts"] == one["verdicts"]
    names = _tree(str(tmp_path / "one"))
    assert names == _tree(str(tmp_path / "two")) and len(names) == 6 + 4  # the run directory, the index and its lock
    for rel in names:
        assert filecmp.cmp(str(tmp_path / "one" / rel), str(tmp_path / "two" / rel), shallow=False), rel
    assert _children() == []


def test_a_baseline_refused_in_the_child_fails_as_in_one_process(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()
    baseline["run"]["status"] = "nope"
    params = {"results": [write_json(tmp_path / "r.json", current)], "baseline": [write_json(tmp_path / "b.json", baseline)]}
    with pytest.raises(ReportError) as two:
        _report.generate(dict(params, dest=str(tmp_path / "two")), {}, T0)
    assert forking == ["baseline", "results"]
    monkeypatch.setenv(_report_parallel.ENV_PROCESSES, "1")
    with pytest.raises(ReportError) as one:
        _report.generate(dict(params, dest=str(tmp_path / "one")), {}, T0)
    assert str(two.value) == str(one.value) and str(one.value).startswith("baseline[0]: ")
    assert not os.path.exists(str(tmp_path / "two")) and _children() == []


@pytest.mark.parametrize("baseline_item", ["bad-file", "no-such-run-id"])
def test_the_results_error_comes_first_and_the_child_is_not_left_behind(forking, tmp_path, baseline_item):
    baseline, current = standard_pair()
    current["schema"] = "other"
    base = write_json(tmp_path / "b.json", dict(baseline, schema="other")) if baseline_item == "bad-file" else baseline_item
    with pytest.raises(ReportError, match=r"^results\[0\]: .*schema"):
        _report.generate({"results": [write_json(tmp_path / "r.json", current)], "baseline": [base],
                          "dest": str(tmp_path / "d")}, {}, T0)
    assert _children() == []
    with pytest.raises(ReportError, match=r"^baseline\[0\]: "):  # the results fixed: the baseline's own error
        _report.generate({"results": [write_json(tmp_path / "r.json", dict(current, schema=baseline["schema"]))],
                          "baseline": [base], "dest": str(tmp_path / "d")}, {}, T0)


def test_a_format_failing_in_the_child_fails_the_report_and_writes_nothing(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()

    def broken(model):
        raise KeyError("a writer bug")
    monkeypatch.setattr(_report_formats, "markdown", broken)  # before the fork: the child renders with it
    dest = tmp_path / "reports"
    with pytest.raises(ReportError, match=r"^dest: the worker process of the report failed \(KeyError\)$"):
        _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(dest)}, {}, T0)
    assert forking == ["results", "dest"]
    assert not dest.exists() or os.listdir(str(dest)) == []
    assert _children() == []


def test_check_mode_renders_nothing_in_a_child(forking, tmp_path):
    baseline, current = standard_pair()
    result = _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(tmp_path / "d")},
                              {}, T0, check_mode=True)
    assert forking == [] and not result["failed"] and not (tmp_path / "d").exists()


@pytest.mark.parametrize("baseline_ok", [True, False])
def test_objectives_evaluated_while_waiting_fail_in_their_turn(forking, monkeypatch, tmp_path, baseline_ok):
    baseline, current = standard_pair()
    if not baseline_ok:
        baseline["run"]["status"] = "nope"
    slo_file = tmp_path / "slo.yaml"
    slo_file.write_text("kind: [unclosed")
    params = {"results": [write_json(tmp_path / "r.json", current)], "baseline": [write_json(tmp_path / "b.json", baseline)],
              "slo_file": str(slo_file)}
    errors = []
    for switch in ("", "1"):
        monkeypatch.setenv(_report_parallel.ENV_PROCESSES, switch)
        with pytest.raises(ReportError) as caught:
            _report.generate(dict(params, dest=str(tmp_path / ("d" + switch))), {}, T0)
        errors.append(str(caught.value))
    assert forking == ["baseline", "results"]  # the first report only
    assert errors[0] == errors[1] and errors[0].startswith("slo_file" if baseline_ok else "baseline[0]: ")


def test_read_both_keeps_what_the_meanwhile_step_raised_for_the_caller(monkeypatch, tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * _report_parallel.MIN_BYTES)
    monkeypatch.delenv(_report_parallel.ENV_PROCESSES, raising=False)

    def meanwhile(results):
        raise ZeroDivisionError(results)
    got = _report_parallel.read_both(lambda: "r", [str(big)], lambda files, field: [files, field], meanwhile)
    assert got[:2] == ("r", [[str(big)], "baseline"]) and isinstance(got[2], ZeroDivisionError)
    small = _report_parallel.read_both(lambda: "r", [str(big)[:-1]], lambda files, field: field, meanwhile)
    assert small == ("r", "baseline", None)  # no second process: nothing done meanwhile
    assert _children() == []


def test_comparisons_split_between_two_processes_are_the_entries_of_one(forking, monkeypatch):
    from ansible_collections.o2edge.perf.plugins.plugin_utils import _comparisons
    from tests.unit.plugins.plugin_utils.test_report import AFTER, BEFORE, record

    def item(name, samples, versions=None):
        return {"host": "ctl", "play": "p", "task": "t", "record": record(name, "git", samples, versions=versions)}
    jobs = [(item("a", BEFORE), item("a", AFTER), 0.05, "sequential"),
            (item("b", [0.1] * 10), item("b", [0.1] * 10), 0.05, "sequential"),
            (item("c", BEFORE, {"kpt": "1"}), item("c", AFTER, {"kpt": "2"}), 0.05, "sequential"),
            (item("d", BEFORE[:3]), item("d", AFTER), 0.05, "control"),
            (item("e", AFTER), item("e", BEFORE), 0.05, "host_state")]
    split = _comparisons.sequential_split(jobs, 6)
    assert forking == ["comparisons"]
    assert split == _comparisons.sequential_many(jobs, 6)
    verdicts = ["faster", "no clear change", "not comparable", "not enough samples", _comparisons.HOST_STATE]
    assert [e["verdict"] for e in split] == verdicts
    monkeypatch.setattr(_comparisons, "sequential_many", lambda jobs, n: os.kill(os.getpid(), signal.SIGKILL)
                        if len(jobs) < 5 and os.getpid() != parent else [])
    parent = os.getpid()
    with pytest.raises(ReportError, match=r"^comparisons: the worker process of the report failed \(killed by signal 9\)$"):
        _comparisons.sequential_split(jobs, 6)
    assert _children() == []


def test_the_metrics_pushed_are_those_written(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()
    sent = []

    def push(url, instance, content, timeout):
        sent.append(content)
        return {"url": url, "ok": True, "status": 200, "error": None}
    monkeypatch.setattr(_report, "push", push)
    result = _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(tmp_path / "d"),
                               "pushgateway_url": "http://198.18.0.1:9091"}, {}, T0)
    assert forking == ["results", "dest"] and not result["failed"]
    with open(result["files"]["prom"]) as handle:
        assert sent == [handle.read()] and "o2edge_perf" in sent[0]


def test_without_a_temporary_file_the_report_is_made_in_one_process(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()
    params = {"results": [write_json(tmp_path / "r.json", current)], "baseline": [write_json(tmp_path / "b.json", baseline)]}
    expected = _report.generate(dict(params, dest=str(tmp_path / "one")), {}, T0)

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_report_parallel.tempfile, "TemporaryFile", full)
    del forking[:]
    got = _report.generate(dict(params, dest=str(tmp_path / "two")), {}, T0)
    assert forking == ["baseline", "results", "comparisons", "dest"]  # each tried, none forked
    assert got["verdicts"] == expected["verdicts"] and not got["failed"] and _children() == []
    for rel in _tree(str(tmp_path / "one")):
        assert filecmp.cmp(str(tmp_path / "one" / rel), str(tmp_path / "two" / rel), shallow=False), rel


def test_a_results_document_with_a_report_key_is_serialised_here_with_the_same_bytes(forking, monkeypatch, tmp_path):
    """A report's own results.json read again as results holds a ``report`` key, which the new section replaces
    where it stands: joining a section to the end of the document would write it twice."""
    baseline, current = standard_pair()
    first = _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(tmp_path / "first")},
                             {}, T0)
    del forking[:]
    params = {"results": [first["results_file"]], "baseline": [write_json(tmp_path / "b.json", baseline)], "title": "again"}
    two = _report.generate(dict(params, dest=str(tmp_path / "two")), {}, T0)
    assert forking == ["baseline", "comparisons", "dest"]  # no document worker
    monkeypatch.setenv(_report_parallel.ENV_PROCESSES, "1")
    _report.generate(dict(params, dest=str(tmp_path / "one")), {}, T0)
    for rel in _tree(str(tmp_path / "one")):
        assert filecmp.cmp(str(tmp_path / "one" / rel), str(tmp_path / "two" / rel), shallow=False), rel
    with open(two["results_file"]) as handle:
        assert handle.read().count('"report":') == 1
    assert _children() == []


def test_the_document_serialised_in_the_child_is_the_document_as_read(forking, tmp_path):
    """results.json of two processes: the document joined with the section is valid JSON and the same
    document (each key once, ``report`` last), whatever the section holds."""
    import json
    baseline, current = standard_pair()
    result = _report.generate({"results": [write_json(tmp_path / "r.json", current)],
                               "baseline": [write_json(tmp_path / "b.json", baseline)], "dest": str(tmp_path / "d")}, {}, T0)
    assert forking[:2] == ["baseline", "results"]
    with open(result["results_file"]) as handle:
        text = handle.read()
    written = json.loads(text, object_pairs_hook=lambda pairs: (len(pairs) == len(dict(pairs)) or pytest.fail(pairs)) and dict(pairs))
    assert list(written)[-1] == "report"
    report = written.pop("report")
    assert written == _results_doc.load(str(tmp_path / "r.json")) and written["records"]
    assert report["verdicts"] == result["verdicts"] and text.endswith("}\n")


def test_a_document_child_that_dies_fails_the_report_naming_results_and_writes_nothing(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()
    parent = os.getpid()
    real = _report.dumps_results

    def dying(value):
        if os.getpid() != parent:
            os.kill(os.getpid(), signal.SIGKILL)
        return real(value)
    monkeypatch.setattr(_report, "dumps_results", dying)
    dest = tmp_path / "d"
    with pytest.raises(ReportError, match=r"^results: the worker process of the report failed \(killed by signal 9\)$"):
        _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(dest)}, {}, T0)
    assert forking == ["results", "dest"]
    assert not dest.exists() or os.listdir(str(dest)) == []
    assert _children() == []


def test_a_report_failing_before_the_document_is_taken_leaves_no_child(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()

    def broken(*args, **kwargs):
        raise ReportError("slo: broken")
    monkeypatch.setattr(_report, "build", broken)
    with pytest.raises(ReportError, match="^slo: broken$"):
        _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(tmp_path / "d")}, {}, T0)
    assert forking == ["results"] and _children() == []


def _evaluations(monkeypatch, tmp_path, change=None):
    """_slo.evaluate counted per process (a file line per call: 'child' or 'parent'); ``change(outcome, in_child)``
    may replace an outcome or raise."""
    log = tmp_path / "evaluations"
    parent = os.getpid()
    real = _report._slo.evaluate

    def counted(objectives, doc, *args):
        in_child = os.getpid() != parent
        with open(str(log), "a") as handle:
            handle.write("child\n" if in_child else "parent\n")
        outcome = real(objectives, doc, *args)
        return change(outcome, in_child) if change else outcome
    monkeypatch.setattr(_report._slo, "evaluate", counted)
    return lambda: log.read_text().split() if log.exists() else []


@pytest.mark.parametrize("with_baseline", [True, False])
def test_the_objectives_are_evaluated_once_in_the_document_child(forking, monkeypatch, tmp_path, with_baseline):
    baseline, current = standard_pair()
    params = {"results": [write_json(tmp_path / "r.json", current)], "title": "t"}
    if with_baseline:
        params["baseline"] = [write_json(tmp_path / "b.json", baseline)]
    calls = _evaluations(monkeypatch, tmp_path)
    two = _report.generate(dict(params, dest=str(tmp_path / "two")), {}, T0)
    assert calls() == ["child"] and "results" in forking
    monkeypatch.setenv(_report_parallel.ENV_PROCESSES, "1")
    one = _report.generate(dict(params, dest=str(tmp_path / "one")), {}, T0)
    assert calls() == ["child", "parent"]
    assert two["slo"] == one["slo"] and len(one["slo"]) >= 1 and two["slo_failed"] == one["slo_failed"]
    for rel in _tree(str(tmp_path / "one")):
        assert filecmp.cmp(str(tmp_path / "one" / rel), str(tmp_path / "two" / rel), shallow=False), rel


@pytest.mark.parametrize("trouble", ["raises", "unmarshallable"])
def test_objectives_the_child_cannot_give_are_evaluated_here(forking, monkeypatch, tmp_path, trouble):
    baseline, current = standard_pair()

    def change(outcome, in_child):
        if not in_child:
            return outcome
        if trouble == "raises":
            raise RuntimeError("an evaluation bug")
        return [dict(o, selected=object()) for o in outcome]  # marshal cannot carry it back
    calls = _evaluations(monkeypatch, tmp_path, change)
    result = _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(tmp_path / "d")},
                              {}, T0)
    assert calls() == ["child", "parent"] and not result["failed"]
    assert all(isinstance(o["selected"], int) for o in result["slo"]) and result["slo"]


def test_an_evaluation_failing_here_too_fails_as_in_one_process(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()

    def broken(outcome, in_child):
        raise ReportError("slo: broken everywhere")
    calls = _evaluations(monkeypatch, tmp_path, broken)
    with pytest.raises(ReportError, match="^slo: broken everywhere$"):
        _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(tmp_path / "d")}, {}, T0)
    assert calls() == ["child", "parent"] and _children() == []
    assert not (tmp_path / "d").exists() or os.listdir(str(tmp_path / "d")) == []


def test_a_dead_document_child_leaves_the_objectives_here_and_fails_naming_results(forking, monkeypatch, tmp_path):
    baseline, current = standard_pair()
    parent = os.getpid()

    def dying(outcome, in_child):
        os.kill(os.getpid(), signal.SIGKILL)
    calls = _evaluations(monkeypatch, tmp_path, lambda outcome, in_child: dying(outcome, in_child) if in_child else outcome)
    with pytest.raises(ReportError, match=r"^results: the worker process of the report failed \(killed by signal 9\)$"):
        _report.generate({"results": [write_json(tmp_path / "r.json", current)], "dest": str(tmp_path / "d")}, {}, T0)
    assert os.getpid() == parent and calls() == ["child", "parent"] and _children() == []


@pytest.mark.parametrize("records_above", [0, 1])
def test_numpy_is_imported_while_the_baseline_is_read_for_large_results(forking, monkeypatch, tmp_path, records_above):
    baseline, current = standard_pair()
    events = []
    real_numpy, real_result = _fast_stats.numpy_module, _report_parallel.Worker.result

    def numpy_module(load=True):
        events.append("numpy")
        return real_numpy(load)

    def result(self, wait_s=None):
        events.append("result:" + self.field)
        return real_result(self, wait_s)
    monkeypatch.setattr(_fast_stats, "numpy_module", numpy_module)
    monkeypatch.setattr(_report_parallel.Worker, "result", result)
    monkeypatch.setattr(_fast_stats, "MIN_TOTAL", len(current["records"]) + records_above)
    _report.generate({"results": [write_json(tmp_path / "r.json", current)], "baseline": [write_json(tmp_path / "b.json", baseline)],
                      "dest": str(tmp_path / "d")}, {}, T0)
    before = events[:events.index("result:baseline")]
    assert before == (["numpy"] if records_above == 0 else [])


def _variety(bare=True):
    """(baseline, current) with controls, host state, a unit change, a concurrency change, duplicates, a record on
    another host and (``bare``: a model only, a results file refuses it) a baseline record without unit, samples
    and context."""
    from tests.unit.plugins.plugin_utils.test_report import make_doc, record
    baseline, current = standard_pair()
    extra_before, extra_after = [], []
    for side, out in (("before", extra_before), ("after", extra_after)):
        out.append(record("ctl/loop", "control", [0.5 + (0.01 if side == "after" else 0)] * 8))
        out.append(record("host/load", "host_state", [1.0, 1.2, 1.1]))
        out.append(record("io/read", "file_io", [100.0, 101.0, 99.0] * 3, unit="MB/s" if side == "after" else "ms"))
        conc = record("kpt_render/pkg", "kpt_render", [0.2] * 8)
        conc["context"]["concurrency"] = 4 if side == "after" else 1
        out.append(conc)
        if bare:
            stripped = record("git/bare", "git", [0.3] * 8)
            for key in (("unit", "samples", "context") if side == "before" else ()):
                del stripped[key]
            out.append(stripped)
        out.append(("edge9", record("git/status", "git", [0.2] * 8, host="edge9")))
    extra_before.append(record("git/status", "git", [0.15] * 10))  # a duplicate key: the last one wins
    before = make_doc(list(r["record"] for r in baseline["records"]) + extra_before, run_id="base-run")
    after = make_doc(list(r["record"] for r in current["records"]) + extra_after)
    return before, after


def test_the_baseline_sent_back_gives_the_model_of_the_whole_baseline():
    baseline, current = _variety()
    whole = _report.build(current, baseline, title="T", generated_at=T0)
    part = _report.build(current, _report.comparison_baseline(baseline), title="T", generated_at=T0)
    assert whole["comparisons"] and len(whole["comparisons"]) >= 8 and whole["notes"]
    assert part == whole
    sent = _report.comparison_baseline(baseline)
    assert set(sent) == {"run", "records"} and sent["run"] == baseline["run"]
    assert set(sent["records"][0]["record"]) == {"name", "unit", "samples", "context"}


def test_a_large_baseline_comes_back_as_the_part_the_report_reads(forking, monkeypatch, tmp_path):
    baseline, current = _variety(bare=False)
    seen = []
    real = _report.build

    def build(doc, base=None, *args, **kwargs):
        seen.append(base)
        return real(doc, base, *args, **kwargs)
    monkeypatch.setattr(_report, "build", build)
    params = {"results": [write_json(tmp_path / "r.json", current)], "baseline": [write_json(tmp_path / "b.json", baseline)]}
    _report.generate(dict(params, dest=str(tmp_path / "two")), {}, T0)
    monkeypatch.setenv(_report_parallel.ENV_PROCESSES, "1")
    _report.generate(dict(params, dest=str(tmp_path / "one")), {}, T0)
    assert set(seen[0]) == {"run", "records"} and "stats" not in seen[0]["records"][0]["record"]
    assert "stats" in seen[1]["records"][0]["record"]  # one process: the whole document, as read
    for rel in _tree(str(tmp_path / "one")):
        assert filecmp.cmp(str(tmp_path / "one" / rel), str(tmp_path / "two" / rel), shallow=False), rel
