# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The perf_report action plugin: in-process (arguments, errors as msg, fail_on_slo, check mode, Pushgateway)
and once through a real ansible-playbook (the plugin loads, !unsafe and template-looking text stay data)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from unittest import mock

import pytest
from ansible.errors import AnsibleError

from ansible_collections.o2edge.perf.plugins.action.perf_report import ActionModule
from tests.unit.plugins.plugin_utils.test_report import (
    AFTER, SLO_YAML, make_doc, record, standard_pair, write_json)
from tests.unit.plugins.plugin_utils.test_results_doc import no_hang  # noqa: F401,F811  # pylint: disable=unused-import

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


def run_action(args, check_mode=False, environ=None):
    task = mock.MagicMock()
    task.args = args
    task.check_mode = check_mode
    task.async_val = 0
    task.diff = False
    action = ActionModule(task, mock.MagicMock(), mock.MagicMock(), loader=None, templar=None, shared_loader_obj=None)
    with mock.patch.dict(os.environ, environ or {}, clear=False):
        return action.run(task_vars={"inventory_hostname": "localhost"})


@pytest.fixture
def inputs(tmp_path):
    baseline, current = standard_pair()
    (tmp_path / "slo.yml").write_text(SLO_YAML)
    return {"results": [write_json(tmp_path / "current.json", current)],
            "baseline": [write_json(tmp_path / "base.json", baseline)],
            "slo_file": str(tmp_path / "slo.yml"), "dest": str(tmp_path / "reports")}


def test_writes_every_format_and_returns_the_summary(inputs, tmp_path):
    result = run_action(dict(inputs, title="nightly"))
    assert result["failed"] is False and result["changed"] is True
    run_dir = str(tmp_path / "reports" / "20261128T140000Z-1a2b3c4d")
    assert result["report_dir"] == run_dir and result["results_file"] == os.path.join(run_dir, "results.json")
    assert sorted(os.listdir(run_dir)) == ["junit.xml", "measurements.csv", "metrics.prom", "report.html",
                                           "report.md", "results.json"]
    assert result["files"] == dict((k, os.path.join(run_dir, v)) for k, v in (
        ("md", "report.md"), ("html", "report.html"), ("csv", "measurements.csv"), ("json", "results.json"),
        ("junit", "junit.xml"), ("prom", "metrics.prom")))
    assert result["verdicts"]["faster"] == 1 and result["verdicts"]["not comparable"] == 1
    assert result["comparisons"]["faster"][0]["name"] == "kpt_render/edge1"
    assert [o["status"] for o in result["slo"]] == ["pass", "pass"] and result["slo_failed"] == []
    merged = json.load(open(result["results_file"]))
    assert merged["schema"] == "o2edge.perf/results/v1" and len(merged["records"]) == 4
    assert merged["report"]["title"] == "nightly" and len(merged["report"]["comparisons"]) == 3
    index = json.load(open(str(tmp_path / "reports" / "index.json")))
    assert [r["dir"] for r in index["runs"]] == ["20261128T140000Z-1a2b3c4d"]


def test_results_json_of_a_report_is_a_valid_baseline(inputs):
    first = run_action(inputs)
    second = run_action(dict(inputs, baseline=[first["results_file"]]))
    assert second["report_dir"].endswith("-2")
    # the same run against itself: every measurement matched, nothing called faster or slower
    assert second["comparisons"]["matched"] == 4 and second["verdicts"]["faster"] == 0


def test_fail_on_slo_fails_after_writing_and_lists_the_objectives(inputs, tmp_path):
    doc = make_doc([record("kpt_render/edge1", "kpt_render", [1.5] * 8)])
    result = run_action(dict(inputs, results=[write_json(tmp_path / "slow.json", doc)], baseline=[], fail_on_slo=True))
    assert result["failed"] is True
    assert result["msg"].startswith("2 of 2 objectives failed: kpt-render-p95 (0 of 1 selected records have p95 <= 0.8 s")
    assert "git-status-median (no measurement matched" in result["msg"]
    assert os.path.isfile(result["files"]["junit"]) and result["slo_failed"] == ["kpt-render-p95", "git-status-median"]


