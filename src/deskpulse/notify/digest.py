"""The weekly digest: what a lead (or an agent, about themself) reads on Monday morning.

The core of it, without Django: which week a send belongs to and whether a person's slot
has come (`digest_week`, `slot_reached`), the numbers (`scope_tiles`, `scope_signals`,
both through the one query layer, with the team or agent filter), and the message in
three shapes: HTML, its plain-text alternative, and Slack-compatible JSON for the
webhook. The web layer (deskpulse.web.digest) gathers who wants what, adds the alerts
and coaching plans from the app database, sends, and keeps the ledger.

A digest covers the seven whole days before the day it is sent, in the reporting time
zone, against the seven before those: a Monday digest is "last week", whatever the hour.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from deskpulse.events.store import Store
from deskpulse.metrics.format import EMPTY, change_text, format_value
from deskpulse.metrics.periods import local_midnight
from deskpulse.metrics.query import TEAM_VIEWER, Filters, Query, Viewer, query
from deskpulse.metrics.registry import REGISTRY, Metric
from deskpulse.metrics.window import Window

DAYS = 7
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# The dashboard's tiles a lead reads first, in the dashboard's order.
DIGEST_METRICS: tuple[str, ...] = (
    "conversations",
    "first_response_median",
    "full_resolution_median",
    "resolution_rate",
    "fcr_rate",
    "escalation_rate",
    "csat_mean",
    "csat_responses",
    "aht_mean",
)
# An agent's own digest: the numbers of the conversations they handled.
AGENT_METRICS: tuple[str, ...] = (
    "handled",
    "first_response_median",
    "resolution_rate",
    "csat_mean",
    "csat_responses",
    "aht_mean",
)
# As on the dashboard (web/analytics/present.py): under this many samples a median, rate
# or mean is marked "few samples", and a change against so small a base is not a percent.
FEW_SAMPLES = 10
# The most signals one scope lists; the rest are a click away.
SIGNALS_SHOWN = 5


class DigestInputError(ValueError):
    """A weekday or hour out of range; the message names the field."""


# -- when ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestWeek:
    """The ISO week a digest belongs to (the ledger's key) and the days it covers."""

    year: int
    week: int
    start: datetime  # local midnight, seven days before the send day
    end: datetime  # local midnight of the send day

    @property
    def key(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def days_text(self) -> str:
        last = (self.end - timedelta(days=1)).date()
        return f"{self.start.date():%a %d %b} to {last:%a %d %b %Y}"


def _check_slot(weekday: int, hour: int) -> None:
    if not 0 <= weekday <= 6:
        raise DigestInputError(f"weekday: {weekday} is not 0 (Monday) to 6 (Sunday)")
    if not 0 <= hour <= 23:
        raise DigestInputError(f"hour: {hour} is not 0 to 23")


def slot_in_week(moment: datetime, weekday: int, hour: int, tz: ZoneInfo) -> datetime:
    """The person's send moment in the ISO week (reporting time zone) holding `moment`."""
    _check_slot(weekday, hour)
    local = moment.astimezone(tz)
    monday = local.date() - timedelta(days=local.weekday())
    day = monday + timedelta(days=weekday)
    # The wall-clock hour, also on a day the clocks change.
    return datetime.combine(day, time(hour), tzinfo=tz)


def slot_reached(now: datetime, weekday: int, hour: int, tz: ZoneInfo) -> bool:
    """Whether this week's slot has come. A slot missed while the server was down is
    still sent later that week; a week that ended without a send stays unsent (a digest
    a week late is not news)."""
    return now >= slot_in_week(now, weekday, hour, tz)


def digest_week(now: datetime, tz: ZoneInfo) -> DigestWeek:
    """The week `now` falls in, and the seven whole days before now's day."""
    local = now.astimezone(tz)
    year, week, _ = local.isocalendar()
    today: date = local.date()
    return DigestWeek(
        year=year,
        week=week,
        start=local_midnight(today - timedelta(days=DAYS), tz),
        end=local_midnight(today, tz),
    )


# -- what ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DigestTile:
    metric: str
    label: str
    value_text: str
    n: int
    change_text: str  # "▲ +12%", "no change", "was 3", "" without a previous reading
    verdict: str  # better | worse | same | neutral | "" (nothing to compare)
    few: bool
    # Outcomes that mature: rows of the week too young to know, left out of value and n
    # (docs/metrics.md), so a recent week never looks worse only for being recent.
    pending: int = 0

    @property
    def sample_text(self) -> str:
        parts = [f"n = {self.n:,}"]
        if self.few:
            parts.append("few samples")
        if self.pending:
            parts.append(f"{self.pending:,} still maturing")
        return ", ".join(parts)


@dataclass(frozen=True)
class DigestSignal:
    title: str
    sentence: str
    verdict: str
    url: str


@dataclass(frozen=True)
class DigestAlert:
    rule_name: str
    change: str  # "firing", "escalated", "resolved", "back to OK"
    at: datetime
    reason: str
    url: str


@dataclass(frozen=True)
class DigestPlan:
    agent_name: str
    what: str  # "First response median on billing, 20% lower"
    outcome: str  # "reached" or "missed"
    target_date: date
    url: str


@dataclass(frozen=True)
class DigestScope:
    """One team's (or one agent's own) part of a digest."""

    title: str
    tiles: tuple[DigestTile, ...]
    signals: tuple[DigestSignal, ...] = ()
    dashboard_url: str = ""


@dataclass(frozen=True)
class Digest:
    recipient: str
    week: DigestWeek
    scopes: tuple[DigestScope, ...]
    alerts: tuple[DigestAlert, ...] = ()
    plans: tuple[DigestPlan, ...] = ()
    settings_url: str = ""
    # An agent's own digest: their numbers and their plans, in their own terms.
    personal: bool = False
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def subject(self) -> str:
        whose = "Your week" if self.personal else "Your teams' week"
        return f"deskpulse: {whose}, {self.week.days_text}"


def tile(metric: Metric, current: Any, previous: Any | None) -> DigestTile:
    """One number with its n and its change, worded and coloured as on the dashboard:
    better or worse by the metric's direction, never merely up or down."""
    now, n = current.value, current.n
    few = metric.unit != "count" and 0 < n < FEW_SAMPLES
    text, verdict = "", ""
    if previous is not None:
        before = previous.value
        if now is None or before is None:
            text = "no comparison"
        elif previous.n < FEW_SAMPLES and metric.format not in ("percent", "score"):
            text, verdict = f"was {format_value(metric, before)}", "neutral"
        else:
            change, size = change_text(metric, float(now), float(before))
            if size == 0:
                text, verdict = "no change", "same"
            else:
                text = f"{'▲' if size > 0 else '▼'} {change}"
                if metric.direction == "neutral":
                    verdict = "neutral"
                else:
                    verdict = "better" if (size > 0) == (metric.direction == "higher") else "worse"
    return DigestTile(
        metric=metric.name,
        label=metric.label,
        value_text=format_value(metric, now),
        n=n,
        change_text=text,
        verdict=verdict,
        few=few,
        pending=int(getattr(current, "pending", None) or 0),
    )


def scope_tiles(
    store: Store,
    week: DigestWeek,
    *,
    filters: Filters,
    viewer: Viewer = TEAM_VIEWER,
    metrics: tuple[str, ...] = DIGEST_METRICS,
) -> tuple[DigestTile, ...]:
    """The week's numbers for one team (filters.team) or one agent (filters.agent),
    against the week before, from the query layer like every tile in deskpulse."""
    result = query(
        store,
        Query(
            metrics=list(metrics),
            period="custom",
            filters=filters,
            compare=True,
            **{"from": week.start, "to": week.end},
        ),
        viewer,
    )
    row = result.single()
    previous = row.previous or {}
    return tuple(tile(REGISTRY[name], row.metrics[name], previous.get(name)) for name in metrics)


def scope_signals(
    store: Store, week: DigestWeek, *, filters: Filters, base_url: str
) -> tuple[DigestSignal, ...]:
    """The friction signals of the team's week (team-level: they name nobody)."""
    from deskpulse.analysis.signals import find_signals

    window = Window(period="custom", start=week.start, end=week.end)
    report = find_signals(store, window, TEAM_VIEWER, filters=filters)
    period = {"period": "custom", "from": week.start.isoformat(), "to": week.end.isoformat()}
    if filters.team:
        period["team"] = filters.team
    found = []
    for signal in report.shown(SIGNALS_SHOWN):
        shown = signal.as_json(period)
        found.append(
            DigestSignal(
                title=signal.title,
                sentence=signal.sentence,
                verdict=signal.verdict,
                url=base_url + str(shown["conversations_url"]),
            )
        )
    return tuple(found)


def link(base_url: str, path: str, **params: str) -> str:
    """An absolute link into the app (relative when the address is not known)."""
    query_text = urlencode({k: v for k, v in params.items() if v})
    return f"{base_url.rstrip('/')}{path}{'?' + query_text if query_text else ''}"


# -- how it reads ----------------------------------------------------------------------------


def _tile_line(t: DigestTile) -> str:
    change = f"  {t.change_text}" if t.change_text else ""
    if t.verdict in ("better", "worse"):
        change += f" ({t.verdict})"
    return f"  {t.label}: {t.value_text} ({t.sample_text}){change}"


def render_text(digest: Digest) -> str:
    """The plain-text alternative: everything the HTML says, readable in any client."""
    lines = [f"Hello {digest.recipient},", ""]
    lines.append(f"Your week in deskpulse, {digest.week.days_text}, against the seven days before.")
    for scope in digest.scopes:
        lines += ["", scope.title, "-" * len(scope.title)]
        lines += [_tile_line(t) for t in scope.tiles]
        if scope.signals:
            lines += ["", "  Signals that fired:"]
            for s in scope.signals:
                lines.append(f"  - {s.title}: {s.sentence}")
                lines.append(f"    {s.url}")
        elif not digest.personal:
            lines += ["", "  No signal fired: nothing moved beyond chance."]
        if scope.dashboard_url:
            lines.append(f"  Open the dashboard: {scope.dashboard_url}")
    if not digest.personal:
        lines += ["", "Alerts that changed state", "-------------------------"]
        if digest.alerts:
            for a in digest.alerts:
                lines.append(f"  - {a.rule_name}: {a.change} on {a.at:%a %d %b %H:%M}. {a.reason}")
                lines.append(f"    {a.url}")
        else:
            lines.append("  None this week.")
    title = "Your coaching plans" if digest.personal else "Coaching plans that came due"
    lines += ["", title, "-" * len(title)]
    if digest.plans:
        for p in digest.plans:
            who = "" if digest.personal else f"{p.agent_name}: "
            lines.append(f"  - {who}{p.what}: {p.outcome} (target {p.target_date:%d %b %Y})")
            lines.append(f"    {p.url}")
    else:
        lines.append("  None reached or missed its date this week.")
    for note in digest.notes:
        lines += ["", note]
    lines += ["", "--"]
    lines.append(
        "Numbers with n under 10 are marked few samples; a change is better or worse by "
        "what is good for the metric, not up or down."
    )
    if digest.settings_url:
        lines.append(f"Choose your teams, day and hour, or stop this digest: {digest.settings_url}")
    return "\n".join(lines) + "\n"


_COLOURS = {"better": "#1a7f37", "worse": "#b42318", "same": "#555", "neutral": "#555"}
_CELL = "padding:6px 8px;border-bottom:1px solid #e5e7eb;text-align:left;vertical-align:top"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _a(url: str, text: str) -> str:
    return f'<a href="{_e(url)}" style="color:#1d4ed8">{_e(text)}</a>'


def _tiles_html(tiles: tuple[DigestTile, ...]) -> str:
    rows = []
    for t in tiles:
        colour = _COLOURS.get(t.verdict, "#555")
        sample = _e(t.sample_text)
        if t.few or t.pending:
            sample = f'<span style="color:#92400e">{sample}</span>'

        verdict = f" ({t.verdict})" if t.verdict in ("better", "worse") else ""
        rows.append(
            f'<tr data-metric="{_e(t.metric)}"><td style="{_CELL}">{_e(t.label)}</td>'
            f'<td style="{_CELL};font-weight:600;white-space:nowrap">{_e(t.value_text)}</td>'
            f'<td style="{_CELL};color:#555">{sample}</td>'
            f'<td style="{_CELL};color:{colour}">{_e(t.change_text)}{_e(verdict)}</td></tr>'
        )
    head = "".join(
        f'<th style="{_CELL};font-size:12px;color:#555">{h}</th>'
        for h in ("Metric", "This week", "Sample", "Against the week before")
    )
    return (
        '<table role="presentation" style="border-collapse:collapse;width:100%;'
        f'font-size:14px"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'
    )


def render_html(digest: Digest) -> str:
    """The HTML part: inline styles only (mail clients drop <style> and stylesheets),
    one column that reads on a phone, every number with its n."""
    body: list[str] = [
        f"<p>Hello {_e(digest.recipient)},</p>",
        f"<p>Your week in deskpulse, <strong>{_e(digest.week.days_text)}</strong>, "
        "against the seven days before.</p>",
    ]
    for scope in digest.scopes:
        body.append(f'<h2 style="font-size:18px;margin:24px 0 8px">{_e(scope.title)}</h2>')
        body.append(_tiles_html(scope.tiles))
        if scope.signals:
            body.append('<h3 style="font-size:15px;margin:16px 0 4px">Signals that fired</h3><ul>')
            for s in scope.signals:
                colour = _COLOURS.get(s.verdict, "#555")
                body.append(
                    f'<li style="margin-bottom:6px"><strong style="color:{colour}">'
                    f"{_e(s.title)}</strong>: {_e(s.sentence)} {_a(s.url, 'Conversations')}</li>"
                )
            body.append("</ul>")
        elif not digest.personal:
            body.append('<p style="color:#555">No signal fired: nothing moved beyond chance.</p>')
        if scope.dashboard_url:
            body.append(f"<p>{_a(scope.dashboard_url, 'Open the dashboard')}</p>")
    if not digest.personal:
        body.append('<h2 style="font-size:18px;margin:24px 0 8px">Alerts that changed state</h2>')
        if digest.alerts:
            body.append("<ul>")
            for a in digest.alerts:
                body.append(
                    f"<li>{_a(a.url, a.rule_name)}: <strong>{_e(a.change)}</strong> on "
                    f"{_e(f'{a.at:%a %d %b %H:%M}')}. {_e(a.reason)}</li>"
                )
            body.append("</ul>")
        else:
            body.append('<p style="color:#555">None this week.</p>')
    title = "Your coaching plans" if digest.personal else "Coaching plans that came due"
    body.append(f'<h2 style="font-size:18px;margin:24px 0 8px">{title}</h2>')
    if digest.plans:
        body.append("<ul>")
        for p in digest.plans:
            who = "" if digest.personal else f"{_e(p.agent_name)}: "
            colour = _COLOURS["better" if p.outcome == "reached" else "worse"]
            body.append(
                f'<li>{who}{_a(p.url, p.what)}: <strong style="color:{colour}">'
                f"{_e(p.outcome)}</strong> (target {_e(f'{p.target_date:%d %b %Y}')})</li>"
            )
        body.append("</ul>")
    else:
        body.append('<p style="color:#555">None reached or missed its date this week.</p>')
    body += [f"<p>{_e(note)}</p>" for note in digest.notes]
    footer = (
        "Numbers with n under 10 are marked few samples; a change is better or worse by "
        "what is good for the metric, not up or down."
    )
    if digest.settings_url:
        footer += " " + _a(digest.settings_url, "Choose your teams, day and hour, or stop this")
    body.append(
        f'<p style="color:#555;font-size:12px;border-top:1px solid #e5e7eb;'
        f'padding-top:8px;margin-top:24px">{footer}</p>'
    )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(digest.subject)}</title></head>"
        '<body style="margin:0;padding:16px;background:#f6f7f9;font-family:-apple-system,'
        'Segoe UI,Helvetica,Arial,sans-serif;color:#111">'
        '<div style="max-width:640px;margin:0 auto;background:#fff;padding:16px 20px;'
        'border-radius:8px">'
        f'<h1 style="font-size:20px;margin:0 0 8px">{_e(digest.subject)}</h1>'
        f"{''.join(body)}</div></body></html>"
    )


