# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The image stores: CliStore (podman, docker, nerdctl, crictl pull themselves) and OciStore
(skopeo copy into one OCI image layout), digest-aware.

Stores: ``podman``, ``docker``, ``nerdctl``, ``crictl`` (their own CLIs pull) and ``oci``
(``skopeo copy`` into one OCI image layout holding many images, each tagged by its full
reference in ``index.json``).

Digests. The registry's digest of a reference is the sha256 of the raw manifest that
``skopeo inspect --raw`` returns (no config blob fetched). When that manifest is a list/index,
the instance for this machine's platform is the one pulled, and an image is up to date when
the local store knows the list digest or that instance digest (podman's ``RepoDigests`` hold
both after a pull). The oci store records, on the image's ``index.json`` descriptor, the registry
digests it copied (``io.o2edge.perf.source.digest``: the tag's digest, and
``io.o2edge.perf.source.manifest``: the instance manifest), since a Docker schema 2 manifest is
converted to OCI on its way into a layout and then has another digest.

Nothing half-written. An oci pull copies ``registry/repo@<instance digest>`` (exactly what was
inspected) into a private temporary layout whose blobs go to the store's blob folder
(``--dest-shared-blob-dir``: skopeo checks each blob's digest while writing it and renames it in
place, so a blob is whole or absent); then, under an fcntl lock on the layout, the manifest, its
config and layers are checked present and ``index.json`` is rewritten atomically with the new
descriptor. A failed pull leaves ``index.json`` as it was.

Credentials are written to an auth file (``auths`` of containers-auth.json / docker's
config.json) in a private temporary folder (0700, file 0600), removed afterwards; never on a
command line, never in a result. A registry is insecure (``--tls-verify=false``) only when it is
listed in ``insecure_registries``; every other one gets ``--tls-verify=true`` explicitly, so a
registries.conf ``insecure = true`` does not weaken it behind the caller's back.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile

from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_errors import StoreError, _last_line, error_text
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_input import (
    _repo_name, pull_ref, LOCK_NAME, MAX_INDEX_BYTES, MAX_LAYERS, MAX_MANIFEST_BYTES, REF_NAME, SOURCE_DIGEST, SOURCE_MANIFEST, TMP_NAME, _CHUNK,
    _DIGEST_RE)
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_tools import flocked


def _matching_repo_digests(values, image):
    """The digests of ``registry/repo@sha256:...`` entries naming this image's repository."""
    name = _repo_name(image)
    out = set()
    for value in values or []:
        if isinstance(value, str) and "@" in value:
            repo, digest = value.rsplit("@", 1)
            if repo == name or repo == "docker.io/" + image["repository"] and image["registry"] == "docker.io":
                out.add(digest)
    return out


class CliStore(object):
    """podman, docker, nerdctl, crictl: the store's own CLI pulls; local digests from its RepoDigests."""

    not_found = ("no such image", "image not known", "not found", "no such object")

    def __init__(self, name, tools):
        self.name = name
        self.tools = tools
        self.cli = tools.executable or tools.which(name) or name

    def local(self, image, verify):
        if self.name == "crictl":
            argv = [self.cli, "inspecti", "-o", "json", pull_ref(image)]
        elif self.name == "podman":
            argv = [self.cli, "image", "inspect", pull_ref(image)]
        else:
            argv = [self.cli, "image", "inspect", "--format", "{{json .RepoDigests}}", pull_ref(image)]
        res = self.tools.run(argv)
        if not res["ok"]:
            text = error_text(res).lower()
            if res.get("rc") is not None and any(p in text for p in self.not_found):
                return {"present": False, "digests": set(), "digest": None, "problem": None}
            return {"present": False, "digests": set(), "digest": None,
                    "error": "%s cannot read its image store: %s" % (self.name, _last_line(error_text(res)))}
        try:
            data = json.loads(res["stdout"] or "null")
        except ValueError:
            return {"present": False, "digests": set(), "digest": None,
                    "error": "%s image inspect did not answer JSON" % self.name}
        if self.name == "podman":
            data = data[0] if isinstance(data, list) and data else {}
            values = list(data.get("RepoDigests") or [])
        elif self.name == "crictl":
            values = list(((data or {}).get("status") or {}).get("repoDigests") or [])
        else:
            values = list(data or []) if isinstance(data, list) else []
        digests = _matching_repo_digests(values, image)
        if image["digest"] and self.name == "podman" and data.get("Digest") == image["digest"]:
            digests.add(image["digest"])
        primary = image["digest"] if image["digest"] in digests else (sorted(digests)[0] if digests else None)
        return {"present": True, "digests": digests, "digest": primary, "problem": None}

    def pull_argv(self, image):
        ref = pull_ref(image)
        if self.name == "podman":
            argv = [self.cli, "pull", "-q", "--tls-verify=" + self.tools.tls_verify(image["registry"])]
            if self.tools.authfile:
                argv += ["--authfile", self.tools.authfile]
            return argv + [ref]
        if self.name == "nerdctl":
            argv = [self.cli, "pull", "-q"]
            if image["registry"] in self.tools.insecure:
                argv.append("--insecure-registry")
            return argv + [ref]
        if self.name == "docker":
            return [self.cli, "pull", "-q", ref]
        return [self.cli, "pull", ref]

    def pull(self, image, remote, state=None):
        res = self.tools.run(self.pull_argv(image))
        return {"ok": res["ok"], "error": None if res["ok"] else error_text(res), "rc": res.get("rc")}


