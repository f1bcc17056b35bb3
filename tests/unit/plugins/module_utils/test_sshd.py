# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import os

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.edge import _sshd

NAME = "o2edge.perf ssh_tuning"
BEGIN, END = _sshd.markers(NAME)


def test_render_settings_in_order_with_yes_no_and_lists():
    lines = _sshd.render_settings({"ClientAliveInterval": 15, "UseDNS": False, "AllowUsers": ["root", "ops"],
                                   "MaxStartups": "20:30:100"})
    assert lines == ["ClientAliveInterval 15", "UseDNS no", "AllowUsers root ops", "MaxStartups 20:30:100"]


@pytest.mark.parametrize("settings, fragment", [
    ({}, "non-empty mapping"),
    ({"Use DNS": "no"}, "is not an sshd keyword"),
    ({"UseDNS": "no", "usedns": "yes"}, "usedns is given twice (as UseDNS and usedns"),
    ({"Match": "User root"}, "Match is not allowed"),
    ({"Include": "/etc/x"}, "Include is not allowed"),
    ({"Banner": "a\nPermitRootLogin yes"}, "line break"),
    ({"Banner": "  "}, "Banner: the value is empty"),
    ({"AllowUsers": []}, "AllowUsers: an empty list"),
])
def test_render_settings_refuses_bad_input_by_name(settings, fragment):
    with pytest.raises(_sshd.SshdConfigError) as err:
        _sshd.render_settings(settings)
    assert fragment in str(err.value)


def test_block_goes_to_the_top_once_and_is_replaced_in_place():
    main = "Port 22\nMatch User git\n  X11Forwarding no\n"
    once = _sshd.with_block(main, NAME, ["UseDNS no"])
    assert once == "%s\nUseDNS no\n%s\nPort 22\nMatch User git\n  X11Forwarding no\n" % (BEGIN, END)
    twice = _sshd.with_block(once, NAME, ["UseDNS no", "LoginGraceTime 30"])
    assert twice.count(BEGIN) == 1 and twice.count(END) == 1
    assert twice.startswith("%s\nUseDNS no\nLoginGraceTime 30\n%s\n" % (BEGIN, END))
    assert _sshd.with_block(twice, NAME, ["UseDNS no", "LoginGraceTime 30"]) == twice


def test_block_elsewhere_is_replaced_where_it_is():
    main = "Port 22\n%s\nUseDNS yes\n%s\nPidFile /run/sshd.pid\n" % (BEGIN, END)
    assert _sshd.with_block(main, NAME, ["UseDNS no"]) == "Port 22\n%s\nUseDNS no\n%s\nPidFile /run/sshd.pid\n" % (
        BEGIN, END)


def test_begin_without_end_is_an_error():
    with pytest.raises(_sshd.SshdConfigError, match="has no end marker"):
        _sshd.with_block("%s\nUseDNS no\n" % BEGIN, NAME, ["UseDNS no"])


@pytest.mark.parametrize("main, expected", [
    ("Include /etc/ssh/sshd_config.d/*.conf\n", True),
    ("include sshd_config.d/*.conf\n", True),
    ("Include /etc/ssh/sshd_config.d/50-o2edge-tuning.conf\n", True),
    ('Include "/etc/ssh/sshd_config.d/*.conf" /other/*.conf\n', True),
    ("#Include /etc/ssh/sshd_config.d/*.conf\n", False),
    ("Include /etc/ssh/sshd_config.d/*.cfg\n", False),
    ("Include /etc/ssh/other.d/*.conf\n", False),
    ("Port 22\nMatch User git\n  Include /etc/ssh/sshd_config.d/*.conf\n", False),
    ("", False),
])
def test_included(main, expected):
    assert _sshd.included(main, "/etc/ssh/sshd_config.d/50-o2edge-tuning.conf") is expected


def test_hidden_file_not_matched_by_star():
    assert not _sshd.included("Include /etc/ssh/sshd_config.d/*\n", "/etc/ssh/sshd_config.d/.hidden.conf")


def test_choose_mode():
    drop = "/etc/ssh/sshd_config.d/50-o2edge-tuning.conf"
    assert _sshd.choose_mode("auto", "Include /etc/ssh/sshd_config.d/*.conf\n", drop) == "drop_in"
    assert _sshd.choose_mode("auto", "Port 22\n", drop) == "block"
    assert _sshd.choose_mode("block", "Include /etc/ssh/sshd_config.d/*.conf\n", drop) == "block"
    with pytest.raises(_sshd.SshdConfigError, match="no Include line"):
        _sshd.choose_mode("drop_in", "Port 22\n", drop)
    with pytest.raises(_sshd.SshdConfigError, match="mode must be"):
        _sshd.choose_mode("both", "", drop)


def test_sshd_T_and_overridden():
    eff = _sshd.parse_sshd_T("usedns yes\nlogingracetime 60\nclientaliveinterval 15\nallowusers a\nallowusers b\n"
                             "maxstartups 20:30:100\n")
    assert eff["allowusers"] == ["a", "b"]
    lines = ["UseDNS no", "LoginGraceTime 1m", "ClientAliveInterval 15s", "MaxStartups 20:30:100", "AllowUsers c"]
    assert _sshd.overridden(lines, eff) == [{"keyword": "UseDNS", "wanted": "no", "effective": "yes"}]


