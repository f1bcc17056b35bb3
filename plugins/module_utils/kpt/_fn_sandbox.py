# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kpt image functions without a container start: unpacked images run under bubblewrap.

The unpacked layout (written by ``image_precache`` with ``unpack: true``; spelled once, in
``_unpacked_layout``) is read only:

* ``<unpack_dir>/<algo>-<hex>/rootfs/`` the image's root filesystem, keyed by its manifest digest;
* ``<unpack_dir>/<algo>-<hex>/image.json`` written last (its presence marks a complete unpack):
  schema 1, digest, config_digest, references, entrypoint, cmd, env, workdir, user, unpacked_at;
* ``<unpack_dir>/refs.json``: fully resolved reference -> manifest digest (a digest reference is
  also looked up by its digest directly).

For each scratch copy of a package (never the operator's tree), every ``image:`` function whose
resolved image is unpacked becomes an ``exec:`` function running a generated wrapper script (one
per image, in the render's scratch directory). kpt 1.0.0-beta.56 splits an ``exec:`` value on
white space (the first word is the program: an absolute path, a path relative to kpt's current
directory, or a name on PATH), so the wrapper has an absolute path without white space and takes
no argument. It runs ``bwrap`` with: no network, user/PID/IPC/UTS (and cgroup) namespaces of its
own, uid/gid 65534 inside (kpt starts containers as ``nobody`` too; when kpt runs as root and the
image's root filesystem is reachable by 65534, ``setpriv`` makes it 65534 outside as well, else the
user namespace maps it to the caller), no capabilities, no new
privileges, no further user namespaces, a new session, death with kpt, a cleared environment
then the image's, the image's root filesystem read-only (each top-level entry bound on a
read-only root), a private tmpfs ``/tmp``, a fresh ``/proc`` and a minimal ``/dev``, the image's
workdir and ``entrypoint + cmd``. Nothing else of the host is visible.

kpt passes the ``functionConfig`` (``configMap``/``configPath``) in the ResourceList on stdin for
``exec:`` functions exactly as for containers; the Kptfile itself is an item of that list (with the
rewritten pipeline). After the render the rewritten entries of every Kptfile are put back, text for
text, so that the output (and what apply mode writes back) never names a wrapper.

Fallbacks to the container runtime, each with its reason: an image that is not unpacked (or not
completely), an entry with keys the sandbox does not provide (``network``, ``storageMounts``, ...;
kpt 1.0.0-beta.56 refuses those in a Kptfile anyway), an image with no entrypoint/cmd or a
workdir missing from its root filesystem, a reference kpt cannot resolve.

Size: near 500 lines, one job: turning image functions into bubblewrap wrappers and putting the
Kptfiles back; the layout it reads is _unpacked_layout's.
"""

from __future__ import annotations

import os
import shlex
import stat
import threading

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import (
    MAX_KPTFILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_VALUES, KptError, file_problem, kptfiles)
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import run_once
from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _unpacked_layout
from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, read_bytes, read_text
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import EVENT_LOADER, YamlBoundsError, check_yaml, yaml_problem

try:
    import yaml
    HAS_YAML = True
except ImportError:  # pragma: no cover - the sandbox needs PyYAML; the module says so
    HAS_YAML = False

DEFAULT_UNPACK_DIR = _unpacked_layout.DEFAULT_UNPACK_DIR
SCHEMA = _unpacked_layout.SCHEMA
SANDBOX_UID = 65534
SANDBOX_GID = 65534
WRAPPER_DIR = "fn-sandbox"
DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# keys of a Kptfile function entry that the sandbox honours; any other means "not for the sandbox"
KNOWN_KEYS = frozenset(["name", "image", "exec", "configPath", "configMap", "selectors", "exclude"])
# mounted by the sandbox itself, never taken from the image
OWN_MOUNTS = frozenset(["proc", "dev", "tmp"])
MAX_PASSWD_BYTES = 256 * 1024


class SandboxError(Exception):
    """Bad unpacked data or an impossible rewrite; the message names the file and field."""


def bwrap_version(bwrap, env=None):
    """``bubblewrap 0.8.0`` -> ``0.8.0``; None when it cannot be run."""
    res = run_once([bwrap, "--version"], env=env, timeout=30, capture_stdout=True)
    out = (res.get("stdout") or "").strip().split()
    return out[-1] if res["ok"] and out else None


def digest_dirname(digest):
    """``sha256:abc`` -> ``sha256-abc`` (``_unpacked_layout``); SandboxError for anything else."""
    try:
        return _unpacked_layout.digest_dirname(digest)
    except _unpacked_layout.LayoutError as exc:
        raise SandboxError(str(exc))


def _read_json(path):
    """The JSON document at ``path`` (a regular file, bounded in size and depth); SandboxError otherwise.

    A missing file is a FileReadError with reason ``missing`` (callers treat that as "not there").
    """
    try:
        return _unpacked_layout.read_json(path)
    except YamlBoundsError as exc:
        raise SandboxError(str(exc))


def _str_list(doc, key, path):
    value = doc.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SandboxError("%s: %s is not a list of strings" % (path, key))
    return list(value)


def load_image(unpack_dir, digest):
    """The unpacked image ``digest``: dict(digest, dir, rootfs, entrypoint, cmd, env, workdir, user).

    Returns (image or None, reason when None). Raises nothing for a missing image; a present but
    malformed ``image.json`` is a reason too (the function then runs in a container).
    """
    try:
        name = digest_dirname(digest)
    except SandboxError as exc:
        return None, str(exc)
    base = os.path.join(unpack_dir, name)
    meta = os.path.join(base, _unpacked_layout.IMAGE_JSON)
    rootfs = os.path.join(base, _unpacked_layout.ROOTFS)
    if not os.path.lexists(meta):
        return None, "not unpacked (no %s)" % meta
    if not os.path.isdir(rootfs) or os.path.islink(rootfs):
        return None, "unpacked image %s has no rootfs directory" % base
    try:
        doc = _read_json(meta)
        if not isinstance(doc, dict):
            raise SandboxError("%s is not a JSON object" % meta)
        if doc.get("schema") != SCHEMA:
            raise SandboxError("%s: schema %r, not %d" % (meta, doc.get("schema"), SCHEMA))
        if doc.get("digest") != digest:
            raise SandboxError("%s: digest %r, not %s" % (meta, doc.get("digest"), digest))
        env = _str_list(doc, "env", meta)
        for item in env:
            if "=" not in item or not item.split("=", 1)[0]:
                raise SandboxError("%s: env entry %r is not K=V" % (meta, item))
        image = {
            "digest": digest, "dir": base, "rootfs": rootfs,
            "entrypoint": _str_list(doc, "entrypoint", meta), "cmd": _str_list(doc, "cmd", meta),
            "env": env, "workdir": doc.get("workdir") or "/", "user": doc.get("user") or "",
            "references": _str_list(doc, "references", meta),
        }
        if not isinstance(image["workdir"], str) or not image["workdir"].startswith("/"):
            raise SandboxError("%s: workdir %r is not an absolute path" % (meta, image["workdir"]))
    except (OSError, SandboxError, FileReadError) as exc:
        return None, "unusable unpacked image: %s" % exc
    return image, None


class UnpackedImages(object):
    """Lookups in one unpack directory; ``refs.json`` is read once (it is replaced atomically)."""

    def __init__(self, unpack_dir):
        self.unpack_dir = os.path.abspath(os.path.expanduser(unpack_dir))
        self._refs = None
        self._refs_error = None
        self._lock = threading.Lock()

    def refs(self):
        with self._lock:
            if self._refs is None and self._refs_error is None:
                path = os.path.join(self.unpack_dir, _unpacked_layout.REFS_JSON)
                try:
                    doc = _read_json(path)
                    if not isinstance(doc, dict) or not all(
                            isinstance(k, str) and isinstance(v, str) for k, v in doc.items()):
                        raise SandboxError("%s is not an object of reference -> digest" % path)
                    self._refs = doc
                except FileReadError as exc:
                    self._refs = {}
                    if exc.reason != "missing":
                        self._refs_error = str(exc)
                except (OSError, SandboxError) as exc:
                    self._refs, self._refs_error = {}, str(exc)
            return self._refs

    def lookup(self, resolved):
        """(image dict or None, reason) for a fully resolved reference."""
        refs = self.refs()
        digest = refs.get(resolved)
        if digest is None and "@" in resolved:
            digest = resolved.split("@", 1)[1]
        if digest is None:
            why = "not unpacked (%s not in %s/refs.json)" % (resolved, self.unpack_dir)
            if self._refs_error:
                why += "; refs.json unusable: %s" % self._refs_error
            return None, why
        return load_image(self.unpack_dir, digest)


# --------------------------------------------------------------------------- the sandbox command

def _passwd_home(rootfs, uid):
    """Home directory of ``uid`` in the image's /etc/passwd (what podman gives as HOME), else ``/``."""
    path = os.path.join(rootfs, "etc", "passwd")
    try:
        text = read_bytes(path, MAX_PASSWD_BYTES, follow_links=False).decode("utf-8", "replace")
    except FileReadError:
        return "/"
    for line in text.splitlines():
        parts = line.split(":")
        if len(parts) >= 7 and parts[2] == str(uid) and parts[5].startswith("/"):
            return parts[5]
    return "/"


def _inside(rootfs, path):
    """Whether ``path`` (absolute, in the image) exists in ``rootfs`` without leaving it."""
    real_root = os.path.realpath(rootfs)
    current = real_root
    for part in [p for p in path.split("/") if p and p != "."]:
        if part == "..":
            return False
        candidate = os.path.join(current, part)
        if os.path.islink(candidate):
            target = os.readlink(candidate)
            candidate = os.path.join(real_root, target.lstrip("/")) if target.startswith("/") else \
                os.path.join(current, target)
            candidate = os.path.realpath(candidate)
            if candidate != real_root and not candidate.startswith(real_root + os.sep):
                return False
        if not os.path.exists(candidate):
            return False
        current = candidate
    return os.path.isdir(current)


def reachable_by_others(path):
    """Whether every directory from / down to ``path`` can be searched by any user (o+x)."""
    current = os.path.abspath(path)
    while True:
        try:
            if not os.stat(current).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        parent = os.path.dirname(current)
        if parent == current:
            return True
        current = parent


def drop_prefix(setpriv, rootfs):
    """``setpriv`` arguments that make bwrap itself run as 65534 (kpt as root, image reachable), else []."""
    if setpriv and os.geteuid() == 0 and reachable_by_others(rootfs):
        return [setpriv, "--reuid", str(SANDBOX_UID), "--regid", str(SANDBOX_GID), "--clear-groups", "--"]
    return []


def bwrap_argv(bwrap, image, setpriv=None):
    """The bwrap command that runs ``image`` (a ``load_image`` dict) as kpt runs a function container."""
    rootfs = image["rootfs"]
    argv = drop_prefix(setpriv, rootfs) + [
        bwrap,
        "--unshare-user", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_GID), "--disable-userns",
        "--unshare-pid", "--unshare-ipc", "--unshare-uts", "--unshare-net", "--unshare-cgroup-try",
        "--hostname", "kpt-fn", "--new-session", "--die-with-parent", "--cap-drop", "ALL",
        "--clearenv"]
    env = {}
    for item in image["env"]:
        key, value = item.split("=", 1)
        env[key] = value
    env.setdefault("PATH", DEFAULT_PATH)
    env.setdefault("HOME", _passwd_home(rootfs, SANDBOX_UID))
    for key in sorted(env):
        argv += ["--setenv", key, env[key]]
    for name in sorted(os.listdir(rootfs)):
        if name in OWN_MOUNTS:
            continue
        full = os.path.join(rootfs, name)
        mode = os.lstat(full).st_mode
        if stat.S_ISLNK(mode):
            argv += ["--symlink", os.readlink(full), "/" + name]
        elif stat.S_ISDIR(mode) or stat.S_ISREG(mode):
            argv += ["--ro-bind", full, "/" + name]
    argv += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--remount-ro", "/",
             "--chdir", image["workdir"], "--"]
    return argv + image["entrypoint"] + image["cmd"]


