"""Per-pulse features of an impulsive sound, for telling gunfire from its confusers.

Window convention
-----------------
Every feature is computed on one window around a pulse onset (sample index ``onset``):
``PRE_S`` = 20 ms before the onset to ``POST_S`` = 300 ms after it. The window is first
resampled to ``TARGET_RATE`` = 12 kHz (``scipy.signal.resample_poly``, Kaiser-windowed
polyphase FIR) whatever the input rate, so that a 44.1 kHz studio clip and a 12 kHz city
sensor give the same features: the classifier never sees energy above 6 kHz, which field
sensors do not record. Samples outside the recording are zeros. The window is then
high-passed at ``HIGHPASS_HZ`` = 200 Hz (2nd-order Butterworth, causal, started in steady
state on the first sample so a DC offset leaves no transient): DC offsets, wind rumble and
the sub-audio swing of an overloaded microphone differ from one recording chain to the
next and, measured with source-grouped cross-validation, only taught the model which
chain a clip came from. The window is scaled to unit peak, so features do not depend on
the recording level (distance and gain vary).

Features (``FEATURE_NAMES``; all finite float32):

* envelope (2 ms RMS frames, dB re the window peak): rise time 10->90 % of the peak
  magnitude, delay of the peak after the onset, decay times to -10/-20/-30 dB, time above
  -20 dB, slope of a line fitted to the decay (dB/s), pre-onset level (an SNR proxy),
  energy fractions in 0-10 ms, 0-50 ms and 50-300 ms, secondary peaks (echoes, crackle)
  and the envelope's periodicity (engines, clocks, clapping);
* waveform: crest factor (peak/RMS, dB), excess kurtosis (log), zero-crossing rates;
* spectrum of the first 64 ms and of the 64-300 ms tail (Hann, 1024-point FFT):
  centroid, bandwidth, 85 %/95 % roll-off, flatness (Wiener entropy, geometric/arithmetic
  mean of the power spectrum), slope, and energies in 7 bands (dB re the total);
* channel-independent contrasts (the microphone's and the channel's responses cancel):
  band levels of the first 64 ms re the 20 ms before the onset ("onset gain", clamped to
  -20..60 dB) and re the 64-300 ms tail;
* a pooled log-mel patch: 16 mel bands x 6 time blocks (dB re the patch maximum), from
  :func:`log_mel_patch` (32 mel bands 50-6000 Hz, 256-point frames, 10 ms hop, 30 frames),
  which is also the input of the comparison CNN;
* sub-band envelopes (4th-order Butterworth bands 200-600, 600-1500, 1500-3000 and
  3000-5800 Hz; 1 ms RMS frames smoothed over 3 frames, dB re the band's own peak, so
  the channel's response cancels): rise from the onset to the band's peak, decay to -10
  and -20 dB (interpolated between frames), energy fraction of the first 10 ms, the
  onset jump (largest rise of a frame over the mean of the frames 3-8 ms before it, from
  3 ms before to 10 ms after the onset, clamped to -10..60 dB), and the -10 dB decay of
  the top and of the third band minus that of the lowest.

The descriptors follow the usual audio-event literature (Peeters, "A large set of audio
features for sound description", IRCAM 2004; gunshot-specific use of rise/decay and
crest factor in Maher, "Acoustical characterization of gunshots", IEEE SAFE 2007).

Implementation: the shipped model was trained on these values, so the fast path must not
move them. The loops (resampling, filters, frame powers, sums, envelope statistics) are
numba kernels that perform numpy's and scipy's floating-point operations in the same
order (numpy's pairwise summation included: :func:`_pairwise_sum`), so the values are the
same to the last bit; logarithms, exponentials, powers, FFTs and dot products stay in
numpy. ``tests/classify/features_reference.py`` holds the plain-numpy code the tests
compare with. One deliberate difference: the kurtosis sums ``|x| ** 4`` (numpy's power
is far slower for a negative base and rounds a few of those results an ulp apart).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Any

import numba
import numpy as np
from numpy.typing import NDArray
from scipy.signal import butter, firwin, resample_poly, sosfilt_zi

from shotwatch.errors import InputError

TARGET_RATE = 12_000
"""Sample rate (Hz) every window is resampled to before features are computed."""
PRE_S = 0.020
"""Window start, seconds before the onset."""
POST_S = 0.300
"""Window end, seconds after the onset."""
N_PRE = round(PRE_S * TARGET_RATE)  # 240 samples
N_POST = round(POST_S * TARGET_RATE)  # 3600 samples
WINDOW_LEN = N_PRE + N_POST  # 3840 samples at 12 kHz

_FRAME = 24  # 2 ms envelope frames at 12 kHz
_N_FRAMES = WINDOW_LEN // _FRAME  # 160
_ONSET_FRAME = N_PRE // _FRAME  # 10
_HEAD = round(0.064 * TARGET_RATE)  # 64 ms spectral head
_NFFT = 1024
_BAND_EDGES_HZ = (0.0, 150.0, 300.0, 600.0, 1200.0, 2400.0, 4000.0, 6000.0)

N_MELS = 32
MEL_NFFT = 256
MEL_HOP = 120  # 10 ms
MEL_FRAMES = 1 + (WINDOW_LEN - MEL_NFFT) // MEL_HOP  # 30
_MEL_FMIN, _MEL_FMAX = 50.0, 6000.0
_POOL_BANDS = 16
_POOL_BLOCKS = ((0, 2), (2, 4), (4, 7), (7, 12), (12, 20), (20, MEL_FRAMES))
_DB_FLOOR = -100.0
_EPS = 1e-12

HIGHPASS_HZ = 200.0
"""Cut-off (Hz) of the high-pass every window goes through before its features."""
_SUBBANDS_HZ = ((200, 600), (600, 1500), (1500, 3000), (3000, 5800))
_SUB_FRAME = 12  # 1 ms at 12 kHz
_SUB_N = WINDOW_LEN // _SUB_FRAME  # 320
_SUB_ON = N_PRE // _SUB_FRAME  # 20
_SUB_NAMES = ("rise_ms", "decay10_ms", "decay20_ms", "efrac_0_10ms_db", "onset_jump_db")

_SCALAR_NAMES = (
    "rise_ms",
    "peak_delay_ms",
    "decay10_ms",
    "decay20_ms",
    "decay30_ms",
    "above20_ms",
    "decay_slope_db_s",
    "pre_level_db",
    "efrac_0_10ms_db",
    "efrac_0_50ms_db",
    "efrac_50_300ms_db",
    "n_secondary_peaks",
    "env_periodicity",
    "crest_db",
    "crest_head_db",
    "log_kurtosis",
    "zcr_head_hz",
    "zcr_tail_hz",
)
_SPEC_NAMES = ("centroid_hz", "bandwidth_hz", "rolloff85_hz", "rolloff95_hz", "flatness", "slope")
_BAND_NAMES = tuple(f"band_{int(lo)}_{int(hi)}_db" for lo, hi in itertools.pairwise(_BAND_EDGES_HZ))

FEATURE_NAMES: tuple[str, ...] = (
    _SCALAR_NAMES
    + tuple(f"head_{n}" for n in _SPEC_NAMES + _BAND_NAMES)
    + tuple(f"tail_{n}" for n in _SPEC_NAMES + _BAND_NAMES)
    + ("centroid_std_hz", "centroid_drift_hz")
    + tuple(f"onset_gain_{n}" for n in _BAND_NAMES)
    + tuple(f"head_minus_tail_{n}" for n in _BAND_NAMES)
    + tuple(f"mel{b:02d}_t{k}" for k in range(len(_POOL_BLOCKS)) for b in range(_POOL_BANDS))
    + tuple(f"sub_{lo}_{hi}_{n}" for lo, hi in _SUBBANDS_HZ for n in _SUB_NAMES)
    + ("sub_decay10_hi_minus_lo_ms", "sub_decay10_mid_minus_lo_ms")
)
"""Names of the entries of :func:`extract_features`' vector, in order."""
N_FEATURES = len(FEATURE_NAMES)


