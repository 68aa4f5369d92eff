"""Reads of many members at once split their ids into IN lists of bounded length (the databases
cap bound variables per statement): split into lists of two, they find exactly what one list finds."""

from datetime import timedelta
from typing import Any

import pytest

from loyalty import db
from loyalty.audiences import repository as audiences
from loyalty.audiences.models import ContactRecord
from loyalty.clock import FixedClock
from loyalty.consent import repository as consents
from loyalty.consent.models import ConsentState
from loyalty.db import Database
from loyalty.members import service as members_service
from loyalty.profiling import repository as profiling
from loyalty.profiling.models import ProfileValue


def _reads(database: Database, ids: list[int], clock: FixedClock) -> tuple[Any, ...]:
    now = clock.now()
    with database.session() as session:
        return (
            consents.granted_purposes_of(session, ids),
            sorted(
                (v.member_id, v.field, v.value) for v in profiling.values_for_members(session, ids, ["pet"])
            ),
            [m.id for m in audiences.active_members(session, list(reversed(ids)))],
            audiences.contact_counts(session, ids, now - timedelta(days=1), now + timedelta(days=1)),
        )


def test_reads_in_short_in_lists_find_what_one_list_finds(
    database: Database, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = clock.now()
    with database.session() as session:
        ids = [
            members_service.enrol(session, now=now, email=None, password=None, via="till").id
            for _ in range(7)
        ]
        for number, member_id in enumerate(ids):
            assert member_id is not None
            for purpose in ("loyalty", "newsletter")[: 1 + number % 2]:
                granted = {"state": "granted", "method": "opt-in", "notice_version": "1", "event_id": number}
                session.add(ConsentState(member_id=member_id, purpose=purpose, updated_at=now, **granted))
            if number % 3:
                value = {"field": "pet", "kind": "text", "value": f"cat {number}"}
                session.add(ProfileValue(member_id=member_id, shared_at=now, updated_at=now, **value))
            for _ in range(number % 4):
                contact = {"audience_id": 1, "purpose": "newsletter", "channel": "email"}
                session.add(ContactRecord(member_id=member_id, contacted_at=now, **contact))
    member_ids = [i for i in ids if i is not None]
    whole = _reads(database, member_ids, clock)
    monkeypatch.setattr(db, "IN_LIST_SIZE", 2)
    assert _reads(database, member_ids, clock) == whole
    granted, values, active, contacted = whole
    assert len(granted) == 7 and len(values) == 4 and active == sorted(member_ids) and len(contacted) == 5
