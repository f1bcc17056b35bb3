#!/usr/bin/python
# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kpt_fn_images
short_description: List every function image and exec function of a kpt package tree
version_added: 1.0.0
description:
  - Reads every Kptfile under O(root), subpackages included, and lists the functions of their
    C(pipeline.mutators) and C(pipeline.validators) - the images (deduplicated across packages, each with the
    packages that use it and how many times) and, apart, the C(exec) functions. Changes nothing.
  - Each image reference is split into registry, repository, tag and digest, following the reference grammar
    docker, podman and kpt use - C(host:port/repo:tag), C(repo@sha256:...) and C(repo:tag@sha256:...) are
    understood; no tag and no digest means V(latest); with a digest and no tag no tag is implied.
  - Short names - an image with no C(/) at all (C(set-namespace:v0.4.1)) is prefixed by kpt itself with
    C(gcr.io/kpt-fn/) before 1.0.0-beta.59 and C(ghcr.io/kptdev/krm-functions-catalog/) from 1.0.0-beta.59 on.
    The kpt version is O(kpt_version) when given, else the output of C(kpt version). When neither is known,
    short names are listed unresolved (RV(images[].resolved) is null) with a warning.
  - Docker Hub - an image whose first component is not a registry (it holds no C(.) or C(:) and is not
    C(localhost)), for example C(example/fn:v1), is a Docker Hub one (registry V(docker.io),
    RV(images[].registry_implicit) true); that is docker's rule, while podman resolves such a name through the
    C(unqualified-search-registries) of its registries.conf (usually docker.io first). On docker.io a
    one-component repository is C(library/<name>) (C(docker.io/alpine) is C(docker.io/library/alpine)); a bare
    C(alpine) never reaches Docker Hub through kpt, since it is a short name and gets kpt's prefix.
  - C(exec) paths resolve against kpt's working directory, not the package (kpt 1.0.0-beta.56); the working
    directory is O(chdir), by default the top-level package's own directory (where C(kpt fn render PKG) of
    that package runs, as M(o2edge.perf.kpt_render) does). A bare name is looked up on PATH.
  - "Problems are reported per Kptfile with its path and the field, for example
    C(pkg/Kptfile: pipeline.mutators[2]: neither image nor exec) - bad YAML, wrong types, a pipeline that is
    not a mapping, an entry with neither or both of C(image) and C(exec), an invalid image reference, a tag
    and a digest together for a kpt that refuses that, more than one config, a C(configPath) that is absolute,
    leaves the package or names a missing file, an C(apiVersion) other than C(kpt.dev/v1). The scan goes on
    past every one of them."
  - C(selectors) and C(exclude) are reported as written, not interpreted.
  - The module fails only when O(root) does not exist, is not a directory, holds no Kptfile at all, or holds
    more than O(max_kptfiles) Kptfiles. A Kptfile over 1 MiB is not read, nor one whose YAML aliases expand to
    more than 10000 extra nodes; both are reported as problems of that Kptfile.
author:
  - o2edge.perf contributors (@o2edge)
attributes:
  platform:
    description: Python 3.9 or later with PyYAML; kpt is optional (only to read its version).
requirements:
  - PyYAML
options:
  root:
    description: A package, or a directory holding packages; every Kptfile below it is read (C(.git) skipped).
    type: path
    required: true
  kpt_version:
    description:
      - The kpt version whose short-name rule applies (for example V(1.0.0-beta.59)). When given, kpt is not run.
    type: str
  kpt_path:
    description: The kpt executable whose C(kpt version) is read when O(kpt_version) is not given. Defaults to C(kpt) on PATH.
    type: path
  chdir:
    description: kpt's working directory for resolving relative C(exec) paths. Defaults to each top-level package's directory.
    type: path
  max_kptfiles:
    description: The most Kptfiles read; a tree with more is refused (the walk stops there).
    type: int
    default: 10000
notes:
  - kpt 1.0.0-beta.56 refuses a Kptfile whose function image has both a tag and a digest; this is reported as a
    problem when the kpt version is known to be 1.0.0-beta.56 or older.
seealso:
  - module: o2edge.perf.kpt_render
extends_documentation_fragment:
  - o2edge.perf.attributes
"""

EXAMPLES = r"""
- name: List the function images of the pipeline's packages (for pre-pulling)
  o2edge.perf.kpt_fn_images:
    root: /srv/pipeline/packages
  register: fn_images

