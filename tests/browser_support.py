"""Start the Streamlit app on a free port and drive Debian's headless Chromium (test helpers)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
]


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not os.path.exists(CHROMIUM):
        return "Chromium is not installed (apt-get install chromium); .ci/run installs it"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float = 90.0, process: subprocess.Popen | None = None) -> None:
    """Poll ``/_stcore/health`` until it answers ``ok``."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"app exited with status {process.returncode} before it was healthy")
        try:
            with urllib.request.urlopen(f"http://localhost:{port}/_stcore/health", timeout=2) as reply:
                if reply.read().decode().strip() == "ok":
                    return
        except OSError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"app on port {port} not healthy after {timeout} s")


@contextmanager
def running_app(command: Sequence[str], port: int, env: dict[str, str]) -> Iterator[subprocess.Popen]:
    """Run the app command in its own process group; stop the whole group afterwards."""
    process = subprocess.Popen(
        list(command), cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(port, process=process)
        yield process
    finally:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


def streamlit_command(port: int) -> list[str]:
    """The app started as ``make app`` starts it, on ``port``, with the file watcher off."""
    return [
        sys.executable, "-m", "streamlit", "run", str(ROOT / "ui" / "app.py"),
        "--server.headless", "true", "--server.port", str(port), "--server.address", "localhost",
        "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
    ]


@contextmanager
def browser_page() -> Iterator[object]:
    """A Playwright page in Debian's headless Chromium, with a fresh profile."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser.new_page(viewport={"width": 1280, "height": 900})
        finally:
            browser.close()
