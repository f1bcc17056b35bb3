# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_yaml_edit: in-place round-trip edits (comments, order, formatting kept) and the atomic, checked file writes."""
from __future__ import annotations

import glob
import os
import stat

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _yaml_edit
from ansible_collections.o2edge.perf.plugins.module_utils.edge._yaml_edit import (
    FileChangedError, YamlEditError, commit, edit, load, plain, read_snapshot)

CONFIG = """\
# edge sites of the lab -- keep this comment
plugin: o2edge.perf.edge_sites   # the plugin
version: 1

defaults:
  ssh: {port: 22, user: root, known_hosts: /x/known_hosts}
sites:
  # the first site
  - name: edge1
    address: 198.18.1.10      # real
    labels: {role: edge, tier: healthy}
  - address: '198.18.102.10'  # stale, quoted
    name: edge2
    services:
      o2ims:
        url: "http://198.18.102.10:8080/o2ims"
      prometheus: {port: 9090}
  - {name: edge3, address: 198.18.3.10}
"""


# --------------------------------------------------------------------------- edit

def test_edit_changes_only_the_value_and_keeps_everything_else():
    out = edit(CONFIG, [(("sites", 1, "address"), "198.18.2.10"),
                        (("sites", 1, "services", "o2ims", "url"), "http://198.18.2.10:8080/o2ims")])
    # Byte for byte the same text but the two values (quoting style kept, comments, order, flow maps).
    assert out == CONFIG.replace("198.18.102.10", "198.18.2.10")
    assert "  - address: '198.18.2.10'  # stale, quoted\n" in out
    assert '        url: "http://198.18.2.10:8080/o2ims"\n' in out
    doc = load(out)
    assert list(doc["sites"][1].keys()) == ["address", "name", "services"]
    assert doc["sites"][1]["address"] == "198.18.2.10"


def test_edit_plain_and_flow_values():
    out = edit(CONFIG, [(("sites", 0, "address"), "198.18.9.9"), (("sites", 2, "address"), "198.18.33.10")])
    assert "    address: 198.18.9.9      # real\n" in out
    assert "  - {name: edge3, address: 198.18.33.10}\n" in out
    assert out.count("\n") == CONFIG.count("\n")
    expected = plain(load(CONFIG))
    expected["sites"][0]["address"] = "198.18.9.9"
    expected["sites"][2]["address"] = "198.18.33.10"
    assert plain(load(out)) == expected


def test_edit_is_not_a_dump():
    # A re-dump would lose the comments and turn the flow mappings into block style.
    out = edit(CONFIG, [(("sites", 0, "address"), "198.18.1.11")])
    assert out.startswith("# edge sites of the lab -- keep this comment\n")
    assert "  # the first site\n" in out
    assert "defaults:\n  ssh: {port: 22, user: root, known_hosts: /x/known_hosts}\n" in out


def test_edit_without_changes_returns_the_text():
    assert edit(CONFIG, []) == CONFIG


@pytest.mark.parametrize("text, path", [
    ("a: &x 1.2.3.4\nsites:\n- address: *x\n", ("sites", 0, "address")),
    ("sites:\n- address: |\n    1.2.3.4\n", ("sites", 0, "address")),
    ("sites:\n- address: !tag 1.2.3.4\n", ("sites", 0, "address")),
])
def test_edit_refuses_what_it_cannot_change_in_place(text, path):
    with pytest.raises(YamlEditError):
        edit(text, [(path, "5.6.7.8")])


def test_edit_refuses_a_missing_place_and_bad_values():
    with pytest.raises(YamlEditError, match=r"sites\[7\]\.address: no such place"):
        edit(CONFIG, [(("sites", 7, "address"), "1.2.3.4")])
    with pytest.raises(YamlEditError, match="one-line string"):
        edit(CONFIG, [(("sites", 0, "address"), "1.2.3.4\nx: 1")])


