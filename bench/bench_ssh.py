# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The same 10-task play over the 4 lab sites with four connection set-ups, side by side.

Run inside the lab's controller namespace (the lab must be up; the collection installed):

    python -m tests.lab exec -- .venv/bin/python bench/bench_ssh.py [--rounds 3] [--json out.json]

Variants, each a whole ``ansible-playbook`` process, in an order rotated every round, each run
starting with no SSH master connection (a fresh ControlPath folder per run, its masters ended
afterwards with ``ssh -O exit``):

- ``no multiplexing``: ``ssh_args = -o ControlMaster=no -o ControlPath=none``, no pipelining;
- ``ansible defaults``: Ansible's own ssh_args (ControlMaster=auto, ControlPersist=60s), no pipelining;
- ``ssh_tuning``: the ansible.cfg written by the o2edge.perf.ssh_tuning role (controller side);
- ``mitogen``: the role's ansible.cfg with ``ssh_tuning_mitogen: true`` (Mitogen's ``mitogen_linear``).

Host keys are verified in every variant (the inventory's HostKeyAlias and
StrictHostKeyChecking=yes). Every run's per-host results (changed/failed per task and the
values the play reads back) are compared with the first variant's: a variant whose results
differ is reported, never counted as faster. A last check runs each variant against the stale
edge-sites config: edge2 (an impostor answers at its listed address) must be unreachable.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.abspath(os.environ.get("O2LAB_DIR", os.path.join(REPO, ".lab")))
PLAYBOOK = os.path.join(REPO, ".venv", "bin", "ansible-playbook")
SHORT = "/run/o2edge-lab"

PLAY = """---
- name: Ten tasks on every edge site
  hosts: edge_sites
  gather_facts: false
  tasks:
    - name: Host name
      ansible.builtin.command: hostname
      register: bench_hostname
      changed_when: false
    - name: Stat the sshd config
      ansible.builtin.stat:
        path: /etc/ssh/sshd_config
      register: bench_stat
    - name: A scratch folder
      ansible.builtin.file:
        path: /tmp/o2edge-bench-ssh
        state: directory
        mode: "0700"
    - name: A file
      ansible.builtin.copy:
        content: "bench\\n"
        dest: /tmp/o2edge-bench-ssh/a.txt
        mode: "0600"
    - name: A line in it
      ansible.builtin.lineinfile:
        path: /tmp/o2edge-bench-ssh/a.txt
        line: line two
    - name: Read it back
      ansible.builtin.slurp:
        src: /tmp/o2edge-bench-ssh/a.txt
      register: bench_slurp
    - name: Kernel release
      ansible.builtin.command: uname -r
      register: bench_uname
      changed_when: false
    - name: Python version on the edge
      ansible.builtin.command: /usr/bin/python3 -c "import sys; print(sys.version_info[0])"
      register: bench_python
      changed_when: false
    - name: Remove the scratch folder
      ansible.builtin.file:
        path: /tmp/o2edge-bench-ssh
        state: absent
    - name: What every host returned
      ansible.builtin.copy:
        content: "{{ bench_summary | to_nice_json }}"
        dest: "{{ bench_out }}"
        mode: "0600"
      delegate_to: localhost
      run_once: true
      vars:
        bench_hosts: "{{ ansible_play_hosts }}"
        bench_summary:
          hostname: "{{ dict(bench_hosts | zip(bench_hosts | map('extract', hostvars, ['bench_hostname', 'stdout']))) }}"
          sshd_config: "{{ dict(bench_hosts | zip(bench_hosts | map('extract', hostvars, ['bench_stat', 'stat', 'exists']))) }}"
          slurp: "{{ dict(bench_hosts | zip(bench_hosts | map('extract', hostvars, ['bench_slurp', 'content']))) }}"
          uname: "{{ dict(bench_hosts | zip(bench_hosts | map('extract', hostvars, ['bench_uname', 'stdout']))) }}"
          python: "{{ dict(bench_hosts | zip(bench_hosts | map('extract', hostvars, ['bench_python', 'stdout']))) }}"
"""


def summarize(path):
    """The comparable part of what every host returned, per host."""
    with open(path) as f:
        raw = json.load(f)
    hosts = sorted(set().union(*[set(v) for v in raw.values()]))
    return {h: {key: raw[key].get(h) for key in sorted(raw)} for h in hosts}


def role_cfg(work, inventory, mitogen=False):
    """Write the ssh_tuning role's ansible.cfg (controller side) into work/; return its path."""
    cfg = os.path.join(work, "ssh_tuning%s.cfg" % ("-mitogen" if mitogen else ""))
    play = os.path.join(work, "write_cfg%s.yml" % ("-mitogen" if mitogen else ""))
    with open(play, "w") as f:
        f.write("""---
- name: The role's controller-side settings
  hosts: localhost
  connection: local
  gather_facts: false
  roles:
    - role: o2edge.perf.ssh_tuning
      vars:
        ssh_tuning_side: controller
        ssh_tuning_client_config: %s
        ssh_tuning_control_dir: %s
        ssh_tuning_ansible_cfg: %s
        ssh_tuning_mitogen: %s
""" % (os.path.join(work, "ssh_config"), os.path.join(SHORT, "bench-cm"), cfg, "true" if mitogen else "false"))
    res = subprocess.run([PLAYBOOK, "-i", inventory, play], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, check=False)
    if res.returncode != 0:
        sys.exit("could not write the role's ansible.cfg:\n" + res.stdout[-2000:])
    return cfg


