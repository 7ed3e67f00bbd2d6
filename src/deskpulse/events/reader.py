"""Streaming reader for bulk event files: JSON Lines or one JSON array, plain or gzip.

Memory stays bounded by the batch size whatever the file size: JSON Lines are cut out
of fixed-size blocks without decoding them (the validator parses each text once, in
DuckDB), and a JSON array is streamed element by element with ijson.

Positions name a record the way a person would look for it: 1-based line numbers for
JSON Lines, 0-based element indexes for a JSON array.
"""

from __future__ import annotations

import gzip
import io
import os
import sys
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, cast

import ijson
import numpy as np
import orjson
import pyarrow as pa

Source = str | Path | BinaryIO

STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
UTF8_BOM = b"\xef\xbb\xbf"
# Big enough that per-block overhead vanishes, small enough to keep memory flat.
BLOCK_SIZE = 4 * 1024 * 1024
_JSON_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True)
class ReadFailure:
    """A record the reader could not even hand to the validator (bad bytes, broken array)."""

    position: int | None
    reason: str
    raw: str | None


@dataclass(frozen=True)
class RawBatch:
    """Raw JSON texts, one per record, with where each came from.

    `texts` is an Arrow string array (chunked, zero-copy over the file's blocks); a text
    may carry surrounding JSON whitespace, including its line break. `positions[i]`
    locates `texts[i]`. `bytes_read` is how far into the source (as stored, so
    compressed bytes for gzip) the reader had got when it produced this batch.
    """

    texts: pa.ChunkedArray
    positions: pa.ChunkedArray
    failures: tuple[ReadFailure, ...] = ()
    bytes_read: int = 0

    def __len__(self) -> int:
        return len(self.texts) + len(self.failures)

    def text(self, index: int) -> str:
        """The record's text as it appeared, without its line break."""
        return str(self.texts[index].as_py()).strip(" \t\r\n")


def source_name(source: Source) -> str:
    """How rejected records name their source: the file name, or "stdin"."""
    if isinstance(source, Path):
        return source.name
    if isinstance(source, str):
        return "stdin" if source == STDIN else Path(source).name
    name = getattr(source, "name", None)
    if isinstance(name, str) and name not in ("<stdin>", ""):
        return Path(name).name
    return "stdin"


def total_bytes(source: Source) -> int | None:
    """Bytes `read_batches` will consume, for a progress bar's total; None if unknowable."""
    if isinstance(source, str | Path):
        return None if source == STDIN else os.stat(source).st_size
    try:
        if source.seekable():
            here = source.tell()
            end = source.seek(0, io.SEEK_END)
            source.seek(here)
            return end - here
    except (OSError, ValueError):
        pass
    return None


