"""The member's card: QR token, its images, and look-up of codes at the till."""

import io
from datetime import timedelta

import pytest
import zxingcpp
from fastapi.testclient import TestClient
from PIL import Image

from loyalty.cards import service as cards_service
from loyalty.clock import FixedClock
from loyalty.db import Database
from loyalty.errors import Conflict, Gone, NotFound
from loyalty.members import service as members_service
from loyalty.settings import Settings


def _decode_png(data: bytes) -> str:
    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(data)))
    assert len(results) == 1
    return results[0].text


def test_card_png_decodes_to_the_token_and_card_png_svg_agree(
    client: TestClient, member_headers: dict[str, str]
) -> None:
    card = client.get("/api/v1/me/card", headers=member_headers)
    assert card.status_code == 200 and card.headers["cache-control"] == "no-store"
    body = card.json()
    assert set(body) == {"card_number", "qr_token", "expires_at"}
    png = client.get("/api/v1/me/card.png", headers=member_headers)
    assert png.headers["content-type"] == "image/png"
    assert _decode_png(png.content) == body["qr_token"]
    svg = client.get("/api/v1/me/card.svg", headers=member_headers)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.content.lstrip().startswith(b"<?xml") and b"<svg" in svg.content
    # Same slot, same token: the JSON, PNG and SVG all show one token.
    assert client.get("/api/v1/me/card", headers=member_headers).json() == body


def test_token_changes_with_the_slot_and_expires(
    client: TestClient, member_headers: dict[str, str], clock: FixedClock, settings: Settings
) -> None:
    first = client.get("/api/v1/me/card", headers=member_headers).json()
    clock.advance(seconds=settings.qr_slot_seconds)
    second = client.get("/api/v1/me/card", headers=member_headers).json()
    assert second["qr_token"] != first["qr_token"]
    assert second["card_number"] == first["card_number"]


def test_card_needs_a_member_login(client: TestClient) -> None:
    assert client.get("/api/v1/me/card").status_code == 401
    assert client.get("/api/v1/me/card.png").status_code == 401


@pytest.fixture
def member_id(database: Database, clock: FixedClock) -> int:
    with database.session() as session:
        member = members_service.enrol(session, now=clock.now(), email=None, password=None, via="till")
        assert member.id is not None
        return member.id


def test_resolve_accepts_token_and_card_number_with_spaces_and_dashes(
    database: Database, clock: FixedClock, settings: Settings, member_id: int
) -> None:
    token = cards_service.mint_qr_token(settings, member_id=member_id, now=clock.now())
    with database.session() as session:
        match = cards_service.identify(session, code=token.token, now=clock.now(), settings=settings)
        assert match.member.id == member_id and match.jti == token.jti
        number = match.member.card_number
        spaced = f"{number[:4]} {number[4:8]}-{number[8:]}"
        by_number = cards_service.identify(session, code=spaced, now=clock.now(), settings=settings)
        assert by_number.member.id == member_id and by_number.jti is None


def test_token_is_refused_once_expired(
    database: Database, clock: FixedClock, settings: Settings, member_id: int
) -> None:
    token = cards_service.mint_qr_token(settings, member_id=member_id, now=clock.now())
    later = token.expires_at + timedelta(seconds=1)
    with database.session() as session:
        cards_service.resolve_code(session, code=token.token, now=token.expires_at - timedelta(seconds=1),
                                   settings=settings)
        with pytest.raises(Gone) as refused:
            cards_service.resolve_code(session, code=token.token, now=later, settings=settings)
        assert refused.value.code == "qr_expired" and refused.value.status == 410


@pytest.mark.parametrize(
    "code",
    [
        "7000000000000",  # wrong check digit
        "12345",  # too short
        "not.a.token",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.forged",
    ],
)
def test_bad_codes_are_unknown_cards(
    database: Database, clock: FixedClock, settings: Settings, member_id: int, code: str
) -> None:
    with database.session() as session, pytest.raises(NotFound) as refused:
        cards_service.resolve_code(session, code=code, now=clock.now(), settings=settings)
    assert refused.value.code == "unknown_card"


def test_valid_but_unissued_card_number_is_unknown(
    database: Database, clock: FixedClock, settings: Settings, member_id: int
) -> None:
    from loyalty.members.cards import luhn_check_digit

    body = "712345678901"
    number = body + luhn_check_digit(body)
    with database.session() as session, pytest.raises(NotFound):
        cards_service.resolve_code(session, code=number, now=clock.now(), settings=settings)


def test_token_signed_with_another_key_is_unknown(
    database: Database, clock: FixedClock, settings: Settings, member_id: int
) -> None:
    other = settings.model_copy(update={"secret_key": "another-secret-that-is-long-enough-012345"})
    token = cards_service.mint_qr_token(other, member_id=member_id, now=clock.now())
    with database.session() as session, pytest.raises(NotFound):
        cards_service.resolve_code(session, code=token.token, now=clock.now(), settings=settings)


def test_a_token_can_be_spent_once(database: Database, clock: FixedClock, member_id: int) -> None:
    now = clock.now()
    with database.session() as session:
        cards_service.spend_token(session, jti="abc", member_id=member_id, now=now, purpose="redemption")
        with pytest.raises(Conflict) as refused:
            cards_service.spend_token(session, jti="abc", member_id=member_id, now=now, purpose="redemption")
        assert refused.value.code == "qr_token_used"
        # The transaction is still usable after the refusal (matters on PostgreSQL).
        cards_service.spend_token(session, jti="def", member_id=member_id, now=now, purpose="redemption")
