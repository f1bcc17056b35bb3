#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: image_precache
short_description: Keep a list of container images present in a host's image store, digest-aware
version_added: 1.0.0
description:
  - Makes every image of O(images) present in the image store O(store) - V(podman), V(docker), V(nerdctl),
    V(crictl) (their own CLI pulls) or V(oci) (C(skopeo copy) into one OCI image layout O(oci_dir) holding many
    images, each tagged in its C(index.json) by its full reference).
  - "Digest-aware (O(policy)): V(digest) pulls an image when it is absent or when the registry's manifest digest
    (the sha256 of C(skopeo inspect --raw), no config fetched) is not among the local ones (podman, docker, nerdctl,
    crictl: the image's C(RepoDigests); oci: the registry digests recorded on the image's descriptor when it was
    copied); V(missing) never asks the registry about a present image; V(always) pulls every image."
  - For a multi-platform image the instance for this machine is pulled; the local copy is up to date when it knows
    the list's digest or that instance's.
  - "The oci store checks the sha256 of every blob (manifest, config, layers) of a present image with
    O(policy=digest) (with V(missing), that each blob exists with its size) and pulls a corrupted one again. An oci
    pull copies C(registry/repo@digest) (exactly the manifest inspected) into a private temporary layout whose
    blobs are verified and renamed into O(oci_dir); C(index.json) is then rewritten atomically under a lock.
    Nothing is half-written - a failed image leaves the store as it was."
  - Pulls run concurrently (O(concurrency)), each CLI call bounded by O(timeout), and transient failures
    (connection refused, timeouts, 5xx, a corrupted download) are retried O(retries) times with exponential
    backoff from O(retry_delay). Errors name the image and the cause (for example C(connection refused),
    C(manifest unknown), C(unauthorized), a corrupted local layer).
  - Credentials (O(registry_auth)) are written to an auth file in a private temporary folder (mode 0700) for the
    duration of the run and given to the CLIs by path (docker and nerdctl through C(DOCKER_CONFIG)); they are never
    on a command line and never in the result.
  - A registry is insecure (plain HTTP or an unverified certificate, C(--tls-verify=false)) only when it is listed
    in O(insecure_registries); every other registry gets C(--tls-verify=true) explicitly, whatever registries.conf
    says.
  - With O(unpack=true) each image's root filesystem is also kept unpacked (C(umoci raw unpack); as root owners
    and modes are kept, so files of user 65534 stay readable by it) in O(unpack_dir) - C(<unpack_dir>/sha256-<hex>/rootfs)
    keyed by the image's manifest digest, C(image.json) written last and atomically (digest, config digest,
    references, entrypoint, cmd, env, workdir, user, unpacked_at) and C(refs.json) mapping each reference to its
    digest, rewritten atomically under an fcntl lock on C(refs.lock). A digest already unpacked is not unpacked
    again. Stores other than V(oci) unpack from a C(skopeo copy) of the registry's image into a private temporary layout.
  - The run's wall time is returned as one measurement record C(image_precache/<store>) (the shape of
    docs/statistics.md).
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  check_mode:
    description: Reads the store and (policy V(digest)) the registry's manifest digests, and reports what would be
      pulled (RV(images[].action) V(would_pull)) and unpacked, without pulling or writing anything.
  diff_mode:
    description: RV(diff) holds each reference's digest before and after.
  platform:
    support: full
    platforms: posix
    description: Python 3.9 or later; skopeo (oci store, policy V(digest), unpack), the store's CLI, umoci (unpack).
requirements:
  - skopeo (for O(store=oci), O(policy=digest) and O(unpack))
  - the store's CLI (podman, docker, nerdctl or crictl) unless O(store=oci)
  - umoci (for O(unpack))