def test_seconds():
    assert _sshd.seconds("90") == 90
    assert _sshd.seconds("1m30s") == 90
    assert _sshd.seconds("2h") == 7200
    assert _sshd.seconds("soon") is None


def _validator(good, calls):
    def validate(path):
        with open(path) as f:
            text = f.read()
        calls.append(path)
        return ("Bogus" not in text, "line 1: Bad configuration option: Bogus")
    return validate


def test_block_candidate_validated_before_it_is_moved(tmp_path):
    main = tmp_path / "sshd_config"
    main.write_text("Port 22\n")
    os.chmod(main, 0o600)
    calls = []
    new = _sshd.with_block("Port 22\n", NAME, ["UseDNS no"])
    backup, absent = _sshd.write_validated(str(main), new, str(main), _validator(True, calls),
                                           str(tmp_path / "state"), validate_candidate=True)
    assert main.read_text() == new
    assert os.stat(main).st_mode & 0o777 == 0o600
    assert calls and calls[0] != str(main)  # the candidate, not the live file
    assert not absent and open(backup).read() == "Port 22\n"
    assert os.stat(tmp_path / "state").st_mode & 0o777 == 0o700
    assert sorted(os.listdir(tmp_path)) == ["sshd_config", "state"]  # no candidate left


def test_block_refused_leaves_the_file_as_it_was(tmp_path):
    main = tmp_path / "sshd_config"
    main.write_text("Port 22\n")
    bad = _sshd.with_block("Port 22\n", NAME, ["Bogus yes"])
    with pytest.raises(_sshd.SshdConfigError) as err:
        _sshd.write_validated(str(main), bad, str(main), _validator(True, []), str(tmp_path / "state"), True)
    assert "left unchanged" in str(err.value) and "Bad configuration option: Bogus" in str(err.value)
    assert main.read_text() == "Port 22\n"
    assert sorted(os.listdir(tmp_path)) == ["sshd_config", "state"]


def _drop_in_validator(main):
    """Validates the main config 'with' the drop-in present: refuses when the drop-in holds Bogus."""
    def validate(path):
        assert path == str(main)
        drop = main.parent / "sshd_config.d" / "50-o2edge-tuning.conf"
        text = drop.read_text() if drop.exists() else ""
        return ("Bogus" not in text, "Bad configuration option: Bogus")
    return validate


def test_drop_in_new_refused_is_removed_again(tmp_path):
    main = tmp_path / "sshd_config"
    main.write_text("Include %s/sshd_config.d/*.conf\n" % tmp_path)
    drop = tmp_path / "sshd_config.d" / "50-o2edge-tuning.conf"
    with pytest.raises(_sshd.SshdConfigError, match="removed again"):
        _sshd.write_validated(str(drop), "Bogus yes\n", str(main), _drop_in_validator(main), str(tmp_path / "st"),
                              validate_candidate=False)
    assert not drop.exists()
    assert os.listdir(tmp_path / "sshd_config.d") == []
    assert os.path.exists(tmp_path / "st" / "50-o2edge-tuning.conf.absent")


def test_drop_in_changed_refused_is_put_back(tmp_path):
    main = tmp_path / "sshd_config"
    main.write_text("Include %s/sshd_config.d/*.conf\n" % tmp_path)
    (tmp_path / "sshd_config.d").mkdir()
    drop = tmp_path / "sshd_config.d" / "50-o2edge-tuning.conf"
    drop.write_text("UseDNS no\n")
    with pytest.raises(_sshd.SshdConfigError, match="put back as it was"):
        _sshd.write_validated(str(drop), "Bogus yes\n", str(main), _drop_in_validator(main), str(tmp_path / "st"),
                              validate_candidate=False)
    assert drop.read_text() == "UseDNS no\n"
    assert os.listdir(tmp_path / "sshd_config.d") == ["50-o2edge-tuning.conf"]


def test_drop_in_accepted_keeps_a_backup(tmp_path):
    main = tmp_path / "sshd_config"
    main.write_text("Include %s/sshd_config.d/*.conf\n" % tmp_path)
    drop = tmp_path / "sshd_config.d" / "50-o2edge-tuning.conf"
    state = tmp_path / "st"
    backup, absent = _sshd.write_validated(str(drop), "UseDNS no\n", str(main), _drop_in_validator(main), str(state),
                                           validate_candidate=False)
    assert absent and drop.read_text() == "UseDNS no\n"
    backup, absent = _sshd.write_validated(str(drop), "UseDNS yes\n", str(main), _drop_in_validator(main), str(state),
                                           validate_candidate=False)
    assert not absent and open(backup).read() == "UseDNS no\n"
    assert sorted(os.listdir(state)) == ["50-o2edge-tuning.conf.orig"]  # the stale .absent marker is gone
