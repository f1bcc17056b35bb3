# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Image store input: the store and policy names, media types and bounds; the image list and the
registry credentials checked; the registry digest of a manifest and this platform's instance of a list."""

from __future__ import annotations

import hashlib
import json
import platform
import re

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._fn_images import RefError, resolve_image
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_errors import StoreError


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


def _repo_name(image):
    return "%s/%s" % (image["registry"], image["repository"])


def pull_ref(image):
    """What the CLIs are given: ``registry/repo@digest`` for a pinned image (a tag beside a digest is
    refused by containers/image), else the full reference."""
    if image["digest"]:
        return "%s@%s" % (_repo_name(image), image["digest"])
    return image["reference"]
