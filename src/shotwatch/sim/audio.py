"""Audio mode: one continuous recording per sensor, synthesized in the frequency domain.

Each physical arrival is the closed-form spectrum of a Friedlander wave (see
:func:`shotwatch.sim.propagation.friedlander_spectrum`) times the transfer function of
its path: spherical spreading ``1/r``, ISO 9613-1 air absorption ``10^(-alpha(f) r/20)``
(the low-pass that grows with distance), the ISO 9613-2 screening loss ``Dz(f)`` of a
diffracted path (higher frequencies lose more) and a raised-cosine taper above 0.8 x
Nyquist against aliasing -- together made minimum-phase, hence causal -- and a
fractional-sample delay ``exp(-2 pi i f tau)``. The onset of an arrival lands at sample
``(t_arrival + clock_error) * fs`` of the clip whose first sample is stamped ``start`` by
the sensor's clock (the picking error is not in the waveform: it belongs to the picker).

Supersonic rifle rounds add Whitham's N-wave at sensors the bullet passes (miss distance
``b``): emitted where the Mach cone's ray towards the sensor leaves the trajectory,
it arrives before the muzzle blast downrange.

Background: Gaussian noise at the sensor's background level, pink (1/f) from 30 to
300 Hz and falling as 1/f^3 above (see :func:`urban_noise`). Samples are pressure
divided by the converter's full scale (``noise.full_scale_db_spl``), clipped to -1..1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from shotwatch.core.acoustics import travel_time
from shotwatch.errors import InputError
from shotwatch.formats import Clip
from shotwatch.sim import propagation as prop
from shotwatch.sim.engine import Medium
from shotwatch.sim.events import RIFLE_BULLET, Event
from shotwatch.sim.scenario import Scenario
from shotwatch.sim.world import World

F64 = NDArray[np.float64]
MAX_SAMPLES = 200_000_000
_PRE = 32  # samples kept before an onset in the synthesis window


def _window_len(t_star: float, sr: int) -> int:
    n = int(max(0.064, 14.0 * t_star) * sr) + _PRE
    return 1 << int(np.ceil(np.log2(n)))


def _taper(f: F64, sr: int) -> F64:
    ny = sr / 2.0
    x = np.clip((f - 0.8 * ny) / (0.2 * ny), 0.0, 1.0)
    return np.asarray(0.5 * (1.0 + np.cos(np.pi * x)))


def urban_noise(n: int, rms: float, sr: int, rng: np.random.Generator) -> F64:
    """Gaussian urban background, ``n`` samples of RMS ``rms``: a 1/f (pink) power
    spectrum from 30 Hz to 300 Hz falling as 1/f^3 above (traffic noise is dominated by
    low frequencies; its spectrum drops some 6-9 dB per octave above a few hundred Hz)."""
    if n == 0:
        return np.zeros(0)
    spec = rng.normal(size=n // 2 + 1) + 1j * rng.normal(size=n // 2 + 1)
    f = np.fft.rfftfreq(n, 1.0 / sr)
    fk = 300.0
    fc = np.maximum(f, 30.0)
    shape = np.where(f >= 30.0, np.where(fc <= fk, fc**-0.5, fk**-0.5 * (fk / fc) ** 1.5), 0.0)
    x = np.fft.irfft(spec * shape, n)
    s = float(np.std(x))
    return np.asarray(x * (rms / s if s > 0 else 0.0))


def minimum_phase(magnitude: F64) -> NDArray[np.complex128]:
    """The minimum-phase (causal) frequency response with the given magnitude on an rfft
    grid, by the folded real cepstrum (Oppenheim & Schafer, *Discrete-Time Signal
    Processing*, 3rd ed., sec. 13.8). Absorption and screening then delay and smear a
    pulse but never move energy ahead of its onset, as a zero-phase filter would."""
    n = 2 * (len(magnitude) - 1)
    cep = np.fft.irfft(np.log(np.maximum(magnitude, 1e-9)), n)
    fold = np.zeros(n)
    fold[0] = cep[0]
    fold[1 : n // 2] = 2.0 * cep[1 : n // 2]
    fold[n // 2] = cep[n // 2]
    return np.asarray(np.exp(np.fft.rfft(fold)))


def add_pulse(
    clip: F64,
    position: float,
    spectrum: NDArray[np.complex128],
    f: F64,
    sr: int,
) -> None:
    """Add the pulse of continuous spectrum ``spectrum`` (Pa s, on the grid ``f``) with its
    onset at fractional sample ``position`` into ``clip`` (in place)."""
    n_win = 2 * (len(f) - 1)
    n0 = int(np.floor(position)) - _PRE
    tau = (position - n0) / sr
    x = np.fft.irfft(spectrum * np.exp(-2j * np.pi * f * tau), n_win) * sr
    a, b = max(n0, 0), min(n0 + n_win, len(clip))
    if a < b:
        clip[a:b] += x[a - n0 : b - n0]


def render_clips(
    *,
    world: World,
    events: list[Event],
    arrivals: dict[str, NDArray[Any]],
    t_true: F64,
    clock: F64,
    noise_db: F64,
    medium: Medium,
    scenario: Scenario,
    start: float,
    duration: float,
    sample_rate: int,
    rng: np.random.Generator,
) -> dict[str, Clip]:
    """Synthesize each sensor's recording (pressure / full scale) over the scenario."""
    sr = sample_rate
    n_s = len(world.sensor_ids)
    n = int(np.ceil(duration * sr))
    if n * n_s > MAX_SAMPLES:
        raise InputError(
            f"audio mode is for small scenes: {n_s} sensors x {duration:.0f} s at {sr} Hz "
            f"exceeds {MAX_SAMPLES} samples"
        )
    p_fs = float(prop.db_to_pa(scenario.noise.full_scale_db_spl))
    data = [urban_noise(n, float(prop.db_to_pa(noise_db[s])), sr, rng) for s in range(n_s)]
    cache: dict[int, F64] = {}
    for i in range(len(arrivals["event"])):
        ev = events[int(arrivals["event"][i])]
        s = int(arrivals["sensor"][i])
        if arrivals["level"][i] < noise_db[s] - 20.0:
            continue
        n_win = _window_len(ev.t_star, sr)
        if n_win not in cache:
            cache[n_win] = np.asarray(np.fft.rfftfreq(n_win, 1.0 / sr), dtype=float)
        f = cache[n_win]
        length = float(arrivals["length"][i])
        ps = float(prop.db_to_pa(arrivals["src_db"][i]))
        h = prop.friedlander_spectrum(f, ps, ev.t_star) / max(length, 1.0)
        alpha = prop.air_absorption_db_per_m(f, medium.temperature_c, medium.relative_humidity)
        g_db = -alpha * length
        if arrivals["delta"][i] > 0:  # diffracted (or an echo of a diffracted arrival)
            lam = medium.c / np.maximum(f, 1.0)
            g_db = g_db - prop.barrier_attenuation_db(
                arrivals["delta"][i], lam, arrivals["span"][i]
            )
        h = h * minimum_phase(10.0 ** (g_db / 20.0) * _taper(f, sr))
        pos = (float(t_true[i]) + float(clock[s])) * sr
        add_pulse(data[s], pos, h, f, sr)
    _add_nwaves(data, world=world, events=events, medium=medium, clock=clock, sr=sr)
    out: dict[str, Clip] = {}
    for s, sid in enumerate(world.sensor_ids):
        x = np.clip(data[s] / p_fs, -1.0, 1.0)
        out[sid] = Clip(sid, Path("audio") / f"{sid}.flac", start, x, sr)
    return out


