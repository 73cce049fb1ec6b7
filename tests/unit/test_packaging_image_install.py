"""The Dockerfile's install steps, run on this host as the image build runs them (no container
engine here): the two RUN instructions of the build stage, with /opt moved into a temporary
directory. From requirements.lock alone, hashes enforced and no resolver, they must give an
environment where `pip check` finds nothing missing and the `slokeeper` command starts. Needs the
package index (PyPI), as the release build does."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def build_stage_runs() -> list[str]:
    """The shell of each RUN in the Dockerfile's build stage, continuation lines joined."""
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    stage = text.split("AS build", 1)[1].split("\nFROM ", 1)[0]
    return [match[1] for match in re.finditer(r"(?m)^RUN (.*)$", stage)]


def test_the_images_install_steps_give_a_working_operator_from_the_lock(tmp_path: Path) -> None:
    runs = build_stage_runs()
    assert len(runs) == 2
    assert all("--require-hashes" in run or "--no-deps" in run for run in runs)
    source = tmp_path / "src"
    (source / "wheels").mkdir(parents=True)
    (source / "locks").mkdir()
    shutil.copytree(REPO / "operator", source / "operator")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    for name in ("requirements.lock", "requirements-build.lock"):
        shutil.copy(REPO / name, source / "locks" / name)
    environment = {
        **os.environ,
        # As in the image build: the index only (this host's pip config adds a local wheelhouse).
        "PIP_FIND_LINKS": "",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_INSTALL_OPTIONS": "",
    }
    for run in runs:
        script = run.replace("/opt/", f"{tmp_path}/opt/").replace("/tmp/dist", f"{tmp_path}/dist")
        finished = subprocess.run(
            ["sh", "-c", script], cwd=source, env=environment,
            capture_output=True, text=True, timeout=400, check=False,
        )  # fmt: skip
        assert finished.returncode == 0, f"{script}\n{finished.stdout}\n{finished.stderr}"
    venv = tmp_path / "opt" / "slokeeper" / "bin"
    started = subprocess.run(
        [str(venv / "slokeeper"), "--help"], capture_output=True, text=True, check=False
    )
    assert started.returncode == 0, started.stderr
    assert "crds" in started.stdout
