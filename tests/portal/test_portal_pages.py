"""The portal's pages through the test client: join, log in, see points, confirm the email."""

import email
import email.policy
import re
from pathlib import Path

from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.settings import Settings


def _csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, "form without a CSRF field"
    return match.group(1)


def _join(client: TestClient, email: str = "lea@example.org") -> None:
    page = client.get("/signup")
    response = client.post(
        "/signup",
        data={"email": email, "password": "lea-password", "display_name": "Lea", "csrf": _csrf(page.text)},
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text


def test_joining_logs_in_and_shows_an_empty_balance_with_the_card(client: TestClient) -> None:
    _join(client)
    home = client.get("/")
    assert "Hello, Lea" in home.text
    assert 'data-testid="points">0<' in home.text
    assert re.search(r"Card number <code>\d{13}</code>", home.text)
    assert "Please confirm your email address" in home.text


def test_login_with_a_wrong_password_says_so_and_sets_no_cookie(client: TestClient) -> None:
    _join(client)
    client.cookies.clear()
    page = client.get("/login")
    response = client.post(
        "/login", data={"email": "lea@example.org", "password": "wrong-one", "csrf": _csrf(page.text)}
    )
    assert response.status_code == 401
    assert "Email or password is wrong." in response.text
    assert "loyalty_member" not in response.cookies


def test_forms_without_the_csrf_token_are_refused(client: TestClient) -> None:
    response = client.post("/login", data={"email": "lea@example.org", "password": "x", "csrf": "forged"})
    assert response.status_code == 403
    assert "form has expired" in response.text


def test_confirming_the_email_takes_a_button_press_not_just_a_visit(
    client: TestClient, settings: Settings
) -> None:
    _join(client)
    raw = next(Path(settings.mail_dir).glob("*.eml")).read_bytes()
    mail = email.message_from_bytes(raw, policy=email.policy.default).get_content()  # type: ignore[attr-defined]
    link = re.search(r"(http://\S+/confirm-email\?token=\S+)", mail)
    assert link, mail
    token = link.group(1).split("token=", 1)[1]
    page = client.get(f"/confirm-email?token={token}")  # what a mail scanner does
    assert "Confirm my email address" in page.text
    assert "Please confirm your email address" in client.get("/").text
    done = client.post("/confirm-email", data={"token": token})
    assert "your email address is confirmed" in done.text
    assert "Please confirm your email address" not in client.get("/").text


def test_a_forged_confirmation_token_is_a_clear_error_page(client: TestClient) -> None:
    response = client.post("/confirm-email", data={"token": "not-a-token"})
    assert response.status_code == 401
    assert "<html" in response.text and "token is invalid" in response.text


def test_admin_pages_need_a_staff_login(client: TestClient, member_headers: dict[str, str]) -> None:
    response = client.get("/admin", follow_redirects=False)
    assert response.status_code == 303 and "/admin/login" in response.headers["location"]


def test_the_card_page_shows_a_qr_code_the_till_can_read(
    client: TestClient, settings: Settings, database: Database, clock: FixedClock
) -> None:
    """The member shows the QR code at the till: it decodes to a token that names them, it is
    never cached, and without a login there is neither page nor image."""
    import io

    import zxingcpp
    from PIL import Image
    from sqlmodel import select

    from loyalty.cards import service as cards_service
    from loyalty.members.models import Member

    assert client.get("/card", follow_redirects=False).status_code == 303
    assert client.get("/card.png").status_code == 401
    _join(client)
    home = client.get("/")
    assert 'href="http://testserver/card"' in home.text
    page = client.get("/card")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    number = re.search(r"Card number <code>(\d{13})</code>", page.text)
    assert number and 'id="qr" src="http://testserver/card.png"' in page.text
    image = client.get("/card.png")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"
    assert image.headers["cache-control"] == "no-store"
    [result] = zxingcpp.read_barcodes(Image.open(io.BytesIO(image.content)))
    scanned = cards_service.parse_code(settings, code=result.text, now=clock.now())
    with database.session() as session:
        member = session.exec(select(Member).where(Member.card_number == number.group(1))).one()
    assert scanned.jti and scanned.member_id == member.id


def test_the_card_page_lists_the_vouchers_waiting_to_be_handed_in(
    client: TestClient, database: Database, clock: FixedClock
) -> None:
    from sqlmodel import select

    from loyalty.members.models import Member
    from loyalty.rewards import service as rewards_service

    _join(client)
    assert "None waiting" in client.get("/card").text
    with database.session() as session:
        member = session.exec(select(Member).where(Member.email == "lea@example.org")).one()
        assert member.id is not None
        rewards_service.create_reward(
            session, now=clock.now(), name="free_cake", title="A slice of cake", cost=40
        )
        voucher = rewards_service.grant_voucher(
            session,
            member_id=member.id,
            reward="free_cake",
            now=clock.now(),
            idempotency_key="k",
            reason="test",
        )
        code = voucher.code
    page = client.get("/card")
    assert "A slice of cake" in page.text and code in page.text
    with database.session() as session:
        rewards_service.use_voucher(session, code=code, now=clock.now())
    assert code not in client.get("/card").text


def test_a_walk_in_card_is_claimed_in_the_portal_and_keeps_its_points(
    client: TestClient, database: Database, clock: FixedClock, settings: Settings
) -> None:
    """A card from the till (no personal data, 25 points) becomes an account; wrong numbers and
    a second claim are refused on the page, and nothing of a refused claim is kept."""
    from loyalty.ledger import service as ledger_service
    from loyalty.members import service as members_service
    from loyalty.members.models import Member

    with database.session() as session:
        walk_in = members_service.enrol(session, now=clock.now(), email=None, password=None, via="till")
        assert walk_in.id is not None
        ledger_service.earn(session, member_id=walk_in.id, points=25, now=clock.now(), idempotency_key="t")
        number = walk_in.card_number
    assert "/claim-card" in client.get("/").text and "/claim-card" in client.get("/signup").text
    form = {
        "card_number": number,
        "email": "kai@example.org",
        "password": "kai-password",
        "display_name": "Kai",
    }
    csrf = _csrf(client.get("/claim-card").text)
    wrong = client.post("/claim-card", data={**form, "card_number": "7000000000000", "csrf": csrf})
    assert wrong.status_code == 404 and "No member has this card." in wrong.text
    short = client.post("/claim-card", data={**form, "password": "short", "csrf": csrf})
    assert short.status_code == 422 and "8 characters" in short.text
    claimed = client.post("/claim-card", data={**form, "csrf": csrf}, follow_redirects=True)
    assert claimed.status_code == 200, claimed.text
    assert "Hello, Kai" in claimed.text and 'data-testid="points">25<' in claimed.text
    assert f"<code>{number}</code>" in claimed.text
    [raw] = [m.read_bytes() for m in Path(settings.mail_dir).glob("*.eml")]
    mail = email.message_from_bytes(raw, policy=email.policy.default)
    assert mail["To"] == "kai@example.org"
    assert "its points are kept" in mail.get_content() and "/confirm-email?token=" in mail.get_content()  # type: ignore[attr-defined]
    client.cookies.clear()
    csrf = _csrf(client.get("/claim-card").text)
    again = client.post("/claim-card", data={**form, "email": "eve@example.org", "csrf": csrf})
    assert again.status_code == 409 and "already belongs to an online account" in again.text
    with database.session() as session:
        second = members_service.enrol(session, now=clock.now(), email=None, password=None, via="till")
    taken = client.post("/claim-card", data={**form, "card_number": second.card_number, "csrf": csrf})
    assert taken.status_code == 409 and "already exists" in taken.text
    with database.session() as session:
        owner, unclaimed = session.get(Member, walk_in.id), session.get(Member, second.id)
        assert owner is not None and owner.email == "kai@example.org"
        assert unclaimed is not None and unclaimed.email is None  # a refused claim keeps nothing
        assert unclaimed.password_hash is None
