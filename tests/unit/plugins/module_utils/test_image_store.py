# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_image_store: pure helpers, then real pulls from a real registry (docker-registry on 127.0.0.1)
into a real OCI layout and a private podman store; fakes only for docker/nerdctl/crictl.

The images are built here with umoci (``umoci new`` + ``umoci insert``) and pushed with skopeo.
"""
from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import warnings

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_errors as ierr
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_input as iin
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_precache as st
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_stores as istores
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _image_tools as itools
from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record

TOOLS = all(shutil.which(t) for t in ("docker-registry", "skopeo", "umoci"))
needs_tools = pytest.mark.skipif(not TOOLS, reason="docker-registry, skopeo and umoci are needed")
PASSWORD = "pw-Zq8-never-shown"


# --------------------------------------------------------------------------- registry and images

def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Registry(object):
    """A docker-registry on 127.0.0.1 (plain HTTP), optionally with htpasswd auth; stopped by PID."""

    def __init__(self, root, user=None, password=None):
        self.root = str(root)
        self.port = free_port()
        self.host = "127.0.0.1:%d" % self.port
        self.user, self.password = user, password
        self.proc = None
        self.authfile = None

    def start(self):
        os.makedirs(self.root, exist_ok=True)
        conf = {"version": 0.1, "log": {"level": "error"},
                "storage": {"filesystem": {"rootdirectory": os.path.join(self.root, "data")}, "delete": {"enabled": True}},
                "http": {"addr": self.host, "secret": "unit-test"}}
        if self.user:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                import crypt  # the standard library's bcrypt (deprecated in 3.11, removed in 3.13)
            with open(os.path.join(self.root, "htpasswd"), "w") as handle:
                handle.write("%s:%s\n" % (self.user, crypt.crypt(self.password, crypt.mksalt(crypt.METHOD_BLOWFISH))))
            conf["auth"] = {"htpasswd": {"realm": "unit", "path": os.path.join(self.root, "htpasswd")}}
            self.authfile = os.path.join(self.root, "push-auth.json")
            token = base64.b64encode(("%s:%s" % (self.user, self.password)).encode()).decode()
            with open(self.authfile, "w") as handle:
                json.dump({"auths": {self.host: {"auth": token}}}, handle)
        with open(os.path.join(self.root, "config.yml"), "w") as handle:
            json.dump(conf, handle)  # JSON is YAML
        self.proc = subprocess.Popen(["docker-registry", "serve", os.path.join(self.root, "config.yml")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.5).close()
                return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("docker-registry did not listen on %s" % self.host)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def push(self, layout, ref):
        argv = ["skopeo", "copy", "-q", "--dest-tls-verify=false"]
        if self.authfile:
            argv += ["--dest-authfile", self.authfile]
        subprocess.run(argv + ["oci:%s:img" % layout, "docker://%s/%s" % (self.host, ref)], check=True,
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return "%s/%s" % (self.host, ref)

    def digest(self, ref):
        argv = ["skopeo", "inspect", "--raw", "--tls-verify=false"]
        if self.authfile:
            argv += ["--authfile", self.authfile]
        raw = subprocess.run(argv + ["docker://%s/%s" % (self.host, ref)], check=True, stdout=subprocess.PIPE).stdout
        return "sha256:" + hashlib.sha256(raw).hexdigest()


def build_image(workdir, content, private=None):
    """An OCI layout (tag ``img``) with /content.txt, /etc/passwd and optionally /home/secret.txt (65534, 0600)."""
    layout = os.path.join(str(workdir), "layout-%s" % hashlib.sha256(content.encode()).hexdigest()[:12])
    if os.path.exists(layout):
        return layout
    files = os.path.join(str(workdir), "files-" + os.path.basename(layout))
    os.makedirs(files)
    with open(os.path.join(files, "content.txt"), "w") as handle:
        handle.write(content)
    run = [["umoci", "init", "--layout", layout], ["umoci", "new", "--image", layout + ":img"],
           ["umoci", "insert", "--image", layout + ":img", os.path.join(files, "content.txt"), "/content.txt"]]
    if private is not None:
        path = os.path.join(files, "secret.txt")
        with open(path, "w") as handle:
            handle.write(private)
        os.chmod(path, 0o600)
        os.chown(path, 65534, 65534)
        run.append(["umoci", "insert", "--image", layout + ":img", path, "/home/secret.txt"])
    run.append(["umoci", "config", "--image", layout + ":img", "--config.user", "65534:65534",
                "--config.entrypoint", "/bin/sh", "--config.cmd", "/content.txt", "--config.env", "A=1",
                "--config.workingdir", "/home"])
    for argv in run:
        subprocess.run(argv, check=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    return layout


@pytest.fixture(scope="module")
def registry(tmp_path_factory):
    if not TOOLS:
        pytest.skip("docker-registry, skopeo and umoci are needed")
    reg = Registry(tmp_path_factory.mktemp("registry")).start()
    reg.work = str(tmp_path_factory.mktemp("images"))
    yield reg
    reg.stop()


@pytest.fixture(scope="module")
def auth_registry(tmp_path_factory):
    if not TOOLS:
        pytest.skip("docker-registry, skopeo and umoci are needed")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            import crypt  # noqa: F401 pylint: disable=unused-import
    except ImportError:
        pytest.skip("the standard library's crypt (bcrypt for htpasswd) is gone from this Python")
    reg = Registry(tmp_path_factory.mktemp("auth-registry"), "puller", PASSWORD).start()
    reg.work = str(tmp_path_factory.mktemp("auth-images"))
    yield reg
    reg.stop()


def fake_skopeo(tmp_path, script):
    """``script`` installed as ``skopeo`` first on PATH; returns the ``environment`` that finds it."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "skopeo").write_text(script)
    (bindir / "skopeo").chmod(0o755)
    return {"PATH": "%s:%s" % (bindir, os.environ.get("PATH", "/usr/bin:/bin"))}


