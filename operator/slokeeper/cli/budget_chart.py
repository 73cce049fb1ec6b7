"""Draws an SLO's report picture: error budget left over its window (with the budget policy's
lines) above the burn rate of each alert window (with the rate at which each alert fires)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from slokeeper.prometheus.slo_history import BurnRateLine, Threshold
from slokeeper.slo.objective import PolicyThreshold

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SEVERITY_STYLE = {"page": "--", "ticket": ":"}


@dataclass(frozen=True)
class ChartData:
    title: str
    subtitle: str
    start: datetime
    end: datetime
    budget: list[tuple[datetime, float]]
    burn_rates: list[BurnRateLine]
    thresholds: list[Threshold]
    policy: tuple[PolicyThreshold, ...]


class ChartsUnavailableError(RuntimeError):
    """matplotlib is not installed (it is an optional dependency of the CLI)."""


def draw(data: ChartData, path: Path) -> None:
    try:
        import matplotlib  # noqa: PLC0415 - optional, and only the report needs it

        matplotlib.use("Agg")
        from matplotlib import dates, pyplot  # noqa: PLC0415
    except ImportError as error:
        raise ChartsUnavailableError(
            "slokeeper report draws with matplotlib: pip install 'slokeeper[report]'"
        ) from error

    figure, (budget_axes, burn_axes) = pyplot.subplots(
        2, 1, figsize=(11, 8), dpi=110, sharex=True, gridspec_kw={"height_ratios": [1, 1.2]}
    )
    figure.suptitle(data.title, fontsize=14, fontweight="bold")
    budget_axes.set_title(data.subtitle, fontsize=10)
    _draw_budget(budget_axes, data)
    _draw_burn_rates(burn_axes, data, pyplot.rcParams["axes.prop_cycle"].by_key()["color"])
    locator = dates.AutoDateLocator()  # type: ignore[no-untyped-call]
    burn_axes.xaxis.set_major_locator(locator)
    burn_axes.xaxis.set_major_formatter(
        dates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    )
    burn_axes.set_xlim(data.start, data.end)
    burn_axes.set_xlabel("time (UTC)")
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def _draw_budget(axes: Axes, data: ChartData) -> None:
    """Error budget left (%) over time, with a line where each budget policy action starts."""
    if data.budget:
        times, left = zip(*data.budget, strict=True)
        axes.plot(times, [100 * v for v in left], color="tab:blue", linewidth=2)
        axes.fill_between(times, [100 * v for v in left], 0, alpha=0.15, color="tab:blue")
    for threshold in data.policy:
        axes.axhline(threshold.below_percent, color="tab:red", linestyle="--", linewidth=1)
        axes.annotate(
            f"below {threshold.below_percent:g} %: {threshold.action.value}",
            xy=(0.01, threshold.below_percent),
            xycoords=("axes fraction", "data"),
            fontsize=8,
            color="tab:red",
            va="bottom",
        )
    axes.axhline(0, color="black", linewidth=0.8)
    axes.set_ylabel("error budget left (%)")
    axes.grid(alpha=0.3)


def _draw_burn_rates(axes: Axes, data: ChartData, colours: list[str]) -> None:
    """The burn rate of each alert window, and each alert's threshold in its window's colour."""
    colour_of = {line.window: colours[i % len(colours)] for i, line in enumerate(data.burn_rates)}
    for line in data.burn_rates:
        if line.points:
            times, rates = zip(*line.points, strict=True)
            axes.plot(times, rates, color=colour_of[line.window], label=f"{line.window}")
    for alert in data.thresholds:
        axes.axhline(
            alert.burn_rate,
            color=colour_of.get(alert.window, "grey"),
            linestyle=SEVERITY_STYLE.get(alert.severity, "--"),
            linewidth=1,
            label=f"{alert.severity} at {alert.burn_rate:g}x ({alert.window})",
        )
    axes.set_ylabel("burn rate (x budget)")
    axes.set_yscale("symlog", linthresh=1)
    axes.grid(alpha=0.3)
    axes.legend(loc="upper left", fontsize=8, ncol=2)
