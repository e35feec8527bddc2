"""The one code path from inputs to incidents, used by ``shotwatch locate``, the
benchmarks and the live service:

    clips --picking+classifier--> pulses --association+location--> shots --> incidents

Pure numeric work happens in :mod:`shotwatch.core`; this module maps domain objects
(:mod:`shotwatch.models`) to arrays and back, in a local east-north-up frame.
"""

from __future__ import annotations

import hashlib
import logging
import math
from collections import Counter, OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from shotwatch.core.acoustics import source_level_db, speed_of_sound, wind_vector
from shotwatch.core.associate import (
    AssociationConfig,
    LocatedShot,
    associate,
    rounds_at_places,
    three_sensor_shots,
)
from shotwatch.core.incidents import THREE_SENSORS, ShotArrays, group_incidents
from shotwatch.core.locate import absolute_radius, refine_batch
from shotwatch.core.partition import PartitionConfig, partition_pulses
from shotwatch.core.picking import pick_onsets
from shotwatch.errors import InputError, ShotwatchError
from shotwatch.formats import Clip, InputSet
from shotwatch.geo import LocalFrame
from shotwatch.models import Classification, Incident, Pulse, Sensor, Shot, Weather

log = logging.getLogger(__name__)


@dataclass
class Array:
    """Sensors in a local ENU frame."""

    ids: list[str]
    frame: LocalFrame
    pos: NDArray[np.float64]
    index: dict[str, int] = field(default_factory=dict)
    full_scale_db: NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    """Each sensor's calibration, dB SPL at 0 dBFS (nan: unknown)."""

    @classmethod
    def from_sensors(cls, sensors: dict[str, Sensor]) -> Array:
        if not sensors:
            raise InputError("no sensors")
        ids = list(sensors)
        lat = [sensors[i].lat for i in ids]
        lon = [sensors[i].lon for i in ids]
        el = [sensors[i].elevation_m for i in ids]
        frame = LocalFrame.around(lat, lon, el)
        fs = [sensors[i].full_scale_db_spl for i in ids]
        return cls(
            ids,
            frame,
            frame.to_enu(lat, lon, el),
            {k: j for j, k in enumerate(ids)},
            np.array([np.nan if f is None else f for f in fs], dtype=float),
        )

    def ground_height(self, pos: NDArray[np.float64], k: int = 4) -> float:
        """Reference height for "above the ground" under ``pos``, m (local frame): the
        highest of the ``k`` nearest sensors. Conservative on purpose: in hilly terrain
        a sensor may stand well below or above the ground where a gun is fired, while
        aerial fireworks burst 40-200 m above every nearby roof."""
        return float(np.max(self.near_heights(pos, k)))

    def near_heights(self, pos: NDArray[np.float64], k: int = 4) -> NDArray[np.float64]:
        """Heights (m, local frame) of the ``k`` sensors horizontally nearest ``pos``."""
        d = np.hypot(self.pos[:, 0] - pos[0], self.pos[:, 1] - pos[1])
        return np.asarray(self.pos[np.argsort(d)[:k], 2], dtype=np.float64)


MIN_HEIGHT_SENSORS = 16
"""Fewest sensors for a height above ground. A source 30 m or more above the roofs has a
line of sight to most sensors in range and is heard by many (simulated aerial bursts:
49-73 sensors in the scene suite, hundreds in the city); a street-level gun among
buildings is heard by few, mostly over diffracted paths, and their delays bias a
few-sensor height by tens of metres (simulated ground shots heard by 7-9 sensors came
out 40 m up with a formal 1-sigma of 6 m). Since rounds claim their diffracted arrivals
by their place's arrival pattern (``core/associate._template_rounds``) a ground round
behind buildings is heard by 10-15 sensors too, and its free-height fit lands 27-34 m up
(a simulated 7-round burst at street level was taken for fireworks 31 m up): hence 16,
not 10."""

