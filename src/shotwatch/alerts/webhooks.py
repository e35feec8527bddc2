"""Signed webhooks: POST each published alert to the department's endpoints.

The body is the alert JSON; ``X-Shotwatch-Timestamp`` carries epoch seconds and
``X-Shotwatch-Signature`` is ``sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>``,
so a receiver can check both origin and freshness (the scheme Stripe and GitHub use).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

import httpx

logger = logging.getLogger("shotwatch.alerts")


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    mac = hmac.new(secret, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={mac}"


def verify(secret: bytes, timestamp: str, body: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


async def deliver(
    client: httpx.AsyncClient, urls: list[str], secret: bytes, body: bytes, retries: int = 2
) -> dict[str, int | str]:
    """POST ``body`` to every URL (a few retries); returns status code or error per URL."""
    out: dict[str, int | str] = {}
    for url in urls:
        ts = f"{time.time():.3f}"
        headers = {
            "content-type": "application/json",
            "x-shotwatch-timestamp": ts,
            "x-shotwatch-signature": sign(secret, ts, body),
        }
        for attempt in range(retries + 1):
            try:
                r = await client.post(url, content=body, headers=headers, timeout=5.0)
                out[url] = r.status_code
                if r.status_code < 500:
                    break
            except httpx.HTTPError as e:
                out[url] = f"error: {type(e).__name__}"
            if attempt < retries:
                import asyncio

                await asyncio.sleep(0.5 * (attempt + 1))
        status = out[url]
        if not (isinstance(status, int) and status < 300):
            logger.warning("webhook %s failed: %s", url, out[url])
    return out
