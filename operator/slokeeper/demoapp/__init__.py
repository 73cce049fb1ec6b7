"""A real demo application for the real-node cluster: an HTTP service whose behaviour per version
(healthy, failing a share of requests, slow, crashing) comes from its pod template's environment,
and a load generator that sends it real requests at a fixed rate.

It is built into its own image (``localcluster/realnode/images.py``) with only prometheus_client
beside the standard library; it imports nothing else of slokeeper.
"""
