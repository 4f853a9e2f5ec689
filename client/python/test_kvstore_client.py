"""Tests of the kvstore client library (client/python/kvstore).

Unit tests of the pure rules (resumption, backoff, idempotency, status
mapping), of the HTTP layer against scripted fake servers, and integration
tests against the real store (skipped unless KVSTORE_SERVER_BINARY is set):

    KVSTORE_SERVER_BINARY=build/default/store/kvstore_server \\
        PYTHONPATH=client/python /usr/bin/python3 -m unittest client/python/test_kvstore_client.py
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from kvstore import retry  # noqa: E402
from kvstore.attempts import AttemptFailure, Attempts  # noqa: E402
from kvstore.bulk import BulkCall  # noqa: E402
from kvstore.client import Client, parse_endpoint  # noqa: E402
from kvstore.protos import data_pb2, store_pb2  # noqa: E402
from kvstore.stream import MessageDecoder  # noqa: E402
from kvstore.status import (Code, KvstoreError, Status, code_for_http_status,  # noqa: E402
                            status_from_http)
from kvstore.transport import Deadline, DeadlineReached, Pool, TransportError  # noqa: E402
from store_process import SERVER, StoreProcess  # noqa: E402

RowRange = data_pb2.RowRange


def read_request(keys=(), ranges=(), limit=0, reversed_=False, filter_=None):
    request = store_pb2.ReadRowsRequest(rows_limit=limit, reversed=reversed_)
    request.rows.row_keys.extend(keys)
    for r in ranges:
        request.rows.row_ranges.add().CopyFrom(r)
    if filter_ is not None:
        request.filter.CopyFrom(filter_)
    return request


class ResumeReadTest(unittest.TestCase):
    """RR-2 to RR-4: the request of the attempt after a transient failure."""

    def test_no_row_delivered_resends_the_request_unchanged(self):
        request = read_request(keys=[b"a"], limit=3)
        self.assertIs(retry.resume_read(request, None, 0), request)

    def test_every_row_forward_and_reversed(self):
        cut = retry.resume_read(read_request(), b"m", 2)
        self.assertEqual(list(cut.rows.row_ranges), [RowRange(start_open=b"m")])
        self.assertFalse(cut.rows.row_keys)
        cut = retry.resume_read(read_request(reversed_=True), b"m", 2)
        self.assertEqual(list(cut.rows.row_ranges), [RowRange(end_open=b"m")])
        self.assertTrue(cut.reversed)

    def test_keys_forward_and_reversed(self):
        keys = [b"a", b"c", b"b", b"e", b"d"]
        cut = retry.resume_read(read_request(keys=keys), b"c", 3)
        self.assertEqual(list(cut.rows.row_keys), [b"e", b"d"])
        cut = retry.resume_read(read_request(keys=keys, reversed_=True), b"c", 3)
        self.assertEqual(list(cut.rows.row_keys), [b"a", b"b"])

    def test_keys_compare_as_unsigned_bytes(self):
        cut = retry.resume_read(read_request(keys=[b"\x7f", b"\x80", b"\xff"]), b"\x7f", 1)
        self.assertEqual(list(cut.rows.row_keys), [b"\x80", b"\xff"])

    def test_keys_exhausted_means_done(self):
        self.assertIsNone(retry.resume_read(read_request(keys=[b"a", b"b"]), b"b", 2))
        self.assertIsNone(retry.resume_read(read_request(keys=[b"a", b"b"], reversed_=True),
                                            b"a", 2))

    def forward(self, r, last=b"m"):
        cut = retry.resume_read(read_request(ranges=[r]), last, 1)
        return None if cut is None else list(cut.rows.row_ranges)

    def reversed_cut(self, r, last=b"m"):
        cut = retry.resume_read(read_request(ranges=[r], reversed_=True), last, 1)
        return None if cut is None else list(cut.rows.row_ranges)

    def test_forward_range_dropped_when_it_ends_at_or_before_last(self):
        self.assertIsNone(self.forward(RowRange(start_closed=b"a", end_closed=b"m")))
        self.assertIsNone(self.forward(RowRange(start_closed=b"a", end_closed=b"b")))
        self.assertIsNone(self.forward(RowRange(start_closed=b"a", end_open=b"m")))
        self.assertIsNone(self.forward(RowRange(end_open=b"b")))

    def test_forward_range_start_moves_to_open_last(self):
        for start in ({}, {"start_closed": b"a"}, {"start_open": b"a"}, {"start_closed": b"m"},
                      {"start_closed": b""}):
            for end in ({}, {"end_open": b"z"}, {"end_closed": b"z"}, {"end_closed": b"m\x00"},
                        {"end_open": b""}, {"end_closed": b""}):
                with self.subTest(start=start, end=end):
                    expected = RowRange(start_open=b"m", **end)
                    self.assertEqual(self.forward(RowRange(**start, **end)), [expected])

    def test_forward_range_already_after_last_is_unchanged(self):
        for r in (RowRange(start_closed=b"n", end_open=b"z"), RowRange(start_open=b"m"),
                  RowRange(start_open=b"x", end_closed=b"z")):
            with self.subTest(r=r):
                self.assertEqual(self.forward(r), [r])

    def test_reversed_range_dropped_when_it_starts_at_or_after_last(self):
        self.assertIsNone(self.reversed_cut(RowRange(start_closed=b"m", end_closed=b"z")))
        self.assertIsNone(self.reversed_cut(RowRange(start_open=b"m")))
        self.assertIsNone(self.reversed_cut(RowRange(start_open=b"n", end_open=b"z")))

    def test_reversed_range_end_moves_to_open_last(self):
        for start in ({}, {"start_closed": b"a"}, {"start_open": b"a"}, {"start_closed": b""}):
            for end in ({}, {"end_open": b"z"}, {"end_closed": b"m"}, {"end_closed": b"z"},
                        {"end_open": b""}, {"end_closed": b""}, {"end_open": b"m\x00"}):
                with self.subTest(start=start, end=end):
                    expected = RowRange(**start, end_open=b"m")
                    self.assertEqual(self.reversed_cut(RowRange(**start, **end)), [expected])

    def test_reversed_range_already_before_last_is_unchanged(self):
        for r in (RowRange(start_closed=b"a", end_open=b"m"), RowRange(end_closed=b"l"),
                  RowRange(end_open=b"b")):
            with self.subTest(r=r):
                self.assertEqual(self.reversed_cut(r), [r])

    def test_keys_and_ranges_cut_together(self):
        request = read_request(keys=[b"b", b"q"], ranges=[RowRange(start_closed=b"a",
                                                                    end_open=b"c"),
                                                           RowRange(start_closed=b"k",
                                                                    end_closed=b"p")])
        cut = retry.resume_read(request, b"l", 3)
        self.assertEqual(list(cut.rows.row_keys), [b"q"])
        self.assertEqual(list(cut.rows.row_ranges),
                         [RowRange(start_open=b"l", end_closed=b"p")])
        self.assertIsNone(retry.resume_read(request, b"q", 4))

    def test_rows_limit_counts_the_whole_call(self):
        request = read_request(limit=5)
        self.assertEqual(retry.resume_read(request, b"c", 3).rows_limit, 2)
        self.assertIsNone(retry.resume_read(request, b"e", 5))
        self.assertEqual(retry.resume_read(read_request(), b"c", 3).rows_limit, 0)

    def test_filter_and_reversed_kept_and_original_untouched(self):
        filter_ = data_pb2.RowFilter(family_name_regex="f")
        request = read_request(reversed_=True, filter_=filter_, limit=9)
        cut = retry.resume_read(request, b"m", 1)
        self.assertEqual(cut.filter, filter_)
        self.assertTrue(cut.reversed)
        self.assertFalse(request.rows.row_ranges)
        self.assertEqual(request.rows_limit, 9)


class BackoffTest(unittest.TestCase):
    """BO-1, BO-3."""

    def test_bounds(self):
        expected = [0.010, 0.020, 0.040, 0.080, 0.160, 0.320, 0.640, 1.0, 1.0, 1.0]
        for n, bound in enumerate(expected, start=1):
            self.assertAlmostEqual(retry.backoff_bound(n), bound)
        self.assertEqual(retry.backoff_bound(1000), 1.0)

    def test_jitter_stays_in_half_to_full_bound_and_varies(self):
        rng = random.Random(7)
        for n in range(1, 12):
            bound = retry.backoff_bound(n)
            waits = [retry.backoff_delay(n, rng) for _ in range(200)]
            self.assertTrue(all(bound / 2 <= w <= bound for w in waits))
            self.assertGreater(len(set(waits)), 100)

    def test_retry_after_is_a_floor(self):
        rng = random.Random(1)
        self.assertEqual(retry.retry_wait(1, 2.0, rng), 2.0)
        self.assertLessEqual(retry.retry_wait(8, 0.0, rng), 1.0)
        self.assertGreaterEqual(retry.retry_wait(8, 0.0, rng), 0.5)

    def test_retry_after_parsing(self):
        self.assertEqual(retry.parse_retry_after("3"), 3.0)
        self.assertEqual(retry.parse_retry_after(" 0 "), 0.0)
        self.assertIsNone(retry.parse_retry_after(None))
        self.assertIsNone(retry.parse_retry_after("soon"))
        self.assertIsNone(retry.parse_retry_after("-1"))


class IdempotencyTest(unittest.TestCase):
    """ID-2, ID-3."""

    def test_server_time_set_cell_is_not_idempotent(self):
        m = data_pb2.Mutation
        server = m(set_cell=m.SetCell(family_name="f", timestamp_micros=-1))
        explicit = m(set_cell=m.SetCell(family_name="f", timestamp_micros=0))
        deletes = [m(delete_from_row=m.DeleteFromRow()),
                   m(delete_from_family=m.DeleteFromFamily(family_name="f")),
                   m(delete_from_column=m.DeleteFromColumn(family_name="f"))]
        self.assertFalse(retry.mutation_is_idempotent(server))
        self.assertTrue(retry.mutation_is_idempotent(explicit))
        self.assertTrue(all(retry.mutation_is_idempotent(d) for d in deletes))
        self.assertTrue(retry.mutations_are_idempotent([explicit, *deletes]))
        self.assertFalse(retry.mutations_are_idempotent([explicit, server]))

    def test_transient_codes(self):
        self.assertTrue(retry.is_transient_code(Code.UNAVAILABLE))
        self.assertTrue(retry.is_transient_code(Code.DEADLINE_EXCEEDED))
        for code in (Code.INTERNAL, Code.NOT_FOUND, Code.RESOURCE_EXHAUSTED, Code.ABORTED):
            self.assertFalse(retry.is_transient_code(code))


class StatusMappingTest(unittest.TestCase):
    """API-3 and section 1's table."""

    def test_table(self):
        table = {400: Code.INVALID_ARGUMENT, 404: Code.NOT_FOUND, 409: Code.ALREADY_EXISTS,
                 412: Code.FAILED_PRECONDITION, 429: Code.RESOURCE_EXHAUSTED,
                 499: Code.CANCELLED, 500: Code.INTERNAL, 501: Code.UNIMPLEMENTED,
                 503: Code.UNAVAILABLE, 504: Code.DEADLINE_EXCEEDED}
        for http_status, code in table.items():
            self.assertEqual(code_for_http_status(http_status), code)
            self.assertEqual(status_from_http(http_status, b"").code, code)

    def test_outside_the_table(self):
        self.assertEqual(code_for_http_status(418), Code.FAILED_PRECONDITION)
        self.assertEqual(code_for_http_status(502), Code.UNAVAILABLE)
        self.assertEqual(code_for_http_status(599), Code.UNAVAILABLE)

    def test_body_status_wins(self):
        body = store_pb2.Status(code=5, message="no table").SerializeToString()
        status = status_from_http(503, body, "application/x-protobuf")
        self.assertEqual((status.code, status.message), (Code.NOT_FOUND, "no table"))
        json_body = b'{"code": 14, "message": "later"}'
        self.assertEqual(status_from_http(400, json_body, "application/json").code,
                         Code.UNAVAILABLE)

    def test_body_without_a_code_falls_back_to_http(self):
        zero = store_pb2.Status(code=0, message="odd").SerializeToString()
        self.assertEqual(status_from_http(503, zero, "application/x-protobuf").code,
                         Code.UNAVAILABLE)
        self.assertEqual(status_from_http(502, b"\xff\xff\xff", "application/x-protobuf").code,
                         Code.UNAVAILABLE)
        self.assertEqual(status_from_http(404, b"Not Found", "text/plain").code,
                         Code.NOT_FOUND)

    def test_endpoint_parsing(self):
        self.assertEqual(parse_endpoint("127.0.0.1:80"), ("127.0.0.1", 80))
        self.assertEqual(parse_endpoint("[::1]:65535"), ("::1", 65535))
        for bad in ("", "host", "host:", ":80", "host:0", "host:65536", "host:x", "a b:1",
                    "::1:80", "host:-1", "host:+1"):
            with self.assertRaises(ValueError, msg=bad):
                parse_endpoint(bad)


