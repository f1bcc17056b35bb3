# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_ssh_options: tests written for the survivors of a mutation run (docs/mutation.md), each named for the
bug it catches: host-key weakenings that would slip through (quoting, spacing, clustered flags, nesting,
the size bounds) and the edge side's value parsing."""
from __future__ import annotations

import os
import shlex

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _ssh_options as so

# Built from parts, as in test_ssh_options.py, so that no line of the tests spells a weakening itself.
SHKC = "Strict" + "HostKeyChecking"
NULL = os.devnull
UKHF = "UserKnown" + "HostsFile"
STRICT_NO = SHKC + "=no"


def nest(levels):
    """A ProxyCommand value: an ssh command ``levels`` deep (each level quoted for the next), the
    innermost one weakening."""
    inner = "ssh -o " + STRICT_NO + " %h"
    for _level in range(levels - 1):
        inner = "ssh -o " + shlex.quote("ProxyCommand=" + inner) + " %h"
    return inner


@pytest.mark.parametrize("keyword", ['"%s"' % SHKC, "'%s'" % SHKC])
def test_a_quoted_keyword_is_read_as_ssh_reads_it(keyword):
    """Bug: quotes around the keyword not removed, so a quoted weakening slips through."""
    assert so.weakening({keyword: "no"}) == [STRICT_NO]
    assert so.weakening(ssh_args=["-o", keyword + "=no"]) == [STRICT_NO]


def test_only_matching_quote_pairs_are_removed():
    """Bugs: mismatched quotes, or other characters than quotes, stripped from a keyword."""
    assert so.split_config_line("\"abc' x") == ("\"abc'", ["x"])
    assert so.split_config_line("XabcX y") == ("XabcX", ["y"])
    assert so.split_config_line("'' y") == ("", ["y"])


def test_a_quoted_known_hosts_value_is_unquoted():
    """Bug: values split without shell quoting rules, so the null device in quotes is not seen."""
    assert so.weakening({UKHF: '"%s"' % NULL}) == ["%s %s" % (UKHF, NULL)]
    assert so.weakening(ssh_args=["-o", "%s='%s'" % (UKHF, NULL)]) == ["%s %s" % (UKHF, NULL)]


def test_unbalanced_quotes_in_a_value_still_split_on_spaces():
    """Bug: the fallback for a value shlex cannot split losing the words (the null device after it)."""
    assert so.weakening({UKHF: NULL + ' "x'}) == ["%s %s" % (UKHF, NULL)]
    assert so.weakening({SHKC: 'yes "x'}) == []


def test_a_hash_is_not_a_comment_inside_the_arguments():
    """Bug: '#' read as the start of a comment, so what follows it (a weakening) is never seen."""
    assert so.weakening({UKHF: "#x " + NULL}) == ["%s %s" % (UKHF, NULL)]
    assert so.weakening(ssh_args=["#x", "-o", STRICT_NO]) == [STRICT_NO]


def test_an_empty_or_missing_value_is_refused_and_shown_as_empty():
    """Bugs: an empty value shown as some text, or None read as a value."""
    empty = [SHKC + "=<a value of 0 characters>"]
    assert so.weakening({SHKC: ""}) == empty
    assert so.weakening({SHKC: None}) == empty


def test_a_weakening_inside_proxy_commands_is_found():
    """Bug: the ssh command a ProxyCommand carries not read (one level, and quoted levels inside it),
    from the client options and from ssh_args."""
    for levels in (1, 2, 3):
        assert so.weakening({"ProxyCommand": nest(levels)}) == [STRICT_NO], levels
        assert so.weakening(ssh_args=["-o", "ProxyCommand=" + nest(levels)]) == [STRICT_NO], levels
    assert so.weakening({"ProxyCommand": "ssh -o ForwardAgent=yes %h"}) == []


@pytest.mark.parametrize("args", [["-o", SHKC, "=", "no"],
                                  ["-o", SHKC, "no"]])
