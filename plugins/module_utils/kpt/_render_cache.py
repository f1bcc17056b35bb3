# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The kpt render cache: what a render depends on, its key, and the stored outputs.

The key is a sha256 over, each field length-prefixed (``<len>:<bytes>``, so no two different
inputs encode alike): the cache format version, the kpt version, the render flags, every
entry of the package tree (relative path, type, executable bits, bytes; a renamed file is a
different key) and each pipeline function's identity: its Kptfile entry (image/exec and
config) plus, for ``image:``, the local image ID from ``<runtime> image inspect`` (a content
digest; podman also gives the manifest digest) and, for ``exec:``, the sha256 of the
executable. A function whose identity cannot be obtained (image not present yet, executable
missing) makes the package uncacheable for that lookup; the key is computed again after the
render, once images are pulled.

Outputs are stored as ``<cache_dir>/<key[:2]>/<key>/tree`` (plus ``meta.json``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import KptError, package_functions, resolve_exec
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import run_once
from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, check_regular, read_bytes

CACHE_FORMAT = "o2edge-kpt-render-cache/2"
# One file of a package tree (or of a cached output) is read whole to be digested: bounded.
MAX_TREE_FILE_BYTES = 256 * 1024 * 1024


def _field(data):
    """One length-prefixed field of a digest input."""
    if not isinstance(data, bytes):
        data = str(data).encode("utf-8", "surrogateescape")
    return b"%d:%s" % (len(data), data)


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
            # only found images are memoized: a missing one is looked up again after the render
            with self._lock:
                self._known[image] = ident
        return ident


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
    KptError naming the file for anything else (a FIFO, a socket, a device: never opened) and for a
    file over MAX_TREE_FILE_BYTES.
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
            try:
                payload = read_bytes(full, MAX_TREE_FILE_BYTES, what="package file", follow_links=False)
            except FileReadError as exc:
                raise KptError(str(exc))
            entries.append((rel, "f", os.lstat(full).st_mode & 0o111, payload))
    entries.sort(key=lambda e: e[0])
    return entries


def tree_digest(root):
    """sha256 of every entry of the tree: path, kind, executable bits and bytes, each length-prefixed."""
    digest = hashlib.sha256()
    for rel, kind, mode, payload in tree_entries(root):
        digest.update(_field(rel) + _field(kind) + _field("%o" % mode) + _field(payload))
    return digest.hexdigest()


def render_input(pkg):
    """What a render of ``pkg`` reads from the tree: (tree digest, pipeline functions).

    Taken before the render (which rewrites the tree); raises KptError for an unreadable Kptfile.
    """
    return tree_digest(pkg), package_functions(pkg)


def cache_key(rinput, cwd, resolver, kpt_ver, flags):
    """The render cache key for a ``render_input``, or None when a function's identity is unknown."""
    digest_value, functions = rinput
    digest = hashlib.sha256()
    digest.update(_field(CACHE_FORMAT) + _field(kpt_ver) + _field(json.dumps(flags, sort_keys=True)))
    digest.update(_field(digest_value))
    for rel, fn in functions:
        ident = function_identity(fn, cwd, resolver)
        if ident is None:
            return None
        digest.update(_field(rel) + _field(fn["stage"]) + _field(ident))
    return digest.hexdigest()


def _copy_regular(src, dst):
    """shutil.copytree's copy of one file: a regular file only (a FIFO or a device would block or never end)."""
    try:
        check_regular(src, "package file", follow_links=False)
    except FileReadError as exc:
        raise OSError(str(exc))
    return shutil.copy2(src, dst)


def copy_tree(src, dst):
    """Copy a package tree (symlinks as symlinks); OSError naming a file that is not a regular file."""
    shutil.copytree(src, dst, symlinks=True, copy_function=_copy_regular)


class RenderCache(object):
    """Rendered outputs stored as ``<cache_dir>/<key[:2]>/<key>/tree``."""

    def __init__(self, cache_dir):
        self.cache_dir = cache_dir

    def path(self, key):
        return os.path.join(self.cache_dir, key[:2], key)

    def tree(self, key):
        return os.path.join(self.path(key), "tree")

    def has(self, key):
        return os.path.isdir(self.tree(key))

    def restore(self, key, dest):
        """Replace ``dest`` by the cached output; True on success."""
        src = self.tree(key)
        if not os.path.isdir(src):
            return False
        if os.path.lexists(dest):
            shutil.rmtree(dest)
        copy_tree(src, dest)
        return True

    def store(self, key, src, meta=None):
        """Store ``src`` under ``key`` atomically (a concurrent identical store is fine)."""
        final = self.path(key)
        parent = os.path.dirname(final)
        os.makedirs(parent, mode=0o700, exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
        try:
            copy_tree(src, os.path.join(tmp, "tree"))
            with open(os.path.join(tmp, "meta.json"), "w") as handle:
                json.dump(meta or {}, handle, sort_keys=True)
            if os.path.isdir(final):
                shutil.rmtree(final)
            os.rename(tmp, final)
            tmp = None
        finally:
            if tmp is not None:
                shutil.rmtree(tmp, ignore_errors=True)
