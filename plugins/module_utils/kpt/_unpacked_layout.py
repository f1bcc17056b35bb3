# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The unpacked function image layout, spelled once for its writer (``_image_unpack``, run by
image_precache with ``unpack: true``) and its reader (``_fn_sandbox``, run by kpt_render with
``function_sandbox: bwrap``):

* ``<unpack_dir>/<algo>-<hex>/rootfs/`` the image's root filesystem, keyed by its manifest digest;
* ``<unpack_dir>/<algo>-<hex>/image.json`` written last (its presence marks a complete unpack):
  schema 1, digest, config_digest, references, entrypoint, cmd, env, workdir, user, unpacked_at;
* ``<unpack_dir>/refs.json``: fully resolved reference -> manifest digest, merged under
  ``refs.lock``; per-digest unpack locks in ``.locks/``.
"""
from __future__ import annotations

import os

from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import read_bytes
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import YamlBoundsError, load_json

DEFAULT_UNPACK_DIR = "~/.cache/o2edge-perf/fn-images"
SCHEMA = 1
IMAGE_JSON = "image.json"
ROOTFS = "rootfs"
REFS_JSON = "refs.json"
REFS_LOCK = "refs.lock"
LOCKS = ".locks"
MAX_JSON_BYTES = 4 * 1024 * 1024
MAX_REFS_BYTES = 64 * 1024 * 1024
MAX_JSON_DEPTH = 32


class LayoutError(ValueError):
    """A digest that cannot name a folder of the layout."""


def default_unpack_dir():
    return os.path.expanduser(DEFAULT_UNPACK_DIR)


def digest_dirname(digest):
    """``sha256:abc`` -> ``sha256-abc``; LayoutError for anything but ``<alnum algorithm>:<lower-case hex>``."""
    if not isinstance(digest, str) or ":" not in digest:
        raise LayoutError("digest %r is not <algorithm>:<hex>" % (digest,))
    algo, hexpart = digest.split(":", 1)
    if not algo.isalnum() or not hexpart or any(c not in "0123456789abcdef" for c in hexpart):
        raise LayoutError("digest %r is not <algorithm>:<lower-case hex>" % digest)
    return "%s-%s" % (algo, hexpart)


def image_dir(unpack_dir, digest):
    return os.path.join(unpack_dir, digest_dirname(digest))


def read_json(path, limit=MAX_JSON_BYTES):
    """The JSON at ``path``: a regular file (a FIFO never blocks), at most ``limit`` bytes, nested at most
    MAX_JSON_DEPTH deep. FileReadError (reason ``missing`` for an absent file) or YamlBoundsError naming
    the path otherwise."""
    data = read_bytes(path, limit, what="")
    try:
        return load_json(data, MAX_JSON_DEPTH)
    except YamlBoundsError as exc:
        raise YamlBoundsError("%s %s" % (path, exc))
