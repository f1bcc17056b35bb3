# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""sshd settings as a drop-in file or a managed block, validated before they count.

Pure text functions (rendering settings, finding and replacing the managed block, reading
``Include`` lines, reading ``sshd -T`` output) and one file operation, ``write_validated``,
which keeps a backup of the file it replaces and never leaves a configuration that ``sshd -t``
refuses in place. Used by the ``sshd_drop_in`` module; standard library only (Python 3.9+).
"""
from __future__ import annotations

import fnmatch
import os
import re
import shlex

from ansible_collections.o2edge.perf.plugins.module_utils import _safe_read
from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write, replace_temp, temp_beside

SSHDIR = "/etc/ssh"
KEYWORD_RE = re.compile(r"^[A-Za-z][A-Za-z0-9]*$")
# sshd time format: 30, 30s, 1m, 1h30m ...
_TIME_RE = re.compile(r"^(?:\d+[sSmMhHdDwW]?)+$")
_TIME_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
TIME_KEYWORDS = frozenset(["logingracetime", "clientaliveinterval"])
# sshd configuration files are small; a bigger one (or /dev/zero, a FIFO) is refused, not read.
MAX_CONFIG_BYTES = 1 << 20


class SshdConfigError(Exception):
    """Bad input or a configuration that sshd refuses; the message says which and why."""


def markers(name):
    return ("# BEGIN %s (managed: do not edit by hand)" % name, "# END %s" % name)


def _value_text(keyword, value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        if not value:
            raise SshdConfigError("%s: an empty list is not a value" % keyword)
        return " ".join(_value_text(keyword, v) for v in value)
    text = str(value).strip()
    if not text:
        raise SshdConfigError("%s: the value is empty" % keyword)
    if "\n" in text or "\r" in text or "#" in text:
        raise SshdConfigError("%s: the value %r holds a line break or a '#'" % (keyword, text))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a byte that is not UTF-8 (os.fsdecode of a file name): written as is, never read back
        raise SshdConfigError("%s: the value is not UTF-8 text (sshd_config is read as UTF-8)" % keyword)
    return text


def render_settings(settings):
    """``{keyword: value}`` -> ``["Keyword value", ...]`` in the given order.

    Booleans become yes/no, lists are joined by spaces. Keywords must be one word of letters and
    digits, and may appear once only (sshd keywords are case-insensitive)."""
    if not isinstance(settings, dict) or not settings:
        raise SshdConfigError("settings must be a non-empty mapping of sshd keyword to value")
    seen = {}
    lines = []
    for keyword, value in settings.items():
        keyword = str(keyword)
        if not KEYWORD_RE.match(keyword):
            raise SshdConfigError("%r is not an sshd keyword (letters and digits only)" % keyword)
        if keyword.lower() in seen:
            raise SshdConfigError("%s is given twice (as %s and %s; sshd keywords are case-insensitive)"
                                  % (keyword, seen[keyword.lower()], keyword))
        if keyword.lower() in ("match", "include"):
            raise SshdConfigError("%s is not allowed here (the settings must apply to every connection)" % keyword)
        seen[keyword.lower()] = keyword
        lines.append("%s %s" % (keyword, _value_text(keyword, value)))
    return lines


def _lines(text):
    return text.splitlines() if text else []


def _join(lines):
    return "\n".join(lines) + "\n" if lines else ""


def find_block(text, name):
    """(first, last) line indexes of the managed block, or None. A BEGIN without END is an error."""
    begin, end = markers(name)
    lines = _lines(text)
    first = last = None
    for i, line in enumerate(lines):
        if line.strip() == begin and first is None:
            first = i
        elif line.strip() == end and first is not None:
            last = i
            break
    if first is not None and last is None:
        raise SshdConfigError("the managed block's begin marker %r has no end marker %r" % (begin, end))
    return None if first is None else (first, last)


def with_block(text, name, body_lines, header=None):
    """The text with the managed block set to ``body_lines``: replaced where it is, or put at the very
    top (sshd keeps the first value it reads for most keywords, and anything after a Match line
    belongs to that Match)."""
    begin, end = markers(name)
    block = [begin] + ([header] if header else []) + list(body_lines) + [end]
    lines = _lines(text)
    where = find_block(text, name)
    if where is None:
        return _join(block + lines)
    first, last = where
    return _join(lines[:first] + block + lines[last + 1:])


def drop_in_text(name, body_lines, header=None):
    return _join(["# %s (managed: do not edit by hand)" % name] + ([header] if header else []) + list(body_lines))


def include_patterns(text, sshdir=SSHDIR):
    """Absolute patterns of the Include lines that apply to every connection (outside Match blocks).
    Relative patterns are relative to ``sshdir``, as sshd reads them."""
    out = []
    for raw in _lines(text):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        try:
            words = shlex.split(line.replace("=", " ", 1) if "=" in line.split(None, 1)[0] else line)
        except ValueError:
            continue
        if not words:
            continue
        keyword = words[0].lower()
        if keyword == "match":
            break
        if keyword != "include":
            continue
        for pattern in words[1:]:
            if pattern.startswith("~"):
                continue  # sshd refuses ~ in its own configuration
            out.append(pattern if pattern.startswith("/") else os.path.join(sshdir, pattern))
    return out


def included(text, path, sshdir=SSHDIR):
    """Does an Include line (outside Match) name ``path``, by glob or literally?"""
    path = os.path.normpath(path)
    for pattern in include_patterns(text, sshdir):
        pattern = os.path.normpath(pattern)
        pdir, pbase = os.path.split(pattern)
        fdir, fbase = os.path.split(path)
        if not fnmatch.fnmatchcase(fdir, pdir):
            continue
        if fbase.startswith(".") and not pbase.startswith("."):
            continue  # glob(3): * does not match a leading dot
        if fnmatch.fnmatchcase(fbase, pbase):
            return True
    return False


def choose_mode(mode, main_text, drop_in_path, sshdir=SSHDIR):
    """``auto`` -> ``drop_in`` when the main config includes the drop-in's path, else ``block``."""
    if mode not in ("auto", "drop_in", "block"):
        raise SshdConfigError("mode must be auto, drop_in or block, not %r" % mode)
    if mode == "auto":
        return "drop_in" if included(main_text, drop_in_path, sshdir) else "block"
    if mode == "drop_in" and not included(main_text, drop_in_path, sshdir):
        raise SshdConfigError("mode drop_in: the main config has no Include line (outside Match) that names %s"
                              % drop_in_path)
    return mode


