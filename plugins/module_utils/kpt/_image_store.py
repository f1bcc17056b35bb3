# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Keep a list of container images present in a host's image store, digest-aware.

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

import base64
import concurrent.futures
import contextlib
import fcntl
import hashlib
import json
import os
import platform
import re
import shutil
import tempfile
import threading
import time

from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._fn_images import RefError, resolve_image
from ansible_collections.o2edge.perf.plugins.module_utils._record import base_context, make_record, tail, utc_now
from ansible_collections.o2edge.perf.plugins.module_utils.measure._cmd_timer import child_env, run_once
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import redact

STORES = ("podman", "docker", "nerdctl", "crictl", "oci")
POLICIES = ("digest", "missing", "always")
REF_NAME = "org.opencontainers.image.ref.name"
SOURCE_DIGEST = "io.o2edge.perf.source.digest"
SOURCE_MANIFEST = "io.o2edge.perf.source.manifest"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
LIST_TYPES = (OCI_INDEX, DOCKER_LIST)
TMP_NAME = ".o2edge-tmp"
LOCK_NAME = ".o2edge.lock"
MAX_MANIFEST_BYTES = 4 * 1024 * 1024
MAX_INDEX_BYTES = 64 * 1024 * 1024
MAX_IMAGES = 1000
MAX_LAYERS = 1000
_DIGEST_RE = re.compile(r"^sha256:[0-9a-f]{64}$")
_CHUNK = 1024 * 1024


class StoreError(ValueError):
    """Bad input or a store that cannot be used; the message names the field or the path."""


# --------------------------------------------------------------------------- input

def parse_images(images, prefix=None, limit=MAX_IMAGES):
    """The list of references -> list of dicts (image, reference, registry, repository, tag, digest).

    A short name (no ``/``) is resolved with kpt's ``prefix`` (see _fn_images); without one it
    is refused. Duplicates (same resolved reference) are kept once. Raises StoreError naming
    ``images[i]``.
    """
    if not isinstance(images, list) or not images:
        raise StoreError("images must be a non-empty list of image references")
    if len(images) > limit:
        raise StoreError("images lists %d references; at most %d are handled in one call" % (len(images), limit))
    out, seen = [], set()
    for index, image in enumerate(images):
        if not isinstance(image, str):
            raise StoreError("images[%d] is not a string" % index)
        try:
            info = resolve_image(image, prefix)
        except RefError as exc:
            raise StoreError("images[%d] %r is not a valid image reference: %s" % (index, image, exc))
        if info["resolved"] is None:
            raise StoreError("images[%d] %r is a short name and the kpt version is unknown; give kpt_version "
                             "or a full reference (registry/repository:tag)" % (index, image))
        if info["resolved"] in seen:
            continue
        seen.add(info["resolved"])
        out.append({"image": image, "reference": info["resolved"], "registry": info["registry"],
                    "repository": info["repository"], "tag": info["tag"], "digest": info["digest"]})
    return out


def check_registry_auth(entries):
    """Validate ``registry_auth``; returns {registry: (username, password)}. Never puts a value in a message."""
    auth = {}
    for index, entry in enumerate(entries or []):
        if not isinstance(entry, dict):
            raise StoreError("registry_auth[%d] is not a mapping" % index)
        for key in ("registry", "username", "password"):
            if not isinstance(entry.get(key), str) or not entry.get(key):
                raise StoreError("registry_auth[%d].%s must be a non-empty string" % (index, key))
        if entry["registry"] in auth:
            raise StoreError("registry_auth[%d].registry %s is listed twice" % (index, entry["registry"]))
        if "/" in entry["registry"] or any(c.isspace() for c in entry["registry"]):
            raise StoreError("registry_auth[%d].registry must be a host or host:port, without a path" % index)
        auth[entry["registry"]] = (entry["username"], entry["password"])
    return auth


def platform_pair():
    """(os, architecture) in OCI terms for this machine."""
    machine = platform.machine().lower()
    arch = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "armv7l": "arm",
            "ppc64le": "ppc64le", "s390x": "s390x", "riscv64": "riscv64", "i686": "386", "i386": "386"}.get(machine, machine)
    return "linux", arch


