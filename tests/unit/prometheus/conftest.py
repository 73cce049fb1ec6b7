"""The stub Prometheus fixture for these tests."""

from stub_prometheus import stub_prometheus

__all__ = ["stub_prometheus"]
