# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""service_probe in-process: argument validation, tokens, kubeconfig-only targets, results.

The module's exit_json and fail_json are replaced by the runner (tests/unit/module_runner.py),
so Ansible's own no_log masking never runs here: a token missing from the result was kept out
by the module and the prober themselves.
"""
from __future__ import annotations

import json
import os
from unittest import mock

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import is_secret_key
from ansible_collections.o2edge.perf.plugins.modules import service_probe
from tests.unit.module_runner import run_module
from tests.unit import fake_sshd as fs
from tests.unit.probe_servers import KEY_A, TOKEN, closed_port, fake_keyscan, write_kubeconfig


@pytest.fixture
def fake_sshd():
    yield from fs.servers()


def probe(**args):
    return run_module(service_probe, args)


# --------------------------------------------------------------------------- secrets

def _specs(spec, path=""):
    for name, opts in spec.items():
        yield path + name, name, opts
        if opts.get("options"):
            yield from _specs(opts["options"], path + name + "[].")


def test_every_secret_option_is_no_log():
    specs = list(_specs(service_probe.ARGUMENT_SPEC))
    secret = [(path, opts.get("no_log")) for path, name, opts in specs if is_secret_key(name)]
    assert ("targets[].token", True) in secret
    assert all(no_log is True for _path, no_log in secret), secret
    # tokens holds a token per site (the word rule does not call the plural a secret).
    assert service_probe.ARGUMENT_SPEC["tokens"]["no_log"] is True


def test_tokens_never_appear_in_the_result(https_server, pki):
    """A server echoing the bearer token (in a failing check, a body, the version) never gets it into the result."""
    ca = os.path.join(pki, "ca.crt")
    base = "https://127.0.0.1:%d" % https_server
    targets = [{"site": "t%s" % where, "kind": "kubernetes", "url": base + "/echo-" + where, "ca_file": ca,
                "token": TOKEN} for where in ("readyz", "livez", "version500", "version")]
    site = {"name": "edge9", "address": "127.0.0.1", "ssh": {},
            "services": {"kubernetes": {"url": base + "/echo-version500", "ca_file": ca}}}
    res = probe(targets=targets, sites=[site], services=["kubernetes"], tokens={"edge9": TOKEN}, timeout=2)
    assert res["failed"] is False, res
    assert [r["state"] for r in res["results"]] == ["http_status"] * 4 + ["up"]
    assert res["results"][0]["site"] == "edge9"  # targets built from sites come first
    assert TOKEN not in json.dumps(res)
    assert all("********" in r["detail"] for r in res["results"])


@pytest.mark.parametrize("site,path", [
    ({"name": "e", "address": "127.0.0.1", "services": {"kubernetes": {"token": "x"}}}, "sites[0].services.kubernetes.token"),
    ({"name": "e", "address": "127.0.0.1", "ssh": {"ansible_ssh_pass": "x"}}, "sites[0].ssh.ansible_ssh_pass"),
    ({"name": "e", "address": "127.0.0.1", "metadata": {"note": "https://u:pw@example.net/"}}, "sites[0].metadata.note"),
])
def test_sites_carrying_secrets_are_refused_by_path(site, path):
    res = probe(sites=[site])
    assert res["failed"] is True and res["msg"].startswith(path + ": sites must not carry"), res["msg"]
    assert "pw@" not in res["msg"]


@pytest.mark.parametrize("url,reason", [
    ("http://127.0.0.1/x?access_token=abc", "is a URL with a secret in its query string"),
    ("http://u:abc@127.0.0.1/", "is a URL with a password in it"),
])
def test_target_url_with_a_secret_is_refused(url, reason):
    res = probe(targets=[{"site": "e", "kind": "http", "url": url}])
    assert res["failed"] is True and res["msg"].startswith("targets[0].url " + reason), res["msg"]
    assert "abc" not in res["msg"]


# --------------------------------------------------------------------------- validation names the field

@pytest.mark.parametrize("target,msg", [
    ({"kind": "ftp", "address": "127.0.0.1"},
     "targets[0] (site e, service ftp): kind 'ftp' is not a probe kind; the kinds are tcp, ssh, http, prometheus, "
     "kubernetes"),
    ({"kind": "tcp", "address": "127.0.0.1", "port": 70000},
     "targets[0] (site e, service tcp): port must be 1-65535, got 70000"),
    ({"kind": "tcp", "address": "127.0.0.1"}, "targets[0] (site e, service tcp): port is required for kind tcp"),
    ({"kind": "tcp", "port": 1}, "targets[0] (site e, service tcp): address is required (or url)"),
    ({"kind": "kubernetes"}, "targets[0] (site e, service kubernetes): address is required (or url or kubeconfig)"),
    ({"kind": "tcp", "address": "198.18.0.1,198.18.0.2", "port": 1},
     "targets[0] (site e, service tcp): address must be one host name or IP address"),
    ({"kind": "http", "address": "127.0.0.1"}, "targets[0] (site e, service http): url is required for kind http"),
    ({"kind": "http", "url": "ftp://127.0.0.1/"},
     "targets[0] (site e, service http): url must use http or https, got scheme 'ftp'"),
    # Bug: the edge-sites schema refused a Kubernetes URL over plain http, a service_probe target took it and
    # sent the bearer token in clear; the per-kind rules now live once in _services (url_schemes).
    ({"kind": "kubernetes", "url": "http://127.0.0.1:6443/", "token": "t"},
     "targets[0] (site e, service kubernetes): url must use https, got scheme 'http'"),
    ({"kind": "tcp", "url": "http://127.0.0.1/", "port": 1},
     "targets[0] (site e, service tcp): url is only for kinds http, prometheus, kubernetes, not tcp"),
    ({"kind": "prometheus", "address": "127.0.0.1", "kubeconfig": "/etc/hostname"},
     "targets[0] (site e, service prometheus): kubeconfig is only for kind kubernetes, not prometheus"),
    ({"kind": "tcp", "address": "127.0.0.1", "port": 1, "timeout": 0},
     "targets[0] (site e, service tcp): timeout must be a positive number of seconds, got 0"),
    ({"kind": "ssh", "address": "127.0.0.1"},
     "targets[0] (site e, service ssh): ssh needs known_hosts or host_key"),
    ({"kind": "ssh", "address": "127.0.0.1", "host_key": "AAAA"},
     "targets[0] (site e, service ssh): host_key must be 'TYPE BASE64'"),
    ({"kind": "ssh", "address": "127.0.0.1", "host_key": "ssh-ed25519 AAAA", "login": True},
     "targets[0] (site e, service ssh): login needs user"),
    ({"kind": "kubernetes", "address": "127.0.0.1", "ca_file": "/nonexistent/ca.crt"},
     "targets[0] (site e, service kubernetes): ca_file /nonexistent/ca.crt does not exist or is not readable"),
])
def test_validation_names_the_target_and_the_field(target, msg):
    res = probe(targets=[dict(target, site="e")])
    assert res["failed"] is True and res["msg"].startswith(msg), res["msg"]


def test_unknown_kind_of_a_site_service_names_the_site_and_the_service():
    res = probe(sites=[{"name": "edge1", "address": "127.0.0.1", "services": {"ims": {"kind": "o2"}, "foo": {}}}],
                services=["ims", "foo"])
    assert res["failed"] is True
    assert res["msg"].startswith("sites[0] (edge1) service foo: kind is missing"), res["msg"]
    res = probe(sites=[{"name": "edge1", "address": "127.0.0.1", "services": {"ims": {"kind": "o2"}}}],
                services=["ims"])
    assert res["msg"].startswith("sites[0] (edge1) service ims: kind 'o2' is not a probe kind"), res["msg"]


@pytest.mark.parametrize("args,msg", [
    ({}, "nothing to probe: give targets or sites"),
    ({"targets": [{"site": "e", "kind": "tcp", "address": "127.0.0.1", "port": 1}], "concurrency": 0},
     "concurrency must be at least 1, got 0"),
    ({"targets": [{"site": "e", "kind": "tcp", "address": "127.0.0.1", "port": 1}], "ssh_concurrency": 0},
     "ssh_concurrency must be at least 1, got 0"),
    ({"targets": [{"site": "e", "kind": "tcp", "address": "127.0.0.1", "port": 1}], "timeout": -1},
     "timeout must be a positive number of seconds, got -1.0"),
])
def test_module_options_are_named(args, msg):
    res = probe(**args)
    assert res["failed"] is True and res["msg"] == msg


# --------------------------------------------------------------------------- probing

def test_kubeconfig_only_kubernetes_target(https_server, pki, tmp_path):
    kc = write_kubeconfig(tmp_path / "config", "https://127.0.0.1:%d" % https_server, os.path.join(pki, "ca.crt"),
                          {"token": TOKEN})
    res = probe(targets=[{"site": "edge1", "kind": "kubernetes", "kubeconfig": kc}])
    assert res["failed"] is False and res["changed"] is False, res
    r = res["results"][0]
    assert (r["state"], r["address"], r["port"], r["info"]["version"]) == ("up", "127.0.0.1", https_server, "v1.30.1")
    assert res["matrix"] == {"edge1": {"kubernetes": "up"}}
    assert res["summary"]["sites_up"] == 1 and res["msg"].startswith("1/1 sites fully up")
    rec = res["records"][0]
    assert validate_record(rec) == [] and rec["context"]["target"] == "127.0.0.1:%d" % https_server
    assert TOKEN not in json.dumps(res)


def test_down_services_are_results_not_failures(http_server):
    res = probe(targets=[{"site": "e", "service": "o2ims", "kind": "http", "url": "http://127.0.0.1:%d/o2ims" % http_server},
                         {"site": "e", "kind": "tcp", "address": "127.0.0.1", "port": closed_port()}])
    assert res["failed"] is False
    assert res["matrix"] == {"e": {"o2ims": "up", "tcp": "refused"}}
    assert res["summary"]["site_status"] == {"e": "partial"}
    errors = res["records"][1]["errors"]
    assert errors[0]["state"] == "refused" and res["records"][1]["failures"] == 1


def test_failed_is_set_by_the_module_itself(http_server):
    """exit_json gets failed=False from the module (not from a runner's default)."""
    seen = {}

    class Exit(Exception):
        pass

    def exit_json(self, **kwargs):
        seen.update(kwargs)
        raise Exit()
    args = {"targets": [{"site": "e", "kind": "http", "url": "http://127.0.0.1:%d/o2ims" % http_server}]}
    with patch_module_args(args), mock.patch.object(basic.AnsibleModule, "exit_json", exit_json):
        with pytest.raises(Exit):
            service_probe.main()
    assert seen["failed"] is False and seen["changed"] is False


def test_ssh_site_through_the_module(fake_sshd, tmp_path, monkeypatch):
    """An edge_site's ssh target: the probe fetches the host key itself, no ssh-keyscan is run."""
    srv = fake_sshd(key=KEY_A)
    fake_keyscan(tmp_path, KEY_A)
    monkeypatch.setenv("PATH", "%s:%s" % (tmp_path, os.environ.get("PATH", "")))
    site = {"name": "edge1", "address": "127.0.0.1", "ssh": {"port": srv.port, "host_key": "ssh-ed25519 " + KEY_A}}
    res = probe(sites=[site])
    assert res["failed"] is False and res["results"][0]["state"] == "up", res
    assert not os.path.exists(str(tmp_path / "ssh-keyscan.argv"))