def test_fail_on_slo_fails_when_a_slice_is_missing_though_objectives_pass(inputs, tmp_path):
    paths = []
    for index in (0, 2):
        doc = make_doc([record("git/status", "git", [0.1] * 8), record("kpt_render/edge1", "kpt_render", [0.2] * 8)],
                       run_id="20261128T140000Z-1a2b3c4%d" % index)
        doc["run"]["slice"] = {"index": index, "count": 3}
        paths.append(write_json(tmp_path / ("slice%d.json" % index), doc))
    result = run_action(dict(inputs, results=paths, baseline=[], fail_on_slo=True))
    assert result["slo_failed"] == []
    assert result["failed"] is True and result["msg"].startswith("1 slice(s) missing")
    assert "slice 1 of 3" in result["msg"] and os.path.isfile(result["files"]["junit"])
    passing = run_action(dict(inputs, results=paths[:1], baseline=[], fail_on_slo=False))
    assert passing["failed"] is False


def test_bad_inputs_fail_with_the_field_named(inputs, tmp_path):
    (tmp_path / "broken.json").write_text('{"schema": "o2edge.perf/results/v1", "run": {')
    result = run_action(dict(inputs, results=[str(tmp_path / "broken.json")]))
    assert result["failed"] is True and result["msg"].startswith("results[0]: %s: " % (tmp_path / "broken.json"))
    assert "truncated" in result["msg"] and "Traceback" not in result["msg"]
    (tmp_path / "bad.yml").write_text(SLO_YAML.replace("{op: lte, value: 0.8}", "{op: lte, value: 0.8, window: 5m}"))
    result = run_action(dict(inputs, slo_file=str(tmp_path / "bad.yml")))
    assert result["failed"] is True and result["msg"].startswith("slo_file (%s): " % (tmp_path / "bad.yml"))
    assert "window" in result["msg"]
    (tmp_path / "jp.yml").write_text(SLO_YAML.replace("records[?record.name=='git/status']", "records[?record.name=="))
    result = run_action(dict(inputs, slo_file=str(tmp_path / "jp.yml")))
    assert result["failed"] is True and "metricSource.spec.select: not a valid JMESPath expression" in result["msg"]
    result = run_action(dict(inputs, results=["callback"]), environ={"O2EDGE_PERF_RESULTS": ""})
    assert result["failed"] is True and "O2EDGE_PERF_RESULTS" in result["msg"]
    result = run_action(dict(inputs, threshold=1.5))
    assert result["failed"] is True and result["msg"].startswith("threshold: ")
    assert not os.path.exists(inputs["dest"])  # nothing written for bad input


def test_unknown_argument_is_refused():
    with pytest.raises(AnsibleError, match="colour"):
        run_action({"results": ["x"], "dest": "/tmp/x", "colour": "red"})


def test_callback_reads_the_run_in_progress(inputs, tmp_path):
    doc = make_doc([record("git/status", "git", AFTER)], status="running")
    lines = [{"event": "run", "schema": doc["schema"], "run": doc["run"]},
             {"event": "record", "host": "ctl", "play": "p", "task": "t", "record": doc["records"][0]["record"]}]
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    result = run_action(dict(inputs, results=["callback"], baseline=[]), environ={"O2EDGE_PERF_RESULTS": str(path)})
    assert result["failed"] is False
    # the report is a task of that run: "running" is expected there, noted and not called missing
    assert [m["what"] for m in result["missing"]] == ["objective kpt-render-p95"]  # no kpt record in this run
    text = open(result["files"]["md"]).read()
    assert "run 20261128T140000Z-1a2b3c4d:" not in text and "read from the run in progress (O2EDGE\\_PERF\\_RESULTS)" in text
    assert "| git/status | git | ctl |" in text
    # the same file given by path is a run that had not finished
    result = run_action(dict(inputs, results=[str(path)], baseline=[]))
    assert result["missing"][0] == {"what": "run 20261128T140000Z-1a2b3c4d",
                                    "why": "the run had not finished when it was read (status running)"}
    text = open(result["files"]["md"]).read()
    assert text.index("Incomplete") < text.index("## Summary")


def test_check_mode_writes_nothing(inputs):
    result = run_action(inputs, check_mode=True)
    assert result["changed"] is True and result["failed"] is False and result["slo_failed"] == []
    assert result["msg"].startswith("report would be written to ") and not os.path.exists(inputs["dest"])


