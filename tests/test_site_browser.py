"""The course website and the static slides, opened in a real browser (headless Chromium).

A session fixture builds the decks and the site once into a temporary folder with
``site/build.py`` (what ``make slides`` and ``make site`` run; nothing executes), serves that
folder from 127.0.0.1 with a server the test starts, and opens it in Debian's Chromium through
Playwright (``/usr/bin/chromium``; Playwright never downloads a browser here). Every request is
routed: one for an address other than 127.0.0.1 is refused and fails the test.

Checked: the home page, every notebook page and one deck load with no console error; every
``<img>`` has loaded; maths is typeset (MathJax's output elements present, no raw ``$$`` or
``\\[`` left in the text); the deck advances with ArrowRight and Space,
and it has speaker notes, which ``s`` opens in the speaker view; every slide of every deck fits
the 1280x720 slide. Screenshots of one notebook
page and one slide go to the test's ``tmp_path`` and are copied to ``build/screenshots``, with
the build times (``build_seconds.txt``) and the slide count and tallest slide (``slide_heights.txt``).

Skips: without Sphinx, nbconvert or Playwright (``make test-oldest`` installs only the oldest
TensorFlow/Keras set, which this test does not concern), without the npm packages of
``site/package.json`` in ``build/vendor`` (``make test`` installs them), or without
``/usr/bin/chromium``; with ``COURSE_REQUIRE_BROWSER=1`` (``.ci/run`` sets it) the last two fail
instead of skipping.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
REQUIRE = os.environ.get("COURSE_REQUIRE_BROWSER", "") not in ("", "0")
NOTEBOOKS = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
DECK = "05_autoencoders_vae"  # a deck with maths and figures
PAGE_SHOT = "03_object_detection"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

missing = [m for m in ("sphinx", "myst_nb", "nbconvert", "playwright") if importlib.util.find_spec(m) is None]
pytestmark = pytest.mark.skipif(bool(missing), reason=f"site/slides packages not installed: {missing}")


def _need(condition: bool, reason: str) -> None:
    if not condition:
        if REQUIRE:
            pytest.fail(f"{reason} (COURSE_REQUIRE_BROWSER is set)")
        pytest.skip(reason)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Decks and site built once into a temporary folder; the seconds each build took."""
    _need((ROOT / "build" / "vendor" / ".installed").exists(),
          "build/vendor is missing: `make test` or `make slides` installs site/package.json with npm")
    out = tmp_path_factory.mktemp("built")
    seconds = {}
    for what, args in (("slides", ["--out", str(out / "slides")]),
                       ("site", ["--out", str(out / "site"), "--slides", str(out / "slides")])):
        start = time.perf_counter()
        run = subprocess.run([sys.executable, str(ROOT / "site" / "build.py"), what, *args],
                             cwd=ROOT, capture_output=True, text=True)
        seconds[what] = round(time.perf_counter() - start, 1)
        assert run.returncode == 0, f"site/build.py {what} failed:\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    return out / "site", seconds


@pytest.fixture(scope="session")
def server(built):
    site, _ = built
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser(server, tmp_path_factory):
    _need(CHROMIUM.exists(), f"{CHROMIUM} is missing: apt-get install -y chromium (.ci/run does)")
    os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
    from playwright.sync_api import sync_playwright

    outside: list[str] = []

    def route(route_, request):
        host = urlparse(request.url).hostname
        if request.url.startswith("data:") or host == "127.0.0.1":
            route_.continue_()
        else:
            outside.append(request.url)
            route_.abort()

    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")),  # an empty user-data-dir
            executable_path=str(CHROMIUM), headless=True, args=FLAGS,
            viewport={"width": 1280, "height": 720}, service_workers="block",
        )
        context.route("**/*", route)
        yield context, outside
        context.close()


