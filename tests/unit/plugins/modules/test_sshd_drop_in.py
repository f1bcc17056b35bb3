# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd_drop_in in-process with a fake sshd that records what it was asked to validate (issue 15 class 7: the
module had no unit test, so swapping the block and drop-in modes' validation, or skipping it, went unnoticed).

The fake sshd reads the ``-f`` file and the files its Include lines name (as sshd does), refuses any
configuration that holds the word ``Refused`` (exit 255, a message on stderr), prints ``-T`` output (the
first value of each keyword wins), and appends each call (argv, the -f path, and the text of the files it
read) to a JSON-lines log."""
from __future__ import annotations

import json
import os
import stat
import sys

import pytest

from ansible_collections.o2edge.perf.plugins.modules import sshd_drop_in
from tests.unit.module_runner import run_module

FAKE_SSHD = r'''#!%s
import glob, json, os, sys
args = sys.argv[1:]
path = args[args.index("-f") + 1]
read = {}
def load(p):
    with open(p) as f:
        text = f.read()
    read[p] = text
    lines = []
    for line in text.splitlines():
        words = line.split()
        if words and words[0].lower() == "include":
            for pattern in words[1:]:
                pattern = pattern if pattern.startswith("/") else os.path.join(os.path.dirname(path), pattern)
                for inc in sorted(glob.glob(pattern)):
                    lines += load(inc)
        elif words and not words[0].startswith("#"):
            lines.append(words)
    return lines
lines = load(path)
with open(os.environ["FAKE_SSHD_LOG"], "a") as log:
    log.write(json.dumps({"argv": args, "f": path, "read": read}) + "\n")
if "-t" in args:
    if any("Refused" in w for words in lines for w in words):
        sys.stderr.write("%%s line 1: Bad configuration option: Refused\n" %% path)
        sys.exit(255)
    sys.exit(0)
seen = {}
for words in lines:
    seen.setdefault(words[0].lower(), " ".join(words[1:]))
seen.setdefault("pidfile", "/run/sshd.pid")
for k, v in seen.items():
    print("%%s %%s" %% (k, v.lower()))
''' % sys.executable

SETTINGS = {"ClientAliveInterval": 15, "UseDNS": False, "MaxStartups": "50:30:150"}
BLOCK_BEGIN = "# BEGIN o2edge.perf ssh_tuning (managed: do not edit by hand)"


@pytest.fixture
def sshd(tmp_path, monkeypatch):
    fake = tmp_path / "fake-sshd"
    fake.write_text(FAKE_SSHD)
    fake.chmod(0o755)
    log = tmp_path / "sshd.log"
    monkeypatch.setenv("FAKE_SSHD_LOG", str(log))
    etc = tmp_path / "etc"
    (etc / "sshd_config.d").mkdir(parents=True)

    class Sshd(object):
        path = str(fake)
        main = etc / "sshd_config"
        drop_in = etc / "sshd_config.d" / "50-o2edge-tuning.conf"
        state = tmp_path / "state"

        @staticmethod
        def calls(flag="-t"):
            if not log.exists():
                return []
            return [c for c in map(json.loads, log.read_text().splitlines()) if flag in c["argv"]]

        def run(self, check_mode=False, diff=False, **more):
            args = dict(settings=SETTINGS, main_config=str(self.main), drop_in=str(self.drop_in),
                        backup_dir=str(self.state), sshd=self.path)
            args.update(more)
            return run_module(sshd_drop_in, args, check_mode=check_mode, diff=diff)

    return Sshd()


MAIN_PLAIN = "Port 22\nPasswordAuthentication no\n"
MAIN_INCLUDE = "Include sshd_config.d/*.conf\nPort 22\n"


def leftovers(directory):
    return sorted(n for n in os.listdir(str(directory)) if n.startswith(".") or n.endswith(".tmp"))


def test_block_mode_validates_a_candidate_holding_the_block_before_it_moves_in(sshd):
    # Bug: block mode validating the main config (the drop-in wiring) checks the OLD file, not the new one.
    sshd.main.write_text(MAIN_PLAIN)
    result = sshd.run()
    assert result["changed"] and result["kind"] == "block" and result["validated"], result
    [check] = sshd.calls("-t")
    assert check["f"] != str(sshd.main)
    assert os.path.dirname(check["f"]) == str(sshd.main.parent)
    assert check["read"][check["f"]].startswith(BLOCK_BEGIN)
    assert "MaxStartups 50:30:150" in check["read"][check["f"]]
    text = sshd.main.read_text()
    assert text.startswith(BLOCK_BEGIN) and text.endswith(MAIN_PLAIN)
    assert (sshd.state / "sshd_config.orig").read_text() == MAIN_PLAIN
    assert result["backup"] == str(sshd.state / "sshd_config.orig") and result["backup_absent"] is False
    assert leftovers(sshd.main.parent) == []
    assert not sshd.drop_in.exists()
    assert result["effective"]["maxstartups"] == ["50:30:150"] and result["overridden"] == []


def test_block_mode_refused_by_sshd_leaves_the_main_config_untouched(sshd):
    # Bug: skipping the validation (or validating after the move) would leave a config sshd refuses in place.
    sshd.main.write_text(MAIN_PLAIN)
    before = sshd.main.stat()
    result = sshd.run(settings=dict(SETTINGS, Banner="Refused"))
    assert result["failed"] and not result["changed"]
    assert "sshd -t refuses" in result["msg"] and "Bad configuration option" in result["msg"]
    assert sshd.main.read_text() == MAIN_PLAIN
    assert sshd.main.stat().st_ino == before.st_ino
    assert leftovers(sshd.main.parent) == []
    assert len(sshd.calls("-t")) == 1


def test_drop_in_mode_validates_the_main_config_with_the_new_drop_in_in_place(sshd):
    # Bug: drop-in mode validating the drop-in alone (-f drop-in) misses how the main config reads it.
    sshd.main.write_text(MAIN_INCLUDE)
    result = sshd.run()
    assert result["changed"] and result["kind"] == "drop_in" and result["validated"], result
    [check] = sshd.calls("-t")
    assert check["f"] == str(sshd.main)
    assert "MaxStartups 50:30:150" in check["read"][str(sshd.drop_in)]
    assert sshd.main.read_text() == MAIN_INCLUDE
    assert sshd.drop_in.read_text().startswith("# o2edge.perf ssh_tuning (managed: do not edit by hand)\n")
    assert stat.S_IMODE(sshd.drop_in.stat().st_mode) == 0o644
    assert result["backup_absent"] is True and (sshd.state / "50-o2edge-tuning.conf.absent").exists()
    assert leftovers(sshd.drop_in.parent) == []


def test_drop_in_refused_is_removed_again_when_there_was_none(sshd):
    sshd.main.write_text(MAIN_INCLUDE)
    result = sshd.run(settings=dict(SETTINGS, Banner="Refused"))
    assert result["failed"] and "removed again" in result["msg"] and "Bad configuration option" in result["msg"]
    assert not sshd.drop_in.exists()
    assert leftovers(sshd.drop_in.parent) == []


def test_drop_in_refused_puts_the_previous_one_back(sshd):
    sshd.main.write_text(MAIN_INCLUDE)
    sshd.drop_in.write_text("UseDNS no\n")
    sshd.drop_in.chmod(0o600)
    result = sshd.run(settings=dict(SETTINGS, Banner="Refused"))
    assert result["failed"] and "put back as it was" in result["msg"]
    assert sshd.drop_in.read_text() == "UseDNS no\n"
    assert stat.S_IMODE(sshd.drop_in.stat().st_mode) == 0o600
    assert (sshd.state / "50-o2edge-tuning.conf.orig").read_text() == "UseDNS no\n"


def test_mode_drop_in_without_include_fails_by_name_and_block_mode_ignores_the_include(sshd):
    sshd.main.write_text(MAIN_PLAIN)
    result = sshd.run(mode="drop_in")
    assert result["failed"] and "has no Include line" in result["msg"] and sshd.calls("-t") == []
    sshd.main.write_text(MAIN_INCLUDE)
    result = sshd.run(mode="block")
    assert result["kind"] == "block" and sshd.main.read_text().startswith(BLOCK_BEGIN)
    assert not sshd.drop_in.exists()


def test_check_mode_block_validates_a_candidate_outside_the_sshd_folder_and_writes_nothing(sshd):
    sshd.main.write_text(MAIN_PLAIN)
    result = sshd.run(check_mode=True, diff=True)
    assert result["changed"] and result["validated"] and "backup" not in result
    [check] = sshd.calls("-t")
    assert os.path.dirname(check["f"]) != str(sshd.main.parent)
    assert not os.path.exists(check["f"])
    assert check["read"][check["f"]].startswith(BLOCK_BEGIN)
    assert sshd.main.read_text() == MAIN_PLAIN and not sshd.state.exists()
    assert result["diff"]["before"] == MAIN_PLAIN and result["diff"]["after"].startswith(BLOCK_BEGIN)
    assert result["diff"]["after"].endswith(MAIN_PLAIN)
    assert result["overridden"] == []


def test_check_mode_block_refused_fails_and_writes_nothing(sshd):
    sshd.main.write_text(MAIN_PLAIN)
    result = sshd.run(check_mode=True, settings=dict(SETTINGS, Banner="Refused"))
    assert result["failed"] and "check mode, nothing written" in result["msg"]
    assert sshd.main.read_text() == MAIN_PLAIN


def test_check_mode_drop_in_writes_nothing_and_does_not_claim_validation(sshd):
    sshd.main.write_text(MAIN_INCLUDE)
    result = sshd.run(check_mode=True, diff=True)
    assert result["changed"] and result["kind"] == "drop_in" and not result["validated"]
    assert sshd.calls("-t") == [] and not sshd.drop_in.exists() and not sshd.state.exists()
    assert result["diff"]["before"] == "" and "ClientAliveInterval 15\n" in result["diff"]["after"]


def test_second_run_changes_nothing_and_validates_nothing(sshd):
    sshd.main.write_text(MAIN_PLAIN)
    assert sshd.run()["changed"]
    text = sshd.main.read_text()
    result = sshd.run(diff=True)
    assert not result["changed"] and "diff" not in result and "backup" not in result
    assert len(sshd.calls("-t")) == 1 and sshd.main.read_text() == text


def test_overridden_setting_is_reported(sshd):
    sshd.main.write_text(MAIN_INCLUDE)
    (sshd.drop_in.parent / "10-first.conf").write_text("UseDNS yes\n")
    result = sshd.run()
    assert result["overridden"] == [{"keyword": "UseDNS", "wanted": "no", "effective": "yes"}]


def test_bad_settings_and_a_missing_main_config_fail_by_name(sshd):
    result = sshd.run()
    assert result["failed"] and "the main sshd config %s does not exist" % sshd.main in result["msg"]
    sshd.main.write_text(MAIN_PLAIN)
    result = sshd.run(settings={"Match": "all"})
    assert result["failed"] and "Match is not allowed" in result["msg"]
    assert sshd.main.read_text() == MAIN_PLAIN and sshd.calls("-t") == []


@pytest.mark.parametrize("which", ["main", "drop_in"])
def test_a_fifo_for_the_main_config_or_the_drop_in_is_refused_without_blocking(sshd, which):
    # Bug: plain open() of a FIFO waited for a writer forever.
    if which == "main":
        os.mkfifo(str(sshd.main))
    else:
        sshd.main.write_text(MAIN_INCLUDE)
        os.mkfifo(str(sshd.drop_in))
    result = sshd.run()
    assert result["failed"] and "is a named pipe (FIFO), not a regular file" in result["msg"]
    assert sshd.calls("-t") == []
