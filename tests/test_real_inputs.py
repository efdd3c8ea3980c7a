"""Files as the tools write them: lm-evaluation-harness results with groups and directions,
a leaderboard export, an Excel workbook written by openpyxl; choosing columns for every
input kind; and the inputs refused before a byte is read."""

import json
import os
import shutil
import socket

import numpy as np
import pytest

import csd
from csd._src import readers
from csd._src.config import RunConfig, prepare_table, tiers_source

DATA = os.path.join(os.path.dirname(__file__), "data")
GROUPS = os.path.join(DATA, "lm_eval_groups")  # mmlu > humanities, stem > 4 subjects; wikitext
MODELS = ("EleutherAI/pythia-160m", "EleutherAI/pythia-70m", "gpt2")

# A leaderboard export as a spreadsheet writes it: an emoji type column, the model column
# second, an Average, text columns, a parameter count with quoted thousands, percent cells,
# and every line ending in two empty fields; an empty last row.
EXPORT = (
    "T,Model,Average ⬆️,Type,#Params (B),IFEval,BBH,MATH Lvl 5,Hub License,,\n"
    '🟢,org/alpha-7b,"1,204.5",pretrained,7.24,55.1%,30.2,12.0,apache-2.0,,\n'
    '🔶,org/beta-70b,40.0,fine-tuned,"1,013",60.3%,N/A,9.5,mit,,\n'
    "💬,org/gamma-13b,38.1,chat,13,45.0%,28.9,,llama2,,\n"
    ",,,,,,,,,,\n"
)


