"""The cpu-hog lab fault: K busy processes, recorded by PID, loading the CPU, ending by themselves
after N seconds, ended earlier by restore (and by down, which stops every recorded process)."""
import os
import time

import pytest

from tests.lab import common, faults, procs
from tests.lab.__main__ import main as lab_main


@pytest.fixture
def labdir(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "LAB_DIR", str(tmp_path))
    return tmp_path


def _cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _running(pid):
    return procs._alive(pid, faults.HOG_MARKER)


def test_cpu_hog_loads_the_cpu_and_ends_by_itself(labdir):
    # Bug caught: a hog that sleeps instead of burning CPU, or one that outlives its --seconds.
    pids = faults.cpu_hog("edge1", "start", seconds=2.5, workers=2, ns="")
    assert len(pids) == 2 and sorted(faults.hog_names("edge1")) == ["edge1-cpu-hog-0", "edge1-cpu-hog-1"]
    assert all(procs.recorded()[n]["pid"] in pids for n in faults.hog_names("edge1"))
    time.sleep(1.2)
    assert all(_running(p) for p in pids)
    # a sleeping process would have ~0 s; a busy one ~1 s alone, less on a shared machine
    assert all(_cpu_seconds(p) > 0.1 for p in pids), "the hog does not load the CPU"
    deadline = time.monotonic() + 6
    while any(_running(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_running(p) for p in pids), "the hog outlived its seconds"
    faults.cpu_hog("edge1", "restore")
    assert faults.hog_names("edge1") == []


def test_restore_ends_the_hog_at_once(labdir):
    # Bug caught: restore leaving busy processes behind.
    pids = faults.cpu_hog("mgmt", "start", seconds=60, workers=1, ns="")
    assert _running(pids[0])
    faults.cpu_hog("mgmt", "restore")
    assert not _running(pids[0]) and faults.hog_names("mgmt") == []


@pytest.mark.parametrize("argv,needle", [
    (["fault", "edge1", "cpu-hog", "start", "--seconds", "0"], "--seconds must be more than 0"),
    (["fault", "edge1", "cpu-hog", "start", "--seconds", "nan"], "--seconds must be more than 0"),
    (["fault", "edge1", "cpu-hog", "start", "--seconds", "5", "--workers", "0"], "--workers must be 1 to 64"),
    (["fault", "edge1", "cpu-hog", "down"], "cpu-hog takes start or restore"),
    (["fault", "edge1", "ssh", "start"], "start is for cpu-hog"),
    (["fault", "edge9", "cpu-hog", "start"], "unknown site"),
])
def test_bad_cpu_hog_commands_are_refused(labdir, capsys, argv, needle):
    # Bug caught: a hog started with no end, zero workers, or an action that means nothing.
    assert lab_main(argv) == 2
    assert needle in capsys.readouterr().err
    assert procs.recorded() == {}
