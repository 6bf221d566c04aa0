"""Sphinx configuration of the course website (``make site``; the build is in ``site/build.py``).

Sphinx with myst-nb and the book theme renders the notebooks from their stored outputs (nothing
executes). The "Open in Colab" links come from ``[tool.course]`` in ``pyproject.toml`` through
``course_utils.colab``, the setting the notebooks' badges use; maths is typeset by a local MathJax
copied into ``_static`` by the build, so the site needs no internet.
"""

from __future__ import annotations

from pathlib import Path

from course_utils import colab

repository, branch = colab.settings()

project = "Deep Learning for Image Processing with Keras"
author = "the course authors"
root_doc = "index"
extensions = ["myst_nb"]
exclude_patterns = ["_build", "_static", "**.ipynb_checkpoints"]
nb_execution_mode = "off"  # stored outputs of the quick run, never executed here
nb_merge_streams = True
# Widget state would load require.js and the widget renderer from a CDN; pages show the stored
# fallback output instead.
nb_ipywidgets_js = {}
# dollarmath only: "amsmath" would take a line starting \begin{pmatrix} inside $$ ... $$ (as
# JupyterLab renders it) for an environment of its own and split the equation.
myst_enable_extensions = ["dollarmath"]
myst_heading_anchors = 3
suppress_warnings = ["myst.header"]  # notebooks number their sections in the heading text

html_theme = "sphinx_book_theme"
html_title = project
html_static_path = ["static"]  # and the staged _static (MathJax), added in setup()
html_css_files = ["course.css"]
html_theme_options = {
    "repository_url": repository,
    "repository_branch": branch,
    "path_to_docs": "",
    "use_repository_button": True,
    "launch_buttons": {"colab_url": "https://colab.research.google.com"},
    "home_page_in_toc": True,
    "show_toc_level": 2,
}
html_last_updated_fmt = None
html_context = {"default_mode": "light"}  # the theme logs an error when no mode is set
html_copy_source = False
html_show_sourcelink = False

# MathJax 2 from the local copy (site/build.py puts it in _static/mathjax); inline maths is $...$.
mathjax_path = "mathjax/MathJax.js?config=TeX-AMS_CHTML-full"
mathjax2_config = {
    # myst-nb marks a notebook's page mathjax_ignore and its maths "math": typeset only those.
    "tex2jax": {"inlineMath": [["\\(", "\\)"]], "displayMath": [["\\[", "\\]"]], "processEscapes": True,
                "ignoreClass": "tex2jax_ignore|mathjax_ignore",
                "processClass": "tex2jax_process|mathjax_process|math|output_area"},
    "messageStyle": "none",
}


def _links(app, pagename, templatename, context, doctree):
    """Above every notebook page: its slides and its Colab link."""
    if not pagename.startswith("notebooks/") or "body" not in context:
        return
    name = pagename.split("/", 1)[1]
    context["body"] = (
        '<p class="course-links">'
        f'<a class="course-slides" href="../slides/{name}.slides.html">Slides</a> · '
        f'<a class="course-colab" href="{colab.colab_url(name + ".ipynb")}">Open in Colab</a>'
        "</p>\n" + context["body"]
    )


def _staged_static(app, config):
    config.html_static_path.append(str(Path(app.srcdir) / "_static"))


def setup(app):
    app.connect("config-inited", _staged_static)
    app.connect("html-page-context", _links)