def sha256_digest(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def remote_digests(raw, plat=None):
    """(top digest, instance digest, media type) of a raw manifest from the registry.

    For a list/index the instance is the entry for ``plat`` (os, arch); StoreError when none.
    """
    if len(raw) > MAX_MANIFEST_BYTES:
        raise StoreError("the registry's manifest is %d bytes, over the limit of %d" % (len(raw), MAX_MANIFEST_BYTES))
    top = sha256_digest(raw)
    try:
        doc = json.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise StoreError("the registry's manifest is not JSON")
    if not isinstance(doc, dict):
        raise StoreError("the registry's manifest is not a JSON object")
    media = doc.get("mediaType") or (OCI_INDEX if "manifests" in doc else OCI_MANIFEST)
    if media not in LIST_TYPES:
        return top, top, media
    want_os, want_arch = plat or platform_pair()
    for entry in doc.get("manifests") or []:
        pf = entry.get("platform") or {} if isinstance(entry, dict) else {}
        if pf.get("os") == want_os and pf.get("architecture") == want_arch and _DIGEST_RE.match(str(entry.get("digest"))):
            return top, entry["digest"], media
    raise StoreError("the image list has no manifest for %s/%s" % (want_os, want_arch))


# --------------------------------------------------------------------------- errors

_CAUSES = (
    # (pattern in the CLI's message, the cause in words, worth retrying)
    ("connection refused", "connection refused (the registry is down or not listening)", True),
    ("manifest unknown", "manifest unknown (the tag or digest does not exist in the registry)", False),
    ("name unknown", "name unknown (the repository does not exist in the registry)", False),
    ("not found: manifest", "manifest unknown (the tag or digest does not exist in the registry)", False),
    ("unauthorized", "unauthorized (the registry refused the credentials, or needs some)", False),
    ("authentication required", "unauthorized (the registry refused the credentials, or needs some)", False),
    ("denied", "access denied by the registry", False),
    ("http response to https client", "the registry speaks plain HTTP; list it in insecure_registries to allow that", False),
    ("x509", "TLS certificate not trusted", False),
    ("certificate", "TLS certificate problem", False),
    ("no such host", "the registry's host name does not resolve", False),
    ("network is unreachable", "network unreachable", True),
    ("no route to host", "no route to host", True),
    ("i/o timeout", "timed out", True),
    ("timed out", "timed out", True),
    ("timeout", "timed out", True),
    ("connection reset", "connection reset", True),
    ("toomanyrequests", "too many requests (rate limited)", True),
    ("too many requests", "too many requests (rate limited)", True),
    ("unexpected eof", "connection closed mid-transfer", True),
    ("digest did not match", "corrupted: a downloaded blob's digest did not match", True),
    ("does not match", "corrupted: a digest does not match", True),
    ("corrupt", "corrupted local data", True),
    ("500 internal server error", "the registry answered 500", True),
    ("502 bad gateway", "the registry answered 502", True),
    ("503 service unavailable", "the registry answered 503", True),
)


def classify(text):
    """(cause in words, retryable) for a CLI's error output."""
    low = (text or "").lower()
    for pattern, cause, retry in _CAUSES:
        if pattern in low:
            return cause, retry
    return "failed", True


def _last_line(text):
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    line = lines[-1] if lines else ""
    match = re.search(r'msg="(.*)"\s*$', line)
    if match:
        line = match.group(1).replace('\\"', '"')
    return line[-600:]


# --------------------------------------------------------------------------- the CLIs

class Tools(object):
    """Runs the CLIs with the caller's environment, the auth file and TLS flags; thread-safe."""

    def __init__(self, environment=None, timeout=300.0, insecure=(), auth=None, executable=None, secrets=()):
        self.env = child_env(environment or {})
        self.timeout = timeout
        self.insecure = set(insecure or ())
        self.auth = auth or {}
        self.executable = executable
        self.secrets = list(secrets)
        self.authdir = None
        self.authfile = None
        self.calls = 0
        self._lock = threading.Lock()

    def which(self, name):
        return shutil.which(name, path=self.env.get("PATH", os.defpath))

    def setup_auth(self, docker_config=False):
        """Write the auth file (containers-auth.json format) into a private temp folder."""
        if not self.auth:
            return
        self.authdir = tempfile.mkdtemp(prefix="o2edge-auth-")
        os.chmod(self.authdir, 0o700)
        auths = {}
        for registry, (user, password) in self.auth.items():
            token = base64.b64encode(("%s:%s" % (user, password)).encode("utf-8")).decode("ascii")
            auths[registry] = {"auth": token}
        name = "config.json" if docker_config else "auth.json"
        self.authfile = os.path.join(self.authdir, name)
        fd = os.open(self.authfile, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"auths": auths}, handle)
        if docker_config:
            self.env["DOCKER_CONFIG"] = self.authdir

    def cleanup(self):
        if self.authdir:
            shutil.rmtree(self.authdir, ignore_errors=True)
            self.authdir = self.authfile = None

    def tls_verify(self, registry):
        return "false" if registry in self.insecure else "true"

    def run(self, argv, timeout=None):
        with self._lock:
            self.calls += 1
        res = run_once(argv, env=self.env, timeout=timeout or self.timeout, capture_stdout=True)
        res["stderr"] = redact(res.get("stderr") or "", self.secrets)
        res["stdout"] = res.get("stdout") or ""
        return res

    def version(self, argv):
        path = self.which(argv[0])
        if not path:
            return None
        res = run_once([path] + argv[1:], env=self.env, timeout=20, capture_stdout=True)
        match = re.search(r"(\d+\.\d+(?:\.\d+)?[\w.+~-]*)", res.get("stdout") or "")
        return match.group(1) if res["ok"] and match else None

    def skopeo_inspect(self, image, ref=None):
        """The raw manifest of ``ref`` (default the image's reference) from the registry: dict(ok, raw, error)."""
        argv = [self.which("skopeo") or "skopeo", "inspect", "--raw", "--tls-verify=" + self.tls_verify(image["registry"])]
        if self.authfile:
            argv += ["--authfile", self.authfile]
        argv.append("docker://" + (ref or pull_ref(image)))
        res = self.run(argv)
        res["raw"] = res["stdout"].encode("utf-8") if res["ok"] else b""
        return res


