"""The perf_recap callback, end to end: real ansible-playbook runs of the small local plays in
plays/ (connection local, two inventory hosts, tiny sleeps), asserting on the results files.

Durations are only checked against lower bounds the plays guarantee (a task that runs
``sleep 0.3`` cannot take less than 0.3 s), never against upper bounds.
"""
import os
import signal
import subprocess
import sys
import time

import ansible_runner
import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _results_doc

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PLAYS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "plays")
BIN = os.path.dirname(sys.executable)
PLAYBOOK = os.path.join(BIN, "ansible-playbook")
COLLECTIONS = os.path.join(ROOT, ".build", "unit")


def _env(results_dir, **extra):
    env = dict(os.environ)
    for key in list(env):
        if key.startswith(("ANSIBLE_", "O2EDGE_PERF", "AWX_")):
            del env[key]
    env.update(ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_CALLBACKS_ENABLED="o2edge.perf.perf_recap",
               O2EDGE_PERF_RESULTS_DIR=str(results_dir), ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="0",
               ANSIBLE_LOCAL_TEMP=str(results_dir) + "-tmp", PATH=BIN + os.pathsep + env.get("PATH", ""))
    env.update(extra)
    return env


def play(results_dir, playbook, *args, **env):
    proc = subprocess.run([PLAYBOOK, "-i", os.path.join(PLAYS, "hosts.ini"), os.path.join(PLAYS, playbook)] + list(args),
                          env=_env(results_dir, **env), cwd=PLAYS, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, timeout=300, check=False)
    return proc


def run_dir(results_dir):
    runs = [d for d in os.listdir(str(results_dir)) if d not in ("latest", "latest.json")]
    assert len(runs) == 1, runs
    return os.path.join(str(results_dir), runs[0])


def entries(doc, task):
    return [t for t in doc["tasks"] if t["task"] == task]


def assert_inside_run(doc):
    """Every task entry starts after the run started and ends before it finished (ms stamps)."""
    start, end = _results_doc._iso(doc["run"]["started_at"]), _results_doc._iso(doc["run"]["finished_at"])
    for t in doc["tasks"]:
        begun = _results_doc._iso(t["started_at"])
        assert start <= begun and (begun - start).total_seconds() + t["seconds"] <= (end - start).total_seconds() + 0.002, t


@pytest.fixture(scope="module")
def free_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("free") / "results"
    proc = play(results, "free.yml")
    assert proc.returncode == 0, proc.stdout
    return proc, run_dir(results), results


@pytest.fixture(scope="module")
def linear_run(tmp_path_factory):
    results = tmp_path_factory.mktemp("linear") / "results"
    proc = play(results, "linear.yml", O2EDGE_PERF_RECAP_SHOW="false")
    assert proc.returncode == 0, proc.stdout
    return proc, run_dir(results)


@pytest.fixture(scope="module")
def records_run(tmp_path_factory):
    base = tmp_path_factory.mktemp("records")
    env_out = base / "env.txt"
    proc = play(base / "results", "records.yml", "-e", "env_out=%s" % env_out, O2EDGE_PERF_SLICE="1/3")
    assert proc.returncode == 2, proc.stdout  # a task failed on purpose
    return proc, run_dir(base / "results"), env_out


def test_free_strategy_times_each_host(free_run):
    rdir = free_run[1]
    doc = _results_doc.load(os.path.join(rdir, "results.json"))
    sleeps = entries(doc, "Sleep on every host")
    assert sorted(t["host"] for t in sleeps) == ["h1", "h2"]
    assert all(t["seconds"] >= 0.3 and t["status"] == "ok" and t["role"] is None for t in sleeps)
    assert all(t["play"] == "Free play" and t["action"] == "ansible.builtin.command" for t in sleeps)
    role_a = entries(doc, "Role sleep a")
    # included role on both hosts in the free play, then the role of the second play on h1
    assert sorted(t["host"] for t in role_a) == ["h1", "h1", "h2"]
    assert all(t["seconds"] >= 0.3 and t["role"] == "slowrole" for t in role_a)
    assert all(t["seconds"] >= 0.2 for t in entries(doc, "Role sleep b"))
    assert_inside_run(doc)


