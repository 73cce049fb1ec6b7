"""The real local control plane for tests and the demo, built from source and started on loopback.

``toolchain`` builds (once, cached by version) and finds the binaries; ``cluster`` starts etcd,
kube-apiserver, kube-controller-manager, kube-scheduler and kwok through kwokctl's binary runtime;
``prometheus`` runs a Prometheus server; ``stack`` starts them together and stops them all.
"""
