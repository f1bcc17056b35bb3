# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Range checks shared by the modules, with messages that name the field and value (the one home
of ``must be at least``, ``must be a positive number of seconds`` and ``must be between``)."""

from __future__ import annotations

# The counts every measuring module takes: at least one counted run, no negative warm-up.
RUN_COUNTS = (("runs", 1), ("warmup", 0))


def range_error(params, minimums=RUN_COUNTS, positive=(), bounds=(), where=""):
    """The first out-of-range parameter as a message, or None.

    ``minimums``: (name, lowest allowed integer) pairs; ``positive``: names of durations in
    seconds that must be above zero; ``bounds``: (name, lowest, highest) triples. ``where`` is put
    before the name (``compare.b.``, ``targets[0]: ``). Parameters that are None (not given) are
    not checked.
    """
    for key, low in minimums:
        value = params.get(key)
        if value is not None and value < low:
            if low == 0:
                return "%s%s must be 0 or more, got %s" % (where, key, value)
            return "%s%s must be at least %d, got %s" % (where, key, low, value)
    for key in positive:
        value = params.get(key)
        if value is not None and value <= 0:
            return "%s%s must be a positive number of seconds, got %s" % (where, key, value)
    for key, low, high in bounds:
        value = params.get(key)
        if value is not None and not low <= value <= high:
            return "%s%s must be between %s and %s, got %s" % (where, key, low, high, value)
    return None
