"""``slokeeper completion bash|zsh|fish``: a shell completion script written from the command's
own argparse parser, so it completes exactly the commands and flags that exist (no dependency).

What it completes: command and sub-command names, each command's flags, and the values of flags
that have a fixed set (``-o table|json|yaml``); anything else falls back to file names. zsh uses
the bash script through ``bashcompinit``, as kubectl's users do with many tools.
"""

from __future__ import annotations

import argparse
import shlex
import sys

from slokeeper.cli.global_flags import subcommands, walk

PROGRAMS = ("slokeeper", "kubectl-slo")


def _words(command: argparse.ArgumentParser) -> list[str]:
    """What may follow a command: its sub-commands or the values of a positional with a fixed
    set (``completion bash``), and its flags."""
    names = [
        str(choice)
        for action in command._actions
        if not action.option_strings and action.choices
        for choice in action.choices
    ]
    flags = [flag for a in command._actions for flag in a.option_strings if flag.startswith("--")]
    return names + flags


def _choices(command: argparse.ArgumentParser) -> dict[str, list[str]]:
    return {
        flag: [str(choice) for choice in action.choices]
        for action in command._actions
        if action.option_strings and action.choices
        for flag in action.option_strings
    }


def _subcommand_names(command: argparse.ArgumentParser) -> str:
    action = subcommands(command)
    return " ".join(action.choices) if action is not None else ""


def bash_script(parser: argparse.ArgumentParser) -> str:
    cases, values, subs = [], [], []
    for path, command in walk(parser):
        key = " ".join(path)
        if subcommands(command) is not None:
            subs.append(
                f"      {shlex.quote(key)}) subs={shlex.quote(_subcommand_names(command))} ;;"
            )
        cases.append(f"    {shlex.quote(key)}) words={shlex.quote(' '.join(_words(command)))} ;;")
        for flag, choices in _choices(command).items():
            shown = shlex.quote(" ".join(choices))
            values.append(f"    {shlex.quote(key + ' ' + flag)}) words={shown} ;;")
    return f"""# slokeeper completion for bash: source <(slokeeper completion bash)
_slokeeper() {{
  local cur="${{COMP_WORDS[COMP_CWORD]}}" prev="${{COMP_WORDS[COMP_CWORD-1]}}" path="" words="" i
  local subs
  for ((i = 1; i < COMP_CWORD; i++)); do
    subs=""
    case "$path" in
{chr(10).join(subs)}
    esac
    case " $subs " in *" ${{COMP_WORDS[i]}} "*) path="${{path:+$path }}${{COMP_WORDS[i]}}" ;; esac
  done
  case "$path $prev" in
{chr(10).join(values)}
    *)
      case "$path" in
{chr(10).join("  " + case for case in cases)}
      esac ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  [[ ${{#COMPREPLY[@]}} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
  return 0
}}
complete -F _slokeeper {" ".join(PROGRAMS)}
"""


def zsh_script(parser: argparse.ArgumentParser) -> str:
    return (
        "# slokeeper completion for zsh: source <(slokeeper completion zsh)\n"
        "autoload -U +X bashcompinit && bashcompinit\n" + bash_script(parser)
    )


def fish_script(parser: argparse.ArgumentParser) -> str:
    lines = [
        "# slokeeper completion for fish: slokeeper completion fish | source",
        "# __slokeeper_at WORDS…: the command line so far names exactly this (sub-)command",
        "function __slokeeper_at",
        "    set -l path ''",
        "    for word in (commandline -opc)[2..-1]",
        "        set -l subs",
        "        switch $path",
        *(
            f"            case {shlex.quote(' '.join(path))}\n"
            f"                set subs {_subcommand_names(command)}"
            for path, command in walk(parser)
            if subcommands(command) is not None
        ),
        "        end",
        "        if contains -- $word $subs",
        '            set path (string trim -- "$path $word")',
        "        end",
        "    end",
        '    test "$path" = "$argv"',
        "end",
    ]
    for program in PROGRAMS:
        lines.append(f"complete -c {program} -f")
        for path, command in walk(parser):
            lines += _fish_lines(program, path, command)
    return "\n".join(lines) + "\n"


def _fish_lines(program: str, path: tuple[str, ...], command: argparse.ArgumentParser) -> list[str]:
    """fish's completions of one (sub-)command: its sub-commands with their help, the values of
    a positional with a fixed set, its flags and their values."""
    start = f"complete -c {program} -n " + shlex.quote(" ".join(("__slokeeper_at", *path)))
    action = subcommands(command)
    lines = [
        f"{start} -a {choice.dest} -d {shlex.quote(choice.help or '')}"
        for choice in (action._choices_actions if action is not None else ())
    ]
    values = [word for word in _words(command) if not word.startswith("-")]
    if action is None and values:
        lines.append(f"{start} -a {shlex.quote(' '.join(values))}")
    choices = _choices(command)
    for flag in (f for a in command._actions for f in a.option_strings):
        option = f"-l {flag[2:]}" if flag.startswith("--") else f"-s {flag[1:]}"
        fixed = choices.get(flag)
        lines.append(
            f"{start} {option}" + (f" -x -a {shlex.quote(' '.join(fixed))}" if fixed else "")
        )
    return lines


SCRIPTS = {"bash": bash_script, "zsh": zsh_script, "fish": fish_script}


def add_parser(
    subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
    root: argparse.ArgumentParser,
) -> None:
    parser = subparsers.add_parser(
        "completion",
        help="print a shell completion script",
        description="bash: source <(slokeeper completion bash); zsh: source <(slokeeper "
        "completion zsh); fish: slokeeper completion fish | source",
    )
    parser.add_argument("shell", choices=tuple(SCRIPTS))
    parser.set_defaults(run=lambda args: _print(SCRIPTS[args.shell](root)))


def _print(script: str) -> int:
    sys.stdout.write(script)
    return 0
