"""Make the repository importable as ``ansible_collections.o2edge.perf``.

The repository root is the collection root. Unit tests import plugins by their
collection path, exactly as Ansible does, through a symlink tree under .build/.
"""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_TREE = os.path.join(_ROOT, ".build", "unit", "ansible_collections", "o2edge")
_LINK = os.path.join(_TREE, "perf")

# The lab (tests/lab) is importable as `tests.lab` for its own unit tests.
if _ROOT not in sys.path:
    sys.path.append(_ROOT)

if os.path.basename(os.path.dirname(os.path.dirname(_ROOT))) == "ansible_collections":
    # Already inside an ansible_collections tree (ansible-test copies us there).
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(_ROOT))))
else:
    os.makedirs(_TREE, exist_ok=True)
    if os.path.realpath(_LINK) != os.path.realpath(_ROOT):  # missing, or left by a copy of the tree made elsewhere
        if os.path.islink(_LINK):
            os.unlink(_LINK)
        try:
            os.symlink(_ROOT, _LINK)
        except FileExistsError:  # another test process made it at the same moment
            pass
    sys.path.insert(0, os.path.dirname(os.path.dirname(_TREE)))

# Loopback servers and PKI shared by the probe tests (fixtures: http_server, https_server, pki, line_server).
pytest_plugins = ["tests.unit.probe_servers"]


def pytest_sessionfinish(session, exitstatus):
    """Under mutation testing (tests/tools/mutation.py), a collection error (a mutant that breaks
    an import) is a failing test run: mutmut 2 counts only exit status 1 as a kill."""
    if os.environ.get("O2EDGE_MUTATION") and exitstatus == 2:
        session.exitstatus = 1
