"""Integration tests against the local edge lab.

Brings the lab up, checks the lab's own contract (idempotent `up`, recovery from leftovers),
runs every play in tests/integration/targets/*.yml inside the controller namespace with the
installed collection, and always brings the lab down again, proving that `down` leaves no
process, namespace, route or mount behind. Prints `N passed, N failed` and exits non-zero on
any failure. Checks that share no mutable lab state run side by side in lanes (see EDGE_LANE);
each check's line names its lane when it is not the first, and the CPU its processes used.

A play may name its inventory (a file under .lab/) in a first-lines comment:
    # o2lab-inventory: inventory.yml
(default: edge-sites.yml). Pass play names (file stems) as arguments to run only those, or
`before_after_hog` for the check of that name (before_after quiet and under a CPU hog).
"""
import glob
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, ROOT)
# The suite runs the lab from a folder whose path is at least this long, so that it proves the
# lab works from a long checkout path (a long one once made every kpt function cost 40 s).
LONG_PATH_MIN = 80


def suite_lab_dir():
    default = os.path.join(ROOT, ".lab")
    if len(default) >= LONG_PATH_MIN:
        return default
    stem = os.path.join(ROOT, ".build", "lab-from-a-long-checkout-path-")
    return stem + "x" * max(1, LONG_PATH_MIN - len(stem) - len("/.lab")) + "/.lab"


os.environ.setdefault("O2LAB_DIR", suite_lab_dir())

from tests.lab import lab  # noqa: E402

PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")

# Checks run in phases; a phase is one or more lanes that run side by side, each lane's checks in
# order. Lanes of one phase share no mutable lab state:
# - phase 1, the healthy lab, read only: plays that probe or log in to the edge sites but never
#   fault them nor change their sshd (READ_ONLY_LANES: work on copies of the lab's config and
#   known_hosts, temporary SSH client configs, the lab pipeline's own clone), beside the sliced
#   runs and the worker protocol (read-only probes of the edges and the simulated sites) and
#   controller plays that only read the lab's packages and repository (kpt renders of copies or
#   in benchmark mode, git reads). No play of this phase pulls or removes a function image;
# - phase 2: EDGE_LANE, plays that fault the edge sites (blackhole, Prometheus down, sshd
#   killed), retune their sshd or stop the management Prometheus: one at a time; beside
#   CONTROLLER_LANE, plays on the controller alone (connection local, no edge site, no
#   Prometheus): the lab's function images in podman's store and the OCI layout (pulled and
#   removed again, so in order), kpt renders of copies, then before_after under a CPU hog
#   (HOG_CHECK: no edge site, the management host's registry as its one probe target, the run
#   and its hog pinned to one CPU).
# A play that is in no list runs alone after the lanes, so a new play never overlaps unexamined.
READ_ONLY_LANES = (("foundation_site", "pipeline", "ssh_tuning_controller", "foundation_ssh", "probe_connectivity_role"),
                   ("edge_ip_fix", "fix_edge_connectivity"),
                   ("interleaved", "measure_git_io_host"))
EDGE_LANE = ("benchmark_report", "measure_prometheus", "perf_monitoring", "probe_states", "ssh_tuning_edge",
             "ssh_tuning_rollback")
CONTROLLER_LANE = ("function_image_cache", "function_sandbox", "image_precache", "measure_kpt_render")
_lane = threading.local()
_stop = threading.Event()
# The suite's own copy of the installed collection (see snapshot_collection).
COLLECTIONS = os.path.join(ROOT, ".build", "collections")
SNAPSHOT = os.path.join(ROOT, ".build", "integration-collections")


def snapshot_collection():
    """Copy the installed collection (make build) to a folder of the suite's own.

    The plays run for minutes; another `make build` in the same checkout meanwhile (make lint
    depends on it) replaces .build/collections under them, and a play then fails on a module that
    is missing for a moment. A fresh clone does not need it; a shared one does.
    """
    src = os.path.join(COLLECTIONS, "ansible_collections", "o2edge", "perf")
    if not os.path.isdir(src):
        raise AssertionError("no installed collection at %s: run `make build` first" % src)
    shutil.rmtree(SNAPSHOT, ignore_errors=True)
    shutil.copytree(src, os.path.join(SNAPSHOT, "ansible_collections", "o2edge", "perf"), symlinks=True)


