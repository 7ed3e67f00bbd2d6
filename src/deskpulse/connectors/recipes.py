"""The recipes a mapping file names: how mapped rows become contract events.

`rows` is fully declarative (each row emits the events the file lists). The other two
hold the logic a column mapping cannot express, configured by the mapping file:
`reply_threads` rebuilds conversations from reply chains (TWCS), `state_history` turns a
ticket's state log into status changes and assignments (ServiceNow).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from deskpulse.connectors.mapping_file import (
    FieldError,
    Mapped,
    MappingFile,
    Problem,
    ReplyThreadsOptions,
    RowsOptions,
    Rule,
    SourceRow,
    StateHistoryOptions,
    evaluate,
    stable_id,
)

# Rows whose values the dry run may show beside their events.
SAMPLE_ROWS = 50


def _values(
    mapping: MappingFile, source: str, row: SourceRow, mapped: Mapped
) -> dict[str, Any] | None:
    """Every [fields] value of a row, or None after recording each problem it has.

    All fields are evaluated even after the first problem: the dry run promises every
    problem by row and field, not one per row.
    """
    mapped.rows_read += 1
    if row.values is None:
        mapped.rows_rejected += 1
        mapped.problems.append(Problem(source, row.number, None, row.error or "bad", row.raw))
        return None
    values: dict[str, Any] = {}
    problems: list[Problem] = []
    for name, rule in mapping.fields.items():
        try:
            values[name] = evaluate(rule, row.values, name, mapping.missing_values)
        except FieldError as problem:
            reason = problem.reason
            if rule.column is not None and "column" not in reason:
                reason = f"{reason} (column {rule.column!r})"
            problems.append(Problem(source, row.number, problem.field, reason, row.raw))
    if problems:
        mapped.rows_rejected += 1
        mapped.problems.extend(problems)
        return None
    if len(mapped.samples) < SAMPLE_ROWS:
        mapped.samples[row.number] = values
    return values


def _reject(mapped: Mapped, problem: Problem) -> None:
    mapped.rows_rejected += 1
    mapped.problems.append(problem)


# -- rows -----------------------------------------------------------------------------------


def rows(mapping: MappingFile, source: str, records: Iterator[SourceRow], mapped: Mapped) -> None:
    """Each row emits the events listed under [[rows.emit]]."""
    options = mapping.rows
    assert isinstance(options, RowsOptions)
    for row in records:
        values = _values(mapping, source, row, mapped)
        if values is None:
            continue
        assert row.values is not None
        key = values.get(options.key) if options.key else None
        key = key if key is not None else f"row{row.number}"
        made: list[dict[str, Any]] = []
        problems: list[Problem] = []
        for emit in options.emit:
            if emit.when is not None and values.get(emit.when) is None:
                continue
            event: dict[str, Any] = {"type": emit.type}
            for name, rule in emit.fields.items():
                try:
                    event[name] = _emit_value(rule, name, values, row.values, mapping)
                except FieldError as problem:
                    problems.append(Problem(source, row.number, name, problem.reason, row.raw))
            if emit.id is not None:
                try:
                    event["id"] = _emit_value(emit.id, "id", values, row.values, mapping)
                except FieldError as problem:
                    problems.append(Problem(source, row.number, "id", problem.reason, row.raw))
            else:
                event["id"] = stable_id(mapping.id_prefix, emit.type, key)
            made.append({k: v for k, v in event.items() if v is not None})
        if problems:
            mapped.rows_rejected += 1
            mapped.problems.extend(problems)
            continue
        for event in made:
            mapped.add(event, row.number)


def _emit_value(
    rule: Rule, name: str, values: dict[str, Any], raw: dict[str, Any], mapping: MappingFile
) -> Any:
    # A plain column rule naming a [fields] key takes that field's mapped value, so a
    # timestamp or value map is declared once and used by several events.
    plain = rule.column is not None and rule.map is None and rule.type == "str"
    if plain and rule.column in mapping.fields:
        value = values.get(str(rule.column))
        if value is None and rule.required:
            raise FieldError(name, f"is missing ({rule.column} has no value)")
        return value
    return evaluate(rule, raw, name, mapping.missing_values)


# -- reply_threads ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Post:
    row: int
    id: str
    author: str
    inbound: bool
    at: str
    text: str
    parent: str | None
    raw: str


def reply_threads(
    mapping: MappingFile, source: str, records: Iterator[SourceRow], mapped: Mapped
) -> None:
    """Conversations from reply chains: one per thread and brand.

    A thread is everything reachable through `in_reply_to` from one root (the topmost
    post, or the missing post the topmost one answers: siblings answering a post the
    export left out still share a thread). Brand posts are outbound replies by an agent
    read from the reply's signature, or the brand's `unsigned` agent.
    """
    options = mapping.options()
    assert isinstance(options, ReplyThreadsOptions)
    posts: dict[str, _Post] = {}
    for row in records:
        values = _values(mapping, source, row, mapped)
        if values is None:
            continue
        post = _Post(
            row=row.number,
            id=str(values["message_id"]),
            author=str(values["author"]),
            inbound=bool(values["inbound"]),
            at=str(values["occurred_at"]),
            text=str(values.get("text") or ""),
            parent=None if values["in_reply_to"] is None else str(values["in_reply_to"]),
            raw=row.raw,
        )
        if post.id in posts:
            _reject(mapped, Problem(source, row.number, "message_id", "repeats an earlier row"))
            continue
        posts[post.id] = post

    brands = {p.author for p in posts.values() if not p.inbound}
    children: dict[str, list[_Post]] = defaultdict(list)
    for post in posts.values():
        if post.parent is not None:
            children[post.parent].append(post)
    mention = re.compile(options.mention_pattern)
    roots: dict[str, str] = {}
    brand_of: dict[str, str | None] = {}

    def root(post: _Post) -> str:
        chain: list[str] = []
        current: _Post | None = post
        found = post.id
        while current is not None and current.id not in roots:
            if current.id in chain:  # a reply loop: cut it where it closes
                break
            chain.append(current.id)
            found = current.id if current.parent is None else current.parent
            current = posts.get(current.parent) if current.parent is not None else None
        if current is not None and current.id in roots:
            found = roots[current.id]
        for name in chain:
            roots[name] = found
        return found

    def brand(post: _Post) -> str | None:
        # Which brand a customer post talks to: the brand it answers, else the brand
        # that answered it, else its thread's brand further up, else its @mentions.
        if not post.inbound:
            return post.author
        if post.id in brand_of:
            return brand_of[post.id]
        brand_of[post.id] = None  # guards reply loops
        parent = posts.get(post.parent) if post.parent is not None else None
        found: str | None = None
        if parent is not None and not parent.inbound:
            found = parent.author
        if found is None:
            found = next((c.author for c in children.get(post.id, []) if not c.inbound), None)
        if found is None and parent is not None:
            found = brand(parent)
        if found is None:
            # A brand that answers elsewhere in the same thread is the one it talks to
            # (a customer replying to a brand's own post, answered further down);
            # otherwise the brand it @mentions.
            named = mention.findall(post.text)
            present = thread_brands.get(root(post), [])
            found = next((m for m in named if m in present), None)
            if found is None and len(present) == 1:
                found = present[0]
            if found is None:
                found = next((m for m in named if m in brands), named[0] if named else None)
        brand_of[post.id] = found
        return found

    thread_brands: dict[str, list[str]] = defaultdict(list)
    for post in posts.values():
        if not post.inbound and post.author not in thread_brands[root(post)]:
            thread_brands[root(post)].append(post.author)

    conversations: dict[tuple[str, str], list[_Post]] = defaultdict(list)
    for post in posts.values():
        owner = brand(post)
        if owner is None:
            _reject(
                mapped,
                Problem(
                    source,
                    post.row,
                    "author",
                    "customer post addressed to no brand: no brand replied in its thread "
                    "and it @mentions none",
                    post.raw,
                ),
            )
            continue
        conversations[(root(post), owner)].append(post)

    first_seen: dict[str, tuple[str, str, int, str]] = {}
    made: list[tuple[str, int | None, dict[str, Any]]] = []
    for (thread, owner), members in conversations.items():
        members.sort(key=lambda p: (p.at, p.id))
        conversation_id = stable_id(mapping.id_prefix, thread, owner)
        customer = next((p.author for p in members if p.inbound), None)
        if customer is None:  # the customer's posts are not in the export
            named = [m for p in members for m in mention.findall(p.text) if m not in brands]
            customer = named[0] if named else "unknown"
        created = {
            "id": stable_id(mapping.id_prefix, "created", thread, owner),
            "type": "conversation.created",
            "occurred_at": members[0].at,
            "conversation_id": conversation_id,
            "channel": options.channel,
            "inbox_id": owner,
            "customer_id": customer,
        }
        made.append((members[0].at, members[0].row, created))
        for post in members:
            message: dict[str, Any] = {
                "id": stable_id(mapping.id_prefix, "message", post.id),
                "type": "message.created",
                "occurred_at": post.at,
                "message_id": post.id,
                "conversation_id": conversation_id,
            }
            if post.inbound:
                message |= {"direction": "inbound", "author_kind": "customer"}
            else:
                signature = _signature(post.text, options)
                agent = options.agent_id.format(
                    brand=owner, signature=signature or options.unsigned_agent
                )
                message |= {"direction": "outbound", "author_kind": "agent", "agent_id": agent}
                name = signature or f"{owner} ({options.unsigned_agent})"
                if agent not in first_seen or post.at < first_seen[agent][0]:
                    first_seen[agent] = (post.at, name, post.row, owner)
            if post.text:
                message["text"] = post.text
            made.append((post.at, post.row, message))
    for agent, (at, name, first_row, owner) in first_seen.items():
        upserted = {
            "id": stable_id(mapping.id_prefix, "agent", agent),
            "type": "agent.upserted",
            "occurred_at": at,
            "agent_id": agent,
            "name": name,
            "kind": "human",
            "team_ids": [owner],
        }
        made.append((at, first_row, upserted))
    # Time order: readable dry runs and the same file order on every run.
    made.sort(key=lambda item: (item[0], item[2]["id"]))
    for _at, event_row, event in made:
        mapped.add(event, event_row)


def _signature(text: str, options: ReplyThreadsOptions) -> str | None:
    """The agent's sign-off at the end of a reply ("^HSB", "-Becky"), if there is one."""
    tail = text.strip()
    changed = True
    while changed:  # a link after a "2/2" counter after the signature: strip them all
        changed = False
        for pattern in options.signature_strip:
            shorter = re.sub(pattern, "", tail).rstrip()
            if shorter != tail:
                tail, changed = shorter, True
    for pattern in options.signature_patterns:
        match = re.search(pattern, tail)
        if match is not None:
            found = match.groupdict().get("sig") or match.group(1)
            return str(found)
    return None