RADIUS_MODEL_SIGMA_S = 1e-3
RADIUS_COMMON_SIGMA_M = 1.5
"""The errors a shot's reported 95 % radius adds to its fit's own
(:func:`shotwatch.core.locate.absolute_radius`): 1 ms of unmodelled propagation per
arrival, and 1.5 m per axis common to every sensor (GPS-reported sensor positions, the
speed of sound from a weather reading). The fit's covariance alone held the true place
for 21-55 % of the shots: on the real live fire 26 % of those located from ten or more
sensors' pulses (median error 3.1 m against a 2.1 m radius) and 4 % of those located
from four or five recordings (4.6 m against 0.6 m), on the simulated suite (seeds 0-1)
32 / 55 / 66 % of those located by 3-5 / 6-9 / 10 or more sensors. With these terms:
live fire 69 % and 38 % (the survey itself is good to only about 2.5 m, a part of the
measured error), simulated suite 84 / 89 / 100 %. What still falls outside is mostly a
four-sensor fit's other point (four arrivals fit two places exactly)."""

UNDERGROUND_M = 30.0
"""A fitted source this far below the highest nearby sensor is taken for the mirror
image of one above the array (see :func:`_height_agl`)."""


def sound_speed(weather: Weather | None) -> tuple[float, NDArray[np.float64] | None]:
    """Speed of sound (m/s) and wind vector (m/s, or None) for the weather (15 degC,
    50 % RH, calm when unknown)."""
    w = weather or Weather()
    c = float(speed_of_sound(w.temperature_c, w.relative_humidity))
    wind = wind_vector(w.wind_speed_mps, w.wind_from_deg) if w.wind_speed_mps > 0 else None
    return c, wind


def pulses_from_clips(clips: Iterable[Clip], *, score: bool = True) -> list[Pulse]:
    """Pick onsets in every clip and turn them into pulse reports (with gunshot scores
    from the shipped classifier when ``score``)."""
    clf = None
    if score:
        try:
            from shotwatch.core.classify import GunshotClassifier

            clf = GunshotClassifier.load_default()
        except (ImportError, OSError, ValueError, ShotwatchError) as e:  # no model: no score
            log.warning("gunshot classifier unavailable (%s); pulses carry no score", e)
    out: list[Pulse] = []
    for clip in clips:
        picks = pick_onsets(clip.samples, clip.sample_rate)
        if len(picks) == 0:
            continue
        times = picks.times(clip.sample_rate, clip.start)
        scores: NDArray[np.float64] | None = None
        if clf is not None:
            scores = clf.score_many(
                clip.samples, clip.sample_rate, np.round(picks.onset).astype(np.int64)
            )
        for k in range(len(picks)):
            out.append(
                Pulse(
                    sensor_id=clip.sensor_id,
                    t=float(times[k]),
                    snr_db=float(picks.snr_db[k]),
                    peak_dbfs=float(picks.peak_dbfs[k]),
                    gunshot_score=None if scores is None else float(scores[k]),
                    sigma_t=float(picks.sigma[k]),
                )
            )
    out.sort(key=lambda p: p.t)
    return out


SETTLED_REUSE_PULSES = 200
"""Groups of at least this many pulses may keep an association that covers all but a
tenth of them once settled (see :func:`locate_shots`)."""

PulseKey = tuple[int, float]
"""A pulse's identity inside the locator: (sensor index, onset time)."""


