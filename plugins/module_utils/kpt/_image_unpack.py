# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unpacked function images (the layout a sandbox runs functions from without a container runtime).

::

    <unpack_dir>/sha256-<hex>/rootfs/       the image's root filesystem (umoci raw unpack)
    <unpack_dir>/sha256-<hex>/image.json    written last, atomically: its presence marks a complete unpack
        {"schema": 1, "digest": "sha256:...", "config_digest": "sha256:...", "references": [...],
         "entrypoint": [...], "cmd": [...], "env": ["K=V"], "workdir": "/", "user": "65534:65534",
         "unpacked_at": "<UTC ISO>"}
    <unpack_dir>/refs.json                  {"<resolved reference>": "sha256:..."}, rewritten atomically
                                            under an fcntl lock on <unpack_dir>/refs.lock

The folder is keyed by the image's manifest digest in the registry's terms (for a list, the
instance of this platform), so a reference pinned by digest is looked up directly. An unpack
happens in a private temporary folder inside ``unpack_dir`` and is renamed into place; a
digest already unpacked (a valid image.json) is never unpacked again. As root the unpack keeps
the image's owners and modes (``umoci raw unpack``), so files the image gives to ``nobody``
(65534) stay readable by it; otherwise ``--rootless`` is used. Folders made here are 0755.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading

from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _unpacked_layout
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_errors import StoreError, _last_line, classify, error_text
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_input import REF_NAME, SOURCE_MANIFEST, _DIGEST_RE, _repo_name, remote_digests
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_tools import flocked
from ansible_collections.o2edge.perf.plugins.module_utils._record import utc_now


def key(digest):
    """``sha256:abc`` -> ``sha256-abc`` (StoreError for anything but sha256:<64 hex>)."""
    if not _DIGEST_RE.match(str(digest)):
        raise StoreError("digest %r is not sha256:<64 hex>" % (digest,))
    return _unpacked_layout.digest_dirname(digest)


def read_image_json(unpack_dir, digest):
    """The image.json of ``digest`` when it marks a complete unpack of that digest, else None."""
    path = os.path.join(unpack_dir, key(digest), _unpacked_layout.IMAGE_JSON)
    try:
        doc = _unpacked_layout.read_json(path)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("schema") != _unpacked_layout.SCHEMA or doc.get("digest") != digest:
        return None
    if not os.path.isdir(os.path.join(unpack_dir, key(digest), _unpacked_layout.ROOTFS)):
        return None
    return doc


def image_doc(digest, config_digest, config, references):
    """The image.json document from an image config (as in the OCI image spec)."""
    conf = (config or {}).get("config") or {}
    return {"schema": _unpacked_layout.SCHEMA, "digest": digest, "config_digest": config_digest, "references": sorted(set(references)),
            "entrypoint": list(conf.get("Entrypoint") or []), "cmd": list(conf.get("Cmd") or []),
            "env": list(conf.get("Env") or []), "workdir": conf.get("WorkingDir") or "/",
            "user": conf.get("User") or "", "unpacked_at": utc_now()}


def update_refs(unpack_dir, mapping):
    """Merge ``{reference: digest}`` into refs.json under the lock; True when the file changed."""
    if not mapping:
        return False
    with flocked(os.path.join(unpack_dir, _unpacked_layout.REFS_LOCK)):
        path = os.path.join(unpack_dir, _unpacked_layout.REFS_JSON)
        try:
            refs = _unpacked_layout.read_json(path, _unpacked_layout.MAX_REFS_BYTES)
        except FileNotFoundError:
            refs = {}
        except (OSError, ValueError):
            refs = {}  # an unreadable refs.json is replaced whole (it is derived data)
        if not isinstance(refs, dict):
            refs = {}
        new = dict(refs)
        new.update(mapping)
        if new == refs and os.path.exists(path):
            return False
        atomic_write(path, json.dumps(new, indent=2, sort_keys=True).encode("utf-8") + b"\n")
        return True


