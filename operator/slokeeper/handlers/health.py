"""The operator's probes: ``/healthz`` (liveness) and ``/readyz`` (readiness).

Served from a thread of their own, so they answer while a standby replica waits for the lease. A
thread cannot tell on its own whether the operator's event loop still works, so the loop beats a
heartbeat and liveness fails when the beat stops: a wedged operator is restarted by the kubelet.
The event loop may beat while the loops' work (run in threads) is stuck in a call, so liveness
also asks each loop whether it still progresses (``checks``): the SLO loop through a ``Progress``
it marks after each cycle, the rollout scheduler through its own ``stalled``.

Readiness says "this replica does its job", and a standby's job is to watch the Lease so it can
take over: it is ready while it hears from the API server. A standby that were never ready would
stop every rolling update of the operator (the new Pod waits for the Lease the old one holds, and
the old one is only stopped once the new one is Ready), and a PodDisruptionBudget would count it
as unavailable. Which replica leads is the ``slokeeper_leader`` gauge, not readiness.

``SLOKEEPER_TEST_STALLED_AFTER=<seconds>`` shortens the time after which a loop counts as stuck
(test-only, so not a flag: ``tests/integration/test_hostile_prometheus.py`` stalls the loops on a
Prometheus that never answers and needs liveness to see it within the test).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HEARTBEAT_SECONDS = 5.0
STALE_AFTER_SECONDS = 60.0
# A standby that has not read the Lease for this long could not take over: not ready.
STANDBY_SILENT_AFTER_SECONDS = 30.0
# A loop that should have finished a pass but has not for this long is stuck: liveness fails.
STALLED_AFTER_ENV = "SLOKEEPER_TEST_STALLED_AFTER"
STALLED_AFTER_SECONDS = float(os.environ.get(STALLED_AFTER_ENV) or 300.0)


def since(seconds: float) -> str:
    """'since 2025-06-01T12:00:00Z, 312s ago': when it was, ``seconds`` ago, for a person."""
    then = datetime.now(UTC) - timedelta(seconds=seconds)
    return f"since {then:%Y-%m-%dT%H:%M:%SZ}, {seconds:.0f}s ago"


class Progress:
    """A loop's passes: after each, the loop says within how long the next should end; past
    that, ``stalled`` says since when none has."""

    def __init__(self, loop: str, passes: str, within: float, clock: Callable[[], float]) -> None:
        self.loop, self.passes = loop, passes
        self._clock = clock
        self._passed = clock()
        self._next_by = self._passed + within

    def passed(self, next_within: float) -> None:
        self._passed = self._clock()
        self._next_by = self._passed + next_within

    def stalled(self) -> str | None:
        now = self._clock()
        if now <= self._next_by:
            return None
        return f"{self.loop}: no {self.passes} has finished {since(now - self._passed)}"


class OperatorHealth:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._last_beat: float | None = None
        # Asked by liveness once kopf runs: each says why its loop is stuck, or None.
        self.checks: list[Callable[[], str | None]] = []
        self.started = threading.Event()
        self.standby_reason = "starting"
        # While standing by: when the Lease was last read (the clock's time), or None.
        self.lease_read_at: Callable[[], float | None] | None = None

    def beat(self) -> None:
        self._last_beat = self._clock()

    def progress(self, loop: str, passes: str, within: float) -> Progress:
        """A ``Progress`` liveness checks; its first pass should end ``within`` seconds."""
        watched = Progress(loop, passes, within, self._clock)
        self.checks.append(watched.stalled)
        return watched

    def liveness(self) -> tuple[bool, str]:
        if not self.started.is_set() or self._last_beat is None:
            return True, self.standby_reason
        silent = self._clock() - self._last_beat
        if silent > STALE_AFTER_SECONDS:
            return False, f"the operator's event loop has not answered for {silent:.0f}s"
        for check in list(self.checks):
            stuck = check()
            if stuck is not None:
                return False, stuck
        return True, "ok"

    def readiness(self) -> tuple[bool, str]:
        if self.started.is_set():
            return self.liveness()
        if self.lease_read_at is None:
            return False, self.standby_reason
        read_at = self.lease_read_at()
        if read_at is None:
            return False, f"{self.standby_reason}; the Lease has not been read yet"
        silent = self._clock() - read_at
        if silent > STANDBY_SILENT_AFTER_SECONDS:
            return False, f"{self.standby_reason}; the Lease has not been read for {silent:.0f}s"
        return True, f"{self.standby_reason}; ready to take over"

    def serve(self, port: int, address: str) -> ThreadingHTTPServer:
        health = self

        class Probe(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                probes = {"/healthz": health.liveness, "/readyz": health.readiness}
                probe = probes.get(self.path.split("?", 1)[0])
                if probe is None:
                    self.send_error(404)
                    return
                healthy, message = probe()
                body = (message + "\n").encode()
                self.send_response(200 if healthy else 503)
                self.send_header("Content-Type", "text/plain; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                """Probes every few seconds would drown the operator's own log."""

        server = ThreadingHTTPServer((address, port), Probe)
        threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
        return server