class _Gateway(BaseHTTPRequestHandler):
    received = []
    status = 200

    def log_message(self, *args):
        pass

    def do_PUT(self):  # noqa: N802
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Gateway.received.append((self.path, self.headers["Content-Type"], body.decode()))
        self.send_response(_Gateway.status)
        self.send_header("Content-Length", "4")
        self.end_headers()
        self.wfile.write(b"oops")


@pytest.fixture
def gateway():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Gateway)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    _Gateway.received, _Gateway.status = [], 200
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_pushgateway_gets_the_metrics_file(inputs, gateway):
    result = run_action(dict(inputs, pushgateway_url=gateway + "/"))
    assert result["pushgateway"]["ok"] is True and result["pushgateway"]["status"] == 200
    path, ctype, body = _Gateway.received[0]
    assert path == "/metrics/job/o2edge_perf/instance/ctl"  # the run's controller host
    assert ctype.startswith("text/plain; version=0.0.4") and body == open(result["files"]["prom"]).read()


def test_pushgateway_failure_is_a_named_warning_unless_required(inputs, gateway, tmp_path):
    _Gateway.status = 500
    result = run_action(dict(inputs, pushgateway_url=gateway))
    assert result["failed"] is False and result["pushgateway"]["error"] == "HTTP 500 Internal Server Error: oops"
    assert result["warnings"] == ["pushgateway: PUT %s/metrics/job/o2edge_perf/instance/ctl failed: HTTP 500 "
                                  "Internal Server Error: oops" % gateway]
    result = run_action(dict(inputs, pushgateway_url=gateway, pushgateway_required=True))
    assert result["failed"] is True and result["msg"].startswith("pushgateway: PUT ") and os.path.isdir(result["report_dir"])
    closed = run_action(dict(inputs, pushgateway_url="http://127.0.0.1:9", pushgateway_timeout=2))
    assert closed["failed"] is False and "ConnectionRefusedError" in closed["pushgateway"]["error"]
    result = run_action(dict(inputs, pushgateway_url="http://user:pw@127.0.0.1:9"))
    assert result["failed"] is True and result["msg"] == "pushgateway_url: http://127.0.0.1:9 must not embed credentials (user:password@)"
    assert "pw" not in json.dumps(result)


def test_pushgateway_instance_with_a_slash_uses_base64():
    from ansible_collections.o2edge.perf.plugins.plugin_utils._report_write import push_url
    assert push_url("http://198.18.0.5:9091", "a/b") == "http://198.18.0.5:9091/metrics/job/o2edge_perf/instance@base64/YS9i"


PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Report
      o2edge.perf.perf_report:
        results: ["{{ results }}"]
        slo_file: "{{ slo }}"
        dest: "{{ dest }}"
        title: !unsafe "{{ 6*7 }} title"
        fail_on_slo: true
      register: rep
      ignore_errors: true
    - name: Broken input
      o2edge.perf.perf_report:
        results: ["{{ dest }}/nope.json"]
        dest: "{{ dest }}"
      register: bad
      ignore_errors: true
    - name: Keep what was returned
      ansible.builtin.copy:
        content: "{{ {'rep': rep, 'bad': bad} | to_json }}"
        dest: "{{ out }}"
"""


def test_real_playbook_loads_the_plugin_and_keeps_values_as_data(tmp_path):
    doc = make_doc([record("kpt_render/{{ 6*7 }}", "kpt_render", [1.5] * 8)], tasks=[("{{ lookup('env', 'HOME') }}", 1.0)])
    (tmp_path / "slo.yml").write_text(SLO_YAML)
    (tmp_path / "play.yml").write_text(PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "unit"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0")
    proc = subprocess.run(
        [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", str(tmp_path / "play.yml"),
         "-e", json.dumps({"results": write_json(tmp_path / "r.json", doc), "slo": str(tmp_path / "slo.yml"),
                           "dest": str(tmp_path / "reports"), "out": str(tmp_path / "out.json"),
                           "ansible_python_interpreter": sys.executable})],
        capture_output=True, text=True, env=env, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.load(open(str(tmp_path / "out.json")))
    rep, bad = out["rep"], out["bad"]
    assert rep["failed"] is True and rep["msg"].startswith("2 of 2 objectives failed")
    assert "kpt_render/{{ 6*7 }} on ctl" in rep["msg"]  # from the file: never evaluated
    assert bad["failed"] is True and bad["msg"] == "results[0]: results file %s/nope.json does not exist" % (tmp_path / "reports")
    assert "Traceback" not in proc.stdout + proc.stderr
    md = open(rep["files"]["md"]).read()
    assert md.startswith("# {{ 6\\*7 }} title\n") and "42" not in md.splitlines()[0]
    assert "{{ lookup('env', 'HOME') }}" in md  # a task name from the file, not looked up


CALLBACK_PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  tasks:
    - name: Measure true
      o2edge.perf.command_bench:
        argv: [/bin/true]
        name: cmd/true
        runs: 6
        warmup: 0
    - name: Report the run in progress
      o2edge.perf.perf_report:
        results: callback
        baseline: "{{ baseline | default(omit) }}"
        dest: "{{ dest }}"
      register: rep
    - name: Keep what was returned
      ansible.builtin.copy:
        content: "{{ rep | to_json }}"
        dest: "{{ out }}"
"""