def nwave_geometry(
    src: F64, aim_deg: float, receivers: F64, *, c: float, speed: float, max_range: float
) -> tuple[F64, F64, NDArray[np.bool_], F64]:
    """Bullet shock at ``receivers`` (n, 3) for a horizontal shot from ``src`` along
    ``aim_deg``: arrival time after the shot (s), miss distance (m), whether the sensor
    is reached by the shock (emission point on the supersonic stretch), emission points.

    The ray reaching a receiver at along-track ``a`` and miss distance ``b`` leaves the
    trajectory at ``x = a - b / sqrt(M^2 - 1)``; ``t = x / V + sqrt((a - x)^2 + b^2) / c``.
    """
    h = np.radians(aim_deg)
    u = np.array([np.sin(h), np.cos(h), 0.0])
    v = receivers - src
    a = v @ u
    perp = v - a[:, None] * u
    b = np.linalg.norm(perp, axis=1)
    m = speed / c
    x = a - b / np.sqrt(m * m - 1.0)
    ok = (x >= 0.0) & (x <= max_range)
    t = x / speed + np.hypot(a - x, b) / c
    emit = src + np.clip(x, 0.0, max_range)[:, None] * u
    return t, b, ok, emit


def _add_nwaves(
    data: list[F64], *, world: World, events: list[Event], medium: Medium, clock: F64, sr: int
) -> None:
    speed = RIFLE_BULLET["speed"]
    for ev in events:
        if not ev.supersonic or ev.aim_deg is None:
            continue
        src = np.asarray(ev.pos, dtype=float)
        t, b, ok, emit = nwave_geometry(
            src,
            ev.aim_deg,
            world.sensor_pos,
            c=medium.c,
            speed=speed,
            max_range=RIFLE_BULLET["range"],
        )
        ok &= b <= 150.0
        if len(world.boxes) and ok.any():
            idx = np.flatnonzero(ok)
            ok[idx[world.index.blocked(emit[idx], world.sensor_pos[idx])]] = False
        for s in np.flatnonzero(ok):
            dp, dur = prop.whitham_nwave(
                b[s], speed / medium.c, RIFLE_BULLET["diameter"], RIFLE_BULLET["length"], medium.c
            )
            n_win = _window_len(float(dur), sr)
            f = np.asarray(np.fft.rfftfreq(n_win, 1.0 / sr), dtype=float)
            spec = prop.nwave_spectrum(f, float(dp), float(dur)) * _taper(f, sr)
            # the wind drifts the shock's ray like any other: correct its last leg
            leg = float(
                travel_time(emit[s], world.sensor_pos[s][None, :], medium.c, medium.wind)[0]
            )
            straight = float(np.linalg.norm(world.sensor_pos[s] - emit[s])) / medium.c
            pos = (ev.t + float(t[s]) + (leg - straight) + float(clock[s])) * sr
            add_pulse(data[s], pos, spec, f, sr)
