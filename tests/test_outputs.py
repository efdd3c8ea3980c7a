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
