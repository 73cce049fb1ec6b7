"""README's promises to a new user: it starts with what slokeeper needs (the versions it states are
the ones the chart demands and the tests run), how to install it and a first SLO, and it keeps the
project's two commands exactly as `.ci/run` and the Makefile know them."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

from slokeeper.localcluster.toolchain import pinned_versions

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()
TWO_COMMANDS = (
    "make demo   # the demo: the operator on a local control plane, a canary promoted, "
    "a bad one rolled back\n"
    "make test   # every test: lint, unit, and integration tests on the real control plane "
    "and Prometheus\n"
)


def _section(heading: str) -> str:
    start = README.index(f"\n## {heading}\n")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def _headings() -> list[str]:
    return re.findall(r"^## (.+)$", README, flags=re.MULTILINE)


def test_the_readme_starts_with_the_user_and_then_the_two_commands() -> None:
    headings = _headings()
    first = ["What it needs", "Install", "A first SLO and a first ChangeRollout, in five minutes"]
    assert headings[:4] == [*first, "Two commands"], headings
    for later in ("Documentation", "CLI", "Configuration reference", "Scaling", "Traffic routing"):
        assert later in headings[4:], later


def test_the_two_commands_stay_as_the_project_runs_them() -> None:
    assert f"```sh\n{TWO_COMMANDS}```" in _section("Two commands")
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^demo: ", makefile, flags=re.MULTILINE)
    assert re.search(r"^test: ", makefile, flags=re.MULTILINE)
    assert "\nmake test\n" in (ROOT / ".ci" / "run").read_text()


def test_what_it_needs_names_the_versions_the_chart_demands_and_the_tests_use() -> None:
    needs = _section("What it needs")
    chart = yaml.safe_load((ROOT / "charts" / "slokeeper" / "Chart.yaml").read_text())
    minimum = re.fullmatch(r">=(\d+\.\d+)\.0-0", chart["kubeVersion"])
    assert minimum, chart["kubeVersion"]
    assert f"Kubernetes {minimum[1]} or newer" in needs
    assert f"`kubeVersion: {chart['kubeVersion']}`" in needs
    versions = pinned_versions()
    assert f"Tested on {versions['KUBERNETES_VERSION']}." in needs
    assert f"Tested with Prometheus {versions['PROMETHEUS_VERSION']};" in needs
    assert f"tested with its {versions['PROMETHEUS_OPERATOR_VERSION']} CRDs" in needs
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    python = project["requires-python"].removeprefix(">=")
    assert f"Python {python} or newer" in needs
