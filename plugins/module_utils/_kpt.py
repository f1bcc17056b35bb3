# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kpt fn render: discovery, version/runtime selection, render cache, parallel benchmark.

Facts this code relies on (checked against kpt 1.0.0-beta.56):

* ``kpt fn render PKG`` renders PKG and its subpackages in place; ``exec:`` functions need
  ``--allow-exec`` and their relative paths resolve against kpt's *current directory*, not
  the package. Renders here therefore run with ``cwd`` = ``chdir`` (default: the original
  package directory) and an absolute package path, so a scratch copy resolves ``exec:``
  exactly as the operator's own ``cd PKG && kpt fn render`` would.
* The function runtime is chosen with ``KPT_FN_RUNTIME`` up to 1.0.0-beta.58 and
  ``KRM_FN_RUNTIME`` from 1.0.0-beta.59 on (docker, podman or nerdctl; nothing else exists).
* ``--image-pull-policy`` accepts always, ifNotPresent, never (kpt's default is always).

The render cache (opt-in) is keyed by a sha256 of: the cache format version, the kpt version,
the render flags, every file of the package tree (path, type, executable bit, bytes) and each
pipeline function's identity: its Kptfile entry (image/exec and config) plus, for ``image:``,
the local image ID from ``<runtime> image inspect`` (a content digest; podman also gives the
manifest digest) and, for ``exec:``, the sha256 of the executable. A function whose identity
cannot be obtained (image not present yet, executable missing) makes the package uncacheable
for that lookup; the key is computed again after the render, once images are pulled.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from ansible_collections.o2edge.perf.plugins.module_utils._record import (
    base_context, make_record, slug, tail, utc_now)
from ansible_collections.o2edge.perf.plugins.module_utils._runner import child_env, run_once

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - the regex fallback below is used
    HAS_YAML = False

CACHE_FORMAT = "o2edge-kpt-render-cache/1"
RUNTIMES = ("docker", "podman", "nerdctl")
PULL_POLICIES = ("always", "ifNotPresent", "never")
KPTFILE = "Kptfile"
KRM_SWITCH = (1, 0, 0, 1, 59)  # 1.0.0-beta.59: KRM_FN_RUNTIME replaces KPT_FN_RUNTIME
_PRE_RANK = {"alpha": 0, "beta": 1, "rc": 2}
INSTALL_HINT = ("install kpt from https://kpt.dev/installation/kpt-cli (download the kpt_linux_amd64 "
                "release binary from https://github.com/kptdev/kpt/releases, put it at "
                "/usr/local/bin/kpt and chmod +x it) or set kpt_path")
MAX_DIFF_BYTES = 65536
# static cost model for longest-first scheduling, in units of one exec function; measured on the
# lab (kpt 1.0.0-beta.56, podman/runc): a python exec function ~0.15 s, an image function ~0.3 s
# (container start), kpt's own work per Kptfile ~0.03 s
EXEC_FN_COST = 1.0
IMAGE_FN_COST = 2.0
KPTFILE_COST = 0.25


class KptError(Exception):
    """Bad input or environment: the message names the field and value."""


# --------------------------------------------------------------------------- version / runtime

def parse_kpt_version(text):
    """``1.0.0-beta.56`` (also ``v1.0.0-rc.1``, ``1.0.0``) -> (1, 0, 0, rank, n); None if unknown.

    rank orders pre-releases: alpha 0 < beta 1 < rc 2 < final 3 (n is 0 for a final release).
    """
    if not text:
        return None
    match = re.search(r"v?(\d+)\.(\d+)\.(\d+)(?:-(alpha|beta|rc)\.?(\d+))?", str(text))
    if not match:
        return None
    major, minor, patch = int(match.group(1)), int(match.group(2)), int(match.group(3))
    if match.group(4):
        return (major, minor, patch, _PRE_RANK[match.group(4)], int(match.group(5)))
    return (major, minor, patch, 3, 0)


def runtime_env_vars(version):
    """Names of the variables that select kpt's function runtime for ``version``.

    ``("KPT_FN_RUNTIME",)`` up to 1.0.0-beta.58, ``("KRM_FN_RUNTIME",)`` from beta.59 on;
    both when the version could not be parsed (setting the unused one is harmless).
    """
    if version is None:
        return ("KPT_FN_RUNTIME", "KRM_FN_RUNTIME")
    if version >= KRM_SWITCH:
        return ("KRM_FN_RUNTIME",)
    return ("KPT_FN_RUNTIME",)


def kpt_version(kpt, env=None):
    res = run_once([kpt, "version"], env=env, timeout=60, capture_stdout=True)
    if not res["ok"]:
        return None, (res["error"] + ": " + res["stderr"]).strip(": ")
    return res["stdout"].strip(), None


# --------------------------------------------------------------------------- packages / Kptfile

def is_package(path):
    return os.path.isfile(os.path.join(path, KPTFILE))


def find_packages(root):
    """Top-level packages under ``root`` (kpt renders their subpackages itself), sorted."""
    found = []
    if is_package(root):
        return [os.path.abspath(root)]
    for dirpath, dirnames, _files in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        if dirpath != root and is_package(dirpath):
            found.append(os.path.abspath(dirpath))
            dirnames[:] = []
    return sorted(found)


def kptfiles(pkg):
    """Every Kptfile of the package tree (the package's and its subpackages'), sorted."""
    result = []
    for dirpath, dirnames, files in os.walk(pkg):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        if KPTFILE in files:
            result.append(os.path.join(dirpath, KPTFILE))
    return sorted(result)


_FN_LINE = re.compile(r"^\s*(?:-\s*)?(image|exec)\s*:\s*(.+?)\s*$")


def parse_kptfile(text, path="Kptfile"):
    """The pipeline functions of one Kptfile: list of dicts with stage and the entry itself.

    Raises KptError naming the path when the YAML cannot be read. Without PyYAML on the
    target a line-based reader finds ``image:``/``exec:`` entries (enough for the cache key,
    since the whole Kptfile's bytes are hashed anyway).
    """
    if HAS_YAML:
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise KptError("invalid Kptfile %s: %s" % (path, exc))
        if doc is None:
            doc = {}
        if not isinstance(doc, dict):
            raise KptError("invalid Kptfile %s: not a mapping" % path)
        pipeline = doc.get("pipeline") or {}
        if not isinstance(pipeline, dict):
            raise KptError("invalid Kptfile %s: pipeline is not a mapping" % path)
        functions = []
        for stage in ("mutators", "validators"):
            entries = pipeline.get(stage) or []
            if not isinstance(entries, list):
                raise KptError("invalid Kptfile %s: pipeline.%s is not a list" % (path, stage))
            for entry in entries:
                if not isinstance(entry, dict) or not (entry.get("image") or entry.get("exec")):
                    raise KptError("invalid Kptfile %s: a %s entry has neither image nor exec" % (path, stage))
                functions.append({"stage": stage, "fn": entry})
        return functions
    functions = []
    for line in text.splitlines():
        match = _FN_LINE.match(line)
        if match:
            functions.append({"stage": "pipeline", "fn": {match.group(1): match.group(2).strip("'\"")}})
    return functions


def package_functions(pkg):
    """(kptfile path relative to pkg, function) for every function of the package tree."""
    result = []
    for path in kptfiles(pkg):
        with open(path, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        rel = os.path.relpath(path, pkg)
        for fn in parse_kptfile(text, path):
            result.append((rel, fn))
    return result


def resolve_exec(spec, cwd):
    """Path of an ``exec:`` function as kpt finds it (relative to cwd, or on PATH)."""
    token = spec.split()[0] if spec.split() else spec
    if "/" in token:
        return os.path.normpath(os.path.join(cwd, token))
    return shutil.which(token)


def file_sha256(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while True:
            block = handle.read(chunk)
            if not block:
                break
            digest.update(block)
    return digest.hexdigest()


class ImageResolver(object):
    """Local image identity through ``<runtime> image inspect``, memoized for one task."""

    def __init__(self, runtime_bin, env=None):
        self.runtime_bin = runtime_bin
        self.env = env
        self._lock = threading.Lock()
        self._known = {}

    def identity(self, image):
        with self._lock:
            if image in self._known:
                return self._known[image]
        ident = None
        if self.runtime_bin:
            fmt = "{{.Id}} {{.Digest}}" if os.path.basename(self.runtime_bin) == "podman" else "{{.Id}}"
            res = run_once([self.runtime_bin, "image", "inspect", "--format", fmt, image],
                           env=self.env, timeout=60, capture_stdout=True)
            out = res["stdout"].strip()
            if res["ok"] and out and "sha256:" in out:
                ident = out.splitlines()[0].strip()
        if ident is not None:
            with self._lock:
                self._known[image] = ident
        return ident

    def forget(self):
        with self._lock:
            self._known.clear()


def function_identity(fn, cwd, resolver):
    """Identity string of one function (None when it cannot be obtained now)."""
    entry = fn["fn"]
    config = json.dumps(entry, sort_keys=True, default=str)
    if entry.get("image"):
        ident = resolver.identity(entry["image"]) if resolver is not None else None
        if ident is None:
            return None
        return "image|%s|%s|%s" % (entry["image"], ident, config)
    path = resolve_exec(str(entry.get("exec")), cwd)
    if not path or not os.path.isfile(path):
        return None
    return "exec|%s|%s|%s" % (path, file_sha256(path), config)


def tree_entries(root):
    """Sorted (relpath, kind, mode, payload) for everything under ``root``.

    kind: ``d`` directory, ``f`` file (payload: bytes), ``l`` symlink (payload: target);
    mode keeps only the executable bits, which is what a render can meaningfully change.
    """
    entries = []
    for dirpath, dirnames, files in os.walk(root):
        dirnames.sort()
        rel_dir = os.path.relpath(dirpath, root)
        for name in list(dirnames):
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if os.path.islink(full):
                entries.append((rel, "l", 0, os.readlink(full).encode("utf-8", "surrogateescape")))
                dirnames.remove(name)
            else:
                entries.append((rel, "d", 0, b""))
        for name in sorted(files):
            full = os.path.join(dirpath, name)
            rel = os.path.normpath(os.path.join(rel_dir, name))
            if os.path.islink(full):
                entries.append((rel, "l", 0, os.readlink(full).encode("utf-8", "surrogateescape")))
                continue
            with open(full, "rb") as handle:
                payload = handle.read()
            entries.append((rel, "f", os.lstat(full).st_mode & 0o111, payload))
    entries.sort(key=lambda e: e[0])
    return entries


def tree_digest(root):
    digest = hashlib.sha256()
    for rel, kind, mode, payload in tree_entries(root):
        digest.update(rel.encode("utf-8", "surrogateescape"))
        digest.update(b"\0%s\0%o\0%d\0" % (kind.encode(), mode, len(payload)))
        digest.update(payload)
    return digest.hexdigest()


def fingerprint(pkg):
    """(tree digest, functions) of a package's *input*; raises KptError for an unreadable Kptfile."""
    return tree_digest(pkg), package_functions(pkg)


def cache_key(fprint, cwd, resolver, kpt_ver, flags):
    """The render cache key for a package fingerprint, or None when a function's identity is unknown."""
    digest_value, functions = fprint
    digest = hashlib.sha256()
    digest.update(("%s\0kpt=%s\0flags=%s\0" % (
        CACHE_FORMAT, kpt_ver, json.dumps(flags, sort_keys=True))).encode("utf-8"))
    digest.update(digest_value.encode("ascii"))
    for rel, fn in functions:
        ident = function_identity(fn, cwd, resolver)
        if ident is None:
            return None
        digest.update(("\0fn\0%s\0%s\0%s" % (rel, fn["stage"], ident)).encode("utf-8"))
    return digest.hexdigest()


def _copy_tree(src, dst):
    shutil.copytree(src, dst, symlinks=True)


class RenderCache(object):
    """Rendered outputs stored as ``<cache_dir>/<key[:2]>/<key>/tree``."""

    def __init__(self, cache_dir):
        self.cache_dir = cache_dir

    def path(self, key):
        return os.path.join(self.cache_dir, key[:2], key)

    def has(self, key):
        return os.path.isdir(os.path.join(self.path(key), "tree"))

    def restore(self, key, dest):
        """Replace ``dest`` by the cached output; True on success."""
        src = os.path.join(self.path(key), "tree")
        if not os.path.isdir(src):
            return False
        if os.path.lexists(dest):
            shutil.rmtree(dest)
        _copy_tree(src, dest)
        return True

    def store(self, key, src, meta=None):
        """Store ``src`` under ``key`` atomically (a concurrent identical store is fine)."""
        final = self.path(key)
        parent = os.path.dirname(final)
        os.makedirs(parent, mode=0o700, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
        try:
            _copy_tree(src, os.path.join(tmp, "tree"))
            with open(os.path.join(tmp, "meta.json"), "w") as handle:
                json.dump(meta or {}, handle, sort_keys=True)
            if os.path.isdir(final):
                shutil.rmtree(final)
            os.rename(tmp, final)
            tmp = None
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)


# --------------------------------------------------------------------------- comparison / sync

def snapshot(root):
    return dict((rel, (kind, mode, payload)) for rel, kind, mode, payload in tree_entries(root))


def changed_paths(before, after):
    """Sorted relpaths that differ between two snapshots (added, removed or modified)."""
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def _yaml_docs(payload):
    return list(yaml.safe_load_all(payload.decode("utf-8")))


def semantic_changes(before, after, paths=None):
    """Paths whose difference is more than a reordering of YAML mapping keys.

    kpt 1.0.0-beta.56 does not write map keys in a stable order (for example the keys of a
    function's ``configMap`` reach the function in Go map order), so two renders of the same
    input can differ in bytes only. A YAML file (``*.yaml``, ``*.yml``, ``Kptfile``) whose
    documents load to equal data is not a change. Without PyYAML every byte difference counts.
    """
    paths = changed_paths(before, after) if paths is None else paths
    real = []
    for rel in paths:
        old, new = before.get(rel), after.get(rel)
        name = os.path.basename(rel)
        if (HAS_YAML and old and new and old[0] == "f" and new[0] == "f" and old[1] == new[1]
                and (name == KPTFILE or name.endswith((".yaml", ".yml")))):
            try:
                if _yaml_docs(old[2]) == _yaml_docs(new[2]):
                    continue
            except (yaml.YAMLError, UnicodeDecodeError):
                pass
        real.append(rel)
    return real


def _text(payload):
    if payload is None:
        return ""
    if b"\0" in payload[:8192]:
        return "(binary file, %d bytes)\n" % len(payload)
    if len(payload) > MAX_DIFF_BYTES:
        return "(%d bytes, too large to show)\n" % len(payload)
    return payload.decode("utf-8", "replace")


def diff_entries(pkg_label, before, after, paths=None):
    """Ansible diff dicts (one per changed file) between two snapshots."""
    diffs = []
    for rel in changed_paths(before, after) if paths is None else paths:
        old, new = before.get(rel), after.get(rel)
        if (old and old[0] == "d") or (new and new[0] == "d"):
            continue
        name = os.path.join(pkg_label, rel)
        diffs.append({
            "before_header": name if old else "/dev/null",
            "after_header": name if new else "/dev/null",
            "before": _text(old[2]) if old else "",
            "after": _text(new[2]) if new else "",
        })
    return diffs


def sync_tree(src, dst, paths=None):
    """Make ``dst`` equal to ``src`` for ``paths`` (default: every difference), one atomic replace per file."""
    before, after = snapshot(dst), snapshot(src)
    if paths is None:
        paths = changed_paths(before, after)
    else:
        # create missing parent directories of the paths too
        wanted = set(paths)
        for rel in list(paths):
            parent = os.path.dirname(rel)
            while parent and parent not in wanted:
                if parent in after and after[parent] != before.get(parent):
                    wanted.add(parent)
                parent = os.path.dirname(parent)
        paths = sorted(wanted)
    # directories first (shallow to deep), then files, then removals deep to shallow
    for rel in paths:
        new = after.get(rel)
        if new and new[0] == "d":
            target = os.path.join(dst, rel)
            if os.path.lexists(target) and not os.path.isdir(target):
                os.unlink(target)
            os.makedirs(target, exist_ok=True)
    for rel in paths:
        new = after.get(rel)
        if not new or new[0] == "d":
            continue
        target = os.path.join(dst, rel)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        tmp = os.path.join(os.path.dirname(target), ".%s.o2edge-tmp" % os.path.basename(target))
        if new[0] == "l":
            os.symlink(new[2].decode("utf-8", "surrogateescape"), tmp)
        else:
            source = os.path.join(src, rel)
            shutil.copy(source, tmp)
        os.replace(tmp, target)
    for rel in sorted((p for p in paths if p not in after), reverse=True):
        target = os.path.join(dst, rel)
        if os.path.islink(target) or os.path.isfile(target):
            os.unlink(target)
        elif os.path.isdir(target):
            shutil.rmtree(target)
    return paths


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
    """One render more than there are CPUs: renders with image functions wait on container start
    (CPU idle), and the spare render fills that gap. Measured on the 2-CPU lab in four runs:
    3 workers 0.56x to 0.62x of a sequential loop, 2 workers 0.63x to 0.69x (docs/benchmarks.md)."""
    return (os.cpu_count() or 1) + 1


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


class Renderer(object):
    """Render packages: cold run, warm-ups and counted runs, in parallel, with an optional cache."""

    def __init__(self, kpt, packages, runs=3, warmup=0, cold=True, max_workers=None, allow_exec=False,
                 image_pull_policy=None, env=None, chdir=None, timeout=600.0, cache_dir=None,
                 verify=False, write_cache=True, scratch_dir=None, kpt_ver=None, resolver=None,
                 name="kpt_render"):
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
        self.flags = {"allow_exec": bool(allow_exec), "image_pull_policy": image_pull_policy}

    def argv(self, path):
        argv = [self.kpt, "fn", "render", path]
        if self.allow_exec:
            argv.append("--allow-exec")
        if self.image_pull_policy:
            argv.extend(["--image-pull-policy", self.image_pull_policy])
        return argv

    def cwd_for(self, pkg):
        return self.chdir or pkg.path

    def _render(self, pkg, work):
        res = run_once(self.argv(work), cwd=self.cwd_for(pkg), env=self.env, timeout=self.timeout)
        if not res["ok"]:
            # kpt names the scratch copy; name the operator's package instead
            stderr = (res.get("stderr") or "").replace(work, pkg.path)
            res["stderr"] = stderr
            reason = res["error"].replace(" (expected 0)", "")
            res["error"] = "kpt fn render %s failed (%s): %s" % (
                pkg.path, reason, tail(stderr, 1000) or "no message")
            res["path"] = pkg.path
        return res

    def _job(self, pkg, work):
        """Render one package copy at ``work``; timed as a whole (cache lookup included)."""
        info = {"cache": "off", "key": None, "verify": None}
        start = time.monotonic()
        key = None
        fprint = None
        if self.cache is not None:
            try:
                fprint = fingerprint(work)
                key = cache_key(fprint, self.cwd_for(pkg), self.resolver, self.kpt_ver, self.flags)
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
        res = self._render(pkg, work)
        if res["ok"] and info["cache"] == "hit" and self.verify:
            cached = snapshot(os.path.join(self.cache.path(key), "tree"))
            fresh = snapshot(work)
            differing = changed_paths(cached, fresh)
            if not differing:
                info["verify"] = "match"
            else:
                real = semantic_changes(cached, fresh, differing)
                info["verify"] = "mismatch" if real else "reordered"
                info["verify_mismatch"] = real or differing
        elif res["ok"] and info["cache"] == "miss" and self.write_cache:
            if key is None:
                # an image was not present before the render; it is now (only found ones are memoized)
                key = cache_key(fprint, self.cwd_for(pkg), self.resolver, self.kpt_ver, self.flags)
            if key is not None:
                try:
                    self.cache.store(key, work, {"package": pkg.path, "kpt": self.kpt_ver})
                    info["stored"] = True
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
        for i, pkg in enumerate(self.packages):
            work = os.path.join(iter_dir, str(i), os.path.basename(os.path.normpath(pkg.path)))
            _copy_tree(pkg.path, work)
            works.append(work)
        start = time.monotonic()
        futures = dict((i, pool.submit(self._job, self.packages[i], works[i])) for i in order)
        results = []
        for i in range(len(self.packages)):
            try:
                results.append(futures[i].result())
            except Exception as exc:  # keep other packages going; report this one
                results.append({"ok": False, "seconds": None, "rc": None,
                                "error": "internal error: %s" % exc, "stderr": ""})
        wall = time.monotonic() - start
        return wall, results, works, iter_dir

    def run(self):
        """Do every iteration; returns a dict with records, total, packages and final outputs."""
        started_at = None
        base = tempfile.mkdtemp(prefix="o2edge-kpt-render-", dir=self.scratch_dir)
        plan = (["cold"] if self.cold else []) + ["warmup"] * self.warmup + ["run"] * self.runs
        per_pkg = [{"cold": [], "run": [], "errors": [], "failures": 0, "cold_failures": 0, "last": None}
                   for _pkg in self.packages]
        total = {"cold": [], "run": [], "errors": [], "failures": 0, "cold_failures": 0}
        last_works = None
        last_dir = None
        outputs = [None] * len(self.packages)
        # longest first: static estimates, then each package's last measured duration
        static = [static_cost(pkg.path) for pkg in self.packages]
        measured = [None] * len(self.packages)
        orders = []
        # one pool for every iteration: its threads start once, not once per run
        pool = ThreadPoolExecutor(max_workers=max(1, min(self.max_workers, len(self.packages))))
        try:
            started_at = utc_now()
            run_index = {"cold": 0, "warmup": 0, "run": 0}
            for it, phase in enumerate(plan):
                order = lpt_order(estimate_costs(static, measured))
                orders.append(order)
                wall, results, works, iter_dir = self._iteration(base, it, pool, order)
                for i, res in enumerate(results):
                    if res["ok"] and res.get("seconds") is not None:
                        measured[i] = res["seconds"]
                index = run_index[phase]
                run_index[phase] += 1
                failed_labels = []
                for i, res in enumerate(results):
                    slot = per_pkg[i]
                    slot["last"] = res
                    slot.setdefault("cache_states", {}).setdefault(phase, []).append(res.get("cache", "off"))
                    if res.get("verify"):
                        slot.setdefault("verify", []).append(res["verify"])
                        for rel in res.get("verify_mismatch") or []:
                            slot.setdefault("verify_mismatch", set()).add(rel)
                    if res["ok"]:
                        outputs[i] = works[i]
                        if phase in ("cold", "run"):
                            slot[phase].append(res["seconds"])
                        continue
                    failed_labels.append(self.packages[i].label)
                    seconds = res.get("seconds")
                    entry = {"phase": phase, "run": index, "path": self.packages[i].path, "rc": res.get("rc"),
                             "seconds": None if seconds is None else round(seconds, 6), "error": res.get("error"),
                             "stderr": res.get("stderr", "")}
                    slot["errors"].append(entry)
                    if phase == "run":
                        slot["failures"] += 1
                    elif phase == "cold":
                        slot["cold_failures"] += 1
                if failed_labels:
                    total["errors"].append({"phase": phase, "run": index, "seconds": round(wall, 6),
                                            "error": "failed packages: %s" % ", ".join(failed_labels)})
                    if phase == "run":
                        total["failures"] += 1
                    elif phase == "cold":
                        total["cold_failures"] += 1
                elif phase in ("cold", "run"):
                    total[phase].append(wall)
                if last_dir is not None:
                    # keep the newest successful output of each package, drop the rest
                    keep = set(o for o in outputs if o)
                    if not any(k.startswith(last_dir + os.sep) for k in keep):
                        shutil.rmtree(last_dir, ignore_errors=True)
                last_works, last_dir = works, iter_dir
        except BaseException:
            shutil.rmtree(base, ignore_errors=True)
            raise
        finally:
            pool.shutdown(wait=True)
        return {"base": base, "per_pkg": per_pkg, "total": total, "outputs": outputs,
                "started_at": started_at, "last_works": last_works, "plan": plan, "orders": orders}

    def records(self, result, versions, extra_context=None):
        """Per-package warm and cold records plus the two totals."""
        extra_context = dict(extra_context or {})
        records = []
        for pkg, slot in zip(self.packages, result["per_pkg"]):
            states = slot.get("cache_states") or {}
            ctx = base_context(started_at=result["started_at"], versions=versions,
                               command=" ".join(self.argv(pkg.path)), cwd=self.cwd_for(pkg),
                               package=pkg.path, **extra_context)
            if self.runs:
                records.append(make_record("%s/%s" % (self.name, pkg.label), "kpt_render", "s", slot["run"],
                                           warmup=self.warmup, failures=slot["failures"],
                                           errors=[e for e in slot["errors"] if e["phase"] != "cold"],
                                           context=dict(ctx, phase="warm", cache=_cache_state(states.get("run")))))
            if self.cold:
                records.append(make_record("%s/%s@cold" % (self.name, pkg.label), "kpt_render", "s", slot["cold"],
                                           warmup=0, failures=slot["cold_failures"],
                                           errors=[e for e in slot["errors"] if e["phase"] == "cold"],
                                           context=dict(ctx, phase="cold", cache=_cache_state(states.get("cold")))))
        tctx = base_context(started_at=result["started_at"], versions=versions,
                            command="kpt fn render (%d packages, max_workers %d)" % (
                                len(self.packages), self.max_workers),
                            packages=[p.path for p in self.packages], max_workers=self.max_workers,
                            schedule="longest-first",
                            order=[self.packages[i].label for i in (result.get("orders") or [[]])[-1]],
                            **extra_context)
        total = result["total"]
        warm_total = make_record("%s/total" % self.name, "kpt_render", "s", total["run"], warmup=self.warmup,
                                 failures=total["failures"],
                                 errors=[e for e in total["errors"] if e["phase"] != "cold"],
                                 context=dict(tctx, phase="warm"))
        records.append(warm_total)
        if self.cold:
            records.append(make_record("%s/total@cold" % self.name, "kpt_render", "s", total["cold"], warmup=0,
                                       failures=total["cold_failures"],
                                       errors=[e for e in total["errors"] if e["phase"] == "cold"],
                                       context=dict(tctx, phase="cold")))
        return records, warm_total


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
        if errors:
            entry["error"] = errors[-1].get("error")
            entry["stderr"] = tail(errors[-1].get("stderr"))
        out.append(entry)
    return out