def skopeo_wrapper(tmp_path):
    """A skopeo on PATH that logs its argv (and the auth file's mode) then runs the real one."""
    log = tmp_path / "argv.log"
    real = shutil.which("skopeo")
    env = fake_skopeo(tmp_path, "#!%s\nimport json, os, stat, sys\nargs = sys.argv[1:]\nmodes = {}\n"
                      "for i, a in enumerate(args[:-1]):\n"
                      "    if a.endswith('authfile'):\n"
                      "        st = os.stat(args[i + 1]); modes[a] = [oct(stat.S_IMODE(st.st_mode)), "
                      "oct(stat.S_IMODE(os.stat(os.path.dirname(args[i + 1])).st_mode))]\n"
                      "with open(%r, 'a') as f:\n    f.write(json.dumps({'argv': args, 'modes': modes}) + '\\n')\n"
                      "os.execv(%r, [%r] + args)\n" % (sys.executable, str(log), real, real))
    return env, log


def logged(log):
    """The logged skopeo calls, without the ``skopeo --version`` of the record's context."""
    if not log.exists():
        return []
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    return [c for c in calls if c["argv"] != ["--version"]]


def oci_params(oci_dir, images, **extra):
    params = dict(images=images, store="oci", oci_dir=str(oci_dir), policy="digest", concurrency=4, retries=0,
                  retry_delay=0.0, timeout=60.0, registry_auth=[], environment={}, unpack=False)
    params.update(extra)
    return params


def index_refs(oci_dir):
    with open(os.path.join(str(oci_dir), "index.json")) as handle:
        return dict((d["annotations"][iin.REF_NAME], d) for d in json.load(handle)["manifests"])


# --------------------------------------------------------------------------- pure helpers

def test_parse_images_resolves_dedupes_and_names_the_bad_entry():
    out = iin.parse_images(["198.18.0.1:5000/kpt-fn/passthrough:v1", "198.18.0.1:5000/kpt-fn/passthrough:v1",
                           "example/fn", "set-namespace:v0.4.1"], prefix="gcr.io/kpt-fn/")
    assert [i["reference"] for i in out] == ["198.18.0.1:5000/kpt-fn/passthrough:v1",
                                             "docker.io/example/fn:latest", "gcr.io/kpt-fn/set-namespace:v0.4.1"]
    assert out[0]["registry"] == "198.18.0.1:5000" and out[0]["repository"] == "kpt-fn/passthrough"
    with pytest.raises(ierr.StoreError, match=r"images\[1\] 'Bad Ref'"):
        iin.parse_images(["a.io/x:v1", "Bad Ref"])
    with pytest.raises(ierr.StoreError, match=r"images\[0\] 'set-namespace:v1' is a short name.*kpt_version"):
        iin.parse_images(["set-namespace:v1"], prefix=None)
    with pytest.raises(ierr.StoreError, match="non-empty list"):
        iin.parse_images([])
    with pytest.raises(ierr.StoreError, match="at most 2"):
        iin.parse_images(["a.io/x:1", "a.io/x:2", "a.io/x:3"], limit=2)


def test_pinned_image_is_pulled_by_digest_only():
    digest = "sha256:" + "a" * 64
    image = iin.parse_images(["a.io/x/y:v1@" + digest])[0]
    assert image["digest"] == digest
    assert iin.pull_ref(image) == "a.io/x/y@" + digest
    assert iin.pull_ref(iin.parse_images(["a.io/x/y:v1"])[0]) == "a.io/x/y:v1"


