"""The Prometheus adapter: PromQL queries with batching, timeouts and authentication."""
