# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Range checks shared by the measuring modules, with messages that name the field and value."""

from __future__ import annotations

# The counts every measuring module takes: at least one counted run, no negative warm-up.
RUN_COUNTS = (("runs", 1), ("warmup", 0))


def range_error(params, minimums=RUN_COUNTS, positive=()):
    """The first out-of-range parameter as a message, or None.

    ``minimums``: (name, lowest allowed integer) pairs; ``positive``: names of durations in
    seconds that must be above zero. Parameters that are None (not given) are not checked.
    """
    for key, low in minimums:
        value = params.get(key)
        if value is not None and value < low:
            if low == 0:
                return "%s must be 0 or more, got %s" % (key, value)
            return "%s must be at least %d, got %s" % (key, low, value)
    for key in positive:
        value = params.get(key)
        if value is not None and value <= 0:
            return "%s must be a positive number of seconds, got %s" % (key, value)
    return None
