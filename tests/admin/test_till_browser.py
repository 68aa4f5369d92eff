"""A cashier at the till in a real headless Chromium: log in, scan, book, see the points and why.

The app runs in uvicorn on a free localhost port against an SQLite file; the keyboard alone
drives the page (a USB scanner is a keyboard that types the card number and Enter).
"""

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import zxingcpp
from PIL import Image

from tests.admin.test_till import PROGRAM
from tests.live import browser_page, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def till_server(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """The real app in uvicorn; yields its base URL and the member's card number."""
    from loyalty.clock import SystemClock
    from loyalty.db import Database
    from loyalty.members import service as members_service
    from loyalty.models import metadata
    from loyalty.program import service as program_service
    from loyalty.settings import Settings
    from loyalty.staff import service as staff_service
    from loyalty.web.app import create_app

    settings = Settings(
        environment="test",
        database_url=f"sqlite:///{tmp_path / 'till.db'}",
        mail_dir=tmp_path / "mail",
        secret_key="browser-test-secret-key-0123456789-abcdef",
    )
    database = Database(settings.database_url)
    metadata.create_all(database.engine)
    clock = SystemClock()
    with database.session() as session:
        program_service.publish(session, sources=PROGRAM, staff_id=None, now=clock.now())
        staff_service.create_staff(
            session, now=clock.now(), email="till@shop.example", password="till-password", role="cashier"
        )
        card = members_service.enrol(
            session, now=clock.now(), email=None, password=None, via="till"
        ).card_number

    with serve(create_app(settings, clock=clock, database=database)) as base_url:
        yield base_url, card
    database.dispose()


def _log_in(page: Any, base_url: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base_url}/till")
    # Log in with the keyboard: the email field has focus; Tab to the next fields.
    expect(page.locator("#email")).to_be_focused()
    page.keyboard.type("till@shop.example")
    page.keyboard.press("Tab")
    page.keyboard.type("till-password")
    page.keyboard.press("Tab")
    page.keyboard.type("BER-01")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base_url}/till")
    expect(page.locator("header")).to_contain_text("BER-01")


def test_cashier_scans_books_and_sees_the_points(till_server: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base_url, card = till_server
    with browser_page() as page:
        _log_in(page, base_url)

        # The scan field has focus: the scanner types the card number and Enter.
        expect(page.locator("#code")).to_be_focused()
        page.keyboard.type(card)
        page.keyboard.press("Enter")
        expect(page.locator("#member-points")).to_have_text("0")

        # The basket's total field has focus; type the total and submit with Enter.
        expect(page.locator("#total")).to_be_focused()
        page.keyboard.type("23.40")
        page.keyboard.press("Enter")
        result = page.locator("#result")
        expect(result).to_contain_text("+23 points")
        expect(result).to_contain_text("base_points")
        expect(result.locator("td.why")).to_contain_text("1 point per")
        expect(page.locator("#member-points")).to_have_text("23")

        # Ready for the next customer: focus is back in the scan field.
        expect(page.locator("#code")).to_be_focused()


def test_a_new_card_prints_alone_and_its_qr_code_holds_the_number(till_server: tuple[str, str]) -> None:
    from playwright.sync_api import expect

    base_url, _ = till_server
    with browser_page() as page:
        _log_in(page, base_url)
        page.get_by_role("button", name="New card for a customer without one").click()
        card = page.locator("#new-card")
        expect(card).to_be_visible()
        number = page.locator("#new-card-number").inner_text().strip()
        assert len(number) == 13 and number.isdigit()
        expect(page.locator("#member-points")).to_have_text("0")  # ready for the purchase
        [read] = zxingcpp.read_barcodes(Image.open(io.BytesIO(card.locator(".card-qr svg").screenshot())))
        assert read.text == number  # the till scans the printed card back to its number
        expect(page.locator("#print-card")).to_be_visible()

        # Printed, the page shows the card alone: one code on the sheet, no till around it.
        page.emulate_media(media="print")
        expect(page.locator("#scan-form")).to_be_hidden()
        expect(page.locator("#print-card")).to_be_hidden()
        expect(card.locator(".printed-card")).to_be_visible()
        codes = zxingcpp.read_barcodes(Image.open(io.BytesIO(page.screenshot(full_page=True))))
        assert [code.text for code in codes] == [number]
        assert "/claim-card" in card.inner_text()
