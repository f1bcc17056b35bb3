"""Before/after verdicts under a CPU hog, on the lab (issue 16 item 5, the lab proof).

Runs ``o2edge.perf.before_after`` twice on the lab: once quiet, once with the lab's CPU hog
(``fault mgmt cpu-hog``, one busy process per CPU) started just before the run and ended when
pass 1 ends (when the first play of ``optimize`` starts, read from the callback's results.jsonl
as the run goes on; the hog's own limit, three times the quiet pass 1, is only a safety bound).
Both runs are small: two of the lab's packages copied into a kpt root of their own, 6 runs, 6 kpt
runs, 6 interleaved rounds, 6 control runs, 4 MB of file I/O, no declared pipeline. They touch no edge
site and no Prometheus, so that plays faulting the edges can run beside them: the inventory is the
lab's plain one (no edge_sites group), the one probe target is the management host's registry, and
no Prometheus URL is given. ``prove(..., cpu=N)`` pins both runs and the hog to CPU N (the hog then
takes half of the CPU the measurements run on, not every CPU of the machine). Then, on both after reports
(``results.json``: ``report.comparisons`` and ``report.comparisons_summary``):

(a) in both runs, no control, host state or untouched measurement (component git,
    prometheus_query, file_io, control) is called faster or slower;
(b) in the hog run the drift says the machine was not steady, and every comparable sequential
    entry is held as "environment changed" (the only exception allowed: "not enough samples",
    which has no verdict to hold; such entries are named);
(c) every interleaved entry named .../total has the same verdict in both runs, and that verdict is a
    judgement (faster or slower): the levers' effect is seen in both, not "no clear change" twice.
    The size of the paired ratio is not compared across the runs: the two sides of a pair do not
    use the CPU in the same share (the levers cut waiting and CPU unequally), so the ratio's size
    moves with the load of the machine around the run (the plays of the other lane), even though
    both sides of each pair see the same load; across fresh clones it was 0.33 to 0.61 for the same
    levers, and the two runs' intervals failed to overlap three times (0.401 [0.341, 0.428] against
    0.327 [0.314, 0.347]; 0.503 [0.493, 0.526] against 0.588 [0.582, 0.621]; 0.558 [0.502, 0.577]
    against 0.614 [0.587, 0.632]), with the same verdict each time;
(d) no comparable per-package entry compares records of different concurrency.

Prints a table of both runs' verdicts. Run by tests/integration/run.py (check "before_after
hog"), or on its own with the lab up: ``python tests/integration/before_after_hog.py`` (the lab
of O2LAB_DIR, default .lab; ``make build`` first). Results stay in .build/before-after-hog/.
"""
import datetime
import glob
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

WORK = os.path.join(ROOT, ".build", "before-after-hog")
PLAYBOOK = os.path.join(ROOT, ".venv", "bin", "ansible-playbook")
# Two of the lab's packages: one mixed (exec and image functions, so the sandbox lever shows),
# one exec only. A pass renders them in seconds.
PACKAGES = ("edge2-config", "edge4-config")
UNTOUCHED = ("git", "prometheus_query", "file_io", "control")
JUDGED = ("faster", "slower")
HELD = "environment changed"
RUN_TIMEOUT = 900
HOG_BOUND_FACTOR = 3
REGISTRY = ("198.18.0.1", 5000)
# pass 1's plays end in " (before)"; it is over when the first other play (optimize's) starts
BEFORE_PLAY = re.compile(r"\(before\)$")


def _iso(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def kpt_root(lab_dir, work):
    """A kpt root of its own holding copies of PACKAGES from the lab's repository."""
    root = os.path.join(work, "packages")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    for name in PACKAGES:
        shutil.copytree(os.path.join(lab_dir, "repo", "packages", name), os.path.join(root, name), symlinks=True)
    return root


def extra_vars(lab_dir, mode_dir, root, control_dir):
    """before_after's variables for one run: the lab's management host without its pipeline, small sizes,
    every file optimize writes (SSH client config, its copy, unpacked images) inside ``mode_dir``."""
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(lab_dir, "management.yml")) as f:
        mgmt = yaml.safe_load(f)
    ssh_config = os.path.join(mode_dir, "ssh_config")
    with open(ssh_config, "w") as f:
        f.write("# o2edge.perf before_after_hog: the controller's SSH client config before optimize\n")
    os.chmod(ssh_config, 0o600)
    return {
        "o2edge_pipeline_repo": mgmt["o2edge_pipeline_repo"],
        # the management host's registry: never faulted, and every run needs something to probe
        "connectivity_check_extra_targets": [{"site": "mgmt", "service": "registry", "kind": "tcp",
                                              "address": REGISTRY[0], "port": REGISTRY[1]}],
        "o2edge_kpt_runtime": mgmt["o2edge_kpt_runtime"], "o2edge_insecure_registries": mgmt["o2edge_insecure_registries"],
        "o2edge_kpt_root": root, "o2edge_results_dir": os.path.join(mode_dir, "results"),
        "o2edge_kpt_sandbox": "bwrap", "o2edge_kpt_sandbox_unpack_dir": os.path.join(mode_dir, "unpack"),
        "o2edge_kpt_render_cache": False,
        # control_bench's default of 5 runs is below the report's 6 samples: its controls would never count
        "o2edge_runs": 6, "o2edge_kpt_runs": 6, "o2edge_interleaved_runs": 6, "o2edge_control_runs": 6,
        "o2edge_io_size_mb": 4,
        "o2edge_ssh_client_config": ssh_config, "o2edge_ssh_config_before": os.path.join(mode_dir, "ssh_config.before"),
        "ssh_tuning_control_dir": control_dir,
        # the plain inventory's group of the edges: the client config gets its block, no edge is contacted
        "ssh_tuning_groups": ["edges"],
    }


