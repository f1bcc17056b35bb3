"""The lab's own pipeline (tests/lab/pipeline.py) run for real, without namespaces: the O2IMS
stand-in listens on loopback and reads the pipeline's git repository, as at edge1."""
import os
import socket
import subprocess
import sys
import time

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.module_utils.measure._pipeline import bench_pipeline, parse_stages
from tests.lab import common, pipeline, repo

HERE = os.path.dirname(os.path.abspath(pipeline.__file__))


@pytest.fixture
def labdir(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "LAB_DIR", str(tmp_path))
    return tmp_path


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def standin(labdir):
    port = _free_port()
    proc = subprocess.Popen([sys.executable, os.path.join(HERE, "standin.py"), "o2ims", "--listen", "127.0.0.1",
                             "--port", str(port), "--site", "edge1"], cwd=str(labdir))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            time.sleep(0.05)
    yield "http://127.0.0.1:%d%s" % (port, pipeline.REVISION_PATH)
    proc.kill()
    proc.wait()


def _stages(labdir, url):
    doc = yaml.safe_load((labdir / "pipeline.yml").read_text())
    for stage in doc["stages"]:
        if stage["name"] == "edge":
            stage["command"][stage["command"].index("--url") + 1] = url
            stage["command"][stage["command"].index("--timeout") + 1] = "2"
    return doc, parse_stages(doc["stages"], chdir=doc["chdir"], environment=doc["environment"])


def _git(labdir, *args):
    return subprocess.run(["git", "-C", str(labdir / "pipeline" / "work")] + list(args), check=True,
                          stdout=subprocess.PIPE, universal_newlines=True, env=dict(os.environ, **pipeline.GIT_ENV)).stdout


@pytest.mark.skipif(not os.path.exists("/usr/bin/kpt") or not os.path.exists("/usr/bin/python3"), reason="needs kpt")
def test_lab_pipeline_deploys_a_new_revision_every_round_and_the_edge_sees_it(labdir, standin):
    # Bug caught: a lab pipeline whose edge check is a constant (passes whatever was pushed), or
    # a round that commits nothing new.
    repo.make_repo()
    target = pipeline.make_pipeline()
    assert target == str(labdir / "pipeline.yml")
    doc, stages = _stages(labdir, standin)
    assert [s["name"] for s in stages] == ["translate", "render", "publish", "edge"]
    records = bench_pipeline(doc["name"], stages, runs=2, warmup=1, prepare=doc["prepare"],
                             prepare_cwd=doc["chdir"], prepare_env=doc["environment"])
    total = records[0]
    assert total["failures"] == 0, total["errors"]
    assert len(total["samples"]) == 2
    # 3 rounds (1 warm-up) = 3 new commits after the first, each with the next serial
    log = _git(labdir, "log", "--format=%s").splitlines()
    assert len(log) == 4
    rendered = (labdir / "pipeline" / "work" / "packages" / "slice" / "resources.yaml").read_text()
    assert "serial: '4'" in rendered and "o2edge.io/site: edge1" in rendered and "namespace: edge1-embb-slice" in rendered
    # the check is real: a commit the edge's repository has not received fails it, naming the revision
    _git(labdir, "commit", "-q", "--allow-empty", "-m", "not pushed")
    edge = [s for s in stages if s["name"] == "edge"]
    total, edge_rec = bench_pipeline("edge-only", edge, runs=1, warmup=0)
    assert total["failures"] == 1 and "stage edge failed: exit status 1" in total["errors"][0]["error"]
    assert _git(labdir, "rev-parse", "HEAD").strip() in edge_rec["errors"][0]["stderr"]
