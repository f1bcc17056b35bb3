"""Mutation testing of the core module_utils with mutmut (run outside `make test`: `make mutation`).

For every target file, mutmut changes one thing at a time (an operator, a constant, a
comparison, a returned value ...) and runs that file's unit tests; a mutant that no test
notices "survives". The run works on a copy of the tree under .build/mutation/tree (mutmut 2
edits files in place), with mutmut in its own venv (.build/mutation/venv) and the project's
.venv running the tests. It writes .build/mutation/report.md: per file the mutant counts and,
for every survivor, its diff. docs/mutation.md carries the counts and each survivor's reason.

    python tests/tools/mutation.py [--only _stats.py,_cmd_timer.py] [--work DIR] [--resume] [--stop-at 03:55]

--stop-at (UTC, HH:MM) ends a run at that time on a shared machine: the mutants it did not reach are
counted as "not run", not as survivors, and --resume continues from them.

Per-mutant test selection (the default; tests/tools/mutation_select.py, whose docstring gives the rule
and why it is sound): before mutmut starts, the file's tests run once under a line tracer that records
which test executes which line of the unmutated file (<work>/map-<file>.json). mutmut_config.py, written
into the work tree, then gives each mutant only the tests that execute the statement it changes, with the
whole list when that statement runs at import time, when no test runs it, or when the map is missing or
stale. `-x`, mutmut's timeout (10 times the whole list's baseline) and the exit-code rule are unchanged.
<work>/selection-<file>.jsonl logs each mutant's choice.

    --full     the whole list for every mutant (the behaviour before selection)
    --resume   every survivor of the pass before is judged again, against the whole list by default, so
               the counts after a recount are those of the whole suite
    --resume --select   go on with selection (a new map is recorded against the tests as they are now)
"""
import argparse
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
WORK = os.path.join(ROOT, ".build", "mutation")
TREE = os.path.join(WORK, "tree")
VENV = os.path.join(ROOT, ".build", "mutation", "venv")
MUTMUT_REQ = "mutmut==2.5.1"
WORKER_GONE = 20  # seconds without a mutmut child at work (its worker or the baseline run) before the run is resumed
UT = "tests/unit/plugins/module_utils/"
PU = "tests/unit/plugins/plugin_utils/"
MT = "tests/unit/plugins/modules/"

