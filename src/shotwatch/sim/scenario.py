"""Scenario files of the simulator: schema, validation and loading.

A scenario is a YAML or JSON document (one object). Positions are metres in a local
east-north-up frame whose origin is ``area`` (``up_m`` is height above the flat ground
at ``area.elevation_m``); times are seconds after ``start_utc``. Unknown keys are
errors, so a typo never passes silently. Schema (defaults in brackets)::

    name: str                          [""]
    start_utc: "2026-07-04T21:00:00Z"  [that value]
    duration_s: float                  [last source + 5 s]
    area:
      lat: deg, lon: deg               (required) origin of the local frame
      elevation_m: m                   [0]   ground elevation
      size_m: [east, north]            [[2000, 2000]] extent centred on the origin
    sensors:
      layout: grid | random | explicit [grid]
      spacing_m: m                     [300] grid pitch, or mean spacing of random sites
      count: int                       [fill the area] random: number of sites; grid: cap
      seed: int                        [0]
      jitter_m: m                      [30]  random offset of grid sites
      height_m: [lo, hi]               [[5, 15]] mount height above ground (pole) or
                                              above the roof (mast: a third of it)
      id_prefix: str                   ["S"] ids are S001, S002, ...
      sites: [{id, east_m, north_m, height_m}]   explicit layout (height_m optional)
    buildings:
      mode: none | explicit | random   [none]
      boxes: [{east_min, east_max, north_min, north_max, height_m}]   explicit
      block_m: m                       [100] city block pitch (street centre to centre)
      street_m: m                      [20]  street width
      density: 0..1                    [0.5] chance that a lot in a block is built
      height_m: [lo, hi]               [[6, 30]]
      seed: int                        [0]
      facade_reflection: 0..1          [0.8] pressure reflection coefficient of walls
      excess_db_per_100m: dB           [random: 3.3 x density; else 0] extra loss of a
                                              blocked path per 100 m beyond the first 100 m
                                              (scattering over many rows of roofs), <= 20 dB
      max_open_range_m: m              [unlimited] open lines of sight longer than this
                                              are not searched for (speed in big cities:
                                              only a long straight street offers one)
    weather: {temperature_c [15], relative_humidity [50], wind_speed_mps [0],
              wind_from_deg [0]}       wind_from_deg: where it blows from, clockwise
    noise:
      background_db_spl: dB            [55]  urban background (RMS) at a sensor
      sensor_sigma_db: dB              [3]   spread of the background between sites
      detection_snr_db: dB             [10]  a sensor reports arrivals above this SNR
      snr_window_s: s                  [0.002] SNR = mean pulse power over this window
                                              after the onset / background power
      fluctuation_db: dB               [2]   random level scatter per arrival
      full_scale_db_spl: dB            [130] 0 dBFS of the sensor's converter
      spurious_per_sensor_hour: 1/h    [0]   picks of noise bursts that are no event
    timing:
      clock_sigma_s: s                 [5e-5] GPS clock error per sensor (1 sigma)
      pick_sigma_s: s                  [1e-4] onset picking error at high SNR (1 sigma)
      merge_window_s: s                [0.002] arrivals closer than this at one sensor
                                              are reported as one pulse
    echoes: {enabled [true], radius_m [120], sensor_radius_m [60]}   facade echoes off
                                       the walls near the source and near each sensor
    scores:                            [none] gunshot classifier scores on the pulses
                                              (pulses output; audio runs the classifier)
      quantiles: {kind: [q0, ..., q1]} the score's quantile function per source kind
                                              (gunfire, fireworks, firecrackers, backfire,
                                              door_slam, noise = spurious picks), at
                                              evenly spaced probabilities 0..1; every
                                              kind the scenario holds must be given
      incident_correlation: 0..1       [0.5] correlation of the (normal-score) draws
                                              of two pulses of one incident
    sources: list of incidents, each one of (``kind`` selects):
      - kind: gunfire                  one or more shooters in one incident
        t_s: s (required)
        pattern: independent | alternate   [independent] alternate = shooters trade
        shooters: [shooter, ...]       or the fields of a single shooter inline:
          east_m, north_m (required), up_m [1.5], weapon: handgun|rifle|shotgun [handgun],
          rounds [1], mode: semi|auto [semi], cadence_s: [lo, hi] [[0.2, 0.6]] (semi),
          rpm [750] (auto), start_s [0] (after t_s), speed_mps [0], heading_deg [0]
          (mobile shooter: direction of travel clockwise from north), aim_deg [random]
          (muzzle direction), level_db [weapon default] (peak SPL at 1 m),
          supersonic [rifle: true] (audio mode adds the bullet's N-wave)
      - kind: fireworks   t_s, east_m, north_m, bursts [3], burst_height_m [[40, 200]],
                          spread_m [30], interval_s [[0.5, 3]], crackle [0] pops per burst
      - kind: firecrackers   t_s, east_m, north_m, pops [30], gap_s [[0.02, 0.08]]
      - kind: backfire    t_s, east_m, north_m, count [1], gap_s [[0.1, 0.6]],
                          speed_mps [0], heading_deg [0]
      - kind: door_slam   t_s, east_m, north_m, count [1]
      Every source may set ``level_db`` (peak SPL at 1 m) and ``up_m``.

Validation errors become :class:`~shotwatch.errors.InputError` naming the file and the
field (``sources.2.rounds: ...``).
"""

