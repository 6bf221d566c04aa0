"""Live slides: JupyterLab and RISE in a real browser (headless Chromium), as a lecturer uses them.

The README's "For lecturers" says: start ``COURSE_MODE=test make lab``, run the notebook, and press
``Alt+R`` to present it as a live slideshow whose cells still run. This test takes that path
with notebook 01, the one with an interactive kernel explorer:

* JupyterLab starts on 127.0.0.1 with ``COURSE_MODE=test``, over a temporary copy of the notebook
  (nothing writes to the repository's file), and Chromium opens it through Playwright
  (``/usr/bin/chromium``; no browser is downloaded). Every request for another host is refused
  and fails the test.
* JupyterLab's "Run All Cells" runs the notebook: every code cell gets an execution count and no
  output is an error.
* The explorer's nine sliders render at the weights of the kernel it starts from (a slider range
  too narrow for them clipped sharpen's 5 to 4 once), and moving one redraws the filtered photo:
  a round trip through the kernel.
* ``Alt+R`` on the explorer's cell opens the RISE slideshow at that cell's slide: reveal.js lays it
  out at the notebook's ``metadata.rise`` size (1280x720), maths is typeset, the explorer's sliders
  render on the slide, ``Shift+Enter`` runs the cell again from the slide (its execution count
  grows), and ``ArrowRight`` moves to the next slide.
* No page error, and no console error but those in :data:`KNOWN_CONSOLE`, each explained there.

A screenshot of the explorer's slide goes to the test's ``tmp_path`` and ``build/screenshots``.

Two defects this path had, each now checked: with ipywidgets 8, RISE could not load the widget
manager and the sliders showed as a line of text (``requirements.txt`` pins ipywidgets 7.8); and
RISE's default theme fetched its fonts from fonts.googleapis.com (``course_utils.slides``
sets the "white" theme, whose font RISE ships).

Skips like ``test_site_browser.py``: without JupyterLab, RISE or Playwright, or without
``/usr/bin/chromium`` (with ``COURSE_REQUIRE_BROWSER=1``, set by ``.ci/run``, that one fails).
"""

from __future__ import annotations

import importlib.util
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0")
NOTEBOOK = "01_convolution_math"
EXPLORER_CODE = "display(explorer)"  # the cell that shows the explorer, and no other
SLIDERS = 9  # one per weight of the 3x3 kernel
START = [0.0, -1.0, 0.0, -1.0, 5.0, -1.0, 0.0, -1.0, 0.0]  # the sharpen kernel the explorer starts from
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

#: Console errors that JupyterLab and RISE print with the pinned versions, and why they are
#: harmless. Anything else fails the test.
KNOWN_CONSOLE = {
    # RISE asks for optional per-notebook style sheets next to the notebook (rise.css and
    # <notebook>.css); the course has none, so the server answers 404 with an HTML page, which
    # the browser also refuses as a style sheet.
    "optional RISE style sheets": re.compile(r"/files/(rise|" + NOTEBOOK + r")\.css"),
    # Printed by RISE 0.43.1's own bundle (static/rise/) as it starts; every check below passes
    # after them.
    "RISE's bundle": re.compile(r"^(RangeError: Maximum call stack size exceeded|Error: The getter for the "
                                r"shared module is not a function).*\(http://127\.0\.0\.1:\d+/static/rise/", re.S),
}

