"""User story: an SRE copies an example from README.md or docs/ and applies it; the API server
takes it, or, where the page says it refuses, refuses it with the message the page quotes.

Every ```yaml block is one of (its info string says which):

- ``yaml``: complete Kubernetes objects, applied as they are (each block in a fresh namespace);
- ``yaml fragment <Kind>``: part of a spec, applied merged into the first complete example of that
  kind (its top-level keys replace the example's, under ``spec`` unless it starts with ``spec``);
- ``yaml refused``: a complete object the API server refuses with the message quoted in the
  ```text block that follows it;
- ``yaml kustomization``: a kustomization.yaml over ``manifests/base``, built with the real
  kubectl by tests/integration/test_chart_kustomize_overlay.py.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from polling import eventually
from resources import adopt_checkout, get, read_status, ready_condition, rollout_status
from running_operator import RunningOperator
from slokeeper.localcluster.cluster import LocalCluster
from slokeeper.localcluster.toolchain import pinned_versions
from slokeeper.simulator.server import TrafficSimulator

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md")))
KINDS = ("yaml", "yaml fragment", "yaml refused", "yaml kustomization")
PROMETHEUS_OPERATOR = "github.com/prometheus-operator/prometheus-operator"
FENCE = re.compile(r"^(?P<indent> *)```(?P<info>[^`]*)$")


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the opening fence, 1-based
    info: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def kind(self) -> str:
        words = self.info.split()
        return " ".join(words[:2]) if words[1:2] == ["fragment"] else " ".join(words)

    def documents(self) -> list[dict[str, Any]]:
        return [doc for doc in yaml.safe_load_all(self.text) if doc is not None]


def fenced_blocks(page: Path) -> list[Block]:
    """Every fenced block of a Markdown page, with its info string, dedented."""
    blocks: list[Block] = []
    lines = page.read_text().split("\n")
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent = len(opening["indent"])
        end = next(i for i in range(index + 1, len(lines)) if lines[i].strip() == "```")
        body = "\n".join(line[indent:] for line in lines[index + 1 : end])
        blocks.append(Block(page, index + 1, opening["info"].strip(), body))
        index = end + 1
    return blocks


ALL_BLOCKS = [block for page in PAGES for block in fenced_blocks(page)]
YAML_BLOCKS = [block for block in ALL_BLOCKS if block.info.split()[:1] == ["yaml"]]


def _blocks(kind: str) -> list[Block]:
    return [block for block in YAML_BLOCKS if block.kind == kind]


def _ids(blocks: list[Block]) -> list[str]:
    return [block.where for block in blocks]


def _is_object(document: Any) -> bool:
    return isinstance(document, dict) and {"apiVersion", "kind", "metadata"} <= set(document)


def _base_objects() -> dict[str, dict[str, Any]]:
    """The first complete example of each kind, into which fragments of that kind go."""
    found: dict[str, dict[str, Any]] = {}
    for block in _blocks("yaml"):
        for document in block.documents():
            found.setdefault(document["kind"], document)
    return found


def _with_fragment(block: Block) -> dict[str, Any]:
    (fragment,) = block.documents()
    kind = block.info.split()[2]
    merged = copy.deepcopy(_base_objects()[kind])
    merged["metadata"]["name"] = f"fragment-{block.line}"
    if "spec" in fragment:
        merged["spec"].update(fragment["spec"])
    else:
        merged["spec"].update(fragment)
    return merged


@pytest.fixture
def fresh_namespace(cluster: LocalCluster) -> Iterator[str]:
    """A namespace no operator watches: these tests are about what the API server accepts."""
    name = f"readme-{secrets.token_hex(4)}"
    cluster.kubectl("create", "namespace", name)
    yield name
    cluster.kubectl("delete", "namespace", name, "--wait=false")


@pytest.fixture(scope="module")
def foreign_crds(cluster: LocalCluster) -> Iterator[None]:
    """The CRDs of the prometheus-operator kinds the pages show (a ThanosRuler for Thanos Ruler),
    from the prometheus-operator module (as the toolchain build gets it); removed afterwards."""
    kinds = {
        document["kind"]
        for block in _blocks("yaml")
        for document in block.documents()
        if document["apiVersion"].startswith("monitoring.coreos.com/")
    }
    version = pinned_versions()["PROMETHEUS_OPERATOR_VERSION"]
    downloaded = subprocess.run(
        ["go", "mod", "download", "-json", f"{PROMETHEUS_OPERATOR}@{version}"],
        capture_output=True, text=True, check=True, timeout=300,
    )  # fmt: skip
    examples = Path(json.loads(downloaded.stdout)["Dir"]) / "example/prometheus-operator-crd"
    files = [examples / f"monitoring.coreos.com_{kind.lower()}s.yaml" for kind in sorted(kinds)]
    for file in files:
        assert file.exists(), f"{file} is missing from the prometheus-operator module"
        cluster.kubectl("apply", "--server-side", "-f", str(file), timeout=120)
    for file in files:
        crd = file.name.removeprefix("monitoring.coreos.com_").removesuffix(".yaml")
        eventually(
            lambda crd=crd: _conditions(cluster, f"crd/{crd}.monitoring.coreos.com"),
            lambda conditions: conditions.get("Established") == "True",
            f"the {crd} CRD to be established",
            timeout=180,
        )
    yield
    for file in files:
        cluster.kubectl("delete", "-f", str(file), "--wait=false")


def _conditions(cluster: LocalCluster, name: str) -> dict[str, str]:
    body = json.loads(cluster.kubectl("get", name, "-o", "json").stdout)
    return {c["type"]: c["status"] for c in body.get("status", {}).get("conditions") or []}


def _apply(cluster: LocalCluster, namespace: str, document: dict[str, Any]) -> Any:
    placed = copy.deepcopy(document)
    placed["metadata"]["namespace"] = namespace
    return cluster.kubectl("apply", "-f", "-", input_text=yaml.safe_dump(placed), check=False)


def test_every_yaml_example_is_marked_and_the_pages_show_every_kind() -> None:
    unmarked = [b.where for b in YAML_BLOCKS if b.kind not in KINDS]
    assert not unmarked, f"info string not one of {KINDS}: {unmarked}"
    for block in _blocks("yaml") + _blocks("yaml refused"):
        documents = block.documents()
        assert documents, f"{block.where}: empty"
        fragments = [d for d in documents if not _is_object(d)]
        assert not fragments, f"{block.where}: not a whole object; mark it `yaml fragment <Kind>`"
    shown = {d["kind"] for block in _blocks("yaml") for d in block.documents()}
    assert {"ServiceLevelObjective", "ChangeRollout", "ChangePolicy", "MaintenanceWindow"} <= shown
    for block in _blocks("yaml fragment"):
        named = [*block.info.split(), ""][2]
        assert named in shown, (
            f"{block.where}: `yaml fragment <Kind>` must name a kind with a complete example"
        )


@pytest.mark.usefixtures("crds_installed", "foreign_crds")
@pytest.mark.parametrize("block", _blocks("yaml"), ids=_ids(_blocks("yaml")))
def test_a_complete_example_is_accepted_as_written(
    block: Block, cluster: LocalCluster, fresh_namespace: str
) -> None:
    for document in block.documents():
        applied = _apply(cluster, fresh_namespace, document)
        assert applied.returncode == 0, f"{block.where}: {applied.stderr}"
        stored = json.loads(
            cluster.kubectl(
                "get", document["kind"], document["metadata"]["name"],
                "-n", fresh_namespace, "-o", "json",
            ).stdout
        )  # fmt: skip
        assert stored["spec"] == _with_defaults_of(stored["spec"], document["spec"])


def _with_defaults_of(stored: Any, written: Any) -> Any:
    """What was written, plus what the schema defaulted: the stored spec keeps every value the
    example sets (the API server pruned nothing the page shows)."""
    if isinstance(written, dict) and isinstance(stored, dict):
        return {**stored, **{k: _with_defaults_of(stored.get(k), v) for k, v in written.items()}}
    if isinstance(written, list) and isinstance(stored, list) and len(stored) == len(written):
        return [_with_defaults_of(s, w) for s, w in zip(stored, written, strict=True)]
    return written


@pytest.mark.usefixtures("crds_installed")
@pytest.mark.parametrize("block", _blocks("yaml fragment"), ids=_ids(_blocks("yaml fragment")))
def test_a_fragment_is_accepted_in_its_place(
    block: Block, cluster: LocalCluster, fresh_namespace: str
) -> None:
    merged = _with_fragment(block)
    applied = _apply(cluster, fresh_namespace, merged)
    assert applied.returncode == 0, f"{block.where}: {applied.stderr}"
    stored = json.loads(
        cluster.kubectl(
            "get", merged["kind"], merged["metadata"]["name"], "-n", fresh_namespace, "-o", "json"
        ).stdout
    )
    assert stored["spec"] == _with_defaults_of(stored["spec"], merged["spec"])


def _quoted_refusal(block: Block) -> list[str]:
    """The lines of the ```text block after ``block`` that follow its `$ kubectl apply` line."""
    following = ALL_BLOCKS[ALL_BLOCKS.index(block) + 1]
    assert (following.page, following.info) == (block.page, "text"), (
        f"{block.where}: a refused example is followed by the ```text block quoting the refusal"
    )
    quoted = following.text.strip().split("\n")
    assert quoted[0].startswith("$ kubectl apply"), following.where
    return [line.strip() for line in quoted[1:] if line.strip()]


