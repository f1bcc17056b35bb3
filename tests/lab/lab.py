"""The o2edge.perf local edge lab: build, inspect, break and tear down (see docs/lab.md).

Everything runs as root on one machine. All state lives under one folder (``.lab`` in the
repository, or ``$O2LAB_DIR``). Processes are started with their PIDs recorded and are ended
by PID; namespaces, the root-namespace guard route and any mount under the state folder are
removed by ``down``. ``up`` re-uses a healthy lab and cleans the leftovers of a broken one.
"""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB_DIR = os.path.abspath(os.environ.get("O2LAB_DIR", os.path.join(REPO, ".lab")))
HERE = os.path.dirname(os.path.abspath(__file__))

PREFIX = "o2lab-"
CTL = PREFIX + "ctl"
LAB_RANGE = "198.18.0.0/15"
MGMT_IP = "198.18.0.1"
REGISTRY = MGMT_IP + ":5000"

# site -> (index, healthy?) ; stale: the impostor at edge2's old address.
SITES = {
    "edge1": {"idx": 1, "full": True},
    "edge2": {"idx": 2, "full": True},
    "edge3": {"idx": 3, "full": False},
    "edge4": {"idx": 4, "full": False},
}
STALE = {"name": "stale", "idx": 102, "impostor_of": "edge2"}
PORTS = {"ssh": 22, "prometheus": 9090, "node_exporter": 9100, "kubernetes": 6443, "o2ims": 8080,
         "registry": 5000}
FULL_SERVICES = ["ssh", "prometheus", "node_exporter", "kubernetes", "o2ims"]

FN_IMAGES = {"passthrough": "passthrough.sh", "require-labels": "require-labels.sh"}
FN_TAG = "v1"

NEEDED = {
    "ip": "iproute2", "sshd": "openssh-server", "ssh-keygen": "openssh-client",
    "prometheus": "prometheus", "prometheus-node-exporter": "prometheus-node-exporter",
    "docker-registry": "docker-registry", "podman": "podman", "runc": "runc",
    "busybox": "busybox-static", "openssl": "openssl", "git": "git", "iptables": "iptables",
    "unshare": "util-linux", "kpt": "kpt (preinstalled on these machines)",
}


class LabError(Exception):
    pass


def log(msg):
    sys.stderr.write("lab: %s\n" % msg)
    sys.stderr.flush()


def path(*parts):
    return os.path.join(LAB_DIR, *parts)


def run(argv, check=True, capture=True, stdin=None, env=None, cwd=None):
    res = subprocess.run(argv, input=stdin, env=env, cwd=cwd, text=True, check=False,
                         stdout=subprocess.PIPE if capture else None,
                         stderr=subprocess.PIPE if capture else None)
    if check and res.returncode != 0:
        err = (res.stderr or "").strip()[-800:]
        raise LabError("%s failed (%d): %s" % (" ".join(argv), res.returncode, err))
    return res


def ctl_prefix():
    """Enter only the controller's network namespace. (`ip netns exec` also remounts /sys,
    which hides the cgroup mounts that runc needs to start kpt's function containers.)"""
    return ["nsenter", "--net=/run/netns/" + CTL]


def ns_exec(ns, argv, **kw):
    return run(["ip", "netns", "exec", ns] + list(argv), **kw)


def edge_ns(site):
    return PREFIX + site


def edge_ip(idx):
    return "198.18.%d.10" % idx


def ctl_ip(idx):
    return "198.18.%d.1" % idx


def write(p, text, mode=0o644):
    """Write atomically (temp file + rename)."""
    os.makedirs(os.path.dirname(p), exist_ok=True)
    tmp = p + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, mode)
    os.replace(tmp, p)


# --------------------------------------------------------------------------- discovery

def lab_namespaces():
    res = run(["ip", "netns", "list"], check=False)
    names = [line.split()[0] for line in (res.stdout or "").splitlines() if line.strip()]
    return [n for n in names if n.startswith(PREFIX)]


