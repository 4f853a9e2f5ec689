"""Decoding a readRows answer body: varint-length-prefixed
`ReadRowsResponse` messages, split anywhere by chunks (section 1, RR-6).
A partial message is never produced. One decoder per stream (one thread).
"""

from __future__ import annotations

from typing import Iterator, Optional, Union

from kvstore.attempts import AttemptFailure
from kvstore.protos import data_pb2, store_pb2
from kvstore.status import Code, Status
from kvstore.transport import DeadlineReached, TransportError

__all__ = ["MessageDecoder", "stream_items", "drain"]


class MessageDecoder:
    """Splits a byte stream into varint-length-prefixed messages."""

    def __init__(self):
        self._buffer = bytearray()

    def feed(self, data: bytes) -> Iterator[bytes]:
        self._buffer += data
        while True:
            header = _read_varint(self._buffer)
            if header is None:
                return
            length, used = header
            if len(self._buffer) < used + length:
                return
            message = bytes(self._buffer[used:used + length])
            del self._buffer[:used + length]
            yield message

    @property
    def pending(self) -> int:
        return len(self._buffer)


def _read_varint(buffer: bytearray) -> Optional[tuple[int, int]]:
    """(value, bytes used) of the varint at the buffer's start; None when
    incomplete. Raises AttemptFailure for a varint longer than 10 bytes."""
    value = 0
    for i in range(min(len(buffer), 10)):
        byte = buffer[i]
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, i + 1
    if len(buffer) >= 10:
        raise AttemptFailure(Status(Code.INTERNAL,
                                    "malformed readRows stream: bad length prefix"))
    return None


def stream_items(chunks: Iterator[bytes],
                 decoder: MessageDecoder) -> Iterator[Union[data_pb2.Row, Status]]:
    """The Rows and the final Status of a readRows body, as they arrive;
    messages holding neither are skipped."""
    for chunk in chunks:
        for message in decoder.feed(chunk):
            item = _parse_stream_message(message)
            if item is not None:
                yield item


def _parse_stream_message(message: bytes) -> Union[data_pb2.Row, Status, None]:
    """A Row, a final Status, or None for a message holding neither."""
    try:
        parsed = store_pb2.ReadRowsResponse.FromString(message)
    except Exception as error:
        raise AttemptFailure(Status(Code.INTERNAL,
                                    f"malformed readRows message: {error}")) from None
    if parsed.HasField("status"):
        return Status.of(parsed.status.code, parsed.status.message)
    if parsed.HasField("row"):
        return parsed.row
    return None


def drain(chunks: Iterator[bytes]) -> bool:
    """Reads what follows the final status; whether the connection may be
    reused. A failure here does not change the read's outcome."""
    try:
        for _ in chunks:
            pass
        return True
    except (DeadlineReached, TransportError):
        return False
