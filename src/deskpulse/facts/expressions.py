"""Ibis expressions that turn raw events into facts, one function per fact table.

Every ordering is on (occurred_at, id), so ties between events at the same instant
break the same way whatever order the events arrived in: that is what makes facts
independent of arrival order and batching.

Durations are seconds with microsecond precision (AI agents answer in under a
second), computed as a microsecond difference, which both backends agree on exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.types as ir
from ibis import _

from deskpulse.facts.business_hours import business_seconds_expr
from deskpulse.facts.durations import seconds_between
from deskpulse.settings import Settings

HUMAN = "agent"
AI = "ai"


def flag(condition: ir.BooleanValue) -> ir.IntegerValue:
    """1 or 0; PostgreSQL cannot cast a boolean to an integer."""
    return condition.ifelse(1, 0)


def count_if(condition: ir.BooleanValue) -> ir.IntegerScalar:
    # COUNT, not SUM of flags: DuckDB sums integers into HUGEINT (and Ibis drops a cast
    # it thinks is a no-op), and 128-bit columns are many times slower to aggregate.
    return condition.ifelse(1, ibis.null("int64")).count()


def in_order(table: ir.Table, *keys: str) -> Any:
    return ibis.window(group_by=[table[k] for k in keys], order_by=[table.occurred_at, table.id])


def latest_row(table: ir.Table, *keys: str) -> ir.Table:
    """The latest row per key: the last by (occurred_at, id)."""
    window = ibis.window(
        group_by=[table[k] for k in keys],
        order_by=[table.occurred_at.desc(), table.id.desc()],
    )
    return table.mutate(_rank=ibis.row_number().over(window)).filter(_._rank == 0).drop("_rank")


def attach(base: ir.Table, parts: list[ir.Table], keys: tuple[str, ...]) -> ir.Table:
    """Left-join every part to `base` on `keys` in one flat join chain.

    Chaining joins (rather than join-then-project, repeatedly) keeps the compiled SQL
    linear in the number of parts instead of quadratic.
    """
    joined = base
    renamed = []
    for number, part in enumerate(parts):
        aliases = {f"_k{number}_{key}": key for key in keys}
        part = part.rename(aliases)
        renamed.append((part, aliases))
        joined = joined.left_join(
            part, [joined[key] == part[alias] for alias, key in aliases.items()]
        )
    hidden = {alias for _part, aliases in renamed for alias in aliases}
    return joined.select([name for name in joined.columns if name not in hidden])


def _latest_value(table: ir.Table, column: str) -> ir.Table:
    present = table.filter(table[column].notnull())
    return latest_row(present, "conversation_id").select("conversation_id", column)


Stage = Callable[[str, ir.Table], ir.Table]


# Calendar duration columns with a business-time twin `<name>_business_seconds`:
# name -> (start column, end column) of the span measured.
CONVERSATION_SPANS: dict[str, tuple[str, str]] = {
    "first_response": ("start_at", "first_response_at"),
    "first_human_response": ("human_start_at", "first_human_response_at"),
    "first_resolution": ("created_at", "first_resolved_at"),
    "full_resolution": ("created_at", "full_resolved_at"),
}


def with_business_time(
    table: ir.Table,
    intervals: ir.Table | None,
    *,
    start: str,
    end: str,
    name: str,
    inbox: str = "inbox_id",
) -> ir.Table:
    """`table` plus `<name>_business_seconds` (see facts/business_hours.py); with no
    intervals table, the calendar seconds."""
    if intervals is None:
        return table.mutate(
            **{f"{name}_business_seconds": seconds_between(table[start], table[end])}
        )
    return business_seconds_expr(table, intervals, start=start, end=end, inbox=inbox, name=name)


def conversation_facts(
    events: ir.Table, settings: Settings, stage: Stage, intervals: ir.Table | None = None
) -> ir.Table:
    """Conversation facts; `stage` materialises an intermediate table and returns it.

    `intervals` is a `business_intervals` table covering the events' dates; without
    it the business-time twins equal the calendar durations.

    Materialising keeps each compiled query small: Ibis inlines a reused subtree at
    every use, and the conversation facts reuse the message and status sequences.
    """
    e = events
    created = e.filter(e.type == "conversation.created")
    # A repeated conversation.created keeps the first one's creation time.
    first_created = created.mutate(
        _rank=ibis.row_number().over(in_order(created, "conversation_id"))
    ).filter(_._rank == 0)
    base = first_created.select(
        "conversation_id", "customer_id", "channel", created_at=_.occurred_at
    )

    # Attributes: the latest non-null value across created and updated events.
    attributes = e.filter(e.type.isin(["conversation.created", "conversation.updated"]))
    latest_attributes = [
        _latest_value(attributes, column)
        for column in ("inbox_id", "inquiry", "priority", "customer_tier", "language")
    ]

    assigned = e.filter(e.type == "conversation.assigned")
    last_assignment = latest_row(assigned, "conversation_id").select(
        "conversation_id", assignee_id=_.agent_id
    )
    last_team = _latest_value(assigned, "team_id")

    messages = stage(
        "messages", message_sequence(e, float(settings.handle_time_estimate_cap_seconds))
    )
    message_totals = messages.group_by("conversation_id").aggregate(
        first_message_at=messages.occurred_at.min(where=messages.is_inbound),
        inbound_messages=count_if(messages.is_inbound),
        replies=count_if(messages.is_reply),
        human_replies=count_if(messages.is_reply & (messages.author_kind == HUMAN)),
        ai_replies=count_if(messages.is_reply & (messages.author_kind == AI)),
        turns=count_if(messages.answers_customer),
        first_handoff_at=messages.occurred_at.min(where=messages.is_handoff),
        estimated_seconds=messages.estimate.sum(where=messages.is_reply),
    )
    ai_repliers = messages.filter(messages.is_reply & (messages.author_kind == AI))
    first_ai = (
        ai_repliers.mutate(_rank=ibis.row_number().over(in_order(ai_repliers, "conversation_id")))
        .filter(_._rank == 0)
        .select("conversation_id", ai_agent_id=_.agent_id)
    )

    escalations = e.filter(e.type == "conversation.escalated")
    first_escalation = (
        escalations.mutate(_rank=ibis.row_number().over(in_order(escalations, "conversation_id")))
        .filter(_._rank == 0)
        .select("conversation_id", escalated_at=_.occurred_at, escalation_reason=_.reason)
    )

    status = stage("status", status_sequence(e))
    status_totals = status.group_by("conversation_id").aggregate(
        first_resolved_at=status.occurred_at.min(where=status.status == "resolved"),
        last_resolved_at=status.occurred_at.max(where=status.status == "resolved"),
        last_unresolved_at=status.occurred_at.max(where=status.status != "resolved"),
        reopens=count_if(status.is_reopen),
        first_reopen_at=status.occurred_at.min(where=status.is_reopen),
    )
    final_status = latest_row(status, "conversation_id").select("conversation_id", status=_.status)
    work = e.filter(e.type == "work.logged")
    work_totals = work.group_by("conversation_id").aggregate(logged_seconds=work.seconds.sum())

    costs = e.filter(e.type == "cost.recorded")
    cost_totals = costs.group_by("conversation_id").aggregate(
        # SUM widens DECIMAL(18,6) to DECIMAL(38,6), which is slow to aggregate later.
        cost_amount=costs.amount.sum().cast("decimal(18, 6)")
    )

    facts = attach(
        base,
        [
            *latest_attributes,
            last_assignment,
            last_team,
            message_totals,
            first_ai,
            first_escalation,
            status_totals,
            final_status,
            work_totals,
            cost_totals,
        ],
        ("conversation_id",),
    )

    facts = facts.mutate(
        start_at=ibis.coalesce(_.first_message_at, _.created_at),
        ai_involved=_.ai_replies.fill_null(0) > 0,
        escalated=_.escalated_at.notnull(),
    )
    facts = facts.mutate(
        # Bot time is excluded: after an AI-to-human handoff the human clock starts at
        # the handoff, not at the customer's first message.
        human_start_at=_.first_handoff_at.notnull().ifelse(
            ibis.greatest(_.start_at, _.first_handoff_at), _.start_at
        )
    )
    facts = stage("conversation_base", facts)
    facts = attach(
        facts,
        [_first_replies(messages, facts), _surveys(e, facts, settings)],
        ("conversation_id",),
    )
    # A conversation opened by a public reply (no customer message, the first reply at
    # the creation instant: a brand's tweet, an outbound e-mail) kept nobody waiting, so
    # it has no first response rather than 0 s; after a handoff a human still answers.
    opened_by_reply = _.first_message_at.isnull() & (_.first_reply_at == _.created_at)
    facts = facts.mutate(
        first_response_at=opened_by_reply.ifelse(ibis.null("timestamp"), _.first_response_at),
        first_human_response_at=(opened_by_reply & _.first_handoff_at.isnull()).ifelse(
            ibis.null("timestamp"), _.first_human_response_at
        ),
    )

    fcr_window = ibis.interval(days=settings.fcr_window_days)
    ai_window = ibis.interval(days=7)
    facts = facts.mutate(status=_.status.fill_null("open"))
    # Full resolution: the last `resolved`, when nothing reopened the conversation since.
    facts = facts.mutate(
        full_resolved_at=(_.status == "resolved").ifelse(_.last_resolved_at, ibis.null("timestamp"))
    )
    is_resolved = _.status == "resolved"
    facts = facts.mutate(
        reopens=_.reopens.fill_null(0),
        inbound_messages=_.inbound_messages.fill_null(0),
        replies=_.replies.fill_null(0),
        human_replies=_.human_replies.fill_null(0),
        ai_replies=_.ai_replies.fill_null(0),
        turns=_.turns.fill_null(0),
        first_response_seconds=seconds_between(_.start_at, _.first_response_at),
        first_human_response_seconds=seconds_between(_.human_start_at, _.first_human_response_at),
        first_resolution_seconds=seconds_between(_.created_at, _.first_resolved_at),
        full_resolution_seconds=seconds_between(_.created_at, _.full_resolved_at),
        handle_seconds=ibis.coalesce(_.logged_seconds, _.estimated_seconds),
        handle_time_estimated=_.logged_seconds.isnull() & _.estimated_seconds.notnull(),
        ai_handled=(_.ai_replies.fill_null(0) > 0) & (_.human_replies.fill_null(0) == 0),
        fcr_candidate=is_resolved & (_.reopens.fill_null(0) == 0),
        ai_resolved_candidate=is_resolved
        & (_.first_reopen_at.isnull() | (_.first_reopen_at > _.first_resolved_at + ai_window)),
    )
    facts = stage("conversation_timed", facts)
    for name, (start, end) in CONVERSATION_SPANS.items():
        facts = stage(
            f"business_{name}",
            with_business_time(facts, intervals, start=start, end=end, name=name),
        )
    facts = attach(facts, [_repeat_contacts(facts, fcr_window)], ("conversation_id",))
    facts = facts.mutate(
        fcr=is_resolved.ifelse(_.fcr_candidate & _.repeat_contact.isnull(), ibis.null("boolean")),
        ai_resolved=_.ai_handled & _.ai_resolved_candidate,
        first_reopened_at=_.first_reopen_at,
        fcr_settles_at=_.full_resolved_at + fcr_window,
        survey_settles_at=_.first_resolved_at + ibis.interval(days=settings.survey_window_days),
    )
    return facts.select(*_CONVERSATION_COLUMNS)


_CONVERSATION_COLUMNS = (
    "conversation_id",
    "created_at",
    "channel",
    "inbox_id",
    "customer_id",
    "inquiry",
    "priority",
    "customer_tier",
    "language",
    "team_id",
    "assignee_id",
    "first_message_at",
    "first_reply_at",
    "first_response_at",
    "first_response_seconds",
    "first_response_business_seconds",
    "first_human_response_at",
    "first_human_response_seconds",
    "first_human_response_business_seconds",
    "first_resolved_at",
    "first_resolution_seconds",
    "first_resolution_business_seconds",
    "full_resolved_at",
    "full_resolution_seconds",
    "full_resolution_business_seconds",
    "status",
    "reopens",
    "first_reopened_at",
    "fcr",
    "fcr_settles_at",
    "survey_settles_at",
    "turns",
    "inbound_messages",
    "replies",
    "human_replies",
    "ai_replies",
    "handle_seconds",
    "handle_time_estimated",
    "escalated",
    "escalated_at",
    "escalation_reason",
    "ai_involved",
    "ai_agent_id",
    "ai_handled",
    "ai_resolved",
    "csat_score",
    "csat_at",
    "nps_score",
    "nps_at",
    "ces_score",
    "ces_at",
    "cost_amount",
    "last_event_at",
)


_SEQUENCE_COLUMNS = (
    "id",
    "conversation_id",
    "occurred_at",
    "type",
    "direction",
    "author_kind",
    "agent_id",
    "ai_assist",
    "from_agent_id",
)


def message_sequence(events: ir.Table, estimate_cap_seconds: float) -> ir.Table:
    """Customer messages, public replies and AI handoffs in order, with what each
    reply answers.

    Notes and system messages are not part of the customer-facing exchange, so they
    neither start nor stop a clock. Only the columns needed are kept: the window sorts
    below would otherwise carry every event column, message text included.
    """
    e = events.select(*_SEQUENCE_COLUMNS)
    messages = e.filter(
        (e.type == "message.created")
        & (
            (e.direction == "inbound")
            | ((e.direction == "outbound") & e.author_kind.isin([HUMAN, AI]))
        )
    )
    # A handoff to a human leaves the customer waiting for a human even though a bot
    # may have answered. An escalation is such a handoff when the escalating agent
    # wrote AI replies here, or when no human had replied yet (a triage bot that
    # escalates without answering). Both tests use only this conversation's events,
    # which keeps facts independent of when agent.upserted events arrive.
    ai_authors = (
        messages.filter(messages.author_kind == AI)
        .select("conversation_id", "agent_id", is_ai_author=ibis.literal(True))
        .distinct()
    )
    first_human = (
        messages.filter((messages.direction == "outbound") & (messages.author_kind == HUMAN))
        .group_by("conversation_id")
        .aggregate(first_human_reply_at=_.occurred_at.min())
    )
    escalations = e.filter(e.type == "conversation.escalated")
    escalations = attach(
        escalations.mutate(agent_id=escalations.from_agent_id),
        [ai_authors],
        ("conversation_id", "agent_id"),
    )
    escalations = attach(escalations, [first_human], ("conversation_id",))
    handoffs = escalations.filter(
        escalations.is_ai_author.fill_null(False)
        | escalations.first_human_reply_at.isnull()
        | (escalations.occurred_at < escalations.first_human_reply_at)
    ).select(*_SEQUENCE_COLUMNS)
    # The joins relax nullability; one schema for both sides of the union.
    m = messages.union(handoffs.cast(messages.schema()))
    m = m.mutate(
        is_inbound=(m.direction == "inbound").fill_null(False),
        is_reply=(m.direction == "outbound").fill_null(False),
        is_handoff=m.type == "conversation.escalated",
    )
    window = in_order(m, "conversation_id")
    earlier = ibis.window(
        group_by=m.conversation_id, order_by=[m.occurred_at, m.id], rows=(None, -1)
    )
    m = m.mutate(
        # The latest earlier message (a handoff is not a message): what a reply answers.
        previous_at=m.is_handoff.ifelse(ibis.null("timestamp"), m.occurred_at).max().over(earlier),
        # Replies before this row: the customer messages (and handoffs) sharing a value
        # form what this conversation's next reply answers.
        exchange=flag(m.is_reply).cumsum().over(window) - flag(m.is_reply),
    )
    waiting = (
        m.filter(m.is_inbound | m.is_handoff)
        .group_by(["conversation_id", "exchange"])
        .aggregate(
            waiting_since=_.occurred_at.min(),
            customer_waiting_since=_.occurred_at.min(where=_.is_inbound),
        )
    )
    m = attach(m, [waiting], ("conversation_id", "exchange"))
    return m.mutate(
        # A turn: a run of customer messages answered by a public reply.
        answers_customer=m.is_reply & m.customer_waiting_since.notnull(),
        # Handle-time estimate: the time since the message this reply follows, capped.
        estimate=m.previous_at.isnull().ifelse(
            0.0,
            ibis.least(seconds_between(m.previous_at, m.occurred_at), estimate_cap_seconds),
        ),
    )


def status_sequence(events: ir.Table) -> ir.Table:
    s = events.filter(events.type == "conversation.status_changed").select(
        "id", "conversation_id", "occurred_at", "status"
    )
    window = in_order(s, "conversation_id")
    s = s.mutate(
        previous_status=s.status.lag().over(window),
        next_change_at=s.occurred_at.lead().over(window),
    )
    return s.mutate(
        is_reopen=(s.status != "resolved") & (s.previous_status == "resolved"),
    )


def _first_replies(messages: ir.Table, facts: ir.Table) -> ir.Table:
    clocks = facts.select("conversation_id", "start_at", "human_start_at")
    replies = messages.filter(messages.is_reply).join(clocks, "conversation_id")
    return replies.group_by("conversation_id").aggregate(
        first_response_at=replies.occurred_at.min(where=replies.occurred_at >= replies.start_at),
        first_human_response_at=replies.occurred_at.min(
            where=(replies.author_kind == HUMAN) & (replies.occurred_at >= replies.human_start_at)
        ),
        first_reply_at=replies.occurred_at.min(),
    )


def _surveys(events: ir.Table, conversations: ir.Table, settings: Settings) -> ir.Table:
    """The latest answer per survey kind, ignoring answers long after resolution."""
    window = ibis.interval(days=settings.survey_window_days)
    answers = events.filter(events.type == "survey.responded").left_join(
        conversations.select("conversation_id", "last_resolved_at"), "conversation_id"
    )
    answers = answers.drop("conversation_id_right").filter(
        _.last_resolved_at.isnull() | (_.occurred_at <= _.last_resolved_at + window)
    )
    latest = latest_row(answers, "conversation_id", "survey")
    # Every conversation gets a row, answered or not, so the joins below keep them all.
    activity = (
        events.filter(events.conversation_id.notnull())
        .group_by("conversation_id")
        .aggregate(last_event_at=_.occurred_at.max())
    )
    answers_by_kind = [
        latest.filter(latest.survey == kind).select(
            "conversation_id",
            **{f"{kind}_score": _.score.cast("int64"), f"{kind}_at": _.occurred_at},
        )
        for kind in ("csat", "nps", "ces")
    ]
    return attach(activity, answers_by_kind, ("conversation_id",))


def _repeat_contacts(facts: ir.Table, window: ir.IntervalValue) -> ir.Table:
    """Conversations followed by the same customer's new one on the same inquiry."""
    first = facts.filter(facts.inquiry.notnull() & facts.fcr_candidate).select(
        "conversation_id", "customer_id", "inquiry", "created_at", "full_resolved_at"
    )
    later = facts.filter(facts.inquiry.notnull()).select(
        later_id=_.conversation_id,
        later_customer=_.customer_id,
        later_inquiry=_.inquiry,
        later_created_at=_.created_at,
    )
    pairs = first.join(
        later,
        [
            first.customer_id == later.later_customer,
            first.inquiry == later.later_inquiry,
            later.later_created_at > first.created_at,
            later.later_created_at <= first.full_resolved_at + window,
            first.conversation_id != later.later_id,
        ],
    )
    return pairs.group_by("conversation_id").aggregate(repeat_contact=_.later_id.min())


