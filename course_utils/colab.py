"""Colab links and the Colab setup cell, all built from one setting in ``pyproject.toml``.

``[tool.course] repository`` and ``branch`` name the public repository. From them come
the README's "Open in Colab" badges and the first code cell of every notebook, which on
Colab clones the course and installs ``course_utils`` and elsewhere does nothing.
After changing the setting, ``python -m course_utils colab`` rewrites both.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from . import paths

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

SETUP_MARKER = "# Colab setup"
#: Where the setup cell clones the course on Colab (Colab's working folder is /content).
COLAB_TARGET = "/content/course"


def settings(pyproject: Path | None = None) -> tuple[str, str]:
    """``(repository URL, branch)`` from ``[tool.course]`` in ``pyproject.toml``."""
    pyproject = pyproject or paths.repo_root() / "pyproject.toml"
    with open(pyproject, "rb") as fh:
        cfg = tomllib.load(fh)["tool"]["course"]
    return cfg["repository"].rstrip("/"), cfg.get("branch", "main")


def colab_url(notebook: str, pyproject: Path | None = None) -> str:
    """The Colab address of ``notebooks/<notebook>`` in the public repository."""
    repo, branch = settings(pyproject)
    match = re.match(r"https://github\.com/([^/]+/[^/]+)$", repo)
    if not match:
        raise ValueError(f"[tool.course] repository must be https://github.com/OWNER/NAME, got {repo!r}")
    return f"https://colab.research.google.com/github/{match.group(1)}/blob/{branch}/notebooks/{notebook}"


def badge(notebook: str, pyproject: Path | None = None) -> str:
    """Markdown for an "Open in Colab" badge linking to ``notebook``."""
    return (
        f"[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"({colab_url(notebook, pyproject)})"
    )


def setup_cell_source(pyproject: Path | None = None, *, repository: str | None = None,
                      target: str = COLAB_TARGET) -> str:
    """The first code cell of every notebook: a no-op except on Colab.

    On Colab (``google.colab`` imported) it clones ``repository`` (default: ``[tool.course]`` in
    ``pyproject.toml``) into ``target`` unless a clone is already there, installs the helper
    package from it (editable), puts the clone first on ``sys.path`` and changes to its
    ``notebooks`` folder. ``repository`` and ``target`` exist for the test that runs the cell
    against a local clone in a temporary folder; the notebooks carry the defaults.
    """
    repo, branch = settings(pyproject)
    repo = repo if repository is None else repository
    if not isinstance(target, str) or not target.startswith("/") or any(c in target for c in " '\"$"):
        raise ValueError(f"target must be an absolute folder path without spaces or quotes, got {target!r}")
    return (
        f"{SETUP_MARKER}: on Colab, fetch the course and install its helpers; elsewhere nothing happens.\n"
        "import os\n"
        "import sys\n"
        "\n"
        'if "google.colab" in sys.modules:\n'
        f'    if not os.path.isdir("{target}/.git"):  # a re-run keeps the clone and what you saved\n'
        f"        !git clone -q --depth 1 --branch {branch} {repo} {target}\n"
        f"    %pip install -q -e {target}\n"
        f'    sys.path.insert(0, "{target}")\n'
        f"    %cd {target}/notebooks"
    )


def sync(root: Path | None = None) -> list[Path]:
    """Rewrite every notebook's Colab setup cell and the README badges; return changed files."""
    import nbformat

    root = root or paths.repo_root()
    pyproject = root / "pyproject.toml"
    changed = []
    source = setup_cell_source(pyproject)
    for nb_path in sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(nb_path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "code" and cell.source.startswith(SETUP_MARKER):
                if cell.source != source:
                    cell.source = source
                    nbformat.write(nb, nb_path)
                    changed.append(nb_path)
                break
    readme = root / "README.md"
    if readme.exists():
        text = readme.read_text(encoding="utf-8")
        new = re.sub(
            r"\(https://colab\.research\.google\.com/github/[^)]*/notebooks/([^)]+\.ipynb)\)",
            lambda m: f"({colab_url(m.group(1), pyproject)})",
            text,
        )
        if new != text:
            readme.write_text(new, encoding="utf-8")
            changed.append(readme)
    return changed
