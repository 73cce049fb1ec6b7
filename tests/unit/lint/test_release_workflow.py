"""The release workflow (.github/workflows/release.yaml) as far as it can be checked without
GitHub: actionlint passes on it (and bites on a broken copy), every action is pinned by commit,
its version step accepts only the tag that names Chart.yaml's version, and the image it pushes is
the one values.yaml points users at. The chart's rendered image is checked against the same
reference in tests/integration/test_chart_release.py."""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
WORKFLOW = REPO / ".github" / "workflows" / "release.yaml"
CHART = REPO / "charts" / "slokeeper"


def _lint_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("workflows_check", REPO / "lint" / "workflows.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _workflow() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text())
    return loaded


def _steps() -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = _workflow()["jobs"]["release"]["steps"]
    return steps


def _step(step_id: str) -> dict[str, Any]:
    return next(step for step in _steps() if step.get("id") == step_id)


def _chart() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CHART / "Chart.yaml").read_text())
    return loaded


def version_from_tag(tag: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """Runs the workflow's own version step, as the runner would, for a pushed ``tag``."""
    output = tmp_path / "github_output"
    output.write_text("")
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", _step("version")["run"]],
        env={
            **os.environ,
            "TAG": tag,
            "GITHUB_OUTPUT": str(output),
            **_workflow()["env"],
        },
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )


def test_actionlint_passes_on_the_release_workflow() -> None:
    verdict = _lint_module().run_actionlint(WORKFLOW)
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr


def test_actionlint_reports_a_step_output_that_does_not_exist(tmp_path: Path) -> None:
    broken = tmp_path / "release.yaml"
    text = WORKFLOW.read_text()
    broken.write_text(text.replace("steps.version.outputs", "steps.versoin.outputs"))
    verdict = _lint_module().run_actionlint(broken)
    assert verdict.returncode == 1
    assert "versoin" in verdict.stdout


def test_every_action_is_pinned_by_commit_with_its_version_beside_it() -> None:
    uses = [line.strip() for line in WORKFLOW.read_text().splitlines() if "uses:" in line]
    assert len(uses) >= 8
    unpinned = [u for u in uses if not re.search(r"@[0-9a-f]{40} # v\d+\.\d+\.\d+$", u)]
    assert not unpinned, f"pin these by commit (tag in a comment): {unpinned}"


def test_the_version_step_takes_the_tag_that_names_the_charts_version(tmp_path: Path) -> None:
    version = str(_chart()["appVersion"])
    assert str(_chart()["version"]) == version
    accepted = version_from_tag(f"v{version}", tmp_path)
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert (tmp_path / "github_output").read_text() == f"version={version}\n"


def test_a_tag_the_chart_does_not_name_stops_the_release(tmp_path: Path) -> None:
    refused = version_from_tag("v9.9.9", tmp_path)
    assert refused.returncode != 0
    assert "set both to 9.9.9 first" in refused.stdout
    assert (tmp_path / "github_output").read_text() == ""


def test_the_workflow_pushes_the_image_values_yaml_points_at() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    build = _step("build")["with"]
    pushed = build["tags"].replace("${{ env.IMAGE }}", _workflow()["env"]["IMAGE"])
    assert pushed == f"{values['image']['repository']}:${{{{ steps.version.outputs.version }}}}"
    assert values["image"]["tag"] == "", "the default tag is the chart's appVersion"
    assert build["push"] is True
    assert set(build["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}


@pytest.mark.parametrize(
    ("what", "needle"),
    [
        ("the image is signed keylessly", 'cosign sign --yes "$IMAGE@$DIGEST"'),
        ("an SBOM is attested to the image", "cosign attest --yes --type spdxjson"),
        ("the chart goes to the OCI repository", 'helm push "dist/slokeeper-$VERSION.tgz"'),
    ],
)
def test_the_release_signs_attests_and_pushes_the_chart(what: str, needle: str) -> None:
    runs = "\n".join(step.get("run", "") for step in _steps())
    assert needle in runs, what
    assert _workflow()["env"]["CHART_REPOSITORY"] == "oci://ghcr.io/slokeeper/charts"
    permissions = _workflow()["jobs"]["release"]["permissions"]
    assert permissions["id-token"] == "write"
    assert _workflow()["permissions"] == {}