def test_roles_sum_their_tasks_and_plays_cover_them(free_run):
    rdir = free_run[1]
    doc = _results_doc.load(os.path.join(rdir, "results.json"))
    role_sum = sum(t["seconds"] for t in doc["tasks"] if t["role"] == "slowrole")
    assert doc["totals"]["roles"] == [{"role": "slowrole", "seconds": pytest.approx(role_sum, abs=1e-5)}]
    assert role_sum >= 3 * 0.3 + 3 * 0.2
    plays = doc["totals"]["plays"]
    assert [p["play"] for p in plays] == ["Free play", "Second play"]
    # a play lasts at least as long as its longest host's tasks run one after another
    assert plays[1]["seconds"] >= 0.5
    assert plays[0]["seconds"] >= max(sum(t["seconds"] for t in doc["tasks"] if t["play"] == "Free play" and t["host"] == h)
                                      for h in ("h1", "h2")) - 0.05
    assert doc["totals"]["wall_seconds"] >= sum(p["seconds"] for p in plays) - 0.05
    assert doc["hosts"]["h1"]["ok"] == 6 and doc["hosts"]["h2"]["ok"] == 4
    assert doc["run"]["status"] == "ok" and doc["run"]["finished_at"]


def test_recap_on_screen_and_latest_pointer(free_run):
    proc, rdir, results = free_run
    out = proc.stdout
    assert "PERF RECAP" in out
    slowest = out.split("slowest tasks:")[1].split("results:")[0].strip().splitlines()
    assert len(slowest) == 10  # 10 task entries, default N is 10
    seconds = [float(line.split()[0]) for line in slowest]
    assert seconds == sorted(seconds, reverse=True)
    assert "results: %s" % os.path.join(rdir, "results.json") in out
    assert os.path.realpath(os.path.join(str(results), "latest")) == os.path.realpath(rdir)


def test_jsonl_folds_into_the_same_document(free_run):
    rdir = free_run[1]
    from_json = _results_doc.load(os.path.join(rdir, "results.json"))
    from_jsonl = _results_doc.load(os.path.join(rdir, "results.jsonl"))
    assert from_jsonl == from_json


def test_loops_count_items_once(linear_run):
    rdir = linear_run[1]
    doc = _results_doc.load(rdir)
    loops = entries(doc, "Loop of three sleeps")
    assert sorted(t["host"] for t in loops) == ["h1", "h2"]
    assert all(t["items"] == 3 and t["seconds"] >= 0.3 for t in loops)
    bench = entries(doc, "Measure true twice per item")
    assert all(t["items"] == 2 for t in bench) and len(bench) == 2
    assert "items" not in entries(doc, "Included sleep")[0]
    # command_bench returns each record twice (record and records): counted once per item and host
    names = sorted((r["host"], r["record"]["name"]) for r in doc["records"])
    assert names == [("h1", "true-a"), ("h1", "true-b"), ("h2", "true-a"), ("h2", "true-b")]
    assert all(len(r["record"]["samples"]) == 2 for r in doc["records"])


def test_serial_include_handlers_async(linear_run):
    proc, rdir = linear_run
    doc = _results_doc.load(rdir)
    assert "PERF RECAP" not in proc.stdout  # show: false
    assert sorted(t["host"] for t in entries(doc, "Included sleep")) == ["h1", "h2"]
    assert all(t["seconds"] >= 0.2 for t in entries(doc, "Included sleep"))
    assert len(entries(doc, "Include a task file")) == 2
    handler = entries(doc, "Slow handler")
    assert sorted(t["host"] for t in handler) == ["h1", "h2"] and all(t["seconds"] >= 0.25 for t in handler)
    assert [t["status"] for t in entries(doc, "Notify the handler")] == ["changed", "changed"]
    assert entries(doc, "Async polled")[0]["seconds"] >= 0.4
    assert entries(doc, "Async fire and forget")[0]["seconds"] < entries(doc, "Async polled")[0]["seconds"]
    assert len(entries(doc, "Wait for the async job")) == 1
    # serial: 1 runs the play in two batches, one play total
    plays = doc["totals"]["plays"]
    assert [p["play"] for p in plays] == ["Serial play", "Async play"]
    serial_tasks = sum(t["seconds"] for t in doc["tasks"] if t["play"] == "Serial play")
    assert plays[0]["seconds"] >= serial_tasks - 0.1  # hosts one after another: the batches add up
    assert len(doc["tasks"]) == 15
    assert_inside_run(doc)
    # serial: 1, h2's batch starts once h1's is over
    h1_end = max(_results_doc._iso(t["started_at"]).timestamp() + t["seconds"] for t in doc["tasks"] if t["host"] == "h1" and t["play"] == "Serial play")
    assert min(_results_doc._iso(t["started_at"]).timestamp() for t in doc["tasks"] if t["host"] == "h2") >= h1_end - 0.002