def plays_seen(callback_dir):
    """[(play name, started_at)] from the run's results.jsonl so far."""
    out = []
    for path in glob.glob(os.path.join(callback_dir, "*", "results.jsonl")):
        with open(path) as f:
            for line in f:
                try:
                    event = json.loads(line)
                except ValueError:
                    continue  # a line being written
                if event.get("event") == "play":
                    out.append((str(event.get("play")), str(event.get("started_at"))))
    return out


def pass1_end(plays):
    """(pass 1's first play start, the start of the first play after it) or None while pass 1 runs."""
    before = [start for name, start in plays if BEFORE_PLAY.search(name)]
    if not before:
        return None
    for name, start in plays:
        if not BEFORE_PLAY.search(name):
            return before[0], start
    return None


def close_masters(ctl_prefix, control_dir):
    """End the SSH control masters optimize's tuned config left in ``control_dir``."""
    for sock in glob.glob(os.path.join(control_dir, "*")):
        subprocess.run(ctl_prefix + ["ssh", "-o", "ControlPath=" + sock, "-O", "exit", "o2lab"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


def run_before_after(mode, lab_dir, lab_env, ctl_prefix, short_path, hog=None):
    """One before_after run; returns dict(mode, seconds, pass1_seconds, hog_seconds, reports dir, log).

    ``hog``: (start(seconds), stop()) to load the CPU during pass 1, or None for the quiet run.
    """
    mode_dir = os.path.join(WORK, mode)
    shutil.rmtree(mode_dir, ignore_errors=True)
    os.makedirs(mode_dir)
    callback_dir = os.path.join(mode_dir, "runs")
    control_dir = short_path("hog-cm-" + mode)
    variables = extra_vars(lab_dir, mode_dir, kpt_root(lab_dir, WORK), control_dir)
    vars_file = os.path.join(mode_dir, "vars.json")
    with open(vars_file, "w") as f:
        json.dump(variables, f, indent=1)
    env = dict(os.environ)
    env.update(lab_env)
    env["ANSIBLE_CALLBACKS_ENABLED"] = "o2edge.perf.perf_recap"
    env["O2EDGE_PERF_RESULTS_DIR"] = callback_dir
    cmd = ctl_prefix + [PLAYBOOK, "-i", os.path.join(lab_dir, "inventory.yml"), "o2edge.perf.before_after",
                        "-e", "@" + vars_file]
    log_path = os.path.join(mode_dir, "ansible.log")
    out = {"mode": mode, "log": log_path, "reports": os.path.join(mode_dir, "results", "reports"),
           "hog_seconds": None, "pass1_seconds": None}
    hog_started = hog_stopped = None
    t0 = time.monotonic()
    with open(log_path, "w") as log:
        if hog is not None:
            hog[0]()
            hog_started = time.monotonic()
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        try:
            while proc.poll() is None:
                if time.monotonic() - t0 > RUN_TIMEOUT:
                    proc.kill()
                    proc.wait()
                    raise AssertionError("%s run: before_after took more than %d s (log: %s)" % (mode, RUN_TIMEOUT, log_path))
                if hog is not None and hog_stopped is None and pass1_end(plays_seen(callback_dir)):
                    hog[1]()
                    hog_stopped = time.monotonic()
                time.sleep(0.5)
        finally:
            if hog is not None and hog_stopped is None:
                hog[1]()
                hog_stopped = time.monotonic()
            close_masters(ctl_prefix, control_dir)
    out["seconds"] = time.monotonic() - t0
    if hog is not None:
        out["hog_seconds"] = hog_stopped - hog_started
    if proc.returncode != 0:
        with open(log_path) as f:
            tail = "\n".join(f.read().splitlines()[-30:])
        raise AssertionError("%s run: ansible-playbook exited %d (log: %s)\n%s" % (mode, proc.returncode, log_path, tail))
    ends = pass1_end(plays_seen(callback_dir))
    if ends:
        out["pass1_seconds"] = (_iso(ends[1]) - _iso(ends[0])).total_seconds()
    return out


def load_reports(reports_dir):
    """(after report's results.json, before report's results.json) of one run, as documents."""
    found = {}
    for path in glob.glob(os.path.join(reports_dir, "*", "results.json")):
        with open(path) as f:
            doc = json.load(f)
        title = str((doc.get("report") or {}).get("title"))
        for side in ("before", "after"):
            if title.endswith("(%s)" % side):
                found[side] = doc
    if set(found) != {"before", "after"}:
        raise AssertionError("expected a before and an after report in %s, found %s" % (reports_dir, sorted(found)))
    return found["after"], found["before"]


def contexts(doc, side):
    """{(record name, host): record context} of the plays of one pass, the last record of a key winning."""
    rx = re.compile(r"\(%s\)$" % side)
    out = {}
    for item in doc.get("records") or []:
        if rx.search(str(item.get("play") or "")):
            rec = item.get("record") or {}
            out[(str(rec.get("name")), str(item.get("host")))] = rec.get("context") or {}
    return out


def concurrency(ctx):
    return ctx.get("concurrency") if isinstance(ctx, dict) else None


def check_run(mode, after, before):
    """The problems of one run's after report for (a), (b) (hog run only) and (d)."""
    problems = []
    entries = after["report"]["comparisons"]
    for e in entries:
        if (e.get("role") in ("control", "host_state") or e.get("component") in UNTOUCHED) and e.get("verdict") in JUDGED:
            problems.append("(a) %s: %s on %s (role %s, component %s) is called %s"
                            % (mode, e["name"], e["host"], e.get("role"), e.get("component"), e["verdict"]))
    now, then = contexts(after, "after"), contexts(before, "before")
    for e in entries:
        if not e.get("comparable") or e["name"].endswith("/total") or e["name"].endswith("/total@cold"):
            continue
        if e["design"] == "interleaved":
            a_name, b_name = e["records"]
            sides = (now.get((a_name, e["host"])), now.get((b_name, e["host"])))
        else:
            sides = (then.get((e["name"], e["host"])), now.get((e["name"], e["host"])))
        if None in sides:
            problems.append("(d) %s: the records of %s on %s are not in the reports" % (mode, e["name"], e["host"]))
        elif concurrency(sides[0]) != concurrency(sides[1]):
            problems.append("(d) %s: %s on %s compares concurrency %s with %s (%s)" % (
                mode, e["name"], e["host"], concurrency(sides[0]), concurrency(sides[1]), e["verdict"]))
    return problems


def check_hog(after):
    """(b): the problems of the hog run's drift and holds, and the entries left unheld for want of samples."""
    summary = after["report"]["comparisons_summary"]
    problems, unheld = [], []
    if summary["drift"].get("steady") is not False:
        problems.append("(b) hog: the drift says %r (steady %s), not that the machine changed"
                        % (summary["drift"].get("reason"), summary["drift"].get("steady")))
    for e in after["report"]["comparisons"]:
        if e["design"] != "sequential" or e.get("role") != "sequential" or not e.get("comparable"):
            continue
        if e["verdict"] == "not enough samples":
            unheld.append("%s on %s: %s" % (e["name"], e["host"], e.get("reason")))
        elif e["verdict"] != HELD:
            problems.append("(b) hog: the sequential %s on %s is %s, not held (%s)"
                            % (e["name"], e["host"], e["verdict"], e.get("reason")))
    return problems, unheld


def _fmt_ratio(e):
    if not e or e.get("ratio") is None:
        return "-"
    ci = e.get("ci") or [None, None]
    return "%.3f [%.3f, %.3f]" % (e["ratio"], ci[0], ci[1]) if None not in ci else "%.3f" % e["ratio"]


def check_totals(quiet, hog):
    """(c): the problems of the interleaved totals' verdicts and ratios across the two runs."""
    problems = []
    q = {(e["name"], e["host"]): e for e in quiet["report"]["comparisons"] if e["design"] == "interleaved"}
    h = {(e["name"], e["host"]): e for e in hog["report"]["comparisons"] if e["design"] == "interleaved"}
    totals = sorted(k for k in set(q) | set(h) if k[0].endswith("/total"))
    if not totals:
        problems.append("(c) no interleaved .../total entry in either run")
    for key in totals:
        eq, eh = q.get(key), h.get(key)
        if eq is None or eh is None:
            problems.append("(c) %s on %s is in the %s run only" % (key[0], key[1], "quiet" if eh is None else "hog"))
            continue
        if eq["verdict"] != eh["verdict"]:
            problems.append("(c) %s: %s quiet (%s), %s under the hog (%s)" % (
                key[0], eq["verdict"], _fmt_ratio(eq), eh["verdict"], _fmt_ratio(eh)))
        elif eq["verdict"] not in JUDGED:
            problems.append("(c) %s: %s in both runs (quiet %s, hog %s): the levers' effect is seen in neither" % (
                key[0], eq["verdict"], _fmt_ratio(eq), _fmt_ratio(eh)))
    return problems


def table(quiet, hog):
    """The verdicts of both runs, one line per comparison entry (held entries show what they said)."""
    def verdict(e):
        if e is None:
            return "-"
        return e["verdict"] + (" (was %s)" % e["verdict_unheld"] if e.get("verdict_unheld") else "")

    def key(e):  # file_io records are named by the run's own results folder
        return (e["name"].replace(os.path.join(WORK, "quiet"), "/RUN").replace(os.path.join(WORK, "hog"), "/RUN"), e["host"])

    q = {key(e): e for e in quiet["report"]["comparisons"]}
    h = {key(e): e for e in hog["report"]["comparisons"]}
    rows = [("measurement", "host", "design/role", "quiet", "under the hog")]
    for key in sorted(set(q) | set(h), key=lambda k: ((q.get(k) or h.get(k))["design"], k)):
        e = q.get(key) or h.get(key)
        kind = "%s/%s" % (e["design"], e.get("role"))
        rows.append((key[0], key[1], kind, verdict(q.get(key)) + (" " + _fmt_ratio(q.get(key)) if e["design"] == "interleaved" else ""),
                     verdict(h.get(key)) + (" " + _fmt_ratio(h.get(key)) if e["design"] == "interleaved" else "")))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(r, widths)) + " |" for r in rows]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for name, doc in (("quiet", quiet), ("hog", hog)):
        lines.append("drift (%s): %s" % (name, doc["report"]["comparisons_summary"]["drift"].get("reason")))
    return "\n".join(lines)