def parse_sshd_T(output):
    """``sshd -T`` output -> ``{keyword: [value, ...]}`` (keywords lower-case, as sshd prints them)."""
    out = {}
    for line in _lines(output):
        parts = line.strip().split(None, 1)
        if parts:
            out.setdefault(parts[0].lower(), []).append(parts[1] if len(parts) > 1 else "")
    return out


def seconds(text):
    """sshd's time format (``90``, ``30s``, ``1m30s``) -> seconds, or None when it is not one."""
    text = str(text).strip()
    if not _TIME_RE.match(text):
        return None
    return sum(int(n) * _TIME_UNITS[u.lower()] for n, u in re.findall(r"(\d+)([sSmMhHdDwW]?)", text))


def _norm(keyword, value):
    if keyword in TIME_KEYWORDS:
        secs = seconds(value)
        if secs is not None:
            return str(secs)
    return " ".join(str(value).lower().split())


def overridden(rendered_lines, effective):
    """Keywords whose effective value (``sshd -T``) is not the one written: another line that sshd
    reads first (an earlier drop-in, a line above the Include) wins. Keywords sshd -T does not print
    once are not judged."""
    out = []
    for line in rendered_lines:
        keyword, value = line.split(None, 1)
        seen = effective.get(keyword.lower())
        if not seen or len(seen) != 1:
            continue
        if _norm(keyword.lower(), seen[0]) != _norm(keyword.lower(), value):
            out.append({"keyword": keyword, "wanted": value, "effective": seen[0]})
    return out