# plugin file (relative to the root) -> the unit tests that guard it (globs, relative to the root).
# --only takes paths or bare file names (_stats.py).
TARGETS = {
    "plugins/module_utils/_stats.py": [UT + "test_stats*.py"],
    "plugins/module_utils/_record.py": [UT + "test_record*.py"],
    "plugins/module_utils/_params.py": [UT + "test_params*.py"],
    "plugins/module_utils/_services.py": [UT + "test_services*.py"],
    "plugins/module_utils/_secrets.py": [UT + "test_secrets*.py"],
    "plugins/module_utils/measure/_cmd_timer.py": [UT + "test_cmd_timer*.py", MT + "test_command_bench.py", MT + "test_system_baseline.py"],
    "plugins/module_utils/measure/_iobench.py": [UT + "test_iobench*.py", MT + "test_io_bench.py"],
    "plugins/module_utils/kpt/_render_cache.py": [UT + "test_kpt*.py"],
    "plugins/module_utils/probe/_probe.py": [UT + "test_probe*.py", MT + "test_service_probe.py"],
    "plugins/module_utils/probe/_connect.py": [UT + "test_probe*.py", UT + "test_edge_address.py"],
    "plugins/module_utils/probe/_probe_ssh.py": [UT + "test_probe_ssh.py", UT + "test_probe_ssh_mutants.py", UT + "test_probe.py"],
    "plugins/module_utils/probe/_ssh_kex.py": [UT + "test_probe_ssh_kex*.py", UT + "test_probe_ssh.py"],
    "plugins/module_utils/probe/_probe_http.py": [UT + "test_probe_http*.py", UT + "test_probe.py"],
    "plugins/module_utils/edge/_edge_sites.py": [UT + "test_edge_sites*.py", "tests/unit/plugins/inventory/test_*.py"],
    "plugins/module_utils/edge/_edge_address.py": [UT + "test_edge_address*.py", MT + "test_edge_address_module.py"],
    "plugins/module_utils/edge/_yaml_edit.py": [UT + "test_yaml_edit*.py"],
    "plugins/module_utils/measure/_prometheus.py": [UT + "test_prometheus*.py", MT + "test_prometheus_query.py"],
    "plugins/plugin_utils/_results_doc.py": [PU + "test_results_doc*.py", PU + "test_callback_recap.py"],
    "plugins/plugin_utils/_compare.py": [PU + "test_compare*.py"],
    "plugins/plugin_utils/_slo.py": [PU + "test_slo*.py"],
    "plugins/plugin_utils/_slo_schema.py": [PU + "test_slo*.py"],
    "plugins/plugin_utils/_slo_select.py": [PU + "test_slo*.py"],
    "plugins/plugin_utils/_slo_eval.py": [PU + "test_slo*.py"],
    "plugins/plugin_utils/_callback_recap.py": [PU + "test_callback_recap*.py"],
    "plugins/module_utils/kpt/_fn_sandbox.py": [UT + "test_fn_sandbox*.py"],
    "plugins/module_utils/kpt/_renderer.py": [UT + "test_kpt.py", UT + "test_kpt_pair.py", UT + "test_kpt_render_cache.py",
                                              UT + "test_renderer*.py", MT + "test_kpt_render*.py"],
    "plugins/module_utils/kpt/_kpt_sync.py": [UT + "test_kpt_sync*.py", UT + "test_kpt.py"],
    "plugins/module_utils/kpt/_kptfile.py": [UT + "test_kptfile*.py", UT + "test_fn_images.py", MT + "test_kpt_fn_images.py"],
    "plugins/module_utils/kpt/_fn_images.py": [UT + "test_fn_images*.py", MT + "test_kpt_fn_images.py"],
    "plugins/module_utils/edge/_sshd.py": [UT + "test_sshd*.py", MT + "test_sshd_drop_in.py"],
    "plugins/plugin_utils/_ssh_options.py": [PU + "test_ssh_options*.py"],
}


def sh(argv, **kw):
    return subprocess.run(argv, check=False, universal_newlines=True, **kw)


def drop_collection_link(tree):
    """Remove the tree's import link (made again by the first test run).

    tests/unit/conftest.py links .build/unit/ansible_collections/o2edge/perf to the tree it finds itself in, once:
    in a work folder copied or moved from elsewhere, that link still names the old tree, and every test would
    import the old, unmutated code (every mutant surviving). The link is removed, never what it names."""
    shutil.rmtree(os.path.join(tree, ".build", "unit"), ignore_errors=True)


