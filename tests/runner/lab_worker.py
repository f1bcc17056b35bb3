"""o2edge.perf.benchmark over ansible-runner's worker protocol, on the lab (run by tests/integration/run.py).

The lab is up and this process runs in the root namespace: every ansible-runner process is started
inside the lab's controller namespace (``nsenter``), transmit and process on the "controller"
side, the worker in a working directory of its own, as an execution node would run it. The
inventory is the lab's edge-sites config with every site at its real address, so the benchmark
probes 10 services on 4 sites; kpt is left out to keep the job short.
"""
import os
import shutil
import subprocess
import tempfile

import yaml

from common import (RUNNER_EXAMPLE, VENV_BIN, artifact_data, env_with_venv, load_events, read, results_doc)

RUNNER = os.path.join(VENV_BIN, "ansible-runner")
JOB = """---
# The benchmark (measure, probes, report), then the key figures as artifact data.
- name: Run the benchmark
  ansible.builtin.import_playbook: o2edge.perf.benchmark
"""


def _private_data_dir(tmp, name, collections, lab_dir, lab_env):
    pdd = os.path.join(tmp, name)
    shutil.copytree(RUNNER_EXAMPLE, pdd, ignore=shutil.ignore_patterns("artifacts", "results", "collections"))
    shutil.copytree(collections, os.path.join(pdd, "collections"))
    shutil.copy(os.path.join(lab_dir, "edge-sites-fixed.yml"), os.path.join(pdd, "inventory", "edge-sites.yml"))
    os.remove(os.path.join(pdd, "inventory", "hosts.yml"))
    with open(os.path.join(pdd, "project", "bench_job.yml"), "w") as f:
        f.write(JOB)
    extra = {"o2edge_runs": 2, "o2edge_warmup": 0, "o2edge_io_size_mb": 2, "o2edge_results_dir": os.path.join(tmp, "io"),
             "o2edge_pipeline_repo": os.path.join(lab_dir, "repo"), "o2edge_prometheus_url": "http://198.18.0.1:9090"}
    with open(os.path.join(pdd, "env", "extravars"), "w") as f:
        yaml.safe_dump(extra, f, default_flow_style=False)
    with open(os.path.join(pdd, "env", "envvars")) as f:
        env = yaml.safe_load(f)
    env.update(lab_env)
    with open(os.path.join(pdd, "env", "envvars"), "w") as f:
        yaml.safe_dump(env, f, default_flow_style=False)
    return pdd


def benchmark_over_worker_protocol(ctl_prefix, lab_dir, lab_env, collections):
    """Raise AssertionError unless the benchmark's report, results and key figures come back whole."""
    tmp = tempfile.mkdtemp(prefix="o2edge-lab-worker-")
    try:
        ctl = _private_data_dir(tmp, "ctl", collections, lab_dir, lab_env)
        node = os.path.join(tmp, "node")
        os.makedirs(node)
        env = env_with_venv()
        transmit = subprocess.Popen(ctl_prefix + [RUNNER, "transmit", ctl, "-p", "bench_job.yml", "--ident", "bench"],
                                    cwd=ctl, stdout=subprocess.PIPE, env=env)
        worker = subprocess.Popen(ctl_prefix + [RUNNER, "worker", "--private-data-dir", os.path.join(node, "job")],
                                  cwd=node, stdin=transmit.stdout, stdout=subprocess.PIPE, env=env)
        transmit.stdout.close()
        process = subprocess.Popen(ctl_prefix + [RUNNER, "process", ctl, "--ident", "bench"], cwd=ctl,
                                   stdin=worker.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        worker.stdout.close()
        out, err = process.communicate(timeout=600)
        codes = (transmit.wait(30), worker.wait(30), process.returncode)
        art = os.path.join(ctl, "artifacts", "bench")
        stdout = read(os.path.join(art, "stdout")) if os.path.exists(os.path.join(art, "stdout")) else out
        assert codes == (0, 0, 0), "transmit/worker/process exit codes %s: %s %s" % (codes, stdout[-2500:], err[-500:])
        assert (read(os.path.join(art, "status")), read(os.path.join(art, "rc"))) == ("successful", "0"), stdout[-2500:]
        data = artifact_data(load_events(art))
        assert sorted(data["o2edge_slo"]) == ["component-latency", "edge-connectivity", "pipeline-dry-run", "success-rate"], data
        assert data["o2edge_slo"]["edge-connectivity"] == "pass", data
        # no kpt in this job: the dry-run objective has nothing to measure and must fail, never pass
        assert data["o2edge_slo"]["pipeline-dry-run"] == "fail", data
        doc = results_doc(art)
        states = sorted((p["result"]["site"], p["result"]["service"], p["result"]["state"]) for p in doc["probes"])
        assert len(states) == 10 and all(s[2] == "up" for s in states), states
        names = set(r["record"]["name"] for r in doc["records"])
        assert {"git/status", "prometheus_query/up"} <= names, sorted(names)
        # the report was written on the worker, where the job ran
        report = data["o2edge_report_dir"]
        assert os.path.isfile(os.path.join(report, "report.html")), report
        assert os.path.isfile(os.path.join(report, "junit.xml")), report
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
