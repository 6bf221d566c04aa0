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


def test_every_shown_code_cell_has_its_live_time():
    """The lecturer's page gives each section's test-mode seconds from site/live_times.json, keyed
    by cell id: a code cell added or replaced since the last measurement would silently count as
    0 s. Re-measure the notebooks named: ``.venv/bin/python site/measure_live_times.py NN``."""
    import json

    import nbformat

    from course_utils import slides

    times = json.loads((ROOT / "site" / "live_times.json").read_text(encoding="utf-8"))["notebooks"]
    stale = {}
    for path in build.notebooks():
        nb = nbformat.read(path, as_version=4)
        measured = times.get(path.stem, {}).get("cell_seconds", {})
        assert isinstance(measured, dict), f"{path.stem}: cell_seconds must map cell ids to seconds"
        missing = [i for i, (cell, kind) in enumerate(zip(nb.cells, slides.slide_types(nb)))
                   if cell.cell_type == "code" and kind != "skip" and cell.id not in measured]
        if missing:
            stale[path.name[:2]] = missing
    assert not stale, f"cells without a live time (notebook: cell indices): {stale}"


def test_a_deck_shows_a_tall_figure_cell_as_the_slide_estimate_does(tmp_path):
    """site/build.py's deck_notebook applies course_utils.slides.deck_layout: prints merged, the
    code of a too-tall figure cell removed, and each figure drawn at the estimated width."""
    import nbformat
    from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

    from course_utils import slides

    sys.path.insert(0, str(ROOT / "tests"))
    from test_slides import _png

    cell = new_code_cell("a()\nb()")
    cell.outputs = [new_output("stream", name="stdout", text="one\n"),
                    new_output("stream", name="stdout", text="two\n")]
    cell.outputs += [new_output("display_data", data={"image/png": _png(800, 300), "text/plain": "<F>"})
                     for _ in range(2)]
    path = tmp_path / "99_x.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# T"), cell]), path)
    show_code, scale = slides.deck_layout(nbformat.read(path, as_version=4).cells[1])
    assert not show_code and scale < 1
    deck = build.deck_notebook(path).cells[1]
    assert deck.metadata["transient"] == {"remove_source": True}
    assert [o.output_type for o in deck.outputs] == ["stream", "display_data", "display_data"]
    assert deck.outputs[0].text == "one\ntwo\n"
    assert [o.metadata["image/png"]["width"] for o in deck.outputs[1:]] == [int(800 * scale)] * 2
    assert slides.cell_height(deck) == slides.cell_height(cell)  # the deck's cell fits as estimated
