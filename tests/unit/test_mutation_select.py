"""tests/tools/mutation_select.py: the per-mutant test selection of tests/tools/mutation.py.

Bugs it catches: a mutant given the tests of its own line only (a test that runs another line of the same
multi-line statement is left out, and the mutant survives falsely); a statement run at import time given the
tests that happen to run it again (every test uses what the import made: the whole list is the only sound
choice); a statement no traced test runs given no test at all, or a stale map used for a changed source; the
recorder losing lines run by a module fixture for the tests that use it, missing a test that starts Python,
or calling module-level lines test lines; the deselecting plugin running the wrong tests.
"""
import importlib.util
import json
import os
import subprocess
import sys
import textwrap

import pytest

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SPEC = importlib.util.spec_from_file_location("o2edge_mutation_select_test", os.path.join(_ROOT, "tests", "tools", "mutation_select.py"))
ms = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(ms)

SOURCE = textwrap.dedent('''\
    LIMIT = 3


    def f(x,
          y=LIMIT):
        total = (x +
                 y +
                 1)
        if (x >
                y):
            return total
        return -total


    @staticmethod
    def g():
        return 1
''')


def fmap(lines, import_lines=(), always=(), source=SOURCE):
    tests = sorted(lines)
    return {"version": ms.MAP_VERSION, "sha256": ms.sha256_text(source), "tests": tests, "lines": lines,
            "import_lines": list(import_lines), "always": list(always)}


def test_a_mutant_takes_the_innermost_statement_whole():
    assert ms.statement_span(SOURCE, 7) == (6, 8)  # the middle line of a three-line assignment
    assert ms.statement_span(SOURCE, 10) == (9, 11)  # an `if` condition's second line: the whole `if`
    assert ms.statement_span(SOURCE, 11) == (11, 11)
    assert ms.statement_span(SOURCE, 15) == (15, 17)  # a decorator belongs to its definition
    assert ms.statement_span(SOURCE, 5) == (4, 12)  # a default value: the definition


def test_a_test_that_runs_another_line_of_the_mutated_statement_is_selected():
    # The tracer saw only line 6 of the statement 6-8 in "t_a": a mutant on line 8 must still get it.
    nodeids, reason = ms.select(fmap({"t_a": [6], "t_b": [12], "t_c": [11]}), SOURCE, 8)
    assert (nodeids, reason) == (["t_a"], "selected")


def test_only_the_tests_that_run_the_statement_and_the_always_ones_are_selected_in_order():
    lines = {"t_a": [11], "t_b": [12], "t_c": [9, 11], "t_d": []}
    assert ms.select(fmap(lines, always=["t_d"]), SOURCE, 12) == (["t_b", "t_d"], "selected")
    assert ms.select(fmap(lines), SOURCE, 11) == (["t_a", "t_c"], "selected")


def test_a_statement_run_at_import_time_takes_the_whole_list():
    lines = {"t_a": [1, 6], "t_b": [17]}
    assert ms.select(fmap(lines, import_lines=[1]), SOURCE, 1) == (None, "runs at import time")
    # the default value is evaluated by the `def` at import time, though a test ran the body
    assert ms.select(fmap(lines, import_lines=[4, 5, 15, 16]), SOURCE, 5) == (None, "runs at import time")
    assert ms.select(fmap(lines, import_lines=[15]), SOURCE, 15) == (None, "runs at import time")


def test_a_statement_no_test_ran_takes_the_whole_list():
    assert ms.select(fmap({"t_a": [6, 7, 8]}), SOURCE, 12) == (None, "no test runs it")


def test_a_missing_or_stale_map_takes_the_whole_list():
    assert ms.select(None, SOURCE, 7) == (None, "no map")
    assert ms.select(fmap({"t_a": [6]}), SOURCE.replace("1)", "2)"), 7) == (None, "source differs from the mapped one")
    old = fmap({"t_a": [6]})
    old["version"] = ms.MAP_VERSION + 1
    assert ms.select(old, SOURCE, 7) == (None, "no map")