def refs_differ(unpack_dir, mapping):
    try:
        refs = _unpacked_layout.read_json(os.path.join(unpack_dir, _unpacked_layout.REFS_JSON), _unpacked_layout.MAX_REFS_BYTES)
    except (OSError, ValueError):
        return bool(mapping)
    return any(refs.get(ref) != digest for ref, digest in mapping.items()) if isinstance(refs, dict) else True


class Unpacker(object):
    """Called per image after its pull decision (in the worker threads); ``finish`` writes refs.json."""

    def __init__(self, unpack_dir, store, tools, retry):
        self.dir = os.path.abspath(unpack_dir)
        self.store = store
        self.tools = tools
        self.retry = retry
        self.changed = False
        self.mapping = {}
        self._lock = threading.Lock()
        self.rootless = os.geteuid() != 0

    def check(self):
        if os.path.exists(self.dir) and not os.path.isdir(self.dir):
            raise StoreError("unpack_dir %s exists and is not a directory" % self.dir)
        if ":" in self.dir:
            raise StoreError("unpack_dir %s holds a ':' which umoci and skopeo cannot take" % self.dir)

    def _mark(self, reference, digest):
        with self._lock:
            self.mapping[reference] = digest

    def __call__(self, image, result, state, remote, check_mode):
        if result["action"] not in ("pulled", "present", "would_pull"):
            return
        try:
            self._one(image, result, state, remote, check_mode)
        except (OSError, ValueError, StoreError) as exc:
            result["action"] = "failed"
            result["reason"] = "%s: unpack failed: %s" % (image["reference"], exc)

    def _instance(self, image, state, remote, result):
        """The registry manifest digest to unpack and, for the oci store, the local descriptor."""
        if self.store.name == "oci":
            desc = self.store.descriptor(image["reference"])
            if desc is None:
                raise StoreError("the image is not in %s" % self.store.dir)
            return (desc.get("annotations") or {}).get(SOURCE_MANIFEST) or desc["digest"], desc
        if result["action"] == "present":
            # what the store held before is still what it holds: an unpack of one of its digests will do
            for digest in sorted(state.get("digests") or ()):
                if _DIGEST_RE.match(digest) and read_image_json(self.dir, digest) is not None:
                    return digest, None
        if remote is None:
            res, attempts, cause = self.retry(lambda: self.tools.skopeo_inspect(image))
            result["attempts"] += attempts
            if not res["ok"]:
                raise StoreError("cannot read the registry's manifest: %s (%s)" % (cause, _last_line(error_text(res))))
            top, instance, _media = remote_digests(res["raw"])
            remote = {"digest": top, "instance": instance}
        return remote["instance"], None

    def _one(self, image, result, state, remote, check_mode):
        if check_mode and result["action"] == "would_pull":
            if remote is not None and read_image_json(self.dir, remote["instance"]) is not None:
                result["unpacked"] = os.path.join(self.dir, key(remote["instance"]))
                result["would_unpack"] = refs_differ(self.dir, {image["reference"]: remote["instance"]})
            else:
                result["would_unpack"] = True
            return
        digest, desc = self._instance(image, state, remote, result)
        target = os.path.join(self.dir, key(digest))
        doc = read_image_json(self.dir, digest)
        if check_mode:
            if doc is None:
                result["would_unpack"] = True
            else:
                result["unpacked"] = target
                result["would_unpack"] = (image["reference"] not in doc.get("references", [])
                                          or refs_differ(self.dir, {image["reference"]: digest}))
            return
        self._makedirs()
        with flocked(os.path.join(self.dir, _unpacked_layout.LOCKS, key(digest) + ".lock")):
            doc = read_image_json(self.dir, digest)
            if doc is None:
                self._unpack(image, digest, desc, target, result)
            elif image["reference"] not in doc.get("references", []):
                doc["references"] = sorted(set(doc.get("references", [])) | {image["reference"]})
                atomic_write(os.path.join(target, _unpacked_layout.IMAGE_JSON), json.dumps(doc, indent=2).encode("utf-8") + b"\n")
                with self._lock:
                    self.changed = True
        result["unpacked"] = target
        self._mark(image["reference"], digest)

    def _makedirs(self):
        for folder in (self.dir, os.path.join(self.dir, _unpacked_layout.LOCKS)):
            if not os.path.isdir(folder):
                os.makedirs(folder, exist_ok=True)
                os.chmod(folder, 0o755)

    def _layout(self, image, digest, desc, work, result):
        """A private OCI layout tagged ``unpack`` holding the image: (layout path, blobs folder)."""
        layout = os.path.join(work, "layout")
        if desc is not None:
            os.makedirs(layout)
            with open(os.path.join(layout, "oci-layout"), "w") as handle:
                json.dump({"imageLayoutVersion": "1.0.0"}, handle)
            entry = dict(desc)
            entry["annotations"] = {REF_NAME: "unpack"}
            with open(os.path.join(layout, "index.json"), "w") as handle:
                json.dump({"schemaVersion": 2, "manifests": [entry]}, handle)
            os.symlink(self.store.blobs, os.path.join(layout, "blobs"))
            return layout, self.store.blobs
        argv = [self.tools.which("skopeo") or "skopeo", "copy", "-q", "--retry-times", "0",
                "--src-tls-verify=" + self.tools.tls_verify(image["registry"])]
        if self.tools.authfile:
            argv += ["--src-authfile", self.tools.authfile]
        argv += ["docker://%s@%s" % (_repo_name(image), digest), "oci:%s:unpack" % layout]
        res, attempts, cause = self.retry(lambda: self._copy(argv, layout))
        result["attempts"] += attempts
        if not res["ok"]:
            raise StoreError("copy from the registry failed: %s (%s)" % (cause, _last_line(error_text(res))))
        return layout, os.path.join(layout, "blobs")

    def _copy(self, argv, layout):
        shutil.rmtree(layout, ignore_errors=True)
        return self.tools.run(argv)

    def _unpack(self, image, digest, desc, target, result):
        work = tempfile.mkdtemp(prefix=".unpack-", dir=self.dir)
        try:
            layout, blobs = self._layout(image, digest, desc, work, result)
            index = _unpacked_layout.read_json(os.path.join(layout, "index.json"))
            manifest_digest = index["manifests"][0]["digest"]
            manifest = _unpacked_layout.read_json(os.path.join(blobs, *manifest_digest.split(":", 1)))
            config_digest = manifest["config"]["digest"]
            config = _unpacked_layout.read_json(os.path.join(blobs, *config_digest.split(":", 1)))
            entry = os.path.join(work, "entry")
            os.mkdir(entry)
            argv = [self.tools.which("umoci") or "umoci", "raw", "unpack"]
            if self.rootless:
                argv.append("--rootless")
            argv += ["--image", layout + ":unpack", os.path.join(entry, _unpacked_layout.ROOTFS)]
            res = self.tools.run(argv)
            if not res["ok"]:
                raise StoreError("umoci raw unpack failed: %s (%s)" % (classify(error_text(res))[0],
                                                                       _last_line(error_text(res))))
            os.chmod(entry, 0o755)
            if os.path.lexists(target):
                os.rename(target, os.path.join(work, "incomplete"))  # a leftover without a valid image.json
            os.rename(entry, target)
            doc = image_doc(digest, config_digest, config, [image["reference"]])
            atomic_write(os.path.join(target, _unpacked_layout.IMAGE_JSON), json.dumps(doc, indent=2).encode("utf-8") + b"\n")
            with self._lock:
                self.changed = True
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def finish(self):
        """Write refs.json for every unpacked image (once, under the lock)."""
        if update_refs(self.dir, self.mapping):
            self.changed = True