@pytest.mark.usefixtures("crds_installed")
@pytest.mark.parametrize("block", _blocks("yaml refused"), ids=_ids(_blocks("yaml refused")))
def test_a_refused_example_is_refused_with_the_quoted_message(
    block: Block, cluster: LocalCluster, fresh_namespace: str
) -> None:
    quoted = _quoted_refusal(block)
    assert quoted, f"{block.where}: no refusal quoted"
    for document in block.documents():
        applied = _apply(cluster, fresh_namespace, document)
        assert applied.returncode != 0, f"{block.where} was accepted: {applied.stdout}"
        said = " ".join(applied.stderr.split())
        for line in quoted:
            assert " ".join(line.split()) in said, f"{block.where}: the page quotes {line!r}"


def _five_minute_story() -> tuple[Block, Block, list[str]]:
    """README's first SLO, its first ChangeRollout, and the commands shown with them."""
    section = fenced_blocks(ROOT / "README.md")
    slo, rollout = [b for b in section if b.info == "yaml"][:2]
    after = next(b for b in section if b.info == "sh" and b.line > rollout.line)
    return slo, rollout, after.text.split("\n")


def _in_namespace(block: Block, namespace: str) -> dict[str, Any]:
    """The example moved from namespace shop, in its metadata and in its queries, to ours."""
    (document,) = yaml.safe_load_all(
        block.text.replace("namespace: shop", f"namespace: {namespace}").replace(
            'namespace="shop"', f'namespace="{namespace}"'
        )
    )
    assert document["metadata"]["namespace"] == namespace
    return dict(document)


