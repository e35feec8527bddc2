"""Streaming location: pulses arriving out of order, shots emitted as sensors agree,
incident ids stable as the incident grows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from itertools import pairwise

import numpy as np
import pytest

from shotwatch.core.acoustics import speed_of_sound
from shotwatch.geo import LocalFrame
from shotwatch.models import Classification, Incident, Pulse, Sensor, Shot, Weather
from shotwatch.streaming import StreamingLocator


def _scene(rounds: int = 3, cycle_s: float = 0.6) -> tuple[dict[str, Sensor], list[Pulse], Weather]:
    rng = np.random.default_rng(7)
    frame = LocalFrame(40.0, -80.0, 200.0)
    gx, gy = np.meshgrid(np.arange(-2, 3) * 250.0, np.arange(-2, 3) * 250.0)
    enu = np.column_stack([gx.ravel(), gy.ravel(), rng.uniform(5, 12, 25)])
    lat, lon, h = frame.to_geodetic(enu)
    sensors = {
        f"S{i:02d}": Sensor(f"S{i:02d}", float(lat[i]), float(lon[i]), float(h[i]))
        for i in range(25)
    }
    weather = Weather(temperature_c=10.0, relative_humidity=60.0)
    c = float(speed_of_sound(10.0, 60.0))
    src = np.array([40.0, -60.0, 1.5])
    pulses = []
    for k in range(rounds):
        t0 = 1.8e9 + cycle_s * k
        d = np.linalg.norm(enu - src, axis=1)
        for i in np.flatnonzero(d < 600):
            t = t0 + d[i] / c + rng.normal(0, 2e-4)
            pulses.append(Pulse(f"S{i:02d}", float(t), snr_db=float(40 - 20 * np.log10(d[i] / 50))))
    return sensors, pulses, weather


def test_out_of_order_pulses_grow_one_incident_with_a_stable_id() -> None:
    sensors, pulses, weather = _scene()
    rng = np.random.default_rng(1)
    # Reports reach the server 0.1-2.5 s after the sound reached the sensor, so they
    # arrive out of order.
    arrival = np.array([p.t for p in pulses]) + rng.uniform(0.1, 2.5, len(pulses))
    order = np.argsort(arrival)
    loc = StreamingLocator(sensors, weather)
    emitted = []
    first_emit_at = None
    for j in order:
        now = float(arrival[j])
        emitted += loc.add(pulses[j], now)
        out = loc.flush(now)
        if out and first_emit_at is None:
            first_emit_at = now
        emitted += out
    end = float(arrival.max())
    for k in range(1, 40):
        emitted += loc.flush(end + 0.25 * k)
    assert emitted, "nothing was emitted"
    ids = {i.id for i in emitted}
    assert len(ids) == 1  # one incident, re-emitted as it grows
    assert max(i.rounds for i in emitted) == 3
    # The first alert does not wait for the last report.
    assert first_emit_at is not None and first_emit_at < end


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_each_round_is_a_new_shot_once_however_often_it_is_refitted(seed: int) -> None:
    """Reports arriving out of order: the incident is re-emitted as it grows and its
    rounds are re-fitted from more reports each time (their origin times move by a
    fraction of a millisecond), but each round counts as a new shot (for the latency of
    its first emission) once; it was counted anew at each re-fit (two to four times)."""
    sensors, pulses, weather = _scene()
    rng = np.random.default_rng(seed)
    arrival = np.array([p.t for p in pulses]) + rng.uniform(0.1, 2.5, len(pulses))
    loc = StreamingLocator(sensors, weather)
    new: list[float] = []
    emissions = 0
    flushes = [(float(arrival[j]), int(j)) for j in np.argsort(arrival)]
    end = float(arrival.max())
    flushes += [(end + 0.25 * k, -1) for k in range(1, 40)]
    for now, j in flushes:
        if j >= 0:
            loc.add(pulses[j], now)
        out = loc.flush(now)
        emissions += len(out)
        if out:
            new += [s.t for s, _ in loc.last_new_shots]
    assert emissions > 1  # re-emitted as it grew
    rounds = np.round((np.array(new) - np.min(new)) / 0.6)  # the rounds: 0.6 s apart
    assert sorted(rounds.tolist()) == [0.0, 1.0, 2.0]


def test_a_group_already_located_is_not_associated_again() -> None:
    """Incremental: reports of an unrelated, far-away impulse do not re-associate the
    shots already in the window (their group is unchanged); an unchanged incident is
    not re-emitted."""
    sensors, pulses, weather = _scene()
    loc = StreamingLocator(sensors, weather)
    for p in sorted(pulses, key=lambda p: p.t):
        loc.add(p, p.t + 0.2)
    end = max(p.t for p in pulses) + 0.2
    first = loc.flush(end + 1.0)
    assert len(first) == 1 and first[0].rounds == 3
    assert loc.last_new_shots and all(d <= end for _, d in loc.last_new_shots)
    misses = loc._cache.misses
    # a lone report too late to belong to the shots (> 1.5 km / c + margin after them):
    # its own component, dropped (one sensor), nothing re-associated
    loc.add(Pulse("S00", end + 6.0), end + 6.1)
    assert loc.flush(end + 7.0) == []
    assert loc._cache.misses == misses


def test_a_growing_group_is_reassociated_by_factors_and_whole_once_settled() -> None:
    """Reports trickling in one by one: a still-growing group keeps its last
    association until it has grown by half; once it has settled it is associated whole,
    so the final incident is the one the batch locator gives."""
    from shotwatch.pipeline import locate_pulses

    sensors, pulses, weather = _scene()
    ordered = sorted(pulses, key=lambda p: p.t)
    loc = StreamingLocator(sensors, weather, min_interval_s=0.0, early_sensors=1)
    runs = 0
    emitted = []
    for k, p in enumerate(ordered):
        now = 1.8e9 + 0.05 * k  # one report every 50 ms: the group is always growing
        loc.add(p, now)
        before = loc._cache.misses - loc._cache.deferred
        emitted += loc.flush(now)
        runs += loc._cache.misses - loc._cache.deferred - before  # associations run
    assert loc._cache.deferred > 0
    # re-associated as it grows by half: a handful of runs, not one per report
    assert runs <= 10 < len(ordered)
    end = 1.8e9 + 0.05 * len(ordered)
    for j in range(1, 10):
        emitted += loc.flush(end + 0.25 * j)
    final = [i for i in emitted if i.id == emitted[-1].id][-1]
    batch = locate_pulses(sensors, pulses, weather)
    assert len(batch) == 1
    assert final.rounds == batch[0].rounds == 3
    assert [round(s.t, 4) for s in final.shots] == [round(s.t, 4) for s in batch[0].shots]


def test_a_group_whose_first_reports_left_the_window_keeps_its_association(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long settled group (a fireworks show heard for longer than the window) whose
    first reports have left the sliding window is the same group, not a new one: it
    keeps its last association, less the shots located from the reports now gone, and
    is not associated whole again; unless new reports are joining it."""
    from shotwatch import pipeline

    sensors, pulses, weather = _scene(rounds=20, cycle_s=0.5)
    array = pipeline.Array.from_sensors(sensors)
    cache = pipeline.ShotCache()
    ordered = sorted(pulses, key=lambda p: p.t)
    shots, _ = pipeline.locate_shots(
        array, ordered, weather, cache=cache, growing=np.zeros(len(ordered), dtype=bool)
    )
    assert len(ordered) >= pipeline.SETTLED_REUSE_PULSES and len(shots) == 20
    runs: list[int] = []
    real = pipeline._locate_group

    def counted(*args: object, **kwargs: object) -> object:
        runs.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pipeline, "_locate_group", counted)
    gone = {(ordered[i].sensor_id, ordered[i].t) for i in shots[0].pulse_ids}
    rest = [p for p in ordered if (p.sensor_id, p.t) not in gone]
    again, _ = pipeline.locate_shots(
        array, rest, weather, cache=cache, growing=np.zeros(len(rest), dtype=bool)
    )
    assert runs == []
    assert [s.t for s in again] == [s.t for s in shots[1:]]
    assert [[rest[i].t for i in s.pulse_ids] for s in again] == [
        [ordered[i].t for i in s.pulse_ids] for s in shots[1:]
    ]
    # But new reports joining it (another gun, fired as the first reports leave the
    # window) have it associated again: standing on the last association would not
    # locate that gun until the group had grown by half.
    frame = LocalFrame(40.0, -80.0, 200.0)
    pos = {k: frame.to_enu(v.lat, v.lon, v.elevation_m) for k, v in sensors.items()}
    gun = np.array([-180.0, 140.0, 1.5])
    c = float(speed_of_sound(10.0, 60.0))
    t_gun = ordered[-1].t - 1.0
    new = [
        Pulse(k, t_gun + float(np.linalg.norm(p - gun)) / c, snr_db=30.0)
        for k, p in pos.items()
        if np.linalg.norm(p - gun) < 500.0
    ]
    joined = sorted(rest + new, key=lambda p: p.t)
    growing = np.array([p in new for p in joined], dtype=bool)
    both, _ = pipeline.locate_shots(array, joined, weather, cache=cache, growing=growing)
    assert runs == [1]
    assert any(
        abs(s.t - t_gun) < 0.01 and np.hypot(s.east_m - gun[0], s.north_m - gun[1]) < 10.0
        for s in both
    )


