"""Namespaces, links, addresses and the guard route of the lab's network."""
import os

from .common import (CTL, LAB_RANGE, MGMT_IP, PREFIX, IMPOSTORS, SITES, ctl_ip, impostor_ips, edge_ip, edge_ns, ns_exec,
                     run)
from . import common


def lab_namespaces():
    res = run(["ip", "netns", "list"], check=False)
    names = [line.split()[0] for line in (res.stdout or "").splitlines() if line.strip()]
    return [n for n in names if n.startswith(PREFIX)]


def guard_route_present():
    res = run(["ip", "route", "show", "type", "unreachable", LAB_RANGE], check=False)
    return bool((res.stdout or "").strip())


def lab_mounts():
    """Mount points under the lab's folders or named after a lab namespace (root mount ns)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if (any(mp == d or mp.startswith(d + "/") for d in (common.LAB_DIR, common.short_path()))
                    or os.path.basename(mp).startswith(PREFIX)):
                found.append(mp)
    return found


def namespace_linked_to_controller(ns, idx):
    """Add namespace ``ns`` (loopback up) and a veth pair to the controller, whose end there
    gets ``ctl_ip(idx)/24`` and is up; returns the name of the end moved into ``ns``."""
    run(["ip", "netns", "add", ns])
    ns_exec(ns, ["ip", "link", "set", "lo", "up"])
    a, b = "o2l%d-c" % idx, "o2l%d-e" % idx
    run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
    run(["ip", "link", "set", a, "netns", CTL])
    run(["ip", "link", "set", b, "netns", ns])
    ns_exec(CTL, ["ip", "addr", "add", ctl_ip(idx) + "/24", "dev", a])
    ns_exec(CTL, ["ip", "link", "set", a, "up"])
    return b


def make_network():
    # The guard first: nothing for the lab range may leave through the root namespace.
    run(["ip", "route", "replace", "unreachable", LAB_RANGE])
    run(["ip", "netns", "add", CTL])
    ns_exec(CTL, ["ip", "link", "set", "lo", "up"])
    # The management services' address (no dummy interfaces on these kernels: lo carries it).
    ns_exec(CTL, ["ip", "addr", "add", MGMT_IP + "/32", "dev", "lo"])
    for site, idx in [(s, v["idx"]) for s, v in SITES.items()] + [(i["name"], i["idx"]) for i in IMPOSTORS]:
        ns = edge_ns(site)
        b = namespace_linked_to_controller(ns, idx)
        ns_exec(ns, ["ip", "link", "set", b, "name", "eth0"])
        ns_exec(ns, ["ip", "addr", "add", edge_ip(idx) + "/24", "dev", "eth0"])
        for imp in IMPOSTORS:
            if imp["idx"] == idx:
                for extra in impostor_ips(imp)[1:]:
                    ns_exec(ns, ["ip", "addr", "add", extra + "/24", "dev", "eth0"])
        ns_exec(ns, ["ip", "link", "set", "eth0", "up"])
        # Only the lab range goes back to the controller; there is no default route anywhere.
        ns_exec(ns, ["ip", "route", "add", LAB_RANGE, "via", ctl_ip(idx)])
