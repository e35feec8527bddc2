"""Speed of sound in air and travel time of sound through a uniform wind.

Speed of sound: ideal-gas formula on the *virtual* temperature, which folds the lighter
water vapour into the temperature (Cramer, J. Acoust. Soc. Am. 93, 2510 (1993) gives the
full real-gas fit; the virtual-temperature form agrees with it within 0.1 m/s over
-20..40 degC):

    c = c0 * sqrt(Tv / T0),  c0 = 331.29 m/s at T0 = 273.15 K (dry air),
    Tv = T / (1 - (e / p) * (1 - 0.622)),

with the water-vapour pressure e = RH/100 * es(T) and es from Buck (1981):
es = 6.1121 exp((18.678 - t/234.5) * t / (257.14 + t)) hPa, t in degC.

Travel time in a uniform wind w (m/s, horizontal): sound moves at c relative to the air,
which drifts at w, so a ray from source s to receiver r satisfies |d - w t| = c t with
d = r - s. Solving the quadratic exactly,

    t = (-(d.w) + sqrt((d.w)^2 + (c^2 - |w|^2) |d|^2)) / (c^2 - |w|^2),

and implicit differentiation gives the gradient dt/dd = (d - w t) / (w.(d - w t) + c^2 t).
For |w| << c this is the familiar effective speed c + w.u along the path.

Source level of an impulse (:func:`source_level_db`): a calibrated sensor at distance r
that reads a peak of P dBFS, with full scale F dB SPL, received P + F dB; spherical
spreading loses 20 log10(r / 1 m) and air absorption alpha r (ISO 9613-1; a muzzle
blast's energy peaks at 300-1000 Hz, where alpha is 1-5 dB/km at 10-20 degC and 50-80 %
RH), so the peak level at 1 m is L = P + F + 20 log10 r + alpha r, with alpha r at most
``MAX_ABSORPTION_DB`` (a low-frequency impulse such as a backfire loses far less, and
over-crediting it at kilometres made backfires read as guns). Screening by
buildings (ISO 9613-2 eq. (14): 5-25 dB) and the rear lobe of a gun's directivity only
lower the received level, so the estimate over several sensors leans on the louder ones;
near the ground the reflection off hard ground arrives within the positive phase and
doubles the peak pressure (+6 dB), which the estimate takes off.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

C0_DRY_0C = 331.29
T0_K = 273.15
P_STD_HPA = 1013.25


ALPHA_IMPULSE_DB_PER_M = 0.003
"""Air absorption of an impulse's peak, dB/m (ISO 9613-1 near 600 Hz, 15 degC, 60 % RH)."""
MAX_ABSORPTION_DB = 2.0
"""At most this much air absorption is added back to a received peak, dB: the peak's
frequency is unknown, and a backfire's (t* 4-8 ms, 75-150 Hz) loses a tenth of what a
muzzle blast's does; the full credit read a 151 dB backfire at 155 dB from its open
paths 2.1-2.4 km away (the 24-hour city)."""
GROUND_GAIN_DB = 6.0
"""Gain of an impulse's peak from its in-phase reflection off hard ground when source and
sensor are near it (pressure doubled at |R| ~ 1: 20 log10 2)."""
CLIP_DBFS = -0.5
"""A received peak at or above this level (dB re full scale) may be clipped."""


def source_level_db(
    peak_dbfs: ArrayLike,
    full_scale_db_spl: ArrayLike,
    dist_m: ArrayLike,
    *,
    alpha_db_per_m: float = ALPHA_IMPULSE_DB_PER_M,
    ground_gain_db: float = GROUND_GAIN_DB,
    clip_dbfs: float = CLIP_DBFS,
    max_absorption_db: float = MAX_ABSORPTION_DB,
) -> float:
    """Peak sound pressure level at 1 m of one impulse (dB re 20 uPa), from the peaks
    (n,) it left at n sensors, their converters' full scale (n,) dB SPL and their
    distances (n,) m from the located source (see the module docstring).

    Unknown values (nan peak or calibration) are left out. Screening and the rear of a
    gun only lower a received level, so the loudest sensors see the source best: the
    estimate is the second-highest unclipped value (the highest when only one; one
    outlier, e.g. a peak merged with an echo, does not carry it) less ``ground_gain_db``
    for the in-phase ground reflection. A clipped sensor (peak >= ``clip_dbfs``) only
    says the source was at least that loud, so the estimate is raised to the highest
    such bound. NaN when no sensor gives a value.
    """
    p = np.asarray(peak_dbfs, dtype=float)
    fs = np.asarray(full_scale_db_spl, dtype=float)
    r = np.maximum(np.asarray(dist_m, dtype=float), 1.0)
    lvl = p + fs + 20.0 * np.log10(r) + np.minimum(alpha_db_per_m * r, max_absorption_db)
    lvl = lvl - ground_gain_db
    ok = np.isfinite(lvl)
    clipped = ok & (p >= clip_dbfs)
    free = np.sort(lvl[ok & ~clipped])[::-1]
    est = float(free[min(1, free.size - 1)]) if free.size else float("nan")
    if clipped.any():
        bound = float(lvl[clipped].max())
        est = bound if not np.isfinite(est) else max(est, bound)
    return est


