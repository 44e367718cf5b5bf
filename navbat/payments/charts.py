"""The dashboard's chart of daily income and fees, drawn on the server as SVG.

No script and no style attribute (the page's CSP allows neither): presentation attributes
only. It reads printed in black and white: income as light bars with a dark outline, fees
as a dashed black line with open dots, a legend saying which is which, the scales in so'm.
The fees (a percent or two of the income) have their own scale on the right: on the
income's they would lie flat on the axis.
"""

from collections.abc import Sequence
from xml.sax.saxutils import escape, quoteattr

from django.utils.formats import date_format
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from navbat.kit.money import TIYIN_PER_SOM, format_money

from .dashboard import Day

WIDTH, HEIGHT = 720, 280
LEFT, RIGHT, TOP, BOTTOM = 88, 80, 40, 36
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
TICKS = 5
BAR_FILL, INK, GRID = "#b9c6d8", "#222222", "#d0d0d0"
FONT = 'font-family="sans-serif" font-size="11"'
DOTS_UP_TO = 62  # more days than this: the line alone, dots would blur into it


def scale(largest: int) -> tuple[int, int]:
    """The scale's top and its step in tiyin: the step the smallest 1, 2 or 5 × 10ⁿ whole
    so'm that reaches ``largest`` in at most TICKS steps (round labels), the top the first
    step at or above it."""
    som = max(-(-largest // TIYIN_PER_SOM), 1)
    step = 1
    while True:
        for factor in (1, 2, 5):
            steps = -(-som // (step * factor))
            if steps <= TICKS:
                return steps * step * factor * TIYIN_PER_SOM, step * factor * TIYIN_PER_SOM
        step *= 10


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _som(tiyin: int) -> str:
    return f"{tiyin // TIYIN_PER_SOM:,}".replace(",", " ")


def _day_label(day, count: int) -> str:
    return str(day.day) if count <= 31 else day.strftime("%d.%m")


def _label_every(count: int) -> int:
    if count <= 31:
        return 1 if count <= 16 else 2
    return max(count // 12, 1)


def daily_chart(days: Sequence[Day], *, chart_id: str = "income-chart") -> SafeString:
    """One bar per day (its income), a line of the fees over them; each bar and dot
    carries its day and amounts in tiyin (``data-*``) for whoever reads the markup."""
    count = len(days)
    largest = max([day.paid for day in days] + [0])
    top, step = scale(largest)
    fee_top, fee_step = scale(max([day.fees for day in days] + [0]))
    slot = PLOT_WIDTH / max(count, 1)
    bar = max(slot * 0.7, 1.0)

    def y_of(tiyin: int, top: int = top) -> float:
        return TOP + PLOT_HEIGHT - PLOT_HEIGHT * tiyin / top

    first, last = (days[0].day, days[-1].day) if days else (None, None)
    paid, fees = sum(day.paid for day in days), sum(day.fees for day in days)
    title = _("Daily income and bank fees")
    desc = _(
        "From %(first)s to %(last)s: income %(paid)s, bank fees %(fees)s. "
        "Bars show the income of each day (left scale), the dashed line its bank fees "
        "(right scale)."
    ) % {
        "first": date_format(first, "j M Y") if first else "",
        "last": date_format(last, "j M Y") if last else "",
        "paid": format_money(paid),
        "fees": format_money(fees),
    }
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{chart_id}" class="chart" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" width="100%" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" data-top="{top}" '
        f'data-fee-top="{fee_top}" '
        f'data-plot-height="{PLOT_HEIGHT}" data-days="{count}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]
    # The scale: round so'm amounts, light grid lines that vanish in a grey print.
    out.append(f'<g class="axis y" {FONT} fill="{INK}" text-anchor="end">')
    for tick in range(top // step + 1):
        value = step * tick
        y = _num(y_of(value))
        out.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y}" y2="{y}" stroke="{GRID}" '
            f'stroke-width="1"/><text x="{LEFT - 6}" y="{y}" dy="4">{_som(value)}</text>'
        )
    unit = escape(_("so'm"))
    out.append(f'<text x="{LEFT - 6}" y="{TOP - 24}" text-anchor="end">{unit}</text>')
    out.append("</g>")
    right = WIDTH - RIGHT + 6
    out.append(f'<g class="axis fees" {FONT} fill="{INK}" text-anchor="start">')
    for tick in range(fee_top // fee_step + 1):
        y = _num(y_of(fee_step * tick, fee_top))
        out.append(
            f'<line x1="{WIDTH - RIGHT}" x2="{WIDTH - RIGHT + 4}" y1="{y}" y2="{y}" '
            f'stroke="{INK}" stroke-width="1" stroke-dasharray="2 1"/>'
            f'<text x="{right}" y="{y}" dy="4">{_som(fee_step * tick)}</text>'
        )
    out.append(f'<text x="{right}" y="{TOP - 24}">{unit}</text></g>')
    # The legend, in words as well as in marks.
    fees_legend = _("Bank fees (right scale)")
    out.append(
        f'<g class="legend" {FONT} fill="{INK}">'
        f'<rect x="{LEFT}" y="{TOP - 32}" width="14" height="10" fill="{BAR_FILL}" '
        f'stroke="{INK}" stroke-width="1"/>'
        f'<text x="{LEFT + 20}" y="{TOP - 23}">{escape(_("Income (left scale)"))}</text>'
        f'<line x1="{LEFT + 150}" x2="{LEFT + 174}" y1="{TOP - 27}" y2="{TOP - 27}" '
        f'stroke="{INK}" stroke-width="2" stroke-dasharray="5 3"/>'
        f'<circle cx="{LEFT + 162}" cy="{TOP - 27}" r="3" fill="#ffffff" stroke="{INK}"/>'
        f'<text x="{LEFT + 180}" y="{TOP - 23}">{escape(fees_legend)}</text></g>'
    )
    every = _label_every(count)
    bars, labels, points, dots = [], [], [], []
    for index, day in enumerate(days):
        middle = LEFT + slot * index + slot / 2
        height = PLOT_HEIGHT * day.paid / top
        tip = _("%(day)s: income %(paid)s, bank fees %(fees)s") % {
            "day": date_format(day.day, "j M Y"),
            "paid": format_money(day.paid),
            "fees": format_money(day.fees),
        }
        bars.append(
            f'<rect class="bar" data-day="{day.day.isoformat()}" data-paid="{day.paid}" '
            f'data-fees="{day.fees}" x="{_num(middle - bar / 2)}" '
            f'y="{_num(TOP + PLOT_HEIGHT - height)}" width="{_num(bar)}" '
            f'height="{_num(height)}"><title>{escape(tip)}</title></rect>'
        )
        fee_y = _num(y_of(day.fees, fee_top))
        points.append(f"{_num(middle)},{fee_y}")
        if count <= DOTS_UP_TO:
            dots.append(
                f'<circle class="fee-dot" data-day="{day.day.isoformat()}" '
                f'data-fees="{day.fees}" cx="{_num(middle)}" cy="{fee_y}" r="2.5"/>'
            )
        if index % every == 0:
            labels.append(
                f'<text x="{_num(middle)}" y="{TOP + PLOT_HEIGHT + 16}">'
                f"{escape(_day_label(day.day, count))}</text>"
            )
    out.append(
        f'<g class="bars" fill="{BAR_FILL}" stroke="{INK}" stroke-width="0.75">'
        + "".join(bars)
        + "</g>"
    )
    if points:
        out.append(
            f'<polyline class="fees" fill="none" stroke="{INK}" stroke-width="2" '
            f'stroke-dasharray="5 3" points={quoteattr(" ".join(points))}/>'
        )
    out.append(f'<g class="fee-dots" fill="#ffffff" stroke="{INK}">' + "".join(dots) + "</g>")
    baseline = TOP + PLOT_HEIGHT
    out.append(
        f'<line class="baseline" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{baseline}" '
        f'y2="{baseline}" stroke="{INK}" stroke-width="1"/>'
    )
    out.append(
        f'<g class="axis x" {FONT} fill="{INK}" text-anchor="middle">' + "".join(labels) + "</g>"
    )
    out.append("</svg>")
    return mark_safe("".join(out))  # noqa: S308 — every text above is escaped
