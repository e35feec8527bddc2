"""``shotwatch bench``: a fixed, seeded suite of simulated urban scenes scored against the
simulator's truth (the truth is read here only, never by the pipeline)."""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shotwatch.core.acoustics import travel_time
from shotwatch.core.associate import warm_up
from shotwatch.core.locate import cramer_rao_bound, horizontal_rms, refine_batch
from shotwatch.geo import LocalFrame, distance_m
from shotwatch.models import Classification, Incident
from shotwatch.pipeline import Array, locate_pulses, pulses_from_clips, sound_speed
from shotwatch.timeutil import parse_utc

GUN_KINDS = ("single", "multi_round", "two_shooters", "mobile", "open")
CONFUSER_KINDS = ("fireworks", "firecrackers", "backfire", "door_slam")
MATCH_S = 0.05
MATCH_M = 50.0
ON_TIME_S = 0.003
"""A sensor hears a shot "on time" when its first arrival other than an echo comes within
this of the straight-path travel time (a path diffracted over roofs or round a corner
comes later by its detour: tens of milliseconds for tens of metres)."""


def _on_time_sensors(ev: dict[str, Any], array: Array, c: float, wind: Any) -> int:
    """How many sensors heard the truth event ``ev`` on time (:data:`ON_TIME_S`)."""
    first: dict[str, float] = {}
    for a in ev["arrivals"]:
        if a["path"] != "echo":
            first[a["sensor_id"]] = min(first.get(a["sensor_id"], math.inf), a["true_travel_s"])
    if not first:
        return 0
    src = array.frame.to_enu(ev["lat"], ev["lon"], ev["elevation_m"])
    rcv = np.array([array.pos[array.index[s]] for s in first])
    straight = travel_time(np.asarray(src, float).ravel(), rcv, c, wind)
    return int(np.sum(np.fromiter(first.values(), float) - straight < ON_TIME_S))


def _heading_err(a: float, b: float) -> float:
    return abs((a - b + 180.0) % 360.0 - 180.0)


