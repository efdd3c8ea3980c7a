"""The method comparison (`csd.compare`) and the outlier test (`csd.outlier_test`)."""

import math

import numpy as np
import pytest

import csd
from csd import baselines
from csd.testing.tables import score_table as _table

NAN = math.nan


# ---- compare ----------------------------------------------------------------------------


LIVEBENCH = csd.load_table(csd.shipped_table("livebench"))


@pytest.fixture(scope="module")
def livebench_comparison():
    return csd.compare(LIVEBENCH, n_runs=2000, seed=0)


def test_compare_runs_every_method_with_ranks_consistent_with_scores(livebench_comparison):
    comparison = livebench_comparison
    assert comparison.methods == ("csd", "mean", "normalized_mean", "mean_rank", "borda", "bradley_terry", "elo")
    for name in comparison.methods:
        scores, ranks = comparison.scores[name], comparison.ranks[name]
        assert scores.shape == ranks.shape == (65,)
        better = scores[:, None] < scores[None, :]  # better[i, j]: j scores higher than i
        np.testing.assert_array_equal(ranks, better.sum(axis=1) + 1)
    np.testing.assert_array_equal(comparison.scores["mean"], baselines.mean_score(LIVEBENCH))


def test_compare_kendall_tau_is_symmetric_with_unit_diagonal(livebench_comparison):
    tau, scores = livebench_comparison.kendall_tau, livebench_comparison.scores
    for a in tau:
        assert tau[a][a] == 1.0
        for b in tau:
            assert tau[a][b] == tau[b][a] == pytest.approx(baselines.kendall_tau(scores[a], scores[b]))
    # Every method agrees broadly on LiveBench; borda and mean_rank give the same order.
    assert min(min(row.values()) for row in tau.values()) > 0.7
    assert tau["borda"]["mean_rank"] == pytest.approx(1.0)


def test_compare_text_and_dict_outputs(livebench_comparison):
    *lines, legend = livebench_comparison.format_table().splitlines()
    assert len(lines) == 66 and lines[0].split() == ["model", *livebench_comparison.methods]
    assert legend.startswith("Each method's place by its score (csd: by E[S]), 1 = best, tied scores share")
    csd_ranks = [int(line.split()[1]) for line in lines[1:]]
    assert csd_ranks == sorted(csd_ranks) and csd_ranks[0] == 1
    as_dict = livebench_comparison.to_dict()
    assert as_dict["ranks"]["elo"] == livebench_comparison.ranks["elo"].tolist()
    assert len(livebench_comparison.format_tau().splitlines()) == 8


SMALL = _table([[3.0, 1, 2], [2.0, 3, 1], [1.0, 2, 3], [0.0, 0, 0]])


@pytest.fixture(scope="module")
def small_result():
    return csd.simulate(SMALL, n_runs=500, seed=4)


def test_compare_uses_a_given_simulation_result(small_result):
    comparison = csd.compare(SMALL, ["csd", "mean"], csd_result=small_result)
    np.testing.assert_array_equal(comparison.scores["csd"], small_result.expected_score)
    best = SMALL.models[int(small_result.order()[0])]
    assert comparison.format_table().splitlines()[1].split()[0] == best


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(methods=["mean", "glicko"]), "unknown method 'glicko'; choose from: csd, mean"),
        (dict(methods=["mean", "mean"]), "more than once"),
        (dict(methods=[]), "methods is empty"),
        (dict(use_result=True, elimination=1), r"elimination=1 contradicts csd_result \(elimination=0\)"),
    ],
)
def test_compare_rejects_bad_options(small_result, kwargs, message):
    if kwargs.pop("use_result", False):
        kwargs["csd_result"] = small_result
    with pytest.raises(csd.InputError, match=message):
        csd.compare(SMALL, **kwargs)


def test_compare_rejects_a_result_for_other_models(small_result):
    other = csd.ScoreTable(("p", "q", "r", "s"), SMALL.benchmarks, SMALL.scores)
    with pytest.raises(csd.InputError, match=r"csd_result ranks models \['m0', 'm1', 'm2', 'm3'\]"):
        csd.compare(other, ["csd"], csd_result=small_result)


# ---- outlier test -----------------------------------------------------------------------


def _star_table() -> csd.ScoreTable:
    """16 models of steadily rising quality on 12 benchmarks; `star` is second best on
    every benchmark, by a wide margin in score."""
    rng = np.random.default_rng(5)
    quality = np.linspace(40.0, 70.0, 15)
    scores = quality[:, None] + rng.normal(0.0, 2.0, size=(15, 12))
    star = scores.max(axis=0) - 1.0 + rng.uniform(-0.5, 0.0, 12)
    star[[3, 7, 10]] -= [0.0, 0.5, 0.2]
    models = tuple(f"m{i:02d}" for i in range(15)) + ("star",)
    return _table(np.vstack([scores, star]), models)


