# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Round-trip edits of a YAML file (the edge-sites config) and safe, atomic file replacement.

Editing: the document is parsed with ruamel.yaml's round-trip loader, which keeps comments, key
order, quoting and the position of every scalar. A change replaces only the text of the scalar
at the position ruamel reports (same quoting style), so every other byte of the file -- comments,
blank lines, indentation, flow mappings, line widths -- stays as it was; nothing is re-dumped.
The edited text is loaded again and must equal the original document with exactly the requested
values changed, otherwise the edit is refused (``YamlEditError``) and nothing is returned.

Writing: ``read_snapshot`` keeps the bytes, their sha256, the mode and owner of a file as read.
``commit`` writes one or more new contents: it refuses a read-only file (by its mode bits, so
also as root) and a file whose content changed on disk since it was read (sha256 compared right
before the replace), writes each new content to a temporary file in the same folder, fsyncs it,
gives it the original mode (and owner, where permitted), keeps a backup ``<file>.<UTC time>.bak``
when asked, and moves it in place (``_atomic.replace_temp``, then fsyncs the folder). On any failure no
temporary file is left behind, the files already replaced are put back, and the error names the
file. ruamel.yaml is imported defensively (``HAS_RUAMEL``); the file helpers need only the
standard library. Python 3.9+.

Size: over 450 lines because the round-trip edit and the safe commit (snapshot, re-check, backup,
put back on failure) are one transaction; the temp + fsync + replace step is _atomic's.
"""

from __future__ import annotations

import hashlib
import os
import stat
import time

from ansible_collections.o2edge.perf.plugins.module_utils import _yaml_bounds
from ansible_collections.o2edge.perf.plugins.module_utils._atomic import atomic_write, fsync_dir, replace_temp, temp_beside
from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, read_bytes, real_target

try:
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import TaggedScalar
    from ruamel.yaml.error import YAMLError
    HAS_RUAMEL = True
    RUAMEL_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised only without ruamel.yaml
    YAML = TaggedScalar = None
    YAMLError = Exception
    HAS_RUAMEL = False
    RUAMEL_IMPORT_ERROR = exc


class YamlEditError(ValueError):
    """A YAML edit that cannot be made faithfully; the message says where and why."""


class FileChangedError(RuntimeError):
    """A file to be written is read-only, changed since it was read, or could not be replaced.

    ``changed`` lists the files whose content on disk is no longer the one read when the error was
    raised (a replace that went through and could not be put back); empty: nothing was written.
    ``reason`` is the ``_safe_read`` reason when the file could not be read at all.
    """

    def __init__(self, message, changed=(), reason=None):
        super(FileChangedError, self).__init__(message)
        self.changed = list(changed)
        self.reason = reason


# Bounds on a document before ruamel's (recursive) composer sees it: as the edge-sites inventory.
MAX_DEPTH = 32
MAX_VALUES = 100000
# Files read for an edit: an edge-sites config or a known_hosts file.
MAX_FILE_BYTES = 4 << 20


# --------------------------------------------------------------------------- YAML

def _yaml():
    if not HAS_RUAMEL:
        raise YamlEditError("the Python library ruamel.yaml is missing on the controller (pip install ruamel.yaml): %s"
                            % RUAMEL_IMPORT_ERROR)
    y = YAML(typ="rt")
    y.preserve_quotes = True
    return y


def _check_bounds(text, source):
    """Refuse a document too deep or too big before ruamel's composer (it recurses) sees it."""
    if _yaml_bounds.HAS_YAML:
        try:
            _yaml_bounds.check_yaml(text, max_depth=MAX_DEPTH, max_values=MAX_VALUES)
        except _yaml_bounds.YamlBoundsError as exc:
            raise YamlEditError("%s %s" % (source, exc))
        return
    depth = count = 0  # without PyYAML: ruamel's event parser keeps explicit stacks too
    yaml = _yaml()  # outside the try: without ruamel, YAMLError is Exception and would swallow its error
    try:
        for event in yaml.parse(text):
            name = type(event).__name__
            count += 1
            if name in ("MappingStartEvent", "SequenceStartEvent"):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlEditError("%s nests deeper than %d levels" % (source, MAX_DEPTH))
            elif name in ("MappingEndEvent", "SequenceEndEvent"):
                depth -= 1
            if count > MAX_VALUES * 2:
                raise YamlEditError("%s holds more than %d values" % (source, MAX_VALUES))
    except YamlEditError:
        raise
    except YAMLError as exc:
        raise YamlEditError("%s is not valid YAML: %s" % (source, _yaml_bounds.yaml_problem(exc)))


