"""report.html and report.md: two renderings of one report model; the page in a real
browser (Debian's chromium through selenium, `browser` marker), offline."""

from __future__ import annotations

import base64
import io
import json
import re
import shutil
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest

from csd._src.report import html, interactive, markdown
from csd._src.report.model import Details, Figure, ReportModel, Section, Table

EVIL = '</script><script>window.pwned = 1</script> & "quoted" <b>'
N_ROWS = 60  # three pages of 25


def leaderboard_rows(n: int = N_ROWS) -> list[list]:
    """`n` models, E[S] falling with the rank, one name that tries to end the script."""
    names = [EVIL if i == 7 else f"m{i:02d}" for i in range(n)]
    return [[i + 1, names[i], f"{10 - 0.1 * i:.3f} ± 0.010", f"{1 + i // 3}-{2 + i // 2}"] for i in range(n)]


def small_model(rows: list[list] | None = None) -> ReportModel:
    rows = leaderboard_rows() if rows is None else rows
    names = [row[1] for row in rows]
    scores = np.array([float(row[2].split()[0]) for row in rows])
    plot = interactive.risk_profile(names, scores, -0.1 * scores, np.full(len(rows), 0.05),
                                    ["in between"] * len(rows), -0.1 * scores, "T=2")
    return ReportModel(
        "CSD analysis of `tiny`",
        ["Intro with **bold**, `code` and a reference to [[board]]."],
        [
            Section("headline", "Headline", ["- first point\n- second point"]),
            Section("board", "Leaderboard", [
                Table(("rank", "model", "E[S] ± SE", "rank 90%"), rows, "rlrr", (0, 1, 2), leaderboard=True),
                Figure("risk.png", "Risk", "Each point is a model.", plot),
            ], True),
            Section("more", "More", [Section("sub", "A subsection", ["*Italic* text."]),
                                     Details("every row", [Table(("a", "b|c"), [[1, "x|y"]])])], True),
        ],
        {"command": "csd.report", "seed": 3, "config": {"n_runs": 10}},
    )


def data_blocks(page: str) -> list:
    """The JSON data elements of a page, parsed."""
    return [json.loads(text) for text in re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, re.S)]


# ------------------------------------------------------------------------- renderers


def test_markdown_renders_the_model_with_numbers_references_and_the_markdown_columns():
    text = markdown.render(small_model(leaderboard_rows(2)))
    assert text == (
        "# CSD analysis of `tiny`\n\n"
        "Intro with **bold**, `code` and a reference to section 1.\n\n"
        "## Headline\n\n- first point\n- second point\n\n"
        "## 1. Leaderboard\n\n"
        "| rank | model | E[S] ± SE |\n| ---: | :--- | ---: |\n| 1 | m00 | 10.000 ± 0.010 |\n| 2 | m01 | 9.900 ± 0.010 |\n\n"
        "![Risk](risk.png)\n\n*Risk.* Each point is a model.\n\n"
        "## 2. More\n\n### A subsection\n\n*Italic* text.\n\n"
        "<details><summary>every row</summary>\n\n| a | b\\|c |\n| :--- | ---: |\n| 1 | x\\|y |\n\n</details>\n"
    )


def test_html_renders_the_same_sections_and_every_column():
    page = html.render(small_model(), plotly="")
    assert '<h2 id="board">1. Leaderboard</h2>' in page and '<h2 id="more">2. More</h2>' in page
    assert 'a reference to <a href="#board">section 1</a>' in page
    assert "<strong>bold</strong>" in page and "<code>code</code>" in page and "<em>Italic</em>" in page
    board = next(block for block in data_blocks(page) if isinstance(block, dict) and "header" in block)
    assert board["header"] == ["rank", "model", "E[S] ± SE", "rank 90%"]  # the HTML shows every column
    assert len(board["rows"]) == N_ROWS and board["search"] == 1
    assert "<code>csd.report</code>" in page and "&quot;n_runs&quot;: 10" in page  # how to reproduce it


