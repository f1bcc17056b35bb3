"""Run `ansible-test sanity --venv` on a copy of the collection laid out as ansible-test wants.

ansible-test needs the collection at ansible_collections/<namespace>/<name>; the repository
root is the collection root, so the files git tracks (and untracked, non-ignored ones) are
copied to .build/sanity/ansible_collections/o2edge/perf and tested there. Modules and module_utils promise Python 3.9 on targets: ansible-test's
compile and import tests run on a real Python 3.9 too when one is installed (pyenv's
/root/.pyenv/versions/3.9.*, or python3.9 on PATH), and tests/tools/py39_check.py (grammar,
runtime annotations and vermin: standard library calls newer than 3.9 on paths an import does not
run) always runs.
"""
import fcntl
import glob
import os
import shutil
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEST = os.path.join(ROOT, ".build", "sanity", "ansible_collections", "o2edge", "perf")


def main():
    # One run at a time: a second run would delete the copy under the first one's feet.
    os.makedirs(os.path.dirname(os.path.dirname(os.path.dirname(DEST))), exist_ok=True)
    lock = open(os.path.join(ROOT, ".build", "sanity.lock"), "w")  # pylint: disable=consider-using-with
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        print("sanity: another run holds .build/sanity.lock; waiting for it", flush=True)
        fcntl.flock(lock, fcntl.LOCK_EX)
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
    rc = subprocess.call(args, cwd=DEST)
    # The targets' oldest Python: compile and import on a real 3.9 (only the tests asked for, if any).
    asked = [a for i, a in enumerate(sys.argv[1:]) if i and sys.argv[i] == "--test"]
    wanted = [t for t in ("compile", "import") if not asked or t in asked]
    py39_bin = python39_dir()
    if wanted and py39_bin:
        env = dict(os.environ, PATH=py39_bin + os.pathsep + os.environ.get("PATH", ""))
        cmd = [test, "sanity", "--venv", "--python", "3.9", "--color", "no"]
        for t in wanted:
            cmd += ["--test", t]
        rc = subprocess.call(cmd, cwd=DEST, env=env) or rc
    elif wanted:
        print("sanity: no Python 3.9 interpreter found: compile/import on 3.9 rest on py39_check.py alone")
    return rc or py39


def python39_dir():
    """A folder holding a real python3.9 (not pyenv's shim, which fails without PYENV_VERSION)."""
    for cand in sorted(glob.glob("/root/.pyenv/versions/3.9.*/bin/python3.9")) + [shutil.which("python3.9") or ""]:
        if cand and "/shims/" not in cand and os.access(cand, os.X_OK):
            return os.path.dirname(cand)
    return None


if __name__ == "__main__":
    sys.exit(main())
