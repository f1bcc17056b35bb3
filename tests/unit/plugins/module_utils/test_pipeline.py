# Copyright (c) 2026 o2edge.perf contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pipeline timer (_pipeline): stages in order, totals = sum of stages, a failed stage fails
its round and skips the later stages, failures counted, shares and the critical stage."""
from __future__ import annotations

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils.measure import _pipeline
from ansible_collections.o2edge.perf.plugins.module_utils.measure._pipeline import PipelineError, bench_pipeline, parse_stages
from ansible_collections.o2edge.perf.plugins.module_utils._record import validate_record


def _stages(tmp_path, spec):
    """Shell stages that append their name to a trail file, then do ``body``."""
    trail = tmp_path / "trail"
    return parse_stages([{"name": n, "command": "echo %s >> %s; %s" % (n, trail, body), "shell": True}
                         for n, body in spec], chdir=str(tmp_path)), trail


def test_stages_run_in_order_and_are_timed_for_real(tmp_path):
    # Bug caught: a constant or invented time, stages not all run, or run out of order.
    stages, trail = _stages(tmp_path, [("translate", "sleep 0.02"), ("render", "sleep 0.25"), ("edge", "sleep 0.05")])
    records = bench_pipeline("lab", stages, runs=3, warmup=1)
    assert [r["name"] for r in records] == ["pipeline/lab", "pipeline/lab/translate", "pipeline/lab/render",
                                            "pipeline/lab/edge"]
    assert [r["component"] for r in records] == ["pipeline"] + ["pipeline_stage"] * 3
    assert trail.read_text().split() == ["translate", "render", "edge"] * 4  # warm-up + 3 rounds, in order
    total, translate, render, edge = records
    assert all(validate_record(r) == [] for r in records)
    assert len(total["samples"]) == 3 and total["warmup"] == 1 and total["failures"] == 0
    assert all(len(r["samples"]) == 3 for r in records[1:])
    assert min(render["samples"]) >= 0.25 and min(edge["samples"]) >= 0.05
    assert max(translate["samples"]) < min(render["samples"])
    assert len(set(total["samples"])) > 1 or len(set(render["samples"])) > 1, "a constant time"
    for i, value in enumerate(total["samples"]):
        assert abs(value - (translate["samples"][i] + render["samples"][i] + edge["samples"][i])) < 1e-5
    ctx = total["context"]
    assert ctx["stages"] == ["translate", "render", "edge"] and ctx["critical_stage"] == "render"
    assert ctx["stage_share"]["render"] > 0.6 and ctx["stage_share"]["translate"] < 0.2
    assert abs(sum(ctx["stage_share"].values()) - 1) < 0.05
    assert render["context"]["skipped_rounds"] == [] and render["context"]["position"] == 1


def _fake(times, fail=None):
    """A runner: stage N of round R takes times[N] + R/1000 s; ``fail`` = {(round, stage)} fails."""
    calls = []

    def run(argv, cwd=None, env=None, timeout=None):
        name = argv[-1]
        round_index = sum(1 for c in calls if c == name)
        calls.append(name)
        seconds = times[name] + round_index / 1000.0
        if fail and (round_index, name) in fail:
            return {"ok": False, "seconds": seconds, "rc": 7, "error": "exit status 7 (expected 0)", "stderr": "boom"}
        return {"ok": True, "seconds": seconds, "rc": 0, "error": "", "stderr": ""}
    return run, calls


def test_total_is_exactly_the_sum_of_the_stages_and_share_is_per_round():
    # Bug caught: a total that is not the sum of the round's stages (a stage left out, counted twice).
    stages = parse_stages([{"name": n, "command": ["true", n]} for n in ("a", "b", "c")])
    run, calls = _fake({"a": 0.1, "b": 0.6, "c": 0.3})
    records = bench_pipeline("p", stages, runs=2, warmup=0, run=run)
    assert records[0]["samples"] == [1.0, 1.003]
    assert records[2]["samples"] == [0.6, 0.601]
    assert records[0]["context"]["stage_share"] == {"a": round((0.1 / 1.0 + 0.101 / 1.003) / 2, 4),
                                                    "b": round((0.6 + 0.601 / 1.003) / 2, 4),
                                                    "c": round((0.3 + 0.301 / 1.003) / 2, 4)}
    assert records[0]["context"]["critical_stage"] == "b"


def test_failed_stage_fails_the_round_and_later_stages_are_skipped_not_run(tmp_path):
    # Bug caught: a failure not counted, later stages still run after a failed one, or a skipped
    # stage silently missing from the records.
    counter = tmp_path / "count"
    stages, trail = _stages(tmp_path, [
        ("a", "true"),
        ("b", "n=$(cat %s 2>/dev/null || echo 0); echo $((n+1)) > %s; [ $n -ne 1 ]" % (counter, counter)),
        ("c", "true")])
    records = bench_pipeline("p", stages, runs=3, warmup=0)
    total, a, b, c = records
    assert trail.read_text().split() == ["a", "b", "c", "a", "b", "a", "b", "c"]  # c not run in round 1
    assert total["failures"] == 1 and len(total["samples"]) == 2
    assert b["failures"] == 1 and len(b["samples"]) == 2 and b["errors"][0]["run"] == 1
    assert c["failures"] == 0 and len(c["samples"]) == 2 and c["context"]["skipped_rounds"] == [1]
    assert a["failures"] == 0 and len(a["samples"]) == 3 and a["context"]["skipped_rounds"] == []
    err = total["errors"][0]
    assert err["stage"] == "b" and err["skipped"] == ["c"] and err["run"] == 1 and err["phase"] == "run"
    assert "stage b failed: exit status 1" in err["error"]
    assert total["context"]["complete_rounds"] == 2
    assert all(validate_record(r) == [] for r in records)


def test_failed_warmup_is_kept_but_not_counted():
    # Bug caught: a failed warm-up round dropped silently, or counted as a failed counted round.
    stages = parse_stages([{"name": n, "command": ["true", n]} for n in ("a", "b")])
    run, _calls = _fake({"a": 0.1, "b": 0.2}, fail={(0, "a")})
    total, a, b = bench_pipeline("p", stages, runs=2, warmup=1, run=run)
    assert total["failures"] == 0 and len(total["samples"]) == 2
    assert [e["phase"] for e in total["errors"]] == ["warmup"] and total["errors"][0]["skipped"] == ["b"]
    assert a["errors"][0]["phase"] == "warmup" and a["failures"] == 0 and a["errors"][0]["rc"] == 7


def test_failed_prepare_fails_the_round_and_skips_every_stage(tmp_path):
    # Bug caught: stages run after a failed prepare, or that round not counted as failed.
    flag = tmp_path / "flag"
    stages, trail = _stages(tmp_path, [("a", "true"), ("b", "true")])
    prepare = "if [ -e %s ]; then exit 0; fi; touch %s; exit 4" % (flag, flag)
    total, a, b = bench_pipeline("p", stages, runs=2, warmup=0, prepare=prepare)
    assert total["failures"] == 1 and len(total["samples"]) == 1
    assert "prepare failed" in total["errors"][0]["error"]
    assert a["context"]["skipped_rounds"] == [0] and b["context"]["skipped_rounds"] == [0]
    assert trail.read_text().split() == ["a", "b"]


def test_stage_timeout_is_a_failure_named_by_stage():
    # Bug caught: a hanging stage blocking the pipeline or its timeout not counted.
    stages = parse_stages([{"name": "hang", "command": ["sleep", "5"], "timeout": 0.2}])
    total, hang = bench_pipeline("p", stages, runs=1, warmup=0)
    assert total["failures"] == 1 and hang["failures"] == 1
    assert "stage hang failed: timed out" in total["errors"][0]["error"]


@pytest.mark.parametrize("stages,needle", [
    ([], "stages must be a non-empty list"),
    ("x", "stages must be a non-empty list"),
    (["x"], "stages[0] must be a mapping"),
    ([{"command": ["true"]}], "stages[0].name must be 1 to 63"),
    ([{"name": "a b", "command": ["true"]}], "stages[0].name must be 1 to 63"),
    ([{"name": "a", "command": ["true"]}, {"name": "a", "command": ["true"]}], "stages[1].name a is used"),
    ([{"name": "a"}], "stages[0] (a).command must be a list of arguments or a string"),
    ([{"name": "a", "command": []}], "stages[0] (a).command: argv must not be empty"),
    ([{"name": "a", "command": ["x"], "shell": True}], "shell=true needs command as a string"),
    ([{"name": "a", "command": [["x"]]}], "stages[0] (a).command must be a list of strings"),
    ([{"name": "a", "command": "echo 'open"}], "cannot be split"),
    ([{"name": "a", "command": "true", "cwd": "/nonexistent/d"}], "stages[0] (a).cwd /nonexistent/d is not a directory"),
    ([{"name": "a", "command": "true", "timeout": 0}], "stages[0] (a).timeout must be a positive"),
    ([{"name": "a", "command": "true", "timeout": True}], "stages[0] (a).timeout must be a positive"),
    ([{"name": "a", "command": "true", "environment": ["X"]}], "stages[0] (a).environment must be a mapping"),
    ([{"name": "a", "command": "true", "environment": {"X": [1]}}], "stages[0] (a).environment.X must be"),
    ([{"name": "a", "command": "true", "colour": 1}], "stages[0] has unknown keys colour"),
    ([{"name": "a", "command": ["true"]}] * 33, "at most 32"),
])
def test_bad_stages_are_refused_naming_the_field(stages, needle):
    # Bug caught: bad input reaching the runner (a traceback) or a message that names no field.
    with pytest.raises(PipelineError) as exc:
        parse_stages(stages)
    assert needle in str(exc.value)


JWT_KEY = "eyJhbGciOiJIUzI1NiJ9" + ".eyJzdWIiOiIxIn0" + ".c2lnbmF0dXJlMTIzNDU2"


def test_unknown_secret_looking_key_is_not_echoed():
    # Bug caught: a message quoting a key that may be a secret pasted in the wrong place.
    with pytest.raises(PipelineError) as exc:
        parse_stages([{"name": "a", "command": "true", "api_token": "x", JWT_KEY: 1}])
    assert "api_token" not in str(exc.value) and "eyJ" not in str(exc.value)
    assert "(a key not shown)" in str(exc.value)


def test_bad_pipeline_name_is_refused():
    with pytest.raises(PipelineError, match="name must be 1 to 63"):
        bench_pipeline("a/b", parse_stages([{"name": "a", "command": ["true"]}]), runs=1)


def test_plan_lists_what_would_run():
    stages = parse_stages([{"name": "a", "command": "git status", "timeout": 3}], timeout=9)
    assert _pipeline.plan(stages, "echo hi") == {"stages": [{"name": "a", "command": "git status",
                                                             "argv": ["git", "status"], "cwd": None,
                                                             "shell": False, "timeout": 3.0}], "prepare": "echo hi"}