def test_real_run_with_perf_recap_reports_itself_and_compares_with_the_previous_report(tmp_path):
    """The C2 contract end to end: perf_recap's results.jsonl of the run in progress, then a second run
    whose baseline is the first report's results.json."""
    (tmp_path / "play.yml").write_text(CALLBACK_PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "unit"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCALHOST_WARNING="0", ANSIBLE_INVENTORY_UNPARSED_WARNING="0",
               ANSIBLE_CALLBACKS_ENABLED="o2edge.perf.perf_recap", O2EDGE_PERF_RESULTS_DIR=str(tmp_path / "runs"))
    env.pop("O2EDGE_PERF_RESULTS", None)
    outs = []
    for i in range(2):
        extra = {"dest": str(tmp_path / "reports"), "out": str(tmp_path / ("out%d.json" % i)),
                 "ansible_python_interpreter": sys.executable}
        if outs:
            extra["baseline"] = outs[0]["results_file"]
        proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                               str(tmp_path / "play.yml"), "-e", json.dumps(extra)],
                              capture_output=True, text=True, env=env, timeout=120, check=False)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        outs.append(json.load(open(str(tmp_path / ("out%d.json" % i)))))
    first, second = outs
    assert first["failed"] is False and not [m for m in first["missing"] if m["what"].startswith("run ")]
    rows = open(first["files"]["csv"]).read().splitlines()
    assert len(rows) == 2 and ",cmd/true,command,s,6,0,0," in rows[1]
    assert second["report_dir"] != first["report_dir"]  # a new run, a new directory
    assert second["comparisons"]["matched"] == 1 and second["comparisons"]["compared"] == 1
    assert sum(second["verdicts"].values()) == 1
    index = json.load(open(str(tmp_path / "reports" / "index.json")))
    assert len(index["runs"]) == 2


# --------------------------------------------------------------------------- issue 15: hostile input


SECRET = "s3cr3tT0ken"


@pytest.mark.parametrize("url", [
    "http://user:%s@127.0.0.1:9/" % SECRET,          # userinfo: refused
    "ftp://user:%s@127.0.0.1:9/?token=%s" % (SECRET, SECRET),  # not http(s): refused, URL not echoed
    "http://127.0.0.1:notaport/?token=%s" % SECRET,   # a bad port: refused, query not echoed
])
def test_bad_pushgateway_url_is_refused_before_anything_is_written_and_never_echoed(inputs, tmp_path, url):
    # Bug (issue 15, 1): a URL with credentials was refused only after the run directory and the index
    # were written, and the error for a non-http URL quoted the whole URL (password and token included).
    result = run_action(dict(inputs, pushgateway_url=url))
    assert result["failed"] is True and result["msg"].startswith("pushgateway_url: ")
    assert SECRET not in json.dumps(result)
    assert not os.path.exists(str(tmp_path / "reports"))  # neither the run directory nor the index


def test_pushgateway_url_query_is_kept_after_the_path_and_never_shown(inputs, gateway):
    # Bug (issue 15, 1): the push path was appended after the query string (".../?token=x/metrics/..."),
    # and the failing URL, query included, was echoed in the warning, the message and the result.
    _Gateway.status = 500
    url = gateway + "/base/?token=" + SECRET
    result = run_action(dict(inputs, pushgateway_url=url, pushgateway_required=True))
    path = _Gateway.received[0][0]
    assert path == "/base/metrics/job/o2edge_perf/instance/ctl?token=" + SECRET
    assert result["failed"] is True and result["pushgateway"]["url"] == gateway + "/base/metrics/job/o2edge_perf/instance/ctl"
    assert SECRET not in json.dumps(result) and "token" not in json.dumps(result)
    assert result["warnings"] == ["pushgateway: PUT %s/base/metrics/job/o2edge_perf/instance/ctl failed: HTTP 500 "
                                  "Internal Server Error: oops" % gateway]


