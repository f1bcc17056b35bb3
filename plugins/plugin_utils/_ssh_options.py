# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The ssh_tuning role's computations and checks, in Python so that unit tests reach them.

* ``weakening(client_options, ssh_args)``: every option that would weaken host-key checking, read the
  way ssh reads it (keywords and yes/no values case-insensitive; ``Foo bar``, ``Foo=bar``,
  ``-o Foo=bar``, ``-oFoo=bar``, quotes, tabs), in the ssh_config options of the client blocks and in
  the words added to Ansible's ``ssh_args``; options nested in another option's value (a
  ``ProxyCommand ssh -o ...``) are read too.
* ``sshd_settings(...)``: the edge's sshd settings, MaxStartups sized from the controller's forks.
* ``controller_problems(...)`` / ``edge_problems(...)``: the role's numeric, range and shape checks;
  each returns the names of the variables that fail (empty: all good).

Controller-side only (used by the ``o2edge.perf`` filter plugins); standard library only.
"""
from __future__ import annotations

import os
import re
import shlex
import stat

# What ssh reads as "yes" for StrictHostKeyChecking (strcasecmp): anything else (no, off, false,
# accept-new, ask, a typo that a later ssh might read differently) is refused.
_STRICT_OK = ("yes", "true")
# VerifyHostKeyDNS / NoHostAuthenticationForLocalhost: only an explicit no keeps checking intact.
_OFF = ("no", "false")
# Keywords refused whatever their value: KnownHostsCommand runs a program that decides which keys
# are trusted; HostKeyAlias comes from the inventory, per site (a global one would check every site
# against one key); Include reads another file that could hold anything; Host and Match would
# change which hosts the rest of the block applies to.
# (Host, Match and Include are judged where they are directives: a client option or an -o argument.)
_ANY_VALUE = {
    "knownhostscommand": "KnownHostsCommand",
    "hostkeyalias": "HostKeyAlias",
}
_STRUCTURAL = {
    "include": "Include",
    "host": "Host",
    "match": "Match",
}
CANONICAL = {
    "stricthostkeychecking": "StrictHostKeyChecking",
    "userknownhostsfile": "UserKnownHostsFile",
    "globalknownhostsfile": "GlobalKnownHostsFile",
    "verifyhostkeydns": "VerifyHostKeyDNS",
    "nohostauthenticationforlocalhost": "NoHostAuthenticationForLocalhost",
}
CANONICAL.update(_ANY_VALUE)
# Left alone, on purpose: CheckHostIP (an extra check, not a weaker one) and UpdateHostKeys (it adds
# keys that a server, already verified against a known key, announces: the first check is unchanged).
# ssh(1) options that take an argument (getopt string of OpenSSH 9): -o and -F are read, the others skipped.
_SSH_ARG_FLAGS = frozenset("BbcDEeFIiJLlmOoPpQRSWw")
_SHOWN_RE = re.compile(r"^[A-Za-z0-9_.:/@%~+-]{1,63}$")
_KEYWORD_IN_TEXT = re.compile("|".join(sorted(CANONICAL)), re.IGNORECASE)
_MAX_NESTING = 3
_MAX_TEXT = 65536


class SshOptionsError(ValueError):
    """Bad input to the role's computations; the message names the variable."""


def _shown(value):
    """A value as it may appear in a message: short identifier-like text, else a placeholder."""
    return value if _SHOWN_RE.match(value) else "<a value of %d characters>" % len(value)


def _unquote(word):
    if len(word) >= 2 and word[0] == word[-1] and word[0] in "\"'":
        return word[1:-1]
    return word


