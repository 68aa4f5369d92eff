"""Load test: cashiers at tills, members in the portal's API, a marketer editing the program.

Run against a server seeded with `loyalty seed members --count N` (run_loadtest.py does all):

    LOYALTY_SEED_MEMBERS=1000 locust -f loadtests/locustfile.py --host http://127.0.0.1:8000

Members are addressed by their deterministic seeded card numbers and logins (loyalty.cli.seed_cmd),
so the generator never reads the database.
"""

import os
import random
import uuid
from decimal import Decimal
from typing import Any

from locust import HttpUser, between, task

from loyalty.cli.seed_cmd import SEED_MEMBER_PASSWORD, SEED_STAFF_PASSWORD, card_number_for, email_for

SEEDED = int(os.environ.get("LOYALTY_SEED_MEMBERS", "1000"))
STORES = ("BER-01", "BER-02", "POT-01")
# Categories the demo program's rules look at, plus some it ignores.
CATALOGUE = (
    ("latte", "coffee", "3.40"), ("espresso", "coffee", "2.20"), ("tea", "tea", "2.80"),
    ("cheesecake", "cake", "4.20"), ("croissant", "pastry", "1.90"), ("rye", "bread", "3.10"),
    ("beans-1kg", "beans", "18.90"), ("mug", "merch", "12.00"),
)
RETRY_SHARE = 0.05  # purchases sent twice with the same key, as after a lost answer


def _key() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def _login(user: HttpUser, email: str, password: str, scope: str) -> dict[str, str]:
    response = user.client.post(
        "/api/v1/auth/token", data={"username": email, "password": password, "scope": scope},
        name="/auth/token",
    )
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class Cashier(HttpUser):
    """A till: identify, book purchases, sometimes redeem or book a return; retries reuse keys."""

    weight = 6
    wait_time = between(0.05, 0.3)

    def on_start(self) -> None:
        self.auth = _login(self, "cashier@seed.example", SEED_STAFF_PASSWORD, "staff")
        self.store = random.choice(STORES)
        self.receipts: list[tuple[str, Decimal]] = []

    def _card(self) -> str:
        return card_number_for(random.randrange(SEEDED))

    def _post(
        self, path: str, body: dict[str, Any], key: dict[str, str], name: str, ok: tuple[int, ...] = ()
    ) -> Any:
        """POST once, and again with the same key on a transport error or 5xx (as a till does)."""
        for attempt in range(3):
            with self.client.post(
                path, json=body, headers={**self.auth, **key}, name=name, catch_response=True
            ) as response:
                if response.status_code in ok:
                    response.success()
                    return None
                if response.status_code == 0 or response.status_code >= 500:
                    if attempt < 2:
                        response.success()  # counted by the final attempt
                        continue
                    response.failure(f"{response.status_code} after retries")
                    return None
                if response.status_code >= 400:
                    response.failure(f"{response.status_code}: {response.text[:200]}")
                    return None
                return response.json()
        return None

    @task(3)
    def identify(self) -> None:
        with self.client.post(
            "/api/v1/pos/identify", json={"code": self._card()}, headers=self.auth,
            name="/pos/identify", catch_response=True,
        ) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(8)
    def purchase(self) -> None:
        lines = random.sample(CATALOGUE, k=random.randint(1, 4))
        items: list[dict[str, Any]] = [
            {"sku": s, "category": c, "price": p, "quantity": random.randint(1, 3)} for s, c, p in lines
        ]
        total = sum((Decimal(i["price"]) * i["quantity"] for i in items), Decimal(0))
        receipt = f"{self.store}-{uuid.uuid4().hex[:16]}"
        body = {
            "code": self._card(), "receipt_id": receipt, "store": self.store,
            "total": str(total), "items": items,
        }
        key = _key()
        first = self._post("/api/v1/pos/purchases", body, key, "/pos/purchases")
        if first is None:
            return
        self.receipts = (self.receipts + [(receipt, total)])[-50:]
        if random.random() < RETRY_SHARE:
            again = self._post("/api/v1/pos/purchases", body, key, "/pos/purchases [retry]")
            if again is not None and again != first:
                self.environment.events.request.fire(
                    request_type="CHECK", name="retry gives the first answer", response_time=0,
                    response_length=0, exception=AssertionError(f"{first} != {again}"), context={},
                )

    @task(1)
    def redeem(self) -> None:
        code = self._card()
        response = self.client.post(
            "/api/v1/pos/identify", json={"code": code}, headers=self.auth, name="/pos/identify"
        )
        rewards = response.json().get("rewards", []) if response.status_code == 200 else []
        if not rewards:
            return
        body = {"code": code, "reward": random.choice(rewards)["name"]}
        # 409: another till spent the points or the stock first; the API is right to refuse.
        self._post("/api/v1/pos/redemptions", body, _key(), "/pos/redemptions", ok=(409,))

    @task(1)
    def goods_return(self) -> None:
        if not self.receipts:
            return
        receipt, total = random.choice(self.receipts)
        body = {"receipt_id": receipt, "total": str((total / 2).quantize(Decimal("0.01")))}
        self._post("/api/v1/pos/returns", body, _key(), "/pos/returns")


class Member(HttpUser):
    """A member in the portal or app: card, balance, consents, the next profile question."""

    weight = 3
    wait_time = between(0.5, 2)

    def on_start(self) -> None:
        self.auth = _login(self, email_for(random.randrange(SEEDED)), SEED_MEMBER_PASSWORD, "member")

    @task(3)
    def card(self) -> None:
        self.client.get("/api/v1/me/card", headers=self.auth, name="/me/card")

    @task(3)
    def balance(self) -> None:
        self.client.get("/api/v1/me/balance", headers=self.auth, name="/me/balance")

    @task(1)
    def consents(self) -> None:
        self.client.get("/api/v1/me/consents", headers=self.auth, name="/me/consents")

    @task(1)
    def next_question(self) -> None:
        self.client.get("/api/v1/me/next-question", headers=self.auth, name="/me/next-question")


class Marketer(HttpUser):
    """Simulates the programme on recent real events often and rarely republishes it.

    The draft is the published sources (read once, then now and then again): a simulation
    compiles it and runs it and the published version on the newest events, as a marketer does
    before publishing a change. "Publish" PUTs the same sources back, which compiles them and
    stores a new version that every worker must pick up.
    """

    weight = 1
    wait_time = between(1, 3)

    def on_start(self) -> None:
        self.auth = _login(self, "marketer@seed.example", SEED_STAFF_PASSWORD, "staff")
        self.sources: list[list[str]] | None = None

    @task(4)
    def read(self) -> None:
        response = self.client.get("/api/v1/admin/program", headers=self.auth, name="/admin/program [read]")
        if response.status_code == 200:
            self.sources = response.json().get("sources")

    @task(16)
    def simulate(self) -> None:
        if not self.sources:
            self.read()
            return
        with self.client.post(
            "/api/v1/admin/program/simulate", params={"events": 500}, json={"source": self.sources},
            headers=self.auth, name="/admin/program/simulate", catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {response.text[:200]}")

    @task(1)
    def publish(self) -> None:
        if not self.sources:
            return
        self.client.put(
            "/api/v1/admin/program", json={"source": self.sources}, headers=self.auth,
            name="/admin/program [publish]",
        )
