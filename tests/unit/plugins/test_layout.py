"""The code layout (issue 17 items 1 and 6), checked on the source files themselves.

Bugs caught:
- an import hidden in a function body (``_image_store.run_precache`` imported ``_image_unpack``,
  ``_probe.kind_probe`` imported ``_probe_http``/``_probe_ssh``, both to dodge an import loop): a
  reader or a drawing tool following the module's imports missed the edge;
- an import loop between plugin files;
- code shipped to targets (module_utils) importing controller-only code (plugin_utils), as
  ``module_utils/_report.py`` did, which AnsiballZ could not ship;
- controller-only code (results document, callback recap, reports, comparisons, SLOs) lying in
  module_utils, where a reader takes it for target code.
"""
from __future__ import annotations

import ast
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
PLUGINS = os.path.join(ROOT, "plugins")
PREFIX = "ansible_collections.o2edge.perf."


def _sources():
    for folder, _dirs, files in os.walk(PLUGINS):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(folder, name)
                yield os.path.relpath(path, ROOT)[:-3].replace(os.sep, "."), path


def _imports(path):
    """(module-level imports, imports inside functions or classes) of the collection's own modules."""
    tree = ast.parse(open(path, encoding="utf-8").read())
    top, nested = set(), []

    def names(node):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith(PREFIX):
            base = node.module[len(PREFIX):]
            out = []
            for alias in node.names:
                sub = base + "." + alias.name
                out.append(sub if os.path.exists(os.path.join(ROOT, *sub.split("."))) or
                           os.path.exists(os.path.join(ROOT, *sub.split(".")) + ".py") else base)
            return out
        if isinstance(node, ast.Import):
            return [a.name[len(PREFIX):] for a in node.names if a.name.startswith(PREFIX)]
        return []

    for node in tree.body:
        top.update(names(node))
        if isinstance(node, ast.Try):
            for sub in node.body:
                top.update(names(sub))
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for sub in ast.walk(node):
                nested.extend(names(sub))
    return top, nested


def test_every_import_is_a_module_level_edge_and_there_is_no_loop():
    hidden = {}
    for mod, path in _sources():
        nested = _imports(path)[1]
        if nested:
            hidden[mod] = nested
    assert hidden == {}
    graph = {mod: {m for m in _imports(path)[0] if m.startswith("plugins.")} for mod, path in _sources()}
    state = {}

    def visit(node, stack):
        state[node] = "open"
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == "open":
                raise AssertionError("import loop: " + " -> ".join(stack[stack.index(nxt):] + [nxt]))
            if nxt not in state:
                visit(nxt, stack + [nxt])
        state[node] = "done"

    for mod in sorted(graph):
        if mod not in state:
            visit(mod, [mod])


def test_target_code_never_imports_controller_code():
    wrong = {mod: sorted(m for m in _imports(path)[0] if not m.startswith("plugins.module_utils"))
             for mod, path in _sources() if mod.startswith(("plugins.module_utils", "plugins.modules"))}
    assert {m: w for m, w in wrong.items() if w} == {}


def test_controller_only_code_is_in_plugin_utils():
    # what only the action plugins, the callback and the inventory use
    controller = ("_results", "_results_doc", "_recap", "_callback_recap", "_report", "_report_formats",
                  "_report_html", "_report_write", "_compare", "_slo", "_slo_eval", "_slo_schema",
                  "_slo_select", "_mask")
    misplaced = [name for name in controller
                 if os.path.exists(os.path.join(PLUGINS, "module_utils", name + ".py"))]
    assert misplaced == []
    for name in ("_results_doc", "_callback_recap", "_report", "_compare", "_slo", "_mask"):
        assert os.path.exists(os.path.join(PLUGINS, "plugin_utils", name + ".py"))


def test_a_file_over_450_lines_says_why():
    """Bug: files of 500 to 900 lines (``_image_store`` 900) mixed several jobs with no word on why."""
    silent = []
    for mod, path in _sources():
        text = open(path, encoding="utf-8").read()
        if text.count("\n") <= 450:
            continue
        doc = ast.get_docstring(ast.parse(text)) or ""
        head = "\n".join(text.split("\n")[:8])
        if "Size:" not in doc and "# Size:" not in head:
            silent.append(mod)
    assert silent == []
