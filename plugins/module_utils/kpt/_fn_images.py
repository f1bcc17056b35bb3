# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every function of a kpt package tree: image references split and resolved, exec functions, problems.

Image references follow the grammar of github.com/distribution/reference (what docker, podman
and kpt parse): ``[registry/]path[:tag][@digest]``.

* kpt's short names: an image with no ``/`` at all gets kpt's catalog prefix (see
  _kptfile.short_name_prefix): ``set-namespace:v0.4.1`` -> ``gcr.io/kpt-fn/set-namespace:v0.4.1``
  before 1.0.0-beta.59. kpt adds nothing else.
* Registry: the first path component is a registry when it holds a ``.`` or a ``:`` (a port) or is
  ``localhost`` (or has an upper-case letter, which a repository may not); otherwise the
  reference is a Docker Hub one (``docker.io``, reported with ``registry_implicit``). That is
  docker's rule; podman resolves such an unqualified name through ``unqualified-search-registries``
  of registries.conf, usually docker.io first. ``index.docker.io`` is docker.io.
* Docker Hub official images: on docker.io a one-component repository is ``library/<name>``
  (``docker.io/alpine`` -> ``docker.io/library/alpine``). A bare ``alpine`` never reaches Docker
  Hub through kpt: it is a short name and gets kpt's prefix.
* No tag and no digest means ``latest`` (``tag_implicit``); with a digest and no tag, no tag is
  implied (the runtime pulls by digest); with both, both are kept (the digest decides what runs).

