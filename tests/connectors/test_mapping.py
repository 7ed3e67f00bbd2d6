"""The mapping language, rule by rule, on small hand-written sources."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from deskpulse.connectors.mapping import (
    FieldError,
    MappingError,
    ReplyThreadsOptions,
    Rule,
    evaluate,
    import_mapped,
    load_mapping,
    map_sources,
    parse_mapping,
    shipped_mappings,
    summarise,
    validate_events,
)
from deskpulse.connectors.recipes import _signature
from deskpulse.events.store import Store


def rule(**kwargs: Any) -> Rule:
    return Rule.model_validate(kwargs)


def test_a_column_rule_reads_strips_and_treats_missing_values_as_none() -> None:
    assert evaluate(rule(column="a"), {"a": " x "}, "f", [""]) == "x"
    assert evaluate(rule(column="a"), {"a": "?"}, "f", ["?"]) is None
    assert evaluate(rule(column="a", missing=["n/a"]), {"a": "n/a"}, "f", []) is None
    assert evaluate(rule(column="a", default="d"), {"a": ""}, "f", [""]) == "d"
    with pytest.raises(FieldError, match="is missing") as raised:
        evaluate(rule(column="a", required=True), {"a": ""}, "agent", [""])
    assert raised.value.field == "agent"
    with pytest.raises(FieldError, match="column 'b' is not in the source"):
        evaluate(rule(column="b"), {"a": "1"}, "f", [])


def test_constants_templates_and_nested_json_columns() -> None:
    assert evaluate(rule(value="chat"), {}, "f", []) == "chat"
    assert evaluate(rule(template="INC-{n}"), {"n": "7"}, "f", []) == "INC-7"
    with pytest.raises(FieldError, match="unknown column 'm'"):
        evaluate(rule(template="{m}"), {"n": "7"}, "f", [])
    assert evaluate(rule(column="customer.id"), {"customer": {"id": "c1"}}, "f", []) == "c1"


def test_types_int_float_bool() -> None:
    # pandas writes integer ids with gaps as floats.
    assert evaluate(rule(column="a", type="int"), {"a": "3.0"}, "f", []) == 3
    with pytest.raises(FieldError, match="not a whole number"):
        evaluate(rule(column="a", type="int"), {"a": "3.5"}, "f", [])
    with pytest.raises(FieldError, match="not a number"):
        evaluate(rule(column="a", type="float"), {"a": "x"}, "f", [])
    assert evaluate(rule(column="a", type="bool"), {"a": "False"}, "f", []) is False
    assert evaluate(rule(column="a", type="bool"), {"a": "TRUE"}, "f", []) is True
    with pytest.raises(FieldError, match="not a boolean"):
        evaluate(rule(column="a", type="bool"), {"a": "maybe"}, "f", [])


def test_timestamps_with_a_format_an_offset_or_a_declared_zone() -> None:
    twitter = rule(column="t", type="timestamp", format="%a %b %d %H:%M:%S %z %Y")
    assert (
        evaluate(twitter, {"t": "Tue Oct 31 22:10:47 +0000 2017"}, "f", [])
        == "2017-10-31T22:10:47+00:00"
    )
    local = rule(column="t", type="timestamp", format="%d-%m-%Y %H:%M", timezone="Europe/Paris")
    assert evaluate(local, {"t": "29-02-2016 01:16"}, "f", []) == "2016-02-29T00:16:00+00:00"
    naive = rule(column="t", type="timestamp", format="%d-%m-%Y %H:%M")
    with pytest.raises(FieldError, match="no offset and the mapping declares no timezone"):
        evaluate(naive, {"t": "29-02-2016 01:16"}, "f", [])
    with pytest.raises(FieldError, match="does not match the format '%d-%m-%Y %H:%M'"):
        evaluate(local, {"t": "2016-02-29"}, "f", [])
    iso = rule(column="t", type="timestamp")
    assert evaluate(iso, {"t": "2024-01-01T10:00:00Z"}, "f", []) == "2024-01-01T10:00:00+00:00"


def test_value_maps_and_what_happens_to_unlisted_values() -> None:
    states = {"New": "open", "Closed": "resolved", "-100": ""}
    strict = rule(column="s", map=states)
    assert evaluate(strict, {"s": "Closed"}, "state", []) == "resolved"
    assert evaluate(strict, {"s": "-100"}, "state", []) is None  # "" means missing
    with pytest.raises(FieldError, match="value 'Odd' is not in the value map") as raised:
        evaluate(strict, {"s": "Odd"}, "state", [])
    assert raised.value.field == "state"
    assert evaluate(rule(column="s", map=states, unmapped="keep"), {"s": "Odd"}, "f", []) == "Odd"
    assert evaluate(rule(column="s", map=states, unmapped="missing"), {"s": "Odd"}, "f", []) is None


def test_extract_keeps_the_group() -> None:
    extract = rule(column="a", extract=r"Resolver (?P<value>\d+)")
    assert evaluate(extract, {"a": "Resolver 89"}, "f", []) == "89"
    assert evaluate(extract, {"a": "someone"}, "f", []) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recipe": "state_history", "fields": {}}, "fields.opened_at: is required by recipe"),
        ({"fields": {"a": {"column": "a", "value": "b"}}}, "fields.a: give exactly one of"),
        ({"fields": {"a": {"column": "a", "type": "date"}}}, "fields.a.type:"),
        ({"fields": {"a": {"column": "a", "colour": "x"}}}, "fields.a.colour: is not a mapping"),
        (
            {"fields": {"a": {"column": "a", "timezone": "Mars/Base"}}},
            "fields.a.timezone: 'Mars/Base' is not",
        ),
        ({"rows": {"emit": [{"type": "ticket.made"}]}}, "rows.emit.0.type:"),
        ({"id_prefix": None}, "id_prefix:"),
        ({"rows": {"emit": [{"type": "agent.upserted", "when": "x"}]}}, "rows.emit[0].when:"),
        (
            {"recipe": "reply_threads", "reply_threads": {"signature_patterns": ["(("]}},
            "reply_threads.signature_",
        ),
    ],
)
def test_mapping_errors_name_the_key(change: dict[str, Any], message: str) -> None:
    base: dict[str, Any] = {
        "name": "t",
        "id_prefix": "t",
        "rows": {"emit": [{"type": "agent.upserted"}]},
    }
    data = {k: v for k, v in {**base, **change}.items() if v is not None}
    with pytest.raises(MappingError, match=message.replace("[", r"\[").replace(".", r"\.")):
        parse_mapping(data, "t.toml")


def test_a_bad_regex_in_a_recipe_is_named() -> None:
    fields = dict.fromkeys(("message_id", "author", "inbound", "occurred_at", "in_reply_to"), "x")
    data = {
        "name": "t",
        "id_prefix": "t",
        "recipe": "reply_threads",
        "fields": fields,
        "reply_threads": {"signature_patterns": ["(("]},
    }
    with pytest.raises(MappingError, match=r"reply_threads\.signature_patterns: \[0\] is not a"):
        parse_mapping(data)


def test_unreadable_mapping_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("name = ")
    with pytest.raises(MappingError, match="not valid TOML"):
        load_mapping(bad)
    with pytest.raises(MappingError, match="cannot read the mapping"):
        load_mapping(tmp_path / "none.toml")


def test_the_shipped_mappings_load() -> None:
    assert set(shipped_mappings()) >= {"twcs", "servicenow"}
    assert load_mapping("twcs").recipe == "reply_threads"
    assert load_mapping("servicenow").recipe == "state_history"


@pytest.mark.parametrize(
    ("text", "signature"),
    [
        ("@115712 We're on it. ^HSB", "HSB"),
        ("@115980 🙏 -Becky", "Becky"),
        ("@1 Thanks - Kirsty", "Kirsty"),
        ("@1 via DM.--JV", "JV"),
        ("@1 Glad you like it-Tabby", "Tabby"),
        ("@1 an accurate quote. *ACJ", "ACJ"),
        ("@1 which version? /PB https://t.co/x", "PB"),
        ("@1 see link ^Anoop 2/2 https://t.co/a2xkfCrUG1", "Anoop"),
        ("@1 Send us a DM. https://t.co/GDrqU22YpT", None),
        ("@1 a well-known issue", None),
        ("@1 and/or", None),
    ],
)
def test_signatures(text: str, signature: str | None) -> None:
    options = load_mapping("twcs").options()
    assert isinstance(options, ReplyThreadsOptions)
    assert _signature(text, options) == signature


ROWS_MAPPING = """
name = "mini"
id_prefix = "mini"
missing_values = ["", "-"]

