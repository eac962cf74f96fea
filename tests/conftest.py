"""Shared fixtures: the real dataset (slow tests) and tiny synthetic frames (fast tests)."""

from __future__ import annotations

import http.server
import os
import threading
from pathlib import Path

import pandas as pd
import pytest

from analysis import paths

#: Not test modules: the Quarto-rule fixtures are small website projects (their notebooks
#: are data for tests/test_quarto_rules.py, not chapters for nbval to execute).
collect_ignore = ["fixtures"]

#: Where the verified copy lives on the developers' machines and in CI.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "spotify_tracks.csv.gz"


@pytest.fixture(scope="session")
def raw_path() -> Path:
    """The real raw file; CI must have it, elsewhere its absence skips the test."""
    candidate = os.environ.get(paths.DATA_ENV_VAR)
    if candidate is None and SHARED_DATA.exists():
        candidate = SHARED_DATA
    if candidate is None or not Path(candidate).is_file():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs the dataset: set ${paths.DATA_ENV_VAR}.")
        pytest.skip(f"real dataset not available (set ${paths.DATA_ENV_VAR})")
    return Path(candidate)


@pytest.fixture(scope="session")
def track_data(raw_path, tmp_path_factory):
    """The cleaned real dataset, built once per test session in a private cache."""
    from analysis.data import load_tracks

    data_dir = tmp_path_factory.mktemp("data")
    old = os.environ.get(paths.DATA_DIR_ENV_VAR)
    os.environ[paths.DATA_DIR_ENV_VAR] = str(data_dir)
    try:
        yield load_tracks(raw_path)
    finally:
        if old is None:
            os.environ.pop(paths.DATA_DIR_ENV_VAR, None)
        else:
            os.environ[paths.DATA_DIR_ENV_VAR] = old


class _BodiesHandler(http.server.BaseHTTPRequestHandler):
    """Serves one body per path; ``/truncated…`` promises more bytes than it sends."""

    bodies: dict[str, bytes] = {}

    def do_GET(self):  # noqa: N802 (http.server API)
        body = self.bodies.get(self.path)
        if body is None:
            self.send_error(404)
            return
        self.send_response(200)
        promised = len(body) * 2 if self.path.startswith("/truncated") else len(body)
        self.send_header("Content-Length", str(promised))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    """A throw-away HTTP server on 127.0.0.1 (no network beyond loopback), as
    ``(url, bodies)``: put ``bodies["/path"] = b"…"`` to serve a body at ``url + "/path"``."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BodiesHandler)
    # shutdown() waits for serve_forever's next poll: 0.5 s by default, per test
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.01},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _BodiesHandler.bodies
    httpd.shutdown()
    _BodiesHandler.bodies.clear()


#: Debian's Chromium; Playwright's own browser download is not used (no network for it here).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]


@pytest.fixture(scope="session")
def browser():
    """One headless Chromium for the whole session.

    Playwright's sync API allows one instance per thread: a second ``sync_playwright()`` while
    the first is alive fails ("using Playwright Sync API inside the asyncio loop"), so every
    browser test shares this fixture instead of starting its own. CI must have Chromium: a
    skipped browser test there would hide a broken page.
    """
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        if os.environ.get("CI"):
            pytest.fail(f"CI needs {CHROMIUM} (make install-browser)")
        pytest.skip(f"{CHROMIUM} not installed (make install-browser)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def serve():
    """``serve(folder)`` serves a folder on 127.0.0.1 (text gzipped) and returns its URL."""
    from site_harness import Server

    servers = []

    def start(folder: Path) -> str:
        servers.append(Server(folder))
        return servers[-1].url

    yield start
    for server in servers:
        server.close()


@pytest.fixture
def open_page(browser):
    """``open_page(url, width=1280, height=900)``: the page loaded with only 127.0.0.1
    reachable, as a :class:`site_harness.PageVisit` (console errors, off-site requests…)."""
    from site_harness import visit

    contexts = []

    def open_(url: str, *, width: int = 1280, height: int = 900):
        context = browser.new_context(viewport={"width": width, "height": height})
        contexts.append(context)
        return visit(context, url)

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture(scope="session")
def site_model():
    """The project as Quarto reads it (``tests/quarto_rules.py``)."""
    from quarto_rules import Site

    return Site.load(paths.PROJECT_ROOT)


@pytest.fixture(scope="session")
def harness_site(site_model, tmp_path_factory):
    """Every notebook chapter built Quarto-like (``tests/site_harness.py``) into one folder
    laid out like ``_site``: ``(folder, {page path: HTML file})``."""
    from site_harness import build_site

    root = tmp_path_factory.mktemp("site")
    return root, build_site(site_model, root)


def _row(i, track_id, genre, **over):
    row = {
        "track_id": track_id, "artists": "Artist A", "album_name": "Album",
        "track_name": f"Song {i}",
        "popularity": 50, "duration_ms": 200_000, "explicit": False, "danceability": 0.5,
        "energy": 0.5, "key": 5, "loudness": -7.0, "mode": 1, "speechiness": 0.05,
        "acousticness": 0.2, "instrumentalness": 0.0, "liveness": 0.1, "valence": 0.5,
        "tempo": 120.0, "time_signature": 4, "track_genre": genre,
    }
    row.update(over)
    return row


@pytest.fixture
def raw_tiny() -> pd.DataFrame:
    """Nine listings covering every cleaning case.

    - t1 listed in ``reggae`` and ``reggaeton`` with popularity 50 and 52 (a conflict);
    - t2 listed twice in ``pop`` (a repeated listing);
    - t3 and t4: the same song (artists + title) under two track_ids;
    - a row with no artist or title (dropped);
    - t5 with zero duration and popularity 0.
    """
    rows = [
        _row(0, "t1", "reggae", popularity=50, artists="J Balvin", track_name="Hit"),
        _row(1, "t2", "pop"),
        _row(2, "t2", "pop"),
        _row(3, "t3", "rock", artists="Band;Guest", track_name="Same Song", album_name="Single"),
        _row(4, "t4", "rock", artists="Band;Guest", track_name="Same Song", album_name="LP"),
        _row(5, "tX", "k-pop", artists=None, album_name=None, track_name=None),
        _row(6, "t1", "reggaeton", popularity=52, artists="J Balvin", track_name="Hit"),
        _row(7, "t5", "sleep", popularity=0, duration_ms=0),
        _row(8, "t6", "rock", artists="Band", album_name="LP"),
    ]
    frame = pd.DataFrame(rows)
    for col in ("artists", "album_name", "track_name"):
        frame[col] = frame[col].astype("string")
    frame.index = pd.RangeIndex(len(frame), name="source_index")
    return frame
