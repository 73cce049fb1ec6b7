"""User story: an SRE installs with kustomize from a pinned release of manifests/base and sets
their Prometheus with a patch that names the container and the variable (a strategic merge patch),
so the patch still lands where meant when the chart adds or reorders variables; an index-based
JSON patch would silently overwrite whatever variable moved into its slot.

The overlay is the one docs/install.md shows, with its remote base (``?ref=`` pinned to the chart's
version) pointed at this checkout's manifests/base; kubectl's own kustomize builds it."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from helm import CHART
from slokeeper.localcluster.toolchain import Toolchain

REPO = CHART.parents[1]
VERSION = yaml.safe_load((CHART / "Chart.yaml").read_text())["appVersion"]
REMOTE_BASE = f"https://github.com/slokeeper/slokeeper//manifests/base?ref=v{VERSION}"
INSTALL_PAGE = REPO / "docs" / "install.md"


def _overlay_shown() -> str:
    """The overlay docs/install.md shows (its one ``yaml kustomization`` block)."""
    (shown,) = re.findall(r"```yaml kustomization\n(.*?)```", INSTALL_PAGE.read_text(), re.S)
    return shown


def _built(toolchain: Toolchain, overlay: str, directory: Path) -> list[dict[str, Any]]:
    directory.mkdir()
    local_base = os.path.relpath(REPO / "manifests" / "base", directory)
    (directory / "kustomization.yaml").write_text(overlay.replace(REMOTE_BASE, local_base))
    built = subprocess.run(
        [str(toolchain.kubectl), "kustomize", str(directory)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    return [document for document in yaml.safe_load_all(built) if document]


def _environment(documents: list[dict[str, Any]]) -> dict[str, str]:
    deployment = next(d for d in documents if d["kind"] == "Deployment")
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in container["env"] if "value" in e}


def test_the_readme_overlay_sets_prometheus_by_name_from_a_pinned_base(
    toolchain: Toolchain, tmp_path: Path
) -> None:
    overlay = _overlay_shown()
    assert REMOTE_BASE in overlay, f"docs/install.md pins the base of this release: {REMOTE_BASE}"
    plain = f"resources: [{REMOTE_BASE}]\n"
    base = _environment(_built(toolchain, plain, tmp_path / "plain"))
    patched_documents = _built(toolchain, overlay, tmp_path / "overlay")
    patched = _environment(patched_documents)
    assert patched["SLOKEEPER_PROMETHEUS_URL"] == "http://prometheus.monitoring.svc:9090"
    assert base["SLOKEEPER_PROMETHEUS_URL"] != patched["SLOKEEPER_PROMETHEUS_URL"]
    # Every other variable is as the base has it: the patch touched only the one it names.
    del base["SLOKEEPER_PROMETHEUS_URL"], patched["SLOKEEPER_PROMETHEUS_URL"]
    assert patched == base
    assert len(patched_documents) > 10, "the whole base, CRDs and RBAC included"