class ShotCache:
    """Located shots of pulse groups already associated, keyed by the group's pulses
    (sensor, time, sigma, SNR, score) and the sound speed, wind and configuration, so
    that a sliding window (:mod:`shotwatch.streaming`) associates each group once, not at
    every run. Least recently used groups are forgotten beyond ``max_groups``.

    It also remembers which pulses each entry was made of (:meth:`ancestor`), so that a
    group still growing can stand on the shots of its last association until it has
    grown enough to be worth associating again (see :func:`locate_shots`).

    Results that hold for exactly their group's pulses and must never be inherited by a
    grown group (:meth:`get_exact`: a group heard by three sensors; a growing group's
    last association with the rounds found since at its places) are kept apart, at most
    ``max_exact`` of them, never evicting a group above."""

    def __init__(self, max_groups: int = 4096, max_exact: int = 1024) -> None:
        self.max_groups = max_groups
        self.max_exact = max_exact
        self._d: OrderedDict[tuple[object, ...], tuple[list[_GroupShot], list[PulseKey]]] = (
            OrderedDict()
        )
        self._exact: OrderedDict[tuple[object, ...], list[_GroupShot]] = OrderedDict()
        self._owner: dict[PulseKey, tuple[object, ...]] = {}  # pulse -> latest entry
        self.hits = 0
        self.misses = 0
        self.deferred = 0

    def get(self, key: tuple[object, ...]) -> list[_GroupShot] | None:
        v = self._d.get(key)
        if v is None:
            self.misses += 1
            return None
        self.hits += 1
        self._d.move_to_end(key)
        return v[0]

    def put(
        self, key: tuple[object, ...], value: list[_GroupShot], pulses: list[PulseKey] | None = None
    ) -> None:
        ids = pulses or []
        self._d[key] = (value, ids)
        self._d.move_to_end(key)
        for k in ids:
            self._owner[k] = key
        while len(self._d) > self.max_groups:
            old, (_, old_ids) = self._d.popitem(last=False)
            for k in old_ids:
                if self._owner.get(k) == old:
                    del self._owner[k]

    def get_exact(self, key: tuple[object, ...]) -> list[_GroupShot] | None:
        """The shots kept by :meth:`put_exact` for a group of exactly these pulses."""
        v = self._exact.get(key)
        if v is not None:
            self._exact.move_to_end(key)
        return v

    def put_exact(self, key: tuple[object, ...], value: list[_GroupShot]) -> None:
        self._exact[key] = value
        self._exact.move_to_end(key)
        while len(self._exact) > self.max_exact:
            self._exact.popitem(last=False)

    def ancestor(self, pulses: list[PulseKey]) -> tuple[list[_GroupShot], list[PulseKey]] | None:
        """The entry that made most of ``pulses`` (the same group, earlier: grown since,
        and its first reports perhaps gone from the sliding window), or None.
        :func:`_grown_from` judges how much of it is still there."""
        owners = Counter(self._owner[k] for k in pulses if k in self._owner)
        if not owners:
            return None
        key = owners.most_common(1)[0][0]
        got = self._d.get(key)
        return got

    def forget_before(self, t: float) -> int:
        """Forget every entry whose pulses are all timed before ``t`` (epoch seconds);
        returns how many. A sliding window that holds no pulse before ``t`` any more can
        neither meet such an entry again (its key is its group's exact pulses) nor grow
        from it (:meth:`ancestor` finds an entry by the window's pulses it holds), so this
        changes no result; it keeps the cache's memory to the window's groups instead of
        letting it fill to ``max_groups`` with groups long gone. An entry of a group whose
        first reports have left the window stays: the group's next association may stand
        on it."""
        gone = [k for k in self._d if _last_time(k) < t]
        for key in gone:
            _, ids = self._d.pop(key)
            for k in ids:
                if self._owner.get(k) == key:
                    del self._owner[k]
        exact = [k for k in self._exact if _last_time(k) < t]
        for key in exact:
            del self._exact[key]
        return len(gone) + len(exact)

    def __len__(self) -> int:
        return len(self._d)


def _last_time(key: tuple[object, ...]) -> float:
    """The latest pulse time of a :class:`ShotCache` key (see :func:`locate_shots`)."""
    t = key[1]
    return float(np.frombuffer(t, dtype=float).max()) if isinstance(t, bytes) else math.inf


@dataclass(frozen=True)
class _Group:
    """The pulses of one space-time group (pulse ids local to it): sensor indices, times
    (epoch s), onset sigmas, SNRs, gunshot scores and peak levels (dBFS, nan: none),
    sliced once from the window's; ``pt`` the times after the group's first, ``tref``."""

    ps: NDArray[np.int64]
    t_abs: NDArray[np.float64]
    sig: NDArray[np.float64]
    snr: NDArray[np.float64]
    score: NDArray[np.float64]
    peak: NDArray[np.float64]
    tref: float
    pt: NDArray[np.float64]

    @classmethod
    def of(
        cls,
        idx: NDArray[np.int64],
        ps: NDArray[np.int64],
        t_abs: NDArray[np.float64],
        sig: NDArray[np.float64],
        snr: NDArray[np.float64],
        score: NDArray[np.float64],
        peak: NDArray[np.float64],
    ) -> _Group:
        t = t_abs[idx]
        tref = float(t.min())
        return cls(ps[idx], t, sig[idx], snr[idx], score[idx], peak[idx], tref, t - tref)


@dataclass(frozen=True)
class _GroupShot:
    """One shot of a group: the domain object (pulse ids local to the group) and its
    rows of :class:`ShotArrays` (worked out once, when the group is located, and kept
    with it in the :class:`ShotCache`)."""

    shot: Shot
    pos: NDArray[np.float64]
    cov: NDArray[np.float64]
    height_agl: float
    height_sigma: float
    score: float
    n_sensors: int
    alt_pos: NDArray[np.float64] = field(default_factory=lambda: np.full(3, np.nan))
    source_db: float = float("nan")
    off_ground: bool = False


