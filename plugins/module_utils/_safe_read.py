# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Reading a file the operator (or an attacker) named: the one home for "is it a file, how big, never hang".

Every file the collection reads may be a symlink, a named pipe (FIFO), ``/dev/zero``, a socket, a
directory or another user's secret. The rules, kept here once and imported everywhere:

* the type is checked before the file is opened for reading, and again on the open descriptor
  (``fstat``), so a FIFO swapped in between cannot block: the file is opened ``O_NONBLOCK``, which
  makes ``open()`` of a FIFO return at once instead of waiting for a writer;
* only regular files are read; anything else is refused with its type named;
* at most ``max_bytes`` are read (one more to notice a bigger file, whatever ``st_size`` says:
  files under ``/proc`` report 0);
* with ``follow_links=False`` a symlink is refused (``O_NOFOLLOW`` on the last component);
* messages name the path, what the file was meant to be and the reason, never a byte of content.

Standard library only (modules run this on targets with Python 3.9+).
"""

from __future__ import annotations

import errno
import os
import stat

_TYPE_NAMES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISLNK, "a symbolic link"),
)


class FileReadError(ValueError):
    """A file that was refused or could not be read. The message names the path, never the content.

    ``reason`` is one of ``missing``, ``type``, ``size``, ``link``, ``encoding``, ``os``.
    """

    def __init__(self, message, reason="os"):
        super(FileReadError, self).__init__(message)
        self.reason = reason


def type_name(mode):
    """'a regular file', 'a named pipe (FIFO)', ... for an ``st_mode``."""
    if stat.S_ISREG(mode):
        return "a regular file"
    for test, name in _TYPE_NAMES:
        if test(mode):
            return name
    return "a special file"


def _label(path, what):
    return "%s %s" % (what, path) if what else str(path)


def check_regular(path, what="file", follow_links=True):
    """``os.stat`` of ``path`` when it is a regular file; FileReadError otherwise (missing, FIFO, device...).

    For a path handed to another program (ssh's known_hosts, a CA file for ``ssl``) that would
    otherwise block on a FIFO or read ``/dev/zero`` forever. Does not open the file.
    """
    try:
        info = os.stat(path) if follow_links else os.lstat(path)
    except OSError as exc:
        if exc.errno == errno.ENOENT:
            raise FileReadError("%s does not exist" % _label(path, what), "missing")
        raise FileReadError("%s cannot be read: %s" % (_label(path, what), exc.strerror), "os")
    if not stat.S_ISREG(info.st_mode):
        reason = "link" if stat.S_ISLNK(info.st_mode) else "type"
        raise FileReadError("%s is %s, not a regular file; not read" % (_label(path, what), type_name(info.st_mode)),
                            reason)
    return info


def read_bytes(path, max_bytes, what="file", follow_links=True):
    """The bytes of the regular file ``path``, at most ``max_bytes``; FileReadError otherwise.

    Never blocks on a FIFO, never reads a device, never reads more than ``max_bytes + 1`` bytes.
    """
    check_regular(path, what, follow_links)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileReadError("%s is a symbolic link; not followed" % _label(path, what), "link")
        if exc.errno == errno.ENOENT:
            raise FileReadError("%s does not exist" % _label(path, what), "missing")
        raise FileReadError("%s cannot be read: %s" % (_label(path, what), exc.strerror), "os")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise FileReadError("%s is %s, not a regular file; not read" % (_label(path, what), type_name(info.st_mode)),
                                "type")
        if info.st_size > max_bytes:
            raise FileReadError("%s is %d bytes, over the limit of %d; not read"
                                % (_label(path, what), info.st_size, max_bytes), "size")
        chunks = []
        left = max_bytes + 1
        while left > 0:
            try:
                chunk = os.read(fd, min(left, 1 << 20))
            except OSError as exc:
                raise FileReadError("%s cannot be read: %s" % (_label(path, what), exc.strerror), "os")
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        data = b"".join(chunks)
    finally:
        os.close(fd)
    if len(data) > max_bytes:
        raise FileReadError("%s is over the limit of %d bytes; not read" % (_label(path, what), max_bytes), "size")
    return data


def read_text(path, max_bytes, what="file", follow_links=True):
    """``read_bytes`` decoded as UTF-8; a decoding error names the byte offset, not the bytes."""
    data = read_bytes(path, max_bytes, what, follow_links)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise FileReadError("%s is not UTF-8 text (at byte offset %d)" % (_label(path, what), exc.start), "encoding")


def real_target(path):
    """The file an edit of ``path`` must replace: ``path`` itself, or the final target of its symlinks.

    Editing a symlinked config by writing a new file over the link would break the link and leave
    the real file stale. FileReadError when the chain loops or the target is not a regular file.
    """
    target = os.path.realpath(path)
    check_regular(target, "the target of %s:" % path if target != os.path.abspath(path) else "file")
    return target