def load(text, source="the document"):
    """The round-trip document of ``text`` (CommentedMap / CommentedSeq, positions kept).

    The text is checked within bounds first (``_yaml_bounds.check_yaml``: depth, values, aliases,
    repeated keys); errors name a line and a problem, never the text.
    """
    _check_bounds(text, source)
    yaml = _yaml()  # outside the try: without ruamel, YAMLError is Exception and would swallow its error
    try:
        return yaml.load(text)
    except RecursionError:
        raise YamlEditError("%s nests too deep to parse" % source)
    except YAMLError as exc:
        raise YamlEditError("%s is not valid YAML: %s" % (source, _yaml_bounds.yaml_problem(exc)))


def is_vault_tag(value):
    """True for a ``!vault`` tagged scalar as the round-trip loader returns it."""
    if TaggedScalar is not None and isinstance(value, TaggedScalar):
        tag = getattr(value.tag, "value", value.tag)
        return str(tag) == "!vault"
    return False


def plain(value):
    """A round-trip document as plain dicts, lists and scalars (tagged scalars as ``(tag, value)``)."""
    if isinstance(value, dict):
        return dict((plain(k), plain(v)) for k, v in value.items())
    if isinstance(value, list):
        return [plain(v) for v in value]
    if TaggedScalar is not None and isinstance(value, TaggedScalar):
        return (str(getattr(value.tag, "value", value.tag)), value.value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return value


def _show_path(path):
    out = ""
    for p in path:
        out += "[%d]" % p if isinstance(p, int) else (".%s" % p if out else str(p))
    return out


def _parent_and_position(data, path):
    node = data
    for p in path[:-1]:
        try:
            node = node[p]
        except (KeyError, IndexError, TypeError):
            raise YamlEditError("%s: no such place in the document" % _show_path(path))
    last = path[-1]
    try:
        if isinstance(node, dict):
            if last not in node:
                raise KeyError(last)
            line, col = node.lc.value(last)
        elif isinstance(node, list):
            line, col = node.lc.item(last)
        else:
            raise TypeError(type(node).__name__)
        value = node[last]
    except (KeyError, IndexError, TypeError, AttributeError):
        raise YamlEditError("%s: no such place in the document" % _show_path(path))
    return node, value, line, col


_PLAIN_END = " \t\r\n#,]}"


def _span(text, offset, value, where):
    """(start, end, quote) of the scalar ``value`` written at ``offset``; refuse anything but a one-line scalar."""
    if not isinstance(value, str) or "\n" in value:
        raise YamlEditError("%s: only a one-line string value can be edited in place" % where)
    ch = text[offset:offset + 1]
    if ch in ("'", '"'):
        body = value.replace("'", "''") if ch == "'" else value
        if ch == '"' and any(c in value for c in '"\\'):
            raise YamlEditError("%s: a double-quoted value with escapes cannot be edited in place" % where)
        end = offset + 1 + len(body)
        if text[offset + 1:end] != body or text[end:end + 1] != ch:
            raise YamlEditError("%s: the value on disk is not the one loaded (an alias or a multi-line scalar?); "
                                "not edited" % where)
        return offset, end + 1, ch
    end = offset + len(value)
    if text[offset:end] != value or (end < len(text) and text[end] not in _PLAIN_END):
        raise YamlEditError("%s: the value on disk is not written as a plain one-line scalar (an alias, a tag, a "
                            "block scalar?); not edited" % where)
    return offset, end, ""


def _render(new, quote):
    if quote == "'":
        return "'%s'" % new.replace("'", "''")
    if quote == '"':
        if any(c in new for c in '"\\') or any(ord(c) < 32 for c in new):
            raise YamlEditError("the new value %r cannot be written double-quoted without escapes" % new)
        return '"%s"' % new
    return new


def _set_in(doc, path, new):
    node = doc
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = new


def edit(text, changes, source="the document"):
    """``text`` with each ``(path, new_value)`` of ``changes`` written in place; ``path`` is a tuple of keys
    and list indexes (``("sites", 1, "address")``).

    Only the scalars' own text changes. The result is loaded again and must equal the original
    document with exactly those values changed; anything else raises ``YamlEditError``.
    """
    data = load(text, source)
    if not changes:
        return text
    starts = [0]
    for line in text.splitlines(True):
        starts.append(starts[-1] + len(line))
    spans = []
    for path, new in changes:
        path = tuple(path)
        where = "%s: %s" % (source, _show_path(path))
        if not isinstance(new, str) or not new or "\n" in new:
            raise YamlEditError("%s: the new value must be a one-line string, got %r" % (where, new))
        _node, old, line, col = _parent_and_position(data, path)
        if line >= len(starts) - 1:
            raise YamlEditError("%s: position %d:%d is outside the text" % (where, line + 1, col + 1))
        start, end, quote = _span(text, starts[line] + col, old, where)
        spans.append((start, end, _render(new, quote), path, new))
    spans.sort(key=lambda s: s[0])
    for a, b in zip(spans, spans[1:]):
        if a[1] > b[0]:
            raise YamlEditError("%s: two changes overlap (%s and %s)" % (source, _show_path(a[3]), _show_path(b[3])))
    out = text
    for start, end, rendered, _path, _new in reversed(spans):
        out = out[:start] + rendered + out[end:]
    expected = plain(data)
    for _s, _e, _r, path, new in spans:
        _set_in(expected, path, new)
    try:
        got = plain(load(out, source))
    except YamlEditError as exc:
        raise YamlEditError("the edited text would not load (%s); not edited" % exc)
    if got != expected:
        raise YamlEditError("%s: the edited document would differ from the intended change; not edited" % source)
    return out


# --------------------------------------------------------------------------- files

class Snapshot(object):
    """A file as read: path (as given), target (the real file behind symlinks), bytes, text, sha256, mode, owner."""

    def __init__(self, path, data, st, target=None):
        self.path = path
        self.target = target or path
        self.data = data
        self.sha256 = hashlib.sha256(data).hexdigest()
        self.mode = stat.S_IMODE(st.st_mode)
        self.uid = st.st_uid
        self.gid = st.st_gid
        self.text = data.decode("utf-8")


def read_snapshot(path, field="file", max_bytes=MAX_FILE_BYTES):
    """Read ``path`` once through ``_safe_read`` (a FIFO, device or directory is refused without blocking,
    at most ``max_bytes``); raise FileChangedError naming ``field`` when it cannot be read as UTF-8 text.

    A symlinked file is read and later written at its final target (``_safe_read.real_target``), so
    an edit never replaces the link with a regular file and leaves the real file stale.
    """
    try:
        target = os.path.realpath(path)
        if target == os.path.abspath(path):
            data = read_bytes(path, max_bytes, what=field)
        else:
            target = real_target(path)
            data = read_bytes(target, max_bytes, what="%s %s, a link to" % (field, path))
        st = os.stat(target)
    except FileReadError as exc:
        raise FileChangedError(str(exc), reason=exc.reason)
    except OSError as exc:
        raise FileChangedError("%s %s cannot be read: %s" % (field, path, exc.strerror or exc))
    try:
        return Snapshot(path, data, st, target)
    except UnicodeDecodeError as exc:
        raise FileChangedError("%s %s is not UTF-8 text (at byte offset %d)" % (field, path, exc.start),
                               reason="encoding")


def sha256_of(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def writable_error(snap, field="file"):
    """Why ``snap``'s file cannot be replaced (read-only by its mode, or its folder), or None."""
    try:
        st = os.stat(snap.target)
    except OSError as exc:
        return "%s %s is gone: %s" % (field, snap.path, exc.strerror or exc)
    mode = stat.S_IMODE(st.st_mode)
    if os.geteuid() == 0:
        read_only = not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    else:
        read_only = not os.access(snap.target, os.W_OK)
    if read_only:
        return "%s %s is read-only (mode %04o); make it writable to let the fix write it" % (field, snap.path, mode)
    folder = os.path.dirname(os.path.abspath(snap.target))
    if not os.access(folder, os.W_OK | os.X_OK):
        return "%s %s: its folder %s is not writable (the new file is written next to it, then moved in place)" % (
            field, snap.path, folder)
    return None


def changed_error(snap, field="file"):
    """A message when the file's content on disk is no longer the one read (sha256), else None."""
    try:
        now = sha256_of(snap.target)
    except OSError as exc:
        return "%s %s cannot be read again: %s" % (field, snap.path, exc.strerror or exc)
    if now != snap.sha256:
        return ("%s %s changed on disk since it was read (sha256 %s..., now %s...); not written, run again"
                % (field, snap.path, snap.sha256[:12], now[:12]))
    return None


def backup_name(path, now=None):
    """``<file>.<UTC YYYYmmddTHHMMSSZ>.bak``, with ``.N`` added when that name is taken."""
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))
    name = "%s.%s.bak" % (path, stamp)
    n = 1
    while os.path.lexists(name):
        name = "%s.%s.%d.bak" % (path, stamp, n)
        n += 1
    return name


