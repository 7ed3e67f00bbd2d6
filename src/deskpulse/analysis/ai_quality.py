"""The AI quality report (seed 003): the AI agents' numbers against targets, each issue
with a recommendation, a benchmark table and an executive summary.

Seed 003's `get_quality_report` checked three numbers against fixed thresholds. Here the
thresholds and targets are settings (`Targets`, edited at /settings/ai-targets/), every
reading carries its n, a reading from few samples is marked instead of raised as a
certainty, and each recommendation names where to look (the reason, inquiry or cost
behind the number) rather than a generic tip. Every number comes from
`analysis.ai_agents` (and so from the metrics layer); this module compares and explains.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from deskpulse.analysis.ai_agents import AiAgentsReport, BreakdownRow, ai_agents_report
from deskpulse.events.store import Store
from deskpulse.metrics.query import TEAM_VIEWER, MetricValue, Viewer
from deskpulse.metrics.window import Window

Severity = Literal["high", "medium", "low"]
Status = Literal["issue", "short", "met", "no_data"]
SEVERITY_ORDER: dict[str, int] = {"high": 0, "medium": 1, "low": 2}
STATUS_LABELS: dict[str, str] = {
    "issue": "Issue",
    "short": "Short of target",
    "met": "Target met",
    "no_data": "No data",
}
# Under this many samples a reading is marked "few samples": read it, don't act on it yet.
FEW_SAMPLES = 10


@dataclass(frozen=True)
class Targets:
    """Thresholds that raise an issue and the targets to aim for (seed 003's defaults).

    Rates are fractions (0.15 = 15%); money is in the install's currency. The human cost
    per conversation is what a conversation costs when a person handles it (seed 003's
    tier-1 "cost per issue" is $8-12; the default is its middle).
    """

    csat_floor: float = 4.0  # CSAT below this: high severity
    csat_target: float = 4.2
    escalation_ceiling: float = 0.15  # escalation above this: medium severity
    escalation_target: float = 0.10
    cost_ceiling: float = 0.40  # cost per conversation above this: low severity
    cost_target: float = 0.25
    human_cost_per_conversation: float = 10.0
    half_life_days: float = 7.0  # of the recency-weighted CSAT


@dataclass(frozen=True)
class Check:
    """One number against its threshold and target."""

    area: str
    metric: str
    severity: Severity
    higher_is_better: bool
    reading: MetricValue
    threshold: float
    target: float
    status: Status
    few: bool  # 0 < n < FEW_SAMPLES
    recommendation: str  # empty unless status is "issue"

    @property
    def status_label(self) -> str:
        return STATUS_LABELS[self.status]


@dataclass(frozen=True)
class BenchmarkRow:
    """Seed 003's benchmark beside this install's AI and human numbers."""

    label: str
    tier1: str  # seed 003's "Tier-1 Agents" column, as written there
    ai_target: str  # "AI Agents (Target)"
    best: str  # "Best-in-Class"
    ai_metric: str
    ai: MetricValue
    human_metric: str
    human: MetricValue | None  # None when not measured (e.g. no cost recorded for people)
    human_note: str = ""  # what stands in when not measured


# Seed 003, "Target metrics and benchmarks" (what production support systems achieve in
# 2026), column by column as written there. The AI column reads the AI agents'
# conversations; the human column the conversations people handled alone. "Resolution
# rate" is AI-resolved for the AI (resolved alone, not reopened within 7 days) and the
# resolution rate for people; resolution time is creation to first resolution.
SEED_BENCHMARKS: tuple[tuple[str, str, str, str, str, str], ...] = (
    ("Resolution rate", "65%", "70\u201375%", "85%+", "ai_resolved_rate", "resolution_rate"),
    (
        "Avg. resolution time",
        "8\u201312 min",
        "2\u20134 min",
        "<2 min",
        "first_resolution_mean",
        "first_resolution_mean",
    ),
    ("CSAT score", "3.8/5.0", "4.2/5.0", "4.6/5.0", "csat_mean", "csat_mean"),
    ("Escalation rate", "20\u201325%", "10\u201315%", "<10%", "escalation_rate", "escalation_rate"),
    (
        "Cost per issue",
        "$8\u201312",
        "$0.15\u20130.40",
        "$0.08\u20130.20",
        "cost_per_conversation",
        "cost_per_conversation",
    ),
    ("Avg. turns per conversation", "4\u20136", "2\u20133", "1\u20132", "turns_mean", "turns_mean"),
)


@dataclass(frozen=True)
class ExecutiveSummary:
    """Seed 003's "business impact": money saved, volume handled, customer impact."""

    all_conversations: int  # created in the period
    ai_handled_conversations: int  # an AI agent replied publicly and no human did
    ai_share: MetricValue  # AI-handled share of all conversations (n = all conversations)
    human_cost_per_conversation: float  # the setting
    ai_cost_per_conversation: MetricValue  # over the AI agents' conversations
    ai_cost_total: MetricValue  # everything the AI agents' conversations cost
    ai_cost_recorded: bool  # False: no cost.recorded on AI conversations, savings overstated
    # AI-handled x human cost per conversation - everything the AI agents cost, the
    # conversations they handed over included (that spend bought no saving).
    cost_saved: float | None
    csat_ai: MetricValue
    csat_human: MetricValue
    csat_difference: float | None  # AI - human, None when either has no responses


@dataclass(frozen=True)
class QualityReport:
    report: AiAgentsReport
    targets: Targets
    checks: tuple[Check, ...]
    benchmarks: tuple[BenchmarkRow, ...]
    summary: ExecutiveSummary
    notes: tuple[str, ...] = field(default=())

    @property
    def issues(self) -> tuple[Check, ...]:
        """The issues, most severe first."""
        found = [check for check in self.checks if check.status == "issue"]
        return tuple(sorted(found, key=lambda check: SEVERITY_ORDER[check.severity]))


# -- the checks ------------------------------------------------------------------------


def _status(
    reading: MetricValue, threshold: float, target: float, higher_is_better: bool
) -> Status:
    if reading.value is None or reading.n == 0:
        return "no_data"
    value = float(reading.value)
    if higher_is_better:
        if value < threshold:
            return "issue"
        return "met" if value >= target else "short"
    if value > threshold:
        return "issue"
    return "met" if value <= target else "short"


def _worst(
    rows: tuple[BreakdownRow, ...], metric: str, *, highest: bool
) -> tuple[str, MetricValue] | None:
    """The named row with the highest (or lowest) value of `metric` among those with
    enough samples to mean something."""
    usable = [
        (row.key, row.metrics[metric])
        for row in rows
        if row.key is not None
        and row.metrics[metric].value is not None
        and row.metrics[metric].n >= FEW_SAMPLES
    ]
    if not usable:
        return None
    key, reading = (max if highest else min)(usable, key=lambda item: float(item[1].value or 0))
    assert key is not None
    return key, reading


def _money(amount: float) -> str:
    return f"${amount:,.2f}" if abs(amount) >= 1 else f"${amount:.3f}"


def _few_prefix(reading: MetricValue) -> str:
    if 0 < reading.n < FEW_SAMPLES:
        return f"Only {reading.n} in the sample: confirm over a longer period before acting. "
    return ""


def _csat_advice(report: AiAgentsReport) -> str:
    csat = report.overall["csat_mean"]
    detractors = report.overall["csat_detractor_rate"]
    text = _few_prefix(csat)
    text += f"CSAT {float(csat.value or 0):.2f} from {csat.n} responses"
    if detractors.value is not None:
        text += f", {100 * float(detractors.value):.0f}% of them scoring 1\u20132"
    text += ". Read the AI conversations scored 1\u20132 first"
    worst = _worst(report.breakdowns.get("inquiry", ()), "csat_mean", highest=False)
    if worst is not None:
        key, reading = worst
        text += f", starting with {key!r} (CSAT {float(reading.value or 0):.2f}, n {reading.n})"
    return (
        text + ": check the answers for accuracy and tone, and hand the customer to a "
        "person sooner where the AI repeats itself instead of solving the problem."
    )


def _escalation_advice(report: AiAgentsReport) -> str:
    rate = report.overall["escalation_rate"]
    text = _few_prefix(rate)
    text += (
        f"{100 * float(rate.value or 0):.1f}% of AI conversations were escalated "
        f"({report.escalated} of {rate.n})"
    )
    if report.reasons:
        top = report.reasons[0]
        text += f"; the most common reason is {top.label!r} ({100 * float(top.share or 0):.0f}%)"
    text += ". Give the AI the knowledge articles or tools it lacks"
    worst = _worst(report.breakdowns.get("inquiry", ()), "escalation_rate", highest=True)
    if worst is not None:
        key, reading = worst
        text += f" for {key!r} (escalated {100 * float(reading.value or 0):.0f}% of {reading.n})"
    return (
        text + ", and keep early handoffs where customers ask for a person: a quick "
        "handoff costs less CSAT than a failed attempt."
    )


def _cost_advice(report: AiAgentsReport) -> str:
    cost = report.overall["cost_per_conversation"]
    total = report.overall["cost_total"]
    turns = report.overall["turns_mean"]
    text = _few_prefix(cost)
    text += f"{_money(float(cost.value or 0))} per conversation over {cost.n}"
    if total.value is not None:
        text += f" ({_money(float(total.value))} in total"
        if turns.value is not None:
            text += f", {float(turns.value):.1f} turns on average"
        text += ")"
    text += (
        ". Trim the prompt and the retrieved context, send simple inquiries to a smaller, "
        "faster model and cut repeated tool calls"
    )
    worst = _worst(report.breakdowns.get("inquiry", ()), "cost_per_conversation", highest=True)
    if worst is not None:
        key, reading = worst
        text += f"; start with {key!r} at {_money(float(reading.value or 0))} per conversation"
    return text + "."


_Rule = tuple[str, str, Severity, bool, float, float, Callable[[AiAgentsReport], str]]


def _checks(report: AiAgentsReport, targets: Targets) -> tuple[Check, ...]:
    rules: tuple[_Rule, ...] = (
        ("CSAT", "csat_mean", "high", True, targets.csat_floor, targets.csat_target, _csat_advice),
        (
            "Escalation",
            "escalation_rate",
            "medium",
            False,
            targets.escalation_ceiling,
            targets.escalation_target,
            _escalation_advice,
        ),
        (
            "Cost",
            "cost_per_conversation",
            "low",
            False,
            targets.cost_ceiling,
            targets.cost_target,
            _cost_advice,
        ),
    )
    found = []
    for area, metric, severity, higher, threshold, target, advice in rules:
        reading = report.overall[metric]
        status = _status(reading, threshold, target, higher)
        found.append(
            Check(
                area=area,
                metric=metric,
                severity=severity,
                higher_is_better=higher,
                reading=reading,
                threshold=threshold,
                target=target,
                status=status,
                few=0 < reading.n < FEW_SAMPLES,
                recommendation=advice(report) if status == "issue" else "",
            )
        )
    return tuple(found)


def _benchmarks(report: AiAgentsReport, targets: Targets) -> tuple[BenchmarkRow, ...]:
    rows = []
    people_cost_recorded = report.humans["cost_total"].n > 0
    for label, tier1, ai_target, best, ai_metric, human_metric in SEED_BENCHMARKS:
        human: MetricValue | None = report.humans[human_metric]
        note = ""
        if human_metric == "cost_per_conversation" and not people_cost_recorded:
            # No cost.recorded on people's conversations: their cost per conversation
            # would read $0; the setting stands in, and says so.
            human = None
            note = f"{_money(targets.human_cost_per_conversation)} (your setting)"
        rows.append(
            BenchmarkRow(
                label=label,
                tier1=tier1,
                ai_target=ai_target,
                best=best,
                ai_metric=ai_metric,
                ai=report.overall[ai_metric],
                human_metric=human_metric,
                human=human,
                human_note=note,
            )
        )
    return tuple(rows)


def executive_summary(report: AiAgentsReport, targets: Targets) -> ExecutiveSummary:
    share = report.everything["ai_handled_rate"]
    # The rate is a count over n rounded to 9 decimals: rate x n gives the count back.
    handled = 0 if share.value is None else round(float(share.value) * share.n)
    ai_cost = report.overall["cost_per_conversation"]
    ai_spend = report.overall["cost_total"]
    # No cost recorded at all reads as nothing spent here, and the notes say the saving
    # is overstated (ai_cost_recorded).
    spent = 0.0 if ai_spend.value is None else float(ai_spend.value)
    saved = None  # no conversations: nothing to say, not $0
    if share.n:
        saved = round(handled * targets.human_cost_per_conversation - spent, 2)
    csat_ai = report.overall["csat_mean"]
    csat_human = report.humans["csat_mean"]
    difference = None
    if csat_ai.value is not None and csat_human.value is not None:
        difference = round(float(csat_ai.value) - float(csat_human.value), 9)
    return ExecutiveSummary(
        all_conversations=int(report.everything["conversations"].value or 0),
        ai_handled_conversations=handled,
        ai_share=share,
        human_cost_per_conversation=targets.human_cost_per_conversation,
        ai_cost_per_conversation=ai_cost,
        ai_cost_total=ai_spend,
        ai_cost_recorded=report.overall["cost_total"].n > 0,
        cost_saved=saved,
        csat_ai=csat_ai,
        csat_human=csat_human,
        csat_difference=difference,
    )


def build_quality_report(report: AiAgentsReport, targets: Targets) -> QualityReport:
    """The quality report over an AI agents report already computed."""
    summary = executive_summary(report, targets)
    notes = []
    if not summary.ai_cost_recorded and report.overall["conversations"].n:
        notes.append(
            "No cost was recorded on the AI agents' conversations (cost.recorded): their "
            "cost per conversation reads $0 and the savings are overstated."
        )
    return QualityReport(
        report=report,
        targets=targets,
        checks=_checks(report, targets),
        benchmarks=_benchmarks(report, targets),
        summary=summary,
        notes=tuple(notes),
    )


def quality_report(
    store: Store,
    window: Window,
    viewer: Viewer = TEAM_VIEWER,
    *,
    targets: Targets | None = None,
    agent_id: str | None = None,
) -> QualityReport:
    """The quality report of all AI agents (or one) for `window`."""
    targets = targets or Targets()
    report = ai_agents_report(
        store, window, viewer, agent_id=agent_id, half_life_days=targets.half_life_days
    )
    return build_quality_report(report, targets)


# -- CSV -------------------------------------------------------------------------------

CSV_HEADER = (
    "Section",
    "Item",
    "AI value",
    "AI n",
    "Human value",
    "Human n",
    "Threshold",
    "Target",
    "Severity",
    "Status",
    "Detail",
)


def _cell(value: float | int | None, decimals: int = 4) -> str:
    """A plain number, blank when there is no sample."""
    if value is None:
        return ""
    return f"{float(value):.{decimals}f}"


def quality_csv(quality: QualityReport) -> str:
    """The report as one CSV: summary, checks, benchmarks and escalation reasons, one
    row each. Rates are fractions, money in the install's currency, times in seconds;
    blank where there is no sample."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    summary = quality.summary
    blank = ("",) * 4
    writer.writerow(
        (
            "summary",
            "AI-handled share of all conversations",
            _cell(summary.ai_share.value),
            summary.ai_share.n,
            "",
            "",
            *blank,
            f"{summary.ai_handled_conversations} of {summary.all_conversations}",
        )
    )
    writer.writerow(
        (
            "summary",
            "Cost saved",
            _cell(summary.cost_saved, 2),
            summary.ai_handled_conversations,
            _cell(summary.human_cost_per_conversation, 2),
            "",
            *blank,
            "AI-handled conversations x (human cost - AI cost per conversation)",
        )
    )
    writer.writerow(
        (
            "summary",
            "CSAT difference (AI - human)",
            _cell(summary.csat_ai.value),
            summary.csat_ai.n,
            _cell(summary.csat_human.value),
            summary.csat_human.n,
            *blank,
            _cell(summary.csat_difference),
        )
    )
    for check in quality.checks:
        writer.writerow(
            (
                "check",
                check.area,
                _cell(check.reading.value),
                check.reading.n,
                "",
                "",
                _cell(check.threshold),
                _cell(check.target),
                check.severity,
                check.status_label,
                check.recommendation,
            )
        )
    for row in quality.benchmarks:
        writer.writerow(
            (
                "benchmark",
                row.label,
                _cell(row.ai.value),
                row.ai.n,
                "" if row.human is None else _cell(row.human.value),
                "" if row.human is None else row.human.n,
                "",
                "",
                "",
                "",
                f"tier-1 {row.tier1}; AI target {row.ai_target}; best-in-class {row.best}"
                + (f"; human: {row.human_note}" if row.human_note else ""),
            )
        )
    for reason in quality.report.reasons:
        writer.writerow(
            (
                "escalation reason",
                reason.label,
                reason.count,
                quality.report.escalated,
                "",
                "",
                *blank,
                f"share {_cell(reason.share)}",
            )
        )
    return out.getvalue()


__all__ = [
    "CSV_HEADER",
    "FEW_SAMPLES",
    "SEED_BENCHMARKS",
    "BenchmarkRow",
    "Check",
    "ExecutiveSummary",
    "QualityReport",
    "Targets",
    "build_quality_report",
    "executive_summary",
    "quality_csv",
    "quality_report",
]
