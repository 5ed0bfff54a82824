"""The published pages, loaded in headless Chromium after their scripts ran, look as a reader sees them.

For every chapter and solutions page of the book built by ``book_build.py`` (from the outputs of the notebooks that
nbval ran in this session), served on 127.0.0.1:

* no raw MyST syntax (fences, roles, directives) is left in the text;
* every image has loaded, and a page built from its executed notebook shows each of its figures;
* every formula is typeset by MathJax, from the bundled copy (no network), without a TeX error;
* the Colab button opens this page's own notebook, and that notebook exists in the repository;
* a chapter links to its solutions page and to the solutions notebook in Colab, and both exist;
* internal links go to pages that exist, and to anchors on them that exist.

One screenshot per page is kept in ``_build/screenshots/`` (a build artefact, not committed). Needs Debian's
``chromium`` and ``chromium-driver`` (``tests/browser_setup.sh`` installs them); without them the test is skipped,
except under CI, where it fails.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

import pytest
from book_build import REPO

pytestmark = pytest.mark.after_notebooks

SCREENSHOTS = REPO / "_build" / "screenshots"
COLAB = "https://colab.research.google.com/github/minissl/minissl/blob/main/"
# What MyST leaves in the text when it was not parsed: fences, roles, directive options, substitutions.
RAW_MYST = ["```", ":::", "{cite}", "{exercise}", "{solution}", "{ref}", "{doc}", "{numref}", "{eq}", "{glue",
            "{{", ":label:", ":class:", "$$", "\\(", "\\["]

# The page's text without code and outputs (which may hold anything), after MathJax finished.
PROSE_JS = """
const root = document.querySelector('main article') || document.body;
const copy = root.cloneNode(true);
copy.querySelectorAll('pre, code, .cell_output, .cell_input, mjx-container, script, style').forEach(e => e.remove());
return copy.innerText;
"""
WAIT_MATHJAX_JS = """
const done = arguments[arguments.length - 1];
if (!window.MathJax || !MathJax.startup) { done('no MathJax'); return; }
MathJax.startup.promise.then(() => done('ok'), err => done('error: ' + err));
"""
PAGE_JS = """
const imgs = [...document.querySelectorAll('main img')];
return {
  images: imgs.length,
  output_images: document.querySelectorAll('main .cell_output img').length,
  broken_images: imgs.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
  math: document.querySelectorAll('main .math').length,
  untypeset: [...document.querySelectorAll('main .math')].filter(m => !m.querySelector('mjx-container'))
                 .map(m => m.textContent.slice(0, 80)),
  tex_errors: [...document.querySelectorAll('main mjx-merror')].map(e => e.getAttribute('data-mjx-error')),
  mathjax_src: [...document.scripts].map(s => s.src).filter(s => s.includes('tex-mml-chtml')),
  colab: [...document.querySelectorAll('a[href^="https://colab.research.google.com/"]')].map(a => a.href),
  links: [...document.querySelectorAll('main a[href]')].map(a => a.href),
};
"""


def _driver():
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        message = ("needs chromium and chromedriver: run tests/browser_setup.sh "
                   "(apt-get install chromium chromium-driver)")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    webdriver = pytest.importorskip("selenium.webdriver")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-proxy-server",
                "--window-size=1280,1600", "--hide-scrollbars"):
        options.add_argument(arg)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=chromedriver))


@pytest.fixture(scope="module")
def site(built_book):
    """(base URL, driver, book) for the built book, served on a free port of 127.0.0.1."""
    assert built_book.returncode == 0, f"book build failed:\n{built_book.log}"
    handler = functools.partial(_QuietHandler, directory=str(built_book.html))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    driver = None
    try:
        driver = _driver()
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", driver, built_book
    finally:
        if driver is not None:
            driver.quit()
        httpd.shutdown()
        httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def _pages():
    from book_build import toc_files

    return [f for f in toc_files() if f.startswith("notebooks/")]


def _anchor_exists(driver, url: str) -> bool:
    page, fragment = urldefrag(url)
    if driver.current_url.split("#")[0] != page:
        driver.get(page)
    if driver.title.startswith(("404", "Error response")):
        return False
    return not fragment or bool(driver.execute_script("return !!document.getElementById(arguments[0])", fragment))


@pytest.mark.parametrize("page", _pages())
def test_page_in_browser(site, page):
    base, driver, book = site
    url = urljoin(base, f"{page}.html")
    driver.get(url)
    assert not driver.title.startswith(("404", "Error response")), f"{url} did not load: {driver.title}"
    mathjax = driver.execute_async_script(WAIT_MATHJAX_JS)
    facts = driver.execute_script(PAGE_JS)
    prose = driver.execute_script(PROSE_JS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / f"{page.replace('/', '__')}.png"))

    raw = [token for token in RAW_MYST if token in prose]
    assert not raw, f"{page}: raw MyST in the text: {raw}"

    assert not facts["broken_images"], f"{page}: images that did not load: {facts['broken_images']}"
    if page in book.executed:  # every figure the notebook drew is on the page; a chapter draws at least one
        assert facts["output_images"] == book.figures[page], (
            f"{page}: {facts['output_images']} figures on the page, {book.figures[page]} in its executed notebook")
        assert facts["output_images"] > 0 or page.startswith("notebooks/solutions/"), f"{page}: no figure"

    if facts["math"]:
        assert mathjax == "ok", f"{page}: MathJax did not finish: {mathjax}"
        assert not facts["untypeset"], f"{page}: formulas left as TeX: {facts['untypeset'][:3]}"
        assert not facts["tex_errors"], f"{page}: TeX errors: {facts['tex_errors']}"
        if book.mathjax_bundled:
            assert all(src.startswith(base) for src in facts["mathjax_src"]), facts["mathjax_src"]

    notebook = f"{page}.ipynb"
    assert COLAB + notebook in facts["colab"], f"{page}: no Colab button for {notebook}: {facts['colab']}"
    for link in facts["colab"]:
        target = link.removeprefix(COLAB)
        assert link.startswith(COLAB) and (REPO / target).is_file(), f"{page}: Colab link to a missing file: {link}"

    if not page.startswith("notebooks/solutions/"):
        solutions = f"notebooks/solutions/{Path(page).name}"
        assert COLAB + f"{solutions}.ipynb" in facts["colab"], f"{page}: no Colab link to its solutions"
        assert urljoin(base, f"{solutions}.html") in facts["links"], f"{page}: no link to its solutions page"

    internal = sorted({link for link in facts["links"] if link.startswith(base) and urlparse(link).path.endswith(
        ".html")})
    broken = [link for link in internal if not _anchor_exists(driver, link)]
    assert not broken, f"{page}: links to missing pages or anchors: {broken}"