def test_remote_digests_picks_this_platform_from_a_list():
    manifest = json.dumps({"schemaVersion": 2, "mediaType": iin.OCI_MANIFEST, "config": {}, "layers": []}).encode()
    top, inst, media = iin.remote_digests(manifest)
    assert top == inst == "sha256:" + hashlib.sha256(manifest).hexdigest() and media == iin.OCI_MANIFEST
    arm, amd = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    lst = json.dumps({"schemaVersion": 2, "mediaType": iin.DOCKER_LIST, "manifests": [
        {"digest": arm, "platform": {"os": "linux", "architecture": "arm64"}},
        {"digest": amd, "platform": {"os": "linux", "architecture": "amd64"}}]}).encode()
    top, inst, _media = iin.remote_digests(lst, ("linux", "amd64"))
    assert top == "sha256:" + hashlib.sha256(lst).hexdigest() and inst == amd
    assert iin.remote_digests(lst, ("linux", "arm64"))[1] == arm
    with pytest.raises(ierr.StoreError, match="no manifest for linux/s390x"):
        iin.remote_digests(lst, ("linux", "s390x"))
    with pytest.raises(ierr.StoreError, match="not JSON"):
        iin.remote_digests(b"<html>")


@pytest.mark.parametrize("text,cause,retry", [
    ('msg="pinging container registry r:1: dial tcp r:1: connect: connection refused"', "connection refused", True),
    ("reading manifest v9 in r/x: manifest unknown: manifest unknown", "manifest unknown", False),
    ("unauthorized: authentication required", "unauthorized", False),
    ('Get "https://r/v2/": http: server gave HTTP response to HTTPS client', "insecure_registries", False),
    ("x509: certificate signed by unknown authority", "TLS certificate not trusted", False),
    ("timed out after 5.0s (process group killed)", "timed out", True),
    ("received unexpected HTTP status: 503 Service Unavailable", "503", True),
    ("something odd", "failed", True),
])
def test_classify(text, cause, retry):
    got, again = ierr.classify(text)
    assert cause in got and again is retry


def test_retrier_backs_off_exponentially_and_stops_on_permanent_errors():
    sleeps = []
    calls = []

    def flaky():
        calls.append(1)
        return {"ok": len(calls) == 4, "error": "connect: connection refused"}

    res, attempts, cause = st.Retrier(3, 0.5, sleeps.append)(flaky)
    assert res["ok"] and attempts == 4 and cause is None and sleeps == [0.5, 1.0, 2.0]
    sleeps[:] = []
    res, attempts, cause = st.Retrier(2, 0.5, sleeps.append)(lambda: {"ok": False, "error": "connection refused"})
    assert not res["ok"] and attempts == 3 and "connection refused" in cause and sleeps == [0.5, 1.0]
    sleeps[:] = []
    res, attempts, cause = st.Retrier(5, 0.5, sleeps.append)(lambda: {"ok": False, "error": "manifest unknown"})
    assert attempts == 1 and sleeps == [] and "manifest unknown" in cause


def test_registry_auth_is_checked_without_echoing_it():
    with pytest.raises(ierr.StoreError) as exc:
        iin.check_registry_auth([{"registry": "r:1", "username": "u", "password": ""}])
    assert "registry_auth[0].password" in str(exc.value)
    with pytest.raises(ierr.StoreError) as exc:
        iin.check_registry_auth([{"registry": "r:1/path", "username": "u", "password": PASSWORD}])
    assert "registry_auth[0].registry" in str(exc.value) and PASSWORD not in str(exc.value)
    with pytest.raises(ierr.StoreError, match="listed twice"):
        iin.check_registry_auth([{"registry": "r", "username": "u", "password": "p"}] * 2)
    assert iin.check_registry_auth([{"registry": "r", "username": "u", "password": "p"}]) == {"r": ("u", "p")}


def test_bad_options_name_the_field(tmp_path):
    base = oci_params(tmp_path / "oci", ["a.io/x:v1"])
    for change, field in ((dict(concurrency=0), "concurrency"), (dict(retries=-1), "retries"),
                          (dict(timeout=0), "timeout"), (dict(oci_dir=None), "oci_dir"),
                          (dict(insecure_registries=["a.io/x"]), r"insecure_registries\[0\]"),
                          (dict(store="docker", insecure_registries=["a.io"]), "insecure_registries"),
                          (dict(store="crictl", registry_auth=[{"registry": "a.io", "username": "u", "password": "p"}]),
                           "registry_auth")):
        params = dict(base, **change)
        with pytest.raises(ierr.StoreError, match=field):
            st.run_precache(params)
    (tmp_path / "notalayout").mkdir()
    (tmp_path / "notalayout" / "x").write_text("")
    with pytest.raises(ierr.StoreError, match="not an OCI image layout"):
        st.run_precache(dict(base, oci_dir=str(tmp_path / "notalayout")))


