"""Loading score tables: good tables, missing-score policies, and every bad input."""

import os

import numpy as np
import pytest

import csd


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


GOOD = "model,a,b,c\nm1,1,2,3\nm2,4,,6\nm3,7,8,\n"


def test_loads_names_scores_and_missing_cells(tmp_path):
    table = csd.load_table(write(tmp_path, GOOD))
    assert table.models == ("m1", "m2", "m3")
    assert table.benchmarks == ("a", "b", "c")
    assert table.scores[0].tolist() == [1.0, 2.0, 3.0]
    assert np.isnan(table.scores[1, 1]) and np.isnan(table.scores[2, 2])
    assert table.n_missing == 2
    assert "2 missing cell(s), policy 'loss'" in table.missing_report()


def test_with_models_keeps_the_rows_asked_for_and_their_win_probabilities(tmp_path):
    table = csd.load_table(write(tmp_path, GOOD))
    part = table.with_models([2, 0])
    assert part.models == ("m3", "m1") and part.n_missing == 1
    np.testing.assert_array_equal(part.scores, table.scores[[2, 0]])
    full = csd.win_probabilities(table)
    np.testing.assert_array_equal(csd.win_probabilities(part), full[np.ix_([2, 0], [2, 0])])


def test_drop_model_policy_removes_rows_with_missing_scores(tmp_path):
    table = csd.load_table(write(tmp_path, GOOD + "m4,1,1,1\n"), missing="drop-model")
    assert table.models == ("m1", "m4")
    assert table.dropped == ("m2", "m3")
    assert "dropped 2: m2, m3" in table.missing_report()


def test_drop_benchmark_policy_removes_columns_with_missing_scores(tmp_path):
    table = csd.load_table(write(tmp_path, GOOD), missing="drop-benchmark")
    assert table.benchmarks == ("a",)
    assert table.scores[:, 0].tolist() == [1.0, 4.0, 7.0]


def test_error_policy_names_file_line_and_column(tmp_path):
    path = write(tmp_path, GOOD)
    with pytest.raises(csd.InputError, match=r"table\.csv, line 3 \(model 'm2'\), column 'b': missing score"):
        csd.load_table(path, missing="error")


def test_drop_model_that_leaves_one_model_is_an_error(tmp_path):
    with pytest.raises(csd.InputError, match="at least 2 models"):
        csd.load_table(write(tmp_path, GOOD), missing="drop-model")


@pytest.mark.parametrize(
    "text, message",
    [
        ("", r"table\.csv: the file is empty"),
        ("model,a\n", "header but no model rows"),
        ("model\nm1\nm2\n", "line 1: the header needs a model column and at least one benchmark"),
        ("model,a,b\nm1,1,2\nm2,3,x\n", r"line 3 \(model 'm2'\), column 'b': 'x' is not a number"),
        ("model,a,b\nm1,1,2\nm2,3,inf\n", r"line 3 \(model 'm2'\), column 'b': 'inf' is not a finite number"),
        ("model,a,b\nm1,1,2\nm1,3,4\n", r"line 3: duplicate model name 'm1' \(first on line 2\)"),
        ("model,a,a\nm1,1,2\nm2,3,4\n", r"line 1: duplicate benchmark name 'a' \(positions 1 and 2\)"),
        ("model,a,b\nm1,1,2\nm2,3\n", "line 3: expected 3 fields, found 2"),
        ("model,a,b\nm1,1,2\n,3,4\n", "line 3, column 1: empty model name"),
        ("model,a,\nm1,1,2\nm2,3,4\n", "line 1, column 3: empty benchmark name"),
        ("model,a\nm1,1\n", "at least 2 models"),
    ],
)
def test_bad_tables_raise_input_error_naming_the_place(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(csd.InputError, match=message) as error:
        csd.load_table(path)
    assert str(path) in str(error.value)


def test_unreadable_file_names_the_file(tmp_path):
    missing = str(tmp_path / "nope.csv")
    with pytest.raises(csd.InputError, match="nope.csv: cannot read the table"):
        csd.load_table(missing)


def test_binary_file_is_reported_not_a_traceback(tmp_path):
    path = tmp_path / "binary.csv"
    path.write_bytes(b"\xff\xfe\x00\x00garbage")
    with pytest.raises(csd.InputError, match="binary.csv"):
        csd.load_table(str(path))


def test_unknown_missing_policy_names_the_choices(tmp_path):
    with pytest.raises(csd.InputError, match="missing='drop' is not allowed; choose one of: loss, drop-model"):
        csd.load_table(write(tmp_path, GOOD), missing="drop")


def test_with_benchmarks_reorders_and_suffixes_repeats(tmp_path):
    table = csd.load_table(write(tmp_path, GOOD)).with_benchmarks(["c", "a", "a"])
    assert table.benchmarks == ("c", "a", "a#2")
    assert table.scores[0].tolist() == [3.0, 1.0, 1.0]
    with pytest.raises(csd.InputError, match=r"unknown benchmark\(s\) \['z'\]"):
        table.with_benchmarks(["z"])


def test_mean_scores_ignore_missing_cells(tmp_path):
    table = csd.load_table(write(tmp_path, GOOD))
    assert table.mean_scores().tolist() == [2.0, 5.0, 7.5]


@pytest.mark.parametrize("name, shape", [("livebench", (65, 21)), ("epoch_hub_small", (28, 19)), ("openllm_v2", (4576, 6))])
def test_shipped_tables_load(name, shape):
    table = csd.load_table(csd.shipped_table(name))
    assert table.shape == shape
    assert os.path.dirname(csd.shipped_table(name)).endswith(os.path.join("csd", "data"))


def test_shipped_epoch_table_reports_its_missing_cells():
    table = csd.load_table(csd.shipped_table("epoch_hub_small"))
    assert table.n_missing == 220


def test_score_table_checks_its_arrays():
    with pytest.raises(csd.InputError, match="shape"):
        csd.ScoreTable(("a", "b"), ("x",), np.zeros((2, 2)))
    with pytest.raises(csd.InputError, match="duplicate model name 'a'"):
        csd.ScoreTable(("a", "a"), ("x",), np.zeros((2, 1)))
    with pytest.raises(csd.InputError, match="infinite"):
        csd.ScoreTable(("a", "b"), ("x",), np.array([[1.0], [np.inf]]))
