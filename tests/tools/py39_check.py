"""Prove that modules and module_utils stay within Python 3.9, the oldest target Python.

ansible-test's compile and import tests also run on a real Python 3.9 when one is installed
(tests/tools/sanity.py finds pyenv's 3.9); an import does not run every code path, so this check
runs beside them, and alone where no 3.9 can be had, by `make sanity`:

1. ``ast.parse(source, feature_version=(3, 9))``: no syntax newer than 3.9 (match statements,
   ``except*``, PEP 695 type statements...).
2. Annotations evaluated at run time (no ``from __future__ import annotations`` in the file)
   that use ``X | Y``: a TypeError at import on 3.9, which the grammar check cannot see.
3. vermin (pinned in tests/tools/requirements-sanity.txt) with ``--target=3.9-``: no standard
   library module, function, keyword argument or builtin newer than 3.9.

    .venv/bin/python tests/tools/py39_check.py [PATH ...]   # default: plugins/modules plugins/module_utils
"""
import ast
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_DIRS = ("plugins/modules", "plugins/module_utils")
TARGET = (3, 9)
# vermin reads `x.decode()` on a value it cannot type as Python 2's str.decode (requires !3),
# which makes every file that also uses a 3.x feature "incompatible"; bytes.decode is fine.
VERMIN_ARGS = ["--no-tips", "-q", "--target=%d.%d-" % TARGET, "--violations", "--eval-annotations",
               "--exclude", "str.decode"]


def python_files(paths):
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(glob.glob(os.path.join(path, "**", "*.py"), recursive=True))
        else:
            files.append(path)
    return files


def _runtime_annotations(tree):
    """Annotations Python evaluates when the module is imported (no postponed evaluation)."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in args.posonlyargs + args.args + args.kwonlyargs + [args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None:
                    yield arg.annotation
            if node.returns is not None:
                yield node.returns
        elif isinstance(node, ast.AnnAssign):
            yield node.annotation  # inside a function it is not evaluated, but keep the rule simple


def problems_in(path, source):
    """The 3.9 problems of one file's source, as 'path:line: message' strings."""
    try:
        tree = ast.parse(source, filename=path, feature_version=TARGET)
    except SyntaxError as exc:
        return ["%s:%s: syntax newer than Python %d.%d: %s" % (path, exc.lineno, TARGET[0], TARGET[1], exc.msg)]
    postponed = any(isinstance(node, ast.ImportFrom) and node.module == "__future__"
                    and any(alias.name == "annotations" for alias in node.names) for node in tree.body)
    found = []
    if not postponed:
        for annotation in _runtime_annotations(tree):
            for node in ast.walk(annotation):
                if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
                    found.append("%s:%d: annotation `X | Y` is evaluated at import and fails on Python %d.%d "
                                 "(add `from __future__ import annotations` or use typing.Optional/Union)"
                                 % (path, node.lineno, TARGET[0], TARGET[1]))
                    break
    return found


def vermin_problems(files):
    vermin = os.path.join(os.path.dirname(sys.executable), "vermin")
    if not os.path.exists(vermin):
        return ["vermin is not installed in %s (tests/tools/requirements-sanity.txt; `make venv`)"
                % os.path.dirname(sys.executable)]
    res = subprocess.run([vermin] + VERMIN_ARGS + files, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         universal_newlines=True, check=False)
    if res.returncode == 0:
        return []
    return ["vermin --target=%d.%d-: %s" % (TARGET[0], TARGET[1], res.stdout.strip() or "exit %d" % res.returncode)]


def main(argv):
    os.chdir(ROOT)
    files = python_files(argv or DEFAULT_DIRS)
    found = []
    for path in files:
        with open(path, encoding="utf-8") as f:
            found += problems_in(path, f.read())
    found += vermin_problems(files)
    for line in found:
        print(line)
    print("python %d.%d check: %d files, %s" % (TARGET[0], TARGET[1], len(files),
                                                "%d problem(s)" % len(found) if found else "ok"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
