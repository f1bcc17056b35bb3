"""Shared facts and helpers of the lab: where its state lives, its addresses and sites,
and how it runs commands and writes files."""
import hashlib
import os
import shutil
import subprocess
import sys


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
# Hosts that answer SSH with host keys of their own, for the stale-address search to tell apart
# from edge2's real address: the impostor at the stale address (above), a second impostor at
# another old address, and a decoy range 198.18.104.8/29 whose six addresses share one sshd.
IMPOSTORS = [
    {"name": "stale", "idx": 102, "extra": []},
    {"name": "stale2", "idx": 103, "extra": []},
    {"name": "decoy", "idx": 104, "extra": [9, 11, 12, 13, 14]},
]
DECOY_RANGE = "198.18.104.8/29"


def impostor_ips(imp):
    """Every address an impostor answers on (its own .10 and its extra host numbers)."""
    return [edge_ip(imp["idx"])] + ["198.18.%d.%d" % (imp["idx"], n) for n in imp["extra"]]


PORTS = {"ssh": 22, "prometheus": 9090, "node_exporter": 9100, "kubernetes": 6443, "o2ims": 8080,
         "registry": 5000}
FULL_SERVICES = ["ssh", "prometheus", "node_exporter", "kubernetes", "o2ims"]

FN_TAG = "v1"

NEEDED = {
    "ip": "iproute2", "sshd": "openssh-server", "ssh-keygen": "openssh-client",
    "prometheus": "prometheus", "prometheus-node-exporter": "prometheus-node-exporter",
    "docker-registry": "docker-registry", "podman": "podman", "runc": "runc",
    "busybox": "busybox-static", "openssl": "openssl", "git": "git", "iptables": "iptables",
    "unshare": "util-linux", "skopeo": "skopeo", "umoci": "umoci", "kpt": "kpt (preinstalled on these machines)",
}


class LabError(Exception):
    pass


def log(msg):
    sys.stderr.write("lab: %s\n" % msg)
    sys.stderr.flush()


def path(*parts):
    return os.path.join(LAB_DIR, *parts)


# Unix sockets take at most 107 bytes of path, and podman's exit command refuses a runroot of
# more than 50 characters (podman then waits 20 s for every function container's exit code).
# Sockets and podman's short-lived state therefore live under a short folder of their own,
# one per lab folder, whatever the length of the checkout's path.
SHORT_ROOT = "/run/o2edge-lab"
PODMAN_RUNROOT_MAX = 50


def short_path(*parts):
    """A path under this lab's short runtime folder (``/run/o2edge-lab/<8 hex of LAB_DIR>``)."""
    digest = hashlib.sha256(LAB_DIR.encode()).hexdigest()[:8]
    return os.path.join(SHORT_ROOT, digest, *parts)


def run(argv, check=True, capture=True, stdin=None, env=None, cwd=None, timeout=None):
    try:
        res = subprocess.run(argv, input=stdin, env=env, cwd=cwd, text=True, check=False, timeout=timeout,
                             stdout=subprocess.PIPE if capture else None,
                             stderr=subprocess.PIPE if capture else None)
    except subprocess.TimeoutExpired:
        raise LabError("%s did not finish within %.0fs" % (" ".join(argv), timeout))
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


def check_prereqs():
    if os.geteuid() != 0:
        raise LabError("the lab needs root (network and mount namespaces)")
    missing = ["%s (Debian package %s)" % (b, pkg) for b, pkg in NEEDED.items() if not shutil.which(b)]
    if missing:
        raise LabError("missing: %s; run `make deps`" % ", ".join(missing))
