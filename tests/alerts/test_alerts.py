"""Street layer geocoding, CAD wording, webhook signatures, console fan-out."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest

from shotwatch.alerts.cad import compass, what_was_heard
from shotwatch.alerts.hub import AlertHub
from shotwatch.alerts.streets import StreetLayer
from shotwatch.alerts.webhooks import deliver, sign, verify
from shotwatch.errors import InputError
from shotwatch.geo import LocalFrame

LAT0, LON0 = 38.5790, -121.4930


def at(east: float, north: float) -> tuple[float, float]:
    lat, lon, _ = LocalFrame(LAT0, LON0, 0.0).to_geodetic([east, north, 0.0])
    return float(lat), float(lon)


def test_demo_layer_intersections_and_addresses() -> None:
    layer = StreetLayer.load()
    # streets every 100 m: 11th St runs north-south through the origin, K St east-west
    p = layer.describe(*at(3.0, -4.0))
    assert p.kind == "intersection" and p.text == "11th St & K St"
    mid = layer.describe(*at(50.0, 2.0))  # half way along K St between 11th and 12th
    assert mid.kind == "address" and mid.street == "K St"
    assert mid.text.startswith("11") and "11th St" in mid.text and "12th St" in mid.text
    num = int(mid.text.split()[0])
    assert 1140 <= num <= 1160


def test_address_points_and_bad_layers() -> None:
    gj = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {
                    "type": "LineString",
                    "coordinates": [[-121.5, 38.5], [-121.49, 38.5]],
                },
                "properties": {"name": "Main St"},
            },
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [-121.495, 38.5001]},
                "properties": {"address": "500 Main St (City Hall)"},
            },
        ],
    }
    layer = StreetLayer(gj)
    assert layer.describe(38.5001, -121.495).text == "500 Main St (City Hall)"
    assert layer.describe(38.5005, -121.492).text.startswith("Main St")
    with pytest.raises(InputError):
        StreetLayer({"type": "FeatureCollection", "features": "nope"})
    with pytest.raises(InputError):
        StreetLayer({"type": "FeatureCollection", "features": []})


def test_what_was_heard_covers_b3_cases() -> None:
    assert what_was_heard(1, 1, False, None, None) == "Single shooter, single round"
    assert what_was_heard(5, 1, False, None, None) == "Single shooter, multiple rounds (5)"
    assert what_was_heard(7, 2, False, None, None).startswith("Possible multiple shooters (2)")
    mobile = what_was_heard(4, 1, True, 13.4, 92.0)
    assert "possible mobile shooter travelling E (92°) at 30 mph" in mobile
    assert [compass(h) for h in (0, 44, 46, 180, 359)] == ["N", "NE", "NE", "S", "N"]


def test_webhook_signature_and_delivery() -> None:
    secret = b"k3y"
    body = json.dumps({"a": 1}).encode()
    got: list[httpx.Request] = []

    def handler(req: httpx.Request) -> httpx.Response:
        got.append(req)
        return httpx.Response(200)

    async def run() -> dict[str, int | str]:
        async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as c:
            return await deliver(c, ["http://cad.example/hook"], secret, body)

    out = asyncio.run(run())
    assert out == {"http://cad.example/hook": 200}
    req = got[0]
    ts, sig = req.headers["x-shotwatch-timestamp"], req.headers["x-shotwatch-signature"]
    assert verify(secret, ts, req.content, sig)
    assert not verify(b"other", ts, req.content, sig)
    assert not verify(secret, ts, req.content + b" ", sig)
    assert sign(secret, ts, body) == sig


def test_hub_filters_by_permission_and_drops_slow_consoles() -> None:
    async def run() -> None:
        hub = AlertHub()
        a = hub.connect("d", "dispatcher", ["live_alerts"])
        b = hub.connect("r", "reviewer", ["review"])
        assert hub.broadcast("x", "live_alerts") == 1
        assert a.queue.get_nowait() == "x" and b.queue.empty()
        for _ in range(a.queue.maxsize):
            hub.broadcast("y", "live_alerts")
        hub.broadcast("z", "live_alerts")  # a is full: disconnected, never blocks
        assert a.overflowed and len(hub) == 1

    asyncio.run(run())


def test_the_cap_feed_stays_xml_whatever_a_street_is_named() -> None:
    """A street layer's name holding a control character went into the CAP feed as is,
    and no XML parser could read the feed."""
    import xml.etree.ElementTree as ET

    from shotwatch.alerts.cap import cap_feed

    inc = {
        "id": "i1", "classification": "gunfire", "heard": "Single shooter, single round",
        "location": "Main\x0bSt & 5th\x01 Ave", "summary": "Gunfire", "first_shot_utc":
        "2026-12-07T10:00:00.000000Z", "error_radius_m": 5.0, "lat": 38.5, "lon": -121.5,
    }  # fmt: skip
    alert = {"incident": inc, "version": 1, "kind": "publish",
             "published_utc": "2026-12-07T10:00:01.000000Z"}  # fmt: skip
    root = ET.fromstring(cap_feed([alert]))
    ns = {"c": "urn:oasis:names:tc:emergency:cap:1.2"}
    assert root.find("c:alert/c:info/c:area/c:areaDesc", ns).text == "MainSt & 5th Ave"  # type: ignore[union-attr]
