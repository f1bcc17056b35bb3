# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_image_unpack: the unpacked-image layout (digest-keyed rootfs, image.json last, refs.json under a lock),
with real umoci unpacks of images pulled from a real registry on 127.0.0.1."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_errors as ierr
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_precache as st
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_unpack as up
from tests.unit.plugins.module_utils import test_image_store as store_tests
from tests.unit.plugins.module_utils.fifo_guard import call_without_hanging
from tests.unit.plugins.module_utils.test_image_store import build_image, needs_tools, oci_params

# the real registry and the private podman store of the store tests, as fixtures here too
registry = store_tests.registry
podman_env = store_tests.podman_env

DIGEST = "sha256:" + "ab" * 32


def test_key_and_image_doc():
    assert up.key(DIGEST) == "sha256-" + "ab" * 32
    with pytest.raises(ierr.StoreError, match="not sha256"):
        up.key("sha256:../../etc")
    doc = up.image_doc(DIGEST, "sha256:" + "cd" * 32, {"config": {"Entrypoint": ["/bin/sh"], "Cmd": ["-c", "x"],
                                                                  "Env": ["A=1"], "User": "nobody"}}, ["r/b:1", "r/a:1", "r/a:1"])
    assert doc["schema"] == 1 and doc["digest"] == DIGEST and doc["config_digest"] == "sha256:" + "cd" * 32
    assert doc["references"] == ["r/a:1", "r/b:1"] and doc["entrypoint"] == ["/bin/sh"] and doc["cmd"] == ["-c", "x"]
    assert doc["env"] == ["A=1"] and doc["workdir"] == "/" and doc["user"] == "nobody"
    assert doc["unpacked_at"].endswith("Z")
    assert up.image_doc(DIGEST, DIGEST, {}, [])["user"] == ""


def test_refs_json_merges_under_the_lock_from_many_threads(tmp_path):
    errors = []

    def one(n):
        try:
            up.update_refs(str(tmp_path), {"r/x%d:v1" % n: DIGEST})
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=one, args=(n,)) for n in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    refs = json.loads((tmp_path / "refs.json").read_text())
    assert refs == dict(("r/x%d:v1" % n, DIGEST) for n in range(24))
    assert not up.update_refs(str(tmp_path), {"r/x1:v1": DIGEST})
    assert up.update_refs(str(tmp_path), {"r/x1:v1": "sha256:" + "0" * 64})
    assert sorted(os.listdir(str(tmp_path))) == ["refs.json", "refs.lock"]


def test_incomplete_unpack_is_not_taken_for_a_complete_one(tmp_path):
    folder = tmp_path / up.key(DIGEST)
    (folder / "rootfs").mkdir(parents=True)
    assert up.read_image_json(str(tmp_path), DIGEST) is None  # no image.json: incomplete
    (folder / "image.json").write_text(json.dumps({"schema": 1, "digest": "sha256:" + "0" * 64}))
    assert up.read_image_json(str(tmp_path), DIGEST) is None  # another digest's document
    (folder / "image.json").write_text(json.dumps({"schema": 1, "digest": DIGEST}))
    assert up.read_image_json(str(tmp_path), DIGEST)["digest"] == DIGEST


def test_image_json_and_refs_json_that_are_fifos_or_too_deep_do_not_block(tmp_path):
    """Issue 15 class 3: _read_json opened image.json and refs.json with open(): a FIFO blocked the
    unpack forever, a 100,000-deep refs.json escaped as a RecursionError. Both now read as unusable."""
    folder = tmp_path / up.key(DIGEST)
    (folder / "rootfs").mkdir(parents=True)
    meta = folder / "image.json"
    os.mkfifo(str(meta))
    assert call_without_hanging([meta], up.read_image_json, str(tmp_path), DIGEST) is None
    refs = tmp_path / "refs.json"
    os.mkfifo(str(refs))
    assert call_without_hanging([refs], up.refs_differ, str(tmp_path), {"r/a:1": DIGEST}) is True
    assert call_without_hanging([refs], up.update_refs, str(tmp_path), {"r/a:1": DIGEST}) is True
    assert json.loads(refs.read_text()) == {"r/a:1": DIGEST}  # the FIFO replaced whole (derived data)
    refs.write_text("[" * 100000 + "]" * 100000)
    assert up.refs_differ(str(tmp_path), {"r/a:1": DIGEST}) is True
    assert up.update_refs(str(tmp_path), {"r/a:1": DIGEST}) is True
    assert json.loads(refs.read_text()) == {"r/a:1": DIGEST}


