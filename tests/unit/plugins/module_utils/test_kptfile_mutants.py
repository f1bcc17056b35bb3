# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""_kptfile: tests written for the survivors of a whole mutation run (docs/mutation.md), each named for
the bug it catches: every refusal in full, the install hint, ``kpt version``'s error and time limit,
and the line reader used without PyYAML."""
from __future__ import annotations

import os
import re

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.kpt import _kptfile as kf
from tests.unit.plugins.module_utils.fifo_guard import call_without_hanging
from tests.unit.plugins.module_utils.kpt_fixtures import KPTFILE, make_executable, make_pkg


def refusal(text, path="bad/Kptfile"):
    with pytest.raises(kf.KptError) as err:
        kf.parse_kptfile(text, path)
    return str(err.value)


def test_the_install_hint_in_full():
    """Bugs: the hint (the module's last words when kpt is missing or broken) changed or dropped."""
    assert kf.INSTALL_HINT == (
        "install kpt from https://kpt.dev/installation/kpt-cli (download the kpt_linux_amd64 release binary "
        "from https://github.com/kptdev/kpt/releases, put it at /usr/local/bin/kpt and chmod +x it) or set kpt_path")


def test_a_failing_kpt_version_gives_the_exit_status_then_its_whole_stderr(tmp_path):
    """Bugs: the separator between the error and kpt's stderr changed, or more than ': ' stripped from the
    ends (a stderr ending in an X lost its last letter)."""
    kpt = make_executable(tmp_path / "kpt", "#!/bin/sh\necho 'kpt: no binary for OSX' >&2\nexit 3\n")
    assert kf.kpt_version(str(kpt)) == (None, "exit status 3 (expected 0): kpt: no binary for OSX")
    quiet = make_executable(tmp_path / "quiet-kpt", "#!/bin/sh\nexit 4\n")
    assert kf.kpt_version(str(quiet)) == (None, "exit status 4 (expected 0)")


def test_kpt_version_is_given_sixty_seconds(monkeypatch):
    """Bug: another time limit for ``kpt version`` than the documented 60 s."""
    calls = []

    def fake_run_once(argv, **kwargs):
        calls.append((argv, kwargs))
        return {"ok": True, "stdout": "1.0.0-beta.56\n", "stderr": "", "error": ""}

    monkeypatch.setattr(kf, "run_once", fake_run_once)
    assert kf.kpt_version("/opt/kpt", env={"PATH": "/bin"}) == ("1.0.0-beta.56", None)
    assert calls == [(["/opt/kpt", "version"], {"env": {"PATH": "/bin"}, "timeout": 60, "capture_stdout": True})]


def test_too_many_kptfiles_is_refused_in_full(tmp_path):
    """Bug: the message of the Kptfile-count bound changed."""
    pkg = make_pkg(tmp_path, "p", sub=True)
    with pytest.raises(kf.KptError) as err:
        kf.kptfiles(str(pkg), limit=1)
    assert str(err.value) == "%s holds more than 1 Kptfiles" % pkg
    assert kf.kptfiles(str(pkg), limit=2) == [str(pkg / "Kptfile"), str(pkg / "sub" / "Kptfile")]


@pytest.mark.parametrize("text,message", [
    ("x: " + "[" * 40 + "]" * 40 + "\n", "invalid Kptfile bad/Kptfile: nests deeper than 32 levels (line 1)"),
    ("- a\n- b\n", "invalid Kptfile bad/Kptfile: not a mapping"),
    ("pipeline: [1]\n", "invalid Kptfile bad/Kptfile: pipeline is not a mapping"),
    ("pipeline:\n  mutators: {a: 1}\n", "invalid Kptfile bad/Kptfile: pipeline.mutators is not a list"),
    ("pipeline:\n  validators: text\n", "invalid Kptfile bad/Kptfile: pipeline.validators is not a list"),
    ("pipeline:\n  mutators:\n  - configMap: {a: b}\n", "invalid Kptfile bad/Kptfile: a mutators entry has neither image nor exec"),
    ("pipeline:\n  validators:\n  - image: ''\n", "invalid Kptfile bad/Kptfile: a validators entry has neither image nor exec"),
])
def test_every_kptfile_refusal_in_full(text, message):
    """Bugs: a refusal's words changed around the path and the reason (only fragments were checked)."""
    assert refusal(text) == message


def test_a_yaml_error_is_named_after_the_path_with_its_line_and_column():
    """Bug: the YAML error's message changed around the bounded reader's reason."""
    # the parser's own words differ between libyaml and pure-Python PyYAML: only they are left open
    assert re.fullmatch(r"invalid Kptfile bad/Kptfile: is not valid YAML: [^\n]+ \(line 2, column 1\)",
                        refusal("metadata: [oops\n"))


def test_without_pyyaml_each_function_line_is_one_pipeline_function_with_only_its_quotes_removed(monkeypatch):
    """Bugs: the line reader's stage key or value changed, or more than the quotes stripped from a value
    (a name ending in X lost it)."""
    monkeypatch.setattr(kf, "HAS_YAML", False)
    text = KPTFILE.format(name="p", exec_path="\"./fn-X\"", team="a", extra="    - image: 'reg/X:vX'\n")
    assert kf.parse_kptfile(text) == [{"stage": "pipeline", "fn": {"exec": "./fn-X"}},
                                      {"stage": "pipeline", "fn": {"image": "reg/X:vX"}}]


def test_an_oversized_kptfile_is_refused_in_full(tmp_path):
    """Bugs: the file named as something else than a Kptfile, or the words around the reader's reason changed."""
    pkg = make_pkg(tmp_path, "p")
    path = pkg / "Kptfile"
    with open(str(path), "wb") as f:
        f.truncate(kf.MAX_KPTFILE_BYTES + 1)  # sparse: the bound is checked, nothing big is written
    with pytest.raises(kf.KptError) as err:
        kf.package_functions(str(pkg))
    assert str(err.value) == "invalid Kptfile %s is %d bytes, over the limit of %d; not read" % (
        path, kf.MAX_KPTFILE_BYTES + 1, kf.MAX_KPTFILE_BYTES)


def test_a_fifo_kptfile_is_refused_in_full(tmp_path):
    """Bug: the words around the reader's reason changed for a Kptfile that is not a regular file."""
    pkg = make_pkg(tmp_path, "p")
    fifo = pkg / "Kptfile"
    fifo.unlink()
    os.mkfifo(str(fifo))
    with pytest.raises(kf.KptError) as err:
        call_without_hanging([fifo], kf.package_functions, str(pkg))
    assert str(err.value) == "invalid Kptfile %s is a named pipe (FIFO), not a regular file; not read" % fifo
