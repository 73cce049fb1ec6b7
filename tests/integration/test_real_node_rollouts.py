"""User story: an SRE ships a change whose canary can never serve — an image that is not on
the node, a version that crashes at start, a pod no node can take — on real pods with a real
kubelet. Within the ChangeRollout's progress deadline the change is rolled back with what the
pods say as its reason, and the stable pods are never touched."""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from typing import Any

import yaml

from polling import eventually
from running_operator import RunningOperator
from slokeeper.localcluster.realnode.images import RealNodeImages
from slokeeper.localcluster.realnode.node import RealNodeCluster

REPLICAS = 2


def _target(namespace: str, image: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "shop", "namespace": namespace},
        "spec": {
            "replicas": REPLICAS,
            "selector": {"matchLabels": {"app": "shop"}},
            "template": {
                "metadata": {"labels": {"app": "shop"}},
                "spec": {
                    "terminationGracePeriodSeconds": 5,
                    "containers": [
                        {
                            "name": "shop",
                            "image": image,
                            "imagePullPolicy": "Never",
                            "env": [{"name": "VERSION", "value": "1.1"}],
                            "ports": [{"name": "http", "containerPort": 8080}],
                            "readinessProbe": {
                                "httpGet": {"path": "/readyz", "port": "http"},
                                "periodSeconds": 1,
                            },
                        }
                    ],
                },
            },
        },
    }


def _rollout(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "slokeeper.dev/v1alpha1",
        "kind": "ChangeRollout",
        "metadata": {"name": "shop", "namespace": namespace},
        "spec": {
            "targetRef": {"name": "shop"},
            "steps": [{"weight": 50, "pause": "1m"}],
            "analysis": {"interval": "5s"},
            "progressDeadline": "20s",
        },
    }


def _apply(node: RealNodeCluster, tmp_path: Path, *objects: dict[str, Any]) -> None:
    manifest = tmp_path / f"{secrets.token_hex(3)}.yaml"
    manifest.write_text(yaml.safe_dump_all(objects))
    node.kubectl("apply", "-f", str(manifest))


def _json(node: RealNodeCluster, *args: str) -> Any:
    return json.loads(node.kubectl("get", *args, "-o", "json").stdout)


def _stable_pods(node: RealNodeCluster, namespace: str) -> dict[str, int]:
    """Each Ready stable pod's uid and restart count."""
    pods = _json(node, "pods", "-n", namespace, "-l", "app=shop,!slokeeper.dev/track")["items"]
    return {
        pod["metadata"]["uid"]: pod["status"]["containerStatuses"][0]["restartCount"]
        for pod in pods
        if pod["status"].get("containerStatuses", [{}])[0].get("ready")
    }


# Each case: how the template changes, and what the rollback reason must quote from the pods.
CASES = {
    "image-not-on-the-node": (
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
          "value": "localhost/slokeeper-missing:9.9"}],
        "ErrImageNeverPull",
    ),
    # Pulled from a registry that refuses (no network is needed to fail): the pod waits in
    # ErrImagePull, then ImagePullBackOff.
    "image-pull-fails": (
        [{"op": "replace", "path": "/spec/template/spec/containers/0/image",
          "value": "127.0.0.1:1/slokeeper-missing:9.9"},
         {"op": "replace", "path": "/spec/template/spec/containers/0/imagePullPolicy",
          "value": "IfNotPresent"}],
        "ImagePull",
    ),
    "crash-at-start": (
        [{"op": "add", "path": "/spec/template/spec/containers/0/env/-",
          "value": {"name": "PROFILE", "value": "crash"}}],
        "last exit code",  # between restarts the pod waits in CrashLoopBackOff, or is starting
    ),
    "no-node-fits": (
        [{"op": "add", "path": "/spec/template/spec/nodeSelector",
          "value": {"slokeeper.dev/no-such-node": "true"}}],
        "Unschedulable",
    ),
}  # fmt: skip


def _guarded_shops(
    node: RealNodeCluster,
    images: RealNodeImages,
    tmp_path: Path,
    prefix: str,
    cases: tuple[str, ...],
) -> dict[str, str]:
    """A namespace per case, each with the shop Deployment rolled out and adopted by its
    ChangeRollout."""
    namespaces = {case: f"{prefix}-{case}-{secrets.token_hex(2)}" for case in cases}
    for namespace in namespaces.values():
        node.kubectl("create", "namespace", namespace)
        _apply(node, tmp_path, _target(namespace, images.demoapp.name))
    for namespace in namespaces.values():
        rolled = node.kubectl(
            "rollout", "status", "deployment/shop", "-n", namespace, "--timeout=90s", check=False
        )
        assert rolled.returncode == 0, rolled.stderr
        _apply(node, tmp_path, _rollout(namespace))
    for case, namespace in namespaces.items():
        eventually(
            lambda namespace=namespace: _status(node, namespace),
            lambda status: "stable" in status,
            f"the {case} ChangeRollout to adopt the running template",
        )
    return namespaces


def _event_reasons(node: RealNodeCluster, namespace: str) -> list[str]:
    listed = _json(
        node, "events", "-n", namespace, "--field-selector=involvedObject.kind=ChangeRollout"
    )
    return [event["reason"] for event in listed["items"]]


def _status(node: RealNodeCluster, namespace: str) -> dict[str, Any]:
    status: dict[str, Any] = _json(node, "crollout", "shop", "-n", namespace).get("status", {})
    return status


