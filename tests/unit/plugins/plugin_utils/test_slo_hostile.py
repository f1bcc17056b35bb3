# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""SLO files and selections under hostile input (issue 15 classes 1, 3, 4, 7; issue 17 item 3).

Each test names the bug it catches; each failed on the code before the fix.
"""
from __future__ import annotations

import os

import pytest

from ansible_collections.o2edge.perf.plugins.plugin_utils import _slo

from tests.unit.plugins.module_utils.fifo_guard import call_without_hanging
from tests.unit.plugins.plugin_utils.test_slo import probe, rec, results, slo_yaml

SHADOW = ("root:$6$saltsalt$hashhashhashhashhash:19000:0:99999:7:::\n"
          "daemon:*:19000:0:99999:7:::\n")
SECRET = "hunter2-Secret-Value"


def load_text(text):
    return _slo.load_objectives(text=text)


def load_path(path):
    return _slo.load_objectives(str(path))


def refused(func, *args):
    with pytest.raises(_slo.SloError) as err:
        func(*args)
    return str(err.value)


# --------------------------------------------------------------------------- 1. nothing quoted from the file

def test_symlink_to_a_shadow_file_is_not_echoed_line_by_line(tmp_path):
    # bug: every line of /etc/shadow came back as "document 1: root:$6$...: unknown field"
    shadow = tmp_path / "shadow"
    shadow.write_text(SHADOW)
    link = tmp_path / "slos.yml"
    os.symlink(str(shadow), str(link))
    msg = refused(load_path, link)
    assert "$6$" not in msg and "hashhash" not in msg and "daemon" not in msg and "root" not in msg
    assert "(key 1): unknown field" in msg and "(key 2): unknown field" in msg


def test_secret_looking_or_odd_keys_are_named_by_position_only():
    # bug: unknown keys were quoted whatever they held (a secret key name, a URL with a password, a key block)
    text = ("db_password: x\nhttps://user:pw0rd@host/x: 1\n\"-----BEGIN RSA PRIVATE KEY-----abc\": 2\n"
            "ghp16C7e42F292c6912E7710c838347Ae178B4a: 3\ntimeWindow: 4\n")
    msg = refused(load_text, text)
    for leaked in ("db_password", "pw0rd", "PRIVATE KEY", "ghp16C7e42F292c6912E"):
        assert leaked not in msg
    assert "(key 1)" in msg and "(key 2)" in msg and "(key 3)" in msg and "(key 4)" in msg
    assert "timeWindow: unknown field" in msg  # a plain identifier is still named


@pytest.mark.parametrize("field,line,leaked", [
    ("kind", "kind: SLO", "x" * 40 + "-long-kind"),
    ("apiVersion", "apiVersion: openslo/v1", "https://user:pw0rd@example.com/v1"),
    ("metadata.name", "  name: lat", "root:$6$saltsalt$hash:19000"),
    ("spec.budgetingMethod", "  budgetingMethod: Occurrences", "token1234abcd5678efgh9012"),
])
def test_values_from_the_file_are_not_quoted_in_full(field, line, leaked):
    # bug: _short quoted up to 57 characters of any value, secrets and hash lines included
    msg = refused(load_text, slo_yaml().replace(line, line.split(":")[0] + ": '%s'" % leaked))
    assert field in msg and "not shown" in msg
    assert leaked[:12] not in msg
    # the useful case survives: a typo in a vocabulary field is quoted back
    assert "got 'slo'" in refused(load_text, slo_yaml().replace("kind: SLO", "kind: slo"))


def test_unit_must_be_a_short_symbol():
    # bug: any string was accepted as a unit and then quoted in every verdict's reason
    msg = refused(load_text, slo_yaml(unit="'%s'" % ("s" + "x" * 30)))
    assert "metricSource.spec.unit: must be a unit symbol" in msg and "x" * 30 not in msg


def test_a_jmespath_syntax_error_does_not_quote_the_expression():
    # bug: jmespath's message (expression and caret) was put in the SloError
    msg = refused(load_text, slo_yaml(select="records[?context.password == '%s'" % SECRET))
    assert SECRET not in msg and "password" not in msg
    assert "select: not a valid JMESPath expression (IncompleteExpressionError at column" in msg


# --------------------------------------------------------------------------- 2. evaluation errors

def test_a_failing_selection_does_not_quote_the_selected_data():
    # bug: the reason held jmespath's type error, which quotes the whole selected value
    objectives = load_text(slo_yaml(select="records[?contains(record.context, 'x')]"))
    doc = results([rec("a", [0.1])])
    doc["records"][0]["record"]["context"]["api_token"] = SECRET
    doc["records"][0]["record"]["context"]["padding"] = "y" * 5000
    out = _slo.evaluate(objectives, doc)[0]
    assert out["status"] == "fail"
    assert SECRET not in out["reason"] and "yyyy" not in out["reason"] and len(out["reason"]) < 400
    assert "JMESPathTypeError: in function contains(), got object, expected array, string" in out["reason"]


# --------------------------------------------------------------------------- 3. bounded expressions

@pytest.mark.parametrize("select", [
    "(" * 3000 + "records" + ")" * 3000,
    "!" * 600 + "records",
    "||".join(["records"] * 600),
    "records" + " " * 2000,
])
def test_a_huge_or_deep_jmespath_is_refused_naming_the_slo(select):
    # bug: jmespath's recursive parser ended in a bare RecursionError (no SLO, no field)
    msg = refused(load_text, slo_yaml(name="deep-one", select=select))
    assert "document 1 (SLO deep-one): spec.indicator.spec.thresholdMetric.metricSource.spec.select: not accepted" in msg
    # brackets inside quoted literals do not count: a legitimate selection is not refused
    legit = "records[?record.name == '" + "(" * 50 + "']"
    assert load_text(slo_yaml(select=legit))[0]["select"] == legit


def test_a_deep_jmespath_handed_to_evaluate_fails_the_objective():
    # bug: evaluate() raised RecursionError for an objective built without load_objectives
    objective = dict(load_text(slo_yaml())[0], select="(" * 400 + "records" + ")" * 400)
    out = _slo.evaluate([objective], results([rec("a", [0.1])]))[0]
    assert out["status"] == "fail" and "SelectRefused: nests brackets deeper than" in out["reason"]


# --------------------------------------------------------------------------- 4. missing is failure

def test_probes_without_a_boolean_ok_are_bad_occurrences_and_the_reason_says_so():
    # bug: a probe whose ok was missing or null was silently one more bad occurrence, unexplained
    objectives = load_text(slo_yaml(statistic="success_ratio", unit=None, select="probes",
                                    objectives="    - {target: 0.5}\n"))
    missing = probe("edge1", "ssh", True)
    del missing["result"]["ok"]
    null = probe("edge1", "o2ims", True)
    null["result"]["ok"] = None
    out = _slo.evaluate(objectives, results(probes=[probe("edge1", "k8s", True), missing, null]))[0]
    assert out["status"] == "fail" and out["value"] == pytest.approx(1 / 3.0)
    assert "2 probes without a boolean ok counted as failed" in out["reason"]


@pytest.mark.parametrize("samples,failures", [(["fast"], 0), ([None, 0.1], 0), ([0.1], None), ([0.1], 1.5)])
def test_a_record_without_numeric_samples_and_failures_fails(samples, failures):
    # bug: samples that were not numbers counted as successful runs (["fast"] passed at 100%)
    objectives = load_text(slo_yaml(statistic="success_ratio", unit=None, objectives="    - {target: 0.5}\n"))
    item = rec("a", [0.1])
    item["record"]["samples"] = samples
    item["record"]["failures"] = failures
    out = _slo.evaluate(objectives, results([item]))[0]
    assert out["status"] == "fail" and "has no samples list of numbers and failures count" in out["reason"]


# --------------------------------------------------------------------------- 5. reading through _safe_read and _yaml_bounds

def _refused_quickly(path):
    return call_without_hanging([path], refused, load_path, path)


def test_a_fifo_a_device_and_a_directory_are_refused_by_type(tmp_path):
    # bug: refused as "not a regular file" after a stat-then-open race, without saying what it was
    fifo = tmp_path / "slos.fifo"
    os.mkfifo(str(fifo))
    assert "SLO file %s is a named pipe (FIFO), not a regular file" % fifo in _refused_quickly(fifo)
    assert "is a character device, not a regular file" in _refused_quickly("/dev/zero")
    assert "is a directory, not a regular file" in _refused_quickly(tmp_path)


def test_a_repeated_key_is_refused_not_silently_dropped():
    # bug: YAML kept the last of two `spec:` keys, the first objective vanished without a word
    text = slo_yaml().replace("spec:\n  service: svc", "spec: {}\nspec:\n  service: svc", 1)
    assert "repeats the key spec in one mapping (line 6)" in refused(load_text, text)


# --------------------------------------------------------------------------- 6. explicit path or text

def test_text_is_never_guessed_from_a_newline():
    # bug: a string holding a newline was parsed as YAML, any other string opened as a path
    assert "path holds a newline" in refused(_slo.load_objectives, slo_yaml())
    assert "exactly one of path, text or documents, got none" in refused(_slo.load_objectives)
    with pytest.raises(_slo.SloError, match="got path, text"):
        _slo.load_objectives("slos.yml", text=slo_yaml())
    assert load_text(slo_yaml())[0]["name"] == "lat"


def test_a_huge_number_is_not_quoted_digit_by_digit():
    # bug: a 4,000-digit target ended in a bare OverflowError (math.isfinite), and _short quoted any int's digits
    msg = refused(load_text, slo_yaml(objectives="    - {op: lt, value: 1, target: %s}\n" % ("9" * 4000)))
    assert "target: must be a number in (0, 1], got a number" in msg and "9999999999" not in msg
    msg = refused(load_text, slo_yaml(objectives="    - {op: lt, value: %s}\n" % ("9" * 400)))
    assert "value: must be a finite number, got a number" in msg


def test_every_source_is_checked_and_named(tmp_path):
    # bug: load_objectives(123) or a bad file's YAML error gave no source; a lone surrogate was a UnicodeEncodeError
    bad = tmp_path / "bad.yml"
    bad.write_text("a: [\nb")
    assert "SLO file %s: the YAML text is not valid YAML" % bad in refused(load_path, bad)
    assert "text must be YAML text, got a number" in refused(lambda: _slo.load_objectives(text=123))
    assert "path must be the path of an SLO file, got a number" in refused(_slo.load_objectives, 123)
    assert "path must be the path of an SLO file, got a string" in refused(_slo.load_objectives, "  ")
    assert "got text, documents" in refused(lambda: _slo.load_objectives(text="a", documents=[]))
    assert "the YAML text is" in refused(load_text, "a: \ud800\n")
    # exactly MAX_BYTES is read (and then found to be no SLO); one byte more is not
    limit = _slo.MAX_BYTES
    assert "no SLO document found" in refused(load_text, "#" * limit)
    assert "over %d bytes" % limit in refused(load_text, "#" * (limit + 1))


def test_token_shaped_values_are_hidden_at_the_exact_bounds():
    # bug: a 20-character value of letters and 4 digits (an API key's shape) was quoted; mutation survivors
    assert "not shown" in refused(load_text, slo_yaml().replace("kind: SLO", "kind: abcdefghijklmnop1234"))
    assert "got 'abcdefghijklmnopqrstuvwxy'" not in refused(
        load_text, slo_yaml().replace("kind: SLO", "kind: abcdefghijklmnopqrstuvwxy"))  # 25: over the shown length
    assert "got 'abcdefghijklmnopqrstuvwx'" in refused(
        load_text, slo_yaml().replace("kind: SLO", "kind: abcdefghijklmnopqrstuvwx"))  # 24 letters, no digit: shown
    assert "got 'abcdefghijklmnopq123'" in refused(load_text, slo_yaml().replace("kind: SLO", "kind: abcdefghijklmnopq123"))


def test_more_than_twenty_problems_are_counted_not_listed():
    # not a bug of the old code: pins the bounded message (20 listed, the rest counted) against mutation survivors
    text = "\n".join("k%02d: 1" % i for i in range(30)) + "\n"
    msg = refused(load_text, text)
    assert msg.count("unknown field") == 20 and msg.endswith("; and 18 more")
