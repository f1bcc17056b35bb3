"""The one file reader: type checked before open and on the descriptor, size bounded, content never quoted."""
import os
import threading

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _safe_read as sr


def test_reads_a_regular_file_whole(tmp_path):
    path = tmp_path / "a.yml"
    path.write_bytes(b"x" * 100)
    assert sr.read_bytes(str(path), 100) == b"x" * 100


def test_a_file_one_byte_over_the_bound_is_refused_without_its_content(tmp_path):
    path = tmp_path / "a.yml"
    path.write_bytes(b"secret" * 20 + b"!")
    with pytest.raises(sr.FileReadError) as info:
        sr.read_bytes(str(path), 120, what="SLO file")
    assert info.value.reason == "size"
    assert "secret" not in str(info.value)
    assert str(path) in str(info.value) and "SLO file" in str(info.value)


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    done = []

    def read():
        try:
            sr.read_bytes(str(fifo), 1000)
        except sr.FileReadError as exc:
            done.append(exc)

    thread = threading.Thread(target=read, daemon=True)
    thread.start()
    thread.join(5)
    assert done, "reading a FIFO blocked"
    assert done[0].reason == "type" and "named pipe (FIFO)" in str(done[0])


def test_a_symlink_to_a_fifo_is_refused_too(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    link = tmp_path / "link"
    link.symlink_to(fifo)
    with pytest.raises(sr.FileReadError, match="named pipe"):
        sr.read_bytes(str(link), 1000)


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/null"])
def test_character_devices_are_refused(device):
    with pytest.raises(sr.FileReadError, match="character device"):
        sr.read_bytes(device, 1000)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(sr.FileReadError, match="is a directory"):
        sr.read_text(str(tmp_path), 1000)


def test_a_proc_file_that_reports_size_zero_is_still_bounded():
    with pytest.raises(sr.FileReadError) as info:
        sr.read_bytes("/proc/self/maps", 10)
    assert info.value.reason == "size"


def test_symlinks_are_followed_only_when_allowed(tmp_path):
    target = tmp_path / "real"
    target.write_text("a: 1\n")
    link = tmp_path / "link"
    link.symlink_to(target)
    assert sr.read_text(str(link), 100) == "a: 1\n"
    with pytest.raises(sr.FileReadError) as info:
        sr.read_text(str(link), 100, follow_links=False)
    assert info.value.reason == "link"


def test_a_missing_file_is_named_as_missing(tmp_path):
    with pytest.raises(sr.FileReadError) as info:
        sr.read_bytes(str(tmp_path / "nope"), 10, what="known_hosts")
    assert info.value.reason == "missing" and "known_hosts" in str(info.value)


def test_not_utf8_names_the_offset_not_the_bytes(tmp_path):
    path = tmp_path / "bin"
    path.write_bytes(b"abc\xff\xfe")
    with pytest.raises(sr.FileReadError, match="byte offset 3"):
        sr.read_text(str(path), 100)


def test_real_target_of_a_symlink_is_the_final_file(tmp_path):
    target = tmp_path / "real.yml"
    target.write_text("a: 1\n")
    mid = tmp_path / "mid.yml"
    mid.symlink_to(target)
    link = tmp_path / "link.yml"
    link.symlink_to(mid)
    assert sr.real_target(str(link)) == str(target)
    assert sr.real_target(str(target)) == str(target)


def test_real_target_refuses_a_link_to_a_fifo(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    link = tmp_path / "link"
    link.symlink_to(fifo)
    with pytest.raises(sr.FileReadError, match="FIFO"):
        sr.real_target(str(link))


def test_check_regular_does_not_open(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(str(fifo))
    with pytest.raises(sr.FileReadError, match="FIFO"):
        sr.check_regular(str(fifo), "known_hosts")
    plain = tmp_path / "f"
    plain.write_text("x")
    assert sr.check_regular(str(plain)).st_size == 1
