"""Bringing your own data: delimiters, cell rules, long tables, DataFrames and arrays,
lm-evaluation-harness folders, lower-is-better columns and per-cell standard errors."""

import dataclasses
import json
import os
import shutil

import numpy as np
import pytest

import csd
from csd._src import bootstrap as boot
from csd._src.config import DataConfig, RunConfig, prepare_table

LM_EVAL = os.path.join(os.path.dirname(__file__), "data", "lm_eval")


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


# ----------------------------------------------------------------------------- delimiters


@pytest.mark.parametrize(
    "text, dialect",
    [
        ("model,a,b\nm1,1,2\nm2,3,4\n", "comma"),
        ("model\ta\tb\nm1\t1\t2\nm2\t3\t4\n", "tab"),
        ("model;a;b\nm1;1;2\nm2;3;4\n", "semicolon"),
        ('"model;x",a,b\nm1,1,2\nm2,3,4\n', "comma"),  # a delimiter inside quotes does not count
    ],
)
def test_the_delimiter_is_sniffed_and_reported(tmp_path, text, dialect):
    table = csd.load_table(write(tmp_path, text))
    assert table.benchmarks == ("a", "b")
    assert table.scores.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert f"delimiter: {dialect}" in table.notes


def test_a_header_with_as_many_of_two_delimiters_is_refused(tmp_path):
    with pytest.raises(csd.InputError, match="line 1: cannot tell the delimiter: the header has as many commas as semicolons"):
        csd.load_table(write(tmp_path, "model,a;b\nm1,1;2\nm2,3;4\n"))


# ----------------------------------------------------------------------------- cells


def test_percent_missing_markers_and_thousands_in_a_tab_file(tmp_path):
    text = "model\tacc\tcount\nm1\t85.3%\t1,234\nm2\t80.1%\tN/A\nm3\t\u2014\t2,000.5\nm4\tn/a\t-\nm5\tNA\t7\n"
    table = csd.load_table(write(tmp_path, text, "t.tsv"))
    np.testing.assert_array_equal(
        table.scores, [[85.3, 1234.0], [80.1, np.nan], [np.nan, 2000.5], [np.nan, np.nan], [np.nan, 7.0]]
    )
    assert table.n_missing == 5
    assert "percent signs dropped (values kept on the 0-100 scale) in: acc" in table.notes
    assert "thousands separators read in 2 cell(s)" in table.notes
    assert "read as missing: '\u2014' x1, 'n/a' x1, 'NA' x1, 'N/A' x1, '-' x1"  # column by column in table.notes


@pytest.mark.parametrize(
    "text, message",
    [
        ("model,a\nm1,85%\nm2,80\n", r"line 3 \(model 'm2'\), column 'a': '80' is a plain number but '85%' \(line 2\) is a percent"),
        ("model,a\nm1,80\nm2,85%\n", r"line 3 \(model 'm2'\), column 'a': '85%' is a percent but '80' \(line 2\) is a plain number"),
        ('model,a\nm1,"1,5"\nm2,2\n', r"line 2 \(model 'm1'\), column 'a': '1,5' is not a number: decimal commas are not read; write 1.5 "),
        ("model;a\nm1;85,3\nm2;2\n", r"line 2 \(model 'm1'\), column 'a': '85,3' is not a number: decimal commas are not read; write 85.3"),
        ("model;a\nm1;0,123\nm2;2\n", r"'0,123' is not a number: decimal commas are not read"),
        ("model,a\nm1,1_000\nm2,2\n", r"line 2 \(model 'm1'\), column 'a': '1_000' is not a number: write it without '_'"),
        ("model,a\nm1,\u0661\u0662\nm2,2\n", r"line 2 \(model 'm1'\), column 'a': '\u0661\u0662' has digits other than 0-9"),
        ("model,a\nm1,nan\nm2,2\n", r"'nan' is not a finite number"),
        ("model,a,b\nm1,1,2\nm2,\"3,4\nm3,5,6\n", r"line 3: unterminated quote"),
        ('model,a\n"m1\n2",1\nm2,2\n', r"line 2: the quote opened here closes on line 3"),
        ("model,a\nm1,1e308\nm2,2\n", r"model 'm1', benchmark 'a': score 1e\+308 is beyond \+-1e\+300"),
    ],
)
def test_bad_cells_are_refused_naming_the_cell_and_the_fix(tmp_path, text, message):
    path = write(tmp_path, text)
    with pytest.raises(csd.InputError, match=message) as error:
        csd.load_table(path)
    assert str(error.value).startswith(path) and "\n" not in str(error.value)


