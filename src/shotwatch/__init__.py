"""Shotwatch: open gunfire detection, location and alerting."""

__version__ = "0.1.0"
