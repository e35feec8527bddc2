"""Streaming location: pulses arriving in real time (out of order by seconds) -> incidents.

Pulses are buffered with their arrival time at the server. Once arrivals pause for
``quiet_s`` (a shot's reports from the sensors that heard it arrive within a second or
two, spread by the travel time across the array), the pulses of the last ``horizon_s``
seconds are located together, so a multi-round incident grows as its later rounds
arrive. So that the first alert does not wait for the last straggler, the window is also
located early, at most every ``min_interval_s``, as soon as ``early_sensors`` new
sensors have reported since the last run; the incident is then re-emitted (same id) as
it grows.

Incremental by default: the window is split into independent space-time groups
(:mod:`shotwatch.core.partition`) and a group is associated only when its pulses
changed (:class:`shotwatch.pipeline.ShotCache`), so a busy city costs per new pulse, not
per pulse in the window. A group that is still growing (a report of the last
``quiet_s``) is re-associated only once it has half as many pulses again as at its
last association, and whole once it has settled, so a fireworks show heard by fifty
sensors costs a few associations, not one per report. The window drops whole groups
(once their last report is ``horizon_s`` old; any pulse ``3 * horizon_s`` old), so a
group is never re-associated just because the window's edge cut it. An incident is
emitted when it is new or its shots changed. With a custom ``locate`` callable the
window is located whole (early runs over the reports of the last ``early_window_s``
only).

Incident ids stay stable across re-runs: a result holding most of the still-located
reports of an incident already emitted, else one whose first shot lies within
``match_s`` / ``match_m`` of it, keeps that incident's id (each emitted incident goes on
as one result at most), so an alert sent on an early fix is updated, or withdrawn, as
the fuller association sees the event. An emitted gunfire or probable-gunfire incident
that no result goes on as, though most of its reports are still in the window, is
re-emitted once as non-gunfire ("Withdrawn"); an
incident is never re-emitted smaller because some of its rounds left the window (when
its shots are some of those emitted before); a re-association that finds fewer rounds
(phantom rounds gone) is emitted. ``last_new_shots`` lists, after each ``flush``,
the shots emitted for the first time with the server arrival time of the last of their
pulses (what decided them; for latency measurements); a shot re-fitted from more
reports (within ``same_shot_s`` of one emitted before) is not a new one.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from shotwatch.geo import distance_m
from shotwatch.models import Classification, Incident, Pulse, Sensor, Shot, Weather

BatchLocate = Callable[[dict[str, Sensor], list[Pulse], Weather | None], list[Incident]]


@dataclass
class _Known:
    id: str
    t: float
    lat: float
    lon: float
    seen: float
    last: Incident
    """The incident as emitted last (its rounds are the incident's rounds)."""
    shots: tuple[float, ...] = field(default_factory=tuple)
    pulses: frozenset[tuple[str, float]] = frozenset()
    """The reports its shots were located from, as emitted last."""


class StreamingLocator:
    """``add(pulse, now) -> []`` and ``flush(now) -> incidents`` over a sliding window."""

    def __init__(
        self,
        sensors: dict[str, Sensor],
        weather: Weather | None,
        locate: BatchLocate | None = None,
        quiet_s: float = 0.6,
        horizon_s: float = 20.0,
        min_interval_s: float = 0.25,
        early_sensors: int = 4,
        early_window_s: float = 5.0,
        match_s: float = 3.0,
        match_m: float = 60.0,
        same_shot_s: float = 0.025,
    ) -> None:
        self.sensors = sensors
        self.weather = weather
        self._incremental = locate is None
        if locate is None:
            from shotwatch.core.associate import AssociationConfig
            from shotwatch.pipeline import (
                Array,
                ShotCache,
                build_incidents,
                locate_shots,
                partition_config,
                sound_speed,
            )

            array = Array.from_sensors(sensors)
            cache = ShotCache()
            self._array = array
            self._cache = cache
            self._pcfg = partition_config(AssociationConfig())
            self._c, wind = sound_speed(weather)
            self._wind_speed = 0.0 if wind is None else float(np.linalg.norm(wind))

            def incremental(
                s: dict[str, Sensor], pulses: list[Pulse], w: Weather | None
            ) -> list[Incident]:
                growing = self._growing if len(self._growing) == len(pulses) else None
                return build_incidents(
                    *locate_shots(array, pulses, w, cache=cache, growing=growing)
                )

            locate = incremental
        self._locate = locate
        self.quiet_s = quiet_s
        self.horizon_s = horizon_s
        self.min_interval_s = min_interval_s
        self.early_sensors = early_sensors
        self.early_window_s = early_window_s
        self._last_run = -math.inf
        self._new_sensors: set[str] = set()
        self.match_s = match_s
        self.match_m = match_m
        self.same_shot_s = same_shot_s
        self._buf: list[tuple[float, Pulse]] = []
        self._last_add = -math.inf
        self._dirty = False
        self._known: list[_Known] = []
        self._growing = np.zeros(0, dtype=bool)
        self._forgot = -math.inf  # the cache's entries before this are forgotten
        self.last_new_shots: list[tuple[Shot, float]] = []

    def add(self, pulse: Pulse, now: float) -> list[Incident]:
        if pulse.sensor_id in self.sensors:
            self._buf.append((now, pulse))
            self._last_add = now
            self._dirty = True
            self._new_sensors.add(pulse.sensor_id)
        return []

    def flush(self, now: float) -> list[Incident]:
        if not self._dirty:
            return []
        quiet = now - self._last_add >= self.quiet_s
        early = (
            len(self._new_sensors) >= self.early_sensors
            and now - self._last_run >= self.min_interval_s
        )
        if not (quiet or early):
            return []
        self._dirty = False
        self._last_run = now
        self._new_sensors.clear()
        self.last_new_shots = []
        self._trim(now)
        self._known = [k for k in self._known if now - k.seen <= 3 * self.horizon_s]
        span = self.horizon_s if (quiet or self._incremental) else self.early_window_s
        window = sorted(
            ((a, p) for a, p in self._buf if now - a <= span or self._incremental),
            key=lambda ap: ap[1].t,
        )
        pulses = [p for _, p in window]
        if len({p.sensor_id for p in pulses}) < 3:  # three: a three-sensor report
            return []
        # reports of the last quiet_s: their groups may still grow (incremental mode
        # re-associates a growing group only once it has grown by half)
        self._growing = np.array([now - a < self.quiet_s for a, _ in window], dtype=bool)
        deferred = self._cache.deferred if self._incremental else 0
        out: list[Incident] = []
        located = self._locate(self.sensors, pulses, self.weather)
        if self._incremental and self._cache.deferred > deferred:
            self._dirty = True  # come back once those groups have settled
        results = [
            (
                inc,
                tuple(round(s.t, 4) for s in inc.shots),
                frozenset(
                    (window[i][1].sensor_id, window[i][1].t)
                    for s in inc.shots
                    for i in s.pulse_ids
                    if i < len(window)
                ),
            )
            for inc in located
        ]
        matches = self._matches([(inc.first_shot, used) for inc, _, used in results])
        fresh: list[_Known] = []  # emitted for the first time by this run
        for (inc, shots, used), match in zip(results, matches, strict=True):
            if match is None:
                first = inc.first_shot
                known = _Known(inc.id, first.t, first.lat, first.lon, now, inc, shots, used)
                self._known.append(known)
                fresh.append(known)
                self._note_new(inc, window, ())
                out.append(inc)
                continue
            match.seen = now
            if inc.rounds < match.last.rounds and (
                not self._incremental or set(shots) <= set(match.shots)
            ):
                continue  # part of the incident left the window: keep the fuller version
            if shots == match.shots and self._incremental:
                continue  # nothing new
            before = match.shots
            match.shots = shots
            match.pulses = used
            match.last = inc
            inc.id = match.id
            self._note_new(inc, window, before)
            out.append(inc)
        out += self._withdraw(window, [*matches, *fresh])
        return out

    def _withdraw(
        self, window: list[tuple[float, Pulse]], matches: list[_Known | None]
    ) -> list[Incident]:  # ``matches``: the emitted incidents this run went on as
        """Emitted gunfire or probable-gunfire incidents that no located incident goes
        on as, though most of their reports are still in the window (the association
        of more reports no longer finds their shots, or put the reports into another
        incident that continues another id): re-emitted once as non-gunfire, withdrawn,
        so that an alert sent on them is cancelled rather than left standing."""
        continued = {id(m) for m in matches if m is not None}
        here: set[tuple[str, float]] | None = None  # the window's reports, when asked
        out: list[Incident] = []
        for k in self._known:
            last = k.last
            if id(k) in continued or last.classification == Classification.NON_GUNFIRE:
                continue
            if here is None:
                here = {(p.sensor_id, p.t) for _, p in window}
            if 2 * len(k.pulses & here) <= len(k.pulses):
                continue
            k.last = replace(
                last,
                classification=Classification.NON_GUNFIRE,
                confidence=0.0,
                summary="Withdrawn: the reports no longer locate these shots",
            )
            out.append(k.last)
        return out

    def _matches(
        self, results: list[tuple[Shot, frozenset[tuple[str, float]]]]
    ) -> list[_Known | None]:
        """For each located incident (its first shot and the reports it was located
        from), the incident already emitted that it continues, each emitted incident
        continued by at most one located one.

        First by reports: an emitted incident is continued by the located one holding
        more than half of its reports that this run still locates (an early fix from the
        first few reports can lie far from where all of them put the shot, and reports
        the fuller association drops as echoes belong to no one: the same event, not a
        new one; so that an alert sent on the early fix is updated, or withdrawn when
        the whole event turns out to be fireworks), the strongest share first. Then, for
        the rest, one whose first shot lies within ``match_s`` and ``match_m`` of the
        located one's first shot."""
        out: list[_Known | None] = [None] * len(results)
        if not self._known:
            return out
        located = frozenset().union(*(used for _, used in results))
        holder: dict[tuple[str, float], int] = {}
        for j, (_, used) in enumerate(results):
            for r in used:
                holder[r] = j
        pairs: list[tuple[float, int, int, int]] = []
        for m, k in enumerate(self._known):
            live = k.pulses & located
            if not live:
                continue
            held: dict[int, int] = {}
            for r in live:
                held[holder[r]] = held.get(holder[r], 0) + 1
            j, got = max(held.items(), key=lambda jg: jg[1])
            if got > 0.5 * len(live):
                pairs.append((got / len(live), got, -m, j))
        claimed: set[int] = set()
        for _, _, neg_m, j in sorted(pairs, reverse=True):
            if out[j] is None and -neg_m not in claimed:
                out[j] = self._known[-neg_m]
                claimed.add(-neg_m)
        for j, (first, _) in enumerate(results):
            if out[j] is not None:
                continue
            for m, k in enumerate(self._known):
                if (
                    m not in claimed
                    and abs(k.t - first.t) <= self.match_s
                    and distance_m(k.lat, k.lon, first.lat, first.lon) <= self.match_m
                ):
                    out[j] = k
                    claimed.add(m)
                    break
        return out

    def _note_new(
        self, inc: Incident, window: list[tuple[float, Pulse]], before: tuple[float, ...]
    ) -> None:
        """Record the incident's shots not emitted before, each with the arrival time of
        the last of its pulses. A shot within ``same_shot_s`` of one the incident was
        last emitted with is that shot again, re-fitted from more reports (its origin
        time moves by milliseconds; a weapon fires again 50 ms later at the soonest): not
        a new shot."""
        old = np.sort(np.asarray(before, dtype=float))
        for shot in inc.shots:
            if not shot.pulse_ids:
                continue
            k = int(np.searchsorted(old, shot.t))
            near = old[max(k - 1, 0) : k + 1]
            if near.size and float(np.min(np.abs(near - shot.t))) <= self.same_shot_s:
                continue
            decided = max(window[i][0] for i in shot.pulse_ids if i < len(window))
            self.last_new_shots.append((shot, decided))

    def _trim(self, now: float) -> None:
        """Forget old reports: whole groups once their last report is ``horizon_s`` old
        (incremental), single reports otherwise; anything ``3 * horizon_s`` old."""
        if not self._incremental:
            self._buf = [(a, p) for a, p in self._buf if now - a <= self.horizon_s]
            return
        self._buf = [(a, p) for a, p in self._buf if now - a <= 3 * self.horizon_s]
        old = [now - a > self.horizon_s for a, _ in self._buf]
        if not any(old):
            self._forget()
            return
        from shotwatch.core.partition import partition_pulses

        arr = self._array
        ps = np.array([arr.index[p.sensor_id] for _, p in self._buf], dtype=np.int64)
        t = np.array([p.t for _, p in self._buf])
        part = partition_pulses(
            arr.pos, ps, t - t.min(), self._c, wind_speed=self._wind_speed, config=self._pcfg
        )
        keep = ~np.array(old)
        for g in part.groups:
            if np.any(keep[g]):
                keep[g] = True  # a group still growing keeps its old reports
        self._buf = [b for b, k in zip(self._buf, keep, strict=True) if k]
        self._forget()

    def _forget(self) -> None:
        """Let the shot cache forget the groups that left the window (their pulses are
        gone from it), once the window's earliest pulse has moved on by ``horizon_s``
        since the last time, or wholly when the window is empty."""
        if not self._buf:
            self._cache.forget_before(math.inf)
            return
        first = min(p.t for _, p in self._buf)
        if first - self._forgot >= self.horizon_s:
            self._cache.forget_before(first)
            self._forgot = first
