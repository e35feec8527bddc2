"""Synthetic audio and a tiny pulse-ingest server for the sensor tests."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np
from numpy.typing import NDArray

T0 = 1_783_199_585.0  # 2026-07-04T21:13:05Z, the GPS time of sample 0


def impulse_train(
    sample_rate: int,
    *,
    seconds: float = 6.0,
    first_s: float = 1.0,
    spacing_s: float = 0.7,
    noise: float = 0.003,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Decaying 1.5 kHz bursts (onset at a random sub-sample time) in white noise.

    Returns (samples, true onset times in seconds from sample 0).
    """
    rng = np.random.default_rng(seed)
    n = round(seconds * sample_rate)
    x = rng.normal(0.0, noise, n)
    onsets = np.arange(first_s, seconds - 1.0, spacing_s) + rng.uniform(
        0.0, 1.0 / sample_rate, size=len(np.arange(first_s, seconds - 1.0, spacing_s))
    )
    t = np.arange(n) / sample_rate
    for t0 in onsets:
        dt = t - t0
        m = (dt >= 0.0) & (dt < 0.1)
        x[m] += 0.5 * np.exp(-dt[m] / 0.003) * np.cos(2.0 * np.pi * 1500.0 * dt[m])
    return x, onsets


def split_at(x: NDArray[np.float64], cuts: list[int]) -> list[NDArray[np.float64]]:
    """Split ``x`` at the given sample indices."""
    edges = [0, *sorted(c for c in cuts if 0 < c < x.shape[0]), x.shape[0]]
    return [x[a:b] for a, b in itertools.pairwise(edges) if b > a]


class Receiver:
    """A tiny pulse-ingest server: answers ``fail_first`` requests with 503, then 202."""

    def __init__(self, fail_first: int = 0, status: int = 202, retry_after: str | None = None):
        self.fail_first = fail_first
        self.status = status
        self.retry_after = retry_after
        self.requests: list[tuple[str, str, dict[str, Any]]] = []
        self.accepted: list[dict[str, Any]] = []
        rec = self

        class H(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                report = json.loads(body)
                rec.requests.append((self.path, self.headers["Authorization"], report))
                if len(rec.requests) <= rec.fail_first:
                    code = 503
                elif self.path != "/api/v1/pulses":
                    code = 404
                elif self.headers["Authorization"] != "Bearer s3cret":
                    code = 401
                else:
                    code = rec.status
                if code == 202:
                    rec.accepted.append(report)
                self.send_response(code)
                if code == 503 and rec.retry_after is not None:
                    self.send_header("Retry-After", rec.retry_after)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