def partition_config(cfg: AssociationConfig) -> PartitionConfig:
    """The partition that keeps together every pulse the association may relate."""
    return PartitionConfig(
        same_sensor_s=max(cfg.ghost_window_s, cfg.coda_window_s, cfg.echo_window_s),
        burst_s=cfg.burst_window_s,
        min_sensors=cfg.min_sensors,
    )


def _empty_arrays() -> ShotArrays:
    return ShotArrays(
        np.zeros(0), np.zeros((0, 3)), np.zeros((0, 3, 3)), np.zeros(0), np.zeros(0),
        np.zeros(0, dtype=np.int64),
    )  # fmt: skip


def locate_shots(
    array: Array,
    pulses: list[Pulse],
    weather: Weather | None,
    config: AssociationConfig | None = None,
    *,
    cache: ShotCache | None = None,
    stats: dict[str, int] | None = None,
    growing: NDArray[np.bool_] | None = None,
    regrow: float = 1.5,
    regrow_settled: float = 1.1,
) -> tuple[list[Shot], ShotArrays]:
    """Associate and locate: pulses -> shots (domain objects and the core's arrays).

    The pulses are first split into independent space-time groups
    (:func:`shotwatch.core.partition.partition_pulses`); groups heard by fewer than three
    sensors are dropped, groups heard by three yield shots so heard, if any
    (:func:`shotwatch.core.associate.three_sensor_shots`), and each other group is
    associated on its own (through ``cache`` when given). ``stats``, when given,
    receives the counts of groups, dropped components and dropped pulses.

    ``growing`` (one flag per pulse; with ``cache``) marks pulses that arrived so
    recently that their group may still grow. A group with such a pulse that has fewer
    than ``regrow`` times the pulses of its last association keeps that association's
    shots: re-associating a large group (a fireworks show heard by fifty sensors) at
    every new report costs the square of its size each time, while re-associating it
    only as it grows by a factor costs a constant multiple of the last association (the
    factor counts the pulses of the last association still in the group, so a settled
    group whose first reports left the window is not associated again for that), plus
    the rounds its new pulses add at the places of those shots (:func:`_rounds_since`):
    a burst's next round is emitted as its reports agree at the shooter's place. A
    group without such a pulse (settled) is associated whole, unless it is large
    (``SETTLED_REUSE_PULSES``) and its last association already covered all but a tenth
    of it (``regrow_settled``): stragglers
    trickling into a settled fireworks show of thousands of pulses would otherwise
    re-associate it whole for each. ``growing=None`` associates every changed group."""
    cfg = config or AssociationConfig()
    c, wind = sound_speed(weather)
    if not pulses:
        return [], _empty_arrays()
    try:
        ps = np.array([array.index[p.sensor_id] for p in pulses], dtype=np.int64)
    except KeyError as e:
        raise InputError(f"pulse from unknown sensor {e.args[0]!r}") from None
    t_abs = np.array([p.t for p in pulses])
    sig = np.array([p.sigma_t if p.sigma_t is not None else np.nan for p in pulses])
    sig = np.where(np.isfinite(sig), sig, 5e-4)
    snr = np.array([p.snr_db if p.snr_db is not None else 0.0 for p in pulses])
    score = np.array([np.nan if p.gunshot_score is None else p.gunshot_score for p in pulses])
    peak = np.array([np.nan if p.peak_dbfs is None else p.peak_dbfs for p in pulses])
    pcfg = partition_config(cfg)
    tref = float(t_abs.min())
    wind_speed = 0.0 if wind is None else float(np.linalg.norm(wind))
    # groups heard by three sensors are kept too: a shot heard by three only is reported
    pcfg = replace(pcfg, min_sensors=min(pcfg.min_sensors, THREE_SENSORS))
    part = partition_pulses(array.pos, ps, t_abs - tref, c, wind_speed=wind_speed, config=pcfg)
    if stats is not None:
        stats["groups"] = stats.get("groups", 0) + len(part.groups)
        stats["dropped_components"] = stats.get("dropped_components", 0) + part.dropped_components
        stats["dropped_pulses"] = stats.get("dropped_pulses", 0) + part.dropped_pulses
    wkey = b"" if wind is None else np.asarray(wind, dtype=float).tobytes()
    found: list[tuple[_GroupShot, NDArray[np.int64]]] = []
    for idx in part.groups:
        grp = _Group.of(idx, ps, t_abs, sig, snr, score, peak)
        # A group heard by three sensors only is located as such (three_sensor_shots); if
        # it is a larger shot still arriving, the association takes it over as it grows.
        # It is cached apart (exact repeats only): a grown group must never inherit a
        # three-sensor result, nor a cached group be evicted for one.
        key: tuple[object, ...] = (
            grp.ps.tobytes(), grp.t_abs.tobytes(), grp.sig.tobytes(), grp.snr.tobytes(),
            grp.score.tobytes(), grp.peak.tobytes(), c, wkey, cfg,
        )  # fmt: skip
        if np.unique(grp.ps).size < cfg.min_sensors:
            got3 = cache.get_exact(key) if cache is not None else None
            if got3 is None:
                got3 = _locate_group(array, grp, c, wind, cfg, three=True)
                if cache is not None:
                    cache.put_exact(key, got3)
            found += [(g, idx) for g in got3]
            continue
        got = cache.get(key) if cache is not None else None
        ids: list[PulseKey] = []
        if got is None and cache is not None:  # only a changed group needs its pulse keys
            still = growing is not None and bool(growing[idx].any())
            got = cache.get_exact(key) if still else None
            if got is not None:  # the same growing group again: as last time
                cache.deferred += 1  # (still to be associated whole once settled)
                found += [(g, idx) for g in got]
                continue
            ids = list(zip(grp.ps.tolist(), grp.t_abs.tolist(), strict=True))
            if still:
                grown = _grown_from(cache, ids, regrow)
                if grown is not None:
                    got, known = grown
                    new = np.array([k not in known for k in ids], dtype=bool)
                    # (not for a fireworks show's thousands of reports: its places are
                    # many and its bursts are no gunfire to hurry)
                    if (
                        idx.size < SETTLED_REUSE_PULSES
                        and np.unique(grp.ps[new]).size >= cfg.min_sensors
                    ):
                        got = got + _rounds_since(array, grp, c, wind, cfg, got, new)
                    cache.put_exact(key, got)
                    found += [(g, idx) for g in got]
                    continue
            elif growing is not None and idx.size >= SETTLED_REUSE_PULSES:
                grown = _grown_from(cache, ids, regrow_settled, trimmed=True)
                got = None if grown is None else grown[0]
        if got is None:
            got = _locate_group(array, grp, c, wind, cfg)
            if cache is not None:
                cache.put(key, got, ids)
        found += [(g, idx) for g in got]
    found.sort(key=lambda f: f[0].shot.t)
    shots = [
        replace(g.shot, sensors=list(g.shot.sensors),
                pulse_ids=[int(idx[i]) for i in g.shot.pulse_ids])
        for g, idx in found
    ]  # fmt: skip
    if not shots:
        return [], _empty_arrays()
    arrays = ShotArrays(
        t=np.array([s.t for s in shots]),
        pos=np.array([g.pos for g, _ in found]).reshape(-1, 3),
        cov=np.array([g.cov for g, _ in found]).reshape(-1, 3, 3),
        height_agl=np.array([g.height_agl for g, _ in found], dtype=float),
        height_sigma=np.array([g.height_sigma for g, _ in found], dtype=float),
        score=np.array([g.score for g, _ in found], dtype=float),
        n_sensors=np.array([g.n_sensors for g, _ in found], dtype=np.int64),
        source_db=np.array([g.source_db for g, _ in found], dtype=float),
        alt_pos=np.array([g.alt_pos for g, _ in found]).reshape(-1, 3),
        off_ground=np.array([g.off_ground for g, _ in found], dtype=bool),
    )
    return shots, arrays