def test_a_canary_that_never_becomes_ready_is_rolled_back_at_the_progress_deadline(
    real_node: RealNodeCluster,
    real_node_images: RealNodeImages,
    real_node_operator: RunningOperator,
    tmp_path: Path,
) -> None:
    """The four cases run side by side, each in a namespace of its own."""
    namespaces = _guarded_shops(real_node, real_node_images, tmp_path, "real", tuple(CASES))
    stable = {}
    for case, namespace in namespaces.items():
        stable[case] = _stable_pods(real_node, namespace)
        assert len(stable[case]) == REPLICAS
    for case, namespace in namespaces.items():
        patch = json.dumps(CASES[case][0])
        real_node.kubectl(
            "patch", "deployment", "shop", "-n", namespace, "--type", "json", "-p", patch
        )

    for case, namespace in namespaces.items():
        status = eventually(
            lambda namespace=namespace: _status(real_node, namespace),
            lambda status: status.get("phase") == "RolledBack",
            f"the {case} canary to be rolled back at its 20 s progress deadline",
            timeout=90,
        )
        change = status["history"][0]
        print(f"{case}: {change['reason']}: {status['message']}")
        assert (change["outcome"], change["reason"]) == ("RolledBack", "ProgressDeadlineExceeded")
        assert CASES[case][1] in status["message"], status["message"]
        # While it waited, the status and one Event said the pods were not Ready, with what they
        # said and the time left; the deadline's Event closes it.
        waited = [d for d in change["decisions"] if d["reason"] == "CanaryNotReady"]
        assert len(waited) == 1, change["decisions"]
        assert "s left of the 20s progress deadline" in waited[0]["message"], waited
        said = _event_reasons(real_node, namespace)
        assert said.count("CanaryNotReady") == 1, said
        assert "ProgressDeadlineExceeded" in said, said
        left = eventually(
            lambda namespace=namespace: _json(real_node, "deployments", "-n", namespace)["items"],
            lambda items: [d["metadata"]["name"] for d in items] == ["shop"],
            f"the {case} canary Deployment to be gone",
        )
        assert left[0]["spec"]["paused"] is True
        assert _stable_pods(real_node, namespace) == stable[case], "stable pods replaced"
        real_node.kubectl("delete", "namespace", namespace, "--wait=false")


def _target_pods(node: RealNodeCluster, namespace: str) -> list[tuple[str, bool]]:
    """(pod-template-hash, Ready) of each pod of the target itself that is not going."""
    pods = _json(node, "pods", "-n", namespace, "-l", "app=shop,!slokeeper.dev/track")["items"]
    return sorted(
        (
            pod["metadata"]["labels"]["pod-template-hash"],
            bool(pod["status"].get("containerStatuses", [{}])[0].get("ready")),
        )
        for pod in pods
        if not pod["metadata"].get("deletionTimestamp")
    )


def test_a_promotion_whose_pods_cannot_start_ends_on_the_stable_pods(
    real_node: RealNodeCluster,
    real_node_images: RealNodeImages,
    real_node_operator: RunningOperator,
    tmp_path: Path,
) -> None:
    """Issue 21's second scenario on real pods: a person promotes a canary that never became
    Ready; the target rolls the template out natively, its new pod cannot pull its image or
    crashes. At the progress deadline the promotion is stopped, the new pods are removed and
    the target is paused on its stable pods again."""
    cases = ("image-not-on-the-node", "crash-at-start")
    namespaces = _guarded_shops(real_node, real_node_images, tmp_path, "real-promote", cases)
    stable_pods = {}
    for case, namespace in namespaces.items():
        stable_pods[case] = _target_pods(real_node, namespace)
        assert [ready for _, ready in stable_pods[case]] == [True] * REPLICAS
        patch = json.dumps(CASES[case][0])
        real_node.kubectl(
            "patch", "deployment", "shop", "-n", namespace, "--type", "json", "-p", patch
        )
    for case, namespace in namespaces.items():
        eventually(
            lambda namespace=namespace: _status(real_node, namespace),
            lambda status: status.get("phase") == "Progressing",
            f"the {case} canary to start",
        )
        real_node.kubectl(
            "annotate", "crollout", "shop", "-n", namespace,
            'slokeeper.dev/promote={"by": "alice", "reason": "looks fine"}',
        )  # fmt: skip
    for case, namespace in namespaces.items():
        eventually(
            lambda namespace=namespace: _status(real_node, namespace),
            lambda status: status.get("phase") == "Promoting",
            f"the {case} promotion to start",
        )
        eventually(
            lambda namespace=namespace: _target_pods(real_node, namespace),
            lambda pods: len(pods) > REPLICAS,
            f"a pod of the promoted {case} template beside the stable ones",
        )

    for case, namespace in namespaces.items():
        status = eventually(
            lambda namespace=namespace: _status(real_node, namespace),
            lambda status: status.get("phase") == "RolledBack",
            f"the {case} promotion to be stopped at its 20 s progress deadline",
            timeout=90,
        )
        print(f"promoting {case}: {status['reason']}: {status['message']}")
        assert status["reason"] == "ProgressDeadlineExceeded"
        assert "made no progress within the progress deadline of 20s" in status["message"]
        assert CASES[case][1] in status["message"], status["message"]
        eventually(
            lambda namespace=namespace: (
                _target_pods(real_node, namespace),
                _json(real_node, "deployment", "shop", "-n", namespace)["spec"].get("paused"),
            ),
            lambda seen, case=case: seen[0] == stable_pods[case] and seen[1] is True,
            f"only the {case} target's {REPLICAS} stable pods, Ready, and the target paused",
        )
        real_node.kubectl("delete", "namespace", namespace, "--wait=false")
