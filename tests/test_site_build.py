"""The site build fails where it must: a notebook missing from the table of contents, a broken
internal link, a missing image (Sphinx runs with warnings as errors, as ``make site`` does).

Cheap: a three-page Sphinx project with the course's ``site/conf.py``, no notebook. Skipped
without Sphinx and myst-nb (``make test-oldest`` installs only the oldest TensorFlow/Keras set).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
missing = [m for m in ("sphinx", "myst_nb") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"site packages not installed: {missing}")

# site/build.py, under a name no installed package has (PyPI's `build` may be installed).
_spec = importlib.util.spec_from_file_location("course_site_build", ROOT / "site" / "build.py")
build = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(build)


def test_a_notebook_missing_from_the_toc_fails(tmp_path, monkeypatch):
    assert build.check_toc() == [p.stem for p in build.notebooks()]
    toc = (build.SITE / "toc.md").read_text(encoding="utf-8")
    site = tmp_path / "site"
    site.mkdir()
    (site / "toc.md").write_text(toc.replace("notebooks/03_object_detection\n", ""), encoding="utf-8")
    monkeypatch.setattr(build, "SITE", site)
    with pytest.raises(SystemExit, match=r"not in the table of contents \['03_object_detection'\]"):
        build.check_toc()
    (site / "toc.md").write_text(toc.replace("notebooks/03_object_detection\n", "")
                                 .replace("notebooks/04", "notebooks/03_object_detection\nnotebooks/04"),
                                 encoding="utf-8")
    assert build.check_toc()  # reinserted in its place: fine


def test_a_broken_link_and_a_missing_image_fail_the_build(tmp_path):
    # One small run with both faults (a Sphinx start costs seconds); the real site, which builds
    # clean with the same settings, is the browser test's.
    src = tmp_path / "src"
    src.mkdir()
    (src / "index.md").write_text("# Home\n\n```{toctree}\nother\n```\n", encoding="utf-8")
    (src / "other.md").write_text("# Other\n\nA [broken link](nowhere.md).\n\n![a figure](missing.png)\n",
                                  encoding="utf-8")
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-c", str(ROOT / "site"),
         str(src), str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode != 0
    assert "nowhere.md" in run.stderr and "missing.png" in run.stderr, run.stderr[-2000:]
