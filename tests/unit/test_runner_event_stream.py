"""tests/runner/common.check_event_stream: the CLI check's event-list assertion (issue 15).

Bug it catches: `runner: CLI, successful job` asserted that the FIRST event is playbook_on_start.
On a fresh machine pip installs the newest cryptography, which warns (CryptographyDeprecationWarning,
DSA) when ansible-core imports it; the warning lines reach ansible-runner's stdout before the
playbook starts and become two `verbose` events, so the check failed although ansible-runner was
right. The stream check must accept such lines and still refuse a lost or misordered event.
"""
import importlib.util
import os

import pytest

_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "runner", "common.py")
_SPEC = importlib.util.spec_from_file_location("o2edge_runner_common", _PATH)
common = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(common)


def _stream(kinds):
    events, line = [], 0
    for counter, kind in enumerate(kinds, 1):
        events.append({"event": kind, "counter": counter, "uuid": "u%d" % counter, "start_line": line,
                       "end_line": line + 1})
        line += 1
    return events


# What a fresh venv (cryptography 51) records: two warning lines, the play, the PERF RECAP lines.
FRESH = (["verbose", "verbose", "playbook_on_start", "playbook_on_play_start", "playbook_on_task_start",
          "runner_on_start", "runner_on_ok", "playbook_on_stats"] + ["verbose"] * 3)


def test_leading_warning_lines_are_not_a_failure():
    kinds = common.check_event_stream(_stream(FRESH), ("runner_on_ok",))
    assert kinds[0] == "playbook_on_start" and kinds[-1] == "playbook_on_stats"


def test_the_old_assertion_failed_on_that_stream():
    # today's assertion, kept here to show what the fresh machine saw
    kinds = [e["event"] for e in _stream(FRESH)]
    assert not (kinds[0] == "playbook_on_start")


@pytest.mark.parametrize("mutate, message", [
    (lambda ev: ev.pop(4), "counters"),                                     # an event file lost
    (lambda ev: ev[5].pop("counter"), "without a counter"),                 # a partial left behind
    (lambda ev: ev.__setitem__(2, dict(ev[2], event="playbook_on_play_start")), "first playbook event"),
    (lambda ev: ev[6].__setitem__("start_line", 9), "starts at line"),      # stdout lines missing
])
def test_incomplete_streams_are_refused(mutate, message):
    events = _stream(FRESH)
    mutate(events)
    with pytest.raises(AssertionError, match=message):
        common.check_event_stream(events)


def test_a_missing_named_event_is_refused():
    with pytest.raises(AssertionError, match="runner_on_failed"):
        common.check_event_stream(_stream(FRESH), ("runner_on_failed",))


@pytest.mark.parametrize("kinds", [FRESH[:7] + FRESH[8:], FRESH[:8] + ["playbook_on_stats"],
                                   FRESH[:7] + ["playbook_on_stats", "runner_on_ok"]])
def test_stats_must_come_once_and_last(kinds):
    with pytest.raises(AssertionError, match="playbook_on_stats"):
        common.check_event_stream(_stream(kinds))
