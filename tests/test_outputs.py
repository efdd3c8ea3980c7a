"""The output helpers: atomic writes, JSON without NaN, the progress bar."""

from __future__ import annotations

import io
import json
import os

import numpy as np
import pytest

from csd._src import outputs


def test_atomic_write_keeps_the_old_file_when_the_rename_fails(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    outputs.atomic_write(target, "old")
    assert oct(target.stat().st_mode & 0o777) == oct(0o666 & ~outputs._umask())

    def broken(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError):
        outputs.atomic_write(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["results.json"]


def test_json_has_no_nan():
    text = outputs.to_json({"x": np.array([1.0, np.nan]), "y": np.float32(np.inf), "n": np.int64(3)})
    assert json.loads(text) == {"x": [1.0, None], "y": None, "n": 3}


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_progress_bar_draws_on_a_terminal_and_stays_quiet_elsewhere():
    bar = outputs.ProgressBar("simulate", stream=_Terminal())
    bar(500, 2000)
    bar(2000, 2000)
    bar.close()
    text = bar.stream.getvalue()
    assert "simulate: 100%" in text and "2000/2000" in text and text.endswith("\n")
    quiet = outputs.ProgressBar("simulate", stream=io.StringIO())
    quiet(1, 2)
    quiet.close()
    assert quiet.stream.getvalue() == ""
    off = outputs.ProgressBar("simulate", stream=_Terminal(), enabled=False)
    off(1, 2)
    assert off.stream.getvalue() == ""


@pytest.mark.parametrize(
    "value, se, shown",
    [
        (10.19, 0.003, "10.1900 ± 0.0030"),  # was `10.19 ± 0.00`
        (10.19342, 0.00012, "10.19342 ± 0.00012"),
        (2.09812, 0.0123, "2.098 ± 0.012"),
        (0.3, 0.0996, "0.30 ± 0.10"),  # the SE rounds up to a new digit: still two digits
        (123.4, 12.0, "123 ± 12"),
        (2.0, 0.0, "2.000 ± 0"),  # a frozen tournament: the value keeps its 3 decimals
        (1.0, 1e-9, "1.000000 ± <1e-06"),
        (0.5, float("nan"), "0.500 ± nan"),
    ],
)
def test_an_estimate_with_its_se_shows_two_significant_digits_of_the_se(value, se, shown):
    assert outputs.with_se(value, se) == shown


def test_the_se_is_never_written_as_zero_when_it_is_not():
    def decimals(text: str) -> int:
        return len(text.split(".")[1]) if "." in text else 0

    for se in np.geomspace(1e-6, 10, 200):
        text = outputs.stderr_text(se)
        assert float(text) > 0 and abs(float(text) - se) <= 0.05 * se, (se, text)  # two significant digits
        value = outputs.with_se(10.19, se).split(" ± ")[0]
        assert decimals(value) == decimals(text), (se, value, text)  # the value ends at the SE's last digit


def test_a_drop_keeps_its_sign():
    assert outputs.with_se(0.25, 0.012, signed=True) == "+0.250 ± 0.012"
    assert outputs.with_se(-1.2346, 0.051, signed=True) == "-1.235 ± 0.051"


@pytest.mark.parametrize(
    "low, high, fmt, shown",
    [
        (3, 7, "{}", "3-7"),
        (3, 3, "{}", "3"),  # a rank interval of one place
        (0.9712, 0.9688, "{:.2f}", "0.97"),  # was `Kendall tau 0.97-0.97`
        (0.51, 0.97, "{:.2f}", "0.51-0.97"),
        (-0.1, 0.4, "{:.2f}", "-0.10 to 0.40"),  # never `-0.10-0.40`
        (-0.5, -0.1, "{:.1f}", "-0.5 to -0.1"),
    ],
)
def test_a_range_reads_as_one_number_when_its_ends_read_the_same(low, high, fmt, shown):
    assert outputs.value_range(low, high, fmt) == shown