# --------------------------------------------------------------------------- oci store, real registry

@needs_tools
def test_oci_ladder_check_run_check_run(registry, tmp_path):
    ref_a = registry.push(build_image(registry.work, "ladder-a"), "ladder/a:v1")
    ref_b = registry.push(build_image(registry.work, "ladder-b"), "ladder/b:v1")
    oci = tmp_path / "oci"
    params = oci_params(oci, [ref_a, ref_b], insecure_registries=[registry.host])

    first = st.run_precache(params, check_mode=True)
    assert first["changed"] and not first["failed"]
    assert [i["action"] for i in first["images"]] == ["would_pull", "would_pull"]
    assert first["would_pull"] == [ref_a, ref_b] and first["pulled"] == []
    assert not oci.exists(), "check mode wrote the layout"

    run = st.run_precache(params)
    assert run["changed"] and not run["failed"] and run["pulled"] == [ref_a, ref_b]
    refs = index_refs(oci)
    for ref, name in ((ref_a, "ladder/a:v1"), (ref_b, "ladder/b:v1")):
        digest = registry.digest(name)
        item = [i for i in run["images"] if i["reference"] == ref][0]
        assert item["digest"] == digest and item["remote_digest"] == digest and item["local_digest_before"] is None
        assert refs[ref]["annotations"][iin.SOURCE_DIGEST] == digest
        assert istores.OciStore(str(oci), None).verify(refs[ref]) == []
    assert run["diff"]["before"] == {ref_a: None, ref_b: None}
    assert run["diff"]["after"][ref_a] == registry.digest("ladder/a:v1")
    assert sorted(os.listdir(str(oci))) == [".o2edge.lock", "blobs", "index.json", "oci-layout"]
    record = run["records"][0]
    assert validate_record(record) == [] and record["name"] == "image_precache/oci" and len(record["samples"]) == 1
    assert record["context"]["pulled"] == 2 and record["context"]["versions"]["skopeo"]

    again = st.run_precache(params, check_mode=True)
    assert not again["changed"] and [i["action"] for i in again["images"]] == ["present", "present"]
    last = st.run_precache(params)
    assert not last["changed"] and last["present"] == [ref_a, ref_b] and last["pulled"] == []
    assert last["diff"]["before"] == last["diff"]["after"] == run["diff"]["after"]
    always = st.run_precache(dict(params, policy="always"))
    assert always["changed"] and always["pulled"] == [ref_a, ref_b]


@needs_tools
def test_oci_registry_down_fails_clearly_and_writes_nothing(registry, tmp_path):
    ref = registry.push(build_image(registry.work, "down-a"), "down/a:v1")
    oci = tmp_path / "oci"
    params = oci_params(oci, [ref], insecure_registries=[registry.host, "127.0.0.1:%d" % free_port()])
    assert st.run_precache(params)["pulled"] == [ref]
    before = (oci / "index.json").read_bytes()
    dead = params["insecure_registries"][1]
    sleeps = []
    res = st.run_precache(dict(params, images=[ref, dead + "/down/b:v1"], retries=2, retry_delay=0.25),
                          sleep=sleeps.append)
    assert res["failed"] and not res["changed"] and res["failed_images"] == [dead + "/down/b:v1"]
    bad = res["images"][1]
    assert bad["action"] == "failed" and bad["attempts"] == 3 and sleeps == [0.25, 0.5]
    assert bad["reason"].startswith(dead + "/down/b:v1: ") and "connection refused" in bad["reason"]
    assert dead + "/down/b:v1" in res["msg"] and "connection refused" in res["msg"]
    assert res["images"][0]["action"] == "present"
    assert (oci / "index.json").read_bytes() == before
    assert not (oci / iin.TMP_NAME).exists()
    record = res["records"][0]
    assert record["samples"] == [] and record["failures"] == 1 and "connection refused" in record["errors"][0]["stderr"]
    # a present image with the registry down: policy digest cannot verify it (failure), policy missing does not ask
    down = dict(params, images=[dead + "/down/a:v1"])
    index = json.loads(before)
    index["manifests"][0]["annotations"][iin.REF_NAME] = dead + "/down/a:v1"
    (oci / "index.json").write_text(json.dumps(index))
    assert st.run_precache(down)["images"][0]["action"] == "failed"
    missing = st.run_precache(dict(down, policy="missing"))
    assert not missing["failed"] and missing["images"][0]["action"] == "present" and missing["images"][0]["attempts"] == 0


