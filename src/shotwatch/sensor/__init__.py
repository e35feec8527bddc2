"""The sensor edge agent: audio from a file, a stream or a sound card -> onset picks,
scores, short clips -> pulse reports to the server (HTTP, MQTT) or a JSON-lines file.

Nothing here does work at import time; the picker, the classifier and the network
clients load when an agent or transport is created.
"""

from __future__ import annotations

from shotwatch.sensor.agent import SensorAgent, pulse_report, validate_sensor_id
from shotwatch.sensor.clip import decode_clip, encode_clip
from shotwatch.sensor.transport import (
    BusTransport,
    DeliveryError,
    HttpTransport,
    JsonlTransport,
    RetryingTransport,
    Spool,
    Transport,
)

__all__ = [
    "BusTransport",
    "DeliveryError",
    "HttpTransport",
    "JsonlTransport",
    "RetryingTransport",
    "SensorAgent",
    "Spool",
    "Transport",
    "decode_clip",
    "encode_clip",
    "pulse_report",
    "validate_sensor_id",
]
