"""Shared fixtures of the ansible-runner / execution-environment checks (tests/runner/run.py).

Everything happens in one temporary folder: the collection is built from the working tree and
installed there, and each check copies the example private data directory (runner/) next to it,
with the collection under its collections/ folder and small extra variables, so a check never
writes into the repository.
"""
import glob
import http.server
import json
import os
import shutil
import subprocess
import threading

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RUNNER_EXAMPLE = os.path.join(ROOT, "runner")
VENV_BIN = os.path.join(ROOT, ".venv", "bin")

# Small runs: the checks are about ansible-runner, not about the figures.
TEST_EXTRAVARS = {"o2edge_runs": 2, "o2edge_warmup": 0, "o2edge_io_size_mb": 2}
RESULTS_SCHEMA = "o2edge.perf/results/v1"
# Keys of the results document that differ from run to run (timings, ids, clocks).
VOLATILE_KEYS = frozenset(("samples", "stats", "started_at", "finished_at", "seconds", "wall_seconds", "id",
                           "ident", "artifact_dir", "latency_ms", "connect_ms", "generated_at"))


def env_with_venv(extra=None):
    """The environment for ansible-runner and its ansible-playbook: the venv's tools first."""
    env = dict(os.environ)
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    for key in ("ANSIBLE_CALLBACKS_ENABLED", "ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_CONFIG", "O2EDGE_PERF_RESULTS_DIR",
                "O2EDGE_PERF_RESULTS", "ANSIBLE_VAULT_PASSWORD_FILE"):
        env.pop(key, None)  # the private data directory's env/envvars decide, not the caller's shell
    env.update(extra or {})
    return env


def run(argv, timeout=300, **kwargs):
    kwargs.setdefault("env", env_with_venv())
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kwargs)


class Context:
    """One temporary folder with the collection built and installed from the working tree."""

    def __init__(self, tmp):
        self.tmp = tmp
        self.collections = os.path.join(tmp, "installed")
        self.io_dir = os.path.join(tmp, "node-io")  # io_bench's folder, the same for every run
        dist = os.path.join(tmp, "dist")
        res = run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "build", "--force", "--output-path", dist,
                   ROOT])
        if res.returncode:
            raise RuntimeError("ansible-galaxy collection build failed: %s" % (res.stderr or res.stdout)[-2000:])
        self.tarball = glob.glob(os.path.join(dist, "o2edge-perf-*.tar.gz"))[0]
        res = run([os.path.join(VENV_BIN, "ansible-galaxy"), "collection", "install", "--force", "-p",
                   self.collections, self.tarball])
        if res.returncode:
            raise RuntimeError("ansible-galaxy collection install failed: %s" % (res.stderr or res.stdout)[-2000:])

    def private_data_dir(self, name, extravars=None, envvars=None, project_files=()):
        """A copy of runner/ with the collection in collections/ and the test's extra variables."""
        pdd = os.path.join(self.tmp, name)
        shutil.copytree(RUNNER_EXAMPLE, pdd, ignore=shutil.ignore_patterns("artifacts", "results", "collections"))
        shutil.copytree(self.collections, os.path.join(pdd, "collections"))
        extra = dict(TEST_EXTRAVARS, o2edge_results_dir=self.io_dir)
        extra.update(extravars or {})
        for key, update in (("extravars", extra), ("envvars", envvars or {})):
            path = os.path.join(pdd, "env", key)
            with open(path) as f:
                data = yaml.safe_load(f) or {}
            data.update(update)
            with open(path, "w") as f:
                yaml.safe_dump(data, f, default_flow_style=False)
        for src in project_files:
            shutil.copy(src, os.path.join(pdd, "project", os.path.basename(src)))
        return pdd


def load_events(artifact_dir):
    events = []
    for path in glob.glob(os.path.join(artifact_dir, "job_events", "*.json")):
        with open(path) as f:
            events.append(json.load(f))
    return sorted(events, key=lambda e: e.get("counter", 0))


