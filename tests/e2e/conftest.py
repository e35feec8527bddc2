from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from shotwatch.settings import Settings
from shotwatch.web.app import create_app
from shotwatch.web.provision import provision_sensors

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class LiveServer:
    url: str
    app: Any
    tokens: dict[str, str]


def start_server(
    tmp: Path, sensors: dict[str, Any], locator_factory: Any = None, weather: Any = None, **kw: Any
) -> Iterator[LiveServer]:
    settings = Settings(data_dir=tmp, flush_interval_s=0.1, **kw)
    app = create_app(settings, locator_factory=locator_factory, weather=weather)
    tokens = provision_sensors(settings, sensors, db=app.state.service.db)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    th = threading.Thread(target=lambda: asyncio.run(server.serve()), daemon=True)
    th.start()
    end = time.time() + 20
    while not server.started:
        if time.time() > end or not th.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app, tokens)
    finally:
        server.should_exit = True
        th.join(timeout=10)


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
