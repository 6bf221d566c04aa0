"""The headless runner: table, JSON, metrics, peak memory, --inplace and failures."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from course_utils import runner

FIXTURES = Path(__file__).parent / "fixtures"


def run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "course_utils", "run", *args],
        cwd=cwd, capture_output=True, text=True, timeout=300,
    )


@pytest.fixture
def fixtures(tmp_path) -> Path:
    for nb in FIXTURES.glob("*.ipynb"):
        shutil.copy(nb, tmp_path / nb.name)
    return tmp_path


def test_runner_records_metrics_and_writes_json(fixtures):
    proc = run_cli("--mode", "test", "records_metric.ipynb", "--json", "out.json", cwd=fixtures)
    assert proc.returncode == 0, proc.stderr
    header, row = proc.stdout.strip().splitlines()
    assert header.split()[:6] == ["notebook", "mode", "precision", "status", "seconds", "peak"]
    assert row.split()[:4] == ["records_metric", "test", "?", "ok"]  # "?": it never calls setup()
    assert "answer=42" in row and "dataset=fixture" in row

    data = json.loads((fixtures / "out.json").read_text())
    [entry] = data["notebooks"]
    assert set(entry) == {
        "name", "mode", "status", "seconds", "peak_rss_mb", "metrics",
        "parameters", "precision", "precision_requested",
    }
    assert entry["parameters"] == {} and entry["precision"] is None
    assert entry["name"] == "records_metric" and entry["mode"] == "test" and entry["status"] == "ok"
    assert entry["metrics"] == {"answer": 42, "dataset": "fixture"}
    assert entry["seconds"] > 0
    # the kernel held a 64 MB block: the peak must show it
    assert entry["peak_rss_mb"] > 64


def test_runner_sets_the_mode_in_the_kernel(fixtures):
    path = fixtures / "records_metric.ipynb"
    result = runner.run_notebook(path, "quick", inplace=True)
    assert result.status == "ok"
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2]
    assert code[0].outputs[0]["text"] == "mode quick\n"


def test_failing_notebook_exits_non_zero_and_shows_the_cell(fixtures):
    before = (fixtures / "fails.ipynb").read_bytes()
    proc = run_cli("--mode", "test", "--inplace", "fails.ipynb", "--json", "out.json", cwd=fixtures)
    assert proc.returncode == 1
    assert "value = 1 / 0  # the failing cell" in proc.stderr
    assert "ZeroDivisionError" in proc.stderr
    assert "failed: fails" in proc.stderr
    [entry] = json.loads((fixtures / "out.json").read_text())["notebooks"]
    assert entry["status"] == "failed"
    assert entry["metrics"] == {"before_failure": 1}  # recorded before the failure
    # a failed run never writes error outputs into the notebook
    assert (fixtures / "fails.ipynb").read_bytes() == before


def test_resolve_by_stem_prefix_and_path(tmp_path):
    for name in ("00_setup", "01_convolution_math", "02_cnn_classification"):
        nbformat.write(nbformat.v4.new_notebook(), tmp_path / f"{name}.ipynb")
    found = runner.resolve(["02", "00_setup", str(tmp_path / "01_convolution_math.ipynb")], tmp_path)
    assert [p.stem for p in found] == ["02_cnn_classification", "00_setup", "01_convolution_math"]
    assert [p.stem for p in runner.resolve([], tmp_path)][0] == "00_setup"
    with pytest.raises(ValueError, match="expected one of"):
        runner.resolve(["07"], tmp_path)


def test_unknown_notebook_is_a_usage_error(fixtures):
    proc = run_cli("--mode", "test", "99_missing", cwd=fixtures)
    assert proc.returncode == 2
    assert "99_missing" in proc.stderr


def test_bad_mode_is_rejected(fixtures):
    with pytest.raises(ValueError, match="mode"):
        runner.run_notebook(fixtures / "records_metric.ipynb", "fast")


def test_parameters_are_injected_after_the_parameters_cell(fixtures):
    proc = run_cli(
        "--mode", "test", "--precision", "mixed_float16", "parameters.ipynb",
        "-p", 'DATASET="cifar10"', "-p", "EPOCHS=3", "-p", "SCALE=0.25", "--json", "out.json",
        cwd=fixtures,
    )
    assert proc.returncode == 0, proc.stderr
    [entry] = json.loads((fixtures / "out.json").read_text())["notebooks"]
    assert entry["status"] == "ok"
    assert entry["parameters"] == {"DATASET": "cifar10", "EPOCHS": 3, "SCALE": 0.25}
    # LIMIT was not given: the notebook's own value stays
    assert entry["metrics"] == {
        "dataset": "cifar10", "epochs": 3, "limit": None, "scale": 0.25, "onednn": "0",
    }
    assert entry["precision"] == "mixed_float16" == entry["precision_requested"]
    assert "mixed_float16" in proc.stdout and "DATASET='cifar10'" in proc.stdout


def test_injected_cell_follows_the_parameters_cell():
    nb = nbformat.read(FIXTURES / "parameters.ipynb", as_version=4)
    runner.inject_parameters(nb, {"EPOCHS": 2, "DATASET": "x"})
    tags = [c.get("metadata", {}).get("tags", []) for c in nb.cells]
    assert tags[1] == ["parameters"] and tags[2] == [runner.INJECTED_TAG]
    assert nb.cells[2].source.splitlines()[1:] == ["EPOCHS = 2", "DATASET = 'x'"]
    assert runner.parameter_names(nb) == (1, ["DATASET", "EPOCHS", "LIMIT", "SCALE"])


def test_default_precision_is_recorded(fixtures, monkeypatch):
    monkeypatch.delenv("COURSE_PRECISION", raising=False)
    monkeypatch.delenv("TF_ENABLE_ONEDNN_OPTS", raising=False)
    result = runner.run_notebook(fixtures / "parameters.ipynb", "test")
    assert result.status == "ok", result.error
    assert result.precision_requested == "auto"
    assert result.precision in {"float32", "mixed_float16"}  # auto: float32 unless a modern GPU
    assert result.metrics["onednn"] is None  # TensorFlow's own default
    # mixed_float16 turns oneDNN's (slow) float16 CPU kernels off, unless the user chose
    mixed = runner.run_notebook(fixtures / "parameters.ipynb", "test", precision="mixed_float16")
    assert mixed.precision == "mixed_float16" and mixed.metrics["onednn"] == "0"
    chosen = runner.run_notebook(fixtures / "parameters.ipynb", "test", precision="mixed_float16",
                                 env={"TF_ENABLE_ONEDNN_OPTS": "1"})
    assert chosen.metrics["onednn"] == "1"


def test_unknown_parameter_names_the_notebooks_parameters(fixtures):
    proc = run_cli("--mode", "test", "parameters.ipynb", "-p", "DATSET=1", cwd=fixtures)
    assert proc.returncode == 2
    assert "no parameter DATSET" in proc.stderr
    assert "its parameters are: DATASET, EPOCHS, LIMIT, SCALE" in proc.stderr


@pytest.mark.parametrize(
    "arg, message",
    [("DATASET=cifar10", "not a Python literal"), ("=3", "NAME=VALUE"), ("EPOCHS", "NAME=VALUE")],
)
def test_bad_parameter_is_a_usage_error(fixtures, arg, message):
    proc = run_cli("--mode", "test", "parameters.ipynb", "-p", arg, cwd=fixtures)
    assert proc.returncode == 2 and message in proc.stderr


def test_parameters_need_a_parameters_cell(fixtures):
    proc = run_cli("--mode", "test", "records_metric.ipynb", "-p", "X=1", cwd=fixtures)
    assert proc.returncode == 2 and "no code cell tagged 'parameters'" in proc.stderr


def test_a_parameterised_run_is_never_stored(fixtures):
    before = (fixtures / "parameters.ipynb").read_bytes()
    proc = run_cli("--mode", "test", "--inplace", "parameters.ipynb", "-p", "EPOCHS=2", cwd=fixtures)
    assert proc.returncode == 2 and "--inplace" in proc.stderr
    with pytest.raises(ValueError, match="inplace"):
        runner.run_notebook(fixtures / "parameters.ipynb", "test", inplace=True, parameters={"EPOCHS": 2})
    assert (fixtures / "parameters.ipynb").read_bytes() == before


def test_bad_precision_is_rejected(fixtures):
    proc = run_cli("--mode", "test", "--precision", "float16", "parameters.ipynb", cwd=fixtures)
    assert proc.returncode == 2 and "mixed_float16" in proc.stderr
    with pytest.raises(ValueError, match="precision"):
        runner.run_notebook(fixtures / "parameters.ipynb", "test", precision="half")


def test_prelude_runs_first_and_is_never_stored(fixtures):
    path = fixtures / "records_metric.ipynb"
    prelude = "import course_utils\ncourse_utils.record('from_prelude', 7)"
    result = runner.run_notebook(path, "test", prelude=prelude)
    assert result.status == "ok", result.error
    assert result.metrics == {"from_prelude": 7, "answer": 42, "dataset": "fixture"}
    with pytest.raises(ValueError, match="prelude"):
        runner.run_notebook(path, "test", prelude=prelude, inplace=True)