def error_text(res):
    return res.get("stderr") or res.get("error") or ""


# --------------------------------------------------------------------------- stores

def _repo_name(image):
    return "%s/%s" % (image["registry"], image["repository"])


def pull_ref(image):
    """What the CLIs are given: ``registry/repo@digest`` for a pinned image (a tag beside a digest is
    refused by containers/image), else the full reference."""
    if image["digest"]:
        return "%s@%s" % (_repo_name(image), image["digest"])
    return image["reference"]


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


@contextlib.contextmanager
def flocked(path):
    """An exclusive fcntl lock on ``path`` (created when missing) for the ``with`` block."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


# --------------------------------------------------------------------------- the run

class Retrier(object):
    def __init__(self, retries, delay, sleep=time.sleep):
        self.retries = retries
        self.delay = delay
        self.sleep = sleep

    def __call__(self, fn):
        """Call ``fn()`` (returns a dict with ok, error) up to 1 + retries times, with exponential backoff.

        Returns (last result, attempts, cause, retryable).
        """
        attempts = 0
        while True:
            attempts += 1
            res = fn()
            if res["ok"]:
                return res, attempts, None
            cause, retry = classify(res.get("stderr") or res.get("error"))
            if not retry or attempts > self.retries:
                return res, attempts, cause
            self.sleep(self.delay * (2 ** (attempts - 1)))


def _new_result(image):
    return {"image": image["image"], "reference": image["reference"], "action": None, "local_digest_before": None,
            "remote_digest": None, "digest": None, "attempts": 0, "seconds": None, "reason": None, "unpacked": None,
            "would_unpack": False}


def _fail(result, what, cause, text):
    detail = _last_line(text)
    result["action"] = "failed"
    result["reason"] = "%s: %s: %s%s" % (result["reference"], what, cause, (" (%s)" % detail) if detail else "")


def precache_one(image, store, tools, policy, check_mode, retrier, unpacker=None):
    """Decide, pull (with retries) and optionally unpack one image; returns its result dict."""
    t0 = time.monotonic()
    result = _new_result(image)
    try:
        _precache_one(image, store, tools, policy, check_mode, retrier, unpacker, result)
    finally:
        result["seconds"] = round(time.monotonic() - t0, 6)
    return result


def _remote(image, tools, retrier, result):
    """The registry's digests for the image (with retries): dict(digest, instance) or None (result failed)."""
    res, attempts, cause = retrier(lambda: tools.skopeo_inspect(image))
    result["attempts"] += attempts
    if not res["ok"]:
        _fail(result, "cannot read the registry's manifest", cause, error_text(res))
        return None
    try:
        top, instance, media = remote_digests(res["raw"])
    except StoreError as exc:
        _fail(result, "the registry's manifest is unusable", str(exc), "")
        return None
    return {"digest": top, "instance": instance, "media_type": media}