def test_records_probes_secrets_and_no_log(records_run):
    rdir = records_run[1]
    doc = _results_doc.load(os.path.join(rdir, "results.json"))
    assert doc["run"]["status"] == "failed"
    assert doc["run"]["slice"] == {"index": 1, "count": 3}
    assert doc["hosts"]["h1"]["failures"] == 1 and doc["hosts"]["h1"]["ignored"] == 1
    good = [r for r in doc["records"] if r["record"]["name"] == "demo/good"]
    assert len(good) == 1 and good[0]["task"] == "Return records" and good[0]["host"] == "h1"
    assert good[0]["record"]["context"]["url"] == "https://********@example.invalid/x"
    assert good[0]["record"]["context"]["api_token"] == "********"
    assert good[0]["record"]["samples"] == [1.0, 2.0, 3.0]
    probe = [r for r in doc["records"] if r["record"]["name"] == "probe/loop1/web"]
    assert len(probe) == 1 and probe[0]["record"]["failures"] == 1
    assert [p["result"]["state"] for p in doc["probes"]] == ["refused"]
    assert sorted(doc["probes"][0]["result"]) == sorted(_results_doc.PROBE_KEYS)
    whats = [m["what"] for m in doc["missing"]]
    broken = [m for m in doc["missing"] if "demo/broken" in m["what"]]
    assert len(broken) == 1 and "missing key component" in broken[0]["why"]
    assert any("Return records without logging" in w and "h1" in w for w in whats)
    for name in ("results.json", "results.jsonl"):
        with open(os.path.join(rdir, name)) as handle:
            text = handle.read()
        assert "hunter2-sentinel" not in text and "tok-sentinel-value" not in text
        assert "demo/nolog-only" not in text  # the no_log task's record: withheld
    # only one demo/good: the no_log task's copy of the same records was not written
    assert sum(1 for r in doc["records"] if r["task"] == "Return records without logging") == 0
    assert [t["status"] for t in entries(doc, "Fail on purpose")] == ["failed"]
    # set_stats of the whole run (per_host: false): carried, aggregated as Ansible does, masked;
    # per-host set_stats data is not
    assert doc["outcomes"] == {"demo_outcome": {"sites_up": 4, "lines": ["edge2: still down"]},
                               "demo_url": "https://********@example.invalid/x"}


def test_results_path_exported_to_modules(records_run):
    rdir, env_out = records_run[1:]
    with open(str(env_out)) as handle:
        assert handle.read() == os.path.join(rdir, "results.jsonl")


def _start(results, playbook, **env):
    return subprocess.Popen([PLAYBOOK, "-i", os.path.join(PLAYS, "hosts.ini"), os.path.join(PLAYS, playbook)],
                            env=_env(results, **env), cwd=PLAYS, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_for(path, text, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as handle:
                if text in handle.read():
                    return
        time.sleep(0.1)
    raise AssertionError("%s never held %r" % (path, text))


def _children(pid):
    """PIDs whose parent is ``pid`` (Ansible's workers: each calls setsid, so a signal to the
    playbook's process group does not reach them)."""
    found = []
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as handle:
                    stat = handle.read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(name))
    return found


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_and_killed_runs(tmp_path, sig):
    results = tmp_path / "results"
    proc = _start(results, "long.yml")
    workers = []
    try:
        deadline = time.monotonic() + 120
        while not os.path.isdir(str(results)) or len(os.listdir(str(results))) < 2:
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.1)
        rdir = run_dir(results)
        _wait_for(os.path.join(rdir, "results.jsonl"), '"task":"Short first"')
        time.sleep(0.5)  # the long task is running now
        workers = _children(proc.pid)
        os.killpg(proc.pid, sig)
        proc.communicate(timeout=60)
    finally:
        # Leave nothing behind: the playbook's group, then each worker's own session (the
        # worker running the long task outlives a killed playbook until its task ends).
        for group in [proc.pid] + workers:
            try:
                os.killpg(group, signal.SIGKILL)
            except OSError:
                pass
        proc.wait()
    if sig == signal.SIGINT:
        doc = _results_doc.load(os.path.join(rdir, "results.json"))
        assert doc["run"]["status"] == "interrupted" and doc["run"]["finished_at"]
        assert any("Long second" in m["what"] and "no result" in m["why"] for m in doc["missing"])
    else:  # killed: no results.json, the trail is there
        assert not os.path.exists(os.path.join(rdir, "results.json"))
        doc = _results_doc.load(rdir)
        assert doc["run"]["status"] == "running" and doc["run"]["finished_at"] is None
    assert [t["task"] for t in doc["tasks"]] == ["Short first"]
    assert doc["hosts"]["h1"]["ok"] == 1


