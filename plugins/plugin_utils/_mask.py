# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Masking what ``_secrets`` calls secret in data read from files, and URLs fit to be shown.

``_secrets`` decides what is secret; this module only replaces it:

* ``display_url(url)``: ``scheme://host:port/path`` at most, never the userinfo, the query or the
  fragment (any of which may hold a credential);
* ``mask_text(text)``: ``text`` with each JWT-shaped token and each secret-bearing URL's userinfo and
  query replaced by ``********``; the whole text when a private key block (or anything else
  ``secret_value_reason`` still flags) is in it;
* ``mask_value(value)``: a copy of a document with every string masked by ``mask_text`` and the
  value of every secret-named key (``is_secret_key``) replaced by ``********`` (the callback's
  ``scrub`` and the loading of results files use it).

Standard library only, Python 3.9+.
"""

from __future__ import annotations

import math
from urllib.parse import urlsplit

from ansible_collections.o2edge.perf.plugins.module_utils._secrets import (
    _JWT_RE, _URL_RE, MASK, is_secret_key, secret_value_reason)


def display_url(url):
    """``scheme://host:port/path`` of ``url`` (no userinfo, query or fragment); ``(not a URL)`` when unparsable."""
    try:
        parts = urlsplit(str(url))
        host = parts.hostname
        port = parts.port
    except ValueError:
        return "(not a URL)"
    if not parts.scheme or not host:
        return "(not a URL)"
    if ":" in host:
        host = "[%s]" % host
    return "%s://%s%s%s" % (parts.scheme, host, ":%d" % port if port is not None else "", parts.path)


def _mask_url(match):
    url = match.group(0)
    if not secret_value_reason(url):
        return url
    try:
        parts = urlsplit(url)
        has_userinfo = "@" in parts.netloc
    except ValueError:
        return MASK
    shown = display_url(url)
    if shown == "(not a URL)":
        return MASK
    if has_userinfo:
        shown = shown.replace("://", "://%s@" % MASK, 1)
    if parts.query or parts.fragment:
        shown += "?" + MASK
    return shown


def mask_text(text):
    """``text`` with its secret-looking parts replaced by ``********`` (the whole text when they cannot be cut out)."""
    if not isinstance(text, str) or not secret_value_reason(text):
        return text
    if "eyJ" in text:
        text = _JWT_RE.sub(MASK, text)
    if "://" in text:
        text = _URL_RE.sub(_mask_url, text)
    return MASK if secret_value_reason(text) else text


# Decisions kept per key name and per short string (a results document repeats its few key names
# and many of its strings: hosts, plays, components): the same answers, computed once. Bounded.
_KEY_ACTIONS = {}
# The str keys whose action is _KEEP (a subset of _KEY_ACTIONS' keys): a dict whose keys are all in it is
# walked without an action looked up per key.
_KEEP_KEYS = set()
_TEXTS = {}
# The short strings ``mask_text`` gave back unchanged (a subset of _TEXTS' keys): one set lookup skips them.
_CLEAN = set()
_CACHE_MAX = 65536
_TEXT_CACHE_LEN = 256
_KEEP, _MASK_IT, _DROP = 0, 1, 2


def _key_action(key):
    """What a dict key does to its entry: _DROP (the key looks secret), _MASK_IT (a secret-named key) or _KEEP."""
    action = _DROP if isinstance(key, str) and secret_value_reason(key) else _MASK_IT if is_secret_key(key) else _KEEP
    if key.__class__ is str:
        if len(_KEY_ACTIONS) >= _CACHE_MAX:
            _KEY_ACTIONS.clear()
            _KEEP_KEYS.clear()
        _KEY_ACTIONS[key] = action
        if action == _KEEP:
            _KEEP_KEYS.add(key)
    return action


def _masked_text(text):
    """``mask_text`` of a str, remembered for short strings (those it leaves unchanged also in ``_CLEAN``)."""
    if len(text) > _TEXT_CACHE_LEN:
        return mask_text(text)
    found = _TEXTS.get(text)
    if found is None:
        found = mask_text(text)
        if len(_TEXTS) >= _CACHE_MAX:
            _TEXTS.clear()
            _CLEAN.clear()
        _TEXTS[text] = found
        if found is text:
            _CLEAN.add(text)
    return found