def _precache_one(image, store, tools, policy, check_mode, retrier, unpacker, result):
    state = store.local(image, verify=(policy == "digest"))
    if state.get("error"):
        result["action"] = "failed"
        result["reason"] = "%s: %s" % (image["reference"], state["error"])
        return
    result["local_digest_before"] = state["digest"] if state["present"] else None
    remote = None
    if policy == "always":
        need, why = True, "policy always"
    elif not state["present"]:
        need, why = True, "absent"
    elif state.get("problem"):
        need, why = True, "local copy corrupted, detected: %s" % state["problem"]
    elif policy == "missing":
        need, why = False, "present (policy missing: registry not asked)"
    elif image["digest"] and image["digest"] in state["digests"]:
        need, why = False, "present (pinned digest)"
    else:
        remote = _remote(image, tools, retrier, result)
        if remote is None:
            return
        result["remote_digest"] = remote["digest"]
        if remote["digest"] in state["digests"] or remote["instance"] in state["digests"]:
            need, why = False, "present, same digest as the registry"
        else:
            need, why = True, "digest changed upstream (local %s, registry %s)" % (state["digest"], remote["digest"])
    # the oci store copies by digest, so it needs the registry's digest; check mode with policy
    # digest asks too, so that its prediction (a tag that does not exist fails) matches a run
    if need and remote is None and ((store.name == "oci" and not check_mode) or (check_mode and policy == "digest")):
        remote = _remote(image, tools, retrier, result)
        if remote is None:
            return
        result["remote_digest"] = remote["digest"]
    result["reason"] = why
    if need and check_mode:
        result["action"] = "would_pull"
    elif need:
        res, attempts, cause = retrier(lambda: store.pull(image, remote, state))
        result["attempts"] += attempts
        if not res["ok"]:
            _fail(result, "pull failed", cause, res.get("error"))
            return
        result["action"] = "pulled"
        after = store.local(image, verify=False)
        if not after["present"]:
            _fail(result, "pull reported success", "but the image is not in the store afterwards", "")
            return
        result["digest"] = (remote or {}).get("digest") if remote and remote["digest"] in after["digests"] else after["digest"]
    else:
        result["action"] = "present"
        result["digest"] = remote["digest"] if remote else state["digest"]
    if unpacker is not None:
        unpacker(image, result, state, remote, check_mode)


