"""Unit tests for the lab's pure parts: the files it writes and the configs it generates."""
import os

import pytest
import yaml

from tests.lab import common, configs, edges, faults, images, lab, repo


@pytest.fixture
def labdir(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "LAB_DIR", str(tmp_path))
    monkeypatch.setattr(common, "SHORT_ROOT", str(tmp_path / "short"))
    return tmp_path


def test_prometheus_config_groups_targets_per_job():
    cfg = yaml.safe_load(edges.prom_config(edges.mgmt_jobs()))
    names = [j["job_name"] for j in cfg["scrape_configs"]]
    assert len(names) == len(set(names)), "Prometheus refuses duplicate job names"
    node = next(j for j in cfg["scrape_configs"] if j["job_name"] == "edge_node")
    assert [sc["labels"]["site"] for sc in node["static_configs"]] == ["edge1", "edge2"]
    assert node["static_configs"][0]["targets"] == ["198.18.1.10:9100"]


def test_configs_list_edge2_at_its_stale_address_and_pin_keys_by_site(labdir):
    pubs = {s: "ssh-ed25519 AAAAkey%s root@%s" % (s, s) for s in common.SITES}
    configs.write_configs(str(labdir / "ssh" / "id_ed25519"), pubs, {"stale": "ssh-ed25519 AAAAimpostor root@stale"})
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
    assert oct(os.stat(common.short_path("ssh-cp")).st_mode & 0o777) == "0o700"
    mgmt = yaml.safe_load((labdir / "management.yml").read_text())
    assert mgmt == {"o2edge_pipeline_repo": str(labdir / "repo"), "o2edge_kpt_root": str(labdir / "repo" / "packages"),
                    "o2edge_prometheus_url": "http://198.18.0.1:9090", "o2edge_kpt_runtime": "podman",
                    "o2edge_insecure_registries": ["198.18.0.1:5000"],
                    "o2edge_pipeline": str(labdir / "pipeline.yml")}


def test_package_pipelines_use_exec_and_image_functions(labdir):
    kinds = {k for _n, _s, k, _r, _sub in repo.PACKAGES}
    assert kinds == {"exec", "image", "mixed", "static", "python-cm", "python-path"}
    assert len(repo.PACKAGES) >= 8
    mixed = repo._pipeline("mixed", "p", "edge1")
    assert "exec: %s/fn/set-annotations.py" % labdir in mixed
    assert "image: 198.18.0.1:5000/kpt-fn/passthrough:v1" in mixed
    assert "validators:" in mixed


def test_fault_rejects_unknown_site_service_and_action():
    with pytest.raises(lab.LabError, match="unknown site 'edge9'"):
        faults.fault("edge9", "ssh", "down")
    with pytest.raises(lab.LabError, match="edge3 has no service 'prometheus'"):
        faults.fault("edge3", "prometheus", "down")
    with pytest.raises(lab.LabError, match="action 'explode'"):
        faults.fault("edge1", "ssh", "explode")


def test_fault_targets_and_drop_rules():
    assert faults._services("mgmt") == ["registry", "prometheus"]
    assert faults._services("edge3") == ["ssh"]
    assert [faults._component("mgmt", s) for s in faults._services("mgmt")] == ["ctl-registry", "mgmt-prometheus"]
    assert faults._component("edge1", "kubernetes") == "edge1-kubernetes"
    assert faults._drop_rule("registry")[:5] == ["INPUT", "-p", "tcp", "--dport", "5000"]
    assert faults._drop_rule("prometheus")[4] == "9090"
    assert faults._drop_rule("site")[:4] == ["INPUT", "-i", "eth0", "-j"]


def test_sockets_and_podman_state_stay_short_whatever_the_checkout_path(monkeypatch):
    """The 40 s-per-function bug: podman's exit command refuses a runroot over 50 characters,
    and an Ansible ControlPath socket over 107 bytes cannot be bound."""
    long_dir = "/home/operator/src/github.com/some-organisation/" + "x" * 120 + "/.lab"
    monkeypatch.setattr(common, "LAB_DIR", long_dir)
    runroot = images.podman_runroot()
    assert len(runroot) <= 50 and not runroot.startswith(long_dir)
    # Ansible's ControlPath is <dir>/<40 hex> and ssh adds a 17-character temporary suffix.
    control_dir = lab.lab_env()["ANSIBLE_SSH_CONTROL_PATH_DIR"]
    assert len(control_dir) + 1 + 40 + 17 <= 107
    # Two labs in two checkouts do not share the folder.
    monkeypatch.setattr(common, "LAB_DIR", long_dir + "2")
    assert images.podman_runroot() != runroot


def test_podman_runroot_over_the_limit_is_refused_by_name(monkeypatch):
    monkeypatch.setattr(common, "SHORT_ROOT", "/run/" + "y" * 60)
    with pytest.raises(lab.LabError, match="podman runroot .* 50"):
        images.podman_runroot()


def test_containers_conf_points_podman_at_the_short_state(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "LAB_DIR", str(tmp_path / ("p" * 100)))
    images.make_containers_conf()
    storage = (tmp_path / ("p" * 100) / "containers" / "storage.conf").read_text()
    conf = (tmp_path / ("p" * 100) / "containers" / "containers.conf").read_text()
    assert 'runroot = "%s"' % images.podman_runroot() in storage
    assert 'tmp_dir = "%s"' % common.short_path("libpod") in conf
