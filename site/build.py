"""Build the static slides and the course website from the notebooks' stored outputs.

    python site/build.py slides [--out build/slides]
    python site/build.py site   [--out build/site] [--slides build/slides]

Nothing executes: nbconvert and myst-nb read the stored outputs of the quick run.

``slides`` writes one reveal.js deck per notebook (``NN_name.slides.html``, speaker notes from the
cells of type ``notes``, key ``s``) with the template in ``site/templates/course_reveal`` and a
``lib/`` folder beside the decks holding reveal.js, its notes plugin, MathJax, require.js and
jQuery, copied from the npm packages pinned in ``site/package.json`` (the Makefile installs them
into ``build/vendor``). A deck that still names an address outside its folder fails the build.

``site`` checks that every ``notebooks/NN_*.ipynb`` is in the table of contents
(``site/toc.md``), stages the sources (the README as home page, the notebooks, the lecturer's
page made by ``site/lecturers.py``, MathJax), runs Sphinx with warnings as errors (a broken
internal link or a missing image fails it), and copies the decks into ``<out>/slides``.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "site"
VENDOR = ROOT / "build" / "vendor" / "node_modules"
MATHJAX_CONFIG = "TeX-AMS_CHTML-full"
#: What of MathJax 2 is copied: TeX input, CommonHTML output and its TeX fonts in woff (MathJax
#: picks woff first); the rest of the package (other outputs and fonts, the unpacked sources) not.
MATHJAX_SKIP = {"": {"unpacked", "test", "docs"},
                "jax/output": {"SVG", "HTML-CSS", "NativeMML", "PreviewHTML", "PlainSource"},
                "fonts/HTML-CSS": {"Asana-Math", "Gyre-Pagella", "Gyre-Termes", "Latin-Modern",
                                   "Neo-Euler", "STIX-Web"},
                "fonts/HTML-CSS/TeX": {"png", "otf", "eot", "svg"}}
# An address a page would fetch from elsewhere: a script, a style sheet, an image, a font.
REMOTE = re.compile(r"""(?:src|href)\s*=\s*["'](?:https?:)?//[^"']+\.(?:js|css|mjs|woff2?|png|svg)\b""", re.I)


def notebooks() -> list[Path]:
    return sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _vendor(package: str) -> Path:
    path = VENDOR / package
    if not path.is_dir():
        raise SystemExit(f"{path} is missing: run `make slides` (it installs site/package.json with npm)")
    return path


def copy_mathjax(dest: Path) -> None:
    source = _vendor("mathjax")

    def ignore(folder: str, names: list[str]) -> set[str]:
        relative = Path(folder).relative_to(source).as_posix()
        return MATHJAX_SKIP.get("" if relative == "." else relative, set()) & set(names)

    shutil.copytree(source, dest, ignore=ignore, dirs_exist_ok=True)


def copy_libs(lib: Path) -> None:
    """reveal.js (dist and plugins), MathJax, require.js and jQuery into ``lib``."""
    reveal = _vendor("reveal.js")
    for part in ("dist", "plugin"):
        shutil.copytree(reveal / part, lib / "reveal.js" / part, dirs_exist_ok=True)
    copy_mathjax(lib / "mathjax")
    shutil.copy2(_vendor("requirejs") / "require.js", lib / "require.js")
    shutil.copy2(_vendor("jquery") / "dist" / "jquery.min.js", lib / "jquery.min.js")


IMPORT = re.compile(r"""@import\s+url\(\s*["']?(?:https?:)?//[^)]+\)""", re.I)


def check_offline(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    remote = sorted(set(REMOTE.findall(text) + IMPORT.findall(text)))
    if remote:
        raise SystemExit(f"{path}: loads from outside its folder: {remote[:5]}")


def deck_css() -> str:
    """The decks' boxes, from the sizes course_utils.slides estimates slide heights with (each
    figure's width is set per image by deck_notebook)."""
    from course_utils import slides

    return f"""
.reveal .jp-OutputArea-output img {{ max-width: 100%; height: auto; }}
.reveal .jp-InputArea-editor .highlight {{ max-height: {slides.CODE_BOX}px; overflow-y: auto; }}
.reveal .jp-OutputArea-output pre {{ max-height: {slides.TEXT_BOX}px; overflow-y: auto; }}
"""


def deck_notebook(path: Path):
    """The notebook as its deck shows it (course_utils.slides.deck_layout): consecutive prints
    merged into one output; a figure cell too tall with its code shows its outputs only
    (nbconvert's ``transient.remove_source``), its figures shrunk if that is what it takes; every
    figure drawn at the width the slide estimate used."""
    import nbformat
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    from course_utils import slides

    nb = nbformat.read(path, as_version=4)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        show_code, scale = slides.deck_layout(cell)
        if not show_code:
            cell.metadata["transient"] = {"remove_source": True}
        sizes = iter(slides._image_sizes(cell))
        for out in cell.outputs:
            if "image/png" in out.get("data", {}):
                width, _ = next(sizes)
                out.setdefault("metadata", {})["image/png"] = {"width": max(1, int(width * scale))}
    return nb


def build_slides(out: Path) -> list[Path]:
    from nbconvert import SlidesExporter
    from traitlets.config import Config

    out.mkdir(parents=True, exist_ok=True)
    copy_libs(out / "lib")
    config = Config()
    config.SlidesExporter.template_name = "course_reveal"
    config.SlidesExporter.extra_template_basedirs = [str(SITE / "templates")]
    config.SlidesExporter.reveal_url_prefix = "lib/reveal.js"
    config.SlidesExporter.reveal_theme = "white"  # its font ships with reveal.js (some themes fetch theirs)
    config.SlidesExporter.reveal_width = "1280"
    config.SlidesExporter.reveal_height = "720"
    config.SlidesExporter.reveal_scroll = True
    config.SlidesExporter.reveal_number = "c/t"
    config.SlidesExporter.exclude_input_prompt = True  # the width goes to the code
    config.SlidesExporter.exclude_output_prompt = True
    config.SlidesExporter.mathjax_url = f"lib/mathjax/MathJax.js?config={MATHJAX_CONFIG},Safe"
    config.SlidesExporter.require_js_url = "lib/require.js"
    config.SlidesExporter.jquery_url = "lib/jquery.min.js"
    exporter = SlidesExporter(config=config)
    written = []
    for nb in notebooks():
        body, _ = exporter.from_notebook_node(deck_notebook(nb), resources={
            "metadata": {"name": nb.stem, "path": str(nb.parent)}, "deck_css": deck_css()})
        target = out / f"{nb.stem}.slides.html"
        target.write_text(body, encoding="utf-8")
        check_offline(target)
        written.append(target)
    check_offline(out / "lib" / "reveal.js" / "dist" / "theme" / "white.css")
    return written


TOC_ENTRY = re.compile(r"^notebooks/([0-9][0-9]_[^\s/]+)$", re.MULTILINE)


def check_toc() -> list[str]:
    """The notebooks named in ``site/toc.md``; fail if one in ``notebooks/`` is not among them."""
    named = TOC_ENTRY.findall((SITE / "toc.md").read_text(encoding="utf-8"))
    present = [p.stem for p in notebooks()]
    missing = [n for n in present if n not in named]
    unknown = [n for n in named if n not in present]
    if missing or unknown:
        raise SystemExit(f"site/toc.md: notebooks not in the table of contents {missing}, "
                         f"entries with no notebook {unknown}")
    if named != sorted(named):
        raise SystemExit(f"site/toc.md: notebooks out of course order: {named}")
    return named


def home_page() -> str:
    """The README as the home page: badges become text links (their image is on another host)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    text = re.sub(r"\[!\[Open in Colab\]\([^)]*\)\]\(([^)]+)\)", r"[Colab](\1)", text)
    return text + "\n" + (SITE / "toc.md").read_text(encoding="utf-8")


def stage(src: Path) -> None:
    """The Sphinx source folder: home page, notebooks, data notes, contributing, lecturer's page."""
    if src.exists():
        shutil.rmtree(src)
    (src / "notebooks").mkdir(parents=True)
    for nb in notebooks():
        shutil.copy2(nb, src / "notebooks" / nb.name)
    (src / "data" / "weights").mkdir(parents=True)
    for notes in ("data/README.md", "data/weights/README.md"):
        shutil.copy2(ROOT / notes, src / notes)
    shutil.copy2(ROOT / "CONTRIBUTING.md", src / "CONTRIBUTING.md")
    shutil.copy2(ROOT / "LICENSE", src / "LICENSE")
    (src / "index.md").write_text(home_page(), encoding="utf-8")
    sys.path.insert(0, str(SITE))
    import lecturers

    (src / "lecturers.md").write_text(lecturers.page(), encoding="utf-8")
    copy_mathjax(src / "_static" / "mathjax")


def build_site(out: Path, slides: Path) -> None:
    check_toc()
    src = out.parent / (out.name + "-src")
    stage(src)
    cmd = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q", "-j", "2",
           "-c", str(SITE), "-d", str(out.parent / (out.name + "-doctrees")), str(src), str(out)]
    if subprocess.run(cmd, cwd=ROOT).returncode:
        raise SystemExit("the site build failed (warnings are errors): see the lines above")
    if not slides.is_dir():
        raise SystemExit(f"{slides}: no decks to link; run `make slides` first")
    shutil.copytree(slides, out / "slides", dirs_exist_ok=True)
    for nb in notebooks():  # every page's "Slides" link has its deck
        page = out / "notebooks" / f"{nb.stem}.html"
        deck = out / "slides" / f"{nb.stem}.slides.html"
        if not page.is_file() or not deck.is_file():
            raise SystemExit(f"missing {page if not page.is_file() else deck}")
    for page in out.rglob("*.html"):
        if "slides" not in page.relative_to(out).parts:
            check_offline(page)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", choices=("slides", "site"))
    parser.add_argument("--out", type=Path)
    parser.add_argument("--slides", type=Path, default=ROOT / "build" / "slides")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    if args.what == "slides":
        out = args.out or ROOT / "build" / "slides"
        decks = build_slides(out)
        print(f"{len(decks)} decks in {out} ({time.perf_counter() - start:.1f} s)")
    else:
        out = args.out or ROOT / "build" / "site"
        build_site(out, args.slides)
        print(f"site in {out} ({time.perf_counter() - start:.1f} s); open {out / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
