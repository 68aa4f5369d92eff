"""No input yields a 500: every operation of the JSON API, as its OpenAPI document lists it, gets
bodies, path and query values of every wrong shape, with a login that may use it; each answer
must be a clear 4xx (or a success), never a server error."""

import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.loyalty import test_pos_support as support

cashier = support.cashier
marketer = support.marketer
catalogue = support.catalogue
program = support.program

WRONG_VALUES: list[Any] = [
    None,
    -1,
    10**30,
    1.5,
    "",
    "x" * 2000,
    "\x00",
    [],
    {},
    True,
    [1, "a"],
    {"a": {"b": []}},
]
WRONG_PATHS = ["1", "0", "-1", "x", "9" * 40, "%00", "a" * 300, "1.5"]
WRONG_BODIES: list[Any] = [[], 1, "x", None, True, {"": 1}]


def _schema(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = spec["components"]["schemas"][node["$ref"].rsplit("/", 1)[1]]
    return node


def _plausible(spec: dict[str, Any], field: dict[str, Any]) -> Any:
    """A value of the field's type (the first one it allows)."""
    field = _schema(spec, field)
    kinds = [field.get("type")] + [_schema(spec, option).get("type") for option in field.get("anyOf", [])]
    for kind in kinds:
        if kind in PLAUSIBLE:
            return PLAUSIBLE[kind]
    return "x"


PLAUSIBLE: dict[str, Any] = {
    "string": "x",
    "integer": 1,
    "number": 1,
    "boolean": True,
    "array": [],
    "object": {},
}


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, methods in spec["paths"].items()
        for method, operation in methods.items()
        if path.startswith("/api/v1") and method in ("get", "post", "put", "patch", "delete")
    ]


def _cases(
    spec: dict[str, Any], path: str, operation: dict[str, Any]
) -> list[tuple[str, dict[str, Any], Any]]:
    """(url, query, json body or the string "none") to send."""
    names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
    urls = [path]
    if names:
        urls = [
            path.replace("{" + names[0] + "}", value).replace("{", "").replace("}", "")
            for value in WRONG_PATHS
        ]
    queries: list[dict[str, Any]] = [{}]
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "query":
            queries += [{parameter["name"]: v} for v in ("x", "-1", "9" * 40, "")]
    bodies: list[Any] = ["none"]
    content = operation.get("requestBody", {}).get("content", {})
    if "application/json" in content:
        bodies += WRONG_BODIES
        properties = _schema(spec, content["application/json"]["schema"]).get("properties", {})
        plausible = {name: _plausible(spec, field) for name, field in properties.items()}
        for name in properties:
            bodies += [{name: value} for value in WRONG_VALUES]
            # The other fields of a plausible type, this one wrong.
            bodies += [{**plausible, name: value} for value in WRONG_VALUES]
    return [(url, {}, body) for url in urls for body in bodies] + [(urls[0], q, "none") for q in queries[1:]]


def test_no_input_yields_a_server_error(
    app: Any, client: TestClient, staff_headers: Any, member_headers: dict[str, str], program: None
) -> None:
    admin = staff_headers("admin")
    client = TestClient(app, raise_server_exceptions=False)  # every answer, not the first error
    spec = client.get("/api/v1/openapi.json").json()
    operations = _operations(spec)
    assert len(operations) > 40  # the whole API, not an empty list
    failures = []
    # Members' own operations last: one of them deletes the account.
    for method, path, operation in sorted(operations, key=lambda o: (o[1].startswith("/api/v1/me"), o[1])):
        headers = member_headers if path.startswith("/api/v1/me") else admin
        for url, query, body in _cases(spec, path, operation):
            sent = {"headers": {**headers, "Idempotency-Key": str(uuid.uuid4())}, "params": query}
            if body != "none":
                sent["json"] = body
            response = client.request(method.upper(), url, **sent)
            if response.status_code >= 500:
                failures.append(f"{method.upper()} {url} {query} {str(body)[:80]} -> {response.status_code}")
    assert not failures, "\n".join(failures[:30])


walk_in = support.walk_in


def test_a_text_the_database_cannot_hold_is_422_at_the_till(
    client: TestClient, cashier: dict[str, str], program: None, walk_in: dict[str, Any], backend: str
) -> None:
    """PostgreSQL cannot store a NUL character: the purchase (booked on its own cursor, in a
    batch) answers 422 invalid_value and books nothing; SQLite stores it."""
    response = support.purchase(client, cashier, walk_in["card_number"], "r\x00-1", total="5.00")
    if backend == "sqlite":
        assert response.status_code == 200, response.text
        return
    assert response.status_code == 422 and response.json()["error"] == "invalid_value", response.text
    found = client.post("/api/v1/pos/identify", json={"code": walk_in["card_number"]}, headers=cashier).json()
    assert (found["points"], found["pending"]) == (0, 0)