def test_an_unterminated_quote_on_line_2_is_reported_as_a_quote_not_a_field_count(tmp_path):
    with pytest.raises(csd.InputError) as error:
        csd.load_table(write(tmp_path, 'model,a,b\n"m1,1,2\nm2,3,4\n'))
    assert "line 2: unterminated quote" in str(error.value) and "fields" not in str(error.value)


# ----------------------------------------------------------------------------- long format


LONG = "Model,Benchmark,Score,StdErr\nx,a,1,0.1\ny,a,2,0.2\nx,b,3,\ny,b,4,0.4\nz,a,0,0.3\n"


def test_a_long_table_is_detected_from_its_header_with_stderr(tmp_path):
    table = csd.load_table(write(tmp_path, LONG))
    assert table.models == ("x", "y", "z") and table.benchmarks == ("a", "b")
    np.testing.assert_array_equal(table.scores, [[1, 3], [2, 4], [0, np.nan]])
    np.testing.assert_array_equal(table.stderr, [[0.1, np.nan], [0.2, 0.4], [0.3, np.nan]])
    assert table.n_missing == 1
    assert "format: long (model, benchmark, score, stderr)" in table.notes
    assert "1 (model, benchmark) pair(s) have no row: missing" in table.notes


def test_a_long_table_keeps_its_stderr_through_the_missing_policy_and_reordering(tmp_path):
    table = csd.load_table(write(tmp_path, LONG), missing="drop-model")
    assert table.models == ("x", "y")
    np.testing.assert_array_equal(table.with_benchmarks(["b", "a"]).stderr, [[np.nan, 0.1], [0.4, 0.2]])


def test_format_long_without_the_long_columns_is_refused(tmp_path):
    with pytest.raises(csd.InputError, match="format='long' needs the columns model, benchmark, score"):
        csd.load_table(write(tmp_path, "model,a,b\nm1,1,2\nm2,3,4\n"), format="long")


def test_format_wide_reads_a_long_looking_header_as_benchmarks(tmp_path):
    table = csd.load_table(write(tmp_path, "model,benchmark,score\nm1,1,2\nm2,3,4\n"), format="wide")
    assert table.benchmarks == ("benchmark", "score")


@pytest.mark.parametrize(
    "text, message",
    [
        ("model,benchmark,score\nx,a,1\ny,a,2\nx,a,3\n", r"lines 2 and 4: two rows for model 'x', benchmark 'a'; keep one"),
        ("model,benchmark,score,stderr\nx,a,1,-1\ny,a,2,0\n", r"line 2 \(model 'x', benchmark 'a'\), stderr: '-1' is not a standard error"),
        ("model,benchmark,score\nx,,1\ny,a,2\n", r"line 2, column 2: empty benchmark name"),
    ],
)
def test_bad_long_tables_are_refused_naming_the_rows(tmp_path, text, message):
    with pytest.raises(csd.InputError, match=message):
        csd.load_table(write(tmp_path, text))


# ----------------------------------------------------------------------------- pandas and NumPy


def test_a_wide_dataframe_loads_with_its_index_as_models():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0], "y": ["85%", "80%", None]}, index=["a", "b", "c"])
    for table in (csd.load_table(frame), csd.ScoreTable.from_dataframe(frame)):
        assert table.models == ("a", "b", "c") and table.benchmarks == ("x", "y")
        np.testing.assert_array_equal(table.scores, [[1, 85], [np.nan, 80], [3, np.nan]])
        assert table.n_missing == 2 and table.source == "<DataFrame>"


def test_a_dataframe_with_a_model_column_and_a_long_dataframe():
    pd = pytest.importorskip("pandas")
    wide = csd.ScoreTable.from_dataframe(pd.DataFrame({"Model": ["a", "b"], "x": [1, 2], "y": [3, 4]}))
    assert wide.models == ("a", "b") and wide.benchmarks == ("x", "y")
    long = pd.DataFrame({"model": list("abab"), "benchmark": list("xxyy"), "score": [1, 2, 3, 4], "stderr": [0.1, 0.2, np.nan, 0.4]})
    table = csd.load_table(long)
    np.testing.assert_array_equal(table.scores, [[1, 3], [2, 4]])
    np.testing.assert_array_equal(table.stderr, [[0.1, np.nan], [0.2, 0.4]])
    with pytest.raises(csd.InputError, match="rows 0 and 2: two rows for model 'a', benchmark 'x'"):
        csd.load_table(long.assign(benchmark=list("xxxy")))


