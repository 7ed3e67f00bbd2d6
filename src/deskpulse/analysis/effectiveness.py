"""Agent performance by inquiry: the Agent Effectiveness Score and its parts (seed 002).

Every number comes from `query()` with the registry's effectiveness metrics
(`effectiveness_score`, `aes_handle_time`, `predicted_satisfaction`,
`predicted_resolution`, and `aes_interactions` for volume). This module only pairs the
readings, places them in quartile bands (analysis/bands.py), works out each inquiry's
impact on the agent's score and which part of the score to work on:

- the agent's own readings are asked for *as the viewer*, so the query layer confines an
  agent viewer to their own rows;
- the comparisons (team, all agents, top performer, quartile edges) are computed with
  TEAM_VIEWER after `find_agent` has checked that the viewer may open this agent, and
  leave here only as anonymous numbers: no other agent's id or name is ever returned.

Who is compared with whom (docs/metrics.md, "Agent performance by inquiry"):
- "All agents" is every agent *of the same kind* on the channel, pooled: the score
  compares people with people (an AI agent answers in seconds and would make every
  person look slow); an AI agent is compared with the AI agents.
- "Team" is the agents of the same kind who share a team with the agent in the agent
  directory (`agent.upserted` team_ids, as the leaderboard's team filter reads it), the
  agent included, pooled over their interactions. No team: no team reading.
- Bands and the top performer: among the agents of the same kind with at least
  `min_interactions` interactions behind the metric on that inquiry (bands.py). Each
  reading is shrunk toward the inquiry's average by its sampling variance, which
  `_noise` measures from the same rows (reading_noise.py); only spreads leave it.

Impact of an inquiry on the agent's score = the agent's volume share on it (the
inquiry's interactions over all of the agent's interactions on the channel in the
window) x (the agent's score on it - all agents' score on it). Negative lowers the
agent's overall score (good); positive raises it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, cast

from deskpulse import clock
from deskpulse.analysis.agents import Agent, find_agent
from deskpulse.analysis.bands import (
    BAND_LABELS,
    MIN_AGENTS,
    NO_STANDING,
    Band,
    Estimate,
    Quartiles,
    Standing,
    edges_of,
    standing,
)
from deskpulse.analysis.reading_noise import Row, reading_variances
from deskpulse.events.store import Store
from deskpulse.metrics.format import format_value
from deskpulse.metrics.periods import Period
from deskpulse.metrics.query import (
    TEAM_VIEWER,
    Filters,
    MetricValue,
    Query,
    QueryError,
    QueryResult,
    Viewer,
    effectiveness_scored,
    query,
    resolve_period,
)
from deskpulse.metrics.registry import EFFECTIVENESS, REGISTRY
from deskpulse.metrics.report import agent_directory
from deskpulse.metrics.window import Window

EFFECTIVENESS_METRICS: tuple[str, ...] = (
    "effectiveness_score",
    "aes_handle_time",
    "predicted_satisfaction",
    "predicted_resolution",
)
VOLUME_METRIC = "aes_interactions"
_QUERY_METRICS: list[str] = [*EFFECTIVENESS_METRICS, VOLUME_METRIC]
# The parts of the score, in the order a tie between their gaps is settled.
COMPONENTS: tuple[str, ...] = ("aes_handle_time", "predicted_satisfaction", "predicted_resolution")
METRIC_LABELS: dict[str, str] = {name: REGISTRY[name].label for name in EFFECTIVENESS_METRICS}
MIN_INTERACTIONS = 10

WindowName = Literal["3m", "1m", "1w", "24h", "custom"]
WINDOW_NAMES: tuple[WindowName, ...] = ("3m", "1m", "1w", "24h", "custom")
_NAMED_WINDOWS: dict[str, Literal["90d", "30d", "7d"]] = {"3m": "90d", "1m": "30d", "1w": "7d"}
PredictionSource = Literal["model", "measured", "mixed"]
MetricDirection = Literal["higher", "lower"]
# The score's parts that are a prediction when the channel's model for that outcome is
# good enough, and the measured outcome otherwise (effectiveness_facts, per outcome).
OUTCOME_OF_METRIC: dict[str, Literal["satisfaction", "resolution"]] = {
    "predicted_satisfaction": "satisfaction",
    "predicted_resolution": "resolution",
}

__all__ = [
    "BAND_LABELS",
    "COMPONENTS",
    "EFFECTIVENESS_METRICS",
    "METRIC_LABELS",
    "MIN_AGENTS",
    "MIN_INTERACTIONS",
    "AgentPerformance",
    "Band",
    "InquiryDetail",
    "InquiryPerformance",
    "Interaction",
    "MetricComparison",
    "Reading",
    "Recommendation",
    "WindowName",
    "agent_performance",
    "direction_of",
    "inquiry_detail",
    "metric_label",
    "performance_window",
    "poor_interactions",
    "recommend",
    "sort_inquiries",
]


def _aware(moment: datetime) -> datetime:
    """Naive times are UTC (the facts' convention); answer aware UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def performance_window(
    name: WindowName,
    *,
    as_of: datetime | None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Window:
    """The window a performance page looks at.

    3m, 1m and 1w are the 90d, 30d and 7d periods of /analytics ending at `as_of` (whole
    local days plus the day of `as_of`); 24h is exactly the 24 hours before `as_of`
    (default now); custom is `start`..`end`.
    """
    named = _NAMED_WINDOWS.get(name)
    if named is not None:
        return Window(period=named, as_of=as_of)
    if name == "24h":
        until = clock.now() if as_of is None else _aware(as_of)
        return Window(period="custom", start=until - timedelta(hours=24), end=until, as_of=as_of)
    if name == "custom":
        if start is None or end is None:
            raise QueryError("from" if start is None else "to", "a custom window needs from and to")
        if _aware(start) >= _aware(end):
            raise QueryError("to", "the window must end after it starts")
        return Window(period="custom", start=_aware(start), end=_aware(end), as_of=as_of)
    raise QueryError("window", f"unknown window {name!r}; choose one of {', '.join(WINDOW_NAMES)}")


def metric_label(metric: str, source: PredictionSource = "model") -> str:
    """A metric's name as pages say it for numbers from `source`: a measured outcome is
    never called a prediction ("Measured resolution rate", not "Average predicted
    resolution")."""
    outcome = OUTCOME_OF_METRIC.get(metric)
    if outcome is None or source == "model":
        return METRIC_LABELS[metric]
    if source == "measured":
        return f"Measured {outcome} rate"
    return f"Average {outcome} (partly predicted, partly measured)"


def combined_source(
    satisfaction: PredictionSource, resolution: PredictionSource
) -> PredictionSource:
    """Both outcomes' sources in one word: model (both predicted), measured (neither), mixed."""
    return satisfaction if satisfaction == resolution else "mixed"


@dataclass(frozen=True)
class Reading:
    """A value with its sample size; no sample, no value."""

    value: float | None
    n: int


@dataclass(frozen=True)
class MetricComparison:
    metric: str
    agent: Reading
    team: Reading
    all_agents: Reading
    top_performer: float | None  # best value among eligible agents (never a name)
    top_quartile: float | None  # the edge an agent must reach to be "great"
    band: Band
    # The band's uncertainty: the agent's reading shrunk toward the inquiry's average,
    # its 80 % interval and each band's probability (analysis/bands.py).
    standing: Standing = NO_STANDING


@dataclass(frozen=True)
class InquiryPerformance:
    inquiry: str
    volume: int
    volume_share: float
    impact: float | None  # volume_share * (agent AES - all-agent AES); negative lowers it
    metrics: dict[str, MetricComparison]  # keyed by EFFECTIVENESS_METRICS
    prediction_source: PredictionSource  # both outcomes together: model, measured or mixed
    satisfaction_source: PredictionSource  # what predicted_satisfaction is made of
    resolution_source: PredictionSource  # what predicted_resolution is made of

    def source_of(self, metric: str) -> PredictionSource:
        """Where `metric`'s numbers come from; the score and handle time count as "model"
        (they are named the same either way)."""
        outcome = OUTCOME_OF_METRIC.get(metric)
        if outcome is None:
            return "model"
        return self.satisfaction_source if outcome == "satisfaction" else self.resolution_source

    def label(self, metric: str) -> str:
        return metric_label(metric, self.source_of(metric))


@dataclass(frozen=True)
class AgentPerformance:
    agent_id: str
    channel: str  # "" when the agent has no interactions to show on any channel
    channels: list[str]  # channels with data for this agent, busiest first
    window: Window
    overall: dict[str, Reading]  # the agent's readings over all their interactions
    inquiries: list[InquiryPerformance]  # by volume, largest first
    top_performing: list[InquiryPerformance]  # up to 3, most negative impact first
    to_work_on: list[InquiryPerformance]  # up to 3, most positive impact first
    # Over all the agent's interactions on the channel in the window; "measured" when
    # there are none.
    satisfaction_source: PredictionSource = "measured"
    resolution_source: PredictionSource = "measured"

    def source_of(self, metric: str) -> PredictionSource:
        outcome = OUTCOME_OF_METRIC.get(metric)
        if outcome is None:
            return "model"
        return self.satisfaction_source if outcome == "satisfaction" else self.resolution_source

    def label(self, metric: str) -> str:
        return metric_label(metric, self.source_of(metric))


@dataclass(frozen=True)
class Recommendation:
    metric: str | None
    gaps: dict[str, float | None]  # keyed by COMPONENTS; > 0 = behind the top quartile
    explanation: str


@dataclass(frozen=True)
class Interaction:
    conversation_id: str
    created_at: datetime  # aware UTC
    handle_seconds: float | None
    handle_time_estimated: bool
    predicted_satisfaction: float | None
    predicted_resolution: float | None
    prediction_source: str  # model (both predicted) | measured (neither) | mixed
    satisfaction_source: str  # model | measured: what predicted_satisfaction holds
    resolution_source: str  # model | measured: what predicted_resolution holds
    csat_score: int | None
    fcr: bool | None
    # This interaction's own handle seconds / (satisfaction x resolution); None when a
    # part is missing or a probability is 0 (no finite value).
    effectiveness: float | None


@dataclass(frozen=True)
class InquiryDetail:
    agent_id: str
    channel: str
    window: Window
    performance: InquiryPerformance
    recommendation: Recommendation
    examples: list[Interaction]  # recent, newest first


def direction_of(metric: str) -> MetricDirection:
    """Which way is better for an effectiveness metric, from the registry."""
    direction = REGISTRY[metric].direction
    if direction == "neutral":
        raise QueryError("metric", f"{metric} has no better direction")
    return direction


def _reading(value: MetricValue | None) -> Reading:
    if value is None or value.value is None:
        return Reading(None, 0 if value is None else value.n)
    return Reading(float(value.value), value.n)


_Values = dict[str, MetricValue]


@dataclass
class _Figures:
    """The query results one page is assembled from."""

    period: Period
    agent_id: str
    overall: _Values  # the agent's readings over the channel
    mine: dict[str, _Values]  # inquiry -> the agent's readings
    everyone: dict[str, list[_Values]]  # inquiry -> each comparable agent's readings
    pooled: dict[str, _Values]  # inquiry -> all comparable agents pooled
    team: dict[str, _Values] | None  # inquiry -> the team pooled; None: no team
    # inquiry (None: rows without one) -> the satisfaction and resolution sources of the
    # agent's rows
    sources: dict[str | None, tuple[set[str], set[str]]]
    # (agent, inquiry) -> each effectiveness metric's sampling variance (reading_noise.py)
    noise: dict[tuple[str, str], dict[str, float]]
    # inquiry -> the agent id of each entry of `everyone[inquiry]`
    everyone_ids: dict[str, list[str]]


def _by_inquiry(result: QueryResult) -> dict[str, _Values]:
    return {
        str(row.group["inquiry"]): row.metrics
        for row in result.rows
        if row.group.get("inquiry") is not None
    }


def _team_members(store: Store, agent: Agent, kind: str) -> list[str]:
    """Agents of `kind` sharing a team with `agent` in the directory, the agent included."""
    if not agent.team_ids:
        return []
    teams = set(agent.team_ids)
    members = {agent.agent_id}
    for agent_id, known in agent_directory(store).items():
        same_kind = str(known.get("kind") or "human") == kind
        if same_kind and teams & {str(team) for team in known.get("team_ids") or ()}:
            members.add(str(agent_id))
    return sorted(members)


def _kind(agent: Agent) -> Literal["human", "ai"]:
    return "ai" if agent.kind == "ai" else "human"


def _figures(
    store: Store,
    viewer: Viewer,
    agent: Agent,
    channel: str,
    window: Window,
    inquiry: str | None,
) -> _Figures:
    fields = window.query_fields()
    kind = _kind(agent)

    def ask(filters: Filters, group_by: list[Any], who: Viewer) -> QueryResult:
        q = Query(metrics=_QUERY_METRICS, filters=filters, group_by=group_by, **fields)
        return query(store, q, who)

    # The agent's own readings, as the viewer: the query layer confines agent viewers.
    overall = ask(Filters(channel=channel, agent=agent.agent_id), ["agent"], viewer)
    mine = ask(
        Filters(channel=channel, agent=agent.agent_id, inquiry=inquiry),
        ["agent", "inquiry"],
        viewer,
    )
    # Comparisons, after find_agent allowed this page: they leave as anonymous numbers.
    compared = Filters(channel=channel, inquiry=inquiry, agent_kind=kind)
    everyone = ask(compared, ["agent", "inquiry"], TEAM_VIEWER)
    pooled = ask(compared, ["inquiry"], TEAM_VIEWER)
    members = _team_members(store, agent, kind)
    team = None
    if members:
        team = _by_inquiry(
            ask(
                Filters(channel=channel, inquiry=inquiry, agents=tuple(members)),
                ["inquiry"],
                TEAM_VIEWER,
            )
        )

    per_agent: dict[str, list[_Values]] = {}
    per_agent_ids: dict[str, list[str]] = {}
    for row in everyone.rows:
        name = row.group.get("inquiry")
        if name is not None and row.group.get("agent") is not None:
            per_agent.setdefault(str(name), []).append(row.metrics)
            per_agent_ids.setdefault(str(name), []).append(str(row.group["agent"]))
    own = next(
        (row.metrics for row in overall.rows if row.group.get("agent") == agent.agent_id), {}
    )
    return _Figures(
        period=overall.period,
        agent_id=agent.agent_id,
        overall=own,
        mine={
            str(row.group["inquiry"]): row.metrics
            for row in mine.rows
            if row.group.get("inquiry") is not None and row.group.get("agent") == agent.agent_id
        },
        everyone=per_agent,
        pooled=_by_inquiry(pooled),
        team=team,
        sources=_prediction_sources(store, agent.agent_id, channel, overall.period, inquiry),
        noise=_noise(
            store,
            sorted({a for ids in per_agent_ids.values() for a in ids}),
            channel,
            overall.period,
            inquiry,
        ),
        everyone_ids=per_agent_ids,
    )


def _noise(
    store: Store, agent_ids: list[str], channel: str, period: Period, inquiry: str | None
) -> dict[tuple[str, str], dict[str, float]]:
    """How noisy each compared agent's reading is per inquiry: what the bands shrink by.
    Read from the same rows and window as the metrics; only spreads leave this function,
    never another agent's rows."""
    if not agent_ids or not effectiveness_scored(store):
        return {}
    t = store.con.table(EFFECTIVENESS)
    t = t.filter(
        t.agent_id.isin(agent_ids)
        & (t.channel == channel)
        & t.inquiry.notnull()
        & (t.created_at >= period.start_utc)
        & (t.created_at < period.end_utc)
    )
    if inquiry is not None:
        t = t.filter(t.inquiry == inquiry)
    records = (
        t.select(
            "agent_id",
            "inquiry",
            "handle_seconds",
            "predicted_satisfaction",
            "predicted_resolution",
        )
        .to_pyarrow()
        .to_pylist()
    )
    return reading_variances(
        Row(
            agent_id=str(r["agent_id"]),
            inquiry=str(r["inquiry"]),
            handle=_as_float(r["handle_seconds"]),
            satisfaction=_as_float(r["predicted_satisfaction"]),
            resolution=_as_float(r["predicted_resolution"]),
        )
        for r in records
    )


def _prediction_sources(
    store: Store, agent_id: str, channel: str, period: Period, inquiry: str | None
) -> dict[str | None, tuple[set[str], set[str]]]:
    """Whether the agent's interactions per inquiry carry model predictions or measured
    outcomes, for satisfaction and for resolution (a label, not a number)."""
    if not effectiveness_scored(store):
        return {}
    t = store.con.table(EFFECTIVENESS)
    t = t.filter(
        (t.agent_id == agent_id)
        & (t.channel == channel)
        & (t.created_at >= period.start_utc)
        & (t.created_at < period.end_utc)
    )
    if inquiry is not None:
        t = t.filter(t.inquiry == inquiry)
    records = (
        t.select("inquiry", "satisfaction_source", "resolution_source")
        .distinct()
        .to_pyarrow()
        .to_pylist()
    )
    found: dict[str | None, tuple[set[str], set[str]]] = {}
    for record in records:
        key = None if record["inquiry"] is None else str(record["inquiry"])
        satisfaction, resolution = found.setdefault(key, (set(), set()))
        satisfaction.add(str(record["satisfaction_source"] or "measured"))
        resolution.add(str(record["resolution_source"] or "measured"))
    return found


def _overall_sources(figures: _Figures) -> tuple[PredictionSource, PredictionSource]:
    satisfaction: set[str] = set()
    resolution: set[str] = set()
    for found_satisfaction, found_resolution in figures.sources.values():
        satisfaction |= found_satisfaction
        resolution |= found_resolution
    return _source_label(satisfaction), _source_label(resolution)


def _source_label(sources: set[str]) -> PredictionSource:
    """One outcome's rows: all predicted, none (or no rows), or some of each."""
    if sources == {"model"}:
        return "model"
    if "model" in sources:
        return "mixed"
    return "measured"


def _variance(figures: _Figures, agent_id: str, inquiry: str, metric: str) -> float:
    return figures.noise.get((agent_id, inquiry), {}).get(metric, 0.0)


def _count(value: MetricValue | None) -> int:
    return 0 if value is None or value.value is None else int(value.value)


def _inquiry_performance(
    figures: _Figures, inquiry: str, min_interactions: int
) -> InquiryPerformance:
    mine = figures.mine.get(inquiry, {})
    pooled = figures.pooled.get(inquiry, {})
    team = None if figures.team is None else figures.team.get(inquiry, {})
    others = figures.everyone.get(inquiry, [])
    volume = _count(mine.get(VOLUME_METRIC))
    total = _count(figures.overall.get(VOLUME_METRIC))
    share = round(volume / total, 9) if total else 0.0

    ids = figures.everyone_ids.get(inquiry, [])
    comparisons: dict[str, MetricComparison] = {}
    for name in EFFECTIVENESS_METRICS:
        readings = [_reading(values.get(name)) for values in others]
        estimates = [
            Estimate(r.value, r.n, _variance(figures, agent_id, inquiry, name))
            for r, agent_id in zip(readings, ids, strict=True)
        ]
        edges: Quartiles | None = edges_of(estimates, direction_of(name), min_interactions)
        agent = _reading(mine.get(name))
        found = standing(
            Estimate(agent.value, agent.n, _variance(figures, figures.agent_id, inquiry, name)),
            edges,
            min_interactions=min_interactions,
        )
        comparisons[name] = MetricComparison(
            metric=name,
            agent=agent,
            team=Reading(None, 0) if team is None else _reading(team.get(name)),
            all_agents=_reading(pooled.get(name)),
            top_performer=None if edges is None else edges.best,
            top_quartile=None if edges is None else edges.top_edge,
            band=found.band,
            standing=found,
        )

    score = comparisons["effectiveness_score"]
    impact = None
    if score.agent.value is not None and score.all_agents.value is not None:
        impact = round(share * (score.agent.value - score.all_agents.value), 9)
    satisfaction, resolution = figures.sources.get(inquiry, (set(), set()))
    satisfaction_source = _source_label(satisfaction)
    resolution_source = _source_label(resolution)
    return InquiryPerformance(
        inquiry=inquiry,
        volume=volume,
        volume_share=share,
        impact=impact,
        metrics=comparisons,
        prediction_source=combined_source(satisfaction_source, resolution_source),
        satisfaction_source=satisfaction_source,
        resolution_source=resolution_source,
    )


def _agent_channels(store: Store, viewer: Viewer, agent_id: str, window: Window) -> list[str]:
    """Channels the agent has interactions on, busiest in the window first; channels busy
    only in the 3 months before the window's end follow, so a quiet week still lists them."""

    def volumes(fields: dict[str, Any]) -> tuple[dict[str, int], Period]:
        result = query(
            store,
            Query(
                metrics=[VOLUME_METRIC],
                group_by=["agent", "channel"],
                filters=Filters(agent=agent_id),
                **fields,
            ),
            viewer,
        )
        found = {
            str(row.group["channel"]): _count(row.metrics.get(VOLUME_METRIC))
            for row in result.rows
            if row.group.get("channel") is not None and row.group.get("agent") == agent_id
        }
        return {name: count for name, count in found.items() if count > 0}, result.period

    current, period = volumes(window.query_fields())
    wider: dict[str, int] = {}
    if window.period != "90d":
        wider, _ = volumes(Window(period="90d", as_of=period.end).query_fields())
    names = set(current) | set(wider)
    return sorted(names, key=lambda name: (-current.get(name, 0), -wider.get(name, 0), name))


def _impact_lists(
    inquiries: list[InquiryPerformance], min_interactions: int
) -> tuple[list[InquiryPerformance], list[InquiryPerformance]]:
    """(top performing, to work on): the 3 inquiries lowering the agent's score most and
    the 3 raising it most. Only inquiries where the agent's own score rests on at least
    `min_interactions` interactions are ranked (a small sample is never ranked as if it
    were large); an inquiry with no effect either way is in neither list."""
    ranked = [
        p
        for p in inquiries
        if p.impact is not None and p.metrics["effectiveness_score"].agent.n >= min_interactions
    ]
    lowering = sorted((p for p in ranked if p.impact is not None and p.impact < 0), key=_impact)
    raising = sorted(
        (p for p in ranked if p.impact is not None and p.impact > 0),
        key=lambda p: (-_impact(p)[0], p.inquiry),
    )
    return lowering[:3], raising[:3]


def _impact(p: InquiryPerformance) -> tuple[float, str]:
    return (0.0 if p.impact is None else p.impact, p.inquiry)


def agent_performance(
    store: Store,
    viewer: Viewer,
    agent_id: str,
    *,
    channel: str | None,
    window: Window,
    min_interactions: int = MIN_INTERACTIONS,
) -> AgentPerformance:
    """One agent's performance by inquiry on one channel (the "model") in `window`.

    `channel` None is the agent's busiest channel. An agent viewer asking for anyone else,
    or anyone asking for an agent deskpulse has never seen, gets NotVisibleError.
    """
    agent = find_agent(store, agent_id, viewer)
    channels = _agent_channels(store, viewer, agent_id, window)
    chosen = channel if channel is not None else (channels[0] if channels else "")
    if not chosen:
        return AgentPerformance(
            agent_id=agent_id,
            channel="",
            channels=channels,
            window=window,
            overall={name: Reading(None, 0) for name in EFFECTIVENESS_METRICS},
            inquiries=[],
            top_performing=[],
            to_work_on=[],
        )
    figures = _figures(store, viewer, agent, chosen, window, inquiry=None)
    inquiries = [
        _inquiry_performance(figures, name, min_interactions)
        for name in figures.mine
        if _count(figures.mine[name].get(VOLUME_METRIC)) > 0
    ]
    inquiries.sort(key=lambda p: p.inquiry)
    inquiries.sort(key=lambda p: p.volume, reverse=True)
    top_performing, to_work_on = _impact_lists(inquiries, min_interactions)
    satisfaction_source, resolution_source = _overall_sources(figures)
    return AgentPerformance(
        agent_id=agent_id,
        channel=chosen,
        channels=channels,
        window=window,
        overall={name: _reading(figures.overall.get(name)) for name in EFFECTIVENESS_METRICS},
        inquiries=inquiries,
        top_performing=top_performing,
        to_work_on=to_work_on,
        satisfaction_source=satisfaction_source,
        resolution_source=resolution_source,
    )


SORT_KEYS: tuple[str, ...] = ("volume", *EFFECTIVENESS_METRICS)


def sort_inquiries(
    rows: list[InquiryPerformance], key: str, descending: bool
) -> list[InquiryPerformance]:
    """The all-inquiries table sorted by volume or by the agent's value of a metric.

    Rows without a value sort last in either direction; ties read by inquiry name.
    """
    if key not in SORT_KEYS:
        raise QueryError("sort", f"unknown column {key!r}; choose one of {', '.join(SORT_KEYS)}")

    def value(row: InquiryPerformance) -> float | None:
        if key == "volume":
            return float(row.volume)
        return row.metrics[key].agent.value

    by_name = sorted(rows, key=lambda row: row.inquiry)
    present = [row for row in by_name if value(row) is not None]
    empty = [row for row in by_name if value(row) is None]
    present.sort(key=lambda row: cast(float, value(row)), reverse=descending)
    return present + empty


# -- recommendation --------------------------------------------------------------------------


def _shown(metric: str, value: float) -> str:
    return format_value(REGISTRY[metric], value)


def recommend(
    performance: InquiryPerformance, min_interactions: int = MIN_INTERACTIONS
) -> Recommendation:
    """The part of the score to work on: the one with the largest log-gap to the top
    quartile edge among agents on this inquiry.

    gap(handle time) = ln(yours / edge); gap(satisfaction) = ln(edge / yours); gap(resolution)
    = ln(edge / yours). A positive gap is how far behind the top quarter you are. The three
    add up to ln(your score / the score made of the three edges), because the score is
    handle time / (satisfaction x resolution): so the gaps are shares of one distance and
    can be compared, whatever their units. A gap needs both values above zero.
    """
    gaps: dict[str, float | None] = {}
    for name in COMPONENTS:
        comparison = performance.metrics[name]
        mine, edge = comparison.agent.value, comparison.top_quartile
        if mine is None or edge is None or mine <= 0 or edge <= 0:
            gaps[name] = None
            continue
        ratio = mine / edge if direction_of(name) == "lower" else edge / mine
        gaps[name] = round(math.log(ratio), 9)

    known = {name: gap for name, gap in gaps.items() if gap is not None}
    volume = performance.volume
    if not known:
        if volume == 0:
            text = (
                "You have no interactions on this inquiry in this window, so there is "
                "nothing to compare yet."
            )
        else:
            text = (
                "There is nothing to compare with yet: the top quarter is worked out once at "
                f"least {MIN_AGENTS} agents have handled {min_interactions} or more of this "
                "inquiry in the window, and handle time, satisfaction and resolution all "
                "need a value."
            )
        return Recommendation(metric=None, gaps=gaps, explanation=text)

    # Largest gap; equal gaps are settled in COMPONENTS order.
    chosen = max(known, key=lambda name: (known[name], -COMPONENTS.index(name)))
    comparison = performance.metrics[chosen]
    label = performance.label(chosen).lower()
    mine = cast(float, comparison.agent.value)
    edge = cast(float, comparison.top_quartile)
    yours = (
        f"yours is {_shown(chosen, mine)}, the top quarter of agents reach {_shown(chosen, edge)}"
    )
    gap = known[chosen]
    if gap > 0:
        lower_by = 100 * (1 - math.exp(-gap))
        text = (
            f"Focus on {label}. Of the three things your Agent Effectiveness Score is made of "
            f"(handle time, satisfaction and resolution), it is the furthest behind the top "
            f"quarter of agents on this inquiry: {yours}. Reaching them on {label} alone would "
            f"lower your score by about {lower_by:.0f}% (lower is better)."
        )
    else:
        text = (
            "You are already level with or ahead of the top quarter of agents on this inquiry "
            f"for {_listing(performance, known)}. {performance.label(chosen)} is where your lead "
            "is smallest "
            f"({yours}), so it is the one to keep an eye on."
        )
    if comparison.agent.n < min_interactions:
        text += (
            f" Your {label} comes from only {comparison.agent.n} interactions, so treat this as a "
            "first pointer rather than a verdict."
        )
    return Recommendation(metric=chosen, gaps=gaps, explanation=text)


def _listing(performance: InquiryPerformance, known: dict[str, float]) -> str:
    names = [performance.label(name).lower() for name in COMPONENTS if name in known]
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]


