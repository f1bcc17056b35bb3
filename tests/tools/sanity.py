"""Run `ansible-test sanity --venv` on a copy of the collection laid out as ansible-test wants.

ansible-test needs the collection at ansible_collections/<namespace>/<name>; the repository
root is the collection root, so the files git tracks (and untracked, non-ignored ones) are
copied to .build/sanity/ansible_collections/o2edge/perf and tested there. First,
tests/tools/py39_check.py proves modules and module_utils stay within Python 3.9 (no 3.9
interpreter here: grammar, runtime annotations and vermin).
"""
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEST = os.path.join(ROOT, ".build", "sanity", "ansible_collections", "o2edge", "perf")


def main():
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT,
                           check=True, stdout=subprocess.PIPE).stdout.decode().split("\0")
    # Start from a clean copy, but keep tests/output: ansible-test caches its venvs there.
    keep = os.path.join(DEST, "tests", "output")
    parked = os.path.join(ROOT, ".build", "sanity-output")
    if os.path.isdir(keep):
        shutil.rmtree(parked, ignore_errors=True)
        os.replace(keep, parked)
    shutil.rmtree(DEST, ignore_errors=True)
    os.makedirs(os.path.join(DEST, "tests"))
    if os.path.isdir(parked):
        os.replace(parked, keep)
    for f in files:
        if not f or not os.path.exists(os.path.join(ROOT, f)):
            continue
        dst = os.path.join(DEST, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), dst)
    # ansible-test lists files with git when a .git is above it: give the copy its own index,
    # or it would find the repository's (where .build/ is ignored) and test nothing.
    subprocess.run(["git", "init", "-q"], cwd=DEST, check=True)
    subprocess.run(["git", "add", "-A"], cwd=DEST, check=True)
    # Python 3.9 (the oldest target) next to ansible-test's compile/import on the controller's Python.
    py39 = subprocess.call([sys.executable, os.path.join(ROOT, "tests", "tools", "py39_check.py")], cwd=ROOT)
    test = os.path.join(ROOT, ".venv", "bin", "ansible-test")
    args = [test, "sanity", "--venv", "--python", "%d.%d" % sys.version_info[:2], "--color", "no"]
    args += sys.argv[1:]
    return subprocess.call(args, cwd=DEST) or py39


if __name__ == "__main__":
    sys.exit(main())
