"""User story: a team moving from Sloth, Pyrra or OpenSLO runs `slokeeper import` and gets SLOs
whose rules the real promtool accepts, ready to apply."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from promtool import promtool
from slokeeper.localcluster.toolchain import Toolchain

EXAMPLES = Path(__file__).resolve().parents[1] / "unit" / "cli" / "migration"


def slokeeper(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "slokeeper.cli.main", *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_imported_slos_render_rules_promtool_accepts(toolchain: Toolchain, tmp_path: Path) -> None:
    converted = []
    for tool, files in (
        ("sloth", ("sloth-spec.yaml", "sloth-crd.yaml")),
        ("pyrra", ("pyrra.yaml",)),
    ):
        imported = slokeeper("import", tool, *(str(EXAMPLES / f) for f in files))
        assert imported.stdout.count("kind: ServiceLevelObjective") >= 2, imported.stderr
        path = tmp_path / f"{tool}.yaml"
        path.write_text(imported.stdout)
        converted.append(str(path))
    rules = slokeeper("rules", *converted)
    assert rules.returncode == 0, rules.stderr
    rule_file = tmp_path / "rules.yaml"
    rule_file.write_text(rules.stdout)
    checked = promtool(toolchain.promtool, "check", "rules", str(rule_file))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS" in checked.stdout
