"""The demo's alert rules, with a month of history: `deskpulse demo` defines them and
replays the checks once a day over the last 30 days of the data.

What the generator plants (deskpulse/generator/conversations.py) and so what the rules
should catch:
- `inbox-app-chat` degrades slowly over the whole window: human reply delays grow to
  about three times their start. A trailing baseline follows a slow drift, so this rule
  compares with a fixed level: the queue's median first response in the four weeks
  before the replayed month, measured through the query layer like every other number.
- The second AI agent's resolution drops in the last 14 days with more escalations: its
  escalation rate against the 28 days before catches it.
- CSAT for all conversations and cost per conversation stay within their thresholds (a
  quiet rule is part of a realistic list; cost even moves the good way at times).

No notification is sent: a fresh demo has none configured, so each history row records
"not configured". Idempotent: rules are found by name, and only rules created by this
call are replayed, so running the demo again on the same folder adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

from deskpulse import clock
from deskpulse.events.store import Store
from deskpulse.metrics.query import Filters
from deskpulse.metrics.report import agent_directory
from deskpulse.web.alerts.forms import RULE_DEFAULTS, AlertRuleForm
from deskpulse.web.alerts.models import AlertRule, BaselineKind
from deskpulse.web.alerts.service import _reading, check_rules

PLANTED_INBOX = "inbox-app-chat"
REPLAY_DAYS = 30
BASELINE_DAYS = 28


@dataclass(frozen=True)
class DemoAlerts:
    created: list[AlertRule]
    checks: int
    firing: list[str]  # names of rules with a firing event in the replayed month


def _data_end(store: Store) -> datetime | None:
    events = store.events()
    last: datetime | None = events.occurred_at.max().to_pyarrow().as_py()
    if last is None:
        return None
    return last.replace(tzinfo=UTC) if last.tzinfo is None else last.astimezone(UTC)


def _ai_agents(store: Store) -> list[str]:
    directory = agent_directory(store)
    return sorted(a for a, known in directory.items() if (known.get("kind") or "") == "ai")


def _definitions(store: Store, first_check: datetime) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = [
        {"name": "CSAT, all conversations", "metric": "csat_mean"},
        {"name": "Cost per conversation", "metric": "cost_per_conversation"},
    ]
    level, n = _reading(
        store,
        "first_response_median",
        Filters(inbox=PLANTED_INBOX),
        first_check - timedelta(days=BASELINE_DAYS),
        first_check,
    )
    if level is not None and n >= int(RULE_DEFAULTS["min_sample"]):
        found.append(
            {
                "name": "First response, app chat",
                "metric": "first_response_median",
                "segment_dimension": "inbox",
                "segment_value": PLANTED_INBOX,
                "baseline_kind": BaselineKind.FIXED.value,
                "baseline_value": round(level, 1),
            }
        )
    ai = _ai_agents(store)
    if len(ai) >= 2:
        # The generator's second AI agent ("Nova") is the one that regresses.
        found.append(
            {
                "name": "Escalation rate, second AI agent",
                "metric": "escalation_rate",
                "segment_dimension": "ai_agent",
                "segment_value": ai[1],
            }
        )
    return found


def define_demo_alerts(
    store: Store, *, progress: Callable[[int, int], None] | None = None
) -> DemoAlerts:
    end = _data_end(store)
    if end is None:
        return DemoAlerts([], 0, [])
    # Daily checks at midnight UTC, the last one at the end of the data's last day, or now
    # when that is still to come: a check in the future would hold off the hourly job.
    last = min(datetime.combine(end.date() + timedelta(days=1), time(0), tzinfo=UTC), clock.now())
    moments = [last - timedelta(days=back) for back in range(REPLAY_DAYS, -1, -1)]
    created: list[AlertRule] = []
    for definition in _definitions(store, moments[0]):
        if AlertRule.objects.filter(name=definition["name"]).exists():
            continue
        form = AlertRuleForm(data={**RULE_DEFAULTS, **definition})
        if not form.is_valid():  # pragma: no cover - the definitions above are fixed
            raise ValueError(form.error_lines())
        created.append(form.save(None))
    if not created:
        return DemoAlerts([], 0, [])
    for done, now in enumerate(moments, start=1):
        check_rules(store, now, rules=created)
        if progress is not None:
            progress(done, len(moments))
    firing = [rule.name for rule in created if rule.events.filter(kind="firing").exists()]
    return DemoAlerts(created, len(moments), firing)