from __future__ import annotations

import json
import math
from itertools import pairwise
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shotwatch.errors import InputError
from shotwatch.timeutil import parse_utc

Range = tuple[float, float]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def _check_range(r: Range, name: str, lo: float, hi: float) -> None:
    if not (lo <= r[0] <= r[1] <= hi):
        raise ValueError(f"{name} must be [lo, hi] with {lo} <= lo <= hi <= {hi}, got {r}")


class Area(_Model):
    lat: float = Field(ge=-89.0, le=89.0)
    lon: float = Field(ge=-180.0, le=180.0)
    elevation_m: float = Field(default=0.0, ge=-500.0, le=8000.0)
    size_m: tuple[float, float] = (2000.0, 2000.0)

    @model_validator(mode="after")
    def _size(self) -> Area:
        if not all(10.0 <= s <= 50_000.0 for s in self.size_m):
            raise ValueError("size_m must be two extents within 10..50000 m")
        return self


MAX_OFFSET_M = 50_000.0
"""How far from the area's centre a site, a source or a building may lie, m (the largest
area is 50 km across; a point 1e300 m off overflowed the propagation)."""
Offset = Annotated[float, Field(ge=-MAX_OFFSET_M, le=MAX_OFFSET_M)]


class SensorSite(_Model):
    id: str = Field(min_length=1, max_length=64)
    east_m: Offset
    north_m: Offset
    height_m: float | None = Field(default=None, ge=0.0, le=300.0)


class SensorLayout(_Model):
    layout: Literal["grid", "random", "explicit"] = "grid"
    spacing_m: float = Field(default=300.0, ge=10.0, le=10_000.0)
    count: int | None = Field(default=None, ge=1, le=100_000)
    seed: int = 0
    jitter_m: float = Field(default=30.0, ge=0.0, le=1000.0)
    height_m: Range = (5.0, 15.0)
    id_prefix: str = Field(default="S", max_length=16)
    sites: list[SensorSite] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> SensorLayout:
        _check_range(self.height_m, "height_m", 0.0, 300.0)
        if self.layout == "explicit" and not self.sites:
            raise ValueError("layout explicit needs a non-empty sites list")
        if self.layout == "random" and self.count is None:
            raise ValueError("layout random needs count")
        ids = [s.id for s in self.sites]
        if len(set(ids)) != len(ids):
            raise ValueError("sensor site ids must be unique")
        return self


class Box(_Model):
    east_min: Offset
    east_max: Offset
    north_min: Offset
    north_max: Offset
    height_m: float = Field(gt=0.0, le=1000.0)

    @model_validator(mode="after")
    def _order(self) -> Box:
        if not (self.east_min < self.east_max and self.north_min < self.north_max):
            raise ValueError("a box needs east_min < east_max and north_min < north_max")
        return self


class Buildings(_Model):
    mode: Literal["none", "explicit", "random"] = "none"
    boxes: list[Box] = Field(default_factory=list)
    block_m: float = Field(default=100.0, ge=20.0, le=2000.0)
    street_m: float = Field(default=20.0, ge=4.0, le=500.0)
    density: float = Field(default=0.5, ge=0.0, le=1.0)
    height_m: Range = (6.0, 30.0)
    seed: int = 0
    facade_reflection: float = Field(default=0.8, ge=0.0, le=1.0)
    excess_db_per_100m: float | None = Field(default=None, ge=0.0, le=50.0)
    max_open_range_m: float | None = Field(default=None, gt=0.0, le=100_000.0)

    @model_validator(mode="after")
    def _check(self) -> Buildings:
        _check_range(self.height_m, "height_m", 1.0, 1000.0)
        if self.street_m >= self.block_m:
            raise ValueError("street_m must be smaller than block_m")
        return self


class WeatherSpec(_Model):
    temperature_c: float = Field(default=15.0, ge=-60.0, le=60.0)
    relative_humidity: float = Field(default=50.0, ge=0.0, le=100.0)
    wind_speed_mps: float = Field(default=0.0, ge=0.0, le=40.0)
    wind_from_deg: float = Field(default=0.0, ge=-360.0, le=360.0)