def read_text(path, what="sshd config"):
    """The text of the sshd config file ``path``, or None when it does not exist. A FIFO, a device, a
    directory or a file over MAX_CONFIG_BYTES is refused (SshdConfigError naming the path, never content)."""
    try:
        return _safe_read.read_text(path, MAX_CONFIG_BYTES, what=what)
    except _safe_read.FileReadError as exc:
        if exc.reason == "missing":
            return None
        raise SshdConfigError(str(exc))


def backup_paths(backup_dir, target):
    base = os.path.basename(target)
    return os.path.join(backup_dir, base + ".orig"), os.path.join(backup_dir, base + ".absent")


def take_backup(backup_dir, target):
    """Copy ``target`` (content, mode, owner) to ``<backup_dir>/<name>.orig``, or when it does not
    exist, leave ``<name>.absent``. Returns (backup path, absent)."""
    os.makedirs(backup_dir, mode=0o700, exist_ok=True)
    os.chmod(backup_dir, 0o700)
    orig, absent = backup_paths(backup_dir, target)
    for stale in (orig, absent):
        if os.path.lexists(stale):
            os.unlink(stale)
    if os.path.exists(target):
        st = os.stat(target)
        try:
            data = _safe_read.read_bytes(target, MAX_CONFIG_BYTES, "sshd config")
        except _safe_read.FileReadError as exc:
            raise SshdConfigError(str(exc))
        atomic_write(orig, data, mode=st.st_mode & 0o7777, owner=(st.st_uid, st.st_gid))
        return orig, False
    with open(absent, "w") as f:
        f.write("%s did not exist before the change\n" % target)
    return absent, True


def _temp_beside(path, text, mode):
    return temp_beside(path, text.encode("utf-8", "surrogateescape"), mode)


def write_validated(target, new_text, main_config, validate, backup_dir, validate_candidate, move=replace_temp):
    """Put ``new_text`` at ``target`` so that sshd never sees a configuration it refuses.

    ``validate(path)`` returns (ok, message) for ``sshd -t -f path``.

    - ``validate_candidate`` (the target IS the main config): the candidate is written beside it,
      validated as the complete configuration, and only then moved into place.
    - otherwise (a drop-in): the drop-in is moved into place, the main config (which includes it)
      is validated, and when sshd refuses it the previous drop-in is put back (or the new one
      removed when there was none).

    A backup of the previous file is taken first (see ``take_backup``). Raises SshdConfigError,
    with sshd's message, when the result is refused; the target is then as it was.
    Returns (backup path, backup_absent)."""
    old_text = read_text(target)
    st = os.stat(target) if old_text is not None else None
    mode = (st.st_mode & 0o7777) if st else 0o644
    backup, absent = take_backup(backup_dir, target)
    directory = os.path.dirname(target)
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    tmp = _temp_beside(target, new_text, mode)
    try:
        if validate_candidate:
            ok, message = validate(tmp)
            if not ok:
                raise SshdConfigError("sshd -t refuses the configuration with the new settings, so %s was left "
                                      "unchanged: %s" % (target, message))
        move(tmp, target)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)
    if validate_candidate:
        return backup, absent
    ok, message = validate(main_config)
    if ok:
        return backup, absent
    if absent:
        os.unlink(target)
    else:
        tmp = _temp_beside(target, old_text, mode)
        try:
            move(tmp, target)
        finally:
            if os.path.lexists(tmp):
                os.unlink(tmp)
    raise SshdConfigError("sshd -t refuses %s with the new drop-in %s, so the drop-in was %s: %s"
                          % (main_config, target, "removed again" if absent else "put back as it was", message))
