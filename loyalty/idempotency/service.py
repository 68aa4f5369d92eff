"""Run an API operation once per (scope, key); a repeat gets the first response back.

How a key is claimed, and what happens under concurrency:

1. INSERT the claim with ON CONFLICT (scope, key) DO NOTHING RETURNING id: one statement, and
   a conflict leaves the caller's transaction usable (no savepoint needed).
2. A row came back: the key is ours. Run `compute()` and store its response in the claim row.
   Claim, the operation's writes and the response commit together in the caller's transaction
   (Database.session()), so another transaction sees either nothing or a finished record.
3. No row: the key was claimed before. Read the record: same request -> return its stored
   response (nothing runs); different request -> InvalidInput(idempotency_key_reused).
4. PostgreSQL, two requests with one key at once: the second INSERT waits on the unique index
   until the first transaction ends. If the first commits, the second inserts nothing and reads
   the record; under READ COMMITTED (PostgreSQL's default, which Database uses) every statement
   takes a fresh snapshot, so that read sees the committed response: no new transaction is
   needed. If the first rolls back instead, the second's INSERT succeeds and it runs the
   operation itself.
   SQLite: writers are serialized whole (process lock plus BEGIN IMMEDIATE), so the second
   request only starts after the first committed, and its INSERT finds the record.
5. If `compute()` raises, the exception propagates, Database.session() rolls everything back
   including the claim, and a retry runs the operation afresh: only successes are remembered
   (an "insufficient points" today may succeed tomorrow).
"""

import hashlib
import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, update
from sqlalchemy.dialects import postgresql, sqlite
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


_records = IdempotencyRecord.__table__  # type: ignore[attr-defined]
_CLAIMS = {
    name: dialect.insert(_records)
    .on_conflict_do_nothing(index_elements=["scope", "key"])
    .returning(_records.c.id)
    for name, dialect in (("postgresql", postgresql), ("sqlite", sqlite))
}
_SAVE = (
    update(_records)
    .where(_records.c.id == bindparam("claim_id"))
    .values(status_code=bindparam("status_code"), response=bindparam("response"))
)


def _claim(session: Session, *, scope: str, key: str, digest: str, now: datetime | None) -> int | None:
    """The new record's id, or None when (scope, key) was claimed before."""
    statement = _CLAIMS[session.get_bind().dialect.name]
    values = {"scope": scope, "key": key, "request_hash": digest, "response": "", "status_code": 0}
    if now is None:
        statement = statement.values(created_at=func.now())
    else:
        values["created_at"] = now
    return session.execute(statement, values).scalar()


def replay(session: Session, *, scope: str, key: str, digest: str) -> Response:
    """The stored response of a (scope, key) claimed before; 422 if its request differed."""
    record = _find(session, scope, key)
    if record is None:  # pragma: no cover - the unique index said it exists
        raise Conflict("This request is being processed; retry.", code="idempotency_key_in_use")
    return _replay(record, digest)


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
    claim_id = _claim(session, scope=scope, key=key, digest=digest, now=now)
    if claim_id is None:
        return replay(session, scope=scope, key=key, digest=digest)
    status_code, body = compute()
    response = json.dumps(body, default=str)
    session.execute(_SAVE, {"claim_id": claim_id, "status_code": status_code, "response": response})
    return status_code, body
