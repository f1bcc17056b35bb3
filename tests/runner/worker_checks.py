"""ansible-runner's worker protocol (transmit | worker | process) against a plain run, and secrets.

The job is runner/project/job.yml followed by a Prometheus query with a vaulted bearer token
(TOKEN_JOB below) against a stand-in on loopback. The vault password file lives on each
"node" outside the private data directory (ANSIBLE_VAULT_PASSWORD_FILE in the process's own
environment), so only ciphertext travels with the job.
"""
import glob
import os
import secrets
import subprocess

from common import (VENV_BIN, FakePrometheus, artifact_data, env_with_venv, find_secret, load_events,
                    normalized, read, results_doc, run)

JOB = "token_job.yml"
# Written into the job's project/ folder by the check (a playbook file here would be linted
# without the job.yml and token.vault.yml it needs).
TOKEN_JOB = """---
# The example job, then a query that needs a secret: a vaulted bearer token (token.vault.yml,
# written by the test) sent to a Prometheus stand-in on loopback that answers only to it.
- name: Run the example job
  ansible.builtin.import_playbook: job.yml

- name: Query Prometheus with the vaulted token
  hosts: localhost
  connection: local
  gather_facts: false
  vars_files:
    - token.vault.yml
  tasks:
    - name: Query the API with the token
      o2edge.perf.prometheus_query:
        url: "{{ runner_test_prometheus_url }}"
        query: up
        bearer_token: "{{ runner_test_token }}"
        runs: 2
        warmup: 0
      register: runner_test_query

    - name: Publish the query's outcome
      ansible.builtin.set_stats:
        data:
          runner_test_query_samples: "{{ runner_test_query.record.samples | length }}"
          runner_test_query_failures: "{{ runner_test_query.record.failures }}"
        aggregate: true
        per_host: false
"""
RUNNER = os.path.join(VENV_BIN, "ansible-runner")
STEP_EVENTS = ("playbook_on_play_start", "playbook_on_task_start", "runner_on_ok", "runner_on_failed",
               "runner_on_skipped", "runner_on_unreachable", "runner_item_on_ok", "runner_item_on_skipped")


def _secret_file(folder, value):
    os.makedirs(folder, mode=0o700)
    path = os.path.join(folder, "vault-pass")
    with open(path, "w") as f:
        f.write(value + "\n")
    os.chmod(path, 0o600)
    return path


def _vault_file(ctx, password_file, token):
    res = run([os.path.join(VENV_BIN, "ansible-vault"), "encrypt_string", "--vault-password-file", password_file,
               "--name", "runner_test_token", "--", token])
    assert res.returncode == 0, res.stderr
    assert token not in res.stdout
    path = os.path.join(ctx.tmp, "token.vault.yml")
    with open(path, "w") as f:
        f.write("---\n" + res.stdout)
    return path


def _steps(events):
    return [(e["event"], e["event_data"].get("task"), e["event_data"].get("host")) for e in events
            if e.get("event") in STEP_EVENTS]


def _shape(data):
    """artifact_data with every timing replaced by its type: what must match between two runs."""
    data = dict(data)
    data["o2edge_medians"] = dict((k, type(v).__name__) for k, v in data["o2edge_medians"].items())
    return data


