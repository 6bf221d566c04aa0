"""The lecturer's page of the course website, made from the notebooks and measured times.

For every notebook: a plan for a 90-minute session (its sections with minutes in proportion to
their slides, the test-mode seconds of each section's code cells, and the cells whose result is
worth waiting for only at quick size, which are shown from the stored outputs instead), the
exercises with their checkers, and how to host the data for a lab (the README's text).

Times: ``site/live_times.json`` (made by ``site/measure_live_times.py``: every cell in ``test``
mode, on the 2-core machine named there, with its load average) and the execution times stored
in each notebook by its clean quick-mode run. Nothing here runs a notebook.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import nbformat

from course_utils import slides

ROOT = Path(__file__).resolve().parent.parent
TIMES = ROOT / "site" / "live_times.json"
SESSION_MINUTES = 90
#: Minutes kept for the exercises and questions at the end of the session.
EXERCISE_MINUTES = 15
#: A cell whose quick-mode run took this many seconds or more trains or evaluates at a size that
#: test mode shrinks: show its stored quick-mode output rather than the live test-mode one.
STORED_FROM_SECONDS = 20.0
SKIP_SECTIONS = ("Learning objectives", "Exercises", "Solutions", "Summary", "References",
                 "Where the field is now")


def _seconds(cell) -> float | None:
    ex = cell.get("metadata", {}).get("execution", {})
    start, end = ex.get("iopub.execute_input"), ex.get("shell.execute_reply")
    if not (start and end):
        return None
    parse = lambda s: dt.datetime.fromisoformat(s.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def _section_title(source: str) -> str | None:
    match = re.search(r"^##\s+(.+)$", source, re.MULTILINE)
    return match.group(1).strip() if match else None


def sections(path: Path, live: dict | None) -> list[dict]:
    """The notebook's ``##`` sections with their slides, cells and times.

    ``live``: test-mode seconds by cell id (``site/live_times.json``), or None if not measured."""
    nb = nbformat.read(path, as_version=4)
    kinds = slides.slide_types(nb)
    found: list[dict] = []
    for index, (cell, kind) in enumerate(zip(nb.cells, kinds)):
        title = _section_title(cell.source) if cell.cell_type == "markdown" else None
        if title is not None:
            found.append({"title": title, "slides": 0, "code": 0, "test": 0.0, "quick": 0.0,
                          "stored": [], "first_cell": index})
        if not found:
            continue
        section = found[-1]
        section["slides"] += kind in ("slide", "subslide")
        if cell.cell_type == "code" and kind != "skip":
            section["code"] += 1
            quick = _seconds(cell) or 0.0
            test = (live.get(cell.get("id")) if live else None) or 0.0
            section["quick"] += quick
            section["test"] += test
            if quick >= STORED_FROM_SECONDS:
                first = cell.source.splitlines()[0][:60]
                section["stored"].append((index, quick, test, first))
    return found


def exercises(path: Path) -> list[tuple[str, str]]:
    """``(exercise title, checker)`` pairs from the notebook's Exercises section."""
    nb = nbformat.read(path, as_version=4)
    module = f"nb{path.name[:2]}"
    pairs, title, inside = [], None, False
    for cell in nb.cells:
        head = _section_title(cell.source) if cell.cell_type == "markdown" else None
        if head is not None:
            inside = head.startswith("Exercises")
            if not inside and not re.search(r"^##\s+Exercises", cell.source, re.MULTILINE):
                continue
            inside = True
        if not inside:
            continue
        if cell.cell_type == "markdown":
            match = re.search(r"\*\*((?:Exercise\s+)?\d+[^*]*)\*\*", cell.source)
            if match:
                title = match.group(1).strip().rstrip(".")
        elif title:
            checker = re.search(r"\b(?:exercises|nb\d\d)\.(check_\w+)", cell.source)
            if checker:
                pairs.append((title, f"course_utils.exercises.{module}.{checker.group(1)}"))
                title = None
    return pairs


