# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The generated Grafana dashboard: loads into Grafana's own typed model without losing a field, every query is
PromQL promtool accepts, the panels the issue asks for are there and do not overlap."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest
import yaml

from ansible_collections.o2edge.perf.plugins.plugin_utils._slo import default_objectives
from ansible_collections.o2edge.perf.plugins.plugin_utils import _dashboard as D

sdk = pytest.importorskip("grafana_foundation_sdk", reason="grafana-foundation-sdk (requirements-test.txt) is missing")
from grafana_foundation_sdk.cog.encoder import JSONEncoder  # noqa: E402
from grafana_foundation_sdk.cog.plugins import register_default_plugins  # noqa: E402
from grafana_foundation_sdk.models.dashboard import Dashboard  # noqa: E402


def lost(ours, theirs, path=""):
    """Paths of ``ours`` that Grafana's model dropped or changed."""
    if isinstance(ours, dict):
        if not isinstance(theirs, dict):
            return [path or "."]
        out = []
        for key, value in ours.items():
            out += [path + "." + key] if key not in theirs else lost(value, theirs[key], path + "." + key)
        return out
    if isinstance(ours, list):
        if not isinstance(theirs, list) or len(ours) != len(theirs):
            return [path]
        return [p for i, (a, b) in enumerate(zip(ours, theirs)) for p in lost(a, b, "%s[%d]" % (path, i))]
    return [] if ours == theirs else [path]


def test_round_trips_through_grafanas_dashboard_model():
    """Bug caught: a misspelt or misplaced field (Grafana ignores it silently: a panel without its query or place)."""
    register_default_plugins()
    ours = json.loads(json.dumps(D.dashboard(default_objectives())))
    theirs = json.loads(json.dumps(Dashboard.from_json(ours), cls=JSONEncoder))
    assert lost(ours, theirs) == []
    broken = json.loads(json.dumps(ours))
    broken["panels"][1]["gridpos"] = broken["panels"][1].pop("gridPos")
    assert lost(broken, json.loads(json.dumps(Dashboard.from_json(broken), cls=JSONEncoder))) == [".panels[1].gridpos"]


def test_panels_the_issue_asks_for_without_overlap():
    """Bug caught: a missing panel (render time, probe matrix, SLO burn, before/after) or panels drawn on top of others."""
    dash = D.dashboard(default_objectives())
    titles = " | ".join(p["title"] for p in dash["panels"])
    for word in ("render time per package", "Probe matrix", "SLO burn rate", "Change ratio", "Regressions"):
        assert word in titles
    cells = set()
    for p in dash["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, p["title"]
        cells |= mine
    assert [p["id"] for p in dash["panels"]] == list(range(1, len(dash["panels"]) + 1))


@pytest.mark.skipif(shutil.which("promtool") is None, reason="promtool is missing (make deps installs it)")
def test_every_query_is_valid_promql(tmp_path):
    """Bug caught: a query Prometheus refuses (an unescaped matcher value, a bad window) shown as an empty panel."""
    dash = D.dashboard(default_objectives(), {"matchers": {"job": 'a"b\nc'}})
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 10
    rules = {"groups": [{"name": "dashboard", "rules": [{"record": "dashboard:q%d" % i, "expr": e}
                                                        for i, e in enumerate(exprs)]}]}
    (tmp_path / "q.yml").write_text(yaml.safe_dump(rules))
    res = subprocess.run(["promtool", "check", "rules", str(tmp_path / "q.yml")], capture_output=True, text=True,
                         check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert all('job="a\\"b\\nc"' in e for e in exprs if "o2edge_perf_" in e and "{" in e and "job" in e)


def test_same_input_same_json():
    """Bug caught: a dashboard that changes on every run (random ids), so perf_rules would always report changed."""
    assert json.dumps(D.dashboard(default_objectives())) == json.dumps(D.dashboard(default_objectives()))
