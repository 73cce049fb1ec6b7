"""Leader election on a ``coordination.k8s.io`` Lease, so two replicas of the operator are safe:
one acts, the other waits and takes over when the leader stops renewing.

Expiry is judged by when *this* process last saw the lease change, not by the renew time written
in it, so nodes whose clocks disagree cannot both believe they lead (client-go does the same).
Every write carries the resourceVersion read, so two candidates racing for a free lease cannot
both win: the API server answers the second with 409.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kubernetes import client
from kubernetes.client.exceptions import ApiException

log = logging.getLogger("slokeeper.leader")


@dataclass(frozen=True)
class LeaseTiming:
    """client-go's defaults: a leader that cannot renew for ``renew_deadline`` stops acting,
    strictly before anyone else may take the lease (``duration`` after its last renewal)."""

    duration_seconds: float = 15.0
    renew_deadline_seconds: float = 10.0
    retry_period_seconds: float = 2.0


def _spec(lease: client.V1Lease) -> client.V1LeaseSpec:
    if lease.spec is None:
        lease.spec = client.V1LeaseSpec()
    return lease.spec


class LeaderElection:
    def __init__(  # noqa: PLR0917 - the lease's coordinates, each named at the call
        self,
        api: client.ApiClient,
        namespace: str,
        name: str,
        identity: str,
        timing: LeaseTiming = LeaseTiming(),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._leases = client.CoordinationV1Api(api)
        self.namespace = namespace
        self.name = name
        self.identity = identity
        self.timing = timing
        self._clock = clock
        self._observed: tuple[object, ...] | None = None
        self._observed_at = 0.0
        self.holder: str | None = None
        self.read_at: float | None = None  # when the API server last answered a read (clock's time)
        self._stop_renewing = threading.Event()

    def _call_timeout(self) -> float:
        """No Lease call may outlast the renew deadline: a leader stuck in one would act on
        after another replica took over."""
        return self.timing.renew_deadline_seconds

    def try_acquire_or_renew(self) -> bool:
        """One attempt: True when this process holds the lease afterwards."""
        now = datetime.now(UTC)
        try:
            lease = self._leases.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self._call_timeout()
            )
        except ApiException as error:
            if error.status != 404:
                log.warning("cannot read Lease %s/%s: %s", self.namespace, self.name, error.reason)
                return False
            self.read_at = self._clock()
            return self._create(now)
        self.read_at = self._clock()
        spec = _spec(lease)
        self._observe(lease)
        expired = self._clock() - self._observed_at > float(
            spec.lease_duration_seconds or self.timing.duration_seconds
        )
        if spec.holder_identity and spec.holder_identity != self.identity and not expired:
            return False
        if spec.holder_identity != self.identity:
            spec.acquire_time = now
            spec.lease_transitions = (spec.lease_transitions or 0) + 1
        spec.holder_identity = self.identity
        spec.renew_time = now
        spec.lease_duration_seconds = int(self.timing.duration_seconds)
        try:
            updated = self._leases.replace_namespaced_lease(
                self.name, self.namespace, lease, _request_timeout=self._call_timeout()
            )
        except ApiException as error:
            if error.status != 409:
                log.warning("cannot renew Lease %s/%s: %s", self.namespace, self.name, error.reason)
            return False
        self._observe(updated)
        return True

    def _create(self, now: datetime) -> bool:
        lease = client.V1Lease(
            metadata=client.V1ObjectMeta(name=self.name, namespace=self.namespace),
            spec=client.V1LeaseSpec(
                holder_identity=self.identity,
                lease_duration_seconds=int(self.timing.duration_seconds),
                acquire_time=now,
                renew_time=now,
                lease_transitions=0,
            ),
        )
        try:
            created = self._leases.create_namespaced_lease(
                self.namespace, lease, _request_timeout=self._call_timeout()
            )
        except ApiException as error:
            if error.status != 409:
                log.warning(
                    "cannot create Lease %s/%s: %s", self.namespace, self.name, error.reason
                )
            return False
        self._observe(created)
        return True

    def _observe(self, lease: client.V1Lease) -> None:
        spec = _spec(lease)
        version = lease.metadata.resource_version if lease.metadata else None
        record = (spec.holder_identity, spec.renew_time, version)
        if record != self._observed:
            self._observed = record
            self._observed_at = self._clock()
        self.holder = spec.holder_identity

    def wait_until_leader(self, stop: threading.Event) -> bool:
        """Block until this process holds the lease (True) or ``stop`` is set (False)."""
        reported: str | None = None
        while not stop.is_set():
            try:
                acquired = self.try_acquire_or_renew()
            except Exception:  # an API server out of reach: stand by (not ready), do not crash
                log.exception("reading Lease %s/%s failed", self.namespace, self.name)
                acquired = False
            if acquired:
                log.info(
                    "leading: holds Lease %s/%s as %s", self.namespace, self.name, self.identity
                )
                return True
            if self.holder != reported:
                reported = self.holder
                log.info(
                    "standing by: Lease %s/%s is held by %s", self.namespace, self.name, self.holder
                )
            stop.wait(self.timing.retry_period_seconds)
        return False

    def keep_renewing(self, on_lost: Callable[[], None]) -> threading.Thread:
        """Renew in a daemon thread; call ``on_lost`` once if a renewal deadline passes."""

        def renew() -> None:
            last_renewed = self._clock()
            while not self._stop_renewing.wait(self.timing.retry_period_seconds):
                try:
                    renewed = self.try_acquire_or_renew()
                except Exception:  # a broken connection must not end renewal silently
                    log.exception("renewing Lease %s/%s failed", self.namespace, self.name)
                    renewed = False
                if renewed:
                    last_renewed = self._clock()
                elif self._clock() - last_renewed > self.timing.renew_deadline_seconds:
                    log.error(
                        "lost Lease %s/%s (now held by %s): stopping",
                        self.namespace,
                        self.name,
                        self.holder,
                    )
                    on_lost()
                    return

        thread = threading.Thread(target=renew, name="lease-renewal", daemon=True)
        thread.start()
        return thread

    def release(self) -> None:
        """Give the lease up on a clean stop, so a standby replica takes over at once."""
        self._stop_renewing.set()
        try:
            lease = self._leases.read_namespaced_lease(
                self.name, self.namespace, _request_timeout=self._call_timeout()
            )
            spec = _spec(lease)
            if spec.holder_identity != self.identity:
                return
            spec.holder_identity = None
            spec.lease_duration_seconds = 1
            self._leases.replace_namespaced_lease(
                self.name, self.namespace, lease, _request_timeout=self._call_timeout()
            )
        except ApiException as error:
            log.warning("cannot release Lease %s/%s: %s", self.namespace, self.name, error.reason)
        else:
            log.info("released Lease %s/%s", self.namespace, self.name)