class Noise(_Model):
    background_db_spl: float = Field(default=55.0, ge=0.0, le=120.0)
    sensor_sigma_db: float = Field(default=3.0, ge=0.0, le=20.0)
    detection_snr_db: float = Field(default=10.0, ge=0.0, le=60.0)
    snr_window_s: float = Field(default=0.002, gt=0.0, le=1.0)
    fluctuation_db: float = Field(default=2.0, ge=0.0, le=20.0)
    full_scale_db_spl: float = Field(default=130.0, ge=80.0, le=194.0)
    spurious_per_sensor_hour: float = Field(default=0.0, ge=0.0, le=10_000.0)


class Timing(_Model):
    clock_sigma_s: float = Field(default=5e-5, ge=0.0, le=1.0)
    pick_sigma_s: float = Field(default=1e-4, ge=0.0, le=1.0)
    merge_window_s: float = Field(default=0.002, ge=0.0, le=1.0)


class Echoes(_Model):
    enabled: bool = True
    radius_m: float = Field(default=120.0, ge=0.0, le=2000.0)
    sensor_radius_m: float = Field(default=60.0, ge=0.0, le=2000.0)


ScoreKind = Literal["gunfire", "fireworks", "firecrackers", "backfire", "door_slam", "noise"]


class Scores(_Model):
    """Gunshot classifier scores for simulated pulses, drawn per source kind from a
    measured score distribution (see :mod:`shotwatch.sim.scores`)."""

    quantiles: dict[ScoreKind, list[float]]
    incident_correlation: float = Field(default=0.5, ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _check(self) -> Scores:
        for kind, q in self.quantiles.items():
            if len(q) < 2:
                raise ValueError(f"quantiles.{kind}: at least 2 values (the 0 and 1 quantiles)")
            if not all(0.0 <= v <= 1.0 for v in q):
                raise ValueError(f"quantiles.{kind}: scores must be within 0..1")
            if any(b < a for a, b in pairwise(q)):
                raise ValueError(f"quantiles.{kind}: must not decrease")
        return self


Weapon = Literal["handgun", "rifle", "shotgun"]


class Shooter(_Model):
    east_m: Offset
    north_m: Offset
    up_m: float = Field(default=1.5, ge=0.0, le=500.0)
    weapon: Weapon = "handgun"
    rounds: int = Field(default=1, ge=1, le=1000)
    mode: Literal["semi", "auto"] = "semi"
    cadence_s: Range = (0.2, 0.6)
    rpm: float = Field(default=750.0, ge=60.0, le=3000.0)
    start_s: float = Field(default=0.0, ge=0.0, le=3600.0)
    speed_mps: float = Field(default=0.0, ge=0.0, le=60.0)
    heading_deg: float = Field(default=0.0, ge=-360.0, le=360.0)
    aim_deg: float | None = Field(default=None, ge=-360.0, le=360.0)
    level_db: float | None = Field(default=None, ge=60.0, le=194.0)
    supersonic: bool | None = None

    @model_validator(mode="after")
    def _check(self) -> Shooter:
        _check_range(self.cadence_s, "cadence_s", 0.01, 60.0)
        return self


MAX_SCENE_S = 7 * 86400.0
"""The longest scene (``duration_s``), and the latest source time in it."""


class GunfireSource(_Model):
    kind: Literal["gunfire"]
    t_s: float = Field(ge=0.0, le=MAX_SCENE_S)
    pattern: Literal["independent", "alternate"] = "independent"
    shooters: list[Shooter] = Field(min_length=1, max_length=20)

    @model_validator(mode="before")
    @classmethod
    def _inline_shooter(cls, data: Any) -> Any:
        if isinstance(data, dict) and "shooters" not in data:
            own = {"kind", "t_s", "pattern"}
            shooter = {k: v for k, v in data.items() if k not in own}
            rest = {k: v for k, v in data.items() if k in own}
            return {**rest, "shooters": [shooter]}
        return data


class _Point(_Model):
    t_s: float = Field(ge=0.0, le=MAX_SCENE_S)
    east_m: Offset
    north_m: Offset
    up_m: float | None = Field(default=None, ge=0.0, le=1000.0)
    level_db: float | None = Field(default=None, ge=60.0, le=194.0)


class FireworksSource(_Point):
    kind: Literal["fireworks"]
    bursts: int = Field(default=3, ge=1, le=500)
    burst_height_m: Range = (40.0, 200.0)
    spread_m: float = Field(default=30.0, ge=0.0, le=1000.0)
    interval_s: Range = (0.5, 3.0)
    crackle: int = Field(default=0, ge=0, le=200)

    @model_validator(mode="after")
    def _check(self) -> FireworksSource:
        _check_range(self.burst_height_m, "burst_height_m", 0.0, 1000.0)
        _check_range(self.interval_s, "interval_s", 0.0, 600.0)
        return self


class FirecrackersSource(_Point):
    kind: Literal["firecrackers"]
    pops: int = Field(default=30, ge=1, le=2000)
    gap_s: Range = (0.02, 0.08)

    @model_validator(mode="after")
    def _check(self) -> FirecrackersSource:
        _check_range(self.gap_s, "gap_s", 0.001, 60.0)
        return self


class BackfireSource(_Point):
    kind: Literal["backfire"]
    count: int = Field(default=1, ge=1, le=50)
    gap_s: Range = (0.1, 0.6)
    speed_mps: float = Field(default=0.0, ge=0.0, le=60.0)
    heading_deg: float = Field(default=0.0, ge=-360.0, le=360.0)

    @model_validator(mode="after")
    def _check(self) -> BackfireSource:
        _check_range(self.gap_s, "gap_s", 0.001, 60.0)
        return self


class DoorSlamSource(_Point):
    kind: Literal["door_slam"]
    count: int = Field(default=1, ge=1, le=20)


Source = Annotated[
    GunfireSource | FireworksSource | FirecrackersSource | BackfireSource | DoorSlamSource,
    Field(discriminator="kind"),
]


class Scenario(_Model):
    """A complete simulation scenario (see the module docstring for the schema)."""

    name: str = ""
    start_utc: str = "2026-07-04T21:00:00Z"
    duration_s: float | None = Field(default=None, gt=0.0, le=MAX_SCENE_S)
    area: Area
    sensors: SensorLayout = Field(default_factory=SensorLayout)
    buildings: Buildings = Field(default_factory=Buildings)
    weather: WeatherSpec = Field(default_factory=WeatherSpec)
    noise: Noise = Field(default_factory=Noise)
    timing: Timing = Field(default_factory=Timing)
    echoes: Echoes = Field(default_factory=Echoes)
    sources: list[Source] = Field(default_factory=list)
    scores: Scores | None = None

    @model_validator(mode="after")
    def _check(self) -> Scenario:
        try:
            parse_utc(self.start_utc)
        except InputError as e:
            raise ValueError(f"start_utc: {e}") from None
        if self.scores is not None:
            need: set[str] = {s.kind for s in self.sources}
            if self.noise.spurious_per_sensor_hour > 0:
                need.add("noise")
            missing = sorted(need - set(self.scores.quantiles))
            if missing:
                raise ValueError(f"scores.quantiles: no distribution for {', '.join(missing)}")
        return self

    @property
    def start(self) -> float:
        """Scenario start, epoch seconds UTC."""
        return parse_utc(self.start_utc)


def _field_path(loc: tuple[int | str, ...]) -> str:
    # Drop pydantic's discriminator tags ("gunfire") from the location path.
    parts = [str(p) for p in loc]
    kinds = {"gunfire", "fireworks", "firecrackers", "backfire", "door_slam"}
    return ".".join(p for i, p in enumerate(parts) if not (i > 0 and p in kinds))


def scenario_from_dict(data: Any, source: str = "scenario") -> Scenario:
    """Validate a parsed scenario document; errors become one ``InputError`` line."""
    if not isinstance(data, dict):
        raise InputError("a scenario must be a mapping (YAML/JSON object)", source)
    try:
        return Scenario.model_validate(data)
    except ValidationError as e:
        err = e.errors()[0]
        where = _field_path(tuple(err["loc"])) or "scenario"
        msg = str(err["msg"]).removeprefix("Value error, ")
        more = f" (and {len(e.errors()) - 1} more)" if len(e.errors()) > 1 else ""
        raise InputError(f"{where}: {msg}{more}", source) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read a YAML (``.yaml``/``.yml``) or JSON scenario file and validate it."""
    import yaml

    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise InputError(f"cannot read: {e.strerror}", str(p)) from None
    except UnicodeDecodeError:
        raise InputError("not a UTF-8 text file", str(p)) from None
    try:
        data = json.loads(text) if p.suffix.lower() == ".json" else yaml.safe_load(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg} (line {e.lineno})", str(p)) from None
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise InputError("not valid YAML", f"{p}{line}") from None
    _reject_non_finite(data, str(p))
    return scenario_from_dict(data, str(p))


def _reject_non_finite(data: Any, source: str, where: str = "") -> None:
    if isinstance(data, float) and not math.isfinite(data):
        raise InputError(f"{where or 'value'}: must be a finite number", source)
    if isinstance(data, dict):
        for k, v in data.items():
            _reject_non_finite(v, source, f"{where}.{k}" if where else str(k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            _reject_non_finite(v, source, f"{where}.{i}" if where else str(i))
