"""User story: in a pipeline, before anything reaches a cluster, `slokeeper validate` checks the
manifests' PromQL with the real promtool and points at the line of the broken query."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from invalid_resources import SAMPLES
from slokeeper.localcluster.toolchain import Toolchain

TYPO = """\
apiVersion: slokeeper.dev/v1alpha1
kind: ServiceLevelObjective
metadata:
  name: typo
spec:
  service: checkout
  target: 99.9
  indicator:
    ratio:
      errors: sum(rate(http_requests_total{code=~"5.."}[{{.window}}]))
      total: sum(rate(http_requests_total[{{.window}}])
"""


def validate(promtool: Path, *files: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", "validate", "--promtool", str(promtool),
         *map(str, files)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_samples_pass_and_a_promql_typo_is_pointed_at(toolchain: Toolchain, tmp_path: Path) -> None:
    samples = sorted(SAMPLES.glob("*.yaml"))
    passed = validate(toolchain.promtool, *samples)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"{len(samples)} file(s) valid (schema, API-server rules, PromQL)." in passed.stdout

    broken = tmp_path / "typo.yaml"
    broken.write_text(TYPO)
    failed = validate(toolchain.promtool, broken)
    assert failed.returncode == 1
    assert failed.stdout.startswith(f"{broken}:11: spec.indicator.ratio.total: PromQL 1:"), (
        failed.stdout
    )
    assert "unclosed left parenthesis" in failed.stdout
