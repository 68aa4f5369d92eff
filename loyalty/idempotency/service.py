"""Run an API operation once per (scope, key); a repeat gets the first response back.

How a key is claimed, and what happens under concurrency:

1. Read the record. Found: same request -> return its stored response (nothing runs);
   different request -> InvalidInput(idempotency_key_reused).
2. Not found: INSERT the claim inside a SAVEPOINT and flush, then run `compute()` and store its
   response in the claim row. Claim, the operation's writes and the response commit together in
   the caller's transaction (Database.session()), so another transaction sees either nothing or
   a finished record.
3. PostgreSQL, two requests with one key at once: the second INSERT blocks on the unique index
   until the first transaction ends. If the first commits, the second gets IntegrityError; we
   roll back to the savepoint only (the caller's transaction and session stay usable) and read
   the record again. Under READ COMMITTED (PostgreSQL's default, which Database uses) every
   statement takes a fresh snapshot, so that read sees the committed response: no new
   transaction is needed. If the first rolls back instead, the second's INSERT succeeds and it
   runs the operation itself.
4. SQLite: writers are serialized whole (process lock plus BEGIN IMMEDIATE), so the second
   request only starts after the first committed and finds the record in step 1.
5. If `compute()` raises, the exception propagates, Database.session() rolls everything back
   including the claim, and a retry runs the operation afresh: only successes are remembered
   (an "insufficient points" today may succeed tomorrow).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from loyalty.errors import Conflict, InvalidInput
from loyalty.idempotency.models import IdempotencyRecord

Response = tuple[int, dict[str, Any]]


def request_hash(request: dict[str, Any]) -> str:
    """A stable fingerprint of a request, to tell a retry from a reused key."""
    canonical = json.dumps(request, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _find(session: Session, scope: str, key: str) -> IdempotencyRecord | None:
    statement = (
        select(IdempotencyRecord)
        .where(IdempotencyRecord.scope == scope, IdempotencyRecord.key == key)
        .execution_options(populate_existing=True)
    )
    return session.exec(statement).first()


def _replay(record: IdempotencyRecord, digest: str) -> Response:
    if record.request_hash != digest:
        raise InvalidInput(
            "This idempotency key was already used for a different request.", code="idempotency_key_reused"
        )
    if record.status_code == 0:  # claimed earlier in this same transaction and still running
        raise Conflict("This request is still being processed.", code="idempotency_key_in_use")
    return record.status_code, json.loads(record.response)


def run_once(
    session: Session,
    *,
    scope: str,
    key: str,
    request: dict[str, Any],
    compute: Callable[[], Response],
    now: datetime | None = None,
) -> Response:
    """`compute()` once per (scope, key); the same request again returns the stored response.

    `now` (the injected clock's time) stamps the record; without it the database's time does.
    """
    if not key or len(key) > 200:
        raise InvalidInput(
            "An idempotency key of 1 to 200 characters is required.", code="idempotency_key_required"
        )
    digest = request_hash(request)
    record = _find(session, scope, key)
    if record is not None:
        return _replay(record, digest)
    claim = IdempotencyRecord(scope=scope, key=key, request_hash=digest, created_at=now or func.now())
    try:
        with session.begin_nested():
            session.add(claim)
            session.flush()
    except IntegrityError:
        # A concurrent request with this key committed first; its response is visible now.
        record = _find(session, scope, key)
        if record is None:  # pragma: no cover - the unique index said it exists
            raise Conflict("This request is being processed; retry.", code="idempotency_key_in_use") from None
        return _replay(record, digest)
    status_code, body = compute()
    claim.status_code = status_code
    claim.response = json.dumps(body, default=str)
    session.add(claim)
    session.flush()
    return status_code, body
