"""A reader types a `slokeeper …` command from README.md, CONTRIBUTING.md or docs/: every
sub-command it names exists, and every flag is one that command takes (with a value among its
choices, where it has choices). Synopses are read as such: `[--watch]` is optional, `a|b` are
alternatives, upper-case words and `…` are placeholders."""

from __future__ import annotations

import argparse
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from slokeeper.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[2]
PAGES = (ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md")))
FENCE = re.compile(r"^\s*```(?P<info>[^`]*)$")
# The command, alone, from a bin/ directory or with sudo; `kubectl slo …` is the same.
COMMAND = re.compile(r"^(?:sudo\s+)?(?:\S*bin/)?(?:slokeeper|kubectl slo)(?= |$)(?P<rest>.*)")


@dataclass(frozen=True)
class Example:
    where: str
    line: str

    @property
    def words(self) -> list[str]:
        match = COMMAND.match(self.line)
        assert match, self.line
        text = match["rest"].replace("\\|", "|").split(" # ")[0]
        try:
            words = shlex.split(text)
        except ValueError:  # an unbalanced quote in a synopsis
            words = text.split()
        shell = next((i for i, w in enumerate(words) if w in {">", "|", "&&", ";", "2>&1"}), None)
        return words[:shell]


def _shell_lines(info: str, body: list[str]) -> list[str]:
    if info in {"sh", "bash", "shell", "console"}:
        joined = "\n".join(body).replace("\\\n", " ")
        return [line for line in joined.split("\n") if not line.lstrip().startswith("#")]
    if info == "text":  # a transcript: only what was typed
        return [line[2:] for line in body if line.startswith("$ ")]
    return []


def examples() -> list[Example]:
    found: list[Example] = []
    for page in PAGES:
        lines = page.read_text().split("\n")
        name = page.relative_to(ROOT)
        index = 0
        while index < len(lines):
            fence = FENCE.match(lines[index])
            if fence:
                end = next(i for i in range(index + 1, len(lines)) if FENCE.match(lines[i]))
                for line in _shell_lines(fence["info"].strip(), lines[index + 1 : end]):
                    if COMMAND.match(line.strip()):
                        found.append(Example(f"{name}:{index + 1}", line.strip()))
                index = end + 1
                continue
            for span in re.findall(r"`([^`]+)`", lines[index]):
                if COMMAND.match(span):
                    found.append(Example(f"{name}:{index + 1}", span))
            index += 1
    return found


EXAMPLES = examples()


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _option(parsers: list[argparse.ArgumentParser], flag: str) -> argparse.Action | None:
    for parser in parsers:
        if flag in parser._option_string_actions:
            return parser._option_string_actions[flag]
    return None


def _every_parser(parser: argparse.ArgumentParser) -> list[argparse.ArgumentParser]:
    return [parser, *(p for sub in _subcommands(parser).values() for p in _every_parser(sub))]


def _placeholder(word: str) -> bool:
    return word in {"…", "...", ""} or word.endswith("…") or bool(re.fullmatch(r"[A-Z_=]+", word))


def problems(example: Example) -> list[str]:
    """What in the example the real command line would not take."""
    root = build_parser()
    level, siblings = [root], dict[str, argparse.ArgumentParser]()
    path: list[str] = []
    said: list[str] = []
    early: list[str] = []  # flags before the command's name, read by the command (as kubectl's)
    positional = False
    words = example.words
    index = 0
    while index < len(words):
        parts = [p.strip("[]") for p in words[index].split("|")]
        index += 1
        for flag in (p for p in parts if p.startswith("-")):
            name, _, inline = flag.partition("=")
            action = _option(level, name)
            if action is None:
                action = _option(_every_parser(root), name) if not path else None
                if action is None:
                    said.append(f"slokeeper {' '.join(path)}: no flag {name}")
                    continue
                early.append(name)
            if action.nargs == 0 or inline:
                continue
            value = words[index].strip("[]") if index < len(words) else ""
            index += 1
            for choice in value.split("|"):
                if action.choices and not _placeholder(choice) and choice not in action.choices:
                    said.append(f"slokeeper {' '.join(path)} {name}: {choice!r} is no choice")
        names = [p for p in parts if p and not p.startswith("-")]
        commands = {name: sub for parser in level for name, sub in _subcommands(parser).items()}
        if not names or positional:
            continue
        if commands:
            unknown = [n for n in names if n not in commands and not _placeholder(n)]
            if unknown:
                return [*said, f"`{' '.join([*path, unknown[0]])}`: no such command"]
            level, siblings = [commands[n] for n in names if n in commands], commands
            path.append("|".join(names))
        elif all(n in siblings for n in names):  # `abort|promote [--force]|retry`: more of them
            level += [siblings[n] for n in names]
            path[-1] += "|" + "|".join(names)
        else:
            positional = True
    said += [f"slokeeper {' '.join(path)}: no flag {f}" for f in early if not _option(level, f)]
    return said


def test_commands_are_found_on_every_page_that_shows_them() -> None:
    assert len(EXAMPLES) > 60
    pages = {e.where.split(":")[0] for e in EXAMPLES}
    assert {"README.md", "docs/cli.md", "docs/change-rollouts.md"} <= pages


def test_a_wrong_command_or_flag_is_caught() -> None:
    assert problems(Example("x", "slokeeper rollout stat checkout")) == [
        "`rollout stat`: no such command"
    ]
    assert problems(Example("x", "slokeeper status --watch")) == [
        "slokeeper status: no flag --watch"
    ]
    assert problems(Example("x", "slokeeper rollout status x -o xml")) == [
        "slokeeper rollout status -o: 'xml' is no choice"
    ]
    assert problems(Example("x", "slokeeper rollout abort|promote [--force] x [--reason …]")) == []


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.where} {e.line[:60]}" for e in EXAMPLES])
def test_every_documented_command_is_one_the_cli_takes(example: Example) -> None:
    assert problems(example) == [], example.line