def mask_value(value, max_depth=64, _depth=0):
    """A copy of ``value`` with secret-looking strings masked (``mask_text``), the value of every
    secret-named key replaced by ``********``, a key that itself looks secret left out, a
    non-finite float made None (it is not JSON) and anything nested deeper than ``max_depth``
    replaced by ``********``. Tuples become lists.

    The plain scalars of a mapping or list (exact str, float, int, bool, None) are handled in
    place rather than by a call each (a results document holds hundreds of thousands of them):
    the same values as the call would give.
    """
    if _depth > max_depth:
        return MASK
    if isinstance(value, str):
        return _masked_text(value) if value.__class__ is str else mask_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    inline = _depth + 1 <= max_depth
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            action = _KEY_ACTIONS.get(key) if key.__class__ is str else None
            if action is None:
                action = _key_action(key)
            if action == _DROP:
                continue
            if action == _MASK_IT and item is not None and not isinstance(item, bool):
                out[key] = MASK
                continue
            cls = item.__class__
            if not inline:
                out[key] = mask_value(item, max_depth, _depth + 1)
            elif cls is float:
                out[key] = item if math.isfinite(item) else None
            elif cls is str:
                out[key] = _masked_text(item)
            elif cls is int or cls is bool or item is None:
                out[key] = item
            else:
                out[key] = mask_value(item, max_depth, _depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        if inline and value and _FLOATS.issuperset(map(type, value)) and all(map(math.isfinite, value)):
            return list(value)
        return [mask_value(item, max_depth, _depth + 1) for item in value]
    return value


_FLOATS = frozenset((float,))


def mask_in_place(value, max_depth=64):
    """``mask_value(value, max_depth)`` done on ``value`` itself, which it returns: the mappings and
    lists are changed rather than copied (keys left out, values replaced, in their order).

    Only for a document nobody else holds, such as one ``json.loads`` just gave: a results file's
    document is masked this way without building a second copy of it. A tuple or anything else
    that is not a mapping or a list (at the top or below) is given ``mask_value``'s copy.
    """
    if value.__class__ is dict or value.__class__ is list:
        _in_place(value, max_depth, 0)
        return value
    return mask_value(value, max_depth)


def _in_place(value, max_depth, depth):
    """Mask the members of the dict or list ``value`` (at ``depth``) as ``mask_value`` would copy them."""
    below = depth + 1
    inline = below <= max_depth
    if value.__class__ is dict:
        dropped = []
        for key, item in value.items():
            action = _KEY_ACTIONS.get(key) if key.__class__ is str else None
            if action is None:
                action = _key_action(key)
            if action == _DROP:
                dropped.append(key)
                continue
            if action == _MASK_IT and item is not None and not isinstance(item, bool):
                value[key] = MASK
                continue
            replaced = _member(item, max_depth, below, inline)
            if replaced is not item:
                value[key] = replaced
        for key in dropped:
            del value[key]
        return
    if inline and value and _FLOATS.issuperset(map(type, value)) and all(map(math.isfinite, value)):
        return
    for index, item in enumerate(value):
        replaced = _member(item, max_depth, below, inline)
        if replaced is not item:
            value[index] = replaced


def _member(item, max_depth, depth, inline):
    """What a member at ``depth`` becomes: the same object (masked in place) or its replacement."""
    if not inline:
        return MASK
    cls = item.__class__
    if cls is str:
        return _masked_text(item)
    if cls is float:
        return item if math.isfinite(item) else None
    if cls is int or cls is bool or item is None:
        return item
    if cls is dict or cls is list:
        _in_place(item, max_depth, depth)
        return item
    return mask_value(item, max_depth, depth)


class _Refused(Exception):
    """The checked walk met what the loading of a results file refuses (``mask_in_place_checked``)."""


def mask_in_place_checked(value, max_depth=64):
    """``mask_in_place(value, max_depth)`` of a document ``json.loads`` just gave with its default float
    parsing, checking at the same time what the bounded loading (``_yaml_bounds.load_json``) refuses:
    None when containers nest deeper than ``max_depth`` levels (the top one is level 1) or a float is
    not finite (only an overflowing literal such as ``1e999`` gives one: ``NaN`` and ``Infinity`` are
    refused by the parse itself). The caller then parses the text the bounded way, which names why;
    the document given, partly masked by then, must be dropped.
    """
    if value.__class__ is not dict and value.__class__ is not list:
        return None
    try:
        _checked(value, max_depth, 0)
    except _Refused:
        return None
    return value


def _checked(value, max_depth, depth):
    """``_in_place`` of a container at level ``depth + 1``, refusing one beyond ``max_depth`` and a non-finite float.

    The members are handled here rather than by a call each (a results document holds hundreds of thousands):
    a string already seen unchanged by ``mask_text`` (``_CLEAN``) is left as it is, any other string is
    replaced by its ``_masked_text``, a float is checked finite, a container is walked one level deeper, and
    an int, a bool or None is kept. A dict with a key not known to be a plain keep (``_KEEP_KEYS``) has those
    keys' members handled first (``_checked_special``)."""
    if depth >= max_depth:
        raise _Refused()
    below = depth + 1
    special = dropped = None
    if value.__class__ is dict:
        pairs = value.items()
        if not _KEEP_KEYS.issuperset(value):
            special, dropped = _checked_special(value, max_depth, below)
    elif value and _FLOATS.issuperset(map(type, value)):
        if all(map(math.isfinite, value)):
            return
        raise _Refused()
    else:
        pairs = enumerate(value)
    clean = _CLEAN
    for key, item in pairs:
        cls = item.__class__
        if cls is str:
            if item not in clean and (special is None or key not in special):
                found = _masked_text(item)
                if found is not item:
                    value[key] = found
        elif cls is float:
            if not math.isfinite(item):
                raise _Refused()
        elif cls is dict or cls is list:
            if special is None or key not in special:
                _checked(item, max_depth, below)
    if dropped:
        for key in dropped:
            del value[key]


def _checked_special(value, max_depth, below):
    """``(keys, dropped)`` of a dict in the checked walk: the keys that are not a plain keep, their members
    handled here, and those of them to delete once the walk of the dict is over. A secret-named key's value
    (``_MASK_IT``) becomes ``********`` unless it is None or a bool; a key that looks secret itself
    (``_DROP``) is left out. Either way the value is checked first: the bounded parse would have refused it.
    Each key's action is looked up, or decided (``_key_action``, which adds a plain keep to ``_KEEP_KEYS``)."""
    keys, dropped = set(), []
    for key, item in value.items():
        action = _KEY_ACTIONS.get(key)
        if action is None:
            action = _key_action(key)
        if not action:  # _KEEP
            continue
        keys.add(key)
        if item.__class__ is dict or item.__class__ is list:
            _checked(item, max_depth, below)
        elif item.__class__ is float and not math.isfinite(item):
            raise _Refused()
        if action == _DROP:
            dropped.append(key)
        elif item is not None and not isinstance(item, bool):
            value[key] = MASK
    return keys, dropped
