"""Colab badges and setup cells all come from the one repository setting in pyproject.toml."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager

from course_utils import colab

ROOT = Path(__file__).resolve().parent.parent


def test_settings_read_from_pyproject():
    repo, branch = colab.settings(ROOT / "pyproject.toml")
    assert repo.startswith("https://github.com/") and branch


def test_url_and_badge():
    repo, branch = colab.settings(ROOT / "pyproject.toml")
    owner_name = repo.removeprefix("https://github.com/")
    url = colab.colab_url("01_convolution_math.ipynb", ROOT / "pyproject.toml")
    assert url == (
        f"https://colab.research.google.com/github/{owner_name}/blob/{branch}/notebooks/01_convolution_math.ipynb"
    )
    assert colab.badge("01_convolution_math.ipynb", ROOT / "pyproject.toml").endswith(f"({url})")


def test_non_github_repository_is_rejected(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.course]\nrepository = "https://example.org/x"\n')
    with pytest.raises(ValueError, match="repository"):
        colab.colab_url("00_setup.ipynb", pyproject)


def test_setup_cell_is_valid_ipython_and_guarded():
    source = colab.setup_cell_source(ROOT / "pyproject.toml")
    python = TransformerManager().transform_cell(source)
    compile(python, "<setup cell>", "exec")
    body = source.split('if "google.colab" in sys.modules:')[1]
    assert "%pip install" in body and "git clone" in body  # both only inside the guard
    # Re-running the cell must not fail on (or replace) an existing clone.
    guard, clone = [line for line in body.splitlines() if "/content/course/.git" in line or "git clone" in line]
    assert guard.strip().startswith("if not os.path.isdir(") and clone.startswith(" " * 8 + "!git clone")
    repo, _ = colab.settings(ROOT / "pyproject.toml")
    assert repo in source


def test_readme_badges_cover_every_notebook():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    linked = re.findall(r"\(https://colab\.research\.google\.com/github/[^)]*\)", readme)
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        url = colab.colab_url(nb.name, ROOT / "pyproject.toml")
        assert f"({url})" in linked, f"README has no Colab badge for {nb.name}"
    for link in linked:
        name = link.rsplit("/", 1)[1].rstrip(")")
        assert (ROOT / "notebooks" / name).exists(), f"README links a missing notebook {name}"


def test_sync_rewrites_a_changed_repository(tmp_path):
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    assert colab.sync(tmp_path) == []  # already in sync
    text = (tmp_path / "pyproject.toml").read_text()
    repo, _ = colab.settings(ROOT / "pyproject.toml")
    (tmp_path / "pyproject.toml").write_text(text.replace(repo, "https://github.com/someone/fork"))
    changed = colab.sync(tmp_path)
    assert tmp_path / "README.md" in changed
    assert "github/someone/fork/blob/" in (tmp_path / "README.md").read_text()
    for nb_path in (tmp_path / "notebooks").glob("*.ipynb"):
        first = next(c for c in nbformat.read(nb_path, as_version=4).cells if c.cell_type == "code")
        assert "https://github.com/someone/fork" in first.source


def test_colab_command_with_an_argument_rewrites_nothing(monkeypatch, capsys):
    """`python -m course_utils colab --help` prints the usage; it must not run the rewrite."""
    from course_utils import __main__ as cli

    def no_sync(*args, **kwargs):
        raise AssertionError("sync ran")

    monkeypatch.setattr(colab, "sync", no_sync)
    assert cli.main(["colab", "--help"]) == 0
    assert "colab" in capsys.readouterr().out
    assert cli.main(["colab", "--bogus"]) == 2