def test_the_test_files_are_given_once_in_their_first_order():
    assert ms.test_files(["b.py::t1", "a.py::t[x::y]", "b.py::C::t2"]) == ["b.py", "a.py"]


TARGET = textwrap.dedent('''\
    import os

    SEEN = []


    def used_by_fixture():
        return 41 + 1


    def used_by_one():
        SEEN.append(1)
        return SEEN


    def used_by_test_two():
        return "two"


    class K:
        VALUE = 1

        def method(self):
            return self.VALUE
''')

TESTS = textwrap.dedent('''\
    import importlib
    import subprocess
    import sys

    import pytest

    import target_mod


    @pytest.fixture(scope="module")
    def made():
        yield target_mod.used_by_fixture()
        target_mod.used_by_test_two()


    def test_one():
        assert target_mod.used_by_one() == [1]


    def test_two(made):
        assert made == 42


    def test_three(made):
        assert target_mod.K().method() == 1


    def test_starts_python():
        subprocess.run([sys.executable, "-c", "pass"], check=True)


    def test_starts_echo():
        subprocess.run(["echo"], check=True, stdout=subprocess.DEVNULL)


    def test_reloads():
        importlib.reload(target_mod)


    @pytest.mark.parametrize("value", ["a", "b"])
    def test_param(value):
        assert value in "ab"
''')


def _pytest(tmp_path, *args):
    env = dict(os.environ, PYTHONPATH=_ROOT + os.pathsep + str(tmp_path))
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "--rootdir", str(tmp_path),
                           "-p", "tests.tools.mutation_select"] + list(args), cwd=str(tmp_path), env=env, check=False,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True)


def _line(text, source=TARGET):
    return source.splitlines().index(text) + 1


def test_the_recorder_maps_lines_to_tests_fixtures_and_import_time(tmp_path):
    (tmp_path / "target_mod.py").write_text(TARGET)
    (tmp_path / "test_sel_demo.py").write_text(TESTS)
    out = tmp_path / "map.json"
    res = _pytest(tmp_path, "--o2-map-out=%s" % out, "--o2-map-target=target_mod.py", "test_sel_demo.py")
    assert res.returncode == 0, res.stdout
    got = json.loads(out.read_text())
    assert got["sha256"] == ms.sha256_text(TARGET)
    ids = ["test_sel_demo.py::test_one", "test_sel_demo.py::test_two", "test_sel_demo.py::test_three",
           "test_sel_demo.py::test_starts_python", "test_sel_demo.py::test_starts_echo", "test_sel_demo.py::test_reloads",
           "test_sel_demo.py::test_param[a]", "test_sel_demo.py::test_param[b]"]
    assert got["tests"] == ids
    fixture_line, one_line = _line("    return 41 + 1"), _line("    SEEN.append(1)")
    teardown_line, method_line = _line('    return "two"'), _line("        return self.VALUE")
    assert one_line in got["lines"][ids[0]] and fixture_line not in got["lines"][ids[0]]
    # the module fixture was set up in test_two only, but test_three uses what it made, and its teardown
    # (run at the end of the module, in the last test's teardown) is theirs too
    for nodeid in ids[1:3]:
        assert fixture_line in got["lines"][nodeid] and teardown_line in got["lines"][nodeid], nodeid
    assert method_line in got["lines"][ids[2]] and method_line not in got["lines"][ids[1]]
    # module and class bodies are import time, never a test's, even when a test runs them again (a reload)
    for text in ("SEEN = []", "    VALUE = 1", "import os"):
        assert _line(text) in got["import_lines"], text
        assert not any(_line(text) in ran for ran in got["lines"].values()), text
    assert got["always"] == [ids[3]]  # Python may run the target out of the tracer's sight; echo cannot
    # and the selection built on it
    assert ms.select(got, TARGET, fixture_line) == (ids[1:4], "selected")
    assert ms.select(got, TARGET, _line("SEEN = []")) == (None, "runs at import time")