# -- interactions ---------------------------------------------------------------------------


def _effectiveness(
    handle: float | None, satisfaction: float | None, resolution: float | None
) -> float | None:
    if handle is None or satisfaction is None or resolution is None:
        return None
    if satisfaction <= 0 or resolution <= 0:
        return None
    return round(handle / (satisfaction * resolution), 9)


def _as_float(value: Any) -> float | None:
    return None if value is None else float(value)


def _interactions(
    store: Store, agent_id: str, channel: str, inquiry: str, period: Period
) -> list[Interaction]:
    """The agent's interactions on the inquiry in `period`, newest first."""
    if not effectiveness_scored(store):
        return []
    t = store.con.table(EFFECTIVENESS)
    picked = t.filter(
        (t.agent_id == agent_id)
        & (t.channel == channel)
        & (t.inquiry == inquiry)
        & (t.created_at >= period.start_utc)
        & (t.created_at < period.end_utc)
    ).select(
        "conversation_id",
        "created_at",
        "handle_seconds",
        "handle_time_estimated",
        "predicted_satisfaction",
        "predicted_resolution",
        "prediction_source",
        "satisfaction_source",
        "resolution_source",
        "csat_score",
        "fcr",
    )
    records = picked.to_pyarrow().to_pylist()
    found: list[Interaction] = []
    for r in records:
        created = r["created_at"]
        if hasattr(created, "to_pydatetime"):
            created = created.to_pydatetime()
        handle = _as_float(r["handle_seconds"])
        satisfaction = _as_float(r["predicted_satisfaction"])
        resolution = _as_float(r["predicted_resolution"])
        found.append(
            Interaction(
                conversation_id=str(r["conversation_id"]),
                created_at=_aware(created),
                handle_seconds=handle,
                handle_time_estimated=bool(r["handle_time_estimated"]),
                predicted_satisfaction=satisfaction,
                predicted_resolution=resolution,
                prediction_source=str(r["prediction_source"] or "measured"),
                satisfaction_source=str(r["satisfaction_source"] or "measured"),
                resolution_source=str(r["resolution_source"] or "measured"),
                csat_score=None if r["csat_score"] is None else int(r["csat_score"]),
                fcr=None if r["fcr"] is None else bool(r["fcr"]),
                effectiveness=_effectiveness(handle, satisfaction, resolution),
            )
        )
    # Newest first; the id settles equal times the same way every time.
    found.sort(key=lambda i: i.conversation_id, reverse=True)
    found.sort(key=lambda i: i.created_at, reverse=True)
    return found