[fields]
ticket = { column = "ticket", required = true }
at = { column = "when", type = "timestamp", format = "%Y-%m-%d %H:%M", timezone = "UTC" }
agent = "agent"

[rows]
key = "ticket"

[[rows.emit]]
type = "conversation.created"
[rows.emit.fields]
conversation_id = "ticket"
occurred_at = "at"
customer_id = { column = "customer" }
channel = { value = "email" }
inbox_id = { value = "support" }

[[rows.emit]]
type = "conversation.assigned"
when = "agent"
fields = { conversation_id = "ticket", occurred_at = "at", agent_id = "agent" }
"""


def test_the_rows_recipe_emits_declared_events(tmp_path: Path, duckdb_store: Store) -> None:
    (tmp_path / "m.toml").write_text(ROWS_MAPPING)
    source = tmp_path / "t.csv"
    source.write_text(
        "ticket,when,customer,agent\n"
        "T1,2024-01-02 10:00,c1,ann\n"
        "T2,2024-01-02 11:00,c2,-\n"
        "T3,yesterday,c3,bob\n"
        "T4,2024-01-02 12:00\n"
    )
    mapping = load_mapping(tmp_path / "m.toml")
    mapped = map_sources(mapping, [source])
    assert mapped.rows_read == 4
    assert [(e["type"], e["id"]) for e in mapped.events] == [
        ("conversation.created", "mini:conversation.created:T1"),
        ("conversation.assigned", "mini:conversation.assigned:T1"),
        ("conversation.created", "mini:conversation.created:T2"),
    ]
    assert mapped.events[0]["occurred_at"] == "2024-01-02T10:00:00+00:00"
    problems = [(p.row, p.field, p.reason) for p in mapped.problems]
    assert problems == [
        (3, "at", "'yesterday' does not match the format '%Y-%m-%d %H:%M' (column 'when')"),
        (4, None, "malformed CSV: 2 fields where the header has 4"),
    ]
    assert validate_events(mapped, "mini") == []
    summary = summarise(mapping, mapped)
    assert (summary.rows_read, summary.events_made, summary.rows_rejected) == (4, 3, 2)
    assert (summary.conversations, summary.agents) == (2, 1)

    stored = import_mapped(duckdb_store, mapping, [source])
    assert (stored.accepted, stored.duplicates) == (3, 0)
    again = import_mapped(duckdb_store, mapping, [source])
    assert (again.accepted, again.duplicates) == (0, 3)  # ids come from the rows' keys
    rejected = duckdb_store.rejected()
    assert {(r["position"], r["field"]) for r in rejected} == {(3, "at"), (4, None)}


def test_json_lines_and_arrays_are_sources(tmp_path: Path) -> None:
    (tmp_path / "m.toml").write_text(ROWS_MAPPING.replace('format = "%Y-%m-%d %H:%M", ', ""))
    mapping = load_mapping(tmp_path / "m.toml")
    items = [
        {"ticket": "J1", "when": "2024-01-02T10:00:00Z", "customer": "c", "agent": "ann"},
        {"ticket": "J2", "when": "2024-01-02T11:00:00Z", "customer": "c", "agent": ""},
    ]
    lines = tmp_path / "a.jsonl"
    lines.write_text("\n".join(json.dumps(i) for i in items) + "\nnot json\n")
    array = tmp_path / "b.json"
    array.write_text(json.dumps(items))
    from_lines = map_sources(mapping, [lines])
    assert len(from_lines.events) == 3
    assert from_lines.problems[0].row == 3
    assert from_lines.problems[0].reason.startswith("malformed JSON")
    assert len(map_sources(mapping, [array]).events) == 3
