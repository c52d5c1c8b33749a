"""`make app` (the README's command) serves the app: health endpoint and page title."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from browser_support import browser_page, chromium_missing_reason, free_port, running_app

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _port() -> int:
    """8501, the documented port, when it is free; another free port otherwise."""
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", 8501))
        except OSError:
            return free_port()
    return 8501


def test_make_app_answers_on_localhost(tmp_path: Path) -> None:
    port = _port()
    env = {**os.environ, "MATLOOP_STORE": str(tmp_path)}
    with running_app(["make", "--no-print-directory", "app", f"PORT={port}"], port, env):
        # running_app has polled /_stcore/health until it answered "ok".
        if chromium_missing_reason() is None:
            with browser_page() as page:
                page.goto(f"http://localhost:{port}/")
                page.get_by_text("Campaign store", exact=True).wait_for(timeout=60_000)
                assert page.title() == "Home · matloop"
    assert (tmp_path / "matloop.sqlite").is_file()