def lane_lab_env():
    """The lab's environment for a check, with pipelining and the lane's own folder of SSH control sockets.

    Pipelining (one SSH exec per task instead of mkdir, put, chmod, run, rm) is what the ansible.cfg
    the ssh_tuning role writes for operators turns on. A play that drops its connections
    (meta: reset_connection) closes the control masters of its folder; a check in another lane
    keeps its own.
    """
    env = lab.lab_env()
    env["ANSIBLE_PIPELINING"] = "True"
    env["ANSIBLE_COLLECTIONS_PATH"] = SNAPSHOT
    lane = getattr(_lane, "index", 0)
    if lane:
        env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = lab.common.short_path("ssh-cp-%d" % lane)
    return env


def check_env():
    env = dict(os.environ)
    env.update(lane_lab_env())
    return env


def inventory_for(play):
    with open(play) as f:
        for line in f.read(2000).splitlines():
            if line.startswith("# o2lab-inventory:"):
                return os.path.join(lab.LAB_DIR, line.split(":", 1)[1].strip())
    return os.path.join(lab.LAB_DIR, "edge-sites.yml")


def check(results, name, fn):
    t0 = time.monotonic()
    lane = getattr(_lane, "index", 0)
    tag = " [lane %d]" % lane if lane else ""
    _lane.cpu = 0.0
    try:
        fn()
        results.append((name, True, ""))
        print("PASS %-45s %6.1fs%s%s" % (name, time.monotonic() - t0, cpu_note(), tag), flush=True)
    except Exception as exc:  # a failing check is reported, the others still run
        results.append((name, False, str(exc)))
        print("FAIL %-45s %6.1fs%s%s  %s" % (name, time.monotonic() - t0, cpu_note(), tag, exc), flush=True)


def cpu_note():
    """`` (CPU 12.3s)`` for a check whose processes were counted (run_counted), else nothing."""
    cpu = getattr(_lane, "cpu", 0.0)
    return " (CPU %.1fs)" % cpu if cpu else ""


def run_lanes(results, lanes):
    """Run lanes of (name, fn) checks side by side, each lane's in order; wait for all of them."""
    lanes = [lane for lane in lanes if lane]
    if not lanes:
        return

    def lane_main(index, checks):
        _lane.index = index
        for name, fn in checks:
            if _stop.is_set():  # interrupted: start nothing more, the lab is going down
                return
            check(results, name, fn)

    t0, cpu0 = time.monotonic(), children_cpu()
    if len(lanes) == 1:
        lane_main(0, lanes[0])
    else:
        threads = [threading.Thread(target=lane_main, args=(i, lane), name="lane-%d" % i, daemon=True)
                   for i, lane in enumerate(lanes)]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        except BaseException:
            _stop.set()
            raise
    took = (len(lanes), time.monotonic() - t0, children_cpu() - cpu0)
    print("---- %d lane(s): %.1fs wall, %.1fs CPU of child processes" % took, flush=True)


def children_cpu():
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def lab_idempotent_up():
    before = lab.recorded()
    lab.up()
    after = lab.recorded()
    if {k: v["pid"] for k, v in before.items()} != {k: v["pid"] for k, v in after.items()}:
        raise AssertionError("a second `up` restarted components of a healthy lab")


def lab_recovers_from_leftovers():
    # What CI sees after a session: processes gone, namespaces and the route still there.
    for name in list(lab.recorded()):
        lab.stop(name)
    if not lab.lab_namespaces() or not lab.guard_route_present():
        raise AssertionError("expected namespaces and route to remain for this check")
    lab.up()
    if not lab.healthy():
        raise AssertionError("`up` did not rebuild a healthy lab from leftovers: %s" % lab.status())


def lab_down_leaves_nothing():
    lab.down()
    left = lab.leftovers()
    if any(left.values()):
        raise AssertionError("leftovers after down: %s" % left)