missing = [m for m in ("jupyterlab", "jupyterlab_rise", "playwright") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"live-slide packages not installed: {missing}")


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if REQUIRE:
            pytest.fail(f"{reason} (COURSE_REQUIRE_BROWSER is set)")
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 over a copy of the notebook: (base url, token, log path)."""
    tmp = tmp_path_factory.mktemp("lab")
    work = tmp / "notebooks"
    work.mkdir()
    shutil.copy(ROOT / "notebooks" / f"{NOTEBOOK}.ipynb", work)
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "COURSE_MODE": "test",
           # a fresh Jupyter configuration: no user setting or workspace changes what is tested
           "JUPYTER_CONFIG_DIR": str(tmp / "config"), "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(tmp / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(tmp / "workspaces")}
    log = tmp / "lab.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
             "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
             f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}",
             # lets the test call JupyterLab's own commands (Run All Cells) and read the notebook
             "--LabApp.expose_app_in_browser=True"],
            env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=2)
                break
            except OSError:
                assert proc.poll() is None, f"JupyterLab exited:\n{log.read_text()[-3000:]}"
                assert time.monotonic() < deadline, f"JupyterLab did not start:\n{log.read_text()[-3000:]}"
                time.sleep(0.3)
        yield base, token, log
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture(scope="module")
def context(lab, tmp_path_factory):
    _need(CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []

    def route(route_, request):
        if request.url.startswith("data:") or urlparse(request.url).hostname == "127.0.0.1":
            route_.continue_()
        else:
            outside.append(request.url)
            route_.abort()

    with sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            headless=True, args=FLAGS, viewport={"width": 1280, "height": 720}, service_workers="block")
        ctx.route("**/*", route)
        yield ctx, outside
        ctx.close()


#: The position of the slide on screen among all the deck's slides (reveal.js marks it "present").
PRESENT = """() => Array.from(document.querySelectorAll('.reveal .slides section'))
    .findIndex(s => s.classList.contains('present') && !s.querySelector('section'))"""


def _unexplained(errors: list[str]) -> list[str]:
    return [e for e in errors if not any(p.search(e) for p in KNOWN_CONSOLE.values())]


def _frame(page, part: str, timeout: float = 60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for frame in page.frames:
            if part in frame.url:
                return frame
        page.wait_for_timeout(250)
    raise AssertionError(f"no frame whose address contains {part!r}: {[f.url for f in page.frames]}")


def test_lecturer_runs_the_notebook_and_presents_it_live(context, lab, tmp_path):
    ctx, outside = context
    base, token, log = lab
    errors: list[str] = []
    page = ctx.new_page()

    def console(message):
        if message.type == "error":
            errors.append(f"{message.text} ({message.location.get('url')})")

    page.on("console", console)
    page.on("pageerror", lambda e: errors.append(f"page error: {e}"))

    # 1. Open the notebook in JupyterLab and run every cell (test mode), as the README says.
    page.goto(f"{base}/lab/tree/{NOTEBOOK}.ipynb?token={token}")
    page.wait_for_function("""() => { const w = window.jupyterapp && jupyterapp.shell.currentWidget;
        return !!(w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel); }""",
                           timeout=120_000)
    page.evaluate("() => jupyterapp.shell.currentWidget.sessionContext.ready")
    page.evaluate("() => jupyterapp.commands.execute('notebook:run-all-cells')")
    page.wait_for_function("""() => { const w = jupyterapp.shell.currentWidget;
        const code = w.content.widgets.filter(c => c.model.type === 'code');
        return code.every(c => c.model.executionCount !== null) && w.sessionContext.session.kernel.status === 'idle'; }""",
                           timeout=600_000, polling=500)
    failed = page.evaluate("""() => jupyterapp.shell.currentWidget.content.widgets
        .filter(c => c.model.type === 'code').flatMap(c => c.model.outputs.toJSON())
        .filter(o => o.output_type === 'error').map(o => o.ename + ': ' + o.evalue)""")
    assert failed == [], f"cells failed when run live: {failed}"

    # 2. The explorer's sliders render in the notebook, and moving one redraws the photo.
    index = page.evaluate("""(code) => jupyterapp.shell.currentWidget.content.widgets
        .findIndex(c => c.model.type === 'code' && c.model.sharedModel.getSource().includes(code))""", EXPLORER_CODE)
    assert index > 0, "the explorer's cell was not found"
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.scroll_into_view_if_needed()
    sliders = cell.locator(".widget-slider")
    sliders.first.wait_for(timeout=60_000)
    assert sliders.count() == SLIDERS, f"{sliders.count()} sliders rendered, expected {SLIDERS}"
    readouts = [float(t) for t in cell.locator(".widget-slider .widget-readout").all_inner_texts()]
    assert readouts == START, f"the sliders start at {readouts}, not at the sharpen kernel {START}"
    photo = cell.locator(".widget-output img")
    before = photo.first.get_attribute("src")
    handle = cell.locator(".widget-slider .ui-slider-handle").first
    handle.click()
    page.keyboard.press("ArrowRight")
    page.wait_for_function("""([i, src]) => { const img = document.querySelectorAll('.jp-Notebook .jp-Cell')[i]
        .querySelector('.widget-output img'); return !!img && img.getAttribute('src') !== src; }""",
                           arg=[index, before], timeout=60_000)

    # 3. Alt+R on the explorer's cell opens RISE's slideshow of the notebook beside it, at that
    #    cell's slide; the lecturer presents it full-size from the panel's address (a tab of its own).
    cell.locator(".jp-InputPrompt").click()
    page.keyboard.press("Alt+r")
    preview = _frame(page, f"/rise/{NOTEBOOK}.ipynb")
    preview.wait_for_selector(".reveal .slides section.present .widget-slider", timeout=120_000)
    slides = ctx.new_page()
    slides.on("console", console)
    slides.on("pageerror", lambda e: errors.append(f"page error: {e}"))
    slides.goto(f"{base}/rise/{NOTEBOOK}.ipynb?activeCellIndex={index}&token={token}")  # the panel's address
    slides.wait_for_selector(".reveal .slides section.present", timeout=120_000)
    slides.locator("section.present .widget-slider").first.wait_for(timeout=60_000)
    on_slide = slides.locator("section.present .widget-slider").count()
    assert on_slide == SLIDERS, f"{on_slide} sliders on the explorer's slide, expected {SLIDERS}"
    size = slides.evaluate("""() => { const s = document.querySelector('.reveal .slides').style;
        return [parseInt(s.width), parseInt(s.height)]; }""")
    assert size == [1280, 720], f"RISE lays the slides out at {size}, not the notebook's 1280x720"
    slides.wait_for_function("() => document.querySelectorAll('mjx-container').length > 0", timeout=60_000)
    for folder in (tmp_path, ROOT / "build" / "screenshots"):
        folder.mkdir(parents=True, exist_ok=True)
        slides.screenshot(path=str(folder / f"rise_{NOTEBOOK}_explorer.png"))

    #    The cell runs again from the slide (Shift+Enter), and ArrowRight moves on.
    prompt = slides.locator("section.present .jp-CodeCell:has(.widget-slider) .jp-InputPrompt")
    count = int(re.sub(r"\D", "", prompt.inner_text()) or 0)
    prompt.click()
    slides.keyboard.press("Shift+Enter")
    slides.wait_for_function("""(n) => Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'))
        .some(p => parseInt(p.innerText.replace(/\\D/g, '') || '0') > n)""", arg=count, timeout=60_000)
    slides.keyboard.press("Escape")  # command mode: the arrow keys move between slides
    present = slides.evaluate(PRESENT)
    slides.keyboard.press("ArrowRight")
    slides.wait_for_function(f"(old) => ({PRESENT})() !== old", arg=present, timeout=20_000)

    assert outside == [], f"requests that left 127.0.0.1: {outside[:5]}"
    unexplained = _unexplained(errors)
    assert unexplained == [], f"console or page errors: {unexplained[:10]}"
