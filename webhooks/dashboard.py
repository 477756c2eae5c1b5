"""The admin home's webhook panel: events per hour by status beside the requests refused unstored, and the
events needing attention. The admin site shows it (``WebhooksConfig.ready`` adds it to the site's panels)."""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext

from webhooks.models import WebhookEventStatus
from webhooks.readable import readable_reason
from webhooks.selectors import (
    STUCK_AFTER,
    attention_counts,
    events_needing_attention,
    hourly_event_counts,
    hourly_rejected_counts,
)

# Stacking order and colours of the chart, bottom to top; failures on top where the eye lands.
STATUS_COLOURS = {
    WebhookEventStatus.PROCESSED: "#2e7d32",
    WebhookEventStatus.IGNORED: "#9e9e9e",
    WebhookEventStatus.RECEIVED: "#1565c0",
    WebhookEventStatus.FAILED: "#c62828",
}
REJECTED_COLOUR = "#6a1b9a"
# Failed signature checks in the last SPIKE_HOURS hours that deserve a warning: at least SPIKE_MIN, and more
# than SPIKE_FACTOR times the usual rate of the rest of the window (a secret rotated on one side only).
SPIKE_HOURS, SPIKE_MIN, SPIKE_FACTOR = 2, 10, 3
CHART_WIDTH, CHART_HEIGHT = 1200, 220
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 44, 8, 10, 30


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ at least ``value`` (so the axis reads in round numbers)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


def localized_number(value: int) -> str:
    """A count as the reader writes it ("1,200", "1.200"): text in the chart is localized here, because the
    template draws the SVG with localization off (a decimal comma in a coordinate breaks the drawing)."""
    return number_format(value, force_grouping=True)


def event_chart(hours, rejected=None) -> dict:
    """Geometry of a bar chart drawn as SVG by the template: per hour, the accepted events stacked by status
    and, beside them, the requests refused unstored (``rejected``: ``(hour, signature, account)`` per hour).
    Coordinates are numbers (the template writes them unlocalized); every text is a string already localized."""
    rejected = rejected or [(hour.hour, 0, 0) for hour in hours]
    refused = [signature + account for _hour, signature, account in rejected]
    top = nice_ceiling(max([*(hour.total for hour in hours), *refused], default=0) or 1)
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = plot_width / max(len(hours), 1)
    bars, labels = [], []
    for index, hour in enumerate(hours):
        x = PLOT_LEFT + index * slot
        base = PLOT_TOP + plot_height
        local_hour = timezone.localtime(hour.hour)
        for status, colour in STATUS_COLOURS.items():
            count = hour.counts.get(status, 0)
            if not count:
                continue
            height = plot_height * count / top
            base -= height
            bars.append(
                Bar(
                    x=round(x + 1, 2),
                    y=round(base, 2),
                    width=round(slot * 0.6 - 1, 2),
                    height=round(height, 2),
                    colour=colour,
                    title=f"{date_format(local_hour, 'DATETIME_FORMAT')}: {localized_number(count)} {status.label}",
                )
            )
        if refused[index]:
            height = plot_height * refused[index] / top
            bars.append(
                Bar(
                    x=round(x + slot * 0.62, 2),
                    y=round(PLOT_TOP + plot_height - height, 2),
                    width=round(slot * 0.34, 2),
                    height=round(height, 2),
                    colour=REJECTED_COLOUR,
                    title=f"{date_format(local_hour, 'DATETIME_FORMAT')}: "
                    + gettext("%(count)d rejected (%(signature)d failed signature checks)")
                    % {"count": refused[index], "signature": rejected[index][1]},
                )
            )
        if local_hour.hour % 6 == 0:
            labels.append({
                "x": round(x + slot / 2, 2),
                "text": date_format(local_hour, "TIME_FORMAT"),
                "day": date_format(local_hour, "MONTH_DAY_FORMAT"),
            })  # fmt: skip
    gridlines = [
        {"y": round(PLOT_TOP + plot_height * (1 - fraction), 2), "value": int(top * fraction)}
        for fraction in (0, 0.5, 1)
    ]
    for line in gridlines:
        line["label"] = localized_number(line["value"])
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot_left": PLOT_LEFT,
        "plot_right": CHART_WIDTH - PLOT_RIGHT,
        "axis_y": PLOT_TOP + plot_height,
        "bars": bars,
        "labels": labels,
        "gridlines": gridlines,
        "legend": [
            *({"status": status.label, "colour": colour} for status, colour in STATUS_COLOURS.items()),
            {"status": gettext("Rejected (not stored)"), "colour": REJECTED_COLOUR},
        ],
        "totals": {status: sum(hour.counts.get(status, 0) for hour in hours) for status in STATUS_COLOURS},
    }


def signature_spike(rejected) -> int:
    """Failed signature checks in the last ``SPIKE_HOURS`` hours when they spike, else 0."""
    recent = sum(signature for _hour, signature, _account in rejected[-SPIKE_HOURS:])
    earlier = [signature for _hour, signature, _account in rejected[:-SPIKE_HOURS]]
    usual = sum(earlier) / len(earlier) * SPIKE_HOURS if earlier else 0
    return recent if recent >= SPIKE_MIN and recent > SPIKE_FACTOR * usual else 0


def events_panel(user, *, now: datetime) -> dict | None:
    """The last 48 hours of the event log, for staff who may read it."""
    if not user.has_perm("webhooks.view_webhookevent"):
        return None
    hours = hourly_event_counts(hours=48, now=now)
    rejected = hourly_rejected_counts(hours=48, now=now)
    attention = list(events_needing_attention(now=now))
    for event in attention:
        event.reason_display = readable_reason(event.status_reason)
    return {
        "chart": event_chart(hours, rejected),
        "rejected": sum(signature + account for _hour, signature, account in rejected),
        "signature_spike": signature_spike(rejected),
        "received": sum(hour.total for hour in hours),
        "attention": attention,
        "counts": attention_counts(now=now),
        "stuck_minutes": int(STUCK_AFTER.total_seconds() // 60),
    }