def run_suite(
    scenes_per_kind: int = 20,
    seed: int = 0,
    progress: Callable[[], None] | None = None,
    audio_scenes: int = 3,
    scores: bool = True,
    score_correlation: float = 0.5,
) -> dict[str, Any]:
    """The seeded suite: ``scenes_per_kind`` urban scenes of each kind. With ``scores``
    the pulses carry gunshot scores drawn from the shipped model's out-of-fold scores
    (:mod:`shotwatch.sim.scores`); they change only the classification figures."""
    from shotwatch.sim import simulate
    from shotwatch.sim.scenes import urban_scene

    measured, score_note = _score_section(scores, score_correlation)
    warm_up()  # compiled kernels loaded (or compiled) before any timing, as the service

    errs: list[float] = []
    ratios_open: list[float] = []
    ratios_urban: list[float] = []
    heard4 = located = 0
    heard_small = located_small = 0  # shots heard by only 4-8 sensors
    heard_on_time = located_on_time = 0  # shots heard on time by 4 sensors or more
    rounds_ok = shooters_ok = gun_incidents = 0
    # incidents whose every round 4 sensors or more heard (a round heard by fewer can be
    # counted only from a place already known), and those with a round heard by two or
    # fewer (no locator places it: the rounds-exact figure's ceiling)
    rounds_ok_heard4 = gun_incidents_heard4 = gun_incidents_heard_le2 = 0
    gun_alerted = gun_non = 0  # true gunfire incidents told gunfire / non-gunfire
    speed_err: list[float] = []
    heading_err: list[float] = []
    confuser_incidents = confuser_gunfire = confuser_flagged = 0
    fireworks_gunfire = 0
    n_pulses = 0
    t_locate = 0.0
    for kind in GUN_KINDS + CONFUSER_KINDS:
        for k in range(scenes_per_kind):
            s = seed * 100_000 + k
            scene = urban_scene(s, kind)
            if measured is not None:
                scene = scene.model_copy(update={"scores": measured})
            res = simulate(scene, seed=s)
            n_pulses += len(res.pulses)
            t0 = time.perf_counter()
            incidents = locate_pulses(res.sensors, res.pulses, res.weather)
            t_locate += time.perf_counter() - t0
            truth = res.truth
            if kind in CONFUSER_KINDS:
                confuser_incidents += 1
                bad = any(i.classification == Classification.GUNFIRE for i in incidents)
                confuser_gunfire += int(bad)
                confuser_flagged += int(any(i.classification in _FLAGGED for i in incidents))
                fireworks_gunfire += int(bad and kind == "fireworks")
                if progress:
                    progress()
                continue
            array = Array.from_sensors(res.sensors)
            c, wind = sound_speed(res.weather)
            shots = [(i, s_) for i in incidents for s_ in i.shots]
            for ev in truth["events"]:
                if ev["kind"] != "gunfire":
                    continue
                sensors_heard = {a["sensor_id"] for a in ev["arrivals"]}
                if len(sensors_heard) < 4:
                    continue
                heard4 += 1
                small = len(sensors_heard) <= 8
                heard_small += int(small)
                on_time = _on_time_sensors(ev, array, c, wind) >= 4
                heard_on_time += int(on_time)
                te = parse_utc(ev["t_utc"])
                fr = LocalFrame(ev["lat"], ev["lon"], ev["elevation_m"])
                best = None
                for _inc, sh in shots:
                    d = float(np.hypot(*fr.to_enu(sh.lat, sh.lon, sh.elevation_m)[:2]))
                    if abs(sh.t - te) < MATCH_S and d < MATCH_M and (best is None or d < best[0]):
                        best = (d, sh)
                if best is None:
                    continue
                located += 1
                located_small += int(small)
                located_on_time += int(on_time)
                errs.append(best[0])
                direct = [a for a in ev["arrivals"] if a["path"] == "direct"]
                used = set(best[1].sensors)
                direct = [a for a in direct if a["sensor_id"] in used]
                if len(direct) >= 4:
                    src = array.frame.to_enu(ev["lat"], ev["lon"], ev["elevation_m"])
                    spos = np.array([array.pos[array.index[a["sensor_id"]]] for a in direct])
                    sig = np.array(
                        [np.hypot(a.get("pick_sigma_s", 1e-4), a["clock_error_s"]) for a in direct]
                    )
                    crb = float(horizontal_rms(cramer_rao_bound(src, spos, c, sig, wind=wind)))
                    if crb > 0:
                        (ratios_open if kind == "open" else ratios_urban).append(best[0] / crb)
            for ti in truth["incidents"]:
                if ti["kind"] != "gunfire":
                    continue
                gun_incidents += 1
                heard = [
                    len({a["sensor_id"] for a in ev["arrivals"]})
                    for ev in truth["events"]
                    if ev["incident"] == ti["id"]
                ]
                all4 = bool(heard) and min(heard) >= 4
                gun_incidents_heard4 += int(all4)
                gun_incidents_heard_le2 += int(bool(heard) and min(heard) <= 2)
                inc = _match_incident(incidents, truth, ti["id"])
                if inc is None:
                    continue
                rounds_ok += int(inc.rounds == ti["rounds"])
                rounds_ok_heard4 += int(all4 and inc.rounds == ti["rounds"])
                gun_alerted += int(inc.classification == Classification.GUNFIRE)
                gun_non += int(inc.classification == Classification.NON_GUNFIRE)
                shooters_ok += int(inc.shooters == ti["shooters"])
                if ti["mobile"] and inc.mobile and inc.speed_mps and inc.heading_deg is not None:
                    speed_err.append(abs(inc.speed_mps - ti["speed_mps"]) / ti["speed_mps"])
                    heading_err.append(_heading_err(inc.heading_deg, ti["heading_deg"]))
                elif ti["mobile"]:
                    speed_err.append(1.0)
                    heading_err.append(180.0)
            if progress:
                progress()
    e = np.array(errs) if errs else np.array([np.nan])
    out: dict[str, Any] = {
        "scenes": scenes_per_kind * (len(GUN_KINDS) + len(CONFUSER_KINDS)),
        "pulse_scores": score_note,
        "shots_located / heard_by_4+": f"{located} / {heard4}",
        "located_share": round(located / max(heard4, 1), 4),
        "located_share_4_to_8_sensors": round(located_small / max(heard_small, 1), 4),
        # the shots that 4 or more sensors heard on time, not only over detours (ON_TIME_S)
        "shots_located / heard_on_time_by_4+": f"{located_on_time} / {heard_on_time}",
        "error_median_m": round(float(np.nanmedian(e)), 2),
        "error_p90_m": round(float(np.nanpercentile(e, 90)), 2),
        "crb_ratio_median_open": _med(ratios_open),
        "crb_ratio_median_urban_open_paths": _med(ratios_urban),
        "rounds_exact_share": round(rounds_ok / max(gun_incidents, 1), 4),
        "rounds_exact / gunfire_incidents_every_round_heard_by_4+": (
            f"{rounds_ok_heard4} / {gun_incidents_heard4}"
        ),
        "gunfire_incidents_with_a_round_heard_by_2_or_fewer": gun_incidents_heard_le2,
        "shooters_exact_share": round(shooters_ok / max(gun_incidents, 1), 4),
        "gunfire_incidents_as_gunfire / non_gunfire": (
            f"{gun_alerted} / {gun_non} of {gun_incidents}"
        ),
        "mobile_speed_err_median": _med(speed_err),
        "mobile_heading_err_median_deg": _med(heading_err),
        "confuser_scenes_alerted_gunfire": f"{confuser_gunfire} / {confuser_incidents}",
        # gunfire or probable gunfire (a reviewer decides the probable ones)
        "confuser_scenes_flagged": f"{confuser_flagged} / {confuser_incidents}",
        "fireworks_alerted_gunfire": fireworks_gunfire,
        "pulses_per_s_end_to_end": round(n_pulses / max(t_locate, 1e-9), 1),
    }
    out["picking_audio"] = picking_suite(seed, audio_scenes)
    out["locate_throughput"] = locate_throughput(seed)
    return out


