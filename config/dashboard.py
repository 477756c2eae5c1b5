"""The admin home's dashboard: what staff check first, read through each app's selectors.

``config`` is where the two apps meet, so this is the one module that reads both.
"""

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from contacts.requests import desk_counts
from contacts.selectors import contact_counts_by_provider_and_source, erasures_since, last_erasure_log_verification
from webhooks.models import WebhookEventStatus
from webhooks.selectors import STUCK_AFTER, attention_counts, events_needing_attention, hourly_event_counts

# Stacking order and colours of the chart, bottom to top; failures on top where the eye lands.
STATUS_COLOURS = {
    WebhookEventStatus.PROCESSED: "#2e7d32",
    WebhookEventStatus.IGNORED: "#9e9e9e",
    WebhookEventStatus.RECEIVED: "#1565c0",
    WebhookEventStatus.FAILED: "#c62828",
}
CHART_WIDTH, CHART_HEIGHT = 720, 220
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


def event_chart(hours) -> dict:
    """Geometry of a stacked bar chart of events per hour and status, drawn as SVG by the template."""
    top = nice_ceiling(max((hour.total for hour in hours), default=0) or 1)
    plot_width = CHART_WIDTH - PLOT_LEFT - PLOT_RIGHT
    plot_height = CHART_HEIGHT - PLOT_TOP - PLOT_BOTTOM
    slot = plot_width / max(len(hours), 1)
    bars, labels = [], []
    for index, hour in enumerate(hours):
        x = PLOT_LEFT + index * slot
        base = PLOT_TOP + plot_height
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
                    width=round(slot - 2, 2),
                    height=round(height, 2),
                    colour=colour,
                    title=f"{hour.hour:%Y-%m-%d %H:00} UTC: {count} {status}",
                )
            )
        if hour.hour.hour % 6 == 0:
            labels.append({"x": round(x + slot / 2, 2), "text": f"{hour.hour:%H:00}", "day": f"{hour.hour:%d/%m}"})
    gridlines = [
        {"y": round(PLOT_TOP + plot_height * (1 - fraction), 2), "value": int(top * fraction)}
        for fraction in (0, 0.5, 1)
    ]
    return {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "plot_left": PLOT_LEFT,
        "plot_right": CHART_WIDTH - PLOT_RIGHT,
        "axis_y": PLOT_TOP + plot_height,
        "bars": bars,
        "labels": labels,
        "gridlines": gridlines,
        "legend": [{"status": status.label, "colour": colour} for status, colour in STATUS_COLOURS.items()],
        "totals": {status: sum(hour.counts.get(status, 0) for hour in hours) for status in STATUS_COLOURS},
    }


def build_dashboard(user, *, now: datetime | None = None) -> dict:
    """Each panel only for staff allowed to see its model."""
    now = now or timezone.now()
    dashboard = {"now": now}
    if user.has_perm("webhooks.view_webhookevent"):
        hours = hourly_event_counts(hours=48, now=now)
        dashboard["events"] = {
            "chart": event_chart(hours),
            "received": sum(hour.total for hour in hours),
            "attention": list(events_needing_attention(now=now)),
            "counts": attention_counts(now=now),
            "stuck_minutes": int(STUCK_AFTER.total_seconds() // 60),
        }
    if user.has_perm("contacts.view_contact"):
        dashboard["contacts"] = contact_counts_by_provider_and_source()
    if user.has_perm("contacts.view_erasurerecord"):
        month_start = timezone.localtime(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
        dashboard["erasures"] = {
            "this_month": erasures_since(month_start),
            "month": month_start,
            "last_verification": last_erasure_log_verification(),
        }
    if user.has_perm("contacts.view_datasubjectrequest"):
        dashboard["requests"] = desk_counts(now=now)
    return dashboard
