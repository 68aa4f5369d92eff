"""Failed logins and card claims, counted per client address: after too many in a while that
address is refused (429) until the oldest falls out of the window, so guessing passwords or
walk-in card numbers gets slow. Successes are not counted.

Counts live in the worker process (several workers each count their own share) and reset with
it; that is enough to make guessing slow without a write per failed attempt.
"""

import threading
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TypeVar

from starlette.requests import Request

from loyalty.errors import LoyaltyError, TooManyRequests

T = TypeVar("T")

MAX_FAILURES = 20
WINDOW = timedelta(minutes=15)
_MAX_ADDRESSES = 100_000  # beyond this, the addresses with the oldest failures are forgotten


class FailedAttempts:
    def __init__(self) -> None:
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def check(self, address: str, now: datetime) -> None:
        """TooManyRequests (with Retry-After) if `address` failed too often lately."""
        with self._lock:
            recent = self._recent(address, now)
            if recent is None or len(recent) < MAX_FAILURES:
                return
            wait = max(1, int((recent[0] + WINDOW - now).total_seconds()) + 1)
        raise TooManyRequests(
            f"Too many failed attempts from this address; try again in {(wait + 59) // 60} minutes.",
            code="too_many_attempts", headers={"Retry-After": str(wait)},
        )  # fmt: skip

    def failed(self, address: str, now: datetime) -> None:
        with self._lock:
            recent = self._recent(address, now)
            if recent is None:
                if len(self._failures) >= _MAX_ADDRESSES:
                    oldest = min(self._failures, key=lambda a: self._failures[a][-1])
                    del self._failures[oldest]
                recent = self._failures[address] = deque()
            recent.append(now)
            while len(recent) > MAX_FAILURES:
                recent.popleft()

    def _recent(self, address: str, now: datetime) -> deque[datetime] | None:
        recent = self._failures.get(address)
        if recent is None:
            return None
        while recent and recent[0] <= now - WINDOW:
            recent.popleft()
        if not recent:
            del self._failures[address]
            return None
        return recent


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def failed_attempts(request: Request) -> FailedAttempts:
    return request.app.state.failed_attempts  # type: ignore[no-any-return]


def attempted(
    request: Request, now: datetime, attempt: Callable[[], T | None], *, failing: tuple[str, ...] = ()
) -> T | None:
    """`attempt()` (a login, a card claim) for this request's client address: refused (429)
    while the address has too many recent failures; an answer of None, or a LoyaltyError whose
    code is in `failing`, counts as one more."""
    attempts, address = failed_attempts(request), client_address(request)
    attempts.check(address, now)
    try:
        outcome = attempt()
    except LoyaltyError as exc:
        if exc.code in failing:
            attempts.failed(address, now)
        raise
    if outcome is None:
        attempts.failed(address, now)
    return outcome
