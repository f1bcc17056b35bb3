# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Rendered output against the package: tree snapshots, semantic changes, diffs, write-back.

Write-back replaces one file at a time atomically (``_atomic``: a temporary ``.NAME.o2edge-tmp``
beside it, then a rename); a failed replace leaves the original file as it was and no temporary
file behind.
"""

from __future__ import annotations

import os
import shutil
import stat

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import KPTFILE
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._render_cache import tree_entries

from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_symlink, atomic_write
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import HAS_YAML, YamlBoundsError, load_yaml

MAX_DIFF_BYTES = 65536
# Bounds for comparing rendered YAML as data (past them the files are compared byte for byte): a
# rendered file nested 200,000 deep would crash libyaml's composer, an alias bomb would never end.
MAX_COMPARE_DEPTH = 100
MAX_COMPARE_VALUES = 1000000
MAX_COMPARE_DOCUMENTS = 10000
TMP_SUFFIX = ".o2edge-tmp"


def snapshot(root):
    return dict((rel, (kind, mode, payload)) for rel, kind, mode, payload in tree_entries(root))


def changed_paths(before, after):
    """Sorted relpaths that differ between two snapshots (added, removed or modified)."""
    return sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))


def _yaml_docs(payload):
    return load_yaml(payload, max_depth=MAX_COMPARE_DEPTH, max_values=MAX_COMPARE_VALUES,
                     max_documents=MAX_COMPARE_DOCUMENTS, unique_keys=False, all_documents=True)


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
            except YamlBoundsError:
                pass  # not comparable as data: the byte difference counts
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


def _remove(path):
    if os.path.islink(path) or os.path.isfile(path):
        os.unlink(path)
    elif os.path.isdir(path):
        shutil.rmtree(path)


def _replace_file(src, rel, new, target):
    """Put ``new`` (a file of ``src``, its bytes as snapshotted, or a symlink) at ``target`` atomically
    (``_atomic``, with the fixed temporary name ``.NAME`` + TMP_SUFFIX, so a leftover of an interrupted
    run is removed by the next write); no temporary file survives."""
    tmp_name = ".%s%s" % (os.path.basename(target), TMP_SUFFIX)
    if os.path.isdir(target) and not os.path.islink(target):
        shutil.rmtree(target)
    if new[0] == "l":
        atomic_symlink(target, new[2].decode("utf-8", "surrogateescape"), tmp_name)
    else:  # with the file's permission bits, as a copy of it would have them
        atomic_write(target, new[2], stat.S_IMODE(os.stat(os.path.join(src, rel)).st_mode), tmp_name=tmp_name)


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
            # a link is replaced, never followed: a symlink to a directory is a directory to isdir and to
            # makedirs, and the files would be written through it, wherever it points
            if os.path.lexists(target) and (os.path.islink(target) or not os.path.isdir(target)):
                os.unlink(target)
            os.makedirs(target, exist_ok=True)
    for rel in paths:
        new = after.get(rel)
        if new and new[0] != "d":
            _replace_file(src, rel, new, os.path.join(dst, rel))
    for rel in sorted((p for p in paths if p not in after), reverse=True):
        _remove(os.path.join(dst, rel))
    return paths


def apply_outputs(packages, summaries, outputs, write=True, diff=False):
    """Write each package's rendered output back where it differs semantically.

    Sets ``changed`` and ``changed_files`` of every summary; skips packages with a failed
    render. A failed write-back marks the package failed (``ok`` false, ``error`` naming it)
    and the others still go on. Returns (changed, diff entries when ``diff``).
    """
    changed = False
    diffs = []
    for pkg, summary, output in zip(packages, summaries, outputs):
        summary["changed"] = False
        summary["changed_files"] = []
        if not summary["ok"] or output is None:
            continue
        before, after = snapshot(pkg.path), snapshot(output)
        files = semantic_changes(before, after)
        if not files:
            continue
        summary["changed"] = True
        summary["changed_files"] = files
        changed = True
        if diff:
            diffs.extend(diff_entries(pkg.label, before, after, files))
        if write:
            try:
                sync_tree(output, pkg.path, files)
            except OSError as exc:
                summary["ok"] = False
                summary["error"] = "writing the rendered output back to %s failed: %s" % (pkg.path, exc)
    return changed, diffs
