# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""kpt/_fn_images.py: tests written for the survivors of its whole mutation run.

Each test is named for the bug it catches: an image reference, a Kptfile or a package tree the scan
must read or refuse, with the exact images, descriptors and messages it reports. No kpt is run:
every tree is written in tmp_path.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _fn_images as fi
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kptfile as kf

OLD = "gcr.io/kpt-fn/"
BETA56, BETA57 = (1, 0, 0, 1, 56), (1, 0, 0, 1, 57)
D1 = "sha256:" + "1" * 64
HEAD = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n"
TAG_RULE = "(letters, digits, _ . -, at most 128, not starting with . or -)"
COMPONENT_RULE = "(lower-case letters and digits, separated by . _ __ or -)"


def _refusal(ref):
    with pytest.raises(fi.RefError) as err:
        fi.split_ref(ref)
    return str(err.value)


def _write(base, rel, text):
    pkg = base.joinpath(*rel.split("/"))
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "Kptfile").write_text(text)
    return pkg


def _scan_entry(tmp_path, entry, version=BETA56):
    """A package ``p`` whose only mutator is ``entry`` (YAML lines under ``- ``): (result, package dir)."""
    pkg = _write(tmp_path, "p", HEAD + "pipeline:\n  mutators:\n    - " + entry.replace("\n", "\n      ") + "\n")
    return fi.scan_tree(str(pkg), OLD, version=version), pkg


def _problems(result):
    return [(p["field"], p["problem"]) for p in result["problems"]]


# --------------------------------------------------------------------- references: each refusal, whole

@pytest.mark.parametrize("ref, message", [
    ("", "empty reference"),
    ("gcr.io/x y:v1", "white space in the reference"),
    # two '@': the digest is everything after the first one (a split into three raised ValueError instead)
    ("gcr.io/x@%s@%s" % (D1, D1), "digest %r is not <algorithm>:<hex>" % (D1 + "@" + D1)),
    ("gcr.io/x@sha256:abc", "digest 'sha256:abc' is not <algorithm>:<hex>"),
    ("gcr.io/x@sha256:" + "a" * 63, "sha256 digest has 63 hex digits, not 64"),
    ("gcr.io/x:-bad", "tag '-bad' is not valid %s" % TAG_RULE),
    (":v1", "no repository name"),
    ("bad_host.example/x:v1", "registry 'bad_host.example' is not a host name or host:port"),
    ("gcr.io/kpt-fn/Set:v1", "repository component 'Set' is not valid %s" % COMPONENT_RULE),
    ("gcr.io/" + "a" * 249, "name longer than 255 characters"),
])
def test_each_reference_refusal_says_exactly_why(ref, message):
    assert _refusal(ref) == message


def test_name_of_exactly_255_characters_is_accepted_and_256_refused():
    # bugs: the bound at 256, or `>=` refusing the longest name docker accepts (255)
    name = "gcr.io/" + "a" * 248
    assert len(name) == 255
    assert fi.split_ref(name + ":v1") == {"registry": "gcr.io", "repository": "a" * 248, "tag": "v1", "digest": None}
    assert _refusal(name + "a:v1") == "name longer than 255 characters"


def test_a_name_without_colon_or_slash_has_no_tag():
    # bug: `colon >= slash` (both -1) took the whole name as its tag and cut the last letter off the repository
    assert fi.split_ref("alpine") == {"registry": None, "repository": "alpine", "tag": None, "digest": None}


def test_short_name_left_unresolved_without_kpt_version_is_listed_whole(tmp_path):
    # bugs: a key misspelt or a flag flipped in the unresolved short name's descriptor (short_name,
    # registry_implicit, tag_implicit), or the repository cut short
    pkg = _write(tmp_path, "p", HEAD + "pipeline:\n  mutators:\n    - image: set-namespace\n")
    result = fi.scan_tree(str(pkg), None, version=None)
    assert result["images"] == [{
        "ref": "set-namespace", "resolved": None, "registry": None, "repository": "set-namespace", "tag": None,
        "digest": None, "short_name": True, "registry_implicit": False, "tag_implicit": False,
        "written_as": ["set-namespace"], "kinds": ["mutator"], "packages": ["."], "count": 1, "package_count": 1}]
    assert result["problems"] == []


# --------------------------------------------------------------------- the reason for the prefix, whole

