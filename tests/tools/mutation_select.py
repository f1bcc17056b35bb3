"""Per-mutant test selection for tests/tools/mutation.py (stdlib only; a pytest plugin and the selection rule).

mutmut 2 runs a file's whole TARGETS test list for every mutant. Most tests never execute the mutated
statement, so they run the same code as on the unmutated file and pass again: running them proves nothing.
This module records, once per run, which tests execute which lines of the (unmutated) target file, and then
gives each mutant only the tests that execute the statement it changes.

Recording (``--o2-map-out PATH --o2-map-target FILE``, a pytest plugin loaded with ``-p``): ``sys.settrace``
and ``threading.settrace`` trace only frames whose code is in the target file (every other frame returns no
local tracer, so the cost stays low), and note each executed line under the test running at that moment
(setup, call or teardown; a background thread's lines go to the test that is running when they execute).
Lines executed outside any test (collection, imports), and lines of module or class bodies whenever they run
(an import inside a test, a reload), are "import time". Lines run while a fixture of a wider scope than the
function is set up or torn down are also given to every test that uses that fixture (a module fixture runs in
the first test that needs it; the others use what it made). A test that starts a Python interpreter, a shell
or a fork (seen by an audit hook) may run the target where the tracer cannot see it: it is in every selection.

Selection (``select``): a mutant on line L takes the innermost statement containing L (``ast``; a compound
statement's header takes the whole statement, a decorated definition starts at its first decorator) and the
tests whose recorded lines meet that statement's lines. The whole list is used instead when: the map is
missing or was made from another source (sha256), the statement has a line run at import time, or no test
ran it. The selected tests run with ``--o2-select FILE`` (their node ids, one a line: no argv limit), only
their test files on the command line (pytest collects per file), and the plugin deselects the rest; a
selected id that is not collected again (a parameter id made of random bytes) keeps every parametrization of
its test function, or every test of those files when the function is not found either.

Why this is sound: a mutant changes only the code of one statement. A test that never executes that statement
(and does not run it at import time, which falls back to the whole list) executes exactly the code it executes
on the unmutated file, so it passes again and cannot kill the mutant; leaving it out changes no verdict.
Where it is not: (1) code run out of sight of the tracer, in a subprocess: a test that starts Python, a shell
or a fork is always selected, and a statement that no traced test ran takes the whole list; (2) tests whose
outcome depends on the order or on state left by other tests (a deselected test no longer sets it up): that
can make a survivor that the whole suite would kill, or a kill that it would not. mutation.py's ``--resume``
therefore reruns every survivor of a selected pass against the whole list (``--full`` gives the old
behaviour throughout), so the final counts are those of the whole suite.
"""
import ast
import hashlib
import json
import os
import shutil
import sys
import threading

try:  # the recorder's fixture hook needs pytest; mutmut's hook (mutmut_config.py) imports this file without it
    import pytest
except ImportError:  # pragma: no cover
    pytest = None

MAP_VERSION = 1
CO_OPTIMIZED = 0x0001  # set on function code; module and class bodies lack it
_SHELLS = {"sh", "bash", "dash", "zsh", "ksh", "env", "xargs", "timeout", "nice", "setsid", "unshare", "sudo"}


def sha256_text(text):
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


# ---------------------------------------------------------------------------------------------------------
# Selection (used by the mutmut_config.py hook that mutation.py writes into the work tree)

def statement_span(source, line):
    """(first, last) line of the innermost statement containing ``line`` (1-based), or None.

    A decorated definition starts at its first decorator; a line in a compound statement's header (an ``if``
    condition, a ``for`` target, an ``except`` clause ...) is not inside a child statement, so it takes the
    whole compound statement."""
    best = None
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.stmt):
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", ())])
        last = node.end_lineno
        if first <= line <= last and (best is None or last - first < best[1] - best[0]
                                      or (last - first == best[1] - best[0] and first >= best[0])):
            best = (first, last)
    return best


def select(fmap, source, line):
    """(node ids or None, reason) for a mutant on ``line`` of ``source``; None means the whole list."""
    if not fmap or fmap.get("version") != MAP_VERSION:
        return None, "no map"
    if fmap.get("sha256") != sha256_text(source):
        return None, "source differs from the mapped one"
    span = statement_span(source, line)
    if span is None:
        return None, "no statement"
    lines = set(range(span[0], span[1] + 1))
    if lines & set(fmap["import_lines"]):
        return None, "runs at import time"
    covered = {nodeid for nodeid, ran in fmap["lines"].items() if lines & set(ran)}
    if not covered:
        return None, "no test runs it"
    always = set(fmap.get("always", ()))
    return [t for t in fmap["tests"] if t in covered or t in always], "selected"