def test_bad_threshold_is_refused_before_anything_is_written(inputs, tmp_path, no_hang):
    # Bug (issue 15, 1): parameters were checked after the results were read; a bad one must stop the
    # run before any file is read or written (here: results points at a FIFO that would block).
    fifo = str(tmp_path / "fifo.json")
    os.mkfifo(fifo)
    result = run_action(dict(inputs, results=[fifo], pushgateway_timeout=0))
    assert result["failed"] is True and result["msg"] == "pushgateway_timeout: 0.0 must be a number of seconds above 0"
    assert not os.path.exists(str(tmp_path / "reports"))


def test_results_file_that_is_a_fifo_is_refused_without_blocking(inputs, tmp_path, no_hang):
    # Bug (issue 15, 4): a named pipe given as results (or baseline) hung the report forever.
    fifo = str(tmp_path / "fifo.json")
    os.mkfifo(fifo)
    for key in ("results", "baseline"):
        result = run_action(dict(inputs, **{key: [fifo]}))
        assert result["failed"] is True
        assert result["msg"] == "%s[0]: results file %s is a named pipe (FIFO), not a regular file; not read" % (key, fifo)
    assert not os.path.exists(str(tmp_path / "reports"))


def test_secret_in_a_results_file_not_written_by_the_callback_is_masked_everywhere(tmp_path):
    # Bug (issue 15, 2): a URL with a password or a JWT in a record error or a probe detail, read from a
    # results file the callback did not write, landed unmasked in report.md/html/json and in `missing`.
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJlX3NlY3JldA"
    failed = record("git/fetch", "git", [], failures=2,
                    errors=[{"error": "fetch https://bob:%s@git.example.invalid/r.git failed" % SECRET}])
    doc = make_doc([failed, record("kpt/x", "kpt_render", AFTER)], probes=[("edge1", "http", "refused")])
    doc["probes"][0]["result"]["detail"] = "Authorization: Bearer " + jwt
    doc["missing"] = [{"what": "http://x.invalid/?access_token=" + SECRET, "why": jwt}]
    path = write_json(tmp_path / "foreign.json", doc)
    result = run_action({"results": [path], "dest": str(tmp_path / "reports")})
    assert result["failed"] is False
    written = "".join(open(f, encoding="utf-8").read() for f in result["files"].values())
    for text in (written, json.dumps(result)):
        assert SECRET not in text and jwt not in text and "bob" not in text
    assert "fetch https://********@git.example.invalid/r.git failed" in json.dumps(result["missing"])


def test_non_finite_or_overflowing_numbers_never_reach_a_json_file(tmp_path):
    # Bug (issue 15, 3): NaN, Infinity and 1e999 were accepted and written out as NaN/Infinity (not
    # JSON); a baseline of 1e308 samples made the median ratio overflow to inf.
    doc = make_doc([record("big", "git", [1.7e308] * 6)])
    base = make_doc([record("big", "git", [1e-3] * 6)])
    result = run_action({"results": [write_json(tmp_path / "cur.json", doc)],
                         "baseline": [write_json(tmp_path / "base.json", base)], "dest": str(tmp_path / "reports")})
    assert result["failed"] is False
    merged = open(result["files"]["json"], encoding="utf-8").read()
    assert "Infinity" not in merged and "NaN" not in merged
    entry = json.loads(merged)["report"]["comparisons"][0]
    assert entry["ratio"] is None and entry["ci"] is None and "beyond the float range" in entry["reason"]
    for bad in ("NaN", "Infinity", "1e999"):
        text = json.dumps(doc).replace("1.7e+308", bad, 1)
        (tmp_path / "bad.json").write_text(text)
        result = run_action({"results": [str(tmp_path / "bad.json")], "dest": str(tmp_path / "r2")})
        assert result["failed"] is True and result["msg"].startswith("results[0]: %s: holds " % (tmp_path / "bad.json"))
        assert not os.path.exists(str(tmp_path / "r2"))
