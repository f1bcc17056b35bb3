"""The files the lab writes for its users: known_hosts, edge-sites configs, the inventory,
the management variables and the environment."""
import os

import yaml

from .common import MGMT_IP, REGISTRY, REPO, SITES, STALE, edge_ip, path, short_path, write
from .images import containers_env
from . import common


def lab_env():
    env = containers_env()
    env.update({
        "O2LAB_DIR": common.LAB_DIR,
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": short_path("ssh-cp"),
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".build", "collections"),
        "ANSIBLE_LOCAL_TEMP": path("ansible", "tmp"),
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def write_configs(client_key, host_pubs, impostor_pubs):
    """Write the users' files; ``impostor_pubs`` maps each impostor (stale, stale2, decoy) to its
    public host key, published as ``<name>-host-key.pub`` for tests to recognise it."""
    ssh_dir = path("ssh")
    lines = []
    for site, v in SITES.items():
        lines.append("%s,%s %s" % (site, edge_ip(v["idx"]), " ".join(host_pubs[site].split()[:2])))
    write(os.path.join(ssh_dir, "known_hosts"), "\n".join(lines) + "\n")
    # Ansible's ControlPath sockets: a private folder with a short path (sockets take 107 bytes).
    os.makedirs(short_path("ssh-cp"), exist_ok=True)
    os.chmod(short_path("ssh-cp"), 0o700)
    pki = path("pki")

    def sites(stale):
        out = []
        for site, v in SITES.items():
            addr = edge_ip(STALE["idx"]) if (stale and site == STALE["impostor_of"]) else edge_ip(v["idx"])
            s = {"name": site, "address": addr,
                 "labels": {"role": "edge", "tier": "healthy" if v["full"] else "ssh_only", "region": "lab"},
                 "metadata": {"lab_index": v["idx"]}}
            if v["full"]:
                ip = addr
                s["services"] = {
                    "kubernetes": {"port": 6443, "ca_file": os.path.join(pki, "ca.crt"),
                                   "token_file": os.path.join(pki, "token")},
                    "prometheus": {"port": 9090},
                    "o2ims": {"url": "http://%s:8080/o2ims-infrastructureInventory/v1" % ip},
                }
            out.append(s)
        return out

    for fname, stale in (("edge-sites.yml", True), ("edge-sites-fixed.yml", False)):
        doc = {"plugin": "o2edge.perf.edge_sites", "version": 1,
               "defaults": {"ssh": {"port": 22, "user": "root", "key_file": client_key,
                                    "known_hosts": os.path.join(ssh_dir, "known_hosts")},
                            "python_interpreter": "/usr/bin/python3"},
               "sites": sites(stale)}
        head = ("# o2edge.perf lab edge-sites config (written by `python -m tests.lab up`).\n"
                + ("# edge2 is listed at its STALE address: another SSH server answers there.\n" if stale else ""))
        write(path(fname), head + yaml.safe_dump(doc, sort_keys=False))

    ssh_args = ("-o StrictHostKeyChecking=yes -o UserKnownHostsFile=%s -o IdentitiesOnly=yes"
                % os.path.join(ssh_dir, "known_hosts"))
    hosts = {}
    for site, v in SITES.items():
        hosts[site] = {"ansible_host": edge_ip(v["idx"]), "ansible_user": "root",
                       "ansible_ssh_private_key_file": client_key,
                       "ansible_ssh_common_args": ssh_args + " -o HostKeyAlias=" + site}
    inv = {"all": {"vars": {"ansible_python_interpreter": "/usr/bin/python3"},
                   "children": {"edges": {"hosts": hosts},
                                "healthy": {"hosts": {s: {} for s, v in SITES.items() if v["full"]}},
                                "ssh_only": {"hosts": {s: {} for s, v in SITES.items() if not v["full"]}}}}}
    write(path("inventory.yml"), "# o2edge.perf lab inventory (real addresses)\n" + yaml.safe_dump(inv, sort_keys=False))
    # What the management host offers, for the measuring playbook (o2edge.perf.measure).
    write(path("management.yml"), "# o2edge.perf lab management host (written by `python -m tests.lab up`)\n"
          + yaml.safe_dump({"o2edge_pipeline_repo": path("repo"),
                            "o2edge_kpt_root": path("repo", "packages"),
                            "o2edge_prometheus_url": "http://%s:9090" % MGMT_IP,
                            # kpt's function runtime here, and its registry (plain HTTP, on the lab network)
                            "o2edge_kpt_runtime": "podman",
                            "o2edge_insecure_registries": [REGISTRY],
                            # the lab's own pipeline, timed end to end by o2edge.perf.measure
                            "o2edge_pipeline": path("pipeline.yml")}, sort_keys=False))
    write(path("env"), "".join("export %s=%s\n" % (k, v) for k, v in sorted(lab_env().items())))
    for name, pub in sorted(impostor_pubs.items()):
        write(path("%s-host-key.pub" % name), pub + "\n")