def test_a_shot_heard_by_three_sensors_is_emitted_as_such() -> None:
    """Only the three sensors nearest the gun report it, while the reports of the same
    gun heard widely a minute earlier still arrive: one incident heard by three sensors
    (said so in its summary), with no later report needed to wake the locator."""
    sensors, pulses, weather = _scene()
    first = pulses[: len(pulses) // 3]  # the first round's reports
    near = sorted(first, key=lambda p: p.t)[:3]
    other = [replace(p, t=p.t - 60.0) for p in first]
    loc = StreamingLocator(sensors, weather)
    emitted = []
    for k, p in enumerate(near):
        now = p.t + 0.1 + 0.05 * k
        loc.add(p, now)
        for q in other[2 * k : 2 * k + 2] if k < 2 else other[4:]:
            loc.add(q, now)
        emitted += loc.flush(now)
    end = near[-1].t + 0.2
    for k in range(1, 20):
        emitted += loc.flush(end + 0.25 * k)
    three = {i.id: i for i in emitted if "heard by only three sensors" in i.summary}
    assert len(three) == 1
    inc = next(iter(three.values()))
    assert inc.rounds == 1 and sorted(inc.sensors) == sorted(p.sensor_id for p in near)


def test_a_three_sensor_group_is_located_once_and_never_inherited(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same three reports in the window run after run are located once (cached
    apart); when a fourth report grows the group, it is associated afresh, not given the
    three-sensor answer."""
    from shotwatch import pipeline
    from shotwatch.pipeline import Array, ShotCache, locate_shots

    sensors, pulses, weather = _scene()
    first = sorted(pulses[: len(pulses) // 3], key=lambda p: p.t)
    array = Array.from_sensors(sensors)
    cache = ShotCache()
    calls: list[bool] = []
    real = pipeline._locate_group

    def counting(*a, **k):  # type: ignore[no-untyped-def]
        calls.append(bool(k.get("three")))
        return real(*a, **k)

    monkeypatch.setattr(pipeline, "_locate_group", counting)
    one, _ = locate_shots(array, first[:3], weather, cache=cache)
    two, _ = locate_shots(array, first[:3], weather, cache=cache)
    assert calls == [True]  # the second run found it in the cache
    assert [(s.t, s.lat, s.lon) for s in one] == [(s.t, s.lat, s.lon) for s in two]
    assert len(one) == 1 and len(one[0].sensors) == 3
    grown, _ = locate_shots(array, first[:4], weather, cache=cache)
    assert calls == [True, False]  # associated as a group of four, not inherited
    assert len(grown) == 1 and len(grown[0].sensors) == 4


def _incidents_streamed(
    loc: StreamingLocator, pulses: list[Pulse], repeats: int
) -> tuple[list[Incident], list[int]]:
    """The scene's three rounds fired again every 40 s (``repeats`` times), reported
    0.1-2.5 s after they reach each sensor, flushed every 0.25 s; what ``loc`` emitted
    and the size of its shot cache 37 s after each repeat."""
    rng = np.random.default_rng(3)
    emitted: list[Incident] = []
    sizes: list[int] = []
    for r in range(repeats):
        batch = [replace(p, t=p.t + 40.0 * r) for p in pulses]
        arrival = np.array([p.t for p in batch]) + rng.uniform(0.1, 2.5, len(batch))
        for j in np.argsort(arrival):
            emitted += loc.flush(float(arrival[j]))
            loc.add(batch[j], float(arrival[j]))
        end = float(arrival.max())
        for k in range(1, 150):  # 37 s of flushes: the window (20 s) drops the rounds
            emitted += loc.flush(end + 0.25 * k)
        sizes.append(len(loc._cache) + len(loc._cache._exact))
    return emitted, sizes


def test_the_shot_cache_forgets_the_groups_that_left_the_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The live service's shot cache holds the window's groups only: once a group's
    pulses have left the window it can be neither met again nor grown from, so it is
    forgotten (a day's thousands of groups would otherwise fill the cache to its cap and
    the service's memory with it), and what is emitted is the same as without
    forgetting."""
    from shotwatch.pipeline import ShotCache

    sensors, pulses, weather = _scene()
    emitted, sizes = _incidents_streamed(StreamingLocator(sensors, weather), pulses, 4)
    assert len({round(i.first_shot.t - pulses[0].t) for i in emitted}) >= 4  # every repeat
    # a repeat's groups are forgotten once the next repeat's reports move the window on
    assert sizes[0] > 0 and max(sizes) == sizes[0]
    monkeypatch.setattr(ShotCache, "forget_before", lambda self, t: 0)
    kept, sizes_kept = _incidents_streamed(StreamingLocator(sensors, weather), pulses, 4)
    # without, it only grows, by about a repeat's groups each time
    assert sizes_kept[0] == sizes[0]
    assert all(b - a >= sizes[0] - 2 for a, b in pairwise(sizes_kept))
    assert [(i.id, i.rounds, [s.t for s in i.shots]) for i in emitted] == [
        (i.id, i.rounds, [s.t for s in i.shots]) for i in kept
    ]


def test_an_early_fix_far_off_keeps_its_id_when_more_reports_move_it() -> None:
    """The first four reports of a round can fit a point tens of metres off (here the
    third repeat's first fix, 0.22 s early and more than ``match_m`` away); the
    association of all the reports puts the shot right. It is the same event located
    from the same reports, so it keeps the early fix's id (the dispatcher sees the
    incident move, not a second one), however far it moved."""
    sensors, pulses, weather = _scene()
    emitted, _ = _incidents_streamed(StreamingLocator(sensors, weather), pulses, 4)
    t_first = min(p.t for p in pulses)
    ids: dict[int, set[str]] = {}
    for i in emitted:
        ids.setdefault(round((i.first_shot.t - t_first) / 40.0), set()).add(i.id)
    assert sorted(ids) == [0, 1, 2, 3]
    assert all(len(v) == 1 for v in ids.values())
    early = [i for i in emitted if i.id in ids[2]]
    assert early[0].rounds == 1 and early[-1].rounds == 3
    assert abs(early[0].first_shot.t - early[-1].first_shot.t) > 0.1  # it did move


def test_forget_before_drops_the_entries_holding_an_earlier_pulse() -> None:
    """Entries are forgotten by their earliest pulse; the later one stays and is met
    again, the earlier one is associated afresh."""
    from shotwatch.pipeline import Array, ShotCache, locate_shots

    sensors, pulses, weather = _scene()
    array = Array.from_sensors(sensors)
    first = sorted(pulses, key=lambda p: p.t)
    late = [replace(p, t=p.t + 100.0) for p in first]
    cache = ShotCache()
    locate_shots(array, first, weather, cache=cache)
    locate_shots(array, late, weather, cache=cache)
    n = len(cache)
    assert n >= 2
    assert cache.forget_before(first[-1].t + 50.0) == n // 2
    hits, misses = cache.hits, cache.misses
    locate_shots(array, late, weather, cache=cache)
    assert (cache.hits - hits, cache.misses - misses) == (n // 2, 0)
    locate_shots(array, first, weather, cache=cache)
    assert cache.misses - misses == n // 2
    assert cache.ancestor([(array.index[p.sensor_id], p.t) for p in first]) is not None
    cache.forget_before(first[-1].t + 50.0)
    assert cache.ancestor([(array.index[p.sensor_id], p.t) for p in first]) is None


def _scripted(runs: list[list[tuple[str, float, list[int]]]]) -> Callable[..., list[Incident]]:
    """A batch locator that answers its n-th call with the n-th list of incidents, each
    (classification, metres east of the first sensor, indices of the window's pulses its
    one shot was located from)."""
    calls = iter(runs)

    def locate(
        sensors: dict[str, Sensor], pulses: list[Pulse], w: Weather | None
    ) -> list[Incident]:
        out = []
        s0 = sensors["S00"]
        for n, (cls, east, ids) in enumerate(next(calls)):
            shot = Shot(
                t=min(pulses[i].t for i in ids) - 0.3,
                lat=s0.lat,
                lon=s0.lon + east / 85_000.0,
                elevation_m=200.0,
                error_radius_m=5.0,
                sensors=sorted({pulses[i].sensor_id for i in ids}),
                pulse_ids=list(ids),
            )
            out.append(Incident(f"run{id(pulses)}-{n}", Classification(cls), 0.9, [shot]))
        return out

    return locate


def _early_then_full(
    runs: list[list[tuple[str, float, list[int]]]],
) -> tuple[StreamingLocator, list[Pulse], float, list[Incident], list[Incident]]:
    """The scene's first 14 reports through a locator scripted with ``runs``: eight
    reported, located early; the other six, the window located again. Returns the
    locator, the reports, the first report's time and both runs' output."""
    sensors, pulses, weather = _scene()
    pulses = sorted(pulses, key=lambda p: p.t)[:14]
    loc = StreamingLocator(sensors, weather, locate=_scripted(runs))
    t0 = pulses[0].t
    for p in pulses[:8]:
        loc.add(p, t0 + 1.0)
    early = loc.flush(t0 + 2.0)
    for p in pulses[8:]:
        loc.add(p, t0 + 2.1)
    return loc, pulses, t0, early, loc.flush(t0 + 3.0)


def test_an_alert_whose_reports_a_later_incident_took_is_continued_by_it() -> None:
    """An early association puts a burst of a fireworks show somewhere from eight
    reports and calls it gunfire; the association of the whole show drops four of them
    as echoes, locates the show 200 m off from the other four and more, and calls it
    fireworks. The show holds every report of the alert still located, so it continues
    the alert's id (the service then withdraws the published alert), rather than leaving
    the alert standing beside a new incident."""
    first, later = list(range(8)), [0, 1, 2, 3, 8, 9, 10, 11, 12, 13]
    *_, alert, show = _early_then_full([[("gunfire", 0.0, first)], [("non_gunfire", 200.0, later)]])
    assert [i.classification for i in alert] == [Classification.GUNFIRE]
    assert [i.classification for i in show] == [Classification.NON_GUNFIRE]
    assert show[0].id == alert[0].id


def test_one_emitted_incident_is_continued_by_one_located_incident_at_most() -> None:
    """Two incidents located where one was emitted (its reports split between them):
    the one holding more of its reports keeps its id, the other gets its own."""
    *_, (first,), out = _early_then_full(
        [
            [("gunfire", 0.0, list(range(8)))],
            [("gunfire", 10.0, [0, 1, 2, 8, 9]), ("gunfire", 5.0, [3, 4, 5, 6, 7])],
        ]
    )
    assert len(out) == 2
    assert [i.id for i in out].count(first.id) == 1
    assert out[1].id == first.id  # five of its eight reports against three


def test_an_alert_no_located_incident_goes_on_as_is_withdrawn() -> None:
    """An incident emitted as gunfire whose reports, still in the window, no longer
    locate its shot (the association of more reports found none there: a mixture of
    the first reports of a fireworks show) is re-emitted once as non-gunfire, withdrawn,
    so that the alert sent on it is cancelled."""
    loc, pulses, t0, (alert,), out = _early_then_full(
        [[("gunfire", 0.0, list(range(8)))], [("non_gunfire", 900.0, [8, 9, 10, 11])], []]
    )
    withdrawn = [i for i in out if i.id == alert.id]
    assert len(withdrawn) == 1
    assert withdrawn[0].classification == Classification.NON_GUNFIRE
    assert withdrawn[0].summary.startswith("Withdrawn")
    assert withdrawn[0].rounds == alert.rounds
    loc.add(pulses[0], t0 + 3.1)  # a duplicate report: the window is located again
    assert all(i.id != alert.id for i in loc.flush(t0 + 4.0))  # withdrawn once only


def test_a_bursts_next_round_is_emitted_as_its_reports_agree_at_the_shooters_place() -> None:
    """Six rounds 0.6 s apart, reported 0.1 s after they reach each sensor: the group
    grows all the while, and is associated whole only as it grows by half. Each new
    round is still emitted before its last report is in: its first reports agree on
    an origin time at the place the earlier rounds established, and that is looked at
    whenever the group grows (standing on the last association alone, the fifth round
    came only after all its reports, once the group had grown enough)."""
    sensors, pulses, weather = _scene(rounds=6, cycle_s=0.6)
    n = len(pulses) // 6  # the same sensors hear each round
    last_report = [max(p.t for p in pulses[k * n : (k + 1) * n]) + 0.1 for k in range(6)]
    loc = StreamingLocator(sensors, weather)
    first: dict[int, float] = {}  # rounds -> when first emitted
    for p in sorted(pulses, key=lambda p: p.t):
        loc.add(p, p.t + 0.1)
        for inc in loc.flush(p.t + 0.1):
            for r in range(1, inc.rounds + 1):
                first.setdefault(r, p.t + 0.1)
    assert sorted(first) == [1, 2, 3, 4, 5, 6]
    assert all(first[k + 1] < last_report[k] for k in range(6))