Bounds: a Kptfile over MAX_KPTFILE_BYTES, or that is not a regular file (a FIFO, a device), is not
read (_safe_read); YAML nested deeper than MAX_YAML_DEPTH or holding more than MAX_YAML_VALUES
values once aliases are expanded is refused before it is parsed (_yaml_bounds): each such Kptfile
is one problem and the scan goes on. The number of Kptfiles is bounded by the caller.
"""

from __future__ import annotations

import os
import re

from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import (
    KRM_SWITCH, MAX_KPTFILE_BYTES, MAX_YAML_DEPTH, MAX_YAML_VALUES, KptError, file_problem, find_packages,
    kptfiles, parse_kpt_version, resolve_exec, short_name_prefix)
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import secret_value_reason
from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, check_regular, read_text
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import YamlBoundsError
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import load_yaml as bounded_yaml

YAML_HINT = "PyYAML is needed to read Kptfiles (pip install PyYAML, or the python3-yaml package)"
DEFAULT_MAX_KPTFILES = 10000
DOCKER_HUB = "docker.io"
KPTFILE_API = "kpt.dev/v1"
# kpt up to this version (checked with 1.0.0-beta.56) validates a function image with a grammar that
# allows a tag or a digest, not both: "repo:tag@sha256:..." makes it refuse the whole Kptfile.
TAG_AND_DIGEST_REFUSED_UPTO = (1, 0, 0, 1, 56)

_DOMAIN_COMPONENT = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_DOMAIN = re.compile(r"^(?:%s(?:\.%s)*|\[[0-9a-fA-F:.]+\])(?::[0-9]+)?$" % (_DOMAIN_COMPONENT, _DOMAIN_COMPONENT))
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$")
_NAME_MAX = 255


class RefError(ValueError):
    """An image reference that docker, podman and kpt would refuse; the message says why."""


# --------------------------------------------------------------------------- image references

def split_ref(ref):
    """``[registry/]repository[:tag][@digest]`` -> dict(registry, repository, tag, digest).

    registry is None when the reference names none. Raises RefError naming the faulty part.
    """
    if not isinstance(ref, str) or not ref.strip():
        raise RefError("empty reference")
    if ref != ref.strip() or any(c.isspace() for c in ref):
        raise RefError("white space in the reference")
    name, digest = ref, None
    if "@" in ref:
        name, digest = ref.split("@", 1)
        if not _DIGEST.match(digest):
            raise RefError("digest %r is not <algorithm>:<hex>" % digest)
        algo, hexpart = digest.split(":", 1)
        if algo == "sha256" and len(hexpart) != 64:
            raise RefError("sha256 digest has %d hex digits, not 64" % len(hexpart))
    tag = None
    colon = name.rfind(":")
    if colon > name.rfind("/"):
        name, tag = name[:colon], name[colon + 1:]
        if not _TAG.match(tag):
            raise RefError("tag %r is not valid (letters, digits, _ . -, at most 128, not starting with . or -)" % tag)
    if not name:
        raise RefError("no repository name")
    registry, path = None, name
    first, sep, rest = name.partition("/")
    if sep and (("." in first) or (":" in first) or first == "localhost" or first.lower() != first):
        registry, path = first, rest
        if not _DOMAIN.match(registry):
            raise RefError("registry %r is not a host name or host:port" % registry)
    if len(name) > _NAME_MAX:
        raise RefError("name longer than %d characters" % _NAME_MAX)
    for component in path.split("/"):
        if not _PATH_COMPONENT.match(component):
            raise RefError("repository component %r is not valid (lower-case letters and digits, "
                           "separated by . _ __ or -)" % component)
    return {"registry": registry, "repository": path, "tag": tag, "digest": digest}


def resolve_image(ref, prefix):
    """The image kpt and the runtime pull for ``ref`` written in a Kptfile.

    ``prefix`` is kpt's short-name prefix (None when the kpt version is unknown: a short name is
    then left unresolved). Returns a dict with ref, resolved (None when unresolved), registry,
    repository, tag, digest, short_name, registry_implicit, tag_implicit. Raises RefError.
    """
    split_ref(ref)  # the reference as written must be valid itself (kpt checks it before prefixing)
    short = "/" not in ref
    full = ref
    if short:
        if prefix is None:
            parts = split_ref(ref)
            return dict(ref=ref, resolved=None, registry=None, repository=parts["repository"],
                        tag=parts["tag"], digest=parts["digest"], short_name=True,
                        registry_implicit=False, tag_implicit=False)
        full = prefix + ref
    parts = split_ref(full)
    registry, repository = parts["registry"], parts["repository"]
    registry_implicit = registry is None
    if registry_implicit or registry == "index.docker.io":
        registry = DOCKER_HUB
    if registry == DOCKER_HUB and "/" not in repository:
        repository = "library/" + repository
    tag, tag_implicit = parts["tag"], False
    if tag is None and parts["digest"] is None:
        tag, tag_implicit = "latest", True
    resolved = "%s/%s" % (registry, repository)
    if tag:
        resolved += ":" + tag
    if parts["digest"]:
        resolved += "@" + parts["digest"]
    return dict(ref=ref, resolved=resolved, registry=registry, repository=repository, tag=tag,
                digest=parts["digest"], short_name=short, registry_implicit=registry_implicit,
                tag_implicit=tag_implicit)


def prefix_choice(version_text, source):
    """(parsed version, short-name prefix or None, the reason in words) for kpt ``version_text``.

    ``source`` says where the version came from (``option kpt_version``, ``kpt version``).
    """
    parsed = parse_kpt_version(version_text)
    prefix = short_name_prefix(parsed)
    if prefix is None:
        return None, None, ("kpt version %r (from %s) is not a kpt version, so short image names are left "
                            "unresolved; give kpt_version" % (version_text, source))
    return parsed, prefix, "kpt %s (from %s) is %s 1.0.0-beta.59, which prefixes short names with %s" % (
        version_text.strip(), source, "at or after" if parsed >= KRM_SWITCH else "before", prefix)


# --------------------------------------------------------------------------- reading a Kptfile

def _type_name(value):
    if value is None:
        return "null"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number"}.get(type(value), type(value).__name__)


def load_yaml(text, max_values=MAX_YAML_VALUES, max_depth=MAX_YAML_DEPTH):
    """One YAML document -> Python data; KptError for bad YAML, several documents, too deep or too many values.

    The bounds (depth, values once aliases are expanded, one document, no repeated key) are checked
    on the event stream before any recursive parser sees the text (_yaml_bounds).
    """
    try:
        return bounded_yaml(text, max_depth=max_depth, max_values=max_values)
    except YamlBoundsError as exc:
        raise KptError(str(exc))


def read_kptfile(path, max_bytes=MAX_KPTFILE_BYTES, max_values=MAX_YAML_VALUES, max_depth=MAX_YAML_DEPTH):
    """The loaded Kptfile at ``path``; KptError (a reason, without the path) when it cannot be used."""
    try:
        text = read_text(path, max_bytes, what="")
    except FileReadError as exc:
        raise KptError(file_problem(exc, path))
    return load_yaml(text, max_values, max_depth)


# --------------------------------------------------------------------------- one Kptfile

class _Problems(object):
    def __init__(self, kptfile):
        self.kptfile = kptfile
        self.items = []

    def add(self, field, problem):
        msg = "%s: %s: %s" % (self.kptfile, field, problem) if field else "%s: %s" % (self.kptfile, problem)
        self.items.append({"kptfile": self.kptfile, "field": field, "problem": problem, "msg": msg})


def _shown(value):
    """A value read from a Kptfile as a message may show it: short identifiers only, never a secret."""
    if value is None or isinstance(value, (bool, int, float)):
        return repr(value)
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z0-9_./-]{1,63}", value) and not secret_value_reason(value):
        return repr(value)
    return "(%s, not shown)" % _type_name(value)


def _within(path, top):
    """Whether the real path ``path`` is ``top`` or below it, compared by path components."""
    return os.path.commonpath([path, top]) == top


def _config(entry, field, kptfile_dir, problems):
    """Which config the function uses: configPath (resolved, checked), configMap, configRef or None."""
    sources = [key for key in ("configPath", "configMap", "configRef") if entry.get(key) not in (None, "", {})]
    if len(sources) > 1:
        problems.add(field, "%s given together (kpt takes at most one config)" % " and ".join(sources))
    if not sources:
        return None
    source = sources[0]
    value = entry[source]
    if source == "configPath":
        if not isinstance(value, str):
            problems.add(field + ".configPath", "is %s, not a path" % _type_name(value))
            return {"source": source, "value": value, "path": None, "exists": False}
        path = os.path.normpath(os.path.join(kptfile_dir, value))
        if os.path.isabs(value):
            problems.add(field + ".configPath", "%s is absolute; kpt wants a path inside the package" % value)
            return {"source": source, "value": value, "path": path, "exists": False}
        # Where the path leads decides whether it leaves the package (a symlink may lead out, a name
        # like fn-config..yaml does not); kpt 1.0.0-beta.56 itself refuses any ".." left in the cleaned text.
        dots = ".." in os.path.normpath(value)
        if not _within(os.path.realpath(path), os.path.realpath(kptfile_dir)):
            problems.add(field + ".configPath", "%s leaves the package; kpt refuses it" % value if dots else
                         "%s leads outside the package through a symbolic link; kpt would read a file outside "
                         "the package" % value)
            return {"source": source, "value": value, "path": path, "exists": False}
        if dots:
            problems.add(field + ".configPath", "%s stays inside the package but holds '..' in a name; kpt refuses "
                                                "it (it checks the text, not where the path leads)" % value)
        try:
            check_regular(path, what="")
        except FileReadError as exc:
            problems.add(field + ".configPath", "file %s" % exc)
            return {"source": source, "value": value, "path": path, "exists": False}
        return {"source": source, "value": value, "path": path, "exists": True}
    if source == "configMap":
        if not isinstance(value, dict):
            problems.add(field + ".configMap", "is %s, not a mapping" % _type_name(value))
            return {"source": source, "keys": []}
        return {"source": source, "keys": sorted(str(k) for k in value)}
    return {"source": source, "value": value}


def _function(entry, stage, index, kptfile_dir, cwd, prefix, version, problems):
    """One pipeline entry -> its descriptor (``valid`` False when kpt would refuse it)."""
    field = "pipeline.%s[%d]" % (stage, index)
    fn = {"field": field, "stage": stage[:-1], "index": index, "name": None, "image": None, "exec": None,
          "image_info": None, "exec_path": None, "config": None, "selectors": None, "exclude": None,
          "valid": False}
    if not isinstance(entry, dict):
        problems.add(field, "is %s, not a mapping" % _type_name(entry))
        return fn
    before = len(problems.items)
    if isinstance(entry.get("name"), str):
        fn["name"] = entry["name"]
    image, spec = entry.get("image"), entry.get("exec")
    for key, value in (("image", image), ("exec", spec)):
        if value is not None and not isinstance(value, str):
            problems.add("%s.%s" % (field, key), "is %s, not a string" % _type_name(value))
    image = image.strip() if isinstance(image, str) and image.strip() else None
    spec = spec.strip() if isinstance(spec, str) and spec.strip() else None
    fn["image"], fn["exec"] = image, spec
    if image is None and spec is None:
        problems.add(field, "neither image nor exec")
    elif image is not None and spec is not None:
        problems.add(field, "both image and exec (kpt refuses a function with both)")
    elif image is not None:
        try:
            fn["image_info"] = resolve_image(image, prefix)
        except RefError as exc:
            hidden = secret_value_reason(image)
            problems.add(field + ".image", "invalid image reference %r: %s" % (image, exc) if not hidden else
                         "invalid image reference (not shown: it %s)" % hidden)
        else:
            info = fn["image_info"]
            if info["tag"] and info["digest"] and not info["tag_implicit"] and version is not None \
                    and version <= TAG_AND_DIGEST_REFUSED_UPTO:
                problems.add(field + ".image", "a tag and a digest together: this kpt version refuses the "
                                               "reference (1.0.0-beta.56 allows one or the other)")
    else:
        fn["exec_path"] = resolve_exec(spec, cwd)
    fn["config"] = _config(entry, field, kptfile_dir, problems)
    for key in ("selectors", "exclude"):
        if key in entry and entry[key] is not None:
            if not isinstance(entry[key], list):
                problems.add("%s.%s" % (field, key), "is %s, not a list" % _type_name(entry[key]))
            fn[key] = entry[key]
    fn["valid"] = len(problems.items) == before
    return fn


def analyze_kptfile(doc, kptfile_rel, kptfile_dir, cwd, prefix, version=None, problems=None):
    """The functions of one loaded Kptfile: dict(mutators, validators, problems)."""
    problems = problems or _Problems(kptfile_rel)
    out = {"mutators": [], "validators": [], "problems": problems.items}
    if doc is None:
        problems.add("", "empty Kptfile")
        return out
    if not isinstance(doc, dict):
        problems.add("", "is %s, not a mapping" % _type_name(doc))
        return out
    if doc.get("apiVersion") != KPTFILE_API:
        problems.add("apiVersion", "%s, not %s (kpt 1.0 refuses other Kptfile versions)" % (
            _shown(doc.get("apiVersion")), KPTFILE_API))
    if doc.get("kind") != "Kptfile":
        problems.add("kind", "%s, not Kptfile" % _shown(doc.get("kind")))
    pipeline = doc.get("pipeline")
    if pipeline is None:
        return out
    if not isinstance(pipeline, dict):
        problems.add("pipeline", "is %s, not a mapping" % _type_name(pipeline))
        return out
    for stage in ("mutators", "validators"):
        entries = pipeline.get(stage)
        if entries is None:
            continue
        if not isinstance(entries, list):
            problems.add("pipeline." + stage, "is %s, not a list" % _type_name(entries))
            continue
        for index, entry in enumerate(entries):
            out[stage].append(_function(entry, stage, index, kptfile_dir, cwd, prefix, version, problems))
    return out


# --------------------------------------------------------------------------- a package tree

def _owner(path, tops):
    """The top-level package directory holding ``path`` (kpt runs from there by default)."""
    best = None
    for top in tops:
        if path == top or path.startswith(top.rstrip(os.sep) + os.sep):
            if best is None or len(top) > len(best):
                best = top
    return best or os.path.dirname(path)


def _use(table, key, base, kind, pkg):
    item = table.get(key)
    if item is None:
        item = dict(base, kinds=[], packages=[], count=0)
        table[key] = item
    if kind not in item["kinds"]:
        item["kinds"].append(kind)
    if pkg not in item["packages"]:
        item["packages"].append(pkg)
    item["count"] += 1
    return item


def scan_tree(root, prefix, version=None, chdir=None, max_kptfiles=DEFAULT_MAX_KPTFILES,
              max_bytes=MAX_KPTFILE_BYTES, max_values=MAX_YAML_VALUES):
    """Every function of every Kptfile under ``root``; raises KptError only for the tree as a whole.

    ``chdir``: kpt's working directory, against which relative exec paths resolve; by default each
    top-level package's own directory (where ``kpt fn render`` of that package runs).
    Returns dict(images, exec_functions, packages, problems).
    """
    root = os.path.abspath(root)
    paths = kptfiles(root, limit=max_kptfiles)
    tops = find_packages(root)
    images, execs, packages, problems = {}, {}, [], []
    for path in paths:
        pkg_dir = os.path.dirname(path)
        rel_pkg = os.path.relpath(pkg_dir, root)
        rel_kptfile = os.path.relpath(path, root)
        cwd = chdir or _owner(pkg_dir, tops)
        collected = _Problems(rel_kptfile)
        try:
            doc = read_kptfile(path, max_bytes, max_values)
        except KptError as exc:
            collected.add("", str(exc))
            found = {"mutators": [], "validators": [], "problems": collected.items}
        else:
            found = analyze_kptfile(doc, rel_kptfile, pkg_dir, cwd, prefix, version, collected)
        for fn in found["mutators"] + found["validators"]:
            if fn["image_info"] is not None:
                info = fn["image_info"]
                key = info["resolved"] or info["ref"]
                item = _use(images, key, dict(info, written_as=[]), fn["stage"], rel_pkg)
                if info["ref"] not in item["written_as"]:
                    item["written_as"].append(info["ref"])
            elif fn["exec"] is not None and fn["image"] is None:
                exec_path = fn["exec_path"]
                base = {"exec": fn["exec"], "path": exec_path, "cwd": cwd,
                        "exists": bool(exec_path) and os.path.isfile(exec_path) and os.access(exec_path, os.X_OK)}
                _use(execs, (fn["exec"], exec_path), base, fn["stage"], rel_pkg)
        packages.append({"path": rel_pkg, "kptfile": rel_kptfile, "cwd": cwd, "mutators": found["mutators"],
                         "validators": found["validators"], "problems": found["problems"],
                         "valid": not found["problems"]})
        problems.extend(found["problems"])
    image_list = sorted(images.values(), key=lambda i: (i["resolved"] or i["ref"]))
    exec_list = sorted(execs.values(), key=lambda e: (e["exec"], e["path"] or ""))
    for item in image_list + exec_list:
        item["packages"].sort()
        item["package_count"] = len(item["packages"])
    return {"images": image_list, "exec_functions": exec_list, "packages": packages, "problems": problems}
