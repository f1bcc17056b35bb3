"""roles/playbook_vars: quick_check's defaults apply only where inventory and -e set nothing."""
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "playbook_vars")

QUICK_CHECK = os.path.join(ROOT, "playbooks", "quick_check.yml")
# Appended to quick_check's first play (the benchmark it imports is not run): what the benchmark would read.
DUMP = {"ansible.builtin.copy": {"dest": None, "mode": "0600",
                                 "content": "{{ dict(names | zip(names | map('extract', hostvars['localhost']))) | to_json }}"},
        "vars": {"names": ["o2edge_runs", "o2edge_warmup", "o2edge_kpt_runs", "o2edge_io_size_mb", "o2edge_fail_on_slo",
                           "o2edge_fail_on_regression", "o2edge_report_title"]}}


def _quick_check():
    with open(QUICK_CHECK) as handle:
        return yaml.safe_load(handle)


def _specs():
    with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as handle:
        return yaml.safe_load(handle)["argument_specs"]


def test_the_tasks_apply_the_entry_points_defaults():
    """Bug caught: a default changed in the spec (what ansible-doc and the docs show) but not where it is applied."""
    facts = _quick_check()[0]["tasks"][1]["ansible.builtin.set_fact"]
    options = _specs()["quick_check"]["options"]
    for name, option in options.items():
        if "default" not in option:
            continue
        found = re.match(r"\{\{ %s \| default\((.*?)\)( \| bool)? \}\}$" % name, facts[name])
        assert found, (name, facts[name])
        assert yaml.safe_load(found.group(1)) == option["default"], name
    assert set(facts) <= set(options)


def test_quick_check_sets_no_play_vars_on_the_import():
    """Bug caught: import_playbook vars are play vars, which override inventory."""
    plays = _quick_check()
    assert all("vars" not in play for play in plays)
    assert plays[0]["tasks"][0]["ansible.builtin.include_role"]["tasks_from"] == "quick_check"


def _run(tmp_path, *extra):
    (tmp_path / "host_vars").mkdir(exist_ok=True)
    (tmp_path / "host_vars" / "localhost.yml").write_text("o2edge_runs: 7\no2edge_fail_on_slo: false\n")
    (tmp_path / "hosts.ini").write_text("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    out = tmp_path / "out.json"
    play = _quick_check()[0]
    play["hosts"] = "localhost"
    dump = json.loads(json.dumps(DUMP))
    dump["ansible.builtin.copy"]["dest"] = str(out)
    play["tasks"].append(dump)
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play]))
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "O2EDGE_")))
    env.update(ANSIBLE_COLLECTIONS_PATH=os.path.join(ROOT, ".build", "unit"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"))
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
                           str(tmp_path / "hosts.ini"), str(tmp_path / "play.yml")] + list(extra),
                          env=env, capture_output=True, text=True, check=False, timeout=300)
    return proc, (json.loads(out.read_text()) if out.exists() else None)


def test_inventory_overrides_the_defaults_and_extra_vars_override_both(tmp_path):
    proc, got = _run(tmp_path)
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert got == {"o2edge_runs": 7, "o2edge_warmup": 1, "o2edge_kpt_runs": 2, "o2edge_io_size_mb": 16,
                   "o2edge_fail_on_slo": False, "o2edge_fail_on_regression": False,
                   "o2edge_report_title": "o2edge.perf quick check"}
    proc, got = _run(tmp_path, "-e", '{"o2edge_runs": 9, "o2edge_baseline": "latest"}')
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert got["o2edge_runs"] == 9 and got["o2edge_fail_on_regression"] is True


@pytest.mark.parametrize("extra, name", [("o2edge_runs=many", "o2edge_runs"), ("o2edge_fail_on_slo=perhaps", "o2edge_fail_on_slo")])
def test_a_wrong_type_fails_naming_the_variable(tmp_path, extra, name):
    proc, got = _run(tmp_path, "-e", extra)
    assert proc.returncode != 0 and got is None
    assert name in proc.stdout