def _period(store: Store, window: Window) -> Period:
    return resolve_period(Query(metrics=[VOLUME_METRIC], **window.query_fields()), store)


def _worst_key(metric: str) -> Callable[[Interaction], float | None]:
    """How bad an interaction is for `metric`, larger is worse; None: not in the list."""
    if metric == "aes_handle_time":
        return lambda i: i.handle_seconds
    if metric == "predicted_satisfaction":
        return lambda i: None if i.predicted_satisfaction is None else -i.predicted_satisfaction
    if metric == "predicted_resolution":
        return lambda i: None if i.predicted_resolution is None else -i.predicted_resolution

    def score(i: Interaction) -> float | None:
        if i.handle_seconds is None or i.predicted_satisfaction is None:
            return None
        if i.predicted_resolution is None:
            return None
        if i.effectiveness is None:
            # A zero probability: no satisfied, resolved outcome at all, the worst there is.
            return math.inf
        return i.effectiveness

    return score


def poor_interactions(
    store: Store,
    viewer: Viewer,
    agent_id: str,
    *,
    channel: str,
    inquiry: str,
    metric: str,
    window: Window,
    limit: int = 10,
) -> list[Interaction]:
    """The agent's worst interactions on the inquiry for `metric`, worst first: longest
    handle time, lowest predicted satisfaction or resolution, highest per-interaction
    score (a zero probability counts as the highest). Ties: newest first."""
    find_agent(store, agent_id, viewer)
    if metric not in EFFECTIVENESS_METRICS:
        raise QueryError(
            "metric", f"unknown metric {metric!r}; choose one of {', '.join(EFFECTIVENESS_METRICS)}"
        )
    key = _worst_key(metric)
    rows = _interactions(store, agent_id, channel, inquiry, _period(store, window))
    kept: list[tuple[float, Interaction]] = []
    for interaction in rows:
        value = key(interaction)
        if value is not None:
            kept.append((value, interaction))
    # `rows` is newest first and the sort is stable, so equal values stay newest first.
    kept.sort(key=lambda pair: pair[0], reverse=True)
    return [i for _, i in kept[: max(limit, 0)]]


def inquiry_detail(
    store: Store,
    viewer: Viewer,
    agent_id: str,
    *,
    channel: str,
    inquiry: str,
    window: Window,
    min_interactions: int = MIN_INTERACTIONS,
    examples: int = 10,
) -> InquiryDetail:
    """One inquiry of one agent: each metric with its band and comparisons, the metric to
    focus on, and recent interactions (newest first)."""
    agent = find_agent(store, agent_id, viewer)
    figures = _figures(store, viewer, agent, channel, window, inquiry=inquiry)
    performance = _inquiry_performance(figures, inquiry, min_interactions)
    recent = _interactions(store, agent_id, channel, inquiry, figures.period)
    return InquiryDetail(
        agent_id=agent_id,
        channel=channel,
        window=window,
        performance=performance,
        recommendation=recommend(performance, min_interactions),
        examples=recent[: max(examples, 0)],
    )
