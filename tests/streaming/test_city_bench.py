"""The simulated-city benchmark (``shotwatch bench --city``) on a small city: two chunks
streamed through the live locator, its figures consistent with each other."""

from __future__ import annotations

from shotwatch.bench.simsuite import city_bench


def test_true_gunfire_shots_are_matched_by_time_and_place() -> None:
    """An emitted shot counts as true gunfire when a true round lies within 50 ms and
    50 m of it; a confuser's shot there, or a shot 0.1 s or 80 m off, does not."""
    from shotwatch.bench.simsuite import _true_gunfire_shots

    events = [
        (100.0, 40.0, -80.0, "gunfire", "0:i0"),
        (200.0, 40.0, -80.0, "backfire", "0:i1"),
        (300.0, 40.0, -80.0, "gunfire", "0:i2"),
    ]
    dlat = 1.0 / 111_195.0  # one metre north
    shots = [
        (True, 100.02, 40.0 + 30 * dlat, -80.0),  # 20 ms, 30 m: a true round
        (True, 200.0, 40.0, -80.0),  # the backfire
        (False, 300.1, 40.0, -80.0),  # 0.1 s off
        (True, 300.0, 40.0 + 80 * dlat, -80.0),  # 80 m off
        (False, 299.99, 40.0, -80.0),  # a round, whatever its incident was told
    ]
    assert _true_gunfire_shots(shots, events).tolist() == [True, False, False, False, True]


def test_small_city_streams_and_reports_consistent_figures() -> None:
    chunks: list[dict[str, object]] = []
    r = city_bench(seed=3, n_sensors=200, hours=0.05, chunk_hours=0.025, progress=chunks.append)
    assert [c["hours_done"] for c in chunks] == [0.025, 0.05]
    assert "out-of-fold scores of model" in str(r["pulse_scores"])  # scored by default
    assert r["pulses"] > 50 and r["locator_cpu_s"] > 0
    assert r["pulses_per_cpu_s"] > 0
    assert r["shots_emitted"] >= r["incidents_found"] >= 1
    p50, p90, p99 = r["emit_latency_ms_p50"], r["emit_latency_ms_p90"], r["emit_latency_ms_p99"]
    assert 0 <= p50 <= p90 <= p99
    assert 0.0 <= r["emit_within_50ms_share"] <= 1.0
    for part in ("alertable", "true_gunfire"):  # a subset of the shots, its own latency
        n = r[f"{part}_shots_emitted"]
        assert 0 <= n <= r["shots_emitted"]
        if n:
            assert 0 <= r[f"{part}_emit_latency_ms_p50"] <= r[f"{part}_emit_latency_ms_p99"]
        else:
            assert r[f"{part}_emit_latency_ms_p50"] is None
    assert r["false_gunfire_alerts"] <= r["gunfire_alerts"]
    # flagged: the alerts and the probable gunfire incidents (a reviewer decides those)
    assert r["gunfire_alerts"] <= r["flagged_incidents"] <= r["incidents_found"]
    assert r["false_gunfire_alerts"] <= r["false_flagged_incidents"] <= r["flagged_incidents"]
    assert r["gunfire_incidents_alerted"] <= r["gunfire_incidents_flagged"]
    assert sum(r["false_flagged_incidents_by_source"].values()) == r["false_flagged_incidents"]
    assert r["false_flagged_incidents_per_100_sensor_days"] == round(
        100.0 * r["false_flagged_incidents"] / (200 * 0.05 / 24.0), 2
    )
    assert r["peak_rss_mb"] > 0 and r["rss_mb_last_chunk"] > 0
    assert r["false_gunfire_alerts_per_100_sensor_days"] == round(
        100.0 * r["false_gunfire_alerts"] / (200 * 0.05 / 24.0), 2
    )
