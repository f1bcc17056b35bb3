"""The lab's daemons: started with their PID recorded, ended by PID, never by name."""
import json
import os
import signal
import subprocess
import time

from .common import LabError, ns_exec, path, run, write
from .net import lab_namespaces
from . import common


def _cmdline(pid):
    try:
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None


def _alive(pid, marker, ns=None):
    """Is PID still the process we started: same command marker and, if given, same netns."""
    cmd = _cmdline(pid)
    if cmd is None:
        return False
    if ns:
        try:
            if os.stat("/proc/%d/ns/net" % pid).st_ino != os.stat("/run/netns/" + ns).st_ino:
                return False
        except OSError:
            return False
    try:
        with open("/proc/%d/stat" % pid) as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
    except OSError:
        return False
    return marker in cmd


def lab_processes():
    """Processes living in a lab namespace: the daemons the lab started and what ran there on
    its behalf (SSH sessions, Ansible's control masters, container monitors). Nothing outside
    the lab's namespaces is ever touched."""
    pids = set()
    me = os.getpid()
    for ns in lab_namespaces():
        res = run(["ip", "netns", "pids", ns], check=False)
        pids.update(int(p) for p in (res.stdout or "").split() if p.isdigit() and int(p) != me)
    return sorted(pids)


def _pidfile(name):
    return path("run", "pids", name + ".json")


def start(name, argv, ns=None, marker=None):
    """Start a daemon in its own session, record its PID (the exec chain keeps one PID)."""
    os.makedirs(path("run", "pids"), exist_ok=True)
    os.makedirs(path("logs"), exist_ok=True)
    full = (["ip", "netns", "exec", ns] if ns else []) + list(argv)
    logf = open(path("logs", name + ".log"), "ab")
    proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                            start_new_session=True, cwd=common.LAB_DIR)
    logf.close()
    marker = marker or argv[0]
    write(_pidfile(name), json.dumps({"pid": proc.pid, "marker": marker, "ns": ns, "argv": full}))
    time.sleep(0.05)
    if proc.poll() is not None:
        raise LabError("%s exited at once (%s); see %s" % (name, proc.returncode, path("logs", name + ".log")))
    return proc.pid


def recorded():
    out = {}
    d = path("run", "pids")
    if os.path.isdir(d):
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".json"):
                with open(os.path.join(d, fn)) as f:
                    out[fn[:-5]] = json.load(f)
    return out


def stop(name):
    info = recorded().get(name)
    if not info:
        return False
    pid, marker, ns = info["pid"], info["marker"], info.get("ns")
    stopped = False
    if _alive(pid, marker, ns):
        os.kill(pid, signal.SIGTERM)
        for _attempt in range(50):
            if not _alive(pid, marker, ns):
                break
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
        stopped = True
    os.unlink(_pidfile(name))
    return stopped


def wait_port(ns, ip, port, timeout=20.0):
    code = ("import socket,sys,time\n"
            "end=time.monotonic()+%f\n"
            "while time.monotonic()<end:\n"
            "    s=socket.socket(); s.settimeout(0.5)\n"
            "    try:\n"
            "        s.connect((%r,%d)); sys.exit(0)\n"
            "    except OSError: time.sleep(0.1)\n"
            "    finally: s.close()\n"
            "sys.exit(1)\n") % (timeout, ip, port)
    if ns_exec(ns, ["/usr/bin/python3", "-c", code], check=False).returncode != 0:
        raise LabError("nothing answers on %s:%d in %s after %.0fs" % (ip, port, ns, timeout))


def wait_scraped(ns, ip, timeout=30.0):
    """Wait until the Prometheus on ``ip``:9090 has scraped a target up once (its first scrape comes up to one
    scrape interval after its start): a probe of it right after ``lab up`` then finds ``targets_up`` >= 1, as it
    does later in the suite, instead of 0 while the first scrape is still to come."""
    code = ("import json,sys,time,urllib.request\n"
            "end=time.monotonic()+%f\n"
            "while time.monotonic()<end:\n"
            "    try:\n"
            "        with urllib.request.urlopen('http://%s:9090/api/v1/targets?state=active', timeout=2) as r:\n"
            "            t=json.load(r)['data']['activeTargets']\n"
            "        if any(x.get('health')=='up' for x in t): sys.exit(0)\n"
            "    except (OSError, ValueError, KeyError, TypeError): pass\n"
            "    time.sleep(0.2)\n"
            "sys.exit(1)\n") % (timeout, ip)
    if ns_exec(ns, ["/usr/bin/python3", "-c", code], check=False).returncode != 0:
        raise LabError("the Prometheus on %s:9090 in %s scraped no target up within %.0fs" % (ip, ns, timeout))