@needs_tools
def test_oci_tag_that_does_not_exist(registry, tmp_path):
    ref = "%s/nothere/x:v404" % registry.host
    params = oci_params(tmp_path / "oci", [ref], insecure_registries=[registry.host], retries=3)
    check = st.run_precache(params, check_mode=True)  # the prediction asks the registry too
    assert check["failed"] and "manifest unknown" in check["images"][0]["reason"] and not (tmp_path / "oci").exists()
    res = st.run_precache(params)
    item = res["images"][0]
    assert res["failed"] and item["action"] == "failed" and item["attempts"] == 1
    assert item["reason"].startswith(ref + ": ") and ("manifest unknown" in item["reason"] or "name unknown" in item["reason"])
    assert index_refs(tmp_path / "oci") == {}


@needs_tools
def test_oci_digest_changed_upstream_is_pulled_again(registry, tmp_path):
    ref = registry.push(build_image(registry.work, "moving-1"), "moving/x:v1")
    old = registry.digest("moving/x:v1")
    params = oci_params(tmp_path / "oci", [ref], insecure_registries=[registry.host])
    assert st.run_precache(params)["pulled"] == [ref]
    registry.push(build_image(registry.work, "moving-2"), "moving/x:v1")
    new = registry.digest("moving/x:v1")
    assert new != old
    check = st.run_precache(params, check_mode=True)
    assert check["changed"] and check["images"][0]["action"] == "would_pull"
    assert index_refs(tmp_path / "oci")[ref]["digest"] == old
    res = st.run_precache(params)
    item = res["images"][0]
    assert res["changed"] and item["action"] == "pulled" and item["local_digest_before"] == old
    assert item["remote_digest"] == item["digest"] == new and "digest changed upstream" in item["reason"]
    assert index_refs(tmp_path / "oci")[ref]["annotations"][iin.SOURCE_DIGEST] == new
    assert res["diff"] == {"before": {ref: old}, "after": {ref: new}}
    # policy missing keeps what is there even when the registry moved
    registry.push(build_image(registry.work, "moving-3"), "moving/x:v1")
    assert st.run_precache(dict(params, policy="missing"))["images"][0]["action"] == "present"


def _stored(registry, tmp_path, name):
    """An image pushed as ``name`` and pulled into a fresh OCI layout: (reference, layout, params)."""
    ref = registry.push(build_image(registry.work, name), name)
    oci = tmp_path / "oci"
    params = oci_params(oci, [ref], insecure_registries=[registry.host])
    assert st.run_precache(params)["pulled"] == [ref]
    return ref, oci, params


def _corrupt_layer(oci, ref):
    desc = index_refs(oci)[ref]
    store = istores.OciStore(str(oci), None)
    manifest = store.load_json_blob(desc["digest"])
    layer = manifest["layers"][0]["digest"]
    path = store.blob_path(layer)
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    os.chmod(path, 0o644)
    with open(path, "wb") as handle:
        handle.write(bytes(data))
    return layer, path, bytes(data)


@needs_tools
def test_oci_corrupted_layer_is_detected_and_pulled_again(registry, tmp_path):
    ref, oci, params = _stored(registry, tmp_path, "corrupt/a:v1")
    layer, path, _bad = _corrupt_layer(oci, ref)
    # same size: only hashing finds it (policy missing checks presence and size)
    assert st.run_precache(dict(params, policy="missing"))["images"][0]["action"] == "present"
    check = st.run_precache(params, check_mode=True)["images"][0]
    assert check["action"] == "would_pull" and "corrupted" in check["reason"] and layer in check["reason"]
    res = st.run_precache(params)
    item = res["images"][0]
    assert res["changed"] and item["action"] == "pulled" and "corrupted, detected" in item["reason"]
    assert "sha256:" + hashlib.sha256(open(path, "rb").read()).hexdigest() == layer
    assert not st.run_precache(params)["changed"]


@needs_tools
def test_oci_corrupted_layer_with_registry_down_keeps_the_previous_state(registry, tmp_path):
    ref, oci, _params = _stored(registry, tmp_path, "corrupt/b:v1")
    index = (oci / "index.json").read_bytes()
    _layer, path, bad = _corrupt_layer(oci, ref)
    state = istores.OciStore(str(oci), None).local(iin.parse_images([ref])[0], verify=True)
    assert "corrupted" in state["problem"]
    # the pull of the corrupted image fails (copy by a digest the registry lost): the corrupted blob is put back
    store = istores.OciStore(str(oci), itools.Tools(insecure=[registry.host], timeout=30))
    store.prepare()
    image = iin.parse_images([ref])[0]
    remote = {"digest": "sha256:" + "0" * 64, "instance": "sha256:" + "0" * 64}
    out = store.pull(image, remote, state)
    assert not out["ok"] and ("manifest unknown" in out["error"] or "not found" in out["error"].lower())
    assert open(path, "rb").read() == bad and (oci / "index.json").read_bytes() == index
    assert os.listdir(str(oci / iin.TMP_NAME)) == []


