# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Bounded YAML and JSON: the one home for "how much work may an untrusted document cause".

A YAML or JSON text from a file is untrusted. PyYAML's C composer and constructor, ruamel's
composer and ``json`` all recurse: a document nested 200,000 deep segfaults libyaml's composer
(the whole process dies, exit 139) or ends in a bare RecursionError. An alias bomb (a few
anchors used many times) expands to millions of nodes. So, before any recursive parser sees the
text:

* ``check_yaml(text, ...)`` reads the YAML *event stream* once (libyaml's parser keeps explicit
  stacks, it does not recurse), building nothing, and stops at the first bound crossed: nesting
  depth (aliases counted at the depth they expand to), values once aliases are expanded, alias
  uses, documents, a recursive alias, a repeated key in one mapping (YAML would silently keep
  the last one). A too-deep document is refused after ``max_depth`` events.
* ``load_yaml(text, ...)`` checks, then builds with the safe loader.
* ``check_json_depth(text, max_depth)`` measures bracket nesting outside strings in linear time
  without recursion; ``load_json(text, ...)`` checks then parses.

Errors are ``YamlBoundsError`` with a message that names a line and a problem, never the
document's text (PyYAML's own messages quote a snippet of the source, which may hold a secret).
"""

from __future__ import annotations

import json
import math
import re

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import secret_value_reason, showable_name

try:
    import yaml
    HAS_YAML = True
    EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
except ImportError:  # pragma: no cover - reported when used
    yaml = None
    HAS_YAML = False
    EVENT_LOADER = None

YAML_HINT = "PyYAML is needed to read YAML here (pip install PyYAML, or the python3-yaml package)"
DEFAULT_MAX_DEPTH = 32
DEFAULT_MAX_VALUES = 100000


class YamlBoundsError(ValueError):
    """A document refused before (or while) parsing it: too deep, too many values, not YAML/JSON."""


def shape_problem(data, max_depth=DEFAULT_MAX_DEPTH, max_values=DEFAULT_MAX_VALUES):
    """None when loaded ``data`` is within the bounds, else ``("values", None)`` (more than
    ``max_values`` values, shared ones counted each time) or ``("depth", keys)`` (a container at
    ``max_depth`` levels, or one that refers to itself; ``keys``: the path to it, outermost
    first, as read from the data: name it with care). Bounded work, no recursion."""
    stack = [(data, 0, None)]
    count = 0
    while stack:
        value, depth, link = stack.pop()
        count += 1
        if count > max_values:
            return "values", None
        if isinstance(value, (dict, list)):
            if depth >= max_depth:
                keys = []
                while link is not None:
                    link, key = link
                    keys.append(key)
                return "depth", keys[::-1]
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((v, depth + 1, (link, k)) for k, v in items)
    return None


def yaml_problem(exc):
    """A YAML error as 'problem (line L, column C)', without the source snippet (it may hold a secret)."""
    if HAS_YAML and isinstance(exc, yaml.reader.ReaderError):
        char = exc.character
        code = ord(char) if isinstance(char, str) else (char if isinstance(char, int) else 0)
        return "%s #x%04x at character %d" % (str(exc.reason)[:80], code, exc.position)
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or type(exc).__name__
    text = str(problem)[:160]
    if getattr(exc, "context", None):
        text = "%s %s" % (str(exc.context)[:80], text)
    if mark is not None:
        text += " (line %d, column %d)" % (mark.line + 1, mark.column + 1)
    if secret_value_reason(text):
        text = "invalid YAML (details hidden: they look like a secret)"
    return text


def _short_anchor(anchor):
    anchor = str(anchor)
    return anchor if re.fullmatch(r"[A-Za-z0-9_.-]{1,40}", anchor) else "(an anchor)"


def _key_seen(stack, scalar, line):
    """Track keys of the innermost open mapping; refuse a repeated plain key. ``scalar`` None: not a scalar."""
    if not stack or stack[-1][3] is None:
        return
    frame = stack[-1]
    is_key, frame[4] = frame[4], not frame[4]
    if is_key and scalar is not None:
        if scalar in frame[3]:
            shown = scalar if showable_name(scalar) else "(a key of %d characters)" % len(scalar)
            raise YamlBoundsError("repeats the key %s in one mapping (line %d); YAML would keep only the last"
                                  % (shown, line))
        frame[3].add(scalar)


def check_yaml(text, max_depth=DEFAULT_MAX_DEPTH, max_values=DEFAULT_MAX_VALUES, max_documents=1,
               max_aliases=None, unique_keys=True):
    """Walk the YAML event stream of ``text`` once, building nothing; return the number of values.

    Raise YamlBoundsError when the stream holds more than ``max_documents`` documents, nests deeper
    than ``max_depth`` (an alias counts at the depth of what it expands to), holds more than
    ``max_values`` values once aliases are expanded, uses more than ``max_aliases`` aliases (None: no
    own limit), uses an alias inside the node it names (a recursive structure) or, with
    ``unique_keys``, repeats a plain key in one mapping. Linear in the events read.
    """
    if not HAS_YAML:
        raise YamlBoundsError(YAML_HINT)
    if isinstance(text, str):
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as exc:  # a lone surrogate: libyaml would raise it bare
            raise YamlBoundsError("is not UTF-8 text (a lone surrogate at character %d)" % exc.start)
    loader = EVENT_LOADER(text)
    stack = []     # one [anchor, size, child height, keys seen or None, next scalar is a key] per open collection
    anchors = {}   # anchor -> (size, height) of its node; None while the node is still open
    total = documents = aliases = 0
    try:
        while loader.check_event():
            event = loader.get_event()
            line = event.start_mark.line + 1 if event.start_mark is not None else 0
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > max_documents:
                    raise YamlBoundsError("holds more than %d YAML document%s (line %d)"
                                          % (max_documents, "" if max_documents == 1 else "s", line))
                anchors = {}
                continue
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                if len(stack) >= max_depth:
                    raise YamlBoundsError("nests deeper than %d levels (line %d)" % (max_depth, line))
                if event.anchor is not None:
                    anchors[event.anchor] = None
                if unique_keys:
                    _key_seen(stack, None, line)
                is_map = isinstance(event, yaml.MappingStartEvent)
                stack.append([event.anchor, 1, 0, set() if (is_map and unique_keys) else None, is_map])
                size, height = 1, None
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size, child_height = stack.pop()[:3]
                height = child_height + 1
                if anchor is not None:
                    anchors[anchor] = (size, height)
                if stack:
                    stack[-1][1] += size
                    stack[-1][2] = max(stack[-1][2], height)
                continue
            elif isinstance(event, yaml.ScalarEvent):
                if unique_keys:
                    _key_seen(stack, event.value, line)
                size, height = 1, 0
                if event.anchor is not None:
                    anchors[event.anchor] = (1, 0)
            elif isinstance(event, yaml.AliasEvent):
                aliases += 1
                if max_aliases is not None and aliases > max_aliases:
                    raise YamlBoundsError("uses more than %d YAML aliases (line %d)" % (max_aliases, line))
                if unique_keys:
                    _key_seen(stack, None, line)
                if event.anchor in anchors and anchors[event.anchor] is None:
                    raise YamlBoundsError("alias *%s (line %d) refers to a node that contains it: a recursive "
                                          "structure" % (_short_anchor(event.anchor), line))
                if event.anchor not in anchors:
                    raise YamlBoundsError("alias *%s (line %d) names no anchor defined before it"
                                          % (_short_anchor(event.anchor), line))
                size, height = anchors[event.anchor]
                if len(stack) + height > max_depth:
                    raise YamlBoundsError("alias *%s (line %d) nests deeper than %d levels once expanded"
                                          % (_short_anchor(event.anchor), line, max_depth))
            else:
                continue
            total += size
            if total > max_values:
                raise YamlBoundsError("holds more than %d values once YAML aliases are expanded (line %d): "
                                      "refused (an alias bomb?)" % (max_values, line))
            if height is not None and stack:
                stack[-1][1] += size
                stack[-1][2] = max(stack[-1][2], height)
    except yaml.YAMLError as exc:
        raise YamlBoundsError("is not valid YAML: %s" % yaml_problem(exc))
    finally:
        loader.dispose()
    return total


def load_yaml(text, max_depth=DEFAULT_MAX_DEPTH, max_values=DEFAULT_MAX_VALUES, max_documents=1,
              max_aliases=None, unique_keys=True, all_documents=False):
    """``text`` (str or UTF-8 bytes) checked by ``check_yaml`` then built with the safe loader.

    One document (None when empty), or with ``all_documents`` a list of every document.
    """
    if not HAS_YAML:
        raise YamlBoundsError(YAML_HINT)
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlBoundsError("is not UTF-8 text (at byte offset %d)" % exc.start)
    check_yaml(text, max_depth=max_depth, max_values=max_values,
               max_documents=max_documents if all_documents else 1,
               max_aliases=max_aliases, unique_keys=unique_keys)
    try:
        if all_documents:
            return list(yaml.load_all(text, Loader=EVENT_LOADER))
        return yaml.load(text, Loader=EVENT_LOADER)
    except yaml.YAMLError as exc:
        raise YamlBoundsError("is not valid YAML: %s" % yaml_problem(exc))
    except (ValueError, TypeError, RecursionError) as exc:
        raise YamlBoundsError("is not valid YAML: %s" % type(exc).__name__)


# Everything but JSON's brackets and string delimiters, removed before the depth is measured.
# (the unrolled form of "(?:[^"\\]|\\.)*": the same matches, runs of plain characters taken at once)
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.S)
_BRACKETS = {ord("["): "(", ord("{"): "(", ord("]"): ")", ord("}"): ")"}


def check_json_depth(text, max_depth=DEFAULT_MAX_DEPTH):
    """Raise YamlBoundsError when the JSON ``text`` nests brackets deeper than ``max_depth``.

    Linear, no recursion: strings are cut out, then the bracket depth is followed. Text that is
    not JSON is left for the parser to refuse.
    """
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    stripped = _JSON_STRING.sub("", text)
    brackets = re.sub(r"[^\[\]{}]+", "", stripped).translate(_BRACKETS)
    if len(brackets) <= max_depth:
        return
    # Cheap exits first: no run of max_depth+1 opening brackets may occur without closing ones between.
    depth = deepest = 0
    for run in re.finditer(r"\(+|\)+", brackets):
        length = run.end() - run.start()
        depth += length if run.group()[0] == "(" else -length
        if depth > deepest:
            deepest = depth
            if deepest > max_depth:
                raise YamlBoundsError("nests deeper than %d levels" % max_depth)


def load_json(text, max_depth=DEFAULT_MAX_DEPTH):
    """JSON ``text`` (str or UTF-8 bytes) checked by ``check_json_depth``, then parsed.

    NaN, Infinity and -Infinity are refused (they are not JSON); errors name line and column only.
    """
    if isinstance(text, bytes):
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise YamlBoundsError("is not UTF-8 text (at byte offset %d)" % exc.start)
    check_json_depth(text, max_depth)

    def refuse_constant(name):
        raise YamlBoundsError("holds %s, which is not a JSON number" % name)

    def finite_float(literal):
        value = float(literal)
        if math.isnan(value) or math.isinf(value):
            raise YamlBoundsError("holds a number too large for a float (%d digits)" % len(literal))
        return value

    try:
        return json.loads(text, parse_constant=refuse_constant, parse_float=finite_float)
    except ValueError as exc:
        if isinstance(exc, YamlBoundsError):
            raise
        where = ""
        if getattr(exc, "lineno", None) is not None:
            where = " (line %d, column %d)" % (exc.lineno, exc.colno)
        msg = getattr(exc, "msg", None) or "invalid JSON"
        raise YamlBoundsError("is not valid JSON: %s%s" % (msg, where))
    except RecursionError:
        raise YamlBoundsError("nests too deep to parse")
