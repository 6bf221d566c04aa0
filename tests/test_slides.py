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
        _printing("print(table)", 60),                                       # 11 - (its text scrolls in a box)
        _printing("print(more)\n" * 12, 12),                                 # 12 subslide (too tall to add)
        new_markdown_cell("## Exercises\n\n**1.** Do it."),                 # 13 slide
        new_code_cell("print(DATA)\nanswer = None  # your answer here"),   # 14 skip
        new_markdown_cell("## Solutions"),                                   # 15 slide
        new_code_cell("answer = 3"),                                         # 16 skip
        new_markdown_cell("**1.** Because."),                                # 17 notes
        new_markdown_cell("## Summary\n\n- done"),                           # 18 slide
    ])


EXPECTED = ["slide", "slide", "skip", "skip", "skip", "slide", "-", "subslide", "-", "subslide",
            "notes", "-", "subslide", "slide", "skip", "slide", "skip", "notes", "slide"]


def test_the_rules_on_a_course_shaped_notebook():
    assert slides.slide_types(course_notebook()) == EXPECTED


def test_apply_then_check_is_clean_and_a_change_is_caught():
    nb = course_notebook()
    assert len(slides.problems(nb)) == len(nb.cells) + 1  # every cell and the rise settings
    assert slides.apply(nb) == len(nb.cells) + 1
    assert slides.problems(nb) == [] and slides.apply(nb) == 0
    assert nb.metadata["rise"] == slides.RISE_SETTINGS
    nb.cells[7].metadata["slideshow"]["slide_type"] = "-"
    del nb.cells[14].metadata["slideshow"]
    found = slides.problems(nb, "x.ipynb")
    assert len(found) == 2
    assert "x.ipynb cell 7" in found[0] and "'subslide'" in found[0]
    assert "cell 14" in found[1] and "no slide metadata" in found[1]


def test_a_heading_inside_a_code_fence_is_not_a_heading():
    nb = new_notebook(cells=[new_markdown_cell("# T"), new_markdown_cell("Run:\n```\n## not a heading\n```")])
    assert slides.slide_types(nb) == ["slide", "-"]


def test_a_cell_that_shows_a_widget_starts_a_sub_slide():
    # Stored, a widget is one line of text; live (RISE) it is as tall as a figure, so it must not
    # share the slide of the code before it.
    widget = new_code_cell("display(explorer)")
    widget.outputs = [new_output("display_data", data={
        slides.WIDGET_MIME: {"model_id": "0" * 32, "version_major": 2, "version_minor": 0},
        "text/plain": "HBox(children=(...))"})]
    nb = new_notebook(cells=[new_markdown_cell("# T"), new_code_cell("def explorer():\n    pass"), widget,
                             new_code_cell("print(1)")])
    assert slides.slide_types(nb) == ["slide", "-", "subslide", "-"]
    widget.outputs[0]["data"].pop(slides.WIDGET_MIME)  # the same cell, showing only text
    assert slides.slide_types(nb) == ["slide", "-", "-", "-"]


def _figure_sized(source, *sizes):
    cell = new_code_cell(source)
    cell.outputs = [new_output("display_data", data={"image/png": _png(w, h), "text/plain": "<Figure>"})
                    for w, h in sizes]
    return cell


def test_heights_read_the_stored_image_size_as_the_decks_scale_it():
    assert slides._png_height(_png(10, 123)) == 123
    assert slides._png_size(_png(17, 5)) == (17, 5)
    short, tall = _figure(height=100), _figure(height=450)
    assert slides.cell_height(tall) - slides.cell_height(short) == 350
    # scaled down to IMAGE_HEIGHT, and to IMAGE_WIDTH keeping the aspect ratio
    assert slides._images(_figure(height=900)) == [slides.IMAGE_HEIGHT]
    assert slides._images(_figure_sized("f()", (2 * slides.IMAGE_WIDTH, 600))) == [300]
    # code and text scroll in boxes of CODE_BOX and TEXT_BOX
    long = _printing("x = 1\n" * 100, 500)
    assert slides.cell_height(long) == (slides.CELL_FRAME + slides.CODE_BOX + slides.CODE_PADDING
                                        + slides.TEXT_BOX + slides.TEXT_PADDING)
    # consecutive prints are one output in a deck, so one box
    many = new_code_cell("for i in range(40): print(i)")
    many.outputs = [new_output("stream", name="stdout", text=f"{i}\n") for i in range(40)]
    assert slides.cell_height(many) == slides.cell_height(_printing("for i in range(40): print(i)", 40))


