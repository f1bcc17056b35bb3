"""The steps of the lab's own deployment pipeline (copied to .lab/pipeline/steps.py by `up`).

  bump INTENT                 a new serial in the intent (the pipeline's `prepare`: every round
                              deploys a new revision)
  translate INTENT PKG --fn D the intent turned into KRM in the kpt package PKG (a Kptfile whose
                              pipeline runs the lab's exec functions in D, and the resources)
  check --url U --repo R      the edge sees the revision R's HEAD: polls U (the O2IMS stand-in,
                              which reads the lab's git repository) until it serves that revision;
                              exit 1 when it does not within --timeout seconds

Standard library and PyYAML (as the lab's kpt functions) on /usr/bin/python3.
"""
import argparse
import json
import os
import subprocess
import sys
import time
import urllib.request

import yaml

KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {slice}
  annotations:
    config.kubernetes.io/local-config: "true"
info:
  description: slice {slice} at {site}, translated from the intent (serial {serial})
pipeline:
  mutators:
  - exec: {fn}/set-annotations.py
    configMap:
      o2edge.io/site: {site}
      o2edge.io/slice: {slice}
  - exec: {fn}/set-namespace.py
    configMap:
      namespace: {site}-{slice}
"""


def _write(path, text):
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def load_intent(path):
    with open(path) as f:
        intent = yaml.safe_load(f)
    if not isinstance(intent, dict):
        raise SystemExit("intent %s is not a mapping" % path)
    for key in ("site", "slice", "replicas", "serial"):
        if key not in intent:
            raise SystemExit("intent %s lacks %s" % (path, key))
    return intent


def bump(path):
    intent = load_intent(path)
    intent["serial"] = int(intent["serial"]) + 1
    _write(path, yaml.safe_dump(intent, sort_keys=False))
    return intent["serial"]


def krm(intent):
    """The resources of the intent: a ConfigMap of its settings and the slice's Deployment."""
    name, site = intent["slice"], intent["site"]
    labels = {"app.kubernetes.io/name": name, "o2edge.io/slice": name}
    return [
        {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name + "-intent", "labels": labels},
         "data": {"site": str(site), "replicas": str(intent["replicas"]), "serial": str(intent["serial"])}},
        {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": labels},
         "spec": {"replicas": int(intent["replicas"]), "selector": {"matchLabels": labels},
                  "template": {"metadata": {"labels": labels, "annotations": {"o2edge.io/serial": str(intent["serial"])}},
                               "spec": {"containers": [{"name": "main", "image": "registry.example.invalid/%s:1.0" % name}]}}}},
    ]


def translate(intent_path, package, fn):
    intent = load_intent(intent_path)
    _write(os.path.join(package, "Kptfile"), KPTFILE.format(fn=fn, **intent))
    _write(os.path.join(package, "resources.yaml"), yaml.safe_dump_all(krm(intent), sort_keys=False))


def edge_revision(url, timeout):
    with urllib.request.urlopen(url, timeout=timeout) as resp:
        return json.loads(resp.read(65536).decode()).get("revision")


def check(url, repo, timeout):
    want = subprocess.run(["git", "-C", repo, "rev-parse", "HEAD"], check=True, stdout=subprocess.PIPE,
                          universal_newlines=True).stdout.strip()
    deadline = time.monotonic() + timeout
    seen = None
    while True:
        try:
            seen = edge_revision(url, max(0.1, min(2.0, deadline - time.monotonic())))
        except (OSError, ValueError) as exc:
            seen = "error: %s" % exc
        if seen == want:
            return 0
        if time.monotonic() >= deadline:
            sys.stderr.write("the edge serves revision %s, expected %s (after %.1fs)\n" % (seen, want, timeout))
            return 1
        time.sleep(0.02)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="step", required=True)
    b = sub.add_parser("bump")
    b.add_argument("intent")
    t = sub.add_parser("translate")
    t.add_argument("intent")
    t.add_argument("package")
    t.add_argument("--fn", required=True)
    c = sub.add_parser("check")
    c.add_argument("--url", required=True)
    c.add_argument("--repo", required=True)
    c.add_argument("--timeout", type=float, default=10.0)
    a = p.parse_args(argv)
    if a.step == "bump":
        bump(a.intent)
        return 0
    if a.step == "translate":
        translate(a.intent, a.package, a.fn)
        return 0
    return check(a.url, a.repo, a.timeout)


if __name__ == "__main__":
    sys.exit(main())
