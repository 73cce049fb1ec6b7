"""Kubernetes adapters: reading and patching Deployments, Events, rule objects and status."""
