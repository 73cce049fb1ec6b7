"""Draws an SLO's report picture: error budget left over its window (with the budget policy's
lines and the largest drop marked) above the burn rate of each alert window (with the rate at
which each alert fires, in that window's colour).

Dates read as a person says them: a month-long picture has a tick each Monday ("Mon 16 Nov"),
a day-long one a tick every few hours; the full range is under the axis. The legend sits below
the burn rates, one column per window (its line, then its alert), so it never covers a line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from slokeeper.prometheus.slo_history import BurnRateLine, Threshold
from slokeeper.slo.objective import PolicyThreshold

if TYPE_CHECKING:
    from matplotlib.axes import Axes

SEVERITY_STYLE = {"page": "--", "ticket": ":"}
# A drop of the budget worth pointing at, in percentage points between two points of the line.
MARKED_DROP_POINTS = 5.0
# Less than this (a ratio) between two points is noise, not where a fall starts.
WIGGLE = 0.002
BURN_RATE_TICKS = (0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)


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
        from matplotlib import pyplot  # noqa: PLC0415
    except ImportError as error:
        raise ChartsUnavailableError(
            "slokeeper report draws with matplotlib: pip install 'slokeeper[report]'"
        ) from error

    figure, (budget_axes, burn_axes) = pyplot.subplots(
        2, 1, figsize=(11, 8), dpi=110, sharex=True, gridspec_kw={"height_ratios": [1, 1.1]}
    )
    figure.suptitle(data.title, fontsize=13, fontweight="bold")
    budget_axes.set_title(data.subtitle, fontsize=10)
    _draw_budget(budget_axes, data)
    _draw_burn_rates(burn_axes, data, pyplot.rcParams["axes.prop_cycle"].by_key()["color"])
    _date_axis(burn_axes, data.start, data.end)
    figure.tight_layout()
    figure.savefig(path)
    pyplot.close(figure)


def _date_axis(axes: Axes, start: datetime, end: datetime) -> None:
    """Ticks a person reads without the offset text: weeks for a month, hours for a day."""
    from matplotlib import dates  # noqa: PLC0415 - optional, as in draw

    span = end - start
    major: Any
    minor: Any
    # matplotlib.dates has no annotations: hence the ignores.
    if span >= timedelta(days=6):
        major = dates.WeekdayLocator(dates.MO)  # type: ignore[no-untyped-call]
        minor, text = dates.DayLocator(), "%a %d %b"  # type: ignore[no-untyped-call]
    elif span >= timedelta(days=1):
        major = dates.DayLocator()  # type: ignore[no-untyped-call]
        minor = dates.HourLocator(byhour=range(0, 24, 6))  # type: ignore[no-untyped-call]
        text = "%a %d %b"
    else:
        major = dates.AutoDateLocator(minticks=5, maxticks=10)  # type: ignore[no-untyped-call]
        minor = dates.MinuteLocator(byminute=range(0, 60, 15))  # type: ignore[no-untyped-call]
        text = "%H:%M"
    axes.xaxis.set_major_locator(major)
    axes.xaxis.set_minor_locator(minor)
    axes.xaxis.set_major_formatter(dates.DateFormatter(text))  # type: ignore[no-untyped-call]
    axes.set_xlim(start, end)  # type: ignore[arg-type]
    axes.set_xlabel(f"UTC, {start:%a %d %b %Y %H:%M} to {end:%a %d %b %Y %H:%M}")


def _largest_drop(
    budget: list[tuple[datetime, float]],
) -> tuple[datetime, datetime, float] | None:
    """The longest fall of the budget (consecutive falling points taken together), in percentage
    points, if it is worth pointing at: where an incident spent it."""
    largest: tuple[datetime, datetime, float] | None = None
    began = 0
    for index in range(1, len(budget) + 1):
        if index < len(budget) and budget[index][1] < budget[index - 1][1]:
            continue
        # It starts where the budget really began to fall, not at a wiggle before.
        while began < index - 1 and budget[began][1] - budget[began + 1][1] < WIGGLE:
            began += 1
        fall = 100 * (budget[began][1] - budget[index - 1][1])
        if largest is None or fall > largest[2]:
            largest = (budget[began][0], budget[index - 1][0], fall)
        began = index
    return largest if largest is not None and largest[2] >= MARKED_DROP_POINTS else None


def _draw_budget(axes: Axes, data: ChartData) -> None:
    """Error budget left (%) over time, with a line where each budget policy action starts."""
    axes.set_ylabel("error budget left")
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:g} %")
    axes.grid(alpha=0.3)
    axes.axhline(0, color="black", linewidth=0.8)
    for threshold in data.policy:
        axes.axhline(threshold.below_percent, color="tab:red", linestyle="--", linewidth=1)
        axes.annotate(
            f"below {threshold.below_percent:g} %: {threshold.action.value}",
            xy=(0.005, threshold.below_percent),
            xycoords=("axes fraction", "data"),
            fontsize=8,
            color="tab:red",
            va="bottom",
        )
    if not data.budget:
        axes.set_ylim(-5, 105)
        axes.text(0.5, 0.5, "no budget figures in this range yet", transform=axes.transAxes,
                  ha="center", va="center", color="grey")  # fmt: skip
        return
    times, left = zip(*data.budget, strict=True)
    percent = [100 * v for v in left]
    axes.plot(times, percent, color="tab:blue", linewidth=2)
    axes.fill_between(times, percent, 0, alpha=0.12, color="tab:blue")
    axes.set_ylim(min(-5.0, min(percent) - 10), 105)
    # The figure now, above the line's end (below it near the top, where the title is).
    above = 6 if percent[-1] < 90 else -14
    axes.annotate(f"{percent[-1]:.1f} %", xy=(times[-1], percent[-1]), xytext=(-4, above),
                  textcoords="offset points", ha="right", fontsize=9, color="tab:blue",
                  fontweight="bold")  # fmt: skip
    drop = _largest_drop(data.budget)
    if drop is not None:
        began, ended, points = drop
        level = 100 * next(v for t, v in data.budget if t == ended)
        axes.annotate(
            f"-{points:.1f} points\n{began:%a %d %b %H:%M} to {ended:%a %d %b %H:%M}",
            xy=(ended, level), xytext=(12, -28), textcoords="offset points", fontsize=8,
            arrowprops={"arrowstyle": "->", "color": "dimgrey"}, color="dimgrey",
        )  # fmt: skip


def _draw_burn_rates(axes: Axes, data: ChartData, colours: list[str]) -> None:
    """The burn rate of each alert window, and each alert's threshold in its window's colour;
    legend entries in columns by window (matplotlib fills a legend column by column)."""
    windows = list(dict.fromkeys([line.window for line in data.burn_rates]))
    windows += [t.window for t in data.thresholds if t.window not in windows]
    colour_of = {window: colours[i % len(colours)] for i, window in enumerate(windows)}
    highest = 1.0
    handles: dict[str, list[Any]] = {window: [] for window in windows}
    for line in data.burn_rates:
        if line.points:
            times, rates = zip(*line.points, strict=True)
            highest = max(highest, *rates)
            (drawn,) = axes.plot(times, rates, color=colour_of[line.window], linewidth=1.4,
                                 label=f"burn rate over {line.window}")  # fmt: skip
            handles[line.window].append(drawn)
    for alert in data.thresholds:
        highest = max(highest, alert.burn_rate)
        handles[alert.window].append(axes.axhline(
            alert.burn_rate, color=colour_of[alert.window],
            linestyle=SEVERITY_STYLE.get(alert.severity, "--"), linewidth=1,
            label=f"{alert.severity} above {alert.burn_rate:g}x",
        ))  # fmt: skip
    axes.set_ylabel("burn rate (1x spends the budget in one window)")
    axes.set_yscale("symlog", linthresh=1, linscale=0.6)
    axes.set_ylim(0, highest * 1.6)
    axes.set_yticks([t for t in BURN_RATE_TICKS if t <= highest * 1.6])
    axes.yaxis.set_major_formatter(lambda value, _: f"{value:g}x")
    axes.grid(alpha=0.3)
    if not any(line.points for line in data.burn_rates):
        axes.text(0.5, 0.5, "no recorded burn rates in this range yet", transform=axes.transAxes,
                  ha="center", va="center", color="grey")  # fmt: skip
    ordered = [handle for window in windows for handle in handles[window]]
    if ordered:
        axes.legend(
            handles=ordered, loc="upper center", bbox_to_anchor=(0.5, -0.17),
            ncol=max(1, len(windows)), fontsize=8, frameon=False,
        )  # fmt: skip