class BulkCallTest(unittest.TestCase):
    """BM-1 to BM-3 and ID-3, with scripted attempts."""

    M = data_pb2.Mutation
    EXPLICIT = [M(set_cell=M.SetCell(family_name="f", timestamp_micros=7))]
    SERVER_TIME = [M(set_cell=M.SetCell(family_name="f", timestamp_micros=-1))]

    def run_bulk(self, kinds, outcomes, timeout=5.0):
        """kinds: "e" (explicit time) or "s" (server time) per entry;
        outcomes: per attempt, a list of entry codes or an AttemptFailure.
        Returns (statuses or the KvstoreError, the keys each attempt sent)."""
        request = store_pb2.MutateRowsRequest()
        for i, kind in enumerate(kinds):
            request.entries.add(row_key=b"%d" % i,
                                mutations=self.EXPLICIT if kind == "e" else self.SERVER_TIME)
        attempts = Attempts(Deadline.after(timeout), random.Random(3))
        sent = []

        def send(sub):
            attempts.start()
            sent.append([e.row_key for e in sub.entries])
            outcome = outcomes[len(sent) - 1]
            if isinstance(outcome, AttemptFailure):
                raise outcome
            answer = store_pb2.MutateRowsResponse()
            for i, code in enumerate(outcome):
                answer.entries.add(index=i, status=store_pb2.Status(code=code))
            return answer

        try:
            return BulkCall(send, request, attempts).run(), sent
        except KvstoreError as error:
            return error, sent

    def unavailable(self):
        return AttemptFailure(Status(Code.UNAVAILABLE, "dropped"))

    def test_only_transient_idempotent_entries_are_resent_alone(self):
        statuses, sent = self.run_bulk("eses", [[14, 14, 0, 5], [0]])
        self.assertEqual([s.code for s in statuses],
                         [Code.OK, Code.UNAVAILABLE, Code.OK, Code.NOT_FOUND])
        self.assertEqual(sent, [[b"0", b"1", b"2", b"3"], [b"0"]])

    def test_whole_attempt_failure_ends_server_time_entries(self):
        statuses, sent = self.run_bulk("ese", [self.unavailable(), [0, 0]])
        self.assertEqual([s.code for s in statuses], [Code.OK, Code.UNAVAILABLE, Code.OK])
        self.assertEqual(sent, [[b"0", b"1", b"2"], [b"0", b"2"]])

    def test_no_answer_at_all_is_the_call_error(self):
        error, sent = self.run_bulk("ss", [self.unavailable()])
        self.assertEqual(error.code, Code.UNAVAILABLE)
        self.assertEqual(len(sent), 1)
        error, sent = self.run_bulk("ee", [AttemptFailure(Status(Code.NOT_FOUND, "t"))])
        self.assertEqual(error.code, Code.NOT_FOUND)
        error, sent = self.run_bulk("e", [self.unavailable()] * 10)
        self.assertEqual((error.code, len(sent)), (Code.UNAVAILABLE, 10))

    def test_budget_spent_keeps_the_last_entry_outcome(self):
        statuses, sent = self.run_bulk("ee", [[0, 14]] + [[14]] * 9)
        self.assertEqual([s.code for s in statuses], [Code.OK, Code.UNAVAILABLE])
        self.assertEqual(len(sent), 10)

    def test_deadline_after_some_answers_ends_the_pending_entries(self):
        late = AttemptFailure(Status(Code.UNAVAILABLE, "busy"), retry_after=60)
        statuses, sent = self.run_bulk("ee", [[0, 14], late])
        self.assertEqual([s.code for s in statuses], [Code.OK, Code.DEADLINE_EXCEEDED])


