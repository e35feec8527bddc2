"""Rich tables of benchmark results."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.table import Table


def print_livefire(console: Console, r: dict[str, Any]) -> None:
    for view in ("pulses", "audio"):
        if view not in r:
            continue
        s = r[view]
        t = Table(title=f"Live-fire, from {view}", show_header=False)
        t.add_row("shots found / fired", f"{s['shots_found']} / {s['shots_fired']}")
        t.add_row("tests with exact round count", f"{s['tests_exact_rounds']} / {s['tests']}")
        t.add_row("tests alerted as gunfire", f"{s['tests_alerted_gunfire']} / {s['tests']}")
        t.add_row("alerts away from the firing position (>100 m)", str(s["alerts_away_gt_100m"]))
        t.add_row("per-shot error median / p90 (m)", f"{s['error_median_m']} / {s['error_p90_m']}")
        t.add_row(
            "shots within 15 m / 25 m",
            f"{100 * s['share_within_15m']:.1f} % / {100 * s['share_within_25m']:.1f} %",
        )
        console.print(t)
        fp = Table(title=f"Centroid of located shots to survey point (m), from {view}")
        for col in ("firing position", "Shotwatch", "vendor real time", "vendor best offline"):
            fp.add_column(col)
        for name, v in s["firing_positions"].items():
            fp.add_row(
                name,
                str(v["centroid_error_m"]),
                str(v["vendor_real_time_m"]),
                str(v["vendor_best_offline_m"]),
            )
        console.print(fp)
    if "picking_vs_vendor" in r:
        p = r["picking_vs_vendor"]
        console.print(
            f"Picking vs vendor pulse times ({p['pulses']} pulses): median "
            f"{p['median_abs_ms']} ms, p90 {p['p90_abs_ms']} ms"
        )
    console.print(r["note"])


def print_suite(console: Console, r: dict[str, Any]) -> None:
    t = Table(title="Simulated suite")
    t.add_column("figure")
    t.add_column("value")
    for k, v in r.items():
        if isinstance(v, dict | list):
            continue
        t.add_row(k, str(v))
    console.print(t)
    for k, v in r.items():
        if isinstance(v, dict):
            sub = Table(title=k)
            sub.add_column("figure")
            sub.add_column("value")
            for kk, vv in v.items():
                sub.add_row(kk, str(vv))
            console.print(sub)
