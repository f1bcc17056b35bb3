"""The controller's function runtime: podman's lab-local configuration, the OCI registry and
the kpt function images built locally."""
import os
import resource
import shutil
import time

import yaml

from .common import (CTL, FN_IMAGES, FN_TAG, HERE, PODMAN_RUNROOT_MAX, REGISTRY, LabError, ctl_prefix, ns_exec,
                     path, run, short_path, write)
from .procs import start

# A function container that takes longer than this to start and exit means a broken runtime
# set-up (for example podman waiting 20 s for an exit code that never comes).
FN_START_LIMIT = 5.0


def containers_env():
    c = path("containers")
    return {
        "CONTAINERS_CONF": os.path.join(c, "containers.conf"),
        "CONTAINERS_STORAGE_CONF": os.path.join(c, "storage.conf"),
        "CONTAINERS_REGISTRIES_CONF": os.path.join(c, "registries.conf"),
        "KPT_FN_RUNTIME": "podman",
    }


def make_containers_conf():
    c = path("containers")
    # runc may not raise limits above this process's hard limits: ask for what we have.
    nofile = min(resource.getrlimit(resource.RLIMIT_NOFILE)[1], 65536)
    nproc = min(resource.getrlimit(resource.RLIMIT_NPROC)[1], 4096)
    write(os.path.join(c, "containers.conf"),
          "# lab-local: crun cannot start containers here, runc can\n"
          "[containers]\ndefault_ulimits = [\"nofile=%d:%d\", \"nproc=%d:%d\"]\n" % (nofile, nofile, nproc, nproc) +
          "[engine]\nruntime = \"runc\"\ncgroup_manager = \"cgroupfs\"\nevents_logger = \"file\"\n"
          "events_logfile_path = \"%s\"\ntmp_dir = \"%s\"\n" % (path("containers", "events.log"), short_path("libpod")))
    write(os.path.join(c, "storage.conf"),
          "[storage]\ndriver = \"vfs\"\ngraphroot = \"%s\"\nrunroot = \"%s\"\n"
          % (path("containers", "storage"), podman_runroot()))
    write(os.path.join(c, "registries.conf"),
          "unqualified-search-registries = []\n\n[[registry]]\nlocation = \"%s\"\ninsecure = true\n" % REGISTRY)


def podman_runroot():
    """Podman's run state: short, since its exit command refuses a runroot over 50 characters."""
    runroot = short_path("containers")
    if len(runroot) > PODMAN_RUNROOT_MAX:
        raise LabError("podman runroot %s is %d characters; podman refuses more than %d"
                       % (runroot, len(runroot), PODMAN_RUNROOT_MAX))
    return runroot


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


def podman(args, check=True, stdin=None, timeout=None):
    env = dict(os.environ)
    env.update(containers_env())
    return run(ctl_prefix() + ["podman"] + list(args), check=check, env=env, stdin=stdin, timeout=timeout)


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


def check_fn_container(limit=FN_START_LIMIT):
    """Start one function container the way kpt does and fail, naming the cause, when it does
    not start and exit within ``limit`` seconds. Returns the seconds it took.

    The image is pulled first (not timed) and removed afterwards, so the lab stays cold: the
    first render pulls its images."""
    ref = "%s/kpt-fn/passthrough:%s" % (REGISTRY, FN_TAG)
    podman(["pull", "-q", ref])
    rl = "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems: []\n"
    t0 = time.monotonic()
    try:
        res = podman(["run", "--rm", "-i", "--network", "none", "--pull", "never", ref], check=False,
                     stdin=rl, timeout=max(30.0, 4 * limit))
    finally:
        took = time.monotonic() - t0
    podman(["rmi", "-f", ref], check=False)
    if res.returncode != 0 or "ResourceList" not in (res.stdout or ""):
        raise LabError("a kpt function container (%s) failed (rc %d): %s"
                       % (ref, res.returncode, (res.stderr or "").strip()[-400:]))
    if took > limit:
        raise LabError("a kpt function container took %.1fs to start and exit (limit %.0fs): podman's run "
                       "state is %s (%d characters; its exit command refuses more than %d), and conmon "
                       "waits 20 s for an exit code it never gets when that command fails; podman said: %s"
                       % (took, limit, podman_runroot(), len(podman_runroot()), PODMAN_RUNROOT_MAX,
                          (res.stderr or "").strip()[-300:] or "nothing"))
    return took