def split_config_line(line):
    """One ssh_config line (or one ``-o`` argument) -> (keyword, [arguments]), as ssh's readconf
    reads it: the keyword ends at whitespace or ``=``, one ``=`` may separate it from the arguments,
    arguments may be quoted. An empty line or a comment gives (None, [])."""
    text = line.strip()
    if not text or text.startswith("#"):
        return None, []
    match = re.match(r"""^("[^"]*"|'[^']*'|[^\s=]+)\s*(?:=\s*)?(.*)$""", text, re.DOTALL)
    if match is None:
        return None, []  # a lone "=...": no keyword
    keyword, rest = _unquote(match.group(1)), match.group(2)
    try:
        args = shlex.split(rest, comments=False, posix=True)
    except ValueError:
        args = rest.split()
    return keyword, args


def _check_directive(keyword, args, out, structural):
    """Append what this one directive weakens (canonical keyword, value only when it is short)."""
    key = keyword.lower()
    if structural and key in _STRUCTURAL:
        out.append(_STRUCTURAL[key])
    value = args[0] if args else ""
    if key == "stricthostkeychecking":
        if value.lower() not in _STRICT_OK:
            out.append("StrictHostKeyChecking=%s" % _shown(value))
    elif key in ("userknownhostsfile", "globalknownhostsfile"):
        for path in args:
            if _null_file(path):
                out.append("%s %s" % (CANONICAL[key], _shown(path)))
    elif key in ("verifyhostkeydns", "nohostauthenticationforlocalhost"):
        if value.lower() not in _OFF:
            out.append("%s=%s" % (CANONICAL[key], _shown(value)))
    elif key in _ANY_VALUE:
        out.append(_ANY_VALUE[key])


def _null_file(path):
    """A known_hosts "file" that holds nothing and keeps nothing: /dev/null, or any character device
    (also through a symlink). ``none`` is not one: it means "no such file" and ssh then trusts only
    the other files, so it does not weaken (the probes use GlobalKnownHostsFile=none)."""
    expanded = os.path.expanduser(path)
    if os.path.normpath(expanded) == os.devnull:
        return True
    try:
        return stat.S_ISCHR(os.stat(expanded).st_mode)
    except (OSError, ValueError):
        return False


def _nested(args, out, depth):
    """A directive's value may carry a whole ssh command (ProxyCommand, LocalCommand, RemoteCommand,
    a Match exec): read its words as ssh arguments and as config lines too. Past ``_MAX_NESTING``
    levels the text is not read, and it is refused if it still names a host-key option (fail
    closed: what is not read is not let through)."""
    text = " ".join(args)
    if not _KEYWORD_IN_TEXT.search(text):
        return
    if depth >= _MAX_NESTING:
        out.append("a host-key option in a command nested more than %d levels deep" % _MAX_NESTING)
        return
    _scan_words(_split_words(text), out, depth + 1)


def _split_words(text):
    try:
        return shlex.split(text, comments=False, posix=True)
    except ValueError:
        return text.split()


def _directive(line, out, depth, following=(), structural=True):
    keyword, args = split_config_line(line)
    if keyword is None:
        return
    if not args and following:
        # "-o <keyword> <value>" split in two words: ssh itself stops with "missing argument", but the next word
        # is read as the value anyway (after a lone "="), so that no spacing slips through.
        args = [following[1] if following[0] == "=" and len(following) > 1 else following[0]]
    _check_directive(keyword, args, out, structural)
    _nested(args, out, depth)


def _scan_words(words, out, depth):
    """ssh command-line words (the ssh_args Ansible splits with shlex): ``-o X``, ``-oX``, clustered
    flags (``-Co X``), ``-F file`` (another config: refused), and any other word read as a config line
    (a weakening ``Keyword=value`` word on its own is refused too)."""
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if len(word) > 1 and word.startswith("-") and word != "--":
            j = 1
            while j < len(word):
                flag = word[j]
                j += 1
                if flag not in _SSH_ARG_FLAGS:
                    continue
                if j < len(word):
                    arg = word[j:]
                elif i < len(words):
                    arg = words[i]
                    i += 1
                else:
                    arg = ""
                if flag == "F":
                    out.append("-F (another ssh config file)")
                elif flag == "o":
                    _directive(arg, out, depth, words[i:i + 2])
                break
        else:
            _directive(word, out, depth, structural=False)