class MessageDecoderTest(unittest.TestCase):
    """RR-6: messages split at any byte; partial ones are never produced."""

    def test_every_split(self):
        messages = [b"x" * n for n in (0, 1, 127, 128, 300)]
        stream = b"".join(_varint(len(m)) + m for m in messages)
        for cut in range(len(stream) + 1):
            decoder = MessageDecoder()
            out = list(decoder.feed(stream[:cut])) + list(decoder.feed(stream[cut:]))
            self.assertEqual(out, messages)
        decoder = MessageDecoder()
        self.assertEqual(list(decoder.feed(stream[:-1])), messages[:-1])
        self.assertGreater(decoder.pending, 0)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


# --- A scripted fake store, for the HTTP layer ------------------------------

class FakeServer:
    """Accepts connections; each request gets the next scripted reply (bytes
    to send, then "close", "keep" or "silent")."""

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests = 0
        self.connections = 0
        self.bodies = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.endpoint = f"127.0.0.1:{self.port}"
        self._lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        buffer = b""
        with conn:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, _, buffer = buffer.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                while len(buffer) < length:
                    buffer += conn.recv(65536)
                with self._lock:
                    self.requests += 1
                    reply = self.replies.pop(0) if self.replies else (b"", "close")
                self.bodies.append(buffer[:length])
                data, then = reply(buffer[:length]) if callable(reply) else reply
                buffer = buffer[length:]
                conn.sendall(data)
                if then == "close":
                    return
                if then == "silent":
                    time.sleep(30)
                    return

    def close(self):
        self.sock.close()