@needs_tools
def test_a_copy_past_its_timeout_is_killed_retried_and_leaves_the_layout_as_it_was(registry, tmp_path):
    ref, oci, params = _stored(registry, tmp_path, "slow/a:v1")
    index = (oci / "index.json").read_bytes()
    slow = registry.push(build_image(registry.work, "slow/b:v1"), "slow/b:v1")
    env = fake_skopeo(tmp_path, "#!/bin/sh\n[ \"$1\" = copy ] && { echo started >> %s; exec sleep 30; }\nexec %s \"$@\"\n"
                      % (tmp_path / "copies", shutil.which("skopeo")))
    sleeps = []
    res = st.run_precache(dict(params, images=[ref, slow], timeout=1.0, retries=1, retry_delay=0.5, environment=env),
                          sleep=sleeps.append)
    item = res["images"][1]
    assert res["failed"] and item["action"] == "failed" and "timed out" in item["reason"]
    assert item["attempts"] == 3 and sleeps == [0.5]  # one inspect, two copies each killed after 1 s
    assert (tmp_path / "copies").read_text() == "started\nstarted\n"
    assert res["images"][0]["action"] == "present"
    assert (oci / "index.json").read_bytes() == index and not (oci / iin.TMP_NAME).exists()


FAKE_COPY = r"""#!%(python)s
import json, os, sys
args = sys.argv[1:]
if args[0] != "copy":
    os.execv(%(real)r, [%(real)r] + args)
layout = args[-1].split(":")[1]
os.makedirs(layout)
with open(os.path.join(layout, "index.json"), "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
              "digest": "sha256:" + "0" * 64, "size": 10, "annotations": {"org.opencontainers.image.ref.name": "pull"}}]}, f)
"""


@needs_tools
def test_a_copy_that_claims_success_without_its_blobs_is_not_committed(registry, tmp_path):
    ref, oci, params = _stored(registry, tmp_path, "lying/a:v1")
    index = (oci / "index.json").read_bytes()
    other = registry.push(build_image(registry.work, "lying/b:v1"), "lying/b:v1")
    env = fake_skopeo(tmp_path, FAKE_COPY % {"python": sys.executable, "real": shutil.which("skopeo")})
    res = st.run_precache(dict(params, images=[ref, other], policy="always", environment=env))
    assert res["failed"] and res["failed_images"] == [ref, other] and not res["changed"]
    assert all("commit into %s failed: manifest blob sha256:%s is missing" % (oci, "0" * 64) in i["reason"]
               for i in res["images"])
    assert (oci / "index.json").read_bytes() == index and not (oci / iin.TMP_NAME).exists()


# --------------------------------------------------------------------------- credentials and TLS

@needs_tools
def test_credentials_go_through_a_private_auth_file_never_argv_or_output(auth_registry, tmp_path):
    ref = auth_registry.push(build_image(auth_registry.work, "auth-a"), "auth/a:v1")
    env, log = skopeo_wrapper(tmp_path)
    params = oci_params(tmp_path / "oci", [ref], insecure_registries=[auth_registry.host], environment=env)
    denied = st.run_precache(params)
    assert denied["failed"] and "unauthorized" in denied["images"][0]["reason"]
    creds = [{"registry": auth_registry.host, "username": "puller", "password": PASSWORD}]
    res = st.run_precache(dict(params, registry_auth=creds, unpack=True, unpack_dir=str(tmp_path / "unpacked")))
    assert not res["failed"] and res["pulled"] == [ref] and res["images"][0]["unpacked"]
    token = base64.b64encode(("puller:" + PASSWORD).encode()).decode()
    text = json.dumps(res)
    assert PASSWORD not in text and token not in text
    calls = logged(log)
    with_auth = [c for c in calls if any(a.endswith("authfile") for a in c["argv"])]
    assert [c["argv"][0] for c in with_auth] == ["inspect", "copy"]  # the oci unpack reads the layout's blobs
    for call in calls:
        assert not any(PASSWORD in a or token in a for a in call["argv"])
    for call in with_auth:
        assert all(mode == ["0o600", "0o700"] for mode in call["modes"].values())
        path = [call["argv"][i + 1] for i, a in enumerate(call["argv"][:-1]) if a.endswith("authfile")][0]
        assert not os.path.exists(path) and not os.path.exists(os.path.dirname(path))
    wrong = st.run_precache(dict(params, registry_auth=[dict(creds[0], password="wrong-" + PASSWORD)]))
    assert wrong["failed"] and PASSWORD not in json.dumps(wrong)


