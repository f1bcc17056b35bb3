"""Run a sliced job with ansible-runner and merge its slices with o2edge.perf.perf_report.

``SlicedRun`` writes one private data directory per slice (``slicer.make_job_dir``), starts every
slice's job at once (one ``job.py`` process each, which calls ``ansible_runner.run``), can break
a slice on purpose (an unparsable inventory, or the job killed once its results trail exists),
gathers each slice's results file and runs ``project/merge.yml`` (perf_report) over them.
"""
import json
import os
import signal
import subprocess
import sys
import time

import yaml

import slicer

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PYTHON = sys.executable
VENV_BIN = os.path.dirname(PYTHON)


def collections_dir(tmp, source=REPO):
    """A collections path whose o2edge.perf is ``source`` (the working tree by default)."""
    base = os.path.join(tmp, "collections")
    ns = os.path.join(base, "ansible_collections", "o2edge")
    os.makedirs(ns, exist_ok=True)
    link = os.path.join(ns, "perf")
    if not os.path.lexists(link):
        os.symlink(source, link)
    return base


def job_env(collections):
    env = dict(os.environ)
    env["ANSIBLE_COLLECTIONS_PATH"] = collections
    env["PATH"] = VENV_BIN + os.pathsep + env.get("PATH", "")
    for key in ("ANSIBLE_CALLBACKS_ENABLED", "O2EDGE_PERF_SLICE", "O2EDGE_PERF_RESULTS_DIR", "O2EDGE_PERF_RESULTS"):
        env.pop(key, None)
    return env


