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
   sub-slide while it fits).
7. Every other cell continues the current slide (``-``) while the estimated height of that
   slide stays within :data:`SLIDE_HEIGHT` pixels (a 1280x720 screen less reveal.js's margins);
   the cell that would overflow it starts a ``subslide``.

The notebook itself carries :data:`RISE_SETTINGS` (``metadata.rise``): RISE lays the slides out
at 1280x720 and lets a slide taller than the screen scroll.

Heights are estimated from the stored notebook (:func:`cell_height`): rendered markdown lines,
display equations, code lines, text-output lines and each stored image at its stored pixel
height. A cell taller than a slide on its own cannot be fixed by metadata; :func:`overflows` lists
such cells, the static decks scale images down to the slide and let text scroll (``make slides``),
and a lecturer who needs them whole splits the cell.
"""

from __future__ import annotations

import base64
import re
import struct
from pathlib import Path
from typing import Any, Iterable

from . import colab, paths

SLIDE_TYPES = ("slide", "subslide", "fragment", "-", "skip", "notes")
#: Notebook metadata for RISE (live slides): the slide size and scrolling of tall slides.
RISE_SETTINGS = {"width": 1280, "height": 720, "scroll": True}
#: Usable height of one slide, in CSS pixels: a 1280x720 screen less reveal.js's margins.
SLIDE_HEIGHT = 640
#: Markdown without a heading and with at least this many display equations is a derivation.
DERIVATION_BLOCKS = 3
#: Markdown without a heading and with more source lines than this is read out, not shown.
LONG_MARKDOWN_LINES = 14
#: Characters of prose per rendered line at 1280 px; pixels per rendered line of each kind.
PROSE_CHARS, PROSE_LINE, CODE_LINE, HEADING_LINE, EQUATION = 110, 26, 18, 48, 56

_HEADING = re.compile(r"^(#{1,6})\s+\S", re.MULTILINE)
_DISPLAY_MATH = re.compile(r"\$\$.+?\$\$", re.DOTALL)


def _heading_level(source: str) -> int | None:
    """The smallest heading level in a markdown cell (1 for ``#``), or None."""
    levels = [len(m.group(1)) for m in _HEADING.finditer(_strip_fences(source))]
    return min(levels) if levels else None


def _strip_fences(source: str) -> str:
    """Markdown without fenced code blocks (a ``# comment`` inside one is not a heading)."""
    return re.sub(r"^```.*?^```", "", source, flags=re.MULTILINE | re.DOTALL)


def _png_height(data: str) -> int:
    """Height in pixels of a base64 PNG (its IHDR chunk), 0 if it is not a PNG."""
    raw = base64.b64decode(data[:64])
    if raw[:8] != b"\x89PNG\r\n\x1a\n":
        return 0
    return struct.unpack(">I", raw[20:24])[0]


def _images(cell: Any) -> list[int]:
    """Heights of the images in a code cell's stored outputs."""
    heights = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if "image/png" in data:
            heights.append(_png_height(data["image/png"]) or 300)
        elif "image/jpeg" in data or "image/svg+xml" in data:
            heights.append(300)
    return heights


def _text_lines(cell: Any) -> int:
    lines = 0
    for out in cell.get("outputs", []):
        if out.get("output_type") == "stream":
            if out.get("name") == "stderr":
                continue  # hidden in the decks (see make slides) and not part of the lesson
            lines += len(out.get("text", "").rstrip("\n").splitlines())
        elif "image/png" not in out.get("data", {}) and "text/plain" in out.get("data", {}):
            lines += len(str(out["data"]["text/plain"]).splitlines())
    return lines


def cell_height(cell: Any) -> int:
    """Estimated height of ``cell`` on a 1280x720 slide, in CSS pixels (see the module doc)."""
    if cell.cell_type == "markdown":
        source = cell.source
        equations = len(_DISPLAY_MATH.findall(source))
        prose = _DISPLAY_MATH.sub("", source)
        height = EQUATION * equations
        for line in prose.splitlines():
            if _HEADING.match(line):
                height += HEADING_LINE
            elif line.strip():
                height += PROSE_LINE * (1 + len(line) // PROSE_CHARS)
        return height
    if cell.cell_type == "code":
        code = len(cell.source.splitlines()) * CODE_LINE + 20
        return code + CODE_LINE * _text_lines(cell) + sum(_images(cell))
    return 0


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
        elif cell.cell_type == "code" and _images(cell):
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
        elif apply(nb):
            nbformat.write(nb, path)
            print(f"updated {path}")
    return status
