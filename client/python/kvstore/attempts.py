"""One call's attempts: the failure of an attempt, and the attempt budget
with the backoff between attempts (docs/conformance.md sections 6 to 8).
An `Attempts` belongs to one call (one thread); `AttemptFailure` values are
immutable.
"""

from __future__ import annotations

import random
import time
from typing import Optional

from kvstore import retry
from kvstore.status import Code, Status
from kvstore.transport import Deadline, DeadlineReached

__all__ = ["AttemptFailure", "Attempts", "transport_failure"]


class AttemptFailure(Exception):
    """One attempt's failure. `final`: the call's own time ran out, which is
    never retried (DL-3)."""

    def __init__(self, status: Status, retry_after: Optional[float] = None,
                 final: bool = False):
        super().__init__(str(status))
        self.status = status
        self.retry_after = retry_after
        self.final = final

    @property
    def transient(self) -> bool:
        return not self.final and retry.is_transient_code(self.status.code)


def transport_failure(error: Exception, attempt: int, context: str = "") -> AttemptFailure:
    """The attempt failure of a transport exception: DEADLINE_EXCEEDED (final)
    when the call's time ran out, else UNAVAILABLE (transient, TR-1)."""
    if isinstance(error, DeadlineReached):
        return AttemptFailure(Status(Code.DEADLINE_EXCEEDED, f"{error} (attempt {attempt})"),
                              final=True)
    return AttemptFailure(Status(Code.UNAVAILABLE, f"{error}{context}"))


class Attempts:
    """The attempt budget and backoff of one call (BO-1 to BO-4, DL-3)."""

    def __init__(self, deadline: Deadline, rng: random.Random):
        self.deadline = deadline
        self.rng = rng
        self.count = 0

    def start(self) -> None:
        self.count += 1

    def wait_for_retry(self, failure: AttemptFailure) -> Optional[Status]:
        """Waits before the next attempt and returns None, or returns the
        status that ends the call: the last outcome when the budget is spent
        (BO-2), DEADLINE_EXCEEDED when the wait would reach the deadline
        (BO-4)."""
        if self.count >= retry.MAX_ATTEMPTS:
            return failure.status
        wait = retry.retry_wait(self.count, failure.retry_after, self.rng)
        if time.monotonic() + wait >= self.deadline.expiry:
            return Status(Code.DEADLINE_EXCEEDED,
                          f"deadline exceeded: waiting {wait:.3f}s for attempt "
                          f"{self.count + 1} would pass it; last attempt: {failure.status}")
        time.sleep(wait)
        return None