def _grown_from(
    cache: ShotCache, ids: list[PulseKey], regrow: float, *, trimmed: bool = False
) -> tuple[list[_GroupShot], set[PulseKey]] | None:
    """The shots of the group's last association, renumbered for the grown group, and
    the pulses that association was made of, when the group holds fewer than ``regrow``
    times the pulses of that association still in it (None: associate it again). With
    ``trimmed`` (a settled group) that association may hold pulses no longer in the
    group (first reports gone from the sliding window), and a shot holding one is left
    out: a fireworks show heard for longer than the
    window would otherwise be associated whole again each time its front moved (2 s of
    CPU for a show of 3,900 reports, four times in the simulated city's first hour). A
    group that new reports are joining is associated again when its front has moved, as
    before: those reports may be a gun fired near the show, which standing on the
    show's last association would not locate until the group had grown by half."""
    prev = cache.ancestor(ids)
    if prev is None:
        return None
    where = {k: j for j, k in enumerate(ids)}
    old_ids = prev[1]
    kept = sum(k in where for k in old_ids)
    if (kept < len(old_ids) and not trimmed) or len(ids) >= regrow * max(kept, 1):
        return None
    cache.deferred += 1
    return [
        replace(g, shot=replace(g.shot, pulse_ids=[where[old_ids[i]] for i in g.shot.pulse_ids]))
        for g in prev[0]
        if all(old_ids[i] in where for i in g.shot.pulse_ids)
    ], set(old_ids)