def test_prefix_reason_is_exact():
    # bugs: the operator-facing reasons reworded or cut
    assert fi.prefix_choice("garbage", "kpt version") == (None, None, (
        "kpt version 'garbage' (from kpt version) is not a kpt version, so short image names are left "
        "unresolved; give kpt_version"))
    assert fi.prefix_choice(" 1.0.0-beta.56\n", "option kpt_version") == (BETA56, OLD, (
        "kpt 1.0.0-beta.56 (from option kpt_version) is before 1.0.0-beta.59, which prefixes short names with "
        "gcr.io/kpt-fn/"))


# --------------------------------------------------------------------- Kptfile problems: field and message, whole

@pytest.mark.parametrize("text, problems", [
    ("", [("", "empty Kptfile")]),
    ("- a\n", [("", "is a list, not a mapping")]),
    # a number and a missing value are shown as such (bug: `and` in _shown hid them as "(a number, not shown)")
    ("apiVersion: 1\nmetadata: {}\n", [("apiVersion", "1, not kpt.dev/v1 (kpt 1.0 refuses other Kptfile versions)"),
                                       ("kind", "None, not Kptfile")]),
    ("apiVersion: kpt.dev/v1\nkind: Other\n", [("kind", "'Other', not Kptfile")]),
    (HEAD + "pipeline: []\n", [("pipeline", "is a list, not a mapping")]),
    (HEAD + "pipeline:\n  mutators: {}\n  validators: x\n", [("pipeline.mutators", "is a mapping, not a list"),
                                                             ("pipeline.validators", "is a string, not a list")]),
])
def test_kptfile_level_problems_are_exact(tmp_path, text, problems):
    _write(tmp_path, "p", text)
    result = fi.scan_tree(str(tmp_path / "p"), OLD, version=BETA56)
    assert _problems(result) == problems
    assert [p["kptfile"] for p in result["problems"]] == ["Kptfile"] * len(problems)
    assert [p["msg"] for p in result["problems"]] == [
        "Kptfile: %s: %s" % (f, p) if f else "Kptfile: %s" % p for f, p in problems]


def test_whole_kptfile_problem_message_names_the_kptfile_alone(tmp_path):
    # bug: the message without a field garbled (only the field form was checked)
    _write(tmp_path, "a/b", "")
    result = fi.scan_tree(str(tmp_path), OLD)
    assert result["problems"] == [{"kptfile": "a/b/Kptfile", "field": "", "problem": "empty Kptfile",
                                   "msg": "a/b/Kptfile: empty Kptfile"}]


@pytest.mark.parametrize("entry, problems", [
    ("null", [("pipeline.mutators[0]", "is null, not a mapping")]),
    ("image: true", [("pipeline.mutators[0].image", "is a boolean, not a string"),
                     ("pipeline.mutators[0]", "neither image nor exec")]),
    ("exec: 1.5", [("pipeline.mutators[0].exec", "is a number, not a string"),
                   ("pipeline.mutators[0]", "neither image nor exec")]),
    ("image: x/y:v1\nexec: ./fn.sh", [("pipeline.mutators[0]", "both image and exec (kpt refuses a function with both)")]),
    ("image: gcr.io/x:-bad", [("pipeline.mutators[0].image",
                               "invalid image reference 'gcr.io/x:-bad': tag '-bad' is not valid %s" % TAG_RULE)]),
    ("image: gcr.io/x:v1@" + D1, [("pipeline.mutators[0].image", "a tag and a digest together: this kpt version "
                                   "refuses the reference (1.0.0-beta.56 allows one or the other)")]),
    ("image: x/y:v1\nselectors: {kind: ConfigMap}", [("pipeline.mutators[0].selectors", "is a mapping, not a list")]),
    ("image: x/y:v1\nconfigMap: [a]", [("pipeline.mutators[0].configMap", "is a list, not a mapping")]),
    ("image: x/y:v1\nconfigPath: 5", [("pipeline.mutators[0].configPath", "is a number, not a path")]),
    ("image: x/y:v1\nconfigPath: /etc/hostname", [("pipeline.mutators[0].configPath",
                                                   "/etc/hostname is absolute; kpt wants a path inside the package")]),
    ("image: x/y:v1\nconfigMap: {a: b}\nconfigRef: cfg", [
        ("pipeline.mutators[0]", "configMap and configRef given together (kpt takes at most one config)")]),
])
def test_function_problems_are_exact(tmp_path, entry, problems):
    result, _pkg = _scan_entry(tmp_path, entry)
    assert _problems(result) == problems
    assert result["packages"][0]["mutators"][0]["valid"] is False


