"""The report's picture: where an incident spent the budget is marked, a month has its Mondays
on the time axis, and an SLO without figures still gets a picture that says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from matplotlib import image, pyplot

from slokeeper.cli.budget_chart import ChartData, _date_axis, _largest_drop, draw
from slokeeper.cli.report import burn_rate_points
from slokeeper.prometheus.slo_history import BurnRateLine, Threshold

START = datetime(2026, 11, 3, 10, 29, tzinfo=UTC)


def line(*ratios: float, spacing: timedelta = timedelta(hours=4)) -> list[tuple[datetime, float]]:
    return [(START + index * spacing, ratio) for index, ratio in enumerate(ratios)]


def test_the_largest_fall_takes_consecutive_falling_points_together() -> None:
    budget = line(0.80, 0.80, 0.79, 0.70, 0.58, 0.58, 0.55, 0.49, 0.49)
    began, ended, points = _largest_drop(budget) or (None, None, 0.0)
    assert (began, ended) == (budget[1][0], budget[4][0])
    assert abs(points - 22.0) < 1e-9


def test_the_fall_starts_where_the_budget_really_began_to_fall() -> None:
    budget = line(0.801, 0.8005, 0.8, 0.7995, 0.70, 0.58, 0.58)
    began, ended, points = _largest_drop(budget) or (None, None, 0.0)
    assert (began, ended) == (budget[3][0], budget[5][0])
    assert abs(points - 21.95) < 1e-9


def test_a_small_wiggle_is_not_marked() -> None:
    assert _largest_drop(line(0.80, 0.79, 0.80, 0.78, 0.79)) is None
    assert _largest_drop([]) is None


def tick_labels(start: datetime, end: datetime) -> list[str]:
    figure, axes = pyplot.subplots()
    _date_axis(axes, start, end)
    figure.canvas.draw()
    labels = [label.get_text() for label in axes.get_xticklabels()]
    pyplot.close(figure)
    return labels


def test_a_month_is_read_by_its_mondays_and_a_day_by_its_hours() -> None:
    month = tick_labels(START, START + timedelta(days=28))
    assert month == ["Mon 09 Nov", "Mon 16 Nov", "Mon 23 Nov", "Mon 30 Nov"], month
    day = tick_labels(START, START + timedelta(hours=11))
    assert len(day) >= 5, day
    assert all(len(label) == 5 and label[2] == ":" for label in day), day


def test_burn_rates_are_drawn_every_ten_minutes_within_prometheus_limits() -> None:
    assert burn_rate_points(START, START + timedelta(days=28)) == 28 * 24 * 6
    assert burn_rate_points(START, START + timedelta(minutes=5)) == 200
    assert burn_rate_points(START, START + timedelta(days=400)) == 10_000


def chart(budget: list[tuple[datetime, float]], rates: list[BurnRateLine]) -> ChartData:
    return ChartData(
        "default/checkout-availability: checkout, 99.9 % over a rolling 28d",
        "49.0 % of the error budget left",
        START,
        START + timedelta(days=28),
        budget,
        rates,
        [Threshold("page", "56m", 14.4), Threshold("ticket", "2d19h12m", 1.0)],
        (),
    )


def test_a_picture_is_drawn_with_figures_and_without(tmp_path: Path) -> None:
    budget = line(*([0.8] * 80 + [0.58] * 40 + [0.49] * 49))
    rates = [
        BurnRateLine(
            "56m", line(*([0.2] * 100 + [80.0] + [0.2] * 100), spacing=timedelta(hours=2))
        ),
        BurnRateLine("2d19h12m", []),
    ]
    for name, data in (("full", chart(budget, rates)), ("empty", chart([], []))):
        png = tmp_path / f"{name}.png"
        draw(data, png)
        height, width = image.imread(str(png)).shape[:2]
        assert (width, height) == (1210, 880), name
    assert (tmp_path / "full.png").stat().st_size > (tmp_path / "empty.png").stat().st_size
