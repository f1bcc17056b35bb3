# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The paired bootstrap with NumPy draws the very resamples of random.Random and gives the same interval."""
from __future__ import annotations

import random

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _fast_stats, _verdicts


def _pure(ratios, confidence=0.95, resamples=2000, seed=0):
    """The interval as computed one draw at a time (the pure path, whatever is installed)."""
    rng = random.Random(seed)
    n = len(ratios)
    meds = sorted(_verdicts._median([ratios[int(rng.random() * n)] for dummy in range(n)])
                  for dummy in range(resamples))
    return [_verdicts._percentile(meds, (1.0 - confidence) / 2.0), _verdicts._percentile(meds, (1.0 + confidence) / 2.0)]


def test_numpy_resamples_are_the_python_draws(monkeypatch):
    pytest.importorskip("numpy")
    monkeypatch.delenv(_fast_stats.ENV_STATS, raising=False)
    rng = random.Random(2)
    for trial in range(120):
        n = rng.choice([1, 2, 3, 4, 5, 7, 10, 13, 40])
        ratios = [rng.choice([1.0, 0.9, rng.lognormvariate(0, 0.2), 1e300, 1e-300]) for dummy in range(n)]
        seed = rng.choice([0, 1, 7, "x", 2 ** 40])
        resamples, confidence = rng.choice([100, 500, 2000]), rng.choice([0.95, 0.9, 0.5])
        fast = _fast_stats.median_resamples(random.Random(seed), ratios, resamples)
        slow = sorted(_verdicts._median([ratios[int(r.random() * n)] for dummy in range(n)])
                      for r in [random.Random(seed)] for dummy in range(resamples))
        assert fast == slow, (trial, n, seed)
        assert _verdicts.bootstrap_median_ratio(ratios, confidence, resamples, seed) == \
            _pure(ratios, confidence, resamples, seed)


def test_pure_switch_and_the_resamples_vary(monkeypatch):
    monkeypatch.setenv(_fast_stats.ENV_STATS, "pure")
    assert _fast_stats.median_resamples(random.Random(0), [1.0, 2.0], 10) is None
    ratios = [0.8, 0.9, 0.95, 1.0, 1.02, 1.1, 0.85, 0.92]
    lo, hi = _verdicts.bootstrap_median_ratio(ratios)
    assert [lo, hi] == _pure(ratios)
    # a bootstrap that stopped resampling would give the median itself at both ends
    assert lo < _verdicts._median(ratios) < hi
