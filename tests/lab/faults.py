"""Fault switches: a service down (connection refused), blackholed (packets dropped), restored;
and a CPU hog (busy processes in a site's namespace, ending by themselves)."""
import os
import sys

from .common import CTL, FULL_SERVICES, MGMT_IP, PORTS, SITES, LabError, edge_ip, edge_ns, log, ns_exec
from .edges import start_edge_services, start_prometheus, mgmt_jobs
from .images import start_registry
from .procs import _alive, recorded, start, stop, wait_port

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


CPU_HOG = "cpu-hog"
HOG_MARKER = "o2lab-cpu-hog"
HOG_MAX_SECONDS = 3600
HOG_MAX_WORKERS = 64
# A busy loop that ends by itself: argv[1] is the marker (seen in /proc/PID/cmdline), argv[2] the seconds.
HOG_CODE = "import sys,time\nend=time.monotonic()+float(sys.argv[2])\nwhile time.monotonic()<end: pass\n"


def hog_argv(seconds):
    return [sys.executable if os.path.exists(sys.executable) else "/usr/bin/python3", "-c", HOG_CODE,
            HOG_MARKER, "%g" % seconds]


def hog_names(site):
    prefix = "%s-%s-" % (site, CPU_HOG)
    return [n for n in recorded() if n.startswith(prefix)]


def cpu_hog(site, action, seconds=None, workers=None, ns=None):
    """Start ``workers`` busy processes in ``site``'s namespace for ``seconds`` (recorded by PID
    like every lab process, so ``restore`` and ``down`` end them), or end them (restore).
    ``ns`` overrides the namespace (None: the site's; tests pass "" for no namespace)."""
    if action not in ("start", "restore"):
        raise LabError("fault: %s takes start or restore, not %r" % (CPU_HOG, action))
    for name in hog_names(site):
        stop(name)
    if action == "restore":
        log("fault: %s %s restore done" % (site, CPU_HOG))
        return []
    seconds = 60 if seconds is None else seconds
    workers = (os.cpu_count() or 1) if workers is None else workers
    if not 0 < seconds <= HOG_MAX_SECONDS:
        raise LabError("fault: --seconds must be more than 0 and at most %d, got %s" % (HOG_MAX_SECONDS, seconds))
    if not 1 <= workers <= HOG_MAX_WORKERS:
        raise LabError("fault: --workers must be 1 to %d, got %s" % (HOG_MAX_WORKERS, workers))
    if ns is None:
        ns = CTL if site == "mgmt" else edge_ns(site)
    pids = [start("%s-%s-%d" % (site, CPU_HOG, i), hog_argv(seconds), ns=ns or None, marker=HOG_MARKER)
            for i in range(workers)]
    log("fault: %s %s start: %d busy processes for %gs (pids %s)" % (site, CPU_HOG, workers, seconds,
                                                                     " ".join(str(p) for p in pids)))
    return pids


def fault(site, service, action, seconds=None, workers=None):
    if site not in SITES and site != "mgmt":
        raise LabError("fault: unknown site %r (one of %s, mgmt)" % (site, ", ".join(SITES)))
    if service == CPU_HOG:
        return cpu_hog(site, action, seconds, workers)
    if action == "start":
        raise LabError("fault: start is for %s; a service takes down, blackhole or restore" % CPU_HOG)
    valid = _services(site)
    if service not in valid + ["site"]:
        raise LabError("fault: %s has no service %r (one of %s, site, %s)" % (site, service, ", ".join(valid), CPU_HOG))
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
