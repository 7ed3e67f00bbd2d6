from deskpulse.events.ingest import ingest_objects
from deskpulse.events.store import Store


def created(event_id: str, conversation: str) -> dict[str, object]:
    return {
        "id": event_id,
        "type": "conversation.created",
        "occurred_at": "2026-01-01T10:00:00+01:00",
        "conversation_id": conversation,
        "channel": "chat",
        "inbox_id": "i1",
        "customer_id": "u1",
    }


def test_append_counts_duplicates_within_and_across_batches(store: Store) -> None:
    first = ingest_objects(
        store, [created("e1", "c1"), created("e1", "c1"), created("e2", "c2")], "t"
    )
    second = ingest_objects(store, [created("e2", "c2"), created("e3", "c3")], "t")
    assert (first.accepted, first.duplicates) == (2, 1)
    assert (second.accepted, second.duplicates) == (1, 1)
    assert store.count("events") == 3
    dirty = sorted(
        r[0] for r in store.execute("SELECT DISTINCT conversation_id FROM dirty_conversations")
    )
    assert dirty == ["c1", "c2", "c3"]
