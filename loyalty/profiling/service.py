"""Profile values: what the rules may read, the next question, answers and declines."""

from collections.abc import Iterable

from sqlmodel import Session

from loyalty.profiling import repository
from loyalty.profiling.values import Value, from_stored


def values(session: Session, *, member_id: int, fields: Iterable[str]) -> dict[str, Value]:
    """The member's shared values of `fields` only, shaped as the rules' `member.profile`."""
    return {row.field: from_stored(row.kind, row.value) for row in repository.values_of(session, member_id, fields)}