def copy_tree():
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, check=True,
                           stdout=subprocess.PIPE).stdout.decode().split("\0")
    shutil.rmtree(TREE, ignore_errors=True)
    for f in files:
        src = os.path.join(ROOT, f)
        if not f or not os.path.isfile(src):
            continue
        dst = os.path.join(TREE, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(src, dst)


def ensure_venv():
    mutmut = os.path.join(VENV, "bin", "mutmut")
    if not os.path.exists(mutmut):
        sh([sys.executable, "-m", "venv", VENV])
        res = sh([os.path.join(VENV, "bin", "pip"), "install", "-q", MUTMUT_REQ])
        if res.returncode != 0:
            sys.exit("could not install %s" % MUTMUT_REQ)
    return mutmut


def _worker_alive(pid):
    """Whether mutmut (``pid``) has a child at work: its test worker (a multiprocessing spawn child) or the
    baseline test run; multiprocessing's resource tracker alone does not count."""
    try:
        children = []
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                children += f.read().split()
        for child in children:
            with open("/proc/%s/cmdline" % child, "rb") as f:
                if b"resource_tracker" not in f.read():
                    return True
    except OSError:
        return True  # no /proc to look at (or the process just ended): do not intervene
    return False


def _descendants(pid):
    """The processes started under ``pid`` (its worker and the worker's test run), deepest first."""
    found = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                for child in f.read().split():
                    found = _descendants(int(child)) + [int(child)] + found
    except OSError:
        pass
    return found


def stop_deadline(text, now):
    """The ``time.time()`` of ``--stop-at HH:MM`` (UTC) today, or None for a malformed value. A time that has
    passed today stays in the past (the caller stops at once): a chain of runs started before the stop time must
    not run its later files until the same time tomorrow."""
    try:
        hours, minutes = (int(x) for x in text.split(":"))
    except ValueError:
        return None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        return None
    return now - now % 86400 + hours * 3600 + minutes * 60


def set_status(mid, status):
    con = sqlite3.connect(os.path.join(TREE, ".mutmut-cache"))
    try:
        with con:
            con.execute("UPDATE Mutant SET status = ? WHERE id = ?", (status, mid))
    finally:
        con.close()


def run_untested(mutmut, src, runner, timeout=600):
    """Judge the mutants that a finished ``mutmut run`` left "untested": {id: status}.

    mutmut 2 never runs some mutants of a line whose text occurs more than once in the file (six
    `continue` -> `break` of _edge_address.py, 17 of _services.py in one round), and a finished run would count them
    as survivors. Each is applied with ``mutmut apply`` and judged by the same test command as mutmut's (any failure
    a kill; over ``timeout`` seconds a timeout); the pristine file is put back after each."""
    con = sqlite3.connect(os.path.join(TREE, ".mutmut-cache"))
    try:
        ids = [r[0] for r in con.execute("SELECT id FROM Mutant WHERE status = 'untested' ORDER BY id")]
    finally:
        con.close()
    pristine = os.path.join(ROOT, src)
    target = os.path.join(TREE, src)
    with open(pristine, "rb") as f:
        original = f.read()
    out = {}
    for mid in ids:
        try:
            sh([mutmut, "apply", str(mid)], cwd=TREE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            with open(target, "rb") as f:
                applied = f.read() != original
            if not applied:
                out[mid] = "skipped"
            else:
                try:
                    done = subprocess.run(runner.split(), cwd=TREE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                          timeout=timeout, check=False)
                    out[mid] = "ok_killed" if done.returncode != 0 else "bad_survived"
                except subprocess.TimeoutExpired:
                    out[mid] = "bad_timeout"
        finally:
            shutil.copy2(pristine, target)
        set_status(mid, out[mid])
    return out


def fatal(returncode):
    """mutmut 2's exit status is a bit field: 1 a fatal error (the baseline test run failing included), 2 survivors,
    4 timeouts, 8 suspicious. A fatal run leaves the cache as it was, which must not be reported as a count."""
    return returncode > 0 and bool(returncode & 1)


def run_mutmut(argv, src, restarts_max=10, deadline=None):
    """Run ``mutmut run``; returns how often it was restarted and whether ``deadline`` (a ``time.time()``)
    stopped it. Stopped, the pristine source is put back in the tree; mutmut's cache keeps what it ran.

    mutmut 2 hangs for good when its worker dies, or when its main process fails to record a status and
    then waits at exit for its queue's feeder. The second is what ``mutmut show`` run in the tree during
    a run does: it re-reads the file (then mutated) into its line table, and the running mutmut fails
    with pony's "Attribute Mutant.line is required". Read survivors from a copy of the cache instead.
    no worker for WORKER_GONE seconds ends mutmut, puts the pristine source back in the tree (the
    worker may have died with a mutant applied) and runs it again, which resumes from its cache."""
    restarts = 0
    while True:
        with open(os.path.join(WORK, "mutmut-stderr.log"), "ab") as err:  # a dying worker's traceback lands here
            proc = subprocess.Popen(argv, cwd=TREE, stdout=subprocess.DEVNULL, stderr=err)
        gone_since = None
        while proc.poll() is None:
            time.sleep(5)
            if deadline is not None and time.time() >= deadline:
                below = _descendants(proc.pid)
                proc.kill()
                proc.wait()
                for pid in below:  # mutmut's own worker and test run, which outlive it otherwise
                    try:
                        os.kill(pid, 9)
                    except OSError:
                        pass
                shutil.copy2(os.path.join(ROOT, src), os.path.join(TREE, src))
                print("%s: stopped at the --stop-at time; --resume continues" % src, flush=True)
                return restarts, True
            if _worker_alive(proc.pid):
                gone_since = None
            elif gone_since is None:
                gone_since = time.monotonic()
            elif time.monotonic() - gone_since > WORKER_GONE:
                break
        if proc.poll() is not None or restarts >= restarts_max:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            elif fatal(proc.returncode):
                where = os.path.join(WORK, "mutmut-stderr.log")
                sys.exit("%s: mutmut ended with a fatal error (exit %d), most often the tests failing on the unmutated "
                         "code; its stderr: %s. No counts are reported." % (src, proc.returncode, where))
            return restarts, False
        proc.kill()
        proc.wait()
        shutil.copy2(os.path.join(ROOT, src), os.path.join(TREE, src))
        restarts += 1
        print("%s: mutmut's worker died; resuming (%d)" % (src, restarts), flush=True)


def results():
    """{status: [mutant ids]} read from mutmut's cache (run in TREE). mutmut 2's statuses:
    ok_killed, ok_suspicious (killed, but the tests ran slowly), bad_survived, bad_timeout,
    untested, skipped. `mutmut results` lists only the ones not killed, so the cache is read."""
    con = sqlite3.connect(os.path.join(TREE, ".mutmut-cache"))
    try:
        rows = con.execute("SELECT id, status FROM Mutant ORDER BY id").fetchall()
    finally:
        con.close()
    found = {}
    for mid, status in rows:
        found.setdefault(status, []).append(mid)
    return found


def record_map(python, src, tests, name):
    """Run ``tests`` once on the unmutated tree under the line tracer of mutation_select; returns the map's
    path, or None (then every mutant takes the whole list) when the run fails."""
    out = os.path.join(WORK, "map-%s.json" % name)
    if os.path.exists(out):
        os.unlink(out)
    t0 = time.monotonic()
    with open(os.path.join(WORK, "map-%s.log" % name), "w") as log:
        res = subprocess.run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--rootdir=.",
                              "-p", "tests.tools.mutation_select", "--o2-map-out=" + out, "--o2-map-target=" + src] + tests,
                             cwd=TREE, stdout=log, stderr=subprocess.STDOUT, check=False)
    took = time.monotonic() - t0
    if res.returncode != 0 or not os.path.exists(out):
        print("%s: the mapping run failed (exit %d, see %s): every mutant takes the whole list"
              % (src, res.returncode, os.path.join(WORK, "map-%s.log" % name)), flush=True)
        return None, took
    return out, took