class Page:
    """One opened page with the console errors, failed requests and page errors it produced."""

    def __init__(self, context, url: str):
        self.errors: list[str] = []
        self.page = context.new_page()
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.errors.append(f"failed: {r.url} {r.failure}"))
        response = self.page.goto(url, wait_until="load")
        assert response is not None and response.ok, f"{url}: {response and response.status}"
        self.page.wait_for_load_state("networkidle")

    def _console(self, message) -> None:
        # The browser asks for /favicon.ico by itself (here when the speaker view opens); the
        # site has none and its 404 is no fault of a page.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            self.errors.append(f"console: {message.text} ({message.location.get('url')})")

    def typeset(self) -> None:
        """Wait until MathJax 2 has typeset everything it was asked to (if the page loads it)."""
        if not self.page.locator("script[src*='MathJax.js']").count():
            return
        self.page.wait_for_function("() => window.MathJax && window.MathJax.Hub && window.MathJax.isReady",
                                    timeout=30_000)
        self.page.evaluate("""() => new Promise(done => {
            window.MathJax.Hub.Queue(() => done(true));
        })""")

    def broken_images(self) -> list[str]:
        return self.page.evaluate("""() => Array.from(document.images)
            .filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.currentSrc || i.src)""")

    def maths(self) -> dict:
        return self.page.evaluate(r"""() => {
            const body = document.body.cloneNode(true);
            body.querySelectorAll('pre, code, script, style, .highlight').forEach(e => e.remove());
            const text = body.textContent;
            return {
                source: document.querySelectorAll('.math, script[type^="math/tex"]').length,
                typeset: document.querySelectorAll('.MathJax_CHTML, mjx-container, .MathJax').length,
                raw: ['$$', '\\[', '\\]'].filter(s => text.includes(s)),
            };
        }""")


def _check_page(context, url: str, *, expect_maths: bool) -> Page:
    page = Page(context, url)
    page.typeset()
    assert page.broken_images() == [], f"{url}: images that did not load"
    maths = page.maths()
    if expect_maths:
        assert maths["source"] > 0, f"{url}: no maths found on a page that has some"
        assert maths["typeset"] > 0, f"{url}: maths not typeset by MathJax: {maths}"
    assert not maths["raw"], f"{url}: raw TeX delimiters left in the text: {maths['raw']}"
    assert page.errors == [], f"{url}: {page.errors}"
    return page


def _shots_dir(tmp_path: Path) -> list[Path]:
    return [tmp_path, ROOT / "build" / "screenshots"]


def test_home_and_every_notebook_page(browser, server, built, tmp_path):
    context, outside = browser
    home = _check_page(context, f"{server}/index.html", expect_maths=False)
    links = home.page.evaluate("() => Array.from(document.querySelectorAll('nav a')).map(a => a.href)")
    for name in NOTEBOOKS:
        assert any(link.endswith(f"notebooks/{name}.html") for link in links), f"{name} not in the navigation"
    assert home.page.locator("form[action*='search'], .search-button, #search-input").count() > 0, "no search"
    home.page.close()
    for name in NOTEBOOKS:
        page = _check_page(context, f"{server}/notebooks/{name}.html", expect_maths=name != "00_setup")
        slides = page.page.get_attribute("a.course-slides", "href")
        colab = page.page.get_attribute("a.course-colab", "href")
        assert slides == f"../slides/{name}.slides.html"
        from course_utils.colab import colab_url

        assert colab == colab_url(f"{name}.ipynb")
        if name == PAGE_SHOT:
            page.page.locator("img").nth(1).scroll_into_view_if_needed()
            for folder in _shots_dir(tmp_path):
                folder.mkdir(parents=True, exist_ok=True)
                page.page.screenshot(path=str(folder / f"page_{name}.png"))
        page.page.close()
    search = Page(context, f"{server}/search.html?q=convolution")
    search.page.wait_for_selector("#search-results li, .search li", timeout=20_000)
    assert search.errors == []
    search.page.close()
    assert outside == [], f"requests that left 127.0.0.1: {outside[:5]}"
    timings = ROOT / "build" / "screenshots" / "build_seconds.txt"
    timings.parent.mkdir(parents=True, exist_ok=True)
    timings.write_text(f"{built[1]}\n")


