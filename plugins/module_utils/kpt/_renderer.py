# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kpt fn render, measured: the parallel renderer, its scheduling and its records.

* Every render works on a fresh scratch copy of the package, made before the clock starts.
  ``exec:`` paths resolve against kpt's *current directory* (see _kptfile), so renders run with
  ``cwd`` = ``chdir`` (default: the original package directory) and the absolute path of the
  copy, exactly as the operator's own ``cd PKG && kpt fn render`` would.
* ``--image-pull-policy`` accepts always, ifNotPresent, never (kpt's default is always).
* All packages of one iteration go to one thread pool of min(max_workers, packages) workers,
  longest first (a static cost estimate, then each package's previous measured duration).
* The optional render cache (_render_cache) is looked up inside the timed job, so a hit is
  timed as what it costs.
* With ``function_sandbox="bwrap"`` the unpacked ``image:`` functions of each scratch copy run as
  ``exec:`` wrappers under bubblewrap (_fn_sandbox); the Kptfiles are rewritten inside the timed job
  and put back after the render, kpt gets ``--allow-exec`` for those packages, and the path each
  function took is kept for the records (``function_paths``).

Comparison with the package and write-back live in _kpt_sync.

Size: over 450 lines: the renderer, its scheduling (workers, ABBA pairs) and its records are one
measured run; Kptfiles, the cache, the sync and the sandbox are in their own files.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._fn_images import RefError, resolve_image
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._fn_sandbox import (
    DEFAULT_UNPACK_DIR, WRAPPER_DIR, Sandbox, SandboxError)
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kpt_sync import (
    changed_paths, semantic_changes, snapshot)
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import (
    KptError, kptfiles, package_functions, parse_kpt_version, short_name_prefix)
from ansible_collections.o2edge.perf.plugins.module_utils._record import (
    base_context, make_record, slug, tail, utc_now)
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._render_cache import (
    RenderCache, cache_key, copy_tree, render_input)
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import PAIR_ORDER, child_env, pair_schedule, run_once

# static cost model for longest-first scheduling, in units of one exec function; measured on the
# lab (kpt 1.0.0-beta.56, podman/runc): a python exec function ~0.15 s, an image function ~0.3 s
# (container start), kpt's own work per Kptfile ~0.03 s
EXEC_FN_COST = 1.0
IMAGE_FN_COST = 2.0
KPTFILE_COST = 0.25


# --------------------------------------------------------------------------- scheduling

def static_cost(pkg):
    """Estimated relative cost of rendering ``pkg`` before anything was measured.

    Every Kptfile of the tree (subpackages included, kpt renders them in the same process)
    costs KPTFILE_COST, each exec function EXEC_FN_COST and each image function IMAGE_FN_COST
    (a container start). An unreadable package costs one Kptfile (its render fails fast).
    """
    try:
        files = kptfiles(pkg)
        functions = package_functions(pkg)
    except (KptError, OSError):
        return KPTFILE_COST
    cost = KPTFILE_COST * max(1, len(files))
    for _rel, fn in functions:
        cost += IMAGE_FN_COST if fn["fn"].get("image") else EXEC_FN_COST
    return cost


def estimate_costs(static, measured):
    """Per-package cost: the last measured seconds where known, else the static estimate.

    Static estimates are scaled into seconds with the ratio measured/static of the packages
    that have both, so that the two kinds compare; with nothing measured they are used as is.
    """
    known = [i for i, m in enumerate(measured) if m is not None]
    if not known:
        return list(static)
    static_sum = sum(static[i] for i in known)
    scale = sum(measured[i] for i in known) / static_sum if static_sum > 0 else 1.0
    return [measured[i] if measured[i] is not None else static[i] * scale for i in range(len(static))]


def lpt_order(costs):
    """Indices in longest-processing-time-first order (ties keep the given order).

    Handing jobs to a pool's free workers in this order is Graham's LPT list schedule: the
    slowest packages start first instead of landing at the end on one busy worker.
    """
    return sorted(range(len(costs)), key=lambda i: (-costs[i], i))


# --------------------------------------------------------------------------- render engine

def default_workers():
    """Twice as many renders as CPUs: renders with image functions spend much of their time
    waiting for a container to start, with the CPU idle. Decided from alternated runs with
    per-round paired ratios on the 2-CPU lab (docs/benchmarks.md): 4 workers were faster than 3
    (median ratio 3/4 = 1.067 and 1.016, both intervals above 1) and not clearly slower than 5
    or 6 (intervals containing 1 or favouring 4/5)."""
    return 2 * (os.cpu_count() or 1)


class Package(object):
    def __init__(self, path, label):
        self.path = path
        self.label = label


def package_labels(paths, root=None):
    """Stable, unique labels: relative to root, else basename (full path on a clash)."""
    labels = []
    for path in paths:
        if root:
            rel = os.path.relpath(path, root)
            labels.append(os.path.basename(os.path.abspath(root)) if rel == "." else rel)
        else:
            labels.append(os.path.basename(os.path.normpath(path)))
    seen = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return [Package(p, slug(p) if seen[lab] > 1 else lab) for p, lab in zip(paths, labels)]


def _copy_error(exc):
    """The first file-level reason of a copy failure (shutil.Error carries a list of them), without content."""
    if isinstance(exc, shutil.Error) and exc.args and isinstance(exc.args[0], list) and exc.args[0]:
        first = exc.args[0][0]
        return "%s: %s" % (first[0], first[2]) if len(first) == 3 else str(first)
    return str(exc)


class Renderer(object):
    """Render packages: cold run, warm-ups and counted runs, in parallel, with an optional cache."""

    def __init__(self, kpt, packages, runs=3, warmup=0, cold=True, max_workers=None, allow_exec=False,
                 image_pull_policy=None, env=None, chdir=None, timeout=600.0, cache_dir=None,
                 verify=False, write_cache=True, scratch_dir=None, kpt_ver=None, resolver=None,
                 name="kpt_render", function_sandbox="none", bwrap=None, sandbox_unpack_dir=DEFAULT_UNPACK_DIR):
        self.kpt = kpt
        self.packages = packages
        self.runs = runs
        self.warmup = warmup
        self.cold = cold
        self.max_workers = max_workers or default_workers()
        self.allow_exec = allow_exec
        self.image_pull_policy = image_pull_policy
        self.env = env if env is not None else child_env()
        self.chdir = chdir
        self.timeout = timeout
        self.cache = RenderCache(cache_dir) if cache_dir else None
        self.verify = verify
        self.write_cache = write_cache
        self.scratch_dir = scratch_dir
        self.kpt_ver = kpt_ver
        self.resolver = resolver
        self.name = name
        self.function_sandbox = function_sandbox or "none"
        if self.function_sandbox not in ("none", "bwrap"):
            raise KptError("function_sandbox must be none or bwrap, not %r" % function_sandbox)
        if self.function_sandbox == "bwrap" and not bwrap:
            raise KptError("function_sandbox=bwrap needs the bwrap executable (Debian package bubblewrap)")
        self.bwrap = bwrap
        self.sandbox_unpack_dir = sandbox_unpack_dir or DEFAULT_UNPACK_DIR
        self.sandbox = None
        self.flags = {"allow_exec": bool(allow_exec), "image_pull_policy": image_pull_policy,
                      "function_sandbox": self.function_sandbox}

    def resolve_ref(self, ref):
        """The reference kpt pulls for ``ref`` (kpt's short-name prefix applied); None when unknown."""
        prefix = short_name_prefix(parse_kpt_version(self.kpt_ver))
        try:
            return resolve_image(ref, prefix)["resolved"]
        except RefError as exc:
            raise ValueError(str(exc))

    def start_sandbox(self, base):
        """Make the sandbox whose wrappers live in the scratch directory ``base`` (bwrap only)."""
        if self.function_sandbox == "bwrap":
            self.sandbox = Sandbox(self.bwrap, self.sandbox_unpack_dir, self.resolve_ref,
                                   os.path.join(base, WRAPPER_DIR), setpriv=shutil.which("setpriv"))
            if self.resolver is not None:
                self.resolver = SandboxIdentity(self.sandbox, self.resolver)
        return self.sandbox

    def argv(self, path, sandboxed=False):
        argv = [self.kpt, "fn", "render", path]
        if self.allow_exec or sandboxed:
            argv.append("--allow-exec")
        if self.image_pull_policy:
            argv.extend(["--image-pull-policy", self.image_pull_policy])
        return argv

    def sandbox_context(self, slot):
        """The record context about the sandbox for one package's slot (empty when it is off)."""
        if self.function_sandbox == "none":
            return {"function_sandbox": "none"}
        ctx = {"function_sandbox": self.function_sandbox, "sandbox_unpack_dir": self.sandbox_unpack_dir,
               "function_paths": slot.get("function_paths") or [],
               "allow_exec_added": _sandboxed(slot) and not self.allow_exec}
        if slot.get("sandbox_error"):
            ctx["sandbox_error"] = slot["sandbox_error"]
        return ctx

    def cwd_for(self, pkg):
        return self.chdir or pkg.path

    def _render(self, pkg, work, plan=None):
        sandboxed = bool(plan and plan.rewrites)
        res = run_once(self.argv(work, sandboxed), cwd=self.cwd_for(pkg), env=self.env, timeout=self.timeout)
        if res["ok"] and sandboxed:
            try:
                self.sandbox.restore(work, plan)
            except (SandboxError, KptError, OSError) as exc:
                res.update(ok=False, error="kpt fn render %s: %s" % (pkg.path, exc))
            return res
        if not res["ok"]:
            # kpt names the scratch copy and the wrappers; name the operator's package and images instead
            stderr = (res.get("stderr") or "").replace(work, pkg.path)
            for wrapper, resolved in (plan.wrappers.items() if plan else ()):
                stderr = stderr.replace(wrapper, "%s (bwrap sandbox)" % resolved)
            res["stderr"] = stderr
            reason = res["error"].replace(" (expected 0)", "")
            res["error"] = "kpt fn render %s failed (%s): %s" % (
                pkg.path, reason, tail(stderr, 1000) or "no message")
        return res

    def _job(self, pkg, work):
        """Render one package copy at ``work``; timed as a whole (cache lookup included)."""
        info = {"cache": "off", "key": None, "verify": None}
        start = time.monotonic()
        key = None
        rinput = None
        if self.cache is not None:
            try:
                rinput = render_input(work)
                key = cache_key(rinput, self.cwd_for(pkg), self.resolver, self.kpt_ver, self.flags)
            except (KptError, OSError) as exc:
                info["cache"] = "error"
                info["cache_error"] = str(exc)
            else:
                info["cache"] = "miss" if key is None or not self.cache.has(key) else "hit"
                info["key"] = key
        if info["cache"] == "hit" and not self.verify:
            try:
                self.cache.restore(key, work)
            except OSError as exc:
                info["cache"] = "error"
                info["cache_error"] = "restore failed: %s" % exc
            else:
                res = {"ok": True, "seconds": time.monotonic() - start, "rc": 0, "error": "", "stderr": ""}
                res.update(info)
                return res
        plan = None
        if self.sandbox is not None:
            try:
                plan = self.sandbox.prepare(work, pkg.label)
            except (KptError, OSError) as exc:
                # kpt reports an unreadable Kptfile itself; the functions stay as written
                info["sandbox_error"] = str(exc)
            else:
                info["function_paths"] = plan.paths
        res = self._render(pkg, work, plan)
        if res["ok"] and info["cache"] == "hit" and self.verify:
            try:
                cached = snapshot(self.cache.tree(key))
                fresh = snapshot(work)
            except (KptError, OSError) as exc:
                cached = fresh = None
                info["verify"] = "error"
                info["verify_error"] = str(exc)
            differing = changed_paths(cached, fresh) if cached is not None else []
            if cached is None:
                pass
            elif not differing:
                info["verify"] = "match"
            else:
                real = semantic_changes(cached, fresh, differing)
                info["verify"] = "mismatch" if real else "reordered"
                info["verify_mismatch"] = real or differing
        elif res["ok"] and info["cache"] == "miss" and self.write_cache:
            if key is None:
                # an image was not present before the render; it is now (only found ones are memoized)
                key = cache_key(rinput, self.cwd_for(pkg), self.resolver, self.kpt_ver, self.flags)
            if key is not None:
                try:
                    self.cache.store(key, work, {"package": pkg.path, "kpt": self.kpt_ver})
                    info["key"] = key
                except OSError as exc:
                    info["cache_error"] = "store failed: %s" % exc
        if info["verify"] == "mismatch" and self.write_cache:
            # the fresh render wins: replace the stale entry
            try:
                self.cache.store(key, work, {"package": pkg.path, "kpt": self.kpt_ver})
            except OSError as exc:
                info["cache_error"] = "store failed: %s" % exc
        res["seconds"] = time.monotonic() - start
        res.update(info)
        return res

    def _iteration(self, base, index, pool, order):
        """One render of every package concurrently, handed to ``pool`` in ``order``.

        The scratch copies are made before the clock starts. Returns (wall seconds, results in
        package order, workdirs, iteration directory).
        """
        iter_dir = os.path.join(base, "iter-%d" % index)
        works = []
        copy_errors = {}
        for i, pkg in enumerate(self.packages):
            work = os.path.join(iter_dir, str(i), os.path.basename(os.path.normpath(pkg.path)))
            try:
                copy_tree(pkg.path, work)
            except (OSError, KptError, shutil.Error) as exc:
                # a FIFO, a device or an unreadable file in the package: that package fails, the others render
                copy_errors[i] = "cannot copy the package for rendering: %s" % _copy_error(exc)
            works.append(work)
        start = time.monotonic()
        futures = dict((i, pool.submit(self._job, self.packages[i], works[i])) for i in order if i not in copy_errors)
        results = []
        for i in range(len(self.packages)):
            if i in copy_errors:
                results.append({"ok": False, "seconds": None, "rc": None, "error": copy_errors[i], "stderr": ""})
                continue
            try:
                results.append(futures[i].result())
            except Exception as exc:  # keep other packages going; report this one
                results.append({"ok": False, "seconds": None, "rc": None,
                                "error": "internal error: %s" % exc, "stderr": ""})
        wall = time.monotonic() - start
        return wall, results, works, iter_dir

    def begin(self):
        """Make the scratch directory, the sandbox and the worker pool; then :meth:`iterate`, :meth:`end`."""
        self._base = tempfile.mkdtemp(prefix="o2edge-kpt-render-", dir=self.scratch_dir)
        try:
            self.start_sandbox(self._base)
            self._per_pkg = [{"cold": [], "run": [], "rounds": [], "errors": [], "failures": 0, "cold_failures": 0,
                              "last": None} for _pkg in self.packages]
            self._total = {"cold": [], "run": [], "rounds": [], "errors": [], "failures": 0, "cold_failures": 0}
            self._last_dir = None
            self._outputs = [None] * len(self.packages)
            # longest first: static estimates, then each package's last measured duration
            self._static = [static_cost(pkg.path) for pkg in self.packages]
            self._measured = [None] * len(self.packages)
            self._orders = []
            self._iterations = 0
            self._timeline = []
            # one pool for every iteration: its threads start once, not once per run
            self._workers = max(1, min(self.max_workers, len(self.packages)))
            self._pool = ThreadPoolExecutor(max_workers=self._workers)
            self._started_at = utc_now()
        except BaseException:
            shutil.rmtree(self._base, ignore_errors=True)
            raise

    def iterate(self, phase, index, round_index=None):
        """One render of every package (``phase`` cold, warmup or run; ``index`` within the phase).

        ``round_index`` (interleaved pairs) is the round a counted sample belongs to, kept in
        ``rounds`` next to the samples and in the error entries; by default the run index.
        """
        per_pkg, total, outputs = self._per_pkg, self._total, self._outputs
        order = lpt_order(estimate_costs(self._static, self._measured))
        self._orders.append(order)
        begun = time.monotonic()
        wall, results, works, iter_dir = self._iteration(self._base, self._iterations, self._pool, order)
        self._timeline.append({"phase": phase, "run": index, "start": begun, "end": time.monotonic()})
        self._iterations += 1
        for i, res in enumerate(results):
            if res["ok"] and res.get("seconds") is not None:
                self._measured[i] = res["seconds"]
        rnd = index if round_index is None else round_index
        failed_labels = []
        for i, res in enumerate(results):
            slot = per_pkg[i]
            slot["last"] = res
            slot.setdefault("cache_states", {}).setdefault(phase, []).append(res.get("cache", "off"))
            if res.get("cache_error"):
                slot["cache_error"] = res["cache_error"]
            if res.get("function_paths") is not None:
                slot["function_paths"] = res["function_paths"]
            if res.get("sandbox_error"):
                slot["sandbox_error"] = res["sandbox_error"]
            if res.get("verify"):
                slot.setdefault("verify", []).append(res["verify"])
                for rel in res.get("verify_mismatch") or []:
                    slot.setdefault("verify_mismatch", set()).add(rel)
            if res["ok"]:
                outputs[i] = works[i]
                if phase in ("cold", "run"):
                    slot[phase].append(res["seconds"])
                if phase == "run":
                    slot["rounds"].append(rnd)
                continue
            failed_labels.append(self.packages[i].label)
            seconds = res.get("seconds")
            entry = {"phase": phase, "run": index, "path": self.packages[i].path, "rc": res.get("rc"),
                     "seconds": None if seconds is None else round(seconds, 6), "error": res.get("error"),
                     "stderr": res.get("stderr", "")}
            _count_failure(slot, entry, round_index)
        if failed_labels:
            _count_failure(total, {"phase": phase, "run": index, "seconds": round(wall, 6),
                                   "error": "failed packages: %s" % ", ".join(failed_labels)}, round_index)
        elif phase in ("cold", "run"):
            total[phase].append(wall)
            if phase == "run":
                total["rounds"].append(rnd)
        if self._last_dir is not None:
            # keep the newest successful output of each package, drop the rest
            keep = set(o for o in outputs if o)
            if not any(k.startswith(self._last_dir + os.sep) for k in keep):
                shutil.rmtree(self._last_dir, ignore_errors=True)
        self._last_dir = iter_dir

    def end(self, failed=False):
        """Stop the pool; the result (see :meth:`run`), or None after removing the scratch when ``failed``."""
        self._pool.shutdown(wait=True)
        if failed:
            shutil.rmtree(self._base, ignore_errors=True)
            return None
        return {"base": self._base, "per_pkg": self._per_pkg, "total": self._total, "outputs": self._outputs,
                "started_at": self._started_at, "orders": self._orders, "workers": self._workers,
                "timeline": self._timeline}

    def run(self):
        """Do every iteration.

        Returns a dict: base (the scratch directory, the caller removes it), per_pkg (samples,
        rounds, errors and cache states per package), total (wall time of each iteration), outputs
        (the newest successful rendered copy of each package, or None), started_at, orders (package
        indices in the order each iteration handed them out) and workers (the pool size used).
        """
        plan = (["cold"] if self.cold else []) + ["warmup"] * self.warmup + ["run"] * self.runs
        self.begin()
        try:
            run_index = {"cold": 0, "warmup": 0, "run": 0}
            for phase in plan:
                self.iterate(phase, run_index[phase])
                run_index[phase] += 1
        except BaseException:
            self.end(failed=True)
            raise
        return self.end()

    def records(self, result, versions, extra_context=None, pair=None):
        """Per-package warm and cold records plus the two totals.

        Every package record's context holds ``concurrency``: the renders running at once (the pool
        size used), so that per-package figures measured at different concurrency are not compared
        as if they were one quantity. With ``pair`` (``label``, ``side``, ``session``; see
        :func:`run_pair`) every name gets the suffix `` (<label>)`` and the context a ``pair`` entry
        whose ``id`` is the name without the suffix and whose ``rounds`` align with the samples.
        """
        extra_context = dict(extra_context or {})
        records = []

        def add(base_name, samples, rounds, context, **kw):
            name = base_name
            if pair:
                name = "%s (%s)" % (base_name, pair["label"])
                context = dict(context, pair={
                    "id": base_name, "session": pair["session"], "side": pair["side"], "label": pair["label"],
                    "design": "interleaved", "order": PAIR_ORDER, "rounds": list(rounds)})
            rec = make_record(name, "kpt_render", "s", samples, context=context, **kw)
            records.append(rec)
            return rec

        for pkg, slot in zip(self.packages, result["per_pkg"]):
            states = slot.get("cache_states") or {}
            ctx = base_context(started_at=result["started_at"], versions=versions,
                               command=" ".join(self.argv(pkg.path, _sandboxed(slot))), cwd=self.cwd_for(pkg),
                               package=pkg.path, concurrency=result["workers"], **extra_context)
            ctx.update(self.sandbox_context(slot))
            if self.runs:
                add("%s/%s" % (self.name, pkg.label), slot["run"], slot.get("rounds") or [],
                    dict(ctx, phase="warm", cache=_cache_state(states.get("run"))), warmup=self.warmup,
                    failures=slot["failures"], errors=[e for e in slot["errors"] if e["phase"] != "cold"])
            if self.cold:
                add("%s/%s@cold" % (self.name, pkg.label), slot["cold"], [0] * len(slot["cold"]),
                    dict(ctx, phase="cold", cache=_cache_state(states.get("cold"))), warmup=0,
                    failures=slot["cold_failures"], errors=[e for e in slot["errors"] if e["phase"] == "cold"])
        tctx = base_context(started_at=result["started_at"], versions=versions,
                            command="kpt fn render (%d packages, %d workers)" % (
                                len(self.packages), result["workers"]),
                            packages=[p.path for p in self.packages], workers=result["workers"],
                            max_workers=self.max_workers,
                            schedule="longest-first",
                            order=[self.packages[i].label for i in (result.get("orders") or [[]])[-1]],
                            **extra_context)
        tctx["function_sandbox"] = self.function_sandbox
        if self.function_sandbox != "none":
            counts = {"sandbox": 0, "container": 0, "exec": 0}
            for slot in result["per_pkg"]:
                for entry in slot.get("function_paths") or []:
                    counts[entry["path"]] = counts.get(entry["path"], 0) + 1
            tctx["function_path_counts"] = counts
        total = result["total"]
        warm_total = add("%s/total" % self.name, total["run"], total.get("rounds") or [], dict(tctx, phase="warm"),
                         warmup=self.warmup, failures=total["failures"],
                         errors=[e for e in total["errors"] if e["phase"] != "cold"])
        if self.cold:
            add("%s/total@cold" % self.name, total["cold"], [0] * len(total["cold"]), dict(tctx, phase="cold"),
                warmup=0, failures=total["cold_failures"], errors=[e for e in total["errors"] if e["phase"] == "cold"])
        return records, warm_total


def run_pair(a, b):
    """Render with two configurations, ``a`` and ``b`` (two :class:`Renderer` of the same packages,
    runs, warm-up and cold setting), interleaved in the same time window.

    Each side's cold render first (a then b, when ``cold``), then the warm-ups and the counted rounds
    in :func:`_cmd_timer.pair_schedule` order (ABBA: a-b, b-a, a-b, ...). Each side keeps its own pool
    and scratch directory. Returns ``(result_a, result_b, schedule)``; the results are those of
    :meth:`Renderer.run`, with ``rounds`` (the round of each counted sample) per package and total.
    """
    if (a.runs, a.warmup, a.cold, len(a.packages)) != (b.runs, b.warmup, b.cold, len(b.packages)):
        raise KptError("the two sides of a comparison must render the same packages with the same runs, "
                       "warmup and cold settings")
    sides = {"a": a, "b": b}
    begun = []
    try:
        for renderer in (a, b):
            renderer.begin()
            begun.append(renderer)
        schedule = ([("cold", 0, "a"), ("cold", 0, "b")] if a.cold else []) + pair_schedule(a.runs, a.warmup)
        for phase, index, side in schedule:
            sides[side].iterate(phase, index, index if phase == "run" else None)
    except BaseException:
        for renderer in begun:
            renderer.end(failed=True)
        raise
    return a.end(), b.end(), schedule


def pair_timeline(result_a, result_b):
    """The iterations of both sides as they really ran, by start time: ``[{side, phase, run, start, end}]``
    with times in seconds from the first start (monotonic clock)."""
    merged = [dict(entry, side=side) for side, res in (("a", result_a), ("b", result_b)) for entry in res["timeline"]]
    merged.sort(key=lambda e: e["start"])
    origin = merged[0]["start"] if merged else 0.0
    for entry in merged:
        entry["start"] = round(entry["start"] - origin, 6)
        entry["end"] = round(entry["end"] - origin, 6)
    return merged


class SandboxIdentity(object):
    """Render cache identity of an image: the unpacked digest when it runs sandboxed, else the runtime's."""

    def __init__(self, sandbox, inner):
        self.sandbox = sandbox
        self.inner = inner

    def identity(self, image):
        digest = self.sandbox.identity(image)
        if digest is not None:
            return "unpacked %s" % digest
        return self.inner.identity(image)


def _count_failure(slot, entry, round_index):
    """Keep a failed render's error entry (with its round, in a pair) and count it in its phase."""
    if round_index is not None:
        entry["round"] = round_index
    slot["errors"].append(entry)
    if entry["phase"] == "run":
        slot["failures"] += 1
    elif entry["phase"] == "cold":
        slot["cold_failures"] += 1


def _sandboxed(slot):
    return any(p["path"] == "sandbox" for p in slot.get("function_paths") or [])


def _cache_state(states):
    """One cache state for a phase's runs: the common one, or ``mixed``."""
    states = sorted(set(states or ["off"]))
    return states[0] if len(states) == 1 else "mixed"


def package_summaries(renderer, result):
    out = []
    for pkg, slot, output in zip(renderer.packages, result["per_pkg"], result["outputs"]):
        last = slot["last"] or {}
        errors = slot["errors"]
        entry = {"name": pkg.label, "path": pkg.path, "ok": not errors,
                 "cache": last.get("cache", "off"), "cache_key": last.get("key"),
                 "verify": None, "rendered": output is not None}
        verdicts = slot.get("verify") or []
        for verdict in ("mismatch", "reordered", "match"):
            if verdict in verdicts:
                entry["verify"] = verdict
                break
        if slot.get("verify_mismatch"):
            entry["verify_mismatch"] = sorted(slot["verify_mismatch"])
        if slot.get("cache_error"):
            entry["cache_error"] = slot["cache_error"]
        if renderer.function_sandbox != "none":
            entry["function_paths"] = slot.get("function_paths") or []
            if slot.get("sandbox_error"):
                entry["sandbox_error"] = slot["sandbox_error"]
        if errors:
            entry["error"] = errors[-1].get("error")
            entry["stderr"] = tail(errors[-1].get("stderr"))
        out.append(entry)
    return out
