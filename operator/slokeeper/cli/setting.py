"""One configuration setting of ``slokeeper run``: its flag, environment variable, default,
parser and help, declared once as a row of ``settings_table`` and turned here into an argparse
argument (the help names the variable and the default) and a row of README's configuration table.

An empty environment variable counts as unset, as the Helm chart leaves optional ones empty.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

TRUE_WORDS = ("1", "true", "yes")


class Kind(Enum):
    VALUE = "value"  # --flag VALUE; the variable holds the value
    SWITCH = "switch"  # --flag; the variable turns it on with true, 1 or yes
    LIST = "list"  # --flag VALUE, repeatable; the variable holds the items comma-separated


@dataclass(frozen=True)
class Setting:
    """One row of the settings table.

    Parameters:
        flags: the option strings, e.g. ``("-n", "--namespace")``.
        env: the environment variable, or None for a flag without one.
        help: what it does, one phrase; the variable and the default are added to it.
        default: the default as text, as the variable would hold it (None: unset).
        parse: turns the text into the value (argparse's ``type``).
        shown_default: the default in words, where the text alone would not say it.
        flag_replaces_env: for a LIST, whether the flag's items replace the variable's (the
            consumer then reads the variable, see ``env_text``) or add to them.
        chart: the Helm chart value(s) that set the variable (Markdown); None: the chart leaves
            the variable unset.
        chart_default: the chart's default, where it differs from the command's.
        doc: README's meaning column (Markdown), where it says more or other than ``help``.
    """

    flags: tuple[str, ...]
    env: str | None
    help: str
    default: str | None = None
    parse: Callable[[str], Any] | None = None
    kind: Kind = Kind.VALUE
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    shown_default: str | None = None
    flag_replaces_env: bool = False
    chart: str | None = None
    chart_default: str | None = None
    doc: str | None = None

    def env_text(self) -> str | None:
        """The variable's value; None when it is unset or empty."""
        return (os.environ.get(self.env) or None) if self.env else None

    def _default(self) -> Any:
        text = self.env_text()
        if self.kind is Kind.SWITCH:
            return text is not None and text.lower() in TRUE_WORDS
        if self.kind is Kind.LIST:
            if self.flag_replaces_env:
                return None
            return [item for item in (text or "").split(",") if item]
        return text if text is not None else self.default  # a string: argparse parses it

    def shown(self) -> str | None:
        if self.shown_default is not None:
            return self.shown_default
        return self.default

    def help_text(self) -> str:
        notes = []
        if self.kind is Kind.LIST:
            notes.append("repeatable")
        if self.env and self.kind is Kind.LIST:
            joined = "replaces" if self.flag_replaces_env else "adds to"
            notes.append(f"env {self.env}, comma-separated; the flag {joined} it")
        elif self.env:
            notes.append(f"env {self.env}" + ("=true" if self.kind is Kind.SWITCH else ""))
        if self.shown() is not None:
            notes.append(f"default {self.shown()}")
        text = f"{self.help} ({'; '.join(notes)})" if notes else self.help
        return text.replace("%", "%%")

    def add_to(self, parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
        options: dict[str, Any] = {"default": self._default(), "help": self.help_text()}
        if self.kind is Kind.SWITCH:
            options["action"] = "store_true"
        else:
            options.update(type=self.parse, choices=self.choices, metavar=self.metavar)
            if self.kind is Kind.LIST:
                options["action"] = "append"
        parser.add_argument(*self.flags, **options)

    def markdown_row(self) -> str:
        """This setting as a row of README's configuration table."""
        metavar = f" {self.metavar}" if self.metavar else ""
        repeatable = " (repeatable)" if self.kind is Kind.LIST else ""
        flag = "`" + "/".join(self.flags) + metavar + "`" + repeatable
        env = "—"
        if self.env:
            env = f"`{self.env}=true`" if self.kind is Kind.SWITCH else f"`{self.env}`"
            env += " (comma-separated)" if self.kind is Kind.LIST else ""
        default = self.shown()
        shown = "off" if self.kind is Kind.SWITCH else "none" if default is None else default
        if self.shown_default is None and default is not None:
            shown = f"`{default}`"
        if self.chart_default is not None:
            shown += f" (chart: `{self.chart_default}`)"
        cells = (flag, env, self.chart or "—", shown, self.doc or self.help)
        return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def add_settings(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, settings: Iterable[Setting]
) -> None:
    for setting in settings:
        setting.add_to(parser)
