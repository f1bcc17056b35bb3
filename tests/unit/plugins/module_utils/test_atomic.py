"""_atomic: the one temp + fsync + replace step, used by every whole-file writer (issue 17 item 2).

Bug caught: whole-file writes were written six times and only one fsynced; the report index,
the sandbox wrappers/Kptfile rewrites and the sshd candidate were renamed into place unsynced, so
a crash could leave an empty file under the final name.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _atomic
from ansible_collections.o2edge.perf.plugins.module_utils.edge import _sshd
from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _fn_sandbox
from ansible_collections.o2edge.perf.plugins.plugin_utils import _report_write


@pytest.fixture
def synced(monkeypatch):
    """The paths of the files fsynced (by name, read from /proc before the descriptor closes)."""
    names = []
    real = os.fsync

    def fsync(fd):
        try:
            names.append(os.readlink("/proc/self/fd/%d" % fd))
        except OSError:
            names.append(None)
        return real(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    return names


def _write_report(path):
    _report_write.write_atomic(path, "index\n")


def _write_wrapper(path):
    _fn_sandbox._write_atomic(path, "#!/bin/sh\nexec true\n", 0o700)


def _write_sshd_candidate(path):
    tmp = _sshd._temp_beside(path, "Port 22\n", 0o600)
    os.replace(tmp, path)


@pytest.mark.parametrize("writer", [_write_report, _write_wrapper, _write_sshd_candidate],
                         ids=["report index", "sandbox wrapper", "sshd candidate"])
def test_every_whole_file_writer_fsyncs_before_the_rename(tmp_path, synced, writer):
    target = tmp_path / "file"
    target.write_text("old\n")
    writer(str(target))
    assert target.read_text() != "old\n"
    temps = [n for n in synced if n and os.path.dirname(n) == str(tmp_path) and n.endswith(".tmp")]
    assert temps, "no temporary file beside %s was fsynced: %r" % (target, synced)
    assert sorted(os.listdir(str(tmp_path))) == ["file"]


def test_owner_mode_and_folder_sync(tmp_path, synced):
    """The options the special writers (_yaml_edit.commit keeps mode and owner) need are in the one helper."""
    path = tmp_path / "f"
    st = os.stat(str(tmp_path))
    _atomic.atomic_write(str(path), b"x", mode=0o600, owner=(st.st_uid, st.st_gid), sync_dir=True)
    assert path.read_bytes() == b"x" and (os.stat(str(path)).st_mode & 0o777) == 0o600
    assert str(tmp_path) in synced


def test_failed_replace_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "f"
    path.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic.os, "replace", refuse)
    with pytest.raises(OSError):
        _atomic.atomic_write(str(path), b"new", sync_dir=True)
    assert path.read_bytes() == b"old" and os.listdir(str(tmp_path)) == ["f"]


def test_atomic_write_leaves_no_temp_file(tmp_path):
    """(moved from test_image_store: the OCI store's index.json write is this helper)"""
    target = tmp_path / "index.json"
    _atomic.atomic_write(str(target), b"{}")
    assert target.read_bytes() == b"{}" and os.listdir(str(tmp_path)) == ["index.json"]
    assert (os.stat(str(target)).st_mode & 0o777) == 0o644


@pytest.mark.parametrize("leftover", ["file", "symlink"])
def test_fixed_temp_name_replaces_a_leftover_and_is_fsynced(tmp_path, synced, leftover):
    """Bug caught: a leftover of a killed run under the fixed temporary name (kpt write-back's
    ``.NAME.o2edge-tmp``) blocking the next write, surviving it, or written through when it is a symlink."""
    outside = tmp_path / "outside"
    outside.write_bytes(b"not ours")
    tmp = tmp_path / ".f.o2-tmp"
    if leftover == "file":
        tmp.write_bytes(b"half written")
    else:
        os.symlink(str(outside), str(tmp))
    _atomic.atomic_write(str(tmp_path / "f"), b"new", mode=0o640, tmp_name=".f.o2-tmp")
    assert (tmp_path / "f").read_bytes() == b"new" and (os.stat(str(tmp_path / "f")).st_mode & 0o777) == 0o640
    assert sorted(os.listdir(str(tmp_path))) == ["f", "outside"] and outside.read_bytes() == b"not ours"
    assert str(tmp) in synced


def test_atomic_symlink_replaces_in_one_rename_and_cleans_up(tmp_path, monkeypatch):
    """Bug caught: the link removed before the new one exists (a reader finds none), or a temporary link left
    behind, after a success or a failed rename."""
    link = tmp_path / "latest"
    _atomic.atomic_symlink(str(link), "run1")
    (tmp_path / ".latest.x").symlink_to("stale")
    _atomic.atomic_symlink(str(link), "run2", tmp_name=".latest.x")
    assert os.readlink(str(link)) == "run2" and sorted(os.listdir(str(tmp_path))) == ["latest"]

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_atomic.os, "replace", refuse)
    with pytest.raises(OSError):
        _atomic.atomic_symlink(str(link), "run3")
    assert os.readlink(str(link)) == "run2" and sorted(os.listdir(str(tmp_path))) == ["latest"]


def test_replace_temp_is_the_second_half_of_temp_beside(tmp_path, synced, monkeypatch):
    """Bugs: the folder not fsynced when asked (or fsynced when not), or a temporary file left behind when the
    rename fails (the callers that validate or back up between the halves rely on it)."""
    path = tmp_path / "f"
    path.write_bytes(b"old")
    _atomic.replace_temp(_atomic.temp_beside(str(path), b"one"), str(path))
    assert path.read_bytes() == b"one" and str(tmp_path) not in synced
    _atomic.replace_temp(_atomic.temp_beside(str(path), b"two"), str(path), sync_dir=True)
    assert path.read_bytes() == b"two" and str(tmp_path) in synced
    tmp = _atomic.temp_beside(str(path), b"three")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")
    monkeypatch.setattr(_atomic.os, "replace", refuse)
    with pytest.raises(OSError):
        _atomic.replace_temp(tmp, str(path))
    assert path.read_bytes() == b"two" and os.listdir(str(tmp_path)) == ["f"]
