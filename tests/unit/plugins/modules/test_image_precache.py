# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""image_precache through AnsibleModule, against a real registry on 127.0.0.1 and a real OCI layout."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.modules import image_precache
from tests.unit.module_runner import run_module
from tests.unit.plugins.module_utils import test_image_store as store_tests
from tests.unit.plugins.module_utils.test_image_store import PASSWORD, build_image, free_port, needs_tools

# the real registries of the store tests (plain, and with htpasswd auth), as fixtures here too
registry = store_tests.registry
auth_registry = store_tests.auth_registry


@needs_tools
def test_idempotency_ladder_with_diff(registry, tmp_path):
    ref = registry.push(build_image(registry.work, "module-a"), "module/a:v1")
    args = {"images": [ref], "store": "oci", "oci_dir": str(tmp_path / "oci"), "insecure_registries": [registry.host],
            "retry_delay": 0}
    check = run_module(image_precache, args, check_mode=True, diff=True)
    assert check["changed"] is True and check["failed"] is False and check["would_pull"] == [ref]
    assert check["images"][0]["action"] == "would_pull" and not (tmp_path / "oci").exists()
    run = run_module(image_precache, args, diff=True)
    digest = registry.digest("module/a:v1")
    assert run["changed"] is True and run["failed"] is False and run["pulled"] == [ref]
    assert run["diff"] == {"before": {ref: None}, "after": {ref: digest}}
    assert run["msg"] == "1 image(s) pulled, 0 present"
    assert [validate_record(r) for r in run["records"]] == [[]] and run["records"][0]["name"] == "image_precache/oci"
    again = run_module(image_precache, args, check_mode=True)
    assert again["changed"] is False and again["images"][0]["action"] == "present"
    last = run_module(image_precache, args)
    assert last["changed"] is False and last["present"] == [ref] and last["diff"]["before"] == {ref: digest}


@needs_tools
def test_failures_fail_the_task_naming_image_and_cause(registry, tmp_path):
    good = registry.push(build_image(registry.work, "module-b"), "module/b:v1")
    dead = "127.0.0.1:%d/module/x:v1" % free_port()
    missing = "%s/module/none:v9" % registry.host
    args = {"images": [good, dead, missing], "store": "oci", "oci_dir": str(tmp_path / "oci"), "retries": 1,
            "retry_delay": 0, "insecure_registries": [registry.host, dead.split("/")[0]]}
    res = run_module(image_precache, args)
    assert res["failed"] is True and res["changed"] is True and res["pulled"] == [good]
    assert res["failed_images"] == [dead, missing]
    assert res["msg"].startswith("2 of 3 image(s) failed: ")
    assert dead + ": cannot read the registry's manifest: connection refused" in res["msg"]
    assert missing + ": cannot read the registry's manifest: manifest unknown" in res["msg"]
    attempts = dict((i["reference"], i["attempts"]) for i in res["images"])
    assert attempts == {good: 2, dead: 2, missing: 1}  # good: one inspect, one copy; dead: 1 + 1 retry


@needs_tools
def test_credentials_are_not_in_the_result(auth_registry, tmp_path):
    ref = auth_registry.push(build_image(auth_registry.work, "module-c"), "module/c:v1")
    args = {"images": [ref], "store": "oci", "oci_dir": str(tmp_path / "oci"), "insecure_registries": [auth_registry.host],
            "registry_auth": [{"registry": auth_registry.host, "username": "puller", "password": PASSWORD}]}
    res = run_module(image_precache, args)
    assert res["failed"] is False and res["pulled"] == [ref]
    assert PASSWORD not in json.dumps(res)


def test_the_password_is_no_log_in_the_argument_spec(monkeypatch):
    seen = {}

    class Spy(Exception):
        pass

    def capture(**kwargs):
        seen.update(kwargs)
        raise Spy()

    monkeypatch.setattr(image_precache, "AnsibleModule", capture)
    with pytest.raises(Spy):
        image_precache.main()
    auth = seen["argument_spec"]["registry_auth"]["options"]
    assert auth["password"].get("no_log") is True
    assert not auth["username"].get("no_log") and not auth["registry"].get("no_log")


def test_bad_input_is_refused_naming_the_field(tmp_path):
    res = run_module(image_precache, {"images": ["a.io/x:v1"], "store": "oci"})
    assert res["failed"] is True and "oci_dir" in res["msg"]
    res = run_module(image_precache, {"images": ["a.io/x:v1"], "store": "oci", "oci_dir": str(tmp_path), "concurrency": 0})
    assert res["failed"] is True and res["msg"].startswith("concurrency must be between 1 and 64, got")
    res = run_module(image_precache, {"images": ["a.io/x:v1", "UPPER case"], "store": "oci", "oci_dir": str(tmp_path)})
    assert res["failed"] is True and res["msg"].startswith("images[1] 'UPPER case' is not a valid image reference")
    res = run_module(image_precache, {"images": ["a.io/x:v1"], "store": "oci", "oci_dir": str(tmp_path),
                                      "kpt_version": "banana"})
    assert res["failed"] is True and "kpt_version" in res["msg"]
    res = run_module(image_precache, {"images": ["set-namespace:v1"], "store": "oci", "oci_dir": str(tmp_path)})
    assert res["failed"] is True and "short name" in res["msg"]
    assert os.listdir(str(tmp_path)) == []


@needs_tools
def test_short_names_resolve_with_the_kpt_version(tmp_path):
    # a skopeo that only records being called: check mode with policy missing must not ask any registry
    (tmp_path / "bin").mkdir()
    marker = tmp_path / "called"
    (tmp_path / "bin" / "skopeo").write_text("#!/bin/sh\n[ \"$1\" = --version ] || echo \"$@\" >> %s\nexit 1\n" % marker)
    (tmp_path / "bin" / "skopeo").chmod(0o755)
    args = {"images": ["set-namespace:v0.4.1"], "store": "oci", "oci_dir": str(tmp_path / "oci"),
            "kpt_version": "1.0.0-beta.56", "policy": "missing", "environment": {"PATH": str(tmp_path / "bin")}}
    res = run_module(image_precache, args, check_mode=True)
    assert res["images"][0]["reference"] == "gcr.io/kpt-fn/set-namespace:v0.4.1"
    assert res["images"][0]["action"] == "would_pull" and res["images"][0]["attempts"] == 0
    assert not marker.exists()