def test_edit_verifies_the_result(monkeypatch):
    # If the splice produced anything but the intended document, nothing is returned.
    # A splice that loads fine but adds a key the change did not ask for.
    monkeypatch.setattr(_yaml_edit, "_render", lambda new, quote: new + "\n    extra: 1")
    with pytest.raises(YamlEditError, match="would differ from the intended change"):
        edit(CONFIG, [(("sites", 0, "address"), "198.18.9.9")])
    # One that no longer loads.
    monkeypatch.setattr(_yaml_edit, "_render", lambda new, quote: new + " # x\nextra: 1")
    with pytest.raises(YamlEditError, match="would not load|would differ"):
        edit(CONFIG, [(("sites", 0, "address"), "198.18.9.9")])


def test_invalid_yaml_is_named():
    with pytest.raises(YamlEditError, match="config x is not valid YAML"):
        load("a: [1, 2\n", "config x")


# --------------------------------------------------------------------------- files

def _leftovers(folder, name):
    return sorted(os.path.basename(p) for p in glob.glob(os.path.join(str(folder), "*"))
                  + glob.glob(os.path.join(str(folder), ".*")) if os.path.basename(p) != name)


@pytest.fixture
def cfg(tmp_path):
    p = tmp_path / "edge-sites.yml"
    p.write_text(CONFIG)
    os.chmod(str(p), 0o640)
    return p


def test_commit_replaces_atomically_keeps_mode_and_backs_up(cfg, tmp_path):
    snap = read_snapshot(str(cfg))
    new = CONFIG.replace("198.18.102.10", "198.18.2.10")
    backups = commit([(snap, new)], backup=True)
    assert cfg.read_text() == new
    assert stat.S_IMODE(os.stat(str(cfg)).st_mode) == 0o640
    bak = backups[str(cfg)]
    assert bak.startswith(str(cfg) + ".") and bak.endswith(".bak")
    with open(bak) as f:
        assert f.read() == CONFIG
    assert stat.S_IMODE(os.stat(bak).st_mode) == 0o640
    assert _leftovers(tmp_path, "edge-sites.yml") == [os.path.basename(bak)]


def test_commit_without_backup_and_without_change(cfg, tmp_path):
    snap = read_snapshot(str(cfg))
    assert commit([(snap, CONFIG)], backup=True) == {}
    assert commit([(snap, CONFIG + "# more\n")], backup=False) == {str(cfg): None}
    assert _leftovers(tmp_path, "edge-sites.yml") == []


def test_commit_refuses_a_file_changed_since_read(cfg, tmp_path):
    snap = read_snapshot(str(cfg))
    cfg.write_text(CONFIG + "# someone else's edit\n")
    with pytest.raises(FileChangedError, match="changed on disk since it was read"):
        commit([(snap, "new: text\n")], backup=True, field_of={str(cfg): "config"})
    assert cfg.read_text() == CONFIG + "# someone else's edit\n"
    assert _leftovers(tmp_path, "edge-sites.yml") == []


def test_commit_checks_again_right_before_the_replace(cfg, tmp_path):
    """A change made after the first check (while temp and backup are written) is still caught."""
    snap = read_snapshot(str(cfg))

    def meddle():
        cfg.write_text("# changed at the last moment\n")
    with pytest.raises(FileChangedError, match="config .* changed on disk since it was read"):
        commit([(snap, "new: text\n")], backup=True, field_of={str(cfg): "config"}, before_replace=meddle)
    assert cfg.read_text() == "# changed at the last moment\n"
    assert _leftovers(tmp_path, "edge-sites.yml") == []  # no temp file, no backup


def test_commit_refuses_a_read_only_file(cfg, tmp_path):
    os.chmod(str(cfg), 0o444)
    snap = read_snapshot(str(cfg))
    with pytest.raises(FileChangedError, match=r"config .*edge-sites.yml is read-only \(mode 0444\)"):
        commit([(snap, "new: text\n")], field_of={str(cfg): "config"})
    assert cfg.read_text() == CONFIG
    assert stat.S_IMODE(os.stat(str(cfg)).st_mode) == 0o444
    assert _leftovers(tmp_path, "edge-sites.yml") == []


