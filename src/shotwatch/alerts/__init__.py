"""Alerts: street layer, console fan-out, CAD adapter, CAP 1.2 feed, webhooks."""