def write(tmp_path, text, name="table.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def harness_copy(tmp_path, change):
    """A copy of the groups fixture with `change(data)` applied to every results file."""
    folder = tmp_path / "lm"
    shutil.copytree(GROUPS, folder)
    for path in sorted(folder.rglob("results_*.json")):
        data = json.loads(path.read_text())
        change(data)
        path.write_text(json.dumps(data))
    return str(folder)


# ----------------------------------------------------------------------------- harness directions


def test_the_files_higher_is_better_flips_the_perplexity_and_the_groups_play_once():
    table = csd.load_table(GROUPS)
    assert table.models == MODELS and table.benchmarks == ("mmlu", "wikitext")
    # wikitext's word_perplexity (35.24, 20.51, 28.03) is lower-is-better in every file.
    np.testing.assert_array_equal(table.scores, [[0.2397, -35.24], [0.2326, -20.51], [0.2468, -28.03]])
    assert table.flipped == ("wikitext",)
    assert np.argmax(table.scores[:, 1]) == 1  # pythia-70m, the lowest perplexity, wins the round
    assert "lower is better by the files' higher_is_better: wikitext 'word_perplexity,none'" in table.notes
    assert "lower is better, negated so that higher is better: wikitext" in table.notes
    assert (
        "not played: subtasks of a group whose score is played (name them in benchmarks= to play): mmlu_humanities, "
        "mmlu_formal_logic, mmlu_philosophy, mmlu_stem, mmlu_college_physics, mmlu_virology"
    ) in table.notes


def test_tasks_chooses_subtasks_or_every_entry_and_benchmarks_any_entry_in_order(tmp_path):
    leaves = csd.load_table(GROUPS, tasks="subtasks")
    assert leaves.benchmarks == ("mmlu_formal_logic", "mmlu_philosophy", "mmlu_college_physics", "mmlu_virology", "wikitext")
    assert leaves.scores[:, 0].tolist() == [0.2698, 0.254, 0.2857]
    assert "not played: groups (their subtasks are played) (name them in benchmarks= to play): mmlu, mmlu_humanities, mmlu_stem" in leaves.notes
    assert len(csd.load_table(GROUPS, tasks="all").benchmarks) == 8
    chosen = csd.load_table(GROUPS, benchmarks=["mmlu_stem", "mmlu_humanities"], metric="acc")
    assert chosen.benchmarks == ("mmlu_stem", "mmlu_humanities") and chosen.flipped == ()
    assert chosen.scores[:, 0].tolist() == [0.2351, 0.2127, 0.2575]
    dropped = csd.load_table(GROUPS, tasks="subtasks", drop=["wikitext", "mmlu_virology"])
    assert dropped.benchmarks == ("mmlu_formal_logic", "mmlu_philosophy", "mmlu_college_physics")
    with pytest.raises(csd.InputError, match=r"benchmarks: unknown column\(s\) \['mmlu_law'\]; the table has \['mmlu', 'mmlu_humanities'"):
        csd.load_table(GROUPS, benchmarks=["mmlu_law"])
    with pytest.raises(csd.InputError, match="tasks= chooses an lm-evaluation-harness folder's groups"):
        csd.load_table(write(tmp_path, EXPORT), tasks="subtasks")


def test_a_group_without_a_score_of_its_own_plays_its_subgroups(tmp_path):
    folder = harness_copy(tmp_path, lambda d: d["results"].update(mmlu={"alias": "mmlu"}))
    table = csd.load_table(folder)
    assert table.benchmarks == ("mmlu_humanities", "mmlu_stem", "wikitext")
    assert any(note.startswith("not played: groups without a score of their own") and note.endswith(": mmlu")
               for note in table.notes)


def test_without_higher_is_better_a_perplexity_is_lower_is_better_by_its_name_and_can_be_overridden(tmp_path):
    folder = harness_copy(tmp_path, lambda d: d.pop("higher_is_better"))
    table = csd.load_table(folder)
    assert table.flipped == ("wikitext",) and table.scores[1, 1] == -20.51
    assert (
        "lower is better by the metric's name (no higher_is_better in the files; override with higher_is_better=): "
        "wikitext 'word_perplexity,none'"
    ) in table.notes
    assert "higher is better by assumption (no higher_is_better in the files): mmlu" in table.notes
    kept = csd.load_table(folder, higher_is_better=["wikitext"])
    assert kept.flipped == () and kept.scores[1, 1] == 20.51
    assert "played higher-is-better as higher_is_better= says, against the source: wikitext" in kept.notes
    # Naming a column the files already mark lower-is-better flips it once, not twice.
    assert csd.load_table(GROUPS, lower_is_better=["wikitext"]).scores[1, 1] == -20.51
    with pytest.raises(csd.InputError, match="'wikitext' is in both lower_is_better and higher_is_better"):
        csd.load_table(GROUPS, lower_is_better=["wikitext"], higher_is_better=["wikitext"])


def test_files_that_disagree_on_a_direction_are_refused_naming_both(tmp_path):
    folder = harness_copy(tmp_path, lambda d: None)
    path = os.path.join(folder, "gpt2", "results_2024-06-01T00-00-00.000000.json")
    data = json.loads(open(path).read())
    data["higher_is_better"]["wikitext"]["word_perplexity"] = True
    open(path, "w").write(json.dumps(data))
    with pytest.raises(csd.InputError, match=r"gpt2.*says 'word_perplexity' of task 'wikitext' is higher-is-better, but .*pythia-160m.* says lower"):
        csd.load_table(folder)


def test_the_metric_chosen_carries_its_own_direction():
    table = csd.load_table(GROUPS, metric={"wikitext": "bits_per_byte"})
    assert table.scores[:, 1].tolist() == [-0.8885, -0.7665, -0.8353] and table.flipped == ("wikitext",)


# ----------------------------------------------------------------------------- a leaderboard export


def test_a_leaderboard_export_loads_as_it_is(tmp_path):
    table = csd.load_table(write(tmp_path, EXPORT))
    assert table.models == ("org/alpha-7b", "org/beta-70b", "org/gamma-13b")
    assert table.benchmarks == ("#Params (B)", "IFEval", "BBH", "MATH Lvl 5")
    np.testing.assert_array_equal(
        table.scores, [[7.24, 55.1, 30.2, 12.0], [1013.0, 60.3, np.nan, 9.5], [13.0, 45.0, 28.9, np.nan]]
    )
    assert "models from the column 'Model'" in table.notes
    assert "not played: aggregate columns (name them in benchmarks= to play): Average ⬆️" in table.notes
    assert "left out as text (most cells are not numbers): T, Type, Hub License" in table.notes
    assert table.n_missing == 2  # the text and aggregate columns are not counted


def test_a_parameter_count_is_dropped_and_benchmarks_choose_and_order(tmp_path):
    path = write(tmp_path, EXPORT)
    table = csd.load_table(path, drop=["#Params (B)", "Type"])
    assert table.benchmarks == ("IFEval", "BBH", "MATH Lvl 5")
    assert "dropped (drop=): #Params (B), Type" in table.notes
    assert "left out as text (most cells are not numbers): T, Hub License" in table.notes
    chosen = csd.load_table(path, benchmarks=["BBH", "Average ⬆️"])
    assert chosen.benchmarks == ("BBH", "Average ⬆️") and chosen.scores[0].tolist() == [30.2, 1204.5]
    with pytest.raises(csd.InputError, match=r"benchmarks: unknown column\(s\) \['GPQA'\]; the table has \['Average ⬆️', "
                                             r"'#Params \(B\)', 'IFEval', 'BBH', 'MATH Lvl 5'\] \(and the text columns"):
        csd.load_table(path, benchmarks=["BBH", "GPQA"])
    with pytest.raises(csd.InputError, match="benchmarks: 'Type' is a text column"):
        csd.load_table(path, benchmarks=["Type"])
    with pytest.raises(csd.InputError, match="'BBH' is in both benchmarks= and drop="):
        csd.load_table(path, benchmarks=["BBH"], drop=["BBH"])
    with pytest.raises(csd.InputError, match="drop='BBH' must be a list of names"):
        csd.load_table(path, drop="BBH")


@pytest.mark.parametrize(
    "text, message",
    [
        # A numeric column with one word in it is refused at the word, not left out.
        ("model,a\nm1,1\nm2,2\nm3,high\n", r"line 4 \(model 'm3'\), column 'a': 'high' is not a number"),
        ('model,a\nm1,"85,3"\nm2,2\n', r"'85,3' is not a number: decimal commas are not read; write 85.3 \(export with '.'"),
        ("model,Average\nm1,1\nm2,2\n", r"no benchmark left to play; the columns are \['Average'\]; choose with benchmarks="),
    ],
)
def test_export_refusals_name_the_cell_and_the_fix(tmp_path, text, message):
    with pytest.raises(csd.InputError, match=message):
        csd.load_table(write(tmp_path, text))


@pytest.mark.parametrize("name", ["Average", "avg", "MEAN score", "Overall", "total", "Average ⬆️"])
def test_aggregate_names(name):
    assert readers.is_aggregate(name)


@pytest.mark.parametrize("name", ["Mean Reciprocal Rank", "TotalQA", "mmlu", "average_precision_at_10"])
def test_benchmark_names_that_are_not_aggregates(name):
    assert not readers.is_aggregate(name)


def test_a_text_file_column_named_like_a_perplexity_gets_a_note_not_a_flip(tmp_path):
    table = csd.load_table(write(tmp_path, "model,acc,word_perplexity\nm1,0.5,12\nm2,0.4,9\n"))
    assert table.flipped == () and table.scores[:, 1].tolist() == [12.0, 9.0]
    assert any("name suggests lower-is-better" in note and note.endswith(": word_perplexity") for note in table.notes)


# ----------------------------------------------------------------------------- DataFrames and arrays


def test_a_dataframe_export_leaves_text_and_bool_columns_out_and_takes_benchmarks_and_drop():
    pd = pytest.importorskip("pandas")
    frame = pd.DataFrame({
        "Model": ["a", "b", "c"], "Type": ["chat", "base", "chat"], "Available": [True, False, True],
        "Average": [50.0, 40.0, 30.0], "Params": [7.0, 13.0, 70.0], "x": [1.0, 2.0, 3.0], "y": [3.0, 1.0, 2.0],
    })
    table = csd.load_table(frame, drop=["Params"])
    assert table.models == ("a", "b", "c") and table.benchmarks == ("x", "y")
    assert "left out as text (most cells are not numbers): Type, Available" in table.notes
    assert csd.ScoreTable.from_dataframe(frame, benchmarks=["y", "Average"]).benchmarks == ("y", "Average")


def test_an_array_takes_drop():
    table = csd.load_table(np.eye(3), models=["a", "b", "c"], benchmarks=["x", "y", "z"], drop=["y"])
    assert table.benchmarks == ("x", "z") and table.scores.tolist() == [[1.0, 0.0], [0.0, 0.0], [0.0, 1.0]]


@pytest.mark.parametrize(
    "scores, message",
    [
        (np.array([["1"], ["z"]]), r"<array>: model 'a', benchmark 'x': '1' is a string, not a number"),
        (np.array([[1.0], ["z"]], dtype=object), r"model 'b', benchmark 'x': 'z' is a string, not a number"),
        (np.array([[1.0], [{}]], dtype=object), r"model 'b', benchmark 'x': \{\} is a dict, not a number"),
    ],
)
def test_score_table_names_the_cell_that_is_not_a_number(scores, message):
    with pytest.raises(csd.InputError, match=message):
        csd.ScoreTable(("a", "b"), ("x",), scores)


def test_score_table_takes_an_object_array_of_numbers_with_none_missing():
    table = csd.ScoreTable(("a", "b"), ("x",), np.array([[1], [None]], dtype=object))
    assert table.scores[0, 0] == 1.0 and np.isnan(table.scores[1, 0])


# ----------------------------------------------------------------------------- spreadsheets


def write_workbook(path):
    """An .xlsx written by openpyxl: the scores on the first sheet (numbers as numbers, a
    percent-formatted cell, an empty cell, a number typed as text, a text column and an
    Average), an older table on the second."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Scores"
    rows = [["Model", "Average", "Type", "IFEval", "BBH"], ["alpha", 42.0, "chat", 0.551, 30.2],
            ["beta", 40.0, "base", 0.603, None], ["gamma", 38.1, "chat", 0.45, "28.9"]]
    for row in rows:
        sheet.append(row)
    sheet["D2"].number_format = "0.0%"
    other = book.create_sheet("Older")
    for row in [["model", "a", "b"], ["x", 1, 2], ["y", 3, 4]]:
        other.append(row)
    book.save(path)
    return str(path)


def test_an_excel_workbook_reads_its_first_sheet_like_an_export(tmp_path):
    path = write_workbook(tmp_path / "scores.xlsx")
    table = csd.load_table(path)
    assert table.models == ("alpha", "beta", "gamma") and table.benchmarks == ("IFEval", "BBH")
    np.testing.assert_array_equal(table.scores, [[0.551, 30.2], [0.603, np.nan], [0.45, 28.9]])
    assert "sheet 'Scores' (of 2: 'Scores', 'Older')" in table.notes
    assert "left out as text (most cells are not numbers): Type" in table.notes
    older = csd.load_table(path, sheet="Older", drop=["b"])
    assert older.benchmarks == ("a",) and older.scores[:, 0].tolist() == [1.0, 3.0]
    with pytest.raises(csd.InputError, match=r"no sheet 'Newer'; the sheets are \['Scores', 'Older'\]"):
        csd.load_table(path, sheet="Newer")
    with pytest.raises(csd.InputError, match="sheet='Older' chooses a sheet of an .xlsx workbook"):
        csd.load_table(write(tmp_path, "model,a\nm1,1\nm2,2\n"), sheet="Older")


def test_a_bad_cell_in_a_workbook_is_named_by_sheet_and_row(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in [["model", "a"], ["x", 1], ["y", "1,5"], ["z", 3]]:
        book.active.append(row)
    book.save(tmp_path / "bad.xlsx")
    with pytest.raises(csd.InputError, match=r"bad.xlsx, sheet 'Sheet', row 3 \(model 'y'\), column 'a': '1,5' is not a number: decimal commas"):
        csd.load_table(str(tmp_path / "bad.xlsx"))


def test_without_openpyxl_one_line_names_the_extra(tmp_path, monkeypatch):
    path = write_workbook(tmp_path / "scores.xlsx")
    monkeypatch.setitem(__import__("sys").modules, "openpyxl", None)
    with pytest.raises(csd.InputError, match=r"scores.xlsx: reading .xlsx needs openpyxl: pip install 'csd-swiss\[excel\]'$"):
        csd.load_table(path)


def test_a_workbook_named_csv_or_an_old_xls_is_told_apart_from_text(tmp_path):
    path = write_workbook(tmp_path / "scores.xlsx")
    os.rename(path, tmp_path / "scores.csv")
    with pytest.raises(csd.InputError, match="this is a zip file, not text: a spreadsheet"):
        csd.load_table(str(tmp_path / "scores.csv"))
    (tmp_path / "old.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100))
    with pytest.raises(csd.InputError, match=r"old Excel .xls file; save it as .xlsx"):
        csd.load_table(str(tmp_path / "old.xls"))


# ----------------------------------------------------------------------------- refused before reading


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_is_refused_before_reading(device):
    if not os.path.exists(device):
        pytest.skip(f"no {device} here")
    with pytest.raises(csd.InputError, match=f"^{device}: is a character device, not a table file"):
        csd.load_table(device)


def test_a_fifo_and_a_socket_are_refused_before_reading(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)  # opening it for reading would block forever
    with pytest.raises(csd.InputError, match=r"pipe.csv: is a FIFO \(named pipe\), not a table file"):
        csd.load_table(str(fifo))
    folder = tmp_path / "lm" / "m"
    folder.mkdir(parents=True)
    os.mkfifo(folder / "results_1.json")
    with pytest.raises(csd.InputError, match=r"results_1.json: is a FIFO"):
        csd.load_table(str(tmp_path / "lm"))
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "s.csv"))
        with pytest.raises(csd.InputError, match=r"s.csv: is a socket, not a table file"):
            csd.load_table(str(tmp_path / "s.csv"))


def test_a_file_past_the_size_bound_is_refused_before_reading(tmp_path, monkeypatch):
    path = write(tmp_path, "model,a\n" + "".join(f"m{i},{i}\n" for i in range(100)))
    monkeypatch.setattr(readers, "MAX_TABLE_BYTES", 2**20 // 2)
    assert csd.load_table(path).shape == (100, 1)
    monkeypatch.setattr(readers, "MAX_TABLE_BYTES", 512)
    with pytest.raises(csd.InputError, match=r"table.csv: the file has 0 MiB, more than the 0 MiB a table may have \(csd._src.readers.MAX_TABLE_BYTES\)"):
        csd.load_table(path)


def test_the_size_bound_is_256_mib():
    assert readers.MAX_TABLE_BYTES == 256 * 2**20


# ----------------------------------------------------------------------------- csd-run


def test_the_data_config_chooses_columns_and_directions(tmp_path):
    path = write(tmp_path, EXPORT)
    prepared = prepare_table(RunConfig.from_dict({"data": {"path": path, "drop": ["#Params (B)"]}}).data)
    assert prepared.table.benchmarks == ("IFEval", "BBH", "MATH Lvl 5")
    config = RunConfig.from_dict({"data": {"path": GROUPS, "tasks": "subtasks", "metric": {"wikitext": "bits_per_byte"},
                                           "higher_is_better": ["wikitext"]}})
    table = prepare_table(config.data).table
    assert table.benchmarks[-1] == "wikitext" and table.flipped == () and table.scores[1, -1] == 0.7665
    with pytest.raises(csd.InputError, match=r"^data.benchmarks: .*benchmarks: unknown column\(s\) \['GPQA'\]"):
        prepare_table(RunConfig.from_dict({"data": {"path": path, "benchmarks": ["GPQA"]}}).data)
    with pytest.raises(csd.InputError, match=r"^data.tasks: tasks='leaves' is not allowed; choose one of: groups, subtasks, all"):
        prepare_table(RunConfig.from_dict({"data": {"path": GROUPS, "tasks": "leaves"}}).data)


def test_choosing_benchmarks_of_a_shipped_table_keeps_their_tiers():
    config = RunConfig.from_dict({"data": {"benchmarks": ["typos", "math_comp", "AMPS_Hard"]}})
    prepared = prepare_table(config.data)
    assert sorted(prepared.table.benchmarks) == ["AMPS_Hard", "math_comp", "typos"]
    assert sorted(map(sorted, prepared.tiers.values())) == [["AMPS_Hard", "math_comp"], ["typos"]]
    # mode=report takes the tiers from tiers_source: restricted the same way.
    assert {tier: names for tier, names in tiers_source(config.data).items() if names} == {
        "Language": ["typos"], "Mathematics": ["AMPS_Hard", "math_comp"]}
    dropped = prepare_table(RunConfig.from_dict({"data": {"drop": ["typos"]}}).data)
    assert len(dropped.table.benchmarks) == 20 and "typos" not in sum(dropped.tiers.values(), [])


@pytest.mark.slow
def test_csd_run_plays_an_export_and_a_harness_folder_and_reports_what_it_left_out(tmp_path):
    from test_cli import read_results, run_cli

    write(tmp_path, EXPORT, "export.csv")
    out = tmp_path / "export"
    proc = run_cli("data.path=export.csv", "data.drop=['#Params (B)']", "n_runs=200", "order_sensitivity=0",
                   "progress=false", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = read_results(out)["table"]
    assert table["rounds"] == ["IFEval", "BBH", "MATH Lvl 5"]
    report = (out / "report.md").read_text()
    assert "not played: aggregate columns (name them in benchmarks= to play): Average ⬆️" in report
    assert "dropped (drop=): #Params (B)" in report

    out = tmp_path / "harness"
    proc = run_cli(f"data.path={GROUPS}", "n_runs=200", "order_sensitivity=0", "progress=false",
                   f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    table = read_results(out)["table"]
    assert table["rounds"] == ["mmlu", "wikitext"] and table["lower_is_better"] == ["wikitext"]
    assert "lower is better, negated so that higher is better: wikitext" in (out / "report.md").read_text()