# -- state_history ------------------------------------------------------------------------------


def state_history(
    mapping: MappingFile, source: str, records: Iterator[SourceRow], mapped: Mapped
) -> None:
    """A ticket's state log, ordered by its update time, as contract events.

    Status changes are the points where the mapped status differs from the previous
    row's (two raw states mapping to one status are no change); a change of assignee is
    an assignment. The last resolution is dated by `resolution_time_field` when the
    export has one; earlier ones (before a reopen) by their row's time.
    """
    options = mapping.options()
    assert isinstance(options, StateHistoryOptions)
    tickets: dict[str, list[tuple[str, int, int, dict[str, Any]]]] = defaultdict(list)
    for row in records:
        values = _values(mapping, source, row, mapped)
        if values is None:
            continue
        sequence = values.get("sequence")
        tickets[str(values["ticket"])].append(
            (values["updated_at"], sequence if sequence is not None else -1, row.number, values)
        )

    agents: dict[str, tuple[str, int]] = {}
    made: list[tuple[str, int | None, dict[str, Any]]] = []
    for ticket, history in tickets.items():
        if all(item[1] >= 0 for item in history):
            history = _in_counter_order(history)
        else:
            # Same-minute rows are common (times have no seconds): the update counter
            # breaks the tie, then the row order.
            history.sort(key=lambda item: (item[0], item[1], item[2]))
        last = history[-1][3]
        conversation_id = stable_id(mapping.id_prefix, ticket)
        opened = last["opened_at"]
        created: dict[str, Any] = {
            "id": stable_id(mapping.id_prefix, "created", ticket),
            "type": "conversation.created",
            "occurred_at": opened,
            "conversation_id": conversation_id,
            "channel": last.get("channel") or options.default_channel,
            "inbox_id": str(last.get("inbox") or options.default_inbox),
            "customer_id": str(last.get("customer") or "unknown"),
        }
        for name in ("inquiry", "priority"):
            if last.get(name) is not None:
                created[name] = str(last[name])
        made.append((opened, history[0][2], created))

        changes: list[tuple[str, int, dict[str, Any]]] = []
        status: str | None = None
        assignee: str | None = None
        # In counter order a stale copy can carry a later time than the next version:
        # a change it makes is dated no later than any version after it, so the events
        # keep the counter's order.
        dated: list[str] = []
        for item in reversed(history):
            dated.append(item[0] if not dated else min(item[0], dated[-1]))
        dated.reverse()
        for (saved_at, sequence, number, values), at in zip(history, dated, strict=True):
            # The update counter alone repeats in real logs (a stale copy of a row saved
            # later); with the row's time it names one saved version.
            key = f"{sequence}@{saved_at}" if sequence >= 0 else f"row{number}"
            who = values.get("assigned_to")
            if who is not None and who != assignee:
                assignee = str(who)
                made.append(
                    (
                        at,
                        number,
                        {
                            "id": stable_id(mapping.id_prefix, "assigned", ticket, key),
                            "type": "conversation.assigned",
                            "occurred_at": at,
                            "conversation_id": conversation_id,
                            "agent_id": assignee,
                        },
                    )
                )
                _first(agents, assignee, at, number)
            if values["state"] == status:
                continue
            status = str(values["state"])
            actor = values.get("resolved_by") if status == "resolved" else who
            change: dict[str, Any] = {
                "id": stable_id(mapping.id_prefix, "status", ticket, key),
                "type": "conversation.status_changed",
                "occurred_at": at,
                "conversation_id": conversation_id,
                "status": status,
            }
            if actor is not None:
                change["agent_id"] = str(actor)
                _first(agents, str(actor), at, number)
            changes.append((at, number, change))
        stamp = options.resolution_time_field
        resolved_at = last.get(stamp) if stamp else None
        if changes and changes[-1][2]["status"] == "resolved" and resolved_at is not None:
            before = changes[-2][0] if len(changes) > 1 else opened
            # Only when it keeps the order: a stamp before the previous change would
            # invent a different history.
            if resolved_at >= before:
                changes[-1][2]["occurred_at"] = resolved_at
        made.extend(changes)
        counts = [v["reopen_count"] for _a, _s, _n, v in history if v.get("reopen_count")]
        if "reopen_count" in mapping.fields:
            mapped.reopen_counts[conversation_id] = max(counts, default=0)
    for agent, (at, first_row) in agents.items():
        made.append(
            (
                at,
                first_row,
                {
                    "id": stable_id(mapping.id_prefix, "agent", agent),
                    "type": "agent.upserted",
                    "occurred_at": at,
                    "agent_id": agent,
                    "name": agent,
                    "kind": "human",
                },
            )
        )
    made.sort(key=lambda item: (item[2]["occurred_at"], item[2]["id"]))
    for _at, event_row, event in made:
        mapped.add(event, event_row)