def guard_route_present():
    res = run(["ip", "route", "show", "type", "unreachable", LAB_RANGE], check=False)
    return bool((res.stdout or "").strip())


def lab_mounts():
    """Mount points under the lab folder or named after a lab namespace (root mount ns)."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mp = line.split()[4].replace("\\040", " ")
            if mp.startswith(LAB_DIR + "/") or mp == LAB_DIR or os.path.basename(mp).startswith(PREFIX):
                found.append(mp)
    return found


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


def leftovers():
    return {
        "processes": [{"pid": p, "cmd": (_cmdline(p) or "")[:160]} for p in lab_processes()],
        "namespaces": lab_namespaces(),
        "route": [LAB_RANGE] if guard_route_present() else [],
        "mounts": lab_mounts(),
    }


# --------------------------------------------------------------------------- processes

def _pidfile(name):
    return path("run", "pids", name + ".json")


def start(name, argv, ns=None, marker=None):
    """Start a daemon in its own session, record its PID (the exec chain keeps one PID)."""
    os.makedirs(path("run", "pids"), exist_ok=True)
    os.makedirs(path("logs"), exist_ok=True)
    full = (["ip", "netns", "exec", ns] if ns else []) + list(argv)
    logf = open(path("logs", name + ".log"), "ab")
    proc = subprocess.Popen(full, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                            start_new_session=True, cwd=LAB_DIR)
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


# --------------------------------------------------------------------------- build pieces

def check_prereqs():
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network and mount namespaces)")
    missing = ["%s (Debian package %s)" % (b, pkg) for b, pkg in NEEDED.items() if not shutil.which(b)]
    if missing:
        raise LabError("missing: %s; run `make deps`" % ", ".join(missing))


def make_network():
    # The guard first: nothing for the lab range may leave through the root namespace.
    run(["ip", "route", "replace", "unreachable", LAB_RANGE])
    run(["ip", "netns", "add", CTL])
    ns_exec(CTL, ["ip", "link", "set", "lo", "up"])
    # The management services' address (no dummy interfaces on these kernels: lo carries it).
    ns_exec(CTL, ["ip", "addr", "add", MGMT_IP + "/32", "dev", "lo"])
    for site, idx in [(s, v["idx"]) for s, v in SITES.items()] + [(STALE["name"], STALE["idx"])]:
        ns = edge_ns(site)
        run(["ip", "netns", "add", ns])
        ns_exec(ns, ["ip", "link", "set", "lo", "up"])
        a, b = "o2l%d-c" % idx, "o2l%d-e" % idx
        run(["ip", "link", "add", a, "type", "veth", "peer", "name", b])
        run(["ip", "link", "set", a, "netns", CTL])
        run(["ip", "link", "set", b, "netns", ns])
        ns_exec(CTL, ["ip", "addr", "add", ctl_ip(idx) + "/24", "dev", a])
        ns_exec(CTL, ["ip", "link", "set", a, "up"])
        ns_exec(ns, ["ip", "link", "set", b, "name", "eth0"])
        ns_exec(ns, ["ip", "addr", "add", edge_ip(idx) + "/24", "dev", "eth0"])
        ns_exec(ns, ["ip", "link", "set", "eth0", "up"])
        # Only the lab range goes back to the controller; there is no default route anywhere.
        ns_exec(ns, ["ip", "route", "add", LAB_RANGE, "via", ctl_ip(idx)])


def keygen(p, comment):
    if not os.path.exists(p):
        os.makedirs(os.path.dirname(p), exist_ok=True)
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", p])
    with open(p + ".pub") as f:
        return f.read().strip()


def make_pki():
    d = path("pki")
    os.makedirs(d, exist_ok=True)
    os.chmod(d, 0o700)

    def ca(name, cn):
        if not os.path.exists(os.path.join(d, name + ".crt")):
            run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-days", "3650", "-subj", "/CN=" + cn,
                 "-keyout", os.path.join(d, name + ".key"), "-out", os.path.join(d, name + ".crt")])

    ca("ca", "o2lab CA")
    ca("wrong-ca", "o2lab wrong CA")
    if not os.path.exists(os.path.join(d, "token")):
        write(os.path.join(d, "token"), os.urandom(24).hex() + "\n", 0o600)
    for site, v in SITES.items():
        if not v["full"]:
            continue
        crt = os.path.join(d, site + ".crt")
        if os.path.exists(crt):
            continue
        key, csr = os.path.join(d, site + ".key"), os.path.join(d, site + ".csr")
        ext = os.path.join(d, site + ".ext")
        write(ext, "subjectAltName=IP:%s,DNS:%s,DNS:kubernetes,DNS:kubernetes.default.svc\n"
                   "extendedKeyUsage=serverAuth\n" % (edge_ip(v["idx"]), site))
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
             "-nodes", "-subj", "/CN=kube-apiserver-standin-" + site, "-keyout", key, "-out", csr])
        run(["openssl", "x509", "-req", "-in", csr, "-CA", os.path.join(d, "ca.crt"),
             "-CAkey", os.path.join(d, "ca.key"), "-CAcreateserial", "-days", "825",
             "-extfile", ext, "-out", crt])


SSHD_CONFIG = """# o2edge lab sshd for {site} (this edge's own /etc/ssh, bind-mounted in its mount namespace)
ListenAddress {ip}
Port 22
HostKey /etc/ssh/ssh_host_ed25519_key
PidFile /run/sshd.pid
PermitRootLogin prohibit-password
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
AuthorizedKeysFile /etc/ssh/authorized_keys/%u
UsePAM no
UseDNS no
X11Forwarding no
Subsystem sftp /usr/lib/openssh/sftp-server
"""


def make_edge_files(site, idx, client_pub):
    base = path("edges", site)
    etc = os.path.join(base, "etc-ssh")
    os.makedirs(os.path.join(etc, "authorized_keys"), exist_ok=True)
    for d in (base, etc, os.path.join(etc, "authorized_keys")):
        os.chmod(d, 0o755)
    host_pub = keygen(os.path.join(etc, "ssh_host_ed25519_key"), "root@" + site)
    if not os.path.exists(os.path.join(etc, "sshd_config")):
        write(os.path.join(etc, "sshd_config"), SSHD_CONFIG.format(site=site, ip=edge_ip(idx)))
    if os.path.exists("/etc/ssh/moduli") and not os.path.exists(os.path.join(etc, "moduli")):
        shutil.copy("/etc/ssh/moduli", os.path.join(etc, "moduli"))
    write(os.path.join(etc, "authorized_keys", "root"), client_pub + "\n", 0o600)
    for sub in ("run/sshd", "containers"):
        os.makedirs(os.path.join(base, sub), exist_ok=True)
    os.chmod(os.path.join(base, "run"), 0o755)
    os.chmod(os.path.join(base, "run", "sshd"), 0o755)
    return host_pub


def start_sshd(site, idx):
    base = path("edges", site)
    os.makedirs("/var/lib/containers", exist_ok=True)
    script = ("mount --bind {b}/etc-ssh /etc/ssh && mount --bind {b}/run /run && "
              "mount --bind {b}/containers /var/lib/containers && "
              "exec /usr/sbin/sshd -D -e -f /etc/ssh/sshd_config").format(b=base)
    start(site + "-ssh", ["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
          ns=edge_ns(site), marker="sshd")  # sshd rewrites its command line; the netns tells it apart


def prom_config(jobs):
    scrape = {}
    for job, targets, labels in jobs:  # one job, one static_config per site
        scrape.setdefault(job, {"job_name": job, "static_configs": []})
        scrape[job]["static_configs"].append({"targets": targets, "labels": labels})
    cfg = {"global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
           "scrape_configs": list(scrape.values())}
    return yaml.safe_dump(cfg, sort_keys=False)


def start_prometheus(name, ns, ip, jobs):
    base = path("prom", name)
    os.makedirs(os.path.join(base, "data"), exist_ok=True)
    write(os.path.join(base, "prometheus.yml"), prom_config(jobs))
    start(name + "-prometheus", ["/usr/bin/prometheus", "--config.file=" + base + "/prometheus.yml",
                                 "--storage.tsdb.path=" + base + "/data",
                                 "--web.listen-address=%s:9090" % ip,
                                 "--storage.tsdb.retention.time=1d"], ns=ns, marker=base)


def mgmt_jobs():
    """The management Prometheus scrapes itself and every healthy edge."""
    jobs = [("prometheus", ["%s:9090" % MGMT_IP], {"site": "mgmt"})]
    for job, port in (("edge_node", 9100), ("edge_prometheus", 9090)):
        jobs += [(job, ["%s:%d" % (edge_ip(v["idx"]), port)], {"site": s}) for s, v in SITES.items() if v["full"]]
    return jobs


def start_edge_services(site, idx, only=None):
    ip, ns = edge_ip(idx), edge_ns(site)
    want = only or FULL_SERVICES
    if "ssh" in want:
        start_sshd(site, idx)
    if not SITES.get(site, {}).get("full"):
        return
    if "node_exporter" in want:
        start(site + "-node_exporter", ["/usr/bin/prometheus-node-exporter",
                                        "--web.listen-address=%s:9100" % ip,
                                        "--collector.disable-defaults", "--collector.cpu",
                                        "--collector.meminfo", "--collector.loadavg",
                                        "--collector.filesystem", "--collector.netdev",
                                        "--collector.uname", "--collector.time"],
              ns=ns, marker="%s:9100" % ip)
    if "prometheus" in want:
        start_prometheus(site, ns, ip, [("prometheus", ["%s:9090" % ip], {"site": site}),
                                        ("node", ["%s:9100" % ip], {"site": site})])
    pki = path("pki")
    if "kubernetes" in want:
        start(site + "-kubernetes", ["/usr/bin/python3", os.path.join(HERE, "standin.py"), "kube",
                                     "--listen", ip, "--port", "6443", "--site", site,
                                     "--cert", os.path.join(pki, site + ".crt"),
                                     "--key", os.path.join(pki, site + ".key"),
                                     "--token-file", os.path.join(pki, "token")],
              ns=ns, marker="standin.py kube --listen " + ip)
    if "o2ims" in want:
        start(site + "-o2ims", ["/usr/bin/python3", os.path.join(HERE, "standin.py"), "o2ims",
                                "--listen", ip, "--port", "8080", "--site", site],
              ns=ns, marker="standin.py o2ims --listen " + ip)


def start_stale(client_pub):
    site, idx = STALE["name"], STALE["idx"]
    make_edge_files(site, idx, client_pub)
    start_sshd(site, idx)


# --------------------------------------------------------------------------- controller side

def containers_env():
    c = path("containers")
    return {
        "CONTAINERS_CONF": os.path.join(c, "containers.conf"),
        "CONTAINERS_STORAGE_CONF": os.path.join(c, "storage.conf"),
        "CONTAINERS_REGISTRIES_CONF": os.path.join(c, "registries.conf"),
        "KPT_FN_RUNTIME": "podman",
    }


def lab_env():
    env = containers_env()
    env.update({
        "O2LAB_DIR": LAB_DIR,
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_SSH_CONTROL_PATH_DIR": path("ssh", "cp"),
        "ANSIBLE_PYTHON_INTERPRETER": "/usr/bin/python3",
        "ANSIBLE_COLLECTIONS_PATH": os.path.join(REPO, ".build", "collections"),
        "ANSIBLE_LOCAL_TEMP": path("ansible", "tmp"),
        "ANSIBLE_NOCOLOR": "1",
    })
    return env


def make_containers_conf():
    c = path("containers")
    # runc may not raise limits above this process's hard limits: ask for what we have.
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65536)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 4096)
    write(os.path.join(c, "containers.conf"),
          "# lab-local: crun cannot start containers here, runc can\n"
          "[containers]\ndefault_ulimits = [\"nofile=%d:%d\", \"nproc=%d:%d\"]\n" % (nofile, nofile, nproc, nproc) +
          "[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
          "events_logfile_path = \"%s\"\n" % path("containers", "events.log"))
    write(os.path.join(c, "storage.conf"),
          "[storage]\ndriver = \"vfs\"\ngraphroot = \"%s\"\nrunroot = \"%s\"\n"
          % (path("containers", "storage"), path("run", "containers")))
    write(os.path.join(c, "registries.conf"),
          "unqualified-search-registries = []\n\n[[registry]]\nlocation = \"%s\"\ninsecure = true\n" % REGISTRY)


def start_registry():
    base = path("registry")
    os.makedirs(os.path.join(base, "data"), exist_ok=True)
    write(os.path.join(base, "config.yml"), yaml.safe_dump({
        "version": 0.1, "log": {"level": "warn"},
        "storage": {"filesystem": {"rootdirectory": os.path.join(base, "data")}, "delete": {"enabled": True}},
        "http": {"addr": REGISTRY},
    }))
    start("ctl-registry", ["/usr/bin/docker-registry", "serve", os.path.join(base, "config.yml")],
          ns=CTL, marker=os.path.join(base, "config.yml"))


def podman(args, check=True):
    env = dict(os.environ)
    env.update(containers_env())
    return run(ctl_prefix() + ["podman"] + list(args), check=check, env=env)


def push_fn_images():
    """Build the kpt function images (static busybox, nobody) and push them to the registry."""
    build = path("build", "images")
    for name, script in FN_IMAGES.items():
        ref = "%s/kpt-fn/%s:%s" % (REGISTRY, name, FN_TAG)
        res = ns_exec(CTL, ["/usr/bin/python3", "-c",
                            "import urllib.request;urllib.request.urlopen('http://%s/v2/kpt-fn/%s/manifests/%s',timeout=5)"
                            % (REGISTRY, name, FN_TAG)], check=False)
        if res.returncode == 0:
            continue
        ctx = os.path.join(build, name)
        os.makedirs(ctx, exist_ok=True)
        shutil.copy(os.path.realpath(shutil.which("busybox")), os.path.join(ctx, "busybox"))
        shutil.copy(os.path.join(HERE, "images", script), os.path.join(ctx, "function.sh"))
        write(os.path.join(ctx, "passwd"), "root:x:0:0:root:/:/bin/busybox\nnobody:x:65534:65534:nobody:/:/bin/busybox\n")
        write(os.path.join(ctx, "group"), "root:x:0:\nnogroup:x:65534:\n")
        write(os.path.join(ctx, "Containerfile"),
              "FROM scratch\nCOPY busybox /bin/busybox\nCOPY passwd /etc/passwd\nCOPY group /etc/group\n"
              "COPY function.sh /function.sh\nUSER nobody\n"
              "ENTRYPOINT [\"/bin/busybox\", \"sh\", \"/function.sh\"]\n"
              "LABEL org.opencontainers.image.title=\"o2lab kpt function %s\"\n" % name)
        podman(["build", "-q", "--network", "none", "-t", ref, ctx])
        podman(["push", "-q", "--tls-verify=false", ref])
        # Keep the registry the only copy: the first render pulls (cold), later ones do not.
        podman(["rmi", "-f", ref], check=False)


KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {name}
  annotations:
    config.kubernetes.io/local-config: "true"
info:
  description: {desc}
pipeline:
{pipeline}"""

