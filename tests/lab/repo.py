"""The git repository of kpt packages on the management side."""
import os
import shutil

from .common import HERE, REGISTRY, FN_TAG, path, run, write


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


LABELS_CONFIG = """apiVersion: v1
kind: ConfigMap
metadata:
  name: {name}-labels
  annotations:
    config.kubernetes.io/local-config: "true"
data:
  o2edge.io/slice: {name}
  o2edge.io/site: {site}
"""


def _img(name):
    return "%s/kpt-fn/%s:%s" % (REGISTRY, name, FN_TAG)


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
    count = "  - image: %s\n" % _img("count-items")
    if kind == "static":  # a static C binary validates, busybox scripts pass and check
        return "  mutators:\n" + img_pass + img_val + count
    if kind == "python-cm":  # Python on the distribution's interpreter, config from configMap
        return ("  mutators:\n  - image: %s\n    configMap:\n      o2edge.io/site: %s\n"
                "      o2edge.io/tier: ran\n" % (_img("set-labels"), site)) + img_val + count
    if kind == "python-path":  # the same function, config from a file of the package (configPath)
        return (exec_ann + "  - image: %s\n    configPath: labels.yaml\n" % _img("set-labels")
                + img_val + count)
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
    # image functions of three kinds (static binary, Python, busybox), run in containers or sandboxed
    ("ran-ru", "edge1", "static", 2, False),
    ("site-labels", "edge2", "python-cm", 1, True),
    ("slice-policy", "edge3", "python-path", 1, False),
]


def _repo_matches(repo):
    """Whether an existing lab repository has exactly the packages of PACKAGES."""
    try:
        have = sorted(os.listdir(os.path.join(repo, "packages")))
    except OSError:
        return False
    return os.path.isdir(os.path.join(repo, ".git")) and have == sorted(p[0] for p in PACKAGES)


def make_repo():
    fn = path("fn")
    os.makedirs(fn, exist_ok=True)
    for f in os.listdir(os.path.join(HERE, "fn")):
        shutil.copy(os.path.join(HERE, "fn", f), os.path.join(fn, f))
        os.chmod(os.path.join(fn, f), 0o755)
    repo = path("repo")
    if _repo_matches(repo):
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
        if kind == "python-path":
            write(os.path.join(d, "labels.yaml"), LABELS_CONFIG.format(name=name, site=site))
        if sub and kind == "python-cm":  # a subpackage whose own image function has its own configMap
            sd = os.path.join(d, "radio")
            write(os.path.join(sd, "Kptfile"), KPTFILE.format(
                name=name + "-radio", desc="radio units of " + name,
                pipeline="  mutators:\n  - image: %s\n    configMap:\n      o2edge.io/unit: radio\n" % _img("set-labels")))
            write(os.path.join(sd, "resources.yaml"), RESOURCES.format(name=name + "-radio", site=site, replicas=1))
        elif sub:
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