def mitogen_strategy_dir():
    try:
        import ansible_mitogen
    except ImportError:
        return None
    return os.path.join(os.path.dirname(ansible_mitogen.__file__), "plugins", "strategy")


def variant_env(name, cfgs, cp_dir):
    env = dict(os.environ)
    for key in ("ANSIBLE_CONFIG", "ANSIBLE_SSH_ARGS", "ANSIBLE_PIPELINING", "ANSIBLE_STRATEGY",
                "ANSIBLE_STRATEGY_PLUGINS"):
        env.pop(key, None)
    env["ANSIBLE_SSH_CONTROL_PATH_DIR"] = cp_dir
    env["ANSIBLE_NOCOLOR"] = "1"
    if name == "no multiplexing":
        env["ANSIBLE_SSH_ARGS"] = "-o ControlMaster=no -o ControlPath=none"
        env["ANSIBLE_PIPELINING"] = "False"
    elif name == "ansible defaults":
        env["ANSIBLE_PIPELINING"] = "False"
    else:
        env["ANSIBLE_CONFIG"] = cfgs[name]
    return env


def end_masters(cp_dir):
    """Close the SSH master connections a run left in its own ControlPath folder."""
    if not os.path.isdir(cp_dir):
        return
    for name in os.listdir(cp_dir):
        sock = os.path.join(cp_dir, name)
        subprocess.run(["ssh", "-o", "ControlPath=" + sock, "-O", "exit", "o2edge-bench"], check=False,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(cp_dir, ignore_errors=True)


def run_variant(name, inventory, play, cfgs, tag):
    cp_dir = os.path.join(SHORT, "bench-cp-%s" % tag)
    os.makedirs(cp_dir, mode=0o700, exist_ok=True)
    out = os.path.join(os.path.dirname(play), "out-%s.json" % tag)
    start = time.monotonic()
    res = subprocess.run([PLAYBOOK, "-i", inventory, play, "-e", "bench_out=" + out], env=variant_env(name, cfgs, cp_dir),
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    took = time.monotonic() - start
    end_masters(cp_dir)
    return took, res, out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args()
    fixed = os.path.join(LAB, "edge-sites-fixed.yml")
    stale = os.path.join(LAB, "edge-sites.yml")
    if not os.path.exists(fixed):
        sys.exit("no lab config at %s (is the lab up?)" % fixed)
    variants = ["no multiplexing", "ansible defaults", "ssh_tuning"]
    if mitogen_strategy_dir():
        variants.append("mitogen")
    work = tempfile.mkdtemp(prefix="bench-ssh-")
    times = {v: [] for v in variants}
    results, rcs = {}, {v: [] for v in variants}
    try:
        play = os.path.join(work, "ten_tasks.yml")
        with open(play, "w") as f:
            f.write(PLAY)
        cfgs = {"ssh_tuning": role_cfg(work, fixed)}
        if "mitogen" in variants:
            cfgs["mitogen"] = role_cfg(work, fixed, mitogen=True)
        for r in range(a.rounds):
            order = variants[r % len(variants):] + variants[:r % len(variants)]
            for name in order:
                tag = "%s-%d" % (name.replace(" ", "-"), r)
                took, res, out = run_variant(name, fixed, play, cfgs, tag)
                rcs[name].append(res.returncode)
                if res.returncode != 0:
                    print("%s round %d failed (rc %d):\n%s" % (name, r, res.returncode, res.stdout[-1500:]))
                    continue
                times[name].append(took)
                results.setdefault(name, summarize(out))
        stale_check = {}
        for name in variants:
            took, res, out = run_variant(name, stale, play, cfgs, name.replace(" ", "-") + "-stale")
            stale_check[name] = {"rc": res.returncode,
                                 "edge2_unreachable": "edge2" in res.stdout and "unreachable=1" in
                                 [line for line in res.stdout.splitlines() if line.startswith("edge2 ")][-1]}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    base = results.get(variants[0])
    same = {name: results.get(name) == base for name in variants}
    med = {name: statistics.median(t) if t else None for name, t in times.items()}
    print("Machine: %s, %d CPUs, Python %s; 4 lab sites (edge-sites-fixed.yml), 10 tasks; %d rounds, order rotated."
          % (platform.node(), os.cpu_count(), platform.python_version(), a.rounds))
    print("")
    print("| variant | median (s) | ratio to Ansible's defaults | runs (s) | results as the first variant | "
          "stale address refused (edge2 unreachable) |")
    print("|---|---|---|---|---|---|")
    for name in variants:
        ratio = med[name] / med["ansible defaults"] if med[name] and med["ansible defaults"] else float("nan")
        print("| %s | %s | %.2f | %s | %s | %s |" % (
            name, "%.2f" % med[name] if med[name] else "failed", ratio, ", ".join("%.2f" % x for x in times[name]),
            "yes" if same[name] else "NO", "yes" if stale_check[name]["edge2_unreachable"] else "NO"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"times": times, "rcs": rcs, "same_results": same, "stale": stale_check, "results": results}, f,
                      indent=2)
    return 0 if all(same.values()) and all(s["edge2_unreachable"] for s in stale_check.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