@needs_tools
def test_insecure_only_when_named(registry, tmp_path):
    ref = registry.push(build_image(registry.work, "tls-a"), "tls/a:v1")
    env, log = skopeo_wrapper(tmp_path)
    conf = tmp_path / "registries.conf"
    conf.write_text('[[registry]]\nlocation = "%s"\ninsecure = true\n' % registry.host)
    env["CONTAINERS_REGISTRIES_CONF"] = str(conf)
    params = oci_params(tmp_path / "oci", [ref], environment=env)
    res = st.run_precache(params)
    assert res["failed"] and "insecure_registries" in res["images"][0]["reason"]
    assert all("--tls-verify=true" in c["argv"] for c in logged(log))
    log.unlink()
    res = st.run_precache(dict(params, insecure_registries=["127.0.0.1:1", registry.host]))
    assert res["pulled"] == [ref]
    calls = logged(log)
    assert [c["argv"][0] for c in calls] == ["inspect", "copy"]
    assert "--tls-verify=false" in calls[0]["argv"] and "--src-tls-verify=false" in calls[1]["argv"]


# --------------------------------------------------------------------------- concurrency

def test_pulls_run_concurrently_up_to_the_limit(tmp_path, monkeypatch):
    state = {"now": 0, "max": 0}
    lock = threading.Lock()
    barrier = threading.Barrier(3, timeout=20)

    class FakeStore(object):
        name = "podman"
        cli = "podman"

        pulled = set()

        def local(self, image, verify):
            present = image["reference"] in self.pulled
            return {"present": present, "digests": set(), "digest": None, "problem": None}

        def pull(self, image, remote, state_):
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
            try:
                barrier.wait()  # breaks (fails the pull) unless 3 pulls run at once
                ok = True
            except threading.BrokenBarrierError:
                ok = False
            with lock:
                state["now"] -= 1
                self.pulled.add(image["reference"])
            return {"ok": ok, "error": None if ok else "not concurrent"}

    store = FakeStore()
    tools = itools.Tools()
    images = iin.parse_images(["a.io/x/i%d:v1" % n for n in range(6)])
    retrier = st.Retrier(0, 0)
    results = []

    def go(image):
        results.append(st.precache_one(image, store, tools, "missing", False, retrier))

    import concurrent.futures
    with concurrent.futures.ThreadPoolExecutor(max_workers=3) as pool:
        list(pool.map(go, images))
    assert [r["action"] for r in results] == ["pulled"] * 6 and state["max"] == 3
    # and run_precache sizes its pool from `concurrency`
    seen = {}
    real = concurrent.futures.ThreadPoolExecutor

    def spy(max_workers):
        seen["workers"] = max_workers
        return real(max_workers=max_workers)

    monkeypatch.setattr(st.concurrent.futures, "ThreadPoolExecutor", spy)
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "podman").write_text("#!/bin/sh\necho 'Error: image not known' >&2; exit 125\n")
    (fake / "podman").chmod(0o755)
    st.run_precache(dict(images=["a.io/x/i%d:v1" % n for n in range(6)], store="podman", policy="missing",
                         concurrency=5, retries=0, environment={"PATH": str(fake)}))
    assert seen["workers"] == 5


# --------------------------------------------------------------------------- podman, real