def test_a_figure_too_tall_with_its_code_shows_only_its_figures_shrunk_if_need_be():
    frame, pad = slides.CELL_FRAME, slides.IMAGE_PADDING
    code = "\n".join(f"step_{i}()" for i in range(20))  # 360 px of code, in a smaller box
    with_code = _figure_sized(code, (800, 400))
    assert slides.deck_layout(with_code) == (False, 1.0) and slides.output_only(with_code)
    assert slides.cell_height(with_code) == frame + 400 + pad
    assert slides.deck_layout(_figure_sized("plot()", (800, 400))) == (True, 1.0)  # fits with its code
    assert not slides.output_only(_printing(code, 10))  # no figure: the code stays
    # two figures: alone they are still too tall, so they shrink to fit
    two = _figure_sized("a()\nb()", (800, 300), (800, 300))
    show_code, scale = slides.deck_layout(two)
    assert not show_code and scale == pytest.approx((slides.SLIDE_HEIGHT - frame - 2 * pad) / 600)
    assert slides.cell_height(two) == slides.SLIDE_HEIGHT
    # three need more shrinking than MIN_IMAGE_SCALE allows: the check names the cell
    three = _figure_sized("a()\nb()\nc()", (800, 300), (800, 300), (800, 300))
    assert slides.deck_layout(three) == (True, 1.0)
    nb = new_notebook(cells=[new_markdown_cell("# T"), three, two])
    slides.apply(nb)
    assert slides.overflows(nb) == [(1, slides.cell_height(three))]
    [found] = slides.problems(nb, "x.ipynb")
    assert "x.ipynb cell 1" in found and f"taller than a {slides.SLIDE_HEIGHT} px slide" in found


def test_a_long_table_splits_between_rows_with_its_header():
    rows = [f"| row {i} | {'a long cell ' * 12} |" for i in range(40)]
    table = "| name | text |\n|---|---|\n" + "\n".join(rows)
    pieces = slides.split_markdown("## A table\n\n" + table)
    tables = [p for p in pieces if p.startswith("| name")]
    assert len(tables) > 1
    assert all(t.splitlines()[1] == "|---|---|" for t in tables)
    assert [r for t in tables for r in t.splitlines()[2:]] == rows
    assert all(slides._markdown_height(p) <= slides.SLIDE_HEIGHT for p in pieces)


REFERENCES = "## References\n\n" + "\n".join(
    f"- A. Author{i} and B. Author. *A title of some length, number {i}.* A Journal, {i}, 2020." for i in range(40))


def test_a_tall_markdown_cell_splits_into_pieces_that_fit_and_stay_shown():
    pieces = slides.split_markdown(REFERENCES)
    assert len(pieces) > 1
    for piece in pieces:
        assert slides._markdown_height(piece) <= slides.SLIDE_HEIGHT
        assert slides._heading_level(piece) is not None or not slides._is_derivation(piece)
    # nothing lost, nothing reordered, the list items stay one list per piece
    assert [line for p in pieces for line in p.splitlines() if line.strip()] == \
        [line for line in REFERENCES.splitlines() if line.strip()]
    assert all("\n\n" not in p for p in pieces[1:])
    assert slides.split_markdown("## Short\n\nfits") == ["## Short\n\nfits"]


def test_a_split_never_cuts_a_code_fence_or_a_display_equation():
    fence = "```\n" + "line\n\n" * 30 + "```"
    equation = "$$\n" + "a \\\\\n\n" * 30 + "$$"
    for block in (fence, equation):
        source = "## S\n\n" + "Prose. " * 300 + "\n\n" + block + "\n\nafter"
        pieces = slides.split_markdown(source)
        assert any(block in p for p in pieces), "the block was cut"


def test_the_command_splits_a_tall_markdown_cell(tmp_path):
    path = tmp_path / "99_x.ipynb"
    nbformat.write(new_notebook(cells=[new_markdown_cell("# T"), new_markdown_cell(REFERENCES)]), path)
    assert cli(["slides", "--check", str(path)]) == 1
    assert cli(["slides", str(path)]) == 0
    stored = nbformat.read(path, as_version=4)
    assert len(stored.cells) > 2 and stored.cells[1].source.startswith("## References")
    assert cli(["slides", "--check", str(path)]) == 0


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
