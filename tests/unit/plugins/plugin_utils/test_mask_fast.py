# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""mask_value's in-place scalars, float lists and remembered decisions give what one call per value gave."""
from __future__ import annotations

import math
import random

from ansible_collections.o2edge.perf.plugins.plugin_utils import _mask
from ansible_collections.o2edge.perf.plugins.module_utils._secrets import MASK, is_secret_key, secret_value_reason

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"


def _reference(value, max_depth=64, _depth=0):
    """mask_value as it was: one call per value, nothing remembered."""
    if _depth > max_depth:
        return MASK
    if isinstance(value, str):
        return _mask.mask_text(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if isinstance(key, str) and secret_value_reason(key):
                continue
            if is_secret_key(key) and item is not None and not isinstance(item, bool):
                out[key] = MASK
            else:
                out[key] = _reference(item, max_depth, _depth + 1)
        return out
    if isinstance(value, (list, tuple)):
        return [_reference(item, max_depth, _depth + 1) for item in value]
    return value


class Text(str):
    """A str subclass (as Ansible's tagged strings are): never taken from the remembered decisions."""


SCALARS = [1.5, float("inf"), float("nan"), -0.0, 0, 7, True, False, None, "plain", "", JWT, "see " + JWT,
           "https://user:pw@example.invalid/x?token=abc", "http://example.invalid/ok", Text("x " + JWT),
           "a" * 300 + JWT, (1.0, 2.0), [1.0, float("inf")], [1.0, 2], [1, 2], [True, 1.0]]
KEYS = ["name", "password", "api_token", "token_file", JWT, "samples", Text("secret"), Text(JWT), 3, None]


def _random_value(rng, depth):
    if depth <= 0 or rng.random() < 0.4:
        return rng.choice(SCALARS)
    if rng.random() < 0.5:
        return [_random_value(rng, depth - 1) for dummy in range(rng.randint(0, 4))]
    return dict((rng.choice(KEYS), _random_value(rng, depth - 1)) for dummy in range(rng.randint(0, 5)))


def _same(a, b):
    """Equal, NaN-free (mask_value makes NaN None) and with the same types all the way down."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    return a == b


def test_mask_value_equals_one_call_per_value():
    rng = random.Random(4)
    for trial in range(600):
        value = _random_value(rng, 5)
        for max_depth in (64, 3, 1, 0):
            got = _mask.mask_value(value, max_depth)
            assert _same(got, _reference(value, max_depth)), (trial, max_depth, value)
            # asked twice (decisions remembered): the same answer
            assert _same(_mask.mask_value(value, max_depth), got)


def test_the_depth_limit_masks_scalars_below_it():
    doc = {"a": {"b": 1.0, "c": "x", "d": [1.0, 2.0]}}
    assert _mask.mask_value(doc, 1) == {"a": {"b": MASK, "c": MASK, "d": MASK}}
    assert _mask.mask_value(doc, 2) == {"a": {"b": 1.0, "c": "x", "d": [MASK, MASK]}}


def test_float_lists_are_copies_and_non_finite_values_become_none():
    samples = [1.0, 2.0, 3.0]
    out = _mask.mask_value({"samples": samples})
    assert out["samples"] == samples and out["samples"] is not samples
    assert _mask.mask_value([1.0, float("nan"), float("-inf")]) == [1.0, None, None]
    assert _mask.mask_value((1.0, 2.0)) == [1.0, 2.0]


def test_secret_keys_and_values_are_masked_when_repeated():
    doc = [{"password": "hunter2", "detail": "token " + JWT, JWT: "x"}] * 3
    assert _mask.mask_value(doc) == [{"password": MASK, "detail": "token " + MASK}] * 3


def _copy(value):
    """A copy nobody else holds (the random values share SCALARS' lists); tuples and str subclasses kept."""
    if isinstance(value, dict):
        return dict((k, _copy(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    return value


def test_mask_in_place_equals_mask_value_and_changes_the_value_itself():
    rng = random.Random(11)
    for trial in range(600):
        value = _random_value(rng, 5)
        for max_depth in (64, 3, 1, 0):
            mine = _copy(value)
            got = _mask.mask_in_place(mine, max_depth)
            assert _same(got, _reference(value, max_depth)), (trial, max_depth, value)
            if isinstance(mine, (dict, list)):
                assert got is mine


def test_mask_in_place_drops_and_masks_in_order():
    doc = {"a": 1, JWT: "x", "password": "hunter2", "b": [1.0, float("inf"), "see " + JWT], "c": {"d": {"e": "f"}}}
    got = _mask.mask_in_place(doc, 2)
    assert got is doc
    assert list(doc) == ["a", "password", "b", "c"]
    assert doc == {"a": 1, "password": MASK, "b": [1.0, None, "see " + MASK], "c": {"d": {"e": MASK}}}
    assert _mask.mask_in_place((1.0, float("nan"))) == [1.0, None]


JSON_SCALARS = [1.5, -0.0, 0, 7, True, False, None, "plain", "", JWT, "see " + JWT, "host-1", "host-1",
                "https://user:pw@example.invalid/x?token=abc", "http://example.invalid/ok", "a" * 300 + JWT,
                "b" * 300, [1.0, 2.0], [1.0, 2], [1, 2], [True, 1.0], []]
JSON_KEYS = ["name", "password", "api_token", "token_file", JWT, "samples", "host", "stats", "see " + JWT]


def _random_json(rng, depth):
    """A value as json.loads gives it: str keys, lists, and the scalars of JSON (finite floats)."""
    if depth <= 0 or rng.random() < 0.35:
        value = rng.choice(JSON_SCALARS)
        return list(value) if isinstance(value, list) else value
    if rng.random() < 0.5:
        return [_random_json(rng, depth - 1) for dummy in range(rng.randint(0, 4))]
    return dict((rng.choice(JSON_KEYS), _random_json(rng, depth - 1)) for dummy in range(rng.randint(0, 5)))


def test_the_checked_walk_equals_mask_value_on_json_documents_whatever_it_has_seen_before():
    """Bugs in the checked walk's shortcuts: a string taken for clean because an equal one was (a cache keyed
    wrongly), a dict walked as keep-only although one of its keys is secret-named or looks secret (the value
    left unmasked, the key kept), a member of a keep-only dict left unchecked (a non-finite float or a string
    with a token passing), or a dropped key's value not checked for depth."""
    rng = random.Random(23)
    for trial in range(1500):
        if trial % 500 == 0:  # also from empty caches, where every decision is made afresh
            _mask._KEY_ACTIONS.clear()
            _mask._KEEP_KEYS.clear()
            _mask._TEXTS.clear()
            _mask._CLEAN.clear()
        value = _random_json(rng, 5)
        for max_depth in (64, 3, 1):
            mine = _copy(value)
            got = _mask.mask_in_place_checked(mine, max_depth)
            if not isinstance(value, (dict, list)):
                assert got is None
                continue
            if got is None:  # refused: only for containers nested deeper than max_depth
                assert _depth(value) > max_depth, (trial, max_depth, value)
                continue
            assert _depth(value) <= max_depth, (trial, max_depth, value)
            assert _same(got, _reference(value, max_depth)), (trial, max_depth, value)


def _depth(value):
    """Levels of containers (a container alone is 1)."""
    if isinstance(value, dict):
        return 1 + max([_depth(v) for v in value.values()] or [0])
    if isinstance(value, list):
        return 1 + max([_depth(v) for v in value] or [0])
    return 0


def test_the_checked_walk_refuses_a_non_finite_float_in_a_keep_only_dict_and_a_dropped_key():
    """Bug: the keep-only dict's loop or a dropped key's value not checked for a float that is not finite."""
    _mask._key_action("plain_key")  # known as a plain keep, so the dict below takes the keep-only loop
    assert _mask.mask_in_place_checked({"plain_key": float("inf")}, 64) is None
    assert _mask.mask_in_place_checked({"plain_key": [1.0, "x", float("nan")]}, 64) is None
    assert _mask.mask_in_place_checked({JWT: float("inf")}, 64) is None
    assert _mask.mask_in_place_checked({JWT: {"a": [[]]}}, 2) is None
    assert _mask.mask_in_place_checked({"plain_key": "see " + JWT, JWT: 1}, 64) == {"plain_key": "see " + MASK}
