# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""edge/_sshd.py: tests written for the survivors of its whole mutation run.

Each test is named for the bug it catches: an sshd config, drop-in or ``sshd -T`` output the code must
read, render or refuse, with the exact text or message. No sshd is run: validation is a function that
answers as ``sshd -t`` would.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _sshd

DROP = "/etc/ssh/sshd_config.d/50-o2edge-tuning.conf"
MiB = 1 << 20


def _refused(func, *args):
    with pytest.raises(_sshd.SshdConfigError) as err:
        func(*args)
    return str(err.value)


# --- time values: d and w units (sshd's LoginGraceTime / ClientAliveInterval format) -------------

@pytest.mark.parametrize("text, secs", [
    ("1d", 86400), ("2D", 172800), ("1w", 604800), ("2W", 1209600), ("1w1d1h1m1s", 694861),
])
def test_day_and_week_units_count_86400_and_604800_seconds(text, secs):
    assert _sshd.seconds(text) == secs


def test_a_grace_time_in_days_is_not_reported_overridden_by_its_seconds():
    eff = _sshd.parse_sshd_T("logingracetime 86400\nclientaliveinterval 604800\n")
    assert _sshd.overridden(["LoginGraceTime 1d", "ClientAliveInterval 1w"], eff) == []


# --- rendering: yes for True, the refused values and their messages ------------------------------

def test_true_renders_as_yes_and_false_as_no():
    assert _sshd.render_settings({"UseDNS": True, "X11Forwarding": False, "Ciphers": [True, False]}) == [
        "UseDNS yes", "X11Forwarding no", "Ciphers yes no"]


@pytest.mark.parametrize("settings, message", [
    ({"AllowUsers": []}, "AllowUsers: an empty list is not a value"),
    ({"AllowUsers": ["root", " "]}, "AllowUsers: the value is empty"),
    ({"Banner": "  "}, "Banner: the value is empty"),
    ({"Banner": "a\nPermitRootLogin yes"}, "Banner: the value 'a\\nPermitRootLogin yes' holds a line break or a '#'"),
    ({"Banner": "a\rPermitRootLogin yes"}, "Banner: the value 'a\\rPermitRootLogin yes' holds a line break or a '#'"),
    ({"AllowUsers": ["root", "ops#x"]}, "AllowUsers: the value 'ops#x' holds a line break or a '#'"),
    ({"Banner": "/etc/issue # note"}, "Banner: the value '/etc/issue # note' holds a line break or a '#'"),
    ({}, "settings must be a non-empty mapping of sshd keyword to value"),
    (["UseDNS", "no"], "settings must be a non-empty mapping of sshd keyword to value"),
    ({"Use DNS": "no"}, "'Use DNS' is not an sshd keyword (letters and digits only)"),
    ({"UseDNS": "no", "usedns": "yes"}, "usedns is given twice (as UseDNS and usedns; sshd keywords are case-insensitive)"),
    ({"Match": "User root"}, "Match is not allowed here (the settings must apply to every connection)"),
    ({"include": "/etc/x"}, "include is not allowed here (the settings must apply to every connection)"),
])
def test_a_bad_setting_is_refused_with_its_whole_message(settings, message):
    assert _refused(_sshd.render_settings, settings) == message


# --- the managed block: its literal markers, the first END, the missing END ----------------------

def test_the_block_markers_are_written_as_documented():
    assert _sshd.with_block("Port 22\n", "o2edge", ["UseDNS no"]) == (
        "# BEGIN o2edge (managed: do not edit by hand)\nUseDNS no\n# END o2edge\nPort 22\n")


def test_a_hand_written_block_is_found_by_its_end_line():
    text = "Port 22\n# BEGIN o2edge (managed: do not edit by hand)\nUseDNS yes\n  # END o2edge  \nPidFile /run/x\n"
    assert _sshd.find_block(text, "o2edge") == (1, 3)
    assert _sshd.with_block(text, "o2edge", ["UseDNS no"]) == (
        "Port 22\n# BEGIN o2edge (managed: do not edit by hand)\nUseDNS no\n# END o2edge\nPidFile /run/x\n")


