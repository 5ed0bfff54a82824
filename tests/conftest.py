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
