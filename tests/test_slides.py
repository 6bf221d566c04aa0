"""Slide metadata by rules (course_utils.slides) and its command, on small made-up notebooks."""

from __future__ import annotations

import base64
import struct
import zlib

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from course_utils import colab, slides
from course_utils.__main__ import main as cli


def _png(width: int, height: int) -> str:
    """A valid grey PNG of the given size, base64 (as a notebook stores it)."""
    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def _figure(source="plt.plot(x)\nplt.show()", height=300):
    cell = new_code_cell(source)
    cell.outputs = [new_output("display_data", data={"image/png": _png(40, height), "text/plain": "<Figure>"})]
    return cell


def _printing(source, lines):
    cell = new_code_cell(source)
    cell.outputs = [new_output("stream", name="stdout", text="".join(f"line {i}\n" for i in range(lines)))]
    return cell


def course_notebook():
    params = new_code_cell("EPOCHS = course_utils.budget(test=1, quick=2, full=3)")
    params.metadata["tags"] = ["parameters"]
    return new_notebook(cells=[
        new_markdown_cell("# 99 · A title\n\nWhy this matters."),          # 0 slide
        new_markdown_cell("## Learning objectives\n\n- one\n- two"),         # 1 slide
        new_code_cell(colab.setup_cell_source()),                            # 2 skip
        new_code_cell("import course_utils\n\ninfo = course_utils.setup(seed=0)\nimport numpy as np"),  # 3 skip
        params,                                                              # 4 skip
        new_markdown_cell("## 1 · A section\n\nShort prose."),              # 5 slide
        _printing("print(1)", 2),                                            # 6 -
        _figure(),                                                           # 7 subslide
        new_markdown_cell("What to look at in the figure."),                 # 8 -
        new_markdown_cell("### A subsection"),                               # 9 subslide
        new_markdown_cell("$$a$$\n\n$$b$$\n\n$$c$$\n\nthree equations"),     # 10 notes
        _printing("print(table)", 60),                                       # 11 subslide (too tall to add)
        new_markdown_cell("## Exercises\n\n**1.** Do it."),                 # 12 slide
        new_code_cell("print(DATA)\nanswer = None  # your answer here"),   # 13 skip
        new_markdown_cell("## Solutions"),                                   # 14 slide
        new_code_cell("answer = 3"),                                         # 15 skip
        new_markdown_cell("**1.** Because."),                                # 16 notes
        new_markdown_cell("## Summary\n\n- done"),                           # 17 slide
    ])


EXPECTED = ["slide", "slide", "skip", "skip", "skip", "slide", "-", "subslide", "-", "subslide",
            "notes", "subslide", "slide", "skip", "slide", "skip", "notes", "slide"]


def test_the_rules_on_a_course_shaped_notebook():
    assert slides.slide_types(course_notebook()) == EXPECTED


def test_apply_then_check_is_clean_and_a_change_is_caught():
    nb = course_notebook()
    assert len(slides.problems(nb)) == len(nb.cells) + 1  # every cell and the rise settings
    assert slides.apply(nb) == len(nb.cells) + 1
    assert slides.problems(nb) == [] and slides.apply(nb) == 0
    assert nb.metadata["rise"] == slides.RISE_SETTINGS
    nb.cells[7].metadata["slideshow"]["slide_type"] = "-"
    del nb.cells[13].metadata["slideshow"]
    found = slides.problems(nb, "x.ipynb")
    assert len(found) == 2
    assert "x.ipynb cell 7" in found[0] and "'subslide'" in found[0]
    assert "cell 13" in found[1] and "no slide metadata" in found[1]


def test_a_heading_inside_a_code_fence_is_not_a_heading():
    nb = new_notebook(cells=[new_markdown_cell("# T"), new_markdown_cell("Run:\n```\n## not a heading\n```")])
    assert slides.slide_types(nb) == ["slide", "-"]


def test_heights_read_the_stored_image_size():
    assert slides._png_height(_png(10, 123)) == 123
    short, tall = _figure(height=100), _figure(height=900)
    assert slides.cell_height(tall) - slides.cell_height(short) == 800
    nb = new_notebook(cells=[new_markdown_cell("# T"), tall, short])
    assert slides.overflows(nb) == [(1, slides.cell_height(tall))]


def test_bad_input_names_the_argument():
    with pytest.raises(ValueError, match="nb must be a notebook"):
        slides.slide_types({"cells": []})
    with pytest.raises(ValueError, match="argv: unknown option '--chek'"):
        slides.main(["--chek"])


def test_the_command_writes_and_checks(tmp_path, capsys):
    path = tmp_path / "99_x.ipynb"
    nbformat.write(course_notebook(), path)
    assert cli(["slides", "--check", str(path)]) == 1
    assert "no slide metadata" in capsys.readouterr().out
    assert cli(["slides", str(path)]) == 0
    assert cli(["slides", "--check", str(path)]) == 0
    stored = nbformat.read(path, as_version=4)
    assert [slides.current(c) for c in stored.cells] == EXPECTED
    assert cli(["slides", "--check", str(tmp_path / "missing.ipynb")]) == 2
