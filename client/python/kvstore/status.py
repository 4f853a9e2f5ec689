"""Canonical status codes, the Status value and the library's exception.

Every failure the library reports is a `KvstoreError` carrying a `Status`
(a canonical code, the numbers gRPC uses, and a message). Immutable values:
safe to share between threads.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass

__all__ = ["Code", "Status", "KvstoreError", "OK", "code_for_http_status",
           "status_from_http"]


class Code(enum.IntEnum):
    """Canonical status codes (google.rpc.Code / grpc.StatusCode numbers)."""

    OK = 0
    CANCELLED = 1
    UNKNOWN = 2
    INVALID_ARGUMENT = 3
    DEADLINE_EXCEEDED = 4
    NOT_FOUND = 5
    ALREADY_EXISTS = 6
    PERMISSION_DENIED = 7
    RESOURCE_EXHAUSTED = 8
    FAILED_PRECONDITION = 9
    ABORTED = 10
    OUT_OF_RANGE = 11
    UNIMPLEMENTED = 12
    INTERNAL = 13
    UNAVAILABLE = 14
    DATA_LOSS = 15
    UNAUTHENTICATED = 16


def _code_or_int(code: int) -> Code | int:
    try:
        return Code(code)
    except ValueError:
        return code  # a code this library does not know: kept as a number


@dataclass(frozen=True)
class Status:
    """An outcome: `code` (a `Code`, or an int for an unknown number) and
    `message`."""

    code: int
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.code == Code.OK

    def __str__(self) -> str:
        code = self.code
        name = code.name if isinstance(code, Code) else str(code)
        return f"{name}: {self.message}" if self.message else name

    @staticmethod
    def of(code: int, message: str = "") -> "Status":
        return Status(_code_or_int(int(code)), message)


OK = Status(Code.OK)


class KvstoreError(Exception):
    """A failed call. `status` is the outcome; `code` and `message` its parts."""

    def __init__(self, status: Status):
        super().__init__(str(status))
        self.status = status

    @property
    def code(self) -> int:
        return self.status.code

    @property
    def message(self) -> str:
        return self.status.message


# docs/conformance.md section 1: the one HTTP mapping of the store's codes.
_HTTP_TO_CODE = {
    400: Code.INVALID_ARGUMENT,
    404: Code.NOT_FOUND,
    409: Code.ALREADY_EXISTS,
    412: Code.FAILED_PRECONDITION,
    429: Code.RESOURCE_EXHAUSTED,
    499: Code.CANCELLED,
    500: Code.INTERNAL,
    501: Code.UNIMPLEMENTED,
    503: Code.UNAVAILABLE,
    504: Code.DEADLINE_EXCEEDED,
}


def code_for_http_status(http_status: int) -> Code:
    """The code an HTTP error status stands for (API-3): the table, else
    FAILED_PRECONDITION for 4xx, UNAVAILABLE for 5xx. Other statuses (1xx,
    2xx other than 200, 3xx, >= 600) are not in the spec: UNKNOWN."""
    code = _HTTP_TO_CODE.get(http_status)
    if code is not None:
        return code
    if 400 <= http_status < 500:
        return Code.FAILED_PRECONDITION
    if 500 <= http_status < 600:
        return Code.UNAVAILABLE
    return Code.UNKNOWN


def _parse_body_status(body: bytes, content_type: str) -> tuple[int, str] | None:
    """The (code, message) of an error body, or None when it is not a Status."""
    if not body:
        return None
    if "json" in content_type:
        try:
            value = json.loads(body.decode("utf-8"))
            return int(value.get("code", 0)), str(value.get("message", ""))
        except (ValueError, AttributeError, TypeError):
            return None
    if content_type.startswith("text/"):
        return None
    from kvstore.protos import store_pb2  # lazy: generated on first use

    message = store_pb2.Status()
    try:
        message.ParseFromString(body)
    except Exception:  # google.protobuf.message.DecodeError and friends
        return None
    return message.code, message.message


def status_from_http(http_status: int, body: bytes, content_type: str = "") -> Status:
    """The Status of a non-200 answer (API-3): the body's Status when it has
    a non-zero code, else the code of the HTTP status."""
    parsed = _parse_body_status(body, content_type.lower())
    if parsed is not None and parsed[0] != 0:
        return Status.of(parsed[0], parsed[1])
    message = f"HTTP {http_status}"
    if parsed is None and body:
        text = body[:200].decode("utf-8", "replace").strip()
        if text:
            message += f": {text}"
    return Status(code_for_http_status(http_status), message)
