# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Function images of a package tree: references split and resolved, the corpus in fixtures_kptfiles/.

Each test names the plausible bug it is there to catch.
"""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _fn_images as fi
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kptfile as kf

CORPUS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures_kptfiles", "tree")
OLD, NEW = "gcr.io/kpt-fn/", "ghcr.io/kptdev/krm-functions-catalog/"
BETA56, BETA59 = (1, 0, 0, 1, 56), (1, 0, 0, 1, 59)
D1 = "sha256:" + "1" * 64
D2 = "sha256:" + "2" * 64

# (kptfile, field, words of the problem) for every defect of the corpus, in the order reported.
EXPECTED_PROBLEMS = [
    ("alias-bomb/Kptfile", "", "holds more than 100000 values once YAML aliases are expanded"),
    ("bad-ref/Kptfile", "pipeline.mutators[0].image", "repository component 'Set-Labels'"),
    ("bad-ref/Kptfile", "pipeline.mutators[1].image", "digest 'sha256:abc'"),
    ("broken-yaml/Kptfile", "", "is not valid YAML"),
    ("edge1/sub/deeper/Kptfile", "pipeline.validators[0].image", "a tag and a digest together"),
    ("empty/Kptfile", "", "empty Kptfile"),
    ("missing-config/Kptfile", "pipeline.mutators[0].configPath", "missing-config/nope.yaml does not exist"),
    ("missing-config/Kptfile", "pipeline.mutators[1].configPath", "leaves the package"),
    ("missing-config/Kptfile", "pipeline.mutators[2].configPath", "is absolute"),
    ("missing-config/Kptfile", "pipeline.mutators[3]", "configPath and configMap given together"),
    ("multi-doc/Kptfile", "", "holds more than 1 YAML document"),
    ("no-fn/Kptfile", "pipeline.mutators[2]", "neither image nor exec"),
    ("no-fn/Kptfile", "pipeline.mutators[3]", "both image and exec"),
    ("not-mapping/Kptfile", "", "is a list, not a mapping"),
    ("old-api/Kptfile", "apiVersion", "'kpt.dev/v1alpha2', not kpt.dev/v1"),
    ("pipeline-list/Kptfile", "pipeline", "is a list, not a mapping"),
    ("wrong-types/Kptfile", "pipeline.mutators", "is a mapping, not a list"),
    ("wrong-types/Kptfile", "pipeline.validators[0]", "is a string, not a mapping"),
    ("wrong-types/Kptfile", "pipeline.validators[1].image", "is a number, not a string"),
    ("wrong-types/Kptfile", "pipeline.validators[1]", "neither image nor exec"),
    ("wrong-types/Kptfile", "pipeline.validators[2].configMap", "is a list, not a mapping"),
    ("wrong-types/Kptfile", "pipeline.validators[2].selectors", "is a mapping, not a list"),
]


@pytest.fixture(scope="module")
def corpus():
    return fi.scan_tree(CORPUS, OLD, version=BETA56)


def image(result, resolved):
    found = [i for i in result["images"] if i["resolved"] == resolved]
    assert len(found) == 1, [i["resolved"] for i in result["images"]]
    return found[0]


def package(result, path):
    return [p for p in result["packages"] if p["path"] == path][0]


# --------------------------------------------------------------------- references

@pytest.mark.parametrize("ref,registry,repository,tag,digest", [
    # registry with a port: the port must not be taken for a tag
    ("198.18.0.1:5000/kpt-fn/require-labels:v1", "198.18.0.1:5000", "kpt-fn/require-labels", "v1", None),
    ("localhost:5000/fn", "localhost:5000", "fn", None, None),
    ("localhost/fn:v2", "localhost", "fn", "v2", None),
    # a digest alone: no tag, the digest kept whole
    ("gcr.io/kpt-fn/x@" + D1, "gcr.io", "kpt-fn/x", None, D1),
    # tag and digest: both kept (a bug splitting on the first ':' would lose one)
    ("gcr.io/kpt-fn/x:v1.2@" + D2, "gcr.io", "kpt-fn/x", "v1.2", D2),
    ("registry.example.net:443/a/b/c:v1@" + D1, "registry.example.net:443", "a/b/c", "v1", D1),
    # no registry written
    ("example/fn:v1", None, "example/fn", "v1", None),
    ("set-namespace:v0.4.1", None, "set-namespace", "v0.4.1", None),
])
def test_split_ref(ref, registry, repository, tag, digest):
    assert fi.split_ref(ref) == {"registry": registry, "repository": repository, "tag": tag, "digest": digest}


@pytest.mark.parametrize("ref,reason", [
    ("", "empty"),
    ("gcr.io/kpt-fn/Upper:v1", "'Upper'"),
    ("gcr.io/x:", "tag ''"),
    ("gcr.io/x:-bad", "tag '-bad'"),
    ("gcr.io/x@sha256:abc", "is not <algorithm>:<hex>"),
    ("gcr.io/x@sha256:" + "a" * 63 + "0" * 2, "65 hex digits"),
    ("gcr.io/x y:v1", "white space"),
    ("bad_host.example:99999x/x", "registry"),
])
def test_split_ref_refuses(ref, reason):
    with pytest.raises(fi.RefError) as err:
        fi.split_ref(ref)
    assert reason in str(err.value)


@pytest.mark.parametrize("ref,prefix,resolved", [
    # kpt's short names: the prefix follows the kpt version
    ("set-namespace:v0.4.1", OLD, "gcr.io/kpt-fn/set-namespace:v0.4.1"),
    ("set-namespace:v0.4.1", NEW, "ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1"),
    ("set-namespace", OLD, "gcr.io/kpt-fn/set-namespace:latest"),
    ("set-namespace@" + D1, NEW, "ghcr.io/kptdev/krm-functions-catalog/set-namespace@" + D1),
    # anything with a '/' is left to the runtime: Docker Hub when no registry
    ("example/fn", OLD, "docker.io/example/fn:latest"),
    # docker.io one-component names are library/ images; index.docker.io is docker.io
    ("docker.io/alpine:3", OLD, "docker.io/library/alpine:3"),
    ("index.docker.io/alpine", OLD, "docker.io/library/alpine:latest"),
    ("docker.io/org/fn:v1", OLD, "docker.io/org/fn:v1"),
    ("198.18.0.1:5000/kpt-fn/x", OLD, "198.18.0.1:5000/kpt-fn/x:latest"),
])
def test_resolve_image(ref, prefix, resolved):
    assert fi.resolve_image(ref, prefix)["resolved"] == resolved


def test_resolve_flags():
    short = fi.resolve_image("set-namespace:v0.4.1", OLD)
    assert short["short_name"] and short["registry"] == "gcr.io" and short["repository"] == "kpt-fn/set-namespace"
    hub = fi.resolve_image("example/fn", OLD)
    assert hub["registry_implicit"] and hub["tag_implicit"] and not hub["short_name"]
    assert fi.resolve_image("gcr.io/x@" + D1, OLD)["tag_implicit"] is False  # a digest implies no tag
    unknown = fi.resolve_image("set-namespace:v0.4.1", None)  # kpt version unknown: not guessed
    assert unknown["resolved"] is None and unknown["registry"] is None and unknown["tag"] == "v0.4.1"


@pytest.mark.parametrize("text,prefix,word", [
    ("1.0.0-beta.56", OLD, "before"),
    ("1.0.0-beta.58", OLD, "before"),
    ("v1.0.0-beta.59\n", NEW, "at or after"),  # the boundary itself: a `>` instead of `>=` fails here
    ("1.0.0-beta.61", NEW, "at or after"),
    ("1.0.0", NEW, "at or after"),
    ("0.39.2", OLD, "before"),
])
def test_prefix_follows_kpt_version(text, prefix, word):
    parsed, got, reason = fi.prefix_choice(text, "option kpt_version")
    assert got == prefix and parsed == kf.parse_kpt_version(text)
    assert word in reason and prefix in reason and "option kpt_version" in reason
    assert kf.short_name_prefix(parsed) == prefix


def test_prefix_unknown_version():
    assert fi.prefix_choice("garbage", "kpt version")[:2] == (None, None)
    assert kf.short_name_prefix(None) is None


# --------------------------------------------------------------------- the corpus

def test_every_problem_reported_with_field(corpus):
    got = [(p["kptfile"], p["field"], p["problem"]) for p in corpus["problems"]]
    assert [got_one[:2] for got_one in got] == [expected[:2] for expected in EXPECTED_PROBLEMS]
    for got_one, expected in zip(got, EXPECTED_PROBLEMS):
        assert expected[2] in got_one[2]
    first = [p for p in corpus["problems"] if p["kptfile"] == "no-fn/Kptfile"][0]
    assert first["msg"] == "no-fn/Kptfile: pipeline.mutators[2]: neither image nor exec"


def test_malformed_kptfiles_do_not_stop_the_scan(corpus):
    # bug: the first bad Kptfile (alias-bomb, bad-ref, broken-yaml sort first) aborts the walk
    paths = [p["path"] for p in corpus["packages"]]
    assert paths == sorted(paths) and len(paths) == 16
    assert "wrong-types" in paths and "edge2" in paths
    assert package(corpus, "edge2")["valid"] and not package(corpus, "broken-yaml")["valid"]
    # nothing of an unreadable Kptfile is listed
    assert not [i for i in corpus["images"] if "never-seen" in i["ref"]]
    # a malformed Kptfile's valid entries are still listed (wrong-types' validators[2])
    assert image(corpus, "gcr.io/kpt-fn/ok:v1")["packages"] == ["wrong-types"]


def test_subpackages_are_scanned(corpus):
    # bug: only top-level packages read (as find_packages gives them)
    assert {"edge1/sub", "edge1/sub/deeper"} <= {p["path"] for p in corpus["packages"]}
    assert image(corpus, "ghcr.io/example/annotate@" + D1)["packages"] == ["edge1/sub"]
    assert image(corpus, "gcr.io/kpt-fn/kubeval:v0.3.0@" + D2)["kinds"] == ["validator"]


def test_duplicates_merged_across_packages_and_spellings(corpus):
    # bug: one entry per Kptfile, or the short and the full spelling counted as two images
    ns = image(corpus, "gcr.io/kpt-fn/set-namespace:v0.4.1")
    assert ns["packages"] == ["edge1", "edge1/sub", "edge2"]
    assert ns["count"] == 3 and ns["package_count"] == 3
    assert ns["written_as"] == ["set-namespace:v0.4.1", "gcr.io/kpt-fn/set-namespace:v0.4.1"]
    labels = image(corpus, "gcr.io/kpt-fn/set-labels:v0.2.0")
    assert labels["packages"] == ["edge1", "no-fn"] and labels["count"] == 2
    assert len({i["resolved"] for i in corpus["images"]}) == len(corpus["images"])


def test_digest_and_tag_kept(corpus):
    # bug: the digest dropped, or the tag lost when both are written
    annotate = image(corpus, "ghcr.io/example/annotate@" + D1)
    assert (annotate["tag"], annotate["digest"]) == (None, D1)
    kubeval = image(corpus, "gcr.io/kpt-fn/kubeval:v0.3.0@" + D2)
    assert (kubeval["registry"], kubeval["repository"], kubeval["tag"], kubeval["digest"]) == (
        "gcr.io", "kpt-fn/kubeval", "v0.3.0", D2)
    port = image(corpus, "198.18.0.1:5000/kpt-fn/require-labels:v1")
    assert (port["registry"], port["repository"], port["tag"]) == ("198.18.0.1:5000", "kpt-fn/require-labels", "v1")


def test_tag_and_digest_refused_only_by_old_kpt():
    # kpt 1.0.0-beta.56 refuses "repo:tag@sha256:..." (checked); a later kpt is not assumed to
    old = fi.scan_tree(os.path.join(CORPUS, "edge1"), OLD, version=BETA56)
    new = fi.scan_tree(os.path.join(CORPUS, "edge1"), NEW, version=BETA59)
    assert [p["field"] for p in old["problems"]] == ["pipeline.validators[0].image"]
    assert new["problems"] == []


def test_beta59_prefix_on_the_corpus():
    # bug: the gcr.io prefix kept for kpt 1.0.0-beta.59
    result = fi.scan_tree(os.path.join(CORPUS, "edge2"), NEW, version=BETA59)
    assert [i["resolved"] for i in result["images"]] == [
        "docker.io/example/fn:latest", "ghcr.io/kptdev/krm-functions-catalog/set-namespace:v0.4.1"]


def test_short_names_unresolved_without_version():
    result = fi.scan_tree(os.path.join(CORPUS, "edge2"), None, version=None)
    short = [i for i in result["images"] if i["ref"] == "set-namespace:v0.4.1"][0]
    assert short["resolved"] is None and short["packages"] == ["."]
    assert result["problems"] == []


def test_exec_functions_listed_apart_resolved_against_cwd(corpus):
    # bug: exec paths resolved against the subpackage (kpt resolves them against its cwd)
    execs = {e["exec"]: e for e in corpus["exec_functions"]}
    assert set(execs) == {"./fns/noop.sh", "/nonexistent/o2edge-fn --flag", "sh"}
    noop = execs["./fns/noop.sh"]
    assert noop["path"] == os.path.join(CORPUS, "edge1", "fns", "noop.sh")
    assert noop["packages"] == ["edge1", "edge1/sub/deeper"] and noop["count"] == 2
    assert noop["kinds"] == ["mutator", "validator"]
    assert execs["/nonexistent/o2edge-fn --flag"]["path"] == "/nonexistent/o2edge-fn"
    assert execs["/nonexistent/o2edge-fn --flag"]["exists"] is False
    assert execs["sh"]["path"] == shutil.which("sh")
    assert not [i for i in corpus["images"] if "noop" in i["ref"]]
    # the function with both image and exec is in neither list
    assert "./both.sh" not in execs and not [i for i in corpus["images"] if "both" in i["ref"]]


def test_exec_resolves_against_chdir(tmp_path):
    result = fi.scan_tree(os.path.join(CORPUS, "edge1"), OLD, version=BETA56, chdir=str(tmp_path))
    assert [e["path"] for e in result["exec_functions"]] == [str(tmp_path / "fns" / "noop.sh")]


def test_exec_exists(tmp_path):
    pkg = tmp_path / "p"
    (pkg / "fns").mkdir(parents=True)
    (pkg / "Kptfile").write_text("apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: p\n"
                                 "pipeline:\n  mutators:\n    - exec: ./fns/fn.sh\n")
    (pkg / "fns" / "fn.sh").write_text("#!/bin/sh\ncat\n")
    assert fi.scan_tree(str(pkg), OLD)["exec_functions"][0]["exists"] is False
    (pkg / "fns" / "fn.sh").chmod(0o755)
    assert fi.scan_tree(str(pkg), OLD)["exec_functions"][0]["exists"] is True


def test_config_reported(corpus):
    edge1 = package(corpus, "edge1")
    assert edge1["mutators"][0]["config"] == {"source": "configMap", "keys": ["namespace"]}
    assert edge1["mutators"][1]["name"] == "labels"
    assert edge1["mutators"][1]["config"] == {"source": "configPath", "value": "labels.yaml", "exists": True,
                                              "path": os.path.join(CORPUS, "edge1", "labels.yaml")}
    assert edge1["mutators"][2]["config"] is None
    # configPath relative to the subpackage's own folder (bug: relative to the root or top-level package)
    sub = package(corpus, "edge1/sub")
    assert sub["mutators"][0]["config"]["path"] == os.path.join(CORPUS, "edge1", "sub", "ns.yaml")
    assert sub["mutators"][0]["config"]["exists"] is True and sub["valid"]
    missing = package(corpus, "missing-config")
    assert missing["mutators"][0]["config"]["exists"] is False
    assert package(corpus, "edge2")["mutators"][0]["config"]["keys"] == ["extra", "namespace"]


def test_selectors_and_exclude_reported_as_written(corpus):
    fn = package(corpus, "edge1/sub")["mutators"][0]
    assert fn["selectors"] == [{"kind": "ConfigMap"}] and fn["exclude"] == [{"name": "keep-me"}]
    assert package(corpus, "edge1")["mutators"][0]["selectors"] is None


def test_missing_pipeline_is_not_a_problem(corpus):
    pkg = package(corpus, "no-pipeline")
    assert pkg == dict(pkg, mutators=[], validators=[], problems=[], valid=True)


def test_function_fields(corpus):
    fn = package(corpus, "edge1")["validators"][0]
    assert (fn["field"], fn["stage"], fn["index"], fn["valid"]) == ("pipeline.validators[0]", "validator", 0, True)
    assert fn["image_info"]["resolved"] == "198.18.0.1:5000/kpt-fn/require-labels:v1"
    both = package(corpus, "no-fn")["mutators"][3]
    assert both["valid"] is False and both["image"] == "gcr.io/kpt-fn/both:v1" and both["exec"] == "./both.sh"


# --------------------------------------------------------------------- bounds

def write_pkg(base, name, text):
    pkg = base / name
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(text)
    return pkg


GOOD = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: g\npipeline:\n  mutators:\n    - image: x/y:v1\n"


def test_oversized_kptfile_refused_alone(tmp_path):
    write_pkg(tmp_path, "big", GOOD + "# " + "x" * (fi.MAX_KPTFILE_BYTES) + "\n")
    write_pkg(tmp_path, "good", GOOD)
    result = fi.scan_tree(str(tmp_path), OLD)
    assert [(p["kptfile"], p["field"]) for p in result["problems"]] == [("big/Kptfile", "")]
    assert "over the limit of 1048576; not read" in result["problems"][0]["problem"]
    assert image(result, "docker.io/x/y:v1")["packages"] == ["good"]


def test_alias_budget(tmp_path):
    # a few aliases are fine; the budget is on values once aliases are expanded, not on the file's size
    text = GOOD + "x-anchors:\n  a: &a {k: v}\n  b: *a\n  c: *a\n"
    assert fi.load_yaml(text)["x-anchors"]["c"] == {"k": "v"}
    with pytest.raises(kf.KptError) as err:
        fi.load_yaml("a: &a [1, 2, 3, 4]\nb: [*a, *a, *a]\n", max_values=10)
    assert "more than 10 values once YAML aliases are expanded" in str(err.value)
    with pytest.raises(kf.KptError):
        fi.load_yaml("a: &a [*a]\n")  # a recursive alias is refused, not walked forever


def test_not_utf8_and_not_regular(tmp_path):
    pkg = write_pkg(tmp_path, "bin", "")
    (pkg / "Kptfile").write_bytes(b"apiVersion: \xff\xfe\n")
    fifo_pkg = tmp_path / "fifo"
    fifo_pkg.mkdir()
    os.mkfifo(str(fifo_pkg / "Kptfile"))  # opening it would block: it must not be opened
    result = fi.scan_tree(str(tmp_path), OLD)
    assert [(p["kptfile"], p["problem"]) for p in result["problems"]] == [
        ("bin/Kptfile", "is not UTF-8 text (at byte offset 12)"),
        ("fifo/Kptfile", "is a named pipe (FIFO), not a regular file; not read")]


def test_max_kptfiles(tmp_path):
    for name in ("a", "b", "c"):
        write_pkg(tmp_path, name, GOOD)
    assert len(fi.scan_tree(str(tmp_path), OLD, max_kptfiles=3)["packages"]) == 3
    with pytest.raises(kf.KptError) as err:
        fi.scan_tree(str(tmp_path), OLD, max_kptfiles=2)
    assert "more than 2 Kptfiles" in str(err.value)


def test_git_folder_skipped(tmp_path):
    write_pkg(tmp_path, "a", GOOD)
    write_pkg(tmp_path / ".git", "objects", "- not a kptfile\n")
    assert [p["path"] for p in fi.scan_tree(str(tmp_path), OLD)["packages"]] == ["a"]


def test_exec_cwd_is_the_top_level_package(tmp_path):
    # root holding two top-level packages: each one's exec resolves against its own directory
    for name in ("a", "b"):
        write_pkg(tmp_path, name, GOOD.replace("image: x/y:v1", "exec: ./fn.sh"))
    write_pkg(tmp_path / "a", "sub", GOOD.replace("image: x/y:v1", "exec: ./fn.sh"))
    result = fi.scan_tree(str(tmp_path), OLD)
    got = {e["path"]: e["packages"] for e in result["exec_functions"]}
    assert got == {str(tmp_path / "a" / "fn.sh"): ["a", "a/sub"], str(tmp_path / "b" / "fn.sh"): ["b"]}


def test_kptfiles_limit(tmp_path):
    # _kptfile.kptfiles: no limit by default (its old behaviour), KptError past the limit
    for name in ("a", "b"):
        write_pkg(tmp_path, name, GOOD)
    write_pkg(tmp_path / "a", "sub", GOOD)
    assert len(kf.kptfiles(str(tmp_path))) == 3
    assert len(kf.kptfiles(str(tmp_path), limit=3)) == 3
    with pytest.raises(kf.KptError):
        kf.kptfiles(str(tmp_path), limit=2)


# --------------------------------------------------------------------- configPath judged by where it leads

def _config_of(tmp_path, config_path):
    pkg = tmp_path / "p"
    (pkg / "Kptfile").write_text(GOOD + "      configPath: %s\n" % config_path)
    result = fi.scan_tree(str(pkg), OLD)
    return result["packages"][0]["mutators"][0]["config"], [p["problem"] for p in result["problems"]]


def test_config_path_with_two_dots_in_a_name_stays_inside(tmp_path):
    """Issue 15 class 4: ``fn-config..yaml`` was called "leaves the package" because the string held
    "..". The resolved path is judged, by path components. kpt 1.0.0-beta.56 still refuses the text
    ("path must not be outside the package", checked by hand with that kpt): that is the problem named."""
    (tmp_path / "p").mkdir()
    (tmp_path / "p" / "fn-config..yaml").write_text("data: {}\n")
    config, problems = _config_of(tmp_path, "fn-config..yaml")
    assert config["exists"] is True
    assert problems == ["fn-config..yaml stays inside the package but holds '..' in a name; kpt refuses it "
                        "(it checks the text, not where the path leads)"]
    config, problems = _config_of(tmp_path, "sub/../fn-config..yaml")  # cleaned first, as kpt does
    assert config["exists"] is True and "leaves" not in problems[0]


@pytest.mark.parametrize("value,words", [
    ("../outside.yaml", "leaves the package; kpt refuses it"),
    ("sub/../../outside.yaml", "leaves the package; kpt refuses it"),
    ("link.yaml", "leads outside the package through a symbolic link"),
    ("linkdir/x.yaml", "leads outside the package through a symbolic link"),
])
def test_config_path_outside_the_package_is_refused(tmp_path, value, words):
    """A ``..`` path and a symlink pointing outside the package are refused (the file exists). kpt
    1.0.0-beta.56 follows such a symlink and reads the file outside (checked by hand)."""
    (tmp_path / "outside.yaml").write_text("data: {}\n")
    (tmp_path / "p-evil").mkdir()  # a sibling sharing the package's name as a prefix is still outside
    (tmp_path / "p-evil" / "x.yaml").write_text("data: {}\n")
    (tmp_path / "p" / "sub").mkdir(parents=True)
    os.symlink("../outside.yaml", str(tmp_path / "p" / "link.yaml"))
    os.symlink("../p-evil", str(tmp_path / "p" / "linkdir"))
    config, problems = _config_of(tmp_path, value)
    assert problems == ["%s %s" % (value, words) if "symbolic" not in words else
                        "%s %s; kpt would read a file outside the package" % (value, words)]
    assert config["exists"] is False


def test_config_path_symlink_inside_the_package_is_fine(tmp_path):
    (tmp_path / "p" / "cfg").mkdir(parents=True)
    (tmp_path / "p" / "cfg" / "real.yaml").write_text("data: {}\n")
    os.symlink("cfg/real.yaml", str(tmp_path / "p" / "fn.yaml"))
    config, problems = _config_of(tmp_path, "fn.yaml")
    assert problems == [] and config["exists"] is True


def test_config_path_to_a_fifo_is_named_as_such(tmp_path):
    """A configPath naming a FIFO is reported as a FIFO (kpt would block reading it), not as a missing file."""
    (tmp_path / "p").mkdir()
    os.mkfifo(str(tmp_path / "p" / "fn.yaml"))
    config, problems = _config_of(tmp_path, "fn.yaml")
    assert config["exists"] is False
    assert problems == ["file %s is a named pipe (FIFO), not a regular file; not read" % (tmp_path / "p" / "fn.yaml")]


def test_too_deep_kptfile_is_refused_before_parsing(tmp_path):
    """The depth bound: a Kptfile nested 33 deep is one problem; 32 deep is read."""
    ok = "apiVersion: kpt.dev/v1\nkind: Kptfile\nx: " + "[" * 31 + "]" * 31 + "\n"
    assert fi.load_yaml(ok)["x"] is not None
    with pytest.raises(kf.KptError, match="nests deeper than 32 levels"):
        fi.load_yaml(ok.replace("x: [", "x: [["))
    write_pkg(tmp_path, "deep", ok.replace("x: [", "x: [[").replace("]\n", "]]\n"))
    write_pkg(tmp_path, "good", GOOD)
    result = fi.scan_tree(str(tmp_path), OLD)
    assert [(p["kptfile"], p["problem"]) for p in result["problems"]] == [
        ("deep/Kptfile", "nests deeper than 32 levels (line 3)")]
    assert image(result, "docker.io/x/y:v1")["packages"] == ["good"]


def test_problems_never_echo_a_secret_or_long_value_from_the_kptfile(tmp_path):
    """An image reference with a password (or a JWT in apiVersion) was quoted whole in the problem."""
    text = ("apiVersion: eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijk\nkind: Kptfile\n"
            "pipeline:\n  mutators:\n    - image: https://bob:hunter2@reg.example/x:v1\n")
    write_pkg(tmp_path, "p", text)
    result = fi.scan_tree(str(tmp_path), OLD)
    msgs = " ".join(p["msg"] for p in result["problems"])
    assert "hunter2" not in msgs and "eyJ" not in msgs
    assert [(p["field"], p["problem"]) for p in result["problems"]] == [
        ("apiVersion", "(a string, not shown), not kpt.dev/v1 (kpt 1.0 refuses other Kptfile versions)"),
        ("pipeline.mutators[0].image", "invalid image reference (not shown: it is a URL with a password in it)")]
