"""The streaming reader: formats, compression, positions, broken input."""

from __future__ import annotations

import gzip
import io
from pathlib import Path

import orjson
import pytest

from deskpulse.events.reader import (
    RawBatch,
    ReadFailure,
    read_batches,
    source_name,
    total_bytes,
)


def event(number: int) -> dict[str, object]:
    return {
        "id": f"e{number}",
        "type": "conversation.assigned",
        "occurred_at": "2025-06-01T10:00:00Z",
        "conversation_id": f"c{number}",
        "agent_id": "a1",
    }


def jsonl(*numbers: int) -> bytes:
    return b"".join(orjson.dumps(event(n)) + b"\n" for n in numbers)


def array(*numbers: int) -> bytes:
    return orjson.dumps([event(n) for n in numbers])


def read_all(
    source: object, batch_size: int = 100_000
) -> tuple[list[tuple[int, dict[str, object]]], list[ReadFailure]]:
    """(position, decoded record) pairs and failures, over every batch."""
    records: list[tuple[int, dict[str, object]]] = []
    failures: list[ReadFailure] = []
    for batch in read_batches(source, batch_size):  # type: ignore[arg-type]
        for index, position in enumerate(batch.positions.to_pylist()):
            records.append((position, orjson.loads(batch.text(index))))
        failures.extend(batch.failures)
    return records, failures


def test_json_lines_positions_are_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(jsonl(1, 2, 3))
    records, failures = read_all(path)
    assert [(p, r["id"]) for p, r in records] == [(1, "e1"), (2, "e2"), (3, "e3")]
    assert failures == []


def test_json_array_positions_are_indexes(tmp_path: Path) -> None:
    path = tmp_path / "events.json"
    path.write_bytes(b"  \n" + array(1, 2, 3))
    records, failures = read_all(path)
    assert [(p, r["id"]) for p, r in records] == [(0, "e1"), (1, "e2"), (2, "e3")]
    assert records[0][1] == event(1)
    assert failures == []