def test_a_failed_replace_leaves_no_temp_file_and_the_original(cfg, tmp_path, monkeypatch):
    snap = read_snapshot(str(cfg))
    real_replace = os.replace

    def failing_replace(src, dst):
        if dst == str(cfg):
            raise OSError(28, "No space left on device")
        return real_replace(src, dst)
    monkeypatch.setattr(_yaml_edit.os, "replace", failing_replace)
    with pytest.raises(FileChangedError, match="cannot be replaced: No space left on device"):
        commit([(snap, "new: text\n")], backup=True)
    assert cfg.read_text() == CONFIG
    assert _leftovers(tmp_path, "edge-sites.yml") == []


def test_a_failed_second_replace_puts_the_first_file_back(tmp_path, monkeypatch):
    a, b = tmp_path / "a.yml", tmp_path / "known_hosts"
    a.write_text("a: 1\n")
    b.write_text("edge1,1.2.3.4 ssh-ed25519 AAAA\n")
    sa, sb = read_snapshot(str(a)), read_snapshot(str(b))
    real_replace = os.replace

    def failing_replace(src, dst):
        if dst == str(b):
            raise OSError(13, "Permission denied")
        return real_replace(src, dst)
    monkeypatch.setattr(_yaml_edit.os, "replace", failing_replace)
    with pytest.raises(FileChangedError):
        commit([(sa, "a: 2\n"), (sb, "edge1,5.6.7.8 ssh-ed25519 AAAA\n")], backup=True)
    assert a.read_text() == "a: 1\n"
    assert b.read_text() == "edge1,1.2.3.4 ssh-ed25519 AAAA\n"
    assert sorted(os.listdir(str(tmp_path))) == ["a.yml", "known_hosts"]


def test_backup_names_do_not_collide(cfg):
    first = _yaml_edit.backup_name(str(cfg), now=0)
    open(first, "w").close()
    second = _yaml_edit.backup_name(str(cfg), now=0)
    assert first == str(cfg) + ".19700101T000000Z.bak"
    assert second != first and second.endswith(".bak")


def test_read_snapshot_errors_name_the_field(tmp_path):
    with pytest.raises(FileChangedError, match="config .*missing.yml does not exist"):
        read_snapshot(str(tmp_path / "missing.yml"), "config")
    (tmp_path / "bin.yml").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(FileChangedError, match="not UTF-8"):
        read_snapshot(str(tmp_path / "bin.yml"), "config")


# --------------------------------------------------------------------------- issue 15: hostile files

def test_a_deep_document_is_refused_before_ruamel_recurses():
    """Bug: a 5,000-deep file ended in a bare RecursionError (ruamel's round-trip composer recurses)."""
    for text in ("a: " + "[" * 5000 + "]" * 5000 + "\n", "a:\n" + "".join("  " * i + "- \n" for i in range(1, 3000))):
        with pytest.raises(YamlEditError, match="config x nests deeper than 32 levels"):
            load(text, "config x")


def test_a_yaml_error_quotes_no_source_text():
    """Bug: ruamel's error text (with a snippet of the source, maybe a secret) was put in the message."""
    with pytest.raises(YamlEditError) as exc:
        load("a: 1\nb: \"hunter2-secret-value\n", "config x")
    assert "hunter2" not in str(exc.value) and "line" in str(exc.value)


def test_a_fifo_is_refused_without_blocking(tmp_path):
    """Bug: read_snapshot opened a named pipe (config or known_hosts) and waited forever for a writer."""
    fifo = str(tmp_path / "known_hosts")
    os.mkfifo(fifo)
    with pytest.raises(FileChangedError, match="named pipe") as exc:
        read_snapshot(fifo, "known_hosts")
    assert exc.value.reason == "type"


