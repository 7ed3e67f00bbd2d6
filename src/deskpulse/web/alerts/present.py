"""How rules, states and history read on a page and in the API: formatted values with
their n, the state in words, the "moved the good way" note. Presentation only: every
number was measured by service.check_rules through the query layer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from deskpulse.analysis.alerts import ValueFormat, format_value
from deskpulse.names import segment_label
from deskpulse.web.alerts.models import (
    AlertEvent,
    AlertRule,
    AlertStateRecord,
    BaselineKind,
    Delivery,
)

STATE_WORDS = {
    "ok": "OK",
    "pending": "Pending",
    "firing": "Firing",
    "resolved": "Resolved",
    "never": "Not checked yet",
    "off": "Disabled",
}


def _fmt(value: float | None, fmt: str) -> str:
    return format_value(value, fmt)  # type: ignore[arg-type]


def value_format(rule: AlertRule) -> ValueFormat:
    return rule.core_rule().format


def baseline_text(rule: AlertRule) -> str:
    if rule.baseline_kind == BaselineKind.FIXED:
        return f"fixed at {_fmt(rule.baseline_value, value_format(rule))}"
    return f"the {rule.baseline_days} days before"


def _pct(ratio: float | None) -> str:
    return "" if ratio is None else f"{ratio * 100:+.1f}%"


def state_of(rule: AlertRule) -> AlertStateRecord | None:
    key = rule.core_rule().segment_key
    return next((s for s in rule.states.all() if s.segment_key == key), None)


def _state(rule: AlertRule, record: AlertStateRecord | None) -> str:
    return "off" if not rule.enabled else ("never" if record is None else record.state)


def rule_row(rule: AlertRule) -> dict[str, Any]:
    """One rule as /alerts/ lists it: state, severity and its latest reading with n."""
    fmt = value_format(rule)
    record = state_of(rule)
    state = _state(rule, record)
    row: dict[str, Any] = {
        "rule": rule,
        "href": f"/alerts/{rule.pk}/",
        "metric_label": rule.metric_label,
        "segment": rule.segment_label,
        "state": state,
        "state_text": STATE_WORDS[state],
        "severity": "none" if record is None else record.severity,
        "thresholds": f"{rule.warning_percent:g}% / {rule.critical_percent:g}%",
        "window": f"last {rule.current_days} days vs {baseline_text(rule)}",
        "current": "",
        "baseline": "",
        "change": "",
        "reason": "",
        "improvement": False,
        "checked_at": None,
    }
    if record is not None:
        row.update(
            {
                "current": f"{_fmt(record.current, fmt)} (n={record.n:,})",
                "baseline": _fmt(record.baseline, fmt)
                + ("" if record.baseline_n is None else f" (n={record.baseline_n:,})"),
                "change": _pct(record.deviation),
                "reason": record.reason,
                # Shown, never alerted: a move the good way is news, not a page.
                "improvement": record.improvement,
                "conclusive": record.conclusive,
                "checked_at": record.last_evaluated,
            }
        )
    return row


def event_row(event: AlertEvent) -> dict[str, Any]:
    fmt = event.value_format
    return {
        "event": event,
        "rule_href": None if event.rule_id is None else f"/alerts/{event.rule_id}/",
        "kind_text": event.get_kind_display(),
        "current": f"{_fmt(event.current, fmt)} (n={event.n:,})",
        "baseline": _fmt(event.baseline, fmt)
        + ("" if event.baseline_n is None else f" (n={event.baseline_n:,})"),
        "change": _pct(event.deviation),
        "webhook": _delivery(event.webhook, event.webhook_detail),
        "email": _delivery(event.email, event.email_detail),
    }


def _delivery(status: str, detail: str) -> dict[str, str]:
    label = Delivery(status).label if status in Delivery.values else status
    return {"status": status or "none", "label": label, "detail": detail}


def rule_json(rule: AlertRule, names: Mapping[str, str] | None = None) -> dict[str, Any]:
    """One rule as the API answers it; `names` (agent id -> name) words `segment_name`."""
    record = state_of(rule)
    return {
        "id": rule.pk,
        "name": rule.name,
        "metric": rule.metric,
        "metric_label": rule.metric_label,
        "direction": rule.core_rule().direction,
        "segment": rule.segment or None,
        "segment_label": rule.segment_label,
        "segment_name": segment_label(rule.segment, names or {}),
        "value_format": value_format(rule),
        "baseline": {"kind": "fixed", "value": rule.baseline_value}
        if rule.baseline_kind == BaselineKind.FIXED
        else {"kind": "trailing", "days": rule.baseline_days},
        "current_days": rule.current_days,
        "warning_percent": rule.warning_percent,
        "critical_percent": rule.critical_percent,
        "min_sample": rule.min_sample,
        "pending_for": rule.pending_for,
        "enabled": rule.enabled,
        "notify_webhook": rule.notify_webhook,
        "notify_email": rule.notify_email,
        "created_at": rule.created_at.isoformat() if rule.created_at else None,
        "updated_at": rule.updated_at.isoformat() if rule.updated_at else None,
        "state": None if record is None else state_json(record),
        "state_label": STATE_WORDS[_state(rule, record)],
        "href": f"/alerts/{rule.pk}/",
    }


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()


def state_json(record: AlertStateRecord) -> dict[str, Any]:
    return {
        "state": record.state,
        "severity": record.severity,
        "started_at": _iso(record.started_at),
        "firing_since": _iso(record.firing_since),
        "resolved_at": _iso(record.resolved_at),
        "last_evaluated": _iso(record.last_evaluated),
        "notified_severity": record.notified_severity,
        "current": {"value": record.current, "n": record.n},
        "baseline": {"value": record.baseline, "n": record.baseline_n},
        "deviation": record.deviation,
        "bad_deviation": record.bad_deviation,
        "improvement": record.improvement,
        "conclusive": record.conclusive,
        "reason": record.reason,
    }


def event_json(event: AlertEvent) -> dict[str, Any]:
    return {
        "id": event.pk,
        "rule_id": event.rule_id,
        "rule_name": event.rule_name,
        "metric": event.metric,
        "segment": event.segment_label,
        "at": event.at.isoformat(),
        "kind": event.kind,
        "kind_label": event.get_kind_display(),
        "previous_state": event.previous_state,
        "severity": event.severity,
        "current": {"value": event.current, "n": event.n},
        "baseline": {"value": event.baseline, "n": event.baseline_n},
        "deviation": event.deviation,
        "value_format": event.value_format,
        "reason": event.reason,
        "dedup_key": event.dedup_key or None,
        "delivery": {
            "webhook": {
                "status": event.webhook or None,
                "label": _delivery(event.webhook, event.webhook_detail)["label"],
                "detail": event.webhook_detail,
            },
            "email": {
                "status": event.email or None,
                "label": _delivery(event.email, event.email_detail)["label"],
                "detail": event.email_detail,
            },
        },
    }


def history_json(rule_id: int | None = None, *, limit: int = 50, offset: int = 0) -> dict[str, Any]:
    """Alert events, newest first, as GET /api/v1/alerts/history answers (and the CLI's
    `alerts history` prints)."""
    events = AlertEvent.objects.all()
    if rule_id is not None:
        events = events.filter(rule_id=rule_id)
    chosen = events[offset : offset + limit]
    return {"total": events.count(), "events": [event_json(event) for event in chosen]}
