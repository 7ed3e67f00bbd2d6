"""Names and meanings of the fact tables. The definitions live in docs/metrics.md.

Times are naive UTC. Durations are seconds (float). A column that has no sample is
null, never 0: "no first response yet" and "answered instantly" must stay different.

A `*_business_seconds` column is its calendar twin counted only inside the inbox's
opening hours (facts/business_hours.py); with no schedule for the inbox (nor a `*`
default) it equals the calendar value.
"""

from __future__ import annotations

# One row per conversation that has a conversation.created event.
CONVERSATION_FACTS: dict[str, str] = {
    "conversation_id": "string",
    "created_at": "timestamp",
    "channel": "string",
    "inbox_id": "string",
    "customer_id": "string",
    "inquiry": "string",  # latest by occurred_at across created/updated
    "priority": "string",
    "customer_tier": "string",
    "language": "string",
    "team_id": "string",  # latest non-null team_id of conversation.assigned
    "assignee_id": "string",  # latest conversation.assigned agent_id (null = unassigned)
    "first_message_at": "timestamp",  # first inbound message
    "first_reply_at": "timestamp",  # first public reply by anyone (handled from then on)
    "first_response_at": "timestamp",  # first public reply (human or AI) after the start
    "first_response_seconds": "float64",
    "first_response_business_seconds": "float64",  # the same span in business hours
    "first_human_response_at": "timestamp",
    "first_human_response_seconds": "float64",  # from the first AI handoff, if any
    "first_human_response_business_seconds": "float64",  # the same span in business hours
    "first_resolved_at": "timestamp",
    "first_resolution_seconds": "float64",
    "first_resolution_business_seconds": "float64",  # the same span in business hours
    "full_resolved_at": "timestamp",  # last resolved not followed by a reopen
    "full_resolution_seconds": "float64",
    "full_resolution_business_seconds": "float64",  # the same span in business hours
    "status": "string",  # latest status (open when none was ever set)
    "reopens": "int64",
    "first_reopened_at": "timestamp",  # the first reopen after a resolution, if any
    "fcr": "boolean",  # null while not resolved
    # When FCR stops being able to change: the repeat-contact window after the full
    # resolution has passed (null while not resolved). Before then FCR is pending.
    "fcr_settles_at": "timestamp",
    # When the CSAT survey window after the first resolution closes (null: unresolved).
    "survey_settles_at": "timestamp",
    "turns": "int64",
    "inbound_messages": "int64",
    "replies": "int64",  # public replies by agents and AI
    "human_replies": "int64",
    "ai_replies": "int64",
    "handle_seconds": "float64",
    "handle_time_estimated": "boolean",
    "escalated": "boolean",
    "escalated_at": "timestamp",
    "escalation_reason": "string",
    "ai_involved": "boolean",  # an AI agent replied publicly
    "ai_agent_id": "string",  # the first AI agent that replied publicly
    "ai_handled": "boolean",  # AI replied publicly and no human did
    "ai_resolved": "boolean",  # AI-handled, resolved, not reopened within 7 days
    "csat_score": "int64",  # latest answer within 14 days of resolution
    "csat_at": "timestamp",
    "nps_score": "int64",
    "nps_at": "timestamp",
    "ces_score": "int64",
    "ces_at": "timestamp",
    "cost_amount": "decimal(18,6)",  # null when no cost was recorded
    "last_event_at": "timestamp",
}