RESOURCES = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-settings
  labels:
    app.kubernetes.io/name: {name}
data:
  site: {site}
  replicas: "{replicas}"
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels:
      app.kubernetes.io/name: {name}
  template:
    metadata:
      labels:
        app.kubernetes.io/name: {name}
    spec:
      containers:
      - name: main
        image: registry.example.invalid/{name}:1.0
        ports:
        - containerPort: 8080
---
apiVersion: v1
kind: Service
metadata:
  name: {name}
  labels:
    app.kubernetes.io/name: {name}
spec:
  selector:
    app.kubernetes.io/name: {name}
  ports:
  - port: 80
    targetPort: 8080
"""


def _pipeline(kind, name, site):
    fn = path("fn")
    exec_ann = ("  mutators:\n"
                "  - exec: {fn}/set-annotations.py\n"
                "    configMap:\n"
                "      o2edge.io/site: {site}\n"
                "      o2edge.io/package: {name}\n"
                "  - exec: {fn}/set-namespace.py\n"
                "    configMap:\n"
                "      namespace: {site}-{name}\n").format(fn=fn, site=site, name=name)
    img_pass = "  - image: %s/kpt-fn/passthrough:%s\n" % (REGISTRY, FN_TAG)
    img_val = ("  validators:\n  - image: %s/kpt-fn/require-labels:%s\n" % (REGISTRY, FN_TAG))
    if kind == "exec":
        return exec_ann
    if kind == "image":
        return "  mutators:\n" + img_pass + img_val
    return exec_ann + img_pass + img_val  # mixed


PACKAGES = [
    # name, site, pipeline kind, replicas, subpackage?
    ("edge1-config", "edge1", "mixed", 2, True),
    ("edge2-config", "edge2", "mixed", 2, False),
    ("edge3-config", "edge3", "exec", 1, False),
    ("edge4-config", "edge4", "exec", 1, False),
    ("o2ims-adapter", "edge1", "image", 1, False),
    ("monitoring", "edge2", "exec", 1, True),
    ("ran-du", "edge3", "mixed", 3, False),
    ("ran-cu", "edge4", "exec", 2, False),
    ("network-slices", "edge1", "image", 1, False),
    ("smo-gateway", "edge2", "exec", 1, False),
]


def make_repo():
    fn = path("fn")
    os.makedirs(fn, exist_ok=True)
    for f in os.listdir(os.path.join(HERE, "fn")):
        shutil.copy(os.path.join(HERE, "fn", f), os.path.join(fn, f))
        os.chmod(os.path.join(fn, f), 0o755)
    repo = path("repo")
    if os.path.isdir(os.path.join(repo, ".git")):
        return
    shutil.rmtree(repo, ignore_errors=True)
    genv = dict(os.environ, GIT_AUTHOR_NAME="o2lab", GIT_AUTHOR_EMAIL="o2lab@example.invalid",
                GIT_COMMITTER_NAME="o2lab", GIT_COMMITTER_EMAIL="o2lab@example.invalid")
    run(["git", "init", "-q", "-b", "main", repo])
    for i, (name, site, kind, replicas, sub) in enumerate(PACKAGES):
        d = os.path.join(repo, "packages", name)
        write(os.path.join(d, "Kptfile"), KPTFILE.format(
            name=name, desc="%s workload for %s (%s functions)" % (name, site, kind),
            pipeline=_pipeline(kind, name, site)))
        write(os.path.join(d, "resources.yaml"), RESOURCES.format(name=name, site=site, replicas=replicas))
        if sub:
            sd = os.path.join(d, "addons")
            write(os.path.join(sd, "Kptfile"), KPTFILE.format(
                name=name + "-addons", desc="add-ons of " + name, pipeline=_pipeline("exec", name + "-addons", site)))
            write(os.path.join(sd, "resources.yaml"),
                  RESOURCES.format(name=name + "-addons", site=site, replicas=1))
    run(["git", "add", "-A"], cwd=repo)
    run(["git", "commit", "-q", "-m", "Initial edge packages"], cwd=repo, env=genv)
    # A second commit, so `git diff HEAD~1` and `git log` have history to show.
    for name, _site, _kind, replicas, _sub in PACKAGES[:3]:
        p = os.path.join(repo, "packages", name, "resources.yaml")
        with open(p) as f:
            text = f.read()
        write(p, text.replace('replicas: "%d"' % replicas, 'replicas: "%d"' % (replicas + 1)))
    run(["git", "commit", "-q", "-am", "Scale edge1-3 workloads"], cwd=repo, env=genv)


# --------------------------------------------------------------------------- config files

def write_configs(client_key, host_pubs, stale_pub):
    ssh_dir = path("ssh")
    lines = []
    for site, v in SITES.items():
        lines.append("%s,%s %s" % (site, edge_ip(v["idx"]), " ".join(host_pubs[site].split()[:2])))
    write(os.path.join(ssh_dir, "known_hosts"), "\n".join(lines) + "\n")
    os.makedirs(os.path.join(ssh_dir, "cp"), exist_ok=True)
    os.chmod(os.path.join(ssh_dir, "cp"), 0o700)
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
                            "o2edge_prometheus_url": "http://%s:9090" % MGMT_IP}, sort_keys=False))
    write(path("env"), "".join("export %s=%s\n" % (k, v) for k, v in sorted(lab_env().items())))
    write(path("stale-host-key.pub"), stale_pub + "\n")


# --------------------------------------------------------------------------- commands

def expected_components():
    names = ["ctl-registry", "mgmt-prometheus", STALE["name"] + "-ssh"]
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
    if sorted(lab_namespaces()) != sorted([CTL, edge_ns(STALE["name"])] + [edge_ns(s) for s in SITES]):
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
    for d in ("run", "prom", "registry/data", "containers/storage", "build"):
        shutil.rmtree(path(d), ignore_errors=True)
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
    os.makedirs(LAB_DIR, exist_ok=True)
    os.makedirs(path("ansible", "tmp"), exist_ok=True)
    make_network()
    client_key = path("ssh", "id_ed25519")
    client_pub = keygen(client_key, "o2edge-controller")
    make_pki()
    host_pubs = {}
    for site, v in SITES.items():
        host_pubs[site] = make_edge_files(site, v["idx"], client_pub)
        start_edge_services(site, v["idx"])
    stale_pub = make_edge_files(STALE["name"], STALE["idx"], client_pub)
    start_sshd(STALE["name"], STALE["idx"])
    make_containers_conf()
    start_registry()
    start_prometheus("mgmt", CTL, MGMT_IP, mgmt_jobs())
    make_repo()
    write_configs(client_key, host_pubs, stale_pub)
    # Wait for every listener before declaring the lab up.
    for site, v in SITES.items():
        for svc in (FULL_SERVICES if v["full"] else ["ssh"]):
            wait_port(CTL, edge_ip(v["idx"]), PORTS[svc])
    wait_port(CTL, edge_ip(STALE["idx"]), 22)
    wait_port(CTL, MGMT_IP, 5000)
    wait_port(CTL, MGMT_IP, 9090)
    push_fn_images()
    write(path("run", "up.json"), json.dumps({"up_at": time.time(), "seconds": time.monotonic() - t0}))
    log("up: lab ready in %.1fs (state in %s)" % (time.monotonic() - t0, LAB_DIR))


def status():
    rec = recorded()
    comps = {}
    for name in sorted(set(expected_components()) | set(rec)):
        info = rec.get(name)
        comps[name] = {"pid": info["pid"] if info else None,
                       "running": bool(info and _alive(info["pid"], info["marker"], info.get("ns")))}
    return {"lab_dir": LAB_DIR, "up": healthy(), "components": comps,
            "namespaces": lab_namespaces(), "guard_route": guard_route_present()}


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


def exec_in_controller(argv):
    if not argv:
        raise LabError("exec: give a command after --")
    if CTL not in lab_namespaces():
        raise LabError("exec: the lab is not up (no %s namespace); run `python -m tests.lab up`" % CTL)
    env = dict(os.environ)
    env.update(lab_env())
    return subprocess.call(ctl_prefix() + list(argv), env=env)
