"""The next profile question, answers and declines, and the member's own profile."""

from typing import Any

from fastapi import APIRouter, Request, Response, status

from loyalty.consent import service as consent_service
from loyalty.consent.endpoints import evidence_of
from loyalty.members.links import public_base_url
from loyalty.outbox import service as outbox_service
from loyalty.profiling import service
from loyalty.profiling.schemas import (
    AnswerPublic,
    Decline,
    ProfileAnswer,
    ProfileValuePublic,
    PurposeExplained,
    QuestionPublic,
)
from loyalty.web.deps import ClockDep, CurrentMember, DatabaseDep, SessionDep, SettingsDep

router = APIRouter(tags=["profile"])


@router.get(
    "/me/next-question",
    response_model=QuestionPublic,
    responses={204: {"description": "Nothing to ask now"}},
)
def next_question(member: CurrentMember, session: SessionDep, clock: ClockDep, settings: SettingsDep) -> Any:
    """One question at most per visit, only for a field that an active rule reads."""
    assert member.id is not None
    question = service.next_question(
        session, member_id=member.id, now=clock.now(), decline_days=settings.profile_decline_days
    )
    if question is None:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    info = question.field
    return QuestionPublic(
        field=info.name,
        label=info.label,
        type=info.type,
        options=list(info.options),
        question=info.ask or info.label,
        purposes=[
            PurposeExplained(purpose=p.name, title=p.title, text=p.text or "") for p in question.purposes
        ],
    )


@router.post("/me/next-question/decline", status_code=status.HTTP_204_NO_CONTENT)
def decline_question(body: Decline, member: CurrentMember, session: SessionDep, clock: ClockDep) -> Response:
    """Not now: the question is not asked again for a while (LOYALTY_PROFILE_DECLINE_DAYS)."""
    assert member.id is not None
    service.decline(session, member_id=member.id, field=body.field, now=clock.now())
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.put("/me/profile/{field}", response_model=AnswerPublic)
def share_value(
    field: str,
    body: ProfileAnswer,
    request: Request,
    member: CurrentMember,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    database: DatabaseDep,
) -> Any:
    """Share (or correct) a value; the purposes ticked in `consent` are granted with it."""
    assert member.id is not None
    member_id, now = member.id, clock.now()
    pending: list[Any] = []

    def grant(purpose: str) -> int:
        change = consent_service.set_consent(
            session,
            settings=settings,
            member_id=member_id,
            purpose=purpose,
            granted=True,
            source="api",
            actor=f"member:{member_id}",
            now=now,
            link_base=public_base_url(settings, str(request.base_url)),
            evidence=evidence_of(request),
        )
        pending.extend(change.pending)
        return change.points

    result = service.answer(
        session,
        member_id=member_id,
        field=field,
        value=body.value,
        consent=body.consent,
        now=now,
        grant=grant,
    )
    if pending:
        outbox_service.deliver_after_commit(session, database, settings, now)
    view = next(v for v in service.profile_view(session, member_id=member_id) if v["field"] == field)
    return AnswerPublic(value=ProfileValuePublic(**view), points=result.points)


@router.get("/me/profile", response_model=list[ProfileValuePublic])
def my_profile(member: CurrentMember, session: SessionDep) -> Any:
    """Everything you shared, and what each value is used for."""
    assert member.id is not None
    return service.profile_view(session, member_id=member.id)


@router.delete("/me/profile/{field}", status_code=status.HTTP_204_NO_CONTENT)
def forget_value(field: str, member: CurrentMember, session: SessionDep) -> Response:
    """Erase one value you shared."""
    assert member.id is not None
    service.forget(session, member_id=member.id, field=field)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