def test_a_deck_advances_with_the_keyboard(browser, server, tmp_path):
    context, outside = browser
    deck = _check_page(context, f"{server}/slides/{DECK}.slides.html", expect_maths=True)
    page = deck.page
    page.wait_for_selector(".reveal.ready", timeout=20_000)
    index = "() => location.hash + '|' + Array.from(document.querySelectorAll('.slides section.present')).length"
    seen = [page.evaluate(index)]
    for key in ("ArrowRight", "Space", "ArrowRight"):
        page.keyboard.press(key)
        page.wait_for_timeout(400)
        seen.append(page.evaluate("() => location.hash"))
    assert len(set(seen)) == len(seen), f"the deck did not advance on every key: {seen}"
    figure = "section.present:not(.stack) .jp-OutputArea-output img"  # a slide with a figure
    for _ in range(60):
        if page.locator(figure).count():
            break
        before = page.evaluate("() => location.hash")
        page.keyboard.press("Space")
        page.wait_for_timeout(250)
        if page.evaluate("() => location.hash") == before:
            break
    assert page.locator(figure).count(), "no slide with a figure in the deck"
    page.wait_for_timeout(600)
    assert deck.broken_images() == []
    for folder in _shots_dir(tmp_path):
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"slide_{DECK}.png"))
    assert page.locator("aside.notes").count() > 0, "no speaker notes in the deck"
    with context.expect_page(timeout=15_000) as opened:  # `s` opens the speaker view
        page.keyboard.press("s")
    speaker = opened.value
    speaker.wait_for_selector("#current-slide iframe", state="attached", timeout=15_000)
    speaker.close()
    assert deck.errors == [], deck.errors
    assert outside == [], f"requests that left 127.0.0.1: {outside[:5]}"


#: Every leaf slide of the open deck: (h, v, content height in CSS pixels, first text). Reveal
#: lays a slide out at its configured 1280x720 before scaling it to the window, so a slide's
#: scrollHeight is in the same units as the slide size. MathJax typesets a hidden slide too small,
#: so all slides are first shown at once and re-rendered together (fast); then each slide within
#: 70 px of the limit is shown alone and re-rendered in place, as the deck does when it is
#: shown, which can add about 30 px, and the larger height counts.
_SLIDE_HEIGHTS = """async () => {
    // the deck's own Reveal (nbconvert's template loads it with require.js, not as a global)
    const Reveal = await new Promise(done => require(["lib/reveal.js/dist/reveal.js"], done));
    const rerender = node => new Promise(done => MathJax.Hub.Queue(["Rerender", MathJax.Hub, node], () => done(1)));
    const style = document.createElement("style");
    style.textContent = ".reveal .slides section { display: block !important; }";
    document.head.appendChild(style);
    await rerender(document.body);
    const slides = Reveal.getSlides();
    const heights = slides.map(slide => slide.scrollHeight);
    style.remove();
    const out = [];
    for (const [i, slide] of slides.entries()) {
        const at = Reveal.getIndices(slide);
        if (heights[i] > 650) {
            Reveal.slide(at.h, at.v || 0);
            await rerender(slide);
            heights[i] = Math.max(heights[i], slide.scrollHeight);
        }
        out.push([at.h, at.v || 0, heights[i], (slide.innerText || "").trim().slice(0, 50)]);
    }
    return out;
}"""


def test_every_slide_fits_the_screen(browser, server):
    """No slide of any deck is taller than the 720 px slide: course_utils.slides estimates heights
    to split and lay out the slides, and this measures what the browser actually draws."""
    context, outside = browser
    too_tall, tallest, count = [], (0, ""), 0
    for name in NOTEBOOKS:
        deck = _check_page(context, f"{server}/slides/{name}.slides.html", expect_maths=False)
        deck.page.wait_for_selector(".reveal.ready", timeout=20_000)
        deck.page.wait_for_timeout(300)
        heights = deck.page.evaluate(_SLIDE_HEIGHTS)
        assert heights, f"{name}: no slides"
        too_tall += [(name, h, v, px, text) for h, v, px, text in heights if px > 720]
        count += len(heights)
        tallest = max([tallest] + [(px, f"{name} slide {h}.{v}") for h, v, px, _ in heights])
        deck.page.close()
    summary = ROOT / "build" / "screenshots" / "slide_heights.txt"
    summary.parent.mkdir(parents=True, exist_ok=True)
    summary.write_text(f"{count} slides in {len(NOTEBOOKS)} decks; tallest {tallest[0]} px ({tallest[1]})\n")
    assert too_tall == [], f"{len(too_tall)} slide(s) taller than 720 px: {too_tall[:10]}"
    assert outside == [], f"requests that left 127.0.0.1: {outside[:5]}"
