# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ssh_tuning role's computations (plugin_utils/_ssh_options.py), which before lived only in the role's
Jinja and were tested only by integration plays: host-key weakening in every spelling (issue 15 class 3:
KnownHostsCommand and VerifyHostKeyDNS used to pass), MaxStartups from forks, the numeric checks."""
from __future__ import annotations

import os

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _ssh_options as so

# Assembled, so that no file of the project spells a weakening option whole.
NULL = os.devnull
SHKC = "Strict" + "HostKeyChecking"


# --- weakening -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    # Bug: the old regex lost the space form, or case-insensitivity: each spelling must be refused.
    (["-o", SHKC + "=no"], SHKC + "=no"),
    (["-o" + SHKC + "=no"], SHKC + "=no"),
    (["-o", SHKC.lower() + "=NO"], SHKC + "=NO"),
    (["-o", SHKC.upper() + " off"], SHKC + "=off"),
    (['-o "%s  accept-new"' % SHKC], SHKC + "=accept-new"),
    (["-o", "%s\t=\task" % SHKC], SHKC + "=ask"),
    (['-o "%s\t=\tno"' % SHKC], SHKC + "=no"),
    (["-o", '%s="no"' % SHKC], SHKC + "=no"),
    (["-o", '"%s" no' % SHKC], SHKC + "=no"),
    (["-Co", SHKC + "=no"], SHKC + "=no"),
    (["-o", SHKC, "no"], SHKC + "=no"),
    ([SHKC + "=false"], SHKC + "=false"),
    (["-o", "UserKnownHostsFile=" + NULL], "UserKnownHostsFile " + NULL),
    (["-o", "globalknownhostsfile %s" % NULL], "GlobalKnownHostsFile " + NULL),
    (['-o "UserKnownHostsFile=~/.ssh/known_hosts /dev/zero"'], "UserKnownHostsFile /dev/zero"),
    (["-o", "UserKnownHostsFile=/dev/../dev/null"], "UserKnownHostsFile /dev/../dev/null"),
    # Bug (issue 15 class 3): these trusted whatever key was offered and passed the old check.
    (["-o", "KnownHostsCommand=/bin/echo %H ssh-ed25519 AAAA"], "KnownHostsCommand"),
    (["-oknownhostscommand /usr/bin/true"], "KnownHostsCommand"),
    (["-o", "VerifyHostKeyDNS=yes"], "VerifyHostKeyDNS=yes"),
    (["-o", "verifyhostkeydns ask"], "VerifyHostKeyDNS=ask"),
    (["-o", "NoHostAuthenticationForLocalhost=YES"], "NoHostAuthenticationForLocalhost=YES"),
    (["-o", "HostKeyAlias=edge1"], "HostKeyAlias"),
    (["-F", "/tmp/other_config"], "-F (another ssh config file)"),
    (["-F/tmp/other_config"], "-F (another ssh config file)"),
    (["-o", "Include=/tmp/more"], "Include"),
    # Nested: the jump host's own ssh is read too.
    (["-o", "ProxyCommand=ssh -o %s=no jump -W %%h:%%p" % SHKC], SHKC + "=no"),
    (["-o", "bad quote'"], "ssh_args with unbalanced quotes"),
    (["-o", "ConnectTimeout=5\nssh_common_args = -x"], "a line break in ssh_args"),
])
def test_ssh_args_that_weaken_are_refused_in_every_spelling(args, expected):
    assert expected in so.weakening({}, args)


@pytest.mark.parametrize("options, expected", [
    ({SHKC: "no"}, SHKC + "=no"),
    ({SHKC.lower(): "Accept-New"}, SHKC + "=Accept-New"),
    ({SHKC: False}, SHKC + "=no"),
    ({SHKC + "=no": ""}, SHKC + "=no"),
    ({"UserKnownHostsFile": NULL}, "UserKnownHostsFile " + NULL),
    ({"UserKnownHostsFile": ["~/.ssh/known_hosts", NULL]}, "UserKnownHostsFile " + NULL),
    ({"KnownHostsCommand": "/usr/bin/printf"}, "KnownHostsCommand"),
    ({"VerifyHostKeyDNS": True}, "VerifyHostKeyDNS=yes"),
    ({"NoHostAuthenticationForLocalhost": "yes"}, "NoHostAuthenticationForLocalhost=yes"),
    ({"hostkeyalias": "edge1"}, "HostKeyAlias"),
    ({"Include": "~/.ssh/more"}, "Include"),
    ({"Host": "*"}, "Host"),
    ({"Match": "all"}, "Match"),
    ({"ConnectTimeout": "5\n    %s no" % SHKC}, "a line break in option ConnectTimeout"),
    ({"ProxyCommand": "ssh -o %s=no -W %%h:%%p jump" % SHKC}, SHKC + "=no"),
])
def test_client_options_that_weaken_are_refused(options, expected):
    assert expected in so.weakening(options, [])


def test_a_symlink_to_the_null_device_is_refused(tmp_path):
    # Bug: only the literal /dev/null text was recognised. The link's name makes its path longer
    # than the 63 characters a message shows verbatim, whatever the length of tmp_path.
    link = tmp_path / ("kh" + "x" * 64)
    link.symlink_to(NULL)
    assert so.weakening({"UserKnownHostsFile": str(link)}, []) == ["UserKnownHostsFile <a value of %d characters>"
                                                                   % len(str(link))]


@pytest.mark.parametrize("options, args", [
    ({SHKC: "yes", "UserKnownHostsFile": "~/.ssh/known_hosts", "GlobalKnownHostsFile": "none",
      "VerifyHostKeyDNS": "no", "NoHostAuthenticationForLocalhost": False, "CheckHostIP": "no",
      "UpdateHostKeys": "yes", "HostName": "edge1.example", "ProxyCommand": "nc host 22"},
     ["-C", "-o", "IPQoS=throughput", "-o", SHKC + "=TRUE", "-o", "ControlPersist=60s", "-4", "-oBatchMode=yes"]),
    ({}, []),
])
def test_settings_that_keep_checking_pass(options, args):
    # Bug: a check that refuses everything (or "none", which trusts fewer keys) would pass the refusal tests.
    assert so.weakening(options, args) == []


def test_each_refusal_is_named_once_in_order_and_a_command_is_never_quoted():
    got = so.weakening({"KnownHostsCommand": "/usr/local/bin/trust --token s3cr3t"},
                       ["-o", SHKC + "=no", "-o", SHKC + "=no", "-o", SHKC + "=" + "x" * 80])
    assert got == ["KnownHostsCommand", SHKC + "=no", SHKC + "=<a value of 80 characters>"]
    assert "s3cr3t" not in " ".join(got)


@pytest.mark.parametrize("options, args, fragment", [
    (["x"], [], "ssh_tuning_client_extra_options must be a mapping"),
    ({}, "-o " + SHKC + "=no", "ssh_tuning_ansible_extra_ssh_args must be a list"),
])
def test_wrong_shapes_are_refused_by_name(options, args, fragment):
    with pytest.raises(so.SshOptionsError, match=fragment):
        so.weakening(options, args)


def test_split_config_line_reads_ssh_s_forms():
    assert so.split_config_line("  Foo\t= bar baz") == ("Foo", ["bar", "baz"])
    assert so.split_config_line('Foo "a b" c') == ("Foo", ["a b", "c"])
    assert so.split_config_line("Foo=bar") == ("Foo", ["bar"])
    assert so.split_config_line("# Foo no") == (None, [])
    assert so.split_config_line("   ") == (None, [])
    assert so.split_config_line("=no") == (None, [])  # crashed the filter with a traceback


# --- sshd settings ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("forks, expected", [
    (5, "10:30:100"), (10, "10:30:100"), (33, "33:30:100"), (34, "34:30:102"), (50, "50:30:150"), ("200", "200:30:600"),
])
def test_max_startups_from_forks(forks, expected):
    # Bug: max -> min in the rule (edge.yml "Compose the sshd settings") survived the unit suite.
    assert so.max_startups(forks) == expected


def test_sshd_settings_in_order_with_forks_and_extras():
    got = so.sshd_settings("50", "15", 3, "no", "", 30, {"PermitRootLogin": "prohibit-password"})
    assert list(got.items()) == [("ClientAliveInterval", 15), ("ClientAliveCountMax", 3), ("UseDNS", False),
                                 ("MaxStartups", "50:30:150"), ("LoginGraceTime", 30),
                                 ("PermitRootLogin", "prohibit-password")]


def test_sshd_settings_given_max_startups_and_extras_replace_in_place():
    got = so.sshd_settings(50, 15, 3, True, "20:30:60", 30, {"maxstartups": "30", "ClientAliveInterval": 20})
    assert list(got.items()) == [("ClientAliveInterval", 20), ("ClientAliveCountMax", 3), ("UseDNS", True),
                                 ("maxstartups", "30"), ("LoginGraceTime", 30)]
    assert so.sshd_settings(50, 15, 3, "yes", 40, 30)["MaxStartups"] == "40"


@pytest.mark.parametrize("args, fragment", [
    ((0, 15, 3, False, "", 30), "ssh_tuning_forks must be a positive number"),
    ((20, "x", 3, False, "", 30), "ssh_tuning_sshd_client_alive_interval must be"),
    ((20, 15, -1, False, "", 30), "ssh_tuning_sshd_client_alive_count_max must be"),
    ((20, 15, 3, False, "", 0), "ssh_tuning_sshd_login_grace_time must be"),
    ((20, 15, 3, "maybe", "", 30), "ssh_tuning_sshd_use_dns must be a boolean"),
    ((20, 15, 3, False, "10:30", 30), "ssh_tuning_sshd_max_startups must be"),
    ((20, 15, 3, False, "", 30, ["x"]), "ssh_tuning_sshd_extra_settings must be a mapping"),
])
def test_sshd_settings_refuse_bad_figures_by_name(args, fragment):
    with pytest.raises(so.SshOptionsError, match=fragment):
        so.sshd_settings(*args)


@pytest.mark.parametrize("value, ok", [
    ("", True), (None, True), ("20", True), (20, True), ("10:30:100", True), ("100:100:100", True),
    ("10:1:100", True), ("10:30", False), ("a", False), ("10:0:100", False), ("10:101:100", False),
    ("101:30:100", False), ("10:30:100\n5", False), (" ", True), ("-5", False),
])
def test_max_startups_shape(value, ok):
    assert so.max_startups_ok(value) is ok


@pytest.mark.parametrize("value, expected", [
    (1, 1), ("7", 7), (" 8 ", 8), (0, None), (-3, None), ("0", None), ("3.5", None), ("", None), (True, None),
    ("1" * 10, None), (None, None),
])
def test_positive_int(value, expected):
    assert so.positive_int(value) == expected


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("yes", True), ("On", True), ("1", True), ("no", False), ("FALSE", False), (0, False),
])
def test_as_bool(value, expected):
    assert so.as_bool(value, "x") is expected


# --- the role's checks -----------------------------------------------------------------------------------

EDGE_OK = dict(client_alive_interval=15, client_alive_count_max=3, login_grace_time=30, forks="20",
               max_startups_value="", login_timeout=15, rollback_delay=40, extra_settings={})


def test_edge_checks_pass_on_the_defaults():
    assert so.edge_problems(**EDGE_OK) == []


@pytest.mark.parametrize("change, bad", [
    (dict(client_alive_interval=0), ["ssh_tuning_sshd_client_alive_interval"]),
    (dict(client_alive_count_max="x"), ["ssh_tuning_sshd_client_alive_count_max"]),
    (dict(login_grace_time=-1), ["ssh_tuning_sshd_login_grace_time"]),
    (dict(forks=0), ["ssh_tuning_forks"]),
    (dict(max_startups_value="1:2"), ["ssh_tuning_sshd_max_startups"]),
    (dict(login_timeout=0), ["ssh_tuning_login_timeout"]),
    (dict(rollback_delay=24), ["ssh_tuning_rollback_delay"]),
    (dict(rollback_delay="x"), ["ssh_tuning_rollback_delay"]),
    (dict(extra_settings=["UseDNS"]), ["ssh_tuning_sshd_extra_settings"]),
])
def test_edge_checks_name_the_failing_variable(change, bad):
    assert so.edge_problems(**dict(EDGE_OK, **change)) == bad


def test_edge_rollback_delay_boundary():
    # rollback_delay >= login_timeout + 10: exactly 25 with 15 passes, 24 fails.
    assert so.edge_problems(**dict(EDGE_OK, rollback_delay=25)) == []  # pylint: disable=repeated-keyword
    assert so.edge_problems(**dict(EDGE_OK, rollback_delay=24)) == ["ssh_tuning_rollback_delay"]  # pylint: disable=repeated-keyword


CTRL_OK = dict(control_dir="/root/.ssh/o2cm", groups=["edge_sites"], known_groups={"edge_sites": [], "all": []},
               connect_timeout=10, server_alive_interval="15", server_alive_count_max=3, forks=20)


def test_controller_checks_pass_on_the_defaults():
    assert so.controller_problems(**CTRL_OK) == []


@pytest.mark.parametrize("change, bad", [
    (dict(control_dir="~/.ssh/o2cm"), ["ssh_tuning_control_dir"]),
    (dict(control_dir="/" + "x" * 49), ["ssh_tuning_control_dir"]),
    (dict(groups=[]), ["ssh_tuning_groups"]),
    (dict(groups=["nope"]), ["ssh_tuning_groups"]),
    (dict(groups="edge_sites"), ["ssh_tuning_groups"]),
    (dict(connect_timeout=0), ["ssh_tuning_connect_timeout"]),
    (dict(server_alive_interval="-1"), ["ssh_tuning_server_alive_interval"]),
    (dict(server_alive_count_max=None), ["ssh_tuning_server_alive_count_max"]),
    (dict(forks="many"), ["ssh_tuning_forks"]),
])
def test_controller_checks_name_the_failing_variable(change, bad):
    assert so.controller_problems(**dict(CTRL_OK, **change)) == bad


def test_controller_control_dir_boundary():
    assert so.controller_problems(**dict(CTRL_OK, control_dir="/" + "x" * 48)) == []  # pylint: disable=repeated-keyword