def test_the_deselector_runs_the_listed_tests_or_the_whole_files(tmp_path):
    (tmp_path / "target_mod.py").write_text(TARGET)
    (tmp_path / "test_sel_demo.py").write_text(TESTS)
    wanted = tmp_path / "wanted.txt"
    wanted.write_text("test_sel_demo.py::test_three\ntest_sel_demo.py::test_one\n")
    res = _pytest(tmp_path, "-vv", "--o2-select=%s" % wanted, "test_sel_demo.py")
    assert res.returncode == 0, res.stdout
    assert "test_one PASSED" in res.stdout and "test_three PASSED" in res.stdout
    assert "test_two" not in res.stdout and "2 passed, 6 deselected" in res.stdout
    # a parameter id that changed since the map (random values): every parametrization of that function
    wanted.write_text("test_sel_demo.py::test_three\ntest_sel_demo.py::test_param[c]\n")
    res = _pytest(tmp_path, "-vv", "--o2-select=%s" % wanted, "test_sel_demo.py")
    assert res.returncode == 0 and "3 passed, 5 deselected" in res.stdout, res.stdout
    assert "test_param[a] PASSED" in res.stdout and "test_param[b] PASSED" in res.stdout and "test_three PASSED" in res.stdout
    # a test function that is gone: the whole file
    wanted.write_text("test_sel_demo.py::test_three\ntest_sel_demo.py::test_gone\n")
    res = _pytest(tmp_path, "--o2-select=%s" % wanted, "test_sel_demo.py")
    assert res.returncode == 0 and "8 passed" in res.stdout, res.stdout


_MSPEC = importlib.util.spec_from_file_location("o2edge_mutation_tool_test", os.path.join(_ROOT, "tests", "tools", "mutation.py"))
mt = importlib.util.module_from_spec(_MSPEC)
_MSPEC.loader.exec_module(mt)


def test_a_work_folder_copied_from_elsewhere_does_not_test_the_old_tree(tmp_path):
    """Bug: a work folder copied from another checkout kept conftest's import link to that checkout's tree, so every
    test imported the old, unmutated code and every mutant survived. The link goes; what it named stays."""
    old_tree = tmp_path / "elsewhere" / "tree"
    (old_tree / "plugins").mkdir(parents=True)
    (old_tree / "plugins" / "x.py").write_text("old code\n")
    tree = tmp_path / "work" / "tree"
    link_dir = tree / ".build" / "unit" / "ansible_collections" / "o2edge"
    link_dir.mkdir(parents=True)
    os.symlink(str(old_tree), str(link_dir / "perf"))
    (tree / ".build" / "keep").write_text("other build output\n")
    mt.drop_collection_link(str(tree))
    assert not os.path.lexists(str(link_dir / "perf"))
    assert (old_tree / "plugins" / "x.py").read_text() == "old code\n"
    assert (tree / ".build" / "keep").read_text() == "other build output\n"


@pytest.mark.parametrize("code, is_fatal", [(0, False), (1, True), (2, False), (3, True), (4, False), (6, False),
                                            (9, True), (15, True), (-9, False)])
def test_a_fatal_mutmut_run_is_told_from_one_with_survivors(code, is_fatal):
    """Bug: a run whose baseline failed (mutmut's exit bit 1) reported the cache's old counts as this run's; or a run
    with survivors (2), timeouts (4) or suspicious mutants (8) taken as fatal; or one killed by a signal."""
    assert mt.fatal(code) is is_fatal