def descendants(pid):
    """PIDs of every process under ``pid`` (ansible-runner starts ansible-playbook in a session of its
    own, so killing the job's process group does not reach it)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry, encoding="utf-8") as handle:
                stat = handle.read()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def kill_tree(pid):
    """SIGKILL ``pid`` and every process under it (a job killed outright, as when its node dies)."""
    for victim in [pid] + descendants(pid):
        try:
            os.kill(victim, signal.SIGSTOP)
        except ProcessLookupError:
            pass
    for victim in [pid] + descendants(pid):
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass


class SlicedRun:
    """One sliced job: ``prepare`` the slices, ``run`` them at once, ``merge`` their results."""

    def __init__(self, base, collections, count, template=None, order="name"):
        self.base = base
        self.collections = collections
        self.count = count
        self.template = template or os.path.join(REPO, "runner")
        self.order = order
        self.slices = []
        os.makedirs(base, exist_ok=True)

    def prepare(self, inventory, extravars=None, edge_sites=True, broken=()):
        """Cut ``inventory`` (an edge-sites config, or any inventory when ``edge_sites`` is false) and
        write the slices' directories; a slice index in ``broken`` gets an inventory that does not parse."""
        if edge_sites:
            parts = slicer.slice_edge_sites(inventory, self.count, self.order)
            name = "edge-sites.yml"
        else:
            listing = slicer.inventory_list(inventory, env=job_env(self.collections))
            parts = slicer.slice_listing(listing, self.count, self.order)
            name = "hosts.yml"
        with open(os.path.join(HERE, "project", "slice.yml"), encoding="utf-8") as handle:
            playbook = handle.read()
        envvars = {"ANSIBLE_COLLECTIONS_PATH": self.collections, "ANSIBLE_INVENTORY_UNPARSED_FAILED": "True",
                   "ANSIBLE_RETRY_FILES_ENABLED": "False"}
        if edge_sites:
            # Only the inventory plugins an edge-sites job needs (as ansible.cfg.example): with Ansible's
            # default list, the auto plugin parses the whole file a second time (about 5 s for 1,000 sites).
            envvars["ANSIBLE_INVENTORY_ENABLED"] = "o2edge.perf.edge_sites,host_list,script,toml"
        for key in ("O2LAB_DIR", "ANSIBLE_SSH_CONTROL_PATH_DIR", "ANSIBLE_LOCAL_TEMP", "CONTAINERS_CONF",
                    "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF", "ANSIBLE_HOST_KEY_CHECKING"):
            if os.environ.get(key):
                envvars[key] = os.environ[key]
        for index, (names, inv) in enumerate(parts):
            dest = os.path.join(self.base, "slice-%d" % index)
            slicer.make_job_dir(self.template, dest, index, self.count, name, inv, envvars,
                                project_files=[("slice.yml", playbook)])
            if index in broken:
                slicer.write_atomic(os.path.join(dest, "inventory", name),
                                    "plugin: o2edge.perf.edge_sites\nversion: 1\nsites: [ {name: [broken\n")
            if extravars:
                path = os.path.join(dest, "env", "extravars")
                current = {}
                if os.path.isfile(path):
                    with open(path, encoding="utf-8") as handle:
                        current = yaml.safe_load(handle) or {}
                current.update(extravars)
                slicer.write_atomic(path, "---\n" + yaml.safe_dump(current, sort_keys=False))
            self.slices.append({"index": index, "names": names, "dir": dest, "ident": "slice-%d" % index})
        return self.slices

    def run(self, playbook="slice.yml", kill=(), timeout=900):
        """Start every slice's job at once and wait; a slice index in ``kill`` is killed (SIGKILL to
        its process group) as soon as its results trail has a first line. Returns the wall seconds."""
        env = job_env(self.collections)
        start = time.monotonic()
        for s in self.slices:
            s["proc"] = subprocess.Popen([PYTHON, os.path.join(HERE, "job.py"), s["dir"], playbook, s["ident"]],
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                                         start_new_session=True, text=True)
        pending = dict((s["index"], s) for s in self.slices if s["index"] in kill)
        while pending and time.monotonic() - start < timeout:
            for index, s in list(pending.items()):
                trail = slicer.results_of(s["dir"], s["ident"])
                if trail and os.path.getsize(trail) > 0:
                    kill_tree(s["proc"].pid)
                    s["killed"] = True
                    del pending[index]
                elif s["proc"].poll() is not None:
                    del pending[index]
            time.sleep(0.05)
        for s in self.slices:
            try:
                out, err = s["proc"].communicate(timeout=max(1, timeout - (time.monotonic() - start)))
            except subprocess.TimeoutExpired:
                kill_tree(s["proc"].pid)
                out, err = s["proc"].communicate()
            s["returncode"] = s["proc"].returncode
            s["job"] = json.loads(out.strip().splitlines()[-1]) if out.strip() else None
            s["stderr"] = err[-2000:]
            s["results"] = slicer.results_of(s["dir"], s["ident"])
            del s["proc"]
        return time.monotonic() - start

    def merge(self, slo_file=None, results=None):
        """Run perf_report over the slices' results files; returns (task result, merged document, seconds)."""
        files = results if results is not None else [s["results"] for s in self.slices if s.get("results")]
        out = os.path.join(self.base, "merge-result.json")
        variables = {"slices_results": files, "slices_dest": os.path.join(self.base, "reports"), "slices_out": out}
        if slo_file:
            variables["slices_slo_file"] = slo_file
        vars_file = os.path.join(self.base, "merge-vars.json")
        slicer.write_atomic(vars_file, json.dumps(variables))
        start = time.monotonic()
        proc = subprocess.run([os.path.join(VENV_BIN, "ansible-playbook"), "-i", "localhost,",
                               os.path.join(HERE, "project", "merge.yml"), "-e", "@" + vars_file],
                              capture_output=True, text=True, env=job_env(self.collections), check=False, timeout=600)
        seconds = time.monotonic() - start
        if proc.returncode != 0:
            raise AssertionError("perf_report over %d slices failed (rc %d): %s" % (
                len(files), proc.returncode, (proc.stdout + proc.stderr)[-3000:]))
        with open(out, encoding="utf-8") as handle:
            result = json.load(handle)
        with open(result["results_file"], encoding="utf-8") as handle:
            merged = json.load(handle)
        return result, merged, seconds
