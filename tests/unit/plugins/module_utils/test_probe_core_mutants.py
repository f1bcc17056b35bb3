# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""probe/_probe.py (the pool, probe_one, the matrix): tests written for the survivors of its mutation run.

Each test is named for the bug it catches. No network: a kind is replaced by a function that records what
``probe_one`` gives it and returns or raises what the test says.
"""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.probe import _connect as conn
from ansible_collections.o2edge.perf.plugins.module_utils.probe import _probe as pr
from ansible_collections.o2edge.perf.plugins.module_utils._services import PROBE_KINDS

RESULT_KEYS = {"site", "service", "kind", "address", "port", "ok", "state", "latency_ms", "connect_ms", "detail", "info"}


class Kind(object):
    """A probe kind that records its calls and returns ``answer`` or raises it."""

    def __init__(self, answer=("seen", {})):
        self.answer = answer
        self.calls = []

    def __call__(self, target, deadline, ctx):
        self.calls.append((target, deadline, dict(ctx)))
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer


@pytest.fixture
def kind(monkeypatch):
    fake = Kind()
    monkeypatch.setattr(pr, "kind_probe", lambda name: fake if name in PROBE_KINDS else None)
    return fake


TARGET = {"site": "s1", "service": "web", "kind": "http", "address": "edge.example", "port": 8443}


def test_the_ssh_limit_is_8_per_cpu_with_at_least_4(monkeypatch):
    monkeypatch.setattr(pr.os, "cpu_count", lambda: 2)
    assert pr.ssh_concurrency_default() == 16
    monkeypatch.setattr(pr.os, "cpu_count", lambda: None)
    assert pr.ssh_concurrency_default() == 8
    monkeypatch.setattr(pr, "SSH_PER_CPU", 1)
    assert pr.ssh_concurrency_default() == 4


@pytest.mark.parametrize("target, named", [
    ({"site": "s1", "service": "files", "kind": "ftp"}, "site s1 service files"),
    ({"site": "s1", "kind": "ftp"}, "site s1 service ftp"),
])
def test_an_unknown_kind_is_refused_naming_the_target_and_the_kinds(target, named):
    with pytest.raises(ValueError) as info:
        pr.probe_one(target)
    assert str(info.value) == "target %s: unknown probe kind 'ftp'; the kinds are tcp, ssh, http, prometheus, kubernetes" % named


def test_the_default_deadline_is_5s_with_a_2s_connect(kind):
    pr.probe_one(dict(TARGET))
    deadline = kind.calls[0][1]
    assert (deadline.total, deadline.connect) == (5.0, 2.0)


def test_a_target_s_own_timeouts_win(kind):
    pr.probe_one(dict(TARGET, timeout=7, connect_timeout=0.5), connect_timeout=3.0, timeout=9.0)
    deadline = kind.calls[0][1]
    assert (deadline.total, deadline.connect) == (7.0, 0.5)


def test_a_result_has_exactly_its_fields_from_the_target(kind):
    kind.answer = ("fine", {"connect_ms": 1.5, "code": 200})
    res = pr.probe_one(dict(TARGET))
    assert set(res) == RESULT_KEYS
    assert {k: res[k] for k in RESULT_KEYS - {"latency_ms"}} == {
        "site": "s1", "service": "web", "kind": "http", "address": "edge.example", "port": 8443, "ok": True,
        "state": "up", "connect_ms": 1.5, "detail": "fine", "info": {"code": 200}}
    kind.answer = conn.ProbeError("refused", "connect: connection refused", {"connect_ms": 2.0})
    res = pr.probe_one(dict(TARGET))
    assert set(res) == RESULT_KEYS
    assert (res["ok"], res["state"], res["detail"], res["connect_ms"], res["info"]) == (
        False, "refused", "connect: connection refused", 2.0, {})


def test_an_unexpected_error_in_a_kind_is_named_as_the_probe_s(kind):
    kind.answer = ValueError("odd")
    res = pr.probe_one(dict(TARGET))
    assert set(res) == RESULT_KEYS
    assert (res["ok"], res["state"], res["detail"]) == (False, "protocol", "probe: ValueError: odd")


def test_the_default_context_runs_the_ssh_program_named_ssh():
    ctx = pr.default_context()
    assert ctx["ssh"] == "ssh" and isinstance(ctx["resolver"], conn.Resolver)


# --------------------------------------------------------------------------- probe_all's pools

class Pools(object):
    """ThreadPoolExecutor as probe_all uses it, recording each pool's size, what it ran and its shutdown."""

    made = []

    def __init__(self, monkeypatch):
        Pools.made = []
        real = pr.ThreadPoolExecutor

        class Recording(real):
            def __init__(self, max_workers):
                super(Recording, self).__init__(max_workers=max_workers)
                self.size, self.ran, self.shut = max_workers, [], None
                Pools.made.append(self)

            def submit(self, fn, *args):
                self.ran.append(args[0]["site"])
                return super(Recording, self).submit(fn, *args)

            def shutdown(self, wait=True, **kw):
                self.shut = wait
                return super(Recording, self).shutdown(wait=wait, **kw)

        monkeypatch.setattr(pr, "ThreadPoolExecutor", Recording)
        self.calls = []
        monkeypatch.setattr(pr, "probe_one", self.probe_one)
        monkeypatch.setattr(pr.os, "cpu_count", lambda: 2)  # the default ssh limit: 16

    def probe_one(self, target, connect_timeout, timeout, ctx):
        self.calls.append((target["site"], connect_timeout, timeout, ctx))
        return {"site": target["site"]}


