# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
from __future__ import annotations

import datetime
import os
import re
import types

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _record as rec
from ansible_collections.o2edge.perf.plugins.module_utils._stats import STAT_KEYS


def test_record_shape():
    r = rec.make_record("git/status", "git", "s", [0.2, 0.1, 0.3], warmup=1, failures=1,
                        errors=[{"phase": "run", "run": 3, "error": "exit status 1"}],
                        context=rec.base_context(command="git status", versions={"git": "2.39"}))
    assert tuple(r) == rec.RECORD_KEYS
    assert rec.validate_record(r) == []
    assert r["samples"] == [0.2, 0.1, 0.3]  # in run order, not sorted
    assert r["stats"]["median"] == 0.2
    assert r["failures"] == 1 and r["errors"][0]["run"] == 3
    ctx = r["context"]
    assert ctx["command"] == "git status"
    assert ctx["versions"]["git"] == "2.39" and "python" in ctx["versions"]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", ctx["started_at"])
    assert ctx["host"]


def test_all_failed_record_has_no_made_up_numbers():
    r = rec.make_record("x", "command", "s", [], failures=3, errors=[{"error": "e"}] * 3)
    assert rec.validate_record(r) == []
    assert all(r["stats"][k] is None for k in ("min", "median", "mean", "p95", "max", "stdev", "mad"))


def test_validate_finds_problems():
    r = rec.make_record("x", "command", "s", [1.0])
    bad = dict(r)
    del bad["errors"]
    bad["extra"] = 1
    problems = rec.validate_record(bad)
    assert "missing key errors" in problems and "unexpected keys extra" in problems
    bad = dict(r, samples=["1"], failures=-1)
    problems = rec.validate_record(bad)
    assert "samples[0] is not a finite number" in problems
    assert "failures must be a non-negative integer" in problems
    assert rec.validate_record([]) == ["record is not a mapping"]


def test_name_required():
    with pytest.raises(ValueError):
        rec.make_record("", "command", "s", [])


@pytest.mark.parametrize("bad,error,needle", [
    (None, TypeError, "record git/status: samples[1] is None, not a number"),
    (float("nan"), ValueError, "record git/status: samples[1] is nan, not a finite number"),
    (float("inf"), ValueError, "record git/status: samples[1] is inf, not a finite number"),
    (True, TypeError, "record git/status: samples[1] is True, not a number"),
    ("0.2", TypeError, "record git/status: samples[1] is '0.2', not a number"),
])
def test_bad_sample_is_refused_naming_the_index(bad, error, needle):
    with pytest.raises(error) as err:
        rec.make_record("git/status", "git", "s", [0.1, bad, 0.3])
    assert str(err.value) == needle


def test_samples_must_be_a_list():
    with pytest.raises(TypeError, match="record x: samples must be a list of numbers, got None"):
        rec.make_record("x", "command", "s", None)
    assert rec.make_record("x", "command", "s", (1, 2.5))["samples"] == [1.0, 2.5]


def test_record_shape_is_documented_in_the_project():
    # the record shape lives in the project's own docs/statistics.md, which _record.py cites
    root = os.path.dirname(os.path.dirname(os.path.abspath(rec.__file__)))
    root = os.path.dirname(root)
    doc_path = os.path.join(root, "docs", "statistics.md")
    assert "docs/statistics.md" in rec.__doc__
    with open(doc_path) as handle:
        doc = handle.read()
    for key in rec.RECORD_KEYS:
        assert "| `%s` |" % key in doc, "docs/statistics.md does not describe the record key %s" % key
    for key in STAT_KEYS + ("outliers", "slow_first_run"):
        assert "`%s`" % key in doc


def test_slug_and_tail():
    assert rec.slug("git log --oneline -10") == "git-log-oneline-10"
    assert rec.slug("rate(prometheus_http_requests_total[5m])") == "rate-prometheus_http_requests_total-5m"
    assert rec.slug("   ") == "unnamed"
    assert rec.tail(b"x" * 5000, 10) == "..." + "x" * 10
    assert rec.tail(None) == ""


# --- mutation-testing kills (docs/mutation.md) -------------------------------------------


def test_utc_now_milliseconds_are_microseconds_floor_divided_by_1000(monkeypatch):
    # 12:34:56.500999 is ".500Z": milliseconds, truncated, zero-padded to three digits.
    fixed = datetime.datetime(2026, 1, 2, 12, 34, 56, 500999, tzinfo=datetime.timezone.utc)

    class FrozenDatetime(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return fixed

    monkeypatch.setattr(rec, "datetime", types.SimpleNamespace(datetime=FrozenDatetime, timezone=datetime.timezone))
    assert rec.utc_now() == "2026-01-02T12:34:56.500Z"
    fixed = fixed.replace(microsecond=7000)
    assert rec.utc_now() == "2026-01-02T12:34:56.007Z"


def test_slug_strips_only_dashes_and_slashes_at_the_ends():
    # Letters at the ends are kept ("X-ray X" must not lose its X's); only - and / are trimmed.
    assert rec.slug("X-ray X") == "X-ray-X"
    assert rec.slug("/-x-/") == "x"


def test_slug_is_cut_at_120_characters():
    assert rec.slug("a" * 200) == "a" * 120


def test_tail_keeps_exactly_error_tail_characters():
    # The default tail is 2000 characters: a 2000-character message is kept whole (no "..."),
    # a 2001-character one loses its first character.
    assert rec.ERROR_TAIL == 2000
    assert rec.tail("y" * 2000) == "y" * 2000
    assert rec.tail("x" + "y" * 2000) == "..." + "y" * 2000
    assert rec.tail("abc", 3) == "abc"


def test_tail_replaces_undecodable_bytes():
    # stderr that is not UTF-8 must not raise: bad bytes become U+FFFD.
    assert rec.tail(b"exit \xff\xfe status") == "exit \ufffd\ufffd status"


def test_make_record_defaults_no_warmup_no_failures_six_digits():
    r = rec.make_record("x", "command", "s", [0.1234567], context={})
    assert r["warmup"] == 0 and r["failures"] == 0 and r["errors"] == []
    assert r["samples"] == [0.123457] and r["stats"]["median"] == 0.123457


@pytest.mark.parametrize("name", ["", None, 5])
def test_bad_record_name_message_is_exact(name):
    with pytest.raises(ValueError) as err:
        rec.make_record(name, "command", "s", [])
    assert re.fullmatch(r"record name must be a non-empty string, got %s" % re.escape(repr(name)),
                        str(err.value)), str(err.value)


def test_samples_not_a_list_message_is_exact():
    with pytest.raises(TypeError) as err:
        rec.make_record("x", "command", "s", "0.2")
    assert re.fullmatch(r"record x: samples must be a list of numbers, got '0\.2'", str(err.value)), str(err.value)


def test_validate_record_messages_are_exact():
    # Each problem is reported whole, in a fixed order, so that an operator can act on it.
    r = rec.make_record("x", "command", "s", [1.0], context={})
    bad = dict(r, zeta=1, alpha=2)
    del bad["errors"]
    assert rec.validate_record(bad) == ["missing key errors", "unexpected keys alpha, zeta"]
    bad = dict(r, errors="e", stats={"min": "1", "median": None}, context=[])
    assert rec.validate_record(bad) == [
        "errors must be a list", "stats.min must be a finite number or None", "stats lacks mean", "stats lacks p95",
        "stats lacks max", "stats lacks stdev", "stats lacks mad", "context must be a mapping"]
    bad = dict(r, stats=[], context={"host": "h"})
    assert rec.validate_record(bad) == ["stats must be a mapping", "context lacks started_at", "context lacks versions"]