def test_model_names_cannot_end_a_script_or_add_markup():
    page = html.render(small_model(), plotly="/* plotly */")
    assert "window.pwned" in page  # the name is there, as data
    assert "<script>window.pwned" not in page and "</script><script>window" not in page
    assert "<b>" not in page.split("<script")[0].split("</style>")[1]  # escaped in the HTML text
    blocks = data_blocks(page)
    board = next(block for block in blocks if "header" in block)
    assert board["rows"][7][1] == EVIL  # and read back exactly
    plot = next(block for block in blocks if "data" in block)
    hover = [row[0] for row in plot["data"][0]["customdata"]]
    assert hover[7] == EVIL.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def test_the_page_asks_for_nothing_outside_itself():
    page = html.render(small_model(), plotly="/* plotly */")
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    links = re.findall(r'(?:src|href)="([^"]*)"', page)
    assert links and all(link.startswith(("#", "data:")) for link in links)


def test_without_plotly_the_static_figure_is_inlined(tmp_path):
    png = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==")
    (tmp_path / "risk.png").write_bytes(png)
    page = html.render(small_model(), tmp_path, plotly="")
    assert f'src="data:image/png;base64,{base64.b64encode(png).decode()}"' in page
    assert 'class="plot"' not in page
    assert "(figure risk.png not drawn)" in html.render(small_model(), tmp_path / "elsewhere", plotly="")


def test_plotly_bundle_comes_from_the_installed_package():
    pytest.importorskip("plotly", reason="the `html` extra (plotly) is not installed")
    bundle = html.plotly_bundle()
    assert bundle is not None and "plotly.js" in bundle[:300] and len(bundle) > 1_000_000


def test_a_run_folder_gets_report_html_with_each_drawn_figure_and_its_interactive_version(tmp_path):
    from csd._src import rundir
    from csd._src.runs import Plot, RunOutput, write_outputs

    def broken():
        raise ValueError("no figure")

    draw = lambda path: Path(path).write_bytes(b"png")  # noqa: E731
    spec = {"data": [{"type": "scatter", "x": [1], "y": [2]}], "layout": {}}
    body = [Section("result", "Result", [Table(("rank", "model"), [[1, "a"]], leaderboard=True)])]
    output = RunOutput({"config": {"seed": 4, "estimator": "plain"}, "job": {"overrides": ["seed=4"]}}, "", "csd-run: t",
                       ["N = 10 runs"], body, "", [Plot("one.png", "one", draw, lambda: spec),
                                                   Plot("two.png", "two", draw, broken)])
    lines = []
    with rundir.locked(tmp_path):
        write_outputs(output, tmp_path, rundir.staging_folder(tmp_path), warn=lines.append)
    assert lines == ["figure two.png not drawn: ValueError: no figure"]  # a page's figure costs nothing else
    page = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert "<code>csd-run seed=4</code>" in page and "<strong>estimator:</strong> <code>plain</code>" in page
    assert spec in data_blocks(page) and "two.png" not in page
    assert "## Plots\n\n![one](one.png)\n\n*one*\n" in (tmp_path / "report.md").read_text(encoding="utf-8")