def test_an_option_split_over_several_words_is_read_whole(args):
    """Bug: '-o Keyword = value' (or '-o Keyword value') read without its value."""
    assert so.weakening(ssh_args=args) == [STRICT_NO]


def test_a_lone_equals_sign_after_the_keyword_is_the_value_when_nothing_follows():
    """Bug: the value read past the end of the words, or the '=' dropped."""
    assert so.weakening(ssh_args=["-o", SHKC, "="]) == [SHKC + "=<a value of 1 characters>"]


def test_minus_capital_f_is_refused_as_its_own_word():
    """Bug: a two-character flag word not read as a flag, so '-F file' (another config) passes."""
    assert so.weakening(ssh_args=["-F", "/tmp/other-config"]) == ["-F (another ssh config file)"]


def test_clustered_flags_are_read_up_to_the_one_taking_an_argument():
    """Bug: stopping at the first flag without an argument, so '-Co Keyword=no' passes."""
    assert so.weakening(ssh_args=["-Co", STRICT_NO]) == [STRICT_NO]
    assert so.weakening(ssh_args=["-4Cvo" + STRICT_NO]) == [STRICT_NO]


def test_an_attached_option_argument_is_not_read_as_more_flags():
    """Bug: the letters of '-oForwardAgent=yes' read as flags after the argument (its F taken as -F)."""
    assert so.weakening(ssh_args=["-oForwardAgent=yes"]) == []
    assert so.weakening(ssh_args=["-oServerAliveInterval=5", "-oFoo=1"]) == []


def test_a_flag_at_the_end_without_its_argument_is_harmless():
    """Bug: reading past the last word (an IndexError) for '-o' at the end."""
    assert so.weakening(ssh_args=["-C", "-o"]) == []
    assert so.weakening(ssh_args=["-F"]) == ["-F (another ssh config file)"]


def test_bare_words_are_not_directives():
    """Bug: a plain word of ssh_args (a host or a command word) read as a Host, Match or Include line."""
    assert so.weakening(ssh_args=["Match", "Host", "Include"]) == []
    assert so.weakening({"Match": "all"}) == ["Match"]


def test_the_argument_types_are_refused_with_the_variable_named():
    """Bugs: the messages losing the variable's name, or bytes taken as a list of words."""
    with pytest.raises(so.SshOptionsError) as err:
        so.weakening(client_options=[SHKC + " no"])
    assert str(err.value) == "ssh_tuning_client_extra_options must be a mapping of ssh_config option to value"
    for bad in ("-o x", b"-o x", 3):
        with pytest.raises(so.SshOptionsError) as err:
            so.weakening(ssh_args=bad)
        assert str(err.value) == "ssh_tuning_ansible_extra_ssh_args must be a list of words"


def test_an_option_is_bounded_at_65536_characters_and_the_others_still_checked():
    """Bugs: the bound off by one or another size, or the check stopping after an oversized option or
    an option with a line break."""
    at = "x" * (65536 - len("SendEnv"))
    assert so.weakening({"SendEnv": at}) == []
    assert so.weakening({"SendEnv": at + "x", SHKC: "no"}) == [
        "an option longer than 65536 characters", STRICT_NO]
    assert so.weakening({"SendEnv": "a\nb", SHKC: "no"}) == [
        "a line break in option SendEnv", STRICT_NO]


def test_ssh_args_are_bounded_at_65536_characters():
    """Bug: the bound off by one or another size."""
    assert so.weakening(ssh_args=["x" * 65536]) == []
    assert so.weakening(ssh_args=["x" * 65537]) == ["ssh_args longer than 65536 characters"]
    assert so.weakening(ssh_args=["x" * 65535, "y"]) == ["ssh_args longer than 65536 characters"]


@pytest.mark.parametrize("text", ["yes", "on", "1", "true", "y", "t", " YES ", "True"])
def test_every_true_spelling(text):
    """Bug: a true spelling dropped or changed (an operator's 'on' then refused)."""
    assert so.as_bool(text, "v") is True


