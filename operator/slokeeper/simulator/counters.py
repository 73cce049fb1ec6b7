"""Per-Pod request counters that grow with time, exactly as the profile says."""

from __future__ import annotations

from dataclasses import dataclass, field

from slokeeper.simulator.profiles import BUCKETS, Profile


@dataclass
class PodTraffic:
    """Cumulative counters of one Pod since it became Ready (a new Pod starts from zero)."""

    namespace: str
    pod: str
    profile: Profile
    requests: float = 0.0
    buckets: dict[float, float] = field(default_factory=lambda: dict.fromkeys(BUCKETS, 0.0))
    latency_sum: float = 0.0

    @property
    def errors(self) -> float:
        return self.requests * self.profile.error_ratio

    def advance(self, offered_requests: float) -> None:
        new_requests = offered_requests * self.profile.traffic_share
        self.requests += new_requests
        for boundary in BUCKETS:
            self.buckets[boundary] += new_requests * self.profile.share_at_or_below(boundary)
        # Mean of the healthy distribution is about 70 ms; slow versions scale it.
        self.latency_sum += new_requests * 0.07 * self.profile.latency_factor

    def exposition(self) -> list[str]:
        """Prometheus text-format lines for this Pod's series."""
        labels = f'namespace="{self.namespace}",pod="{self.pod}"'
        errors = int(self.errors)
        total = int(self.requests)
        lines = [
            f'http_requests_total{{{labels},code="200"}} {total - errors}',
            f'http_requests_total{{{labels},code="500"}} {errors}',
        ]
        for boundary in BUCKETS:
            lines.append(
                f'http_request_duration_seconds_bucket{{{labels},le="{boundary}"}} '
                f"{int(self.buckets[boundary])}"
            )
        lines.append(f'http_request_duration_seconds_bucket{{{labels},le="+Inf"}} {total}')
        lines.append(f"http_request_duration_seconds_sum{{{labels}}} {self.latency_sum:.3f}")
        lines.append(f"http_request_duration_seconds_count{{{labels}}} {total}")
        return lines


HEADER = [
    "# HELP http_requests_total Requests served, by status code.",
    "# TYPE http_requests_total counter",
    "# HELP http_request_duration_seconds Request latency.",
    "# TYPE http_request_duration_seconds histogram",
]


def exposition(pods: list[PodTraffic]) -> str:
    """The whole /metrics page: one family after the other, as the text format requires."""
    requests = [
        line for pod in pods for line in pod.exposition() if line.startswith("http_requests_total")
    ]
    durations = [
        line
        for pod in pods
        for line in pod.exposition()
        if line.startswith("http_request_duration")
    ]
    return "\n".join([*HEADER[:2], *requests, *HEADER[2:], *durations]) + "\n"