@lru_cache(maxsize=32)
def _lowpass(up: int, down: int) -> NDArray[np.float64]:
    """The anti-aliasing filter ``resample_poly`` would design (cached: firwin is slow)."""
    max_rate = max(up, down)
    h: NDArray[np.float64] = firwin(2 * 10 * max_rate + 1, 1.0 / max_rate, window=("kaiser", 5.0))
    return h


@lru_cache(maxsize=1)
def _highpass_sos() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Second-order sections of the ``HIGHPASS_HZ`` high-pass and their unit-step state."""
    sos: NDArray[np.float64] = butter(2, HIGHPASS_HZ, btype="high", fs=TARGET_RATE, output="sos")
    zi: NDArray[np.float64] = sosfilt_zi(sos)
    return sos, zi


def highpass(window: NDArray[np.float64]) -> NDArray[np.float64]:
    """``window`` through the ``HIGHPASS_HZ`` high-pass at ``TARGET_RATE`` (causal: onsets
    stay put), started in the steady state of its first sample (no start-up transient)."""
    sos, zi = _highpass_sos()
    w = np.ascontiguousarray(window, dtype=np.float64)
    out: NDArray[np.float64] = _sosfilt(sos[None], w, (zi * w[0])[None])[0]
    return out


@numba.njit(cache=True)
def _sosfilt(
    sos: NDArray[np.float64], x: NDArray[np.float64], zi: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``x`` through each of several cascades of second-order sections, shape
    (filters, sections, 6), from the states ``zi`` (filters, sections, 2): one row per
    filter. The arithmetic is ``scipy.signal.sosfilt``'s (transposed direct form II, the
    same operations in the same order), so the output is the same to the last bit."""
    n_f, n_s = sos.shape[0], sos.shape[1]
    y = np.empty((n_f, x.size))
    for f in range(n_f):
        z = zi[f].copy()
        for n in range(x.size):
            x_cur = x[n]
            for s in range(n_s):
                x_new = sos[f, s, 0] * x_cur + z[s, 0]
                z[s, 0] = sos[f, s, 1] * x_cur - sos[f, s, 4] * x_new + z[s, 1]
                z[s, 1] = sos[f, s, 2] * x_cur - sos[f, s, 5] * x_new
                x_cur = x_new
            y[f, n] = x_cur
    return y


@numba.njit(cache=True)
def _sosfilt4(
    sos: NDArray[np.float64], x: NDArray[np.float64], zi: NDArray[np.float64]
) -> NDArray[np.float64]:
    """:func:`_sosfilt` for cascades of exactly 4 sections (shape (filters, 4, 6)), with
    the coefficients and states in local variables (registers): the same arithmetic in
    the same order, so the same output to the last bit, about 1.6 times faster."""
    y = np.empty((sos.shape[0], x.size))
    for f in range(sos.shape[0]):
        c = sos[f]
        b00, b01, b02, a01, a02 = c[0, 0], c[0, 1], c[0, 2], c[0, 4], c[0, 5]
        b10, b11, b12, a11, a12 = c[1, 0], c[1, 1], c[1, 2], c[1, 4], c[1, 5]
        b20, b21, b22, a21, a22 = c[2, 0], c[2, 1], c[2, 2], c[2, 4], c[2, 5]
        b30, b31, b32, a31, a32 = c[3, 0], c[3, 1], c[3, 2], c[3, 4], c[3, 5]
        z00, z01, z10, z11 = zi[f, 0, 0], zi[f, 0, 1], zi[f, 1, 0], zi[f, 1, 1]
        z20, z21, z30, z31 = zi[f, 2, 0], zi[f, 2, 1], zi[f, 3, 0], zi[f, 3, 1]
        for n in range(x.size):
            v = x[n]
            u = b00 * v + z00
            z00 = b01 * v - a01 * u + z01
            z01 = b02 * v - a02 * u
            v = u
            u = b10 * v + z10
            z10 = b11 * v - a11 * u + z11
            z11 = b12 * v - a12 * u
            v = u
            u = b20 * v + z20
            z20 = b21 * v - a21 * u + z21
            z21 = b22 * v - a22 * u
            v = u
            u = b30 * v + z30
            z30 = b31 * v - a31 * u + z31
            z31 = b32 * v - a32 * u
            y[f, n] = u
    return y


