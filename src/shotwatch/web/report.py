"""Forensic incident report (PDF, reportlab) for the District Attorney.

Contains what the system determined (time, location, rounds, shooters, movement),
the review decisions, the CAD call timeline and the SHA-256 of every audio clip (chain
of custody), plus the audit-record hash of this report's generation. Never sensor
locations.
"""

from __future__ import annotations

import io
from typing import Any

from shotwatch.timeutil import format_utc


def forensic_report(
    inc: dict[str, Any],
    cad: dict[str, Any] | None,
    decisions: list[dict[str, Any]],
    clips: list[dict[str, Any]],
    requested_by: str,
    audit_hash: str,
    now: float | None = None,
) -> bytes:
    import time
    from xml.sax.saxutils import escape

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import letter
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=letter,
        title=f"ShotWatch forensic report {inc['id']}",
        author="ShotWatch",
        leftMargin=18 * mm,
        rightMargin=18 * mm,
    )
    st = getSampleStyleSheet()

    def para(text: str, style: str) -> Any:
        """A paragraph of plain text (reportlab reads markup in a paragraph: a call's
        '<' or '&' broke the whole report)."""
        return Paragraph(escape(text), st[style])

    story: list[Any] = [
        para(f"ShotWatch forensic report — incident {inc['id']}", "Title"),
        para(
            "CONFIDENTIAL. Release outside the department requires the authorization of the "
            "captain of the Office of the Chief or higher (G.O. 510.05 §A.6).",
            "Italic",
        ),
        Spacer(1, 6 * mm),
    ]
    rows = [
        ["Classification", f"{inc['classification']} (confidence {inc['confidence']:.2f})"],
        ["Review status", f"{inc['review_status']} / {inc['evaluation_status']}"],
        ["First shot", inc["first_shot_utc"]],
        ["Last shot", inc["last_shot_utc"]],
        ["Location", inc["location"]],
        ["Position (WGS84)", f"{inc['lat']:.6f}, {inc['lon']:.6f} ± {inc['error_radius_m']} m"],
        ["What was heard", inc["heard"]],
        ["Rounds / shooters", f"{inc['rounds']} / {inc['shooters']}"],
        [
            "Mobile",
            "yes" if inc["mobile"] else "no",
        ],
        ["Retain until", inc["retain_until_utc"]],
    ]
    t = Table(rows, colWidths=[45 * mm, 125 * mm])
    t.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ]
        )
    )
    story += [t, Spacer(1, 5 * mm), para("Shots", "Heading2")]
    shot_rows = [["#", "Time (UTC)", "Latitude", "Longitude", "± m", "Shooter"]]
    for i, sh in enumerate(inc["shots"], start=1):
        shot_rows.append(
            [
                str(i),
                sh["t_utc"],
                f"{sh['lat']:.6f}",
                f"{sh['lon']:.6f}",
                f"{sh['error_radius_m']}",
                str(sh["shooter"] + 1),
            ]
        )
    ts = Table(shot_rows, repeatRows=1)
    ts.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey)]))
    story += [ts, Spacer(1, 5 * mm), para("Review decisions", "Heading2")]
    for d in decisions or [
        {"actor": "-", "action": "none", "classification": "", "decided_utc": ""}
    ]:
        story.append(
            para(
                f"{d['decided_utc']} {d['actor']}: {d['action']} {d['classification']}",
                "Normal",
            )
        )
    if cad is not None:
        story += [
            Spacer(1, 4 * mm),
            para(f"CAD call {cad['id']} — {cad['type_code']} P{cad['priority']}", "Heading2"),
            para(cad["narrative"], "Normal"),
        ]
        for e in cad.get("timeline", []):
            story.append(para(f"{e['at_utc']} [{e['kind']}] {e['text']}", "Normal"))
    story += [Spacer(1, 4 * mm), para("Audio evidence (SHA-256)", "Heading2")]
    for i, c in enumerate(clips, start=1):
        story.append(para(f"Clip {i}: {c['t_utc']} sha256 {c['sha256']}", "Code"))
    story += [
        Spacer(1, 6 * mm),
        para(
            f"Generated {format_utc(now or time.time())} for {requested_by}; "
            f"audit record {audit_hash}",
            "Normal",
        ),
    ]
    doc.build(story)
    return buf.getvalue()