_FLAGGED = (Classification.GUNFIRE, Classification.PROBABLE_GUNFIRE)


def _score_section(scores: bool, correlation: float) -> tuple[Any, str | None]:
    """The scenarios' ``scores`` section and its description (both None without)."""
    if not scores:
        return None, None
    from shotwatch.sim.scores import measured_scores, model_meta

    meta = model_meta()
    version = meta["model_version"]
    note = f"out-of-fold scores of model {version}, incident correlation {correlation}"
    return measured_scores(meta, correlation), note


def _med(x: list[float]) -> float | None:
    return round(float(np.median(x)), 3) if x else None


def _match_incident(
    incidents: list[Incident], truth: dict[str, Any], inc_id: str
) -> Incident | None:
    evs = [ev for ev in truth["events"] if ev["incident"] == inc_id]
    if not evs:
        return None
    te = min(parse_utc(ev["t_utc"]) for ev in evs)
    fr = LocalFrame(evs[0]["lat"], evs[0]["lon"], evs[0]["elevation_m"])
    best = None
    for inc in incidents:
        f = inc.first_shot
        d = float(np.hypot(*fr.to_enu(f.lat, f.lon, f.elevation_m)[:2]))
        if d < 150 and abs(f.t - te) < 10 and (best is None or d < best[0]):
            best = (d, inc)
    return None if best is None else best[1]


def picking_suite(seed: int, scenes: int, sample_rate: int = 16000) -> dict[str, Any]:
    """Onset picking on synthesized audio: |pick - true arrival| for arrivals with
    SNR >= 20 dB (the bar: median <= 0.1 ms at 16 kHz)."""
    from shotwatch.sim import simulate
    from shotwatch.sim.scenes import urban_scene

    diffs: list[float] = []
    for k in range(scenes):
        res = simulate(
            urban_scene(seed * 1000 + k, "single"), seed=k, audio=True, sample_rate=sample_rate
        )
        clips = list(res.clips.values())
        pulses = pulses_from_clips(clips, score=False)
        by_sensor: dict[str, list[float]] = {}
        for p in pulses:
            if (p.snr_db or 0) >= 20:
                by_sensor.setdefault(p.sensor_id, []).append(p.t)
        for ev in res.truth["events"]:
            for a in ev["arrivals"]:
                ts = by_sensor.get(a["sensor_id"])
                if not ts or a["path"] == "echo":
                    continue
                # The truth arrival time includes the simulated pick error; the sound
                # reached the microphone at t - pick_error.
                t_true = parse_utc(a["t_utc"]) - a["pick_error_s"]
                d = float(np.min(np.abs(np.array(ts) - t_true)))
                if d < 0.005:
                    diffs.append(d)
    if not diffs:
        return {"arrivals": 0}
    ms = np.array(diffs) * 1e3
    return {
        "arrivals": int(ms.size),
        "sample_rate_hz": sample_rate,
        "median_abs_ms": round(float(np.median(ms)), 4),
        "p90_abs_ms": round(float(np.percentile(ms, 90)), 4),
    }