@pytest.fixture()
def open_tmp():
    """A folder every user may traverse (pytest's tmp folders are 0700), for the uid 65534 check."""
    path = tempfile.mkdtemp(prefix="o2u-unpack-", dir="/tmp")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _as_nobody(argv):
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] + argv,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False)


@needs_tools
def test_oci_unpack_follows_the_contract_and_is_idempotent(registry, open_tmp):
    ref = registry.push(build_image(registry.work, "unpack-1", private="only-nobody-reads"), "unpack/a:v1")
    digest = registry.digest("unpack/a:v1")
    unpack_dir = os.path.join(open_tmp, "fn-images")
    params = oci_params(os.path.join(open_tmp, "oci"), [ref], insecure_registries=[registry.host], unpack=True,
                        unpack_dir=unpack_dir)
    check = st.run_precache(params, check_mode=True)
    assert check["changed"] and check["images"][0]["would_unpack"] and not os.path.exists(unpack_dir)

    res = st.run_precache(params)
    target = os.path.join(unpack_dir, up.key(digest))
    assert res["changed"] and res["images"][0]["unpacked"] == target and res["unpack_dir"] == unpack_dir
    doc = json.load(open(os.path.join(target, "image.json")))
    assert doc["digest"] == digest and doc["references"] == [ref] and doc["user"] == "65534:65534"
    assert doc["entrypoint"] == ["/bin/sh"] and doc["cmd"] == ["/content.txt"] and doc["workdir"] == "/home"
    assert "A=1" in doc["env"] and doc["config_digest"].startswith("sha256:")
    assert json.load(open(os.path.join(unpack_dir, "refs.json"))) == {ref: digest}
    assert open(os.path.join(target, "rootfs", "content.txt")).read() == "unpack-1"
    assert sorted(os.listdir(unpack_dir)) == [".locks", "refs.json", "refs.lock", up.key(digest)]
    assert sorted(os.listdir(target)) == ["image.json", "rootfs"]
    secret = os.path.join(target, "rootfs", "home", "secret.txt")
    info = os.stat(secret)
    assert (info.st_uid, info.st_mode & 0o777) == (65534, 0o600)
    if shutil.which("setpriv"):
        got = _as_nobody(["cat", secret])
        assert got.returncode == 0 and got.stdout == b"only-nobody-reads", got.stderr

    inode = os.stat(os.path.join(target, "rootfs", "content.txt")).st_ino
    mtime = os.stat(os.path.join(target, "image.json")).st_mtime_ns
    assert not st.run_precache(params, check_mode=True)["changed"]
    again = st.run_precache(params)
    assert not again["changed"] and again["images"][0]["unpacked"] == target
    assert os.stat(os.path.join(target, "rootfs", "content.txt")).st_ino == inode
    assert os.stat(os.path.join(target, "image.json")).st_mtime_ns == mtime

    # a second reference to the same digest: added to image.json and refs.json, not unpacked again
    ref2 = registry.push(build_image(registry.work, "unpack-1", private="only-nobody-reads"), "unpack/alias:v7")
    both = st.run_precache(dict(params, images=[ref, ref2]))
    assert both["changed"] and both["pulled"] == [ref2]
    assert os.stat(os.path.join(target, "rootfs", "content.txt")).st_ino == inode
    assert json.load(open(os.path.join(target, "image.json")))["references"] == sorted([ref, ref2])
    assert json.load(open(os.path.join(unpack_dir, "refs.json"))) == {ref: digest, ref2: digest}
    assert not st.run_precache(dict(params, images=[ref, ref2]))["changed"]


