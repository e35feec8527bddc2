"""The sensor edge agent: audio blocks in, pulse reports out.

:class:`SensorAgent` takes audio in blocks of any size (a file read in chunks, a stream,
a sound card), runs the onset picker of :mod:`shotwatch.core.picking` over a sliding
buffer, scores each pick with the gunshot classifier when one is available, cuts a short
clip around it and hands a :class:`~shotwatch.models.Pulse` to its transport.

Streaming without double or missed picks: the agent keeps a sliding buffer of the recent
audio and a *decision horizon* ``F`` (absolute sample index). Every ``hop_s`` of new
audio it re-runs the picker over the audio from ``lookbehind`` seconds before ``F`` (so
the picker's 0.5 s long-term average and the clip's pre-roll exist) to the newest
sample, and decides the picks with onsets in ``[F - guard, end - decide_lag)``, where
``decide_lag`` (0.2 s) covers the picker's peak and SNR windows and the edge of its
zero-phase filter. A pick already taken within ``guard`` of it (the same impulse picked
again from a slightly different buffer) is skipped, and ``F`` moves to
``end - decide_lag``. An impulse spanning two blocks is therefore picked once, whatever
the block size. A decided pick waits until its clip tail (and the classifier's 0.3 s
window) has arrived and then leaves as a pulse, so a pulse lags its onset by
``max(clip_after_s, 0.35 s, decide_lag + hop_s)`` plus at most one block (about 1 s with
the default 0.9 s tail), while the picker only ever re-reads about
``lookbehind + hop_s + decide_lag`` (1.4 s) of audio.

Times: ``start_utc`` is the GPS time of the first sample; sample ``k`` is at
``start_utc + k / sample_rate``. A block may carry its own start time (``t_start``);
if it disagrees with the running clock by more than one sample the agent treats it as a
gap: it finishes the old stream and starts a new one at ``t_start``.
"""

from __future__ import annotations

import logging
import math
import re
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
from numpy.typing import NDArray

from shotwatch.errors import ConfigError, InputError
from shotwatch.models import Pulse
from shotwatch.sensor.clip import ClipFormat, encode_clip
from shotwatch.timeutil import parse_utc

if TYPE_CHECKING:
    from shotwatch.sensor.transport import Transport

logger = logging.getLogger("shotwatch.sensor")

SENSOR_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MIN_RATE, MAX_RATE = 8000, 48000


class PicksLike(Protocol):
    """What a picker returns (``shotwatch.core.picking.Picks``): arrays of equal length.

    ``onset``: sub-sample onset index; ``sigma``: 1-sigma onset uncertainty, s;
    ``snr_db``: dB; ``peak_dbfs``: dB re full scale.
    """

    @property
    def onset(self) -> NDArray[np.float64]: ...
    @property
    def sigma(self) -> NDArray[np.float64]: ...
    @property
    def snr_db(self) -> NDArray[np.float64]: ...
    @property
    def peak_dbfs(self) -> NDArray[np.float64]: ...


Picker = Callable[[NDArray[np.float64], int], PicksLike]


@dataclass(frozen=True)
class _Pick:
    """A decided pick waiting for its clip tail. ``onset``: absolute sample index."""

    onset: float
    sigma: float
    snr_db: float
    peak_dbfs: float
    rise_s: float | None


class Scorer(Protocol):
    """A gunshot classifier (``shotwatch.core.classify.GunshotClassifier``)."""

    def score(self, samples: NDArray[np.float64], sample_rate: int, onset: int) -> float: ...


def default_picker() -> Picker:
    """The project's onset picker, :func:`shotwatch.core.picking.pick_onsets`."""
    try:
        from shotwatch.core.picking import pick_onsets
    except ImportError as e:
        raise ConfigError(f"the onset picker is not available: {e}") from None
    return pick_onsets


def default_classifier() -> Scorer | None:
    """The shipped gunshot classifier, or None (and a warning) if it cannot be loaded."""
    try:
        from shotwatch.core.classify import GunshotClassifier

        return GunshotClassifier.load_default()
    # Any failure to load the model (missing package data, an incompatible model file)
    # must not stop a sensor from reporting pulses: it reports them unscored.
    except Exception as e:
        logger.warning("no gunshot classifier (%s); gunshot_score left empty", e)
        return None


_WARMED: list[bool] = []  # one entry once this process has warmed the kernels up