- name: Show what would be pulled
  ansible.builtin.debug:
    msg: "{{ fn_images.images | map(attribute='resolved') | list }}"

- name: Same list, for a kpt that is not installed here
  o2edge.perf.kpt_fn_images:
    root: /srv/pipeline/packages
    kpt_version: 1.0.0-beta.59
"""

RETURN = r"""
images:
  description: Every function image, once per resolved reference, sorted by it.
  returned: always
  type: list
  elements: dict
  contains:
    ref:
      description: The reference as written (the first spelling seen).
      type: str
    written_as:
      description: Every spelling seen of this image (V(set-namespace:v0.4.1) and its full form are one image).
      type: list
      elements: str
    resolved:
      description: The fully qualified reference pulled (null for a short name when the kpt version is unknown).
      type: str
    registry:
      description: The registry (V(docker.io) for a Docker Hub image).
      type: str
    repository:
      description: The repository inside the registry (C(library/) added for a one-component Docker Hub name).
      type: str
    tag:
      description: The tag (V(latest) when neither tag nor digest is written; null when only a digest is).
      type: str
    digest:
      description: The digest (C(sha256:...)), or null.
      type: str
    short_name:
      description: Whether kpt's short-name prefix was added.
      type: bool
    registry_implicit:
      description: Whether the registry was not written and Docker Hub is implied.
      type: bool
    tag_implicit:
      description: Whether the tag V(latest) is implied.
      type: bool
    kinds:
      description: V(mutator), V(validator) or both.
      type: list
      elements: str
    packages:
      description: The packages (relative to O(root), V(.) for the root) using the image, each once.
      type: list
      elements: str
    package_count:
      description: Number of packages using the image.
      type: int
    count:
      description: Number of pipeline entries using the image, over all packages.
      type: int
  sample:
    - ref: set-namespace:v0.4.1
      written_as: [set-namespace:v0.4.1, gcr.io/kpt-fn/set-namespace:v0.4.1]
      resolved: gcr.io/kpt-fn/set-namespace:v0.4.1
      registry: gcr.io
      repository: kpt-fn/set-namespace
      tag: v0.4.1
      digest: null
      short_name: true
      registry_implicit: false
      tag_implicit: false
      kinds: [mutator]
      packages: [edge1, edge1/sub]
      package_count: 2
      count: 3
exec_functions:
  description: Every C(exec) function, once per command and resolved path.
  returned: always
  type: list
  elements: dict
  contains:
    exec:
      description: The C(exec) value as written.
      type: str
    path:
      description: The executable kpt would run (relative paths against RV(exec_functions[].cwd), bare names on PATH); null when not found on PATH.
      type: str
    cwd:
      description: The working directory the path was resolved against.
      type: str
    exists:
      description: Whether the path is an executable file.
      type: bool
    kinds:
      description: V(mutator), V(validator) or both.
      type: list
      elements: str
    packages:
      description: The packages using it, each once.
      type: list
      elements: str
    package_count:
      description: Number of packages using it.
      type: int
    count:
      description: Number of pipeline entries using it.
      type: int
