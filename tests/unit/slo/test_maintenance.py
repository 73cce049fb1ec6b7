"""Which silences an SLO's maintenance windows need: one per open window, nothing else of ours."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from slokeeper.slo.maintenance import (
    SharedWindow,
    Silence,
    WindowState,
    budget_spent,
    covering,
    marker,
    plan_silences,
    window_state,
)
from slokeeper.slo.objective import MaintenanceWindow, Objective, RatioIndicator, RollingWindow

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
HOUR = timedelta(hours=1)
OPEN = MaintenanceWindow(NOW + HOUR, NOW + 2 * HOUR, "CHG-1")
ENDED = MaintenanceWindow(NOW - 2 * HOUR, NOW - HOUR, "CHG-0")


def _slo(name: str, *windows: MaintenanceWindow) -> Objective:
    return Objective(
        "shop", name, "checkout", 99.9, RollingWindow(28 * 86400),
        RatioIndicator(total="t[{{.window}}]", errors="e[{{.window}}]"), maintenance=windows,
    )  # fmt: skip


def test_windows_are_scheduled_active_then_ended() -> None:
    assert window_state(OPEN, NOW) is WindowState.SCHEDULED
    assert window_state(OPEN, NOW + HOUR) is WindowState.ACTIVE
    assert window_state(OPEN, NOW + 2 * HOUR) is WindowState.ENDED


def test_only_open_windows_get_a_silence() -> None:
    slo = _slo("checkout", OPEN, ENDED)
    plan = plan_silences([slo], [], NOW)
    assert plan.create == ((slo, OPEN),)
    assert plan.expire == ()


def test_our_duplicates_and_stale_silences_are_expired_others_left_alone() -> None:
    slo = _slo("checkout", OPEN)
    existing = [
        Silence("a", f"CHG-1 {marker(slo, OPEN)}", "slokeeper", "pending"),
        Silence("b", f"again {marker(slo, OPEN)}", "slokeeper", "pending"),  # a duplicate
        Silence("c", f"moved {marker(slo, ENDED)}", "slokeeper", "active"),  # not in spec now
        Silence("d", f"x {marker(_slo('checkout-v2', OPEN), OPEN)}", "slokeeper", "active"),
        Silence("e", "set by hand", "alice", "active"),
        Silence("f", f"old {marker(slo, OPEN)}", "slokeeper", "expired"),
    ]
    plan = plan_silences([slo], existing, NOW)
    assert plan.create == ()
    assert plan.silences == {marker(slo, OPEN): "a"}
    # d belongs to an SLO this operator does not know (another operator's, or deleted).
    assert set(plan.expire) == {"b", "c"}


def test_budget_spent_is_burn_rate_times_share_of_the_window() -> None:
    assert budget_spent(0.01, 0.001, 1 / 720) == pytest.approx(10 / 720)


def test_a_shared_window_covers_the_slos_its_selector_matches() -> None:
    shared = [
        SharedWindow("db-upgrade", OPEN, (("tier", "checkout"),)),
        SharedWindow("dc-move", ENDED),  # no selector: every SLO of the namespace
    ]
    covered = covering({"tier": "checkout", "team": "shop"}, shared)
    assert [window.reason for window in covered] == [
        "MaintenanceWindow dc-move: CHG-0",
        "MaintenanceWindow db-upgrade: CHG-1",
    ]
    assert [w.reason for w in covering({"tier": "search"}, shared)] == [
        "MaintenanceWindow dc-move: CHG-0"
    ]
