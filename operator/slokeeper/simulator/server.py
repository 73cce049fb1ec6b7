"""The simulator process: follows Ready Pods through the API and serves their /metrics."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

from kubernetes import client

from slokeeper.simulator.counters import PodTraffic, exposition
from slokeeper.simulator.metrics_endpoint import metrics_endpoint
from slokeeper.simulator.profiles import profile_for

log = logging.getLogger(__name__)


def _release(container: Any) -> str:
    """The container's image, or, where the image cannot tell (the demo on a real cluster runs
    the pause image, as shop/checkout images exist nowhere), the version in its env VERSION."""
    version = next((e.value for e in container.env or [] if e.name == "VERSION"), None)
    image: str = container.image
    return f"{image.rsplit(':', 1)[0]}:{version}" if version else image


def _is_ready(pod: Any) -> bool:
    if pod.metadata.deletion_timestamp is not None:
        return False
    conditions = pod.status.conditions or []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


@dataclass
class TrafficSimulator:
    """Counts requests for every Ready Pod matched by ``label_selector`` in ``namespaces``
    (every namespace when empty).

    ``requests_per_second`` is per Pod. Use as a context manager; ``address`` is the scrape
    target (host:port) once started.
    """

    api: client.ApiClient
    namespaces: tuple[str, ...]
    label_selector: str = ""
    requests_per_second: float = 10.0
    poll_seconds: float = 1.0
    clock: Callable[[], float] = time.monotonic
    pods: dict[tuple[str, str], PodTraffic] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)
    _last: float | None = None
    _endpoint: ExitStack | None = None
    _address: str | None = None
    _threads: list[threading.Thread] = field(default_factory=list)

    @property
    def address(self) -> str:
        if self._address is None:
            raise RuntimeError("the simulator is not running")
        return self._address

    def refresh(self) -> None:
        """Advance every counter to now, then follow Pods that appeared or went away."""
        core = client.CoreV1Api(self.api)
        listed: list[Any] = []
        if not self.namespaces:
            listed = list(
                core.list_pod_for_all_namespaces(label_selector=self.label_selector).items
            )
        for namespace in self.namespaces:
            listed.extend(
                core.list_namespaced_pod(namespace, label_selector=self.label_selector).items
            )
        with self._lock:
            self._advance_to_now()
            ready = {(p.metadata.namespace, p.metadata.name): p for p in listed if _is_ready(p)}
            for key in list(self.pods):
                if key not in ready:
                    del self.pods[key]
            for key, pod in ready.items():
                if key not in self.pods:
                    release = _release(pod.spec.containers[0])
                    self.pods[key] = PodTraffic(key[0], key[1], profile_for(release))

    def _advance_to_now(self) -> None:
        """Count the requests every followed Pod served since the last look (lock held)."""
        now = self.clock()
        if self._last is not None:
            for traffic in self.pods.values():
                traffic.advance(self.requests_per_second * (now - self._last))
        self._last = now

    def metrics(self) -> str:
        with self._lock:
            self._advance_to_now()
            return exposition(list(self.pods.values()))

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            try:
                self.refresh()
            except Exception as error:
                log.warning("traffic simulator could not list Pods: %s", error)

    def start(self) -> TrafficSimulator:
        self.refresh()
        self._endpoint = ExitStack()
        self._address = self._endpoint.enter_context(metrics_endpoint(lambda _: self.metrics()))
        self._threads = [threading.Thread(target=self._poll, daemon=True, name="simulator-pods")]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._endpoint is not None:
            self._endpoint.close()
            self._endpoint, self._address = None, None
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> TrafficSimulator:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