@pytest.mark.slow
def test_outlier_moves_the_mean_rank_much_more_than_the_csd_rank():
    table = _star_table()
    zeroed = ("b2", "b6", "b10")
    result = csd.outlier_test(table, "star", zeroed, n_runs=3000, seed=1)
    assert result.benchmarks == zeroed and result.value == 0.0
    assert result.rank_before["mean"] == result.rank_before["csd"] == 2
    # Three zeros cost the mean ~18 points (about 8 places); CSD they cost three games.
    assert result.shift["mean"] >= 6
    assert result.shift["csd"] <= 2
    assert result.shift["mean"] > result.shift["csd"]
    for name, shift in result.shift.items():
        assert shift == result.rank_after[name] - result.rank_before[name]
    title, *_, legend_1, legend_2 = result.format_table().splitlines()
    assert title == "star: b2, b6, b10 set to 0"
    assert legend_1.startswith("before, after: star's place under each method (1 = best, tied scores share")
    assert legend_2.startswith("shift: after - before (positive: it fell)")
    assert result.to_dict()["shift"] == result.shift


def test_outlier_reports_each_methods_score_before_and_after():
    table = _star_table()
    result = csd.outlier_test(table, "star", ("b2", "b6"), value=10.0, methods=["mean", "borda"])
    star = table.scores[-1]
    assert result.score_before["mean"] == pytest.approx(star.mean())
    assert result.score_after["mean"] == pytest.approx((star.sum() - star[2] - star[6] + 20.0) / 12)
    assert result.score_before["borda"] == baselines.borda(table)[-1]
    assert result.to_dict()["score_after"] == result.score_after
    assert result.format_table().splitlines()[1].split() == ["method", "before", "after", "shift", "score",
                                                               "before", "score", "after"]


def _record_calls(monkeypatch, name: str) -> list[dict]:
    """The keyword arguments of every call `csd._src.compare` makes to its `name`
    (`simulate` or `bootstrap`), which still runs."""
    from csd._src import compare as compare_module

    calls, wrapped = [], getattr(compare_module, name)
    monkeypatch.setattr(compare_module, name, lambda *a, **kw: calls.append(kw) or wrapped(*a, **kw))
    return calls


def test_outlier_with_csd_result_simulates_only_the_perturbed_table_and_matches_a_fresh_run(monkeypatch):
    table = _star_table()
    options = dict(n_runs=2000, seed=4, elimination=1, pairing="float")
    fresh = csd.outlier_test(table, "star", ("b0", "b1"), methods=["csd", "mean"], **options)
    ranking = csd.simulate(table, **options)
    calls = _record_calls(monkeypatch, "simulate")
    reused = csd.outlier_test(table, "star", ("b0", "b1"), methods=["csd", "mean"], csd_result=ranking,
                              progress=lambda done, total: None)
    assert len(calls) == 1 and calls[0]["n_runs"] == 2000 and calls[0]["tournament"].pairing == "float"
    assert reused == fresh
    assert reused.score_before["csd"] == float(ranking.expected_score[-1]) > reused.score_after["csd"]


def test_outlier_replays_a_csd_result_with_its_estimator(monkeypatch):
    table = _star_table()
    calls = _record_calls(monkeypatch, "simulate")
    for estimator in ("plain", "cv"):
        ranking = csd.simulate(table, n_runs=1000, seed=4, estimator=estimator)
        result = csd.outlier_test(table, "star", ("b0", "b1"), methods=["csd"], csd_result=ranking)
        assert calls.pop()["estimator"] == estimator
        scores = table.scores.copy()
        scores[-1, :2] = 0.0  # the star's b0 and b1
        perturbed = csd.simulate(table.with_scores(scores), n_runs=1000, seed=4, estimator=estimator)
        assert perturbed.estimator == estimator
        assert result.score_after["csd"] == float(perturbed.expected_score[-1])


@pytest.mark.slow  # over 4 s on two cores: the fast tier stays quick
def test_compare_estimates_csd_and_its_intervals_with_the_estimator_asked_for(monkeypatch):
    table = _star_table()
    calls = _record_calls(monkeypatch, "bootstrap")
    for estimator in ("plain", "cv"):
        comparison = csd.compare(table, ["csd", "mean"], n_runs=1000, seed=4, n_boot=4, boot_runs=200,
                                 estimator=estimator)
        alone = csd.simulate(table, n_runs=1000, seed=4, estimator=estimator)
        assert comparison.csd.estimator == estimator == calls.pop()["estimator"]
        np.testing.assert_array_equal(comparison.scores["csd"], alone.expected_score)
    with pytest.raises(csd.InputError, match=r"estimator='exact' is not allowed; choose one of: cv, plain"):
        csd.compare(table, ["csd"], estimator="exact")