def test_files(nodeids):
    """The test files of ``nodeids``, in their first order."""
    files = []
    for nodeid in nodeids:
        name = nodeid.split("::", 1)[0]
        if name not in files:
            files.append(name)
    return files


class Selector:
    """State of the hook in mutmut's worker: the map, the target, the command's parts."""

    def __init__(self, config_path):
        with open(config_path) as f:
            self.conf = json.load(f)
        try:
            with open(self.conf["map"]) as f:
                self.fmap = json.load(f)
        except (OSError, ValueError, TypeError):  # no map: every mutant takes the whole list
            self.fmap = None

    def command(self, context):
        """The test command for the mutant of ``context`` (mutmut's Context, before the mutant is applied);
        writes the node ids to the selection file and a line to the log. None: the whole list."""
        conf = self.conf
        line = context.mutation_id.line_number + 1
        nodeids, reason = None, "other file"
        try:
            if os.path.normpath(context.filename) == os.path.normpath(conf["target"]):
                with open(context.filename, encoding="utf-8") as f:
                    source = f.read()
                nodeids, reason = select(self.fmap, source, line)
        except (OSError, ValueError, SyntaxError, KeyError, TypeError) as exc:  # never lose a mutant to the hook
            nodeids, reason = None, "hook error: %s" % type(exc).__name__
        command = None  # None: mutmut's own command, the whole list
        if nodeids is not None:
            with open(conf["select_file"], "w") as f:
                f.write("\n".join(nodeids) + "\n")
            command = "%s -p tests.tools.mutation_select --o2-select=%s %s" % (
                conf["prefix"], conf["select_file"], " ".join(test_files(nodeids)))
        with open(conf["log"], "a") as f:
            f.write(json.dumps({"line": line, "index": context.mutation_id.index, "reason": reason,
                                "tests": None if nodeids is None else len(nodeids)}) + "\n")
        return command


# ---------------------------------------------------------------------------------------------------------
# The pytest plugin: recording (--o2-map-out) and deselecting (--o2-select)

def pytest_addoption(parser):
    group = parser.getgroup("o2edge mutation selection")
    group.addoption("--o2-map-out", help="record which tests run which lines of --o2-map-target into this JSON file")
    group.addoption("--o2-map-target", help="the file whose lines are recorded")
    group.addoption("--o2-select", help="run only the node ids listed in this file (one a line)")


def pytest_configure(config):
    if config.getoption("--o2-map-out"):
        config.pluginmanager.register(Recorder(config.getoption("--o2-map-target"), config.getoption("--o2-map-out")),
                                      "o2edge-map-recorder")
    if config.getoption("--o2-select"):
        with open(config.getoption("--o2-select")) as f:
            wanted = [x for x in f.read().splitlines() if x]
        config.pluginmanager.register(Deselector(wanted), "o2edge-deselector")


def base_id(nodeid):
    """A node id without its parameter part: ``f.py::test[a::b]`` -> ``f.py::test``."""
    return nodeid.split("[", 1)[0]


class Deselector:
    def __init__(self, wanted):
        self.wanted = set(wanted)

    def pytest_collection_modifyitems(self, config, items):
        found = {item.nodeid for item in items}
        # A parameter id made of random or changing values (os.urandom in a parametrize list) is not collected
        # again as recorded: every parametrization of that test function is kept instead, and when the function
        # itself is not found, every test of these files.
        bases = {base_id(nodeid) for nodeid in self.wanted - found}
        if not bases <= {base_id(nodeid) for nodeid in found}:
            sys.stderr.write("o2edge selection: a selected test is not collected; running these files whole\n")
            return
        keep = [item for item in items if item.nodeid in self.wanted or base_id(item.nodeid) in bases]
        kept = {id(item) for item in keep}
        drop = [item for item in items if id(item) not in kept]
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


def _program_may_run_python(argv0):
    """Whether a started program may run the target: a Python interpreter, a shell or launcher, or a script
    whose first line names Python."""
    if argv0 is None:
        return True
    if isinstance(argv0, bytes):
        argv0 = os.fsdecode(argv0)
    argv0 = str(argv0)
    base = os.path.basename(argv0)
    if base.startswith("python") or base in _SHELLS:
        return True
    path = argv0 if os.sep in argv0 else shutil.which(argv0)
    if not path:
        return False
    if os.path.realpath(path) == os.path.realpath(sys.executable):
        return True
    try:
        with open(path, "rb") as f:
            head = f.read(128)
    except OSError:
        return False
    return head.startswith(b"#!") and b"python" in head.split(b"\n", 1)[0]