def _rounds_since(
    array: Array,
    grp: _Group,
    c: float,
    wind: NDArray[np.float64] | None,
    cfg: AssociationConfig,
    shots: list[_GroupShot],
    new: NDArray[np.bool_],
) -> list[_GroupShot]:
    """The rounds a growing group's ``new`` pulses (those its last association had not
    seen) add at the places of its ``shots`` (that association's, renumbered for the
    group): :func:`shotwatch.core.associate.rounds_at_places`. The next round of a
    burst is then emitted as soon as its reports agree there, not once the group has
    grown by half and been associated whole."""
    places = [
        LocatedShot(
            pulses=np.asarray(g.shot.pulse_ids, dtype=np.int64),
            pos=np.asarray(g.pos, dtype=float),
            t0=g.shot.t - grp.tref,
            cov=np.pad(g.cov, (0, 1)),
            error_radius=g.shot.error_radius_m,
            scale=g.shot.residual_rms_s,
            residual=np.zeros(len(g.shot.pulse_ids)),
        )
        for g in shots
    ]
    located = rounds_at_places(
        array.pos, grp.ps, grp.pt, c, places, new,
        pulse_sigma=grp.sig, pulse_snr=grp.snr, pulse_peak=grp.peak, wind=wind, config=cfg,
    )  # fmt: skip
    return _group_shots(array, located, grp, c, wind)


UNCHECKED_HEIGHT_M = 60.0
"""A shot heard by fewer than ``MIN_HEIGHT_SENSORS`` that the association put this far
above or below the ground has no level (:func:`_source_level`), and its reach is no
evidence of a loud ground source (``ShotArrays.off_ground``). Diffracted arrivals bias a
ground gun's few-sensor fit by tens of metres (27-40 m up, ``MIN_HEIGHT_SENSORS``), not
by more: of 611 simulated gunshots located from 5-15 sensors (`shotwatch bench` scenes,
seeds 0-3) four lay 60-90 m off the ground, all at levels under 143 dB, while the
simulated city's false gunfire alerts came from such fits: a mixture of reports put 119 m
up, another 110 m underground, a firework's bursts 66-145 m up, each read 149-154 dB
because the spreading added back runs over distances to a point where nothing was."""


def _off_ground(array: Array, shot: Shot) -> bool:
    """Whether fewer than ``MIN_HEIGHT_SENSORS`` sensors put the shot
    ``UNCHECKED_HEIGHT_M`` or more above the highest, or below the lowest, of the nearest
    sensors (its place unchecked). Both ends, not :meth:`Array.ground_height` alone: on
    a hillside the nearest sensors' heights spread by tens of metres (around one of the
    live fire's firing positions from 5 m below it to 49 m above), and a gun in the
    valley is not underground."""
    if len(shot.pulse_ids) >= MIN_HEIGHT_SENSORS:
        return False
    pos = np.array([shot.east_m, shot.north_m, shot.up_m])
    near = array.near_heights(pos)
    return bool(
        pos[2] - np.max(near) >= UNCHECKED_HEIGHT_M or np.min(near) - pos[2] >= UNCHECKED_HEIGHT_M
    )


