"""Bar charts of a quarter's statistics as SVG (pure): the same picture in the console and the
PDF. Only presentation attributes, no `style`, so the console's CSP allows it. A small count is
drawn as a short outlined bar labelled "<5", a hidden one as a dash: a chart shows exactly what
the table shows, never more."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from services.reports.periods import month_label
from services.reports.quarterly import QuarterStatistics, Shown

_WIDTH = 560
_HEIGHT = 220
_LEFT = 40
_BOTTOM = 40
_TOP = 28
_COLOURS = ("#1f5c99", "#d9822b", "#3a8f5c", "#8a4f9e")


@dataclass(frozen=True, slots=True)
class Series:
    label: str
    values: Sequence[Shown]


def _number(value: Shown) -> float | None:
    return float(value) if isinstance(value, int | float) else None


def bar_chart(title: str, categories: Sequence[str], series: Sequence[Series]) -> Markup:
    """Grouped bars: one group per category, one bar per series."""
    numbers = [n for s in series for n in map(_number, s.values) if n is not None]
    top = max([*numbers, 5.0])
    plot_w = _WIDTH - _LEFT - 10
    plot_h = _HEIGHT - _TOP - _BOTTOM
    group_w = plot_w / max(len(categories), 1)
    bar_w = min(36.0, (group_w - 16) / max(len(series), 1))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_WIDTH} {_HEIGHT}" '
        f'width="{_WIDTH}" height="{_HEIGHT}" role="img" aria-label="{escape(title)}" '
        'class="chart" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
        f"<title>{escape(title)}</title>",
        f'<text x="{_LEFT}" y="16" font-size="13" font-weight="bold" fill="#222">'
        f"{escape(title)}</text>",
        f'<line x1="{_LEFT}" y1="{_TOP + plot_h}" x2="{_WIDTH - 10}" y2="{_TOP + plot_h}" '
        'stroke="#555"/>',
    ]
    for step in range(0, 5):
        value = top * step / 4
        y = _TOP + plot_h - plot_h * step / 4
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="#555">'
            f"{value:.0f}</text>"
        )
        if step:
            parts.append(
                f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_WIDTH - 10}" y2="{y:.1f}" stroke="#ddd"/>'
            )
    for index, category in enumerate(categories):
        x0 = _LEFT + index * group_w + (group_w - bar_w * len(series)) / 2
        parts.append(
            f'<text x="{_LEFT + index * group_w + group_w / 2:.1f}" y="{_TOP + plot_h + 18}" '
            f'text-anchor="middle" fill="#222">{escape(category)}</text>'
        )
        for number, one in enumerate(series):
            parts.append(_bar(one.values[index], x0 + number * bar_w, bar_w, top, plot_h, number))
    for number, one in enumerate(series):
        x = _LEFT + number * 170
        y = _HEIGHT - 8
        parts.append(
            f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{_COLOURS[number % 4]}"/>'
            f'<text x="{x + 18}" y="{y}" fill="#222">{escape(one.label)}</text>'
        )
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text above is escaped


def _bar(value: Shown, x: float, width: float, top: float, plot_h: float, number: int) -> str:
    colour = _COLOURS[number % 4]
    base = _TOP + plot_h
    if isinstance(value, str):  # "<5": a short outlined bar, its height meaning nothing
        height = plot_h * 0.06
        return (
            f'<rect x="{x + 2:.1f}" y="{base - height:.1f}" width="{width - 4:.1f}" '
            f'height="{height:.1f}" fill="none" stroke="{colour}" stroke-dasharray="3 2"/>'
            f'<text x="{x + width / 2:.1f}" y="{base - height - 4:.1f}" text-anchor="middle" '
            f'fill="#222">{escape(value)}</text>'
        )
    number_value = _number(value)
    if number_value is None:  # hidden to protect a small count
        return (
            f'<text x="{x + width / 2:.1f}" y="{base - 4:.1f}" text-anchor="middle" '
            'fill="#555">\u2014</text>'
        )
    height = plot_h * number_value / top
    return (
        f'<rect x="{x + 2:.1f}" y="{base - height:.1f}" width="{width - 4:.1f}" '
        f'height="{height:.1f}" fill="{colour}"/>'
        f'<text x="{x + width / 2:.1f}" y="{base - height - 4:.1f}" text-anchor="middle" '
        f'fill="#222">{number_value:g}</text>'
    )


def charts(statistics: QuarterStatistics) -> list[Markup]:
    """The report's charts: activations and staffing by month; contacts and their referrals."""
    months = statistics.months
    labels = [month_label(month) for month in months]

    def monthly(key: str) -> list[Shown]:
        row = statistics.row(key)
        return [row.values[month] for month in months]

    return [
        bar_chart(
            "Activations by month",
            labels,
            [
                Series("Activations", monthly("activations")),
                Series("Fully staffed", monthly("activations.staffed")),
            ],
        ),
        bar_chart(
            "Contacts logged by month",
            labels,
            [
                Series("Contacts", monthly("contacts")),
                Series("Referred (EAP)", monthly("contacts.eap")),
                Series("Referred (MHP)", monthly("contacts.mhp")),
            ],
        ),
    ]