class Recorder:
    """Records, per test node id, the lines of one file executed during its setup, call and teardown."""

    def __init__(self, target, out):
        self.target = os.path.realpath(target)
        self.out = out
        with open(self.target, encoding="utf-8") as f:
            self.sha256 = sha256_text(f.read())
        self.current = None  # node id of the test running, None outside tests
        self.lines = {}  # node id -> set of lines
        self.import_lines = set()
        self.fixture_lines = {}  # fixture name -> set of lines (fixtures wider than a function)
        self.active_fixtures = []  # names of the wide fixtures being set up or torn down
        self.spawns = {}  # node id -> programs started that may run the target
        self.outside_spawn = False
        self._is_target = {}
        self._lock = threading.Lock()

    # tracing
    def _record(self, frame):
        line = frame.f_lineno
        if line is None:
            return
        with self._lock:
            if self.current is None or not frame.f_code.co_flags & CO_OPTIMIZED:
                self.import_lines.add(line)
            else:
                self.lines[self.current].add(line)
            for name in self.active_fixtures:
                self.fixture_lines.setdefault(name, set()).add(line)

    def _global(self, frame, event, arg):
        name = frame.f_code.co_filename
        hit = self._is_target.get(name)
        if hit is None:
            hit = self._is_target[name] = os.path.realpath(name) == self.target
        if not hit:
            return None
        self._record(frame)  # a call, or a generator resumed (its line already ran; recording it again is harmless)
        return self._local

    def _local(self, frame, event, arg):
        self._record(frame)
        return self._local

    def _audit(self, event, args):
        if event not in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.fork", "os.forkpty"):
            return
        if event == "subprocess.Popen":
            program, argv = args[0], args[1]
            if program is None and isinstance(argv, (str, bytes)):
                words = os.fsdecode(argv).split()
                program = words[0] if words else None
            elif program is None and argv:
                program = argv[0]
        elif event in ("os.posix_spawn", "os.exec"):
            program = args[0]
        else:
            program = None  # a fork or a shell command line
        if not _program_may_run_python(program):
            return
        with self._lock:
            if self.current is None:
                self.outside_spawn = True
            else:
                self.spawns.setdefault(self.current, set()).add(str(program))

    def _snapshot_live_frames(self):
        """A frame of the target already running when a test starts (a server thread blocked on a line) goes on
        with that line in the new test without a new line event: give its line, and its callers', to the test."""
        for frame in sys._current_frames().values():
            while frame is not None:
                if self._is_target.get(frame.f_code.co_filename):
                    self._record(frame)
                frame = frame.f_back

    # pytest hooks
    def pytest_sessionstart(self, session):
        sys.addaudithook(self._audit)
        threading.settrace(self._global)
        sys.settrace(self._global)

    def pytest_runtest_logstart(self, nodeid, location):
        with self._lock:
            self.current = nodeid
            self.lines.setdefault(nodeid, set())
        self._snapshot_live_frames()

    def pytest_runtest_logfinish(self, nodeid, location):
        with self._lock:
            self.current = None

    def pytest_fixture_setup(self, fixturedef, request):
        if fixturedef.scope == "function":
            return (yield)
        name = fixturedef.argname
        fixturedef.addfinalizer(lambda: self._leave(name))  # runs after the fixture's own teardown (LIFO)
        self._enter(name)
        try:
            return (yield)
        finally:
            self._leave(name)
            fixturedef.addfinalizer(lambda: self._enter(name))  # runs before the fixture's own teardown

    if pytest is not None:
        pytest_fixture_setup = pytest.hookimpl(wrapper=True)(pytest_fixture_setup)

    def _enter(self, name):
        with self._lock:
            self.active_fixtures.append(name)

    def _leave(self, name):
        with self._lock:
            if name in self.active_fixtures:
                self.active_fixtures.remove(name)

    def pytest_sessionfinish(self, session, exitstatus):
        sys.settrace(None)
        threading.settrace(None)
        items = list(getattr(session, "items", ()))
        tests = [item.nodeid for item in items]
        lines = {}
        for item in items:
            ran = set(self.lines.get(item.nodeid, ()))
            for name in getattr(item, "fixturenames", ()):
                ran |= self.fixture_lines.get(name, set())
            lines[item.nodeid] = sorted(ran)
        always = tests if self.outside_spawn else [t for t in tests if t in self.spawns]
        doc = {"version": MAP_VERSION, "target": self.target, "sha256": self.sha256, "exitstatus": int(exitstatus),
               "tests": tests, "lines": lines, "import_lines": sorted(self.import_lines), "always": always,
               "spawns": {k: sorted(v) for k, v in self.spawns.items()}, "outside_spawn": self.outside_spawn}
        tmp = self.out + ".tmp"
        with open(tmp, "w") as f:
            json.dump(doc, f)
        os.replace(tmp, self.out)