def warm_up_classifier(scorer: Scorer, sample_rate: int) -> None:
    """Score one synthetic impulse (a decaying blast in faint noise), so that the shipped
    classifier's compiled feature kernels are loaded from numba's cache, or compiled
    (about 10 s, the first run after an install), before a real pulse waits on them:
    the sensor's first report would otherwise leave that much late. Once per process
    (the kernels' types do not depend on the sample rate): a replay builds an agent per
    sensor."""
    if _WARMED:
        return
    _WARMED.append(True)
    n = sample_rate
    x = np.random.default_rng(0).normal(0.0, 1e-3, n)
    onset = n // 4
    tail = np.arange(n - onset) / sample_rate
    x[onset:] += 0.5 * np.exp(-tail / 0.01) * np.cos(2.0 * np.pi * 500.0 * tail)
    scorer.score(x, sample_rate, onset)


def validate_sensor_id(sensor_id: str) -> str:
    """Sensor ids are 1-64 letters, digits, ``-`` or ``_`` (they become bus subjects)."""
    if not isinstance(sensor_id, str) or not SENSOR_ID_RE.match(sensor_id):
        raise InputError(f"sensor id must be 1-64 letters, digits, '-' or '_', got {sensor_id!r}")
    return sensor_id


class SensorAgent:
    """Streaming onset picking, scoring and clipping for one sensor.

    :param sensor_id: the sensor's id (``S017``).
    :param transport: where pulses go (:mod:`shotwatch.sensor.transport`); None to only
        return them from :meth:`process`.
    :param sample_rate: Hz, 8000-48000.
    :param start_utc: GPS time of the first sample, epoch seconds or ISO-8601 ``...Z``.
    :param picker: ``picker(samples, sample_rate) -> Picks``; default
        :func:`shotwatch.core.picking.pick_onsets`.
    :param classifier: ``"auto"`` (the shipped model if it loads), an object with
        ``score(samples, sample_rate, onset_index)``, or None (no score).
    :param clip_before_s: clip pre-roll, s. :param clip_after_s: clip length after the
        onset, s. :param clip_format: ``"flac"`` or ``"wav"``; None for no clip.
    :param hop_s: how much new audio triggers a picker run, s.
    """

    GUARD_S = 0.015
    SILENCE_S = 0.002
    DROPOUT_S = 0.25
    PICKER_TAIL_S = 0.06
    DECIDE_LAG_S = 0.2
    CLASSIFIER_TAIL_S = 0.35
    LTA_S = 0.5

    def __init__(
        self,
        sensor_id: str,
        transport: Transport | None = None,
        *,
        sample_rate: int,
        start_utc: float | str,
        picker: Picker | None = None,
        classifier: Scorer | Literal["auto"] | None = "auto",
        clip_before_s: float = 0.1,
        clip_after_s: float = 0.9,
        clip_format: ClipFormat | None = "flac",
        hop_s: float = 0.25,
    ) -> None:
        self.sensor_id = validate_sensor_id(sensor_id)
        self.transport = transport
        if isinstance(sample_rate, bool) or not isinstance(sample_rate, int | np.integer):
            raise InputError(f"sample rate must be an integer, got {sample_rate!r}")
        if not MIN_RATE <= int(sample_rate) <= MAX_RATE:
            raise InputError(
                f"sample rate {sample_rate} Hz not supported (need {MIN_RATE}-{MAX_RATE} Hz)"
            )
        self.sample_rate = int(sample_rate)
        if not 0.0 <= clip_before_s <= 1.0 or not 0.0 < clip_after_s <= 5.0:
            raise InputError("clip must be 0-1 s before and 0-5 s after the onset")
        if not 0.01 <= hop_s <= 5.0:
            raise InputError(f"hop must be 0.01-5 s, got {hop_s}")
        self.picker: Picker = picker if picker is not None else default_picker()
        self.classifier: Scorer | None = (
            default_classifier() if classifier == "auto" else classifier
        )
        if classifier == "auto" and self.classifier is not None:
            warm_up_classifier(self.classifier, self.sample_rate)
        self.clip_format = clip_format
        sr = self.sample_rate
        self._before_n = round(clip_before_s * sr)
        self._after_n = round(clip_after_s * sr)
        self._guard_n = self.GUARD_S * sr
        self._hop_n = max(1, round(hop_s * sr))
        self._decide_lag_n = round(self.DECIDE_LAG_S * sr)
        # audio a pulse needs after its onset before it leaves: clip tail, classifier window
        self._tail_n = max(self._after_n, round(self.CLASSIFIER_TAIL_S * sr))
        self._lookbehind_n = round((self.LTA_S + 0.35) * sr)  # the picker's context
        self._keep_n = max(self._lookbehind_n, self._before_n + math.ceil(self._guard_n) + 1)
        self._max_chunk_n = max(self._hop_n, 2 * sr)
        self.pulses_emitted = 0
        self._reset(self._parse_start(start_utc))

    @staticmethod
    def _parse_start(start_utc: float | str) -> float:
        t = parse_utc(start_utc) if isinstance(start_utc, str) else float(start_utc)
        if not math.isfinite(t) or not 0.0 < t < 1e10:
            raise InputError(f"start time is not a plausible epoch time: {start_utc!r}")
        return t

    def _reset(self, t0: float) -> None:
        self.t0 = t0
        self._chunks: list[NDArray[np.float64]] = []
        self._buf = np.zeros(0)
        self._buf0 = 0  # absolute index of self._buf[0]
        self._n = 0  # samples received since t0
        self._horizon = 0.0  # picks before this absolute sample index are decided
        self._recent: deque[float] = deque(maxlen=32)
        self._pending: list[_Pick] = []  # decided, waiting for their clip tail

    @property
    def next_sample_time(self) -> float:
        """Epoch time of the next sample the agent expects."""
        return self.t0 + self._n / self.sample_rate

    # -- the streaming core (pure computation, no I/O) --------------------------------

    def process(self, block: Any, t_start: float | None = None) -> list[Pulse]:
        """Take the next block of samples (1-D, or 2-D frames x channels: first channel).

        Returns the pulses complete so far (possibly none; each leaves once its clip
        tail has arrived, see the module docstring).
        """
        x = self._check_block(block)
        out: list[Pulse] = []
        if t_start is not None and self._n > 0:
            if abs(float(t_start) - self.next_sample_time) > 1.0 / self.sample_rate:
                logger.info(
                    "%s: time jump of %.6f s; restarting the stream",
                    self.sensor_id,
                    float(t_start) - self.next_sample_time,
                )
                out += self.finish()
                self._reset(float(t_start))
        elif t_start is not None:
            self._reset(float(t_start))
        for i in range(0, x.shape[0], self._max_chunk_n):
            self._chunks.append(x[i : i + self._max_chunk_n])
            self._n += min(self._max_chunk_n, x.shape[0] - i)
            if self._n - self._decide_lag_n - self._horizon >= self._hop_n:
                out += self._analyse(self._n - self._decide_lag_n)
        if self._pending and round(self._pending[0].onset) + self._tail_n <= self._n:
            out += self._emit_ready()
        return out

    def finish(self) -> list[Pulse]:
        """End of stream: decide the remaining audio (clips are cut at the end)."""
        out = self._analyse(self._n - self.PICKER_TAIL_S * self.sample_rate, final=True)
        self._horizon = max(self._horizon, float(self._n))
        return out

    def _check_block(self, block: Any) -> NDArray[np.float64]:
        try:
            x = np.asarray(block, dtype=np.float64)
        except (TypeError, ValueError):
            raise InputError("audio block is not numeric") from None
        if x.ndim == 2:
            x = x[:, 0]
        if x.ndim != 1:
            raise InputError(f"audio block must be 1-D or frames x channels, got {x.shape}")
        if not np.all(np.isfinite(x)):
            raise InputError("audio block contains NaN or infinity")
        return np.array(x, dtype=np.float64, copy=True)

    def _analyse(self, decide_until: float, *, final: bool = False) -> list[Pulse]:
        if self._chunks:
            self._buf = np.concatenate([self._buf, *self._chunks])
            self._chunks = []
        if decide_until > self._horizon and self._buf.shape[0] > 0:
            self._decide(decide_until)
        return self._emit_ready(final=final)

    def _emit_ready(self, *, final: bool = False) -> list[Pulse]:
        """Turn the decided picks whose clip tail has arrived (all if ``final``) into
        pulses, then drop the audio nothing needs any more."""
        if self._chunks:
            self._buf = np.concatenate([self._buf, *self._chunks])
            self._chunks = []
        out: list[Pulse] = []
        while self._pending and (final or round(self._pending[0].onset) + self._tail_n <= self._n):
            out.append(self._pulse(self._pending.pop(0)))
        keep_from = math.floor(self._horizon) - self._keep_n
        if self._pending:
            keep_from = min(keep_from, round(self._pending[0].onset) - self._before_n)
        keep_from = max(self._buf0, keep_from)
        if keep_from > self._buf0:
            self._buf = self._buf[keep_from - self._buf0 :]
            self._buf0 = keep_from
        self.pulses_emitted += len(out)
        return out

    def _decide(self, decide_until: float) -> None:
        """Run the picker over the recent audio; queue the new picks before ``decide_until``."""
        p0 = max(self._buf0, math.floor(self._horizon) - self._lookbehind_n)
        try:
            picks = self.picker(self._buf[p0 - self._buf0 :], self.sample_rate)
        except ValueError as e:
            raise InputError(f"the onset picker rejected the audio: {e}") from None
        lo = self._horizon - self._guard_n
        rise = getattr(picks, "rise_s", None)
        for j in np.argsort(picks.onset):
            onset = p0 + float(picks.onset[j])
            if not lo <= onset < decide_until:
                continue
            if any(abs(onset - r) < self._guard_n for r in self._recent):
                continue
            if self._on_digital_silence(onset):
                logger.debug("%s: pick on a dropout at %.1f", self.sensor_id, onset)
                continue
            self._recent.append(onset)
            self._pending.append(
                _Pick(
                    onset=onset,
                    sigma=float(picks.sigma[j]),
                    snr_db=float(picks.snr_db[j]),
                    peak_dbfs=float(picks.peak_dbfs[j]),
                    rise_s=None if rise is None else float(rise[j]),
                )
            )
        self._horizon = max(self._horizon, decide_until)

    def _on_digital_silence(self, onset: float) -> bool:
        """True if the pick sits on a dropout rather than on sound.

        A recorder that drops out writes exact zeros; the picker's zero-phase band-pass
        smears the step where audio resumes to before it, so a "pick" can land on the
        zeros or right at the resumption. A real arrival is never followed by
        ``SILENCE_S`` of exact zeros, and a pick whose noise window (the ``DROPOUT_S``
        before it) is mostly exact zeros has no noise estimate to stand on.
        """
        i = round(onset) - self._buf0
        after = self._buf[max(0, i) : max(0, i) + max(2, round(self.SILENCE_S * self.sample_rate))]
        if after.size > 0 and not np.any(after):
            return True
        before = self._buf[max(0, i - round(self.DROPOUT_S * self.sample_rate)) : max(0, i)]
        return bool(before.size > 0 and np.count_nonzero(before) < before.size // 2)

    def _pulse(self, pick: _Pick) -> Pulse:
        sr = self.sample_rate
        onset = pick.onset
        t = self.t0 + onset / sr
        end = self._buf0 + self._buf.shape[0]
        a = max(self._buf0, round(onset) - self._before_n)
        on_in_seg = onset - a
        score: float | None = None
        if self.classifier is not None:
            seg = self._buf[a - self._buf0 : min(end, round(onset) + self._tail_n) - self._buf0]
            try:
                score = float(self.classifier.score(seg, sr, round(on_in_seg)))
            # A failing classifier must not stop the sensor reporting: the pulse goes out
            # unscored and the server scores the clip itself.
            except Exception as e:
                logger.warning("%s: classifier failed on pulse at %.6f: %s", self.sensor_id, t, e)
            if score is not None and not 0.0 <= score <= 1.0:
                logger.warning(
                    "%s: classifier score %r outside 0..1 ignored", self.sensor_id, score
                )
                score = None
        features: dict[str, Any] = {"sample_rate": sr, "sigma_t_s": float(f"{pick.sigma:.4g}")}
        if pick.rise_s is not None:
            features["rise_s"] = round(pick.rise_s, 6)
        clip = None
        seg = self._buf[a - self._buf0 : min(end, round(onset) + self._after_n) - self._buf0]
        if self.clip_format is not None and seg.shape[0] > 1:
            clip = encode_clip(
                seg, sr, self.t0 + a / sr, onset_s=on_in_seg / sr, fmt=self.clip_format
            )
        return Pulse(
            sensor_id=self.sensor_id,
            t=t,
            snr_db=pick.snr_db,
            peak_dbfs=pick.peak_dbfs,
            gunshot_score=score,
            features=features,
            clip=clip,
            sigma_t=pick.sigma,
            uid=str(uuid.uuid4()),
        )

    # -- with a transport ------------------------------------------------------------

    async def feed(self, block: Any, t_start: float | None = None) -> list[Pulse]:
        """:meth:`process` a block and hand the resulting pulses to the transport."""
        pulses = self.process(block, t_start)
        await self._send(pulses)
        return pulses

    async def close(self) -> list[Pulse]:
        """:meth:`finish` the stream and send the last pulses (the transport stays open)."""
        pulses = self.finish()
        await self._send(pulses)
        return pulses

    async def _send(self, pulses: list[Pulse]) -> None:
        if self.transport is None:
            return
        for p in pulses:
            await self.transport.send(pulse_report(p))


def pulse_report(p: Pulse) -> dict[str, Any]:
    """The wire message of a pulse: ``Pulse.to_json()`` plus ``sigma_t_s`` when known."""
    d = p.to_json()
    if p.sigma_t is not None and "sigma_t_s" not in d:
        d["sigma_t_s"] = float(f"{p.sigma_t:.4g}")
    return d
