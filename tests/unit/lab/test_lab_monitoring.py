"""The lab's monitoring side (issue 18 item 4): the management Prometheus scrapes the textfile metrics of its
own node-exporter, loads the generated rules and can be told to reload them."""
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.plugin_utils import _prom_rules as R
from ansible_collections.o2edge.perf.plugins.plugin_utils._slo import default_objectives
from tests.lab import common, edges, lab

PROMTOOL = shutil.which("promtool")


@pytest.fixture
def labdir(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "LAB_DIR", str(tmp_path))
    return tmp_path


@pytest.fixture
def started(monkeypatch):
    calls = []
    monkeypatch.setattr(edges, "start", lambda name, argv, ns=None, marker=None: calls.append((name, argv, ns, marker)))
    return calls


def test_mgmt_prometheus_scrapes_the_textfile_node_exporter_keeping_the_metrics_site_label():
    """Bug caught: the textfile metrics never scraped, or scraped with the job's site="mgmt" overriding the
    metrics' own site (Prometheus renames theirs to exported_site: O2edgePerfProbeDown would never name edge1)."""
    cfg = yaml.safe_load(edges.prom_config(edges.mgmt_jobs()))
    node = next(j for j in cfg["scrape_configs"] if j["job_name"] == "mgmt_node")
    assert node["static_configs"] == [{"targets": ["198.18.0.1:9100"], "labels": {"site": "mgmt"}}]
    assert node["honor_labels"] is True
    others = [j for j in cfg["scrape_configs"] if j["job_name"] != "mgmt_node"]
    assert others and not any("honor_labels" in j for j in others)


def test_mgmt_node_exporter_reads_only_the_lab_textfile_directory_in_the_controller_namespace(labdir, started):
    """Bug caught: node-exporter started outside the lab's namespace, on another address, or without the textfile
    collector on the directory perf_monitoring installs into."""
    edges.start_mgmt_node_exporter()
    (name, argv, ns, marker), = started
    assert name == "mgmt-node_exporter" and ns == common.CTL and marker == "198.18.0.1:9100"
    assert "--collector.disable-defaults" in argv and "--collector.textfile" in argv
    assert "--collector.textfile.directory=%s" % (labdir / "textfile") in argv
    assert "--web.listen-address=198.18.0.1:9100" in argv
    assert (labdir / "textfile").is_dir()
    assert name in lab.expected_components(), "lab status/healthy/down would not know it"


def test_prometheus_loads_the_rules_files_of_its_rules_dir_and_can_reload(labdir, started):
    """Bug caught: the generated rules never loaded (no rule_files), not reloadable (no lifecycle API), or a
    restart after `fault mgmt prometheus restore` (no rule_files given) forgetting them."""
    edges.start_prometheus("mgmt", common.CTL, common.MGMT_IP, edges.mgmt_jobs())
    (_name, argv, _ns, _marker), = started
    assert "--web.enable-lifecycle" in argv
    cfg = yaml.safe_load((labdir / "prom" / "mgmt" / "prometheus.yml").read_text())
    assert cfg["rule_files"] == [str(labdir / "prom" / "mgmt" / "rules" / "*.rules.yml")]
    assert (labdir / "prom" / "mgmt" / "rules").is_dir()


@pytest.mark.skipif(not PROMTOOL, reason="promtool not installed")
def test_promtool_accepts_the_config_with_generated_rules_and_their_test_file_beside_them(labdir, started):
    """Bug caught: a rule_files glob that also takes the promtool test cases (o2edge_perf.rules.test.yml) as
    rules: Prometheus then refuses the whole config at start or reload."""
    edges.start_prometheus("mgmt", common.CTL, common.MGMT_IP, edges.mgmt_jobs())
    rules = labdir / "prom" / "mgmt" / "rules"
    objectives = default_objectives()
    (rules / "o2edge_perf.rules.yml").write_text(yaml.safe_dump(R.generate(objectives, {"interval": "5s"})))
    (rules / "o2edge_perf.rules.test.yml").write_text(yaml.safe_dump(R.promtool_tests(objectives, {"interval": "5s"})))
    res = subprocess.run([PROMTOOL, "check", "config", str(labdir / "prom" / "mgmt" / "prometheus.yml")],
                         capture_output=True, text=True, check=False, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "SUCCESS: 1 rule files found" in res.stdout + res.stderr
