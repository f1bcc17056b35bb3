# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kpt packages and their Kptfiles: discovery, pipeline functions, kpt version and runtime variable.

Facts this code relies on (checked against kpt 1.0.0-beta.56):

* A package is a directory with a ``Kptfile``; ``kpt fn render PKG`` renders PKG and its
  subpackages (nested directories with their own Kptfile) in place.
* A Kptfile's ``pipeline.mutators`` and ``pipeline.validators`` list functions, each with
  ``image:`` or ``exec:``. A relative ``exec:`` path resolves against kpt's *current
  directory*, not the package; a bare name is looked up on PATH.
* The function runtime is chosen with ``KPT_FN_RUNTIME`` up to 1.0.0-beta.58 and
  ``KRM_FN_RUNTIME`` from 1.0.0-beta.59 on (docker, podman or nerdctl; kpt's default is docker).
* A function image with no ``/`` at all (``set-namespace:v0.4.1``) is a short name: kpt prefixes
  it with ``gcr.io/kpt-fn/`` before 1.0.0-beta.59 and ``ghcr.io/kptdev/krm-functions-catalog/``
  from 1.0.0-beta.59 on (the functions catalog moved with the runtime variable's rename).
"""

from __future__ import annotations

import os
import re
import shutil

from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import run_once
from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, read_text
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import HAS_YAML, YamlBoundsError, load_yaml

KPTFILE = "Kptfile"
# A Kptfile bigger than this, or YAML nested deeper / holding more values (aliases expanded), is refused
# before it is parsed: a Kptfile nested 200,000 deep would otherwise crash libyaml's composer.
MAX_KPTFILE_BYTES = 1024 * 1024
MAX_YAML_DEPTH = 32
MAX_YAML_VALUES = 100000
KRM_SWITCH = (1, 0, 0, 1, 59)  # 1.0.0-beta.59: KRM_FN_RUNTIME replaces KPT_FN_RUNTIME
OLD_FN_PREFIX = "gcr.io/kpt-fn/"  # short function names up to 1.0.0-beta.58
NEW_FN_PREFIX = "ghcr.io/kptdev/krm-functions-catalog/"  # from 1.0.0-beta.59 (KRM_SWITCH) on
DEFAULT_RUNTIME = "docker"
_PRE_RANK = {"alpha": 0, "beta": 1, "rc": 2}
INSTALL_HINT = ("install kpt from https://kpt.dev/installation/kpt-cli (download the kpt_linux_amd64 "
                "release binary from https://github.com/kptdev/kpt/releases, put it at "
                "/usr/local/bin/kpt and chmod +x it) or set kpt_path")


class KptError(Exception):
    """Bad input or environment: the message names the field and value."""


def file_problem(exc, path):
    """A FileReadError's message without its leading ``path``, for callers that name the file their own way."""
    text = str(exc)
    return text[len(path) + 1:] if text.startswith(path + " ") else text


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


def short_name_prefix(version):
    """The prefix kpt ``version`` gives a short function image name (no ``/``); None if unknown."""
    if version is None:
        return None
    return NEW_FN_PREFIX if version >= KRM_SWITCH else OLD_FN_PREFIX


def function_runtime(runtime, env):
    """The runtime kpt will use: ``runtime`` if given, else the environment's choice, else docker."""
    return runtime or env.get("KRM_FN_RUNTIME") or env.get("KPT_FN_RUNTIME") or DEFAULT_RUNTIME


def kpt_version(kpt, env=None):
    """(``kpt version`` output, None), or (None, the error)."""
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


def kptfiles(pkg, limit=None):
    """Every Kptfile of the package tree (the package's and its subpackages'), sorted.

    With ``limit``, raises KptError as soon as more than ``limit`` Kptfiles are found (the walk
    stops there, so a huge tree is not walked to its end).
    """
    result = []
    for dirpath, dirnames, files in os.walk(pkg):
        dirnames[:] = sorted(d for d in dirnames if d != ".git")
        if KPTFILE in files:
            result.append(os.path.join(dirpath, KPTFILE))
            if limit is not None and len(result) > limit:
                raise KptError("%s holds more than %d Kptfiles" % (pkg, limit))
    return sorted(result)


_FN_LINE = re.compile(r"^\s*(?:-\s*)?(image|exec)\s*:\s*(.+?)\s*$")


def parse_kptfile(text, path=KPTFILE):
    """The pipeline functions of one Kptfile: list of dicts with stage and the entry itself.

    Raises KptError naming the path when the YAML cannot be read or crosses the bounds
    (MAX_YAML_DEPTH, MAX_YAML_VALUES, one document, no repeated key). Without PyYAML on the
    target a line-based reader finds ``image:``/``exec:`` entries (enough for the cache key,
    since the whole Kptfile's bytes are hashed anyway).
    """
    if HAS_YAML:
        try:
            doc = load_yaml(text, max_depth=MAX_YAML_DEPTH, max_values=MAX_YAML_VALUES)
        except YamlBoundsError as exc:
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
        try:
            text = read_text(path, MAX_KPTFILE_BYTES, what="Kptfile")
        except FileReadError as exc:
            raise KptError("invalid %s" % exc)
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