@pytest.fixture()
def podman_env(tmp_path):
    if not shutil.which("podman"):
        pytest.skip("podman is needed")
    run = tempfile.mkdtemp(prefix="o2u-", dir="/tmp")
    (tmp_path / "storage.conf").write_text('[storage]\ndriver = "vfs"\ngraphroot = "%s"\nrunroot = "%s"\n'
                                           % (tmp_path / "graph", run))
    (tmp_path / "registries.conf").write_text("unqualified-search-registries = []\n")
    (tmp_path / "containers.conf").write_text('[engine]\nevents_logger = "file"\nevents_logfile_path = "%s"\n'
                                              % (tmp_path / "events.log"))
    env = {"CONTAINERS_STORAGE_CONF": str(tmp_path / "storage.conf"),
           "CONTAINERS_REGISTRIES_CONF": str(tmp_path / "registries.conf"),
           "CONTAINERS_CONF": str(tmp_path / "containers.conf")}
    yield env
    subprocess.run(["podman", "system", "reset", "-f"], env=dict(os.environ, **env), check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(run, ignore_errors=True)
    shutil.rmtree(str(tmp_path / "graph"), ignore_errors=True)


@needs_tools
def test_podman_ladder_and_upstream_change(registry, podman_env):
    ref = registry.push(build_image(registry.work, "podman-1"), "pod/x:v1")
    params = dict(images=[ref], store="podman", policy="digest", concurrency=2, retries=0, retry_delay=0.0,
                  timeout=60.0, environment=podman_env, insecure_registries=[registry.host])
    check = st.run_precache(params, check_mode=True)
    assert check["changed"] and check["images"][0]["action"] == "would_pull"
    res = st.run_precache(params)
    digest = registry.digest("pod/x:v1")
    assert res["changed"] and res["pulled"] == [ref] and res["images"][0]["digest"] == digest
    assert res["records"][0]["name"] == "image_precache/podman" and res["records"][0]["context"]["versions"]["podman"]
    assert not st.run_precache(params, check_mode=True)["changed"]
    again = st.run_precache(params)
    assert not again["changed"] and again["images"][0]["local_digest_before"] == digest
    registry.push(build_image(registry.work, "podman-2"), "pod/x:v1")
    moved = st.run_precache(params)
    item = moved["images"][0]
    assert moved["changed"] and item["action"] == "pulled" and item["local_digest_before"] == digest
    assert item["digest"] == registry.digest("pod/x:v1") != digest
    missing = st.run_precache(dict(params, images=[ref.replace("pod/x", "pod/none")]))
    assert missing["failed"] and "manifest unknown" in missing["images"][0]["reason"]
    plain = st.run_precache(dict(params, insecure_registries=[], policy="always"))
    assert plain["failed"] and "insecure_registries" in plain["images"][0]["reason"]


# --------------------------------------------------------------------------- docker, nerdctl, crictl (fakes)

FAKE_CLI = r'''#!%(python)s
import json, os, sys
state_path = %(state)r
state = json.load(open(state_path))
args = sys.argv[1:]
cfg = os.environ.get("DOCKER_CONFIG")
auth = open(os.path.join(cfg, "config.json")).read() if cfg else None
state["calls"].append({"argv": args, "docker_config": auth})
ref = args[-1]
def save():
    json.dump(state, open(state_path, "w"))
if args[0] == "pull":
    state["images"][ref] = state["registry"][ref]
    save(); sys.exit(0)
if args[0] in ("image", "inspecti"):
    if ref not in state["images"]:
        save(); sys.stderr.write("Error: No such image: %%s\n" %% ref); sys.exit(1)
    repo = ref.rsplit(":", 1)[0]
    digests = [repo + "@" + state["images"][ref]]
    save()
    if args[0] == "inspecti":
        print(json.dumps({"status": {"repoDigests": digests}}))
    else:
        print(json.dumps(digests))
    sys.exit(0)
if args[0] == "--version":
    print("fake version 1.2.3"); save(); sys.exit(0)
save(); sys.exit(2)
'''


@needs_tools
@pytest.mark.parametrize("name", ["docker", "nerdctl", "crictl"])
def test_daemon_stores_argv_auth_and_digests(registry, tmp_path, name):
    ref = registry.push(build_image(registry.work, "fake-cli"), "fake/x:v1")
    digest = registry.digest("fake/x:v1")
    state = tmp_path / "state.json"
    state.write_text(json.dumps({"calls": [], "images": {}, "registry": {ref: digest}}))
    cli = tmp_path / name
    cli.write_text(FAKE_CLI % {"python": sys.executable, "state": str(state)})
    cli.chmod(0o755)
    insecure = [registry.host] if name == "nerdctl" else []
    creds = [] if name == "crictl" else [{"registry": registry.host, "username": "u", "password": PASSWORD}]
    params = dict(images=[ref], store=name, executable=str(cli), policy="digest", concurrency=1, retries=0,
                  retry_delay=0.0, timeout=60.0, registry_auth=creds, insecure_registries=insecure,
                  environment={"CONTAINERS_REGISTRIES_CONF": str(tmp_path / "none.conf")})
    if name != "nerdctl":
        # docker/crictl: the registry is plain HTTP; digest checks go through skopeo, which must be told
        params["policy"] = "missing"
    res = st.run_precache(params)
    assert not res["failed"] and res["pulled"] == [ref] and res["images"][0]["digest"] == digest
    calls = json.loads(state.read_text())["calls"]
    pulls = [c for c in calls if c["argv"][0] == "pull"]
    assert len(pulls) == 1 and pulls[0]["argv"][-1] == ref
    assert ("--insecure-registry" in pulls[0]["argv"]) is (name == "nerdctl")
    for call in calls:
        assert not any(PASSWORD in a for a in call["argv"])
    if creds:
        auths = json.loads(pulls[0]["docker_config"])["auths"]
        assert base64.b64decode(auths[registry.host]["auth"]).decode() == "u:" + PASSWORD
    again = st.run_precache(params)
    assert not again["changed"] and again["present"] == [ref]
    assert PASSWORD not in json.dumps(res) + json.dumps(again)


def test_missing_store_cli_is_named(tmp_path):
    with pytest.raises(ierr.StoreError, match="store nerdctl: the nerdctl command was not found"):
        st.run_precache(dict(images=["a.io/x:v1"], store="nerdctl", environment={"PATH": str(tmp_path)}))