def run_precache(params, check_mode=False, sleep=time.sleep, prefix=None):
    """The whole run; ``params`` are the module's options. Returns the result dict (see the module's RETURN)."""
    from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_unpack as unpack_mod

    store_name = params.get("store") or "podman"
    if store_name not in STORES:
        raise StoreError("store must be one of %s, not %r" % (", ".join(STORES), store_name))
    policy = params.get("policy") or "digest"
    if policy not in POLICIES:
        raise StoreError("policy must be one of %s, not %r" % (", ".join(POLICIES), policy))
    concurrency = params.get("concurrency", 4)
    if not isinstance(concurrency, int) or not 1 <= concurrency <= 64:
        raise StoreError("concurrency must be between 1 and 64, not %r" % (concurrency,))
    retries = params.get("retries", 2)
    if not isinstance(retries, int) or not 0 <= retries <= 20:
        raise StoreError("retries must be between 0 and 20, not %r" % (retries,))
    delay = float(params.get("retry_delay", 1.0))
    if not 0 <= delay <= 600:
        raise StoreError("retry_delay must be between 0 and 600 seconds, not %r" % (delay,))
    timeout = float(params.get("timeout", 300.0))
    if not 0 < timeout <= 86400:
        raise StoreError("timeout must be above 0 and at most 86400 seconds, not %r" % (timeout,))
    environment = params.get("environment") or {}
    if not isinstance(environment, dict):
        raise StoreError("environment must be a mapping of names to values")
    images = parse_images(params.get("images"), prefix)
    auth = check_registry_auth(params.get("registry_auth"))
    insecure = params.get("insecure_registries") or []
    for index, name in enumerate(insecure):
        if not isinstance(name, str) or not name or "/" in name:
            raise StoreError("insecure_registries[%d] must be a host or host:port" % index)
    if store_name in ("docker", "crictl") and insecure:
        raise StoreError("insecure_registries cannot be applied to store %s: its daemon's configuration decides "
                         "which registries are insecure" % store_name)
    if store_name == "crictl" and auth:
        raise StoreError("registry_auth cannot be used with store crictl: crictl takes credentials only on its "
                         "command line, where they would be visible to every user")
    secrets = [p for _u, p in auth.values()] + [base64.b64encode(("%s:%s" % up).encode()).decode() for up in auth.values()]
    tools = Tools(environment, timeout, insecure, auth, params.get("executable"), secrets)
    if store_name == "oci":
        if not params.get("oci_dir"):
            raise StoreError("oci_dir is required with store oci")
        store = OciStore(os.path.abspath(params["oci_dir"]), tools)
        store.check_dir()
    else:
        store = CliStore(store_name, tools)
        if not (tools.executable or tools.which(store_name)):
            raise StoreError("store %s: the %s command was not found on PATH" % (store_name, store_name))
    needs_skopeo = store_name == "oci" or policy == "digest" or params.get("unpack")
    if needs_skopeo and not tools.which("skopeo"):
        raise StoreError("skopeo was not found on PATH (Debian package skopeo); store %s with policy %s%s needs it"
                         % (store_name, policy, " and unpack" if params.get("unpack") else ""))
    unpacker = None
    if params.get("unpack"):
        if not tools.which("umoci"):
            raise StoreError("unpack needs umoci, which was not found on PATH (Debian package umoci)")
        unpacker = unpack_mod.Unpacker(params.get("unpack_dir") or unpack_mod.default_unpack_dir(), store, tools,
                                       Retrier(retries, delay, sleep))
        unpacker.check()

    started_at = utc_now()
    t0 = time.monotonic()
    retrier = Retrier(retries, delay, sleep)
    try:
        tools.setup_auth(docker_config=store_name in ("docker", "nerdctl"))
        if store_name == "oci" and not check_mode:
            store.prepare()
        with concurrent.futures.ThreadPoolExecutor(max_workers=min(concurrency, len(images))) as pool:
            futures = [pool.submit(precache_one, image, store, tools, policy, check_mode, retrier, unpacker)
                       for image in images]
            results = [f.result() for f in futures]
        if unpacker is not None and not check_mode:
            unpacker.finish()
    finally:
        tools.cleanup()
        if store_name == "oci" and not check_mode:
            store.cleanup()
    seconds = time.monotonic() - t0

    failed = [r for r in results if r["action"] == "failed"]
    pulled = [r["reference"] for r in results if r["action"] == "pulled"]
    present = [r["reference"] for r in results if r["action"] == "present"]
    would = [r["reference"] for r in results if r["action"] == "would_pull"]
    unpack_changed = bool(unpacker is not None and unpacker.changed)
    would_unpack = any(r["would_unpack"] for r in results)
    changed = bool(pulled) or unpack_changed or (check_mode and (bool(would) or would_unpack))
    versions = {"skopeo": tools.version(["skopeo", "--version"]) if needs_skopeo else None}
    if store_name != "oci":
        versions[store_name] = tools.version([store.cli, "--version"])
    if unpacker is not None:
        versions["umoci"] = tools.version(["umoci", "--version"])
    context = base_context(started_at=started_at, versions=versions, store=store_name, policy=policy,
                           concurrency=concurrency, images=len(images), pulled=len(pulled), present=len(present),
                           failed=len(failed), check_mode=bool(check_mode))
    if store_name == "oci":
        context["oci_dir"] = store.dir
    if failed:
        errors = [{"phase": "run", "run": 0, "rc": None, "seconds": round(seconds, 6),
                   "error": "%d of %d image(s) failed" % (len(failed), len(images)),
                   "stderr": tail("\n".join(r["reason"] for r in failed))}]
        record = make_record("image_precache/" + store_name, "image_precache", "s", [], failures=1, errors=errors,
                             context=context)
    else:
        record = make_record("image_precache/" + store_name, "image_precache", "s", [seconds], context=context)
    before = dict((r["reference"], r["local_digest_before"]) for r in results)
    after = dict((r["reference"], r["digest"] if r["action"] in ("pulled", "present") else
                  (r["remote_digest"] if r["action"] == "would_pull" else r["local_digest_before"])) for r in results)
    if failed:
        msg = "%d of %d image(s) failed: %s" % (len(failed), len(images), "; ".join(r["reason"] for r in failed))
    elif check_mode:
        msg = "%d image(s) would be pulled, %d present" % (len(would), len(present))
    else:
        msg = "%d image(s) pulled, %d present" % (len(pulled), len(present))
    return {"changed": changed, "failed": bool(failed), "msg": redact(msg, secrets), "images": results,
            "pulled": pulled, "present": present, "would_pull": would,
            "failed_images": [r["reference"] for r in failed], "records": [record],
            "diff": {"before": before, "after": after}, "store": store_name, "policy": policy,
            "oci_dir": store.dir if store_name == "oci" else None,
            "unpack_dir": unpacker.dir if unpacker is not None else None}
