"""ansible-runner runs the collection's playbooks: Python API and CLI, success and failure.

Each check runs the example private data directory's job (runner/project/job.yml, which imports
o2edge.perf.measure and publishes key figures with set_stats) on a copy of runner/.
"""
import os

from common import VENV_BIN, artifact_data, check_event_stream, env_with_venv, load_events, read, results_doc, run

JOB = "job.yml"
IO_TASK = "Measure file I/O where the results are written"
KEY_FIGURES_TASK = "Publish the number of records, their failures and medians, and the probe summary"


def check_key_figures(data, doc, io_dir):
    """artifact_data from set_stats agrees with the records, and with the callback's results.json."""
    assert isinstance(data, dict) and data, "no artifact_data (set_stats with per_host: false): %r" % (data,)
    medians = data.get("o2edge_medians") or {}
    want = set("file_io%s/%s" % (io_dir, kind) for kind in ("write", "write_seconds", "read", "read_seconds"))
    assert want <= set(medians), "io_bench records missing from artifact_data: %s" % sorted(want - set(medians))
    assert data.get("o2edge_records") == len(medians), data
    assert data.get("o2edge_failures") == 0, data
    assert all(isinstance(v, (int, float)) and v > 0 for v in medians.values()), medians
    assert data["o2edge_units"]["file_io%s/write" % io_dir] == "MB/s", data["o2edge_units"]
    names = [r["record"]["name"] for r in doc.get("records", [])]
    assert sorted(names) == sorted(medians), "results.json records %s, artifact_data %s" % (sorted(names), sorted(medians))
    for item in doc["records"]:
        assert item["record"]["stats"]["median"] == medians[item["record"]["name"]], item["record"]["name"]


def check_api_success(ctx):
    """ansible_runner.run(): status successful, rc 0, events, artifact_data, results.json in the artifacts."""
    import ansible_runner  # pylint: disable=import-outside-toplevel
    pdd = ctx.private_data_dir("api-ok")
    os.environ["PATH"] = VENV_BIN + os.pathsep + os.environ["PATH"]
    r = ansible_runner.run(private_data_dir=pdd, playbook=JOB, ident="api-ok", quiet=True)
    assert (r.status, r.rc) == ("successful", 0), "status %s rc %s: %s" % (r.status, r.rc, r.stdout.read()[-2000:])
    events = list(r.events)
    kinds = [e["event"] for e in events]
    for kind in ("playbook_on_start", "playbook_on_play_start", "runner_on_ok", "playbook_on_stats"):
        assert kind in kinds, "no %s event" % kind
    assert "runner_on_failed" not in kinds
    ok_tasks = [e["event_data"].get("task") for e in events if e["event"] == "runner_on_ok"]
    assert IO_TASK in ok_tasks and KEY_FIGURES_TASK in ok_tasks, ok_tasks
    stdout = r.stdout.read()
    assert "PLAY RECAP" in stdout and "failed=0" in stdout, stdout[-500:]
    assert r.stats["ok"].get("localhost", 0) >= 4 and not r.stats["failures"], r.stats
    doc = results_doc(r.config.artifact_dir)
    assert doc["run"]["status"] == "ok", doc["run"]
    assert (doc["run"].get("runner") or {}).get("ident") == "api-ok", doc["run"].get("runner")
    assert doc["hosts"]["localhost"]["failures"] == 0, doc["hosts"]
    check_key_figures(artifact_data(events), doc, ctx.io_dir)


def check_api_failure(ctx):
    """A failing play: status failed, rc != 0, the failed task's event, results.json says failed."""
    import ansible_runner  # pylint: disable=import-outside-toplevel
    pdd = ctx.private_data_dir("api-fail", extravars={"o2edge_io_size_mb": 0})
    os.environ["PATH"] = VENV_BIN + os.pathsep + os.environ["PATH"]
    r = ansible_runner.run(private_data_dir=pdd, playbook=JOB, ident="api-fail", quiet=True)
    assert r.status == "failed" and r.rc not in (0, None), "status %s rc %s" % (r.status, r.rc)
    failed = [e for e in r.events if e["event"] == "runner_on_failed"]
    assert len(failed) == 1 and failed[0]["event_data"]["task"] == IO_TASK, [e["event_data"].get("task") for e in failed]
    assert "size_mb" in failed[0]["event_data"]["res"]["msg"], failed[0]["event_data"]["res"]
    assert r.stats["failures"] == {"localhost": 1}, r.stats
    events = list(r.events)
    assert artifact_data(events) == {}, "key figures published although the play failed before them"
    doc = results_doc(r.config.artifact_dir)
    assert doc["run"]["status"] == "failed", doc["run"]
    assert doc["hosts"]["localhost"]["failures"] == 1, doc["hosts"]


def _cli(pdd, ident):
    res = run([os.path.join(VENV_BIN, "ansible-runner"), "run", pdd, "-p", JOB, "--ident", ident],
              env=env_with_venv(), cwd=pdd)
    artifacts = os.path.join(pdd, "artifacts", ident)
    return res, artifacts


def check_cli_success(ctx):
    """`ansible-runner run DIR -p job.yml`: exit 0, rc/status files, stdout, events, results.json."""
    pdd = ctx.private_data_dir("cli-ok")
    res, artifacts = _cli(pdd, "cli-ok")
    assert res.returncode == 0, "exit %s: %s" % (res.returncode, (res.stdout + res.stderr)[-2000:])
    status = (read(os.path.join(artifacts, "status")), read(os.path.join(artifacts, "rc")))
    assert status == ("successful", "0"), status
    assert "PLAY RECAP" in res.stdout and "PLAY RECAP" in read(os.path.join(artifacts, "stdout")), res.stdout[-500:]
    events = load_events(artifacts)
    kinds = check_event_stream(events, ("playbook_on_play_start", "runner_on_ok"))
    assert "runner_on_failed" not in kinds, kinds
    doc = results_doc(artifacts)
    assert doc["run"]["status"] == "ok" and doc["run"]["runner"]["ident"] == "cli-ok", doc["run"]
    check_key_figures(artifact_data(events), doc, ctx.io_dir)
    ctx.cli_ok = (pdd, artifacts)


def check_cli_failure(ctx):
    """`ansible-runner run` of a failing play: its exit code is the play's rc (non-zero), status failed."""
    pdd = ctx.private_data_dir("cli-fail", extravars={"o2edge_io_size_mb": 0})
    res, artifacts = _cli(pdd, "cli-fail")
    rc = read(os.path.join(artifacts, "rc"))
    assert res.returncode != 0 and str(res.returncode) == rc, "exit %s, rc file %s" % (res.returncode, rc)
    assert read(os.path.join(artifacts, "status")) == "failed"
    assert "size_mb must be at least 1" in read(os.path.join(artifacts, "stdout"))
    assert results_doc(artifacts)["run"]["status"] == "failed"


CHECKS = [
    ("runner: Python API, successful job", check_api_success),
    ("runner: Python API, failing play", check_api_failure),
    ("runner: CLI, successful job", check_cli_success),
    ("runner: CLI, failing play", check_cli_failure),
]