def _http(status: int, body: bytes, headers: str = "") -> bytes:
    return (f"HTTP/1.1 {status} X\r\nContent-Type: application/x-protobuf\r\n{headers}"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


def _rows_stream(keys, final_status=0, chunk_size=7) -> bytes:
    body = b""
    for key in keys:
        message = store_pb2.ReadRowsResponse(row=data_pb2.Row(key=key)).SerializeToString()
        body += _varint(len(message)) + message
    if final_status is not None:
        message = store_pb2.ReadRowsResponse(
            status=store_pb2.Status(code=final_status)).SerializeToString()
        body += _varint(len(message)) + message
    chunks = b""
    for i in range(0, len(body), chunk_size):
        piece = body[i:i + chunk_size]
        chunks += f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    return chunks


def _chunked_head() -> bytes:
    return (b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")


class FakeStoreTest(unittest.TestCase):
    """The client against scripted answers: TR-1, RR-2, RR-6, BO-2, DL-1."""

    def serve(self, replies, **kwargs):
        server = FakeServer(replies)
        self.addCleanup(server.close)
        client = Client(server.endpoint, **kwargs)
        self.addCleanup(client.close)
        return server, client

    def test_stream_cut_inside_a_chunk_resumes_after_the_last_row(self):
        whole = _rows_stream([b"a", b"b", b"c"])
        cut = _chunked_head() + whole[:len(whole) // 2]
        rest = _chunked_head() + _rows_stream([b"c"]) + b"0\r\n\r\n"
        server, client = self.serve([(cut, "close"), (rest, "keep")], timeout=5)
        rows = [r.key for r in client.read_rows("t", read_request())]
        self.assertEqual(rows[-1], b"c")
        self.assertEqual(len(rows), len(set(rows)))
        self.assertEqual(server.requests, 2)

    def test_stream_cut_at_every_byte_never_delivers_twice(self):
        keys = [b"a", b"b", b"c"]
        whole = _chunked_head() + _rows_stream(keys) + b"0\r\n\r\n"

        def answer_the_request(body):
            asked = store_pb2.ReadRowsRequest.FromString(body).rows.row_keys
            return _chunked_head() + _rows_stream(list(asked)) + b"0\r\n\r\n", "keep"

        for cut in range(len(_chunked_head()), len(whole) - 5):
            server, client = self.serve([(whole[:cut], "close"), answer_the_request], timeout=5)
            rows = [r.key for r in client.read_rows("t", read_request(keys=keys))]
            self.assertEqual(rows, keys, f"cut at byte {cut}")

    def test_clean_end_without_final_status_is_transient(self):
        short = _chunked_head() + _rows_stream([b"a"], final_status=None) + b"0\r\n\r\n"
        full = _chunked_head() + _rows_stream([b"b"]) + b"0\r\n\r\n"
        server, client = self.serve([(short, "keep"), (full, "keep")], timeout=5)
        self.assertEqual([r.key for r in client.read_rows("t", read_request())], [b"a", b"b"])
        self.assertEqual(server.requests, 2)

    def test_attempt_budget_ends_with_the_last_outcome(self):
        unavailable = _http(503, store_pb2.Status(code=14, message="busy").SerializeToString())
        server, client = self.serve([(unavailable, "keep")] * 20, timeout=30)
        start = time.monotonic()
        with self.assertRaises(KvstoreError) as raised:
            client.sample_row_keys("t")
        self.assertEqual(raised.exception.code, Code.UNAVAILABLE)
        self.assertEqual(server.requests, retry.MAX_ATTEMPTS)
        # (Bounds in these tests are seconds wide: only a real bug crosses them.)
        self.assertLess(time.monotonic() - start, 30)

    def test_non_idempotent_call_makes_one_attempt(self):
        server, client = self.serve([(b"HTTP/1.1 200 OK\r\nContent-Le", "close")], timeout=5)
        with self.assertRaises(KvstoreError) as raised:
            client.check_and_mutate_row("t", store_pb2.CheckAndMutateRowRequest(row_key=b"k"))
        self.assertEqual(raised.exception.code, Code.UNAVAILABLE)
        self.assertEqual(server.requests, 1)

    def test_deadline_bounds_a_silent_store(self):
        server, client = self.serve([(b"", "silent")], timeout=0.3)
        start = time.monotonic()
        with self.assertRaises(KvstoreError) as raised:
            client.read_row("t", b"k")
        self.assertEqual(raised.exception.code, Code.DEADLINE_EXCEEDED)
        self.assertLess(time.monotonic() - start, 10)

    def test_retry_after_past_the_deadline_ends_at_once(self):
        busy = _http(503, b"", "Retry-After: 60\r\n")
        server, client = self.serve([(busy, "keep")], timeout=30)
        start = time.monotonic()
        with self.assertRaises(KvstoreError) as raised:
            client.read_row("t", b"k")
        self.assertEqual(raised.exception.code, Code.DEADLINE_EXCEEDED)
        self.assertLess(time.monotonic() - start, 15)  # not 30 s, nor 60 s
        self.assertEqual(server.requests, 1)

    def test_keep_alive_connection_is_reused(self):
        ok = _http(200, b"")
        server, client = self.serve([(ok, "keep")] * 3, timeout=5)
        for _ in range(3):
            client.mutate_row("t", store_pb2.MutateRowRequest(row_key=b"k"))
        self.assertEqual(server.connections, 1)

    def test_an_idle_connection_the_store_closed_is_not_used(self):
        answer = _http(200, store_pb2.CheckAndMutateRowResponse(
            predicate_matched=True).SerializeToString())
        server, client = self.serve([(answer, "close"), (answer, "keep")], timeout=5)
        request = store_pb2.CheckAndMutateRowRequest(row_key=b"k")
        self.assertTrue(client.check_and_mutate_row("t", request))
        time.sleep(0.1)  # the store's FIN arrives while the connection is idle
        self.assertTrue(client.check_and_mutate_row("t", request))  # one attempt, fresh
        self.assertEqual((server.requests, server.connections), (2, 2))

    def test_bulk_resends_only_transient_idempotent_entries(self):
        m = data_pb2.Mutation
        explicit = [m(set_cell=m.SetCell(family_name="f", timestamp_micros=5))]
        server_time = [m(set_cell=m.SetCell(family_name="f", timestamp_micros=-1))]
        request = store_pb2.MutateRowsRequest()
        for key, mutations in ((b"a", explicit), (b"b", server_time), (b"c", explicit),
                               (b"d", explicit)):
            request.entries.add(row_key=key, mutations=mutations)

        def answer(codes):
            response = store_pb2.MutateRowsResponse()
            for i, code in enumerate(codes):
                response.entries.add(index=i, status=store_pb2.Status(code=code))
            return _http(200, response.SerializeToString())

        server, client = self.serve([(answer([14, 14, 5, 0]), "keep"), (answer([0]), "keep")],
                                    timeout=5)
        statuses = client.mutate_rows("t", request)
        self.assertEqual([s.code for s in statuses],
                         [Code.OK, Code.UNAVAILABLE, Code.NOT_FOUND, Code.OK])
        self.assertEqual(server.requests, 2)


class PoolTest(unittest.TestCase):
    """PL-1: the pool never holds more than `size` connections."""

    def test_a_full_pool_waits_within_the_deadline(self):
        server = FakeServer([])
        self.addCleanup(server.close)
        pool = Pool("127.0.0.1", server.port, 2)
        first = pool.acquire(Deadline.after(1))
        second = pool.acquire(Deadline.after(1))
        with self.assertRaises(DeadlineReached):
            pool.acquire(Deadline.after(0.1))
        threading.Timer(0.1, pool.release, (first, True)).start()
        self.assertIs(pool.acquire(Deadline.after(2)), first)
        pool.release(second, False)
        pool.release(first, False)
        pool.close()

    def test_refused_connection_is_a_transport_error(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        with self.assertRaises(TransportError):
            Pool("127.0.0.1", port, 1).acquire(Deadline.after(1))


# --- Against the real store -------------------------------------------------

@unittest.skipUnless(SERVER, "KVSTORE_SERVER_BINARY is not set: skipping the tests "
                             "against the real kvstore_server")
class StoreTest(unittest.TestCase):
    """The client against kvstore_server (port 0, in memory, error injection)."""

    @classmethod
    def setUpClass(cls):
        cls.store = StoreProcess()
        cls.endpoint = cls.store.endpoint
        cls.admin("POST", "/v1/tables", {"table": {"name": "t", "columnFamilies": [
            {"name": "f"}, {"name": "one", "gcRule": {"maxVersions": 1}}]}})

    @classmethod
    def tearDownClass(cls):
        cls.store.stop()

    @classmethod
    def admin(cls, method, path, body=None):
        host, port = cls.endpoint.split(":")
        conn = http.client.HTTPConnection(host, int(port), timeout=10)
        try:
            conn.request(method, path, json.dumps(body) if body is not None else None,
                         {"Content-Type": "application/json"})
            response = conn.getresponse()
            text = response.read().decode()
        finally:
            conn.close()
        if response.status // 100 != 2:
            raise RuntimeError(f"{method} {path}: {response.status} {text}")
        return json.loads(text) if text else None

    def arm(self, point, **parameters):
        self.admin("POST", f"/v2/error_injection/injection/{point}",
                   {k: str(v) for k, v in parameters.items()})
        self.addCleanup(self.admin, "DELETE", "/v2/error_injection/injection")

    def hits(self, point):
        return self.admin("GET", f"/v2/error_injection/injection/{point}")[0]["hits"]

    def client(self, **kwargs):
        client = Client(self.endpoint, **kwargs)
        self.addCleanup(client.close)
        return client

    def write(self, client, key, value=b"v", ts=1000):
        m = data_pb2.Mutation
        client.mutate_row("t", store_pb2.MutateRowRequest(row_key=key, mutations=[
            m(set_cell=m.SetCell(family_name="f", column_qualifier=b"q",
                                 timestamp_micros=ts, value=value))]))

    def test_write_then_read_any_bytes(self):
        client = self.client()
        key, value = b"\x00\xffbin\n", bytes(range(256)) * 100
        self.write(client, key, value)
        row = client.read_row("t", key)
        self.assertEqual(row.key, key)
        self.assertEqual(row.families[0].columns[0].cells[0].value, value)
        self.assertIsNone(client.read_row("t", b"missing"))

    def test_unknown_table_is_not_found(self):
        with self.assertRaises(KvstoreError) as raised:
            self.client().read_row("no-such-table", b"k")
        self.assertEqual(raised.exception.code, Code.NOT_FOUND)

    def test_read_rows_stops_early_and_the_client_goes_on(self):
        client = self.client(pool_size=1)
        for i in range(20):
            self.write(client, b"scan-%02d" % i)
        request = read_request(ranges=[RowRange(start_closed=b"scan-", end_open=b"scan.")])
        with client.read_rows("t", request) as rows:
            first = [next(rows).key for _ in range(3)]
        self.assertEqual(first, [b"scan-00", b"scan-01", b"scan-02"])
        self.assertEqual(len(list(client.read_rows("t", request))), 20)

    def test_other_calls(self):
        client = self.client()
        self.write(client, b"cam")
        matched = client.check_and_mutate_row("t", store_pb2.CheckAndMutateRowRequest(
            row_key=b"cam", true_mutations=[data_pb2.Mutation(
                delete_from_row=data_pb2.Mutation.DeleteFromRow())]))
        self.assertTrue(matched)
        rule = data_pb2.ReadModifyWriteRule(family_name="f", column_qualifier=b"n",
                                            increment_amount=3)
        row = client.read_modify_write_row("t", store_pb2.ReadModifyWriteRowRequest(
            row_key=b"rmw", rules=[rule]))
        self.assertEqual(row.families[0].columns[0].cells[0].value, (3).to_bytes(8, "big"))
        self.assertEqual(client.sample_row_keys("t")[-1].row_key, b"")

    def test_bulk_reports_failed_entries(self):
        m = data_pb2.Mutation
        request = store_pb2.MutateRowsRequest()
        request.entries.add(row_key=b"ok", mutations=[
            m(set_cell=m.SetCell(family_name="f", timestamp_micros=1))])
        request.entries.add(row_key=b"bad", mutations=[
            m(set_cell=m.SetCell(family_name="nope", timestamp_micros=1))])
        statuses = self.client().mutate_rows("t", request)
        self.assertEqual([s.code for s in statuses], [Code.OK, Code.NOT_FOUND])

    def test_transient_error_is_retried_for_idempotent_calls_only(self):
        client = self.client()
        self.arm("request.parsed", status=503, count=1)
        self.assertIsNone(client.read_row("t", b"retried"))
        self.assertEqual(self.hits("request.parsed"), 2)
        self.arm("request.parsed", status=503, count=1)
        with self.assertRaises(KvstoreError) as raised:
            client.check_and_mutate_row("t", store_pb2.CheckAndMutateRowRequest(
                row_key=b"k", true_mutations=[data_pb2.Mutation(
                    delete_from_row=data_pb2.Mutation.DeleteFromRow())]))
        self.assertEqual(raised.exception.code, Code.UNAVAILABLE)
        self.assertEqual(self.hits("request.parsed"), 1)

    def test_truncated_stream_resumes(self):
        client = self.client()
        for i in range(6):
            self.write(client, b"cut-%d" % i)
        self.arm("read_rows.row", action="truncate", after_rows=2, count=1)
        request = read_request(ranges=[RowRange(start_closed=b"cut-", end_open=b"cut.")])
        keys = [r.key for r in client.read_rows("t", request)]
        self.assertEqual(keys, [b"cut-%d" % i for i in range(6)])
        self.assertEqual(self.hits("read_rows.row"), 2)

    def test_deadline_while_the_store_holds_the_request(self):
        client = self.client(timeout=0.5)
        self.arm("request.parsed", action="pause", timeout_ms=5000)
        start = time.monotonic()
        with self.assertRaises(KvstoreError) as raised:
            client.read_row("t", b"k")
        self.assertEqual(raised.exception.code, Code.DEADLINE_EXCEEDED)
        self.assertLess(time.monotonic() - start, 4.5)  # the store holds it 5 s

    def test_pool_bounds_requests_at_the_store_and_close(self):
        client = self.client(pool_size=2)
        self.arm("request.parsed", action="pause", timeout_ms=10000)
        results = []
        threads = [threading.Thread(target=lambda: results.append(client.read_row("t", b"p")))
                   for _ in range(4)]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 5
        while self.admin("GET", "/v2/error_injection/injection/request.parsed")[0][
                "waiting"] < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.2)  # a third request, if let through, would be parked by now
        self.assertEqual(self.admin("GET", "/v2/error_injection/injection/request.parsed")[0][
            "waiting"], 2)
        client.close()  # the calls already running finish normally (LC-3)
        self.admin("DELETE", "/v2/error_injection/injection/request.parsed")
        for thread in threads:
            thread.join(10)
        self.assertEqual(results, [None] * 4)
        with self.assertRaises(KvstoreError) as raised:
            client.read_row("t", b"p")
        self.assertEqual(raised.exception.code, Code.FAILED_PRECONDITION)

    def test_unreachable_store_spends_the_attempt_budget(self):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
        sock.close()
        client = Client(f"127.0.0.1:{port}")
        start = time.monotonic()
        with self.assertRaises(KvstoreError) as raised:
            client.read_row("t", b"k")
        self.assertEqual(raised.exception.code, Code.UNAVAILABLE)
        self.assertLess(time.monotonic() - start, 5)


if __name__ == "__main__":
    unittest.main()