def wrapper_text(argv, image, resolved):
    """A POSIX shell script that execs ``argv`` (each word quoted)."""
    return ("#!/bin/sh\n# o2edge.perf kpt_render: %s (%s) in a bubblewrap sandbox, no container\n"
            "exec %s\n" % (resolved.replace("\n", " "), image["digest"], " ".join(shlex.quote(a) for a in argv)))


def _write_atomic(path, text, mode):
    atomic_write(path, text.encode("utf-8", "surrogateescape"), mode)


# --------------------------------------------------------------------------- Kptfile rewrite

def _compose(text, path):
    """The composed YAML of a Kptfile, its bounds checked on the event stream first (a deeply nested
    Kptfile would crash libyaml's recursive composer)."""
    try:
        check_yaml(text, max_depth=MAX_YAML_DEPTH, max_values=MAX_YAML_VALUES)
        node = yaml.compose(text, Loader=EVENT_LOADER)
    except YamlBoundsError as exc:
        raise KptError("invalid Kptfile %s: %s" % (path, exc))
    except yaml.YAMLError as exc:
        raise KptError("invalid Kptfile %s: %s" % (path, yaml_problem(exc)))
    return node


def _map_get(node, key):
    """(key node, value node) of ``key`` in a MappingNode, else (None, None)."""
    if isinstance(node, yaml.MappingNode):
        for knode, vnode in node.value:
            if isinstance(knode, yaml.ScalarNode) and knode.value == key:
                return knode, vnode
    return None, None