def read_batches(source: Source, batch_size: int = 100_000) -> Generator[RawBatch, None, None]:
    """Yield the records of one source in batches of at most `batch_size` texts.

    "-" reads stdin. Gzip is recognised by its magic bytes, a JSON array by a leading
    `[` (after an optional UTF-8 BOM and whitespace); anything else is JSON Lines.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    opened: BinaryIO | None = None
    if isinstance(source, str | Path):
        if source == STDIN:
            raw: BinaryIO = sys.stdin.buffer
        else:
            opened = raw = open(source, "rb")  # noqa: SIM115 - closed in finally
    else:
        raw = source
    try:
        counter = _Counting(raw)
        stream = _open_decoded(counter)
        first, stream = _first_significant_byte(stream)
        if first == b"[":
            yield from _array_batches(stream, counter, batch_size)
        else:
            yield from _line_batches(stream, counter, batch_size)
    finally:
        if opened is not None:
            opened.close()


# -- opening ------------------------------------------------------------------------------


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class _Counting:
    """Counts the bytes taken from the underlying file, for progress in stored bytes."""

    def __init__(self, inner: BinaryIO) -> None:
        self.inner = inner
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self.count += len(data)
        return data


class _Prefixed:
    """A stream with some already-read bytes put back in front (stdin cannot seek).

    Plain objects with `read`, not io classes: those copy every block once more.
    """

    def __init__(self, prefix: bytes, inner: _Readable) -> None:
        self.prefix = prefix
        self.inner = inner

    def read(self, size: int = -1) -> bytes:
        if self.prefix:
            if size < 0:
                data, self.prefix = self.prefix + self.inner.read(), b""
                return data
            data, self.prefix = self.prefix[:size], self.prefix[size:]
            return data
        return self.inner.read(size)


def _read_exactly(stream: Any, size: int) -> bytes:
    parts: list[bytes] = []
    wanted = size
    while wanted > 0:
        part = stream.read(wanted)
        if not part:
            break
        parts.append(part)
        wanted -= len(part)
    return b"".join(parts)


def _open_decoded(counter: _Counting) -> Any:
    magic = _read_exactly(counter, 2)
    stream = _Prefixed(magic, counter)
    if magic == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=cast(BinaryIO, stream), mode="rb")
    return stream


def _first_significant_byte(stream: Any) -> tuple[bytes, Any]:
    """The first byte that is not BOM or whitespace, and the stream minus any BOM."""
    head = _read_exactly(stream, len(UTF8_BOM))
    if head == UTF8_BOM:
        head = b""
    seen = [head]
    stripped = head.lstrip(_JSON_WHITESPACE)
    while not stripped:
        more = stream.read(64 * 1024)
        if not more:
            break
        seen.append(more)
        stripped = more.lstrip(_JSON_WHITESPACE)
    return stripped[:1], _Prefixed(b"".join(seen), stream)


# -- JSON Lines ---------------------------------------------------------------------------


def _line_batches(stream: Any, counter: _Counting, batch_size: int) -> Iterator[RawBatch]:
    texts: list[pa.Array] = []
    positions: list[pa.Array] = []
    failures: list[ReadFailure] = []
    pending = 0
    line_base = 0
    carry = b""
    while True:
        chunk = stream.read(BLOCK_SIZE)
        if chunk:
            block = carry + chunk if carry else chunk
            cut = block.rfind(b"\n") + 1
            if cut == 0:
                carry = block
                continue
            block, carry = block[:cut], block[cut:]
        else:
            block, carry = carry, b""
            if not block:
                break
        array, lines, failed, line_count = _split_lines(block, line_base)
        line_base += line_count
        failures.extend(failed)
        start = 0
        while start < len(array):
            take = min(batch_size - pending, len(array) - start)
            texts.append(array.slice(start, take))
            positions.append(lines.slice(start, take))
            pending += take
            start += take
            if pending == batch_size:
                yield _batch(texts, positions, failures, counter.count)
                texts, positions, failures, pending = [], [], [], 0
        if not chunk:
            break
    if pending or failures:
        yield _batch(texts, positions, failures, counter.count)


def _batch(
    texts: list[pa.Array], positions: list[pa.Array], failures: list[ReadFailure], done: int
) -> RawBatch:
    return RawBatch(
        texts=pa.chunked_array(texts, pa.large_string()),
        positions=pa.chunked_array(positions, pa.int64()),
        failures=tuple(failures),
        bytes_read=done,
    )


def _split_lines(block: bytes, line_base: int) -> tuple[pa.Array, pa.Array, list[ReadFailure], int]:
    """Cut a block of whole lines into one string per non-blank line, without copying.

    Each string runs from its line's start to the next kept line's start, so it keeps
    its line break and any blank lines after it: JSON ignores that whitespace, and the
    strings stay contiguous, which lets Arrow use the block as its data buffer as is.
    """
    data = np.frombuffer(block, dtype=np.uint8)
    breaks = np.flatnonzero(data == 10)
    starts = np.empty(len(breaks) + 1, dtype=np.int64)
    starts[0] = 0
    starts[1:] = breaks + 1
    if block.endswith(b"\n"):
        starts = starts[:-1]
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    if len(ends):
        ends[-1] = len(block)
    line_count = len(starts)
    # A line is blank when it holds nothing but JSON whitespace; checking the first
    # byte settles almost every line, and only the rest are looked at one by one.
    first = data[starts] if len(starts) else np.empty(0, dtype=np.uint8)
    keep = (first != 32) & (first != 9) & (first != 13) & (first != 10)
    for index in np.flatnonzero(~keep):
        if block[starts[index] : ends[index]].strip(_JSON_WHITESPACE):
            keep[index] = True
    kept = np.flatnonzero(keep)
    numbers = pa.array(kept + (line_base + 1), pa.int64())
    if not len(kept):
        return pa.array([], pa.large_string()), numbers, [], line_count
    offsets = np.empty(len(kept) + 1, dtype=np.int64)
    offsets[:-1] = starts[kept]
    offsets[0] = 0
    offsets[-1] = len(block)
    array = pa.LargeStringArray.from_buffers(len(kept), pa.py_buffer(offsets), pa.py_buffer(block))
    try:
        array.validate(full=True)
    except pa.ArrowInvalid:
        return _split_invalid_utf8(block, offsets, numbers, line_count)
    return array, numbers, [], line_count


def _split_invalid_utf8(
    block: bytes, offsets: Any, numbers: pa.Array, line_count: int
) -> tuple[pa.Array, pa.Array, list[ReadFailure], int]:
    """The slow path for a block holding bytes that are not UTF-8: refuse those lines."""
    good: list[str] = []
    good_numbers: list[int] = []
    failures: list[ReadFailure] = []
    for index, number in enumerate(numbers.to_pylist()):
        piece = block[offsets[index] : offsets[index + 1]]
        try:
            good.append(piece.decode("utf-8"))
            good_numbers.append(number)
        except UnicodeDecodeError as error:
            text = piece.decode("utf-8", errors="replace").strip(" \t\r\n")
            failures.append(ReadFailure(number, f"malformed JSON: {error}", text))
    return (
        pa.array(good, pa.large_string()),
        pa.array(good_numbers, pa.int64()),
        failures,
        line_count,
    )


# -- JSON array ---------------------------------------------------------------------------


def _array_batches(stream: Any, counter: _Counting, batch_size: int) -> Iterator[RawBatch]:
    texts: list[str] = []
    first_index = 0
    index = 0
    try:
        # Floats, not Decimals: re-encoded with orjson they read back as the very
        # numbers orjson would have read from the original text.
        for item in ijson.items(stream, "item", use_float=True):
            texts.append(_encode(item))
            index += 1
            if len(texts) == batch_size:
                yield _array_batch(texts, first_index, (), counter.count)
                texts, first_index = [], index
    except ijson.JSONError as error:
        failure = ReadFailure(index, _array_break(error, index), None)
        yield _array_batch(texts, first_index, (failure,), counter.count)
        return
    if texts:
        yield _array_batch(texts, first_index, (), counter.count)


def _encode(item: Any) -> str:
    try:
        return orjson.dumps(item).decode()
    except TypeError:
        # orjson reads integers beyond 64 bits as floats; write them that way too.
        return orjson.dumps(_big_ints_as_floats(item)).decode()


def _big_ints_as_floats(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _big_ints_as_floats(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_big_ints_as_floats(item) for item in value]
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 63:
        return float(value)
    return value


def _array_batch(
    texts: list[str], first_index: int, failures: tuple[ReadFailure, ...], done: int
) -> RawBatch:
    return RawBatch(
        texts=pa.chunked_array([pa.array(texts, pa.large_string())]),
        positions=pa.chunked_array(
            [pa.array(np.arange(first_index, first_index + len(texts), dtype=np.int64))]
        ),
        failures=failures,
        bytes_read=done,
    )


def _array_break(error: Exception, index: int) -> str:
    message = str(error)
    if message.startswith(("b'", 'b"')):
        message = message[2:-1].encode().decode("unicode_escape")
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    what = lines[0] if lines else "unreadable"
    near = lines[1] if len(lines) > 2 else ""
    where = f" near {near!r}" if near else ""
    return f"malformed JSON: the array breaks in element {index}: {what}{where}"
