# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Service level objectives (an ``openslo/v1`` ``kind: SLO`` subset) checked against a results document.

The schema, the statistics and the meaning of ``target`` are documented in docs/slo.md. This
module reads objective files and is the entry point; the work is split by seam:

* here: ``load_objectives(path)`` / ``load_objectives(text=...)`` / ``load_objectives(documents=...)``
  (exactly one, nothing guessed) and ``default_objectives()``. A file is read with
  ``_safe_read.read_text`` (a FIFO, a device, a directory are refused without blocking; at most
  MAX_BYTES) and parsed with ``_yaml_bounds.load_yaml`` (at most MAX_DOCUMENTS documents,
  MAX_DEPTH levels, MAX_ALIASES alias uses, MAX_NODES values counting what aliases repeat, no
  repeated key; checked on the event stream before anything is built; errors never quote the text);
* ``_slo_schema``: the fields of an SLO document (``validate_documents``, ``SloError``);
* ``_slo_select``: the ``select`` JMESPath, bounded before jmespath parses it, and its compiled form;
* ``_slo_eval``: ``evaluate(objectives, results_doc)``, one verdict per objective.

Every name other modules use (``SloError``, ``OPS``, ``evaluate``, ``load_objectives``, ...) is
importable from here.
"""

from __future__ import annotations

import os

from ansible_collections.o2edge.perf.plugins.module_utils._safe_read import FileReadError, read_text
from ansible_collections.o2edge.perf.plugins.plugin_utils._slo_eval import evaluate, evaluate_one  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.o2edge.perf.plugins.plugin_utils._slo_schema import (  # noqa: F401  # pylint: disable=unused-import
    API_VERSION, LATENCY_STATISTICS, MAX_DEPTH, MAX_DOCUMENTS, MAX_NODES, OPS, RATIO_UNIT, SOURCE_TYPE, STATISTICS,
    TIME_UNITS, SloError, _kind, validate_documents)
from ansible_collections.o2edge.perf.plugins.plugin_utils._slo_select import (  # noqa: F401  # pylint: disable=unused-import
    HAS_JMESPATH, MAX_SELECT_CHARS, MAX_SELECT_DEPTH, check_select, select_items)
from ansible_collections.o2edge.perf.plugins.module_utils._yaml_bounds import HAS_YAML, YamlBoundsError, load_yaml

# The shipped objectives, relative to the collection root (this file is <root>/plugins/plugin_utils/_slo.py).
DEFAULT_FILE = os.path.join("playbooks", "files", "slos.yml")
DEFAULT_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), DEFAULT_FILE)
# Bounds on the YAML read (untrusted input).
MAX_BYTES = 1024 * 1024
MAX_ALIASES = 20


def parse_yaml(text):
    """The YAML documents of ``text`` (str or UTF-8 bytes) as a list (empty documents kept as None), bounded."""
    if not HAS_YAML:
        raise SloError(["PyYAML is needed to read SLO objectives (pip install PyYAML)"])
    if not isinstance(text, bytes):
        try:
            text = text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: libyaml would raise it from deep inside
            raise SloError(["the YAML text is not UTF-8 text (a lone surrogate at character %d)" % exc.start])
    if len(text) > MAX_BYTES:
        raise SloError(["the YAML text is over %d bytes; not read" % MAX_BYTES])
    try:
        return load_yaml(text, max_depth=MAX_DEPTH, max_values=MAX_NODES, max_documents=MAX_DOCUMENTS,
                         max_aliases=MAX_ALIASES, all_documents=True)
    except YamlBoundsError as exc:
        raise SloError(["the YAML text %s" % exc])


def read_file(path):
    """The documents of the YAML file at ``path`` (a regular file of at most MAX_BYTES bytes)."""
    try:
        text = read_text(path, MAX_BYTES, what="SLO file")
    except FileReadError as exc:
        raise SloError([str(exc)])
    try:
        return parse_yaml(text)
    except SloError as exc:
        raise SloError(["SLO file %s: %s" % (path, e) for e in exc.errors])


def load_objectives(path=None, text=None, documents=None):
    """Objectives from exactly one of: the file ``path``, the YAML ``text``, loaded ``documents`` (list/dict).

    Raises SloError naming the document (counted from 1) and the field of every problem.
    """
    given = [name for name, value in (("path", path), ("text", text), ("documents", documents)) if value is not None]
    if len(given) != 1:
        raise SloError(["load_objectives needs exactly one of path, text or documents, got %s"
                        % (", ".join(given) or "none")])
    if documents is not None:
        return validate_documents(documents)
    if text is not None:
        if not isinstance(text, (str, bytes)):
            raise SloError(["text must be YAML text, got %s" % _kind(text)])
        return validate_documents(parse_yaml(text))
    if not isinstance(path, (str, os.PathLike)) or not str(path).strip():
        raise SloError(["path must be the path of an SLO file, got %s" % _kind(path)])
    if "\n" in str(path):
        raise SloError(["path holds a newline: YAML text goes in text=..., not path"])
    return validate_documents(read_file(path))


def default_objectives():
    """The shipped objectives, ``DEFAULT_PATH`` (``playbooks/files/slos.yml`` of this collection)."""
    return load_objectives(DEFAULT_PATH)