def agent_conversation_facts(
    events: ir.Table,
    messages: ir.Table,
    conversations: ir.Table,
    intervals: ir.Table | None = None,
) -> ir.Table:
    """One row per agent involved in a conversation: replied, assigned, mentioned or logged.

    `messages` is the materialised `message_sequence` of the same events.
    """
    e = events
    replies = messages.filter(messages.is_reply)
    human = replies.author_kind == HUMAN
    reply_totals = replies.group_by(["conversation_id", "agent_id"]).aggregate(
        replies=_.count().cast("int64"),
        replies_as_is=count_if(human & (replies.ai_assist == "draft_as_is")),
        replies_edited=count_if(human & (replies.ai_assist == "draft_edited")),
        replies_scratch=count_if(human & (replies.ai_assist.fill_null("none") == "none")),
        first_reply_at=replies.occurred_at.min(),
        estimated_seconds=replies.estimate.sum(),
    )
    # The agent's first reply that answered someone waiting: a follow-up sent while
    # nobody waited gives no sample, and does not hide a later real answer.
    answering = replies.filter(replies.waiting_since.notnull())
    first_reply = answering.mutate(
        _rank=ibis.row_number().over(in_order(answering, "conversation_id", "agent_id"))
    ).filter(_._rank == 0)

    assigned = e.filter((e.type == "conversation.assigned") & e.agent_id.notnull())
    assignments = assigned.select("conversation_id", "agent_id", assigned_at=_.occurred_at)
    # The assignment that counts is the latest one to this agent strictly before their
    # first reply. One at the reply's own instant arrived with it (one helpdesk update:
    # the agent took the conversation by answering it, e.g. a Zendesk audit setting the
    # assignee and adding the comment); counting it would make every such reply 0 s.
    clock = first_reply.select(
        "conversation_id", "agent_id", reply_at=_.occurred_at, waiting_since=_.waiting_since
    ).left_join(
        assignments,
        [
            _.conversation_id == assignments.conversation_id,
            _.agent_id == assignments.agent_id,
            assignments.assigned_at < _.reply_at,
        ],
    )
    clock = clock.group_by(["conversation_id", "agent_id", "reply_at", "waiting_since"]).aggregate(
        assigned_at=_.assigned_at.max()
    )
    clock = clock.mutate(
        agent_clock_start=ibis.coalesce(
            ibis.greatest(_.waiting_since, _.assigned_at), _.waiting_since
        ),
        # The sample is bucketed by the reply it measures, not by an earlier follow-up.
        agent_first_response_at=_.reply_at,
    )
    clock = clock.mutate(
        agent_first_response_seconds=seconds_between(_.agent_clock_start, _.reply_at)
    ).select(
        "conversation_id",
        "agent_id",
        "agent_first_response_seconds",
        "agent_first_response_at",
        "agent_clock_start",
    )

    was_assigned = assignments.group_by(["conversation_id", "agent_id"]).aggregate(
        was_assigned=_.count() > 0
    )

    notes = e.filter((e.type == "message.created") & (e.direction == "note"))
    mentioned = (
        notes.select("conversation_id", "id", "occurred_at", agent_id=notes.mentions.unnest())
        .distinct()
        .group_by(["conversation_id", "agent_id"])
        .aggregate(mentions=_.count().cast("int64"), first_mentioned_at=_.occurred_at.min())
    )

    work = e.filter(e.type == "work.logged")
    logged = work.group_by(["conversation_id", "agent_id"]).aggregate(
        logged_seconds=work.seconds.sum()
    )

    # Whoever resolves a conversation has handled it, reply or not (a ServiceNow
    # resolver works the incident without public replies in the export).
    resolving = e.filter(
        (e.type == "conversation.status_changed") & (e.status == "resolved") & e.agent_id.notnull()
    )
    resolved = resolving.group_by(["conversation_id", "agent_id"]).aggregate(
        first_resolved_by_agent_at=_.occurred_at.min()
    )

    keys = (
        reply_totals.select("conversation_id", "agent_id")
        .union(was_assigned.select("conversation_id", "agent_id"))
        .union(resolved.select("conversation_id", "agent_id"))
        .union(mentioned.select("conversation_id", "agent_id"))
        .union(logged.select("conversation_id", "agent_id"))
        .distinct()
    )
    rows = attach(
        keys,
        [reply_totals, clock, was_assigned, mentioned, logged, resolved],
        ("conversation_id", "agent_id"),
    )
    conversation = conversations.select(
        "conversation_id",
        "created_at",
        "channel",
        "inbox_id",
        "inquiry",
        "customer_tier",
        "language",
        "team_id",
        "csat_score",
        "csat_at",
    )
    rows = rows.join(conversation, "conversation_id")
    rows = rows.mutate(
        handled=(_.replies.fill_null(0) > 0) | _.first_resolved_by_agent_at.notnull(),
        # Handled from the first public reply or the resolution, whichever came first.
        handled_at=_.first_reply_at.isnull().ifelse(
            _.first_resolved_by_agent_at,
            _.first_resolved_by_agent_at.isnull().ifelse(
                _.first_reply_at, ibis.least(_.first_reply_at, _.first_resolved_by_agent_at)
            ),
        ),
        was_assigned=_.was_assigned.fill_null(False),
        replies=_.replies.fill_null(0),
        replies_as_is=_.replies_as_is.fill_null(0),
        replies_edited=_.replies_edited.fill_null(0),
        replies_scratch=_.replies_scratch.fill_null(0),
        mentions=_.mentions.fill_null(0),
        handle_seconds=ibis.coalesce(_.logged_seconds, _.estimated_seconds),
        handle_time_estimated=_.logged_seconds.isnull() & _.estimated_seconds.notnull(),
    )
    rows = with_business_time(
        rows,
        intervals,
        start="agent_clock_start",
        end="agent_first_response_at",
        name="agent_first_response",
    )
    return rows.select(*_AGENT_COLUMNS)


