"""The lab's own deployment pipeline (docs/pipeline.md): intent -> KRM -> kpt render -> git push
-> the new revision seen at an edge.

``make_pipeline()`` (called by ``up``) lays out ``.lab/pipeline/``:

  intent.yml  the intent (site, slice, replicas, serial)
  steps.py    the steps (tests/lab/pipeline_steps.py): bump, translate, check
  edge.git    the bare git repository the pipeline pushes to and the edge reads
  work/       the pipeline's clone, where the package is translated, rendered and committed

and writes ``.lab/pipeline.yml``, the pipeline's definition as o2edge.perf.pipeline_bench takes
it (name, chdir, prepare, environment, stages). The edge check asks edge1's O2IMS stand-in,
which reads ``edge.git`` on every request (tests/lab/standin.py), for the revision it sees and
compares it with the commit just pushed.
"""
import os
import shlex
import shutil

import yaml

from .common import HERE, SITES, edge_ip, path, run, write

PYTHON = "/usr/bin/python3"
EDGE_SITE = "edge1"
PACKAGE = "work/packages/slice"
GIT_ENV = {"GIT_AUTHOR_NAME": "o2lab-pipeline", "GIT_AUTHOR_EMAIL": "o2lab@example.invalid",
           "GIT_COMMITTER_NAME": "o2lab-pipeline", "GIT_COMMITTER_EMAIL": "o2lab@example.invalid"}
INTENT = {"site": EDGE_SITE, "slice": "embb-slice", "replicas": 2, "serial": 1}
# The route of the O2IMS stand-in that serves the revision the edge sees (tests/lab/standin.py).
REVISION_PATH = "/o2lab/pipeline/revision"


def revision_url(site=EDGE_SITE):
    return "http://%s:8080%s" % (edge_ip(SITES[site]["idx"]), REVISION_PATH)


def definition(root):
    """The pipeline as o2edge.perf.pipeline_bench takes it (paths relative to ``chdir``)."""
    return {
        "name": "lab",
        "chdir": root,
        "prepare": "%s steps.py bump intent.yml" % PYTHON,
        "environment": dict(GIT_ENV),
        "stages": [
            {"name": "translate", "command": [PYTHON, "steps.py", "translate", "intent.yml", PACKAGE,
                                              "--fn", path("fn")]},
            {"name": "render", "command": ["kpt", "fn", "render", PACKAGE, "--allow-exec"]},
            {"name": "publish", "cwd": os.path.join(root, "work"), "shell": True,
             "command": "git add -A && git commit -q -m %s && git push -q origin HEAD:main"
                        % shlex.quote("o2lab pipeline: apply the intent")},
            {"name": "edge", "command": [PYTHON, "steps.py", "check", "--url", revision_url(), "--repo", "work",
                                         "--timeout", "10"], "timeout": 30},
        ],
    }


def make_pipeline():
    """Lay out the pipeline afresh (a few git commands: well under a second)."""
    root = path("pipeline")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    shutil.copy(os.path.join(HERE, "pipeline_steps.py"), os.path.join(root, "steps.py"))
    write(os.path.join(root, "intent.yml"), yaml.safe_dump(INTENT, sort_keys=False))
    env = dict(os.environ, **GIT_ENV)
    bare, work = os.path.join(root, "edge.git"), os.path.join(root, "work")
    run(["git", "init", "-q", "--bare", "-b", "main", bare])
    run(["git", "init", "-q", "-b", "main", work])
    run(["git", "remote", "add", "origin", bare], cwd=work)
    write(os.path.join(work, "README.md"), "Packages deployed by the lab's pipeline (docs/pipeline.md).\n")
    run(["git", "add", "-A"], cwd=work)
    run(["git", "commit", "-q", "-m", "Start the pipeline's repository"], cwd=work, env=env)
    run(["git", "push", "-q", "origin", "HEAD:main"], cwd=work, env=env)
    target = path("pipeline.yml")
    write(target, "# o2edge.perf lab pipeline (written by `python -m tests.lab up`; docs/pipeline.md)\n"
          + yaml.safe_dump(definition(root), sort_keys=False))
    return target