HOOK = '''"""Written by tests/tools/mutation.py: per-mutant test selection (tests/tools/mutation_select.py)."""
import importlib.util
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_SPEC = importlib.util.spec_from_file_location("o2edge_mutation_select", os.path.join(_HERE, "tests", "tools", "mutation_select.py"))
_MODULE = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_MODULE)
_SELECTOR = _MODULE.Selector(os.path.join(_HERE, ".mutation-select.json"))


def pre_mutation(context):
    command = _SELECTOR.command(context)
    if command is not None:
        context.config.test_command = command
'''


def write_hook(conf):
    """mutmut imports mutmut_config.py from its working folder (the tree); None removes it (the whole list)."""
    hook = os.path.join(TREE, "mutmut_config.py")
    for path in (hook, os.path.join(TREE, ".mutation-select.json")):
        if os.path.exists(path):
            os.unlink(path)
    if conf is not None:
        with open(os.path.join(TREE, ".mutation-select.json"), "w") as f:
            json.dump(conf, f)
        with open(hook, "w") as f:
            f.write(HOOK)


def selection_summary(log_path):
    """(mutants with selected tests, mean tests selected, {reason: count} of those on the whole list)."""
    picked, counts, whole = 0, 0, {}
    try:
        with open(log_path) as f:
            for line in f:
                entry = json.loads(line)
                if entry["tests"] is None:
                    whole[entry["reason"]] = whole.get(entry["reason"], 0) + 1
                else:
                    picked += 1
                    counts += entry["tests"]
    except OSError:
        pass
    return picked, (counts / picked if picked else 0.0), whole


