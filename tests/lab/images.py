"""The controller's function runtime: podman's lab-local configuration, the OCI registry and
the kpt function images built locally (reproducible OCI layouts, cached, copied with skopeo)."""
import hashlib
import io
import json
import os
import resource
import shutil
import tarfile
import time

import yaml

from .common import (CTL, FN_TAG, HERE, PODMAN_RUNROOT_MAX, REGISTRY, LabError, ctl_prefix, ns_exec,
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


# The lab's kpt function images: name -> (kind, source under tests/lab/images). Every image is
# FROM scratch, runs as nobody (65534) and is built here as an OCI layout with fixed timestamps,
# owners and order, so the same inputs always give the same manifest digest.
#   busybox: a static busybox and a shell script (entrypoint busybox sh /function.sh)
#   static:  one static C binary, compiled with gcc -static (nothing else in the image)
#   python:  the host distribution's python3, the shared libraries ldd names, and only the
#            standard library modules (and PyYAML) the function imports
FUNCTIONS = {
    "passthrough": ("busybox", "passthrough.sh"),
    "require-labels": ("busybox", "require-labels.sh"),
    "count-items": ("static", "count-items.c"),
    "set-labels": ("python", "set-labels.py"),
}
BUILD_FORMAT = "o2lab-fn-image/1"
HOST_PYTHON = "/usr/bin/python3"
PY_PATH = "/usr/lib/python3/dist-packages"
IMAGE_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PASSWD = "root:x:0:0:root:/:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n"
GROUP = "root:x:0:\nnogroup:x:65534:\n"

# Collects what a Python function loads: run with the image's interpreter flags on sample input.
_PY_COLLECT = r"""
import io, json, runpy, sys
sys.stdin = io.StringIO(sys.argv[2])
out = io.StringIO()
real = sys.stdout
sys.stdout = out
try:
    runpy.run_path(sys.argv[1], run_name="__main__")
except SystemExit as exc:
    if exc.code not in (0, None):
        raise
sys.stdout = real
files = sorted(set(getattr(m, "__file__", None) or "" for m in list(sys.modules.values())) - {""})
print(json.dumps({"files": files, "prefix": sys.prefix, "version": "%d.%d" % sys.version_info[:2]}))
"""
_PY_SAMPLE = ("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n"
              "  metadata:\n    name: x\nfunctionConfig:\n  apiVersion: v1\n  kind: ConfigMap\n  data: {a: b}\n")


def fn_ref(name):
    return "%s/kpt-fn/%s:%s" % (REGISTRY, name, FN_TAG)


class Layer(object):
    """Files of one image layer, written as a reproducible tar (sorted, mtime 0, root-owned)."""

    def __init__(self):
        self.entries = {}

    def _parents(self, name):
        parts = name.split("/")[:-1]
        for i in range(1, len(parts) + 1):
            self.entries.setdefault("/".join(parts[:i]), ("dir", None, 0o755))

    def add_bytes(self, name, data, mode=0o644):
        name = name.lstrip("/")
        self._parents(name)
        self.entries[name] = ("file", data, mode)

    def add_symlink(self, name, target):
        name = name.lstrip("/")
        self._parents(name)
        self.entries[name] = ("symlink", target, 0o777)

    def add_host_path(self, host):
        """Add a host file at its own path, re-creating every symlink met on the way."""
        parts = [p for p in os.path.normpath(host).split("/") if p]
        current = "/"
        i = 0
        seen = 0
        while i < len(parts):
            candidate = os.path.join(current, parts[i])
            if os.path.islink(candidate):
                seen += 1
                if seen > 40:
                    raise LabError("too many symlinks resolving %s" % host)
                target = os.readlink(candidate)
                self.add_symlink(candidate, target)
                rest = parts[i + 1:]
                joined = os.path.normpath(os.path.join(current, target) if not target.startswith("/") else target)
                parts = [p for p in joined.split("/") if p] + rest
                current, i = "/", 0
                continue
            current = candidate
            i += 1
        if not os.path.isfile(current):
            raise LabError("%s (from %s) is not a file" % (current, host))
        if current.lstrip("/") not in self.entries:
            with open(current, "rb") as f:
                self.add_bytes(current, f.read(), os.stat(current).st_mode & 0o755)

    def tar(self):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
            for name in sorted(self.entries):
                kind, data, mode = self.entries[name]
                info = tarfile.TarInfo(name)
                info.mtime, info.uid, info.gid, info.uname, info.gname, info.mode = 0, 0, 0, "", "", mode
                if kind == "dir":
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif kind == "symlink":
                    info.type, info.linkname = tarfile.SYMTYPE, data
                    tar.addfile(info)
                else:
                    info.size = len(data)
                    tar.addfile(info, io.BytesIO(data))
        return buf.getvalue()


def _ldd(binary):
    """Absolute paths of the shared libraries (and the loader) ``binary`` needs."""
    res = run(["ldd", binary], check=False)
    if res.returncode != 0:
        return []  # a static binary
    libs = []
    for line in res.stdout.splitlines():
        line = line.strip()
        if "=>" in line:
            target = line.split("=>", 1)[1].split("(")[0].strip()
            if target.startswith("/"):
                libs.append(target)
        elif line.startswith("/"):
            libs.append(line.split()[0])
    return libs


def _base_layer():
    layer = Layer()
    layer.add_bytes("etc/passwd", PASSWD.encode())
    layer.add_bytes("etc/group", GROUP.encode())
    return layer


def _build_busybox(source):
    layer = _base_layer()
    layer.add_host_path(os.path.realpath(shutil.which("busybox")))
    busybox = os.path.realpath(shutil.which("busybox"))
    if busybox.lstrip("/") != "bin/busybox":
        layer.add_bytes("bin/busybox", layer.entries[busybox.lstrip("/")][1], 0o755)
        del layer.entries[busybox.lstrip("/")]
    with open(os.path.join(HERE, "images", source), "rb") as f:
        layer.add_bytes("function.sh", f.read())
    return layer, {"Entrypoint": ["/bin/busybox", "sh", "/function.sh"], "Env": [IMAGE_PATH_ENV]}


def _build_static(source, work):
    """The C source compiled with gcc -static; without gcc, the static busybox's cat (the same output)."""
    out = os.path.join(work, "fn")
    if not shutil.which("gcc") or run(["gcc", "-static", "-Os", "-s", "-o", out, os.path.join(HERE, "images", source)],
                                      check=False).returncode != 0:
        layer = _base_layer()
        with open(os.path.realpath(shutil.which("busybox")), "rb") as f:
            layer.add_bytes("bin/busybox", f.read(), 0o755)
        return layer, {"Entrypoint": ["/bin/busybox", "cat"], "Env": [IMAGE_PATH_ENV]}
    layer = _base_layer()
    with open(out, "rb") as f:
        layer.add_bytes("fn", f.read(), 0o755)
    return layer, {"Entrypoint": ["/fn"], "Env": [IMAGE_PATH_ENV]}


def _build_python(source):
    script = os.path.join(HERE, "images", source)
    env = dict(os.environ, PYTHONPATH=PY_PATH)
    res = run([HOST_PYTHON, "-S", "-B", "-c", _PY_COLLECT, script, _PY_SAMPLE], env=env)
    info = json.loads(res.stdout.strip().splitlines()[-1])
    layer = _base_layer()
    python = os.path.realpath(HOST_PYTHON)
    layer.add_host_path(HOST_PYTHON)
    for lib in _ldd(python):
        layer.add_host_path(lib)
    stdlib = os.path.join(info["prefix"], "lib", "python" + info["version"])
    # the interpreter finds its prefix by this landmark, and its exec prefix by lib-dynload
    layer.add_host_path(os.path.join(stdlib, "os.py"))
    layer.entries.setdefault(os.path.join(stdlib, "lib-dynload").lstrip("/"), ("dir", None, 0o755))
    for name in info["files"]:
        if not name.startswith("/") or not os.path.isfile(name):
            continue
        layer.add_host_path(name)
        if name.endswith(".so"):
            for lib in _ldd(name):
                layer.add_host_path(lib)
    with open(script, "rb") as f:
        layer.add_bytes("fn/function.py", f.read())
    return layer, {"Entrypoint": [HOST_PYTHON, "-S", "-B", "/fn/function.py"],
                   "Env": [IMAGE_PATH_ENV, "PYTHONPATH=" + PY_PATH, "LANG=C.UTF-8"]}


def _inputs_key(name, kind, source):
    """What the image is made of: the source, the builder and the host tools it copies."""
    digest = hashlib.sha256(BUILD_FORMAT.encode())
    with open(os.path.join(HERE, "images", source), "rb") as f:
        digest.update(f.read())
    with open(os.path.abspath(__file__), "rb") as f:
        digest.update(f.read())
    tools = {"busybox": [shutil.which("busybox")], "static": [shutil.which("gcc") or shutil.which("busybox")],
             "python": [HOST_PYTHON]}[kind]
    for tool in tools:
        st = os.stat(os.path.realpath(tool))
        digest.update(("%s|%d|%d" % (os.path.realpath(tool), st.st_size, st.st_mtime)).encode())
    return "%s-%s" % (name, digest.hexdigest()[:16])


def _write_blob(layout, data):
    hexd = hashlib.sha256(data).hexdigest()
    blob = os.path.join(layout, "blobs", "sha256", hexd)
    with open(blob, "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + hexd, "size": len(data)}


def build_layout(name, layout):
    """Build image ``name`` as an OCI layout at ``layout`` (replaced atomically); its manifest digest."""
    kind, source = FUNCTIONS[name]
    tmp = layout + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(os.path.join(tmp, "blobs", "sha256"))
    if kind == "busybox":
        layer, cfg = _build_busybox(source)
    elif kind == "static":
        layer, cfg = _build_static(source, tmp)
        if os.path.exists(os.path.join(tmp, "fn")):
            os.unlink(os.path.join(tmp, "fn"))
    else:
        layer, cfg = _build_python(source)
    data = layer.tar()
    layer_desc = dict(_write_blob(tmp, data), mediaType="application/vnd.oci.image.layer.v1.tar")
    cfg = dict(cfg, User="nobody", WorkingDir="/",
               Labels={"org.opencontainers.image.title": "o2lab kpt function %s (%s)" % (name, kind)})
    config = {"architecture": "amd64", "os": "linux", "config": cfg,
              "rootfs": {"type": "layers", "diff_ids": [layer_desc["digest"]]},
              "history": [{"created_by": "o2lab %s build of %s" % (kind, source)}]}
    config_desc = dict(_write_blob(tmp, json.dumps(config, sort_keys=True).encode()),
                       mediaType="application/vnd.oci.image.config.v1+json")
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                "config": config_desc, "layers": [layer_desc]}
    manifest_desc = dict(_write_blob(tmp, json.dumps(manifest, sort_keys=True).encode()),
                         mediaType="application/vnd.oci.image.manifest.v1+json",
                         annotations={"org.opencontainers.image.ref.name": FN_TAG})
    write(os.path.join(tmp, "index.json"), json.dumps({"schemaVersion": 2, "manifests": [manifest_desc]}))
    write(os.path.join(tmp, "oci-layout"), json.dumps({"imageLayoutVersion": "1.0.0"}))
    shutil.rmtree(layout, ignore_errors=True)
    os.rename(tmp, layout)
    return manifest_desc["digest"]


def _registry_has(name):
    res = ns_exec(CTL, ["/usr/bin/python3", "-c",
                        "import urllib.request;urllib.request.urlopen('http://%s/v2/kpt-fn/%s/manifests/%s',timeout=5)"
                        % (REGISTRY, name, FN_TAG)], check=False)
    return res.returncode == 0


def push_fn_images():
    """Build (or take from the build cache) the kpt function images and push them to the registry.

    An image the registry already has is skipped. Layouts are cached under ``.lab/cache/fn-images``
    (which ``down`` keeps), keyed by their inputs, so a new lab only copies them to its registry.
    """
    cache = path("cache", "fn-images")
    os.makedirs(cache, exist_ok=True)
    for name in FUNCTIONS:
        if _registry_has(name):
            continue
        kind, source = FUNCTIONS[name]
        layout = os.path.join(cache, _inputs_key(name, kind, source))
        if not os.path.isfile(os.path.join(layout, "index.json")):
            for old in os.listdir(cache):  # earlier builds of this image
                if old.startswith(name + "-") and old[len(name) + 1:].split(".")[0].isalnum() \
                        and len(old) == len(name) + 17:
                    shutil.rmtree(os.path.join(cache, old), ignore_errors=True)
            build_layout(name, layout)
        run(ctl_prefix() + ["skopeo", "copy", "-q", "--preserve-digests", "--dest-tls-verify=false",
                            "oci:%s:%s" % (layout, FN_TAG), "docker://" + fn_ref(name)])


def _layout_blob(layout, digest):
    with open(os.path.join(layout, "blobs", *digest.split(":", 1))) as f:
        return json.load(f)


def unpack_fn_images(unpack_dir, names=None):
    """Unpack the lab's function images from the registry into ``unpack_dir`` in the layout the
    bwrap sandbox of kpt_render reads (``<algo>-<hex>/rootfs``, ``image.json`` last, ``refs.json``).

    The lab's own fixture for the sandbox (``image_precache`` with ``unpack: true`` writes the same
    layout); returns {reference: manifest digest}.
    """
    os.makedirs(unpack_dir, exist_ok=True)
    refs_path = os.path.join(unpack_dir, "refs.json")
    refs = {}
    if os.path.isfile(refs_path):
        with open(refs_path) as f:
            refs = json.load(f)
    for name in names or list(FUNCTIONS):
        ref = fn_ref(name)
        work = os.path.join(unpack_dir, ".tmp-%s-%d" % (name, os.getpid()))
        shutil.rmtree(work, ignore_errors=True)
        os.makedirs(work)
        try:
            run(ctl_prefix() + ["skopeo", "copy", "-q", "--src-tls-verify=false", "docker://" + ref,
                                "oci:%s:%s" % (os.path.join(work, "layout"), FN_TAG)])
            layout = os.path.join(work, "layout")
            with open(os.path.join(layout, "index.json")) as f:
                manifest_desc = json.load(f)["manifests"][0]
            digest = manifest_desc["digest"]
            manifest = _layout_blob(layout, digest)
            config = _layout_blob(layout, manifest["config"]["digest"])
            final = os.path.join(unpack_dir, digest.replace(":", "-"))
            if not os.path.isfile(os.path.join(final, "image.json")):
                shutil.rmtree(final, ignore_errors=True)
                run(["umoci", "raw", "unpack", "--image", "%s:%s" % (layout, FN_TAG), os.path.join(work, "rootfs")])
                os.makedirs(final)
                os.rename(os.path.join(work, "rootfs"), os.path.join(final, "rootfs"))
                cfg = config.get("config") or {}
                write(os.path.join(final, "image.json"), json.dumps({
                    "schema": 1, "digest": digest, "config_digest": manifest["config"]["digest"], "references": [ref],
                    "entrypoint": cfg.get("Entrypoint") or [], "cmd": cfg.get("Cmd") or [], "env": cfg.get("Env") or [],
                    "workdir": cfg.get("WorkingDir") or "/", "user": cfg.get("User") or "",
                    "unpacked_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}))
            refs[ref] = digest
        finally:
            shutil.rmtree(work, ignore_errors=True)
    write(refs_path, json.dumps(refs, sort_keys=True))
    return refs


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