def test_the_block_ends_at_the_first_end_marker_and_a_stray_one_below_is_kept():
    begin, end = _sshd.markers("o2edge")
    text = "%s\nUseDNS yes\n%s\nPort 22\n%s\nPidFile /run/x\n" % (begin, end, end)
    assert _sshd.find_block(text, "o2edge") == (0, 2)
    assert _sshd.with_block(text, "o2edge", ["UseDNS no"]) == "%s\nUseDNS no\n%s\nPort 22\n%s\nPidFile /run/x\n" % (
        begin, end, end)


def test_a_begin_without_end_is_refused_naming_both_markers():
    message = _refused(_sshd.find_block, "# BEGIN o2edge (managed: do not edit by hand)\nUseDNS no\n", "o2edge")
    assert message == ("the managed block's begin marker '# BEGIN o2edge (managed: do not edit by hand)' "
                       "has no end marker '# END o2edge'")


# --- Include lines: blank and comment lines, other keywords, the = form, ~, several patterns -----

@pytest.mark.parametrize("main", [
    "Port 22\n\nInclude /etc/ssh/sshd_config.d/*.conf\n",
    "Port 22\n   \nInclude /etc/ssh/sshd_config.d/*.conf\n",
    "# the distribution's drop-ins\nInclude /etc/ssh/sshd_config.d/*.conf\n",
    "Port 22\nUsePAM yes\nInclude /etc/ssh/sshd_config.d/*.conf\n",
    "Banner \"/etc/issue\nInclude /etc/ssh/sshd_config.d/*.conf\n",
    "=\nInclude /etc/ssh/sshd_config.d/*.conf\n",
    "Include=/etc/ssh/sshd_config.d/*.conf\n",
    "Include=sshd_config.d/*.conf\n",
    "Include /etc/ssh/other.d/*.conf\nInclude /etc/ssh/sshd_config.d/*.conf\n",
    "Include ~/sshd.conf /etc/ssh/sshd_config.d/*.conf\n",
])
def test_an_include_below_blank_comment_unparsable_or_other_lines_counts(main):
    assert _sshd.included(main, DROP) is True
    assert _sshd.choose_mode("auto", main, DROP) == "drop_in"


@pytest.mark.parametrize("main, patterns", [
    ("Include=/etc/ssh/conf=d/*.conf\n", ["/etc/ssh/conf=d/*.conf"]),
    ("Include /etc/ssh/conf=d/*.conf\n", ["/etc/ssh/conf=d/*.conf"]),
    ("Include=a=b.conf c.conf\n", ["/etc/ssh/a=b.conf", "/etc/ssh/c.conf"]),
    ("Include ~/a.conf ~root/b.conf /etc/ssh/c.conf d.conf\n", ["/etc/ssh/c.conf", "/etc/ssh/d.conf"]),
    ("#Include /etc/ssh/a.conf\n# Include /etc/ssh/b.conf\nInclude /etc/ssh/c.conf\n", ["/etc/ssh/c.conf"]),
])
def test_include_patterns_keep_an_equals_sign_inside_a_path_and_skip_tilde(main, patterns):
    assert _sshd.include_patterns(main) == patterns


def test_a_drop_in_under_a_folder_with_an_equals_sign_is_included_by_the_equals_form():
    assert _sshd.included("Include=/etc/ssh/conf=d/*.conf\n", "/etc/ssh/conf=d/50.conf") is True


def test_a_hidden_drop_in_is_included_by_a_dot_pattern():
    hidden = "/etc/ssh/sshd_config.d/.50-o2edge.conf"
    assert _sshd.included("Include /etc/ssh/sshd_config.d/.*.conf\n", hidden) is True
    assert _sshd.included("Include /etc/ssh/sshd_config.d/*\nInclude /etc/ssh/sshd_config.d/.50-o2edge.conf\n",
                          hidden) is True
    assert _sshd.included("Include /etc/ssh/sshd_config.d/*\n", hidden) is False


# --- choose_mode ----------------------------------------------------------------------------------

def test_block_mode_does_not_need_an_include_and_drop_in_mode_accepts_one():
    assert _sshd.choose_mode("block", "Port 22\n", DROP) == "block"
    assert _sshd.choose_mode("drop_in", "Include /etc/ssh/sshd_config.d/*.conf\n", DROP) == "drop_in"