options:
  images:
    description:
      - Image references (C(registry/repository:tag), C(registry/repository@sha256:...)). A short name (no C(/)) is
        resolved the way kpt resolves it, which needs O(kpt_version).
    type: list
    elements: str
    required: true
  store:
    description: The image store to fill.
    type: str
    choices: [podman, docker, nerdctl, crictl, oci]
    default: podman
  oci_dir:
    description: The OCI image layout (created when missing) for O(store=oci).
    type: path
  policy:
    description: When to pull an image that is present - V(digest) when the registry's digest differs (or a local blob
      is corrupted, oci store), V(missing) never, V(always) always.
    type: str
    choices: [digest, missing, always]
    default: digest
  concurrency:
    description: Images handled at once (1 to 64).
    type: int
    default: 4
  retries:
    description: Retries of a transient registry failure per image (0 to 20).
    type: int
    default: 2
  retry_delay:
    description: Seconds before the first retry; doubled for each further one.
    type: float
    default: 1.0
  timeout:
    description: Seconds each CLI call (inspect, pull, copy, unpack) may take; its process group is killed after.
    type: float
    default: 300
  registry_auth:
    description: Credentials per registry, given to the CLIs through a private auth file.
    type: list
    elements: dict
    default: []
    suboptions:
      registry:
        description: The registry (C(host) or C(host:port)) exactly as in the references.
        type: str
        required: true
      username:
        description: The user name.
        type: str
        required: true
      password:
        description: The password or token (never logged, never in the result).
        type: str
        required: true
  insecure_registries:
    description: Registries (C(host:port)) reached without TLS verification (plain HTTP allowed). Not applicable to
      V(docker) and V(crictl), whose daemons decide.
    type: list
    elements: str
    default: []
  environment:
    description: Environment variables for the CLIs (for example C(CONTAINERS_CONF), C(CONTAINERS_STORAGE_CONF),
      C(CONTAINERS_REGISTRIES_CONF), C(PATH)).
    type: dict
    default: {}
  executable:
    description: The store's CLI. Defaults to the store's name on PATH.
    type: path
  kpt_version:
    description: The kpt version whose short-name rule resolves short image names (see M(o2edge.perf.kpt_fn_images)).
    type: str
  unpack:
    description: Also keep each image's root filesystem unpacked in O(unpack_dir).
    type: bool
    default: false
  unpack_dir:
    description: Where unpacked images live. Defaults to C(~/.cache/o2edge-perf/fn-images).
    type: path
notes:
  - The oci store keeps blobs of replaced images (content-addressed, shared between images); nothing removes them yet.
seealso:
  - module: o2edge.perf.kpt_fn_images
extends_documentation_fragment:
  - o2edge.perf.attributes.writes
"""

EXAMPLES = r"""
- name: Find the function images of the pipeline
  o2edge.perf.kpt_fn_images:
    root: /srv/pipeline/packages
  register: fn_images

- name: Keep them in podman's store, pulled again when the registry moved a tag
  o2edge.perf.image_precache:
    images: "{{ fn_images.images | map(attribute='resolved') | list }}"
    store: podman
    insecure_registries: [198.18.0.1:5000]
    environment:
      CONTAINERS_REGISTRIES_CONF: /etc/o2edge/registries.conf

- name: An OCI layout with the images unpacked for a sandbox, credentials from the vault
  o2edge.perf.image_precache:
    images:
      - 198.18.0.1:5000/kpt-fn/passthrough:v1
      - 198.18.0.1:5000/kpt-fn/require-labels:v1
    store: oci
    oci_dir: /var/cache/o2edge/fn-oci
    unpack: true
    registry_auth:
      - registry: 198.18.0.1:5000
        username: puller
        password: "{{ vault_registry_password }}"
