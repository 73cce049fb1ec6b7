"""The probes a kubelet sees: a standby replica is alive but not ready, the leader is ready, and a
leader whose event loop stopped beating fails liveness so the kubelet restarts it."""

from __future__ import annotations

import requests

from slokeeper.handlers.health import STALE_AFTER_SECONDS, OperatorHealth
from slokeeper.localcluster.processes import free_port


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_standby_replica_is_alive_and_not_ready() -> None:
    health = OperatorHealth(FakeClock())
    health.standby_reason = "standing by for Lease ops/slokeeper"
    assert health.liveness() == (True, "standing by for Lease ops/slokeeper")
    assert health.readiness() == (False, "standing by for Lease ops/slokeeper")


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
