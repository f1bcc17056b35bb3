# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests written for the survivors of a mutation run of kpt/_render_cache.py (see docs/mutation.md)."""
from __future__ import annotations

import os
import shutil

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _render_cache as rc
from ansible_collections.o2edge.perf.plugins.module_utils.kpt._kptfile import KptError
from tests.unit.plugins.module_utils.fifo_guard import call_without_hanging

MIB = 1024 * 1024


class TestTreeFileBound:
    def test_a_package_file_one_byte_over_256_mib_is_refused_by_name_unread(self, tmp_path):
        # A sparse file: the size is checked with fstat before any read, so this costs nothing.
        pkg = tmp_path / "pkg"
        pkg.mkdir()
        big = pkg / "big.yaml"
        with open(str(big), "wb") as handle:
            handle.truncate(256 * MIB + 1)
        with pytest.raises(KptError) as err:
            rc.tree_digest(str(pkg))
        assert str(err.value) == "package file %s is %d bytes, over the limit of %d; not read" % (big, 256 * MIB + 1, 256 * MIB)


class TestCopyRefusal:
    def test_a_fifo_in_a_copied_tree_is_named_as_a_package_file(self, tmp_path):
        src = tmp_path / "src"
        src.mkdir()
        (src / "ok.yaml").write_text("a: 1\n")
        fifo = src / "pipe.yaml"
        os.mkfifo(str(fifo))
        with pytest.raises(shutil.Error) as err:
            call_without_hanging([fifo], rc.copy_tree, str(src), str(tmp_path / "dst"))
        assert err.value.args[0] == [(str(fifo), str(tmp_path / "dst" / "pipe.yaml"),
                                      "package file %s is a named pipe (FIFO), not a regular file; not read" % fifo)]
        assert (tmp_path / "dst" / "ok.yaml").read_text() == "a: 1\n"