"""

RETURN = r"""
images:
  description: One entry per image (duplicates of one resolved reference once), in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    image:
      description: The reference as given.
      type: str
    reference:
      description: The fully resolved reference.
      type: str
    action:
      description: V(pulled), V(present), V(would_pull) (check mode) or V(failed).
      type: str
    local_digest_before:
      description: The local digest (registry terms) before the run; null when absent.
      type: str
    remote_digest:
      description: The registry's manifest digest, when the registry was asked.
      type: str
    digest:
      description: The digest present after the run (null when failed or in check mode for a pull).
      type: str
    attempts:
      description: Registry operations tried (inspect and pull attempts together).
      type: int
    seconds:
      description: Wall time spent on this image.
      type: float
    reason:
      description: Why it was pulled or not, or for V(failed) the image, the step and the cause.
      type: str
    unpacked:
      description: The unpacked image's folder (C(<unpack_dir>/sha256-<hex>)), or null.
      type: str
    would_unpack:
      description: In check mode, whether the image would be unpacked (or its references updated).
      type: bool
  sample:
    - image: 198.18.0.1:5000/kpt-fn/passthrough:v1
      reference: 198.18.0.1:5000/kpt-fn/passthrough:v1
      action: pulled
      local_digest_before: null
      remote_digest: sha256:7a142691d4dfdb74487434b943e12755ba779a6bd80db4271c38b3de4df7eaeb
      digest: sha256:7a142691d4dfdb74487434b943e12755ba779a6bd80db4271c38b3de4df7eaeb
      attempts: 2
      seconds: 0.41
      reason: absent
      unpacked: null
      would_unpack: false
pulled:
  description: References pulled.
  returned: always
  type: list
  elements: str
present:
  description: References already present and up to date.
  returned: always
  type: list
  elements: str
would_pull:
  description: References that would be pulled (check mode).
  returned: always
  type: list
  elements: str
failed_images:
  description: References that failed.
  returned: always
  type: list
  elements: str
records:
  description: One measurement record C(image_precache/<store>) with the run's wall time (no sample and one failure
    when an image failed).
  returned: always
  type: list
  elements: dict
diff:
  description: Digests per reference before and after.
  returned: always
  type: dict
store:
  description: The store filled.
  returned: always
  type: str
policy:
  description: The policy applied.
  returned: always
  type: str
oci_dir:
  description: The OCI layout (absolute), for the oci store.
  returned: always
  type: str
unpack_dir:
  description: The unpack folder (absolute) when O(unpack=true).
  returned: always
  type: str
msg:
  description: A one-line summary; for failures each image with its cause.
  returned: always
  type: str
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._fn_images import prefix_choice
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_errors import StoreError
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_input import STORES, POLICIES
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._image_precache import run_precache
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import parse_kpt_version


def main():
    module = AnsibleModule(
        argument_spec=dict(
            images=dict(type="list", elements="str", required=True),
            store=dict(type="str", choices=list(STORES), default="podman"),
            oci_dir=dict(type="path"),
            policy=dict(type="str", choices=list(POLICIES), default="digest"),
            concurrency=dict(type="int", default=4),
            retries=dict(type="int", default=2),
            retry_delay=dict(type="float", default=1.0),
            timeout=dict(type="float", default=300.0),
            registry_auth=dict(type="list", elements="dict", default=[], options=dict(
                registry=dict(type="str", required=True),
                username=dict(type="str", required=True),
                password=dict(type="str", required=True, no_log=True),
            )),
            insecure_registries=dict(type="list", elements="str", default=[]),
            environment=dict(type="dict", default={}),
            executable=dict(type="path"),
            kpt_version=dict(type="str"),
            unpack=dict(type="bool", default=False),
            unpack_dir=dict(type="path"),
        ),
        required_if=[("store", "oci", ("oci_dir",))],
        supports_check_mode=True,
    )
    p = module.params
    prefix = None
    if p["kpt_version"] is not None:
        if parse_kpt_version(p["kpt_version"]) is None:
            module.fail_json(msg="kpt_version %r is not a kpt version (for example 1.0.0-beta.56)" % p["kpt_version"])
        prefix = prefix_choice(p["kpt_version"], "option kpt_version")[1]
    try:
        result = run_precache(p, check_mode=module.check_mode, prefix=prefix)
    except StoreError as exc:
        module.fail_json(msg=str(exc), changed=False)
    if result["failed"]:
        module.fail_json(**result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
