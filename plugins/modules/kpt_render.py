#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
# Size: over 450 lines, about half or more of them the module's documentation (DOCUMENTATION, EXAMPLES, RETURN).

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kpt_render
short_description: Render kpt packages, measured, in parallel and optionally cached
version_added: 1.0.0
description:
  - Runs C(kpt fn render) on the given packages, or on every top-level package found under a root
    (kpt renders subpackages itself), concurrently with a pool of O(max_workers) subprocesses.
  - In O(mode=benchmark) every render works on a fresh scratch copy, so the operator's tree is never
    touched. In O(mode=apply) the rendered result is written back into the package, file by file
    (each replaced atomically), only where it differs in content (and only for packages whose every
    render succeeded).
  - The first render of each package (image pulls included) is reported apart as the C(@cold) record
    when O(cold=true); then O(warmup) untimed renders, then O(runs) counted renders (the warm figures).
  - Returns one record per package and phase, plus C(total) records (the wall time of rendering all
    packages concurrently), all in the collection's single record shape.
  - A failing package reports its path and kpt's message; the other packages still complete.
  - The C(exec) paths of a Kptfile resolve against kpt's working directory, not the package. kpt runs
    in O(chdir), by default the package's own directory, with the absolute path of the (scratch) copy.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description:
      - Benchmark mode is read-only and runs fully in check mode.
      - Apply mode renders to scratch and reports what would change (with diff) without writing
        the package; the render cache is read but not written in check mode.
  diff_mode:
    description: In apply mode, returns one before/after entry per changed file.
  platform:
    support: full
    platforms: posix
    description: Runs where kpt runs; Python 3.9 or later, standard library (PyYAML used when present).