def test_a_recount_judges_every_survivor_again_and_keeps_every_other_verdict(tmp_path, monkeypatch):
    """Bug: a recount left survivors with their first verdict (mutmut skipped those whose line text occurs twice),
    or reset kills, timeouts or mutants not run yet."""
    import sqlite3
    con = sqlite3.connect(str(tmp_path / ".mutmut-cache"))
    con.execute('CREATE TABLE Mutant (id INTEGER PRIMARY KEY, status TEXT NOT NULL)')
    rows = [(1, "bad_survived"), (2, "ok_killed"), (3, "bad_survived"), (4, "bad_timeout"), (5, "ok_suspicious"),
            (6, "untested")]
    con.executemany("INSERT INTO Mutant VALUES (?, ?)", rows)
    con.commit()
    con.close()
    monkeypatch.setattr(mt, "TREE", str(tmp_path))
    assert mt.reset_survivors() == 2
    con = sqlite3.connect(str(tmp_path / ".mutmut-cache"))
    assert con.execute("SELECT id, status FROM Mutant ORDER BY id").fetchall() == [
        (1, "untested"), (2, "ok_killed"), (3, "untested"), (4, "bad_timeout"), (5, "ok_suspicious"), (6, "untested")]
    con.close()


def test_a_stop_time_already_past_stops_at_once_instead_of_tomorrow():
    """Bugs: a chain of runs whose stop time had passed ran its next file until the same time the next day (so
    through a quiet window kept for timing); a malformed time taken as some other time."""
    day = 1796601600.0  # 2026-12-07 00:00 UTC
    assert mt.stop_deadline("13:00", day + 12 * 3600) == day + 13 * 3600
    assert mt.stop_deadline("13:00", day + 13 * 3600 + 26) == day + 13 * 3600  # past: the caller stops at once
    assert mt.stop_deadline("00:05", day + 60) == day + 300
    for bad in ("13", "25:00", "12:60", "x:y", "-1:10", "1:2:3"):
        assert mt.stop_deadline(bad, day) is None, bad


def test_the_mutants_mutmut_left_untested_are_judged_one_by_one(tmp_path, monkeypatch):
    """Bugs: a finished run counting the mutants mutmut never ran as survivors (or as killed), a mutant judged on the
    pristine file, the pristine file not put back, or a mutant that applies nothing counted as a survivor."""
    import sqlite3
    root = tmp_path / "root"
    tree = tmp_path / "tree"
    for base in (root, tree):
        (base / "pkg").mkdir(parents=True)
        (base / "pkg" / "m.py").write_text("X = 1\n")
    con = sqlite3.connect(str(tree / ".mutmut-cache"))
    con.execute("CREATE TABLE Mutant (id INTEGER PRIMARY KEY, status TEXT NOT NULL)")
    con.executemany("INSERT INTO Mutant VALUES (?, ?)", [(1, "untested"), (2, "ok_killed"), (3, "untested"), (4, "untested")])
    con.commit()
    con.close()
    # a stand-in for `mutmut apply N`: mutant 1 makes X = 2, mutant 3 makes X = 1 again (the test passes), 4 changes nothing
    fake = tmp_path / "mutmut"
    fake.write_text("#!/bin/sh\ncase $2 in 1) echo 'X = 2' > pkg/m.py;; 3) echo 'X = 1 ' > pkg/m.py;; esac\n")
    fake.chmod(0o755)
    test = tmp_path / "t.sh"
    test.write_text("#!/bin/sh\ngrep -q 'X = 2' pkg/m.py && exit 1; exit 0\n")
    test.chmod(0o755)
    monkeypatch.setattr(mt, "ROOT", str(root))
    monkeypatch.setattr(mt, "TREE", str(tree))
    assert mt.run_untested(str(fake), "pkg/m.py", "sh %s" % test) == {1: "ok_killed", 3: "bad_survived", 4: "skipped"}
    assert (tree / "pkg" / "m.py").read_text() == "X = 1\n"
    con = sqlite3.connect(str(tree / ".mutmut-cache"))
    assert con.execute("SELECT id, status FROM Mutant ORDER BY id").fetchall() == [
        (1, "ok_killed"), (2, "ok_killed"), (3, "bad_survived"), (4, "skipped")]
    con.close()