@needs_tools
def test_leftover_without_image_json_is_replaced(registry, tmp_path):
    ref = registry.push(build_image(registry.work, "unpack-2"), "unpack/b:v1")
    digest = registry.digest("unpack/b:v1")
    unpack_dir = tmp_path / "fn"
    half = unpack_dir / up.key(digest) / "rootfs"
    half.mkdir(parents=True)
    (half / "half-written").write_text("x")
    res = st.run_precache(oci_params(tmp_path / "oci", [ref], insecure_registries=[registry.host], unpack=True,
                                     unpack_dir=str(unpack_dir)))
    assert res["changed"] and not res["failed"]
    rootfs = unpack_dir / up.key(digest) / "rootfs"
    assert sorted(os.listdir(str(rootfs))) == ["content.txt"]
    assert up.read_image_json(str(unpack_dir), digest) is not None
    assert [n for n in os.listdir(str(unpack_dir)) if n.startswith(".unpack-")] == []


@needs_tools
def test_upstream_change_unpacks_the_new_digest_and_moves_the_reference(registry, tmp_path):
    ref = registry.push(build_image(registry.work, "unpack-3"), "unpack/c:v1")
    old = registry.digest("unpack/c:v1")
    params = oci_params(tmp_path / "oci", [ref], insecure_registries=[registry.host], unpack=True,
                        unpack_dir=str(tmp_path / "fn"))
    st.run_precache(params)
    registry.push(build_image(registry.work, "unpack-4"), "unpack/c:v1")
    new = registry.digest("unpack/c:v1")
    res = st.run_precache(params)
    assert res["images"][0]["unpacked"] == str(tmp_path / "fn" / up.key(new))
    assert json.loads((tmp_path / "fn" / "refs.json").read_text()) == {ref: new}
    assert (tmp_path / "fn" / up.key(old) / "image.json").exists()  # other references may still use it
    assert (tmp_path / "fn" / up.key(new) / "rootfs" / "content.txt").read_text() == "unpack-4"


@needs_tools
def test_podman_store_unpacks_from_the_registry(registry, podman_env, tmp_path):
    ref = registry.push(build_image(registry.work, "unpack-5"), "unpack/d:v1")
    digest = registry.digest("unpack/d:v1")
    params = dict(images=[ref], store="podman", policy="digest", concurrency=1, retries=0, retry_delay=0.0,
                  timeout=60.0, environment=podman_env, insecure_registries=[registry.host], unpack=True,
                  unpack_dir=str(tmp_path / "fn"))
    res = st.run_precache(params)
    assert not res["failed"] and res["pulled"] == [ref]
    assert res["images"][0]["unpacked"] == str(tmp_path / "fn" / up.key(digest))
    assert (tmp_path / "fn" / up.key(digest) / "rootfs" / "content.txt").read_text() == "unpack-5"
    assert [n for n in os.listdir(str(tmp_path / "fn")) if n.startswith(".unpack-")] == []
    again = st.run_precache(dict(params, policy="missing"))
    assert not again["changed"] and again["images"][0]["unpacked"] == res["images"][0]["unpacked"]
    registry.push(build_image(registry.work, "unpack-6"), "unpack/d:v1")
    new = registry.digest("unpack/d:v1")
    for policy in ("digest", "always"):
        moved = st.run_precache(dict(params, policy=policy))
        assert moved["pulled"] == [ref] and moved["images"][0]["unpacked"] == str(tmp_path / "fn" / up.key(new))
        assert json.loads((tmp_path / "fn" / "refs.json").read_text()) == {ref: new}
    assert (tmp_path / "fn" / up.key(new) / "rootfs" / "content.txt").read_text() == "unpack-6"