options:
  paths:
    description:
      - Package directories, each with a Kptfile. Mutually exclusive with O(root).
    type: list
    elements: path
  root:
    description:
      - A directory searched for packages (directories with a Kptfile); nested packages are left to kpt,
        which renders them with their parent. Mutually exclusive with O(paths).
    type: path
  mode:
    description:
      - V(benchmark) renders scratch copies only; V(apply) writes the rendered result into the packages.
    type: str
    choices: [benchmark, apply]
    default: benchmark
  runs:
    description: Counted (warm) renders of every package. At least 1.
    type: int
    default: 3
  warmup:
    description: Untimed renders after the cold one and before the counted ones.
    type: int
    default: 0
  cold:
    description: Do one first render reported apart (records named C(<name>/<package>@cold)).
    type: bool
    default: true
  max_workers:
    description:
      - Packages rendered at the same time. Defaults to twice the CPU count of the host.
      - Packages are handed to the workers longest first, by the previous render's measured duration of each
        package, or before any measurement by a static estimate (functions of every Kptfile of the tree, an
        C(image) function counted as two C(exec) ones), so that the slowest packages do not start last.
      - Why twice the CPUs - renders with C(image) functions wait on container start, leaving CPU idle, and
        the extra renders fill that gap. On a 2-CPU lab machine (10 packages, 5 with image functions), in two
        alternated runs with per-round paired ratios, 4 workers were faster than 3 and not clearly slower
        than 5 or 6; 2 workers were clearly slower than 3.
        Pure C(exec) pipelines are CPU-bound and gain little from it; set the CPU count there.
        Measure with your packages (bench/bench_kpt_render.py, docs/benchmarks.md).
    type: int
  allow_exec:
    description: Pass C(--allow-exec) so that C(exec) functions may run.
    type: bool
    default: false
  runtime:
    description:
      - Function runtime for C(image) functions. Set through C(KPT_FN_RUNTIME) for kpt up to 1.0.0-beta.58
        and C(KRM_FN_RUNTIME) from 1.0.0-beta.59, chosen from C(kpt version).
      - When unset, the variables already in the environment apply (kpt's own default is docker).
    type: str
    choices: [docker, podman, nerdctl]
  image_pull_policy:
    description: C(--image-pull-policy) for kpt (kpt's own default is V(always)).
    type: str
    choices: [always, ifNotPresent, never]
  chdir:
    description:
      - Working directory of kpt, against which relative C(exec) paths resolve. Defaults to each package's
        own directory (as C(cd PKG && kpt fn render --allow-exec) would).
    type: path
  environment:
    description: Extra environment variables for kpt; a null value removes a variable.
    type: dict
    default: {}
  timeout:
    description: Per-render timeout in seconds (the kpt process group is killed and the render counted as failed).
    type: float
    default: 600
  kpt_path:
    description: The kpt executable. Defaults to C(kpt) on PATH.
    type: path
  cache:
    description:
      - Use the render cache. Its key is a sha256 of the package's files (paths, contents and executable bits, so
        a renamed file is another key) and each function's identity (the local image ID and digest from
        C(<runtime> image inspect), or the C(exec) file's sha256, plus the function's Kptfile entry and config),
        the kpt version and the render flags. A hit restores the previous output instead of rendering.
    type: bool
    default: false
  cache_dir:
    description: Where the render cache lives.
    type: path
    default: ~/.cache/o2edge-perf/kpt-render
  verify:
    description:
      - On a cache hit, render anyway and compare the fresh output with the cached one byte for byte.
      - The verdict is reported per package in C(packages[].verify) - V(match) (byte-identical), V(reordered)
        (bytes differ but every YAML file loads to equal data, as happens when kpt writes map keys in a different
        order) or V(mismatch) (a real difference; the files are listed in C(verify_mismatch), a warning is
        emitted and the cache entry is replaced by the fresh render).
    type: bool
    default: false
  scratch_dir:
    description: Parent directory of the scratch copies (removed at the end). Defaults to the system temporary directory.
    type: path
  function_sandbox:
    description:
      - V(bwrap) runs every C(image) function whose image is unpacked in O(sandbox_unpack_dir) (by
        M(o2edge.perf.image_precache) with C(unpack=true)) under bubblewrap instead of a container, saving the
        container start. Each scratch copy's Kptfiles are rewritten to C(exec) wrappers (never the package's own;
        apply mode writes back the rendered resources with the original C(image) entries) and kpt gets
        C(--allow-exec) for those packages (recorded as C(allow_exec_added)).
      - The sandbox has no network, its own user, PID, IPC and UTS namespaces, uid and gid 65534 (kpt starts
        containers as C(nobody) too), no capabilities, no new privileges, a cleared environment then the image's,
        the image's root filesystem read-only, a private C(/tmp), C(/proc) and a minimal C(/dev), the image's
        workdir and entrypoint plus cmd; nothing of the host's filesystem is visible.
      - When kpt runs as root, bwrap itself is started as uid 65534 (C(setpriv)) if 65534 can reach the unpacked
        root filesystem (every folder above it searchable by others, for example under C(/var/cache)); otherwise
        the user namespace maps 65534 to root, and files of the image readable by root only are readable by the
        function (the host's files stay invisible either way). The reason in C(function_paths) says which.
      - A function whose image is not unpacked, or whose entry asks for more (C(network), C(storageMounts)),
        runs in the container runtime as usual; C(packages[].function_paths) and each record's context say which
        path every function took and why.
      - The sandbox runs the unpacked image whatever O(image_pull_policy) says; unpack again when tags move.
      - V(none) renders as kpt does.
    type: str
    choices: [none, bwrap]
    default: none
  sandbox_unpack_dir:
    description: Where unpacked function images are looked up (C(refs.json), C(<algo>-<hex>/rootfs), C(image.json)).
    type: path
    default: ~/.cache/o2edge-perf/fn-images
  name:
    description: Prefix of the record names.
    type: str
    default: kpt_render
  fail_on_error:
    description: Fail the task when any package failed to render. Records are returned either way.
    type: bool
    default: true
  compare:
    description:
      - Measure two configurations interleaved in the same time window instead of one - A, the module's own
        options, and B, A with the overrides in O(compare.b). Only in O(mode=benchmark); not with O(verify).
      - Each side has its own worker pool and scratch copies. Each side's cold render comes first (A then B),
        then O(warmup) warm-ups and O(runs) counted rounds per side, each round one render of all packages by
        A and one by B, in alternating order (round 0 A then B, round 1 B then A, ... - ABBA), so a change of
        the machine's load and an order effect fall on both sides alike. This is the comparison to trust for
        levers that act per call (sandbox, cache, workers, pull policy, runtime), rather than two passes run
        minutes apart.
      - Records are returned for both sides, named with the side's label in parentheses -
        C(<name>/<package> (<label>)), C(<name>/<package>@cold (<label>)), C(<name>/total (<label>)),
        C(<name>/total@cold (<label>)) - A's first. Their C(context.pair) pairs them (see RV(records)).
      - The per-package records of the two sides are only comparable when both ran with the same
        concurrency (C(context.concurrency)); with different O(max_workers) compare the totals.
    type: dict
    suboptions:
      label_a:
        description: Label of configuration A (1 to 40 letters, digits, C(.), C(_), C(+), C(:), C(-)).
        type: str
        default: A
      label_b:
        description: Label of configuration B; must differ from O(compare.label_a).
        type: str
        default: B
      b:
        description: The options B sets differently from A (at least one); an unset one is A's.
        type: dict
        required: true
        suboptions:
          function_sandbox:
            description: As O(function_sandbox), for B.
            type: str
            choices: [none, bwrap]
          sandbox_unpack_dir:
            description: As O(sandbox_unpack_dir), for B.
            type: path
          cache:
            description: As O(cache), for B.
            type: bool
          cache_dir:
            description: As O(cache_dir), for B.
            type: path
          max_workers:
            description: As O(max_workers), for B.
            type: int
          image_pull_policy:
            description: As O(image_pull_policy), for B.
            type: str
            choices: [always, ifNotPresent, never]
          runtime:
            description: As O(runtime), for B.
            type: str
            choices: [docker, podman, nerdctl]
          allow_exec:
            description: As O(allow_exec), for B.
            type: bool
notes:
  - Statistics methods are described in the collection's docs/statistics.md.
  - The cache trusts the local image behind a tag; reference images by digest, or pull before, when tags move.
seealso:
  - module: o2edge.perf.command_bench
extends_documentation_fragment:
  - o2edge.perf.attributes.writes
"""

EXAMPLES = r"""
- name: Benchmark rendering every package of the pipeline repository (scratch copies only)
  o2edge.perf.kpt_render:
    root: /srv/pipeline/packages
    allow_exec: true
    runtime: podman
    image_pull_policy: ifNotPresent
    runs: 5
    warmup: 1
  register: render

- name: Render in place with the cache, showing what changes
  o2edge.perf.kpt_render:
    paths:
      - /srv/pipeline/packages/edge1-config
      - /srv/pipeline/packages/edge2-config
    mode: apply
    allow_exec: true
    cache: true
    runs: 1
    cold: false
  diff: true

- name: Sequential, unsandboxed, uncached renders against the levers optimize applies, interleaved (ABBA)
  o2edge.perf.kpt_render:
    root: /srv/pipeline/packages
    allow_exec: true
    max_workers: 1
    runs: 6
    warmup: 1
    compare:
      label_a: before
      label_b: after
      b:
        function_sandbox: bwrap
        cache: true
        max_workers: 4
        image_pull_policy: never
  register: render_pair
"""

RETURN = r"""
records:
  description:
    - Measurement records (the collection's single record shape) in this order, per package
      C(<name>/<package>) (warm, O(runs) samples) and C(<name>/<package>@cold) (when O(cold=true)),
      then C(<name>/total) and C(<name>/total@cold) (wall time of all packages rendered together).
    - Each record's C(context) holds host, started_at, command, cwd, package, cache (V(off), V(miss),
      V(hit), V(error)), phase (V(warm) or V(cold)), versions (kpt, python) and function_sandbox.
    - With O(function_sandbox=bwrap) the package records' C(context) also holds sandbox_unpack_dir,
      allow_exec_added and function_paths (as RV(packages[].function_paths)); the C(total) records hold
      function_path_counts (functions per path over all packages).
    - The C(total) records' C(context) also holds workers (the size of the pool actually used, the
      smaller of O(max_workers) and the number of packages), max_workers (as requested, or its default),
      schedule (V(longest-first)) and order (the package labels in the order the last render handed them
      to the workers).
    - A failed run appears in C(errors) with the package path, kpt's exit status and its message.
    - The package records' C(context) holds concurrency, the number of renders running at once (the pool
      size used); a per-package figure depends on it, so only records of equal concurrency compare.
    - With O(compare), B's records follow A's, every name ends in C( (<label>)), and C(context.pair) holds
      id (the record name without the label suffix, equal on both sides), session (a random id shared by
      the two sides of one task), side (V(a) or V(b)), label, design (V(interleaved)), order (V(ABBA)) and
      rounds (the round index of each sample, aligned with C(samples); a failed run leaves its round out, so
      the two sides pair by round index, never by position; cold records have round 0).
  returned: always
  type: list
  elements: dict
  sample:
    - name: kpt_render/edge1-config
      component: kpt_render
      unit: s
      samples: [0.81, 0.79, 0.8]
      warmup: 0
      failures: 0
      errors: []
      stats: {min: 0.79, median: 0.8, mean: 0.8, p95: 0.809, max: 0.81, stdev: 0.01, mad: 0.01,
              outliers: [], slow_first_run: false}
      context: {host: ctl, started_at: "2026-01-01T00:00:00.000Z", phase: warm, cache: "off",
                command: "kpt fn render /srv/pipeline/packages/edge1-config --allow-exec",
                versions: {kpt: 1.0.0-beta.56, python: 3.11.7}}
