"""The perf_monitoring role through a real ansible-playbook: rules options written in a play reach perf_rules."""
import os
import subprocess
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

PLAY = """
- hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: o2edge.perf.perf_monitoring
      vars:
        perf_monitoring_scheduler: cron
        perf_monitoring_cron_dir: {tmp}/cron.d
        perf_monitoring_base_dir: {tmp}/base
        perf_monitoring_inventory: {tmp}/edge-sites.yml
        perf_monitoring_textfile_dir: {tmp}/textfile
        perf_monitoring_rules_dir: {tmp}/rules
        perf_monitoring_rules_options:
          interval: 5s
          probe_for: 20s
          windows:
            - {{severity: page, long: 2m, short: 30s, factor: 14.4, for: 10s}}
"""


def test_rules_options_given_in_a_play_generate_the_rules(tmp_path):
    """Bug caught: on ansible-core 2.19 every rules option written in a play or vars file reached perf_rules as a
    tagged string and its YAML writer failed ("cannot represent an object", '5s'): the role's README play failed."""
    (tmp_path / "cron.d").mkdir()
    (tmp_path / "play.yml").write_text(PLAY.format(tmp=tmp_path))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "unit"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"), ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,",
                           str(tmp_path / "play.yml")], env=env, capture_output=True, text=True, check=False,
                          timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    rules = yaml.safe_load((tmp_path / "rules" / "o2edge_perf.rules.yml").read_text())
    assert {g["interval"] for g in rules["groups"]} == {"5s"}
    probe = [r for g in rules["groups"] for r in g["rules"] if r.get("alert") == "O2edgePerfProbeDown"]
    assert probe[0]["for"] == "20s"
    assert (tmp_path / "cron.d" / "o2edge-perf-monitoring").is_file()