def check_event_stream(events, names=()):
    """A complete, ordered event list of one playbook run; returns the playbook events' kinds.

    Lines that ansible-playbook prints outside any event (a Python warning on stderr such as
    cryptography's CryptographyDeprecationWarning at import, which a fresh venv gets with a newer
    cryptography) become ``verbose`` events and may come anywhere, also before playbook_on_start:
    they are allowed, so the check is about the playbook's own events, not about the first line.
    What it refuses: a gap in the counters or the stdout lines (an event lost between the callback
    and the artifact directory), a partial event file left behind (its stdout marker never
    arrived), a stream that does not start with playbook_on_start or does not end with exactly one
    playbook_on_stats, and each of ``names`` missing.
    """
    partial = [e for e in events if "counter" not in e]
    assert not partial, "%d event file(s) without a counter (a *-partial.json left behind)" % len(partial)
    counters = [e["counter"] for e in events]
    assert counters == list(range(1, len(events) + 1)), "event counters not 1..%d: %s" % (len(events), counters)
    line = 0
    for event in events:
        assert event.get("start_line") == line, "event %d (%s) starts at line %s, the one before ended at %d" % (
            event["counter"], event.get("event"), event.get("start_line"), line)
        line = event.get("end_line")
    kinds = [e["event"] for e in events if e.get("event") != "verbose"]
    assert kinds and kinds[0] == "playbook_on_start", "first playbook event %s" % (kinds[:3],)
    assert kinds.count("playbook_on_stats") == 1 and kinds[-1] == "playbook_on_stats", \
        "want one playbook_on_stats, the last playbook event: %s" % kinds
    missing = [name for name in names if name not in kinds]
    assert not missing, "no %s event: %s" % (missing, kinds)
    return kinds


def artifact_data(events):
    stats = [e for e in events if e.get("event") == "playbook_on_stats"]
    assert len(stats) == 1, "expected one playbook_on_stats event, got %d" % len(stats)
    return stats[0]["event_data"].get("artifact_data")


def read(path):
    with open(path) as f:
        return f.read()


def results_doc(artifact_dir):
    """The perf_recap callback's results.json in the job's artifact directory."""
    path = os.path.join(artifact_dir, "results.json")
    if not os.path.exists(path):
        why = ""
        stdout = os.path.join(artifact_dir, "stdout")
        if os.path.exists(stdout) and "Skipping callback plugin 'o2edge.perf.perf_recap'" in read(stdout):
            why = " (ansible could not load the callback o2edge.perf.perf_recap: is plugins/callback/perf_recap.py there?)"
        raise AssertionError("no results.json in the job's artifact directory %s%s" % (artifact_dir, why))
    with open(path) as f:
        doc = json.load(f)
    assert doc.get("schema") == RESULTS_SCHEMA, "results.json schema %r, want %r" % (doc.get("schema"), RESULTS_SCHEMA)
    return doc


def normalized(value, replace=()):
    """The value without run-dependent keys, with the given path prefixes replaced by names."""
    if isinstance(value, dict):
        return dict((normalized(k, replace), normalized(v, replace)) for k, v in value.items() if k not in VOLATILE_KEYS)
    if isinstance(value, list):
        return [normalized(v, replace) for v in value]
    if isinstance(value, str):
        for old, new in sorted(replace, key=lambda pair: -len(pair[0])):  # /x/plain-io before /x/plain
            value = value.replace(old, new)
    return value


def find_secret(top, secret):
    """Files under ``top`` (not following links) whose bytes hold ``secret``."""
    needle = secret.encode()
    hits = []
    for dirpath, _dirs, files in os.walk(top):
        for name in files:
            path = os.path.join(dirpath, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                if needle in f.read():
                    hits.append(os.path.relpath(path, top))
    return sorted(hits)


class FakePrometheus:
    """A Prometheus HTTP API stand-in on loopback that answers only with the right bearer token."""

    def __init__(self, token):
        self.token = token
        self.seen = []  # (path, token matched) per request
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self):
                ok = self.headers.get("Authorization") == "Bearer " + owner.token
                owner.seen.append((self.path.split("?")[0], ok))
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                if not ok:
                    body, code = {"status": "error", "errorType": "unauthorized", "error": "bad token"}, 401
                elif self.path.startswith("/api/v1/status/buildinfo"):
                    body, code = {"status": "success", "data": {"version": "0.0.0-stand-in"}}, 200
                else:
                    body, code = {"status": "success", "data": {"resultType": "vector", "result": [
                        {"metric": {"__name__": "up"}, "value": [1764288000, "1"]}]}}, 200
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args):
                return

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