def _entry_in_memory(entry, version):
    """One mutator analysed from a loaded Kptfile (no file is read: no configPath in ``entry``)."""
    out = fi.analyze_kptfile({"apiVersion": "kpt.dev/v1", "kind": "Kptfile", "pipeline": {"mutators": [entry]}},
                             "p/Kptfile", "/nonexistent/p", "/nonexistent/p", OLD, version)
    return out["mutators"][0], [(p["field"], p["problem"]) for p in out["problems"]]


def test_tag_and_digest_accepted_after_beta56():
    # bug: the refusal extended to kpt 1.0.0-beta.57, which the checked bound (beta.56) does not cover
    fn, problems = _entry_in_memory({"image": "gcr.io/x:v1@" + D1}, BETA57)
    assert problems == [] and fn["valid"] is True
    assert fn["image_info"]["resolved"] == "gcr.io/x:v1@" + D1


def test_analyze_kptfile_without_a_collector_makes_its_own():
    # bug: `problems and _Problems(...)`: called as documented (no collector) it crashed on None
    out = fi.analyze_kptfile(None, "p/Kptfile", "/nonexistent/p", "/nonexistent/p", OLD)
    assert out == {"mutators": [], "validators": [], "problems": [
        {"kptfile": "p/Kptfile", "field": "", "problem": "empty Kptfile", "msg": "p/Kptfile: empty Kptfile"}]}


# --------------------------------------------------------------------- which config a function uses, whole

def test_config_descriptors_are_exact(tmp_path):
    # bugs: a key misspelt, or `exists` True, in the descriptor of each refused configPath; configRef not seen
    pkg = tmp_path / "p"
    (tmp_path / "outside.yaml").write_text("data: {}\n")
    entries = [
        "configPath: 5",
        "configPath: /etc/hostname",
        "configPath: ../outside.yaml",
        "configPath: nope.yaml",
        "configMap: [a]",
        "configRef: cfg",
        "configPath: ''\nconfigMap: {b: 1, a: 2}",  # an empty configPath is no config (bug: "" taken as one)
        "configPath: ''",
    ]
    text = HEAD + "pipeline:\n  mutators:\n" + "".join(
        "    - image: x/y:v1\n" + "".join("      %s\n" % line for line in e.split("\n")) for e in entries)
    _write(tmp_path, "p", text)
    result = fi.scan_tree(str(pkg), OLD, version=BETA56)
    configs = [fn["config"] for fn in result["packages"][0]["mutators"]]
    assert configs == [
        {"source": "configPath", "value": 5, "path": None, "exists": False},
        {"source": "configPath", "value": "/etc/hostname", "path": "/etc/hostname", "exists": False},
        {"source": "configPath", "value": "../outside.yaml", "path": str(tmp_path / "outside.yaml"), "exists": False},
        {"source": "configPath", "value": "nope.yaml", "path": str(pkg / "nope.yaml"), "exists": False},
        {"source": "configMap", "keys": []},
        {"source": "configRef", "value": "cfg"},
        {"source": "configMap", "keys": ["a", "b"]},
        None,
    ]
    assert _problems(result) == [
        ("pipeline.mutators[0].configPath", "is a number, not a path"),
        ("pipeline.mutators[1].configPath", "/etc/hostname is absolute; kpt wants a path inside the package"),
        ("pipeline.mutators[2].configPath", "../outside.yaml leaves the package; kpt refuses it"),
        ("pipeline.mutators[3].configPath", "file %s does not exist" % (pkg / "nope.yaml")),
        ("pipeline.mutators[4].configMap", "is a list, not a mapping"),
    ]
    assert [fn["valid"] for fn in result["packages"][0]["mutators"]] == [False] * 5 + [True] * 3


def test_two_dots_in_a_config_name_is_reported_on_the_configpath_field(tmp_path):
    # bug: the problem filed under a garbled field name
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "fn-config..yaml").write_text("data: {}\n")
    result, pkg = _scan_entry(tmp_path, "image: x/y:v1\nconfigPath: fn-config..yaml")
    assert _problems(result) == [("pipeline.mutators[0].configPath", "fn-config..yaml stays inside the package but "
                                  "holds '..' in a name; kpt refuses it (it checks the text, not where the path leads)")]
    assert result["packages"][0]["mutators"][0]["config"] == {
        "source": "configPath", "value": "fn-config..yaml", "path": str(pkg / "fn-config..yaml"), "exists": True}


