"""Every plugin's DOCUMENTATION, EXAMPLES and RETURN parse as YAML (a colon in a plain scalar broke
ansible-doc, ansible-lint and validate-modules twice; this finds it in a second, not in the lab run)."""
import ast
import glob
import os

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FILES = sorted(p for p in glob.glob(os.path.join(ROOT, "plugins", "*", "*.py"))
               if os.path.basename(os.path.dirname(p)) in ("modules", "action", "callback", "inventory", "filter",
                                                           "lookup", "doc_fragments")
               and not os.path.basename(p).startswith("__"))


def _blocks(path):
    tree = ast.parse(open(path).read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name) and \
                node.targets[0].id in ("DOCUMENTATION", "EXAMPLES", "RETURN") and isinstance(node.value, ast.Constant):
            yield node.targets[0].id, node.value.value


@pytest.mark.parametrize("path", FILES, ids=lambda p: os.path.relpath(p, ROOT))
def test_doc_blocks_are_yaml(path):
    blocks = dict(_blocks(path))
    if os.path.basename(os.path.dirname(path)) == "modules":
        assert {"DOCUMENTATION", "EXAMPLES", "RETURN"} <= set(blocks), "a module needs all three blocks"
    for name, text in blocks.items():
        data = yaml.safe_load(text)
        if name == "DOCUMENTATION":
            assert isinstance(data, dict) and data.get("short_description"), "%s: no short_description" % name


def test_filter_docs_are_yaml():
    found = glob.glob(os.path.join(ROOT, "plugins", "filter", "*.yml"))
    for path in found:
        data = yaml.safe_load(open(path))
        assert "DOCUMENTATION" in data and "RETURN" in data, path