def _source_level(
    array: Array, ps: NDArray[np.int64], peak: NDArray[np.float64], shot: Shot
) -> float:
    """The shot's peak level at 1 m, dB SPL, from its pulses' peaks at the calibrated
    sensors (nan when none is calibrated, or when the shot is :func:`_off_ground`: its
    place, and so the spreading to add back, is unchecked)."""
    if array.full_scale_db.shape != (len(array.ids),) or _off_ground(array, shot):
        return float("nan")
    idx = np.asarray(shot.pulse_ids, dtype=np.int64)
    pos = np.array([shot.east_m, shot.north_m, shot.up_m])
    k = ps[idx]
    d = np.linalg.norm(array.pos[k] - pos, axis=1)
    return source_level_db(peak[idx], array.full_scale_db[k], d)


def _locate_group(
    array: Array,
    grp: _Group,
    c: float,
    wind: NDArray[np.float64] | None,
    cfg: AssociationConfig,
    *,
    three: bool = False,
) -> list[_GroupShot]:
    """Associate and locate one group of pulses; a group heard by three sensors only
    (``three``) yields the shots so heard, if any."""
    locate = three_sensor_shots if three else associate
    located = locate(
        array.pos, grp.ps, grp.pt, c, pulse_sigma=grp.sig, pulse_snr=grp.snr,
        pulse_peak=grp.peak, wind=wind, config=cfg,
    )  # fmt: skip
    return _group_shots(array, located, grp, c, wind)


def _group_shots(
    array: Array,
    located: list[LocatedShot],
    grp: _Group,
    c: float,
    wind: NDArray[np.float64] | None,
) -> list[_GroupShot]:
    """The core's located shots of one group (times ``grp.pt``) as domain shots with
    their rows of :class:`ShotArrays`."""
    ps, sig, score = grp.ps, grp.sig, grp.score
    out: list[_GroupShot] = []
    for ls in located:
        lat, lon, h = array.frame.to_geodetic(ls.pos)
        ids = [array.ids[int(ps[i])] for i in ls.pulses]
        sc = score[ls.pulses]
        sc = sc[np.isfinite(sc)]
        # the median: a far sensor's window holds a weak, low-passed copy of the sound
        # and scores low (the real live fire's single rounds: one such sensor of five
        # took the mean from 0.96 to 0.77); the incident takes its shots' median too
        shot_score = float(np.median(sc)) if sc.size else None
        h_agl, h_sig = _height_agl(array, ls, ps, grp.pt, sig, c, wind)
        alt = None
        if ls.alternative is not None:
            a_lat, a_lon, _ = array.frame.to_geodetic(ls.alternative)
            alt = (float(a_lat), float(a_lon))
        radius = absolute_radius(
            ls.cov, ls.pos, array.pos[ps[ls.pulses]], c, wind=wind,
            model_sigma_s=RADIUS_MODEL_SIGMA_S, common_sigma_m=RADIUS_COMMON_SIGMA_M,
        )  # fmt: skip
        shot = Shot(
            t=ls.t0 + grp.tref,
            lat=float(lat),
            lon=float(lon),
            elevation_m=float(h),
            error_radius_m=radius,
            sensors=sorted(ids),
            east_m=float(ls.pos[0]),
            north_m=float(ls.pos[1]),
            up_m=float(ls.pos[2]),
            residual_rms_s=ls.scale,
            pulse_ids=[int(i) for i in ls.pulses],
            gunshot_score=shot_score,
            height_above_sensors_m=h_agl,
            alternative=alt,
        )
        source_db = _source_level(array, ps, grp.peak, shot)
        shot.source_level_db = float(source_db) if np.isfinite(source_db) else None
        out.append(
            _GroupShot(
                shot=shot,
                pos=np.asarray(ls.pos, dtype=float),
                cov=np.asarray(ls.cov[:3, :3], dtype=float),
                height_agl=h_agl,
                height_sigma=h_sig,
                score=np.nan if shot_score is None else shot_score,
                n_sensors=len(ls.pulses),
                alt_pos=np.full(3, np.nan) if ls.alternative is None else ls.alternative,
                source_db=source_db,
                off_ground=_off_ground(array, shot),
            )
        )
    return out