def _host_the_data() -> str:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^- \*\*Host the data for a lab.*?(?=^- \*\*|^## |\Z)", readme, re.MULTILINE | re.DOTALL)
    return match.group(0).strip() if match else "See the README's section For lecturers."


def _fmt(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 1 else "<1 s"


def page() -> str:
    times = json.loads(TIMES.read_text(encoding="utf-8")) if TIMES.exists() else {"notebooks": {}}
    machine = times.get("machine", {})
    lines = [
        "# For lecturers",
        "",
        "One page per session: a plan for 90 minutes per notebook, the exercises to assign and",
        "how to host the data for a lab. Present from the [slides](#slides) or live in JupyterLab",
        "(the README, *For lecturers*: `make lab`, then the RISE button or `Alt+R`), with",
        "`COURSE_MODE=test` so every cell runs in seconds.",
        "",
        "**How the plan is made.** Minutes go to each section in proportion to its slides, after",
        f"{EXERCISE_MINUTES} minutes are kept for the exercises. *Live* is the time of the section's",
        "code cells in `test` mode, measured by `site/measure_live_times.py` on "
        f"{machine.get('cpus', '?')} CPU cores ({machine.get('measured', 'not measured')}; the load",
        "average before and after each notebook is given, since the machine was shared and a higher",
        "load means slower cells). Run the notebook from the top in `test` mode as you go: every",
        "cell must run for the next to work. A cell that took "
        f"{STORED_FROM_SECONDS:.0f} s or more in the stored quick run",
        "trains or evaluates at a size test mode shrinks to a toy: let it run live in test mode if you",
        "like, but discuss the stored quick-mode output (on the notebook's page and in the slides).",
        "",
        "(slides)=",
        "## Slides",
        "",
        "`make slides` writes one deck per notebook to `build/slides/` from the stored outputs (they",
        "are linked at the top of every notebook page). In a deck: arrows or Space to move, `s` for",
        "the speaker notes (the long derivations and the solutions are there), `f` for full screen,",
        "`Esc` for the overview.",
        "",
        "## Hosting the data for a lab",
        "",
        _host_the_data(),
        "",
    ]
    for path in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        record = times.get("notebooks", {}).get(path.stem)
        live = record["cell_seconds"] if record else None
        found = [s for s in sections(path, live) if not s["title"].startswith(SKIP_SECTIONS)]
        total_slides = sum(s["slides"] for s in found) or 1
        teach = SESSION_MINUTES - EXERCISE_MINUTES
        title = nbformat.read(path, as_version=4).cells[0].source.splitlines()[0].lstrip("# ").strip()
        lines += [f"## {title}", ""]
        lines.append(f"[The notebook](notebooks/{path.stem}.ipynb) · "
                     f'<a href="slides/{path.stem}.slides.html">its slides</a>')
        lines.append("")
        if record:
            lines.append(f"Whole notebook in `test` mode: {_fmt(record['total_seconds'])} "
                         f"(load average {record['load_average_before'][0]:.1f} before, "
                         f"{record['load_average_after'][0]:.1f} after).")
        else:
            lines.append("No test-mode times measured yet: run `site/measure_live_times.py`.")
        lines += ["", "| section | minutes | slides | code cells | live (test mode) | quick run |",
                  "|---|---:|---:|---:|---:|---:|"]
        for s in found:
            minutes = round(teach * s["slides"] / total_slides)
            lines.append(f"| {s['title']} | {minutes} | {s['slides']} | {s['code']} | "
                         f"{_fmt(s['test']) if record else '-'} | {_fmt(s['quick'])} |")
        lines.append(f"| Exercises and questions | {EXERCISE_MINUTES} | | | | |")
        stored = [(s["title"], c) for s in found for c in s["stored"]]
        lines.append("")
        if stored:
            lines.append("Show the stored quick-mode result instead of waiting for (or trusting) the live one:")
            lines.append("")
            for title, (index, quick, test, first) in stored:
                live_text = f", {_fmt(test)} in test mode" if record else ""
                lines.append(f"- {title}, cell {index} (`{first}`): {_fmt(quick)} in the quick run{live_text}")
        else:
            lines.append("Every cell runs live: none took "
                         f"{STORED_FROM_SECONDS:.0f} s in the quick run.")
        pairs = exercises(path)
        lines.append("")
        if pairs:
            lines.append("Exercises to assign (each checked in the notebook by the function named):")
            lines.append("")
            lines += [f"- **{name}**: `{checker}`" for name, checker in pairs]
        else:
            lines.append("No checked exercises in this notebook.")
        lines.append("")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(page())