def _unique(items):
    seen = set()
    return [x for x in items if not (x in seen or seen.add(x))]


def weakening(client_options=None, ssh_args=None):
    """Everything in ``client_options`` (ssh_config option -> value, written as ``Option value`` lines
    into the client blocks) and ``ssh_args`` (words appended to Ansible's ssh_args) that could weaken
    host-key checking, in order, each once. A line break in an option or a word is refused too: it
    would add a line of its own to the file written."""
    client_options = {} if client_options is None else client_options
    ssh_args = [] if ssh_args is None else ssh_args
    if not isinstance(client_options, dict):
        raise SshOptionsError("ssh_tuning_client_extra_options must be a mapping of ssh_config option to value")
    if isinstance(ssh_args, (str, bytes)) or not isinstance(ssh_args, (list, tuple)):
        raise SshOptionsError("ssh_tuning_ansible_extra_ssh_args must be a list of words")
    out = []
    for option, value in client_options.items():
        option, value = str(option), _value_text(value)
        if len(option) + len(value) > _MAX_TEXT:
            out.append("an option longer than %d characters" % _MAX_TEXT)
            continue
        if re.search(r"[\r\n\x00]", option + value):
            out.append("a line break in option %s" % _shown(option))
            continue
        _directive("%s %s" % (option, value), out, 0)
    words = [str(w) for w in ssh_args]
    text = " ".join(words)
    if len(text) > _MAX_TEXT:
        out.append("ssh_args longer than %d characters" % _MAX_TEXT)
    elif re.search(r"[\r\n\x00]", text):
        out.append("a line break in ssh_args")
    else:
        try:
            # Ansible splits ssh_args with shlex: read them exactly so.
            split = shlex.split(text, comments=False, posix=True)
        except ValueError:
            out.append("ssh_args with unbalanced quotes")
        else:
            _scan_words(split, out, 0)
    return _unique(out)


