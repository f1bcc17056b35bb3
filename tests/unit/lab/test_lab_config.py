"""Unit tests for the lab's pure parts: the files it writes and the configs it generates."""
import os

import pytest
import yaml

from tests.lab import lab


@pytest.fixture
def labdir(tmp_path, monkeypatch):
    monkeypatch.setattr(lab, "LAB_DIR", str(tmp_path))
    return tmp_path


def test_prometheus_config_groups_targets_per_job():
    cfg = yaml.safe_load(lab.prom_config(lab.mgmt_jobs()))
    names = [j["job_name"] for j in cfg["scrape_configs"]]
    assert len(names) == len(set(names)), "Prometheus refuses duplicate job names"
    node = next(j for j in cfg["scrape_configs"] if j["job_name"] == "edge_node")
    assert [sc["labels"]["site"] for sc in node["static_configs"]] == ["edge1", "edge2"]
    assert node["static_configs"][0]["targets"] == ["198.18.1.10:9100"]


def test_configs_list_edge2_at_its_stale_address_and_pin_keys_by_site(labdir):
    pubs = {s: "ssh-ed25519 AAAAkey%s root@%s" % (s, s) for s in lab.SITES}
    lab.write_configs(str(labdir / "ssh" / "id_ed25519"), pubs, "ssh-ed25519 AAAAimpostor root@stale")
    stale = yaml.safe_load((labdir / "edge-sites.yml").read_text())
    fixed = yaml.safe_load((labdir / "edge-sites-fixed.yml").read_text())
    addr = {s["name"]: s["address"] for s in stale["sites"]}
    assert addr == {"edge1": "198.18.1.10", "edge2": "198.18.102.10", "edge3": "198.18.3.10", "edge4": "198.18.4.10"}
    assert {s["name"]: s["address"] for s in fixed["sites"]}["edge2"] == "198.18.2.10"
    assert stale["plugin"] == "o2edge.perf.edge_sites"
    # edge3/edge4 are SSH-only sites: no services listed
    assert "services" not in next(s for s in stale["sites"] if s["name"] == "edge3")
    known = (labdir / "ssh" / "known_hosts").read_text().splitlines()
    assert known[1] == "edge2,198.18.2.10 ssh-ed25519 AAAAkeyedge2"
    assert not any("impostor" in line for line in known)
    inv = yaml.safe_load((labdir / "inventory.yml").read_text())
    args = inv["all"]["children"]["edges"]["hosts"]["edge2"]["ansible_ssh_common_args"]
    assert "StrictHostKeyChecking=yes" in args and "HostKeyAlias=edge2" in args
    assert "/dev/null" not in args
    assert oct(os.stat(labdir / "ssh" / "cp").st_mode & 0o777) == "0o700"
    mgmt = yaml.safe_load((labdir / "management.yml").read_text())
    assert mgmt == {"o2edge_pipeline_repo": str(labdir / "repo"), "o2edge_kpt_root": str(labdir / "repo" / "packages"),
                    "o2edge_prometheus_url": "http://198.18.0.1:9090"}


def test_package_pipelines_use_exec_and_image_functions(labdir):
    kinds = {k for _n, _s, k, _r, _sub in lab.PACKAGES}
    assert kinds == {"exec", "image", "mixed"}
    assert len(lab.PACKAGES) >= 8
    mixed = lab._pipeline("mixed", "p", "edge1")
    assert "exec: %s/fn/set-annotations.py" % labdir in mixed
    assert "image: 198.18.0.1:5000/kpt-fn/passthrough:v1" in mixed
    assert "validators:" in mixed


def test_fault_rejects_unknown_site_service_and_action():
    with pytest.raises(lab.LabError, match="unknown site 'edge9'"):
        lab.fault("edge9", "ssh", "down")
    with pytest.raises(lab.LabError, match="edge3 has no service 'prometheus'"):
        lab.fault("edge3", "prometheus", "down")
    with pytest.raises(lab.LabError, match="action 'explode'"):
        lab.fault("edge1", "ssh", "explode")


def test_fault_targets_and_drop_rules():
    assert lab._services("mgmt") == ["registry", "prometheus"]
    assert lab._services("edge3") == ["ssh"]
    assert [lab._component("mgmt", s) for s in lab._services("mgmt")] == ["ctl-registry", "mgmt-prometheus"]
    assert lab._component("edge1", "kubernetes") == "edge1-kubernetes"
    assert lab._drop_rule("registry")[:5] == ["INPUT", "-p", "tcp", "--dport", "5000"]
    assert lab._drop_rule("prometheus")[4] == "9090"
    assert lab._drop_rule("site")[:4] == ["INPUT", "-i", "eth0", "-j"]