@pytest.mark.parametrize("text", ["no", "off", "0", "false", "n", "f", " No "])
def test_every_false_spelling(text):
    """Bug: a false spelling dropped or changed."""
    assert so.as_bool(text, "v") is False


def test_a_non_boolean_names_the_variable():
    """Bug: the message without the variable's name."""
    with pytest.raises(so.SshOptionsError) as err:
        so.as_bool("maybe", "ssh_tuning_sshd_use_dns")
    assert str(err.value) == "ssh_tuning_sshd_use_dns must be a boolean (yes/no, true/false)"


@pytest.mark.parametrize("value,expected", [("1", 1), ("0", None), ("999999999", 999999999), ("1000000000", None),
                                            (" 7 ", 7), ("-3", None), ("+3", None), ("3.0", None), (0, None),
                                            (5, 5), (True, None)])
def test_positive_numbers(value, expected):
    """Bugs: zero taken as positive, the nine-digit bound moved, signs or decimals accepted."""
    assert so.positive_int(value) == expected


def _with(settings, key, value):
    changed = dict(settings)
    changed[key] = value
    return changed


def test_edge_side_messages_name_the_variable():
    """Bugs: the messages losing the variable's name."""
    with pytest.raises(so.SshOptionsError) as err:
        so.max_startups("many")
    assert str(err.value) == "ssh_tuning_forks must be a positive number"
    good = dict(forks=5, client_alive_interval=30, client_alive_count_max=3, use_dns=False,
                max_startups_value="", login_grace_time=30)
    with pytest.raises(so.SshOptionsError) as err:
        so.sshd_settings(extra=["UseDNS no"], **good)
    assert str(err.value) == "ssh_tuning_sshd_extra_settings must be a mapping"
    with pytest.raises(so.SshOptionsError) as err:
        so.sshd_settings(**_with(good, "login_grace_time", "0"))
    assert str(err.value) == "ssh_tuning_sshd_login_grace_time must be a positive number"
    with pytest.raises(so.SshOptionsError) as err:
        so.sshd_settings(**_with(good, "max_startups_value", "10:0:100"))
    assert str(err.value) == "ssh_tuning_sshd_max_startups must be empty, a number or start:rate:full"


def test_max_startups_none_means_computed_from_forks():
    """Bug: None taken as a given value (the text 'None' is then refused)."""
    settings = so.sshd_settings(forks=50, client_alive_interval=30, client_alive_count_max=3, use_dns=False,
                                max_startups_value=None, login_grace_time=30)
    assert settings["MaxStartups"] == "50:30:150"


def deep(levels):
    """A ``ProxyCommand=...`` directive whose weakening is read exactly ``levels`` option values down
    (0: the directive itself is the weakening). Each level is quoted twice: the directive's arguments are
    split once when the line is read and once more when they are joined and read as ssh words, so a
    value quoted once would be flattened into the level above it (the tests above stay at level 2)."""
    word = STRICT_NO
    for _level in range(levels):
        word = "ProxyCommand=" + shlex.quote("ssh -o " + shlex.quote(word) + " %h")
    return word


def test_deep_levels_are_flattened_by_no_level_before_their_own():
    """Guards the next tests: level n must not be readable at a nesting bound below n, else they would
    prove nothing about the bound (checked here with the bound lowered, then restored). Unread, the
    level is refused as too deep, never read as the weakening it holds."""
    bound = so._MAX_NESTING
    too_deep = ["a host-key option in a command nested more than 2 levels deep"]
    try:
        so._MAX_NESTING = 2
        assert so.weakening({"ProxyCommand": deep(3)[len("ProxyCommand="):]}) == too_deep
        assert so.weakening(ssh_args=["-o", shlex.quote(deep(3))]) == too_deep
    finally:
        so._MAX_NESTING = bound


def test_a_weakening_three_proxy_commands_deep_is_found_in_the_client_options():
    """Bugs: the nesting bound reached one level early (the level counted from 1, or two levels a step),
    so a weakening at the third level of a client option's ProxyCommand slips through."""
    assert so.weakening({"ProxyCommand": deep(3)[len("ProxyCommand="):]}) == [STRICT_NO]