_AGENT_COLUMNS = (
    "conversation_id",
    "agent_id",
    "created_at",
    "channel",
    "inbox_id",
    "inquiry",
    "customer_tier",
    "language",
    "team_id",
    "handled",
    "handled_at",
    "was_assigned",
    "replies",
    "replies_as_is",
    "replies_edited",
    "replies_scratch",
    "first_reply_at",
    "agent_first_response_at",
    "agent_first_response_seconds",
    "agent_first_response_business_seconds",
    "mentions",
    "first_mentioned_at",
    "handle_seconds",
    "handle_time_estimated",
    "csat_score",
    "csat_at",
)


def resolution_facts(status: ir.Table, conversations: ir.Table) -> ir.Table:
    """Each `resolved` status change, with the time of the next status change (if any).

    `status` is the materialised `status_sequence`.
    """
    resolved = status.filter(status.status == "resolved").select(
        "conversation_id", "occurred_at", "next_change_at"
    )
    conversation = conversations.select(
        "conversation_id",
        "channel",
        "inbox_id",
        "inquiry",
        "customer_tier",
        "language",
        "team_id",
        "assignee_id",
    )
    return resolved.join(conversation, "conversation_id").select(
        "conversation_id",
        resolved_at=_.occurred_at,
        next_change_at=_.next_change_at,
        channel=_.channel,
        inbox_id=_.inbox_id,
        inquiry=_.inquiry,
        customer_tier=_.customer_tier,
        language=_.language,
        team_id=_.team_id,
        assignee_id=_.assignee_id,
    )


def agents(events: ir.Table) -> ir.Table:
    upserts = events.filter(events.type == "agent.upserted")
    return latest_row(upserts, "agent_id").select(
        "agent_id", "name", "email", "kind", "team_ids", "active"
    )