def test_choose_mode_messages_are_whole():
    assert _refused(_sshd.choose_mode, "both", "", DROP) == "mode must be auto, drop_in or block, not 'both'"
    assert _refused(_sshd.choose_mode, "drop_in", "Port 22\n", DROP) == (
        "mode drop_in: the main config has no Include line (outside Match) that names %s" % DROP)


# --- sshd -T output and overridden settings --------------------------------------------------------

def test_sshd_T_keeps_a_value_of_several_words_whole_and_a_bare_keyword_as_empty():
    out = "authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\nforcecommand\nsubsystem sftp internal-sftp -l INFO\n"
    assert _sshd.parse_sshd_T(out) == {"authorizedkeysfile": [".ssh/authorized_keys .ssh/authorized_keys2"],
                                       "forcecommand": [""], "subsystem": ["sftp internal-sftp -l INFO"]}


def test_a_list_setting_that_took_effect_is_not_reported_overridden():
    lines = _sshd.render_settings({"AuthorizedKeysFile": [".ssh/authorized_keys", ".ssh/authorized_keys2"]})
    eff = _sshd.parse_sshd_T("authorizedkeysfile .ssh/authorized_keys .ssh/authorized_keys2\n")
    assert _sshd.overridden(lines, eff) == []
    eff = _sshd.parse_sshd_T("authorizedkeysfile .ssh/authorized_keys\n")
    assert _sshd.overridden(lines, eff) == [{"keyword": "AuthorizedKeysFile",
                                             "wanted": ".ssh/authorized_keys .ssh/authorized_keys2",
                                             "effective": ".ssh/authorized_keys"}]


def test_a_keyword_sshd_T_prints_twice_or_not_at_all_does_not_stop_the_later_ones_being_judged():
    eff = _sshd.parse_sshd_T("allowusers a\nallowusers b\nusedns yes\n")
    lines = ["AllowUsers c", "Banner /etc/issue", "UseDNS no"]
    assert _sshd.overridden(lines, eff) == [{"keyword": "UseDNS", "wanted": "no", "effective": "yes"}]


# --- reading: the 1 MiB bound and the label of the messages ---------------------------------------

def _sparse(path, size):
    with open(path, "wb") as f:
        f.truncate(size)
    return str(path)


def test_a_config_of_exactly_1_mib_is_read_and_one_byte_more_is_refused_as_sshd_config(tmp_path):
    assert len(_sshd.read_text(_sparse(tmp_path / "ok", MiB))) == MiB
    big = _sparse(tmp_path / "big", MiB + 1)
    assert _refused(_sshd.read_text, big) == "sshd config %s is 1048577 bytes, over the limit of 1048576; not read" % big
    assert _refused(_sshd.read_text, big, "the drop-in") == (
        "the drop-in %s is 1048577 bytes, over the limit of 1048576; not read" % big)


def test_a_backup_of_a_config_over_1_mib_is_refused_and_nothing_is_left(tmp_path):
    big = _sparse(tmp_path / "sshd_config", MiB + 1)
    state = tmp_path / "state"
    assert _refused(_sshd.take_backup, str(state), big) == (
        "sshd config %s is 1048577 bytes, over the limit of 1048576; not read" % big)
    assert os.listdir(state) == []


def test_a_fifo_in_place_of_the_config_is_refused_as_sshd_config(tmp_path):
    fifo = str(tmp_path / "sshd_config")
    os.mkfifo(fifo)
    assert _refused(_sshd.take_backup, str(tmp_path / "state"), fifo) == (
        "sshd config %s is a named pipe (FIFO), not a regular file; not read" % fifo)
    message = _refused(_sshd.write_validated, fifo, "Port 22\n", fifo, lambda p: (True, ""), str(tmp_path / "st"), True)
    assert message == "sshd config %s is a named pipe (FIFO), not a regular file; not read" % fifo


# --- backups and written files: modes, the .absent note, surrogate-escaped bytes ------------------

@pytest.mark.parametrize("mode", [0o600, 0o644, 0o640], ids=oct)
def test_the_backup_keeps_the_mode_of_the_file_it_copies(tmp_path, mode):
    main = tmp_path / "sshd_config"
    main.write_text("Port 22\n")
    os.chmod(main, mode)
    backup, absent = _sshd.take_backup(str(tmp_path / "state"), str(main))
    assert not absent and backup == str(tmp_path / "state" / "sshd_config.orig")
    assert os.stat(backup).st_mode & 0o7777 == mode
    assert open(backup).read() == "Port 22\n"


