"""Slide metadata for every notebook, derived from the notebook's structure by rules.

Each cell carries ``metadata.slideshow.slide_type``, which RISE (live slides in JupyterLab) and
nbconvert's reveal.js export (``make slides``) read. ``python -m course_utils slides`` writes it
into every notebook and ``python -m course_utils slides --check`` lists the cells whose metadata
is missing or differs from what the rules give (the notebook lint runs the same check). No list
of cells is kept anywhere: a new notebook gets its slides in one step.

The rules, in the order they are tried for each cell:

1. The title cell (the first cell, ``# ...``) is a ``slide``.
2. Inside the ``## Solutions`` section, markdown is ``notes`` (the lecturer's answer key) and
   code is ``skip``; the section's heading is a ``slide`` as in rule 3.
3. A markdown cell with a ``## `` heading on any line starts a ``slide``; one with a ``### ``
   heading (and no ``## ``) starts a ``subslide``.
4. Housekeeping code is ``skip``: the Colab setup cell, the cell that calls
   ``course_utils.setup(`` (imports and the summary line), the cell tagged ``parameters``, and
   the exercises' answer stubs (code with a line ``answer = None``).
5. A long derivation, a markdown cell without a heading that has at least
   :data:`DERIVATION_BLOCKS` display equations (``$$ ... $$``) or more than
   :data:`LONG_MARKDOWN_LINES` source lines, is ``notes``: the lecturer says it, the slide shows
   the code and the picture.
6. A code cell with an image in its stored output is the key figure of its part of the section:
   it starts a ``subslide`` of its own (the code and the figure; the prose after it continues that
   sub-slide while it fits). So does a cell that shows an ipywidgets widget (01's kernel explorer,
   05's latent explorer): its stored output is a line of text, but live it is as tall as a figure.
7. Every other cell continues the current slide (``-``) while the estimated height of that
   slide stays within :data:`SLIDE_HEIGHT` pixels (a 1280x720 screen less reveal.js's margins);
   the cell that would overflow it starts a ``subslide``.

The notebook itself carries :data:`RISE_SETTINGS` (``metadata.rise``): RISE lays the slides out
at 1280x720 in the theme the static decks use, and lets a slide taller than the screen scroll.

Heights are estimated from the stored notebook as the static decks (``make slides``) lay it out
(:func:`cell_height`, with constants measured in headless Chromium): markdown from its wrapped
lines, headings, display equations, lists and tables; code in a box of at most :data:`CODE_BOX`
pixels that scrolls, each text output (consecutive prints merged) in one of :data:`TEXT_BOX`;
each stored image at its stored size scaled down to :data:`IMAGE_WIDTH` by :data:`IMAGE_HEIGHT`.
A figure cell too tall for a slide with its code shows only its outputs in the decks, its
figures shrunk to fit if need be (:func:`deck_layout`; ``site/build.py`` applies it, and the code
stays in the notebook and on its web page).

A markdown cell taller than a slide is split at its paragraphs, list items and table rows
(:func:`split_markdown`, run by the command) so that the rules can page it. :func:`overflows`
lists any shown cell still taller than a slide; the check, and so the notebook lint, fails on
one (the fix is to split the cell or shrink its figure). The browser test measures every slide
of every deck against 720 px. Live slides (RISE) show all the code and let a tall slide scroll.
"""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path
from typing import Any, Iterable

from . import colab, paths

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
#: The output type by which a stored output shows a widget.
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
#: Notebook metadata for RISE (live slides): the slide size, scrolling of tall slides, and
#: reveal.js's "white" theme, whose font ships with RISE (its default theme fetches two fonts from
#: fonts.googleapis.com: nothing on a slide may need the internet).
RISE_SETTINGS = {"width": 1280, "height": 720, "scroll": True, "theme": "white"}
#: Usable height of one slide's cells, in CSS pixels: a 1280x720 slide less the 40 px a deck's
#: slide adds around its cells, less a margin for the estimates' error.
SLIDE_HEIGHT = 620
#: Markdown without a heading and with at least this many display equations is a derivation.
DERIVATION_BLOCKS = 3
#: Markdown without a heading and with more source lines than this is read out, not shown.
LONG_MARKDOWN_LINES = 14
#: Characters of prose per rendered line at 1280 px; pixels per rendered line of each kind.
#: Rendered markdown on a deck's slide, in CSS pixels: characters per line of prose, and pixels
#: per line, per heading of level 1-3, per display equation, per block (its margins), per list
#: item, per table row line and per line of a fenced code block. Fitted (non-negative least
#: squares) to every markdown cell of the course's decks as headless Chromium draws them with
#: MathJax's output in place, then raised by 15% so that a slide is rarely fuller than
#: estimated; tests/test_site_browser.py measures every slide.
PROSE_CHARS = 120
MARKDOWN_PIXELS = dict(lines=27, h1=102, h2=65, h3=60, equations=54, blocks=20, items=8,
                       table_lines=23, code_lines=18)