packages:
  description: One entry per Kptfile (each subpackage is a package), in path order.
  returned: always
  type: list
  elements: dict
  contains:
    path:
      description: The package directory relative to O(root) (V(.) for the root).
      type: str
    kptfile:
      description: The Kptfile relative to O(root).
      type: str
    cwd:
      description: The working directory its exec paths were resolved against.
      type: str
    mutators:
      description:
        - The package's mutators, each with field (C(pipeline.mutators[0])), stage, index, name, image, exec,
          image_info (the split reference, as in RV(images)), exec_path, config, selectors, exclude and valid.
        - config is null, or a dict whose C(source) is V(configPath) (with C(value) as written, C(path) resolved
          against the Kptfile's folder, C(exists)), V(configMap) (with its C(keys)) or V(configRef) (with C(value)).
      type: list
      elements: dict
    validators:
      description: The package's validators, as RV(packages[].mutators).
      type: list
      elements: dict
    problems:
      description: The Kptfile's problems, as RV(problems).
      type: list
      elements: dict
    valid:
      description: Whether the Kptfile has no problem.
      type: bool
problems:
  description: Every problem found, per Kptfile.
  returned: always
  type: list
  elements: dict
  contains:
    kptfile:
      description: The Kptfile relative to O(root).
      type: str
    field:
      description: The field (C(pipeline.mutators[2]), C(pipeline.validators[0].configPath)); empty for the whole file.
      type: str
    problem:
      description: What is wrong.
      type: str
    msg:
      description: "C(<kptfile>: <field>: <problem>), or C(<kptfile>: <problem>) for the whole file."
      type: str
  sample:
    - kptfile: edge2/Kptfile
      field: pipeline.mutators[2]
      problem: neither image nor exec
      msg: "edge2/Kptfile: pipeline.mutators[2]: neither image nor exec"
kpt_version:
  description: The kpt version used for short names (O(kpt_version), or C(kpt version)'s output); null if unknown.
  returned: always
  type: str
  sample: 1.0.0-beta.56
kpt_version_source:
  description: Where RV(kpt_version) came from - V(option), V(kpt version), or null.
  returned: always
  type: str
short_name_prefix:
  description: The prefix given to short image names (V(gcr.io/kpt-fn/) or V(ghcr.io/kptdev/krm-functions-catalog/)); null when the kpt version is unknown.
  returned: always
  type: str
  sample: gcr.io/kpt-fn/
short_name_reason:
  description: Why that prefix - the kpt version, where it came from, and its place against 1.0.0-beta.59.
  returned: always
  type: str
  sample: "kpt 1.0.0-beta.56 (from kpt version) is before 1.0.0-beta.59, which prefixes short names with gcr.io/kpt-fn/"
msg:
  description: A one-line summary.
  returned: always
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._fn_images import KptError, prefix_choice, scan_tree
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import kpt_version, parse_kpt_version
from ansible_collections.o2edge.perf.plugins.module_utils._params import range_error
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import HAS_YAML


def main():
    module = AnsibleModule(
        argument_spec=dict(
            root=dict(type="path", required=True),
            kpt_version=dict(type="str"),
            kpt_path=dict(type="path"),
            chdir=dict(type="path"),
            max_kptfiles=dict(type="int", default=10000),
        ),
        supports_check_mode=True,
    )
    p = module.params
    if not HAS_YAML:
        module.fail_json(msg=missing_required_lib("PyYAML") + " (kpt_fn_images reads Kptfiles with it)")
    root = p["root"]
    if not os.path.exists(root):
        module.fail_json(msg="root %s does not exist" % root)
    if not os.path.isdir(root):
        module.fail_json(msg="root %s is not a directory" % root)
    error = range_error(p, minimums=(("max_kptfiles", 1),))
    if error:
        module.fail_json(msg=error)
    if p["chdir"] is not None and not os.path.isdir(p["chdir"]):
        module.fail_json(msg="chdir %s is not a directory" % p["chdir"])

    version_text, source = None, None
    if p["kpt_version"] is not None:
        if parse_kpt_version(p["kpt_version"]) is None:
            module.fail_json(msg="kpt_version %r is not a kpt version (for example 1.0.0-beta.56)" % p["kpt_version"])
        version_text, source = p["kpt_version"].strip(), "option"
        version, prefix, reason = prefix_choice(version_text, "option kpt_version")
    else:
        kpt = p["kpt_path"] or module.get_bin_path("kpt")
        error = "kpt was not found on PATH" if not kpt else None
        if kpt:
            version_text, error = kpt_version(kpt)
            if version_text is not None:
                source = "kpt version"
        if version_text is None:
            version, prefix = None, None
            reason = ("kpt version unknown (%s) and kpt_version not given, so short image names are left "
                      "unresolved" % error)
        else:
            version, prefix, reason = prefix_choice(version_text, "%s version" % kpt)

    try:
        result = scan_tree(root, prefix, version=version, chdir=p["chdir"], max_kptfiles=p["max_kptfiles"])
    except KptError as exc:
        module.fail_json(msg="root %s: %s; raise max_kptfiles to read more" % (root, exc))
    if not result["packages"]:
        module.fail_json(msg="root %s holds no Kptfile (no kpt package under it)" % root)
    unresolved = [i["ref"] for i in result["images"] if i["resolved"] is None]
    if unresolved:
        module.warn("%s; unresolved: %s" % (reason, ", ".join(unresolved)))

    msg = "%d Kptfile(s): %d image(s), %d exec function(s), %d problem(s)" % (
        len(result["packages"]), len(result["images"]), len(result["exec_functions"]), len(result["problems"]))
    if result["problems"]:
        msg += "; first: %s" % result["problems"][0]["msg"]
    module.exit_json(changed=False, failed=False, msg=msg, kpt_version=version_text, kpt_version_source=source,
                     short_name_prefix=prefix, short_name_reason=reason, **result)


if __name__ == "__main__":
    main()
