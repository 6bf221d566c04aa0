"""Where the course keeps things: the repository root, notebooks, data cache and artifacts.

The root is ``COURSE_ROOT`` when set, else the folder that holds this package (an
editable install or a clone), else the current directory. ``data/cache`` holds
downloaded datasets and ``data/artifacts`` what the notebooks save (trained models);
both are git-ignored.
"""

from __future__ import annotations

import os
from pathlib import Path


def repo_root() -> Path:
    """The course folder: ``COURSE_ROOT``, else the clone this package lives in, else cwd."""
    env = os.environ.get("COURSE_ROOT")
    if env:
        return Path(env).expanduser().resolve()
    here = Path(__file__).resolve().parent.parent
    if (here / "notebooks").is_dir() or (here / "pyproject.toml").is_file():
        return here
    return Path.cwd()


def notebooks_dir() -> Path:
    return repo_root() / "notebooks"


def data_dir() -> Path:
    return repo_root() / "data"


def cache_dir() -> Path:
    """Downloaded datasets (``data/cache``), created on first use."""
    path = data_dir() / "cache"
    path.mkdir(parents=True, exist_ok=True)
    return path


def artifacts_dir() -> Path:
    """Trained models and other outputs the notebooks save (``data/artifacts``)."""
    path = data_dir() / "artifacts"
    path.mkdir(parents=True, exist_ok=True)
    return path
