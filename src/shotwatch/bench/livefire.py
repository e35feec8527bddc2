"""``shotwatch bench --livefire``: run every live-fire test through the same code path as
``shotwatch locate`` (pulses view and audio view) and score against the survey.

The survey point, the vendor's tuples and the test ids are read here for *scoring only*;
nothing in :mod:`shotwatch.pipeline` sees them.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from shotwatch.errors import InputError
from shotwatch.formats import load_input_dir, read_clips, read_pulses, read_sensors
from shotwatch.geo import LocalFrame
from shotwatch.models import Classification, Incident
from shotwatch.pipeline import locate_input

AWAY_M = 100.0

# Tech Note 098 (Calhoun et al. 2020), centroid-to-survey distance, metres (2-D):
# real time (Table II) and best offline algorithm (Table III, MLG 2-D).
VENDOR_CENTROID_M = {
    "FP1": (4.14, 2.96),
    "FP2": (5.20, 3.60),
    "FP3": (3.49, 0.36),
    "FP4": (4.76, 5.57),
}


def default_livefire_dir() -> Path:
    """``$SHOTWATCH_SHARED_DATA/livefire`` or ``../shared/data/livefire`` beside the repo."""
    env = os.environ.get("SHOTWATCH_SHARED_DATA")
    if env:
        return Path(env) / "livefire"
    here = Path(__file__).resolve()
    for up in here.parents:
        cand = up.parent / "shared" / "data" / "livefire"
        if (up / "pyproject.toml").exists() and cand.is_dir():
            return cand
    return Path.cwd().parent / "shared" / "data" / "livefire"


@dataclass
class TestCase:
    test: str
    fp: str
    rounds: int
    lat: float
    lon: float
    elevation_m: float
    path: Path


def load_tests(root: Path) -> list[TestCase]:
    p = root / "tests.csv"
    if not p.is_file():
        raise InputError("live-fire tests.csv not found", str(p))
    out = []
    with p.open(newline="") as fh:
        for row in csv.DictReader(fh):
            out.append(
                TestCase(
                    row["test"],
                    row["firing_position"],
                    int(row["num_rounds"]),
                    float(row["lat"]),
                    float(row["lon"]),
                    float(row["elevation_m"]),
                    root / row["firing_position"] / row["test"],
                )
            )
    return out


@dataclass
class ViewResult:
    """Scores of one view (pulses or audio) over all tests."""

    fired: int = 0
    tests: int = 0
    found: int = 0
    exact_rounds: int = 0
    alerted: int = 0
    away_alerts: int = 0
    errors: list[float] = field(default_factory=list)
    by_fp: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    per_test: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        e = np.array(self.errors) if self.errors else np.array([np.nan])
        cent = {}
        for fp, pts in sorted(self.by_fp.items()):
            a = np.array(pts)
            cent[fp] = {
                "centroid_error_m": round(float(np.hypot(*a.mean(axis=0))), 2) if len(a) else None,
                "shots": len(a),
                "vendor_real_time_m": VENDOR_CENTROID_M.get(fp, (None, None))[0],
                "vendor_best_offline_m": VENDOR_CENTROID_M.get(fp, (None, None))[1],
            }

        def within(m: float) -> float:
            return float(np.sum(e <= m)) / max(self.fired, 1)

        return {
            "tests": self.tests,
            "shots_fired": self.fired,
            "shots_found": self.found,
            "tests_exact_rounds": self.exact_rounds,
            "tests_alerted_gunfire": self.alerted,
            "alerts_away_gt_100m": self.away_alerts,
            "error_median_m": round(float(np.nanmedian(e)), 2),
            "error_p90_m": round(float(np.nanpercentile(e, 90)), 2),
            "share_within_15m": round(within(15.0), 4),
            "share_within_25m": round(within(25.0), 4),
            "firing_positions": cent,
        }


def score_test(tc: TestCase, incidents: list[Incident], res: ViewResult) -> None:
    frame = LocalFrame(tc.lat, tc.lon, tc.elevation_m)
    res.tests += 1
    res.fired += tc.rounds
    near_shots = []
    away = 0
    alerted = False
    for inc in incidents:
        first = inc.first_shot
        d0 = float(np.hypot(*frame.to_enu(first.lat, first.lon, first.elevation_m)[:2]))
        if d0 > AWAY_M:
            if inc.classification != Classification.NON_GUNFIRE:
                away += 1
            continue
        if inc.classification == Classification.GUNFIRE:
            alerted = True
        for s in inc.shots:
            enu = frame.to_enu(s.lat, s.lon, s.elevation_m)
            near_shots.append((float(enu[0]), float(enu[1])))
    n_near = len(near_shots)
    res.found += min(n_near, tc.rounds)
    exact = (
        n_near == tc.rounds
        and sum(1 for i in incidents if i.classification != Classification.NON_GUNFIRE) == 1
    )
    res.exact_rounds += int(exact)
    res.alerted += int(alerted)
    res.away_alerts += away
    errs = sorted(float(np.hypot(x, y)) for x, y in near_shots)[: tc.rounds]
    res.errors.extend(errs)
    res.by_fp.setdefault(tc.fp, []).extend(near_shots[: tc.rounds])
    res.per_test.append(
        {
            "test": tc.test,
            "fp": tc.fp,
            "rounds": tc.rounds,
            "located_near": n_near,
            "incidents": len(incidents),
            "away_alerts": away,
            "errors_m": [round(x, 1) for x in errs],
        }
    )


def picking_agreement(tc: TestCase) -> list[float]:
    """|Shotwatch onset - vendor pulse time| (s) for the vendor-selected pulses on the
    sensors that have recordings (nearest pick within 50 ms)."""
    from shotwatch.core.picking import pick_onsets

    audio = tc.path / "audio"
    sensors = read_sensors(audio / "sensors.csv")
    clips = read_clips(audio / "clips.csv", sensors)
    pulses = {p.uid: p for p in read_pulses(tc.path / "pulses" / "pulses.jsonl")}
    tuples_path = tc.path / "original" / f"{tc.test}.nlos-tuples.json"
    chosen = [u for t in json.loads(tuples_path.read_text()) for u in t["pulse_uuids"]]
    out = []
    for clip in clips:
        picks = pick_onsets(clip.samples, clip.sample_rate)
        times = picks.times(clip.sample_rate, clip.start)
        for u in chosen:
            p = pulses.get(u)
            if p is None or p.sensor_id != clip.sensor_id or times.size == 0:
                continue
            d = float(np.min(np.abs(times - p.t)))
            if d < 0.05:
                out.append(d)
    return out


def run_livefire(
    root: Path,
    views: tuple[str, ...] = ("pulses", "audio"),
    progress: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    tests = load_tests(root)
    results = {v: ViewResult() for v in views}
    pick_diffs: list[float] = []
    for tc in tests:
        for v in views:
            inp = load_input_dir(tc.path / v)
            try:
                incidents = locate_input(inp)
            except InputError:
                incidents = []
            score_test(tc, incidents, results[v])
        if "audio" in views:
            pick_diffs.extend(picking_agreement(tc))
        if progress:
            progress(tc.test)
    out: dict[str, Any] = {v: r.summary() for v, r in results.items()}
    if pick_diffs:
        d = np.array(pick_diffs) * 1e3
        out["picking_vs_vendor"] = {
            "pulses": int(d.size),
            "median_abs_ms": round(float(np.median(d)), 2),
            "p90_abs_ms": round(float(np.percentile(d, 90)), 2),
        }
    out["per_test"] = {v: r.per_test for v, r in results.items()}
    out["note"] = "The survey is accurate to about 2.5 m; smaller errors cannot be measured."
    return out