MARKDOWN_BASE = 15
CODE_LINE = 18
#: The decks' boxes, in CSS pixels (site/build.py's deck_css sets the same): an image is scaled
#: down to fit IMAGE_WIDTH x IMAGE_HEIGHT; code and a text output scroll inside a box of at most
#: CODE_BOX and TEXT_BOX.
IMAGE_WIDTH, IMAGE_HEIGHT, CODE_BOX, TEXT_BOX = 1180, 560, 270, 270
#: The most a deck shrinks a cell's figures to fit them to a slide (below this, split the cell).
MIN_IMAGE_SCALE = 0.6
#: Measured around them: a code cell's frame, its input area's padding, each text output's
#: padding and each image output's (the figure's own margins), and characters per line of text
#: output before it wraps.
CELL_FRAME, CODE_PADDING, TEXT_PADDING, IMAGE_PADDING, TEXT_CHARS = 15, 19, 12, 55, 125
_HEADING = re.compile(r"^(#{1,6})\s+\S", re.MULTILINE)
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", re.DOTALL)


def _heading_level(source: str) -> int | None:
    """The smallest heading level in a markdown cell (1 for ``#``), or None."""
    levels = [len(m.group(1)) for m in _HEADING.finditer(_strip_fences(source))]
    return min(levels) if levels else None


def _strip_fences(source: str) -> str:
    """Markdown without fenced code blocks (a ``# comment`` inside one is not a heading)."""
    return re.sub(r"^```.*?^```", "", source, flags=re.MULTILINE | re.DOTALL)


def _png_size(data: str) -> tuple[int, int]:
    """``(width, height)`` in pixels of a base64 PNG (its IHDR chunk), (0, 0) if it is not a PNG."""
    raw = base64.b64decode(data[:64])
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        return 0, 0
    return struct.unpack(">II", raw[16:24])


def _png_height(data: str) -> int:
    """Height in pixels of a base64 PNG, 0 if it is not a PNG."""
    return _png_size(data)[1]


def _image_sizes(cell: Any) -> list[tuple[float, float]]:
    """``(width, height)`` in CSS pixels at which a deck would draw each image of a code cell's
    stored outputs before fitting it to the cell: the stored size (or the display size a retina
    figure's metadata gives) scaled down to IMAGE_WIDTH x IMAGE_HEIGHT."""
    sizes = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            width, height = _png_size(data["image/png"])
            size = out.get("metadata", {}).get("image/png", {})
            if size.get("width") and width:
                width, height = size["width"], size.get("height", height * size["width"] / width)
            if not (width and height):
                width, height = IMAGE_WIDTH, 300
            scale = min(1.0, IMAGE_HEIGHT / height, IMAGE_WIDTH / width)
            sizes.append((width * scale, height * scale))
        elif "image/jpeg" in data or "image/svg+xml" in data:
            sizes.append((IMAGE_WIDTH, 300.0))
    return sizes


def _images(cell: Any) -> list[int]:
    """Heights, in CSS pixels on a deck's slide, of the images in a code cell's stored outputs."""
    return [round(h) for _, h in _image_sizes(cell)]
def _widgets(cell: Any) -> bool:
    """True when ``cell``'s stored outputs show an ipywidgets widget."""
    return any(WIDGET_MIME in out.get("data", {}) for out in cell.get("outputs", []))


def _texts(cell: Any) -> list[str]:
    """The text outputs of a code cell a deck shows: consecutive stream outputs of one name as one
    (as the decks merge them), stderr left out (hidden there)."""
    found, last = [], None
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            if out.get("name") == last:
                found[-1] += out.get("text", "")
            elif out.get("name") != "stderr":
                found.append(out.get("text", ""))
            last = out.get("name")
            continue
        last = None
        if "image/png" not in out.get("data", {}) and "text/plain" in out.get("data", {}):
            found.append(str(out["data"]["text/plain"]))
    return found


def _text_lines(cell: Any) -> int:
    return sum(len(text.rstrip("\n").splitlines()) for text in _texts(cell))


def _input_height(cell: Any) -> int:
    return min(len(cell.source.splitlines()) * CODE_LINE, CODE_BOX) + CODE_PADDING


