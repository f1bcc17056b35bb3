"""The o2edge.perf local edge lab: build, inspect, break and tear down (see docs/lab.md).

Everything runs as root on one machine. All state lives under one folder (``.lab`` in the
repository, or ``$O2LAB_DIR``), and sockets and podman's run state under a short folder of
their own (``/run/o2edge-lab/<hash>``, whatever the length of the checkout's path).
Processes are started with their PIDs recorded and are ended by PID; namespaces, the
root-namespace guard route, any mount under the lab's folders and the short folder are
removed by ``down``. ``up`` re-uses a healthy lab and cleans the leftovers of a broken one.

The lab is a small package; this module is its front door (up, down, status, leftovers,
exec) and re-exports the pieces: ``common`` (facts, paths, commands), ``net`` (namespaces and
routes), ``procs`` (daemons by PID), ``edges`` (PKI, sshd, Prometheus, stand-ins), ``images``
(podman, registry, function images), ``repo`` (kpt packages), ``pipeline`` (the lab's own
deployment pipeline), ``configs`` (files for users)
and ``faults``.
"""
import json
import os
import shutil
import signal
import subprocess
import time

from . import common
from .common import (CTL, FULL_SERVICES, IMPOSTORS, LAB_RANGE, MGMT_IP, PORTS, PREFIX, SITES, LabError,
                     check_prereqs, ctl_prefix, edge_ip, edge_ns, impostor_ips, log, path, run, write)
from .configs import lab_env, write_configs
from .edges import (keygen, make_edge_files, make_pki, mgmt_jobs, start_edge_services, start_mgmt_node_exporter,
                    start_prometheus, start_sshd)
from .images import check_fn_container, make_containers_conf, push_fn_images, start_registry
from .net import guard_route_present, lab_mounts, lab_namespaces, make_network
from .procs import _alive, _cmdline, lab_processes, recorded, stop, wait_port, wait_scraped
from .pipeline import make_pipeline
from .repo import make_repo

LAB_DIR = common.LAB_DIR


def expected_components():
    names = ["ctl-registry", "mgmt-prometheus", "mgmt-node_exporter"] + [imp["name"] + "-ssh" for imp in IMPOSTORS]
    for site, v in SITES.items():
        names += [site + "-" + s for s in (FULL_SERVICES if v["full"] else ["ssh"])]
    return names


def healthy():
    rec = recorded()
    if not os.path.exists(path("run", "up.json")):
        return False
    for name in expected_components():
        info = rec.get(name)
        if not info or not _alive(info["pid"], info["marker"], info.get("ns")):
            return False
    # the simulated sites (tests/lab/sim.py) come and go on their own; they do not make the lab unhealthy
    want = sorted([CTL] + [edge_ns(i["name"]) for i in IMPOSTORS] + [edge_ns(s) for s in SITES])
    if sorted(n for n in lab_namespaces() if n != PREFIX + "sim") != want:
        return False
    return guard_route_present()


def down(quiet=False):
    """Stop everything the lab started and remove every trace but its files on disk."""
    for name in recorded():
        stop(name)
    for pid in lab_processes():  # e.g. ssh control masters Ansible left in the controller
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while lab_processes() and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in lab_processes():
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for mp in sorted(lab_mounts(), key=len, reverse=True):
        if not os.path.basename(mp).startswith(PREFIX):
            run(["umount", "-l", mp], check=False)
    for ns in lab_namespaces():
        run(["ip", "netns", "delete", ns], check=False)
    while guard_route_present():
        if run(["ip", "route", "del", "unreachable", LAB_RANGE], check=False).returncode != 0:
            break
    for d in ("run", "prom", "textfile", "registry/data", "containers/storage", "build"):
        shutil.rmtree(path(d), ignore_errors=True)
    # Sockets and podman's run state (this lab's and any earlier lab's: one lab per machine).
    shutil.rmtree(common.SHORT_ROOT, ignore_errors=True)
    left = leftovers()
    if any(left.values()):
        raise LabError("down left things behind: %s" % json.dumps(left))
    if not quiet:
        log("down: no process, namespace, route or mount of the lab is left")
    return left