def test_the_first_slo_and_changerollout_work_as_the_readme_says(
    cluster: LocalCluster,
    api_client: client.ApiClient,
    simulator: TrafficSimulator,
    operator_process: RunningOperator,
    namespace: str,
) -> None:
    slo_block, rollout_block, commands = _five_minute_story()
    slo, rollout = _in_namespace(slo_block, namespace), _in_namespace(rollout_block, namespace)
    # 4 Ready pods of checkout 1.1 serving traffic, then the two examples, as a user applies them.
    adopt_checkout(cluster, api_client, namespace, slo, rollout)
    evaluated = eventually(
        lambda: read_status(cluster, "slo", namespace, "checkout-availability"),
        lambda s: ready_condition(s).get("reason") == "Evaluated",
        "the README's SLO to be evaluated from the pods' metrics",
        timeout=120,
    )
    assert evaluated["sliRatio"] > 0.99
    assert get(cluster, "deployment", namespace, "checkout")["spec"]["paused"] is True

    # The command the README ships with, in our namespace.
    (ship,) = [c for c in commands if c.startswith("kubectl set image")]
    words = ship.split("#")[0].split()
    assert words[words.index("-n") + 1] == "shop"
    words[words.index("-n") + 1] = namespace
    cluster.kubectl(*words[1:])
    first = eventually(
        lambda: rollout_status(cluster, namespace),
        lambda s: any(
            (step.get("lastAnalysis") or {}).get("outcome") in {"Pass", "Fail"}
            for step in (s.get("current") or {}).get("steps", [])
        ),
        "the canary's first verdict (once it served 100 requests)",
        timeout=180,
    )
    step = first["current"]["steps"][0]
    assert (first["phase"], step["weight"]) == ("Progressing", 5), first
    assert step["lastAnalysis"]["outcome"] == "Pass", step
    measured = [m["name"] for m in step["lastAnalysis"]["measurements"]]
    assert any(name.startswith("slo/checkout-availability") for name in measured), measured
    canary = get(cluster, "deployment", namespace, "checkout-canary")
    (container,) = canary["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "shop/checkout:1.2"
