"""The state of one mutate_rows call across its attempts: which entries
are resent, and each entry's final status (BM-1 to BM-3, ID-3). Used by
`Client.mutate_rows`; one call, one thread.
"""

from __future__ import annotations

from typing import Callable, Optional

from kvstore import retry
from kvstore.attempts import AttemptFailure, Attempts
from kvstore.protos import store_pb2
from kvstore.status import OK, Code, KvstoreError, Status

# One attempt: sends a MutateRowsRequest, returns the answer or raises
# AttemptFailure (counting the attempt in the call's Attempts).
Send = Callable[[store_pb2.MutateRowsRequest], store_pb2.MutateRowsResponse]

__all__ = ["BulkCall"]


class BulkCall:
    """The state of one mutate_rows call across its attempts (BM-1 to BM-3)."""

    def __init__(self, send: Send, request: store_pb2.MutateRowsRequest, attempts: Attempts):
        self.send = send
        self.request = request
        self.attempts = attempts
        self.results: list[Optional[Status]] = [None] * len(request.entries)
        self.idempotent = [retry.mutations_are_idempotent(e.mutations)
                           for e in request.entries]
        self.answered = False   # some attempt got per-entry answers

    def run(self) -> list[Status]:
        pending = list(range(len(self.request.entries)))
        while True:
            failure = self._attempt(pending)
            if failure is not None and not self.answered and not failure.transient:
                raise KvstoreError(failure.status)  # BM-2: the call itself failed
            again = [i for i in pending if self._retryable(i)]
            if not again:
                if not self.answered:
                    raise KvstoreError(failure.status)  # BM-2
                break
            # A whole-attempt failure may carry Retry-After; per-entry ones cannot.
            ending = self.attempts.wait_for_retry(
                failure or AttemptFailure(self.results[again[0]]))
            if ending is not None:
                if not self.answered:
                    raise KvstoreError(ending)  # BM-2
                for i in again:
                    self.results[i] = ending
                break
            pending = again
        return [s if s is not None else OK for s in self.results]

    def _retryable(self, index: int) -> bool:
        status = self.results[index]
        return (status is not None and self.idempotent[index]
                and retry.is_transient_code(status.code))

    def _attempt(self, pending: list[int]) -> Optional[AttemptFailure]:
        """Sends the pending entries; records each one's outcome. Returns the
        whole attempt's failure, if it failed as a whole."""
        if len(pending) == len(self.request.entries):
            sub = self.request
        else:
            sub = store_pb2.MutateRowsRequest()
            for i in pending:
                sub.entries.add().CopyFrom(self.request.entries[i])
        try:
            answer = self.send(sub)
        except AttemptFailure as failure:
            for i in pending:
                self.results[i] = failure.status
            if failure.final:  # the call's time ran out: nothing is resent
                self.idempotent = [False] * len(self.idempotent)
            return failure
        self.answered = True
        by_position = {e.index: e.status for e in answer.entries}
        for position, i in enumerate(pending):
            status = by_position.get(position)
            self.results[i] = (Status.of(status.code, status.message) if status is not None
                               else Status(Code.INTERNAL, "the store's answer lacks this entry"))
        return None