def test_a_symlinked_file_is_edited_at_its_target(tmp_path):
    """Bug: the fix replaced the symlink with a regular file and left the real file stale."""
    real_dir = tmp_path / "real"
    real_dir.mkdir()
    real = real_dir / "edge-sites.yml"
    real.write_text(CONFIG)
    link = tmp_path / "edge-sites.yml"
    link.symlink_to(real)
    snap = read_snapshot(str(link), "config")
    backups = commit([(snap, CONFIG.replace("198.18.3.10", "198.18.3.11"))], backup=True)
    assert os.path.islink(str(link)) and os.readlink(str(link)) == str(real)
    assert "198.18.3.11" in real.read_text()
    assert os.path.dirname(backups[str(link)]) == str(real_dir)  # the backup sits next to the target
    assert open(backups[str(link)]).read() == CONFIG
    assert sorted(os.listdir(str(tmp_path))) == ["edge-sites.yml", "real"]


def test_the_new_content_is_fsynced_before_it_replaces_the_file(cfg, monkeypatch):
    """Bug: dropping the fsync of the new content before os.replace passed every test."""
    events = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd):
        events.append(("fsync", os.fstat(fd).st_ino))
        return real_fsync(fd)

    def replace(src, dst):
        events.append(("replace", os.stat(src).st_ino, dst))
        return real_replace(src, dst)
    monkeypatch.setattr(_yaml_edit.os, "fsync", fsync)
    monkeypatch.setattr(_yaml_edit.os, "replace", replace)
    commit([(read_snapshot(str(cfg)), "new: text\n")], backup=False)
    (i, inode), = [(i, e[1]) for i, e in enumerate(events) if e[0] == "replace" and e[2] == str(cfg)]
    assert ("fsync", inode) in events[:i]
    assert os.stat(str(cfg)).st_ino == inode


def test_a_double_failure_keeps_the_backup_cleans_the_temp_and_says_what_changed(tmp_path, monkeypatch):
    """Bugs: deleting every backup when the put-back failed too passed the tests; the put-back's temp file
    was left; and edge_address then said "nothing written" although the first file had changed."""
    a, b = tmp_path / "a.yml", tmp_path / "known_hosts"
    a.write_text("a: 1\n")
    b.write_text("edge1,1.2.3.4 ssh-ed25519 AAAA\n")
    sa, sb = read_snapshot(str(a)), read_snapshot(str(b))
    real_replace = os.replace
    done = []

    def failing_replace(src, dst):
        if dst == str(b) or (dst == str(a) and done):  # the second file, then the put-back of the first
            raise OSError(5, "Input/output error")
        if dst == str(a):
            done.append(dst)
        return real_replace(src, dst)
    monkeypatch.setattr(_yaml_edit.os, "replace", failing_replace)
    with pytest.raises(FileChangedError) as exc:
        commit([(sa, "a: 2\n"), (sb, "edge1,5.6.7.8 ssh-ed25519 AAAA\n")], backup=True, field_of={str(a): "config"})
    assert a.read_text() == "a: 2\n"  # could not be put back
    backup = [n for n in os.listdir(str(tmp_path)) if n.startswith("a.yml.") and n.endswith(".bak")]
    assert len(backup) == 1 and (tmp_path / backup[0]).read_text() == "a: 1\n"
    assert sorted(os.listdir(str(tmp_path))) == sorted(["a.yml", "known_hosts", backup[0]])  # no temp, b's backup gone
    assert exc.value.changed == [str(a)]
    assert "config %s changed on disk; backup at %s" % (a, tmp_path / backup[0]) in str(exc.value)


def test_without_pyyaml_the_depth_is_still_bounded(monkeypatch):
    """Bug: a 5,000-deep file ended in a bare RecursionError; PyYAML is optional, so without it ruamel's
    own event parser (no recursion) bounds the depth before the composer runs."""
    from ansible_collections.o2edge.perf.plugins.module_utils import _yaml_bounds
    monkeypatch.setattr(_yaml_bounds, "HAS_YAML", False)
    with pytest.raises(YamlEditError, match="config x nests deeper than 32 levels"):
        load("a: " + "[" * 5000 + "]" * 5000 + "\n", "config x")
    assert plain(load("a: [1, 2]\n", "config x")) == {"a": [1, 2]}