def test_a_dataframe_cell_that_is_not_a_score_is_named():
    pd = pytest.importorskip("pandas")
    with pytest.raises(csd.InputError, match=r"row 'b', column 'x': 'oops' is not a number"):
        csd.load_table(pd.DataFrame({"x": [1.0, "oops"]}, index=["a", "b"]))


def test_a_numpy_array_with_names():
    table = csd.load_table(np.array([[1, 2], [3, np.nan]]), models=["a", "b"], benchmarks=["x", "y"])
    assert table.models == ("a", "b") and table.n_missing == 1 and table.source == "<array>"
    with pytest.raises(csd.InputError, match="give the names too: models="):
        csd.load_table(np.ones((2, 2)))
    with pytest.raises(csd.InputError, match=r"shape \(2, 2\) but models= has 1"):
        csd.load_table(np.ones((2, 2)), models=["a"], benchmarks=["x", "y"])
    with pytest.raises(csd.InputError, match="2-D array of real numbers"):
        csd.load_table(np.ones((2, 2), dtype=complex), models=["a", "b"], benchmarks=["x", "y"])


@pytest.mark.parametrize("value", [None, 3, [[1.0, 2.0]], {"a": 1}])
def test_anything_else_is_refused_naming_the_argument_and_what_is_allowed(value):
    with pytest.raises(csd.InputError, match=r"load_table: path=.* is not a table; give a CSV/TSV or .xlsx file, .* a pandas DataFrame"):
        csd.load_table(value)


def test_from_dataframe_needs_a_dataframe():
    with pytest.raises(csd.InputError, match="from_dataframe: frame is a str"):
        csd.ScoreTable.from_dataframe("table.csv")


# ----------------------------------------------------------------------------- lm-eval


def test_the_lm_eval_fixture_reads_every_model_and_task():
    table = csd.load_table(LM_EVAL, format="lm-eval")
    assert table.models == ("EleutherAI/pythia-160m", "EleutherAI/pythia-410m", "gpt2")
    assert table.benchmarks == ("arc_easy", "hellaswag", "lambada_openai")
    # pythia-160m: arc_easy from the newer file, the others from the older one; perplexity
    # negated, as the files' higher_is_better says it is lower-is-better.
    np.testing.assert_array_equal(table.scores, [[0.4381, 0.2832, -38.25], [0.5173, 0.3366, -10.64], [0.4381, 0.2892, np.nan]])
    np.testing.assert_array_equal(table.stderr, [[0.0102, 0.0045, 1.4312], [0.0103, 0.0047, 0.3215], [0.0102, np.nan, np.nan]])
    assert table.n_missing == 1
    assert "metrics: arc_easy 'acc,none', hellaswag 'acc,none', lambada_openai 'perplexity,none'" in table.notes
    assert table.flipped == ("lambada_openai",)
    assert "lower is better by the files' higher_is_better: lambada_openai 'perplexity,none'" in table.notes
    assert "lower is better, negated so that higher is better: lambada_openai" in table.notes
    assert (
        "model 'EleutherAI/pythia-160m': 2 results files merged, newest "
        "results_2024-06-01T09-30-00.000000.json; the newer win for arc_easy"
    ) in table.notes


def test_a_folder_is_read_as_lm_eval_by_default_and_metric_selects_per_task():
    table = csd.load_table(LM_EVAL, metric={"lambada_openai": "acc", "hellaswag": "acc_norm,none"})
    assert table.scores[:, 1].tolist() == [0.2913, 0.4042, 0.3114]
    np.testing.assert_array_equal(table.scores[:, 2], [0.3279, 0.5162, np.nan])
    assert csd.load_table(LM_EVAL, metric={"arc_easy": "acc_norm"}).scores[0, 0] == 0.4024
    np.testing.assert_array_equal(csd.load_table(LM_EVAL, metric="acc").scores[:, 2], [0.3279, 0.5162, np.nan])