class OciStore(object):
    """One OCI image layout (``oci_dir``) holding many images, tagged by full reference."""

    name = "oci"

    def __init__(self, oci_dir, tools):
        self.dir = oci_dir
        self.blobs = os.path.join(oci_dir, "blobs")
        self.tools = tools
        self.lock_path = os.path.join(oci_dir, LOCK_NAME)
        self._hashed = {}  # (digest, inode, mtime, size) -> None: a blob already hashed whole in this run

    # ----- reading
    def check_dir(self):
        if ":" in self.dir:
            raise StoreError("oci_dir %s holds a ':' which skopeo's oci: transport cannot take" % self.dir)
        if os.path.exists(self.dir):
            if not os.path.isdir(self.dir):
                raise StoreError("oci_dir %s exists and is not a directory" % self.dir)
            entries = set(os.listdir(self.dir)) - {TMP_NAME, LOCK_NAME}
            if entries and "oci-layout" not in entries:
                raise StoreError("oci_dir %s is not empty and is not an OCI image layout (no oci-layout file)" % self.dir)

    def read_index(self):
        path = os.path.join(self.dir, "index.json")
        try:
            size = os.path.getsize(path)
        except OSError:
            return {"schemaVersion": 2, "manifests": []}
        if size > MAX_INDEX_BYTES:
            raise StoreError("%s is %d bytes, over the limit of %d" % (path, size, MAX_INDEX_BYTES))
        try:
            with open(path, "rb") as handle:
                doc = json.loads(handle.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError("%s cannot be read as JSON: %s" % (path, exc))
        if not isinstance(doc, dict) or not isinstance(doc.get("manifests", []), list):
            raise StoreError("%s is not an OCI image index" % path)
        doc.setdefault("manifests", [])
        return doc

    def blob_path(self, digest):
        algo, _sep, hexpart = digest.partition(":")
        return os.path.join(self.blobs, algo, hexpart)

    def descriptor(self, reference, index=None):
        index = index if index is not None else self.read_index()
        found = None
        for desc in index["manifests"]:
            if isinstance(desc, dict) and (desc.get("annotations") or {}).get(REF_NAME) == reference:
                found = desc
        return found

    def _hash_ok(self, digest, size=None):
        """None when the blob is whole, else the problem in words."""
        if not _DIGEST_RE.match(str(digest)):
            return "descriptor digest %r is not sha256:<64 hex>" % (digest,)
        path = self.blob_path(digest)
        try:
            info = os.stat(path)
        except FileNotFoundError:
            return "blob %s is missing" % digest
        except OSError as exc:
            return "blob %s cannot be read: %s" % (digest, exc.strerror)
        seen = (digest, info.st_ino, info.st_mtime_ns, info.st_size)
        if seen in self._hashed and (size is None or size == info.st_size):
            return None  # layers shared by several images are hashed once per run
        try:
            h = hashlib.sha256()
            total = 0
            with open(path, "rb") as handle:
                while True:
                    chunk = handle.read(_CHUNK)
                    if not chunk:
                        break
                    total += len(chunk)
                    h.update(chunk)
        except FileNotFoundError:
            return "blob %s is missing" % digest
        except OSError as exc:
            return "blob %s cannot be read: %s" % (digest, exc.strerror)
        if "sha256:" + h.hexdigest() != digest:
            return "blob %s is corrupted: its content hashes to sha256:%s" % (digest, h.hexdigest())
        if size is not None and total != size:
            return "blob %s is corrupted: %d bytes, the descriptor says %d" % (digest, total, size)
        self._hashed[seen] = None
        return None

    def _exists(self, digest, size=None):
        try:
            st = os.stat(self.blob_path(digest))
        except OSError:
            return "blob %s is missing" % digest
        if size is not None and st.st_size != size:
            return "blob %s is corrupted: %d bytes, the descriptor says %d" % (digest, st.st_size, size)
        return None

    def load_json_blob(self, digest):
        path = self.blob_path(digest)
        if os.path.getsize(path) > MAX_MANIFEST_BYTES:
            raise StoreError("blob %s is over %d bytes" % (digest, MAX_MANIFEST_BYTES))
        with open(path, "rb") as handle:
            return json.loads(handle.read().decode("utf-8"))

    def verify(self, desc, full=True, depth=0):
        """Problems (list of str) with the blobs of ``desc``: hashed when ``full``, else only present/sized."""
        check = self._hash_ok if full else self._exists
        problem = check(desc.get("digest"), desc.get("size"))
        if problem:
            return ["manifest " + problem]
        try:
            doc = self.load_json_blob(desc["digest"])
        except (OSError, ValueError, StoreError) as exc:
            return ["manifest blob %s cannot be read: %s" % (desc["digest"], exc)]
        problems = []
        if isinstance(doc, dict) and isinstance(doc.get("manifests"), list):
            if depth > 1:
                return ["image index nested too deep"]
            for child in doc["manifests"][:MAX_LAYERS]:
                problems += self.verify(child, full, depth + 1)
            return problems
        if not isinstance(doc, dict) or not isinstance(doc.get("config"), dict):
            return ["manifest %s is not an image manifest" % desc["digest"]]
        problem = check(doc["config"].get("digest"), doc["config"].get("size"))
        if problem:
            problems.append("config " + problem)
        for number, layer in enumerate((doc.get("layers") or [])[:MAX_LAYERS]):
            problem = check(layer.get("digest"), layer.get("size")) if isinstance(layer, dict) else "not a descriptor"
            if problem:
                problems.append("layer %d %s" % (number, problem))
        return problems

    def local(self, image, verify):
        try:
            desc = self.descriptor(image["reference"])
        except StoreError as exc:
            return {"present": False, "digests": set(), "digest": None, "error": str(exc)}
        if desc is None:
            return {"present": False, "digests": set(), "digest": None, "problem": None}
        notes = desc.get("annotations") or {}
        digests = {d for d in (desc.get("digest"), notes.get(SOURCE_DIGEST), notes.get(SOURCE_MANIFEST)) if d}
        problems = self.verify(desc, full=verify)
        return {"present": True, "digests": digests, "digest": notes.get(SOURCE_DIGEST) or desc.get("digest"),
                "manifest": desc.get("digest"), "instance": notes.get(SOURCE_MANIFEST) or desc.get("digest"),
                "problem": "; ".join(problems) if problems else None, "descriptor": desc}

    # ----- writing
    def prepare(self):
        os.makedirs(os.path.join(self.blobs, "sha256"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, TMP_NAME), exist_ok=True)
        layout = os.path.join(self.dir, "oci-layout")
        if not os.path.exists(layout):
            with self.locked():
                if not os.path.exists(layout):
                    atomic_write(layout, json.dumps({"imageLayoutVersion": "1.0.0"}).encode())
                if not os.path.exists(os.path.join(self.dir, "index.json")):
                    atomic_write(os.path.join(self.dir, "index.json"),
                                 json.dumps({"schemaVersion": 2, "manifests": []}).encode())

    def locked(self):
        return flocked(self.lock_path)

    def quarantine(self, problems_desc, workdir):
        """Move corrupted blobs of a present image aside (so skopeo fetches them again); returns the moves."""
        moved = []
        for digest in problems_desc:
            src = self.blob_path(digest)
            dst = os.path.join(workdir, "quarantine-" + digest.replace(":", "-"))
            try:
                os.rename(src, dst)
                moved.append((src, dst))
            except FileNotFoundError:
                pass
        return moved

    def corrupted_digests(self, desc):
        """The digests of the blobs of ``desc`` whose content does not hash right (present ones only)."""
        bad = []
        todo = [desc]
        depth = 0
        while todo and depth < 3:
            nxt = []
            for d in todo:
                digest = d.get("digest")
                if not _DIGEST_RE.match(str(digest)) or not os.path.exists(self.blob_path(digest)):
                    continue
                if self._hash_ok(digest, d.get("size")):
                    bad.append(digest)
                    continue
                try:
                    doc = self.load_json_blob(digest)
                except (OSError, ValueError, StoreError):
                    continue
                if isinstance(doc, dict) and isinstance(doc.get("manifests"), list):
                    nxt += [c for c in doc["manifests"] if isinstance(c, dict)]
                elif isinstance(doc, dict):
                    for c in [doc.get("config")] + list(doc.get("layers") or []):
                        if isinstance(c, dict) and _DIGEST_RE.match(str(c.get("digest"))) \
                                and os.path.exists(self.blob_path(c["digest"])) and self._hash_ok(c["digest"], c.get("size")):
                            bad.append(c["digest"])
            todo = nxt
            depth += 1
        return bad

    def pull(self, image, remote, state=None):
        """skopeo copy registry/repo@instance -> private temp layout (blobs into the store), then commit."""
        workdir = tempfile.mkdtemp(prefix="pull-", dir=os.path.join(self.dir, TMP_NAME))
        moved = []
        try:
            if state and state.get("descriptor") is not None and state.get("problem"):
                moved = self.quarantine(self.corrupted_digests(state["descriptor"]), workdir)
            layout = os.path.join(workdir, "layout")
            argv = [self.tools.which("skopeo") or "skopeo", "copy", "-q", "--retry-times", "0",
                    "--src-tls-verify=" + self.tools.tls_verify(image["registry"])]
            if self.tools.authfile:
                argv += ["--src-authfile", self.tools.authfile]
            argv += ["--dest-shared-blob-dir", self.blobs, "docker://%s@%s" % (_repo_name(image), remote["instance"]),
                     "oci:%s:pull" % layout]
            res = self.tools.run(argv)
            if not res["ok"]:
                self._restore(moved)
                return {"ok": False, "error": error_text(res), "rc": res.get("rc")}
            try:
                self.commit(image, remote, layout)
            except (OSError, ValueError, StoreError) as exc:
                self._restore(moved)
                return {"ok": False, "error": "commit into %s failed: %s" % (self.dir, exc), "rc": None}
            return {"ok": True, "error": None, "rc": 0}
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def _restore(self, moved):
        for src, dst in moved:
            if not os.path.exists(src):
                try:
                    os.rename(dst, src)
                except OSError:
                    pass

    def commit(self, image, remote, layout):
        with open(os.path.join(layout, "index.json"), "rb") as handle:
            tmp_index = json.loads(handle.read().decode("utf-8"))
        descs = [d for d in tmp_index.get("manifests") or [] if isinstance(d, dict)]
        if len(descs) != 1:
            raise StoreError("skopeo wrote %d descriptors, not 1" % len(descs))
        desc = dict(descs[0])
        problems = self.verify(desc, full=False)
        if problems:
            raise StoreError("; ".join(problems))
        notes = dict(desc.get("annotations") or {})
        notes[REF_NAME] = image["reference"]
        notes[SOURCE_DIGEST] = remote["digest"]
        notes[SOURCE_MANIFEST] = remote["instance"]
        desc["annotations"] = notes
        with self.locked():
            index = self.read_index()
            index["manifests"] = [d for d in index["manifests"]
                                  if not (isinstance(d, dict) and (d.get("annotations") or {}).get(REF_NAME) == image["reference"])]
            index["manifests"].append(desc)
            atomic_write(os.path.join(self.dir, "index.json"), json.dumps(index, indent=None, separators=(",", ":")).encode())

    def cleanup(self):
        tmp = os.path.join(self.dir, TMP_NAME)
        try:
            os.rmdir(tmp)
        except OSError:
            pass
