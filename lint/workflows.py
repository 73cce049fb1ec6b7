"""Workflow check, run by `make lint`: actionlint on every file in .github/workflows.

actionlint comes from the Go module proxy like the rest of the toolchain (versions.env pins it;
``build.sh --only actionlint`` builds it into the cache once, in seconds). Fails with actionlint's
own messages (`file:line:col: ...`) when a workflow has an error.

Run: .venv/bin/python lint/workflows.py [FILE ...]   (default: .github/workflows/*.y*ml)
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from slokeeper.localcluster.toolchain import BUILD_SCRIPT, cache_root, pinned_versions

REPO = Path(__file__).resolve().parents[1]
WORKFLOWS = REPO / ".github" / "workflows"


def actionlint() -> Path:
    """The pinned actionlint binary, built first when the cache lacks it."""
    version = pinned_versions()["ACTIONLINT_VERSION"]
    binary = cache_root() / f"actionlint-{version}" / "actionlint"
    if not (binary.parent / ".complete").is_file():
        subprocess.run(["bash", str(BUILD_SCRIPT), "--only", "actionlint"], check=True)
    if not binary.is_file():
        raise SystemExit(f"actionlint {version} is missing at {binary} after {BUILD_SCRIPT} ran")
    return binary


def run_actionlint(*files: Path) -> subprocess.CompletedProcess[str]:
    """actionlint's verdict on ``files`` (its exit code and messages)."""
    return subprocess.run(
        [str(actionlint()), "-no-color", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


def main(argv: list[str]) -> int:
    files = [Path(a) for a in argv] or sorted([*WORKFLOWS.glob("*.yaml"), *WORKFLOWS.glob("*.yml")])
    if not files:
        print(f"no workflow files in {WORKFLOWS}", file=sys.stderr)
        return 1
    verdict = run_actionlint(*files)
    sys.stdout.write(verdict.stdout)
    sys.stderr.write(verdict.stderr)
    if verdict.returncode == 0:
        print(f"actionlint: {len(files)} workflow file(s) clean")
    return verdict.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
