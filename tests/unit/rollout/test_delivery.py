"""DORA figures from change records: medians over the recent changes, failure ratio over all."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from slokeeper.rollout.delivery import FinishedChange, delivery_figures

T0 = datetime(2026, 11, 26, 2, tzinfo=UTC)


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def test_lead_time_failure_ratio_and_time_to_restore() -> None:
    recent = [
        FinishedChange("Promoted", at(0), at(300)),
        FinishedChange("Promoted", at(1000), at(1600)),
        FinishedChange("Promoted", at(2000), at(2400)),
        FinishedChange("RolledBack", at(3000), at(3060), restored=at(3072)),
        FinishedChange("Aborted", at(4000), at(4100), restored=at(4130)),
        FinishedChange("Superseded", at(5000), at(5010)),
    ]
    counts = {"Promoted": 6, "RolledBack": 1, "Aborted": 1, "Superseded": 3}
    figures = delivery_figures(recent, counts)
    assert figures.lead_time_seconds == 400  # median of 300, 600, 400
    assert figures.change_failure_ratio == 2 / 8  # superseded changes never reached a verdict
    assert figures.time_to_restore_seconds == 21  # median of 12 and 30


def test_nothing_finished_yet_gives_no_figures() -> None:
    figures = delivery_figures([], {})
    assert (figures.lead_time_seconds, figures.change_failure_ratio) == (None, None)
    assert figures.time_to_restore_seconds is None