def _text_height(cell: Any) -> int:
    height = 0
    for text in _texts(cell):
        lines = sum(1 + len(line.expandtabs()) // TEXT_CHARS for line in text.rstrip("\n").splitlines())
        height += min(CODE_LINE * lines, TEXT_BOX) + TEXT_PADDING
    return height


def deck_layout(cell: Any) -> tuple[bool, float]:
    """How a deck shows a code cell: ``(show its code, scale of its images)``.

    A cell that fits a slide is shown whole. A figure cell that does not shows its outputs only
    (the code stays in the notebook and on its web page), with its images shrunk, to no less
    than :data:`MIN_IMAGE_SCALE`, if that is what it takes to fit. A cell that fits in none of
    these ways is shown whole and :func:`overflows` names it."""
    images = sum(_images(cell))
    fixed = CELL_FRAME + _text_height(cell) + IMAGE_PADDING * len(_images(cell))
    if cell.cell_type != "code" or _input_height(cell) + fixed + images <= SLIDE_HEIGHT or not images:
        return True, 1.0
    scale = min(1.0, (SLIDE_HEIGHT - fixed) / images)
    if scale >= MIN_IMAGE_SCALE:
        return False, scale
    return True, 1.0


def output_only(cell: Any) -> bool:
    """Whether the decks show only the outputs of ``cell`` (:func:`deck_layout`)."""
    return cell.cell_type == "code" and not deck_layout(cell)[0]


def image_scale(cell: Any) -> float:
    """The factor by which the decks shrink ``cell``'s images to fit it to a slide (1: none)."""
    return deck_layout(cell)[1] if cell.cell_type == "code" else 1.0


_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+\.)\s")
_TABLE_RULE = re.compile(r"^\s*\|[-:| ]+\|\s*$")


def _visible(text: str) -> str:
    """Markdown as it reads: link targets, emphasis and code marks and TeX backslashes dropped."""
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"[*`$\\]", "", text)