def slack_payload(digest: Digest) -> dict[str, Any]:
    """Slack-compatible JSON (`text` in mrkdwn), the same shape as the alerts' webhook."""
    lines = [f"*{digest.subject}* (for {digest.recipient})"]
    for scope in digest.scopes:
        lines.append(f"*{scope.title}*")
        for t in scope.tiles:
            change = f" {t.change_text}" if t.change_text else ""
            lines.append(f"• {t.label}: {t.value_text} ({t.sample_text}){change}")
        for s in scope.signals:
            lines.append(f"• Signal: {s.title}: <{s.url}|conversations>")
        if scope.dashboard_url:
            lines.append(f"<{scope.dashboard_url}|Open the dashboard>")
    if digest.alerts:
        lines.append(f"*Alerts that changed state:* {len(digest.alerts)}")
        lines += [f"• {a.rule_name}: {a.change}" for a in digest.alerts]
    if digest.plans:
        lines.append("*Coaching plans that came due:*")
        lines += [f"• {p.agent_name}: {p.what}: {p.outcome}" for p in digest.plans]
    return {"text": "\n".join(lines)}


__all__ = [
    "AGENT_METRICS",
    "DIGEST_METRICS",
    "EMPTY",
    "WEEKDAYS",
    "Digest",
    "DigestAlert",
    "DigestInputError",
    "DigestPlan",
    "DigestScope",
    "DigestSignal",
    "DigestTile",
    "DigestWeek",
    "digest_week",
    "link",
    "render_html",
    "render_text",
    "scope_signals",
    "scope_tiles",
    "slack_payload",
    "slot_in_week",
    "slot_reached",
]