def _write_temp(snap, data):
    """A temporary file next to ``snap.target`` holding ``data``, fsynced, with the original mode and owner."""
    return temp_beside(snap.target, data, snap.mode, (snap.uid, snap.gid))


def _write_whole(snap, path, data):
    """``data`` written to ``path`` atomically (``_atomic.atomic_write``) with ``snap``'s mode and owner: a backup,
    or the original put back."""
    atomic_write(path, data, snap.mode, (snap.uid, snap.gid))


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass


def commit(writes, backup=True, field_of=None, before_replace=None):
    """Replace each file of ``writes`` (a list of ``(snapshot, new_text)``) atomically.

    Refuses (``FileChangedError``, nothing written) a read-only file and a file changed since its
    snapshot. A symlinked file is written at its final target (``snap.target``); its backup goes
    next to the target. Returns ``{path: backup_path or None}``. ``field_of`` maps a path to the
    name used in messages; ``before_replace`` is a hook (tests) called right before the sha256 re-check.

    On a failure after a file was replaced, the original is put back from the snapshot. When even
    that fails, the file's backup is kept (it is the only copy of the original), no temporary file
    is left, and the error says what is on disk (``FileChangedError.changed``).
    """
    field_of = field_of or {}
    writes = [(s, t) for s, t in writes if t != s.text]
    for snap, _text in writes:
        error = writable_error(snap, field_of.get(snap.path, "file")) or changed_error(snap, field_of.get(snap.path, "file"))
        if error:
            raise FileChangedError(error)
    temps = []
    backups = {}
    replaced = []
    try:
        for snap, text in writes:
            field = field_of.get(snap.path, "file")
            try:
                temps.append(_write_temp(snap, text.encode("utf-8")))
            except OSError as exc:
                raise FileChangedError("%s %s: cannot write the new content next to it: %s"
                                       % (field, snap.path, exc.strerror or exc))
        if backup:
            for snap, _text in writes:
                field = field_of.get(snap.path, "file")
                name = backup_name(snap.target)
                try:
                    _write_whole(snap, name, snap.data)
                except OSError as exc:
                    raise FileChangedError("%s %s: cannot write the backup %s: %s"
                                           % (field, snap.path, name, exc.strerror or exc))
                backups[snap.path] = name
        if before_replace is not None:
            before_replace()
        for snap, _text in writes:
            error = changed_error(snap, field_of.get(snap.path, "file"))
            if error:
                raise FileChangedError(error)
        for (snap, _text), tmp in zip(writes, temps):
            try:
                replace_temp(tmp, snap.target)
            except OSError as exc:
                raise FileChangedError("%s %s cannot be replaced: %s"
                                       % (field_of.get(snap.path, "file"), snap.path, exc.strerror or exc))
            replaced.append(snap)
            fsync_dir(os.path.dirname(os.path.abspath(snap.target)))
    except BaseException as exc:
        kept = set()
        for snap in replaced:  # put back what was already replaced
            try:
                _write_whole(snap, snap.target, snap.data)
            except OSError:
                kept.add(snap.path)  # its backup is the only copy of the original now: keep it
        for tmp in temps:
            _unlink(tmp)
        for path, name in backups.items():
            if path not in kept:
                _unlink(name)
        if not isinstance(exc, Exception):
            raise
        changed = []
        notes = []
        for snap, _text in writes:  # what is on disk now, by content, not by what was meant
            try:
                same = sha256_of(snap.target) == snap.sha256
            except OSError:
                same = False
            if not same:
                changed.append(snap.path)
                notes.append("%s %s changed on disk; %s" % (
                    field_of.get(snap.path, "file"), snap.path,
                    ("backup at %s" % backups[snap.path]) if snap.path in kept and snap.path in backups
                    else "no backup kept"))
        if not changed:
            raise
        raise FileChangedError("%s; %s" % (exc, "; ".join(notes)), changed=changed)
    return dict((s.path, backups.get(s.path)) for s, _t in writes)


__all__ = ["YamlEditError", "FileChangedError", "Snapshot", "load", "edit", "plain", "is_vault_tag",
           "read_snapshot", "writable_error", "changed_error", "backup_name", "commit"]
