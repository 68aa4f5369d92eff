"""A member in a real headless Chromium: join, see the card and balance, log out, log back in."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.live import browser_page, serve

pytestmark = pytest.mark.browser


@pytest.fixture
def portal(tmp_path: Path) -> Iterator[str]:
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
