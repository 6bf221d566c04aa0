"""course_utils.report: recording metrics, the JSON report file and the table."""

from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils import report


@pytest.fixture(autouse=True)
def _clean(monkeypatch):
    monkeypatch.delenv(report.REPORT_ENV, raising=False)
    report.clear()
    yield
    report.clear()


def test_record_converts_numpy_and_returns_value():
    value = np.float32(0.981)
    assert report.record("test_accuracy", value) is value
    report.record("per_class", {"circle": np.float64(0.5), 1: np.int64(3)})
    report.record("hist", np.array([1, 2, 3]))
    got = report.metrics()
    assert got["test_accuracy"] == pytest.approx(0.981, abs=1e-6)
    assert isinstance(got["test_accuracy"], float)
    assert got["per_class"] == {"circle": 0.5, "1": 3}
    assert got["hist"] == [1, 2, 3]
    json.dumps(got)  # plain JSON


def test_non_finite_values_become_strings():
    report.record("loss", float("nan"))
    assert report.metrics()["loss"] == "nan"


def test_record_writes_report_file(tmp_path, monkeypatch):
    path = tmp_path / "sub" / "metrics.json"
    monkeypatch.setenv(report.REPORT_ENV, str(path))
    report.record("a", 1)
    report.record("b", "digits-28")
    assert json.loads(path.read_text()) == {"a": 1, "b": "digits-28"}
    assert report.read(path) == {"a": 1, "b": "digits-28"}
    assert [p.name for p in path.parent.iterdir()] == ["metrics.json"]  # no temp files left


def test_read_missing_file_is_empty(tmp_path):
    assert report.read(tmp_path / "none.json") == {}


@pytest.mark.parametrize("name", ["", "1abc", "has space", None, 3])
def test_bad_names_are_rejected(name):
    with pytest.raises(ValueError, match="name"):
        report.record(name, 1)


def test_unserialisable_value_is_rejected():
    with pytest.raises(ValueError, match="model"):
        report.record("model", object())


def test_show_prints_a_table(capsys):
    report.record("map50", 0.93456)
    report.record("dataset", "shapes")
    report.show()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["metric", "value"]
    assert lines[2].split() == ["map50", "0.9346"]
    assert lines[3].split() == ["dataset", "shapes"]


def test_show_with_nothing_recorded(capsys):
    report.show()
    assert "no metrics" in capsys.readouterr().out