def test_variables_override_environment(tmp_path):
    chosen = tmp_path / "chosen"
    proc = play(tmp_path / "env-dir", "free.yml", "-e", "o2edge_perf_results_dir=%s" % chosen, "-e", "o2edge_perf_recap_slowest=2")
    assert proc.returncode == 0, proc.stdout
    assert not os.path.exists(str(tmp_path / "env-dir"))
    assert os.path.isfile(os.path.join(run_dir(chosen), "results.json"))
    slowest = proc.stdout.split("slowest tasks:")[1].split("results:")[0].strip().splitlines()
    assert len(slowest) == 2


def test_unwritable_results_dir_warns_once_and_the_run_goes_on(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    proc = play(blocker / "results", "free.yml", ANSIBLE_LOCAL_TEMP=str(tmp_path / "local-temp"))
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count("perf_recap: cannot write results under %s" % (blocker / "results")) == 1
    assert "PERF RECAP" not in proc.stdout


def test_ansible_runner_artifact_dir(tmp_path):
    pdd = tmp_path / "pdd"
    (pdd / "project").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    with open(os.path.join(PLAYS, "hosts.ini")) as src, open(str(pdd / "inventory" / "hosts"), "w") as dst:
        dst.write(src.read())
    with open(os.path.join(PLAYS, "long.yml")) as src, open(str(pdd / "project" / "short.yml"), "w") as dst:
        dst.write(src.read().replace("sleep 30", "sleep 0.1"))
    env = _env(tmp_path / "results")
    old_path = os.environ["PATH"]
    os.environ["PATH"] = env["PATH"]  # ansible-runner looks ansible-playbook up on PATH
    try:
        run = ansible_runner.run(private_data_dir=str(pdd), playbook="short.yml", ident="job42", quiet=True,
                                 envvars=dict((k, v) for k, v in env.items() if k.startswith(("ANSIBLE_", "O2EDGE_"))))
    finally:
        os.environ["PATH"] = old_path
    assert run.rc == 0
    artifact = str(pdd / "artifacts" / "job42")
    doc = _results_doc.load(os.path.join(artifact, "results.json"))
    assert doc["run"]["runner"] == {"ident": "job42", "artifact_dir": artifact}
    assert [t["task"] for t in doc["tasks"]] == ["Short first", "Long second"]
    assert _results_doc.load(run_dir(tmp_path / "results")) == doc


def test_ansible_doc_renders():
    proc = subprocess.run([os.path.join(BIN, "ansible-doc"), "-t", "callback", "o2edge.perf.perf_recap"],
                          env=_env("/nonexistent"), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          universal_newlines=True, check=False)
    assert proc.returncode == 0, proc.stdout
    assert "O2EDGE_PERF_RESULTS_DIR" in proc.stdout and "aggregate" in proc.stdout.lower()


def test_parse_slice_and_collection_version():
    from ansible_collections.o2edge.perf.plugins.callback import perf_recap

    assert perf_recap._parse_slice("2/5") == {"index": 2, "count": 5}
    assert perf_recap._parse_slice("") is None and perf_recap._parse_slice(None) is None
    for bad, message in (("5/5", "index must be 0 <= index < count"), ("-1/2", "index must be"), ("a/b", "is not index/count"),
                         ("1/2/3", "is not index/count")):
        with pytest.raises(ValueError) as err:
            perf_recap._parse_slice(bad)
        assert message in str(err.value) and repr(bad) in str(err.value)
    with open(os.path.join(ROOT, "galaxy.yml")) as handle:
        version = [line.split(":", 1)[1].strip() for line in handle if line.startswith("version:")][0]
    assert perf_recap._collection_version() == version