# --------------------------------------------------------------------- descriptors of functions, packages, exec functions

NOT_A_FUNCTION = {"field": "pipeline.mutators[1]", "stage": "mutator", "index": 1, "name": None, "image": None,
                  "exec": None, "image_info": None, "exec_path": None, "config": None, "selectors": None,
                  "exclude": None, "valid": False}


def test_package_function_and_exec_descriptors_are_whole(tmp_path):
    # bugs: a key missing or misspelt in a function's descriptor (name, image, exec_path, config, exclude,
    # valid), a non-mapping entry called valid, the package's kptfile or cwd key, the exec function's cwd key
    pkg = _write(tmp_path, "p", HEAD + "pipeline:\n  mutators:\n    - image: set-namespace:v0.4.1\n    - 7\n"
                 "  validators:\n    - exec: ./fns/check.sh\n      name: check\n")
    result = fi.scan_tree(str(pkg), OLD, version=BETA56)
    info = fi.resolve_image("set-namespace:v0.4.1", OLD)
    assert result["packages"] == [{
        "path": ".", "kptfile": "Kptfile", "cwd": str(pkg), "valid": False,
        "mutators": [
            {"field": "pipeline.mutators[0]", "stage": "mutator", "index": 0, "name": None,
             "image": "set-namespace:v0.4.1", "exec": None, "image_info": info, "exec_path": None, "config": None,
             "selectors": None, "exclude": None, "valid": True},
            NOT_A_FUNCTION],
        "validators": [
            {"field": "pipeline.validators[0]", "stage": "validator", "index": 0, "name": "check", "image": None,
             "exec": "./fns/check.sh", "image_info": None, "exec_path": str(pkg / "fns" / "check.sh"), "config": None,
             "selectors": None, "exclude": None, "valid": True}],
        "problems": [{"kptfile": "Kptfile", "field": "pipeline.mutators[1]", "problem": "is a number, not a mapping",
                      "msg": "Kptfile: pipeline.mutators[1]: is a number, not a mapping"}]}]
    assert result["exec_functions"] == [{
        "exec": "./fns/check.sh", "path": str(pkg / "fns" / "check.sh"), "cwd": str(pkg), "exists": False,
        "kinds": ["validator"], "packages": ["."], "count": 1, "package_count": 1}]
    assert [i["resolved"] for i in result["images"]] == ["gcr.io/kpt-fn/set-namespace:v0.4.1"]


def test_one_exec_resolved_in_two_places_is_listed_by_path(tmp_path):
    # bug: the sort key losing the path (`path and ""`): the list kept the walk's order, x/z first
    root = tmp_path / "root"
    for rel in ("x/z", "y"):
        _write(root, rel, HEAD + "pipeline:\n  validators:\n    - exec: ../fn.sh\n")
    result = fi.scan_tree(str(root), OLD)
    assert [(e["path"], e["packages"], e["cwd"]) for e in result["exec_functions"]] == [
        (str(root / "fn.sh"), ["y"], str(root / "y")),
        (str(root / "x" / "fn.sh"), ["x/z"], str(root / "x" / "z"))]


# --------------------------------------------------------------------- the default bound on the number of Kptfiles

def test_default_bound_refuses_the_10001st_kptfile(tmp_path, monkeypatch):
    """bugs: the default raised to 10001, or no default bound at all (a huge tree walked and read whole).

    10001 real package folders cost 1-2 s on a loaded machine (and stay in pytest's kept temp folders),
    so the walk of ``tree`` lists them without their being made: the scan's own code counts and refuses
    them, and a scan that went on would find none of them on disk (a problem each, no error).
    """
    tree = str(tmp_path / "tree")
    os.mkdir(tree)
    names = ["p%05d" % i for i in range(10001)]
    real_walk = os.walk

    def walk(top, *args, **kwargs):
        if top != tree:
            yield from real_walk(top, *args, **kwargs)
            return
        yield tree, list(names), []
        for name in names:
            yield os.path.join(tree, name), [], ["Kptfile"]

    monkeypatch.setattr(os, "walk", walk)
    with pytest.raises(kf.KptError) as err:
        fi.scan_tree(tree, OLD)
    assert str(err.value) == "%s holds more than 10000 Kptfiles" % tree