def test_a_csd_result_fixes_the_estimator_unless_cv_fell_back_to_plain():
    table = _star_table()
    plain = csd.simulate(table, n_runs=300, seed=0, estimator="plain")
    with pytest.raises(csd.InputError, match=r"estimator='cv' contradicts csd_result \(estimator='plain'\)"):
        csd.outlier_test(table, "star", methods=["csd"], csd_result=plain, estimator="cv")
    fell_back = csd.simulate(table, n_runs=300, seed=0, pairing="float")  # cv asked for, plain ran
    assert fell_back.estimator == "plain" and fell_back.estimator_note
    for estimator in ("cv", "plain"):
        result = csd.compare(table, ["csd"], csd_result=fell_back, estimator=estimator)
        assert result.csd is fell_back


@pytest.mark.parametrize(
    "options, message",
    [
        ({"n_runs": 999}, r"n_runs=999 contradicts csd_result \(n_runs=300\)"),
        ({"pairing": "float"}, r"pairing='float' contradicts csd_result \(pairing='random'\)"),
        ({"elimination": 2}, r"elimination=2 contradicts csd_result"),
        ({"target_se": 0.01}, r"unknown tournament option\(s\) \['target_se'\]"),
        ({"tournament": csd.Tournament(tie="draw")}, r"tie='draw', elimination=0 contradicts csd_result \(tie='coin', elimination=1\)"),
    ],
)
def test_outlier_refuses_options_that_contradict_its_csd_result(small_ranking, options, message):
    with pytest.raises(csd.InputError, match=message):
        csd.outlier_test(SMALL, "m0", csd_result=small_ranking, **options)


REPLAYED = [
    dict(pairing="float", bye="lowest"),
    dict(bye_once=True, avoid_rematch=True),
    dict(pairing="fold", avoid_rematch=True),
    dict(pairing="slide", bye_once=True),
    dict(pairing="adjacent"),
    dict(tie="draw", draw_points=0.25, bye_points=0.5),
    dict(elimination=[1, 0] * 6, min_active=3),
]


@pytest.mark.parametrize(  # two in the fast tier, every option in the slow one
    "rules", [pytest.param(rules, marks=() if i in (0, 5) else pytest.mark.slow) for i, rules in enumerate(REPLAYED)],
    ids=lambda rules: ",".join(rules))
def test_outlier_replays_the_perturbed_table_under_every_option_of_its_csd_result(rules):
    table = _star_table()
    ranking = csd.simulate(table, n_runs=400, seed=2, **rules)
    reused = csd.outlier_test(table, "star", ("b0", "b1"), methods=["csd"], csd_result=ranking)
    fresh = csd.outlier_test(table, "star", ("b0", "b1"), methods=["csd"], n_runs=400, seed=2, **rules)
    assert reused == fresh and reused.tournament == ranking.tournament
    again = csd.outlier_test(table, "star", ("b0", "b1"), methods=["csd"], csd_result=ranking, **rules)
    assert again == reused  # restating the result's own options is no contradiction


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::csd.FrozenRoundsWarning")  # small_ranking's round 3, again
def test_outlier_accepts_a_csd_result_with_equal_options(small_ranking):
    same = csd.outlier_test(SMALL, "m0", methods=["csd"], csd_result=small_ranking, n_runs=300, seed=0, elimination=1)
    assert same.score_before["csd"] == float(small_ranking.expected_score[0])


@pytest.fixture(scope="module")
def small_ranking():
    """csd.simulate of SMALL with the options the csd_result tests compare against (round
    3 freezes: the two models left have different scores)."""
    with pytest.warns(csd.FrozenRoundsWarning, match=r"round 3 \(b2\) played no game"):
        return csd.simulate(SMALL, n_runs=300, seed=0, elimination=1)


def test_outlier_refuses_a_csd_result_of_another_round_order():
    ranking = csd.simulate(SMALL.with_benchmarks(SMALL.benchmarks[::-1]), n_runs=300)
    with pytest.raises(csd.InputError, match="csd_result was played in the round order"):
        csd.outlier_test(SMALL, "m0", csd_result=ranking)


def test_outlier_default_zeroes_the_models_highest_score():
    table = _table([[5.0, 9.0, NAN, 7.0], [1.0, 1.0, 1.0, 1.0]], ("a", "b"), ("w", "x", "y", "z"))
    result = csd.outlier_test(table, "a", methods=["mean"], value=-1.0)
    assert result.benchmarks == ("x",)
    assert result.rank_before == {"mean": 1} and result.rank_after == {"mean": 1}


@pytest.mark.parametrize(
    "model, benchmarks, message",
    [
        ("nobody", None, r"unknown model 'nobody'; the table has: a, b"),
        ("a", ["x", "q"], r"unknown benchmark 'q'; the table has: x, y"),
        ("a", [], "benchmarks is empty"),
        ("b", None, "model 'b' has no score"),
    ],
)
def test_outlier_test_rejects_bad_names(model, benchmarks, message):
    table = _table([[1.0, 2.0], [NAN, NAN]], ("a", "b"), ("x", "y"))
    with pytest.raises(csd.InputError, match=message):
        csd.outlier_test(table, model, benchmarks, methods=["mean"])
