"""Shared test fixtures. Unit tests run on the CPU with a non-interactive matplotlib backend."""

import contextlib
import http.server
import os
import threading
from pathlib import Path

import matplotlib
import pytest

from minissl.data import store

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
MIRROR = REPO.parent / "shared" / "data"


@pytest.fixture
def mirror() -> Path:
    """The offline data mirror (MINISSL_DATA, else ../shared/data); tests that need it skip without it."""
    root = Path(os.environ.get("MINISSL_DATA") or MIRROR)
    if not (root / "tinyshakespeare").is_dir():
        pytest.skip(f"no data mirror at {root}: set MINISSL_DATA to it")
    return root.resolve()


class _FileHandler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (the name http.server calls)
        payload = self.server.files.get(self.path)
        self.server.requests.append(self.path)
        if payload is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):  # keep the test output quiet
        pass


@contextlib.contextmanager
def serve_files(files: dict[str, bytes], monkeypatch):
    """Serve ``{url path: bytes}`` on 127.0.0.1 (a free port, its own thread) and send every download there
    (``MINISSL_DOWNLOAD_BASE``); yields the server, whose ``requests`` lists the paths asked for."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _FileHandler)
    httpd.files, httpd.requests = dict(files), []
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    monkeypatch.setenv(store.DOWNLOAD_BASE_ENV, f"http://127.0.0.1:{httpd.server_address[1]}")
    for name in ("no_proxy", "NO_PROXY"):  # a proxy set for the package registries must not see these requests
        monkeypatch.setenv(name, "127.0.0.1,localhost")
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


# --- Executed notebooks for the book test -------------------------------------------------------------------------
# nbval runs every notebook but keeps its outputs in memory. This plugin writes each notebook whose cells all
# passed, with those outputs, to _build/executed/<path>; the book test builds the pages from these copies, so the
# published figures and numbers are the ones the checks just asserted.

from book_build import EXECUTED  # noqa: E402 (the folder the book test reads them from)


class _NotebookRecorder:
    def __init__(self):
        self.failed: set[str] = set()

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = (yield).get_result()
        if type(item).__name__ != "IPyNbCell":
            return
        if report.failed:
            self.failed.add(item.parent.nodeid)
        if call.when == "call":
            item.cell.outputs = [_as_output(out) for out in (item.test_outputs or [])]

    def pytest_runtest_teardown(self, item, nextitem):
        if type(item).__name__ != "IPyNbCell" or (nextitem is not None and nextitem.parent is item.parent):
            return  # not the last cell of a notebook
        if item.parent.nodeid in self.failed:
            return
        import nbformat

        target = EXECUTED / Path(str(item.parent.fspath)).resolve().relative_to(REPO)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".ipynb.tmp")
        nbformat.write(item.parent.nb, str(tmp))
        tmp.replace(target)  # atomic: a reader of _build/executed never sees half a notebook


def _as_output(out):
    from nbformat.v4 import new_output

    kind = out["output_type"]
    if kind == "stream":
        return new_output("stream", name=out["name"], text=out["text"])
    if kind == "error":
        return new_output("error", ename=out["ename"], evalue=out["evalue"], traceback=out["traceback"])
    kwargs = {"execution_count": out.get("execution_count")} if kind == "execute_result" else {}
    return new_output(kind, data=out["data"], metadata=out.get("metadata", {}), **kwargs)


def pytest_configure(config):
    config.addinivalue_line("markers", "after_notebooks: runs after every notebook (it reads their executed copies)")
    config.pluginmanager.register(_NotebookRecorder(), "minissl-notebook-recorder")


# The notebooks by their time on a 2-core VM (cpu preset), the slowest first: under pytest-xdist (tests/run.sh)
# each notebook is one unit of work, handed to the next free worker in this order, so that no long notebook is
# left to run alone at the end. The unit tests come after every notebook and fill the gaps.
SLOWEST_NOTEBOOKS_FIRST = [
    "notebooks/06_simclr.ipynb",  # 900 s
    "notebooks/07_dino.ipynb",  # 720 s
    "notebooks/solutions/09_speech.ipynb",  # 640 s
    "notebooks/solutions/08_clip.ipynb",  # 540 s
    "notebooks/05_masked_words.ipynb",  # 500 s
    "notebooks/solutions/07_dino.ipynb",  # 350 s
    "notebooks/09_speech.ipynb",  # 330 s
    "notebooks/solutions/06_simclr.ipynb",  # 220 s
    "notebooks/08_clip.ipynb",  # 210 s
    "notebooks/04_gpt.ipynb",  # 200 s
    "notebooks/solutions/05_masked_words.ipynb",  # 130 s
]


def _xdist_rank(item) -> tuple[int, int]:
    path = Path(str(item.fspath)).resolve().relative_to(REPO).as_posix()
    if path in SLOWEST_NOTEBOOKS_FIRST:
        return 0, SLOWEST_NOTEBOOKS_FIRST.index(path)
    return (1 if path.startswith("notebooks/") else 2), 0


def pytest_collection_modifyitems(session, config, items):
    """Tests marked ``after_notebooks`` (the book build, the browser checks) run last. In a pytest-xdist worker
    the notebooks come first, the slowest first (see ``SLOWEST_NOTEBOOKS_FIRST``); sorts are stable, so the cells
    of a notebook keep their order."""
    if os.environ.get("PYTEST_XDIST_WORKER"):
        items.sort(key=_xdist_rank)
    items.sort(key=lambda item: item.get_closest_marker("after_notebooks") is not None)


@pytest.fixture(scope="session")
def built_book():
    """The book built once per session from the notebooks nbval ran (see ``book_build.py``)."""
    import shutil

    from book_build import build

    jupyter_book = shutil.which("jupyter-book")
    if jupyter_book is None:
        pytest.skip("jupyter-book is not installed")
    return build(jupyter_book)
