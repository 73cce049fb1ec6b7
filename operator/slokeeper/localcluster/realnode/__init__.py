"""A real single-node Kubernetes cluster in a network namespace of its own: real kubelet,
containerd, kube-proxy and CNI, and the images its pods run (facts in shared/REALNODE.md)."""
