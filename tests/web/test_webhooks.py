"""Published alerts are POSTed, HMAC-signed, to the configured webhooks."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shotwatch.alerts.webhooks import verify

from .conftest import Env, make_env
from .helpers import report, wait_for

RECEIVED: list[tuple[dict[str, str], bytes]] = []


class _Hook(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        RECEIVED.append(({k.lower(): v for k, v in self.headers.items()}, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def hook_env(tmp_path: Path) -> Iterator[Env]:
    RECEIVED.clear()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hook)
    th = threading.Thread(target=srv.serve_forever, daemon=True)
    th.start()
    url = f"http://127.0.0.1:{srv.server_address[1]}/hook"
    try:
        yield from make_env(tmp_path, webhook_urls=[url], webhook_secret="hook-secret")
    finally:
        srv.shutdown()
        srv.server_close()


def test_signed_webhook_per_published_alert(hook_env: Env) -> None:
    env = hook_env
    t = time.time() - 1
    for k, sid in enumerate(list(env.sensors)[:5]):
        env.client.post("/api/v1/pulses", json=report(sid, t + 0.03 * k), headers=env.sensor(sid))
    headers, body = wait_for(lambda: RECEIVED)[0]
    alert = json.loads(body)
    assert alert["type"] == "alert" and alert["cad_call"]["type_code"] == "SHOTS"
    ts, sig = headers["x-shotwatch-timestamp"], headers["x-shotwatch-signature"]
    assert verify(b"hook-secret", ts, body, sig)
    assert not verify(b"wrong", ts, body, sig)