def test_lm_eval_perplexity_flipped_with_lower_is_better():
    table = csd.load_table(LM_EVAL, format="lm-eval", lower_is_better=["lambada_openai"])
    np.testing.assert_array_equal(table.scores[:, 2], [-38.25, -10.64, np.nan])
    assert table.flipped == ("lambada_openai",)
    assert table.mean_scores()[1] > table.mean_scores()[0]  # the lower perplexity ranks higher


def test_lm_eval_merge_falls_back_to_the_date_field(tmp_path):
    folder = tmp_path / "runs"
    for name, date, acc in (("a.json", 2.0e9, 0.7), ("b.json", 1.0e9, 0.1)):  # a is newer
        data = {"results": {"t": {"alias": "t", "acc,none": acc}}, "model_name": "m", "date": date}
        (folder / "m").mkdir(parents=True, exist_ok=True)
        (folder / "m" / f"results_{name}").write_text(json.dumps(data))
    other = {"results": {"t": {"alias": "t", "acc,none": 0.5}}, "config": {"model_args": {"pretrained": "n"}}}
    (folder / "results_n.json").write_text(json.dumps(other))
    table = csd.load_table(str(folder), format="lm-eval")
    assert table.models == ("m", "n") and table.scores[:, 0].tolist() == [0.7, 0.5]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.pop("results"), "not an lm-evaluation-harness results file"),
        (lambda d: (d.update(model_name=""), d["config"].update(model_args="dtype=float16")), "no model name: set 'model_name'"),
        (lambda d: d["results"]["arc_easy"].update({"acc,none": "high"}), r"task 'arc_easy', 'acc,none': 'high' is not a finite number"),
    ],
)
def test_bad_lm_eval_files_are_refused_naming_the_file(tmp_path, change, message):
    folder = tmp_path / "lm"
    shutil.copytree(LM_EVAL, folder)
    path = folder / "gpt2" / "results_2024-05-03T08-00-00.000000.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(csd.InputError, match=message) as error:
        csd.load_table(str(folder), format="lm-eval")
    assert "results_2024-05-03T08-00-00.000000.json" in str(error.value)


def test_lm_eval_option_errors(tmp_path):
    with pytest.raises(csd.InputError, match="no results_\\*.json file found"):
        csd.load_table(str(tmp_path), format="lm-eval")
    with pytest.raises(csd.InputError, match="task 'arc_easy' has no metric 'bleu'"):
        csd.load_table(LM_EVAL, metric="bleu")
    with pytest.raises(csd.InputError, match="metric: no task 'mmlu'"):
        csd.load_table(LM_EVAL, metric={"mmlu": "acc"})
    with pytest.raises(csd.InputError, match="metric= selects an lm-evaluation-harness metric"):
        csd.load_table(write(tmp_path, "model,a\nm1,1\nm2,2\n"), metric="acc")


# ----------------------------------------------------------------------------- direction


def test_lower_is_better_negates_the_named_columns_and_records_them(tmp_path):
    table = csd.load_table(write(tmp_path, "model,acc,ppl\nm1,0.5,12\nm2,0.4,9\n"), lower_is_better=["ppl"])
    assert table.scores.tolist() == [[0.5, -12.0], [0.4, -9.0]]
    assert table.flipped == ("ppl",)
    assert "lower is better, negated so that higher is better: ppl" in table.notes


@pytest.mark.parametrize(
    "value, message",
    [(["nope"], r"lower_is_better: unknown benchmark\(s\) \['nope'\]; the table has \['acc', 'ppl'\]"),
     ("ppl", "lower_is_better='ppl' must be a list of benchmark names")],
)
def test_bad_lower_is_better_is_refused(tmp_path, value, message):
    with pytest.raises(csd.InputError, match=message):
        csd.load_table(write(tmp_path, "model,acc,ppl\nm1,0.5,12\nm2,0.4,9\n"), lower_is_better=value)


def test_the_data_config_passes_format_and_lower_is_better(tmp_path):
    path = write(tmp_path, "model;acc;ppl\nm1;0.5;12\nm2;0.4;9\n")
    config = RunConfig.from_dict({"data": {"path": path, "format": "wide", "lower_is_better": ["ppl"]}})
    assert config.data.lower_is_better == ["ppl"]
    assert prepare_table(config.data).table.scores[:, 1].tolist() == [-12.0, -9.0]
    assert RunConfig.from_dict({"data": {"path": path, "lower_is_better": []}}).data == DataConfig(path=path)
    with pytest.raises(csd.InputError, match="data.format: format='xlsx' is not allowed; choose one of: auto, wide, long, lm-eval"):
        prepare_table(RunConfig.from_dict({"data": {"path": path, "format": "xlsx"}}).data)