# One row per (conversation, agent) for every agent who replied publicly, was assigned,
# was @mentioned in a note, or logged work on it.
AGENT_CONVERSATION_FACTS: dict[str, str] = {
    "conversation_id": "string",
    "agent_id": "string",
    "created_at": "timestamp",
    "channel": "string",
    "inbox_id": "string",
    "inquiry": "string",
    "customer_tier": "string",
    "language": "string",
    "team_id": "string",
    # Sent at least one public reply (teammates included), or resolved the conversation.
    "handled": "boolean",
    "handled_at": "timestamp",  # the first public reply or resolution, whichever first
    "was_assigned": "boolean",
    "replies": "int64",
    "replies_as_is": "int64",  # AI draft sent as is
    "replies_edited": "int64",  # AI draft edited
    # Human replies written without an AI draft. AI agents' own replies are in
    # `replies` but in none of the three assist columns: AI assist describes humans.
    "replies_scratch": "int64",
    "first_reply_at": "timestamp",
    # The agent's first public reply that answered someone waiting (a customer message
    # or an AI handoff), timed from the later of that wait and the agent's assignment;
    # null when none of the agent's replies answered anyone.
    "agent_first_response_at": "timestamp",
    "agent_first_response_seconds": "float64",
    "agent_first_response_business_seconds": "float64",  # the same span in business hours
    "mentions": "int64",
    "first_mentioned_at": "timestamp",
    "handle_seconds": "float64",
    "handle_time_estimated": "boolean",
    "csat_score": "int64",  # the conversation's CSAT, for every handler
    "csat_at": "timestamp",
}

# One row per `resolved` status change, with the time of the next status change, so
# "resolved in a period" (its last status change in the period is resolved) is a filter.
RESOLUTION_FACTS: dict[str, str] = {
    "conversation_id": "string",
    "resolved_at": "timestamp",
    "next_change_at": "timestamp",  # null when nothing followed
    "channel": "string",
    "inbox_id": "string",
    "inquiry": "string",
    "customer_tier": "string",
    "language": "string",
    "team_id": "string",
    "assignee_id": "string",
}

# One row per (conversation, agent) the agent handled, with the conversation's inquiry
# (from the events, or from the inquiry classifier when the events carry none) and the
# two predictions the Agent Effectiveness Score needs. Written by deskpulse.models.scoring
# after each training or scoring run, not by the facts build: predictions come from
# trained models, and a fresh install has none.
#
# `predicted_satisfaction` is P(CSAT >= 4) and `predicted_resolution` is P(FCR), each
# from the channel's model for that outcome when that model is good enough
# (`satisfaction_source` / `resolution_source` = "model"). When it is not (too few
# labels, or held-out AUC < 0.6), the column holds the measured outcome instead: 1.0 / 0.0
# for satisfied (CSAT 4-5) / not, null without a survey answer, and likewise FCR (null
# while unresolved), with its source "measured"; a mean over rows is then the measured
# rate, which is the fallback DESIGN.md asks for. The fallback is per outcome: a channel
# may predict satisfaction and measure resolution. `prediction_source` sums a row up:
# "model" (both predicted), "measured" (both measured) or "mixed".
EFFECTIVENESS_FACTS: dict[str, str] = {
    "conversation_id": "string",
    "agent_id": "string",
    "created_at": "timestamp",
    "channel": "string",
    "inbox_id": "string",
    "inquiry": "string",
    "inquiry_source": "string",  # event | classifier | topic | null (no inquiry at all)
    "customer_tier": "string",
    "language": "string",
    "team_id": "string",
    "handle_seconds": "float64",  # the agent's own handle time on the conversation
    "handle_time_estimated": "boolean",
    "csat_score": "int64",
    "fcr": "boolean",
    "predicted_satisfaction": "float64",
    "predicted_resolution": "float64",
    "satisfaction_source": "string",  # model | measured: what predicted_satisfaction holds
    "resolution_source": "string",  # model | measured: what predicted_resolution holds
    "prediction_source": "string",  # model (both) | measured (neither) | mixed
    "model_version": "string",  # null when both are measured
}

# The latest agent.upserted per agent.
AGENTS: dict[str, str] = {
    "agent_id": "string",
    "name": "string",
    "email": "string",
    "kind": "string",  # human | ai
    "team_ids": "array<string>",
    "active": "boolean",
}

FACT_TABLES = {
    "conversation_facts": CONVERSATION_FACTS,
    "agent_conversation_facts": AGENT_CONVERSATION_FACTS,
    "resolution_facts": RESOLUTION_FACTS,
    "agents": AGENTS,
}
