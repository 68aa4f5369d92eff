"""A member in a real headless Chromium: join, see the card and balance, log out, log back in."""

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import zxingcpp
from PIL import Image

from tests.live import browser_page, serve

pytestmark = pytest.mark.browser


@pytest.fixture(params=[60], ids=["slot60"])
def portal(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    from loyalty.clock import SystemClock
    from loyalty.db import Database
    from loyalty.models import metadata
    from loyalty.settings import Settings
    from loyalty.web.app import create_app

    settings = Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'portal.db'}",
        mail_dir=tmp_path / "mail",
        secret_key="browser-test-secret-key-0123456789-abcdef",
        qr_slot_seconds=request.param,
    )
    database = Database(settings.database_url)
    metadata.create_all(database.engine)
    with serve(create_app(settings, clock=SystemClock(), database=database)) as base:
        yield base
    database.dispose()


def test_a_new_member_joins_and_finds_their_card(portal: str) -> None:
    with browser_page() as page:
        page.goto(portal + "/")
        page.get_by_role("link", name="Join the programme").click()
        page.get_by_label("Name (optional)").fill("Noor")
        page.get_by_label("Email").fill("noor@example.org")
        page.get_by_label("Password (at least 8 characters)").fill("noor-password")
        page.keyboard.press("Enter")
        page.wait_for_selector("[data-testid=points]")
        assert page.get_by_role("heading", name="Hello, Noor").is_visible()
        assert page.locator("[data-testid=points]").inner_text() == "0"
        card_number = page.locator("code").first.inner_text()
        assert len(card_number) == 13 and card_number.isdigit()

        # The card to show at the till: a QR code a scanner can read off the screen.
        page.get_by_role("link", name="Show my card at the till").click()
        qr = page.get_by_role("img", name="QR code of your loyalty card")
        page.wait_for_function(
            "document.getElementById('qr').complete && document.getElementById('qr').naturalWidth > 0"
        )
        [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(qr.screenshot())))
        assert read.text.count(".") == 2  # a signed token (JWT), not the card number
        assert page.locator("code").first.inner_text() == card_number
        page.get_by_role("link", name="My points").click()

        page.get_by_role("button", name="Log out").click()
        page.get_by_role("link", name="log in").first.click()
        page.get_by_label("Email").fill("noor@example.org")
        page.get_by_label("Password").fill("wrong-password")
        page.keyboard.press("Enter")
        assert page.get_by_role("alert").inner_text() == "Email or password is wrong."
        page.get_by_label("Password").fill("noor-password")
        page.keyboard.press("Enter")
        page.wait_for_selector("[data-testid=points]")
        assert page.locator("code").first.inner_text() == card_number


def _shown_token(page) -> str:  # type: ignore[no-untyped-def]
    [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.locator("#qr").screenshot())))
    return str(read.text)


@pytest.mark.parametrize("portal", [2], ids=["slot2"], indirect=True)
def test_the_card_page_swaps_in_the_next_code_by_itself(portal: str) -> None:
    """A phone left on the card page keeps showing a code the till accepts: when the token's
    slot turns (2 s here), the page loads the next one without a reload."""
    with browser_page() as page:
        page.goto(portal + "/signup")
        page.get_by_label("Email").fill("ida@example.org")
        page.get_by_label("Password (at least 8 characters)").fill("ida-password")
        page.keyboard.press("Enter")
        page.wait_for_selector("[data-testid=points]")
        page.get_by_role("link", name="Show my card at the till").click()
        page.wait_for_function("document.getElementById('qr').naturalWidth > 0")
        first = _shown_token(page)
        page.wait_for_function("document.getElementById('qr').src.includes('?at=')", timeout=8000)
        page.wait_for_timeout(300)
        assert _shown_token(page) != first
        assert page.url.endswith("/card")  # the same page, not reloaded away
