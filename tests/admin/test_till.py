"""The till page through the test client: login, roles, CSRF, a scan, a purchase, a return."""

import re

import pytest
from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from tests.conftest import make_staff

PROGRAM = """
purpose loyalty "Loyalty programme"
  text "We record your purchases to credit and redeem points."
  basis contract
end

rule base_points "1 point per euro"
  on purchase
  purpose loyalty
  award 1 point per 1 EUR of purchase.total
end
"""


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "no CSRF field on the page"
    return match.group(1)


def _field(html: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]*)"', html)
    assert match, f"no {name} field on the page"
    return match.group(1)


def _login(client: TestClient, email: str, store: str = "BER-01") -> TestClient:
    page = client.get("/till/login")
    response = client.post(
        "/till/login",
        data={"email": email, "password": "staff-password", "store": store, "csrf": _csrf(page.text)},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def member_card(database: Database, clock: FixedClock) -> str:
    from loyalty.members import service as members_service
    from loyalty.program import service as program_service

    with database.session() as session:
        program_service.publish(session, sources=PROGRAM, staff_id=None, now=clock.now())
        member = members_service.enrol(session, now=clock.now(), email=None, password=None, via="till")
        return member.card_number


def test_till_needs_a_login(client: TestClient) -> None:
    response = client.get("/till", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].endswith("/till/login")
    assert client.post("/till/scan", data={"code": "1"}, follow_redirects=False).status_code == 303


def test_other_roles_are_refused(client: TestClient, database: Database, clock: FixedClock) -> None:
    make_staff(database, clock, "marketer")
    page = client.get("/till/login")
    response = client.post(
        "/till/login",
        data={
            "email": "marketer@shop.example",
            "password": "staff-password",
            "store": "BER-01",
            "csrf": _csrf(page.text),
        },
    )
    assert response.status_code == 403
    assert "Only cashiers" in response.text
    assert "loyalty_staff" not in response.cookies


def test_a_marketer_logged_in_at_the_admin_cannot_use_the_till(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    make_staff(database, clock, "marketer")
    page = client.get("/admin/login")
    client.post(
        "/admin/login",
        data={"email": "marketer@shop.example", "password": "staff-password", "csrf": _csrf(page.text)},
    )
    client.cookies.set("loyalty_till_store", "BER-01", path="/till")
    response = client.get("/till")
    assert response.status_code == 403
    assert "Only cashiers" in response.text


def test_login_form_needs_csrf_and_a_store(client: TestClient, database: Database, clock: FixedClock) -> None:
    make_staff(database, clock, "cashier")
    data = {"email": "cashier@shop.example", "password": "staff-password", "store": "BER-01"}
    assert client.post("/till/login", data=data).status_code == 403
    page = client.get("/till/login")
    response = client.post("/till/login", data={**data, "store": "", "csrf": _csrf(page.text)})
    assert response.status_code == 422
    assert "store code" in response.text


def test_forms_refuse_a_missing_or_foreign_csrf_token(
    client: TestClient, database: Database, clock: FixedClock, member_card: str
) -> None:
    make_staff(database, clock, "cashier")
    _login(client, "cashier@shop.example")
    response = client.post("/till/scan", data={"code": member_card})
    assert response.status_code == 403
    assert "expired" in response.text
    response = client.post("/till/scan", data={"code": member_card, "csrf": "0" * 40})
    assert response.status_code == 403


def test_unknown_card_says_so(
    client: TestClient, database: Database, clock: FixedClock, member_card: str
) -> None:
    make_staff(database, clock, "cashier")
    _login(client, "cashier@shop.example")
    page = client.get("/till")
    assert page.status_code == 200 and "BER-01" in page.text
    response = client.post("/till/scan", data={"code": "7000 0000 0000 0", "csrf": _csrf(page.text)})
    assert response.status_code == 404
    assert "No member has this card." in response.text
    assert "Traceback" not in response.text


def test_scan_book_retry_and_return(
    client: TestClient, database: Database, clock: FixedClock, member_card: str
) -> None:
    make_staff(database, clock, "cashier")
    _login(client, "cashier@shop.example")
    csrf = _csrf(client.get("/till").text)
    scanned = client.post("/till/scan", data={"code": member_card, "csrf": csrf})
    assert scanned.status_code == 200
    assert 'id="member-points">0<' in scanned.text
    form = {
        "csrf": csrf,
        "code": _field(scanned.text, "code"),
        "key": _field(scanned.text, "key"),
        "receipt_id": "R-1",
        "total": "12,50",
        "sku": ["latte", "", ""],
        "category": ["coffee", "", ""],
        "price": ["12.50", "", ""],
        "quantity": ["1", "1", "1"],
    }
    booked = client.post("/till/purchase", data=form)
    assert booked.status_code == 200, booked.text
    assert "+12 points" in booked.text
    assert "1 point per euro" in booked.text and "base_points" in booked.text  # title, then name
    # A double submit of the same form books once and shows the first result.
    again = client.post("/till/purchase", data=form)
    assert again.status_code == 200 and "+12 points" in again.text
    assert 'id="member-points">12<' in again.text

    bad = client.post("/till/purchase", data={**form, "key": "other", "receipt_id": "R-2", "total": "abc"})
    assert bad.status_code == 422 and "Please check the entry" in bad.text

    returned = client.post(
        "/till/return",
        data={
            "csrf": csrf,
            "key": "ret-1",
            "receipt_id": "R-1",
            "total": "5.00",
            "sku": [""],
            "quantity": ["1"],
        },
    )
    assert returned.status_code == 200, returned.text
    assert "points taken back" in returned.text
    assert "balance now <strong>7</strong>" in returned.text


def test_logout_ends_the_shift(client: TestClient, database: Database, clock: FixedClock) -> None:
    make_staff(database, clock, "cashier")
    _login(client, "cashier@shop.example")
    csrf = _csrf(client.get("/till").text)
    response = client.post("/till/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    client.cookies.delete("loyalty_staff")
    assert client.get("/till", follow_redirects=False).status_code == 303


def test_a_granted_reward_is_shown_by_its_title(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    """The cashier reads what the member got ("A free coffee"), not the rule's or reward's name."""
    from loyalty.members import service as members_service
    from loyalty.program import service as program_service
    from loyalty.rewards import service as rewards_service

    granting = (
        PROGRAM
        + """
rule first_visit "A coffee on your first visit"
  on purchase
  purpose loyalty
  grant reward free_coffee
  limit 1 per member
end
"""
    )
    with database.session() as session:
        rewards_service.create_reward(
            session, now=clock.now(), name="free_coffee", title="A free coffee", cost=50
        )
        program_service.publish(
            session, sources=granting, staff_id=None, now=clock.now(), rewards={"free_coffee"}
        )
        card = members_service.enrol(
            session, now=clock.now(), email=None, password=None, via="till"
        ).card_number
    make_staff(database, clock, "cashier")
    _login(client, "cashier@shop.example")
    csrf = _csrf(client.get("/till").text)
    scanned = client.post("/till/scan", data={"code": card, "csrf": csrf})
    form = {
        "csrf": csrf,
        "code": _field(scanned.text, "code"),
        "key": _field(scanned.text, "key"),
        "total": "3.40",
    }
    booked = client.post("/till/purchase", data=form)
    assert booked.status_code == 200, booked.text
    assert "A coffee on your first visit" in booked.text
    # The member panel below now offers the voucher to hand in; handing it over uses it, once.
    match = re.search(r'name="voucher" value="([A-Z0-9]+)"', booked.text)
    assert match and "Vouchers to hand in" in booked.text
    hand_over = {"csrf": csrf, "code": _field(booked.text, "code"), "voucher": match.group(1)}
    handed = client.post("/till/voucher", data=hand_over)
    assert handed.status_code == 200 and "Handed over: A free coffee" in handed.text
    assert "Vouchers to hand in" not in handed.text
    twice = client.post("/till/voucher", data=hand_over)
    assert twice.status_code == 409 and "already been used" in twice.text
    assert "A free coffee" in booked.text and "voucher in the member's account" in booked.text


def test_points_buy_a_reward_at_the_till_and_too_few_points_say_so(
    client: TestClient, database: Database, clock: FixedClock, member_card: str
) -> None:
    from loyalty.rewards import service as rewards_service

    with database.session() as session:
        rewards_service.create_reward(session, now=clock.now(), name="mug", title="A mug", cost=30)
        rewards_service.create_reward(session, now=clock.now(), name="hamper", title="A hamper", cost=500)
    make_staff(database, clock, "cashier")
    _login(client, "cashier@shop.example")
    csrf = _csrf(client.get("/till").text)
    scanned = client.post("/till/scan", data={"code": member_card, "csrf": csrf})
    form = {"csrf": csrf, "code": member_card, "key": _field(scanned.text, "key"), "total": "40.00"}
    booked = client.post("/till/purchase", data=form)
    assert 'id="member-points">40<' in booked.text
    assert "A mug" in booked.text and "A hamper" not in booked.text  # only what 40 points buy
    redeem = {"csrf": csrf, "code": member_card, "key": "till-redeem-1", "reward": "mug"}
    bought = client.post("/till/redeem", data=redeem)
    assert bought.status_code == 200, bought.text
    assert "Voucher: A mug" in bought.text and 'id="member-points">10<' in bought.text
    assert "Vouchers to hand in" in bought.text  # until the mug is handed over
    again = client.post("/till/redeem", data=redeem)  # a double submit: the same voucher
    assert again.status_code == 200 and 'id="member-points">10<' in again.text
    too_dear = client.post("/till/redeem", data={**redeem, "key": "till-redeem-2", "reward": "hamper"})
    assert too_dear.status_code == 409 and "500 points" in too_dear.text
    assert 'id="member-points">10<' in too_dear.text


def test_a_customer_without_a_card_gets_one_at_the_till(
    client: TestClient, database: Database, clock: FixedClock, member_card: str
) -> None:
    """'New card': a card number with nothing personal, ready for the purchase, and where to
    claim it; pressing twice (the same form) gives the same card."""
    make_staff(database, clock, "cashier")
    _login(client, "cashier@shop.example")
    home = client.get("/till")
    form = {"csrf": _csrf(home.text), "key": _field(home.text, "key")}
    assert 'action="http://testserver/till/enrol"' in home.text
    enrolled = client.post("/till/enrol", data=form)
    assert enrolled.status_code == 200, enrolled.text
    match = re.search(r"New card (\d{13}): give the customer a card with this number", enrolled.text)
    assert match and "http://testserver/claim-card" in enrolled.text
    assert 'id="member-points">0<' in enrolled.text and _field(enrolled.text, "code") == match.group(1)
    again = client.post("/till/enrol", data=form)
    assert f"New card {match.group(1)}:" in again.text
    booked = client.post(
        "/till/purchase",
        data={
            "csrf": form["csrf"],
            "code": match.group(1),
            "key": _field(enrolled.text, "key"),
            "total": "5",
        },
    )
    assert booked.status_code == 200 and "+5 points" in booked.text