def reset_survivors():
    """Mark the survivors in mutmut's cache as not run (every --resume: a recount judges each one again)."""
    con = sqlite3.connect(os.path.join(TREE, ".mutmut-cache"))
    try:
        with con:
            n = con.execute("UPDATE Mutant SET status = 'untested' WHERE status = 'bad_survived'").rowcount
    finally:
        con.close()
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only", help="comma-separated target files (default: all)")
    ap.add_argument("--work", help="work folder (default .build/mutation); separate runs need separate folders")
    ap.add_argument("--resume", action="store_true",
                    help="keep the work folder's tree and mutmut cache (one target): the tests are copied in again, "
                         "killed mutants stay killed, every other one is run again against the tests as they are now")
    ap.add_argument("--stop-at", metavar="HH:MM",
                    help="UTC time today at which to stop (a time already past: nothing is run); mutants not reached are counted as not run")
    ap.add_argument("--full", action="store_true",
                    help="run the whole test list for every mutant (no per-mutant selection)")
    ap.add_argument("--select", action="store_true",
                    help="with --resume: go on with per-mutant selection (default there: the whole list)")
    args = ap.parse_args()
    if args.full and args.select:
        sys.exit("--full and --select exclude each other")
    deadline = None
    if args.stop_at:
        deadline = stop_deadline(args.stop_at, time.time())
        if deadline is None:
            sys.exit("--stop-at %s: give HH:MM (UTC)" % args.stop_at)
        if deadline <= time.time():
            sys.exit("--stop-at %s: that time has passed today (UTC); nothing run" % args.stop_at)
    global WORK, TREE
    if args.work:
        WORK = os.path.abspath(args.work)
        TREE = os.path.join(WORK, "tree")
    targets = dict(TARGETS)
    if args.only:
        wanted = set(args.only.split(","))
        targets = {k: v for k, v in TARGETS.items() if k in wanted or os.path.basename(k) in wanted}
    python = os.path.join(ROOT, ".venv", "bin", "python")
    os.environ["O2EDGE_MUTATION"] = "1"
    mutmut = ensure_venv()
    resume = args.resume and os.path.exists(os.path.join(TREE, ".mutmut-cache"))
    if resume:
        if len(targets) != 1:
            sys.exit("--resume takes one target (--only)")
        # The whole tree as it is now, not only the tests and the target: a fix elsewhere since the first pass
        # (a module the target imports) would otherwise leave the tests failing on the unmutated code, and mutmut
        # would end at its baseline run with the old counts. The cache keeps the verdicts (mutmut re-tests the
        # mutants of changed lines and the survivors when the tests changed).
        kept = os.path.join(WORK, ".mutmut-cache.resume")
        shutil.copy2(os.path.join(TREE, ".mutmut-cache"), kept)
        copy_tree()
        os.replace(kept, os.path.join(TREE, ".mutmut-cache"))
    else:
        copy_tree()
    drop_collection_link(TREE)
    report = ["# Mutation testing report (generated by tests/tools/mutation.py)", ""]
    summary = []
    for fname, test_globs in targets.items():
        src = fname
        if not os.path.exists(os.path.join(TREE, src)):
            summary.append((fname, "missing", 0, 0, 0, 0, 0))
            continue
        tests = sorted({t for g in test_globs for t in glob.glob(os.path.join(TREE, g))})
        tests = [os.path.relpath(t, TREE) for t in tests]
        if os.path.exists(os.path.join(TREE, ".mutmut-cache")) and not resume:
            os.unlink(os.path.join(TREE, ".mutmut-cache"))
        # mutmut 2 counts only exit code 1 as a kill; a mutant that breaks an import makes pytest
        # exit 2 (collection error): with O2EDGE_MUTATION set, tests/unit/conftest.py turns that
        # into 1. (No shell wrapper: mutmut's timeout kills the process it started, so that must
        # be pytest itself.)
        runner = "%s -m pytest -x -q -p no:cacheprovider -p no:randomly %s" % (python, " ".join(tests))
        name = os.path.basename(src)
        marker = os.path.join(WORK, "selected-pass-%s" % name)  # this cache holds verdicts of a selected pass
        select = not args.full and (not resume or args.select)
        map_path, map_took, reset = None, 0.0, 0
        sel_log = os.path.join(WORK, "selection-%s.jsonl" % name)
        if os.path.exists(sel_log):  # the log of the pass before (kept for its figures)
            os.replace(sel_log, sel_log[:-len(".jsonl")] + ".previous.jsonl")
        if select:
            map_path, map_took = record_map(python, src, tests, name)
            if map_path is None:
                write_hook(None)
            else:
                write_hook({"map": map_path, "target": src, "select_file": os.path.join(TREE, ".mutmut-select.txt"), "log": sel_log,
                            "prefix": "%s -m pytest -x -q -p no:cacheprovider -p no:randomly --rootdir=." % python})
                with open(marker, "w") as f:
                    f.write("the survivors in this cache were judged on selected tests\n")
        else:
            write_hook(None)
            if os.path.exists(marker):
                os.unlink(marker)
        if resume:
            # Every survivor is judged again against the tests as they are now: mutmut's own rule (re-test when
            # the tests' hash changed) skipped survivors whose line's text occurs elsewhere in the file (six
            # `continue` -> `break` mutants of one recount kept their first pass's verdict).
            reset = reset_survivors()
        t0 = time.monotonic()
        restarts, stopped = run_mutmut([mutmut, "run", "--paths-to-mutate", src, "--tests-dir", "tests/unit",
                                        "--runner", runner, "--simple-output", "--no-progress"], src, deadline=deadline)
        lone = {}
        if not stopped:  # mutants a finished mutmut never ran (see run_untested)
            lone = run_untested(mutmut, src, runner)
        took = time.monotonic() - t0
        found = results()
        # Not reached by a run that was stopped: "not run", not survivors (a finished run leaves none).
        not_run = len(found.get("untested", [])) if stopped else 0
        survivors = found.get("bad_survived", []) + ([] if stopped else found.get("untested", []))
        killed = len(found.get("ok_killed", [])) + len(found.get("ok_suspicious", []))
        timeouts = len(found.get("bad_timeout", []))
        total = sum(len(v) for v in found.values())
        summary.append((fname, "%.0fs" % took, total, killed, timeouts, len(survivors), not_run))
        report += ["## %s (%d mutants, %d killed, %d timed out, %d survived, %d not run; %.0f s)" % (
            fname, total, killed, timeouts, len(survivors), not_run, took), "",
            "tests: " + " ".join(tests), ""]
        if reset:
            report += ["--resume: %d survivor(s) of the pass before judged again." % reset, ""]
        if lone:
            counts = {}
            for status in lone.values():
                counts[status] = counts.get(status, 0) + 1
            report += ["%d mutant(s) that mutmut left untested judged here (`mutmut apply` and the same test command): %s." % (
                len(lone), ", ".join("%s %d" % kv for kv in sorted(counts.items()))), ""]
        if select:
            picked, mean, whole = selection_summary(sel_log)
            report += ["Per-mutant selection (map: %s, recorded in %.0f s): %d mutant(s) ran %.1f selected tests on average, "
                       "%d the whole list (%s)." % (
                           os.path.relpath(map_path, ROOT) if map_path else "none, the mapping run failed", map_took, picked,
                           mean, sum(whole.values()), ", ".join("%s: %d" % kv for kv in sorted(whole.items())) or "none"), ""]
        else:
            report += ["Whole test list for every mutant.", ""]
        if stopped:
            report += ["Stopped at the --stop-at time: %d mutants not run (--resume runs them)." % not_run, ""]
        if restarts:
            report += ["mutmut's worker died %d time(s); the run was resumed from its cache each time." % restarts, ""]
        for mid in survivors:
            diff = sh([mutmut, "show", str(mid)], cwd=TREE, stdout=subprocess.PIPE,
                      stderr=subprocess.STDOUT).stdout.strip()
            report += ["### mutant %d" % mid, "", "```diff", diff, "```", ""]
        print("%-18s %4d mutants %4d killed %3d survived %3d not run (%.0f s)" % (
            fname, total, killed, len(survivors), not_run, took), flush=True)
        with open(os.path.join(WORK, "report-partial.md"), "w") as f:
            f.write("\n".join(report) + "\n")
    report[2:2] = ["| file | time | mutants | killed | timed out | survived | not run |",
                   "|---|---|---|---|---|---|---|"] + ["| %s | %s | %d | %d | %d | %d | %d |" % row for row in summary] + [""]
    with open(os.path.join(WORK, "report.md"), "w") as f:
        f.write("\n".join(report) + "\n")
    print("report: %s" % os.path.join(WORK, "report.md"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
