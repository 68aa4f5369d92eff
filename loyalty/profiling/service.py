"""Profile values: what the rules may read, the next question, answers and declines."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session

import rules
from loyalty.errors import Conflict, InvalidInput, NotFound
from loyalty.profiling import repository
from loyalty.profiling.models import ProfileDecline, ProfileValue
from loyalty.profiling.values import Value, from_stored, to_stored
from loyalty.program import service as program_service

# A visit: activity closer together than this. One question per visit, never a second one.
VISIT = timedelta(minutes=30)


def values(session: Session, *, member_id: int, fields: Iterable[str]) -> dict[str, Value]:
    """The member's shared values of `fields` only, shaped as the rules' `member.profile`."""
    rows = repository.field_values(session, member_id, fields)
    return {field: from_stored(kind, stored) for field, kind, stored in rows}


def values_of_members(
    session: Session, *, member_ids: list[int], fields: Iterable[str]
) -> dict[int, dict[str, Value]]:
    """values() of many members at once (members without any are left out)."""
    found: dict[int, dict[str, Value]] = {}
    for row in repository.values_for_members(session, member_ids, fields):
        found.setdefault(row.member_id, {})[row.field] = from_stored(row.kind, row.value)
    return found


def _program(session: Session) -> rules.Program:
    published = program_service.current(session)
    if published is None:
        raise Conflict("No program has been published yet.", code="no_program")
    return published.program


def _field(program: rules.Program, name: str) -> rules.FieldInfo:
    for info in program.fields:
        if info.name == name:
            return info
    raise NotFound(f"There is no profile field '{name}'.", code="field_not_found")


def fields_in_use(program: rules.Program, *, today: Any) -> set[str]:
    """Fields some active rule reads (a rule whose window has passed is not active)."""
    return {
        name
        for rule in program.rules
        if rule.valid_until is None or rule.valid_until >= today
        for name in rule.reads
    }


@dataclass(frozen=True)
class Question:
    field: rules.FieldInfo
    purposes: list[rules.PurposeInfo]


def next_question(session: Session, *, member_id: int, now: datetime, decline_days: int) -> Question | None:
    """The first field, in declaration order, that a rule reads and the member has neither
    shared nor recently declined; none when the member already answered during this visit."""
    published = program_service.current(session)
    if published is None:
        return None
    program = published.program
    shared = repository.values_of(session, member_id)
    declines = repository.declines_of(session, member_id)
    last_answer = max([v.updated_at for v in shared] + [d.declined_at for d in declines], default=None)
    if last_answer is not None and now - last_answer < VISIT:
        return None
    recently_declined = {d.field for d in declines if now - d.declined_at < timedelta(days=decline_days)}
    taken = {v.field for v in shared} | recently_declined
    used = fields_in_use(program, today=now.astimezone(program.tz).date())
    purposes = {p.name: p for p in program.purposes}
    for info in program.fields:
        explained = [purposes[p] for p in info.purposes if p in purposes and purposes[p].text]
        if info.name in used and info.name not in taken and info.ask and explained:
            return Question(field=info, purposes=explained)
    return None


def decline(session: Session, *, member_id: int, field: str, now: datetime) -> ProfileDecline:
    _field(_program(session), field)
    row = repository.decline(session, member_id, field) or ProfileDecline(
        member_id=member_id, field=field, declined_at=now
    )
    row.declined_at = now
    repository.add(session, row)
    return row


@dataclass
class Answer:
    value: ProfileValue
    first_time: bool
    points: int


def answer(
    session: Session,
    *,
    member_id: int,
    field: str,
    value: Any,
    consent: list[str],
    now: datetime,
    grant: Any,
) -> Answer:
    """Validate and store a value, grant the purposes the member ticked, reward a first share.

    `grant(purpose)` records one consent (the web layer binds settings and evidence).
    """
    program = _program(session)
    info = _field(program, field)
    stored = to_stored(info.type, value, info.options)
    bad = [p for p in consent if p not in info.purposes]
    if bad:
        raise InvalidInput(
            f"'{field}' is not used for {', '.join(bad)}; it is used for {', '.join(info.purposes)}.",
            code="invalid_purpose",
        )
    row = repository.value(session, member_id, field)
    first_time = row is None
    if row is None:
        row = ProfileValue(member_id=member_id, field=field, kind=info.type, value=stored, shared_at=now,
                           updated_at=now)
    else:
        row.kind, row.value, row.updated_at = info.type, stored, now
    repository.add(session, row)
    existing_decline = repository.decline(session, member_id, field)
    if existing_decline is not None:
        repository.delete(session, existing_decline)
    points = 0
    for purpose in dict.fromkeys(consent):
        points += grant(purpose)
    if first_time:
        from loyalty.engine import service as engine_service  # the engine imports this module

        outcome = engine_service.process_event(
            session, member_id=member_id, event_type="profile_shared", data={"field": field}, at=now, now=now,
            idempotency_key=f"profile_shared:{member_id}:{field}", reference=f"profile:{field}",
        )
        points += int(outcome.points)
    return Answer(value=row, first_time=first_time, points=points)


def profile_view(session: Session, *, member_id: int) -> list[dict[str, Any]]:
    """The member's own view: every stored value, with what each is used for."""
    published = program_service.current(session)
    fields = {f.name: f for f in published.program.fields} if published else {}
    items = []
    for row in repository.values_of(session, member_id):
        info = fields.get(row.field)
        items.append({
            "field": row.field,
            "label": info.label if info else row.field,
            "type": row.kind,
            "value": from_stored(row.kind, row.value),
            "purposes": list(info.purposes) if info else [],
            "shared_at": row.shared_at,
            "updated_at": row.updated_at,
        })
    return items


def forget(session: Session, *, member_id: int, field: str) -> None:
    """Erase one value (Art. 17 for a single datum)."""
    row = repository.value(session, member_id, field)
    if row is None:
        raise NotFound(f"You have not shared '{field}'.", code="value_not_found")
    repository.delete(session, row)