def saturation_vapour_pressure_hpa(temperature_c: ArrayLike) -> NDArray[np.float64]:
    """Buck (1981) saturation vapour pressure over water, hPa."""
    t = np.asarray(temperature_c, dtype=float)
    return np.asarray(6.1121 * np.exp((18.678 - t / 234.5) * t / (257.14 + t)), dtype=float)


def speed_of_sound(
    temperature_c: ArrayLike,
    relative_humidity: ArrayLike = 50.0,
    pressure_hpa: ArrayLike = P_STD_HPA,
) -> NDArray[np.float64]:
    """Speed of sound in still air, m/s, from temperature (degC) and relative humidity (%).

    Raises ``ValueError`` for temperatures outside -60..60 degC or humidity outside 0..100 %.
    """
    t = np.asarray(temperature_c, dtype=float)
    rh = np.asarray(relative_humidity, dtype=float)
    if np.any(~np.isfinite(t)) or np.any((t < -60) | (t > 60)):
        raise ValueError(f"temperature out of range -60..60 degC: {temperature_c!r}")
    if np.any(~np.isfinite(rh)) or np.any((rh < 0) | (rh > 100)):
        raise ValueError(f"relative humidity out of range 0..100 %: {relative_humidity!r}")
    e = rh / 100.0 * saturation_vapour_pressure_hpa(t)
    tk = t + T0_K
    tv = tk / (1.0 - (e / np.asarray(pressure_hpa, dtype=float)) * (1.0 - 0.622))
    return np.asarray(C0_DRY_0C * np.sqrt(tv / T0_K), dtype=float)


def wind_vector(speed_mps: float, from_deg: float) -> NDArray[np.float64]:
    """Horizontal wind (east, north, up) m/s from speed and the direction it blows *from*
    (meteorological convention, degrees clockwise from north)."""
    if not np.isfinite(speed_mps) or speed_mps < 0 or speed_mps > 60:
        raise ValueError(f"wind speed out of range 0..60 m/s: {speed_mps!r}")
    a = np.radians(from_deg)
    return np.array([-speed_mps * np.sin(a), -speed_mps * np.cos(a), 0.0])


def travel_time(
    source: ArrayLike, receivers: ArrayLike, c: float, wind: ArrayLike | None = None
) -> NDArray[np.float64]:
    """Travel time (s) from ``source`` (3,) to each of ``receivers`` (n, 3), metres,
    at sound speed ``c`` (m/s) through a uniform ``wind`` (3,) m/s."""
    t, _ = travel_time_and_gradient(source, receivers, c, wind)
    return t


def travel_time_and_gradient(
    source: ArrayLike, receivers: ArrayLike, c: float, wind: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Travel times (n,) and their gradients with respect to the *source* position (n, 3).

    ``source`` may also be (m, 3) with receivers (n, 3): then times are (m, n) and
    gradients (m, n, 3).
    """
    s = np.asarray(source, dtype=float)
    r = np.asarray(receivers, dtype=float)
    d = r - s[..., None, :] if s.ndim == 2 else r - s
    w = np.zeros(3) if wind is None else np.asarray(wind, dtype=float)
    w2 = float(w @ w)
    a = c * c - w2
    if a <= 0:
        raise ValueError("wind speed must be below the speed of sound")
    dw = d @ w
    dd = np.einsum("...i,...i->...", d, d)
    t = (-dw + np.sqrt(dw * dw + a * dd)) / a
    dwt = d - w * t[..., None]
    den = dwt @ w + c * c * t
    with np.errstate(invalid="ignore", divide="ignore"):
        g = -dwt / np.where(den > 0, den, np.inf)[..., None]
    return t, g
