"""Simulated edge sites at scale: N sites on N addresses of 198.19.0.0/16, all served by one
namespace (o2lab-sim) with one sshd, one Prometheus and one O2IMS stand-in listening on every
address, and every ``blackhole_every``-th site's address dropped by iptables (probes time out).

It exists to measure the collection with many sites (one job against sliced jobs), not to
replace the four real edges: every simulated site answers with the same host key.
"""
import os

import yaml

from .common import CTL, HERE, LabError, PREFIX, log, ns_exec, path, run, write
from .edges import keygen, make_edge_files, start_prometheus, start_sshd
from .net import namespace_linked_to_controller
from .procs import recorded, start, stop, wait_port

SIM = "sim"
SIM_NS = PREFIX + SIM
SIM_IDX = 200
SIM_RANGE = "198.19.0.0/16"
SIM_MAX = 250 * 250
CTL_SIDE, SIM_SIDE = "198.18.200.1", "198.18.200.10"


def sim_ip(i):
    """Address of simulated site ``i`` (0-based): 198.19.<i // 250>.<i % 250 + 1>."""
    if not 0 <= i < SIM_MAX:
        raise LabError("sim: site index %d out of range (0..%d)" % (i, SIM_MAX - 1))
    return "198.19.%d.%d" % (i // 250, i % 250 + 1)


def site_name(i):
    return "sim%04d" % i


def blackholed(i, every):
    return bool(every) and i % every == every - 1


def _components():
    return [SIM + "-ssh", SIM + "-prometheus", SIM + "-o2ims"]


def is_up():
    return os.path.exists("/run/netns/" + SIM_NS)


def sim_down():
    for name in _components():
        if name in recorded():
            stop(name)
    if is_up():
        run(["ip", "netns", "delete", SIM_NS], check=False)


def sim_up(n, blackhole_every=10):
    """Bring ``n`` simulated sites up (replacing an earlier simulation) and write their
    edge-sites config ``<lab>/sim-sites.yml``; returns its path. The lab must be up."""
    if not os.path.exists("/run/netns/" + CTL):
        raise LabError("sim: the lab is not up (python -m tests.lab up)")
    if n < 1 or n > SIM_MAX:
        raise LabError("sim: number of sites must be 1..%d, got %d" % (SIM_MAX, n))
    sim_down()
    b = namespace_linked_to_controller(SIM_NS, SIM_IDX)  # controller side 198.18.200.1 (CTL_SIDE)
    ns_exec(CTL, ["ip", "route", "replace", SIM_RANGE, "via", SIM_SIDE])
    ns_exec(SIM_NS, ["ip", "link", "set", b, "name", "eth0"])
    ns_exec(SIM_NS, ["ip", "addr", "add", SIM_SIDE + "/24", "dev", "eth0"])
    ns_exec(SIM_NS, ["ip", "link", "set", "eth0", "up"])
    ns_exec(SIM_NS, ["ip", "route", "add", "198.18.0.0/15", "via", CTL_SIDE])
    # Every site's address on the namespace's loopback, in one batch (one `ip` per address is slow).
    batch = "".join("address add %s/32 dev lo\n" % sim_ip(i) for i in range(n))
    run(["ip", "-n", SIM_NS, "-batch", "-"], stdin=batch)
    drops = [sim_ip(i) for i in range(n) if blackholed(i, blackhole_every)]
    if drops:
        rules = "*filter\n" + "".join("-A INPUT -d %s/32 -j DROP\n" % ip for ip in drops) + "COMMIT\n"
        ns_exec(SIM_NS, ["iptables-restore", "--noflush"], stdin=rules)
    client_pub = keygen(path("ssh", "id_ed25519"), "o2edge-controller")
    host_pub = make_edge_files(SIM, SIM_IDX, client_pub, ips=["0.0.0.0"])
    # One sshd answers for every simulated site: let it take many unauthenticated connections at
    # once (each real site would have its own sshd and its own default limit of 10; a probe opens
    # at most two at a time per site). Measured with 1,000 sites probed at once (issue 19): no
    # listen-queue overflow (TcpExtListenOverflows 0 in this namespace) and no MaxStartups drop in
    # its log. The probe fetches the host key itself on one connection (about 2 ms of controller CPU;
    # ssh-keyscan's post-quantum exchange cost ~60 ms): what bounds 1,000 sites here is this sshd's
    # fork and exec per connection (~10 ms, on the same cores), not the prober and not sshd limits.
    conf = path("edges", SIM, "etc-ssh", "sshd_config")
    with open(conf) as f:
        text = f.read()
    if "MaxStartups" not in text:
        write(conf, text.rstrip("\n") + "\nMaxStartups 4000:30:8000\n")
    start_sshd(SIM, SIM_IDX)
    start_prometheus(SIM, SIM_NS, "0.0.0.0", [("prometheus", ["127.0.0.1:9090"], {"site": "sim"})])
    start(SIM + "-o2ims", ["/usr/bin/python3", os.path.join(HERE, "standin.py"), "o2ims",
                           "--listen", "0.0.0.0", "--port", "8080", "--site", SIM],
          ns=SIM_NS, marker="standin.py o2ims --listen 0.0.0.0")
    first = next((i for i in range(n) if not blackholed(i, blackhole_every)), None)
    if first is not None:
        for port in (22, 9090, 8080):
            wait_port(CTL, sim_ip(first), port)
    return write_sim_config(n, blackhole_every, host_pub)


def write_sim_config(n, blackhole_every, host_pub):
    key = " ".join(host_pub.split()[:2])
    known = path("ssh", "sim_known_hosts")
    write(known, "".join("%s,%s %s\n" % (site_name(i), sim_ip(i), key) for i in range(n)))
    sites = []
    for i in range(n):
        ip = sim_ip(i)
        sites.append({"name": site_name(i), "address": ip,
                      "labels": {"role": "edge", "tier": "blackholed" if blackholed(i, blackhole_every) else "healthy",
                                 "region": "sim"},
                      "services": {"prometheus": {"port": 9090},
                                   "o2ims": {"url": "http://%s:8080/o2ims-infrastructureInventory/v1" % ip}}})
    doc = {"plugin": "o2edge.perf.edge_sites", "version": 1,
           "defaults": {"ssh": {"port": 22, "user": "root", "key_file": path("ssh", "id_ed25519"),
                                "known_hosts": known},
                        "python_interpreter": "/usr/bin/python3"},
           "sites": sites}
    dest = path("sim-sites.yml")
    write(dest, "# o2edge.perf lab: %d simulated edge sites, every %s-th blackholed (python -m tests.lab sim up)\n"
          % (n, blackhole_every or "no") + yaml.safe_dump(doc, sort_keys=False))
    log("sim: %d sites up on %s (%d blackholed); edge-sites config %s"
        % (n, SIM_RANGE, sum(1 for i in range(n) if blackholed(i, blackhole_every)), dest))
    return dest