def pipeline_entries(text, path):
    """[(stage, index, entry MappingNode)] of one Kptfile's text, from its composed YAML."""
    root = _compose(text, path)
    out = []
    _k, pipeline = _map_get(root, "pipeline")
    for stage in ("mutators", "validators"):
        _k, seq = _map_get(pipeline, stage)
        if isinstance(seq, yaml.SequenceNode):
            for index, entry in enumerate(seq.value):
                if isinstance(entry, yaml.MappingNode):
                    out.append((stage, index, entry))
    return out


def _span_replace(text, spans):
    """Replace (start, end, new) character spans of ``text``, last first."""
    for start, end, new in sorted(spans, key=lambda s: s[0], reverse=True):
        text = text[:start] + new + text[end:]
    return text


class Plan(object):
    """What the sandbox did to one scratch copy: paths of each function and the rewrites to undo."""

    def __init__(self):
        self.paths = []
        self.rewrites = {}  # kptfile rel -> {wrapper path: original "image: ..." text}
        self.wrappers = {}  # wrapper path -> resolved reference

    @property
    def sandboxed(self):
        return sum(1 for p in self.paths if p["path"] == "sandbox")


class Sandbox(object):
    """Decides and applies the sandbox path for the functions of scratch copies."""

    def __init__(self, bwrap, unpack_dir, resolve, wrapper_dir, setpriv=None):
        """``resolve(ref)`` -> the fully resolved reference kpt pulls (raises ValueError)."""
        self.bwrap = bwrap
        self.setpriv = setpriv
        self.images = UnpackedImages(unpack_dir)
        self.resolve = resolve
        self.wrapper_dir = wrapper_dir
        self._lock = threading.Lock()
        self._decided = {}

    def decide(self, ref):
        """(wrapper path or None, resolved, digest, reason) for an image reference; memoized."""
        with self._lock:
            if ref in self._decided:
                return self._decided[ref]
        decision = self._decide(ref)
        with self._lock:
            self._decided.setdefault(ref, decision)
            return self._decided[ref]

    def identity(self, ref):
        """The unpacked image's digest for the render cache key, or None when it runs in a container."""
        wrapper, _resolved, digest, _why = self.decide(ref)
        return digest if wrapper else None

    def _decide(self, ref):
        try:
            resolved = self.resolve(ref)
        except ValueError as exc:
            return None, None, None, "reference not resolved: %s" % exc
        if not resolved:
            return None, None, None, "reference not resolved (kpt version unknown)"
        image, why = self.images.lookup(resolved)
        if image is None:
            return None, resolved, None, why
        if not (image["entrypoint"] or image["cmd"]):
            return None, resolved, image["digest"], "the image has no entrypoint or cmd"
        if not _inside(image["rootfs"], image["workdir"]):
            return None, resolved, image["digest"], "workdir %s is not a directory of the image" % image["workdir"]
        try:
            argv = bwrap_argv(self.bwrap, image, self.setpriv)
            name = digest_dirname(image["digest"]) + ".sh"
            wrapper = os.path.join(self.wrapper_dir, name)
            if any(c.isspace() for c in wrapper):
                return None, resolved, image["digest"], (
                    "the scratch path %s holds white space, which kpt's exec splits on" % self.wrapper_dir)
            os.makedirs(self.wrapper_dir, mode=0o700, exist_ok=True)
            _write_atomic(wrapper, wrapper_text(argv, image, resolved), 0o700)
        except OSError as exc:
            return None, resolved, image["digest"], "cannot prepare the sandbox: %s" % exc
        outside = "65534" if argv[0] == self.setpriv else "the caller's uid"
        return wrapper, resolved, image["digest"], "unpacked in %s (uid 65534 inside, %s outside)" % (
            image["dir"], outside)

    def prepare(self, work, label):
        """Rewrite the Kptfiles of the scratch copy ``work``; returns a Plan. Raises KptError."""
        plan = Plan()
        writes = []
        for path in kptfiles(work):
            rel = os.path.relpath(path, work)
            try:
                text = read_text(path, MAX_KPTFILE_BYTES, what="")
            except FileReadError as exc:
                raise KptError("invalid Kptfile %s: %s" % (os.path.join(label, rel), file_problem(exc, path)))
            spans = []
            undo = {}
            for stage, index, entry in pipeline_entries(text, os.path.join(label, rel)):
                kimage, vimage = _map_get(entry, "image")
                kexec, vexec = _map_get(entry, "exec")
                record = {"package": label, "kptfile": rel, "field": "pipeline.%s[%d]" % (stage, index),
                          "stage": stage[:-1], "index": index, "image": None, "resolved": None, "digest": None,
                          "path": "container", "reason": ""}
                if vimage is None or not isinstance(vimage, yaml.ScalarNode):
                    record.update(path="exec", image=None,
                                  reason="exec function %s, run as written" % (
                                      vexec.value if isinstance(vexec, yaml.ScalarNode) else "?"))
                    plan.paths.append(record)
                    continue
                record["image"] = vimage.value
                extra = sorted(str(k.value) for k, _v in entry.value
                               if isinstance(k, yaml.ScalarNode) and k.value not in KNOWN_KEYS)
                wrapper, resolved, digest, why = self.decide(vimage.value)
                record.update(resolved=resolved, digest=digest)
                if extra:
                    record["reason"] = "declares %s, which the sandbox does not give" % ", ".join(extra)
                elif kexec is not None:
                    record["reason"] = "both image and exec"
                elif wrapper is None:
                    record["reason"] = why
                else:
                    start, end = kimage.start_mark.index, vimage.end_mark.index
                    spans.append((start, end, "exec: %s" % wrapper))
                    undo[wrapper] = text[start:end]
                    plan.wrappers[wrapper] = resolved
                    record.update(path="sandbox", reason=why)
                plan.paths.append(record)
            if spans:
                writes.append((path, _span_replace(text, spans), text))
                plan.rewrites[rel] = undo
        done = []
        try:
            for path, new, old in writes:
                _write_atomic(path, new, os.stat(path).st_mode & 0o777)
                done.append((path, old))
        except OSError:
            for path, old in done:
                _write_atomic(path, old, os.stat(path).st_mode & 0o777)
            raise
        return plan

    def restore(self, work, plan):
        """Put back the original ``image:`` entries in the rendered Kptfiles of ``work``.

        Raises SandboxError, before anything is written, when any rendered Kptfile of the tree (not
        only the rewritten ones) still names a wrapper afterwards (the output must then not be used).
        """
        texts = {}
        for path in kptfiles(work):
            rel = os.path.relpath(path, work)
            try:
                texts[rel] = read_text(path, MAX_KPTFILE_BYTES, what="")
            except FileReadError as exc:
                raise SandboxError("the rendered %s %s; output not used" % (rel, file_problem(exc, path)))
        writes = []
        for rel, undo in sorted(plan.rewrites.items()):
            if rel not in texts:
                raise SandboxError("the rendered output has no %s; output not used" % rel)
            spans = []
            for stage, index, entry in pipeline_entries(texts[rel], rel):
                kexec, vexec = _map_get(entry, "exec")
                if isinstance(vexec, yaml.ScalarNode) and vexec.value in undo:
                    spans.append((kexec.start_mark.index, vexec.end_mark.index, undo[vexec.value]))
            texts[rel] = _span_replace(texts[rel], spans)
            writes.append(rel)
        for rel in sorted(texts):
            left = [w for w in sorted(plan.wrappers) if w in texts[rel]]
            if left:
                raise SandboxError("the rendered %s still names the sandbox wrapper %s; output not used"
                                   % (rel, left[0]))
        for rel in writes:
            path = os.path.join(work, rel)
            _write_atomic(path, texts[rel], os.stat(path).st_mode & 0o777)
