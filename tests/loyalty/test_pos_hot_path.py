"""The purchase's lane before routing (pos.hot_path): it books well-formed purchases itself and
hands everything else, body intact, to the routed endpoint, so both lanes answer alike."""

import asyncio
import json
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from loyalty.pos.hot_path import MAX_BODY, PATH, PurchaseHotPath
from tests.loyalty import test_pos_support as support
from tests.loyalty.test_pos_support import key

cashier = support.cashier
marketer = support.marketer
catalogue = support.catalogue
program = support.program
walk_in = support.walk_in


class RoutedApp:
    """Stands in for the routed app behind the lane: records what reached it."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.bodies.append(body)
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b"routed"})


def through_lane(app: FastAPI, headers: dict[str, str], chunks: list[bytes]) -> tuple[RoutedApp, int, bytes]:
    """One POST through the lane alone: (what reached the routed app, status, body)."""
    routed = RoutedApp()
    lane = PurchaseHotPath(routed)
    scope = {
        "type": "http", "method": "POST", "path": PATH, "raw_path": PATH.encode(), "query_string": b"",
        "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()], "app": app,
        "http_version": "1.1", "scheme": "http", "server": ("test", 80), "client": ("test", 1),
        "root_path": "",
    }  # fmt: skip
    last = len(chunks) - 1
    incoming = [{"type": "http.request", "body": c, "more_body": n < last} for n, c in enumerate(chunks)]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    asyncio.run(lane(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return routed, status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def _purchase(card: str, receipt: str, total: str = "12.00") -> dict[str, Any]:
    return {"code": card, "receipt_id": receipt, "store": "berlin-1", "total": total, "items": []}


def test_a_well_formed_purchase_is_booked_before_routing(
    app: FastAPI, client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None
) -> None:
    card, same = walk_in["card_number"], key()
    headers = {**cashier, **same, "Content-Type": "application/json"}
    body = json.dumps(_purchase(card, "hp-1")).encode()
    routed, status, answer = through_lane(app, headers, [body[:10], body[10:]])  # a body in two parts
    assert routed.bodies == [] and status == 200
    assert json.loads(answer)["points"] == 12 and json.loads(answer)["balance"] == 12
    # A retry through the whole app (routed or not) gets the first answer, and books nothing more.
    again = client.post(PATH, json=_purchase(card, "hp-1"), headers={**cashier, **same})
    assert again.status_code == 200 and again.json() == json.loads(answer)
    found = client.post("/api/v1/pos/identify", json={"code": card}, headers=cashier).json()
    assert found["points"] == 12


@pytest.mark.parametrize(
    "case", ["no_login", "member_login", "no_key", "long_key", "not_json", "invalid", "text_body"]
)
def test_anything_else_reaches_the_routed_endpoint_with_its_body(
    app: FastAPI,
    cashier: dict[str, str],
    member_headers: dict[str, str],
    walk_in: dict[str, Any],
    program: None,
    case: str,
) -> None:
    headers = {**cashier, **key(), "Content-Type": "application/json"}
    body = json.dumps(_purchase(walk_in["card_number"], f"hp-{case}")).encode()
    if case == "no_login":
        del headers["Authorization"]
    elif case == "member_login":
        headers["Authorization"] = member_headers["Authorization"]
    elif case == "no_key":
        del headers["Idempotency-Key"]
    elif case == "long_key":
        headers["Idempotency-Key"] = "k" * 201
    elif case == "not_json":
        body = body[:-1]
    elif case == "invalid":
        body = json.dumps({**_purchase(walk_in["card_number"], "hp-x"), "total": "-1.00"}).encode()
    else:
        headers["Content-Type"] = "text/plain"
    routed, status, answer = through_lane(app, headers, [body[:7], body[7:]])
    assert routed.bodies == [body] and (status, answer) == (299, b"routed")


def test_both_lanes_answer_errors_alike(
    app: FastAPI, client: TestClient, cashier: dict[str, str], walk_in: dict[str, Any], program: None
) -> None:
    """A domain error raised in the lane (unknown card, receipt clash) has the routed shape."""
    card = walk_in["card_number"]
    assert client.post(PATH, json=_purchase(card, "hp-c"), headers={**cashier, **key()}).status_code == 200
    for payload in (_purchase("7000000000000", "hp-u"), _purchase(card, "hp-c", total="99.00")):
        headers = {**cashier, "Idempotency-Key": uuid.uuid4().hex, "Content-Type": "application/json"}
        routed, status, answer = through_lane(app, headers, [json.dumps(payload).encode()])
        assert routed.bodies == []
        # The routed endpoint, reached by a body FastAPI accepts but the lane does not take as
        # its own (the content type in capitals), gives the same answer.
        routed_headers = {**cashier, **key(), "Content-Type": "Application/JSON"}
        other = client.post(PATH, content=json.dumps(payload), headers=routed_headers)
        assert (status, json.loads(answer)) == (other.status_code, other.json())
        assert status in (404, 409)


def test_a_body_too_large_for_the_lane_reaches_the_routed_endpoint_whole(
    app: FastAPI, cashier: dict[str, str]
) -> None:
    headers = {**cashier, **key(), "Content-Type": "application/json"}
    chunk = b"x" * (MAX_BODY // 2)
    routed, status, _ = through_lane(app, headers, [chunk, chunk, chunk, b"end"])
    assert routed.bodies == [chunk * 3 + b"end"] and status == 299
