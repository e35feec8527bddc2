"""``shotwatch sensor run``: the edge agent on a file or a stream."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from shotwatch.errors import ConfigError, InputError

sensor_app = typer.Typer(
    name="sensor",
    help="The sensor edge agent: audio -> onset picks, scores, clips -> pulse reports.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    """Register ``shotwatch sensor ...``."""
    app.add_typer(sensor_app, name="sensor")


def _start(
    verbose: bool, server: str | None, mqtt: str | None, out: str | None, clip_format: str
) -> None:
    """What ``run`` and ``replay`` check and set up first: logging, exactly one transport,
    a known clip format."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    if len([t for t in (server, mqtt, out) if t]) != 1:
        raise InputError("give exactly one of --server, --mqtt, --out")
    if clip_format not in ("flac", "wav", "none"):
        raise InputError(f"--clip-format must be flac, wav or none, got {clip_format!r}")


@sensor_app.command("run")
def run(
    *,
    sensor_id: Annotated[str, typer.Option("--sensor-id", help="This sensor's id, e.g. S001.")],
    input_: Annotated[
        str,
        typer.Option(
            "--input",
            "-i",
            help="WAV/FLAC file, or '-' for a WAV stream / raw s16le PCM on stdin.",
        ),
    ],
    start_utc: Annotated[
        str | None,
        typer.Option(
            "--start-utc",
            help="GPS time of the first sample (ISO-8601 ...Z). Required for a file; "
            "a stream defaults to the clock at its first sample.",
        ),
    ] = None,
    server: Annotated[
        str | None, typer.Option("--server", help="POST reports to SERVER/api/v1/pulses.")
    ] = None,
    token: Annotated[
        str | None,
        typer.Option("--token", envvar="SHOTWATCH_SENSOR_TOKEN", help="Sensor bearer token."),
    ] = None,
    mqtt: Annotated[
        str | None,
        typer.Option("--mqtt", help="Publish to shotwatch/pulses/<id> on mqtt://host:port."),
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Append JSON lines to FILE ('-': stdout).")
    ] = None,
    realtime: Annotated[
        bool, typer.Option("--realtime", help="Replay a file at real speed.")
    ] = False,
    sample_rate: Annotated[
        int | None, typer.Option("--sample-rate", help="Rate of raw PCM on stdin, Hz.")
    ] = None,
    block_ms: Annotated[
        float | None,
        typer.Option("--block-ms", help="Block size, ms (default 100 real-time, 2000 fast)."),
    ] = None,
    spool: Annotated[
        Path | None,
        typer.Option("--spool", help="Directory keeping undelivered reports across restarts."),
    ] = None,
    spool_max: Annotated[
        int, typer.Option("--spool-max", min=1, help="Most undelivered reports kept.")
    ] = 10_000,
    spool_max_mb: Annotated[
        float,
        typer.Option("--spool-max-mb", min=0.001, help="Most MiB of undelivered reports kept."),
    ] = 64.0,
    clip_format: Annotated[str, typer.Option("--clip-format", help="flac, wav or none.")] = "flac",
    clip_before_ms: Annotated[
        float, typer.Option("--clip-before-ms", help="Clip pre-roll, ms.")
    ] = 100.0,
    clip_after_ms: Annotated[
        float,
        typer.Option(
            "--clip-after-ms",
            help="Clip length after the onset, ms; a pulse is reported this long "
            "(at least 450 ms, plus one block) after its onset.",
        ),
    ] = 900.0,
    no_classifier: Annotated[
        bool, typer.Option("--no-classifier", help="Do not score pulses.")
    ] = False,
    flush_timeout: Annotated[
        float, typer.Option("--flush-timeout", help="Seconds to wait for delivery at the end.")
    ] = 30.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Pick impulses in audio and report them as pulses (HTTP, MQTT or a JSON-lines file)."""
    _start(verbose, server, mqtt, out, clip_format)
    if block_ms is not None and not 1.0 <= block_ms <= 10_000.0:
        raise InputError(f"--block-ms must be 1-10000, got {block_ms}")
    if flush_timeout < 0:
        raise InputError("--flush-timeout must be >= 0")
    code = asyncio.run(
        _run(
            sensor_id=sensor_id,
            input_=input_,
            start_utc=start_utc,
            server=server,
            token=token,
            mqtt=mqtt,
            out=out,
            realtime=realtime,
            sample_rate=sample_rate,
            block_s=(block_ms if block_ms is not None else 100.0 if realtime else 2000.0) / 1e3,
            spool_dir=spool,
            spool_max=spool_max,
            spool_max_bytes=round(spool_max_mb * 1024 * 1024),
            clip_format=None if clip_format == "none" else clip_format,
            clip_before_s=clip_before_ms / 1e3,
            clip_after_s=clip_after_ms / 1e3,
            classify=not no_classifier,
            flush_timeout=flush_timeout,
        )
    )
    if code:
        raise typer.Exit(code)


async def _run(
    *,
    sensor_id: str,
    input_: str,
    start_utc: str | None,
    server: str | None,
    token: str | None,
    mqtt: str | None,
    out: str | None,
    realtime: bool,
    sample_rate: int | None,
    block_s: float,
    spool_dir: Path | None,
    spool_max: int,
    spool_max_bytes: int,
    clip_format: Any,
    clip_before_s: float,
    clip_after_s: float,
    classify: bool,
    flush_timeout: float,
) -> int:
    from shotwatch.bus import BusError
    from shotwatch.sensor.agent import SensorAgent, validate_sensor_id
    from shotwatch.sensor.runner import Source, run_source
    from shotwatch.sensor.sources import FileSource, StreamSource
    from shotwatch.sensor.transport import (
        BusTransport,
        HttpTransport,
        JsonlTransport,
        RetryingTransport,
        Spool,
        Transport,
    )
    from shotwatch.timeutil import parse_utc

    validate_sensor_id(sensor_id)
    source: Source
    if input_ == "-":
        source = await asyncio.to_thread(StreamSource, sys.stdin.buffer, sample_rate)
        t0 = parse_utc(start_utc) if start_utc else time.time()
    else:
        if sample_rate is not None:
            raise InputError("--sample-rate is only for raw PCM on stdin")
        source = FileSource(input_)
        if not start_utc:
            raise InputError("--start-utc (GPS time of the first sample) is required for a file")
        t0 = parse_utc(start_utc)

    transport: Transport
    if out:
        transport = JsonlTransport(out)
    else:
        try:
            queue = Spool(spool_dir, max_items=spool_max, max_bytes=spool_max_bytes)
        except ConfigError as e:
            raise InputError(str(e)) from None
        if server:
            if not token:
                raise InputError("--server needs --token (or SHOTWATCH_SENSOR_TOKEN)")
            transport = HttpTransport(server, token, spool=queue)
        else:
            assert mqtt is not None
            if not mqtt.startswith("mqtt://"):
                raise InputError(f"--mqtt must be an mqtt://host:port URL, got {mqtt!r}")
            try:
                transport = BusTransport(mqtt, spool=queue)
            except BusError as e:
                raise InputError(str(e)) from None

    agent = SensorAgent(
        sensor_id,
        transport,
        sample_rate=source.sample_rate,
        start_utc=t0,
        classifier="auto" if classify else None,
        clip_format=clip_format,
        clip_before_s=clip_before_s,
        clip_after_s=clip_after_s,
    )
    await transport.start()
    task = asyncio.current_task()
    if task is not None:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        stats = await run_source(agent, source, block_s=block_s, realtime=realtime)
        delivered = await transport.flush(
            min(flush_timeout, 5.0) if stats.interrupted else flush_timeout
        )
    finally:
        await transport.close(timeout=0)
    typer.echo(f"{sensor_id}: {stats.describe(source.sample_rate)}", err=True)
    if isinstance(transport, RetryingTransport):
        typer.echo(
            f"{sensor_id}: delivered {transport.delivered}, rejected by the receiver "
            f"{transport.rejected}, spool dropped {transport.spool.dropped}",
            err=True,
        )
    if not delivered:
        where = f"kept in {spool_dir}" if spool_dir else "not delivered"
        typer.echo(f"{sensor_id}: {transport.pending} reports {where}", err=True)
    if stats.interrupted:
        typer.echo(f"{sensor_id}: interrupted", err=True)
        return 130
    return 0 if delivered else 1


@sensor_app.command("replay")
def replay_cmd(
    *,
    clips: Annotated[
        Path, typer.Argument(help="A clips.csv, or a directory holding one (DIR/clips.csv).")
    ],
    server: Annotated[
        str | None, typer.Option("--server", help="POST reports to SERVER/api/v1/pulses.")
    ] = None,
    tokens: Annotated[
        Path | None,
        typer.Option("--tokens", help="sensor_id,token CSV (from `shotwatch add-sensors`)."),
    ] = None,
    mqtt: Annotated[
        str | None,
        typer.Option("--mqtt", help="Publish to shotwatch/pulses/<id> on mqtt://host:port."),
    ] = None,
    out: Annotated[
        str | None, typer.Option("--out", "-o", help="Write JSON lines to FILE ('-': stdout).")
    ] = None,
    realtime: Annotated[bool, typer.Option("--realtime", help="Replay at real speed.")] = False,
    speed: Annotated[
        float | None, typer.Option("--speed", help="Replay at this multiple of real speed.")
    ] = None,
    time_shift: Annotated[
        str,
        typer.Option(
            "--time-shift",
            help="Seconds added to every time, or 'now' to start the recording now.",
        ),
    ] = "0",
    clip_format: Annotated[str, typer.Option("--clip-format", help="flac, wav or none.")] = "flac",
    no_classifier: Annotated[
        bool, typer.Option("--no-classifier", help="Do not score pulses.")
    ] = False,
    flush_timeout: Annotated[
        float, typer.Option("--flush-timeout", help="Seconds to wait for delivery at the end.")
    ] = 30.0,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Replay a recorded deployment (clips.csv) as live sensors, in global time order."""
    _start(verbose, server, mqtt, out, clip_format)
    if server and tokens is None:
        raise InputError("--server needs --tokens (sensor_id,token CSV)")
    if realtime and speed is not None:
        raise InputError("give --realtime or --speed, not both")
    if speed is not None and not speed > 0:
        raise InputError(f"--speed must be > 0, got {speed}")
    code = asyncio.run(
        _replay(
            clips_csv=clips / "clips.csv" if clips.is_dir() else clips,
            server=server,
            tokens=tokens,
            mqtt=mqtt,
            out=out,
            speed=1.0 if realtime else speed,
            time_shift=time_shift,
            clip_format=None if clip_format == "none" else clip_format,
            classify=not no_classifier,
            flush_timeout=flush_timeout,
        )
    )
    if code:
        raise typer.Exit(code)


def read_tokens(path: Path) -> dict[str, str]:
    """``sensor_id,token`` CSV -> dict. Errors name the file and line."""
    import csv

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", str(path)) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", str(path)) from None
    reader = csv.DictReader(text.splitlines())
    if reader.fieldnames is None or not {"sensor_id", "token"} <= set(reader.fieldnames):
        raise InputError("header must be sensor_id,token", f"{path}:1")
    out: dict[str, str] = {}
    for row in reader:
        sid, tok = (row.get("sensor_id") or "").strip(), (row.get("token") or "").strip()
        if not sid or not tok:
            raise InputError("empty sensor_id or token", f"{path}:{reader.line_num}")
        out[sid] = tok
    return out