@numba.njit(cache=True)
def _pairwise_block(a: NDArray[np.float64], lo: int, n: int) -> float:
    """numpy's sum of ``a[lo : lo + n]`` for ``n`` <= 128: a plain running sum below 8
    values, else eight running sums (strided by 8) combined as a tree, then the rest."""
    if n < 8:
        acc = 0.0
        for i in range(lo, lo + n):
            acc += a[i]
        return acc
    r0, r1, r2, r3 = a[lo], a[lo + 1], a[lo + 2], a[lo + 3]
    r4, r5, r6, r7 = a[lo + 4], a[lo + 5], a[lo + 6], a[lo + 7]
    i = lo + 8
    end8 = lo + n - n % 8
    while i < end8:
        r0 += a[i]
        r1 += a[i + 1]
        r2 += a[i + 2]
        r3 += a[i + 3]
        r4 += a[i + 4]
        r5 += a[i + 5]
        r6 += a[i + 6]
        r7 += a[i + 7]
        i += 8
    res: float = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < lo + n:
        res += a[i]
        i += 1
    return res


@numba.njit(cache=True)
def _pairwise_sum(a: NDArray[np.float64], lo: int, n: int) -> float:
    """``a[lo : lo + n].sum()`` as numpy computes it (pairwise summation: blocks of up to
    128 values, :func:`_pairwise_block`, and above that the sum of the two halves, the
    first a multiple of 8 long), so the same value to the last bit. Iterative (an
    explicit stack of halves): numba's cache does not take recursive functions."""
    if n <= 128:
        return _pairwise_block(a, lo, n)
    f_lo = np.empty(64, np.int64)
    f_n = np.empty(64, np.int64)
    f_left = np.empty(64)
    f_right = np.zeros(64, np.bool_)  # False: the frame's left half is being summed
    sp = 0
    f_lo[0], f_n[0] = lo, n
    while True:
        n2 = f_n[sp] // 2
        n2 -= n2 % 8
        if f_right[sp]:
            c_lo, c_n = f_lo[sp] + n2, f_n[sp] - n2
        else:
            c_lo, c_n = f_lo[sp], n2
        if c_n > 128:
            sp += 1
            f_lo[sp], f_n[sp], f_right[sp] = c_lo, c_n, False
            continue
        v = _pairwise_block(a, c_lo, c_n)
        while True:  # hand the half's sum up to its frame
            if not f_right[sp]:
                f_left[sp] = v
                f_right[sp] = True
                break
            v = float(f_left[sp] + v)
            if sp == 0:
                return v
            sp -= 1


