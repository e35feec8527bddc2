"""Sub-commands of the live system: ``serve``, ``demo``, ``add-sensors``, ``bench-service``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer


async def _reach_bus(url: str) -> None:
    """Connect to the bus ``url`` names and close again: a bad URL or a broker that does
    not answer raises :class:`~shotwatch.bus.base.BusError` before the server starts (in
    the server's startup it ended in a traceback)."""
    import logging

    from shotwatch.bus import connect_url

    bus = connect_url(url)
    log = logging.getLogger("shotwatch.bus")
    level = log.level
    log.setLevel(logging.ERROR)  # (the client's retries: the error says it once)
    try:
        await bus.connect()
        await bus.close()
    finally:
        log.setLevel(level)


def register(app: typer.Typer) -> None:
    """Register ``serve``, ``demo``, ``add-sensors`` and ``bench-service``."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        database_url: Annotated[
            str | None, typer.Option(help="SQLAlchemy URL (default: SQLite under --data-dir).")
        ] = None,
        bus_url: Annotated[
            str | None, typer.Option(help="memory:// | mqtt://.. | nats://..")
        ] = None,
        data_dir: Annotated[Path | None, typer.Option(help="Database and evidence.")] = None,
        street_layer: Annotated[
            Path | None, typer.Option(help="Street layer GeoJSON (default: the demo layer).")
        ] = None,
        log_level: str = "info",
    ) -> None:
        """Run the service: pulse ingest, locator, review, alerts, CAD and the pages."""
        import uvicorn

        from shotwatch.settings import load_settings
        from shotwatch.web.app import create_app

        settings = load_settings(
            database_url=database_url, bus_url=bus_url, data_dir=data_dir, street_layer=street_layer
        )
        asyncio.run(_reach_bus(settings.bus_url))  # one line and status 2, not a traceback
        app_ = create_app(settings)
        uvicorn.run(app_, host=host, port=port, log_level=log_level)

    @app.command("add-sensors")
    def add_sensors(
        sensors_csv: Annotated[Path, typer.Argument(help="sensors.csv")],
        database_url: Annotated[str | None, typer.Option()] = None,
        data_dir: Annotated[Path | None, typer.Option()] = None,
        tokens_out: Annotated[
            Path | None, typer.Option(help="Write sensor_id,token CSV here (else stdout).")
        ] = None,
    ) -> None:
        """Register the sensors of a sensors.csv and print one new credential per sensor."""
        from shotwatch.formats import read_sensors
        from shotwatch.settings import load_settings
        from shotwatch.web.provision import provision_sensors

        settings = load_settings(database_url=database_url, data_dir=data_dir)
        tokens = provision_sensors(settings, read_sensors(sensors_csv))
        lines = ["sensor_id,token", *(f"{k},{v}" for k, v in tokens.items())]
        if tokens_out is not None:
            tokens_out.write_text("\n".join(lines) + "\n", encoding="utf-8")
            typer.echo(f"{len(tokens)} sensor credentials written to {tokens_out}")
        else:
            typer.echo("\n".join(lines))

    @app.command()
    def retention(
        purge: Annotated[bool, typer.Option(help="Delete what has expired.")] = False,
        database_url: Annotated[str | None, typer.Option()] = None,
        data_dir: Annotated[Path | None, typer.Option()] = None,
    ) -> None:
        """Report (or with --purge delete) incidents, pulses and audio past their
        retention period (7 years by default); the audit log is kept."""
        import time

        from shotwatch.settings import load_settings
        from shotwatch.store import audit, repo
        from shotwatch.store.db import Database
        from shotwatch.store.evidence import FileEvidenceStore

        settings = load_settings(database_url=database_url, data_dir=data_dir)
        db = Database(settings.sqlalchemy_url)
        try:
            now = time.time()
            with db.session() as s:
                if not purge:
                    exp = repo.expired(s, now)
                    typer.echo(
                        f"expired: {len(exp['incidents'])} incidents, {len(exp['pulses'])} "
                        "pulses (use --purge to delete)"
                    )
                    return
                n_inc, n_pulses, keys = repo.purge_expired(s, now)
            store = FileEvidenceStore(settings.evidence_dir)
            for k in keys:
                store.delete(k)
            audit.append(db, "retention", "purge", "store", f"{n_inc} incidents, {n_pulses} pulses")
            typer.echo(f"purged {n_inc} incidents, {n_pulses} pulses, {len(keys)} audio clips")
        finally:
            db.dispose()

    @app.command()
    def demo(
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        data_dir: Annotated[
            Path | None, typer.Option(help="Where the demo keeps its database (default: temp).")
        ] = None,
        pause_s: Annotated[float, typer.Option(help="Seconds between scenario cases.")] = 8.0,
        loops: Annotated[int, typer.Option(help="Scenario loops (0 = forever).")] = 0,
        seed: int = 1,
    ) -> None:
        """Start the service on embedded defaults with a simulated city firing a scripted
        scenario loop (each §B.3 case plus fireworks) through the real HTTP ingest."""
        from shotwatch.web.demo import run_demo

        run_demo(
            host=host,
            port=port,
            data_dir=data_dir,
            pause_s=pause_s,
            loops=loops,
            seed=seed,
        )

    @app.command("bench-service")
    def bench_service(
        consoles: Annotated[int, typer.Option(help="Connected WebSocket consoles.")] = 50,
        alerts: Annotated[int, typer.Option(help="Alerts to publish.")] = 200,
        pulses: Annotated[int, typer.Option(help="Pulse reports to ingest.")] = 2000,
        clients: Annotated[int, typer.Option(help="Concurrent ingest clients.")] = 8,
        database_url: Annotated[
            list[str] | None,
            typer.Option(help="Database(s) to measure ingest on (default: a temp SQLite)."),
        ] = None,
    ) -> None:
        """Alert fan-out latency (p50/p99) with N consoles, and ingest rate (pulses/s)."""
        from shotwatch.web.bench import run_bench

        run_bench(
            consoles=consoles,
            n_alerts=alerts,
            n_pulses=pulses,
            clients=clients,
            database_urls=database_url or ["sqlite"],
        )
