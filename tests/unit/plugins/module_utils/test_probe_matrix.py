# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The site x service matrix's rules (probe/_matrix): a site is up only when every service is, and the columns
put ssh first. Bugs caught: a site with no probed service shown up; one service up making a site up; a site with
none up shown partial; ssh sorted among the others, or a service listed twice."""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _matrix, _probe


@pytest.mark.parametrize("states, expected", [
    ([], "down"),
    (["up"], "up"),
    (["up", "up", "up"], "up"),
    (["up", "timeout"], "partial"),
    (["refused", "up", "up"], "partial"),
    (["refused"], "down"),
    (["timeout", "tls", "auth"], "down"),
])
def test_a_site_is_up_only_when_every_service_is(states, expected):
    assert _matrix.site_state(states) == expected


def test_columns_put_ssh_first_then_the_others_by_name_each_once():
    results = [{"service": s} for s in ("prometheus", "o2ims", "ssh", "kubernetes", "o2ims", "ssh", "a-ssh")]
    assert _matrix.service_columns(results) == ["ssh", "a-ssh", "kubernetes", "o2ims", "prometheus"]
    assert _matrix.service_columns([]) == []


def test_the_probe_summary_uses_the_same_rules():
    results = [{"site": "e1", "service": "ssh", "state": "up"}, {"site": "e1", "service": "kubernetes", "state": "up"},
               {"site": "e2", "service": "ssh", "state": "up"}, {"site": "e2", "service": "o2ims", "state": "refused"},
               {"site": "e3", "service": "ssh", "state": "timeout"}]
    summary = _probe.summarize(results)
    assert summary["site_status"] == {"e1": "up", "e2": "partial", "e3": "down"}
    assert _probe.table(results)[0].split()[:4] == ["site", "ssh", "kubernetes", "o2ims"]