def first_difference(a, b, path="$"):
    """The path of the first place where two JSON-like values differ (a key, an index, a type), or None."""
    if type(a) is not type(b):
        return "%s (%s against %s)" % (path, type(a).__name__, type(b).__name__)
    if isinstance(a, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                return "%s.%s (only in the %s run)" % (path, key, "worker" if key in a else "plain")
            where = first_difference(a[key], b[key], "%s.%s" % (path, key))
            if where:
                return where
        return None
    if isinstance(a, list):
        if len(a) != len(b):
            return "%s (%d items against %d)" % (path, len(a), len(b))
        for i, (x, y) in enumerate(zip(a, b)):
            where = first_difference(x, y, "%s[%d]" % (path, i))
            if where:
                return where
        return None
    return None if a == b else path


def check_worker_protocol(ctx):
    """transmit | worker | process gives the plain run's status, rc, events, artifact_data and results.json."""
    token = "o2lab-test-token-" + secrets.token_hex(12)
    vault_password = secrets.token_hex(16)
    controller_pass = _secret_file(os.path.join(ctx.tmp, "controller-secrets"), vault_password)
    node = os.path.join(ctx.tmp, "node")  # the execution node's working directory
    node_pass = _secret_file(os.path.join(node, "secrets"), vault_password)
    worker_pdd = os.path.join(node, "job")
    vault = _vault_file(ctx, controller_pass, token)
    with FakePrometheus(token) as prom:
        job = os.path.join(ctx.tmp, JOB)
        with open(job, "w") as f:
            f.write(TOKEN_JOB)
        files = (job, vault)
        # Each run measures I/O in a folder of its own, new to it (the worker's is on the node).
        plain_io, node_io = os.path.join(ctx.tmp, "plain-io"), os.path.join(node, "io")
        plain = ctx.private_data_dir("plain", extravars={"runner_test_prometheus_url": prom.url,
                                                         "o2edge_results_dir": plain_io}, project_files=files)
        ctl = ctx.private_data_dir("ctl", extravars={"runner_test_prometheus_url": prom.url,
                                                     "o2edge_results_dir": node_io}, project_files=files)

        res = run([RUNNER, "run", plain, "-p", JOB, "--ident", "plain"], cwd=plain,
                  env=env_with_venv({"ANSIBLE_VAULT_PASSWORD_FILE": controller_pass}))
        assert res.returncode == 0, "plain run exit %s: %s" % (res.returncode, res.stdout[-2000:])

        transmit = subprocess.Popen([RUNNER, "transmit", ctl, "-p", JOB, "--ident", "remote"], cwd=ctl,
                                    stdout=subprocess.PIPE, env=env_with_venv())
        worker = subprocess.Popen([RUNNER, "worker", "--private-data-dir", worker_pdd], cwd=node, stdin=transmit.stdout,
                                  stdout=subprocess.PIPE, env=env_with_venv({"ANSIBLE_VAULT_PASSWORD_FILE": node_pass}))
        transmit.stdout.close()
        process = subprocess.Popen([RUNNER, "process", ctl, "--ident", "remote"], cwd=ctl, stdin=worker.stdout,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_with_venv())
        worker.stdout.close()
        out, err = process.communicate(timeout=300)
        codes = (transmit.wait(30), worker.wait(30), process.returncode)
    assert codes[:2] == (0, 0), "transmit/worker exit codes %s: %s" % (codes, err[-1500:])

    plain_art = os.path.join(plain, "artifacts", "plain")
    remote_art = os.path.join(ctl, "artifacts", "remote")
    worker_art = os.path.join(worker_pdd, "artifacts", "remote")
    for name in ("status", "rc"):
        assert read(os.path.join(remote_art, name)) == read(os.path.join(plain_art, name)), name
    assert (read(os.path.join(remote_art, "status")), read(os.path.join(remote_art, "rc"))) == ("successful", "0")
    assert codes[2] == 0, "process exit code %s: %s %s" % (codes[2], out[-500:], err[-500:])
    assert "PLAY RECAP" in read(os.path.join(remote_art, "stdout"))

    replace = ((plain, "<private data dir>"), (worker_pdd, "<private data dir>"), (plain_io, "<io>"), (node_io, "<io>"))
    plain_events, remote_events = load_events(plain_art), load_events(remote_art)
    assert _steps(remote_events) == _steps(plain_events), "the two runs' task events differ"
    plain_data, remote_data = artifact_data(plain_events), artifact_data(remote_events)
    assert remote_data["runner_test_query_samples"] == 2 and remote_data["runner_test_query_failures"] == 0, \
        "the vaulted token did not work on the worker: %r" % remote_data
    assert normalized(_shape(remote_data), replace) == normalized(_shape(plain_data), replace), \
        "artifact_data: %r != %r" % (remote_data, plain_data)
    assert prom.seen and all(ok for _path, ok in prom.seen), "requests without the right token: %r" % prom.seen

    plain_doc = results_doc(plain_art)
    remote_doc = results_doc(remote_art)
    assert remote_doc["run"]["runner"]["ident"] == "remote" and plain_doc["run"]["runner"]["ident"] == "plain"
    assert remote_doc["run"]["status"] == "ok"
    # The run's set_stats data is results.json's outcomes: the same as runner's artifact_data, with
    # the same timings (medians) that differ between two runs.
    for doc, data in ((plain_doc, plain_data), (remote_doc, remote_data)):
        assert doc.get("outcomes") == data, "results.json outcomes %r != artifact_data %r" % (doc.get("outcomes"), data)
        doc["outcomes"] = _shape(doc["outcomes"])
    where = first_difference(normalized(remote_doc, replace), normalized(plain_doc, replace))
    assert where is None, \
        "results.json of the worker run differs from the plain run's (timings and ids left out) at %s" % where

    # The worker's directory after the job holds the job's output (so the grep below is not vacuous):
    # stdout (its events were streamed, not kept), results.json in the artifacts and the run's folder.
    assert "PLAY RECAP" in read(os.path.join(worker_art, "stdout")), "no stdout on the worker"
    assert results_doc(worker_art)["run"]["runner"]["ident"] == "remote", "no results.json on the worker"
    kept = [path for path in glob.glob(os.path.join(worker_pdd, "results", "*", "results.json"))
            if not os.path.islink(os.path.dirname(path))]  # results/latest points at the run's folder
    assert len(kept) == 1, "the callback's run folder is not in the worker's private data directory: %s" % kept
    # ... and hold neither the token nor the vault password; nor does anything on the controller side.
    for top in (node, ctl, plain):
        hits = find_secret(top, token)
        assert hits == [], "the token is in %s: %s" % (top, hits)
    for top in (worker_pdd, ctl, plain):
        hits = find_secret(top, vault_password)
        assert hits == [], "the vault password is in %s: %s" % (top, hits)


def check_env_secret_is_recorded(ctx):
    """A token in an environment variable is written by ansible-runner to artifacts/<ident>/command.

    This is why docs/scale-out.md says tokens go vaulted, never in env/envvars or a worker's own
    environment; it also proves find_secret finds what is there.
    """
    token = "o2lab-test-token-" + secrets.token_hex(12)
    pdd = ctx.private_data_dir("env-token", envvars={"O2EDGE_TEST_TOKEN": token})
    res = run([RUNNER, "run", pdd, "-p", "key_figures.yml", "--ident", "env"], cwd=pdd)
    assert res.returncode == 0, res.stdout[-1500:]
    assert find_secret(os.path.join(pdd, "artifacts"), token) == ["env/command"], \
        find_secret(os.path.join(pdd, "artifacts"), token)


CHECKS = [
    ("worker: transmit | worker | process equals a plain run, no secret left", check_worker_protocol),
    ("worker: an env var token lands in artifacts/<ident>/command", check_env_secret_is_recorded),
]
