# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Packages, exec functions and fake kpt executables shared by the kpt unit tests.

Nothing here goes to the network: the exec function is a sed script and the fake kpt is a
shell script that answers ``version`` and "renders" by writing one file.
"""
from __future__ import annotations

import stat

KPTFILE = """apiVersion: kpt.dev/v1
kind: Kptfile
metadata:
  name: {name}
pipeline:
  mutators:
    - exec: {exec_path}
      configMap:
        team: {team}
{extra}"""

PLAIN_KPTFILE = "apiVersion: kpt.dev/v1\nkind: Kptfile\nmetadata:\n  name: {name}\n"

FN = """#!/bin/sh
# adds a label to every resource (reads and writes a ResourceList)
sed 's/^\\(    name: cm.*\\)$/\\1\\n    labels:\\n      rendered: "yes"/'
"""

CM = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm{n}\ndata:\n  a: b\n"

# A stand-in for kpt: ``version`` prints a version; ``fn render PKG`` sleeps FAKE_KPT_SLEEP seconds
# (when set), fails when PKG has a file named FAIL, else writes PKG/rendered.txt: the names of the
# package's files then the bytes of its *.data files, so the output depends on names and contents.
FAKE_KPT = """#!/bin/sh
if [ "$1" = version ]; then echo 1.0.0-beta.56; exit 0; fi
pkg="$3"
if [ -n "$FAKE_KPT_SLEEP" ]; then sleep "$FAKE_KPT_SLEEP"; fi
if [ -e "$pkg/FAIL" ]; then echo "render of $pkg failed on purpose" >&2; exit 1; fi
out=$(cd "$pkg" && ls -A | LC_ALL=C sort && cat ./*.data 2>/dev/null)
printf '%s\\n' "$out" > "$pkg/rendered.txt"
"""


class FakeResolver(object):
    def __init__(self, known):
        self.known = known

    def identity(self, image):
        return self.known.get(image)


def make_executable(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


def make_pkg(base, name, exec_path="../fn.sh", team="a", extra="", sub=False):
    """A package whose Kptfile runs ``exec_path`` (relative to the package by default), with cm.yaml."""
    pkg = base / name
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(KPTFILE.format(name=name, exec_path=exec_path, team=team, extra=extra))
    (pkg / "cm.yaml").write_text(CM.format(n=1))
    if sub:
        (pkg / "sub").mkdir()
        (pkg / "sub" / "Kptfile").write_text(PLAIN_KPTFILE.format(name="sub"))
        (pkg / "sub" / "cm.yaml").write_text(CM.format(n=2))
    return pkg


def make_fn(base):
    """The sed exec function at ``base/fn.sh``."""
    return make_executable(base / "fn.sh", FN)


def make_plain_pkg(base, name, data):
    """A package without functions (for the fake kpt): a Kptfile and ``input.data``."""
    pkg = base / name
    pkg.mkdir(parents=True)
    (pkg / "Kptfile").write_text(PLAIN_KPTFILE.format(name=name))
    (pkg / "input.data").write_text(data)
    return pkg


def make_fake_kpt(base):
    return str(make_executable(base / "fake-kpt", FAKE_KPT))