async def _replay(
    *,
    clips_csv: Path,
    server: str | None,
    tokens: Path | None,
    mqtt: str | None,
    out: str | None,
    speed: float | None,
    time_shift: str,
    clip_format: Any,
    classify: bool,
    flush_timeout: float,
) -> int:
    from shotwatch.bus import BusError
    from shotwatch.sensor.replay import read_clip_refs, replay
    from shotwatch.sensor.transport import (
        BusTransport,
        HttpTransport,
        JsonlTransport,
        RetryingTransport,
        Transport,
    )

    refs = read_clip_refs(clips_csv)
    first = min(c.start for cl in refs.values() for c in cl)
    if time_shift == "now":
        shift = time.time() - first
    else:
        try:
            shift = float(time_shift)
        except ValueError:
            raise InputError(f"--time-shift must be seconds or 'now', got {time_shift!r}") from None
    transports: dict[str, Transport] = {}
    shared: Transport | None = None
    client: Any = None
    if out:
        shared = JsonlTransport(out)
    elif mqtt:
        if not mqtt.startswith("mqtt://"):
            raise InputError(f"--mqtt must be an mqtt://host:port URL, got {mqtt!r}")
        try:
            shared = BusTransport(mqtt)
        except BusError as e:
            raise InputError(str(e)) from None
    else:
        import httpx

        assert server is not None and tokens is not None
        toks = read_tokens(tokens)
        missing = sorted(set(refs) - set(toks))
        if missing:
            raise InputError(f"no token for sensor(s) {', '.join(missing[:10])}", str(tokens))
        client = httpx.AsyncClient(timeout=10.0)
        for sid in refs:
            transports[sid] = HttpTransport(server, toks[sid], client=client)
    if shared is not None:
        transports = dict.fromkeys(refs, shared)
    unique = list({id(t): t for t in transports.values()}.values())
    for t in unique:
        await t.start()
    try:
        stats = await replay(
            refs,
            transports.__getitem__,
            speed=speed,
            time_shift=shift,
            clip_format=clip_format,
            classify=classify,
        )
        deadline = time.monotonic() + flush_timeout
        ok = True
        for t in unique:
            ok &= await t.flush(max(0.0, deadline - time.monotonic()))
    finally:
        for t in unique:
            await t.close(timeout=0)
        if client is not None:
            await client.aclose()
    typer.echo(
        f"replayed {stats.sensors} sensors, {stats.clips} clips, {stats.audio_s:.1f} s of audio "
        f"in {stats.wall_s:.1f} s: {stats.pulses} pulses",
        err=True,
    )
    retrying = [t for t in unique if isinstance(t, RetryingTransport)]
    if retrying:
        typer.echo(
            f"delivered {sum(t.delivered for t in retrying)}, rejected by the receiver "
            f"{sum(t.rejected for t in retrying)}, undelivered {sum(t.pending for t in retrying)}",
            err=True,
        )
    return 0 if ok else 1
