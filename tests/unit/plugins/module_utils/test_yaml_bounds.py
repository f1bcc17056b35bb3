"""Bounded YAML and JSON: refused before a recursive parser sees the text, and never quoted."""
import subprocess
import sys

import pytest

from ansible_collections.o2edge.perf.plugins.module_utils import _yaml_bounds as yb


def test_a_deep_flow_sequence_is_refused_before_libyaml_composes_it():
    # Composing this in libyaml segfaults the whole process.
    with pytest.raises(yb.YamlBoundsError, match="nests deeper than 32 levels"):
        yb.load_yaml("[" * 200000 + "]" * 200000)


def test_a_deep_block_mapping_is_refused():
    text = "".join("%sk:\n" % ("  " * i) for i in range(40)) + "  " * 40 + "v\n"
    with pytest.raises(yb.YamlBoundsError, match="nests deeper than 10 levels"):
        yb.load_yaml(text, max_depth=10)


def test_depth_at_the_bound_is_accepted_and_one_more_refused():
    assert yb.load_yaml("[" * 5 + "]" * 5, max_depth=5) == [[[[[]]]]]
    with pytest.raises(yb.YamlBoundsError):
        yb.load_yaml("[" * 6 + "]" * 6, max_depth=5)


def test_an_alias_counts_at_the_depth_it_expands_to():
    text = "a: &a [[[1]]]\nb: [[*a]]\n"
    assert yb.check_yaml(text, max_depth=6)
    with pytest.raises(yb.YamlBoundsError, match=r"alias \*a \(line 2\) nests deeper than 5"):
        yb.check_yaml(text, max_depth=5)


def test_an_alias_bomb_is_refused_by_expanded_values():
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 8):
        lines.append("a%d: &a%d [%s]" % (i, i, ", ".join(["*a%d" % (i - 1)] * 10)))
    with pytest.raises(yb.YamlBoundsError, match="more than 100000 values"):
        yb.load_yaml("\n".join(lines) + "\n")


def test_values_are_counted_with_aliases_expanded():
    assert yb.check_yaml("a: &a [1, 2]\nb: [*a, *a]\n") == 13


def test_alias_use_count_bound():
    with pytest.raises(yb.YamlBoundsError, match="more than 2 YAML aliases"):
        yb.check_yaml("a: &a 1\nb: [*a, *a, *a]\n", max_aliases=2)


def test_documents_are_bounded_and_counted():
    assert yb.load_yaml("a: 1\n---\nb: 2\n", all_documents=True, max_documents=2) == [{"a": 1}, {"b": 2}]
    with pytest.raises(yb.YamlBoundsError, match="more than 1 YAML document"):
        yb.load_yaml("a: 1\n---\nb: 2\n")


def test_a_repeated_key_is_refused_without_quoting_an_odd_key():
    with pytest.raises(yb.YamlBoundsError, match="repeats the key name"):
        yb.load_yaml("name: a\nname: b\n")
    with pytest.raises(yb.YamlBoundsError) as info:
        yb.load_yaml("'root:$6$hash:1': a\n'root:$6$hash:1': b\n")
    assert "hash" not in str(info.value)


def test_parse_errors_do_not_quote_the_source():
    with pytest.raises(yb.YamlBoundsError) as info:
        yb.load_yaml("token: s3cr3t-value\n  bad: [\n")
    assert "s3cr3t" not in str(info.value) and "line" in str(info.value)


def test_the_process_survives_a_deep_document_in_a_subprocess():
    code = ("from ansible_collections.o2edge.perf.plugins.module_utils import _yaml_bounds as yb\n"
            "import sys\n"
            "try:\n    yb.load_yaml('{a: ' * 200000 + '1' + '}' * 200000)\n"
            "except yb.YamlBoundsError as e:\n    print('refused')\n")
    import os
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert out.returncode == 0 and out.stdout.strip() == "refused"


def test_json_depth_is_checked_without_recursion():
    with pytest.raises(yb.YamlBoundsError, match="nests deeper than 32"):
        yb.load_json("[" * 100000 + "]" * 100000)
    assert yb.load_json('{"a": [[1]], "b": "[[[[[[[["}', max_depth=3) == {"a": [[1]], "b": "[[[[[[[["}
    with pytest.raises(yb.YamlBoundsError):
        yb.load_json('{"a": [[[1]]]}', max_depth=3)


def test_brackets_inside_strings_with_escaped_quotes_do_not_count():
    assert yb.load_json('["\\"[[[[[[", 1]', max_depth=1) == ['"[[[[[[', 1]


@pytest.mark.parametrize("text", ["[NaN]", "[Infinity]", "[-Infinity]", "[1e999]", '{"a": -1e400}'])
def test_json_non_finite_numbers_are_refused(text):
    with pytest.raises(yb.YamlBoundsError):
        yb.load_json(text)


def test_json_errors_name_line_and_column_only():
    with pytest.raises(yb.YamlBoundsError) as info:
        yb.load_json('{"password": "hunter2",\n oops}')
    assert "hunter2" not in str(info.value) and "line 2" in str(info.value)


def test_a_lone_surrogate_is_a_bounds_error_not_a_bare_unicode_error():
    with pytest.raises(yb.YamlBoundsError, match="lone surrogate at character 3"):
        yb.load_yaml("a: \ud800\n")


def test_a_repeated_token_shaped_key_is_not_quoted():
    with pytest.raises(yb.YamlBoundsError) as info:
        yb.load_yaml("ghp_abcdefghijklmnopqrstuvwxyz012345: a\nghp_abcdefghijklmnopqrstuvwxyz012345: b\n")
    assert "ghp_" not in str(info.value) and "a key of 36 characters" in str(info.value)


def test_shape_problem_names_the_path_outermost_first_at_exactly_the_depth():
    """Bugs: the path given innermost first, a container one level short of the bound refused (or one at it
    let through), list positions lost."""
    data = {"a": [{"b": {"c": 1}}]}
    assert yb.shape_problem(data, max_depth=4) is None
    assert yb.shape_problem(data, max_depth=3) == ("depth", ["a", 0, "b"])
    assert yb.shape_problem([[[]]], max_depth=2) == ("depth", [0, 0])


def test_shape_problem_counts_shared_values_each_time_and_refers_to_itself():
    """Bugs: an alias-shared list counted once (a billion laughs passes), a self-referring list loops forever."""
    shared = list(range(10))
    assert yb.shape_problem([shared] * 10, max_values=111) is None
    assert yb.shape_problem([shared] * 10, max_values=110) == ("values", None)
    loop = []
    loop.append(loop)
    assert yb.shape_problem(loop, max_depth=5) == ("depth", [0, 0, 0, 0, 0])
