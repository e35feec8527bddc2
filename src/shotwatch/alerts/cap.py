"""CAP 1.2 (OASIS Common Alerting Protocol) feed of published alerts.

One ``<alert>`` per published incident version, in an Atom-free plain list
(``<alerts>``); each alert has ``status=Actual``, ``msgType`` Alert/Update/Cancel,
``scope=Restricted`` (police only), category ``Security``, event ``Gunfire``, urgency
``Immediate``, and an ``<area>`` with a ``<circle>`` "lat,lon radius_km". Sensor data is
never included.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree as ET

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"


def _cap_time(utc: str) -> str:
    """CAP wants ``YYYY-MM-DDThh:mm:ss+00:00`` (no fractional seconds)."""
    return utc[:19] + "+00:00"


_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
"""Characters XML 1.0 does not allow: written as they are, they make the feed unreadable
to every CAP consumer."""


def alert_element(alert: dict[str, Any], sender: str) -> ET.Element:
    inc = alert["incident"]
    a = ET.Element(f"{{{CAP_NS}}}alert")

    def sub(parent: ET.Element, tag: str, text: str) -> ET.Element:
        e = ET.SubElement(parent, f"{{{CAP_NS}}}{tag}")
        e.text = _NOT_XML.sub("", text)  # (a street name from the layer may hold any)
        return e

    sub(a, "identifier", f"shotwatch-{inc['id']}-v{alert['version']}")
    sub(a, "sender", sender)
    sub(a, "sent", _cap_time(alert["published_utc"]))
    sub(a, "status", "Actual")
    msg_type = {"publish": "Alert", "cancel": "Cancel"}.get(alert["kind"], "Update")
    sub(a, "msgType", msg_type)
    sub(a, "scope", "Restricted")
    sub(a, "restriction", "Law enforcement only; release requires captain authorization")
    info = ET.SubElement(a, f"{{{CAP_NS}}}info")
    sub(info, "category", "Security")
    sub(info, "event", "Gunfire")
    sub(info, "urgency", "Immediate")
    sub(info, "severity", "Severe")
    sub(info, "certainty", "Observed" if inc["classification"] == "gunfire" else "Likely")
    code = ET.SubElement(info, f"{{{CAP_NS}}}eventCode")
    sub(code, "valueName", "CAD")
    sub(code, "value", "SHOTS")
    sub(info, "headline", f"Gunfire: {inc['heard']} at {inc['location']}")
    sub(info, "description", f"{inc['summary']}. First shot {inc['first_shot_utc']}.")
    area = ET.SubElement(info, f"{{{CAP_NS}}}area")
    sub(area, "areaDesc", inc["location"])
    radius_km = max(float(inc["error_radius_m"]), 10.0) / 1000.0
    sub(area, "circle", f"{inc['lat']:.6f},{inc['lon']:.6f} {radius_km:.3f}")
    return a


def cap_feed(alerts: list[dict[str, Any]], sender: str = "shotwatch@localhost") -> bytes:
    """An XML document ``<alerts>`` holding one CAP 1.2 ``<alert>`` per item."""
    ET.register_namespace("", CAP_NS)
    root = ET.Element("alerts")
    for al in alerts:
        root.append(alert_element(al, sender))
    return bytes(ET.tostring(root, encoding="utf-8", xml_declaration=True))
