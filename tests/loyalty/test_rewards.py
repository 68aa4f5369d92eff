"""The rewards catalogue, free vouchers for rules, and voucher use at the till."""

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.errors import Conflict, Gone, NotFound
from loyalty.members import service as members_service
from loyalty.rewards import service as rewards_service


@pytest.fixture
def marketer(staff_headers) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return staff_headers("marketer")


def test_marketer_manages_the_catalogue_members_see_what_is_on_offer(
    client: TestClient, marketer: dict[str, str], clock: FixedClock
) -> None:
    soon = (clock.now() + timedelta(days=1)).isoformat()
    created = client.post(
        "/api/v1/admin/rewards",
        json={"name": "free_coffee", "title": "Free coffee", "cost": 100, "stock": 5, "valid_until": soon},
        headers=marketer,
    )
    assert created.status_code == 201, created.text
    assert created.json()["active"] is True and created.json()["stock"] == 5
    client.post("/api/v1/admin/rewards", json={"name": "mug", "title": "Mug", "cost": 500}, headers=marketer)
    client.post("/api/v1/admin/rewards", json={"name": "gone", "title": "Gone", "cost": 5, "stock": 0},
                headers=marketer)
    names = [r["name"] for r in client.get("/api/v1/rewards").json()]
    assert names == ["free_coffee", "mug"]  # out of stock is not on offer; cheapest first

    patched = client.patch("/api/v1/admin/rewards/mug", json={"cost": 450, "stock": 2}, headers=marketer)
    assert patched.status_code == 200 and patched.json()["cost"] == 450 and patched.json()["stock"] == 2
    assert client.delete("/api/v1/admin/rewards/mug", headers=marketer).json()["active"] is False
    assert [r["name"] for r in client.get("/api/v1/rewards").json()] == ["free_coffee"]
    assert len(client.get("/api/v1/admin/rewards", headers=marketer).json()) == 3

    clock.advance(days=2)  # past free_coffee's end date
    assert client.get("/api/v1/rewards").json() == []


def test_catalogue_input_errors(  # type: ignore[no-untyped-def]
    client: TestClient, marketer: dict[str, str], staff_headers
) -> None:
    ok = {"name": "cake", "title": "Cake", "cost": 10}
    assert client.post("/api/v1/admin/rewards", json=ok, headers=marketer).status_code == 201
    again = client.post("/api/v1/admin/rewards", json=ok, headers=marketer)
    assert again.status_code == 409 and again.json()["error"] == "reward_exists"
    bad_name = client.post("/api/v1/admin/rewards", json={**ok, "name": "Big Cake"}, headers=marketer)
    assert bad_name.status_code == 422 and bad_name.json()["error"] == "invalid_name"
    for bad in ({"name": "x", "cost": 0}, {"name": "y", "stock": -1}):
        assert client.post("/api/v1/admin/rewards", json={**ok, **bad}, headers=marketer).status_code == 422
    assert client.patch("/api/v1/admin/rewards/nope", json={"cost": 1}, headers=marketer).status_code == 404
    cashier = staff_headers("cashier")
    assert client.post("/api/v1/admin/rewards", json={**ok, "name": "z"}, headers=cashier).status_code == 403
    assert client.get("/api/v1/admin/rewards").status_code == 401


@pytest.fixture
def member_id(database: Database, clock: FixedClock) -> int:
    with database.session() as session:
        member = members_service.enrol(session, now=clock.now(), email=None, password=None, via="till")
        assert member.id is not None
        return member.id


def _reward(database: Database, clock: FixedClock, **kwargs) -> None:  # type: ignore[no-untyped-def]
    with database.session() as session:
        rewards_service.create_reward(session, now=clock.now(), **kwargs)


def test_grant_voucher_is_free_idempotent_and_takes_stock(
    database: Database, clock: FixedClock, member_id: int
) -> None:
    _reward(database, clock, name="cookie", title="Cookie", cost=50, stock=1)
    with database.session() as session:
        first = rewards_service.grant_voucher(
            session, member_id=member_id, reward="cookie", now=clock.now(), idempotency_key="e1:birthday",
            reason="Birthday bonus",
        )
        again = rewards_service.grant_voucher(
            session, member_id=member_id, reward="cookie", now=clock.now(), idempotency_key="e1:birthday",
            reason="Birthday bonus",
        )
        assert again.id == first.id and first.points == 0 and first.source == "grant"
        assert first.expires_at == clock.now() + timedelta(days=90)
        with pytest.raises(Conflict) as out:
            rewards_service.grant_voucher(
                session, member_id=member_id, reward="cookie", now=clock.now(), idempotency_key="e2:birthday",
                reason="Birthday bonus",
            )
        assert out.value.code == "out_of_stock"
        with pytest.raises(Conflict) as missing:
            rewards_service.grant_voucher(
                session, member_id=member_id, reward="unicorn", now=clock.now(), idempotency_key="e3",
                reason="",
            )
        assert missing.value.code == "reward_not_found"
        assert rewards_service.get_reward(session, name="cookie").stock == 0