# ----------------------------------------------------------------------------- per-cell stderr


SCORES = np.array([[0.3, 0.3, 0.3], [0.2, 0.2, 0.2], [0.1, 0.1, 0.1], [0.0, 0.0, 0.0]])


def test_noise_stderr_is_the_tables_own_with_n_items_filling_unknown_cells():
    stderr = np.zeros((4, 3))
    stderr[2, 1] = np.nan
    table = csd.ScoreTable(tuple("abcd"), ("x", "y", "z"), SCORES, stderr=stderr)
    filled = boot._noise_stderr(table, None, 4)
    assert filled[2, 1] == pytest.approx(np.sqrt(0.1 * 0.9 / 4)) and (np.delete(filled.ravel(), 7) == 0).all()
    assert (boot._noise_stderr(table, 0.25, None) == 0.25).all()  # an explicit score_stderr wins
    with pytest.raises(csd.InputError, match="no stderr for 1 cell\\(s\\), first model 'c', benchmark 'y'; give n_items or score_stderr"):
        boot._noise_stderr(table, None, None)


@pytest.mark.slow
def test_noise_bootstrap_uses_the_tables_own_stderr_cell_by_cell():
    exact = csd.ScoreTable(tuple("abcd"), ("x", "y", "z"), SCORES, stderr=np.zeros((4, 3)))
    result = csd.bootstrap(exact, n_boot=8, n_runs=50, scheme="noise")
    assert result.replicate_scores.tolist() == [[2.0, 2.0, 1.0, 0.0]] * 8  # zero stderr: every replicate is the table
    # A large stderr in model d's cells only: its replicates move, exactly as with the same
    # (M, K) array given as score_stderr.
    stderr = np.zeros((4, 3))
    stderr[3] = 0.5
    own = csd.bootstrap(dataclasses.replace(exact, stderr=stderr), n_boot=8, n_runs=50, scheme="noise", seed=3)
    given = csd.bootstrap(exact, n_boot=8, n_runs=50, scheme="noise", seed=3, score_stderr=stderr)
    np.testing.assert_array_equal(own.replicate_scores, given.replicate_scores)
    assert np.ptp(own.replicate_scores[:, 3]) > 0


# ----------------------------------------------------------------------------- csd-run


@pytest.mark.slow
def test_csd_run_reads_an_lm_eval_folder_and_reports_the_flipped_column_and_notes(tmp_path):
    from test_cli import read_results, run_cli

    out = tmp_path / "run"
    proc = run_cli(
        f"data.path={LM_EVAL}", "data.format=lm-eval", "data.lower_is_better=[lambada_openai]",
        "n_runs=200", "progress=false", f"hydra.run.dir={out}", cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    table = read_results(out)["table"]
    assert table["lower_is_better"] == ["lambada_openai"]
    assert "lower is better, negated so that higher is better: lambada_openai" in table["notes"]
    assert "table notes: lm-eval: 4 results file(s), 3 model(s), 3 task(s)" in (out / "report.md").read_text()


def test_the_python_examples_of_docs_data_md_run(tmp_path, monkeypatch, capsys):
    pytest.importorskip("pandas")
    docs = open(os.path.join(os.path.dirname(__file__), "..", "docs", "data.md"), encoding="utf-8").read()
    examples = docs.split("```python\n")[1:]
    assert len(examples) == 4
    shutil.copytree(LM_EVAL, tmp_path / "lm_eval_out")
    write(tmp_path, "model\tmmlu\tperplexity\nllama\t66.6%\t6.1\nmistral\t62.5%\t5.9\n", "scores.tsv")
    export = docs.split("An export such as this one (`export.csv`) loads as it is:\n\n```text\n")[1].split("```")[0]
    write(tmp_path, export, "export.csv")
    monkeypatch.chdir(tmp_path)
    for example in examples:
        exec(compile(example.split("```")[0], "docs/data.md", "exec"), {})
    out = capsys.readouterr().out
    assert "('perplexity',)" in out and "lambada_openai" in out
    assert "('IFEval', 'BBH', 'MATH Lvl 5')" in out