def up():
    check_prereqs()
    if healthy():
        log("up: the lab is already up and healthy; nothing to do")
        return
    left = leftovers()
    if any(left.values()) or os.path.exists(path("run")):
        log("up: cleaning leftovers of an earlier lab: %s" % json.dumps(left))
        down(quiet=True)
    t0 = time.monotonic()
    os.makedirs(common.LAB_DIR, exist_ok=True)
    os.makedirs(path("ansible", "tmp"), exist_ok=True)
    make_network()
    client_key = path("ssh", "id_ed25519")
    client_pub = keygen(client_key, "o2edge-controller")
    make_pki()
    host_pubs = {}
    for site, v in SITES.items():
        host_pubs[site] = make_edge_files(site, v["idx"], client_pub)
        start_edge_services(site, v["idx"])
    impostor_pubs = {}
    for imp in IMPOSTORS:
        impostor_pubs[imp["name"]] = make_edge_files(imp["name"], imp["idx"], client_pub, ips=impostor_ips(imp))
        start_sshd(imp["name"], imp["idx"])
    make_containers_conf()
    start_registry()
    start_prometheus("mgmt", CTL, MGMT_IP, mgmt_jobs())  # rules: .lab/prom/mgmt/rules/*.rules.yml
    start_mgmt_node_exporter()  # the textfile metrics of o2edge.perf runs (perf_monitoring)
    make_repo()
    make_pipeline()  # after make_repo: its render stage runs the exec functions make_repo copies
    write_configs(client_key, host_pubs, impostor_pubs)
    # Wait for every listener before declaring the lab up.
    for site, v in SITES.items():
        for svc in (FULL_SERVICES if v["full"] else ["ssh"]):
            wait_port(CTL, edge_ip(v["idx"]), PORTS[svc])
    for imp in IMPOSTORS:
        for ip in impostor_ips(imp):
            wait_port(CTL, ip, 22)
    wait_port(CTL, MGMT_IP, 5000)
    wait_port(CTL, MGMT_IP, 9090)
    wait_port(CTL, MGMT_IP, 9100)
    push_fn_images()
    # after the images (seconds of work): each Prometheus has had its first scrape by then, or soon after
    for site, v in SITES.items():
        if v["full"]:
            wait_scraped(CTL, edge_ip(v["idx"]))
    wait_scraped(CTL, MGMT_IP)
    fn_seconds = check_fn_container()
    write(path("run", "up.json"), json.dumps({"up_at": time.time(), "seconds": time.monotonic() - t0,
                                              "fn_container_seconds": fn_seconds}))
    log("up: lab ready in %.1fs (state in %s; a function container starts and exits in %.2fs)"
        % (time.monotonic() - t0, common.LAB_DIR, fn_seconds))


def status():
    rec = recorded()
    comps = {}
    for name in sorted(set(expected_components()) | set(rec)):
        info = rec.get(name)
        comps[name] = {"pid": info["pid"] if info else None,
                       "running": bool(info and _alive(info["pid"], info["marker"], info.get("ns")))}
    return {"lab_dir": common.LAB_DIR, "up": healthy(), "components": comps,
            "namespaces": lab_namespaces(), "guard_route": guard_route_present()}


def leftovers():
    return {
        "processes": [{"pid": p, "cmd": (_cmdline(p) or "")[:160]} for p in lab_processes()],
        "namespaces": lab_namespaces(),
        "route": [LAB_RANGE] if guard_route_present() else [],
        "mounts": lab_mounts(),
        "files": [common.SHORT_ROOT] if os.path.exists(common.SHORT_ROOT) else [],
    }


def exec_in_controller(argv):
    if not argv:
        raise LabError("exec: give a command after --")
    if CTL not in lab_namespaces():
        raise LabError("exec: the lab is not up (no %s namespace); run `python -m tests.lab up`" % CTL)
    env = dict(os.environ)
    env.update(lab_env())
    return subprocess.call(ctl_prefix() + list(argv), env=env)
