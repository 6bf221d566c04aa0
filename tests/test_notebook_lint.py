"""Notebook lint: structure and hygiene every course notebook must have.

Checks valid nbformat, stored outputs from a clean run (execution counts 1..N, no
errors), the required sections, one ``parameters`` cell, checked cells, the Colab setup
cell, no absolute paths, no ``pip`` outside the Colab guard, and the slide metadata that
``python -m course_utils slides`` writes (see ``course_utils.slides``).
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from course_utils import colab, slides

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
REQUIRED_SECTIONS = ("Learning objectives", "Summary", "References")
COLAB_GUARD = '"google.colab" in sys.modules'
# Absolute paths of a particular machine: POSIX home/work/tmp folders and Windows drives.
ABSOLUTE_PATH = re.compile(r"""(?<![\w:/.])(/home/|/Users/|/work/|/tmp/|/root/|[A-Za-z]:\\\\)""")
PIP = re.compile(r"^\s*[!%]\s*pip\b", re.MULTILINE)


def test_notebooks_exist():
    assert NOTEBOOKS, "no notebooks in notebooks/"
    assert NOTEBOOKS[0].name == "00_setup.ipynb"
    prefixes = [p.name[:2] for p in NOTEBOOKS]
    assert prefixes == sorted(set(prefixes)), f"duplicate or unordered prefixes: {prefixes}"


def _load(path: Path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def _headings(nb) -> list[str]:
    heads = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heads += [m.group(2).strip() for m in re.finditer(r"^(#+)\s+(.*)$", cell.source, re.M)]
    return heads


@pytest.fixture(params=NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def notebook(request):
    return request.param, _load(request.param)


def test_clean_execution(notebook):
    path, nb = notebook
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: execution counts {counts} are not 1..N; restart and run all "
        "(python -m course_utils run --mode quick --inplace NOTEBOOK)"
    )
    errors = [
        (i, o.get("ename"))
        for i, c in enumerate(code)
        for o in c.get("outputs", [])
        if o.output_type == "error"
    ]
    assert not errors, f"{path.name}: stored error outputs in code cells {errors}"


def test_title_and_sections(notebook):
    path, nb = notebook
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{path.name}: the first cell must be a markdown title ('# ...')"
    )
    heads = _headings(nb)
    for section in REQUIRED_SECTIONS:
        assert any(h.lower().startswith(section.lower()) for h in heads), (
            f"{path.name}: no '{section}' section; headings are {heads}"
        )


def test_one_parameters_cell(notebook):
    path, nb = notebook
    tagged = [c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(tagged) == 1, f"{path.name}: {len(tagged)} cells tagged 'parameters', expected 1"
    assert tagged[0].cell_type == "code"


def test_checked_cells(notebook):
    path, nb = notebook
    if path.name.startswith("00_"):
        pytest.skip("the setup notebook's outputs describe the machine")
    checked = [c for c in nb.cells if c.cell_type == "code" and "# NBVAL_CHECK_OUTPUT" in c.source]
    assert checked, f"{path.name}: no cell carries # NBVAL_CHECK_OUTPUT"
    for cell in checked:
        assert cell.get("outputs"), f"{path.name}: a checked cell has no stored output"


def test_colab_setup_cell(notebook):
    path, nb = notebook
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and code[0].source == colab.setup_cell_source(ROOT / "pyproject.toml"), (
        f"{path.name}: the first code cell must be the Colab setup cell "
        "(python -m course_utils colab rewrites it)"
    )


def test_no_absolute_paths_or_unguarded_pip(notebook):
    path, nb = notebook
    for i, cell in enumerate(nb.cells):
        source = cell.source
        if cell.cell_type == "code" and not source.startswith(colab.SETUP_MARKER):
            assert not ABSOLUTE_PATH.search(source), f"{path.name} cell {i}: absolute path in source"
        if PIP.search(source):
            assert COLAB_GUARD in source, f"{path.name} cell {i}: pip outside the Colab guard"
        for out in cell.get("outputs", []):
            if out.get("name") == "stderr":
                continue
            text = out.get("text", "") + str(out.get("data", {}).get("text/plain", ""))
            assert str(ROOT) not in text, f"{path.name} cell {i}: output shows this machine's path"


def test_slide_metadata(notebook):
    path, nb = notebook
    found = slides.problems(nb, path.name)
    assert not found, (
        f"{path.name}: slide metadata missing or out of date in {len(found)} place(s); run "
        "`python -m course_utils slides` (rules in course_utils/slides.py):\n" + "\n".join(found[:10])
    )
