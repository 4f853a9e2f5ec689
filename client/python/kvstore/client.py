"""The kvstore client: every data call of the store's HTTP API, with the
retry, deadline and pool rules of docs/conformance.md.

    client = Client("127.0.0.1:4000", timeout=5.0, pool_size=8)
    row = client.read_row("t", b"key")            # a data_pb2.Row or None
    for row in client.read_rows("t", request):    # rows as they arrive
        ...
    client.close()

Thread-safety: a Client may be used from any number of threads at once; its
calls run in parallel up to `pool_size` requests at the store (PL-1), the
others wait for a free connection within their deadline.

Errors: every call raises `KvstoreError` (its `status` holds the canonical
code and message) when it fails: the store's error, UNAVAILABLE for a
transport failure, DEADLINE_EXCEEDED when the call's time ran out,
FAILED_PRECONDITION after `close()`. `mutate_rows` reports per-entry
failures in its result instead, and raises only when the call itself failed.
"""

from __future__ import annotations

import contextlib
import random
import threading
import urllib.parse
from typing import Callable, Iterator, Optional, TypeVar

from kvstore import retry
from kvstore.attempts import AttemptFailure, Attempts, transport_failure
from kvstore.bulk import BulkCall
from kvstore.protos import data_pb2, store_pb2
from kvstore.status import Code, KvstoreError, Status, status_from_http
from kvstore.stream import MessageDecoder, drain, stream_items
from kvstore.transport import (Connection, Deadline, DeadlineReached, Pool, Response,
                               TransportError, build_request, exchange)

__all__ = ["Client", "RowStream", "parse_endpoint", "DEFAULT_TIMEOUT_S",
           "DEFAULT_POOL_SIZE"]

DEFAULT_TIMEOUT_S = 60.0   # DL-2
DEFAULT_POOL_SIZE = 16     # PL-2
_PROTOBUF = "application/x-protobuf"

M = TypeVar("M")


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """("host", port) of "host:port" ("[v6]:port" too); ValueError when the
    host is empty or the port is not a number from 1 to 65535."""
    host, sep, port_text = endpoint.rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    elif ":" in host:
        host = ""  # an IPv6 address needs brackets
    if not sep or not host or any(c.isspace() or c in "/[]@" for c in host):
        raise ValueError(f"endpoint {endpoint!r} is not host:port")
    if not (port_text.isascii() and port_text.isdigit()) or not 1 <= int(port_text) <= 65535:
        raise ValueError(f"endpoint {endpoint!r} has no port from 1 to 65535")
    return host, int(port_text)


def _error_failure(response: Response, body: bytes) -> AttemptFailure:
    """The failure of a non-200 answer (API-3), with its Retry-After (BO-3)."""
    return AttemptFailure(status_from_http(response.status, body, response.content_type),
                          retry.parse_retry_after(response.header("retry-after")))


