"""The pure rules of retrying: what is transient, what is idempotent, how
long to wait, and what a resumed read asks for (docs/conformance.md
sections 5, 6, 7 and 10). No I/O, no clock: every function here is a pure
function of its arguments (the jitter takes its random source as a
parameter), so the rules are testable alone. Thread-safe.
"""

from __future__ import annotations

import random
from typing import Iterable, Optional

from kvstore.protos import data_pb2, store_pb2
from kvstore.status import Code

__all__ = [
    "MAX_ATTEMPTS", "backoff_bound", "backoff_delay", "retry_wait",
    "is_transient_code", "mutation_is_idempotent", "mutations_are_idempotent",
    "resume_read",
]

MAX_ATTEMPTS = 10          # BO-2: attempts per call, the first included
BACKOFF_BASE_S = 0.010     # BO-1: B(1)
BACKOFF_CAP_S = 1.0        # BO-1: B(n) never exceeds this

_TRANSIENT_CODES = frozenset({Code.UNAVAILABLE, Code.DEADLINE_EXCEEDED})


# --- Transient outcomes (TR-1) -------------------------------------------

def is_transient_code(code: int) -> bool:
    """Whether a code the store answered (HTTP, Status body, in-band stream
    status or per-entry status) is transient (TR-1). The library's own
    transport failures are UNAVAILABLE, so they are transient too; running
    out of the call's time is decided by the caller, not by the code."""
    return code in _TRANSIENT_CODES


# --- Idempotency (ID-1 to ID-4) -----------------------------------------

SERVER_TIME = -1  # SetCell.timestamp_micros meaning "the store's clock"


def mutation_is_idempotent(mutation: data_pb2.Mutation) -> bool:
    """ID-2: every mutation but a SetCell at server time is idempotent."""
    return not (mutation.HasField("set_cell")
                and mutation.set_cell.timestamp_micros == SERVER_TIME)


def mutations_are_idempotent(mutations: Iterable[data_pb2.Mutation]) -> bool:
    """ID-2/ID-3: a MutateRow request or a bulk entry may be sent twice."""
    return all(mutation_is_idempotent(m) for m in mutations)


# --- Backoff (BO-1, BO-3) -----------------------------------------------

def backoff_bound(retry: int) -> float:
    """B(n) in seconds before retry n (n = 1 for the second attempt):
    min(10 ms * 2^(n-1), 1 s)."""
    if retry < 1:
        raise ValueError("retry numbers start at 1")
    if retry > 16:  # 10 ms * 2^15 is far past the cap; avoid huge numbers
        return BACKOFF_CAP_S
    return min(BACKOFF_BASE_S * (2 ** (retry - 1)), BACKOFF_CAP_S)


def backoff_delay(retry: int, rng: random.Random | None = None) -> float:
    """A jittered wait in [B(n)/2, B(n)] before retry n, drawn anew each call."""
    bound = backoff_bound(retry)
    return (rng or random).uniform(bound / 2, bound)


def retry_wait(retry: int, retry_after_s: Optional[float],
               rng: random.Random | None = None) -> float:
    """The wait before retry n: the jittered backoff, raised to the store's
    Retry-After when that is longer (BO-3: a floor, not a replacement)."""
    wait = backoff_delay(retry, rng)
    if retry_after_s is not None and retry_after_s > wait:
        wait = float(retry_after_s)
    return wait


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    """Retry-After as whole seconds (section 1); None when absent or not a
    non-negative integer (an HTTP-date is not used by the store)."""
    if value is None:
        return None
    value = value.strip()
    if not value.isdigit():
        return None
    return float(int(value))


# --- Resuming a read (RR-2 to RR-4) -------------------------------------

def _cut_range_forward(r: data_pb2.RowRange, last: bytes) -> Optional[data_pb2.RowRange]:
    """The part of `r` after `last`, or None when nothing of it is left."""
    end = r.WhichOneof("end")
    if end == "end_closed" and r.end_closed and r.end_closed <= last:
        return None
    if end == "end_open" and r.end_open and r.end_open <= last:
        return None
    start = r.WhichOneof("start")
    if start == "start_closed" and r.start_closed > last:
        return r
    if start == "start_open" and r.start_open >= last:
        return r
    cut = data_pb2.RowRange()
    cut.CopyFrom(r)
    cut.start_open = last  # replaces either start (a oneof)
    return cut


def _cut_range_reversed(r: data_pb2.RowRange, last: bytes) -> Optional[data_pb2.RowRange]:
    """The part of `r` before `last`, or None when nothing of it is left."""
    start = r.WhichOneof("start")
    if start == "start_closed" and r.start_closed >= last:
        return None
    if start == "start_open" and r.start_open >= last:
        return None
    end = r.WhichOneof("end")
    if end == "end_open" and r.end_open and r.end_open <= last:
        return r
    if end == "end_closed" and r.end_closed and r.end_closed < last:
        return r
    cut = data_pb2.RowRange()
    cut.CopyFrom(r)
    cut.end_open = last  # replaces either end (a oneof)
    return cut


def _cut_row_set(rows: data_pb2.RowSet, last: bytes, reversed_: bool) -> data_pb2.RowSet:
    cut = data_pb2.RowSet()
    if not rows.row_keys and not rows.row_ranges:  # every row
        if reversed_:
            cut.row_ranges.add(end_open=last)
        else:
            cut.row_ranges.add(start_open=last)
        return cut
    cut_range = _cut_range_reversed if reversed_ else _cut_range_forward
    for key in rows.row_keys:
        if (key < last) if reversed_ else (key > last):
            cut.row_keys.append(key)
    for r in rows.row_ranges:
        kept = cut_range(r, last)
        if kept is not None:
            cut.row_ranges.add().CopyFrom(kept)
    return cut


def resume_read(request: store_pb2.ReadRowsRequest, last_key: Optional[bytes],
                delivered: int) -> Optional[store_pb2.ReadRowsRequest]:
    """The request for the next attempt of a read that delivered `delivered`
    rows, the last with key `last_key` (None: no row yet), or None when
    nothing is left to read (RR-4). The original request is not changed.

    RR-2: with no row delivered, the request unchanged; else its row set cut
    to keys after `last_key` (before it when reversed). RR-3: rows_limit
    becomes the rows still wanted. The filter and `reversed` stay."""
    if last_key is None or delivered == 0:
        return request
    if request.rows_limit > 0 and delivered >= request.rows_limit:
        return None
    rows = _cut_row_set(request.rows, last_key, request.reversed)
    if not rows.row_keys and not rows.row_ranges:
        return None
    resumed = store_pb2.ReadRowsRequest()
    resumed.CopyFrom(request)
    resumed.rows.CopyFrom(rows)
    if request.rows_limit > 0:
        resumed.rows_limit = request.rows_limit - delivered
    return resumed