_Version = tuple[str, int, int, dict[str, Any]]


def _in_counter_order(history: list[_Version]) -> list[_Version]:
    """A record's saved versions in update-counter order (ServiceNow's sys_mod_count),
    stale copies left out.

    A counter saved twice is one version plus a stale copy of it, written before the
    version it copies or after a later one (INC0000137: update 1 again at 11:10, after
    update 2 resolved it at 11:03; ordered by time it would reopen the incident). The
    copy kept is the one whose time lies between the previous version's and the next
    counter's earliest; when none or several do, the last of them by time.
    """
    by_counter: dict[int, list[_Version]] = defaultdict(list)
    for version in sorted(history, key=lambda item: (item[1], item[0], item[2])):
        by_counter[version[1]].append(version)
    counters = sorted(by_counter)
    kept: list[_Version] = []
    for index, counter in enumerate(counters):
        copies = by_counter[counter]
        if len(copies) > 1:
            after = kept[-1][0] if kept else None
            before = (
                min(v[0] for v in by_counter[counters[index + 1]])
                if index + 1 < len(counters)
                else None
            )
            fitting = [
                v
                for v in copies
                if (after is None or v[0] >= after) and (before is None or v[0] <= before)
            ]
            copies = [(fitting or copies)[-1]]
        kept.extend(copies)
    return kept


def _first(agents: dict[str, tuple[str, int]], agent: str, at: str, row: int) -> None:
    if agent not in agents or at < agents[agent][0]:
        agents[agent] = (at, row)