def prove(lab_dir, lab_env, ctl_prefix, short_path, cpu_hog, workers=None, cpu=None):
    """Both runs and every check; raises AssertionError naming each problem. ``cpu_hog(action, seconds, workers)``.

    ``cpu``: run both before_after runs and the hog on that CPU alone (one hog worker unless
    ``workers`` says otherwise); the calling thread's affinity is what its children inherit, and it
    is put back afterwards."""
    if cpu is None:
        return _prove(lab_dir, lab_env, ctl_prefix, short_path, cpu_hog, workers or (os.cpu_count() or 1))
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        return _prove(lab_dir, lab_env, ctl_prefix, short_path, cpu_hog, workers or 1)
    finally:
        os.sched_setaffinity(0, before)


def _prove(lab_dir, lab_env, ctl_prefix, short_path, cpu_hog, workers):
    os.makedirs(WORK, exist_ok=True)
    quiet = run_before_after("quiet", lab_dir, lab_env, ctl_prefix, short_path)
    bound = min(3600, max(60, int(HOG_BOUND_FACTOR * (quiet["pass1_seconds"] or 60))))
    hog = run_before_after("hog", lab_dir, lab_env, ctl_prefix, short_path,
                           hog=(lambda: cpu_hog("start", bound, workers), lambda: cpu_hog("restore", None, None)))
    (q_after, q_before), (h_after, h_before) = load_reports(quiet["reports"]), load_reports(hog["reports"])
    problems = check_run("quiet", q_after, q_before) + check_run("hog", h_after, h_before)
    hog_problems, unheld = check_hog(h_after)
    problems += hog_problems + check_totals(q_after, h_after)
    lines = [table(q_after, h_after)]
    for run in (quiet, hog):
        lines.append("%s run: %.0f s, pass 1 %.0f s%s" % (
            run["mode"], run["seconds"] or 0.0, run["pass1_seconds"] or 0,
            "" if run["hog_seconds"] is None else ", hog %d busy processes for %.0f s (bound %d s)"
            % (workers, run["hog_seconds"] or 0.0, bound)))
    lines += ["not held (no verdict to hold): " + u for u in unheld]
    report = "\n".join(lines)
    with open(os.path.join(WORK, "summary.txt"), "w") as f:
        f.write(report + "\n" + "\n".join(problems) + "\n")
    print(report, flush=True)
    if problems:
        raise AssertionError("%d problem%s:\n%s" % (len(problems), "" if len(problems) == 1 else "s", "\n".join(problems)))
    return report


def main():
    from tests.lab import common, faults  # pylint: disable=import-outside-toplevel
    from tests.lab.configs import lab_env  # pylint: disable=import-outside-toplevel
    try:
        prove(common.LAB_DIR, lab_env(), common.ctl_prefix(), common.short_path,
              lambda action, seconds, workers: faults.cpu_hog("mgmt", action, seconds, workers))
    except AssertionError as exc:
        print("FAIL: %s" % exc)
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