class RowStream:
    """The rows of one `read_rows` call, as they arrive (an iterator and a
    context manager). Iterating raises `KvstoreError` when the read fails,
    after the rows received before the failure (RR-7). `close()` stops the
    read early and gives up its connection. Use from one thread."""

    def __init__(self, rows: Iterator[data_pb2.Row]):
        self._rows = rows

    def __iter__(self) -> "RowStream":
        return self

    def __next__(self) -> data_pb2.Row:
        return next(self._rows)

    def close(self) -> None:
        self._rows.close()  # type: ignore[attr-defined]

    def __enter__(self) -> "RowStream":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class Client:
    """A client of one store ("host:port").

    `timeout` bounds each call, all attempts and waits included (DL-1);
    `pool_size` bounds the connections to the store (PL-1). Creating a
    client does not contact the store (LC-1). Thread-safe.
    """

    def __init__(self, endpoint: str, timeout: float = DEFAULT_TIMEOUT_S,
                 pool_size: int = DEFAULT_POOL_SIZE, rng: Optional[random.Random] = None):
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        if pool_size < 0:
            raise ValueError("pool_size must not be negative")
        self.host, self.port = parse_endpoint(endpoint)
        self.endpoint = endpoint
        self.timeout = float(timeout)
        self.pool_size = pool_size or DEFAULT_POOL_SIZE
        self._pool = Pool(self.host, self.port, self.pool_size)
        self._rng = rng or random.Random()
        self._closed = threading.Event()

    # --- lifecycle ---

    def close(self) -> None:
        """Closes the client: calls already running finish normally (with
        the store's answer); every later call fails FAILED_PRECONDITION
        (LC-3). Idle connections are closed now, busy ones when released."""
        self._closed.set()
        self._pool.close()

    @property
    def closed(self) -> bool:
        return self._closed.is_set()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _start(self) -> tuple[Deadline, Attempts]:
        if self._closed.is_set():
            raise KvstoreError(Status(Code.FAILED_PRECONDITION, "the client is closed"))
        deadline = Deadline.after(self.timeout)
        return deadline, Attempts(deadline, self._rng)

    # --- one attempt ---

    def _target(self, table: str, verb: str) -> str:
        return f"/v1/tables/{urllib.parse.quote(table, safe='')}:{verb}"

    def _request_bytes(self, method: str, target: str, body: Optional[bytes]) -> bytes:
        return build_request(method, target, self.endpoint, body, _PROTOBUF, _PROTOBUF)

    def _acquire(self, attempts: Attempts) -> Connection:
        """Starts an attempt: a connection from the pool, or raises AttemptFailure."""
        attempts.start()
        try:
            return self._pool.acquire(attempts.deadline)
        except (DeadlineReached, TransportError) as error:
            raise transport_failure(error, attempts.count) from None

    def _unary_attempt(self, method: str, target: str, body: Optional[bytes],
                       parse: Callable[[bytes], M], attempts: Attempts) -> M:
        """One exchange; the parsed 200 answer, or raises AttemptFailure."""
        conn = self._acquire(attempts)
        complete = False
        try:
            response = exchange(conn, self._request_bytes(method, target, body),
                                attempts.deadline)
            data = response.read_body()
            complete = response.complete
        except (DeadlineReached, TransportError) as error:
            raise transport_failure(error, attempts.count) from None
        finally:
            self._pool.release(conn, reuse=complete)
        if response.status != 200:
            raise _error_failure(response, data)
        try:
            return parse(data)
        except Exception as error:  # DecodeError: the answer is not the message
            raise AttemptFailure(Status(Code.INTERNAL, f"malformed answer: {error}")) from None

    def _call(self, method: str, table: str, verb: str, request, response_type: type[M],
              idempotent: bool) -> M:
        """A unary call: attempts (retried when idempotent) until one
        succeeds or the call ends."""
        _, attempts = self._start()
        target = self._target(table, verb)
        body = None if request is None else request.SerializeToString()
        while True:
            try:
                return self._unary_attempt(method, target, body, response_type.FromString,
                                           attempts)
            except AttemptFailure as failure:
                if not (idempotent and failure.transient):
                    raise KvstoreError(failure.status) from None
                ending = attempts.wait_for_retry(failure)
                if ending is not None:
                    raise KvstoreError(ending) from None

    # --- single-row writes and samples ---

    def mutate_row(self, table: str, request: store_pb2.MutateRowRequest) -> None:
        """Applies the mutations atomically. Retried only when every
        mutation is idempotent (ID-2)."""
        self._call("POST", table, "mutateRow", request, store_pb2.MutateRowResponse,
                   retry.mutations_are_idempotent(request.mutations))

    def check_and_mutate_row(self, table: str,
                             request: store_pb2.CheckAndMutateRowRequest) -> bool:
        """Whether the predicate matched. One attempt, always (ID-4)."""
        answer = self._call("POST", table, "checkAndMutateRow", request,
                            store_pb2.CheckAndMutateRowResponse, idempotent=False)
        return answer.predicate_matched

    def read_modify_write_row(self, table: str,
                              request: store_pb2.ReadModifyWriteRowRequest) -> data_pb2.Row:
        """The touched columns' new cells. One attempt, always (ID-4)."""
        answer = self._call("POST", table, "readModifyWriteRow", request,
                            store_pb2.ReadModifyWriteRowResponse, idempotent=False)
        return answer.row

    def sample_row_keys(self, table: str) -> list:
        """The store's samples (SampleRowKeysResponse.Sample), in order."""
        answer = self._call("GET", table, "sampleRowKeys", None,
                            store_pb2.SampleRowKeysResponse, idempotent=True)
        return list(answer.samples)

    # --- reads ---

    def read_row(self, table: str, row_key: bytes,
                 filter: Optional[data_pb2.RowFilter] = None) -> Optional[data_pb2.Row]:
        """The row, or None when the store sent none (API-2)."""
        request = store_pb2.ReadRowsRequest()
        request.rows.row_keys.append(row_key)
        if filter is not None:
            request.filter.CopyFrom(filter)
        found = None
        with self.read_rows(table, request) as rows:
            for row in rows:
                if found is None:
                    found = row
        return found

    def read_rows(self, table: str, request: store_pb2.ReadRowsRequest) -> RowStream:
        """The rows of the request, streamed. The call (and its deadline)
        starts now; a transient failure resumes after the last row (RR-2)."""
        _, attempts = self._start()
        return RowStream(self._read_rows(self._target(table, "readRows"), request, attempts))

    def _read_rows(self, target: str, request: store_pb2.ReadRowsRequest,
                   attempts: Attempts) -> Iterator[data_pb2.Row]:
        """The whole call: attempts, resumed after the last row delivered."""
        delivered = 0
        last_key: Optional[bytes] = None
        current: Optional[store_pb2.ReadRowsRequest] = request
        while True:
            try:
                attempt = self._read_rows_attempt(target, current, attempts)
                with contextlib.closing(attempt) as rows:
                    for row in rows:
                        delivered += 1
                        last_key = row.key
                        yield row
                return
            except AttemptFailure as failure:
                if not failure.transient:
                    raise KvstoreError(failure.status) from None
                current = retry.resume_read(request, last_key, delivered)
                if current is None:
                    return  # RR-4: nothing left to read
                ending = attempts.wait_for_retry(failure)
                if ending is not None:
                    raise KvstoreError(ending) from None

    def _read_rows_attempt(self, target: str, request: store_pb2.ReadRowsRequest,
                           attempts: Attempts) -> Iterator[data_pb2.Row]:
        """One readRows exchange: yields its rows, returns at the final OK
        status, raises AttemptFailure otherwise."""
        conn = self._acquire(attempts)
        complete = False
        rows = 0
        try:
            response = exchange(conn, self._request_bytes(
                "POST", target, request.SerializeToString()), attempts.deadline)
            if response.status != 200:
                data = response.read_body()
                complete = response.complete
                raise _error_failure(response, data)
            chunks = response.body_chunks()
            decoder = MessageDecoder()
            final: Optional[Status] = None
            for item in stream_items(chunks, decoder):
                if isinstance(item, Status):
                    final = item
                    break
                rows += 1
                yield item
            if final is None:  # RR-6: cut short, at any byte
                where = " (inside a message)" if decoder.pending else ""
                raise AttemptFailure(Status(Code.UNAVAILABLE, "readRows stream ended without "
                                            f"its final status after {rows} rows{where}"))
            complete = drain(chunks)
            if not final.ok:
                raise AttemptFailure(final)
        except (DeadlineReached, TransportError) as error:
            raise transport_failure(error, attempts.count,
                                    f" (readRows, after {rows} rows)") from None
        finally:
            self._pool.release(conn, reuse=complete)

    # --- bulk writes ---

    def mutate_rows(self, table: str, request: store_pb2.MutateRowsRequest) -> list[Status]:
        """Each entry's final status, by index (OK when applied). Entries
        that failed transiently are resent alone when idempotent (BM-3,
        ID-3). Raises KvstoreError only when the call failed before any
        entry got an answer (BM-2)."""
        _, attempts = self._start()
        target = self._target(table, "mutateRows")

        def send(sub: store_pb2.MutateRowsRequest) -> store_pb2.MutateRowsResponse:
            return self._unary_attempt("POST", target, sub.SerializeToString(),
                                       store_pb2.MutateRowsResponse.FromString, attempts)

        return BulkCall(send, request, attempts).run()