def test_the_absent_note_says_which_file_did_not_exist(tmp_path):
    target = str(tmp_path / "sshd_config.d" / "50.conf")
    backup, absent = _sshd.take_backup(str(tmp_path / "state"), target)
    assert absent and backup == str(tmp_path / "state" / "50.conf.absent")
    with open(backup) as f:
        assert f.read() == "%s did not exist before the change\n" % target


def test_a_new_drop_in_is_0644_in_a_new_0755_folder(tmp_path):
    main = tmp_path / "sshd_config"
    main.write_text("Include %s/sshd_config.d/*.conf\n" % tmp_path)
    drop = tmp_path / "sshd_config.d" / "50.conf"
    old = os.umask(0o022)
    try:
        _sshd.write_validated(str(drop), "UseDNS no\n", str(main), lambda p: (True, ""), str(tmp_path / "st"), False)
    finally:
        os.umask(old)
    assert drop.read_text() == "UseDNS no\n"
    assert os.stat(drop).st_mode & 0o7777 == 0o644
    assert os.stat(drop.parent).st_mode & 0o7777 == 0o755


def test_a_value_naming_a_file_by_non_utf8_bytes_is_written_as_those_bytes(tmp_path):
    main = tmp_path / "sshd_config"
    main.write_text("Port 22\n")
    banner = os.fsdecode(b"/etc/issue.caf\xe9")  # how Python spells a non-UTF-8 file name
    new = _sshd.with_block("Port 22\n", "o2edge", ["Banner %s" % banner])  # render_settings refuses it (below)
    _sshd.write_validated(str(main), new, str(main), lambda p: (True, ""), str(tmp_path / "st"), True)
    assert main.read_bytes() == (b"# BEGIN o2edge (managed: do not edit by hand)\nBanner /etc/issue.caf\xe9\n"
                                 b"# END o2edge\nPort 22\n")


def test_a_drop_in_written_from_a_setting_is_read_back_on_the_next_run(tmp_path):
    """A value the next run could not read back (a byte that is not UTF-8, as os.fsdecode gives for a file name)
    is refused up front, naming the keyword; a UTF-8 one is written and read back the same."""
    main = tmp_path / "sshd_config"
    main.write_text("Include %s/sshd_config.d/*.conf\n" % tmp_path)
    drop = tmp_path / "sshd_config.d" / "50.conf"
    with pytest.raises(_sshd.SshdConfigError, match=r"^Banner: the value is not UTF-8 text \(sshd_config is read as UTF-8\)$"):
        _sshd.render_settings({"Banner": os.fsdecode(b"/etc/issue.caf\xe9")})
    lines = _sshd.render_settings({"Banner": "/etc/issue.caf\u00e9"})
    text = _sshd.drop_in_text("o2edge", lines)
    _sshd.write_validated(str(drop), text, str(main), lambda p: (True, ""), str(tmp_path / "st"), False)
    assert _sshd.read_text(str(drop), "the drop-in") == text


# --- the refused drop-in: the whole message in both cases ----------------------------------------

def _refuse_bogus(drop):
    def validate(path):
        text = drop.read_text() if drop.exists() else ""
        return ("Bogus" not in text, "line 1: Bad configuration option: Bogus")
    return validate


@pytest.mark.parametrize("before, done", [(None, "removed again"), ("UseDNS no\n", "put back as it was")])
def test_a_refused_drop_in_message_says_what_was_done_and_what_sshd_said(tmp_path, before, done):
    main = tmp_path / "sshd_config"
    main.write_text("Include %s/sshd_config.d/*.conf\n" % tmp_path)
    drop = tmp_path / "sshd_config.d" / "50.conf"
    if before is not None:
        drop.parent.mkdir()
        drop.write_text(before)
    message = _refused(_sshd.write_validated, str(drop), "Bogus yes\n", str(main), _refuse_bogus(drop),
                       str(tmp_path / "st"), False)
    assert message == ("sshd -t refuses %s with the new drop-in %s, so the drop-in was %s: "
                       "line 1: Bad configuration option: Bogus" % (main, drop, done))
    assert (drop.read_text() if drop.exists() else None) == before
