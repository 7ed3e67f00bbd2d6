"""Alert rules: evaluation through a direction, the minimum sample, the pending -> firing
-> resolved state machine with one notification per event, the detractor share and the
Slack message.

Worked cases are seed 003's own monitor example (baselines csat 4.2, escalation_rate
0.12, resolution_time 3.0, cost 0.25; current 3.9, 0.18, 3.0, 0.30), computed by hand:

- csat 3.9 vs 4.2: -0.3 / 4.2 = -7.14%, lower is bad but under 10%: no alert;
- escalation 0.18 vs 0.12: +0.06 / 0.12 = +50%, higher is bad, over 25%: critical;
- cost 0.30 vs 0.25: +0.05 / 0.25 = +20%, higher is bad, 10-25%: warning;
- resolution time 3.0 vs 3.0: 0%: nothing.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from deskpulse.analysis.alerts import (
    AlertState,
    Evaluation,
    FixedBaseline,
    Observation,
    Rule,
    TrailingBaseline,
    Transition,
    alert_email,
    alert_message,
    detractor_share,
    direction_from_registry,
    evaluate,
    next_state,
    windows,
)

# Reruns at other pinned instants in the clock guard (docs/clock.md).
pytestmark = pytest.mark.clock

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def fixed(metric: str, direction: str, value: float, **kwargs: object) -> Rule:
    return Rule(
        id=f"{metric}-fixed",
        metric=metric,
        direction=direction,  # type: ignore[arg-type]
        baseline=FixedBaseline(value),
        **kwargs,  # type: ignore[arg-type]
    )


CSAT = fixed("csat_mean", "higher_is_better", 4.2)
ESCALATION = fixed("escalation_rate", "lower_is_better", 0.12)
COST = fixed("cost_per_conversation", "lower_is_better", 0.25)
RESOLUTION = fixed("resolution_time_mean", "lower_is_better", 3.0)


def obs(current: float, n: int = 200) -> Observation:
    return Observation(current=current, n=n)


# -- evaluation ----------------------------------------------------------------------------


def test_seed_003_example_csat_dip_under_threshold_is_not_an_alert() -> None:
    e = evaluate(CSAT, obs(3.9))
    assert e.deviation == pytest.approx(-0.3 / 4.2)  # -7.14%
    assert e.bad_deviation == pytest.approx(0.0714, abs=1e-4)
    assert e.severity == "none"
    assert not e.improvement
    assert not e.breaching


def test_seed_003_example_escalation_up_50_percent_is_critical() -> None:
    e = evaluate(ESCALATION, obs(0.18))
    assert e.deviation == pytest.approx(0.5)
    assert e.bad_deviation == pytest.approx(0.5)
    assert e.severity == "critical"


def test_seed_003_example_cost_up_20_percent_is_warning() -> None:
    e = evaluate(COST, obs(0.30))
    assert e.deviation == pytest.approx(0.2)
    assert e.severity == "warning"


def test_seed_003_example_stable_resolution_time_is_nothing() -> None:
    e = evaluate(RESOLUTION, obs(3.0))
    assert e.deviation == 0
    assert e.severity == "none"
    assert not e.improvement


@pytest.mark.parametrize(
    ("rule", "current", "deviation"),
    [
        (CSAT, 4.7, 0.5 / 4.2),  # +11.9%: seed 003's abs() made this a warning
        (COST, 0.20, -0.2),  # -20%: seed 003 alerted on a cost saving
        (ESCALATION, 0.06, -0.5),  # -50%: seed 003 called this critical
    ],
)
def test_seed_003_pitfall_improvement_never_alerts(
    rule: Rule, current: float, deviation: float
) -> None:
    e = evaluate(rule, obs(current))
    assert e.deviation == pytest.approx(deviation)
    assert e.bad_deviation == pytest.approx(-abs(deviation))
    assert e.severity == "none"
    assert e.improvement
    assert "improvement" in e.reason
    transition = next_state(None, e, T0)
    assert transition.state.state == "ok"
    assert transition.notifications == ()


def test_small_improvement_is_not_flagged_as_improvement() -> None:
    assert not evaluate(CSAT, obs(4.3)).improvement  # +2.4%


def test_higher_is_better_drop_over_threshold_alerts() -> None:
    assert evaluate(CSAT, obs(3.7)).severity == "warning"  # -11.9%
    assert evaluate(CSAT, obs(3.1)).severity == "critical"  # -26.2%


def test_threshold_boundary_counts_as_reached_despite_float_error() -> None:
    # (0.99 - 0.9) / 0.9 is 0.09999999999999996 in floating point: still "10%", so warning.
    rule = fixed("cost_per_conversation", "lower_is_better", 0.9)
    assert evaluate(rule, obs(0.99)).severity == "warning"
    assert evaluate(COST, obs(0.3125)).severity == "critical"  # exactly +25%


def test_minimum_sample_current_window_never_breaches() -> None:
    e = evaluate(ESCALATION, obs(0.50, n=29))
    assert e.insufficient_sample
    assert e.severity == "none"
    assert e.deviation is None
    assert not e.improvement
    assert "29 samples" in e.reason
    assert "30" in e.reason
    assert evaluate(ESCALATION, obs(0.50, n=30)).severity == "critical"


def test_minimum_sample_trailing_baseline_too() -> None:
    rule = Rule(id="esc", metric="escalation_rate", direction="lower_is_better")
    e = evaluate(rule, Observation(current=0.5, n=500, baseline=0.1, baseline_n=12))
    assert e.insufficient_sample
    assert e.severity == "none"
    assert "baseline window" in e.reason


def test_trailing_baseline_uses_observation_baseline() -> None:
    rule = Rule(id="esc", metric="escalation_rate", direction="lower_is_better")
    e = evaluate(rule, Observation(current=0.15, n=400, baseline=0.12, baseline_n=1600))
    assert e.baseline == 0.12
    assert e.baseline_n == 1600
    assert e.deviation == pytest.approx(0.25)
    assert e.severity == "critical"


def test_no_current_value_is_insufficient() -> None:
    e = evaluate(CSAT, Observation(current=None, n=0))
    assert e.insufficient_sample
    assert not e.breaching


def test_missing_trailing_baseline_is_no_baseline() -> None:
    rule = Rule(id="csat", metric="csat_mean", direction="higher_is_better", min_sample=0)
    e = evaluate(rule, Observation(current=4.0, n=50))
    assert e.no_baseline
    assert not e.breaching
    assert not e.conclusive


def test_zero_baseline_without_absolute_thresholds_is_not_evaluated() -> None:
    rule = fixed("escalation_rate", "lower_is_better", 0.0)
    e = evaluate(rule, obs(0.05))
    assert e.no_baseline
    assert e.deviation is None
    assert e.bad_deviation is None
    assert e.change == pytest.approx(0.05)
    assert e.severity == "none"
    assert "baseline is 0" in e.reason


def test_zero_baseline_with_absolute_thresholds() -> None:
    rule = fixed(
        "escalation_rate",
        "lower_is_better",
        0.0,
        zero_baseline_warning=0.02,
        zero_baseline_critical=0.05,
    )
    assert evaluate(rule, obs(0.01)).severity == "none"
    assert evaluate(rule, obs(0.03)).severity == "warning"
    assert evaluate(rule, obs(0.05)).severity == "critical"
    assert evaluate(rule, obs(0.0)).deviation is None


def test_fixed_rule_rejects_an_observation_baseline() -> None:
    with pytest.raises(ValueError, match=r"observation\.baseline"):
        evaluate(CSAT, Observation(current=4.0, n=100, baseline=4.0, baseline_n=100))


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"warning": 0.3, "critical": 0.2}, "warning/critical"),
        ({"warning": 0.0}, "warning/critical"),
        ({"current_days": 0}, "current_days"),
        ({"min_sample": -1}, "min_sample"),
        ({"pending_for": -1}, "pending_for"),
        ({"id": " "}, "id"),
        ({"direction": "up"}, "direction"),
        ({"segment": {"channel": 1}}, "segment"),
    ],
)
def test_rule_validation_names_the_field(kwargs: dict[str, object], field: str) -> None:
    args: dict[str, object] = {"id": "r", "metric": "csat_mean", "direction": "higher_is_better"}
    args.update(kwargs)
    with pytest.raises(ValueError, match=field):
        Rule(**args)  # type: ignore[arg-type]


def test_observation_rejects_nan() -> None:
    with pytest.raises(ValueError, match="current"):
        Observation(current=float("nan"), n=10)


def test_rule_segment_is_frozen_copy_and_hashable() -> None:
    segment = {"channel": "chat", "ai_agent": "ai-1"}
    rule = Rule(id="r", metric="csat_mean", direction="higher_is_better", segment=segment)
    segment["channel"] = "email"
    assert rule.segment == {"ai_agent": "ai-1", "channel": "chat"}
    assert rule.segment_key == "ai_agent=ai-1,channel=chat"
    assert rule.segment_label == "ai_agent = ai-1, channel = chat"
    same = Rule(
        id="r",
        metric="csat_mean",
        direction="higher_is_better",
        segment={"ai_agent": "ai-1", "channel": "chat"},
    )
    assert rule == same
    assert hash(rule) == hash(same)
    with pytest.raises(TypeError):
        rule.segment["channel"] = "x"  # type: ignore[index]


def test_segment_key_is_header_safe() -> None:
    rule = Rule(
        id="r", metric="m", direction="lower_is_better", segment={"team": "Support, EU\r\nX: 1"}
    )
    assert rule.segment_key == "team=Support%2C%20EU%0D%0AX%3A%201"


def test_windows_trailing_baseline_ends_where_current_starts() -> None:
    rule = Rule(id="r", metric="csat_mean", direction="higher_is_better")
    w = windows(rule, T0)
    assert w.current_end == T0
    assert w.current_start == T0 - timedelta(days=7)
    assert w.baseline_end == w.current_start
    assert w.baseline_start == T0 - timedelta(days=35)
    one_day = Rule(
        id="r",
        metric="csat_mean",
        direction="higher_is_better",
        current_days=1,
        baseline=TrailingBaseline(days=14),
    )
    w1 = windows(one_day, T0)
    assert (w1.current_start, w1.baseline_start) == (T0 - timedelta(days=1), T0 - timedelta(15))
    assert windows(CSAT, T0).baseline_start is None
    with pytest.raises(ValueError, match="timezone"):
        windows(rule, datetime(2025, 3, 3))


def test_direction_from_registry() -> None:
    assert direction_from_registry("higher") == "higher_is_better"
    assert direction_from_registry("lower") == "lower_is_better"
    with pytest.raises(ValueError, match="neutral"):
        direction_from_registry("neutral")


# -- state machine -------------------------------------------------------------------------


def run(
    rule: Rule, values: list[float | None], start: datetime = T0
) -> list[tuple[Evaluation, Transition]]:
    state: AlertState | None = None
    out = []
    for i, value in enumerate(values):
        e = evaluate(rule, Observation(current=value, n=0 if value is None else 200))
        t = next_state(state, e, start + i * HOUR)
        state = t.state
        out.append((e, t))
    return out


def test_full_sequence_ok_pending_firing_escalated_resolved_ok() -> None:
    # escalation baseline 0.12: 0.12 ok, 0.14 (+16.7%) warning, 0.19 (+58%) critical.
    steps = run(ESCALATION, [0.12, 0.14, 0.14, 0.14, 0.19, 0.19, 0.12, 0.12])
    states = [t.state.state for _, t in steps]
    assert states == ["ok", "pending", "firing", "firing", "firing", "firing", "resolved", "ok"]
    kinds = [[n.kind for n in t.notifications] for _, t in steps]
    assert kinds == [[], [], ["firing"], [], ["escalated"], [], ["resolved"], []]
    severities = [[n.severity for n in t.notifications] for _, t in steps]
    assert severities[2] == ["warning"]
    assert severities[4] == ["critical"]
    assert severities[6] == ["critical"]

    episode = steps[1][1].state
    assert episode.started_at == T0 + HOUR
    assert steps[2][1].state.firing_since == T0 + 2 * HOUR
    assert steps[6][1].state.resolved_at == T0 + 6 * HOUR
    assert all(t.state.last_evaluated == T0 + i * HOUR for i, (_, t) in enumerate(steps))
    # One episode, one key; each notification its own delivery id within it.
    keys = [n.dedup_key for _, t in steps for n in t.notifications]
    assert keys == [
        "escalation_rate-fixed:all:20250303T100000Z/firing",
        "escalation_rate-fixed:all:20250303T100000Z/escalated",
        "escalation_rate-fixed:all:20250303T100000Z/resolved",
    ]
    assert steps[7][1].state.started_at is None


def test_no_duplicate_notifications_while_firing_at_same_severity() -> None:
    steps = run(ESCALATION, [0.19] * 10)
    notified = [n.kind for _, t in steps for n in t.notifications]
    assert notified == ["firing"]  # critical from the start: no separate escalation


def test_deescalation_and_reescalation_within_episode_notify_once() -> None:
    steps = run(ESCALATION, [0.14, 0.14, 0.19, 0.14, 0.19, 0.14])
    notified = [(n.kind, n.severity) for _, t in steps for n in t.notifications]
    assert notified == [("firing", "warning"), ("escalated", "critical")]
    assert steps[3][1].state.severity == "warning"  # current severity is still tracked
    assert steps[3][1].state.notified_severity == "critical"


def test_pending_that_recovers_is_silent() -> None:
    steps = run(ESCALATION, [0.19, 0.12, 0.12])
    assert [t.state.state for _, t in steps] == ["pending", "ok", "ok"]
    assert all(t.notifications == () for _, t in steps)


def test_pending_for_zero_fires_on_first_breach() -> None:
    rule = fixed("escalation_rate", "lower_is_better", 0.12, pending_for=0)
    (_, t), *_ = run(rule, [0.19])
    assert t.state.state == "firing"
    assert [n.kind for n in t.notifications] == ["firing"]


def test_pending_for_three_needs_four_breaches() -> None:
    rule = fixed("escalation_rate", "lower_is_better", 0.12, pending_for=3)
    steps = run(rule, [0.19] * 5)
    assert [t.state.state for _, t in steps] == [
        "pending",
        "pending",
        "pending",
        "firing",
        "firing",
    ]


def test_new_episode_after_resolve_gets_new_key() -> None:
    steps = run(ESCALATION, [0.19, 0.19, 0.12, 0.19, 0.19])
    keys = [n.dedup_key for _, t in steps for n in t.notifications]
    assert [k.rsplit("/", 1)[1] for k in keys] == ["firing", "resolved", "firing"]
    assert keys[0].rsplit("/", 1)[0] == keys[1].rsplit("/", 1)[0]
    assert keys[2].rsplit("/", 1)[0] != keys[0].rsplit("/", 1)[0]
    assert steps[3][1].state.state == "pending"  # resolved -> pending, not straight to firing


def test_inconclusive_check_holds_the_state() -> None:
    # Firing, then a quiet weekend with n < 30: neither resolved nor re-announced.
    steps = run(ESCALATION, [0.19, 0.19, None, None, 0.19, 0.12])
    assert [t.state.state for _, t in steps] == [
        "pending",
        "firing",
        "firing",
        "firing",
        "firing",
        "resolved",
    ]
    assert [t.held for _, t in steps] == [False, False, True, True, False, False]
    assert [n.kind for _, t in steps for n in t.notifications] == ["firing", "resolved"]
    assert steps[3][1].state.last_evaluated == T0 + 3 * HOUR


def test_retried_check_has_same_dedup_key() -> None:
    # The same check run twice from the same stored state (a worker retried after a crash
    # before saving) yields the same delivery id, so the receiver can drop the second.
    e = evaluate(ESCALATION, obs(0.19))
    pending = next_state(None, e, T0).state
    first = next_state(pending, e, T0 + HOUR)
    again = next_state(pending, e, T0 + HOUR)
    assert first.notifications == again.notifications
    assert first.notifications[0].dedup_key.startswith("escalation_rate-fixed:all:2025")


def test_segment_in_dedup_key_and_state_mismatch_rejected() -> None:
    chat = fixed("csat_mean", "higher_is_better", 4.2, segment={"channel": "chat"}, pending_for=0)
    t = next_state(None, evaluate(chat, obs(3.0)), datetime(2025, 3, 3, 10, tzinfo=timezone(HOUR)))
    assert t.notifications[0].dedup_key == "csat_mean-fixed:channel=chat:20250303T090000Z/firing"
    with pytest.raises(ValueError, match="previous"):
        next_state(t.state, evaluate(CSAT, obs(3.0)), T0 + HOUR)
    with pytest.raises(ValueError, match="now"):
        next_state(t.state, evaluate(chat, obs(3.0)), T0 - HOUR)


# -- detractor share -----------------------------------------------------------------------


def test_detractor_share_counts_detractors_not_the_rest() -> None:
    # Seed 003: 100 - pct(scores <= 2) would say 75 for these scores.
    assert detractor_share([1, 5, 5, 5]) == 0.25
    assert detractor_share([1, 2, 5, 5]) == 0.5
    assert detractor_share([5, 1, 2, 5, 4]) == pytest.approx(0.4)  # docs/metrics.md example
    assert detractor_share([3, 4, 5]) == 0.0


def test_detractor_share_empty_and_missing() -> None:
    assert detractor_share([]) is None
    assert detractor_share([None, None]) is None
    assert detractor_share([None, 2, 4]) == 0.5
    with pytest.raises(ValueError, match="scores"):
        detractor_share([0, 5])


# -- messages ------------------------------------------------------------------------------


def test_alert_message_is_slack_block_kit_with_the_facts() -> None:
    rule = Rule(
        id="esc-chat",
        metric="escalation_rate",
        direction="lower_is_better",
        segment={"channel": "chat"},
        label="Escalation rate",
        pending_for=0,
    )
    e = evaluate(rule, Observation(current=0.18, n=240, baseline=0.12, baseline_n=1100))
    t = next_state(None, e, T0)
    message = alert_message(rule, e, t, dashboard_url="https://dp.example/alerts?rule=esc&x=1")
    json.dumps(message)  # plain JSON
    assert set(message) == {"text", "blocks"}
    section = message["blocks"][0]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    text = section["text"]["text"]
    for expected in (
        "Alert firing",
        "Escalation rate (escalation_rate)",
        "channel = chat",
        "18.0% (n=240, last 7 days)",
        "12.0% (n=1,100, the 28 days before)",
        "+50.0% (worse)",
        "*Severity:* critical",
        "*State:* firing",
        "<https://dp.example/alerts?rule=esc&amp;x=1|Open the dashboard>",
    ):
        assert expected in text, expected
    assert "18.0%" in message["text"]
    assert "critical" in message["text"]
    assert message["blocks"][1]["type"] == "context"
    assert t.notifications[0].dedup_key in message["blocks"][1]["elements"][0]["text"]


def test_alert_message_escapes_markup_and_reports_resolve() -> None:
    rule = fixed("csat_mean", "higher_is_better", 4.2, segment={"team": "<!channel> & co"})
    steps = run(rule, [3.0, 3.0, 4.2])
    e, t = steps[2]
    message = alert_message(rule, e, t)
    text = message["blocks"][0]["text"]["text"]
    assert "<!channel>" not in text
    assert "&lt;!channel&gt; &amp; co" in text
    assert "Alert resolved" in text
    assert "*Severity:* critical" in text
    assert "4.20 (fixed)" in text
    assert "Open the dashboard" not in text


def test_notifications_word_the_segment_and_keep_its_ids() -> None:
    rule = Rule(
        id="esc-nova",
        metric="escalation_rate",
        direction="lower_is_better",
        segment={"ai_agent": "agent-ai-nova"},
        label="Escalation rate",
        pending_for=0,
    )
    e = evaluate(rule, Observation(current=0.18, n=240, baseline=0.12, baseline_n=1100))
    t = next_state(None, e, T0)
    subject, body = alert_email(rule, e, t, segment_text="AI agent = Nova")
    assert subject == "[deskpulse critical] Alert firing: Escalation rate (AI agent = Nova)"
    assert "Segment:    AI agent = Nova (ai_agent = agent-ai-nova)" in body
    text = alert_message(rule, e, t, segment_text="AI agent = Nova")["blocks"][0]["text"]["text"]
    assert "*Segment:* AI agent = Nova (ai_agent = agent-ai-nova)" in text


def test_alert_message_rejects_mismatched_rule() -> None:
    e = evaluate(CSAT, obs(3.0))
    with pytest.raises(ValueError, match="evaluation"):
        alert_message(COST, e, next_state(None, e, T0))


def test_alert_email_subject_and_body() -> None:
    steps = run(COST, [0.30, 0.30])
    e, t = steps[1]
    subject, body = alert_email(COST, e, t, dashboard_url="https://dp.example/")
    assert subject == (
        "[deskpulse warning] Alert firing: cost_per_conversation (all conversations)"
    )
    assert "Current:" in body
    assert "0.30 (n=200, last 7 days)" in body
    assert "+20.0% (worse)" in body
    assert "Dashboard: https://dp.example/" in body
    assert t.notifications[0].dedup_key in body


def test_duration_format_for_resolution_time() -> None:
    rule = fixed("resolution_time_mean", "lower_is_better", 3 * 3600.0, pending_for=0)
    e = evaluate(rule, obs(4.5 * 3600))
    text = alert_message(rule, e, next_state(None, e, T0))["text"]
    assert "4.5 h" in text
    assert "3.0 h" in text
    assert "critical" in text