def _value_text(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return " ".join(_value_text(v) for v in value)
    return "" if value is None else str(value)


# --- edge side ------------------------------------------------------------------------------------------

_MAX_STARTUPS_RE = re.compile(r"^(?:[0-9]+(?::[0-9]+:[0-9]+)?)?\Z")
_TRUE = ("yes", "on", "1", "true", "y", "t")
_FALSE = ("no", "off", "0", "false", "n", "f")


def positive_int(value):
    """An int > 0 from an int or a string of digits, else None (no bool, no float, no sign)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if value > 0 else None
    text = str(value).strip()
    if not text.isdigit() or len(text) > 9:
        return None
    number = int(text)
    return number if number > 0 else None


def as_bool(value, name):
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise SshOptionsError("%s must be a boolean (yes/no, true/false)" % name)


def max_startups_ok(value):
    """Empty, ``N`` or ``start:rate:full`` with start <= full and rate 1-100 (what sshd accepts)."""
    text = "" if value is None else str(value).strip()
    if not _MAX_STARTUPS_RE.match(text):
        return False
    if ":" in text:
        start, rate, full = (int(x) for x in text.split(":"))
        return start <= full and 1 <= rate <= 100
    return True


def max_startups(forks):
    """``max(10, forks):30:max(100, 3 * forks)``: one controller opens at most ``forks`` handshakes at
    once; never below OpenSSH's default 10:30:100, with room for a second run or an operator."""
    forks = positive_int(forks)
    if forks is None:
        raise SshOptionsError("ssh_tuning_forks must be a positive number")
    return "%d:30:%d" % (max(10, forks), max(100, 3 * forks))


def sshd_settings(forks, client_alive_interval, client_alive_count_max, use_dns, max_startups_value,
                  login_grace_time, extra=None):
    """The edge's sshd settings in the order they are written; ``extra`` (keyword -> value) replaces a
    setting of the same keyword (case-insensitive, in its place) or comes after them."""
    extra = {} if extra is None else extra
    if not isinstance(extra, dict):
        raise SshOptionsError("ssh_tuning_sshd_extra_settings must be a mapping")
    numbers = {}
    for name, value in (("ssh_tuning_sshd_client_alive_interval", client_alive_interval),
                        ("ssh_tuning_sshd_client_alive_count_max", client_alive_count_max),
                        ("ssh_tuning_sshd_login_grace_time", login_grace_time)):
        numbers[name] = positive_int(value)
        if numbers[name] is None:
            raise SshOptionsError("%s must be a positive number" % name)
    given = "" if max_startups_value is None else str(max_startups_value).strip()
    if not max_startups_ok(given):
        raise SshOptionsError("ssh_tuning_sshd_max_startups must be empty, a number or start:rate:full")
    settings = {
        "ClientAliveInterval": numbers["ssh_tuning_sshd_client_alive_interval"],
        "ClientAliveCountMax": numbers["ssh_tuning_sshd_client_alive_count_max"],
        "UseDNS": as_bool(use_dns, "ssh_tuning_sshd_use_dns"),
        "MaxStartups": given if given else max_startups(forks),
        "LoginGraceTime": numbers["ssh_tuning_sshd_login_grace_time"],
    }
    by_lower = dict((k.lower(), k) for k in settings)
    out = dict(settings)
    for keyword, value in extra.items():
        base = by_lower.get(str(keyword).lower())
        if base is not None and base != keyword:
            out = dict((keyword if k == base else k, value if k == base else v) for k, v in out.items())
        else:
            out[keyword] = value
    return out


def edge_problems(client_alive_interval, client_alive_count_max, login_grace_time, forks, max_startups_value,
                  login_timeout, rollback_delay, extra_settings):
    """Names of the edge-side variables that fail the role's checks (empty: all good)."""
    bad = []
    for name, value in (("ssh_tuning_sshd_client_alive_interval", client_alive_interval),
                        ("ssh_tuning_sshd_client_alive_count_max", client_alive_count_max),
                        ("ssh_tuning_sshd_login_grace_time", login_grace_time),
                        ("ssh_tuning_forks", forks),
                        ("ssh_tuning_login_timeout", login_timeout)):
        if positive_int(value) is None:
            bad.append(name)
    if not max_startups_ok(max_startups_value):
        bad.append("ssh_tuning_sshd_max_startups")
    timeout, delay = positive_int(login_timeout), positive_int(rollback_delay)
    if delay is None or (timeout is not None and delay < timeout + 10):
        bad.append("ssh_tuning_rollback_delay")
    if not isinstance(extra_settings, dict):
        bad.append("ssh_tuning_sshd_extra_settings")
    return bad


# --- controller side ------------------------------------------------------------------------------------

# The socket is <dir>/%C (a 40-character hash, plus "/") and ssh creates it under a name 17 characters
# longer, within the 107 bytes of a Unix socket path: 107 - 41 - 17 = 49.
MAX_CONTROL_DIR = 49


def controller_problems(control_dir, groups, known_groups, connect_timeout, server_alive_interval,
                        server_alive_count_max, forks):
    """Names of the controller-side variables that fail the role's checks (empty: all good).
    ``control_dir`` is already expanded; ``known_groups`` are the inventory's groups."""
    bad = []
    control_dir = str(control_dir)
    if not control_dir.startswith("/") or len(control_dir) > MAX_CONTROL_DIR:
        bad.append("ssh_tuning_control_dir")
    if isinstance(groups, (str, bytes)) or not isinstance(groups, (list, tuple)) or not groups \
            or any(g not in known_groups for g in groups):
        bad.append("ssh_tuning_groups")
    for name, value in (("ssh_tuning_connect_timeout", connect_timeout),
                        ("ssh_tuning_server_alive_interval", server_alive_interval),
                        ("ssh_tuning_server_alive_count_max", server_alive_count_max),
                        ("ssh_tuning_forks", forks)):
        if positive_int(value) is None:
            bad.append(name)
    return bad
