"""A real server for the serve tests: uvicorn on 127.0.0.1 in a thread, and the browser to drive.

``running(app)`` serves an ASGI app on a free port until the block ends and gives its base URL
once ``/health`` answers 200; ``chromium()`` finds Debian's chromium and chromedriver (None when
either is missing: the browser tests skip, saying so)."""

from __future__ import annotations

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

NO_BROWSER = "no chromium + chromedriver here (.ci/run installs Debian's)"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(app: Any, ready_within: float = 120) -> Iterator[str]:
    """``app`` served by uvicorn on 127.0.0.1 in a daemon thread; yields the base URL when ready
    and stops the server when the block ends."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + ready_within
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=ready_within).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the server did not come up"
            time.sleep(0.05)
        yield url
    finally:
        server.should_exit = True
        thread.join(30)


def chromium() -> tuple[str, str] | None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None