def locate_throughput(seed: int, shots: int = 20_000, sensors: int = 8) -> dict[str, Any]:
    """Batched robust location: shots per second on one core (vectorised refine)."""
    rng = np.random.default_rng(seed)
    c = 343.0
    src = np.column_stack([rng.uniform(-300, 300, (shots, 2)), np.zeros(shots)])
    spos = np.concatenate(
        [rng.uniform(-600, 600, (shots, sensors, 2)), rng.uniform(5, 15, (shots, sensors, 1))],
        axis=2,
    )
    t = np.linalg.norm(spos - src[:, None, :], axis=2) / c + rng.normal(0, 1e-4, (shots, sensors))
    x0 = src + rng.normal(0, 5, src.shape)
    t0 = np.zeros(shots)
    mask = np.ones((shots, sensors), dtype=bool)
    start = time.perf_counter()
    fix = refine_batch(spos, t, mask, x0, t0, c, sigma=1e-4, z_prior=np.full(shots, 0.0))
    dt = time.perf_counter() - start
    err = np.hypot(*(fix.pos[:, :2] - src[:, :2]).T)
    return {
        "shots": shots,
        "sensors_per_shot": sensors,
        "shots_per_s": round(shots / dt, 1),
        "median_error_m": round(float(np.median(err)), 3),
    }


