"""A simulated single shot in the demo city, as pulse reports with a WAV clip."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from typing import Any

import numpy as np
import soundfile as sf

from shotwatch.models import Sensor, Weather
from shotwatch.timeutil import format_utc
from shotwatch.web.demo import demo_scenario_doc


def simulated_shot(
    seed: int = 3,
) -> tuple[dict[str, Sensor], Weather, Callable[[float], list[tuple[float, dict[str, Any]]]]]:
    from shotwatch.sim.engine import simulate
    from shotwatch.sim.scenario import scenario_from_dict

    doc = demo_scenario_doc(
        {"kind": "gunfire", "east_m": 200.0, "north_m": -100.0, "weapon": "handgun"}, seed
    )
    res = simulate(scenario_from_dict(doc), seed, audio=True)
    rate = int(res.sample_rate or 16000)

    def reports(t0: float) -> list[tuple[float, dict[str, Any]]]:
        out = []
        for p in sorted(res.pulses, key=lambda p: p.t):
            rel = p.t - res.start
            clip = res.clips[p.sensor_id]
            i0 = max(0, round((p.t - clip.start - 0.1) * rate))
            seg = clip.samples[i0 : i0 + rate]
            buf = io.BytesIO()
            sf.write(
                buf,
                np.clip(seg / max(1e-9, np.max(np.abs(seg))) * 0.9, -1, 1),
                rate,
                format="WAV",
                subtype="PCM_16",
            )
            data = base64.b64encode(buf.getvalue()).decode()
            out.append(
                (
                    rel,
                    {
                        "sensor_id": p.sensor_id,
                        "t_utc": format_utc(t0 + rel),
                        "snr_db": p.snr_db,
                        "peak_dbfs": p.peak_dbfs,
                        "gunshot_score": 0.97,
                        "clip": {"format": "wav", "data": data},
                    },
                )
            )
        return out

    return res.sensors, res.weather, reports
