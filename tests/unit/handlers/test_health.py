"""The probes a kubelet sees: a standby replica that keeps reading the Lease is alive and ready (so
a rolling update of the operator can finish), one that cannot reach the API server is not ready,
the leader is ready while starting only once kopf runs, and a leader whose event loop stopped
beating fails liveness so the kubelet restarts it, as does one whose loops stopped finishing their
passes although the event loop still beats."""

from __future__ import annotations

import requests

from slokeeper.handlers.health import (
    STALE_AFTER_SECONDS,
    STALLED_AFTER_SECONDS,
    STANDBY_SILENT_AFTER_SECONDS,
    OperatorHealth,
)
from slokeeper.localcluster.processes import free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_standby_replica_that_reads_the_lease_is_alive_and_ready() -> None:
    clock = FakeClock()
    health = OperatorHealth(clock)
    health.standby_reason = "standing by for Lease ops/slokeeper"
    read_at: list[float | None] = [None]
    health.lease_read_at = lambda: read_at[0]
    assert health.liveness() == (True, "standing by for Lease ops/slokeeper")
    assert health.readiness() == (
        False,
        "standing by for Lease ops/slokeeper; the Lease has not been read yet",
    )
    read_at[0] = clock.now
    clock.now += STANDBY_SILENT_AFTER_SECONDS
    assert health.readiness() == (True, "standing by for Lease ops/slokeeper; ready to take over")
    clock.now += 5
    assert health.readiness() == (
        False,
        "standing by for Lease ops/slokeeper; the Lease has not been read for 35s",
    )
    assert health.liveness()[0] is True, "an API server out of reach is no reason to restart"


def test_a_leader_is_ready_once_kopf_has_started() -> None:
    health = OperatorHealth(FakeClock())
    health.standby_reason = "leading; starting"
    assert health.readiness() == (False, "leading; starting")
    health.started.set()
    health.beat()
    assert health.readiness() == (True, "ok")


def test_the_leader_is_ready_while_its_loop_beats_and_dies_when_it_stops() -> None:
    clock = FakeClock()
    health = OperatorHealth(clock)
    health.started.set()
    health.beat()
    clock.now += STALE_AFTER_SECONDS - 1
    assert health.readiness() == (True, "ok")
    clock.now += 2
    alive, message = health.liveness()
    assert not alive
    assert "has not answered for 61s" in message
    assert health.readiness()[0] is False


def test_probes_answer_over_http_with_status_codes() -> None:
    health = OperatorHealth()
    port = free_port()
    server = health.serve(port, "127.0.0.1")
    try:
        base = f"http://127.0.0.1:{port}"
        assert requests.get(f"{base}/healthz", timeout=2).status_code == 200
        standby = requests.get(f"{base}/readyz", timeout=2)
        assert (standby.status_code, standby.text) == (503, "starting\n")
        health.started.set()
        health.beat()
        assert requests.get(f"{base}/readyz", timeout=2).status_code == 200
        assert requests.get(f"{base}/metrics", timeout=2).status_code == 404
    finally:
        server.shutdown()


def test_liveness_fails_naming_a_loop_that_stopped_finishing_its_passes() -> None:
    clock = FakeClock()
    health = OperatorHealth(clock)
    health.started.set()
    progress = health.progress("SLO loop", "evaluation cycle", within=STALLED_AFTER_SECONDS)
    clock.now += STALLED_AFTER_SECONDS
    health.beat()
    assert health.liveness() == (True, "ok"), "the first cycle may take as long"
    progress.passed(next_within=30 + STALLED_AFTER_SECONDS)
    clock.now += 30 + STALLED_AFTER_SECONDS
    health.beat()  # the event loop itself still beats
    assert health.liveness() == (True, "ok")
    clock.now += 1
    health.beat()
    alive, message = health.liveness()
    assert not alive
    assert message.startswith("SLO loop: no evaluation cycle has finished since "), message
    assert message.endswith(", 331s ago"), message
    progress.passed(next_within=60)
    assert health.liveness() == (True, "ok")


def test_a_standby_is_not_judged_by_loops_that_do_not_run_yet() -> None:
    clock = FakeClock()
    health = OperatorHealth(clock)
    health.standby_reason = "standing by for Lease ops/slokeeper"
    health.checks.append(lambda: "rollout scheduler: stuck")
    assert health.liveness() == (True, "standing by for Lease ops/slokeeper")
    health.started.set()
    health.beat()
    assert health.liveness() == (False, "rollout scheduler: stuck")