def _markdown_features(source: str) -> dict[str, int]:
    """What the height of rendered markdown depends on. Soft-wrapped source lines are joined into
    the paragraph or list item they belong to, which then wraps at :data:`PROSE_CHARS`; a table
    row is as tall as its longest cell wrapped in its column."""
    found = dict(lines=0, h1=0, h2=0, h3=0, equations=len(_DISPLAY_MATH.findall(source)), blocks=0,
                 items=0, table_lines=0, code_lines=0)
    found["blocks"] = found["equations"]
    text: list[str] = []  # the paragraph or list item being read

    def flush():
        if text:
            found["lines"] += 1 + len(_visible(" ".join(text))) // PROSE_CHARS
            text.clear()

    previous, fence = "blank", False
    for line in _DISPLAY_MATH.sub("\n\n", source).splitlines():
        if line.strip().startswith("```"):
            flush()
            fence = not fence
            found["blocks"] += fence
            previous = "blank"
            continue
        if fence:
            found["code_lines"] += 1
            continue
        heading = _HEADING.match(line)
        if heading or not line.strip() or _LIST_ITEM.match(line) or line.lstrip().startswith("|"):
            flush()
        if heading:
            found[f"h{min(len(heading.group(1)), 3)}"] += 1
            previous = "blank"
        elif not line.strip():
            previous = "blank"
        elif line.lstrip().startswith("|"):
            found["blocks"] += previous != "table"
            previous = "table"
            if not _TABLE_RULE.match(line):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                width = max(1, PROSE_CHARS // max(1, len(cells)))
                found["table_lines"] += max(1 + len(_visible(c)) // width for c in cells)
        else:
            found["blocks"] += previous == "blank"
            found["items"] += bool(_LIST_ITEM.match(line))
            text.append(line.strip())
            previous = "text"
    flush()
    return found


def _markdown_height(source: str) -> int:
    """Estimated height of rendered markdown on a deck's slide (see :data:`MARKDOWN_PIXELS`)."""
    features = _markdown_features(source)
    return round(MARKDOWN_BASE + sum(MARKDOWN_PIXELS[k] * v for k, v in features.items()))


def cell_height(cell: Any) -> int:
    """Estimated height of ``cell`` on a deck's 1280x720 slide, in CSS pixels (see the module doc)."""
    if cell.cell_type == "markdown":
        return _markdown_height(cell.source)
    if cell.cell_type == "code":
        show_code, scale = deck_layout(cell)
        images = sum(_images(cell))
        return round(CELL_FRAME + (_input_height(cell) if show_code else 0) + _text_height(cell)
                     + IMAGE_PADDING * len(_images(cell)) + scale * images)
    return 0


def _blocks(source: str) -> list[str]:
    """``source`` cut where a slide may break: at blank lines and before list items, never inside a
    fenced code block, a display equation or a table."""
    blocks: list[list[str]] = [[]]
    fence = math = False
    for line in source.splitlines():
        stripped = line.strip()
        free = not fence and not math
        if free and not stripped:
            blocks.append([])
            continue
        if free and blocks[-1] and re.match(r"(?:[-*+]|\d+\.)\s", line):
            blocks.append([])  # a top-level list item may start a new piece
        blocks[-1].append(line)
        if stripped.startswith("```"):
            fence = not fence
        elif not fence and stripped.count("$$") % 2:
            math = not math
    return ["\n".join(b) for b in blocks if b]


def _split_table(block: str) -> list[str]:
    """A markdown table taller than a slide as several tables that fit, each with the header and
    its rule line; any other block unchanged."""
    lines = block.splitlines()
    if (len(lines) < 3 or not all(line.lstrip().startswith("|") for line in lines)
            or not _TABLE_RULE.match(lines[1]) or _markdown_height(block) <= SLIDE_HEIGHT):
        return [block]
    head, tables = lines[:2], [[]]
    for row in lines[2:]:
        if tables[-1] and _markdown_height("\n".join(head + tables[-1] + [row])) > SLIDE_HEIGHT:
            tables.append([])
        tables[-1].append(row)
    return ["\n".join(head + rows) for rows in tables]


def _fits(piece: str) -> bool:
    """A piece of a split cell fits a slide and stays shown (is not read out as a derivation)."""
    return _markdown_height(piece) <= SLIDE_HEIGHT and (
        _heading_level(piece) is not None or not _is_derivation(piece))


def split_markdown(source: str) -> list[str]:
    """``source`` as pieces that each fit a slide (:data:`SLIDE_HEIGHT`) and stay shown, cut at
    paragraphs and list items; a single block taller than a slide stays whole. One piece if the
    whole already fits."""
    if _markdown_height(source) <= SLIDE_HEIGHT:
        return [source]
    pieces: list[list[str]] = [[]]
    for block in (part for b in _blocks(source) for part in _split_table(b)):
        if pieces[-1] and not _fits("\n\n".join(pieces[-1] + [block])):
            pieces.append([])
        pieces[-1].append(block)
    joined = []
    for piece in pieces:
        # list items cut apart above were one list: keep them tight, paragraphs apart
        text = ""
        for block in piece:
            tight = text and re.match(r"(?:[-*+]|\d+\.)\s", block) and re.search(
                r"^(?:[-*+]|\d+\.)\s", text.rsplit("\n\n", 1)[-1], re.MULTILINE)
            text = block if not text else text + ("\n" if tight else "\n\n") + block
        joined.append(text)
    return joined


def _is_housekeeping(cell: Any) -> bool:
    source = cell.source
    tags = cell.get("metadata", {}).get("tags", [])
    return (
        source.startswith(colab.SETUP_MARKER)
        or "course_utils.setup(" in source
        or "parameters" in tags
        or re.search(r"^answer = None\b", source, re.MULTILINE) is not None
    )


def _is_derivation(source: str) -> bool:
    return (len(_DISPLAY_MATH.findall(source)) >= DERIVATION_BLOCKS
            or len(source.splitlines()) > LONG_MARKDOWN_LINES)


def slide_types(nb: Any) -> list[str]:
    """The ``slide_type`` of every cell of ``nb`` by the module's rules, in cell order."""
    cells = getattr(nb, "cells", None)
    if cells is None:
        raise ValueError(f"nb must be a notebook with .cells (nbformat.read), got {type(nb).__name__}")
    types: list[str] = []
    in_solutions = False
    height = 0  # estimated height of the slide being filled
    for index, cell in enumerate(cells):
        level = _heading_level(cell.source) if cell.cell_type == "markdown" else None
        if level is not None and level <= 2:
            in_solutions = bool(re.search(r"^##\s+Solutions\b", cell.source, re.MULTILINE))
        if index == 0 and level == 1:
            kind = "slide"
        elif in_solutions and not (level is not None and level <= 2):
            kind = "notes" if cell.cell_type == "markdown" else "skip"
        elif level is not None and level <= 2:
            kind = "slide"
        elif level == 3:
            kind = "subslide"
        elif cell.cell_type == "code" and _is_housekeeping(cell):
            kind = "skip"
        elif cell.cell_type == "markdown" and level is None and _is_derivation(cell.source):
            kind = "notes"
        elif cell.cell_type == "code" and (_images(cell) or _widgets(cell)):
            kind = "subslide"
        elif cell.cell_type in ("markdown", "code") and height + cell_height(cell) > SLIDE_HEIGHT:
            kind = "subslide"
        elif cell.cell_type in ("markdown", "code"):
            kind = "-"
        else:  # raw cells: not shown
            kind = "skip"
        if kind in ("slide", "subslide"):
            height = cell_height(cell)
        elif kind in ("-", "fragment"):
            height += cell_height(cell)
        types.append(kind)
    return types


def current(cell: Any) -> str | None:
    """The ``slide_type`` stored in ``cell``'s metadata, or None."""
    return cell.get("metadata", {}).get("slideshow", {}).get("slide_type")


def problems(nb: Any, name: str = "notebook") -> list[str]:
    """One line per cell whose stored slide metadata is missing or differs from the rules."""
    found = []
    for index, height in overflows(nb):
        first = nb.cells[index].source.splitlines()[0][:50] if nb.cells[index].source else ""
        fix = ("`python -m course_utils slides` splits it" if nb.cells[index].cell_type == "markdown"
               else "split the cell or make its output smaller")
        found.append(f"{name} cell {index} ({first!r}): about {height} px, taller than a "
                     f"{SLIDE_HEIGHT} px slide: {fix}")
    if nb.metadata.get("rise") != RISE_SETTINGS:
        found.append(f"{name}: notebook metadata 'rise' is {nb.metadata.get('rise')!r}, "
                     f"the rules give {RISE_SETTINGS!r}")
    for index, (cell, want) in enumerate(zip(nb.cells, slide_types(nb))):
        have = current(cell)
        if have != want:
            first = cell.source.splitlines()[0][:50] if cell.source else ""
            got = "no slide metadata" if have is None else f"slide_type {have!r}"
            found.append(f"{name} cell {index} ({first!r}): {got}, the rules give {want!r}")
    return found


def apply(nb: Any) -> int:
    """Write the rules' ``slide_type`` into every cell of ``nb`` (and ``metadata.rise``).

    Returns how many cells (and the notebook's own metadata) changed.
    """
    changed = 0
    if nb.metadata.get("rise") != RISE_SETTINGS:
        nb.metadata["rise"] = dict(RISE_SETTINGS)
        changed += 1
    for cell, want in zip(nb.cells, slide_types(nb)):
        if current(cell) != want:
            cell.setdefault("metadata", {})["slideshow"] = {"slide_type": want}
            changed += 1
    return changed


def overflows(nb: Any) -> list[tuple[int, int]]:
    """``(cell index, estimated height)`` of shown cells taller than a slide on their own."""
    return [(i, cell_height(c)) for i, (c, kind) in enumerate(zip(nb.cells, slide_types(nb)))
            if kind not in ("skip", "notes") and cell_height(c) > SLIDE_HEIGHT]


def split_tall_markdown(nb: Any) -> int:
    """Split every markdown cell of ``nb`` taller than a slide (:func:`split_markdown`), in place.

    The first piece keeps the cell's id and metadata; returns how many cells were added."""
    import nbformat

    added = 0
    cells = []
    for cell, kind in zip(nb.cells, slide_types(nb)):
        shown = cell.cell_type == "markdown" and kind not in ("skip", "notes")
        pieces = split_markdown(cell.source) if shown else [cell.source]
        cell.source = pieces[0]
        cells.append(cell)
        for piece in pieces[1:]:
            cells.append(nbformat.v4.new_markdown_cell(piece))
            added += 1
    nb.cells = cells
    return added


def notebooks(root: Path | None = None) -> list[Path]:
    """The course notebooks, ``notebooks/NN_*.ipynb``, in order."""
    root = root or paths.repo_root()
    return sorted((root / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def main(argv: Iterable[str] = ()) -> int:
    """``python -m course_utils slides [--check] [NOTEBOOK ...]``: write or check the metadata."""
    import nbformat

    args = list(argv)
    check = "--check" in args
    names = [a for a in args if a != "--check"]
    unknown = [a for a in names if a.startswith("-")]
    if unknown:
        raise ValueError(f"argv: unknown option {unknown[0]!r}, expected --check or notebook paths")
    targets = [Path(n) for n in names] or notebooks()
    status = 0
    for path in targets:
        if not path.is_file():
            raise ValueError(f"argv: no notebook at {str(path)!r}")
        nb = nbformat.read(path, as_version=4)
        if check:
            found = problems(nb, path.name)
            for line in found:
                print(line)
            status |= bool(found)
        else:
            added = split_tall_markdown(nb)
            if apply(nb) or added:
                nbformat.write(nb, path)
                print(f"updated {path}" + (f" (split tall markdown into {added} more cells)" if added else ""))
    return status