def _height_agl(
    array: Array,
    ls: LocatedShot,
    ps: NDArray[np.int64],
    pt: NDArray[np.float64],
    sig: NDArray[np.float64],
    c: float,
    wind: NDArray[np.float64] | None,
) -> tuple[float, float]:
    """Height of the source above the local ground and its 1-sigma, m, from a fit with
    the height free (the association's fit holds it near the array); NaN when the
    geometry cannot resolve it (1-sigma > 15 m) or fewer than ``MIN_HEIGHT_SENSORS``
    heard it.

    A nearly flat array cannot tell a source above it from its mirror image below it:
    the fit starts from both (the association's height and its reflection, 60 m up);
    when the first lands more than ``UNDERGROUND_M`` below the nearby roofs, the
    above-ground solution wins unless it fits clearly worse (a quarter fewer inliers,
    or an RMS residual half as large again) — nothing fires from tens of metres under
    the street."""
    nan = float("nan")
    if len(ls.pulses) < MIN_HEIGHT_SENSORS:
        return nan, nan
    idx = ls.pulses
    k = idx.size
    ref = array.ground_height(ls.pos)
    starts = np.array([ls.pos, [ls.pos[0], ls.pos[1], ref + abs(ls.pos[2] - ref) + 60.0]])
    fix = refine_batch(
        np.broadcast_to(array.pos[ps[idx]], (2, k, 3)),
        np.broadcast_to(pt[idx] - ls.t0, (2, k)),
        np.ones((2, k), dtype=bool),
        starts,
        np.zeros(2),
        c,
        wind=wind,
        sigma=np.broadcast_to(np.maximum(sig[idx], 5e-4), (2, k)),
        z_sigma=None,
    )
    h = fix.pos[:, 2] - np.array([array.ground_height(p) for p in fix.pos])
    n_in = fix.inlier.sum(axis=1)
    rms = np.sqrt(
        np.nansum(np.where(fix.inlier, fix.residual**2, 0.0), axis=1) / np.maximum(n_in, 1)
    )
    best = 0
    underground = h[0] < -UNDERGROUND_M
    if (
        underground
        and fix.ok[1]
        and h[1] > h[0]
        and n_in[1] >= 0.75 * n_in[0]
        and rms[1] <= 1.5 * rms[0] + 1e-5
    ):
        best = 1
    sz = float(np.sqrt(fix.cov[best, 2, 2]))
    if not fix.ok[best] or sz > 15.0:
        return nan, nan
    return float(h[best]), sz


def _incident_id(first: Shot) -> str:
    key = f"{first.t:.3f}:{first.lat:.5f}:{first.lon:.5f}"
    return "inc-" + hashlib.sha1(key.encode()).hexdigest()[:12]


def build_incidents(shots: list[Shot], arrays: ShotArrays) -> list[Incident]:
    """Group located shots into incidents (rounds, shooters, mobile, classification)."""
    if not shots:
        return []
    incidents: list[Incident] = []
    for g in group_incidents(arrays):
        members = [shots[int(i)] for i in g.shot_index]
        for shot, shooter in zip(members, g.shooter, strict=True):
            shot.shooter = int(shooter)
        first = min(members, key=lambda s: s.t)
        incidents.append(
            Incident(
                id=_incident_id(first),
                classification=Classification(g.classification),
                confidence=float(g.confidence),
                shots=members,
                shooters=g.shooters,
                mobile=g.mobile,
                speed_mps=g.speed_mps,
                heading_deg=g.heading_deg,
                speed_sigma_mps=g.speed_sigma_mps,
                heading_sigma_deg=g.heading_sigma_deg,
                summary=g.summary,
            )
        )
    incidents.sort(key=lambda i: i.first_shot.t)
    return incidents


def locate_pulses(
    sensors: dict[str, Sensor],
    pulses: list[Pulse],
    weather: Weather | None = None,
    config: AssociationConfig | None = None,
) -> list[Incident]:
    """Batch: pulse reports -> incidents."""
    array = Array.from_sensors(sensors)
    shots, arrays = locate_shots(array, pulses, weather, config)
    return build_incidents(shots, arrays)


def locate_input(inp: InputSet, *, score: bool = True) -> list[Incident]:
    """What ``shotwatch locate DIR`` does with a loaded directory."""
    if inp.clips is not None:
        pulses = pulses_from_clips(inp.clips, score=score)
    else:
        pulses = inp.pulses or []
    heard = {p.sensor_id for p in pulses}
    if len(heard) < 4:
        raise InputError(
            f"pulses from only {len(heard)} sensor(s): at least 4 are needed to locate a shot"
        )
    return locate_pulses(inp.sensors, pulses, inp.weather)