@pytest.mark.parametrize(
    ("name", "content"), [("a.jsonl.gz", jsonl(1, 2)), ("a.json.gz", array(1, 2))]
)
def test_gzip_is_recognised_by_its_magic_bytes(tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name.replace(".gz", ".data")  # the name must not matter
    path.write_bytes(gzip.compress(content))
    records, _ = read_all(path)
    assert [r["id"] for _, r in records] == ["e1", "e2"]


def test_bom_crlf_and_blank_lines(tmp_path: Path) -> None:
    lines = [orjson.dumps(event(n)) for n in (1, 2, 3)]
    content = b"\xef\xbb\xbf" + lines[0] + b"\r\n\r\n   \r\n" + lines[1] + b"\r\n\n" + lines[2]
    path = tmp_path / "windows.jsonl"
    path.write_bytes(content)
    records, failures = read_all(path)
    assert [(p, r["id"]) for p, r in records] == [(1, "e1"), (4, "e2"), (6, "e3")]
    assert failures == []


def test_bom_before_an_array(tmp_path: Path) -> None:
    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf\n" + array(7))
    records, _ = read_all(path)
    assert [(p, r["id"]) for p, r in records] == [(0, "e7")]


def test_stdin_as_a_binary_stream() -> None:
    stream = io.BytesIO(jsonl(1, 2))
    records, _ = read_all(stream)
    assert [r["id"] for _, r in records] == ["e1", "e2"]
    assert source_name(io.BytesIO()) == "stdin"
    assert source_name("-") == "stdin"
    assert source_name("/data/in/events.jsonl.gz") == "events.jsonl.gz"


def test_gzip_stdin() -> None:
    records, _ = read_all(io.BytesIO(gzip.compress(array(1, 2, 3))))
    assert [p for p, _ in records] == [0, 1, 2]


def test_truncated_array_keeps_what_was_read_and_says_where_it_broke() -> None:
    content = array(1, 2, 3)
    cut = content[: content.index(b'"e3"') + 2]
    records, failures = read_all(io.BytesIO(cut))
    assert [(p, r["id"]) for p, r in records] == [(0, "e1"), (1, "e2")]
    assert len(failures) == 1
    assert failures[0].position == 2
    assert failures[0].reason.startswith("malformed JSON: the array breaks in element 2: ")
    assert "premature EOF" in failures[0].reason


def test_malformed_array_element() -> None:
    content = b'[{"id": "a"}, {"id": NaN}, {"id": "c"}]'
    records, failures = read_all(io.BytesIO(content))
    assert [(p, r["id"]) for p, r in records] == [(0, "a")]
    assert [f.position for f in failures] == [1]
    assert "invalid char" in failures[0].reason


def test_malformed_line_in_the_middle_is_just_another_text(tmp_path: Path) -> None:
    # The reader only splits lines; whether a line is JSON is the validator's call.
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(jsonl(1) + b'{"id": "broken",\n' + jsonl(3))
    batches = list(read_batches(path))
    assert [b.positions.to_pylist() for b in batches] == [[1, 2, 3]]
    assert batches[0].text(1) == '{"id": "broken",'


def test_invalid_utf8_line_is_refused_by_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(jsonl(1) + b'{"id": "caf\xe9"}\n' + jsonl(3))
    records, failures = read_all(path)
    assert [p for p, _ in records] == [1, 3]
    assert [f.position for f in failures] == [2]
    assert failures[0].reason.startswith("malformed JSON: 'utf-8' codec can't decode")
    assert failures[0].raw == '{"id": "caf\ufffd"}'


def test_batches_of_three_give_the_same_records_as_one(tmp_path: Path) -> None:
    path = tmp_path / "many.jsonl"
    path.write_bytes(jsonl(*range(1, 11)) + b"\n\n")
    one, _ = read_all(path)
    sizes = [len(b) for b in read_batches(path, batch_size=3)]
    three, _ = read_all(path, batch_size=3)
    assert sizes == [3, 3, 3, 1]
    assert three == one
    assert len(one) == 10


def test_array_batches_of_three(tmp_path: Path) -> None:
    path = tmp_path / "many.json"
    path.write_bytes(array(*range(7)))
    batches = list(read_batches(path, batch_size=3))
    assert [b.positions.to_pylist() for b in batches] == [[0, 1, 2], [3, 4, 5], [6]]


def test_lines_longer_than_a_block(tmp_path: Path) -> None:
    long_event = {**event(1), "text": "x" * (5 * 1024 * 1024)}
    path = tmp_path / "long.jsonl"
    path.write_bytes(orjson.dumps(long_event) + b"\n" + jsonl(2))
    records, _ = read_all(path)
    assert [(p, len(orjson.dumps(r))) for p, r in records][1] == (2, len(orjson.dumps(event(2))))
    assert records[0][1]["text"] == "x" * (5 * 1024 * 1024)


def test_last_line_without_newline_and_empty_input(tmp_path: Path) -> None:
    path = tmp_path / "tail.jsonl"
    path.write_bytes(jsonl(1) + orjson.dumps(event(2)))
    records, _ = read_all(path)
    assert [p for p, _ in records] == [1, 2]
    assert list(read_batches(io.BytesIO(b""))) == []
    assert list(read_batches(io.BytesIO(b" \n\n"))) == []


def test_bytes_read_and_total_bytes(tmp_path: Path) -> None:
    content = gzip.compress(jsonl(*range(50)))
    path = tmp_path / "events.jsonl.gz"
    path.write_bytes(content)
    batches: list[RawBatch] = list(read_batches(path, batch_size=20))
    assert total_bytes(path) == len(content)
    assert batches[-1].bytes_read == len(content)
    assert [b.bytes_read for b in batches] == sorted(b.bytes_read for b in batches)
    assert total_bytes("-") is None
    stream = io.BytesIO(b"12345")
    stream.read(2)
    assert total_bytes(stream) == 3