total:
  description: The warm total record (also in RV(records)).
  returned: always
  type: dict
packages:
  description: One entry per package.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The package's label in record names.
      type: str
    path:
      description: The package directory.
      type: str
    ok:
      description: Whether every render of the package succeeded (and, in apply mode, its write-back).
      type: bool
    error:
      description: The last error (kpt's message included), when a render or the write-back failed.
      type: str
    stderr:
      description: The tail of kpt's standard error of that failed render.
      type: str
    cache:
      description: Cache state of the last render (V(off), V(miss), V(hit), V(error)).
      type: str
    cache_key:
      description: The cache key of the package's input, when known.
      type: str
    cache_error:
      description: The last render cache failure (an unreadable Kptfile for the key, a failed restore or store), if any.
      type: str
    verify:
      description: V(match), V(reordered) or V(mismatch) (the worst over all runs) when O(verify=true) and the cache was hit, else null.
      type: str
    verify_mismatch:
      description: Files (relative to the package) whose fresh render differed from the cache.
      type: list
      elements: str
    rendered:
      description: Whether a rendered output exists for the package.
      type: bool
    function_paths:
      description:
        - With O(function_sandbox=bwrap), one entry per function of every Kptfile of the package (last render) -
          package, kptfile, field (C(pipeline.mutators[0])), stage, index, image (as written), resolved, digest
          (of the unpacked image), path (V(sandbox), V(container) or V(exec)) and reason.
      type: list
      elements: dict
    sandbox_error:
      description: Why the sandbox could not rewrite the package's Kptfiles (its functions then ran as written).
      type: str
    changed:
      description: In apply mode, whether the rendered result differs from the package.
      type: bool
    changed_files:
      description:
        - In apply mode, the files (relative to the package) that differ and are written.
        - A YAML file whose documents load to equal data (only key order differs, which kpt does not keep stable
          across renders) is not a change, so applying twice reports no change the second time.
      type: list
      elements: str
kpt_version:
  description: The output of C(kpt version).
  returned: always
  type: str
  sample: 1.0.0-beta.56
runtime_env:
  description: The runtime variables set for kpt (empty when O(runtime) is unset).
  returned: always
  type: dict
  sample: {KPT_FN_RUNTIME: podman}
compare:
  description:
    - With O(compare) - session, design (V(interleaved)), order (V(ABBA)), label_a, label_b, total_a and total_b
      (the warm total records of each side), concurrency_a and concurrency_b (renders at once on each side),
      packages_b (B's entries, as RV(packages) holds A's) and timeline (every render of all packages as it
      really ran, by start time - side, phase (V(cold), V(warmup), V(run)), run (index in the phase), start and
      end in seconds from the first start).
    - No verdict; the records go to the report, which compares them.
  returned: when O(compare) is given
  type: dict
msg:
  description: A one-line summary, naming failing packages.
  returned: always
  type: str
"""

import os
import re
import shutil
import uuid

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._fn_sandbox import bwrap_version
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._renderer import (
    Renderer, package_labels, package_summaries, pair_timeline, run_pair)
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kpt_sync import apply_outputs
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import (
    INSTALL_HINT, KptError, find_packages, function_runtime, is_package, kpt_version, parse_kpt_version,
    runtime_env_vars)
from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._render_cache import ImageResolver
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import PAIR_ORDER, child_env

LABEL = re.compile(r"^[A-Za-z0-9._+:-]{1,40}$")


def compare_error(p):
    """What is wrong with the ``compare`` option, or None."""
    compare = p["compare"]
    if p["mode"] != "benchmark":
        return "compare needs mode=benchmark (it measures two configurations; it applies nothing)"
    if p["verify"]:
        return "compare cannot be used with verify=true"
    for field in ("label_a", "label_b"):
        if not LABEL.match(compare[field] or ""):
            return "compare.%s must be 1 to 40 characters of letters, digits, '.', '_', '+', ':' or '-'" % field
    if compare["label_a"] == compare["label_b"]:
        return "compare.label_a and compare.label_b must differ"
    b = compare["b"] or {}
    if not any(v is not None for v in b.values()):
        return "compare.b must override at least one option (else both sides are the same configuration)"
    error = range_error(b, minimums=(("max_workers", 1),), where="compare.b.")
    if error:
        return error
    if b.get("cache_dir") is not None and b.get("cache") is None and not p["cache"]:
        return "compare.b.cache_dir needs the cache on (compare.b.cache=true or cache=true)"
    return None


def _side(module, q, kpt, packages, base_env, version_text, parsed):
    """The renderer of one configuration ``q`` (the module's options, or them with compare.b's
    overrides); returns ``(renderer, runtime_env, versions)``."""
    env = dict(base_env)
    runtime_env = {}
    if q["runtime"]:
        for var in runtime_env_vars(parsed):
            runtime_env[var] = q["runtime"]
        env.update(runtime_env)
    resolver = None
    if q["cache"]:
        resolver = ImageResolver(module.get_bin_path(function_runtime(q["runtime"], env)), env=env)
    bwrap = None
    if q["function_sandbox"] == "bwrap":
        bwrap = module.get_bin_path("bwrap")
        if not bwrap:
            module.fail_json(msg="function_sandbox=bwrap needs bwrap on PATH (Debian package bubblewrap)")
    try:
        renderer = Renderer(
            kpt, packages, runs=q["runs"], warmup=q["warmup"], cold=q["cold"], max_workers=q["max_workers"],
            allow_exec=q["allow_exec"], image_pull_policy=q["image_pull_policy"], env=env, chdir=q["chdir"],
            timeout=q["timeout"], cache_dir=q["cache_dir"] if q["cache"] else None, verify=q["verify"],
            write_cache=not module.check_mode, scratch_dir=q["scratch_dir"], kpt_ver=version_text,
            resolver=resolver, name=q["name"], function_sandbox=q["function_sandbox"], bwrap=bwrap,
            sandbox_unpack_dir=q["sandbox_unpack_dir"])
    except KptError as exc:
        module.fail_json(msg=str(exc))
    versions = {"kpt": version_text}
    if bwrap:
        versions["bwrap"] = bwrap_version(bwrap, env)
    return renderer, runtime_env, versions


def _fmt(value):
    return "n/a" if value is None else "%.4g" % value


def main():
    module = AnsibleModule(
        argument_spec=dict(
            paths=dict(type="list", elements="path"),
            root=dict(type="path"),
            mode=dict(type="str", choices=["benchmark", "apply"], default="benchmark"),
            runs=dict(type="int", default=3),
            warmup=dict(type="int", default=0),
            cold=dict(type="bool", default=True),
            max_workers=dict(type="int"),
            allow_exec=dict(type="bool", default=False),
            runtime=dict(type="str", choices=["docker", "podman", "nerdctl"]),
            image_pull_policy=dict(type="str", choices=["always", "ifNotPresent", "never"]),
            chdir=dict(type="path"),
            environment=dict(type="dict", default={}),
            timeout=dict(type="float", default=600),
            kpt_path=dict(type="path"),
            cache=dict(type="bool", default=False),
            cache_dir=dict(type="path", default="~/.cache/o2edge-perf/kpt-render"),
            verify=dict(type="bool", default=False),
            scratch_dir=dict(type="path"),
            function_sandbox=dict(type="str", choices=["none", "bwrap"], default="none"),
            sandbox_unpack_dir=dict(type="path", default="~/.cache/o2edge-perf/fn-images"),
            name=dict(type="str", default="kpt_render"),
            fail_on_error=dict(type="bool", default=True),
            compare=dict(type="dict", options=dict(
                label_a=dict(type="str", default="A"),
                label_b=dict(type="str", default="B"),
                b=dict(type="dict", required=True, options=dict(
                    function_sandbox=dict(type="str", choices=["none", "bwrap"]),
                    sandbox_unpack_dir=dict(type="path"),
                    cache=dict(type="bool"),
                    cache_dir=dict(type="path"),
                    max_workers=dict(type="int"),
                    image_pull_policy=dict(type="str", choices=["always", "ifNotPresent", "never"]),
                    runtime=dict(type="str", choices=["docker", "podman", "nerdctl"]),
                    allow_exec=dict(type="bool"),
                )),
            )),
        ),
        mutually_exclusive=[("paths", "root")],
        required_one_of=[("paths", "root")],
        supports_check_mode=True,
    )
    p = module.params
    error = range_error(p, minimums=(("runs", 1), ("warmup", 0), ("max_workers", 1)), positive=("timeout",))
    if error:
        module.fail_json(msg=error)
    if p["verify"] and not p["cache"]:
        module.fail_json(msg="verify=true needs cache=true (it checks cache hits)")
    for field in ("chdir", "scratch_dir"):
        if p[field] is not None and not os.path.isdir(p[field]):
            module.fail_json(msg="%s %s is not a directory" % (field, p[field]))

    if p["kpt_path"]:
        kpt = p["kpt_path"]
        if not (os.path.isfile(kpt) and os.access(kpt, os.X_OK)):
            module.fail_json(msg="kpt_path %s is not an executable file; %s" % (kpt, INSTALL_HINT))
    else:
        kpt = module.get_bin_path("kpt")
        if not kpt:
            module.fail_json(msg="kpt was not found on PATH (%s); %s" % (os.environ.get("PATH", ""), INSTALL_HINT))

    if p["paths"] is not None:
        if not p["paths"]:
            module.fail_json(msg="paths must list at least one package directory")
        for path in p["paths"]:
            if not os.path.isdir(path):
                module.fail_json(msg="paths: %s is not a directory" % path)
            if not is_package(path):
                module.fail_json(msg="paths: %s has no Kptfile, so it is not a kpt package" % path)
        packages = package_labels([os.path.abspath(x) for x in p["paths"]])
    else:
        if not os.path.isdir(p["root"]):
            module.fail_json(msg="root %s is not a directory" % p["root"])
        found = find_packages(p["root"])
        if not found:
            module.fail_json(msg="root %s contains no kpt package (no directory with a Kptfile)" % p["root"])
        packages = package_labels(found, root=os.path.abspath(p["root"]))

    env = child_env(p["environment"])
    version_text, version_error = kpt_version(kpt, env)
    if version_text is None:
        module.fail_json(msg="%s version failed: %s; %s" % (kpt, version_error, INSTALL_HINT))
    parsed = parse_kpt_version(version_text)

    compare = p["compare"]
    if compare is not None:
        problem = compare_error(p)
        if problem:
            module.fail_json(msg=problem)
    renderer, runtime_env, versions = _side(module, p, kpt, packages, env, version_text, parsed)
    renderer_b = None
    if compare is not None:
        q = dict(p)
        q.update((k, v) for k, v in (compare["b"] or {}).items() if v is not None)
        renderer_b, runtime_env_b, versions_b = _side(module, q, kpt, packages, env, version_text, parsed)

    result = result_b = None
    try:
        try:
            if renderer_b is None:
                result = renderer.run()
            else:
                result, result_b, _schedule = run_pair(renderer, renderer_b)
        except (KptError, OSError) as exc:
            module.fail_json(msg="kpt_render failed before rendering completed: %s" % exc)
        extra = {"mode": p["mode"], "runtime_env": runtime_env}
        pair_a = pair_b = None
        if renderer_b is not None:
            session = uuid.uuid4().hex[:12]
            pair_a = {"label": compare["label_a"], "side": "a", "session": session}
            pair_b = {"label": compare["label_b"], "side": "b", "session": session}
        records, total = renderer.records(result, versions, extra, pair=pair_a)
        summaries = package_summaries(renderer, result)
        compared = None
        if renderer_b is not None:
            records_b, total_b = renderer_b.records(
                result_b, versions_b, {"mode": p["mode"], "runtime_env": runtime_env_b}, pair=pair_b)
            records = records + records_b
            summaries_b = package_summaries(renderer_b, result_b)
            compared = {"session": pair_a["session"], "design": "interleaved", "order": PAIR_ORDER,
                        "label_a": compare["label_a"], "label_b": compare["label_b"],
                        "total_a": total, "total_b": total_b, "packages_b": summaries_b,
                        "concurrency_a": result["workers"], "concurrency_b": result_b["workers"],
                        "timeline": pair_timeline(result, result_b)}
        changed, diffs = False, []
        if p["mode"] == "apply":
            changed, diffs = apply_outputs(renderer.packages, summaries, result["outputs"],
                                           write=not module.check_mode, diff=module._diff)
    finally:
        for res in (result, result_b):
            if res is not None:
                shutil.rmtree(res["base"], ignore_errors=True)

    for summary in summaries:
        if summary.get("verify") == "mismatch":
            module.warn("render cache verify: the cached output of %s differs from a fresh render in %s; "
                        "the cache entry was replaced" % (summary["path"], ", ".join(summary["verify_mismatch"])))
    failing = [s for s in summaries if not s["ok"]]
    if compared is not None:
        failing += [s for s in compared["packages_b"] if not s["ok"]]
    median = total["stats"]["median"]
    msg = "rendered %d package(s), total median %s s over %d run(s)" % (
        len(packages), _fmt(median), p["runs"])
    if compared is not None:
        msg = ("rendered %d package(s) interleaved (%s), %s: total median %s s (%d at once), %s: %s s (%d at once), "
               "%d round(s)" % (len(packages), PAIR_ORDER, compared["label_a"], _fmt(median), compared["concurrency_a"],
                                compared["label_b"], _fmt(compared["total_b"]["stats"]["median"]),
                                compared["concurrency_b"], p["runs"]))
    if p["mode"] == "apply":
        msg += "; %d package(s) %schanged" % (
            sum(1 for s in summaries if s.get("changed")), "would be " if module.check_mode else "")
    if failing:
        msg += "; %d failed: %s" % (len(failing), "; ".join(
            "%s: %s" % (s["path"], (s.get("error") or "")[:500]) for s in failing))
    out = dict(changed=changed, failed=bool(failing) and p["fail_on_error"], records=records, total=total,
               packages=summaries, kpt_version=version_text, runtime_env=runtime_env, msg=msg)
    if compared is not None:
        out["compare"] = compared
    if module._diff and p["mode"] == "apply":
        out["diff"] = diffs
    module.exit_json(**out)


if __name__ == "__main__":
    main()