def test_tills_granting_an_unlimited_reward_do_not_wait_for_each_other(
    database: Database, clock: FixedClock, member_id: int, backend: str
) -> None:
    """A voucher of a reward without a stock limit locks nothing shared: a till's transaction
    granting one does not hold up another till's (it used to lock the reward's row until its
    commit, and two batches of purchases could deadlock over it). Limited stock still counts."""
    if backend == "sqlite":
        pytest.skip("SQLite has one writer at a time anyway")
    _reward(database, clock, name="cake", title="Cake", cost=40)
    _reward(database, clock, name="tote", title="Tote bag", cost=900, stock=5)
    with database.session() as session:
        other = members_service.enrol(session, now=clock.now(), email=None, password=None, via="till").id
    with database.session() as first:
        rewards_service.grant_voucher(
            first, member_id=member_id, reward="cake", now=clock.now(), idempotency_key="a", reason="Cake"
        )
        rewards_service.grant_voucher(
            first, member_id=member_id, reward="tote", now=clock.now(), idempotency_key="b", reason="Tote"
        )
        with database.session() as second:  # another till, while the first has not committed
            second.connection().exec_driver_sql("SET LOCAL lock_timeout = '2s'")
            granted = rewards_service.grant_voucher(
                second, member_id=other, reward="cake", now=clock.now(), idempotency_key="c", reason="Cake"
            )
            assert granted.code
    with database.session() as session:
        assert rewards_service.get_reward(session, name="tote").stock == 4
        assert rewards_service.get_reward(session, name="cake").stock is None


def test_voucher_expires_with_its_reward(database: Database, clock: FixedClock, member_id: int) -> None:
    until = clock.now() + timedelta(days=10)
    _reward(database, clock, name="xmas", title="Christmas cookie", cost=5, valid_until=until)
    with database.session() as session:
        voucher = rewards_service.grant_voucher(
            session, member_id=member_id, reward="xmas", now=clock.now(), idempotency_key="k", reason="r"
        )
        assert voucher.expires_at == until
        with pytest.raises(Conflict) as late:
            rewards_service.grant_voucher(
                session, member_id=member_id, reward="xmas", now=until, idempotency_key="k2", reason="r"
            )
        assert late.value.code == "reward_unavailable"


def test_voucher_is_used_once_at_the_till(
    client: TestClient, database: Database, clock: FixedClock, member_id: int, staff_headers
) -> None:  # type: ignore[no-untyped-def]
    _reward(database, clock, name="cookie", title="Cookie", cost=50)
    with database.session() as session:
        code = rewards_service.grant_voucher(
            session, member_id=member_id, reward="cookie", now=clock.now(), idempotency_key="k", reason="r"
        ).code
        expiring = rewards_service.grant_voucher(
            session, member_id=member_id, reward="cookie", now=clock.now() - timedelta(days=91),
            idempotency_key="old", reason="r",
        ).code
    cashier = staff_headers("cashier")
    typed = "-".join([code[:4].lower(), code[4:8], code[8:]])
    same = {**cashier, "Idempotency-Key": "use-1"}
    used = client.post(f"/api/v1/pos/vouchers/{typed}/use", headers=same)
    assert used.status_code == 200, used.text
    assert used.json()["reward"] == "cookie" and used.json()["used_at"] is not None
    assert client.post(f"/api/v1/pos/vouchers/{typed}/use", headers=same).json() == used.json()
    again = client.post(f"/api/v1/pos/vouchers/{code}/use", headers=cashier)
    assert again.status_code == 409 and again.json()["error"] == "voucher_used"
    old = client.post(f"/api/v1/pos/vouchers/{expiring}/use", headers=cashier)
    assert old.status_code == 410 and old.json()["error"] == "voucher_expired"
    assert client.post("/api/v1/pos/vouchers/NOPE/use", headers=cashier).status_code == 404


def test_use_voucher_service_errors(database: Database, clock: FixedClock) -> None:
    with database.session() as session:
        with pytest.raises(NotFound):
            rewards_service.use_voucher(session, code="ABC", now=clock.now())
    assert Gone.status == 410
