"""A traffic simulator standing in for applications on kwok's process-less Pods.

It watches Pods through the API and, for each Ready Pod, counts requests at a set rate with the
error ratio and latency its container image's profile gives, serving the counters and histogram
a real service would expose, labelled with ``namespace`` and ``pod`` as Prometheus' Kubernetes
service discovery would label them.
"""