def lab_dir_is_long():
    if len(lab.LAB_DIR) < LONG_PATH_MIN:
        raise AssertionError("the lab folder %s is shorter than %d characters" % (lab.LAB_DIR, LONG_PATH_MIN))


def doc_sections(text):
    """ansible-doc's text output for several plugins, as {fully qualified name: its lines}."""
    sections, current = {}, None
    for line in text.splitlines():
        if line.startswith("> "):
            match = re.search(r"(o2edge\.perf\.[A-Za-z0-9_]+)", line)
            current = match.group(1) if match else None
            if current:
                sections[current] = []
        if current:
            sections[current].append(line)
    return sections


def docs_render():
    """ansible-doc renders every module, the inventory plugin and every role of the installed collection.

    One ansible-doc per plugin type (its start-up was most of the time of one call per plugin: 40
    calls took 60 s on an idle machine, 300 s on a busy one); each plugin's own section must be there
    and at least 10 lines long, and a type whose call fails or warns is named with its stderr.
    """
    env = check_env()
    env["ANSIBLE_NOCOLOR"] = "1"
    doc = os.path.join(ROOT, ".venv", "bin", "ansible-doc")
    kinds = {"module": [n[:-3] for n in sorted(os.listdir(os.path.join(ROOT, "plugins", "modules"))) if n.endswith(".py")],
             "inventory": [n[:-3] for n in sorted(os.listdir(os.path.join(ROOT, "plugins", "inventory")))
                           if n.endswith(".py")],
             "role": sorted(os.listdir(os.path.join(ROOT, "roles")))}

    def ansible_doc(kind, fqcns):
        return subprocess.run([doc, "-t", kind] + fqcns, env=env, check=False, universal_newlines=True,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    bad = []
    for kind, names in kinds.items():
        fqcns = ["o2edge.perf." + name for name in names]
        res = ansible_doc(kind, fqcns)
        # ansible-doc stops at the first plugin it cannot document: then ask for each on its own,
        # to name every broken one; it only warns ("... was not found", rc 0) for a missing one.
        calls = [(fqcns, res)] if res.returncode == 0 else [([f], ansible_doc(kind, [f])) for f in fqcns]
        for asked, res in calls:
            if res.returncode != 0 or "WARNING" in res.stderr:
                bad.append("%s %s: rc %d %s" % (kind, " ".join(asked) if len(asked) == 1 else "(all)",
                                                res.returncode, res.stderr.strip()[-600:]))
                continue
            sections = doc_sections(res.stdout)
            bad += ["%s %s: %s" % (kind, fqcn, "no documentation" if fqcn not in sections else "only %d lines"
                                   % len(sections[fqcn]))
                    for fqcn in asked if len(sections.get(fqcn, ())) < 10]
    if bad:
        raise AssertionError("ansible-doc failed: " + "; ".join(bad))


def run_play(play):
    env = check_env()
    # Every play runs with the aggregate callback, as the measuring playbooks expect.
    env["ANSIBLE_CALLBACKS_ENABLED"] = "o2edge.perf.perf_recap"
    env["O2EDGE_PERF_RESULTS_DIR"] = os.path.join(lab.LAB_DIR, "results-callback", os.path.basename(play)[:-4])
    cmd = lab.ctl_prefix() + [PLAYBOOK, "-i", inventory_for(play), play, "-e", "lab_dir=" + lab.LAB_DIR]
    out, returncode = run_counted(cmd, env)
    log = os.path.join(lab.LAB_DIR, "logs", "integration-%s.log" % os.path.basename(play)[:-4])
    with open(log, "w") as f:
        f.write(out)
    if returncode != 0:
        tail = "\n".join(out.splitlines()[-40:])
        raise AssertionError("ansible-playbook exited %d (log: %s)\n%s" % (returncode, log, tail))


def run_counted(cmd, env):
    """Run ``cmd`` (output captured); its CPU and that of the descendants it waited for go to the check's line."""
    with tempfile.TemporaryFile() as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        _lane.cpu = getattr(_lane, "cpu", 0.0) + usage.ru_utime + usage.ru_stime
        out.seek(0)
        return out.read().decode("utf-8", "replace"), proc.returncode


def sliced_runs():
    """tests/slices on the lab: AWX-style slices run as concurrent ansible-runner jobs, merged into one report."""
    env = check_env()
    out, returncode = run_counted(lab.ctl_prefix() + [sys.executable, os.path.join(ROOT, "tests", "slices", "run.py"), "--lab"], env)
    if returncode != 0:
        raise AssertionError("tests/slices/run.py --lab exited %d\n%s" % (returncode, "\n".join(out.splitlines()[-30:])))


def benchmark_worker_protocol():
    """o2edge.perf.benchmark through ansible-runner transmit | worker | process, in the lab."""
    sys.path.insert(0, os.path.join(ROOT, "tests", "runner"))
    from lab_worker import benchmark_over_worker_protocol  # pylint: disable=import-outside-toplevel
    benchmark_over_worker_protocol(lab.ctl_prefix(), lab.LAB_DIR, lane_lab_env(), SNAPSHOT)


HOG_CHECK = "before_after_hog"


def before_after_hog():
    """before_after twice on the lab, quiet and with a CPU hog during pass 1 (tests/integration/before_after_hog.py),
    on one CPU, touching no edge site."""
    from tests.integration import before_after_hog as hog  # pylint: disable=import-outside-toplevel
    from tests.lab import faults  # pylint: disable=import-outside-toplevel
    env = lab.lab_env()
    env["ANSIBLE_COLLECTIONS_PATH"] = SNAPSHOT
    # on the last CPU, beside the plays that fault the edges (see the phases above)
    hog.prove(lab.LAB_DIR, env, lab.ctl_prefix(), lab.common.short_path,
              lambda action, seconds, workers: faults.cpu_hog("mgmt", action, seconds, workers),
              cpu=max(os.sched_getaffinity(0)))


def main(argv):
    only = set(argv)
    plays = sorted(glob.glob(os.path.join(ROOT, "tests", "integration", "targets", "*.yml")))
    if only:
        plays = [p for p in plays if os.path.basename(p)[:-4] in only]
    by_stem = {os.path.basename(p)[:-4]: p for p in plays}

    def play_checks(stems):
        return [("play: " + os.path.basename(by_stem[s]), lambda p=by_stem[s]: run_play(p)) for s in stems if s in by_stem]

    listed = set(EDGE_LANE + CONTROLLER_LANE).union(*READ_ONLY_LANES)
    alone = sorted(set(by_stem) - listed)
    results = []
    try:
        check(results, "lab: folder path is %d characters (>= %d)" % (len(lab.LAB_DIR), LONG_PATH_MIN),
              lab_dir_is_long)
        check(results, "collection: the suite's copy of the installed collection", snapshot_collection)
        # ansible-doc reads the installed collection only: beside the lab's start.
        run_lanes(results, [[("lab: up", lab.up)],
                            [("collection: ansible-doc renders every plugin and role", docs_render)]])
        if not only:
            check(results, "lab: second up changes nothing", lab_idempotent_up)
            check(results, "lab: up recovers from leftovers", lab_recovers_from_leftovers)
        side = []
        if not only:
            side = [("slices: 4 sliced runner jobs merged into one report (edges, 40 simulated sites, a lost slice)",
                     sliced_runs),
                    ("runner: o2edge.perf.benchmark through transmit | worker | process on the lab",
                     benchmark_worker_protocol)]
        run_lanes(results, [play_checks(lane) for lane in READ_ONLY_LANES] + [side])
        hog = []
        if not only or HOG_CHECK in only:
            hog = [("before_after: verdicts quiet and under a CPU hog (%s)" % HOG_CHECK, before_after_hog)]
        run_lanes(results, [play_checks(EDGE_LANE), play_checks(CONTROLLER_LANE) + hog])
        run_lanes(results, [play_checks(alone)])
    finally:
        check(results, "lab: down leaves nothing behind", lab_down_leaves_nothing)
    passed = sum(1 for result in results if result[1])
    failed = len(results) - passed
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