def test_a_weakening_three_proxy_commands_deep_is_found_in_ssh_args():
    """Bug: ssh_args' words read from nesting level 1 instead of 0, so their third level is not read."""
    assert so.weakening(ssh_args=["-o", shlex.quote(deep(3))]) == [STRICT_NO]


def test_a_weakening_nested_past_the_bound_is_refused_not_ignored():
    """Bug: a weakening four ProxyCommands deep passes: _nested returns at the bound without reading or
    refusing the text, although the text still names a host-key keyword."""
    assert so.weakening({"ProxyCommand": deep(4)[len("ProxyCommand="):]}) != []
    assert so.weakening(ssh_args=["-o", shlex.quote(deep(4))]) != []


def test_the_nesting_bound_is_three_levels_and_deeper_text_is_refused_as_too_deep():
    """Bug: the bound moved to four levels (or more): text four ProxyCommands deep is then read instead of
    refused as too deep, so the documented bound and the refusal the operator sees change."""
    too_deep = ["a host-key option in a command nested more than 3 levels deep"]
    assert so.weakening({"ProxyCommand": deep(4)[len("ProxyCommand="):]}) == too_deep
    assert so.weakening(ssh_args=["-o", shlex.quote(deep(4))]) == too_deep
    # text past the bound that names no host-key option is nothing to refuse
    harmless = deep(4).replace(SHKC, "ForwardAgent")
    assert so.weakening({"ProxyCommand": harmless[len("ProxyCommand="):]}) == []


# --- survivors of the whole run of this session (docs/mutation.md) ----------------------------------------

@pytest.mark.parametrize("keyword", ["VerifyHost" + "KeyDNS", "NoHost" + "AuthenticationForLocalhost"])
@pytest.mark.parametrize("value", ["no", "false", "FALSE", "No"])
def test_every_spelling_of_off_keeps_the_dns_and_localhost_checks(keyword, value):
    """Bug: 'false' (in any case) no longer read as off, so a harmless setting is refused."""
    assert so.weakening({keyword: value}) == []
    assert so.weakening(ssh_args=["-o", "%s=%s" % (keyword, value)]) == []
    assert so.weakening({keyword: "yes"}) == ["%s=yes" % keyword]


def test_a_flag_without_an_argument_does_not_swallow_the_next_option():
    """Bug: a flag that takes no argument (-X, X11 forwarding) read as taking one, so the '-o' after it is
    taken as its argument and the option that follows is never read."""
    assert so.weakening(ssh_args=["-X", "-o", UKHF, NULL]) == ["%s %s" % (UKHF, NULL)]
    assert so.weakening(ssh_args=["-Xo" + STRICT_NO]) == [STRICT_NO]


def test_a_hash_inside_a_nested_command_is_not_a_comment():
    """Bug: the words of a ProxyCommand split with '#' as a comment, so a weakening after a '#x' word is
    never read."""
    assert so.weakening({"ProxyCommand": "ssh #x -o %s %%h" % STRICT_NO}) == [STRICT_NO]
    assert so.weakening(ssh_args=["-o", "ProxyCommand=ssh #x -o %s %%h" % STRICT_NO]) == [STRICT_NO]


def test_groups_that_are_not_a_list_are_refused_even_when_their_keys_are_known():
    """Bug: only strings and bytes refused as ssh_tuning_groups, so a mapping whose keys are known groups passes."""
    good = dict(control_dir="/run/o2", known_groups=["edge"], connect_timeout=5, server_alive_interval=5,
                server_alive_count_max=3, forks=5)
    assert so.controller_problems(groups=["edge"], **good) == []
    assert so.controller_problems(groups={"edge": 1}, **good) == ["ssh_tuning_groups"]
    assert so.controller_problems(groups=("edge",), **good) == []
    assert so.controller_problems(groups="edge", **good) == ["ssh_tuning_groups"]
