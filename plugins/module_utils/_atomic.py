# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Atomic file writes: a temporary file in the same folder, fsync, then os.replace (standard library only).

The one home of the temp + fsync + replace step. ``atomic_write`` replaces a whole file and
``atomic_symlink`` a symlink; ``temp_beside`` is the first half for callers that must do something
between writing and replacing (validate the candidate, take a backup, re-check the original):
they finish with ``replace_temp``, the second half, which may fsync the folder too. ``tmp_name`` gives the temporary file a fixed
name in the folder instead of a random one: a leftover of an interrupted run under that name (a
file or a symlink) is removed first, so the next write cleans up after a killed one.
"""
from __future__ import annotations

import os
import tempfile


def _temp_path(path, tmp_name):
    """The fixed temporary path ``tmp_name`` in ``path``'s folder, a leftover there removed."""
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), tmp_name)
    if os.path.lexists(tmp):
        os.unlink(tmp)
    return tmp


def temp_beside(path, data, mode=0o644, owner=None, tmp_name=None):
    """A temporary file in ``path``'s folder holding ``data`` (bytes), flushed and fsynced, with
    ``mode`` and, when given, ``owner`` ``(uid, gid)`` (kept only where permitted). Returns its path;
    on any failure nothing is left. ``tmp_name``: its fixed name (see the module's docstring)."""
    if tmp_name is None:
        folder = os.path.dirname(os.path.abspath(path))
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    else:
        tmp = _temp_path(path, tmp_name)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o600)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), mode)
            if owner is not None:
                try:
                    os.fchown(handle.fileno(), owner[0], owner[1])
                except OSError:
                    pass  # not permitted as another user: the file keeps ours, the mode is kept
            os.fsync(handle.fileno())
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def fsync_dir(folder):
    """fsync a folder so that a rename in it survives a crash (best effort: some filesystems refuse)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path, data, mode=0o644, owner=None, sync_dir=False, tmp_name=None):
    """Write ``data`` (bytes) to ``path``: readers see the old file or the new one, never a part;
    on any failure the temporary file is removed and the old file is left as it was.
    ``sync_dir`` also fsyncs the folder after the rename; ``tmp_name``: see the module's docstring."""
    replace_temp(temp_beside(path, data, mode, owner, tmp_name), path, sync_dir)


def atomic_symlink(path, target, tmp_name=None):
    """Make ``path`` a symlink to ``target`` (text), replacing what is there in one rename: readers see the
    old entry or the new link, never none. On any failure the temporary link is removed."""
    if tmp_name is None:
        tmp_name = ".%s.%d.tmp" % (os.path.basename(path), os.getpid())
    tmp = _temp_path(path, tmp_name)
    os.symlink(target, tmp)
    replace_temp(tmp, path)


def replace_temp(tmp, path, sync_dir=False):
    """Rename the temporary file ``tmp`` (``temp_beside``'s) over ``path`` in one step, then, with ``sync_dir``,
    fsync the folder; on failure ``tmp`` is removed and the error raised, ``path`` left as it was."""
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise
    if sync_dir:
        fsync_dir(os.path.dirname(os.path.abspath(path)))


def _unlink(path):
    try:
        os.unlink(path)
    except OSError:
        pass
