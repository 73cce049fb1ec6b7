"""`slokeeper completion bash|zsh|fish` completes the commands and flags that exist, written from
the parser itself; the bash script is run in bash as a user's shell would run it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from slokeeper.cli.main import main


def _script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def _complete(script: Path, *words: str) -> list[str]:
    """What bash offers after ``words`` (the last one being typed)."""
    quoted = " ".join(f"'{w}'" for w in words)
    program = (
        f"source {script}; COMP_WORDS=(slokeeper {quoted}); COMP_CWORD={len(words)}; "
        '_slokeeper; printf "%s\\n" "${COMPREPLY[@]}"'
    )
    ran = subprocess.run(
        ["bash", "-c", program], capture_output=True, text=True, check=True, timeout=30
    )
    return ran.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completes_commands_actions_flags_and_their_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = tmp_path / "slokeeper.bash"
    script.write_text(_script("bash", capsys))
    assert _complete(script, "ro") == ["rollout"]
    assert _complete(script, "rollout", "pro") == ["promote"]
    # Past a global flag written first, as `slokeeper -n shop rollout …` allows.
    assert "list" in _complete(script, "-n", "shop", "rollout", "")
    assert set(_complete(script, "rollout", "promote", "checkout", "--f")) == {"--full", "--force"}
    assert _complete(script, "rollout", "status", "checkout", "-o", "") == ["table", "json", "yaml"]
    assert _complete(script, "completion", "") == ["bash", "zsh", "fish", "--help"]
    # `status` the command, not `rollout status`: its own flags.
    assert "--all-namespaces" in _complete(script, "status", "--")


def test_zsh_loads_the_bash_script_through_bashcompinit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    script = _script("zsh", capsys)
    assert script.splitlines()[1] == "autoload -U +X bashcompinit && bashcompinit"
    assert "complete -F _slokeeper slokeeper kubectl-slo" in script


def test_fish_completes_each_command_where_its_path_is_typed(
    capsys: pytest.CaptureFixture[str],
) -> None:
    lines = _script("fish", capsys).splitlines()
    assert (
        "complete -c slokeeper -n '__slokeeper_at rollout' -a get "
        "-d 'the ReplicaSets and pods of each revision, as a tree'"
    ) in lines
    assert "complete -c slokeeper -n '__slokeeper_at rollout promote' -l full" in lines, (
        "a flag of promote, offered only after `rollout promote`"
    )
    assert "complete -c slokeeper -n '__slokeeper_at completion' -a 'bash zsh fish'" in lines


def test_an_unknown_shell_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["completion", "powershell"])
    assert exited.value.code == 2
    assert "invalid choice: 'powershell'" in capsys.readouterr().err