def targets(n, kind, first=0):
    return [{"site": "s%d" % i, "kind": kind, "address": "198.18.0.1", "port": 22} for i in range(first, first + n)]


def test_probe_all_defaults_64_workers_and_a_5s_probe_with_a_2s_connect(monkeypatch):
    pools = Pools(monkeypatch)
    out = pr.probe_all(targets(100, "tcp"))
    assert out == [{"site": "s%d" % i} for i in range(100)]
    assert [p.size for p in Pools.made] == [64]
    assert {(c[1], c[2]) for c in pools.calls} == {(2.0, 5.0)}
    assert Pools.made[0].shut is True


@pytest.mark.parametrize("n_ssh, n_other, kw, sizes", [
    (30, 0, {}, [16]),  # ssh alone: the default ssh limit
    (3, 0, {}, [3]),  # never more workers than targets
    (10, 0, {"ssh_concurrency": 3}, [3]),
    (10, 0, {"ssh_concurrency": 0}, [1]),
    (0, 10, {"concurrency": 0}, [1]),
    (10, 10, {"concurrency": 16}, [8, 8]),  # ssh takes at most half
    (3, 10, {"concurrency": 16}, [3, 10]),
    (10, 30, {"concurrency": 16, "ssh_concurrency": 2}, [2, 14]),
    (10, 10, {"concurrency": 1}, [1]),  # one worker for all
    (10, 10, {"concurrency": 2}, [1, 1]),  # two workers: one each
    (10, 10, {"concurrency": 3}, [1, 2]),
    (20, 20, {"concurrency": 64}, [16, 20]),
])
def test_probe_all_splits_its_workers_between_ssh_and_the_rest(monkeypatch, n_ssh, n_other, kw, sizes):
    pools = Pools(monkeypatch)
    out = pr.probe_all(targets(n_ssh, "ssh") + targets(n_other, "http", first=n_ssh), **kw)
    assert [r["site"] for r in out] == ["s%d" % i for i in range(n_ssh + n_other)]
    assert [p.size for p in Pools.made] == sizes
    if len(sizes) == 2:
        assert Pools.made[0].ran == ["s%d" % i for i in range(n_ssh)]
        assert Pools.made[1].ran == ["s%d" % i for i in range(n_ssh, n_ssh + n_other)]
    assert all(p.shut is True for p in Pools.made)
    assert len(pools.calls) == n_ssh + n_other


def test_probe_all_refuses_an_unknown_kind_before_probing_anything(monkeypatch):
    pools = Pools(monkeypatch)
    with pytest.raises(ValueError):
        pr.probe_all(targets(3, "tcp") + targets(1, "ftp", first=3))
    assert pools.calls == [] and Pools.made == []
    assert pr.probe_all([]) == [] and Pools.made == []


def test_probe_all_shares_one_context_and_adds_a_tls_cache_only_when_missing(monkeypatch):
    pools = Pools(monkeypatch)
    own = {"ssh": "my-ssh", "resolver": conn.Resolver()}
    pr.probe_all(targets(2, "tcp"), ctx=own, connect_timeout=1.0, timeout=3.0)
    ctx = pools.calls[0][3]
    assert ctx is pools.calls[1][3] and ctx is not own and "tls" not in own
    assert ctx["ssh"] == "my-ssh" and ctx["resolver"] is own["resolver"] and isinstance(ctx["tls"], pr._probe_http.TlsCache)
    assert {(c[1], c[2]) for c in pools.calls} == {(1.0, 3.0)}
    tls = pr._probe_http.TlsCache()
    pr.probe_all(targets(1, "tcp"), ctx=dict(own, tls=tls))
    assert pools.calls[-1][3]["tls"] is tls
    pr.probe_all(targets(1, "tcp"))
    assert pools.calls[-1][3]["ssh"] == "ssh" and isinstance(pools.calls[-1][3]["tls"], pr._probe_http.TlsCache)


# --------------------------------------------------------------------------- summary and table

RESULTS = [{"site": "a", "service": "ssh", "state": "up"}, {"site": "a", "service": "web", "state": "up"},
           {"site": "bb", "service": "ssh", "state": "refused"}, {"site": "c", "service": "web", "state": "timeout"}]


def test_the_healthy_share_is_rounded_to_4_places_and_the_percentage_to_1():
    summ = pr.summarize(RESULTS)
    assert (summ["healthy_share"], summ["healthy_pct"]) == (0.3333, 33.3)
    assert (summ["sites_total"], summ["sites_up"], summ["sites_partial"], summ["sites_down"]) == (3, 1, 0, 2)


def test_the_table_is_aligned_under_a_dashed_rule():
    assert pr.table(RESULTS) == [
        "site  ssh      web      site status",
        "----  -------  -------  -----------",
        "a     up       up       up",
        "bb    refused  -        down",
        "c     -        timeout  down",
        "1/3 sites fully up (33.3%), 0 partly up, 2 down; 2/4 services up",
    ]
