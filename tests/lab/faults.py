"""Fault switches: a service down (connection refused), blackholed (packets dropped), restored."""
from .common import CTL, FULL_SERVICES, MGMT_IP, PORTS, SITES, LabError, edge_ip, edge_ns, log, ns_exec
from .edges import start_edge_services, start_prometheus, mgmt_jobs
from .images import start_registry
from .procs import _alive, recorded, stop, wait_port

MGMT_SERVICES = {"registry": "ctl-registry", "prometheus": "mgmt-prometheus"}


def _services(site):
    """The services a site runs (mgmt: the controller side's registry and Prometheus)."""
    if site == "mgmt":
        return list(MGMT_SERVICES)
    return FULL_SERVICES if SITES[site]["full"] else ["ssh"]


def _component(site, service):
    return MGMT_SERVICES[service] if site == "mgmt" else site + "-" + service


def _drop_rule(service):
    """The iptables rule that blackholes one service, or the whole site for V(site)."""
    if service == "site":
        return ["INPUT", "-i", "eth0", "-j", "DROP", "-m", "comment", "--comment", "o2lab-blackhole-site"]
    return ["INPUT", "-p", "tcp", "--dport", str(PORTS[service]), "-j", "DROP",
            "-m", "comment", "--comment", "o2lab-blackhole-" + service]


def fault(site, service, action):
    if site not in SITES and site != "mgmt":
        raise LabError("fault: unknown site %r (one of %s, mgmt)" % (site, ", ".join(SITES)))
    valid = _services(site)
    if service not in valid + ["site"]:
        raise LabError("fault: %s has no service %r (one of %s, site)" % (site, service, ", ".join(valid)))
    if action not in ("down", "blackhole", "restore"):
        raise LabError("fault: action %r is not one of down, blackhole, restore" % action)
    ns = CTL if site == "mgmt" else edge_ns(site)
    names = [_component(site, svc) for svc in (valid if service == "site" else [service])]
    if action == "down":
        for n in names:
            stop(n)
    elif action == "blackhole":
        rule = _drop_rule(service)
        if ns_exec(ns, ["iptables", "-C"] + rule, check=False).returncode != 0:
            ns_exec(ns, ["iptables", "-I"] + rule)
    else:
        if service == "site":
            ns_exec(ns, ["iptables", "-F", "INPUT"], check=False)
        else:
            while ns_exec(ns, ["iptables", "-D"] + _drop_rule(service), check=False).returncode == 0:
                pass
        rec = recorded()
        for n in names:
            info = rec.get(n)
            if info and _alive(info["pid"], info["marker"], info.get("ns")):
                continue
            if n == "ctl-registry":
                start_registry()
                continue
            if n == "mgmt-prometheus":
                start_prometheus("mgmt", CTL, MGMT_IP, mgmt_jobs())
                continue
            svc = n.split("-", 1)[1]
            start_edge_services(site, SITES[site]["idx"], only=[svc])
            wait_port(CTL, edge_ip(SITES[site]["idx"]), PORTS[svc])
    log("fault: %s %s %s done" % (site, service, action))
