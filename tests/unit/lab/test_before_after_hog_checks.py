"""The checks of the lab proof tests/integration/before_after_hog.py, on made-up after reports: each
must name the problem it exists for, so that a report breaking a rule of issue 16 item 5 fails the proof."""
from tests.integration import before_after_hog as hog


def entry(name, verdict, design="sequential", role="sequential", component="kpt", comparable=True, **kw):
    return dict(name=name, host="localhost", component=component, design=design, role=role, comparable=comparable,
                verdict=verdict, **kw)


def report(entries, steady=False, records=()):
    return {"report": {"comparisons": list(entries),
                       "comparisons_summary": {"drift": {"steady": steady, "reason": "made up"}}},
            "records": [{"host": "localhost", "play": play, "record": {"name": name, "context": ctx}}
                        for play, name, ctx in records]}


def records(names, play, ctx=None):
    return [(play, n, dict(ctx or {})) for n in names]


def test_untouched_or_control_called_faster_is_a_problem():
    # Bug caught: a report calling git (untouched) faster, or a control slower, passing the proof.
    after = report([entry("git/status", "faster", role="control", component="git"),
                    entry("control/cpu@start", "slower", role="control", component="control"),
                    entry("host/load", "faster", role="host_state", component="host"),
                    entry("kpt_render/total", "faster")],
                   records=records(["git/status", "control/cpu@start", "host/load", "kpt_render/total"], "p (after)"))
    before = report([], records=records(["git/status", "control/cpu@start", "host/load", "kpt_render/total"],
                                        "p (before)"))
    problems = hog.check_run("quiet", after, before)
    assert len([p for p in problems if p.startswith("(a)")]) == 3
    assert not any("kpt_render/total" in p for p in problems)


def test_unheld_sequential_verdict_under_the_hog_is_a_problem():
    # Bug caught: a sequential verdict left standing (or a steady drift) while a control moved.
    after = report([entry("kpt_render/a", "no clear change"),
                    entry("kpt_render/b", "environment changed", verdict_unheld="slower"),
                    entry("kpt_render/c", "not enough samples", reason="3 samples"),
                    entry("kpt_render/d", "not comparable", comparable=False)], steady=None)
    problems, unheld = hog.check_hog(after)
    assert [p for p in problems if "kpt_render/a" in p] and len(problems) == 2  # the unheld one and the drift
    assert any("steady None" in p for p in problems)
    assert unheld == ["kpt_render/c on localhost: 3 samples"]


def test_per_package_entry_of_different_concurrency_is_a_problem():
    # Bug caught: a per-package comparison of a render under 1 worker with one under 4 passing the proof.
    after = report([entry("kpt_render/pkg", "faster"), entry("kpt_render/total", "faster"),
                    entry("interleaved/kpt_render/pkg", "faster", design="interleaved", role="paired",
                          records=["kpt_render/pkg (before)", "kpt_render/pkg (after)"])],
                   records=[("p (after)", "kpt_render/pkg", {"concurrency": 4}),
                            ("p (after)", "kpt_render/total", {"concurrency": 4}),
                            ("i (after)", "kpt_render/pkg (before)", {"concurrency": 1}),
                            ("i (after)", "kpt_render/pkg (after)", {"concurrency": 4})])
    before = report([], records=[("p (before)", "kpt_render/pkg", {"concurrency": 1}),
                                 ("p (before)", "kpt_render/total", {"concurrency": 1})])
    problems = hog.check_run("hog", after, before)
    assert sorted(p.split(":")[1].split(" on ")[0].strip() for p in problems) == [
        "interleaved/kpt_render/pkg", "kpt_render/pkg"]


def test_interleaved_totals_that_disagree_are_a_problem():
    # Bugs caught: the hog turning an interleaved verdict; the levers' effect seen in neither run (a check that
    # "no clear change" twice would pass); a total missing from one run.
    def total(verdict, ratio, ci):
        return entry("interleaved/kpt_render/total", verdict, design="interleaved", role="paired", ratio=ratio, ci=ci)
    quiet = report([total("faster", 0.50, [0.45, 0.55])])
    assert hog.check_totals(quiet, report([total("faster", 0.52, [0.47, 0.56])])) == []
    # two fresh-clone runs whose intervals did not overlap, with the same verdict: the ratio's size moves with the
    # machine's load (the two sides do not use the CPU in the same share), so only the verdicts are compared
    assert hog.check_totals(report([total("faster", 0.401, [0.341, 0.428])]),
                            report([total("faster", 0.327, [0.314, 0.347])])) == []
    assert hog.check_totals(report([total("faster", 0.503, [0.493, 0.526])]),
                            report([total("faster", 0.588, [0.582, 0.621])])) == []
    turned = hog.check_totals(quiet, report([total("no clear change", 0.53, [0.40, 0.70])]))
    assert len(turned) == 1 and "no clear change under the hog" in turned[0]
    reversed_ = hog.check_totals(quiet, report([total("slower", 1.4, [1.2, 1.6])]))
    assert len(reversed_) == 1 and "faster quiet" in reversed_[0] and "slower under the hog" in reversed_[0]
    neither = hog.check_totals(report([total("no clear change", 0.97, [0.9, 1.05])]),
                               report([total("no clear change", 0.98, [0.9, 1.06])]))
    assert len(neither) == 1 and "seen in neither" in neither[0]
    one_side = hog.check_totals(quiet, report([]))
    assert len(one_side) == 1 and one_side[0].startswith("(c) interleaved/kpt_render/total on ") and \
        one_side[0].endswith(" is in the quiet run only")
    assert hog.check_totals(report([]), report([])) == ["(c) no interleaved .../total entry in either run"]


def test_pass_one_ends_when_the_first_play_after_it_starts():
    # Bug caught: the hog ended while pass 1 still runs (or never), so it loads the wrong pass.
    plays = [("Check (before)", "2026-01-01T00:00:00Z"), ("Report the run (before)", "2026-01-01T00:00:40Z")]
    assert hog.pass1_end(plays) is None
    assert hog.pass1_end(plays + [("Tune the controller's SSH client", "2026-01-01T00:00:45Z")]) == (
        "2026-01-01T00:00:00Z", "2026-01-01T00:00:45Z")
