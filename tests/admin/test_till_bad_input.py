"""No input yields a 500 at the till either: every form, each field in turn given values of
every wrong shape while the others are plausible, answers with a page (4xx or done), never a
server error. (The JSON API has its own sweep in tests/loyalty/test_api_bad_input.py.)"""

import uuid
from typing import Any

from fastapi.testclient import TestClient

from loyalty.clock import FixedClock
from loyalty.db import Database
from tests.admin.test_till import _csrf, _login
from tests.admin.test_till import member_card as member_card  # the fixture
from tests.conftest import make_staff

WRONG = ["", " ", "\x00", "x" * 3000, "-1", "0", "1e309", "NaN", "-Infinity", "9" * 40, "0.001", "12,50", "€"]


def test_no_till_form_yields_a_server_error(
    app: Any, client: TestClient, database: Database, clock: FixedClock, member_card: str
) -> None:
    make_staff(database, clock, "cashier")
    till = TestClient(app, raise_server_exceptions=False)  # every answer, not the first error
    _login(till, "cashier@shop.example")
    forms: dict[str, dict[str, Any]] = {
        "/till/scan": {"code": member_card},
        "/till/enrol": {"key": "k"},
        "/till/purchase": {
            "code": member_card, "key": "k", "receipt_id": "r-1", "total": "12.50",
            "sku": ["latte"], "category": ["coffee"], "price": ["3.50"], "quantity": ["1"],
        },
        "/till/redeem": {"code": member_card, "key": "k", "reward": "free_coffee"},
        "/till/voucher": {"code": member_card, "voucher": "ABCD-1234"},
        "/till/return": {
            "key": "k", "receipt_id": "r-1", "total": "1.00", "sku": ["latte"], "quantity": ["1"],
        },
    }  # fmt: skip
    failures, statuses = [], []
    for path, plausible in forms.items():
        for field in plausible:
            for value in WRONG:
                csrf = _csrf(till.get("/till").text)
                wrong = [value] if isinstance(plausible[field], list) else value
                data = {**plausible, field: wrong, "csrf": csrf}
                if field != "key" and "key" in data:
                    data["key"] = str(uuid.uuid4())
                response = till.post(path, data=data, follow_redirects=False)
                statuses.append(response.status_code)
                if response.status_code >= 500:
                    failures.append(f"{path} {field}={value[:20]!r} -> {response.status_code}")
    assert not failures, "\n".join(failures[:30])
    assert statuses.count(303) + statuses.count(403) < len(statuses) // 2, statuses  # answered, not sent away