def _rss_mb() -> float:
    """Resident set size of this process now, MB (Linux; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
    except (OSError, ValueError, IndexError):
        return 0.0
    import os

    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def city_bench(
    seed: int = 1,
    n_sensors: int = 1000,
    hours: float = 0.25,
    chunk_hours: float = 0.25,
    flush_interval_s: float = 0.25,
    progress: Callable[[dict[str, Any]], None] | None = None,
    scores: bool = True,
    score_correlation: float = 0.5,
) -> dict[str, Any]:
    """A simulated city (``city_scene``) streamed pulse by pulse, in server arrival
    order, through the live service's :class:`~shotwatch.streaming.StreamingLocator`
    (flushed every ``flush_interval_s`` of simulated time, as the service does).

    The city is simulated in chunks of ``chunk_hours`` (same sensors, buildings and
    weather; new sources each chunk) and only the streaming state is kept, so memory
    stays flat however long the run. Reports pulses per CPU second of the locator (its
    ``add`` and ``flush`` calls only; the simulator's time excluded, and the compiled
    kernels' loading or first compilation, :func:`~shotwatch.core.associate.warm_up`,
    counted apart as the service does it before it takes reports), the compute time
    from the pulse that decided a shot to the flush that emitted it (p50 / p99; also of
    the shots flagged, gunfire or probable, and of the shots of true gunfire alone), peak
    RSS and the RSS after each chunk, the true gunfire incidents alerted, and the false
    gunfire alerts (alerts with no true gunfire within 150 m and 10 s of a shot; per
    100 sensor-days, and by the true source behind them); the same for the incidents
    flagged, those whose latest version is gunfire or probable gunfire (an alert, or a
    reviewer's decision).
    With ``scores`` every pulse carries a gunshot classifier score drawn from the
    shipped model's out-of-fold scores for its source's kind (:mod:`shotwatch.sim.scores`;
    ``score_correlation`` within an incident); without, the incidents are classified by
    level, reach and pattern alone.
    ``progress`` gets a summary after each chunk."""
    import resource

    from shotwatch.sim import simulate
    from shotwatch.sim.scenes import city_scene
    from shotwatch.streaming import StreamingLocator
    from shotwatch.timeutil import format_utc

    c_warm = time.process_time()
    warm_up()  # the service compiles or loads its kernels before it takes reports
    warm_s = time.process_time() - c_warm
    n_chunks = max(1, math.ceil(hours / chunk_hours - 1e-9))
    base = city_scene(seed, n_sensors=n_sensors, hours=min(chunk_hours, hours))
    measured, score_note = _score_section(scores, score_correlation)
    if measured is not None:
        base = base.model_copy(update={"scores": measured})
    rng = np.random.default_rng([seed, 99])
    loc: StreamingLocator | None = None
    carry: list[tuple[float, Any]] = []  # reports arriving after the chunk's end
    n_pulses = 0
    cpu = 0.0  # locator compute, process CPU seconds
    latency: list[float] = []
    # per emitted shot: its incident gunfire or probable then; its time, lat, lon
    alertable: list[tuple[bool, float, float, float]] = []
    clock_at: dict[float, float] = {}  # arrival time -> compute clock before its add
    # The latest version of each incident, kept whole only while it is a gunfire alert
    # (the false-alert accounting needs its shots): a day's thousands of incidents
    # would otherwise grow the bench's own memory, not the locator's.
    final: dict[str, Incident | None] = {}
    # The shots of each incident whose latest version is flagged (gunfire or probable
    # gunfire), as (t, lat, lon) only: many more than the alerts.
    flagged: dict[str, tuple[tuple[float, float, float], ...] | None] = {}
    truth_events: list[tuple[float, float, float, str, str]] = []  # t, lat, lon, kind, incident
    gun_truth = 0
    rss_by_chunk: list[float] = []
    next_tick = -math.inf
    for k in range(n_chunks):
        h = min(chunk_hours, hours - k * chunk_hours)
        scen = base
        if k:
            other = city_scene(seed + 7919 * k, n_sensors=n_sensors, hours=h)
            scen = base.model_copy(
                update={
                    "sources": other.sources,
                    "duration_s": other.duration_s,
                    "start_utc": format_utc(base.start + k * chunk_hours * 3600.0),
                }
            )
        res = simulate(scen, seed=seed + k)
        gun_truth += sum(1 for i in res.truth["incidents"] if i["kind"] == "gunfire")
        truth_events += [
            (parse_utc(ev["t_utc"]), ev["lat"], ev["lon"], ev["kind"], f"{k}:{ev['incident']}")
            for ev in res.truth["events"]
        ]
        if loc is None:
            loc = StreamingLocator(res.sensors, res.weather)
        # Reports reach the server 0.05-1 s after the sound reached the sensor.
        arrive = [
            (p.t + float(d), p)
            for p, d in zip(res.pulses, rng.uniform(0.05, 1.0, len(res.pulses)), strict=True)
        ]
        del res
        end = scen.start + h * 3600.0
        stream = sorted(carry + [ap for ap in arrive if ap[0] < end], key=lambda ap: ap[0])
        carry = [ap for ap in arrive if ap[0] >= end]
        if k == n_chunks - 1:
            stream = sorted(stream + carry, key=lambda ap: ap[0])
            carry = []
        for now, pulse in stream:
            if next_tick == -math.inf:
                next_tick = now
            c0 = time.process_time()
            while next_tick <= now:  # the service's flush loop between reports
                _emit(loc.flush(next_tick), loc, final, latency, alertable, clock_at, cpu, c0,
                      flagged)  # fmt: skip
                next_tick += flush_interval_s
            clock_at[now] = cpu + (time.process_time() - c0)
            loc.add(pulse, now)
            _emit(loc.flush(now), loc, final, latency, alertable, clock_at, cpu, c0, flagged)
            cpu += time.process_time() - c0
            n_pulses += 1
            if len(clock_at) > 50_000:  # bounded: only recent arrivals can decide a shot
                horizon = now - 3 * loc.horizon_s
                clock_at = {a: v for a, v in clock_at.items() if a >= horizon}
        rss_by_chunk.append(round(_rss_mb(), 1))
        if progress is not None:
            progress({"hours_done": round((k + 1) * chunk_hours, 3), "pulses": n_pulses,
                      "cpu_s": round(cpu, 1), "rss_mb": rss_by_chunk[-1]})  # fmt: skip
    if loc is not None:  # drain
        t_end = next_tick
        for j in range(int(4 * loc.quiet_s / flush_interval_s) + 1):
            c0 = time.process_time()
            _emit(
                loc.flush(t_end + j * flush_interval_s), loc, final, latency, alertable, clock_at,
                cpu, c0, flagged,
            )  # fmt: skip
            cpu += time.process_time() - c0
    alerts = [i for i in final.values() if i is not None]
    caused = [_cause(i, truth_events) for i in alerts]
    false_kinds = [kind for kind, _ in caused if kind != "gunfire"]
    gun_alerted = {inc for kind, inc in caused if kind == "gunfire"}
    flagged_caused = [_cause_of(pts, truth_events) for pts in flagged.values() if pts is not None]
    flagged_false = [kind for kind, _ in flagged_caused if kind != "gunfire"]
    gun_flagged = {inc for kind, inc in flagged_caused if kind == "gunfire"}
    sensor_days = n_sensors * hours / 24.0
    lat_ms = np.array(latency) * 1e3
    alert_ms = lat_ms[np.array([a[0] for a in alertable], dtype=bool)] if lat_ms.size else lat_ms
    gun_ms = lat_ms[_true_gunfire_shots(alertable, truth_events)] if lat_ms.size else lat_ms
    return {
        "sensors": n_sensors,
        "hours": hours,
        "pulse_scores": score_note,
        "pulses": n_pulses,
        "pulses_per_cpu_s": round(n_pulses / max(cpu, 1e-9), 1),
        "locator_cpu_s": round(cpu, 2),
        "warm_up_cpu_s": round(warm_s, 2),
        "shots_emitted": int(lat_ms.size),
        "emit_latency_ms_p50": round(float(np.percentile(lat_ms, 50)), 2) if lat_ms.size else None,
        "emit_latency_ms_p90": round(float(np.percentile(lat_ms, 90)), 2) if lat_ms.size else None,
        "emit_latency_ms_p99": round(float(np.percentile(lat_ms, 99)), 2) if lat_ms.size else None,
        "emit_within_50ms_share": round(float(np.mean(lat_ms <= 50.0)), 4) if lat_ms.size else None,
        # the shots flagged: of incidents gunfire or probable when emitted (alerted, or
        # queued for a reviewer who decides whether dispatch is alerted)
        "alertable_shots_emitted": int(alert_ms.size),
        "alertable_emit_latency_ms_p50": (
            round(float(np.percentile(alert_ms, 50)), 2) if alert_ms.size else None
        ),
        "alertable_emit_latency_ms_p99": (
            round(float(np.percentile(alert_ms, 99)), 2) if alert_ms.size else None
        ),
        # the shots of true gunfire (within MATCH_S and MATCH_M of a true round)
        "true_gunfire_shots_emitted": int(gun_ms.size),
        "true_gunfire_emit_latency_ms_p50": (
            round(float(np.percentile(gun_ms, 50)), 2) if gun_ms.size else None
        ),
        "true_gunfire_emit_latency_ms_p99": (
            round(float(np.percentile(gun_ms, 99)), 2) if gun_ms.size else None
        ),
        "incidents_found": len(final),
        "gunfire_incidents_true": gun_truth,
        "gunfire_incidents_alerted": len(gun_alerted),
        "gunfire_alerts": len(alerts),
        "false_gunfire_alerts": len(false_kinds),
        "false_gunfire_alerts_by_source": dict(Counter(false_kinds)),
        "false_gunfire_alerts_detail": [
            {
                "source": kind,
                "first_shot_utc": format_utc(inc.shots[0].t) if inc.shots else None,
                "rounds": inc.rounds,
                "shooters": inc.shooters,
                "confidence": round(inc.confidence, 3),
                "sensors_per_shot": [len(s.sensors) for s in inc.shots],
                "source_level_db": [
                    None if s.source_level_db is None else round(s.source_level_db, 1)
                    for s in inc.shots
                ],
            }
            for inc, (kind, _) in zip(alerts, caused, strict=True)
            if kind != "gunfire"
        ],
        "false_gunfire_alerts_per_100_sensor_days": round(
            100.0 * len(false_kinds) / max(sensor_days, 1e-9), 2
        ),
        # flagged: incidents whose latest version is gunfire or probable gunfire (the
        # service publishes gunfire from auto_publish_threshold on and queues the rest
        # for a reviewer, who decides whether dispatch is alerted)
        "gunfire_incidents_flagged": len(gun_flagged),
        "flagged_incidents": len(flagged_caused),
        "false_flagged_incidents": len(flagged_false),
        "false_flagged_incidents_by_source": dict(Counter(flagged_false)),
        "false_flagged_incidents_per_100_sensor_days": round(
            100.0 * len(flagged_false) / max(sensor_days, 1e-9), 2
        ),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "rss_mb_first_chunk": rss_by_chunk[0] if rss_by_chunk else None,
        "rss_mb_last_chunk": rss_by_chunk[-1] if rss_by_chunk else None,
    }


def _cause(inc: Incident, events: list[tuple[float, float, float, str, str]]) -> tuple[str, str]:
    """What a located incident was, by the simulator's truth: the kind and incident of
    the nearest true event within 150 m and 10 s of one of its shots ("none" for no
    event: spurious picks or a phantom)."""
    return _cause_of(tuple((s.t, s.lat, s.lon) for s in inc.shots), events)


def _cause_of(
    shots: tuple[tuple[float, float, float], ...],
    events: list[tuple[float, float, float, str, str]],
) -> tuple[str, str]:
    """:func:`_cause` of an incident's shots given as (t, lat, lon)."""
    best: tuple[float, str, str] = (math.inf, "none", "")
    for st, slat, slon in shots:
        for t, lat, lon, kind, iid in events:
            if abs(t - st) < 10.0:
                d = distance_m(slat, slon, lat, lon)
                if d < 150.0 and d < best[0]:
                    best = (d, kind, iid)
    return best[1], best[2]


def _true_gunfire_shots(
    shots: list[tuple[bool, float, float, float]],
    events: list[tuple[float, float, float, str, str]],
) -> NDArray[np.bool_]:
    """Per emitted shot (flag, t, lat, lon): whether it lies within ``MATCH_S`` and
    ``MATCH_M`` of a true gunfire round."""
    gun = sorted((t, lat, lon) for t, lat, lon, kind, _ in events if kind == "gunfire")
    tg = np.array([g[0] for g in gun])
    out = np.zeros(len(shots), dtype=bool)
    for j, (_, t, lat, lon) in enumerate(shots):
        lo, hi = np.searchsorted(tg, [t - MATCH_S, t + MATCH_S])
        out[j] = any(distance_m(lat, lon, g[1], g[2]) < MATCH_M for g in gun[lo:hi])
    return out


def _emit(
    incidents: list[Incident],
    loc: Any,
    final: dict[str, Incident | None],
    latency: list[float],
    alertable: list[tuple[bool, float, float, float]],
    clock_at: dict[float, float],
    cpu: float,
    c0: float,
    flagged_now: dict[str, tuple[tuple[float, float, float], ...] | None],
) -> None:
    """Book a flush's output: the latest classification per incident id (``final``: the
    incident when a gunfire alert; ``flagged_now``: its shots when flagged), and
    for each shot emitted for the first time the compute time since its deciding report
    and whether its incident was then gunfire or probable gunfire (flagged)."""
    if not incidents:
        return
    now_clock = cpu + (time.process_time() - c0)
    shown = {Classification.GUNFIRE, Classification.PROBABLE_GUNFIRE}
    of_shot: dict[int, bool] = {}
    for inc in incidents:
        final[inc.id] = inc if inc.classification == Classification.GUNFIRE else None
        flagged_now[inc.id] = (
            tuple((s.t, s.lat, s.lon) for s in inc.shots) if inc.classification in shown else None
        )
        for s in inc.shots:
            of_shot[id(s)] = inc.classification in shown
    for shot, decided in loc.last_new_shots:
        start = clock_at.get(decided)
        if start is not None:
            latency.append(now_clock - start)
            alertable.append((of_shot.get(id(shot), False), shot.t, shot.lat, shot.lon))