def test_a_compare_page_adds_each_baselines_delta_rank_to_the_leaderboard_and_report_md_does_not(tmp_path):
    """mode=compare on 5 models: report.html's leaderboard has `Δrank x (x - CSD)` per
    static baseline, its rank minus CSD's in each row; report.md and results.csv keep one
    rank column per method. Model a tops the mean score (its one huge score) but wins few
    games (Borda 4th), so CSD cannot agree with both and some Δrank is not +0."""
    from csd.testing.cli import run_cli_in_process

    (tmp_path / "t.csv").write_text("model,x,y,z\na,100,1,1\nb,5,5,5\nc,4,4,4\nd,3,3,3\ne,2,2,2\n")
    out = tmp_path / "run"
    proc = run_cli_in_process("mode=compare", "compare.methods=[csd,mean,borda]", "data.path=t.csv", "n_runs=200",
                              "order_sensitivity=0", "estimator=plain", f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    results = json.loads((out / "results.json").read_text())
    ranks = {method: dict(zip(results["models"], places)) for method, places in results["ranks"].items()}
    assert ranks["mean"]["a"] == 1 and ranks["borda"]["a"] == 4
    board = next(block for block in data_blocks((out / "report.html").read_text(encoding="utf-8")) if "header" in block)
    assert board["header"] == ["model", "csd", "mean", "borda", "Δrank mean (mean - CSD)", "Δrank borda (borda - CSD)"]
    assert [row[0] for row in board["rows"]] == sorted(results["models"], key=lambda name: ranks["csd"][name])
    for name, *cells in board["rows"]:
        assert cells == [str(ranks[x][name]) for x in ("csd", "mean", "borda")] + [
            f"{ranks[x][name] - ranks['csd'][name]:+d}" for x in ("mean", "borda")]
    assert any(cell != "+0" for row in board["rows"] for cell in row[4:])
    report_md = (out / "report.md").read_text(encoding="utf-8")
    assert "| model | csd | mean | borda |" in report_md and "Δrank" not in report_md
    assert "Δrank" not in (out / "results.csv").read_text()


# --------------------------------------------------------------------------- browser

BROWSER_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1280,1000")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Debian's chromium, headless, driven through /usr/bin/chromedriver (nothing downloaded)."""
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (the `test` extra)")
    chromium, driver_path = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or driver_path is None:
        pytest.skip("no chromium or chromedriver on PATH (`apt-get install chromium chromium-driver`, as .ci/run does)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in BROWSER_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver_path))
    yield driver
    driver.quit()


def open_page(driver, path: Path) -> None:
    """Loads `path` from file:// and waits until the page's scripts have run."""
    driver.get_log("browser")  # drop what an earlier page logged
    driver.get(path.as_uri())
    driver.execute_script("return document.readyState")


def assert_clean(driver) -> None:
    """No console error, and no request but the page itself."""
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors
    requests = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert requests == []
    assert driver.execute_script("return window.pwned === undefined")


def shown_names(driver) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('table.leaderboard tbody tr'), tr => tr.cells[1].textContent)")


def shown_column(driver, column: int) -> list[str]:
    return driver.execute_script(
        "return Array.from(document.querySelectorAll('table.leaderboard tbody tr'), tr => tr.cells[arguments[0]].textContent)",
        column)


def not_blank(png: bytes) -> bool:
    from matplotlib import image

    pixels = image.imread(io.BytesIO(png))
    return pixels.shape[0] > 100 and float(pixels[..., :3].std()) > 0.05


@pytest.mark.browser
@pytest.mark.skipif(__import__("importlib").util.find_spec("plotly") is None, reason="the `html` extra (plotly) is not installed")
def test_leaderboard_sorts_searches_pages_and_downloads_in_chromium(browser, tmp_path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    rows = leaderboard_rows()
    page = tmp_path / "report.html"
    page.write_text(html.render(small_model(rows)), encoding="utf-8")
    open_page(browser, page)
    assert_clean(browser)
    assert not_blank(browser.get_screenshot_as_png())

    seen = []  # every model, page by page
    next_button = browser.find_element(By.XPATH, "//button[contains(., 'next')]")
    while True:
        seen += shown_names(browser)
        if not next_button.is_enabled():
            break
        next_button.click()
    assert seen == [row[1] for row in rows]

    header = browser.find_element(By.XPATH, "//table[contains(@class, 'leaderboard')]//th[text()='E[S] ± SE']")
    header.click()  # ascending: the lowest E[S] first
    ascending = [float(cell.split()[0]) for cell in shown_column(browser, 2)]
    assert ascending == sorted(float(row[2].split()[0]) for row in rows)[:25]
    header.click()
    assert shown_names(browser)[:3] == ["m00", "m01", "m02"]
    assert header.get_attribute("aria-sort") == "descending"

    search = browser.find_element(By.CSS_SELECTOR, "input[type=search]")
    search.send_keys("M1")  # case does not matter
    expected = [row[1] for row in rows if "m1" in row[1]]
    assert shown_names(browser) == expected
    link = browser.find_element(By.CSS_SELECTOR, "a.csv")
    link.click()
    csv_text = urllib.parse.unquote(link.get_attribute("href").split(",", 1)[1])
    assert csv_text.splitlines()[0] == "rank,model,E[S] ± SE,rank 90%"
    assert [line.split(",")[1] for line in csv_text.splitlines()[1:]] == expected
    search.clear()
    search.send_keys("script")  # the hostile name is found, shown as text
    assert shown_names(browser) == [EVIL]

    point = browser.find_elements(By.CSS_SELECTOR, ".scatterlayer .point")[3]
    ActionChains(browser).move_to_element(point).perform()
    time.sleep(0.3)
    hover = browser.execute_script("return document.querySelector('.hoverlayer').textContent")
    assert "m03" in hover and "E[S] = 9.700" in hover and "drop = " in hover
    assert_clean(browser)


@pytest.mark.slow
@pytest.mark.browser
def test_a_report_page_draws_every_figure_without_an_error(browser, tmp_path):
    """csd.report on 12 models: report.md and report.html from one model, every figure of
    the page drawn by Plotly, the leaderboard holding every model with each baseline's rank."""
    pytest.importorskip("plotly", reason="the `html` extra (plotly) is not installed")
    import csd

    scores = np.random.default_rng(11).random((12, 7)) * 100
    table = csd.ScoreTable(tuple(f"m{i:02d}" for i in range(12)), tuple(f"b{k}" for k in range(7)), scores)
    result = csd.report(table, out_dir=tmp_path, name="small", outlier_rank=3, seed=5, n_runs=400, fsa_runs=300,
                        n_boot=6, boot_runs=100, order_runs=200, n_random_orders=1)
    assert tmp_path / "report.html" in result.files
    open_page(browser, tmp_path / "report.html")
    assert_clean(browser)
    drawn = browser.execute_script("return Array.from(document.querySelectorAll('div.plot'), d => d.querySelector('svg.main-svg') !== null)")
    assert drawn == [True] * 8  # the seven of report.md and the win probabilities
    header = browser.execute_script("return Array.from(document.querySelectorAll('table.leaderboard th'), th => th.textContent)")
    assert {"P(champion)", "profile", "E[S] interval", "bootstrap rank", "tier", "elo rank", "Δrank elo (elo - CSD)"} <= set(header)
    assert sorted(shown_names(browser)) == sorted(table.models)
    md_sections = re.findall(r"^## (.+)$", result.markdown, re.M)
    html_sections = browser.execute_script("return Array.from(document.querySelectorAll('h2'), h => h.textContent)")
    assert html_sections == md_sections  # one model, two renderings


@pytest.mark.slow
@pytest.mark.browser
def test_the_4576_model_page_is_small_and_holds_every_model(browser, tmp_path):
    """csd-run on the shipped Open LLM Leaderboard table: report.html at most 20 MiB, loaded
    without an error, every model reachable (all rows on one page), sorting 4,576 rows. How
    long it takes to load is measured, not asserted (no test asserts a timing): 2.1-2.6 s
    in headless chromium on two quiet cores."""
    pytest.importorskip("plotly", reason="the `html` extra (plotly) is not installed")
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    from csd.testing.cli import run_cli_in_process

    out = tmp_path / "run"
    proc = run_cli_in_process("data=openllm_v2", "n_runs=200", "order_sensitivity=0", "progress=false",
                              f"hydra.run.dir={out}", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    page = out / "report.html"
    assert page.stat().st_size <= 20 * 2**20
    open_page(browser, page)
    assert_clean(browser)
    models = json.loads((out / "results.json").read_text())["models"]
    Select(browser.find_element(By.CSS_SELECTOR, "div.controls select")).select_by_value("0")  # all rows
    assert sorted(shown_names(browser)) == sorted(models) and len(models) == 4576
    browser.find_element(By.XPATH, "//table[contains(@class, 'leaderboard')]//th[text()='SE']").click()
    se = [float(x) for x in shown_column(browser, 3)]
    assert se == sorted(se)
    assert_clean(browser)