@numba.njit(cache=True)
def _frame_power(x: NDArray[np.float64], frame: int) -> NDArray[np.float64]:
    """Mean square of each ``frame`` samples of ``x`` (contiguous; its size a multiple of
    ``frame``): ``np.mean(x.reshape(-1, frame) ** 2, axis=1)`` to the last bit."""
    sq = x * x
    out = np.empty(x.size // frame)
    for k in range(out.size):
        out[k] = _pairwise_sum(sq, k * frame, frame) / frame
    return out


@lru_cache(maxsize=1)
def _subband_sos() -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The ``_SUBBANDS_HZ`` band-passes' sections, shape (bands, sections, 6), and their
    zero initial states."""
    sos = np.stack(
        [butter(4, [lo, hi], btype="band", fs=TARGET_RATE, output="sos") for lo, hi in _SUBBANDS_HZ]
    )
    return sos, np.zeros((*sos.shape[:2], 2))


@numba.njit(cache=True)
def _subband_power(
    w: NDArray[np.float64], sos: NDArray[np.float64], zi: NDArray[np.float64]
) -> NDArray[np.float64]:
    """Power of ``w`` in each sub-band (``sos``: bands, sections, 6), per ``_SUB_FRAME``
    frame, smoothed over 3 frames as ``np.convolve(e, (0.25, 0.5, 0.25), "same")``
    computes it, plus 1e-20: shape (bands, ``_SUB_N``)."""
    bands = _sosfilt4(sos, w, zi) if sos.shape[1] == 4 else _sosfilt(sos, w, zi)
    out = np.empty((bands.shape[0], _SUB_N))
    for b in range(bands.shape[0]):
        e = _frame_power(bands[b], _SUB_FRAME)
        o = out[b]
        o[0] = e[0] * 0.5 + e[1] * 0.25
        for i in range(1, _SUB_N - 1):
            o[i] = e[i - 1] * 0.25 + e[i] * 0.5 + e[i + 1] * 0.25
        o[_SUB_N - 1] = e[_SUB_N - 2] * 0.25 + e[_SUB_N - 1] * 0.5
        for i in range(_SUB_N):
            o[i] += 1e-20
    return out


@numba.njit(cache=True)
def _subband_shape(db: NDArray[np.float64], e: NDArray[np.float64]) -> NDArray[np.float64]:
    """Per sub-band (rows of ``e``, the :func:`_subband_power`, and of ``db``, its dB):
    rise (frames from the onset to the peak), decays to -10 and -20 dB (interpolated
    frames after the peak), share of the energy after the onset in its first 10 frames
    (a ratio, not dB) and the onset jump (dB): shape (bands, 5)."""
    out = np.empty((db.shape[0], 5))
    n_post = _SUB_N - _SUB_ON
    for b in range(db.shape[0]):
        post = db[b, _SUB_ON:]
        ipk = np.argmax(post[:100])  # the band's peak within 100 ms of the onset
        out[b, 0] = ipk
        for c, level in ((1, -10.0), (2, -20.0)):
            # first crossing below ``level`` (dB re the peak), interpolated between frames
            d = float(n_post - ipk)
            for k in range(ipk + 1, n_post):
                if post[k] - post[ipk] < level:
                    r0 = post[k - 1] - post[ipk]
                    r1 = post[k] - post[ipk]
                    d = float(k - ipk - 1) + (r0 - level) / (r0 - r1 + _EPS)
                    break
            out[b, c] = d
        out[b, 3] = _pairwise_sum(e[b], _SUB_ON, 10) / _pairwise_sum(e[b], _SUB_ON, n_post)
        # frame t's jump is its level minus the mean of frames t-8..t-3, for t = on-3..on+10;
        # the sums are differences of the running sum, as np.cumsum makes it
        cum = np.empty(_SUB_N + 1)
        cum[0] = 0.0
        acc = db[b, 0]
        cum[1] = acc
        for i in range(1, _SUB_N):
            acc += db[b, i]
            cum[i + 1] = acc
        jump = -np.inf
        for t in range(_SUB_ON - 3, _SUB_ON + 11):
            jump = max(jump, db[b, t] - (cum[t - 2] - cum[t - 8]) / 6.0)
        out[b, 4] = min(max(jump, -10.0), 60.0)
    return out


def _subband_features(w: NDArray[np.float64]) -> list[float]:
    """Envelope shape in each of ``_SUBBANDS_HZ`` (see the module docstring)."""
    sos, zi = _subband_sos()
    e = _subband_power(np.ascontiguousarray(w), sos, zi)
    shape = _subband_shape(10.0 * np.log10(e), e)
    shape[:, 3] = 10.0 * np.log10(shape[:, 3] + _EPS)
    d10 = shape[:, 1]
    return [*shape.ravel().tolist(), float(d10[3] - d10[0]), float(d10[2] - d10[0])]


def _check(samples: NDArray[np.float64], sample_rate: int) -> NDArray[np.float64]:
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim != 1:
        raise InputError(f"samples must be 1-D, got shape {x.shape}")
    if x.size < 2:
        raise InputError(f"need at least 2 samples, got {x.size}")
    if int(sample_rate) != sample_rate or sample_rate < 1000 or sample_rate > 384_000:
        raise InputError(f"sample rate out of range 1000..384000 Hz: {sample_rate!r}")
    if not np.all(np.isfinite(x)):
        raise InputError("samples contain NaN or infinity")
    return x


def resample_to_target(samples: NDArray[np.float64], sample_rate: int) -> NDArray[np.float64]:
    """Resample a whole signal to ``TARGET_RATE`` (polyphase, same filter as the windows)."""
    x = _check(samples, sample_rate)
    ratio = Fraction(TARGET_RATE, int(sample_rate))
    if ratio == 1:
        return x.copy()
    up, down = ratio.numerator, ratio.denominator
    y: NDArray[np.float64] = resample_poly(x, up, down, window=_lowpass(up, down))
    return y


@dataclass(frozen=True)
class _Resampler:
    """How :func:`window_at_target` cuts and resamples a window at one input rate: the
    input span ``pre`` before to ``post`` after the onset, and ``resample_poly``'s
    polyphase filter (``taps``, flipped per phase as ``upfirdn`` stores it,
    ``per_phase`` taps each) with the index ``first`` of the resampled span's output
    sample that becomes the window's first sample."""

    up: int
    down: int
    pre: int
    post: int
    taps: NDArray[np.float64]
    per_phase: int
    first: int
    n_out: int


@lru_cache(maxsize=32)
def _resampler(sample_rate: int) -> _Resampler:
    """The :class:`_Resampler` of an input rate (cached: the same for every window)."""
    ratio = Fraction(TARGET_RATE, int(sample_rate))
    up, down = ratio.numerator, ratio.denominator
    # Input-rate span of the window, plus a margin covering the FIR's half length.
    margin = 10 * max(up, down) // up + 4
    pre = int(np.ceil(PRE_S * sample_rate)) + margin
    post = int(np.ceil(POST_S * sample_rate)) + margin
    centre = round(pre * up / down)
    if ratio == 1:
        return _Resampler(1, 1, pre, post, np.ones(1), 1, centre - N_PRE, pre + post)
    # resample_poly's filter, zero padding and output span for pre + post input samples
    n_in = pre + post
    n_out = -(-n_in * up // down)
    h = _lowpass(up, down).copy()
    h *= up
    half_len = (h.size - 1) // 2
    n_pre_pad = down - half_len % down
    n_post_pad = 0
    n_pre_remove = (half_len + n_pre_pad) // down
    while ((n_in - 1) * up + h.size + n_pre_pad + n_post_pad - 1) // down + 1 < (
        n_out + n_pre_remove
    ):
        n_post_pad += 1
    h = np.concatenate((np.zeros(n_pre_pad), h, np.zeros(n_post_pad)))
    h = np.concatenate((h, np.zeros(-h.size % up)))
    taps = np.ascontiguousarray(h.reshape(-1, up).T[:, ::-1].ravel())
    first = n_pre_remove + centre - N_PRE
    return _Resampler(up, down, pre, post, taps, taps.size // up, first, n_out + n_pre_remove)


@numba.njit(cache=True)
def _polyphase(
    x: NDArray[np.float64],
    taps: NDArray[np.float64],
    per_phase: int,
    up: int,
    down: int,
    first: int,
    stop: int,
    out: NDArray[np.float64],
) -> None:
    """Output samples ``first``.. (``out.size`` of them, zeros from ``stop`` on) of
    ``scipy.signal.upfirdn(h, x, up, down)`` whose ``h`` is stored as ``taps``: the
    same products summed in the same order, so the same values to the last bit. Four
    outputs whose taps all fall inside ``x`` are summed side by side (independent
    running sums the processor overlaps; slices, not offset indices, let the compiler
    drop the negative-index checks): about 3 times faster than one at a time."""
    i = 0
    while i < out.size:
        j = first + i
        t0 = j * down
        t3 = t0 + 3 * down
        if (
            i + 4 <= out.size
            and j >= 0
            and j + 3 < stop
            and t0 // up - per_phase + 1 >= 0
            and t3 // up < x.size
        ):
            t1 = t0 + down
            t2 = t1 + down
            x0 = x[t0 // up - per_phase + 1 :]
            x1 = x[t1 // up - per_phase + 1 :]
            x2 = x[t2 // up - per_phase + 1 :]
            x3 = x[t3 // up - per_phase + 1 :]
            g0 = taps[(t0 % up) * per_phase :]
            g1 = taps[(t1 % up) * per_phase :]
            g2 = taps[(t2 % up) * per_phase :]
            g3 = taps[(t3 % up) * per_phase :]
            a0 = 0.0
            a1 = 0.0
            a2 = 0.0
            a3 = 0.0
            for k in range(per_phase):
                a0 = a0 + x0[k] * g0[k]
                a1 = a1 + x1[k] * g1[k]
                a2 = a2 + x2[k] * g2[k]
                a3 = a3 + x3[k] * g3[k]
            out[i] = a0
            out[i + 1] = a1
            out[i + 2] = a2
            out[i + 3] = a3
            i += 4
            continue
        if j < 0 or j >= stop:
            out[i] = 0.0
            i += 1
            continue
        x_idx = t0 // up
        c_lo = x_idx - per_phase + 1
        h_idx = (t0 - x_idx * up) * per_phase
        if c_lo < 0:
            h_idx -= c_lo
            c_lo = 0
        acc = 0.0
        for c in range(c_lo, min(x_idx, x.size - 1) + 1):
            acc = acc + x[c] * taps[h_idx]
            h_idx += 1
        out[i] = acc
        i += 1


def window_at_target(
    samples: NDArray[np.float64], sample_rate: int, onset: int
) -> NDArray[np.float64]:
    """The ``WINDOW_LEN`` samples at ``TARGET_RATE`` from ``PRE_S`` before ``onset`` to
    ``POST_S`` after it (zeros outside the recording).

    The window is what ``scipy.signal.resample_poly`` (with the :func:`_lowpass` filter)
    makes of the input from ``pre`` before to ``post`` after the onset, computed only
    for the samples kept.

    :param samples: mono signal, any unit (full scale 1.0 for audio files)
    :param sample_rate: Hz
    :param onset: sample index of the pulse onset in ``samples`` (may be near either end)
    """
    return _window(_check(samples, sample_rate), int(sample_rate), int(onset))


def _window(x: NDArray[np.float64], sample_rate: int, onset: int) -> NDArray[np.float64]:
    """:func:`window_at_target` of a signal already through :func:`_check`."""
    if not 0 <= onset < x.size:
        raise InputError(f"onset {onset} outside the signal (0..{x.size - 1})")
    r = _resampler(sample_rate)
    lo, hi = onset - r.pre, onset + r.post
    seg = np.zeros(hi - lo, dtype=np.float64)
    a, b = max(lo, 0), min(hi, x.size)
    seg[a - lo : b - lo] = x[a:b]
    out = np.empty(WINDOW_LEN, dtype=np.float64)
    if r.up == r.down:
        out[:] = 0.0
        part = seg[max(r.first, 0) : r.first + WINDOW_LEN]
        out[max(-r.first, 0) : max(-r.first, 0) + part.size] = part
    else:
        _polyphase(seg, r.taps, r.per_phase, r.up, r.down, r.first, r.n_out, out)
    return out


@lru_cache(maxsize=1)
def _mel_filterbank() -> NDArray[np.float64]:
    """Triangular mel filters (HTK mel scale, 2595 log10(1 + f/700)), shape (N_MELS, bins)."""
    freqs = np.fft.rfftfreq(MEL_NFFT, 1.0 / TARGET_RATE)

    def mel(f: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.asarray(2595.0 * np.log10(1.0 + f / 700.0), dtype=np.float64)

    m = np.linspace(mel(np.array(_MEL_FMIN)), mel(np.array(_MEL_FMAX)), N_MELS + 2)
    hz = 700.0 * (10.0 ** (m / 2595.0) - 1.0)
    fb = np.zeros((N_MELS, freqs.size))
    for i in range(N_MELS):
        left, c, r = hz[i], hz[i + 1], hz[i + 2]
        up = (freqs - left) / max(c - left, _EPS)
        down = (r - freqs) / max(r - c, _EPS)
        fb[i] = np.clip(np.minimum(up, down), 0.0, None)
        if fb[i].sum() == 0:  # narrower than a bin: take the nearest bin
            fb[i, int(np.argmin(np.abs(freqs - c)))] = 1.0
    return fb


@lru_cache(maxsize=1)
def _mel_centres() -> NDArray[np.float64]:
    """Centre of gravity (Hz) of each mel filter."""
    fb = _mel_filterbank()
    c: NDArray[np.float64] = (fb * np.fft.rfftfreq(MEL_NFFT, 1.0 / TARGET_RATE)[None, :]).sum(
        axis=1
    ) / (fb.sum(axis=1) + _EPS)
    return c


@lru_cache(maxsize=1)
def _mel_frame_index() -> NDArray[np.int64]:
    """Sample indices of the log-mel frames, shape (``MEL_FRAMES``, ``MEL_NFFT``)."""
    idx: NDArray[np.int64] = np.arange(MEL_NFFT)[None, :] + MEL_HOP * np.arange(MEL_FRAMES)[:, None]
    return idx


def log_mel_patch(window: NDArray[np.float64]) -> NDArray[np.float32]:
    """Log-mel spectrogram of a ``WINDOW_LEN`` window at ``TARGET_RATE``.

    :returns: shape ``(N_MELS, MEL_FRAMES)`` = (32, 30), dB re the patch maximum, floored
        at -100 dB. Frames are 256 samples (21 ms, Hann) every 10 ms; frame 2 starts at the
        onset.
    """
    w = np.asarray(window, dtype=np.float64)
    if w.shape != (WINDOW_LEN,):
        raise InputError(f"window must have {WINDOW_LEN} samples, got shape {w.shape}")
    frames = w[_mel_frame_index()] * _hann(MEL_NFFT)[None, :]
    power = np.abs(np.fft.rfft(frames, axis=1)) ** 2  # (frames, bins)
    mel = _mel_filterbank() @ power.T  # (mels, frames)
    db = 10.0 * np.log10(mel + _EPS)
    db = np.maximum(db - db.max(), _DB_FLOOR)
    out: NDArray[np.float32] = db.astype(np.float32)
    return out


def _slope(x: NDArray[np.floating[Any]], y: NDArray[np.floating[Any]]) -> float:
    """Least-squares slope of y on x (closed form; polyfit is slow for tiny inputs)."""
    xc = x - x.mean()
    den = float(np.dot(xc, xc))
    return float(np.dot(xc, y - y.mean())) / den if den > 0 else 0.0


@lru_cache(maxsize=8)
def _hann(n: int) -> NDArray[np.float64]:
    h: NDArray[np.float64] = np.hanning(n)
    return h


@lru_cache(maxsize=1)
def _fft_bands() -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64]]:
    """Bin frequencies of the ``_NFFT``-point spectrum, the band edges as bins (band i is
    the run of bins ``edges[i]`` to ``edges[i + 1]``) and the bins' frequencies centred
    (kHz) for the spectral slope."""
    f: NDArray[np.float64] = np.fft.rfftfreq(_NFFT, 1.0 / TARGET_RATE).astype(np.float64)
    edges = [0]
    for lo, hi in itertools.pairwise(_BAND_EDGES_HZ):
        idx = np.flatnonzero((f >= lo) & (f < hi) if hi < _BAND_EDGES_HZ[-1] else (f >= lo))
        if not idx.size or idx[0] != edges[-1] or idx[-1] - idx[0] + 1 != idx.size:
            raise AssertionError("spectral bands must be adjacent runs of bins")
        edges.append(int(idx[-1]) + 1)
    khz = f / 1000.0
    return f, np.array(edges, dtype=np.int64), khz - khz.mean()


def _power(seg: NDArray[np.float64]) -> NDArray[np.float64]:
    """|FFT|^2 of a Hann-windowed segment, ``_NFFT`` points (zero-padded)."""
    p: NDArray[np.float64] = np.abs(np.fft.rfft(seg * _hann(seg.size), _NFFT)) ** 2
    return p


_SEGMENTS = ((N_PRE - 24, _HEAD), (N_PRE + _HEAD, WINDOW_LEN - N_PRE - _HEAD), (0, N_PRE))
"""(first sample, length) of the head (from 2 ms before the onset), the tail and the
pre-onset segments whose spectra are compared."""


def _segment_powers(w: NDArray[np.float64]) -> NDArray[np.float64]:
    """The :func:`_power` of each of ``_SEGMENTS`` of the window, one row each, in one
    FFT call (the same transform of the same zero-padded or cut rows)."""
    buf = np.zeros((len(_SEGMENTS), _NFFT))
    for r, (a, n) in enumerate(_SEGMENTS):
        m = min(n, _NFFT)  # a longer segment is cut to its first _NFFT samples
        buf[r, :m] = w[a : a + m] * _hann(n)[:m]
    p: NDArray[np.float64] = np.abs(np.fft.rfft(buf, axis=1)) ** 2
    return p


@numba.njit(cache=True)
def _band_sums(spec: NDArray[np.float64], edges: NDArray[np.int64]) -> NDArray[np.float64]:
    """Sum (numpy's, to the bit) of each row of ``spec`` (spectra, bins) over the bins
    ``edges[i]`` to ``edges[i + 1]`` of each band: shape (spectra, bands)."""
    out = np.empty((spec.shape[0], edges.size - 1))
    for r in range(spec.shape[0]):
        for i in range(edges.size - 1):
            out[r, i] = _pairwise_sum(spec[r], edges[i], edges[i + 1] - edges[i])
    return out


@numba.njit(cache=True)
def _spectral_sums(
    spec: NDArray[np.float64],
    lg: NDArray[np.float64],
    ldb: NDArray[np.float64],
    f: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Per row of ``spec`` (spectra, bins of frequencies ``f``; ``lg`` its natural log,
    ``ldb`` its dB), as numpy computes them: total, centroid, bandwidth, the 85 % and 95 %
    roll-off bins, the means of ``lg``, ``spec`` and ``ldb``: shape (spectra, 8)."""
    n = spec.shape[1]
    out = np.empty((spec.shape[0], 8))
    for r in range(spec.shape[0]):
        s = spec[r]
        total = _pairwise_sum(s, 0, n)
        p = s / total
        centroid = _pairwise_sum(f * p, 0, n)
        d = f - centroid
        bandwidth = np.sqrt(_pairwise_sum(d * d * p, 0, n))
        # the first bin whose cumulative share reaches 85 % / 95 % (np.searchsorted's)
        n85 = 0
        n95 = 0
        cum = 0.0
        for i in range(n):
            cum = p[i] if i == 0 else cum + p[i]
            n85 += cum < 0.85
            n95 += cum < 0.95
        out[r, 0] = total
        out[r, 1] = centroid
        out[r, 2] = bandwidth
        out[r, 3] = min(n85, n - 1)
        out[r, 4] = min(n95, n - 1)
        out[r, 5] = _pairwise_sum(lg[r], 0, n) / n
        out[r, 6] = total / n
        out[r, 7] = _pairwise_sum(ldb[r], 0, n) / n
    return out


def _spectral(power: NDArray[np.float64]) -> NDArray[np.float64]:
    """Spectral shape descriptors + band energies of segments, one row each, from their
    :func:`_power` rows (segments, bins) -> (segments, 6 + bands)."""
    spec = power + _EPS
    f, edges, fc = _fft_bands()
    ldb = 10.0 * np.log10(spec)
    st = _spectral_sums(spec, np.log(spec), ldb, f)
    total = st[:, 0]
    roll85 = f[st[:, 3].astype(np.int64)]
    roll95 = f[st[:, 4].astype(np.int64)]
    flatness = np.exp(st[:, 5]) / st[:, 6]
    # least-squares slope of ldb on the frequency (dB per kHz), as _slope computes it
    den = float(np.dot(fc, fc))
    yc = ldb - st[:, 7:8]
    slope = np.array([float(np.dot(fc, y)) / den for y in yc])
    bands = 10.0 * np.log10(_band_sums(spec, edges) / total[:, None] + _EPS)
    cols = np.stack([st[:, 1], st[:, 2], roll85, roll95, flatness, slope], axis=1)
    return np.concatenate([cols, bands], axis=1)


def _band_abs(power: NDArray[np.float64], n: NDArray[np.float64]) -> NDArray[np.float64]:
    """Mean power per bin in each band, dB, from the :func:`_power` rows of segments of
    ``n`` samples each (segments, bins) -> (segments, bands): comparable across segments
    of different lengths."""
    spec = power / n[:, None] + _EPS
    _, edges, _ = _fft_bands()
    out: NDArray[np.float64] = 10.0 * np.log10(_band_sums(spec, edges) / np.diff(edges))
    return out


@numba.njit(cache=True)
def _envelope_stats(env: NDArray[np.float64], ms: NDArray[np.float64]) -> NDArray[np.float64]:
    """From the 2 ms envelope (``env`` in dB re its peak, ``ms`` the mean squares), as
    numpy computes them: the peak frame (from the onset frame on), the frames from it
    to the first below -10, -20 and -30 dB (those left if none), the frames above
    -20 dB after the onset, the mean level before the onset, the shares of the energy
    after the onset in 0-10 ms, 0-50 ms and 50-300 ms (ratios + ``_EPS``, not dB) and
    the secondary peaks (local maxima above -12 dB more than 20 ms after the peak)."""
    out = np.empty(10)
    ipk = _ONSET_FRAME + np.argmax(env[_ONSET_FRAME:])
    out[0] = ipk
    for c, level in ((1, -10.0), (2, -20.0), (3, -30.0)):
        d = _N_FRAMES - ipk
        for k in range(ipk, _N_FRAMES):
            if env[k] < level:
                d = k - ipk
                break
        out[c] = d
    out[4] = np.count_nonzero(env[_ONSET_FRAME:] > -20.0)
    out[5] = _pairwise_sum(env, 0, _ONSET_FRAME - 1) / (_ONSET_FRAME - 1)
    e_tot = _pairwise_sum(ms, _ONSET_FRAME, _N_FRAMES - _ONSET_FRAME) + _EPS
    f10 = _ONSET_FRAME + 5
    f50 = _ONSET_FRAME + 25
    out[6] = _pairwise_sum(ms, _ONSET_FRAME, f10 - _ONSET_FRAME) / e_tot + _EPS
    out[7] = _pairwise_sum(ms, _ONSET_FRAME, f50 - _ONSET_FRAME) / e_tot + _EPS
    out[8] = _pairwise_sum(ms, f50, _N_FRAMES - f50) / e_tot + _EPS
    n_sec = 0
    for i in range(ipk + 11, _N_FRAMES - 1):
        if env[i] > env[i - 1] and env[i] >= env[i + 1] and env[i] > -12.0:
            n_sec += 1
    out[9] = n_sec
    return out


@numba.njit(cache=True)
def _rise_samples(w: NDArray[np.float64]) -> int:
    """Samples from the last 10 % crossing to the first 90 % one of the 0.5 ms-smoothed
    magnitude (``np.convolve(np.abs(w), np.ones(6) / 6, "same")``, whose interior it
    reproduces to the bit), from 2 ms before the onset to 100 ms after it."""
    lo = max(N_PRE - 24, 0)
    hi = min(N_PRE + int(0.1 * TARGET_RATE), WINDOW_LEN)
    v = 1.0 / 6.0
    mag = np.empty(hi - lo)
    for i in range(lo, hi):  # 3 <= i <= WINDOW_LEN - 3: all six taps inside
        acc = 0.0
        for k in range(6):
            acc += abs(w[i + k - 3]) * v
        mag[i - lo] = acc
    mpk = np.max(mag) + _EPS
    i90 = 0
    for i in range(mag.size):
        if mag[i] >= 0.9 * mpk:
            i90 = i
            break
    i10 = 0
    for i in range(i90, -1, -1):
        if mag[i] < 0.1 * mpk:
            i10 = i
            break
    return i90 - i10


@numba.njit(cache=True)
def _waveform_stats(post: NDArray[np.float64]) -> NDArray[np.float64]:
    """Of the post-onset samples, as numpy computes them: peak / RMS + ``_EPS`` (whole
    and first ``_HEAD`` samples), the variance + ``_EPS``, and the sign changes in the
    first 50 ms and after."""
    n = post.size
    sq = post * post
    rms = np.sqrt(_pairwise_sum(sq, 0, n) / n) + _EPS
    out = np.empty(5)
    out[0] = np.max(np.abs(post)) / rms + _EPS
    head = post[:_HEAD]
    out[1] = np.max(np.abs(head)) / (np.sqrt(_pairwise_sum(sq, 0, _HEAD) / _HEAD) + _EPS) + _EPS
    d = post - _pairwise_sum(post, 0, n) / n
    out[2] = _pairwise_sum(d * d, 0, n) / n + _EPS
    n50 = round(0.05 * TARGET_RATE)
    flips_head = 0
    flips_tail = 0
    for i in range(1, n):
        if (math.copysign(1.0, post[i]) < 0) != (math.copysign(1.0, post[i - 1]) < 0):
            if i < n50:
                flips_head += 1
            elif i > n50:
                flips_tail += 1
    out[3] = flips_head
    out[4] = flips_tail
    return out


@numba.njit(cache=True)
def _pool_patch(patch: NDArray[np.float64]) -> NDArray[np.float64]:
    """The log-mel patch's max over each pair of bands, averaged over each of
    ``_POOL_BLOCKS`` (numpy's sums): shape (blocks, ``_POOL_BANDS``)."""
    pooled = np.empty((_POOL_BANDS, MEL_FRAMES))
    per = N_MELS // _POOL_BANDS
    for b in range(_POOL_BANDS):
        for t in range(MEL_FRAMES):
            m = patch[b * per, t]
            for r in range(1, per):
                m = max(m, patch[b * per + r, t])
            pooled[b, t] = m
    out = np.empty((len(_POOL_BLOCKS), _POOL_BANDS))
    for k in range(len(_POOL_BLOCKS)):
        a, z = _POOL_BLOCKS[k]
        for b in range(_POOL_BANDS):
            out[k, b] = _pairwise_sum(pooled[b], a, z - a) / (z - a)
    return out


_SEG_LENS = np.array([n for _, n in _SEGMENTS], dtype=np.float64)
"""Samples in the head, tail and pre-onset segments whose spectra are compared."""


@numba.njit(cache=True)
def _prepare(
    window: NDArray[np.float64], sos: NDArray[np.float64], zi: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The window less its mean, through the high-pass (``sos``, unit-step state ``zi``:
    :func:`highpass`), scaled to unit peak; empty if silent before or after the
    high-pass. The same operations as numpy's ``w - np.mean(w)``, ``highpass(w)`` and
    ``w / np.max(np.abs(w))``, so the same values to the last bit."""
    n = window.size
    w = window - _pairwise_sum(window, 0, n) / n
    if np.max(np.abs(w)) <= 0.0:
        return np.empty(0)
    y = _sosfilt(sos, w, zi * w[0])[0]
    peak = np.max(np.abs(y))
    if peak <= 0.0:
        return np.empty(0)
    out: NDArray[np.float64] = y / peak
    return out


def features_from_window(window: NDArray[np.float64]) -> NDArray[np.float32]:
    """Feature vector (``FEATURE_NAMES``) of a ``WINDOW_LEN`` window at ``TARGET_RATE``
    whose onset is at index ``N_PRE``. See the module docstring."""
    w = np.asarray(window, dtype=np.float64)
    if w.shape != (WINDOW_LEN,):
        raise InputError(f"window must have {WINDOW_LEN} samples, got shape {w.shape}")
    sos, zi = _highpass_sos()
    w = _prepare(np.ascontiguousarray(w), sos[None], zi[None])
    if w.size == 0:
        raise InputError("window is silent")
    post = w[N_PRE:]
    ms_per_frame = 1000.0 * _FRAME / TARGET_RATE

    # -- envelope ------------------------------------------------------------------
    ms = _frame_power(w, _FRAME)
    env = np.maximum(10.0 * np.log10(ms + _EPS) - 10.0 * np.log10(float(ms.max()) + _EPS), -100)
    st = _envelope_stats(env, ms)
    ipk = int(st[0])
    peak_delay = (ipk - _ONSET_FRAME) * ms_per_frame
    decay10, decay20, decay30 = (float(d) * ms_per_frame for d in st[1:4])
    above20 = float(st[4]) * ms_per_frame
    fit_end = min(ipk + 50, _N_FRAMES)  # 100 ms after the peak
    if fit_end - ipk >= 3:
        tt = np.arange(fit_end - ipk) * ms_per_frame / 1000.0
        decay_slope = _slope(tt, env[ipk:fit_end])
    else:
        decay_slope = 0.0
    pre_level = float(st[5])
    # rise time on the 0.5 ms-smoothed magnitude, from the last 10 % crossing to 90 %
    rise = _rise_samples(w) * 1000.0 / TARGET_RATE
    # energy fractions in 0-10 ms, 0-50 ms and 50-300 ms
    efrac_10, efrac_50, efrac_tail = (10.0 * np.log10(st[6:9])).tolist()
    # secondary peaks: local maxima above -12 dB, more than 20 ms after the main peak
    n_sec = float(st[9])
    # periodicity: max normalised autocorrelation of the post-onset envelope, lags 20-150 ms
    ep = env[_ONSET_FRAME:] - float(np.mean(env[_ONSET_FRAME:]))
    den = float(np.dot(ep, ep))
    if den > _EPS:
        ac = np.correlate(ep, ep, mode="full")[ep.size - 1 :] / den
        periodicity = float(np.max(ac[10:75]))
    else:
        periodicity = 0.0

    # -- waveform ------------------------------------------------------------------
    wf = _waveform_stats(post)
    crest, crest_head = (20.0 * np.log10(wf[:2])).tolist()
    var = float(wf[2])
    # |x| ** 4, not x ** 4: numpy's power is 20 times slower for a negative base (and
    # rounds a few of those results differently, by an ulp)
    kurt = float(np.mean(np.abs(post - post.mean()) ** 4)) / var**2 - 3.0
    log_kurt = float(np.sign(kurt) * np.log1p(abs(kurt)))
    n50 = round(0.05 * TARGET_RATE)
    zcr_head = float(wf[3]) * TARGET_RATE / (n50 - 1)
    zcr_tail = float(wf[4]) * TARGET_RATE / (post.size - n50 - 1)

    # -- spectra -------------------------------------------------------------------
    pw = _segment_powers(w)  # head (from 2 ms before the onset), tail, pre-onset
    spec_head, spec_tail = _spectral(pw[:2])

    # channel-independent contrasts (the microphone's response cancels): band levels of
    # the head re the 20 ms before the onset (clamped to -20..60 dB), and re the tail
    head_abs, tail_abs, pre_abs = _band_abs(pw, _SEG_LENS)
    onset_gain = np.clip(head_abs - pre_abs, -20.0, 60.0)
    head_tail = np.clip(head_abs - tail_abs, -40.0, 60.0)

    # -- log-mel -------------------------------------------------------------------
    patch = log_mel_patch(w).astype(np.float64)
    centres = _mel_centres()
    lin = 10.0 ** (patch / 10.0)
    cen_t = (centres[:, None] * lin).sum(axis=0) / (lin.sum(axis=0) + _EPS)  # per frame
    loud = patch.max(axis=0) > -40.0
    cen_std = float(np.std(cen_t[loud])) if np.count_nonzero(loud) > 1 else 0.0
    cen_drift = float(cen_t[loud][-1] - cen_t[loud][0]) if np.count_nonzero(loud) > 1 else 0.0
    pooled = _pool_patch(patch).ravel()

    vec = np.concatenate(
        [
            np.array(
                [
                    rise,
                    peak_delay,
                    decay10,
                    decay20,
                    decay30,
                    above20,
                    decay_slope,
                    pre_level,
                    efrac_10,
                    efrac_50,
                    efrac_tail,
                    n_sec,
                    periodicity,
                    crest,
                    crest_head,
                    log_kurt,
                    zcr_head,
                    zcr_tail,
                ]
            ),
            spec_head,
            spec_tail,
            np.array([cen_std, cen_drift]),
            onset_gain,
            head_tail,
            pooled,
            np.array(_subband_features(w)),
        ]
    ).astype(np.float32)
    bad = ~np.isfinite(vec)
    if bad.any():  # as np.nan_to_num(vec, nan=0.0, posinf=0.0, neginf=0.0), 5x faster
        vec[bad] = 0.0
    return vec


def extract_features(
    samples: NDArray[np.float64], sample_rate: int, onset: int
) -> NDArray[np.float32]:
    """Fixed-length feature vector (``FEATURE_NAMES``, float32) of the window around
    sample index ``onset`` (``PRE_S`` before to ``POST_S`` after, resampled to 12 kHz).

    :param samples: mono signal, full scale 1.0, any sample rate
    :param sample_rate: Hz (1000..384000)
    :param onset: sample index of the pulse onset
    :raises InputError: not 1-D, non-finite samples, onset outside, silent window
    """
    return features_from_window(window_at_target(samples, sample_rate, onset))


def extract_features_many(
    samples: NDArray[np.float64], sample_rate: int, onsets: NDArray[np.int64]
) -> NDArray[np.float32]:
    """:func:`extract_features` of several onsets of one signal, shape (len(onsets),
    ``N_FEATURES``); the signal is checked once, not once per onset.

    :raises InputError: as :func:`extract_features`, for the signal or any onset
    """
    x = _check(samples, sample_rate)
    on = np.asarray(onsets, dtype=np.int64).reshape(-1)
    out = np.empty((on.size, N_FEATURES), dtype=np.float32)
    for i, o in enumerate(on.tolist()):
        out[i] = features_from_window(_window(x, int(sample_rate), o))
    return out
