"""The console served by uvicorn on a free port in a thread, and Debian's Chromium driven by
Playwright (never `playwright install`: no browser is downloaded)."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import uvicorn

from yishu.api.app import create_app
from yishu.settings import REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def screenshots_dir() -> Path:
    """Where the tests put their screenshots (git-ignored; YISHU_SCREENSHOTS to choose)."""
    path = Path(os.environ.get("YISHU_SCREENSHOTS") or REPO_ROOT / ".yishu" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


class LiveServer:
    def __init__(self, res):
        config = uvicorn.Config(create_app(res), host="127.0.0.1", port=0, log_level="warning",
                                lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the console's server did not start")
            time.sleep(0.05)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self.server.should_exit = True
        self.thread.join(10)
